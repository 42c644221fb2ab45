"""SFGC: distance, unrolls, expert cache, GNTK selection, structure-free evaluation, determinism."""

from __future__ import annotations

import math

import numpy as np
import pytest
import scipy.sparse as sp
import torch

from gcbench.condensers import sfgc as S
from gcbench.condensers import sfgc_experts as E
from gcbench.condensers.base import MethodSpec, config_hash, get_condenser, per_ratio, resolve_config
from gcbench.condensers.coresets import RandomCoreset
from gcbench.errors import GCBenchError
from gcbench.evaluate import evaluate
from gcbench.graph import Budget
from gcbench.models import ARCHS, GNN

CPU = torch.device("cpu")
# a short run on the 600-node synthetic graph (features of scale ~5: small student lr, large feature lr)
FAST = {"hidden": 32, "n_experts": 2, "expert_epochs": 30, "max_start_epoch": 20, "start_every": 10,
        "syn_steps": 10, "iterations": 12, "lr_student": 0.01, "lr_feat": 0.1, "init_epochs": 50,
        "select_every": 4}


@pytest.fixture
def cache(tmp_path, monkeypatch):
    monkeypatch.setenv("GCBENCH_CACHE", str(tmp_path))
    return tmp_path


@pytest.fixture(scope="module")
def experts(small_graph, tmp_path_factory):
    """A small expert buffer (trained once for the module, outside any cache)."""
    spec = S.SFGC(**FAST).expert_spec(small_graph)
    buf, _ = E.train_experts(small_graph, spec, CPU)
    return buf


# ------------------------------------------------------------------------------------------- distance
def test_normalised_distance_on_hand_made_parameters():
    start, target = torch.tensor([0.0, 0.0, 0.0]), torch.tensor([1.0, 1.0, 1.0])
    # ||[1,2,3] - 1||^2 = 0 + 1 + 4 = 5 over ||0 - 1||^2 = 3
    assert S.normalised_distance(torch.tensor([1.0, 2.0, 3.0]), start, target).item() == pytest.approx(5 / 3)
    assert S.normalised_distance(target, start, target).item() == 0.0
    assert S.normalised_distance(start, start, target).item() == pytest.approx(1.0)
    # squared L2 over all parameters, no sqrt and no per-parameter averaging: scale-free
    assert S.normalised_distance(torch.tensor([2.0, 4.0, 6.0]), start * 2, target * 2).item() == pytest.approx(5 / 3)


def test_student_that_does_not_move_has_distance_one(small_graph, experts):
    x, y = small_graph.x[:16], torch.arange(16) % small_graph.num_classes
    a, b = experts.snapshot(0, 0), experts.snapshot(0, 30)
    for q in (1, 5):
        loss = S.unroll_gram(x, y, torch.tensor(0.0), a, b, q, experts.layout, 2)
        assert loss.item() == pytest.approx(1.0, abs=1e-5)


# -------------------------------------------------------------------------------------------- unrolls
@pytest.mark.parametrize("layers", [1, 2, 3])
def test_gram_unroll_equals_functional_unroll(small_graph, layers):
    spec = S.SFGC(**{**FAST, "layers": layers}).expert_spec(small_graph)
    buf, _ = E.train_experts(small_graph, spec, CPU)
    model = GNN("gcn", small_graph.num_features, small_graph.num_classes, hidden=32, layers=layers, dropout=0.0)
    y = torch.arange(12) % small_graph.num_classes
    a, b = buf.snapshot(1, 10), buf.snapshot(1, 40)
    out = {}
    for kind in ("gram", "func"):
        x = (small_graph.x[:12] / 5).clone().requires_grad_(True)
        lr = torch.tensor(0.05, requires_grad=True)
        if kind == "gram":
            loss = S.unroll_gram(x, y, lr, a, b, 6, buf.layout, layers)
        else:
            loss = S.unroll_func(x, y, lr, a, b, 6, buf.layout, model)
        loss.backward()
        out[kind] = (loss.item(), x.grad.clone(), lr.grad.item())
    assert out["gram"][0] == pytest.approx(out["func"][0], rel=1e-4)
    assert torch.allclose(out["gram"][1], out["func"][1], rtol=1e-3, atol=1e-6 * out["func"][1].abs().max().item())
    assert out["gram"][2] == pytest.approx(out["func"][2], rel=1e-3)


