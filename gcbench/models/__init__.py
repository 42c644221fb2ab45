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

Two protocols (``protocol=``; docs/evaluation-protocol.md gives the reference file of every choice):

* ``pyg`` — each layer is PyG's layer (tested equal with copied weights in tests/test_layers_pyg.py).
* ``reference`` (the default) — the layers of GCond's evaluation code (``ChandlerBang/GCond``
  ``models/``, run by ``tester_other_arcs.py`` for its cross-architecture table), under which every
  weight trains on an edgeless or structure-free condensed graph.

========  =========================================================  ==========================================
arch      ``pyg``                                                    ``reference`` (where it differs)
========  =========================================================  ==========================================
``mlp``   linear layers; ignores the graph                           same
``gcn``   :math:`\\hat A H W + b`, :math:`\\hat A = D^{-1/2}(A+I)      same
          D^{-1/2}` with weighted degrees (``GCNConv``)
``sgc``   :math:`\\hat A^K X W + b` (``SGConv``; bias after the       an MLP (hidden layer, ReLU), its output
          propagation); K=2                                          propagated K=2 times (``sgc_multi.py``)
``sage``  :math:`\\bar A H W_l + H W_r + b`, :math:`\\bar A` the      the GCN layer :math:`\\hat A H W + b`
          row-normalised adjacency (``SAGEConv(aggr="mean")``)       (``mygraphsage.py``, ``root_weight=False``)
``gat``   PyG ``GATConv``, the edge weight an edge feature           own layer: the edge weight multiplies the
          (``edge_dim=1``)                                           message after the softmax (``mygatconv.py``)
``cheb``  :math:`\\sum_k T_k(\\tilde L) H W_k + b`, :math:`\\tilde L =    :math:`(H + \\hat A H) W + b`, one shared W;
          -D^{-1/2} A D^{-1/2}` (``ChebConv``, lambda_max=2); K=2    :math:`\\hat A` without self-loops on a
                                                                     condensed graph, with them on the real
                                                                     one (``mycheby.py``)
``appnp`` an MLP, then K steps of personalised PageRank on           same, K=2 (``myappnp1.py``)
          :math:`\\hat A`, alpha=0.1; K=10
========  =========================================================  ==========================================
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
from torch_geometric.utils import scatter, softmax

from gcbench.archs import BUILTIN_NAMES, PROTOCOLS, get_arch

warnings.filterwarnings("ignore", message="Sparse CSR tensor support is in beta state")
warnings.filterwarnings("ignore", message="Sparse invariant checks are implicitly disabled")

#: the architectures :class:`GNN` implements (the registry, :mod:`gcbench.archs`, may hold plugins besides)
ARCHS = BUILTIN_NAMES


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
    #: the real graph (full graph, or the ``whole`` reference's training graph) rather than a condensed one;
    #: only the reference Cheb layer normalises the two differently (as GCond's evaluation code does)
    real: bool = False
    _memo: dict[str, Any] = field(default_factory=dict, repr=False)

    def weights(self) -> Tensor:
        if self.edge_weight is not None:
            return self.edge_weight
        return torch.ones(self.edge_index.size(1), device=self.edge_index.device)

    def normalized(self, kind: str) -> tuple[Tensor, Tensor]:
        """``(edge_index, weight)`` of a normalised adjacency.

        ``gcn``: :math:`D^{-1/2}(A+I)D^{-1/2}`; ``row``: each target's in-weights sum to one;
        ``cheb``: :math:`-D^{-1/2} A D^{-1/2}`; ``sym``: :math:`D^{-1/2} A D^{-1/2}` (no self-loops);
        ``loops``: :math:`A + I` unnormalised (GAT's edge set, self-loops of weight one).
        """
        if kind in self._memo:
            return self._memo[kind]
        ei, w = self.edge_index, self.weights()
        if kind == "gcn":
            out = gcn_norm(ei, w, self.num_nodes, add_self_loops=True)
        elif kind == "row":
            deg = scatter(w, ei[1], 0, dim_size=self.num_nodes, reduce="sum")
            out = (ei, w / deg.clamp_min(1e-12)[ei[1]])
        elif kind in ("cheb", "sym"):
            deg = scatter(w, ei[1], 0, dim_size=self.num_nodes, reduce="sum")
            dinv = deg.clamp_min(1e-12).pow(-0.5) * (deg > 0)
            sign = -1.0 if kind == "cheb" else 1.0
            out = (ei, sign * dinv[ei[0]] * w * dinv[ei[1]])
        elif kind == "loops":
            out = (_loops(ei, self.num_nodes), torch.cat([w, w.new_ones(self.num_nodes)]))
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

    def head_pattern(self, heads: int) -> tuple[Tensor, ...]:
        """The sparsity pattern of ``heads`` copies of the ``loops`` edge set as one ``[N heads, N heads]``
        CSR matrix, head ``h`` of an edge ``j -> i`` at row ``i heads + h``, column ``j heads + h`` (a
        block-diagonal matrix of the heads with its rows and columns interleaved, so that ``[N, heads, d]``
        features are its ``[N heads, d]`` operand without a copy), for :class:`WeightedGATConv`: ``(order,
        crow, col, order_t, crow_t, col_t)``, where ``order`` puts the ``[E, heads]`` edge values (flattened)
        into CSR order and ``order_t`` puts those into the order of the transposed matrix. Depends on the
        edges only, so it is memoised whatever the weights."""
        key = f"heads:{heads}"
        if key not in self._memo:
            ei = _loops(self.edge_index, self.num_nodes)  # the edge order of normalized("loops")
            size = heads * self.num_nodes
            head = torch.arange(heads, device=ei.device).repeat(ei.size(1))
            rows = ei[1].repeat_interleave(heads) * heads + head
            cols = ei[0].repeat_interleave(heads) * heads + head
            order, crow, col = _csr_pattern(rows, cols, size)
            order_t, crow_t, col_t = _csr_pattern(col, rows[order], size)
            self._memo[key] = (order, crow, col, order_t, crow_t, col_t)
        return self._memo[key]

    def attr(self) -> Tensor:
        return self.weights().view(-1, 1)

    def to(self, device: torch.device | str) -> AdjInput:
        w = None if self.edge_weight is None else self.edge_weight.to(device)
        return AdjInput(self.edge_index.to(device), w, self.num_nodes, self.real)


