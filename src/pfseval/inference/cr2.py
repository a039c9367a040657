"""Bias-reduced cluster-robust variance (CR2) with Bell–McCaffrey degrees of freedom.

As R ``clubSandwich::vcovCR(type = "CR2")`` with ``coef_test(test = "Satterthwaite")`` for an
ordinary least-squares fit with a working model of independent, homoskedastic errors.

Design-free: the randomised-trial design calls this; nothing here knows about a design.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from numpy.typing import NDArray

from pfseval.errors import DesignError

__all__ = ["cr2_variance"]


def cr2_variance(
    X: NDArray[np.float64], resid: NDArray[np.float64], clusters: NDArray[np.int64], j: int
) -> tuple[float, float]:
    """CR2 variance of coefficient ``j`` and its Bell–McCaffrey degrees of freedom.

    Parameters
    ----------
    X
        Design matrix (n × k) of the least-squares fit, with the intercept column.
    resid
        Residuals ``y − X b``.
    clusters
        Integer cluster codes (one per row).
    j
        Index of the coefficient.

    Returns
    -------
    tuple
        ``(variance, df)``.

    Notes
    -----
    ``A_g = (I − H_gg)^(-1/2)`` is applied through the thin SVD of ``X_g`` so no ``n_g × n_g``
    matrix is formed. With ``c`` the unit vector of coefficient ``j`` and ``v_g = A_g X_g B c``:
    ``Var = Σ_g (v_gᵀ e_g)²`` and ``df = (tr Ω)² / ‖Ω‖_F²`` with ``Ω = diag(‖v_g‖²) − R B Rᵀ``,
    ``R_g = X_gᵀ v_g`` (Bell & McCaffrey 2002; Pustejovsky & Tipton 2018). The sort by cluster
    makes it O(n log n) plus O(n k²) for the per-cluster SVDs.

    Examples
    --------
    >>> X = np.column_stack([np.ones(8), [1, 1, 0, 0, 1, 1, 0, 0]])
    >>> e = np.array([0.5, -0.5, 1.0, -1.0, 0.2, -0.2, 0.3, -0.3])
    >>> var, df = cr2_variance(X, e, np.array([0, 0, 1, 1, 2, 2, 3, 3]), 1)
    >>> round(var, 12), round(df, 6)  # residuals sum to 0 in each cluster
    (0.0, 2.0)
    """
    e = np.asarray(resid, dtype=float)
    codes = np.asarray(clusters, dtype=np.int64)
    B = np.linalg.inv(X.T @ X)
    Bc = B[:, j]
    order = np.argsort(codes, kind="stable")
    splits = np.flatnonzero(np.diff(codes[order])) + 1
    G = splits.size + 1
    contrib = np.empty(G)
    norms = np.empty(G)
    R = np.empty((G, X.shape[1]))
    for gi, ix in enumerate(np.split(order, splits)):
        Xg = X[ix]
        U, s, Vt = np.linalg.svd(Xg, full_matrices=False)
        keep = s > s.max() * 1e-12 if s.size else s > 0
        U, s, Vt = U[:, keep], s[keep], Vt[keep]
        M = (s[:, None] * (Vt @ B @ Vt.T)) * s[None, :]
        lam, Wm = np.linalg.eigh(M)
        if lam.size and lam.max() > 1 - 1e-10:
            raise DesignError(
                "cluster-robust CR2 variance is undefined: one cluster alone determines a "
                "coefficient (e.g. an arm with a single cluster, or a covariate that varies in "
                "one cluster only). Fix: use more clusters per arm or fewer covariates."
            )
        Ug = U @ Wm
        f = 1 / np.sqrt(1 - lam) - 1

        def apply(v: NDArray[np.float64], Ug: NDArray[np.float64] = Ug, f: Any = f) -> Any:
            return v + Ug @ (f * (Ug.T @ v))

        v = apply(Xg @ Bc)
        contrib[gi] = float(v @ e[ix])
        norms[gi] = float(v @ v)
        R[gi] = Xg.T @ v
    var = float(np.sum(contrib**2))
    Omega = -(R @ B @ R.T)
    Omega[np.diag_indices(G)] += norms
    df = float(np.trace(Omega) ** 2 / np.sum(Omega**2))
    return var, df
