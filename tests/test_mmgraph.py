"""MM-GRAPH layout reader on tiny fixtures written here in its on-disk format (torch.save files)."""

from __future__ import annotations

import pickle
from pathlib import Path

import numpy as np
import pytest
import torch

from gcbench.data.mmgraph import find_mmgraph_dir, mmgraph_to_graph, read_mmgraph
from gcbench.errors import GCBenchError

N, F_TEXT, F_IMAGE, C = 40, 6, 6, 3


def _edges(rng: np.random.Generator, n: int = N, e: int = 90) -> np.ndarray:
    return np.stack([rng.integers(0, n, e), rng.integers(0, n, e)], 1)  # [E, 2], MM-GRAPH's orientation


def _nc_folder(tmp_path: Path, name: str = "ele-fashion", *, edges_as: str = "tensor", labels_as: str = "int",
               feat_dtype=torch.float32) -> Path:
    rng = np.random.default_rng(0)
    folder = tmp_path / name
    folder.mkdir(parents=True)
    e = _edges(rng)
    edges = {"tensor": torch.from_numpy(e), "numpy": e, "list": e.tolist()}[edges_as]
    torch.save(edges, folder / "nc_edges-nodeid.pt")
    y = rng.integers(0, C, N)
    y[:4] = -1  # missing labels
    if labels_as == "float":
        yf = y.astype(np.float32)
        yf[:4] = np.nan
        torch.save(torch.from_numpy(yf), folder / "labels-w-missing.pt")
    else:
        torch.save(y.tolist(), folder / "labels-w-missing.pt")
    perm = rng.permutation(N)
    torch.save({"train_idx": torch.from_numpy(perm[:20]), "val_idx": perm[20:30].tolist(),
                "test_idx": torch.from_numpy(perm[30:])}, folder / "split.pt")
    feat = torch.from_numpy(rng.standard_normal((N, F_TEXT + F_IMAGE))).to(feat_dtype)
    torch.save(feat, folder / "clip_feat.pt")
    torch.save(feat[:, :8].contiguous(), folder / "t5vit_feat.pt")
    return folder


def _mapped(t: torch.Tensor, path: Path) -> bool:
    """Whether the tensor's memory lies inside a mapping of ``path`` (Linux /proc/self/maps)."""
    addr = t.data_ptr()
    for line in Path("/proc/self/maps").read_text().splitlines():
        parts = line.split()
        if len(parts) >= 6 and parts[5] == str(path.resolve()):
            lo, hi = (int(v, 16) for v in parts[0].split("-"))
            if lo <= addr < hi:
                return True
    return False


def test_read_node_classification_folder(tmp_path: Path) -> None:
    folder = _nc_folder(tmp_path)
    d = read_mmgraph(folder, "clip")
    assert d.task == "node" and d.name == "ele-fashion" and d.num_nodes == N and d.text_dim == F_TEXT
    ref = torch.load(folder / "nc_edges-nodeid.pt")
    assert torch.equal(d.edge_index, ref.t())
    assert torch.equal(d.features, torch.load(folder / "clip_feat.pt"))
    assert int((d.y == -1).sum()) == 4 and d.y.dtype == torch.long
    assert set(d.split) == {"train_idx", "val_idx", "test_idx"} and d.split["val_idx"].numel() == 10
    assert read_mmgraph(folder, "t5vit", text_dim=5).text_dim == 5


@pytest.mark.skipif(not Path("/proc/self/maps").is_file(), reason="needs Linux /proc/self/maps")
def test_float32_features_are_memory_mapped_not_copied(tmp_path: Path) -> None:
    folder = _nc_folder(tmp_path)
    d = read_mmgraph(folder)
    assert _mapped(d.features, folder / "clip_feat.pt")
    g = mmgraph_to_graph(d)
    assert g.x.data_ptr() == d.features.data_ptr()  # the graph's x is the mapped file, no copy
    half = _nc_folder(tmp_path / "half", feat_dtype=torch.float16)
    h = read_mmgraph(half)
    assert h.features.dtype == torch.float32 and not _mapped(h.features, half / "clip_feat.pt")
    assert torch.equal(h.features, torch.load(half / "clip_feat.pt").float())


NUMPY_PICKLES = hasattr(torch.serialization, "safe_globals")  # weights-only loading of numpy arrays: torch >= 2.5


@pytest.mark.parametrize("edges_as", [
    "tensor",
    pytest.param("numpy", marks=pytest.mark.skipif(not NUMPY_PICKLES, reason="torch < 2.5 loads no numpy safely")),
    "list",
])
@pytest.mark.parametrize("labels_as", ["int", "float"])
def test_edge_and_label_encodings(tmp_path: Path, edges_as: str, labels_as: str) -> None:
    d = read_mmgraph(_nc_folder(tmp_path, edges_as=edges_as, labels_as=labels_as))
    ref = _edges(np.random.default_rng(0))
    assert torch.equal(d.edge_index, torch.from_numpy(ref.T.copy()))
    assert d.y[:4].tolist() == [-1] * 4 and bool((d.y[4:] >= 0).all())


