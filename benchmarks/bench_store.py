"""The results store: seconds per appended row against the rows already in ``results.csv``, and reading.

``new`` is :class:`gcbench.results.ResultsStore` (append-only: one line written at the end of the file,
reading only the bytes other processes added); ``old`` is the store before it, kept here only (a subclass
that, like it, re-reads the whole file and rewrites it to a temporary sibling for every row). Per case
(store x rows already in the file, each in its own process):

* ``open_s``     opening a store on the file (reading and checking every row)
* ``append_ms``  mean milliseconds per appended row (a new cell each, flush + fsync included), over
  ``--appends`` rows (fewer for ``old`` at 100k rows: each one rewrites the whole file)
* ``read_s``     :func:`~gcbench.results.read_results` of the file after the appends (rows to a typed
  DataFrame); the same code for both stores
* ``grid_s``     appending ``--grid`` rows one by one into an empty file (a grid run from scratch)
* ``mb``         the file's size; ``peak_mb`` the process's peak resident memory

The rows look like real ones (a ``versions`` string, a timestamp, full-precision scores: ~250 bytes each).
Figures depend on the file system's fsync (``--dir``, default the system temporary folder). Usage::

    python benchmarks/bench_store.py
    python benchmarks/bench_store.py --cases new-100k,old-100k --dir /some/disk
"""

from __future__ import annotations

import argparse
import csv
import os
import resource
import tempfile
import time
from pathlib import Path
from typing import Any

from _harness import parse_or_run_case, print_table, run_cases

from gcbench.results import COLUMNS, ResultsStore, format_cell, read_results, row_key

SIZES = {"1k": 1_000, "100k": 100_000}
CASES = [f"{store}-{size}" for size in SIZES for store in ("old", "new")]


class RewritingStore(ResultsStore):
    """The store before the append-only file: every append takes the lock, re-reads the whole file and
    rewrites it (temporary sibling, fsync, rename) with the new row."""

    def reload(self) -> None:
        if self.path.exists():
            self._reset()
            self._sync()

    def append(self, row: dict[str, Any]) -> None:
        new = {c: format_cell(row.get(c)) for c in COLUMNS}
        key = row_key(new)
        with self._locked():
            self.reload()
            if key not in self._done:
                self._apply(new, key)
                self._write()

    def _write(self) -> None:
        import io

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


def make_row(i: int) -> dict[str, Any]:
    """A row shaped like the runner's, for cell ``i``."""
    return {
        "method": ("random", "herding", "kcenter", "gcond")[i % 4], "dataset": "cora", "ratio": 0.25,
        "n_syn_nodes": 35, "n_syn_edges": 118, "n_nodes": 2708, "arch": ("gcn", "sgc", "mlp")[i // 4 % 3],
        "seed": i // 12, "val_score": 0.578000009059906 + i * 1e-9, "test_score": 0.6420000195503235,
        "metric": "accuracy", "protocol": "reference", "condense_s": 0.2587143119999382,
        "eval_s": 158.49551195799995, "peak_mem_mb": 479.5234375, "config_hash": "662ef25cc1b2",
        "dataset_sha": "aa20ed01dbb40a2a", "device": "cpu",
        "versions": "gcbench=0.1.0;torch=2.13.0+cpu;pyg=2.8.1;python=3.11.7", "status": "ok", "error": "",
        "timestamp": "2026-12-04T18:02:13+00:00",
    }


def write_file(path: Path, n: int) -> None:
    with open(path, "w", encoding="utf-8", newline="") as fh:
        writer = csv.DictWriter(fh, fieldnames=COLUMNS, lineterminator="\n")
        writer.writeheader()
        writer.writerows({c: format_cell(make_row(i).get(c)) for c in COLUMNS} for i in range(n))


def run_case(name: str, args: argparse.Namespace) -> dict:
    kind, size = name.split("-")
    cls = RewritingStore if kind == "old" else ResultsStore
    n = SIZES[size]
    appends = args.appends if kind == "new" or n <= 10_000 else max(1, args.appends // 40)
    with tempfile.TemporaryDirectory(dir=args.dir) as tmp:
        path = Path(tmp) / "results.csv"
        write_file(path, n)
        t0 = time.perf_counter()
        store = cls(path)
        open_s = time.perf_counter() - t0
        t0 = time.perf_counter()
        for i in range(n, n + appends):
            store.append(make_row(i))
        append_ms = (time.perf_counter() - t0) / appends * 1000
        t0 = time.perf_counter()
        df = read_results(path)
        read_s = time.perf_counter() - t0
        assert len(df) == n + appends
        mb = path.stat().st_size / 2**20
        grid = Path(tmp) / "grid.csv"
        t0 = time.perf_counter()
        g = cls(grid)
        for i in range(args.grid):
            g.append(make_row(i))
        grid_s = time.perf_counter() - t0
    return {"case": name, "store": kind, "rows": n, "appends": appends, "open_s": open_s, "append_ms": append_ms,
            "read_s": read_s, "grid_s": grid_s, "mb": mb,
            "peak_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--cases", default=",".join(CASES))
    ap.add_argument("--appends", type=int, default=200, help="rows appended per case (old at 100k: 1/40 of it)")
    ap.add_argument("--grid", type=int, default=2000, help="rows of the from-scratch grid (grid_s)")
    ap.add_argument("--dir", default=None, help="folder for the files (default: the system temporary folder)")
    args = parse_or_run_case(ap, run_case)
    if args is None:
        return
    child = ["--appends", str(args.appends), "--grid", str(args.grid)] + (["--dir", args.dir] if args.dir else [])
    rows = run_cases(__file__, args.cases.split(","), CASES, lambda name: child)
    print(f"files in {args.dir or tempfile.gettempdir()}; grid_s = {args.grid} rows appended into an empty file")
    head = ("case", "rows before", "MB", "open_s", "append_ms", "(appends)", "read_s", "grid_s", "peak_mb")
    print_table(head, (f"| {r['case']} | {r['rows']} | {r['mb']:.1f} | {r['open_s']:.3f} | {r['append_ms']:.2f} | "
                       f"{r['appends']} | {r['read_s']:.3f} | {r['grid_s']:.2f} | {r['peak_mb']:.0f} |" for r in rows))


if __name__ == "__main__":
    main()
