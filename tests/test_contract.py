"""The extension contract (issue 24): the conformance check over every method, what it catches, the YAML
search path, provenance of rows, failure semantics and exit codes."""

from __future__ import annotations

import importlib
import os
import subprocess
import sys
import textwrap
from importlib.metadata import EntryPoint
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import torch

from gcbench import cli
from gcbench.condensers import base
from gcbench.condensers.base import Condenser, MethodSpec, config_hash, get_condenser, resolve_config
from gcbench.errors import EXIT_FAILED_ROWS, EXIT_USAGE, GCBenchError
from gcbench.graph import Budget, CondensedGraph
from gcbench.resources import shipped_dir
from gcbench.results import ResultsStore
from gcbench.testing import ConformanceError, check_condenser, condenser_names, parametrize_condensers

DS = "synthetic-ecommerce:n_nodes=300:train_frac=0.2"


# ------------------------------------------------------------------------------------ conformance
@parametrize_condensers()
def test_every_installed_method_conforms(name):
    check_condenser(name)


def test_conformance_covers_builtins():
    names = condenser_names()
    for n in ("random", "herding", "kcenter", "whole", "gcond", "doscond", "sfgc", "srgm"):
        assert n in names
    assert not any(n.startswith("test-") for n in names)  # classes defined in tests are not "installed"


class _Good(Condenser):
    """First training nodes per class, identity adjacency (name empty: not registered)."""

    defaults = {"k": 1, "mode": "ok"}

    def condense(self, graph, budget, *, seed, device):
        tr, y = graph.train_idx, graph.y[graph.train_idx]
        idx = torch.cat([tr[y == c][:n] for c, n in enumerate(budget.per_class) if n])
        return self._out(graph, idx, budget, seed)

    def _out(self, graph, idx, budget, seed):
        return CondensedGraph(x=graph.x[idx].float(), y=graph.y[idx], adj=torch.eye(len(idx)),
                              modalities=graph.modalities)


class _ReadsTestLabels(_Good):
    def condense(self, graph, budget, *, seed, device):
        cg = super().condense(graph, budget, seed=seed, device=device)
        test_y = graph.y[graph.test_idx].float()
        cg.x = cg.x + test_y.mean()  # leaks a statistic of the test labels
        return cg


class _NumpyGlobal(_Good):
    def condense(self, graph, budget, *, seed, device):
        cg = super().condense(graph, budget, seed=seed, device=device)
        cg.x = cg.x + float(np.random.rand()) * 0  # consumes numpy's global generator
        return cg


class _Nondeterministic(_Good):
    def condense(self, graph, budget, *, seed, device):
        cg = super().condense(graph, budget, seed=seed, device=device)
        gen = torch.Generator().manual_seed(int.from_bytes(os.urandom(4), "little"))
        cg.x = cg.x + torch.rand(cg.x.shape, generator=gen)
        return cg


class _OverBudget(_Good):
    def condense(self, graph, budget, *, seed, device):
        cg = super().condense(graph, budget, seed=seed, device=device)
        return CondensedGraph(x=torch.cat([cg.x, cg.x[:1]]), y=torch.cat([cg.y, cg.y[:1]]), adj=None)


class _Asymmetric(_Good):
    def condense(self, graph, budget, *, seed, device):
        cg = super().condense(graph, budget, seed=seed, device=device)
        cg.adj = torch.triu(torch.ones(cg.num_nodes, cg.num_nodes))
        return cg


class _FloatLabels(_Good):
    def condense(self, graph, budget, *, seed, device):
        cg = super().condense(graph, budget, seed=seed, device=device)
        return CondensedGraph(x=cg.x, y=cg.y + 0.7, adj=None)


class _Unpicklable(_Good):
    def __init__(self, **config):
        super().__init__(**config)
        self.hook = lambda: None


class _NoTypeChecks(_Good):
    def __init__(self, **config):
        self.config = {**self.defaults, **config}  # skips the base class's option checks


