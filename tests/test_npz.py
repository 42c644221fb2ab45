"""Bring your own graph: ``file:PATH.npz`` datasets (gcbench/data/npzfile.py, docs/own-graph.md)."""

from __future__ import annotations

import hashlib
import re
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import torch

from gcbench import cli
from gcbench.data import check_dataset_spec, load_dataset
from gcbench.errors import GCBenchError
from gcbench.results import ResultsStore

REPO = Path(__file__).resolve().parents[1]
N = 60


def arrays(n: int = N, seed: int = 0) -> dict[str, np.ndarray]:
    """A valid small multimodal graph: 3 classes, a ring plus random chords, 10 / 10 / 40 split."""
    rng = np.random.default_rng(seed)
    y = np.arange(n) % 3
    ring = np.stack([np.arange(n), (np.arange(n) + 1) % n])
    chords = rng.integers(0, n, size=(2, n))
    perm = rng.permutation(n)
    masks = {k: np.zeros(n, dtype=bool) for k in ("train_mask", "val_mask", "test_mask")}
    masks["train_mask"][perm[:10]] = masks["val_mask"][perm[10:20]] = masks["test_mask"][perm[20:]] = True
    onehot = np.eye(3)[y]
    return {"edge_index": np.concatenate([ring, chords], 1), "y": y,
            "x_text": np.concatenate([onehot, rng.normal(size=(n, 5))], 1).astype(np.float32),
            "x_image": rng.normal(size=(n, 4)).astype(np.float64), **masks}


def write(tmp_path: Path, a: dict[str, np.ndarray], name: str = "g.npz") -> Path:
    path = tmp_path / name
    with open(path, "wb") as f:  # np.savez would append .npz to a name without it
        np.savez(f, **a)
    return path


def test_valid_file_loads_with_layout_sha_and_name(tmp_path):
    a = arrays()
    path = write(tmp_path, a, "my graph.npz")
    g = load_dataset(f"file:{path}")
    sha = hashlib.sha256(path.read_bytes()).hexdigest()
    assert g.sha == sha and g.name == f"file:my_graph@{sha[:8]}"
    assert g.modalities == {"text": slice(0, 8), "image": slice(8, 12)}
    assert g.x.dtype == torch.float32 and g.num_features == 12 and g.num_nodes == N and g.num_classes == 3
    assert torch.equal(g.x[:, 8:], torch.from_numpy(a["x_image"]).float())
    assert g.metric == "accuracy" and g.setting == "transductive"
    assert torch.equal(g.data.train_mask, torch.from_numpy(a["train_mask"]))
    # undirected, no self-loops, no duplicates; the ring's edges are all there
    ei = g.edge_index
    assert bool((ei[0] != ei[1]).all()) and ei.unique(dim=1).size(1) == ei.size(1)
    pairs = set(map(tuple, ei.t().tolist()))
    assert all((j, i) in pairs for i, j in pairs) and all((i, (i + 1) % N) in pairs for i in range(N))
    assert check_dataset_spec(f"file:{path}") == ("file", {"path": str(path)})


def test_relative_path_unimodal_x_and_optional_keys(tmp_path, monkeypatch):
    a = arrays()
    uni = {k: v for k, v in a.items() if not k.startswith("x_")}
    uni["x"] = a["x_text"]
    uni["setting"], uni["metric"] = np.array("inductive"), np.array("accuracy")
    (tmp_path / "sub").mkdir()
    write(tmp_path / "sub", uni, "uni.npz")
    monkeypatch.chdir(tmp_path)
    g = load_dataset("file:sub/uni.npz")
    assert g.modalities == {"features": slice(0, 8)} and g.setting == "inductive"
    assert g.name.startswith("file:uni@")
    # another content, same stem: another name
    uni["x"] = uni["x"] + 1
    write(tmp_path / "sub", uni, "uni.npz")
    assert load_dataset("file:sub/uni.npz").name != g.name


def _drop(key):
    return lambda a: a.pop(key)


def _set(key, value):
    def edit(a):
        a[key] = value(a) if callable(value) else value
    return edit


def _nan(a):
    a["x_image"][3, 1] = np.nan


def _overlap(a):
    a["test_mask"][np.flatnonzero(a["train_mask"])[0]] = True


