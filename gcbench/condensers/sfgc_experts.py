"""SFGC's expert trajectories: GCN experts trained together on the real graph, their snapshots, the cache.

What is trained and stored, and why, is part 1 of :mod:`gcbench.condensers.sfgc`'s docstring (the method
it serves); this module holds the machinery: the flat parameter layout, :class:`ExpertTrainer` (every
expert on the training nodes' receptive field in one sparse product), :func:`train_experts`, and the
checksummed cache under ``$GCBENCH_CACHE/experts/`` (:func:`experts_for`).
"""

from __future__ import annotations

import hashlib
import json
import math
import os
import time
import warnings
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import torch
import torch.nn.functional as F
from torch import Tensor

from gcbench.condensers.gradient_matching import normalized_adjacency
from gcbench.data.planetoid import sha256_file
from gcbench.evaluate import full_graph_features, full_graph_input
from gcbench.graph import Graph
from gcbench.models import GNN
from gcbench.util import atomic_write

FORMAT_VERSION = 1
EXPERT_DTYPES = {"float16": torch.float16, "bfloat16": torch.bfloat16, "float32": torch.float32}

#: how many times expert trajectories were trained in this process (tests check cache reuse with it)
EXPERT_TRAININGS = 0


def cache_root() -> Path:
    """``$GCBENCH_CACHE`` (default ``~/.cache/gcbench``)."""
    return Path(os.environ.get("GCBENCH_CACHE", Path.home() / ".cache" / "gcbench")).expanduser()



# ------------------------------------------------------------------------------------ param layout
def param_layout(in_dim: int, hidden: int, out_dim: int, layers: int) -> list[tuple[str, tuple[int, ...]]]:
    """Names and shapes of ``GNN("gcn", ...)``'s parameters in ``named_parameters`` order: the flat
    layout of a snapshot (weights stored ``[out, in]``)."""
    dims = [in_dim] + [hidden] * (layers - 1) + [out_dim]
    pairs = list(zip(dims[:-1], dims[1:]))
    return ([(f"lins.{i}.weight", (b, a)) for i, (a, b) in enumerate(pairs)]
            + [(f"biases.{i}", (b,)) for i, (_, b) in enumerate(pairs)])


def unflatten(flat: Tensor, layout: list[tuple[str, tuple[int, ...]]]) -> dict[str, Tensor]:
    """Views of ``flat`` (``[..., P]``) with the layout's names and shapes."""
    out, pos = {}, 0
    lead = tuple(flat.shape[:-1])
    for name, shape in layout:
        size = math.prod(shape)
        out[name] = flat[..., pos:pos + size].reshape(*lead, *shape)
        pos += size
    return out


def split_layers(params: dict[str, Tensor], layers: int) -> tuple[list[Tensor], list[Tensor]]:
    return ([params[f"lins.{i}.weight"] for i in range(layers)], [params[f"biases.{i}"] for i in range(layers)])


# ------------------------------------------------------------------------------------- expert cache
@dataclass
class ExpertBuffer:
    """Expert snapshots ``params[m, s]`` (flat, layout :func:`param_layout`) at ``epochs[s]``."""

    params: Tensor
    epochs: list[int]
    layout: list[tuple[str, tuple[int, ...]]]
    manifest: dict[str, Any] = field(default_factory=dict)
    path: Path | None = None
    trained: bool = False

    def __post_init__(self) -> None:
        self._index = {e: i for i, e in enumerate(self.epochs)}

    @property
    def n_experts(self) -> int:
        return int(self.params.size(0))

    def snapshot(self, expert: int, epoch: int, device: torch.device | str = "cpu") -> Tensor:
        """Flat fp32 parameters of ``expert`` after ``epoch`` optimiser steps."""
        if epoch not in self._index:
            raise KeyError(f"epoch {epoch} is not stored (stored: {self.epochs})")
        return self.params[expert, self._index[epoch]].to(device=device, dtype=torch.float32)

    @property
    def nbytes(self) -> int:
        return int(self.params.numel() * self.params.element_size())


def expert_cache_dir(graph: Graph, spec: dict[str, Any]) -> Path:
    blob = json.dumps(spec, sort_keys=True, default=str)
    return cache_root() / "experts" / f"{graph.sha[:16]}-{hashlib.sha256(blob.encode()).hexdigest()[:12]}"


