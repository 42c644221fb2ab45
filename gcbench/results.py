"""The results store: ``DIR/results.csv``, one row per (method, dataset, ratio, arch, seed).

The file is append-only: a new row is one line written at the end of the file (then flushed and fsynced), so
appending costs the same however many rows the file holds, and the bytes already there are never rewritten.
A row is *done* when it has ``status == "ok"``; rerunning the same grid skips done rows (resume). A row for
a cell whose latest row failed *supersedes* that failed row: both stay in the file, and reading resolves
them: :attr:`ResultsStore.rows` are the file's rows in file order less every failed row that a later row of
its cell follows (what the store held when it rewrote the file for each row and replaced the failed row in
place; a file without superseded rows reads exactly as it is). :meth:`ResultsStore.compact` rewrites the
file without the superseded rows; the runner calls it at the end of a grid, so a finished run's file, which
``gcbench leaderboard --publish`` copies, holds none.

A writer killed at any moment (``kill -9``; a crash or a full disk mid-write) loses at most the row in
flight: at worst it leaves a torn last line, without its newline. Reading ignores a last line that does not
end in a newline (so a hand-edited file must end with one), and the next append cuts it off before writing
its row. The file is replaced as a whole only by :meth:`~ResultsStore.compact` and, rarely, by an append: to
a file in an older layout (its header is not ``COLUMNS``: it is upgraded), to a file deleted under the store
(the rows it knows are written back), or of a row with a line break in a value. Such a rewrite goes to a
temporary sibling, is fsynced and renamed over the file, so a kill leaves the old or the new complete file.

Several ``gcbench run`` processes may write into one folder at once (two lanes sharing a machine): each
append takes an exclusive lock on ``DIR/.results.csv.lock`` (``fcntl.flock``; where that does not exist,
Windows, no lock), reads what other processes appended since its last read (only those bytes: a store
remembers how far it has read; a file replaced under it, by another process's compaction or anyone else, is
read again whole) and only then decides, so no process drops rows another one added after it started. A cell
that another process finished first keeps that row. Reading takes no lock: it never consumes a line still
being written.

The file is read strictly: a results.csv that cannot be parsed or lacks columns is an error naming the
problem, and it is never overwritten (a torn last line aside). Columns added later (``LATER_COLUMNS``:
``protocol``, the evaluation protocol of the row; ``condense_epoch``/``condense_epochs``, the epoch a
condensation selected and the epochs it ran; ``eval_epoch``) read as empty in files written before them.

``config_hash`` covers the method's configuration and code and the evaluation settings and code
(:func:`gcbench.condensers.base.config_hash`); rows written before it covered code have hashes of the
configuration and evaluation overrides only. Both kinds read the same way.
"""

from __future__ import annotations

import csv
import io
import math
import os
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pandas as pd

from gcbench.errors import GCBenchError

try:
    import fcntl
except ImportError:  # pragma: no cover - Windows
    fcntl = None

COLUMNS = [
    "method", "dataset", "ratio", "n_syn_nodes", "n_syn_edges", "n_nodes", "arch", "seed",
    "val_score", "test_score", "metric", "protocol", "condense_s", "eval_s", "condense_epoch", "condense_epochs",
    "eval_epoch", "peak_mem_mb", "config_hash", "dataset_sha", "device", "versions", "status", "error", "timestamp",
]
#: columns added after rows were first published: a file without them is read with them empty
#: (``condense_epoch``: the epoch or iteration the condensation selected, empty for one-shot methods;
#: ``condense_epochs``: the epochs or iterations it ran, fewer than its budget after a plateau stop;
#: ``eval_epoch``: the evaluation epoch selected on validation)
LATER_COLUMNS = ("protocol", "condense_epoch", "condense_epochs", "eval_epoch")
KEY = ("method", "dataset", "ratio", "arch", "seed", "config_hash")
STATUSES = ("ok", "failed")


def ratio_key(value: Any) -> str:
    """Canonical text of a ratio for keys: ``""`` for ratio-free rows, else the shortest float form."""
    if value is None or value == "":
        return ""
    f = float(value)
    return "" if math.isnan(f) else repr(f)


def row_key(row: dict[str, Any]) -> tuple[str, ...]:
    return (
        str(row["method"]), str(row["dataset"]), ratio_key(row["ratio"]), str(row["arch"]),
        str(int(float(row["seed"]))), str(row["config_hash"]),
    )


def format_cell(value: Any) -> str:
    """A value as results.csv writes it: empty for None and NaN, the shortest round-trip form of a float."""
    if value is None:
        return ""
    if isinstance(value, float):
        return "" if math.isnan(value) else repr(value)
    return str(value)


#: bytes before the read offset a store remembers, to recognise the file it read on its next read
_TAIL = 256


def _csv_line(values: list[str]) -> str:
    buf = io.StringIO(newline="")
    csv.writer(buf, lineterminator="\n").writerow(values)
    return buf.getvalue()


