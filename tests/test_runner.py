"""The `gcbench run` machinery: grid, resume, failures, plugins, configuration and bad input."""

from __future__ import annotations

import sys
import types
from importlib.metadata import EntryPoint
from pathlib import Path

import pandas as pd
import pytest
import torch

from gcbench import cli
from gcbench.condensers import base
from gcbench.condensers.base import Condenser, MethodSpec, get_condenser, resolve_config
from gcbench.errors import GCBenchError
from gcbench.graph import Budget, CondensedGraph
from gcbench.results import COLUMNS, ResultsStore

DS = "synthetic-ecommerce:n_nodes=400:train_frac=0.2"
FAST_EVAL = "epochs=15"
CALLS: list[tuple[str, int]] = []


class ClassMeans(Condenser):
    """A condenser defined in a test file: per class, `budget` copies of the class mean (+ jitter)."""

    name = "test-class-means"
    description = "test plugin"
    defaults = {"jitter": 0.0, "explode_at_seed": -1, "nan": False}

    def condense(self, graph, budget, *, seed, device):
        CALLS.append((self.name, seed))
        if seed == self.config["explode_at_seed"]:
            raise RuntimeError("boom at this seed")
        y = budget.labels()
        tr = graph.train_idx
        means = torch.stack([graph.x[tr][graph.y[tr] == c].mean(0) for c in range(graph.num_classes)])
        gen = torch.Generator().manual_seed(seed)
        x = means[y] + self.config["jitter"] * torch.randn(len(y), graph.num_features, generator=gen)
        if self.config["nan"]:
            x[0, 0] = float("nan")
        return CondensedGraph(x=x, y=y, adj=torch.eye(len(y)), modalities=graph.modalities)


class Interrupting(Condenser):
    name = "test-interrupt"
    defaults = {"at_seed": 1}

    def condense(self, graph, budget, *, seed, device):
        if seed == self.config["at_seed"]:
            raise KeyboardInterrupt
        return ClassMeans().condense(graph, budget, seed=seed, device=device)


def run(tmp_path: Path, *args: str) -> int:
    return cli.main(["run", "--datasets", DS, "--eval", FAST_EVAL, "--out", str(tmp_path / "out"),
                     "--no-progress", "--quiet", *args])


def results(tmp_path: Path) -> pd.DataFrame:
    return ResultsStore(tmp_path / "out" / "results.csv").frame()


def test_grid_rows_columns_and_leaderboard(tmp_path, capsys):
    rc = run(tmp_path, "--methods", "random,test-class-means,whole", "--ratios", "0.25,0.5",
             "--archs", "gcn,mlp", "--seeds", "0,1")
    assert rc == 0
    df = results(tmp_path)
    assert list(df.columns) == COLUMNS
    # 2 methods x 2 ratios x 2 archs x 2 seeds + whole (ratio-free) x 2 archs x 2 seeds
    assert len(df) == 16 + 4 and (df["status"] == "ok").all()
    assert set(df["arch"]) == {"gcn", "mlp"}
    assert df[df.method == "whole"]["ratio"].isna().all()
    r = df[(df.method == "random") & (df.ratio == 0.25)]
    from gcbench.data import load_dataset

    assert (r["n_syn_nodes"] == Budget.from_graph(load_dataset(DS), 0.25).total).all()
    assert df["test_score"].between(0, 1).all() and (df["peak_mem_mb"] > 0).all()
    assert (tmp_path / "out" / "leaderboard" / "README.md").exists()
    # one condensation serves both architectures: identical condense_s per (method, ratio, seed)
    per = df[df.method == "random"].groupby(["ratio", "seed"])["condense_s"].nunique()
    assert (per == 1).all()


def test_resume_skips_done_rows(tmp_path):
    args = ("--methods", "test-class-means", "--ratios", "0.5", "--archs", "gcn", "--seeds", "0,1")
    CALLS.clear()
    assert run(tmp_path, *args) == 0
    assert len(CALLS) == 2
    before = (tmp_path / "out" / "results.csv").read_bytes()
    CALLS.clear()
    assert run(tmp_path, *args) == 0
    assert CALLS == [] and (tmp_path / "out" / "results.csv").read_bytes() == before
    # a new architecture reuses the saved condensed graphs instead of condensing again
    assert run(tmp_path, *args[:-3], "gcn,sgc", "--seeds", "0,1") == 0
    assert CALLS == [] and len(results(tmp_path)) == 4


