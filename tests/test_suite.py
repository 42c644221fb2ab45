"""Suite files: parsing, validation, bad input on the command line, a tiny suite end to end, the shipped suites."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pandas as pd
import pytest

from gcbench import cli
from gcbench.errors import GCBenchError
from gcbench.results import ResultsStore
from gcbench.suite import load_suite, parse_suite

REPO = Path(__file__).resolve().parents[1]
DS = "synthetic-ecommerce:n_nodes=300:train_frac=0.2"


def write(tmp_path: Path, text: str, name: str = "s.yaml") -> Path:
    p = tmp_path / name
    p.write_text(textwrap.dedent(text), encoding="utf-8")
    return p


def test_single_grid_from_top_level_keys(tmp_path):
    p = write(tmp_path, """
        name: tiny
        description: a test
        methods:
          - random
          - herding:embed_epochs=20
          - {name: gcond, options: {val_every: 2, epochs: 4}}
          - {kcenter: {embed_epochs: 30}}
        datasets: [synthetic-ecommerce, cora]
        ratios: [0.25, 0.5]
        archs: [GCN, sgc]
        seeds: 0-2
        eval: {epochs: 20}
        data_root: data
        device: cpu
    """)
    s = load_suite(p)
    assert s.name == "tiny" and s.description == "a test" and s.device == "cpu"
    assert s.data_root == tmp_path / "data"  # relative to the suite file
    (g,) = s.grids
    assert g.name == "tiny"
    assert g.methods == ["random", "herding:embed_epochs=20", "gcond:epochs=4:val_every=2", "kcenter:embed_epochs=30"]
    assert g.datasets == ["synthetic-ecommerce", "cora"] and g.ratios == [0.25, 0.5]
    assert g.archs == ["gcn", "sgc"] and g.seeds == [0, 1, 2]
    assert s.eval == {"epochs": 20} and s.nas == []
    ((name, grid),) = s.runner_grids()
    assert name == "tiny" and grid.eval_overrides == {"epochs": 20} and grid.seeds == [0, 1, 2]


def test_grids_inherit_top_level_keys_and_nas_expands_methods():
    s = parse_suite({
        "methods": ["random", "whole"], "datasets": ["cora"], "ratios": "0.25,0.5", "archs": "gcn",
        "seeds": [0, 1],
        "grids": [{"name": "main"}, {"name": "x", "ratios": [0.5], "archs": ["mlp", "gcn", "gat"], "seeds": 3}],
        "nas": [{"methods": ["random", "kcenter"], "dataset": "cora", "ratio": 0.5, "configs": 48, "epochs": 50},
                {"method": "herding", "dataset": "cora", "ratio": 0.25, "seed": 2}],
    })
    main, x = s.grids
    assert (main.name, main.ratios, main.archs, main.seeds) == ("main", [0.25, 0.5], ["gcn"], [0, 1])
    assert (x.name, x.methods, x.ratios, x.archs, x.seeds) == ("x", ["random", "whole"], [0.5], ["mlp", "gcn", "gat"],
                                                               [3])
    assert [(n.method, n.ratio, n.seed, n.configs, n.epochs) for n in s.nas] == [
        ("random", 0.5, 0, 48, 50), ("kcenter", 0.5, 0, 48, 50), ("herding", 0.25, 2, None, None)]
    s.validate()  # registries only; no dataset is loaded


@pytest.mark.parametrize("data,match", [
    ({"methods": ["random"], "datasets": ["cora"], "ratios": [0.5], "archs": ["gcn"], "seeds": [0], "sedes": [1]},
     "unknown key(s) 'sedes'"),
    ({"datasets": ["cora"], "ratios": [0.5], "archs": ["gcn"], "seeds": [0]}, "no 'methods'"),
    ({"methods": ["random"], "datasets": ["cora"], "ratios": ["half"], "archs": ["gcn"], "seeds": [0]},
     "bad ratio 'half'"),
    ({"methods": ["random"], "datasets": ["cora"], "ratios": [0.5], "archs": ["gcn"], "seeds": [0.5]},
     "bad seed 0.5"),
    ({"methods": ["random"], "datasets": ["cora"], "ratios": [0.5], "archs": ["gcn"], "seeds": "zero"},
     "bad seed 'zero'"),
    ({"methods": "random", "datasets": ["cora"], "ratios": [0.5], "archs": ["gcn"], "seeds": [0],
      "grids": [{"name": "a", "archz": ["gcn"]}]}, "unknown key(s) 'archz'"),
    ({"methods": [{"name": "random", "opts": {}}], "datasets": ["cora"], "ratios": [0.5], "archs": ["gcn"],
      "seeds": [0]}, "unknown key(s) opts"),
    ({"methods": ["random"], "datasets": ["cora"], "ratios": [0.5], "archs": ["gcn"], "seeds": [0],
      "nas": [{"method": "random", "dataset": "cora"}]}, "'dataset' and 'ratio' are required"),
    ({"methods": ["random"], "datasets": ["cora"], "ratios": [0.5], "archs": ["gcn"], "seeds": [0],
      "nas": [{"method": "random", "dataset": "cora", "ratio": 0.5, "configs": 1}]}, "'configs' must be an integer"),
    ({"methods": ["random"], "datasets": ["cora"], "ratios": [0.5], "archs": ["gcn"], "seeds": [0],
      "eval": [1]}, "'eval' must be a mapping"),
    (["random"], "expected a mapping"),
])
def test_structural_errors(data, match):
    with pytest.raises(GCBenchError) as info:
        parse_suite(data)
    assert match in str(info.value) and "\n" not in str(info.value)


@pytest.mark.parametrize("data,match", [
    ({"methods": ["random", "nosuch"]}, "unknown method 'nosuch'"),
    ({"methods": ["random:foo=1"]}, "has no option 'foo'"),
    ({"datasets": ["coraa"]}, "unknown dataset 'coraa'"),
    ({"archs": ["gcn", "gin"]}, "unknown architecture 'gin'"),
    ({"ratios": [1.5]}, "ratio"),
    ({"eval": {"epochz": 3}}, "unknown evaluation option 'epochz'"),
    ({"nas": [{"method": "whole", "dataset": "cora", "ratio": 0.5}]}, "whole-graph reference"),
    ({"nas": [{"method": "nosuch", "dataset": "cora", "ratio": 0.5}]}, "unknown method 'nosuch'"),
])
def test_validation_errors(data, match):
    base = {"methods": ["random"], "datasets": ["cora"], "ratios": [0.5], "archs": ["gcn"], "seeds": [0]}
    s = parse_suite({**base, **data}, "bad")
    with pytest.raises(GCBenchError) as info:
        s.validate()
    assert match in str(info.value) and "\n" not in str(info.value)


def test_cli_bad_suites_exit_2_with_one_line(tmp_path, capsys):
    def run(*args: str) -> str:
        assert cli.main(["run", *args, "--out", str(tmp_path / "out")]) == 2
        err = capsys.readouterr().err
        assert err.startswith("gcbench: error: ") and len(err.strip().splitlines()) == 1
        return err

    assert "suite file not found: " in run("--suite", str(tmp_path / "missing.yaml"))
    assert "suite file not found: nosuchsuite" in run("--suite", "nosuchsuite")
    p = write(tmp_path, "methods: [random]\ndatasets: [cora]\nratios: [0.5]\narchs: [gcn]\nseeds: [0]\nfoo: 1\n")
    assert "unknown key(s) 'foo'" in run("--suite", str(p))
    p = write(tmp_path, "methods: [random, nosuch]\ndatasets: [cora]\nratios: [0.5]\narchs: [gcn]\nseeds: [0]\n")
    assert "unknown method 'nosuch'" in run("--suite", str(p))
    p = write(tmp_path, "methods: [random\n")
    assert "not valid YAML" in run("--suite", str(p))
    p = write(tmp_path, "methods: [random]\ndatasets: [cora]\nratios: [0.5]\narchs: [gcn]\nseeds: [0]\n")
    assert "--suite cannot be combined with --methods, --seeds" in run("--suite", str(p), "--methods", "random",
                                                                       "--seeds", "1")
    assert not (tmp_path / "out").exists()  # nothing was computed


def test_cli_runs_a_tiny_suite(tmp_path, capsys):
    p = write(tmp_path, f"""
        name: tiny
        methods: [random, whole]
        datasets: ["{DS}"]
        ratios: [0.25, 0.5]
        archs: [gcn]
        seeds: [0, 1]
        eval: {{epochs: 10}}
        grids:
          - name: main
          - name: cross-arch
            ratios: [0.5]
            archs: [gcn, sgc]
        nas:
          - {{method: random, dataset: "{DS}", ratio: 0.5, configs: 3, epochs: 4, eval_every: 2}}
    """)
    out = tmp_path / "out"
    assert cli.main(["run", "--suite", str(p), "--out", str(out), "--no-progress", "--quiet"]) == 0
    err = capsys.readouterr().err
    assert "grid main" in err and "grid cross-arch" in err
    df = ResultsStore(out / "results.csv").frame()
    # main: random 2 ratios x 2 seeds + whole 2 seeds (gcn); cross-arch adds random r=0.5 x 2 seeds + whole x 2 (sgc)
    assert len(df) == 6 + 4 and (df["status"] == "ok").all()
    assert sorted(df[df.arch == "sgc"]["method"]) == ["random", "random", "whole", "whole"]
    nas = pd.read_csv(next((out / "nas").glob("random__*.csv")))
    assert len(nas) == 3 and set(nas["epochs"]) == {4}
    lb = out / "leaderboard"
    assert (lb / "cross_arch.md").is_file() and (lb / "nas.md").is_file()
    # the NAS study reused the condensed graph the grid saved (same config hash: the suite's eval overrides)
    assert len(list((out / "condensed").glob("random__*r0.5__s0__*.pt"))) == 1
    # rerunning the suite computes nothing new
    before = (out / "results.csv").read_bytes()
    assert cli.main(["run", "--suite", str(p), "--out", str(out), "--no-progress", "--quiet"]) == 0
    assert (out / "results.csv").read_bytes() == before


def test_run_suite_is_a_library_call(tmp_path):
    import gcbench

    p = write(tmp_path, f"""
        name: lib
        methods: [random, whole]
        datasets: ["{DS}"]
        ratios: [0.5]
        archs: [gcn]
        seeds: [0]
        eval: {{epochs: 5}}
        device: cpu
    """)
    out, lines = tmp_path / "out", []
    assert gcbench.run_suite(p, out, progress=False, echo=lines.append) == 0
    assert any(line.startswith("suite lib") for line in lines) and "gcbench: grid lib" in lines
    df = ResultsStore(out / "results.csv").frame()
    assert len(df) == 2 and (df["status"] == "ok").all() and set(df["device"]) == {"cpu"}
    assert not (out / "leaderboard").exists()  # writing the leaderboard is the command line's part
    before = (out / "results.csv").read_bytes()
    assert gcbench.run_suite(load_suite(p), out, progress=False) == 0  # a Suite too; done rows are skipped
    assert (out / "results.csv").read_bytes() == before


LANDED = {"random", "herding", "kcenter", "whole", "gcond", "doscond", "sfgc", "srgm", "srgm-plus"}  # landed methods


def test_shipped_suites_are_valid():
    ci = load_suite(REPO / "leaderboards" / "suites" / "ci.yaml")
    methods = {m.split(":", 1)[0] for g in ci.grids for m in g.methods}
    assert LANDED <= methods  # every landed method; reduced variants are their own rows
    assert {"cora", "synthetic-ecommerce"} <= {d.split(":", 1)[0] for g in ci.grids for d in g.datasets}
    assert ci.device == "cpu"  # the committed rows are CPU rows
    assert all(len(g.seeds) == 2 for g in ci.grids)
    assert any(set(g.archs) == {"mlp", "gcn", "sgc", "sage", "gat", "cheb", "appnp"} for g in ci.grids)
    assert {n.method.split(":", 1)[0] for n in ci.nas} == LANDED - {"whole", "srgm-plus"}
    for g in ci.grids:  # SR-GM needs two equal modality blocks: never on the single-block Planetoid graphs
        if any(m.startswith("srgm") for m in g.methods):
            assert all("image_dim=128" in d for d in g.datasets)
    full = load_suite(REPO / "leaderboards" / "suites" / "full.yaml")
    assert LANDED <= {m.split(":", 1)[0] for g in full.grids for m in g.methods}
    for g in full.grids:  # SR-GM needs two equal modality blocks: never on the single-block Planetoid graphs
        if any(m.startswith("srgm") for m in g.methods):
            assert all(d.split(":", 1)[0] not in ("cora", "citeseer") and "image_dim=128" in d for d in g.datasets)
    assert all(g.seeds == list(range(10)) for g in full.grids)
    assert {a for g in full.grids for a in g.archs} == {"mlp", "gcn", "sgc", "sage", "gat", "cheb", "appnp"}
    assert all(n.configs is None for n in full.nas)  # the whole search space
