"""MAGB's on-disk layout, and the Amazon co-purchase datasets ``amazon-toys`` and ``amazon-grocery``.

**The MAGB layout** (MAGB benchmark, Hugging Face ``Sherirto/MAGB``; the OpenMAG repository keeps the same
graphs under ``Data/``). A dataset ``<Name>`` (``Movies``, ``Toys``, ``Grocery``, ``Reddit-S``, ...) is a
folder with

* ``<Name>Graph.pt``: the graph as a DGL ``save_graphs`` binary (read by :mod:`gcbench.data.dgl_binary`,
  no DGL needed): one node and one edge type, edges directed as stored, node data ``label``;
* ``<Name>.csv``: one row per node (an ``id`` column and the product text, ``text`` or ``title``);
* feature matrices, one ``.npy`` per encoder and modality, ``[N, d]`` float, row ``i`` = node ``i``: MAGB's
  ``TextFeature/``, ``ImageFeature/`` (e.g. ``ImageFeature/<Name>_openai_clip-vit-large-patch14.npy``) and
  OpenMAG's ``text_features/<Name>_text_clip_vit_large_patch14_768d.npy``,
  ``image_features/<Name>_image_clip_vit_large_patch14_768d.npy`` (CLIP ViT-L/14, 768-d each).

Feature files are opened with ``np.load(mmap_mode="r")`` and copied block by block into the one feature
tensor ``x = [text | image]`` (float32), so loading never holds a second full copy of the features in memory.

**The datasets.** ``amazon-toys`` (20,695 products, 18 categories) and ``amazon-grocery`` (17,074 products,
20 categories) are MAGB's Toys and Grocery co-purchase graphs: real topology and real category labels. They
are looked up in the data root (``--data-root``/``GCBENCH_DATA``) in this order, each file checked against
the sha256 in the dataset card (``datasets/<name>.yaml``):

1. the DGL binary ``<Name>Graph.pt`` in ``<root>/<Name>/``, ``<root>/Data/<Name>/``, ``<root>/MAGB/<Name>/``,
   ``<root>/magb/<Name>/``, ``<root>/magb/`` or ``<root>/``;
2. the converted arrays ``toys.npz`` / ``grocery.npz`` (``edge_index``, ``y``, ``num_nodes``, exactly the arrays
   of the DGL file) in ``<root>/magb/`` or ``<root>/``.

The stored edges are directed (co-purchase "also bought" lists). They are **symmetrised**: every edge is kept
in both directions, duplicates merged and self-loops dropped (the models add their own), as MAGB/OpenMAG
do before training (``add_reverse_edges``). Toys: 63,443 stored edges (22 self-loops) -> 56,701 undirected
edges; Grocery: 85,670 (1 self-loop) -> 71,131.

The split is fixed: stratified per class with a seeded shuffle (seed 0, independent of every option),
``max(1, round(0.6 * n_c))`` training, ``round(0.2 * n_c)`` validation and the rest test nodes per class
(MAGB's supervised 60/20/20 ratios), by :func:`gcbench.data.synthetic.stratified_split`. Transductive,
accuracy.

**Features.** The CLIP feature files are not part of the shared data, so without them the datasets are
**semi-synthetic**: real graph and labels, but *generated* text and image blocks from the labels, by the very
generator of ``synthetic-ecommerce`` (:func:`gcbench.data.synthetic.modality_features`: class prototypes,
partner categories 0-1, 2-3, ... by class id, Gaussian noise, cross-modal conflict, every block of unit L2
norm per node like a CLIP embedding; its parameters are those of ``synthetic-ecommerce``, with its defaults
except the noise, :data:`AMAZON_FEATURE_DEFAULTS`, calibrated for these graphs; all can be set in the spec,
e.g. ``amazon-toys:conflict_frac=0.5:seed=1``). The option ``features`` chooses:

* ``features=clip``: the real CLIP ViT-L/14 text and image features of a MAGB/OpenMAG download (an error if
  they are missing). The files are read as shipped: OpenMAG's are the raw outputs of
  ``CLIPModel.get_text_features`` / ``get_image_features`` (``src/utils/pretrained_model.py``), *not*
  normalised, and its node classification loads them unchanged (``src/graph_centric/nc/run_batch.py``).
  gcbench then divides each row of each block by its L2 norm (rows of zeros stay zero; a non-finite value
  is an error naming the file): the normalisation CLIP applies before its cosine similarities, and the one
  feature scale of every registered dataset (:data:`FEATURE_NORMALIZATION`) that the learned methods'
  shared learning rates assume;
* ``features=synthetic``: the generated features, even when CLIP files are there;
* not given: ``clip`` when both CLIP files are found in the data root, else ``synthetic`` (with a warning).

The resolved value always becomes part of the dataset's name (``amazon-toys:features=synthetic``), so result
rows and leaderboards say which features were used and real and generated features never share a cell.
"""

