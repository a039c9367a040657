"""Lower-is-better indicators for every schedule type, and exact payment arithmetic.

Issue 16 item 2 (``direction = "lower"``) and issue 12 item 3 (values meet thresholds at a
declared precision, indicator kinds, a cap below the fixed payments). Every expected amount is
worked out by hand in the comment next to it.
"""

from __future__ import annotations

import tomllib
from typing import Any

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from pfseval.errors import ContractError
from pfseval.payment import Contract, payment_distribution
from pfseval.payment.schedules import (
    SCHEDULE_TYPES,
    Band,
    Interpolate,
    PassFail,
    PerUnit,
    Step,
)
from pfseval.result import Estimate


def _contract(schedule: dict[str, Any], **comp: Any) -> Contract:
    c: dict[str, Any] = {"indicator": "x", "label": "X", "schedule": schedule} | comp
    return Contract.from_dict(
        {"contract": {"name": "例", "unit": "千円", "rounding": "floor", "component": [c]}}
    )


def _pay(c: Contract, x: float) -> float:
    return c.evaluate({"x": x}).total


# (schedule, component keys, [(value, expected amount)]) for every schedule type, lower is better
LOWER_CASES: dict[str, tuple[dict[str, Any], dict[str, Any], list[tuple[float, float]]]] = {
    # dialysis transitions per 1,000: full at or below 2, target / x between, nothing above 5
    "proportional": (
        {"type": "proportional", "target": 2.0, "lower": 5.0},
        {"allocation": 1000},
        # 1.5 → full; 2 → full; 4 → 2/4 × 1000 = 500; 5 → 2/5 × 1000 = 400; 5.1 → 0
        [(1.5, 1000), (2.0, 1000), (4.0, 500), (5.0, 400), (5.1, 0)],
    ),
    # drugs per person: 10 千円 per 0.1 drug below 5.0 → per unit of 1 drug = 100, up to 2 drugs
    "per_unit": (
        {"type": "per_unit", "unit_amount": 100, "reference": 5.0, "max_units": 2},
        {},
        # 4.5 → (5 − 4.5) × 100 = 50; 2.0 → 3 units, capped at 2 → 200; 5.5 → 0
        [(4.5, 50), (2.0, 200), (5.0, 0), (5.5, 0)],
    ),
    # people whose checklist worsened: ≤ 30 pays 100, ≤ 20 pays 300, ≤ 10 pays 600
    "step": (
        {"type": "step", "steps": [[10, 600], [20, 300], [30, 100]]},
        {"kind": "count"},
        # the most demanding step reached pays: 5 → 600, 10 → 600, 15 → 300, 30 → 100, 31 → 0
        [(5, 600), (10, 600), (15, 300), (30, 100), (31, 0)],
    ),
    "band": (
        {"type": "band", "bands": [[0.1, 1.0], [0.2, 0.5]]},
        {"allocation": 800, "kind": "proportion"},
        # 0.05 → 1.0 × 800; 0.1 → 800; 0.15 → 0.5 × 800 = 400; 0.2 → 400; 0.25 → 0
        [(0.05, 800), (0.1, 800), (0.15, 400), (0.2, 400), (0.25, 0)],
    ),
    # full 1,000 at 0.1 or below, linear down to 0 at 0.3, nothing above
    "interpolate": (
        {"type": "interpolate", "points": [[0.1, 1000], [0.3, 0]]},
        {},
        # 0.05 → 1000 (first amount); 0.2 → 500; 0.25 → 250; 0.3 → 0; 0.4 → below = 0
        [(0.05, 1000), (0.2, 500), (0.25, 250), (0.3, 0), (0.4, 0)],
    ),
    "pass_fail": (
        {"type": "pass_fail", "threshold": 0.12},
        {"allocation": 300},
        # 0.12 passes (≤), 0.121 does not
        [(0.11, 300), (0.12, 300), (0.121, 0)],
    ),
}


def test_every_schedule_type_has_a_lower_case() -> None:
    assert set(LOWER_CASES) == set(SCHEDULE_TYPES)


@pytest.mark.parametrize("kind", sorted(LOWER_CASES))
def test_lower_is_better_pays_by_hand(kind: str) -> None:
    schedule, comp, cases = LOWER_CASES[kind]
    c = _contract(schedule, direction="lower", **comp)
    assert c.components[0].direction == "lower"
    for x, expected in cases:
        assert _pay(c, x) == expected, (kind, x)
    # round trip keeps the direction on the component
    d = c.to_dict()
    assert d["contract"]["component"][0]["direction"] == "lower"
    assert Contract.from_dict(d) == c
    assert Contract.from_dict(tomllib.loads(c.to_toml())) == c


