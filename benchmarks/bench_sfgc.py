"""Cost of SFGC: expert training, expert buffer size, condensation time, peak memory.

For each case, in its own process (so peak memory is the case's own) and with a fresh, empty expert cache
(a temporary ``GCBENCH_CACHE``, unless ``--cache DIR`` is given):

* ``experts_s``   seconds to train the experts (all of them, batched) and write the cache
* ``reload_s``    seconds to load and verify (sha256) the cache again, what every later run pays
* ``buffer_mb``   size of ``trajectories.pt`` on disk (MB = 1e6 bytes), with ``snapshots`` per expert x
                  ``params`` per snapshot x ``n_experts`` in ``dtype``; ``fp32_ref_gb`` is what the
                  reference's storage (200 experts, every 10th epoch of the full run, fp32) would take
* ``setup_s``     seconds from the start of ``condense`` to the first iteration with the experts cached
                  (K-Center: the full-graph GCN and the selection; GNTK precomputation)
* ``iter_s``      seconds per iteration (mean over ``--iterations`` timed iterations, selection included at
                  the method's ``select_every``)
* ``total_s``     expert training (from the cache's manifest when ``--cache`` already held the experts) +
                  setup + ``iter_s`` x the method's default ``iterations`` (marked ``~``); measured end to end
                  with ``--full``
* ``peak_mb``     peak resident memory of the case's process (peak CUDA memory on a GPU)

Cases: ``cora`` (the method's Cora defaults at ratio 0.5; Planetoid files via ``--data-root`` or
``GCBENCH_DATA``), ``syn20k`` and ``syn100k`` (``synthetic-ecommerce`` with 20k / 100k nodes, ratio 0.05 /
0.01, the method's class defaults). Usage::

    OMP_NUM_THREADS=1 python benchmarks/bench_sfgc.py                      # cora, syn20k; ~20 iterations each
    OMP_NUM_THREADS=1 python benchmarks/bench_sfgc.py --cases cora --full  # one whole default condensation
"""

from __future__ import annotations

import argparse
import os
import tempfile
import time
from pathlib import Path

import torch
from _harness import default_data_root, parse_or_run_case, peak_mb, print_table, run_cases, sync

CASES = {
    "cora": {"dataset": "cora", "ratio": 0.5},
    "syn20k": {"dataset": "synthetic-ecommerce:n_nodes=20000", "ratio": 0.05},
    "syn100k": {"dataset": "synthetic-ecommerce:n_nodes=100000", "ratio": 0.01},
}
REFERENCE_EXPERTS, REFERENCE_EVERY = 200, 10


