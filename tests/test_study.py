"""The SR-GM study report on hand-made rows, and the study suites themselves."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from gcbench.errors import GCBenchError
from gcbench.report.study import QUESTIONS, _ok_rows, answers, by_dataset, edges, report, summary, variant
from gcbench.results import COLUMNS
from gcbench.suite import load_suite

REPO = Path(__file__).resolve().parents[1]
SYN = "synthetic-ecommerce:image_dim=128:n_nodes=1000"


def row(method, seed, score, *, ratio=0.5, arch="gcn", dataset=SYN, edges=10, status="ok"):
    return {"method": method, "dataset": dataset, "ratio": "" if method == "whole" else ratio,
            "n_syn_nodes": 50, "n_syn_edges": edges, "n_nodes": 1000, "arch": arch, "seed": seed,
            "val_score": 0.5, "test_score": score if status == "ok" else "", "metric": "accuracy",
            "condense_s": 1.0, "eval_s": 1.0, "peak_mem_mb": 1.0, "config_hash": "h", "dataset_sha": "s",
            "device": "cpu", "versions": "v", "status": status, "error": "", "timestamp": "t"}


def frame(rows):
    return pd.DataFrame(rows, columns=COLUMNS)


def test_variant_drops_budget_options_only():
    assert variant("srgm:epochs=100:lambda=0:val_every=50") == "srgm:lambda=0"
    assert variant("sfgc:iterations=200") == "sfgc"
    assert variant("srgm-plus:damping_norm=none:epochs=100") == "srgm-plus:damping_norm=none"


def test_paired_verdicts_and_counts():
    # srgm is 2 points above gcond at every seed, plus seed noise both share: paired, that is "better"
    # even though the unpaired spread of either method (±5 points) is wider than the gap
    noise = [0.0, 5.0, -5.0, 3.0, -3.0]
    rows = []
    for s, e in enumerate(noise):
        rows += [row("srgm:epochs=100", s, (70 + e + 2) / 100, edges=300),
                 row("gcond:epochs=100", s, (70 + e) / 100, edges=100),
                 row("srgm:epochs=100:lambda=0", s, (70 + e + 2 + (1 if s % 2 else -1)) / 100),
                 row("random", s, 0.5), row("herding", s, 0.6), row("whole", s, 0.8)]
    rows.append(row("srgm:epochs=100", 9, 0.1, status="failed"))  # failed rows are left out
    ans = answers(_ok_rows(frame(rows)))
    got = {r.question: r for r in ans.itertuples()}
    beat = got["SR-GM beats GCond"]
    assert beat.diff == pytest.approx(2.0) and beat.n == 5 and beat.verdict == "better"
    assert got["damping (with its decoupling) helps SR-GM"].verdict == "no difference shown"
    coreset = got["SR-GM beats the best coreset"]  # herding (60) is the best coreset here
    assert coreset.diff == pytest.approx(72 - 60, abs=1e-6) and coreset.verdict == "better"
    assert "SR-GM beats SFGC" not in got  # no sfgc rows: no answer, not a made-up one
    summ = summary(ans).set_index("question")
    assert summ.loc["SR-GM beats GCond", "better"] == 1 and summ.loc["SR-GM beats GCond", "cells"] == 1
    per = by_dataset(ans)
    assert per.loc["SR-GM beats GCond", SYN] == "+2.0: 1 / 0 / 0"
    text = report(frame(rows), title="t")
    assert "| SR-GM beats GCond | +2.0: 1 / 0 / 0 |" in text
    assert "| SR-GM beats GCond | 1 | 1 | 0 | 0 | +2.0 |" in text
    assert "## Scores, gcn" in text and "72.0 ± " in text and "(5)" in text
    e = edges(_ok_rows(frame(rows)))
    assert e.loc["srgm", f"{SYN} @ r=0.5"] == "300 / 1225" and e.loc["gcond", f"{SYN} @ r=0.5"] == "100 / 1225"


def test_report_errors():
    with pytest.raises(GCBenchError, match="no ok rows"):
        report(frame([row("srgm", 0, None, status="failed")]))
    clash = [row("srgm:epochs=100", 0, 0.7), row("srgm:epochs=200", 0, 0.7)]
    with pytest.raises(GCBenchError, match="several budgets"):
        report(frame(clash))


def test_study_script_reports_a_folder(tmp_path, capsys):
    import importlib.util

    spec = importlib.util.spec_from_file_location("srgm_study", REPO / "benchmarks" / "srgm_study.py")
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    rows = [row(m, s, 0.6 + 0.01 * s) for m in ("srgm", "gcond") for s in range(3)]
    frame(rows).to_csv(tmp_path / "results.csv", index=False)
    assert mod.main([str(tmp_path)]) == 0
    assert "SR-GM beats GCond" in (tmp_path / "study.md").read_text()
    assert mod.main([str(tmp_path / "missing")]) == 2
    assert "results" in capsys.readouterr().err


STUDY_SUITES = sorted((REPO / "leaderboards" / "suites").glob("srgm-study*.yaml"))


@pytest.mark.parametrize("path", STUDY_SUITES, ids=lambda p: p.stem)
def test_every_study_suite_has_the_study_design(path):
    suite = load_suite(path)
    suite.validate()
    assert all(len(g.seeds) >= 5 and {"gcn", "sage", "mlp"} <= set(g.archs) for g in suite.grids)
    assert all("image_dim=128" in d for g in suite.grids for d in g.datasets)  # SR-GM's equal-width blocks
    assert any(variant(m) == "srgm" for g in suite.grids for m in g.methods)
    # one budget per variant, or the report refuses the rows
    labels = {m for g in suite.grids for m in g.methods}
    assert len({variant(m) for m in labels}) == len(labels)


@pytest.mark.parametrize("name", ["srgm-study", "srgm-study-small"])
def test_study_suites_answer_every_question(name):
    assert REPO / "leaderboards" / "suites" / f"{name}.yaml" in STUDY_SUITES  # and so has the design above
    suite = load_suite(REPO / "leaderboards" / "suites" / f"{name}.yaml")
    variants = {variant(m) for g in suite.grids for m in g.methods}
    for q in QUESTIONS:  # every question has both sides in the suite
        for side in (q.a, q.b):
            assert side == "best coreset" or side in variants, (q.text, side)
    assert all(len(g.ratios) == 2 for g in suite.grids)
    levels = {d for g in suite.grids for d in g.datasets if d.startswith("synthetic-ecommerce")}
    assert len(levels) == 3


def test_verdicts_per_dataset_keep_levels_apart():
    # SR-GM 2 points above GCond at conflict level 0.6 and 3 below at level 0: the per-dataset table must
    # not blur them into one mean (the overall count says 1 better, 1 worse)
    low, high = f"{SYN}:conflict_frac=0.0", f"{SYN}:conflict_frac=0.6"
    noise = [0.0, 4.0, -4.0, 2.0, -2.0]
    rows = []
    for s, e in enumerate(noise):
        rows += [row("srgm", s, (60 + e + 2) / 100, dataset=high), row("gcond", s, (60 + e) / 100, dataset=high),
                 row("srgm", s, (70 + e - 3) / 100, dataset=low), row("gcond", s, (70 + e) / 100, dataset=low)]
    ans = answers(_ok_rows(frame(rows)))
    per = by_dataset(ans)
    assert per.loc["SR-GM beats GCond", high] == "+2.0: 1 / 0 / 0"
    assert per.loc["SR-GM beats GCond", low] == "-3.0: 0 / 1 / 0"
    summ = summary(ans).set_index("question")
    assert (summ.loc["SR-GM beats GCond", "better"], summ.loc["SR-GM beats GCond", "worse"]) == (1, 1)
    text = report(frame(rows))
    assert f"* `synthetic-ecommerce conflict=0.6`: `{high}`" in text
    assert "| SR-GM beats GCond | -3.0: 0 / 1 / 0 | +2.0: 1 / 0 / 0 |" in text  # columns by level


def test_leaderboard_holds_the_study_only_where_the_rows_answer(tmp_path):
    from gcbench.report.folder import report_files

    answered = frame([row(m, s, (60 + s + (2 if m.startswith("srgm") else 0)) / 100)
                      for s in range(3) for m in ("srgm:epochs=100", "gcond:epochs=100")])
    files = report_files(answered, None, [])
    assert files["study.md"] == report(answered)  # the same report the study script writes
    assert "[study.md](study.md)" in files["README.md"]
    for rows in ([row("gcond", s, 0.6) for s in range(3)],  # no question has both sides
                 [row("srgm:epochs=100", s, 0.6) for s in range(3)] + [row("srgm:epochs=50", 0, 0.6)]
                 + [row("gcond", s, 0.6) for s in range(3)]):  # one variant at two budgets: ambiguous
        files = report_files(frame(rows), None, [])
        assert "study.md" not in files and "study.md" not in files["README.md"]