@pytest.mark.parametrize("cls,check", [
    (_ReadsTestLabels, "test-labels"), (_NumpyGlobal, "rng"), (_Nondeterministic, "determinism"),
    (_OverBudget, "output"), (_Asymmetric, "output"), (_FloatLabels, "output"), (_Unpicklable, "pickle"),
    (_NoTypeChecks, "options"),
], ids=lambda v: v if isinstance(v, str) else v.__name__)
def test_conformance_check_catches_each_breach(cls, check):
    assert check_condenser(_Good)  # the reference passes every check
    with pytest.raises(ConformanceError, match=f"{check}:"):
        check_condenser(cls)


# ------------------------------------------------------------------------------------ test labels hidden
SEEN: list[torch.Tensor] = []


class LabelSpy(_Good):
    name = "test-label-spy"

    def condense(self, graph, budget, *, seed, device):
        SEEN.append(graph.y[graph.test_idx].clone())
        return super().condense(graph, budget, seed=seed, device=device)


def run(tmp_path: Path, *args: str) -> int:
    return cli.main(["run", "--datasets", DS, "--eval", "epochs=5", "--out", str(tmp_path / "out"),
                     "--no-progress", "--quiet", "--ratios", "0.5", "--archs", "mlp", "--seeds", "0", *args])


def rows(tmp_path: Path) -> pd.DataFrame:
    return ResultsStore(tmp_path / "out" / "results.csv").frame()


def test_condensers_receive_the_graph_with_test_labels_hidden(tmp_path):
    SEEN.clear()
    assert run(tmp_path, "--methods", "test-label-spy") == 0
    (seen,) = SEEN
    assert seen.numel() > 0 and (seen == -1).all()
    df = rows(tmp_path)
    assert (df["status"] == "ok").all() and df["test_score"].notna().all()  # evaluation sees the real labels


def test_whole_graph_evaluation_uses_only_training_labels(small_graph):
    """Replaces test_whole_graph_masks_the_loss_to_training_nodes: the whole reference's score must not change
    when the labels of every non-training node of its condensed graph change."""
    from gcbench.evaluate import evaluate

    whole = get_condenser("whole")().condense(small_graph, Budget.from_graph(small_graph, 1.0), seed=0,
                                               device=torch.device("cpu"))
    assert whole.train_mask is not None and not whole.train_mask.all()
    scrambled = CondensedGraph(x=whole.x, y=whole.y.clone(), adj=whole.adj, modalities=whole.modalities,
                               train_mask=whole.train_mask)
    scrambled.y[~whole.train_mask] = (scrambled.y[~whole.train_mask] + 1) % small_graph.num_classes
    a = evaluate(whole, small_graph, "gcn", seed=0, overrides={"epochs": 20})
    b = evaluate(scrambled, small_graph, "gcn", seed=0, overrides={"epochs": 20})
    assert (a["val_score"], a["test_score"]) == (b["val_score"], b["test_score"])
    unmasked = CondensedGraph(x=whole.x, y=scrambled.y, adj=whole.adj, modalities=whole.modalities)
    c = evaluate(unmasked, small_graph, "gcn", seed=0, overrides={"epochs": 20})
    assert c["test_score"] != a["test_score"]  # the test would notice training on the other labels


# ------------------------------------------------------------------------------------ failure semantics
class Misbehaving(_Good):
    name = "test-misbehaving"
    defaults = {"how": "ok", "n": 1}

    def condense(self, graph, budget, *, seed, device):
        how = self.config["how"]
        cg = super().condense(graph, budget, seed=seed, device=device)
        if how == "gcbench-error":
            raise GCBenchError("this dataset is not for me")
        if how == "float-labels":
            return CondensedGraph(x=cg.x, y=cg.y.float() + 0.7, adj=None)
        if how == "one-hot":
            return CondensedGraph(x=cg.x, y=torch.nn.functional.one_hot(cg.y, graph.num_classes), adj=None)
        if how == "tuple":
            return cg.x, cg.y
        if how == "out-of-range":
            return CondensedGraph(x=cg.x, y=cg.y + graph.num_classes, adj=None)
        return cg


