"""Data model: the real :class:`Graph`, the :class:`CondensedGraph` a method returns, and the :class:`Budget`.

A ``Graph`` wraps a PyG :class:`~torch_geometric.data.Data` (``x``, ``edge_index``, ``y`` and boolean
``train_mask``/``val_mask``/``test_mask``) and adds what condensation needs on top: the *modality layout*
(modality name -> column slice of ``x``, e.g. ``{"text": slice(0, 256), "image": slice(256, 512)}``), the
setting (``transductive``: the training nodes see the whole graph; ``inductive``: training sees only the
subgraph induced by the training nodes), the evaluation metric and a content checksum.

A ``CondensedGraph`` holds the synthetic features ``x``, labels ``y`` and adjacency ``adj``: a dense weighted
``[n, n]`` tensor, a sparse COO tensor (only used for the ``whole`` reference row and large coresets), or
``None`` for structure-free methods, which are evaluated with the identity (self-loops only).
"""

from __future__ import annotations

import copy
import hashlib
import math
from dataclasses import dataclass, field
from typing import Any

import torch
from torch import Tensor
from torch_geometric.data import Data
from torch_geometric.utils import coalesce, subgraph

from gcbench.errors import GCBenchError

SETTINGS = ("transductive", "inductive")
#: the label of a test node in the graph a condenser receives (:meth:`Graph.hide_test_labels`)
HIDDEN_LABEL = -1
METRICS = ("accuracy", "roc_auc")


def tensor_sha256(*tensors: Tensor) -> str:
    """Checksum of tensors' dtype, shape and bytes (order matters)."""
    h = hashlib.sha256()
    for t in tensors:
        t = t.detach().cpu().contiguous()
        h.update(f"{t.dtype}:{tuple(t.shape)};".encode())
        h.update(t.view(torch.uint8).numpy().tobytes() if t.numel() else b"")
    return h.hexdigest()


