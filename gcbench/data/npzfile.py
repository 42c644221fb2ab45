"""Bring your own graph: one ``.npz`` file -> :class:`~gcbench.graph.Graph` (dataset spec ``file:PATH``).

The format (``docs/own-graph.md`` has an example that writes one from a PyG ``Data``):

==================  ===================  =====================================================================
key                 dtype, shape         meaning
==================  ===================  =====================================================================
``edge_index``      integer, ``[2, E]``  edges (``0 <= id < N``); made undirected, duplicates and self-loops
                                         dropped (``E = 0`` is allowed: a graph without edges)
``y``               integer, ``[N]``     class labels ``0..C-1`` (``C = max + 1 >= 2``) for every node; a node
                                         without a label gets any class and stays out of the three masks
``train_mask``      bool, ``[N]``        training nodes (the budget's ratio is a fraction of them)
``val_mask``        bool, ``[N]``        validation nodes (model and checkpoint selection)
``test_mask``       bool, ``[N]``        test nodes (only the reported score); the masks are disjoint and
                                         none is empty
``x_<modality>``    float, ``[N, d_m]``  one feature block per modality (``x_text``, ``x_image``, ...),
                                         concatenated in the order they are stored; all finite
``x``               float, ``[N, d]``    instead of ``x_<modality>``: a unimodal graph
``metric``          string, scalar       optional: ``accuracy`` (default) or ``roc_auc`` (binary tasks)
``setting``         string, scalar       optional: ``transductive`` (default) or ``inductive``
==================  ===================  =====================================================================

Any other key, a missing key, a wrong dtype or shape, a label below 0, an empty or overlapping split, a
NaN or infinite feature is a :class:`~gcbench.errors.GCBenchError` naming the file and the key. Nothing is
unpickled (``allow_pickle=False``). The graph's ``sha`` is the SHA-256 of the file's bytes, and its name is
``file:<stem>@<first 8 hex digits of the sha>``, so rows of two different files (or of a file before and
after an edit) never share a name, and resuming a run never mistakes one for the other.
"""

from __future__ import annotations

import os
import re
import zipfile
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch_geometric.data import Data

from gcbench.data.planetoid import sha256_file
from gcbench.errors import GCBenchError
from gcbench.graph import METRICS, SETTINGS, Graph, make_undirected
from gcbench.util import slug

PREFIX = "file:"
MASKS = ("train_mask", "val_mask", "test_mask")
REQUIRED = ("edge_index", "y", *MASKS)
OPTIONAL = ("metric", "setting")
_MODALITY = re.compile(r"^x_([A-Za-z0-9][A-Za-z0-9_]*)$")


def is_file_spec(spec: str) -> bool:
    return str(spec).strip().lower().startswith(PREFIX)


def file_path(spec: str) -> Path:
    """The path of a ``file:PATH`` spec (everything after ``file:``, so a path may hold ``:`` and ``/``;
    relative paths are relative to the working directory), checked to be an existing file."""
    text = str(spec).strip()[len(PREFIX):].strip()
    if not text:
        raise GCBenchError(f"bad dataset spec {spec!r}: give the .npz file after 'file:', e.g. file:graphs/my.npz")
    path = Path(os.path.expanduser(text))
    if not path.is_file():
        raise GCBenchError(f"dataset {spec!r}: no such file {str(path)!r}")
    return path


def _fail(where: str, key: str, msg: str) -> GCBenchError:
    return GCBenchError(f"{where}: {key!r} {msg}")


def _read(path: Path, where: str) -> dict[str, np.ndarray]:
    try:
        npz = np.load(path, allow_pickle=False)
    except (OSError, ValueError, zipfile.BadZipFile, EOFError) as exc:
        raise GCBenchError(f"{where}: not a readable .npz file ({type(exc).__name__}: {exc})") from None
    if not isinstance(npz, np.lib.npyio.NpzFile):
        raise GCBenchError(f"{where}: a single .npy array, not an .npz archive of named arrays")
    arrays = {}
    with npz:
        for key in npz.files:
            try:
                arrays[key] = npz[key]
            except (OSError, ValueError, zipfile.BadZipFile, EOFError) as exc:
                raise _fail(where, key, f"cannot be read without unpickling or is corrupt ({exc})") from None
    return arrays


def _kind(a: np.ndarray) -> str:
    return f"{a.dtype} {list(a.shape)}"


def _integer(a: np.ndarray, where: str, key: str, shape: str) -> None:
    if not np.issubdtype(a.dtype, np.integer):
        raise _fail(where, key, f"must be an integer array {shape}, got {_kind(a)}")


def _string(arrays: dict[str, np.ndarray], key: str, allowed: tuple[str, ...], default: str, where: str) -> str:
    if key not in arrays:
        return default
    a = arrays[key]
    value = str(a[()]) if a.ndim == 0 and a.dtype.kind == "U" else None
    if value not in allowed:
        got = repr(a.tolist()) if a.ndim == 0 else "an array"
        raise _fail(where, key, f"must be one string of {', '.join(allowed)}, got {got} ({_kind(a)})")
    return value


