"""The embedded ``synthetic-ecommerce`` generator: layout, determinism, knobs, splits, parameter errors."""

from __future__ import annotations

import math

import pytest
import torch

from gcbench.data.synthetic import DEFAULTS, partner_classes, synthetic_ecommerce
from gcbench.errors import GCBenchError
from gcbench.graph import Graph

N = 1000  # small graphs keep the whole file well under a few seconds


def _gen(seed: int = 0, **params) -> Graph:
    return synthetic_ecommerce(seed, **{"n_nodes": N, **params})


def _edge_homophily(g: Graph) -> float:
    src, dst = g.edge_index
    return float((g.y[src] == g.y[dst]).double().mean())


def _degrees(g: Graph) -> torch.Tensor:
    return torch.bincount(g.edge_index[0], minlength=g.num_nodes)


@pytest.fixture(scope="module")
def default_graph() -> Graph:
    return synthetic_ecommerce()


# --- layout --------------------------------------------------------------------------------------------


def test_defaults_and_layout(default_graph: Graph) -> None:
    g = default_graph
    n, td, idim = DEFAULTS["n_nodes"], DEFAULTS["text_dim"], DEFAULTS["image_dim"]
    assert isinstance(g, Graph)
    assert g.name == "synthetic-ecommerce"
    assert g.setting == "transductive" and g.metric == "accuracy"
    assert g.num_nodes == n and g.num_classes == DEFAULTS["n_classes"]
    assert g.x.dtype == torch.float32 and tuple(g.x.shape) == (n, td + idim)
    assert g.y.dtype == torch.long and g.edge_index.dtype == torch.long
    assert g.modalities == {"text": slice(0, td), "image": slice(td, td + idim)}
    assert g.data.conflict_mask.dtype == torch.bool and g.data.conflict_mask.shape == (n,)
    assert torch.isfinite(g.x).all()
    assert g.info["params"] == DEFAULTS and g.info["seed"] == 0
    stats = g.info["stats"]
    assert stats["nodes"] == n and stats["edges"] == g.num_edges
    assert stats["edge_homophily"] == pytest.approx(_edge_homophily(g), abs=1e-4)
    assert stats["max_degree"] == int(_degrees(g).max())
    assert stats["conflict_nodes"] == int(g.data.conflict_mask.sum())


def test_blocks_are_unit_norm_embeddings_and_scale_sets_the_norm(default_graph: Graph) -> None:
    g = default_graph
    text, image = g.x[:, g.modalities["text"]], g.x[:, g.modalities["image"]]
    assert text.size(1) != image.size(1)
    # like CLIP: each modality block of each node is a unit vector (the scale of every registered dataset)
    for block in (text, image):
        assert torch.allclose(torch.linalg.vector_norm(block, dim=1), torch.ones(g.num_nodes), atol=1e-5)
    # per-coordinate spread about 1 / sqrt(dim), not the raw N(0, noise^2) scale
    assert text.std().item() == pytest.approx(1 / math.sqrt(text.size(1)), rel=0.1)
    assert image.std().item() == pytest.approx(1 / math.sqrt(image.size(1)), rel=0.1)
    # the scale is the row norm: same seed, image_scale 2 -> image block doubled, text untouched
    a, b = _gen(3), _gen(3, image_scale=2.0)
    sl_t, sl_i = a.modalities["text"], a.modalities["image"]
    assert torch.equal(a.x[:, sl_t], b.x[:, sl_t])
    assert torch.allclose(b.x[:, sl_i], 2 * a.x[:, sl_i], rtol=1e-5, atol=1e-6)
    assert torch.allclose(torch.linalg.vector_norm(b.x[:, sl_i], dim=1), torch.full((N,), 2.0), atol=1e-5)


def _nearest_centroid_accuracy(g: Graph, block: str) -> float:
    """Test accuracy of a nearest-class-mean (cosine) classifier fitted on the training nodes of one block."""
    x, y, tr, te = g.x[:, g.modalities[block]], g.y, g.data.train_mask, g.data.test_mask
    cents = torch.stack([x[tr & (y == c)].mean(0) for c in range(g.num_classes)])
    cents = cents / torch.linalg.vector_norm(cents, dim=1, keepdim=True)
    return float(((x[te] @ cents.T).argmax(1) == y[te]).double().mean())


def test_noise_tunes_each_modality_informativeness_on_its_own() -> None:
    sharp, blurred = _gen(4, text_noise=0.5, train_frac=0.3), _gen(4, text_noise=8.0, train_frac=0.3)
    # text_noise changes the text block only (same draws): the image block is bit-identical
    sl_i = sharp.modalities["image"]
    assert torch.equal(sharp.x[:, sl_i], blurred.x[:, sl_i])
    assert _nearest_centroid_accuracy(sharp, "text") > 0.95
    assert _nearest_centroid_accuracy(blurred, "text") < 0.6
    # both modalities carry class information on their own at the defaults (well above the 8-class chance
    # level), the image one less (cross-modal conflict on 30 % of the nodes)
    g = _gen(4, train_frac=0.3)
    text_acc, image_acc = _nearest_centroid_accuracy(g, "text"), _nearest_centroid_accuracy(g, "image")
    assert text_acc > 0.5 and image_acc > 0.4 and text_acc > image_acc


