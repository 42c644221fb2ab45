"""Published numbers beside the rows: ``published.md`` of a leaderboard folder.

A method card (``methods/<name>.yaml``) may carry the numbers its paper (or the paper that ran it as a
baseline) published, each list entry one table of one paper::

    published:
      - source: "GCond (Jin et al., ICLR 2022), Table 2"
        arch: gcn                  # the evaluation architecture of that table
        scores:                    # test score in percent; dataset -> {ratio: score}, or a number (whole)
          cora: {0.25: 79.8, 0.5: 80.1, 1.0: 79.3}

A folder's ``published.md`` puts every cell of its rows whose method label is the card's name (the
default configuration: a variant such as ``gcond:epochs=40`` is another configuration and is not compared)
and whose (dataset, architecture, ratio) has a published number beside that number, with the difference.
It is generated from the rows and the cards like every other table, so ``gcbench leaderboard --check``
fails when either changes without the folder being regenerated; the documents quote it
(:mod:`gcbench.report.quotes`) instead of typing the comparison.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import pandas as pd

from gcbench.errors import GCBenchError
from gcbench.report.aggregate import summary
from gcbench.report.render import markdown_table
from gcbench.report.rows import arch_key, fmt_ratio, method_key
from gcbench.util import natural_key

FILE = "published.md"


@dataclass(frozen=True)
class Published:
    method: str
    dataset: str
    arch: str
    ratio: float | None  # None: the full graph (``whole``)
    score: float
    source: str


def parse_published(method: str, entries: Any, where: str) -> list[Published]:
    """The ``published`` list of a method card; a malformed entry is a :class:`GCBenchError` naming it."""
    if entries is None:
        return []
    if not isinstance(entries, list):
        raise GCBenchError(f"{where}: 'published' must be a list of tables (source, arch, scores)")
    out: list[Published] = []
    for i, e in enumerate(entries):
        at = f"{where}: published[{i}]"
        if not isinstance(e, dict) or set(e) != {"source", "arch", "scores"}:
            raise GCBenchError(f"{at}: needs exactly the keys source, arch, scores")
        if not isinstance(e["scores"], dict):
            raise GCBenchError(f"{at}: scores must map a dataset to {{ratio: score}} or a score")
        for ds, val in e["scores"].items():
            pairs = val.items() if isinstance(val, dict) else [(None, val)]
            for ratio, score in pairs:
                try:
                    r = None if ratio is None else float(ratio)
                    s = float(score)
                except (TypeError, ValueError):
                    raise GCBenchError(f"{at}: scores.{ds}: {ratio!r}: {score!r} is not a number") from None
                if math.isnan(s) or not 0.0 <= s <= 100.0 or (r is not None and not 0.0 < r <= 1.0):
                    raise GCBenchError(f"{at}: scores.{ds}: ratio {ratio!r}, score {score!r} out of range")
                out.append(Published(method, str(ds), str(e["arch"]), r, s, str(e["source"])))
    return out


def published_scores() -> list[Published]:
    """Every published number of every installed method's card."""
    from gcbench.condensers.base import installed_condensers, method_yaml

    out: list[Published] = []
    for name in installed_condensers():
        out += parse_published(name, method_yaml(name).get("published"), f"methods/{name}.yaml")
    return out


def published_table(df: pd.DataFrame, published: list[Published] | None = None) -> pd.DataFrame:
    """One row per cell of ``df`` with a published number: ours (mean, std, seeds), published, difference."""
    published = published_scores() if published is None else published
    index = {(p.method, p.dataset, p.arch, None if p.ratio is None else fmt_ratio(p.ratio)): p for p in published}
    rows = []
    for r in summary(df).to_dict("records"):
        ratio = None if pd.isna(r["ratio"]) else fmt_ratio(r["ratio"])
        p = index.get((r["method"], r["dataset"], r["arch"], ratio))
        if p is None or not r["n_seeds"]:
            continue
        rows.append({"dataset": r["dataset"], "arch": r["arch"], "method": r["method"], "ratio": ratio or "",
                     "mean": float(r["mean"]), "std": float(r["std"]), "n_seeds": int(r["n_seeds"]),
                     "published": p.score, "diff": float(r["mean"]) - p.score, "source": p.source})
    rows.sort(key=lambda r: (natural_key(r["dataset"]), arch_key(r["arch"]), method_key(r["method"]),
                             float(r["ratio"] or 2.0)))
    cols = ["dataset", "arch", "method", "ratio", "mean", "std", "n_seeds", "published", "diff", "source"]
    return pd.DataFrame(rows, columns=cols)


def published_markdown(table: pd.DataFrame) -> str | None:
    """``published.md``, or None where no cell has a published number."""
    if table.empty:
        return None
    lines = ["## Published numbers", "",
             "Each cell whose method runs its default configuration (the method card's name) beside the number "
             "the paper named in `source` published for the same dataset, ratio and evaluation architecture "
             "(`methods/<method>.yaml`, `published`), under this folder's evaluation (its budget is in the README). "
             "Ours: test score in %, mean ± std over the seeds (n); diff = ours - published, in points.", ""]
    for ds in dict.fromkeys(table["dataset"]):
        part = table[table["dataset"] == ds]
        lines += [f"### {ds}", ""]
        rows = [[r["arch"], r["method"], r["ratio"] or "full graph",
                 f"{r['mean']:.1f} ± {r['std']:.1f} ({r['n_seeds']})", f"{r['published']:.1f}", f"{r['diff']:+.1f}",
                 r["source"]] for r in part.to_dict("records")]
        lines += [markdown_table(["arch", "method", "ratio", "ours", "published", "diff", "source"], rows,
                                 "lllrrrl"), ""]
    return "\n".join(lines)
