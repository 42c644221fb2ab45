"""Dataset statistics and the calibration table (``gcbench data stats DATASET``).

For a dataset spec, :func:`dataset_stats` measures, on the graph exactly as it is loaded:

* **topology**: nodes, undirected edges (both directions stored once each, self-loops excluded), classes,
  *edge homophily* (fraction of undirected edges whose endpoints share the label), mean / median / max
  degree (in the symmetrised graph) and isolated nodes;
* **feature scale**, per modality block (:func:`feature_scale`): the standard deviation of all entries, the
  mean per-column standard deviation (``col_std``) and the mean / max row L2 norm. Every registered dataset
  is expected on one *normalised* scale (each block's rows of L2 norm at most 1: unit-norm embedding blocks,
  or bag-of-words rows that sum to one), which the shared learning rates of the learned methods assume
  (:func:`check_feature_scale`);
* **whole-graph scores**: the test score of each evaluation architecture trained on the full training
  graph (the ``whole`` reference, :class:`gcbench.condensers.coresets.Whole`) under
  :func:`gcbench.evaluate.evaluate`, mean and standard deviation over ``seeds`` (the seed of the model;
  the dataset is the one the spec names, so for ``synthetic-ecommerce`` pass ``:seed=k`` to vary it).

The MLP sees no edges, so ``gcn - mlp`` is what the structure adds on top of the features alone; the
calibration of the generated features (:mod:`gcbench.data.synthetic`) is chosen on this table.
"""

from __future__ import annotations

import math
import os
import time
from collections.abc import Iterable, Sequence
from typing import Any

import torch
from torch import Tensor

from gcbench.graph import Graph

#: the largest row L2 norm a modality block may have on the shared, normalised feature scale
MAX_ROW_NORM = 1.0 + 1e-4
#: the smallest median row L2 norm (of non-zero rows) a modality block may have: features are not vanishing
MIN_MEDIAN_ROW_NORM = 0.05

TOPOLOGY_COLUMNS = ("nodes", "edges", "classes", "homophily", "mean_degree", "median_degree", "max_degree",
                    "isolated")


def topology_stats(graph: Graph) -> dict[str, Any]:
    """Nodes, undirected edges, classes, edge homophily, degrees (see the module docstring)."""
    n = graph.num_nodes
    src, dst = graph.edge_index
    loops = src == dst
    src, dst = src[~loops], dst[~loops]
    deg = torch.bincount(src, minlength=n)  # symmetric edge_index: out-degree = degree
    upper = src < dst
    n_und = int(upper.sum())
    y = graph.y
    homo = float((y[src[upper]] == y[dst[upper]]).double().mean()) if n_und else math.nan
    degf = deg.double()
    return {
        "nodes": n,
        "edges": n_und,
        "classes": graph.num_classes,
        "homophily": homo,
        "mean_degree": float(degf.mean()) if n else math.nan,
        "median_degree": float(degf.median()) if n else math.nan,
        "max_degree": int(deg.max()) if n else 0,
        "isolated": int((deg == 0).sum()),
    }


def _rows(x: Tensor, cols: slice, start: int, stop: int) -> Tensor:
    """Rows ``start:stop`` of the columns ``cols`` of ``x`` (dense, or sparse COO/CSR), dense."""
    if x.layout == torch.strided:
        return x[start:stop, cols]
    if x.layout == torch.sparse_coo:
        return x.narrow_copy(0, start, stop - start).to_dense()[:, cols]
    return x.to_dense()[start:stop, cols]