@dataclass
class Graph:
    """A real graph to condense and to evaluate on.

    ``data`` must hold ``x`` (float ``[N, F]``), ``edge_index`` (long ``[2, E]``, undirected as stored:
    both directions present), ``y`` (long ``[N]``) and the three boolean split masks.
    """

    name: str
    data: Data
    modalities: dict[str, slice] = field(default_factory=dict)
    setting: str = "transductive"
    metric: str = "accuracy"
    sha: str = ""
    info: dict[str, Any] = field(default_factory=dict)
    cache: dict[Any, Any] = field(default_factory=dict, repr=False, compare=False)
    #: the class count when it cannot be read off ``y`` (a view with hidden test labels); 0: ``max(y) + 1``
    n_classes: int = 0

    def __getstate__(self) -> dict[str, Any]:
        # the memo (device copies, trained models) is per process: a pickled graph (a Ray task's) starts empty
        return {**self.__dict__, "cache": {}}

    def __post_init__(self) -> None:
        d = self.data
        for key in ("x", "edge_index", "y", "train_mask", "val_mask", "test_mask"):
            if getattr(d, key, None) is None:
                raise GCBenchError(f"dataset {self.name!r}: graph has no {key!r}")
        n = d.x.size(0)
        if d.y.size(0) != n or any(getattr(d, m).size(0) != n for m in ("train_mask", "val_mask", "test_mask")):
            raise GCBenchError(f"dataset {self.name!r}: x, y and masks disagree on the node count")
        if d.edge_index.numel() and (int(d.edge_index.min()) < 0 or int(d.edge_index.max()) >= n):
            raise GCBenchError(f"dataset {self.name!r}: edge_index refers to nodes outside 0..{n - 1}")
        if self.setting not in SETTINGS:
            raise GCBenchError(f"dataset {self.name!r}: setting must be one of {SETTINGS}, got {self.setting!r}")
        if self.metric not in METRICS:
            raise GCBenchError(f"dataset {self.name!r}: metric must be one of {METRICS}, got {self.metric!r}")
        if not self.modalities:
            self.modalities = {"features": slice(0, d.x.size(1))}
        check_modalities(self.modalities, d.x.size(1), where=f"dataset {self.name!r}")
        if int(d.train_mask.sum()) == 0:
            raise GCBenchError(f"dataset {self.name!r}: no training nodes")
        if not self.sha:
            self.sha = tensor_sha256(d.x, d.edge_index, d.y, d.train_mask, d.val_mask, d.test_mask)

    # --- convenience -------------------------------------------------------------------------------
    @property
    def x(self) -> Tensor:
        return self.data.x

    @property
    def y(self) -> Tensor:
        return self.data.y

    @property
    def edge_index(self) -> Tensor:
        return self.data.edge_index

    @property
    def num_nodes(self) -> int:
        return int(self.data.x.size(0))

    @property
    def num_edges(self) -> int:
        """Undirected edges (each stored in both directions counts once), self-loops excluded."""
        ei = self.data.edge_index
        return int((ei[0] < ei[1]).sum())

    @property
    def num_features(self) -> int:
        return int(self.data.x.size(1))

    @property
    def num_classes(self) -> int:
        return self.n_classes or int(self.data.y.max()) + 1

    @property
    def labels_hidden(self) -> bool:
        """True for the view :meth:`hide_test_labels` returns."""
        return self.n_classes > 0

    def hide_test_labels(self) -> Graph:
        """The graph as a condenser sees it: test nodes' labels replaced by ``HIDDEN_LABEL`` (-1), so a method
        that reads them gets nothing useful (and indexing or one-hot encoding with them fails loudly).

        Everything else is shared with this graph: features, edges, masks, checksum and the per-process memo
        ``cache`` (so work memoised during condensation, e.g. the coreset embedding model, is reused as
        before). The view is memoised on the graph."""
        if self.labels_hidden:
            return self
        key = ("hidden_test_labels",)
        view = self.cache.get(key)
        if view is None:
            d = self.data
            y = d.y.clone()
            y[d.test_mask & ~d.train_mask & ~d.val_mask] = HIDDEN_LABEL
            data = copy.copy(d)  # shallow: the tensors are shared, only y is replaced
            data.y = y
            view = Graph(name=self.name, data=data, modalities=dict(self.modalities), setting=self.setting,
                         metric=self.metric, sha=self.sha, info=self.info, cache=self.cache,
                         n_classes=self.num_classes)
            self.cache[key] = view
        return view

    @property
    def train_idx(self) -> Tensor:
        return self.data.train_mask.nonzero().view(-1)

    @property
    def val_idx(self) -> Tensor:
        return self.data.val_mask.nonzero().view(-1)

    @property
    def test_idx(self) -> Tensor:
        return self.data.test_mask.nonzero().view(-1)

    def train_class_counts(self) -> Tensor:
        """Number of training nodes per class, ``[C]``."""
        return torch.bincount(self.y[self.train_idx], minlength=self.num_classes)

    def induced_subgraph(self, idx: Tensor) -> Tensor:
        """Edges among ``idx`` relabelled to ``0..len(idx)-1`` (order of ``idx``)."""
        ei, _ = subgraph(idx, self.edge_index, relabel_nodes=True, num_nodes=self.num_nodes)
        return ei

    def training_view(self) -> tuple[Tensor, Tensor, Tensor, Tensor]:
        """What a condenser may look at: ``(x, edge_index, y, train_idx)``.

        Transductive: the whole graph (labels only of ``train_idx`` may be used). Inductive: the subgraph
        induced by the training nodes, relabelled, with ``train_idx`` = all its nodes.
        """
        if self.setting == "transductive":
            return self.x, self.edge_index, self.y, self.train_idx
        idx = self.train_idx
        return self.x[idx], self.induced_subgraph(idx), self.y[idx], torch.arange(idx.numel())

    def summary(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "nodes": self.num_nodes,
            "edges": self.num_edges,
            "features": self.num_features,
            "classes": self.num_classes,
            "train/val/test": f"{self.train_idx.numel()}/{self.val_idx.numel()}/{self.test_idx.numel()}",
            "modalities": {k: f"{v.start}:{v.stop}" for k, v in self.modalities.items()},
            "setting": self.setting,
            "metric": self.metric,
        }


def check_modalities(modalities: dict[str, slice], num_features: int, where: str) -> None:
    """Modality slices must be non-empty, in bounds and non-overlapping."""
    spans = []
    for name, sl in modalities.items():
        if not isinstance(sl, slice) or sl.step not in (None, 1):
            raise GCBenchError(f"{where}: modality {name!r} must be a contiguous column slice, got {sl!r}")
        start, stop = sl.start or 0, sl.stop
        if stop is None or not (0 <= start < stop <= num_features):
            raise GCBenchError(f"{where}: modality {name!r} columns {start}:{stop} outside 0:{num_features}")
        spans.append((start, stop, name))
    spans.sort()
    for (_, e1, n1), (s2, _, n2) in zip(spans, spans[1:]):
        if s2 < e1:
            raise GCBenchError(f"{where}: modalities {n1!r} and {n2!r} overlap")


