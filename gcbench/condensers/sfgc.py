"""SFGC: structure-free graph condensation by trajectory matching (Zheng et al., NeurIPS 2023).

Facts from the reference code are in ``docs/reference-notes/sfgc.md`` (cited below as "notes §n");
every default and its origin is also in ``methods/sfgc.yaml``.

**1. Expert trajectories** (notes §2). ``n_experts`` 2-layer GCNs (hidden 256, dropout 0, bias, weight
and bias uniform in ``±1/sqrt(fan_in)``) are trained full batch on the real graph (transductive: the
whole graph with :math:`D^{-1/2}(A+I)D^{-1/2}`; inductive: the training subgraph), loss on the labelled
training nodes, with the reference's per-dataset optimiser (Cora: SGD lr 0.4; Citeseer: Adam lr 1e-3,
wd 5e-4). The experts are trained *together*: their weights are stacked on a leading expert dimension
and each node only computes what the training nodes' 2-hop receptive field needs, so one sparse
product serves all experts (the losses are independent, so this is exactly ``n_experts`` separate
runs). The snapshot of epoch ``e`` is the parameter vector after ``e`` optimiser steps (the reference's
snapshot ``k`` is after ``10k+1`` steps, notes §2 / surprise 7: an off-by-one we do not copy).

*Bounded storage.* The reference keeps 200 experts x every 10th epoch in fp32: ~74 GB on Cora. Here only
the snapshots a run can draw are stored — the start epochs ``0, start_every, ..., max_start_epoch`` and
the targets ``start + expert_epochs`` (for options given per ratio, the union over the ratios, so one
cache serves all ratios) — in ``expert_dtype`` (fp16 by default; all arithmetic is fp32). Cora with the
defaults: 18 snapshots x 368,903 parameters x 2 bytes = 13.3 MB per expert, 66 MB for 5 experts (fp32:
133 MB); Citeseer: 12 snapshots x 949,766 x 2 B = 22.8 MB per expert; the 100k-node synthetic graph
(192 features, class defaults): 8 x 51,464 x 2 B = 0.8 MB per expert. ``benchmarks/bench_sfgc.py`` prints the
measured figures.

*Cache.* ``$GCBENCH_CACHE/experts/<dataset sha[:16]>-<hash of the expert config>/`` (default cache
``~/.cache/gcbench``) holds ``trajectories.pt`` and ``manifest.json``. The expert config is everything
that determines the trajectories (dataset checksum, architecture, optimiser, seed ``expert_seed``, the
epoch list, dtype), never the run seed, so all seeds and ratios of a dataset share one cache. Both files
are written to a temporary file in the same folder and moved into place with ``os.replace``, data first,
manifest last; the manifest records the data file's length and sha256, so a missing, truncated or
corrupted file is detected on load, reported with a warning and rebuilt.

**2. Condensation** (notes §3-4). ``X'`` starts as the features of training nodes chosen per class by
greedy K-Center (first centre nearest the class mean, then farthest point) on the hidden layer of a GCN
trained on the full graph with the evaluation protocol (``train_on_full_graph``, seeded by the run
seed; the reference uses the last *train-mode* forward, i.e. a dropout-perturbed embedding, notes
surprise 6 — we use eval mode). The condensed graph is structure-free: ``adj = None``, i.e. the identity,
whose GCN normalisation is the identity, so the student is the expert's GCN acting as an MLP on
``X'``. Each iteration takes the next expert (a fresh random order of the experts on every pass), a
start epoch ``t`` uniformly from ``0, start_every, ..., max_start_epoch``, initialises the student at
the expert's parameters at ``t``, trains it ``syn_steps`` (q) plain SGD steps on the mean cross-entropy
of all synthetic nodes with the learnable scalar learning rate ``syn_lr``, and minimises

    ||theta_q - theta*_{t+p}||^2 / ||theta*_t - theta*_{t+p}||^2      (p = expert_epochs)

over all parameters flattened (squared L2, :func:`normalised_distance`). The whole unroll is
differentiated; ``X'`` steps with Adam (``lr_feat``), ``syn_lr`` with SGD (lr ``lr_lr`` = 1e-6,
momentum 0.5), as in the reference. The first iteration of the reference runs on the coreset's real
induced adjacency instead of I (notes surprise 3); we use I throughout.

*Two exact implementations of the unroll* (``unroll``):

* ``func`` — the reference's computation: the student is :class:`gcbench.models.GNN` (``gcn``) on an
  edgeless graph called with :func:`torch.func.functional_call` on functional parameters; every step
  takes ``torch.autograd.grad(..., create_graph=True)`` and the update stays on the tape.
* ``gram`` (default) — the same function, cheaper. Under SGD the first layer's weights only move in the
  span of the synthetic features: ``[W_1; b_1]_k = [W_1; b_1]_0 - lr * [X' 1]^T S_k`` with ``S_k`` the
  sum of the previous steps' gradients with respect to the first layer's pre-activations. So the
  pre-activations are ``Z_k = Z_0 - lr * K S_k`` with the ``n' x n'`` Gram matrix ``K = [X' 1][X' 1]^T``,
  and the first layer's part of the distance is
  ``||D||^2 - 2 lr <[X' 1] D, S_q> + lr^2 <S_q, K S_q>`` (``D`` = start minus target). The upper layers
  are ordinary functional parameters with hand-written gradients. Per step this costs ``n'^2 h``
  instead of ``n' d h`` multiply-adds (Cora r=0.5: 20x fewer) and keeps ``n' x h`` tensors per step
  instead of full parameter vectors. ``tests/test_sfgc.py`` checks that loss and gradients (with
  respect to ``X'`` and ``syn_lr``) agree with ``func``.

**3. Selection** (notes §5; never test labels). ``select: gntk`` (default, the paper's "graph neural
feature" score): kernel ridge regression with a GNTK (Du et al. 2019; 3 layers x 2 ReLU MLP layers,
degree scaling) from the synthetic nodes (identity graph) to the validation nodes on their
val-induced subgraph, centred one-hot labels, ridge ``gntk_reg * trace(K_ss) / n'``; the score is
``0.5 * mean((pred - Y_val)^2)``, lowest wins. Copied quirks: the target is the val-*induced*
subgraph, and the validation side's layer-2 normalisers come from a covariance that is not aggregated
between layers (``gntk_fix_diag: false``; ``true`` aggregates it as the original GNTK does).
Changed: solve instead of an explicit inverse, float64, and at most ``gntk_max_val`` validation nodes
(a fixed class-stratified sample drawn once, the reference resamples on every call for large graphs).
It is computed every ``select_every`` iterations (the reference: every iteration). ``select: val_acc``
trains the evaluation GNN ``select_arch`` on the current graph (``gcbench.evaluate.evaluate``) and keeps
the best validation accuracy; ``select: last`` keeps the last iteration. ``patience`` (iterations, 0 =
off) ends the run when the selection score has not improved for that many iterations
(:class:`~gcbench.condensers.base.Plateau`); ``meta`` records ``epochs_run`` and ``stopped``.

**4. Log.** One row per iteration: ``epoch`` (the iteration), ``loss`` (the normalised distance),
``start_epoch``, ``expert``, ``student_lr``, ``elapsed_s`` and, on scored iterations, with ``select: gntk``
``gntk_score`` and ``gntk_val_acc`` (the validation accuracy of the GNTK regression, not of a trained GNN,
so it is kept out of ``val_score``), with ``select: val_acc`` ``val_score`` (the trained GNN's validation
accuracy, as the gradient-matching methods log it); NaN otherwise. ``meta["best_val"]`` is the selected
iteration's accuracy of the same kind.

Options ``syn_steps``, ``expert_epochs``, ``max_start_epoch``, ``start_every``, ``lr_feat`` and
``lr_student`` may be a mapping ``{ratio: value}`` (the reference tunes them per ratio, notes §4); a run
uses the entry of the nearest ratio.

**Deviations from the reference code** (each also in ``methods/sfgc.yaml``):

* 5 experts instead of 200, only the snapshots a run can draw, fp16 storage, trained to the last epoch
  needed (Cora 2300 instead of 2500, Citeseer 530 instead of 800). fp16 against fp32 on Cora r=0.5 (same
  seed): snapshot rounding error 2e-4 (relative L2), loss within 1.5e-3, X' gradient cosine >= 0.985 over 8
  draws; after 100 iterations X' differs by 1.9 % and the GCN test accuracy by 0.0-0.1 points.
* Cora's start epochs are the reference's *effective* ones (0, 100, ..., 300 or 500: its v1 script uses
  the sampled value as a snapshot index, notes surprise 2); Citeseer's are 0, 10, 20, 30 (v2).
* The first iteration uses I like all others (the reference: the coreset's induced real adjacency).
* K-Center embeds with the evaluation GCN in eval mode (the reference: the last train-mode forward of a
  GCN trained 1-1200 epochs depending on the ratio).
* ``iterations`` 1000 instead of 2001 (time; the iteration kept by the lowest GNTK score was 150-708 on Cora
  and 1-56 on Citeseer in the published runs, see ``methods/sfgc.yaml``).
* Citeseer ``lr_student`` 0.6 at every ratio (the reference: 1.0 / 1.0 / 0.6): with our experts 1.0 makes the
  student unroll chaotic at start epochs 20-30 and destroys X' in a few iterations (``methods/sfgc.yaml``).
* A non-finite loss stops the run and keeps the best graph so far (the reference breaks out of its loop).
"""

