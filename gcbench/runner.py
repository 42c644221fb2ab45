"""Grid runner: (method, dataset, ratio, arch, seed) cells -> rows in ``DIR/results.csv``.

Everything the user typed is validated before any computation (unknown method/dataset/arch, impossible
ratio, a budget below the class count, unreadable data, a malformed results file), so bad input fails
fast with one message and nothing already computed is touched.

After the datasets load, every method's :meth:`~gcbench.condensers.base.Condenser.check_graph` sees every
dataset it is to run on; a method that cannot run on a dataset is one error before anything is computed.

One condensation per (method, dataset, ratio, seed) serves every architecture. The condensed graph is
saved to ``DIR/condensed/<cell>.pt``, named by :func:`~gcbench.condensers.base.condensed_key` (method,
configuration and code, not the evaluation settings: changing only those re-evaluates the saved graphs),
and its per-epoch log to ``DIR/logs/<cell>.csv``; a rerun loads a saved graph instead of condensing again
when some of its architectures are still missing. Rows already done (same key *and* config hash, which
covers the method's code and the evaluation, :func:`~gcbench.condensers.base.config_hash`) are skipped
(resume); a changed method or evaluation gets a new hash and is computed again.

A condenser receives the graph with its test labels hidden (:meth:`Graph.hide_test_labels`), torch's global
generator seeded with the cell's seed (and restored afterwards). Any exception from a method's ``condense``
or from an evaluation (a ``GCBenchError`` included), a result that is not a :class:`CondensedGraph`, labels
that are not integer class ids in range, non-finite values or a broken budget yields ``status=failed`` rows
carrying the error, one line on stderr naming the cell, and the grid goes on (``Runner.n_failed`` counts
them; ``gcbench run`` then exits with code 3). The seed drives both the condensation and the evaluation of
its rows.
"""

from __future__ import annotations

import hashlib
import math
import os
import platform
import threading
import time
import traceback
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timezone
from functools import partial
from pathlib import Path
from typing import Any

import torch

from gcbench.archs import get_arch
from gcbench.condensers.base import Condenser, MethodSpec, condensed_key, config_hash
from gcbench.data import check_dataset_spec, load_dataset
from gcbench.errors import GCBenchError
from gcbench.evaluate import eval_config, evaluate
from gcbench.graph import Budget, CondensedGraph, Graph
from gcbench.results import ResultsStore, row_key
from gcbench.util import atomic_write, slug
from gcbench.version import __version__


@dataclass
class Grid:
    methods: list[str]
    datasets: list[str]
    ratios: list[float]
    archs: list[str]
    seeds: list[int]
    eval_overrides: dict[str, Any] = field(default_factory=dict)

    def validate(self) -> list[MethodSpec]:
        for what, items in (("methods", self.methods), ("datasets", self.datasets), ("ratios", self.ratios),
                            ("archs", self.archs), ("seeds", self.seeds)):
            if not items:
                raise GCBenchError(f"no {what} given")
        specs = [MethodSpec(m) for m in self.methods]
        for d in self.datasets:
            check_dataset_spec(d)
        for a in self.archs:
            get_arch(a)  # an unknown architecture: one error line naming the known ones
            eval_config(a, self.eval_overrides)
        for r in self.ratios:
            _check_ratio(r)
        for s in self.seeds:
            if isinstance(s, bool) or not isinstance(s, int) or s < 0:
                raise GCBenchError(f"seed must be a non-negative integer, got {s!r}")
        return specs


def _check_ratio(r: Any) -> None:
    Budget.from_counts([10**9], r)  # range and type checks only; class counts are checked per dataset


MAX_SLUG = 200  # + ".pt"/".csv" stays far below the usual 255-byte file name limit


def resolve_device(device: str | torch.device) -> torch.device:
    """``auto`` -> CUDA when this process sees a GPU, else the CPU; an unusable device is an error."""
    if str(device) == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    dev = torch.device(device)
    if dev.type == "cuda" and not torch.cuda.is_available():
        raise GCBenchError("--device cuda asked for, but no CUDA device is available")
    return dev


