"""Heteroskedasticity- and cluster-robust variance estimators for linear models.

Conventions follow R's ``sandwich`` package so results can be checked against it:
:func:`hc_vcov` is ``vcovHC(type=...)`` and :func:`cluster_robust_vcov` is
``vcovCL(type="HC1", cadjust=TRUE)`` (the default), both for weighted least squares.
"""

from __future__ import annotations

from typing import Literal

import numpy as np
from numpy.typing import ArrayLike, NDArray
from scipy import stats

__all__ = ["cluster_robust_vcov", "hc_vcov", "t_interval"]


def _bread(X: NDArray[np.float64], w: NDArray[np.float64]) -> NDArray[np.float64]:
    return np.asarray(np.linalg.inv(X.T @ (X * w[:, None])), dtype=float)


def hc_vcov(
    X: ArrayLike,
    resid: ArrayLike,
    *,
    weights: ArrayLike | None = None,
    kind: Literal["HC0", "HC1", "HC2", "HC3"] = "HC2",
) -> NDArray[np.float64]:
    """Heteroskedasticity-consistent covariance of (weighted) least-squares coefficients.

    Parameters
    ----------
    X
        Design matrix (n × k), including the intercept column.
    resid
        Residuals ``y - X b`` (unweighted).
    weights
        Case weights of a weighted fit (default all 1).
    kind
        ``HC0``–``HC3`` as in ``sandwich::vcovHC``.

    Examples
    --------
    >>> X = np.column_stack([np.ones(4), [0, 0, 1, 1]])
    >>> y = np.array([1.0, 2.0, 4.0, 6.0])
    >>> b = np.linalg.lstsq(X, y, rcond=None)[0]
    >>> V = hc_vcov(X, y - X @ b, kind="HC2")
    >>> round(float(V[1, 1]), 4)  # Welch-type variance: 0.5/2 + 2/2
    1.25
    """
    Xa = np.asarray(X, dtype=float)
    e = np.asarray(resid, dtype=float)
    w = np.ones(len(e)) if weights is None else np.asarray(weights, dtype=float)
    n, k = Xa.shape
    B = _bread(Xa, w)
    if kind in ("HC2", "HC3"):
        h = np.einsum("ij,jk,ik->i", Xa * w[:, None], B, Xa)
        omega = e**2 * w**2 / ((1 - h) if kind == "HC2" else (1 - h) ** 2)
    else:
        omega = e**2 * w**2
    meat = Xa.T @ (Xa * omega[:, None])
    V = B @ meat @ B
    if kind == "HC1":
        V = V * n / (n - k)
    return np.asarray(V, dtype=float)


def cluster_robust_vcov(
    X: ArrayLike,
    resid: ArrayLike,
    clusters: ArrayLike,
    *,
    weights: ArrayLike | None = None,
    small_sample: bool = True,
) -> NDArray[np.float64]:
    """Cluster-robust covariance, as ``sandwich::vcovCL(type = "HC1", cadjust = TRUE)``.

    ``V = G/(G-1) · (n-1)/(n-k) · B (Σ_g u_g u_gᵀ) B`` with ``u_g = Σ_{i∈g} w_i e_i x_i`` and
    ``B = (Xᵀ W X)⁻¹``. With ``small_sample=False`` both factors are dropped (CR0).
    Units with a missing cluster id (``NaN``) are each their own cluster.
    """
    Xa = np.asarray(X, dtype=float)
    e = np.asarray(resid, dtype=float)
    w = np.ones(len(e)) if weights is None else np.asarray(weights, dtype=float)
    n, k = Xa.shape
    codes, _ = _cluster_codes(clusters)
    G = int(codes.max()) + 1
    scores = Xa * (w * e)[:, None]
    U = np.zeros((G, k))
    np.add.at(U, codes, scores)
    B = _bread(Xa, w)
    V = B @ (U.T @ U) @ B
    if small_sample:
        V = V * (G / (G - 1)) * ((n - 1) / (n - k))
    return np.asarray(V, dtype=float)


def _cluster_codes(clusters: ArrayLike) -> tuple[NDArray[np.int64], int]:
    import pandas as pd

    c = pd.Series(np.asarray(clusters, dtype=object))
    codes, uniques = pd.factorize(c, use_na_sentinel=True)
    missing = codes < 0
    if missing.any():
        codes = codes.copy()
        codes[missing] = len(uniques) + np.arange(int(missing.sum()))
    return codes.astype(np.int64), int(codes.max()) + 1


def t_interval(
    value: float, std_error: float, df: float, *, level: float = 0.95
) -> tuple[float, float]:
    """``value ± t_{df, 1-α/2} · std_error``.

    Examples
    --------
    >>> lo, hi = t_interval(1.0, 0.5, 10)
    >>> round(lo, 4), round(hi, 4)
    (-0.1141, 2.1141)
    """
    q = float(stats.t.ppf(0.5 + level / 2, df))
    return value - q * std_error, value + q * std_error