from __future__ import annotations

import hashlib
import os
import warnings
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch import Tensor

from gcbench.data.dgl_binary import read_dgl_graph
from gcbench.data.planetoid import sha256_file
from gcbench.errors import GCBenchError
from gcbench.graph import Graph, make_undirected

#: dataset name -> (MAGB folder name, converted arrays file)
AMAZON = {"amazon-toys": ("Toys", "toys.npz"), "amazon-grocery": ("Grocery", "grocery.npz")}
TRAIN_FRAC, VAL_FRAC, SPLIT_SEED = 0.6, 0.2, 0
FEATURE_CHOICES = ("clip", "synthetic")
#: how every modality block reaches the model (real CLIP files are normalised on load; generated blocks are
#: drawn with unit-norm rows), the one feature scale the learned methods' shared learning rates assume
FEATURE_NORMALIZATION = "L2 per modality block (unit-norm rows)"
#: generated features (features=synthetic): where these differ from synthetic-ecommerce's defaults. With 60 %
#: of the nodes labelled and 18-20 classes the generator's default noise makes the features alone too easy
#: (Toys, whole graph, seed 0: MLP 94.0 against GCN 86.3, the structure only hurts), so the Amazon graphs use
#: noisier blocks, calibrated on the whole-graph MLP/GCN scores (datasets/amazon-toys.yaml, ``calibration``)
AMAZON_FEATURE_DEFAULTS: dict[str, float] = {"text_noise": 4.0, "image_noise": 3.5}

#: where the CLIP feature files of dataset ``{name}`` are looked for, relative to its MAGB folder
CLIP_TEXT_PATTERNS = ("text_features/{name}_text_clip_vit_large_patch14*.npy", "TextFeature/{name}_*clip*.npy")
CLIP_IMAGE_PATTERNS = (
    "image_features/{name}_image_clip_vit_large_patch14*.npy",
    "ImageFeature/{name}_openai_clip-vit-large-patch14*.npy",
)
_COPY_ROWS = 1 << 16  # rows per block when copying memory-mapped features into x


class SemiSyntheticWarning(UserWarning):
    """A real graph was loaded with generated (not real) node features."""


# ----------------------------------------------------------------------------------------------------------
# files


def verify_checksum(path: Path, expected: str | None, what: str) -> None:
    """An error naming ``path`` when its sha256 is not ``expected`` (``None``: nothing on record)."""
    if expected and sha256_file(path) != expected:
        raise GCBenchError(f"{what}: checksum mismatch for {path} (expected sha256 {expected[:12]}...)")


def magb_dirs(root: Path, name: str) -> list[Path]:
    """The folders where MAGB dataset ``name`` (e.g. ``Toys``) may live under a data root."""
    return [root / name, root / "Data" / name, root / "MAGB" / name, root / "magb" / name, root / "magb", root]


def _glob_one(base: Path, patterns: tuple[str, ...], name: str, what: str) -> Path | None:
    for pat in patterns:
        hits = sorted(p for p in base.glob(pat.format(name=name)) if p.is_file())
        if len(hits) > 1:
            raise GCBenchError(
                f"{what}: several files match {base / pat.format(name=name)}: {', '.join(p.name for p in hits)}"
            )
        if hits:
            return hits[0]
    return None


