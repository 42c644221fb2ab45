"""MAGB: the DGL save_graphs reader (real ToysGraph.pt and fixtures written here), the MAGB folder layout, and
the amazon-toys / amazon-grocery datasets (real topology from shared/data/magb, generated or CLIP features)."""

from __future__ import annotations

import hashlib
import io
import pickle
import shutil
import struct
import tracemalloc
import warnings
import zipfile
from pathlib import Path

import numpy as np
import pytest
import torch

from gcbench import cli
from gcbench.data import dgl_binary as dglb
from gcbench.data import load_dataset
from gcbench.data.dgl_binary import read_dgl_graph, read_dgl_graphs
from gcbench.data.magb import (
    AMAZON_FEATURE_DEFAULTS,
    SemiSyntheticWarning,
    chunked_sha256,
    read_magb,
    read_magb_csv,
    read_magb_graph,
    read_npy_features,
    stack_features,
)
from gcbench.data.synthetic import DEFAULTS, FEATURE_PARAMS, modality_features
from gcbench.errors import GCBenchError
from gcbench.graph import tensor_sha256
from gcbench.resources import dataset_card

TOYS_N, TOYS_E, TOYS_C, TOYS_UNDIRECTED = 20695, 63443, 18, 56701
GROCERY_N, GROCERY_E, GROCERY_C, GROCERY_UNDIRECTED = 17074, 85670, 20, 71131


# ----------------------------------------------------------------------------------------------------------
# a small writer of DGL's format (version 2), for fixtures: written from the layout in dgl_binary's docstring


def _u64(v: int) -> bytes:
    return struct.pack("<Q", v)


def _i64(v: int) -> bytes:
    return struct.pack("<q", v)


def _str(s: str) -> bytes:
    b = s.encode()
    return _u64(len(b)) + b


def _nd(a: np.ndarray) -> bytes:
    a = np.ascontiguousarray(a)
    code = {"i": 0, "u": 1, "f": 2, "b": 1}[a.dtype.kind]  # DGL stores bool tensors as uint8
    head = struct.pack("<QQiiiBBH", dglb.NDARRAY_MAGIC, 0, 1, 0, a.ndim, code, a.dtype.itemsize * 8, 1)
    return head + struct.pack(f"<{a.ndim}q", *a.shape) + _i64(a.nbytes) + a.tobytes()


def _named(d: dict[str, np.ndarray]) -> bytes:
    return _u64(len(d)) + b"".join(_str(k) + _nd(v) for k, v in d.items())


def _csr(n_rows: int, n_cols: int, rows: np.ndarray, cols: np.ndarray, ids: bool = True) -> bytes:
    """CSR of the entries (rows[i], cols[i]) with data = i (the edge ids) or none."""
    order = np.argsort(rows, kind="stable")
    indptr = np.concatenate([[0], np.cumsum(np.bincount(rows, minlength=n_rows))]).astype(np.int64)
    data = order.astype(np.int64) if ids else np.empty(0, np.int64)
    return (_u64(dglb.CSR_MAGIC) + _i64(n_cols) + _i64(n_rows) + _nd(indptr) + _nd(cols[order].astype(np.int64))
            + _nd(data) + b"\x00")


def _immutable(n_rows: int, n_cols: int, rows: np.ndarray, cols: np.ndarray) -> bytes:
    return _u64(dglb.IMMUTABLE_GRAPH_MAGIC) + _csr(n_rows, n_cols, rows, cols)


def _unit(n_src: int, n_dst: int, src: np.ndarray, dst: np.ndarray, formats: str, perm: np.ndarray | None) -> bytes:
    code = sum({"coo": 1, "csr": 2, "csc": 4}[f] for f in formats.split(","))
    meta = _immutable(1, 1, np.zeros(1, np.int64), np.zeros(1, np.int64))
    out = _u64(dglb.UNIT_GRAPH_MAGIC) + _i64(code | 1 << 32) + _i64(7 | 1 << 32)
    if code & 1:  # COO, optionally stored in the order `perm` with data = perm
        if perm is None:
            row, col, data = src, dst, np.empty(0, np.int64)
        else:
            row, col, data = src[perm], dst[perm], perm.astype(np.int64)
        out += meta + _u64(dglb.COO_MAGIC) + _i64(n_dst) + _i64(n_src) + _nd(row) + _nd(col) + _nd(data) + b"\x01\x00"
    if code & 2:
        out += meta + _csr(n_src, n_dst, src, dst)
    if code & 4:
        out += meta + _csr(n_dst, n_src, dst, src)
    return out


