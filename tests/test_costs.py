"""What each cell cost and made (gcbench.report.costs): costs.md of a leaderboard folder, generated from the
rows so the documents quote it instead of typing seconds, edge counts and memory."""

from __future__ import annotations

import pandas as pd

from gcbench.report.costs import costs_markdown, costs_table
from gcbench.report.folder import report_files
from gcbench.results import COLUMNS


def _row(method, ratio, arch, seed, *, condense_s=10.0, eval_s=2.0, edges=5, epochs="", peak=500.0,
         status="ok", timestamp="2026-12-06T00:00:00"):
    r = {c: "" for c in COLUMNS}
    r.update(method=method, dataset="cora", ratio=ratio, arch=arch, seed=seed, test_score=0.8, val_score=0.8,
             status=status, metric="accuracy", n_syn_nodes=70 if method != "whole" else 2708, n_nodes=2708,
             n_syn_edges=edges, config_hash="h", condense_s=condense_s, eval_s=eval_s, peak_mem_mb=peak,
             condense_epochs=epochs, timestamp=timestamp)
    return r


def _frame():
    return pd.DataFrame([
        # gcond: 3 seeds x 2 architectures; the condensation is one per seed, shared by its architectures
        _row("gcond", 0.5, "gcn", 0, condense_s=100.0, eval_s=4.0, edges=2000, epochs=600),
        _row("gcond", 0.5, "gat", 0, condense_s=100.0, eval_s=40.0, edges=2000, epochs=600),
        _row("gcond", 0.5, "gcn", 1, condense_s=300.0, eval_s=6.0, edges=2100, epochs=400, peak=900.0),
        _row("gcond", 0.5, "gat", 1, condense_s=300.0, eval_s=60.0, edges=2100, epochs=400),
        _row("gcond", 0.5, "gcn", 2, condense_s=200.0, eval_s=5.0, edges=1900, epochs=500),
        _row("gcond", 0.5, "gat", 2, condense_s=200.0, eval_s=50.0, edges=1900, epochs=500),
        # a failed row is no cost figure
        _row("gcond", 0.5, "gcn", 3, condense_s=9999.0, status="failed"),
        # seed 0 of random was run twice: the later row counts
        _row("random", 0.5, "gcn", 0, condense_s=0.5, timestamp="2026-12-01T00:00:00"),
        _row("random", 0.5, "gcn", 0, condense_s=0.01, timestamp="2026-12-05T00:00:00"),
        _row("whole", "", "gcn", 0, condense_s=0.0, eval_s=20.0, edges=5278),
    ])


def test_costs_table_per_graph_and_per_row():
    t = costs_table(_frame())
    assert list(zip(t["method"], t["ratio"])) == [("gcond", "0.5"), ("random", "0.5"), ("whole", "full graph")]
    g = t.iloc[0]
    assert g["graphs"] == 3 and g["rows"] == 6
    assert sorted(g["condense_s"]) == [100.0, 200.0, 300.0]  # one per graph, the failed row left out
    assert sorted(g["eval_s"]) == [4.0, 5.0, 6.0, 40.0, 50.0, 60.0]
    assert g["peak_mb"] == 900.0 and g["eval_by_arch"] == {"gat": 50.0, "gcn": 5.0}
    assert t.iloc[1]["condense_s"] == [0.01] and t.iloc[2]["condense_s"] == []


def test_costs_markdown_shows_median_and_range():
    md = costs_markdown(costs_table(_frame()))
    assert "### cora" in md
    assert ("| gcond | 0.5 | 3 | 200 [100-300] | 500 [400-600] | 23.0 [4.0-60.0] | 900 | 70 | 2,000 [1,900-2,100] |"
            in md)
    assert "| whole | full graph | 1 | - | - | 20.0 | 500 | 2,708 | 5,278 |" in md
    assert "evaluation seconds per row by architecture" in md and "| gcond | 0.5 | 5.0 | 50.0 |" in md
    one_arch = _frame()
    one_arch = one_arch[one_arch["arch"] == "gcn"]
    assert "by architecture" not in costs_markdown(costs_table(one_arch))
    assert costs_markdown(costs_table(_frame().iloc[6:7])) is None  # only a failed row


def test_epochs_column_only_where_rows_record_it():
    df = _frame()
    df["condense_epochs"] = ""
    md = costs_markdown(costs_table(df))
    assert "| epochs run |" not in md and "| gcond | 0.5 | 3 | 200 [100-300] | 23.0 [4.0-60.0] |" in md


def test_folder_report_writes_costs_and_links_it():
    files = report_files(_frame())
    assert "costs.md" in files and "[costs.md](costs.md)" in files["README.md"]
