"""Coreset baselines and the whole-graph reference.

``random``, ``herding`` and ``kcenter`` pick ``budget.per_class[c]`` training nodes of each class and keep
the subgraph the chosen nodes induce in the real graph as the condensed adjacency (unit weights). As in
GCond's baselines, herding and k-center work on the outputs (log-softmax) of a GCN trained on the full
graph's training nodes with the evaluation protocol (best validation epoch); the embedding model is
seeded by the run seed and shared between methods within one run (its training time is reported in
``meta["reused_s"]`` when reused, and counted in every row's ``condense_s``).

* **random** — uniform without replacement within each class.
* **herding** — per class, greedily add the node that brings the running mean of the chosen embeddings
  closest to the class mean: step ``i`` picks ``argmin_j || (i+1) * mu - S_i - e_j ||`` over nodes not yet
  chosen (``S_i`` = sum of the chosen embeddings) (Welling, 2009).
* **kcenter** — per class, start from the node nearest the class mean, then repeatedly add the node
  farthest from everything chosen so far (greedy farthest-point / k-center).
* **whole** — the full training graph itself (all nodes and edges, loss on the training labels only):
  the reference row, independent of the ratio.
"""

from __future__ import annotations

import abc
from typing import Any

import torch
from torch import Tensor

from gcbench.condensers.base import Condenser
from gcbench.evaluate import full_graph_input, train_on_full_graph
from gcbench.graph import Budget, CondensedGraph, Graph


def herding_order(emb: Tensor, k: int) -> Tensor:
    """Indices (into ``emb``'s rows) of ``k`` nodes chosen by herding toward the mean of ``emb``."""
    mu = emb.mean(0)
    chosen = torch.empty(k, dtype=torch.long)
    running = torch.zeros_like(mu)
    taken = torch.zeros(emb.size(0), dtype=torch.bool, device=emb.device)
    for i in range(k):
        target = mu * (i + 1) - running
        dist = (emb - target).norm(dim=1).masked_fill(taken, float("inf"))
        j = int(dist.argmin())
        chosen[i], taken[j] = j, True
        running = running + emb[j]
    return chosen


def kcenter_order(emb: Tensor, k: int) -> Tensor:
    """Indices of ``k`` nodes chosen by greedy k-center, starting from the node nearest the mean."""
    first = int((emb - emb.mean(0)).norm(dim=1).argmin())
    chosen = [first]
    mind = (emb - emb[first]).norm(dim=1)
    for _ in range(k - 1):
        j = int(mind.argmax())
        chosen.append(j)
        mind = torch.minimum(mind, (emb - emb[j]).norm(dim=1))
    return torch.tensor(chosen, dtype=torch.long)


def unit_adjacency(ei: Tensor, n: int, dense_limit: int = 0) -> Tensor:
    """Unit-weight ``[n, n]`` adjacency of the edges ``ei``: dense up to ``dense_limit`` nodes, else sparse."""
    if n <= dense_limit:
        adj = torch.zeros(n, n)
        adj[ei[0], ei[1]] = 1.0
        return adj
    return torch.sparse_coo_tensor(ei, torch.ones(ei.size(1)), (n, n), check_invariants=False).coalesce()


def induced_adjacency(graph: Graph, idx: Tensor, dense_limit: int) -> Tensor:
    """Unit-weight adjacency of the subgraph induced by ``idx`` (dense up to ``dense_limit`` nodes)."""
    return unit_adjacency(graph.induced_subgraph(idx), idx.numel(), dense_limit)