def write_dgl(path: Path, graphs: list[dict], labels: dict[str, np.ndarray] | None = None) -> None:
    """graphs: dicts with ntypes, num_nodes, etypes [(src_t, name, dst_t, src, dst, formats, perm)], ndata, edata."""
    labels_blob = _named(labels or {})
    body, offsets = b"", []
    start = dglb.HEADER_BYTES + 8 + len(labels_blob)
    for g in graphs:
        offsets.append(start + len(body))
        nt = g["ntypes"]
        ets = g["etypes"]
        mrow = np.array([nt.index(e[0]) for e in ets], np.int64)
        mcol = np.array([nt.index(e[2]) for e in ets], np.int64)
        blob = _u64(dglb.HETEROGRAPH_MAGIC) + _immutable(len(nt), len(nt), mrow, mcol) + _u64(len(ets))
        for s_t, _, d_t, src, dst, fmts, perm in ets:
            blob += _unit(g["num_nodes"][s_t], g["num_nodes"][d_t], src, dst, fmts, perm)
        blob += _u64(len(nt)) + b"".join(_i64(g["num_nodes"][t]) for t in nt)
        blob += _u64(len(nt)) + b"".join(_named(g.get("ndata", {}).get(t, {})) for t in nt)
        blob += _u64(len(ets)) + b"".join(_named(g.get("edata", {}).get(e[1], {})) for e in ets)
        blob += _u64(len(nt)) + b"".join(_str(t) for t in nt)
        blob += _u64(len(ets)) + b"".join(_str(e[1]) for e in ets)
        body += blob
    header = struct.pack("<QQQQ", dglb.FILE_MAGIC, 2, 2, len(graphs)).ljust(dglb.HEADER_BYTES, b"\xab")
    table = _u64(len(offsets)) + b"".join(_u64(o) for o in offsets)
    path.write_bytes(header + _u64(start) + labels_blob + body + _str_bytes(table) + _u64(len(table)))


def _str_bytes(b: bytes) -> bytes:
    return _u64(len(b)) + b


def _homogeneous(n: int, src, dst, formats: str = "coo", perm=None, ndata=None, edata=None) -> dict:
    src, dst = np.asarray(src, np.int64), np.asarray(dst, np.int64)
    return {"ntypes": ["_N"], "num_nodes": {"_N": n}, "etypes": [("_N", "_E", "_N", src, dst, formats, perm)],
            "ndata": {"_N": ndata or {}}, "edata": {"_E": edata or {}}}


