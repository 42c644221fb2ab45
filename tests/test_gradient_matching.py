import math

import pytest
import torch
import torch.nn.functional as F

from gcbench.condensers.base import MethodSpec, get_condenser
from gcbench.condensers.gradient_matching import (
    PGE,
    RealGradients,
    dense_forward,
    dense_gcn_norm,
    init_params,
    match_distance,
    normalized_adjacency,
    per_class_loop,
    replicate,
)
from gcbench.errors import GCBenchError
from gcbench.evaluate import evaluate
from gcbench.graph import Budget

CPU = torch.device("cpu")
# a short, fast GCond: few epochs, larger steps; selection at the end only
FAST = {"epochs": 12, "outer": 5, "inner": 3, "lr_feat": 0.01, "lr_adj": 0.01, "val_every": 6,
        "select_eval_every": 10}


def test_distance_ours_on_hand_made_gradients():
    # one class, one weight [in=2, out=3] + bias [3]; columns: equal, orthogonal, opposite
    gr = torch.tensor([[[1.0, 1.0, 1.0], [0.0, 0.0, 0.0]]])
    gs = torch.tensor([[[2.0, 0.0, -1.0], [0.0, 1.0, 0.0]]])
    bias_r, bias_s = torch.tensor([[5.0, 5.0, 5.0]]), torch.tensor([[-5.0, 0.0, 9.0]])
    d = match_distance([gr, bias_r], [gs, bias_s], "ours")
    # 1 - cos per output column: 0 (same direction), 1 (orthogonal), 2 (opposite); biases ignored
    assert d.shape == (1,)
    assert d.item() == pytest.approx(0 + 1 + 2, abs=1e-5)
    assert match_distance([gr], [gr], "ours").item() == pytest.approx(0.0, abs=1e-5)
    # scale-invariant per column
    assert match_distance([gr], [gr * torch.tensor([3.0, 0.5, 7.0])], "ours").item() == pytest.approx(0, abs=1e-5)


def test_distance_mse_and_cos_and_per_class():
    gr = [torch.tensor([[[1.0, 2.0]], [[0.0, 1.0]]]), torch.tensor([[1.0], [0.0]])]  # 2 classes
    gs = [torch.tensor([[[1.0, 0.0]], [[0.0, -1.0]]]), torch.tensor([[0.0], [0.0]])]
    assert match_distance(gr, gs, "mse").tolist() == pytest.approx([4.0 + 1.0, 4.0])  # biases count in mse
    # cos over the concatenation: class 0 [1,2,1] vs [1,0,0] -> 1 - 1/sqrt(6); class 1 opposite -> 2
    assert match_distance(gr, gs, "cos").tolist() == pytest.approx([1 - 1 / math.sqrt(6), 2.0], abs=1e-5)
    with pytest.raises(ValueError, match="distance must be one of"):
        match_distance(gr, gs, "l1")


@pytest.mark.parametrize("arch,layers", [("sgc", 2), ("sgc", 1), ("gcn", 1), ("gcn", 2), ("gcn", 3)])
def test_batched_per_class_gradients_equal_the_loop(small_graph, arch, layers):
    x, ei, y, train = small_graph.training_view()
    C = small_graph.num_classes
    params = init_params(arch, x.size(1), C, 32, layers, torch.Generator().manual_seed(3))
    batched = RealGradients(x, ei, y, train, C, arch, layers).per_class(params)
    loop = per_class_loop(params, x, normalized_adjacency(ei, x.size(0)), y, train, C, arch, layers)
    for p, b, ref in zip(params, batched, loop):
        assert b.shape == ref.shape == (C, *p.shape)
        assert torch.allclose(b, ref, atol=1e-5, rtol=1e-4), float((b - ref).abs().max())


def test_class_without_training_nodes_gets_zero_gradient(small_graph):
    x, ei, y, train = small_graph.training_view()
    train = train[y[train] != 2]  # class 2 has no training node
    C = small_graph.num_classes
    params = init_params("gcn", x.size(1), C, 16, 2, torch.Generator().manual_seed(0))
    batched = RealGradients(x, ei, y, train, C, "gcn", 2).per_class(params)
    loop = per_class_loop(params, x, normalized_adjacency(ei, x.size(0)), y, train, C, "gcn", 2)
    for b, ref in zip(batched, loop):
        assert torch.count_nonzero(b[2]) == 0
        assert torch.allclose(b, ref, atol=1e-5, rtol=1e-4)


