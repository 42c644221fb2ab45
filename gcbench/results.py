"""The results store: ``DIR/results.csv``, one row per (method, dataset, ratio, arch, seed).

Writes are atomic: each new row rewrites the file to a temporary sibling, fsyncs it and renames it over
the old one, so a run killed at any moment leaves either the old or the new complete file, never a torn
one, and loses at most the row in flight. A row is *done* when it has ``status == "ok"``; rerunning the
same grid skips done rows (resume). A failed row is replaced when its cell is run again.

Several ``gcbench run`` processes may write into one folder at once (two lanes sharing a machine): each
append takes an exclusive lock on ``DIR/.results.csv.lock`` (``fcntl.flock``; where that does not exist,
Windows, no lock), re-reads the file and writes it back with the new row, so no process drops rows
another one added after it started. A cell that another process finished first keeps that row.

The file is read strictly: a results.csv that cannot be parsed or lacks columns is an error naming the
problem, and it is never overwritten. Columns added later (``LATER_COLUMNS``: ``protocol``, the evaluation
protocol of the row) read as empty in files written before them.

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
    "val_score", "test_score", "metric", "protocol", "condense_s", "eval_s", "peak_mem_mb",
    "config_hash", "dataset_sha", "device", "versions", "status", "error", "timestamp",
]
#: columns added after rows were first published: a file without them is read with them empty
LATER_COLUMNS = ("protocol",)
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


def _fmt(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, float):
        return "" if math.isnan(value) else repr(value)
    return str(value)


class ResultsStore:
    """Append-only (atomically rewritten) CSV of result rows."""

    def __init__(self, path: str | os.PathLike) -> None:
        self.path = Path(path)
        self.rows: list[dict[str, str]] = []
        self.reload()

    def reload(self) -> None:
        """Re-read the file, taking in rows other processes (or earlier grids of a suite) wrote since."""
        if self.path.exists():
            self.rows = self._read()

    def _read(self) -> list[dict[str, str]]:
        try:
            text = self.path.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as exc:
            raise GCBenchError(f"cannot read {self.path}: {exc}") from None
        if not text.strip():
            return []
        try:
            reader = csv.DictReader(io.StringIO(text, newline=""))
            header = reader.fieldnames or []
            missing = [c for c in COLUMNS if c not in header and c not in LATER_COLUMNS]
            if missing:
                raise GCBenchError(f"{self.path} is malformed: missing columns {', '.join(missing)}")
            rows = []
            for lineno, row in enumerate(reader, start=2):
                if None in row or any(v is None for v in row.values()):
                    raise GCBenchError(f"{self.path} is malformed: line {lineno} has the wrong number of fields")
                if row["status"] not in STATUSES:
                    raise GCBenchError(f"{self.path} is malformed: line {lineno} has status {row['status']!r}")
                try:
                    row_key(row)
                except (ValueError, KeyError):
                    raise GCBenchError(f"{self.path} is malformed: line {lineno} has a bad seed or ratio") from None
                for c in LATER_COLUMNS:
                    row.setdefault(c, "")
                rows.append(row)
        except csv.Error as exc:
            raise GCBenchError(f"{self.path} is malformed: {exc}") from None
        return rows

    def done_keys(self) -> set[tuple[str, ...]]:
        return {row_key(r) for r in self.rows if r["status"] == "ok"}

    def append(self, row: dict[str, Any]) -> None:
        """Add one row and persist atomically: it replaces a failed row of its cell; if the cell is already done
        (another process finished it first), the existing row stays."""
        unknown = set(row) - set(COLUMNS)
        if unknown:
            raise ValueError(f"unknown result columns {sorted(unknown)}")
        new = {c: _fmt(row.get(c)) for c in COLUMNS}
        key = row_key(new)
        with self._locked():
            self.reload()
            if key not in self.done_keys():
                self.rows = [r for r in self.rows if not (r["status"] == "failed" and row_key(r) == key)]
                self.rows.append(new)
                self._write()

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

    def _write(self) -> None:
        buf = io.StringIO(newline="")
        writer = csv.DictWriter(buf, fieldnames=COLUMNS, lineterminator="\n")
        writer.writeheader()
        writer.writerows(self.rows)
        tmp = self.path.with_name(f".{self.path.name}.tmp{os.getpid()}")
        with open(tmp, "w", encoding="utf-8", newline="") as fh:
            fh.write(buf.getvalue())
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, self.path)

    def frame(self) -> pd.DataFrame:
        return rows_frame(self.rows)


def rows_frame(rows: list[dict[str, str]]) -> pd.DataFrame:
    """Rows as a typed DataFrame (numbers parsed, ratio NaN for ratio-free rows)."""
    df = pd.DataFrame(rows, columns=COLUMNS)
    for col in ("ratio", "val_score", "test_score", "condense_s", "eval_s", "peak_mem_mb"):
        df[col] = pd.to_numeric(df[col].replace("", None), errors="coerce").astype(float)
    for col in ("n_syn_nodes", "n_syn_edges", "n_nodes", "seed"):
        df[col] = pd.to_numeric(df[col].replace("", None), errors="coerce").astype("Int64")
    for col in ("error",):
        df[col] = df[col].fillna("")
    return df


def read_results(path: str | os.PathLike) -> pd.DataFrame:
    """Read and validate a results.csv into a DataFrame (error if missing or malformed)."""
    p = Path(path)
    if not p.exists():
        raise GCBenchError(f"results file not found: {p}")
    return ResultsStore(p).frame()
