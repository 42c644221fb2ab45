"""benchmarks/authors_graphs.py: a method's published condensed graphs evaluated by gcbench (GCond's layout)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
import torch

from gcbench.data import load_dataset
from gcbench.errors import GCBenchError
from gcbench.results import read_results

ROOT = Path(__file__).resolve().parents[1]
SCRIPT = ROOT / "benchmarks" / "authors_graphs.py"
DATASET = "synthetic-ecommerce:n_nodes=200"


@pytest.fixture(scope="module")
def ag(benchmark_script):
    return benchmark_script("authors_graphs")


@pytest.fixture(scope="module")
def graph():
    return load_dataset(DATASET)


def test_labels_follow_gcond_generate_labels_syn(ag, graph):
    # training counts 5, 3, 3, 2, 2, 2, 2, 2 (21 nodes); ratio 0.5 -> 10 nodes: every class but the largest gets
    # max(int(count * 0.5), 1) = 1, in increasing count order (ties in order of first appearance among the
    # training labels), and the largest (class 0) the rest, 10 - 7 = 3
    y = ag.gcond_labels(graph, 0.5)
    train_y = graph.data.y[graph.data.train_mask].tolist()
    assert y.tolist()[-3:] == [0, 0, 0] and len(y) == 10
    first_seen = list(dict.fromkeys(train_y))
    by_count = sorted(first_seen, key=lambda c: train_y.count(c))
    assert y.tolist()[:7] == by_count[:7]


def _save(folder: Path, name: str, n: int, f: int, seed: int, scale: float = 1.0) -> None:
    g = torch.Generator().manual_seed(seed)
    torch.save(torch.rand(n, f, generator=g), folder / f"feat_{name}_0.5_{seed}.pt")
    torch.save(scale * torch.rand(n, n, generator=g), folder / f"adj_{name}_0.5_{seed}.pt")


def test_load_applies_the_threshold_and_refuses_wrong_shapes(ag, graph, tmp_path, monkeypatch):
    _save(tmp_path, graph.name, 10, graph.num_features, 0, scale=0.1)  # entries in [0, 0.1)
    raw = torch.load(tmp_path / f"adj_{graph.name}_0.5_0.pt")
    monkeypatch.setitem(ag.EPSILON, graph.name, 0.05)  # as for Cora and Citeseer
    cg = ag.load_saved(tmp_path, graph, 0.5, 0)
    assert cg.num_nodes == 10 and torch.equal(cg.y, ag.gcond_labels(graph, 0.5))
    assert torch.equal(cg.adj, raw * (raw >= 0.05)) and 0 < int((cg.adj > 0).sum()) < 100
    _save(tmp_path, graph.name, 9, graph.num_features, 1)
    with pytest.raises(GCBenchError, match="expected 10 nodes"):
        ag.load_saved(tmp_path, graph, 0.5, 1)
    with pytest.raises(GCBenchError, match="saved graph file not found"):
        ag.load_saved(tmp_path, graph, 0.5, 7)


def test_script_writes_resumable_rows(graph, tmp_path):
    saved = tmp_path / "saved"
    saved.mkdir()
    _save(saved, graph.name, 10, graph.num_features, 0)
    out = tmp_path / "out"
    cmd = [sys.executable, str(SCRIPT), "--saved", str(saved), "--datasets", DATASET, "--seeds", "0",
           "--archs", "mlp,gcn", "--out", str(out)]
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr[-2000:]
    rows = read_results(out / "results.csv")
    assert sorted(rows["arch"]) == ["gcn", "mlp"] and set(rows["method"]) == {"gcond-authors"}
    assert set(rows["status"]) == {"ok"} and rows["config_hash"].nunique() == 1
    again = subprocess.run(cmd, capture_output=True, text=True, timeout=300)
    assert again.returncode == 0 and again.stderr == ""  # everything done: nothing evaluated
    assert len(read_results(out / "results.csv")) == 2
    # another threshold is another configuration: its own label and hash, nothing resumed from the first
    other = subprocess.run(cmd + ["--epsilon", "0.5", "--method", "gcond-authors:epsilon=0.5"], capture_output=True,
                           text=True, timeout=300)
    assert other.returncode == 0, other.stderr[-2000:]
    rows = read_results(out / "results.csv")
    assert len(rows) == 4 and rows["config_hash"].nunique() == 2
    assert sorted(set(rows["method"])) == ["gcond-authors", "gcond-authors:epsilon=0.5"]
    bad = subprocess.run(cmd[:-2] + ["--out", str(out), "--seeds", "0-1"], capture_output=True, text=True,
                         timeout=300)
    assert bad.returncode == 2 and "saved graph file not found" in bad.stderr and bad.stderr.count("\n") == 1
