"""Convert between :class:`~gcbench.graph.Graph` and ``dgl.DGLGraph`` (the optional extra ``gcbench[dgl]``).

DGL is imported only inside these functions, so importing this module, like the rest of gcbench, works
without it; a conversion without DGL installed raises :class:`~gcbench.errors.GCBenchError` saying how to get
it. DGL's newest release on PyPI (2.1 for CPython 3.11) runs with torch <= 2.2: use the ``dgl`` tox env.

The DGL side is a homogeneous graph with node data ``feat`` (float ``[N, F]``), ``label`` (``[N]``) and the
boolean masks ``train_mask``, ``val_mask``, ``test_mask`` (the names of DGL's built-in datasets). Reading
files written by ``dgl.save_graphs`` needs no DGL at all: see :mod:`gcbench.data.dgl_binary`.
"""

from __future__ import annotations

from typing import Any

import torch

from gcbench.errors import GCBenchError
from gcbench.graph import Graph, make_undirected

MASKS = ("train_mask", "val_mask", "test_mask")


def _import_dgl() -> Any:
    try:
        import dgl
    except ImportError as exc:
        raise GCBenchError(
            f"DGL is not installed ({exc}); install the optional extra with pip install 'gcbench[dgl]' "
            "(DGL needs torch <= 2.2; `tox -e dgl` builds such an environment)"
        ) from None
    return dgl


def to_dgl(graph: Graph) -> Any:
    """``graph`` as a ``dgl.DGLGraph``: its stored edges (both directions) and node data feat, label, masks.

    Tensors are shared, not copied, where DGL allows it.
    """
    dgl = _import_dgl()
    src, dst = graph.edge_index
    g = dgl.graph((src, dst), num_nodes=graph.num_nodes)
    g.ndata["feat"] = graph.x
    g.ndata["label"] = graph.y
    for m in MASKS:
        g.ndata[m] = getattr(graph.data, m).bool()
    return g


def from_dgl(
    g: Any,
    name: str = "dgl-graph",
    *,
    modalities: dict[str, slice] | None = None,
    setting: str = "transductive",
    metric: str | None = None,
    feat: str = "feat",
    label: str = "label",
) -> Graph:
    """A :class:`Graph` from a homogeneous ``dgl.DGLGraph`` with node data ``feat``, ``label`` and the masks.

    The edges are symmetrised, de-duplicated and self-loops dropped (``Graph`` stores undirected graphs with
    both directions; models add their own self-loops). ``metric`` defaults to ROC-AUC for two classes and
    accuracy otherwise; ``modalities`` to one block of all feature columns.
    """
    _import_dgl()
    if len(g.ntypes) != 1 or len(g.canonical_etypes) != 1:
        raise GCBenchError(
            f"{name}: only homogeneous DGL graphs convert to a Graph, got node types {g.ntypes} and edge types "
            f"{g.canonical_etypes}"
        )
    missing = [k for k in (feat, label, *MASKS) if k not in g.ndata]
    if missing:
        raise GCBenchError(f"{name}: the DGL graph has no node data {missing} (has {sorted(g.ndata.keys())})")
    n = g.num_nodes()
    src, dst = g.edges(order="eid")
    edge_index = make_undirected(torch.stack([src.long(), dst.long()]).cpu(), n)
    x = g.ndata[feat].detach().cpu()
    if x.dim() != 2 or not x.is_floating_point():
        raise GCBenchError(f"{name}: node data {feat!r} must be a float [N, F] tensor, got {x.dtype} {tuple(x.shape)}")
    y = g.ndata[label].detach().cpu()
    if y.dim() != 1 or y.is_floating_point():
        raise GCBenchError(f"{name}: node data {label!r} must be an integer [N] tensor, got {y.dtype} {tuple(y.shape)}")
    from torch_geometric.data import Data

    masks = {m: g.ndata[m].detach().cpu().bool() for m in MASKS}
    y = y.long()
    data = Data(x=x.float(), edge_index=edge_index, y=y, **masks)
    if metric is None:
        metric = "roc_auc" if int(y.max()) + 1 == 2 else "accuracy"
    return Graph(name=name, data=data, modalities=modalities or {}, setting=setting, metric=metric,
                 info={"source": "dgl.DGLGraph"})
