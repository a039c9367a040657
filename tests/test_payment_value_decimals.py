"""Indicator precision in contracts (``value_decimals``) and precision-limited audit trails.

References are hand calculations written out in the comments and the published Kobe payment
(BRIEF §3: 32.9% paid as 0.329 / 0.80 × 7,860 = 3,232.4 → 3,232). Amounts after rounding are
whole numbers and compared exactly; rounded indicator values are compared exactly because
``round_values`` returns the float nearest to the decimal (``np.round``).
"""

from __future__ import annotations

import math
import re
import tomllib
from fractions import Fraction
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from pfseval.errors import ContractError
from pfseval.payment import Contract
from pfseval.payment.schedules import (
    Band,
    Interpolate,
    PassFail,
    PerUnit,
    Step,
    round_values,
)

EXAMPLES = Path(__file__).resolve().parents[1] / "examples" / "contracts"
KOBE = {"completion_rate": 1.00, "lifestyle_improvement_rate": 0.95, "suppression_rate": 0.329}


def _one(schedule: dict[str, Any], **extra: Any) -> dict[str, Any]:
    comp = {"indicator": "r", "label": "率", "allocation": 7860, "schedule": schedule}
    comp.update(extra.pop("component", {}))
    head = {"name": "例", "unit": "千円", "rounding": "floor"}
    return {"contract": {**head, **extra, "component": [comp]}}


PROP = {"type": "proportional", "target": 0.8}


def consistent_fractions(text: str, *, n_max: int = 2000) -> set[Fraction]:
    """Reduced fractions k/n (n ≤ n_max, 0 ≤ k ≤ n) that print as the decimal ``text``.

    A printed 0.913 means a value in [0.9125, 0.9135]; an attacker who knows the value is a
    share of at most ``n_max`` people lists every fraction in that interval.
    """
    dec = len(text.split(".")[1]) if "." in text else 0
    v, h = float(text), 0.5 * 10.0**-dec
    out: set[Fraction] = set()
    for n in range(1, n_max + 1):
        lo, hi = math.ceil((v - h) * n - 1e-9), math.floor((v + h) * n + 1e-9)
        for k in range(max(lo, 0), min(hi, n) + 1):
            out.add(Fraction(k, n))
            if len(out) > 5:
                return out
    return out


# ---------------------------------------------------------------- rounding of values


def test_round_values_half_up_by_hand() -> None:
    # half up on the decimal written, not on its binary approximation: 2.675 is stored as
    # 2.67499999…, Python's round() gives 2.67, a contract reading "2.675" pays on 2.68
    assert round(2.675, 2) == 2.67
    assert round_values([2.675, 0.0005, 0.325, -0.325, 0.32499], decimals=2).tolist() == [
        2.68,
        0.0,
        0.33,
        -0.33,
        0.32,
    ]
    assert round_values([0.3285, 0.32849, 95 / 104], decimals=3).tolist() == [0.329, 0.328, 0.913]
    assert round_values([np.nan], decimals=3)[0] != round_values([np.nan], decimals=3)[0]


def test_kobe_example_reads_three_decimals_and_still_pays_29435() -> None:
    c = Contract.from_toml(EXAMPLES / "kobe.toml")
    assert c.value_decimals == 3
    assert c.evaluate(KOBE).total == 29_435  # 10,482 + 5,240 + 10,481 + 3,232
    # 32.94…% is published as 32.9% and paid as 0.329: the same 3,232
    res = c.evaluate({**KOBE, "suppression_rate": 0.32949})
    assert res.total == 29_435
    bd = res.breakdown.set_index("indicator")
    assert bd.loc["suppression_rate", "value"] == 0.329
    assert bd.loc["suppression_rate", "value_estimate"] == 0.32949
    # 0.3295 rounds half up to 0.330: 0.33 / 0.8 × 7,860 = 3,242.25 → 3,242
    assert c.evaluate({**KOBE, "suppression_rate": 0.3295}).total == 29_435 - 3_232 + 3_242


def test_rounding_applies_before_the_schedule_in_vectorised_payments() -> None:
    c = Contract.from_dict(_one(PROP, value_decimals=3))
    # 0.79951 → 0.800 reaches the target (7,860); 0.79949 → 0.799: 0.799/0.8 × 7,860 =
    # 7,850.175 → 7,850
    pay = c.payments(np.array([[0.79951], [0.79949]]))
    assert pay.rounded[:, 0].tolist() == [7860.0, 7850.0]
    # without value_decimals the first pays 0.79951/0.8 × 7,860 = 7,855.185… → 7,855
    plain = Contract.from_dict(_one(PROP))
    assert plain.payments(np.array([[0.79951]])).rounded[0, 0] == 7855.0


def test_component_override_and_round_trip(tmp_path: Path) -> None:
    d = _one(PROP, value_decimals=3, component={"value_decimals": 1})
    c = Contract.from_dict(d)
    assert c.decimals() == (1,)
    # 0.74 → 0.7 (1 decimal): 0.7 / 0.8 × 7,860 = 6,877.5 → 6,877
    assert c.evaluate({"r": 0.74}).total == 6877
    assert Contract.from_dict(c.to_dict()) == c
    assert c.to_dict()["contract"]["value_decimals"] == 3
    assert c.to_dict()["contract"]["component"][0]["value_decimals"] == 1
    p = tmp_path / "c.toml"
    p.write_text(c.to_toml(), encoding="utf-8")
    assert Contract.from_toml(p) == c
    assert "value_decimals = 1" in p.read_text(encoding="utf-8")
    # the example file round-trips too
    k = Contract.from_toml(EXAMPLES / "kobe.toml")
    assert Contract.from_dict(tomllib.loads(k.to_toml())) == k


