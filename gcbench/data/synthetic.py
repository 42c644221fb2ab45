"""The embedded default dataset ``synthetic-ecommerce``: a seeded, multimodal co-purchase graph.

Products fall into ``n_classes`` categories and are joined by co-purchase edges drawn from a
degree-corrected stochastic block model; every product has two feature blocks, ``text`` and ``image``,
each a noisy view of its category in its own dimension, L2-normalised per node like a pretrained
embedding (CLIP), and for a fraction of the products the image view points to another category
(cross-modal conflict). Nothing is read from disk, so the dataset
is always available (tests, smoke runs, CI). The dataset card is ``datasets/synthetic-ecommerce.yaml``.

Generation, all from one local :class:`torch.Generator` seeded by ``seed`` (the global RNG is untouched,
and the same seed and parameters give bit-identical tensors):

1. **Classes.** Class ``c`` gets a share proportional to ``(c + 1) ** -class_imbalance`` of the nodes
   (largest remainders; ``class_imbalance=0``: equal classes), labels are shuffled over the node ids.
2. **Propensities.** ``theta ~ Pareto(shape = degree_exponent - 1, minimum 1)`` clipped at
   ``max_propensity``, so expected degrees follow a power law ``P(k) ~ k ** -degree_exponent`` with a cut-off.
3. **Edges.** ``m = round(n_nodes * avg_degree / 2)`` undirected edges, ``round(homophily * m)`` of them
   within a class and the rest between classes. The first endpoint is every node once (so isolated nodes
   are rare; only when ``avg_degree >= 2``), the rest are drawn proportional to ``theta``. The second
   endpoint's class is the first one's for a homophilous edge; for a heterophilous edge it is, with
   probability ``partner_frac``, the class's *partner* category (classes are paired 0-1, 2-3, ..., like a
   product line and its accessories), otherwise another class chosen proportional to its total propensity.
   Within that class the node is drawn proportional to ``theta``. Self-loops are dropped, duplicates
   merged and the result made symmetric; a few top-up rounds replace merged duplicates (separately for the
   two kinds of edge), so the mean degree is close to ``avg_degree`` and the edge homophily to
   ``homophily``.
4. **Features.** Per modality, class prototypes with ``N(0, 1)`` entries, partner categories correlated
   by ``partner_similarity``; a node's raw view is ``v = prototype[y] + noise * N(0, I)`` and its block is
   ``scale * v / ||v||``: like a pretrained embedding (CLIP), each modality block of each node is a
   direction with unit L2 norm at the default ``scale = 1`` (per-entry spread about ``1 / sqrt(dim)``,
   the scale every registered dataset shares). ``noise`` sets how informative a modality is on its own:
   the expected cosine between a view and its prototype is about ``1 / sqrt(1 + noise ** 2)``. For the
   ``round(conflict_frac * n_nodes)`` conflict nodes the image prototype is replaced by
   ``(1 - conflict_strength) * prototype[y] + conflict_strength * prototype[o]`` for another class ``o``
   drawn uniformly (``data.conflict_mask``; ``data.conflict_class`` holds ``o``, ``-1`` for other nodes).
   The defaults (``text_noise`` 2.5, ``image_noise`` 2.0) are calibrated on whole-graph scores (the
   dataset card): an MLP on the features alone is about 10 points below a GCN, and GAT, GraphSAGE and GCN
   agree within a few points (:mod:`gcbench.data.stats`, ``gcbench data stats synthetic-ecommerce``).
5. **Splits.** Per class, a seeded shuffle gives ``max(1, round(train_frac * n_c))`` training nodes,
   ``round(val_frac * n_c)`` validation nodes (at least one when ``val_frac > 0``), the rest test.
"""

from __future__ import annotations

import math
from typing import Any

import torch
from torch import Tensor
from torch_geometric.data import Data

from gcbench.errors import GCBenchError
from gcbench.graph import Graph, make_undirected

NAME = "synthetic-ecommerce"

