"""Bias-corrected and accelerated (BCa) bootstrap interval from draws and a jackknife.

Efron (1987): with ``θ̂`` the estimate, ``θ*`` the bootstrap draws and ``θ₍ᵢ₎`` the leave-one-out
(jackknife) estimates — leaving out one *cluster* (e.g. one matched set) for a cluster bootstrap:

- bias correction ``z₀ = Φ⁻¹( (#{θ* < θ̂} + ½ #{θ* = θ̂}) / B )``;
- acceleration ``a = Σ (θ̄ − θ₍ᵢ₎)³ / (6 [Σ (θ̄ − θ₍ᵢ₎)²]^{3/2})``;
- the interval is the ``α₁, α₂`` quantiles of the draws, ``αⱼ = Φ(z₀ + (z₀ + z_j) / (1 −
  a (z₀ + z_j)))`` with ``z_j`` the normal quantiles of ``(1 ∓ level)/2``.

This is the construction of ``scipy.stats.bootstrap(method="BCa")`` (the test checks it against
scipy on scipy's own draws), separated from resampling so that the project's seeded,
worker-independent :func:`~pfseval.inference.bootstrap.bootstrap_draws` can feed it.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike
from scipy.special import ndtr, ndtri

__all__ = ["bca_interval"]


def bca_interval(
    draws: ArrayLike, estimate: float, jackknife: ArrayLike, *, level: float = 0.95
) -> tuple[float, float]:
    """BCa interval; ``nan`` draws (failed resamples) are ignored.

    Examples
    --------
    >>> rng = np.random.default_rng(0)
    >>> x = rng.exponential(size=40)
    >>> draws = np.array([rng.choice(x, 40).mean() for _ in range(2000)])
    >>> jack = np.array([np.delete(x, i).mean() for i in range(40)])
    >>> lo, hi = bca_interval(draws, x.mean(), jack)
    >>> bool(lo < x.mean() < hi)
    True
    """
    d = np.asarray(draws, dtype=float)
    d = d[np.isfinite(d)]
    j = np.asarray(jackknife, dtype=float)
    if d.size < 2 or not np.all(np.isfinite(j)) or not np.isfinite(estimate):
        return (float("nan"), float("nan"))
    z0 = float(ndtri((np.sum(d < estimate) + 0.5 * np.sum(d == estimate)) / d.size))
    dev = j.mean() - j
    denom = 6.0 * np.sum(dev**2) ** 1.5
    a = float(np.sum(dev**3) / denom) if denom > 0 else 0.0
    alpha = (1 - level) / 2
    z = ndtri(np.array([alpha, 1 - alpha]))
    adj = ndtr(z0 + (z0 + z) / (1 - a * (z0 + z)))
    lo, hi = np.quantile(d, adj)
    return float(lo), float(hi)