from __future__ import annotations

import math
import time
from typing import Any

import torch
import torch.nn.functional as F
from torch import Tensor

from gcbench.archs import arch_names
from gcbench.condensers.base import Condenser, Plateau, per_ratio
from gcbench.condensers.coresets import kcenter_order
from gcbench.condensers.sfgc_experts import EXPERT_DTYPES, FORMAT_VERSION, experts_for, split_layers, unflatten
from gcbench.errors import GCBenchError
from gcbench.evaluate import evaluate, full_graph_features, full_graph_input, train_on_full_graph
from gcbench.graph import Budget, CondensedGraph, Graph
from gcbench.models import GNN, AdjInput

SELECT_MODES = ("gntk", "val_acc", "last")
UNROLLS = ("gram", "func")
PER_RATIO = ("syn_steps", "expert_epochs", "max_start_epoch", "start_every", "lr_feat", "lr_student")

# ------------------------------------------------------------------------------------------- helpers
def ratio_points(cfg: dict[str, Any]) -> list[float | None]:
    """The ratios named by any per-ratio option (``[None]`` when every option is a plain value)."""
    keys = {float(k) for name in PER_RATIO if isinstance(cfg.get(name), dict) for k in cfg[name]}
    return sorted(keys) or [None]


def normalised_distance(theta: Tensor, start: Tensor, target: Tensor) -> Tensor:
    """``||theta - target||^2 / ||start - target||^2`` of flat parameter vectors (the SFGC loss)."""
    return ((theta - target) ** 2).sum() / ((start - target) ** 2).sum()


