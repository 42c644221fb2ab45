"""Neural architecture search on a condensed graph: does it rank GNN configurations as the full graph does?

``gcbench nas --method M --dataset D --ratio r`` trains every configuration of a search space twice with
the evaluation protocol of :mod:`gcbench.evaluate` (:func:`~gcbench.evaluate.evaluate`, so the same
``train_select``: Adam, lr x 0.1 from half the epochs, the epoch chosen on the full graph's validation
nodes): once on the condensed graph of ``M`` and once on the full graph (the ``whole`` reference: all
nodes and edges, loss on the training labels). It reports

* the Spearman and Kendall (tau-b) rank correlations between the validation scores the configurations
  reach on the condensed graph and on the full graph (``spearman``, ``kendall``; the same on test scores
  as ``spearman_test``, ``kendall_test``),
* the full-graph test score of the configuration a search on the condensed graph would choose (best
  condensed validation score, ``chosen_full_test``) against the configuration a search on the full graph
  would choose (best full-graph validation score, ``best_full_test``), their difference ``gap`` and the
  rank of the chosen configuration among the full-graph validation scores (``chosen_rank``, 1 = the best).

No choice looks at a test score; ties go to the smaller ``config_id``.

**Search space** (:data:`SPACE`, the full product, 96 configurations): ``arch`` in gcn / sage / appnp,
``layers`` 2 / 3, ``hidden`` 64 / 256, ``dropout`` 0 / 0.5, ``lr`` 0.01 / 0.001, ``weight_decay`` 5e-4 / 0;
each architecture keeps its other defaults (APPNP: K=10, alpha=0.1). ``configs=N`` keeps a fixed random
subset of N configurations, stratified by architecture (a seeded ``random.sample`` per architecture, so
every study with the same N trains the same configurations); ``config_id`` is the index in the full
product, so subsets stay comparable. Every configuration trains ``epochs`` epochs (default 200) and
checks validation every ``eval_every`` epochs (default 10; the leaderboard protocol uses 600 and 1): NAS
ranks many models, so it uses a shorter budget.

**Files.** ``OUT/nas/<method>__<dataset>__r<ratio>__s<seed>.csv``: one row per configuration (the config
fields, ``cond_val``, ``cond_test``, ``full_val``, ``full_test`` in [0, 1], seconds, provenance). The
full-graph scores do not depend on the method and are cached in ``OUT/nas/full/`` (keyed by dataset
checksum, seed, epochs, eval_every), so a second method on the same dataset only trains on its condensed
graph. Both files are rewritten atomically after every configuration; a rerun resumes. The condensed
graph is the one a ``gcbench run`` into the same ``OUT`` saved (``OUT/condensed/``, keyed by the config
hash, which includes the run's evaluation overrides: pass the same ``--eval``), or it is condensed now
and saved there. Summaries (:func:`nas_summary`) are pure functions of the study rows.
"""

from __future__ import annotations

import csv
import io
import itertools
import math
import os
import random
from collections.abc import Callable, Sequence
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import pandas as pd

from gcbench.errors import GCBenchError
from gcbench.results import format_cell
from gcbench.util import atomic_write_text, natural_key, slug

SPACE: dict[str, tuple[Any, ...]] = {
    "arch": ("gcn", "sage", "appnp"),
    "layers": (2, 3),
    "hidden": (64, 256),
    "dropout": (0.0, 0.5),
    "lr": (0.01, 0.001),
    "weight_decay": (5e-4, 0.0),
}
CONFIG_FIELDS = tuple(SPACE)
DEFAULT_EPOCHS = 200
DEFAULT_EVAL_EVERY = 10
SUBSET_SEED = 0

