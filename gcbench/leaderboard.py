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
  the same ``results.csv``), only rows with the ``config_hash`` of its latest row count (a rerun after a
  change of code or settings supersedes the old configuration), among them an ok row wins over failed ones
  and, among rows of the same kind, the one with the latest ``timestamp`` wins (remaining ties are broken
  by a canonical order of the row values). The other rows are *superseded*: ignored, and only counted in
  ``README.md``.
* One configuration per cell: if the runs kept for a (dataset, arch, method, ratio) cell carry different
  ``config_hash`` values (seeds computed with different code or settings under one label), the rows are
  refused with an error naming the cell (:func:`hash_conflicts`; ``--check`` reports it as a problem)
  instead of being averaged into one number.
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
import statistics
from collections import Counter, defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd

from gcbench.errors import GCBenchError
from gcbench.study import report_if_answered
from gcbench.util import md_escape, natural_key, slug

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
_OPTIONAL_COLUMNS = ("condense_s", "eval_s", "error", "timestamp", "config_hash")

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
    config_hash: str = ""

    @property
    def cell(self) -> tuple[str, str, str, float | None]:
        """(dataset, arch, method, ratio) with ``None`` for a NaN ratio, so the key compares equal."""
        return (self.dataset, self.arch, self.method, None if math.isnan(self.ratio) else self.ratio)

    def sort_key(self) -> tuple:
        return (
            natural_key(self.dataset),
            arch_key(self.arch),
            method_key(self.method),
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
            self.config_hash,
        )


@dataclass
class _Prepared:
    runs: list[_Run]  # one per (dataset, arch, method, ratio, seed), canonical order
    n_rows: int
    n_superseded: int


def _float_key(x: float) -> tuple[int, float]:
    return (1, 0.0) if math.isnan(x) else (0, x)


def method_key(method: str) -> tuple:
    return (method == REFERENCE_METHOD, natural_key(method))


def arch_key(arch: str) -> tuple:
    if arch in ARCH_ORDER:
        return (0, ARCH_ORDER.index(arch), natural_key(arch))
    return (1, 0, natural_key(arch))


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


def _prepare(df: pd.DataFrame, refuse_mixed: bool = True) -> _Prepared:
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
                config_hash=_text(cols["config_hash"][i]),
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
        # the configuration of the latest row; then ok beats failed, then latest timestamp, then the
        # canonical order of the remaining values
        latest = max(group, key=lambda r: (r.timestamp, r.sort_key())).config_hash
        kept.append(max((r for r in group if r.config_hash == latest),
                        key=lambda r: (r.ok, r.timestamp, r.sort_key())))
    kept.sort(key=_Run.sort_key)
    conflicts = _conflicts(kept) if refuse_mixed else []
    if conflicts:
        raise GCBenchError(f"{conflicts[0]}" + (f" (and {len(conflicts) - 1} more cell(s))" if len(conflicts) > 1
                                                else ""))
    return _Prepared(runs=kept, n_rows=len(df), n_superseded=len(runs) - len(kept))


def _conflicts(runs: Sequence[_Run]) -> list[str]:
    by_cell: dict[tuple, dict[str, list[int]]] = defaultdict(lambda: defaultdict(list))
    for run in runs:
        by_cell[run.cell][run.config_hash].append(run.seed)
    out = []
    for (ds, arch, method, ratio), hashes in by_cell.items():
        if len(hashes) > 1:
            what = "; ".join(f"{h or '(none)'}: seed(s) {', '.join(map(str, sorted(seeds)))}"
                             for h, seeds in sorted(hashes.items()))
            out.append(f"cell {ds}/{arch}/{method}" + ("" if ratio is None else f" r={fmt_ratio(ratio)}")
                       + f" mixes {len(hashes)} configurations (config_hash {what}); their scores cannot be "
                       "averaged into one cell: rerun those seeds with one configuration, or give the variants "
                       "different method labels or results folders")
    return out


def hash_conflicts(df: pd.DataFrame) -> list[str]:
    """One message per (dataset, arch, method, ratio) cell whose kept runs carry more than one config hash."""
    return _conflicts(_prepare(df, refuse_mixed=False).runs)


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


def fmt_ratio(ratio: float) -> str:
    return f"{ratio:.10g}"


