"""Is a cell's seed spread in the condensed graphs or in the evaluation? Re-evaluate saved graphs.

    OMP_NUM_THREADS=1 python benchmarks/eval_spread.py runs/planetoid-cross-arch gcond cora 0.5 \
        --archs cheb --eval-seeds 0-4 [--data-root ../shared/data] [--eval K=V,...] [--out FILE.md]

A row of the results store trains architecture A on the graph condensed with seed s, with evaluation seed s,
so its seed spread mixes two sources: the condensed graphs differ, and so do the evaluation's initial weights
and dropout masks. This script takes the cell's saved graphs (``RUN/condensed/<method>__<dataset>__r<ratio>
__s<seed>__<hash>.pt``), evaluates each with every evaluation seed in ``--eval-seeds`` (the protocol of
:func:`gcbench.evaluate.evaluate`, the same call the runner makes) and prints, per architecture, the matrix
graph seed x evaluation seed of test accuracy and a one-way random-effects split of the variance:

* ``between graphs``: the variance of the graphs' means beyond what evaluation noise explains,
  ``max(0, (MS_between - MS_within) / k)``;
* ``within a graph``: ``MS_within``, the variance over evaluation seeds on one graph (pooled).

The diagonal (graph seed = evaluation seed) is the row the store holds; the script checks it reproduces the
store's test score and prints the largest difference (same seed on CPU: 0 expected). Nothing is written to the
store.
"""

from __future__ import annotations

import argparse
import math
import re
import shlex
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd
import torch

from gcbench.cli import eval_options
from gcbench.data import load_dataset
from gcbench.evaluate import evaluate
from gcbench.graph import CondensedGraph
from gcbench.report.render import frame_markdown
from gcbench.report.rows import ok_rows
from gcbench.results import read_results
from gcbench.spec import parse_seeds, split_list
from gcbench.util import slug


def saved_graphs(run: Path, method: str, dataset: str, ratio: float) -> dict[int, Path]:
    """Graph seed -> the saved condensed graph of ``method`` on ``dataset`` at ``ratio`` (one per seed;
    several config hashes for one seed are refused, as they are different cells)."""
    rtag = f"r{ratio:g}"
    stem = slug(f"{method}__{dataset}__{rtag}")  # the runner's file name (gcbench.runner.cell_slug)
    pat = re.compile(rf"^{re.escape(stem)}__s(\d+)__([0-9a-f]+)\.pt$")
    found: dict[int, Path] = {}
    for path in sorted((run / "condensed").glob("*.pt")):
        m = pat.match(path.name)
        if not m:
            continue
        seed = int(m.group(1))
        if seed in found:
            raise SystemExit(f"eval_spread: two saved graphs for seed {seed}: {found[seed].name}, {path.name}")
        found[seed] = path
    if not found:
        raise SystemExit(f"eval_spread: no saved graph {stem}__s*__*.pt in {run / 'condensed'}")
    return found


def variance_split(m: pd.DataFrame) -> tuple[float, float]:
    """(between-graph variance component, within-graph variance) of a graphs x evaluation-seeds matrix."""
    g, k = m.shape
    means = m.mean(axis=1)
    ms_between = k * means.var(ddof=1) if g > 1 else math.nan
    ms_within = float(((m.sub(means, axis=0)) ** 2).to_numpy().sum() / (g * (k - 1))) if k > 1 else math.nan
    return max(0.0, (ms_between - ms_within) / k), ms_within


@dataclass
class Cell:
    """What both this script and ``condensed_structure.py`` read for one cell: its saved graphs (graph seed ->
    condensed graph, each loaded once), the real graph, the evaluation overrides and the cell's ok rows of the
    results store."""

    graphs: dict[int, CondensedGraph]
    graph: Any
    overrides: dict[str, Any]
    rows: pd.DataFrame


