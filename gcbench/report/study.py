"""Study reports: paired comparisons of method variants, read from a study file (``study.md``).

A *study* is data (:class:`Study`): a title, a README paragraph, named groups of variants and questions
``a beats b``. The SR-GM study (``gcbench/report/srgm_study.yaml``) is the default; a suite names its own
with a ``study:`` section (a file relative to the suite, or the mapping itself), which ``gcbench run
--suite`` writes next to the rows as ``study.yaml`` and :func:`~gcbench.report.folder.publish` carries into
the leaderboard folder, so a folder's report is a function of its files alone.

:func:`report` reads the rows of a results folder and writes Markdown with

* per evaluation architecture, every variant's test score per dataset and ratio as mean ± 95 % CI (n seeds);
* the mean edge count of each method's condensed graphs (an empty or complete graph is a finding);
* the study's questions, each answered per dataset, ratio and architecture by the seed-paired difference
  ``a - b`` with its 95 % CI and a verdict (``better`` / ``worse`` when the interval excludes 0, ``no
  difference shown`` otherwise; :mod:`gcbench.stats`), a one-line count per question and the same counts
  per dataset (:func:`by_dataset`: which conflict levels a part helps at).

Questions compare *variants*: a row's method label with its budget options (:data:`BUDGET_OPTIONS`, e.g.
``epochs=100``) removed, so a reduced-epoch study answers the same questions. Two labels of one variant at
different budgets in the same rows are ambiguous and raise :class:`GCBenchError`. A side of a question may
name a group (``best coreset``): per cell, the member with the best mean validation score. Every cell also
gets the paired t-test's p-value, adjusted by Holm's method over all cells of the report (``verdict_holm``).
"""

from __future__ import annotations

import functools
import math
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd

from gcbench.errors import GCBenchError
from gcbench.report.render import frame_markdown
from gcbench.report.rows import conflict_levels, log_frame, ok_rows
from gcbench.resources import load_yaml
from gcbench.spec import canonical, parse_spec
from gcbench.stats import holm, mean_ci, paired_diff_ci, paired_p, verdict

#: options that set a method's budget, not what it does: dropped when rows are matched to questions
BUDGET_OPTIONS = ("epochs", "val_every", "iterations", "select_every", "patience")
#: the study a folder without its own ``study.yaml`` reports
DEFAULT_STUDY_FILE = Path(__file__).with_name("srgm_study.yaml")
#: the name of a results or leaderboard folder's study file
STUDY_FILE = "study.yaml"
STUDY_KEYS = ("title", "description", "groups", "order", "questions")


@dataclass(frozen=True)
class Question:
    text: str
    a: str  # variant (label without budget options) or group name
    b: str


@dataclass(frozen=True)
class Study:
    """The questions of a study and how its report reads (see the module docstring)."""

    title: str
    description: str
    questions: tuple[Question, ...]
    groups: dict[str, tuple[str, ...]] = field(default_factory=dict)
    order: tuple[str, ...] = ()


