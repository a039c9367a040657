"""Benefit side: fiscal-effect calculators and the cap check.

References: the published figures of BRIEF §4 and hand calculations in the comments.
"""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest

from pfseval.benefit import (
    Benefit,
    check_cap,
    fiscal_effect,
    project_stages,
    stage_cost_saving,
    stage_costs,
    value_per_examinee,
)
from pfseval.errors import PfsevalError
from pfseval.payment import Contract

EXAMPLES = Path(__file__).resolve().parents[1] / "examples" / "contracts"


def test_colorectal_early_detection_published_figure() -> None:
    # BRIEF §4: (2,520 − 650) × 0.82 × 11 ≈ 17,000 千円; by hand 1,870 × 0.82 = 1,533.4; × 11 = 16,867.4
    b = fiscal_effect(cost_without=2520, cost_with=650, cases=11, effective_rate=0.82)
    assert b.amount == pytest.approx(16867.4, abs=1e-9)
    assert round(b.amount, -3) == 17000
    assert b.formula == "(2,520 − 650) × 0.82 × 11 = 16,867.4"
    assert b.details["saving_per_case"] == 1870
    assert b.in_unit("円") == pytest.approx(16_867_400, abs=1e-6)
    assert json.loads(json.dumps(b.to_dict()))["amount"] == pytest.approx(16867.4)
    assert str(b).startswith("行財政効果: (2,520 − 650)")


def test_value_per_extra_examinee() -> None:
    # BRIEF §4: 3,080 ÷ 300 ≈ 10 千円 per extra examinee (the 浦添市 unit price)
    b = value_per_examinee(saving_per_case=3080, examinees_per_case=300)
    assert b.amount == pytest.approx(10.26667, abs=1e-5)
    assert round(b.amount) == 10


def test_bad_benefit_inputs() -> None:
    with pytest.raises(PfsevalError, match=r"0\.82 for 82%"):
        fiscal_effect(cost_without=2520, cases=11, effective_rate=82)
    with pytest.raises(PfsevalError):
        fiscal_effect(cost_without=2520, cases=-1)
    with pytest.raises(PfsevalError):
        value_per_examinee(saving_per_case=3080, examinees_per_case=0)
    with pytest.raises(PfsevalError, match="unknown unit"):
        fiscal_effect(cost_without=1, cases=1, unit="ドル")


def _matrix(p: float) -> pd.DataFrame:
    stages = ["G3", "G4", "G5"]
    return pd.DataFrame(
        [[1 - p, p, 0.0], [0.0, 0.8, 0.2], [0.0, 0.0, 1.0]], index=stages, columns=stages
    )


def test_stage_projection_and_discounting_by_hand() -> None:
    people = project_stages({"G3": 1000}, _matrix(0.1), years=2)
    # year 1: G3 900, G4 100; year 2: G3 810, G4 90 + 80 = 170, G5 20
    assert people.loc[2].tolist() == pytest.approx([810, 170, 20])
    assert people.sum(axis=1).tolist() == pytest.approx([1000, 1000, 1000])
    cost = stage_costs(people, annual_cost={"G3": 100, "G4": 500, "G5": 5000}, discount_rate=0.03)
    # year 2: 810×100 + 170×500 + 20×5000 = 266,000; ÷ 1.03² = 250,730.51...
    assert cost.loc[2, "cost"] == pytest.approx(266000)
    assert cost.loc[2, "discounted_cost"] == pytest.approx(266000 / 1.03**2, rel=1e-12)


def test_stage_cost_saving() -> None:
    cost = {"G3": 100.0, "G4": 500.0, "G5": 5000.0}
    b = stage_cost_saving(
        without_programme=project_stages({"G3": 1000}, _matrix(0.1), years=1),
        with_programme=project_stages({"G3": 1000}, _matrix(0.05), years=1),
        annual_cost=cost,
        discount_rate=0.0,
    )
    # year 1 only differs: 50 fewer people move G3→G4: 50 × (500 − 100) = 20,000
    assert b.amount == pytest.approx(20000)
    assert b.table is not None and b.table["saving_discounted"].tolist() == pytest.approx(
        [0, 20000]
    )


def test_stage_input_errors() -> None:
    bad = _matrix(0.1)
    bad.iloc[0, 0] = 0.5
    with pytest.raises(PfsevalError, match="G3"):
        project_stages({"G3": 1}, bad, years=1)
    with pytest.raises(PfsevalError, match="not in the matrix"):
        project_stages({"G9": 1}, _matrix(0.1), years=1)
    with pytest.raises(PfsevalError, match="no cost for stage"):
        stage_costs(pd.DataFrame({"G3": [1.0]}), annual_cost={})


def test_cap_check_kobe_and_urasoe() -> None:
    urasoe = Contract.from_toml(EXAMPLES / "urasoe.toml")
    b = fiscal_effect(cost_without=2520, cost_with=650, cases=11, effective_rate=0.82)
    chk = check_cap(urasoe, b)
    # cap 9,500 ≤ 16,867.4 千円
    assert chk.ok and chk.margin == pytest.approx(16867.4 - 9500)
    assert chk.cap_source == "contract cap"
    assert "以下です" in chk.message("ja") and "stays below" in chk.message("en")
    kobe = Contract.from_toml(EXAMPLES / "kobe.toml")
    chk2 = check_cap(kobe, Benefit(amount=30_000_000, unit="円", label="x", formula="x"))
    # 30,000,000 円 = 30,000 千円 < cap 34,063 千円
    assert not chk2.ok and chk2.benefit == 30000 and chk2.ratio == pytest.approx(34063 / 30000)
    assert "exceeds" in chk2.message("en")


def test_cap_check_without_contract_cap_uses_largest_payment() -> None:
    d = Contract.from_toml(EXAMPLES / "kobe.toml").to_dict()
    del d["contract"]["cap"]
    c = Contract.from_dict(d)
    chk = check_cap(c, 40000)
    assert chk.cap == 34063 and chk.cap_source == "largest possible payment" and chk.ok
