"""What does a cell's learned structure carry? Class homophily of the saved condensed graphs, and each
architecture's score with the structure removed.

    OMP_NUM_THREADS=1 python benchmarks/condensed_structure.py runs/planetoid-cross-arch doscond citeseer 0.5 \
        --archs gcn,gat,cheb [--data-root ../shared/data] [--eval K=V,...] [--out FILE.md]

For each saved graph of the cell (``RUN/condensed/<method>__<dataset>__r<ratio>__s<seed>__<hash>.pt``, the
files :mod:`eval_spread` reads) it prints:

* ``edges``: off-diagonal non-zero entries of the adjacency, and per architecture the edges its evaluation
  keeps (``adj_threshold``: the reference GAT drops condensed edges below 0.5);
* ``homophily``: the weighted edge homophily ``sum_ij A_ij [y_i = y_j] / sum_ij A_ij`` over i != j, of all
  edges and of the edges the thresholded architecture keeps, beside ``chance``, the homophily of a graph whose
  edges join nodes at random (``sum_c n_c (n_c - 1) / (n (n - 1))`` over the condensed labels);
* per architecture, the results store's test score of the graph (structure kept) and the score of the same
  graph, same evaluation seed (the graph's), same protocol, with the adjacency removed (``adj = None``: the
  identity, as a structure-free method's graph is evaluated), and the difference.

This is an intervention on one thing, the structure, with the features, labels, seed and protocol held: a
positive "removed - kept" says the learned edges cost that architecture accuracy. Nothing is written to the
store.
"""

from __future__ import annotations

import dataclasses
import math
import shlex
import sys
import time
from pathlib import Path

import pandas as pd
import torch

from gcbench.evaluate import eval_config, evaluate
from gcbench.graph import CondensedGraph
from gcbench.report.render import frame_markdown
from gcbench.spec import split_list

sys.path.insert(0, str(Path(__file__).resolve().parent))
from eval_spread import cell_parser, load_cell, write_report  # noqa: E402  (the same cell, read the same way)


def chance_homophily(y: torch.Tensor) -> float:
    """Edge homophily of edges drawn uniformly between distinct nodes with labels ``y``."""
    n = y.numel()
    counts = torch.bincount(y.long()).double()
    return float((counts * (counts - 1)).sum() / (n * (n - 1))) if n > 1 else math.nan


def homophily(cg: CondensedGraph, threshold: float = 0.0) -> tuple[int, float]:
    """(number of edges, weighted edge homophily) of the off-diagonal edges of weight >= ``threshold``
    (every non-zero edge when 0); NaN homophily when no edge is left."""
    ei, w = cg.edges()
    w = torch.ones(ei.size(1)) if w is None else w.detach().float().cpu()
    ei = ei.cpu()
    if threshold > 0:
        keep = w >= threshold
        ei, w = ei[:, keep], w[keep]
    if not ei.size(1):
        return 0, math.nan
    same = (cg.y[ei[0]] == cg.y[ei[1]]).float()
    return int(ei.size(1)), float((w * same).sum() / w.sum())


def main(argv: list[str] | None = None) -> int:
    args = cell_parser("condensed_structure.py", __doc__, "doscond").parse_args(argv)
    cell = load_cell(args)
    graphs, graph, overrides, rows = cell.graphs, cell.graph, cell.overrides, cell.rows
    archs = split_list(args.archs)
    thresholds = {a: float(eval_config(a, overrides)["adj_threshold"]) for a in archs}
    t0 = time.perf_counter()
    table = []
    for seed, cg in sorted(graphs.items()):
        bare = dataclasses.replace(cg, adj=None)
        n_edges, h_all = homophily(cg)
        rec: dict[str, object] = {"graph seed": seed, "edges": n_edges, "homophily": round(h_all, 2),
                                  "chance": round(chance_homophily(cg.y), 2)}
        for t in sorted({t for t in thresholds.values() if t > 0}):
            n_kept, h_kept = homophily(cg, t)
            rec[f"edges >= {t:g}"] = n_kept
            rec[f"homophily >= {t:g}"] = round(h_kept, 2)
        for arch in archs:
            stored = rows[(rows["arch"] == arch) & (rows["seed"] == seed)]["test_score"].astype(float)
            if len(stored) == 1:
                kept = 100 * float(stored.iloc[0])
            else:  # no row of this architecture in the store: evaluate the graph as saved
                kept = 100 * evaluate(cg, graph, arch, seed, "cpu", overrides)["test_score"]
            removed = 100 * evaluate(bare, graph, arch, seed, "cpu", overrides)["test_score"]
            rec[f"{arch} kept"] = round(kept, 1)
            rec[f"{arch} removed"] = round(removed, 1)
            rec[f"{arch} removed - kept"] = round(removed - kept, 1)
        table.append(rec)
    frame = pd.DataFrame(table).set_index("graph seed")
    frame = pd.concat([frame, frame.mean(numeric_only=True).round(2).to_frame("mean").T]).astype(object)
    for col in [c for c in frame.columns if c.startswith("edges")]:  # counts print as counts, means to .1
        frame[col] = [f"{v:.0f}" if k != "mean" else f"{v:.1f}" for k, v in frame[col].items()]
    cmd = "python benchmarks/condensed_structure.py " + shlex.join(sys.argv[1:] if argv is None else argv)
    out = [f"## {args.method} on {args.dataset}, r={args.ratio:g}: the learned structure, kept and removed", "",
           f"Generated by `{cmd}`: per saved graph, its edges and their class homophily (weighted; chance = "
           "random edges between its labels), and test accuracy in % of each architecture with the structure "
           "kept (the results store's row) and removed (identity adjacency; same evaluation seed and "
           "protocol).", "", frame_markdown(frame, index="graph seed"), ""]
    for arch in archs:
        diff = frame.loc[frame.index != "mean", f"{arch} removed - kept"].astype(float)
        sd = diff.std(ddof=1) if len(diff) > 1 else math.nan
        out.append(f"- {arch}: removing the structure changes the test score by {diff.mean():+.1f} ± {sd:.1f} "
                   f"points (mean ± std over {len(diff)} graphs; better without it in "
                   f"{int((diff > 0).sum())} of {len(diff)})")
    out += ["", f"{len(graphs)} graphs x {len(archs)} architectures in {time.perf_counter() - t0:.0f} s (one thread)."]
    write_report("\n".join(out) + "\n", args.out)
    return 0


if __name__ == "__main__":
    sys.exit(main())
