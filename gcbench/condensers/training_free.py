"""Training-free condensation: CGC / CGC-X (Gao et al., WWW 2025) and class-wise k-means (``kmeans-agg``).

No gradient step is taken; the synthetic nodes of class ``c`` summarise a partition of that class's
(training) nodes in a space of propagated features. Facts about the reference (XYGaoG/CGC) are in
``docs/reference-notes/cgc.md`` ("notes §n").

**Propagation.** ``Â = D^-1/2 (A + I) D^-1/2`` (self-loops added where missing), ``H_k = Â^k X`` for
``k = 0..K`` by sparse products (memory linear in edges). In the inductive setting the training subgraph is
propagated (:meth:`Graph.training_view`). The list ``[H_0..H_K]`` is memoised on ``graph.cache``; a reuse
reports its seconds in ``meta["reused_s"]``.

**kmeans-agg** (the floor): per class ``c``, k-means with ``k = budget.per_class[c]`` clusters on the rows
of the propagated features of the class's training nodes (``Â^K X``, or the mean ``(H_0 + .. + H_K)/(K+1)``
with ``propagation: mean``); the synthetic features are the clusters' means. Edgeless by default (the
evaluation then uses the identity); ``adj_threshold`` adds CGC's cosine-threshold edges.

**CGC** (notes §2-§6), per run:

1. ``W = argmin ||Hbar_L W - Y_L||`` (least squares, minimum-norm) with ``Hbar = (H_0 + H_1 + H_2) / 3``
   over the training nodes and one-hot training labels ``Y_L``.
2. *Augmentation*: per class, ``1 - F1`` of ``argmax(H_1 W)`` on the training nodes; ``round_down(aug_ratio *
   n_train)`` training nodes are drawn with replacement with probability proportional to ``1 - F1`` of their
   class, and their ``H_1`` rows join the pool, beside the ``H_K`` rows of all training nodes.
3. *Confidence*: ``softmax(H W)`` at the node's true class; a misclassified node gets the minimum
   confidence of its set (``H_K`` rows, or augmented rows).
4. *Class partition*: per class, ``k`` clusters of the class's pool rows: ``spectral`` (the reference's):
   centre the rows, ``U`` = their top-``k`` left singular vectors, affinity ``(U U^T + c)^2`` (a polynomial
   kernel, ``c = 2^-1/2``) normalised by its degrees, its eigenvectors 2..k+1 as the embedding, then
   k-means (``kmeans_init``/``kmeans_n_init``/``kmeans_iter``); or ``kmeans`` on the rows themselves.
   A class with ``k`` equal to its pool size keeps every row as its own cluster.
5. *Synthetic embedding*: ``h_j = sum_{i in cluster j} softmax_i(conf_i / tau) * H_i``.
6. **CGC-X** (``structure: false``) returns ``X' = h`` without edges. **CGC** builds
   ``A'_ij = 1[cos(h_i, h_j) > adj_threshold]`` (``i != j``) and solves the closed form
   ``(S S^T + L) X' = alpha S^T h`` with ``S = Â'^feat_power`` (``Â'`` the normalised ``A' + I``) and ``L`` the
   normalised Laplacian of ``A'``: the minimiser of ``||S X' - alpha h||^2 + tr(X'^T L X')``.

The k-means is scikit-learn's Lloyd with a per-class ``random_state`` drawn from the run seed (the
reference uses faiss k-means: random init, 25 iterations, one start, which the CGC defaults copy); the
augmentation draw uses a NumPy ``RandomState(seed)``. The global RNGs are never touched. Deviation: a
cluster left empty (duplicated rows) gets the class pool's mean instead of the reference's zero row; the
count is in ``meta["empty_clusters"]``.
"""

from __future__ import annotations

import math
import time
import warnings
from typing import Any

import numpy as np
import torch
from torch import Tensor
from torch_geometric.utils import add_remaining_self_loops
from torch_geometric.utils import softmax as segment_softmax

from gcbench.condensers.base import Condenser, per_ratio
from gcbench.graph import Budget, CondensedGraph, Graph

PROPAGATIONS = ("sgc", "mean")
NORMS = ("sym", "rw")
CLUSTERINGS = ("spectral", "kmeans")
#: the reference's argparse defaults (scr/para.py) of the CGC options that its per-dataset tables set per ratio
PER_RATIO_DEFAULTS: dict[str, float] = {"aug_ratio": 0.55, "tau": 10.0, "adj_threshold": 0.95, "alpha": 3.0}


