"""The SR-GM study (issue 6): run a study suite, then write its verdicts with 95 % intervals.

    python benchmarks/srgm_study.py RUN                                   # report only: RUN/study.md
    python benchmarks/srgm_study.py RUN --run [--suite leaderboards/suites/srgm-study-small.yaml]
                                        [--executor ray --ray-cpus 2 --cpus-per-task 1]

With ``--run`` the suite (default ``srgm-study-small.yaml``, the CPU-sized one; ``srgm-study.yaml`` is the
study at the methods' defaults) is run into ``RUN`` by ``gcbench run --suite`` (resumable: a rerun computes
only the missing rows; the executor flags are passed through), then the gallery is drawn (``gcbench plot``:
ablation bars, convergence, SR-GM diagnostics, score vs conflict level). The report
(:mod:`gcbench.report.study`) is printed and written to ``RUN/study.md``: per question ("SR-GM beats GCond",
"damping helps", each srgm-plus switch...) and per dataset, ratio and architecture the seed-paired
difference with its 95 % Student-t interval and a verdict, the scores, and the condensed graphs' edge counts.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from gcbench import cli
from gcbench.errors import GCBenchError
from gcbench.report.rows import read_inputs
from gcbench.report.study import folder_study, report

REPO = Path(__file__).resolve().parents[1]
DEFAULT_SUITE = REPO / "leaderboards" / "suites" / "srgm-study-small.yaml"


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("out", help="results folder of the study")
    p.add_argument("--run", action="store_true", help="run (or resume) the suite into OUT first")
    p.add_argument("--suite", default=str(DEFAULT_SUITE), help="suite file (default: %(default)s)")
    p.add_argument("--title", default=None, help="report title (default: the suite's or folder's name)")
    args, passthrough = p.parse_known_args(argv)
    if passthrough and not args.run:
        p.error(f"unknown arguments without --run: {' '.join(passthrough)}")
    out = Path(args.out)
    if args.run:
        rc = cli.main(["run", "--suite", args.suite, "--out", str(out), "--no-progress", *passthrough])
        if rc != 0:
            return rc
        rc = cli.main(["plot", str(out)])
        if rc != 0:
            return rc
    try:
        inputs = read_inputs(out)
        if inputs.results is None:
            raise GCBenchError(f"no results.csv in {out}")
        text = report(inputs.results, title=args.title or f"SR-GM study: {out.name}", study=folder_study(out),
                      logs=inputs.logs, nas_rows=inputs.nas)
    except GCBenchError as exc:
        print(f"srgm_study: {exc}", file=sys.stderr)
        return 2
    (out / "study.md").write_text(text)
    print(text)
    print(f"srgm_study: wrote {out / 'study.md'}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
