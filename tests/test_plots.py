"""The plot gallery on hand-made rows: which figures the data allows, skip reasons, files, determinism."""

from __future__ import annotations

import pandas as pd
import pytest

from gcbench import cli
from gcbench.nas import SPACE, full_space
from gcbench.report.figures import plan, plot_all, render
from gcbench.report.rows import Inputs
from gcbench.results import COLUMNS

N = 2708


def row(method, ratio, seed, score, *, arch="gcn", dataset="cora", condense_s=1.0, status="ok"):
    return {
        "method": method, "dataset": dataset, "ratio": "" if method == "whole" else ratio,
        "n_syn_nodes": N if method == "whole" else int(ratio * 140), "n_syn_edges": 10, "n_nodes": N, "arch": arch,
        "seed": seed, "val_score": 0.5, "test_score": score if status == "ok" else "", "metric": "accuracy",
        "condense_s": condense_s, "eval_s": 1.0, "peak_mem_mb": 10.0, "config_hash": "h", "dataset_sha": "s",
        "device": "cpu", "versions": "v", "status": status, "error": "" if status == "ok" else "boom",
        "timestamp": f"2024-01-01T00:00:0{seed}",
    }


def results_dir(tmp_path, rows, nas=None, logs=None):
    d = tmp_path / "res"
    d.mkdir()
    pd.DataFrame(rows, columns=COLUMNS).to_csv(d / "results.csv", index=False)
    if nas is not None:
        (d / "nas").mkdir()
        nas.to_csv(d / "nas" / "study.csv", index=False)
    for name, frame in (logs or {}).items():
        (d / "logs").mkdir(exist_ok=True)
        frame.to_csv(d / "logs" / name, index=False)
    return d


def base_rows():
    rows = []
    for seed in (0, 1):
        for q, (a, b) in {0.25: (0.70, 0.60), 0.5: (0.78, 0.72)}.items():
            rows.append(row("gcond:epochs=60", q, seed, a + 0.01 * seed, condense_s=30.0))
            rows.append(row("random", q, seed, b - 0.01 * seed, condense_s=0.001))
        rows.append(row("whole", None, seed, 0.81))
    return rows


def nas_rows():
    space = full_space()
    out = []
    for i in range(6):
        out.append({"method": "random", "dataset": "cora", "ratio": 0.5, "seed": 0, "config_id": i,
                    **{f: space[i][f] for f in SPACE}, "epochs": 10, "eval_every": 5, "cond_val": 0.1 * i,
                    "cond_test": 0.1 * i, "full_val": 0.5 + 0.05 * ((i * 7) % 6), "full_test": 0.5,
                    "metric": "accuracy"})
    return pd.DataFrame(out)


def test_plan_on_results_only_skips_with_reasons(tmp_path):
    d = results_dir(tmp_path, base_rows())
    from gcbench.report.rows import read_inputs

    p = plan(read_inputs(d))
    assert [f.name for f in p.figures] == ["score_vs_ratio__cora__gcn", "cost_quality__cora__gcn"]
    reasons = dict(p.skipped)
    assert set(reasons) == {"cross_arch", "nas", "convergence", "diagnostics", "ablation", "conflict_level"}
    assert "two or more architectures" in reasons["cross_arch"]
    assert "no NAS results" in reasons["nas"] and "no per-epoch logs" in reasons["convergence"]
    assert "two or more variants" in reasons["ablation"]
    assert "conflict_frac levels" in reasons["conflict_level"] and "srgm" in reasons["diagnostics"]


