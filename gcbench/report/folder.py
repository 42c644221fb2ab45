"""Leaderboard folders: rows + everything generated from them (``leaderboards/ci/``).

A leaderboard folder holds its rows -- ``results.csv``, ``nas/*.csv`` (one NAS study per file) and
``logs/*.csv`` (per-epoch condensation logs), and ``study.yaml`` where its suite names a study
(:mod:`gcbench.report.study`; the SR-GM study otherwise) -- and what :func:`build_folder` generates from them: the
tables of :func:`write_report` and ``figures/`` (:mod:`gcbench.report.figures`). :func:`check_folder`
regenerates the tables in memory and compares them byte for byte with the committed ones, and optionally
compares the numbers of a fresh run with the committed rows within a tolerance (:mod:`gcbench.report.compare`).
:func:`publish` replaces a folder's rows by those of a run and regenerates everything.
"""

from __future__ import annotations

import shutil
import tempfile
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from gcbench.errors import GCBenchError
from gcbench.nas import nas_summary
from gcbench.report.aggregate import (
    cross_arch_of,
    failed_cells,
    failed_cells_of,
    group_by,
    metric_of,
    summary_of,
    tables_of,
)
from gcbench.report.compare import DEFAULT_NAS_TOL, DEFAULT_TOL, DEFAULT_Z, compare_nas, compare_results
from gcbench.report.costs import FILE as COSTS_FILE
from gcbench.report.costs import costs_markdown, costs_table
from gcbench.report.figures import FORMATS, Plan, plan, render
from gcbench.report.published import FILE as PUBLISHED_FILE
from gcbench.report.published import published_markdown, published_table
from gcbench.report.render import (
    cross_arch_csv,
    cross_arch_markdown,
    markdown_table,
    nas_summary_csv,
    nas_summary_markdown,
    summary_csv,
    to_markdown,
)
from gcbench.report.rows import REFERENCE_METHOD, Prepared, cell_text, fmt_ratio, hash_conflicts, prepare, read_inputs
from gcbench.report.study import STUDY_FILE, Study, default_study, folder_study, report_if_answered
from gcbench.results import ResultsStore, rows_frame, write_rows
from gcbench.util import slug

ROW_DIRS = ("nas", "logs")
FIGURES_DIR = "figures"


# ----------------------------------------------------------------------------------------------------------
# The table files: README, per-dataset tables, cross-architecture, NAS, study


_RESERVED = {"summary", "readme", "cross_arch", "nas", "results"}


def safe_filename(name: str) -> str:
    """``name`` with every character outside ``[A-Za-z0-9._-]`` replaced by ``_`` (never hidden or empty)."""
    out = slug(name, keep="._-")
    if not out or out.startswith("."):
        out = "_" + out
    return out


def _file_stems(datasets: Sequence[str]) -> dict[str, str]:
    used = set(_RESERVED)
    stems = {}
    for ds in datasets:
        base = safe_filename(ds)
        stem, k = base, 2
        while stem.casefold() in used:  # distinct datasets must not share (or clobber) a file
            stem, k = f"{base}_{k}", k + 1
        used.add(stem.casefold())
        stems[ds] = stem
    return stems


def _write(path: Path, text: str) -> Path:
    with open(path, "w", encoding="utf-8", newline="") as fh:
        fh.write(text)
    return path


def _readme(prep: Prepared, tables: dict[tuple[str, str], pd.DataFrame], stems: dict[str, str]) -> str:
    ok = sum(r.ok for r in prep.runs)
    failed = len(prep.runs) - ok
    counts = f"{prep.n_rows} result row(s): {ok} ok, {failed} failed"
    if prep.n_superseded:
        counts += f", {prep.n_superseded} superseded by a rerun of the same seed (ignored)"
    lines = [
        "# gcbench leaderboard",
        "",
        counts + ".",
        "",
        "Scores are test scores in percent, mean ± sample std (ddof=1; ± 0.00 for a single seed) over the",
        "seeds of ok runs; each seed is a separate condensation and evaluation. Bold marks the best mean of",
        "a ratio column (ties all bold); `whole` trains on the full graph and is a reference, never bolded.",
        "`r` is the fraction of training nodes kept; node counts are those of the condensed graph and % is",
        "their share of all nodes of the full graph. Failed runs are left out of the means and listed below.",
        "",
        "## Datasets",
        "",
    ]
    rows = []
    by_ds = group_by(prep.runs, lambda r: r.dataset)
    for ds, runs in by_ds.items():
        archs = [a for (d, a) in tables if d == ds]
        methods = {r.method for r in runs}
        ratios = sorted({r.ratio for r in runs if r.method != REFERENCE_METHOD})
        n_ok = sum(r.ok for r in runs)
        stem = stems[ds]
        rows.append([
            ds,
            metric_of(runs),
            ", ".join(archs),
            len(methods),
            ", ".join(fmt_ratio(q) for q in ratios) or "-",
            n_ok,
            len(runs) - n_ok,
            f"[{stem}.md]({stem}.md), [{stem}.csv]({stem}.csv)",
        ])
    if not by_ds:
        rows.append(["-", "-", "-", 0, "-", 0, 0, "-"])
    lines.append(markdown_table(["dataset", "metric", "archs", "methods", "ratios", "ok runs", "failed runs",
                                 "files"], rows, "lllrlrrl"))
    lines += ["", "## Failed runs", ""]
    fails = failed_cells_of(prep.runs)
    if fails:
        rows = [[f["dataset"], f["arch"], f["method"], f["ratio"] or "-", f["seeds"], f["error"]] for f in fails]
        lines.append(markdown_table(["dataset", "arch", "method", "ratio", "seeds", "error"], rows, "lllrll"))
    else:
        lines.append("No failed runs.")
    lines += ["", "All results: [summary.csv](summary.csv)."]
    return "\n".join(lines) + "\n"


