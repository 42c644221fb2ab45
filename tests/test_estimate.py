"""``gcbench run --estimate``: the cost model recovers known costs, and the CLI prints an estimate and
writes nothing."""

from __future__ import annotations

import math

import pytest

from gcbench import cli, estimate
from gcbench.estimate import CondenseCost, probe_condensation, selections

DS = "synthetic-ecommerce:n_nodes=400:train_frac=0.2"


@pytest.mark.parametrize("iters,every,expect", [(600, 100, 6), (1000, 300, 4), (5, 1, 5), (7, 0, 1), (1, 1, 1)])
def test_selections_every_k_and_at_the_last(iters, every, expect):
    assert selections(iters, every) == expect


class FakeMethod:
    """Costs by formula: fixed A, B per first-kind iteration, B2 per other iteration, C per selection, and a
    one-time ONCE paid by the first condensation only."""

    A, B, B2, C, ONCE = 2.0, 0.5, 0.2, 3.0, 40.0

    def __init__(self, **config):
        self.config = config

    def cost(self, first: bool) -> float:
        cfg = self.config
        n = cfg["epochs"]
        first_kind = sum((e - 1) % cfg["adj_every"] < cfg["adj_steps"] for e in range(1, n + 1)) if cfg["learn_adj"] \
            else 0
        return (self.A + self.B * first_kind + self.B2 * (n - first_kind) + self.C * selections(n, cfg["val_every"])
                + (self.ONCE if first else 0.0))


def test_probe_recovers_the_costs_of_a_method_with_two_kinds_of_epoch(monkeypatch):
    calls = []

    def condense(method):
        calls.append(method)
        return method

    def timed(fn):
        method = fn()
        return method, method.cost(first=len(calls) == 1)

    monkeypatch.setattr(estimate, "_timed", timed)
    m = FakeMethod(epochs=600, val_every=100, adj_every=50, adj_steps=10, learn_adj=True)
    _, cost = probe_condensation(m, None, None, None, condense)
    assert cost.once == pytest.approx(FakeMethod.ONCE)
    assert cost.per_select == pytest.approx(FakeMethod.C)
    assert cost.per_iter == pytest.approx(0.2 * FakeMethod.B + 0.8 * FakeMethod.B2)
    assert cost.per_cell() == pytest.approx(m.cost(first=False))
    assert all(c.config["epochs"] <= 3 for c in calls)  # probes are short


def test_probe_of_a_method_without_iterations(monkeypatch):
    class OneShot:
        config = {"k": 3}

    costs = iter([5.0, 1.5])
    monkeypatch.setattr(estimate, "_timed", lambda fn: (fn(), next(costs)))
    _, cost = probe_condensation(OneShot(), None, None, None, lambda m: m)
    assert (cost.fixed, cost.once, cost.per_cell()) == (1.5, 3.5, 1.5)
    assert math.isclose(CondenseCost(fixed=1.0, per_iter=2.0, per_select=0.5, iterations=10, every=5).per_cell(),
                        1.0 + 20 + 1.0)


def test_cli_estimate_prints_a_table_and_writes_nothing(tmp_path, capsys):
    out = tmp_path / "out"
    rc = cli.main(["run", "--methods", "random,gcond:epochs=4:val_every=2", "--datasets", DS, "--ratios", "0.5",
                   "--archs", "gcn,mlp", "--seeds", "0-2", "--eval", "epochs=30", "--out", str(out), "--estimate",
                   "--no-progress"])
    assert rc == 0
    text = capsys.readouterr().out
    rows = [line for line in text.splitlines() if line.startswith("| random") or line.startswith("| gcond")]
    assert len(rows) == 2 and "| 3 |" in rows[1] and "4 it." in rows[1]
    assert "Grid total" in text and "for 12 row(s)" in text
    assert "upper bound" not in text
    assert not out.exists()


