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
figures). Intervals are Student-t 95 % intervals over seeds (:mod:`gcbench.stats`). Style: seaborn
``whitegrid``, the colour-blind-safe ``colorblind`` palette with one fixed colour and marker per method
across all figures (``whole`` black), ``viridis`` for heatmaps; Agg backend, no pyplot state. SVG files
are deterministic (``svg.hashsalt`` fixed, no date); PNG files carry no software/version stamp.
"""

from __future__ import annotations

import math
import os
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path
from typing import Any

import pandas as pd

from gcbench.errors import GCBenchError
from gcbench.rows import conflict_levels, ok_rows
from gcbench.stats import mean_ci
from gcbench.util import atomic_write, natural_key, slug

FORMATS = ("png", "svg")
REFERENCE = "whole"
MARKERS = ("o", "s", "D", "^", "v", "P", "X", "<", ">", "p", "h", "*")
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
#: SR-GM's per-epoch diagnostics in logs/*.csv (gcbench/condensers/srgm.py) -> axis labels
DIAGNOSTICS = {
    "conflict_frac": "share of synthetic nodes with conflicting modality gradients",
    "modality_cos": "mean cosine between modality gradient blocks",
    "edges": "edges of A' (after threshold)",
}


def _method_key(m: str) -> tuple:
    return (m == REFERENCE, natural_key(m))


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


# ------------------------------------------------------------------------------------------------ inputs
@dataclass
class Inputs:
    results: pd.DataFrame | None
    nas: pd.DataFrame | None
    logs: list[tuple[str, pd.DataFrame]]  # (file stem, log frame), sorted by stem


def read_logs(folder: str | os.PathLike) -> list[tuple[str, pd.DataFrame]]:
    d = Path(folder) / "logs"
    out = []
    for p in sorted(d.glob("*.csv")) if d.is_dir() else []:
        try:
            df = pd.read_csv(p)
        except (OSError, UnicodeDecodeError, pd.errors.ParserError, pd.errors.EmptyDataError) as exc:
            raise GCBenchError(f"cannot read log {p}: {str(exc).splitlines()[0]}") from None
        if "epoch" not in df.columns:
            raise GCBenchError(f"log {p} has no 'epoch' column")
        out.append((p.stem, df))
    return out


def read_inputs(src: str | os.PathLike) -> Inputs:
    """A results folder (or its ``results.csv``): rows, NAS studies and logs; missing parts are None/empty."""
    from gcbench.nas import read_nas
    from gcbench.results import read_results

    p = Path(src)
    if p.is_file():
        folder, csv_path = p.parent, p
    elif p.is_dir():
        folder, csv_path = p, p / "results.csv"
    else:
        raise GCBenchError(f"results not found: {p}")
    results = read_results(csv_path) if csv_path.exists() else None
    return Inputs(results=results, nas=read_nas(folder), logs=read_logs(folder))


# ------------------------------------------------------------------------------------------------ styling
class Style:
    """One colour (seaborn ``colorblind``) and marker per method, fixed for every figure of a gallery."""

    def __init__(self, methods: list[str]) -> None:
        import seaborn as sns

        palette = sns.color_palette("colorblind", 10)
        ordered = sorted({m for m in methods if m != REFERENCE}, key=_method_key)
        self.colors = {m: palette[i % len(palette)] for i, m in enumerate(ordered)}
        self.markers = {m: MARKERS[i % len(MARKERS)] for i, m in enumerate(ordered)}
        self.colors[REFERENCE], self.markers[REFERENCE] = (0.0, 0.0, 0.0), "_"

    def color(self, m: str) -> Any:
        return self.colors.get(m, (0.5, 0.5, 0.5))

    def marker(self, m: str) -> str:
        return self.markers.get(m, "o")


def _metric_label(df: pd.DataFrame) -> str:
    metrics = sorted(set(df["metric"].astype(str))) if "metric" in df.columns else []
    name = "/".join(metrics) or "score"
    return f"test {name} (%)"


def _ratio_fmt(q: float) -> str:
    return f"{float(q):.10g}"


# --------------------------------------------------------------------------------------------------- plan
def plan(inputs: Inputs) -> Plan:
    """Which figures the data allows (in a fixed order), and which kinds are skipped and why."""
    from gcbench.leaderboard import cross_arch_tables

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
                                          f"{ds} — {arch}", _draw_score_vs_ratio(g, ds, arch, style)))
        if not any(f.kind == "score_vs_ratio" for f in out.figures):
            out.skipped.append(("score_vs_ratio", "only whole-graph rows"))
        out.skipped += _single_ratio_skips("score_vs_ratio", ok, main_archs)

    # cross-architecture heatmaps
    tables = cross_arch_tables(res) if res is not None and len(res) else {}
    if not tables:
        out.skipped.append(("cross_arch", no_rows if ok is None or ok.empty
                            else "no dataset/ratio was evaluated with two or more architectures"))
    for (ds, q), t in tables.items():
        out.figures.append(Figure(f"cross_arch__{slug(ds)}__r{_ratio_fmt(q)}", "cross_arch",
                                  f"{ds}, {t.attrs['label']}", _draw_cross_arch(t)))

    # NAS scatter
    if inputs.nas is None or inputs.nas.empty:
        out.skipped.append(("nas", "no NAS results (nas/*.csv: run `gcbench nas` or a suite with a nas: section)"))
    else:
        nas = inputs.nas.copy()
        nas["ratio"] = nas["ratio"].astype(float)
        for (ds, q), g in _groups(nas, ["dataset", "ratio"]):
            out.figures.append(Figure(f"nas__{slug(ds)}__r{_ratio_fmt(q)}", "nas", f"NAS {ds}, r={_ratio_fmt(q)}",
                                      _draw_nas(g, ds, q, style)))

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
                                      f"{ds} — {arch}", _draw_cost_quality(g, ref, ds, arch, style)))
        out.skipped += _single_ratio_skips("cost_quality", timed, main_archs)

    # convergence
    logs = _parse_logs(inputs.logs, methods, sorted(set(ok["dataset"])) if ok is not None else [])
    if logs.empty:
        out.skipped.append(("convergence", "no per-epoch logs (logs/*.csv; written by gradient-matching methods)"))
    else:
        for (ds,), g in _groups(logs, ["dataset"]):
            out.figures.append(Figure(f"convergence__{slug(ds)}", "convergence", f"convergence {ds}",
                                      _draw_convergence(g, ds, style)))

    # SR-GM diagnostics
    diag = logs[logs["conflict_frac"].notna()] if not logs.empty else logs
    if diag.empty:
        out.skipped.append(("diagnostics", "no per-epoch conflict diagnostics (logs of srgm / srgm-plus)"))
    else:
        for (ds,), _g in _groups(diag, ["dataset"]):
            g = logs[logs["dataset"] == ds]  # GCond's logs of the dataset join the edge panel
            out.figures.append(Figure(f"diagnostics__{slug(ds)}", "diagnostics", f"SR-GM diagnostics {ds}",
                                      _draw_diagnostics(g, ds, style)))

    # ablation: methods with two or more variants
    found = False
    if ok is not None and not ok.empty:
        base = ok[ok["method"] != REFERENCE].copy()
        base["base"] = base["method"].map(lambda m: str(m).split(":", 1)[0])
        for (b, ds, arch), g in _groups(base, ["base", "dataset", "arch"]):
            if g["method"].nunique() >= 2:
                found = True
                out.figures.append(Figure(f"ablation__{slug(b)}__{slug(ds)}__{slug(arch)}", "ablation",
                                          f"{b} variants, {ds} — {arch}", _draw_ablation(g, b, ds, arch, style)))
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
                                      f"{fam} vs conflict level — {arch}", _draw_conflict_level(g, fam, arch, style)))
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


def _parse_logs(logs: list[tuple[str, pd.DataFrame]], methods: list[str], datasets: list[str]) -> pd.DataFrame:
    """Concatenate logs with method/dataset/ratio/seed from their file names (``cell_slug`` of the runner:
    ``<method>__<dataset>__r<ratio>__s<seed>__<hash>``); names map back to labels through the rows."""
    by_slug_m = {slug(m): m for m in methods}
    by_slug_d = {slug(d): d for d in datasets}
    frames = []
    for stem, df in logs:
        parts = stem.split("__")
        if len(parts) < 5 or not parts[3].startswith("s") or not parts[2].startswith("r"):
            continue
        if not {"epoch", "loss"} <= set(df.columns):
            continue
        ratio = math.nan if parts[2] == "full" else float(parts[2][1:])
        f = pd.DataFrame({
            "epoch": pd.to_numeric(df["epoch"], errors="coerce"),
            "loss": pd.to_numeric(df["loss"], errors="coerce"),
            "elapsed_s": pd.to_numeric(df["elapsed_s"], errors="coerce") if "elapsed_s" in df else math.nan,
            "val_score": pd.to_numeric(df["val_score"], errors="coerce") if "val_score" in df else math.nan,
            **{c: pd.to_numeric(df[c], errors="coerce") if c in df else math.nan for c in DIAGNOSTICS},
        })
        f["method"] = by_slug_m.get(parts[0], parts[0])
        f["dataset"] = by_slug_d.get(parts[1], parts[1])
        f["ratio"] = ratio
        f["seed"] = int(parts[3][1:]) if parts[3][1:].isdigit() else -1
        f["cell"] = stem
        frames.append(f)
    if not frames:
        return pd.DataFrame(columns=["epoch", "loss", "elapsed_s", "val_score", *DIAGNOSTICS, "method", "dataset",
                                     "ratio", "seed", "cell"])
    return pd.concat(frames, ignore_index=True)


# ---------------------------------------------------------------------------------------------- drawers
def _legend(ax: Any, **kw: Any) -> None:
    handles, labels = ax.get_legend_handles_labels()
    if handles:
        ax.legend(handles, labels, frameon=False, **kw)


def _outside_legend(fig: Any, ax: Any) -> None:
    """The legend of ``ax`` to the right of every panel (constrained layout makes room): with many method
    variants a legend inside a panel hides its curves."""
    handles, labels = ax.get_legend_handles_labels()
    if handles:
        fig.legend(handles, labels, loc="outside right center", frameon=False, fontsize=7)


def _log_epochs_if_spread(ax: Any, last_epochs: list[int]) -> None:
    """Log epoch axis where runs of very different lengths share a panel (100 vs 1000 epochs), so the short
    ones are not squeezed against the origin."""
    if last_epochs and min(last_epochs) > 0 and max(last_epochs) >= 5 * min(last_epochs):
        ax.set_xscale("log")
        ax.set_xlabel("epoch (log scale)")


def _mean_std(values: list[float]) -> tuple[float, float]:
    vals = sorted(values)
    if not vals:
        return math.nan, math.nan
    mean = math.fsum(vals) / len(vals)
    std = math.sqrt(math.fsum((v - mean) ** 2 for v in vals) / (len(vals) - 1)) if len(vals) > 1 else 0.0
    return mean, std


def _draw_score_vs_ratio(g: pd.DataFrame, ds: str, arch: str, style: Style) -> Callable[[Any], None]:
    def draw(fig: Any) -> None:
        ax = fig.add_subplot(1, 1, 1)
        for m in sorted(set(g["method"]) - {REFERENCE}, key=_method_key):
            sub = g[g["method"] == m]
            ratios = sorted(set(sub["ratio"].astype(float)))
            stats = [_mean_std(sorted(sub[sub["ratio"] == q]["score"])) for q in ratios]
            ax.errorbar(ratios, [s[0] for s in stats], yerr=[s[1] for s in stats], label=m, color=style.color(m),
                        marker=style.marker(m), capsize=3, linewidth=1.4, markersize=5)
        ref = g[g["method"] == REFERENCE]
        if not ref.empty:
            mean, std = _mean_std(sorted(ref["score"]))
            ax.axhline(mean, color="black", linestyle="--", linewidth=1, label=f"{REFERENCE} (full graph)")
            ax.axhspan(mean - std, mean + std, color="black", alpha=0.08, linewidth=0)
        ratios = sorted(set(g[g["method"] != REFERENCE]["ratio"].astype(float)))
        ax.set_xticks(ratios, [_ratio_fmt(q) for q in ratios])
        ax.set_xlabel("ratio r (fraction of training nodes kept)")
        ax.set_ylabel(_metric_label(g))
        n = sorted(set(g.groupby(["method", "ratio"], dropna=False)["seed"].nunique()))
        ax.set_title(f"{ds} — {arch} (mean ± std over {'/'.join(map(str, n))} seed(s))")
        _legend(ax, loc="best")
        fig.set_size_inches(6.0, 4.0)
    return draw


def _draw_cross_arch(table: pd.DataFrame) -> Callable[[Any], None]:
    def draw(fig: Any) -> None:
        import numpy as np
        import seaborn as sns

        archs = table.attrs["archs"]
        methods = [str(m) for m in table.index]
        mat = np.array([[float(table.loc[m, (a, "mean")]) if int(table.loc[m, (a, "n")]) else np.nan
                         for a in archs] for m in methods])
        ax = fig.add_subplot(1, 1, 1)
        sns.heatmap(pd.DataFrame(mat, index=methods, columns=archs), ax=ax, annot=True, fmt=".1f",
                    cmap="viridis", linewidths=0.5, linecolor="white",
                    cbar_kws={"label": f"test {table.attrs.get('metric') or 'score'} (%)"})
        if REFERENCE in methods:
            ax.axhline(methods.index(REFERENCE), color="white", linewidth=3)
        ax.tick_params(axis="y", rotation=0)
        ax.tick_params(axis="x", rotation=0)
        ax.set_xlabel("evaluation architecture")
        ax.set_ylabel("method")
        ax.set_title(f"{table.attrs['dataset']}, {table.attrs['label']}\n"
                     "one condensed graph per method and seed, evaluated on each architecture; "
                     "whole = trained on the full graph", fontsize=8)
        width = max(len(m) for m in methods) * 0.065
        fig.set_size_inches(max(6.5, 2.2 + width + 0.85 * len(archs)), 1.6 + 0.42 * len(methods))
    return draw


def _draw_nas(g: pd.DataFrame, ds: str, q: float, style: Style) -> Callable[[Any], None]:
    def draw(fig: Any) -> None:
        import seaborn as sns

        from gcbench.nas import summarize_study

        studies = sorted({(str(m), int(s)) for m, s in zip(g["method"], g["seed"])},
                         key=lambda k: (_method_key(k[0]), k[1]))
        ncol = min(3, len(studies))
        nrow = math.ceil(len(studies) / ncol)
        archs = sorted(set(g["arch"].astype(str)))
        pal = dict(zip(archs, sns.color_palette("colorblind", len(archs))))
        marks = dict(zip(archs, MARKERS))
        axes = fig.subplots(nrow, ncol, squeeze=False, sharex=True, sharey=False)
        for k, (m, s) in enumerate(studies):
            ax = axes[k // ncol][k % ncol]
            sub = g[(g["method"] == m) & (g["seed"] == s)].sort_values("config_id")
            summ = summarize_study(sub)
            for a in archs:
                part = sub[sub["arch"] == a]
                ax.scatter(part["full_val"] * 100, part["cond_val"] * 100, s=16, color=pal[a], marker=marks[a],
                           label=a, alpha=0.85, linewidths=0)
            ch = sub[sub["config_id"] == summ["chosen_id"]]
            be = sub[sub["config_id"] == summ["best_id"]]
            ax.scatter(ch["full_val"] * 100, ch["cond_val"] * 100, s=120, facecolors="none", edgecolors="black",
                       linewidths=1.4, marker="*", label="chosen on condensed")
            ax.scatter(be["full_val"] * 100, be["cond_val"] * 100, s=80, facecolors="none", edgecolors="#d55e00",
                       linewidths=1.4, marker="o", label="best on full graph")
            rho, tau = summ["spearman"], summ["kendall"]
            seed = f", seed {s}" if len({x[1] for x in studies}) > 1 else ""
            ax.set_title(f"{m}{seed}\nρ={rho:.2f} τ={tau:.2f}, gap {summ['gap']:.1f}", fontsize=9)
            ax.set_xlabel("val score, trained on full graph (%)")
            ax.set_ylabel("val score, trained on condensed (%)")
        for k in range(len(studies), nrow * ncol):
            axes[k // ncol][k % ncol].set_visible(False)
        handles, labels = axes[0][0].get_legend_handles_labels()
        fig.legend(handles, labels, loc="outside lower center", ncol=len(labels), frameon=False)
        fig.suptitle(f"NAS on {ds}, r={_ratio_fmt(q)}: {int(g.groupby(['method', 'seed']).size().max())} "
                     "configurations", fontsize=10)
        fig.set_size_inches(3.8 * ncol, 3.4 * nrow + 0.8)
    return draw


def _draw_cost_quality(g: pd.DataFrame, ref: pd.DataFrame, ds: str, arch: str, style: Style
                       ) -> Callable[[Any], None]:
    def draw(fig: Any) -> None:
        ax = fig.add_subplot(1, 1, 1)
        points = []
        for m in sorted(set(g["method"]), key=_method_key):
            sub = g[g["method"] == m]
            xs, ys, es, qs = [], [], [], []
            for q in sorted(set(sub["ratio"].astype(float))):
                cell = sub[sub["ratio"] == q]
                t = max(_mean_std(sorted(cell["condense_s"].astype(float)))[0], 1e-3)
                mean, std = _mean_std(sorted(cell["score"]))
                xs.append(t)
                ys.append(mean)
                es.append(std)
                qs.append(q)
                points.append((t, mean))
            ax.errorbar(xs, ys, yerr=es, color=style.color(m), marker=style.marker(m), linestyle="none",
                        capsize=2, markersize=6, label=m)
            for x, y, q in zip(xs, ys, qs):
                ax.annotate(f"r={_ratio_fmt(q)}", (x, y), textcoords="offset points", xytext=(4, 3), fontsize=7,
                            color=style.color(m))
        frontier, best = [], -math.inf
        for x, y in sorted(points, key=lambda p: (p[0], -p[1])):
            if y > best:
                frontier.append((x, y))
                best = y
        if len(frontier) > 1:
            ax.step([p[0] for p in frontier], [p[1] for p in frontier], where="post", color="grey",
                    linewidth=1, linestyle=":", label="frontier")
        if not ref.empty:
            mean, _ = _mean_std(sorted(ref["score"]))
            ax.axhline(mean, color="black", linestyle="--", linewidth=1, label=f"{REFERENCE} (full graph)")
        ax.set_xscale("log")
        ax.set_xlabel("condensation time per graph (s, mean over seeds, log scale)")
        ax.set_ylabel(_metric_label(g))
        ax.set_title(f"cost vs quality: {ds} — {arch}")
        _legend(ax, loc="best")
        fig.set_size_inches(6.0, 4.0)
    return draw


def _curves(g: pd.DataFrame) -> list[tuple[str, float, pd.DataFrame, str]]:
    """(method, ratio, rows, line style) per method and ratio, in the gallery's order."""
    ratios = sorted(set(g["ratio"].dropna().astype(float)))
    dashes = ["-", "--", ":", "-."]
    keys = sorted({(str(m), float(q)) for m, q in zip(g["method"], g["ratio"])},
                  key=lambda k: (_method_key(k[0]), k[1]))
    return [(m, q, g[(g["method"] == m) & (g["ratio"] == q)],
             dashes[ratios.index(q) % len(dashes)] if q in ratios else "-") for m, q in keys]


