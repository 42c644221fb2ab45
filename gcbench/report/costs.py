"""What each cell cost and what it made: ``costs.md`` of a leaderboard folder.

The documents used to type these figures by hand (condensation seconds per seed, edges of the condensed
graphs, peak memory); they are generated from the rows instead, so ``gcbench leaderboard --check`` catches
a stale one and the documents quote them (:mod:`gcbench.report.quotes`).

Per dataset, one row per (method, ratio): the number of condensed graphs (one per seed; every architecture
of a seed is evaluated on the same graph), the condensation's wall-clock seconds and, where the rows record
it, the epochs (or iterations) it ran, each as median [min-max] over the graphs; the evaluation seconds
per row over every (architecture, seed) row; the largest peak resident memory of any row; the synthetic
node count and the synthetic edge count (undirected pairs as stored, median [min-max]). Where the rows
hold several architectures, a second table gives the median evaluation seconds of each architecture.
Seconds are those of the machine that made the rows (the README's provenance; processes shared its
cores, so read them as upper bounds and compare within a table).
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import pandas as pd

from gcbench.report.render import markdown_table
from gcbench.report.rows import REFERENCE_METHOD, arch_key, fmt_ratio, method_key, ok_rows
from gcbench.util import natural_key

FILE = "costs.md"


def _latest_ok(results: pd.DataFrame) -> pd.DataFrame:
    """The ok rows, one per (dataset, arch, method, ratio, seed): the latest where a cell was run twice."""
    ok = ok_rows(results)
    if ok.empty:
        return ok
    ok["ratio"] = [float("nan") if m == REFERENCE_METHOD else float(f"{float(r):.10g}")
                   for m, r in zip(ok["method"], ok["ratio"], strict=True)]
    ok["ratio_key"] = ok["ratio"].fillna(-1.0)
    if "timestamp" in ok.columns:
        ok = ok.sort_values("timestamp", kind="stable")
    return ok.drop_duplicates(["dataset", "arch", "method", "ratio_key", "seed"], keep="last")


def _num(df: pd.DataFrame, col: str) -> pd.Series:
    if col not in df.columns:
        return pd.Series([math.nan] * len(df), index=df.index, dtype="float64")
    return pd.to_numeric(df[col], errors="coerce").astype("float64")


def _spread(values: Sequence[float], fmt) -> str:
    v = sorted(x for x in values if math.isfinite(x))
    if not v:
        return "-"
    med = float(pd.Series(v).median())
    if v[0] == v[-1]:
        return fmt(med)
    return f"{fmt(med)} [{fmt(v[0])}-{fmt(v[-1])}]"


def _secs(x: float) -> str:
    return f"{x:,.0f}" if x >= 100 else f"{x:.1f}"


def _count(x: float) -> str:
    return f"{x:,.0f}"


def costs_table(results: pd.DataFrame) -> pd.DataFrame:
    """One row per (dataset, method, ratio) of the ok rows: counts and the lists of figures behind them."""
    ok = _latest_ok(results)
    cols = ["dataset", "method", "ratio", "graphs", "rows", "condense_s", "epochs", "eval_s", "peak_mb",
            "syn_nodes", "syn_edges", "eval_by_arch"]
    if ok.empty:
        return pd.DataFrame(columns=cols)
    ok["_condense_s"] = _num(ok, "condense_s")
    ok["_epochs"] = _num(ok, "condense_epochs")
    ok["_eval_s"] = _num(ok, "eval_s")
    ok["_peak"] = _num(ok, "peak_mem_mb")
    ok["_nodes"] = _num(ok, "n_syn_nodes")
    ok["_edges"] = _num(ok, "n_syn_edges")
    records = []
    for (dataset, method, rkey), part in ok.groupby(["dataset", "method", "ratio_key"], sort=False):
        graphs = part.groupby("seed").agg(c=("_condense_s", "max"), e=("_epochs", "max"),
                                          n=("_nodes", "max"), m=("_edges", "max"))
        by_arch = {a: float(g.median()) for a, g in part.groupby("arch")["_eval_s"] if g.notna().any()}
        records.append({
            "dataset": dataset, "method": method, "ratio": "full graph" if rkey < 0 else fmt_ratio(float(rkey)),
            "_order": float(rkey),
            "graphs": len(graphs), "rows": len(part),
            "condense_s": [] if method == REFERENCE_METHOD else graphs["c"].tolist(),
            "epochs": graphs["e"].tolist(), "eval_s": part["_eval_s"].tolist(),
            "peak_mb": float(part["_peak"].max()) if part["_peak"].notna().any() else math.nan,
            "syn_nodes": graphs["n"].tolist(), "syn_edges": graphs["m"].tolist(), "eval_by_arch": by_arch,
        })
    records.sort(key=lambda r: (natural_key(r["dataset"]), method_key(r["method"]), r.pop("_order")))
    return pd.DataFrame.from_records(records, columns=cols)


def costs_markdown(table: pd.DataFrame) -> str | None:
    """``costs.md``, or None where there is no ok row."""
    if table.empty:
        return None
    lines = ["## Costs", "",
             "What each (method, ratio) cost and made, from the rows: `graphs` condensed graphs (one per seed), "
             "condensation wall-clock seconds and epochs (or iterations) run per graph, evaluation seconds per "
             "(architecture, seed) row, each as median [min-max]; the largest peak resident memory of a row; "
             "synthetic nodes and stored edges of the condensed graphs (the full graph's for `whole`). Seconds "
             "are the recording machine's (README, provenance), with other processes sharing its cores: compare "
             "within a table.", ""]
    for ds in dict.fromkeys(table["dataset"]):
        part = table[table["dataset"] == ds].to_dict("records")
        lines += [f"### {ds}", ""]
        has_epochs = any(math.isfinite(x) for r in part for x in r["epochs"])
        header = ["method", "ratio", "graphs", "condensation s"] + (["epochs run"] if has_epochs else [])
        header += ["evaluation s per row", "peak MB", "synthetic nodes", "synthetic edges"]
        rows = []
        for r in part:
            row = [r["method"], r["ratio"], r["graphs"],
                   _spread(r["condense_s"], _secs)]
            if has_epochs:
                row.append(_spread(r["epochs"], _count))
            row += [_spread(r["eval_s"], _secs), "-" if not math.isfinite(r["peak_mb"]) else _count(r["peak_mb"]),
                    _spread(r["syn_nodes"], _count), _spread(r["syn_edges"], _count)]
            rows.append(row)
        lines += [markdown_table(header, rows, "llr" + "r" * (len(header) - 3)), ""]
        archs = sorted({a for r in part for a in r["eval_by_arch"]}, key=arch_key)
        if len(archs) > 1:
            lines += [f"#### {ds}: evaluation seconds per row by architecture (median)", ""]
            rows = [[r["method"], r["ratio"]]
                    + [_secs(r["eval_by_arch"][a]) if a in r["eval_by_arch"] else "-" for a in archs]
                    for r in part]
            lines += [markdown_table(["method", "ratio", *archs], rows, "ll" + "r" * len(archs)), ""]
    return "\n".join(lines)
