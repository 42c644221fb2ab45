"""The SR-GM study report: does SR-GM beat GCond, and does each of its parts help?

:func:`report` reads the rows of a results folder (a run of ``leaderboards/suites/srgm-study*.yaml``) and
writes Markdown with

* per evaluation architecture, every method's test score per dataset and ratio as mean ± 95 % CI (n seeds);
* the mean edge count of each method's condensed graphs (an empty or complete graph is a finding);
* the questions below, each answered per dataset, ratio and architecture by the seed-paired difference
  ``a - b`` with its 95 % CI and a verdict (``better`` / ``worse`` when the interval excludes 0, ``no
  difference shown`` otherwise; :mod:`gcbench.stats`), a one-line count per question and the same counts
  per dataset (:func:`by_dataset`: which conflict levels a part helps at).

Questions compare *variants*: a row's method label with its budget options (:data:`BUDGET_OPTIONS`, e.g.
``epochs=100``) removed, so a reduced-epoch study answers the same questions. Two labels of one variant at
different budgets in the same rows are ambiguous and raise :class:`GCBenchError`.

``srgm:lambda=0`` is the faithful method without damping; with its default ``decouple_target: damping`` the
decoupling only acts inside the damping term, so it is also "without decoupling": the GCond-style matching
SR-GM builds on (GCN matching model, SR-GM's learning rates). ``gcond`` is GCond at its own defaults.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import pandas as pd

from gcbench.errors import GCBenchError
from gcbench.report.render import frame_markdown
from gcbench.report.rows import conflict_levels, ok_rows
from gcbench.spec import canonical, parse_spec
from gcbench.stats import mean_ci, paired_diff_ci, verdict

#: options that set a method's budget, not what it does: dropped when rows are matched to questions
BUDGET_OPTIONS = ("epochs", "val_every", "iterations", "select_every")


@dataclass(frozen=True)
class Question:
    text: str
    a: str  # variant (label without budget options)
    b: str


QUESTIONS = (
    Question("SR-GM beats GCond", "srgm", "gcond"),
    Question("SR-GM beats DosCond", "srgm", "doscond"),
    Question("SR-GM beats SFGC", "srgm", "sfgc"),
    # SR-GM without damping (and so without decoupling, see above) is GCond-style matching at SR-GM's settings:
    # this separates what SR-GM's setup gives over GCond from what its two parts give
    Question("SR-GM's base (lambda=0, no parts) beats GCond", "srgm:lambda=0", "gcond"),
    Question("damping (with its decoupling) helps SR-GM", "srgm", "srgm:lambda=0"),
    Question("decoupling helps SR-GM's damping", "srgm", "srgm:decouple=false"),
    Question("srgm-plus beats SR-GM", "srgm-plus", "srgm"),
    Question("srgm-plus beats GCond", "srgm-plus", "gcond"),
    Question("srgm-plus: its damping helps", "srgm-plus", "srgm-plus:lambda=0"),
    Question("srgm-plus: decoupling the update (not only the damping field) helps", "srgm-plus",
             "srgm-plus:decouple_target=damping"),
    Question("srgm-plus: the differentiable damping gradient helps", "srgm-plus",
             "srgm-plus:damping_grad=constant"),
    Question("srgm-plus: the normalised damping helps", "srgm-plus", "srgm-plus:damping_norm=none"),
    Question("srgm-plus: per-modality scaling helps", "srgm-plus", "srgm-plus:modality_scale=false"),
    Question("SR-GM beats the best coreset", "srgm", "best coreset"),
)
CORESETS = ("random", "herding", "kcenter")


def variant(label: str) -> str:
    """A method label without its budget options: ``srgm:epochs=100:lambda=0`` -> ``srgm:lambda=0``."""
    base, opts = parse_spec(label, "method")
    return canonical(base, {k: v for k, v in opts.items() if k not in BUDGET_OPTIONS})


def _ok_rows(results: pd.DataFrame) -> pd.DataFrame:
    ok = ok_rows(results)  # ok rows with ``score`` in percent, as the plots read them
    if ok.empty:
        raise GCBenchError("no ok rows to report on")
    ok["variant"] = ok["method"].astype(str).map(variant)
    clash = ok.groupby("variant")["method"].nunique()
    if (clash > 1).any():
        v = clash[clash > 1].index[0]
        labels = sorted(set(ok[ok["variant"] == v]["method"]))
        raise GCBenchError(f"variant {v!r} appears at several budgets ({', '.join(labels)}): report one run")
    ok["ratio"] = pd.to_numeric(ok["ratio"], errors="coerce")
    return ok


def _cell(m: float, h: float, n: int) -> str:
    if n == 0:
        return ""
    return f"{m:.1f} ± {h:.1f} ({n})" if not math.isnan(h) else f"{m:.1f} ({n})"


def _columns(ok: pd.DataFrame) -> list[tuple[str, float]]:
    cond = ok[ok["ratio"].notna()]
    return sorted({(str(d), float(q)) for d, q in zip(cond["dataset"], cond["ratio"])})


def _order(variants: set[str]) -> list[str]:
    first = [*CORESETS, "gcond", "doscond", "sfgc", "srgm", "srgm-plus"]
    return sorted(variants, key=lambda v: (v == "whole", first.index(v) if v in first else len(first), v))


def scores(ok: pd.DataFrame, arch: str) -> pd.DataFrame:
    """Rows = variants, columns = ``dataset @ r``: mean ± 95 % CI (n seeds); ``whole`` in every column."""
    sub = ok[ok["arch"] == arch]
    cols = _columns(sub)
    table = {}
    for v in _order(set(sub["variant"])):
        rows = sub[sub["variant"] == v]
        table[v] = {f"{d} @ r={q:g}": _cell(*mean_ci(rows[(rows["dataset"] == d) & (
            rows["ratio"].isna() if v == "whole" else rows["ratio"] == q)]["score"])) for d, q in cols}
    return pd.DataFrame.from_dict(table, orient="index")


def edges(ok: pd.DataFrame) -> pd.DataFrame:
    """Mean edge count of the condensed graphs (one per seed: the architectures share it) and nodes."""
    sub = ok[ok["ratio"].notna()].drop_duplicates(["variant", "dataset", "ratio", "seed"])
    cols = _columns(sub)
    table = {}
    for v in _order(set(sub["variant"])):
        rows = sub[sub["variant"] == v]
        out = {}
        for d, q in cols:
            r = rows[(rows["dataset"] == d) & (rows["ratio"] == q)]
            if len(r):
                n = int(r["n_syn_nodes"].iloc[0])
                out[f"{d} @ r={q:g}"] = f"{r['n_syn_edges'].astype(float).mean():.0f} / {n * (n - 1) // 2}"
        table[v] = out
    return pd.DataFrame.from_dict(table, orient="index")


def _per_seed(ok: pd.DataFrame, v: str, d: str, q: float, arch: str) -> dict[int, float]:
    if v == "best coreset":  # the coreset with the best mean in this cell, chosen per cell
        best, best_mean = {}, -math.inf
        for c in CORESETS:
            s = _per_seed(ok, c, d, q, arch)
            m = mean_ci(s.values())[0] if s else -math.inf
            if m > best_mean:
                best, best_mean = s, m
        return best
    r = ok[(ok["variant"] == v) & (ok["dataset"] == d) & (ok["ratio"] == q) & (ok["arch"] == arch)]
    return {int(s): float(x) for s, x in zip(r["seed"], r["score"])}


def answers(ok: pd.DataFrame) -> pd.DataFrame:
    """One row per question, dataset, ratio and architecture where both sides have rows."""
    out = []
    for qn in QUESTIONS:
        for arch in sorted(set(ok["arch"])):
            for d, q in _columns(ok):
                a, b = _per_seed(ok, qn.a, d, q, arch), _per_seed(ok, qn.b, d, q, arch)
                if not a or not b:
                    continue
                diff, half, n = paired_diff_ci(a, b)
                out.append({"question": qn.text, "a": qn.a, "b": qn.b, "dataset": d, "ratio": q, "arch": arch,
                            "diff": diff, "ci": half, "n": n, "verdict": verdict(diff, half)})
    return pd.DataFrame(out, columns=["question", "a", "b", "dataset", "ratio", "arch", "diff", "ci", "n",
                                      "verdict"])


def _tally(cells: pd.DataFrame) -> tuple[float, int, int, int]:
    """Mean paired difference of some answer cells and how many say better / worse / no difference."""
    counts = cells["verdict"].value_counts()
    return (float(cells["diff"].mean()), int(counts.get("better", 0)), int(counts.get("worse", 0)),
            int(counts.get("no difference shown", 0)))


def summary(ans: pd.DataFrame) -> pd.DataFrame:
    """Per question: how many (dataset, ratio, arch) cells say better / worse / no difference."""
    rows = []
    for text, g in ans.groupby("question", sort=False):
        diff, better, worse, same = _tally(g)
        rows.append({"question": text, "cells": len(g), "better": better, "worse": worse,
                     "no difference shown": same, "mean diff (points)": f"{diff:+.1f}"})
    return pd.DataFrame(rows, columns=["question", "cells", "better", "worse", "no difference shown",
                                       "mean diff (points)"])


def by_dataset(ans: pd.DataFrame) -> pd.DataFrame:
    """Rows = questions, columns = datasets: ``mean diff: better / worse / no difference shown`` over that
    dataset's (ratio, arch) cells, so where (e.g. at which conflict level) a part helps reads at a glance."""
    table: dict[str, dict[str, str]] = {}
    for (text, d), g in ans.groupby(["question", "dataset"], sort=False):
        diff, better, worse, same = _tally(g)
        table.setdefault(text, {})[d] = f"{diff:+.1f}: {better} / {worse} / {same}"
    return pd.DataFrame.from_dict(table, orient="index")[sorted(set(ans["dataset"]))]


