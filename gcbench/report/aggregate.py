"""Aggregates of the normalised rows (:func:`gcbench.report.rows.prepare`): mean ± std per cell.

* :func:`build_tables`: per (dataset, arch) a methods x ratios table (``mean``/``std``/``n`` per column);
* :func:`summary`: the tidy long form, one row per (dataset, arch, method, ratio) cell;
* :func:`cross_arch_tables` / :func:`cross_arch_table`: methods x evaluation architectures at one ratio;
* :func:`failed_cells`: the failed runs grouped by cell and error message.

Each takes a results table; the ``*_of`` variants take rows already prepared (one normalisation for a whole
report). The conventions are those of :mod:`gcbench.report`.
"""

from __future__ import annotations

import math
import statistics
from collections import Counter, defaultdict
from collections.abc import Iterable, Sequence
from typing import Any

import pandas as pd

from gcbench.errors import GCBenchError
from gcbench.report.rows import REFERENCE_METHOD, Prepared, Run, arch_key, fmt_ratio, method_key, prepare
from gcbench.util import natural_key

FULL_GRAPH = "full graph"

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
_ERROR_CHARS = 300
_NAN = float("nan")


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


def metric_of(runs: Sequence[Run]) -> str:
    chosen = [r for r in runs if r.ok and r.metric] or [r for r in runs if r.metric]
    return "/".join(sorted({r.metric for r in chosen}))


def _preferred(runs: Sequence[Run]) -> list[Run]:
    return [r for r in runs if r.ok] or list(runs)


def _n_nodes_by_dataset(runs: Sequence[Run]) -> dict[str, float]:
    by_ds: dict[str, list[float]] = defaultdict(list)
    for r in runs:
        by_ds[r.dataset].append(r.n_nodes)
    return {ds: _mode(v) for ds, v in by_ds.items()}


def _n_syn_by_ratio(runs: Sequence[Run]) -> dict[tuple[str, float], float]:
    """Label node count per (dataset, ratio): each method's most common count, then the most common one."""
    by_method: dict[tuple[str, float], dict[str, list[Run]]] = defaultdict(lambda: defaultdict(list))
    for r in runs:
        if r.method != REFERENCE_METHOD:
            by_method[(r.dataset, r.ratio)][r.method].append(r)
    out = {}
    for key, methods in by_method.items():
        per_method = [_mode(r.n_syn for r in _preferred(rs)) for rs in methods.values()]
        out[key] = _mode(per_method)
    return out


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


def group_by(runs: Iterable[Run], key) -> dict:
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
    return tables_of(prepare(df))


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


def tables_of(prep: Prepared) -> dict[tuple[str, str], pd.DataFrame]:
    n_nodes = _n_nodes_by_dataset(prep.runs)
    n_syn = _n_syn_by_ratio(prep.runs)
    tables: dict[tuple[str, str], pd.DataFrame] = {}
    for (dataset, arch), runs in group_by(prep.runs, lambda r: (r.dataset, r.arch)).items():
        tables[(dataset, arch)] = _table(dataset, arch, runs, n_nodes[dataset], n_syn)
    return tables