# ------------------------------------------------------------------------------------ propagation
def normalized_adjacency(edge_index: Tensor, n: int, norm: str = "sym") -> Tensor:
    """Sparse CSR ``D^-1/2 (A + I) D^-1/2`` (``sym``) or ``D^-1 (A + I)`` (``rw``); unit edge weights,
    self-loops added where missing."""
    if norm not in NORMS:
        raise ValueError(f"norm must be one of {NORMS}, got {norm!r}")
    ei, w = add_remaining_self_loops(edge_index, torch.ones(edge_index.size(1)), fill_value=1.0, num_nodes=n)
    deg = torch.zeros(n).index_add_(0, ei[0], w)
    if norm == "sym":
        dis = deg.pow(-0.5).masked_fill(deg == 0, 0.0)
        w = dis[ei[0]] * w * dis[ei[1]]
    else:
        w = w / deg[ei[0]]
    adj = torch.sparse_coo_tensor(ei, w, (n, n), check_invariants=False).coalesce()
    with warnings.catch_warnings():  # "sparse CSR support is in beta"
        warnings.simplefilter("ignore")
        return adj.to_sparse_csr()


def propagate(x: Tensor, edge_index: Tensor, hops: int, norm: str = "sym") -> list[Tensor]:
    """``[X, ÂX, ..., Â^hops X]`` (dense ``[N, F]`` each)."""
    adj = normalized_adjacency(edge_index, x.size(0), norm)
    out = [x.to_dense().float() if x.is_sparse else x.float()]
    for _ in range(hops):
        out.append(torch.sparse.mm(adj, out[-1]))
    return out


def cached_propagation(graph: Graph, hops: int, norm: str) -> tuple[list[Tensor], Tensor, Tensor, float]:
    """``(H_0..H_hops, y, train_idx, reused_s)`` on the condenser's view of ``graph``, memoised on the graph.
    ``reused_s`` is the propagation's seconds when it came from the memo, else 0."""
    key = ("training_free.propagate", int(hops), norm)
    if key in graph.cache:
        hs, seconds = graph.cache[key]
        reused = seconds
    else:
        t0 = time.perf_counter()
        x, ei, _, _ = graph.training_view()
        hs = propagate(x, ei, hops, norm)
        graph.cache[key] = (hs, time.perf_counter() - t0)
        reused = 0.0
    _, _, y, train_idx = graph.training_view()
    return hs, y, train_idx, reused


# ------------------------------------------------------------------------------------ clustering
def kmeans_labels(h: Tensor, k: int, *, seed: int, init: str = "k-means++", n_init: int = 1,
                  max_iter: int = 300) -> Tensor:
    """Cluster ids ``[n]`` in ``0..k-1`` of the rows of ``h`` (scikit-learn Lloyd k-means, seeded)."""
    n = h.size(0)
    if k >= n:
        return torch.arange(n)
    if k == 1:
        return torch.zeros(n, dtype=torch.long)
    from sklearn.cluster import KMeans

    km = KMeans(n_clusters=k, init=init, n_init=n_init, max_iter=max_iter, random_state=seed, algorithm="lloyd")
    with warnings.catch_warnings():  # "fewer distinct points than clusters": handled as empty clusters
        warnings.simplefilter("ignore")
        labels = km.fit_predict(h.double().numpy())
    return torch.from_numpy(labels.astype(np.int64))


def poly_features(u: Tensor, c: float) -> Tensor:
    """Explicit features ``Z`` of the kernel ``(u . v + c)^2``: ``Z Z^T = (U U^T + c)^2`` elementwise."""
    n, k = u.shape
    iu = torch.triu_indices(k, k, 1)
    return torch.cat([torch.full((n, 1), c, dtype=u.dtype), math.sqrt(2 * c) * u, u * u,
                      math.sqrt(2.0) * u[:, iu[0]] * u[:, iu[1]]], dim=1)


