"""Registered MM-GRAPH node-classification datasets (``mmgraph-fashion``, ``mmgraph-goodreads``): loading from
a data root in MM-GRAPH's layout (tiny folders written here), the shared feature scale, clear errors for absent
files, the cards and an end-to-end CLI run."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import torch
from test_mmgraph import F_IMAGE, F_TEXT, C, N, _nc_folder

from gcbench import cli
from gcbench.data import list_datasets, load_dataset
from gcbench.data.magb import FEATURE_NORMALIZATION
from gcbench.data.mmgraph import REGISTERED, missing_files
from gcbench.data.stats import check_feature_scale
from gcbench.errors import GCBenchError
from gcbench.resources import dataset_card


def _root(tmp_path: Path, folder: str = "ele-fashion", **kw) -> Path:
    """A data root holding ``mmgraph/<folder>/`` in MM-GRAPH's layout (4 of the 40 nodes without a label)."""
    root = tmp_path / "data"
    _nc_folder(root / "mmgraph", folder, **kw)
    return root


def _unit_blocks(x: torch.Tensor, text_dim: int) -> np.ndarray:
    a = x.double().numpy()
    t, i = a[:, :text_dim], a[:, text_dim:]
    return np.concatenate([t / np.linalg.norm(t, axis=1, keepdims=True),
                           i / np.linalg.norm(i, axis=1, keepdims=True)], 1)


def _one_line(exc: pytest.ExceptionInfo, *parts: str) -> str:
    msg = str(exc.value)
    assert "\n" not in msg, msg
    for p in parts:
        assert p in msg, msg
    return msg


def test_registered_with_cards() -> None:
    assert {"mmgraph-fashion", "mmgraph-goodreads"} <= set(list_datasets())
    assert REGISTERED == {"mmgraph-fashion": "ele-fashion", "mmgraph-goodreads": "books-nc"}
    for name, folder in REGISTERED.items():
        card = dataset_card(name)
        for key in ("name", "title", "source", "licence", "format", "data_root_layouts", "options", "split",
                    "setting", "metric", "features", "calibration"):
            assert key in card, (name, key)
        assert card["name"] == name and card["setting"] == "transductive" and card["metric"] == "accuracy"
        assert "mm-graph-org/mm-graph" in card["source"] and "2406.16321" in card["source"]
        assert f"<root>/mmgraph/{folder}/" in card["data_root_layouts"]["folder"]
        assert set(card["options"]) == {"encoder", "text_dim"} and card["options"]["encoder"][0] == "clip"
        assert "not measured" in card["calibration"]["not_measured"]


def test_load_fashion_from_the_data_root(tmp_path: Path) -> None:
    root = _root(tmp_path)
    folder = root / "mmgraph" / "ele-fashion"
    g = load_dataset("mmgraph-fashion:encoder=clip", data_root=root)
    assert g.name == "mmgraph-fashion:encoder=clip" and g.num_nodes == N and g.num_classes == C
    assert g.setting == "transductive" and g.metric == "accuracy"
    assert g.modalities == {"text": slice(0, F_TEXT), "image": slice(F_TEXT, F_TEXT + F_IMAGE)}
    # MM-GRAPH's split (train 20, val 10, test 10 node ids) minus the 4 nodes without a label
    split = torch.load(folder / "split.pt")
    labelled = torch.tensor(torch.load(folder / "labels-w-missing.pt")) >= 0
    for key, mask in (("train_idx", g.data.train_mask), ("val_idx", g.data.val_mask), ("test_idx", g.data.test_mask)):
        ids = torch.as_tensor(split[key])
        assert int(mask.sum()) == int(labelled[ids].sum()), key
        assert bool(mask[ids[labelled[ids]]].all()), key
    sizes = [int(m.sum()) for m in (g.data.train_mask, g.data.val_mask, g.data.test_mask)]
    assert sum(sizes) == N - 4 and g.info["stats"]["train/val/test"] == sizes
    # features: the stored clip_feat.pt, each modality block L2-normalised per row (the shared scale)
    raw = torch.load(folder / "clip_feat.pt")
    assert g.x.dtype == torch.float32 and g.x.shape == raw.shape
    np.testing.assert_allclose(g.x.numpy(), _unit_blocks(raw, F_TEXT), rtol=1e-5, atol=1e-6)
    for sl in g.modalities.values():
        assert torch.allclose(g.x[:, sl].norm(dim=1), torch.ones(N), atol=1e-5)
    assert check_feature_scale(g) == []
    assert g.info["feature_normalization"] == FEATURE_NORMALIZATION and g.info["encoder"] == "clip"
    assert torch.equal(torch.load(folder / "clip_feat.pt"), raw)  # the file itself is never written
    # the default encoder is named; text_dim moves the split point and is named when given
    assert load_dataset("mmgraph-fashion", root).name == "mmgraph-fashion:encoder=clip"
    h = load_dataset("mmgraph-fashion:encoder=t5vit:text_dim=3", root)
    assert h.name == "mmgraph-fashion:encoder=t5vit:text_dim=3"
    assert h.modalities == {"text": slice(0, 3), "image": slice(3, 8)}
    np.testing.assert_allclose(h.x.numpy(), _unit_blocks(torch.load(folder / "t5vit_feat.pt"), 3), rtol=1e-5,
                               atol=1e-6)