DEFAULTS: dict[str, Any] = {
    "n_nodes": 2000,
    "n_classes": 8,
    "class_imbalance": 0.5,
    "avg_degree": 10.0,
    "degree_exponent": 2.5,
    "max_propensity": 50.0,
    "homophily": 0.7,
    "partner_frac": 0.8,
    "partner_similarity": 0.8,
    "text_dim": 128,
    "image_dim": 64,
    "text_scale": 1.0,
    "image_scale": 1.0,
    "text_noise": 2.5,
    "image_noise": 2.0,
    "conflict_frac": 0.3,
    "conflict_strength": 0.7,
    "train_frac": 0.1,
    "val_frac": 0.1,
}

# name -> (kind, low, high, low_inclusive, high_inclusive, what is allowed in words)
_RULES: dict[str, tuple[str, float, float, bool, bool, str]] = {
    "n_nodes": ("int", 1, 50_000_000, True, True, "an integer, at least 3 nodes per class"),
    "n_classes": ("int", 2, 10_000, True, True, "an integer >= 2"),
    "class_imbalance": ("float", 0.0, 5.0, True, True, "a number in [0, 5] (0 = equal classes)"),
    "avg_degree": ("float", 0.0, math.inf, False, False, "a number > 0, at most n_nodes / 10"),
    "degree_exponent": ("float", 1.0, math.inf, False, False, "a number > 1 (power-law exponent)"),
    "max_propensity": ("float", 1.0, math.inf, True, False, "a number >= 1"),
    "homophily": ("float", 0.0, 1.0, True, True, "a number in [0, 1]"),
    "partner_frac": ("float", 0.0, 1.0, True, True, "a number in [0, 1]"),
    "partner_similarity": ("float", 0.0, 1.0, True, False, "a number in [0, 1)"),
    "text_dim": ("int", 1, 100_000, True, True, "an integer >= 1"),
    "image_dim": ("int", 1, 100_000, True, True, "an integer >= 1"),
    "text_scale": ("float", 0.0, math.inf, False, False, "a number > 0"),
    "image_scale": ("float", 0.0, math.inf, False, False, "a number > 0"),
    "text_noise": ("float", 0.0, math.inf, True, False, "a number >= 0"),
    "image_noise": ("float", 0.0, math.inf, True, False, "a number >= 0"),
    "conflict_frac": ("float", 0.0, 1.0, True, True, "a number in [0, 1]"),
    "conflict_strength": ("float", 0.0, 1.0, True, True, "a number in [0, 1]"),
    "train_frac": ("float", 0.0, 1.0, False, False, "a number in (0, 1)"),
    "val_frac": ("float", 0.0, 1.0, True, False, "a number in [0, 1) with train_frac + val_frac < 1"),
}
assert set(_RULES) == set(DEFAULTS)

_TOPUP_ROUNDS = 4


#: The parameters of the modality feature blocks (step 4), shared with the semi-synthetic Amazon graphs.
FEATURE_PARAMS = (
    "partner_similarity",
    "text_dim",
    "image_dim",
    "text_scale",
    "image_scale",
    "text_noise",
    "image_noise",
    "conflict_frac",
    "conflict_strength",
)


def _bad(name: str, value: Any, allowed: str, where: str = NAME) -> GCBenchError:
    return GCBenchError(f"{where}: parameter {name!r} must be {allowed}, got {value!r}")


def _check_seed(seed: Any, where: str = NAME) -> None:
    if isinstance(seed, bool) or not isinstance(seed, int) or not 0 <= seed < 2**63:
        raise _bad("seed", seed, "a non-negative integer", where)


def _coerce(p: dict[str, Any], names: tuple[str, ...] | list[str], where: str) -> None:
    """Check the values of ``names`` in ``p`` against ``_RULES`` and coerce them to int/float in place."""
    for name in names:
        kind, lo, hi, lo_inc, hi_inc, allowed = _RULES[name]
        v = p[name]
        if isinstance(v, bool) or not isinstance(v, (int, float)):
            raise _bad(name, v, allowed, where)
        if kind == "int":
            if isinstance(v, float) and not (math.isfinite(v) and v.is_integer()):
                raise _bad(name, v, allowed, where)
            v = int(v)
        else:
            v = float(v)
            if math.isnan(v):
                raise _bad(name, v, allowed, where)
        if (v < lo or (v == lo and not lo_inc)) or (v > hi or (v == hi and not hi_inc)):
            raise _bad(name, p[name], allowed, where)
        p[name] = v