def parse_study(data: Any, where: str = "study") -> Study:
    """A :class:`Study` from its parsed YAML mapping; a malformed one raises :class:`GCBenchError` (one line)."""
    def fail(msg: str) -> GCBenchError:
        return GCBenchError(f"{where}: {msg}")

    if not isinstance(data, dict):
        raise fail("expected a mapping with title, description, groups, order and questions")
    unknown = sorted(set(map(str, data)) - set(STUDY_KEYS))
    if unknown:
        raise fail(f"unknown key(s) {', '.join(map(repr, unknown))}; known: {', '.join(STUDY_KEYS)}")
    groups_data = data.get("groups") or {}
    if not isinstance(groups_data, dict):
        raise fail("'groups' must map a group name to a list of variants")
    groups: dict[str, tuple[str, ...]] = {}
    for name, members in groups_data.items():
        if not isinstance(members, list) or not members:
            raise fail(f"group {name!r} must be a non-empty list of variants")
        groups[str(name)] = tuple(_variant_of(m, where) for m in members)
    order = data.get("order") or []
    if not isinstance(order, list):
        raise fail("'order' must be a list of variants")
    entries = data.get("questions")
    if not isinstance(entries, list) or not entries:
        raise fail("'questions' must be a non-empty list of [text, a, b] (or {question, a, b})")
    questions = []
    for i, e in enumerate(entries):
        if isinstance(e, dict) and set(map(str, e)) == {"question", "a", "b"}:
            e = [e["question"], e["a"], e["b"]]
        if not isinstance(e, list) or len(e) != 3 or not all(isinstance(x, str) and x.strip() for x in e):
            raise fail(f"questions[{i}] must be [text, a, b] (three non-empty strings), got {e!r}")
        text, a, b = (x.strip() for x in e)
        a, b = (side if side in groups else _variant_of(side, where) for side in (a, b))
        if a == b:
            raise fail(f"questions[{i}] ({text!r}) compares {a!r} with itself")
        questions.append(Question(text, a, b))
    texts = [q.text for q in questions]
    if len(set(texts)) != len(texts):
        raise fail(f"two questions read {next(t for t in texts if texts.count(t) > 1)!r}")
    return Study(title=str(data.get("title") or "Study").strip(), description=str(data.get("description") or
                 "").strip(), questions=tuple(questions), groups=groups,
                 order=tuple(_variant_of(v, where) for v in order))


def _variant_of(label: Any, where: str) -> str:
    try:
        return variant(str(label))
    except GCBenchError as exc:
        raise GCBenchError(f"{where}: {exc}") from None


def load_study(path: str | os.PathLike) -> Study:
    """Read and parse a study file (see :func:`parse_study`)."""
    return parse_study(load_yaml(Path(path), "study file"), f"study file {path}")


@functools.lru_cache(maxsize=1)
def default_study() -> Study:
    """The SR-GM study (``gcbench/report/srgm_study.yaml``)."""
    return load_study(DEFAULT_STUDY_FILE)


def folder_study(folder: str | os.PathLike) -> Study:
    """The study of a results or leaderboard folder: its ``study.yaml``, else :func:`default_study`."""
    p = Path(folder) / STUDY_FILE
    return load_study(p) if p.is_file() else default_study()


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


def _cell(m: float, h: float, n: int, digits: int = 1) -> str:
    if n == 0:
        return ""
    return f"{m:.{digits}f} ± {h:.{digits}f} ({n})" if not math.isnan(h) else f"{m:.{digits}f} ({n})"


def _diff_text(d: float, h: float, digits: int = 1) -> str:
    """A paired difference with its interval half-width (the width left out below two seeds)."""
    return f"{d:+.{digits}f} ± {h:.{digits}f}" if not math.isnan(h) else f"{d:+.{digits}f}"


def _p_text(p: float) -> str:
    return f"{p:.3f}" if not math.isnan(p) else ""


def _columns(ok: pd.DataFrame) -> list[tuple[str, float]]:
    cond = ok[ok["ratio"].notna()]
    return sorted({(str(d), float(q)) for d, q in zip(cond["dataset"], cond["ratio"])})


def _order(variants: set[str], first: tuple[str, ...]) -> list[str]:
    return sorted(variants, key=lambda v: (v == "whole", first.index(v) if v in first else len(first), v))


def scores(ok: pd.DataFrame, arch: str, study: Study | None = None) -> pd.DataFrame:
    """Rows = variants, columns = ``dataset @ r``: mean ± 95 % CI (n seeds); ``whole`` in every column."""
    order = (study or default_study()).order
    sub = ok[ok["arch"] == arch]
    cols = _columns(sub)
    table = {}
    for v in _order(set(sub["variant"]), order):
        rows = sub[sub["variant"] == v]
        table[v] = {f"{d} @ r={q:g}": _cell(*mean_ci(rows[(rows["dataset"] == d) & (
            rows["ratio"].isna() if v == "whole" else rows["ratio"] == q)]["score"])) for d, q in cols}
    return pd.DataFrame.from_dict(table, orient="index")