@pytest.mark.parametrize("bad", [2.5, -1, 13, True, "3"])
def test_value_decimals_validation_names_the_key_path(bad: Any) -> None:
    with pytest.raises(ContractError) as e:
        Contract.from_dict(_one(PROP, value_decimals=bad))
    assert "contract.value_decimals" in str(e.value)
    assert "Fix:" in str(e.value)
    with pytest.raises(ContractError) as e:
        Contract.from_dict(_one(PROP, component={"value_decimals": bad}))
    assert "contract.component[0].value_decimals" in str(e.value)


# ---------------------------------------------------------------- audit trail


def _line(text: str, k: int = 1) -> str:
    return next(x for x in text.splitlines() if x.startswith(f"  [{k}]"))


def test_audit_trail_lang_is_keyword_only() -> None:
    res = Contract.from_toml(EXAMPLES / "kobe.toml").evaluate(KOBE)
    with pytest.raises(TypeError):
        res.audit_trail("ja")  # type: ignore[misc]
    assert res.audit_trail(lang="en").startswith("Payment calculation")


def test_contract_precision_shows_only_the_rounded_value() -> None:
    c = Contract.from_toml(EXAMPLES / "kobe.toml")
    res = c.evaluate({**KOBE, "completion_rate": 95 / 104})
    for lang in ("ja", "en"):
        text = res.audit_trail(lang=lang)
        line = _line(text)
        # 0.913 ÷ 0.8 = 1.14125 → capped at 1 → × 5,240 = 5,240
        assert "0.913 ÷ 0.8 = 1.14125" in line
        assert "0.9134" not in text and "≈" not in text
        assert ("小数第3位に四捨五入" if lang == "ja" else "rounded half up to 3") in text
    # every number in the line is a contract constant or an exact function of the 0.913
    # shown, so the line tells nothing beyond 0.913 ± 0.0005: many fractions print as it
    assert len(consistent_fractions("0.913")) > 5


def test_full_precision_trail_reveals_the_count_and_the_limited_one_does_not() -> None:
    c = Contract.from_dict(_one(PROP))  # no value_decimals: the internal trail is exact
    res = c.evaluate({"r": 95 / 104})
    exact = _line(res.audit_trail(lang="en"))
    x = re.search(r": ([\d.]+) ÷", exact)
    assert x is not None
    # the leak the audit found: 12 significant digits identify 95/104 among all n ≤ 2000
    assert consistent_fractions(x.group(1)) == {Fraction(95, 104)}
    limited = _line(res.audit_trail(lang="en", decimals=3))
    # ≈0.913 ÷ 0.8 = ≈1.14 → capped at 1 → × 7,860 = 7,860
    assert "≈0.913 ÷ 0.8 = ≈1.14 → capped at 1 → × 7,860 = 7,860" in limited
    for tok in re.findall(r"≈([\d.,]+)", limited):
        assert len(consistent_fractions(str(float(tok.replace(",", "")) * 0.8)[:6])) > 1


def test_limited_trail_rounds_numbers_computed_from_the_value() -> None:
    c = Contract.from_dict(_one(PROP))
    res = c.evaluate({"r": 31 / 43})
    line = _line(res.audit_trail(lang="ja", decimals=3))
    # 31/43 = 0.72093 → ≈0.721; ratio 0.901163 → ≈0.901 (3 significant digits, as the
    # value shown); raw amount 7,083.14 → ≈7,080; the amount paid (floor) 7,083 is exact
    assert "≈0.721 ÷ 0.8 = ≈0.901 → × 7,860 = ≈7,080 → 切り捨て 7,083千円" in line
    assert "≈: 公表資料の桁数に丸めた表示" in res.audit_trail(lang="ja", decimals=3)
    # a value already within the limit is exact, with no ≈ note
    exact = c.evaluate({"r": 0.329}).audit_trail(lang="ja", decimals=3)
    assert "0.329 ÷ 0.8 = 0.41125 → × 7,860 = 3,232.425 → 切り捨て 3,232千円" in exact
    assert "≈" not in exact
    # per-indicator limits: an indicator not listed is exact
    assert "0.720930232558" in res.audit_trail(lang="ja", decimals={"other": 3})


@pytest.mark.parametrize(
    ("schedule", "expected"),
    [
        (Step(steps=((0.5, 100.0), (0.9, 200.0))), "≈0.913 ≥ 0.9 (step 2) → 200"),
        (Band(bands=((0.5, 0.5), (0.9, 1.0))), "≈0.913 ≥ 0.9 (step 2) → pay rate 1"),
        (PassFail(threshold=0.95), "≈0.913 < 0.95 → 0"),
        # 100 + (0.913461… − 0.9) ÷ 0.1 × 100 = 113.46… → ≈113
        (Interpolate(points=((0.9, 100.0), (1.0, 200.0))), "≈113"),
        # 0.913461… × 1,000 = 913.46… → ≈913
        (PerUnit(unit_amount=1000), "≈0.913 → × 1,000 = ≈913"),
    ],
)
def test_every_schedule_limits_the_value(schedule: Any, expected: str) -> None:
    _, text = schedule.describe(95 / 104, 1000.0, "en", decimals=3)
    assert expected in text
    assert "0.9134" not in text and "913.46" not in text and "113.46" not in text
