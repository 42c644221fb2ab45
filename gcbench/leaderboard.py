"""Leaderboard tables built from the rows of ``results.csv``.

Every function here is a pure function of the *set* of result rows: the same rows in any order give the
same tables and byte-identical files. To get there the rows are normalised and put into a canonical order
before anything is aggregated, sums are exact (:func:`math.fsum`), and all numbers are written with fixed
precision.

Conventions (shared by every rendering):

* Scores are ``test_score`` in percent (x100), ``mean ± std`` over the seeds of ``status == "ok"`` rows.
  ``std`` is the sample standard deviation (ddof=1); a cell with a single seed has ``std = 0.00`` (shown as
  ``± 0.00``) and its seed count is visible in ``n_seeds`` and, where other cells have more seeds, as an
  ``(n=1)`` marker. Each seed is its own condensation *and* evaluation, so the std is the spread across
  condensation+evaluation seeds.
* Only ok rows enter means. Rows with any other status are *failed*; they are counted and listed
  separately (``README.md``, :func:`summary`'s ``n_failed``).
* One run per (dataset, arch, method, ratio, seed): if that key appears several times (a rerun appended to
  the same ``results.csv``), an ok row wins over failed ones and, among rows of the same kind, the one with
  the latest ``timestamp`` wins (remaining ties are broken by a canonical order of the row values). The
  other rows are *superseded*: ignored, and only counted in ``README.md``.
* ``whole`` (training on the full graph) is the reference: its ``ratio`` is ignored, its score sits in a
  separate ``full graph`` column, it is always the last row and it is never bolded/starred as best.
* Other methods are sorted in *natural order*: case-insensitive, with runs of digits (incl. decimals)
  compared as numbers, so ``srgm:lambda=2`` comes before ``srgm:lambda=10``. Datasets use the same order;
  architectures use the order ``mlp, gcn, sgc, sage, gat, cheb, appnp`` followed by any others (natural
  order). Ratio columns are sorted ascending.
* The best cell of a ratio column is the highest mean *as displayed* (rounded to the shown decimals), so
  ties in the table are all marked.
"""

from __future__ import annotations

import csv
import io
import math
import re
import statistics
from collections import Counter, defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd

from gcbench.errors import GCBenchError

__all__ = [
    "ARCH_ORDER",
    "FULL_GRAPH",
    "REFERENCE_METHOD",
    "REQUIRED_COLUMNS",
    "SUMMARY_COLUMNS",
    "build_tables",
    "cross_arch_table",
    "format_console",
    "safe_filename",
    "summary",
    "to_markdown",
    "write_leaderboard",
]

REFERENCE_METHOD = "whole"
FULL_GRAPH = "full graph"
ARCH_ORDER = ("mlp", "gcn", "sgc", "sage", "gat", "cheb", "appnp")

#: Columns a results table must have; the other ``results.csv`` columns are optional here.
REQUIRED_COLUMNS = (
    "method",
    "dataset",
    "ratio",
    "n_syn_nodes",
    "n_nodes",
    "arch",
    "seed",
    "test_score",
    "metric",
    "status",
)
_OPTIONAL_COLUMNS = ("condense_s", "eval_s", "error", "timestamp")

SUMMARY_COLUMNS = (
    "dataset",
    "arch",
    "method",
    "ratio",
    "n_syn_nodes",
    "pct_of_graph",
    "metric",
    "mean",
    "std",
    "n_seeds",
    "mean_condense_s",
    "mean_eval_s",
    "n_failed",
)

STATS = ("mean", "std", "n")
_DECIMALS = 2
_ERROR_CHARS = 300
_NAN = float("nan")


# ----------------------------------------------------------------------------------------------------------
# Normalisation


@dataclass(frozen=True)
class _Run:
    dataset: str
    arch: str
    method: str
    ratio: float  # NaN for the reference method
    seed: int
    ok: bool
    status: str
    test: float  # percent
    n_syn: float
    n_nodes: float
    metric: str
    condense_s: float
    eval_s: float
    error: str
    timestamp: str

    @property
    def cell(self) -> tuple[str, str, str, float | None]:
        """(dataset, arch, method, ratio) with ``None`` for a NaN ratio, so the key compares equal."""
        return (self.dataset, self.arch, self.method, None if math.isnan(self.ratio) else self.ratio)

    def sort_key(self) -> tuple:
        return (
            _natural_key(self.dataset),
            _arch_key(self.arch),
            _method_key(self.method),
            _float_key(self.ratio),
            self.seed,
            self.timestamp,
            self.ok,
            self.status,
            _float_key(self.test),
            _float_key(self.n_syn),
            _float_key(self.n_nodes),
            self.metric,
            _float_key(self.condense_s),
            _float_key(self.eval_s),
            self.error,
        )


