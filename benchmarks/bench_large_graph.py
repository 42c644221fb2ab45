"""Large-graph check: load a big synthetic-ecommerce graph, condense it with a coreset, evaluate a GCN.

    OMP_NUM_THREADS=2 python benchmarks/bench_large_graph.py [--nodes 200000] [--degree 20] [--method random]

Prints seconds and peak resident memory after each stage (generation, coreset, GCN evaluation on the full
graph with the standard protocol), in one process. The target: 200k nodes / 2M undirected edges within 8 GiB.
``--eval-every`` sets how often the evaluator scores the full graph (default 10; 1 is the protocol default
and costs one full-graph inference per epoch).
"""

from __future__ import annotations

import argparse
import resource
import time

import torch

from gcbench.condensers.base import MethodSpec
from gcbench.data import load_dataset
from gcbench.evaluate import evaluate
from gcbench.graph import Budget


def peak_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--nodes", type=int, default=200_000)
    ap.add_argument("--degree", type=float, default=20.0, help="average degree (2 x edges / nodes)")
    ap.add_argument("--method", default="random")
    ap.add_argument("--ratio", type=float, default=0.01)
    ap.add_argument("--eval-every", type=int, default=10)
    ap.add_argument("--seed", type=int, default=0)
    args = ap.parse_args()
    print(f"torch {torch.__version__}, {torch.get_num_threads()} thread(s)")
    t0 = time.perf_counter()
    graph = load_dataset(f"synthetic-ecommerce:n_nodes={args.nodes}:avg_degree={args.degree:g}")
    t1 = time.perf_counter()
    print(f"load     {t1 - t0:7.1f} s  peak {peak_mb():7.0f} MB  {graph.num_nodes} nodes, {graph.num_edges} "
          f"undirected edges, {graph.num_features} features, {len(graph.train_idx)} training nodes")
    budget = Budget.from_graph(graph, args.ratio)
    method = MethodSpec(args.method).build(graph.name)
    cg = method.condense(graph, budget, seed=args.seed, device=torch.device("cpu"))
    t2 = time.perf_counter()
    print(f"condense {t2 - t1:7.1f} s  peak {peak_mb():7.0f} MB  {args.method}: {cg.num_nodes} nodes, "
          f"{cg.num_edges} edges")
    res = evaluate(cg, graph, "gcn", args.seed, overrides={"eval_every": args.eval_every})
    t3 = time.perf_counter()
    print(f"evaluate {t3 - t2:7.1f} s  peak {peak_mb():7.0f} MB  GCN test {100 * res['test_score']:.1f} "
          f"(val {100 * res['val_score']:.1f}, best epoch {res['best_epoch']})")
    print(f"total    {t3 - t0:7.1f} s  peak {peak_mb() / 1024:.2f} GiB")


if __name__ == "__main__":
    main()