def test_undirected_no_self_loops_no_duplicates() -> None:
    g = _gen(1)
    src, dst = g.edge_index
    assert bool((src != dst).all())
    keys = src * N + dst
    assert torch.unique(keys).numel() == keys.numel()
    assert torch.equal(torch.sort(keys).values, torch.sort(dst * N + src).values)


def test_degree_close_to_target_and_few_isolated() -> None:
    for avg in (4.0, 10.0):
        g = _gen(0, avg_degree=avg)
        deg = _degrees(g).double()
        assert deg.mean().item() == pytest.approx(avg, rel=0.02)
        assert int((deg == 0).sum()) <= 0.01 * N


# --- determinism ---------------------------------------------------------------------------------------


def test_same_seed_identical_and_global_rng_untouched() -> None:
    state = torch.get_rng_state()
    a, b = _gen(7), _gen(7)
    assert torch.equal(torch.get_rng_state(), state)
    for key in ("x", "edge_index", "y", "train_mask", "val_mask", "test_mask", "conflict_mask"):
        assert torch.equal(getattr(a.data, key), getattr(b.data, key)), key
    assert a.sha == b.sha


def test_different_seed_differs() -> None:
    a, b = _gen(0), _gen(1)
    assert a.sha != b.sha
    assert not torch.equal(a.y, b.y)
    assert a.edge_index.shape != b.edge_index.shape or not torch.equal(a.edge_index, b.edge_index)
    assert not torch.equal(a.x, b.x)


# --- knobs ---------------------------------------------------------------------------------------------


def test_homophily_tracks_parameter() -> None:
    low, high = _edge_homophily(_gen(0, homophily=0.2)), _edge_homophily(_gen(0, homophily=0.9))
    assert low == pytest.approx(0.2, abs=0.02)
    assert high == pytest.approx(0.9, abs=0.02)
    assert high - low > 0.6
    assert _edge_homophily(_gen(0)) == pytest.approx(DEFAULTS["homophily"], abs=0.02)


def test_partner_frac_routes_heterophilous_edges() -> None:
    partner = partner_classes(8)
    assert partner.tolist() == [1, 0, 3, 2, 5, 4, 7, 6]
    assert partner_classes(5).tolist() == [1, 0, 3, 2, 3]

    def partner_share(g: Graph) -> float:
        src, dst = g.edge_index
        het = g.y[src] != g.y[dst]
        return float((partner[g.y[src[het]]] == g.y[dst[het]]).double().mean())

    assert partner_share(_gen(0, partner_frac=1.0)) == 1.0
    assert partner_share(_gen(0, partner_frac=0.0)) < 0.3
    assert partner_share(_gen(0, partner_frac=0.8)) > 0.75


def test_degree_exponent_changes_tail() -> None:
    heavy, light = _degrees(_gen(0, degree_exponent=2.2)).double(), _degrees(_gen(0, degree_exponent=4.0)).double()
    assert heavy.std() > 1.5 * light.std()
    top = N // 100  # share of edge endpoints on the top 1% of nodes
    assert heavy.sort(descending=True).values[:top].sum() / heavy.sum() > 1.5 * (
        light.sort(descending=True).values[:top].sum() / light.sum()
    )
    # the propensity cap bounds the hubs
    capped = _degrees(_gen(0, degree_exponent=2.2, max_propensity=5.0))
    assert capped.max() < heavy.max()


def test_class_imbalance() -> None:
    equal = torch.bincount(_gen(0, class_imbalance=0.0).y)
    assert int(equal.max() - equal.min()) <= 1
    sizes = torch.bincount(_gen(0).y)
    assert bool((sizes > 0).all()) and sizes.numel() == DEFAULTS["n_classes"]
    assert sizes.max() / sizes.min() > 2.0


def test_no_conflict() -> None:
    g = _gen(0, conflict_frac=0.0)
    assert not bool(g.data.conflict_mask.any())
    assert bool((g.data.conflict_class == -1).all())
    assert g.info["stats"]["conflict_nodes"] == 0


def test_conflict_image_points_to_another_class() -> None:
    g = _gen(0, conflict_frac=0.5, image_noise=0.5, text_noise=0.5)
    y, cm, other = g.y, g.data.conflict_mask, g.data.conflict_class
    assert int(cm.sum()) == N // 2
    assert bool((other[cm] != y[cm]).all()) and bool((other[cm] >= 0).all())
    assert bool((other[~cm] == -1).all())

    def nearest_centroid(block: torch.Tensor) -> torch.Tensor:
        cents = torch.stack([block[(y == c) & ~cm].mean(0) for c in range(g.num_classes)])
        return torch.cdist(block, cents).argmin(1)

    img = nearest_centroid(g.x[:, g.modalities["image"]])
    assert (img[cm] == other[cm]).double().mean() > 0.95  # image view: the other class
    assert (img[~cm] == y[~cm]).double().mean() > 0.95
    txt = nearest_centroid(g.x[:, g.modalities["text"]])
    assert (txt == y).double().mean() > 0.95  # text view: own class, for conflict nodes too


