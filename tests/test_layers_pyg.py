"""Under the ``pyg`` protocol each architecture's layer is PyG's layer: same outputs with copied weights."""

import pytest
import torch
from torch_geometric.nn import APPNP, ChebConv, GATConv, GCNConv, SAGEConv, SGConv

from gcbench.models import GNN, AdjInput

N, F_IN, F_OUT = 40, 12, 5


@pytest.fixture(scope="module")
def graph():
    g = torch.Generator().manual_seed(0)
    ei = torch.randint(0, N, (2, 160), generator=g)
    ei = ei[:, ei[0] != ei[1]]
    ei = torch.cat([ei, ei.flip(0)], 1).unique(dim=1)  # undirected, no duplicates
    w = torch.rand(ei.size(1), generator=g) + 0.1
    w = (w + w[_reverse(ei)]) / 2  # symmetric weights
    x = torch.randn(N, F_IN, generator=g)
    return x, ei, w


def _reverse(ei):
    """Index of each edge's reverse edge."""
    key = ei[0] * N + ei[1]
    rkey = ei[1] * N + ei[0]
    order = torch.argsort(key)
    return order[torch.searchsorted(key[order], rkey)]


def one_layer(arch, **kw):
    torch.manual_seed(1)
    model = GNN(arch, F_IN, F_OUT, layers=1, dropout=0.0, protocol="pyg", **kw).eval()
    for p in model.parameters():  # non-zero biases, so a misplaced bias shows
        with torch.no_grad():
            p.add_(torch.randn_like(p) * 0.1)
    return model


def close(a, b):
    assert a.shape == b.shape
    assert torch.allclose(a, b, atol=1e-5), float((a - b).abs().max())


@pytest.mark.parametrize("weighted", [False, True])
def test_gcn_is_gcnconv(graph, weighted):
    x, ei, w = graph
    w = w if weighted else None
    m = one_layer("gcn")
    ref = GCNConv(F_IN, F_OUT)
    with torch.no_grad():
        ref.lin.weight.copy_(m.lins[0].weight)
        ref.bias.copy_(m.biases[0])
    close(m(x, AdjInput(ei, w, N)), ref(x, ei, w))


@pytest.mark.parametrize("weighted", [False, True])
def test_sgc_is_sgconv_bias_after_propagation(graph, weighted):
    x, ei, w = graph
    w = w if weighted else None
    m = one_layer("sgc", K=2)
    ref = SGConv(F_IN, F_OUT, K=2)
    with torch.no_grad():
        ref.lin.weight.copy_(m.lins[0].weight)
        ref.lin.bias.copy_(m.biases[0])
    close(m(x, AdjInput(ei, w, N)), ref(x, ei, w))


def test_sage_is_sageconv_mean(graph):
    x, ei, _ = graph
    m = one_layer("sage")
    ref = SAGEConv(F_IN, F_OUT, aggr="mean")
    W = m.lins[0].weight  # [W_l | W_r] stacked on the output axis
    with torch.no_grad():
        ref.lin_l.weight.copy_(W[:F_OUT])
        ref.lin_l.bias.copy_(m.biases[0])
        ref.lin_r.weight.copy_(W[F_OUT:])
    close(m(x, AdjInput(ei, None, N)), ref(x, ei))


@pytest.mark.parametrize("K", [2, 3, 4])
@pytest.mark.parametrize("weighted", [False, True])
def test_cheb_is_chebconv(graph, K, weighted):
    x, ei, w = graph
    w = w if weighted else None
    m = one_layer("cheb", K=K)
    ref = ChebConv(F_IN, F_OUT, K=K, normalization="sym")
    W = m.lins[0].weight
    with torch.no_grad():
        for k in range(K):
            ref.lins[k].weight.copy_(W[k * F_OUT:(k + 1) * F_OUT])
        ref.bias.copy_(m.biases[0])
    close(m(x, AdjInput(ei, w, N)), ref(x, ei, w, lambda_max=2.0))


@pytest.mark.parametrize("weighted", [False, True])
def test_appnp_is_mlp_then_pyg_appnp(graph, weighted):
    x, ei, w = graph
    w = w if weighted else None
    m = one_layer("appnp", K=10, alpha=0.1)
    h = m.lins[0](x)
    close(m(x, AdjInput(ei, w, N)), APPNP(K=10, alpha=0.1)(h, ei, w))


def test_gat_is_gatconv(graph):
    x, ei, w = graph
    torch.manual_seed(1)
    m = GNN("gat", F_IN, F_OUT, layers=1, dropout=0.0, heads=4, protocol="pyg").eval()
    conv = m.lins[0]
    ref = GATConv(F_IN, F_OUT, heads=1, concat=False, dropout=0.0, edge_dim=1)
    ref.load_state_dict({k: v for k, v in conv.state_dict().items()})
    close(m(x, AdjInput(ei, w, N)), ref(x, ei, edge_attr=w.view(-1, 1)))
