"""Where the cells of a grid run: in this process, or as Ray tasks on one machine or a cluster.

Both executors leave every write to the :class:`~gcbench.runner.Runner` in the driver process: the results
file, the condensed graphs (``DIR/condensed``) and the per-epoch logs (``DIR/logs``). So there is one writer
of ``results.csv`` however many workers there are, and resume works the same way: a rerun computes only the
rows that are not in the file, and reuses a saved condensed graph instead of condensing again.

* :class:`~gcbench.runner.LocalExecutor` (``--executor local``, the default; defined in :mod:`gcbench.runner`,
  whose default it is, and importable from here): the cells one after another; each row is appended as soon
  as it is evaluated.
* :class:`RayExecutor` (``--executor ray``, needs the optional ``gcbench[ray]`` extra): one task per
  condensation, which also evaluates every architecture of its cell (``split_eval``: one task per
  architecture instead, fed the condensed graph through the object store). Each dataset goes to the object
  store once; a cell's saved condensed graph is sent with its task, so the workers read no file and need no
  dataset folder. Rows come back to the driver as tasks finish and are appended there. A task whose worker
  dies (killed, out of memory) is retried ``max_retries`` times by Ray; after that its rows are written as
  ``status=failed`` with the reason and the grid goes on. A method that raises (a ``GCBenchError``
  included) gives failed rows exactly as in the local executor. The device is resolved on each worker:
  ``auto`` is CUDA where the task was given a GPU (``gpus_per_task``, fractions allowed), else the CPU; a
  task uses as many CPU threads as it was given CPUs (``cpus_per_task``).
"""

from __future__ import annotations

import dataclasses
import logging
import os
from typing import Any

import torch

from gcbench.errors import GCBenchError
from gcbench.runner import (
    Cell,
    Condensed,
    LocalExecutor,
    Runner,
    condense_cell,
    evaluate_arch,
    failed_rows,
    one_line,
    resolve_device,
)

__all__ = ["LocalExecutor", "RayExecutor", "import_ray"]  # LocalExecutor lives with the runner it defaults for


def _describe_cell(cell: Cell) -> str:
    return cell.describe()


def import_ray() -> Any:
    try:
        import ray
    except ImportError:
        raise GCBenchError("--executor ray needs Ray, which is not installed: pip install 'gcbench[ray]'") from None
    return ray


def _check_device_text(device: str | torch.device) -> str:
    text = str(device)
    if text == "auto":
        return text
    try:
        dev = torch.device(text)
    except (RuntimeError, ValueError):
        raise GCBenchError(f"unknown device {text!r}; use auto, cpu, cuda or cuda:N") from None
    if dev.type not in ("cpu", "cuda"):
        raise GCBenchError(f"unknown device {text!r}; use auto, cpu, cuda or cuda:N")
    return text


# ------------------------------------------------------------------------------ worker side (Ray)
def _worker_setup(device: str) -> torch.device:
    import ray

    cpus = ray.get_runtime_context().get_assigned_resources().get("CPU", 1.0)
    torch.set_num_threads(max(1, int(cpus)))
    return resolve_device(device)


def _with_graph(cell: Cell, graph: Any) -> Cell:
    return dataclasses.replace(cell, graph=graph)


def _condense_task(cell: Cell, graph: Any, saved: Condensed | None, device: str) -> dict[str, Any]:
    """Condense one cell on a worker: ``{"cond", "new", "error", "device"}`` (``error``: the method failed)."""
    dev = _worker_setup(device)
    cell = _with_graph(cell, graph)
    if saved is not None:
        return {"cond": saved, "new": False, "error": "", "device": str(dev)}
    try:
        cond = condense_cell(cell, dev)
    except Exception as exc:  # GCBenchError included: a failed row, as in the local executor
        return {"cond": None, "new": False, "error": one_line(exc), "device": str(dev)}
    return {"cond": cond, "new": True, "error": "", "device": str(dev)}


def _cell_task(cell: Cell, graph: Any, saved: Condensed | None, device: str,
               eval_overrides: dict[str, Any]) -> dict[str, Any]:
    """Condense one cell and evaluate all its architectures on a worker."""
    out = _condense_task(cell, graph, saved, device)
    cell, dev = _with_graph(cell, graph), torch.device(out["device"])
    if out["error"]:
        out["rows"] = failed_rows(cell, cell.archs, dev, out["error"])
    else:
        out["rows"] = [evaluate_arch(cell, out["cond"], a, dev, eval_overrides) for a in cell.archs]
    if not out["new"]:
        out["cond"] = None  # the driver has it already
    return out


def _eval_task(cell: Cell, graph: Any, condensed: dict[str, Any], arch: str, device: str,
               eval_overrides: dict[str, Any]) -> dict[str, Any]:
    """Evaluate one architecture on a condensed graph made by :func:`_condense_task`."""
    dev = _worker_setup(device)
    cell = _with_graph(cell, graph)
    if condensed["error"]:
        return {"rows": failed_rows(cell, [arch], dev, condensed["error"])}
    return {"rows": [evaluate_arch(cell, condensed["cond"], arch, dev, eval_overrides)]}