def versions() -> str:
    import torch_geometric

    return (f"gcbench={__version__};torch={torch.__version__};pyg={torch_geometric.__version__};"
            f"python={platform.python_version()}")


class PeakMemory:
    """Peak memory in MB while the block runs: CUDA allocator peak, or sampled process RSS on the CPU."""

    def __init__(self, device: torch.device, interval: float = 0.005) -> None:
        self.device, self.interval, self.peak_mb = device, interval, 0.0
        self._stop = threading.Event()

    def _rss(self) -> float:
        import psutil

        return psutil.Process().memory_info().rss / 2**20

    def _sample(self) -> None:
        while not self._stop.wait(self.interval):
            self.peak_mb = max(self.peak_mb, self._rss())

    def __enter__(self) -> PeakMemory:
        if self.device.type == "cuda":
            torch.cuda.reset_peak_memory_stats(self.device)
        else:
            self.peak_mb = self._rss()
            self._thread = threading.Thread(target=self._sample, daemon=True)
            self._thread.start()
        return self

    def __exit__(self, *exc: Any) -> None:
        if self.device.type == "cuda":
            self.peak_mb = torch.cuda.max_memory_allocated(self.device) / 2**20
        else:
            self._stop.set()
            self._thread.join()
            self.peak_mb = max(self.peak_mb, self._rss())


def cell_slug(method: str, dataset: str, ratio: float | None, seed: int, chash: str) -> str:
    """File name stem of a cell's condensed graph and log; a long one (method options with paths, say) is
    cut and made unique again with a digest of the whole, so it stays a valid file name."""
    r = "full" if ratio is None else f"r{ratio:g}"
    name = slug(f"{method}__{dataset}__{r}__s{seed}__{chash}")
    if len(name) > MAX_SLUG:
        name = f"{name[:MAX_SLUG - 18]}__{hashlib.sha256(name.encode()).hexdigest()[:16]}"
    return name


def one_line(exc: BaseException) -> str:
    msg = f"{type(exc).__name__}: {exc}".replace("\n", " ").strip()
    return msg[:500]


def check_condensed(cg: Any, budget: Budget | None, graph: Graph) -> None:
    """What the runner requires of a method's result (``RuntimeError``/``TypeError`` naming the problem)."""
    if not isinstance(cg, CondensedGraph):
        raise TypeError(f"condense() must return a CondensedGraph, got {type(cg).__name__}")
    labelled = cg.y if cg.train_mask is None else cg.y[cg.train_mask.to(cg.y.device)]
    if labelled.numel() and (int(labelled.min()) < 0 or int(labelled.max()) >= graph.num_classes):
        raise RuntimeError(f"condensed labels must be class ids in 0..{graph.num_classes - 1}, got "
                           f"{int(labelled.min())}..{int(labelled.max())}")
    if not cg.is_finite():
        raise RuntimeError("condensed graph has non-finite values (NaN/inf)")
    if cg.x.size(1) != graph.num_features:
        raise RuntimeError(f"condensed features have {cg.x.size(1)} columns, the graph {graph.num_features}")
    if budget is not None:
        counts = torch.bincount(cg.y.long().cpu(), minlength=len(budget.per_class)).tolist()
        if counts != list(budget.per_class):
            raise RuntimeError(f"condensed labels per class {counts} differ from the budget {list(budget.per_class)}")


@dataclass
class Cell:
    """One condensation and the architectures to evaluate on it. ``chash``: the rows' config hash;
    ``ckey``: the condensed graph's key (:func:`condensed_key`; the config hash where not given)."""

    spec: MethodSpec
    method: Condenser
    chash: str
    graph: Graph
    ratio: float | None
    seed: int
    archs: list[str]
    ckey: str = ""
    eval_overrides: dict[str, Any] = field(default_factory=dict)

    @property
    def slug(self) -> str:
        return cell_slug(self.spec.label, self.graph.name, self.ratio, self.seed, self.ckey or self.chash)

    def describe(self) -> str:
        return f"{self.spec.label}/{self.graph.name}/{'full' if self.ratio is None else self.ratio}/s{self.seed}"

    def budget(self) -> Budget | None:
        return None if self.ratio is None else Budget.from_graph(self.graph, self.ratio)


