"""The import graph of ``gcbench/``, read from the source with :mod:`ast`: no cycles, no private names across modules.

Every import counts, function-local ones and ``if TYPE_CHECKING:`` ones included: a cycle kept alive by a
local import is still a cycle in the design. Relative imports are resolved, and an import of a package counts
as an import of its ``__init__.py``; ``from gcbench.data import stats`` is an import of ``gcbench.data.stats``
when that is a module, else of ``gcbench.data``. Imports of the parent packages that Python runs on the way
(``gcbench/__init__.py`` for every ``gcbench.x``) are not counted: they are the price of a package, not a choice.
"""

from __future__ import annotations

import ast
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
PACKAGE = REPO / "gcbench"


@dataclass(frozen=True)
class Edge:
    """``source`` imports ``target`` at ``line``; ``names`` are the names it takes from ``target``."""

    source: str
    target: str
    line: int
    names: tuple[str, ...] = ()


def module_names(root: Path = PACKAGE) -> dict[str, Path]:
    """Dotted module name -> file, for every ``.py`` file under ``root`` (a package's name is its ``__init__``)."""
    out = {}
    for path in sorted(root.rglob("*.py")):
        parts = list(path.relative_to(root.parent).with_suffix("").parts)
        if parts[-1] == "__init__":
            parts.pop()
        out[".".join(parts)] = path
    return out


def _is_package(path: Path) -> bool:
    return path.name == "__init__.py"


def _resolve_relative(module: str, is_package: bool, level: int, name: str | None) -> str:
    base = module.split(".") if is_package else module.split(".")[:-1]
    if level > 1:
        base = base[: len(base) - (level - 1)]
    return ".".join(base + ([name] if name else []))


def imports_in(module: str, source: str, modules: Iterable[str], is_package: bool = False) -> list[Edge]:
    """The edges from ``module`` to the modules of ``modules`` that ``source`` imports, anywhere in the file.

    A private attribute read off an imported module (``from gcbench import plots`` then ``plots._ok``) counts as
    a name taken from it, like ``from gcbench.plots import _ok``.
    """
    known = set(modules)
    tree = ast.parse(source)
    edges = []
    bound: dict[str, str] = {}  # local name -> the module it is bound to
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                target = alias.name
                while target and target not in known:  # `import gcbench.x.y` where only gcbench.x is ours
                    target = target.rpartition(".")[0]
                if target:
                    edges.append(Edge(module, target, node.lineno))
                    if alias.asname:
                        bound[alias.asname] = target
        elif isinstance(node, ast.ImportFrom):
            base = (_resolve_relative(module, is_package, node.level, node.module) if node.level
                    else node.module or "")
            for alias in node.names:
                sub = f"{base}.{alias.name}"
                if sub in known:  # `from gcbench import plots`: the module gcbench.plots
                    edges.append(Edge(module, sub, node.lineno))
                    bound[alias.asname or alias.name] = sub
                elif base in known:
                    edges.append(Edge(module, base, node.lineno, (alias.name,)))
    for node in ast.walk(tree):
        if (isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name) and node.value.id in bound
                and _is_private(node.attr)):
            edges.append(Edge(module, bound[node.value.id], node.lineno, (node.attr,)))
    return edges


def _is_private(name: str) -> bool:
    return name.startswith("_") and not (name.startswith("__") and name.endswith("__"))


def import_graph(root: Path = PACKAGE) -> list[Edge]:
    modules = module_names(root)
    edges = []
    for name, path in modules.items():
        edges += imports_in(name, path.read_text(encoding="utf-8"), modules, _is_package(path))
    return edges


def cyclic_groups(graph: Mapping[str, Iterable[str]]) -> list[list[str]]:
    """The groups of nodes that reach each other (strongly connected components with a cycle), each sorted.

    ``graph`` maps a node to the nodes it points at (Tarjan's algorithm).
    """
    succ = _successors(graph)
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    groups: list[list[str]] = []

    def strongconnect(v: str) -> None:  # recursion depth is at most the module count: small
        index[v] = low[v] = len(index)
        stack.append(v)
        on_stack.add(v)
        for w in succ[v]:
            if w not in index:
                strongconnect(w)
                low[v] = min(low[v], low[w])
            elif w in on_stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            group = []
            while True:
                w = stack.pop()
                on_stack.discard(w)
                group.append(w)
                if w == v:
                    break
            if len(group) > 1 or v in succ[v]:
                groups.append(sorted(group))

    for v in sorted(succ):
        if v not in index:
            strongconnect(v)
    return sorted(groups)


def shortest_cycle(graph: Mapping[str, Iterable[str]], group: list[str]) -> list[str]:
    """A shortest cycle ``[a, b, ..., a]`` through the first node of ``group`` (breadth-first, inside the group)."""
    succ = _successors(graph)
    start, inside = group[0], set(group)
    parent: dict[str, str] = {}
    frontier = [start]
    while frontier:
        nxt = []
        for v in frontier:
            for w in succ[v]:
                if w == start:
                    path = [v]
                    while path[-1] != start:
                        path.append(parent[path[-1]])
                    return [*reversed(path), start]
                if w in inside and w not in parent and w != start:
                    parent[w] = v
                    nxt.append(w)
        frontier = nxt
    raise ValueError(f"no cycle through {start}")


def find_cycles(graph: Mapping[str, Iterable[str]]) -> list[list[str]]:
    """One shortest cycle per group of :func:`cyclic_groups`."""
    return [shortest_cycle(graph, g) for g in cyclic_groups(graph)]


