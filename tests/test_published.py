"""Published numbers beside the rows (gcbench.report.published): method cards' `published` tables, the
comparison table of a leaderboard folder (published.md), and its check."""

from __future__ import annotations

import pandas as pd
import pytest

from gcbench.errors import GCBenchError
from gcbench.report.published import Published, parse_published, published_markdown, published_scores, published_table
from gcbench.results import COLUMNS


def _row(method, dataset, ratio, arch, seed, score):
    r = {c: "" for c in COLUMNS}
    r.update(method=method, dataset=dataset, ratio=ratio, arch=arch, seed=seed, test_score=score, val_score=0.5,
             status="ok", metric="accuracy", n_syn_nodes=70, n_nodes=2708, config_hash="h", condense_s=1.0,
             eval_s=1.0)
    return r


def test_cards_hold_gcond_table_2():
    scores = {(p.method, p.dataset, p.ratio): p.score for p in published_scores() if p.arch == "gcn"}
    assert scores[("gcond", "cora", 0.5)] == 80.1 and scores[("random", "citeseer", 0.25)] == 54.4
    assert scores[("whole", "cora", None)] == 81.2 and scores[("sfgc", "citeseer", 0.5)] == 72.4


def test_table_compares_only_the_default_configuration():
    pub = [Published("gcond", "cora", "gcn", 0.5, 80.0, "paper"), Published("whole", "cora", "gcn", None, 81.0, "p")]
    df = pd.DataFrame([_row("gcond", "cora", 0.5, "gcn", 0, 0.81), _row("gcond", "cora", 0.5, "gcn", 1, 0.83),
                       _row("gcond:epochs=40", "cora", 0.5, "gcn", 0, 0.50),  # a variant: not compared
                       _row("gcond", "cora", 0.5, "sgc", 0, 0.70),  # no published SGC number
                       _row("gcond", "cora", 0.25, "gcn", 0, 0.70),  # no published number at 0.25
                       _row("whole", "cora", None, "gcn", 0, 0.80)])
    t = published_table(df, pub)
    assert list(zip(t["method"], t["ratio"])) == [("gcond", "0.5"), ("whole", "")]
    assert t.loc[0, "mean"] == pytest.approx(82.0) and t.loc[0, "diff"] == pytest.approx(2.0)
    assert t.loc[1, "diff"] == pytest.approx(-1.0)
    md = published_markdown(t)
    assert "| gcn | gcond | 0.5 | 82.0 ± 1.4 (2) | 80.0 | +2.0 | paper |" in md
    assert "| gcn | whole | full graph | 80.0 ± 0.0 (1) | 81.0 | -1.0 | p |" in md
    assert published_markdown(published_table(df.iloc[2:3], pub)) is None


@pytest.mark.parametrize("entries, message", [
    ({"source": "s"}, "must be a list"),
    ([{"source": "s", "arch": "gcn"}], "needs exactly the keys"),
    ([{"source": "s", "arch": "gcn", "scores": {"cora": {0.5: "high"}}}], "is not a number"),
    ([{"source": "s", "arch": "gcn", "scores": {"cora": {0.5: 180.0}}}], "out of range"),
    ([{"source": "s", "arch": "gcn", "scores": {"cora": {2.0: 80.0}}}], "out of range"),
])
def test_malformed_published_tables_are_errors(entries, message):
    with pytest.raises(GCBenchError, match=message):
        parse_published("m", entries, "methods/m.yaml")


def test_a_folder_gets_published_md_and_check_sees_a_changed_card(tmp_path, monkeypatch):
    from gcbench.report import folder
    from gcbench.results import ResultsStore

    run = tmp_path / "run"
    store = ResultsStore(run / "results.csv")
    for s, score in ((0, 0.72), (1, 0.74)):
        store.append(_row("random", "cora", 0.5, "gcn", s, score))
    dest = tmp_path / "lb"
    folder.publish(run, dest)
    assert "| gcn | random | 0.5 | 73.0 ± 1.4 (2) | 72.8 | +0.2 |" in (dest / "published.md").read_text()
    assert "[published.md](published.md)" in (dest / "README.md").read_text()
    assert folder.check_folder(dest).ok
    # a card's number changes: the committed comparison is stale
    monkeypatch.setattr(folder, "published_table",
                        lambda df: published_table(df, [Published("random", "cora", "gcn", 0.5, 70.0, "x")]))
    assert any("published.md: differs" in p for p in folder.check_folder(dest).problems)