def write_leaderboard(df: pd.DataFrame, outdir: str | Path) -> list[Path]:
    """Write ``summary.csv``, ``<dataset>.csv`` + ``<dataset>.md`` per dataset and ``README.md``.

    File stems are :func:`safe_filename` of the dataset name (suffixed ``_2``, ``_3``... if two datasets
    would share one or would clobber ``summary``/``README``). ``outdir`` is created if needed; other files in
    it are left alone. Returns the written paths in writing order.
    """
    return _write_core(prepare(df), Path(outdir), [], [])


def _write_core(prep: Prepared, outdir: Path, extra_files: list[tuple[str, str]], extra_readme: list[str]
                ) -> list[Path]:
    tables = tables_of(prep)
    full = summary_of(prep)
    outdir.mkdir(parents=True, exist_ok=True)
    datasets = list(dict.fromkeys(r.dataset for r in prep.runs))
    stems = _file_stems(datasets)

    written = [_write(outdir / "summary.csv", summary_csv(full))]
    for ds in datasets:
        stem = stems[ds]
        part = full[full["dataset"] == ds]
        written.append(_write(outdir / f"{stem}.csv", summary_csv(part)))
        md = [f"## {ds}", ""]
        for (d, _arch), table in tables.items():
            if d == ds:
                md += [to_markdown(table)]
        written.append(_write(outdir / f"{stem}.md", "\n".join(md)))
    for name, text in extra_files:
        written.append(_write(outdir / name, text))
    readme = _readme(prep, tables, stems)
    if extra_readme:
        readme += "\n" + "\n".join(extra_readme)
    written.append(_write(outdir / "README.md", readme))
    return written


CROSS_ARCH_FILES = ("cross_arch.csv", "cross_arch.md")
NAS_FILES = ("nas.csv", "nas.md")


def _distinct(df: pd.DataFrame, column: str) -> list[str]:
    if column not in df.columns:
        return []
    return sorted({cell_text(v) for v in df[column].tolist()} - {""})


def report_files(df: pd.DataFrame, nas_rows: pd.DataFrame | None = None,
                 figures: Sequence[str] | None = None, study: Study | None = None,
                 logs: list[tuple[str, pd.DataFrame]] | None = None) -> dict[str, str]:
    """Every file :func:`write_report` writes, as ``{name: text}`` (a pure function of the inputs)."""
    with tempfile.TemporaryDirectory() as tmp:
        paths = write_report(df, tmp, nas_rows=nas_rows, figures=figures, study=study, logs=logs)
        return {p.name: p.read_text(encoding="utf-8") for p in paths}