def short_names(datasets: list[str]) -> dict[str, str]:
    """Readable column names: a generated dataset seen at several conflict levels becomes ``<name>
    conflict=<level>`` (the level as the conflict-level plot reads it); every other name is
    kept. Falls back to the full names if two would collide."""
    levels = conflict_levels(pd.DataFrame({"dataset": sorted(set(datasets))}))
    level = dict(zip(levels["dataset"], levels["level"])) if not levels.empty else {}
    names = {d: f"{parse_spec(d, 'dataset')[0]} conflict={level[d]:g}" if d in level else d for d in datasets}
    return names if len(set(names.values())) == len(names) else {d: d for d in datasets}


def report(results: pd.DataFrame, title: str = "SR-GM study") -> str:
    """The whole Markdown report (see the module docstring)."""
    ok, names, ans = _prepared(results)
    return _render(ok, names, ans, title)


def report_if_answered(results: pd.DataFrame, title: str = "SR-GM study") -> str | None:
    """:func:`report` where the rows answer at least one question, else None (rows without a question's
    two sides, no ok rows, or one variant at several budgets: a leaderboard of such rows has no study)."""
    try:
        ok, names, ans = _prepared(results)
    except GCBenchError:
        return None
    return _render(ok, names, ans, title) if len(ans) else None