# ------------------------------------------------------------------------------------------ unrolls
def unroll_func(x: Tensor, y: Tensor, lr: Tensor, start: Tensor, target: Tensor, q: int,
                layout: list[tuple[str, tuple[int, ...]]], model: GNN) -> Tensor:
    """The reference unroll: ``q`` SGD steps of ``model`` on ``(x, I)`` with functional parameters
    (``torch.func.functional_call``), differentiable end to end; returns the normalised distance."""
    adj = AdjInput(torch.empty(2, 0, dtype=torch.long, device=x.device), None, x.size(0))
    theta = start.detach().clone().requires_grad_(True)
    for _ in range(q):
        params = unflatten(theta, layout)
        loss = F.cross_entropy(torch.func.functional_call(model, params, (x, adj)), y)
        (g,) = torch.autograd.grad(loss, theta, create_graph=True)
        theta = theta - lr * g
    return normalised_distance(theta, start, target)


def unroll_gram(x: Tensor, y: Tensor, lr: Tensor, start: Tensor, target: Tensor, q: int,
                layout: list[tuple[str, tuple[int, ...]]], layers: int) -> Tensor:
    """The same value as :func:`unroll_func`, with the first layer in the span of ``[x 1]`` (see the
    module docstring) and hand-written gradients for the layers above; differentiable end to end."""
    n, C = x.size(0), int(layout[layers - 1][1][0])
    sw, sb = split_layers(unflatten(start, layout), layers)
    tw, tb = split_layers(unflatten(target, layout), layers)
    ones = x.new_ones(n, 1)
    xt = torch.cat([x, ones], 1)
    gram = xt @ xt.t()
    # one product for the start pre-activations and the first layer's start-target difference
    both = x @ torch.cat([sw[0], sw[0] - tw[0]], 0).t()
    h1 = sw[0].size(0)
    z = both[:, :h1] + sb[0]
    xd = both[:, h1:] + (sb[0] - tb[0])  # [x 1] D
    ws, bs = list(sw[1:]), list(sb[1:])
    onehot = F.one_hot(y, C).to(x.dtype)
    acc = torch.zeros_like(z)  # S_k
    for _ in range(q):
        hs = [torch.relu(z)]
        for i in range(len(ws)):
            out = hs[-1] @ ws[i].t() + bs[i]
            hs.append(torch.relu(out) if i < len(ws) - 1 else out)
        if not ws:  # one layer: z are the logits
            hs = [z]
        dz = (torch.softmax(hs[-1], 1) - onehot) / n
        gw, gb = [], []
        for i in range(len(ws) - 1, -1, -1):
            gw.append(dz.t() @ hs[i])
            gb.append(dz.sum(0))
            pre = z if i == 0 else hs[i]
            dz = (dz @ ws[i]) * (pre > 0)
        gw.reverse()
        gb.reverse()
        acc = acc + dz
        z = z - lr * (gram @ dz)
        ws = [w - lr * g for w, g in zip(ws, gw)]
        bs = [b - lr * g for b, g in zip(bs, gb)]
    first = (((sw[0] - tw[0]) ** 2).sum() + ((sb[0] - tb[0]) ** 2).sum()
             - 2 * lr * (xd * acc).sum() + lr ** 2 * (acc * (gram @ acc)).sum())
    rest = sum((((w - t) ** 2).sum() for w, t in zip(ws + bs, tw[1:] + tb[1:])), x.new_zeros(()))
    return (first + rest) / ((start - target) ** 2).sum()


