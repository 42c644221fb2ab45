"""Numbers in the prose documents quoted from generated files, never typed by hand.

A Markdown document (``docs/results.md``, a README) quotes one section of a generated file (a
leaderboard's ``study.md``, ``cora.md``, ...) between two HTML comments, which Markdown does not show::

    <!-- quote leaderboards/srgm-study/study.md § ## Verdicts -->
    | question | cells | better | ...
    <!-- end quote -->

The path is relative to the repository root (the nearest folder above the document holding
``pyproject.toml``); the heading is the section's whole heading line, and the section runs to the next
heading of the same or a higher level. Its body (blank lines at either end dropped) is what the block must
hold. ``gcbench docs`` checks that every block is the current section of its file (exit 1 otherwise;
``tests/test_docs.py`` runs the check on the repository) and ``gcbench docs --write`` rewrites the stale
blocks. Regenerating a leaderboard and then ``gcbench docs --write`` updates every number the documents
quote; the prose around a block is the author's and must not restate its numbers.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from gcbench.errors import GCBenchError
from gcbench.util import atomic_write_text

_OPEN = re.compile(r"^<!-- quote (?P<path>\S+) § (?P<heading>#{1,6} .+?) -->\s*$")
_CLOSE = re.compile(r"^<!-- end quote -->\s*$")
_HEADING = re.compile(r"^(#{1,6}) ")
#: folders never searched for documents (besides hidden ones): environments and build output
_SKIP_DIRS = {"venv", "build", "dist", "node_modules", "site-packages", "__pycache__"}


@dataclass(frozen=True)
class Quote:
    """One quote block of a document: its source, and the line numbers (0-based) of its two markers."""

    path: str
    heading: str
    open_line: int
    close_line: int


def repo_root(start: Path) -> Path:
    """The nearest folder at or above ``start`` holding ``pyproject.toml`` (``start`` itself if none)."""
    start = start.resolve()
    for cand in [start, *start.parents]:
        if (cand / "pyproject.toml").is_file():
            return cand
    return start


def find_quotes(lines: list[str], where: str) -> list[Quote]:
    """The quote blocks of a document's lines; an unclosed, nested or stray marker is a :class:`GCBenchError`."""
    out: list[Quote] = []
    current: tuple[int, str, str] | None = None
    for i, line in enumerate(lines):
        m = _OPEN.match(line)
        if m:
            if current is not None:
                raise GCBenchError(f"{where}:{i + 1}: quote opened inside the quote of line {current[0] + 1}")
            current = (i, m["path"], m["heading"])
        elif _CLOSE.match(line):
            if current is None:
                raise GCBenchError(f"{where}:{i + 1}: 'end quote' without a quote to close")
            out.append(Quote(current[1], current[2], current[0], i))
            current = None
        elif line.startswith("<!-- quote"):
            raise GCBenchError(f"{where}:{i + 1}: malformed quote marker (write '<!-- quote PATH § ## Heading -->')")
    if current is not None:
        raise GCBenchError(f"{where}:{current[0] + 1}: quote of {current[1]} never closed ('<!-- end quote -->')")
    return out


def section(text: str, heading: str, where: str) -> list[str]:
    """The body lines of the section ``heading`` (a whole heading line) of a Markdown text, without the blank
    lines at either end; the heading missing or found twice is a :class:`GCBenchError`."""
    lines = text.splitlines()
    hits = [i for i, line in enumerate(lines) if line.rstrip() == heading]
    if not hits:
        raise GCBenchError(f"{where}: no section {heading!r}")
    if len(hits) > 1:
        raise GCBenchError(f"{where}: section {heading!r} appears {len(hits)} times")
    level = len(heading) - len(heading.lstrip("#"))
    body: list[str] = []
    for line in lines[hits[0] + 1:]:
        m = _HEADING.match(line)
        if m and len(m.group(1)) <= level:
            break
        body.append(line)
    while body and not body[0].strip():
        body.pop(0)
    while body and not body[-1].strip():
        body.pop()
    return body


def refresh(doc: Path, root: Path | None = None) -> tuple[str, list[str]]:
    """The document's text with every quote block holding the current section of its source, and the
    blocks that were stale (``"doc:line: PATH § HEADING"``). Errors (a source or section missing, a bad
    marker) are :class:`GCBenchError`."""
    doc = Path(doc)
    root = repo_root(doc.parent) if root is None else Path(root)
    text = doc.read_text(encoding="utf-8")
    lines = text.splitlines()
    stale: list[str] = []
    out: list[str] = []
    pos = 0
    sources: dict[str, str] = {}  # a file quoted several times is read once
    for q in find_quotes(lines, str(doc)):
        if q.path not in sources:
            src = root / q.path
            if not src.is_file():
                raise GCBenchError(f"{doc}:{q.open_line + 1}: quoted file {q.path} not found (relative to {root})")
            sources[q.path] = src.read_text(encoding="utf-8")
        body = section(sources[q.path], q.heading, q.path)
        out += lines[pos:q.open_line + 1]
        if lines[q.open_line + 1:q.close_line] != body:
            stale.append(f"{doc}:{q.open_line + 1}: {q.path} § {q.heading}")
        out += body
        pos = q.close_line
    out += lines[pos:]
    new = "\n".join(out) + ("\n" if text.endswith("\n") else "")
    return new, stale


def documents(root: Path) -> list[Path]:
    """Every Markdown file under ``root`` holding a quote marker, or a stray end marker (hidden folders and
    environments skipped)."""
    found = []
    for p in sorted(Path(root).rglob("*.md")):
        rel = p.relative_to(root).parts
        if any(part.startswith(".") or part in _SKIP_DIRS for part in rel[:-1]):
            continue
        text = p.read_text(encoding="utf-8", errors="replace")
        if "<!-- quote" in text or "<!-- end quote" in text:
            found.append(p)
    return found


def check_documents(docs: Iterable[Path], root: Path, write: bool = False) -> list[str]:
    """The stale quote blocks of ``docs`` (rewritten in place with ``write``)."""
    stale: list[str] = []
    for doc in docs:
        new, bad = refresh(doc, root)
        stale += bad
        if write and bad:
            atomic_write_text(Path(doc), new)
    return stale
