import math

import pytest
import torch
from torch_geometric.data import Data

from gcbench.errors import GCBenchError
from gcbench.graph import Budget, CondensedGraph, Graph, make_undirected


def test_budget_cora_convention():
    counts = [20] * 7  # Cora's public split
    assert Budget.from_counts(counts, 0.25).per_class == (5,) * 7
    assert Budget.from_counts(counts, 0.5).total == 70
    assert Budget.from_counts(counts, 1.0).per_class == tuple(counts)


def test_budget_largest_remainder_and_min_one():
    # exact shares 5, 2.5, 0.5 -> floor 5,2,0 (+1 to class 1 by remainder, tie to the smaller id)
    # -> [5,3,0] -> class 2 gets its one node from the largest class -> [4,3,1]
    b = Budget.from_counts([10, 5, 1], 0.5)
    assert b.per_class == (4, 3, 1)
    assert b.total == 8
    assert b.labels().tolist() == [0] * 4 + [1] * 3 + [2]


def test_budget_skips_classes_without_training_nodes():
    b = Budget.from_counts([10, 0, 10], 0.2)
    assert b.per_class == (2, 0, 2)


@pytest.mark.parametrize("ratio", [0, -0.1, 1.5, float("nan"), "half", True])
def test_budget_rejects_impossible_ratio(ratio):
    with pytest.raises(GCBenchError, match="ratio"):
        Budget.from_counts([20] * 7, ratio)


def test_budget_smaller_than_class_count():
    with pytest.raises(GCBenchError, match="fewer than the 7 classes"):
        Budget.from_counts([20] * 7, 0.02)


def test_budget_never_exceeds_class_counts():
    counts = [1, 1, 1, 50]
    for r in (0.08, 0.1, 0.3, 0.77, 1.0):
        b = Budget.from_counts(counts, r)
        assert all(a <= c for a, c in zip(b.per_class, counts))
        assert b.total == math.floor(r * sum(counts) + 0.5)


def _tiny_data(n=6):
    ei = make_undirected(torch.tensor([[0, 1, 2, 3, 4], [1, 2, 3, 4, 5]]), n)
    mask = lambda idx: torch.zeros(n, dtype=torch.bool).index_fill_(0, torch.tensor(idx), True)
    return Data(x=torch.randn(n, 4), edge_index=ei, y=torch.tensor([0, 1, 0, 1, 0, 1]),
                train_mask=mask([0, 1]), val_mask=mask([2, 3]), test_mask=mask([4, 5]))


def test_graph_basics_and_validation():
    g = Graph("tiny", _tiny_data(), modalities={"a": slice(0, 2), "b": slice(2, 4)})
    assert g.num_edges == 5 and g.num_classes == 2 and g.train_idx.tolist() == [0, 1]
    assert g.train_class_counts().tolist() == [1, 1]
    assert g.induced_subgraph(torch.tensor([1, 2, 3])).tolist() == [[0, 1, 1, 2], [1, 0, 2, 1]]
    with pytest.raises(GCBenchError, match="overlap"):
        Graph("tiny", _tiny_data(), modalities={"a": slice(0, 3), "b": slice(2, 4)})
    with pytest.raises(GCBenchError, match="outside"):
        Graph("tiny", _tiny_data(), modalities={"a": slice(0, 5)})
    d = _tiny_data()
    d.edge_index = torch.tensor([[0], [9]])
    with pytest.raises(GCBenchError, match="outside"):
        Graph("tiny", d)


def test_graph_checksum_tracks_content():
    d = _tiny_data()
    a, b = Graph("t", d), Graph("t", d.clone())
    assert a.sha == b.sha
    d2 = d.clone()
    d2.x[0, 0] += 1
    assert Graph("t", d2).sha != a.sha


def test_inductive_training_view_is_the_train_subgraph():
    g = Graph("tiny", _tiny_data(), setting="inductive")
    x, ei, y, idx = g.training_view()
    assert x.shape[0] == 2 and ei.tolist() == [[0, 1], [1, 0]] and idx.tolist() == [0, 1]


def test_condensed_graph_edges_and_state():
    adj = torch.tensor([[1.0, 0.5, 0.0], [0.5, 0.0, 0.0], [0.0, 0.0, 0.0]])
    cg = CondensedGraph(x=torch.randn(3, 4), y=torch.tensor([0, 1, 1]), adj=adj)
    ei, w = cg.edges()
    assert ei.tolist() == [[0, 1], [1, 0]] and w.tolist() == [0.5, 0.5]  # diagonal dropped
    assert cg.num_edges == 1
    free = CondensedGraph(x=torch.randn(3, 4), y=torch.tensor([0, 1, 1]), adj=None)
    assert free.edges()[0].shape == (2, 0) and free.num_edges == 0
    back = CondensedGraph.from_state(cg.state())
    assert torch.equal(back.adj, adj) and back.modalities == cg.modalities
    cg.x[0, 0] = float("nan")
    assert not cg.is_finite()
    with pytest.raises(ValueError):
        CondensedGraph(x=torch.randn(3, 4), y=torch.tensor([0, 1]), adj=None)


def test_dense_edges_are_differentiable_in_the_adjacency():
    adj = torch.full((4, 4), 0.5, requires_grad=True)
    cg = CondensedGraph(x=torch.randn(4, 3), y=torch.tensor([0, 1, 0, 1]), adj=adj)
    _, w = cg.edges()
    w.sum().backward()
    assert adj.grad is not None and adj.grad.sum() == 12  # off-diagonal entries


def test_pickled_graph_leaves_its_per_process_memo_behind(small_graph):
    import pickle

    small_graph.cache["probe"] = torch.zeros(3)
    try:
        copy = pickle.loads(pickle.dumps(small_graph))
    finally:
        del small_graph.cache["probe"]
    assert copy.cache == {} and copy.sha == small_graph.sha and copy.name == small_graph.name
    assert torch.equal(copy.x, small_graph.x)
