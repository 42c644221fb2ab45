"""MM-GRAPH's on-disk layout (Multimodal Graph Benchmark; Hugging Face ``mm-graph-org/mm-graph``).

Every dataset is a folder of ``torch.save`` files. Node-classification datasets (``ele-fashion``,
``books-nc`` = Goodreads) hold::

    nc_edges-nodeid.pt    edges, [E, 2] (source, target) node ids (a tensor, array or list of pairs)
    labels-w-missing.pt   one label per node; a missing label is negative (or NaN in a float tensor)
    split.pt              {"train_idx": ..., "val_idx": ..., "test_idx": ...} node ids
    <enc>_feat.pt         float [N, F] node features of encoder <enc> in clip, imagebind, t5vit, t5dino

and link-prediction datasets (``sports-copurchase`` = Amazon-Sports, ``cloth-copurchase`` = Amazon-Cloth,
``books-lp``) hold ``lp-edge-split-<hard|random>.pt`` (``{"train": {"source_node", "target_node"}, "valid":
{..., "target_node_neg"}, "test": {...}}``; the graph is the training edges) and the same feature files. The
number of nodes is the number of feature rows. Each feature file is the text encoder's output followed by
the image encoder's (MM-GRAPH's own code takes ``feat[:, :768]`` as the text part); this reader splits it at
``text_dim`` (default: half of the columns, for encoders of equal width).

Files are read with ``torch.load(weights_only=True)`` (tensors, lists, dicts and, with torch >= 2.5, numpy arrays; no
arbitrary pickled objects) and memory-mapped (``mmap=True``): a float32 feature matrix becomes the graph's
``x`` without being copied, so a 685k-node Goodreads graph loads with one copy of its features at most (a
float16 file is converted block by block into one float32 tensor). A missing, truncated or malformed file
raises :class:`~gcbench.errors.GCBenchError` naming it.

:func:`mmgraph_to_graph` turns a node-classification dataset into a :class:`~gcbench.graph.Graph`: edges
symmetrised with self-loops dropped (as MM-GRAPH's training code does), MM-GRAPH's own split, nodes with a
missing label in no split (label 0 as placeholder, ``data.label_mask`` marks the labelled ones), modalities
``text``/``image``, transductive, accuracy (ROC-AUC for two classes).

**Registered datasets** (:data:`REGISTERED`, cards ``datasets/<name>.yaml``): MM-GRAPH's two node-classification
datasets, ``mmgraph-fashion`` (folder ``ele-fashion``, Ele-fashion: Amazon products) and
``mmgraph-goodreads`` (folder ``books-nc``, Goodreads-NC), loaded by :func:`load_mmgraph`. MM-GRAPH's
Amazon-Sports (``sports-copurchase``), Amazon-Cloth (``cloth-copurchase``) and Goodreads-LP (``books-lp``) are
link-prediction datasets: their folders hold no node labels and no node split, so they are readable here
but not registered (a condensation benchmark for node classification has nothing to condense them on).
Options: ``encoder=clip|imagebind|t5vit|t5dino`` (default ``clip``; always part of the dataset's name, e.g.
``mmgraph-fashion:encoder=clip``) and ``text_dim`` (where the text block ends, default half of the columns).
The folder is looked up under the data root (``--data-root``/``GCBENCH_DATA``) as ``<root>/mmgraph/<folder>``,
``<root>/mm-graph/<folder>``, ``<root>/Multimodal-Graph-Completed-Graph/<folder>`` or ``<root>/<folder>``;
a missing folder or file is one error naming the missing paths and where to get them (Hugging Face
``mm-graph-org/mm-graph``). Nothing is downloaded. The feature blocks are read as shipped, then each row of the
text block and of the image block is divided by its L2 norm (rows of zeros stay zero, a non-finite value is an
error naming the file), in the same pass that copies them into one float32 tensor: the feature scale of every
registered dataset (:data:`gcbench.data.magb.FEATURE_NORMALIZATION`), which the learned methods' shared
learning rates assume. (:func:`read_mmgraph` alone, without ``normalize=True``, keeps them as stored.)
"""

from __future__ import annotations

import contextlib
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch import Tensor

from gcbench.errors import GCBenchError
from gcbench.graph import Graph, make_undirected