def _loops(ei: Tensor, num_nodes: int) -> Tensor:
    """``ei`` with a self-loop per node appended (GAT's edge set)."""
    loop = torch.arange(num_nodes, device=ei.device)
    return torch.cat([ei, loop.expand(2, -1)], 1)


def _csr_pattern(rows: Tensor, cols: Tensor, size: int) -> tuple[Tensor, Tensor, Tensor]:
    """``(order, crow, col)``: the permutation that sorts the entries ``(rows, cols)`` of a ``size x size``
    matrix row-major, and the CSR row pointers and column indices in that order."""
    order = torch.argsort(rows * size + cols)
    crow = torch.zeros(size + 1, dtype=torch.long, device=rows.device)
    crow[1:] = torch.bincount(rows, minlength=size).cumsum(0)
    return order, crow, cols[order]


class _BlockSpmm(torch.autograd.Function):
    """``A @ z`` for a CSR matrix ``A`` given by a fixed pattern and differentiable values: the gradient of
    ``z`` is ``A^T g`` (the transposed pattern), that of the values is ``g z^T`` sampled on the pattern
    (``torch.sparse.sampled_addmm``), so no ``[nnz, d]`` message tensor is ever materialised."""

    @staticmethod
    def forward(ctx: Any, values: Tensor, z: Tensor, pattern: tuple[Tensor, ...]) -> Tensor:
        _, crow, col, order_t, crow_t, col_t = pattern
        ctx.save_for_backward(values, z, crow, col, order_t, crow_t, col_t)
        size = crow.numel() - 1
        return torch.sparse_csr_tensor(crow, col, values, (size, size), check_invariants=False) @ z

    @staticmethod
    def backward(ctx: Any, grad: Tensor) -> tuple[Tensor | None, Tensor | None, None]:
        values, z, crow, col, order_t, crow_t, col_t = ctx.saved_tensors
        size = crow.numel() - 1
        grad_values = grad_z = None
        if ctx.needs_input_grad[1]:
            transposed = torch.sparse_csr_tensor(crow_t, col_t, values[order_t], (size, size), check_invariants=False)
            grad_z = transposed @ grad
        if ctx.needs_input_grad[0]:
            mask = torch.sparse_csr_tensor(crow, col, torch.zeros_like(values), (size, size), check_invariants=False)
            grad_values = torch.sparse.sampled_addmm(mask, grad.contiguous(), z.t().contiguous()).values()
        return grad_values, grad_z, None


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


