"""Cora and Citeseer through PyG's own :class:`~torch_geometric.datasets.Planetoid` class, offline.

The raw Planetoid files (``ind.<name>.{x,tx,allx,y,ty,ally,graph,test.index}``) are looked up in the data
root (``--data-root`` or ``GCBENCH_DATA``) in any of these layouts::

    <root>/<Name>/raw/ind.<name>.*     (PyG's own layout)
    <root>/planetoid/ind.<name>.*      (the layout of the shared data folder)
    <root>/ind.<name>.*

Each file is checked against the sha256 in the dataset card (``datasets/<name>.yaml``). PyG then processes
them in a cache folder (``GCBENCH_CACHE``, default ``~/.cache/gcbench``, keyed by the files' checksums)
into which the raw files are copied, so a read-only data root works and nothing is ever downloaded.
Features are row-normalised (``NormalizeFeatures``) as in GCond; the split is the public Planetoid split
(20 labels per class, 500 validation and 1,000 test nodes).
"""

from __future__ import annotations

import hashlib
import os
import shutil
from pathlib import Path

from gcbench.errors import GCBenchError
from gcbench.graph import Graph
from gcbench.resources import dataset_card

NAMES = {"cora": "Cora", "citeseer": "Citeseer"}
PARTS = ("x", "tx", "allx", "y", "ty", "ally", "graph", "test.index")


def sha256_file(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def data_root(explicit: str | os.PathLike | None = None) -> Path | None:
    root = explicit if explicit is not None else os.environ.get("GCBENCH_DATA")
    return Path(root).expanduser() if root else None


def cache_root() -> Path:
    return Path(os.environ.get("GCBENCH_CACHE", Path.home() / ".cache" / "gcbench")).expanduser()


def find_raw_files(name: str, root: Path | None) -> dict[str, Path]:
    """Locate and verify the eight raw files; one clear error for the first missing or corrupt one."""
    pyg_name = NAMES[name]
    files = [f"ind.{name}.{p}" for p in PARTS]
    if root is None:
        raise GCBenchError(
            f"{name}: no data root given; pass --data-root DIR or set GCBENCH_DATA to a folder holding the "
            f"Planetoid files ({files[0]}, ...) in DIR/{pyg_name}/raw/, DIR/planetoid/ or DIR/"
        )
    dirs = [root / pyg_name / "raw", root / "planetoid", root]
    checksums = dataset_card(name).get("files", {})
    found: dict[str, Path] = {}
    for fname in files:
        path = next((d / fname for d in dirs if (d / fname).is_file()), None)
        if path is None:
            raise GCBenchError(
                f"{name}: missing raw file {fname}; put the Planetoid files in {dirs[0]} or {dirs[1]} "
                f"(data root {root})"
            )
        want = checksums.get(fname)
        if want and sha256_file(path) != want:
            raise GCBenchError(f"{name}: checksum mismatch for {path} (expected sha256 {want[:12]}...)")
        found[fname] = path
    return found


def load_planetoid(name: str, data_root_dir: str | os.PathLike | None = None) -> Graph:
    import torch
    import torch_geometric.transforms as T
    from torch_geometric.datasets import Planetoid

    name = name.lower()
    raw = find_raw_files(name, data_root(data_root_dir))
    digest = hashlib.sha256("".join(sha256_file(p) for p in raw.values()).encode()).hexdigest()
    work = cache_root() / "planetoid" / digest[:16]
    raw_dir = work / NAMES[name] / "raw"
    raw_dir.mkdir(parents=True, exist_ok=True)
    for fname, src in raw.items():
        dst = raw_dir / fname
        if not dst.is_file() or dst.stat().st_size != src.stat().st_size:
            tmp = dst.with_suffix(dst.suffix + f".tmp{os.getpid()}")
            shutil.copyfile(src, tmp)
            os.replace(tmp, dst)
    try:
        ds = Planetoid(str(work), NAMES[name], split="public", transform=T.NormalizeFeatures())
        data = ds[0]
    except Exception as exc:  # unreadable pickles and the like
        raise GCBenchError(f"{name}: could not read the Planetoid files in {raw_dir}: {exc}") from None
    data = data.__class__(
        x=data.x.float(), edge_index=data.edge_index, y=data.y.long(),
        train_mask=data.train_mask, val_mask=data.val_mask, test_mask=data.test_mask,
    )
    card = dataset_card(name)
    return Graph(
        name=name,
        data=data,
        modalities={"text": slice(0, data.x.size(1))},
        setting="transductive",
        metric="accuracy",
        sha=digest,
        info={"source": card.get("source", "Planetoid"), "torch": torch.__version__},
    )