@pytest.mark.parametrize("how,message", [
    ("gcbench-error", "GCBenchError: this dataset is not for me"),
    ("float-labels", "y must hold integer class ids, got dtype torch.float32"),
    ("one-hot", "one-hot or soft labels"),
    ("tuple", "condense() must return a CondensedGraph, got tuple"),
    ("out-of-range", "class ids in 0..7"),
])
def test_any_method_error_is_a_failed_row_naming_the_cell_and_exit_3(tmp_path, capsys, how, message):
    rc = run(tmp_path, "--methods", f"test-misbehaving:how={how},random")
    err = capsys.readouterr().err
    assert rc == EXIT_FAILED_ROWS
    df = rows(tmp_path).set_index("method")
    bad = df.loc[f"test-misbehaving:how={how}"]
    assert bad["status"] == "failed" and message in bad["error"] and pd.isna(bad["test_score"])
    assert df.loc["random", "status"] == "ok"  # the grid went on
    assert f"failed row test-misbehaving:how={how}/{DS}/0.5/mlp/s0: " in err and message in err
    capsys.readouterr()
    assert run(tmp_path, "--methods", "random") == 0  # nothing failed in this run


def test_option_types_are_checked_before_any_data_loads(tmp_path, capsys):
    empty = tmp_path / "empty"
    empty.mkdir()
    for spec, msg in (("kcenter:embed_epochs=abc", "option embed_epochs='abc': expected an integer"),
                      ("gcond:learn_adj=maybe", "option learn_adj='maybe': expected a boolean"),
                      ("sfgc:lr_feat=fast", "option lr_feat='fast': expected a number")):
        rc = cli.main(["run", "--methods", spec, "--datasets", "cora", "--data-root", str(empty),
                       "--out", str(tmp_path / "out")])
        err = capsys.readouterr().err.strip()
        assert rc == EXIT_USAGE and msg in err and len(err.splitlines()) == 1, err  # not "missing raw file"
    assert not (tmp_path / "out").exists()
    # floats for float options accept integers and YAML's string form of 1e-4, made floats
    assert MethodSpec("gcond:lr_feat=1e-4:threshold=0").options == {"lr_feat": 1e-4, "threshold": 0.0}


class Picky(_Good):
    name = "test-picky"

    def check_graph(self, graph):
        if "image" in graph.modalities:
            raise GCBenchError("needs a graph without an image modality")


def test_check_graph_hook_is_one_error_before_anything_runs(tmp_path, capsys):
    rc = run(tmp_path, "--methods", "random,test-picky")
    err = capsys.readouterr().err.strip()
    assert rc == EXIT_USAGE and len(err.splitlines()) == 1
    assert f"method 'test-picky' cannot run on dataset '{DS}': needs a graph without an image modality" in err
    assert not (tmp_path / "out" / "results.csv").exists()


def test_list_into_a_closed_pipe_is_quiet():
    r, w = os.pipe()
    proc = subprocess.Popen([sys.executable, "-m", "gcbench", "list"], stdout=w, stderr=subprocess.PIPE)
    os.close(w)
    os.close(r)  # the reader is gone before gcbench prints anything
    _, err = proc.communicate(timeout=120)
    assert b"Traceback" not in err and b"BrokenPipe" not in err, err.decode()
    assert proc.returncode == 141


# ------------------------------------------------------------------------------------ YAML search path
def _yaml(folder: Path, name: str, text: str) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{name}.yaml"
    path.write_text(textwrap.dedent(text), encoding="utf-8")
    return path


