"""Condensation cost against graph size, with the growth exponent; and local against Ray wall-clock.

**Scale.** ``synthetic-ecommerce`` with 10k, 50k and 200k nodes (``--sizes``), average degree 10 (so edges
grow in proportion: 50k, 250k, 1M undirected), ``image_dim=128`` (equal modality blocks, which SR-GM needs;
the same graph for every method) and a fixed budget of ``--budget`` synthetic nodes (default 100). Each
(method, size) runs in its own process, so ``peak_mb`` is its own. Per case:

* ``gen_s``     generating the graph
* gradient matching (gcond, doscond, srgm): ``setup_s`` (the real side: receptive fields and
  precomputed propagation; initial X'), ``epoch_s`` (mean of ``--epochs`` timed epochs), ``select_s`` (one
  validation check: the selection GNN trained on the condensed graph, scored on the full graph's validation
  nodes), and ``total_s`` = setup + epochs x epoch_s + checks x select_s with the method's default epochs
  and ``val_every``;
* sfgc: ``setup_s`` = expert training (trainings of 1 and 1 + ``--expert-steps`` steps timed: the fixed part
  plus the per-step difference times the epochs the default configuration trains) + the K-Center
  initialisation (its full-graph GCN trained 20 and 80 epochs, likewise extrapolated to 600) + the GNTK
  precomputation; ``epoch_s`` = one trajectory-matching
  iteration (mean of ``--epochs``; the student trains on X' only, so this does not grow with the graph);
  ``select_s`` = one GNTK score; ``total_s`` as above with the default iterations and ``select_every``.
* ``peak_mb``   peak resident memory of the process (peak CUDA memory on a GPU).

``exponent`` is the least-squares slope of log(total_s) against log(edges) over the sizes (also printed
for epoch_s): 1 is linear growth in edges. Figures marked ``~`` are extrapolated from timed parts.

**Ray** (``--ray``): the same small grid (``synthetic-ecommerce`` 5k nodes, random, herding and a
30-epoch GCond, 4 seeds, GCN + MLP evaluation: 12 condensations) run by ``gcbench run`` twice in fresh
folders: ``--executor local`` with ``--ray-cpus`` torch threads, and ``--executor ray`` with that many
1-CPU tasks. Wall-clock seconds of each command, Ray's start-up included. Usage::

    python benchmarks/bench_scale.py                         # all methods x 10k, 50k, 200k on the CPU
    python benchmarks/bench_scale.py --methods gcond --sizes 10000,50000 --device cuda
    python benchmarks/bench_scale.py --ray --no-scale
"""

from __future__ import annotations

import argparse
import math
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import torch
from _harness import parse_or_run_case, peak_mb, print_table, run_cases, sync

METHODS = ("gcond", "doscond", "srgm", "sfgc")
RAY_GRID = ["--methods", "random,herding,gcond:epochs=30", "--datasets", "synthetic-ecommerce:n_nodes=5000",
            "--ratios", "0.1", "--archs", "gcn,mlp", "--seeds", "0-3", "--no-progress", "--quiet"]


def dataset(n: int) -> str:
    return f"synthetic-ecommerce:n_nodes={n}:image_dim=128"


def _timed(fn, device: torch.device) -> tuple[Any, float]:
    """``fn()``'s result and its seconds (device work included)."""
    sync(device)
    t0 = time.perf_counter()
    out = fn()
    sync(device)
    return out, time.perf_counter() - t0


