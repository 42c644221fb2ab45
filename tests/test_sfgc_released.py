"""benchmarks/sfgc_released.py: the SFGC repository's released features, evaluated and measured against their start."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from gcbench.data import load_dataset
from gcbench.errors import GCBenchError
from gcbench.graph import Budget
from gcbench.results import read_results

DATASET = "synthetic-ecommerce:n_nodes=600:train_frac=0.2"


def _fake_repo(root, graph, ratio: float, shift: float, labels=None):
    """A folder laid out as the SFGC repository's logs/: start nodes (class blocks in reverse order, as the
    reference's files are not class-sorted), released features = their features + ``shift``, and labels."""
    _, _, y, train_idx = graph.training_view()
    budget = Budget.from_graph(graph, ratio)
    ids = torch.cat([train_idx[y[train_idx] == c][:k] for c, k in enumerate(budget.per_class)][::-1])
    name, r = graph.name, f"{float(ratio)}"
    core = root / f"logs/Coreset/{name}-reduce_{r}-coreinit"
    dist = root / f"logs/Distill/{name}-reduce_{r}-distillation"
    core.mkdir(parents=True, exist_ok=True)
    dist.mkdir(parents=True, exist_ok=True)
    np.save(core / f"idx_{name}_{r}_kcenter_15.npy", ids.numpy())
    x = graph.data.x[ids]
    torch.save(x.float() + shift, dist / f"feat_{name}_{r}_best_ntk_score_15.pt")
    torch.save(graph.data.y[ids] if labels is None else labels, dist / f"label_{name}_{r}_best_ntk_score_15.pt")
    return ids


def test_released_rows_and_displacement(benchmark_script, tmp_path, capsys):
    mod = benchmark_script("sfgc_released")
    graph = load_dataset(DATASET)
    ids = _fake_repo(tmp_path / "repo", graph, 0.5, shift=0.03)
    cg, start, _ = mod.load_released(tmp_path / "repo", graph, 0.5)
    budget = Budget.from_graph(graph, 0.5)
    assert torch.equal(cg.y, budget.labels()) and cg.adj is None
    assert torch.allclose(cg.x - start, torch.full_like(start, 0.03), atol=1e-5)  # rows aligned with their nodes
    assert set(ids.tolist()) == set(mod.given_nodes(
        tmp_path / "repo" / f"logs/Coreset/{graph.name}-reduce_0.5-coreinit/idx_{graph.name}_0.5_kcenter_15.npy",
        graph, budget).tolist())
    d = mod.displacement(cg.x, start, lr_feat=1e-3)
    assert d["q50"] == pytest.approx(0.03, rel=1e-3) and d["steps_at_least"] == pytest.approx(30, rel=1e-3)

    out = tmp_path / "out"
    argv = ["--repo", str(tmp_path / "repo"), "--dataset", DATASET, "--ratios", "0.5", "--seeds", "0,1",
            "--archs", "gcn", "--out", str(out)]
    assert mod.main(argv) == 0
    df = read_results(out / "results.csv")
    assert len(df) == 2 and set(df["method"]) == {"sfgc-released"} and (df["status"] == "ok").all()
    printed = capsys.readouterr().out
    assert "| 0.5 |" in printed
    assert mod.main(argv) == 0 and len(read_results(out / "results.csv")) == 2  # resumable


def test_released_files_are_checked(benchmark_script, tmp_path, capsys):
    mod = benchmark_script("sfgc_released")
    graph = load_dataset(DATASET)
    with pytest.raises(GCBenchError, match="released file not found"):
        mod.load_released(tmp_path / "none", graph, 0.5)
    ids = _fake_repo(tmp_path / "repo", graph, 0.5, shift=0.0)
    _fake_repo(tmp_path / "repo", graph, 0.5, shift=0.0, labels=(graph.data.y[ids] + 1) % graph.num_classes)
    with pytest.raises(GCBenchError, match="not those of the start nodes"):
        mod.load_released(tmp_path / "repo", graph, 0.5)
    assert mod.main(["--repo", str(tmp_path / "repo"), "--dataset", DATASET, "--ratios", "0.5",
                     "--out", str(tmp_path / "out")]) == 2
    assert "not those of the start nodes" in capsys.readouterr().err
