"""Timing table of a results folder: per (method, dataset) the rows done (ok / failed), mean condensation
and evaluation seconds per row, the summed seconds, and the wall-clock span of the rows' timestamps.

    python benchmarks/study_timing.py RUN [--wall SECONDS]

``--wall`` is the run's wall-clock time (the caller measured it): the table then also gives the parallelism
reached (summed seconds over wall-clock)."""

from __future__ import annotations

import argparse

import pandas as pd
from _harness import print_table

from gcbench.results import read_results


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("run", help="results folder (or its results.csv)")
    ap.add_argument("--wall", type=float, default=None, help="the run's wall-clock seconds")
    args = ap.parse_args()
    path = args.run if args.run.endswith(".csv") else f"{args.run}/results.csv"
    df = read_results(path)
    if df.empty:
        raise SystemExit(f"{path}: no rows")
    # condensation time is shared by a cell's architectures: count it once per (method, dataset, ratio, seed)
    cond = df.drop_duplicates(["method", "dataset", "ratio", "seed"])
    rows = []
    for (m, d), g in df.groupby(["method", "dataset"], sort=False):
        c = cond[(cond["method"] == m) & (cond["dataset"] == d)]
        rows.append((m, d, int((g["status"] == "ok").sum()), int((g["status"] == "failed").sum()), len(c),
                     c["condense_s"].mean(), g["eval_s"].mean(), c["condense_s"].sum() + g["eval_s"].sum()))
    devices = ", ".join(sorted(df["device"].dropna().astype(str).unique()))
    print(f"{path}: {len(df)} rows on {devices}")
    print_table(("method", "dataset", "ok", "failed", "condensations", "condense_s (mean)", "eval_s (mean)",
                 "seconds (sum)"), (
        f"| {m} | {d} | {ok} | {bad} | {n} | {cs:.1f} | {es:.1f} | {tot:.0f} |"
        for m, d, ok, bad, n, cs, es, tot in rows))
    total = sum(r[-1] for r in rows)
    ts = pd.to_datetime(df["timestamp"], errors="coerce")
    span = (ts.max() - ts.min()).total_seconds()
    line = f"\nsummed seconds {total:.0f}; rows' timestamps span {span:.0f} s"
    if args.wall:
        line += f"; wall-clock {args.wall:.0f} s, parallelism {total / args.wall:.1f}x"
    print(line)


if __name__ == "__main__":
    main()
