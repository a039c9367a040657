"""Paired proportions: Newcombe's interval for a difference and McNemar's test.

For the same people asked a yes/no item twice (before and after). ``n10`` counts yes before /
no after, ``n01`` no before / yes after; ``n11`` and ``n00`` the concordant pairs.

Design-free: the pre/post design calls these; nothing here knows about a design.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from scipy import stats

from pfseval.errors import DesignError
from pfseval.inference.proportions import wilson

__all__ = ["McNemarResult", "mcnemar_test", "newcombe_paired"]


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
    return max(-1.0, d - dl), min(1.0, d + du)  # clamp round-off at the ±1 boundary


@dataclass(frozen=True)
class McNemarResult:
    """McNemar's test of equal marginal proportions (see :func:`mcnemar_test`)."""

    statistic: float
    p_value_asymptotic: float
    p_value_exact: float
    n_discordant: int
    correct: bool


def mcnemar_test(n10: int, n01: int, *, correct: bool = True) -> McNemarResult:
    """McNemar's test from the discordant pairs, chi-squared and exact.

    The chi-squared statistic is ``(|n01 − n10| − 1)² / (n01 + n10)`` with the continuity
    correction (``correct=True``, R ``mcnemar.test(correct = TRUE)``, the default) and
    ``(n01 − n10)² / (n01 + n10)`` without (``correct=False``), on 1 degree of freedom. The
    exact p value is the two-sided binomial test of ``n01`` out of ``n01 + n10`` at 1/2 (R
    ``binom.test``). With no discordant pairs both p values are 1.

    Examples
    --------
    >>> r = mcnemar_test(3, 10)
    >>> round(r.statistic, 4), round(r.p_value_asymptotic, 4)  # R mcnemar.test
    (2.7692, 0.0961)
    >>> round(mcnemar_test(3, 10, correct=False).statistic, 4)
    3.7692
    """
    if min(n10, n01) < 0:
        raise DesignError(f"discordant pair counts must be non-negative, got {n10}, {n01}")
    disc = n10 + n01
    if disc == 0:
        return McNemarResult(0.0, 1.0, 1.0, 0, correct)
    diff = abs(n01 - n10)
    # R applies the correction only when the table is not symmetric (n01 != n10), so equal
    # discordant counts give 0, not 1/disc.
    yates = 1 if correct and diff else 0
    chi2 = (diff - yates) ** 2 / disc
    return McNemarResult(
        statistic=float(chi2),
        p_value_asymptotic=float(stats.chi2.sf(chi2, 1)),
        p_value_exact=float(stats.binomtest(n01, disc, 0.5).pvalue),
        n_discordant=disc,
        correct=correct,
    )
