"""Covariate balance before and after matching, by MatchIt's ATT conventions.

For each variable (the matching distance first, then every covariate column with one row per
level of a categorical covariate):

- **standardised mean difference** ``(m_T - m_C) / s_T``: weighted group means, divided by the
  standard deviation of the *treated group in the full sample* (the same denominator before and
  after matching). For a 0/1 variable ``s_T = sqrt(p(1-p))``; otherwise the usual ``n - 1``
  standard deviation. A mean difference below ``sqrt(machine eps)`` is reported unstandardised
  (it is zero for all purposes), as MatchIt does. If the treated SD is 0, the pooled SD
  ``sqrt((s_T² + s_C²) / 2)`` is used instead.
- **variance ratio** treated / control of weighted variances
  ``Σ w (x - m)² / (1 - Σ w²)`` with weights normalised to sum to 1 (continuous variables only);
  ``inf`` when the matched controls' variance is 0, ``nan`` when both variances are 0 or a
  group has a single unit (R gives the same values).
- **eCDF mean / max**: mean and maximum absolute difference between the weighted empirical
  distribution functions of the two groups, evaluated at each distinct value of the full
  sample (units with weight 0 contribute to neither distribution); for a 0/1
  variable both equal the absolute difference in proportions.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Literal

import numpy as np
import pandas as pd
from numpy.typing import ArrayLike, NDArray

__all__ = ["balance_table"]

_EPS = float(np.sqrt(np.finfo(float).eps))


def _wmean(x: NDArray[np.float64], w: NDArray[np.float64]) -> float:
    return float(np.sum(x * w) / np.sum(w))


def _wvar(x: NDArray[np.float64], w: NDArray[np.float64], binary: bool) -> float:
    w = w / np.sum(w)
    m = float(np.sum(w * x))
    if binary:
        return m * (1 - m)
    # one unit (or one unit with all the weight): 0 / 0 = nan, as in R; never an exception
    with np.errstate(divide="ignore", invalid="ignore"):
        return float(np.divide(np.sum(w * (x - m) ** 2), 1 - np.sum(w**2)))


def _ecdf_stats(
    order: NDArray[np.intp],
    last_of_value: NDArray[np.bool_],
    t: NDArray[np.bool_],
    w: NDArray[np.float64],
) -> tuple[float, float]:
    """eCDF mean and max; ``order`` sorts x, ``last_of_value`` marks the end of each value."""
    wn = np.where(t, w / np.sum(w[t]), -w / np.sum(w[~t]))
    d = np.abs(np.cumsum(wn[order]))[last_of_value]
    return float(np.mean(d)), float(np.max(d))


def _one_variable(
    x: NDArray[np.float64],
    t: NDArray[np.bool_],
    w: NDArray[np.float64],
    sd_treated: float,
    binary: bool,
    sort: tuple[NDArray[np.intp], NDArray[np.bool_]] | None,
) -> tuple[float, float, float, float]:
    """SMD, variance ratio, eCDF mean, eCDF max for one variable and one set of weights.

    A zero control variance gives a variance ratio of ``inf`` (``nan`` when the treated
    variance is 0 too), as R does. When both groups have fewer than two units with a non-zero
    weight, MatchIt reports no standardised difference (unless the difference is 0), variance
    ratio or eCDF statistics for a continuous variable: neither does this function.
    """
    if not (np.sum(w[t]) > 0 and np.sum(w[~t]) > 0):
        return np.nan, np.nan, np.nan, np.nan
    too_small = np.count_nonzero(w[t]) < 2 and np.count_nonzero(w[~t]) < 2
    mdiff = _wmean(x[t], w[t]) - _wmean(x[~t], w[~t])
    # |difference| ≤ √ε is reported unstandardised; MatchIt leaves a "too small" SMD empty
    smd = mdiff if abs(mdiff) <= _EPS else (np.nan if too_small else mdiff / sd_treated)
    if binary:
        return smd, np.nan, abs(mdiff), abs(mdiff)
    if too_small:
        return smd, np.nan, np.nan, np.nan
    with np.errstate(divide="ignore", invalid="ignore"):
        vr = float(np.divide(_wvar(x[t], w[t], False), _wvar(x[~t], w[~t], False)))
    # units with weight 0 add nothing to either eCDF but their values stay evaluation points
    assert sort is not None
    em, ex = _ecdf_stats(sort[0], sort[1], t, w)
    return smd, vr, em, ex


def balance_table(
    X: ArrayLike,
    treat: ArrayLike,
    weights: ArrayLike,
    *,
    names: Sequence[str],
    estimand: Literal["ATT", "ATC"] = "ATT",
) -> pd.DataFrame:
    """Balance of each column of ``X`` in the full sample and after weighting (matching).

    Parameters
    ----------
    X
        Variables (n × p), no missing values; 0/1 columns are treated as binary.
    treat
        0/1 or boolean treatment indicator (n).
    weights
        Matching weights (n); 0 for units not in the matched sample.
    names
        Variable names (p).
    estimand
        ``"ATT"``: standardise by the treated group's SD; ``"ATC"``: by the control group's
        (MatchIt's conventions).

    Returns
    -------
    pandas.DataFrame
        Columns ``variable, smd_before, smd_after, vr_before, vr_after, ecdf_mean_before,
        ecdf_mean_after, ecdf_max_before, ecdf_max_after`` (variance ratios NaN for binary
        variables).

    Examples
    --------
    >>> X = np.array([[1.0], [2.0], [3.0], [4.0], [2.5], [3.5]])
    >>> tab = balance_table(X, [1, 1, 1, 0, 0, 0], [1, 1, 1, 1, 0, 1], names=["x"])
    >>> round(float(tab.loc[0, "smd_before"]), 4)  # (2 - 3.333) / sd(1, 2, 3)
    -1.3333
    >>> round(float(tab.loc[0, "smd_after"]), 4)  # control mean (4 + 3.5) / 2
    -1.75
    """
    Xa = np.asarray(X, dtype=float)
    if Xa.ndim == 1:
        Xa = Xa[:, None]
    t = np.asarray(treat).astype(bool)
    w = np.asarray(weights, dtype=float)
    ones = np.ones(len(t))
    rows = []
    for j, name in enumerate(names):
        x = Xa[:, j]
        binary = bool(np.all((x == 0) | (x == 1)))
        f = t if estimand == "ATT" else ~t
        sd_t = float(np.sqrt(_wvar(x[f], ones[f], binary)))
        if not np.isfinite(sd_t) or sd_t < _EPS:  # constant in the focal group: pooled SD
            sd_t = float(np.sqrt((sd_t**2 + _wvar(x[~f], ones[~f], binary)) / 2))
        sort = None
        if not binary:  # one sort serves both eCDF comparisons
            order = np.argsort(x, kind="stable")
            xs = x[order]
            sort = (order, np.r_[xs[1:] != xs[:-1], True])
        b = _one_variable(x, t, ones, sd_t, binary, sort)
        a = _one_variable(x, t, w, sd_t, binary, sort)
        rows.append(
            {
                "variable": name,
                "smd_before": b[0],
                "smd_after": a[0],
                "vr_before": b[1],
                "vr_after": a[1],
                "ecdf_mean_before": b[2],
                "ecdf_mean_after": a[2],
                "ecdf_max_before": b[3],
                "ecdf_max_after": a[3],
            }
        )
    return pd.DataFrame(
        rows,
        columns=[
            "variable",
            "smd_before",
            "smd_after",
            "vr_before",
            "vr_after",
            "ecdf_mean_before",
            "ecdf_mean_after",
            "ecdf_max_before",
            "ecdf_max_after",
        ],
    )