def _draw_convergence(g: pd.DataFrame, ds: str, style: Style) -> Callable[[Any], None]:
    def draw(fig: Any) -> None:
        ax1, ax2, ax3 = fig.subplots(1, 3)
        last = []
        for m, q, sub, ls in _curves(g):
            last.append(int(sub["epoch"].max()))
            label = f"{m}, r={_ratio_fmt(q)}"
            per_epoch = sub.groupby("epoch")["loss"].mean().sort_index()
            ax1.plot(per_epoch.index, per_epoch.values, color=style.color(m), linestyle=ls, linewidth=1.2,
                     label=label)
            val = sub[sub["val_score"].notna()]
            if not val.empty:
                per_epoch = val.groupby("epoch")["val_score"].mean().sort_index() * 100
                ax2.plot(per_epoch.index, per_epoch.values, color=style.color(m), linestyle=ls,
                         marker=style.marker(m), markersize=4, linewidth=1.2, label=label)
            first = True
            for _seed, cell in sorted(sub.groupby("seed"), key=lambda kv: kv[0]):
                val = cell[cell["val_score"].notna()].sort_values("elapsed_s")
                if val.empty:
                    continue
                ax3.plot(val["elapsed_s"], val["val_score"] * 100, color=style.color(m), linestyle=ls,
                         marker=style.marker(m), markersize=4, linewidth=1, label=label if first else None)
                first = False
        loss = g["loss"].dropna()
        if len(loss) and (loss > 0).all() and loss.max() > 20 * loss.min():
            ax1.set_yscale("log")
        ax1.set_xlabel("epoch")
        ax1.set_ylabel("matching loss (mean over seeds)")
        ax1.set_title("loss")
        ax2.set_xlabel("epoch")
        ax2.set_ylabel("validation score of the condensed graph (%)")
        ax2.set_title("validation vs epoch (mean over seeds)")
        ax3.set_xlabel("condensation time (s)")
        ax3.set_ylabel("validation score of the condensed graph (%)")
        ax3.set_title("validation vs time (each seed)")
        for ax in (ax1, ax2):
            _log_epochs_if_spread(ax, last)
        _outside_legend(fig, ax1)
        fig.suptitle(f"convergence on {ds}", fontsize=10)
        fig.set_size_inches(18.0, 4.2)
    return draw