def n_checks(epochs: int, every: int) -> int:
    """Validation checks of a run of ``epochs`` scoring every ``every`` epochs and at the last one."""
    return (epochs // every if every else 0) + (0 if every and epochs % every == 0 else 1)


def matching_case(method, graph, budget, device, args) -> dict:
    from gcbench.evaluate import evaluate

    cfg = method.config
    st, setup_s = _timed(lambda: method.setup(graph, budget, seed=0, device=device), device)
    _, epochs_s = _timed(lambda: [st.epoch(e) for e in range(1, args.epochs + 1)], device)
    epoch_s = epochs_s / args.epochs
    cg = st.graph()
    _, select_s = _timed(lambda: evaluate(cg, graph, cfg["select_arch"], 0, device,
                                       {"eval_every": int(cfg["select_eval_every"])}), device)
    epochs, every = int(cfg["epochs"]), int(cfg["val_every"])
    checks = n_checks(epochs, every)
    return {"setup_s": setup_s, "epoch_s": epoch_s, "select_s": select_s, "epochs": epochs, "checks": checks,
            "total_s": setup_s + epochs * epoch_s + checks * select_s}


def sfgc_case(method, graph, budget, device, args) -> dict:
    from gcbench.condensers import sfgc as S
    from gcbench.condensers import sfgc_experts as E
    from gcbench.evaluate import train_on_full_graph

    cfg = method.run_config(budget.ratio)
    spec = method.expert_spec(graph)
    last = max(spec["epochs"])
    # experts: two short trainings; their difference is the cost of the extra steps (the fixed part, the
    # receptive field and the final validation pass, is counted once)
    k1, k2 = 1, 1 + args.expert_steps
    _, t1 = _timed(lambda: E.train_experts(graph, {**spec, "epochs": [0, k1]}, device), device)
    _, t2 = _timed(lambda: E.train_experts(graph, {**spec, "epochs": [0, k2]}, device), device)
    per_step = max(t2 - t1, 0.0) / (k2 - k1)
    expert_s = t1 + per_step * (last - k1)
    # K-Center's full-graph GCN: 20 then 80 epochs (the memoised full-graph inputs are paid by the first)
    _, i1 = _timed(lambda: train_on_full_graph(graph, "gcn", 0, device, {"epochs": 20}), device)
    _, i2 = _timed(lambda: train_on_full_graph(graph, "gcn", 0, device, {"epochs": 80}), device)
    init_s = i1 + max(i2 - i1, 0.0) / 60 * (int(cfg["init_epochs"]) - 20)
    gntk, gntk_s = _timed(lambda: S.GNTKScore(
        graph, graph.num_classes, int(cfg["gntk_layers"]), int(cfg["gntk_mlp_layers"]), float(cfg["gntk_reg"]),
        int(cfg["gntk_max_val"]), bool(cfg["gntk_fix_diag"]), device), device)
    with tempfile.TemporaryDirectory() as tmp:
        os.environ["GCBENCH_CACHE"] = tmp  # a throw-away cache: the timed run trains (few) experts itself
        short = type(method)(**{**method.config, "iterations": args.epochs, "select": "last", "init": "random",
                                "max_start_epoch": 0, "expert_epochs": 1, "start_every": 1})
        cg = short.condense(graph, budget, seed=0, device=device)
    log = cg.log
    epoch_s = (log[-1]["elapsed_s"] - cg.meta["setup_s"]) / len(log)
    x = cg.x.to(device)
    _, select_s = _timed(lambda: gntk(x, cg.y), device)
    its, every = int(cfg["iterations"]), int(cfg["select_every"])
    checks = n_checks(its, every)
    setup_s = expert_s + init_s + gntk_s
    return {"setup_s": setup_s, "epoch_s": epoch_s, "select_s": select_s, "epochs": its, "checks": checks,
            "total_s": setup_s + its * epoch_s + checks * select_s, "expert_s": expert_s, "init_s": init_s,
            "gntk_s": gntk_s}


def run_case(name: str, args: argparse.Namespace) -> dict:
    from gcbench.condensers.base import MethodSpec
    from gcbench.data import load_dataset
    from gcbench.graph import Budget

    method_name, n = name.split("@")
    device = torch.device(args.device)
    t0 = time.perf_counter()
    graph = load_dataset(dataset(int(n)))
    gen_s = time.perf_counter() - t0
    budget = Budget.from_graph(graph, min(1.0, args.budget / int(graph.train_idx.numel())))
    method = MethodSpec(method_name).build(graph.name)
    fn = sfgc_case if method_name == "sfgc" else matching_case
    out = fn(method, graph, budget, device, args)
    return {"case": name, "method": method_name, "nodes": graph.num_nodes, "edges": graph.num_edges,
            "n_syn": budget.total, "gen_s": gen_s, **out, "peak_mb": peak_mb(device), "device": str(device),
            "threads": torch.get_num_threads()}


def slope(xs: list[float], ys: list[float]) -> float:
    lx, ly = [math.log(v) for v in xs], [math.log(v) for v in ys]
    mx, my = sum(lx) / len(lx), sum(ly) / len(ly)
    den = sum((a - mx) ** 2 for a in lx)
    return sum((a - mx) * (b - my) for a, b in zip(lx, ly)) / den if den else float("nan")


def ray_comparison(cpus: int) -> None:
    gcbench = [sys.executable, "-m", "gcbench", "run"]
    res = {}
    with tempfile.TemporaryDirectory() as tmp:
        for name, extra, env in (
                ("local", ["--executor", "local"], {"OMP_NUM_THREADS": str(cpus)}),
                ("ray", ["--executor", "ray", "--ray-cpus", str(cpus), "--cpus-per-task", "1"], {})):
            t0 = time.perf_counter()
            proc = subprocess.run(gcbench + RAY_GRID + extra + ["--out", str(Path(tmp) / name)],
                                  capture_output=True, text=True, env={**os.environ, **env})
            res[name] = time.perf_counter() - t0
            if proc.returncode:
                err = proc.stderr.strip().splitlines()
                print(f"{name}: failed ({err[-1] if err else proc.returncode})")
                return
    print(f"\nlocal vs Ray, the same grid ({' '.join(RAY_GRID[:10])}): 12 condensations, 24 rows, {cpus} CPUs")
    print_table(("executor", "wall_s"), (f"| {k} | {v:.1f} |" for k, v in res.items()))
    print(f"ray / local = {res['ray'] / res['local']:.2f}")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--methods", default=",".join(METHODS))
    ap.add_argument("--sizes", default="10000,50000,200000")
    ap.add_argument("--budget", type=int, default=100, help="synthetic nodes (fixed across sizes)")
    ap.add_argument("--device", default="cpu")
    ap.add_argument("--epochs", type=int, default=2, help="epochs (SFGC: iterations) timed per case")
    ap.add_argument("--expert-steps", type=int, default=5, help="SFGC expert optimiser steps timed")
    ap.add_argument("--ray", action="store_true", help="also compare the local and the Ray executor")
    ap.add_argument("--ray-cpus", type=int, default=2)
    ap.add_argument("--no-scale", action="store_true", help="skip the scale table")
    args = parse_or_run_case(ap, run_case)
    if args is None:
        return
    if not args.no_scale:
        names = [f"{m}@{n}" for m in args.methods.split(",") for n in args.sizes.split(",")]
        known = [f"{m}@{n}" for m in METHODS for n in args.sizes.split(",")]
        rows = run_cases(__file__, names, known, lambda name: [
            "--device", args.device, "--budget", str(args.budget), "--epochs", str(args.epochs),
            "--expert-steps", str(args.expert_steps)])
        r0 = rows[0]
        print(f"device {r0['device']}, torch {torch.__version__}, {r0['threads']} thread(s); budget {args.budget} "
              "synthetic nodes")
        head = ("method", "nodes", "edges", "n_syn", "gen_s", "setup_s", "epoch_s", "select_s", "epochs",
                "total_s", "peak_mb")
        print_table(head, (
            f"| {r['method']} | {r['nodes']} | {r['edges']} | {r['n_syn']} | {r['gen_s']:.1f} | "
            f"{'~' if r['method'] == 'sfgc' else ''}{r['setup_s']:.1f} | {r['epoch_s']:.3f} | {r['select_s']:.2f} | "
            f"{r['epochs']} | ~{r['total_s']:.0f} | {r['peak_mb']:.0f} |" for r in rows))
        for r in rows:
            if r["method"] == "sfgc":
                print(f"sfgc@{r['nodes']}: setup = experts ~{r['expert_s']:.0f} s + K-Center GCN ~{r['init_s']:.0f} s "
                      f"+ GNTK {r['gntk_s']:.1f} s")
        for m in dict.fromkeys(r["method"] for r in rows):
            mine = [r for r in rows if r["method"] == m]
            if len(mine) > 1:
                e = [r["edges"] for r in mine]
                print(f"{m}: growth exponent in edges: total_s {slope(e, [r['total_s'] for r in mine]):.2f}, "
                      f"epoch_s {slope(e, [r['epoch_s'] for r in mine]):.2f}, "
                      f"setup_s {slope(e, [r['setup_s'] for r in mine]):.2f}")
    if args.ray:
        ray_comparison(args.ray_cpus)


if __name__ == "__main__":
    main()
