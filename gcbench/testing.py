"""The conformance check of the :class:`~gcbench.condensers.base.Condenser` contract, for built-in methods and
plugins alike (in the spirit of scikit-learn's ``check_estimator``)::

    from gcbench.testing import check_condenser
    check_condenser("my-method")                      # or the class; raises ConformanceError on a breach

    # in a plugin's test suite: every installed method, or just yours
    from gcbench.testing import parametrize_condensers
    @parametrize_condensers()                         # parametrises the argument `name`
    def test_conformance(name):
        check_condenser(name)

It condenses a 200-node two-modality synthetic graph (:data:`CHECK_DATASET`) with the method's
``conformance_options`` (options that make it fast; :data:`FAST_OPTIONS` for the built-ins) and checks:

* ``options``: an unknown option and a value of the wrong type are :class:`GCBenchError` at construction;
* ``hash``: :func:`config_hash`/:func:`condensed_key` are the same for equal configurations (and after
  pickling) and change with an option;
* ``pickle``: the configured method pickles and unpickles (Ray ships it to workers);
* ``check_graph``: the hook accepts the check graph;
* ``output``: the runner's checks (a :class:`CondensedGraph`; integer 1-D labels in range; per-class counts
  equal to the budget; finite float features with the graph's columns) plus an adjacency that is ``None`` or
  ``[n, n]``, finite, non-negative and symmetric;
* ``determinism``: the same seed gives the same ``x``, ``y`` and ``adj`` on the CPU;
* ``rng``: numpy's and Python's global generators are neither reseeded nor consumed (torch's global generator
  is seeded by the runner and restored after each condensation, so a method may use it);
* ``test-labels``: the output does not change when the test nodes' labels do (checked on graphs with the
  labels visible, so a method that reads them is caught even though the runner hides them).
"""

from __future__ import annotations

import pickle
import random
from collections.abc import Callable
from functools import lru_cache
from typing import Any

import numpy as np
import torch

from gcbench.condensers.base import (
    Condenser,
    condensed_key,
    config_hash,
    get_condenser,
    installed_condensers,
)
from gcbench.errors import GCBenchError
from gcbench.graph import Budget, CondensedGraph, Graph

__all__ = ["CHECK_DATASET", "FAST_OPTIONS", "SLOW", "ConformanceError", "check_condenser", "condenser_names",
           "parametrize_condensers"]

#: the graph every method is checked on: 200 nodes, 8 classes, two modalities (text, image)
CHECK_DATASET = "synthetic-ecommerce:n_nodes=200:train_frac=0.3"
CHECK_RATIO = 0.3
CPU = torch.device("cpu")

#: fast options of built-in methods that do not declare ``conformance_options`` themselves
FAST_OPTIONS: dict[str, dict[str, Any]] = {
    "herding": {"embed_epochs": 10},
    "kcenter": {"embed_epochs": 10},
    "gcond": {"epochs": 3, "outer": 2, "inner": 1, "val_every": 0, "match_hidden": 16, "pge_hidden": 16,
              "select_eval_every": 20},
    "doscond": {"epochs": 3, "val_every": 0, "match_hidden": 16, "pge_hidden": 16, "select_eval_every": 20},
    "srgm": {"epochs": 3, "outer": 2, "inner": 1, "val_every": 0, "match_hidden": 16, "pge_hidden": 16,
             "select_eval_every": 20},
    "srgm-plus": {"epochs": 3, "outer": 2, "inner": 1, "val_every": 0, "match_hidden": 16, "pge_hidden": 16,
                  "select_eval_every": 20},
    "sfgc": {"hidden": 16, "n_experts": 1, "expert_epochs": 6, "max_start_epoch": 2, "start_every": 2,
             "syn_steps": 2, "iterations": 2, "init_epochs": 5, "select_every": 2, "gntk_max_val": 20},
}


#: built-in methods whose check takes more than a few seconds (pytest marks them ``slow``)
SLOW = frozenset({"gcond", "doscond", "srgm", "srgm-plus"})


class ConformanceError(AssertionError):
    """A condenser breaks the contract; the message lists every failed check."""


def condenser_names() -> list[str]:
    """The built-in methods and those of installed plugins (entry points), sorted."""
    return sorted(installed_condensers())