def _draw_diagnostics(g: pd.DataFrame, ds: str, style: Style) -> Callable[[Any], None]:
    def draw(fig: Any) -> None:
        axes = fig.subplots(1, len(DIAGNOSTICS))
        for ax, (col, label) in zip(axes, DIAGNOSTICS.items()):
            last = []
            for m, q, sub, ls in _curves(g):
                vals = sub[sub[col].notna()]
                if vals.empty:
                    continue
                per_epoch = vals.groupby("epoch")[col].mean().sort_index()
                last.append(int(per_epoch.index.max()))
                ax.plot(per_epoch.index, per_epoch.values, color=style.color(m), linestyle=ls, linewidth=1.2,
                        label=f"{m}, r={_ratio_fmt(q)}")
            ax.set_xlabel("epoch")
            ax.set_ylabel(label, fontsize=8)
            _log_epochs_if_spread(ax, last)
        axes[0].set_ylim(-0.02, 1.02)
        axes[1].axhline(0.0, color="grey", linewidth=0.8, linestyle=":")
        _outside_legend(fig, axes[2])
        fig.suptitle(f"SR-GM diagnostics on {ds} (mean over seeds; the edge panel includes every method "
                     "that learns A')", fontsize=10)
        fig.set_size_inches(18.0, 4.2)
    return draw


