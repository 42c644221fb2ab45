"""Throughput of what a study multiplies: matching epochs against their floor, evaluation per architecture
against GCN, the results store, and (``--study``) the estimated cost of the SR-GM study.

Each case runs in its own process (``_harness``), one thread unless ``OMP_NUM_THREADS`` says otherwise.
Machines are noisy: compare the ratios of one run, not seconds across runs.

* ``match-<graph>-<method>``: a gradient-matching method in the configuration a study runs it (its
  defaults; ``cora`` at r=0.5, ``toys`` = ``amazon-toys:image_dim=128`` at r=0.01, 20,695 nodes, the
  study's Amazon graph). ``floor_s`` is one full-graph forward+backward of the method's matching model
  (what one matching step must at least do for the real gradients); ``step_s`` one matching step;
  ``epoch_s`` one epoch, weighted over its two kinds (``adj_steps`` of every ``adj_every`` epochs step the
  PGE, the others X'); ``x_floor`` = ``epoch_s / (outer x floor_s)``, the epoch against the ``outer`` full
  forward+backward passes it cannot avoid. ``gcond-gcn`` is GCond with SR-GM's matching model (2-layer GCN,
  hidden 256, class weights n'_c/n'): SR-GM's own overhead is srgm / gcond-gcn; srgm / gcond is what the
  study pays, the matching model included.
* ``eval-<graph>``: full-graph inference (``model.eval()``, no gradient) of every architecture under both
  protocols, interleaved repetitions, the minimum of each; ``x_gcn`` its ratio to GCN's under the same
  protocol; ``step_ms`` one training step on the full graph (the ``whole`` row's epoch).
* ``store-1k``/``store-100k``: milliseconds per appended row with 1,000 / 100,000 rows in the file, and the
  seconds to read it (``bench_store.py`` has the old store beside it).
* ``bound``: a lower bound on the whole SR-GM study's CPU time that no implementation on this machine can
  beat at the references' settings: for every gradient-matching condensation of
  ``leaderboards/suites/srgm-study.yaml`` (every grid, ratio and seed), its fewest possible epochs (the whole
  budget without a plateau stop; with one, the first check epoch at which ``patience`` can have run out:
  ``every + patience`` rounded up to a check) x ``outer`` matching steps x the floor of its matching model on
  its graph (one full-graph forward+backward, measured here once per (graph, matching model)); a
  (method, dataset, ratio, seed) named by two grids counts once. Only GCN matching models count: a GCN's
  first-layer matmul over (nearly) every node is work no exact real gradient avoids when 60 % of the nodes
  are labelled, while an SGC's propagation is precomputed once (GCond runs below that floor, x < 1 on
  Cora), so GCond is left out. It leaves out everything else too (synthetic gradients, inner training, PGE,
  selection, evaluation, SFGC and the methods without matching), so the study costs more than this on this
  machine, whatever is optimised. Measure it on an idle machine: a shared core inflates the floors.
* ``--study``: ``gcbench run --suite srgm-study --estimate`` (probes every (method, dataset) of the study:
  about an hour on one core) and its total.

Usage::

    OMP_NUM_THREADS=1 python benchmarks/bench_throughput.py
    OMP_NUM_THREADS=1 python benchmarks/bench_throughput.py --cases eval-cora,match-toys-srgm --reps 3
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import time
from functools import partial
from pathlib import Path

import torch
import torch.nn.functional as F
from _harness import default_data_root, parse_or_run_case, peak_mb, print_table, run_cases

GRAPHS = {"cora": ("cora", 0.5), "toys": ("amazon-toys:image_dim=128", 0.01)}
MATCH = {"gcond": "gcond", "gcond-gcn": "gcond:match_arch=gcn:class_weight=total", "doscond": "doscond",
         "srgm": "srgm", "srgm-plus": "srgm-plus"}
CASES = ([f"match-{g}-{m}" for g in GRAPHS for m in MATCH if not (g == "cora" and m.startswith("srgm"))]
         + [f"eval-{g}" for g in GRAPHS] + ["store-1k", "store-100k", "bound"])
STUDY = Path(__file__).resolve().parent.parent / "leaderboards" / "suites" / "srgm-study.yaml"
GOAL_H = 12.0  # issue 26: the whole study within 12 CPU-hours on this box
ARCHS = ("mlp", "gcn", "sgc", "sage", "gat", "cheb", "appnp")


def _root(dataset: str, data_root: str) -> str:
    # the Planetoid files are in <shared>/planetoid, the MAGB ones in <shared>/magb
    return data_root if dataset.startswith("amazon") else str(Path(data_root) / "planetoid")


def _best(fn, reps: int) -> float:
    times = []
    for _ in range(reps):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return min(times)


def match_case(graph_key: str, method_key: str, args: argparse.Namespace) -> dict:
    from gcbench.condensers.base import MethodSpec
    from gcbench.condensers.gradient_matching import normalized_adjacency
    from gcbench.data import load_dataset
    from gcbench.graph import Budget

    dataset, ratio = GRAPHS[graph_key]
    graph = load_dataset(dataset, _root(dataset, args.data_root))
    budget = Budget.from_graph(graph, ratio)
    method = MethodSpec(MATCH[method_key]).build(graph.name)
    cfg = method.config
    device = torch.device("cpu")
    st = method.setup(graph, budget, seed=0, device=device)
    x, ei, y, train = graph.training_view()
    adj = normalized_adjacency(ei, x.size(0))
    theta = st.fresh_theta()

    floor_s = _best(partial(_full_fb, theta, x, adj, y, train, (st.arch, st.K)), args.reps)
    step_s = _best(lambda: st.match_step(theta, False), args.reps)
    # epoch 1 steps the PGE, epoch adj_steps + 1 steps X' (when the method learns a structure)
    pge_s = _best(lambda: st.epoch(1), max(1, args.reps // 2))
    learn = bool(cfg.get("learn_adj")) and int(cfg.get("adj_steps", 0)) > 0
    if learn:
        feat_s = _best(lambda: st.epoch(int(cfg["adj_steps"]) + 1), max(1, args.reps // 2))
        share = int(cfg["adj_steps"]) / int(cfg["adj_every"])
        epoch_s = share * pge_s + (1 - share) * feat_s
    else:
        feat_s, epoch_s = pge_s, pge_s
    outer = int(cfg.get("outer", 1))  # DosCond: one matching step per epoch
    return {"case": f"match-{graph_key}-{method_key}", "method": MATCH[method_key], "dataset": graph.name,
            "nodes": graph.num_nodes, "n_syn": budget.total, "match": f"{st.arch}-{st.K}", "outer": outer,
            "floor_s": floor_s, "step_s": step_s, "pge_epoch_s": pge_s, "feat_epoch_s": feat_s, "epoch_s": epoch_s,
            "x_floor": epoch_s / (outer * floor_s), "epochs": int(cfg["epochs"]), "peak_mb": peak_mb(device)}


def eval_case(graph_key: str, args: argparse.Namespace) -> dict:
    from gcbench.data import load_dataset
    from gcbench.evaluate import eval_config, full_graph_features, full_graph_input
    from gcbench.models import build_model

    dataset, _ = GRAPHS[graph_key]
    graph = load_dataset(dataset, _root(dataset, args.data_root))
    device = torch.device("cpu")
    x, adj = full_graph_features(graph, device), full_graph_input(graph, device)
    models = {}
    for protocol in ("reference", "pyg"):
        for arch in ARCHS:
            torch.manual_seed(0)
            m = build_model(arch, graph.num_features, graph.num_classes, **eval_config(arch, {"protocol": protocol}))
            models[protocol, arch] = m.eval()
    infer = {k: float("inf") for k in models}
    with torch.no_grad():
        for m in models.values():
            m(x, adj)  # memoised normalisations and patterns are built once, as in a run
        for _ in range(args.reps):  # interleaved, so load changes hit every model alike
            for k, m in models.items():
                t0 = time.perf_counter()
                m(x, adj)
                infer[k] = min(infer[k], time.perf_counter() - t0)
    step = {}
    idx = graph.train_idx
    for k, m in models.items():
        m.train()
        opt = torch.optim.Adam(m.parameters(), lr=0.01)

        def one(m: torch.nn.Module = m, opt: torch.optim.Optimizer = opt) -> None:
            opt.zero_grad()
            F.cross_entropy(m(x, adj)[idx], graph.y[idx]).backward()
            opt.step()

        step[k] = _best(one, max(1, args.reps // 2))
    return {"case": f"eval-{graph_key}", "dataset": graph.name, "nodes": graph.num_nodes,
            "edges": graph.num_edges,
            "rows": [{"protocol": p, "arch": a, "infer_ms": infer[p, a] * 1000,
                      "x_gcn": infer[p, a] / infer[p, "gcn"], "step_ms": step[p, a] * 1000} for p, a in models]}


def store_case(size: str, args: argparse.Namespace) -> dict:
    import bench_store

    ns = argparse.Namespace(appends=args.reps * 50, grid=200, dir=None)
    r = bench_store.run_case(f"new-{size}", ns)
    return {"case": f"store-{size}", "rows": r["rows"], "append_ms": r["append_ms"], "read_s": r["read_s"]}


def fewest_epochs(cfg: dict) -> int:
    """The fewest epochs a run of ``cfg`` can make: its budget, or with a plateau stop the first check at
    which ``patience`` epochs can have passed since the first check (:class:`gcbench.condensers.base.Plateau`)."""
    epochs, patience, every = int(cfg["epochs"]), int(cfg.get("patience") or 0), int(cfg.get("val_every") or 0)
    if not patience or not every:
        return epochs
    return min(epochs, -(-(every + patience) // every) * every)


def _full_fb(theta: list, x: torch.Tensor, adj: torch.Tensor, y: torch.Tensor, train: torch.Tensor,
             model: tuple) -> None:
    """One full-graph forward+backward of the matching model ``model = (arch, layers, ...)`` with weights
    ``theta``: the floor a matching step is measured against."""
    from gcbench.condensers.gradient_matching import sparse_forward

    logits = sparse_forward(theta, x, adj, model[0], model[1])
    torch.autograd.grad(F.cross_entropy(logits[train], y[train]), theta)


def bound_case(args: argparse.Namespace) -> dict:
    from gcbench.condensers.base import MethodSpec
    from gcbench.condensers.gradient_matching import init_params, normalized_adjacency
    from gcbench.data import load_dataset
    from gcbench.suite import load_suite

    suite = load_suite(STUDY)
    views: dict[str, tuple] = {}  # dataset -> (graph, x, adj, y, train), loaded once for every grid naming it
    floors: dict[tuple, float] = {}
    rows = []
    seen: set[tuple] = set()
    for grid in suite.grids:
        for dataset in grid.datasets:
            if dataset not in views:
                graph = load_dataset(dataset, _root(dataset, args.data_root))
                x, ei, y, train = graph.training_view()
                views[dataset] = (graph, x, normalized_adjacency(ei, x.size(0)), y, train)
            graph, x, adj, y, train = views[dataset]
            for label in grid.methods:
                cfg = MethodSpec(label).build(graph.name).config
                if cfg.get("match_arch") != "gcn" or "epochs" not in cfg:
                    continue  # no matching, or an SGC one whose floor its precomputation avoids (GCond)
                cells = {(label, dataset, r, sd) for r in grid.ratios for sd in grid.seeds} - seen
                seen |= cells
                if not cells:
                    continue  # already counted under an earlier grid
                model = (cfg["match_arch"], int(cfg["match_layers"]), int(cfg.get("match_hidden", 256)))
                if (dataset, model) not in floors:
                    theta = [p.requires_grad_(True) for p in init_params(
                        model[0], x.size(1), graph.num_classes, model[2], model[1], torch.Generator().manual_seed(0))]
                    floors[dataset, model] = _best(partial(_full_fb, theta, x, adj, y, train, model), args.reps)
                n = len(cells)
                epochs, outer = fewest_epochs(cfg), int(cfg.get("outer", 1))
                rows.append({"grid": grid.name, "method": label, "dataset": dataset, "condensations": n,
                             "match": f"GCN {model[1]} x {model[2]}", "floor_s": floors[dataset, model],
                             "epochs": epochs, "outer": outer,
                             "bound_h": n * epochs * outer * floors[dataset, model] / 3600})
    return {"case": "bound", "rows": rows, "total_h": sum(r["bound_h"] for r in rows)}


def run_case(name: str, args: argparse.Namespace) -> dict:
    kind, _, rest = name.partition("-")
    if kind == "match":
        g, _, m = rest.partition("-")
        return match_case(g, m, args)
    if kind == "eval":
        return eval_case(rest, args)
    if kind == "bound":
        return bound_case(args)
    return store_case(rest, args)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--cases", default=",".join(CASES))
    ap.add_argument("--data-root", default=str(Path(default_data_root()).parent),
                    help="the shared data folder (holding planetoid/ and magb/)")
    ap.add_argument("--reps", type=int, default=5, help="repetitions per timing (the minimum is kept)")
    ap.add_argument("--study", action="store_true", help="also estimate the SR-GM study (about an hour)")
    args = parse_or_run_case(ap, run_case)
    if args is None:
        return
    rows = run_cases(__file__, args.cases.split(","), CASES, lambda name: [
        "--data-root", args.data_root, "--reps", str(args.reps)])
    print(f"torch {torch.__version__}, {torch.get_num_threads()} thread(s), minimum of {args.reps} repetitions")
    match = [r for r in rows if r["case"].startswith("match-")]
    if match:
        print("\nMatching epochs against their floor (one full-graph forward+backward of the matching model):\n")
        print_table(("case", "nodes", "n'", "match", "floor_s", "step_s", "PGE epoch_s", "X' epoch_s", "epoch_s",
                     "x (outer x floor)", "epochs", "peak_mb"), (
            f"| {r['case']} | {r['nodes']} | {r['n_syn']} | {r['match']} | {r['floor_s']:.3f} | {r['step_s']:.3f} | "
            f"{r['pge_epoch_s']:.2f} | {r['feat_epoch_s']:.2f} | {r['epoch_s']:.2f} | {r['x_floor']:.2f} | "
            f"{r['epochs']} | {r['peak_mb']:.0f} |" for r in match))
        by = {r["case"]: r for r in match}
        for g in GRAPHS:
            base, gcn = by.get(f"match-{g}-gcond"), by.get(f"match-{g}-gcond-gcn")
            for m in ("srgm", "srgm-plus", "doscond"):
                r = by.get(f"match-{g}-{m}")
                if r and base:
                    extra = f", {r['epoch_s'] / gcn['epoch_s']:.2f}x gcond-gcn" if gcn else ""
                    print(f"{g}: {m} epoch = {r['epoch_s'] / base['epoch_s']:.2f}x gcond's{extra}")
    for r in rows:
        if r["case"].startswith("eval-"):
            print(f"\nEvaluation on {r['dataset']} ({r['nodes']} nodes, {r['edges']} edges): full-graph inference "
                  "and one full-graph training step:\n")
            print_table(("protocol", "arch", "infer_ms", "x GCN", "step_ms"), (
                f"| {e['protocol']} | {e['arch']} | {e['infer_ms']:.1f} | {e['x_gcn']:.2f} | {e['step_ms']:.1f} |"
                for e in r["rows"]))
    bound = next((r for r in rows if r["case"] == "bound"), None)
    if bound:
        print("\nLower bound of the SR-GM study (suites/srgm-study.yaml): gradient-matching condensations x their "
              "fewest epochs x outer steps x the floor of their matching model, nothing else counted:\n")
        print_table(("grid", "method", "dataset", "condensations", "match", "floor_s", "fewest epochs", "outer",
                     "bound CPU-h"), (
            f"| {r['grid']} | {r['method']} | {r['dataset']} | {r['condensations']} | {r['match']} | "
            f"{r['floor_s']:.3f} | {r['epochs']} | {r['outer']} | {r['bound_h']:.2f} |" for r in bound["rows"]))
        by_grid: dict[str, float] = {}
        for r in bound["rows"]:
            by_grid[r["grid"]] = by_grid.get(r["grid"], 0.0) + r["bound_h"]
        print("\nper grid: " + ", ".join(f"{g} {h:.1f} CPU-h" for g, h in by_grid.items())
              + f"; the whole study at least {bound['total_h']:.1f} CPU-hours against the {GOAL_H:g}-hour goal")
    store = [r for r in rows if r["case"].startswith("store-")]
    if store:
        print("\nResults store (append-only):\n")
        print_table(("rows in the file", "append_ms", "read_s"), (
            f"| {r['rows']} | {r['append_ms']:.2f} | {r['read_s']:.2f} |" for r in store))
    if args.study:
        print("\nEstimated cost of leaderboards/suites/srgm-study.yaml (gcbench run --estimate):\n", flush=True)
        out = subprocess.run([sys.executable, "-m", "gcbench.cli", "run", "--suite", "srgm-study", "--estimate",
                              "--data-root", args.data_root, "--device", "cpu", "--out", "/nonexistent-estimate"],
                             capture_output=True, text=True)
        print(out.stdout if out.returncode == 0 else out.stderr.strip().splitlines()[-1])


if __name__ == "__main__":
    main()
