"""A reader for DGL's ``dgl.save_graphs`` binary format (version 2), in numpy only: no DGL install needed.

MAGB ships its graphs as such files (``<Name>/<Name>Graph.pt``, despite the ``.pt`` suffix they are not
``torch.save`` files). The layout below was read from DGL's public serializer source
(``src/graph/serialize/heterograph_serialize.cc`` and the ``Save`` methods it calls); this module is an
independent reader of that layout. All integers are little-endian; ``vec<T>`` is a ``u64`` count followed by
the elements, ``str`` is a ``u64`` byte length followed by the bytes, ``bool`` is one byte::

    file      := header (4096 bytes: u64 magic 0xDD2E4FF046B4A13F, u64 version = 2, u64 graph type = 2
                 (heterograph), u64 number of graphs, the rest unused)
                 u64 offset of the first graph; vec<(str, NDArray)> graph labels;
                 graph * number of graphs; str holding vec<u64> (the offset of each graph);
                 u64 byte size of that vector
    graph     := HeteroGraph; vec<vec<(str, NDArray)>> node data per node type;
                 vec<vec<(str, NDArray)>> edge data per edge type; vec<str> node types; vec<str> edge types
    HeteroGraph := u64 magic 0xDD589FBE35224ABF; ImmutableGraph metagraph; vec<UnitGraph> one per edge
                 type; vec<i64> number of nodes per node type
    ImmutableGraph := u64 magic 0xDD3C5FFE20046ABF; CSRMatrix (out-edges)
    UnitGraph := u64 magic 0xDD2E60F0F6B4A127; i64 saved formats; i64 allowed formats (both as
                 ``code | 1 << 32``, code bits 1 = COO, 2 = CSR, 4 = CSC; without bit 32 a single format
                 1/2/3); then, for each saved format in the order COO, CSR, CSC: ImmutableGraph metagraph
                 of the relation and COOMatrix / CSRMatrix (out-edges) / CSRMatrix (in-edges)
    COOMatrix := u64 magic 0xDD61FFD305DFF127; i64 num_cols; i64 num_rows; NDArray row; NDArray col;
                 NDArray data (edge ids, empty = 0..E-1); bool row_sorted; bool col_sorted
    CSRMatrix := u64 magic 0xDD6CD31205DFF127; i64 num_cols; i64 num_rows; NDArray indptr;
                 NDArray indices; NDArray data (edge ids, empty = 0..E-1); bool sorted
    NDArray   := u64 magic 0xDD5E40F096B4A13F; u64 reserved; i32 device type (1 = CPU); i32 device id;
                 i32 ndim; u8 type code (0 int, 1 uint, 2 float, 4 bfloat); u8 bits; u16 lanes;
                 i64 * ndim shape; i64 byte size; the bytes (C order)

The metagraph's CSR has one entry per edge type: row = source node type, column = destination node type,
data = edge type id. Edges come back in DGL's edge-id order whichever sparse format was saved.

Every read is bounds-checked, so a truncated file, a foreign file (a ``torch.save`` zip, a pickle, ...) or
inconsistent contents raise one :class:`~gcbench.errors.GCBenchError` that names the file and says what was
wrong where. The file is memory-mapped: arrays are zero-copy views of the mapping (read-only) until a caller
converts them, so reading a large graph does not hold a second copy of its bytes.
"""

from __future__ import annotations

import os
import struct
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from gcbench.errors import GCBenchError

FILE_MAGIC = 0xDD2E4FF046B4A13F
HETEROGRAPH_MAGIC = 0xDD589FBE35224ABF
IMMUTABLE_GRAPH_MAGIC = 0xDD3C5FFE20046ABF
UNIT_GRAPH_MAGIC = 0xDD2E60F0F6B4A127
COO_MAGIC = 0xDD61FFD305DFF127
CSR_MAGIC = 0xDD6CD31205DFF127
NDARRAY_MAGIC = 0xDD5E40F096B4A13F
HEADER_BYTES = 4096
SUPPORTED_VERSION = 2
HETEROGRAPH_TYPE = 2
COO, CSR, CSC = 1, 2, 4