def test_cells_run_seed_major(tmp_path):
    # a run stopped part-way must leave whole seeds (every method and ratio), not whole methods
    CALLS.clear()
    assert run(tmp_path, "--methods", "test-class-means,test-class-means:jitter=0.1", "--ratios", "0.25,0.5",
               "--archs", "gcn", "--seeds", "0,1") == 0
    assert [s for _, s in CALLS] == [0, 0, 0, 0, 1, 1, 1, 1]


def test_interrupted_run_keeps_rows_and_resumes(tmp_path, capsys):
    rc = run(tmp_path, "--methods", "test-interrupt", "--ratios", "0.5", "--archs", "gcn,mlp", "--seeds", "0,1,2")
    assert rc == 130
    assert "resume" in capsys.readouterr().err
    df = results(tmp_path)  # parses: the CSV is intact
    assert sorted(df["seed"].tolist()) == [0, 0]
    rc = run(tmp_path, "--methods", "test-interrupt:at_seed=99", "--ratios", "0.5", "--archs", "gcn,mlp",
             "--seeds", "0,1,2")
    assert rc == 0
    df = results(tmp_path)
    assert len(df) == 2 + 6  # the option changed the config hash, so the variant is a new method row set


def test_failing_and_nan_methods_give_failed_rows_and_the_grid_goes_on(tmp_path):
    rc = run(tmp_path, "--methods", "test-class-means:explode_at_seed=1,test-class-means:nan=true,random",
             "--ratios", "0.5", "--archs", "gcn", "--seeds", "0,1")
    assert rc == 3  # gcbench.errors.EXIT_FAILED_ROWS: the run finished, some rows failed
    df = results(tmp_path).set_index(["method", "seed"])
    assert df.loc[("test-class-means:explode_at_seed=1", 1), "status"] == "failed"
    assert "boom at this seed" in df.loc[("test-class-means:explode_at_seed=1", 1), "error"]
    assert df.loc[("test-class-means:explode_at_seed=1", 0), "status"] == "ok"
    nan_rows = df.loc["test-class-means:nan=true"]
    assert (nan_rows["status"] == "failed").all() and nan_rows["error"].str.contains("non-finite").all()
    assert (df.loc["random"]["status"] == "ok").all()
    assert pd.isna(df.loc[("test-class-means:explode_at_seed=1", 1), "test_score"])  # no number for a failure


def test_plugin_via_entry_point(monkeypatch, tmp_path):
    mod = types.ModuleType("gcbench_test_plugin")

    class EPCondenser(ClassMeans):
        name = ""  # takes its name from the entry point

    mod.EPCondenser = EPCondenser
    monkeypatch.setitem(sys.modules, "gcbench_test_plugin", mod)
    ep = EntryPoint(name="ep-means", value="gcbench_test_plugin:EPCondenser", group=base.ENTRY_POINT_GROUP)
    monkeypatch.setattr(base, "entry_points", lambda group: [ep] if group == base.ENTRY_POINT_GROUP else [])
    assert get_condenser("ep-means") is EPCondenser
    assert run(tmp_path, "--methods", "ep-means", "--ratios", "0.5", "--archs", "mlp", "--seeds", "0") == 0
    assert results(tmp_path)["method"].tolist() == ["ep-means"]


def test_config_precedence_yaml_dataset_cli(tmp_path, monkeypatch):
    mdir = tmp_path / "methods"
    mdir.mkdir()
    (mdir / "test-class-means.yaml").write_text(
        "defaults: {jitter: 0.1}\ndatasets:\n  cora: {jitter: 0.2}\n", encoding="utf-8")
    monkeypatch.setenv("GCBENCH_METHODS_DIR", str(mdir))
    assert resolve_config(ClassMeans, "synthetic-ecommerce", {})["jitter"] == 0.1
    assert resolve_config(ClassMeans, "cora", {})["jitter"] == 0.2
    assert resolve_config(ClassMeans, "cora", {"jitter": 0.3})["jitter"] == 0.3
    assert MethodSpec("test-class-means:jitter=0.3").build("cora").config["jitter"] == 0.3
    (mdir / "test-class-means.yaml").write_text("defaults: {jiter: 0.1}\n", encoding="utf-8")
    with pytest.raises(GCBenchError, match="has no option 'jiter' in .*/methods/test-class-means.yaml defaults"):
        resolve_config(ClassMeans, "cora", {})


def test_shipped_method_yaml_files_match_their_classes():
    from gcbench.condensers.base import list_condensers, method_yaml

    for name, cls in list_condensers().items():
        if name.startswith("test-") or name == "ep-means":
            continue
        data = method_yaml(name)
        assert data, f"methods/{name}.yaml missing"
        resolve_config(cls, "cora", {})  # every YAML key is a real option


