"""Leaderboard tables from hand-made result rows (expected values computed by hand)."""

from __future__ import annotations

import io
import math

import pandas as pd
import pytest

from gcbench.errors import GCBenchError
from gcbench.report.aggregate import FULL_GRAPH, build_tables, cross_arch_table, summary
from gcbench.report.folder import safe_filename, write_leaderboard
from gcbench.report.render import format_console, to_markdown

N_NODES = 2708


def row(method, ratio, seed, score, *, dataset="cora", arch="gcn", n_syn=None, status="ok", error="", **kw):
    if n_syn is None:
        n_syn = N_NODES if method == "whole" else int(round(ratio * 140))
    out = {
        "method": method,
        "dataset": dataset,
        "ratio": float("nan") if method == "whole" else ratio,
        "n_syn_nodes": n_syn,
        "n_syn_edges": 100,
        "n_nodes": N_NODES,
        "arch": arch,
        "seed": seed,
        "val_score": 0.5,
        "test_score": score if status == "ok" else float("nan"),
        "metric": "accuracy",
        "condense_s": 10.0,
        "eval_s": 2.0,
        "peak_mem_mb": 100.0,
        "config_hash": "abc",
        "dataset_sha": "def",
        "device": "cpu",
        "versions": "torch=2",
        "status": status,
        "error": error,
        "timestamp": f"2024-01-01T00:00:{seed:02d}",
    }
    out.update(kw)
    return out


@pytest.fixture
def rows():
    return [
        row("gcond", 0.5, 0, 0.80),
        row("gcond", 0.5, 1, 0.82),
        row("random", 0.5, 0, 0.79),
        row("random", 0.5, 1, 0.83),  # mean 81.00 as well: a tie with gcond
        row("kcenter", 0.5, 0, 0.70),
        row("kcenter", 0.5, 1, 0.72),
        row("gcond", 0.25, 0, 0.75),
        row("gcond", 0.25, 1, 0.77),
        row("random", 0.25, 0, 0.60),
        row("random", 0.25, 1, 0.64),
        row("kcenter", 0.25, 0, 0.65),
        row("kcenter", 0.25, 1, 0.65),
        row("whole", None, 0, 0.90),
        row("whole", None, 1, 0.92),
        row("kcenter", 0.25, 2, None, status="failed", error="CUDA out of memory"),
        row("gcond", 0.5, 0, 0.81, arch="sgc"),
        row("whole", None, 0, 0.88, arch="sgc"),
    ]


def cell(table, method, label):
    return tuple(table.loc[method, (label, stat)] for stat in ("mean", "std", "n"))


def test_table_values_are_percent_mean_sample_std_and_seed_count(rows):
    tables = build_tables(pd.DataFrame(rows))
    assert list(tables) == [("cora", "gcn"), ("cora", "sgc")]
    t = tables[("cora", "gcn")]
    lab25, lab50 = "r=0.25 (35 nodes, 1.3%)", "r=0.5 (70 nodes, 2.6%)"
    assert list(dict.fromkeys(t.columns.get_level_values(0))) == [lab25, lab50, FULL_GRAPH]
    assert list(t.index) == ["gcond", "kcenter", "random", "whole"]

    mean, std, n = cell(t, "gcond", lab50)  # 0.80, 0.82 -> 81, sqrt(((80-81)^2 + (82-81)^2) / 1)
    assert mean == pytest.approx(81.0) and std == pytest.approx(math.sqrt(2)) and n == 2
    mean, std, n = cell(t, "random", lab25)  # 60, 64 -> 62 +- sqrt(8)
    assert mean == pytest.approx(62.0) and std == pytest.approx(math.sqrt(8)) and n == 2
    # the failed seed 2 of kcenter is not part of the mean (65, 65 -> 65 +- 0 over 2 seeds)
    mean, std, n = cell(t, "kcenter", lab25)
    assert mean == pytest.approx(65.0) and std == 0.0 and n == 2
    # whole only fills the full graph column
    mean, std, n = cell(t, "whole", FULL_GRAPH)
    assert mean == pytest.approx(91.0) and std == pytest.approx(math.sqrt(2)) and n == 2
    assert cell(t, "whole", lab50)[2] == 0 and math.isnan(cell(t, "whole", lab50)[0])
    assert cell(t, "gcond", FULL_GRAPH)[2] == 0

    assert t.attrs["dataset"] == "cora" and t.attrs["arch"] == "gcn" and t.attrs["metric"] == "accuracy"
    assert t.attrs["ratios"] == {lab25: 0.25, lab50: 0.5}


def test_markdown_cells_bold_ties_and_never_whole(rows):
    md = to_markdown(build_tables(pd.DataFrame(rows))[("cora", "gcn")])
    lines = md.splitlines()
    assert lines[0] == (
        "### cora — gcn (accuracy, mean ± std over 2 seeds; std across condensation+evaluation seeds)"
    )
    assert lines[1] == ""
    assert lines[2] == "| method | r=0.25 (35 nodes, 1.3%) | r=0.5 (70 nodes, 2.6%) | full graph |"
    assert lines[3] == "|:---|---:|---:|---:|"
    assert lines[4:] == [
        "| gcond | **76.00 ± 1.41** | **81.00 ± 1.41** | - |",
        "| kcenter | 65.00 ± 0.00 | 71.00 ± 1.41 | - |",
        "| random | 62.00 ± 2.83 | **81.00 ± 2.83** | - |",
        "| whole | - | - | 91.00 ± 1.41 |",
    ]
    assert md.endswith("\n")


