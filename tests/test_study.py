"""The SR-GM study report on hand-made rows, and the study suites themselves."""

from __future__ import annotations

import math
from pathlib import Path

import pandas as pd
import pytest

from gcbench.errors import GCBenchError
from gcbench.report.study import (
    _ok_rows,
    answers,
    by_dataset,
    default_study,
    edges,
    parse_study,
    report,
    summary,
    variant,
)
from gcbench.results import COLUMNS
from gcbench.suite import load_suite

REPO = Path(__file__).resolve().parents[1]
SYN = "synthetic-ecommerce:image_dim=128:n_nodes=1000"


def row(method, seed, score, *, ratio=0.5, arch="gcn", dataset=SYN, edges=10, status="ok", val=0.5):
    return {"method": method, "dataset": dataset, "ratio": "" if method == "whole" else ratio,
            "n_syn_nodes": 50, "n_syn_edges": edges, "n_nodes": 1000, "arch": arch, "seed": seed,
            "val_score": val, "test_score": score if status == "ok" else "", "metric": "accuracy",
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
                 row("random", s, 0.5, val=0.5), row("herding", s, 0.6, val=0.6), row("whole", s, 0.8)]
    rows.append(row("srgm:epochs=100", 9, 0.1, status="failed"))  # failed rows are left out
    ans = answers(_ok_rows(frame(rows)))
    got = {r.question: r for r in ans.itertuples()}
    beat = got["SR-GM beats GCond"]
    assert beat.diff == pytest.approx(2.0) and beat.n == 5 and beat.verdict == "better"
    assert got["damping (with its decoupling) helps SR-GM"].verdict == "no difference shown"
    coreset = got["SR-GM beats the best coreset"]  # herding is the best coreset on validation here
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
    # the columns follow the score tables' (dataset, ratio) order, whichever variant has them first
    other = "amazon-toys:features=synthetic:image_dim=128"
    mixed = [row("random", 0, 0.5, dataset=SYN), row("srgm", 0, 0.5, dataset=other, ratio=0.01)]
    assert list(edges(_ok_rows(frame(mixed))).columns) == [f"{other} @ r=0.01", f"{SYN} @ r=0.5"]


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
    # 5 seeds, but the CPU slice of Amazon ran 3 (30 minutes per seed on one core; the suite says so)
    min_seeds = 3 if path.stem == "srgm-study-amazon-small" else 5
    assert all(len(g.seeds) >= min_seeds and {"gcn", "sage", "mlp"} <= set(g.archs) for g in suite.grids)
    assert all("image_dim=128" in d for g in suite.grids for d in g.datasets)  # SR-GM's equal-width blocks
    assert any(variant(m) == "srgm" for g in suite.grids for m in g.methods)
    # one budget per variant, or the report refuses the rows
    labels = {m for g in suite.grids for m in g.methods}
    assert len({variant(m) for m in labels}) == len(labels)


# srgm-study-small is a record made before the training-free baselines existed
@pytest.mark.parametrize(("name", "without"), [("srgm-study", ()), ("srgm-study-small", ("best training-free",))])
def test_study_suites_answer_every_question(name, without):
    assert REPO / "leaderboards" / "suites" / f"{name}.yaml" in STUDY_SUITES  # and so has the design above
    suite = load_suite(REPO / "leaderboards" / "suites" / f"{name}.yaml")
    study = suite.study or default_study()
    variants = {variant(m) for g in suite.grids for m in g.methods}
    for q in study.questions:  # every question has both sides in the suite (a group: at least one member)
        if {q.a, q.b} & set(without):
            continue
        for side in (q.a, q.b):
            assert set(study.groups.get(side, (side,))) & variants, (q.text, side)
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