def run_case(name: str, args: argparse.Namespace) -> dict:
    from gcbench.condensers import sfgc_experts as E
    from gcbench.condensers.base import MethodSpec
    from gcbench.data import load_dataset
    from gcbench.graph import Budget

    case = CASES[name]
    device = torch.device(args.device)
    graph = load_dataset(case["dataset"], args.data_root)
    budget = Budget.from_graph(graph, case["ratio"])
    method = MethodSpec("sfgc" + "".join(f":{o}" for o in args.options)).build(graph.name)
    cfg = method.run_config(budget.ratio)
    spec = method.expert_spec(graph)

    t0 = time.perf_counter()
    buf = E.experts_for(graph, spec, device)
    experts_s = time.perf_counter() - t0
    trained = buf.trained
    t1 = time.perf_counter()
    E.experts_for(graph, spec, device)  # load + checksum
    reload_s = time.perf_counter() - t1

    n_params = buf.params.size(2)
    last = max(spec["epochs"])
    ref_snapshots = last // REFERENCE_EVERY + 1
    fp32_ref_gb = REFERENCE_EXPERTS * ref_snapshots * n_params * 4 / 1e9

    iters = int(cfg["iterations"]) if args.full else args.iterations
    t2 = time.perf_counter()
    timed = type(method)(**{**method.config, "iterations": iters})
    cg = timed.condense(graph, budget, seed=0, device=device)
    run_s = time.perf_counter() - t2
    sync(device)
    log = cg.log
    setup_s = cg.meta["setup_s"]
    iter_s = (log[-1]["elapsed_s"] - log[0]["elapsed_s"]) / max(1, len(log) - 1)
    # expert training counts even when the cache was given (its manifest records how long it took)
    expert_cost = experts_s if trained else float(buf.manifest.get("train_s", 0.0)) + experts_s
    if args.full:
        total_s, note = expert_cost + run_s, ""
    else:
        total_s, note = expert_cost + setup_s + iter_s * int(cfg["iterations"]), "~"
    return {
        "case": name, "dataset": graph.name, "nodes": graph.num_nodes, "features": graph.num_features,
        "n_syn": budget.total, "n_experts": buf.n_experts, "snapshots": len(buf.epochs), "params": n_params,
        "dtype": str(buf.params.dtype).replace("torch.", ""), "epochs_trained": last, "trained": trained,
        "experts_s": experts_s, "expert_train_s": float(buf.manifest.get("train_s", float("nan"))),
        "reload_s": reload_s, "buffer_mb": Path(buf.path).stat().st_size / 1e6 if buf.path else float("nan"),
        "fp32_ref_gb": fp32_ref_gb, "setup_s": setup_s, "iter_s": iter_s, "iterations": int(cfg["iterations"]),
        "timed_iterations": len(log), "syn_steps": int(cfg["syn_steps"]), "unroll": cfg["unroll"],
        "select": f"{cfg['select']}/{cfg['select_every']}", "total_s": total_s, "total_note": note,
        "peak_mb": peak_mb(device), "expert_val_acc": buf.manifest.get("val_acc"), "best_val": cg.meta["best_val"],
        "device": str(device), "threads": torch.get_num_threads(),
    }


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--cases", default="cora,syn20k")
    ap.add_argument("--device", default="cpu")
    ap.add_argument("--data-root", default=default_data_root())
    ap.add_argument("--iterations", type=int, default=20, help="iterations timed for iter_s")
    ap.add_argument("--full", action="store_true", help="run the default number of iterations (total_s measured)")
    ap.add_argument("--cache", help="expert cache to use (default: a fresh temporary folder per case)")
    ap.add_argument("--option", dest="options", action="append", default=[],
                    help="a method option key=value (repeatable), e.g. --option n_experts=3")
    args = parse_or_run_case(ap, run_case)
    if args is None:
        return
    with tempfile.TemporaryDirectory(prefix="gcbench-sfgc-bench-") as tmp:
        def child_env(name: str) -> dict[str, str]:
            folder = args.cache or str(Path(tmp) / name)  # a fresh, empty cache per case unless --cache
            return {**os.environ, "GCBENCH_CACHE": folder}

        rows = run_cases(__file__, args.cases.split(","), CASES, lambda name: [
            "--device", args.device, "--data-root", args.data_root, "--iterations", str(args.iterations)]
            + (["--full"] if args.full else []) + [a for o in args.options for a in ("--option", o)], child_env)
    r0 = rows[0]
    print(f"device {r0['device']}, torch {torch.__version__}, {r0['threads']} thread(s)")
    head = ("case", "nodes", "n_syn", "experts", "snapshots x params", "dtype", "buffer_mb", "fp32_ref_gb",
            "experts_s", "reload_s", "setup_s", "q", "iter_s", "iterations", "total_s", "peak_mb")
    print_table(head, (
        f"| {r['case']} | {r['nodes']} | {r['n_syn']} | {r['n_experts']} | {r['snapshots']} x {r['params']:,} | "
        f"{r['dtype']} | {r['buffer_mb']:.1f} | {r['fp32_ref_gb']:.1f} | {r['experts_s']:.0f}"
        f"{'' if r['trained'] else ' (cached)'} | {r['reload_s']:.2f} | {r['setup_s']:.1f} | {r['syn_steps']} | "
        f"{r['iter_s']:.3f} | {r['iterations']} | {r['total_note']}{r['total_s']:.0f} | {r['peak_mb']:.0f} |"
        for r in rows))
    for r in rows:
        accs = r["expert_val_acc"] or []
        print(f"{r['case']}: experts trained to epoch {r['epochs_trained']} ({r['expert_train_s']:.0f} s of training), "
              f"validation accuracy {min(accs):.3f}-{max(accs):.3f}; unroll {r['unroll']}, selection {r['select']}, "
              f"{r['timed_iterations']} iterations timed; reference-size buffer (200 experts, every 10th epoch, "
              f"fp32) {r['fp32_ref_gb']:.1f} GB" if accs else f"{r['case']}: -")


if __name__ == "__main__":
    main()
