"""Cost before running: ``gcbench run ... --estimate`` (and ``--suite S --estimate``).

For every distinct (method, dataset) of what a run still has to compute (done rows of the results folder
are left out, as a resume would), the estimate *times short probes* of the real code on this machine,
with this process's thread count and device, and extrapolates:

* **Condensation.** A method whose resolved options hold an iteration count (``epochs`` or ``iterations``)
  and a selection interval (``val_every`` or ``select_every``) is condensed four times at the grid's
  largest ratio: 1 iteration with selection every iteration (a warm-up that also pays one-time work such
  as SFGC's expert trajectories, which land in the cache the real run reuses), the same again, 3 iterations
  with selection at the last only, and 3 with selection at every one. From them: the fixed cost ``a``, the
  cost of an iteration ``b``, that of one selection ``c`` and the one-time cost ``o`` (warm-up minus its
  repeat); a cell costs ``a + b E + c S`` with ``E`` the configured iterations and ``S = ceil(E / every)``
  selections (every ``every`` iterations and at the last), ``o`` is paid once per (method, dataset); for a
  method with ``patience`` (a plateau stop) that is the cost of the whole budget, an upper bound. Where
  iterations alternate two kinds (:data:`ALTERNATION`: GCond's PGE epochs and X' epochs), the second kind
  is timed as well (two more probes with ``adj_steps=0``) and ``b`` weights both by their share. A
  method without an iteration count (coresets, training-free methods, ``whole``) is condensed twice (the
  second gives the cost of a cell, the difference the one-time cost).
* **Evaluation.** Each architecture is trained on the probe's condensed graph for 20 and 60 epochs with its
  protocol's validation interval; a row costs ``T20 + (E - 20) (T60 - T20) / 40`` for its configured
  ``E`` epochs (3,000 for the reference GAT).

Every cell of the grid (seed x ratio) is then costed with its (method, dataset)'s figures: smaller ratios
get the largest ratio's (an upper bound for methods whose cost grows with the budget).

**Measured rows first.** When the results folder already holds ok rows of the same method label, dataset
and config hash on the same kind of device (a study resumed across sittings, or a grid extended by seeds),
those rows *are* the measurement: a (method, dataset) whose every (ratio, architecture) still to compute
has such a row is costed without probing, a condensation at the median ``condense_s`` of that ratio's
measured condensations and a row at the median ``eval_s`` of that (ratio, architecture). Plateau stops are
then priced as they happened, not as an upper bound, and the estimate takes seconds. The figures inherit
the measured runs' conditions (threads, other processes on the machine); the table says which pairs were
measured and from how many condensations.

The figures are CPU (or GPU) seconds of one process; the run's wall-clock time on ``k`` parallel workers
is about the total over ``k`` at best. Probes are short, so their noise is large on a busy machine: read
the estimate as a factor-of-1.5 figure, enough to cut a grid before a day is spent on it
(``benchmarks/bench_throughput.py`` compares it with measured rows).
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import pandas as pd
import torch

from gcbench.evaluate import eval_config, evaluate
from gcbench.graph import Budget, Graph
from gcbench.results import ratio_key

ITER_KEYS = ("epochs", "iterations")
SELECT_KEYS = ("val_every", "select_every")
#: options of a method whose iterations alternate two kinds: of every ``adj_every`` iterations the first
#: ``adj_steps`` are of the first kind (the gradient-matching family: PGE steps, then X' steps) when
#: ``learn_adj`` is on
ALTERNATION = ("adj_every", "adj_steps", "learn_adj")
EVAL_PROBE = (20, 60)


def _alternates(cfg: dict[str, Any]) -> bool:
    every, steps, on = ALTERNATION
    return (bool(cfg.get(on)) and _int_option(cfg, (every,)) is not None and _int_option(cfg, (steps,)) is not None
            and 0 < int(cfg[steps]) < int(cfg[every]))


def _int_option(cfg: dict[str, Any], keys: tuple[str, ...]) -> str | None:
    return next((k for k in keys if isinstance(cfg.get(k), int) and not isinstance(cfg.get(k), bool)), None)


def _patience(cfg: dict[str, Any]) -> int:
    p = cfg.get("patience")
    return p if isinstance(p, int) and not isinstance(p, bool) and p > 0 else 0


def selections(iterations: int, every: int) -> int:
    """Selections of a run of ``iterations`` with selection every ``every`` and at the last (0: last only)."""
    if every <= 0:
        return 1
    return iterations // every + (1 if iterations % every else 0)


@dataclass
class CondenseCost:
    """Seconds: ``fixed`` per cell, ``per_iter`` per iteration, ``per_select`` per selection, ``once`` per
    (method, dataset); ``iterations``/``every`` are the configured ones (``None`` without them)."""

    fixed: float
    per_iter: float = 0.0
    per_select: float = 0.0
    once: float = 0.0
    iterations: int | None = None
    every: int | None = None
    probe_s: float = 0.0
    patience: int = 0  # > 0: the run may stop early on a validation plateau; the figure is its maximum

    def per_cell(self) -> float:
        if self.iterations is None:
            return self.fixed
        n_sel = selections(self.iterations, self.every) if self.every is not None else 0
        return self.fixed + self.per_iter * self.iterations + self.per_select * n_sel


@dataclass
class PairEstimate:
    """The estimate of one (method, dataset): its cells and what each costs."""

    method: str
    dataset: str
    condense: CondenseCost
    eval_s: dict[str, float]  # per architecture, one row
    cells: int = 0  # condensations still to run (seed x ratio)
    rows: dict[str, int] = field(default_factory=dict)  # per architecture, rows still to run
    probe_s: float = 0.0
    measured: int = 0  # > 0: costed from this many measured condensations of the results folder, not probed
    epochs_run: float | None = None  # measured: median iterations the measured condensations ran

    def total(self) -> float:
        return (self.condense.once + self.cells * self.condense.per_cell()
                + sum(self.eval_s[a] * n for a, n in self.rows.items()))


def _timed(fn: Callable[[], Any]) -> tuple[Any, float]:
    t0 = time.perf_counter()
    out = fn()
    return out, time.perf_counter() - t0


def probe_condensation(method: Any, graph: Graph, budget: Budget | None, device: torch.device,
                       condense: Callable[[Any], Any]) -> tuple[Any, CondenseCost]:
    """Time short runs of ``method`` (``condense(variant)`` condenses one variant and returns its condensed
    graph) and fit :class:`CondenseCost`; also returns one condensed graph of the probes."""
    cfg = dict(method.config)
    it_key, sel_key = _int_option(cfg, ITER_KEYS), _int_option(cfg, SELECT_KEYS)
    t0 = time.perf_counter()

    def variant(**opts: Any) -> Any:
        return type(method)(**{**cfg, **opts})

    if it_key is None:
        cg, warm = _timed(lambda: condense(method))
        _, again = _timed(lambda: condense(method))
        return cg, CondenseCost(fixed=again, once=max(0.0, warm - again), probe_s=time.perf_counter() - t0)
    sel = {sel_key: 1} if sel_key else {}
    cg, warm = _timed(lambda: condense(variant(**{it_key: 1}, **sel)))
    _, one = _timed(lambda: condense(variant(**{it_key: 1}, **sel)))
    _, three = _timed(lambda: condense(variant(**{it_key: 3}, **({sel_key: 3} if sel_key else {}))))
    per_select = 0.0
    if sel_key:
        _, three_all = _timed(lambda: condense(variant(**{it_key: 3, sel_key: 1})))
        per_select = max(0.0, (three_all - three) / 2)  # 3 selections against 1
    per_iter = max(0.0, (three - one) / 2)  # both with one selection
    fixed = max(0.0, one - per_iter - per_select)
    if _alternates(cfg):
        # the first iterations are of the first kind (e.g. GCond's PGE epochs); time the other kind too and
        # weight the two by their share of a run
        _, one_b = _timed(lambda: condense(variant(**{it_key: 1, ALTERNATION[1]: 0}, **sel)))
        _, three_b = _timed(lambda: condense(variant(**{it_key: 3, ALTERNATION[1]: 0},
                                                     **({sel_key: 3} if sel_key else {}))))
        share = min(1.0, int(cfg[ALTERNATION[1]]) / int(cfg[ALTERNATION[0]]))
        per_iter = share * per_iter + (1 - share) * max(0.0, (three_b - one_b) / 2)
    return cg, CondenseCost(fixed=fixed, per_iter=per_iter, per_select=per_select, once=max(0.0, warm - one),
                            iterations=int(cfg[it_key]), every=int(cfg[sel_key]) if sel_key else None,
                            probe_s=time.perf_counter() - t0, patience=_patience(cfg))


def probe_evaluation(cg: Any, graph: Graph, arch: str, seed: int, device: torch.device,
                     overrides: dict[str, Any]) -> float:
    """Seconds one row of ``arch`` costs on a condensed graph like ``cg`` (see the module docstring)."""
    epochs = int(eval_config(arch, overrides)["epochs"])
    lo, hi = EVAL_PROBE
    if epochs <= lo:
        return evaluate(cg, graph, arch, seed, device, {**overrides, "epochs": epochs})["eval_s"]
    t = [evaluate(cg, graph, arch, seed, device, {**overrides, "epochs": e})["eval_s"] for e in (lo, hi)]
    return t[0] + max(0.0, t[1] - t[0]) * (epochs - lo) / (hi - lo)


def measured_pair(group: list[Any], rows: pd.DataFrame | None, device: torch.device) -> PairEstimate | None:
    """The estimate of one (method, dataset)'s cells ``group`` from measured ``rows`` (a results folder's
    frame), or ``None`` unless every (ratio, architecture) still to compute has an ok row of the same method
    label, dataset and config hash on a device of the same type (see the module docstring)."""
    first = group[0]
    if rows is None or rows.empty:
        return None
    mine = rows[(rows["status"] == "ok") & (rows["method"] == first.spec.label) & (rows["dataset"] == first.graph.name)
                & (rows["config_hash"] == first.chash)
                & (rows["device"].astype(str).str.split(":").str[0] == device.type)]
    if mine.empty:
        return None
    keys = mine["ratio"].map(ratio_key)  # the rows' ratio as the store keys it (row_key)
    by_ratio: dict[float | None, tuple[float, dict[str, float], int, float | None]] = {}
    for r in sorted({c.ratio for c in group}, key=lambda v: -1.0 if v is None else v):
        at = mine[keys == ratio_key(r)]
        archs = sorted({a for c in group if c.ratio == r for a in c.archs})
        eval_s = {a: float(at.loc[at["arch"] == a, "eval_s"].median()) for a in archs}
        if at.empty or any(not math.isfinite(v) for v in eval_s.values()):
            return None
        runs = at.drop_duplicates("seed")  # one condensation per seed; its arch rows repeat its condense_s
        cond_s = float(runs["condense_s"].median())
        if not math.isfinite(cond_s):
            return None
        epochs = runs["condense_epochs"].dropna()
        by_ratio[r] = (cond_s, eval_s, len(runs),
                       float(epochs.median()) if len(epochs) else None)
    archs = sorted({a for c in group for a in c.archs})
    rows_by_arch = {a: sum(a in c.archs for c in group) for a in archs}
    eval_total = {a: sum(by_ratio[c.ratio][1][a] for c in group if a in c.archs) for a in archs}
    epochs = [e for _, _, _, e in by_ratio.values() if e is not None]
    return PairEstimate(first.spec.label, first.graph.name,
                        CondenseCost(fixed=sum(by_ratio[c.ratio][0] for c in group) / len(group)),
                        {a: eval_total[a] / rows_by_arch[a] for a in archs}, cells=len(group), rows=rows_by_arch,
                        measured=sum(n for _, _, n, _ in by_ratio.values()),
                        epochs_run=float(pd.Series(epochs).median()) if epochs else None)


def estimate_cells(cells: list[Any], device: torch.device, echo: Callable[[str], None] = lambda s: None,
                   measured: pd.DataFrame | None = None) -> list[PairEstimate]:
    """Estimate the cost of the runner cells ``cells`` (:meth:`gcbench.runner.Runner.prepare`): from the
    ``measured`` rows (the results folder's frame) where they cover a (method, dataset)
    (:func:`measured_pair`), otherwise probing each distinct (method, dataset) once."""
    from gcbench.runner import Cell, condense_cell

    groups: dict[tuple[str, str], list[Any]] = {}
    for c in cells:
        groups.setdefault((c.spec.label, c.graph.name), []).append(c)
    out = []
    for (label, dataset), group in groups.items():
        known = measured_pair(group, measured, device)
        if known is not None:
            echo(f"gcbench: {label} on {dataset}: {len(group)} condensation(s) costed from {known.measured} "
                 "measured condensation(s) of the results folder")
            out.append(known)
            continue
        first = group[0]
        ratios = [c.ratio for c in group if c.ratio is not None]
        ratio = max(ratios) if ratios else None
        archs = sorted({a for c in group for a in c.archs})
        echo(f"gcbench: estimating {label} on {dataset} ({len(group)} condensation(s), probing"
             f"{'' if ratio is None else f' r={ratio:g}'}, archs {','.join(archs)})")
        t0 = time.perf_counter()

        def condense(method: Any, first: Any = first, ratio: float | None = ratio) -> Any:
            cell = Cell(first.spec, method, first.chash, first.graph, ratio, first.seed, [], first.ckey,
                        first.eval_overrides)
            return condense_cell(cell, device).cg

        budget = None if ratio is None else Budget.from_graph(first.graph, ratio)
        cg, cost = probe_condensation(first.method, first.graph, budget, device, condense)
        eval_s = {a: probe_evaluation(cg, first.graph, a, first.seed, device, first.eval_overrides) for a in archs}
        rows = {a: sum(a in c.archs for c in group) for a in archs}
        out.append(PairEstimate(label, dataset, cost, eval_s, cells=len(group), rows=rows,
                                probe_s=time.perf_counter() - t0))
    return out


def _hms(seconds: float) -> str:
    if not math.isfinite(seconds):
        return "?"
    if seconds < 60:
        return f"{seconds:.1f} s"
    if seconds < 3600:
        return f"{seconds / 60:.1f} min"
    return f"{seconds / 3600:.2f} h"


def format_estimate(estimates: list[PairEstimate], device: torch.device, threads: int) -> str:
    """The estimate as a Markdown table (one line per (method, dataset)) and the grid's total."""
    n_measured = sum(bool(e.measured) for e in estimates)
    source = ("rows the results folder already holds" if n_measured == len(estimates) else
              "probes of the real code" + (" and rows the results folder already holds" if n_measured else ""))
    lines = [f"Estimated cost on {device} ({threads} thread(s) per process), from {source}:", "",
             "| method | dataset | from | condensations | per condensation | one-time | rows | per row (by arch) "
             "| total |",
             "|:---|:---|:---|---:|---:|---:|---:|:---|---:|"]
    total = probe = 0.0
    bounded = 0
    for e in estimates:
        c = e.condense
        how = ("at most " if c.patience else "") + _hms(c.per_cell())
        origin = f"{e.measured} measured" if e.measured else "probes"
        if e.measured and e.epochs_run is not None:
            how += f" (ran {e.epochs_run:g} it., median)"
        if c.iterations is not None:
            how += f" ({c.iterations} it. x {_hms(c.per_iter)}"
            how += f", {selections(c.iterations, c.every)} sel. x {_hms(c.per_select)})" if c.every else ")"
        per_row = ", ".join(f"{a} {_hms(s)}" for a, s in e.eval_s.items())
        lines.append(f"| {e.method} | {e.dataset} | {origin} | {e.cells} | {how} | {_hms(c.once)} | "
                     f"{sum(e.rows.values())} | {per_row} | {'at most ' if c.patience else ''}{_hms(e.total())} |")
        bounded += bool(c.patience)
        total += e.total()
        probe += e.probe_s
    lines += ["", f"Grid total: {_hms(total)} of CPU time ({total / 3600:.2f} CPU-hours) for "
              f"{sum(sum(e.rows.values()) for e in estimates)} row(s); on k parallel workers about total / k. "
              f"The probes took {_hms(probe)}. Nothing was written."]
    if n_measured:
        lines.append(f"{n_measured} (method, dataset) pair(s) are costed from rows already in the results folder "
                     "(median seconds of the same configuration): they carry those runs' conditions.")
    if bounded:
        lines.append(f"{bounded} (method, dataset) pair(s) stop on a validation plateau (patience): their figures "
                     "assume the whole budget runs, so the total is an upper bound.")
    return "\n".join(lines)
