"""Contracts: the published cases, evaluation, audit trail, and every malformed-contract case.

Reference values are the published payments (BRIEF §3, §4) and hand calculations written out
in the comments. Amounts are exact integers after rounding, so they are compared exactly.
"""

from __future__ import annotations

import copy
import json
import tomllib
import warnings
from pathlib import Path
from typing import Any

import pytest

from pfseval.errors import ContractError, PfsevalWarning
from pfseval.payment import Contract, payment_at_bounds
from pfseval.payment.result import BREAKDOWN_COLUMNS
from pfseval.result import Estimate

EXAMPLES = Path(__file__).resolve().parents[1] / "examples" / "contracts"
KOBE = {"completion_rate": 1.00, "lifestyle_improvement_rate": 0.95, "suppression_rate": 0.329}


def _est(value: float, lo: float, hi: float) -> Estimate:
    return Estimate(estimand="proportion", value=value, conf_low=lo, conf_high=hi, method="m")


def _base() -> dict[str, Any]:
    """A small valid contract used as the starting point of the malformed cases."""
    return {
        "contract": {
            "name": "test",
            "unit": "千円",
            "cap": 10000,
            "rounding": "floor",
            "rounding_unit": 1,
            "fixed": [{"label": "固定", "amount": 1000}],
            "component": [
                {
                    "indicator": "a",
                    "label": "A",
                    "allocation": 1000,
                    "schedule": {"type": "proportional", "target": 0.8},
                },
                {
                    "indicator": "b",
                    "label": "B",
                    "schedule": {"type": "step", "steps": [[0.1, 100], [0.2, 200], [0.3, 300]]},
                },
            ],
        }
    }


# ---------------------------------------------------------------- published cases


def test_kobe_published_payment_is_29435() -> None:
    # BRIEF §3: 10,482 + 5,240 + 10,481 + 3,232 = 29,435 千円 of a 34,063 cap;
    # 0.329 / 0.80 × 7,860 = 3,232.425 → floor → 3,232.
    c = Contract.from_toml(EXAMPLES / "kobe.toml")
    res = c.evaluate(KOBE)
    assert res.total == 29435
    assert res.breakdown["amount_rounded"].tolist() == [10482, 5240, 10481, 3232]
    assert res.fixed == 10482 and res.outcome == 5240 + 10481 + 3232
    assert res.cap == 34063 and not res.cap_applied
    assert c.max_payment() == 34063 == c.fixed_total + sum(x.allocation or 0 for x in c.components)
    raw = res.breakdown.set_index("indicator").loc["suppression_rate", "amount_raw"]
    assert raw == pytest.approx(3232.425, abs=1e-9)


def test_kobe_with_estimates_uses_point_by_default() -> None:
    c = Contract.from_toml(EXAMPLES / "kobe.toml")
    ind = {k: _est(v, max(v - 0.1, 0), min(v + 0.1, 1)) for k, v in KOBE.items()}
    assert c.evaluate(ind).total == 29435


def test_urasoe_published_payment_is_9500() -> None:
    # BRIEF §4: 4,500 + min(921, 500) × 10 = 9,500 (= the cap).
    c = Contract.from_toml(EXAMPLES / "urasoe.toml")
    res = c.evaluate({"additional_screened": 921})
    assert res.total == 9500
    assert res.breakdown["amount_rounded"].tolist() == [4500, 5000]
    # 320 extra people: 4,500 + 3,200; a drop in screening pays only the fixed part.
    assert c.evaluate({"additional_screened": 320}).total == 7700
    assert c.evaluate({"additional_screened": -40}).total == 4500


def test_other_example_contracts_load_and_round_trip() -> None:
    files = sorted(EXAMPLES.glob("*.toml"))
    assert len(files) >= 3
    for f in files:
        c = Contract.from_toml(f)
        assert Contract.from_dict(tomllib.loads(c.to_toml())) == c
        assert Contract.from_dict(c.to_dict()).to_dict() == c.to_dict()


# ---------------------------------------------------------------- breakdown and audit trail


