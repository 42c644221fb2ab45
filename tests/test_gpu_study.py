"""benchmarks/gpu_study.sh, the one-call GPU study, proven on the CPU at a tiny scale (its dry run)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from gcbench.results import read_results

ROOT = Path(__file__).resolve().parents[1]


@pytest.mark.slow
def test_gpu_study_dry_run_on_the_cpu_writes_rows_and_a_timing_table(tmp_path):
    pytest.importorskip("ray")
    suite = tmp_path / "suite.yaml"
    suite.write_text((ROOT / "tests" / "data" / "tiny-study.yaml").read_text()
                     .replace("seeds: 0-1", "seeds: [0]")
                     .replace('"srgm:epochs=2:val_every=2"', '"srgm:epochs=1:val_every=1"'))
    out = tmp_path / "out"
    env = {**os.environ, "DEVICE": "cpu", "GPUS_PER_TASK": "0", "CPUS": "2", "LIMIT_S": "400",
           "PYTHON": sys.executable}
    proc = subprocess.run(["bash", str(ROOT / "benchmarks" / "gpu_study.sh"), str(suite), str(out)], env=env,
                          capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, proc.stdout[-2000:] + proc.stderr[-2000:]
    df = read_results(out / "results.csv")
    assert len(df) == 8 and (df["status"] == "ok").all()  # 4 methods x 2 archs x 1 seed
    timing = (out / "timing.md").read_text()
    assert "| srgm:epochs=1:val_every=1 |" in timing and "parallelism" in timing
    assert "passed" in (out / "gpu-tests.txt").read_text()
    assert "exit 0" in (out / "suite.log").read_text()
