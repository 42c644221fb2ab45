"""SFGC from a given set of initial nodes: is a gap to the paper in the K-Center start or in the matching?

    python benchmarks/sfgc_init.py \
        --idx SFGC/logs/Coreset/citeseer-reduce_0.5-coreinit/idx_citeseer_0.5_kcenter_15.npy --dataset citeseer \
        --ratio 0.5 --data-root ../shared/data [--seeds 0-2] [--archs gcn] \
        [--config KEY=VALUE ...] [--out runs/sfgc-citeseer-init]

SFGC's matching starts from the features of K-Center training nodes (``gcbench.condensers.sfgc``, section 2).
The reference repository (Amanda-Zheng/SFGC) ships the node ids its paper started from,
``logs/Coreset/<dataset>-reduce_<r>-coreinit/idx_<dataset>_<r>_kcenter_15.npy``, which its own scripts do not
reproduce (``docs/reference-notes/sfgc.md`` section 3). This script runs gcbench's SFGC unchanged except for the
start: ``X'`` begins at the features of the nodes in ``--idx`` (``--config`` sets SFGC options as in a method spec,
default: the method's defaults). For every seed it writes rows, evaluated as gcbench evaluates every condensed
graph (the default protocol), for three methods:

* ``start-given``: the nodes of ``--idx`` themselves, structure-free (identity adjacency), no matching;
* ``start-kcenter``: gcbench's own K-Center start for that seed (iteration 0 of ``sfgc``), structure-free;
* ``sfgc-given-start``: SFGC condensed from the nodes of ``--idx`` (GNTK selection, as ``sfgc``).

Read beside ``sfgc``'s own rows (for example ``leaderboards/planetoid-cross-arch``) with
``benchmarks/compare_cells.py``: if ``sfgc-given-start`` reaches the paper while ``sfgc`` does not, the gap is in the
start; if both stay apart from it, it is in the matching.

Rows go to ``OUT/results.csv`` (resumable). Their ``config_hash`` covers the node file's checksum, the SFGC
configuration, the code of ``gcbench.condensers.sfgc`` and of the evaluation, the evaluation's settings and this
script, so rows of other files, options or code never mix. ``condense_s`` is the SFGC run's wall time (the experts'
training included when that run trained them); ``condense_epoch`` the iteration GNTK selected.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import sys
import time
import types
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch import Tensor

from gcbench.condensers.base import MethodSpec, module_closure
from gcbench.condensers.sfgc import SFGC
from gcbench.data import load_dataset
from gcbench.errors import GCBenchError
from gcbench.evaluate import eval_config, eval_fingerprint, evaluate
from gcbench.graph import Budget, CondensedGraph, Graph
from gcbench.results import ResultsStore, row_key
from gcbench.runner import versions
from gcbench.spec import parse_seeds, split_list

CPU = torch.device("cpu")


def given_nodes(path: Path, graph: Graph, budget: Budget) -> Tensor:
    """The node ids of ``path`` (a ``.npy`` of global ids) in the order of ``budget.labels()``: class by class,
    each class's ids in the file's order. Every id must be a labelled training node, and each class must have
    exactly the budget's count."""
    try:
        ids = torch.from_numpy(np.load(path, allow_pickle=False)).long().flatten()
    except Exception as exc:  # noqa: BLE001 - a missing or corrupt file is one line naming it
        raise GCBenchError(f"cannot read node ids from {path}: {exc}") from None
    _, _, y, train_idx = graph.training_view()
    n = graph.num_nodes
    if ids.numel() == 0 or int(ids.min()) < 0 or int(ids.max()) >= n:
        raise GCBenchError(f"{path.name}: node ids must lie in 0..{n - 1} ({graph.name} has {n} nodes)")
    if ids.unique().numel() != ids.numel():
        raise GCBenchError(f"{path.name}: repeated node ids")
    if not torch.isin(ids, train_idx).all():
        raise GCBenchError(f"{path.name}: {int((~torch.isin(ids, train_idx)).sum())} node(s) are not labelled "
                           f"training nodes of {graph.name}")
    labels = graph.data.y[ids]
    picks = []
    for c, k in enumerate(budget.per_class):
        mine = ids[labels == c]
        if mine.numel() != k:
            raise GCBenchError(f"{path.name}: class {c} has {mine.numel()} node(s); the budget at ratio "
                               f"{budget.ratio:g} asks for {k}")
        picks.append(mine)
    return torch.cat(picks)


def given_start(method: SFGC, nodes: Tensor) -> SFGC:
    """``method`` with ``X'`` starting at the features of ``nodes`` instead of its K-Center pick (the instance's
    ``init_features`` replaced; a subclass would register itself as a method)."""
    def init_features(self: SFGC, graph: Graph, budget: Budget, seed: int, device: torch.device,
                      cfg: dict[str, Any]) -> tuple[Tensor, Tensor, float]:
        return start_graph(graph, nodes, budget).x.to(device), nodes.clone(), 0.0

    method.init_features = types.MethodType(init_features, method)  # type: ignore[method-assign]
    return method


