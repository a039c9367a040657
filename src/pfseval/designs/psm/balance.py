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

from collections.abc import Iterator, Sequence
from typing import TYPE_CHECKING, Literal

import numpy as np
import pandas as pd
from numpy.typing import ArrayLike, NDArray

if TYPE_CHECKING:
    from pfseval.designs.psm.sample import MatchedSample

__all__ = ["balance_report", "balance_table", "expand_terms"]

_EPS = float(np.sqrt(np.finfo(float).eps))


class _Groups:
    """Positions of the two groups under one set of weights, computed once for all variables.

    Only the units with a non-zero weight enter a group's statistics. The larger group of the
    unweighted comparison (the control pool: millions of rows) is never gathered: its sums are
    the column's totals less the other group's, so each variable costs a sort and a few
    passes over the column, not a copy per group.
    """

    def __init__(self, t: NDArray[np.bool_], w: NDArray[np.float64] | None) -> None:
        n = len(t)
        if w is None:  # before matching: every unit, weight 1
            n_t = int(np.count_nonzero(t))
            self.small_is_t = n_t <= n - n_t
            self.small = np.flatnonzero(t if self.small_is_t else ~t)
            self.n_small, self.n_big = self.small.size, n - self.small.size
            self.w_t = self.w_c = None
            self.idx_t = self.idx_c = None
        else:  # after matching: the (usually few) units with a weight
            pos = np.flatnonzero(w > 0)
            in_t = t[pos]
            self.idx_t, self.idx_c = pos[in_t], pos[~in_t]
            self.w_t, self.w_c = w[self.idx_t], w[self.idx_c]

    def ones(self) -> bool:
        return self.w_t is None


def _dot(a: NDArray[np.float64], b: NDArray[np.float64]) -> float:
    """``Σ a·b`` by NumPy's own loop: a threaded BLAS call costs more than the sum here (its
    threads must wake, and on a busy machine they wait)."""
    return float(np.einsum("i,i->", a, b))


def _var(ss: float, total_w: float, sum_w2: float) -> float:
    """Weighted variance ``Σ w (x - m)² / (1 - Σ w²)`` with normalised weights, from the
    unnormalised sum of squares ``ss = Σ w (x - m)²``; 0 / 0 (one unit) is nan, as in R."""
    with np.errstate(divide="ignore", invalid="ignore"):
        return float(np.divide(ss / total_w, 1 - sum_w2 / total_w**2))


def _stats_weighted(
    x: NDArray[np.float64], w: NDArray[np.float64], binary: bool
) -> tuple[float, float, float, int]:
    """Sum of weights, weighted mean, variance (``_var``; ``m(1-m)`` if binary), units."""
    sw = float(np.sum(w))
    if sw <= 0:
        return 0.0, np.nan, np.nan, 0
    m = float(_dot(w, x) / sw)
    if binary:
        return sw, m, m * (1 - m), x.size
    d = x - m
    return sw, m, _var(_dot(w * d, d), sw, _dot(w, w)), x.size


def _group_stats(
    x: NDArray[np.float64], g: _Groups, binary: bool
) -> tuple[tuple[float, float, float, int], tuple[float, float, float, int]]:
    """``(Σw, mean, variance, units)`` of the treated and of the controls."""
    if not g.ones():
        assert g.idx_t is not None and g.idx_c is not None
        assert g.w_t is not None and g.w_c is not None
        return (
            _stats_weighted(x[g.idx_t], g.w_t, binary),
            _stats_weighted(x[g.idx_c], g.w_c, binary),
        )
    xs = x[g.small]
    ns, nb = g.n_small, g.n_big
    small = _stats_weighted(xs, np.ones(ns), binary) if ns else (0.0, np.nan, np.nan, 0)
    if nb == 0:
        big: tuple[float, float, float, int] = (0.0, np.nan, np.nan, 0)
    else:
        mb = float((np.sum(x) - np.sum(xs)) / nb)
        if binary:
            vb = mb * (1 - mb)
        else:
            # Σ over the big group of (x - mb)²: the column's sum in cache-sized blocks (no
            # temporary the size of the pool) less the small group's part
            ss = sum(_dot(d, d) for d in _centred_blocks(x, mb))
            ds = xs - mb
            vb = _var(max(ss - _dot(ds, ds), 0.0), float(nb), float(nb))
        big = (float(nb), mb, vb, nb)
    return (small, big) if g.small_is_t else (big, small)


_BLOCK = 1 << 16


def _centred_blocks(x: NDArray[np.float64], m: float) -> Iterator[NDArray[np.float64]]:
    buf = np.empty(min(x.size, _BLOCK))
    for a in range(0, x.size, _BLOCK):
        d = buf[: min(_BLOCK, x.size - a)]
        np.subtract(x[a : a + _BLOCK], m, out=d)
        yield d


class _Points:
    """The eCDF evaluation points of one variable: its distinct values in the full sample
    (one sort; NumPy's vectorised sort costs a few passes over the column), and ``at(v)``,
    the point of each value."""

    def __init__(self, x: NDArray[np.float64], scratch: NDArray[np.float64] | None = None) -> None:
        # sorted in a buffer shared by the variables (no fresh pool-sized array per variable)
        xs = scratch[: x.size] if scratch is not None else np.empty(x.size)
        xs[:] = x
        xs.sort()
        last = np.empty(xs.size, dtype=bool)
        if xs.size:
            np.not_equal(xs[1:], xs[:-1], out=last[:-1])
            last[-1] = True
        self.u = xs[last]
        self.cnt_all = np.flatnonzero(last).astype(np.float64)
        self.cnt_all += 1.0

    def at(self, v: NDArray[np.float64]) -> NDArray[np.intp]:
        return np.asarray(np.searchsorted(self.u, v))


