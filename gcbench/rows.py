"""Views of the result rows shared by the figures (:mod:`gcbench.plots`) and the SR-GM study report
(:mod:`gcbench.study`): the ok rows with their score in percent, and the cross-modal conflict level of the
datasets with generated modality features.
"""

from __future__ import annotations

import pandas as pd

from gcbench.errors import GCBenchError
from gcbench.spec import canonical, parse_spec


def ok_rows(results: pd.DataFrame) -> pd.DataFrame:
    """The ``status == "ok"`` rows of ``results`` (a copy) with ``score``: ``test_score`` in percent."""
    df = results[results["status"] == "ok"].copy()
    df["score"] = df["test_score"].astype(float) * 100.0
    return df


def conflict_levels(ok: pd.DataFrame) -> pd.DataFrame:
    """Rows of datasets with generated modality features, with ``family`` (the dataset name without
    ``conflict_frac``) and ``level`` (its value, the generator's default where the name leaves it out);
    only families seen at two or more levels."""
    from gcbench.data.synthetic import DEFAULTS

    fam, lev = {}, {}
    for ds in sorted(set(ok["dataset"].astype(str))):
        try:
            base, opts = parse_spec(ds, "dataset")
        except GCBenchError:
            continue
        if "conflict_frac" not in opts and base != "synthetic-ecommerce" and opts.get("features") != "synthetic":
            continue
        level = float(opts.pop("conflict_frac", DEFAULTS["conflict_frac"]))
        fam[ds], lev[ds] = canonical(base, opts), level
    sub = ok[ok["dataset"].astype(str).isin(fam)].copy()
    if sub.empty:
        return sub
    sub["family"] = sub["dataset"].astype(str).map(fam)
    sub["level"] = sub["dataset"].astype(str).map(lev)
    n_levels = sub.groupby("family")["level"].nunique()
    return sub[sub["family"].isin(n_levels[n_levels >= 2].index)]
