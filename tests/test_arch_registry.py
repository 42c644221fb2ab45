"""The architecture registry: the built-ins as the references set them, a plugin architecture end to end."""

from __future__ import annotations

import sys
import textwrap
from importlib.metadata import EntryPoint

import pytest
import torch

from gcbench import archs, cli
from gcbench.archs import BUILTIN_NAMES, Architecture, get_arch, registry
from gcbench.condensers.base import MethodSpec, config_hash
from gcbench.errors import GCBenchError
from gcbench.evaluate import eval_config
from gcbench.models import ARCHS, GNN, build_model
from gcbench.report.rows import ARCH_ORDER
from gcbench.results import ResultsStore

DS = "synthetic-ecommerce:n_nodes=300:train_frac=0.2"


def test_builtins_are_the_models_layers_in_table_order():
    assert BUILTIN_NAMES == ARCHS == ARCH_ORDER == ("mlp", "gcn", "sgc", "sage", "gat", "cheb", "appnp")
    assert tuple(registry())[:7] == BUILTIN_NAMES  # the built-ins first, in table order
    for name in BUILTIN_NAMES:
        m = build_model(name, 12, 3, **eval_config(name, {"gat.hidden": 16, "gat.heads": 2}))
        assert isinstance(m, GNN) and m.arch == name
    # the references' settings, read through the registry (docs/evaluation-protocol.md)
    assert {k: eval_config("gat")[k] for k in ("heads", "att_dropout", "lr", "epochs", "adj_threshold")} == {
        "heads": 16, "att_dropout": 0.7, "lr": 0.001, "epochs": 3000, "adj_threshold": 0.5}
    assert eval_config("gcn")["dropout"] == 0.5 and eval_config("sage")["dropout"] == 0.0
    assert eval_config("appnp", {"protocol": "pyg"})["K"] == 10 and eval_config("appnp")["K"] == 2
    with pytest.raises(GCBenchError, match="unknown architecture 'gin'; known: mlp, gcn"):
        get_arch("gin")


PLUGIN = '''
import torch
from torch import nn
from gcbench.archs import Architecture

ARCH = Architecture("resmlp", "an MLP plus one propagated copy of its hidden layer",
                    {"reference": {"hidden": 32, "dropout": 0.0}}, build="toyarch:build")
NOT_AN_ARCH = 42


class ResMLP(nn.Module):
    def __init__(self, in_dim, out_dim, hidden):
        super().__init__()
        self.a, self.b = nn.Linear(in_dim, hidden), nn.Linear(hidden, out_dim)

    def forward(self, x, adj):
        h = torch.relu(self.a(x))
        return self.b(h + adj.prop(h, "gcn"))


def build(name, in_dim, out_dim, hidden, **cfg):
    return ResMLP(in_dim, out_dim, hidden)
'''


@pytest.fixture
def plugin(tmp_path, monkeypatch):
    (tmp_path / "toyarch.py").write_text(textwrap.dedent(PLUGIN))
    monkeypatch.syspath_prepend(str(tmp_path))
    sys.modules.pop("toyarch", None)
    eps = [EntryPoint(name="resmlp", value="toyarch:ARCH", group=archs.ENTRY_POINT_GROUP)]
    monkeypatch.setattr(archs, "entry_points", lambda group=None, **kw: eps if group == archs.ENTRY_POINT_GROUP
                        else [])
    archs.reset_plugins()
    yield tmp_path, eps
    archs.reset_plugins()
    sys.modules.pop("toyarch", None)


def test_a_plugin_architecture_runs_end_to_end(plugin, tmp_path, capsys):
    folder, _ = plugin
    assert list(registry())[-1] == "resmlp" and get_arch("resmlp").origin.startswith("plugin toyarch:ARCH")
    assert eval_config("resmlp")["hidden"] == 32 and eval_config("resmlp", {"resmlp.hidden": 8})["hidden"] == 8
    assert cli.main(["list"]) == 0
    assert "resmlp" in capsys.readouterr().out
    out = tmp_path / "run"
    assert cli.main(["run", "--methods", "random", "--datasets", DS, "--ratios", "0.5", "--archs", "gcn,resmlp",
                     "--seeds", "0", "--eval", "epochs=20", "--out", str(out), "--quiet", "--no-progress"]) == 0
    rows = ResultsStore(out / "results.csv").frame()
    assert sorted(rows["arch"]) == ["gcn", "resmlp"] and (rows["status"] == "ok").all()
    assert float(rows[rows.arch == "resmlp"]["test_score"].iloc[0]) > 0.2  # it learned something (8 classes)
    # the plugin's code is part of the rows' hash: editing it makes new rows, never resumed ones
    method = MethodSpec("random").build("cora")
    before = config_hash(method)
    src = folder / "toyarch.py"
    src.write_text(src.read_text().replace("h + adj.prop", "h - adj.prop"))
    assert config_hash(method) != before


def test_broken_architecture_plugins_are_one_line_errors(plugin, monkeypatch):
    _, eps = plugin
    eps[0] = EntryPoint(name="resmlp", value="toyarch:NOT_AN_ARCH", group=archs.ENTRY_POINT_GROUP)
    archs.reset_plugins()
    with pytest.raises(GCBenchError, match="expected a gcbench.archs.Architecture, got int"):
        registry()
    eps[0] = EntryPoint(name="resmlp", value="no_such_module:ARCH", group=archs.ENTRY_POINT_GROUP)
    archs.reset_plugins()
    with pytest.raises(GCBenchError, match="cannot be loaded"):
        registry()
    bad = Architecture("x", "no builder", {}, build="toyarch:nothing_here")
    with pytest.raises(GCBenchError, match="cannot import its builder 'toyarch:nothing_here'"):
        bad.builder()


def test_a_plugin_cannot_replace_a_builtin(plugin, monkeypatch):
    _, eps = plugin
    eps.append(EntryPoint(name="gcn", value="toyarch:ARCH", group=archs.ENTRY_POINT_GROUP))
    archs.reset_plugins()
    assert get_arch("gcn").build is None and isinstance(build_model("gcn", 4, 2), GNN)
    assert torch.is_tensor(next(build_model("resmlp", 4, 2, hidden=8).parameters()))
