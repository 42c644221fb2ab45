"""The results store (gcbench.results): append-only writes, superseded failed rows, torn rows, several
processes, incremental reads."""

from __future__ import annotations

import multiprocessing as mp
import os
import signal
import sys
import time

import pytest

from gcbench.errors import GCBenchError
from gcbench.results import COLUMNS, ResultsStore

posix_only = pytest.mark.skipif(sys.platform == "win32", reason="the results lock is POSIX flock")


def _row(seed: int, status: str = "ok", **kw) -> dict:
    return {"method": "m", "dataset": "d", "ratio": 0.5, "arch": "gcn", "seed": seed, "config_hash": "h",
            "status": status, "test_score": float(seed) if status == "ok" else None,
            "error": "" if status == "ok" else "boom", **kw}


def _seeds(store: ResultsStore) -> list[int]:
    return [int(r["seed"]) for r in store.rows]


def test_append_adds_bytes_at_the_end_only(tmp_path):
    path = tmp_path / "results.csv"
    store = ResultsStore(path)
    store.append(_row(0))
    before, ino = path.read_bytes(), path.stat().st_ino
    assert before.startswith(",".join(COLUMNS).encode() + b"\n") and before.count(b"\n") == 2
    for seed in range(1, 5):
        store.append(_row(seed))
        after = path.read_bytes()
        assert after.startswith(before) and after.count(b"\n") == before.count(b"\n") + 1
        assert path.stat().st_ino == ino
        before = after
    store.append(_row(3))  # done: nothing written
    assert path.read_bytes() == before
    assert _seeds(ResultsStore(path)) == [0, 1, 2, 3, 4]


def test_failed_row_is_superseded_and_compact_drops_it(tmp_path):
    path = tmp_path / "results.csv"
    store = ResultsStore(path)
    store.append(_row(0, "failed"))
    store.append(_row(1))
    store.append(_row(2, "failed"))
    ino = path.stat().st_ino
    store.append(_row(0))  # supersedes the failed seed 0: appended, the failed line stays in the file
    store.append(_row(2, "failed", error="again"))  # a failed row supersedes a failed row too
    assert path.stat().st_ino == ino and path.read_text().count("\n") == 6
    for s in (store, ResultsStore(path)):
        assert [(r["seed"], r["status"], r["error"]) for r in s.rows] == [
            ("1", "ok", ""), ("0", "ok", ""), ("2", "failed", "again")]  # as the old rewriting store had it
        assert s.done_keys() == {("m", "d", "0.5", "gcn", "0", "h"), ("m", "d", "0.5", "gcn", "1", "h")}
    df = ResultsStore(path).frame()
    assert df["status"].tolist() == ["ok", "ok", "failed"] and df["seed"].tolist() == [1, 0, 2]
    assert store.compact() is True
    lines = path.read_text().splitlines()
    assert len(lines) == 4 and lines[0] == ",".join(COLUMNS) and "boom" not in path.read_text()
    assert [(r["seed"], r["status"]) for r in ResultsStore(path).rows] == [("1", "ok"), ("0", "ok"), ("2", "failed")]
    assert store.compact() is False  # nothing superseded left
    store.append(_row(3))
    assert _seeds(ResultsStore(path)) == [1, 0, 2, 3]


def test_torn_last_line_is_ignored_and_cut_off_by_the_next_append(tmp_path):
    path = tmp_path / "results.csv"
    store = ResultsStore(path)
    for seed in range(3):
        store.append(_row(seed))
    good = path.read_bytes()
    torn = good.splitlines(keepends=True)[1][:20]  # a writer killed half-way through a row
    path.write_bytes(good + torn)
    assert _seeds(ResultsStore(path)) == [0, 1, 2]
    ResultsStore(path).append(_row(3))
    rest = path.read_bytes()[len(good):]
    assert path.read_bytes().startswith(good) and rest.count(b"\n") == 1 and rest.startswith(b"m,d,0.5,,,,gcn,3,")
    assert _seeds(ResultsStore(path)) == [0, 1, 2, 3]
    # a new file whose header itself was torn reads as empty and gets a whole header
    path.write_bytes(good[:20])
    assert ResultsStore(path).rows == []
    ResultsStore(path).append(_row(7))
    assert path.read_text().splitlines()[0] == ",".join(COLUMNS) and _seeds(ResultsStore(path)) == [7]


def test_a_complete_but_bad_line_is_still_an_error_and_never_overwritten(tmp_path):
    path = tmp_path / "results.csv"
    ResultsStore(path).append(_row(0))
    text = path.read_text()
    path.write_text(text + text.splitlines()[1][:20] + "\n")  # torn inside a line, then a newline: not ours
    bad = path.read_bytes()
    with pytest.raises(GCBenchError, match="line 3 has the wrong number of fields"):
        ResultsStore(path)
    store = ResultsStore.__new__(ResultsStore)  # a store opened before the damage
    store.path = path
    store._reset()
    with pytest.raises(GCBenchError, match="line 3"):
        store.append(_row(1))
    assert path.read_bytes() == bad