def load_experts(folder: Path, spec: dict[str, Any]) -> ExpertBuffer | None:
    """The cached buffer in ``folder``, ``None`` if there is none, or (with a warning) if it is
    incomplete, truncated, corrupted or made for another configuration."""
    manifest_path, data_path = folder / "manifest.json", folder / "trajectories.pt"
    if not manifest_path.exists() and not data_path.exists():
        return None
    problem = None
    try:
        manifest = json.loads(manifest_path.read_text())
        if manifest.get("spec") != json.loads(json.dumps(spec, default=str)):
            problem = "its manifest describes another expert configuration"
        elif not data_path.exists():
            problem = "trajectories.pt is missing"
        elif data_path.stat().st_size != manifest["bytes"]:
            problem = f"trajectories.pt has {data_path.stat().st_size} bytes, the manifest says {manifest['bytes']}"
        elif sha256_file(data_path) != manifest["sha256"]:
            problem = "trajectories.pt does not match the manifest's sha256"
        else:
            state = torch.load(data_path, map_location="cpu", weights_only=True)
            layout = [(n, tuple(s)) for n, s in manifest["layout"]]
            return ExpertBuffer(state["params"], [int(e) for e in state["epochs"]], layout, manifest, data_path)
    except (OSError, ValueError, KeyError, RuntimeError, json.JSONDecodeError) as exc:
        problem = f"it cannot be read ({type(exc).__name__}: {exc})"
    warnings.warn(f"sfgc: expert cache {folder} is unusable ({problem}); training the experts again",
                  RuntimeWarning, stacklevel=3)
    return None


def save_experts(folder: Path, buf: ExpertBuffer, spec: dict[str, Any], info: dict[str, Any]) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    data_path = folder / "trajectories.pt"
    atomic_write(data_path, lambda p: torch.save({"params": buf.params, "epochs": buf.epochs}, p))
    manifest = {
        "format": FORMAT_VERSION,
        "spec": json.loads(json.dumps(spec, default=str)),
        "layout": [[n, list(s)] for n, s in buf.layout],
        "shape": list(buf.params.shape),
        "dtype": str(buf.params.dtype),
        "bytes": data_path.stat().st_size,
        "sha256": sha256_file(data_path),
        **info,
    }
    atomic_write(folder / "manifest.json", lambda p: p.write_text(json.dumps(manifest, indent=1)))
    buf.manifest, buf.path = manifest, data_path


class _ConstSparseMM(torch.autograd.Function):
    """``m @ h`` for a constant sparse CSR ``m`` whose transpose (CSR) is known: backward is ``m^T @ g``."""

    @staticmethod
    def forward(ctx: Any, m: Tensor, mt: Tensor, h: Tensor) -> Tensor:
        ctx.mt = mt
        return m @ h

    @staticmethod
    def backward(ctx: Any, grad: Tensor) -> tuple[None, None, Tensor]:
        return None, None, ctx.mt @ grad


def _const_matrix(m: Tensor, max_density: float = 0.1) -> tuple[Tensor, Tensor | None]:
    """A constant matrix as (CSR, CSR transpose) when sparse enough, else (dense, None). A sparse COO input
    is measured by its stored entries and only densified when it is dense enough to be stored that way."""
    if m.layout == torch.sparse_coo:
        m = m.coalesce()
        if m.numel() and m._nnz() <= max_density * m.numel():
            return m.to_sparse_csr(), m.t().coalesce().to_sparse_csr()
        m = m.to_dense()
    elif m.layout != torch.strided:
        m = m.to_dense()
    if m.numel() and float((m != 0).float().mean()) <= max_density:
        return m.to_sparse_csr(), m.t().contiguous().to_sparse_csr()
    return m.contiguous(), None


def _mm(m: tuple[Tensor, Tensor | None], h: Tensor) -> Tensor:
    return h.new_zeros(0) if h.numel() == 0 else (
        _ConstSparseMM.apply(m[0], m[1], h) if m[1] is not None else m[0] @ h)


