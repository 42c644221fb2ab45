"""Reproduce published Cora/Citeseer rows (GCN evaluation) and compare, method by method.

    python benchmarks/reproduce_table.py --data-root ../shared/data [--methods gcond] [--datasets cora,citeseer]
                                         [--ratios 0.25,0.5,1] [--seeds 0-9] [--out DIR]
    python benchmarks/reproduce_table.py --results runs/a/results.csv,runs/b/results.csv   # tables only

Runs the methods (default: the coresets and the whole graph) at ratios 0.25 / 0.5 / 1.0 of the training
nodes through the normal runner (results are resumable: rerun to continue), then prints mean ± std over
seeds next to the published numbers of the method cards and the difference in points. With ``--results``
nothing runs; the rows of those files (several allowed) are tabulated.
"""

from __future__ import annotations

import argparse
import sys
import time

import pandas as pd

from gcbench.report.published import published_markdown, published_table
from gcbench.results import read_results
from gcbench.runner import Grid, Runner
from gcbench.spec import parse_seeds

# The published numbers are the method cards' `published` tables (methods/<name>.yaml: GCond's Table 2 for the
# coresets, GCond and the whole graph; SFGC's Table 2 for SFGC), set beside the rows by gcbench.report.published.
RATIOS = (0.25, 0.5, 1.0)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--data-root", default=None)
    ap.add_argument("--methods", default="random,herding,kcenter,whole")
    ap.add_argument("--datasets", default="cora")
    ap.add_argument("--ratios", default=",".join(f"{r:g}" for r in RATIOS))
    ap.add_argument("--seeds", default="0-9")
    ap.add_argument("--out", default="benchmarks/results/reproduce")
    ap.add_argument("--device", default="cpu")
    ap.add_argument("--results", help="comma-separated results.csv files to tabulate (runs nothing)")
    args = ap.parse_args()
    datasets, methods = args.datasets.split(","), args.methods.split(",")
    t0 = time.perf_counter()
    if args.results:
        df = pd.concat([read_results(p) for p in args.results.split(",")], ignore_index=True)
        datasets = list(dict.fromkeys(df.dataset))
        methods = list(dict.fromkeys(df.method))
        print(f"# {len(df)} rows from {args.results}")
    else:
        grid = Grid(methods=methods, datasets=datasets, ratios=[float(r) for r in args.ratios.split(",")],
                    archs=["gcn"], seeds=parse_seeds(args.seeds))
        df = Runner(grid, args.out, device=args.device, data_root=args.data_root,
                    echo=lambda s: print(s, file=sys.stderr)).run().frame()
        print(f"# GCN evaluation, {len(grid.seeds)} seeds, {time.perf_counter() - t0:.0f} s")
    table = published_table(df[df["dataset"].isin(datasets) & df["method"].isin(methods)])
    print(published_markdown(table) or "no cell with a published number")
    if len(table):
        print(f"\nlargest |difference| to the published numbers: {table['diff'].abs().max():.1f} points")
    return 0


if __name__ == "__main__":
    sys.exit(main())