def test_groups_pick_the_best_member_on_validation_per_cell():
    # under GCN kmeans-agg has the better validation score (and test score); under MLP cgc has the better
    # validation score but the *worse* test score: the group reads cgc there, never the test-best member
    rows = []
    for s in range(3):
        for arch, (km, km_val), (cgc, cgc_val) in (("gcn", (0.80, 0.8), (0.70, 0.7)),
                                                   ("mlp", (0.65, 0.6), (0.60, 0.7))):
            rows += [row("srgm", s, 0.75 + 0.01 * s, arch=arch), row("kmeans-agg", s, km, arch=arch, val=km_val),
                     row("cgc", s, cgc, arch=arch, val=cgc_val)]
    ans = answers(_ok_rows(frame(rows)))
    got = {(r.question, r.arch): r for r in ans.itertuples()}
    gcn, mlp = (got[("SR-GM beats the best training-free baseline", a)] for a in ("gcn", "mlp"))
    assert gcn.diff == pytest.approx(76 - 80, abs=1e-6) and gcn.picked == "kmeans-agg"
    assert mlp.diff == pytest.approx(76 - 60, abs=1e-6) and mlp.picked == "cgc"
    assert not any(q == "SR-GM beats the best coreset" for q, _ in got)  # no coreset rows
    text = report(frame(rows))
    assert "| picked |" in text and "| cgc |" in text


def test_holm_adjustment():
    from gcbench.stats import holm, paired_p

    assert holm([0.01, 0.04, 0.03, float("nan")])[:3] == pytest.approx([0.03, 0.06, 0.06])
    assert math.isnan(holm([float("nan")])[0]) and holm([]) == []
    # a paired t-test: differences 1, 2, 3 -> t = 2 / (1 / sqrt 3), 2 degrees of freedom
    from scipy.stats import ttest_rel
    a, b = {0: 3.0, 1: 5.0, 2: 7.0}, {0: 2.0, 1: 3.0, 2: 4.0}
    assert paired_p(a, b) == pytest.approx(ttest_rel([3, 5, 7], [2, 3, 4]).pvalue)
    assert paired_p({0: 1.0}, {0: 0.0}) != paired_p({0: 1.0}, {0: 0.0})  # NaN below 2 seeds
    assert paired_p({0: 2.0, 1: 3.0}, {0: 1.0, 1: 2.0}) == 0.0  # the same non-zero difference at every seed


def test_a_study_is_data():
    study = parse_study({"title": "Coreset study", "description": "Which coreset?",
                         "groups": {"any greedy": ["herding", "kcenter:embed_epochs=30"]},
                         "questions": [["herding beats random", "herding:epochs=5", "random"],
                                       {"question": "greedy beats random", "a": "any greedy", "b": "random"}]})
    assert [(q.a, q.b) for q in study.questions] == [("herding", "random"), ("any greedy", "random")]
    assert study.groups["any greedy"] == ("herding", "kcenter:embed_epochs=30")
    rows = [row(m, s, x + 0.01 * s) for s in range(3) for m, x in (("herding", 0.7), ("random", 0.6),
                                                                   ("srgm", 0.9), ("gcond", 0.5))]
    text = report(frame(rows), study=study)
    assert text.startswith("# Coreset study") and "| herding beats random | 3 | 0 | 0 | 1 |" not in text
    assert "| herding beats random | 1 | 1 | 0 | 0 | +10.0 |" in text
    assert "| greedy beats random | 1 | 1 | 0 | 0 | +10.0 |" in text
    assert "SR-GM" not in text  # only this study's questions


@pytest.mark.parametrize(("data", "msg"), [
    ([], "expected a mapping"),
    ({"questions": [["a beats b", "a", "b"]], "extra": 1}, "unknown key"),
    ({"questions": []}, "non-empty list"),
    ({"questions": [["only text", "a"]]}, r"questions\[0\] must be \[text, a, b\]"),
    ({"questions": [["x", "srgm:epochs=5", "srgm"]]}, "with itself"),
    ({"questions": [["x", "a", "b"], ["x", "b", "c"]]}, "two questions read 'x'"),
    ({"groups": {"g": []}, "questions": [["x", "g", "b"]]}, "group 'g' must be a non-empty list"),
    ({"questions": [["x", "a:=1", "b"]]}, "study"),
])
def test_malformed_studies_are_one_line_errors(data, msg):
    with pytest.raises(GCBenchError, match=msg) as e:
        parse_study(data)
    assert "\n" not in str(e.value)