def test_whole_is_not_best_even_when_higher_and_not_bolded_in_its_column():
    rows = [row("gcond", 0.5, 0, 0.5), row("whole", None, 0, 0.99), row("whole", 0.5, 1, 0.97)]
    md = to_markdown(build_tables(pd.DataFrame(rows))[("cora", "gcn")])
    assert "| gcond | **50.00 ± 0.00** (n=1) | - |" in md  # whole has 2 seeds, so n=1 is marked
    assert "| whole | - | 98.00 ± 1.41 |" in md  # a ratio given for whole is ignored
    assert md.count("**") == 2


def test_single_seed_has_std_zero_and_marks_fewer_seeds():
    rows = [row("gcond", 0.5, 0, 0.8), row("gcond", 0.5, 1, 0.9), row("random", 0.5, 0, 0.7)]
    t = build_tables(pd.DataFrame(rows))[("cora", "gcn")]
    assert cell(t, "random", "r=0.5 (70 nodes, 2.6%)") == (pytest.approx(70.0), 0.0, 1)
    md = to_markdown(t)
    assert "over up to 2 seeds, (n=k) where fewer;" in md
    assert "| random | 70.00 ± 0.00 (n=1) |" in md
    assert "| gcond | **85.00 ± 7.07** |" in md
    only_one = to_markdown(build_tables(pd.DataFrame(rows[2:]))[("cora", "gcn")])
    assert "mean ± std over 1 seed;" in only_one and "| random | **70.00 ± 0.00** |" in only_one


def test_column_label_uses_most_common_node_count_and_percent():
    rows = [
        row("a", 0.5, 0, 0.5, n_syn=70),
        row("a", 0.5, 1, 0.5, n_syn=71),
        row("a", 0.5, 2, 0.5, n_syn=71),  # method a: most common 71
        row("b", 0.5, 0, 0.5, n_syn=70),
        row("c", 0.5, 0, 0.5, n_syn=70),
        row("c", 0.01, 0, 0.5, n_syn=7),
        row("c", 0.001, 0, 0.5, n_syn=1),
    ]
    t = build_tables(pd.DataFrame(rows))[("cora", "gcn")]
    labels = list(dict.fromkeys(t.columns.get_level_values(0)))
    # 7 / 2708 = 0.2585 %, 1 / 2708 = 0.0369 %, 70 / 2708 = 2.585 %
    assert labels == ["r=0.001 (1 nodes, 0.037%)", "r=0.01 (7 nodes, 0.26%)", "r=0.5 (70 nodes, 2.6%)"]
    s = summary(pd.DataFrame(rows))
    a = s[(s["method"] == "a") & (s["ratio"] == 0.5)].iloc[0]
    assert a["n_syn_nodes"] == 71 and a["pct_of_graph"] == pytest.approx(100 * 71 / 2708)


def test_summary_long_form(rows):
    s = summary(pd.DataFrame(rows))
    assert list(s.columns) == [
        "dataset", "arch", "method", "ratio", "n_syn_nodes", "pct_of_graph", "metric",
        "mean", "std", "n_seeds", "mean_condense_s", "mean_eval_s", "n_failed",
    ]  # fmt: skip
    assert len(s) == 9  # 3 methods x 2 ratios + whole (gcn); gcond + whole (sgc)
    k = s[(s["arch"] == "gcn") & (s["method"] == "kcenter") & (s["ratio"] == 0.25)].iloc[0]
    assert (k["mean"], k["std"], k["n_seeds"], k["n_failed"]) == (pytest.approx(65.0), 0.0, 2, 1)
    assert k["mean_condense_s"] == pytest.approx(10.0) and k["mean_eval_s"] == pytest.approx(2.0)
    w = s[(s["arch"] == "gcn") & (s["method"] == "whole")].iloc[0]
    assert math.isnan(w["ratio"]) and w["n_syn_nodes"] == N_NODES and w["pct_of_graph"] == 100.0
    assert list(s["method"][s["arch"] == "gcn"]) == ["gcond", "gcond", "kcenter", "kcenter"] + [
        "random",
        "random",
        "whole",
    ]


def test_failed_rows_listed_in_readme_and_excluded(tmp_path, rows):
    rows.append(row("sfgc", 0.5, 0, None, status="failed", error="boom | bad\nsecond line"))
    paths = write_leaderboard(pd.DataFrame(rows), tmp_path)
    assert [p.name for p in paths] == ["summary.csv", "cora.csv", "cora.md", "README.md"]
    readme = (tmp_path / "README.md").read_text(encoding="utf-8")
    assert "18 result row(s): 16 ok, 2 failed." in readme
    assert "| cora | gcn | kcenter | 0.25 | 2 | CUDA out of memory |" in readme
    assert "| cora | gcn | sfgc | 0.5 | 0 | boom \\| bad second line |" in readme
    files = "[cora.md](cora.md), [cora.csv](cora.csv)"
    assert f"| cora | accuracy | gcn, sgc | 5 | 0.25, 0.5 | 16 | 2 | {files} |" in readme
    md = (tmp_path / "cora.md").read_text(encoding="utf-8")
    assert "| sfgc | - | - | - |" in md  # the failed-only method shows up, without a score
    assert md.count("### cora — ") == 2
    lines = (tmp_path / "summary.csv").read_text(encoding="utf-8").splitlines()
    assert "cora,gcn,kcenter,0.25,35,1.2925,accuracy,65.0000,0.0000,2,10.000,2.000,1" in lines
    assert "cora,gcn,sfgc,0.5,70,2.5849,accuracy,,,0,,,1" in lines
    assert "cora,gcn,whole,,2708,100.0000,accuracy,91.0000,1.4142,2,10.000,2.000,0" in lines


