"""The :class:`Condenser` interface, the method registry, method configuration and its provenance.

A method is a subclass of :class:`Condenser` with a ``name`` plus an optional YAML file ``<name>.yaml``::

    class MyMethod(Condenser):
        name = "mymethod"
        defaults = {"epochs": 100, "lr": 0.01}       # every option, with its default (and so its type)

        def condense(self, graph, budget, *, seed, device):
            ...                                      # use self.config["epochs"] etc.
            return CondensedGraph(x=..., y=budget.labels(), adj=..., modalities=graph.modalities)

Defining the subclass registers it by name (``__init_subclass__``); third-party packages expose it through
the entry-point group ``gcbench.condensers`` (see ``docs/adding-a-method.md``), and a YAML file may name
its class (``class: package.module:ClassName``), which is imported on first use. :func:`get_condenser`
imports the built-in method modules and the entry points itself, so nothing depends on import order.

**Configuration search path.** The YAML of method ``NAME`` is read from three layers, each adding to and
overriding the one before, never hiding it:

1. ``methods/NAME.yaml`` shipped with gcbench;
2. ``methods/NAME.yaml`` inside the top-level package of the plugin distribution whose entry point
   registers ``NAME`` (a plugin's folder only configures the methods it registers);
3. ``NAME.yaml`` in each folder of ``GCBENCH_METHODS_DIR`` (``os.pathsep``-separated, later folders win).

Values resolve in this order, later wins: the class ``defaults``, the ``defaults`` of each YAML layer in
turn, the ``datasets.<dataset>`` section of each layer in turn (so a dataset-specific value of any layer
beats a general one: to change a value for one dataset, write that dataset's section), then the options
the user actually typed (``--methods gcond:lr_feat=0.001``). Every file is checked when the method is
named, before any data loads: unknown top-level keys, unknown options (in ``defaults`` and in every
``datasets`` section), unknown dataset names and values whose type does not match the class default
are errors naming the file and key. A card may also hold ``published``: the numbers a paper published for
the method's default configuration, read by the reports (:mod:`gcbench.report.published`), never by the
method. ``gcbench list --config NAME[:opts] [--dataset D]`` prints the
resolved configuration and where each value came from (:func:`explain_config`).

**Provenance.** :func:`config_hash` (the ``config_hash`` column of every row) covers the method's class,
its resolved configuration, its *code* (:func:`code_fingerprint`: a hash of the source of the method's
module and of every gcbench or same-package module it imports, transitively; plus the distribution
version for a plugin), and the evaluation: :func:`gcbench.evaluate.eval_fingerprint` (protocol, defaults
of the evaluation and of every architecture, the user's overrides) and the code of ``gcbench.evaluate``
(with the models it imports). :func:`condensed_key` is the same without the evaluation part: it names the
saved condensed graph, so a change of evaluation settings re-evaluates saved graphs instead of condensing
again. Neither covers the device (it is recorded in the ``device`` column of each row).
"""

from __future__ import annotations

import abc
import ast
import hashlib
import importlib
import importlib.util
import json
import math
import os
from functools import lru_cache
from importlib.metadata import entry_points
from pathlib import Path
from typing import Any, ClassVar

import torch

from gcbench.errors import GCBenchError
from gcbench.graph import Budget, CondensedGraph, Graph
from gcbench.resources import read_yaml, shipped_dir
from gcbench.spec import canonical, format_value, parse_spec

BUILTIN_MODULES = ("gcbench.condensers.coresets", "gcbench.condensers.gradient_matching", "gcbench.condensers.srgm",
                   "gcbench.condensers.sfgc", "gcbench.condensers.training_free")
ENTRY_POINT_GROUP = "gcbench.condensers"
METHODS_DIR_ENV = "GCBENCH_METHODS_DIR"
#: the top-level keys a method YAML may have
YAML_KEYS = ("name", "class", "reference", "description", "defaults", "datasets", "published")

_REGISTRY: dict[str, type[Condenser]] = {}
#: method name -> (distribution name, version, package folder) of the plugin whose entry point registers it
_PLUGINS: dict[str, tuple[str, str, str | None]] = {}


