"""Contract design workbench: figures checked by hand and by an independent simulation."""

from __future__ import annotations

import numpy as np
import pytest
from scipy import stats

from pfseval.errors import PfsevalError
from pfseval.inference import wilson
from pfseval.payment import Contract
from pfseval.payment.workbench import (
    _wilson_all,
    assess,
    draft_contract,
    participants_needed,
)
from pfseval.result import Estimate


def _draft(**kw: float) -> Contract:
    base = dict(service_cost=10000, return_rate=0.2, fixed_share=0.3, target=0.6)
    return draft_contract(indicator="rate", label="改善率", **(base | kw))  # type: ignore[arg-type]


def test_draft_contract_follows_the_guidance_steps() -> None:
    c = _draft()
    # cap = 10,000 × 1.2 = 12,000; fixed 30% = 3,600; outcome-linked 8,400
    assert (c.cap, c.fixed_total, c.components[0].allocation) == (12000, 3600, 8400)
    assert c.components[0].kind == "proportion"
    with pytest.raises(PfsevalError, match="return_rate must be in"):
        _draft(return_rate=20)


def test_pass_fail_expected_payment_by_hand() -> None:
    c = Contract.from_dict(
        {
            "contract": {
                "name": "例",
                "unit": "千円",
                "rounding": "floor",
                "cap": 1000,
                "fixed": [{"label": "固定", "amount": 400}],
                "component": [
                    {
                        "indicator": "r",
                        "label": "R",
                        "allocation": 600,
                        "kind": "proportion",
                        "schedule": {"type": "pass_fail", "threshold": 0.5},
                    }
                ],
            }
        }
    )
    a = assess(c, service_cost=900, true_rate=0.55, n=40)
    p_pass = float(stats.binom.sf(19, 40, 0.55))  # X ≥ 20 ⇔ X/40 ≥ 0.5
    assert a.expected_payment == pytest.approx(400 + 600 * p_pass, rel=1e-12)
    # paid 400 < cost 900 exactly when the threshold is missed
    assert a.prob_provider_loss == pytest.approx(1 - p_pass, rel=1e-12)
    assert a.method == "exact over every count 0..40"


def test_exact_figures_agree_with_an_independent_simulation() -> None:
    c = _draft()
    a = assess(c, service_cost=10000, true_rate=0.55, n=80, benefit_per_unit=300, benefit_scale=80)
    rng = np.random.default_rng(11)
    m = 20000
    x = rng.binomial(80, 0.55, m) / 80
    # the payment of each simulated study, through Contract.evaluate's vectorised core
    tot = c.payments(x[:, None]).total
    se = tot.std() / np.sqrt(m)
    assert abs(tot.mean() - a.expected_payment) < 4 * se
    p_loss = np.mean(tot < 10000)
    assert abs(p_loss - a.prob_provider_loss) < 4 * np.sqrt(p_loss * (1 - p_loss) / m) + 1e-3
    benefit = 300 * x * 80
    assert a.expected_benefit == pytest.approx(300 * 0.55 * 80, rel=1e-12)
    p_above = np.mean(tot > benefit)
    assert (
        abs(p_above - a.prob_payment_above_benefit)
        < 4 * np.sqrt(p_above * (1 - p_above) / m) + 1e-3
    )
    # cap 12,000 vs benefit at the target 0.6: 300 × 0.6 × 80 = 14,400 → cap below benefit
    assert a.benefit_at_full_pay == pytest.approx(14400)
    assert a.cap_below_benefit is True
    assert "以下" in a.summary(lang="ja") and "within" in a.summary(lang="en")
    low = assess(
        c, service_cost=10000, true_rate=0.55, n=80, benefit_per_unit=200, benefit_scale=80
    )
    assert low.cap_below_benefit is False and "ABOVE" in low.summary(lang="en")


def test_estimate_and_draws_predictive() -> None:
    c = _draft()
    est = Estimate(
        estimand="p", value=0.5, conf_low=0.4, conf_high=0.6, level=0.95, method="t", n=100
    )
    a1 = assess(c, service_cost=10000, estimate=est, seed=3, n_draws=4000)
    a2 = assess(c, service_cost=10000, estimate=est, seed=3, n_draws=4000)
    assert a1.expected_payment == a2.expected_payment
    # proportional at target 0.6, centred on 0.5 (rarely capped): ≈ 3,600 + 8,400 × 0.5 / 0.6
    assert a1.expected_payment == pytest.approx(3600 + 8400 * 0.5 / 0.6, rel=0.02)
    d = assess(c, service_cost=10000, draws=[0.3, 0.6, 0.9])
    # 0.3 → 3,600 + 4,200; 0.6 and 0.9 → 12,000
    assert d.expected_payment == pytest.approx((7800 + 12000 + 12000) / 3)
    with pytest.raises(PfsevalError, match="exactly one predictive"):
        assess(c, service_cost=1, true_rate=0.5, n=10, draws=[0.1])


def test_vectorised_wilson_matches_inference_wilson() -> None:
    lo, hi = _wilson_all(37, float(stats.norm.ppf(0.975)))
    for x in (0, 1, 18, 36, 37):
        assert (lo[x], hi[x]) == pytest.approx(wilson(x, 37), abs=1e-14)


@pytest.mark.parametrize(("p", "t"), [(0.7, 0.5), (0.35, 0.25)])
def test_participants_needed_checked_by_simulation(p: float, t: float) -> None:
    n = participants_needed(true_rate=p, thresholds=[t], prob=0.8)
    rng = np.random.default_rng(5)
    m = 4000

    def decided_share(size: int) -> float:
        xs = rng.binomial(size, p, m)
        ci = {int(x): wilson(int(x), size) for x in np.unique(xs)}  # the package's own interval
        return float(np.mean([not (ci[int(x)][0] < t < ci[int(x)][1]) for x in xs]))

    assert decided_share(n) >= 0.8 - 3 * np.sqrt(0.16 / m)
    # and it is not wildly conservative: a third fewer participants fall clearly short
    assert decided_share(int(n * 2 / 3)) < 0.8


def test_participants_needed_errors() -> None:
    with pytest.raises(PfsevalError, match="lies on a threshold"):
        participants_needed(true_rate=0.5, thresholds=[0.5])
    with pytest.raises(PfsevalError, match="more than 50 participants"):
        participants_needed(true_rate=0.51, thresholds=[0.5], n_max=50)