def test_every_kind_when_the_data_allows_it(tmp_path):
    rows = base_rows()
    rows += [row(m, 0.5, s, 0.6, arch="sgc") for m in ("gcond:epochs=60", "random") for s in (0, 1)]
    rows += [row("whole", None, s, 0.8, arch="sgc") for s in (0, 1)]
    rows += [row("gcond:epochs=60:learn_adj=false", q, s, 0.65) for q in (0.25, 0.5) for s in (0, 1)]
    log = pd.DataFrame({"epoch": [1, 2, 3, 4], "loss": [3.0, 2.0, 1.5, 1.2], "elapsed_s": [1.0, 2.0, 3.0, 4.0],
                        "val_score": [None, 0.6, None, 0.7]})
    logs = {f"gcond_epochs=60__cora__r{q}__s{s}__abc123.csv": log for q in (0.25, 0.5) for s in (0, 1)}
    d = results_dir(tmp_path, rows, nas=nas_rows(), logs=logs)
    written, skipped = plot_all(d)
    # sgc was evaluated at one ratio only (a cross-architecture grid): the heatmap shows it, no per-arch plots
    one = "cora: sgc evaluated at one ratio only (see the cross_arch heatmap)"
    # (the SR-GM kinds have their own test below)
    assert [k for k in skipped if k[0] not in ("diagnostics", "conflict_level")] == [("score_vs_ratio", one),
                                                                                      ("cost_quality", one)]
    names = sorted(p.name for p in written)
    stems = sorted({n.rsplit(".", 1)[0] for n in names})
    assert stems == sorted([
        "score_vs_ratio__cora__gcn", "cross_arch__cora__r0.5", "nas__cora__r0.5", "cost_quality__cora__gcn",
        "convergence__cora", "ablation__gcond__cora__gcn",
    ])
    assert len(names) == 2 * len(stems) and all((d / "figures" / n).stat().st_size > 1000 for n in names)
    svg = (d / "figures" / "cross_arch__cora__r0.5.svg").read_text()
    assert "<dc:date>" not in svg and "Matplotlib" in svg
    # the convergence log's file name maps back to the method label of the rows
    from gcbench.report.rows import log_frame

    parsed = log_frame(sorted(logs.items()), ["gcond:epochs=60", "random"], ["cora"])
    assert set(parsed["method"]) == {"gcond:epochs=60"} and sorted(set(parsed["ratio"])) == [0.25, 0.5]


def test_svg_and_png_are_deterministic(tmp_path):
    rows = base_rows()
    d = results_dir(tmp_path, rows)
    from gcbench.report.rows import read_inputs

    fig = plan(read_inputs(d)).figures[0]
    a = render(fig, tmp_path / "a")
    b = render(fig, tmp_path / "b", ("svg",))  # the other format is not drawn first: same SVG all the same
    c = render(fig, tmp_path / "c")
    assert [p.read_bytes() for p in a] == [p.read_bytes() for p in c]
    assert a[1].read_bytes() == b[0].read_bytes()


def test_single_ratio_everywhere_still_draws_per_arch(tmp_path):
    rows = [row(m, 0.5, s, 0.6, arch=a) for m in ("gcond", "random") for s in (0, 1) for a in ("gcn", "sgc")]
    from gcbench.report.rows import read_inputs

    p = plan(read_inputs(results_dir(tmp_path, rows)))
    assert [f.name for f in p.figures if f.kind == "score_vs_ratio"] == ["score_vs_ratio__cora__gcn",
                                                                        "score_vs_ratio__cora__sgc"]


def test_failed_rows_and_missing_results(tmp_path):
    d = results_dir(tmp_path, [row("random", 0.5, 0, None, status="failed")])
    reasons = dict(plan(Inputs(results=None, nas=None, logs=[])).skipped)
    assert reasons["score_vs_ratio"] == "no results.csv rows"
    from gcbench.report.rows import read_inputs

    reasons = dict(plan(read_inputs(d)).skipped)
    assert reasons["score_vs_ratio"] == "no ok rows in results.csv"


def test_plot_command_says_what_it_skipped(tmp_path, capsys):
    d = results_dir(tmp_path, base_rows())
    assert cli.main(["plot", str(d), "-o", str(tmp_path / "figs"), "--formats", "svg"]) == 0
    err = capsys.readouterr().err
    assert "skipped nas: no NAS results" in err and "skipped convergence: no per-epoch logs" in err
    assert "wrote 2 file(s)" in err
    assert sorted(p.name for p in (tmp_path / "figs").iterdir()) == ["cost_quality__cora__gcn.svg",
                                                                    "score_vs_ratio__cora__gcn.svg"]
    assert cli.main(["plot", str(tmp_path / "nothing")]) == 2
    assert "results not found" in capsys.readouterr().err
    assert cli.main(["plot", str(d), "--formats", "gif"]) == 2


@pytest.mark.parametrize("bad", ["epoch,loss\n1,2\n", "a,b\n1,2\n"])
def test_logs_without_the_columns(tmp_path, bad):
    d = results_dir(tmp_path, base_rows())
    (d / "logs").mkdir()
    (d / "logs" / "gcond_epochs=60__cora__r0.5__s0__h.csv").write_text(bad)
    from gcbench.errors import GCBenchError
    from gcbench.report.rows import read_inputs

    if "epoch" in bad:
        p = plan(read_inputs(d))  # a log with epoch and loss only still draws (no validation points)
        assert any(f.kind == "convergence" for f in p.figures)
    else:
        with pytest.raises(GCBenchError, match="no 'epoch' column"):
            read_inputs(d)


