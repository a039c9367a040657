"""Wilcoxon signed-rank test with the Hodges–Lehmann estimate and interval, as R computes them.

:func:`signrank_test` follows R's ``wilcox.test(x, conf.int = TRUE)`` (one sample of changes,
two-sided, ``mu = 0``), including ``exact=`` and ``correct=``: the continuity correction is
applied (or not) both to the p value and to the interval limits, as R does.
:func:`hodges_lehmann` is the median of the Walsh averages, computed without forming them.

Design-free: the pre/post design calls these; nothing here knows about a design.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

import numpy as np
from numpy.typing import NDArray
from scipy import stats

from pfseval.errors import DesignError, PfsevalWarning
from pfseval.messages import Notice, declare_messages

__all__ = ["SignRankResult", "hodges_lehmann", "signrank_test"]

FloatArray = NDArray[np.float64]

declare_messages(
    {
        "signrank.level_not_achievable": {
            "en": "The requested {requested:.0%} level is not achievable with {n_nonzero} "
            "non-zero changes; the signed-rank interval has level {achieved:.3g}.",
            "ja": "変化が0でない人が{n_nonzero}人のため、指定した信頼水準{requested:.0%}の"
            "符号付き順位区間は作れません。実際の信頼水準は{achieved:.3g}です。",
        },
        "signrank.normal_approximation": {
            "en": "Ties or zero changes: the signed-rank test used the normal approximation "
            "instead of the exact distribution.",
            "ja": "同順位または変化0の人がいるため、符号付き順位検定は正確分布ではなく正規近似で"
            "計算しました。",
        },
        "signrank.no_interval": {
            "en": "All non-zero changes are equal: no signed-rank interval can be computed.",
            "ja": "0でない変化がすべて同じ値のため、符号付き順位区間は計算できません。",
        },
    }
)


@lru_cache(maxsize=64)
def _signrank_cdf(n: int) -> FloatArray:
    """Cumulative null distribution of the signed-rank statistic V for ``n`` pairs (no ties)."""
    top = n * (n + 1) // 2
    counts = np.zeros(top + 1)
    counts[0] = 1.0
    for k in range(1, n + 1):
        counts[k:] = counts[k:] + counts[:-k].copy()
    cdf = np.cumsum(counts / 2.0**n)
    cdf.setflags(write=False)
    return cdf


def _psignrank(q: float, n: int) -> float:
    """P(V <= q) for the exact signed-rank distribution (R ``psignrank``)."""
    qi = math.floor(q + 1e-7)
    if qi < 0:
        return 0.0
    cdf = _signrank_cdf(n)
    return float(cdf[min(qi, len(cdf) - 1)])


def _qsignrank(p: float, n: int) -> int:
    """Smallest q with P(V <= q) >= p (R ``qsignrank``, with its 10·eps fuzz)."""
    cdf = _signrank_cdf(n)
    target = p - 10 * np.finfo(float).eps
    return int(np.searchsorted(cdf, target, side="left"))


_SIGN = 1 << 63


def _f2i(f: float) -> int:
    """Map a float to an integer preserving order (adjacent floats -> adjacent integers)."""
    b = int(np.array([f], dtype=np.float64).view(np.int64)[0])
    return b if b >= 0 else -(b & (_SIGN - 1))


def _i2f(i: int) -> float:
    u = i if i >= 0 else (-i) | _SIGN
    return float(np.array([u], dtype=np.uint64).view(np.float64)[0])


def _count_pair_sums_le(xs: FloatArray, s: float) -> int:
    """#{i <= j : fl(xs_i + xs_j) <= s} for sorted ``xs``: a vectorised binary search per i.

    The floating-point sum is monotone in ``xs_j``, so the comparison is exact (no rounding
    of ``s - xs_i``) and the count is O(n log n).
    """
    n = len(xs)
    lo = np.arange(n)
    hi = np.full(n, n)
    while True:
        active = lo < hi
        if not active.any():
            break
        mid = (lo + hi) // 2
        ok = (xs + xs[np.minimum(mid, n - 1)]) <= s
        lo = np.where(active & ok, mid + 1, lo)
        hi = np.where(active & ~ok, mid, hi)
    return int((lo - np.arange(n)).sum())


def _walsh_kth(xs: FloatArray, k: int) -> float:
    """The k-th smallest (1-based) pairwise sum ``fl(x_i + x_j)`` (i <= j) of sorted ``xs``.

    Bisection over the ordered bit patterns of floats (at most 64 steps), each step an exact
    O(n log n) count, so the result is exactly the pair sum R's ``outer(x, x, "+")`` holds,
    without building the n(n+1)/2 sums.
    """
    lo, hi = _f2i(2 * xs[0]), _f2i(2 * xs[-1])
    if _count_pair_sums_le(xs, _i2f(lo)) >= k:
        return _i2f(lo)
    while hi - lo > 1:  # invariant: count(lo) < k <= count(hi)
        mid = (lo + hi) // 2
        if _count_pair_sums_le(xs, _i2f(mid)) >= k:
            hi = mid
        else:
            lo = mid
    return _i2f(hi)


def hodges_lehmann(x: Any) -> float:
    """Hodges–Lehmann estimate: the median of the Walsh averages ``(x_i + x_j)/2``, i <= j.

    Computed without forming the n(n+1)/2 averages (O(n log n) per bisection step).

    Examples
    --------
    >>> hodges_lehmann([1.0, 2.0, 9.0])  # Walsh averages 1, 1.5, 2, 5, 5.5, 9
    3.5
    """
    xs = np.sort(np.asarray(x, dtype=float))
    if xs.size == 0:
        raise DesignError("hodges_lehmann needs at least one value")
    total = len(xs) * (len(xs) + 1) // 2
    if total % 2:
        return _walsh_kth(xs, (total + 1) // 2) / 2
    return (_walsh_kth(xs, total // 2) + _walsh_kth(xs, total // 2 + 1)) / 4


def _w_stat(x: FloatArray, d: float, correct: bool) -> float:
    """R's standardised signed-rank statistic of ``x - d`` (zeros dropped, tie-corrected)."""
    xd = x - d
    xd = xd[xd != 0]
    nx = len(xd)
    r = stats.rankdata(np.abs(xd))
    zd = float(r[xd > 0].sum()) - nx * (nx + 1) / 4
    _, t = np.unique(np.abs(xd), return_counts=True)
    var = nx * (nx + 1) * (2 * nx + 1) / 24 - float((t**3 - t).sum()) / 48
    sigma = math.sqrt(var) if var > 0 else 0.0
    corr = 0.5 * np.sign(zd) if correct else 0.0
    with np.errstate(divide="ignore", invalid="ignore"):
        return float(np.float64(zd - corr) / np.float64(sigma))