def test_breakdown_columns_and_audit_trail_ja() -> None:
    c = Contract.from_toml(EXAMPLES / "kobe.toml")
    res = c.evaluate(KOBE)
    bd = res.breakdown
    assert tuple(bd.columns) == BREAKDOWN_COLUMNS
    assert bd["kind"].tolist() == ["fixed", "outcome", "outcome", "outcome"]
    assert bd["component"].tolist()[1:] == [f"contract.component[{i}]" for i in range(3)]
    assert bd["step"].tolist()[1:] == ["target reached", "target reached", "part of target"]
    text = res.audit_trail(lang="ja")
    # each line checkable by hand: value ÷ target = ratio → × allocation = raw → rounding
    assert "0.329 ÷ 0.8 = 0.41125 → × 7,860 = 3,232.425 → 切り捨て 3,232千円" in text
    assert "0.95 ÷ 0.75 = 1.26666666667 → 上限 1 → × 10,481 = 10,481" in text
    assert "10,482 + 5,240 + 10,481 + 3,232 = 29,435千円" in text
    assert text.rstrip().endswith("支払額: 29,435千円")


def test_audit_trail_en_and_bad_lang() -> None:
    res = Contract.from_toml(EXAMPLES / "kobe.toml").evaluate(KOBE)
    text = res.audit_trail(lang="en")
    assert "0.329 ÷ 0.8 = 0.41125 → × 7,860 = 3,232.425 → round down: 3,232 千円" in text
    assert "Amount paid: 29,435" in text
    with pytest.raises(ValueError, match="lang"):
        res.audit_trail(lang="fr")  # type: ignore[arg-type]


def test_to_dict_is_json() -> None:
    res = Contract.from_toml(EXAMPLES / "urasoe.toml").evaluate({"additional_screened": 921})
    d = json.loads(json.dumps(res.to_dict()))
    assert d["total"] == 9500 and d["cap_applied"] is False
    assert [r["amount_rounded"] for r in d["breakdown"]] == [4500, 5000]


def test_contract_cap_applies() -> None:
    d = _base()
    d["contract"]["cap"] = 1500
    res = Contract.from_dict(d).evaluate({"a": 0.8, "b": 0.25})
    # 1,000 + 1,000 + 200 = 2,200 > 1,500
    assert res.subtotal == 2200 and res.total == 1500 and res.cap_applied
    assert "上限を適用" in res.audit_trail(lang="ja")


# ---------------------------------------------------------------- basis and scenarios


def test_basis_picks_conf_low() -> None:
    d = _base()
    d["contract"]["component"][0]["basis"] = "conf_low"
    c = Contract.from_dict(d)
    res = c.evaluate({"a": _est(0.6, 0.4, 0.8), "b": 0.0})
    # conf_low 0.4: 0.4 / 0.8 × 1,000 = 500
    assert res.breakdown["amount_rounded"].tolist() == [1000, 500, 0]
    assert res.breakdown["basis"].tolist()[1:] == ["conf_low", "point"]


def test_number_with_ci_basis_is_used_with_a_warning() -> None:
    d = _base()
    d["contract"]["component"][0]["basis"] = "conf_low"
    with pytest.warns(PfsevalWarning, match="without a confidence interval"):
        res = Contract.from_dict(d).evaluate({"a": 0.4, "b": 0.0})
    assert res.breakdown["amount_rounded"].tolist()[1] == 500
    assert res.warnings and "without a confidence interval" in res.warnings[0]


def test_payment_at_bounds_kobe() -> None:
    c = Contract.from_toml(EXAMPLES / "kobe.toml")
    ind: dict[str, Estimate | float] = {
        "completion_rate": 1.0,
        "lifestyle_improvement_rate": 0.95,
        "suppression_rate": _est(0.329, 0.23, 0.445),
    }
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # numbers held fixed in scenarios: no warning
        sc = payment_at_bounds(c, ind)
    # hand: 0.23/0.8 × 7860 = 2259.75 → 2259; 0.445/0.8 × 7860 = 4372.125 → 4372
    assert sc.loc["conf_low", "腎機能低下抑制率"] == 2259
    assert sc.loc["point", "腎機能低下抑制率"] == 3232
    assert sc.loc["conf_high", "腎機能低下抑制率"] == 4372
    assert sc["total"].tolist() == [10482 + 5240 + 10481 + x for x in (2259, 3232, 4372)]
    assert c.evaluate(ind, basis="conf_high").total == sc.loc["conf_high", "total"]