def write_report(df: pd.DataFrame, outdir: str | Path, *, nas_rows: pd.DataFrame | None = None,
                 figures: Sequence[str] | None = None, study: Study | None = None,
                 logs: list[tuple[str, pd.DataFrame]] | None = None) -> list[Path]:
    """:func:`write_leaderboard` plus, where the data has them, ``cross_arch.csv``/``.md`` (see
    :func:`~gcbench.report.aggregate.cross_arch_tables`), ``nas.csv``/``.md`` (study summaries of
    :mod:`gcbench.nas`), ``published.md`` (cells beside the numbers their papers published,
    :mod:`gcbench.report.published`), ``costs.md`` (what each cell cost and made,
    :mod:`gcbench.report.costs`) and ``study.md`` (the verdicts of ``study``, by default the SR-GM study,
    :func:`gcbench.report.study.report`, where the rows answer a question); the README gains sections for
    them, an index of ``figures`` (file stems relative to ``outdir``, without extension; each has a ``.png``
    and an ``.svg``) and the devices and package versions recorded in the rows."""
    prep = prepare(df)
    extra_files: list[tuple[str, str]] = []
    sections: list[str] = []
    cross = cross_arch_of(prep)
    if cross:
        md = ["## Cross-architecture", ""] + [cross_arch_markdown(t) for t in cross.values()]
        extra_files += [("cross_arch.csv", cross_arch_csv(cross)), ("cross_arch.md", "\n".join(md))]
        lines = [
            "## Cross-architecture",
            "",
            "Each condensed graph (one per method, ratio and seed) is evaluated with every architecture listed;",
            "`whole` is the reference row: each architecture trained on the full graph. `avg` is the mean over",
            "the architectures. Tables: [cross_arch.md](cross_arch.md), [cross_arch.csv](cross_arch.csv).",
            "",
        ]
        rows = [[dataset, t.attrs["label"], ", ".join(t.attrs["archs"]),
                 sum(1 for m in t.index if m != REFERENCE_METHOD)] for (dataset, _q), t in cross.items()]
        lines.append(markdown_table(["dataset", "ratio", "architectures", "methods"], rows, "lllr"))
        sections.append("\n".join(lines) + "\n")
    if nas_rows is not None and len(nas_rows):
        nsum = nas_summary(nas_rows)
        extra_files += [("nas.csv", nas_summary_csv(nsum)), ("nas.md", "## NAS\n\n" + nas_summary_markdown(nsum))]
        sections.append(
            "## NAS\n\n"
            f"{len(nsum)} stud(ies) of {len(nas_rows)} configuration run(s): rank correlation between training on\n"
            "the condensed and on the full graph, and the full-graph score of the configuration chosen on the\n"
            "condensed graph. Tables: [nas.md](nas.md), [nas.csv](nas.csv); one row per configuration in `nas/`.\n")
    published_md = published_markdown(published_table(df))
    if published_md is not None:
        extra_files.append((PUBLISHED_FILE, published_md))
        sections.append("## Published numbers\n\n"
                        "The cells whose method runs its default configuration beside the numbers its paper published "
                        f"(the method cards' `published` tables): [{PUBLISHED_FILE}]({PUBLISHED_FILE}).\n")
    costs_md = costs_markdown(costs_table(df))
    if costs_md is not None:
        extra_files.append((COSTS_FILE, costs_md))
        sections.append("## Costs\n\n"
                        "Condensation and evaluation seconds, epochs run, peak memory and the condensed graphs' sizes "
                        f"per method and ratio, from the rows: [{COSTS_FILE}]({COSTS_FILE}).\n")
    study = study or default_study()
    study_md = report_if_answered(df, study, logs, nas_rows)
    if study_md is not None:
        extra_files.append(("study.md", study_md))
        about = study.description or "Seed-paired comparisons in [study.md](study.md)."
        sections.append(f"## {study.title}\n\n{about}\n")
    if figures:
        stems = list(dict.fromkeys(str(f) for f in figures))  # stems: names may contain dots (r0.5)
        lines = ["## Figures", "", "PNG and SVG of each (`gcbench plot`):", ""]
        lines += [f"* [{Path(s).name}]({s}.png) ([svg]({s}.svg))" for s in stems]
        sections.append("\n".join(lines) + "\n")
    devices, versions = _distinct(df, "device"), _distinct(df, "versions")
    if devices or versions:
        lines = ["## Provenance", ""]
        if devices:
            lines.append("Devices: " + ", ".join(f"`{d}`" for d in devices) + ".")
        if versions:
            lines.append("Versions: " + ", ".join(f"`{v}`" for v in versions) + ".")
        sections.append("\n".join(lines) + "\n")
    return _write_core(prep, Path(outdir), extra_files, sections)


# ----------------------------------------------------------------------------------------------------------
# Build, publish, check


def build_folder(src: str | Path, out: str | Path, *, figures: bool = True,
                 formats: tuple[str, ...] | None = None, echo=None) -> tuple[list[Path], list[tuple[str, str]]]:
    """Tables (and figures) of the results folder ``src`` written to ``out``; returns (paths, skipped plots)."""
    formats = formats or FORMATS
    inputs = read_inputs(src)
    if inputs.results is None:
        raise GCBenchError(f"no results.csv in {src}")
    src_dir = Path(src) if Path(src).is_dir() else Path(src).parent
    out = Path(out)
    p = plan(inputs) if figures else Plan()
    names = [f"{FIGURES_DIR}/{f.name}" for f in p.figures]
    written = write_report(inputs.results, out, nas_rows=inputs.nas, figures=names, study=folder_study(src_dir),
                           logs=inputs.logs)
    for f in p.figures:
        paths = render(f, out / FIGURES_DIR, formats)
        written += paths
        if echo:
            echo(f"gcbench: figure {f.kind:<15} {out / FIGURES_DIR / f.name}.{{{','.join(formats)}}}")
    return written, p.skipped