def test_replicated_synthetic_gradients_equal_per_class_autograd():
    gen = torch.Generator().manual_seed(0)
    x, y = torch.randn(9, 5, generator=gen), torch.tensor([0, 0, 0, 1, 1, 2, 2, 2, 2])
    adj = dense_gcn_norm(torch.rand(9, 9, generator=gen))
    params = [p.requires_grad_(True) for p in init_params("gcn", 5, 3, 4, 2, gen)]
    rep = replicate(params, 3)
    own = dense_forward(rep, x, adj, "gcn", 2)[y, torch.arange(9)]
    ce = F.cross_entropy(own, y, reduction="none")
    grads = torch.autograd.grad((ce / torch.bincount(y)[y]).sum(), rep)
    for c in range(3):
        ref = torch.autograd.grad(F.cross_entropy(dense_forward(params, x, adj, "gcn", 2)[y == c], y[y == c]), params)
        for g, r in zip(grads, ref):
            assert torch.allclose(g[c], r, atol=1e-6)


def test_pge_pair_trick_symmetry_and_range():
    torch.manual_seed(0)
    pge = PGE(6, hidden=8, layers=3)
    x = torch.randn(5, 6)
    a = pge(x)
    assert a.shape == (5, 5) and torch.allclose(a, a.t()) and torch.all(a.diagonal() == 0)
    off = a[~torch.eye(5, dtype=torch.bool)]
    assert torch.all((off > 0) & (off < 1))
    # the same function as the MLP on explicit concatenated pairs [x_i ; x_j]
    pairs = torch.cat([x.repeat_interleave(5, 0), x.repeat(5, 1)], 1)
    h = pairs
    for lin, bn in zip(pge.lins[:-1], pge.bns):
        h = torch.relu(bn(lin(h)))
    raw = pge.lins[-1](h).view(5, 5)
    ref = torch.sigmoid((raw + raw.t()) / 2) * (1 - torch.eye(5))
    assert torch.allclose(a, ref, atol=1e-5)


def test_kept_pge_forward_is_reused_only_while_current(small_graph):
    # train_theta keeps its PGE(X') for the next matching step: the same values as a fresh forward, and
    # never used once X' or the PGE weights have changed
    torch.manual_seed(0)
    method = get_condenser("gcond")(**FAST)
    st = method.setup(small_graph, Budget.from_graph(small_graph, 0.1), seed=0, device=CPU)
    theta = st.fresh_theta()
    opt = torch.optim.Adam(theta, lr=0.01)
    st.train_theta(theta, opt)
    kept = st._pge_cache[1]
    assert st.pge_adj() is kept and torch.equal(kept, st.pge(st.feat))
    assert st._pge_cache is None  # used once
    st.train_theta(theta, opt)
    stale = st._pge_cache[1]
    with torch.no_grad():
        st.feat.add_(0.1)  # X' moved (as an optimiser step does): the kept forward is stale
    fresh = st.pge_adj()
    assert fresh is not stale and torch.equal(fresh, st.pge(st.feat)) and not torch.equal(fresh, stale)


@pytest.mark.parametrize("name", ["doscond", "gcond"])
def test_epoch_structure_forward_is_the_next_epochs_first(small_graph, name):
    # the PGE(X') an epoch runs for its edge / mass figures is the next epoch's first matching-step forward
    # (while X', the weights and their requires_grad flags are unchanged), and reusing it changes nothing:
    # the same X', adjacency and figures as recomputing every forward, across a PGE -> X' switch
    cfg = {**FAST, "adj_every": 4, "adj_steps": 2}  # epochs 1-2, 5-6 step the PGE, 3-4, 7-8 step X'
    if name == "doscond":
        cfg = {k: v for k, v in cfg.items() if k not in ("outer", "inner")}
    budget = Budget.from_graph(small_graph, 0.1)
    runs = []
    for reuse in (True, False):
        torch.manual_seed(0)  # the PGE's initial weights
        st = get_condenser(name)(**cfg).setup(small_graph, budget, seed=0, device=CPU)
        figures = []
        for epoch in range(1, 9):
            if not reuse:
                st._pge_cache = None
            figures.append(st.epoch(epoch))
            kept = st._pge_cache
            assert kept is not None and torch.equal(kept[1], st.pge(st.feat))
            if reuse and epoch in (1, 3):  # the next epoch steps the same part: the kept forward is used
                assert st.pge_adj() is kept[1]
                st._pge_cache = kept
        runs.append((st.feat.detach().clone(), st.graph().adj, figures))
    (x1, a1, f1), (x2, a2, f2) = runs
    assert torch.equal(x1, x2) and torch.equal(a1, a2) and f1 == f2