def test_missing_indicator_names_component_key_path() -> None:
    c = Contract.from_toml(EXAMPLES / "kobe.toml")
    with pytest.raises(ContractError) as e:
        c.evaluate({"completion_rate": 1.0, "lifestyle_improvement_rate": 0.95})
    assert e.value.key_path == "contract.component[2].indicator"
    assert "'suppression_rate'" in str(e.value) and "kobe.toml" in str(e.value)
    assert "Fix" in str(e.value)


@pytest.mark.parametrize("bad", [float("nan"), "0.3", None])
def test_non_finite_or_wrong_indicator_value(bad: Any) -> None:
    c = Contract.from_dict(_base())
    with pytest.raises(ContractError) as e:
        c.evaluate({"a": 0.5, "b": bad})
    assert e.value.key_path == "contract.component[1].indicator"


# ---------------------------------------------------------------- schedules in a contract


def _one(schedule: dict[str, Any], **comp: Any) -> Contract:
    c: dict[str, Any] = {"indicator": "x", "label": "X", "schedule": schedule, **comp}
    return Contract.from_dict(
        {"contract": {"name": "t", "unit": "円", "rounding": "floor", "component": [c]}}
    )


def _pay(c: Contract, x: float) -> float:
    return c.evaluate({"x": x}).total


def test_component_cap_floor_and_deduction() -> None:
    # 雲南市-style deduction: −50 per person whose score worsened, at most −300, on top of fixed.
    d = {
        "contract": {
            "name": "t",
            "unit": "千円",
            "rounding": "floor",
            "fixed": [{"label": "固定", "amount": 1000}],
            "component": [
                {
                    "indicator": "worse",
                    "label": "悪化者控除",
                    "floor": -300,
                    "schedule": {"type": "per_unit", "unit_amount": -50},
                }
            ],
        }
    }
    c = Contract.from_dict(d)
    assert c.evaluate({"worse": 3}).total == 850
    assert c.evaluate({"worse": 20}).total == 700  # floor −300
    res = c.evaluate({"worse": 20})
    assert bool(res.breakdown["component_cap_applied"].iloc[1])
    assert "下限 -300" in res.audit_trail(lang="ja")
    assert "小計 = 1,000 − 300 = 700千円" in res.audit_trail(lang="ja")
    capped = _one({"type": "per_unit", "unit_amount": 10}, cap=250)
    assert _pay(capped, 40) == 250


def test_rounding_never_passes_component_limits() -> None:
    # ceil of 260 capped at 250.5 would be 251: the cap wins (250); max_payment agrees
    c = _one({"type": "per_unit", "unit_amount": 10}, cap=250.5)
    d = c.to_dict()
    d["contract"]["rounding"] = "ceil"
    c = Contract.from_dict(d)
    assert _pay(c, 26) == 250 and _pay(c, 25.01) == 250 and _pay(c, 24.01) == 241
    assert c.max_payment() == 250


def test_negative_subtotal_pays_zero_with_warning() -> None:
    c = _one({"type": "per_unit", "unit_amount": -10})
    with pytest.warns(PfsevalWarning, match="deductions exceed"):
        res = c.evaluate({"x": 3})
    assert res.subtotal == -30 and res.total == 0


def test_rounding_rules_and_units() -> None:
    sched = {"type": "proportional", "target": 0.8}
    # 0.5 / 0.8 × 1,234 = 771.25
    assert _one(sched, allocation=1234).evaluate({"x": 0.5}).total == 771
    d = _one(sched, allocation=1234, rounding="ceil").evaluate({"x": 0.5})
    assert d.total == 772
    # 0.25 / 0.5 × 5 = 2.5 → half_up 3 (binary float gives 2.5 exactly here; see properties)
    assert (
        _pay(_one({"type": "proportional", "target": 0.5}, allocation=5, rounding="half_up"), 0.25)
        == 3
    )
    # unit 100: 771.25 → floor 700, ceil 800
    assert _one(sched, allocation=1234, rounding_unit=100).evaluate({"x": 0.5}).total == 700
    # 0.7 / 0.8 × 800 is 699.9999999999999 in binary floating point; exactly 700
    assert 0.7 / 0.8 * 800 < 700
    assert _pay(_one(sched, allocation=800), 0.7) == 700
    # 0.29 / 0.5 × 100 = 58 exactly (57.99999999999999 in floats); ceil must not give 59
    assert (
        _pay(_one({"type": "proportional", "target": 0.5}, allocation=100, rounding="ceil"), 0.29)
        == 58
    )