def _fmt_pct(pct: float) -> str:
    if pct <= 0:
        return "0.0"
    decimals = min(4, max(1, 1 - math.floor(math.log10(pct))))
    return f"{pct:.{decimals}f}"


def _ratio_label(ratio: float, n_syn: float, n_nodes: float) -> str:
    label = f"r={fmt_ratio(ratio)}"
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


def _stats_frame(methods: list[str], columns: dict[Any, Any], cells: dict, level: str) -> pd.DataFrame:
    """Methods x columns of ``(mean, std, n)`` over the ok runs' test scores; ``columns`` maps each column
    label to its key in ``cells`` (keyed ``(method, key)``)."""
    data: dict[tuple[Any, str], list] = {}
    for label, key in columns.items():
        stats = [_mean_std([r.test for r in cells.get((m, key), []) if r.ok]) for m in methods]
        data[(label, "mean")] = [st[0] for st in stats]
        data[(label, "std")] = [st[1] for st in stats]
        data[(label, "n")] = [sum(r.ok for r in cells.get((m, key), [])) for m in methods]
    index = pd.MultiIndex.from_tuples(list(data), names=[level, "stat"])
    table = pd.DataFrame(data, index=pd.Index(methods, name="method"), columns=index)
    for label in columns:
        table[(label, "n")] = table[(label, "n")].astype("int64")
    return table


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
    methods = sorted({r.method for r in runs}, key=method_key)
    ratios = sorted({r.ratio for r in runs if r.method != REFERENCE_METHOD})
    labels = {_ratio_label(q, n_syn.get((dataset, q), _NAN), n_nodes): q for q in ratios}
    has_whole = any(r.method == REFERENCE_METHOD for r in runs)
    col_labels = list(labels) + ([FULL_GRAPH] if has_whole else [])
    cells = _group(runs, lambda r: (r.method, FULL_GRAPH if r.method == REFERENCE_METHOD else r.ratio))

    table = _stats_frame(methods, {label: labels.get(label, FULL_GRAPH) for label in col_labels}, cells, "column")
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
        known = ", ".join(sorted({r.dataset for r in prep.runs}, key=natural_key)) or "none"
        raise GCBenchError(f"no results for dataset {dataset!r} (have: {known})")
    want = float(f"{float(ratio):.10g}")
    ratios = sorted({r.ratio for r in runs if r.method != REFERENCE_METHOD})
    if want not in ratios:
        have = ", ".join(fmt_ratio(q) for q in ratios) or "none"
        raise GCBenchError(f"dataset {dataset!r} has no results at ratio {fmt_ratio(want)} (have: {have})")
    runs = [r for r in runs if r.method == REFERENCE_METHOD or r.ratio == want]
    methods = sorted({r.method for r in runs}, key=method_key)
    archs = sorted({r.arch for r in runs}, key=arch_key)
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
    lines.append("| " + " | ".join(md_escape(h) for h in r.header) + " |")
    lines.append("|" + "|".join([":---"] + ["---:"] * (len(r.header) - 1)) + "|")
    for method, texts, flags in r.rows:
        cells = []
        for text, flag in zip(texts, flags):
            if flag:
                value, sep, rest = text.partition(" (n=")
                text = f"**{value}**" + (f" (n={rest}" if sep else "")
            cells.append(md_escape(text))
        lines.append("| " + " | ".join([md_escape(method), *cells]) + " |")
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


def failed_cells(df: pd.DataFrame) -> list[dict[str, str]]:
    """The failed runs of the rows, grouped by cell and error message (canonical order): ``dataset``, ``arch``,
    ``method``, ``ratio`` (``""`` for ``whole``), ``seeds`` (comma-separated) and ``error`` (cut to a few
    hundred characters), all strings."""
    return _failed_cells(_prepare(df).runs)


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
                "ratio": "" if ratio is None else fmt_ratio(ratio),
                "seeds": ", ".join(str(s) for s in sorted(seeds)),
                "error": error,
            }
        )
    return out


# ----------------------------------------------------------------------------------------------------------
# Files

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
            md_escape(ds),
            md_escape(_metric(runs)),
            md_escape(", ".join(archs)),
            str(len(methods)),
            ", ".join(fmt_ratio(q) for q in ratios) or "-",
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
            lines.append("| " + " | ".join(md_escape(c) for c in cells) + " |")
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
    return _write_core(_prepare(df), Path(outdir), [], [])


