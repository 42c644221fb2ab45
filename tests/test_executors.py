"""The Ray executor: same rows as the local one, a single writer, failures, killed workers and resume.

Ray is an optional extra. These tests skip without it, unless ``GCBENCH_REQUIRE_RAY=1`` (set by tox and CI),
where a missing Ray is a failure."""

from __future__ import annotations

import os
import signal
import sys
from pathlib import Path

import pandas as pd
import pytest
import torch

from gcbench import cli
from gcbench.condensers.base import Condenser
from gcbench.errors import GCBenchError
from gcbench.graph import CondensedGraph
from gcbench.results import ResultsStore

if os.environ.get("GCBENCH_REQUIRE_RAY") == "1":
    import ray
else:
    ray = pytest.importorskip("ray")

DS = "synthetic-ecommerce:n_nodes=400:train_frac=0.2"
COMPARED = ["method", "dataset", "ratio", "arch", "seed", "n_syn_nodes", "n_syn_edges", "val_score", "test_score",
            "config_hash", "dataset_sha", "device", "status", "error"]


class Tracked(Condenser):
    """Per class the first training nodes; appends a line to ``log`` on every condensation, raises at
    ``fail_seed``, and kills its own worker process at ``kill_seed`` as long as ``marker`` is absent
    (``marker`` is created first, so a retry of the task succeeds)."""

    name = "test-tracked"
    defaults = {"log": "", "fail_seed": -1, "kill_seed": -1, "marker": ""}

    def condense(self, graph, budget, *, seed, device):
        cfg = self.config
        if cfg["log"]:
            with open(cfg["log"], "a") as fh:
                fh.write(f"{seed}\n")
        if seed == cfg["fail_seed"]:
            raise ValueError(f"tracked failure at seed {seed}")
        if seed == cfg["kill_seed"] and not Path(cfg["marker"]).exists():
            Path(cfg["marker"]).touch()
            os.kill(os.getpid(), signal.SIGKILL)
        tr, y = graph.train_idx, graph.y[graph.train_idx]
        idx = torch.cat([tr[y == c][:k] for c, k in enumerate(budget.per_class) if k])
        return CondensedGraph(x=graph.x[idx].float(), y=graph.y[idx], adj=None, modalities=graph.modalities)


@pytest.fixture(scope="module", autouse=True)
def ray_instance():
    # workers rebuild this module's classes from the pickled bytes, whatever their sys.path
    ray.cloudpickle.register_pickle_by_value(sys.modules[__name__])
    ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False, logging_level="ERROR")
    yield
    ray.shutdown()


def run(out: Path, *args: str, executor: str = "ray") -> int:
    extra = ["--executor", "ray", "--cpus-per-task", "1"] if executor == "ray" else []
    return cli.main(["run", "--datasets", DS, "--eval", "epochs=10", "--out", str(out), "--no-progress", "--quiet",
                     *extra, *args])


def frame(out: Path) -> pd.DataFrame:
    return ResultsStore(out / "results.csv").frame()


def same_rows(a: pd.DataFrame, b: pd.DataFrame) -> None:
    key = ["method", "ratio", "arch", "seed"]
    a = a[COMPARED].sort_values(key).reset_index(drop=True)
    b = b[COMPARED].sort_values(key).reset_index(drop=True)
    pd.testing.assert_frame_equal(a, b)


@pytest.mark.parametrize("split", [False, True])
def test_ray_grid_gives_the_local_rows_and_files(tmp_path, split):
    grid = ("--methods", "random,herding,gcond:epochs=2:outer=2:inner=1", "--ratios", "0.5",
            "--archs", "mlp,gcn", "--seeds", "0,1")
    threads = torch.get_num_threads()
    torch.set_num_threads(1)  # as the 1-CPU Ray tasks
    try:
        assert run(tmp_path / "local", *grid, executor="local") == 0
    finally:
        torch.set_num_threads(threads)
    assert run(tmp_path / "ray", *grid, *(["--split-eval"] if split else [])) == 0
    local, remote = frame(tmp_path / "local"), frame(tmp_path / "ray")
    assert len(remote) == 12 and (remote["status"] == "ok").all()
    same_rows(local, remote)
    # the driver wrote the condensed graphs and the logs
    for sub in ("condensed", "logs"):
        assert sorted(p.name for p in (tmp_path / "local" / sub).iterdir()) == \
            sorted(p.name for p in (tmp_path / "ray" / sub).iterdir())


def test_failing_task_and_killed_worker(tmp_path):
    log, marker = tmp_path / "calls.txt", tmp_path / "killed"
    method = f"test-tracked:log={log}:fail_seed=1:kill_seed=2:marker={marker}"
    assert run(tmp_path / "out", "--methods", f"{method},random", "--ratios", "0.5", "--archs", "mlp,gcn",
               "--seeds", "0,1,2") == 3  # failed rows: exit code 3
    df = frame(tmp_path / "out")
    method = df.loc[df.method.str.startswith("test-tracked"), "method"].iloc[0]  # options are stored sorted
    df = df.set_index(["method", "seed", "arch"]).sort_index()
    assert len(df) == 12
    failed = df.loc[(method, 1)]
    assert (failed["status"] == "failed").all() and failed["error"].str.contains("tracked failure at seed 1").all()
    # the worker killed at seed 2 was replaced and the task retried: its rows are there and ok
    assert marker.exists() and (df.loc[(method, 2)]["status"] == "ok").all()
    assert (df.loc["random"]["status"] == "ok").all() and (df.loc[(method, 0)]["status"] == "ok").all()
    assert sorted(log.read_text().split()) == ["0", "1", "2", "2"]  # seed 2 condensed twice: killed, retried


