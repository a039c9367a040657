"""Payments under uncertainty and contract design by simulation.

References: hand calculation for small draw sets; the exact binomial distribution (scipy) for
simulated proportion indicators, with Monte Carlo tolerances of 4 standard errors (a false
failure about once in 16,000 runs; the seeds are fixed, so the tests are deterministic).
"""

from __future__ import annotations

import json
import math
from fractions import Fraction
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from scipy import stats

from pfseval.errors import PfsevalError, PfsevalWarning
from pfseval.inference import wilson
from pfseval.payment import (
    Contract,
    payment_distribution,
    proportion_indicator,
    simulate_contract,
    suppression_rate_indicator,
)
from pfseval.result import Estimate

EXAMPLES = Path(__file__).resolve().parents[1] / "examples" / "contracts"


def _single(
    schedule: dict[str, object], allocation: float = 7860, cap: float | None = None
) -> Contract:
    c: dict[str, object] = {
        "name": "t",
        "unit": "千円",
        "rounding": "floor",
        "component": [
            {"indicator": "rate", "label": "率", "allocation": allocation, "schedule": schedule}
        ],
    }
    if cap is not None:
        c["cap"] = cap
    return Contract.from_dict({"contract": c})


def _est(value: float, draws: list[float] | None = None) -> Estimate:
    return Estimate(
        estimand="p",
        value=value,
        conf_low=value - 0.1,
        conf_high=value + 0.1,
        draws=None if draws is None else np.asarray(draws),
    )


# ---------------------------------------------------------------- bootstrap draws


def test_distribution_hand_calculation() -> None:
    c = _single({"type": "proportional", "target": 0.8}, allocation=1000, cap=900)
    d = payment_distribution(c, {"rate": _est(0.6, [0.2, 0.5, 0.7, 0.8, 1.0])})
    # 0.2/0.8×1000 = 250; 625; 875; 1000 → cap 900; 1000 → cap 900
    assert d.totals.tolist() == [250, 625, 875, 900, 900]
    assert d.expected == pytest.approx((250 + 625 + 875 + 900 + 900) / 5, abs=1e-12)
    assert d.prob_cap == 0.4
    assert float(d.prob_target()["率"]) == 0.4
    assert d.quantiles((0.5,)).iloc[0] == 875
    s = d.component_summary()
    assert s.loc["率", "prob_pays"] == 1.0 and s.loc["率", "full_value"] == 0.8
    assert json.loads(json.dumps(d.to_dict()))["summary"]["prob_cap"] == 0.4
    with pytest.raises(ValueError):
        d.totals[0] = 1.0  # read-only


def test_joint_draws_are_paired_and_fixed_values_are_held() -> None:
    c = Contract.from_toml(EXAMPLES / "kobe.toml")
    sup = _est(0.329, [0.16, 0.32, 0.48])
    with pytest.warns(PfsevalWarning, match="held at"):
        d = payment_distribution(
            c, {"completion_rate": 1.0, "lifestyle_improvement_rate": 0.95, "suppression_rate": sup}
        )
    # 0.16/0.8×7860 = 1572; 0.32 → 3144; 0.48 → 4716 (all exact); plus 10,482 + 5,240 + 10,481
    assert d.totals.tolist() == [26203 + a for a in (1572, 3144, 4716)]
    assert len(d.warnings) == 2


def test_draw_count_mismatch_no_draws_and_nan_draws() -> None:
    c = Contract.from_dict(
        {
            "contract": {
                "name": "t",
                "unit": "円",
                "rounding": "floor",
                "component": [
                    {
                        "indicator": "a",
                        "label": "A",
                        "allocation": 100,
                        "schedule": {"type": "pass_fail", "threshold": 0.5},
                    },
                    {
                        "indicator": "b",
                        "label": "B",
                        "allocation": 100,
                        "schedule": {"type": "pass_fail", "threshold": 0.5},
                    },
                ],
            }
        }
    )
    with pytest.raises(PfsevalError, match="same n_boot"):
        payment_distribution(c, {"a": _est(0.5, [0.1, 0.2]), "b": _est(0.5, [0.1, 0.2, 0.3])})
    with pytest.raises(PfsevalError, match="no indicator estimate carries draws"):
        payment_distribution(c, {"a": 0.5, "b": _est(0.5)})
    with pytest.warns(PfsevalWarning, match="1 of 3 draws"):
        d = payment_distribution(
            c, {"a": _est(0.5, [0.4, np.nan, 0.6]), "b": _est(0.5, [0.6, 0.6, 0.6])}
        )
    assert d.n == 2 and d.n_dropped == 1 and d.totals.tolist() == [100, 200]


# ---------------------------------------------------------------- simulation


def _exact_expected_payment(
    n: int, p: float, target: float, allocation: int, lower: float | None
) -> tuple[float, float]:
    """E[pay] and P(pay > 0) from the exact binomial distribution, amounts in exact fractions."""
    x = np.arange(n + 1)
    pmf = stats.binom.pmf(x, n, p)
    pay = []
    for k in x:
        rate = Fraction(int(k), n)
        ok = lower is None or rate >= Fraction(repr(lower))
        ratio = min(rate / Fraction(repr(target)), Fraction(1)) if ok else Fraction(0)
        pay.append(math.floor(ratio * allocation))
    pay_arr = np.array(pay, dtype=float)
    return float((pmf * pay_arr).sum()), float(pmf[pay_arr > 0].sum())