STUDY_COLUMNS = (
    "method", "dataset", "ratio", "seed", "config_id", *CONFIG_FIELDS, "epochs", "eval_every",
    "cond_val", "cond_test", "full_val", "full_test", "cond_s", "full_s", "n_syn_nodes", "metric",
    "config_hash", "dataset_sha", "versions", "timestamp",
)
FULL_COLUMNS = ("dataset", "dataset_sha", "seed", "config_id", *CONFIG_FIELDS, "epochs", "eval_every",
                "full_val", "full_test", "full_s", "metric")
SCORE_COLUMNS = ("cond_val", "cond_test", "full_val", "full_test")
SUMMARY_COLUMNS = (
    "dataset", "ratio", "method", "seed", "n_configs", "epochs", "metric", "spearman", "kendall",
    "spearman_test", "kendall_test", "chosen_id", "chosen_config", "chosen_full_test", "best_id",
    "best_config", "best_full_test", "gap", "chosen_rank",
)


# ----------------------------------------------------------------------------------------------- space
def full_space() -> list[dict[str, Any]]:
    """The whole product of :data:`SPACE`, each with its ``config_id`` (index in the product)."""
    out = []
    for i, values in enumerate(itertools.product(*SPACE.values())):
        out.append({"config_id": i, **dict(zip(CONFIG_FIELDS, values))})
    return out


def search_space(configs: int | None = None) -> list[dict[str, Any]]:
    """All configurations, or a fixed subset of ``configs`` of them, sorted by ``config_id``.

    The subset is stratified by architecture (``configs // 3`` each, the remainder to the first ones in
    :data:`SPACE` order), each drawn with ``random.Random(SUBSET_SEED + k).sample`` for the k-th architecture.
    """
    space = full_space()
    if configs is None or (not isinstance(configs, bool) and isinstance(configs, int) and configs >= len(space)):
        return space
    if isinstance(configs, bool) or not isinstance(configs, int) or configs < 2:
        raise GCBenchError(f"--configs must be an integer >= 2 (a rank correlation needs two), got {configs!r}")
    archs = SPACE["arch"]
    keep: list[int] = []
    for k, arch in enumerate(archs):
        n = configs // len(archs) + (1 if k < configs % len(archs) else 0)
        ids = [c["config_id"] for c in space if c["arch"] == arch]
        keep += random.Random(SUBSET_SEED + k).sample(ids, n)
    return [space[i] for i in sorted(keep)]


def config_label(cfg: dict[str, Any]) -> str:
    """``gcn L2 h256 d0.5 lr0.01 wd0.0005``: a compact name for tables and plots."""
    return (f"{cfg['arch']} L{int(cfg['layers'])} h{int(cfg['hidden'])} d{float(cfg['dropout']):g} "
            f"lr{float(cfg['lr']):g} wd{float(cfg['weight_decay']):g}")


def overrides_for(cfg: dict[str, Any], epochs: int, eval_every: int) -> dict[str, Any]:
    return {"epochs": int(epochs), "eval_every": int(eval_every), "layers": int(cfg["layers"]),
            "hidden": int(cfg["hidden"]), "dropout": float(cfg["dropout"]), "lr": float(cfg["lr"]),
            "weight_decay": float(cfg["weight_decay"])}


# ------------------------------------------------------------------------------------------- statistics
def rank_correlations(a: Sequence[float], b: Sequence[float]) -> tuple[float, float]:
    """(Spearman rho, Kendall tau-b) of two score lists (scipy.stats; NaN when undefined)."""
    import warnings

    from scipy import stats

    x, y = [float(v) for v in a], [float(v) for v in b]
    if len(x) != len(y):
        raise ValueError("rank_correlations: lists of different lengths")
    if len(x) < 2 or len(set(x)) < 2 or len(set(y)) < 2:
        return math.nan, math.nan
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        rho = float(stats.spearmanr(x, y).statistic)
        tau = float(stats.kendalltau(x, y).statistic)
    return rho, tau