def parametrize_condensers(names: list[str] | None = None, argname: str = "name") -> Any:
    """``pytest.mark.parametrize`` over ``names`` (default: :func:`condenser_names`); those in :data:`SLOW`
    are marked ``slow``."""
    import pytest

    names = condenser_names() if names is None else names
    return pytest.mark.parametrize(
        argname, [pytest.param(n, marks=[pytest.mark.slow] if n in SLOW else []) for n in names], ids=names)


@lru_cache(maxsize=4)
def _check_graph(spec: str) -> Graph:
    from gcbench.data import load_dataset

    return load_dataset(spec)


def _with_test_labels(graph: Graph, shift: int) -> Graph:
    """A fresh graph (own memo, own checksum) whose test-only nodes' labels are rotated by ``shift``."""
    import copy

    d = graph.data
    data = copy.copy(d)
    y = d.y.clone()
    test = d.test_mask & ~d.train_mask & ~d.val_mask
    y[test] = (y[test] + shift) % graph.num_classes
    data.y = y
    return Graph(name=graph.name, data=data, modalities=dict(graph.modalities), setting=graph.setting,
                 metric=graph.metric, info=dict(graph.info), n_classes=graph.num_classes)


def _wrong_value(default: Any) -> Any:
    if isinstance(default, bool):
        return "maybe"
    if isinstance(default, (int, float)):
        return "abc"
    if isinstance(default, str):
        return 12345
    return None


def _other_value(default: Any) -> Any:
    if isinstance(default, bool):
        return not default
    if isinstance(default, int):
        return default + 1
    if isinstance(default, float):
        return default * 2 + 1
    if isinstance(default, str):
        return default + "-other"
    return None


def _same(a: torch.Tensor | None, b: torch.Tensor | None) -> bool:
    if a is None or b is None:
        return a is None and b is None
    if a.is_sparse or b.is_sparse:
        if not (a.is_sparse and b.is_sparse):
            return False
        a, b = a.coalesce(), b.coalesce()
        return torch.equal(a.indices(), b.indices()) and torch.equal(a.values(), b.values())
    return a.dtype == b.dtype and torch.equal(a, b)


def _condense(method: Condenser, graph: Graph, budget: Budget, seed: int, hide: bool = True) -> Any:
    """As the runner calls it (:func:`gcbench.runner.seeded_condense`); ``hide=False`` keeps test labels."""
    from gcbench.runner import seeded_condense

    if hide:
        return seeded_condense(method, graph, budget, seed, CPU)
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        return method.condense(graph, budget, seed=seed, device=CPU)


def _check_adj(cg: CondensedGraph) -> None:
    adj = cg.adj
    if adj is None:
        return
    n = cg.num_nodes
    if tuple(adj.shape) != (n, n):
        raise AssertionError(f"adj has shape {tuple(adj.shape)}, expected ({n}, {n})")
    if adj.is_sparse:
        a = adj.coalesce()
        vals = a.values()
        t = torch.sparse_coo_tensor(a.indices().flip(0), vals, a.shape, check_invariants=False).coalesce()
        symmetric = torch.equal(a.indices(), t.indices()) and torch.allclose(a.values(), t.values(), atol=1e-6)
    else:
        vals = adj.detach()
        symmetric = torch.allclose(vals, vals.t(), atol=1e-6)
    if not bool(torch.isfinite(vals).all()):
        raise AssertionError("adj has non-finite values")
    if vals.numel() and float(vals.min()) < 0:
        raise AssertionError(f"adj has negative weights (min {float(vals.min()):g})")
    if not symmetric:
        raise AssertionError("adj is not symmetric")


