"""Contract design workbench: what a contract is likely to pay, cost and risk before signing.

The MHLW/METI guidance designs a PFS contract in steps: estimate the service cost; set the
payment cap as that cost plus a return of roughly 10–30% for the provider's (and investors')
risk; check the cap against the quantified fiscal benefit (the cap should stay below it); split
the cap into a fixed part and outcome-linked parts; choose indicators that can be measured
precisely enough to decide the payment. The workbench puts numbers on each step:

* :func:`draft_contract` — cap = service cost × (1 + return rate), fixed share, and one
  outcome-linked component over the rest;
* :func:`assess` — from the indicator's predictive distribution (an assumed true rate and
  sample size, evaluated exactly over every possible count; or a baseline design's prediction
  as an :class:`~pfseval.result.Estimate`; or your own draws): the expected payment, the
  probability that the provider loses money (is paid less than the service cost), the
  commissioner's expected cost against the expected benefit, and the cap-below-benefit check;
* :func:`participants_needed` — how many participants the indicator needs for its confidence
  interval to fall on one side of a tier threshold with a given probability.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

import numpy as np
import pandas as pd
from numpy.typing import NDArray
from scipy import stats

from pfseval.errors import PfsevalError
from pfseval.payment.contract import Contract
from pfseval.payment.schedules import fmt_amount
from pfseval.result import Estimate

__all__ = ["Assessment", "assess", "draft_contract", "participants_needed"]

Lang = Literal["ja", "en"]


def draft_contract(
    *,
    service_cost: float,
    return_rate: float,
    fixed_share: float,
    indicator: str,
    label: str,
    target: float,
    lower: float | None = None,
    direction: Literal["higher", "lower"] = "higher",
    kind: str | None = "proportion",
    unit: str = "千円",
    name: str = "契約案",
) -> Contract:
    """A first contract: cap = cost × (1 + return), a fixed part, one proportional component.

    Examples
    --------
    >>> c = draft_contract(service_cost=10000, return_rate=0.2, fixed_share=0.5,
    ...                    indicator="rate", label="改善率", target=0.6)
    >>> c.cap, c.fixed_total, c.components[0].allocation
    (12000.0, 6000.0, 6000.0)
    """
    for nm, v, lo, hi in (("return_rate", return_rate, 0, 1), ("fixed_share", fixed_share, 0, 1)):
        if not lo <= v <= hi:
            raise PfsevalError(f"{nm} must be in [{lo}, {hi}], got {v!r}. Fix: write 0.2 for 20%.")
    if service_cost <= 0:
        raise PfsevalError(f"service_cost must be positive, got {service_cost!r}.")
    cap = round(service_cost * (1 + return_rate), 6)
    fixed = round(cap * fixed_share, 6)
    sched: dict[str, Any] = {"type": "proportional", "target": target}
    if lower is not None:
        sched["lower"] = lower
    comp: dict[str, Any] = {
        "indicator": indicator,
        "label": label,
        "allocation": round(cap - fixed, 6),
        "direction": direction,
        "schedule": sched,
    }
    if kind is not None:
        comp["kind"] = kind
    d: dict[str, Any] = {"name": name, "unit": unit, "cap": cap, "rounding": "floor"}
    if fixed > 0:
        d["fixed"] = [{"label": "固定支払", "amount": fixed}]
    if fixed < cap:
        d["component"] = [comp]
    return Contract.from_dict({"contract": d})


@dataclass(frozen=True)
class Assessment:
    """What a contract is expected to pay, and the risks on both sides.

    Attributes
    ----------
    expected_payment
        Mean total payment.
    payment_quantiles
        5%, 50% and 95% points of the total.
    prob_provider_loss
        Probability that the total is below ``service_cost``.
    expected_benefit
        Mean benefit (``benefit_per_unit × value × benefit_scale``), or NaN without a benefit.
    expected_net_benefit
        ``expected_benefit − expected_payment``.
    prob_payment_above_benefit
        Probability that the payment exceeds the benefit realised.
    benefit_at_full_pay, cap_below_benefit
        The benefit at the value from which every component pays in full, and whether the cap
        stays below it (the guidance's check).
    method
        ``exact over every count`` or ``N simulated draws``.
    """

    expected_payment: float
    payment_quantiles: tuple[float, float, float]
    prob_provider_loss: float
    service_cost: float
    cap: float | None
    expected_benefit: float
    expected_net_benefit: float
    prob_payment_above_benefit: float
    benefit_at_full_pay: float
    cap_below_benefit: bool | None
    unit: str
    method: str
    values: NDArray[np.float64] = field(repr=False)
    weights: NDArray[np.float64] = field(repr=False)
    totals: NDArray[np.float64] = field(repr=False)

    def to_frame(self) -> pd.DataFrame:
        """One row per figure: ``figure``, ``value``."""
        rows = {
            "expected_payment": self.expected_payment,
            "payment_q05": self.payment_quantiles[0],
            "payment_q50": self.payment_quantiles[1],
            "payment_q95": self.payment_quantiles[2],
            "prob_provider_loss": self.prob_provider_loss,
            "service_cost": self.service_cost,
            "cap": np.nan if self.cap is None else self.cap,
            "expected_benefit": self.expected_benefit,
            "expected_net_benefit": self.expected_net_benefit,
            "prob_payment_above_benefit": self.prob_payment_above_benefit,
            "benefit_at_full_pay": self.benefit_at_full_pay,
        }
        return pd.DataFrame({"figure": list(rows), "value": list(rows.values())})

    def summary(self, *, lang: Lang = "ja") -> str:
        """The figures in words (ja/en)."""
        u = self.unit
        q = " / ".join(fmt_amount(round(x, 3)) for x in self.payment_quantiles)
        ja = lang == "ja"
        lines = [
            (
                f"期待支払額 {fmt_amount(round(self.expected_payment, 3))}{u}（5%/50%/95%点 {q}）"
                if ja
                else f"expected payment {fmt_amount(round(self.expected_payment, 3))} {u} "
                f"(5%/50%/95% points {q})"
            ),
            (
                f"事業者が費用 {fmt_amount(self.service_cost)}{u} を回収できない確率 "
                f"{self.prob_provider_loss:.1%}"
                if ja
                else f"probability the provider does not recover its cost of "
                f"{fmt_amount(self.service_cost)} {u}: {self.prob_provider_loss:.1%}"
            ),
        ]
        if math.isfinite(self.expected_benefit):
            lines.append(
                f"期待便益 {fmt_amount(round(self.expected_benefit, 3))}{u}、純便益 "
                f"{fmt_amount(round(self.expected_net_benefit, 3))}{u}、支払が便益を上回る確率 "
                f"{self.prob_payment_above_benefit:.1%}"
                if ja
                else f"expected benefit {fmt_amount(round(self.expected_benefit, 3))} {u}, net "
                f"{fmt_amount(round(self.expected_net_benefit, 3))} {u}, probability the "
                f"payment exceeds the benefit {self.prob_payment_above_benefit:.1%}"
            )
        if self.cap_below_benefit is not None:
            ok = self.cap_below_benefit
            lines.append(
                f"支払上限 {fmt_amount(self.cap or 0)}{u} は満額時の便益 "
                f"{fmt_amount(round(self.benefit_at_full_pay, 3))}{u} "
                + ("以下（手引きの確認を満たす）" if ok else "を超える（上限の見直しが必要）")
                if ja
                else f"cap {fmt_amount(self.cap or 0)} {u} is "
                + ("within" if ok else "ABOVE")
                + f" the benefit at full pay, {fmt_amount(round(self.benefit_at_full_pay, 3))} {u}"
            )
        return "\n".join(lines)


def _predictive(
    *,
    true_rate: float | None,
    n: int | None,
    estimate: Estimate | None,
    draws: Sequence[float] | NDArray[np.float64] | None,
    n_draws: int,
    seed: int | None,
) -> tuple[NDArray[np.float64], NDArray[np.float64], str]:
    """Values of the indicator and their probabilities."""
    given = sum(x is not None for x in (true_rate, estimate, draws))
    if given != 1:
        raise PfsevalError(
            "give exactly one predictive distribution: true_rate with n, estimate, or draws. "
            "Fix: pass one of them."
        )
    if true_rate is not None:
        if n is None or n < 1:
            raise PfsevalError(f"n must be a positive number of participants, got {n!r}.")
        if not 0 <= true_rate <= 1:
            raise PfsevalError(f"true_rate must be in [0, 1], got {true_rate!r}.")
        x = np.arange(n + 1)
        return x / n, stats.binom.pmf(x, n, true_rate), f"exact over every count 0..{n}"
    rng = np.random.default_rng(seed)
    if estimate is not None:
        z = float(stats.norm.ppf(0.5 + estimate.level / 2))
        sd = (estimate.conf_high - estimate.conf_low) / (2 * z)
        v = rng.normal(estimate.value, sd, n_draws)
        return v, np.full(n_draws, 1 / n_draws), f"{n_draws} normal draws from the estimate"
    d = np.asarray(draws, dtype=float)
    d = d[np.isfinite(d)]
    if d.size == 0:
        raise PfsevalError("draws has no finite value. Fix: pass the indicator's draws.")
    return d, np.full(d.size, 1 / d.size), f"{d.size} given draws"


def _wquantile(x: NDArray[np.float64], w: NDArray[np.float64], q: float) -> float:
    o = np.argsort(x, kind="stable")
    cw = np.cumsum(w[o])
    return float(x[o][min(int(np.searchsorted(cw, q * cw[-1] - 1e-12)), len(x) - 1)])


def assess(
    contract: Contract,
    *,
    service_cost: float,
    indicator: str | None = None,
    true_rate: float | None = None,
    n: int | None = None,
    estimate: Estimate | None = None,
    draws: Sequence[float] | NDArray[np.float64] | None = None,
    benefit_per_unit: float | None = None,
    benefit_scale: float = 1.0,
    n_draws: int = 20000,
    seed: int | None = None,
) -> Assessment:
    """Expected payment, provider's risk and commissioner's cost against benefit.

    Parameters
    ----------
    contract
        The contract; ``indicator`` names the component's indicator that varies (default: the
        only one). Other indicators must be absent (one varying indicator at a time).
    service_cost
        What delivering the service costs the provider (in the contract's unit).
    true_rate, n
        An assumed true rate and number of participants: the indicator is ``X / n`` with
        ``X ~ Binomial(n, true_rate)``, evaluated exactly over every ``X``.
    estimate
        A baseline design's prediction (normal with the estimate's standard error from its CI).
    draws
        Your own draws of the indicator.
    benefit_per_unit, benefit_scale
        Benefit = ``benefit_per_unit × value × benefit_scale`` (e.g. the saving per person
        improved × rate × participants). None: no benefit figures.

    Examples
    --------
    >>> c = draft_contract(service_cost=10000, return_rate=0.2, fixed_share=0.5,
    ...                    indicator="rate", label="改善率", target=0.6)
    >>> a = assess(c, service_cost=11000, true_rate=0.6, n=100)
    >>> round(a.expected_payment, 1), round(a.prob_provider_loss, 3)
    (11805.1, 0.017)
    """
    comps = contract.components
    if not comps:
        raise PfsevalError("the contract has no outcome-linked component to assess.")
    ind = indicator if indicator is not None else comps[0].indicator
    if len({c.indicator for c in comps}) != 1 or comps[0].indicator != ind:
        raise PfsevalError(
            f"assess varies one indicator; the contract uses "
            f"{sorted({c.indicator for c in comps})}. Fix: assess a contract with one indicator."
        )
    v, w, method = _predictive(
        true_rate=true_rate, n=n, estimate=estimate, draws=draws, n_draws=n_draws, seed=seed
    )
    totals = contract.payments(np.repeat(v[:, None], len(comps), axis=1)).total
    exp_pay = float(np.sum(w * totals))
    qs = tuple(_wquantile(totals, w, q) for q in (0.05, 0.5, 0.95))
    loss = float(np.sum(w[totals < service_cost]))
    if benefit_per_unit is not None:
        benefit = benefit_per_unit * v * benefit_scale
        exp_b = float(np.sum(w * benefit))
        above = float(np.sum(w[totals > benefit]))
        fv = comps[0].schedule.full_value()
        b_full = benefit_per_unit * (fv if fv is not None else float(np.max(v))) * benefit_scale
        cap = contract.max_payment()
        cap_ok: bool | None = bool(cap <= b_full)
    else:
        exp_b = above = b_full = float("nan")
        cap_ok = None
    return Assessment(
        expected_payment=exp_pay,
        payment_quantiles=(qs[0], qs[1], qs[2]),
        prob_provider_loss=loss,
        service_cost=float(service_cost),
        cap=None if contract.cap is None else float(contract.cap),
        expected_benefit=exp_b,
        expected_net_benefit=exp_b - exp_pay,
        prob_payment_above_benefit=above,
        benefit_at_full_pay=b_full,
        cap_below_benefit=cap_ok,
        unit=contract.unit,
        method=method,
        values=v,
        weights=w,
        totals=totals,
    )


def _wilson_all(n: int, z: float) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """Wilson bounds for every count 0..n at once (:func:`pfseval.inference.wilson`, vectorised
    because the sample-size search evaluates thousands of counts per candidate n)."""
    p = np.arange(n + 1) / n
    denom = 1 + z * z / n
    centre = (p + z * z / (2 * n)) / denom
    half = z * np.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / denom
    return np.maximum(0.0, centre - half), np.minimum(1.0, centre + half)


def _prob_decided(n: int, p: float, thresholds: NDArray[np.float64], level: float) -> float:
    """P(the Wilson interval of X/n contains no threshold), X ~ Binomial(n, p), exactly."""
    x = np.arange(n + 1)
    lo, hi = _wilson_all(n, float(stats.norm.ppf(0.5 + level / 2)))
    straddle = np.zeros(n + 1, dtype=bool)
    for t in thresholds:
        straddle |= (lo < t) & (t < hi)
    return float(np.sum(stats.binom.pmf(x, n, p)[~straddle]))


def participants_needed(
    *,
    true_rate: float,
    thresholds: Sequence[float],
    level: float = 0.95,
    prob: float = 0.8,
    n_max: int = 100_000,
) -> int:
    """Participants needed for the indicator's CI to decide the payment tier.

    The tier is decided when the ``level`` Wilson interval of the observed rate contains no
    tier threshold. The normal approximation ``n ≈ (z_level + z_prob)² p(1 − p) / (p − t)²``,
    for the threshold ``t`` nearest to the true rate ``p``, gives a starting point; from 0.8
    times it, the exact binomial probability of a decided tier is computed for each ``n`` in
    turn (every ``n`` up to 2,000, then in steps of 0.2%) and the first ``n`` reaching ``prob``
    is returned. The probability is not monotone in ``n`` (counts are whole numbers), so a
    slightly larger ``n`` can fall just short again.

    Examples
    --------
    >>> participants_needed(true_rate=0.7, thresholds=[0.5], prob=0.8)
    43
    """
    th = np.asarray(thresholds, dtype=float)
    if th.size == 0:
        raise PfsevalError("give at least one tier threshold.")
    if not 0 < true_rate < 1:
        raise PfsevalError(f"true_rate must be strictly between 0 and 1, got {true_rate!r}.")
    if not 0 < prob < 1 or not 0 < level < 1:
        raise PfsevalError("prob and level must be strictly between 0 and 1.")
    gap = float(np.min(np.abs(th - true_rate)))
    if gap == 0:
        raise PfsevalError(
            f"the true rate {true_rate} lies on a threshold, so no sample size decides the tier. "
            "Fix: assume a rate away from the thresholds."
        )
    z = float(stats.norm.ppf(0.5 + level / 2)) + float(stats.norm.ppf(prob))
    n = max(1, math.floor(z**2 * true_rate * (1 - true_rate) / gap**2 * 0.8))
    while n <= n_max:
        if _prob_decided(n, true_rate, th, level) >= prob:
            return n
        n += 1 if n < 2000 else max(1, n // 500)
    raise PfsevalError(f"more than {n_max} participants would be needed. Fix: raise n_max.")