def test_readme_without_failures(tmp_path):
    write_leaderboard(pd.DataFrame([row("gcond", 0.5, 0, 0.8)]), tmp_path)
    assert "No failed runs." in (tmp_path / "README.md").read_text(encoding="utf-8")


def test_shuffled_rows_give_identical_bytes(tmp_path, rows):
    rows += [
        row("gcond", 0.5, 2, 0.1 + 0.7),  # values whose float sum depends on the order
        row("gcond", 0.5, 3, 0.3),
        row("x", 0.1, 0, 0.1, dataset="citeseer", arch="gat"),
        row("gcond", 0.5, 0, None, status="failed", error="older failure", timestamp="2023"),
    ]
    df = pd.DataFrame(rows)
    outputs = []
    for i, seed in enumerate([0, 1, 2]):
        shuffled = df.sample(frac=1.0, random_state=seed).reset_index(drop=True)
        if i == 2:
            shuffled = shuffled[list(reversed(shuffled.columns))]
        out = tmp_path / str(i)
        paths = write_leaderboard(shuffled, out)
        files = {p.name: p.read_bytes() for p in paths}
        md = {k: to_markdown(t) for k, t in build_tables(shuffled).items()}
        outputs.append((files, md, format_console(shuffled), summary(shuffled).to_csv()))
    assert outputs[0] == outputs[1] == outputs[2]
    assert list(outputs[0][0]) == ["summary.csv", "citeseer.csv", "citeseer.md", "cora.csv", "cora.md"] + [
        "README.md"
    ]


def test_rerun_of_a_seed_supersedes_older_and_failed_rows():
    rows = [
        row("gcond", 0.5, 0, None, status="failed", error="oom", timestamp="2024-01-01"),
        row("gcond", 0.5, 0, 0.70, timestamp="2024-01-02"),
        row("gcond", 0.5, 0, 0.80, timestamp="2024-01-03"),  # latest ok run of seed 0 wins
    ]
    s = summary(pd.DataFrame(rows))
    assert (s["mean"].item(), s["n_seeds"].item(), s["n_failed"].item()) == (pytest.approx(80.0), 1, 0)
    assert "2 superseded row(s) ignored" in format_console(pd.DataFrame(rows))


def test_roundtrip_through_csv_and_roc_auc_heading(rows):
    for r in rows:
        r["metric"] = "roc_auc"
    df = pd.DataFrame(rows)
    buf = io.StringIO()
    df.to_csv(buf, index=False)
    back = pd.read_csv(io.StringIO(buf.getvalue()))
    md = to_markdown(build_tables(back)[("cora", "gcn")])
    assert md == to_markdown(build_tables(df)[("cora", "gcn")])
    assert md.startswith("### cora — gcn (roc_auc, mean ± std over 2 seeds;")


def test_console_marks_best_with_star(rows):
    text = format_console(pd.DataFrame(rows))
    lines = text.splitlines()
    assert lines[0].startswith("cora — gcn (accuracy")
    gcond = next(line for line in lines if line.startswith("gcond "))
    kcenter = next(line for line in lines if line.startswith("kcenter "))
    whole = next(line for line in lines if line.startswith("whole "))
    assert gcond.split() == ["gcond", "76.00", "±", "1.41*", "81.00", "±", "1.41*", "-"]
    assert "*" not in kcenter and "*" not in whole and whole.endswith("91.00 ± 1.41")
    # columns are aligned: the ± signs of a column sit at the same position in every row
    random = next(line for line in lines if line.startswith("random "))
    positions = [[i for i, ch in enumerate(line) if ch == "±"] for line in (gcond, kcenter, random)]
    assert positions[0] == positions[1] == positions[2] and len(positions[0]) == 2
    assert whole.index("±") > positions[0][1]
    assert "failed:" in text and "cora/gcn/kcenter r=0.25 seed(s) 2: CUDA out of memory" in text


def test_cross_arch_table(rows):
    t = cross_arch_table(pd.DataFrame(rows), "cora", 0.5)
    assert list(t.columns) == ["gcn", "sgc"]
    assert list(t.index) == ["gcond", "kcenter", "random", "whole"]
    assert t.loc["gcond", "gcn"] == pytest.approx(81.0) and t.loc["gcond", "sgc"] == pytest.approx(81.0)
    assert math.isnan(t.loc["kcenter", "sgc"])
    assert t.loc["whole", "gcn"] == pytest.approx(91.0) and t.loc["whole", "sgc"] == pytest.approx(88.0)
    with pytest.raises(GCBenchError, match="ratio 0.3"):
        cross_arch_table(pd.DataFrame(rows), "cora", 0.3)
    with pytest.raises(GCBenchError, match="pubmed"):
        cross_arch_table(pd.DataFrame(rows), "pubmed", 0.5)


