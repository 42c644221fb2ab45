"""Command line: ``gcbench run | nas | plot | leaderboard | list | docs | data``.

``gcbench run`` with no arguments runs a small real benchmark on the embedded ``synthetic-ecommerce``
dataset (every registered method that is quick by default, GCN evaluation, 3 seeds) into
``./gcbench-results`` and prints the leaderboard; ``gcbench run --suite leaderboards/suites/ci.yaml`` runs
the grids and NAS studies a suite file names (:mod:`gcbench.suite`). ``gcbench nas`` ranks a search space
of GNN configurations on a condensed graph against the full graph (:mod:`gcbench.nas`), ``gcbench plot``
draws every figure a results folder allows (:mod:`gcbench.report`), ``gcbench leaderboard`` writes the
tables, and with ``--check`` verifies that a leaderboard folder's tables are what its rows produce (and,
with ``--against``, that a fresh run reproduces its numbers within a tolerance). ``gcbench list`` lists
methods, datasets and architectures; ``gcbench list --config METHOD[:opts] [--dataset D]`` prints a method's
resolved configuration and where each value came from. ``gcbench docs`` checks (``--write``: updates) the
tables the documents quote from generated files (:mod:`gcbench.report.quotes`).

Exit codes (:mod:`gcbench.errors`): 0 done; 1 a failed check; 2 bad input, printed as one line
``gcbench: error: ...`` before anything is computed; 3 ``gcbench run`` finished but some of the rows it
computed failed (each named on stderr; rerunning the same command retries only them); 130 interrupted (every
finished row is kept and the same command resumes); 141 standard output closed early (``| head``).
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from gcbench.errors import (
    EXIT_BROKEN_PIPE,
    EXIT_CHECK_FAILED,
    EXIT_FAILED_ROWS,
    EXIT_INTERRUPTED,
    EXIT_OK,
    EXIT_USAGE,
    GCBenchError,
)
from gcbench.spec import parse_seeds, parse_spec, split_list

DEFAULT_METHODS = "random,herding,kcenter,kmeans-agg,cgc,whole"
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


def eval_options(text: str | None) -> dict[str, Any]:
    """The evaluation overrides of a ``--eval`` value (``K=V,...``; ``{}`` for none)."""
    if not text:
        return {}
    _, opts = parse_spec("eval:" + text.replace(",", ":"), "evaluation option")
    return opts


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="gcbench", description="Graph condensation benchmark suite.")
    sub = p.add_subparsers(dest="command")

    r = sub.add_parser("run", help="run a grid of (method, dataset, ratio, arch, seed) and print the leaderboard")
    r.add_argument("--suite", default=None, metavar="FILE",
                   help="run the grids and NAS studies of a suite file (leaderboards/suites/<name>.yaml, or just "
                        "<name>); cannot be combined with --methods/--datasets/--ratios/--archs/--seeds/--eval")
    r.add_argument("--methods", default=None,
                   help=f"comma-separated method specs, options as name:key=value (default: {DEFAULT_METHODS})")
    r.add_argument("--datasets", default=None,
                   help="comma-separated dataset specs, e.g. cora,synthetic-ecommerce:n_nodes=20000 "
                        f"(default: {DEFAULT_DATASETS})")
    r.add_argument("--ratios", default=None, help=f"fractions of training nodes kept (default: {DEFAULT_RATIOS})")
    r.add_argument("--archs", default=None, help=f"evaluation architectures (default: {DEFAULT_ARCHS})")
    r.add_argument("--seeds", default=None, help=f"seeds, e.g. 0,1,2 or 0-9 (default: {DEFAULT_SEEDS})")
    r.add_argument("--out", default=DEFAULT_OUT, help="output folder (default: %(default)s)")
    r.add_argument("--device", default=None, help="auto | cpu | cuda | cuda:N (default: the suite's, else auto)")
    r.add_argument("--data-root", default=None,
                   help="folder with dataset files (default: $GCBENCH_DATA, else the suite's data_root)")
    r.add_argument("--eval", default=None, metavar="K=V,...",
                   help="evaluation protocol overrides, e.g. epochs=300 or gat.lr=0.01")
    r.add_argument("--no-progress", action="store_true", help="no progress bar")
    r.add_argument("--quiet", action="store_true", help="do not print the leaderboard at the end")
    r.add_argument("--estimate", action="store_true",
                   help="do not run: time short probes of each (method, dataset) still to compute and print the "
                        "estimated CPU time of every one and of the grid (writes nothing; NAS studies not included)")
    x = r.add_argument_group("executor", "where the cells run (rows are always written by this process)")
    x.add_argument("--executor", default="local", choices=("local", "ray"),
                   help="local: one cell after another here (default); ray: one Ray task per condensation "
                        "(pip install 'gcbench[ray]')")
    x.add_argument("--ray-address", default=None, metavar="auto|HOST:PORT",
                   help="join a running Ray cluster (default: start a local Ray instance for this run)")
    x.add_argument("--ray-cpus", default=None, type=int, metavar="N",
                   help="CPUs of the local Ray instance (default: all of this machine's)")
    x.add_argument("--gpus-per-task", default=0.0, type=float, metavar="F",
                   help="GPUs per Ray task, fractions allowed (default: 0)")
    x.add_argument("--cpus-per-task", default=1.0, type=float, metavar="F",
                   help="CPUs per Ray task; also its torch thread count (default: 1)")
    x.add_argument("--ray-retries", default=2, type=int, metavar="N",
                   help="Ray: times a task is retried when its worker dies (default: 2); then its rows fail")
    x.add_argument("--split-eval", action="store_true",
                   help="Ray: one task per evaluated architecture instead of one per condensation")

    n = sub.add_parser("nas", help="rank a search space of GNN configurations on a condensed graph vs the full graph")
    n.add_argument("--method", required=True, help="method spec(s), comma-separated (one study each)")
    n.add_argument("--dataset", required=True, help="dataset spec")
    n.add_argument("--ratio", required=True, type=float, help="fraction of training nodes kept")
    n.add_argument("--seed", default=0, type=int, help="seed of the condensation and of every training (default: 0)")
    n.add_argument("--out", default=DEFAULT_OUT,
                   help="results folder: reuses OUT/condensed/, writes OUT/nas/ (default: %(default)s)")
    n.add_argument("--configs", default=None, type=int,
                   help="train a fixed subset of N configurations (default: the whole space, 96)")
    n.add_argument("--epochs", default=None, type=int, help="training epochs per configuration (default: 200)")
    n.add_argument("--eval-every", default=None, type=int, help="validation every K epochs (default: 10)")
    n.add_argument("--eval", default=None, metavar="K=V,...",
                   help="the evaluation overrides of the `gcbench run` whose condensed graphs to reuse")
    n.add_argument("--device", default="auto", help="auto | cpu | cuda | cuda:N (default: auto)")
    n.add_argument("--data-root", default=None, help="folder with dataset files (default: $GCBENCH_DATA)")

    pl = sub.add_parser("plot", help="draw every figure a results folder allows (PNG + SVG)")
    pl.add_argument("results", help="results folder (results.csv, nas/, logs/) or its results.csv")
    pl.add_argument("-o", "--out", default=None, help="figure folder (default: <results folder>/figures)")
    pl.add_argument("--formats", default="png,svg", help="comma-separated: png, svg, pdf (default: %(default)s)")

    lb = sub.add_parser("leaderboard", help="write CSV + Markdown leaderboard tables from a results.csv; check or "
                                            "publish a leaderboard folder")
    lb.add_argument("results", help="path to results.csv or a results/leaderboard folder")
    lb.add_argument("-o", "--out", default=None,
                    help="output folder (default: <folder of results.csv>/leaderboard)")
    lb.add_argument("--figures", action="store_true", help="also draw the figures into OUT/figures")
    lb.add_argument("--quiet", action="store_true", help="do not print the tables")
    lb.add_argument("--check", action="store_true",
                    help="check the leaderboard folder RESULTS: its tables and figures are exactly what its rows "
                         "produce and no row failed (exit 1 otherwise)")
    lb.add_argument("--against", default=None, metavar="RUN",
                    help="with --check: also compare the numbers of the results folder RUN (a fresh run of the "
                         "same suite) with the committed rows")
    lb.add_argument("--tol", default=None, type=float,
                    help="with --against: tolerance in points on each (dataset, arch, method, ratio) mean test "
                         "score and on NAS mean scores (default: 3)")
    lb.add_argument("--z", default=None, type=float,
                    help="with --against: a cell mean may also move by up to Z standard errors of the difference "
                         "of the two means, and a NAS study's mean condensed-graph test score by Z standard errors "
                         "of one condensed graph against another (default: 3; 0 = the plain --tol rule)")
    lb.add_argument("--nas-tol", default=None, type=float,
                    help="with --against: tolerance on NAS Spearman/Kendall (default: 0.15)")
    lb.add_argument("--strict-figures", action="store_true",
                    help="with --check: also compare the SVG bytes of the figures (same matplotlib needed)")
    lb.add_argument("--publish", default=None, metavar="DEST",
                    help="copy the rows of the results folder RESULTS into the leaderboard folder DEST and "
                         "regenerate its tables and figures")
    lb.add_argument("--suite", default=None, metavar="FILE",
                    help="with --publish: copy only the (method, dataset, ratio) groups of the suite FILE whose "
                         "every (arch, seed) row is ok and the suite's NAS studies that hold every configuration, "
                         "and list what is left out (a study still running)")

    ls = sub.add_parser("list", help="list methods, datasets and architectures; or show a method's configuration")
    ls.add_argument("--config", default=None, metavar="METHOD[:k=v...]",
                    help="print the resolved configuration of a method variant and where each value came from")
    ls.add_argument("--dataset", default=None, help="with --config: resolve for this dataset's YAML section")

    dc = sub.add_parser("docs", help="check that the documents' quoted tables are the current sections of the "
                                     "generated files they quote; --write updates them")
    dc.add_argument("files", nargs="*", help="Markdown documents (default: every one under --root with a quote)")
    dc.add_argument("--root", default=None,
                    help="repository root the quoted paths are relative to (default: the nearest folder above "
                         "the current one with pyproject.toml)")
    dc.add_argument("--write", action="store_true", help="rewrite the stale quote blocks instead of failing")

    d = sub.add_parser("data", help="dataset tools: `gcbench data stats DATASET`")
    dsub = d.add_subparsers(dest="data_command", required=True)
    ds = dsub.add_parser("stats", help="calibration table: topology, feature scale, whole-graph MLP/GCN/GAT/SAGE "
                                       "test scores")
    ds.add_argument("datasets", help="comma-separated dataset specs, or 'all' (every registered dataset whose files "
                                     "are found)")
    ds.add_argument("--archs", default="mlp,gcn,gat,sage",
                    help="evaluation architectures; '' for topology and feature scale only (default: %(default)s)")
    ds.add_argument("--seeds", default="0", help="model seeds, e.g. 0,1,2 (default: %(default)s)")
    ds.add_argument("--data-root", default=None, help="folder with dataset files (default: $GCBENCH_DATA)")
    ds.add_argument("--device", default="auto", help="auto | cpu | cuda | cuda:N (default: auto)")
    ds.add_argument("--eval", default=None, metavar="K=V,...", help="evaluation protocol overrides")
    ds.add_argument("--csv", default=None, metavar="FILE", help="also write the table as CSV")
    return p


def _echo(msg: str) -> None:
    print(msg, file=sys.stderr)


def cmd_run(args: argparse.Namespace) -> int:
    from gcbench.runner import Grid, Runner

    if args.suite:
        return _run_suite(args)
    def typed(value: str | None, default: str) -> str:
        return default if value is None else value

    grid = Grid(
        methods=split_list(typed(args.methods, DEFAULT_METHODS)),
        datasets=split_list(typed(args.datasets, DEFAULT_DATASETS)),
        ratios=_floats(typed(args.ratios, DEFAULT_RATIOS), "ratio"),
        archs=[a.lower() for a in split_list(typed(args.archs, DEFAULT_ARCHS))],
        seeds=parse_seeds(typed(args.seeds, DEFAULT_SEEDS)),
        eval_overrides=eval_options(args.eval),
    )
    if args.estimate:
        return _estimate([Runner(grid, args.out, device=args.device or "auto", data_root=args.data_root)])
    executor = _executor(args)
    try:
        runner = Runner(grid, args.out, device=args.device or "auto", data_root=args.data_root,
                        progress=not args.no_progress, echo=_echo, executor=executor)
        try:
            runner.run()
        except KeyboardInterrupt:
            return _interrupted(runner)
    finally:
        executor.close()
    return _finish_run(args, runner.n_failed)


def _estimate(runners: list[Any]) -> int:
    """Print the estimated cost of what the runners still have to compute (:mod:`gcbench.estimate`)."""
    import torch

    from gcbench.estimate import estimate_cells, format_estimate

    estimates = []
    for runner in runners:
        cells = runner.prepare()  # reloads the results folder: its rows cost what they measure
        estimates += estimate_cells(cells, runner.device, echo=_echo, measured=runner.store.frame())
    print(format_estimate(estimates, runners[0].device, torch.get_num_threads()))
    return EXIT_OK


def _executor(args: argparse.Namespace) -> Any:
    from gcbench.executors import LocalExecutor, RayExecutor

    if args.executor == "local":
        given = [flag for flag, v in (("--ray-address", args.ray_address), ("--ray-cpus", args.ray_cpus),
                                      ("--gpus-per-task", args.gpus_per_task or None),
                                      ("--cpus-per-task", None if args.cpus_per_task == 1.0 else 1),
                                      ("--ray-retries", None if args.ray_retries == 2 else 1),
                                      ("--split-eval", args.split_eval or None)) if v is not None]
        if given:
            raise GCBenchError(f"{', '.join(given)} only apply to --executor ray")
        return LocalExecutor()
    if args.ray_address is not None and args.ray_cpus is not None:
        raise GCBenchError("--ray-cpus sizes a local Ray instance; it cannot be combined with --ray-address")
    return RayExecutor(address=args.ray_address, gpus_per_task=args.gpus_per_task, cpus_per_task=args.cpus_per_task,
                       num_cpus=args.ray_cpus, split_eval=args.split_eval, max_retries=args.ray_retries)


def _interrupted(runner: Any) -> int:
    _echo(runner.interrupted_message())
    return EXIT_INTERRUPTED


def _finish_run(args: argparse.Namespace, n_failed: int = 0) -> int:
    """Write the leaderboard of the results folder; exit code 3 when ``n_failed`` rows of this run failed."""
    from gcbench.nas import read_nas
    from gcbench.report.folder import write_report
    from gcbench.report.render import format_console
    from gcbench.results import read_results

    path = Path(args.out) / "results.csv"
    df = read_results(path)
    out_dir = Path(args.out) / "leaderboard"
    write_report(df, out_dir, nas_rows=read_nas(args.out))
    if not args.quiet:
        print(format_console(df))
    failed = int((df["status"] == "failed").sum())
    print(f"gcbench: {len(df)} row(s) in {path}; leaderboard in {out_dir}"
          + (f"; {failed} failed row(s)" if failed else ""), file=sys.stderr)
    if n_failed:
        print(f"gcbench: {n_failed} row(s) of this run failed (exit code {EXIT_FAILED_ROWS}); the same command "
              "retries them", file=sys.stderr)
        return EXIT_FAILED_ROWS
    return EXIT_OK


def _run_suite(args: argparse.Namespace) -> int:
    from gcbench.suite import load_suite, run_suite

    typed = [f"--{k}" for k in ("methods", "datasets", "ratios", "archs", "seeds", "eval")
             if getattr(args, k) is not None]
    if typed:
        raise GCBenchError(f"--suite cannot be combined with {', '.join(typed)}: the suite file names them")
    suite = load_suite(args.suite)
    if args.estimate:
        from gcbench.suite import suite_runners

        runners = [r for _, r in suite_runners(suite, args.out, device=args.device, data_root=args.data_root)]
        return _estimate(runners) if runners else EXIT_OK
    executor = _executor(args)
    try:
        try:
            n_failed = run_suite(suite, args.out, device=args.device, data_root=args.data_root, executor=executor,
                                 progress=not args.no_progress, echo=_echo)
        except KeyboardInterrupt:  # run_suite has said what is saved
            return EXIT_INTERRUPTED
        return _finish_run(args, n_failed)
    finally:
        executor.close()


def cmd_nas(args: argparse.Namespace) -> int:
    import pandas as pd

    from gcbench.nas import (
        DEFAULT_EPOCHS,
        DEFAULT_EVAL_EVERY,
        nas_summary,
        read_study_files,
        run_nas,
    )
    from gcbench.report.render import nas_summary_markdown

    methods = split_list(args.method)
    if not methods:
        raise GCBenchError("no method given")
    paths = []
    for m in methods:
        path, _ = run_nas(m, args.dataset, args.ratio, seed=args.seed, out=args.out, configs=args.configs,
                          epochs=DEFAULT_EPOCHS if args.epochs is None else args.epochs,
                          eval_every=DEFAULT_EVAL_EVERY if args.eval_every is None else args.eval_every,
                          device=args.device, data_root=args.data_root, eval_overrides=eval_options(args.eval),
                          echo=_echo)
        paths.append(path)
        _echo(f"gcbench nas: rows in {path}")
    summ = nas_summary(pd.concat([read_study_files([p]) for p in paths], ignore_index=True))
    print(nas_summary_markdown(summ), end="")
    return 0


def cmd_plot(args: argparse.Namespace) -> int:
    from gcbench.report.figures import plot_all

    formats = tuple(f.lower() for f in split_list(args.formats))
    if not formats:
        raise GCBenchError("no figure format given")
    written, skipped = plot_all(args.results, args.out, formats, echo=_echo)
    for kind, reason in skipped:
        print(f"gcbench plot: skipped {kind}: {reason}", file=sys.stderr)
    print(f"gcbench plot: wrote {len(written)} file(s)", file=sys.stderr)
    return 0


def cmd_leaderboard(args: argparse.Namespace) -> int:
    from gcbench.report.compare import DEFAULT_NAS_TOL, DEFAULT_TOL, DEFAULT_Z
    from gcbench.report.folder import build_folder, check_folder, publish
    from gcbench.report.render import format_console

    if not args.check and (args.against or args.tol is not None or args.nas_tol is not None or args.z is not None
                           or args.strict_figures):
        raise GCBenchError("--against, --tol, --z, --nas-tol and --strict-figures go with --check")
    if args.check and (args.publish or args.out or args.figures):
        raise GCBenchError("--check only reads: it cannot be combined with --publish, -o or --figures")
    if args.publish and (args.out or args.figures):
        raise GCBenchError("--publish writes tables and figures into DEST: drop -o/--figures")
    if args.check:
        tol = DEFAULT_TOL if args.tol is None else args.tol
        nas_tol = DEFAULT_NAS_TOL if args.nas_tol is None else args.nas_tol
        z = DEFAULT_Z if args.z is None else args.z
        if tol < 0 or nas_tol < 0 or z < 0:
            raise GCBenchError("tolerances must be >= 0")
        report = check_folder(args.results, against=args.against, tol=tol, nas_tol=nas_tol, z=z,
                              strict_figures=args.strict_figures)
        for note in report.notes:
            print(f"gcbench check: {note}", file=sys.stderr)
        for problem in report.problems:
            print(f"gcbench check: FAIL {problem}", file=sys.stderr)
        print(f"gcbench check: {'passed' if report.ok else f'failed ({len(report.problems)} problem(s))'}",
              file=sys.stderr)
        return EXIT_OK if report.ok else EXIT_CHECK_FAILED
    if args.suite and not args.publish:
        raise GCBenchError("--suite goes with --publish")
    if args.publish:
        select = keep_nas = None
        if args.suite:
            from gcbench.suite import load_suite

            suite = load_suite(args.suite)
            left: list[str] = []

            def select(rows):  # the suite's complete groups; what is left out is printed below
                kept, out = suite.complete_rows(rows)
                left.extend(out)
                return kept

            def keep_nas(path):  # the suite's complete NAS studies
                why = suite.complete_nas(path)
                if why is not None:
                    left.append(f"NAS {why}")
                return why is None

        written, skipped = publish(args.results, args.publish, echo=_echo, select=select, keep_nas=keep_nas)
        if args.suite:
            for line in left:
                print(f"gcbench: left out {line}", file=sys.stderr)
        for kind, reason in skipped:
            print(f"gcbench plot: skipped {kind}: {reason}", file=sys.stderr)
        print(f"gcbench: published {args.results} to {args.publish} ({len(written)} generated file(s))",
              file=sys.stderr)
        return 0
    src = Path(args.results)
    if src.is_dir():
        out = Path(args.out) if args.out else src / "leaderboard"
        csv_path = src / "results.csv"
    else:
        out = Path(args.out) if args.out else src.parent / "leaderboard"
        csv_path = src
    from gcbench.results import read_results

    df = read_results(csv_path)
    paths, skipped = build_folder(src, out, figures=args.figures, echo=_echo)
    if not args.quiet:
        print(format_console(df))
    for kind, reason in skipped:
        print(f"gcbench plot: skipped {kind}: {reason}", file=sys.stderr)
    print(f"gcbench: wrote {len(paths)} file(s) to {out}", file=sys.stderr)
    return 0


def cmd_list(args: argparse.Namespace) -> int:
    from gcbench.archs import registry
    from gcbench.condensers.base import list_condensers
    from gcbench.data import list_datasets

    if args.config is not None:
        return _list_config(args.config, args.dataset)
    if args.dataset is not None:
        raise GCBenchError("--dataset goes with --config")
    print("methods:")
    for name, cls in list_condensers().items():
        print(f"  {name:<14} {cls.description}")
    print("datasets:")
    for name in list_datasets():
        print(f"  {name}")
    print("architectures:")
    for name, arch in registry().items():
        origin = "" if arch.origin == "gcbench" else f" [{arch.origin}]"
        print(f"  {name:<14} {arch.description}{origin}")
    return 0


def _list_config(spec_text: str, dataset: str | None) -> int:
    """``gcbench list --config``: every option with its resolved value and the layer it came from."""
    from gcbench.condensers.base import MethodSpec, explain_config, method_dirs
    from gcbench.data import check_dataset_spec
    from gcbench.spec import format_value

    spec = MethodSpec(spec_text)
    if dataset is not None:
        dataset = check_dataset_spec(dataset)[0]
    print(f"method {spec.label} ({spec.cls.__module__}:{spec.cls.__qualname__})"
          + (f" on {dataset}" if dataset else " (no dataset: per-dataset sections not applied)"))
    print("searched, later overrides earlier: " + "; ".join(
        f"{layer}: {folder / (spec.base + '.yaml')}{'' if (folder / (spec.base + '.yaml')).is_file() else ' (none)'}"
        for layer, folder in method_dirs(spec.base)))
    resolved = explain_config(spec.cls, dataset, spec.options, spec.base)
    width = max((len(k) for k in resolved), default=0)
    for key, (value, where) in resolved.items():
        print(f"  {key:<{width}} = {format_value(value):<12} # {where}")
    return EXIT_OK


def cmd_docs(args: argparse.Namespace) -> int:
    from gcbench.report.quotes import check_documents, documents, repo_root

    root = Path(args.root) if args.root else repo_root(Path.cwd())
    if not root.is_dir():
        raise GCBenchError(f"--root {root}: not a folder")
    docs = [Path(f) for f in args.files] or documents(root)
    for d in docs:
        if not d.is_file():
            raise GCBenchError(f"document not found: {d}")
    stale = check_documents(docs, root, write=args.write)
    for line in stale:
        _echo(f"gcbench docs: {'updated' if args.write else 'stale'} {line}")
    _echo(f"gcbench docs: {len(docs)} document(s), {len(stale)} stale quote(s)"
          + (" rewritten" if args.write and stale else ""))
    return EXIT_CHECK_FAILED if stale and not args.write else EXIT_OK


def cmd_data(args: argparse.Namespace) -> int:
    from gcbench.data.stats import stats_markdown, stats_table

    table, skipped = stats_table(split_list(args.datasets), args.data_root, split_list(args.archs),
                                 parse_seeds(args.seeds), args.device, eval_options(args.eval))
    print(stats_markdown(table))
    for line in skipped:
        print(f"gcbench data stats: skipped {line}", file=sys.stderr)
    if args.csv:
        table.to_csv(args.csv, index=False)
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.command is None:
        args = parser.parse_args(["run", *(argv or [])])
    handlers = {"run": cmd_run, "nas": cmd_nas, "plot": cmd_plot, "leaderboard": cmd_leaderboard,
                "list": cmd_list, "docs": cmd_docs, "data": cmd_data}
    try:
        return handlers[args.command](args)
    except GCBenchError as exc:
        print(f"gcbench: error: {exc}", file=sys.stderr)
        return EXIT_USAGE
    except BrokenPipeError:
        # the reader went away (`gcbench list | head`): stop quietly; stdout goes to /dev/null so the
        # interpreter's final flush does not raise again
        try:
            devnull = os.open(os.devnull, os.O_WRONLY)
            os.dup2(devnull, sys.stdout.fileno())
        except (OSError, ValueError):
            pass
        return EXIT_BROKEN_PIPE


if __name__ == "__main__":
    sys.exit(main())