class Condenser(abc.ABC):
    """Base class of every condensation method.

    Contract (checked for every built-in method and installed plugin by :mod:`gcbench.testing`):
    ``condense`` returns a :class:`CondensedGraph` with ``budget.per_class[c]`` nodes of integer label ``c``,
    finite features with the graph's columns, and an adjacency that is ``None`` or ``[n, n]``, finite,
    non-negative and symmetric; the same seed gives the same graph on the CPU; it never reads test labels
    (the runner hands it the graph with them hidden, :meth:`Graph.hide_test_labels`); it draws randomness
    only from ``seed`` (the runner seeds torch's global generator with it and restores the generator
    afterwards; numpy's and Python's global generators must be left alone); the instance pickles (Ray).
    """

    name: ClassVar[str] = ""
    description: ClassVar[str] = ""
    #: every option of the method with its default; YAML and the command line may only set these keys, with
    #: values of the default's type (int for int, bool for bool, int or float for float, str for str)
    defaults: ClassVar[dict[str, Any]] = {}
    #: True for reference methods whose output does not depend on the ratio (``whole``)
    ratio_free: ClassVar[bool] = False
    #: options whose value may be a mapping ``{ratio: value}`` (the entry of the nearest ratio is used; see
    #: :func:`per_ratio`); ``None``: not declared, any option may be such a mapping
    per_ratio_options: ClassVar[tuple[str, ...] | None] = None
    #: options that make the method fast enough for the conformance check on a 200-node graph
    conformance_options: ClassVar[dict[str, Any]] = {}

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        if cls.name:
            register(cls)

    def __init__(self, **config: Any) -> None:
        config = check_options(type(self), self.name, config)
        self.config: dict[str, Any] = {**self.defaults, **config}

    def check_graph(self, graph: Graph) -> None:  # noqa: B027 - a hook; the default accepts every graph
        """Raise :class:`GCBenchError` if this method cannot condense ``graph`` at all (called for every
        (method, dataset) of a grid after the datasets load and before any cell runs; the message becomes
        one error line, exit code 2). Default: every graph is fine."""

    @abc.abstractmethod
    def condense(self, graph: Graph, budget: Budget, *, seed: int, device: torch.device) -> CondensedGraph:
        """Return a condensed graph with ``budget.per_class[c]`` nodes of class ``c``.

        Must be deterministic given ``seed`` on the CPU, and may only read the labels of the graph's
        training nodes and the validation nodes' scores (for selection), never test labels.
        """

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.config})"


# ------------------------------------------------------------------------------------------ options
def _type_name(default: Any) -> str:
    if isinstance(default, bool):
        return "a boolean (true/false)"
    if isinstance(default, int):
        return "an integer"
    if isinstance(default, float):
        return "a number"
    if isinstance(default, str):
        return "a string"
    return f"a {type(default).__name__}"


def coerce_option(default: Any, value: Any) -> Any:
    """``value`` as the type of ``default``; ``ValueError`` if it does not fit. ``None`` defaults take anything.
    Integers are accepted for float options (and made floats, so ``lambda=0`` and ``lambda=0.0`` are one
    configuration), and strings a float parses for float options (YAML reads ``1e-4`` as a string)."""
    if default is None:
        return value
    if isinstance(default, bool):
        if isinstance(value, bool):
            return value
    elif isinstance(default, int):
        if isinstance(value, int) and not isinstance(value, bool):
            return value
    elif isinstance(default, float):
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            return float(value)
        if isinstance(value, str):
            try:
                return float(value)
            except ValueError:
                pass
    elif isinstance(default, str):
        if isinstance(value, str):
            return value
    elif isinstance(value, type(default)):
        return value
    raise ValueError(f"expected {_type_name(default)}")


def per_ratio(value: Any, ratio: float) -> Any:
    """``value``, or for a mapping ``{ratio: value}`` the entry whose ratio is nearest ``ratio``
    (ties: the smaller ratio): how a method reads an option given per ratio."""
    if not isinstance(value, dict):
        return value
    keys = sorted(value, key=lambda k: (abs(float(k) - ratio), float(k)))
    return value[keys[0]]