def test_a_suite_names_its_study_and_the_folder_answers_it(tmp_path):
    from gcbench import cli
    from gcbench.report.folder import check_folder, publish

    ds = "synthetic-ecommerce:n_nodes=300:train_frac=0.2"
    (tmp_path / "q.yaml").write_text("title: Coreset study\ndescription: Herding against random.\n"
                                     "questions:\n  - [herding beats random, herding, random]\n")
    suite = tmp_path / "s.yaml"
    suite.write_text(f"name: cs\nmethods: [random, herding]\ndatasets: ['{ds}']\nratios: [0.5]\n"
                     "archs: [gcn]\nseeds: [0, 1]\neval: {epochs: 5}\nstudy: q.yaml\n")
    out = tmp_path / "run"
    assert cli.main(["run", "--suite", str(suite), "--out", str(out), "--no-progress", "--quiet"]) == 0
    assert (out / "study.yaml").read_text() == (tmp_path / "q.yaml").read_text()
    dest = tmp_path / "lb"
    publish(out, dest)
    text = (dest / "study.md").read_text()
    assert text.startswith("# Coreset study") and "herding beats random" in text and "SR-GM" not in text
    assert "## Coreset study\n\nHerding against random." in (dest / "README.md").read_text()
    assert check_folder(dest).ok
    (dest / "study.yaml").unlink()  # without its study file the folder reports another study: check says so
    report = check_folder(dest)
    assert not report.ok and any("study.md" in p for p in report.problems)
    bad = tmp_path / "bad.yaml"
    bad.write_text(suite.read_text().replace("q.yaml", "missing.yaml"))
    assert cli.main(["run", "--suite", str(bad), "--out", str(tmp_path / "r2"), "--quiet"]) == 2


def test_convergence_from_the_logs():
    from gcbench.report.study import convergence
    from gcbench.util import slug

    rows = [row(m, s, 0.7) for s in range(2) for m in ("srgm:epochs=100", "gcond:epochs=100")]
    logs = []
    for s in range(2):
        # srgm reaches 95 % of its best validation score (0.80) at epoch 20, gcond (best 0.60) at epoch 40
        for m, vals in (("srgm:epochs=100", [0.5, 0.78, 0.79, 0.80]), ("gcond:epochs=100", [0.3, 0.4, 0.6, 0.6])):
            epochs = [10, 20, 30, 40] if m.startswith("srgm") else [10, 20, 40, 50]
            df = pd.DataFrame({"epoch": epochs, "loss": [1.0] * 4, "elapsed_s": [e * 2.0 for e in epochs],
                               "val_score": vals})
            logs.append((f"{slug(m)}__{slug(SYN)}__r0.5__s{s}__abc", df))
    ok = _ok_rows(frame(rows))
    ok["dataset_full"] = ok["dataset"]
    conv = convergence(ok, logs).set_index("variant")
    assert conv.loc["srgm", "epoch to 95 %"] == "20" and conv.loc["srgm", "seconds to 95 %"] == "40"
    assert conv.loc["gcond", "epoch to 95 %"] == "40" and conv.loc["gcond", "epochs run"] == "50"
    assert conv.loc["srgm", "seeds"] == 2 and conv.loc["srgm", "validated every"] == "10"
    assert "## Convergence" in report(frame(rows), logs=logs) and "## Convergence" not in report(frame(rows))


