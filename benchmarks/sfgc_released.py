"""The condensed features the SFGC repository released, evaluated by gcbench, and how far they moved from their start.

    python benchmarks/sfgc_released.py --repo SFGC --dataset citeseer --ratios 0.25,0.5,1 \
        --data-root ../shared/data [--seeds 0-4] [--archs gcn] [--out runs/sfgc-citeseer-init]

The reference repository (Amanda-Zheng/SFGC, commit b034621 used) ships, per dataset and ratio, the K-Center
start nodes ``logs/Coreset/<d>-reduce_<r>-coreinit/idx_<d>_<r>_kcenter_15.npy`` and the features its GNTK rule
kept, ``logs/Distill/<d>-reduce_<r>-distillation/feat_<d>_<r>_best_ntk_score_15.pt`` with their labels
(``label_...``). ``--repo`` is a checkout of it (``git archive`` of a fetched copy will do); nothing is
downloaded. For each ratio this script

* writes rows (method ``sfgc-released``) evaluating the released features structure-free (identity adjacency),
  as gcbench evaluates its own SFGC graphs (the default protocol), one row per seed and architecture;
* prints how far the released features are from the features of their start nodes, per coordinate:
  quantiles of ``|X'_released - X[idx]|``, and that distance in units of SFGC's feature learning rate for the
  dataset and ratio (``lr_feat``, from gcbench's configuration, which copies the reference's). An Adam step
  moves a coordinate by at most about ``lr_feat``, so the largest displacement divided by ``lr_feat`` is a
  lower bound on the number of matching iterations behind the released features.

Rows are resumable; their ``config_hash`` covers the released files' checksums, the evaluation's settings and
code, and this script.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import sys
from datetime import datetime, timezone
from pathlib import Path

import numpy as np
import torch

sys.path.insert(0, str(Path(__file__).resolve().parent))
from sfgc_init import given_nodes  # noqa: E402

from gcbench.condensers.base import MethodSpec, module_closure, per_ratio  # noqa: E402
from gcbench.data import load_dataset  # noqa: E402
from gcbench.errors import GCBenchError  # noqa: E402
from gcbench.evaluate import eval_config, eval_fingerprint, evaluate  # noqa: E402
from gcbench.graph import Budget, CondensedGraph, Graph  # noqa: E402
from gcbench.results import ResultsStore, row_key  # noqa: E402
from gcbench.runner import versions  # noqa: E402
from gcbench.spec import parse_seeds, split_list  # noqa: E402

METHOD = "sfgc-released"
QUANTILES = (0.5, 0.9, 0.99, 1.0)


def released_paths(repo: Path, dataset: str, ratio: float) -> dict[str, Path]:
    r = f"{float(ratio)}"
    paths = {"idx": repo / f"logs/Coreset/{dataset}-reduce_{r}-coreinit/idx_{dataset}_{r}_kcenter_15.npy",
             "feat": repo / f"logs/Distill/{dataset}-reduce_{r}-distillation/feat_{dataset}_{r}_best_ntk_score_15.pt",
             "label": repo / f"logs/Distill/{dataset}-reduce_{r}-distillation/label_{dataset}_{r}_best_ntk_score_15.pt"}
    for p in paths.values():
        if not p.is_file():
            raise GCBenchError(f"released file not found: {p}")
    return paths


def load_released(repo: Path, graph: Graph, ratio: float) -> tuple[CondensedGraph, torch.Tensor, dict[str, Path]]:
    """The released graph (features, labels, identity adjacency) and the features of its start nodes, both in
    the class order of gcbench's budget; the released labels must be the start nodes' labels."""
    paths = released_paths(repo, graph.name, ratio)
    ids = torch.from_numpy(np.load(paths["idx"], allow_pickle=False)).long().flatten()
    try:
        feat = torch.load(paths["feat"], map_location="cpu", weights_only=True).float()
        label = torch.load(paths["label"], map_location="cpu", weights_only=True).long().flatten()
    except Exception as exc:  # noqa: BLE001 - a corrupt file is one line naming it
        raise GCBenchError(f"cannot read {paths['feat']} / {paths['label']}: {exc}") from None
    if feat.shape != (ids.numel(), graph.num_features) or label.numel() != ids.numel():
        raise GCBenchError(f"{paths['feat'].name}: features {tuple(feat.shape)}, {label.numel()} labels; expected "
                           f"{ids.numel()} x {graph.num_features} (one row per start node)")
    if not torch.equal(label, graph.data.y[ids]):
        raise GCBenchError(f"{paths['label'].name}: the labels are not those of the start nodes")
    budget = Budget.from_graph(graph, ratio)
    nodes = given_nodes(paths["idx"], graph, budget)  # checked and in the budget's class order
    order = torch.cat([(ids == n).nonzero().flatten() for n in nodes])
    x = graph.training_view()[0][nodes]
    x = x.to_dense() if x.is_sparse else x
    return CondensedGraph(x=feat[order], y=budget.labels(), adj=None), x.float(), paths


def cell_hash(paths: dict[str, Path]) -> str:
    parts = {"files": {k: hashlib.sha256(p.read_bytes()).hexdigest() for k, p in sorted(paths.items())},
             "eval": eval_fingerprint(None), "eval_code": module_closure("gcbench.evaluate"),
             "script": hashlib.sha256(Path(__file__).read_bytes()).hexdigest()}
    return hashlib.sha256(json.dumps(parts, sort_keys=True, default=str).encode()).hexdigest()[:12]


def displacement(released: torch.Tensor, start: torch.Tensor, lr_feat: float) -> dict[str, float]:
    d = (released - start).abs().flatten()
    q = torch.quantile(d.double(), torch.tensor(QUANTILES, dtype=torch.double))
    out = {f"q{int(p * 100)}": float(v) for p, v in zip(QUANTILES, q)}
    out["steps_at_least"] = float(d.max()) / lr_feat
    return out


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--repo", required=True, type=Path, help="a checkout of the SFGC repository")
    ap.add_argument("--dataset", required=True)
    ap.add_argument("--ratios", default="0.25,0.5,1")
    ap.add_argument("--data-root", default=None)
    ap.add_argument("--seeds", default="0-4")
    ap.add_argument("--archs", default="gcn")
    ap.add_argument("--out", default="runs/sfgc-released")
    args = ap.parse_args(argv)
    try:
        seeds, archs = parse_seeds(args.seeds), split_list(args.archs)
        ratios = [float(r) for r in split_list(args.ratios)]
        for a in archs:
            eval_config(a, None)  # an unknown architecture fails here, before anything runs
        graph = load_dataset(args.dataset, data_root=args.data_root)
        sfgc = MethodSpec("sfgc").build(graph.name)
        store = ResultsStore(Path(args.out) / "results.csv")
        print("| ratio | lr_feat | median | 90 % | 99 % | max | max / lr_feat |")
        print("|---:|---:|---:|---:|---:|---:|---:|")
        for ratio in ratios:
            cg, start, paths = load_released(args.repo, graph, ratio)
            lr = float(per_ratio(sfgc.config["lr_feat"], ratio))
            d = displacement(cg.x, start, lr)
            print(f"| {ratio:g} | {lr:g} | {d['q50']:.2e} | {d['q90']:.2e} | {d['q99']:.2e} | {d['q100']:.3f} | "
                  f"{d['steps_at_least']:.0f} |", flush=True)
            chash = cell_hash(paths)
            for seed in seeds:
                for arch in archs:
                    key = row_key({"method": METHOD, "dataset": graph.name, "ratio": ratio, "arch": arch,
                                   "seed": seed, "config_hash": chash})
                    if key in store.done_keys():
                        continue
                    res = evaluate(cg, graph, arch, seed, "cpu")
                    store.append({
                        "method": METHOD, "dataset": graph.name, "ratio": ratio, "n_syn_nodes": cg.num_nodes,
                        "n_syn_edges": cg.num_edges, "n_nodes": graph.num_nodes, "arch": arch, "seed": seed,
                        "val_score": res["val_score"], "test_score": res["test_score"], "metric": graph.metric,
                        "protocol": eval_config(arch, None)["protocol"], "condense_s": float("nan"),
                        "eval_s": res["eval_s"], "eval_epoch": res["best_epoch"], "config_hash": chash,
                        "dataset_sha": graph.sha[:16], "device": "cpu", "versions": versions(), "status": "ok",
                        "error": "", "timestamp": datetime.now(timezone.utc).isoformat(timespec="seconds")})
    except GCBenchError as exc:
        print(f"sfgc_released: error: {exc}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