ENCODERS = ("clip", "imagebind", "t5vit", "t5dino")
#: MM-GRAPH folder names and what they are
DATASETS = {
    "ele-fashion": "node",
    "books-nc": "node",
    "sports-copurchase": "link",
    "cloth-copurchase": "link",
    "books-lp": "link",
}
NC_FILES = ("nc_edges-nodeid.pt", "labels-w-missing.pt", "split.pt")
#: registered gcbench dataset -> MM-GRAPH node-classification folder
REGISTERED = {"mmgraph-fashion": "ele-fashion", "mmgraph-goodreads": "books-nc"}
HF_DATASET = "mm-graph-org/mm-graph"
SPLIT_KEYS = ("train_idx", "val_idx", "test_idx")
_BLOCK_ROWS = 1 << 16


def _numpy_globals() -> list[Any]:
    """What ``torch.load(weights_only=True)`` needs to accept pickled numpy arrays (numpy 1.x and 2.x names)."""
    core = getattr(np, "_core", None) or np.core
    rec = core.multiarray._reconstruct
    dtypes = [type(np.dtype(t)) for t in ("b1", "i1", "i2", "i4", "i8", "u1", "u2", "u4", "u8", "f2", "f4", "f8")]
    out = [rec, np.ndarray, np.dtype, *dtypes]
    if tuple(int(v) for v in torch.__version__.split(".")[:2]) >= (2, 6):  # (object, pickled name) entries
        out.append((rec, "numpy.core.multiarray._reconstruct"))
    return out


def _allow_numpy() -> Any:
    """A context in which weights-only loading accepts numpy arrays (torch >= 2.5; older torch: tensors only)."""
    safe_globals = getattr(torch.serialization, "safe_globals", None)
    return safe_globals(_numpy_globals()) if safe_globals is not None else contextlib.nullcontext()


def _why(exc: BaseException) -> str:
    """One line saying why torch.load failed."""
    import pickle

    if isinstance(exc, pickle.UnpicklingError):
        return (
            "it holds pickled Python objects other than tensors, arrays, lists and dicts (refused: loading them "
            "could run arbitrary code)"
        )
    first = next((line.strip() for line in str(exc).splitlines() if line.strip()), "")
    return f"{type(exc).__name__}: {first}" if first else type(exc).__name__


def torch_load(path: Path, what: str) -> Any:
    """``torch.load`` a data file safely (``weights_only``) and memory-mapped where the format allows."""
    if not path.is_file():
        raise GCBenchError(f"{what}: missing file {path}")
    with _allow_numpy():
        try:
            return torch.load(str(path), map_location="cpu", weights_only=True, mmap=True)
        except RuntimeError as exc:
            if "mmap" not in str(exc):  # e.g. a truncated zip archive
                raise GCBenchError(f"{path}: not a readable torch.save file ({_why(exc)})") from None
        except Exception as exc:  # UnpicklingError for non-tensor objects, EOFError, ...
            raise GCBenchError(f"{path}: not a readable torch.save file ({_why(exc)})") from None
        try:  # the legacy (non-zip) format cannot be memory-mapped
            return torch.load(str(path), map_location="cpu", weights_only=True)
        except Exception as exc:
            raise GCBenchError(f"{path}: not a readable torch.save file ({_why(exc)})") from None


def _as_tensor(obj: Any, path: Path, what: str) -> Tensor:
    try:
        if isinstance(obj, Tensor):
            return obj
        if isinstance(obj, np.ndarray):
            return torch.from_numpy(np.ascontiguousarray(obj))
        return torch.as_tensor(obj)
    except Exception as exc:
        raise GCBenchError(f"{path}: {what} is not a numeric array ({type(exc).__name__}: {exc})") from None


def _index_tensor(obj: Any, path: Path, what: str, bound: int) -> Tensor:
    t = _as_tensor(obj, path, what)
    if t.dtype.is_floating_point or t.dtype == torch.bool or t.dtype.is_complex:
        raise GCBenchError(f"{path}: {what} must hold integer node ids, got {t.dtype}")
    t = t.reshape(-1).long()
    if t.numel() and (int(t.min()) < 0 or int(t.max()) >= bound):
        raise GCBenchError(f"{path}: {what} holds node ids outside 0..{bound - 1}")
    return t


def _edges(obj: Any, path: Path, n: int) -> Tensor:
    """``[2, E]`` long from MM-GRAPH's ``[E, 2]`` pairs (a ``[2, E]`` array is accepted too)."""
    t = _as_tensor(obj, path, "the edge list")
    if t.dim() != 2 or 2 not in t.shape:
        raise GCBenchError(f"{path}: the edge list must have shape [E, 2], got {tuple(t.shape)}")
    t = t.t() if t.size(1) == 2 else t
    return _index_tensor(t, path, "the edge list", n).view(2, -1)