class Coreset(Condenser):
    """Selection per class from the training nodes; subclasses implement :meth:`order`."""

    defaults: dict[str, Any] = {"dense_limit": 5000}

    @abc.abstractmethod
    def order(self, feats: Tensor, k: int, gen: torch.Generator) -> Tensor:
        """Positions (into the rows of ``feats``: one class's embeddings or node ids) of ``k`` picks."""

    def embeddings(self, graph: Graph, seed: int, device: torch.device) -> tuple[Tensor | None, float]:
        """Node embeddings to select on (``None``: select on node ids) and seconds of memoised work reused."""
        return None, 0.0

    def select(self, graph: Graph, budget: Budget, emb: Tensor | None, *, seed: int) -> Tensor:
        """Global node ids of the chosen nodes, grouped by class in class order."""
        gen = torch.Generator().manual_seed(seed)
        train_idx = graph.train_idx
        y_train = graph.y[train_idx]
        picked = []
        for c, k in enumerate(budget.per_class):
            if k == 0:
                continue
            members = train_idx[y_train == c]
            local = self.order(members if emb is None else emb[members], k, gen)
            picked.append(members[local.cpu()])
        return torch.cat(picked)

    def condense(self, graph: Graph, budget: Budget, *, seed: int, device: torch.device) -> CondensedGraph:
        emb, reused_s = self.embeddings(graph, seed, device)
        idx = self.select(graph, budget, emb, seed=seed)
        return CondensedGraph(
            x=graph.x[idx].clone(),
            y=graph.y[idx].clone(),
            adj=induced_adjacency(graph, idx, int(self.config["dense_limit"])),
            modalities=dict(graph.modalities),
            meta={"selected": idx.tolist(), "reused_s": reused_s},
        )


class EmbeddingCoreset(Coreset):
    defaults: dict[str, Any] = {
        "dense_limit": 5000,
        "embed_arch": "gcn",
        "embed_epochs": 600,
        "embedding": "log_softmax",
    }

    def embeddings(self, graph: Graph, seed: int, device: torch.device) -> tuple[Tensor, float]:
        model, reused_s = train_on_full_graph(
            graph, self.config["embed_arch"], seed, device, {"epochs": int(self.config["embed_epochs"])}
        )
        with torch.no_grad():
            out = model(graph.x.to(device), full_graph_input(graph, device))
        if self.config["embedding"] == "log_softmax":
            out = torch.log_softmax(out, dim=-1)
        elif self.config["embedding"] != "logits":
            raise ValueError(f"embedding must be 'log_softmax' or 'logits', got {self.config['embedding']!r}")
        return out.detach().cpu(), reused_s


class RandomCoreset(Coreset):
    """Uniformly random training nodes per class, with their induced subgraph."""

    name = "random"
    description = "uniform random training nodes per class + induced subgraph"

    def order(self, members: Tensor, k: int, gen: torch.Generator) -> Tensor:
        return torch.randperm(members.numel(), generator=gen)[:k]


class Herding(EmbeddingCoreset):
    """Herding on full-graph GCN embeddings, per class, + induced subgraph."""

    name = "herding"
    description = "herding toward the class mean of full-graph GCN embeddings + induced subgraph"

    def order(self, emb: Tensor, k: int, gen: torch.Generator) -> Tensor:
        return herding_order(emb, k)


class KCenter(EmbeddingCoreset):
    """Greedy k-center on full-graph GCN embeddings, per class, + induced subgraph."""

    name = "kcenter"
    description = "greedy k-center on full-graph GCN embeddings + induced subgraph"

    def order(self, emb: Tensor, k: int, gen: torch.Generator) -> Tensor:
        return kcenter_order(emb, k)


class Whole(Condenser):
    """The full training graph (reference row): all nodes and edges, loss on the training labels only."""

    name = "whole"
    description = "the full training graph (reference, ratio-free)"
    ratio_free = True
    defaults: dict[str, Any] = {}

    def condense(self, graph: Graph, budget: Budget, *, seed: int, device: torch.device) -> CondensedGraph:
        x, ei, y, train_idx = graph.training_view()
        n = x.size(0)
        mask = torch.zeros(n, dtype=torch.bool)
        mask[train_idx] = True
        return CondensedGraph(x=x, y=y, adj=unit_adjacency(ei, n), modalities=dict(graph.modalities), train_mask=mask)
