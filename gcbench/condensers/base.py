"""The :class:`Condenser` interface, the method registry and method configuration.

A method is a subclass of :class:`Condenser` with a ``name`` plus an optional YAML file
``methods/<name>.yaml``::

    class MyMethod(Condenser):
        name = "mymethod"
        defaults = {"epochs": 100, "lr": 0.01}       # every option, with its default

        def condense(self, graph, budget, *, seed, device):
            ...                                      # use self.config["epochs"] etc.
            return CondensedGraph(x=..., y=budget.labels(), adj=..., modalities=graph.modalities)

Defining the subclass registers it by name (``__init_subclass__``); third-party packages can instead
expose it through the entry-point group ``gcbench.condensers``, and a YAML file in ``methods/`` may name
its class (``class: package.module:ClassName``), which is imported on first use. :func:`get_condenser` imports the
built-in method modules and the entry points itself, so nothing depends on import order.

Configuration is resolved in this order, later wins: the class ``defaults``, the YAML ``defaults``, the
YAML ``datasets.<dataset>`` overrides, then the options the user actually typed
(``--methods gcond:lr_feat=0.001``). Unknown option names are an error. The constructor only stores the
resolved configuration; :meth:`Condenser.condense` does the work.
"""

from __future__ import annotations

import abc
import hashlib
import importlib
import json
from importlib.metadata import entry_points
from pathlib import Path
from typing import Any, ClassVar

import torch

from gcbench.errors import GCBenchError
from gcbench.graph import Budget, CondensedGraph, Graph
from gcbench.resources import read_yaml, resource_dir
from gcbench.spec import canonical, parse_spec

BUILTIN_MODULES = ("gcbench.condensers.coresets", "gcbench.condensers.gradient_matching", "gcbench.condensers.srgm",
                   "gcbench.condensers.sfgc", "gcbench.condensers.training_free")
ENTRY_POINT_GROUP = "gcbench.condensers"

_REGISTRY: dict[str, type[Condenser]] = {}


class Condenser(abc.ABC):
    """Base class of every condensation method."""

    name: ClassVar[str] = ""
    description: ClassVar[str] = ""
    #: every option of the method with its default; YAML and the command line may only set these keys
    defaults: ClassVar[dict[str, Any]] = {}
    #: True for reference methods whose output does not depend on the ratio (``whole``)
    ratio_free: ClassVar[bool] = False

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        if cls.name:
            register(cls)

    def __init__(self, **config: Any) -> None:
        check_options(type(self), self.name, config)
        self.config: dict[str, Any] = {**self.defaults, **config}

    @abc.abstractmethod
    def condense(self, graph: Graph, budget: Budget, *, seed: int, device: torch.device) -> CondensedGraph:
        """Return a condensed graph with ``budget.per_class[c]`` nodes of class ``c``.

        Must be deterministic given ``seed`` on the CPU, and may only read the labels of the graph's
        training nodes and the validation nodes' scores (for selection), never test labels.
        """

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.config})"


def check_options(cls: type[Condenser], name: str, options: dict[str, Any], where: str = "") -> None:
    """One error line naming the options ``cls`` does not have (``where``: where they were given)."""
    unknown = sorted(set(options) - set(cls.defaults))
    if unknown:
        raise GCBenchError(
            f"method {name!r} has no option {', '.join(map(repr, unknown))}{' in ' + where if where else ''}; "
            f"options: {', '.join(sorted(cls.defaults)) or '(none)'}"
        )


def register(cls: type[Condenser]) -> type[Condenser]:
    """Register a condenser class under ``cls.name`` (a later definition with the same name wins)."""
    if not cls.name or not isinstance(cls.name, str):
        raise ValueError(f"{cls!r} needs a non-empty string `name`")
    _REGISTRY[cls.name] = cls
    return cls


