"""Confidence intervals for proportions and differences of proportions."""

from __future__ import annotations

import math

from scipy import stats

__all__ = ["clopper_pearson", "newcombe_diff", "wilson"]


def _check(x: int, n: int) -> None:
    if n <= 0:
        raise ValueError(f"denominator must be positive, got n={n}")
    if not 0 <= x <= n:
        raise ValueError(f"count must satisfy 0 <= x <= n, got x={x}, n={n}")


def wilson(x: int, n: int, *, level: float = 0.95) -> tuple[float, float]:
    """Wilson score interval for a binomial proportion (no continuity correction).

    Matches R's ``prop.test(x, n, correct = FALSE)$conf.int``.

    Examples
    --------
    >>> lo, hi = wilson(23, 70)
    >>> round(lo, 4), round(hi, 4)
    (0.23, 0.445)
    """
    _check(x, n)
    z = float(stats.norm.ppf(0.5 + level / 2))
    p = x / n
    denom = 1 + z * z / n
    centre = (p + z * z / (2 * n)) / denom
    half = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / denom
    return max(0.0, centre - half), min(1.0, centre + half)


def clopper_pearson(x: int, n: int, *, level: float = 0.95) -> tuple[float, float]:
    """Exact (Clopper–Pearson) interval; matches R's ``binom.test(x, n)$conf.int``.

    Examples
    --------
    >>> lo, hi = clopper_pearson(23, 70)
    >>> round(lo, 6), round(hi, 6)
    (0.220949, 0.451219)
    """
    _check(x, n)
    a = 1 - level
    lo = 0.0 if x == 0 else float(stats.beta.ppf(a / 2, x, n - x + 1))
    hi = 1.0 if x == n else float(stats.beta.ppf(1 - a / 2, x + 1, n - x))
    return lo, hi


def newcombe_diff(
    x1: int, n1: int, x2: int, n2: int, *, level: float = 0.95
) -> tuple[float, float]:
    """Newcombe's hybrid-score interval (method 10) for ``p1 - p2`` of independent samples.

    Built from the two Wilson intervals (Newcombe 1998, Stat Med 17:873).

    Examples
    --------
    >>> lo, hi = newcombe_diff(56, 70, 48, 80)
    >>> round(lo, 4), round(hi, 4)
    (0.0524, 0.3339)
    """
    _check(x1, n1)
    _check(x2, n2)
    p1, p2 = x1 / n1, x2 / n2
    l1, u1 = wilson(x1, n1, level=level)
    l2, u2 = wilson(x2, n2, level=level)
    d = p1 - p2
    lo = d - math.sqrt((p1 - l1) ** 2 + (u2 - p2) ** 2)
    hi = d + math.sqrt((u1 - p1) ** 2 + (p2 - l2) ** 2)
    # The limits lie in [-1, 1]; a Wilson limit rounded just below 1 (e.g. 25/25) could push
    # them out by one ulp, so clamp (found by the property test: 0/3 vs 25/25).
    return max(-1.0, lo), min(1.0, hi)