class Plateau:
    """Early stopping on a validation plateau, shared by the learned condensers.

    ``patience`` is counted in epochs (iterations for SFGC), not in checks, so it means the same at any
    selection interval: after a check at epoch ``e`` the run stops when no check since the best one, at
    epoch ``b``, improved on it and ``e - b >= patience``. ``0`` never stops (the reference budget). The
    budget itself stays the maximum; :meth:`meta` is what a condensation records (``epochs_run``, the last
    epoch it ran, and ``stopped``, why it ended early or ``""``), and the runner puts ``epochs_run`` in the
    ``condense_epochs`` column of every row next to the selected ``condense_epoch``."""

    def __init__(self, patience: int, unit: str = "epoch") -> None:
        self.patience, self.unit = int(patience), unit
        self.best: float | None = None
        self.best_epoch = 0
        self.last = 0
        self.stopped = ""

    @staticmethod
    def check(name: str, patience: Any, every: int) -> None:
        """One :class:`GCBenchError` line for a patience that cannot work (negative, or no checks)."""
        if not (isinstance(patience, int) and not isinstance(patience, bool) and patience >= 0):
            raise GCBenchError(f"{name}: patience must be an integer >= 0 (0: run the whole budget), got {patience!r}")
        if patience and not every:
            raise GCBenchError(f"{name}: patience {patience} needs validation checks during the run; "
                               "set the selection interval (val_every / select_every) above 0")

    def step(self, epoch: int, key: float | None = None) -> bool:
        """Record that ``epoch`` ran, with its selection ``key`` when it was a check (higher is better); return
        whether the run should stop now."""
        self.last = epoch
        if key is None or not math.isfinite(key):
            return False
        if self.best is None or key > self.best:
            self.best, self.best_epoch = key, epoch
            return False
        if self.patience and epoch - self.best_epoch >= self.patience:
            self.stopped = (f"plateau: no validation gain in {epoch - self.best_epoch} {self.unit}s after "
                            f"{self.unit} {self.best_epoch} (patience {self.patience})")
            return True
        return False

    def meta(self) -> dict[str, Any]:
        return {"epochs_run": self.last, "stopped": self.stopped, "patience": self.patience}


def _ratio_key(r: Any) -> float:
    if isinstance(r, bool) or not isinstance(r, (int, float)) or not 0 < r <= 1:
        raise ValueError(f"a per-ratio mapping needs ratios in (0, 1] as keys, got {r!r}")
    return r


def check_options(cls: type[Condenser], name: str, options: dict[str, Any], where: str = "") -> dict[str, Any]:
    """The options with their values coerced to the types of the class defaults; one error line naming the
    options ``cls`` does not have, or a value of the wrong type (``where``: where they were given)."""
    at = f" in {where}" if where else ""
    unknown = sorted(set(options) - set(cls.defaults))
    if unknown:
        raise GCBenchError(
            f"method {name!r} has no option {', '.join(map(repr, unknown))}{at}; "
            f"options: {', '.join(sorted(cls.defaults)) or '(none)'}"
        )
    out = {}
    per_ratio = cls.per_ratio_options
    for key, value in options.items():
        try:
            if isinstance(value, dict) and (per_ratio is None or key in per_ratio):
                out[key] = {_ratio_key(r): coerce_option(cls.defaults[key], v) for r, v in value.items()}
            else:
                out[key] = coerce_option(cls.defaults[key], value)
        except ValueError as exc:
            raise GCBenchError(f"method {name!r}: option {key}={format_value(value)!r}{at}: {exc}, like its "
                               f"default {format_value(cls.defaults[key])!r}") from None
    return out


# ------------------------------------------------------------------------------------------ registry
def register(cls: type[Condenser]) -> type[Condenser]:
    """Register a condenser class under ``cls.name`` (a later definition with the same name wins)."""
    if not cls.name or not isinstance(cls.name, str):
        raise ValueError(f"{cls!r} needs a non-empty string `name`")
    _REGISTRY[cls.name] = cls
    return cls


def _package_dir(module: str) -> str | None:
    """The folder of the top-level package of ``module`` (without importing it again), or None."""
    try:
        spec = importlib.util.find_spec(module.split(".", 1)[0])
    except (ImportError, ValueError):
        return None
    if spec is None:
        return None
    if spec.submodule_search_locations:
        return str(list(spec.submodule_search_locations)[0])
    return str(Path(spec.origin).parent) if spec.origin else None