def _load_all() -> None:
    for mod in BUILTIN_MODULES:
        importlib.import_module(mod)
    for ep in entry_points(group=ENTRY_POINT_GROUP):
        if ep.name in _REGISTRY:
            continue
        try:
            obj = ep.load()
        except Exception as exc:  # a broken plugin must not break the suite
            raise GCBenchError(f"condenser plugin {ep.name!r} ({ep.value}) failed to load: {exc}") from None
        if isinstance(obj, type) and issubclass(obj, Condenser):
            if not obj.name:
                obj.name = ep.name
            _REGISTRY.setdefault(obj.name, obj)
            _REGISTRY.setdefault(ep.name, obj)


def list_condensers() -> dict[str, type[Condenser]]:
    _load_all()
    return dict(sorted(_REGISTRY.items()))


def get_condenser(name: str) -> type[Condenser]:
    _load_all()
    if name not in _REGISTRY:
        target = method_yaml(name).get("class")
        if target:  # a method given as a YAML file naming its class: `class: package.module:ClassName`
            module, _, attr = str(target).partition(":")
            try:
                obj = getattr(importlib.import_module(module), attr)
            except (ImportError, AttributeError) as exc:
                raise GCBenchError(f"methods/{name}.yaml: cannot import class {target!r}: {exc}") from None
            if not (isinstance(obj, type) and issubclass(obj, Condenser)):
                raise GCBenchError(f"methods/{name}.yaml: {target!r} is not a Condenser subclass")
            _REGISTRY.setdefault(name, obj)
    if name not in _REGISTRY:
        raise GCBenchError(f"unknown method {name!r}; known: {', '.join(sorted(_REGISTRY))}")
    return _REGISTRY[name]


def method_yaml(name: str) -> dict[str, Any]:
    """``methods/<name>.yaml`` as a dict (empty if the method ships none)."""
    try:
        path: Path = resource_dir("methods") / f"{name}.yaml"
    except GCBenchError:
        return {}
    if not path.exists():
        return {}
    data = read_yaml(path)
    for key in ("defaults", "datasets"):
        if not isinstance(data.get(key) or {}, dict):
            raise GCBenchError(f"{path}: {key!r} must be a mapping")
    return data


def resolve_config(cls: type[Condenser], dataset: str, typed: dict[str, Any], name: str | None = None
                   ) -> dict[str, Any]:
    """Class defaults < YAML defaults < YAML per-dataset < typed options (YAML of ``name``, default the
    class's own name)."""
    name = name or cls.name
    data = method_yaml(name)
    base = dataset.split(":", 1)[0]
    layers = [data.get("defaults") or {}, (data.get("datasets") or {}).get(base) or {}, typed]
    config = dict(cls.defaults)
    for where, layer in zip((f"methods/{name}.yaml defaults", f"methods/{name}.yaml datasets.{base}",
                             "the command line"), layers):
        check_options(cls, name, layer, where)
        config.update(layer)
    return config


class MethodSpec:
    """A method variant as typed: ``name[:key=value...]``; ``label`` is its leaderboard name."""

    def __init__(self, spec: str) -> None:
        self.base, self.options = parse_spec(spec, "method")
        self.cls = get_condenser(self.base)
        self.label = canonical(self.base, self.options)
        check_options(self.cls, self.base, self.options)  # before any dataset is loaded

    def build(self, dataset: str) -> Condenser:
        return self.cls(**resolve_config(self.cls, dataset, self.options, self.base))

    def __repr__(self) -> str:
        return f"MethodSpec({self.label!r})"


def config_hash(method: Condenser, eval_overrides: dict[str, Any] | None = None) -> str:
    """Short hash of everything that determines a row besides dataset, ratio, arch and seed."""
    payload = {
        "method": method.name,
        "class": f"{type(method).__module__}.{type(method).__qualname__}",
        "config": method.config,
        "eval": eval_overrides or {},
    }
    blob = json.dumps(payload, sort_keys=True, default=str)
    return hashlib.sha256(blob.encode()).hexdigest()[:12]