def test_simulated_kobe_suppression_without_effect_matches_exact_binomial() -> None:
    # The Kobe final-outcome part with no programme effect: each of 60 participants falls below
    # their prediction with probability 0.5, so the contract pays about 0.5/0.8 of 7,860.
    c = _single({"type": "proportional", "target": 0.8})
    n_sim = 3000
    d = simulate_contract(
        c, simulate={"rate": suppression_rate_indicator(n=60)}, n_sim=n_sim, seed=11
    )
    exact_mean, _ = _exact_expected_payment(60, 0.5, 0.8, 7860, None)
    se = d.totals.std(ddof=1) / math.sqrt(n_sim)
    assert abs(d.expected - exact_mean) < 4 * se
    assert exact_mean == pytest.approx(4912, abs=5)  # 0.5/0.8 × 7,860 = 4,912.5 minus flooring
    assert d.prob_outcome_payment == 1.0  # pays for nothing with certainty


def test_simulated_lower_limit_probability_matches_binomial_tail() -> None:
    # A lower limit of 0.6 on the same indicator: P(pay > 0 | no effect) = P(X ≥ 36), X ~ Bin(60, .5)
    c = _single({"type": "proportional", "target": 0.8, "lower": 0.6})
    n_sim = 3000
    d = simulate_contract(
        c, simulate={"rate": suppression_rate_indicator(n=60)}, n_sim=n_sim, seed=5
    )
    exact_mean, exact_p = _exact_expected_payment(60, 0.5, 0.8, 7860, 0.6)
    assert exact_p == pytest.approx(stats.binom.sf(35, 60, 0.5), rel=1e-12)
    se_p = math.sqrt(exact_p * (1 - exact_p) / n_sim)
    assert abs(d.prob_outcome_payment - exact_p) < 4 * se_p
    se = d.totals.std(ddof=1) / math.sqrt(n_sim)
    assert abs(d.expected - exact_mean) < 4 * se


def test_conf_low_basis_pays_less_often_without_effect() -> None:
    # Paying on the lower CI limit with a lower limit of 0.5: with no effect the Wilson lower
    # limit is ≥ 0.5 only when X/60 is well above 0.5, i.e. rarely (exact: count k with lo ≥ 0.5).
    c = Contract.from_dict(
        {
            "contract": {
                "name": "t",
                "unit": "千円",
                "rounding": "floor",
                "component": [
                    {
                        "indicator": "rate",
                        "label": "率",
                        "allocation": 7860,
                        "basis": "conf_low",
                        "schedule": {"type": "proportional", "target": 0.8, "lower": 0.5},
                    }
                ],
            }
        }
    )
    ks = [k for k in range(61) if wilson(k, 60)[0] >= 0.5]
    exact_p = float(stats.binom.pmf(ks, 60, 0.5).sum())
    assert exact_p < 0.03
    d = simulate_contract(
        c, simulate={"rate": suppression_rate_indicator(n=60)}, n_sim=3000, seed=2
    )
    assert abs(d.prob_outcome_payment - exact_p) < 4 * math.sqrt(exact_p * (1 - exact_p) / 3000)


def test_simulation_is_reproducible_and_accepts_a_study_function() -> None:
    c = Contract.from_toml(EXAMPLES / "kobe.toml")
    sims: dict[str, Any] = {
        "completion_rate": proportion_indicator(true_rate=0.9, n=105),
        "lifestyle_improvement_rate": 0.95,
        "suppression_rate": suppression_rate_indicator(n=70, effect=1.0, sd=3.0),
    }
    a = simulate_contract(c, simulate=sims, n_sim=300, seed=3)
    b = simulate_contract(
        c,
        simulate=lambda rng: {k: (v(rng) if callable(v) else v) for k, v in sims.items()},
        n_sim=300,
        seed=3,
    )
    assert np.array_equal(a.totals, b.totals)
    assert a.totals.max() <= 34063 and a.totals.min() >= 10482
    assert a.provenance["seed"] == 3


def test_indicator_simulators() -> None:
    est = proportion_indicator(true_rate=0.3, n=70)(np.random.default_rng(0))
    assert isinstance(est, Estimate)
    x = est.diagnostics["x"]
    assert est.value == x / 70 and (est.conf_low, est.conf_high) == wilson(x, 70)
    sim = suppression_rate_indicator(n=50, effect=3.0, sd=3.0)
    # Φ(1) = 0.841344746...
    assert sim(np.random.default_rng(0)).diagnostics["true_rate"] == pytest.approx(
        0.8413447461, abs=1e-9
    )
    with pytest.raises(ValueError):
        proportion_indicator(true_rate=1.2, n=10)
    with pytest.raises(ValueError):
        suppression_rate_indicator(n=10, sd=0)
