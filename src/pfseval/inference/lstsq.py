"""One least-squares helper for the designs that fit linear models.

Design-free: it fits ``y ≈ X b`` (optionally weighted) and reports the rank, so each design can
decide what a rank-deficient fit means for it.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import ArrayLike, NDArray

__all__ = ["LeastSquaresFit", "least_squares"]


@dataclass(frozen=True)
class LeastSquaresFit:
    """Coefficients, residuals and rank of a least-squares fit.

    ``coef`` has shape ``(k,)`` for one response or ``(k, m)`` for ``m`` responses (the
    columns of ``y``); ``resid`` is ``y − X coef`` on the original (unweighted) scale.
    """

    coef: NDArray[np.float64]
    resid: NDArray[np.float64]
    rank: int

    @property
    def full_rank(self) -> bool:
        """The design matrix has as many independent columns as coefficients."""
        return self.rank == self.coef.shape[0]


def least_squares(
    X: ArrayLike, y: ArrayLike, *, weights: ArrayLike | None = None
) -> LeastSquaresFit:
    """(Weighted) least squares through an SVD-based solver (``numpy.linalg.lstsq``).

    Weighted fits minimise ``Σ w_i (y_i − x_iᵀ b)²`` by scaling rows with ``√w_i``. For a
    rank-deficient ``X`` the minimum-norm solution is returned and ``rank`` says so.

    Parameters
    ----------
    X
        Design matrix (n × k).
    y
        Response (n,) or several responses (n × m).
    weights
        Non-negative case weights (n,).

    Examples
    --------
    >>> X = np.column_stack([np.ones(4), [0.0, 1.0, 2.0, 3.0]])
    >>> fit = least_squares(X, [1.0, 3.0, 5.0, 7.0])
    >>> fit.coef.round(6).tolist(), fit.full_rank
    ([1.0, 2.0], True)
    """
    Xa = np.asarray(X, dtype=float)
    ya = np.asarray(y, dtype=float)
    if weights is None:
        coef, _, rank, _ = np.linalg.lstsq(Xa, ya, rcond=None)
    else:
        sw = np.sqrt(np.asarray(weights, dtype=float))
        ys = ya * (sw if ya.ndim == 1 else sw[:, None])
        coef, _, rank, _ = np.linalg.lstsq(Xa * sw[:, None], ys, rcond=None)
    coef = np.asarray(coef, dtype=float)
    return LeastSquaresFit(coef=coef, resid=ya - Xa @ coef, rank=int(rank))