def test_method_order_natural_with_whole_last():
    rows = [row(m, 0.5, 0, 0.5) for m in ["whole", "srgm:lambda=10", "Random", "srgm:lambda=2", "gcond"]]
    t = build_tables(pd.DataFrame(rows))[("cora", "gcn")]
    assert list(t.index) == ["gcond", "Random", "srgm:lambda=2", "srgm:lambda=10", "whole"]


def test_safe_file_names(tmp_path):
    rows = [
        row("gcond", 0.5, 0, 0.5, dataset="ogbn/arxiv v2"),
        row("gcond", 0.5, 0, 0.5, dataset="summary"),
        row("gcond", 0.5, 0, 0.5, dataset="../evil"),
    ]
    names = [p.name for p in write_leaderboard(pd.DataFrame(rows), tmp_path)]
    assert names == [
        "summary.csv",
        "_.._evil.csv",
        "_.._evil.md",
        "ogbn_arxiv_v2.csv",
        "ogbn_arxiv_v2.md",
        "summary_2.csv",
        "summary_2.md",
        "README.md",
    ]
    assert all(p.parent == tmp_path for p in tmp_path.iterdir())
    assert safe_filename("a b/c:d") == "a_b_c_d" and safe_filename("") == "_"


def test_missing_columns_raise_one_line_error(rows):
    df = pd.DataFrame(rows).drop(columns=["status", "test_score"])
    with pytest.raises(GCBenchError) as info:
        build_tables(df)
    msg = str(info.value)
    assert "\n" not in msg and "test_score" in msg and "status" in msg
    for fn in (summary, format_console, lambda d: write_leaderboard(d, "unused-dir")):
        with pytest.raises(GCBenchError):
            fn(df)


def test_malformed_ok_row_raises():
    with pytest.raises(GCBenchError, match="test_score"):
        build_tables(pd.DataFrame([row("gcond", 0.5, 0, None)]))
    with pytest.raises(GCBenchError, match="ratio"):
        build_tables(pd.DataFrame([row("gcond", float("nan"), 0, 0.5, n_syn=1)]))


def test_empty_results(tmp_path):
    df = pd.DataFrame([row("gcond", 0.5, 0, 0.5)]).iloc[0:0]
    assert build_tables(df) == {}
    assert format_console(df) == "no results\n"
    paths = write_leaderboard(df, tmp_path)
    assert [p.name for p in paths] == ["summary.csv", "README.md"]


# ----------------------------------------------------------------------------------------------------------
# Cross-architecture tables, the full report, and leaderboard folders (publish / check)


def cross_rows():
    return [
        row("gcond", 0.5, 0, 0.80),
        row("gcond", 0.5, 1, 0.82),
        row("gcond", 0.5, 0, 0.70, arch="sgc"),
        row("gcond", 0.5, 1, 0.74, arch="sgc"),
        row("random", 0.5, 0, 0.79),
        row("random", 0.5, 1, 0.83),
        row("random", 0.5, 0, 0.75, arch="sgc"),  # one seed only
        row("whole", None, 0, 0.90),
        row("whole", None, 1, 0.92),
        row("whole", None, 0, 0.88, arch="sgc"),
        row("whole", None, 1, 0.88, arch="sgc"),
        row("gcond", 0.25, 0, 0.70),  # gcn only at 0.25: no cross-architecture table there
    ]


def test_cross_arch_tables_exact_markdown_and_csv(tmp_path):
    from gcbench.report.aggregate import cross_arch_tables
    from gcbench.report.folder import write_report
    from gcbench.report.render import cross_arch_markdown

    tables = cross_arch_tables(pd.DataFrame(cross_rows()))
    assert list(tables) == [("cora", 0.5)]
    t = tables[("cora", 0.5)]
    assert t.attrs["archs"] == ["gcn", "sgc"] and list(t.index) == ["gcond", "random", "whole"]
    assert cross_arch_markdown(t).splitlines() == [
        "### cora, r=0.5 (70 nodes, 2.6%) — by evaluation architecture (accuracy, mean ± std over up to 2 seeds, "
        "(n=k) where fewer; std across condensation+evaluation seeds)",
        "",
        "| method | gcn | sgc | avg |",
        "|:---|---:|---:|---:|",
        "| gcond | **81.00 ± 1.41** | 72.00 ± 2.83 | 76.50 |",
        "| random | **81.00 ± 2.83** | **75.00 ± 0.00** (n=1) | **78.00** |",
        "| whole | 91.00 ± 1.41 | 88.00 ± 0.00 | 89.50 |",
    ]
    paths = write_report(pd.DataFrame(cross_rows()), tmp_path)
    # cora gcond / random / whole at r=0.5 under GCN have published numbers (the method cards): published.md
    assert [p.name for p in paths] == ["summary.csv", "cora.csv", "cora.md", "cross_arch.csv", "cross_arch.md",
                                       "published.md", "costs.md", "README.md"]
    assert (tmp_path / "cross_arch.csv").read_text().splitlines() == [
        "dataset,ratio,n_syn_nodes,method,arch,metric,mean,std,n_seeds",
        "cora,0.5,70,gcond,gcn,accuracy,81.0000,1.4142,2",
        "cora,0.5,70,gcond,sgc,accuracy,72.0000,2.8284,2",
        "cora,0.5,70,random,gcn,accuracy,81.0000,2.8284,2",
        "cora,0.5,70,random,sgc,accuracy,75.0000,0.0000,1",
        "cora,0.5,,whole,gcn,accuracy,91.0000,1.4142,2",
        "cora,0.5,,whole,sgc,accuracy,88.0000,0.0000,2",
    ]
    readme = (tmp_path / "README.md").read_text()
    assert "| cora | r=0.5 (70 nodes, 2.6%) | gcn, sgc | 2 |" in readme
    assert "Devices: `cpu`.\nVersions: `torch=2`." in readme
    # the same rows in another order give the same bytes
    again = write_report(pd.DataFrame(cross_rows()[::-1]), tmp_path / "again")
    assert [p.read_bytes() for p in again] == [p.read_bytes() for p in paths]