@dataclass
class _Prepared:
    runs: list[_Run]  # one per (dataset, arch, method, ratio, seed), canonical order
    n_rows: int
    n_superseded: int


def _float_key(x: float) -> tuple[int, float]:
    return (1, 0.0) if math.isnan(x) else (0, x)


_NUM_RE = re.compile(r"(\d+(?:\.\d+)?)")


def _natural_key(name: str) -> tuple:
    parts = _NUM_RE.split(name.casefold())
    # even positions are text, odd positions numbers: comparisons never mix types
    key = tuple(float(p) if i % 2 else p for i, p in enumerate(parts))
    return (key, name)


def _method_key(method: str) -> tuple:
    return (method == REFERENCE_METHOD, _natural_key(method))


def _arch_key(arch: str) -> tuple:
    if arch in ARCH_ORDER:
        return (0, ARCH_ORDER.index(arch), _natural_key(arch))
    return (1, 0, _natural_key(arch))


def _text(value: Any) -> str:
    if value is None:
        return ""
    try:
        if pd.isna(value):
            return ""
    except (TypeError, ValueError):
        pass
    return str(value).strip()


def _number(value: Any) -> float:
    if isinstance(value, str):
        value = value.strip()
        if not value:
            return _NAN
    if value is None:
        return _NAN
    try:
        out = float(value)
    except (TypeError, ValueError):
        return _NAN
    return out


def _check_columns(df: pd.DataFrame) -> None:
    if not isinstance(df, pd.DataFrame):
        raise GCBenchError(f"results must be a pandas DataFrame, got {type(df).__name__}")
    missing = [c for c in REQUIRED_COLUMNS if c not in df.columns]
    if missing:
        raise GCBenchError(f"results are missing required column(s): {', '.join(missing)}")


def _describe(bad: list[int]) -> str:
    shown = ", ".join(str(i) for i in bad[:5])
    return shown + (f" and {len(bad) - 5} more" if len(bad) > 5 else "")


def _prepare(df: pd.DataFrame) -> _Prepared:
    _check_columns(df)
    cols = {
        c: (df[c].tolist() if c in df.columns else [None] * len(df))
        for c in (*REQUIRED_COLUMNS, *_OPTIONAL_COLUMNS)
    }
    runs: list[_Run] = []
    problems: dict[str, list[int]] = defaultdict(list)
    for i in range(len(df)):
        method = _text(cols["method"][i])
        dataset = _text(cols["dataset"][i])
        arch = _text(cols["arch"][i])
        status = _text(cols["status"][i])
        ok = status.lower() == "ok"
        if not method or not dataset or not arch:
            problems["empty method, dataset or arch"].append(i)
            continue
        ratio = _NAN if method == REFERENCE_METHOD else _number(cols["ratio"][i])
        if method != REFERENCE_METHOD and not math.isfinite(ratio):
            problems["a missing or non-numeric ratio"].append(i)
            continue
        if math.isfinite(ratio):
            ratio = float(f"{ratio:.10g}")  # merge float noise so equal ratios group together
        seed = _number(cols["seed"][i])
        if not math.isfinite(seed) or seed != int(seed):
            problems["a missing or non-integer seed"].append(i)
            continue
        test = _number(cols["test_score"][i])
        if ok and not math.isfinite(test):
            problems["status ok but a missing or non-numeric test_score"].append(i)
            continue
        runs.append(
            _Run(
                dataset=dataset,
                arch=arch,
                method=method,
                ratio=ratio,
                seed=int(seed),
                ok=ok,
                status=status,
                test=test * 100.0,
                n_syn=_number(cols["n_syn_nodes"][i]),
                n_nodes=_number(cols["n_nodes"][i]),
                metric=_text(cols["metric"][i]),
                condense_s=_number(cols["condense_s"][i]),
                eval_s=_number(cols["eval_s"][i]),
                error=" ".join(_text(cols["error"][i]).split()),
                timestamp=_text(cols["timestamp"][i]),
            )
        )
    if problems:
        what = "; ".join(
            f"{len(rows)} row(s) with {p} (0-based rows {_describe(rows)})" for p, rows in problems.items()
        )
        raise GCBenchError(f"malformed results: {what}")

    by_key: dict[tuple, list[_Run]] = defaultdict(list)
    for run in runs:
        by_key[(*run.cell, run.seed)].append(run)
    kept: list[_Run] = []
    for group in by_key.values():
        # ok beats failed, then latest timestamp, then the canonical order of the remaining values
        kept.append(max(group, key=lambda r: (r.ok, r.timestamp, r.sort_key())))
    kept.sort(key=_Run.sort_key)
    return _Prepared(runs=kept, n_rows=len(df), n_superseded=len(runs) - len(kept))