def _features(path: Path, what: str) -> Tensor:
    """The feature matrix as stored (memory-mapped where possible), checked to be a 2-D float matrix."""
    feat = _as_tensor(torch_load(path, what), path, "the feature matrix")
    if feat.dim() != 2 or not feat.dtype.is_floating_point:
        raise GCBenchError(f"{path}: expected a 2-D float feature matrix, got {feat.dtype} {tuple(feat.shape)}")
    return feat


def _float32(feat: Tensor, path: Path, normalize_at: int | None = None) -> Tensor:
    """``feat`` as float32. Without ``normalize_at`` a contiguous float32 matrix is used as is (memory-mapped,
    no copy), anything else converted block of rows by block of rows into one new tensor. With ``normalize_at``
    (the text width) the blocks ``[:, :normalize_at]`` and ``[:, normalize_at:]`` are also divided row by row
    by their L2 norm in that same pass (rows of zeros stay zero; a non-finite value is an error naming
    ``path``): one copy at most, and the mapped file is never written."""
    if normalize_at is None and feat.dtype == torch.float32 and feat.is_contiguous():
        return feat
    out = torch.empty(feat.shape, dtype=torch.float32)
    for start in range(0, feat.size(0), _BLOCK_ROWS):
        chunk = out[start : start + _BLOCK_ROWS]
        chunk.copy_(feat[start : start + _BLOCK_ROWS])
        if normalize_at is None:
            continue
        finite = torch.isfinite(chunk).all(1)
        if not bool(finite.all()):
            bad = start + int((~finite).nonzero()[0])
            raise GCBenchError(f"{path}: non-finite feature values (first in row {bad})")
        for block in (chunk[:, :normalize_at], chunk[:, normalize_at:]):
            norm = torch.linalg.vector_norm(block, dim=1, keepdim=True)
            block.div_(norm.masked_fill_(norm == 0, 1.0))
    return out


@dataclass
class MMGraphData:
    """One MM-GRAPH dataset as read from disk (tensors on the CPU; ``features`` may be memory-mapped)."""

    name: str
    task: str  # "node" or "link"
    encoder: str
    features: Tensor  # float32 [N, F] = [text | image]
    text_dim: int
    edge_index: Tensor  # long [2, E] as stored (link prediction: the training edges)
    y: Tensor | None = None  # long [N], -1 = missing label
    split: dict[str, Tensor] | None = None  # train_idx / val_idx / test_idx
    edge_split: dict[str, dict[str, Tensor]] | None = None
    files: dict[str, Path] = field(default_factory=dict)
    normalized: bool = False  # features L2-normalised per row of each block on load

    @property
    def num_nodes(self) -> int:
        return int(self.features.size(0))


def mmgraph_dirs(root: str | os.PathLike, name: str) -> list[Path]:
    """Where the folder of MM-GRAPH dataset ``name`` may be under a data root, in the order looked at."""
    root = Path(root)
    return [root / "mmgraph" / name, root / "mm-graph" / name, root / "Multimodal-Graph-Completed-Graph" / name,
            root / name]


def find_mmgraph_dir(root: str | os.PathLike, name: str) -> Path:
    """The folder of MM-GRAPH dataset ``name`` under a data root (``<root>/mmgraph/<name>``,
    ``<root>/mm-graph/<name>``, ``<root>/Multimodal-Graph-Completed-Graph/<name>`` or ``<root>/<name>``)."""
    dirs = mmgraph_dirs(root, name)
    found = next((d for d in dirs if d.is_dir()), None)
    if found is None:
        raise GCBenchError(f"MM-GRAPH {name}: no dataset folder; looked for {', '.join(str(d) for d in dirs)}")
    return found


