"""Evaluate condensed graphs published by a method's authors with gcbench's evaluation, every architecture.

    python benchmarks/authors_graphs.py --saved GCOND/saved_ours --data-root ../shared/data \
        [--datasets cora,citeseer] [--ratio 0.5] [--seeds 0-4] [--archs mlp,gcn,sgc,sage,gat,cheb,appnp] \
        [--out runs/gcond-authors]

GCond's repository (ChandlerBang/GCond) ships the condensed graphs of its paper in ``saved_ours/``:
``feat_<dataset>_<ratio>_<seed>.pt`` (synthetic features, in the row-normalised feature space of the
Planetoid graphs) and ``adj_<dataset>_<ratio>_<seed>.pt`` (the dense learned adjacency); the synthetic labels
are not saved: its evaluator rebuilds them (``tester_other_arcs.py``, ``generate_labels_syn``), and so does
this script, by the same rule (classes sorted by training count, ties in order of first appearance among the
training labels; ``max(int(count * ratio), 1)`` nodes per class, the last class gets the rest). Its
cross-architecture evaluation (``test_other_arcs.py``, the paper's Table 3) zeroes adjacency entries below
0.05 on Cora and Citeseer (``epsilon``) before any architecture sees the graph; so does this script. The
graphs are then evaluated exactly as gcbench evaluates its own condensed graphs (:func:`gcbench.evaluate.evaluate`,
the default ``reference`` protocol, so GAT keeps entries >= 0.5 as GCond's GAT tester does).

What this measures: gcbench's evaluation of the authors' own graphs, to be read beside gcbench's GCond
graphs under the same evaluation (a gap between the two is the condensation's, not the evaluation's) and
beside the published table (a gap there is the evaluation's). The files are not in this repository and are
not downloaded: fetch the repository (commit 052305b1cf22 was used) and point ``--saved`` at the folder.

Rows go to ``OUT/results.csv`` in gcbench's results format (method ``gcond-authors``), resumable; the
``config_hash`` covers the files' checksums (all seeds of a dataset and ratio), the threshold, this script
and the evaluation's settings and code, so rows of other files never mix. Publish with ``gcbench leaderboard
OUT --publish leaderboards/planetoid-gcond-authors``.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import sys
import time
from collections import Counter
from datetime import datetime, timezone
from pathlib import Path

import torch

from gcbench.condensers.base import module_closure
from gcbench.data import load_dataset
from gcbench.errors import GCBenchError
from gcbench.evaluate import eval_config, eval_fingerprint, evaluate
from gcbench.graph import Budget, CondensedGraph, Graph
from gcbench.results import ResultsStore, row_key
from gcbench.runner import versions
from gcbench.spec import parse_seeds, split_list

METHOD = "gcond-authors"
#: GCond's test_other_arcs.py: adjacency entries below epsilon are zeroed on Cora and Citeseer
EPSILON = {"cora": 0.05, "citeseer": 0.05}


def gcond_labels(graph: Graph, ratio: float) -> torch.Tensor:
    """The synthetic labels GCond's evaluator generates for a saved graph (module docstring)."""
    train_y = graph.data.y[graph.data.train_mask].tolist()
    counter = Counter(train_y)  # insertion order: first appearance among the training labels
    ordered = sorted(counter.items(), key=lambda kv: kv[1])  # stable: ties keep that order
    n = len(train_y)
    labels: list[int] = []
    for i, (c, num) in enumerate(ordered):
        k = int(n * ratio) - len(labels) if i == len(ordered) - 1 else max(int(num * ratio), 1)
        labels += [c] * k
    return torch.tensor(labels, dtype=torch.long)


def saved_paths(saved: Path, dataset: str, ratio: float, seed: int) -> tuple[Path, Path]:
    feat = saved / f"feat_{dataset}_{float(ratio)}_{seed}.pt"
    adj = saved / f"adj_{dataset}_{float(ratio)}_{seed}.pt"
    for p in (feat, adj):
        if not p.is_file():
            raise GCBenchError(f"saved graph file not found: {p}")
    return feat, adj