def spectral_embedding(h: Tensor, k: int, c: float = 2 ** -0.5) -> Tensor:
    """The reference's spectral step (notes §4): rows ``[n, k]`` to cluster with k-means.

    Centre the rows, ``U`` = top-``k`` left singular vectors, affinity ``K = (U U^T + c)^2``, degrees
    ``d = K 1``; the eigenvectors 2..k+1 of ``D^-1/2 K D^-1/2`` (by the smaller of the ``n x n`` affinity and
    the ``m x m`` Gram of the explicit kernel features, ``m = (k+1)(k+2)/2``, so memory stays linear in ``n``).
    """
    hc = h.double() - h.double().mean(0)
    u = torch.linalg.svd(hc, full_matrices=False)[0][:, :k]
    if u.size(1) < k:  # fewer dimensions than clusters: pad (zero columns add nothing to U U^T)
        u = torch.cat([u, u.new_zeros(u.size(0), k - u.size(1))], dim=1)
    z = poly_features(u, c)
    deg = z @ z.sum(0)
    zh = z / deg.clamp_min(1e-300).sqrt()[:, None]
    n, m = zh.shape
    if n <= m:
        vals, vecs = torch.linalg.eigh(zh @ zh.T)
        q = vecs.flip(1)[:, 1:k + 1]
    else:
        vals, vecs = torch.linalg.eigh(zh.T @ zh)
        vals, vecs = vals.flip(0)[: k + 1], vecs.flip(1)[:, : k + 1]
        q = (zh @ vecs[:, 1:]) / vals[1:].clamp_min(1e-300).sqrt()
    return q


# ------------------------------------------------------------------------------------ closed form
def threshold_adjacency(h: Tensor, threshold: float) -> Tensor:
    """Dense binary ``[n, n]``: 1 where the cosine similarity of two distinct rows exceeds ``threshold``."""
    hn = torch.nn.functional.normalize(h.double(), dim=1)
    a = (hn @ hn.T > threshold).double()
    a.fill_diagonal_(0.0)
    return a


def closed_form_features(a: Tensor, h: Tensor, alpha: float, power: int) -> Tensor:
    """``X' = (S S^T + L)^-1 alpha S^T h`` with ``S = (D~^-1/2 (A + I) D~^-1/2)^power`` and
    ``L = D^-1/2 (D - A) D^-1/2`` (notes §5)."""
    a = a.double()
    n = a.size(0)
    d = a.sum(1)
    dis = (d + 1e-10).pow(-0.5)
    lap = dis[:, None] * (torch.diag(d) - a) * dis[None, :]
    at = a + torch.eye(n, dtype=a.dtype)
    dt = at.sum(1).pow(-0.5)
    s = torch.linalg.matrix_power(dt[:, None] * at * dt[None, :], int(power))
    lhs, rhs = s @ s.T + lap, alpha * (s.T @ h.double())
    try:
        return torch.linalg.solve(lhs, rhs)
    except RuntimeError:  # singular system: the minimum-norm least-squares solution
        return torch.linalg.lstsq(lhs, rhs, driver="gelsd").solution


# ------------------------------------------------------------------------------------ methods
def _class_seeds(seed: int, n: int) -> list[int]:
    return [int(s) for s in np.random.RandomState(seed).randint(0, 2**31 - 1, size=n)]


def _check_choice(name: str, value: Any, choices: tuple[str, ...]) -> None:
    if value not in choices:
        raise ValueError(f"option {name} must be one of {choices}, got {value!r}")


class KMeansAgg(Condenser):
    """Class-wise k-means centroids of K-hop propagated features; edgeless by default."""

    name = "kmeans-agg"
    description = "class-wise k-means centroids of K-hop propagated features (training-free floor; edgeless)"
    defaults: dict[str, Any] = {
        "hops": 2,                 # K
        "propagation": "sgc",      # sgc: Â^K X; mean: (X + ÂX + ... + Â^K X) / (K + 1)
        "norm": "sym",             # sym: D^-1/2 (A+I) D^-1/2; rw: D^-1 (A+I)
        "init": "k-means++",
        "n_init": 3,
        "max_iter": 100,
        "adj_threshold": None,     # None: no edges; a number: CGC's cosine-threshold edges among the centroids
    }

    def condense(self, graph: Graph, budget: Budget, *, seed: int, device: torch.device) -> CondensedGraph:
        cfg = self.config
        _check_choice("propagation", cfg["propagation"], PROPAGATIONS)
        hops = int(cfg["hops"])
        if hops < 0:
            raise ValueError(f"option hops must be >= 0, got {hops}")
        hs, y, train_idx, reused = cached_propagation(graph, hops, cfg["norm"])
        feats = hs[-1] if cfg["propagation"] == "sgc" else torch.stack(hs).mean(0)
        seeds = _class_seeds(seed, len(budget.per_class))
        y_train = y[train_idx]
        rows, empty = [], 0
        for c, k in enumerate(budget.per_class):
            if k == 0:
                continue
            h = feats[train_idx[y_train == c]]
            labels = kmeans_labels(h, k, seed=seeds[c], init=cfg["init"], n_init=int(cfg["n_init"]),
                                   max_iter=int(cfg["max_iter"]))
            cent, n_empty = cluster_means(h, labels, k, torch.ones(h.size(0)))
            rows.append(cent)
            empty += n_empty
        x = torch.cat(rows).float()
        adj = None
        if cfg["adj_threshold"] is not None:
            adj = threshold_adjacency(x, float(cfg["adj_threshold"])).float()
        return CondensedGraph(x=x, y=budget.labels(), adj=adj, modalities=dict(graph.modalities),
                              meta={"reused_s": reused, "empty_clusters": empty})


