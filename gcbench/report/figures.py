"""The plot gallery: every figure the data of a results folder allows, PNG and SVG.

``gcbench plot DIR`` reads ``DIR/results.csv``, the NAS studies in ``DIR/nas/`` and the per-epoch logs in
``DIR/logs/`` and writes to ``DIR/figures/`` (or ``-o``):

==============================================  =============================================================
``score_vs_ratio__<dataset>__<arch>``           test score vs ratio per method, mean ± std over seeds
                                                (error bars); ``whole`` as a dashed line with its band
``cross_arch__<dataset>__r<ratio>``             heatmap methods x evaluation architectures, ``whole`` last
``nas__<dataset>__r<ratio>``                    NAS: condensed- vs full-graph validation score per
                                                configuration, one panel per method, chosen/best marked
``cost_quality__<dataset>__<arch>``             mean condensation seconds (log) vs mean test score per
                                                method and ratio, with the cost/quality (Pareto) frontier
``convergence__<dataset>``                      matching loss vs epoch, validation score vs epoch (mean
                                                over seeds) and vs seconds (each seed) from ``logs/*.csv``
``diagnostics__<dataset>``                      SR-GM's per-epoch diagnostics: share of synthetic nodes
                                                whose modality gradients conflict, mean cosine between
                                                the modality blocks, edges of ``A'`` (mean over seeds)
``ablation__<method>__<dataset>__<arch>``       bars per variant of one method (``srgm``,
                                                ``srgm:decouple=false``...) and ratio, mean ± 95 % CI
``conflict_level__<dataset>__<arch>``           test score vs the generated features' cross-modal
                                                conflict level (``conflict_frac``; datasets that differ
                                                only in it), one panel per ratio, mean ± 95 % CI
==============================================  =============================================================

:func:`plan` decides from the data alone which figures exist and why the others are skipped, so the
list is a pure function of the rows (``gcbench leaderboard --check`` compares it with the committed
figures); each kind is drawn by :mod:`gcbench.report.figure_kinds`. Intervals are Student-t 95 %
intervals over seeds (:mod:`gcbench.stats`). Style: seaborn ``whitegrid``, the colour-blind-safe
``colorblind`` palette with one fixed colour and marker per method across all figures (``whole`` black),
``viridis`` for heatmaps; Agg backend, no pyplot state. SVG files are deterministic (``svg.hashsalt`` fixed,
no date); PNG files carry no software/version stamp.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path
from typing import Any

import pandas as pd

from gcbench.errors import GCBenchError
from gcbench.report.aggregate import cross_arch_tables
from gcbench.report.figure_kinds import (
    DIAGNOSTICS,
    REFERENCE,
    Style,
    draw_ablation,
    draw_conflict_level,
    draw_convergence,
    draw_cost_quality,
    draw_cross_arch,
    draw_diagnostics,
    draw_nas,
    draw_score_vs_ratio,
)
from gcbench.report.rows import Inputs, conflict_levels, fmt_ratio, log_frame, ok_rows, read_inputs
from gcbench.util import atomic_write, natural_key, slug

FORMATS = ("png", "svg")
RC = {
    "svg.hashsalt": "gcbench",
    "svg.fonttype": "path",
    "font.size": 9,
    "axes.titlesize": 10,
    "axes.labelsize": 9,
    "legend.fontsize": 8,
    "xtick.labelsize": 8,
    "ytick.labelsize": 8,
    "figure.dpi": 100,
    "savefig.dpi": 150,
    "savefig.bbox": "tight",
}


@dataclass
class Figure:
    name: str  # file stem, relative to the figures folder
    kind: str
    title: str
    draw: Callable[[Any], None]  # draws into a matplotlib Figure


@dataclass
class Plan:
    figures: list[Figure] = field(default_factory=list)
    skipped: list[tuple[str, str]] = field(default_factory=list)  # (kind, reason)

    def names(self, formats: tuple[str, ...] = FORMATS) -> list[str]:
        return [f"{f.name}.{ext}" for f in self.figures for ext in formats]



# --------------------------------------------------------------------------------------------------- plan
def plan(inputs: Inputs) -> Plan:
    """Which figures the data allows (in a fixed order), and which kinds are skipped and why."""
    out = Plan()
    res = inputs.results
    ok = ok_rows(res) if res is not None and len(res) else None
    methods = sorted(set(ok["method"])) if ok is not None else []
    nas_methods = sorted(set(inputs.nas["method"].astype(str))) if inputs.nas is not None else []
    style = Style(methods + nas_methods)
    no_rows = "no results.csv rows" if res is None or not len(res) else "no ok rows in results.csv"

    # score vs ratio (and cost / quality below): per (dataset, arch); where some architecture of a dataset
    # has two or more ratios, the single-ratio ones (a cross-architecture grid) are left to the heatmap
    main_archs = _main_archs(ok) if ok is not None and not ok.empty else {}
    if ok is None or ok.empty:
        out.skipped.append(("score_vs_ratio", no_rows))
    else:
        for (ds, arch), g in _groups(ok, ["dataset", "arch"]):
            if (g["method"] != REFERENCE).any() and arch in main_archs[ds]:
                out.figures.append(Figure(f"score_vs_ratio__{slug(ds)}__{slug(arch)}", "score_vs_ratio",
                                          f"{ds} — {arch}", draw_score_vs_ratio(g, ds, arch, style)))
        if not any(f.kind == "score_vs_ratio" for f in out.figures):
            out.skipped.append(("score_vs_ratio", "only whole-graph rows"))
        out.skipped += _single_ratio_skips("score_vs_ratio", ok, main_archs)

    # cross-architecture heatmaps
    tables = cross_arch_tables(res) if res is not None and len(res) else {}
    if not tables:
        out.skipped.append(("cross_arch", no_rows if ok is None or ok.empty
                            else "no dataset/ratio was evaluated with two or more architectures"))
    for (ds, q), t in tables.items():
        out.figures.append(Figure(f"cross_arch__{slug(ds)}__r{fmt_ratio(q)}", "cross_arch",
                                  f"{ds}, {t.attrs['label']}", draw_cross_arch(t)))

    # NAS scatter
    if inputs.nas is None or inputs.nas.empty:
        out.skipped.append(("nas", "no NAS results (nas/*.csv: run `gcbench nas` or a suite with a nas: section)"))
    else:
        nas = inputs.nas.copy()
        nas["ratio"] = nas["ratio"].astype(float)
        for (ds, q), g in _groups(nas, ["dataset", "ratio"]):
            out.figures.append(Figure(f"nas__{slug(ds)}__r{fmt_ratio(q)}", "nas", f"NAS {ds}, r={fmt_ratio(q)}",
                                      draw_nas(g, ds, q, style)))

    # cost / quality
    if ok is None or ok.empty:
        out.skipped.append(("cost_quality", no_rows))
    else:
        timed = ok[(ok["method"] != REFERENCE) & ok["condense_s"].notna()]
        if timed.empty:
            out.skipped.append(("cost_quality", "no condensation times (condense_s) in the rows"))
        for (ds, arch), g in _groups(timed, ["dataset", "arch"]):
            if arch not in main_archs[ds]:
                continue
            ref = ok[(ok["dataset"] == ds) & (ok["arch"] == arch) & (ok["method"] == REFERENCE)]
            out.figures.append(Figure(f"cost_quality__{slug(ds)}__{slug(arch)}", "cost_quality",
                                      f"{ds} — {arch}", draw_cost_quality(g, ref, ds, arch, style)))
        out.skipped += _single_ratio_skips("cost_quality", timed, main_archs)

    # convergence
    logs = log_frame(inputs.logs, methods, sorted(set(ok["dataset"])) if ok is not None else [], DIAGNOSTICS)
    if logs.empty:
        out.skipped.append(("convergence", "no per-epoch logs (logs/*.csv; written by gradient-matching methods)"))
    else:
        for (ds,), g in _groups(logs, ["dataset"]):
            out.figures.append(Figure(f"convergence__{slug(ds)}", "convergence", f"convergence {ds}",
                                      draw_convergence(g, ds, style)))

    # SR-GM diagnostics
    diag = logs[logs["conflict_frac"].notna()] if not logs.empty else logs
    if diag.empty:
        out.skipped.append(("diagnostics", "no per-epoch conflict diagnostics (logs of srgm / srgm-plus)"))
    else:
        for (ds,), _g in _groups(diag, ["dataset"]):
            g = logs[logs["dataset"] == ds]  # GCond's logs of the dataset join the edge panel
            out.figures.append(Figure(f"diagnostics__{slug(ds)}", "diagnostics", f"SR-GM diagnostics {ds}",
                                      draw_diagnostics(g, ds, style)))

    # ablation: methods with two or more variants
    found = False
    if ok is not None and not ok.empty:
        base = ok[ok["method"] != REFERENCE].copy()
        base["base"] = base["method"].map(lambda m: str(m).split(":", 1)[0])
        for (b, ds, arch), g in _groups(base, ["base", "dataset", "arch"]):
            if g["method"].nunique() >= 2:
                found = True
                out.figures.append(Figure(f"ablation__{slug(b)}__{slug(ds)}__{slug(arch)}", "ablation",
                                          f"{b} variants, {ds} — {arch}", draw_ablation(g, b, ds, arch, style)))
    if not found:
        out.skipped.append(("ablation", "no method has two or more variants in the rows "
                                        "(e.g. srgm and srgm:decouple=false)"))

    # score vs the cross-modal conflict level of the generated features
    levels = conflict_levels(ok) if ok is not None and not ok.empty else None
    if levels is None or levels.empty:
        out.skipped.append(("conflict_level", "no dataset at two or more conflict_frac levels "
                                              "(e.g. synthetic-ecommerce:conflict_frac=0 and =0.6)"))
    else:
        for (fam, arch), g in _groups(levels, ["family", "arch"]):
            out.figures.append(Figure(f"conflict_level__{slug(fam)}__{slug(arch)}", "conflict_level",
                                      f"{fam} vs conflict level — {arch}", draw_conflict_level(g, fam, arch, style)))
    return out


def _ratio_counts(ok: pd.DataFrame) -> dict[tuple[str, str], int]:
    sub = ok[ok["method"] != REFERENCE]
    return {(str(d), str(a)): int(g["ratio"].nunique()) for (d, a), g in sub.groupby(["dataset", "arch"])}


def _main_archs(ok: pd.DataFrame) -> dict[str, set[str]]:
    """Per dataset the architectures to draw per-arch figures for: those with two or more ratios if any has,
    else all of them."""
    counts = _ratio_counts(ok)
    out: dict[str, set[str]] = {}
    for ds in set(ok["dataset"].astype(str)):
        archs = set(ok[ok["dataset"] == ds]["arch"].astype(str))
        multi = {a for a in archs if counts.get((ds, a), 0) >= 2}
        out[ds] = multi or archs
    return out


def _single_ratio_skips(kind: str, df: pd.DataFrame, main_archs: dict[str, set[str]]) -> list[tuple[str, str]]:
    out = []
    for (ds,), g in _groups(df, ["dataset"]):
        left = sorted(set(g["arch"].astype(str)) - main_archs.get(ds, set()), key=natural_key)
        if left:
            out.append((kind, f"{ds}: {', '.join(left)} evaluated at one ratio only (see the cross_arch heatmap)"))
    return out


def _groups(df: pd.DataFrame, keys: list[str]):
    """Groups in natural order of their keys (deterministic, independent of row order)."""
    if df.empty:
        return []
    grouped = {k if isinstance(k, tuple) else (k,): g for k, g in df.groupby(keys, sort=False)}
    order = sorted(grouped, key=lambda k: tuple(natural_key(v) if isinstance(v, str) else (float(v),) for v in k))
    return [(k, grouped[k]) for k in order]


# ---------------------------------------------------------------------------------------------- writing
def render(figure: Figure, out_dir: Path, formats: tuple[str, ...] = FORMATS) -> list[Path]:
    """Draw one figure and save it in every format (Agg, deterministic SVG, unstamped PNG)."""
    import matplotlib

    matplotlib.use("Agg", force=False)
    import seaborn as sns
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure as MplFigure

    out = []
    out_dir.mkdir(parents=True, exist_ok=True)
    for ext in formats:  # a fresh figure per format: the layout of one save must not leak into the next
        with matplotlib.rc_context(), sns.axes_style("whitegrid"):
            matplotlib.rcParams.update(RC)
            fig = MplFigure(layout="constrained")
            FigureCanvasAgg(fig)
            figure.draw(fig)
            meta: dict[str, Any] = {"Date": None} if ext == "svg" else ({"Software": None} if ext == "png" else {})
            out.append(atomic_write(out_dir / f"{figure.name}.{ext}", partial(fig.savefig, format=ext, metadata=meta)))
    return out


def plot_all(src: str | os.PathLike, out_dir: str | os.PathLike | None = None,
             formats: tuple[str, ...] = FORMATS, echo: Callable[[str], None] | None = None
             ) -> tuple[list[Path], list[tuple[str, str]]]:
    """Write every figure the data of ``src`` allows into ``out_dir`` (default ``<folder>/figures``).

    Returns the written paths and the skipped kinds with their reasons.
    """
    for ext in formats:
        if ext not in ("png", "svg", "pdf"):
            raise GCBenchError(f"unknown figure format {ext!r}; known: png, svg, pdf")
    inputs = read_inputs(src)
    folder = Path(src) if Path(src).is_dir() else Path(src).parent
    out = Path(out_dir) if out_dir is not None else folder / "figures"
    p = plan(inputs)
    written: list[Path] = []
    for f in p.figures:
        written += render(f, out, formats)
        if echo:
            echo(f"gcbench plot: {f.kind:<15} {out / f.name}.{{{','.join(formats)}}}")
    return written, p.skipped