def test_user_folder_adds_to_the_shipped_yaml_never_hides_it(tmp_path, monkeypatch):
    shipped = {n: resolve_config(get_condenser(n), "cora", {}) for n in ("gcond", "doscond", "sfgc")}
    assert shipped["gcond"]["threshold"] == 0.05  # from methods/gcond.yaml datasets.cora
    _yaml(tmp_path / "user", "unrelated", "defaults: {}\n")
    _yaml(tmp_path / "user2", "gcond", "defaults: {epochs: 7}\ndatasets:\n  cora: {inner: 3}\n")
    monkeypatch.setenv("GCBENCH_METHODS_DIR", os.pathsep.join([str(tmp_path / "user"), str(tmp_path / "user2")]))
    for n in ("doscond", "sfgc"):
        assert resolve_config(get_condenser(n), "cora", {}) == shipped[n]
    got = resolve_config(get_condenser("gcond"), "cora", {})
    assert got == {**shipped["gcond"], "epochs": 7, "inner": 3}
    where = base.explain_config(get_condenser("gcond"), "cora", {"lr_feat": 0.5})
    assert where["threshold"][1].endswith("methods/gcond.yaml datasets.cora")
    assert where["epochs"][1] == f"{tmp_path / 'user2' / 'gcond.yaml'} defaults"
    assert where["inner"][1] == f"{tmp_path / 'user2' / 'gcond.yaml'} datasets.cora"
    assert where["lr_feat"] == (0.5, "the command line")
    assert where["outer"][1] == f"{shipped_dir('methods') / 'gcond.yaml'} defaults"  # the wheel's copy under tox
    assert base.explain_config(_Good, None, {})["k"] == (1, f"class defaults ({__name__}:_Good)")


@pytest.mark.parametrize("text,message", [
    ("datasets:\n  cora: {innr: 3}\n", "has no option 'innr' in {path} datasets.cora"),
    ("datasets:\n  citeseer: {lr_fet: 0.1}\n", "has no option 'lr_fet' in {path} datasets.citeseer"),
    ("defaults: {epochs: many}\n", "option epochs='many' in {path} defaults: expected an integer"),
    ("datasets:\n  coar: {inner: 3}\n", "{path}: datasets.coar: unknown dataset 'coar'"),
    ("defualts: {epochs: 3}\n", "{path}: unknown key(s) 'defualts'"),
    ("name: gcondd\n", "{path}: name 'gcondd' differs from the file name 'gcond'"),
])
def test_every_yaml_section_is_checked_naming_file_and_key(tmp_path, monkeypatch, capsys, text, message):
    path = _yaml(tmp_path / "user", "gcond", text)
    monkeypatch.setenv("GCBENCH_METHODS_DIR", str(tmp_path / "user"))
    with pytest.raises(GCBenchError) as info:
        MethodSpec("gcond")
    assert message.format(path=path) in str(info.value)
    assert run(tmp_path, "--methods", "random,gcond") == EXIT_USAGE  # before anything runs
    assert message.format(path=path) in capsys.readouterr().err


def test_shipped_yaml_of_every_installed_method_is_valid():
    for name in condenser_names():
        MethodSpec(name)  # every layer, every datasets section, option names and types


def test_plugin_ships_its_yaml_through_its_entry_point(tmp_path, monkeypatch):
    pkg = tmp_path / "site" / "gcb_yaml_plugin"
    (pkg / "methods").mkdir(parents=True)
    (pkg / "__init__.py").write_text(textwrap.dedent('''
        import torch
        from gcbench.condensers.base import Condenser
        from gcbench.graph import CondensedGraph

        class Plug(Condenser):
            name = "test-yaml-plugin"
            defaults = {"scale": 1.0, "steps": 1}

            def condense(self, graph, budget, *, seed, device):
                y = budget.labels()
                return CondensedGraph(x=torch.zeros(len(y), graph.num_features) + self.config["scale"], y=y,
                                      adj=None)
    '''))
    _yaml(pkg / "methods", "test-yaml-plugin", "defaults: {scale: 2.0}\ndatasets:\n  cora: {steps: 4}\n")
    monkeypatch.syspath_prepend(str(tmp_path / "site"))
    ep = EntryPoint(name="test-yaml-plugin", value="gcb_yaml_plugin:Plug", group=base.ENTRY_POINT_GROUP)
    monkeypatch.setattr(base, "entry_points", lambda group: [ep] if group == base.ENTRY_POINT_GROUP else [])
    monkeypatch.setattr(base, "_PLUGINS", {})
    monkeypatch.setattr(base, "_REGISTRY", dict(base._REGISTRY))
    cls = get_condenser("test-yaml-plugin")
    assert resolve_config(cls, "cora", {}) == {"scale": 2.0, "steps": 4}
    _yaml(tmp_path / "user", "test-yaml-plugin", "defaults: {steps: 9}\n")
    monkeypatch.setenv("GCBENCH_METHODS_DIR", str(tmp_path / "user"))
    assert resolve_config(cls, "cora", {}) == {"scale": 2.0, "steps": 4}  # the per-dataset section still wins
    assert resolve_config(cls, "citeseer", {}) == {"scale": 2.0, "steps": 9}
    # a plugin's folder configures only what the plugin registers
    _yaml(pkg / "methods", "gcond", "defaults: {epochs: 1}\n")
    assert resolve_config(get_condenser("gcond"), "cora", {})["epochs"] == 600


