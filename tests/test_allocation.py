"""Allocation schemes: exact shares, hand-checked cases, rank scoring with ties, small units."""

from __future__ import annotations

from fractions import Fraction
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from pfseval.errors import ContractError
from pfseval.payment.allocation import AllocationError, AllocationScheme, largest_remainder

ROOT = Path(__file__).resolve().parents[1]
EXAMPLES = ROOT / "examples" / "allocation"


def _scheme(**a: Any) -> AllocationScheme:
    base: dict[str, Any] = {"name": "例", "budget": 100, "unit": "百万円"}
    return AllocationScheme.from_dict({"allocation": base | a})


def test_hand_checked_points_times_weight() -> None:
    # scores 10×3 = 30, 20×1 = 20, 25×2 = 50; total 100 → quotas 30, 20, 50 of 100
    s = _scheme(score="points", weight="insured")
    u = pd.DataFrame({"unit": ["A", "B", "C"], "points": [10, 20, 25], "insured": [3, 1, 2]})
    t = s.allocate(u).table
    assert t["score"].tolist() == [30, 20, 50]
    assert t["amount"].tolist() == [30, 20, 50]
    assert t["share"].tolist() == [0.3, 0.2, 0.5]


def test_largest_remainder_by_hand() -> None:
    # budget 10 over scores 1, 1, 1: quotas 3.333… each; one unit left over goes to the first
    s = _scheme(budget=10, score="points")
    u = pd.DataFrame({"unit": ["A", "B", "C"], "points": [1, 1, 1]})
    assert s.allocate(u).table["amount"].tolist() == [4, 3, 3]
    # scores 37, 26, 37 of budget 10: quotas 3.7, 2.6, 3.7 → floors 3, 2, 3 (8); the two
    # largest remainders (0.7, 0.7) get one each → 4, 2, 4
    u = pd.DataFrame({"unit": ["A", "B", "C"], "points": [37, 26, 37]})
    assert s.allocate(u).table["amount"].tolist() == [4, 2, 4]
    # equal remainders: the larger score wins before file order. quotas 1.5 (score 3) and
    # 0.5 (score 1) … of budget 3 over scores 3, 1, 2: quotas 1.5, 0.5, 1 → floors 1, 0, 1;
    # remainders 0.5, 0.5 → the larger score (A) gets the last unit
    u = pd.DataFrame({"unit": ["B", "A", "C"], "points": [1, 3, 2]})
    t = _scheme(budget=3, score="points").allocate(u).table
    assert t["amount"].tolist() == [0, 2, 1]


def test_decimal_values_are_exact() -> None:
    # 0.1 + 0.2 in floats is 0.30000000000000004; the shares here are exactly 1/6, 2/6, 3/6
    s = _scheme(budget=600, score="points")
    u = pd.DataFrame({"unit": ["A", "B", "C"], "points": [0.1, 0.2, 0.3]})
    a = s.allocate(u)
    assert a.total_score == Fraction(6, 10)
    assert a.table["amount"].tolist() == [100, 200, 300]


def test_rounding_unit_and_budget_check() -> None:
    s = _scheme(budget=1000, rounding_unit=10, score="points")
    u = pd.DataFrame({"unit": list("ABC"), "points": [1, 1, 1]})
    assert s.allocate(u).table["amount"].tolist() == [340, 330, 330]
    with pytest.raises(AllocationError, match=r"allocation\.rounding_unit: .*not a whole multiple"):
        _scheme(budget=1005, rounding_unit=10, score="points")


@settings(max_examples=60, deadline=None)
@given(
    pts=st.lists(st.integers(0, 10_000), min_size=1, max_size=60),
    budget=st.integers(1, 10_000_000),
    seed=st.integers(0, 2**32 - 1),
)
def test_amounts_always_sum_exactly_to_the_budget(pts: list[int], budget: int, seed: int) -> None:
    if sum(pts) == 0:
        pts = [*pts[:-1], 1]
    w = np.random.default_rng(seed).integers(1, 3_000_000, len(pts))
    s = _scheme(budget=budget, score="points", weight="w")
    u = pd.DataFrame({"unit": [f"U{i}" for i in range(len(pts))], "points": pts, "w": w})
    t = s.allocate(u).table
    assert t["amount"].sum() == budget
    # every amount is its quota rounded down or up
    assert ((t["amount"] - np.floor(t["quota"] + 1e-9)).between(0, 1)).all()


def test_largest_remainder_rejects_inconsistent_quotas() -> None:
    with pytest.raises(ValueError, match="not to 5"):
        largest_remainder([Fraction(1)], 5)


RANK_UNITS = pd.DataFrame(
    {
        "unit": list("ABCDEF"),
        # B and C tie for best; E and F tie
        "x": [0.5, 0.9, 0.9, 0.7, 0.3, 0.3],
    }
)