def _load_all() -> None:
    for mod in BUILTIN_MODULES:
        importlib.import_module(mod)
    for ep in entry_points(group=ENTRY_POINT_GROUP):
        if ep.name in _PLUGINS or ep.name in _REGISTRY:
            continue
        try:
            obj = ep.load()
        except Exception as exc:  # a broken plugin must not break the suite
            raise GCBenchError(f"condenser plugin {ep.name!r} ({ep.value}) failed to load: {exc}") from None
        if not (isinstance(obj, type) and issubclass(obj, Condenser)):
            raise GCBenchError(f"condenser plugin {ep.name!r} ({ep.value}) is not a Condenser subclass")
        if not obj.name:
            obj.name = ep.name
        dist = getattr(ep, "dist", None)
        info = (getattr(dist, "name", None) or getattr(dist, "metadata", {}).get("Name", "") or "",
                getattr(dist, "version", "") or "", _package_dir(obj.__module__))
        for key in sorted({obj.name, ep.name}):
            if _REGISTRY.setdefault(key, obj) is obj:  # a built-in of the same name keeps its name
                _PLUGINS.setdefault(key, info)


def list_condensers() -> dict[str, type[Condenser]]:
    _load_all()
    return dict(sorted(_REGISTRY.items()))


def installed_condensers() -> dict[str, type[Condenser]]:
    """The built-in methods and those of installed plugins (not classes defined on the fly, e.g. in tests)."""
    _load_all()
    return {n: c for n, c in sorted(_REGISTRY.items())
            if n in _PLUGINS or (c.__module__ in BUILTIN_MODULES and n == c.name)}


def get_condenser(name: str) -> type[Condenser]:
    _load_all()
    if name not in _REGISTRY:
        target, where = None, None
        for path, data in _yaml_layers(name):
            if data.get("class"):
                target, where = data["class"], path
        if target:  # a method given as a YAML file naming its class: `class: package.module:ClassName`
            module, _, attr = str(target).partition(":")
            try:
                obj = getattr(importlib.import_module(module), attr)
            except (ImportError, AttributeError) as exc:
                raise GCBenchError(f"{where}: cannot import class {target!r}: {exc}") from None
            if not (isinstance(obj, type) and issubclass(obj, Condenser)):
                raise GCBenchError(f"{where}: {target!r} is not a Condenser subclass")
            _REGISTRY.setdefault(name, obj)
    if name not in _REGISTRY:
        raise GCBenchError(f"unknown method {name!r}; known: {', '.join(sorted(_REGISTRY))}")
    return _REGISTRY[name]


# ------------------------------------------------------------------------------------------ YAML layers
def method_dirs(name: str) -> list[tuple[str, Path]]:
    """The folders searched for ``<name>.yaml``, first to last (later ones override): ``(layer, folder)``."""
    dirs: list[tuple[str, Path]] = []
    try:
        dirs.append(("gcbench", shipped_dir("methods")))
    except GCBenchError:
        pass
    plugin = _PLUGINS.get(name)
    if plugin and plugin[2]:
        dirs.append((f"plugin {plugin[0] or '?'}", Path(plugin[2]) / "methods"))
    for folder in filter(None, os.environ.get(METHODS_DIR_ENV, "").split(os.pathsep)):
        dirs.append((f"${METHODS_DIR_ENV}", Path(folder)))
    return dirs


def _yaml_layers(name: str) -> list[tuple[str, dict[str, Any]]]:
    """``(path, data)`` of every existing ``<name>.yaml`` on the search path, checked for structure."""
    out = []
    for _, folder in method_dirs(name):
        path = folder / f"{name}.yaml"
        if not path.is_file():
            continue
        data = read_yaml(path)
        unknown = sorted(set(data) - set(YAML_KEYS))
        if unknown:
            raise GCBenchError(f"{path}: unknown key(s) {', '.join(map(repr, unknown))}; allowed: "
                               f"{', '.join(YAML_KEYS)}")
        if "name" in data and data["name"] != name:
            raise GCBenchError(f"{path}: name {data['name']!r} differs from the file name {name!r}")
        if not isinstance(data.get("defaults") or {}, dict):
            raise GCBenchError(f"{path}: 'defaults' must be a mapping")
        datasets = data.get("datasets") or {}
        if not isinstance(datasets, dict):
            raise GCBenchError(f"{path}: 'datasets' must be a mapping")
        for ds, section in datasets.items():
            if not isinstance(section or {}, dict):
                raise GCBenchError(f"{path}: 'datasets.{ds}' must be a mapping")
        out.append((str(path), data))
    return out