@pytest.mark.parametrize("kind", sorted(LOWER_CASES))
def test_lower_is_better_pays_less_for_worse_values(kind: str) -> None:
    schedule, comp, cases = LOWER_CASES[kind]
    c = _contract(schedule, direction="lower", **comp)
    xs = sorted(x for x, _ in cases)
    pays = [_pay(c, x) for x in xs]
    assert pays == sorted(pays, reverse=True)


@pytest.mark.parametrize("kind", sorted(LOWER_CASES))
def test_lower_audit_trail_names_the_comparison(kind: str) -> None:
    schedule, comp, cases = LOWER_CASES[kind]
    c = _contract(schedule, direction="lower", **comp)
    x, expected = cases[1]
    res = c.evaluate({"x": x})
    assert res.total == expected
    text = res.audit_trail(lang="en")
    assert f"{expected:,.0f}" in text
    if kind in ("step", "band", "pass_fail"):
        assert "≤" in text


def test_step_lower_text_and_prob_target() -> None:
    c = _contract(LOWER_CASES["step"][0], direction="lower", kind="count")
    assert "15 ≤ 20 (step 2) → 300" in c.evaluate({"x": 15}).audit_trail(lang="en")
    assert "31 > 30 → 0" in c.evaluate({"x": 31}).audit_trail(lang="en")
    assert c.components[0].schedule.full_value() == 10
    est = Estimate(
        estimand="count",
        value=8.0,
        conf_low=6.0,
        conf_high=12.0,
        level=0.95,
        method="test",
        n=100,
        draws=(6.0, 8.0, 9.0, 12.0),
    )
    dist = payment_distribution(c, {"x": est})
    # full value 10 reached (≤ 10) by 6, 8 and 9, not by 12
    assert dist.prob_target().iloc[0] == pytest.approx(0.75)


def test_lower_rejects_inconsistent_limits() -> None:
    with pytest.raises(ContractError, match=r"component\[0\]\.schedule\.lower.*above the target"):
        _contract(
            {"type": "proportional", "target": 2.0, "lower": 1.0}, allocation=10, direction="lower"
        )
    with pytest.raises(ContractError, match=r"schedule\.reference.*Fix: add `reference"):
        _contract({"type": "per_unit", "unit_amount": 10}, direction="lower")
    with pytest.raises(ContractError, match=r"component\[0\]\.direction.*'higher', 'lower'"):
        _contract({"type": "pass_fail", "threshold": 1}, allocation=1, direction="down")


def test_higher_per_unit_reference_counts_the_increase() -> None:
    # 浦添市-style: usual level 1,200 screened; 10 per extra person up to 500
    c = _contract({"type": "per_unit", "unit_amount": 10, "max_units": 500, "reference": 1200})
    assert _pay(c, 1500) == 3000 and _pay(c, 2121) == 5000 and _pay(c, 1100) == 0


# ---------------------------------------------------------------- exact arithmetic


def test_mean_of_ten_and_seventy_percent_meets_the_forty_percent_step() -> None:
    # issue 12: (0.1 + 0.7) / 2 is 0.39999999999999997 in binary floating point
    x = (0.1 + 0.7) / 2
    assert x < 0.4
    c = _contract({"type": "step", "steps": [[0.3, 100], [0.4, 1000]]}, kind="proportion")
    res = c.evaluate({"x": x})
    assert res.total == 1000
    # the audit trail shows the value that decided the tier
    assert "0.4 ≥ 0.4 (step 2) → 1,000" in res.audit_trail(lang="en")
    assert res.breakdown["value"].iloc[0] == 0.4


def test_value_decimals_still_decide_when_declared() -> None:
    c = Contract.from_dict(
        {
            "contract": {
                "name": "例",
                "unit": "千円",
                "rounding": "floor",
                "value_decimals": 2,
                "component": [
                    {
                        "indicator": "x",
                        "label": "X",
                        "schedule": {"type": "step", "steps": [[0.4, 1000]]},
                    }
                ],
            }
        }
    )
    assert c.evaluate({"x": 0.395}).total == 1000  # 0.395 → 0.40 half up
    assert c.evaluate({"x": 0.3949}).total == 0  # → 0.39


