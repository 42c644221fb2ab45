"""Speed and memory of gradient matching (GCond / DosCond), printed as a table.

For each case, in its own process (so peak memory is the case's own):

* ``step_s``   seconds of one matching step (real per-class gradients, batched, + synthetic
               gradients + distance + backward + optimiser step)
* ``loop_s``   the same step with the straightforward real side (per class: a full-graph forward and
               backward), and ``speedup`` = loop_s / step_s
* ``fb_s``     one forward + backward of the same GNN (the matching model) on the full graph
* ``floor``    step_s / fb_s: how many full-graph passes one matching step costs
* ``epoch_s``  seconds of one epoch (outer matching steps + inner training), mean of ``--epochs``
* ``total_s``  the whole condensation with the method's default epochs and validation selection
               (measured with ``--full``; otherwise ``epoch_s x epochs``, marked ``~``)
* ``peak_mb``  peak resident memory of the case's process (peak CUDA memory on a GPU)

Cases: ``cora`` (GCond defaults, ratio 0.5; needs the Planetoid files, see --data-root),
``syn20k`` / ``syn100k`` (synthetic-ecommerce with 20k / 100k nodes, ~100 synthetic nodes, a 2-layer
GCN hidden 256 as matching model), and ``eq20k-gcond`` / ``eq20k-srgm`` / ``eq20k-srgm-plus`` (20k nodes with
128 + 128 modality columns: SR-GM's cost per epoch against GCond with the same matching model). Usage::

    OMP_NUM_THREADS=2 python benchmarks/bench_gradient_matching.py --full
    python benchmarks/bench_gradient_matching.py --cases syn100k --device cuda
"""

from __future__ import annotations

import argparse
import time

import torch
import torch.nn.functional as F
from _harness import default_data_root, parse_or_run_case, peak_mb, print_table, run_cases, sync

CASES = {
    "cora": {"dataset": "cora", "ratio": 0.5, "method": "gcond", "options": {}},
    "syn20k": {"dataset": "synthetic-ecommerce:n_nodes=20000", "ratio": 0.05, "method": "gcond",
               "options": {"match_arch": "gcn", "match_layers": 2}},
    "syn100k": {"dataset": "synthetic-ecommerce:n_nodes=100000", "ratio": 0.01, "method": "gcond",
                "options": {"match_arch": "gcn", "match_layers": 2}},
    # SR-GM against GCond with the same matching model, loops and graph (equal-width modality blocks)
    "eq20k-gcond": {"dataset": "synthetic-ecommerce:n_nodes=20000:image_dim=128", "ratio": 0.05, "method": "gcond",
                    "options": {"match_arch": "gcn", "match_layers": 2, "inner": 10, "class_weight": "total"}},
    "eq20k-srgm": {"dataset": "synthetic-ecommerce:n_nodes=20000:image_dim=128", "ratio": 0.05, "method": "srgm",
                   "options": {}},
    "eq20k-srgm-plus": {"dataset": "synthetic-ecommerce:n_nodes=20000:image_dim=128", "ratio": 0.05,
                        "method": "srgm-plus", "options": {}},
}


def _timeit(fn, device: torch.device, reps: int) -> float:
    fn()  # warm-up
    sync(device)
    t0 = time.perf_counter()
    for _ in range(reps):
        fn()
    sync(device)
    return (time.perf_counter() - t0) / reps


