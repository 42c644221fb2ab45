"""benchmarks/bench_throughput.py: the fewest epochs its study bound assumes are what a plateau stop allows."""

from __future__ import annotations

import pytest

from gcbench.condensers.base import Plateau


@pytest.fixture(scope="module")
def bt(benchmark_script):
    return benchmark_script("bench_throughput")


def plateau_stop(epochs: int, every: int, patience: int) -> int:
    """The epoch a run with a flat validation score ends at (the earliest a plateau stop can end it)."""
    p = Plateau(patience)
    for e in range(1, epochs + 1):
        check = every and (e % every == 0 or e == epochs)
        if p.step(e, 0.5 if check else None):
            return e
    return epochs


@pytest.mark.parametrize("epochs,every,patience", [(1000, 10, 100), (1000, 100, 100), (600, 10, 0), (150, 10, 100),
                                                   (1000, 7, 50), (1000, 0, 100), (30, 10, 100)])
def test_fewest_epochs_is_the_earliest_plateau_stop(bt, epochs, every, patience):
    cfg = {"epochs": epochs, "val_every": every, "patience": patience}
    assert bt.fewest_epochs(cfg) == plateau_stop(epochs, every, patience)
