"""Robustness value and partial R² of the treatment (Cinelli & Hazlett 2020).

For a regression-adjusted effect (the treatment coefficient of ``y ~ treatment + covariates``,
e.g. :func:`pfseval.designs.psm.att` with covariates), these numbers say how strongly an
omitted confounder would have to be associated with the treatment and with the outcome —
measured as partial R², i.e. the share of residual variance it explains — to change the
conclusion. Only the t statistic and the residual degrees of freedom are needed:

- partial R² of the treatment with the outcome: ``R²_{Y~D|X} = t² / (t² + df)``; an omitted
  confounder explaining all the residual variance of the outcome would have to explain at least
  this share of the treatment to bring the estimate to zero;
- robustness value ``RV_q``: a confounder explaining ``RV_q`` of the residual variance of *both*
  the treatment and the outcome would reduce the estimate by ``100 q %``;
  ``RV_q = ½ (sqrt(f_q⁴ + 4 f_q²) − f_q²)`` with ``f_q = q |t| / sqrt(df)``;
- ``RV_{q,α}``: the same for the estimate to lose significance at level α: with
  ``f* = t_{1−α/2, df−1} / sqrt(df − 1)`` and ``f_{q,α} = f_q − f*``, ``RV_{q,α} = 0`` if
  ``f_{q,α} ≤ 0``; ``(f_q² − f*²) / (1 + f_q²)`` if ``f_q > 1/f*`` (then only a confounder
  explaining the whole outcome variance would be needed); else the formula above with
  ``f_{q,α}`` in place of ``f_q``.

Reference: Cinelli C, Hazlett C (2020). Making sense of sensitivity: extending omitted variable
bias. JRSS B 82:39–67 (R package ``sensemakr``).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from scipy import stats

from pfseval.errors import DesignError

__all__ = ["RobustnessValue", "robustness_value"]


@dataclass(frozen=True)
class RobustnessValue:
    """Sensitivity statistics of one regression coefficient.

    Attributes
    ----------
    estimate, std_error, t_statistic, df
        The coefficient, its standard error, ``t`` and the residual degrees of freedom.
    partial_r2
        Partial R² of the treatment with the outcome, ``t² / (t² + df)``.
    rv
        Robustness value for reducing the estimate by ``100 q %`` (``q=1``: to zero).
    rv_alpha
        Robustness value for losing significance at ``alpha`` (reduction by ``q`` tested).
    q, alpha
        The options used.
    """

    estimate: float
    std_error: float
    t_statistic: float
    df: float
    partial_r2: float
    rv: float
    rv_alpha: float
    q: float
    alpha: float

    def text(self) -> str:
        """One sentence in plain words for an appendix."""
        return (
            f"An omitted confounder would have to explain {self.rv:.1%} of the residual "
            "variance of both the treatment and the outcome to bring the estimate to zero "
            f"(q = {self.q:g}), and {self.rv_alpha:.1%} to make it non-significant at "
            f"{self.alpha:g}; the treatment itself explains {self.partial_r2:.1%} of the "
            "outcome's residual variance."
        )


def _rv(f: float) -> float:
    return 0.5 * (math.sqrt(f**4 + 4 * f**2) - f**2)


def robustness_value(
    estimate: float,
    std_error: float,
    df: float,
    *,
    q: float = 1.0,
    alpha: float = 0.05,
) -> RobustnessValue:
    """Robustness value and partial R² of a treatment coefficient.

    Parameters
    ----------
    estimate, std_error
        The treatment coefficient and its (classical) standard error.
    df
        Residual degrees of freedom of the regression.
    q
        Share of the estimate a confounder would remove (1 = all of it).
    alpha
        Significance level for ``rv_alpha``.

    Examples
    --------
    Cinelli & Hazlett (2020), Darfur example (coefficient of ``directlyharmed``): partial
    R² 2.2 %, RV 13.9 %, RV at α = 0.05 7.6 %:

    >>> r = robustness_value(0.09731582, 0.02325654, 783)
    >>> round(r.partial_r2, 4), round(r.rv, 4), round(r.rv_alpha, 4)
    (0.0219, 0.1388, 0.0763)
    """
    if not (std_error > 0 and math.isfinite(std_error) and math.isfinite(estimate)):
        raise DesignError(
            f"estimate and std_error must be finite with std_error > 0, got {estimate!r}, "
            f"{std_error!r}."
        )
    if not df > 1:
        raise DesignError(f"df must be > 1, got {df!r}.")
    if not q > 0:
        raise DesignError(f"q must be > 0, got {q!r}.")
    if not 0 < alpha < 1:
        raise DesignError(f"alpha must be in (0, 1), got {alpha!r}.")
    t = estimate / std_error
    fq = q * abs(t) / math.sqrt(df)
    f_crit = float(stats.t.ppf(1 - alpha / 2, df - 1)) / math.sqrt(df - 1)
    fqa = fq - f_crit
    if fqa <= 0:
        rv_a = 0.0
    elif fq > 1 / f_crit:
        rv_a = (fq**2 - f_crit**2) / (1 + fq**2)
    else:
        rv_a = _rv(fqa)
    return RobustnessValue(
        estimate=float(estimate),
        std_error=float(std_error),
        t_statistic=float(t),
        df=float(df),
        partial_r2=t**2 / (t**2 + df),
        rv=_rv(fq),
        rv_alpha=float(rv_a),
        q=float(q),
        alpha=float(alpha),
    )
