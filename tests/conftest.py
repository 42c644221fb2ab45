"""Shared fixtures. Real data comes from the shared data folder next to the checkout (or GCBENCH_DATA);
nothing is downloaded. Set GCBENCH_REQUIRE_DATA=1 (CI does) to make missing data a failure, not a skip."""

from __future__ import annotations

import importlib
import os
import shutil
import sys
import tempfile
from pathlib import Path
from types import SimpleNamespace

import pytest
import torch

# Keep PyG's processed files and any other cache out of the user's home during tests.
os.environ.setdefault("GCBENCH_CACHE", tempfile.mkdtemp(prefix="gcbench-test-cache-"))
torch.set_num_threads(1)  # fast for these small graphs, and immune to oversubscription

REPO = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="session")
def benchmark_script():
    """``load(name)`` imports ``benchmarks/<name>.py`` as a module (the scripts import each other, so their
    folder is on the import path while one is imported)."""
    folder = str(REPO / "benchmarks")

    def load(name: str):
        sys.path.insert(0, folder)
        try:
            return importlib.import_module(name)
        finally:
            sys.path.remove(folder)

    return load


@pytest.fixture(scope="session")
def saved_graphs_run(tmp_path_factory: pytest.TempPathFactory) -> SimpleNamespace:
    """A results folder with saved condensed graphs, for the scripts that re-read them: ``out`` holds the random
    coreset on ``dataset`` at r=0.5, seeds 0 and 1, evaluated by GCN, SGC and GAT with the option ``eval``."""
    from gcbench import cli

    run = SimpleNamespace(out=tmp_path_factory.mktemp("saved-graphs") / "run",
                          dataset="synthetic-ecommerce:n_nodes=200", eval="epochs=20")
    assert cli.main(["run", "--methods", "random", "--datasets", run.dataset, "--ratios", "0.5",
                     "--archs", "gcn,sgc,gat", "--seeds", "0,1", "--eval", run.eval, "--out", str(run.out),
                     "--no-progress", "--quiet"]) == 0
    return run


def shared_data_dir() -> Path | None:
    env = os.environ.get("GCBENCH_SHARED_DATA")
    for cand in ([Path(env)] if env else []) + [REPO.parent / "shared" / "data", REPO / "shared" / "data"]:
        if (cand / "planetoid" / "ind.cora.x").is_file():
            return cand
    return None


@pytest.fixture(scope="session")
def planetoid_root(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A fresh data root seeded from shared/data/planetoid (the layout <root>/planetoid/ind.*)."""
    src = shared_data_dir()
    if src is None:
        msg = "shared/data/planetoid not found next to the checkout (set GCBENCH_SHARED_DATA)"
        if os.environ.get("GCBENCH_REQUIRE_DATA"):
            pytest.fail(msg)
        pytest.skip(msg)
    root = tmp_path_factory.mktemp("data")
    shutil.copytree(src / "planetoid", root / "planetoid")
    return root


@pytest.fixture(scope="session")
def cora(planetoid_root: Path):
    from gcbench.data import load_dataset

    return load_dataset("cora", planetoid_root)


@pytest.fixture(scope="session")
def small_graph():
    """A 600-node synthetic-ecommerce graph (fast)."""
    from gcbench.data import load_dataset

    return load_dataset("synthetic-ecommerce:n_nodes=600:train_frac=0.2")


@pytest.fixture(scope="session")
def magb_root(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A fresh data root seeded from shared/data/magb (the layout <root>/magb/{ToysGraph.pt,toys.npz,grocery.npz})."""
    src = shared_data_dir()
    if src is None or not (src / "magb" / "toys.npz").is_file():
        msg = "shared/data/magb not found next to the checkout (set GCBENCH_SHARED_DATA)"
        if os.environ.get("GCBENCH_REQUIRE_DATA"):
            pytest.fail(msg)
        pytest.skip(msg)
    root = tmp_path_factory.mktemp("magb-data")
    (root / "magb").mkdir()
    for f in (src / "magb").iterdir():
        if f.is_file():
            shutil.copyfile(f, root / "magb" / f.name)  # contents only: the copies are writable
    return root