def test_budgets_table_states_what_each_learned_method_was_given_and_used():
    from gcbench.report.study import budgets

    rows = []
    for s, (ran, sel) in enumerate([(300, 200), (450, 350), (1000, 990)]):
        for arch in ("gcn", "mlp"):
            r = row("srgm:patience=100:val_every=10", s, 0.7, arch=arch)
            rows.append({**r, "condense_epoch": sel, "condense_epochs": ran, "condense_s": 10.0 * (s + 1)})
    rows += [row("random", s, 0.5) for s in range(3)]
    rows += [{**row("gcond:epochs=20", s, 0.6), "condense_epoch": 20} for s in range(2)]  # made before the column
    ok = _ok_rows(frame(rows))
    ok["dataset_full"] = ok["dataset"]
    bud = budgets(ok).set_index("method")
    assert "random" not in bud.index  # one-shot: no budget
    srgm = bud.loc["srgm:patience=100:val_every=10"]
    assert (srgm["budget"], srgm["validated every"], srgm["patience"]) == ("1000 epochs", "10", "100")
    assert srgm["epochs run"] == "450 (300-1000)" and srgm["epoch selected"] == "350 (200-990)"
    assert srgm["seeds"] == 3 and srgm["condensation s"] == "20"
    gcond = bud.loc["gcond:epochs=20"]
    assert (gcond["budget"], gcond["patience"], gcond["epochs run"], gcond["epoch selected"]) == (
        "20 epochs", "0", "?", "20")
    assert "## Budgets" in report(frame(rows + [row("srgm:patience=100:val_every=10", 0, 0.7, arch="sage")]))


def test_the_study_runs_learned_methods_at_reference_budgets_with_plateau_stops():
    suite = load_suite(REPO / "leaderboards" / "suites" / "srgm-study.yaml")
    learned = {"gcond", "doscond", "sfgc", "srgm", "srgm-plus"}
    from gcbench.spec import parse_spec

    for g in suite.grids:
        assert {"gcn", "sage", "gat", "mlp"} <= set(g.archs)
        for m in g.methods:
            base, opts = parse_spec(m, "method")
            if base in learned:  # the reference budget is the maximum; one stop rule, or the whole budget
                assert "epochs" not in opts and "iterations" not in opts, m
                assert opts.get("patience") == (None if base == "gcond" else 100), m
                assert opts.get("val_every", 10) == 10 and "select_every" not in opts, m


def test_conflict_level_interaction_separates_a_changing_answer_from_a_constant_one():
    from gcbench.report.study import interaction

    low, high = f"{SYN}:conflict_frac=0.0", f"{SYN}:conflict_frac=0.6"
    noise = [0.0, 1.0, -1.0, 0.5, -0.5]
    jitter = [0.3, -0.2, 0.1, -0.4, 0.2]  # sums to 0
    rows = []
    for s, (e, j) in enumerate(zip(noise, jitter)):
        # SR-GM - GCond: +5 at level 0.6, -5 at level 0 (depends on the level); SR-GM - random: +10 at both
        rows += [row("srgm", s, (60 + e + 5) / 100, dataset=high), row("gcond", s, (60 + e) / 100, dataset=high),
                 row("srgm", s, (70 + e - 5) / 100, dataset=low), row("gcond", s, (70 - e) / 100, dataset=low),
                 row("random", s, (55 + e + j) / 100, dataset=high), row("random", s, (55 + e - j) / 100, dataset=low)]
    ok = _ok_rows(frame(rows))
    ok["dataset_full"] = ok["dataset"]
    inter = interaction(ok).set_index("question")
    vs_gcond = inter.loc["SR-GM beats GCond"]
    assert vs_gcond["levels"] == "0, 0.6" and vs_gcond["diff by level"] == "-5.0, +5.0"
    assert vs_gcond["p"] < 1e-6 and vs_gcond["p_holm"] < 0.05
    coreset = inter.loc["SR-GM beats the best coreset"]
    assert coreset["diff by level"] == "+10.0, +10.0" and coreset["p"] > 0.9 and coreset["p_holm"] > 0.9
    text = report(frame(rows))
    assert "## Does the conflict level change the answer?" in text
    one_level = report(frame([r for r in rows if r["dataset"] == high]))
    assert "## Does the conflict level change the answer?" not in one_level