def cell_parser(prog: str, doc: str, example_method: str) -> argparse.ArgumentParser:
    """The arguments naming a cell and its evaluation (a script adds its own)."""
    ap = argparse.ArgumentParser(prog=prog, description=doc.split("\n\n")[0])
    ap.add_argument("run", type=Path, help="a results folder with condensed/ and results.csv")
    ap.add_argument("method", help=f"the method label as in the rows and file names, e.g. {example_method}")
    ap.add_argument("dataset")
    ap.add_argument("ratio", type=float)
    ap.add_argument("--archs", default="gcn")
    ap.add_argument("--data-root", default="../shared/data")
    ap.add_argument("--eval", default=None, metavar="K=V,...",
                    help="the evaluation overrides the rows were made with (gcbench run --eval)")
    ap.add_argument("--out", type=Path, default=None, help="also write the Markdown report here")
    return ap


def load_cell(args: argparse.Namespace) -> Cell:
    torch.set_num_threads(1)
    graphs = {seed: CondensedGraph.from_state(torch.load(path, map_location="cpu", weights_only=False))
              for seed, path in saved_graphs(args.run, args.method, args.dataset, args.ratio).items()}
    graph = load_dataset(args.dataset, args.data_root)
    overrides = eval_options(args.eval)
    rows = ok_rows(read_results(args.run / "results.csv"))
    rows = rows[(rows["method"] == args.method) & (rows["dataset"] == args.dataset)
                & (pd.to_numeric(rows["ratio"], errors="coerce").round(10) == round(args.ratio, 10))]
    return Cell(graphs, graph, overrides, rows)


def write_report(text: str, out: Path | None) -> None:
    print(text, end="")
    if out:
        out.parent.mkdir(parents=True, exist_ok=True)
        out.write_text(text)


def main(argv: list[str] | None = None) -> int:
    ap = cell_parser("eval_spread.py", __doc__, "gcond")
    ap.add_argument("--eval-seeds", default="0-4")
    args = ap.parse_args(argv)
    eval_seeds = parse_seeds(args.eval_seeds)
    if len(eval_seeds) < 2:
        raise SystemExit("eval_spread: give at least two evaluation seeds")
    cell = load_cell(args)
    graphs, graph, overrides, rows = cell.graphs, cell.graph, cell.overrides, cell.rows
    cmd = "python benchmarks/eval_spread.py " + shlex.join(sys.argv[1:] if argv is None else argv)
    out = [f"## {args.method} on {args.dataset}, r={args.ratio:g}: condensation spread against evaluation spread",
           "", f"Generated by `{cmd}`: each saved graph (rows) evaluated with each evaluation seed (columns); "
           "test accuracy in %. The diagonal is the results store's row.", ""]
    t0 = time.perf_counter()
    for arch in split_list(args.archs):
        scores = pd.DataFrame(index=sorted(graphs), columns=eval_seeds, dtype=float)
        for s, cg in sorted(graphs.items()):
            for e in eval_seeds:
                scores.loc[s, e] = 100 * evaluate(cg, graph, arch, e, "cpu", overrides)["test_score"]
        stored = rows[rows["arch"] == arch].set_index("seed")["test_score"].astype(float) * 100
        diag = [abs(scores.loc[s, s] - stored[s]) for s in scores.index if s in scores.columns and s in stored.index]
        between, within = variance_split(scores)
        table = scores.copy()
        table["mean"] = scores.mean(axis=1)
        table["std over eval seeds"] = scores.std(axis=1, ddof=1)
        out += [f"### {arch}", "",
                frame_markdown(table.rename(columns=lambda c: f"eval {c}" if isinstance(c, int) else c).round(1),
                               index="graph seed"),
                f"- mean {scores.to_numpy().mean():.1f}; std of the store's rows (diagonal) "
                f"{pd.Series([scores.loc[s, s] for s in scores.index if s in scores.columns]).std(ddof=1):.1f}",
                f"- variance between graphs {between:.2f} (std {math.sqrt(between):.1f}), within a graph "
                f"{within:.2f} (std {math.sqrt(within):.1f}): "
                f"{100 * between / (between + within) if between + within > 0 else 0:.0f} % of the spread is "
                "the condensed graphs'",
                f"- diagonal against the store: largest difference {max(diag) if diag else math.nan:.2f} points "
                f"({len(diag)} rows)", ""]
    out.append(f"{len(graphs)} graphs x {len(eval_seeds)} evaluation seeds in {time.perf_counter() - t0:.0f} s "
               "(one thread).")
    write_report("\n".join(out) + "\n", args.out)
    return 0


if __name__ == "__main__":
    sys.exit(main())