# (type code, bits) -> numpy dtype; bfloat16 (code 4) is widened to float32 after reading
_DTYPES = {
    (0, 8): np.int8, (0, 16): np.int16, (0, 32): np.int32, (0, 64): np.int64,
    (1, 8): np.uint8, (1, 16): np.uint16, (1, 32): np.uint32, (1, 64): np.uint64,
    (2, 16): np.float16, (2, 32): np.float32, (2, 64): np.float64,
    (4, 16): np.uint16, (6, 8): np.bool_,
}
_MAX_NDIM = 32


@dataclass
class DGLGraphData:
    """One graph of a DGL file, as numpy arrays.

    ``canonical_etypes[i] = (src_type, etype, dst_type)``; ``edges[cet] = (src, dst)`` in edge-id order
    (integer arrays of the file's id type); ``ndata[ntype][name]`` and ``edata[cet][name]`` are the feature
    tensors (first dimension = number of nodes / edges); ``formats[cet]`` lists the sparse formats stored.
    """

    ntypes: list[str]
    canonical_etypes: list[tuple[str, str, str]]
    num_nodes_per_type: dict[str, int]
    edges: dict[tuple[str, str, str], tuple[np.ndarray, np.ndarray]]
    ndata: dict[str, dict[str, np.ndarray]] = field(default_factory=dict)
    edata: dict[tuple[str, str, str], dict[str, np.ndarray]] = field(default_factory=dict)
    formats: dict[tuple[str, str, str], list[str]] = field(default_factory=dict)

    @property
    def is_homogeneous(self) -> bool:
        return len(self.ntypes) == 1 and len(self.canonical_etypes) == 1

    def homogeneous(self, path: str | os.PathLike = "graph") -> tuple[int, np.ndarray, np.ndarray, dict, dict]:
        """``(num_nodes, src, dst, ndata, edata)`` of a graph with one node and one edge type."""
        if not self.is_homogeneous:
            raise GCBenchError(
                f"{path}: expected a homogeneous graph (one node type, one edge type), found node types "
                f"{self.ntypes} and edge types {self.canonical_etypes}"
            )
        ntype, cet = self.ntypes[0], self.canonical_etypes[0]
        src, dst = self.edges[cet]
        return self.num_nodes_per_type[ntype], src, dst, self.ndata.get(ntype, {}), self.edata.get(cet, {})