def _write_core(prep: _Prepared, outdir: Path, extra_files: list[tuple[str, str]], extra_readme: list[str]
                ) -> list[Path]:
    tables = _build_tables(prep)
    full = _summary(prep)
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
    for name, text in extra_files:
        written.append(_write(outdir / name, text))
    readme = _readme(prep, tables, stems)
    if extra_readme:
        readme += "\n" + "\n".join(extra_readme)
    written.append(_write(outdir / "README.md", readme))
    return written


# ----------------------------------------------------------------------------------------------------------
# Cross-architecture tables

CROSS_ARCH_COLUMNS = ("dataset", "ratio", "n_syn_nodes", "method", "arch", "metric", "mean", "std", "n_seeds")
AVG = "avg"


def cross_arch_tables(df: pd.DataFrame) -> dict[tuple[str, float], pd.DataFrame]:
    """One table per (dataset, ratio) whose condensed graphs were evaluated with two or more architectures.

    Rows are the methods run at that ratio and, last, ``whole``: every architecture trained on the full
    graph (the reference row). Columns are ``(arch, stat)`` with ``stat`` in ``mean``/``std``/``n`` as in
    :func:`build_tables` (architectures in :data:`ARCH_ORDER`). ``attrs`` carries ``dataset``, ``ratio``,
    ``label`` (``r=0.5 (70 nodes, 2.6%)``), ``metric`` and ``archs``. Each seed's condensed graph is the
    same for every architecture (one condensation per method, ratio and seed).
    """
    return _cross_arch(_prepare(df))


def _cross_arch(prep: _Prepared) -> dict[tuple[str, float], pd.DataFrame]:
    n_nodes = _n_nodes_by_dataset(prep.runs)
    n_syn = _n_syn_by_ratio(prep.runs)
    out: dict[tuple[str, float], pd.DataFrame] = {}
    for dataset, runs in _group(prep.runs, lambda r: r.dataset).items():
        for q in sorted({r.ratio for r in runs if r.method != REFERENCE_METHOD}):
            at = [r for r in runs if r.method != REFERENCE_METHOD and r.ratio == q]
            archs = sorted({r.arch for r in at}, key=arch_key)
            if len(archs) < 2:
                continue
            sel = at + [r for r in runs if r.method == REFERENCE_METHOD and r.arch in archs]
            methods = sorted({r.method for r in sel}, key=method_key)
            cells = _group(sel, lambda r: (r.method, r.arch))
            table = _stats_frame(methods, {a: a for a in archs}, cells, "arch")
            table.attrs = {
                "dataset": dataset,
                "ratio": q,
                "label": _ratio_label(q, n_syn.get((dataset, q), _NAN), n_nodes[dataset]),
                "n_syn_nodes": n_syn.get((dataset, q), _NAN),
                "metric": _metric(sel),
                "archs": archs,
            }
            out[(dataset, q)] = table
    return out


def _arch_average(table: pd.DataFrame, method: str) -> float:
    """Mean over the table's architectures of a method's means; NaN unless every architecture has a score."""
    archs = table.attrs.get("archs") or list(dict.fromkeys(table.columns.get_level_values(0)))
    means = []
    for a in archs:
        if int(table.loc[method, (a, "n")]) == 0:
            return _NAN
        means.append(float(table.loc[method, (a, "mean")]))
    return math.fsum(sorted(means)) / len(means)


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
    avgs = {m: _arch_average(table, m) for m in methods}

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

    lines = [heading, "", "| " + " | ".join(["method", *archs, AVG]) + " |",
             "|" + "|".join([":---"] + ["---:"] * (len(archs) + 1)) + "|"]
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
        lines.append("| " + " | ".join([md_escape(m), *(md_escape(c) for c in cells)]) + " |")
    return "\n".join(lines) + "\n"


def _cross_arch_csv(tables: dict[tuple[str, float], pd.DataFrame]) -> str:
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\n")
    writer.writerow(CROSS_ARCH_COLUMNS)
    for (dataset, ratio), table in tables.items():
        n_syn = table.attrs["n_syn_nodes"]
        for method in table.index:
            for a in table.attrs["archs"]:
                n = int(table.loc[method, (a, "n")])
                writer.writerow([
                    dataset, fmt_ratio(ratio),
                    str(int(n_syn)) if math.isfinite(n_syn) and method != REFERENCE_METHOD else "",
                    method, a, table.attrs["metric"],
                    _fmt(float(table.loc[method, (a, "mean")]), ".4f") if n else "",
                    _fmt(float(table.loc[method, (a, "std")]), ".4f") if n else "", str(n),
                ])
    return buf.getvalue()


