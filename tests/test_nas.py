"""NAS: rank correlations and summaries on hand-made cases, the search space, and a tiny end-to-end study."""

from __future__ import annotations

import math

import pandas as pd
import pytest

from gcbench import cli
from gcbench.errors import GCBenchError
from gcbench.nas import (
    SPACE,
    STUDY_COLUMNS,
    full_space,
    nas_summary,
    rank_correlations,
    read_study_files,
    run_nas,
    search_space,
    summarize_study,
)
from gcbench.report.render import nas_summary_csv, nas_summary_markdown

DS = "synthetic-ecommerce:n_nodes=300:train_frac=0.2"


def test_rank_correlations_on_known_rankings():
    # two adjacent swaps among 5: sum d^2 = 4 -> rho = 1 - 6*4 / (5*24) = 0.8;
    # 2 discordant of 10 pairs -> tau = (8 - 2) / 10 = 0.6
    rho, tau = rank_correlations([1, 2, 3, 4, 5], [2, 1, 4, 3, 5])
    assert rho == pytest.approx(0.8, abs=1e-12) and tau == pytest.approx(0.6, abs=1e-12)
    assert rank_correlations([0.1, 0.2, 0.3], [0.9, 0.5, 0.4]) == (pytest.approx(-1.0), pytest.approx(-1.0))
    # only the order matters (a monotone transform changes nothing)
    assert rank_correlations([1, 2, 3, 4], [10, 20, 30, 40]) == (pytest.approx(1.0), pytest.approx(1.0))
    # one full reversal of the middle three of 5: d = (0, 2, 0, -2, 0) -> rho = 1 - 6*8/120 = 0.6;
    # discordant pairs: (2,3),(2,4),(3,4) -> tau = (7 - 3) / 10 = 0.4
    rho, tau = rank_correlations([1, 2, 3, 4, 5], [1, 4, 3, 2, 5])
    assert rho == pytest.approx(0.6, abs=1e-12) and tau == pytest.approx(0.4, abs=1e-12)
    assert all(math.isnan(v) for v in rank_correlations([1, 1, 1], [1, 2, 3]))  # constant: undefined


def study_rows(cond_val, full_val, *, cond_test=None, full_test=None, method="gcond", seed=0, ids=None):
    space = full_space()
    ids = ids or list(range(len(cond_val)))
    out = []
    for k, i in enumerate(ids):
        cfg = {f: space[i][f] for f in SPACE}
        out.append({
            "method": method, "dataset": "cora", "ratio": 0.5, "seed": seed, "config_id": i, **cfg,
            "epochs": 100, "eval_every": 10, "cond_val": cond_val[k], "full_val": full_val[k],
            "cond_test": (cond_test or cond_val)[k], "full_test": (full_test or full_val)[k], "metric": "accuracy",
        })
    return pd.DataFrame(out)


def test_summary_chosen_best_gap_rank():
    # the condensed graph ranks config 1 first; on the full graph config 3 is best and config 1 is third
    rows = study_rows(cond_val=[0.5, 0.9, 0.7, 0.8], full_val=[0.6, 0.75, 0.8, 0.85],
                      full_test=[0.61, 0.74, 0.79, 0.83])
    s = summarize_study(rows)
    assert s["chosen_id"] == 1 and s["best_id"] == 3
    assert s["chosen_full_test"] == pytest.approx(74.0) and s["best_full_test"] == pytest.approx(83.0)
    assert s["gap"] == pytest.approx(9.0) and s["chosen_rank"] == 3 and s["n_configs"] == 4
    # cond ranks (1..4): [1, 4, 2, 3], full: [1, 2, 3, 4] -> d^2 = 0 + 4 + 1 + 1 = 6 -> rho = 1 - 36/60 = 0.4
    # pairs: (0,1)+ (0,2)+ (0,3)+ (1,2)- (1,3)- (2,3)+ -> tau = (4 - 2) / 6
    assert s["spearman"] == pytest.approx(0.4) and s["kendall"] == pytest.approx(1 / 3)
    assert s["chosen_config"] == "gcn L2 h64 d0 lr0.01 wd0"  # config 1 of the product: weight_decay 0


def test_ties_go_to_the_smaller_config_id_and_order_does_not_matter():
    rows = study_rows(cond_val=[0.7, 0.9, 0.9], full_val=[0.9, 0.5, 0.9], ids=[10, 4, 7])
    s = summarize_study(rows)
    assert s["chosen_id"] == 4 and s["best_id"] == 7 and s["chosen_rank"] == 3
    shuffled = rows.sample(frac=1.0, random_state=3)
    assert summarize_study(shuffled) == s


