"""Slow checks against published numbers on real data (GCond Table 2, Cora, GCN evaluation).

One seed each, so the bands are wider than the 10-seed targets in benchmarks/reproduce_table.py.
"""

import pytest
import torch

from gcbench.condensers.base import get_condenser
from gcbench.evaluate import evaluate
from gcbench.graph import Budget

pytestmark = pytest.mark.slow
CPU = torch.device("cpu")


def test_whole_graph_gcn_on_cora_near_81(cora):
    cg = get_condenser("whole")().condense(cora, Budget.from_graph(cora, 1.0), seed=0, device=CPU)
    assert 0.795 <= evaluate(cg, cora, "gcn", seed=0)["test_score"] <= 0.835  # published 81.2


@pytest.mark.parametrize("name,ratio,published", [("random", 0.5, 0.728), ("herding", 0.5, 0.734)])
def test_coresets_on_cora_near_published(cora, name, ratio, published):
    cg = get_condenser(name)().condense(cora, Budget.from_graph(cora, ratio), seed=0, device=CPU)
    assert abs(evaluate(cg, cora, "gcn", seed=0)["test_score"] - published) <= 0.04


def test_short_gcond_on_cora_far_above_random(cora):
    # 100 of the 600 default epochs at r=0.25 (35 nodes): GCond's Table 2 has 79.8 (random coreset 63.6);
    # the full 10-seed comparison is in docs/results.md. Selection on validation at epochs 50 and 100.
    from gcbench.condensers.base import MethodSpec

    method = MethodSpec("gcond:epochs=100:val_every=50").build("cora")
    cg = method.condense(cora, Budget.from_graph(cora, 0.25), seed=0, device=CPU)
    assert cg.num_nodes == 35 and cg.num_edges > 0
    assert evaluate(cg, cora, "gcn", seed=0)["test_score"] >= 0.76