def test_cli_estimate_of_a_plateau_stop_is_an_upper_bound(tmp_path, capsys):
    rc = cli.main(["run", "--methods", "gcond:epochs=4:val_every=2:patience=2", "--datasets", DS, "--ratios",
                   "0.5", "--archs", "mlp", "--seeds", "0", "--eval", "epochs=20", "--out", str(tmp_path / "o"),
                   "--estimate", "--no-progress"])
    assert rc == 0
    text = capsys.readouterr().out
    row = next(line for line in text.splitlines() if line.startswith("| gcond"))
    assert "| at most " in row and "4 it." in row
    assert "1 (method, dataset) pair(s) stop on a validation plateau" in text and "upper bound" in text


def test_cli_estimate_leaves_out_done_rows(tmp_path, capsys):
    out = tmp_path / "out"
    args = ["run", "--methods", "random", "--datasets", DS, "--ratios", "0.5", "--archs", "gcn", "--seeds", "0",
            "--eval", "epochs=30", "--out", str(out), "--no-progress", "--quiet"]
    assert cli.main(args) == 0
    capsys.readouterr()
    assert cli.main(args + ["--seeds", "0,1", "--estimate"]) == 0
    assert "for 1 row(s)" in capsys.readouterr().out


def test_estimate_from_measured_rows_needs_no_probe(tmp_path, monkeypatch, capsys):
    """A resumed grid is costed from its own rows: the median seconds of the same configuration, exactly;
    a (method, dataset) with an architecture or an option never measured is probed instead."""
    import pandas as pd

    from gcbench.runner import Grid, Runner

    out = tmp_path / "out"
    base = ["run", "--datasets", DS, "--ratios", "0.5", "--eval", "epochs=20", "--out", str(out), "--no-progress",
            "--quiet"]
    assert cli.main(base + ["--methods", "random,gcond:epochs=2:val_every=1", "--archs", "gcn,mlp",
                            "--seeds", "0,1"]) == 0
    capsys.readouterr()
    done = pd.read_csv(out / "results.csv")
    probed = []

    def probe(method, *args, **kwargs):
        probed.append(type(method).__name__)
        return real_probe(method, *args, **kwargs)

    real_probe = estimate.probe_condensation
    monkeypatch.setattr(estimate, "probe_condensation", probe)
    grid = Grid(methods=["random", "gcond:epochs=2:val_every=1", "gcond:epochs=3:val_every=1"], datasets=[DS],
                ratios=[0.5], archs=["gcn", "mlp"], seeds=[2, 3, 4], eval_overrides={"epochs": 20})
    runner = Runner(grid, out, device="cpu")
    est = {e.method: e for e in estimate.estimate_cells(runner.prepare(), runner.device,
                                                        measured=runner.store.frame())}
    assert probed == ["GCond"]  # only the configuration never run (epochs=3)
    for label in ("random", "gcond:epochs=2:val_every=1"):
        rows = done[done["method"] == label]
        cond = rows.drop_duplicates("seed")["condense_s"].median()
        per_arch = rows.groupby("arch")["eval_s"].median()
        assert est[label].measured == 2 and est[label].cells == 3
        assert est[label].total() == pytest.approx(3 * (cond + per_arch["gcn"] + per_arch["mlp"]))
    assert est["gcond:epochs=2:val_every=1"].epochs_run == 2
    assert est["gcond:epochs=3:val_every=1"].measured == 0
    text = estimate.format_estimate(list(est.values()), runner.device, 1)
    assert "| random | " in text and "| 2 measured | 3 |" in text and "| probes |" in text
    assert "costed from rows already in the results folder" in text

    # an architecture with no measured row sends its (method, dataset) back to the probes
    probed.clear()
    grid.archs = ["gcn", "sage"]
    grid.methods = ["random"]
    runner = Runner(grid, out, device="cpu")
    (e,) = estimate.estimate_cells(runner.prepare(), runner.device, measured=runner.store.frame())
    assert len(probed) == 1
    assert e.measured == 0