def test_write_report_nas_tables():
    from gcbench.nas import SPACE, full_space
    from gcbench.report.folder import report_files

    space = full_space()
    nas = pd.DataFrame([{"method": "gcond", "dataset": "cora", "ratio": 0.5, "seed": 0, "config_id": i,
                         **{f: space[i][f] for f in SPACE}, "epochs": 50, "eval_every": 5,
                         "cond_val": cv, "cond_test": cv, "full_val": fv, "full_test": fv, "metric": "accuracy"}
                        for i, (cv, fv) in enumerate([(0.5, 0.6), (0.9, 0.75), (0.7, 0.8), (0.8, 0.85)])])
    files = report_files(pd.DataFrame(cross_rows()), nas)
    assert files["nas.csv"].splitlines()[1].startswith("cora,0.5,gcond,0,4,50,accuracy,0.4000,0.3333,")
    assert "| gcond | 0 | 0.400 | 0.333 | 75.00 | 85.00 | 10.00 | 3 |" in files["nas.md"]
    assert "## NAS" in files["README.md"] and "[nas.md](nas.md)" in files["README.md"]


def results_folder(path, rows):
    from gcbench.results import COLUMNS

    path.mkdir(parents=True)
    pd.DataFrame(rows, columns=COLUMNS).to_csv(path / "results.csv", index=False)
    return path


def shifted(rows, points):
    return [{**r, "test_score": r["test_score"] + points / 100.0} if r["status"] == "ok" else r for r in rows]


def test_publish_then_check_passes_and_one_changed_number_fails(tmp_path, capsys):
    from gcbench import cli
    from gcbench.report.folder import check_folder, publish

    run = results_folder(tmp_path / "run", cross_rows())
    dest = tmp_path / "lb"
    written, skipped = publish(run, dest)
    names = sorted(p.relative_to(dest).as_posix() for p in written)
    assert "cross_arch.md" in names and "figures/cross_arch__cora__r0.5.svg" in names
    assert "figures/score_vs_ratio__cora__gcn.png" in names and dict(skipped)["nas"].startswith("no NAS")
    readme = (dest / "README.md").read_text()
    stem = "figures/cross_arch__cora__r0.5"  # a figure name with a dot keeps it
    assert f"* [cross_arch__cora__r0.5]({stem}.png) ([svg]({stem}.svg))" in readme
    report = check_folder(dest)
    assert report.ok, report.problems
    assert cli.main(["leaderboard", str(dest), "--check"]) == 0

    # change one committed number: the tables no longer match the rows
    text = (dest / "results.csv").read_text()
    (dest / "results.csv").write_text(text.replace("0.74,", "0.76,", 1))
    report = check_folder(dest)
    assert not report.ok
    assert any("summary.csv: differs from what the committed rows produce" in p for p in report.problems)
    assert any("cora.md: differs" in p for p in report.problems)
    assert cli.main(["leaderboard", str(dest), "--check"]) == 1
    assert "gcbench check: failed" in capsys.readouterr().err
    (dest / "results.csv").write_text(text)
    assert check_folder(dest).ok

    # a stray or stale file, a missing figure
    (dest / "old.md").write_text("x")
    (dest / "figures" / "cost_quality__cora__gcn.png").unlink()
    problems = check_folder(dest).problems
    assert any("old.md: not produced by the rows" in p for p in problems)
    assert any("cost_quality__cora__gcn.png: missing" in p for p in problems)


