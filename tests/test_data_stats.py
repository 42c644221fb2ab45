"""Dataset statistics (:mod:`gcbench.data.stats`) and the guard that settings follow the data.

The learned methods (GCond, DosCond, SR-GM) use one set of learning rates for every dataset. That is only
right while every registered dataset's features are on one scale, so this file checks, for each registered
dataset that is available here, that (a) its modality blocks are on the shared normalised scale and (b) a
learned method's synthetic features actually move under those shared rates; and (c) that the learning
rates the methods resolve are the same for every registered dataset (no dataset-keyed override).
"""

from __future__ import annotations

import warnings
from pathlib import Path

import pytest
import torch
from torch_geometric.data import Data

from gcbench.condensers.base import MethodSpec
from gcbench.data import list_datasets, load_dataset
from gcbench.data.magb import SemiSyntheticWarning
from gcbench.data.mmgraph import missing_files
from gcbench.data.stats import (
    MAX_ROW_NORM,
    check_feature_scale,
    dataset_stats,
    feature_scale,
    stats_markdown,
    topology_stats,
)
from gcbench.graph import Budget, Graph

#: the learned methods whose shared learning rates assume the normalised feature scale
LEARNED = ("gcond", "doscond", "srgm", "srgm-plus")
#: relative change ||X'_T - X'_0|| / ||X'_0|| after MOVE_EPOCHS epochs that step X' (not the PGE): the
#: floor a learned method's synthetic features must clear on every registered dataset. On the old raw
#: synthetic features (per-entry std 5.6 / 18.3) GCond's shared rates moved them by 0.06 % in 15 epochs.
MOVE_EPOCHS = 3
MOVE_FLOOR = 0.01


def _toy_graph(x: torch.Tensor, edges: list[tuple[int, int]], y: list[int], modalities: dict) -> Graph:
    ei = torch.tensor(edges, dtype=torch.long).T
    ei = torch.cat([ei, ei.flip(0)], 1)
    n = x.size(0)
    mask = torch.ones(n, dtype=torch.bool)
    data = Data(x=x, edge_index=ei, y=torch.tensor(y), train_mask=mask, val_mask=mask, test_mask=mask)
    return Graph(name="toy", data=data, modalities=modalities, setting="transductive", metric="accuracy")


def test_topology_stats_by_hand() -> None:
    # path 0-1-2-3 plus edge 0-2 and an isolated node 4; labels 0 0 1 1 0
    g = _toy_graph(torch.ones(5, 2), [(0, 1), (1, 2), (2, 3), (0, 2)], [0, 0, 1, 1, 0], {"text": slice(0, 2)})
    s = topology_stats(g)
    assert (s["nodes"], s["edges"], s["classes"], s["isolated"], s["max_degree"]) == (5, 4, 2, 1, 3)
    assert s["homophily"] == pytest.approx(2 / 4)  # 0-1 and 2-3 within a class
    assert s["mean_degree"] == pytest.approx(8 / 5) and s["median_degree"] == 2.0


def test_feature_scale_by_hand_and_the_check() -> None:
    x = torch.tensor([[3.0, 4.0, 1.0], [0.0, 0.0, 2.0], [0.6, 0.8, 0.0]])
    g = _toy_graph(x, [(0, 1)], [0, 1, 0], {"text": slice(0, 2), "image": slice(2, 3)})
    s = feature_scale(g, rows=2)  # two row blocks: the result must not depend on the blocking
    assert s["text"]["dim"] == 2 and s["image"]["dim"] == 1
    assert s["text"]["row_norm_max"] == pytest.approx(5.0) and s["text"]["zero_rows"] == 1
    assert s["text"]["row_norm"] == pytest.approx((5.0 + 0.0 + 1.0) / 3)
    assert s["text"]["row_norm_median"] == pytest.approx(1.0)  # lower median of the non-zero rows 5 and 1
    assert s["text"]["std"] == pytest.approx(float(x[:, :2].std(unbiased=False)), rel=1e-6)
    assert s["image"]["col_std"] == pytest.approx(float(x[:, 2].std(unbiased=False)), rel=1e-6)
    problems = check_feature_scale(g)
    assert len(problems) == 2 and "'text'" in problems[0] and "'image'" in problems[1]
    unit = _toy_graph(torch.nn.functional.normalize(torch.rand(4, 3) + 0.1, dim=1), [(0, 1)], [0, 1, 0, 1],
                      {"text": slice(0, 3)})
    assert check_feature_scale(unit) == []
    tiny = _toy_graph(unit.x * 1e-3, [(0, 1)], [0, 1, 0, 1], {"text": slice(0, 3)})
    assert "median row L2 norm" in check_feature_scale(tiny)[0]


def test_large_synthetic_features_are_caught() -> None:
    g = load_dataset("synthetic-ecommerce:n_nodes=300:image_scale=4")
    problems = check_feature_scale(g)
    assert len(problems) == 1 and "'image'" in problems[0] and "up to 4" in problems[0]
    assert check_feature_scale(load_dataset("synthetic-ecommerce:n_nodes=300")) == []