def test_all_schedule_types() -> None:
    # proportional with a lower limit: nothing below 0.5, then value / target × allocation
    p = _one({"type": "proportional", "target": 0.8, "lower": 0.5}, allocation=800)
    assert [_pay(p, x) for x in (0.49, 0.5, 0.8, 1.2)] == [0, 500, 800, 800]
    # per_unit with min_units lower limit and whole units
    u = _one(
        {"type": "per_unit", "unit_amount": 10, "min_units": 5, "max_units": 8, "whole_units": True}
    )
    assert [_pay(u, x) for x in (4.9, 5.0, 6.7, 100)] == [0, 50, 60, 80]
    # step: highest threshold reached
    s = _one({"type": "step", "steps": [[0.3, 100], [0.5, 300]]})
    assert [_pay(s, x) for x in (0.29, 0.3, 0.49, 0.5, 0.9)] == [0, 100, 100, 300, 300]
    # band: pay_rate × allocation
    b = _one({"type": "band", "bands": [[0.5, 0.5], [0.7, 1.0]]}, allocation=1000)
    assert [_pay(b, x) for x in (0.4, 0.5, 0.69, 0.7)] == [0, 500, 500, 1000]
    # interpolate: linear, `below` under the first point, last amount above the last point
    i = _one({"type": "interpolate", "points": [[0.2, 100], [0.6, 500]], "below": 10})
    assert [_pay(i, x) for x in (0.1, 0.2, 0.4, 0.6, 0.9)] == [10, 100, 300, 500, 500]
    # pass/fail: the allocation when the value reaches the threshold
    f = _one({"type": "pass_fail", "threshold": 0.9}, allocation=700)
    assert [_pay(f, x) for x in (0.89, 0.9)] == [0, 700]


def test_describe_steps_in_audit() -> None:
    s = _one({"type": "step", "steps": [[0.3, 100], [0.5, 300]]})
    res = s.evaluate({"x": 0.42})
    assert res.breakdown["step"].iloc[0] == "step 1"
    assert "0.42 ≥ 0.3 (第1段階) → 100" in res.audit_trail(lang="ja")
    i = _one({"type": "interpolate", "points": [[0.2, 100], [0.6, 500]]})
    assert (
        "100 + (0.4 − 0.2) ÷ (0.6 − 0.2) × (500 − 100) = 300"
        in i.evaluate({"x": 0.4}).audit_trail()
    )


def test_component_lookup() -> None:
    c = Contract.from_toml(EXAMPLES / "kobe.toml")
    assert c.component_index("腎機能低下抑制率") == 2 == c.component_index("suppression_rate")
    assert c.component_index(0) == 0
    with pytest.raises(KeyError):
        c.component_index("nope")
    with pytest.raises(IndexError):
        c.component_index(5)


# ---------------------------------------------------------------- malformed contracts


def _mutate(path: list[Any], value: Any) -> dict[str, Any]:
    d = copy.deepcopy(_base())
    node: Any = d
    for k in path[:-1]:
        node = node[k]
    if value is _DELETE:
        del node[path[-1]]
    else:
        node[path[-1]] = value
    return d


_DELETE = object()
C0 = ["contract", "component", 0]
C1 = ["contract", "component", 1]