def find_clip_features(dirs: list[Path], name: str) -> tuple[Path | None, Path | None]:
    """The CLIP text and image feature files of MAGB dataset ``name`` in the first folder that has any."""
    for d in dirs:
        if not d.is_dir():
            continue
        text = _glob_one(d, CLIP_TEXT_PATTERNS, name, f"MAGB {name} text features")
        image = _glob_one(d, CLIP_IMAGE_PATTERNS, name, f"MAGB {name} image features")
        if text or image:
            return text, image
    return None, None


# ----------------------------------------------------------------------------------------------------------
# readers


def read_magb_graph(path: str | os.PathLike) -> tuple[int, np.ndarray, np.ndarray]:
    """``(num_nodes, edge_index int64 [2, E] as stored, y int64 [N])`` from ``<Name>Graph.pt`` or a ``.npz``."""
    path = Path(path)
    if path.suffix == ".npz":
        return _read_npz(path)
    n, src, dst, ndata, _ = read_dgl_graph(path).homogeneous(path)
    if "label" not in ndata:
        raise GCBenchError(f"{path}: the graph has no node data 'label' (found: {sorted(ndata) or 'none'})")
    y = ndata["label"]
    if y.ndim != 1 or y.dtype.kind not in "iu":
        raise GCBenchError(f"{path}: node data 'label' must be 1-D integers, got {y.dtype} {y.shape}")
    edge_index = np.stack([src.astype(np.int64, copy=False), dst.astype(np.int64, copy=False)])
    return n, edge_index, y.astype(np.int64)


def _read_npz(path: Path) -> tuple[int, np.ndarray, np.ndarray]:
    if not path.is_file():
        raise GCBenchError(f"{path}: file not found")
    try:
        with np.load(path, allow_pickle=False) as z:
            missing = {"edge_index", "y", "num_nodes"} - set(z.files)
            if missing:
                raise GCBenchError(f"{path}: missing array(s) {sorted(missing)} (found {sorted(z.files)})")
            ei, y, n = z["edge_index"], z["y"], z["num_nodes"]
    except GCBenchError:
        raise
    except Exception as exc:  # zipfile.BadZipFile, ValueError, EOFError, ...
        raise GCBenchError(f"{path}: not a readable .npz file ({type(exc).__name__}: {exc})") from None
    if n.shape != () or n.dtype.kind not in "iu" or int(n) < 0:
        raise GCBenchError(f"{path}: 'num_nodes' must be a non-negative integer scalar, got {n!r}")
    n = int(n)
    if ei.ndim != 2 or ei.shape[0] != 2 or ei.dtype.kind not in "iu":
        raise GCBenchError(f"{path}: 'edge_index' must be integers of shape [2, E], got {ei.dtype} {ei.shape}")
    if y.shape != (n,) or y.dtype.kind not in "iu":
        raise GCBenchError(f"{path}: 'y' must be {n} integers, got {y.dtype} {y.shape}")
    if ei.size and (int(ei.min()) < 0 or int(ei.max()) >= n):
        raise GCBenchError(f"{path}: 'edge_index' refers to nodes outside 0..{n - 1}")
    return n, ei.astype(np.int64, copy=False), y.astype(np.int64, copy=False)


def read_npy_features(path: str | os.PathLike, num_nodes: int | None = None) -> np.ndarray:
    """A ``[N, d]`` float feature matrix from a ``.npy`` file, memory-mapped (nothing is read yet)."""
    path = Path(path)
    if not path.is_file():
        raise GCBenchError(f"{path}: file not found")
    try:
        arr = np.load(path, mmap_mode="r", allow_pickle=False)
    except Exception as exc:  # truncated data, bad header, pickled objects
        raise GCBenchError(f"{path}: not a readable .npy feature file ({type(exc).__name__}: {exc})") from None
    if not isinstance(arr, np.ndarray) or arr.ndim != 2 or arr.dtype.kind != "f":
        raise GCBenchError(f"{path}: expected a 2-D float matrix, got {getattr(arr, 'dtype', type(arr))} "
                           f"{getattr(arr, 'shape', '')}")
    if num_nodes is not None and arr.shape[0] != num_nodes:
        raise GCBenchError(f"{path}: {arr.shape[0]} feature rows for a graph of {num_nodes} nodes")
    return arr