def edges(ok: pd.DataFrame, study: Study | None = None) -> pd.DataFrame:
    """Mean edge count of the condensed graphs (one per seed: the architectures share it) and nodes."""
    order = (study or default_study()).order
    sub = ok[ok["ratio"].notna()].drop_duplicates(["variant", "dataset", "ratio", "seed"])
    cols = [(d, q, f"{d} @ r={q:g}") for d, q in _columns(sub)]
    table = {}
    for v in _order(set(sub["variant"]), order):
        rows = sub[sub["variant"] == v]
        out = {}
        for d, q, name in cols:
            r = rows[(rows["dataset"] == d) & (rows["ratio"] == q)]
            if len(r):
                n = int(r["n_syn_nodes"].iloc[0])
                out[name] = f"{r['n_syn_edges'].astype(float).mean():.0f} / {n * (n - 1) // 2}"
        table[v] = out
    # every column has a variant with rows; given explicitly, they keep the score tables' (dataset, ratio)
    # order instead of the order the first variant reveals them
    return pd.DataFrame.from_dict(table, orient="index", columns=[name for _, _, name in cols])


def _per_seed(ok: pd.DataFrame, v: str, d: str, q: float, arch: str,
              groups: dict[str, tuple[str, ...]]) -> tuple[dict[int, float], str]:
    """Test scores by seed of variant ``v`` in one cell, and the variant read. A group reads the member with
    the best mean *validation* score in this cell (ties: the first listed), never the best test score."""
    if v in groups:
        best: tuple[dict[int, float], str] = ({}, "")
        best_val = -math.inf
        for c in groups[v]:
            r = _cell_rows(ok, c, d, q, arch)
            val = float(pd.to_numeric(r["val_score"], errors="coerce").mean()) if len(r) else math.nan
            if not math.isnan(val) and val > best_val:
                best, best_val = _per_seed(ok, c, d, q, arch, {}), val
        return best
    r = _cell_rows(ok, v, d, q, arch)
    return {int(s): float(x) for s, x in zip(r["seed"], r["score"])}, v


def _cell_rows(ok: pd.DataFrame, v: str, d: str, q: float, arch: str) -> pd.DataFrame:
    return ok[(ok["variant"] == v) & (ok["dataset"] == d) & (ok["ratio"] == q) & (ok["arch"] == arch)]


ANSWER_COLUMNS = ["question", "a", "b", "dataset", "ratio", "arch", "diff", "ci", "n", "verdict", "picked",
                  "p", "p_holm", "verdict_holm"]


def answers(ok: pd.DataFrame, study: Study | None = None) -> pd.DataFrame:
    """One row per question of ``study`` (default: :func:`default_study`), dataset, ratio and architecture
    where both sides have rows: the paired difference, its 95 % interval and verdict, the group member read
    (``picked``, chosen on validation), the paired t-test's p and its Holm adjustment over every cell of the
    report (``p_holm``, ``verdict_holm``: the family-wise 5 % verdict)."""
    study = study or default_study()
    out = []
    for qn in study.questions:
        for arch in sorted(set(ok["arch"])):
            for d, q in _columns(ok):
                a, pa = _per_seed(ok, qn.a, d, q, arch, study.groups)
                b, pb = _per_seed(ok, qn.b, d, q, arch, study.groups)
                if not a or not b:
                    continue
                diff, half, n = paired_diff_ci(a, b)
                picked = ", ".join(p for side, p in ((qn.a, pa), (qn.b, pb)) if side in study.groups)
                out.append({"question": qn.text, "a": qn.a, "b": qn.b, "dataset": d, "ratio": q, "arch": arch,
                            "diff": diff, "ci": half, "n": n, "verdict": verdict(diff, half), "picked": picked,
                            "p": paired_p(a, b)})
    ans = pd.DataFrame(out, columns=ANSWER_COLUMNS[:-2])
    ans["p_holm"] = holm(ans["p"].astype(float)) if len(ans) else []
    ans["verdict_holm"] = [
        "too few seeds" if math.isnan(p) else ("no difference shown" if p >= 0.05 else
                                               "better" if dlt > 0 else "worse")
        for p, dlt in zip(ans["p_holm"], ans["diff"])]
    return ans[ANSWER_COLUMNS]


