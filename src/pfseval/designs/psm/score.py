"""Propensity score: unpenalised logistic (or probit) regression, as R's ``glm`` fits it.

The fit is iteratively reweighted least squares in numpy, iterated exactly as R's ``glm.fit``
(same start, working weights and stopping rule) on a centred and scaled copy of the design
matrix, so the coefficients and scores agree with R's to rounding error. Categorical covariates are expanded
with treatment contrasts (first level is the reference), as R's ``model.matrix`` does.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from functools import cached_property
from typing import Literal

import numpy as np
import pandas as pd
from numpy.typing import NDArray
from scipy import special, stats

from pfseval.checks import require_columns
from pfseval.errors import (
    ConvergenceError,
    MatchingError,
    SeparationError,
    format_rows,
)

__all__ = ["CovariateDesign", "PropensityModel", "covariate_design", "fit_propensity"]

Link = Literal["logit", "probit"]

_MAX_ITER = 25  # glm.control(maxit = 25)
_EPSILON = 1e-8  # glm.control(epsilon = 1e-8): relative deviance change that stops IRLS
_DBL_EPS = float(np.finfo(float).eps)


@dataclass(frozen=True)
class CovariateDesign:
    """Numeric expansion of the covariates.

    The columns are kept one by one (a numeric float column is the data's own array, not a
    copy); ``model`` and ``balance`` stack them into a matrix only when asked for.

    Attributes
    ----------
    model_columns
        Columns of the propensity model without the intercept: numeric covariates as they
        are, categorical ones as 0/1 indicators of every level but the first (treatment
        contrasts).
    model_names
        Their names; an indicator is named ``<column>_<level>``.
    balance_columns
        Columns for the balance table: numeric covariates, and one 0/1 indicator for *every*
        level of a categorical covariate (as MatchIt's balance tables show them).
    balance_names
        Their names.
    source
        For each model column, the covariate it came from.
    balance_source
        For each balance column, the covariate it came from.
    """

    model_columns: tuple[NDArray[np.float64], ...]
    model_names: tuple[str, ...]
    balance_columns: tuple[NDArray[np.float64], ...]
    balance_names: tuple[str, ...]
    source: tuple[str, ...]
    balance_source: tuple[str, ...]
    n: int = 0

    @cached_property
    def model(self) -> NDArray[np.float64]:
        """Design matrix of the propensity model without the intercept (n × p)."""
        return _stack(list(self.model_columns), self.n)

    @cached_property
    def balance(self) -> NDArray[np.float64]:
        """The balance columns as one matrix (n × q)."""
        return _stack(list(self.balance_columns), self.n)


def _is_categorical(s: pd.Series) -> bool:
    return bool(
        isinstance(s.dtype, pd.CategoricalDtype)
        or pd.api.types.is_object_dtype(s.dtype)
        or pd.api.types.is_string_dtype(s.dtype)
    )


def _levels(s: pd.Series) -> list[object]:
    if isinstance(s.dtype, pd.CategoricalDtype):
        present = set(s.dropna().unique().tolist())
        return [c for c in s.cat.categories.tolist() if c in present]  # like droplevels()
    return sorted(s.dropna().unique().tolist(), key=str)


def covariate_design(data: pd.DataFrame, covariates: Sequence[str]) -> CovariateDesign:
    """Expand covariates into the propensity-model and balance matrices.

    Numeric and boolean columns are used as they are. String, object and categorical columns
    are expanded into 0/1 indicators named ``<column>_<level>``; levels are the categories of
    a categorical column (in their order) or the sorted distinct values otherwise, and the
    first level is the reference of the model matrix (R's treatment contrasts).

    Parameters
    ----------
    data
        The rows to expand (no missing values in ``covariates``).
    covariates
        Column names.

    Returns
    -------
    CovariateDesign

    Examples
    --------
    >>> df = pd.DataFrame({"age": [60, 70, 65], "race": ["white", "black", "hispan"]})
    >>> d = covariate_design(df, ["age", "race"])
    >>> d.model_names
    ('age', 'race_hispan', 'race_white')
    >>> d.balance_names
    ('age', 'race_black', 'race_hispan', 'race_white')
    """
    model_cols: list[NDArray[np.float64]] = []
    bal_cols: list[NDArray[np.float64]] = []
    mnames: list[str] = []
    bnames: list[str] = []
    msrc: list[str] = []
    bsrc: list[str] = []
    for c in covariates:
        require_columns(data, [c], context="covariates")
        s = data[c]
        if _is_categorical(s):
            levels = _levels(s)
            values = s.astype(object).to_numpy()
            na = s.isna().to_numpy()
            for j, lev in enumerate(levels):
                ind = (values == lev).astype(float)
                ind[na] = np.nan  # a missing category stays missing, never the reference
                name = f"{c}_{lev}"
                bal_cols.append(ind)
                bnames.append(name)
                bsrc.append(c)
                if j > 0:
                    model_cols.append(ind)
                    mnames.append(name)
                    msrc.append(c)
        else:
            x = pd.to_numeric(s, errors="raise").to_numpy(dtype=float, na_value=np.nan)
            x.flags.writeable = False  # may be the data's own array: never written through
            model_cols.append(x)
            bal_cols.append(x)
            mnames.append(c)
            bnames.append(c)
            msrc.append(c)
            bsrc.append(c)
    return CovariateDesign(
        model_columns=tuple(model_cols),
        model_names=tuple(mnames),
        balance_columns=tuple(bal_cols),
        balance_names=tuple(bnames),
        source=tuple(msrc),
        balance_source=tuple(bsrc),
        n=len(data),
    )


def _stack(cols: list[NDArray[np.float64]], n: int) -> NDArray[np.float64]:
    """Columns into one column-major (n × p) float matrix (columns contiguous)."""
    out = np.empty((n, len(cols)), dtype=float, order="F")
    for j, c in enumerate(cols):
        out[:, j] = c
    return out


@dataclass(frozen=True)
class PropensityModel:
    """A fitted propensity-score model.

    Attributes
    ----------
    coef
        Coefficients (index: ``"(Intercept)"`` and the model column names).
    std_error
        Model-based standard errors as ``summary(glm)`` (inverse of ``Xᵀ W X`` with the working
        weights of the last IRLS step).
    score
        Fitted propensity score per row (index: the input index, or ids when ``id_col`` given).
    linear_predictor
        The fitted linear predictor (logit or probit scale), same index as ``score``.
    link
        ``"logit"`` or ``"probit"``.
    iterations
        Newton / Fisher-scoring iterations used.
    deviance
        Residual deviance, ``-2 log L``.
    n
        Rows used in the fit.
    """

    coef: pd.Series
    std_error: pd.Series
    score: pd.Series
    linear_predictor: pd.Series
    link: str
    iterations: int
    deviance: float
    n: int
    covariates: tuple[str, ...] = field(default=())

    def summary(self) -> pd.DataFrame:
        """Coefficient table: ``term, estimate, std_error, z, p_value``."""
        z = self.coef / self.std_error
        return pd.DataFrame(
            {
                "term": self.coef.index,
                "estimate": self.coef.to_numpy(),
                "std_error": self.std_error.to_numpy(),
                "z": z.to_numpy(),
                "p_value": 2 * stats.norm.sf(np.abs(z.to_numpy())),
            }
        )


def _aliased_columns(G: NDArray[np.float64], names: Sequence[str]) -> list[str]:
    """Columns that are (numerically) linear combinations of the columns before them.

    Sequential check on ``G``, the Gram matrix ``ZᵀZ / n`` of the centred and scaled design
    (intercept first): the residual variance of column ``j`` after projecting on the earlier
    non-aliased columns.
    """
    k = G.shape[0]
    keep: list[int] = []
    out: list[str] = []
    for j in range(k):
        resid = float(G[j, j])
        if keep:
            g = G[keep, j]
            resid -= float(g @ np.linalg.solve(G[np.ix_(keep, keep)], g))
        if resid <= 1e-9 * float(G[j, j]):
            out.append(names[j])
        else:
            keep.append(j)
    return out


def _separating(
    X: Sequence[NDArray[np.float64]], y: NDArray[np.float64], names: Sequence[str]
) -> list[str]:
    """Covariates whose values alone (quasi-)separate treated from controls."""
    out: list[str] = []
    t = y == 1
    n1 = int(np.count_nonzero(t))
    if n1 == 0 or n1 == len(y):
        return out
    # the smaller group is gathered; the larger one's range comes from the column's range
    small_is_t = n1 <= len(y) - n1
    small = np.flatnonzero(t if small_is_t else ~t)
    big = ~t if small_is_t else t
    for x, name in zip(X, names, strict=True):
        xs = x[small]
        lo_s, hi_s = float(xs.min()), float(xs.max())
        lo, hi = float(x.min()), float(x.max())
        # the column's extreme belongs to the larger group unless only the smaller has it
        lo_b = lo if lo < lo_s else float(x.min(where=big, initial=np.inf))
        hi_b = hi if hi > hi_s else float(x.max(where=big, initial=-np.inf))
        lo1, hi1, lo0, hi0 = (lo_s, hi_s, lo_b, hi_b) if small_is_t else (lo_b, hi_b, lo_s, hi_s)
        # complete or quasi-complete separation along x: the ranges touch at most at one point
        if lo1 >= hi0 or hi1 <= lo0:
            out.append(name)
    return out


def _raise_separation(design: CovariateDesign, culprits: list[str], rows: pd.Index) -> None:
    names = list(design.model_names)
    src = list(dict.fromkeys(design.source[names.index(c)] for c in culprits))
    where = f" (fitted probability 0 or 1 in rows {format_rows(rows)})" if len(rows) else ""
    raise SeparationError(
        "the propensity model shows (quasi-)complete separation: covariate column(s) "
        f"{', '.join(culprits)} predict participation (almost) perfectly{where}, so the "
        f"maximum-likelihood estimate does not exist. Fix: drop, coarsen or merge levels of "
        f"{', '.join(src)}, or restrict the pool to where both groups occur.",
        covariates=culprits,
    )


def _linkfun(mu: NDArray[np.float64], link: str) -> NDArray[np.float64]:
    return np.asarray(special.logit(mu) if link == "logit" else special.ndtri(mu), dtype=float)


def _linkinv(
    eta: NDArray[np.float64], link: str
) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """Fitted probability and d mu / d eta, with R's ``binomial()`` clamping."""
    if link == "logit":
        mu = special.expit(eta)
        if float(np.max(np.abs(eta), initial=0.0)) > 30:  # R: eps / 1 - eps beyond |eta| 30
            mu = np.where(eta < -30, _DBL_EPS, np.where(eta > 30, 1 - _DBL_EPS, mu))
        dmu = mu * (1 - mu)
        if float(np.min(dmu, initial=1.0)) < _DBL_EPS:
            dmu = np.maximum(dmu, _DBL_EPS)
        return mu, dmu
    thresh = -float(special.ndtri(_DBL_EPS))
    e = np.clip(eta, -thresh, thresh)
    return special.ndtr(e), np.maximum(stats.norm.pdf(eta), _DBL_EPS)


def _deviance_mu(mu: NDArray[np.float64], pos: NDArray[np.bool_]) -> float:
    """Binomial deviance ``-2 Σ [y log mu + (1 - y) log(1 - mu)]``; ``pos`` marks y = 1."""
    with np.errstate(divide="ignore"):
        return float(-2 * (np.sum(np.log(mu[pos])) + np.sum(np.log1p(-mu[~pos]))))


def fit_propensity(
    data: pd.DataFrame,
    *,
    treatment: str,
    covariates: Sequence[str],
    link: Link = "logit",
    id_col: str | None = None,
    max_iter: int = _MAX_ITER,
    design: CovariateDesign | None = None,
) -> PropensityModel:
    """Fit the propensity score by unpenalised maximum likelihood (R's ``glm``).

    Parameters
    ----------
    data
        One row per unit; no missing values in ``treatment`` or ``covariates``.
    treatment
        0/1 column (1 = participant).
    covariates
        Covariate columns. Categorical ones (string, object or ``category`` dtype) are
        expanded with the first level as reference.
    link
        ``"logit"`` (default) or ``"probit"``.
    id_col
        If given, the fitted ``score`` is indexed by this column; otherwise by the input index.
    max_iter
        Maximum Newton (logit) or Fisher-scoring (probit) iterations.
    design
        ``covariate_design(data, covariates)`` when the caller already has it (``match()``
        shares one expansion between the model and the balance table).

    Returns
    -------
    PropensityModel

    Raises
    ------
    MatchingError
        A covariate is constant or a linear combination of the others.
    SeparationError
        Fitted probabilities of 0 or 1 (complete or quasi-complete separation); the error names
        the covariate(s) responsible.
    ConvergenceError
        The iterations did not converge.

    Examples
    --------
    >>> df = pd.DataFrame({"t": [0, 0, 1, 0, 1, 1, 0, 1], "x": [1, 2, 3, 4, 5, 6, 3.5, 2.5]})
    >>> m = fit_propensity(df, treatment="t", covariates=["x"])
    >>> [round(float(v), 4) for v in m.coef]  # R: coef(glm(t ~ x, family = binomial()))
    [-2.7232, 0.8148]
    """
    if link not in ("logit", "probit"):
        raise MatchingError(f"link must be 'logit' or 'probit', got {link!r}")
    require_columns(data, [treatment], context="treatment")
    y = pd.to_numeric(data[treatment]).to_numpy(dtype=float)
    if not np.isin(y, (0.0, 1.0)).all():
        bad = np.flatnonzero(~np.isin(y, (0.0, 1.0)))
        raise MatchingError(
            f"column {treatment!r} must be 0/1; rows {format_rows(data.index[bad])} are not. "
            "Fix: code participants as 1 and non-participants as 0."
        )
    if design is None:
        design = covariate_design(data, covariates)
    X = design.model_columns  # the columns, never stacked into an n × p matrix here
    names = design.model_names
    na_cols = [j for j, x in enumerate(X) if np.isnan(x).any()]
    if na_cols:
        rows = data.index[np.logical_or.reduce([np.isnan(X[j]) for j in na_cols])]
        raise MatchingError(
            f"covariate(s) {', '.join(names[j] for j in na_cols)} have missing values in rows "
            f"{format_rows(rows)}. "
            "Fix: impute them, or pass missing='exclude' to match() to exclude these rows."
        )
    n, p = len(y), len(X)
    mu, sd = _column_moments(X)
    const = [names[j] for j in np.flatnonzero(sd == 0)]
    if const:
        raise MatchingError(
            f"covariate(s) {', '.join(const)} are constant in the analysed rows; "
            "the propensity model cannot estimate their effect. Fix: drop them from covariates."
        )
    # the model is fitted on the centred and scaled design Z = [1, (X - mu) / sd], built block
    # by block as it is needed (never the whole n × (p + 1) matrix)
    aliased = _aliased_columns(_gram(X, mu, sd, n) / n, ("(Intercept)", *names)) if n else []
    if aliased:
        raise MatchingError(
            f"covariate column(s) {', '.join(aliased)} are linear combinations of the others "
            "(collinear). Fix: drop one of the collinear covariates."
        )
    single = _separating(X, y, names)
    if single:
        _raise_separation(design, single, data.index[np.zeros(n, dtype=bool)])
    beta, it, dev, info_inv, eta = _fit_scaled(X, mu, sd, y, link=link, max_iter=max_iter)
    prob, _ = _linkinv(eta, link)
    # glm's "fitted probabilities numerically 0 or 1 occurred" check, and diverging
    # coefficients (a combination of covariates separates the groups)
    extreme = (prob < 10 * _DBL_EPS) | (prob > 1 - 10 * _DBL_EPS)
    zbeta = np.abs(beta[1:])
    if extreme.any() or (zbeta.size and zbeta.max() > 30):
        _raise_separation(design, [names[int(np.argmax(zbeta))]], data.index[extreme])
    if it < 0:
        raise ConvergenceError(
            f"the propensity model did not converge in {max_iter} iterations. "
            "Fix: check the covariates for extreme values or near-collinearity."
        )
    # back to the original scale: eta = b0 + Σ b_j (x_j - mu_j)/sd_j
    b = beta[1:] / sd
    b0 = beta[0] - float(np.sum(b * mu))
    T = np.zeros((p + 1, p + 1))  # original coefficients = T @ scaled coefficients
    T[0, 0] = 1.0
    T[0, 1:] = -mu / sd
    T[1:, 1:] = np.diag(1 / sd)
    V = T @ info_inv @ T.T
    idx = data[id_col] if id_col is not None else data.index
    index = pd.Index(idx, name=id_col)
    terms = ["(Intercept)", *names]
    return PropensityModel(
        coef=pd.Series(np.r_[b0, b], index=terms, name="coef"),
        std_error=pd.Series(np.sqrt(np.diag(V)), index=terms, name="std_error"),
        # both arrays were made here and nothing else holds them: no copy
        score=pd.Series(prob, index=index, name="score", copy=False),
        linear_predictor=pd.Series(eta, index=index, name="linear_predictor", copy=False),
        link=link,
        iterations=it,
        deviance=dev,
        n=n,
        covariates=tuple(covariates),
    )


# Rows per block of the scaled design: 2**15 rows × 12 columns is 3 MB, so a block, its
# row-scaled copy and the per-row vectors stay in the CPU cache while a pass works on them.
_BLOCK = 1 << 15
# Logit pools from this size on start IRLS from a fit on a systematic subsample (every
# _WARM_STRIDE-th row), then take full-data Newton steps until glm's own stopping rule holds:
# 3-4 passes over the data instead of about 8. Smaller inputs follow R's iterates exactly.
_WARM_MIN_ROWS = 200_000
_WARM_STRIDE = 20


Columns = Sequence[NDArray[np.float64]]


def _column_moments(X: Columns) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """Column means and population SDs."""
    p = len(X)
    mu = np.zeros(p)
    sd = np.zeros(p)
    for j, x in enumerate(X):
        if x.size == 0:
            continue
        mu[j] = x.mean()
        buf = np.empty(min(x.size, _BLOCK))
        ss = 0.0
        for a in range(0, x.size, _BLOCK):  # squared deviations in cache-sized blocks
            d = buf[: min(_BLOCK, x.size - a)]
            np.subtract(x[a : a + _BLOCK], mu[j], out=d)
            ss += float(np.einsum("i,i->", d, d))
        sd[j] = np.sqrt(ss / x.size)
    return mu, sd


def _blocks(n: int) -> range:
    return range(0, n, _BLOCK)


def _scaled_block(
    X: Columns,
    mu: NDArray[np.float64],
    sd: NDArray[np.float64],
    a: int,
    out: NDArray[np.float64],
) -> NDArray[np.float64]:
    """Rows ``a:a + len(out)`` of ``Z = [1, (X - mu) / sd]`` written into ``out``."""
    m = out.shape[0]
    z = out
    z[:, 0] = 1.0
    for j, x in enumerate(X):
        col = z[:, j + 1]
        np.subtract(x[a : a + m], mu[j], out=col)
        np.divide(col, sd[j], out=col)
    return z


def _gram(X: Columns, mu: NDArray[np.float64], sd: NDArray[np.float64], n: int) -> NDArray:
    """``ZᵀZ`` of the scaled design, accumulated block by block."""
    k = len(X) + 1
    G = np.zeros((k, k))
    buf = np.empty((min(n, _BLOCK), k), order="F")
    for a in _blocks(n):
        z = _scaled_block(X, mu, sd, a, buf[: min(_BLOCK, n - a)])
        G += z.T @ z
    return G


def _linpred(Z: NDArray[np.float64], beta: NDArray[np.float64]) -> NDArray[np.float64]:
    """``Z @ beta`` accumulated column by column.

    A BLAS matrix-vector product may round identical rows differently depending on where they
    sit in the array; element-wise accumulation gives identical covariate rows bit-identical
    scores, which matters because matching breaks ties by data order.
    """
    eta = np.full(Z.shape[0], float(beta[0])) * Z[:, 0]
    for j in range(1, Z.shape[1]):
        eta += Z[:, j] * float(beta[j])
    return eta


def _pass(
    X: Columns,
    mu_x: NDArray[np.float64],
    sd_x: NDArray[np.float64],
    y: NDArray[np.float64],
    beta: NDArray[np.float64] | None,
    *,
    link: str,
    eta: NDArray[np.float64],
    gram: bool = True,
) -> tuple[float, NDArray[np.float64], NDArray[np.float64]]:
    """One pass over the rows at ``beta`` (``None``: glm's start ``mu = (y + 1/2) / 2``).

    Writes the linear predictor into ``eta`` and returns the deviance and, for the next IRLS
    step, ``Zᵀ W Z`` and ``Zᵀ W z`` with the working weights and response at this ``eta``. Each
    block of ``Z`` is built, used and dropped while it is in cache: one read of ``X`` per pass.
    With ``gram=False`` (a pass expected to be the last) only the deviance is computed, and
    ``eta`` element-wise (:func:`_linpred`) as the final scores need it.
    """
    n, k = len(y), len(X) + 1
    A = np.zeros((k, k))
    r = np.zeros(k)
    dev = 0.0
    m0 = min(n, _BLOCK)
    zbuf = np.empty((m0, k), order="F")
    sbuf = np.empty((m0, k), order="F")
    for a in _blocks(n):
        z = _scaled_block(X, mu_x, sd_x, a, zbuf[: min(_BLOCK, n - a)])
        m = z.shape[0]
        yb = y[a : a + m]
        pos = yb == 1
        # one BLAS product per block; the final linear predictor is recomputed element-wise
        # (_final_eta) so that tied rows keep bit-identical scores
        if beta is None:
            eb = _linkfun((yb + 0.5) / 2, link)
        else:
            eb = z @ beta if gram else _linpred(z, beta)
        eta[a : a + m] = eb
        mub, dmu = _linkinv(eb, link)
        dev += _deviance_mu(mub, pos)
        if not gram:
            continue
        # working weights and response (for the logit, w = dmu unless clamped)
        w = dmu if link == "logit" else dmu**2 / (mub * (1 - mub))
        wz = w * (eb + (yb - mub) / dmu)
        zs = np.multiply(z, np.sqrt(w)[:, None], out=sbuf[:m])
        A += zs.T @ zs
        r += z.T @ wz
    return dev, A, r


def _fit_scaled(
    X: Columns,
    mu_x: NDArray[np.float64],
    sd_x: NDArray[np.float64],
    y: NDArray[np.float64],
    *,
    link: str,
    max_iter: int,
) -> tuple[NDArray[np.float64], int, float, NDArray[np.float64], NDArray[np.float64]]:
    """IRLS on the scaled design, warm-started from a subsample for large pools.

    The subsample fit is itself warm-started when it is large, so a 10 M-row pool is fitted
    on 25 k, then 500 k rows, then in full. If the subsample fit fails (separation in the
    subsample, no convergence) the full fit starts where glm starts.
    """
    n = len(y)
    beta0 = None
    # logit only: Newton's quadratic convergence takes any good start to glm's answer (to
    # ~1e-10); the probit's Fisher scoring converges linearly, so where glm stops depends on
    # its path, and the probit keeps glm's start and iterates
    if n >= _WARM_MIN_ROWS and link == "logit":
        sub = slice(None, None, _WARM_STRIDE)
        ys = y[sub]
        if 0 < ys.sum() < ys.size:
            with np.errstate(all="ignore"):
                b, it, _, _, _ = _fit_scaled(
                    [x[sub] for x in X], mu_x, sd_x, ys, link=link, max_iter=max_iter
                )
            if it > 0 and np.all(np.isfinite(b)) and float(np.max(np.abs(b[1:]), initial=0)) <= 30:
                beta0 = b
    return _irls(X, mu_x, sd_x, y, link=link, max_iter=max_iter, beta0=beta0)


def _irls(
    X: Columns,
    mu_x: NDArray[np.float64],
    sd_x: NDArray[np.float64],
    y: NDArray[np.float64],
    *,
    link: str,
    max_iter: int,
    beta0: NDArray[np.float64] | None = None,
) -> tuple[NDArray[np.float64], int, float, NDArray[np.float64], NDArray[np.float64]]:
    """Iteratively reweighted least squares as R's ``glm.fit`` iterates.

    Without ``beta0``: the same start (``mu = (y + 1/2) / 2``), working response and weights,
    step halving when the deviance is not finite, and the same stopping rule
    ``|dev - dev_old| / (|dev| + 0.1) < 1e-8``, so the coefficients follow R's iterates (logit:
    Newton–Raphson; probit: Fisher scoring). With ``beta0`` the iterations start there and
    stop by the same rule. Returns the coefficients (of the scaled design), the iterations
    used (``-1`` if not converged), the deviance, the inverse Fisher information and the
    linear predictor.
    """
    n, k = len(y), len(X) + 1
    eta = np.empty(n)
    dev_old, A, r = _pass(X, mu_x, sd_x, y, beta0, link=link, eta=eta)
    beta = np.zeros(k) if beta0 is None else beta0
    info = np.eye(k)
    converged = -1
    at_beta = beta0 is not None
    exact_eta = False
    for it in range(1, max_iter + 1):
        try:
            new_beta: NDArray[np.float64] = np.asarray(np.linalg.solve(A, r), dtype=float)
        except np.linalg.LinAlgError:
            break
        if link == "logit" and at_beta and _last_step(A, r, beta, new_beta, dev_old):
            # Newton's quadratic model says this step changes the deviance far below glm's
            # threshold: evaluate only the deviance (and the exact scores); glm's rule still
            # decides on the deviance computed, and a full pass follows if it does not stop
            dev, _, _ = _pass(X, mu_x, sd_x, y, new_beta, link=link, eta=eta, gram=False)
            if np.isfinite(dev) and abs(dev - dev_old) / (abs(dev) + 0.1) < _EPSILON:
                beta, info, converged, dev_old, exact_eta = new_beta, A, it, dev, True
                break
        dev, A_new, r_new = _pass(X, mu_x, sd_x, y, new_beta, link=link, eta=eta)
        halvings = 0
        # glm.fit's step halving (glm has no previous coefficients at its first iteration)
        while not np.isfinite(dev) and halvings < 30 and (it > 1 or beta0 is not None):
            new_beta = np.asarray((new_beta + beta) / 2, dtype=float)
            dev, A_new, r_new = _pass(X, mu_x, sd_x, y, new_beta, link=link, eta=eta)
            halvings += 1
        # glm's vcov uses the weights of the last IRLS step (those of the previous iterate)
        beta, info, at_beta = new_beta, A, True
        A, r = A_new, r_new
        if abs(dev - dev_old) / (abs(dev) + 0.1) < _EPSILON:
            converged = it
            dev_old = dev
            break
        dev_old = dev
    try:
        info_inv: NDArray[np.float64] = np.asarray(np.linalg.inv(info), dtype=float)
    except np.linalg.LinAlgError:
        info_inv = np.full((k, k), np.nan)
    if at_beta and not exact_eta:  # eta is at beta (not glm's start): element-wise again
        _final_eta(X, mu_x, sd_x, beta, eta)
    return beta, converged, float(dev_old), info_inv, eta


def _last_step(
    A: NDArray[np.float64],
    r: NDArray[np.float64],
    beta: NDArray[np.float64],
    new_beta: NDArray[np.float64],
    dev: float,
) -> bool:
    """Whether the Newton step ``beta → new_beta`` is predicted to end the iterations.

    For the logit, ``A = ZᵀWZ`` is the Hessian of -log L and ``r - A·beta = Zᵀ(y - mu)`` its
    gradient, so the quadratic model predicts the deviance to fall by ``gradient · step``;
    a prediction 100 times below glm's threshold is taken as the last step.
    """
    step = new_beta - beta
    fall = float((r - A @ beta) @ step)
    return 0 <= fall < 0.01 * _EPSILON * (abs(dev) + 0.1)


def _final_eta(
    X: Columns,
    mu_x: NDArray[np.float64],
    sd_x: NDArray[np.float64],
    beta: NDArray[np.float64],
    eta: NDArray[np.float64],
) -> None:
    """The linear predictor at ``beta``, accumulated element by element (``_linpred``)."""
    n, k = len(eta), len(X) + 1
    buf = np.empty((min(n, _BLOCK), k), order="F")
    for a in _blocks(n):
        z = _scaled_block(X, mu_x, sd_x, a, buf[: min(_BLOCK, n - a)])
        eta[a : a + z.shape[0]] = _linpred(z, beta)