def publish(run: str | Path, dest: str | Path, *, echo=None,
            select: Callable[[pd.DataFrame], pd.DataFrame] | None = None,
            keep_nas: Callable[[Path], bool] | None = None) -> tuple[list[Path], list[tuple[str, str]]]:
    """Replace the rows of the leaderboard folder ``dest`` by those of the results folder ``run`` and
    regenerate everything in ``dest`` (tables and figures). ``dest`` must be new, empty or a leaderboard
    folder (it has a ``results.csv``); only rows, tables and figures are removed from it. ``select`` keeps
    a subset of the rows (e.g. a suite's complete groups, :meth:`gcbench.suite.Suite.complete_rows`); the
    per-epoch logs of the cells it drops are not copied; ``keep_nas`` (a NAS study file of ``run`` -> keep
    it?) does the same for the NAS studies."""
    run, dest = Path(run), Path(dest)
    if not (run / "results.csv").is_file():
        raise GCBenchError(f"no results.csv in {run}")
    read_inputs(run)  # malformed rows, NAS files, logs or study file are an error before anything is touched
    folder_study(run)
    if dest.exists() and not dest.is_dir():
        raise GCBenchError(f"{dest} is not a folder")
    if dest.exists() and any(dest.iterdir()) and not (dest / "results.csv").is_file():
        raise GCBenchError(f"{dest} is not empty and has no results.csv: not a leaderboard folder, left alone")
    if dest.resolve() == run.resolve():
        raise GCBenchError("publish: the run folder and the destination are the same")
    kept: list[dict[str, str]] | None = None
    keep_log: Callable[[str], bool] = lambda stem: True  # noqa: E731
    if select is not None:  # before anything in dest is touched
        raw = ResultsStore(run / "results.csv").rows
        kept = [raw[i] for i in select(rows_frame(raw)).index]
        if not kept:
            raise GCBenchError(f"publish: no rows of {run} are selected; nothing to publish")
        cells = {"__".join((slug(r["method"]), slug(r["dataset"]), f"r{float(r['ratio']):g}" if r["ratio"] else "full",
                            f"s{int(float(r['seed']))}")) for r in kept}
        keep_log = lambda stem: "__".join(stem.split("__")[:4]) in cells  # noqa: E731
    dest.mkdir(parents=True, exist_ok=True)
    for p in list(dest.glob("*.csv")) + list(dest.glob("*.md")):
        p.unlink()
    for sub, pattern in (("nas", "*.csv"), ("logs", "*.csv"), (FIGURES_DIR, "*.png"), (FIGURES_DIR, "*.svg"),
                         (FIGURES_DIR, "*.pdf")):
        for p in (dest / sub).glob(pattern):
            p.unlink()
    if kept is None:
        shutil.copyfile(run / "results.csv", dest / "results.csv")
    else:
        write_rows(kept, dest / "results.csv")
    if (run / STUDY_FILE).is_file():
        shutil.copyfile(run / STUDY_FILE, dest / STUDY_FILE)
    elif (dest / STUDY_FILE).is_file():
        (dest / STUDY_FILE).unlink()
    for sub in ROW_DIRS:
        for p in sorted((run / sub).glob("*.csv")):
            if (sub == "logs" and not keep_log(p.stem)) or (sub == "nas" and keep_nas and not keep_nas(p)):
                continue
            (dest / sub).mkdir(parents=True, exist_ok=True)
            shutil.copyfile(p, dest / sub / p.name)
    return build_folder(dest, dest, echo=echo)


@dataclass
class CheckReport:
    problems: list[str]
    notes: list[str]

    @property
    def ok(self) -> bool:
        return not self.problems


def _failed_lines(df: pd.DataFrame, where: str) -> list[str]:
    out = []
    for f in failed_cells(df):
        r = f" r={f['ratio']}" if f["ratio"] else ""
        out.append(f"{where}: failed row(s) {f['dataset']}/{f['arch']}/{f['method']}{r} seed(s) {f['seeds']}: "
                   f"{f['error']}")
    return out


