import pytest
import torch

from gcbench.condensers.base import get_condenser
from gcbench.condensers.coresets import herding_order, kcenter_order
from gcbench.graph import Budget

CPU = torch.device("cpu")
FAST = {"embed_epochs": 30}


def test_herding_hand_made():
    # 1-d points 0,1,2,9,10 (mean 4.4): pick 2 (nearest the mean); then the point nearest 2*4.4-2=6.8 -> 9;
    # then nearest 3*4.4-11=2.2 -> 1
    emb = torch.tensor([[0.0], [1.0], [2.0], [9.0], [10.0]])
    assert herding_order(emb, 3).tolist() == [2, 3, 1]
    assert sorted(herding_order(emb, 5).tolist()) == [0, 1, 2, 3, 4]  # never picks a node twice


def test_kcenter_hand_made():
    # start at 2 (nearest the mean 4.4); farthest from {2} is 10; farthest from {2,10} is 0
    emb = torch.tensor([[0.0], [1.0], [2.0], [9.0], [10.0]])
    assert kcenter_order(emb, 3).tolist() == [2, 4, 0]


@pytest.mark.parametrize("name", ["random", "herding", "kcenter"])
def test_coreset_keeps_training_nodes_and_their_induced_subgraph(small_graph, name):
    """Budget, labels and determinism are checked for every method by gcbench.testing (test_contract)."""
    cls = get_condenser(name)
    method = cls(**(FAST if name != "random" else {}))
    budget = Budget.from_graph(small_graph, 0.25)
    cg = method.condense(small_graph, budget, seed=0, device=CPU)
    idx = torch.tensor(cg.meta["selected"])
    assert idx.unique().numel() == idx.numel() == budget.total
    assert small_graph.data.train_mask[idx].all()  # only training nodes
    assert torch.equal(cg.x, small_graph.x[idx]) and torch.equal(cg.y, small_graph.y[idx])
    # adjacency = the subgraph induced by the chosen nodes
    expected = torch.zeros(budget.total, budget.total)
    ei = small_graph.induced_subgraph(idx)
    expected[ei[0], ei[1]] = 1
    assert torch.equal(cg.adj, expected)


def test_random_depends_on_seed(small_graph):
    m = get_condenser("random")()
    b = Budget.from_graph(small_graph, 0.25)
    assert m.condense(small_graph, b, seed=0, device=CPU).meta["selected"] != \
        m.condense(small_graph, b, seed=1, device=CPU).meta["selected"]


def test_herding_and_kcenter_pick_by_their_rule(small_graph):
    """The selection equals the rule applied to the full-graph GCN embeddings, class by class."""
    budget = Budget.from_graph(small_graph, 0.25)
    for name, rule in (("herding", herding_order), ("kcenter", kcenter_order)):
        m = get_condenser(name)(**FAST)
        emb, _ = m.embeddings(small_graph, 0, CPU)
        picked = torch.tensor(m.condense(small_graph, budget, seed=0, device=CPU).meta["selected"])
        tr = small_graph.train_idx
        start = 0
        for c, k in enumerate(budget.per_class):
            members = tr[small_graph.y[tr] == c]
            assert picked[start:start + k].tolist() == members[rule(emb[members], k)].tolist()
            start += k


def test_whole_is_the_training_graph(small_graph):
    cg = get_condenser("whole")().condense(small_graph, Budget.from_graph(small_graph, 1.0), seed=0, device=CPU)
    assert cg.num_nodes == small_graph.num_nodes and cg.num_edges == small_graph.num_edges
    assert torch.equal(cg.train_mask, small_graph.data.train_mask)


def test_reused_embedding_time_is_reported(small_graph):
    g = small_graph.__class__(name="copy", data=small_graph.data, modalities=small_graph.modalities)
    b = Budget.from_graph(g, 0.25)
    first = get_condenser("herding")(**FAST).condense(g, b, seed=5, device=CPU)
    second = get_condenser("kcenter")(**FAST).condense(g, b, seed=5, device=CPU)
    assert first.meta["reused_s"] == 0.0 and second.meta["reused_s"] > 0.0
