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


def paired_p(a: Mapping[int, float], b: Mapping[int, float]) -> float:
    """Two-sided p-value of the paired t-test of ``a[s] - b[s]`` over the seeds both have (NaN below 2
    seeds; 0 or 1 when every difference is the same, non-zero or zero)."""
    seeds = sorted(set(a) & set(b))
    d = [a[s] - b[s] for s in seeds]
    n = len(d)
    if n < 2:
        return math.nan
    mean = sum(d) / n
    sd = math.sqrt(sum((x - mean) ** 2 for x in d) / (n - 1))
    if sd == 0:
        return 1.0 if mean == 0 else 0.0
    return float(2 * student_t.sf(abs(mean) / (sd / math.sqrt(n)), n - 1))


def holm(pvalues: Iterable[float]) -> list[float]:
    """Holm's step-down adjustment of a family of p-values (NaN entries stay NaN and are not counted): the
    adjusted p of the k-th smallest of m is ``max_{j<=k} min(1, (m - j + 1) p_(j))``; rejecting where it is
    below 0.05 keeps the family-wise error rate at 5 %."""
    ps = list(pvalues)
    idx = sorted((i for i, p in enumerate(ps) if not math.isnan(p)), key=lambda i: ps[i])
    m = len(idx)
    out = [math.nan] * len(ps)
    running = 0.0
    for k, i in enumerate(idx):
        running = max(running, min(1.0, (m - k) * ps[i]))
        out[i] = running
    return out


def verdict(diff: float, half: float) -> str:
    """``better`` / ``worse`` when the interval excludes 0, ``no difference shown`` when it contains 0."""
    if math.isnan(diff) or math.isnan(half):
        return "too few seeds"
    if diff - half > 0:
        return "better"
    if diff + half < 0:
        return "worse"
    return "no difference shown"