def read_magb_csv(path: str | os.PathLike, num_nodes: int | None = None):
    """The node text table ``<Name>.csv`` as a pandas DataFrame sorted by ``id`` (ids must be 0..N-1)."""
    import pandas as pd

    path = Path(path)
    if not path.is_file():
        raise GCBenchError(f"{path}: file not found")
    try:
        df = pd.read_csv(path)
    except Exception as exc:
        raise GCBenchError(f"{path}: not a readable CSV file ({type(exc).__name__}: {exc})") from None
    if "id" not in df.columns or not ({"text", "title"} & set(df.columns)):
        raise GCBenchError(f"{path}: expected an 'id' column and a 'text' or 'title' column, got {list(df.columns)}")
    ids = pd.to_numeric(df["id"], errors="coerce").to_numpy()
    n = len(df) if num_nodes is None else num_nodes
    if len(df) != n or np.isnan(ids.astype(float)).any() or not np.array_equal(np.sort(ids), np.arange(n)):
        raise GCBenchError(f"{path}: the 'id' column must hold each node id 0..{n - 1} once ({len(df)} rows)")
    return df.sort_values("id", kind="stable").reset_index(drop=True)


def stack_features(blocks: list[np.ndarray], rows: int = _COPY_ROWS, normalize: bool = False,
                   names: list[str] | None = None) -> Tensor:
    """``[b1 | b2 | ...]`` as one float32 tensor, filled block of rows by block of rows from (memory-mapped)
    arrays: the result is the only full copy ever held in memory.

    ``normalize``: divide every row of every block by its L2 norm (rows of zeros stay zero), chunk by chunk
    as it is copied; a block holding a non-finite value is then an error naming ``names[i]`` (the file)."""
    n = blocks[0].shape[0]
    widths = [b.shape[1] for b in blocks]
    names = names or [f"block {i}" for i in range(len(blocks))]
    x = torch.empty(n, sum(widths), dtype=torch.float32)
    xn = x.numpy()
    col = 0
    for b, w, name in zip(blocks, widths, names):
        for start in range(0, n, rows):
            chunk = xn[start : start + rows, col : col + w]
            chunk[...] = b[start : start + rows]  # casts to float32 per block
            if normalize:
                if not np.isfinite(chunk).all():
                    bad = start + int(np.flatnonzero(~np.isfinite(chunk).all(1))[0])
                    raise GCBenchError(f"{name}: non-finite feature values (first in row {bad})")
                norm = np.linalg.norm(chunk, axis=1, keepdims=True)
                norm[norm == 0] = 1.0
                chunk /= norm
        col += w
    return x


@dataclass
class MAGBData:
    """A MAGB dataset as read from disk: topology and labels, and optionally memory-mapped features."""

    name: str
    num_nodes: int
    edge_index: np.ndarray  # int64 [2, E], directed as stored
    y: np.ndarray  # int64 [N]
    text: np.ndarray | None = None  # [N, d_text], memory-mapped
    image: np.ndarray | None = None  # [N, d_image], memory-mapped
    files: dict[str, Path] = field(default_factory=dict)


