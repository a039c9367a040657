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

from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Literal

import numpy as np
import pandas as pd
from numpy.typing import ArrayLike, NDArray

if TYPE_CHECKING:
    from pfseval.designs.psm.sample import MatchedSample

__all__ = ["balance_report", "balance_table", "expand_terms"]

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


Ecdf = Callable[[NDArray[np.float64]], NDArray[np.float64]]


def _ecdf_evaluator(x: NDArray[np.float64]) -> Ecdf:
    """``f(wn)``: the cumulated signed weights at each distinct value of ``x``, ascending.

    Integer-valued variables (age, blood pressure, dipstick grades) are counted by value with
    ``bincount`` (O(n), no sort); other variables are sorted once, and the one evaluator
    serves the comparisons before and after matching.
    """
    lo, hi = float(x.min()), float(x.max())
    if hi - lo <= 4 * len(x) + 1024 and bool(np.all(x == np.round(x))):
        codes = (x - lo).astype(np.intp)
        present = np.bincount(codes) > 0

        def by_value(wn: NDArray[np.float64]) -> NDArray[np.float64]:
            per_value = np.bincount(codes, weights=wn, minlength=len(present))
            return np.asarray(np.cumsum(per_value)[present], dtype=float)

        return by_value
    order = np.argsort(x, kind="stable")
    xs = x[order]
    last = np.r_[xs[1:] != xs[:-1], True]
    return lambda wn: np.cumsum(wn[order])[last]


def _ecdf_stats(ecdf: Ecdf, t: NDArray[np.bool_], w: NDArray[np.float64]) -> tuple[float, float]:
    """eCDF mean and max of the absolute difference between the groups' weighted eCDFs."""
    wn = np.where(t, w / np.sum(w[t]), -w / np.sum(w[~t]))
    d = np.abs(ecdf(wn))
    return float(np.mean(d)), float(np.max(d))