BAD_INPUTS = [
    (["--methods", "gcondd"], "unknown method 'gcondd'"),
    (["--methods", "random:bogus=1"], "no option 'bogus'"),
    (["--archs", "transformer"], "unknown architecture 'transformer'"),
    (["--ratios", "0"], "ratio 0 is impossible"),
    (["--ratios", "1.5"], "ratio 1.5 is impossible"),
    (["--ratios", "abc"], "bad ratio 'abc'"),
    (["--ratios", "0.001"], "fewer than the 8 classes"),
    (["--seeds", "x"], "bad seed 'x'"),
    (["--seeds", "4-0"], "bad seed range '4-0': it runs backwards (write 0-4)"),
    (["--eval", "epochz=3"], "unknown evaluation option 'epochz'"),
]


@pytest.mark.parametrize("extra,message", BAD_INPUTS)
def test_bad_input_is_one_line_and_exit_2(tmp_path, capsys, extra, message):
    args = {"--methods": "random", "--ratios": "0.5", "--archs": "gcn", "--seeds": "0"}
    for k, v in zip(extra[::2], extra[1::2]):
        args[k] = v
    rc = run(tmp_path, *[t for kv in args.items() for t in kv])
    err = capsys.readouterr().err.strip()
    assert rc == 2
    assert err.startswith("gcbench: error:") and message in err and len(err.splitlines()) == 1
    assert not (tmp_path / "out" / "results.csv").exists()


def test_unknown_dataset_and_missing_data(tmp_path, capsys):
    assert cli.main(["run", "--datasets", "coraa", "--out", str(tmp_path)]) == 2
    assert "unknown dataset 'coraa'" in capsys.readouterr().err
    empty = tmp_path / "empty"
    empty.mkdir()
    assert cli.main(["run", "--datasets", "cora", "--data-root", str(empty), "--out", str(tmp_path)]) == 2
    err = capsys.readouterr().err
    assert "missing raw file ind.cora.x" in err and len(err.strip().splitlines()) == 1


def test_malformed_results_csv_is_an_error_and_left_untouched(tmp_path, capsys):
    out = tmp_path / "out"
    out.mkdir()
    bad = b"method,dataset\nrandom,cora\n"
    (out / "results.csv").write_bytes(bad)
    rc = run(tmp_path, "--methods", "random", "--ratios", "0.5", "--archs", "gcn", "--seeds", "0")
    assert rc == 2 and "malformed" in capsys.readouterr().err
    assert (out / "results.csv").read_bytes() == bad
    assert cli.main(["leaderboard", str(out / "results.csv")]) == 2


def test_torn_row_is_detected(tmp_path, capsys):
    assert run(tmp_path, "--methods", "random", "--ratios", "0.5", "--archs", "gcn", "--seeds", "0") == 0
    path = tmp_path / "out" / "results.csv"
    text = path.read_text()
    path.write_text(text + text.splitlines()[1][:40] + "\n")
    rc = run(tmp_path, "--methods", "random", "--ratios", "0.5", "--archs", "gcn", "--seeds", "0,1")
    assert rc == 2 and "line 3" in capsys.readouterr().err


def _row(seed: int, status: str = "ok") -> dict:
    return {"method": "m", "dataset": "d", "ratio": 0.5, "arch": "gcn", "seed": seed, "config_hash": "h",
            "status": status, "test_score": float(seed) if status == "ok" else None}


def test_two_stores_on_one_file_keep_each_others_rows(tmp_path):
    # two `gcbench run` processes writing into one folder: each opened the file before the other's rows
    path = tmp_path / "results.csv"
    ResultsStore(path).append(_row(0))
    a, b = ResultsStore(path), ResultsStore(path)
    a.append(_row(1))
    b.append(_row(2))  # b's in-memory rows predate a's row, which must survive b's write
    assert sorted(ResultsStore(path).frame()["seed"].tolist()) == [0, 1, 2]
    b.append(_row(1))  # a cell the other process finished first keeps that row
    a.append(_row(2, status="failed"))
    df = ResultsStore(path).frame()
    assert sorted(df["seed"].tolist()) == [0, 1, 2] and (df["status"] == "ok").all()