def read_magb(
    folder: str | os.PathLike,
    name: str | None = None,
    *,
    text_file: str | os.PathLike | None = None,
    image_file: str | os.PathLike | None = None,
    checksums: dict[str, str] | None = None,
) -> MAGBData:
    """Read one MAGB dataset folder ``<folder>`` = ``.../<Name>/``.

    ``text_file``/``image_file`` are feature files (relative to the folder or absolute); by default the CLIP
    ViT-L/14 files are used when present (see ``CLIP_TEXT_PATTERNS``/``CLIP_IMAGE_PATTERNS``), else none.
    ``checksums`` maps file names to expected sha256 sums (a mismatch is an error naming the file).
    """
    folder = Path(folder)
    name = name or folder.name
    graph_path = folder / f"{name}Graph.pt"
    if not graph_path.is_file():
        raise GCBenchError(f"MAGB {name}: missing graph file {graph_path}")
    checksums = checksums or {}
    verify_checksum(graph_path, checksums.get(graph_path.name), f"MAGB {name}")
    n, edge_index, y = read_magb_graph(graph_path)
    files = {"graph": graph_path}
    if text_file is None and image_file is None:
        found_text, found_image = find_clip_features([folder], name)
    else:
        found_text = None if text_file is None else folder / text_file
        found_image = None if image_file is None else folder / image_file
    data = MAGBData(name=name, num_nodes=n, edge_index=edge_index, y=y, files=files)
    for key, path in (("text", found_text), ("image", found_image)):
        if path is not None:
            verify_checksum(path, checksums.get(path.name), f"MAGB {name}")
            setattr(data, key, read_npy_features(path, n))
            files[key] = path
    csv = folder / f"{name}.csv"
    if csv.is_file():
        files["csv"] = csv
    return data


# ----------------------------------------------------------------------------------------------------------
# the amazon-toys / amazon-grocery datasets


def chunked_sha256(*tensors: Tensor, block: int = 1 << 26) -> str:
    """The same digest as :func:`gcbench.graph.tensor_sha256`, hashed from the tensors' memory in blocks of
    ``block`` bytes instead of through a full ``bytes`` copy (which would double the memory of large features)."""
    h = hashlib.sha256()
    for t in tensors:
        t = t.detach().cpu().contiguous()
        h.update(f"{t.dtype}:{tuple(t.shape)};".encode())
        if t.numel():
            flat = t.reshape(-1).view(torch.uint8).numpy()
            for start in range(0, flat.size, block):
                h.update(flat[start : start + block])
    return h.hexdigest()


def _find_topology(dataset: str, root: Path, card: dict) -> Path:
    magb_name, npz_name = AMAZON[dataset]
    checksums = card.get("files") or {}
    candidates = [d / f"{magb_name}Graph.pt" for d in magb_dirs(root, magb_name)]
    candidates += [root / "magb" / npz_name, root / npz_name]
    path = next((p for p in candidates if p.is_file()), None)
    if path is None:
        raise GCBenchError(
            f"{dataset}: no graph file in the data root {root}; expected {magb_name}Graph.pt (MAGB) in "
            f"{root / magb_name} or {root / 'magb'}, or {npz_name} in {root / 'magb'}"
        )
    verify_checksum(path, checksums.get(path.name), dataset)
    return path


def resolve_features(dataset: str, root: Path, features: Any) -> tuple[str, Path | None, Path | None]:
    """``(choice, text_file, image_file)`` for the ``features`` option (``None`` = not given)."""
    if features is not None and features not in FEATURE_CHOICES:
        raise GCBenchError(
            f"{dataset}: option 'features' must be one of {', '.join(FEATURE_CHOICES)}, got {features!r}"
        )
    if features == "synthetic":
        return "synthetic", None, None
    magb_name = AMAZON[dataset][0]
    text, image = find_clip_features(magb_dirs(root, magb_name), magb_name)
    if text and image:
        return "clip", text, image
    looked = ", ".join(str(d) for d in magb_dirs(root, magb_name)[:3])
    if features == "clip" or text or image:
        have = f"found only {text or image}; " if (text or image) else ""
        raise GCBenchError(
            f"{dataset}: features=clip needs the CLIP ViT-L/14 text and image feature files of MAGB {magb_name} "
            f"({have}looked for {CLIP_TEXT_PATTERNS[0].format(name=magb_name)} and "
            f"{CLIP_IMAGE_PATTERNS[0].format(name=magb_name)} in {looked}); use features=synthetic for "
            "generated features"
        )
    return "synthetic", None, None


