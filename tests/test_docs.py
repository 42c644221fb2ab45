"""Quoted tables in the documents (gcbench.report.quotes, ``gcbench docs``): the repository's own documents
quote the current sections of the generated files, and the mechanism finds stale, missing and malformed
quotes."""

from __future__ import annotations

import re
import sys
from pathlib import Path

import pytest

from gcbench import cli
from gcbench.errors import GCBenchError
from gcbench.report.quotes import check_documents, documents, refresh, section

REPO = Path(__file__).resolve().parents[1]

STUDY = """# Study

Intro.

## Verdicts

| q | d |
|---|---|
| a | +1.0 |

### Detail

x

## Next

y
"""


def _repo(tmp_path: Path, doc_body: str) -> Path:
    (tmp_path / "pyproject.toml").write_text("[project]\nname = 'x'\n")
    (tmp_path / "lb").mkdir()
    (tmp_path / "lb" / "study.md").write_text(STUDY)
    (tmp_path / "docs").mkdir()
    doc = tmp_path / "docs" / "results.md"
    doc.write_text(doc_body)
    return doc


def test_the_repository_documents_quote_current_sections():
    docs = documents(REPO)
    assert REPO / "docs" / "results.md" in docs
    assert check_documents(docs, REPO) == []


def test_section_runs_to_the_next_heading_of_its_level():
    assert section(STUDY, "## Verdicts", "s") == ["| q | d |", "|---|---|", "| a | +1.0 |", "", "### Detail",
                                                  "", "x"]
    assert section(STUDY, "### Detail", "s") == ["x"]
    with pytest.raises(GCBenchError, match="no section '## Missing'"):
        section(STUDY, "## Missing", "s")
    with pytest.raises(GCBenchError, match="appears 2 times"):
        section(STUDY + "\n## Next\n", "## Next", "s")


def test_stale_quote_is_reported_then_rewritten(tmp_path, capsys):
    doc = _repo(tmp_path, "Text.\n\n<!-- quote lb/study.md § ### Detail -->\nold number 3.0\n<!-- end quote -->\n\n"
                          "More text.\n")
    new, stale = refresh(doc)
    assert stale == [f"{doc}:3: lb/study.md § ### Detail"]
    assert new == "Text.\n\n<!-- quote lb/study.md § ### Detail -->\nx\n<!-- end quote -->\n\nMore text.\n"
    assert cli.main(["docs", "--root", str(tmp_path)]) == 1
    assert "gcbench docs: stale" in capsys.readouterr().err
    assert doc.read_text().count("old number") == 1  # a check does not write
    assert cli.main(["docs", "--root", str(tmp_path), "--write"]) == 0
    assert doc.read_text() == new
    assert cli.main(["docs", "--root", str(tmp_path)]) == 0
    # the generated file changes: the quote is stale again
    (tmp_path / "lb" / "study.md").write_text(STUDY.replace("\nx\n", "\nz\n"))
    assert cli.main(["docs", "--root", str(tmp_path)]) == 1


@pytest.mark.parametrize("body, message", [
    ("<!-- quote lb/none.md § ## Verdicts -->\n<!-- end quote -->\n", "quoted file lb/none.md not found"),
    ("<!-- quote lb/study.md § ## Nope -->\n<!-- end quote -->\n", "no section '## Nope'"),
    ("<!-- quote lb/study.md § ## Verdicts -->\nx\n", "never closed"),
    ("x\n<!-- end quote -->\n", "'end quote' without a quote"),
    ("<!-- quote lb/study.md ## Verdicts -->\n", "malformed quote marker"),
    ("<!-- quote lb/study.md § ## Verdicts -->\n<!-- quote lb/study.md § ## Next -->\n", "quote opened inside"),
])
def test_bad_quotes_are_one_line_errors(tmp_path, capsys, body, message):
    _repo(tmp_path, body)
    assert cli.main(["docs", "--root", str(tmp_path)]) == 2
    err = capsys.readouterr().err
    assert message in err and err.count("\n") == 1


def test_generated_frontier_is_current():
    """docs/generated/planetoid-frontier.md (quoted by docs/results.md) equals what benchmarks/frontier.py
    makes from the rows it names: rerun it with --write after the rows change."""
    path = REPO / "docs" / "generated" / "planetoid-frontier.md"
    text = path.read_text(encoding="utf-8")
    m = re.search(r"`python benchmarks/frontier\.py (.+?) --arch (\S+) --write FILE`", text)
    assert m, "the file names the command that made it"
    sys.path.insert(0, str(REPO / "benchmarks"))
    try:
        import frontier
    finally:
        sys.path.remove(str(REPO / "benchmarks"))
    fresh = frontier.frontier_markdown(m.group(1).split(), m.group(2), root=REPO)
    assert fresh == text, f"stale {path}: rerun the command it names"
