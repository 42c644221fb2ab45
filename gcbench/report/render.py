"""Rendering: the one Markdown table and CSV writer of the report, and the tables drawn with them.

:func:`markdown_table` writes every Markdown table of a leaderboard folder (the methods x ratios tables of
:func:`to_markdown`, the cross-architecture tables, the README's indexes, the NAS tables and the SR-GM study's
tables through :func:`frame_markdown`); :func:`csv_text` writes every CSV table (``summary.csv`` and the
per-dataset CSVs, ``cross_arch.csv``, ``nas.csv``). Numbers are written with fixed precision, so the files
are byte-stable; the conventions are those of :mod:`gcbench.report`.
"""

from __future__ import annotations

import csv
import io
import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

import pandas as pd

from gcbench.errors import GCBenchError
from gcbench.nas import SUMMARY_COLUMNS as NAS_SUMMARY_COLUMNS
from gcbench.report.aggregate import (
    FULL_GRAPH,
    STATS,
    SUMMARY_COLUMNS,
    arch_average,
    failed_cells_of,
    tables_of,
)
from gcbench.report.rows import REFERENCE_METHOD, fmt_ratio, prepare
from gcbench.util import md_escape

_DECIMALS = 2


# ----------------------------------------------------------------------------------------------------------
# Markdown and CSV


def markdown_table(header: Sequence[Any], rows: Iterable[Sequence[Any]], align: str = "") -> str:
    """A GitHub-Markdown table: the header line, the alignment line and a line per row (no final newline).

    Every cell, header included, is written as text with backslashes and pipes escaped (:func:`md_escape`).
    ``align`` has a letter per column: ``l`` (``:---``), ``r`` (``---:``) or ``-`` (``---``, also for the
    columns past its end).
    """
    rule = {"l": ":---", "r": "---:", "-": "---"}
    head = "| " + " | ".join(md_escape(h) for h in header) + " |"
    sep = "|" + "|".join(rule[align[j]] if j < len(align) else "---" for j in range(len(header))) + "|"
    body = ["| " + " | ".join(md_escape(c) for c in row) + " |" for row in rows]
    return "\n".join([head, sep, *body])


def frame_markdown(df: pd.DataFrame, index: str | None = None) -> str:
    """A DataFrame as a :func:`markdown_table` (NaN cells empty; with ``index`` its index is the first column,
    named so); ``(no rows)`` for an empty frame. Ends with a newline."""
    if df.empty:
        return "(no rows)\n"
    d = df.reset_index().rename(columns={"index": index}) if index else df
    rows = [["" if (isinstance(x, float) and math.isnan(x)) else x for x in r] for r in d.itertuples(index=False)]
    return markdown_table([str(c) for c in d.columns], rows) + "\n"


def csv_text(header: Sequence[Any], rows: Iterable[Sequence[Any]]) -> str:
    """A CSV table as text (``\\n`` line ends, minimal quoting)."""
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\n")
    writer.writerow(header)
    writer.writerows(rows)
    return buf.getvalue()


def _fmt(value: Any, spec: str) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)) or value is pd.NA:
        return ""
    return format(value, spec)


# ----------------------------------------------------------------------------------------------------------
# Methods x ratios tables



@dataclass
class _Rendered:
    heading: str
    header: list[str]
    rows: list[tuple[str, list[str], list[bool]]]  # method, cell texts, best flags


def _seed_phrase(counts: list[int]) -> tuple[str, int]:
    counts = [n for n in counts if n > 0]
    if not counts:
        return "no successful runs", 0
    lo, hi = min(counts), max(counts)
    unit = "seed" if hi == 1 else "seeds"
    if lo == hi:
        return f"mean ± std over {hi} {unit}", hi
    return f"mean ± std over up to {hi} {unit}, (n=k) where fewer", hi