def test_runner_skips_cells_another_run_finished_after_it_opened_the_folder(tmp_path):
    from gcbench.runner import Grid, Runner

    grid = Grid(methods=["test-class-means"], datasets=[DS], ratios=[0.5], archs=["gcn"], seeds=[0, 1],
                eval_overrides={"epochs": 15})
    said: list[str] = []
    late = Runner(grid, tmp_path / "out", echo=said.append)  # opened before the other run wrote anything
    Runner(Grid(**{**grid.__dict__, "seeds": [0]}), tmp_path / "out").run()
    late.run()
    assert "1 row(s) to compute" in said[0] and "(1 already done)" in said[0]  # seed 0 is not redone
    assert sorted(results(tmp_path)["seed"].tolist()) == [0, 1]


def _append_rows(path: str, start: int) -> None:
    store = ResultsStore(path)
    for seed in range(start, start + 25):
        store.append(_row(seed))


@pytest.mark.skipif(sys.platform == "win32", reason="the results lock is POSIX flock")
def test_concurrent_processes_lose_no_rows(tmp_path):
    import multiprocessing as mp

    path = str(tmp_path / "results.csv")
    ctx = mp.get_context("fork")
    procs = [ctx.Process(target=_append_rows, args=(path, 100 * i)) for i in range(4)]
    for p in procs:
        p.start()
    for p in procs:
        p.join(60)
        assert p.exitcode == 0
    seeds = ResultsStore(path).frame()["seed"].tolist()
    assert sorted(seeds) == sorted(100 * i + k for i in range(4) for k in range(25))


def test_leaderboard_command(tmp_path, capsys):
    assert run(tmp_path, "--methods", "random,whole", "--ratios", "0.5", "--archs", "gcn", "--seeds", "0,1") == 0
    capsys.readouterr()
    assert cli.main(["leaderboard", str(tmp_path / "out" / "results.csv"), "-o", str(tmp_path / "lb")]) == 0
    out = capsys.readouterr().out
    assert "random" in out and "whole" in out
    assert (tmp_path / "lb" / "summary.csv").exists()


def test_same_seed_same_rows(tmp_path):
    a, b = tmp_path / "a", tmp_path / "b"
    for d in (a, b):
        assert run(d, "--methods", "herding:embed_epochs=20,random", "--ratios", "0.5", "--archs", "gcn",
                   "--seeds", "3") == 0
    cols = ["method", "ratio", "n_syn_nodes", "n_syn_edges", "val_score", "test_score", "config_hash"]
    assert results(a)[cols].equals(results(b)[cols])


def test_list_command(capsys):
    assert cli.main(["list"]) == 0
    out = capsys.readouterr().out
    for word in ("random", "herding", "kcenter", "whole", "synthetic-ecommerce", "cora", "appnp"):
        assert word in out


def test_method_given_by_yaml_class_line(tmp_path, monkeypatch):
    mdir = tmp_path / "methods"
    mdir.mkdir()
    (mdir / "yaml-means.yaml").write_text(f"class: {__name__}:ClassMeans\ndefaults: {{jitter: 0.5}}\n")
    monkeypatch.setenv("GCBENCH_METHODS_DIR", str(mdir))
    assert get_condenser("yaml-means") is ClassMeans
    (mdir / "broken.yaml").write_text("class: no.such.module:Thing\n")
    with pytest.raises(GCBenchError, match="cannot import class"):
        get_condenser("broken")
    assert MethodSpec("yaml-means").build("cora").config["jitter"] == 0.5


def test_long_cell_names_stay_valid_unique_file_names():
    from gcbench.runner import MAX_SLUG, cell_slug

    short = cell_slug("gcond", "cora", 0.5, 0, "abc")
    assert short == "gcond__cora__r0.5__s0__abc"
    long_a = cell_slug("m:log=/" + "x" * 300, "cora", 0.5, 0, "abc")
    long_b = cell_slug("m:log=/" + "x" * 300, "cora", 0.5, 1, "abc")
    assert len(long_a) <= MAX_SLUG and len(long_b) <= MAX_SLUG and long_a != long_b
    assert "/" not in long_a


def test_rows_record_the_selected_condensation_and_evaluation_epochs(tmp_path):
    rc = run(tmp_path, "--methods", "random,gcond:epochs=4:val_every=2", "--ratios", "0.5", "--archs", "gcn",
             "--seeds", "0")
    assert rc == 0
    df = results(tmp_path).set_index("method")
    assert pd.isna(df.loc["random", "condense_epoch"])  # one-shot: nothing selected
    assert df.loc["gcond:epochs=4:val_every=2", "condense_epoch"] in (2, 4)  # validated at epochs 2 and 4
    assert all(1 <= e <= 15 for e in df["eval_epoch"])  # FAST_EVAL: 15 epochs, selected on validation