def test_check_against_a_fresh_run_with_tolerance(tmp_path):
    from gcbench.report.folder import check_folder, publish

    rows = cross_rows()
    dest = tmp_path / "lb"
    publish(results_folder(tmp_path / "run", rows), dest)
    close = results_folder(tmp_path / "close", shifted(rows, 2.9))
    report = check_folder(dest, against=close, tol=3.0)
    assert report.ok, report.problems
    assert any("largest difference +2.90 points" in n for n in report.notes)

    far = results_folder(tmp_path / "far", shifted(rows, 3.5))
    problems = check_folder(dest, against=far, tol=3.0, z=0.0).problems
    assert "cell cora/gcn/gcond r=0.5: mean test score 84.50 in the run vs 81.00 committed (difference +3.50 " \
           "points; allowed 3.00 = max(3, 0 x standard error 1.41))" in problems
    assert check_folder(dest, against=far, tol=4.0, z=0.0).ok
    # with the default z = 3 a cell may move by 3 standard errors of the difference of the two means:
    # gcond/gcn (sd 1.41 both sides, 2 seeds) -> SE = sqrt((2 + 2) / 2) = 1.41 -> allowed 4.24, so +3.5 passes,
    # and the cells with sd 0 (whole/sgc) or one seed (random/sgc) keep the 3-point rule and fail
    problems = check_folder(dest, against=far).problems
    assert not any("cora/gcn/gcond r=0.5" in p for p in problems)
    assert any(p.startswith("cell cora/sgc/whole: mean test score 91.50 in the run vs 88.00") for p in problems)
    assert any(p.startswith("cell cora/sgc/random r=0.5: mean test score 78.50") for p in problems)
    farther = results_folder(tmp_path / "farther", shifted(rows, 4.5))
    assert any("cora/gcn/gcond r=0.5: mean test score 85.50" in p and "allowed 4.24" in p
               for p in check_folder(dest, against=farther).problems)

    fewer = results_folder(tmp_path / "fewer", [r for r in rows if not (r["method"] == "random" and r["seed"] == 1)])
    problems = check_folder(dest, against=fewer).problems
    assert "cell cora/gcn/random r=0.5: 1 ok seed(s) in the run, 2 committed" in problems
    extra = results_folder(tmp_path / "extra", rows + [row("srgm", 0.5, 0, 0.8)])
    problems = check_folder(dest, against=extra).problems
    assert any(p.startswith("cell cora/gcn/srgm r=0.5: produced by the run, not in the committed rows")
               for p in problems)
    failed = results_folder(tmp_path / "failed", rows + [row("gcond", 0.25, 1, None, status="failed", error="oom")])
    problems = check_folder(dest, against=failed).problems
    assert any("failed row(s) cora/gcn/gcond r=0.25 seed(s) 1: oom" in p for p in problems)


def test_check_fails_on_committed_failed_rows_and_bad_folders(tmp_path, capsys):
    from gcbench import cli
    from gcbench.report.folder import check_folder, publish

    dest = tmp_path / "lb"
    publish(results_folder(tmp_path / "run", cross_rows() + [row("kcenter", 0.5, 0, None, status="failed",
                                                                  error="boom")]), dest)
    problems = check_folder(dest).problems
    assert len(problems) == 1 and "failed row(s) cora/gcn/kcenter r=0.5 seed(s) 0: boom" in problems[0]
    assert cli.main(["leaderboard", str(tmp_path / "nope"), "--check"]) == 2
    assert "leaderboard folder not found" in capsys.readouterr().err
    assert cli.main(["leaderboard", str(dest), "--against", str(dest)]) == 2  # --against needs --check
    other = tmp_path / "other"
    other.mkdir()
    (other / "keep.txt").write_text("mine")
    with pytest.raises(GCBenchError, match="not a leaderboard folder"):
        publish(tmp_path / "run", other)
    assert (other / "keep.txt").read_text() == "mine"
    with pytest.raises(GCBenchError, match="is not a folder"):
        publish(tmp_path / "run", other / "keep.txt")
    # malformed rows in the run: an error before the destination is touched
    bad = tmp_path / "bad"
    bad.mkdir()
    (bad / "results.csv").write_text("method,dataset\nrandom,cora\n")
    before = sorted(p.name for p in dest.rglob("*"))
    with pytest.raises(GCBenchError, match="malformed"):
        publish(bad, dest)
    assert sorted(p.name for p in dest.rglob("*")) == before


def test_publish_with_a_suite_keeps_only_its_complete_groups(tmp_path, capsys):
    """A study still running publishes its finished (method, dataset, ratio) groups only: every (arch, seed)
    of the suite ok; incomplete groups, failed rows and methods the suite does not name stay out, are listed,
    and their logs are not copied. The published folder passes --check."""
    from gcbench import cli
    from gcbench.report.folder import check_folder

    suite = tmp_path / "s.yaml"
    suite.write_text("name: s\narchs: [gcn, mlp]\nseeds: 0-1\ngrids:\n  - name: g\n"
                     "    methods: [whole, random, herding]\n    datasets: [cora]\n    ratios: [0.5]\n")
    rs = [row(m, 0.5, s, 0.7 + s / 100, arch=a) for m in ("whole", "random") for s in (0, 1) for a in ("gcn", "mlp")]
    rs += [row("herding", 0.5, s, 0.7, arch=a) for s, a in ((0, "gcn"), (0, "mlp"), (1, "gcn"))]  # 3 of 4
    rs += [row("herding", 0.5, 1, 0.7, arch="mlp", status="failed", error="boom")]
    rs += [row("kcenter", 0.5, s, 0.7, arch=a) for s in (0, 1) for a in ("gcn", "mlp")]  # not in the suite
    run = results_folder(tmp_path / "run", rs)
    (run / "logs").mkdir()
    for stem in ("random__cora__r0.5__s0__abc", "herding__cora__r0.5__s0__abc", "whole__cora__full__s1__abc"):
        (run / "logs" / f"{stem}.csv").write_text("epoch,loss,elapsed_s,val_score\n1,0.5,1.0,0.4\n")
    dest = tmp_path / "lb"
    assert cli.main(["leaderboard", str(run), "--publish", str(dest), "--suite", str(suite)]) == 0
    err = capsys.readouterr().err
    assert "left out herding / cora / r=0.5: 3 of 4 (arch, seed) rows ok" in err
    assert "left out kcenter / cora / r=0.5: not in the suite" in err
    pub = pd.read_csv(dest / "results.csv")
    assert sorted(set(pub["method"])) == ["random", "whole"] and len(pub) == 8
    assert sorted(p.stem for p in (dest / "logs").glob("*.csv")) == ["random__cora__r0.5__s0__abc",
                                                                     "whole__cora__full__s1__abc"]
    # the values are copied as written, not re-formatted
    src_lines = (run / "results.csv").read_text().splitlines()
    assert all(line in src_lines for line in (dest / "results.csv").read_text().splitlines())
    assert check_folder(dest).ok
    assert cli.main(["leaderboard", str(run), "--suite", str(suite)]) != 0
    assert "--suite goes with --publish" in capsys.readouterr().err
    empty = tmp_path / "s2.yaml"
    empty.write_text(suite.read_text().replace("[whole, random, herding]", "[herding]"))
    assert cli.main(["leaderboard", str(run), "--publish", str(dest), "--suite", str(empty)]) != 0
    assert "selected; nothing to publish" in capsys.readouterr().err
    assert check_folder(dest).ok and len(pd.read_csv(dest / "results.csv")) == 8  # what was published stays