def _root(
    x: FloatArray, zq: float, lo: float, hi: float, f_lo: float, f_hi: float, correct: bool
) -> float:
    """Where the step function W(d) - zq changes sign on [lo, hi] (f(lo) >= 0 >= f(hi)).

    ``W`` carries the continuity correction exactly when the test does (R applies
    ``correct`` to the interval's ``wdiff`` too).
    """
    if f_lo <= 0:
        return lo
    if f_hi >= 0:
        return hi
    scale = max(abs(lo), abs(hi), 1e-300)
    for _ in range(2000):
        mid = 0.5 * (lo + hi)
        if not lo < mid < hi or hi - lo <= 2 * np.finfo(float).eps * scale:
            break
        fm = _w_stat(x, mid, correct) - zq
        if fm == 0:
            return mid
        if fm > 0:
            lo = mid
        else:
            hi = mid
    return 0.5 * (lo + hi)


def _not_achievable(requested: float, n_nonzero: int, achieved: float) -> Notice:
    return Notice(
        "signrank.level_not_achievable",
        category=PfsevalWarning,
        counts={"n_nonzero": n_nonzero},
        params={"requested": requested, "achieved": achieved},
    )


@dataclass(frozen=True)
class SignRankResult:
    """Result of :func:`signrank_test` (R ``wilcox.test(x, conf.int = TRUE)``)."""

    statistic: float
    p_value: float
    estimate: float
    conf_low: float
    conf_high: float
    level: float
    exact: bool
    n_nonzero: int
    n_zero: int
    ties: bool
    notices: tuple[Notice, ...]