def test_list_config_prints_values_and_their_origin(capsys):
    assert cli.main(["list", "--config", "gcond:epochs=5", "--dataset", "cora"]) == 0
    out = capsys.readouterr().out
    lines = {ln.split("=")[0].strip(): ln for ln in out.splitlines() if ln.startswith("  ")}
    assert "0.05" in lines["threshold"] and "gcond.yaml datasets.cora" in lines["threshold"]
    assert "5" in lines["epochs"] and "the command line" in lines["epochs"]
    assert "gcond.yaml defaults" in lines["lr_feat"]
    assert cli.main(["list", "--config", "gcond:epochs=x"]) == EXIT_USAGE


# ------------------------------------------------------------------------------------ provenance
PLUGIN_SRC = '''
import torch
from gcbench.condensers.base import Condenser
from gcbench.graph import CondensedGraph

CALLS = []

class Edited(Condenser):
    name = "test-edited"
    defaults = {{}}

    def condense(self, graph, budget, *, seed, device):
        CALLS.append(seed)
        y = budget.labels()
        return CondensedGraph(x=torch.full((len(y), graph.num_features), {value}), y=y, adj=None)
'''


def test_edited_method_code_recomputes_instead_of_resuming(tmp_path, monkeypatch):
    site = tmp_path / "site"
    site.mkdir()
    mod_path = site / "gcb_edited_plugin.py"
    mod_path.write_text(PLUGIN_SRC.format(value="1.0"))
    monkeypatch.syspath_prepend(str(site))
    mod = importlib.import_module("gcb_edited_plugin")
    assert run(tmp_path, "--methods", "test-edited") == 0
    first = rows(tmp_path)
    assert mod.CALLS == [0]
    assert run(tmp_path, "--methods", "test-edited") == 0 and mod.CALLS == [0]  # unchanged: resumed
    mod_path.write_text(PLUGIN_SRC.format(value="2.0"))
    os.utime(mod_path, ns=(1, 1))  # a new mtime even on coarse clocks
    mod = importlib.reload(mod)
    assert run(tmp_path, "--methods", "test-edited") == 0
    assert mod.CALLS == [0]  # the reloaded module condensed again
    second = rows(tmp_path)
    assert len(second) == 2 and second["config_hash"].nunique() == 2
    assert set(first["config_hash"]) < set(second["config_hash"])
    # the leaderboard keeps the latest configuration of the cell, never an average of the two
    assert cli.main(["leaderboard", str(tmp_path / "out"), "--quiet"]) == 0


def test_eval_settings_change_the_hash_and_reuse_the_saved_condensed_graph(tmp_path):
    from gcbench.evaluate import eval_fingerprint

    SEEN.clear()
    assert run(tmp_path, "--methods", "test-label-spy") == 0
    assert cli.main(["run", "--datasets", DS, "--eval", "epochs=6", "--out", str(tmp_path / "out"), "--no-progress",
                     "--quiet", "--ratios", "0.5", "--archs", "mlp", "--seeds", "0", "--methods",
                     "test-label-spy"]) == 0
    df = rows(tmp_path)
    assert len(df) == 2 and df["config_hash"].nunique() == 2
    assert len(SEEN) == 1  # the second evaluation used the saved condensed graph
    assert (df["protocol"] == "reference").all()
    assert len(list((tmp_path / "out" / "condensed").iterdir())) == 1
    m = get_condenser("random")()
    assert config_hash(m, {"protocol": "pyg"}) != config_hash(m, {})
    assert "overrides" in eval_fingerprint({})  # the hash covers the lead's fingerprint


