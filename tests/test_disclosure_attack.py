"""Attacks on published counts: small groups planted in flows and filter chains, audited by LP.

The auditor (:func:`pfseval.report.publication.audit_ledger`, integer programming over every
relation a reader knows) must find no hidden small count narrower than the protection level.
"""

from __future__ import annotations

import pytest

from pfseval.messages import Message
from pfseval.report.disclosure import CountLedger, register_flow
from pfseval.report.publication import ShownRate, audit_ledger, ledger_publication
from pfseval.result import SampleFlow
from pfseval.sdc import Publication, protect

SMALL = (1, 2, 3, 5, 9)


def _r(text: str) -> Message:
    return Message.plain(ja=text, en=text)


@pytest.mark.parametrize("small", SMALL)
@pytest.mark.parametrize("where", ["first_step", "last_step", "two_steps", "zero_then_small"])
def test_filter_chain_with_a_planted_small_exclusion_is_safe(small: int, where: str) -> None:
    # a cohort filter chain (input → three filters → analysed) with a small exclusion planted
    # at different places; the whole chain is one table, audited as a reader would attack it
    steps = {
        "first_step": [small, 40, 25],
        "last_step": [40, 25, small],
        "two_steps": [small, 30, small],
        "zero_then_small": [0, small, 30],
    }[where]
    f = SampleFlow.start(300)
    for k, n in enumerate(steps):
        f = f.exclude(_r(f"filter {k}"), n)
    led = CountLedger(min_cell=10)
    register_flow(led, f.to_dict(), "coh")
    led.solve()
    assert audit_ledger(led) == {}


@pytest.mark.parametrize("small", SMALL)
def test_small_group_linked_across_two_tables_is_safe(small: int) -> None:
    # the cohort's flow feeds a two-group design flow (treated / control) whose inputs add up to
    # the cohort's analysed count; a small treated group is planted
    cohort = SampleFlow.start(500).exclude(_r("age"), 120)
    led = CountLedger(min_cell=10)
    keys = register_flow(led, cohort.to_dict(), "coh")
    analysed = keys["all"][-1][1]
    design = {
        "n_input": {"treated": small + 20, "control": 380 - 20 - small},
        "steps": [
            {"group": "treated", "n_excluded": 20, "reason": "no follow-up"},
            {"group": "control", "n_excluded": 60, "reason": "no follow-up"},
        ],
    }
    dkeys = register_flow(led, design, "ind")
    led.relate(analysed, [dkeys["treated"][0][1], dkeys["control"][0][1]])
    led.solve()
    treated = dkeys["treated"][-1][1]
    assert led.show(treated) == f"<{led.min_cell}"
    assert audit_ledger(led) == {}


def test_auditor_catches_a_rate_printed_next_to_a_shown_denominator() -> None:
    # the Kobe leak: 104 participants shown, 9 non-completers hidden, the completion rate
    # shown as 91.3%: 0.913 × 104 = 95 and 104 − 95 = 9. The additive rules alone miss it.
    led = CountLedger(min_cell=10)
    for k, v in [("participants", 104), ("not_completed", 9), ("completed", 95)]:
        led.add(k, v)
    led.relate("participants", ["not_completed", "completed"])
    led.solve()
    assert led.show("participants") == "104"
    rate = ShownRate("completed", "participants", decimals=1, scale=100)
    found = audit_ledger(led, rates=[rate])
    assert [(f.value, f.low, f.high) for f in found.values()] == [(9, 9.0, 9.0)]
    # solved over the same publication with the rate as a relation, the solver protects it
    pub, _ = ledger_publication(led, rates=[rate])
    decision = protect(pub)
    assert decision.unsafe == ()
    assert decision.hidden["c1"] == "primary"


def test_fixed_cells_are_never_secondary_and_the_solver_goes_past_a_lost_cause() -> None:
    # two primary cells: "a" is tied only to a fixed cell (a count of years: always shown), so
    # nothing can protect it; "b" is protectable. The solver must still protect "b", never hide
    # the fixed cell, and the final audit must say plainly that "a" is exposed.
    pub = Publication(min_cell=10)
    for key, v, fixed in [
        ("years", 12, True),
        ("a", 3, False),
        ("a_rest", 9, True),
        ("total", 200, False),
        ("b", 4, False),
        ("b_rest", 196, False),
    ]:
        pub.cell(key, v, fixed=fixed, sensitive=not fixed)
    pub.parts("years", ["a", "a_rest"])
    pub.parts("total", ["b", "b_rest"])
    d = protect(pub)
    assert "years" not in d.hidden and "a_rest" not in d.hidden
    assert [f.key for f in d.unsafe] == ["a"]
    assert "b" not in {f.key for f in d.unsafe}
    assert d.hidden["b"] == "primary" and len(d.hidden) == 3