def _draw_ablation(g: pd.DataFrame, base: str, ds: str, arch: str, style: Style) -> Callable[[Any], None]:
    def draw(fig: Any) -> None:
        import numpy as np
        import seaborn as sns

        ax = fig.add_subplot(1, 1, 1)
        variants = sorted(set(g["method"]), key=_method_key)
        ratios = sorted(set(g["ratio"].astype(float)))
        pal = sns.color_palette("colorblind", len(variants))
        width = 0.8 / len(variants)
        x = np.arange(len(ratios))
        for i, v in enumerate(variants):
            stats = [mean_ci(g[(g["method"] == v) & (g["ratio"] == q)]["score"]) for q in ratios]
            ax.bar(x + (i - (len(variants) - 1) / 2) * width, [s[0] for s in stats], width=width,
                   yerr=[0.0 if math.isnan(s[1]) else s[1] for s in stats], color=pal[i], capsize=3, label=v,
                   edgecolor="white")
        ax.set_xticks(x, [f"r={_ratio_fmt(q)}" for q in ratios])
        ax.set_ylabel(_metric_label(g))
        lo = float(g["score"].min())
        ax.set_ylim(max(0.0, lo - 10.0), min(100.0, float(g["score"].max()) + 5.0))
        n = sorted(set(g.groupby(["method", "ratio"])["seed"].nunique()))
        ax.set_title(f"{base}: variants on {ds} — {arch}\n(mean ± 95 % CI over {'/'.join(map(str, n))} seed(s))")
        _outside_legend(fig, ax)
        fig.set_size_inches(max(5.0, 1.2 + 1.3 * len(ratios) * max(1, len(variants) / 2)) + 3.0, 4.0)
    return draw


