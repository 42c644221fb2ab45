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

Each registered dataset has a card in ``datasets/<name>.yaml``.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from typing import Any

from gcbench.data.npzfile import file_path, is_file_spec, load_npz_graph
from gcbench.errors import GCBenchError
from gcbench.graph import Graph
from gcbench.spec import canonical, parse_spec


def _synthetic(opts: dict[str, Any], root: Any) -> Graph:
    from gcbench.data.synthetic import synthetic_ecommerce

    opts = dict(opts)
    seed = opts.pop("seed", 0)
    return synthetic_ecommerce(seed=seed, **opts)


def _planetoid(name: str) -> Callable[[dict[str, Any], Any], Graph]:
    def load(opts: dict[str, Any], root: Any) -> Graph:
        from gcbench.data.planetoid import load_planetoid

        if opts:
            raise GCBenchError(f"dataset {name!r} takes no options, got {sorted(opts)}")
        return load_planetoid(name, root)

    return load


def _amazon(name: str) -> Callable[[dict[str, Any], Any], Graph]:
    def load(opts: dict[str, Any], root: Any) -> Graph:
        from gcbench.data.magb import load_amazon

        graph = load_amazon(name, root, **opts)
        # The features actually used (real CLIP or generated) depend on the data root when the option is not
        # typed; record them in the options, so that the canonical name load_dataset gives the graph (and so
        # every result row and leaderboard) says "features=synthetic" or "features=clip".
        opts["features"] = graph.info["features"]
        return graph

    return load


def _mmgraph(name: str) -> Callable[[dict[str, Any], Any], Graph]:
    def load(opts: dict[str, Any], root: Any) -> Graph:
        from gcbench.data.mmgraph import load_mmgraph

        graph = load_mmgraph(name, root, **opts)
        opts["encoder"] = graph.info["encoder"]  # the default encoder is named too: mmgraph-fashion:encoder=clip
        return graph

    return load


LOADERS: dict[str, Callable[[dict[str, Any], Any], Graph]] = {
    "synthetic-ecommerce": _synthetic,
    "cora": _planetoid("cora"),
    "citeseer": _planetoid("citeseer"),
    "amazon-toys": _amazon("amazon-toys"),
    "amazon-grocery": _amazon("amazon-grocery"),
    "mmgraph-fashion": _mmgraph("mmgraph-fashion"),
    "mmgraph-goodreads": _mmgraph("mmgraph-goodreads"),
}


def list_datasets() -> list[str]:
    return sorted(LOADERS)


def check_dataset_spec(spec: str) -> tuple[str, dict[str, Any]]:
    """``(name, options)`` of a dataset spec, or one error line; ``file:PATH`` gives ``("file", {"path":
    PATH})`` once the file exists (its content is checked when it loads, still before any cell runs)."""
    if is_file_spec(spec):
        return "file", {"path": str(file_path(spec))}
    name, opts = parse_spec(spec, "dataset")
    if name.lower() not in LOADERS:
        raise GCBenchError(f"unknown dataset {name!r}; known: {', '.join(list_datasets())}")
    return name.lower(), opts


def load_dataset(spec: str, data_root: str | os.PathLike | None = None) -> Graph:
    """Load a dataset by spec; the returned graph's ``name`` is the canonical spec (``file:<stem>@<sha8>``
    for a ``file:PATH`` spec)."""
    if is_file_spec(spec):
        return load_npz_graph(spec)
    name, opts = check_dataset_spec(spec)
    graph = LOADERS[name](opts, data_root)
    graph.name = canonical(name, opts)
    return graph