def convergence(ok: pd.DataFrame, logs: list[tuple[str, pd.DataFrame]] | None) -> pd.DataFrame:
    """Per learned variant, dataset and ratio (from the per-epoch logs): the epochs run, the validation
    interval, and over seeds the median first validated epoch whose validation score reaches 95 % of the
    best the run reached, with its condensation time (claim 2, "faster convergence"; a coarse validation
    interval makes the epoch coarse too)."""
    cols = ["variant", "dataset", "ratio", "seeds", "epochs run", "validated every", "epoch to 95 %",
            "seconds to 95 %", "seconds in all"]
    if not logs:
        return pd.DataFrame(columns=cols)
    frame = log_frame(logs, sorted(set(ok["method"].astype(str))), sorted(set(ok["dataset_full"])))
    frame = frame[frame["val_score"].notna() & frame["dataset"].isin(set(ok["dataset_full"]))]
    if frame.empty:
        return pd.DataFrame(columns=cols)
    short = dict(zip(ok["dataset_full"], ok["dataset"]))
    frame["variant"] = frame["method"].astype(str).map(variant)
    out = []
    for (v, d, q), g in frame.groupby(["variant", "dataset", "ratio"], sort=True):
        e95, t95, ran, total, every = [], [], [], [], []
        for _, run in g.groupby("seed"):
            run = run.sort_values("epoch")
            target = 0.95 * run["val_score"].max()
            hit = run[run["val_score"] >= target].iloc[0]
            e95.append(float(hit["epoch"]))
            t95.append(float(hit["elapsed_s"]))
            ran.append(float(run["epoch"].max()))
            total.append(float(run["elapsed_s"].max()))
            steps = run["epoch"].diff().dropna()
            every.append(float(steps.min()) if len(steps) else math.nan)
        med = lambda xs: float(pd.Series(xs).median())  # noqa: E731
        out.append({"variant": v, "dataset": short.get(d, d), "ratio": f"{q:g}", "seeds": len(e95),
                    "epochs run": f"{med(ran):.0f}", "validated every": f"{med(every):.0f}",
                    "epoch to 95 %": f"{med(e95):.0f}", "seconds to 95 %": f"{med(t95):.0f}",
                    "seconds in all": f"{med(total):.0f}"})
    return pd.DataFrame(out, columns=cols)


def cross_arch_gap(ok: pd.DataFrame, study: Study | None = None, reference: str = "gcn") -> pd.DataFrame:
    """Claim 4 (cross-architecture generalisation): per variant, dataset and ratio, the paired-by-seed
    difference ``reference`` minus each other architecture (points, mean ± 95 % interval): how much a
    condensed graph made for (and selected with) GCN loses when another architecture trains on it. The
    ``whole`` graph's own gaps are the floor: what the architectures differ by on the full data."""
    order = (study or default_study()).order
    archs = [a for a in sorted(set(ok["arch"])) if a != reference]
    cols = ["variant", "dataset", "ratio", *[f"{reference} - {a}" for a in archs]]
    if reference not in set(ok["arch"]) or not archs:
        return pd.DataFrame(columns=cols)
    out = []
    for v in _order(set(ok["variant"]), order):
        rows = ok[ok["variant"] == v]
        for (d, q), g in rows.groupby(["dataset", rows["ratio"].fillna(-1.0)], sort=True):
            ref = g[g["arch"] == reference]
            by_seed = {int(s): float(x) for s, x in zip(ref["seed"], ref["score"])}
            if not by_seed:
                continue
            line = {"variant": v, "dataset": d, "ratio": "" if q < 0 else f"{q:g}"}
            for a in archs:
                other = g[g["arch"] == a]
                m, h, n = paired_diff_ci(by_seed, {int(s): float(x) for s, x in zip(other["seed"], other["score"])})
                line[f"{reference} - {a}"] = "" if n == 0 else (f"{m:+.1f} ± {h:.1f}" if n > 1 else f"{m:+.1f}")
            out.append(line)
    return pd.DataFrame(out, columns=cols)


INTERACTION_COLUMNS = ["question", "family", "ratio", "arch", "levels", "diff by level", "p", "p_holm"]