class _Cursor:
    """Bounds-checked little-endian reads from a byte buffer; every error names the file and the offset."""

    def __init__(self, buf: np.ndarray, path: Path) -> None:
        self.buf = buf
        self.size = int(buf.size)
        self.pos = 0
        self.path = path

    def fail(self, what: str, at: int | None = None) -> GCBenchError:
        return GCBenchError(f"{self.path}: corrupt DGL file: {what} (at byte {self.pos if at is None else at})")

    def need(self, n: int, what: str) -> None:
        if n < 0 or self.pos + n > self.size:
            raise GCBenchError(
                f"{self.path}: truncated DGL file: {what} needs {n} byte(s) at byte {self.pos}, but the file "
                f"ends at byte {self.size}"
            )

    def _unpack(self, fmt: str, what: str):
        n = struct.calcsize(fmt)
        self.need(n, what)
        vals = struct.unpack_from(fmt, self.buf, self.pos)
        self.pos += n
        return vals

    def u64(self, what: str) -> int:
        return self._unpack("<Q", what)[0]

    def i64(self, what: str) -> int:
        return self._unpack("<q", what)[0]

    def flag(self, what: str) -> bool:
        (v,) = self._unpack("<B", what)
        if v > 1:
            raise self.fail(f"{what} is {v}, expected a boolean byte 0 or 1", self.pos - 1)
        return bool(v)

    def magic(self, expected: int, what: str) -> None:
        at = self.pos
        got = self.u64(f"the magic number of {what}")
        if got != expected:
            raise self.fail(f"expected the magic number of {what} ({expected:#x}), found {got:#x}", at)

    def count(self, what: str, min_item_bytes: int) -> int:
        """A vector length, checked against the bytes left (so garbage cannot ask for billions of items)."""
        at = self.pos
        n = self.u64(f"the length of {what}")
        if n * min_item_bytes > self.size - self.pos:
            left = self.size - self.pos
            raise GCBenchError(
                f"{self.path}: truncated or corrupt DGL file: {what} claims {n} item(s) at byte {at}, but only "
                f"{left} byte(s) follow"
            )
        return n

    def string(self, what: str) -> str:
        n = self.count(what, 1)
        self.need(n, what)
        raw = bytes(self.buf[self.pos : self.pos + n])
        self.pos += n
        try:
            return raw.decode("utf-8")
        except UnicodeDecodeError:
            raise self.fail(f"{what} is not UTF-8 text", self.pos - n) from None

    def strings(self, what: str) -> list[str]:
        return [self.string(f"{what} [{i}]") for i in range(self.count(what, 8))]

    def ndarray(self, what: str) -> np.ndarray:
        self.magic(NDARRAY_MAGIC, f"array {what}")
        self.u64(f"array {what}")  # reserved
        at = self.pos
        device_type, _device_id, ndim, code, bits, lanes = self._unpack("<iiiBBH", f"the header of array {what}")
        if device_type != 1:
            raise self.fail(f"array {what} has device type {device_type}; DGL always saves CPU arrays (1)", at)
        if not 0 <= ndim <= _MAX_NDIM:
            raise self.fail(f"array {what} has {ndim} dimensions", at)
        if lanes != 1 or (code, bits) not in _DTYPES:
            raise self.fail(
                f"array {what} has an unsupported element type (code {code}, {bits} bits, {lanes} lanes)", at
            )
        shape = self._unpack(f"<{ndim}q", f"the shape of array {what}") if ndim else ()
        if any(s < 0 for s in shape):
            raise self.fail(f"array {what} has a negative dimension in shape {shape}", at)
        dtype = np.dtype(_DTYPES[(code, bits)]).newbyteorder("<")
        n_items = int(np.prod(shape, dtype=np.int64)) if ndim else 1
        nbytes = self.i64(f"the byte size of array {what}")
        if nbytes != n_items * dtype.itemsize:
            raise self.fail(
                f"array {what} of shape {tuple(shape)} and {bits}-bit elements declares {nbytes} bytes, expected "
                f"{n_items * dtype.itemsize}"
            )
        self.need(nbytes, f"the data of array {what} ({tuple(shape)})")
        arr = np.frombuffer(self.buf, dtype=dtype, count=n_items, offset=self.pos).reshape(shape)
        self.pos += nbytes
        if code == 4:  # bfloat16: the upper half of a float32
            arr = (arr.astype(np.uint32) << 16).view(np.float32)
        return arr

    def named_arrays(self, what: str) -> dict[str, np.ndarray]:
        out: dict[str, np.ndarray] = {}
        for i in range(self.count(what, 16)):
            name = self.string(f"the name of {what} [{i}]")
            if name in out:
                raise self.fail(f"{what} has the name {name!r} twice")
            out[name] = self.ndarray(f"{what} {name!r}")
        return out


def _index_array(cur: _Cursor, what: str) -> np.ndarray:
    arr = cur.ndarray(what)
    if arr.ndim != 1 or arr.dtype.kind not in "iu":
        raise cur.fail(f"{what} must be a 1-D integer array, got shape {arr.shape} and dtype {arr.dtype}")
    return arr


def _check_ids(cur: _Cursor, ids: np.ndarray, bound: int, what: str) -> None:
    if ids.size and (int(ids.min()) < 0 or int(ids.max()) >= bound):
        raise cur.fail(f"{what} holds ids outside 0..{bound - 1}")


def _edge_ids(cur: _Cursor, data: np.ndarray, n_edges: int, what: str) -> np.ndarray | None:
    """The edge-id permutation stored in a sparse matrix's ``data`` array (``None``: identity)."""
    if data.size == 0:
        return None
    if data.size != n_edges:
        raise cur.fail(f"{what}: {data.size} edge ids for {n_edges} edges")
    _check_ids(cur, data, n_edges, f"{what} edge ids")
    if n_edges and not bool((np.bincount(data.astype(np.int64), minlength=n_edges) == 1).all()):
        raise cur.fail(f"{what}: edge ids are not a permutation of 0..{n_edges - 1}")
    return data


