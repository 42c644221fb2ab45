import math

import pytest
import torch

from gcbench.condensers.base import MethodSpec
from gcbench.condensers.srgm import damping, decouple, decouple_space, decouple_update, modality_blocks
from gcbench.data import load_dataset
from gcbench.errors import GCBenchError
from gcbench.graph import Budget

CPU = torch.device("cpu")
SHORT = "epochs=3:outer=3:inner=2:val_every=0:select_eval_every=20:lr_feat=0.1:match_hidden=32"


@pytest.fixture(scope="module")
def equal_blocks():
    """600-node synthetic-ecommerce with 128 + 128 text/image columns (the reference's raw-block decoupling)."""
    return load_dataset("synthetic-ecommerce:n_nodes=600:train_frac=0.2:image_dim=128")


def test_decoupling_removes_negative_inner_products():
    gen = torch.Generator().manual_seed(0)
    g = torch.randn(200, 8, generator=gen)
    blocks = [slice(0, 4), slice(4, 8)]
    out, conflict, cos = decouple(g, blocks)
    before = (g[:, :4] * g[:, 4:]).sum(1)
    after = (out[:, :4] * out[:, 4:]).sum(1)
    assert torch.equal(conflict, before < 0) and 40 < int(conflict.sum()) < 160
    assert bool((after[conflict] >= -1e-6).all())
    assert torch.equal(out[~conflict], g[~conflict])  # no conflict: unchanged
    # <g_t', g_v'> = -<g_t, g_v> sin^2(angle)
    sin2 = 1 - cos[conflict] ** 2
    assert torch.allclose(after[conflict], -before[conflict] * sin2, atol=1e-5)


def test_decoupling_three_blocks_pairwise():
    g = torch.tensor([[1.0, 0.0, -1.0, 0.0, 0.0, 1.0]])  # blocks a=(1,0), b=(-1,0), c=(0,1)
    out, conflict, _ = decouple(g, [slice(0, 2), slice(2, 4), slice(4, 6)])
    # a and b conflict (dot -1): each loses its projection on the other; c is orthogonal to both: unchanged
    assert conflict.tolist() == [True]
    assert torch.allclose(out, torch.tensor([[0.0, 0.0, 0.0, 0.0, 0.0, 1.0]]))