def test_incremental_read_parses_only_what_was_added(tmp_path):
    path = tmp_path / "results.csv"
    writer = ResultsStore(path)
    for seed in range(10):
        writer.append(_row(seed))
    reader = ResultsStore(path)
    assert _seeds(reader) == list(range(10))
    for seed in range(10, 15):
        writer.append(_row(seed))
    # damage a row the reader has already parsed, far before the end: a whole re-read would fail on it
    data = bytearray(path.read_bytes())
    i = data.index(b"\nm,d,0.5") + 1
    data[i:i + 1] = b"\""
    with open(path, "r+b") as fh:
        fh.write(bytes(data))
    reader.reload()
    assert _seeds(reader) == list(range(15))  # the 5 new rows, and only they, were parsed
    with pytest.raises(GCBenchError):
        ResultsStore(path)


def test_a_file_replaced_under_a_store_is_read_again_whole(tmp_path):
    path = tmp_path / "results.csv"
    a, b = ResultsStore(path), ResultsStore(path)
    a.append(_row(0, "failed"))
    a.append(_row(1))
    b.append(_row(0))  # supersedes a's failed row
    assert b.compact() is True  # a new file (another inode) without the failed row
    a.append(_row(2))
    assert [(r["seed"], r["status"]) for r in a.rows] == [("1", "ok"), ("0", "ok"), ("2", "ok")]
    assert [(r["seed"], r["status"]) for r in ResultsStore(path).rows] == [("1", "ok"), ("0", "ok"), ("2", "ok")]


def test_rewrites_keep_the_old_behaviour(tmp_path):
    path = tmp_path / "results.csv"
    store = ResultsStore(path)
    store.append(_row(0))
    # a value with a line break: the row is written by an atomic rewrite, and reads back
    store.append(_row(1, "failed", error="two\nlines"))
    assert ResultsStore(path).rows[1]["error"] == "two\nlines"
    store.append(_row(2))
    # a file deleted under the store: the rows it knows are written back (as the rewriting store did)
    path.unlink()
    store.append(_row(3))
    assert _seeds(ResultsStore(path)) == [0, 1, 2, 3]
    # a file in an older layout (no protocol column) is upgraded by the next append
    lines = path.read_text().splitlines()
    i = COLUMNS.index("protocol")
    path.write_text("\n".join(",".join(c for j, c in enumerate(r.split(",")) if j != i) for r in lines[:2]) + "\n")
    ResultsStore(path).append(_row(4))
    assert path.read_text().splitlines()[0] == ",".join(COLUMNS) and _seeds(ResultsStore(path)) == [0, 4]


def _append_many(path: str, start: int, n: int) -> None:
    store = ResultsStore(path)
    for seed in range(start, start + n):
        store.append(_row(seed))
        if (seed - start) % 2 == 0:
            store.append(_row(seed - start))  # cells the other process writes too: kept once


@posix_only
def test_two_processes_appending_lose_and_duplicate_nothing(tmp_path):
    path = str(tmp_path / "results.csv")
    ctx = mp.get_context("fork")
    procs = [ctx.Process(target=_append_many, args=(path, 1000 * (i + 1), 300)) for i in range(2)]
    for p in procs:
        p.start()
    for p in procs:
        p.join(60)
        assert p.exitcode == 0
    seeds = _seeds(ResultsStore(path))
    expected = {1000 * (i + 1) + k for i in range(2) for k in range(300)} | set(range(0, 300, 2))
    assert len(seeds) == len(set(seeds)) and set(seeds) == expected


def _append_forever(path: str) -> None:
    store = ResultsStore(path)
    seed = 0
    while True:
        store.append(_row(seed, error="x" * 2000))  # long lines: a kill often lands inside one
        seed += 1


@posix_only
def test_kill_9_loses_at_most_the_row_in_flight(tmp_path):
    path = tmp_path / "results.csv"
    ctx = mp.get_context("fork")
    for delay in (0.3, 0.45, 0.6):
        proc = ctx.Process(target=_append_forever, args=(str(path),))
        proc.start()
        time.sleep(delay)
        os.kill(proc.pid, signal.SIGKILL)
        proc.join(10)
        store = ResultsStore(path)
        seeds = _seeds(store)
        assert seeds == list(range(len(seeds))) and seeds  # a prefix of what was appended
        store.append(_row(10**6))
        assert ResultsStore(path).rows[-1]["seed"] == str(10**6) and path.read_bytes().endswith(b"\n")
        path.unlink()


def test_runner_compacts_the_failed_rows_its_rerun_superseded(tmp_path, monkeypatch):
    from gcbench import runner as runner_mod
    from gcbench.runner import Grid, Runner

    grid = Grid(methods=["random"], datasets=["synthetic-ecommerce:n_nodes=400:train_frac=0.2"], ratios=[0.5],
                archs=["gcn"], seeds=[0, 1], eval_overrides={"epochs": 5})
    real = runner_mod.condense_cell

    def flaky(cell, device):
        if cell.seed == 1:
            raise RuntimeError("flaky")
        return real(cell, device)

    monkeypatch.setattr(runner_mod, "condense_cell", flaky)
    Runner(grid, tmp_path, progress=False).run()
    path = tmp_path / "results.csv"
    assert [r["status"] for r in ResultsStore(path).rows] == ["ok", "failed"]
    monkeypatch.setattr(runner_mod, "condense_cell", real)
    Runner(grid, tmp_path, progress=False).run()
    text = path.read_text()
    assert "flaky" not in text and len(text.splitlines()) == 3  # the rerun's row replaced the failed one
    assert [(r["seed"], r["status"]) for r in ResultsStore(path).rows] == [("0", "ok"), ("1", "ok")]