MALFORMED: list[tuple[str, list[Any], Any, str, str]] = [
    # (what, path in dict, new value, expected key path, words in the message)
    (
        "thresholds not increasing",
        [*C1, "schedule", "steps"],
        [[0.1, 1], [0.3, 2], [0.2, 3]],
        "contract.component[1].schedule.steps[2]",
        "strictly increasing",
    ),
    (
        "equal thresholds",
        [*C1, "schedule", "steps"],
        [[0.1, 1], [0.1, 2]],
        "contract.component[1].schedule.steps[1]",
        "strictly increasing",
    ),
    (
        "band rate above 1",
        [*C0, "schedule"],
        {"type": "band", "bands": [[0.5, 0.5], [0.7, 80]]},
        "contract.component[0].schedule.bands[1]",
        "outside [0, 1]",
    ),
    (
        "band rate negative",
        [*C0, "schedule"],
        {"type": "band", "bands": [[0.5, -0.1]]},
        "contract.component[0].schedule.bands[0]",
        "outside [0, 1]",
    ),
    ("negative contract cap", ["contract", "cap"], -1, "contract.cap", "at least 0"),
    ("negative component cap", [*C0, "cap"], -5, "contract.component[0].cap", "at least 0"),
    (
        "negative allocation",
        [*C0, "allocation"],
        -5,
        "contract.component[0].allocation",
        "at least 0",
    ),
    (
        "unknown schedule type",
        [*C0, "schedule", "type"],
        "linear",
        "contract.component[0].schedule.type",
        "unknown value 'linear'",
    ),
    (
        "unknown rounding",
        ["contract", "rounding"],
        "round",
        "contract.rounding",
        "unknown value 'round'",
    ),
    (
        "unknown component rounding",
        [*C0, "rounding"],
        "bankers",
        "contract.component[0].rounding",
        "unknown value",
    ),
    ("unknown unit", ["contract", "unit"], "ドル", "contract.unit", "unknown value"),
    ("missing name", ["contract", "name"], _DELETE, "contract.name", "required key 'name'"),
    ("missing rounding", ["contract", "rounding"], _DELETE, "contract.rounding", "required key"),
    (
        "missing schedule",
        [*C0, "schedule"],
        _DELETE,
        "contract.component[0].schedule",
        "required key",
    ),
    (
        "missing indicator key",
        [*C0, "indicator"],
        _DELETE,
        "contract.component[0].indicator",
        "required",
    ),
    (
        "missing target",
        [*C0, "schedule", "target"],
        _DELETE,
        "contract.component[0].schedule.target",
        "required key 'target'",
    ),
    (
        "missing type",
        [*C0, "schedule", "type"],
        _DELETE,
        "contract.component[0].schedule.type",
        "required",
    ),
    (
        "missing allocation",
        [*C0, "allocation"],
        _DELETE,
        "contract.component[0].allocation",
        "no allocation",
    ),
    (
        "missing fixed amount",
        ["contract", "fixed", 0, "amount"],
        _DELETE,
        "contract.fixed[0].amount",
        "required",
    ),
    (
        "allocation as text",
        [*C0, "allocation"],
        "5240",
        "contract.component[0].allocation",
        "must be a number",
    ),
    (
        "target as boolean",
        [*C0, "schedule", "target"],
        True,
        "contract.component[0].schedule.target",
        "must be a number",
    ),
    (
        "zero target",
        [*C0, "schedule", "target"],
        0,
        "contract.component[0].schedule.target",
        "greater than 0",
    ),
    ("cap as text", ["contract", "cap"], "34,063", "contract.cap", "must be a number"),
    ("label as number", [*C0, "label"], 3, "contract.component[0].label", "expected a string"),
    (
        "schedule not a table",
        [*C0, "schedule"],
        "proportional",
        "contract.component[0].schedule",
        "expected a table",
    ),
    (
        "component not an array",
        ["contract", "component"],
        {"a": 1},
        "contract.component",
        "expected an array",
    ),
    (
        "step row not a pair",
        [*C1, "schedule", "steps"],
        [[0.1, 1], [0.2, 2, 3]],
        "contract.component[1].schedule.steps[1]",
        "expected a pair",
    ),
    (
        "empty steps",
        [*C1, "schedule", "steps"],
        [],
        "contract.component[1].schedule.steps",
        "at least 1",
    ),
    (
        "unknown key (typo)",
        [*C0, "alocation"],
        10,
        "contract.component[0].alocation",
        "unknown key",
    ),
    (
        "unknown schedule key",
        [*C0, "schedule", "taget"],
        0.8,
        "contract.component[0].schedule.taget",
        "unknown key",
    ),
    ("duplicate label", [*C1, "label"], "A", "contract.component[1].label", "already used"),
    ("floor above cap", [*C0, "floor"], 2000, "contract.component[0].floor", "above the component"),
    (
        "lower not below target",
        [*C0, "schedule", "lower"],
        0.9,
        "contract.component[0].schedule.lower",
        "below the target",
    ),
    (
        "zero rounding unit",
        ["contract", "rounding_unit"],
        0,
        "contract.rounding_unit",
        "greater than 0",
    ),
    (
        "interpolate one point",
        [*C1, "schedule"],
        {"type": "interpolate", "points": [[0.1, 1]]},
        "contract.component[1].schedule.points",
        "at least 2 points",
    ),
    (
        "per_unit zero amount",
        [*C1, "schedule"],
        {"type": "per_unit", "unit_amount": 0},
        "contract.component[1].schedule.unit_amount",
        "must not be 0",
    ),
    (
        "min_units above max_units",
        [*C1, "schedule"],
        {"type": "per_unit", "unit_amount": 1, "min_units": 9, "max_units": 3},
        "contract.component[1].schedule.min_units",
        "greater than max_units",
    ),
    (
        "infinite amount",
        ["contract", "fixed", 0, "amount"],
        float("inf"),
        "contract.fixed[0].amount",
        "finite",
    ),
    ("bad basis", [*C0, "basis"], "median", "contract.component[0].basis", "unknown value"),
    (
        "whole_units not boolean",
        [*C1, "schedule"],
        {"type": "per_unit", "unit_amount": 1, "whole_units": 1},
        "contract.component[1].schedule.whole_units",
        "true or false",
    ),
]


