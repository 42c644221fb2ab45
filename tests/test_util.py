"""gcbench.util: atomic writes, slugs, natural order, Markdown cells."""

from __future__ import annotations

import pytest

from gcbench.util import atomic_write, atomic_write_bytes, atomic_write_text, md_escape, natural_key, slug


def test_atomic_writes_replace_the_file_and_leave_no_temporary(tmp_path):
    path = tmp_path / "a.csv"
    assert atomic_write_text(path, "x,y\r\n1,2\n") == path
    assert path.read_bytes() == b"x,y\r\n1,2\n"  # as given: no newline translation
    atomic_write_bytes(path, b"\x00\x01")
    assert path.read_bytes() == b"\x00\x01"
    seen = []
    atomic_write(path, lambda tmp: (seen.append(tmp.name), tmp.write_text("new")))
    assert seen[0].startswith(".a.tmp") and seen[0].endswith(".csv")  # hidden sibling, same suffix
    assert path.read_text() == "new" and [p.name for p in tmp_path.iterdir()] == ["a.csv"]


def test_a_failed_write_keeps_the_old_file(tmp_path):
    path = tmp_path / "a.txt"
    path.write_text("old")

    def half(tmp):
        tmp.write_text("half")
        raise OSError("disk full")

    with pytest.raises(OSError, match="disk full"):
        atomic_write(path, half)
    assert path.read_text() == "old" and [p.name for p in tmp_path.iterdir()] == ["a.txt"]


def test_slug_natural_key_md_escape():
    assert slug("srgm:lambda=0 a/b") == "srgm_lambda=0_a_b"
    assert slug("srgm:lambda=0", keep="._-") == "srgm_lambda_0"
    assert slug(0.5) == "0.5"
    names = ["srgm:lambda=10", "B", "srgm:lambda=2", "a", "srgm:lambda=2.5"]
    assert sorted(names, key=natural_key) == ["a", "B", "srgm:lambda=2", "srgm:lambda=2.5", "srgm:lambda=10"]
    assert md_escape("a|b\\c") == "a\\|b\\\\c"