def _draw_conflict_level(g: pd.DataFrame, fam: str, arch: str, style: Style) -> Callable[[Any], None]:
    def draw(fig: Any) -> None:
        ratios = sorted(set(g[g["method"] != REFERENCE]["ratio"].astype(float)))
        axes = fig.subplots(1, max(1, len(ratios)), squeeze=False, sharey=True)[0]
        ref = g[g["method"] == REFERENCE]
        span = (g["level"].max() - g["level"].min()) or 1.0
        for ax, q in zip(axes, ratios):
            sub = g[(g["method"] != REFERENCE) & (g["ratio"].astype(float) == q)]
            # a variant run at one level only (e.g. a switch grid at the default level) has no curve here
            methods = sorted((m for m, n in sub.groupby("method")["level"].nunique().items() if n >= 2),
                             key=_method_key)
            for i, m in enumerate(methods):
                rows = sub[sub["method"] == m]
                levels = sorted(set(rows["level"]))
                stats = [mean_ci(rows[rows["level"] == lv]["score"]) for lv in levels]
                dodge = (i - (len(methods) - 1) / 2) * 0.012 * span  # side by side, so the intervals stay readable
                ax.errorbar([lv + dodge for lv in levels], [s[0] for s in stats],
                            yerr=[0.0 if math.isnan(s[1]) else s[1] for s in stats],
                            label=m, color=style.color(m), marker=style.marker(m), capsize=3, linewidth=1.2,
                            markersize=5)
            if not ref.empty:
                levels = sorted(set(ref["level"]))
                ax.plot(levels, [mean_ci(ref[ref["level"] == lv]["score"])[0] for lv in levels], color="black",
                        linestyle="--", linewidth=1, label=f"{REFERENCE} (full graph)")
            ax.set_xlabel("conflict_frac (share of nodes whose image view points to another class)")
            ax.set_title(f"r={_ratio_fmt(q)}")
        axes[0].set_ylabel(_metric_label(g))
        _outside_legend(fig, axes[-1])
        fig.suptitle(f"{fam} — {arch}: score vs cross-modal conflict (mean ± 95 % CI over seeds)", fontsize=10)
        fig.set_size_inches(max(6.0, 5.0 * len(ratios)) + 3.0, 4.2)
    return draw


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