def load_npz_graph(spec: str) -> Graph:
    """Read and check a ``file:PATH`` dataset (see the module docstring for the format)."""
    path = file_path(spec)
    where = f"dataset file {str(path)!r}"
    sha = sha256_file(path)
    arrays = _read(path, where)

    modal = [(m.group(1), k) for k in arrays if (m := _MODALITY.match(k))]
    unknown = [k for k in arrays if k not in (*REQUIRED, *OPTIONAL, "x") and not _MODALITY.match(k)]
    if unknown:
        raise _fail(where, unknown[0], f"is not a key of the format; keys: {', '.join(REQUIRED)}, x_<modality> "
                                       f"(or x), optional {', '.join(OPTIONAL)}")
    for key in REQUIRED:
        if key not in arrays:
            raise _fail(where, key, "is missing")
    if "x" in arrays and modal:
        raise _fail(where, "x", f"and {', '.join(k for _, k in modal)} both given: use x (one block) or "
                                "x_<modality> arrays, not both")
    if "x" not in arrays and not modal:
        raise _fail(where, "x_<modality>", "is missing: give one float array x_<modality> per modality "
                                           "(e.g. x_text, x_image) or a single x")

    y = arrays["y"]
    _integer(y, where, "y", "[N]")
    if y.ndim != 1 or y.size == 0:
        raise _fail(where, "y", f"must have shape [N] with N >= 1, got {_kind(y)}")
    n = y.shape[0]
    if int(y.min()) < 0:
        raise _fail(where, "y", f"has label {int(y.min())} out of range: labels are 0..C-1 (give unlabelled "
                                "nodes any class and leave them out of the masks)")
    if int(y.max()) < 1:
        raise _fail(where, "y", "has a single class: classification needs labels 0..C-1 with C >= 2")

    masks = {}
    for key in MASKS:
        m = arrays[key]
        if m.dtype != np.bool_:
            raise _fail(where, key, f"must be a bool array [N], got {_kind(m)} (use .astype(bool))")
        if m.shape != (n,):
            raise _fail(where, key, f"must have shape [{n}] (N from y), got {_kind(m)}")
        if not m.any():
            raise _fail(where, key, "is empty: the split needs at least one node")
        masks[key] = m
    for i, a in enumerate(MASKS):
        for b in MASKS[i + 1:]:
            both = int((masks[a] & masks[b]).sum())
            if both:
                raise _fail(where, b, f"overlaps {a} in {both} node(s): the splits must be disjoint")

    ei = arrays["edge_index"]
    _integer(ei, where, "edge_index", "[2, E]")
    if ei.ndim != 2 or ei.shape[0] != 2:
        raise _fail(where, "edge_index", f"must have shape [2, E], got {_kind(ei)}")
    if ei.size and (int(ei.min()) < 0 or int(ei.max()) >= n):
        raise _fail(where, "edge_index", f"refers to node {int(ei.min()) if int(ei.min()) < 0 else int(ei.max())} "
                                         f"outside 0..{n - 1} (N = {n} from y)")

    blocks = [("features", "x")] if "x" in arrays else modal
    feats, modalities, col = [], {}, 0
    for name, key in blocks:
        a = arrays[key]
        if not np.issubdtype(a.dtype, np.floating):
            raise _fail(where, key, f"must be a float array [N, d], got {_kind(a)}")
        if a.ndim != 2 or a.shape[0] != n or a.shape[1] == 0:
            raise _fail(where, key, f"must have shape [{n}, d] with d >= 1 (N from y), got {_kind(a)}")
        bad = ~np.isfinite(a)
        if bad.any():
            row, c = np.argwhere(bad)[0]
            raise _fail(where, key, f"has {int(bad.sum())} non-finite value(s) (NaN or inf), first at [{row}, {c}]")
        feats.append(torch.from_numpy(np.ascontiguousarray(a, dtype=np.float32)))
        modalities[name] = slice(col, col + a.shape[1])
        col += a.shape[1]

    metric = _string(arrays, "metric", METRICS, "accuracy", where)
    setting = _string(arrays, "setting", SETTINGS, "transductive", where)
    if metric == "roc_auc" and int(y.max()) != 1:
        raise _fail(where, "metric", f"roc_auc needs a binary task (labels 0 and 1), y has {int(y.max()) + 1} classes")

    edge_index = make_undirected(torch.from_numpy(ei.astype(np.int64)), n)
    data = Data(x=torch.cat(feats, 1), edge_index=edge_index, y=torch.from_numpy(y.astype(np.int64)),
                **{k: torch.from_numpy(v.copy()) for k, v in masks.items()})
    info: dict[str, Any] = {"path": str(path.resolve()), "file_sha256": sha, "format": "npz",
                            "modalities": {k: v.stop - v.start for k, v in modalities.items()}}
    return Graph(name=file_dataset_name(path, sha), data=data,
                 modalities={} if "x" in arrays else modalities, setting=setting, metric=metric, sha=sha, info=info)


def file_dataset_name(path: Path, sha: str) -> str:
    """``file:<stem>@<sha8>``: readable, and distinct for distinct file contents."""
    stem = slug(path.stem, keep="_.+-") or "graph"
    return f"{PREFIX}{stem}@{sha[:8]}"
