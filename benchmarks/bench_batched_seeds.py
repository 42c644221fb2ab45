"""Would several seeds per process pay? k GCN evaluations (GCond's evaluation GCN: 2 layers, hidden 256)
run one after another against the same k models stacked into one computation (weights ``[k, ...]``: one
sparse product ``X [W_1 | ... | W_k]``, one propagation of ``k x hidden`` columns, one batched second layer).

An evaluation epoch is one training step on the condensed graph plus one full-graph inference for
validation (``eval_every`` 1); the script times both parts separately and together, for k = 1, 2, 5, 10,
one thread, the minimum of ``--reps`` repetitions. ``speedup`` = k separate epochs / one stacked epoch.
The same stacking applies to a gradient-matching epoch, whose cost is the real graph's forward and
backward (``benchmarks/bench_gradient_matching.py``): its full-graph part scales with k the same way.

Usage::

    OMP_NUM_THREADS=1 python benchmarks/bench_batched_seeds.py [--graph cora|toys] [--reps 20]
"""

from __future__ import annotations

import argparse
import time
from functools import partial
from pathlib import Path

import torch
import torch.nn.functional as F
from _harness import default_data_root, print_table

from gcbench.data import load_dataset
from gcbench.evaluate import full_graph_features, full_graph_input
from gcbench.models import AdjInput, sparse_features


class StackedGCN(torch.nn.Module):
    """k independent 2-layer GCNs computed together."""

    def __init__(self, k: int, d_in: int, hidden: int, d_out: int) -> None:
        super().__init__()
        self.k, self.hidden = k, hidden
        self.w1 = torch.nn.Parameter(torch.randn(d_in, k * hidden) / d_in ** 0.5)
        self.b1 = torch.nn.Parameter(torch.zeros(k * hidden))
        self.w2 = torch.nn.Parameter(torch.randn(k, hidden, d_out) / hidden ** 0.5)
        self.b2 = torch.nn.Parameter(torch.zeros(k, 1, d_out))

    def forward(self, x: torch.Tensor, adj: AdjInput) -> torch.Tensor:  # -> [k, N, d_out]
        h = F.relu(adj.prop(x @ self.w1, "gcn") + self.b1)
        n = h.size(0)
        z = torch.bmm(h.view(n, self.k, self.hidden).transpose(0, 1), self.w2)  # [k, N, d_out]
        out = adj.prop(z.transpose(0, 1).reshape(n, -1), "gcn").view(n, self.k, -1).transpose(0, 1)
        return out + self.b2


def timed(fn, reps: int) -> float:
    best = float("inf")
    for _ in range(reps):
        t0 = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - t0)
    return best


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--graph", default="cora", choices=("cora", "toys"))
    ap.add_argument("--data-root", default=str(Path(default_data_root()).parent))
    ap.add_argument("--reps", type=int, default=20)
    ap.add_argument("--n-syn", type=int, default=70, help="condensed nodes (Cora r=0.5: 70)")
    args = ap.parse_args()
    torch.manual_seed(0)
    if args.graph == "cora":
        graph = load_dataset("cora", str(Path(args.data_root) / "planetoid"))
    else:
        graph = load_dataset("amazon-toys:image_dim=128", args.data_root)
    dev = torch.device("cpu")
    fx, fadj = full_graph_features(graph, dev), full_graph_input(graph, dev)
    n, d, c = args.n_syn, graph.num_features, graph.num_classes
    sx = sparse_features(torch.rand(n, d))
    ei = torch.randint(0, n, (2, 4 * n))
    sadj = AdjInput(ei[:, ei[0] != ei[1]], None, n)
    sy = torch.randint(0, c, (n,))
    rows = []
    for k in (1, 2, 5, 10):
        singles = [StackedGCN(1, d, 256, c) for _ in range(k)]
        stacked = StackedGCN(k, d, 256, c)
        opts = [torch.optim.Adam(m.parameters(), lr=0.01) for m in singles]
        opt_s = torch.optim.Adam(stacked.parameters(), lr=0.01)

        def train(models, opt_list, kk):
            for m, o in zip(models, opt_list):
                o.zero_grad()
                out = m(sx, sadj)
                F.cross_entropy(out.reshape(-1, c), sy.repeat(kk if m.k > 1 else 1)).backward()
                o.step()

        def infer(models):
            with torch.no_grad():
                for m in models:
                    m(fx, fadj)

        t_train_sep = timed(partial(train, singles, opts, 1), args.reps)
        t_train_stk = timed(partial(train, [stacked], [opt_s], k), args.reps)
        t_inf_sep = timed(partial(infer, singles), args.reps)
        t_inf_stk = timed(partial(infer, [stacked]), args.reps)
        sep, stk = t_train_sep + t_inf_sep, t_train_stk + t_inf_stk
        rows.append((k, t_train_sep, t_train_stk, t_inf_sep, t_inf_stk, sep / stk))
    print(f"{graph.name}: {graph.num_nodes} nodes; condensed graph {n} nodes; torch {torch.__version__}, "
          f"{torch.get_num_threads()} thread(s); milliseconds, minimum of {args.reps}")
    print_table(("k", "train k separate", "train stacked", "infer k separate", "infer stacked", "epoch speedup"), (
        f"| {k} | {a * 1e3:.2f} | {b * 1e3:.2f} | {c_ * 1e3:.2f} | {e * 1e3:.2f} | {s:.2f}x |"
        for k, a, b, c_, e, s in rows))


if __name__ == "__main__":
    main()
