"""Issue 10: the appendix's structure and numbers by kind, on both demo examples.

Every payment component's schedule is a table (and a payment curve); the participant flow is
one diagram per data source whose counts are the ledger's published cells; values beside a
schedule decide its tier; differences of rates are in points; estimated people are rounded
in the summary only; a glossary explains the terms used.
"""

from __future__ import annotations

import re
from typing import Any

import pytest

from pfseval.report.document import (
    FigureBlock,
    TableBlock,
    _flow_nodes,
    build_document,
    decisive_decimals,
    fmt_value,
)
from pfseval.report.i18n import t

EXAMPLES = ("kobe_evaluation", "screening_evaluation")


_DOCS: dict[int, Any] = {}


def _doc(run: Any) -> Any:
    """The appendix of a run, built once per run (the session's demo runs are shared)."""
    if id(run) not in _DOCS:
        _DOCS[id(run)] = build_document(run)
    return _DOCS[id(run)]


def _table(doc: Any, tid: str) -> TableBlock:
    return next(b for b in doc.tables() if b.id == tid)


def _number(cell: str) -> float:
    """The number a cell shows ('72.1%' → 0.721, '2.3ポイント' → 0.023, '287.343')."""
    m = re.search(r"-?[\d,]+(?:\.\d+)?", cell)
    assert m is not None, cell
    x = float(m.group().replace(",", ""))
    return x / 100 if ("%" in cell or "ポイント" in cell or "point" in cell) else x


@pytest.mark.parametrize("name", EXAMPLES)
@pytest.mark.parametrize("lang", ["ja", "en"])
def test_every_payment_component_has_a_schedule_table_and_curve(
    demo_runs: dict[tuple[str, str], Any], name: str, lang: str
) -> None:
    run = demo_runs[name, lang]
    doc = _doc(run)
    contract = run.payment.contract
    figures = {b.id for b in doc.figures()}
    assert contract.components
    for j, comp in enumerate(contract.components):
        tab = _table(doc, f"schedule_{j}")
        assert comp.label in tab.title
        cells = " ".join(tab.frame.astype(str).to_numpy().ravel())
        sched = comp.schedule.to_dict()
        if sched["type"] == "proportional":  # the target and the allocation are written out
            assert fmt_value(sched["target"], "rate", lang=lang) in cells
            assert f"{comp.allocation:,.0f}" in cells
        if sched["type"] == "per_unit":
            assert f"{sched['unit_amount']:,}" in cells and f"{sched['max_units']:,}" in cells
        assert f"schedule_{j}" in figures  # and as a payment curve


@pytest.mark.parametrize("name", EXAMPLES)
def test_values_beside_a_schedule_decide_the_tier(
    demo_runs: dict[tuple[str, str], Any], name: str
) -> None:
    """The value shown in the breakdown and the summary lies on the same side of every
    schedule knot (target, step, limit) as the value the engine used."""
    run = demo_runs[name, "ja"]
    doc = _doc(run)
    res = run.results()
    contract = run.payment.contract
    knots = {c.indicator: c.schedule.knots() for c in contract.components}
    pay = _table(doc, "payment").frame
    for row, comp in zip(
        pay.to_dict("records"), [r for r in res["payment"]["components"]], strict=False
    ):
        if not comp.get("indicator"):
            continue
        used = float(comp["value"])
        shown = _number(str(row[t("value", "ja")]))
        for k in knots[comp["indicator"]]:
            assert (shown >= k) == (used >= k) and (shown <= k) == (used <= k), (row, k)


def test_decisive_digits_never_round_onto_a_step_not_reached() -> None:
    # the case: 1.987% beside a 2.0% step that was not reached
    d = decisive_decimals(0.01987, [0.02], base=1, percent=True)
    assert fmt_value(0.01987, "rate", decimals=d) == "1.99%"
    assert fmt_value(0.01987, "rate_difference", lang="ja", decimals=d) == "1.99ポイント"
    # reached exactly: one decimal is enough
    assert decisive_decimals(0.02, [0.02], base=1, percent=True) == 1
    for v in (0.0199999, 0.0200001, 0.79951, 0.8):
        d = decisive_decimals(v, [0.02, 0.8], base=1, percent=True)
        shown = round(100 * v, d) / 100
        assert all((shown >= k) == (v >= k) for k in (0.02, 0.8))


