"""Training-free condensers: CGC, CGC-X (Gao et al., WWW 2025) and the kmeans-agg floor."""

import numpy as np
import pytest
import torch
from torch_geometric.data import Data

from gcbench.condensers.base import get_condenser, list_condensers
from gcbench.condensers.training_free import (
    closed_form_features,
    per_class_f1,
    poly_features,
    propagate,
    spectral_embedding,
    threshold_adjacency,
)
from gcbench.graph import Budget, Graph

CPU = torch.device("cpu")
METHODS = ("kmeans-agg", "cgc-x", "cgc")


def dense_sym_adj(graph: Graph) -> torch.Tensor:
    n = graph.num_nodes
    a = torch.zeros(n, n, dtype=torch.float64)
    a[graph.edge_index[0], graph.edge_index[1]] = 1.0
    a = a + torch.eye(n, dtype=torch.float64)
    d = a.sum(1).pow(-0.5)
    return d[:, None] * a * d[None, :]


def one_per_class(graph: Graph) -> Budget:
    return Budget(ratio=0.05, per_class=(1,) * graph.num_classes)


def test_registered():
    names = list_condensers()
    for name in METHODS:
        assert name in names and names[name].description


def test_propagation_matches_dense(small_graph):
    hs = propagate(small_graph.x, small_graph.edge_index, 3)
    a = dense_sym_adj(small_graph)
    ref = small_graph.x.double()
    for k in range(4):
        torch.testing.assert_close(hs[k].double(), ref, rtol=1e-4, atol=1e-4)
        ref = a @ ref


def test_kmeans_agg_one_cluster_is_class_mean_of_sgc_features(small_graph):
    cg = get_condenser("kmeans-agg")().condense(small_graph, one_per_class(small_graph), seed=0, device=CPU)
    h2 = dense_sym_adj(small_graph) @ dense_sym_adj(small_graph) @ small_graph.x.double()
    tr = small_graph.train_idx
    y = small_graph.y[tr]
    expected = torch.stack([h2[tr[y == c]].mean(0) for c in range(small_graph.num_classes)]).float()
    torch.testing.assert_close(cg.x, expected, rtol=1e-4, atol=1e-4)
    assert cg.adj is None and cg.y.tolist() == list(range(small_graph.num_classes))


def test_cgc_x_one_cluster_flat_confidence_is_class_mean(small_graph):
    """With one cluster per class, no augmentation and a flat confidence softmax, CGC-X = class mean of Â²X."""
    m = get_condenser("cgc-x")(aug_ratio=0.0, tau=1e9)
    cg = m.condense(small_graph, one_per_class(small_graph), seed=0, device=CPU)
    h2 = dense_sym_adj(small_graph) @ dense_sym_adj(small_graph) @ small_graph.x.double()
    tr = small_graph.train_idx
    y = small_graph.y[tr]
    expected = torch.stack([h2[tr[y == c]].mean(0) for c in range(small_graph.num_classes)]).float()
    torch.testing.assert_close(cg.x, expected, rtol=1e-4, atol=1e-4)


def test_kmeans_agg_clusters_partition_training_rows(small_graph):
    """Each centroid is the mean of a group of the class's rows, and the groups cover the class."""
    budget = Budget.from_graph(small_graph, 0.25)
    cg = get_condenser("kmeans-agg")().condense(small_graph, budget, seed=0, device=CPU)
    h2 = (dense_sym_adj(small_graph) @ dense_sym_adj(small_graph) @ small_graph.x.double()).float()
    tr = small_graph.train_idx
    y = small_graph.y[tr]
    for c in range(small_graph.num_classes):
        rows, cent = h2[tr[y == c]], cg.x[cg.y == c]
        nearest = torch.cdist(rows, cent).argmin(1)  # Lloyd's fixed point: members are nearest their centroid
        means = torch.stack([rows[nearest == j].mean(0) for j in range(cent.size(0))])
        torch.testing.assert_close(means, cent, rtol=1e-3, atol=1e-3)


@pytest.mark.parametrize("name", METHODS)
@pytest.mark.parametrize("ratio", [0.1, 0.5, 1.0])
def test_budget_and_determinism(small_graph, name, ratio):
    budget = Budget.from_graph(small_graph, ratio)
    m = get_condenser(name)()
    torch_state, np_state = torch.get_rng_state(), np.random.get_state()
    cg = m.condense(small_graph, budget, seed=3, device=CPU)
    assert torch.equal(torch.get_rng_state(), torch_state)  # the global RNGs are not touched
    assert all(np.array_equal(a, b) for a, b in zip(np.random.get_state()[1:2], np_state[1:2]))
    assert torch.bincount(cg.y, minlength=small_graph.num_classes).tolist() == list(budget.per_class)
    assert cg.x.shape == (budget.total, small_graph.num_features) and cg.is_finite()
    again = m.condense(small_graph, budget, seed=3, device=CPU)
    assert torch.equal(cg.x, again.x)
    assert (cg.adj is None and again.adj is None) or torch.equal(cg.adj, again.adj)
    if cg.adj is not None:  # binary, symmetric, no self-loops
        assert torch.equal(cg.adj, cg.adj.T) and bool(((cg.adj == 0) | (cg.adj == 1)).all())
        assert bool((cg.adj.diagonal() == 0).all())


