"""Dataset registry: a dataset spec (``name[:key=value...]``) -> :class:`~gcbench.graph.Graph`.

=======================  ===========================================================================
``synthetic-ecommerce``  generated in code (needs no files); options are the generator's parameters
``cora``, ``citeseer``   Planetoid citation graphs from the data root (``--data-root``/``GCBENCH_DATA``)
``amazon-toys``,         MAGB Amazon co-purchase graphs from the data root: real topology and labels;
``amazon-grocery``       real CLIP features from a MAGB download, else *generated* (semi-synthetic)
                         ones; options ``features=clip|synthetic``, ``seed`` and the generator's feature
                         parameters (see :mod:`gcbench.data.magb`)
``mmgraph-fashion``,     MM-GRAPH node-classification graphs from the data root (``<root>/mmgraph/``
``mmgraph-goodreads``    ``ele-fashion/``, ``books-nc/``; Hugging Face ``mm-graph-org/mm-graph``, not
                         downloaded): real topology, labels, split and features; options
                         ``encoder=clip|imagebind|t5vit|t5dino`` (default clip, always in the name) and
                         ``text_dim``; blocks L2-normalised per row on load (see
                         :mod:`gcbench.data.mmgraph`). MM-GRAPH's Amazon-Sports, Amazon-Cloth and
                         Goodreads-LP are link-prediction sets without node labels: not registered
``file:PATH``            your own graph: one ``.npz`` file (:mod:`gcbench.data.npzfile`,
                         ``docs/own-graph.md``); the whole rest of the spec is the path (absolute or
                         relative to the working directory), so it takes no options
=======================  ===========================================================================

The registry is the dataset cards: every ``datasets/<name>.yaml`` names its loader (``loader:
module:function``, called as ``loader(name, options, data_root)``); installed packages add datasets through
the entry-point group ``gcbench.datasets`` (``NAME = "module:function"``, card optional as
``datasets/NAME.yaml`` inside the package). ``gcbench list`` shows them all.
"""

from __future__ import annotations

import importlib
import importlib.util
import os
from collections.abc import Callable
from dataclasses import dataclass
from importlib.metadata import entry_points
from pathlib import Path
from typing import Any

from gcbench.data.npzfile import file_path, is_file_spec, load_npz_graph
from gcbench.errors import GCBenchError
from gcbench.graph import Graph
from gcbench.resources import read_yaml, resource_dir
from gcbench.spec import canonical, parse_spec

# --------------------------------------------------------------------------------------------- loaders
# A loader is ``loader(name, options, data_root) -> Graph``; the card of a dataset names its loader
# (``loader: module:function``). A loader may add the options it resolved (the features or encoder it
# used) to ``options``, so that the dataset's canonical name says what was loaded.


def load_synthetic_ecommerce(name: str, opts: dict[str, Any], root: Any) -> Graph:
    from gcbench.data.synthetic import synthetic_ecommerce

    opts = dict(opts)
    seed = opts.pop("seed", 0)
    return synthetic_ecommerce(seed=seed, **opts)


def load_planetoid_dataset(name: str, opts: dict[str, Any], root: Any) -> Graph:
    from gcbench.data.planetoid import load_planetoid

    if opts:
        raise GCBenchError(f"dataset {name!r} takes no options, got {sorted(opts)}")
    return load_planetoid(name, root)


def load_magb_dataset(name: str, opts: dict[str, Any], root: Any) -> Graph:
    from gcbench.data.magb import load_amazon

    graph = load_amazon(name, root, **opts)
    # The features actually used (real CLIP or generated) depend on the data root when the option is not
    # typed; record them in the options, so that the canonical name load_dataset gives the graph (and so
    # every result row and leaderboard) says "features=synthetic" or "features=clip".
    opts["features"] = graph.info["features"]
    return graph


def load_mmgraph_dataset(name: str, opts: dict[str, Any], root: Any) -> Graph:
    from gcbench.data.mmgraph import load_mmgraph

    graph = load_mmgraph(name, root, **opts)
    opts["encoder"] = graph.info["encoder"]  # the default encoder is named too: mmgraph-fashion:encoder=clip
    return graph


# -------------------------------------------------------------------------------------------- registry
ENTRY_POINT_GROUP = "gcbench.datasets"


