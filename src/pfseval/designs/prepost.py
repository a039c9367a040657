"""Pre/post design (事前事後比較): the same people measured before and after the programme.

Every function takes a data frame with one row per person and two columns, ``before`` and
``after``, and returns an :class:`~pfseval.result.Estimate` whose ``value`` is expressed as
*after − before* (negative = the value went down):

- :func:`compare` — mean change with the paired-t interval (R ``t.test(paired = TRUE)``), or
  the Wilcoxon signed-rank test with the Hodges–Lehmann estimate and its interval, computed as
  R's ``wilcox.test(conf.int = TRUE)`` does; with ``comparison=`` the difference of mean changes
  between participants and a comparison group (Welch interval), the adjustment for regression
  to the mean.
- :func:`paired_proportions` — a 0/1 item before and after: difference of paired proportions
  with Newcombe's (1998) method-10 interval and McNemar's test (exact binomial when the
  discordant pairs are few).
- :func:`share_improved` — share of people improved under a rule, Wilson and Clopper–Pearson.
- :func:`count_total` — total of per-person counts (e.g. drugs reduced) with an interval.

People with only a ``before`` or only an ``after`` value are excluded from the analysis and
counted in the :class:`~pfseval.result.SampleFlow` (with an :class:`~pfseval.errors.AttritionWarning`);
``strict=True`` turns them into a :class:`~pfseval.errors.DataValidationError` instead.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from functools import lru_cache
from typing import Any, Literal

import numpy as np
import pandas as pd
from numpy.typing import NDArray
from scipy import stats

from pfseval.designs._checks import numeric_column
from pfseval.errors import (
    AttritionWarning,
    DataProblem,
    DataValidationError,
    DesignError,
    PfsevalWarning,
    SmallSampleWarning,
)
from pfseval.inference import clopper_pearson, t_interval, wilson
from pfseval.result import Estimate, SampleFlow, emit_warnings, provenance

__all__ = [
    "RegressionToMeanWarning",
    "SignRankResult",
    "compare",
    "count_total",
    "hodges_lehmann",
    "newcombe_paired",
    "paired_proportions",
    "share_improved",
    "signrank_test",
]

FloatArray = NDArray[np.float64]

#: Standardised baseline difference (participants − comparison, in pooled SDs) above which the
#: participants are taken to have been selected on a high baseline value.
RTM_SMD_THRESHOLD = 0.5
#: McNemar: exact binomial p value when the discordant pairs are fewer than this (``"auto"``).
MCNEMAR_EXACT_BELOW = 25
#: Fewer analysed pairs than this give a SmallSampleWarning.
SMALL_N = 10


class RegressionToMeanWarning(PfsevalWarning):
    """Participants were selected on a high (or low) baseline: part of the change is regression
    to the mean, not the programme."""


# ---------------------------------------------------------------- pairing and the sample flow


@dataclass(frozen=True)
class _Pairs:
    before: FloatArray
    after: FloatArray
    pos: NDArray[np.int64]
    flow: SampleFlow
    warnings: tuple[str, ...]


def _check_level(level: float) -> None:
    if not 0 < level < 1:
        raise DesignError(f"level must be between 0 and 1 (e.g. 0.95), got {level!r}")


def _row_ids(data: pd.DataFrame, id_column: str | None) -> NDArray[Any]:
    if id_column is not None and id_column in data.columns:
        return np.asarray(data[id_column].to_numpy(), dtype=object)
    return np.asarray(data.index.to_numpy(), dtype=object)


def _check_unique_ids(ids: pd.Series, id_column: str, context: str) -> None:
    """One row per person: a repeated id would be counted as two people."""
    dup = np.flatnonzero(ids.duplicated(keep=False).to_numpy() & ids.notna().to_numpy())
    if dup.size:
        raise DataValidationError(
            [
                DataProblem(
                    column=id_column,
                    kind="duplicate",
                    message=f"the same {id_column} appears on more than one row; each row "
                    "would be analysed as a separate person",
                    rows=tuple(int(i) for i in dup),
                    values=tuple(ids.iloc[dup[:10]].tolist()),
                    expected="one row per person with both the before and the after value "
                    "(merge or remove the repeated records)",
                )
            ],
            source=context,
        )


def _pairs(
    data: pd.DataFrame,
    before: str,
    after: str,
    *,
    strict: bool,
    id_column: str | None,
    context: str,
    mask: NDArray[np.bool_] | None = None,
    group: str = "participants",
) -> _Pairs:
    """Complete pairs of ``before``/``after`` with a sample flow for one group of rows."""
    b = numeric_column(data, before, context=context)
    a = numeric_column(data, after, context=context)
    ids = _row_ids(data, id_column)
    if id_column is not None and id_column in data.columns:
        _check_unique_ids(data[id_column], id_column, context)
    pos = np.arange(len(data))
    if mask is not None:
        b, a, ids, pos = b[mask], a[mask], ids[mask], pos[mask]
    hb, ha = ~np.isnan(b), ~np.isnan(a)
    only_b, only_a, neither = hb & ~ha, ~hb & ha, ~hb & ~ha
    if strict and (only_b.any() or only_a.any() or neither.any()):
        problems = []
        for m, col, what in (
            (only_b, after, "has a before value but no after value"),
            (only_a, before, "has an after value but no before value"),
            (neither, before, "has neither a before nor an after value"),
        ):
            if m.any():
                problems.append(
                    DataProblem(
                        column=col,
                        kind="missing",
                        message=f"{int(m.sum())} person(s) {what}",
                        rows=tuple(int(i) for i in pos[m]),
                        expected="both values present (or call with strict=False: such people "
                        "are then excluded and counted in the sample flow)",
                    )
                )
        raise DataValidationError(problems, source=context)
    flow = SampleFlow.start({group: len(b)})
    flow = flow.exclude(f"no {after} value (only {before})", ids[only_b].tolist(), group=group)
    flow = flow.exclude(f"no {before} value (only {after})", ids[only_a].tolist(), group=group)
    flow = flow.exclude(f"neither {before} nor {after}", ids[neither].tolist(), group=group)
    warns: list[str] = []
    n_miss = int((only_b | only_a).sum())
    if n_miss:
        warns.append(
            f"{group}: {int(only_b.sum())} person(s) have only a before value and "
            f"{int(only_a.sum())} only an after value; they are excluded (see the sample flow). "
            "If follow-up is missing for reasons linked to the outcome, the change is biased."
        )
    ok = hb & ha
    return _Pairs(b[ok], a[ok], pos[ok], flow, tuple(warns))


_Warn = tuple[type[Warning], str]


def _build(
    attrition: tuple[str, ...], other: list[_Warn], *, depth: int = 0, **fields: Any
) -> Estimate:
    """Make the Estimate with every warning recorded, then issue the warnings.

    ``depth`` = extra private frames between the public function and this call.
    """
    est = Estimate(warnings=(*attrition, *(m for _, m in other)), **fields)
    emit_warnings(attrition, AttritionWarning, stacklevel=4 + depth)
    for cat, msg in other:
        emit_warnings([msg], cat, stacklevel=4 + depth)
    return est


def _small_n_warning(n: int) -> list[_Warn]:
    if n < SMALL_N:
        msg = f"only {n} complete pairs: the interval rests on few people and is wide."
        return [(SmallSampleWarning, msg)]
    return []


# ---------------------------------------------------------------- Wilcoxon signed rank


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


def _root(x: FloatArray, zq: float, lo: float, hi: float, f_lo: float, f_hi: float) -> float:
    """Where the step function W(d) - zq changes sign on [lo, hi] (f(lo) >= 0 >= f(hi))."""
    if f_lo <= 0:
        return lo
    if f_hi >= 0:
        return hi
    scale = max(abs(lo), abs(hi), 1e-300)
    for _ in range(2000):
        mid = 0.5 * (lo + hi)
        if not lo < mid < hi or hi - lo <= 2 * np.finfo(float).eps * scale:
            break
        fm = _w_stat(x, mid, True) - zq
        if fm == 0:
            return mid
        if fm > 0:
            lo = mid
        else:
            hi = mid
    return 0.5 * (lo + hi)


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
    messages: tuple[str, ...]


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
    _check_level(level)
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
    msgs: list[str] = []
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
            msgs.append(
                f"the requested {level:.0%} level is not achievable with {n} non-zero changes; "
                f"the exact interval has level {got_level:.3g}"
            )
        return SignRankResult(
            v, pval, hodges_lehmann(xa), lo, hi, got_level, True, n, n_zero, ties, tuple(msgs)
        )
    # normal approximation
    zz = _w_stat(xa, 0.0, correct)
    pval = float(2 * min(stats.norm.cdf(zz), stats.norm.sf(zz)))
    if use_exact and (ties or n_zero):
        msgs.append("ties or zero changes: normal approximation used instead of the exact test")
    mumin, mumax = float(xs[0]), float(xs[-1])
    w_min = _w_stat(xa, mumin, correct)
    w_max = _w_stat(xa, mumax, correct) if math.isfinite(w_min) else float("nan")
    got_level = level
    if not math.isfinite(w_max):
        msgs.append("all non-zero changes are equal: no signed-rank interval can be computed")
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
        msgs.append(
            f"the requested {level:.0%} level is not achievable with {n} non-zero changes; "
            f"the interval has level {got_level:.3g}"
        )
    if alpha < 1:
        zq_l, zq_u = float(stats.norm.isf(alpha / 2)), float(stats.norm.ppf(alpha / 2))
        lo = _root(xa, zq_l, mumin, mumax, w_min - zq_l, w_max - zq_l)
        hi = _root(xa, zq_u, mumin, mumax, w_min - zq_u, w_max - zq_u)
    else:
        lo = hi = float(np.median(xa))
    return SignRankResult(
        v, pval, hodges_lehmann(xa), lo, hi, got_level, False, n, n_zero, ties, tuple(msgs)
    )


# ---------------------------------------------------------------- compare


def _paired_t(d: FloatArray, level: float) -> tuple[float, float, float, float, float]:
    n = len(d)
    mean = float(d.mean())
    se = float(d.std(ddof=1) / math.sqrt(n))
    lo, hi = t_interval(mean, se, n - 1, level=level)
    p = float(2 * stats.t.sf(abs(mean / se), n - 1)) if se > 0 else float(mean == 0)
    return mean, lo, hi, se, p


def _welch(
    d1: FloatArray, d2: FloatArray, level: float
) -> tuple[float, float, float, float, float, float]:
    n1, n2 = len(d1), len(d2)
    v1, v2 = float(d1.var(ddof=1)) / n1, float(d2.var(ddof=1)) / n2
    diff = float(d1.mean() - d2.mean())
    se = math.sqrt(v1 + v2)
    df = (v1 + v2) ** 2 / (v1**2 / (n1 - 1) + v2**2 / (n2 - 1)) if se > 0 else float(n1 + n2 - 2)
    lo, hi = t_interval(diff, se, df, level=level)
    p = float(2 * stats.t.sf(abs(diff / se), df)) if se > 0 else (1.0 if diff == 0 else 0.0)
    return diff, lo, hi, se, p, df


def compare(
    data: pd.DataFrame,
    *,
    before: str,
    after: str,
    level: float = 0.95,
    method: Literal["t", "wilcoxon"] = "t",
    comparison: str | None = None,
    selected_on_baseline: bool = False,
    strict: bool = False,
    id_column: str | None = "person_id",
    label: str = "",
) -> Estimate:
    """Change from before to after in the same people (``value`` = after − before).

    Parameters
    ----------
    data
        One row per person.
    before, after
        Columns with the value before and after the programme.
    level
        Confidence level.
    method
        ``"t"``: mean change, paired-t interval (R ``t.test(after, before, paired = TRUE)``).
        ``"wilcoxon"``: Hodges–Lehmann estimate of the (pseudo)median change with the
        signed-rank interval and p value (R ``wilcox.test(after, before, paired = TRUE,
        conf.int = TRUE)``; exact for fewer than 50 non-zero changes without ties, normal
        approximation with continuity correction otherwise; see :func:`signrank_test`).
    comparison
        A 0/1 column: 1 marks people of a comparison group (not in the programme) measured at
        the same times, 0 the participants. The estimate then becomes the difference of mean
        changes, participants − comparison, with Welch's interval (R ``t.test(change_p,
        change_c)``): the adjustment for regression to the mean and for outside influences.
        Only with ``method="t"``.
    selected_on_baseline
        Say ``True`` when participants were chosen because their ``before`` value was high (or
        low): without a comparison group a warning says that part of the change is regression
        to the mean. With a comparison group the warning is also given when the participants'
        baseline mean is more than 0.5 pooled SD from the comparison group's.
    strict
        ``True``: people with only one of the two values raise
        :class:`~pfseval.errors.DataValidationError`; ``False`` (default): they are excluded and
        counted in the sample flow, with an :class:`~pfseval.errors.AttritionWarning`.
    id_column
        Column whose values identify people in the sample flow (row labels when absent).
        One row per person: a repeated id raises
        :class:`~pfseval.errors.DataValidationError` (here and in the other functions of
        this module).
    label
        Display name of the indicator.

    Returns
    -------
    Estimate
        ``estimand`` is ``"mean_change"``, ``"pseudo_median_change"`` or
        ``"difference_in_mean_change"``; with a comparison group ``related`` holds each group's
        own mean change.

    Examples
    --------
    >>> df = pd.DataFrame({"sbp_0": [150, 142, 160, 155, 148], "sbp_1": [141, 140, 151, 150, 146]})
    >>> import warnings
    >>> with warnings.catch_warnings():  # 5 pairs: SmallSampleWarning
    ...     warnings.simplefilter("ignore")
    ...     est = compare(df, before="sbp_0", after="sbp_1")
    >>> est.value, round(est.conf_low, 4), round(est.conf_high, 4)  # as R t.test(paired=TRUE)
    (-5.4, -9.7547, -1.0453)
    """
    _check_level(level)
    if method not in ("t", "wilcoxon"):
        raise DesignError(f"method must be 't' or 'wilcoxon', got {method!r}")
    context = "prepost.compare"
    if comparison is not None:
        if method != "t":
            raise DesignError(
                "the comparison-group adjustment uses mean changes: call with method='t'"
            )
        return _compare_with_group(
            data,
            before=before,
            after=after,
            level=level,
            comparison=comparison,
            selected_on_baseline=selected_on_baseline,
            strict=strict,
            id_column=id_column,
            label=label,
        )
    pr = _pairs(data, before, after, strict=strict, id_column=id_column, context=context)
    d = pr.after - pr.before
    n = len(d)
    other = _small_n_warning(n)
    if selected_on_baseline:
        other.append(
            (
                RegressionToMeanWarning,
                "participants were selected on their baseline value: part of the change is "
                "regression to the mean, not the programme; give a comparison group "
                "(comparison=...) to adjust for it.",
            )
        )
    diag: dict[str, Any] = {
        "n_pairs": n,
        "mean_before": float(pr.before.mean()) if n else math.nan,
        "mean_after": float(pr.after.mean()) if n else math.nan,
        "n_increased": int((d > 0).sum()),
        "n_decreased": int((d < 0).sum()),
        "n_unchanged": int((d == 0).sum()),
    }
    if method == "t":
        if n < 2:
            raise DesignError(f"{context}: need at least 2 complete pairs, got {n}")
        mean, lo, hi, se, p = _paired_t(d, level)
        diag["sd_change"] = float(d.std(ddof=1))
        diag["df"] = n - 1
        return _build(
            pr.warnings,
            other,
            estimand="mean_change",
            value=mean,
            conf_low=lo,
            conf_high=hi,
            level=level,
            method="mean of after − before with paired t interval",
            n=n,
            std_error=se,
            p_value=p,
            diagnostics=diag,
            sample_flow=pr.flow,
            provenance=provenance(seed=None, data=data),
            label=label,
        )
    if n < 1:
        raise DesignError(f"{context}: no complete pairs")
    res = signrank_test(d, level=level)
    other += [(PfsevalWarning, m) for m in res.messages]
    diag.update(
        statistic_v=res.statistic,
        exact=res.exact,
        n_nonzero=res.n_nonzero,
        n_zero=res.n_zero,
        ties=res.ties,
        requested_level=level,
    )
    return _build(
        pr.warnings,
        other,
        estimand="pseudo_median_change",
        value=res.estimate,
        conf_low=res.conf_low,
        conf_high=res.conf_high,
        level=res.level if 0 < res.level < 1 else level,
        method=(
            "Hodges–Lehmann estimate of after − before with the "
            + (
                "exact Wilcoxon signed-rank interval"
                if res.exact
                else "Wilcoxon signed-rank interval (normal approximation, continuity correction)"
            )
        ),
        n=n,
        p_value=res.p_value,
        diagnostics=diag,
        sample_flow=pr.flow,
        provenance=provenance(seed=None, data=data),
        label=label,
    )


def _zero_one(
    data: pd.DataFrame, col: str, context: str, *, missing_ok: bool, message: str, expected: str
) -> FloatArray:
    """The column as float, raising for values other than 0 and 1 (and NaN if ``missing_ok``)."""
    g = numeric_column(data, col, context=context)
    bad = ~np.isin(g, [0.0, 1.0])
    if missing_ok:
        bad &= ~np.isnan(g)
    rows = np.flatnonzero(bad)
    if rows.size:
        raise DataValidationError(
            [
                DataProblem(
                    column=col,
                    kind="out_of_range",
                    message=message,
                    rows=tuple(int(i) for i in rows),
                    values=tuple(g[rows[:10]].tolist()),
                    expected=expected,
                )
            ],
            source=context,
        )
    return g


def _compare_with_group(
    data: pd.DataFrame,
    *,
    before: str,
    after: str,
    level: float,
    comparison: str,
    selected_on_baseline: bool,
    strict: bool,
    id_column: str | None,
    label: str,
) -> Estimate:
    context = "prepost.compare(comparison=...)"
    marker = _zero_one(
        data,
        comparison,
        context,
        missing_ok=False,
        message="the comparison-group marker must be 0 (participant) or 1 (comparison group)",
        expected="0 or 1, no missing values",
    )
    is_c = np.asarray(marker == 1.0)
    pp = _pairs(
        data, before, after, strict=strict, id_column=id_column, context=context,
        mask=~is_c, group="participants",
    )  # fmt: skip
    pc = _pairs(
        data, before, after, strict=strict, id_column=id_column, context=context,
        mask=is_c, group="comparison",
    )  # fmt: skip
    for name, pr in (("participants", pp), ("comparison", pc)):
        if len(pr.before) < 2:
            raise DesignError(
                f"{context}: the {name} group has {len(pr.before)} complete pair(s); "
                "at least 2 are needed"
            )
    dp, dc = pp.after - pp.before, pc.after - pc.before
    diff, lo, hi, se, p, df = _welch(dp, dc, level)
    pooled = math.sqrt((pp.before.var(ddof=1) + pc.before.var(ddof=1)) / 2)
    smd = float((pp.before.mean() - pc.before.mean()) / pooled) if pooled > 0 else 0.0
    other = _small_n_warning(min(len(dp), len(dc)))
    if abs(smd) > RTM_SMD_THRESHOLD or selected_on_baseline:
        other.append(
            (
                RegressionToMeanWarning,
                f"participants' baseline differs from the comparison group's by {smd:+.2f} SD: "
                "their own change includes regression to the mean; the difference of mean "
                "changes adjusts for it only if both groups would regress alike (similar "
                "baselines).",
            )
        )
    attr = (*pp.warnings, *pc.warnings)
    prov = provenance(seed=None, data=data)

    def own(pr: _Pairs, d: FloatArray, who: str) -> Estimate:
        m, lo_, hi_, se_, p_ = _paired_t(d, level)
        return Estimate(
            estimand="mean_change",
            value=m,
            conf_low=lo_,
            conf_high=hi_,
            level=level,
            method=f"{who}: mean of after − before with paired t interval",
            n=len(d),
            std_error=se_,
            p_value=p_,
            sample_flow=pr.flow,
        )

    return _build(
        attr,
        other,
        depth=1,
        estimand="difference_in_mean_change",
        value=diff,
        conf_low=lo,
        conf_high=hi,
        level=level,
        method="difference of mean changes (participants − comparison group), Welch t interval",
        n=len(dp) + len(dc),
        std_error=se,
        p_value=p,
        diagnostics={
            "n_participants": len(dp),
            "n_comparison": len(dc),
            "mean_change_participants": float(dp.mean()),
            "mean_change_comparison": float(dc.mean()),
            "baseline_mean_participants": float(pp.before.mean()),
            "baseline_mean_comparison": float(pc.before.mean()),
            "baseline_smd": smd,
            "df": df,
        },
        related={
            "participants_mean_change": own(pp, dp, "participants"),
            "comparison_mean_change": own(pc, dc, "comparison group"),
        },
        sample_flow=pp.flow.combine(pc.flow),
        provenance=prov,
        label=label,
    )


# ---------------------------------------------------------------- binary before/after


def newcombe_paired(
    n11: int, n10: int, n01: int, n00: int, *, level: float = 0.95
) -> tuple[float, float]:
    """Newcombe's (1998, Stat Med 17:2635) method-10 interval for paired ``p_after − p_before``.

    ``n10`` = yes before / no after, ``n01`` = no before / yes after. The two Wilson intervals
    of the margins are combined ("square and add") with Newcombe's continuity-corrected phi
    correlation of the 2×2 table: with ``A = n11·n00 − n10·n01``, phi uses ``A − n/2`` when
    ``A > n/2``, 0 when ``0 ≤ A ≤ n/2`` and ``A`` when ``A < 0`` (0 when a margin is empty).

    Examples
    --------
    >>> # Cavo et al. (2012) in Fagerland, Lydersen & Laake (2017): -0.1186 to -0.0046
    >>> lo, hi = newcombe_paired(59, 16, 6, 80)
    >>> round(lo, 4), round(hi, 4)
    (-0.1186, -0.0046)
    """
    n = n11 + n10 + n01 + n00
    if n <= 0:
        raise DesignError("newcombe_paired needs at least one pair")
    xa, xb = n11 + n01, n11 + n10
    pa, pb = xa / n, xb / n
    la, ua = wilson(xa, n, level=level)
    lb, ub = wilson(xb, n, level=level)
    den = (n00 + n01) * (n10 + n11) * (n00 + n10) * (n01 + n11)
    # Newcombe's corrected phi: (A - n/2) when A = ad - bc > n/2, 0 when 0 <= A <= n/2, A when
    # A < 0 (Newcombe 1998; Fagerland, Lydersen & Laake 2017, ch. 8).
    a_ = n11 * n00 - n01 * n10
    num = a_ - n / 2 if a_ > n / 2 else (0.0 if a_ >= 0 else float(a_))
    phi = num / math.sqrt(den) if den > 0 else 0.0
    d = pa - pb
    dl = math.sqrt(max((pa - la) ** 2 - 2 * phi * (pa - la) * (ub - pb) + (ub - pb) ** 2, 0.0))
    du = math.sqrt(max((ua - pa) ** 2 - 2 * phi * (ua - pa) * (pb - lb) + (pb - lb) ** 2, 0.0))
    return d - dl, d + du


def paired_proportions(
    data: pd.DataFrame,
    *,
    before: str,
    after: str,
    level: float = 0.95,
    mcnemar: Literal["auto", "exact", "asymptotic"] = "auto",
    strict: bool = False,
    id_column: str | None = "person_id",
    label: str = "",
) -> Estimate:
    """Change in a yes/no item (e.g. exercise habit): ``p_after − p_before`` in the same people.

    The interval is Newcombe's method 10 for paired data (:func:`newcombe_paired`). The p value
    is McNemar's test: with ``mcnemar="auto"`` the exact binomial test on the discordant pairs
    (R ``binom.test(n01, n01 + n10)``) when there are fewer than 25 of them, otherwise the
    chi-squared test with continuity correction (R ``mcnemar.test``); both are in
    ``diagnostics``.

    Examples
    --------
    >>> df = pd.DataFrame({"ex0": [0] * 13 + [1] * 7, "ex1": [0] * 10 + [1] * 10})
    >>> est = paired_proportions(df, before="ex0", after="ex1", id_column=None)
    >>> est.value, round(est.conf_low, 4), round(est.conf_high, 4), est.p_value
    (0.15, -0.0306, 0.3117, 0.25)
    """
    _check_level(level)
    context = "prepost.paired_proportions"
    if mcnemar not in ("auto", "exact", "asymptotic"):
        raise DesignError(f"mcnemar must be 'auto', 'exact' or 'asymptotic', got {mcnemar!r}")
    for col in (before, after):
        _zero_one(
            data,
            col,
            context,
            missing_ok=True,
            message="values must be 0/1",
            expected="0 (no) or 1 (yes), missing as NaN",
        )
    pr = _pairs(data, before, after, strict=strict, id_column=id_column, context=context)
    b, a = pr.before, pr.after
    n = len(b)
    if n == 0:
        raise DesignError(f"{context}: no complete pairs")
    n11 = int(((b == 1) & (a == 1)).sum())
    n10 = int(((b == 1) & (a == 0)).sum())
    n01 = int(((b == 0) & (a == 1)).sum())
    n00 = n - n11 - n10 - n01
    lo, hi = newcombe_paired(n11, n10, n01, n00, level=level)
    disc = n01 + n10
    if disc == 0:
        p_exact = p_asym = 1.0
        chi2 = 0.0
    else:
        p_exact = float(stats.binomtest(n01, disc, 0.5).pvalue)
        chi2 = (abs(n01 - n10) - 1) ** 2 / disc if n01 != n10 else 0.0
        p_asym = float(stats.chi2.sf(chi2, 1))
    use_exact = mcnemar == "exact" or (mcnemar == "auto" and disc < MCNEMAR_EXACT_BELOW)
    other = _small_n_warning(n)
    return _build(
        pr.warnings,
        other,
        estimand="difference_in_paired_proportions",
        value=(n01 - n10) / n,
        conf_low=lo,
        conf_high=hi,
        level=level,
        method=(
            "p_after − p_before with Newcombe's paired method-10 interval; McNemar p value ("
            + ("exact binomial" if use_exact else "chi-squared with continuity correction")
            + ")"
        ),
        n=n,
        p_value=p_exact if use_exact else p_asym,
        diagnostics={
            "n_yes_yes": n11,
            "n_yes_no": n10,
            "n_no_yes": n01,
            "n_no_no": n00,
            "p_before": (n11 + n10) / n,
            "p_after": (n11 + n01) / n,
            "n_discordant": disc,
            "mcnemar_exact": use_exact,
            "mcnemar_statistic": chi2,
            "p_value_asymptotic": p_asym,
            "p_value_exact": p_exact,
        },
        sample_flow=pr.flow,
        provenance=provenance(seed=None, data=data),
        label=label,
    )


# ---------------------------------------------------------------- share improved, totals


def share_improved(
    data: pd.DataFrame,
    *,
    before: str,
    after: str,
    threshold: float | None = None,
    direction: Literal["decrease", "increase"] = "decrease",
    rule: Callable[[FloatArray, FloatArray], Any] | None = None,
    level: float = 0.95,
    strict: bool = False,
    id_column: str | None = "person_id",
    label: str = "",
) -> Estimate:
    """Share of people improved, with the Wilson interval (main) and Clopper–Pearson.

    A person is improved when, with ``direction="decrease"`` (lower is better, e.g. a
    checklist score), ``after − before <= −threshold``, or ``after < before`` when no threshold
    is given; with ``direction="increase"`` the mirror rule. ``rule`` replaces both: a function
    of the ``before`` and ``after`` arrays returning a boolean array (e.g. ``lambda b, a: a <= b``
    for "maintained or improved").

    The Wilson interval is R's ``prop.test(x, n, correct = FALSE)``; Clopper–Pearson (in
    ``intervals``) is ``binom.test(x, n)``.

    Examples
    --------
    >>> df = pd.DataFrame({"s0": [10, 12, 9, 14, 11, 8], "s1": [8, 12, 10, 11, 9, 8]})
    >>> import warnings
    >>> with warnings.catch_warnings():  # 6 people: SmallSampleWarning
    ...     warnings.simplefilter("ignore")
    ...     est = share_improved(df, before="s0", after="s1", threshold=1)
    >>> est.value, est.diagnostics["n_improved"]
    (0.5, 3)
    """
    _check_level(level)
    context = "prepost.share_improved"
    if direction not in ("decrease", "increase"):
        raise DesignError(f"direction must be 'decrease' or 'increase', got {direction!r}")
    if rule is not None and threshold is not None:
        raise DesignError("give either rule= or threshold=, not both")
    if threshold is not None and threshold <= 0:
        raise DesignError(f"threshold must be positive (a size of improvement), got {threshold}")
    pr = _pairs(data, before, after, strict=strict, id_column=id_column, context=context)
    n = len(pr.before)
    if n == 0:
        raise DesignError(f"{context}: no complete pairs")
    change = pr.after - pr.before
    sign = -1.0 if direction == "decrease" else 1.0
    if rule is not None:
        improved = np.asarray(rule(pr.before, pr.after), dtype=bool)
        if improved.shape != (n,):
            raise DesignError(
                f"rule must return one boolean per person ({n}), got {improved.shape}"
            )
        how = "user rule"
    elif threshold is None:
        improved = sign * change > 0
        how = f"after {'<' if sign < 0 else '>'} before"
    else:
        improved = sign * change >= threshold
        how = f"after − before {'≤ −' if sign < 0 else '≥ '}{threshold:g}"
    x = int(improved.sum())
    lo, hi = wilson(x, n, level=level)
    cp = clopper_pearson(x, n, level=level)
    other = _small_n_warning(n)
    return _build(
        pr.warnings,
        other,
        estimand="share_improved",
        value=x / n,
        conf_low=lo,
        conf_high=hi,
        level=level,
        method=f"share improved ({how}) with Wilson interval",
        n=n,
        std_error=math.sqrt(x / n * (1 - x / n) / n),
        intervals={"wilson": (lo, hi), "clopper_pearson": cp},
        diagnostics={"n_improved": x, "rule": how},
        sample_flow=pr.flow,
        provenance=provenance(seed=None, data=data),
        label=label,
    )


def count_total(
    data: pd.DataFrame,
    *,
    before: str,
    after: str,
    direction: Literal["decrease", "increase"] = "decrease",
    method: Literal["t", "poisson"] = "t",
    level: float = 0.95,
    strict: bool = False,
    id_column: str | None = "person_id",
    label: str = "",
) -> Estimate:
    """Total of per-person count changes, e.g. the number of drugs reduced.

    ``value`` = Σ (before − after) for ``direction="decrease"`` (drugs reduced, net of drugs
    added), Σ (after − before) for ``"increase"``. Intervals treat the participants as a sample
    of the people the programme could serve:

    - ``method="t"``: n × the t interval of the mean per-person change (R ``n * t.test(change)``);
      valid for any changes, the default.
    - ``method="poisson"``: exact Poisson interval for the total (R ``poisson.test(total)``);
      only when every per-person change in the stated direction is a non-negative integer
      (e.g. reductions only), otherwise a :class:`~pfseval.errors.DataValidationError`.

    ``related["mean_per_person"]`` is the mean change per person with its t interval.

    Examples
    --------
    >>> df = pd.DataFrame({"d0": [5, 3, 6, 4, 2, 7], "d1": [4, 3, 4, 4, 1, 6]})
    >>> import warnings
    >>> with warnings.catch_warnings():  # 6 people: SmallSampleWarning
    ...     warnings.simplefilter("ignore")
    ...     est = count_total(df, before="d0", after="d1")
    >>> est.value, round(est.conf_low, 4), round(est.conf_high, 4)
    (5.0, 0.2601, 9.7399)
    """
    _check_level(level)
    context = "prepost.count_total"
    if direction not in ("decrease", "increase"):
        raise DesignError(f"direction must be 'decrease' or 'increase', got {direction!r}")
    if method not in ("t", "poisson"):
        raise DesignError(f"method must be 't' or 'poisson', got {method!r}")
    pr = _pairs(data, before, after, strict=strict, id_column=id_column, context=context)
    n = len(pr.before)
    if n < 2:
        raise DesignError(f"{context}: need at least 2 complete pairs, got {n}")
    r = pr.before - pr.after if direction == "decrease" else pr.after - pr.before
    total = float(r.sum())
    mean, mlo, mhi, se, p = _paired_t(r, level)
    if method == "t":
        lo, hi = n * mlo, n * mhi
        how = "n × paired t interval of the mean per-person change"
    else:
        bad = np.flatnonzero((r < 0) | (r != np.round(r)))
        if bad.size:
            raise DataValidationError(
                [
                    DataProblem(
                        column=after,
                        kind="out_of_range",
                        message="method='poisson' needs non-negative integer changes in the "
                        f"{direction} direction; these people changed the other way or by a "
                        "fraction. Fix: use method='t'",
                        rows=tuple(int(i) for i in pr.pos[bad]),
                        values=tuple(r[bad[:10]].tolist()),
                    )
                ],
                source=context,
            )
        a = 1 - level
        x = round(total)
        lo = 0.0 if x == 0 else float(stats.chi2.ppf(a / 2, 2 * x) / 2)
        hi = float(stats.chi2.ppf(1 - a / 2, 2 * x + 2) / 2)
        how = "exact Poisson interval for the total"
    other = _small_n_warning(n)
    per = Estimate(
        estimand="mean_change_per_person",
        value=mean,
        conf_low=mlo,
        conf_high=mhi,
        level=level,
        method="mean per-person change with t interval",
        n=n,
        std_error=se,
        p_value=p,
    )
    return _build(
        pr.warnings,
        other,
        estimand="total_change",
        value=total,
        conf_low=lo,
        conf_high=hi,
        level=level,
        method=f"total of per-person changes ({direction}) with {how}",
        n=n,
        std_error=n * se if method == "t" else math.sqrt(max(total, 0.0)),
        p_value=p if method == "t" else None,
        related={"mean_per_person": per},
        diagnostics={
            "direction": direction,
            "n_improved": int((r > 0).sum()),
            "n_worsened": int((r < 0).sum()),
            "gross_improvement": float(r[r > 0].sum()),
            "gross_worsening": float(-r[r < 0].sum()),
        },
        sample_flow=pr.flow,
        provenance=provenance(seed=None, data=data),
        label=label,
    )