def test_rank_scoring_with_ties() -> None:
    # rank ≤ 1 → 10 points, ≤ 3 → 5. B and C tie for rank 1 (both get 10); D is rank 3 (two
    # units better) → 5; A is rank 4 → 0; E and F share rank 5 → 0
    s = _scheme(indicator=[{"column": "x", "type": "rank", "table": [[1, 10], [3, 5]]}])
    a = s.allocate(RANK_UNITS)
    assert a.table["points"].tolist() == [0, 10, 10, 5, 0, 0]
    assert a.table["amount"].tolist() == [0, 40, 40, 20, 0, 0]


def test_rank_lower_is_better_with_ties() -> None:
    # lower is better: E and F tie for rank 1 → 10 each; A is rank 3 → 5
    s = _scheme(
        indicator=[
            {"column": "x", "type": "rank", "direction": "lower", "table": [[1, 10], [3, 5]]}
        ]
    )
    assert s.allocate(RANK_UNITS).table["points"].tolist() == [5, 0, 0, 0, 10, 10]


def test_percentile_scoring_with_ties() -> None:
    # top 33% (fewer than 0.33 × 6 = 1.98 units strictly better): B, C (0 better) → 6 points;
    # top 66% (fewer than 3.96 better): D (2 better), A (3 better) → 3; E, F (4 better) → 0
    s = _scheme(indicator=[{"column": "x", "type": "percentile", "table": [[0.33, 6], [0.66, 3]]}])
    assert s.allocate(RANK_UNITS).table["points"].tolist() == [3, 6, 6, 3, 0, 0]


def test_thresholds_change_rates_group_caps_and_missing_values() -> None:
    s = _scheme(
        indicator=[
            {
                "column": "p",
                "type": "threshold",
                "table": [[1, 30], [2, 60]],
                "goal": "I",
                "group": "process",
            },
            {
                "column": "q",
                "type": "threshold",
                "table": [[0.5, 40]],
                "goal": "I",
                "group": "process",
            },
            # change rate (now − before) / before, lower is better: ≤ −5% → 20, ≤ 0 → 10
            {
                "column": "now",
                "change_from": "before",
                "type": "threshold",
                "direction": "lower",
                "table": [[-0.05, 20], [0, 10]],
                "goal": "I",
                "group": "outcome",
            },
        ],
        cap=[{"goal": "I", "group": "process", "points": 64}],
    )
    u = pd.DataFrame(
        {
            "unit": ["A", "B", "C"],
            "p": [2, 1, np.nan],  # C did not report p → 0 points
            "q": [0.6, 0.4, 0.5],
            "before": [2.0, 2.0, 2.0],
            "now": [1.9, 2.0, 2.1],  # −5% (meets −0.05 exactly), 0%, +5%
        }
    )
    a = s.allocate(u)
    # A: 60 + 40 = 100 → capped at 64, + 20 = 84; B: 30 + 0 + 10 = 40; C: 0 + 40 + 0 = 40
    assert a.table["points"].tolist() == [84, 40, 40]
    assert a.table["amount"].sum() == 100
    trail = a.audit_trail("A", lang="en")
    assert "goal I / process: 100 points → capped at 64" in trail
    assert "(now, change rate): -0.05 → 20 points" in trail
    assert "not reported → 0 points" in a.audit_trail("C", lang="en")
    assert "未報告 → 0点" in a.audit_trail("C", lang="ja")


def test_small_unit_adjustment_raises_small_shares() -> None:
    # weights 1,000 and 9,000 with equal points: 10% / 90%; with minimum_weight 3,000 the
    # small unit counts as 3,000 → 3,000 / 12,000 = 25%
    u = pd.DataFrame({"unit": ["small", "large"], "points": [50, 50], "w": [1000, 9000]})
    plain = _scheme(score="points", weight="w").allocate(u)
    adj = _scheme(score="points", weight="w", minimum_weight=3000).allocate(u)
    assert plain.table["amount"].tolist() == [10, 90]
    assert adj.table["amount"].tolist() == [25, 75]
    assert adj.table["weight"].tolist() == [1000, 9000]
    assert adj.table["weight_used"].tolist() == [3000, 9000]
    assert "1,000 raised to 3,000 (small-unit adjustment)" in adj.audit_trail("small", lang="en")


def test_marginal_values() -> None:
    s = _scheme(score="points", weight="w")
    u = pd.DataFrame({"unit": ["A", "B"], "points": [10, 10], "w": [1, 1]})
    a = s.allocate(u)
    # one more point: 100 × 11/21 − 100 × 10/20 = 2.380952…
    assert a.marginal_point_value("A") == pytest.approx(100 * 11 / 21 - 50, rel=1e-12)
    assert s.marginal_value(u, unit="A", column="points", value=11) == pytest.approx(
        a.marginal_point_value("A"), rel=1e-12
    )