def test_learnable_lr_receives_gradient(small_graph, experts):
    x = small_graph.x[:16].clone().requires_grad_(True)
    lr = torch.tensor(0.01, requires_grad=True)
    y = torch.arange(16) % small_graph.num_classes
    loss = S.unroll_gram(x, y, lr, experts.snapshot(0, 10), experts.snapshot(0, 40), 5, experts.layout, 2)
    loss.backward()
    assert lr.grad is not None and math.isfinite(lr.grad.item()) and lr.grad.item() != 0.0
    assert x.grad is not None and x.grad.abs().sum() > 0


def test_student_lr_is_learned_during_condensation(small_graph, cache):
    budget = Budget.from_graph(small_graph, 0.1)
    cg = S.SFGC(**{**FAST, "lr_lr": 1e-4}).condense(small_graph, budget, seed=0, device=CPU)
    lrs = [row["student_lr"] for row in cg.log]
    assert lrs[0] != FAST["lr_student"] and len(set(lrs)) > 1
    fixed = S.SFGC(**{**FAST, "learn_lr": False}).condense(small_graph, budget, seed=0, device=CPU)
    assert all(row["student_lr"] == pytest.approx(FAST["lr_student"]) for row in fixed.log)


# -------------------------------------------------------------------------------------------- experts
def test_batched_experts_equal_the_gnn_and_separate_training(small_graph):
    x, ei, y, train = small_graph.training_view()
    trainer = E.ExpertTrainer(x, ei, y, train, 32, 2, CPU)
    ws, bs = E.init_expert_params(x.size(1), 32, small_graph.num_classes, 2, 3, torch.Generator().manual_seed(1))
    layout = E.param_layout(x.size(1), 32, small_graph.num_classes, 2)
    model = GNN("gcn", small_graph.num_features, small_graph.num_classes, hidden=32, layers=2, dropout=0.0)
    from gcbench.evaluate import full_graph_features, full_graph_input

    flat = E.flat_params(ws, bs)
    logits = trainer.logits(ws, bs)
    for m in range(3):
        ref = torch.func.functional_call(model, E.unflatten(flat[m], layout),
                                         (full_graph_features(small_graph, CPU), full_graph_input(small_graph, CPU)))
        assert torch.allclose(logits[:, m], ref[torch.sort(train).values], atol=1e-5)
    # expert 0 trained with another expert beside it = trained alone
    spec = S.SFGC(**FAST).expert_spec(small_graph)
    two, _ = E.train_experts(small_graph, spec, CPU)
    one, _ = E.train_experts(small_graph, {**spec, "n_experts": 1}, CPU)
    assert torch.allclose(two.params[0].float(), one.params[0].float(), atol=2e-3)  # fp16 storage
    grouped, info = E.train_experts(small_graph, spec, CPU, max_activation_bytes=1)  # one expert at a time
    assert info["group"] == 1 and torch.allclose(grouped.params.float(), two.params.float(), atol=2e-3)
    assert two.epochs == [0, 10, 20, 30, 40, 50]  # starts 0..20 step 10, targets + 30
    assert two.params.dtype == torch.float16