def _argmax(ids: Sequence[int], values: Sequence[float]) -> int:
    """Position of the largest value; ties go to the smallest id (NaN never wins)."""
    best = None
    for pos, (i, v) in enumerate(zip(ids, values)):
        if math.isnan(v):
            continue
        if best is None or v > values[best] or (v == values[best] and i < ids[best]):
            best = pos
    if best is None:
        raise GCBenchError("NAS study has no finite validation score")
    return best


def summarize_study(rows: pd.DataFrame) -> dict[str, Any]:
    """One study's rows (one per configuration) -> the figures described in the module docstring."""
    rows = rows.sort_values("config_id", kind="mergesort")
    ids = [int(v) for v in rows["config_id"]]
    if len(set(ids)) != len(ids):
        raise GCBenchError("NAS study has a config_id twice")
    cv, ct = [float(v) for v in rows["cond_val"]], [float(v) for v in rows["cond_test"]]
    fv, ft = [float(v) for v in rows["full_val"]], [float(v) for v in rows["full_test"]]
    rho, tau = rank_correlations(cv, fv)
    rho_t, tau_t = rank_correlations(ct, ft)
    chosen, best = _argmax(ids, cv), _argmax(ids, fv)
    cfgs = rows[list(CONFIG_FIELDS)].to_dict("records")
    first = rows.iloc[0]
    return {
        "dataset": str(first["dataset"]),
        "ratio": float(first["ratio"]),
        "method": str(first["method"]),
        "seed": int(first["seed"]),
        "n_configs": len(ids),
        "epochs": int(first["epochs"]),
        "metric": str(first["metric"]),
        "spearman": rho,
        "kendall": tau,
        "spearman_test": rho_t,
        "kendall_test": tau_t,
        "chosen_id": ids[chosen],
        "chosen_config": config_label(cfgs[chosen]),
        "chosen_full_test": 100.0 * ft[chosen],
        "best_id": ids[best],
        "best_config": config_label(cfgs[best]),
        "best_full_test": 100.0 * ft[best],
        "gap": 100.0 * (ft[best] - ft[chosen]),
        "chosen_rank": 1 + sum(1 for v in fv if v > fv[chosen]),
    }


def nas_summary(rows: pd.DataFrame) -> pd.DataFrame:
    """One row per study (dataset, ratio, method, seed) in canonical order; see :data:`SUMMARY_COLUMNS`."""
    check_study_frame(rows)
    records = [summarize_study(g) for _, g in rows.groupby(["dataset", "ratio", "method", "seed"], sort=False)]
    records.sort(key=lambda r: (natural_key(r["dataset"]), r["ratio"], natural_key(r["method"]), r["seed"]))
    return pd.DataFrame.from_records(records, columns=list(SUMMARY_COLUMNS))


def check_study_frame(rows: pd.DataFrame, where: str = "NAS rows") -> None:
    missing = [c for c in ("method", "dataset", "ratio", "seed", "config_id", *CONFIG_FIELDS, "epochs",
                           *SCORE_COLUMNS, "metric") if c not in rows.columns]
    if missing:
        raise GCBenchError(f"{where}: missing column(s) {', '.join(missing)}")
    for c in SCORE_COLUMNS:
        vals = pd.to_numeric(rows[c], errors="coerce")
        if vals.isna().any():
            raise GCBenchError(f"{where}: {int(vals.isna().sum())} row(s) without a numeric {c}")


# ------------------------------------------------------------------------------------------------ files
def study_filename(method: str, dataset: str, ratio: float, seed: int) -> str:
    return f"{slug(method)}__{slug(dataset)}__r{float(ratio):g}__s{int(seed)}.csv"


def write_csv(path: Path, columns: Sequence[str], rows: Sequence[dict[str, Any]]) -> None:
    """Atomic CSV write (temporary sibling + rename), fixed column order, ``repr`` floats."""
    path.parent.mkdir(parents=True, exist_ok=True)
    buf = io.StringIO(newline="")
    writer = csv.DictWriter(buf, fieldnames=list(columns), lineterminator="\n", extrasaction="ignore")
    writer.writeheader()
    for r in rows:
        writer.writerow({c: format_cell(r.get(c)) for c in columns})
    atomic_write_text(path, buf.getvalue())