# --------------------------------------------------------------------------------------------- GNTK
def _relu_kernel(s: Tensor, d1: Tensor, d2: Tensor) -> tuple[Tensor, Tensor]:
    """One ReLU layer of the NTK recursion (arc-cosine kernel): new covariance and its derivative."""
    s = (s / d1[:, None] / d2[None, :]).clamp(-1, 1)
    angle = torch.pi - torch.arccos(s)
    ds = angle / torch.pi
    s = (s * angle + torch.sqrt(1 - s * s)) / torch.pi
    return s * d1[:, None] * d2[None, :], ds


class GNTKScore:
    """SFGC's graph-neural-feature score (``gntk_cond.py``, ``MetaGtt.evaluate_synset_ntk``).

    Validation side: the validation nodes' features and their induced subgraph plus self-loops, with
    degree scaling, i.e. aggregation ``S -> D^-1 (A+I) S`` towards the synthetic side (whose identity graph,
    doubled by the reference's added self-loops and scaled by 1/4, aggregates as the identity) and
    ``S -> D^-1 (A+I) S (A+I) D^-1`` within the validation graph. Its per-layer normalisers are computed once."""

    def __init__(self, graph: Graph, num_classes: int, layers: int = 3, mlp_layers: int = 2, reg: float = 1.0,
                 max_val: int = 2000, fix_diag: bool = False, device: torch.device | str = "cpu") -> None:
        self.layers, self.mlp_layers, self.reg, self.fix_diag = layers, mlp_layers, reg, fix_diag
        self.C, self.device = num_classes, torch.device(device)
        val = graph.val_idx
        if val.numel() > max_val:  # fixed class-stratified sample (a fixed generator: same nodes every call)
            gen = torch.Generator().manual_seed(0)
            yv = graph.y[val]
            picks = []
            for c in range(num_classes):
                members = val[yv == c]
                k = round(max_val * members.numel() / val.numel())
                picks.append(members[torch.randperm(members.numel(), generator=gen)[:k]])
            val = torch.sort(torch.cat(picks)).values
        self.val_idx = val
        ei = graph.induced_subgraph(val)
        nv = val.numel()
        a = torch.sparse_coo_tensor(torch.cat([ei, torch.arange(nv).repeat(2, 1)], 1),
                                    torch.ones(ei.size(1) + nv, dtype=torch.float64), (nv, nv),
                                    check_invariants=False).coalesce()
        a = torch.sparse_coo_tensor(a.indices(), torch.ones_like(a.values()), (nv, nv),  # 0/1 with self-loops
                                    check_invariants=False).coalesce()
        self.adj = a.to_sparse_csr().to(self.device)
        self.deg = torch.sparse.sum(a, 1).to_dense().to(self.device)
        xv = graph.x[val]
        self.xv = (xv.to_dense() if xv.is_sparse else xv).to(self.device, torch.float32)
        yv = graph.y[val].to(self.device)
        self.yv = yv
        self.yv_onehot = F.one_hot(yv, num_classes).double() - 1.0 / num_classes
        self.diag_val = self._diag_val()

    def _agg_vv(self, s: Tensor) -> Tensor:
        return (self.adj @ (self.adj @ s).t()).t() / self.deg[:, None] / self.deg[None, :]

    def _agg_vs(self, s: Tensor) -> Tensor:
        return (self.adj @ s) / self.deg[:, None]

    def _diag_val(self) -> list[Tensor]:
        # aggregating between layers is the original GNTK; SFGC's diag() omits it (notes §5)
        return self._diags(self._agg_vv((self.xv @ self.xv.t()).double()), self._agg_vv if self.fix_diag else None)

    def _diags(self, sigma: Tensor, agg: Any = None) -> list[Tensor]:
        """The per-layer normalisers ``sqrt(diag(sigma))`` of the ReLU recursion started at ``sigma``
        (``agg`` between layers; ``None``: none, as for the synthetic identity graph)."""
        diags = []
        for layer in range(1, self.layers):
            for _ in range(self.mlp_layers):
                d = torch.sqrt(torch.diagonal(sigma))
                sigma, _ = _relu_kernel(sigma, d, d)
                diags.append(d)
            if agg is not None and layer != self.layers - 1:
                sigma = agg(sigma)
        return diags

    def _kernel(self, sigma: Tensor, d1: list[Tensor], d2: list[Tensor], agg: Any) -> Tensor:
        sigma = agg(sigma)
        ntk = sigma
        for layer in range(1, self.layers):
            for j in range(self.mlp_layers):
                k = (layer - 1) * self.mlp_layers + j
                sigma, ds = _relu_kernel(sigma, d1[k], d2[k])
                ntk = ntk * ds + sigma
            if layer != self.layers - 1:
                sigma, ntk = agg(sigma), agg(ntk)
        return ntk

    @torch.no_grad()
    def __call__(self, x_syn: Tensor, y_syn: Tensor) -> tuple[float, float]:
        """``(score, accuracy)`` of the kernel ridge regression from the synthetic to the validation nodes."""
        xs = x_syn.detach().to(self.device, torch.float32)
        ident = lambda s: s  # noqa: E731  (the synthetic identity graph aggregates as the identity)
        gram = (xs @ xs.t()).double()
        diag_syn = self._diags(gram)
        k_ss = self._kernel(gram, diag_syn, diag_syn, ident)
        k_vs = self._kernel((self.xv @ xs.t()).double(), self.diag_val, diag_syn, self._agg_vs)
        ys = F.one_hot(y_syn.to(self.device), self.C).double() - 1.0 / self.C
        n = k_ss.size(0)
        reg = k_ss + abs(self.reg) * torch.trace(k_ss) / n * torch.eye(n, dtype=k_ss.dtype, device=k_ss.device)
        pred = k_vs @ torch.linalg.solve(reg, ys)
        score = 0.5 * float(((pred - self.yv_onehot) ** 2).mean())
        acc = float((pred.argmax(1) == self.yv).double().mean())
        return score, acc


