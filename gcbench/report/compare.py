"""The CI regression comparison (``gcbench leaderboard --check DIR --against RUN``): the numbers of a fresh
run against a leaderboard folder's committed rows, within tolerances (the rule is described at
:func:`gcbench.report.folder.check_folder`).
"""

from __future__ import annotations

import math
from typing import Any

import pandas as pd

from gcbench.nas import nas_summary
from gcbench.report.aggregate import summary
from gcbench.report.rows import arch_key, fmt_ratio, method_key, ok_rows
from gcbench.util import natural_key

DEFAULT_TOL = 3.0  # points (percent) on a cell's mean test score
DEFAULT_NAS_TOL = 0.15  # on Spearman's rho and Kendall's tau
DEFAULT_Z = 3.0  # a cell mean may also move by up to this many standard errors of the difference


def _cell_name(key: tuple) -> str:
    ds, arch, method, ratio = key
    return f"{ds}/{arch}/{method}" + (f" r={ratio}" if ratio else "")


def compare_results(old: pd.DataFrame, new: pd.DataFrame, tol: float, z: float, problems: list[str],
                     notes: list[str]) -> None:
    def cells(df: pd.DataFrame) -> dict[tuple, tuple[float, float, int]]:
        s = summary(df)
        return {(r["dataset"], r["arch"], r["method"], "" if math.isnan(r["ratio"]) else fmt_ratio(r["ratio"])):
                (float(r["mean"]), float(r["std"]), int(r["n_seeds"])) for r in s.to_dict("records")}

    a, b = cells(old), cells(new)
    worst: tuple[float, tuple] | None = None
    relaxed = 0
    for key in sorted(set(a) | set(b), key=lambda k: (natural_key(k[0]), arch_key(k[1]), method_key(k[2]), k[3])):
        if key not in b:
            problems.append(f"cell {_cell_name(key)}: in the committed rows, not produced by the run")
            continue
        if key not in a:
            problems.append(f"cell {_cell_name(key)}: produced by the run, not in the committed rows "
                            "(regenerate the leaderboard)")
            continue
        (ma, sa, na), (mb, sb, nb) = a[key], b[key]
        if na != nb:
            problems.append(f"cell {_cell_name(key)}: {nb} ok seed(s) in the run, {na} committed")
            continue
        if math.isnan(ma) or math.isnan(mb):
            continue
        diff = mb - ma
        if worst is None or abs(diff) > abs(worst[0]):
            worst = (diff, key)
        se = math.sqrt(((0.0 if math.isnan(sa) else sa) ** 2 + (0.0 if math.isnan(sb) else sb) ** 2) / na)
        allowed = max(tol, z * se)
        if abs(diff) > allowed:
            problems.append(f"cell {_cell_name(key)}: mean test score {mb:.2f} in the run vs {ma:.2f} committed "
                            f"(difference {diff:+.2f} points; allowed {allowed:.2f} = max({tol:g}, {z:g} x standard "
                            f"error {se:.2f}))")
        elif abs(diff) > tol:
            relaxed += 1
    if worst is not None:
        notes.append(f"{len(set(a) & set(b))} cell mean(s) compared with the run; largest difference "
                     f"{worst[0]:+.2f} points ({_cell_name(worst[1])}); tolerance {tol:g} points or {z:g} standard "
                     f"errors of the difference, whichever is larger"
                     + (f" ({relaxed} cell(s) beyond {tol:g} points but within {z:g} standard errors)" if relaxed
                        else ""))
    def hashes(df: pd.DataFrame) -> set[tuple[str, str, str]]:
        col = df["config_hash"] if "config_hash" in df.columns else [""] * len(df)
        return {(str(m), str(d), str(h)) for m, d, h in zip(df["method"], df["dataset"], col)}

    changed = sorted({(m, d) for m, d, _ in hashes(old) ^ hashes(new)})
    if changed:
        notes.append("config hash differs between the committed rows and the run for: "
                     + ", ".join(f"{m} on {d}" for m, d in changed)
                     + " (a method or evaluation setting changed; numbers were compared all the same)")


def graph_spread(results: pd.DataFrame | None) -> dict[tuple[str, str, str], float]:
    """Per (dataset, ratio, method): the standard deviation over seeds of the mean test score (points) over
    the architectures evaluated on each seed's condensed graph, from the ok rows of a results frame. It is
    how far one condensed graph's quality moves from one draw to the next (a seed, or the float rounding of
    another machine, which gradient matching amplifies into a different graph); NaN with fewer than two
    seeds. The key's ratio is :func:`fmt_ratio`'s text, as in a NAS study's key."""
    if results is None or results.empty:
        return {}
    ok = ok_rows(results)
    ok = ok[ok["ratio"].notna()]
    if ok.empty:
        return {}
    per_seed = ok.groupby(["dataset", "ratio", "method", "seed"])["score"].mean()
    sd = per_seed.groupby(level=[0, 1, 2]).std(ddof=1)
    return {(str(d), fmt_ratio(r), str(m)): float(v) for (d, r, m), v in sd.items()}


