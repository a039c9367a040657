"""Tipping-point analysis for the Kobe suppression rate.

An unmeasured confounder that made participants healthier than their matched controls would
make their renal function decline less *whatever the programme did*: their true no-programme
prediction would be higher (less decline) than the regression says. This module shifts every
participant's predicted change by ``δ`` (in the unit of the change, e.g. mL/min/1.73m² per
year; ``δ > 0`` = participants would have declined ``δ`` less anyway) and recomputes

- the suppression rate (a participant is suppressed when actual change > predicted + δ),
- its difference from the no-effect reference rate (unchanged: the controls are not shifted),
- the confidence interval of that difference, and
- optionally the payment under a :class:`~pfseval.payment.Contract`,

and reports the smallest ``δ`` at which the difference is no longer significant and the
smallest ``δ`` at which the payment changes. ``δ`` runs over a grid of ``step`` (default 0.1
unit of the change) rather than over the exact points where a participant's residual (actual −
predicted change) is crossed, so that nothing in the result is one person's value; the
tipping points are therefore exact to within one ``step``.

Interval of the difference at ``δ``: with bootstrap draws, the normal bootstrap interval
``d(δ) ± z·SE(δ)`` where the bootstrap variance at ``δ = 0`` keeps its regression and reference
parts and only the participants' binomial part follows the rate:
``SE(δ)² = SE₀² + [p(δ)(1−p(δ)) − p₀(1−p₀)] / n`` (never below ``p(δ)(1−p(δ))/n``). At
``δ = 0`` this is the published bootstrap-normal interval. Without draws: Newcombe's hybrid
score interval on the two counts.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
from numpy.typing import NDArray
from scipy.special import ndtri

from pfseval.errors import DesignError, PfsevalError
from pfseval.inference import newcombe_diff, percentile_interval
from pfseval.payment import Contract
from pfseval.result import Estimate
from pfseval.sensitivity.evalue import EValue, evalue_rr

__all__ = [
    "KobeSensitivity",
    "TippingPoint",
    "kobe_evalue",
    "kobe_sensitivity",
    "kobe_tipping_point",
]

_TIE_TOL = 1e-9  # as the Kobe rate: within 1e-9 × max(1, |predicted|) is a tie (not suppressed)


@dataclass(frozen=True)
class TippingPoint:
    """Result of :func:`kobe_tipping_point`.

    Attributes
    ----------
    table
        One row per δ: ``delta, n_suppressed, rate, reference_rate, difference, conf_low,
        conf_high, significant`` and, with a contract, ``payment`` (the component) and
        ``total``.
    delta_significance
        Smallest δ ≥ 0 at which the difference's interval reaches 0 (``0.0``: not significant
        even unshifted; ``None``: significant at every δ examined).
    delta_payment
        Smallest δ ≥ 0 at which the component's payment differs from the unshifted one
        (``None`` without a contract, or when it never changes).
    unit
        What δ is measured in (the change's description).
    """

    table: pd.DataFrame
    delta_significance: float | None
    delta_payment: float | None
    level: float
    unit: str

    def text(self) -> str:
        """Plain words for the appendix (aggregates only: δ values, no person)."""
        parts = []
        if self.delta_significance is None:
            parts.append(
                "The difference from the no-effect reference stays significant for every "
                "shift examined."
            )
        elif self.delta_significance == 0.0:
            parts.append("The difference from the no-effect reference is not significant.")
        else:
            parts.append(
                "If participants' renal function would have declined "
                f"{self.delta_significance:.3g} ({self.unit}) less than predicted even without "
                "the programme — as an unmeasured difference between participants and controls "
                "could cause — the difference from the no-effect reference would no longer be "
                "significant."
            )
        if self.delta_payment is not None:
            parts.append(
                f"A shift of {self.delta_payment:.3g} already changes the payment for this "
                "indicator."
            )
        return " ".join(parts)


def _rates(
    resid: NDArray[np.float64], pred: NDArray[np.float64], deltas: NDArray[np.float64]
) -> NDArray[np.int64]:
    """Suppressed count at each δ: ``resid − δ > 1e-9 × max(1, |pred + δ|)``."""
    tol = _TIE_TOL * np.maximum(1.0, np.abs(pred[None, :] + deltas[:, None]))
    return np.asarray((resid[None, :] - deltas[:, None] > tol).sum(axis=1), dtype=np.int64)


def kobe_tipping_point(
    estimate: Estimate,
    *,
    deltas: Sequence[float] | None = None,
    step: float = 0.1,
    contract: Contract | None = None,
    indicator: str = "suppression_rate",
    indicators: Mapping[str, float | Estimate] | None = None,
) -> TippingPoint:
    """Shift participants' predicted change by δ until the Kobe result loses significance.

    Parameters
    ----------
    estimate
        The result of :func:`pfseval.designs.psm.suppression_rate` (its
        ``private["per_person"]`` and ``related["reference_rate"]``/``["difference"]`` are
        used; nothing per person is returned).
    deltas
        δ values to tabulate (default: ``0, step, 2·step, …`` up to the shift at which nobody
        is suppressed any more).
    step
        Grid step of the default ``deltas``, in the unit of the change.
    contract, indicator, indicators
        With a contract: the payment at each δ; ``indicator`` is the Kobe component's
        indicator id and ``indicators`` the values of the contract's other indicators.

    Returns
    -------
    TippingPoint

    Examples
    --------
    >>> from pfseval.designs.psm import suppression_rate
    >>> from pfseval.designs.psm.kobe import _example_matched
    >>> est = suppression_rate(_example_matched(), outcome="egfr_follow", baseline="egfr",
    ...                        followup_years=3.0, covariates=["age", "egfr"],
    ...                        n_boot=200, seed=1)
    >>> tp = kobe_tipping_point(est)
    >>> bool(tp.table["rate"].iloc[0] == est.value), tp.delta_significance > 0
    (True, True)
    """
    if "per_person" not in estimate.private or "difference" not in estimate.related:
        raise DesignError(
            "kobe_tipping_point needs the result of psm.suppression_rate (with its per-person "
            "table and no-effect reference). Fix: pass that Estimate."
        )
    pp = estimate.private["per_person"]
    pp = pp.loc[pp["in_denominator"].to_numpy(dtype=bool)]
    pred = pp["predicted_change"].to_numpy(dtype=float)
    resid = pp["actual_change"].to_numpy(dtype=float) - pred
    n = len(pred)
    ref = estimate.related["reference_rate"]
    diff0 = estimate.related["difference"]
    level = estimate.level
    if deltas is None:
        if not step > 0:
            raise DesignError(f"step must be > 0, got {step!r}.")
        top = max(float(resid.max()) if n else 0.0, 0.0)
        grid = np.round(np.arange(0.0, top + step, step), 10)  # round: no float drift
    else:
        grid = np.unique(np.asarray(list(deltas), dtype=float))
    x = _rates(resid, pred, grid)
    rate = x / n
    diff = rate - ref.value
    z = float(ndtri(0.5 + level / 2))
    draws = diff0.draws
    if draws is not None and np.isfinite(draws).sum() > 1:
        p0 = estimate.value
        se0 = float(np.nanstd(draws, ddof=1))
        binom = rate * (1 - rate) / n
        se = np.sqrt(np.maximum(se0**2 + binom - p0 * (1 - p0) / n, binom))
        lo = np.maximum(diff - z * se, -1.0)
        hi = np.minimum(diff + z * se, 1.0)
    else:
        x_ref = int(ref.diagnostics["n_suppressed"])
        rd = ref.diagnostics
        n_ref = int(rd["n_control_rows"] if "n_control_rows" in rd else rd["n_controls"])
        ci = [newcombe_diff(int(k), n, x_ref, n_ref, level=level) for k in x]
        lo = np.array([c[0] for c in ci])
        hi = np.array([c[1] for c in ci])
    table = pd.DataFrame(
        {
            "delta": grid,
            "n_suppressed": x,
            "rate": rate,
            "reference_rate": ref.value,
            "difference": diff,
            "conf_low": lo,
            "conf_high": hi,
            "significant": (lo > 0) | (hi < 0),
        }
    )
    nonneg = table["delta"] >= 0
    lost = table.loc[nonneg & ~table["significant"], "delta"]
    delta_sig = None if lost.empty else float(lost.min())
    delta_pay = None
    if contract is not None:
        j = contract.component_index(indicator)
        vals, _ = contract.indicator_values({**(indicators or {}), indicator: estimate})
        V = np.tile(np.asarray(vals, dtype=float), (len(grid), 1))
        V[:, j] = rate
        pay = contract.payments(V)
        table["payment"] = pay.rounded[:, j]
        table["total"] = pay.total
        at0 = contract.payments(np.asarray([vals], dtype=float)).rounded[0, j]
        changed = table.loc[nonneg & (table["payment"] != at0), "delta"]
        delta_pay = None if changed.empty else float(changed.min())
    unit = str(estimate.diagnostics.get("change", "change"))
    return TippingPoint(
        table=table,
        delta_significance=delta_sig,
        delta_payment=delta_pay,
        level=level,
        unit={"absolute_per_year": "per year", "absolute": "in total", "relative": "relative"}.get(
            unit, unit
        ),
    )


def kobe_evalue(estimate: Estimate) -> EValue:
    """E-value of the Kobe rate against its no-effect reference, read as a risk ratio.

    ``RR = rate / reference rate``: how much more often participants fall below their
    prediction than controls do. The interval is the percentile interval of the bootstrap
    ratio (``rate* / (rate* − difference*)`` per replicate) when the estimate has draws, else
    none (only the point E-value).

    Examples
    --------
    >>> from pfseval.designs.psm import suppression_rate
    >>> from pfseval.designs.psm.kobe import _example_matched
    >>> est = suppression_rate(_example_matched(), outcome="egfr_follow", baseline="egfr",
    ...                        followup_years=3.0, covariates=["age", "egfr"],
    ...                        n_boot=200, seed=1)
    >>> ev = kobe_evalue(est)
    >>> round(ev.rr, 4) == round(est.value / est.related["reference_rate"].value, 4)
    True
    """
    if "reference_rate" not in estimate.related or "difference" not in estimate.related:
        raise DesignError(
            "kobe_evalue needs the result of psm.suppression_rate (with its no-effect "
            "reference). Fix: pass that Estimate."
        )
    ref = estimate.related["reference_rate"].value
    if not (ref > 0 and estimate.value > 0):
        raise DesignError(
            "the Kobe rate or its no-effect reference is 0, so their ratio has no E-value."
        )
    rr = estimate.value / ref
    lo = hi = None
    d_rate, d_diff = estimate.draws, estimate.related["difference"].draws
    if d_rate is not None and d_diff is not None:
        with np.errstate(divide="ignore", invalid="ignore"):
            ratio = d_rate / (d_rate - d_diff)
        ratio = ratio[np.isfinite(ratio) & (ratio > 0)]
        if ratio.size > 1:
            lo, hi = percentile_interval(ratio, level=estimate.level)
            lo, hi = min(lo, rr), max(hi, rr)  # the point stays inside its interval
    return evalue_rr(rr, conf_low=lo, conf_high=hi)


@dataclass(frozen=True)
class KobeSensitivity:
    """Tipping point and E-value of one Kobe indicator, for the appendix."""

    indicator: str
    tipping: TippingPoint
    evalue: EValue | None

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready record (aggregates only) for ``results.json`` and the appendix."""
        tp = self.tipping
        ev = self.evalue
        return {
            "indicator": self.indicator,
            "level": tp.level,
            "unit": tp.unit,
            "delta_significance": tp.delta_significance,
            "delta_payment": tp.delta_payment,
            "table": [
                {k: (bool(v) if k == "significant" else float(v)) for k, v in row.items()}
                for row in tp.table.drop(columns=["n_suppressed"]).to_dict(orient="records")
            ],
            "evalue": None
            if ev is None
            else {
                "rr": ev.rr,
                "rr_low": ev.rr_low,
                "rr_high": ev.rr_high,
                "point": ev.point,
                "limit": ev.limit,
            },
        }


def kobe_sensitivity(
    estimate: Estimate,
    *,
    indicator: str,
    contract: Contract | None = None,
    indicators: Mapping[str, float | Estimate] | None = None,
) -> KobeSensitivity | None:
    """The sensitivity analysis of a Kobe indicator, or ``None`` for any other estimate.

    The contract is used when one of its components pays on ``indicator``.
    """
    if estimate.estimand != "suppression_rate" or "per_person" not in estimate.private:
        return None
    use_contract = contract
    if contract is not None and not any(c.indicator == indicator for c in contract.components):
        use_contract = None
    try:
        tp = kobe_tipping_point(
            estimate, contract=use_contract, indicator=indicator, indicators=indicators
        )
    except PfsevalError:  # another indicator the contract needs is missing or not finite
        tp = kobe_tipping_point(estimate)
    try:
        ev: EValue | None = kobe_evalue(estimate)
    except DesignError:
        ev = None  # a rate of 0: nothing to explain away
    return KobeSensitivity(indicator=indicator, tipping=tp, evalue=ev)
