"""DGL interop (optional extra ``gcbench[dgl]``): conversions both ways, and the numpy reader of DGL's binary
format against files written by DGL itself. The DGL tests skip when DGL is not installed (``tox -e dgl``
builds an environment with it); the checks that the core never imports DGL always run."""

from __future__ import annotations

import importlib.util
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import torch

from gcbench.errors import GCBenchError

HAVE_DGL = importlib.util.find_spec("dgl") is not None
needs_dgl = pytest.mark.skipif(not HAVE_DGL, reason="DGL is not installed (optional extra gcbench[dgl]; tox -e dgl)")


def test_core_never_imports_dgl() -> None:
    code = (
        "import sys\n"
        "import gcbench, gcbench.cli, gcbench.runner, gcbench.data, gcbench.data.magb, gcbench.data.mmgraph\n"
        "import gcbench.data.dgl_binary, gcbench.interop, gcbench.interop.dgl\n"
        "from gcbench.data import load_dataset\n"
        "load_dataset('synthetic-ecommerce:n_nodes=200')\n"
        "assert 'dgl' not in sys.modules, 'dgl was imported'\n"
        "print('ok')\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=300)
    assert out.returncode == 0 and out.stdout.strip() == "ok", out.stderr[-2000:]


@pytest.mark.skipif(HAVE_DGL, reason="DGL is installed")
def test_without_dgl_conversion_is_a_clear_error(small_graph) -> None:
    from gcbench.interop.dgl import from_dgl, to_dgl

    for call in (lambda: to_dgl(small_graph), lambda: from_dgl(object())):
        with pytest.raises(GCBenchError) as exc:
            call()
        assert "gcbench[dgl]" in str(exc.value) and "\n" not in str(exc.value)


@needs_dgl
def test_round_trip(small_graph) -> None:
    from gcbench.interop.dgl import from_dgl, to_dgl

    g = to_dgl(small_graph)
    assert g.num_nodes() == small_graph.num_nodes and g.num_edges() == small_graph.edge_index.size(1)
    assert torch.equal(g.ndata["feat"], small_graph.x) and torch.equal(g.ndata["label"], small_graph.y)
    assert g.ndata["train_mask"].dtype == torch.bool
    back = from_dgl(g, name=small_graph.name, modalities=small_graph.modalities)
    for key in ("x", "edge_index", "y", "train_mask", "val_mask", "test_mask"):
        assert torch.equal(getattr(back.data, key), getattr(small_graph.data, key)), key
    assert back.sha == small_graph.sha and back.modalities == small_graph.modalities
    assert back.metric == small_graph.metric


@needs_dgl
def test_from_dgl_symmetrises_and_checks() -> None:
    import dgl

    from gcbench.interop.dgl import from_dgl

    src, dst = torch.tensor([0, 1, 2, 2, 3]), torch.tensor([1, 2, 2, 0, 1])
    g = dgl.graph((src, dst), num_nodes=5)
    g.ndata["feat"] = torch.randn(5, 3)
    g.ndata["label"] = torch.tensor([0, 1, 0, 1, 1])
    for m in ("train_mask", "val_mask", "test_mask"):
        g.ndata[m] = torch.tensor([1, 0, 1, 0, 1], dtype=torch.uint8)
    out = from_dgl(g)
    assert out.num_edges == 4 and bool((out.edge_index[0] != out.edge_index[1]).all())
    assert out.metric == "roc_auc" and out.data.train_mask.dtype == torch.bool
    del g.ndata["label"]
    with pytest.raises(GCBenchError, match="label"):
        from_dgl(g)
    h = dgl.heterograph({("a", "r", "b"): (torch.tensor([0]), torch.tensor([0]))})
    with pytest.raises(GCBenchError, match="homogeneous"):
        from_dgl(h)


@needs_dgl
@pytest.mark.parametrize("formats", [None, "coo", "csr", "csc", ["coo", "csr", "csc"]])
def test_numpy_reader_matches_dgl_load_graphs(tmp_path: Path, formats) -> None:
    import dgl

    from gcbench.data.dgl_binary import read_dgl_graphs

    gen = torch.Generator().manual_seed(0)
    n = 30
    src, dst = torch.randint(0, n, (80,), generator=gen), torch.randint(0, n, (80,), generator=gen)
    g1 = dgl.graph((src, dst), num_nodes=n)
    g1.ndata["feat"] = torch.randn(n, 4, generator=gen)
    g1.ndata["label"] = torch.randint(0, 3, (n,), generator=gen)
    g1.ndata["train_mask"] = torch.rand(n, generator=gen) < 0.5
    g1.edata["w"] = torch.rand(80, generator=gen, dtype=torch.float64)
    g2 = dgl.heterograph({
        ("user", "buys", "item"): (torch.tensor([0, 1, 2]), torch.tensor([1, 1, 0])),
        ("item", "rev", "user"): (torch.tensor([1, 1, 0]), torch.tensor([0, 1, 2])),
    }, num_nodes_dict={"user": 4, "item": 2})
    g2.nodes["item"].data["price"] = torch.tensor([1.5, 2.5])
    path = tmp_path / "graphs.bin"
    dgl.save_graphs(str(path), [g1, g2], {"glabel": torch.tensor([7, 8])}, formats=formats)
    ref, ref_labels = dgl.load_graphs(str(path))
    graphs, labels = read_dgl_graphs(path)
    assert labels["glabel"].tolist() == ref_labels["glabel"].tolist() == [7, 8]
    for ours, theirs in zip(graphs, ref):
        assert ours.ntypes == theirs.ntypes and ours.canonical_etypes == theirs.canonical_etypes
        for nt in theirs.ntypes:
            assert ours.num_nodes_per_type[nt] == theirs.num_nodes(nt)
            for k, v in theirs.nodes[nt].data.items():
                np.testing.assert_array_equal(ours.ndata[nt][k].astype(v.numpy().dtype), v.numpy())
        for cet in theirs.canonical_etypes:
            s, d = theirs.edges(etype=cet, order="eid")
            np.testing.assert_array_equal(ours.edges[cet][0], s.numpy())
            np.testing.assert_array_equal(ours.edges[cet][1], d.numpy())
            for k, v in theirs.edges[cet].data.items():
                np.testing.assert_array_equal(ours.edata[cet][k], v.numpy())