# ------------------------------------------------------------------------------ driver side (Ray)
@dataclasses.dataclass
class RayExecutor:
    """One Ray task per condensation (see the module docstring).

    ``address``: ``None`` starts a private local Ray instance with ``num_cpus`` CPUs (default: all of this
    machine's) and stops it at the end; ``"auto"`` or ``"HOST:PORT"`` joins a running cluster. When Ray is
    already initialised in this process, that instance is used and left running. An instance this executor
    started lives until :meth:`close` (so the grids of a suite share it and its warm workers)."""

    address: str | None = None
    gpus_per_task: float = 0.0
    cpus_per_task: float = 1.0
    num_cpus: int | None = None
    split_eval: bool = False
    max_retries: int = 2

    name = "ray"
    _started: bool = dataclasses.field(default=False, init=False, repr=False)

    def __post_init__(self) -> None:
        for what, v in (("--gpus-per-task", self.gpus_per_task), ("--cpus-per-task", self.cpus_per_task)):
            if isinstance(v, bool) or not isinstance(v, (int, float)) or not v >= 0:
                raise GCBenchError(f"{what} must be a number >= 0, got {v!r}")
        if self.cpus_per_task == 0 and self.gpus_per_task == 0:
            raise GCBenchError("a Ray task needs a CPU or a GPU: --cpus-per-task and --gpus-per-task are both 0")
        if self.num_cpus is not None and (not isinstance(self.num_cpus, int) or self.num_cpus < 1):
            raise GCBenchError(f"the local Ray instance needs at least 1 CPU, got {self.num_cpus!r}")
        if isinstance(self.max_retries, bool) or not isinstance(self.max_retries, int) or self.max_retries < 0:
            raise GCBenchError(f"max_retries must be an integer >= 0, got {self.max_retries!r}")
        import_ray()

    def check_device(self, device: str | torch.device) -> str:
        text = _check_device_text(device)
        if self.gpus_per_task > 0 and text == "cpu":
            raise GCBenchError("--gpus-per-task gives each task a GPU, but --device cpu would not use it")
        if self.gpus_per_task == 0 and text.startswith("cuda"):
            raise GCBenchError(f"--device {text} with --executor ray needs --gpus-per-task > 0 "
                               "(Ray hides the GPUs from tasks that did not ask for one)")
        return text

    def describe(self) -> str:
        where = "a local Ray instance" if self.address is None else f"Ray at {self.address}"
        return (f"via {where}, {self.cpus_per_task:g} CPU / {self.gpus_per_task:g} GPU per task"
                f"{', one task per architecture' if self.split_eval else ''} ")

    def _init(self, ray: Any) -> None:
        if ray.is_initialized():
            return
        kwargs: dict[str, Any] = {"include_dashboard": False, "logging_level": logging.ERROR,
                                  "log_to_driver": bool(os.environ.get("GCBENCH_DEBUG"))}
        try:
            if self.address is None:
                ray.init(num_cpus=self.num_cpus or os.cpu_count() or 1, **kwargs)
            else:
                ray.init(address=self.address, **kwargs)
        except ConnectionError as exc:
            raise GCBenchError(f"cannot reach the Ray cluster at {self.address!r}: {exc}") from None
        self._started = True

    def close(self) -> None:
        """Stop the Ray instance this executor started (an instance it found running is left alone)."""
        if self._started:
            import_ray().shutdown()
            self._started = False

    def run(self, runner: Runner, cells: list[Cell], bar: Any) -> None:
        ray = import_ray()
        if not cells:
            return
        self._init(ray)
        self._run(ray, runner, cells, bar)

    def _run(self, ray: Any, runner: Runner, cells: list[Cell], bar: Any) -> None:
        opts = {"num_cpus": self.cpus_per_task, "num_gpus": self.gpus_per_task, "max_retries": self.max_retries}
        cell_task = ray.remote(_cell_task).options(**opts)
        condense_task = ray.remote(_condense_task).options(**opts)
        eval_task = ray.remote(_eval_task).options(**opts)
        device, overrides = str(runner.device), runner.grid.eval_overrides
        graph_refs = {name: ray.put(g) for name, g in runner.graphs.items()}
        # ref -> (kind, cell, archs of the rows it brings)
        pending: dict[Any, tuple[str, Cell, list[str]]] = {}
        for cell in cells:
            light = _with_graph(cell, None)  # the graph travels once per dataset, through graph_refs
            gref, saved = graph_refs[cell.graph.name], runner.load_saved(cell)
            if self.split_eval:
                cref = condense_task.remote(light, gref, saved, device)
                pending[cref] = ("condense", cell, [])
                for arch in cell.archs:
                    pending[eval_task.remote(light, gref, cref, arch, device, overrides)] = ("eval", cell, [arch])
            else:
                pending[cell_task.remote(light, gref, saved, device, overrides)] = ("cell", cell, list(cell.archs))
        try:
            while pending:
                (ref,), _ = ray.wait(list(pending), num_returns=1)
                kind, cell, archs = pending.pop(ref)
                try:
                    out = ray.get(ref)
                except ray.exceptions.RayTaskError as exc:
                    cause = getattr(exc, "cause", None)
                    out = {"cond": None, "new": False, "rows": failed_rows(cell, archs, device, one_line(cause or exc))}
                except ray.exceptions.RayError as exc:  # the worker died more often than max_retries
                    reason = str(exc).strip().splitlines()[0] if str(exc).strip() else ""
                    out = {"cond": None, "new": False,
                           "rows": failed_rows(cell, archs, device, f"{type(exc).__name__}: {reason}"[:500])}
                if out.get("new") and out.get("cond") is not None:
                    runner.save(cell, out["cond"])
                for row in out.get("rows", []):
                    runner.record(row)
                    bar.update(1)
                bar.set_description(_describe_cell(cell))
        except BaseException:
            for ref in pending:
                ray.cancel(ref, force=True)
            raise