def feature_scale(graph: Graph, rows: int = 1 << 15) -> dict[str, dict[str, float]]:
    """Per modality block: ``dim``, ``std`` (all entries), ``col_std`` (mean per-column standard deviation),
    ``row_norm`` (mean row L2 norm), ``row_norm_max``, ``row_norm_median`` (lower median over non-zero rows) and
    ``zero_rows``. Computed in blocks of ``rows`` rows (float64 sums), so a large graph needs no second
    copy of its features."""
    x = graph.x
    out: dict[str, dict[str, float]] = {}
    n = x.size(0)
    for name, sl in graph.modalities.items():
        d = sl.stop - sl.start
        s1 = torch.zeros(d, dtype=torch.float64)
        s2 = torch.zeros(d, dtype=torch.float64)
        norms = []
        for start in range(0, n, rows):
            blk = _rows(x, sl, start, min(n, start + rows)).double()
            s1 += blk.sum(0)
            s2 += blk.pow(2).sum(0)
            norms.append(torch.linalg.vector_norm(blk, dim=1))
        norm = torch.cat(norms) if norms else torch.zeros(0, dtype=torch.float64)
        col_mean = s1 / max(n, 1)
        col_var = (s2 / max(n, 1) - col_mean.pow(2)).clamp_(min=0)
        all_mean = float(s1.sum()) / max(n * d, 1)
        all_var = max(float(s2.sum()) / max(n * d, 1) - all_mean**2, 0.0)
        nonzero = norm[norm > 0]
        out[name] = {
            "dim": d,
            "std": math.sqrt(all_var),
            "col_std": float(col_var.sqrt().mean()) if d else math.nan,
            "row_norm": float(norm.mean()) if n else math.nan,
            "row_norm_max": float(norm.max()) if n else math.nan,
            "row_norm_median": float(nonzero.median()) if nonzero.numel() else 0.0,
            "zero_rows": int((norm == 0).sum()),
        }
    return out


def check_feature_scale(graph: Graph) -> list[str]:
    """The ways in which ``graph``'s features leave the shared normalised scale (empty: none).

    Every modality block must have rows of L2 norm at most :data:`MAX_ROW_NORM` (unit-norm embeddings;
    bag-of-words rows that sum to one have an L2 norm below one) and a median non-zero row norm of at least
    :data:`MIN_MEDIAN_ROW_NORM`. The learned methods' learning rates for ``X'`` (``lr_feat``) are shared by
    every dataset and assume this scale."""
    problems = []
    for name, s in feature_scale(graph).items():
        if s["row_norm_max"] > MAX_ROW_NORM:
            problems.append(f"{graph.name}: modality {name!r} has rows of L2 norm up to {s['row_norm_max']:.3g} "
                            f"(at most {MAX_ROW_NORM:g} expected; per-entry std {s['std']:.3g})")
        if s["row_norm_median"] < MIN_MEDIAN_ROW_NORM:
            problems.append(f"{graph.name}: modality {name!r} has a median row L2 norm of "
                            f"{s['row_norm_median']:.3g} (at least {MIN_MEDIAN_ROW_NORM:g} expected)")
    return problems


def whole_graph_scores(graph: Graph, archs: Sequence[str], seeds: Iterable[int], device: str = "cpu",
                       overrides: dict[str, Any] | None = None) -> dict[str, list[float]]:
    """Arch -> test scores (one per seed) of models trained on the whole training graph (``whole``)."""
    from gcbench.condensers.coresets import Whole
    from gcbench.evaluate import evaluate
    from gcbench.graph import Budget
    from gcbench.runner import resolve_device

    dev = resolve_device(device)
    budget = Budget.from_graph(graph, 1.0)
    scores: dict[str, list[float]] = {a: [] for a in archs}
    for seed in seeds:
        cg = Whole().condense(graph, budget, seed=seed, device=dev)
        for arch in archs:
            scores[arch].append(evaluate(cg, graph, arch, seed, dev, overrides)["test_score"])
    return scores