def test_summary_csv_and_markdown_exact():
    a = study_rows(cond_val=[0.5, 0.9, 0.7, 0.8], full_val=[0.6, 0.75, 0.8, 0.85])
    b = study_rows(cond_val=[0.1, 0.2, 0.3, 0.4], full_val=[0.6, 0.75, 0.8, 0.85], method="random")
    summ = nas_summary(pd.concat([a, b], ignore_index=True))
    assert list(summ["method"]) == ["gcond", "random"]
    lines = nas_summary_csv(summ).splitlines()
    assert lines[1] == ("cora,0.5,gcond,0,4,100,accuracy,0.4000,0.3333,0.4000,0.3333,1,gcn L2 h64 d0 lr0.01 wd0,"
                        "75.00,3,gcn L2 h64 d0 lr0.001 wd0,85.00,10.00,3")
    assert lines[2] == ("cora,0.5,random,0,4,100,accuracy,1.0000,1.0000,1.0000,1.0000,3,gcn L2 h64 d0 lr0.001 wd0,"
                        "85.00,3,gcn L2 h64 d0 lr0.001 wd0,85.00,0.00,1")
    md = nas_summary_markdown(summ).splitlines()
    assert md[0] == "### NAS on cora, r=0.5 (4 configurations, 100 epochs each)"
    assert md[4] == "| gcond | 0 | 0.400 | 0.333 | 75.00 | 85.00 | 10.00 | 3 | gcn L2 h64 d0 lr0.01 wd0 |"
    assert md[5] == "| random | 0 | 1.000 | 1.000 | 85.00 | 85.00 | 0.00 | 1 | gcn L2 h64 d0 lr0.001 wd0 |"


def test_bad_study_rows_are_errors():
    rows = study_rows(cond_val=[0.5, 0.9], full_val=[0.6, 0.7])
    with pytest.raises(GCBenchError, match="full_test"):
        nas_summary(rows.drop(columns=["full_test"]))
    rows.loc[0, "cond_val"] = None
    with pytest.raises(GCBenchError, match="cond_val"):
        nas_summary(rows)


def test_search_space_size_subsets_and_determinism():
    space = search_space()
    assert len(space) == 96 >= 48
    assert len({tuple(c[f] for f in SPACE) for c in space}) == 96
    assert set(SPACE) == {"arch", "layers", "hidden", "dropout", "lr", "weight_decay"}
    sub = search_space(48)
    assert len(sub) == 48 and sub == search_space(48)
    assert [c["config_id"] for c in sub] == sorted(c["config_id"] for c in sub)
    assert pd.Series([c["arch"] for c in sub]).value_counts().to_dict() == {"gcn": 16, "sage": 16, "appnp": 16}
    assert search_space(200) == space
    for bad in (1, 0, -3):
        with pytest.raises(GCBenchError, match="configs"):
            search_space(bad)


def test_run_nas_end_to_end_resume_and_shared_full_graph_scores(tmp_path, capsys):
    out = tmp_path / "out"
    path, s = run_nas("random", DS, 0.5, out=out, configs=4, epochs=5, eval_every=5)
    df = read_study_files([path])
    assert list(df.columns) == list(STUDY_COLUMNS) and len(df) == 4
    assert path.name == "random__synthetic-ecommerce_n_nodes=300_train_frac=0.2__r0.5__s0.csv"
    assert df[["cond_val", "cond_test", "full_val", "full_test"]].stack().between(0, 1).all()
    assert s["n_configs"] == 4 and -1 <= s["spearman"] <= 1 and s["chosen_rank"] >= 1
    assert len(list((out / "condensed").glob("random__*.pt"))) == 1  # saved for reuse
    full = next((out / "nas" / "full").glob("*.csv"))
    before, before_full = path.read_bytes(), full.read_bytes()
    run_nas("random", DS, 0.5, out=out, configs=4, epochs=5, eval_every=5)  # resume: nothing retrained
    assert path.read_bytes() == before and full.read_bytes() == before_full
    # a second method reuses the full-graph scores
    path2, _ = run_nas("kcenter:embed_epochs=5", DS, 0.5, out=out, configs=4, epochs=5, eval_every=5)
    assert full.read_bytes() == before_full
    a, b = read_study_files([path]), read_study_files([path2])
    assert list(a["full_val"]) == list(b["full_val"]) and list(a["config_id"]) == list(b["config_id"])


def test_nas_bad_input():
    with pytest.raises(GCBenchError, match="whole-graph reference"):
        run_nas("whole", DS, 0.5, configs=4, epochs=5)
    with pytest.raises(GCBenchError, match="unknown method"):
        run_nas("nosuch", DS, 0.5, configs=4, epochs=5)
    with pytest.raises(GCBenchError, match="unknown dataset"):
        run_nas("random", "nosuch", 0.5, configs=4, epochs=5)


def test_nas_command(tmp_path, capsys):
    rc = cli.main(["nas", "--method", "random", "--dataset", DS, "--ratio", "0.5", "--out", str(tmp_path),
                   "--configs", "3", "--epochs", "4", "--eval-every", "2"])
    assert rc == 0
    out = capsys.readouterr().out
    assert out.startswith(f"### NAS on {DS}, r=0.5 (3 configurations, 4 epochs each)")
    assert "| random | 0 |" in out
    assert cli.main(["nas", "--method", "random", "--dataset", DS, "--ratio", "0.5", "--configs", "1",
                     "--out", str(tmp_path)]) == 2
    err = capsys.readouterr().err
    assert err.startswith("gcbench: error: --configs must be an integer >= 2") and len(err.strip().splitlines()) == 1
    assert cli.main(["nas", "--method", "nosuch", "--dataset", DS, "--ratio", "0.5", "--out", str(tmp_path)]) == 2
    assert "unknown method 'nosuch'" in capsys.readouterr().err
