"""The report's one reader of result rows: a results folder read through the store, then normalised.

* :func:`read_inputs` reads a results folder: ``results.csv`` through :func:`gcbench.results.read_results`
  (the store's typed reader), the NAS studies through :func:`gcbench.nas.read_nas` and the per-epoch logs.
* :func:`prepare` normalises the rows of a results table (any DataFrame with :data:`REQUIRED_COLUMNS`: the
  store's or one made by hand) into :class:`Run` records, one per (dataset, arch, method, ratio, seed), in
  canonical order, superseded reruns dropped and mixed configurations refused (the conventions of
  :mod:`gcbench.report`). Every table, the folder check and the comparison with a run read rows through it.
* :func:`ok_rows` and :func:`conflict_levels`: the pandas views the figures and the SR-GM study read (ok rows
  with their score in percent; the cross-modal conflict level of datasets with generated modality features).
"""

from __future__ import annotations

import math
import os
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd

from gcbench.archs import BUILTIN_NAMES
from gcbench.errors import GCBenchError
from gcbench.spec import canonical, parse_spec
from gcbench.util import natural_key, slug

REFERENCE_METHOD = "whole"
ARCH_ORDER = BUILTIN_NAMES  # the registry's built-ins in table order; other architectures follow, sorted

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
_NAN = float("nan")


# ----------------------------------------------------------------------------------------------------------
# Normalisation


@dataclass(frozen=True)
class Run:
    """One kept result row, normalised: texts stripped, numbers parsed, ``test`` in percent."""

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
class Prepared:
    """The rows of a results table after :func:`prepare`."""

    runs: list[Run]  # one per (dataset, arch, method, ratio, seed), canonical order
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


def cell_text(value: Any) -> str:
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


def prepare(df: pd.DataFrame, refuse_mixed: bool = True) -> Prepared:
    _check_columns(df)
    cols = {
        c: (df[c].tolist() if c in df.columns else [None] * len(df))
        for c in (*REQUIRED_COLUMNS, *_OPTIONAL_COLUMNS)
    }
    runs: list[Run] = []
    problems: dict[str, list[int]] = defaultdict(list)
    for i in range(len(df)):
        method = cell_text(cols["method"][i])
        dataset = cell_text(cols["dataset"][i])
        arch = cell_text(cols["arch"][i])
        status = cell_text(cols["status"][i])
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
            Run(
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
                metric=cell_text(cols["metric"][i]),
                condense_s=_number(cols["condense_s"][i]),
                eval_s=_number(cols["eval_s"][i]),
                error=" ".join(cell_text(cols["error"][i]).split()),
                timestamp=cell_text(cols["timestamp"][i]),
                config_hash=cell_text(cols["config_hash"][i]),
            )
        )
    if problems:
        what = "; ".join(
            f"{len(rows)} row(s) with {p} (0-based rows {_describe(rows)})" for p, rows in problems.items()
        )
        raise GCBenchError(f"malformed results: {what}")

    by_key: dict[tuple, list[Run]] = defaultdict(list)
    for run in runs:
        by_key[(*run.cell, run.seed)].append(run)
    kept: list[Run] = []
    for group in by_key.values():
        # the configuration of the latest row; then ok beats failed, then latest timestamp, then the
        # canonical order of the remaining values
        latest = max(group, key=lambda r: (r.timestamp, r.sort_key())).config_hash
        kept.append(max((r for r in group if r.config_hash == latest),
                        key=lambda r: (r.ok, r.timestamp, r.sort_key())))
    kept.sort(key=Run.sort_key)
    conflicts = config_conflicts(kept) if refuse_mixed else []
    if conflicts:
        raise GCBenchError(f"{conflicts[0]}" + (f" (and {len(conflicts) - 1} more cell(s))" if len(conflicts) > 1
                                                else ""))
    return Prepared(runs=kept, n_rows=len(df), n_superseded=len(runs) - len(kept))


