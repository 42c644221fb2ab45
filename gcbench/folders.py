"""Leaderboard folders: rows + everything generated from them (``leaderboards/ci/``).

A leaderboard folder holds its rows -- ``results.csv``, ``nas/*.csv`` (one NAS study per file) and
``logs/*.csv`` (per-epoch condensation logs) -- and what :func:`build_folder` generates from them: the
tables of :func:`gcbench.leaderboard.write_report` and ``figures/`` (:mod:`gcbench.plots`).
:func:`check_folder` regenerates the tables in memory and compares them byte for byte with the committed
ones, and optionally compares the numbers of a fresh run with the committed rows within a tolerance.
:func:`publish` replaces a folder's rows by those of a run and regenerates everything.
"""

from __future__ import annotations

import math
import shutil
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd

from gcbench import plots
from gcbench.errors import GCBenchError
from gcbench.leaderboard import (
    arch_key,
    failed_cells,
    fmt_ratio,
    hash_conflicts,
    method_key,
    report_files,
    summary,
    write_report,
)
from gcbench.nas import nas_summary
from gcbench.util import natural_key

ROW_DIRS = ("nas", "logs")
FIGURES_DIR = "figures"
DEFAULT_TOL = 3.0  # points (percent) on a cell's mean test score
DEFAULT_NAS_TOL = 0.15  # on Spearman's rho and Kendall's tau
DEFAULT_Z = 3.0  # a cell mean may also move by up to this many standard errors of the difference


def build_folder(src: str | Path, out: str | Path, *, figures: bool = True,
                 formats: tuple[str, ...] | None = None, echo=None) -> tuple[list[Path], list[tuple[str, str]]]:
    """Tables (and figures) of the results folder ``src`` written to ``out``; returns (paths, skipped plots)."""
    formats = formats or plots.FORMATS
    inputs = plots.read_inputs(src)
    if inputs.results is None:
        raise GCBenchError(f"no results.csv in {src}")
    out = Path(out)
    p = plots.plan(inputs) if figures else plots.Plan()
    names = [f"{FIGURES_DIR}/{f.name}" for f in p.figures]
    written = write_report(inputs.results, out, nas_rows=inputs.nas, figures=names)
    for f in p.figures:
        paths = plots.render(f, out / FIGURES_DIR, formats)
        written += paths
        if echo:
            echo(f"gcbench: figure {f.kind:<15} {out / FIGURES_DIR / f.name}.{{{','.join(formats)}}}")
    return written, p.skipped


