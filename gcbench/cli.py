"""Command line: ``gcbench run | leaderboard | list``.

``gcbench run`` with no arguments runs a small real benchmark on the embedded ``synthetic-ecommerce``
dataset (every registered method that is quick by default, GCN evaluation, 3 seeds) into
``./gcbench-results`` and prints the leaderboard. User errors print one line ``gcbench: error: ...`` and
exit with code 2; an interrupted run keeps every finished row and can be resumed by running the same
command again.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from gcbench.errors import GCBenchError
from gcbench.spec import parse_spec, split_list

DEFAULT_METHODS = "random,herding,kcenter,whole"
DEFAULT_DATASETS = "synthetic-ecommerce"
DEFAULT_RATIOS = "0.1,0.25"
DEFAULT_ARCHS = "gcn"
DEFAULT_SEEDS = "0,1,2"
DEFAULT_OUT = "gcbench-results"


def _floats(text: str, what: str) -> list[float]:
    out = []
    for item in split_list(text):
        try:
            out.append(float(item))
        except ValueError:
            raise GCBenchError(f"bad {what} {item!r}: not a number") from None
    return out


def _seeds(text: str) -> list[int]:
    out: list[int] = []
    for item in split_list(text):
        lo, dash, hi = item.partition("-")
        try:
            if dash:
                out.extend(range(int(lo), int(hi) + 1))
            else:
                out.append(int(item))
        except ValueError:
            raise GCBenchError(f"bad seed {item!r}: expected an integer or a range like 0-9") from None
    return out


def _options(text: str | None) -> dict[str, Any]:
    if not text:
        return {}
    _, opts = parse_spec("eval:" + text.replace(",", ":"), "evaluation option")
    return opts


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="gcbench", description="Graph condensation benchmark suite.")
    sub = p.add_subparsers(dest="command")

    r = sub.add_parser("run", help="run a grid of (method, dataset, ratio, arch, seed) and print the leaderboard")
    r.add_argument("--methods", default=DEFAULT_METHODS,
                   help="comma-separated method specs, options as name:key=value (default: %(default)s)")
    r.add_argument("--datasets", default=DEFAULT_DATASETS,
                   help="comma-separated dataset specs, e.g. cora,synthetic-ecommerce:n_nodes=20000")
    r.add_argument("--ratios", default=DEFAULT_RATIOS, help="fractions of training nodes kept (default: %(default)s)")
    r.add_argument("--archs", default=DEFAULT_ARCHS, help="evaluation architectures (default: %(default)s)")
    r.add_argument("--seeds", default=DEFAULT_SEEDS, help="seeds, e.g. 0,1,2 or 0-9 (default: %(default)s)")
    r.add_argument("--out", default=DEFAULT_OUT, help="output folder (default: %(default)s)")
    r.add_argument("--device", default="auto", help="auto | cpu | cuda | cuda:N (default: auto)")
    r.add_argument("--data-root", default=None, help="folder with dataset files (default: $GCBENCH_DATA)")
    r.add_argument("--eval", default=None, metavar="K=V,...",
                   help="evaluation protocol overrides, e.g. epochs=300 or gat.lr=0.01")
    r.add_argument("--no-progress", action="store_true", help="no progress bar")
    r.add_argument("--quiet", action="store_true", help="do not print the leaderboard at the end")

    lb = sub.add_parser("leaderboard", help="write CSV + Markdown leaderboard tables from a results.csv")
    lb.add_argument("results", help="path to results.csv")
    lb.add_argument("-o", "--out", default=None, help="output folder (default: next to results.csv/leaderboard)")
    lb.add_argument("--quiet", action="store_true", help="do not print the tables")

    sub.add_parser("list", help="list methods, datasets and architectures")
    return p


def cmd_run(args: argparse.Namespace) -> int:
    from gcbench.leaderboard import format_console, write_leaderboard
    from gcbench.runner import Grid, Runner

    grid = Grid(
        methods=split_list(args.methods),
        datasets=split_list(args.datasets),
        ratios=_floats(args.ratios, "ratio"),
        archs=[a.lower() for a in split_list(args.archs)],
        seeds=_seeds(args.seeds),
        eval_overrides=_options(args.eval),
    )
    runner = Runner(grid, args.out, device=args.device, data_root=args.data_root,
                    progress=not args.no_progress, echo=lambda s: print(s, file=sys.stderr))
    try:
        store = runner.run()
    except KeyboardInterrupt:
        print(f"gcbench: interrupted; {len(runner.store.rows)} row(s) are saved in {runner.store.path}; "
              "run the same command again to resume", file=sys.stderr)
        return 130
    df = store.frame()
    out_dir = Path(args.out) / "leaderboard"
    write_leaderboard(df, out_dir)
    if not args.quiet:
        print(format_console(df))
    failed = int((df["status"] == "failed").sum())
    print(f"gcbench: {len(df)} row(s) in {store.path}; leaderboard in {out_dir}"
          + (f"; {failed} failed row(s)" if failed else ""), file=sys.stderr)
    return 0


def cmd_leaderboard(args: argparse.Namespace) -> int:
    from gcbench.leaderboard import format_console, write_leaderboard
    from gcbench.results import read_results

    df = read_results(args.results)
    out = Path(args.out) if args.out else Path(args.results).parent / "leaderboard"
    paths = write_leaderboard(df, out)
    if not args.quiet:
        print(format_console(df))
    print(f"gcbench: wrote {len(paths)} file(s) to {out}", file=sys.stderr)
    return 0


def cmd_list(args: argparse.Namespace) -> int:
    from gcbench.condensers.base import list_condensers
    from gcbench.data import list_datasets
    from gcbench.models import ARCHS

    print("methods:")
    for name, cls in list_condensers().items():
        print(f"  {name:<14} {cls.description}")
    print("datasets:")
    for name in list_datasets():
        print(f"  {name}")
    print("architectures:")
    print("  " + ", ".join(ARCHS))
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.command is None:
        args = parser.parse_args(["run", *(argv or [])])
    handlers = {"run": cmd_run, "leaderboard": cmd_leaderboard, "list": cmd_list}
    try:
        return handlers[args.command](args)
    except GCBenchError as exc:
        print(f"gcbench: error: {exc}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
