"""gcbench: a benchmark and baseline-comparison suite for graph condensation."""

from gcbench.errors import GCBenchError
from gcbench.graph import Budget, CondensedGraph, Graph
from gcbench.suite import run_suite
from gcbench.version import __version__

__all__ = ["Budget", "CondensedGraph", "GCBenchError", "Graph", "__version__", "run_suite"]