def _matrix_header(cur: _Cursor, magic: int, kind: str, what: str) -> tuple[int, int]:
    """The magic number and ``(num_rows, num_cols)`` that open a COO or CSR matrix (stored cols first)."""
    cur.magic(magic, f"the {kind} matrix of {what}")
    n_cols, n_rows = cur.i64(f"{what} columns"), cur.i64(f"{what} rows")
    if n_cols < 0 or n_rows < 0:
        raise cur.fail(f"{what} has a negative size {n_rows} x {n_cols}")
    return n_rows, n_cols


def _coo(cur: _Cursor, what: str) -> tuple[int, int, np.ndarray, np.ndarray]:
    n_rows, n_cols = _matrix_header(cur, COO_MAGIC, "COO", what)
    row, col = _index_array(cur, f"{what} COO rows"), _index_array(cur, f"{what} COO columns")
    data = _index_array(cur, f"{what} COO edge ids")
    cur.flag(f"{what} row_sorted")
    cur.flag(f"{what} col_sorted")
    if row.size != col.size:
        raise cur.fail(f"{what}: COO rows ({row.size}) and columns ({col.size}) differ in length")
    _check_ids(cur, row, n_rows, f"{what} COO rows")
    _check_ids(cur, col, n_cols, f"{what} COO columns")
    eid = _edge_ids(cur, data, row.size, f"{what} COO")
    if eid is not None:
        src, dst = np.empty_like(row), np.empty_like(col)
        src[eid], dst[eid] = row, col
        row, col = src, dst
    return n_rows, n_cols, row, col


def _csr(cur: _Cursor, what: str) -> tuple[int, int, np.ndarray, np.ndarray]:
    """``(num_rows, num_cols, row, col)`` of a CSR matrix, entries in edge-id order."""
    n_rows, n_cols = _matrix_header(cur, CSR_MAGIC, "CSR", what)
    indptr, indices = _index_array(cur, f"{what} indptr"), _index_array(cur, f"{what} indices")
    data = _index_array(cur, f"{what} edge ids")
    cur.flag(f"{what} sorted")
    if indptr.size != n_rows + 1:
        raise cur.fail(f"{what}: indptr has {indptr.size} entries for {n_rows} rows")
    ptr = indptr.astype(np.int64)
    if ptr[0] != 0 or ptr[-1] != indices.size or bool((np.diff(ptr) < 0).any()):
        raise cur.fail(f"{what}: indptr is not a non-decreasing offset array from 0 to {indices.size}")
    _check_ids(cur, indices, n_cols, f"{what} indices")
    row = np.repeat(np.arange(n_rows, dtype=indices.dtype), np.diff(ptr))
    col = indices
    eid = _edge_ids(cur, data, indices.size, what)
    if eid is not None:
        r, c = np.empty_like(row), np.empty_like(col)
        r[eid], c[eid] = row, col
        row, col = r, c
    return n_rows, n_cols, row, col


def _immutable_graph(cur: _Cursor, what: str) -> tuple[int, int, np.ndarray, np.ndarray]:
    cur.magic(IMMUTABLE_GRAPH_MAGIC, what)
    return _csr(cur, what)


def _format_code(code: int) -> int:
    """A saved-format field: ``code | 1 << 32`` holds format bits; older files hold one SparseFormat (1/2/3)."""
    if code >> 32:
        return code & 0xFFFFFFFF
    return {1: COO, 2: CSR, 3: CSC}.get(code, 0)