def test_hash_covers_the_methods_code_not_plumbing():
    files = base.module_closure("gcbench.condensers.gradient_matching")
    assert {"gcbench.condensers.gradient_matching", "gcbench.evaluate", "gcbench.models", "gcbench.graph"} <= set(files)
    assert not set(files) & base.PLUMBING
    assert "gcbench.condensers.srgm" in base.module_closure("gcbench.condensers.srgm")


def _lb_row(seed: int, chash: str, ts: str, status: str = "ok", score: float = 0.5) -> dict:
    return {"method": "m", "dataset": "d", "ratio": 0.5, "n_syn_nodes": 5, "n_nodes": 50, "arch": "gcn",
            "seed": seed, "test_score": score if status == "ok" else None, "metric": "accuracy",
            "config_hash": chash, "status": status, "timestamp": ts, "error": "" if status == "ok" else "x"}


def test_leaderboard_refuses_to_average_different_configurations(tmp_path, capsys):
    from gcbench.report.aggregate import summary
    from gcbench.report.rows import hash_conflicts

    mixed = pd.DataFrame([_lb_row(0, "aaa", "t1"), _lb_row(1, "bbb", "t2")])
    assert hash_conflicts(mixed) and "d/gcn/m r=0.5 mixes 2 configurations" in hash_conflicts(mixed)[0]
    with pytest.raises(GCBenchError, match="mixes 2 configurations"):
        summary(mixed)
    # a rerun of the same seed under a new configuration supersedes the old one, even when it failed
    rerun = pd.DataFrame([_lb_row(0, "aaa", "t1", score=0.9), _lb_row(0, "bbb", "t2", status="failed")])
    s = summary(rerun)
    assert s["n_failed"].tolist() == [1] and s["n_seeds"].tolist() == [0]
    # --check reports it as a problem of the folder
    out = tmp_path / "lb"
    out.mkdir()
    store = ResultsStore(out / "results.csv")
    for r in (_lb_row(0, "aaa", "t1"), _lb_row(1, "bbb", "t2")):
        store.append(r)
    assert cli.main(["leaderboard", str(out), "--check"]) == 1
    assert "mixes 2 configurations" in capsys.readouterr().err


def test_old_results_without_the_protocol_column_still_read(tmp_path):
    store = ResultsStore(tmp_path / "results.csv")
    store.append(_lb_row(0, "aaa", "t1"))
    text = (tmp_path / "results.csv").read_text()
    header, line = text.splitlines()
    cols = header.split(",")
    i = cols.index("protocol")
    old = "\n".join(",".join(c for j, c in enumerate(r.split(",")) if j != i) for r in (header, line)) + "\n"
    (tmp_path / "results.csv").write_text(old)
    df = ResultsStore(tmp_path / "results.csv").frame()
    assert df["protocol"].tolist() == [""] and df["config_hash"].tolist() == ["aaa"]


# ------------------------------------------------------------------------------------ the example plugin
def test_example_plugin_is_installed_and_runs(tmp_path):
    try:
        importlib.import_module("gcbench_example")
    except ImportError:
        if os.environ.get("GCBENCH_REQUIRE_PLUGIN") == "1":
            raise
        pytest.skip("the example plugin (tests/plugin_example) is not installed; tox installs it")
    assert "example-means" in condenser_names()
    check_condenser("example-means")
    cfg = resolve_config(get_condenser("example-means"), "cora", {})
    assert cfg["shrink"] == 0.5  # from the plugin's own methods/example-means.yaml, datasets.cora
    assert run(tmp_path, "--methods", "example-means") == 0
    assert (rows(tmp_path)["status"] == "ok").all()