# ----------------------------------------------------------------------------------------------------------
# Aggregation


def _mode(values: Iterable[float]) -> float:
    """Most common finite value; ties go to the smallest. NaN if there is none."""
    counts = Counter(v for v in values if math.isfinite(v))
    if not counts:
        return _NAN
    return min(counts, key=lambda v: (-counts[v], v))


def _mean_std(values: Sequence[float]) -> tuple[float, float]:
    if not values:
        return _NAN, _NAN
    ordered = sorted(values)
    mean = math.fsum(ordered) / len(ordered)
    std = statistics.stdev(ordered) if len(ordered) > 1 else 0.0
    return mean, std


def _mean_or_nan(values: Iterable[float]) -> float:
    finite = sorted(v for v in values if math.isfinite(v))
    return math.fsum(finite) / len(finite) if finite else _NAN


def _metric(runs: Sequence[_Run]) -> str:
    chosen = [r for r in runs if r.ok and r.metric] or [r for r in runs if r.metric]
    return "/".join(sorted({r.metric for r in chosen}))


def _preferred(runs: Sequence[_Run]) -> list[_Run]:
    return [r for r in runs if r.ok] or list(runs)


def _n_nodes_by_dataset(runs: Sequence[_Run]) -> dict[str, float]:
    by_ds: dict[str, list[float]] = defaultdict(list)
    for r in runs:
        by_ds[r.dataset].append(r.n_nodes)
    return {ds: _mode(v) for ds, v in by_ds.items()}


def _n_syn_by_ratio(runs: Sequence[_Run]) -> dict[tuple[str, float], float]:
    """Label node count per (dataset, ratio): each method's most common count, then the most common one."""
    by_method: dict[tuple[str, float], dict[str, list[_Run]]] = defaultdict(lambda: defaultdict(list))
    for r in runs:
        if r.method != REFERENCE_METHOD:
            by_method[(r.dataset, r.ratio)][r.method].append(r)
    out = {}
    for key, methods in by_method.items():
        per_method = [_mode(r.n_syn for r in _preferred(rs)) for rs in methods.values()]
        out[key] = _mode(per_method)
    return out


def _fmt_ratio(ratio: float) -> str:
    return f"{ratio:.10g}"


def _fmt_pct(pct: float) -> str:
    if pct <= 0:
        return "0.0"
    decimals = min(4, max(1, 1 - math.floor(math.log10(pct))))
    return f"{pct:.{decimals}f}"


def _ratio_label(ratio: float, n_syn: float, n_nodes: float) -> str:
    label = f"r={_fmt_ratio(ratio)}"
    if math.isfinite(n_syn):
        inner = f"{int(n_syn)} nodes"
        if math.isfinite(n_nodes) and n_nodes > 0:
            inner += f", {_fmt_pct(100.0 * n_syn / n_nodes)}%"
        label += f" ({inner})"
    return label


def _group(runs: Iterable[_Run], key) -> dict:
    out: dict = defaultdict(list)
    for r in runs:
        out[key(r)].append(r)
    return out