SYN = "synthetic-ecommerce:image_dim=128:n_nodes=1000"


def test_srgm_figures_diagnostics_and_conflict_level(tmp_path):
    """SR-GM logs give the diagnostics figure; synthetic graphs at three conflict levels (one of them the
    generator's default, left out of the name) give the conflict-level figure with the level read from the
    name; a dataset at one level does not."""
    rows = []
    names = {0.0: "synthetic-ecommerce:conflict_frac=0.0:image_dim=128:n_nodes=1000", 0.3: SYN,
             0.6: "synthetic-ecommerce:conflict_frac=0.6:image_dim=128:n_nodes=1000"}
    for lv, ds in names.items():
        for s in (0, 1, 2):
            for q in (0.25, 0.5):
                rows.append(row("srgm", q, s, 0.7 - lv / 4 + 0.01 * s, dataset=ds))
                rows.append(row("gcond", q, s, 0.68 - lv / 3, dataset=ds))
            rows.append(row("whole", None, s, 0.8 - lv / 5, dataset=ds))
        rows.append(row("srgm:lambda=0", 0.5, 0, 0.6, dataset=SYN))  # at one level only: no curve
    rows += [row("random", 0.5, s, 0.5, dataset="cora") for s in (0, 1)]
    log = pd.DataFrame({"epoch": [1, 2, 3], "loss": [3.0, 2.0, 1.5], "elapsed_s": [1.0, 2.0, 3.0],
                        "val_score": [None, 0.6, 0.7], "conflict_frac": [0.7, 0.5, 0.4],
                        "modality_cos": [-0.05, 0.0, 0.04], "edges": [1220, 1100, 1063], "damping": [1e-6] * 3})
    glog = log.drop(columns=["conflict_frac", "modality_cos", "damping"])
    slug_syn = "synthetic-ecommerce_image_dim=128_n_nodes=1000"
    logs = {f"srgm__{slug_syn}__r0.5__s{s}__h.csv": log for s in (0, 1)}
    logs.update({f"gcond__{slug_syn}__r0.5__s{s}__h.csv": glog for s in (0, 1)})
    d = results_dir(tmp_path, rows, logs=logs)
    from gcbench.report.rows import conflict_levels, ok_rows, read_inputs

    p = plan(read_inputs(d))
    kinds = {f.name: f.kind for f in p.figures}
    assert kinds[f"diagnostics__{slug_syn}"] == "diagnostics"
    assert kinds[f"conflict_level__{slug_syn}__gcn"] == "conflict_level"
    assert not any(k.startswith("conflict_level__cora") for k in kinds)
    levels = conflict_levels(ok_rows(read_inputs(d).results))
    assert sorted(set(levels["level"])) == [0.0, 0.3, 0.6] and set(levels["family"]) == {SYN}
    written, _ = plot_all(d, formats=("svg",))
    stems = {w.stem for w in written}
    assert {f"diagnostics__{slug_syn}", f"conflict_level__{slug_syn}__gcn", f"convergence__{slug_syn}"} <= stems
    from matplotlib.figure import Figure as MplFigure

    fig = MplFigure(layout="constrained")
    next(f for f in p.figures if f.kind == "conflict_level").draw(fig)
    (legend,) = fig.legends  # outside the panels, and only the methods seen at two or more levels
    assert sorted(t.get_text() for t in legend.get_texts()) == ["gcond", "srgm", "whole (full graph)"]


def test_ablation_bars_are_95_percent_intervals():
    from gcbench.stats import mean_ci, paired_diff_ci, verdict

    m, h, n = mean_ci([1.0, 2.0, 3.0])
    assert (m, n) == (2.0, 3) and h == pytest.approx(4.302653 * 1.0 / 3 ** 0.5, rel=1e-5)
    assert mean_ci([5.0])[1] != mean_ci([5.0])[1]  # NaN: one seed has no interval
    d, h, n = paired_diff_ci({0: 0.8, 1: 0.7, 2: 0.75, 9: 0.1}, {0: 0.7, 1: 0.6, 2: 0.66})
    assert n == 3 and d == pytest.approx(0.09667, abs=1e-4)  # seed 9 has no partner: left out
    assert verdict(d, h) == "better" and verdict(-d, h) == "worse" and verdict(0.01, h) == "no difference shown"
    assert verdict(0.1, float("nan")) == "too few seeds"