def _sha(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _one_line_error(exc: pytest.ExceptionInfo, *parts: str) -> str:
    msg = str(exc.value)
    assert "\n" not in msg
    for p in parts:
        assert p in msg, msg
    return msg


# ----------------------------------------------------------------------------------------------------------
# the DGL reader on the real file


def test_reader_reproduces_toys_npz_exactly(magb_root: Path) -> None:
    g = read_dgl_graph(magb_root / "magb" / "ToysGraph.pt")
    n, src, dst, ndata, edata = g.homogeneous()
    ref = np.load(magb_root / "magb" / "toys.npz")
    assert n == int(ref["num_nodes"]) == TOYS_N
    assert src.dtype == dst.dtype == np.int64 and ndata["label"].dtype == np.int64
    np.testing.assert_array_equal(np.stack([src, dst]), ref["edge_index"])
    np.testing.assert_array_equal(ndata["label"], ref["y"])
    assert list(ndata) == ["label"] and edata == {}
    assert g.ntypes == ["_N"] and g.canonical_etypes == [("_N", "_E", "_N")]
    assert g.formats[("_N", "_E", "_N")] == ["coo"]
    graphs, labels = read_dgl_graphs(magb_root / "magb" / "ToysGraph.pt")
    assert len(graphs) == 1 and labels == {}
    # read_magb_graph gives the same arrays from either file
    for f in ("ToysGraph.pt", "toys.npz"):
        n2, ei, y = read_magb_graph(magb_root / "magb" / f)
        assert n2 == TOYS_N and ei.dtype == y.dtype == np.int64
        np.testing.assert_array_equal(ei, ref["edge_index"])
        np.testing.assert_array_equal(y, ref["y"])


def test_reader_memory_maps_the_file(magb_root: Path) -> None:
    path = magb_root / "magb" / "ToysGraph.pt"
    tracemalloc.start()
    try:
        _, src, _, ndata, _ = read_dgl_graph(path).homogeneous()
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak < path.stat().st_size / 10  # the arrays are views of the mapping, not copies
    base = src
    while base.base is not None and not isinstance(base, np.memmap):
        base = base.base
    assert isinstance(base, np.memmap) and not src.flags.writeable


@pytest.mark.parametrize("keep", [0, 7, 8, 32, 100, 4095, 4096, 4104, 4200, 5000, 600_000, -33, -9, -8, -1])
def test_truncated_real_file_fails_clearly(magb_root: Path, tmp_path: Path, keep: int) -> None:
    raw = (magb_root / "magb" / "ToysGraph.pt").read_bytes()
    bad = tmp_path / "ToysGraph.pt"
    bad.write_bytes(raw[:keep] if keep >= 0 else raw[: len(raw) + keep])
    with pytest.raises(GCBenchError) as exc:
        read_dgl_graphs(bad)
    msg = _one_line_error(exc, str(bad))
    assert any(w in msg for w in ("truncated", "empty file", "not a DGL")), msg


def test_truncated_graph_file_fails_through_the_dataset_loader(magb_root: Path, tmp_path: Path) -> None:
    root = tmp_path / "root"
    (root / "Toys").mkdir(parents=True)
    raw = (magb_root / "magb" / "ToysGraph.pt").read_bytes()
    (root / "Toys" / "ToysGraph.pt").write_bytes(raw[: len(raw) // 2])
    with pytest.raises(GCBenchError) as exc:
        load_dataset("amazon-toys", root)
    _one_line_error(exc, "checksum mismatch", str(root / "Toys" / "ToysGraph.pt"))
    with pytest.raises(GCBenchError) as exc:  # the reader itself, without the card's checksum
        read_magb_graph(root / "Toys" / "ToysGraph.pt")
    _one_line_error(exc, "truncated", str(root / "Toys" / "ToysGraph.pt"))


def test_foreign_files_are_rejected(tmp_path: Path) -> None:
    cases = {}
    torch.save({"a": torch.zeros(3)}, tmp_path / "torch.pt")
    cases["torch.pt"] = "zip archive"
    (tmp_path / "pickle.pt").write_bytes(pickle.dumps({"a": 1}, protocol=4))
    cases["pickle.pt"] = "pickle"
    np.savez(tmp_path / "arrays.npz", a=np.arange(3))
    cases["arrays.npz"] = "zip archive"
    (tmp_path / "text.pt").write_text("hello, this is not a graph\n" * 400)
    cases["text.pt"] = "magic number"
    (tmp_path / "empty.pt").write_bytes(b"")
    cases["empty.pt"] = "empty file"
    cases["missing.pt"] = "file not found"
    for name, why in cases.items():
        with pytest.raises(GCBenchError) as exc:
            read_dgl_graphs(tmp_path / name)
        _one_line_error(exc, str(tmp_path / name), why)


def test_other_format_version_is_rejected(magb_root: Path, tmp_path: Path) -> None:
    raw = bytearray((magb_root / "magb" / "ToysGraph.pt").read_bytes())
    raw[8:16] = _u64(1)
    (tmp_path / "v1.bin").write_bytes(bytes(raw))
    with pytest.raises(GCBenchError) as exc:
        read_dgl_graphs(tmp_path / "v1.bin")
    _one_line_error(exc, "version 1", str(tmp_path / "v1.bin"))


# ----------------------------------------------------------------------------------------------------------
# the DGL reader on fixtures


def _ring(n: int) -> tuple[np.ndarray, np.ndarray]:
    src = np.arange(n, dtype=np.int64)
    return np.concatenate([src, src[:3]]), np.concatenate([(src + 1) % n, src[:3] + 2])


@pytest.mark.parametrize("formats", ["coo", "csr", "csc", "coo,csr,csc", "csr,csc"])
@pytest.mark.parametrize("permuted", [False, True])
def test_fixture_formats_give_edges_in_edge_id_order(tmp_path: Path, formats: str, permuted: bool) -> None:
    n = 9
    src, dst = _ring(n)
    rng = np.random.default_rng(0)
    perm = rng.permutation(src.size) if permuted else None
    feat = rng.standard_normal((n, 4)).astype(np.float32)
    mask = rng.random(n) < 0.5
    w = rng.random(src.size)
    g = _homogeneous(n, src, dst, formats, perm, ndata={"feat": feat, "train_mask": mask, "label": np.arange(n) % 3},
                     edata={"w": w})
    write_dgl(tmp_path / "g.bin", [g])
    out = read_dgl_graph(tmp_path / "g.bin")
    n2, s, d, nd, ed = out.homogeneous()
    assert n2 == n and out.formats[("_N", "_E", "_N")] == formats.split(",")
    np.testing.assert_array_equal(s, src)
    np.testing.assert_array_equal(d, dst)
    np.testing.assert_array_equal(nd["feat"], feat)
    assert nd["train_mask"].dtype == np.uint8 and np.array_equal(nd["train_mask"].astype(bool), mask)
    np.testing.assert_array_equal(ed["w"], w)


def test_fixture_heterograph_several_graphs_and_labels(tmp_path: Path) -> None:
    user_item = (np.array([0, 1, 1, 2]), np.array([3, 0, 2, 1]))
    item_item = (np.array([0, 1, 2]), np.array([1, 2, 3]))
    hetero = {
        "ntypes": ["item", "user"],
        "num_nodes": {"item": 4, "user": 3},
        "etypes": [("user", "buys", "item", *user_item, "csr", None),
                   ("item", "also", "item", *item_item, "coo", None)],
        "ndata": {"item": {"price": np.arange(4, dtype=np.float64)}, "user": {}},
        "edata": {"buys": {"t": np.arange(4, dtype=np.int32)}},
    }
    small = _homogeneous(2, [0], [1])
    write_dgl(tmp_path / "h.bin", [hetero, small], labels={"glabel": np.array([5, 6])})
    graphs, labels = read_dgl_graphs(tmp_path / "h.bin")
    assert len(graphs) == 2 and labels["glabel"].tolist() == [5, 6]
    h = graphs[0]
    assert h.ntypes == ["item", "user"] and not h.is_homogeneous
    assert h.canonical_etypes == [("user", "buys", "item"), ("item", "also", "item")]
    assert h.num_nodes_per_type == {"item": 4, "user": 3}
    np.testing.assert_array_equal(h.edges[("user", "buys", "item")][0], user_item[0])
    np.testing.assert_array_equal(h.edges[("user", "buys", "item")][1], user_item[1])
    np.testing.assert_array_equal(h.edges[("item", "also", "item")][1], item_item[1])
    assert h.ndata["item"]["price"].dtype == np.float64
    assert h.edata[("user", "buys", "item")]["t"].tolist() == [0, 1, 2, 3]
    with pytest.raises(GCBenchError, match="homogeneous"):
        h.homogeneous()
    with pytest.raises(GCBenchError, match="expected one graph"):
        read_dgl_graph(tmp_path / "h.bin")
    assert graphs[1].homogeneous()[0] == 2


def _corrupt(tmp_path: Path, **kw) -> Path:
    src, dst = _ring(6)
    g = _homogeneous(6, src, dst, ndata={"label": np.arange(6)})
    write_dgl(tmp_path / "ok.bin", [g])
    raw = bytearray((tmp_path / "ok.bin").read_bytes())
    if "find" in kw:
        i = raw.find(kw["find"], kw.get("after", 0))
        assert i > 0
        raw[i : i + len(kw["replace"])] = kw["replace"]
    if "append" in kw:
        raw += kw["append"]
    (tmp_path / "bad.bin").write_bytes(bytes(raw))
    return tmp_path / "bad.bin"


def test_corrupt_contents_fail_clearly(tmp_path: Path) -> None:
    nd_magic = _u64(dglb.NDARRAY_MAGIC)
    cases = [
        (dict(find=nd_magic, replace=b"\0" * 8), "magic number of array"),
        (dict(find=_u64(dglb.UNIT_GRAPH_MAGIC), replace=_u64(dglb.UNIT_GRAPH_MAGIC - 1)), "magic number of relation"),
        (dict(append=b"\0"), "unexpected byte"),
        # the label array's declared byte size (6 int64 = 48 bytes) changed to 40
        (dict(find=_i64(6) + _i64(48), replace=_i64(6) + _i64(40)), "declares 40 bytes"),
        # a COO destination id out of range: the ring's last stored edge 2 -> 4 becomes 2 -> 9
        (dict(find=_i64(1) + _i64(2) + _i64(3) + _i64(4) + _i64(5) + _i64(0) + _i64(2) + _i64(3) + _i64(4),
              replace=_i64(1) + _i64(2) + _i64(3) + _i64(4) + _i64(5) + _i64(0) + _i64(2) + _i64(3) + _i64(9)),
         "outside 0..5"),
    ]
    for kw, why in cases:
        bad = _corrupt(tmp_path, **kw)
        with pytest.raises(GCBenchError) as exc:
            read_dgl_graphs(bad)
        _one_line_error(exc, str(bad), why)
    # an implausible vector length cannot make the reader allocate or loop for ever
    header_end = dglb.HEADER_BYTES + 8
    raw = bytearray((tmp_path / "ok.bin").read_bytes())
    raw[header_end : header_end + 8] = _u64(2**60)
    (tmp_path / "huge.bin").write_bytes(bytes(raw))
    with pytest.raises(GCBenchError) as exc:
        read_dgl_graphs(tmp_path / "huge.bin")
    _one_line_error(exc, "claims", str(tmp_path / "huge.bin"))


# ----------------------------------------------------------------------------------------------------------
# the MAGB folder layout


def _magb_folder(tmp_path: Path, n: int = 50, text_dtype=np.float32, image_dtype=np.float16) -> Path:
    rng = np.random.default_rng(1)
    folder = tmp_path / "Movies"
    (folder / "text_features").mkdir(parents=True)
    (folder / "ImageFeature").mkdir()
    src = rng.integers(0, n, 120)
    dst = rng.integers(0, n, 120)
    write_dgl(folder / "MoviesGraph.pt", [_homogeneous(n, src, dst, ndata={"label": rng.integers(0, 4, n)})])
    np.save(folder / "text_features" / "Movies_text_clip_vit_large_patch14_768d.npy",
            rng.standard_normal((n, 6)).astype(text_dtype))
    np.save(folder / "ImageFeature" / "Movies_openai_clip-vit-large-patch14.npy",
            rng.standard_normal((n, 5)).astype(image_dtype))
    ids = rng.permutation(n)
    (folder / "Movies.csv").write_text("id,title,label\n" + "".join(f"{i},movie {i},{i % 4}\n" for i in ids))
    return folder


def test_read_magb_folder_fixture(tmp_path: Path) -> None:
    folder = _magb_folder(tmp_path)
    data = read_magb(folder)
    assert data.name == "Movies" and data.num_nodes == 50 and data.edge_index.shape == (2, 120)
    assert isinstance(data.text, np.memmap) and isinstance(data.image, np.memmap)
    assert data.text.shape == (50, 6) and data.image.dtype == np.float16
    assert set(data.files) == {"graph", "text", "image", "csv"}
    df = read_magb_csv(data.files["csv"], data.num_nodes)
    assert df["id"].tolist() == list(range(50)) and df["title"][3] == "movie 3"
    # explicit feature files
    other = read_magb(folder, text_file="ImageFeature/Movies_openai_clip-vit-large-patch14.npy")
    assert other.text.shape == (50, 5) and other.image is None
    # a checksum on record must match
    with pytest.raises(GCBenchError) as exc:
        read_magb(folder, checksums={"MoviesGraph.pt": "0" * 64})
    _one_line_error(exc, "checksum mismatch", str(folder / "MoviesGraph.pt"))
    read_magb(folder, checksums={"MoviesGraph.pt": _sha(folder / "MoviesGraph.pt")})


def test_magb_layout_errors_name_the_file(tmp_path: Path) -> None:
    folder = _magb_folder(tmp_path)
    text = folder / "text_features" / "Movies_text_clip_vit_large_patch14_768d.npy"
    np.save(text, np.zeros((49, 6), np.float32))  # one row short
    with pytest.raises(GCBenchError) as exc:
        read_magb(folder)
    _one_line_error(exc, str(text), "49 feature rows")
    raw = text.read_bytes()
    text.write_bytes(raw[: len(raw) - 10])  # truncated
    with pytest.raises(GCBenchError) as exc:
        read_npy_features(text)
    _one_line_error(exc, str(text))
    np.save(text, np.zeros((50, 6), np.int64))
    with pytest.raises(GCBenchError) as exc:
        read_npy_features(text)
    _one_line_error(exc, str(text), "float matrix")
    csv = folder / "Movies.csv"
    csv.write_text("id,title\n0,a\n0,b\n")
    with pytest.raises(GCBenchError) as exc:
        read_magb_csv(csv, 2)
    _one_line_error(exc, str(csv), "'id' column")
    (folder / "MoviesGraph.pt").unlink()
    with pytest.raises(GCBenchError) as exc:
        read_magb(folder)
    _one_line_error(exc, str(folder / "MoviesGraph.pt"), "missing")
    bad_npz = tmp_path / "bad.npz"
    bad_npz.write_bytes(b"PK\x03\x04 not really a zip")
    with pytest.raises(GCBenchError) as exc:
        read_magb_graph(bad_npz)
    _one_line_error(exc, str(bad_npz))


def test_stack_features_holds_one_copy(tmp_path: Path) -> None:
    n = 40_000
    rng = np.random.default_rng(2)
    np.save(tmp_path / "t.npy", rng.standard_normal((n, 48)).astype(np.float32))
    np.save(tmp_path / "i.npy", rng.standard_normal((n, 32)).astype(np.float16))
    text, image = read_npy_features(tmp_path / "t.npy", n), read_npy_features(tmp_path / "i.npy", n)
    tracemalloc.start()
    try:
        x = stack_features([text, image], rows=4096)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    # numpy-side allocations stay far below one full copy of the features (x itself is torch memory)
    assert peak < 0.1 * x.numel() * 4
    assert x.dtype == torch.float32 and x.shape == (n, 80)
    np.testing.assert_array_equal(x.numpy(), np.concatenate([np.asarray(text), np.asarray(image, np.float32)], 1))


def test_stack_features_normalizes_each_block_and_rejects_non_finite(tmp_path: Path) -> None:
    rng = np.random.default_rng(0)
    a = (rng.standard_normal((10, 3)) * 7).astype(np.float32)
    b = (rng.standard_normal((10, 2)) * 0.1).astype(np.float16)
    a[4] = 0.0  # a missing embedding stays a zero row
    x = stack_features([a, b], rows=3, normalize=True).numpy()
    np.testing.assert_allclose(np.linalg.norm(x[:, :3], axis=1), [1.0] * 4 + [0.0] + [1.0] * 5, atol=1e-6)
    np.testing.assert_allclose(np.linalg.norm(x[:, 3:], axis=1), np.ones(10), atol=1e-3)
    np.testing.assert_allclose(x[:, :3] * np.linalg.norm(a, axis=1, keepdims=True), a, atol=1e-5)
    raw = stack_features([a, b], rows=3).numpy()  # without normalize: an exact copy
    np.testing.assert_array_equal(raw, np.concatenate([a, b.astype(np.float32)], 1))
    b[7, 1] = np.nan
    with pytest.raises(GCBenchError) as exc:
        stack_features([a, b], rows=3, normalize=True, names=["t.npy", "img.npy"])
    _one_line_error(exc, "img.npy", "row 7")


def test_chunked_sha_equals_tensor_sha() -> None:
    gen = torch.Generator().manual_seed(0)
    ts = [torch.randn(1000, 7, generator=gen), torch.arange(10), torch.zeros(5, dtype=torch.bool), torch.empty(0, 3)]
    assert chunked_sha256(*ts, block=64) == tensor_sha256(*ts)


# ----------------------------------------------------------------------------------------------------------
# amazon-toys / amazon-grocery on the shared data


@pytest.fixture(scope="module")
def toys(magb_root: Path):
    with pytest.warns(SemiSyntheticWarning, match="SEMI-SYNTHETIC"):
        return load_dataset("amazon-toys", magb_root)


def _undirected_keys(ei: np.ndarray, n: int) -> np.ndarray:
    lo, hi = np.minimum(ei[0], ei[1]), np.maximum(ei[0], ei[1])
    keep = lo != hi
    return np.unique(lo[keep] * n + hi[keep])


def test_amazon_toys_topology_labels_split(toys, magb_root: Path) -> None:
    g = toys
    assert g.name == "amazon-toys:features=synthetic"
    assert g.num_nodes == TOYS_N and g.num_classes == TOYS_C and g.num_edges == TOYS_UNDIRECTED
    assert g.setting == "transductive" and g.metric == "accuracy"
    assert g.info["semi_synthetic"] is True and g.info["features"] == "synthetic"
    ref = np.load(magb_root / "magb" / "toys.npz")
    np.testing.assert_array_equal(g.y.numpy(), ref["y"])
    # symmetrised: both directions, no self-loops, no duplicates, exactly the stored pairs
    src, dst = g.edge_index
    assert bool((src != dst).all())
    keys = (src * TOYS_N + dst).numpy()
    assert np.unique(keys).size == keys.size == 2 * TOYS_UNDIRECTED
    np.testing.assert_array_equal(np.sort(keys), np.sort((dst * TOYS_N + src).numpy()))
    np.testing.assert_array_equal(_undirected_keys(g.edge_index.numpy(), TOYS_N),
                                  _undirected_keys(ref["edge_index"], TOYS_N))
    assert g.info["stats"]["self_loops_dropped"] == 22 and g.info["stats"]["stored_edges"] == TOYS_E
    # the split: disjoint, covering, per class round(0.6 n_c) / round(0.2 n_c) / rest
    tr, va, te = g.data.train_mask, g.data.val_mask, g.data.test_mask
    assert not bool((tr & va).any() or (tr & te).any() or (va & te).any()) and bool((tr | va | te).all())
    sizes = torch.bincount(g.y).double()
    assert torch.equal(torch.bincount(g.y[tr], minlength=TOYS_C), torch.round(0.6 * sizes).long())
    assert torch.equal(torch.bincount(g.y[va], minlength=TOYS_C), torch.round(0.2 * sizes).long())
    assert g.summary()["train/val/test"] == "12417/4139/4139"


def test_amazon_toys_features_are_the_synthetic_generator(toys) -> None:
    g = toys
    p = {**{k: DEFAULTS[k] for k in FEATURE_PARAMS}, **AMAZON_FEATURE_DEFAULTS}
    x, cm, cc = modality_features(g.y, TOYS_C, torch.Generator().manual_seed(0), **p)
    assert torch.equal(g.x, x) and torch.equal(g.data.conflict_mask, cm) and torch.equal(g.data.conflict_class, cc)
    td, idim = p["text_dim"], p["image_dim"]
    assert g.modalities == {"text": slice(0, td), "image": slice(td, td + idim)}
    assert int(cm.sum()) == round(p["conflict_frac"] * TOYS_N)
    # CLIP-like blocks: every node's text and image block has unit L2 norm (the shared feature scale)
    for sl in g.modalities.values():
        assert torch.allclose(torch.linalg.vector_norm(g.x[:, sl], dim=1), torch.ones(TOYS_N), atol=1e-5)
    assert g.info["feature_params"]["text_noise"] == AMAZON_FEATURE_DEFAULTS["text_noise"]
    assert g.info["feature_normalization"].startswith("L2 per modality block")


def test_amazon_toys_deterministic_and_options(toys, magb_root: Path) -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", SemiSyntheticWarning)
        again = load_dataset("amazon-toys", magb_root)
        other = load_dataset("amazon-toys:seed=1:conflict_frac=0", magb_root)
        forced = load_dataset("amazon-toys:features=synthetic", magb_root)
    assert again.sha == toys.sha and torch.equal(again.x, toys.x)
    assert forced.name == "amazon-toys:features=synthetic" and forced.sha == toys.sha
    assert other.name == "amazon-toys:conflict_frac=0:features=synthetic:seed=1"
    assert not bool(other.data.conflict_mask.any()) and not torch.equal(other.x, toys.x)
    # the split and the topology do not depend on the feature options
    for key in ("train_mask", "val_mask", "test_mask", "edge_index", "y"):
        assert torch.equal(getattr(other.data, key), getattr(toys.data, key)), key
    for spec, bad in [("amazon-toys:conflict_frac=2", "conflict_frac"), ("amazon-toys:n_nodes=5", "n_nodes"),
                      ("amazon-toys:features=bert", "features"), ("amazon-toys:seed=-1", "seed")]:
        with pytest.raises(GCBenchError) as exc:
            load_dataset(spec, magb_root)
        _one_line_error(exc, bad)


def test_amazon_toys_same_graph_from_npz_or_dgl_file(toys, magb_root: Path, tmp_path: Path) -> None:
    only_npz = tmp_path / "npz"
    (only_npz / "magb").mkdir(parents=True)
    shutil.copyfile(magb_root / "magb" / "toys.npz", only_npz / "magb" / "toys.npz")
    only_dgl = tmp_path / "dgl" / "Toys"  # MAGB's own layout <root>/<Name>/<Name>Graph.pt
    only_dgl.mkdir(parents=True)
    shutil.copyfile(magb_root / "magb" / "ToysGraph.pt", only_dgl / "ToysGraph.pt")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", SemiSyntheticWarning)
        a = load_dataset("amazon-toys", only_npz)
        b = load_dataset("amazon-toys", tmp_path / "dgl")
    assert a.sha == b.sha == toys.sha
    assert a.info["files"]["graph"].endswith("toys.npz") and b.info["files"]["graph"].endswith("ToysGraph.pt")


def test_amazon_grocery(magb_root: Path) -> None:
    with pytest.warns(SemiSyntheticWarning):
        g = load_dataset("amazon-grocery", magb_root)
    assert g.name == "amazon-grocery:features=synthetic"
    assert g.num_nodes == GROCERY_N and g.num_classes == GROCERY_C and g.num_edges == GROCERY_UNDIRECTED
    assert g.info["stats"]["stored_edges"] == GROCERY_E and g.info["files"]["graph"].endswith("grocery.npz")
    assert bool((torch.bincount(g.y[g.data.test_mask], minlength=GROCERY_C) >= 1).all())


def test_checksum_mismatch_names_the_file(magb_root: Path, tmp_path: Path) -> None:
    root = tmp_path / "root"
    (root / "magb").mkdir(parents=True)
    ref = np.load(magb_root / "magb" / "toys.npz")
    y = ref["y"].copy()
    y[0] = (y[0] + 1) % TOYS_C  # one label changed: still a valid file, but not the one on record
    np.savez(root / "magb" / "toys.npz", edge_index=ref["edge_index"], y=y, num_nodes=ref["num_nodes"])
    with pytest.raises(GCBenchError) as exc:
        load_dataset("amazon-toys", root)
    _one_line_error(exc, "checksum mismatch", str(root / "magb" / "toys.npz"))
    raw = bytearray((magb_root / "magb" / "ToysGraph.pt").read_bytes())
    raw[-100] ^= 1
    (root / "magb" / "ToysGraph.pt").write_bytes(bytes(raw))
    with pytest.raises(GCBenchError) as exc:
        load_dataset("amazon-toys", root)
    _one_line_error(exc, "checksum mismatch", str(root / "magb" / "ToysGraph.pt"))


def test_missing_data_is_one_clear_error(tmp_path: Path, capsys) -> None:
    with pytest.raises(GCBenchError) as exc:
        load_dataset("amazon-grocery", tmp_path)
    _one_line_error(exc, "grocery.npz", "GroceryGraph.pt", str(tmp_path))
    assert cli.main(["run", "--datasets", "amazon-toys", "--data-root", str(tmp_path), "--out",
                     str(tmp_path / "out"), "--no-progress", "--quiet"]) == 2
    assert "gcbench: error: amazon-toys: no graph file" in capsys.readouterr().err


def _clip_root(magb_root: Path, tmp_path: Path, text: bool = True, image: bool = True) -> Path:
    """A MAGB/OpenMAG-style download: Data/Toys/ToysGraph.pt plus CLIP feature files (random stand-ins)."""
    root = tmp_path / "openmag"
    folder = root / "Data" / "Toys"
    folder.mkdir(parents=True)
    shutil.copyfile(magb_root / "magb" / "ToysGraph.pt", folder / "ToysGraph.pt")
    rng = np.random.default_rng(3)
    if text:
        (folder / "text_features").mkdir()
        np.save(folder / "text_features" / "Toys_text_clip_vit_large_patch14_768d.npy",
                rng.standard_normal((TOYS_N, 12)).astype(np.float32))
    if image:
        (folder / "image_features").mkdir()
        np.save(folder / "image_features" / "Toys_image_clip_vit_large_patch14_768d.npy",
                rng.standard_normal((TOYS_N, 10)).astype(np.float16))
    return root


def test_amazon_toys_uses_real_clip_features_when_present(toys, magb_root: Path, tmp_path: Path) -> None:
    root = _clip_root(magb_root, tmp_path)
    with warnings.catch_warnings():
        warnings.simplefilter("error", SemiSyntheticWarning)  # real features: no semi-synthetic warning
        g = load_dataset("amazon-toys", root)
    assert g.name == "amazon-toys:features=clip" and g.info["semi_synthetic"] is False
    folder = root / "Data" / "Toys"
    text = np.load(folder / "text_features" / "Toys_text_clip_vit_large_patch14_768d.npy")
    image = np.load(folder / "image_features" / "Toys_image_clip_vit_large_patch14_768d.npy")
    # read as shipped (raw CLIP projections, float16 image file cast to float32, rows in node order), then
    # each modality block L2-normalised per row: the one feature scale of every registered dataset
    def unit(a: np.ndarray) -> np.ndarray:
        a = a.astype(np.float32)
        return a / np.linalg.norm(a, axis=1, keepdims=True)

    np.testing.assert_allclose(g.x.numpy(), np.concatenate([unit(text), unit(image)], 1), rtol=1e-5, atol=1e-6)
    assert g.modalities == {"text": slice(0, 12), "image": slice(12, 22)}
    assert g.info["feature_normalization"].startswith("L2 per modality block")
    for key in ("edge_index", "y", "train_mask", "val_mask", "test_mask"):  # same graph and split
        assert torch.equal(getattr(g.data, key), getattr(toys.data, key)), key
    with pytest.warns(SemiSyntheticWarning):
        forced = load_dataset("amazon-toys:features=synthetic", root)
    assert forced.sha == toys.sha
    with pytest.raises(GCBenchError) as exc:
        load_dataset("amazon-toys:features=clip:conflict_frac=0.1", root)
    _one_line_error(exc, "conflict_frac", "features=synthetic")


def test_amazon_toys_clip_errors(magb_root: Path, tmp_path: Path) -> None:
    with pytest.raises(GCBenchError) as exc:
        load_dataset("amazon-toys:features=clip", magb_root)
    _one_line_error(exc, "features=clip", "Toys_text_clip_vit_large_patch14")
    root = _clip_root(magb_root, tmp_path, text=False)  # half a download is an error, not a silent fallback
    with pytest.raises(GCBenchError) as exc:
        load_dataset("amazon-toys", root)
    _one_line_error(exc, "found only", "Toys_image_clip_vit_large_patch14_768d.npy")


# ----------------------------------------------------------------------------------------------------------
# cards and the command line


@pytest.mark.parametrize("name", ["amazon-toys", "amazon-grocery"])
def test_cards_are_complete_and_match_the_shared_files(name: str, magb_root: Path) -> None:
    card = dataset_card(name)
    for key in ("name", "title", "source", "licence", "format", "files", "modalities", "split", "setting",
                "metric", "semi_synthetic", "stats"):
        assert key in card, key
    assert card["name"] == name and card["setting"] == "transductive" and card["metric"] == "accuracy"
    assert "SEMI-SYNTHETIC" in card["title"] and card["semi_synthetic"]["generated_features"] is True
    npz = f"{name.split('-')[1]}.npz"
    assert card["files"][npz] == _sha(magb_root / "magb" / npz)
    pt = f"{name.split('-')[1].capitalize()}Graph.pt"
    assert len(card["files"][pt]) == 64
    if (magb_root / "magb" / pt).is_file():
        assert card["files"][pt] == _sha(magb_root / "magb" / pt)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", SemiSyntheticWarning)
        g = load_dataset(name, magb_root)
    stats = card["stats"]
    assert (stats["nodes"], stats["undirected_edges"], stats["classes"]) == (g.num_nodes, g.num_edges, g.num_classes)
    assert stats["train/val/test"] == [int(m.sum()) for m in (g.data.train_mask, g.data.val_mask, g.data.test_mask)]
    assert card["modalities"] == {k: f"{v.start}:{v.stop}" for k, v in g.modalities.items()}


@pytest.mark.slow
def test_cli_random_and_herding_on_amazon_toys(magb_root: Path, tmp_path: Path, capsys) -> None:
    out = tmp_path / "out"
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", SemiSyntheticWarning)
        rc = cli.main(["run", "--methods", "random,herding:embed_epochs=20", "--datasets", "amazon-toys",
                       "--data-root", str(magb_root), "--ratios", "0.01", "--archs", "gcn", "--seeds", "0",
                       "--eval", "epochs=20", "--out", str(out), "--no-progress"])
    assert rc == 0
    import pandas as pd

    rows = pd.read_csv(out / "results.csv")
    assert len(rows) == 2 and set(rows["status"]) == {"ok"}
    assert set(rows["dataset"]) == {"amazon-toys:features=synthetic"}
    assert set(rows["n_syn_nodes"]) == {124}  # round(0.01 * 12,417 training nodes)
    assert "amazon-toys:features=synthetic" in capsys.readouterr().out


def test_zip_member_of_npz_with_pickled_object_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "toys.npz"
    buf = io.BytesIO()
    np.save(buf, np.array([{"a": 1}], dtype=object), allow_pickle=True)
    with zipfile.ZipFile(path, "w") as z:
        z.writestr("edge_index.npy", buf.getvalue())
        z.writestr("y.npy", buf.getvalue())
        z.writestr("num_nodes.npy", buf.getvalue())
    with pytest.raises(GCBenchError) as exc:
        read_magb_graph(path)
    _one_line_error(exc, str(path))