class ResultsStore:
    """Append-only CSV of result rows (see the module docstring)."""

    def __init__(self, path: str | os.PathLike) -> None:
        self.path = Path(path)
        self._reset()
        self.reload()

    def _reset(self) -> None:
        self._ident: tuple[int, int] | None = None  # (st_dev, st_ino) of the file read
        self._offset = 0  # bytes read: the header and every complete line after it
        self._tail = b""  # the last bytes before _offset
        self._header: list[str] | None = None  # the file's columns, once its header is read
        self._nrecords = 0  # rows read (line numbers of errors)
        self._entries: list[dict[str, str] | None] = []  # every row read or appended; None: superseded
        self._failed: dict[tuple[str, ...], int] = {}  # cell -> index of its live failed row in _entries
        self._done: set[tuple[str, ...]] = set()
        self._superseded = 0
        self._rows: list[dict[str, str]] | None = []

    @property
    def rows(self) -> list[dict[str, str]]:
        """The rows, one per cell once superseded failed rows are dropped, in file order."""
        if self._rows is None:
            self._rows = [r for r in self._entries if r is not None]
        return self._rows

    def reload(self) -> None:
        """Take in rows other processes (or earlier grids of a suite) wrote since the last read: only the bytes
        added since, unless the file was replaced (then all of it). A missing file keeps the rows known."""
        self._sync()

    def _sync(self, fh: Any = None) -> None:
        own = fh is None
        try:
            if own:
                try:
                    fh = open(self.path, "rb")
                except FileNotFoundError:
                    return
            try:
                st = os.fstat(fh.fileno())
                ident = (st.st_dev, st.st_ino)
                fresh = ident != self._ident or st.st_size < self._offset or not self._same_file(fh)
                start = 0 if fresh else self._offset
                if not fresh and st.st_size == start:
                    return
                fh.seek(start)
                data = fh.read()
            finally:
                if own:
                    fh.close()
        except OSError as exc:
            raise GCBenchError(f"cannot read {self.path}: {exc}") from None
        end = data.rfind(b"\n") + 1  # what follows the last newline is a torn row (or a row being written)
        if b"\r" in data[end:]:
            raise GCBenchError(f"{self.path} is malformed: it does not end with a newline")
        try:
            text = data[:end].decode("utf-8")
        except UnicodeDecodeError as exc:
            raise GCBenchError(f"cannot read {self.path}: {exc}") from None
        header, nrecords = (None, 0) if fresh else (self._header, self._nrecords)
        parsed: list[tuple[dict[str, str], tuple[str, ...]]] = []
        if header is None and not text.strip():
            end = 0  # no header yet: read from the start next time
        else:
            header, parsed, nrecords = self._parse(text, header, nrecords)
        if fresh:
            self._reset()
            self._ident = ident
        self._header, self._nrecords = header, nrecords
        if end:
            self._offset = start + end
            self._tail = (self._tail + data[:end])[-_TAIL:]
        for row, key in parsed:
            self._apply(row, key)

    def _same_file(self, fh: Any) -> bool:
        """Whether the bytes before the read offset are still those read (a file replaced under the store
        can get the old one's inode number back)."""
        if not self._offset:
            return True
        fh.seek(self._offset - len(self._tail))
        return fh.read(len(self._tail)) == self._tail

    def _parse(self, text: str, header: list[str] | None, nrecords: int
               ) -> tuple[list[str], list[tuple[dict[str, str], tuple[str, ...]]], int]:
        rows = []
        try:
            reader = csv.reader(io.StringIO(text, newline=""))
            if header is None:
                header = next(reader, [])
                missing = [c for c in COLUMNS if c not in header and c not in LATER_COLUMNS]
                if missing:
                    raise GCBenchError(f"{self.path} is malformed: missing columns {', '.join(missing)}")
            width = len(header)
            for values in reader:
                if not values:  # a blank line
                    continue
                nrecords += 1
                lineno = nrecords + 1
                if len(values) != width:
                    raise GCBenchError(f"{self.path} is malformed: line {lineno} has the wrong number of fields")
                row = dict(zip(header, values))
                if row["status"] not in STATUSES:
                    raise GCBenchError(f"{self.path} is malformed: line {lineno} has status {row['status']!r}")
                try:
                    key = row_key(row)
                except (ValueError, KeyError):
                    raise GCBenchError(f"{self.path} is malformed: line {lineno} has a bad seed or ratio") from None
                for c in LATER_COLUMNS:
                    row.setdefault(c, "")
                rows.append((row, key))
        except csv.Error as exc:
            raise GCBenchError(f"{self.path} is malformed: {exc}") from None
        return header, rows, nrecords

    def _apply(self, row: dict[str, str], key: tuple[str, ...]) -> None:
        """Take in one row after the others: it supersedes the live failed row of its cell, if any."""
        i = self._failed.pop(key, None)
        if i is not None:
            self._entries[i] = None
            self._superseded += 1
            self._rows = None
        self._entries.append(row)
        if self._rows is not None:
            self._rows.append(row)
        if row["status"] == "ok":
            self._done.add(key)
        else:
            self._failed[key] = len(self._entries) - 1

    def done_keys(self) -> set[tuple[str, ...]]:
        return set(self._done)

    def append(self, row: dict[str, Any]) -> None:
        """Add one row at the end of the file (see the module docstring): it supersedes a failed row of its
        cell; if the cell is already done (another process finished it first), the existing row stays."""
        unknown = set(row) - set(COLUMNS)
        if unknown:
            raise ValueError(f"unknown result columns {sorted(unknown)}")
        new = {c: format_cell(row.get(c)) for c in COLUMNS}
        key = row_key(new)
        line = _csv_line([new[c] for c in COLUMNS])
        one_line = line.count("\n") == 1 and "\r" not in line
        with self._locked():
            if not self.path.exists() and self.rows:  # deleted under the store: write back what it knows
                self._sync()
                if key not in self._done:
                    self._apply(new, key)
                    self._rewrite()
                return
            with open(self.path, "a+b") as fh:  # created when new
                self._sync(fh)
                if key in self._done:
                    return
                if not one_line or self._header not in (None, COLUMNS):  # a line break in a value; old layout
                    self._apply(new, key)
                    self._rewrite()
                    return
                data = line.encode("utf-8")
                if self._header is None:  # new, empty or only a torn or blank start: the header first
                    data = _csv_line(COLUMNS).encode("utf-8") + data
                if os.fstat(fh.fileno()).st_size > self._offset:
                    fh.truncate(self._offset)  # the torn row a killed writer left
                fh.write(data)
                fh.flush()
                os.fsync(fh.fileno())
                self._header = list(COLUMNS)
                self._offset += len(data)
                self._tail = (self._tail + data)[-_TAIL:]
                self._apply(new, key)

    def compact(self) -> bool:
        """Rewrite the file without its superseded failed rows (atomically, under the lock); whether it did."""
        self._sync()
        if not self._superseded:
            return False
        with self._locked():
            self._sync()
            if not self._superseded or not self.path.exists():
                return False
            self._rewrite()
            return True

    @contextmanager
    def _locked(self):
        self.path.parent.mkdir(parents=True, exist_ok=True)
        if fcntl is None:  # pragma: no cover - Windows
            yield
            return
        with open(self.path.with_name(f".{self.path.name}.lock"), "a") as fh:
            fcntl.flock(fh.fileno(), fcntl.LOCK_EX)
            try:
                yield
            finally:
                fcntl.flock(fh.fileno(), fcntl.LOCK_UN)

    def _rewrite(self) -> None:
        """Write the rows as a new file (temporary sibling, fsync, rename) and read state from it."""
        rows = self.rows
        buf = io.StringIO(newline="")
        writer = csv.DictWriter(buf, fieldnames=COLUMNS, lineterminator="\n")
        writer.writeheader()
        writer.writerows(rows)
        data = buf.getvalue().encode("utf-8")
        tmp = self.path.with_name(f".{self.path.name}.tmp{os.getpid()}")
        with open(tmp, "wb") as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
            st = os.fstat(fh.fileno())
        os.replace(tmp, self.path)
        self._reset()
        self._ident, self._offset, self._tail = (st.st_dev, st.st_ino), len(data), data[-_TAIL:]
        self._header, self._nrecords = list(COLUMNS), len(rows)
        for r in rows:
            self._apply(r, row_key(r))

    def frame(self) -> pd.DataFrame:
        return rows_frame(self.rows)