# ---------------------------------------------------------------------------------------- condenser
class SFGC(Condenser):
    """SFGC (see the module docstring)."""

    name = "sfgc"
    per_ratio_options = PER_RATIO  # the options whose value may be a mapping {ratio: value}
    description = "structure-free condensation by expert trajectory matching (Zheng et al., NeurIPS 2023)"
    defaults: dict[str, Any] = {
        "iterations": 1000,
        "syn_steps": 200,          # q
        "expert_epochs": 500,      # p
        "max_start_epoch": 30,
        "start_every": 10,
        "lr_feat": 1e-3,
        "lr_student": 0.6,
        "learn_lr": True,
        "lr_lr": 1e-6,
        "hidden": 256,
        "layers": 2,
        "n_experts": 5,
        "expert_optim": "adam",
        "expert_lr": 1e-3,
        "expert_weight_decay": 5e-4,
        "expert_momentum": 0.0,
        "expert_seed": 15,
        "expert_dtype": "float16",
        "init": "kcenter",
        "init_epochs": 600,
        "unroll": "gram",
        "select": "gntk",
        "select_every": 10,
        "patience": 0,
        "gntk_layers": 3,
        "gntk_mlp_layers": 2,
        "gntk_reg": 1.0,
        "gntk_max_val": 2000,
        "gntk_fix_diag": False,
        "select_arch": "gcn",
        "select_eval_every": 5,
    }

    def __init__(self, **config: Any) -> None:
        super().__init__(**config)
        self._check()

    # ----------------------------------------------------------------------------- configuration
    def _check(self) -> None:
        cfg, name = self.config, self.name

        def fail(msg: str) -> None:
            raise GCBenchError(f"{name}: {msg}")

        def values(key: str) -> list[Any]:
            v = cfg[key]
            if isinstance(v, dict):
                if not v:
                    fail(f"{key} must not be an empty mapping")
                for k in v:
                    try:
                        ok = 0 < float(k) <= 1
                    except (TypeError, ValueError):
                        ok = False
                    if not ok:
                        fail(f"{key}: mapping keys must be ratios in (0, 1], got {k!r}")
                return list(v.values())
            return [v]

        def is_int(v: Any, lo: int) -> bool:
            return isinstance(v, int) and not isinstance(v, bool) and v >= lo

        def is_num(v: Any) -> bool:
            return isinstance(v, (int, float)) and not isinstance(v, bool) and math.isfinite(v) and v >= 0

        for key in ("iterations", "syn_steps", "expert_epochs", "start_every", "hidden", "layers", "n_experts",
                    "gntk_layers", "gntk_mlp_layers", "gntk_max_val", "init_epochs", "select_eval_every"):
            for v in values(key) if key in PER_RATIO else [cfg[key]]:
                if not is_int(v, 1):
                    fail(f"{key} must be a positive integer, got {v!r}")
        for key in ("select_every", "max_start_epoch", "expert_seed"):
            for v in values(key) if key in PER_RATIO else [cfg[key]]:
                if not is_int(v, 0):
                    fail(f"{key} must be an integer >= 0, got {v!r}")
        for key in ("lr_feat", "lr_student", "lr_lr", "expert_lr", "expert_weight_decay", "expert_momentum",
                    "gntk_reg"):
            for v in values(key) if key in PER_RATIO else [cfg[key]]:
                if not is_num(v):
                    fail(f"{key} must be a number >= 0, got {v!r}")
        for r in ratio_points(cfg):
            ms, se = per_ratio(cfg["max_start_epoch"], r or 1.0), per_ratio(cfg["start_every"], r or 1.0)
            if ms % se:
                fail(f"max_start_epoch {ms} must be a multiple of start_every {se}")
        choices = {"select": SELECT_MODES, "unroll": UNROLLS, "expert_optim": ("sgd", "adam"),
                   "expert_dtype": tuple(EXPERT_DTYPES), "init": ("kcenter", "random")}
        for key, allowed in choices.items():
            if cfg[key] not in allowed:
                fail(f"{key} must be one of {', '.join(allowed)}, got {cfg[key]!r}")
        Plateau.check(name, cfg["patience"], 0 if cfg["select"] == "last" else cfg["select_every"])
        for key in ("learn_lr", "gntk_fix_diag"):
            if not isinstance(cfg[key], bool):
                fail(f"{key} must be true or false, got {cfg[key]!r}")
        if cfg["select_arch"] not in arch_names():
            fail(f"select_arch must be one of {', '.join(arch_names())}, got {cfg['select_arch']!r}")

    def run_config(self, ratio: float) -> dict[str, Any]:
        """The configuration with per-ratio options resolved for ``ratio``."""
        return {k: per_ratio(v, ratio) if k in PER_RATIO else v for k, v in self.config.items()}

    def expert_spec(self, graph: Graph) -> dict[str, Any]:
        """Everything that determines the expert trajectories (the cache key); never the run seed."""
        cfg = self.config
        epochs: set[int] = set()
        for r in ratio_points(cfg):
            c = self.run_config(1.0 if r is None else r)
            for s in range(0, int(c["max_start_epoch"]) + 1, int(c["start_every"])):
                epochs.update((s, s + int(c["expert_epochs"])))
        return {
            "format": FORMAT_VERSION, "dataset_sha": graph.sha, "setting": graph.setting, "arch": "gcn",
            "hidden": int(cfg["hidden"]), "layers": int(cfg["layers"]), "n_experts": int(cfg["n_experts"]),
            "optim": cfg["expert_optim"], "lr": float(cfg["expert_lr"]),
            "weight_decay": float(cfg["expert_weight_decay"]), "momentum": float(cfg["expert_momentum"]),
            "seed": int(cfg["expert_seed"]), "dtype": cfg["expert_dtype"], "epochs": sorted(epochs),
        }

    # ------------------------------------------------------------------------------- condensation
    def condense(self, graph: Graph, budget: Budget, *, seed: int, device: torch.device) -> CondensedGraph:
        device = torch.device(device)
        with torch.random.fork_rng(devices=[device] if device.type == "cuda" else []):
            torch.manual_seed(seed)
            return self._condense(graph, budget, seed=seed, device=device)

    def init_features(self, graph: Graph, budget: Budget, seed: int, device: torch.device,
                      cfg: dict[str, Any]) -> tuple[Tensor, Tensor, float]:
        """Initial ``X'`` (K-Center or random training nodes per class), their ids, and reused seconds."""
        x, ei, y, train_idx = graph.training_view()
        gen = torch.Generator().manual_seed(seed)
        reused = 0.0
        emb = None
        if cfg["init"] == "kcenter":
            model, reused = train_on_full_graph(graph, "gcn", seed, device, {"epochs": int(cfg["init_epochs"])})
            with torch.no_grad():
                if graph.setting == "transductive":
                    xin, adj = full_graph_features(graph, device), full_graph_input(graph, device)
                else:
                    xin, adj = x.to(device), AdjInput(ei.to(device), None, x.size(0))
                emb = torch.relu(model._layer(0, xin, adj)).cpu()  # the hidden layer (reference)
        y_train = y[train_idx]
        picks = []
        for c, k in enumerate(budget.per_class):
            if k == 0:
                continue
            members = train_idx[y_train == c]
            local = (kcenter_order(emb[members], k) if emb is not None
                     else torch.randperm(members.numel(), generator=gen)[:k])
            picks.append(members[local])
        idx = torch.cat(picks)
        xd = x[idx]
        xd = xd.to_dense() if xd.is_sparse else xd
        return xd.float().to(device), idx, reused

    def _condense(self, graph: Graph, budget: Budget, *, seed: int, device: torch.device) -> CondensedGraph:
        t0 = time.perf_counter()
        cfg = self.run_config(budget.ratio)
        spec = self.expert_spec(graph)
        buf = experts_for(graph, spec, device)
        trained = buf.trained
        expert_s = float(buf.manifest.get("train_s", math.nan))
        feat0, init_idx, reused = self.init_features(graph, budget, seed, device, cfg)
        y_syn = budget.labels().to(device)
        layers, q, p = int(cfg["layers"]), int(cfg["syn_steps"]), int(cfg["expert_epochs"])
        starts = list(range(0, int(cfg["max_start_epoch"]) + 1, int(cfg["start_every"])))
        feat = feat0.clone().requires_grad_(True)
        syn_lr = torch.tensor(float(cfg["lr_student"]), device=device, requires_grad=bool(cfg["learn_lr"]))
        opt_feat = torch.optim.Adam([feat], lr=float(cfg["lr_feat"]))
        opt_lr = torch.optim.SGD([syn_lr], lr=float(cfg["lr_lr"]), momentum=0.5) if cfg["learn_lr"] else None
        model = None
        if cfg["unroll"] == "func":
            model = GNN("gcn", graph.num_features, graph.num_classes, hidden=int(cfg["hidden"]), layers=layers,
                        dropout=0.0).to(device)
        gntk = None
        if cfg["select"] == "gntk":
            gntk = GNTKScore(graph, graph.num_classes, int(cfg["gntk_layers"]), int(cfg["gntk_mlp_layers"]),
                             float(cfg["gntk_reg"]), int(cfg["gntk_max_val"]), bool(cfg["gntk_fix_diag"]), device)
        setup_s = time.perf_counter() - t0  # experts (cached or trained), K-Center, GNTK precomputation
        gen = torch.Generator().manual_seed(seed)
        order: list[int] = []
        log: list[dict[str, Any]] = []
        best: dict[str, Any] = {"key": None, "iteration": 0, "x": feat0.detach().clone(), "val": math.nan,
                                "gntk": math.nan}
        iterations, every = int(cfg["iterations"]), int(cfg["select_every"])
        stopped = ""
        plateau = Plateau(int(cfg["patience"]), "iteration")
        for it in range(1, iterations + 1):
            if not order:
                order = torch.randperm(buf.n_experts, generator=gen).tolist()
            m = order.pop(0)
            start = starts[int(torch.randint(len(starts), (1,), generator=gen))]
            theta0, theta_t = buf.snapshot(m, start, device), buf.snapshot(m, start + p, device)
            if cfg["unroll"] == "gram":
                loss = unroll_gram(feat, y_syn, syn_lr, theta0, theta_t, q, buf.layout, layers)
            else:
                loss = unroll_func(feat, y_syn, syn_lr, theta0, theta_t, q, buf.layout, model)
            opt_feat.zero_grad(set_to_none=True)
            if opt_lr is not None:
                opt_lr.zero_grad(set_to_none=True)
            loss.backward()
            loss_v = float(loss.detach())
            # student_lr: the learning rate this iteration's unroll used
            row = {"epoch": it, "loss": loss_v, "start_epoch": start, "expert": m,
                   "student_lr": float(syn_lr.detach()), "elapsed_s": math.nan, "val_score": math.nan,
                   "gntk_score": math.nan, "gntk_val_acc": math.nan}
            if not math.isfinite(loss_v):  # as the reference: stop; keep the best graph so far
                stopped = f"non-finite loss at iteration {it}"
                plateau.step(it)
                row["elapsed_s"] = time.perf_counter() - t0
                log.append(row)
                break
            opt_feat.step()
            if opt_lr is not None:
                opt_lr.step()
            scored = (every and it % every == 0) or it == iterations
            if scored and cfg["select"] != "last":
                x_now = feat.detach().clone()
                if gntk is not None:
                    score, acc = gntk(x_now, y_syn)
                    row.update(gntk_score=score, gntk_val_acc=acc)
                    key = -score
                else:
                    res = evaluate(CondensedGraph(x=x_now, y=y_syn, adj=None), graph, cfg["select_arch"], seed,
                                   device, {"eval_every": int(cfg["select_eval_every"])})
                    row["val_score"] = key = res["val_score"]
                if math.isfinite(key) and (best["key"] is None or key > best["key"]):
                    val_key = "gntk_val_acc" if gntk is not None else "val_score"
                    best.update(key=key, iteration=it, x=x_now, val=row[val_key], gntk=row["gntk_score"])
            if cfg["select"] == "last":
                best.update(iteration=it, x=feat.detach().clone())
            row["elapsed_s"] = time.perf_counter() - t0
            log.append(row)
            if plateau.step(it, key if scored and cfg["select"] != "last" else None):
                break
        if best["iteration"] == 0 and stopped:
            raise RuntimeError(f"sfgc: {stopped}, before any iteration could be selected")
        meta = {
            "best_iteration": best["iteration"], "best_val": best["val"], "best_gntk_score": best["gntk"],
            "init_nodes": init_idx.tolist(), "student_lr": float(syn_lr.detach()),
            **plateau.meta(), "stopped": stopped or plateau.stopped,
            "experts_trained": trained, "expert_train_s": expert_s, "expert_cache": str(buf.path),
            "expert_bytes": buf.nbytes, "expert_val_acc": buf.manifest.get("val_acc"),
            # the experts' training counts in every row's condense_s, also when they came from the cache
            "reused_s": reused + (0.0 if trained or not math.isfinite(expert_s) else expert_s),
            "setup_s": setup_s,
        }
        return CondensedGraph(x=best["x"].cpu(), y=budget.labels(), adj=None, modalities=dict(graph.modalities),
                              log=log, meta=meta)
