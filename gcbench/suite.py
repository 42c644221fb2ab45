"""Benchmark suites as files: ``leaderboards/suites/<name>.yaml``.

A suite names what to run: method variants (with options), datasets, ratios, evaluation architectures,
seeds, the evaluation overrides every grid shares, and optionally NAS studies on the condensed graphs::

    name: ci
    description: what the suite is for
    methods:                          # spec strings, or {name: gcond, options: {epochs: 60}}
      - random
      - gcond:epochs=60:val_every=30
    datasets: [synthetic-ecommerce, cora]
    ratios: [0.25, 0.5]
    archs: [gcn]
    seeds: [0, 1]                     # a list, or a string such as "0-9" or "0,1,2"
    eval: {epochs: 300}               # evaluation protocol overrides (optional, shared by all grids)
    data_root: ../../../shared/data   # optional, relative to this file; --data-root / $GCBENCH_DATA win
    device: cpu                       # optional; --device wins
    grids:                            # optional: several grids; a key a grid leaves out comes from the top
      - name: main
      - name: cross-arch
        datasets: [cora]
        ratios: [0.5]
        archs: [mlp, gcn, sgc, sage, gat, cheb, appnp]
    nas:                              # optional NAS studies (see gcbench/nas.py)
      - {methods: [random, gcond:epochs=60:val_every=30], dataset: cora, ratio: 0.5, seed: 0,
         configs: 48, epochs: 100}
    study: my-study.yaml              # optional: the questions study.md answers, a file relative to this
                                      # one or the mapping itself (gcbench/report/study.py; default: the
                                      # SR-GM study, gcbench/report/srgm_study.yaml)

Without ``grids`` the top-level keys form one grid. All grids write into the same ``results.csv``; a cell
that two grids share is computed once (the runner skips done rows and reuses ``OUT/condensed/``), so a
cross-architecture grid that overlaps the main grid only adds the evaluations it needs. A suite with a
``study`` writes it into the results folder as ``study.yaml``; the leaderboard built from the folder answers
its questions.

Everything is validated by :func:`load_suite` before anything runs: a missing file, a key that is not
known, an unknown method, dataset or architecture, a bad ratio or seed raise :class:`GCBenchError` (one
line, exit code 2 on the command line). :func:`run_suite` (also ``gcbench.run_suite``) runs one: what
``gcbench run --suite`` does before it writes the leaderboard.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from gcbench.errors import GCBenchError
from gcbench.report.study import STUDY_FILE, Study, load_study, parse_study
from gcbench.resources import load_yaml
from gcbench.spec import canonical, format_value, parse_seeds, parse_spec, split_list

TOP_KEYS = ("name", "description", "methods", "datasets", "ratios", "archs", "seeds", "eval", "data_root",
            "device", "grids", "nas", "study")
GRID_KEYS = ("name", "methods", "datasets", "ratios", "archs", "seeds")
NAS_KEYS = ("method", "methods", "dataset", "ratio", "seed", "configs", "epochs", "eval_every")


@dataclass
class SuiteGrid:
    name: str
    methods: list[str]
    datasets: list[str]
    ratios: list[float]
    archs: list[str]
    seeds: list[int]


@dataclass
class NASStudy:
    method: str
    dataset: str
    ratio: float
    seed: int = 0
    configs: int | None = None
    epochs: int | None = None
    eval_every: int | None = None


@dataclass
class Suite:
    name: str
    path: Path | None
    description: str = ""
    grids: list[SuiteGrid] = field(default_factory=list)
    eval: dict[str, Any] = field(default_factory=dict)
    nas: list[NASStudy] = field(default_factory=list)
    data_root: Path | None = None
    device: str | None = None
    study: Study | None = None  # the questions of study.md (None: the default SR-GM study)
    study_text: str = ""  # the study as written into the results folder's study.yaml

    def runner_grids(self) -> list[tuple[str, Any]]:
        """``(name, gcbench.runner.Grid)`` per grid, validated (unknown methods etc. raise here)."""
        from gcbench.runner import Grid

        out = []
        for g in self.grids:
            grid = Grid(methods=list(g.methods), datasets=list(g.datasets), ratios=list(g.ratios),
                        archs=list(g.archs), seeds=list(g.seeds), eval_overrides=dict(self.eval))
            try:
                grid.validate()
            except GCBenchError as exc:
                raise GCBenchError(f"{self._where()}grid {g.name!r}: {exc}") from None
            out.append((g.name, grid))
        return out

    def validate(self) -> None:
        """Check every grid and NAS study against the registries (methods, datasets, archs)."""
        from gcbench.condensers.base import MethodSpec
        from gcbench.data import check_dataset_spec

        self.runner_grids()
        for i, study in enumerate(self.nas):
            where = f"{self._where()}nas[{i}]"
            try:
                spec = MethodSpec(study.method)
                check_dataset_spec(study.dataset)
            except GCBenchError as exc:
                raise GCBenchError(f"{where}: {exc}") from None
            if spec.cls.ratio_free:
                raise GCBenchError(f"{where}: {spec.label!r} is the whole-graph reference; NAS needs a condensed graph")

    def _where(self) -> str:
        return f"suite {self.path or self.name}: "

    def expected_groups(self) -> dict[tuple[str, str, str], set[tuple[str, int]]]:
        """Per (method label, dataset, ratio key) that the suite's grids name: the (arch, seed) pairs its
        rows must cover (ratio key ``""`` for a ratio-free method such as ``whole``; labels and datasets
        canonical, as rows carry them)."""
        from gcbench.condensers.base import MethodSpec
        from gcbench.results import ratio_key

        out: dict[tuple[str, str, str], set[tuple[str, int]]] = {}
        for g in self.grids:
            for m in g.methods:
                spec = MethodSpec(m)
                ratios = [None] if spec.cls.ratio_free else g.ratios
                for d in g.datasets:
                    dataset = canonical(*parse_spec(d, "dataset"))
                    for r in ratios:
                        out.setdefault((spec.label, dataset, ratio_key(r)), set()).update(
                            (a, int(s)) for a in g.archs for s in g.seeds)
        return out

    def complete_rows(self, results: Any) -> tuple[Any, list[str]]:
        """The rows of ``results`` (a results frame) in the suite's complete groups, and one line per group
        left out: a (method, dataset, ratio) group is complete when every (arch, seed) pair the suite names
        for it has an ok row; rows of groups the suite does not name are left out too. How a study whose
        run is still going publishes only finished cells (``gcbench leaderboard RUN --publish DEST
        --suite FILE``)."""
        from gcbench.results import ratio_key

        expected = self.expected_groups()
        keys = list(zip(results["method"].astype(str), results["dataset"].astype(str),
                        results["ratio"].map(ratio_key)))
        # A suite dataset that leaves an option open which the loader resolves from the data root
        # (RESOLVED_OPTIONS) is run under the resolved name: each resolved variant is a group of its own,
        # needing what the suite's open group needs, and stands in for it in the list of what is left out.
        stands_for: dict[tuple[str, str, str], tuple[str, str, str]] = {}
        for k in set(keys) - set(expected):
            opened = (k[0], open_dataset(k[1]), k[2])
            if opened in expected:
                stands_for[k] = opened
        expected = {**expected, **{k: expected[o] for k, o in stands_for.items()}}
        represented = set(stands_for.values())
        have: dict[tuple[str, str, str], set[tuple[str, int]]] = {}
        for k, a, s, st in zip(keys, results["arch"].astype(str), results["seed"], results["status"]):
            if st == "ok":
                have.setdefault(k, set()).add((a, int(float(s))))
        complete = {k for k, need in expected.items() if need <= have.get(k, set())}
        left = []
        for k in sorted(set(keys) | set(expected)):
            if k in complete or k in represented:
                continue
            m, d, r = k
            where = f"{m} / {d}{f' / r={r}' if r else ''}"
            if k not in expected:
                left.append(f"{where}: not in the suite")
            else:
                got = len(expected[k] & have.get(k, set()))
                left.append(f"{where}: {got} of {len(expected[k])} (arch, seed) rows ok")
        mask = [k in complete for k in keys]
        return results[mask], left

    def complete_nas(self, path: Any) -> str | None:
        """Why the NAS study file ``path`` (``nas/*.csv`` of a results folder) is not one of the suite's
        complete NAS studies (one line), or None when it is: its (method, dataset, ratio, seed) is a study
        the suite names, it holds every configuration of that study's search space at its epochs and
        validation interval, and so does the file of every other seed the suite names for the same
        (method, dataset, ratio), as a results group is complete only with all its seeds. A study still
        running, one whose sibling seeds are, or one the suite does not name, is left out of a
        ``--publish --suite``."""
        from gcbench.condensers.base import MethodSpec
        from gcbench.nas import read_study_files, study_filename

        path = Path(path)
        rows = read_study_files([path])
        if rows.empty:
            return f"{path.name}: no rows"
        first = rows.iloc[0]
        key = (str(first["method"]), str(first["dataset"]), float(first["ratio"]), int(first["seed"]))
        named = [((MethodSpec(st.method).label, canonical(*parse_spec(st.dataset, "dataset")), float(st.ratio),
                   int(st.seed)), st) for st in self.nas]
        opened = (key[0], open_dataset(key[1]), *key[2:])
        mine = next((st for k, st in named if k in (key, opened)), None)
        if mine is None:
            return f"{path.name}: not a NAS study of the suite"
        named = [((k[0], key[1], *k[2:]), st) for k, st in named if k[1] in (key[1], opened[1])]
        why = _nas_gap(mine, rows)
        if why is not None:
            return f"{path.name}: {why}"
        for k, st in named:
            if k[:3] == key[:3] and k != key:
                sibling = path.parent / study_filename(*k)
                got = read_study_files([sibling]) if sibling.is_file() else None
                why = "no rows" if got is None or got.empty else _nas_gap(st, got)
                if why is not None:
                    return f"{path.name}: its group's seed {k[3]} is not complete ({sibling.name}: {why})"
        return None


#: Dataset options that a loader resolves from the data root when a spec leaves them out, and writes into
#: the dataset's name in every row (gcbench/data/__init__.py): an Amazon graph's ``features`` (``clip``
#: when the CLIP files are there, else ``synthetic``) and an mmgraph dataset's ``encoder``. A suite that
#: names ``amazon-toys:image_dim=128`` matches rows of ``amazon-toys:features=synthetic:image_dim=128``.
RESOLVED_OPTIONS = ("features", "encoder")


def open_dataset(dataset: str) -> str:
    """The canonical dataset name ``dataset`` (as rows carry it) without its :data:`RESOLVED_OPTIONS`."""
    name, opts = parse_spec(dataset, "dataset")
    return canonical(name, {k: v for k, v in opts.items() if k not in RESOLVED_OPTIONS})


def _nas_gap(st: NASStudy, rows: Any) -> str | None:
    """What the study rows ``rows`` lack of the NAS study ``st`` (every configuration of its search space at
    its epochs and validation interval), or None."""
    from gcbench.nas import DEFAULT_EPOCHS, DEFAULT_EVAL_EVERY, search_space

    need = {c["config_id"] for c in search_space(st.configs)}
    epochs, every = st.epochs or DEFAULT_EPOCHS, st.eval_every or DEFAULT_EVAL_EVERY
    got = {int(i) for i, e, k in zip(rows["config_id"], rows["epochs"], rows["eval_every"])
           if int(e) == epochs and int(k) == every}
    return None if need <= got else f"{len(need & got)} of {len(need)} configurations"


def _fail(where: str, msg: str) -> GCBenchError:
    return GCBenchError(f"{where}: {msg}")


def _method_list(value: Any, where: str) -> list[str]:
    if isinstance(value, str):
        items: list[Any] = split_list(value)
    elif isinstance(value, list):
        items = value
    else:
        raise _fail(where, f"'methods' must be a list, got {type(value).__name__}")
    out = []
    for item in items:
        if isinstance(item, str):
            name, opts = parse_spec(item, "method")
        elif isinstance(item, dict) and "name" in item:
            extra = set(item) - {"name", "options"}
            if extra:
                raise _fail(where, f"method entry {item!r} has unknown key(s) {', '.join(sorted(map(str, extra)))};"
                                   " known: name, options")
            opts = item.get("options") or {}
            if not isinstance(opts, dict):
                raise _fail(where, f"method {item['name']!r}: 'options' must be a mapping")
            name, typed = parse_spec(str(item["name"]), "method")
            opts = {**typed, **{str(k): v for k, v in opts.items()}}
        elif isinstance(item, dict) and len(item) == 1:  # {gcond: {epochs: 60}}
            (raw, opts), = item.items()
            opts = opts or {}
            if not isinstance(opts, dict):
                raise _fail(where, f"method {raw!r}: options must be a mapping")
            name, typed = parse_spec(str(raw), "method")
            opts = {**typed, **{str(k): v for k, v in opts.items()}}
        else:
            raise _fail(where, f"bad method entry {item!r}: expected 'name:key=value' or {{name: ..., options: ...}}")
        for k, v in opts.items():
            if isinstance(v, (dict, list)):
                raise _fail(where, f"method {name!r}: option {k!r} must be a scalar")
        # round-trip through the canonical spec so the label is exactly what the runner will use
        out.append(canonical(name, {k: v for k, v in opts.items()}) if opts else name)
    if not out:
        raise _fail(where, "'methods' is empty")
    return out


def _str_list(value: Any, key: str, where: str) -> list[str]:
    if isinstance(value, str):
        items = split_list(value)
    elif isinstance(value, list) and all(isinstance(v, (str, int, float)) and not isinstance(v, bool)
                                         for v in value):
        items = [str(v).strip() for v in value]
    else:
        raise _fail(where, f"{key!r} must be a list of names, got {value!r}")
    if not items:
        raise _fail(where, f"{key!r} is empty")
    return items


def _ratios(value: Any, where: str) -> list[float]:
    items = split_list(value) if isinstance(value, str) else value
    if not isinstance(items, list) or not items:
        raise _fail(where, f"'ratios' must be a non-empty list of numbers, got {value!r}")
    out = []
    for v in items:
        if isinstance(v, bool):
            raise _fail(where, f"bad ratio {v!r}: not a number")
        try:
            out.append(float(v))
        except (TypeError, ValueError):
            raise _fail(where, f"bad ratio {v!r}: not a number") from None
    return out


def _seed_list(value: Any, where: str) -> list[int]:
    if isinstance(value, int) and not isinstance(value, bool):
        return [value]
    if isinstance(value, str):
        try:
            out = parse_seeds(value)
        except GCBenchError as exc:
            raise _fail(where, str(exc)) from None
    elif isinstance(value, list):
        out = []
        for v in value:
            if isinstance(v, bool) or not isinstance(v, int):
                raise _fail(where, f"bad seed {v!r}: expected an integer")
            out.append(v)
    else:
        raise _fail(where, f"'seeds' must be a list of integers or a range like 0-9, got {value!r}")
    if not out:
        raise _fail(where, "'seeds' is empty")
    return out


def _grid(data: dict[str, Any], top: dict[str, Any], name: str, where: str) -> SuiteGrid:
    merged = {k: data.get(k, top.get(k)) for k in GRID_KEYS if k != "name"}
    for key in ("methods", "datasets", "ratios", "archs", "seeds"):
        if merged[key] is None:
            raise _fail(where, f"no {key!r} (neither in the grid nor at the top level)")
    return SuiteGrid(
        name=name,
        methods=_method_list(merged["methods"], where),
        datasets=_str_list(merged["datasets"], "datasets", where),
        ratios=_ratios(merged["ratios"], where),
        archs=[a.lower() for a in _str_list(merged["archs"], "archs", where)],
        seeds=_seed_list(merged["seeds"], where),
    )


def _int_option(value: Any, key: str, where: str, minimum: int) -> int | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int) or value < minimum:
        raise _fail(where, f"{key!r} must be an integer >= {minimum}, got {value!r}")
    return value


def _nas(entries: Any, where: str) -> list[NASStudy]:
    if not isinstance(entries, list):
        raise _fail(where, "'nas' must be a list of studies")
    out = []
    for i, entry in enumerate(entries):
        w = f"{where} nas[{i}]"
        if not isinstance(entry, dict):
            raise _fail(w, f"expected a mapping, got {entry!r}")
        unknown = sorted(set(map(str, entry)) - set(NAS_KEYS))
        if unknown:
            raise _fail(w, f"unknown key(s) {', '.join(map(repr, unknown))}; known: {', '.join(NAS_KEYS)}")
        if ("method" in entry) == ("methods" in entry):
            raise _fail(w, "give exactly one of 'method' or 'methods'")
        methods = _method_list([entry["method"]] if "method" in entry else entry["methods"], w)
        if "dataset" not in entry or "ratio" not in entry:
            raise _fail(w, "'dataset' and 'ratio' are required")
        dataset = str(entry["dataset"]).strip()
        (ratio,) = _ratios([entry["ratio"]], w)
        seed = _int_option(entry.get("seed", 0), "seed", w, 0)
        for m in methods:
            out.append(NASStudy(
                method=m, dataset=dataset, ratio=ratio, seed=int(seed or 0),
                configs=_int_option(entry.get("configs"), "configs", w, 2),
                epochs=_int_option(entry.get("epochs"), "epochs", w, 1),
                eval_every=_int_option(entry.get("eval_every"), "eval_every", w, 1),
            ))
    return out


def parse_suite(data: Any, name: str = "suite", path: Path | None = None) -> Suite:
    """A suite from its parsed YAML mapping (structure checks only; :meth:`Suite.validate` does the rest)."""
    where = f"suite {path or name}"
    if not isinstance(data, dict):
        raise _fail(where, "expected a mapping at the top level")
    unknown = sorted(set(map(str, data)) - set(TOP_KEYS))
    if unknown:
        raise _fail(where, f"unknown key(s) {', '.join(map(repr, unknown))}; known: {', '.join(TOP_KEYS)}")
    suite_name = str(data.get("name") or name)
    ev = data.get("eval") or {}
    if not isinstance(ev, dict):
        raise _fail(where, "'eval' must be a mapping of evaluation options")
    for k, v in ev.items():
        if isinstance(v, (dict, list)):
            raise _fail(where, f"eval option {k!r} must be a scalar")
    grids_data = data.get("grids")
    grids: list[SuiteGrid] = []
    if grids_data is None:
        grids.append(_grid({}, data, suite_name, where))
    else:
        if not isinstance(grids_data, list) or not grids_data:
            raise _fail(where, "'grids' must be a non-empty list")
        names = set()
        for i, g in enumerate(grids_data):
            if not isinstance(g, dict):
                raise _fail(where, f"grids[{i}] must be a mapping")
            gname = str(g.get("name") or f"grid{i}")
            w = f"{where} grid {gname!r}"
            bad = sorted(set(map(str, g)) - set(GRID_KEYS))
            if bad:
                raise _fail(w, f"unknown key(s) {', '.join(map(repr, bad))}; known: {', '.join(GRID_KEYS)}")
            if gname in names:
                raise _fail(where, f"two grids are named {gname!r}")
            names.add(gname)
            grids.append(_grid(g, data, gname, w))
    data_root = data.get("data_root")
    if data_root is not None:
        data_root = Path(os.path.expanduser(str(data_root)))
        if not data_root.is_absolute() and path is not None:
            data_root = (path.parent / data_root)
    device = data.get("device")
    study, study_text = _study(data.get("study"), where, path)
    return Suite(
        name=suite_name, path=path, description=str(data.get("description") or "").strip(), grids=grids,
        eval={str(k): v for k, v in ev.items()}, nas=_nas(data.get("nas") or [], where),
        data_root=data_root, device=None if device is None else str(device), study=study, study_text=study_text,
    )


def _study(entry: Any, where: str, path: Path | None) -> tuple[Study | None, str]:
    """The suite's ``study``: a file (relative to the suite file) or the mapping itself; with its YAML text."""
    if entry is None:
        return None, ""
    if isinstance(entry, str):
        p = Path(os.path.expanduser(entry))
        if not p.is_absolute() and path is not None:
            p = path.parent / p
        if not p.is_file():
            raise _fail(where, f"study file not found: {p}")
        return load_study(p), p.read_text(encoding="utf-8")
    if isinstance(entry, dict):
        return parse_study(entry, f"{where} study"), yaml.safe_dump(entry, sort_keys=False, allow_unicode=True)
    raise _fail(where, "'study' must be a study file name or a mapping (title, description, groups, questions)")


def find_suite(ref: str | os.PathLike) -> Path:
    """A suite path as given, or a bare name looked up as ``leaderboards/suites/<name>.yaml``."""
    p = Path(ref)
    if p.is_file():
        return p
    if p.suffix not in (".yaml", ".yml") and len(p.parts) == 1:
        cand = Path("leaderboards") / "suites" / f"{p}.yaml"
        if cand.is_file():
            return cand
    raise GCBenchError(f"suite file not found: {ref}")


def load_suite(ref: str | os.PathLike, validate: bool = True) -> Suite:
    """Read, parse and (by default) validate a suite file (see the module docstring)."""
    path = find_suite(ref)
    suite = parse_suite(load_yaml(path, "suite"), path.stem, path)
    if validate:
        suite.validate()
    return suite


def describe(suite: Suite) -> str:
    """A few lines saying what the suite will run (for the console)."""
    lines = [f"suite {suite.name}" + (f" ({suite.path})" if suite.path else "")]
    for g in suite.grids:
        lines.append(
            f"  grid {g.name}: {len(g.methods)} method(s) x {len(g.datasets)} dataset(s) x {len(g.ratios)} "
            f"ratio(s) x {len(g.archs)} arch(s) x {len(g.seeds)} seed(s)")
    if suite.eval:
        lines.append("  eval: " + ", ".join(f"{k}={format_value(v)}" for k, v in sorted(suite.eval.items())))
    if suite.nas:
        lines.append(f"  nas: {len(suite.nas)} study(ies)")
    if suite.study is not None:
        lines.append(f"  study: {suite.study.title} ({len(suite.study.questions)} question(s))")
    return "\n".join(lines)


def suite_runners(suite: Suite, out: str | os.PathLike, *, device: str | None = None,
                  data_root: str | os.PathLike | None = None, **runner_kw: Any) -> list[tuple[str, Any]]:
    """``(grid name, Runner)`` of every grid of ``suite`` writing into ``out``: ``device`` is the suite's where
    not given, else ``auto``; ``data_root`` is ``$GCBENCH_DATA`` where that is set, else the suite's."""
    from gcbench.runner import Runner

    if data_root is None and not os.environ.get("GCBENCH_DATA"):
        data_root = suite.data_root
    device = device or suite.device or "auto"
    return [(name, Runner(grid, out, device=device, data_root=data_root, **runner_kw))
            for name, grid in suite.runner_grids()]


def run_suite(suite: Suite | str | os.PathLike, out: str | os.PathLike, *, device: str | None = None,
              data_root: str | os.PathLike | None = None, executor: Any = None, progress: bool = True,
              echo: Callable[[str], None] | None = None) -> int:
    """Run ``suite`` (a :class:`Suite`, or a file or name for :func:`load_suite`) into the results folder
    ``out``: every grid, then the NAS studies. Returns the number of rows of this run that failed.

    ``device`` is the suite's where not given, else ``auto``; ``data_root`` is ``$GCBENCH_DATA`` where that is
    set, else the suite's. Every dataset is loaded and every budget checked before anything is computed.
    Rows already in ``out`` are not computed again, so a second call resumes the first. ``executor`` (see
    :mod:`gcbench.executors`; in this process if None) is the caller's to close. ``echo`` gets the progress
    lines; on Ctrl-C it is told what is saved, and the ``KeyboardInterrupt`` goes on to the caller.
    """
    from gcbench.condensers.base import list_condensers
    from gcbench.nas import DEFAULT_EPOCHS, DEFAULT_EVAL_EVERY, run_nas
    from gcbench.util import atomic_write_bytes

    if not isinstance(suite, Suite):
        suite = load_suite(suite)
    say = echo or (lambda s: None)
    if data_root is None and not os.environ.get("GCBENCH_DATA"):
        data_root = suite.data_root
    device = device or suite.device or "auto"
    runners = suite_runners(suite, out, device=device, data_root=data_root, progress=progress, echo=echo,
                            executor=executor)
    for _, runner in runners:  # load every dataset and check every budget before anything is computed
        runner.prepare()
    if suite.study_text:  # the leaderboard of this folder answers the suite's questions
        Path(out).mkdir(parents=True, exist_ok=True)
        atomic_write_bytes(Path(out) / STUDY_FILE, suite.study_text.encode("utf-8"))
    say(describe(suite))
    covered = {m.split(":", 1)[0] for g in suite.grids for m in g.methods}
    missing = sorted(set(list_condensers()) - covered)
    if missing:
        say(f"gcbench: note: registered method(s) not in this suite: {', '.join(missing)}")
    t0 = time.perf_counter()
    for name, runner in runners:
        say(f"gcbench: grid {name}")
        try:
            runner.run()
        except KeyboardInterrupt:
            say(runner.interrupted_message())
            raise
    for study in suite.nas:
        try:
            run_nas(study.method, study.dataset, study.ratio, seed=study.seed, out=out, configs=study.configs,
                    epochs=study.epochs or DEFAULT_EPOCHS, eval_every=study.eval_every or DEFAULT_EVAL_EVERY,
                    device=device, data_root=data_root, eval_overrides=suite.eval, echo=echo)
        except KeyboardInterrupt:
            say(f"gcbench: interrupted during NAS; finished configurations are saved in {Path(out) / 'nas'}; "
                "run the same command again to resume")
            raise
    say(f"gcbench: suite {suite.name} took {time.perf_counter() - t0:.0f} s")
    return sum(runner.n_failed for _, runner in runners)