def interaction(ans_ok: pd.DataFrame, study: Study | None = None) -> pd.DataFrame:
    """Does the conflict level change an answer? Per question, dataset family (the same generator at several
    ``conflict_frac`` levels), ratio and architecture: the seed-paired differences ``a - b`` at each level
    and the one-way ANOVA p-value of "the mean difference is the same at every level" (an interaction test
    of method x level), Holm-adjusted over all rows of this table. A small p says the verdict depends on the
    level; a large one does not show that it does not (few seeds)."""
    from scipy.stats import f_oneway

    study = study or default_study()
    full = ans_ok["dataset_full"] if "dataset_full" in ans_ok else ans_ok["dataset"]
    short = dict(zip(full.astype(str), ans_ok["dataset"].astype(str)))
    lv = conflict_levels(ans_ok.assign(dataset=full))
    if lv.empty:
        return pd.DataFrame(columns=INTERACTION_COLUMNS)
    out = []
    for qn in study.questions:
        for (fam, q, arch), g in lv.groupby(["family", "ratio", "arch"], sort=True):
            diffs: dict[float, list[float]] = {}
            for level, gl in g.groupby("level", sort=True):
                d = short[str(gl["dataset"].iloc[0])]
                a, _ = _per_seed(ans_ok, qn.a, d, q, arch, study.groups)
                b, _ = _per_seed(ans_ok, qn.b, d, q, arch, study.groups)
                seeds = sorted(set(a) & set(b))
                if len(seeds) >= 2:
                    diffs[float(level)] = [a[s] - b[s] for s in seeds]
            if len(diffs) < 2:
                continue
            groups = list(diffs.values())
            flat = [x for xs in groups for x in xs]
            p = math.nan if max(flat) == min(flat) else float(f_oneway(*groups).pvalue)
            out.append({"question": qn.text, "family": fam, "ratio": q, "arch": arch,
                        "levels": ", ".join(f"{lev:g}" for lev in diffs),
                        "diff by level": ", ".join(f"{sum(xs) / len(xs):+.1f}" for xs in groups), "p": p})
    res = pd.DataFrame(out, columns=INTERACTION_COLUMNS[:-1])
    res["p_holm"] = holm(res["p"].astype(float)) if len(res) else []
    return res


NAS_COLUMNS = ["method", "dataset", "ratio", "configs", "epochs", "spearman", "kendall", "gap", "chosen rank"]


