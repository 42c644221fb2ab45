"""An example gcbench plugin (see docs/adding-a-method.md): per class, the mean of its training nodes shrunk
towards the mean of all training nodes, with a little seeded noise, and a k-nearest-neighbour graph among the
synthetic nodes. Its cached work (the per-graph statistics) shows how a method reports time it reused."""

from __future__ import annotations

import time

import torch

from gcbench.condensers.base import Condenser
from gcbench.graph import Budget, CondensedGraph, Graph

__all__ = ["ExampleMeans"]


def _statistics(graph: Graph) -> tuple[torch.Tensor, torch.Tensor, float]:
    """Class means and global mean of the training nodes, memoised on the graph (``graph.cache`` lives as long
    as the graph in this process). Returns the seconds the computation took when it came from the memo
    (0.0 when computed now), so the caller can report the full cost whatever the order of the grid."""
    key = ("gcbench_example", "means")
    if key in graph.cache:
        means, overall, seconds = graph.cache[key]
        return means, overall, seconds
    t0 = time.perf_counter()
    x, _, y, train_idx = graph.training_view()
    xt, yt = x[train_idx].float(), y[train_idx]
    counts = torch.bincount(yt, minlength=graph.num_classes).clamp(min=1).unsqueeze(1).float()
    sums = torch.zeros(graph.num_classes, x.size(1)).index_add_(0, yt, xt)
    means, overall = sums / counts, xt.mean(0)
    graph.cache[key] = (means, overall, time.perf_counter() - t0)
    return means, overall, 0.0


class ExampleMeans(Condenser):
    name = "example-means"
    description = "example plugin: shrunk class means with a kNN graph"
    defaults = {"shrink": 0.0, "noise": 0.01, "knn": 2}
    conformance_options = {}  # already fast

    def condense(self, graph: Graph, budget: Budget, *, seed: int, device: torch.device) -> CondensedGraph:
        cfg = self.config
        means, overall, reused_s = _statistics(graph)
        y = budget.labels()  # labels only from the budget: never from the graph's test nodes
        gen = torch.Generator().manual_seed(seed)  # randomness only from the seed
        x = (1 - cfg["shrink"]) * means[y] + cfg["shrink"] * overall
        x = x + cfg["noise"] * torch.randn(x.shape, generator=gen)
        n, k = x.size(0), min(cfg["knn"], x.size(0) - 1)
        adj = torch.zeros(n, n)
        if k > 0:
            dist = torch.cdist(x, x) + torch.eye(n) * float("inf")
            nearest = dist.topk(k, largest=False).indices
            adj[torch.arange(n).repeat_interleave(k), nearest.reshape(-1)] = 1.0
            adj = ((adj + adj.t()) > 0).float()  # symmetric, weights in {0, 1}
        return CondensedGraph(x=x.to(device), y=y.to(device), adj=adj.to(device), modalities=graph.modalities,
                              meta={"reused_s": reused_s})