@dataclass(frozen=True)
class DatasetEntry:
    """A registered dataset: its name, its card (``datasets/<name>.yaml``; ``{}`` for a plugin without one),
    where the card is, the loader's ``module:function`` and who registered it (``gcbench`` or the plugin's
    entry point)."""

    name: str
    card: dict[str, Any]
    card_path: Path | None
    loader: str
    origin: str = "gcbench"

    def load_fn(self) -> Callable[[str, dict[str, Any], Any], Graph]:
        module, _, attr = self.loader.partition(":")
        try:
            fn = getattr(importlib.import_module(module), attr)
        except (ImportError, AttributeError) as exc:
            raise GCBenchError(f"dataset {self.name!r}: cannot import its loader {self.loader!r} ({exc})") from None
        if not callable(fn):
            raise GCBenchError(f"dataset {self.name!r}: its loader {self.loader!r} is not callable")
        return fn


def _card_entries(folder: Path, origin: str) -> dict[str, DatasetEntry]:
    out = {}
    for path in sorted(folder.glob("*.yaml")):
        card = read_yaml(path)
        name = str(card.get("name", path.stem)).lower()
        loader = card.get("loader")
        if not isinstance(loader, str) or ":" not in loader:
            raise GCBenchError(f"{path}: a dataset card needs 'loader: module:function' (got {loader!r})")
        out[name] = DatasetEntry(name, card, path, loader, origin)
    return out


def _plugin_entries() -> dict[str, DatasetEntry]:
    """Datasets registered by installed packages: an entry point ``NAME = "module:function"`` in the group
    ``gcbench.datasets``, the card (optional) as ``datasets/NAME.yaml`` inside the loader's package."""
    out = {}
    for ep in entry_points(group=ENTRY_POINT_GROUP):
        name = ep.name.lower()
        card, card_path = {}, None
        spec = importlib.util.find_spec(ep.value.partition(":")[0].split(".", 1)[0])
        if spec is not None and spec.submodule_search_locations:
            cand = Path(next(iter(spec.submodule_search_locations))) / "datasets" / f"{name}.yaml"
            if cand.exists():
                card, card_path = read_yaml(cand), cand
        out[name] = DatasetEntry(name, card, card_path, ep.value, f"plugin {ep.value}")
    return out


_REGISTRY_CACHE: dict[str, dict[str, DatasetEntry]] = {}


def dataset_registry() -> dict[str, DatasetEntry]:
    """Every registered dataset: the cards of the datasets folder (the shipped ``datasets/`` or
    ``$GCBENCH_DATASETS_DIR``), then installed plugins (a plugin never replaces a card of the same name).
    Read once per datasets folder and process."""
    folder = resource_dir("datasets")
    key = str(folder)
    if key not in _REGISTRY_CACHE:
        entries = _card_entries(folder, "gcbench")
        for name, entry in _plugin_entries().items():
            entries.setdefault(name, entry)
        _REGISTRY_CACHE[key] = entries
    return dict(_REGISTRY_CACHE[key])


def list_datasets() -> list[str]:
    return sorted(dataset_registry())


def check_dataset_spec(spec: str) -> tuple[str, dict[str, Any]]:
    """``(name, options)`` of a dataset spec, or one error line; ``file:PATH`` gives ``("file", {"path":
    PATH})`` once the file exists (its content is checked when it loads, still before any cell runs)."""
    if is_file_spec(spec):
        return "file", {"path": str(file_path(spec))}
    name, opts = parse_spec(spec, "dataset")
    if name.lower() not in dataset_registry():
        raise GCBenchError(f"unknown dataset {name!r}; known: {', '.join(list_datasets())}")
    return name.lower(), opts


def load_dataset(spec: str, data_root: str | os.PathLike | None = None) -> Graph:
    """Load a dataset by spec; the returned graph's ``name`` is the canonical spec (``file:<stem>@<sha8>``
    for a ``file:PATH`` spec)."""
    if is_file_spec(spec):
        return load_npz_graph(spec)
    name, opts = check_dataset_spec(spec)
    graph = dataset_registry()[name].load_fn()(name, opts, data_root)
    graph.name = canonical(name, opts)
    return graph