def nas_claim(nas_rows: pd.DataFrame | None, study: Study | None = None) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Claim 5 (architecture search on the condensed graph) from the folder's NAS studies (``nas/``, one per
    method, dataset, ratio and seed; :func:`gcbench.nas.nas_summary`): per variant, dataset and ratio, over
    seeds, the Spearman and Kendall rank correlations between the configurations' validation scores on the
    condensed and on the full graph and the full-graph test points lost by choosing on the condensed graph
    (``gap``, 0 = the full graph's own choice), each as mean ± 95 % interval (n seeds), with the median rank
    of the chosen configuration; and, for each question of ``study`` whose two sides (variants, not groups)
    both have NAS studies, the seed-paired difference of their Spearman correlations. Empty frames where the
    folder has no NAS rows."""
    from gcbench.nas import nas_summary

    if nas_rows is None or nas_rows.empty:
        return pd.DataFrame(columns=NAS_COLUMNS), pd.DataFrame()
    study = study or default_study()
    summ = nas_summary(nas_rows)
    summ["variant"] = summ["method"].astype(str).map(variant)
    names = short_names(sorted(set(summ["dataset"].astype(str))))
    summ["dataset"] = summ["dataset"].astype(str).map(names)
    keys = ["dataset", "ratio", "variant", "n_configs", "epochs"]
    rank = {v: i for i, v in enumerate(_order(set(summ["variant"]), study.order))}
    table = []
    for (d, q, v, nc, ep), g in sorted(summ.groupby(keys), key=lambda kv: (kv[0][0], kv[0][1], rank[kv[0][2]])):
        table.append({"method": v, "dataset": d, "ratio": f"{q:g}", "configs": int(nc), "epochs": int(ep),
                      "spearman": _cell(*mean_ci(g["spearman"]), digits=2),
                      "kendall": _cell(*mean_ci(g["kendall"]), digits=2),
                      "gap": _cell(*mean_ci(g["gap"])),
                      "chosen rank": f"{g['chosen_rank'].median():g} of {int(nc)}"})
    per = pd.DataFrame(table, columns=NAS_COLUMNS)
    paired = []
    for qn in study.questions:
        if qn.a in study.groups or qn.b in study.groups:
            continue
        for (d, q), g in summ.groupby(["dataset", "ratio"], sort=True):
            a, b = _spearman_by_seed(g, qn.a), _spearman_by_seed(g, qn.b)
            if not a or not b:
                continue
            diff, half, n = paired_diff_ci(a, b)
            paired.append({"question": qn.text, "dataset": d, "ratio": f"{q:g}",
                           "Spearman diff ± CI": _diff_text(diff, half, 2),
                           "n": n, "verdict": verdict(diff, half), "p": paired_p(a, b)})
    paired_df = pd.DataFrame(paired)
    if len(paired_df):
        paired_df["p (Holm)"] = [_p_text(p) for p in holm(paired_df["p"].astype(float))]
        paired_df["p"] = [_p_text(p) for p in paired_df["p"]]
    return per, paired_df


def _spearman_by_seed(g: pd.DataFrame, v: str) -> dict[int, float]:
    r = g[g["variant"] == v]
    return {int(s): float(x) for s, x in zip(r["seed"], r["spearman"])}


def _budget(label: str, dataset: str) -> tuple[str, str, str]:
    """A learned method's maximum iterations, selection interval and patience from its resolved
    configuration (``"?"`` where the method is not installed or the label does not resolve; ``""`` for
    methods without iterations)."""
    try:
        from gcbench.condensers.base import MethodSpec

        cfg = MethodSpec(label).build(dataset).config
    except Exception:  # a folder of rows from a method this installation lacks: say so, do not fail
        return "?", "?", "?"
    it = next((k for k in ("epochs", "iterations") if isinstance(cfg.get(k), int)), None)
    if it is None:
        return "", "", ""
    every = next((cfg[k] for k in ("val_every", "select_every") if isinstance(cfg.get(k), int)), "")
    return f"{cfg[it]} {it}", str(every), str(cfg.get("patience", 0))


def budgets(ok: pd.DataFrame) -> pd.DataFrame:
    """Per learned method label (with its budget options), dataset and ratio: the budget it was given (the
    maximum epochs or iterations, the selection interval, the plateau patience; 0 = none) and, over its rows'
    seeds, the epochs it ran and the epoch it selected (median and range), from the rows' ``condense_epochs``
    and ``condense_epoch``."""
    cols = ["method", "dataset", "ratio", "seeds", "budget", "validated every", "patience", "epochs run",
            "epoch selected", "condensation s"]
    if "condense_epoch" not in ok:
        return pd.DataFrame(columns=cols)
    sel = pd.to_numeric(ok["condense_epoch"], errors="coerce")
    ran = pd.to_numeric(ok.get("condense_epochs", pd.Series(math.nan, index=ok.index)), errors="coerce")
    sub = ok.assign(_sel=sel, _ran=ran)[sel.notna()]
    if sub.empty:
        return pd.DataFrame(columns=cols)

    def spread(xs: pd.Series) -> str:
        xs = xs.dropna()
        if xs.empty:
            return "?"
        lo, mid, hi = xs.min(), xs.median(), xs.max()
        return f"{mid:.0f}" if lo == hi else f"{mid:.0f} ({lo:.0f}-{hi:.0f})"

    out = []
    for (m, d, q), g in sub.groupby(["method", "dataset_full", "ratio"], sort=True):
        per_seed = g.groupby("seed")[["_sel", "_ran", "condense_s"]].first()
        budget, every, patience = _budget(str(m), str(d))
        out.append({"method": m, "dataset": g["dataset"].iloc[0], "ratio": f"{float(q):g}", "seeds": len(per_seed),
                    "budget": budget, "validated every": every, "patience": patience,
                    "epochs run": spread(per_seed["_ran"]), "epoch selected": spread(per_seed["_sel"]),
                    "condensation s": f"{pd.to_numeric(per_seed['condense_s']).median():.0f}"})
    return pd.DataFrame(out, columns=cols)


def _tally(cells: pd.DataFrame) -> tuple[float, int, int, int]:
    """Mean paired difference of some answer cells and how many say better / worse / no difference."""
    counts = cells["verdict"].value_counts()
    return (float(cells["diff"].mean()), int(counts.get("better", 0)), int(counts.get("worse", 0)),
            int(counts.get("no difference shown", 0)))


def summary(ans: pd.DataFrame) -> pd.DataFrame:
    """Per question: how many (dataset, ratio, arch) cells say better / worse / no difference, per cell
    (95 % intervals) and after Holm's correction over every cell of the report."""
    rows = []
    for text, g in ans.groupby("question", sort=False):
        diff, better, worse, same = _tally(g)
        holm_counts = g["verdict_holm"].value_counts()
        rows.append({"question": text, "cells": len(g), "better": better, "worse": worse,
                     "no difference shown": same, "mean diff (points)": f"{diff:+.1f}",
                     "better / worse (Holm)": f"{holm_counts.get('better', 0)} / {holm_counts.get('worse', 0)}"})
    return pd.DataFrame(rows, columns=["question", "cells", "better", "worse", "no difference shown",
                                       "mean diff (points)", "better / worse (Holm)"])


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


def report(results: pd.DataFrame, title: str | None = None, study: Study | None = None,
           logs: list[tuple[str, pd.DataFrame]] | None = None, nas_rows: pd.DataFrame | None = None) -> str:
    """The whole Markdown report of ``study`` (default: :func:`default_study`; ``title`` defaults to the
    study's) on ``results`` and, for the convergence table, the folder's per-epoch ``logs`` (see the module
    docstring) and, for claim 5, the folder's NAS rows (:func:`nas_claim`)."""
    study = study or default_study()
    ok, names, ans = _prepared(results, study)
    return _render(ok, names, ans, title or study.title, study, logs, nas_rows)


def report_if_answered(results: pd.DataFrame, study: Study | None = None,
                       logs: list[tuple[str, pd.DataFrame]] | None = None,
                       nas_rows: pd.DataFrame | None = None) -> str | None:
    """:func:`report` where the rows answer at least one question, else None (rows without a question's
    two sides, no ok rows, or one variant at several budgets: a leaderboard of such rows has no study)."""
    study = study or default_study()
    try:
        ok, names, ans = _prepared(results, study)
    except GCBenchError:
        return None
    return _render(ok, names, ans, study.title, study, logs, nas_rows) if len(ans) else None


def _prepared(results: pd.DataFrame, study: Study) -> tuple[pd.DataFrame, dict[str, str], pd.DataFrame]:
    ok = _ok_rows(results)
    names = short_names(sorted(set(ok["dataset"].astype(str))))
    ok["dataset_full"] = ok["dataset"].astype(str)
    ok["dataset"] = ok["dataset_full"].map(names)
    return ok, names, answers(ok, study)


def _render(ok: pd.DataFrame, names: dict[str, str], ans: pd.DataFrame, title: str, study: Study,
            logs: list[tuple[str, pd.DataFrame]] | None = None, nas_rows: pd.DataFrame | None = None) -> str:
    legend = [f"* `{short}`: `{full}`" for full, short in sorted(names.items(), key=lambda kv: kv[1]) if short != full]
    parts = [f"# {title}\n",
             "Test scores in %, mean ± 95 % Student-t interval over seeds (n). Differences are paired by seed;"
             " a verdict is `better` / `worse` where the 95 % interval excludes 0. With this many intervals some"
             " exclude 0 by chance: `(Holm)` counts and `p (Holm)` are the paired t-tests adjusted by Holm's"
             " method over every cell of this report (family-wise error 5 %). A group side (`best coreset`,"
             " `best training-free`) reads, per cell, the member with the best mean *validation* score"
             " (`picked`).\n",
             *(["Datasets:\n", "\n".join(legend) + "\n"] if legend else []),
             "## Verdicts\n", frame_markdown(summary(ans)),
             "\n## Verdicts per dataset\n",
             "Mean paired difference in points, then how many (ratio, architecture) cells say better / worse /"
             " no difference shown.\n", frame_markdown(by_dataset(ans), "question"),
             "\n## Per cell\n"]
    table = ans.copy()
    table["ratio"] = table["ratio"].map(lambda q: f"{q:g}")
    table["diff ± CI"] = [_diff_text(d, h) for d, h in zip(table["diff"], table["ci"])]
    table["p (Holm)"] = [_p_text(p) for p in table["p_holm"]]
    cols = ["question", "dataset", "ratio", "arch", "diff ± CI", "n", "verdict", "p (Holm)", "verdict_holm"]
    if table["picked"].astype(bool).any():
        cols.insert(4, "picked")
    parts.append(frame_markdown(table[cols].rename(columns={"verdict_holm": "verdict (Holm)"})))
    for arch in sorted(set(ok["arch"])):
        parts += [f"\n## Scores, {arch}\n", frame_markdown(scores(ok, arch, study), "method")]
    gap = cross_arch_gap(ok, study)
    if len(gap):
        parts += ["\n## Cross-architecture gap\n",
                  "Claim 4: per method, GCN's test score minus each other architecture's on the same condensed"
                  " graphs, paired by seed (points, mean ± 95 % interval). `whole` is the full graph's own gap.\n",
                  frame_markdown(gap)]
    inter = interaction(ok, study)
    if len(inter):
        table = inter.copy()
        table["ratio"] = table["ratio"].map(lambda q: f"{q:g}")
        for c in ("p", "p_holm"):
            table[c] = [_p_text(p) for p in table[c]]
        parts += ["\n## Does the conflict level change the answer?\n",
                  "Per question and (ratio, architecture): the mean paired difference at each conflict level and"
                  " the one-way ANOVA p-value of equal differences across levels (method x level interaction),"
                  " Holm-adjusted over this table (`p_holm`).\n",
                  frame_markdown(table.rename(columns={"p_holm": "p (Holm)"}))]
    bud = budgets(ok)
    if len(bud):
        parts += ["\n## Budgets\n",
                  "What each learned method was given and what it used, from the rows: the maximum epochs (or"
                  " iterations), the validation interval, the plateau patience (0: the whole budget runs), and over"
                  " seeds the median (range) of the epochs it ran and of the epoch it selected on validation, with"
                  " the median condensation seconds. `?`: rows made before the suite recorded it.\n",
                  frame_markdown(bud)]
    parts += ["\n## Condensed graphs: mean edges / possible edges\n", frame_markdown(edges(ok, study), "method")]
    conv = convergence(ok, logs)
    if len(conv):
        parts += ["\n## Convergence\n",
                  "From the per-epoch logs (`logs/`), median over seeds: the epochs run, the validation interval,"
                  " the first validated epoch whose validation score reaches 95 % of the best the run reached and"
                  " the condensation seconds until then (one core unless the rows say otherwise).\n",
                  frame_markdown(conv)]
    per, paired = nas_claim(nas_rows, study)
    if len(per):
        parts += ["\n## Architecture search on the condensed graph\n",
                  "Claim 5, from the NAS studies (`nas/`, `gcbench nas`): every configuration of the search space"
                  " trained on the condensed graph and on the full graph (`epochs` each, selection on the full"
                  " graph's validation nodes). `spearman`, `kendall`: rank correlation of the two validation"
                  " scores; `gap`: full-graph test points lost by choosing the configuration on the condensed"
                  " graph instead of the full graph; `chosen rank`: that configuration's rank among the full-graph"
                  " validation scores. Mean ± 95 % interval over seeds (n).\n",
                  frame_markdown(per)]
        if len(paired):
            parts += ["\nSeed-paired difference of the Spearman correlations (a - b) for the questions whose"
                      " two sides both have NAS studies; p: paired t-test, Holm-adjusted over this table.\n",
                      frame_markdown(paired)]
    return "\n".join(parts)
