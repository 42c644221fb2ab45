"""gcbench: a benchmark and baseline-comparison suite for graph condensation."""

__version__ = "0.1.0"

from gcbench.errors import GCBenchError  # noqa: E402
from gcbench.graph import Budget, CondensedGraph, Graph  # noqa: E402

__all__ = ["Budget", "CondensedGraph", "GCBenchError", "Graph", "__version__"]