def _render(table: pd.DataFrame, decimals: int, dataset: Any, arch: Any, metric: Any) -> _Rendered:
    attrs = getattr(table, "attrs", {}) or {}
    dataset = attrs.get("dataset", "?") if dataset is None else dataset
    arch = attrs.get("arch", "?") if arch is None else arch
    metric = (attrs.get("metric") or "score") if metric is None else metric
    if not isinstance(table.columns, pd.MultiIndex) or set(table.columns.get_level_values(1)) - set(STATS):
        raise GCBenchError("to_markdown expects a table from build_tables (columns: (label, mean/std/n))")
    labels = list(dict.fromkeys(table.columns.get_level_values(0)))
    methods = [str(m) for m in table.index]

    counts = [int(table[(lab, "n")].iloc[i]) for lab in labels for i in range(len(methods))]
    phrase, n_max = _seed_phrase(counts)
    heading = f"{dataset} — {arch} ({metric}, {phrase}; std across condensation+evaluation seeds)"

    best: dict[str, float] = {}
    for lab in labels:
        if lab == FULL_GRAPH:
            continue
        shown = [
            float(f"{table[(lab, 'mean')].iloc[i]:.{decimals}f}")
            for i, m in enumerate(methods)
            if m != REFERENCE_METHOD and int(table[(lab, "n")].iloc[i]) > 0
        ]
        if shown:
            best[lab] = max(shown)

    rows = []
    for i, m in enumerate(methods):
        texts, flags = [], []
        for lab in labels:
            n = int(table[(lab, "n")].iloc[i])
            if n == 0:
                texts.append("-")
                flags.append(False)
                continue
            mean = float(table[(lab, "mean")].iloc[i])
            std = float(table[(lab, "std")].iloc[i])
            std = 0.0 if math.isnan(std) else std
            text = f"{mean:.{decimals}f} ± {std:.{decimals}f}"
            is_best = m != REFERENCE_METHOD and lab in best and float(f"{mean:.{decimals}f}") == best[lab]
            suffix = f" (n={n})" if n < n_max else ""
            texts.append(text + suffix)
            flags.append(is_best)
        rows.append((m, texts, flags))
    return _Rendered(heading=heading, header=["method", *labels], rows=rows)


def to_markdown(
    table: pd.DataFrame,
    *,
    decimals: int = _DECIMALS,
    dataset: str | None = None,
    arch: str | None = None,
    metric: str | None = None,
) -> str:
    """Render a :func:`build_tables` table as a heading plus a GitHub-markdown table.

    Cells read ``80.12 ± 0.53`` (percent), ``-`` where a method has no ok run; the best mean of each ratio
    column is **bold** (ties all bold; ``whole`` never). ``dataset``/``arch``/``metric`` default to
    ``table.attrs``. Ends with a newline.
    """
    r = _render(table, decimals, dataset, arch, metric)
    rows = []
    for method, texts, flags in r.rows:
        cells = []
        for text, flag in zip(texts, flags):
            if flag:
                value, sep, rest = text.partition(" (n=")
                text = f"**{value}**" + (f" (n={rest}" if sep else "")
            cells.append(text)
        rows.append([method, *cells])
    table_md = markdown_table(r.header, rows, "l" + "r" * (len(r.header) - 1))
    return "\n".join([f"### {r.heading}", "", table_md]) + "\n"


def _console_table(table: pd.DataFrame, decimals: int = _DECIMALS) -> str:
    r = _render(table, decimals, None, None, None)
    body = [[m, *[t + ("*" if f else " ") for t, f in zip(texts, flags)]] for m, texts, flags in r.rows]
    header = [r.header[0], *[h + " " for h in r.header[1:]]]
    widths = [max(len(row[j]) for row in [header, *body]) for j in range(len(header))]

    def line(row: list[str]) -> str:
        parts = [row[0].ljust(widths[0])] + [c.rjust(w) for c, w in zip(row[1:], widths[1:])]
        return "  ".join(parts).rstrip()

    rule = "  ".join("-" * w for w in widths)
    return "\n".join([r.heading, line(header), rule, *(line(row) for row in body)])


def format_console(df: pd.DataFrame) -> str:
    """Plain-text rendering of every table (aligned columns, ``*`` marks the best of a ratio column)."""
    prep = prepare(df)
    tables = tables_of(prep)
    if not tables:
        return "no results\n"
    blocks = [_console_table(t) for t in tables.values()]
    ok = sum(r.ok for r in prep.runs)
    failed = len(prep.runs) - ok
    foot = f"* best mean per ratio column (whole excluded). {ok} ok run(s), {failed} failed"
    if prep.n_superseded:
        foot += f", {prep.n_superseded} superseded row(s) ignored"
    foot += "."
    fails = failed_cells_of(prep.runs)
    lines = [foot]
    if fails:
        lines.append("failed:")
        for f in fails[:20]:
            where = f"{f['dataset']}/{f['arch']}/{f['method']}"
            if f["ratio"]:
                where += f" r={f['ratio']}"
            lines.append(f"  {where} seed(s) {f['seeds']}: {f['error']}")
        if len(fails) > 20:
            lines.append(f"  ... and {len(fails) - 20} more (see README.md)")
    return "\n\n".join(blocks) + "\n\n" + "\n".join(lines) + "\n"