def test_publish_with_a_suite_keeps_only_its_complete_nas_studies(tmp_path, capsys):
    """A suite's NAS study is published once it holds every configuration of its search space; a study still
    running and one the suite does not name stay out and are listed."""
    from gcbench import cli
    from gcbench.nas import STUDY_COLUMNS, search_space, study_filename, write_csv
    from gcbench.report.folder import check_folder

    suite = tmp_path / "s.yaml"
    suite.write_text("name: s\narchs: [gcn]\nseeds: 0-1\ngrids:\n  - name: g\n"
                     "    methods: [random, herding]\n    datasets: [cora]\n    ratios: [0.5]\n"
                     "nas:\n  - {methods: [random, herding], dataset: cora, ratio: 0.5, seed: 0, configs: 6,"
                     " epochs: 100}\n")
    rs = [row(m, 0.5, s, 0.7 + s / 100) for m in ("random", "herding") for s in (0, 1)]
    run = results_folder(tmp_path / "run", rs)
    space = search_space(6)

    def study(method, n, seed=0, n_rows=None):
        rows = [{"method": method, "dataset": "cora", "ratio": 0.5, "seed": seed, **c, "epochs": 100,
                 "eval_every": 10, "cond_val": 0.5 + k / 100, "cond_test": 0.5, "full_val": 0.6 + k / 100,
                 "full_test": 0.6, "cond_s": 1.0, "full_s": 1.0, "n_syn_nodes": 70, "metric": "accuracy",
                 "config_hash": "h", "dataset_sha": "s", "versions": "v", "timestamp": "t"}
                for k, c in enumerate(space[:n if n_rows is None else n_rows])]
        write_csv(run / "nas" / study_filename(method, "cora", 0.5, seed), STUDY_COLUMNS, rows)

    study("random", 6)
    study("herding", 3)  # still running
    study("kcenter", 6)  # not a study of the suite
    dest = tmp_path / "lb"
    assert cli.main(["leaderboard", str(run), "--publish", str(dest), "--suite", str(suite)]) == 0
    err = capsys.readouterr().err
    assert "left out NAS herding__cora__r0.5__s0.csv: 3 of 6 configurations" in err
    assert "left out NAS kcenter__cora__r0.5__s0.csv: not a NAS study of the suite" in err
    assert [p.name for p in (dest / "nas").glob("*.csv")] == ["random__cora__r0.5__s0.csv"]
    nas_md = (dest / "nas.md").read_text()
    assert "random" in nas_md and "herding" not in nas_md and "kcenter" not in nas_md
    assert check_folder(dest).ok

    # a group of seeds is published whole: with seed 1 named by the suite and still running, seed 0 waits
    suite.write_text(suite.read_text() + "  - {methods: [random], dataset: cora, ratio: 0.5, seed: 1, configs: 6,"
                                         " epochs: 100}\n")
    study("random", 6, seed=1, n_rows=2)
    dest2 = tmp_path / "lb2"
    assert cli.main(["leaderboard", str(run), "--publish", str(dest2), "--suite", str(suite)]) == 0
    err = capsys.readouterr().err
    assert ("left out NAS random__cora__r0.5__s0.csv: its group's seed 1 is not complete "
            "(random__cora__r0.5__s1.csv: 2 of 6 configurations)") in err
    assert not list((dest2 / "nas").glob("*.csv"))
    study("random", 6, seed=1)
    assert cli.main(["leaderboard", str(run), "--publish", str(dest2), "--suite", str(suite)]) == 0
    assert sorted(p.name for p in (dest2 / "nas").glob("*.csv")) == ["random__cora__r0.5__s0.csv",
                                                                     "random__cora__r0.5__s1.csv"]