def test_worker_dying_every_time_gives_failed_rows_then_a_rerun_redoes_only_them(tmp_path):
    log, marker = tmp_path / "calls.txt", tmp_path / "killed"
    method = f"test-tracked:log={log}:kill_seed=1:marker={marker}"
    args = ("--methods", method, "--ratios", "0.5", "--archs", "mlp,gcn", "--seeds", "0,1,2")
    assert run(tmp_path / "out", *args, "--ray-retries", "0") == 3  # failed rows: exit code 3
    df = frame(tmp_path / "out").set_index(["seed", "arch"]).sort_index()
    dead = df.loc[1]
    assert (dead["status"] == "failed").all() and dead["error"].str.contains("Worker|died|crash", case=False).all()
    assert (df.loc[[0, 2], "status"] == "ok").all()
    before = df.loc[[0, 2], "timestamp"]
    log.write_text("")
    assert run(tmp_path / "out", *args) == 0  # the marker exists now: seed 1 survives
    df = frame(tmp_path / "out").set_index(["seed", "arch"]).sort_index()
    assert (df["status"] == "ok").all() and len(df) == 6
    assert log.read_text().split() == ["1"]  # only the missing cell was condensed again
    pd.testing.assert_series_equal(df.loc[[0, 2], "timestamp"], before)  # done rows untouched


def test_resume_reuses_saved_condensed_graphs_on_the_workers(tmp_path):
    log = tmp_path / "calls.txt"
    method = f"test-tracked:log={log}"
    assert run(tmp_path / "out", "--methods", method, "--ratios", "0.5", "--archs", "mlp", "--seeds", "0,1") == 0
    assert run(tmp_path / "out", "--methods", method, "--ratios", "0.5", "--archs", "mlp,sgc",
               "--seeds", "0,1") == 0
    assert sorted(log.read_text().split()) == ["0", "1"]  # the sgc rows were evaluated on the saved graphs
    df = frame(tmp_path / "out")
    assert len(df) == 4 and (df["status"] == "ok").all()


class RaisesUserError(Tracked):
    name = "test-raises-user-error"

    def condense(self, graph, budget, *, seed, device):
        from gcbench.errors import GCBenchError

        if seed == 1:
            raise GCBenchError("not for this seed")
        return super().condense(graph, budget, seed=seed, device=device)


def test_gcbench_error_in_a_task_is_a_failed_row_not_the_end_of_the_grid(tmp_path):
    assert run(tmp_path / "out", "--methods", "test-raises-user-error,random", "--ratios", "0.5", "--archs", "mlp",
               "--seeds", "0,1") == 3
    df = frame(tmp_path / "out").set_index(["method", "seed"])
    assert df.loc[("test-raises-user-error", 1), "status"] == "failed"
    assert "GCBenchError: not for this seed" in df.loc[("test-raises-user-error", 1), "error"]
    assert (df.drop(("test-raises-user-error", 1))["status"] == "ok").all()


def test_ray_options_are_checked(tmp_path, capsys):
    out = str(tmp_path / "out")
    base = ["run", "--methods", "random", "--datasets", DS, "--out", out, "--no-progress", "--quiet"]
    for extra, msg in ((["--ray-address", "auto"], "only apply to --executor ray"),
                       (["--gpus-per-task", "0.5"], "only apply to --executor ray"),
                       (["--ray-retries", "0"], "only apply to --executor ray"),
                       (["--executor", "ray", "--ray-retries", "-1"], "max_retries must be an integer >= 0"),
                       (["--executor", "ray", "--device", "cuda"], "needs --gpus-per-task > 0"),
                       (["--executor", "ray", "--device", "cpu", "--gpus-per-task", "1"], "would not use it"),
                       (["--executor", "ray", "--gpus-per-task", "-1"], "--gpus-per-task must be a number >= 0"),
                       (["--executor", "ray", "--ray-address", "auto", "--ray-cpus", "2"], "cannot be combined")):
        assert cli.main(base + extra) == 2
        err = capsys.readouterr().err
        assert msg in err and len(err.strip().splitlines()) == 1, err
    assert not (tmp_path / "out" / "results.csv").exists()


def test_missing_ray_is_one_clear_error(monkeypatch):
    from gcbench.executors import RayExecutor

    monkeypatch.setitem(sys.modules, "ray", None)  # import ray -> ImportError
    with pytest.raises(GCBenchError, match=r"pip install 'gcbench\[ray\]'"):
        RayExecutor()