def start_graph(graph: Graph, nodes: Tensor, budget: Budget) -> CondensedGraph:
    x = graph.training_view()[0][nodes]
    x = x.to_dense() if x.is_sparse else x
    return CondensedGraph(x=x.float(), y=budget.labels(), adj=None)


def cell_hash(path: Path, config: dict[str, Any]) -> str:
    parts = {"nodes": hashlib.sha256(path.read_bytes()).hexdigest(), "config": config,
             "sfgc_code": module_closure("gcbench.condensers.sfgc"), "eval": eval_fingerprint(None),
             "eval_code": module_closure("gcbench.evaluate"),
             "script": hashlib.sha256(Path(__file__).read_bytes()).hexdigest()}
    return hashlib.sha256(json.dumps(parts, sort_keys=True, default=str).encode()).hexdigest()[:12]


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--idx", required=True, type=Path, help="a .npy of the start's global node ids")
    ap.add_argument("--dataset", required=True)
    ap.add_argument("--ratio", type=float, required=True)
    ap.add_argument("--data-root", default=None)
    ap.add_argument("--seeds", default="0-2")
    ap.add_argument("--archs", default="gcn")
    ap.add_argument("--config", action="append", default=[], metavar="KEY=VALUE")
    ap.add_argument("--out", default="runs/sfgc-init")
    args = ap.parse_args(argv)
    try:
        seeds, archs = parse_seeds(args.seeds), split_list(args.archs)
        for a in archs:
            eval_config(a, None)  # an unknown architecture fails here, before anything runs
        spec = MethodSpec("sfgc" + "".join(f":{i}" for i in args.config))  # bad options fail here, before any data
        graph = load_dataset(args.dataset, data_root=args.data_root)
        budget = Budget.from_graph(graph, args.ratio)  # an impossible ratio fails here
        nodes = given_nodes(args.idx, graph, budget)
        method = given_start(spec.build(graph.name), nodes)  # the runner's configuration for the dataset
        chash = cell_hash(args.idx, method.config)
        store = ResultsStore(Path(args.out) / "results.csv")

        def record(name: str, cg: CondensedGraph, seed: int, cond: dict[str, Any]) -> None:
            for arch in archs:
                key = row_key({"method": name, "dataset": graph.name, "ratio": args.ratio, "arch": arch,
                               "seed": seed, "config_hash": chash})
                if key in store.done_keys():
                    continue
                res = evaluate(cg, graph, arch, seed, CPU)
                store.append({
                    "method": name, "dataset": graph.name, "ratio": args.ratio, "n_syn_nodes": cg.num_nodes,
                    "n_syn_edges": cg.num_edges, "n_nodes": graph.num_nodes, "arch": arch, "seed": seed,
                    "val_score": res["val_score"], "test_score": res["test_score"], "metric": graph.metric,
                    "protocol": eval_config(arch, None)["protocol"], "condense_s": cond.get("s", float("nan")),
                    "eval_s": res["eval_s"], "condense_epoch": cond.get("epoch", float("nan")),
                    "condense_epochs": cond.get("epochs", float("nan")), "eval_epoch": res["best_epoch"],
                    "config_hash": chash, "dataset_sha": graph.sha[:16], "device": "cpu", "versions": versions(),
                    "status": "ok", "error": "", "timestamp": datetime.now(timezone.utc).isoformat(timespec="seconds")})
                print(f"{name} seed {seed} {arch}: test {100 * res['test_score']:.1f}", file=sys.stderr, flush=True)

        def pending(name: str, seed: int) -> bool:
            return any(row_key({"method": name, "dataset": graph.name, "ratio": args.ratio, "arch": a, "seed": seed,
                                "config_hash": chash}) not in store.done_keys() for a in archs)

        for seed in seeds:
            if pending("start-given", seed):
                record("start-given", start_graph(graph, nodes, budget), seed, {})
            if pending("start-kcenter", seed):
                x0, _, _ = SFGC.init_features(method, graph, budget, seed, CPU, method.run_config(args.ratio))
                record("start-kcenter", CondensedGraph(x=x0, y=budget.labels(), adj=None), seed, {})
            if pending("sfgc-given-start", seed):
                t0 = time.perf_counter()
                cg = method.condense(graph, budget, seed=seed, device=CPU)
                record("sfgc-given-start", cg, seed, {"s": time.perf_counter() - t0,
                                                      "epoch": cg.meta["best_iteration"],
                                                      "epochs": cg.meta.get("epochs_run", float("nan"))})
    except GCBenchError as exc:
        print(f"sfgc_init: error: {exc}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