def check_feature_params(seed: Any, params: dict[str, Any], where: str) -> dict[str, Any]:
    """Validate the feature-block parameters (``FEATURE_PARAMS``, defaults as in ``DEFAULTS``) and a seed.

    ``where`` names the dataset in error messages. Returns the complete, coerced parameter dict.
    """
    unknown = sorted(set(params) - set(FEATURE_PARAMS))
    if unknown:
        raise GCBenchError(f"{where}: unknown parameter {unknown[0]!r}; allowed: seed, {', '.join(FEATURE_PARAMS)}")
    _check_seed(seed, where)
    p = {k: params.get(k, DEFAULTS[k]) for k in FEATURE_PARAMS}
    _coerce(p, FEATURE_PARAMS, where)
    return p


def _check_params(seed: Any, params: dict[str, Any]) -> dict[str, Any]:
    unknown = sorted(set(params) - set(DEFAULTS))
    if unknown:
        raise GCBenchError(f"{NAME}: unknown parameter {unknown[0]!r}; allowed: seed, {', '.join(DEFAULTS)}")
    _check_seed(seed)
    p = {**DEFAULTS, **params}
    _coerce(p, list(_RULES), NAME)
    if p["train_frac"] + p["val_frac"] >= 1.0:
        raise _bad("val_frac", p["val_frac"], f"below 1 - train_frac = {1 - p['train_frac']:g}")
    sizes = _class_sizes(p["n_nodes"], p["n_classes"], p["class_imbalance"])
    if min(sizes) < 3:
        raise GCBenchError(
            f"{NAME}: parameter 'n_nodes' = {p['n_nodes']} is too small for {p['n_classes']} classes with "
            f"class_imbalance {p['class_imbalance']:g}: the smallest class gets {min(sizes)} nodes, at least 3 "
            "are needed"
        )
    if p["avg_degree"] > p["n_nodes"] / 10:
        raise _bad("avg_degree", p["avg_degree"], f"at most n_nodes / 10 = {p['n_nodes'] / 10:g} (a sparse graph)")
    return p


def _class_sizes(n: int, n_classes: int, imbalance: float) -> list[int]:
    """Sizes proportional to ``(c + 1) ** -imbalance`` by largest remainders (ties: smaller class)."""
    w = [(c + 1) ** -imbalance for c in range(n_classes)]
    exact = [n * wc / sum(w) for wc in w]
    sizes = [int(math.floor(e)) for e in exact]
    for c in sorted(range(n_classes), key=lambda c: (-(exact[c] - sizes[c]), c))[: n - sum(sizes)]:
        sizes[c] += 1
    return sizes


def _segment_sample(cum: Tensor, segment: Tensor, gen: torch.Generator) -> Tensor:
    """One draw per entry of ``segment`` from a concatenation of per-segment distributions.

    ``cum`` holds, segment after segment, each segment's cumulative distribution normalised to end at 1
    and shifted by the segment's index (so ``cum`` is sorted). Returns positions into ``cum``.
    """
    # keep c + r strictly below c + 1 after rounding
    r = torch.rand(segment.numel(), generator=gen, dtype=torch.float64).mul_(1.0 - 1e-9)
    pos = torch.searchsorted(cum, segment.to(torch.float64) + r, right=True)
    return pos.clamp_(max=cum.numel() - 1)