def build_tables(df: pd.DataFrame) -> dict[tuple[str, str], pd.DataFrame]:
    """One table per (dataset, arch): rows are methods, columns ratios (ascending) plus ``full graph``.

    Columns are a two-level index ``(label, stat)`` with ``stat`` in ``("mean", "std", "n")``: mean and
    sample std of ``test_score`` in percent over ok seeds, and the number of ok seeds (``0`` and NaNs where a
    method has no ok run at that ratio). Labels read like ``r=0.5 (70 nodes, 2.6%)``: the train fraction,
    the synthetic node count (most common across methods) and its share of the full graph's nodes. The
    reference method ``whole`` is the last row and only fills the ``full graph`` column. ``table.attrs``
    carries ``dataset``, ``arch``, ``metric``, ``n_nodes`` and ``ratios`` (label -> ratio). The dict is in
    dataset/arch order (see the module docstring).
    """
    return _build_tables(_prepare(df))


def _build_tables(prep: _Prepared) -> dict[tuple[str, str], pd.DataFrame]:
    n_nodes = _n_nodes_by_dataset(prep.runs)
    n_syn = _n_syn_by_ratio(prep.runs)
    tables: dict[tuple[str, str], pd.DataFrame] = {}
    for (dataset, arch), runs in _group(prep.runs, lambda r: (r.dataset, r.arch)).items():
        tables[(dataset, arch)] = _table(dataset, arch, runs, n_nodes[dataset], n_syn)
    return tables


def _table(
    dataset: str, arch: str, runs: list[_Run], n_nodes: float, n_syn: dict[tuple[str, float], float]
) -> pd.DataFrame:
    methods = sorted({r.method for r in runs}, key=_method_key)
    ratios = sorted({r.ratio for r in runs if r.method != REFERENCE_METHOD})
    labels = {_ratio_label(q, n_syn.get((dataset, q), _NAN), n_nodes): q for q in ratios}
    has_whole = any(r.method == REFERENCE_METHOD for r in runs)
    col_labels = list(labels) + ([FULL_GRAPH] if has_whole else [])
    cells = _group(runs, lambda r: (r.method, FULL_GRAPH if r.method == REFERENCE_METHOD else r.ratio))

    data: dict[tuple[str, str], list] = {}
    for label in col_labels:
        ratio_key = labels.get(label, FULL_GRAPH)
        means, stds, ns = [], [], []
        for m in methods:
            scores = [r.test for r in cells.get((m, ratio_key), []) if r.ok]
            mean, std = _mean_std(scores)
            means.append(mean)
            stds.append(std)
            ns.append(len(scores))
        data[(label, "mean")] = means
        data[(label, "std")] = stds
        data[(label, "n")] = ns
    columns = pd.MultiIndex.from_tuples(list(data), names=["column", "stat"])
    table = pd.DataFrame(data, index=pd.Index(methods, name="method"), columns=columns)
    for label in col_labels:
        table[(label, "n")] = table[(label, "n")].astype("int64")
    table.attrs = {
        "dataset": dataset,
        "arch": arch,
        "metric": _metric(runs),
        "n_nodes": n_nodes,
        "ratios": dict(labels),
    }
    return table


def summary(df: pd.DataFrame) -> pd.DataFrame:
    """Tidy long form: one row per (dataset, arch, method, ratio) cell, failed-only cells included.

    ``ratio`` is NaN for ``whole``; ``n_syn_nodes`` is the cell's most common synthetic node count (the full
    graph's for ``whole``), ``pct_of_graph`` its share of the full graph in percent; ``mean``/``std`` are
    test scores in percent over ``n_seeds`` ok seeds (std 0.0 for one seed, NaN for none);
    ``mean_condense_s``/``mean_eval_s`` average the ok runs; ``n_failed`` counts failed seeds.
    """
    return _summary(_prepare(df))