@dataclass
class Condensed:
    """A cell's condensed graph; its cost lives in ``cg.meta`` (``condense_s`` includes work reused from
    earlier cells, ``condense_peak_mb``), so a saved graph carries it."""

    cg: CondensedGraph

    @property
    def condense_s(self) -> float:
        return float(self.cg.meta.get("condense_s", math.nan))

    @property
    def selected_epoch(self) -> int | None:
        """The epoch (or iteration) the method selected its result at, when it says so in ``cg.meta``
        (``best_epoch``: gradient matching; ``best_iteration``: SFGC); ``None`` for one-shot methods."""
        for key in ("best_epoch", "best_iteration"):
            value = self.cg.meta.get(key)
            if value is not None:
                return int(value)
        return None

    @property
    def epochs_run(self) -> int | None:
        """The epochs (or iterations) the method ran, when it says so in ``cg.meta`` (``epochs_run``): its
        budget, or fewer after a plateau stop; ``None`` for one-shot methods."""
        value = self.cg.meta.get("epochs_run")
        return None if value is None else int(value)

    @property
    def peak_mb(self) -> float:
        return float(self.cg.meta.get("condense_peak_mb", math.nan))

    def state(self) -> dict[str, Any]:
        return self.cg.state()

    @classmethod
    def from_state(cls, state: dict[str, Any]) -> Condensed:
        return cls(CondensedGraph.from_state(state))


def seeded_condense(method: Condenser, graph: Graph, budget: Budget, seed: int, device: torch.device) -> Any:
    """``method.condense`` as the runner calls it: on the graph with hidden test labels, with torch's global
    generator (and the device's) seeded with ``seed`` and restored afterwards."""
    with torch.random.fork_rng(devices=[device] if device.type == "cuda" else []):
        torch.manual_seed(seed)
        return method.condense(graph.hide_test_labels(), budget, seed=seed, device=device)


def condense_cell(cell: Cell, device: torch.device) -> Condensed:
    """Condense one cell (no file is read or written): seeded, timed, peak memory sampled, checked."""
    budget = cell.budget()
    t0 = time.perf_counter()
    with PeakMemory(device) as mem:
        cg = seeded_condense(cell.method, cell.graph,
                             budget or Budget(1.0, tuple(cell.graph.train_class_counts().tolist())), cell.seed, device)
        if device.type == "cuda":
            torch.cuda.synchronize(device)
    check_condensed(cg, budget, cell.graph)
    # work a method reused from an earlier condensation in this process (e.g. the coreset embedding
    # model) counts as its own, so condense_s does not depend on the order of the grid
    elapsed = time.perf_counter() - t0 + float(cg.meta.get("reused_s", 0.0))
    cg.meta.update(condense_s=elapsed, condense_peak_mb=mem.peak_mb)
    return Condensed(cg)


def make_row(cell: Cell, arch: str, device: torch.device | str, **extra: Any) -> dict[str, Any]:
    try:
        protocol = eval_config(arch, cell.eval_overrides)["protocol"]
    except GCBenchError:  # an unknown architecture: validated before any row is made; never silently wrong
        protocol = ""
    return {
        "method": cell.spec.label, "dataset": cell.graph.name, "ratio": cell.ratio,
        "n_nodes": cell.graph.num_nodes, "arch": arch, "seed": cell.seed, "metric": cell.graph.metric,
        "protocol": protocol, "config_hash": cell.chash, "dataset_sha": cell.graph.sha[:16], "device": str(device),
        "versions": versions(), "timestamp": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        **extra,
    }


def failed_rows(cell: Cell, archs: list[str], device: torch.device | str, error: str,
                cond: Condensed | None = None) -> list[dict[str, Any]]:
    extra = {} if cond is None else {"n_syn_nodes": cond.cg.num_nodes, "n_syn_edges": cond.cg.num_edges,
                                     "condense_s": cond.condense_s}
    return [make_row(cell, arch, device, status="failed", error=error, **extra) for arch in archs]