def test_conflict_strength_zero_keeps_own_class() -> None:
    g = _gen(0, conflict_frac=0.5, conflict_strength=0.0, image_noise=0.0)
    image = g.x[:, g.modalities["image"]]
    same_class = g.y == g.y[0]
    # without noise and strength 0, every node of a class has exactly its prototype
    assert torch.allclose(image[same_class], image[0].expand(int(same_class.sum()), -1))


def test_conflict_at_default_noise_is_visible() -> None:
    g = _gen(0, conflict_frac=0.5)
    y, cm, other = g.y, g.data.conflict_mask, g.data.conflict_class
    block = g.x[:, g.modalities["image"]]
    cents = torch.stack([block[(y == c) & ~cm].mean(0) for c in range(g.num_classes)])
    idx = cm.nonzero().view(-1)
    d = torch.cdist(block[idx], cents)
    closer = (d[torch.arange(idx.numel()), other[idx]] < d[torch.arange(idx.numel()), y[idx]]).double()
    assert closer.mean() > 0.55


# --- splits --------------------------------------------------------------------------------------------


def test_splits_disjoint_stratified_cover_every_class() -> None:
    g = _gen(2)
    tr, va, te = g.data.train_mask, g.data.val_mask, g.data.test_mask
    assert not bool((tr & va).any() or (tr & te).any() or (va & te).any())
    assert bool((tr | va | te).all())
    sizes = torch.bincount(g.y)
    for mask, frac in ((tr, DEFAULTS["train_frac"]), (va, DEFAULTS["val_frac"])):
        counts = torch.bincount(g.y[mask], minlength=sizes.numel())
        assert bool((counts >= 1).all())
        expected = torch.clamp(torch.round(sizes.double() * frac), min=1).long()
        assert torch.equal(counts, expected)
    assert bool((torch.bincount(g.y[te], minlength=sizes.numel()) >= 1).all())


def test_split_fractions_and_seeded() -> None:
    g = _gen(0, train_frac=0.3, val_frac=0.0)
    assert int(g.data.val_mask.sum()) == 0
    assert int(g.data.train_mask.sum()) == pytest.approx(0.3 * N, abs=8)
    assert not torch.equal(_gen(0).data.train_mask, _gen(1).data.train_mask)


def test_small_and_odd_configurations() -> None:
    g = synthetic_ecommerce(5, n_nodes=60, n_classes=5, avg_degree=1.5, text_dim=4, image_dim=3)
    assert g.num_nodes == 60 and g.num_classes == 5 and g.num_features == 7
    assert bool((g.edge_index[0] != g.edge_index[1]).all())
    g = synthetic_ecommerce(0, n_nodes=100, n_classes=2, homophily=1.0)
    assert _edge_homophily(g) == 1.0


# --- errors --------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("params", "name"),
    [
        ({"n_node": 100}, "n_node"),
        ({"n_nodes": -5}, "n_nodes"),
        ({"n_nodes": 2.5}, "n_nodes"),
        ({"n_nodes": "1000"}, "n_nodes"),
        ({"n_nodes": 10, "n_classes": 8}, "n_nodes"),
        ({"n_classes": 1}, "n_classes"),
        ({"homophily": 1.5}, "homophily"),
        ({"homophily": math.nan}, "homophily"),
        ({"partner_frac": -0.1}, "partner_frac"),
        ({"partner_similarity": 1.0}, "partner_similarity"),
        ({"avg_degree": 0}, "avg_degree"),
        ({"avg_degree": True}, "avg_degree"),
        ({"avg_degree": 600}, "avg_degree"),
        ({"degree_exponent": 1.0}, "degree_exponent"),
        ({"max_propensity": 0.5}, "max_propensity"),
        ({"class_imbalance": -1}, "class_imbalance"),
        ({"text_dim": 0}, "text_dim"),
        ({"image_scale": 0}, "image_scale"),
        ({"text_noise": -1}, "text_noise"),
        ({"conflict_frac": 1.2}, "conflict_frac"),
        ({"conflict_strength": -0.5}, "conflict_strength"),
        ({"train_frac": 0.0}, "train_frac"),
        ({"train_frac": 0.6, "val_frac": 0.5}, "val_frac"),
    ],
)
def test_bad_parameters_raise(params: dict, name: str) -> None:
    with pytest.raises(GCBenchError) as err:
        synthetic_ecommerce(0, **{"n_nodes": N, **params})
    msg = str(err.value)
    assert name in msg and "\n" not in msg


@pytest.mark.parametrize("seed", [-1, 1.5, "0", True])
def test_bad_seed_raises(seed) -> None:
    with pytest.raises(GCBenchError, match="seed"):
        synthetic_ecommerce(seed, n_nodes=N)
