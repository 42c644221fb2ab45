"""The registry of evaluation architectures: one :class:`Architecture` per name, built-ins and plugins.

An architecture is what :func:`gcbench.evaluate.evaluate` trains on a condensed graph: its name, a line
for ``gcbench list``, what it changes in the evaluation defaults under each protocol
(:data:`gcbench.evaluate.EVAL_DEFAULTS`; docs/evaluation-protocol.md gives the reference file of each
built-in value) and the model it builds. The seven built-ins are layers of :class:`gcbench.models.GNN`
(``build`` is None). A plugin registers another through the entry point group ``gcbench.archs``::

    [project.entry-points."gcbench.archs"]
    resmlp = "mypkg.archs:RESMLP"        # an Architecture whose build is "mypkg.archs:build_resmlp"

``build`` names a ``module:function`` called as ``function(name, in_dim, out_dim, **cfg)`` (``cfg``: the
resolved evaluation options) that returns a ``torch.nn.Module`` mapping ``(x, gcbench.models.AdjInput)`` to logits.
A plugin architecture's code (the module closure of its builder and its distribution's version) is part of
every row's configuration hash while it is installed (:func:`gcbench.evaluate.eval_fingerprint`).

This module imports no torch: the report reads the built-in order from it.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from importlib.metadata import entry_points
from typing import Any

from gcbench.errors import GCBenchError

ENTRY_POINT_GROUP = "gcbench.archs"
PROTOCOLS = ("reference", "pyg")


@dataclass(frozen=True)
class Architecture:
    """A registered evaluation architecture (see the module docstring)."""

    name: str
    description: str
    #: per protocol, the evaluation options this architecture changes (a protocol left out: none)
    defaults: Mapping[str, Mapping[str, Any]] = field(default_factory=dict)
    #: ``module:function`` building the model; None for the built-in layers of ``gcbench.models.GNN``
    build: str | None = None
    origin: str = "gcbench"

    def defaults_for(self, protocol: str) -> dict[str, Any]:
        return dict(self.defaults.get(protocol, {}))

    def builder(self) -> Callable[..., Any]:
        """The function that builds the model (a plugin's ``build``; :class:`gcbench.models.GNN` otherwise)."""
        target = self.build or "gcbench.models:build_gnn"
        module, _, attr = target.partition(":")
        try:
            fn = getattr(importlib.import_module(module), attr)
        except (ImportError, AttributeError) as exc:
            raise GCBenchError(f"architecture {self.name!r}: cannot import its builder {target!r} ({exc})") from None
        if not callable(fn):
            raise GCBenchError(f"architecture {self.name!r}: its builder {target!r} is not callable")
        return fn


# The references' settings (``reference``: GCond's evaluation code, ``tester_other_arcs.py`` and its
# ``models/``: the GCN of its main table with dropout 0.5, every other architecture as its cross-architecture
# tester trains it: dropout 0; GAT 16 heads x 16, attention dropout 0.7, lr 0.001, 3,000 epochs, condensed
# edges below 0.5 dropped) and PyG's layers with the settings gcbench used before protocols existed (``pyg``:
# GAT 8 heads x 8, dropout 0.6, lr 0.005).
BUILTIN: tuple[Architecture, ...] = (
    Architecture("mlp", "two linear layers; ignores the graph",
                 {"reference": {"dropout": 0.0}, "pyg": {}}),
    Architecture("gcn", "graph convolution, D^-1/2 (A+I) D^-1/2 (GCNConv)",
                 {"reference": {}, "pyg": {}}),
    Architecture("sgc", "K=2 propagations of a linear map (reference: of an MLP's output)",
                 {"reference": {"K": 2, "dropout": 0.0}, "pyg": {"K": 2, "dropout": 0.0}}),
    Architecture("sage", "GraphSAGE mean aggregation (reference: GCond's root_weight=False layer)",
                 {"reference": {"dropout": 0.0}, "pyg": {}}),
    Architecture("gat", "graph attention, edge weights on the messages (pyg: as an edge feature)",
                 {"reference": {"hidden": 256, "heads": 16, "dropout": 0.0, "att_dropout": 0.7, "lr": 0.001,
                                "epochs": 3000, "eval_every": 10, "adj_threshold": 0.5},
                  # validation every 10 epochs (the reference: every one)
                  "pyg": {"hidden": 64, "heads": 8, "dropout": 0.6, "lr": 0.005}}),
    Architecture("cheb", "Chebyshev filters, K=2 (reference: GCond's single-parameter Cheby)",
                 {"reference": {"K": 2, "dropout": 0.0}, "pyg": {"K": 2}}),
    Architecture("appnp", "an MLP, then personalised PageRank (reference K=2, pyg K=10; alpha 0.1)",
                 {"reference": {"K": 2, "alpha": 0.1, "dropout": 0.0}, "pyg": {"K": 10, "alpha": 0.1}}),
)
#: the built-in names in table order (reports put other architectures after them, sorted)
BUILTIN_NAMES: tuple[str, ...] = tuple(a.name for a in BUILTIN)

_PLUGINS: dict[str, Architecture] | None = None


def _plugin_archs() -> dict[str, Architecture]:
    """Architectures of installed packages (entry points ``gcbench.archs``), loaded once per process; a
    plugin never replaces a built-in of the same name."""
    global _PLUGINS
    if _PLUGINS is None:
        found: dict[str, Architecture] = {}
        for ep in entry_points(group=ENTRY_POINT_GROUP):
            name = ep.name.lower()
            if name in BUILTIN_NAMES:
                continue
            try:
                obj = ep.load()
            except Exception as exc:  # a broken plugin is one clear error, not a traceback
                raise GCBenchError(f"architecture plugin {ep.value!r}: cannot be loaded ({exc})") from None
            if not isinstance(obj, Architecture):
                raise GCBenchError(f"architecture plugin {ep.value!r}: expected a gcbench.archs.Architecture, "
                                   f"got {type(obj).__name__}")
            if obj.build is None or ":" not in obj.build:
                raise GCBenchError(f"architecture plugin {ep.value!r}: 'build' must name a module:function")
            dist = getattr(ep, "dist", None)
            origin = f"plugin {ep.value}" + (f" ({dist.name}=={dist.version})" if dist is not None else "")
            found[name] = Architecture(name, obj.description, obj.defaults, obj.build, origin)
        _PLUGINS = found
    return _PLUGINS


def reset_plugins() -> None:
    """Forget the loaded plugins (tests that install a fake entry point call it)."""
    global _PLUGINS
    _PLUGINS = None


def registry() -> dict[str, Architecture]:
    """Every architecture by name: the built-ins in table order, then plugins by name."""
    out = {a.name: a for a in BUILTIN}
    out.update(sorted(_plugin_archs().items()))
    return out


def arch_names() -> tuple[str, ...]:
    return tuple(registry())


def get_arch(name: str) -> Architecture:
    """The registered architecture ``name``; an unknown one is one error line naming the known ones."""
    reg = registry()
    if name not in reg:
        raise GCBenchError(f"unknown architecture {name!r}; known: {', '.join(reg)}")
    return reg[name]


def plugin_archs() -> dict[str, Architecture]:
    """The installed plugin architectures by name (empty for a plain install)."""
    return dict(_plugin_archs())
