#!/usr/bin/env bash
# One GPU, one call: the GPU checks, then a study suite run concurrently on the GPU, then a timing table.
#
#   benchmarks/gpu_study.sh [SUITE] [OUT]        # default: srgm-study into runs/gpu-study
#
# The suite runs as Ray tasks, one per condensation, GPUS_PER_TASK of the GPU each (default 0.125: eight
# condensations share it) and one CPU each, on every core (CPUS, default nproc), under LIMIT_S seconds
# (default 480; the run is interrupted then, and what finished stays in OUT/results.csv, resumable by
# running the same command again). Its estimate (`gcbench run --estimate`) is printed first when
# ESTIMATE=1. Everything goes to OUT: device.txt, gpu-tests.txt, suite.log, timing.md.
#
# A CPU dry run at a tiny scale (tests/test_gpu_study.py does this):
#   DEVICE=cpu GPUS_PER_TASK=0 LIMIT_S=120 benchmarks/gpu_study.sh tests/data/tiny-study.yaml /tmp/gs
set -uo pipefail
cd "$(dirname "$0")/.."
SUITE=${1:-srgm-study}
OUT=${2:-runs/gpu-study}
PY=${PYTHON:-python}
DEVICE=${DEVICE:-cuda}
F=${GPUS_PER_TASK:-0.125}
CPUS=${CPUS:-$(nproc)}
LIMIT=${LIMIT_S:-480}
mkdir -p "$OUT"

"$PY" - <<'PYEOF' | tee "$OUT/device.txt"
import platform, torch
print(f"torch {torch.__version__}, python {platform.python_version()}, {torch.get_num_threads()} threads")
if torch.cuda.is_available():
    for i in range(torch.cuda.device_count()):
        p = torch.cuda.get_device_properties(i)
        print(f"cuda:{i} {p.name}, {p.total_memory / 2**30:.0f} GiB")
else:
    print("no CUDA device")
PYEOF

# 1. the GPU checks (GPU against CPU); on the CPU dry run, their code paths CPU against CPU
start=$SECONDS
GCBENCH_TEST_DEVICE=$DEVICE "$PY" -m pytest -q -m gpu tests/test_gpu.py -p no:cacheprovider 2>&1 | tail -3 \
    | tee "$OUT/gpu-tests.txt"
tests_rc=${PIPESTATUS[0]}
echo "gpu tests: exit $tests_rc, $((SECONDS - start)) s" | tee -a "$OUT/gpu-tests.txt"

# 2. the suite, concurrently on the device
if [ "${ESTIMATE:-0}" = 1 ]; then
    OMP_NUM_THREADS=1 "$PY" -m gcbench run --suite "$SUITE" --out "$OUT" --device "$DEVICE" --estimate \
        2>>"$OUT/suite.log" | tee "$OUT/estimate.md"
fi
start=$SECONDS
OMP_NUM_THREADS=1 timeout --signal=INT --kill-after=30 "$LIMIT" "$PY" -m gcbench run --suite "$SUITE" \
    --out "$OUT" --device "$DEVICE" --executor ray --ray-cpus "$CPUS" --cpus-per-task 1 --gpus-per-task "$F" \
    --no-progress --quiet >>"$OUT/suite.log" 2>&1
suite_rc=$?
wall=$((SECONDS - start))
echo "suite $SUITE: exit $suite_rc (124/130: stopped at the time limit, resumable), ${wall} s wall-clock" \
    | tee -a "$OUT/suite.log"

# 3. the timing table
"$PY" benchmarks/study_timing.py "$OUT" --wall "$wall" | tee "$OUT/timing.md"
[ "$tests_rc" = 0 ] || exit "$tests_rc"
exit 0