def rows_frame(rows: list[dict[str, str]]) -> pd.DataFrame:
    """Rows as a typed DataFrame (numbers parsed, ratio NaN for ratio-free rows)."""
    df = pd.DataFrame(rows, columns=COLUMNS)
    for col in ("ratio", "val_score", "test_score", "condense_s", "eval_s", "peak_mem_mb"):
        df[col] = pd.to_numeric(df[col].replace("", None), errors="coerce").astype(float)
    for col in ("n_syn_nodes", "n_syn_edges", "n_nodes", "seed", "condense_epoch", "condense_epochs", "eval_epoch"):
        df[col] = pd.to_numeric(df[col].replace("", None), errors="coerce").astype("Int64")
    for col in ("error",):
        df[col] = df[col].fillna("")
    return df


def write_rows(rows: list[dict[str, str]], path: str | os.PathLike) -> None:
    """Write rows as read from a store (text values, :attr:`ResultsStore.rows`) to a new results file at
    ``path`` (header ``COLUMNS``; written to a temporary sibling and renamed, so a kill leaves no torn
    file); the values are copied as they are, not re-formatted."""
    p = Path(path)
    buf = io.StringIO()
    writer = csv.DictWriter(buf, fieldnames=COLUMNS, lineterminator="\n", extrasaction="ignore")
    writer.writeheader()
    for r in rows:
        writer.writerow({c: r.get(c, "") for c in COLUMNS})
    tmp = p.with_name(f".{p.name}.tmp")
    with open(tmp, "w", encoding="utf-8", newline="") as f:
        f.write(buf.getvalue())
        f.flush()
        os.fsync(f.fileno())
    os.replace(tmp, p)


def read_results(path: str | os.PathLike) -> pd.DataFrame:
    """Read and validate a results.csv into a DataFrame (error if missing or malformed)."""
    p = Path(path)
    if not p.exists():
        raise GCBenchError(f"results file not found: {p}")
    return ResultsStore(p).frame()