def read_mmgraph(
    folder: str | os.PathLike,
    encoder: str = "clip",
    *,
    text_dim: int | None = None,
    edge_split: str = "hard",
    normalize: bool = False,
) -> MMGraphData:
    """Read an MM-GRAPH dataset folder (node- or link-prediction layout, detected from its files).

    ``normalize``: L2-normalise each row of the text and of the image block while copying the features into
    float32 (see :func:`_float32`); without it the features are kept as stored (memory-mapped when float32)."""
    folder = Path(folder)
    name = folder.name
    where = f"MM-GRAPH {name}"
    if encoder not in ENCODERS:
        raise GCBenchError(f"{where}: unknown encoder {encoder!r}; MM-GRAPH has {', '.join(ENCODERS)}")
    feat_path = folder / f"{encoder}_feat.pt"
    features = _features(feat_path, where)
    n, width = features.shape
    if text_dim is None:
        text_dim = width // 2
    if isinstance(text_dim, bool) or not isinstance(text_dim, int) or not 0 < text_dim < width:
        raise GCBenchError(f"{feat_path}: text_dim must be an integer in 1..{width - 1}, got {text_dim!r}")
    features = _float32(features, feat_path, text_dim if normalize else None)
    files = {"features": feat_path}
    if (folder / NC_FILES[0]).is_file() or (folder / NC_FILES[1]).is_file():
        task = "node"
        edge_path, label_path, split_path = (folder / f for f in NC_FILES)
        edge_index = _edges(torch_load(edge_path, where), edge_path, n)
        y = _labels(torch_load(label_path, where), label_path, n)
        split_obj = torch_load(split_path, where)
        if not isinstance(split_obj, dict) or set(SPLIT_KEYS) - set(split_obj):
            raise GCBenchError(f"{split_path}: expected a dict with keys {', '.join(SPLIT_KEYS)}")
        split = {k: _index_tensor(split_obj[k], split_path, k, n) for k in SPLIT_KEYS}
        files.update(edges=edge_path, labels=label_path, split=split_path)
        return MMGraphData(name, task, encoder, features, text_dim, edge_index, y=y, split=split, files=files,
                           normalized=normalize)
    lp_path = folder / f"lp-edge-split-{edge_split}.pt"
    if not lp_path.is_file():
        raise GCBenchError(
            f"{where}: neither node-classification files ({', '.join(NC_FILES)}) nor {lp_path.name} in {folder}"
        )
    obj = torch_load(lp_path, where)
    parts: dict[str, dict[str, Tensor]] = {}
    if not isinstance(obj, dict) or "train" not in obj:
        raise GCBenchError(f"{lp_path}: expected a dict with 'train', 'valid' and 'test' edge sets")
    for part, d in obj.items():
        if not isinstance(d, dict) or not {"source_node", "target_node"} <= set(d):
            raise GCBenchError(f"{lp_path}: edge set {part!r} needs 'source_node' and 'target_node'")
        parts[part] = {k: _index_tensor(v, lp_path, f"{part}.{k}", n).view(_as_tensor(v, lp_path, k).shape)
                       for k, v in d.items()}
    train = parts["train"]
    if train["source_node"].numel() != train["target_node"].numel():
        raise GCBenchError(f"{lp_path}: train source_node and target_node differ in length")
    edge_index = torch.stack([train["source_node"].reshape(-1), train["target_node"].reshape(-1)])
    files["edge_split"] = lp_path
    return MMGraphData(name, "link", encoder, features, text_dim, edge_index, edge_split=parts, files=files,
                       normalized=normalize)


def _labels(obj: Any, path: Path, n: int) -> Tensor:
    t = _as_tensor(obj, path, "the labels").reshape(-1)
    if t.numel() != n:
        raise GCBenchError(f"{path}: {t.numel()} labels for {n} nodes (feature rows)")
    if t.dtype.is_floating_point:
        missing = torch.isnan(t) | (t < 0)
        vals = torch.where(missing, torch.zeros_like(t), t)
        if not bool((vals == vals.round()).all()):
            raise GCBenchError(f"{path}: labels must be integers (missing: negative or NaN)")
        y = vals.long()
    elif t.dtype == torch.bool or t.dtype.is_complex:
        raise GCBenchError(f"{path}: labels must be integers, got {t.dtype}")
    else:
        y = t.long()
        missing = y < 0
    return y.masked_fill(missing, -1)


