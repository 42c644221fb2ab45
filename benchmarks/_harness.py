"""Shared driver of the benchmark scripts: one process per case, rows back as JSON, peak memory.

Each script calls itself with ``--case NAME`` (plus its own arguments) in a fresh interpreter, so the peak
resident memory a case reports is its own; the child prints one JSON object as its last stdout line."""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
from collections.abc import Callable, Iterable
from pathlib import Path

import torch


def default_data_root() -> str:
    """``$GCBENCH_DATA`` or the shared Planetoid folder beside the checkout."""
    return os.environ.get("GCBENCH_DATA", str(Path(__file__).resolve().parents[2] / "shared" / "data" / "planetoid"))


def sync(device: torch.device) -> None:
    if device.type == "cuda":
        torch.cuda.synchronize(device)


def peak_mb(device: torch.device) -> float:
    """Peak CUDA memory on a GPU, else the process's peak resident memory, in MiB."""
    if device.type == "cuda":
        return torch.cuda.max_memory_allocated(device) / 2**20
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def parse_or_run_case(ap: argparse.ArgumentParser, run_case: Callable[[str, argparse.Namespace], dict]
                      ) -> argparse.Namespace | None:
    """Parse the command line; in a child (``--case NAME``) run the case, print its row as JSON and return
    ``None``; in the parent return the arguments."""
    ap.add_argument("--case", help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.case:
        print(json.dumps(run_case(args.case, args)))
        return None
    return args


def run_cases(script: str, names: Iterable[str], known: Iterable[str], child_args: Callable[[str], list[str]],
              env: Callable[[str], dict[str, str]] | None = None) -> list[dict]:
    """Run ``script --case NAME <child_args(NAME)>`` for each name in its own process and collect the rows.

    An unknown name exits with one line listing the known cases; a failed case prints its last error line
    and is left out; no row at all exits non-zero."""
    known = list(known)
    names = list(names)
    for name in names:
        if name not in known:
            sys.exit(f"unknown case {name!r}; known: {', '.join(known)}")
    rows = []
    for name in names:
        cmd = [sys.executable, script, "--case", name] + child_args(name)
        proc = subprocess.run(cmd, capture_output=True, text=True, env=env(name) if env else None)
        if proc.returncode:
            err = proc.stderr.strip().splitlines()
            print(f"{name}: failed\n{err[-1] if err else ''}")
            continue
        rows.append(json.loads(proc.stdout.strip().splitlines()[-1]))
    if not rows:
        sys.exit(1)
    return rows


def print_table(head: tuple[str, ...], lines: Iterable[str]) -> None:
    """A Markdown table: ``head`` and one pre-formatted ``| ... |`` line per row."""
    print("| " + " | ".join(head) + " |")
    print("|" + "---|" * len(head))
    for line in lines:
        print(line)