def _prepared(results: pd.DataFrame) -> tuple[pd.DataFrame, dict[str, str], pd.DataFrame]:
    ok = _ok_rows(results)
    names = short_names(sorted(set(ok["dataset"].astype(str))))
    ok["dataset"] = ok["dataset"].astype(str).map(names)
    return ok, names, answers(ok)


def _render(ok: pd.DataFrame, names: dict[str, str], ans: pd.DataFrame, title: str) -> str:
    legend = [f"* `{short}`: `{full}`" for full, short in sorted(names.items(), key=lambda kv: kv[1]) if short != full]
    parts = [f"# {title}\n",
             "Test scores in %, mean ± 95 % Student-t interval over seeds (n). Differences are paired by seed.\n",
             *(["Datasets:\n", "\n".join(legend) + "\n"] if legend else []),
             "## Verdicts\n", frame_markdown(summary(ans)),
             "\n## Verdicts per dataset\n",
             "Mean paired difference in points, then how many (ratio, architecture) cells say better / worse /"
             " no difference shown.\n", frame_markdown(by_dataset(ans), "question"),
             "\n## Per cell\n"]
    table = ans.copy()
    table["ratio"] = table["ratio"].map(lambda q: f"{q:g}")
    table["diff ± CI"] = [f"{d:+.1f} ± {h:.1f}" if not math.isnan(h) else f"{d:+.1f}"
                          for d, h in zip(table["diff"], table["ci"])]
    parts.append(frame_markdown(table[["question", "dataset", "ratio", "arch", "diff ± CI", "n", "verdict"]]))
    for arch in sorted(set(ok["arch"])):
        parts += [f"\n## Scores, {arch}\n", frame_markdown(scores(ok, arch), "method")]
    parts += ["\n## Condensed graphs: mean edges / possible edges\n", frame_markdown(edges(ok), "method")]
    return "\n".join(parts)