def dataset_stats(
    spec: str,
    data_root: str | os.PathLike | None = None,
    archs: Sequence[str] = ("mlp", "gcn", "gat", "sage"),
    seeds: Sequence[int] = (0,),
    device: str = "cpu",
    overrides: dict[str, Any] | None = None,
    graph: Graph | None = None,
):
    """One row (a pandas DataFrame) of the calibration table for dataset ``spec``.

    Columns: ``dataset`` (canonical spec), :data:`TOPOLOGY_COLUMNS`, per modality ``<m>_dim``,
    ``<m>_std`` and ``<m>_row_norm``, then per architecture ``<arch>`` (mean test score over ``seeds``)
    and ``<arch>_sd`` (their standard deviation, 0 for one seed), ``seeds`` and ``eval_s``. ``graph``:
    an already loaded graph for ``spec`` (skips loading)."""
    import pandas as pd

    from gcbench.data import load_dataset

    g = graph if graph is not None else load_dataset(spec, data_root)
    row: dict[str, Any] = {"dataset": g.name, **topology_stats(g)}
    for name, s in feature_scale(g).items():
        row[f"{name}_dim"] = s["dim"]
        row[f"{name}_std"] = s["std"]
        row[f"{name}_row_norm"] = s["row_norm"]
    t0 = time.perf_counter()
    seeds = list(seeds)
    scores = whole_graph_scores(g, archs, seeds, device, overrides) if archs else {}
    for arch, vals in scores.items():
        t = torch.tensor(vals, dtype=torch.float64)
        row[arch] = float(t.mean())
        row[f"{arch}_sd"] = float(t.std()) if t.numel() > 1 else 0.0
    row["seeds"] = ",".join(str(s) for s in seeds) if archs else ""
    row["eval_s"] = time.perf_counter() - t0
    return pd.DataFrame([row])


def _fmt(value: Any, column: str) -> str:
    if isinstance(value, float):
        if math.isnan(value):
            return "—"
        if column == "homophily":
            return f"{value:.3f}"
        if column.endswith(("_std", "_row_norm")):
            return f"{value:.3g}"
        if column.endswith("_degree"):
            return f"{value:.1f}"
        if column == "eval_s":
            return f"{value:.0f}"
        return f"{value:.3g}"
    return str(value)


def stats_markdown(df, archs: Sequence[str] | None = None, percent: bool = True) -> str:
    """The calibration table as Markdown: one line per dataset; scores as ``mean ± sd`` (in % when
    ``percent``) for the architectures in ``archs`` (default: every score column of ``df``)."""
    cols = [c for c in df.columns if c not in ("seeds", "eval_s")]
    score_cols = [c for c in cols if f"{c}_sd" in df.columns]
    if archs is not None:
        score_cols = [a for a in archs if a in score_cols]
    plain = [c for c in cols if c not in score_cols and not (c.endswith("_sd") and c[:-3] in score_cols)]
    header = plain + [f"{a} ({'%' if percent else 'score'})" for a in score_cols]
    if "seeds" in df.columns and score_cols:
        header.append("seeds")
    lines = ["| " + " | ".join(header) + " |", "|" + "|".join("---" for _ in header) + "|"]
    for _, r in df.iterrows():
        cells = [_fmt(r[c], c) for c in plain]
        for a in score_cols:
            m, sd = float(r[a]), float(r[f"{a}_sd"])
            k = 100.0 if percent else 1.0
            cells.append("—" if math.isnan(m) else f"{m * k:.1f} ± {sd * k:.1f}")
        if "seeds" in df.columns and score_cols:
            cells.append(str(r["seeds"]))
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines)


def stats_table(
    specs: Sequence[str],
    data_root: str | os.PathLike | None = None,
    archs: Sequence[str] = ("mlp", "gcn", "gat", "sage"),
    seeds: Sequence[int] = (0,),
    device: str = "cpu",
    overrides: dict[str, Any] | None = None,
):
    """:func:`dataset_stats` for several specs, one row each (``all`` = every registered dataset).

    Returns ``(table, skipped)``: ``skipped`` holds the error line of each registered dataset whose files
    are missing when ``all`` was asked for (a spec named explicitly that cannot load raises instead)."""
    import pandas as pd

    from gcbench.data import list_datasets
    from gcbench.errors import GCBenchError

    expanded: list[tuple[str, bool]] = []
    for s in specs:
        expanded += [(d, True) for d in list_datasets()] if s == "all" else [(s, False)]
    rows, skipped = [], []
    for spec, optional in expanded:
        try:
            rows.append(dataset_stats(spec, data_root, archs, seeds, device, overrides))
        except GCBenchError as exc:
            if not optional:
                raise
            skipped.append(str(exc))
    table = pd.concat(rows, ignore_index=True) if rows else pd.DataFrame()
    return table, skipped