@pytest.mark.parametrize("lang", ["ja", "en"])
def test_numbers_by_kind_in_the_screening_example(
    demo_runs: dict[tuple[str, str], Any], lang: str
) -> None:
    run = demo_runs["screening_evaluation", lang]
    doc = _doc(run)
    est = run.estimates
    glance = _table(doc, "indicators").frame
    values = glance[t("value", lang)].tolist()
    people = round(est["additional_screened"].value)
    # estimated people rounded in the summary, decimals only in the detailed table
    assert values[0] == (f"約{people:,}人" if lang == "ja" else f"about {people:,} people")
    detail = _table(doc, "additional_screened_estimate").frame
    assert detail.iloc[0, 1] == f"{est['additional_screened'].value:.3f}"
    # a difference of rates in percentage points, not "%"
    points = "ポイント" if lang == "ja" else " points"
    assert values[1] == f"{100 * est['screening_rate_difference'].value:.1f}{points}"
    assert "%" not in values[1]
    # years without a thousands separator
    diag = _table(doc, "additional_screened_diagnostics").frame
    assert "2023" in diag.iloc[:, 1].tolist()


@pytest.mark.parametrize("lang", ["ja", "en"])
def test_one_flow_diagram_per_data_source_with_the_ledgers_counts(
    demo_runs: dict[tuple[str, str], Any], lang: str
) -> None:
    """The Kobe flow: one diagram for the health checks; its counts are the cohort tables'
    published cells (the hidden participants are hidden in the figure too); indicator
    sections no longer repeat the cohort tables."""
    from pfseval.report.document import _Context, _reader_names, _register_counts

    run = demo_runs["kobe_evaluation", lang]
    doc = _doc(run)
    flows = [b for b in doc.figures() if b.id.startswith("flow_")]
    assert [b.id for b in flows] == ["flow_checkups"]
    assert all(isinstance(b, FigureBlock) and b.png and b.svg for b in flows)
    tables = [b.id for b in doc.tables()]
    assert [x for x in tables if x.startswith("cohort_")] == [
        "cohort_pool",
        "cohort_participants",
        "cohort_completers",
    ]
    assert not any("_cohort_" in x for x in tables)  # not repeated per indicator
    res = run.results()
    counts = _register_counts(run, res)
    c = _Context(
        run=run,
        res=res,
        spec=run.spec,
        lang=lang,
        min_cell=run.spec.report.min_cell,
        counts=counts,
        hidden=counts.led.hidden_values(),
        targets={},
        names=_reader_names(run.spec, lang),
    )
    nodes = _flow_nodes(c, "checkups", ["pool", "participants", "completers"])
    unit = t("count_people", lang)
    for node in nodes[1:]:
        remaining = _table(doc, f"cohort_{node.id}").frame[t("remaining", lang)].tolist()
        assert node.count == unit.format(n=remaining[-1])
        excluded = _table(doc, f"cohort_{node.id}").frame[t("excluded", lang)].tolist()
        own = [unit.format(n=x) for x in excluded[-1 - len(node.exclusions) : -1]]
        assert [n for _, n in node.exclusions] == own
    # the participants are published (a key denominator: hiding it would protect nothing, the
    # completion rate and its interval give the 9 non-completers back); the 9 stay "<10"
    assert nodes[2].count == unit.format(n="104")
    assert nodes[3].exclusions[0][1] == unit.format(n="<10")


@pytest.mark.parametrize("lang", ["ja", "en"])
def test_glossary_explains_the_terms_used(demo_runs: dict[tuple[str, str], Any], lang: str) -> None:
    doc = _doc(demo_runs["kobe_evaluation", lang])
    gloss = _table(doc, "glossary").frame
    terms = " ".join(gloss.iloc[:, 0])
    for word in ("Wilson", "SMD") + (
        ("傾向スコア", "ポイント") if lang == "ja" else ("Propensity",)
    ):
        assert word in terms, word
    # a term the appendix does not use is not listed
    screening = _table(_doc(demo_runs["screening_evaluation", lang]), "glossary")
    assert "SMD" not in " ".join(screening.frame.iloc[:, 0])
    assert all(isinstance(x, str) and x for x in gloss.to_numpy().ravel())


def test_forest_plot_accepts_a_limit_a_rounding_error_past_the_value() -> None:
    """A Wilson upper limit computed as 1 − 2e-16 beside a rate of exactly 1.0 (every
    participant completed) draws a zero-length bar instead of failing the whole appendix."""
    from pfseval.report.figures import estimates_plot

    fig = estimates_plot(
        [{"label": "r", "value": 1.0, "conf_low": 0.96, "conf_high": 1 - 2e-16, "kind": "percent"}],
        lang="ja",
    )
    (ax,) = fig.axes
    segs = [c for c in ax.collections if c.get_segments()]
    (seg,) = segs[0].get_segments()
    assert seg[0][0] == pytest.approx(96.0) and seg[1][0] == pytest.approx(100.0)