def run_case(name: str, args: argparse.Namespace) -> dict:
    from gcbench.condensers.base import MethodSpec
    from gcbench.condensers.gradient_matching import normalized_adjacency, per_class_loop, sparse_forward
    from gcbench.data import load_dataset
    from gcbench.graph import Budget

    case = CASES[name]
    device = torch.device(args.device)
    graph = load_dataset(case["dataset"], args.data_root)
    budget = Budget.from_graph(graph, case["ratio"])
    spec = MethodSpec(case["method"] + "".join(f":{k}={v}" for k, v in case["options"].items()))
    method = spec.build(graph.name)
    cfg = method.config
    t0 = time.perf_counter()
    st = method.setup(graph, budget, seed=0, device=device)
    sync(device)
    setup_s = time.perf_counter() - t0

    x, ei, y, train = graph.training_view()
    xd = x.to(device)
    adj = normalized_adjacency(ei, x.size(0)).to(device)
    y, train = y.to(device), train.to(device)
    theta = st.fresh_theta()

    def full_fb() -> None:
        logits = sparse_forward(theta, xd, adj, st.arch, st.K)
        grads = torch.autograd.grad(F.cross_entropy(logits[train], y[train]), theta)
        del grads

    fb_s = _timeit(full_fb, device, args.reps)
    step_s = _timeit(lambda: st.match_step(theta, False), device, args.reps)
    batched = st.real.per_class(theta)
    st.real_fn = lambda th: per_class_loop(th, xd, adj, y, train, st.C, st.arch, st.K)
    loop_s = _timeit(lambda: st.match_step(theta, False), device, max(1, args.reps // 2))
    looped = st.real_fn(theta)
    max_diff = max(float((a - b).abs().max() / b.abs().max().clamp_min(1e-12)) for a, b in zip(batched, looped))
    st.real_fn = st.real.per_class

    t1 = time.perf_counter()
    for e in range(1, args.epochs + 1):
        st.epoch(e)
    sync(device)
    epoch_s = (time.perf_counter() - t1) / args.epochs
    if args.full:
        t2 = time.perf_counter()
        cg = method.condense(graph, budget, seed=0, device=device)
        total_s, total_note = time.perf_counter() - t2, ""
        best = cg.meta["best_val"]
    else:
        total_s, total_note, best = epoch_s * int(cfg["epochs"]), "~", float("nan")
    return {
        "case": name, "method": spec.label, "nodes": graph.num_nodes, "edges": graph.num_edges, "n_syn": budget.total,
        "match": f"{st.arch}-{st.K}", "pairs": st.real.num_pairs, "setup_s": setup_s, "fb_s": fb_s,
        "step_s": step_s, "loop_s": loop_s, "speedup": loop_s / step_s, "floor": step_s / fb_s,
        "epoch_s": epoch_s, "epochs": int(cfg["epochs"]), "total_s": total_s, "total_note": total_note,
        "best_val": best, "peak_mb": peak_mb(device), "grad_rel_diff": max_diff, "device": str(device),
        "threads": torch.get_num_threads(),
    }


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--cases", default=",".join(CASES))
    ap.add_argument("--device", default="cpu")
    ap.add_argument("--data-root", default=default_data_root())
    ap.add_argument("--reps", type=int, default=4, help="timed repetitions per measurement")
    ap.add_argument("--epochs", type=int, default=2, help="epochs timed for epoch_s")
    ap.add_argument("--full", action="store_true", help="also run whole condensations (total_s measured)")
    args = parse_or_run_case(ap, run_case)
    if args is None:
        return
    rows = run_cases(__file__, args.cases.split(","), CASES, lambda name: [
        "--device", args.device, "--data-root", args.data_root, "--reps", str(args.reps),
        "--epochs", str(args.epochs)] + (["--full"] if args.full else []))
    r0 = rows[0]
    print(f"device {r0['device']}, torch {torch.__version__}, {r0['threads']} thread(s)")
    head = ("case", "method", "nodes", "edges", "n_syn", "match", "fb_s", "step_s", "floor", "loop_s", "speedup",
            "epoch_s", "total_s", "peak_mb")
    print_table(head, (
        f"| {r['case']} | {r['method']} | {r['nodes']} | {r['edges']} | {r['n_syn']} | {r['match']} | "
        f"{r['fb_s']:.3f} | "
        f"{r['step_s']:.3f} | {r['floor']:.2f} | {r['loop_s']:.3f} | {r['speedup']:.1f}x | {r['epoch_s']:.2f} | "
        f"{r['total_note']}{r['total_s']:.0f} | {r['peak_mb']:.0f} |"
        for r in rows))
    for r in rows:
        print(f"{r['case']}: batched vs loop per-class gradients, max relative difference {r['grad_rel_diff']:.1e}; "
              f"setup {r['setup_s']:.2f} s; {r['pairs']} (node, class) pairs"
              + (f"; best validation {r['best_val']:.3f}" if r['best_val'] == r['best_val'] else ""))


if __name__ == "__main__":
    main()