def _segment_cumsum(weights: Tensor, seg_start: Tensor, seg_len: Tensor) -> Tensor:
    """Per-segment normalised cumulative sums of ``weights`` (contiguous segments) plus the segment index."""
    seg_id = torch.repeat_interleave(torch.arange(seg_len.numel()), seg_len)
    total = torch.cumsum(weights, 0)
    before = torch.cat([total.new_zeros(1), total])[seg_start]  # mass before each segment
    seg_mass = torch.cat([total.new_zeros(1), total])[seg_start + seg_len] - before
    cum = (total - before[seg_id]) / seg_mass[seg_id]
    last = seg_start + seg_len - 1
    cum[last[seg_len > 0]] = 1.0  # exact ends despite rounding
    return cum + seg_id.to(cum.dtype)


def partner_classes(n_classes: int) -> Tensor:
    """Each class's partner category: 0-1, 2-3, ...; an odd last class pairs with the one before it."""
    partner = torch.arange(n_classes) ^ 1
    partner[partner >= n_classes] = n_classes - 2
    return partner


def _prototypes(n_classes: int, dim: int, similarity: float, gen: torch.Generator) -> Tensor:
    """Class prototypes with N(0, 1) entries; partner categories share a ``similarity`` part (correlation)."""
    own = torch.randn(n_classes, dim, generator=gen)
    group = torch.clamp(torch.arange(n_classes) // 2, max=n_classes // 2 - 1)
    shared = torch.randn(n_classes // 2, dim, generator=gen)[group]
    return math.sqrt(1.0 - similarity) * own + math.sqrt(similarity) * shared


def _sample_edges(
    y: Tensor,
    theta: Tensor,
    n_classes: int,
    n_edges: int,
    homophily: float,
    partner_frac: float,
    gen: torch.Generator,
) -> Tensor:
    n = y.numel()
    # nodes grouped by class: order[pos] is the node at position pos
    order = torch.argsort(y, stable=True)
    sizes = torch.bincount(y, minlength=n_classes)
    starts = torch.cumsum(sizes, 0) - sizes
    node_cum = _segment_cumsum(theta[order], starts, sizes)
    global_cum = torch.cumsum(theta, 0)
    global_cum = global_cum / global_cum[-1]
    global_cum[-1] = 1.0

    # heterophilous class choice: row c = other classes proportional to their mass, c excluded
    mass = torch.zeros(n_classes, dtype=torch.float64).index_add_(0, y, theta)
    other = mass.expand(n_classes, n_classes).clone()
    other.fill_diagonal_(0.0)
    other = (1.0 - partner_frac) * other / other.sum(1, keepdim=True)
    other[torch.arange(n_classes), partner_classes(n_classes)] += partner_frac
    other_cum = _segment_cumsum(
        other.reshape(-1), torch.arange(n_classes) * n_classes, torch.full((n_classes,), n_classes)
    )

    def draw_global(k: int) -> Tensor:
        r = torch.rand(k, generator=gen, dtype=torch.float64)
        return torch.searchsorted(global_cum, r, right=True).clamp_(max=n - 1)

    def draw(k: int, n_same: int, every_node: bool) -> Tensor:
        """``k`` edges, exactly ``n_same`` of them homophilous (random which)."""
        src = torch.cat([torch.arange(n), draw_global(k - n)]) if every_node else draw_global(k)
        cs = y[src]
        het = torch.randperm(k, generator=gen)[n_same:] if 0 < n_same < k else torch.arange(k)[n_same:]
        ct = cs.clone()
        if het.numel():
            ct[het] = _segment_sample(other_cum, cs[het], gen) - cs[het] * n_classes
        dst = order[_segment_sample(node_cum, ct, gen)]
        return torch.stack([src, dst])

    def unique_keys(ei: Tensor) -> Tensor:
        lo, hi = torch.minimum(ei[0], ei[1]), torch.maximum(ei[0], ei[1])
        keep = lo != hi
        return torch.unique(lo[keep] * n + hi[keep])

    # homophilous and heterophilous edges are disjoint sets of pairs: top each up to its own target, so
    # that merged duplicates (more frequent within classes) do not bias the achieved homophily
    target_same = int(round(n_edges * homophily))
    keys = unique_keys(draw(n_edges, target_same, n_edges >= n))
    key_same = y[keys // n] == y[keys % n]
    pools = [keys[key_same], keys[~key_same]]
    for i, target in enumerate((target_same, n_edges - target_same)):
        for _ in range(_TOPUP_ROUNDS):
            deficit = target - pools[i].numel()
            if deficit <= target // 1000:
                break
            # oversample a little: part of the new draws will again be duplicates
            extra = int(math.ceil(deficit * 1.1)) + 8
            new = unique_keys(draw(extra, extra if i == 0 else 0, False))
            new = new[~torch.isin(new, pools[i])]
            if new.numel() > deficit:
                new = new[torch.randperm(new.numel(), generator=gen)[:deficit]]
            pools[i] = torch.cat([pools[i], new])
    keys = torch.cat(pools)
    ei = torch.stack([keys // n, keys % n])
    return make_undirected(ei, n)


def stratified_split(
    y: Tensor, n_classes: int, train_frac: float, val_frac: float, gen: torch.Generator
) -> tuple[Tensor, Tensor, Tensor]:
    """Boolean train/val/test masks, stratified per class by a seeded shuffle (module docstring, step 5).

    Class ``c`` with ``n_c`` nodes gets ``max(1, round(train_frac * n_c))`` training nodes,
    ``round(val_frac * n_c)`` validation nodes (at least one when ``val_frac > 0``) and the rest as test nodes
    (at least one). Every class needs at least 3 nodes.
    """
    n = y.numel()
    perm = torch.randperm(n, generator=gen)
    order = perm[torch.argsort(y[perm], stable=True)]  # grouped by class, random within class
    sizes = torch.bincount(y, minlength=n_classes)
    starts = torch.cumsum(sizes, 0) - sizes
    rank = torch.empty(n, dtype=torch.long)
    rank[order] = torch.arange(n) - torch.repeat_interleave(starts, sizes)
    n_train = torch.clamp(torch.round(sizes.double() * train_frac).long(), min=1)
    n_val = torch.round(sizes.double() * val_frac).long()
    if val_frac > 0:
        n_val = n_val.clamp(min=1)
    n_val = torch.minimum(n_val, sizes - n_train - 1)  # at least one test node per class
    r_train, r_val = n_train[y], (n_train + n_val)[y]
    train = rank < r_train
    val = (rank >= r_train) & (rank < r_val)
    return train, val, ~(train | val)


def modality_features(
    y: Tensor,
    n_classes: int,
    gen: torch.Generator,
    *,
    partner_similarity: float,
    text_dim: int,
    image_dim: int,
    text_scale: float,
    image_scale: float,
    text_noise: float,
    image_noise: float,
    conflict_frac: float,
    conflict_strength: float,
) -> tuple[Tensor, Tensor, Tensor]:
    """The two modality blocks of step 4 of the module docstring, generated from the labels ``y``.

    Returns ``(x, conflict_mask, conflict_class)``: ``x`` float32 ``[N, text_dim + image_dim]`` laid out as
    ``[text | image]``; ``conflict_mask`` (bool ``[N]``) marks the ``round(conflict_frac * N)`` nodes whose
    image view points to another class, ``conflict_class`` (long ``[N]``) holds that class (``-1`` for the
    others). Everything is drawn from ``gen``, in a fixed order (text prototypes, image prototypes, conflict
    nodes, conflict classes, noise). Used by ``synthetic_ecommerce`` and by the semi-synthetic Amazon graphs
    (:mod:`gcbench.data.magb`), which attach these features to a real topology and real labels.
    """
    n, C = y.numel(), n_classes
    td, idim = text_dim, image_dim
    proto_text = _prototypes(C, td, partner_similarity, gen)
    proto_image = _prototypes(C, idim, partner_similarity, gen)
    n_conf = int(round(conflict_frac * n))
    conflict_mask = torch.zeros(n, dtype=torch.bool)
    conflict_class = torch.full((n,), -1, dtype=torch.long)
    conf_idx = torch.randperm(n, generator=gen)[:n_conf]
    conflict_mask[conf_idx] = True
    # another class, uniformly among the C - 1 others
    shift = torch.randint(1, C, (n_conf,), generator=gen)
    conflict_class[conf_idx] = (y[conf_idx] + shift) % C

    x = torch.randn(n, td + idim, generator=gen)
    text, image = x[:, :td], x[:, td:]
    text.mul_(text_noise).add_(proto_text[y])
    image.mul_(image_noise).add_(proto_image[y])
    if n_conf:
        image[conf_idx] += conflict_strength * (proto_image[conflict_class[conf_idx]] - proto_image[y[conf_idx]])
    # like a pretrained embedding (CLIP): each block is a direction; its row norm is the block's scale
    for block, scale in ((text, text_scale), (image, image_scale)):
        block.div_(torch.linalg.vector_norm(block, dim=1, keepdim=True).clamp_(min=1e-12)).mul_(scale)
    return x, conflict_mask, conflict_class


def synthetic_ecommerce(seed: int = 0, **params: Any) -> Graph:
    """Generate the ``synthetic-ecommerce`` graph (see the module docstring and ``DEFAULTS``).

    Unknown parameters or values out of range raise :class:`GCBenchError`.
    """
    p = _check_params(seed, params)
    n, C = p["n_nodes"], p["n_classes"]
    sizes = _class_sizes(n, C, p["class_imbalance"])
    gen = torch.Generator().manual_seed(seed)

    # 1. classes
    y = torch.repeat_interleave(torch.arange(C), torch.tensor(sizes))
    y = y[torch.randperm(n, generator=gen)]

    # 2. degree propensities: Pareto with tail exponent degree_exponent, clipped
    alpha = p["degree_exponent"] - 1.0
    u = torch.rand(n, generator=gen, dtype=torch.float64)
    theta = (1.0 - u).pow(-1.0 / alpha).clamp_(max=p["max_propensity"])

    # 3. edges
    n_edges = int(round(n * p["avg_degree"] / 2))
    if n_edges:
        edge_index = _sample_edges(y, theta, C, n_edges, p["homophily"], p["partner_frac"], gen)
    else:
        edge_index = torch.empty(2, 0, dtype=torch.long)

    # 4. features: x = [text | image]
    td, idim = p["text_dim"], p["image_dim"]
    x, conflict_mask, conflict_class = modality_features(y, C, gen, **{k: p[k] for k in FEATURE_PARAMS})
    n_conf = int(conflict_mask.sum())

    # 5. splits
    train_mask, val_mask, test_mask = stratified_split(y, C, p["train_frac"], p["val_frac"], gen)

    data = Data(
        x=x,
        edge_index=edge_index,
        y=y,
        train_mask=train_mask,
        val_mask=val_mask,
        test_mask=test_mask,
        conflict_mask=conflict_mask,
        conflict_class=conflict_class,
    )
    deg = torch.bincount(edge_index[0], minlength=n)
    src, dst = edge_index
    upper = src < dst
    n_und = int(upper.sum())
    homo = round(float((y[src[upper]] == y[dst[upper]]).double().mean()), 4) if n_und else None
    info = {
        "generator": "gcbench.data.synthetic.synthetic_ecommerce",
        "seed": seed,
        "params": dict(p),
        "stats": {
            "nodes": n,
            "edges": n_und,
            "class_sizes": sizes,
            "edge_homophily": homo,
            "mean_degree": round(2 * n_und / n, 4),
            "max_degree": int(deg.max()) if n else 0,
            "isolated_nodes": int((deg == 0).sum()),
            "conflict_nodes": n_conf,
            "train/val/test": [int(train_mask.sum()), int(val_mask.sum()), int(test_mask.sum())],
        },
    }
    return Graph(
        name=NAME,
        data=data,
        modalities={"text": slice(0, td), "image": slice(td, td + idim)},
        setting="transductive",
        metric="roc_auc" if p["n_classes"] == 2 else "accuracy",
        info=info,
    )
