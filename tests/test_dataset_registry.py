"""The dataset registry is the dataset cards (each names its loader) plus plugins' entry points."""

from __future__ import annotations

import sys
from importlib.metadata import EntryPoint
from pathlib import Path

import pytest

import gcbench.data as data
from gcbench import cli
from gcbench.data import dataset_registry, list_datasets, load_dataset
from gcbench.errors import GCBenchError
from gcbench.resources import shipped_dir


@pytest.fixture(autouse=True)
def fresh_registry(monkeypatch):
    monkeypatch.setattr(data, "_REGISTRY_CACHE", {})


def test_every_shipped_card_is_registered_and_its_loader_imports():
    cards = sorted(p.stem for p in shipped_dir("datasets").glob("*.yaml"))
    reg = dataset_registry()
    assert sorted(reg) == cards == list_datasets()
    for entry in reg.values():
        assert callable(entry.load_fn()) and entry.origin == "gcbench" and entry.card["name"] == entry.name


def test_a_card_without_a_loader_is_an_error_naming_it(tmp_path, monkeypatch):
    (tmp_path / "mine.yaml").write_text("name: mine\ntitle: no loader\n")
    monkeypatch.setenv("GCBENCH_DATASETS_DIR", str(tmp_path))
    with pytest.raises(GCBenchError, match=r"mine\.yaml: a dataset card needs 'loader"):
        dataset_registry()


def test_a_card_whose_loader_does_not_import_is_an_error(tmp_path, monkeypatch):
    (tmp_path / "mine.yaml").write_text("name: mine\nloader: gcbench.data:no_such_loader\n")
    monkeypatch.setenv("GCBENCH_DATASETS_DIR", str(tmp_path))
    with pytest.raises(GCBenchError, match="cannot import its loader 'gcbench.data:no_such_loader'"):
        load_dataset("mine")


def test_a_plugin_registers_a_dataset_through_an_entry_point(tmp_path, monkeypatch, capsys):
    pkg = tmp_path / "toyplugin"
    (pkg / "datasets").mkdir(parents=True)
    (pkg / "__init__.py").write_text(
        "from gcbench.data import load_synthetic_ecommerce\n"
        "def load(name, opts, root):\n"
        "    opts.setdefault('n_nodes', 300)\n"
        "    return load_synthetic_ecommerce(name, opts, root)\n")
    (pkg / "datasets" / "toy-shop.yaml").write_text("name: toy-shop\ntitle: a plugin's graph\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    sys.modules.pop("toyplugin", None)
    ep = EntryPoint(name="toy-shop", value="toyplugin:load", group=data.ENTRY_POINT_GROUP)

    def fake_entry_points(group=None, **kw):
        return [ep] if group == data.ENTRY_POINT_GROUP else []

    monkeypatch.setattr(data, "entry_points", fake_entry_points)
    reg = dataset_registry()
    assert reg["toy-shop"].origin == "plugin toyplugin:load" and reg["toy-shop"].card["title"] == "a plugin's graph"
    g = load_dataset("toy-shop")
    assert g.num_nodes == 300 and g.name == "toy-shop:n_nodes=300"
    assert cli.main(["list"]) == 0
    assert "toy-shop" in capsys.readouterr().out


def test_readme_calibration_table_is_the_cards():
    """The README's whole-graph table of the default graph is re-derived from its card, never typed apart."""
    import yaml

    repo = Path(__file__).resolve().parents[1]
    card = yaml.safe_load((repo / "datasets" / "synthetic-ecommerce.yaml").read_text())["baselines"]
    means = [sum(card["after"][a]) / len(card["after"][a]) for a in ("mlp", "gcn", "gat", "sage")]
    row = "| " + " | ".join(f"{m:.1f}" for m in means) + " |"
    readme = (repo / "README.md").read_text()
    assert row in readme
    before = card["before"]
    assert f"MLP {before['mlp'][0]}, GCN {before['gcn'][0]}, GAT {before['gat'][0]}" in readme
