"""The figure kinds of the gallery (:mod:`gcbench.report.figures`): a style shared by every figure and one
``draw_<kind>`` per kind, which returns the function that draws it into a matplotlib figure.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

import pandas as pd

from gcbench.report.rows import REFERENCE_METHOD, fmt_ratio, method_key
from gcbench.stats import mean_ci

REFERENCE = REFERENCE_METHOD
MARKERS = ("o", "s", "D", "^", "v", "P", "X", "<", ">", "p", "h", "*")
#: SR-GM's per-epoch diagnostics in logs/*.csv (gcbench/condensers/srgm.py) -> axis labels
DIAGNOSTICS = {
    "conflict_frac": "share of synthetic nodes with conflicting modality gradients",
    "modality_cos": "mean cosine between modality gradient blocks",
    "edges": "edges of A' (after threshold)",
}


# -------------------------------------------------------------------------------------------------- styling
class Style:
    """One colour (seaborn ``colorblind``) and marker per method, fixed for every figure of a gallery."""

    def __init__(self, methods: list[str]) -> None:
        import seaborn as sns

        palette = sns.color_palette("colorblind", 10)
        ordered = sorted({m for m in methods if m != REFERENCE}, key=method_key)
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


def draw_score_vs_ratio(g: pd.DataFrame, ds: str, arch: str, style: Style) -> Callable[[Any], None]:
    def draw(fig: Any) -> None:
        ax = fig.add_subplot(1, 1, 1)
        for m in sorted(set(g["method"]) - {REFERENCE}, key=method_key):
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
        ax.set_xticks(ratios, [fmt_ratio(q) for q in ratios])
        ax.set_xlabel("ratio r (fraction of training nodes kept)")
        ax.set_ylabel(_metric_label(g))
        n = sorted(set(g.groupby(["method", "ratio"], dropna=False)["seed"].nunique()))
        ax.set_title(f"{ds} — {arch} (mean ± std over {'/'.join(map(str, n))} seed(s))")
        _legend(ax, loc="best")
        fig.set_size_inches(6.0, 4.0)
    return draw


def draw_cross_arch(table: pd.DataFrame) -> Callable[[Any], None]:
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


def draw_nas(g: pd.DataFrame, ds: str, q: float, style: Style) -> Callable[[Any], None]:
    def draw(fig: Any) -> None:
        import seaborn as sns

        from gcbench.nas import summarize_study

        studies = sorted({(str(m), int(s)) for m, s in zip(g["method"], g["seed"])},
                         key=lambda k: (method_key(k[0]), k[1]))
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
        epochs = "/".join(str(e) for e in sorted({int(e) for e in g["epochs"]}))
        fig.suptitle(f"NAS on {ds}, r={fmt_ratio(q)}: {int(g.groupby(['method', 'seed']).size().max())} "
                     f"configurations x {epochs} epochs", fontsize=10)
        fig.set_size_inches(3.8 * ncol, 3.4 * nrow + 0.8)
    return draw


def draw_cost_quality(g: pd.DataFrame, ref: pd.DataFrame, ds: str, arch: str, style: Style
                       ) -> Callable[[Any], None]:
    def draw(fig: Any) -> None:
        ax = fig.add_subplot(1, 1, 1)
        points = []
        for m in sorted(set(g["method"]), key=method_key):
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
                ax.annotate(f"r={fmt_ratio(q)}", (x, y), textcoords="offset points", xytext=(4, 3), fontsize=7,
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
                  key=lambda k: (method_key(k[0]), k[1]))
    return [(m, q, g[(g["method"] == m) & (g["ratio"] == q)],
             dashes[ratios.index(q) % len(dashes)] if q in ratios else "-") for m, q in keys]


def draw_convergence(g: pd.DataFrame, ds: str, style: Style) -> Callable[[Any], None]:
    def draw(fig: Any) -> None:
        ax1, ax2, ax3 = fig.subplots(1, 3)
        last = []
        for m, q, sub, ls in _curves(g):
            last.append(int(sub["epoch"].max()))
            label = f"{m}, r={fmt_ratio(q)}"
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


def draw_diagnostics(g: pd.DataFrame, ds: str, style: Style) -> Callable[[Any], None]:
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
                        label=f"{m}, r={fmt_ratio(q)}")
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


def draw_ablation(g: pd.DataFrame, base: str, ds: str, arch: str, style: Style) -> Callable[[Any], None]:
    def draw(fig: Any) -> None:
        import numpy as np
        import seaborn as sns

        ax = fig.add_subplot(1, 1, 1)
        variants = sorted(set(g["method"]), key=method_key)
        ratios = sorted(set(g["ratio"].astype(float)))
        pal = sns.color_palette("colorblind", len(variants))
        width = 0.8 / len(variants)
        x = np.arange(len(ratios))
        for i, v in enumerate(variants):
            stats = [mean_ci(g[(g["method"] == v) & (g["ratio"] == q)]["score"]) for q in ratios]
            ax.bar(x + (i - (len(variants) - 1) / 2) * width, [s[0] for s in stats], width=width,
                   yerr=[0.0 if math.isnan(s[1]) else s[1] for s in stats], color=pal[i], capsize=3, label=v,
                   edgecolor="white")
        ax.set_xticks(x, [f"r={fmt_ratio(q)}" for q in ratios])
        ax.set_ylabel(_metric_label(g))
        lo = float(g["score"].min())
        ax.set_ylim(max(0.0, lo - 10.0), min(100.0, float(g["score"].max()) + 5.0))
        n = sorted(set(g.groupby(["method", "ratio"])["seed"].nunique()))
        ax.set_title(f"{base}: variants on {ds} — {arch}\n(mean ± 95 % CI over {'/'.join(map(str, n))} seed(s))")
        _outside_legend(fig, ax)
        fig.set_size_inches(max(5.0, 1.2 + 1.3 * len(ratios) * max(1, len(variants) / 2)) + 3.0, 4.0)
    return draw


def draw_conflict_level(g: pd.DataFrame, fam: str, arch: str, style: Style) -> Callable[[Any], None]:
    def draw(fig: Any) -> None:
        ratios = sorted(set(g[g["method"] != REFERENCE]["ratio"].astype(float)))
        axes = fig.subplots(1, max(1, len(ratios)), squeeze=False, sharey=True)[0]
        ref = g[g["method"] == REFERENCE]
        span = (g["level"].max() - g["level"].min()) or 1.0
        for ax, q in zip(axes, ratios):
            sub = g[(g["method"] != REFERENCE) & (g["ratio"].astype(float) == q)]
            # a variant run at one level only (e.g. a switch grid at the default level) has no curve here
            methods = sorted((m for m, n in sub.groupby("method")["level"].nunique().items() if n >= 2),
                             key=method_key)
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
            ax.set_title(f"r={fmt_ratio(q)}")
        axes[0].set_ylabel(_metric_label(g))
        _outside_legend(fig, axes[-1])
        fig.suptitle(f"{fam} — {arch}: score vs cross-modal conflict (mean ± 95 % CI over seeds)", fontsize=10)
        fig.set_size_inches(max(6.0, 5.0 * len(ratios)) + 3.0, 4.2)
    return draw