def _unit_graph(cur: _Cursor, what: str) -> tuple[int, int, np.ndarray, np.ndarray, list[str]]:
    """``(num_src, num_dst, src, dst, formats)`` of one relation, edges in edge-id order."""
    cur.magic(UNIT_GRAPH_MAGIC, what)
    at = cur.pos
    saved = _format_code(cur.i64(f"the saved formats of {what}"))
    cur.i64(f"the allowed formats of {what}")
    if saved & 0x7 == 0 or saved & ~0x7:
        raise cur.fail(f"{what} declares no known sparse format (code {saved:#x})", at)
    found: list[tuple[str, tuple[int, int, np.ndarray, np.ndarray]]] = []
    if saved & COO:
        _immutable_graph(cur, f"the metagraph of {what} (COO)")
        found.append(("coo", _coo(cur, f"{what} (COO)")))
    if saved & CSR:
        _immutable_graph(cur, f"the metagraph of {what} (CSR)")
        found.append(("csr", _csr(cur, f"{what} (CSR)")))
    if saved & CSC:
        _immutable_graph(cur, f"the metagraph of {what} (CSC)")
        n_dst, n_src, dst, src = _csr(cur, f"{what} (CSC)")
        found.append(("csc", (n_src, n_dst, src, dst)))
    # COO first (no expansion needed); the others must agree on the shape and the edge count
    n_src, n_dst, src, dst = found[0][1]
    for fmt, (a, b, s, _) in found[1:]:
        if (a, b, s.size) != (n_src, n_dst, src.size):
            raise cur.fail(f"{what}: its {fmt} and {found[0][0]} matrices disagree on shape or edge count")
    return n_src, n_dst, src, dst, [f for f, _ in found]


def _graph(cur: _Cursor, gi: int) -> DGLGraphData:
    g = f"graph {gi}"
    cur.magic(HETEROGRAPH_MAGIC, f"{g}")
    n_types, n_types_c, mrow, mcol = _immutable_graph(cur, f"the metagraph of {g}")
    if n_types != n_types_c:
        raise cur.fail(f"the metagraph of {g} is {n_types} x {n_types_c}, not square")
    n_rel = cur.count(f"the relations of {g}", 8)
    if n_rel != mrow.size:
        raise cur.fail(f"{g} has {n_rel} relation graphs but its metagraph has {mrow.size} edge types")
    relations = [_unit_graph(cur, f"relation {r} of {g}") for r in range(n_rel)]
    n_nodes = cur.count(f"the node counts of {g}", 8)
    cur.need(8 * n_nodes, f"the node counts of {g}")
    counts = [int(c) for c in np.frombuffer(cur.buf, dtype="<i8", count=n_nodes, offset=cur.pos)]
    cur.pos += 8 * n_nodes
    if n_nodes != n_types or any(c < 0 for c in counts):
        raise cur.fail(f"{g} lists node counts {counts} for {n_types} node type(s)")
    ndata = [cur.named_arrays(f"node data of node type {t} of {g}") for t in range(cur.count(f"node data of {g}", 8))]
    edata = [cur.named_arrays(f"edge data of edge type {e} of {g}") for e in range(cur.count(f"edge data of {g}", 8))]
    ntypes, etypes = cur.strings(f"the node type names of {g}"), cur.strings(f"the edge type names of {g}")
    if len(ntypes) != n_types or len(etypes) != n_rel or len(ndata) != n_types or len(edata) != n_rel:
        raise cur.fail(
            f"{g}: {n_types} node type(s) and {n_rel} edge type(s), but {len(ntypes)} node type name(s), "
            f"{len(etypes)} edge type name(s), node data for {len(ndata)} and edge data for {len(edata)}"
        )
    # the metagraph's CSR stores the edge type ids as its data, so _csr returned its entries in edge-type
    # order: entry e is (source node type, destination node type) of edge type e
    cets = [(ntypes[int(mrow[e])], etypes[e], ntypes[int(mcol[e])]) for e in range(n_rel)]
    data = DGLGraphData(ntypes=ntypes, canonical_etypes=cets, num_nodes_per_type=dict(zip(ntypes, counts)), edges={})
    for e, (n_src, n_dst, src, dst, fmts) in enumerate(relations):
        cet = cets[e]
        if (n_src, n_dst) != (counts[int(mrow[e])], counts[int(mcol[e])]):
            raise cur.fail(
                f"{g}: relation {cet} is {n_src} x {n_dst} but its node types have {counts[int(mrow[e])]} and "
                f"{counts[int(mcol[e])]} nodes"
            )
        data.edges[cet] = (src, dst)
        data.formats[cet] = fmts
        for name, arr in edata[e].items():
            if arr.ndim == 0 or arr.shape[0] != src.size:
                raise cur.fail(f"{g}: edge data {name!r} of {cet} has shape {arr.shape} for {src.size} edges")
        data.edata[cet] = edata[e]
    for t, nt in enumerate(ntypes):
        for name, arr in ndata[t].items():
            if arr.ndim == 0 or arr.shape[0] != counts[t]:
                raise cur.fail(f"{g}: node data {name!r} of {nt!r} has shape {arr.shape} for {counts[t]} nodes")
        data.ndata[nt] = ndata[t]
    return data


