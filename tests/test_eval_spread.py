"""benchmarks/eval_spread.py: saved condensed graphs re-evaluated with several evaluation seeds."""

from __future__ import annotations

import pandas as pd
import pytest


@pytest.fixture(scope="module")
def es(benchmark_script):
    return benchmark_script("eval_spread")


def test_variance_split_separates_graph_and_evaluation_noise(es):
    # graph means 2 and 6, evaluation deviations +-1: MS_between = 2 * var([2, 6]) = 16, MS_within = 2,
    # between-graph component (16 - 2) / 2 = 7
    between, within = es.variance_split(pd.DataFrame([[1.0, 3.0], [5.0, 7.0]]))
    assert between == pytest.approx(7.0) and within == pytest.approx(2.0)
    # identical graphs: all of the spread is the evaluation's, and the component is clamped at zero
    between, within = es.variance_split(pd.DataFrame([[1.0, 3.0], [3.0, 1.0]]))
    assert between == 0.0 and within == pytest.approx(2.0)


def test_the_diagonal_reproduces_the_stored_rows(es, saved_graphs_run, tmp_path, capsys):
    out, ds = saved_graphs_run.out, saved_graphs_run.dataset  # random, seeds 0 and 1
    report = tmp_path / "spread.md"
    assert es.main([str(out), "random", ds, "0.5", "--archs", "gcn,sgc", "--eval-seeds", "0-2",
                    "--eval", saved_graphs_run.eval, "--out", str(report)]) == 0
    text = report.read_text()
    assert text == capsys.readouterr().out
    assert text.count("largest difference 0.00 points (2 rows)") == 2  # same seed on CPU: the same score
    assert "| 0 | " in text and "| 1 | " in text and "eval 2" in text
    # without the rows' overrides the protocol differs, and the check says so
    assert es.main([str(out), "random", ds, "0.5", "--archs", "gcn", "--eval-seeds", "0,1"]) == 0
    assert "largest difference 0.00 points" not in capsys.readouterr().out


def test_refuses_a_cell_without_saved_graphs(es, tmp_path):
    (tmp_path / "condensed").mkdir()
    with pytest.raises(SystemExit, match="no saved graph"):
        es.main([str(tmp_path), "gcond", "cora", "0.5"])