def test_damping_smooth_field_lower_than_rough_and_empty_graph():
    n = 6
    ring = torch.zeros(n, n)
    idx = torch.arange(n)
    ring[idx, (idx + 1) % n] = ring[(idx + 1) % n, idx] = 1.0
    smooth = torch.ones(n, 3)
    rough = torch.tensor([[1.0], [-1.0]]).repeat(n // 2, 3)
    for norm in ("none", "normalized"):
        assert damping(smooth, ring, norm) < damping(rough, ring, norm)
    assert damping(smooth, ring, "none").item() == pytest.approx(0.0, abs=1e-5)
    # the reference form is minimised by an empty graph; the normalised form is not
    assert damping(rough, torch.zeros(n, n), "none").item() == pytest.approx(0.0, abs=1e-5)
    assert damping(rough, torch.zeros(n, n), "normalized").item() == pytest.approx(1.0, abs=1e-6)
    assert damping(rough, ring, "normalized") > damping(rough, torch.zeros(n, n), "normalized")


@pytest.mark.parametrize("norm", ["none", "normalized"])
def test_damping_gradient_matches_finite_differences(norm):
    gen = torch.Generator().manual_seed(1)
    a = torch.rand(5, 5, generator=gen, dtype=torch.float64)
    a = ((a + a.t()) / 2).fill_diagonal_(0).requires_grad_(True)
    g = torch.randn(5, 4, generator=gen, dtype=torch.float64, requires_grad=True)
    assert torch.autograd.gradcheck(lambda adj, field: damping(field, adj, norm), (a, g))


def test_modality_blocks_checks():
    assert modality_blocks({"text": slice(0, 4), "image": slice(4, 8)}, 8) == [slice(0, 4), slice(4, 8)]
    unequal = modality_blocks({"text": slice(0, 128), "image": slice(128, 192)}, 192)
    assert unequal == [slice(0, 128), slice(128, 192)]
    assert decouple_space("auto", unequal) == "hidden" and decouple_space("hidden", unequal) == "hidden"
    assert decouple_space("auto", [slice(0, 4), slice(4, 8)]) == "features"
    with pytest.raises(GCBenchError, match=r"decouple_space=features .* equal widths.*'image': 64"):
        decouple_space("features", unequal, {"text": slice(0, 128), "image": slice(128, 192)})
    with pytest.raises(GCBenchError, match="at least two modality blocks"):
        modality_blocks({"features": slice(0, 8)}, 8)
    with pytest.raises(GCBenchError, match="do not tile"):
        modality_blocks({"text": slice(0, 4), "image": slice(5, 8)}, 8)


def _unequal_field(n=300, widths=(6, 3), h=5, seed=2):
    gen = torch.Generator().manual_seed(seed)
    g = torch.randn(n, sum(widths), generator=gen, dtype=torch.float64)
    w1 = torch.randn(sum(widths), h, generator=gen, dtype=torch.float64)
    blocks = [slice(0, widths[0]), slice(widths[0], sum(widths))]
    return g, w1, blocks


def test_hidden_space_decoupling_removes_conflicts_between_unequal_blocks():
    g, w1, blocks = _unequal_field()
    u_t, u_v = g[:, :6] @ w1[:6], g[:, 6:] @ w1[6:]  # each block through its encoder: common width 5
    before = (u_t * u_v).sum(1)
    out, conflict, cos = decouple(g, blocks, w1)
    assert out.shape == (300, 10)  # [u_t' | u_v']
    after = (out[:, :5] * out[:, 5:]).sum(1)
    assert torch.equal(conflict, before < 0) and 60 < int(conflict.sum()) < 240
    assert bool((after[conflict] >= -1e-9).all())
    assert torch.allclose(after[conflict], -before[conflict] * (1 - cos[conflict] ** 2))
    assert torch.allclose(out[~conflict], torch.cat([u_t, u_v], 1)[~conflict])  # no conflict: unchanged
    # the raw-block inner product would be a different criterion (and is undefined for 6 vs 3 columns)
    with pytest.raises(RuntimeError):
        decouple(g, blocks)


def test_hidden_space_update_is_least_squares_and_exact_for_full_rank_encoders():
    # blocks at least as wide as h: W_1[m] has rank h, the pullback is exact, the hidden images of the
    # decoupled update are the PCGrad-projected ones (no negative inner product left)
    g, w1, blocks = _unequal_field(widths=(8, 5), h=4)
    out = decouple_update(g, blocks, w1)
    proj, conflict, _ = decouple(g, blocks, w1)
    hidden = torch.cat([out[:, :8] @ w1[:8], out[:, 8:] @ w1[8:]], 1)
    assert torch.allclose(hidden, proj)
    assert bool(((hidden[:, :4] * hidden[:, 4:]).sum(1) >= -1e-9).all())
    assert torch.equal(out[~conflict], g[~conflict]) and not torch.allclose(out[conflict], g[conflict])
    # narrower blocks (rank < h): the smallest feature change whose hidden image is closest (normal equations)
    g, w1, blocks = _unequal_field(widths=(3, 2), h=6)
    out = decouple_update(g, blocks, w1)
    proj, _, _ = decouple(g, blocks, w1)
    for m, s in enumerate(blocks):
        resid = out[:, s] @ w1[s] - proj[:, 6 * m:6 * (m + 1)]
        assert torch.allclose(resid @ w1[s].t(), torch.zeros_like(out[:, s]), atol=1e-9)


def test_srgm_without_its_parts_is_gcond(equal_blocks):
    budget = Budget.from_graph(equal_blocks, 0.1)
    same = ("epochs=3:outer=3:inner=2:val_every=3:select_eval_every=20:lr_feat=0.1:lr_adj=0.001:lr_model=0.001:"
            "match_arch=gcn:match_hidden=32:class_weight=total")
    a = MethodSpec(f"srgm:{same}:lambda=0:decouple=false").build(equal_blocks.name).condense(
        equal_blocks, budget, seed=0, device=CPU)
    b = MethodSpec(f"gcond:{same}").build(equal_blocks.name).condense(equal_blocks, budget, seed=0, device=CPU)
    assert torch.equal(a.x, b.x) and torch.equal(a.adj, b.adj)
    c = MethodSpec(f"srgm:{same}").build(equal_blocks.name).condense(equal_blocks, budget, seed=0, device=CPU)
    assert not torch.equal(a.x, c.x) or not torch.equal(a.adj, c.adj)  # the parts do change the result


@pytest.mark.parametrize("method", ["srgm", "srgm-plus"])
def test_srgm_runs_and_logs_diagnostics(equal_blocks, method):
    budget = Budget.from_graph(equal_blocks, 0.1)
    spec = MethodSpec(f"{method}:{SHORT}")
    cg = spec.build(equal_blocks.name).condense(equal_blocks, budget, seed=0, device=CPU)
    assert cg.is_finite() and cg.num_nodes == budget.total
    for row in cg.log:
        assert {"loss", "damping", "conflict_frac", "modality_cos", "edges", "adj_mass", "elapsed_s"} <= set(row)
        assert 0.0 <= row["conflict_frac"] <= 1.0 and -1.0 <= row["modality_cos"] <= 1.0
        assert math.isfinite(row["damping"]) and row["damping"] >= 0
    if method == "srgm-plus":  # double backward and the decoupled update are deterministic too
        again = spec.build(equal_blocks.name).condense(equal_blocks, budget, seed=0, device=CPU)
        assert torch.equal(cg.x, again.x) and torch.equal(cg.adj, again.adj)


def test_srgm_auto_space_on_equal_blocks_is_the_reference(equal_blocks):
    budget = Budget.from_graph(equal_blocks, 0.1)
    runs = {space: MethodSpec(f"srgm:{SHORT}:decouple_space={space}").build(equal_blocks.name).condense(
        equal_blocks, budget, seed=0, device=CPU) for space in ("auto", "features", "hidden")}
    assert torch.equal(runs["auto"].x, runs["features"].x) and torch.equal(runs["auto"].adj, runs["features"].adj)
    assert runs["auto"].meta["decouple_space"] == "features" and runs["hidden"].meta["decouple_space"] == "hidden"
    assert not torch.equal(runs["hidden"].adj, runs["features"].adj)  # another criterion, another graph


@pytest.mark.parametrize("method", ["srgm", "srgm-plus"])
def test_srgm_runs_on_unequal_blocks(small_graph, method):
    assert {k: v.stop - v.start for k, v in small_graph.modalities.items()} == {"text": 128, "image": 64}
    budget = Budget.from_graph(small_graph, 0.1)
    spec = MethodSpec(f"{method}:{SHORT}")
    spec.build(small_graph.name).check_graph(small_graph)  # no error
    cg = spec.build(small_graph.name).condense(small_graph, budget, seed=0, device=CPU)
    assert cg.is_finite() and cg.num_nodes == budget.total and cg.meta["decouple_space"] == "hidden"
    assert all(math.isfinite(r["damping"]) and 0.0 <= r["conflict_frac"] <= 1.0 for r in cg.log)


def test_srgm_check_graph_and_bad_options(small_graph, equal_blocks):
    with pytest.raises(GCBenchError, match="decouple_space=features .* equal widths"):
        MethodSpec("srgm:decouple_space=features").build(small_graph.name).check_graph(small_graph)
    MethodSpec("srgm:decouple_space=features").build(equal_blocks.name).check_graph(equal_blocks)
    with pytest.raises(GCBenchError, match="learned adjacency"):
        MethodSpec("srgm:learn_adj=false").build(small_graph.name).check_graph(small_graph)
    unimodal = load_dataset("synthetic-ecommerce:n_nodes=300")
    unimodal.modalities = {"features": slice(0, unimodal.num_features)}
    with pytest.raises(GCBenchError, match="at least two modality blocks"):
        MethodSpec("srgm").build("cora").check_graph(unimodal)
    with pytest.raises(GCBenchError, match="at least two modality blocks"):  # condense checks too
        MethodSpec(f"srgm:{SHORT}").build("cora").condense(unimodal, Budget.from_graph(unimodal, 0.5), seed=0,
                                                             device=CPU)
    for spec, msg in [("srgm:damping_norm=l2", "damping_norm must be one of"),
                      ("srgm:decouple=maybe", "decouple.*(true or false|boolean)"),
                      ("srgm:decouple_space=pad", "decouple_space must be one of"),
                      ("srgm:lambda=-1", "lambda must be a number >= 0")]:
        with pytest.raises(GCBenchError, match=msg):
            MethodSpec(spec).build("cora")