def evaluate_arch(cell: Cell, cond: Condensed, arch: str, device: torch.device,
                  eval_overrides: dict[str, Any]) -> dict[str, Any]:
    """The result row of one architecture trained on a condensed graph (``status=failed`` on an error)."""
    try:
        with PeakMemory(device) as mem:
            res = evaluate(cond.cg, cell.graph, arch, cell.seed, device, eval_overrides)
        return make_row(
            cell, arch, device, status="ok", error="",
            n_syn_nodes=cond.cg.num_nodes, n_syn_edges=cond.cg.num_edges,
            val_score=res["val_score"], test_score=res["test_score"],
            condense_s=cond.condense_s, eval_s=res["eval_s"], condense_epoch=cond.selected_epoch,
            condense_epochs=cond.epochs_run, eval_epoch=res["best_epoch"],
            peak_mem_mb=max(mem.peak_mb, 0.0 if math.isnan(cond.peak_mb) else cond.peak_mb),
        )
    except Exception as exc:
        if os.environ.get("GCBENCH_DEBUG"):
            traceback.print_exc()
        return failed_rows(cell, [arch], device, one_line(exc), cond)[0]


class LocalExecutor:
    """The cells one after another in this process (the :class:`Runner`'s default executor; the others are in
    :mod:`gcbench.executors`)."""

    name = "local"

    def check_device(self, device: str | torch.device) -> torch.device:
        return resolve_device(device)

    def describe(self) -> str:
        return ""

    def close(self) -> None:
        pass

    def run(self, runner: Runner, cells: list[Cell], bar: Any) -> None:
        for cell in cells:
            bar.set_description(cell.describe())
            runner.run_cell(cell, bar.update)


