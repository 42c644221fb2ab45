"""GPU checks (marked ``gpu``; skipped without CUDA): the same code on the GPU gives the CPU's results.

Run on a GPU machine with ``pytest -m gpu`` (``benchmarks/gpu_study.sh`` does, before the study)."""

from __future__ import annotations

import os

import pytest
import torch

from gcbench.condensers.base import MethodSpec
from gcbench.data import load_dataset
from gcbench.evaluate import evaluate
from gcbench.graph import Budget
from gcbench.models import AdjInput, WeightedGATConv
from gcbench.runner import seeded_condense
from gcbench.testing import FAST_OPTIONS

#: the device under test; GCBENCH_TEST_DEVICE=cpu runs these tests' code paths on the CPU (a dry run of
#: the GPU checks, where every comparison is CPU against CPU)
DEV = os.environ.get("GCBENCH_TEST_DEVICE", "cuda")
NO_CUDA = DEV.startswith("cuda") and not torch.cuda.is_available()
pytestmark = [pytest.mark.gpu, pytest.mark.skipif(NO_CUDA, reason="needs a CUDA device")]
DS = "synthetic-ecommerce:n_nodes=600"


@pytest.fixture(scope="module")
def graph():
    return load_dataset(DS)


def test_weighted_gat_on_the_gpu_equals_the_cpu_forward_and_backward():
    torch.manual_seed(0)
    n, f = 200, 16
    ei = torch.randint(0, n, (2, 800))
    ei = ei[:, ei[0] != ei[1]].unique(dim=1)
    w, x = torch.rand(ei.size(1)), torch.randn(n, f)
    conv = WeightedGATConv(f, 8, 4, True, att_dropout=0.0)
    outs = []
    for dev in ("cpu", DEV):
        c = conv.to(dev)
        xx, ww = x.to(dev).requires_grad_(), w.to(dev).requires_grad_()
        c.zero_grad()
        out = c(xx, AdjInput(ei.to(dev), ww, n))
        out.square().sum().backward()
        outs.append([t.detach().cpu() for t in (out, xx.grad, ww.grad, c.lin.weight.grad)])
    for a, b in zip(*outs):
        assert torch.allclose(a, b, atol=1e-4, rtol=1e-4)


@pytest.mark.parametrize("arch", ["gcn", "sgc", "gat", "sage", "mlp"])
def test_evaluation_on_the_gpu_matches_the_cpu(graph, arch):
    budget = Budget.from_graph(graph, 0.25)
    cg = seeded_condense(MethodSpec("random").build(graph.name), graph, budget, 0, torch.device("cpu"))
    over = {"epochs": 60, "dropout": 0.0, "att_dropout": 0.0}
    cpu = evaluate(cg, graph, arch, 0, "cpu", over)
    gpu = evaluate(cg, graph, arch, 0, DEV, over)
    assert abs(cpu["test_score"] - gpu["test_score"]) <= 0.02
    assert abs(cpu["val_score"] - gpu["val_score"]) <= 0.02


@pytest.mark.parametrize("method", ["gcond", "doscond", "srgm", "srgm-plus", "sfgc", "kmeans-agg", "cgc", "herding"])
def test_condensation_runs_on_the_gpu(graph, method, tmp_path, monkeypatch):
    """Every built-in method condenses on the GPU (the conformance check's small options) with finite output
    of the budget's size; the one-shot ones give the CPU's graph."""
    monkeypatch.setenv("GCBENCH_CACHE", str(tmp_path))
    budget = Budget.from_graph(graph, 0.25)
    opts = "".join(f":{k}={v}" for k, v in FAST_OPTIONS.get(method, {}).items())
    method_obj = MethodSpec(method + opts).build(graph.name)
    cg = seeded_condense(method_obj, graph, budget, 0, torch.device(DEV))
    assert torch.isfinite(cg.x.float()).all() and cg.num_nodes == budget.total
    if method in ("kmeans-agg", "cgc"):
        ref = seeded_condense(method_obj, graph, budget, 0, torch.device("cpu"))
        assert torch.allclose(cg.x.float().cpu(), ref.x.float(), atol=1e-4)