def test_dataset_stats_row_and_markdown() -> None:
    spec = "synthetic-ecommerce:n_nodes=300:train_frac=0.3"
    df = dataset_stats(spec, archs=("mlp", "gcn"), seeds=(0, 1), overrides={"epochs": 20})
    assert len(df) == 1
    row = df.iloc[0]
    assert row["dataset"] == spec and row["nodes"] == 300 and row["classes"] == 8
    assert row["text_dim"] == 128 and row["image_dim"] == 64
    assert row["text_row_norm"] == pytest.approx(1.0, abs=1e-5)
    assert 0.0 <= row["mlp"] <= 1.0 and 0.0 <= row["gcn"] <= 1.0 and row["gcn_sd"] >= 0.0
    assert row["seeds"] == "0,1"
    md = stats_markdown(df).splitlines()
    assert len(md) == 3 and md[0].startswith("| dataset | nodes |") and "gcn (%)" in md[0]
    assert f"{row['gcn'] * 100:.1f} ± {row['gcn_sd'] * 100:.1f}" in md[2]
    topo_only = dataset_stats(spec, archs=())
    assert "mlp" not in topo_only.columns and "homophily" in topo_only.columns
    assert "(%)" not in stats_markdown(topo_only)


# --- settings that follow the data ---------------------------------------------------------------------


def _registered_graph(name: str, root: Path | None) -> Graph:
    if name == "synthetic-ecommerce":
        return load_dataset(name)
    if root is None:
        pytest.skip("shared/data not found next to the checkout (set GCBENCH_SHARED_DATA)")
    if name.startswith("mmgraph-") and missing_files(name, root):
        pytest.skip(f"{name}: the MM-GRAPH files are not in the shared data (nothing is downloaded)")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", SemiSyntheticWarning)
        return load_dataset(name, root)


@pytest.fixture(scope="module")
def shared_root() -> Path | None:
    from conftest import shared_data_dir

    return shared_data_dir()


@pytest.mark.parametrize("name", list_datasets())
def test_every_registered_dataset_is_on_the_shared_feature_scale(name: str, shared_root) -> None:
    g = _registered_graph(name, shared_root)
    assert check_feature_scale(g) == []
    for s in feature_scale(g).values():
        assert s["row_norm_max"] <= MAX_ROW_NORM and s["std"] < 0.2


@pytest.mark.parametrize("method", LEARNED)
def test_learning_rates_are_the_same_for_every_registered_dataset(method: str) -> None:
    spec = MethodSpec(method)
    keys = [k for k in spec.cls.defaults if k.startswith("lr_")]
    rates = {d: {k: spec.build(d).config[k] for k in keys} for d in list_datasets()}
    first = next(iter(rates.values()))
    assert all(r == first for r in rates.values()), f"{method}: dataset-keyed learning rates {rates}"


def _relative_move(method: str, g: Graph, ratio: float, epochs: int = MOVE_EPOCHS) -> float:
    cond = MethodSpec(method).build(g.name)
    st = cond.setup(g, Budget.from_graph(g, ratio), seed=0, device=torch.device("cpu"))
    x0 = st.feat.detach().clone()
    # the first epochs of every adj_every step the PGE, not X': start at the first epoch that steps X'
    first = int(st.cfg["adj_steps"]) + 1 if st.cfg.get("learn_adj") else 1
    for e in range(first, first + epochs):
        st.epoch(e)
    return float((st.feat.detach() - x0).norm() / x0.norm())


@pytest.mark.parametrize("method", LEARNED)
def test_synthetic_features_move_on_the_default_dataset(method: str) -> None:
    g = load_dataset("synthetic-ecommerce:n_nodes=600:train_frac=0.2")
    assert _relative_move(method, g, 0.25) > MOVE_FLOOR


@pytest.mark.slow
@pytest.mark.parametrize("method", LEARNED)
@pytest.mark.parametrize("name", [d for d in list_datasets() if d != "synthetic-ecommerce"])
def test_synthetic_features_move_on_every_registered_dataset(method: str, name: str, shared_root) -> None:
    g = _registered_graph(name, shared_root)
    n_train = int(g.data.train_mask.sum())
    ratio = min(0.5, max(g.num_classes, 100) / n_train)  # about 100 synthetic nodes
    if method.startswith("srgm") and len(g.modalities) < 2:
        pytest.skip("SR-GM needs two modality blocks")
    assert _relative_move(method, g, ratio) > MOVE_FLOOR


def test_data_stats_command_prints_the_table(capsys):
    from gcbench.cli import main

    assert main(["data", "stats", "synthetic-ecommerce:n_nodes=300", "--archs", "mlp", "--eval", "epochs=5"]) == 0
    out = capsys.readouterr().out
    assert "| synthetic-ecommerce:n_nodes=300 |" in out and "homophily" in out and "mlp" in out
