"""Small helpers every layer shares: atomic file writes, file-name slugs, natural sort, Markdown cells.

Nothing here imports another gcbench module, so any module may use it.
"""

from __future__ import annotations

import os
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

_NUMBER = re.compile(r"(\d+(?:\.\d+)?)")


def atomic_write(path: str | os.PathLike, write: Callable[[Path], Any]) -> Path:
    """``write(tmp)`` into a hidden temporary sibling of ``path``, fsync it, then ``os.replace`` it onto
    ``path``: a reader (or a kill part-way) sees the old complete file or the new one, never a partial one.

    The sibling keeps the suffix of ``path`` (``.name.tmp<pid>.csv``) for writers that read the format from
    it, and is removed if ``write`` fails. Returns ``path`` as a :class:`~pathlib.Path`.
    """
    path = Path(path)
    tmp = path.with_name(f".{path.stem}.tmp{os.getpid()}{path.suffix}")
    try:
        write(tmp)
        with open(tmp, "rb+") as fh:
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    finally:
        if tmp.exists():
            tmp.unlink()
    return path


def atomic_write_bytes(path: str | os.PathLike, data: bytes) -> Path:
    """:func:`atomic_write` of ``data``."""
    return atomic_write(path, lambda tmp: tmp.write_bytes(data))


def atomic_write_text(path: str | os.PathLike, text: str, encoding: str = "utf-8") -> Path:
    """:func:`atomic_write` of ``text`` as it is (no newline translation)."""
    return atomic_write_bytes(path, text.encode(encoding))


def slug(text: Any, keep: str = "._=-") -> str:
    """``text`` as a file-name part: every character other than ASCII letters, digits and ``keep`` -> ``_``."""
    return re.sub(f"[^A-Za-z0-9{re.escape(keep)}]", "_", str(text))


def natural_key(name: Any) -> tuple:
    """Sort key of a name in natural order: case-insensitive, runs of digits (decimals included) compared as
    numbers, so ``lambda=2`` comes before ``lambda=10``; ties are broken by the name itself."""
    text = str(name)
    parts = _NUMBER.split(text.casefold())
    # even positions are text, odd positions numbers: comparisons never mix types
    return tuple(float(p) if i % 2 else p for i, p in enumerate(parts)), text


def md_escape(text: Any) -> str:
    """``text`` safe inside a cell of a Markdown table (backslashes and pipes escaped)."""
    return str(text).replace("\\", "\\\\").replace("|", "\\|")