def test_grant_distribution_own_and_others() -> None:
    s = _scheme(indicator=[{"column": "x", "type": "threshold", "table": [[0.5, 10], [0.7, 20]]}])
    u = pd.DataFrame({"unit": ["A", "B"], "x": [0.6, 0.6]})
    d = s.grant_distribution(u, unit="A", own={"x": [0.4, 0.6, 0.8]})
    # A scores 0, 10, 20 against B's 10: quotas 0, 50, 66.67
    assert d.tolist() == pytest.approx([0, 50, 200 / 3])
    sim = s.grant_distribution(u, unit="A", own={"x": [0.6] * 200}, others_sd={"x": 0.1}, seed=1)
    # B scores 0 / 10 / 20 with P ≈ .16 / .68 / .16 → A gets 100 / 50 / 33.3
    assert set(np.round(sim, 6)) <= {100.0, 50.0, round(100 / 3, 6)}
    assert 0.05 < np.mean(sim == 100) < 0.3


def test_errors_name_key_path_rows_and_fix(tmp_path: Path) -> None:
    s = _scheme(score="points", weight="w")
    with pytest.raises(AllocationError, match=r"column 'w' is missing.*Fix:"):
        s.allocate(pd.DataFrame({"unit": ["A"], "points": [1]}))
    with pytest.raises(
        AllocationError, match=r"unit 'A' appears more than once \(file lines 2, 3\)"
    ):
        s.allocate(pd.DataFrame({"unit": ["A", "A"], "points": [1, 2], "w": [1, 1]}))
    with pytest.raises(AllocationError, match=r"'points' must hold numbers ≥ 0; file line\(s\) 3"):
        s.allocate(pd.DataFrame({"unit": ["A", "B"], "points": [1, -2], "w": [1, 1]}))
    with pytest.raises(AllocationError, match=r"every unit's score .* is 0"):
        s.allocate(pd.DataFrame({"unit": ["A", "B"], "points": [0, 0], "w": [1, 1]}))
    with pytest.raises(AllocationError, match=r"allocation\.unit: unknown value"):
        _scheme(unit="ドル", score="points")
    with pytest.raises(AllocationError, match=r"allocation\.budget: budget must be greater than 0"):
        _scheme(budget=0, score="points")
    with pytest.raises(AllocationError, match="neither a points column nor scoring tables"):
        _scheme()
    with pytest.raises(
        AllocationError, match=r"allocation\.indicator\[0\]\.table\[0\]: rank 0\.5 is not"
    ):
        _scheme(indicator=[{"column": "x", "type": "rank", "table": [[0.5, 1]]}])
    with pytest.raises(AllocationError, match=r"allocation\.cap\[0\]: no indicator belongs"):
        _scheme(
            indicator=[{"column": "x", "type": "rank", "table": [[1, 1]]}],
            cap=[{"goal": "I", "group": "process", "points": 1}],
        )
    assert issubclass(AllocationError, ContractError) and issubclass(AllocationError, ValueError)
    bad = tmp_path / "s.toml"
    bad.write_text(
        '[allocation]\nname = "x"\nbudget = 10\nunit = "円"\nscore = "p"\nunits = "no.csv"\n'
    )
    with pytest.raises(AllocationError, match=r"s\.toml: allocation\.units: units file"):
        AllocationScheme.from_toml(bad).allocate()


def test_examples_allocate_the_whole_budget() -> None:
    m = AllocationScheme.from_toml(EXAMPLES / "minimal.toml").allocate()
    assert m.table["amount"].sum() == 1000
    r8 = AllocationScheme.from_toml(EXAMPLES / "r8_municipalities.toml")
    a = r8.allocate()
    assert a.table["amount"].sum() == 500
    # 令和8年度 structure: 100 points per goal split process/activity, + 100 outcome in goal I
    caps = {(c.goal, c.group): c.points for c in r8.caps}
    assert caps[("I", "process")] + caps[("I", "activity")] == 100
    assert caps[("II", "process")] + caps[("II", "activity")] == 100
    assert caps[("III", "process")] + caps[("III", "activity")] == 100
    assert caps[("I", "outcome")] == 100
    assert a.table["points"].max() <= 400
    assert AllocationScheme.from_dict(r8.to_dict()) == r8
    # with the 努力支援交付金 scheme: 380 process and 420 output/outcome points in all
    dr = AllocationScheme.from_toml(EXAMPLES / "r8_doryoku.toml")
    assert dr.allocate().table["amount"].sum() == 1000
    both = [c for s in (r8, dr) for c in s.caps]
    assert sum(c.points for c in both if c.group == "process") == 380
    assert sum(c.points for c in both if c.group == "activity") == 220
    assert sum(c.points for c in both if c.group == "outcome") == 200


def test_invalid_toml_names_the_file(tmp_path: Path) -> None:
    bad = tmp_path / "bad.toml"
    bad.write_text("[allocation\nname = 1", encoding="utf-8")
    with pytest.raises(AllocationError, match=r"bad\.toml: \(file\): not valid TOML"):
        AllocationScheme.from_toml(bad)