def _summary(prep: _Prepared) -> pd.DataFrame:
    n_nodes_by_ds = _n_nodes_by_dataset(prep.runs)
    records = []
    for (dataset, arch, method, ratio), runs in _group(prep.runs, lambda r: r.cell).items():
        ok = [r for r in runs if r.ok]
        n_nodes = n_nodes_by_ds[dataset]
        n_syn = _mode(r.n_syn for r in _preferred(runs))
        if not math.isfinite(n_syn) and method == REFERENCE_METHOD:
            n_syn = n_nodes
        pct = 100.0 * n_syn / n_nodes if math.isfinite(n_syn) and math.isfinite(n_nodes) and n_nodes else _NAN
        mean, std = _mean_std([r.test for r in ok])
        records.append(
            {
                "dataset": dataset,
                "arch": arch,
                "method": method,
                "ratio": _NAN if ratio is None else ratio,
                "n_syn_nodes": int(n_syn) if math.isfinite(n_syn) else None,
                "pct_of_graph": pct,
                "metric": _metric(runs),
                "mean": mean,
                "std": std,
                "n_seeds": len(ok),
                "mean_condense_s": _mean_or_nan(r.condense_s for r in ok),
                "mean_eval_s": _mean_or_nan(r.eval_s for r in ok),
                "n_failed": len(runs) - len(ok),
            }
        )
    out = pd.DataFrame.from_records(records, columns=list(SUMMARY_COLUMNS))
    out["ratio"] = out["ratio"].astype("float64")
    out["n_syn_nodes"] = pd.array(out["n_syn_nodes"].tolist(), dtype="Int64")
    for c in ("pct_of_graph", "mean", "std", "mean_condense_s", "mean_eval_s"):
        out[c] = out[c].astype("float64")
    for c in ("n_seeds", "n_failed"):
        out[c] = out[c].astype("int64")
    return out


def cross_arch_table(df: pd.DataFrame, dataset: str, ratio: float) -> pd.DataFrame:
    """Mean test score (percent) per method (rows) and architecture (columns) at one ratio of a dataset.

    ``whole`` is the last row, with its full-graph score per architecture. NaN where a method has no ok run.
    Raises :class:`GCBenchError` for an unknown dataset or a ratio that the dataset was not run with.
    """
    prep = _prepare(df)
    runs = [r for r in prep.runs if r.dataset == dataset]
    if not runs:
        known = ", ".join(sorted({r.dataset for r in prep.runs}, key=_natural_key)) or "none"
        raise GCBenchError(f"no results for dataset {dataset!r} (have: {known})")
    want = float(f"{float(ratio):.10g}")
    ratios = sorted({r.ratio for r in runs if r.method != REFERENCE_METHOD})
    if want not in ratios:
        have = ", ".join(_fmt_ratio(q) for q in ratios) or "none"
        raise GCBenchError(f"dataset {dataset!r} has no results at ratio {_fmt_ratio(want)} (have: {have})")
    runs = [r for r in runs if r.method == REFERENCE_METHOD or r.ratio == want]
    methods = sorted({r.method for r in runs}, key=_method_key)
    archs = sorted({r.arch for r in runs}, key=_arch_key)
    cells = _group(runs, lambda r: (r.method, r.arch))
    data = {
        a: [_mean_std([r.test for r in cells.get((m, a), []) if r.ok])[0] for m in methods] for a in archs
    }
    table = pd.DataFrame(data, index=pd.Index(methods, name="method"), columns=pd.Index(archs, name="arch"))
    table.attrs = {"dataset": dataset, "ratio": want, "metric": _metric(runs)}
    return table


# ----------------------------------------------------------------------------------------------------------
# Rendering


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


def _md_escape(text: str) -> str:
    return text.replace("\\", "\\\\").replace("|", "\\|")


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
    lines = [f"### {r.heading}", ""]
    lines.append("| " + " | ".join(_md_escape(h) for h in r.header) + " |")
    lines.append("|" + "|".join([":---"] + ["---:"] * (len(r.header) - 1)) + "|")
    for method, texts, flags in r.rows:
        cells = []
        for text, flag in zip(texts, flags):
            if flag:
                value, sep, rest = text.partition(" (n=")
                text = f"**{value}**" + (f" (n={rest}" if sep else "")
            cells.append(_md_escape(text))
        lines.append("| " + " | ".join([_md_escape(method), *cells]) + " |")
    return "\n".join(lines) + "\n"


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
    prep = _prepare(df)
    tables = _build_tables(prep)
    if not tables:
        return "no results\n"
    blocks = [_console_table(t) for t in tables.values()]
    ok = sum(r.ok for r in prep.runs)
    failed = len(prep.runs) - ok
    foot = f"* best mean per ratio column (whole excluded). {ok} ok run(s), {failed} failed"
    if prep.n_superseded:
        foot += f", {prep.n_superseded} superseded row(s) ignored"
    foot += "."
    fails = _failed_cells(prep.runs)
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


