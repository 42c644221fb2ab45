"""Cora and Citeseer from the shared data folder through PyG's Planetoid, offline and checksummed."""

import shutil

import pytest

from gcbench.data import load_dataset
from gcbench.errors import GCBenchError


def test_cora_matches_the_standard_assembly(cora):
    s = cora.summary()
    assert (s["nodes"], s["edges"], s["features"], s["classes"]) == (2708, 5278, 1433, 7)
    assert s["train/val/test"] == "140/500/1000"
    assert cora.train_class_counts().tolist() == [20] * 7
    assert abs(float(cora.x.sum(1).max()) - 1.0) < 1e-5  # row-normalised


def test_citeseer_loads(planetoid_root):
    g = load_dataset("citeseer", planetoid_root)
    assert (g.num_nodes, g.num_edges, g.num_features, g.num_classes) == (3327, 4552, 3703, 6)
    assert g.train_idx.numel() == 120


def test_pyg_layout_and_env_var(planetoid_root, tmp_path, monkeypatch):
    raw = tmp_path / "Cora" / "raw"
    raw.mkdir(parents=True)
    for f in (planetoid_root / "planetoid").glob("ind.cora.*"):
        shutil.copy(f, raw / f.name)
    monkeypatch.setenv("GCBENCH_DATA", str(tmp_path))
    assert load_dataset("cora").num_nodes == 2708


def test_missing_file_names_the_file(planetoid_root, tmp_path):
    root = tmp_path / "partial"
    shutil.copytree(planetoid_root / "planetoid", root / "planetoid")
    (root / "planetoid" / "ind.cora.tx").unlink()
    with pytest.raises(GCBenchError, match=r"missing raw file ind\.cora\.tx"):
        load_dataset("cora", root)


def test_corrupt_file_fails_its_checksum(planetoid_root, tmp_path):
    root = tmp_path / "corrupt"
    shutil.copytree(planetoid_root / "planetoid", root / "planetoid")
    path = root / "planetoid" / "ind.cora.graph"
    path.write_bytes(path.read_bytes()[:-100])
    with pytest.raises(GCBenchError, match=r"checksum mismatch for .*ind\.cora\.graph"):
        load_dataset("cora", root)


def test_no_data_root(monkeypatch):
    monkeypatch.delenv("GCBENCH_DATA", raising=False)
    with pytest.raises(GCBenchError, match="no data root"):
        load_dataset("cora")
    with pytest.raises(GCBenchError, match="takes no options"):
        load_dataset("cora:x=1")