def publish(run: str | Path, dest: str | Path, *, echo=None) -> tuple[list[Path], list[tuple[str, str]]]:
    """Replace the rows of the leaderboard folder ``dest`` by those of the results folder ``run`` and
    regenerate everything in ``dest`` (tables and figures). ``dest`` must be new, empty or a leaderboard
    folder (it has a ``results.csv``); only rows, tables and figures are removed from it."""
    run, dest = Path(run), Path(dest)
    if not (run / "results.csv").is_file():
        raise GCBenchError(f"no results.csv in {run}")
    plots.read_inputs(run)  # malformed rows, NAS files or logs are an error before anything is touched
    if dest.exists() and not dest.is_dir():
        raise GCBenchError(f"{dest} is not a folder")
    if dest.exists() and any(dest.iterdir()) and not (dest / "results.csv").is_file():
        raise GCBenchError(f"{dest} is not empty and has no results.csv: not a leaderboard folder, left alone")
    if dest.resolve() == run.resolve():
        raise GCBenchError("publish: the run folder and the destination are the same")
    dest.mkdir(parents=True, exist_ok=True)
    for p in list(dest.glob("*.csv")) + list(dest.glob("*.md")):
        p.unlink()
    for sub, pattern in (("nas", "*.csv"), ("logs", "*.csv"), (FIGURES_DIR, "*.png"), (FIGURES_DIR, "*.svg"),
                         (FIGURES_DIR, "*.pdf")):
        for p in (dest / sub).glob(pattern):
            p.unlink()
    shutil.copyfile(run / "results.csv", dest / "results.csv")
    for sub in ROW_DIRS:
        for p in sorted((run / sub).glob("*.csv")):
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
    ``z=0`` is the plain ``tol`` rule), a NAS rank correlation more than ``nas_tol`` away or a NAS study's
    mean condensed/full test score over the configurations more than ``tol`` points away.
    """
    folder = Path(folder)
    problems: list[str] = []
    notes: list[str] = []
    if not folder.is_dir():
        raise GCBenchError(f"leaderboard folder not found: {folder}")
    inputs = plots.read_inputs(folder)
    if inputs.results is None:
        raise GCBenchError(f"no results.csv in {folder}")
    conflicts = hash_conflicts(inputs.results)
    if conflicts:  # no table can be produced from these rows
        return CheckReport([f"{folder / 'results.csv'}: {c}" for c in conflicts], notes)
    problems += _failed_lines(inputs.results, str(folder / "results.csv"))
    p = plots.plan(inputs)
    figure_names = [f"{FIGURES_DIR}/{f.name}" for f in p.figures]
    expected = report_files(inputs.results, inputs.nas, figure_names)
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
                (svg,) = plots.render(f, Path(tmp), ("svg",))
                if svg.read_bytes() != (folder / FIGURES_DIR / svg.name).read_bytes():
                    problems.append(f"{folder / FIGURES_DIR / svg.name}: differs from the regenerated figure")
    allowed = set(expected) | {"results.csv"}
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
        run = plots.read_inputs(against)
        if run.results is None:
            raise GCBenchError(f"no results.csv in {against}")
        problems += _failed_lines(run.results, f"{Path(against) / 'results.csv'}")
        _compare_results(inputs.results, run.results, tol, z, problems, notes)
        _compare_nas(inputs.nas, run.nas, tol, nas_tol, problems, notes)
    return CheckReport(problems, notes)


def _cell_name(key: tuple) -> str:
    ds, arch, method, ratio = key
    return f"{ds}/{arch}/{method}" + (f" r={ratio}" if ratio else "")


def _compare_results(old: pd.DataFrame, new: pd.DataFrame, tol: float, z: float, problems: list[str],
                     notes: list[str]) -> None:
    def cells(df: pd.DataFrame) -> dict[tuple, tuple[float, float, int]]:
        s = summary(df)
        return {(r["dataset"], r["arch"], r["method"], "" if math.isnan(r["ratio"]) else fmt_ratio(r["ratio"])):
                (float(r["mean"]), float(r["std"]), int(r["n_seeds"])) for r in s.to_dict("records")}

    a, b = cells(old), cells(new)
    worst: tuple[float, tuple] | None = None
    relaxed = 0
    for key in sorted(set(a) | set(b), key=lambda k: (natural_key(k[0]), arch_key(k[1]), method_key(k[2]), k[3])):
        if key not in b:
            problems.append(f"cell {_cell_name(key)}: in the committed rows, not produced by the run")
            continue
        if key not in a:
            problems.append(f"cell {_cell_name(key)}: produced by the run, not in the committed rows "
                            "(regenerate the leaderboard)")
            continue
        (ma, sa, na), (mb, sb, nb) = a[key], b[key]
        if na != nb:
            problems.append(f"cell {_cell_name(key)}: {nb} ok seed(s) in the run, {na} committed")
            continue
        if math.isnan(ma) or math.isnan(mb):
            continue
        diff = mb - ma
        if worst is None or abs(diff) > abs(worst[0]):
            worst = (diff, key)
        se = math.sqrt(((0.0 if math.isnan(sa) else sa) ** 2 + (0.0 if math.isnan(sb) else sb) ** 2) / na)
        allowed = max(tol, z * se)
        if abs(diff) > allowed:
            problems.append(f"cell {_cell_name(key)}: mean test score {mb:.2f} in the run vs {ma:.2f} committed "
                            f"(difference {diff:+.2f} points; allowed {allowed:.2f} = max({tol:g}, {z:g} x standard "
                            f"error {se:.2f}))")
        elif abs(diff) > tol:
            relaxed += 1
    if worst is not None:
        notes.append(f"{len(set(a) & set(b))} cell mean(s) compared with the run; largest difference "
                     f"{worst[0]:+.2f} points ({_cell_name(worst[1])}); tolerance {tol:g} points or {z:g} standard "
                     f"errors of the difference, whichever is larger"
                     + (f" ({relaxed} cell(s) beyond {tol:g} points but within {z:g} standard errors)" if relaxed
                        else ""))
    def hashes(df: pd.DataFrame) -> set[tuple[str, str, str]]:
        col = df["config_hash"] if "config_hash" in df.columns else [""] * len(df)
        return {(str(m), str(d), str(h)) for m, d, h in zip(df["method"], df["dataset"], col)}

    changed = sorted({(m, d) for m, d, _ in hashes(old) ^ hashes(new)})
    if changed:
        notes.append("config hash differs between the committed rows and the run for: "
                     + ", ".join(f"{m} on {d}" for m, d in changed)
                     + " (a method or evaluation setting changed; numbers were compared all the same)")


def _compare_nas(old: pd.DataFrame | None, new: pd.DataFrame | None, tol: float, nas_tol: float,
                 problems: list[str], notes: list[str]) -> None:
    if old is None and new is None:
        return

    def studies(df: pd.DataFrame | None) -> dict[tuple, dict[str, Any]]:
        if df is None or df.empty:
            return {}
        s = nas_summary(df)
        means = df.groupby(["dataset", "ratio", "method", "seed"])[["cond_test", "full_test"]].mean()
        out = {}
        for r in s.to_dict("records"):
            key = (r["dataset"], fmt_ratio(r["ratio"]), r["method"], int(r["seed"]))
            m = means.loc[(r["dataset"], r["ratio"], r["method"], r["seed"])]
            out[key] = {**r, "mean_cond_test": 100.0 * float(m["cond_test"]),
                        "mean_full_test": 100.0 * float(m["full_test"])}
        return out

    a, b = studies(old), studies(new)
    worst = 0.0
    for key in sorted(set(a) | set(b), key=lambda k: (natural_key(k[0]), k[1], method_key(k[2]), k[3])):
        name = f"NAS {key[2]} on {key[0]} r={key[1]} seed {key[3]}"
        if key not in b:
            problems.append(f"{name}: committed, not produced by the run")
            continue
        if key not in a:
            problems.append(f"{name}: produced by the run, not committed (regenerate the leaderboard)")
            continue
        sa, sb = a[key], b[key]
        if sa["n_configs"] != sb["n_configs"] or sa["epochs"] != sb["epochs"]:
            problems.append(f"{name}: {sb['n_configs']} configurations x {sb['epochs']} epochs in the run, "
                            f"{sa['n_configs']} x {sa['epochs']} committed")
            continue
        for stat in ("spearman", "kendall"):
            va, vb = float(sa[stat]), float(sb[stat])
            if math.isnan(va) != math.isnan(vb) or (not math.isnan(va) and abs(vb - va) > nas_tol):
                problems.append(f"{name}: {stat} {vb:.3f} in the run vs {va:.3f} committed (tolerance {nas_tol:g})")
            elif not math.isnan(va):
                worst = max(worst, abs(vb - va))
        for stat in ("mean_cond_test", "mean_full_test"):
            va, vb = sa[stat], sb[stat]
            if abs(vb - va) > tol:
                problems.append(f"{name}: {stat.replace('_', ' ')} over the configurations {vb:.2f} in the run vs "
                                f"{va:.2f} committed (tolerance {tol:g} points)")
        if sa["chosen_id"] != sb["chosen_id"]:
            notes.append(f"{name}: the run chose configuration {sb['chosen_id']} ({sb['chosen_config']}), the "
                         f"committed rows {sa['chosen_id']} ({sa['chosen_config']})")
    if set(a) & set(b):
        notes.append(f"{len(set(a) & set(b))} NAS stud(ies) compared with the run; largest rank-correlation "
                     f"difference {worst:.3f} (tolerance {nas_tol:g})")