def summary_csv(frame: pd.DataFrame) -> str:
    """A :func:`~gcbench.report.aggregate.summary` frame as CSV text (``summary.csv``, ``<dataset>.csv``)."""
    rows = []
    for rec in frame.to_dict("records"):
        ratio = rec["ratio"]
        n_syn = rec["n_syn_nodes"]
        rows.append(
            [
                rec["dataset"],
                rec["arch"],
                rec["method"],
                "" if math.isnan(ratio) else fmt_ratio(ratio),
                "" if n_syn is None or n_syn is pd.NA else str(int(n_syn)),
                _fmt(rec["pct_of_graph"], ".4f"),
                rec["metric"],
                _fmt(rec["mean"], ".4f"),
                _fmt(rec["std"], ".4f"),
                str(int(rec["n_seeds"])),
                _fmt(rec["mean_condense_s"], ".3f"),
                _fmt(rec["mean_eval_s"], ".3f"),
                str(int(rec["n_failed"])),
            ]
        )
    return csv_text(SUMMARY_COLUMNS, rows)


# ----------------------------------------------------------------------------------------------------------
# Cross-architecture tables

CROSS_ARCH_COLUMNS = ("dataset", "ratio", "n_syn_nodes", "method", "arch", "metric", "mean", "std", "n_seeds")
AVG = "avg"


def cross_arch_markdown(table: pd.DataFrame, decimals: int = _DECIMALS) -> str:
    """A :func:`cross_arch_tables` table as a heading plus a Markdown table (best per column in bold,
    ``whole`` never); the ``avg`` column is the mean over the architectures (``-`` if one is missing)."""
    attrs = table.attrs
    archs = list(attrs.get("archs") or dict.fromkeys(table.columns.get_level_values(0)))
    methods = [str(m) for m in table.index]
    counts = [int(table.loc[m, (a, "n")]) for a in archs for m in methods]
    phrase, n_max = _seed_phrase(counts)
    heading = (f"### {attrs.get('dataset', '?')}, {attrs.get('label', '?')} — by evaluation architecture "
               f"({attrs.get('metric') or 'score'}, {phrase}; std across condensation+evaluation seeds)")
    avgs = {m: arch_average(table, m) for m in methods}

    def shown(v: float) -> float:
        return float(f"{v:.{decimals}f}")

    best: dict[str, float] = {}
    for a in archs:
        vals = [shown(float(table.loc[m, (a, "mean")])) for m in methods
                if m != REFERENCE_METHOD and int(table.loc[m, (a, "n")]) > 0]
        if vals:
            best[a] = max(vals)
    avg_vals = [shown(v) for m, v in avgs.items() if m != REFERENCE_METHOD and math.isfinite(v)]
    best_avg = max(avg_vals) if avg_vals else None

    rows = []
    for m in methods:
        cells = []
        for a in archs:
            n = int(table.loc[m, (a, "n")])
            if n == 0:
                cells.append("-")
                continue
            mean, std = float(table.loc[m, (a, "mean")]), float(table.loc[m, (a, "std")])
            text = f"{mean:.{decimals}f} ± {0.0 if math.isnan(std) else std:.{decimals}f}"
            if m != REFERENCE_METHOD and shown(mean) == best.get(a):
                text = f"**{text}**"
            cells.append(text + (f" (n={n})" if n < n_max else ""))
        avg = avgs[m]
        if math.isfinite(avg):
            text = f"{avg:.{decimals}f}"
            cells.append(f"**{text}**" if m != REFERENCE_METHOD and shown(avg) == best_avg else text)
        else:
            cells.append("-")
        rows.append([m, *cells])
    return "\n".join([heading, "", markdown_table(["method", *archs, AVG], rows, "l" + "r" * (len(archs) + 1))]) + "\n"