def _table(
    dataset: str, arch: str, runs: list[Run], n_nodes: float, n_syn: dict[tuple[str, float], float]
) -> pd.DataFrame:
    methods = sorted({r.method for r in runs}, key=method_key)
    ratios = sorted({r.ratio for r in runs if r.method != REFERENCE_METHOD})
    labels = {_ratio_label(q, n_syn.get((dataset, q), _NAN), n_nodes): q for q in ratios}
    has_whole = any(r.method == REFERENCE_METHOD for r in runs)
    col_labels = list(labels) + ([FULL_GRAPH] if has_whole else [])
    cells = group_by(runs, lambda r: (r.method, FULL_GRAPH if r.method == REFERENCE_METHOD else r.ratio))

    table = _stats_frame(methods, {label: labels.get(label, FULL_GRAPH) for label in col_labels}, cells, "column")
    table.attrs = {
        "dataset": dataset,
        "arch": arch,
        "metric": metric_of(runs),
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
    return summary_of(prepare(df))


def summary_of(prep: Prepared) -> pd.DataFrame:
    n_nodes_by_ds = _n_nodes_by_dataset(prep.runs)
    records = []
    for (dataset, arch, method, ratio), runs in group_by(prep.runs, lambda r: r.cell).items():
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
                "metric": metric_of(runs),
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
    prep = prepare(df)
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
    cells = group_by(runs, lambda r: (r.method, r.arch))
    data = {
        a: [_mean_std([r.test for r in cells.get((m, a), []) if r.ok])[0] for m in methods] for a in archs
    }
    table = pd.DataFrame(data, index=pd.Index(methods, name="method"), columns=pd.Index(archs, name="arch"))
    table.attrs = {"dataset": dataset, "ratio": want, "metric": metric_of(runs)}
    return table



# ----------------------------------------------------------------------------------------------------------
# Cross-architecture tables


def cross_arch_tables(df: pd.DataFrame) -> dict[tuple[str, float], pd.DataFrame]:
    """One table per (dataset, ratio) whose condensed graphs were evaluated with two or more architectures.

    Rows are the methods run at that ratio and, last, ``whole``: every architecture trained on the full
    graph (the reference row). Columns are ``(arch, stat)`` with ``stat`` in ``mean``/``std``/``n`` as in
    :func:`build_tables` (architectures in :data:`ARCH_ORDER`). ``attrs`` carries ``dataset``, ``ratio``,
    ``label`` (``r=0.5 (70 nodes, 2.6%)``), ``metric`` and ``archs``. Each seed's condensed graph is the
    same for every architecture (one condensation per method, ratio and seed).
    """
    return cross_arch_of(prepare(df))


def cross_arch_of(prep: Prepared) -> dict[tuple[str, float], pd.DataFrame]:
    n_nodes = _n_nodes_by_dataset(prep.runs)
    n_syn = _n_syn_by_ratio(prep.runs)
    out: dict[tuple[str, float], pd.DataFrame] = {}
    for dataset, runs in group_by(prep.runs, lambda r: r.dataset).items():
        for q in sorted({r.ratio for r in runs if r.method != REFERENCE_METHOD}):
            at = [r for r in runs if r.method != REFERENCE_METHOD and r.ratio == q]
            archs = sorted({r.arch for r in at}, key=arch_key)
            if len(archs) < 2:
                continue
            sel = at + [r for r in runs if r.method == REFERENCE_METHOD and r.arch in archs]
            methods = sorted({r.method for r in sel}, key=method_key)
            cells = group_by(sel, lambda r: (r.method, r.arch))
            table = _stats_frame(methods, {a: a for a in archs}, cells, "arch")
            table.attrs = {
                "dataset": dataset,
                "ratio": q,
                "label": _ratio_label(q, n_syn.get((dataset, q), _NAN), n_nodes[dataset]),
                "n_syn_nodes": n_syn.get((dataset, q), _NAN),
                "metric": metric_of(sel),
                "archs": archs,
            }
            out[(dataset, q)] = table
    return out


def arch_average(table: pd.DataFrame, method: str) -> float:
    """Mean over the table's architectures of a method's means; NaN unless every architecture has a score."""
    archs = table.attrs.get("archs") or list(dict.fromkeys(table.columns.get_level_values(0)))
    means = []
    for a in archs:
        if int(table.loc[method, (a, "n")]) == 0:
            return _NAN
        means.append(float(table.loc[method, (a, "mean")]))
    return math.fsum(sorted(means)) / len(means)


# ----------------------------------------------------------------------------------------------------------
# Failed runs


def failed_cells(df: pd.DataFrame) -> list[dict[str, str]]:
    """The failed runs of the rows, grouped by cell and error message (canonical order): ``dataset``, ``arch``,
    ``method``, ``ratio`` (``""`` for ``whole``), ``seeds`` (comma-separated) and ``error`` (cut to a few
    hundred characters), all strings."""
    return failed_cells_of(prepare(df).runs)


def failed_cells_of(runs: Sequence[Run]) -> list[dict[str, str]]:
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