class Runner:
    """Runs a :class:`Grid` into ``out`` (see the module docstring).

    ``executor`` decides where cells run (:class:`LocalExecutor`, in this process, by default; or as Ray
    tasks, :mod:`gcbench.executors`); this object stays the only writer of ``out``. With a Ray executor the
    device is resolved on each worker (``auto`` picks the worker's GPU when it has one)."""

    def __init__(self, grid: Grid, out: str | os.PathLike, device: str = "auto",
                 data_root: str | os.PathLike | None = None, progress: bool = True,
                 echo: Callable[[str], None] | None = None, executor: Any = None) -> None:
        self.grid, self.out, self.data_root, self.progress = grid, Path(out), data_root, progress
        self.echo = echo or (lambda s: None)
        self.specs = grid.validate()
        self.executor = executor or LocalExecutor()
        self.device = self.executor.check_device(device)
        self.store = ResultsStore(self.out / "results.csv")
        self.graphs: dict[str, Graph] = {}
        self.n_failed = 0  # failed rows this runner wrote

    def interrupted_message(self) -> str:
        """What a Ctrl-C in :meth:`run` leaves: the rows saved so far, and how to resume."""
        return (f"gcbench: interrupted; {len(self.store.rows)} row(s) are saved in {self.store.path}; "
                "run the same command again to resume")

    def record(self, row: dict[str, Any]) -> None:
        """Append one row (the executors' only way to write) and count and announce a failure."""
        self.store.append(row)
        if row.get("status") == "failed":
            self.n_failed += 1
            self.echo(f"gcbench: failed row {row['method']}/{row['dataset']}/"
                      f"{'full' if row.get('ratio') is None else row['ratio']}/{row['arch']}/s{row['seed']}: "
                      f"{row.get('error', '')}")

    def prepare(self) -> list[Cell]:
        for d in self.grid.datasets:
            g = load_dataset(d, self.data_root)
            self.graphs[g.name] = g
            if any(not s.cls.ratio_free for s in self.specs):
                for r in self.grid.ratios:
                    try:
                        Budget.from_graph(g, r)
                    except GCBenchError as exc:
                        raise GCBenchError(f"dataset {g.name!r}: {exc}") from None
        self.store.reload()  # rows written since the store was opened (earlier grids, other runs into DIR)
        done = self.store.done_keys()
        cells = []
        built_by_graph = {}
        for g in self.graphs.values():
            built = []
            for spec in self.specs:
                method = spec.build(g.name)
                try:
                    method.check_graph(g.hide_test_labels())
                except GCBenchError as exc:
                    raise GCBenchError(f"method {spec.label!r} cannot run on dataset {g.name!r}: {exc}") from None
                ratios = [None] if spec.cls.ratio_free else sorted(set(float(r) for r in self.grid.ratios))
                built.append((spec, method, config_hash(method, self.grid.eval_overrides), condensed_key(method),
                              ratios))
            built_by_graph[g.name] = built
        for g in self.graphs.values():
            built = built_by_graph[g.name]
            # seed-major: a run stopped part-way leaves its first seeds complete for every method and ratio,
            # so the rows it has already compare methods on the same seeds
            for s in self.grid.seeds:
                for spec, method, chash, ckey, ratios in built:
                    for r in ratios:
                        missing = [a for a in self.grid.archs if row_key(
                            {"method": spec.label, "dataset": g.name, "ratio": r, "arch": a, "seed": s,
                             "config_hash": chash}) not in done]
                        if missing:
                            cells.append(Cell(spec, method, chash, g, r, s, missing, ckey,
                                              dict(self.grid.eval_overrides)))
        return cells

    def run(self) -> ResultsStore:
        cells = self.prepare()
        total = sum(len(c.archs) for c in cells)
        self.echo(f"gcbench: {total} row(s) to compute on {self.device} {self.executor.describe()}"
                  f"({len(self.store.done_keys())} already done) -> {self.out / 'results.csv'}")
        from tqdm.auto import tqdm

        bar = tqdm(total=total, disable=not self.progress, unit="row", dynamic_ncols=True)
        try:
            self.executor.run(self, cells, bar)
        finally:
            bar.close()
        self.store.compact()  # drop the failed rows this grid's reruns superseded (the file is append-only)
        return self.store

    # ------------------------------------------------------------------------- the single writer
    def condensed_path(self, cell: Cell) -> Path:
        return self.out / "condensed" / f"{cell.slug}.pt"

    def load_saved(self, cell: Cell) -> Condensed | None:
        """The cell's condensed graph saved by an earlier run, if there is a readable one."""
        path = self.condensed_path(cell)
        if not path.exists():
            return None
        try:
            return Condensed.from_state(torch.load(path, map_location="cpu", weights_only=False))
        except Exception:  # unreadable leftover: condense again and overwrite it
            return None

    def save(self, cell: Cell, cond: Condensed) -> None:
        """Write a new condensed graph (atomically) and its per-epoch log."""
        if cell.ratio is not None:  # the whole-graph reference is cheap to rebuild and large to store
            path = self.condensed_path(cell)
            path.parent.mkdir(parents=True, exist_ok=True)
            atomic_write(path, partial(torch.save, cond.state()))
        if cond.cg.log:
            import pandas as pd

            log_path = self.out / "logs" / f"{cell.slug}.csv"
            log_path.parent.mkdir(parents=True, exist_ok=True)
            pd.DataFrame(cond.cg.log).to_csv(log_path, index=False)

    def condense(self, cell: Cell) -> Condensed:
        """The cell's condensed graph: the saved one, else condensed here and saved."""
        cond = self.load_saved(cell)
        if cond is None:
            cond = condense_cell(cell, self.device)
            self.save(cell, cond)
        return cond

    def run_cell(self, cell: Cell, advance: Callable[[int], Any]) -> None:
        """Condense and evaluate one cell in this process, appending each row as it is done."""
        try:
            cond = self.condense(cell)
        except Exception as exc:  # GCBenchError included: the method's failure is this cell's, not the grid's
            if os.environ.get("GCBENCH_DEBUG"):
                traceback.print_exc()
            for row in failed_rows(cell, cell.archs, self.device, one_line(exc)):
                self.record(row)
                advance(1)
            return
        for arch in cell.archs:
            self.record(evaluate_arch(cell, cond, arch, self.device, self.grid.eval_overrides))
            advance(1)