def cross_arch_csv(tables: dict[tuple[str, float], pd.DataFrame]) -> str:
    """:func:`~gcbench.report.aggregate.cross_arch_tables` as CSV text (``cross_arch.csv``): a line per method and
    architecture."""
    rows = []
    for (dataset, ratio), table in tables.items():
        n_syn = table.attrs["n_syn_nodes"]
        for method in table.index:
            for a in table.attrs["archs"]:
                n = int(table.loc[method, (a, "n")])
                rows.append([
                    dataset, fmt_ratio(ratio),
                    str(int(n_syn)) if math.isfinite(n_syn) and method != REFERENCE_METHOD else "",
                    method, a, table.attrs["metric"],
                    _fmt(float(table.loc[method, (a, "mean")]), ".4f") if n else "",
                    _fmt(float(table.loc[method, (a, "std")]), ".4f") if n else "", str(n),
                ])
    return csv_text(CROSS_ARCH_COLUMNS, rows)


# ----------------------------------------------------------------------------------------------------------
# NAS studies


def nas_summary_csv(summary: pd.DataFrame) -> str:
    """The study summaries of :func:`gcbench.nas.nas_summary` as CSV text with fixed precision (``nas.csv``)."""
    rows = []
    for r in summary.to_dict("records"):
        rows.append([
            r["dataset"], f"{r['ratio']:.10g}", r["method"], int(r["seed"]), int(r["n_configs"]), int(r["epochs"]),
            r["metric"], _fmt(r["spearman"], ".4f"), _fmt(r["kendall"], ".4f"), _fmt(r["spearman_test"], ".4f"),
            _fmt(r["kendall_test"], ".4f"), int(r["chosen_id"]), r["chosen_config"], _fmt(r["chosen_full_test"], ".2f"),
            int(r["best_id"]), r["best_config"], _fmt(r["best_full_test"], ".2f"), _fmt(r["gap"], ".2f"),
            int(r["chosen_rank"]),
        ])
    return csv_text(NAS_SUMMARY_COLUMNS, rows)


def _mean(values: Sequence[float]) -> float:
    vals = sorted(v for v in values if not math.isnan(v))
    return math.fsum(vals) / len(vals) if vals else math.nan


NAS_HEADER = ("method", "seeds", "Spearman ρ", "Kendall τ", "chosen on condensed: full-graph test",
              "best on full graph: full-graph test", "gap", "rank of chosen", "chosen configuration")


def nas_summary_markdown(summary: pd.DataFrame) -> str:
    """The study summaries of :func:`gcbench.nas.nas_summary` as Markdown (``nas.md``): one table per (dataset,
    ratio), a row per method (mean over its seeds where there are several)."""
    if summary.empty:
        return "No NAS results.\n"
    lines: list[str] = []
    for (ds, ratio), g in summary.groupby(["dataset", "ratio"], sort=False):
        n_cfg = sorted(set(int(v) for v in g["n_configs"]))
        ep = sorted(set(int(v) for v in g["epochs"]))
        lines += [
            f"### NAS on {ds}, r={ratio:.10g} ({'/'.join(map(str, n_cfg))} configurations, "
            f"{'/'.join(map(str, ep))} epochs each)",
            "",
        ]
        rows = []
        for m, mg in g.groupby("method", sort=False):
            seeds = sorted(int(s) for s in mg["seed"])
            chosen = mg["chosen_config"].iloc[0] if len(mg) == 1 else f"({len(mg)} seeds)"
            rank = (f"{int(mg['chosen_rank'].iloc[0])}" if len(mg) == 1
                    else f"{_mean([float(v) for v in mg['chosen_rank']]):.1f}")
            cells = [
                m, ",".join(map(str, seeds)),
                _fmt(_mean(list(mg["spearman"])), ".3f") or "-", _fmt(_mean(list(mg["kendall"])), ".3f") or "-",
                _fmt(_mean(list(mg["chosen_full_test"])), ".2f"), _fmt(_mean(list(mg["best_full_test"])), ".2f"),
                _fmt(_mean(list(mg["gap"])), ".2f"), rank, chosen,
            ]
            rows.append(cells)
        lines += [markdown_table(NAS_HEADER, rows, "lrrrrrrrl"), ""]
    lines.append(
        "Correlations are between the validation scores of the configurations trained on the condensed graph "
        "and on the full graph; scores are full-graph test scores in percent of the configuration with the "
        "best validation score on the condensed graph (chosen) and on the full graph (best); gap = best - "
        "chosen (negative when the condensed graph's choice happens to test better than the full graph's own "
        "choice); rank of chosen = its place among the full-graph validation scores, 1 = also the best there.")
    return "\n".join(lines) + "\n"
