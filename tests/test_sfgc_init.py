"""benchmarks/sfgc_init.py: SFGC started from given nodes (checks on the file, rows, resumability)."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from gcbench.graph import Budget
from gcbench.results import read_results

DATASET = "synthetic-ecommerce:n_nodes=600:train_frac=0.2"
FAST = ["hidden=32", "n_experts=2", "expert_epochs=30", "max_start_epoch=20", "start_every=10", "syn_steps=10",
        "iterations=8", "lr_student=0.01", "lr_feat=0.1", "init_epochs=30", "select_every=4"]


def _first_nodes(graph, budget: Budget, reverse: bool = False) -> torch.Tensor:
    """The first ``k`` training nodes of each class (classes in reverse order when asked)."""
    _, _, y, train_idx = graph.training_view()
    picks = [train_idx[y[train_idx] == c][:k] for c, k in enumerate(budget.per_class)]
    return torch.cat(picks[::-1] if reverse else picks)


def test_given_nodes_are_ordered_by_class_and_checked(benchmark_script, small_graph, tmp_path):
    mod = benchmark_script("sfgc_init")
    budget = Budget.from_graph(small_graph, 0.5)
    nodes = _first_nodes(small_graph, budget)
    path = tmp_path / "idx.npy"
    np.save(path, _first_nodes(small_graph, budget, reverse=True).numpy())  # class blocks in another order
    got = mod.given_nodes(path, small_graph, budget)
    assert torch.equal(got, nodes)
    assert torch.equal(small_graph.data.y[got], budget.labels())

    _, _, _, train_idx = small_graph.training_view()
    not_train = torch.tensor(sorted(set(range(small_graph.num_nodes)) - set(train_idx.tolist()))[:1])
    bad = {
        "not labelled training nodes": torch.cat([nodes[:-1], not_train]),
        "asks for": nodes[1:],
        "repeated node ids": torch.cat([nodes[:-1], nodes[:1]]),
        "must lie in": torch.cat([nodes[:-1], torch.tensor([small_graph.num_nodes])]),
    }
    from gcbench.errors import GCBenchError
    for msg, ids in bad.items():
        np.save(path, ids.numpy())
        with pytest.raises(GCBenchError, match=msg):
            mod.given_nodes(path, small_graph, budget)
    path.write_bytes(b"not a numpy file")
    with pytest.raises(GCBenchError, match="cannot read node ids"):
        mod.given_nodes(path, small_graph, budget)


def test_rows_start_from_the_given_nodes_and_resume(benchmark_script, small_graph, tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("GCBENCH_CACHE", str(tmp_path / "cache"))
    mod = benchmark_script("sfgc_init")
    budget = Budget.from_graph(small_graph, 0.5)
    nodes = _first_nodes(small_graph, budget)
    idx = tmp_path / "idx.npy"
    np.save(idx, nodes.numpy())
    out = tmp_path / "out"
    argv = ["--idx", str(idx), "--dataset", DATASET, "--ratio", "0.5", "--seeds", "0,1", "--archs", "gcn,mlp",
            "--out", str(out)] + [a for kv in FAST for a in ("--config", kv)]
    assert mod.main(argv) == 0
    df = read_results(out / "results.csv")
    assert sorted(df["method"].unique()) == ["sfgc-given-start", "start-given", "start-kcenter"]
    assert len(df) == 3 * 2 * 2 and (df["status"] == "ok").all() and df["config_hash"].nunique() == 1
    sfgc = df[df["method"] == "sfgc-given-start"]
    assert sfgc["condense_epoch"].between(0, 8).all() and (sfgc["condense_s"] > 0).all()

    # the SFGC run really starts at those nodes: its initial features are theirs, not its K-Center pick
    from gcbench.condensers.base import MethodSpec
    method = mod.given_start(MethodSpec("sfgc:" + ":".join(FAST)).build(small_graph.name), nodes)
    cfg = method.run_config(0.5)
    x0, ids, _ = method.init_features(small_graph, budget, 0, torch.device("cpu"), cfg)
    assert torch.equal(ids, nodes)
    assert torch.equal(x0, small_graph.training_view()[0][nodes].float())
    _, kc_ids, _ = type(method).init_features(method, small_graph, budget, 0, torch.device("cpu"), cfg)
    assert not torch.equal(kc_ids, nodes)

    capsys.readouterr()
    assert mod.main(argv) == 0  # resumable: nothing left to compute
    assert len(read_results(out / "results.csv")) == len(df)
    assert capsys.readouterr().err == ""
    assert mod.main(argv[:-2] + ["--config", "bogus=1"]) == 2  # a bad option: one line, non-zero, rows kept
    assert "bogus" in capsys.readouterr().err
    assert len(read_results(out / "results.csv")) == len(df)