def test_to_graph(tmp_path: Path) -> None:
    d = read_mmgraph(_nc_folder(tmp_path))
    g = mmgraph_to_graph(d)
    assert g.name == "mmgraph-ele-fashion" and g.num_nodes == N and g.metric == "accuracy"
    assert g.modalities == {"text": slice(0, F_TEXT), "image": slice(F_TEXT, F_TEXT + F_IMAGE)}
    src, dst = g.edge_index
    assert bool((src != dst).all())
    keys = src * N + dst
    assert torch.equal(torch.sort(keys).values, torch.sort(dst * N + src).values)
    assert torch.unique(keys).numel() == keys.numel()
    und = {(min(a, b), max(a, b)) for a, b in d.edge_index.t().tolist() if a != b}
    assert g.num_edges == len(und)
    # masks: MM-GRAPH's split minus the nodes without a label
    lab = d.y >= 0
    for key, m in (("train_idx", g.data.train_mask), ("val_idx", g.data.val_mask), ("test_idx", g.data.test_mask)):
        expect = torch.zeros(N, dtype=torch.bool)
        expect[d.split[key]] = True
        assert torch.equal(m, expect & lab), key
    assert torch.equal(g.data.label_mask, lab) and g.info["stats"]["missing_labels"] == 4
    assert g.info["stats"]["split_nodes_without_label"] == 4


def test_link_prediction_folder(tmp_path: Path) -> None:
    rng = np.random.default_rng(1)
    folder = tmp_path / "sports-copurchase"
    folder.mkdir()
    torch.save(torch.from_numpy(rng.standard_normal((N, 8)).astype(np.float32)), folder / "imagebind_feat.pt")
    tr = _edges(rng)
    split = {
        "train": {"source_node": torch.from_numpy(tr[:, 0]), "target_node": torch.from_numpy(tr[:, 1])},
        "valid": {"source_node": torch.arange(3), "target_node": torch.arange(3) + 1,
                  "target_node_neg": torch.from_numpy(rng.integers(0, N, (3, 5)))},
        "test": {"source_node": torch.arange(2), "target_node": torch.arange(2) + 2,
                 "target_node_neg": torch.from_numpy(rng.integers(0, N, (2, 5)))},
    }
    torch.save(split, folder / "lp-edge-split-hard.pt")
    d = read_mmgraph(folder, "imagebind")
    assert d.task == "link" and d.y is None and d.text_dim == 4
    assert torch.equal(d.edge_index, torch.from_numpy(tr.T.copy()))
    assert d.edge_split["valid"]["target_node_neg"].shape == (3, 5)
    with pytest.raises(GCBenchError, match="link-prediction"):
        mmgraph_to_graph(d)
    with pytest.raises(GCBenchError) as exc:
        read_mmgraph(folder, "imagebind", edge_split="random")
    assert "lp-edge-split-random.pt" in str(exc.value)


def test_find_dataset_folder(tmp_path: Path) -> None:
    folder = _nc_folder(tmp_path / "mm-graph", "books-nc")
    assert find_mmgraph_dir(tmp_path, "books-nc") == folder
    with pytest.raises(GCBenchError) as exc:
        find_mmgraph_dir(tmp_path, "ele-fashion")
    assert str(tmp_path / "ele-fashion") in str(exc.value)


class _Evil:
    def __reduce__(self):
        return (print, ("this must never run",))


def _expect(folder: Path, fname: str, *parts: str, **kw) -> None:
    with pytest.raises(GCBenchError) as exc:
        read_mmgraph(folder, **kw)
    msg = str(exc.value)
    assert "\n" not in msg and str(folder / fname) in msg, msg
    for p in parts:
        assert p in msg, msg


def test_bad_files_name_the_file(tmp_path: Path) -> None:
    folder = _nc_folder(tmp_path)
    feat = folder / "clip_feat.pt"
    raw = feat.read_bytes()
    feat.write_bytes(raw[: len(raw) // 2])  # truncated zip archive
    _expect(folder, "clip_feat.pt", "not a readable torch.save file")
    feat.unlink()
    _expect(folder, "clip_feat.pt", "missing file")
    torch.save(torch.zeros(N, 4, dtype=torch.int64), feat)
    _expect(folder, "clip_feat.pt", "float feature matrix")
    torch.save(torch.zeros(N, 4), feat)
    _expect(folder, "clip_feat.pt", "text_dim", text_dim=4)
    # a pickled object that is not data is refused, not executed
    with open(folder / "split.pt", "wb") as fh:
        pickle.dump({"train_idx": _Evil()}, fh)
    _expect(folder, "split.pt", "not a readable torch.save file")
    torch.save({"train_idx": [0], "val_idx": [1]}, folder / "split.pt")
    _expect(folder, "split.pt", "test_idx")
    torch.save({"train_idx": [0], "val_idx": [1], "test_idx": [N]}, folder / "split.pt")
    _expect(folder, "split.pt", f"outside 0..{N - 1}")
    torch.save(list(range(N - 1)), folder / "labels-w-missing.pt")
    _expect(folder, "labels-w-missing.pt", f"{N - 1} labels for {N} nodes")
    torch.save(torch.zeros(5, 3, dtype=torch.long), folder / "nc_edges-nodeid.pt")
    _expect(folder, "nc_edges-nodeid.pt", "[E, 2]")
    with pytest.raises(GCBenchError, match="unknown encoder 'bert'"):
        read_mmgraph(folder, "bert")


def test_overlapping_split_is_an_error(tmp_path: Path) -> None:
    folder = _nc_folder(tmp_path)
    torch.save({"train_idx": [5, 6], "val_idx": [6], "test_idx": [7]}, folder / "split.pt")
    with pytest.raises(GCBenchError) as exc:
        mmgraph_to_graph(read_mmgraph(folder))
    assert "overlap" in str(exc.value) and str(folder / "split.pt") in str(exc.value)
