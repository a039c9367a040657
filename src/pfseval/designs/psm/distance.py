"""Mahalanobis and robust Mahalanobis matching (MatchIt's ``distance = "mahalanobis"``,
``"robust_mahalanobis"`` and ``mahvars``).

The covariates are turned into coordinates in which the Euclidean distance *is* the
Mahalanobis distance (``Z = X L`` with ``L Lᵀ = S⁻¹``), so one nearest-neighbour search
serves both. ``S`` is, as in MatchIt (and optmatch, Rubin 1980), the pooled within-group
covariance of the units not discarded; the robust version (Rosenbaum 2010, ch. 8) replaces
each covariate by its ranks (ties averaged) and rescales the rank covariance so that every
variable has the variance of untied ranks. A singular ``S`` is inverted with the
Moore–Penrose pseudo-inverse.

Greedy matching then gives each focal unit, in the requested order and round by round, the
nearest available control in ``Z``: with a k-d tree (SciPy's ``cKDTree``, O(log n) per query)
when there is no score caliper, or, with ``mahvars`` (Mahalanobis matching within a caliper on
the propensity score), among the controls inside the caliper window found by binary search on
the score. Equal Mahalanobis distances (only with duplicated covariate rows) go to the control
earlier in the data; MatchIt's walk can resolve such exact ties differently.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from numpy.typing import ArrayLike, NDArray
from scipy.spatial import cKDTree
from scipy.stats import rankdata

from pfseval.errors import MatchingError

__all__ = ["mahalanobis_coordinates", "mahalanobis_match"]


def mahalanobis_coordinates(
    X: ArrayLike,
    treat: ArrayLike,
    *,
    robust: bool = False,
    discarded: ArrayLike | None = None,
) -> NDArray[np.float64]:
    """Coordinates whose Euclidean distances are the (robust) Mahalanobis distances.

    Parameters
    ----------
    X
        Covariates (n × p), numeric, no missing values.
    treat
        0/1 group (n); the covariance is pooled within the two groups.
    robust
        Rank-based robust Mahalanobis distance (Rosenbaum 2010).
    discarded
        Units left out of the covariance (n, boolean).

    Returns
    -------
    numpy.ndarray
        ``Z`` (n × p).

    Examples
    --------
    >>> X = np.array([[1.0, 2.0], [2.0, 1.0], [3.0, 5.0], [4.0, 3.0], [0.0, 1.0]])
    >>> Z = mahalanobis_coordinates(X, [1, 1, 0, 0, 0])
    >>> S = np.cov(np.r_[X[:2] - X[:2].mean(0), X[2:] - X[2:].mean(0)].T) * 4 / 3
    >>> d = X[0] - X[2]
    >>> bool(np.isclose(np.sum((Z[0] - Z[2]) ** 2), d @ np.linalg.inv(S) @ d))
    True
    """
    Xa = np.asarray(X, dtype=float)
    if Xa.ndim == 1:
        Xa = Xa[:, None]
    t = np.asarray(treat).astype(bool)
    n = len(Xa)
    keep = ~(np.zeros(n, bool) if discarded is None else np.asarray(discarded, dtype=bool))
    # columns without variance carry no distance (MatchIt drops them too)
    varying = np.ptp(Xa[keep], axis=0) >= np.sqrt(np.finfo(float).eps)
    if not varying.any():
        raise MatchingError(
            "every Mahalanobis covariate is constant. Fix: choose covariates that vary."
        )
    Xa = Xa[:, varying]
    if robust:
        R = np.zeros_like(Xa)
        R[keep] = np.column_stack([rankdata(c) for c in Xa[keep].T])
        V = np.atleast_2d(np.cov(R[keep], rowvar=False))
        mult = np.std(np.arange(1, keep.sum() + 1), ddof=1) / np.sqrt(np.diag(V))
        V = V * np.outer(mult, mult)
        Xa = R
    else:
        Xk, tk = Xa[keep], t[keep]
        centred = np.where(tk[:, None], Xk - Xk[tk].mean(0), Xk - Xk[~tk].mean(0))
        V = np.atleast_2d(centred.T @ centred / (len(Xk) - 2))
    inv = np.linalg.pinv(V, hermitian=True)
    # a symmetric square root of the inverse: Euclidean in Z = Mahalanobis in X
    vals, vecs = np.linalg.eigh(inv)
    L = vecs * np.sqrt(np.clip(vals, 0, None))
    return np.asarray(Xa @ L, dtype=float)


def mahalanobis_match(
    Z: ArrayLike,
    treat: ArrayLike,
    *,
    ratio: int = 1,
    replace: bool = False,
    order: ArrayLike | None = None,
    strata: ArrayLike | None = None,
    discarded: ArrayLike | None = None,
    score: ArrayLike | None = None,
    caliper_width: float | None = None,
) -> NDArray[np.intp]:
    """Greedy nearest-neighbour matching on Mahalanobis coordinates.

    Parameters
    ----------
    Z
        Coordinates from :func:`mahalanobis_coordinates` (n × p).
    treat
        Focal group indicator (n).
    ratio
        Controls per focal unit (round by round without replacement).
    replace
        Whether a control may serve several focal units.
    order
        Focal units (indices among them) in visiting order; default data order.
    strata
        Exact-matching stratum codes (n).
    discarded
        Units excluded (n, boolean).
    score, caliper_width
        A score and the largest allowed ``|score_t - score_c|`` (``mahvars`` matching).

    Returns
    -------
    numpy.ndarray
        ``(n_focal, ratio)`` row numbers of matched controls (``-1`` = none), nearest first.

    Examples
    --------
    >>> Z = np.array([[0.0], [1.0], [0.9], [0.2], [5.0]])
    >>> mahalanobis_match(Z, [1, 1, 0, 0, 0]).tolist()
    [[3], [2]]
    """
    Za = np.asarray(Z, dtype=float)
    if Za.ndim == 1:
        Za = Za[:, None]
    t = np.asarray(treat).astype(bool)
    n = len(Za)
    disc = np.zeros(n, bool) if discarded is None else np.asarray(discarded, dtype=bool)
    st = np.zeros(n, np.intp) if strata is None else pd.factorize(np.asarray(strata))[0]
    f_pos = np.flatnonzero(t)
    visit = np.arange(len(f_pos)) if order is None else np.asarray(order, dtype=np.intp)
    mm = np.full((len(f_pos), ratio), -1, dtype=np.intp)
    avail = ~t & ~disc
    s_arr = None if score is None else np.asarray(score, dtype=float)
    cal = np.inf if caliper_width is None else float(caliper_width)
    searchers = {
        int(s): _Searcher(Za, np.flatnonzero(avail & (st == s)), s_arr)
        for s in np.unique(st[f_pos])
    }
    rounds = 1 if replace else ratio
    for r in range(rounds):
        for i in visit.tolist():
            ti = int(f_pos[i])
            if disc[ti] or (r > 0 and mm[i, r - 1] < 0):
                continue
            got = searchers[int(st[ti])].nearest(ti, ratio if replace else 1, avail, cal)
            if replace:
                mm[i, : len(got)] = got
            elif got:
                mm[i, r] = got[0]
                avail[got[0]] = False
    return mm


class _Searcher:
    """Nearest available controls of one stratum, by a k-d tree or inside a score window."""

    def __init__(
        self, Z: NDArray[np.float64], ctrl: NDArray[np.intp], score: NDArray[np.float64] | None
    ) -> None:
        self.Z = Z
        self.score = score
        if score is not None:  # controls sorted by score, for the caliper window
            o = np.argsort(score[ctrl], kind="stable")
            self.ctrl = ctrl[o]
            self.cs = score[self.ctrl]
        else:
            self.ctrl = ctrl
            self.tree = cKDTree(Z[ctrl]) if len(ctrl) else None

    def nearest(self, ti: int, k: int, avail: NDArray[np.bool_], cal: float) -> list[int]:
        if len(self.ctrl) == 0:
            return []
        if self.score is not None:
            s = self.score[ti]
            lo = int(self.cs.searchsorted(s - cal, side="left"))
            hi = int(self.cs.searchsorted(s + cal, side="right"))
            cand = self.ctrl[lo:hi]
            cand = cand[avail[cand] & (np.abs(self.score[cand] - s) <= cal)]
            d2 = np.sum((self.Z[cand] - self.Z[ti]) ** 2, axis=1)
            o = np.lexsort((cand, d2))[:k]  # ties: earlier in the data
            return [int(c) for c in cand[o]]
        assert self.tree is not None
        m = len(self.ctrl)
        q = min(m, max(2 * k, 8))
        while True:
            dist, idx = self.tree.query(self.Z[ti], k=q)
            dist, idx = np.atleast_1d(dist), np.atleast_1d(idx)
            cand = self.ctrl[idx]
            ok = avail[cand]
            if ok.sum() >= k or q == m:
                d, c = dist[ok], cand[ok]
                o = np.lexsort((c, d))[:k]
                # the k-th distance may tie with controls beyond the query: widen once more
                if q < m and len(o) and np.isclose(d[o[-1]], dist[-1], rtol=0, atol=0):
                    q = min(m, 2 * q)
                    continue
                return [int(x) for x in c[o]]
            q = min(m, 4 * q)