def _ecdf_stats(
    x: NDArray[np.float64], pts: _Points, g: _Groups, sw_t: float, sw_c: float
) -> tuple[float, float]:
    """eCDF mean and max of ``|F_t - F_c|`` over the evaluation points."""
    k = pts.u.size
    if g.ones():
        # the larger group has units everywhere: cumulate over all points
        c_small = np.cumsum(np.bincount(pts.at(x[g.small]), minlength=k), dtype=float)
        c_big = pts.cnt_all - c_small
        c_t, c_c = (c_small, c_big) if g.small_is_t else (c_big, c_small)
        d = np.abs(c_t / sw_t - c_c / sw_c)
        return float(np.mean(d)), float(np.max(d))
    # weighted units only: F_t - F_c changes only at their points and is constant up to the
    # next one, so the mean over all points is a length-weighted sum over those few
    assert g.idx_t is not None and g.idx_c is not None
    assert g.w_t is not None and g.w_c is not None
    at = np.r_[pts.at(x[g.idx_t]), pts.at(x[g.idx_c])]
    step = np.r_[g.w_t / sw_t, -g.w_c / sw_c]
    q, inv = np.unique(at, return_inverse=True)
    d = np.abs(np.cumsum(np.bincount(inv, weights=step, minlength=q.size)))
    runs = np.diff(np.r_[q, k])
    return float(_dot(d, runs) / k), float(np.max(d))


def _one_variable(
    x: NDArray[np.float64],
    g: _Groups,
    sd_focal: float,
    binary: bool,
    stats: tuple[tuple[float, float, float, int], tuple[float, float, float, int]],
    points: _Points | None,
) -> tuple[float, float, float, float]:
    """SMD, variance ratio, eCDF mean, eCDF max for one variable and one set of weights.

    A zero control variance gives a variance ratio of ``inf`` (``nan`` when the treated
    variance is 0 too), as R does. When both groups have fewer than two units with a non-zero
    weight, MatchIt reports no standardised difference (unless the difference is 0), variance
    ratio or eCDF statistics for a continuous variable: neither does this function.
    """
    (sw_t, m_t, v_t, k_t), (sw_c, m_c, v_c, k_c) = stats
    if not (sw_t > 0 and sw_c > 0):
        return np.nan, np.nan, np.nan, np.nan
    too_small = k_t < 2 and k_c < 2
    mdiff = m_t - m_c
    # |difference| ≤ √ε is reported unstandardised; MatchIt leaves a "too small" SMD empty
    smd = mdiff if abs(mdiff) <= _EPS else (np.nan if too_small else mdiff / sd_focal)
    if binary:
        return smd, np.nan, abs(mdiff), abs(mdiff)
    if too_small:
        return smd, np.nan, np.nan, np.nan
    with np.errstate(divide="ignore", invalid="ignore"):
        vr = float(np.divide(v_t, v_c))
    # units with weight 0 add nothing to either eCDF but their values stay evaluation points
    assert points is not None
    em, ex = _ecdf_stats(x, points, g, sw_t, sw_c)
    return smd, vr, em, ex


_COLUMNS = [
    "variable",
    "smd_before",
    "smd_after",
    "vr_before",
    "vr_after",
    "ecdf_mean_before",
    "ecdf_mean_after",
    "ecdf_max_before",
    "ecdf_max_after",
]


def balance_columns(
    columns: Sequence[NDArray[np.float64]],
    t: NDArray[np.bool_],
    w: NDArray[np.float64],
    *,
    names: Sequence[str],
    estimand: Literal["ATT", "ATC"] = "ATT",
) -> pd.DataFrame:
    """:func:`balance_table` on a sequence of columns (no n × p matrix is assembled).

    ``match()`` passes the distance and the columns of the design it fitted the score on.
    """
    before = _Groups(t, None)
    after = _Groups(t, np.asarray(w, dtype=float))
    scratch = np.empty(len(t))
    rows = []
    for name, col in zip(names, columns, strict=True):
        x = np.ascontiguousarray(col, dtype=float)
        binary = bool(x.size == 0 or (x.min() >= 0 and x.max() <= 1)) and bool(
            np.all((x == 0) | (x == 1))
        )
        st_b = _group_stats(x, before, binary)
        st_a = _group_stats(x, after, binary)
        # SD of the focal group in the full sample; constant there: the pooled SD
        v_f, v_o = (st_b[0][2], st_b[1][2]) if estimand == "ATT" else (st_b[1][2], st_b[0][2])
        sd_f = float(np.sqrt(v_f))
        if not np.isfinite(sd_f) or sd_f < _EPS:
            sd_f = float(np.sqrt((sd_f**2 + v_o) / 2))
        points = None if binary else _Points(x, scratch)
        b = _one_variable(x, before, sd_f, binary, st_b, points)
        a = _one_variable(x, after, sd_f, binary, st_a, points)
        vals = (name, b[0], a[0], b[1], a[1], b[2], a[2], b[3], a[3])
        rows.append(dict(zip(_COLUMNS, vals, strict=True)))
    return pd.DataFrame(rows, columns=_COLUMNS)


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
    cols = [Xa[:, j] for j in range(len(names))]
    return balance_columns(cols, t, w, names=names, estimand=estimand)


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