def compare_nas(old: pd.DataFrame | None, new: pd.DataFrame | None, tol: float, nas_tol: float,
                 problems: list[str], notes: list[str], z: float = 0.0,
                 old_results: pd.DataFrame | None = None, new_results: pd.DataFrame | None = None) -> None:
    """NAS studies of a fresh run against the committed ones: the same studies and budgets; Spearman and
    Kendall within ``nas_tol``; the mean full-graph test score over the configurations within ``tol`` points;
    the mean condensed-graph test score within ``max(tol, z * SE)`` points, where a study has one seed, so
    ``SE = sqrt(sd_committed**2 + sd_run**2)`` with ``sd`` the seed-to-seed spread of the same method's
    condensed graphs at the same dataset and ratio in the results rows (:func:`graph_spread`; no rows or
    one seed: the ``tol`` rule)."""
    if old is None and new is None:
        return
    spread_a, spread_b = graph_spread(old_results), graph_spread(new_results)

    def studies(df: pd.DataFrame | None) -> dict[tuple, dict[str, Any]]:
        if df is None or df.empty:
            return {}
        s = nas_summary(df)
        means = df.groupby(["dataset", "ratio", "method", "seed"])[["cond_test", "full_test"]].mean()
        out = {}
        for r in s.to_dict("records"):
            key = (r["dataset"], fmt_ratio(r["ratio"]), r["method"], int(r["seed"]))
            m = means.loc[(r["dataset"], r["ratio"], r["method"], r["seed"])]
            out[key] = {**r, "mean_cond_test": 100.0 * float(m["cond_test"]),
                        "mean_full_test": 100.0 * float(m["full_test"])}
        return out

    a, b = studies(old), studies(new)
    worst = 0.0
    for key in sorted(set(a) | set(b), key=lambda k: (natural_key(k[0]), k[1], method_key(k[2]), k[3])):
        name = f"NAS {key[2]} on {key[0]} r={key[1]} seed {key[3]}"
        if key not in b:
            problems.append(f"{name}: committed, not produced by the run")
            continue
        if key not in a:
            problems.append(f"{name}: produced by the run, not committed (regenerate the leaderboard)")
            continue
        sa, sb = a[key], b[key]
        if sa["n_configs"] != sb["n_configs"] or sa["epochs"] != sb["epochs"]:
            problems.append(f"{name}: {sb['n_configs']} configurations x {sb['epochs']} epochs in the run, "
                            f"{sa['n_configs']} x {sa['epochs']} committed")
            continue
        for stat in ("spearman", "kendall"):
            va, vb = float(sa[stat]), float(sb[stat])
            if math.isnan(va) != math.isnan(vb) or (not math.isnan(va) and abs(vb - va) > nas_tol):
                problems.append(f"{name}: {stat} {vb:.3f} in the run vs {va:.3f} committed (tolerance {nas_tol:g})")
            elif not math.isnan(va):
                worst = max(worst, abs(vb - va))
        for stat in ("mean_cond_test", "mean_full_test"):
            va, vb = sa[stat], sb[stat]
            allowed, why = tol, f"tolerance {tol:g} points"
            if stat == "mean_cond_test" and z > 0:
                sda, sdb = spread_a.get(key[:3], math.nan), spread_b.get(key[:3], math.nan)
                if not (math.isnan(sda) or math.isnan(sdb)):
                    se = math.sqrt(sda ** 2 + sdb ** 2)
                    allowed = max(tol, z * se)
                    why = (f"allowed {allowed:.2f} = max({tol:g}, {z:g} x standard error {se:.2f} of one condensed "
                           f"graph against another, from the seed spread of its cells)")
            if abs(vb - va) > allowed:
                problems.append(f"{name}: {stat.replace('_', ' ')} over the configurations {vb:.2f} in the run vs "
                                f"{va:.2f} committed ({why})")
        if sa["chosen_id"] != sb["chosen_id"]:
            notes.append(f"{name}: the run chose configuration {sb['chosen_id']} ({sb['chosen_config']}), the "
                         f"committed rows {sa['chosen_id']} ({sa['chosen_config']})")
    if set(a) & set(b):
        notes.append(f"{len(set(a) & set(b))} NAS stud(ies) compared with the run; largest rank-correlation "
                     f"difference {worst:.3f} (tolerance {nas_tol:g})")