@dataclass
class CondensedGraph:
    """The output of a condensation method.

    ``adj`` is a dense weighted ``[n, n]`` tensor (already thresholded the way the method wants it
    evaluated), a sparse COO ``[n, n]`` tensor, or ``None`` (structure-free: identity adjacency).
    ``train_mask`` says which nodes carry a training label (``None``: all of them; only the ``whole``
    reference uses it). ``log`` is the per-epoch convergence log (a list of dicts), ``meta`` anything a
    method wants to keep (e.g. the indices a coreset selected).
    """

    x: Tensor
    y: Tensor
    adj: Tensor | None
    modalities: dict[str, slice] = field(default_factory=dict)
    train_mask: Tensor | None = None
    log: list[dict[str, Any]] = field(default_factory=list)
    meta: dict[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        for what, t in (("x", self.x), ("y", self.y)):
            if not isinstance(t, Tensor):
                raise TypeError(f"condensed graph: {what} must be a torch.Tensor, got {type(t).__name__}")
        if self.x.dim() != 2:
            raise ValueError(f"condensed graph: x must be [n, features], got shape {tuple(self.x.shape)}")
        if not self.x.is_floating_point():
            raise TypeError(f"condensed graph: x must be a float tensor, got {self.x.dtype}")
        if self.y.dim() == 2 and self.y.size(0) == self.x.size(0):
            raise ValueError(f"condensed graph: y must be a 1-D tensor of class ids, got shape {tuple(self.y.shape)} "
                             "(one-hot or soft labels? pass y.argmax(1))")
        if self.y.dim() != 1:
            raise ValueError(f"condensed graph: y must be a 1-D tensor of class ids, got shape {tuple(self.y.shape)}")
        if self.y.is_floating_point() or self.y.is_complex() or self.y.dtype == torch.bool:
            raise TypeError(f"condensed graph: y must hold integer class ids, got dtype {self.y.dtype} "
                            "(labels are never rounded or truncated)")
        n = self.x.size(0)
        if self.y.size(0) != n:
            raise ValueError(f"condensed graph: x has {n} rows but y has {self.y.size(0)} labels")
        if self.adj is not None and not isinstance(self.adj, Tensor):
            raise TypeError(f"condensed graph: adj must be a torch.Tensor or None, got {type(self.adj).__name__}")
        if self.adj is not None and tuple(self.adj.shape) != (n, n):
            raise ValueError(f"condensed graph: adj {tuple(self.adj.shape)} is not {n}x{n}")
        if not self.modalities:
            self.modalities = {"features": slice(0, self.x.size(1))}

    @property
    def num_nodes(self) -> int:
        return int(self.x.size(0))

    @property
    def num_edges(self) -> int:
        """Undirected non-loop edges with non-zero weight (for a dense adj: upper triangle)."""
        if self.adj is None:
            return 0
        if self.adj.is_sparse:
            ei = self.adj.coalesce().indices()
            return int((ei[0] < ei[1]).sum())
        a = self.adj.detach()
        return int((torch.triu(a, diagonal=1) != 0).sum())

    def edges(self) -> tuple[Tensor, Tensor | None]:
        """``(edge_index, edge_weight)`` of the adjacency; empty for structure-free graphs.

        For a dense adjacency every non-zero entry becomes an edge with its weight (differentiable with
        respect to ``adj``); the diagonal is dropped, since every model adds its own self-loops.
        """
        device = self.x.device
        if self.adj is None:
            return torch.empty(2, 0, dtype=torch.long, device=device), None
        if self.adj.is_sparse:
            a = self.adj.coalesce()
            ei, w = a.indices(), a.values()
        else:
            ei = self.adj.nonzero().t()
            w = self.adj[ei[0], ei[1]]
        keep = ei[0] != ei[1]
        ei, w = ei[:, keep], w[keep]
        if w.numel() and bool((w == 1).all()):
            w = None
        return ei, w

    def is_finite(self) -> bool:
        ok = bool(torch.isfinite(self.x).all())
        if self.adj is not None:
            vals = self.adj.coalesce().values() if self.adj.is_sparse else self.adj
            ok = ok and bool(torch.isfinite(vals).all())
        return ok

    def to(self, device: torch.device | str) -> CondensedGraph:
        return CondensedGraph(
            x=self.x.to(device),
            y=self.y.to(device),
            adj=None if self.adj is None else self.adj.to(device),
            modalities=dict(self.modalities),
            train_mask=None if self.train_mask is None else self.train_mask.to(device),
            log=self.log,
            meta=self.meta,
        )

    def state(self) -> dict[str, Any]:
        """A plain dict for ``torch.save``."""
        return {
            "x": self.x.detach().cpu(),
            "y": self.y.detach().cpu(),
            "adj": None if self.adj is None else self.adj.detach().cpu(),
            "modalities": {k: (v.start, v.stop) for k, v in self.modalities.items()},
            "train_mask": None if self.train_mask is None else self.train_mask.cpu(),
            "log": self.log,
            "meta": self.meta,
        }

    @classmethod
    def from_state(cls, state: dict[str, Any]) -> CondensedGraph:
        return cls(
            x=state["x"],
            y=state["y"],
            adj=state["adj"],
            modalities={k: slice(a, b) for k, (a, b) in state["modalities"].items()},
            train_mask=state.get("train_mask"),
            log=state.get("log", []),
            meta=state.get("meta", {}),
        )


@dataclass(frozen=True)
class Budget:
    """How many synthetic nodes a method may use, per class.

    ``ratio`` is the fraction of *training* nodes kept (GCond convention: Cora ratio 0.5 = 70 nodes =
    2.6 % of the graph). The total is ``round(ratio * n_train)``; it is split over the classes in
    proportion to their training counts by largest remainders, with at least one node for every class
    that has training nodes, and never more than a class has.
    """

    ratio: float
    per_class: tuple[int, ...]

    @property
    def total(self) -> int:
        return int(sum(self.per_class))

    @classmethod
    def from_counts(cls, counts: Tensor | list[int], ratio: float) -> Budget:
        if isinstance(ratio, bool) or not isinstance(ratio, (int, float)) or math.isnan(float(ratio)):
            raise GCBenchError(f"ratio must be a number in (0, 1], got {ratio!r}")
        ratio = float(ratio)
        if not 0.0 < ratio <= 1.0:
            raise GCBenchError(f"ratio {ratio:g} is impossible: it must be in (0, 1] (fraction of training nodes)")
        counts = [int(c) for c in (counts.tolist() if isinstance(counts, Tensor) else counts)]
        present = [c for c in range(len(counts)) if counts[c] > 0]
        n_train = sum(counts)
        total = int(math.floor(ratio * n_train + 0.5))
        if total < len(present):
            raise GCBenchError(
                f"ratio {ratio:g} gives {total} synthetic nodes for {n_train} training nodes, fewer than the "
                f"{len(present)} classes (at least one node per class is needed; use a ratio >= "
                f"{len(present) / n_train:.3g})"
            )
        exact = [ratio * counts[c] for c in range(len(counts))]
        alloc = [int(math.floor(e)) for e in exact]
        # largest remainders (ties: smaller class id first) until the total is reached
        order = sorted(present, key=lambda c: (-(exact[c] - alloc[c]), c))
        for c in order[: max(0, total - sum(alloc))]:
            alloc[c] += 1
        # at least one per present class, taken from the classes with the most nodes
        for c in present:
            if alloc[c] == 0:
                alloc[c] = 1
                donor = max((d for d in present if alloc[d] > 1), key=lambda d: (alloc[d], -d))
                alloc[donor] -= 1
        assert sum(alloc) == total and all(a <= n for a, n in zip(alloc, counts))
        return cls(ratio=ratio, per_class=tuple(alloc))

    @classmethod
    def from_graph(cls, graph: Graph, ratio: float) -> Budget:
        return cls.from_counts(graph.train_class_counts(), ratio)

    def labels(self) -> Tensor:
        """Synthetic labels in class order: ``[0]*n_0 + [1]*n_1 + ...``."""
        return torch.repeat_interleave(torch.arange(len(self.per_class)), torch.tensor(self.per_class))


def make_undirected(edge_index: Tensor, num_nodes: int, remove_self_loops: bool = True) -> Tensor:
    """Symmetrise and de-duplicate an edge list (optionally dropping self-loops)."""
    ei = torch.cat([edge_index, edge_index.flip(0)], dim=1)
    if remove_self_loops:
        ei = ei[:, ei[0] != ei[1]]
    return coalesce(ei, num_nodes=num_nodes)