def cluster_means(h: Tensor, labels: Tensor, k: int, weight: Tensor) -> tuple[Tensor, int]:
    """``[k, F]``: per cluster the ``weight``-weighted mean of its rows (weights normalised per cluster);
    an empty cluster gets the plain mean of all rows. Returns the means and the number of empty clusters."""
    w = weight.double()
    tot = torch.zeros(k, dtype=torch.float64).index_add_(0, labels, w)
    out = torch.zeros(k, h.size(1), dtype=torch.float64).index_add_(0, labels, w[:, None] * h.double())
    empty = tot == 0
    out = out / tot.clamp_min(1e-300)[:, None]
    if bool(empty.any()):
        out[empty] = h.double().mean(0)
    return out, int(empty.sum())


class CGC(Condenser):
    """Class-partitioned graph condensation (structured; ``structure: false`` is CGC-X)."""

    name = "cgc"
    description = "CGC (Gao et al., WWW 2025): class partition by spectral clustering + closed-form features"
    defaults: dict[str, Any] = {
        "structure": True,         # False: CGC-X (no edges)
        "hops": 2,                 # conv_depth: clustered rows are Â^2 X; the linear model averages H_0..H_2
        # options that may be given per ratio ({ratio: value}, nearest ratio wins); None = the reference's
        # argparse default (PER_RATIO_DEFAULTS). None-typed so that the option check accepts a mapping.
        "aug_ratio": None,         # augmented rows = int(aug_ratio * n_train) (0: none); reference 0.55
        "tau": None,               # temperature of the confidence softmax inside a cluster; reference 10
        "clustering": "spectral",  # spectral (reference) | kmeans (on the rows themselves)
        "poly_c": 2 ** -0.5,       # constant of the polynomial affinity (u.v + c)^2
        "kmeans_init": "random",   # faiss.Kmeans defaults: random init, 25 iterations, one start
        "kmeans_n_init": 1,
        "kmeans_iter": 25,
        "adj_threshold": None,     # adj_T: cosine threshold of the synthetic edges; reference 0.95
        "alpha": None,             # scale of the closed-form target; reference 3
        "feat_power": 3,           # S = Â'^3 in the reference's get_feature
    }

    def _opt(self, key: str, ratio: float) -> Any:
        value = per_ratio(self.config[key], ratio)
        return PER_RATIO_DEFAULTS[key] if value is None and key in PER_RATIO_DEFAULTS else value

    def condense(self, graph: Graph, budget: Budget, *, seed: int, device: torch.device) -> CondensedGraph:
        r = budget.ratio
        hops = int(self._opt("hops", r))
        if hops < 1:
            raise ValueError(f"option hops must be >= 1 for cgc, got {hops}")
        clustering = self._opt("clustering", r)
        _check_choice("clustering", clustering, CLUSTERINGS)
        hs, y, train_idx, reused = cached_propagation(graph, max(hops, 2), "sym")
        C = len(budget.per_class)
        y_tr = y[train_idx]
        # 1. least-squares linear model on the hop-averaged features (notes §3; the reference averages H_0..H_2)
        hbar = torch.stack(hs[:3]).mean(0)
        onehot = torch.nn.functional.one_hot(y_tr, C).double()
        w = torch.linalg.lstsq(hbar[train_idx].double(), onehot, driver="gelsd").solution
        base = hs[hops][train_idx].double()
        conf_base = _confidence(base @ w, y_tr)
        pool_h, pool_y, pool_conf = [base], [y_tr], [conf_base]
        # 2. augmentation with 1-hop rows of training nodes drawn by 1 - F1 of their class
        n_aug = int(len(train_idx) * float(self._opt("aug_ratio", r)))
        if n_aug > 0:
            h1 = hs[1][train_idx].double()
            logits1 = h1 @ w
            weight = 1.0 - per_class_f1(logits1.argmax(1), y_tr, C)
            p = (weight[y_tr] + 1e-20).numpy()
            pick = torch.from_numpy(np.random.RandomState(seed).choice(len(p), size=n_aug, p=p / p.sum()))
            pool_h.append(h1[pick])
            pool_y.append(y_tr[pick])
            pool_conf.append(_confidence(logits1[pick], y_tr[pick]))
        H, Y, conf = torch.cat(pool_h), torch.cat(pool_y), torch.cat(pool_conf)
        # 3-5. class partition and confidence-weighted cluster means
        tau = float(self._opt("tau", r))
        seeds = _class_seeds(seed, C)
        rows, empty = [], 0
        for c, k in enumerate(budget.per_class):
            if k == 0:
                continue
            members = (Y == c).nonzero().view(-1)
            hc = H[members]
            labels = self._partition(hc, k, clustering, seeds[c], r)
            sm = segment_softmax(conf[members] / tau, labels, num_nodes=k)
            cent, n_empty = cluster_means(hc, labels, k, sm)
            rows.append(cent)
            empty += n_empty
        h = torch.cat(rows)
        meta = {"reused_s": reused, "pool_size": int(H.size(0)), "augmented": n_aug, "empty_clusters": empty}
        if not bool(self._opt("structure", r)):
            return CondensedGraph(x=h.float(), y=budget.labels(), adj=None, modalities=dict(graph.modalities),
                                  meta=meta)
        # 6. predefined structure and closed-form features
        a = threshold_adjacency(h, float(self._opt("adj_threshold", r)))
        x = closed_form_features(a, h, float(self._opt("alpha", r)), int(self._opt("feat_power", r)))
        meta["edges"] = int(a.triu(1).sum())
        return CondensedGraph(x=x.float(), y=budget.labels(), adj=a.float(), modalities=dict(graph.modalities),
                              meta=meta)

    def _partition(self, h: Tensor, k: int, clustering: str, seed: int, r: float) -> Tensor:
        if k >= h.size(0):
            return torch.arange(h.size(0))
        if k == 1:
            return torch.zeros(h.size(0), dtype=torch.long)
        emb = spectral_embedding(h, k, float(self._opt("poly_c", r))) if clustering == "spectral" else h
        return kmeans_labels(emb, k, seed=seed, init=self._opt("kmeans_init", r),
                             n_init=int(self._opt("kmeans_n_init", r)), max_iter=int(self._opt("kmeans_iter", r)))


class CGCX(CGC):
    """CGC-X: CGC without the synthetic structure (the class-partition embeddings are the features)."""

    name = "cgc-x"
    description = "CGC-X (Gao et al., WWW 2025): class partition by spectral clustering, no edges"
    defaults: dict[str, Any] = {**CGC.defaults, "structure": False}


def per_class_f1(pred: Tensor, y: Tensor, num_classes: int) -> Tensor:
    """F1 of each class (0 where undefined, as scikit-learn's ``zero_division=0``), float64 ``[C]``."""
    tp = torch.bincount(y[pred == y], minlength=num_classes).double()
    fp = torch.bincount(pred[pred != y], minlength=num_classes).double()
    fn = torch.bincount(y[pred != y], minlength=num_classes).double()
    den = 2 * tp + fp + fn
    return torch.where(den > 0, 2 * tp / den.clamp_min(1), torch.zeros_like(den))


def _confidence(logits: Tensor, y: Tensor) -> Tensor:
    """Softmax probability of the true class; misclassified rows get the set's minimum (notes §3)."""
    prob = torch.softmax(logits, dim=1)
    conf = prob.gather(1, y[:, None]).squeeze(1)
    wrong = prob.argmax(1) != y
    return torch.where(wrong, conf.min(), conf)
