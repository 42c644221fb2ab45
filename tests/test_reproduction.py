"""Slow checks against published numbers on real data (GCond Table 2, Cora, GCN evaluation).

One seed each, so the bands are wider than the 10-seed targets in benchmarks/coreset_table.py.
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