def method_yaml(name: str) -> dict[str, Any]:
    """The merged YAML of method ``name`` over the search path (empty if there is none): top-level values of
    later layers win; ``defaults`` and each ``datasets.<d>`` section are merged key by key."""
    merged: dict[str, Any] = {}
    for _, data in _yaml_layers(name):
        for key, value in data.items():
            if key == "defaults":
                merged.setdefault("defaults", {}).update(value or {})
            elif key == "datasets":
                ds = merged.setdefault("datasets", {})
                for d, section in (value or {}).items():
                    ds.setdefault(d, {}).update(section or {})
            else:
                merged[key] = value
    return merged


def _sources(cls: type[Condenser], name: str, dataset: str | None, typed: dict[str, Any]
             ) -> list[tuple[str, dict[str, Any]]]:
    """The configuration layers, first to last: ``(where, options)``."""
    layers: list[tuple[str, dict[str, Any]]] = [(f"class defaults ({cls.__module__}:{cls.__qualname__})",
                                                 dict(cls.defaults))]
    base = dataset.split(":", 1)[0].lower() if dataset else None
    files = _yaml_layers(name)
    for path, data in files:  # every file's defaults, then every file's section of the dataset
        layers.append((f"{path} defaults", data.get("defaults") or {}))
    for path, data in files if base is not None else ():
        section = (data.get("datasets") or {}).get(base)
        if section:
            layers.append((f"{path} datasets.{base}", section))
    layers.append(("the command line", typed))
    return layers


def check_method_yaml(cls: type[Condenser], name: str) -> None:
    """Check every layer's YAML of ``name``: option names and types in ``defaults`` and in every
    ``datasets`` section, and the dataset names (errors name the file and the key)."""
    from gcbench.data import list_datasets

    known = set(list_datasets())
    for path, data in _yaml_layers(name):
        check_options(cls, name, data.get("defaults") or {}, f"{path} defaults")
        for ds, section in (data.get("datasets") or {}).items():
            if str(ds).lower() not in known:
                raise GCBenchError(f"{path}: datasets.{ds}: unknown dataset {ds!r}; known: {', '.join(sorted(known))}")
            check_options(cls, name, section or {}, f"{path} datasets.{ds}")


def explain_config(cls: type[Condenser], dataset: str | None, typed: dict[str, Any], name: str | None = None
                   ) -> dict[str, tuple[Any, str]]:
    """Option -> ``(value, where it came from)``, resolved as :func:`resolve_config` does."""
    name = name or cls.name
    out: dict[str, tuple[Any, str]] = {}
    for where, layer in _sources(cls, name, dataset, typed):
        for key, value in check_options(cls, name, layer, where).items():
            out[key] = (value, where)
    return out


def resolve_config(cls: type[Condenser], dataset: str, typed: dict[str, Any], name: str | None = None
                   ) -> dict[str, Any]:
    """Class defaults < YAML defaults < YAML per-dataset < typed options, over the YAML search path of
    ``name`` (default: the class's own name)."""
    return {k: v for k, (v, _) in explain_config(cls, dataset, typed, name).items()}


class MethodSpec:
    """A method variant as typed: ``name[:key=value...]``; ``label`` is its leaderboard name.

    Constructing it checks everything about the method that does not need data: the name, the typed
    options (names and types) and every YAML layer of the method."""

    def __init__(self, spec: str) -> None:
        self.base, options = parse_spec(spec, "method")
        self.cls = get_condenser(self.base)
        self.label = canonical(self.base, options)
        self.options = check_options(self.cls, self.base, options)  # before any dataset is loaded
        check_method_yaml(self.cls, self.base)

    def build(self, dataset: str) -> Condenser:
        return self.cls(**resolve_config(self.cls, dataset, self.options, self.base))

    def __repr__(self) -> str:
        return f"MethodSpec({self.label!r})"


# ------------------------------------------------------------------------------------------ provenance
#: gcbench modules that cannot change a number (configuration plumbing, errors, the package's version):
#: not followed by :func:`code_fingerprint`, so editing them does not invalidate every saved row
PLUMBING = frozenset({"gcbench", "gcbench.errors", "gcbench.resources", "gcbench.spec", "gcbench.condensers",
                      "gcbench.condensers.base", "gcbench.testing"})