def test_cache_is_reused_and_truncated_file_rebuilt(small_graph, cache):
    budget = Budget.from_graph(small_graph, 0.1)
    method = S.SFGC(**FAST)
    before = E.EXPERT_TRAININGS
    first = method.condense(small_graph, budget, seed=0, device=CPU)
    assert first.meta["experts_trained"] and E.EXPERT_TRAININGS == before + 1
    folder = E.expert_cache_dir(small_graph, method.expert_spec(small_graph))
    assert folder.parent == cache / "experts" and folder.name.startswith(small_graph.sha[:16])
    assert sorted(p.name for p in folder.iterdir()) == ["manifest.json", "trajectories.pt"]  # no temp files left
    # second run (another seed): no expert trained, same trajectories
    second = method.condense(small_graph, budget, seed=1, device=CPU)
    assert not second.meta["experts_trained"] and E.EXPERT_TRAININGS == before + 1
    assert second.meta["reused_s"] >= second.meta["expert_train_s"] > 0  # counted in condense_s anyway
    # a truncated data file is detected (length/checksum in the manifest), reported and rebuilt
    data = folder / "trajectories.pt"
    blob = data.read_bytes()
    data.write_bytes(blob[: len(blob) // 2])
    with pytest.warns(RuntimeWarning, match="unusable"):
        third = method.condense(small_graph, budget, seed=0, device=CPU)
    assert third.meta["experts_trained"] and E.EXPERT_TRAININGS == before + 2
    assert torch.equal(third.x, first.x)  # rebuilt identically (expert training does not use the run seed)
    assert data.read_bytes() == blob
    # an interrupted write (temp file left, no manifest) never loads as a cache
    (folder / "manifest.json").unlink()
    (folder / ".trajectories.pt.tmp123").write_bytes(blob[:100])
    with pytest.warns(RuntimeWarning, match="unusable"):
        assert E.load_experts(folder, method.expert_spec(small_graph)) is None
    # another expert configuration gets its own folder
    other = S.SFGC(**{**FAST, "expert_lr": 0.002}).expert_spec(small_graph)
    assert E.expert_cache_dir(small_graph, other) != folder


def test_storage_is_bounded_on_cora_shapes():
    # the Cora defaults of methods/sfgc.yaml, resolved for cora: snapshots x parameters x 2 bytes
    cfg = resolve_config(get_condenser("sfgc"), "cora", {})
    method = S.SFGC(**cfg)
    fake = type("G", (), {"sha": "0" * 64, "setting": "transductive"})()
    spec = method.expert_spec(fake)
    n_params = sum(math.prod(s) for _, s in E.param_layout(1433, 256, 7, 2))
    assert n_params == 368_903
    total = len(spec["epochs"]) * n_params * 2 * spec["n_experts"]
    assert spec["dtype"] == "float16" and total < 100e6  # tens of MB (the reference: ~74 GB)


# ----------------------------------------------------------------------------------------------- GNTK
def _reference_gntk_score(xv, av, xs, ys, yv, C, reg, layers=3, mlp=2):
    """A transcription of the reference (gntk_cond.py + loss_acc_fn_eval) in numpy/scipy, for checking."""
    def nxt(s, d1, d2):
        s = np.clip(s / d1[:, None] / d2[None, :], -1, 1)
        ds = (math.pi - np.arccos(s)) / math.pi
        s = (s * (math.pi - np.arccos(s)) + np.sqrt(1 - s * s)) / np.pi
        return s * d1[:, None] * d2[None, :], ds

    def agg(s, a1, a2):
        scale = 1.0 / np.outer(np.asarray(a1.sum(1)).ravel(), np.asarray(a2.sum(0)).ravel())
        return sp.kron(a1, a2).dot(s.reshape(-1)).reshape(a1.shape[0], a2.shape[0]) * scale

    def diag(x, a):
        sigma = agg(x @ x.T, a, a)
        out = []
        for _ in range(1, layers):
            for _ in range(mlp):
                d = np.sqrt(np.diag(sigma))
                sigma, _ = nxt(sigma, d, d)
                out.append(d)
        return out  # (sigma is not aggregated between layers: the reference's diag())

    def gntk(x1, x2, d1, d2, a1, a2):
        sigma = agg(x1 @ x2.T, a1, a2)
        ntk = sigma.copy()
        for layer in range(1, layers):
            for j in range(mlp):
                sigma, ds = nxt(sigma, d1[(layer - 1) * mlp + j], d2[(layer - 1) * mlp + j])
                ntk = ntk * ds + sigma
            if layer != layers - 1:
                sigma, ntk = agg(sigma, a1, a2), agg(ntk, a1, a2)
        return ntk

    a_syn = sp.csr_matrix(np.eye(len(xs)) + np.eye(len(xs)))  # I, plus the caller's I
    a_val = sp.csr_matrix(av + np.eye(len(xv)))
    d_syn, d_val = diag(xs, a_syn), diag(xv, a_val)
    k_ss = gntk(xs, xs, d_syn, d_syn, a_syn, a_syn)
    k_vs = gntk(xv, xs, d_val, d_syn, a_val, a_syn)
    onehot = lambda v: (v[:, None] == np.arange(C)).astype(np.float64) - 1.0 / C  # noqa: E731
    k_reg = k_ss + abs(reg) * np.trace(k_ss) * np.eye(len(xs)) / len(xs)
    pred = k_vs @ np.linalg.inv(k_reg) @ onehot(ys)
    return 0.5 * np.mean((pred - onehot(yv)) ** 2), np.mean(pred.argmax(1) == yv)


def test_gntk_score_matches_the_reference_computation(small_graph):
    gntk = S.GNTKScore(small_graph, small_graph.num_classes, reg=1.0)
    val = small_graph.val_idx
    ei = small_graph.induced_subgraph(val).numpy()
    av = np.zeros((val.numel(), val.numel()))
    av[ei[0], ei[1]] = 1.0
    gen = torch.Generator().manual_seed(0)
    xs = small_graph.x[torch.randperm(small_graph.num_nodes, generator=gen)[:16]] + 0.1
    ys = torch.arange(16) % small_graph.num_classes
    score, acc = gntk(xs, ys)
    ref_score, ref_acc = _reference_gntk_score(small_graph.x[val].double().numpy(), av, xs.double().numpy(),
                                               ys.numpy(), small_graph.y[val].numpy(), small_graph.num_classes, 1.0)
    assert score == pytest.approx(ref_score, rel=1e-6)
    assert acc == pytest.approx(ref_acc)
    assert 0 <= acc <= 1
    # the fixed variant (sigma aggregated between layers) is another kernel
    fixed = S.GNTKScore(small_graph, small_graph.num_classes, reg=1.0, fix_diag=True)(xs, ys)[0]
    assert fixed != pytest.approx(score, rel=1e-9)


# ------------------------------------------------------------------------------ condensation, selection
def test_condensed_graph_is_structure_free_and_evaluates_on_every_arch(small_graph, cache):
    budget = Budget.from_graph(small_graph, 0.1)
    cg = S.SFGC(**FAST).condense(small_graph, budget, seed=0, device=CPU)
    assert cg.adj is None and cg.num_edges == 0
    assert torch.bincount(cg.y, minlength=len(budget.per_class)).tolist() == list(budget.per_class)
    assert cg.x.shape == (budget.total, small_graph.num_features) and torch.isfinite(cg.x).all()
    for arch in ARCHS:
        res = evaluate(cg, small_graph, arch, 0, CPU, {"epochs": 4})
        assert math.isfinite(res["val_score"]) and math.isfinite(res["test_score"]), arch
    # the log: one row per iteration; validation scores only on scored iterations
    assert [r["epoch"] for r in cg.log] == list(range(1, FAST["iterations"] + 1))
    assert {"loss", "elapsed_s", "val_score", "student_lr", "gntk_score", "gntk_val_acc"} <= set(cg.log[0])
    scored = [r["epoch"] for r in cg.log if not math.isnan(r["gntk_val_acc"])]
    assert scored == [4, 8, 12]
    assert all(math.isnan(r["val_score"]) for r in cg.log)  # no GNN was trained: a GNTK accuracy is not one
    assert all(math.isfinite(r["loss"]) and r["elapsed_s"] >= 0 for r in cg.log)
    assert cg.meta["best_iteration"] in scored


def test_beats_random_selection_on_validation(small_graph, cache):
    budget = Budget.from_graph(small_graph, 0.1)
    method = S.SFGC(**{**FAST, "iterations": 30, "syn_steps": 20, "select_every": 5})
    sfgc_val, rnd_val = [], []
    for seed in (0, 1):
        cg = method.condense(small_graph, budget, seed=seed, device=CPU)
        rnd = RandomCoreset().condense(small_graph, budget, seed=seed, device=CPU)
        sfgc_val.append(evaluate(cg, small_graph, "gcn", seed, CPU, {"epochs": 100})["val_score"])
        rnd_val.append(evaluate(rnd, small_graph, "gcn", seed, CPU, {"epochs": 100})["val_score"])
    assert sum(sfgc_val) >= sum(rnd_val)


def test_val_acc_selection_keeps_the_best_validation_iteration(small_graph, cache):
    budget = Budget.from_graph(small_graph, 0.1)
    cg = S.SFGC(**{**FAST, "select": "val_acc", "select_every": 6, "select_eval_every": 10}).condense(
        small_graph, budget, seed=0, device=CPU)
    scored = [r for r in cg.log if not math.isnan(r["val_score"])]
    assert [r["epoch"] for r in scored] == [6, 12]
    assert cg.meta["best_val"] == max(r["val_score"] for r in scored)


# -------------------------------------------------------------------------------------------- options
@pytest.mark.parametrize("bad", [
    {"syn_steps": -1}, {"syn_steps": 0}, {"iterations": 2.5}, {"select": "test_acc"}, {"unroll": "copy"},
    {"expert_dtype": "int8"}, {"expert_optim": "rmsprop"}, {"lr_feat": -1e-3}, {"max_start_epoch": 25},
    {"expert_epochs": {"0.5": 0}}, {"syn_steps": {2.0: 10}}, {"learn_lr": "yes"}, {"select_arch": "gin"},
])
def test_bad_options_fail_at_construction(bad):
    with pytest.raises(GCBenchError, match="sfgc"):
        S.SFGC(**bad)


def test_yaml_and_per_ratio_options():
    spec = MethodSpec("sfgc:syn_steps=7")
    cora = spec.build("cora")
    assert cora.config["syn_steps"] == 7 and cora.config["expert_optim"] == "sgd"
    assert config_hash(cora) != config_hash(spec.build("citeseer"))  # mappings hash fine
    assert cora.run_config(0.25)["expert_epochs"] == 1500 and cora.run_config(1.0)["max_start_epoch"] == 300
    assert per_ratio({0.25: 1, 0.5: 2, 1.0: 3}, 0.5) == 2
    assert per_ratio({0.25: 1, 0.5: 2, 1.0: 3}, 0.3) == 1
    assert per_ratio(5, 0.3) == 5
    cfg = resolve_config(get_condenser("sfgc"), "cora", {})
    method = S.SFGC(**cfg)
    # one expert cache serves every ratio: the epoch list is the union over the per-ratio settings
    fake = type("G", (), {"sha": "0" * 64, "setting": "transductive"})()
    epochs = set(method.expert_spec(fake)["epochs"])
    for r in (0.25, 0.5, 1.0):
        c = method.run_config(r)
        for s in range(0, c["max_start_epoch"] + 1, c["start_every"]):
            assert {s, s + c["expert_epochs"]} <= epochs
    with pytest.raises(GCBenchError, match="no option"):
        MethodSpec("sfgc:steps=3")