def _successors(graph: Mapping[str, Iterable[str]]) -> dict[str, list[str]]:
    succ = {n: sorted(set(vs)) for n, vs in graph.items()}
    for vs in list(succ.values()):
        for v in vs:
            succ.setdefault(v, [])
    return succ


def describe_cycle(cycle: list[str], edges: Iterable[Edge]) -> str:
    """``a -> b (line N: names) ; b -> a (...)``: the first line of each step and every name it takes."""
    steps = []
    for a, b in zip(cycle, cycle[1:]):
        step = sorted((e for e in edges if (e.source, e.target) == (a, b)), key=lambda e: e.line)
        names = sorted({n for e in step for n in e.names})
        steps.append(f"{a} -> {b} (line {step[0].line}{': ' + ', '.join(names) if names else ''})")
    return " ; ".join(steps)


def private_imports(edges: Iterable[Edge]) -> list[Edge]:
    """Edges that take a private name (``_x``, not a dunder) from another module."""
    return [e for e in edges if e.source != e.target and any(_is_private(n) for n in e.names)]


# ---------------------------------------------------------------------------------------------------------------
# the finder itself: it must be able to fail


def test_cycle_finder_on_a_synthetic_graph():
    assert find_cycles({"a": ["b"], "b": ["c"], "c": []}) == []
    assert find_cycles({"a": ["b"], "b": ["a"]}) == [["a", "b", "a"]]
    assert find_cycles({"a": ["a"]}) == [["a", "a"]]
    # two separate loops, one of them with a chord: the shortest way round is named
    assert find_cycles({"a": ["b"], "b": ["c", "a"], "c": ["a"], "x": ["y"], "y": ["z"], "z": ["x"], "q": ["a"]}) \
        == [["a", "b", "a"], ["x", "y", "z", "x"]]
    assert cyclic_groups({"a": ["b"], "b": ["c", "a"], "c": ["a"], "q": ["a"]}) == [["a", "b", "c"]]


def test_imports_are_resolved_like_python_does():
    mods = ["p", "p.a", "p.b", "p.sub", "p.sub.c"]
    src = ("import os\nimport p.sub.c.d\nfrom . import c\nfrom .c import f, _g\n"
           "def later():\n    from ..b import h\n    from .. import a as aa, x\n")
    got = [(e.target, e.line, e.names) for e in imports_in("p.sub", src, mods, is_package=True)]
    assert got == [("p.sub.c", 2, ()), ("p.sub.c", 3, ()), ("p.sub.c", 4, ("f",)), ("p.sub.c", 4, ("_g",)),
                   ("p.b", 6, ("h",)), ("p.a", 7, ()), ("p", 7, ("x",))]
    plain = imports_in("p.a", "from . import b\nfrom .sub import c\nimport p\n", mods)
    assert [(e.target, e.names) for e in plain] == [("p.b", ()), ("p.sub.c", ()), ("p", ())]


def test_a_cycle_through_a_local_import_is_found_and_named():
    mods = ["p", "p.a", "p.b"]
    sources = {"p.a": "from p import b\n", "p.b": "def f():\n    from .a import g\n"}
    edges = [e for m, s in sources.items() for e in imports_in(m, s, mods)]
    cycles = find_cycles({m: [e.target for e in edges if e.source == m] for m in mods})
    assert cycles == [["p.a", "p.b", "p.a"]]
    assert describe_cycle(cycles[0], edges) == "p.a -> p.b (line 1) ; p.b -> p.a (line 2: g)"


def test_private_names_are_found():
    mods = ["p", "p.a", "p.b"]
    assert private_imports(imports_in("p.a", "from .b import f, __all__\n_x = 1\n", mods)) == []
    assert private_imports(imports_in("p.a", "from .b import f, _g\n", mods)) == [Edge("p.a", "p.b", 1, ("_g",))]
    assert private_imports(imports_in("p.a", "from p import b\nb._g()\n", mods)) == [Edge("p.a", "p.b", 2, ("_g",))]


# ---------------------------------------------------------------------------------------------------------------
# the package


@pytest.fixture(scope="module")
def edges() -> list[Edge]:
    return import_graph()


def test_the_graph_is_read(edges):
    modules = module_names()
    assert {"gcbench", "gcbench.cli", "gcbench.data", "gcbench.data.stats", "gcbench.models"} <= set(modules)
    pairs = {(e.source, e.target) for e in edges}
    assert ("gcbench.cli", "gcbench.errors") in pairs  # a top-level import
    assert ("gcbench.cli", "gcbench.report.figures") in pairs  # a function-local one
    assert ("gcbench.runner", "gcbench.data") in pairs  # an import of a package is one of its __init__


def test_no_import_cycles(edges):
    graph = {m: [e.target for e in edges if e.source == m] for m in module_names()}
    groups = cyclic_groups(graph)
    assert not groups, "import cycle(s) in gcbench/:\n" + "\n".join(
        f"{', '.join(g)} import each other, e.g. {describe_cycle(shortest_cycle(graph, g), edges)}" for g in groups)


#: (importer, module, name): private imports left alone on purpose, each with why. An entry that no longer
#: matches an import fails the test below: delete it.
LEFT_ALONE: dict[tuple[str, str, str], str] = {}


def test_no_private_names_across_modules(edges):
    taken = {(e.source, e.target, n): e.line for e in private_imports(edges) for n in e.names if _is_private(n)}
    bad = sorted(set(taken) - set(LEFT_ALONE))
    assert not bad, "private names imported from another gcbench module:\n" + "\n".join(
        f"{source} line {taken[source, target, name]}: {name} from {target}" for source, target, name in bad)
    stale = sorted(set(LEFT_ALONE) - set(taken))
    assert not stale, f"LEFT_ALONE entries that no longer match an import (delete them): {stale}"