def _one_variable(
    x: NDArray[np.float64],
    t: NDArray[np.bool_],
    w: NDArray[np.float64],
    sd_treated: float,
    binary: bool,
    ecdf: Ecdf | None,
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
    assert ecdf is not None
    em, ex = _ecdf_stats(ecdf, t, w)
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
        ecdf = None if binary else _ecdf_evaluator(x)
        b = _one_variable(x, t, ones, sd_t, binary, ecdf)
        a = _one_variable(x, t, w, sd_t, binary, ecdf)
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


def expand_terms(
    X: ArrayLike,
    names: Sequence[str],
    *,
    squares: bool = False,
    interactions: bool = False,
) -> tuple[NDArray[np.float64], list[str]]:
    """Add squares and pairwise products of balance columns, in MatchIt's order and names.

    After the columns themselves: for each column ``a`` in turn, ``a²`` and then ``a * b`` for
    every later column ``b``. As MatchIt's ``summary(interactions = TRUE)``, a product is left
    out when it is zero everywhere (two levels of one categorical) or equal to ``a`` itself (a
    0/1 column squared, or ``b`` equal to 1 wherever ``a`` is non-zero).

    Parameters
    ----------
    X
        Balance columns (n × p).
    names
        Their names (p).
    squares, interactions
        Which terms to add (MatchIt's ``interactions = TRUE`` is both).

    Returns
    -------
    tuple
        The extended matrix and its names.

    Examples
    --------
    >>> X = np.array([[1.0, 0, 2], [2, 1, 3], [3, 0, 5]])
    >>> expand_terms(X, ["age", "male", "sbp"], squares=True, interactions=True)[1]
    ['age', 'male', 'sbp', 'age²', 'age * male', 'age * sbp', 'male * sbp', 'sbp²']
    """
    Xa = np.asarray(X, dtype=float)
    cols = [Xa[:, j] for j in range(Xa.shape[1])]
    out_names = list(names)
    p = len(cols)
    for i in range(p):
        for j in range(i, p):
            if (i == j and not squares) or (i != j and not interactions):
                continue
            x2 = cols[i] * cols[j]
            if np.all(np.abs(x2) < _EPS) or np.all(np.abs(x2 - cols[i]) < _EPS):
                continue
            cols.append(x2)
            out_names.append(f"{names[i]}²" if i == j else f"{names[i]} * {names[j]}")
    return np.column_stack(cols) if cols else Xa, out_names


def balance_report(
    matched: MatchedSample,
    *,
    addl: Sequence[str] | None = None,
    squares: bool = False,
    interactions: bool = False,
    smd_threshold: float | None = 0.1,
    vr_threshold: float | None = None,
) -> pd.DataFrame:
    """Balance table with thresholds, extra variables, squares and interactions (as cobalt).

    The same statistics as :func:`balance_table` (MatchIt's ``summary()``), on the matched
    sample's weights, for the distance, the covariates, any ``addl`` variables outside the
    score model, and optionally their squares and pairwise interactions (``summary(m,
    interactions = TRUE, addlvariables = ~...)``), with cobalt-style threshold flags.

    Parameters
    ----------
    matched
        The result of :func:`~pfseval.designs.psm.match`.
    addl
        Extra columns of ``matched.data`` to check (categoricals expanded per level).
    squares, interactions
        Add squared terms / pairwise products (:func:`expand_terms`).
    smd_threshold
        ``smd_ok`` is ``|smd_after| <= smd_threshold`` (``None``: no column).
    vr_threshold
        ``vr_ok`` is ``1/vr_threshold <= vr_after <= vr_threshold`` for continuous variables
        (``<NA>`` for 0/1 variables; ``None``: no column). cobalt suggests 2.

    Returns
    -------
    pandas.DataFrame
        The :func:`balance_table` columns, plus ``smd_ok`` / ``vr_ok`` (nullable booleans;
        ``<NA>`` for the distance row, which cobalt does not flag either).

    Raises
    ------
    ColumnMissingError
        An ``addl`` column is not in the data.
    MatchingError
        A threshold is not positive (the variance ratio threshold must exceed 1).

    Examples
    --------
    >>> from pfseval.designs.psm import match
    >>> rng = np.random.default_rng(1)
    >>> df = pd.DataFrame({"id": range(600), "age": rng.normal(60, 8, 600),
    ...                    "year": rng.choice([2016, 2017], 600)})
    >>> df["t"] = (rng.random(600) < 1 / (1 + np.exp(4 - (df["age"] - 60) / 6))).astype(int)
    >>> m = match(df, treatment="t", covariates=["age"], id_col="id")
    >>> tab = balance_report(m, addl=["year"], squares=True, vr_threshold=2)
    >>> tab["variable"].tolist()
    ['distance', 'age', 'year', 'age²', 'year²']
    >>> bool(tab.loc[1, "smd_ok"])
    True
    """
    from pfseval.designs.psm.score import covariate_design
    from pfseval.errors import MatchingError

    if smd_threshold is not None and not smd_threshold > 0:
        raise MatchingError(
            f"smd_threshold must be positive, got {smd_threshold!r}. Fix: pass e.g. 0.1."
        )
    if vr_threshold is not None and not vr_threshold > 1:
        raise MatchingError(f"vr_threshold must exceed 1, got {vr_threshold!r}. Fix: pass e.g. 2.")
    data = matched.data
    extra = [c for c in (addl or ()) if c not in matched.covariates]
    design = covariate_design(data, [*matched.covariates, *extra])
    X, names = expand_terms(
        design.balance,
        design.balance_names,
        squares=squares,
        interactions=interactions,
    )
    tab = balance_table(
        np.column_stack([matched.distance.to_numpy(), X]),
        data[matched.treatment].to_numpy() == 1,
        matched.weights.to_numpy(),
        names=["distance", *names],
        estimand="ATC" if matched.estimand == "ATC" else "ATT",
    )
    is_dist = tab["variable"].eq("distance") & (np.arange(len(tab)) == 0)
    if smd_threshold is not None:
        ok = tab["smd_after"].abs().le(smd_threshold).astype("boolean")
        tab["smd_ok"] = ok.mask(is_dist | tab["smd_after"].isna())
    if vr_threshold is not None:
        vr = tab["vr_after"]
        ok = ((vr >= 1 / vr_threshold) & (vr <= vr_threshold)).astype("boolean")
        tab["vr_ok"] = ok.mask(is_dist | vr.isna())
    return tab
