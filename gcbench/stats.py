"""Small statistics shared by the plots and the study reports: Student-t 95 % intervals over seeds.

Seeds are the unit of replication: a cell's scores over seeds are independent draws, so the interval of a
mean is ``mean ± t(0.975, n-1) * sd / sqrt(n)``; a difference between two methods is taken *paired by seed*
(the same seed gives both methods the same data split, initial draws and evaluation seed), which removes
the seed-to-seed variance the two share.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping

from scipy.stats import t as student_t

LEVEL = 0.95


def mean_ci(values: Iterable[float], level: float = LEVEL) -> tuple[float, float, int]:
    """``(mean, half-width, n)`` of the two-sided Student-t interval; half-width NaN below two values."""
    vals = sorted(float(v) for v in values if not math.isnan(float(v)))
    n = len(vals)
    if not n:
        return math.nan, math.nan, 0
    mean = math.fsum(vals) / n
    if n < 2:
        return mean, math.nan, 1
    sd = math.sqrt(math.fsum((v - mean) ** 2 for v in vals) / (n - 1))
    return mean, float(student_t.ppf(0.5 + level / 2, n - 1)) * sd / math.sqrt(n), n


def paired_diff_ci(a: Mapping[int, float], b: Mapping[int, float], level: float = LEVEL
                   ) -> tuple[float, float, int]:
    """Mean and interval of ``a[s] - b[s]`` over the seeds ``s`` both have (see the module docstring)."""
    seeds = sorted(set(a) & set(b))
    return mean_ci([a[s] - b[s] for s in seeds], level)


def verdict(diff: float, half: float) -> str:
    """``better`` / ``worse`` when the interval excludes 0, ``no difference shown`` when it contains 0."""
    if math.isnan(diff) or math.isnan(half):
        return "too few seeds"
    if diff - half > 0:
        return "better"
    if diff + half < 0:
        return "worse"
    return "no difference shown"