class ExpertTrainer:
    """``M`` GCN experts trained together on the training nodes' receptive field (see the module doc).

    Level ``L`` holds the training nodes, level ``l - 1`` level ``l`` plus its in-neighbours; layer 1
    reads the precomputed rows ``(Â X)[level 1]``, layer ``l`` aggregates level ``l - 1`` into level ``l``
    with the block ``Â[level l, level l-1]``. Weights are kept ``[M, in, out]``."""

    def __init__(self, x: Tensor, edge_index: Tensor, y: Tensor, train_idx: Tensor, hidden: int, layers: int,
                 device: torch.device) -> None:
        n = x.size(0)
        self.device, self.layers = device, layers
        adj = normalized_adjacency(edge_index.cpu(), n).to_sparse_coo().coalesce()
        (rows, cols), vals = adj.indices(), adj.values()
        levels = [torch.sort(train_idx.cpu()).values]
        for _ in range(layers - 1):
            top = torch.zeros(n, dtype=torch.bool)
            top[levels[-1]] = True
            levels.append(torch.unique(torch.cat([cols[top[rows]], levels[-1]])))
        levels.reverse()  # levels[0] = level 1 (widest) ... levels[-1] = training nodes
        xd = x.to_dense() if x.is_sparse else x
        rows_first = torch.zeros(n, dtype=torch.bool)
        rows_first[levels[0]] = True
        keep = rows_first[rows]
        pos = torch.full((n,), -1, dtype=torch.long)
        pos[levels[0]] = torch.arange(levels[0].numel())
        a1 = torch.sparse_coo_tensor(torch.stack([pos[rows[keep]], cols[keep]]), vals[keep],
                                     (levels[0].numel(), n), check_invariants=False).coalesce()
        ax = _const_matrix(torch.sparse.mm(a1, xd.float()))
        self.ax = (ax[0].to(device), None if ax[1] is None else ax[1].to(device))
        self.blocks = []
        for lo, hi in zip(levels[:-1], levels[1:]):
            sel_hi = torch.zeros(n, dtype=torch.bool)
            sel_hi[hi] = True
            pos_lo = torch.full((n,), -1, dtype=torch.long)
            pos_lo[lo] = torch.arange(lo.numel())
            pos_hi = torch.full((n,), -1, dtype=torch.long)
            pos_hi[hi] = torch.arange(hi.numel())
            k = sel_hi[rows]
            blk = torch.sparse_coo_tensor(torch.stack([pos_hi[rows[k]], pos_lo[cols[k]]]), vals[k],
                                          (hi.numel(), lo.numel()), check_invariants=False).coalesce()
            self.blocks.append(tuple(None if t is None else t.to(device) for t in _const_matrix(blk, 0.3)))
        self.y = y[levels[-1]].to(device)
        self.level_sizes = [int(v.numel()) for v in levels]

    def logits(self, ws: list[Tensor], bs: list[Tensor]) -> Tensor:
        """Logits ``[n_train, M, C]`` of every expert at the training nodes."""
        M = ws[0].size(0)
        w1 = ws[0].permute(1, 0, 2).reshape(ws[0].size(1), -1)  # [d, M*h]
        h = _mm(self.ax, w1).view(-1, M, ws[0].size(2)) + bs[0]
        for i in range(1, self.layers):
            h = torch.relu(h)
            t = torch.bmm(h.transpose(0, 1), ws[i])  # [M, n_lo, out]
            t = _mm(self.blocks[i - 1], t.transpose(0, 1).reshape(t.size(1), -1))
            h = t.view(-1, M, ws[i].size(2)) + bs[i]
        return h

    def loss(self, ws: list[Tensor], bs: list[Tensor]) -> Tensor:
        """Sum over experts of each expert's mean cross-entropy (so each gets its own gradient)."""
        out = self.logits(ws, bs)
        M, C = out.size(1), out.size(2)
        return F.cross_entropy(out.reshape(-1, C), self.y.repeat_interleave(M), reduction="sum") / self.y.numel()


def init_expert_params(in_dim: int, hidden: int, out_dim: int, layers: int, n: int, gen: torch.Generator
                       ) -> tuple[list[Tensor], list[Tensor]]:
    """``n`` experts' weights ``[n, in, out]`` and biases ``[n, out]``, all uniform in ``±1/sqrt(in)`` (the
    reference ``GraphConvolution.reset_parameters``); expert ``m``'s draws come before expert ``m+1``'s."""
    dims = [in_dim] + [hidden] * (layers - 1) + [out_dim]
    ws: list[list[Tensor]] = [[] for _ in range(layers)]
    bs: list[list[Tensor]] = [[] for _ in range(layers)]
    for _ in range(n):
        for i, (a, b) in enumerate(zip(dims[:-1], dims[1:])):
            bound = 1.0 / math.sqrt(a)
            ws[i].append((torch.rand(a, b, generator=gen) * 2 - 1) * bound)
            bs[i].append((torch.rand(b, generator=gen) * 2 - 1) * bound)
    return [torch.stack(w) for w in ws], [torch.stack(b) for b in bs]


def flat_params(ws: list[Tensor], bs: list[Tensor]) -> Tensor:
    """``[M, P]`` in the :func:`param_layout` order (weights transposed to ``[out, in]``)."""
    return torch.cat([w.transpose(1, 2).reshape(w.size(0), -1) for w in ws] + [b for b in bs], 1)


