"""E-values (VanderWeele & Ding 2017): how strong an unmeasured confounder would have to be.

The E-value is the minimum strength of association, on the risk-ratio scale, that an
unmeasured confounder would need to have with both the treatment and the outcome, conditional
on the measured covariates, to fully explain away an observed risk ratio ``RR``:

``E = RR + sqrt(RR × (RR − 1))`` for ``RR ≥ 1`` (use ``1/RR`` when ``RR < 1``).

For the confidence interval the same formula is applied to the limit closer to 1; when the
interval already contains 1 the E-value of the limit is 1 (no confounding is needed).
Other effect scales are first converted to an approximate risk ratio, as in the paper and in
R's ``EValue`` package:

- odds ratio: ``RR ≈ OR`` for a rare outcome (< 15 %), else ``RR ≈ sqrt(OR)``;
- standardised mean difference ``d`` (difference / outcome SD): ``RR ≈ exp(0.91 d)`` with
  interval ``exp(0.91 d ± 1.78 SE(d))``;
- risk difference: through the risk ratio of the same two marginal risks (``p1 / p0``),
  e.g. from :func:`pfseval.designs.psm.marginal_effect`.

Reference: VanderWeele TJ, Ding P (2017). Sensitivity analysis in observational research:
introducing the E-value. Annals of Internal Medicine 167:268–274.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from pfseval.errors import DesignError
from pfseval.result import Estimate

__all__ = ["EValue", "e_value", "evalue_of", "evalue_or", "evalue_rr", "evalue_smd"]

#: Below this outcome prevalence an odds ratio approximates a risk ratio (VanderWeele 2017).
RARE_OUTCOME = 0.15
#: exp(0.91 d) converts a standardised mean difference to a risk ratio (VanderWeele 2017,
#: after Chinn 2000); 1.78 = 0.91 × 1.96 scales its standard error.
_SMD_SLOPE = 0.91
_SMD_SE_SLOPE = 1.78


@dataclass(frozen=True)
class EValue:
    """E-values of an estimate and of its confidence limit closer to the null.

    Attributes
    ----------
    scale
        The scale of the input (``"RR"``, ``"OR"``, ``"SMD"``).
    estimate, conf_low, conf_high
        The input estimate and interval on their own scale.
    rr, rr_low, rr_high
        The same on the (approximate) risk-ratio scale.
    point
        E-value of the estimate.
    limit
        E-value of the confidence limit closer to 1 (1 when the interval contains 1).
    """

    scale: str
    estimate: float
    conf_low: float | None
    conf_high: float | None
    rr: float
    rr_low: float | None
    rr_high: float | None
    point: float
    limit: float | None

    def text(self) -> str:
        """One sentence in plain words for an appendix.

        Examples
        --------
        >>> print(evalue_rr(3.9, conf_low=1.8, conf_high=8.7).text())
        An unmeasured confounder associated with both the treatment and the outcome by a risk ratio of 7.26 each (3.00 for the confidence limit), above the measured covariates, could explain the estimate away; weaker confounding could not.
        """
        lim = "" if self.limit is None else f" ({self.limit:.2f} for the confidence limit)"
        return (
            "An unmeasured confounder associated with both the treatment and the outcome by a "
            f"risk ratio of {self.point:.2f} each{lim}, above the measured covariates, could "
            "explain the estimate away; weaker confounding could not."
        )


def e_value(rr: float) -> float:
    """E-value of one risk ratio: ``RR + sqrt(RR(RR − 1))`` on the side of RR away from 1.

    Examples
    --------
    >>> round(e_value(3.9), 3)  # VanderWeele & Ding (2017): breastfeeding, RR 3.9 → 7.26
    7.263
    >>> e_value(1.0), round(e_value(0.5), 4) == round(e_value(2.0), 4)
    (1.0, True)
    """
    if not (rr > 0 and math.isfinite(rr)):
        raise DesignError(f"a risk ratio must be positive and finite, got {rr!r}.")
    r = rr if rr >= 1 else 1.0 / rr
    return r + math.sqrt(r * (r - 1.0))


def _limit_evalue(rr: float, lo: float | None, hi: float | None) -> float | None:
    """E-value of the limit closer to 1; 1 when the interval contains 1."""
    if lo is None or hi is None:
        return None
    if lo > hi:
        raise DesignError(f"conf_low {lo!r} is above conf_high {hi!r}.")
    if lo <= 1.0 <= hi:
        return 1.0
    return e_value(lo if rr >= 1 else hi)


def _check_interval(est: float, lo: float | None, hi: float | None) -> None:
    if (lo is None) != (hi is None):
        raise DesignError("give both conf_low and conf_high, or neither.")
    if lo is not None and hi is not None and not lo <= est <= hi:
        raise DesignError(f"the estimate {est!r} is outside its interval ({lo!r}, {hi!r}).")


def evalue_rr(
    rr: float, *, conf_low: float | None = None, conf_high: float | None = None
) -> EValue:
    """E-values for a risk ratio and its confidence interval.

    Examples
    --------
    >>> ev = evalue_rr(3.9, conf_low=1.8, conf_high=8.7)  # VanderWeele & Ding (2017)
    >>> round(ev.point, 2), round(ev.limit, 2)
    (7.26, 3.0)
    >>> evalue_rr(0.8, conf_low=0.6, conf_high=1.1).limit
    1.0
    """
    _check_interval(rr, conf_low, conf_high)
    return EValue(
        scale="RR",
        estimate=rr,
        conf_low=conf_low,
        conf_high=conf_high,
        rr=rr,
        rr_low=conf_low,
        rr_high=conf_high,
        point=e_value(rr),
        limit=_limit_evalue(rr, conf_low, conf_high),
    )


def evalue_or(
    odds_ratio: float,
    *,
    conf_low: float | None = None,
    conf_high: float | None = None,
    rare: bool,
) -> EValue:
    """E-values for an odds ratio: as a risk ratio if ``rare`` (< 15 %), else via ``sqrt(OR)``.

    Examples
    --------
    >>> round(evalue_or(2.0, rare=False).point, 4)  # RR ≈ sqrt(2) = 1.4142
    2.1796
    >>> round(evalue_or(2.0, rare=True).point, 4)
    3.4142
    """
    _check_interval(odds_ratio, conf_low, conf_high)

    def conv(x: float | None) -> float | None:
        return None if x is None else (x if rare else math.sqrt(x))

    rr = float(conv(odds_ratio))  # type: ignore[arg-type]
    lo, hi = conv(conf_low), conv(conf_high)
    return EValue(
        scale="OR",
        estimate=odds_ratio,
        conf_low=conf_low,
        conf_high=conf_high,
        rr=rr,
        rr_low=lo,
        rr_high=hi,
        point=e_value(rr),
        limit=_limit_evalue(rr, lo, hi),
    )


def evalue_smd(d: float, *, std_error: float | None = None) -> EValue:
    """E-values for a standardised mean difference ``d`` (difference / outcome SD).

    ``RR ≈ exp(0.91 d)``, interval ``exp(0.91 d ± 1.78 SE)`` (VanderWeele & Ding 2017,
    a 95 % interval by construction).

    Examples
    --------
    >>> ev = evalue_smd(0.5, std_error=0.1)
    >>> round(ev.rr, 4), round(ev.point, 4), round(ev.limit, 4)
    (1.5762, 2.5291, 1.968)
    """
    if not math.isfinite(d):
        raise DesignError(f"the standardised mean difference must be finite, got {d!r}.")
    rr = math.exp(_SMD_SLOPE * d)
    lo = hi = None
    if std_error is not None:
        if not std_error >= 0:
            raise DesignError(f"std_error must be ≥ 0, got {std_error!r}.")
        lo = math.exp(_SMD_SLOPE * d - _SMD_SE_SLOPE * std_error)
        hi = math.exp(_SMD_SLOPE * d + _SMD_SE_SLOPE * std_error)
    return EValue(
        scale="SMD",
        estimate=d,
        conf_low=None if std_error is None else d - 1.96 * std_error,
        conf_high=None if std_error is None else d + 1.96 * std_error,
        rr=rr,
        rr_low=lo,
        rr_high=hi,
        point=e_value(rr),
        limit=_limit_evalue(rr, lo, hi),
    )


def evalue_of(
    estimate: Estimate, *, outcome_sd: float | None = None, rare: bool | None = None
) -> EValue:
    """E-values of an :class:`~pfseval.result.Estimate`, by its estimand.

    - ``"RR"``: as is; ``"OR"``: needs ``rare`` (outcome under 15 %?);
    - ``"RD"``: through the risk ratio of the same marginal risks, ``related["RR"]`` (as
      :func:`pfseval.designs.psm.marginal_effect` gives it);
    - any other (a difference in means, an ATT): as a standardised mean difference, which
      needs ``outcome_sd`` (e.g. the SD of the outcome among the controls) and a standard error.

    Examples
    --------
    >>> from pfseval.result import Estimate
    >>> est = Estimate(estimand="RR", value=3.9, conf_low=1.8, conf_high=8.7)
    >>> round(evalue_of(est).point, 2)
    7.26
    >>> att = Estimate(estimand="ATT", value=1.2, conf_low=0.4, conf_high=2.0, std_error=0.4)
    >>> round(evalue_of(att, outcome_sd=3.0).rr, 4)  # d = 0.4, exp(0.91 × 0.4)
    1.4391
    """
    est = estimate
    if est.estimand == "RD":
        if "RR" not in est.related:
            raise DesignError(
                "a risk difference needs the risk ratio of the same two risks for its E-value. "
                "Fix: use psm.marginal_effect, whose related['RR'] has it."
            )
        est = est.related["RR"]
    if est.estimand == "RR":
        return evalue_rr(est.value, conf_low=est.conf_low, conf_high=est.conf_high)
    if est.estimand == "OR":
        if rare is None:
            raise DesignError(
                "an odds ratio's E-value depends on whether the outcome is rare. Fix: pass "
                "rare=True (under 15 %) or rare=False."
            )
        return evalue_or(est.value, conf_low=est.conf_low, conf_high=est.conf_high, rare=rare)
    if outcome_sd is None or not outcome_sd > 0 or est.std_error is None:
        raise DesignError(
            f"the E-value of a {est.estimand!r} estimate is computed as a standardised mean "
            "difference. Fix: pass outcome_sd (the outcome's standard deviation, > 0); the "
            "estimate needs a standard error."
        )
    return evalue_smd(est.value / outcome_sd, std_error=est.std_error / outcome_sd)