# ----------------------------------------------------------------------------------------------------------
# The full report: tables + cross-architecture + NAS + figure index + provenance

CROSS_ARCH_FILES = ("cross_arch.csv", "cross_arch.md")
NAS_FILES = ("nas.csv", "nas.md")


def _distinct(df: pd.DataFrame, column: str) -> list[str]:
    if column not in df.columns:
        return []
    return sorted({_text(v) for v in df[column].tolist()} - {""})


def report_files(df: pd.DataFrame, nas_rows: pd.DataFrame | None = None,
                 figures: Sequence[str] | None = None) -> dict[str, str]:
    """Every file :func:`write_report` writes, as ``{name: text}`` (a pure function of the inputs)."""
    import tempfile

    with tempfile.TemporaryDirectory() as tmp:
        paths = write_report(df, tmp, nas_rows=nas_rows, figures=figures)
        return {p.name: p.read_text(encoding="utf-8") for p in paths}


def write_report(df: pd.DataFrame, outdir: str | Path, *, nas_rows: pd.DataFrame | None = None,
                 figures: Sequence[str] | None = None) -> list[Path]:
    """:func:`write_leaderboard` plus, where the data has them, ``cross_arch.csv``/``.md`` (see
    :func:`cross_arch_tables`), ``nas.csv``/``.md`` (study summaries of :mod:`gcbench.nas`) and ``study.md``
    (the SR-GM study's verdicts, :func:`gcbench.study.report`, where the rows answer a question); the README
    gains sections for them, an index of ``figures`` (file stems relative to ``outdir``, without extension;
    each has a ``.png`` and an ``.svg``) and the devices and package versions recorded in the rows."""
    prep = _prepare(df)
    extra_files: list[tuple[str, str]] = []
    sections: list[str] = []
    cross = _cross_arch(prep)
    if cross:
        md = ["## Cross-architecture", ""] + [cross_arch_markdown(t) for t in cross.values()]
        extra_files += [("cross_arch.csv", _cross_arch_csv(cross)), ("cross_arch.md", "\n".join(md))]
        lines = [
            "## Cross-architecture",
            "",
            "Each condensed graph (one per method, ratio and seed) is evaluated with every architecture listed;",
            "`whole` is the reference row: each architecture trained on the full graph. `avg` is the mean over",
            "the architectures. Tables: [cross_arch.md](cross_arch.md), [cross_arch.csv](cross_arch.csv).",
            "",
            "| dataset | ratio | architectures | methods |",
            "|:---|:---|:---|---:|",
        ]
        for (dataset, _q), t in cross.items():
            n_methods = sum(1 for m in t.index if m != REFERENCE_METHOD)
            lines.append(f"| {md_escape(dataset)} | {md_escape(t.attrs['label'])} | "
                         f"{md_escape(', '.join(t.attrs['archs']))} | {n_methods} |")
        sections.append("\n".join(lines) + "\n")
    if nas_rows is not None and len(nas_rows):
        from gcbench.nas import nas_summary, summary_csv, summary_markdown

        nsum = nas_summary(nas_rows)
        extra_files += [("nas.csv", summary_csv(nsum)), ("nas.md", "## NAS\n\n" + summary_markdown(nsum))]
        sections.append(
            "## NAS\n\n"
            f"{len(nsum)} stud(ies) of {len(nas_rows)} configuration run(s): rank correlation between training on\n"
            "the condensed and on the full graph, and the full-graph score of the configuration chosen on the\n"
            "condensed graph. Tables: [nas.md](nas.md), [nas.csv](nas.csv); one row per configuration in `nas/`.\n")
    study = report_if_answered(df)
    if study is not None:
        extra_files.append(("study.md", study))
        sections.append(
            "## SR-GM study\n\n"
            "The rows answer some of the SR-GM study's questions (SR-GM against GCond, DosCond, SFGC and the\n"
            "coresets; each part of SR-GM and srgm-plus against the method without it): seed-paired differences\n"
            "with 95 % intervals and verdicts per dataset, ratio and architecture in [study.md](study.md)\n"
            "(`gcbench.study`).\n")
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