@pytest.mark.parametrize("name", ["kmeans-agg", "cgc-x"])
def test_seed_changes_partition(small_graph, name):
    budget = Budget.from_graph(small_graph, 0.25)
    m = get_condenser(name)()
    a = m.condense(small_graph, budget, seed=0, device=CPU).x
    b = m.condense(small_graph, budget, seed=1, device=CPU).x
    assert not torch.equal(a, b)


@pytest.mark.parametrize("name", METHODS)
def test_reads_no_validation_or_test_label(small_graph, name):
    d = small_graph.data
    y = d.y.clone()
    hidden = d.val_mask | d.test_mask
    y[hidden] = (y[hidden] + 1) % small_graph.num_classes
    other = Graph(name="shuffled", data=Data(x=d.x, edge_index=d.edge_index, y=y, train_mask=d.train_mask,
                                             val_mask=d.val_mask, test_mask=d.test_mask))
    budget = Budget.from_graph(small_graph, 0.25)
    m = get_condenser(name)()
    a = m.condense(small_graph, budget, seed=0, device=CPU)
    b = m.condense(other, budget, seed=0, device=CPU)
    assert torch.equal(a.x, b.x)


def test_propagation_is_reused_from_the_cache(small_graph):
    budget = Budget.from_graph(small_graph, 0.25)
    small_graph.cache.pop(("training_free.propagate", 2, "sym"), None)
    first = get_condenser("kmeans-agg")().condense(small_graph, budget, seed=0, device=CPU)
    second = get_condenser("cgc-x")().condense(small_graph, budget, seed=0, device=CPU)
    assert first.meta["reused_s"] == 0.0 and second.meta["reused_s"] > 0.0


def test_poly_features_give_the_polynomial_kernel():
    u = torch.randn(9, 4, dtype=torch.float64, generator=torch.Generator().manual_seed(0))
    z = poly_features(u, 0.5)
    torch.testing.assert_close(z @ z.T, (u @ u.T + 0.5) ** 2)


@pytest.mark.parametrize("n,k", [(40, 2), (12, 5)])  # n > m = (k+1)(k+2)/2: feature Gram; n <= m: affinity
def test_spectral_embedding_spans_the_normalised_affinity_eigenvectors(n, k):
    h = torch.randn(n, 7, dtype=torch.float64, generator=torch.Generator().manual_seed(1))
    q = spectral_embedding(h, k)
    hc = h - h.mean(0)
    u = torch.linalg.svd(hc, full_matrices=False)[0][:, :k]
    kern = (u @ u.T + 2 ** -0.5) ** 2
    d = kern.sum(1).pow(-0.5)
    vecs = torch.linalg.eigh(d[:, None] * kern * d[None, :])[1].flip(1)[:, 1:k + 1]
    torch.testing.assert_close(q @ q.T, vecs @ vecs.T, rtol=1e-6, atol=1e-6)


def test_closed_form_solves_its_normal_equations():
    g = torch.Generator().manual_seed(2)
    h = torch.randn(10, 6, dtype=torch.float64, generator=g)
    h[5:] += 3.0  # two groups: some pairs above the threshold
    a = threshold_adjacency(h, 0.5)
    assert torch.equal(a, a.T) and bool((a.diagonal() == 0).all()) and a.sum() > 0
    x = closed_form_features(a, h, alpha=2.0, power=3)
    at = a + torch.eye(10, dtype=torch.float64)
    dt = at.sum(1).pow(-0.5)
    s = torch.linalg.matrix_power(dt[:, None] * at * dt[None, :], 3)
    deg = a.sum(1)
    di = (deg + 1e-10).pow(-0.5)
    lap = di[:, None] * (torch.diag(deg) - a) * di[None, :]
    torch.testing.assert_close((s @ s.T + lap) @ x, 2.0 * s.T @ h)


def test_per_class_f1_matches_sklearn():
    from sklearn.metrics import f1_score

    g = torch.Generator().manual_seed(0)
    y = torch.randint(0, 4, (50,), generator=g)
    pred = torch.randint(0, 5, (50,), generator=g)  # class 4 is never a label
    ours = per_class_f1(pred, y, 5)
    ref = f1_score(y.numpy(), pred.numpy(), labels=list(range(5)), average=None, zero_division=0)
    torch.testing.assert_close(ours, torch.tensor(ref, dtype=torch.float64))


def test_per_ratio_options_pick_the_nearest_ratio(small_graph):
    budget = Budget.from_graph(small_graph, 0.5)
    m = get_condenser("cgc-x")(aug_ratio={0.25: 0.0, 1.0: 1.0})
    assert m.condense(small_graph, budget, seed=0, device=CPU).meta["augmented"] == 0  # ties: smaller ratio
    assert m._opt("aug_ratio", 0.9) == 1.0 and m._opt("tau", 0.5) == 10.0  # None: the reference default


@pytest.mark.slow
def test_cgc_beats_random_on_cora(cora):
    from gcbench.evaluate import evaluate

    budget = Budget.from_graph(cora, 0.25)
    scores = {}
    for name in ("random", "cgc-x", "cgc", "kmeans-agg"):
        cg = get_condenser(name)().condense(cora, budget, seed=0, device=CPU)
        scores[name] = evaluate(cg, cora, "gcn", seed=0)["test_score"]
    assert scores["cgc-x"] > scores["random"] + 0.05, scores
    assert scores["cgc"] > scores["random"] + 0.05, scores
    assert scores["kmeans-agg"] > scores["random"] + 0.05, scores