def read_study_files(paths: Sequence[Path]) -> pd.DataFrame:
    """Concatenate study CSVs (strict: a file without the columns or with non-numeric scores is an error)."""
    frames = []
    for p in sorted(paths):
        try:
            df = pd.read_csv(p, keep_default_na=False, na_values=[""])
        except (OSError, UnicodeDecodeError, pd.errors.ParserError, pd.errors.EmptyDataError) as exc:
            raise GCBenchError(f"cannot read NAS file {p}: {str(exc).splitlines()[0]}") from None
        check_study_frame(df, str(p))
        frames.append(df)
    if not frames:
        return pd.DataFrame(columns=list(STUDY_COLUMNS))
    return pd.concat(frames, ignore_index=True)


def study_paths(folder: str | os.PathLike) -> list[Path]:
    """The study files of ``folder/nas/`` (the ``full/`` cache below it is not a study)."""
    d = Path(folder) / "nas"
    return sorted(p for p in d.glob("*.csv") if p.is_file()) if d.is_dir() else []


def read_nas(folder: str | os.PathLike) -> pd.DataFrame | None:
    """All NAS study rows of a results folder, or None when it has none."""
    paths = study_paths(folder)
    return read_study_files(paths) if paths else None


def _read_rows(path: Path) -> list[dict[str, str]]:
    if not path.exists():
        return []
    try:
        with open(path, encoding="utf-8", newline="") as fh:
            return list(csv.DictReader(fh))
    except (OSError, UnicodeDecodeError, csv.Error):
        return []  # an unreadable cache is recomputed