def test_float16_features_and_zero_rows(tmp_path: Path) -> None:
    root = _root(tmp_path, feat_dtype=torch.float16)
    path = root / "mmgraph" / "ele-fashion" / "clip_feat.pt"
    feat = torch.load(path)
    feat[0, :F_TEXT] = 0  # a node without a text embedding: its row stays zero
    torch.save(feat, path)
    g = load_dataset("mmgraph-fashion", root)
    assert g.x.dtype == torch.float32 and bool((g.x[0, :F_TEXT] == 0).all())
    assert torch.allclose(g.x[1:, :F_TEXT].norm(dim=1), torch.ones(N - 1), atol=1e-5)
    assert torch.allclose(g.x[:, F_TEXT:].norm(dim=1), torch.ones(N), atol=1e-5)


def test_goodreads_and_other_layouts(tmp_path: Path) -> None:
    root = tmp_path / "data"
    _nc_folder(root / "Multimodal-Graph-Completed-Graph", "books-nc")  # MM-GRAPH README's folder name
    g = load_dataset("mmgraph-goodreads", root)
    assert g.name == "mmgraph-goodreads:encoder=clip" and g.num_nodes == N
    assert "books-nc" in g.info["files"]["features"]


def test_missing_files_are_one_error_naming_them(tmp_path: Path) -> None:
    root = _root(tmp_path)
    folder = root / "mmgraph" / "ele-fashion"
    (folder / "split.pt").unlink()
    with pytest.raises(GCBenchError) as exc:
        load_dataset("mmgraph-fashion", root)
    msg = _one_line(exc, str(folder / "split.pt"), "mm-graph-org/mm-graph", "ele-fashion/")
    assert "clip_feat.pt" not in msg and "labels-w-missing.pt" not in msg  # only what is missing
    with pytest.raises(GCBenchError) as exc:  # the feature file of the chosen encoder
        load_dataset("mmgraph-fashion:encoder=imagebind", root)
    _one_line(exc, str(folder / "imagebind_feat.pt"), str(folder / "split.pt"))
    assert missing_files("mmgraph-fashion", root, "imagebind") == [folder / "split.pt", folder / "imagebind_feat.pt"]
    # no folder at all: every needed file under <root>/mmgraph/books-nc/
    with pytest.raises(GCBenchError) as exc:
        load_dataset("mmgraph-goodreads", root)
    want = [str(root / "mmgraph" / "books-nc" / f) for f in
            ("nc_edges-nodeid.pt", "labels-w-missing.pt", "split.pt", "clip_feat.pt")]
    _one_line(exc, *want, "books-nc/", "mm-graph-org/mm-graph")
    with pytest.raises(GCBenchError) as exc:  # no data root
        load_dataset("mmgraph-fashion", None)
    _one_line(exc, "--data-root", "mmgraph/ele-fashion/", "mm-graph-org/mm-graph")


def test_bad_options(tmp_path: Path) -> None:
    root = _root(tmp_path)
    with pytest.raises(GCBenchError) as exc:
        load_dataset("mmgraph-fashion:encoder=bert", root)
    _one_line(exc, "'encoder'", "'bert'", "clip, imagebind, t5vit, t5dino")
    with pytest.raises(GCBenchError) as exc:  # checked before looking for files
        load_dataset("mmgraph-fashion:encoder=bert", tmp_path / "nowhere")
    _one_line(exc, "'bert'")
    with pytest.raises(GCBenchError) as exc:
        load_dataset("mmgraph-fashion:features=clip", root)
    _one_line(exc, "unknown option", "features")
    with pytest.raises(GCBenchError) as exc:
        load_dataset(f"mmgraph-fashion:text_dim={F_TEXT + F_IMAGE}", root)
    _one_line(exc, "text_dim", "clip_feat.pt")


def test_non_finite_features_name_the_file(tmp_path: Path) -> None:
    root = _root(tmp_path)
    path = root / "mmgraph" / "ele-fashion" / "clip_feat.pt"
    feat = torch.load(path)
    feat[7, 2] = float("nan")
    torch.save(feat, path)
    with pytest.raises(GCBenchError) as exc:
        load_dataset("mmgraph-fashion", root)
    _one_line(exc, str(path), "non-finite", "row 7")


def test_cli_run_end_to_end(tmp_path: Path, capsys) -> None:
    root = _root(tmp_path)
    out = tmp_path / "out"
    rc = cli.main(["run", "--methods", "random", "--datasets", "mmgraph-fashion", "--ratios", "0.5",
                   "--archs", "mlp", "--seeds", "0", "--eval", "epochs=5", "--data-root", str(root),
                   "--out", str(out), "--no-progress", "--quiet"])
    err = capsys.readouterr().err
    assert rc == 0, err
    rows = pd.read_csv(out / "results.csv")
    assert len(rows) == 1 and rows["status"].tolist() == ["ok"]
    assert rows["dataset"].tolist() == ["mmgraph-fashion:encoder=clip"]
    assert 0.0 <= float(rows["test_score"].iloc[0]) <= 1.0
    # absent files: the usual one-line error before any cell runs
    empty = tmp_path / "empty"
    empty.mkdir()
    rc = cli.main(["run", "--methods", "random", "--datasets", "mmgraph-fashion", "--ratios", "0.5",
                   "--archs", "mlp", "--seeds", "0", "--data-root", str(empty), "--out", str(tmp_path / "out2"),
                   "--no-progress", "--quiet"])
    err = capsys.readouterr().err.strip()
    assert rc == 2 and len(err.splitlines()) == 1 and str(empty / "mmgraph" / "ele-fashion" / "split.pt") in err