def train_experts(graph: Graph, spec: dict[str, Any], device: torch.device,
                  max_activation_bytes: float = 256e6) -> tuple[ExpertBuffer, dict[str, Any]]:
    """Train ``spec["n_experts"]`` experts and keep the snapshots at ``spec["epochs"]``.

    Experts are trained in groups whose widest activation (receptive-field rows x group x hidden, fp32)
    stays under ``max_activation_bytes``; grouping does not change the result (the experts are independent
    and every expert's initial draws are fixed by ``spec["seed"]``)."""
    global EXPERT_TRAININGS
    EXPERT_TRAININGS += 1
    t0 = time.perf_counter()
    x, ei, y, train_idx = graph.training_view()
    hidden, layers, M = int(spec["hidden"]), int(spec["layers"]), int(spec["n_experts"])
    C = graph.num_classes
    trainer = ExpertTrainer(x, ei, y, train_idx, hidden, layers, device)
    gen = torch.Generator().manual_seed(int(spec["seed"]))
    ws_all, bs_all = init_expert_params(x.size(1), hidden, C, layers, M, gen)
    epochs = sorted(int(e) for e in spec["epochs"])
    dtype = EXPERT_DTYPES[spec["dtype"]]
    layout = param_layout(x.size(1), hidden, C, layers)
    store = torch.empty(M, len(epochs), sum(math.prod(s) for _, s in layout), dtype=dtype)
    slot = {e: i for i, e in enumerate(epochs)}
    group = max(1, int(max_activation_bytes // (trainer.level_sizes[0] * max(hidden, C) * 4)))
    losses, finals = [], []
    for g0 in range(0, M, group):
        params = [p[g0:g0 + group].to(device).requires_grad_(True) for p in ws_all + bs_all]
        ws, bs = params[:layers], params[layers:]
        if spec["optim"] == "sgd":
            opt: torch.optim.Optimizer = torch.optim.SGD(params, lr=spec["lr"], momentum=spec["momentum"],
                                                         weight_decay=spec["weight_decay"])
        else:
            opt = torch.optim.Adam(params, lr=spec["lr"], weight_decay=spec["weight_decay"])
        loss = torch.tensor(float("nan"))
        for step in range(epochs[-1] + 1):
            if step in slot:
                with torch.no_grad():
                    store[g0:g0 + group, slot[step]] = flat_params(ws, bs).to("cpu", dtype)
            if step == epochs[-1]:
                break
            opt.zero_grad(set_to_none=True)
            loss = trainer.loss(ws, bs)
            loss.backward()
            opt.step()
        losses.append(loss.item() / ws[0].size(0))
        finals.append(flat_params(ws, bs).detach())
    train_s = time.perf_counter() - t0
    val_acc = expert_val_accuracy(graph, torch.cat(finals), layout, hidden, layers, device)
    info = {"train_s": train_s, "final_train_loss": sum(losses) / len(losses), "val_acc": val_acc,
            "receptive_field": trainer.level_sizes, "group": group}
    return ExpertBuffer(store, epochs, layout, trained=True), info


def expert_val_accuracy(graph: Graph, flat: Tensor, layout: list[tuple[str, tuple[int, ...]]], hidden: int,
                        layers: int, device: torch.device) -> list[float]:
    """Validation accuracy of each expert's final parameters on the full graph (a sanity figure)."""
    model = GNN("gcn", graph.num_features, graph.num_classes, hidden=hidden, layers=layers, dropout=0.0).to(device)
    x, adj = full_graph_features(graph, device), full_graph_input(graph, device)
    val, y = graph.val_idx.to(device), graph.y.to(device)
    out = []
    with torch.no_grad():
        for m in range(flat.size(0)):
            logits = torch.func.functional_call(model, unflatten(flat[m].to(device), layout), (x, adj))
            out.append(float((logits[val].argmax(-1) == y[val]).float().mean()) if val.numel() else math.nan)
    return out


def experts_for(graph: Graph, spec: dict[str, Any], device: torch.device) -> ExpertBuffer:
    """The cached experts for ``spec``, trained (and cached) first if needed."""
    folder = expert_cache_dir(graph, spec)
    buf = load_experts(folder, spec)
    if buf is not None:
        return buf
    buf, info = train_experts(graph, spec, device)
    buf.manifest = info
    try:
        save_experts(folder, buf, spec, info)
    except OSError as exc:  # an unwritable cache costs time, not the run
        warnings.warn(f"sfgc: could not write the expert cache {folder}: {exc}", RuntimeWarning, stacklevel=2)
    return buf
