"""Plateau stopping of the learned condensers (``patience``) and the ``condense_epochs`` column."""

from __future__ import annotations

import math

import pandas as pd
import pytest
import torch

from gcbench import cli
from gcbench.condensers import sfgc as S
from gcbench.condensers.base import MethodSpec, Plateau, get_condenser
from gcbench.errors import GCBenchError
from gcbench.graph import Budget

CPU = torch.device("cpu")
FAST = {"epochs": 12, "outer": 5, "inner": 3, "lr_feat": 0.01, "lr_adj": 0.01, "val_every": 2,
        "select_eval_every": 10}


def test_plateau_counts_epochs_since_the_best_check():
    p = Plateau(4)
    # checks every 2 epochs: best at 4 (0.6); 6 and 8 do not beat it; 8 - 4 >= 4 stops
    seq = [(1, None), (2, 0.5), (3, None), (4, 0.6), (5, None), (6, 0.6), (7, None), (8, 0.55)]
    stops = [p.step(e, k) for e, k in seq]
    assert stops == [False] * 7 + [True]
    assert p.meta() == {"epochs_run": 8, "patience": 4,
                        "stopped": "plateau: no validation gain in 4 epochs after epoch 4 (patience 4)"}
    off = Plateau(0)
    assert not any(off.step(e, 0.1) for e in range(1, 50))  # 0: never stops
    assert off.meta() == {"epochs_run": 49, "stopped": "", "patience": 0}
    nan = Plateau(1)
    assert not nan.step(1, math.nan) and not nan.step(2, 0.3) and nan.step(3, 0.2)


@pytest.mark.parametrize("spec,message", [
    ("gcond:patience=-1", "patience must be an integer >= 0"),
    ("srgm:patience=100:val_every=0", "patience 100 needs validation checks"),
    ("doscond:patience=1.5", "patience"),
    ("sfgc:patience=50:select=last", "patience 50 needs validation checks"),
    ("sfgc:patience=50:select_every=0", "patience 50 needs validation checks"),
])
def test_patience_that_cannot_work_is_one_clear_error(spec, message):
    with pytest.raises(GCBenchError, match=message):
        MethodSpec(spec).build("cora")


def test_gcond_plateau_stop_is_a_prefix_of_the_full_run(small_graph):
    """A stopped run is the full run cut short: same epochs, same scores; its selection is the best of the
    epochs it ran, and the log and ``meta`` say where and why it stopped."""
    budget = Budget.from_graph(small_graph, 0.1)
    full = get_condenser("gcond")(**{**FAST, "epochs": 24}).condense(small_graph, budget, seed=0, device=CPU)
    checks = [(r["epoch"], r["val_score"]) for r in full.log if not math.isnan(r["val_score"])]
    # the first check that is at least 4 epochs past the best check before it: where patience 4 stops
    expect, best, best_e = None, -math.inf, 0
    for e, v in checks:
        if v > best:
            best, best_e = v, e
        elif e - best_e >= 4:
            expect = e
            break
    assert expect is not None, f"no plateau in 24 epochs: {checks}"
    cut = get_condenser("gcond")(**{**FAST, "epochs": 24, "patience": 4}).condense(
        small_graph, budget, seed=0, device=CPU)
    assert cut.meta["epochs_run"] == expect == len(cut.log) and cut.meta["stopped"].startswith("plateau")
    assert [r["val_score"] for r in cut.log] == [r["val_score"] for r in full.log[:expect]]
    assert [r["loss"] for r in cut.log] == [r["loss"] for r in full.log[:expect]]
    assert cut.meta["best_epoch"] == best_e and cut.meta["best_val"] == best
    assert full.meta["epochs_run"] == 24 and full.meta["stopped"] == ""


def test_sfgc_stops_on_a_gntk_plateau(small_graph, tmp_path, monkeypatch):
    monkeypatch.setenv("GCBENCH_CACHE", str(tmp_path))
    budget = Budget.from_graph(small_graph, 0.1)
    fast = {"hidden": 32, "n_experts": 2, "expert_epochs": 30, "max_start_epoch": 20, "start_every": 10,
            "syn_steps": 10, "iterations": 40, "lr_student": 0.01, "lr_feat": 0.1, "init_epochs": 50,
            "select_every": 2}
    full = S.SFGC(**fast).condense(small_graph, budget, seed=0, device=CPU)
    scores = [(r["epoch"], -r["gntk_score"]) for r in full.log if not math.isnan(r["gntk_score"])]
    cut = S.SFGC(**fast, patience=2).condense(small_graph, budget, seed=0, device=CPU)
    n = cut.meta["epochs_run"]
    assert n == len(cut.log) and n <= 40
    ran = [k for e, k in scores if e <= n]
    best_e = max((e for e, k in scores if e <= n and k == max(ran)), default=0)
    assert cut.meta["best_iteration"] == min(e for e, k in scores if e <= n and k == max(ran))
    if n < 40:  # stopped: the last check did not beat a best at least 2 iterations earlier
        assert cut.meta["stopped"].startswith("plateau: no validation gain") and n - best_e >= 2
    assert [r["loss"] for r in cut.log] == [r["loss"] for r in full.log[:n]]


def test_rows_record_the_epochs_a_condensation_ran(tmp_path):
    out = tmp_path / "out"
    rc = cli.main(["run", "--methods", "random,gcond:epochs=6:val_every=1:patience=1:lr_feat=0:lr_adj=0",
                   "--datasets", "synthetic-ecommerce:n_nodes=300", "--ratios", "0.25", "--archs", "mlp",
                   "--seeds", "0", "--out", str(out), "--eval", "epochs=5"])
    assert rc == 0
    df = pd.read_csv(out / "results.csv").set_index("method")
    assert pd.isna(df.loc["random", "condense_epochs"])  # one-shot: nothing ran
    row = df.loc[[m for m in df.index if m.startswith("gcond")][0]]
    # lr 0: the graph never changes after epoch 1, so validation cannot improve and patience 1 stops at 2
    assert row["condense_epochs"] == 2 and row["condense_epoch"] == 1