def test_nas_comparison_allows_a_condensed_graph_its_seed_spread(tmp_path):
    """A NAS study has one seed: its mean condensed-graph test score may move by max(tol, z x SE), SE from the
    seed spread of the same method's cells at that dataset and ratio (one graph against another); the mean
    full-graph score and a method without two seeds keep the plain tolerance."""
    from gcbench.nas import search_space
    from gcbench.report.compare import compare_nas, graph_spread

    space = search_space(4)

    def nas(method, cond, full=0.9):
        return pd.DataFrame([{"method": method, "dataset": "cora", "ratio": 0.5, "seed": 0, **c, "epochs": 50,
                              "eval_every": 5, "cond_val": cond + k / 100, "cond_test": cond,
                              "full_val": full + k / 100, "full_test": full, "metric": "accuracy"}
                             for k, c in enumerate(space)])

    results = pd.DataFrame(cross_rows())
    # gcond at r=0.5: seed 0 mean over gcn/sgc (80 + 70) / 2 = 75, seed 1 (82 + 74) / 2 = 78 -> sd 2.12;
    # random at r=0.5 has its sgc cell on seed 0 only: per-seed means 77 and 83 -> sd 4.24
    spread = graph_spread(results)
    assert spread[("cora", "0.5", "gcond")] == pytest.approx(2.1213, abs=1e-4)
    assert spread[("cora", "0.5", "random")] == pytest.approx(4.2426, abs=1e-4)
    assert ("cora", "0.25", "gcond") in spread and math.isnan(spread[("cora", "0.25", "gcond")])  # one seed

    def problems(method, cond_run, full_run=0.9, z=3.0, res=results):
        out, notes = [], []
        compare_nas(nas(method, 0.70), nas(method, cond_run, full_run), 3.0, 0.15, out, notes, z, res, res)
        return out

    # SE = sqrt(2.12^2 + 2.12^2) = 3.0 -> allowed 9.0: a 6-point move passes, a 10-point one fails
    assert problems("gcond", 0.76) == []
    (p,) = problems("gcond", 0.80)
    assert p == ("NAS gcond on cora r=0.5 seed 0: mean cond test over the configurations 80.00 in the run vs "
                 "70.00 committed (allowed 9.00 = max(3, 3 x standard error 3.00 of one condensed graph against "
                 "another, from the seed spread of its cells))")
    # z = 0, no results rows, or a full-graph move: the plain 3 points
    assert len(problems("gcond", 0.76, z=0.0)) == 1
    assert len(problems("gcond", 0.76, res=None)) == 1
    (p,) = problems("gcond", 0.70, full_run=0.95)
    assert "mean full test over the configurations 95.00 in the run vs 90.00 committed (tolerance 3 points)" in p
    assert problems("kcenter", 0.76) != []  # no cells of kcenter: no spread to allow for


def test_suite_matches_rows_under_a_resolved_dataset_name(tmp_path):
    """A suite that leaves an Amazon graph's ``features`` open (``amazon-toys:image_dim=128``) names the rows
    the loader wrote under the resolved name (``features=synthetic`` without the CLIP files): each resolved
    variant is a group of its own, published when complete and listed under its own name when not; the
    open spec is not listed as a group with no rows. NAS studies match the same way."""
    from gcbench.nas import STUDY_COLUMNS, search_space, study_filename, write_csv
    from gcbench.results import COLUMNS
    from gcbench.suite import parse_suite

    suite = parse_suite({"name": "s", "archs": ["gcn", "mlp"], "seeds": "0-1", "methods": ["random", "herding"],
                         "datasets": ["amazon-toys:image_dim=128"], "ratios": [0.05],
                         "nas": [{"methods": ["random"], "dataset": "amazon-toys:image_dim=128", "ratio": 0.05,
                                  "seed": 0, "configs": 6, "epochs": 100}]})
    syn, clip = "amazon-toys:features=synthetic:image_dim=128", "amazon-toys:features=clip:image_dim=128"
    other = "amazon-toys:features=synthetic:image_dim=64"
    rs = [row("random", 0.05, s, 0.7, dataset=d, arch=a) for d in (syn, clip) for s in (0, 1) for a in ("gcn", "mlp")]
    rs += [row("herding", 0.05, 0, 0.7, dataset=syn, arch="gcn"), row("random", 0.05, 0, 0.7, dataset=other)]
    kept, left = suite.complete_rows(pd.DataFrame(rs, columns=COLUMNS))
    assert len(kept) == 8 and sorted(set(kept["dataset"])) == [clip, syn] and set(kept["method"]) == {"random"}
    assert left == [f"herding / {syn} / r=0.05: 1 of 4 (arch, seed) rows ok",
                    f"random / {other} / r=0.05: not in the suite"]
    # with no rows at all for a method, the open spec is what is missing
    kept, left = suite.complete_rows(pd.DataFrame(rs[:8], columns=COLUMNS))
    assert left == ["herding / amazon-toys:image_dim=128 / r=0.05: 0 of 4 (arch, seed) rows ok"]

    def study(dataset, n):
        rows = [{"method": "random", "dataset": dataset, "ratio": 0.05, "seed": 0, **c, "epochs": 100,
                 "eval_every": 10, "cond_val": 0.5, "cond_test": 0.5, "full_val": 0.6, "full_test": 0.6,
                 "cond_s": 1.0, "full_s": 1.0, "n_syn_nodes": 70, "metric": "accuracy", "config_hash": "h",
                 "dataset_sha": "s", "versions": "v", "timestamp": "t"} for c in search_space(6)[:n]]
        path = tmp_path / study_filename("random", dataset, 0.05, 0)
        write_csv(path, STUDY_COLUMNS, rows)
        return path

    assert suite.complete_nas(study(syn, 6)) is None
    assert suite.complete_nas(study(clip, 3)).endswith("3 of 6 configurations")
    assert suite.complete_nas(study(other, 6)).endswith("not a NAS study of the suite")