class WeightedGATConv(nn.Module):
    """GAT layer of GCond's evaluation code (``models/mygatconv.py``): attention over the in-edges and a
    self-loop of weight one, :math:`\\alpha_{ij} = \\mathrm{softmax}_j(\\mathrm{LeakyReLU}_{0.2}(a_s^\\top W h_j +
    a_d^\\top W h_i))`, then the edge weight multiplies the message *after* the softmax:
    :math:`h'_i = \\sum_j w_{ji} \\alpha_{ij} W h_j + b` (the weight is no input of the attention, and a
    node's weights need not sum to one on a weighted condensed graph). Heads are concatenated (hidden
    layers) or averaged (output layer). Differentiable in the edge weights."""

    def __init__(self, in_dim: int, out_dim: int, heads: int, concat: bool, att_dropout: float) -> None:
        super().__init__()
        self.heads, self.out_dim, self.concat, self.att_dropout = heads, out_dim, concat, att_dropout
        self.lin = Lin(in_dim, heads * out_dim, bias=False)
        self.att_src = nn.Parameter(torch.empty(1, heads, out_dim))
        self.att_dst = nn.Parameter(torch.empty(1, heads, out_dim))
        self.bias = nn.Parameter(torch.empty(heads * out_dim if concat else out_dim))
        self.reset_parameters()

    def reset_parameters(self) -> None:
        nn.init.xavier_uniform_(self.lin.weight)
        nn.init.xavier_uniform_(self.att_src)
        nn.init.xavier_uniform_(self.att_dst)
        nn.init.zeros_(self.bias)

    def forward(self, h: Tensor, adj: AdjInput) -> Tensor:
        ei, w = adj.normalized("loops")
        src, dst = ei[0], ei[1]
        z = self.lin(h).view(-1, self.heads, self.out_dim)
        logits = F.leaky_relu((z * self.att_src).sum(-1)[src] + (z * self.att_dst).sum(-1)[dst], 0.2)
        att = softmax(logits, dst, num_nodes=adj.num_nodes)  # [E, heads]
        att = dropout(att, self.att_dropout, self.training) * w.unsqueeze(1).to(att.dtype)
        # out[i, h] = sum_j att[j->i, h] z[j, h]: one CSR product over a block-diagonal matrix of the heads
        # (5-8x faster than gathering z[src] into an [E, heads, out_dim] message tensor, forward and backward)
        pattern = adj.head_pattern(self.heads)
        n = adj.num_nodes
        out = _BlockSpmm.apply(att.reshape(-1)[pattern[0]], z.reshape(n * self.heads, self.out_dim), pattern)
        out = out.view(n, self.heads * self.out_dim) if self.concat else out.view(n, self.heads, self.out_dim).mean(1)
        return out + self.bias