def test_gcond_beats_random_on_validation(small_graph):
    # 30 synthetic nodes; the features of this graph are noisy (std ~5), so X' needs a large step
    budget = Budget.from_graph(small_graph, 0.25)
    ours, base = [], []
    for seed in (0, 1):
        cg = get_condenser("gcond")(**{**FAST, "epochs": 20, "val_every": 10}).condense(
            small_graph, budget, seed=seed, device=CPU)
        rnd = get_condenser("random")().condense(small_graph, budget, seed=seed, device=CPU)
        ours.append(evaluate(cg, small_graph, "gcn", seed)["val_score"])
        base.append(evaluate(rnd, small_graph, "gcn", seed)["val_score"])
    assert sum(ours) / 2 > sum(base) / 2 + 0.03, (ours, base)


def test_gcond_output_log_and_selection(small_graph):
    """Budget, labels, symmetry, determinism and test-label invariance: gcbench.testing (test_contract)."""
    budget = Budget.from_graph(small_graph, 0.1)
    method = get_condenser("gcond")(**FAST)
    a = method.condense(small_graph, budget, seed=0, device=CPU)
    c = method.condense(small_graph, budget, seed=1, device=CPU)
    assert not torch.equal(a.x, c.x)
    assert torch.all((a.adj == 0) | (a.adj >= FAST.get("threshold", 0.01)))
    assert [r["epoch"] for r in a.log] == list(range(1, FAST["epochs"] + 1))
    checked = [r for r in a.log if not math.isnan(r["val_score"])]
    assert [r["epoch"] for r in checked] == [6, 12]
    assert a.meta["best_val"] == max(r["val_score"] for r in checked)
    assert all(r["elapsed_s"] > 0 and math.isfinite(r["loss"]) for r in a.log)
    # features start from real training nodes of the right class
    init = torch.tensor(a.meta["init_nodes"])
    assert torch.equal(small_graph.y[init], a.y) and bool(small_graph.data.train_mask[init].all())


def test_doscond_is_one_step_and_gcond_x_has_no_edges(small_graph):
    budget = Budget.from_graph(small_graph, 0.1)
    dos = get_condenser("doscond")(epochs=4, val_every=0, match_hidden=16, select_eval_every=20)
    assert "outer" not in dos.config and "inner" not in dos.config
    cg = dos.condense(small_graph, budget, seed=0, device=CPU)
    assert len(cg.log) == 4 and cg.adj is not None
    gx = get_condenser("gcond")(**{**FAST, "epochs": 3, "learn_adj": False}).condense(
        small_graph, budget, seed=0, device=CPU)
    assert gx.adj is None and gx.num_edges == 0


@pytest.mark.parametrize("spec,message", [
    ("gcond:match_arch=gat", "match_arch must be one of sgc, gcn"),
    ("gcond:distance=l2", "distance must be one of"),
    ("gcond:epochs=0", "epochs must be a positive integer"),
    ("gcond:lr_feat=-1", "lr_feat must be a number >= 0"),
    ("doscond:outer=3", "has no option 'outer'"),
])
def test_bad_options_are_clear_errors(spec, message):
    with pytest.raises(GCBenchError, match=message):
        MethodSpec(spec).build("cora")


def test_gcbench_run_writes_rows_and_convergence_logs(tmp_path):
    import pandas as pd

    from gcbench import cli
    from gcbench.results import ResultsStore

    methods = ("gcond:epochs=4:outer=2:inner=1:val_every=2:select_eval_every=20:lr_feat=0.1,"
               "doscond:epochs=3:match_hidden=16:val_every=0:select_eval_every=20")
    rc = cli.main(["run", "--methods", methods, "--datasets", "synthetic-ecommerce:n_nodes=300:train_frac=0.2",
                   "--ratios", "0.25", "--archs", "gcn,mlp", "--seeds", "0", "--eval", "epochs=20",
                   "--out", str(tmp_path), "--no-progress", "--quiet"])
    assert rc == 0
    rows = ResultsStore(tmp_path / "results.csv").frame()
    assert len(rows) == 4 and set(rows["status"]) == {"ok"}
    assert set(rows["method"]) == {MethodSpec(m).label for m in methods.split(",")}
    assert (rows["n_syn_edges"] > 0).all()
    logs = sorted((tmp_path / "logs").glob("*.csv"))
    assert len(logs) == 2  # one per condensation, shared by the two architectures
    gc = pd.read_csv(next(p for p in logs if p.name.startswith("gcond")))
    assert list(gc["epoch"]) == [1, 2, 3, 4]
    assert {"loss", "elapsed_s", "val_score", "edges", "adj_mass"} <= set(gc.columns)
    assert gc["val_score"].notna().tolist() == [False, True, False, True]