def signrank_test(
    x: Any, *, level: float = 0.95, exact: bool | None = None, correct: bool = True
) -> SignRankResult:
    """Wilcoxon signed-rank test of ``x`` (changes) with Hodges–Lehmann estimate and interval.

    Follows R's ``wilcox.test(x, conf.int = TRUE)`` (two-sided, ``mu = 0``): zero changes are
    dropped; with fewer than 50 non-zero changes and no ties or zeros the exact null
    distribution is used (interval from the ordered Walsh averages); otherwise the normal
    approximation with tie and continuity corrections, the interval limits being where the
    standardised statistic of ``x - d`` crosses the normal quantiles (found exactly by
    bisection on the step function, where R uses ``uniroot`` with ``tol.root``). When the
    requested level cannot be achieved, ``level`` is the achieved level (R's ``conf.level``).
    The estimate is the median of the Walsh averages of the non-zero changes in both cases.

    Examples
    --------
    >>> r = signrank_test([-1.2, -0.4, -2.5, 0.3, -1.9, -0.8, -3.1, -0.05])
    >>> r.exact, r.statistic, round(r.p_value, 5), round(r.estimate, 3)  # as R wilcox.test
    (True, 2.0, 0.02344, -1.175)
    """
    if not 0 < level < 1:
        raise DesignError(f"level must be between 0 and 1 (e.g. 0.95), got {level!r}")
    xa = np.asarray(x, dtype=float)
    xa = xa[~np.isnan(xa)]
    n_zero = int((xa == 0).sum())
    xa = xa[xa != 0]
    n = len(xa)
    if n == 0:
        raise DesignError("all changes are zero: the signed-rank test is not defined")
    use_exact = (n < 50) if exact is None else exact
    r = stats.rankdata(np.abs(xa))
    v = float(r[xa > 0].sum())
    ties = len(np.unique(r)) != n
    msgs: list[Notice] = []
    alpha = 1 - level
    xs = np.sort(xa)
    total = n * (n + 1) // 2
    if use_exact and not ties and n_zero == 0:
        # P(V >= v) = P(V <= N - v) by symmetry: no cancellation in 1 - cdf for tiny p
        p = _psignrank(total - v, n) if v > n * (n + 1) / 4 else _psignrank(v, n)
        pval = min(2 * p, 1.0)
        qu = _qsignrank(alpha / 2, n)
        if qu == 0:
            qu = 1
        ql = total - qu
        achieved = 2 * _psignrank(qu - 1, n)
        lo = _walsh_kth(xs, qu) / 2
        hi = _walsh_kth(xs, ql + 1) / 2
        got_level = level
        if achieved - alpha > alpha / 2:
            got_level = 1 - float(f"{achieved:.2g}")
            msgs.append(_not_achievable(level, n, got_level))
        return SignRankResult(
            v, pval, hodges_lehmann(xa), lo, hi, got_level, True, n, n_zero, ties, tuple(msgs)
        )
    # normal approximation
    zz = _w_stat(xa, 0.0, correct)
    pval = float(2 * min(stats.norm.cdf(zz), stats.norm.sf(zz)))
    if use_exact and (ties or n_zero):
        msgs.append(Notice("signrank.normal_approximation", category=PfsevalWarning))
    mumin, mumax = float(xs[0]), float(xs[-1])
    w_min = _w_stat(xa, mumin, correct)
    w_max = _w_stat(xa, mumax, correct) if math.isfinite(w_min) else float("nan")
    got_level = level
    if not math.isfinite(w_max):
        msgs.append(Notice("signrank.no_interval", category=PfsevalWarning))
        return SignRankResult(
            v, pval, (mumin + mumax) / 2, math.nan, math.nan, 0.0, False, n, n_zero, ties,
            tuple(msgs),
        )  # fmt: skip
    while alpha < 1:
        if w_min - stats.norm.isf(alpha / 2) < 0 or w_max - stats.norm.ppf(alpha / 2) > 0:
            alpha *= 2
        else:
            break
    if alpha >= 1 or 1 - level < alpha * 0.75:
        got_level = 1 - min(1.0, alpha)
        msgs.append(_not_achievable(level, n, got_level))
    if alpha < 1:
        zq_l, zq_u = float(stats.norm.isf(alpha / 2)), float(stats.norm.ppf(alpha / 2))
        lo = _root(xa, zq_l, mumin, mumax, w_min - zq_l, w_max - zq_l, correct)
        hi = _root(xa, zq_u, mumin, mumax, w_min - zq_u, w_max - zq_u, correct)
    else:
        lo = hi = float(np.median(xa))
    return SignRankResult(
        v, pval, hodges_lehmann(xa), lo, hi, got_level, False, n, n_zero, ties, tuple(msgs)
    )