# -------------------------------------------------------------------------------------------- training
def run_nas(
    method: str,
    dataset: str,
    ratio: float,
    *,
    seed: int = 0,
    out: str | os.PathLike = "gcbench-results",
    configs: int | None = None,
    epochs: int = DEFAULT_EPOCHS,
    eval_every: int = DEFAULT_EVAL_EVERY,
    device: str = "auto",
    data_root: str | os.PathLike | None = None,
    eval_overrides: dict[str, Any] | None = None,
    echo: Callable[[str], None] | None = None,
) -> tuple[Path, dict[str, Any]]:
    """Run one NAS study (see the module docstring); returns the study file and its summary."""
    from gcbench.condensers.base import MethodSpec, condensed_key, config_hash, get_condenser
    from gcbench.data import check_dataset_spec, load_dataset
    from gcbench.evaluate import evaluate
    from gcbench.graph import Budget
    from gcbench.runner import Cell, Grid, Runner, cell_slug, versions

    echo = echo or (lambda s: None)
    for what, v, lo in (("epochs", epochs, 1), ("eval_every", eval_every, 1), ("seed", seed, 0)):
        if isinstance(v, bool) or not isinstance(v, int) or v < lo:
            raise GCBenchError(f"NAS {what} must be an integer >= {lo}, got {v!r}")
    spec = MethodSpec(method)
    if spec.cls.ratio_free:
        raise GCBenchError(f"{spec.label!r} is the whole-graph reference: NAS compares a condensed graph with it")
    check_dataset_spec(dataset)
    space = search_space(configs)
    grid = Grid(methods=[method], datasets=[dataset], ratios=[float(ratio)], archs=["gcn"], seeds=[seed],
                eval_overrides=dict(eval_overrides or {}))
    runner = Runner(grid, out, device=device, data_root=data_root)  # validates the grid
    graph = load_dataset(dataset, data_root)
    try:
        Budget.from_graph(graph, float(ratio))
    except GCBenchError as exc:
        raise GCBenchError(f"dataset {graph.name!r}: {exc}") from None
    dev = runner.device
    cond = spec.build(graph.name)
    chash, ckey = config_hash(cond, grid.eval_overrides), condensed_key(cond)
    saved = Path(out) / "condensed" / f"{cell_slug(spec.label, graph.name, float(ratio), seed, ckey)}.pt"
    how = f"loaded from {saved}" if saved.exists() else "condensed now"
    cg = runner.condense(Cell(spec, cond, chash, graph, float(ratio), seed, ["gcn"], ckey, grid.eval_overrides)).cg
    echo(f"gcbench nas: {spec.label} on {graph.name} r={float(ratio):g} seed {seed}: condensed graph with "
         f"{cg.num_nodes} nodes ({how}); {len(space)} configuration(s) x {epochs} epochs on it and on the full graph")

    nas_dir = Path(out) / "nas"
    full_path = nas_dir / "full" / f"{slug(graph.name)}__s{seed}__e{epochs}__k{eval_every}.csv"
    sha = graph.sha[:16]
    full_rows = {int(r["config_id"]): r for r in _read_rows(full_path)
                 if r.get("dataset_sha") == sha and r.get("seed") == str(seed)
                 and r.get("epochs") == str(epochs) and r.get("eval_every") == str(eval_every)}
    whole = get_condenser("whole")().condense(
        graph, Budget(1.0, tuple(graph.train_class_counts().tolist())), seed=seed, device=dev)
    todo = [c for c in space if c["config_id"] not in full_rows]
    for k, cfg in enumerate(todo, 1):
        res = evaluate(whole, graph, cfg["arch"], seed, dev, overrides_for(cfg, epochs, eval_every))
        full_rows[cfg["config_id"]] = {
            "dataset": graph.name, "dataset_sha": sha, "seed": seed, **cfg, "epochs": epochs,
            "eval_every": eval_every, "full_val": res["val_score"], "full_test": res["test_score"],
            "full_s": res["eval_s"], "metric": graph.metric,
        }
        write_csv(full_path, FULL_COLUMNS, [full_rows[i] for i in sorted(full_rows)])
        if k % 12 == 0 or k == len(todo):
            echo(f"gcbench nas: full graph {k}/{len(todo)} configuration(s) trained")

    path = nas_dir / study_filename(spec.label, graph.name, float(ratio), seed)
    done = {int(r["config_id"]): r for r in _read_rows(path)
            if r.get("config_hash") == chash and r.get("dataset_sha") == sha and r.get("seed") == str(seed)
            and r.get("epochs") == str(epochs) and r.get("eval_every") == str(eval_every)
            and r.get("method") == spec.label}
    rows: dict[int, dict[str, Any]] = {}
    ver = versions()
    pending = [c for c in space if c["config_id"] not in done]
    for cfg in space:
        i = cfg["config_id"]
        if i in done:
            rows[i] = done[i]
    for k, cfg in enumerate(pending, 1):
        i = cfg["config_id"]
        res = evaluate(cg, graph, cfg["arch"], seed, dev, overrides_for(cfg, epochs, eval_every))
        full = full_rows[i]
        rows[i] = {
            "method": spec.label, "dataset": graph.name, "ratio": float(ratio), "seed": seed, **cfg,
            "epochs": epochs, "eval_every": eval_every, "cond_val": res["val_score"],
            "cond_test": res["test_score"], "full_val": float(full["full_val"]),
            "full_test": float(full["full_test"]), "cond_s": res["eval_s"], "full_s": float(full["full_s"]),
            "n_syn_nodes": cg.num_nodes, "metric": graph.metric, "config_hash": chash, "dataset_sha": sha,
            "versions": ver, "timestamp": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        }
        write_csv(path, STUDY_COLUMNS, [rows[j] for j in sorted(rows)])
        if k % 12 == 0 or k == len(pending):
            echo(f"gcbench nas: condensed graph {k}/{len(pending)} configuration(s) trained")
    write_csv(path, STUDY_COLUMNS, [rows[j] for j in sorted(rows)])
    summary = summarize_study(read_study_files([path]))
    return path, summary