def test_a_rate_given_as_a_percentage_is_an_error() -> None:
    c = _contract({"type": "proportional", "target": 0.8}, allocation=7860, kind="proportion")
    with pytest.raises(ContractError) as e:
        c.evaluate({"x": 30})
    msg = str(e.value)
    assert msg.startswith("contract.component[0].indicator:")
    assert "outside [0, 1]" in msg and "Fix: write 0.3 for 30%" in msg
    assert c.evaluate({"x": 0.3}).total == 2947  # 0.3 / 0.8 × 7860 = 2947.5 → 2947


def test_kinds_check_values_and_schedules() -> None:
    c = _contract({"type": "per_unit", "unit_amount": 10}, kind="count")
    with pytest.raises(ContractError, match=r"declared kind = \"count\" but its value -3"):
        c.evaluate({"x": -3})
    d = _contract({"type": "per_unit", "unit_amount": 10}, kind="difference")
    assert d.evaluate({"x": -3}).total == 0
    with pytest.raises(ContractError, match=r"component\[0\]\.schedule: .*80 outside \[0, 1\]"):
        _contract({"type": "proportional", "target": 80}, allocation=10, kind="proportion")
    with pytest.raises(ContractError, match=r"component\[0\]\.kind: unknown value 'rate'"):
        _contract({"type": "pass_fail", "threshold": 1}, allocation=1, kind="rate")
    est = Estimate(
        estimand="p", value=0.5, conf_low=-0.1, conf_high=0.9, level=0.95, method="t", n=10
    )
    e = _contract({"type": "pass_fail", "threshold": 0.4}, allocation=1, kind="proportion")
    with pytest.raises(ContractError, match=r"-0\.1"):
        e.evaluate({"x": est}, basis="conf_low")


def test_cap_below_fixed_payments_is_an_error() -> None:
    with pytest.raises(ContractError) as e:
        Contract.from_dict(
            {
                "contract": {
                    "name": "例",
                    "unit": "千円",
                    "rounding": "floor",
                    "cap": 4000,
                    "fixed": [{"label": "a", "amount": 3000}, {"label": "b", "amount": 1500}],
                }
            }
        )
    assert str(e.value).startswith("contract.cap: the cap 4000 is below the fixed payments")
    assert "4500" in str(e.value) and "Fix:" in str(e.value)


# ---------------------------------------------------------------- mirror property

_sorted_pairs = st.lists(
    st.tuples(st.integers(-1000, 1000).map(lambda i: i / 100), st.integers(-500, 500).map(float)),
    min_size=1,
    max_size=5,
    unique_by=lambda p: p[0],
).map(sorted)
_xs = st.lists(st.integers(-1500, 1500).map(lambda i: i / 100), min_size=1, max_size=20)


def _mirror(pairs: list[tuple[float, float]]) -> tuple[tuple[float, float], ...]:
    return tuple((-t, a) for t, a in reversed(pairs))


@settings(max_examples=80, deadline=None)
@given(pairs=_sorted_pairs, xs=_xs)
def test_lower_tables_are_the_higher_tables_mirrored(
    pairs: list[tuple[float, float]], xs: list[float]
) -> None:
    """Lower is better at x is higher is better at −x with the table mirrored, for every type
    that is a pure table (an independent restatement of the rule, not the same code path)."""
    x = np.array(xs)
    step = Step(steps=tuple(pairs), direction="lower")
    assert step.amounts(x).tolist() == Step(steps=_mirror(pairs)).amounts(-x).tolist()
    rates = [(t, abs(a) / 500) for t, a in pairs]
    band = Band(bands=tuple(rates), direction="lower")
    assert band.amounts(x, 700).tolist() == Band(bands=_mirror(rates)).amounts(-x, 700).tolist()
    t0 = pairs[0][0]
    pf = PassFail(threshold=t0, direction="lower")
    assert pf.amounts(x, 5).tolist() == PassFail(threshold=-t0).amounts(-x, 5).tolist()
    pu = PerUnit(
        unit_amount=3, max_units=7, min_units=1, whole_units=True, reference=t0, direction="lower"
    )
    mirror_pu = PerUnit(unit_amount=3, max_units=7, min_units=1, whole_units=True, reference=-t0)
    assert pu.amounts(x).tolist() == mirror_pu.amounts(-x).tolist()
    if len(pairs) >= 2:
        ip = Interpolate(points=tuple(pairs), below=-9.0, direction="lower")
        mirror_ip = Interpolate(points=_mirror(pairs), below=-9.0)
        np.testing.assert_allclose(ip.amounts(x), mirror_ip.amounts(-x), rtol=0, atol=1e-9)