def config_conflicts(runs: Sequence[Run]) -> list[str]:
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
    return config_conflicts(prepare(df, refuse_mixed=False).runs)


def fmt_ratio(ratio: float) -> str:
    return f"{ratio:.10g}"



# ------------------------------------------------------------------------------------------------ inputs
@dataclass
class Inputs:
    results: pd.DataFrame | None
    nas: pd.DataFrame | None
    logs: list[tuple[str, pd.DataFrame]]  # (file stem, log frame), sorted by stem


def read_logs(folder: str | os.PathLike) -> list[tuple[str, pd.DataFrame]]:
    d = Path(folder) / "logs"
    out = []
    for p in sorted(d.glob("*.csv")) if d.is_dir() else []:
        try:
            df = pd.read_csv(p)
        except (OSError, UnicodeDecodeError, pd.errors.ParserError, pd.errors.EmptyDataError) as exc:
            raise GCBenchError(f"cannot read log {p}: {str(exc).splitlines()[0]}") from None
        if "epoch" not in df.columns:
            raise GCBenchError(f"log {p} has no 'epoch' column")
        out.append((p.stem, df))
    return out


def read_inputs(src: str | os.PathLike) -> Inputs:
    """A results folder (or its ``results.csv``): rows, NAS studies and logs; missing parts are None/empty."""
    from gcbench.nas import read_nas
    from gcbench.results import read_results

    p = Path(src)
    if p.is_file():
        folder, csv_path = p.parent, p
    elif p.is_dir():
        folder, csv_path = p, p / "results.csv"
    else:
        raise GCBenchError(f"results not found: {p}")
    results = read_results(csv_path) if csv_path.exists() else None
    return Inputs(results=results, nas=read_nas(folder), logs=read_logs(folder))


def log_frame(logs: list[tuple[str, pd.DataFrame]], methods: Sequence[str], datasets: Sequence[str],
              extra: Sequence[str] = ()) -> pd.DataFrame:
    """The per-epoch logs of a folder in one frame: ``epoch``, ``loss``, ``elapsed_s``, ``val_score`` and the
    ``extra`` columns (NaN where a log lacks one), with method/dataset/ratio/seed from their file names
    (``cell_slug`` of the runner: ``<method>__<dataset>__r<ratio>__s<seed>__<hash>``); names map back to
    labels through the rows' ``methods`` and ``datasets``."""
    by_slug_m = {slug(m): m for m in methods}
    by_slug_d = {slug(d): d for d in datasets}
    frames = []
    for stem, df in logs:
        parts = stem.split("__")
        if len(parts) < 5 or not parts[3].startswith("s") or not parts[2].startswith("r"):
            continue
        if not {"epoch", "loss"} <= set(df.columns):
            continue
        ratio = math.nan if parts[2] == "full" else float(parts[2][1:])
        f = pd.DataFrame({
            "epoch": pd.to_numeric(df["epoch"], errors="coerce"),
            "loss": pd.to_numeric(df["loss"], errors="coerce"),
            "elapsed_s": pd.to_numeric(df["elapsed_s"], errors="coerce") if "elapsed_s" in df else math.nan,
            "val_score": pd.to_numeric(df["val_score"], errors="coerce") if "val_score" in df else math.nan,
            **{c: pd.to_numeric(df[c], errors="coerce") if c in df else math.nan for c in extra},
        })
        f["method"] = by_slug_m.get(parts[0], parts[0])
        f["dataset"] = by_slug_d.get(parts[1], parts[1])
        f["ratio"] = ratio
        f["seed"] = int(parts[3][1:]) if parts[3][1:].isdigit() else -1
        f["cell"] = stem
        frames.append(f)
    if not frames:
        return pd.DataFrame(columns=["epoch", "loss", "elapsed_s", "val_score", *extra, "method", "dataset",
                                     "ratio", "seed", "cell"])
    return pd.concat(frames, ignore_index=True)


# -------------------------------------------------------------------------------------------------- views

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