def load_amazon(dataset: str, data_root: str | os.PathLike | None = None, **opts: Any) -> Graph:
    """Load ``amazon-toys`` or ``amazon-grocery`` (see the module docstring); ``opts`` are the dataset options."""
    from gcbench.data.planetoid import data_root as resolve_root
    from gcbench.data.synthetic import check_feature_params, modality_features, stratified_split
    from gcbench.resources import dataset_card

    if dataset not in AMAZON:
        raise GCBenchError(f"unknown MAGB dataset {dataset!r}; known: {', '.join(AMAZON)}")
    magb_name, npz_name = AMAZON[dataset]
    root = resolve_root(data_root)
    if root is None:
        raise GCBenchError(
            f"{dataset}: no data root given; pass --data-root DIR or set GCBENCH_DATA to a folder holding "
            f"MAGB's {magb_name}/{magb_name}Graph.pt or magb/{npz_name}"
        )
    opts = dict(opts)
    choice, text_path, image_path = resolve_features(dataset, root, opts.pop("features", None))
    seed = opts.pop("seed", 0)
    if choice == "clip" and (opts or seed != 0):
        raise GCBenchError(
            f"{dataset}: option(s) {sorted(opts) + (['seed'] if seed != 0 else [])} only apply to generated "
            "features (features=synthetic)"
        )
    params = check_feature_params(seed, {**AMAZON_FEATURE_DEFAULTS, **opts}, dataset) if choice == "synthetic" else {}

    card = dataset_card(dataset)
    topo = _find_topology(dataset, root, card)
    n, edge_index_np, y_np = read_magb_graph(topo)
    stats = card.get("stats") or {}
    if stats.get("nodes") and stats["nodes"] != n:
        raise GCBenchError(f"{dataset}: {topo} holds {n} nodes, the card says {stats['nodes']}")
    y = torch.from_numpy(np.ascontiguousarray(y_np))
    n_classes = int(y.max()) + 1
    edge_index = make_undirected(torch.from_numpy(np.ascontiguousarray(edge_index_np)), n)
    train_mask, val_mask, test_mask = stratified_split(
        y, n_classes, TRAIN_FRAC, VAL_FRAC, torch.Generator().manual_seed(SPLIT_SEED)
    )
    extra: dict[str, Tensor] = {}
    files = {"graph": str(topo)}
    if choice == "clip":
        text = read_npy_features(text_path, n)
        image = read_npy_features(image_path, n)
        x = stack_features([text, image], normalize=True, names=[str(text_path), str(image_path)])
        td, idim = text.shape[1], image.shape[1]
        files.update(text=str(text_path), image=str(image_path))
    else:
        gen = torch.Generator().manual_seed(seed)
        x, extra["conflict_mask"], extra["conflict_class"] = modality_features(y, n_classes, gen, **params)
        td, idim = params["text_dim"], params["image_dim"]
        warnings.warn(
            f"{dataset}: SEMI-SYNTHETIC: real {magb_name} co-purchase graph and labels, but GENERATED text/image "
            f"features (no CLIP feature files under {root}); results are reported as {dataset}:features=synthetic",
            SemiSyntheticWarning,
            stacklevel=2,
        )
    from torch_geometric.data import Data

    data = Data(x=x, edge_index=edge_index, y=y, train_mask=train_mask, val_mask=val_mask, test_mask=test_mask,
                **extra)
    n_und = int((edge_index[0] < edge_index[1]).sum())
    info = {
        "source": card.get("source", f"MAGB {magb_name}"),
        "features": choice,
        "semi_synthetic": choice == "synthetic",
        "files": files,
        "feature_seed": seed if choice == "synthetic" else None,
        "feature_params": params,
        "feature_normalization": FEATURE_NORMALIZATION,
        "stats": {
            "nodes": n,
            "stored_edges": int(edge_index_np.shape[1]),
            "self_loops_dropped": int((edge_index_np[0] == edge_index_np[1]).sum()),
            "edges": n_und,
            "classes": n_classes,
            "train/val/test": [int(train_mask.sum()), int(val_mask.sum()), int(test_mask.sum())],
        },
    }
    return Graph(
        name=dataset,
        data=data,
        modalities={"text": slice(0, td), "image": slice(td, td + idim)},
        setting="transductive",
        metric="accuracy",
        sha=chunked_sha256(x, edge_index, y, train_mask, val_mask, test_mask),
        info=info,
    )