def mmgraph_to_graph(data: MMGraphData, name: str | None = None) -> Graph:
    """A node-classification MM-GRAPH dataset as a :class:`Graph` (see the module docstring)."""
    from torch_geometric.data import Data

    from gcbench.data.magb import FEATURE_NORMALIZATION, chunked_sha256

    if data.task != "node" or data.y is None or data.split is None:
        raise GCBenchError(f"MM-GRAPH {data.name}: a link-prediction dataset has no node labels to condense on")
    n = data.num_nodes
    labelled = data.y >= 0
    if not bool(labelled.any()):
        raise GCBenchError(f"{data.files['labels']}: no node has a label")
    y = data.y.clamp(min=0)
    masks = {}
    for key in SPLIT_KEYS:
        m = torch.zeros(n, dtype=torch.bool)
        m[data.split[key]] = True
        masks[key] = m & labelled
    tr, va, te = masks["train_idx"], masks["val_idx"], masks["test_idx"]
    if bool((tr & va).any() or (tr & te).any() or (va & te).any()):
        raise GCBenchError(f"{data.files['split']}: the train, validation and test node sets overlap")
    edge_index = make_undirected(data.edge_index, n)
    n_classes = int(y[labelled].max()) + 1
    d = Data(x=data.features, edge_index=edge_index, y=y, train_mask=tr, val_mask=va, test_mask=te,
             label_mask=labelled)
    info = {
        "source": f"MM-GRAPH {data.name}",
        "encoder": data.encoder,
        "files": {k: str(v) for k, v in data.files.items()},
        "feature_normalization": FEATURE_NORMALIZATION if data.normalized else "none (as stored)",
        "stats": {
            "nodes": n,
            "stored_edges": int(data.edge_index.size(1)),
            "edges": int((edge_index[0] < edge_index[1]).sum()),
            "classes": n_classes,
            "missing_labels": int((~labelled).sum()),
            "split_nodes_without_label": int(sum(int((~labelled)[data.split[k]].sum()) for k in SPLIT_KEYS)),
            "train/val/test": [int(tr.sum()), int(va.sum()), int(te.sum())],
        },
    }
    width = data.features.size(1)
    return Graph(
        name=name or f"mmgraph-{data.name}",
        data=d,
        modalities={"text": slice(0, data.text_dim), "image": slice(data.text_dim, width)},
        setting="transductive",
        metric="roc_auc" if n_classes == 2 else "accuracy",
        sha=chunked_sha256(data.features, edge_index, y, tr, va, te),
        info=info,
    )


# ----------------------------------------------------------------------------------------------------------
# the registered node-classification datasets


def _where_to_get(folder: str) -> str:
    url = f"https://huggingface.co/datasets/{HF_DATASET}"
    return f"download the folder {folder}/ of the Hugging Face dataset {HF_DATASET} ({url})"


def missing_files(dataset: str, root: str | os.PathLike, encoder: str = "clip") -> list[Path]:
    """The files registered dataset ``dataset`` needs under data root ``root`` that are not there (all of them,
    under ``<root>/mmgraph/<folder>/``, when no folder of the dataset is found)."""
    folder = REGISTERED[dataset]
    needed = [*NC_FILES, f"{encoder}_feat.pt"]
    dirs = mmgraph_dirs(root, folder)
    found = next((d for d in dirs if d.is_dir()), None)
    return [(found or dirs[0]) / f for f in needed if found is None or not (found / f).is_file()]


def load_mmgraph(dataset: str, data_root: str | os.PathLike | None = None, **opts: Any) -> Graph:
    """Load registered dataset ``mmgraph-fashion`` or ``mmgraph-goodreads`` (see the module docstring);
    ``opts`` are the dataset options ``encoder`` and ``text_dim``."""
    from gcbench.data.planetoid import data_root as resolve_root

    if dataset not in REGISTERED:
        raise GCBenchError(f"unknown MM-GRAPH dataset {dataset!r}; known: {', '.join(REGISTERED)}")
    folder = REGISTERED[dataset]
    opts = dict(opts)
    encoder = opts.pop("encoder", "clip")
    text_dim = opts.pop("text_dim", None)
    if opts:
        raise GCBenchError(
            f"{dataset}: unknown option(s) {sorted(opts)}; options: encoder ({'|'.join(ENCODERS)}), text_dim"
        )
    if encoder not in ENCODERS:
        raise GCBenchError(f"{dataset}: option 'encoder' must be one of {', '.join(ENCODERS)}, got {encoder!r}")
    needed = [*NC_FILES, f"{encoder}_feat.pt"]
    root = resolve_root(data_root)
    if root is None:
        raise GCBenchError(
            f"{dataset}: no data root given; pass --data-root DIR or set GCBENCH_DATA to a folder holding "
            f"mmgraph/{folder}/ with {', '.join(needed)}; {_where_to_get(folder)}"
        )
    missing = missing_files(dataset, root, encoder)
    if missing:
        dirs = mmgraph_dirs(root, folder)
        found = next((d for d in dirs if d.is_dir()), None)
        looked = "" if found else f" (no folder {folder} in {', '.join(str(d.parent) for d in dirs)})"
        raise GCBenchError(
            f"{dataset}: missing MM-GRAPH file(s) {', '.join(str(p) for p in missing)}{looked}; "
            f"{_where_to_get(folder)} into {(found or dirs[0]).parent}"
        )
    data = read_mmgraph(find_mmgraph_dir(root, folder), encoder, text_dim=text_dim, normalize=True)
    return mmgraph_to_graph(data, name=dataset)
