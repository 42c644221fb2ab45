"""The ``reference`` protocol's layers are GCond's evaluation layers (docs/evaluation-protocol.md)."""

import pytest
import torch
from torch_geometric.nn import GATConv

from gcbench.models import GNN, AdjInput, WeightedGATConv

N, F_IN, F_OUT = 30, 10, 4


@pytest.fixture(scope="module")
def graph():
    g = torch.Generator().manual_seed(3)
    ei = torch.randint(0, N, (2, 120), generator=g)
    ei = ei[:, ei[0] != ei[1]]
    ei = torch.cat([ei, ei.flip(0)], 1).unique(dim=1)
    w = torch.rand(ei.size(1), generator=g) * 0.9 + 0.1
    return torch.randn(N, F_IN, generator=g), ei, w


def model(arch, **kw):
    torch.manual_seed(2)
    m = GNN(arch, F_IN, F_OUT, hidden=16, layers=2, dropout=0.0, protocol="reference", **kw).eval()
    with torch.no_grad():
        for p in m.parameters():
            p.add_(torch.randn_like(p) * 0.1)
    return m


def gcn_norm_dense(ei, w, n, loops=True):
    a = torch.zeros(n, n)
    a[ei[1], ei[0]] = w if w is not None else 1.0
    if loops:
        a = a + torch.eye(n)
    d = a.sum(1).pow(-0.5)
    d[torch.isinf(d)] = 0
    return d[:, None] * a * d[None, :]


def test_sage_is_the_gcn_layer_without_root_weight(graph):
    x, ei, w = graph
    sage, gcn = model("sage"), model("gcn")
    gcn.load_state_dict(sage.state_dict())  # the same parameters: no root weight exists
    adj = AdjInput(ei, w, N)
    assert torch.allclose(sage(x, adj), gcn(x, adj), atol=1e-6)


def test_sgc_is_an_mlp_propagated_twice(graph):
    x, ei, w = graph
    m = model("sgc", K=2)
    a = gcn_norm_dense(ei, w, N)
    h = m.lins[1](torch.relu(m.lins[0](x)))
    assert torch.allclose(m(x, AdjInput(ei, w, N)), a @ a @ h, atol=1e-5)


def test_cheb_shares_one_weight_and_normalises_condensed_and_real_graphs_differently(graph):
    x, ei, w = graph
    m = model("cheb", K=2)
    lin0, b0 = m.lins[0], m.biases[0]
    for real in (False, True):
        a = gcn_norm_dense(ei, w, N, loops=real)
        h = torch.relu(a @ lin0(x) + lin0(x) + b0)
        h = a @ m.lins[1](h) + m.lins[1](h) + m.biases[1]
        assert torch.allclose(m(x, AdjInput(ei, w, N, real=real)), h, atol=1e-5)


def test_every_weight_trains_on_an_edgeless_condensed_graph():
    """On an edgeless graph every parameter of sage/cheb/sgc/appnp gets a gradient (under pyg, SAGE's
    neighbour weight and Cheb's T_1 weight get none and stay random for the test graph). GAT's attention
    vectors are the exception in the reference too: with only a self-loop the softmax is 1 whatever they are."""
    x, y = torch.randn(12, F_IN), torch.arange(12) % F_OUT
    empty = AdjInput(torch.empty(2, 0, dtype=torch.long), None, 12)
    for arch in ("sage", "cheb", "sgc", "appnp", "gat", "gcn"):
        m = GNN(arch, F_IN, F_OUT, hidden=16, heads=4, dropout=0.0, protocol="reference")
        torch.nn.functional.cross_entropy(m(x, empty), y).backward()
        for name, p in m.named_parameters():
            if arch == "gat" and ".att_" in name:
                continue
            assert p.grad is not None and p.grad.abs().sum() > 0, (arch, name)
    pyg_sage = GNN("sage", F_IN, F_OUT, hidden=16, dropout=0.0, protocol="pyg")
    torch.nn.functional.cross_entropy(pyg_sage(x, empty), y).backward()
    w_l = pyg_sage.lins[0].weight.grad[:16]  # the neighbour half of [W_l | W_r]
    assert w_l.abs().sum() == 0