def test_cross_arch_gap_is_paired_by_seed():
    from gcbench.report.study import cross_arch_gap

    rows = []
    for s, e in enumerate([0.0, 3.0, -3.0]):
        rows += [row("srgm", s, (70 + e) / 100), row("srgm", s, (66 + e) / 100, arch="gat"),
                 row("srgm", s, (71 + e) / 100, arch="mlp"), row("whole", s, 0.8), row("whole", s, 0.78, arch="gat")]
    ok = _ok_rows(frame(rows))
    gap = cross_arch_gap(ok).set_index("variant")
    # the seed effect (e) cancels in the pairing: an interval of zero width
    assert gap.loc["srgm", "gcn - gat"] == "+4.0 ± 0.0" and gap.loc["srgm", "gcn - mlp"] == "-1.0 ± 0.0"
    assert gap.loc["whole", "gcn - gat"] == "+2.0 ± 0.0" and gap.loc["whole", "ratio"] == ""
    assert gap.loc["whole", "gcn - mlp"] == ""  # no mlp rows of the whole graph
    assert "## Cross-architecture gap" in report(frame(rows))


def test_nas_claim_summarises_rank_correlations_over_seeds_and_pairs_them():
    from gcbench.nas import SPACE, full_space
    from gcbench.report.study import nas_claim

    space = full_space()

    def study_rows(cond_val, full_val, *, method, seed):  # one NAS study: a row per configuration
        return pd.DataFrame([{"method": method, "dataset": SYN, "ratio": 0.5, "seed": seed, "config_id": i,
                              **{f: space[i][f] for f in SPACE}, "epochs": 200, "eval_every": 10, "cond_val": c,
                              "full_val": f_, "cond_test": c, "full_test": f_, "metric": "accuracy"}
                             for i, (c, f_) in enumerate(zip(cond_val, full_val))])

    full = [0.5, 0.6, 0.7, 0.8, 0.9]
    studies = []
    for s in range(3):
        # srgm ranks the five configurations as the full graph does (rho = 1); gcond reverses two adjacent
        # pairs (rho = 0.8) in every seed, so the paired difference is exactly +0.2 with a zero-width interval
        studies.append(study_rows([0.1, 0.2, 0.3, 0.4, 0.5], full, method="srgm:patience=100:val_every=10", seed=s))
        studies.append(study_rows([0.2, 0.1, 0.4, 0.3, 0.5], full, method="gcond:val_every=10", seed=s))
    studies.append(study_rows([0.5, 0.4, 0.3, 0.2, 0.1], full, method="kmeans-agg", seed=0))  # rho = -1, 1 seed
    nas_rows = pd.concat(studies, ignore_index=True)
    per, paired = nas_claim(nas_rows)
    per = per.set_index("method")
    assert per.loc["srgm", "spearman"] == "1.00 ± 0.00 (3)" and per.loc["gcond", "spearman"] == "0.80 ± 0.00 (3)"
    assert per.loc["srgm", "gap"] == "0.0 ± 0.0 (3)" and per.loc["srgm", "chosen rank"] == "1 of 5"
    assert per.loc["kmeans-agg", "spearman"] == "-1.00 (1)" and per.loc["kmeans-agg", "chosen rank"] == "5 of 5"
    assert list(per.index) == ["kmeans-agg", "gcond", "srgm"]  # the study's order, not the alphabet
    row_ = paired.set_index("question").loc["SR-GM beats GCond"]
    assert row_["Spearman diff ± CI"] == "+0.20 ± 0.00" and row_["n"] == 3 and row_["verdict"] == "better"
    assert nas_claim(None)[0].empty
    rows = [row("srgm:patience=100:val_every=10", s, 0.7) for s in range(3)]
    rows += [row("gcond:val_every=10", s, 0.6) for s in range(3)]
    text = report(frame(rows), nas_rows=nas_rows)
    assert "## Architecture search on the condensed graph" in text and "+0.20 ± 0.00" in text
    assert "## Architecture search" not in report(frame(rows))