@lru_cache(maxsize=4096)
def _file_digest(path: str, mtime_ns: int, size: int) -> tuple[str, tuple[str, ...]]:
    """(sha256 of the file, module names its imports may refer to) of a Python source file."""
    data = Path(path).read_bytes()
    names: set[str] = set()
    try:
        tree = ast.parse(data)
    except SyntaxError:
        tree = None
    for node in ast.walk(tree) if tree is not None else ():
        if isinstance(node, ast.Import):
            names.update(a.name for a in node.names)
        elif isinstance(node, ast.ImportFrom):
            prefix = "." * node.level + (node.module or "")
            names.add(prefix)
            names.update(f"{prefix}{'' if prefix.endswith('.') else '.'}{a.name}" for a in node.names)
    return hashlib.sha256(data).hexdigest(), tuple(sorted(names))


def _resolve_name(name: str, module: str, is_pkg: bool) -> str:
    if not name.startswith("."):
        return name
    level = len(name) - len(name.lstrip("."))
    parts = module.split(".") if is_pkg else module.split(".")[:-1]
    parts = parts[: len(parts) - (level - 1)] if level > 1 else parts
    rest = name.lstrip(".")
    return ".".join(parts + ([rest] if rest else []))


def _source_of(module: str) -> tuple[Path, bool] | None:
    """(source file, is a package) of an importable module, or None."""
    try:
        spec = importlib.util.find_spec(module)
    except (ImportError, ValueError, AttributeError):
        return None
    if spec is None or not spec.origin or not spec.origin.endswith(".py"):
        return None
    return Path(spec.origin), spec.submodule_search_locations is not None


def module_closure(module: str) -> dict[str, str]:
    """Module -> sha256 of its source, for ``module`` and every module of its own top-level package or of
    gcbench that it imports, transitively (``PLUMBING`` excluded)."""
    tops = {module.split(".", 1)[0], "gcbench"}
    out: dict[str, str] = {}
    todo = [module]
    while todo:
        mod = todo.pop()
        if mod in out or (mod in PLUMBING and mod != module):
            continue
        found = _source_of(mod)
        if found is None:
            continue
        path, is_pkg = found
        st = path.stat()
        digest, names = _file_digest(str(path), st.st_mtime_ns, st.st_size)
        out[mod] = digest
        for name in names:
            full = _resolve_name(name, mod, is_pkg)
            if full and full.split(".", 1)[0] in tops and full not in out:
                todo.append(full)
    return out


def _digest(obj: Any) -> str:
    return hashlib.sha256(json.dumps(obj, sort_keys=True, default=str).encode()).hexdigest()


def code_fingerprint(cls: type) -> dict[str, Any]:
    """What a class's results depend on in code: a digest of :func:`module_closure` of its module (its own
    source, the gcbench modules it uses, and for a plugin the other modules of its package it imports) and,
    for a plugin registered through an entry point, its distribution name and version."""
    files = module_closure(cls.__module__)
    out: dict[str, Any] = {"source": _digest(files) if files else f"unavailable:{cls.__module__}"}
    plugin = next((p for n, p in _PLUGINS.items() if _REGISTRY.get(n) is cls), None)
    if plugin is not None and plugin[0]:
        out["distribution"] = f"{plugin[0]}=={plugin[1]}"
    return out


def condensed_key(method: Condenser) -> str:
    """Short hash naming a saved condensed graph: the method, its class, configuration and code."""
    return _digest({
        "method": method.name,
        "class": f"{type(method).__module__}.{type(method).__qualname__}",
        "config": method.config,
        "code": code_fingerprint(type(method)),
    })[:12]


def config_hash(method: Condenser, eval_overrides: dict[str, Any] | None = None) -> str:
    """Short hash of everything that determines a row besides dataset, ratio, arch and seed: the
    condensation (:func:`condensed_key`) and the evaluation (its settings and its code, installed plugin
    architectures' code included)."""
    from gcbench.archs import plugin_archs
    from gcbench.evaluate import eval_fingerprint

    parts = {
        "condensed": condensed_key(method),
        "eval": eval_fingerprint(eval_overrides),
        "eval_code": _digest(module_closure("gcbench.evaluate")),
    }
    plugins = plugin_archs()
    if plugins:
        parts["arch_code"] = {n: _digest(module_closure(str(a.build).partition(":")[0]))
                              for n, a in sorted(plugins.items())}
    return _digest(parts)[:12]