def _failed_cells(runs: Sequence[_Run]) -> list[dict[str, str]]:
    """Failed runs grouped by cell and error message (canonical order)."""
    grouped: dict[tuple, list[int]] = defaultdict(list)
    for r in runs:
        if not r.ok:
            error = r.error or f"(no message; status {r.status or 'empty'!r})"
            if len(error) > _ERROR_CHARS:
                error = error[: _ERROR_CHARS - 1] + "…"
            grouped[(*r.cell, error)].append(r.seed)
    out = []
    for (dataset, arch, method, ratio, error), seeds in grouped.items():
        out.append(
            {
                "dataset": dataset,
                "arch": arch,
                "method": method,
                "ratio": "" if ratio is None else _fmt_ratio(ratio),
                "seeds": ", ".join(str(s) for s in sorted(seeds)),
                "error": error,
            }
        )
    return out


# ----------------------------------------------------------------------------------------------------------
# Files

_UNSAFE = re.compile(r"[^A-Za-z0-9._-]")
_RESERVED = {"summary", "readme"}


def safe_filename(name: str) -> str:
    """``name`` with every character outside ``[A-Za-z0-9._-]`` replaced by ``_`` (never hidden or empty)."""
    out = _UNSAFE.sub("_", name)
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


def _fmt(value: Any, spec: str) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)) or value is pd.NA:
        return ""
    return format(value, spec)


def _summary_csv(frame: pd.DataFrame) -> str:
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\n")
    writer.writerow(SUMMARY_COLUMNS)
    for rec in frame.to_dict("records"):
        ratio = rec["ratio"]
        n_syn = rec["n_syn_nodes"]
        writer.writerow(
            [
                rec["dataset"],
                rec["arch"],
                rec["method"],
                "" if math.isnan(ratio) else _fmt_ratio(ratio),
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
    return buf.getvalue()


def _write(path: Path, text: str) -> Path:
    with open(path, "w", encoding="utf-8", newline="") as fh:
        fh.write(text)
    return path


def _readme(prep: _Prepared, tables: dict[tuple[str, str], pd.DataFrame], stems: dict[str, str]) -> str:
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
        "| dataset | metric | archs | methods | ratios | ok runs | failed runs | files |",
        "|:---|:---|:---|---:|:---|---:|---:|:---|",
    ]
    by_ds = _group(prep.runs, lambda r: r.dataset)
    for ds, runs in by_ds.items():
        archs = [a for (d, a) in tables if d == ds]
        methods = {r.method for r in runs}
        ratios = sorted({r.ratio for r in runs if r.method != REFERENCE_METHOD})
        n_ok = sum(r.ok for r in runs)
        stem = stems[ds]
        cells = [
            _md_escape(ds),
            _md_escape(_metric(runs)),
            _md_escape(", ".join(archs)),
            str(len(methods)),
            ", ".join(_fmt_ratio(q) for q in ratios) or "-",
            str(n_ok),
            str(len(runs) - n_ok),
            f"[{stem}.md]({stem}.md), [{stem}.csv]({stem}.csv)",
        ]
        lines.append("| " + " | ".join(cells) + " |")
    if not by_ds:
        lines.append("| - | - | - | 0 | - | 0 | 0 | - |")
    lines += ["", "## Failed runs", ""]
    fails = _failed_cells(prep.runs)
    if fails:
        lines += [
            "| dataset | arch | method | ratio | seeds | error |",
            "|:---|:---|:---|---:|:---|:---|",
        ]
        for f in fails:
            cells = [f["dataset"], f["arch"], f["method"], f["ratio"] or "-", f["seeds"], f["error"]]
            lines.append("| " + " | ".join(_md_escape(c) for c in cells) + " |")
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
    prep = _prepare(df)
    tables = _build_tables(prep)
    full = _summary(prep)
    outdir = Path(outdir)
    outdir.mkdir(parents=True, exist_ok=True)
    datasets = list(dict.fromkeys(r.dataset for r in prep.runs))
    stems = _file_stems(datasets)

    written = [_write(outdir / "summary.csv", _summary_csv(full))]
    for ds in datasets:
        stem = stems[ds]
        part = full[full["dataset"] == ds]
        written.append(_write(outdir / f"{stem}.csv", _summary_csv(part)))
        md = [f"## {ds}", ""]
        for (d, _arch), table in tables.items():
            if d == ds:
                md += [to_markdown(table)]
        written.append(_write(outdir / f"{stem}.md", "\n".join(md)))
    written.append(_write(outdir / "README.md", _readme(prep, tables, stems)))
    return written