MALFORMED = [
    ("missing edge_index", _drop("edge_index"), "edge_index", "is missing"),
    ("missing y", _drop("y"), "y", "is missing"),
    ("missing val_mask", _drop("val_mask"), "val_mask", "is missing"),
    ("no features", lambda a: (a.pop("x_text"), a.pop("x_image")), "x_<modality>", "is missing"),
    ("x and x_text", _set("x", lambda a: a["x_text"]), "x", "not both"),
    ("unknown key", _set("train_msk", lambda a: a["train_mask"]), "train_msk", "not a key of the format"),
    ("edge_index float", _set("edge_index", lambda a: a["edge_index"].astype(np.float32)), "edge_index",
     "integer array"),
    ("edge_index 3 rows", _set("edge_index", lambda a: np.zeros((3, 4), dtype=np.int64)), "edge_index",
     r"shape \[2, E\]"),
    ("edge_index out of range", _set("edge_index", lambda a: np.array([[0], [N]])), "edge_index",
     f"outside 0..{N - 1}"),
    ("y float", _set("y", lambda a: a["y"].astype(np.float64)), "y", "integer array"),
    ("y 2-d", _set("y", lambda a: a["y"].reshape(-1, 1)), "y", r"shape \[N\]"),
    ("label -1", _set("y", lambda a: np.where(np.arange(N) == 5, -1, a["y"])), "y", "out of range"),
    ("one class", _set("y", lambda a: np.zeros(N, dtype=np.int64)), "y", "single class"),
    ("mask int", _set("train_mask", lambda a: a["train_mask"].astype(np.int64)), "train_mask", "bool array"),
    ("mask short", _set("val_mask", lambda a: a["val_mask"][:-1]), "val_mask", rf"shape \[{N}\]"),
    ("empty split", _set("test_mask", lambda a: np.zeros(N, dtype=bool)), "test_mask", "is empty"),
    ("overlap", _overlap, "test_mask", "overlaps train_mask"),
    ("x int", _set("x_image", lambda a: a["x_image"].astype(np.int32)), "x_image", "float array"),
    ("x wrong rows", _set("x_text", lambda a: a["x_text"][:-2]), "x_text", rf"shape \[{N}, d\]"),
    ("x 1-d", _set("x_image", lambda a: a["x_image"][:, 0]), "x_image", rf"shape \[{N}, d\]"),
    ("nan", _nan, "x_image", "non-finite"),
    ("bad metric", _set("metric", np.array("f1")), "metric", "must be one string of accuracy, roc_auc"),
    ("roc_auc multiclass", _set("metric", np.array("roc_auc")), "metric", "binary"),
    ("bad setting", _set("setting", np.array(3)), "setting", "must be one string of"),
]


@pytest.mark.parametrize("case,edit,key,msg", MALFORMED, ids=[c[0] for c in MALFORMED])
def test_malformed_file_is_one_error_naming_the_key(tmp_path, case, edit, key, msg):
    a = arrays()
    edit(a)
    path = write(tmp_path, a)
    check_dataset_spec(f"file:{path}")  # the file exists: the content is checked when it loads
    with pytest.raises(GCBenchError) as info:
        load_dataset(f"file:{path}")
    text = str(info.value)
    assert f"{key!r}" in text and re.search(msg, text) and "\n" not in text and str(path) in text


def test_unreadable_and_missing_files(tmp_path):
    with pytest.raises(GCBenchError, match="no such file"):
        check_dataset_spec(f"file:{tmp_path / 'nope.npz'}")
    with pytest.raises(GCBenchError, match="give the .npz file"):
        check_dataset_spec("file:")
    junk = tmp_path / "junk.npz"
    junk.write_bytes(b"not a zip archive")
    with pytest.raises(GCBenchError, match="not a readable .npz"):
        load_dataset(f"file:{junk}")
    single = tmp_path / "single.npz"
    with open(single, "wb") as f:
        np.save(f, np.zeros(3))
    with pytest.raises(GCBenchError, match="not an .npz archive"):
        load_dataset(f"file:{single}")
    a = arrays()
    a["y"] = np.array([object()] * N, dtype=object)
    with open(tmp_path / "obj.npz", "wb") as f:
        np.savez(f, **a)
    with pytest.raises(GCBenchError, match="'y' cannot be read without unpickling"):
        load_dataset(f"file:{tmp_path / 'obj.npz'}")


def test_cli_errors_before_any_cell(tmp_path, capsys):
    a = arrays()
    a["x_text"][0, 0] = np.inf
    path = write(tmp_path, a)
    out = tmp_path / "out"
    rc = cli.main(["run", "--datasets", f"synthetic-ecommerce:n_nodes=300,file:{path}", "--methods", "random",
                   "--ratios", "0.5", "--archs", "gcn", "--seeds", "0", "--eval", "epochs=5", "--out", str(out),
                   "--no-progress", "--quiet"])
    err = capsys.readouterr().err.strip()
    assert rc == 2 and len(err.splitlines()) == 1 and "'x_text' has 1 non-finite" in err
    assert not (out / "results.csv").exists()  # the synthetic dataset's cells did not run either


def _doc_example() -> str:
    text = (REPO / "docs" / "own-graph.md").read_text()
    blocks = re.findall(r"```python\n(.*?)```", text, flags=re.S)
    assert len(blocks) == 1
    assert len(blocks[0].strip().splitlines()) <= 22  # the promised ~20-line example
    return blocks[0]


def test_doc_example_and_end_to_end_run(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    exec(compile(_doc_example(), "docs/own-graph.md", "exec"), {})
    g = load_dataset("file:mygraph.npz")
    assert g.modalities == {"text": slice(0, 32), "image": slice(32, 48)} and g.num_nodes == 300
    rc = cli.main(["run", "--datasets", "file:mygraph.npz",
                   "--methods", "random,srgm:epochs=2:outer=2:inner=1:val_every=0:select_eval_every=5",
                   "--ratios", "0.5", "--archs", "gcn", "--seeds", "0", "--eval", "epochs=5",
                   "--out", "out", "--no-progress", "--quiet"])
    assert rc == 0, capsys.readouterr().err
    df = ResultsStore(tmp_path / "out" / "results.csv").frame()
    assert len(df) == 2 and set(df["status"]) == {"ok"}
    assert set(df["dataset"]) == {g.name} and set(df["dataset_sha"]) == {g.sha[:16]}
    assert pd.to_numeric(df["test_score"]).between(0, 1).all()