def check_folder(folder: str | Path, *, against: str | Path | None = None, tol: float = DEFAULT_TOL,
                 nas_tol: float = DEFAULT_NAS_TOL, z: float = DEFAULT_Z, strict_figures: bool = False
                 ) -> CheckReport:
    """Check a leaderboard folder (see the module docstring).

    Problems: a failed row; a generated table missing, different from what the rows produce, or left over
    (a file the rows do not produce); a figure missing or left over (by name; with ``strict_figures`` the
    SVG bytes too). With ``against`` (a results folder of a fresh run of the same suite) also: a failed row
    in the run, a cell (dataset, arch, method, ratio) or NAS study present on one side only or with another
    seed/configuration count, a cell mean further away than ``max(tol, z * SE)`` points (``SE`` =
    ``sqrt((sd_committed**2 + sd_run**2) / n_seeds)``, the standard error of the difference of two means over
    the cell's seeds: cells whose seeds scatter widely are not flagged for a move their own spread explains;
    ``z=0`` is the plain ``tol`` rule), a NAS rank correlation more than ``nas_tol`` away, a NAS study's mean
    full-graph test score over the configurations more than ``tol`` points away, or its mean condensed-graph
    test score further than ``max(tol, z * SE)`` (one condensed graph each side: ``SE`` from the seed spread
    of the method's cells at that dataset and ratio, see :func:`gcbench.report.compare.compare_nas`).
    """
    folder = Path(folder)
    problems: list[str] = []
    notes: list[str] = []
    if not folder.is_dir():
        raise GCBenchError(f"leaderboard folder not found: {folder}")
    inputs = read_inputs(folder)
    if inputs.results is None:
        raise GCBenchError(f"no results.csv in {folder}")
    conflicts = hash_conflicts(inputs.results)
    if conflicts:  # no table can be produced from these rows
        return CheckReport([f"{folder / 'results.csv'}: {c}" for c in conflicts], notes)
    problems += _failed_lines(inputs.results, str(folder / "results.csv"))
    p = plan(inputs)
    figure_names = [f"{FIGURES_DIR}/{f.name}" for f in p.figures]
    expected = report_files(inputs.results, inputs.nas, figure_names, folder_study(folder), inputs.logs)
    for name, text in expected.items():
        path = folder / name
        if not path.is_file():
            problems.append(f"{path}: missing (the rows produce it)")
        elif path.read_bytes() != text.encode("utf-8"):
            problems.append(f"{path}: differs from what the committed rows produce")
    want_figs = set(p.names())
    have_figs = {q.name for q in (folder / FIGURES_DIR).glob("*") if q.is_file() and not q.name.startswith(".")}
    for name in sorted(want_figs - have_figs):
        problems.append(f"{folder / FIGURES_DIR / name}: missing (the rows produce it)")
    for name in sorted(have_figs - want_figs):
        problems.append(f"{folder / FIGURES_DIR / name}: not produced by the rows (stale)")
    if strict_figures and want_figs <= have_figs:
        with tempfile.TemporaryDirectory() as tmp:
            for f in p.figures:
                (svg,) = render(f, Path(tmp), ("svg",))
                if svg.read_bytes() != (folder / FIGURES_DIR / svg.name).read_bytes():
                    problems.append(f"{folder / FIGURES_DIR / svg.name}: differs from the regenerated figure")
    allowed = set(expected) | {"results.csv", STUDY_FILE}
    for q in sorted(folder.rglob("*")):
        rel = q.relative_to(folder)
        if not q.is_file() or any(part.startswith(".") for part in rel.parts):
            continue
        top = rel.parts[0]
        if len(rel.parts) == 1 and rel.name in allowed:
            continue
        if len(rel.parts) == 2 and top in ROW_DIRS and rel.suffix == ".csv":
            continue
        if len(rel.parts) == 2 and top == FIGURES_DIR:
            continue  # checked above
        problems.append(f"{q}: not produced by the rows and not a row file (stale or stray)")
    notes.append(f"{folder}: {len(expected)} table file(s) and {len(want_figs)} figure file(s) checked against "
                 f"{len(inputs.results)} row(s)" + (f" and {len(inputs.nas)} NAS row(s)" if inputs.nas is not None
                                                    else ""))
    if against is not None:
        run = read_inputs(against)
        if run.results is None:
            raise GCBenchError(f"no results.csv in {against}")
        problems += _failed_lines(run.results, f"{Path(against) / 'results.csv'}")
        compare_results(inputs.results, run.results, tol, z, problems, notes)
        compare_nas(inputs.nas, run.nas, tol, nas_tol, problems, notes, z, inputs.results, run.results)
    return CheckReport(problems, notes)