def _sha(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def load_saved(saved: Path, graph: Graph, ratio: float, seed: int, epsilon: float | None = None) -> CondensedGraph:
    """One saved graph with its rebuilt labels; adjacency entries below ``epsilon`` (default: GCond's
    cross-architecture value for the dataset, :data:`EPSILON`) zeroed."""
    feat_p, adj_p = saved_paths(saved, graph.name, ratio, seed)
    try:
        feat = torch.load(feat_p, map_location="cpu", weights_only=True).float()
        adj = torch.load(adj_p, map_location="cpu", weights_only=True).float()
    except Exception as exc:  # noqa: BLE001 - a corrupt file is one line naming it
        raise GCBenchError(f"cannot read {feat_p} / {adj_p}: {exc}") from None
    y = gcond_labels(graph, ratio)
    if feat.shape != (y.numel(), graph.num_features) or adj.shape != (y.numel(), y.numel()):
        raise GCBenchError(f"{feat_p.name}: features {tuple(feat.shape)}, adjacency {tuple(adj.shape)}; expected "
                           f"{y.numel()} nodes x {graph.num_features} features for {graph.name} at ratio {ratio:g}")
    eps = EPSILON.get(graph.name, 0.0) if epsilon is None else epsilon
    adj = adj * (adj >= eps)
    return CondensedGraph(x=feat, y=y, adj=adj, meta={"files": [feat_p.name, adj_p.name]})


def cell_hash(saved: Path, dataset: str, ratio: float, seeds: list[int], epsilon: float) -> str:
    files = {p.name: _sha(p) for s in seeds for p in saved_paths(saved, dataset, ratio, s)}
    parts = {"files": files, "epsilon": epsilon, "eval": eval_fingerprint(None),
             "eval_code": module_closure("gcbench.evaluate"), "script": _sha(Path(__file__))}
    return hashlib.sha256(json.dumps(parts, sort_keys=True, default=str).encode()).hexdigest()[:12]


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--saved", required=True, help="the folder of the saved graphs (GCond: saved_ours)")
    ap.add_argument("--data-root", default=None)
    ap.add_argument("--datasets", default="cora,citeseer")
    ap.add_argument("--ratio", type=float, default=0.5)
    ap.add_argument("--seeds", default="0-4")
    ap.add_argument("--archs", default="mlp,gcn,sgc,sage,gat,cheb,appnp")
    ap.add_argument("--out", default="runs/gcond-authors")
    ap.add_argument("--epsilon", type=float, default=None,
                    help="zero adjacency entries below this (default: GCond's cross-architecture tester, 0.05 on "
                         "Cora and Citeseer; its main table used the matrix as saved: 0)")
    ap.add_argument("--method", default=METHOD, help="the rows' method label (default: %(default)s)")
    args = ap.parse_args()
    try:
        saved = Path(args.saved)
        if not saved.is_dir():
            raise GCBenchError(f"--saved {saved}: not a folder")
        seeds, archs = parse_seeds(args.seeds), split_list(args.archs)
        for a in archs:
            eval_config(a, None)  # an unknown architecture fails here, before anything runs
        store = ResultsStore(Path(args.out) / "results.csv")
        for ds in split_list(args.datasets):
            graph = load_dataset(ds, data_root=args.data_root)
            Budget.from_graph(graph, args.ratio)  # an impossible ratio fails here
            eps = EPSILON.get(graph.name, 0.0) if args.epsilon is None else args.epsilon
            chash = cell_hash(saved, graph.name, args.ratio, seeds, eps)
            for seed in seeds:
                cg = load_saved(saved, graph, args.ratio, seed, eps)
                for arch in archs:
                    key = row_key({"method": args.method, "dataset": graph.name, "ratio": args.ratio, "arch": arch,
                                   "seed": seed, "config_hash": chash})
                    if key in store.done_keys():
                        continue
                    t0 = time.perf_counter()
                    res = evaluate(cg, graph, arch, seed, "cpu")
                    store.append({
                        "method": args.method, "dataset": graph.name, "ratio": args.ratio,
                        "n_syn_nodes": cg.num_nodes, "n_syn_edges": cg.num_edges, "n_nodes": graph.num_nodes,
                        "arch": arch, "seed": seed, "val_score": res["val_score"], "test_score": res["test_score"],
                        "metric": graph.metric, "protocol": eval_config(arch, None)["protocol"],
                        "condense_s": float("nan"), "eval_s": res["eval_s"], "eval_epoch": res["best_epoch"],
                        "config_hash": chash, "dataset_sha": graph.sha[:16], "device": "cpu",
                        "versions": versions(), "status": "ok", "error": "",
                        "timestamp": datetime.now(timezone.utc).isoformat(timespec="seconds")})
                    print(f"{graph.name} seed {seed} {arch}: test {100 * res['test_score']:.1f} "
                          f"({time.perf_counter() - t0:.0f} s)", file=sys.stderr)
    except GCBenchError as exc:
        print(f"authors_graphs: error: {exc}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