@pytest.mark.parametrize("concat,heads", [(True, 4), (False, 1)])
def test_weighted_gat_is_gatconv_when_unweighted(graph, concat, heads):
    x, ei, _ = graph
    torch.manual_seed(0)
    conv = WeightedGATConv(F_IN, F_OUT, heads, concat, att_dropout=0.0).eval()
    with torch.no_grad():
        conv.bias.normal_()
    ref = GATConv(F_IN, F_OUT, heads=heads, concat=concat, dropout=0.0)
    with torch.no_grad():
        ref.lin.weight.copy_(conv.lin.weight)
        ref.att_src.copy_(conv.att_src)
        ref.att_dst.copy_(conv.att_dst)
        ref.bias.copy_(conv.bias)
    assert torch.allclose(conv(x, AdjInput(ei, None, N)), ref(x, ei), atol=1e-5)


def test_weighted_gat_weights_multiply_messages_after_the_softmax(graph):
    x, ei, w = graph
    torch.manual_seed(0)
    conv = WeightedGATConv(F_IN, F_OUT, 2, True, att_dropout=0.0).eval()
    ref = GATConv(F_IN, F_OUT, heads=2, dropout=0.0)
    with torch.no_grad():
        ref.lin.weight.copy_(conv.lin.weight)
        ref.att_src.copy_(conv.att_src)
        ref.att_dst.copy_(conv.att_dst)
    _, (ei_l, alpha) = ref(x, ei, return_attention_weights=True)  # the attention ignores the weights
    loops = ei_l[0] == ei_l[1]
    wl = torch.ones(ei_l.size(1))
    key = ei[0] * N + ei[1]
    order = torch.argsort(key)
    pos = torch.searchsorted(key[order], ei_l[0][~loops] * N + ei_l[1][~loops])
    wl[~loops] = w[order[pos]]
    z = conv.lin(x).view(N, 2, F_OUT)
    expect = torch.zeros(N, 2, F_OUT).index_add_(0, ei_l[1], z[ei_l[0]] * (alpha * wl[:, None])[..., None])
    assert torch.allclose(conv(x, AdjInput(ei, w, N)), expect.reshape(N, -1) + conv.bias, atol=1e-5)


@pytest.mark.parametrize("concat,heads", [(True, 4), (False, 1)])
def test_weighted_gat_gradients_equal_the_edge_message_formula(graph, concat, heads):
    """The layer aggregates with one CSR product over a block-diagonal matrix of the heads (a custom
    backward); its gradients in the input, every parameter and the edge weights equal those of the plain
    gather-and-add formula."""
    from torch_geometric.utils import softmax

    x, ei, w = graph
    torch.manual_seed(0)
    conv = WeightedGATConv(F_IN, F_OUT, heads, concat, att_dropout=0.0).train()

    def formula(x, w):
        n = x.size(0)
        loop = torch.arange(n)
        src, dst = torch.cat([ei[0], loop]), torch.cat([ei[1], loop])
        wl = torch.cat([w, torch.ones(n)])
        z = conv.lin(x).view(n, heads, F_OUT)
        logit = torch.nn.functional.leaky_relu((z * conv.att_src).sum(-1)[src] + (z * conv.att_dst).sum(-1)[dst], 0.2)
        att = softmax(logit, dst, num_nodes=n) * wl[:, None]
        out = torch.zeros_like(z).index_add_(0, dst, z[src] * att[..., None])
        return (out.reshape(n, -1) if concat else out.mean(1)) + conv.bias

    grads = []
    for f in (lambda x, w: conv(x, AdjInput(ei, w, N)), formula):
        xx, ww = x.clone().requires_grad_(), w.clone().requires_grad_()
        conv.zero_grad()
        out = f(xx, ww)
        (out * torch.linspace(-1, 1, out.numel()).view_as(out)).sum().backward()
        grads.append([out.detach(), xx.grad, ww.grad] + [p.grad.clone() for p in conv.parameters()])
    for a, b in zip(*grads):
        assert torch.allclose(a, b, atol=1e-5), (a - b).abs().max()
