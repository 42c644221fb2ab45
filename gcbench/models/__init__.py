"""GNN zoo for evaluation (and as the backbone of gradient-matching methods).

Every model takes node features and an :class:`AdjInput` (edge list with optional weights), so the same
code trains on a dense weighted condensed adjacency (turned into weighted edges, differentiable in the
weights) and infers on the sparse full graph.

Each architecture is written as *transform, then propagate*: the features are first multiplied by the
layer's weight (a :class:`Lin`, which also accepts sparse CSR features such as bag-of-words, 10-20x
faster than dense on Cora), then propagated over the graph. For these linear propagations this is the
same function as propagating first, and it propagates ``hidden`` instead of ``in_dim`` columns.
Propagation uses a memoised sparse CSR matrix when the edge weights are constants (the full graph) and
an ``index_add`` over the edges when they carry gradients (a learned condensed adjacency).

========  =====================================================================================
``mlp``   linear layers; ignores the graph
``gcn``   :math:`H' = \\hat A H W + b`, :math:`\\hat A = D^{-1/2}(A+I)D^{-1/2}` with weighted degrees
          (Kipf & Welling; ``GCNConv`` semantics)
``sgc``   :math:`\\hat A^K X W + b` (Wu et al.; K=2)
``sage``  :math:`H' = \\bar A H W_l + H W_r + b`, :math:`\\bar A` the row-normalised adjacency, i.e. a
          weighted neighbour mean (``SAGEConv(aggr="mean")`` on an unweighted graph)
``gat``   PyG ``GATConv`` layers (multi-head); the edge weight enters the attention as a 1-d edge
          feature (``edge_dim=1``)
``cheb``  :math:`\\sum_k T_k(\\tilde L) H W_k + b`, :math:`\\tilde L = -D^{-1/2} A D^{-1/2}` (the scaled
          symmetric Laplacian with :math:`\\lambda_{max}=2`, as ``ChebConv``'s default); K=2
``appnp`` an MLP, then K=10 steps of personalised-PageRank propagation on :math:`\\hat A`, alpha=0.1
========  =====================================================================================
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass, field
from typing import Any

import torch
import torch.nn.functional as F
from torch import Tensor, nn
from torch_geometric.nn import GATConv
from torch_geometric.nn.conv.gcn_conv import gcn_norm
from torch_geometric.utils import scatter

warnings.filterwarnings("ignore", message="Sparse CSR tensor support is in beta state")
warnings.filterwarnings("ignore", message="Sparse invariant checks are implicitly disabled")

ARCHS = ("mlp", "gcn", "sgc", "sage", "gat", "cheb", "appnp")


@dataclass
class AdjInput:
    """A graph as models see it: ``edge_index`` ``[2, E]`` (source, target), optional ``edge_weight``.

    Self-loops must not be in ``edge_index``; normalisations add what they need. Normalised weights and
    constant propagation matrices are memoised on the instance, so build one per graph (weights that
    carry gradients are never memoised into a matrix).
    """

    edge_index: Tensor
    edge_weight: Tensor | None
    num_nodes: int
    _memo: dict[str, Any] = field(default_factory=dict, repr=False)

    def weights(self) -> Tensor:
        if self.edge_weight is not None:
            return self.edge_weight
        return torch.ones(self.edge_index.size(1), device=self.edge_index.device)

    def normalized(self, kind: str) -> tuple[Tensor, Tensor]:
        """``(edge_index, weight)`` of a normalised adjacency.

        ``gcn``: :math:`D^{-1/2}(A+I)D^{-1/2}`; ``row``: each target's in-weights sum to one;
        ``cheb``: :math:`-D^{-1/2} A D^{-1/2}`.
        """
        if kind in self._memo:
            return self._memo[kind]
        ei, w = self.edge_index, self.weights()
        if kind == "gcn":
            out = gcn_norm(ei, w, self.num_nodes, add_self_loops=True)
        elif kind == "row":
            deg = scatter(w, ei[1], 0, dim_size=self.num_nodes, reduce="sum")
            out = (ei, w / deg.clamp_min(1e-12)[ei[1]])
        elif kind == "cheb":
            deg = scatter(w, ei[1], 0, dim_size=self.num_nodes, reduce="sum")
            dinv = deg.clamp_min(1e-12).pow(-0.5) * (deg > 0)
            out = (ei, -dinv[ei[0]] * w * dinv[ei[1]])
        else:
            raise ValueError(f"unknown normalisation {kind!r}")
        if not (torch.is_grad_enabled() and w.requires_grad):
            self._memo[kind] = out
        return out

    def prop(self, h: Tensor, kind: str) -> Tensor:
        """:math:`M h` with ``M[i, j]`` = normalised weight of edge ``j -> i``."""
        ei, w = self.normalized(kind)
        if w.requires_grad:
            return torch.zeros(self.num_nodes, h.size(1), dtype=h.dtype, device=h.device).index_add_(
                0, ei[1], h[ei[0]] * w.unsqueeze(1).to(h.dtype)
            )
        key = f"csr:{kind}"
        if key not in self._memo:
            m = torch.sparse_coo_tensor(torch.stack([ei[1], ei[0]]), w.detach(), (self.num_nodes,) * 2,
                                        check_invariants=False)
            self._memo[key] = m.coalesce().to_sparse_csr()
        return self._memo[key] @ h

    def attr(self) -> Tensor:
        return self.weights().view(-1, 1)

    def to(self, device: torch.device | str) -> AdjInput:
        w = None if self.edge_weight is None else self.edge_weight.to(device)
        return AdjInput(self.edge_index.to(device), w, self.num_nodes)


class _SparseInputLinear(torch.autograd.Function):
    """``x @ W^T`` for a constant sparse CSR ``x`` whose transpose (also CSR) is known: the weight gradient
    ``(x^T g)^T`` then needs no CSR->CSC conversion (3x faster than autograd through ``torch.sparse.mm``)."""

    @staticmethod
    def forward(ctx: Any, x: Tensor, xt: Tensor, weight: Tensor) -> Tensor:
        ctx.xt = xt
        return torch.sparse.mm(x, weight.t())

    @staticmethod
    def backward(ctx: Any, grad: Tensor) -> tuple[None, None, Tensor]:
        return None, None, (ctx.xt @ grad).t()


class Lin(nn.Linear):
    """``nn.Linear`` that also takes sparse CSR input (bag-of-words features), see :func:`sparse_features`."""

    def forward(self, x: Tensor) -> Tensor:
        if x.layout == torch.sparse_csr:
            xt = getattr(x, "gcbench_transpose", None)
            if xt is not None:
                out = _SparseInputLinear.apply(x, xt, self.weight)
            else:
                out = torch.sparse.mm(x, self.weight.t())
            return out if self.bias is None else out + self.bias
        return super().forward(x)


def sparse_features(x: Tensor, max_density: float = 0.1) -> Tensor:
    """``x`` as sparse CSR (with its CSR transpose attached) when at most ``max_density`` of it is non-zero;
    otherwise ``x`` unchanged. Only for constant features (the real graph's)."""
    if x.layout != torch.strided or x.requires_grad or x.numel() == 0:
        return x
    if float((x != 0).float().mean()) > max_density:
        return x
    xs = x.to_sparse_csr()
    xs.gcbench_transpose = x.t().contiguous().to_sparse_csr()
    return xs


def dropout(h: Tensor, p: float, training: bool) -> Tensor:
    """Inverted dropout with a ``rand`` mask (3x faster than ``F.dropout``'s ``bernoulli_`` on the CPU)."""
    if not training or p == 0.0:
        return h
    return h * (torch.rand_like(h) >= p).to(h.dtype) * (1.0 / (1.0 - p))


class GNN(nn.Module):
    """One model class for all architectures; ``arch`` picks the layers (see the module docstring).

    As in the GCond evaluation code, dropout acts on hidden representations (after each non-final
    activation), not on the input features; GAT additionally drops attention coefficients.
    """

    def __init__(
        self,
        arch: str,
        in_dim: int,
        out_dim: int,
        hidden: int = 256,
        layers: int = 2,
        dropout: float = 0.5,
        heads: int = 8,
        K: int = 2,
        alpha: float = 0.1,
    ) -> None:
        super().__init__()
        if arch not in ARCHS:
            raise ValueError(f"unknown architecture {arch!r}; known: {', '.join(ARCHS)}")
        if layers < 1:
            raise ValueError("layers must be >= 1")
        self.arch, self.dropout, self.K, self.alpha = arch, dropout, K, alpha
        dims = [in_dim] + [hidden] * (layers - 1) + [out_dim]
        pairs = list(zip(dims[:-1], dims[1:]))
        if arch == "sgc":
            pairs = [(in_dim, out_dim)]
        if arch in ("mlp", "appnp", "sgc"):
            self.lins = nn.ModuleList(Lin(a, b) for a, b in pairs)
        elif arch == "gcn":
            self.lins = nn.ModuleList(Lin(a, b, bias=False) for a, b in pairs)
            self.biases = nn.ParameterList(nn.Parameter(torch.zeros(b)) for _, b in pairs)
        elif arch == "sage":  # [W_l | W_r] in one matrix: one product per layer
            self.lins = nn.ModuleList(Lin(a, 2 * b) for a, b in pairs)
        elif arch == "cheb":  # [W_0 | ... | W_{K-1}] in one matrix
            self.lins = nn.ModuleList(Lin(a, K * b) for a, b in pairs)
        elif arch == "gat":
            if hidden % heads:
                raise ValueError(f"gat: hidden {hidden} must be divisible by heads {heads}")
            convs = []
            for i, (a, b) in enumerate(pairs):
                last = i == len(pairs) - 1
                conv = GATConv(a, b if last else b // heads, heads=1 if last else heads, concat=not last,
                               dropout=dropout, edge_dim=1)
                h_out = conv.lin.weight.size(0)
                conv.lin = Lin(a, h_out, bias=False)  # same role as PyG's Linear; also takes CSR input
                nn.init.xavier_uniform_(conv.lin.weight)
                convs.append(conv)
            self.lins = nn.ModuleList(convs)
        self.out_dims = [b for _, b in pairs]

    def reset_parameters(self) -> None:
        for m in self.modules():
            if m is not self and hasattr(m, "reset_parameters"):
                m.reset_parameters()

    def _layer(self, i: int, h: Tensor, adj: AdjInput) -> Tensor:
        lin = self.lins[i]
        if self.arch in ("mlp", "appnp"):
            return lin(h)
        if self.arch == "gat":
            return lin(h, adj.edge_index, edge_attr=adj.attr())
        z = lin(h)
        if self.arch == "gcn":
            return adj.prop(z, "gcn") + self.biases[i]
        if self.arch == "sgc":
            for _ in range(self.K):
                z = adj.prop(z, "gcn")
            return z
        b = self.out_dims[i]
        if self.arch == "sage":
            return adj.prop(z[:, :b], "row") + z[:, b:]
        # cheb: T_0 = I, T_1 = L, T_k = 2 L T_{k-1} - T_{k-2}; block k of z goes through T_k
        out, t_prev, t_cur = z[:, :b], z, None
        for k in range(1, self.K):
            t_next = adj.prop(t_prev, "cheb") if k == 1 else 2 * adj.prop(t_cur, "cheb") - t_prev
            if k > 1:
                t_prev = t_cur
            t_cur = t_next
            out = out + t_cur[:, k * b:(k + 1) * b]
        return out

    def forward(self, x: Tensor, adj: AdjInput) -> Tensor:
        h = x
        n = len(self.lins)
        for i in range(n):
            h = self._layer(i, h, adj)
            if i < n - 1:
                h = F.elu(h) if self.arch == "gat" else F.relu(h)
                h = dropout(h, self.dropout, self.training)
        if self.arch == "appnp":
            h0 = h
            for _ in range(self.K):
                h = (1 - self.alpha) * adj.prop(h, "gcn") + self.alpha * h0
        return h


def build_model(arch: str, in_dim: int, out_dim: int, **cfg: Any) -> GNN:
    """``GNN(arch, in_dim, out_dim, **cfg)`` keeping only the keys the model knows."""
    known = {"hidden", "layers", "dropout", "heads", "K", "alpha"}
    return GNN(arch, in_dim, out_dim, **{k: v for k, v in cfg.items() if k in known})