class GNN(nn.Module):
    """One model class for all architectures; ``arch`` picks the layers and ``protocol`` their semantics
    (see the module docstring).

    As in the GCond evaluation code, dropout acts on hidden representations (after each non-final
    activation), not on the input features; GAT drops attention coefficients with ``att_dropout``
    (default: ``dropout``).
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
        protocol: str = "reference",
        att_dropout: float | None = None,
    ) -> None:
        super().__init__()
        if arch not in ARCHS:
            raise ValueError(f"unknown architecture {arch!r}; known: {', '.join(ARCHS)}")
        if layers < 1:
            raise ValueError("layers must be >= 1")
        if protocol not in PROTOCOLS:
            raise ValueError(f"unknown protocol {protocol!r}; known: {', '.join(PROTOCOLS)}")
        if K < 1:
            raise ValueError("K must be >= 1")
        self.arch, self.dropout, self.K, self.alpha, self.protocol = arch, dropout, K, alpha, protocol
        att_dropout = dropout if att_dropout is None else att_dropout
        ref = protocol == "reference"
        dims = [in_dim] + [hidden] * (layers - 1) + [out_dim]
        pairs = list(zip(dims[:-1], dims[1:]))
        # how each layer propagates: "mlp" (not at all), "gcn" (A_hat (H W) + b), "sgc" (an MLP whose output
        # is propagated K times), "sage" ([W_l | W_r]: row mean over neighbours + root), "cheb" / "cheb_ref"
        self.kind = arch
        if arch == "sgc" and not ref:
            pairs = [(in_dim, out_dim)]  # SGConv: one linear map after K propagations
        if arch == "sage" and ref:
            self.kind = "gcn"  # GCond's SageConvolution(root_weight=False) on the GCN normalisation
        if arch == "cheb" and ref:
            self.kind = "cheb_ref"
        if self.kind in ("mlp", "appnp") or (arch == "sgc" and ref):
            self.lins = nn.ModuleList(Lin(a, b) for a, b in pairs)
        elif self.kind in ("gcn", "sgc", "sage", "cheb", "cheb_ref"):
            # sage: [W_l | W_r] in one matrix, one product per layer; cheb: [W_0 | ... | W_{K-1}]
            width = {"sage": 2, "cheb": K}.get(self.kind, 1)
            self.lins = nn.ModuleList(Lin(a, width * b, bias=False) for a, b in pairs)
            self.biases = nn.ParameterList(nn.Parameter(torch.zeros(b)) for _, b in pairs)  # after propagation
        elif arch == "gat":
            if hidden % heads:
                raise ValueError(f"gat: hidden {hidden} must be divisible by heads {heads}")
            convs = []
            for i, (a, b) in enumerate(pairs):
                last = i == len(pairs) - 1
                h_out, h_heads = (b, 1) if last else (b // heads, heads)
                if ref:
                    conv = WeightedGATConv(a, h_out, h_heads, concat=not last, att_dropout=att_dropout)
                else:
                    conv = GATConv(a, h_out, heads=h_heads, concat=not last, dropout=att_dropout, edge_dim=1)
                    conv.lin = Lin(a, h_out * h_heads, bias=False)  # same role as PyG's Linear; takes CSR input
                    nn.init.xavier_uniform_(conv.lin.weight)
                convs.append(conv)
            self.lins = nn.ModuleList(convs)
        self.out_dims = [b for _, b in pairs]

    def reset_parameters(self) -> None:
        for m in self.modules():
            if m is not self and hasattr(m, "reset_parameters"):
                m.reset_parameters()

    def _layer(self, i: int, h: Tensor, adj: AdjInput) -> Tensor:
        lin, kind = self.lins[i], self.kind
        if kind in ("mlp", "appnp") or (kind == "sgc" and self.protocol == "reference"):
            return lin(h)
        if kind == "gat":
            if isinstance(lin, WeightedGATConv):
                return lin(h, adj)
            return lin(h, adj.edge_index, edge_attr=adj.attr())
        z = lin(h)
        if kind == "gcn":
            return adj.prop(z, "gcn") + self.biases[i]
        if kind == "sgc":
            for _ in range(self.K):
                z = adj.prop(z, "gcn")
            return z + self.biases[i]
        if kind == "sage":
            b = self.out_dims[i]
            return adj.prop(z[:, :b], "row") + z[:, b:] + self.biases[i]
        if kind == "cheb_ref":
            # GCond's Cheby (single_param): sum_k A^k H W + b with A = D^-1/2 A D^-1/2 on a condensed graph
            # and D^-1/2 (A + I) D^-1/2 on the real one (its fit/predict normalise the two differently)
            norm, out, t = ("gcn" if adj.real else "sym"), z, z
            for _ in range(1, self.K):
                t = adj.prop(t, norm)
                out = out + t
            return out + self.biases[i]
        # cheb: T_0 = I, T_1 = L, T_k = 2 L T_{k-1} - T_{k-2}; block k of z goes through T_k, and step k only
        # propagates the blocks that still need it (k..K-1): t_cur = T_{k-1} z[blocks k-1..], t_prev = T_{k-2}
        # z[blocks k-2..]
        b = self.out_dims[i]
        out, t_prev, t_cur = z[:, :b], None, z
        for k in range(1, self.K):
            t_next = adj.prop(t_cur[:, b:], "cheb")
            if k > 1:
                t_next = 2 * t_next - t_prev[:, 2 * b:]
            t_prev, t_cur = t_cur, t_next
            out = out + t_cur[:, :b]
        return out + self.biases[i]

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
        elif self.arch == "sgc" and self.protocol == "reference":
            for _ in range(self.K):
                h = adj.prop(h, "gcn")
        return h


def build_gnn(arch: str, in_dim: int, out_dim: int, **cfg: Any) -> GNN:
    """``GNN(arch, in_dim, out_dim, **cfg)`` keeping only the keys the model knows (the built-ins' builder)."""
    known = {"hidden", "layers", "dropout", "heads", "K", "alpha", "protocol", "att_dropout"}
    return GNN(arch, in_dim, out_dim, **{k: v for k, v in cfg.items() if k in known})


def build_model(arch: str, in_dim: int, out_dim: int, **cfg: Any) -> nn.Module:
    """The model of the registered architecture ``arch`` (:mod:`gcbench.archs`): a built-in's
    :func:`build_gnn`, a plugin's own builder."""
    return get_arch(arch).builder()(arch, in_dim, out_dim, **cfg)
