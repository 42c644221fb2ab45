"""The training-free frontier: does a learned condenser beat the best training-free one, by how much, at
what multiple of the condensation time? Re-derived from published rows.

    python benchmarks/frontier.py leaderboards/planetoid-training-free leaderboards/planetoid-gradient-matching \
        leaderboards/planetoid-sfgc [--arch gcn]

Per (dataset, ratio): the training-free method with the best mean *validation* score over its seeds (the
choice never looks at test scores), each learned
method's mean, the difference in points with a 95 % interval of the difference of two means (Welch), and
the ratio of median condensation seconds (learned / training-free). Only methods with rows at that
(dataset, ratio, arch) appear; the seed counts are printed.
"""

from __future__ import annotations

import argparse
import math
from pathlib import Path

import pandas as pd

from gcbench.results import read_results

TRAINING_FREE = ("kmeans-agg", "cgc", "cgc-x")


def welch_ci(a: pd.Series, b: pd.Series) -> float:
    """Half-width of the 95 % interval of mean(a) - mean(b) (normal approximation; NaN below 2 seeds)."""
    if len(a) < 2 or len(b) < 2:
        return math.nan
    return 1.96 * math.sqrt(a.var(ddof=1) / len(a) + b.var(ddof=1) / len(b))


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("folders", nargs="+")
    ap.add_argument("--arch", default="gcn")
    args = ap.parse_args()
    df = pd.concat([read_results(Path(f) / "results.csv") for f in args.folders], ignore_index=True)
    df = df[(df.status == "ok") & (df.arch == args.arch) & df.ratio.notna()]
    df["test"] = df.test_score.astype(float) * 100
    print("| dataset | ratio | training-free, best on validation (n) | learned (n) | learned - training-free (95 %) "
          "| time ratio |")
    print("|---|---|---|---|---|---|")
    for (ds, r), g in df.groupby(["dataset", "ratio"], sort=True):
        free = g[g.method.isin(TRAINING_FREE)]
        if free.empty:
            continue
        best = free.groupby("method").val_score.apply(lambda v: v.astype(float).mean()).idxmax()
        fb = free[free.method == best]
        for m, lg in g[~g.method.isin(TRAINING_FREE)].groupby("method"):
            if m in ("random", "herding", "kcenter", "whole"):
                continue
            diff = lg.test.mean() - fb.test.mean()
            ci = welch_ci(lg.test, fb.test)
            ratio = lg.condense_s.astype(float).median() / fb.condense_s.astype(float).median()
            print(f"| {ds} | {r:g} | {best} {fb.test.mean():.1f} (n={len(fb)}) | {m} {lg.test.mean():.1f} "
                  f"(n={len(lg)}) | {diff:+.1f} ± {ci:.1f} | {ratio:,.0f}x |")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
