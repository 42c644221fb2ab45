"""benchmarks/condensed_structure.py: class homophily of saved condensed graphs, and scores without their edges."""

from __future__ import annotations

import math

import pandas as pd
import pytest
import torch

from gcbench.graph import CondensedGraph


@pytest.fixture(scope="module")
def cs(benchmark_script):
    return benchmark_script("condensed_structure")


def test_homophily_is_weighted_and_thresholded(cs):
    y = torch.tensor([0, 0, 1, 1])
    adj = torch.zeros(4, 4)
    adj[0, 1] = adj[1, 0] = 0.9  # same class, heavy
    adj[0, 2] = adj[2, 0] = 0.3  # different classes, light
    adj[3, 3] = 1.0  # a self-loop is not an edge
    cg = CondensedGraph(x=torch.randn(4, 3), y=y, adj=adj)
    n, h = cs.homophily(cg)
    assert n == 4 and h == pytest.approx(1.8 / 2.4)
    n, h = cs.homophily(cg, threshold=0.5)
    assert n == 2 and h == pytest.approx(1.0)
    assert cs.homophily(cg, threshold=0.95) == (0, pytest.approx(math.nan, nan_ok=True))
    # two classes of two nodes: 2 * 2 * 1 same-class ordered pairs out of 4 * 3
    assert cs.chance_homophily(y) == pytest.approx(4 / 12)


def test_kept_is_the_stored_row_and_removed_is_evaluated(cs, saved_graphs_run, tmp_path, capsys):
    out, ds = saved_graphs_run.out, saved_graphs_run.dataset  # random, seeds 0 and 1
    report = tmp_path / "structure.md"
    assert cs.main([str(out), "random", ds, "0.5", "--archs", "gcn,gat", "--eval", saved_graphs_run.eval,
                    "--out", str(report)]) == 0
    text = report.read_text()
    assert text == capsys.readouterr().out
    assert "gcn removed - kept" in text and "edges >= 0.5" in text  # the reference GAT's threshold
    assert text.count("removing the structure changes the test score by") == 2
    lines = [line.strip("|").split("|") for line in text.splitlines() if line.startswith("| ")]
    header = [c.strip() for c in lines[0]]
    table = {cells[0].strip(): dict(zip(header, (c.strip() for c in cells))) for cells in lines[1:]}
    assert set(table) == {"0", "1", "mean"}
    stored = pd.read_csv(out / "results.csv").set_index(["arch", "seed"])["test_score"]
    for seed in (0, 1):
        assert float(table[str(seed)]["gcn kept"]) == pytest.approx(100 * stored[("gcn", seed)], abs=0.06)
        assert int(table[str(seed)]["edges"]) > 0  # the coreset keeps its induced edges, so removing it is a change