@pytest.mark.parametrize(
    ("what", "path", "value", "key_path", "words"), MALFORMED, ids=[m[0] for m in MALFORMED]
)
def test_malformed_contract_names_key_path(
    what: str, path: list[Any], value: Any, key_path: str, words: str
) -> None:
    with pytest.raises(ContractError) as e:
        Contract.from_dict(_mutate(path, value))
    assert e.value.key_path == key_path, what
    msg = str(e.value)
    assert msg.startswith(f"{key_path}: ")
    assert words in msg


def test_every_malformed_message_says_how_to_fix_or_what_is_allowed() -> None:
    for what, path, value, _, _ in MALFORMED:
        with pytest.raises(ContractError) as e:
            Contract.from_dict(_mutate(path, value))
        msg = str(e.value)
        assert any(w in msg for w in ("Fix", "Allowed", "must", "expected")), what


def test_empty_contract_and_missing_top_level() -> None:
    with pytest.raises(ContractError) as e:
        Contract.from_dict({"contract": {"name": "x", "unit": "円", "rounding": "floor"}})
    assert e.value.key_path == "contract"
    with pytest.raises(ContractError) as e:
        Contract.from_dict({"name": "x"})
    assert e.value.key_path == "contract"  # missing (checked before the unknown key 'name')
    with pytest.raises(ContractError) as e:
        Contract.from_dict(
            {"contract": {"name": "x", "unit": "円", "rounding": "floor", "fixed": []}, "extra": 1}
        )
    assert e.value.key_path == "extra"
    with pytest.raises(ContractError) as e:
        Contract.from_dict([])  # type: ignore[arg-type]
    assert e.value.key_path == "(top level)"


def test_from_toml_errors_name_the_file(tmp_path: Path) -> None:
    bad = tmp_path / "bad.toml"
    bad.write_text(
        (EXAMPLES / "kobe.toml")
        .read_text(encoding="utf-8")
        .replace("target = 0.75", "target = 75"),
        encoding="utf-8",
    )
    # the Kobe components declare kind = "proportion", so a target of 75 (75%) is an error
    with pytest.raises(ContractError) as e75:
        Contract.from_toml(bad)
    assert e75.value.file == str(bad) and e75.value.key_path == "contract.component[1].schedule"
    bad.write_text('[contract]\nname = "x"\nunit = "千円"\nrounding = "flor"\n', encoding="utf-8")
    with pytest.raises(ContractError) as e:
        Contract.from_toml(bad)
    assert str(bad) in str(e.value) and e.value.file == str(bad)
    assert e.value.key_path == "contract.rounding"
    bad.write_text("[contract\nname = 1", encoding="utf-8")
    with pytest.raises(ContractError, match="not valid TOML"):
        Contract.from_toml(bad)