def _open(path: Path) -> np.ndarray:
    if not path.is_file():
        raise GCBenchError(f"{path}: file not found")
    size = path.stat().st_size
    if size == 0:
        raise GCBenchError(f"{path}: empty file, not a DGL save_graphs file")
    try:
        return np.memmap(path, dtype=np.uint8, mode="r")
    except (OSError, ValueError) as exc:
        raise GCBenchError(f"{path}: cannot read: {exc}") from None


def read_dgl_graphs(path: str | os.PathLike) -> tuple[list[DGLGraphData], dict[str, np.ndarray]]:
    """All graphs and the graph-label dict of a ``dgl.save_graphs`` file (format version 2)."""
    path = Path(path)
    cur = _Cursor(_open(path), path)
    head = bytes(cur.buf[:8])
    if head[:4] == b"PK\x03\x04":
        raise GCBenchError(f"{path}: not a DGL save_graphs file: it is a zip archive (a torch.save file?)")
    if head[:1] == b"\x80":
        raise GCBenchError(f"{path}: not a DGL save_graphs file: it is a Python pickle")
    if cur.size >= 8 and struct.unpack_from("<Q", cur.buf, 0)[0] != FILE_MAGIC:
        raise GCBenchError(
            f"{path}: not a DGL save_graphs file: it does not start with DGL's magic number {FILE_MAGIC:#x}"
        )
    magic, version, gtype, n_graphs = (cur.u64(f"the file header ({HEADER_BYTES} bytes)") for _ in range(4))
    del magic
    if version != SUPPORTED_VERSION:
        raise GCBenchError(
            f"{path}: DGL file format version {version} is not supported (this reader reads version "
            f"{SUPPORTED_VERSION}, written by DGL >= 0.5); load it with DGL and save it again"
        )
    if gtype != HETEROGRAPH_TYPE:
        raise cur.fail(f"graph type {gtype} in a version-2 file (expected {HETEROGRAPH_TYPE}, heterograph)", 16)
    cur.need(HEADER_BYTES - cur.pos, "the file header")
    cur.pos = HEADER_BYTES
    start = cur.u64("the offset of the first graph")
    labels = cur.named_arrays("the graph labels")
    if cur.pos != start:
        raise cur.fail(f"the graph labels end at byte {cur.pos} but the header says graphs start at byte {start}")
    if n_graphs * 8 > cur.size - cur.pos:
        raise cur.fail(f"the header claims {n_graphs} graphs", 24)
    offsets, graphs = [], []
    for gi in range(n_graphs):
        offsets.append(cur.pos)
        graphs.append(_graph(cur, gi))
    tail_at = cur.pos
    blob_bytes = cur.count("the graph offset table", 1)
    n_idx = cur.count("the graph offset table", 8)
    cur.need(8 * n_idx, "the graph offset table")
    table = np.frombuffer(cur.buf, dtype="<u8", count=n_idx, offset=cur.pos).tolist()
    cur.pos += 8 * n_idx
    table_bytes = cur.u64("the size of the graph offset table")
    if table != offsets or not table_bytes == blob_bytes == 8 + 8 * n_idx:
        raise cur.fail("the graph offset table at the end does not match the graphs read", tail_at)
    if cur.pos != cur.size:
        raise cur.fail(f"{cur.size - cur.pos} unexpected byte(s) after the last table")
    for name, arr in labels.items():
        if arr.ndim == 0 or arr.shape[0] != n_graphs:
            raise cur.fail(f"graph label {name!r} has shape {arr.shape} for {n_graphs} graph(s)")
    return graphs, labels


def read_dgl_graph(path: str | os.PathLike) -> DGLGraphData:
    """The single graph of a ``dgl.save_graphs`` file (an error if it holds several or none)."""
    graphs, _ = read_dgl_graphs(path)
    if len(graphs) != 1:
        raise GCBenchError(f"{path}: expected one graph, the file holds {len(graphs)}")
    return graphs[0]