def check_condenser(cls_or_name: type[Condenser] | str, *, options: dict[str, Any] | None = None,
                    dataset: str = CHECK_DATASET, ratio: float = CHECK_RATIO, seed: int = 0) -> list[str]:
    """Check a condenser class (or registered name) against the contract (module docstring).

    ``options``: what to construct it with (default: its ``conformance_options``, else :data:`FAST_OPTIONS`).
    Returns the names of the checks run; raises :class:`ConformanceError` listing every one that failed."""
    cls = get_condenser(cls_or_name) if isinstance(cls_or_name, str) else cls_or_name
    name = cls.name or getattr(cls, "__name__", str(cls))
    if options is None:
        options = dict(cls.conformance_options or FAST_OPTIONS.get(name, {}))
    graph = _check_graph(dataset)
    budget = (Budget(1.0, tuple(graph.train_class_counts().tolist())) if cls.ratio_free
              else Budget.from_graph(graph, ratio))
    state: dict[str, Any] = {}
    failures: list[str] = []
    done: list[str] = []

    def run(check: str, fn: Callable[[], None]) -> None:
        done.append(check)
        try:
            fn()
        except Exception as exc:  # noqa: BLE001 - every failure is reported, with its check's name
            failures.append(f"{check}: {type(exc).__name__}: {exc}".replace("\n", " ")[:600])

    def options_validated() -> None:
        try:
            cls(**options, __no_such_option__=1)
        except GCBenchError:
            pass
        else:
            raise AssertionError("an unknown option was accepted")
        for key, default in cls.defaults.items():
            bad = _wrong_value(default)
            if bad is None:
                continue
            try:
                cls(**{**options, key: bad})
            except GCBenchError:
                pass
            else:
                raise AssertionError(f"option {key}={bad!r} (default {default!r}) was accepted")
            break

    def hash_stable() -> None:
        a, b = cls(**options), cls(**options)
        if config_hash(a) != config_hash(b) or condensed_key(a) != condensed_key(b):
            raise AssertionError("equal configurations hash differently")
        if config_hash(pickle.loads(pickle.dumps(a))) != config_hash(a):
            raise AssertionError("the hash changes when the method is pickled")
        for key, default in cls.defaults.items():
            other = _other_value(options.get(key, default))
            if other is None or isinstance(options.get(key, default), dict):
                continue
            if config_hash(cls(**{**options, key: other})) == config_hash(a):
                raise AssertionError(f"changing option {key!r} does not change the config hash")
            break

    def picklable() -> None:
        m = pickle.loads(pickle.dumps(cls(**options)))
        if type(m) is not cls or m.config != cls(**options).config:
            raise AssertionError("the unpickled method differs")

    def graph_accepted() -> None:
        cls(**options).check_graph(graph.hide_test_labels())

    def output() -> None:
        from gcbench.runner import check_condensed

        np_state, py_state = np.random.get_state(), random.getstate()
        cg = _condense(cls(**options), graph, budget, seed)
        state["cg"] = cg
        same_np = all(np.array_equal(a, b) if isinstance(a, np.ndarray) else a == b
                      for a, b in zip(np.random.get_state(), np_state))
        state["rng"] = (same_np, random.getstate() == py_state)
        check_condensed(cg, None if cls.ratio_free else budget, graph)
        if cg.x.size(1) != graph.num_features:
            raise AssertionError(f"x has {cg.x.size(1)} columns, the graph {graph.num_features}")
        _check_adj(cg)

    def rng_untouched() -> None:
        if "rng" not in state:
            raise AssertionError("not checked: the method did not condense")
        same_np, same_py = state["rng"]
        if not same_np:
            raise AssertionError("numpy's global generator was reseeded or consumed (use np.random.default_rng(seed))")
        if not same_py:
            raise AssertionError("Python's global `random` generator was reseeded or consumed "
                                 "(use random.Random(seed))")

    def deterministic() -> None:
        if "cg" not in state:
            raise AssertionError("not checked: the method did not condense")
        np.random.seed(12345)  # whatever the global generators hold must not matter
        random.seed(12345)
        torch.manual_seed(12345)
        again = _condense(cls(**options), graph, budget, seed)
        a = state["cg"]
        for what in ("x", "y", "adj"):
            if not _same(getattr(a, what), getattr(again, what)):
                raise AssertionError(f"the same seed gave a different {what!r}")

    def test_labels_unread() -> None:
        outs = [_condense(cls(**options), _with_test_labels(graph, shift), budget, seed, hide=False)
                for shift in (0, 1)]
        for what in ("x", "y", "adj", "train_mask"):
            a, b = getattr(outs[0], what), getattr(outs[1], what)
            if what == "y" and outs[0].train_mask is not None and outs[1].train_mask is not None:
                a, b = a[outs[0].train_mask], b[outs[1].train_mask]  # only these labels are ever used
            if not _same(a, b):
                raise AssertionError(f"{what!r} changes with the labels of the test nodes")

    run("options", options_validated)
    run("hash", hash_stable)
    run("pickle", picklable)
    run("check_graph", graph_accepted)
    run("output", output)
    run("rng", rng_untouched)
    run("determinism", deterministic)
    run("test-labels", test_labels_unread)
    if failures:
        raise ConformanceError(f"condenser {name!r} breaks the contract: " + "; ".join(failures))
    return done
