"""Appendix follow-ups: linkage table, counts that are not people, Japanese labels, and the
complementary-suppression choice, on the two examples run by ``pfseval demo``."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from pfseval.report.disclosure import CountLedger, _pinned
from pfseval.report.document import Document, TableBlock, build_document
from pfseval.report.i18n import group_label, t

CJK = re.compile(r"[\u3040-\u30ff\u4e00-\u9fff]")


@pytest.fixture(scope="module")
def runs(demo_runs: dict[tuple[str, str], Any]) -> dict[tuple[str, str], Any]:
    """Both examples on the demo's synthetic municipality, in Japanese and English (the
    session's demo runs, ``conftest.demo_runs``)."""
    return demo_runs


def _table(doc: Document, tid: str) -> TableBlock:
    return next(b for b in doc.tables() if b.id == tid)


def _num(cell: object) -> int:
    return int(str(cell).replace(",", ""))


# 1. linkage table ---------------------------------------------------------------------------


def test_linkage_table_accounts_for_every_record(runs: dict[tuple[str, str], Any]) -> None:
    run = runs["kobe_evaluation", "ja"]
    doc = build_document(run)
    flow = run.results()["sample_flow"]["sources"]["checkups"]
    tab = _table(doc, "source_checkups").frame
    ex, rem = t("excluded", "ja"), t("remaining", "ja")
    base = tab[tab[t("group", "ja")] == "ベースライン年度のレコード"]
    # input = no follow-up record + linked, and the counts are those of results.json
    n_in, n_ex, n_linked = _num(base[rem].iloc[0]), _num(base[ex].iloc[1]), _num(base[rem].iloc[2])
    assert n_in == n_ex + n_linked
    assert n_in == flow["n_input"]["all"] == run.inputs["checkups"]["rows"]
    assert n_linked == flow["n_analysed"]["all"]
    assert base["段階"].iloc[1] == "除外: 追跡年度の健診レコードなし"
    # the participant list has as many records as the participants: the key denominator is
    # published (the auditor finds hiding it would protect nothing), here and as the n of the
    # completion rate (whose rate and interval would give it back anyway)
    merged = tab[tab[t("group", "ja")] == "事業参加者の名簿のレコード"]  # the spec's label
    assert merged[rem].tolist() == ["104", "104", "104"] and merged[ex].iloc[1] == "0"
    assert _table(doc, "completion_rate_estimate").frame.iloc[2, 1] == "104"


def test_linkage_table_in_every_output(runs: dict[tuple[str, str], Any], tmp_path: Path) -> None:
    import docx
    import openpyxl

    from pfseval.batch import write_outputs

    write_outputs(runs["kobe_evaluation", "en"], tmp_path / "out")
    html = (tmp_path / "out" / "appendix.html").read_text(encoding="utf-8")
    assert "Sample flow — Data linkage (health checks (2016 and 2019))" in html
    assert "excluded: no follow-up health-check record" in html
    wb = openpyxl.load_workbook(tmp_path / "out" / "tables.xlsx")
    # the first sheet lists each table's caption and its sheet
    listed = dict(r[:2] for r in wb.worksheets[0].iter_rows(min_row=4, values_only=True))
    sheet = wb[next(n for cap, n in listed.items() if "Data linkage (health checks" in str(cap))]
    rows = [[c.value for c in r] for r in sheet.iter_rows()]
    assert rows[2][:2] == ["baseline records", "input records"]
    assert _num(rows[2][3]) == _num(rows[3][2]) + _num(rows[3][3])
    d = docx.Document(str(tmp_path / "out" / "appendix.docx"))
    cells = {c.text for tab in d.tables for row in tab.rows for c in row.cells}
    assert "excluded: no follow-up health-check record" in cells


# 2. counts that are not people ----------------------------------------------------------------


def test_years_and_series_rows_are_shown_as_they_are(runs: dict[tuple[str, str], Any]) -> None:
    for lang, years in (("ja", "8 年度分"), ("en", "8 years")):
        doc = build_document(runs["screening_evaluation", lang])
        glance = _table(doc, "indicators").frame
        assert glance[t("n", lang)].tolist() == [years, years]
        cells = [str(x) for b in doc.tables() for x in b.frame.to_numpy().ravel()]
        assert "<10" not in cells and "*" not in cells
        town = _table(doc, "cohort_town")  # shown once, in the flow section
        assert town.frame[t("remaining", lang)].tolist() == ["320", "8", "8"]
        assert town.note == t("not_people_note", lang)
        flow = _table(doc, "additional_screened_flow").frame
        assert set(flow[t("remaining", lang)]) == {"8"}
        # the eligible people of the evaluation year stay a count of people (>= 10: shown)
        diag = _table(doc, "additional_screened_diagnostics").frame
        assert "12,372" in diag[t("content", lang)].tolist()
        related = _table(doc, "additional_screened_related").frame
        assert years.replace("8", "7") in related[t("n", lang)].tolist()  # baseline years


def test_person_counts_stay_under_the_rule() -> None:
    led = CountLedger(min_cell=10)
    led.add("years", 8, people=False)
    led.add("screened", 8)
    led.add("eligible", 120)
    led.add("not_screened", 112)
    led.relate("eligible", ["screened", "not_screened"])
    led.solve()
    assert [led.show(k) for k in ("years", "screened", "eligible", "not_screened")] == [
        "8",
        "<10",
        "120",
        "*",
    ]
    assert not led.counts_people("years") and led.counts_people("screened")


# 3. Japanese labels ---------------------------------------------------------------------------

#: Fixed English vocabulary that must not reach a Japanese table (free text written by the
#: designs, in the 計算方法（原文） column, and spec-written reasons are not checked).
ENGLISH_LABELS = (
    "numerator",
    "denominator",
    "n_missing",
    "n_excluded",
    "wilson",
    "clopper_pearson",
    "bootstrap_percentile",
    "bootstrap_normal",
    "excluded:",
    "input records",
    "no matched control",
    "not matched to a participant",
    "no follow-up value of",
    "no data on",
    "no follow-up health-check record",
    "baseline records",
    "no-effect reference rate",
    "target reached",
    "part of target",
    "per_unit",
    "proportional",
    "absolute_per_year",
)
WHOLE_CELLS = ("all", "analysed", "participants", "controls", "years", "point", "fixed", "True")


def test_japanese_tables_have_no_english_fixed_labels(runs: dict[tuple[str, str], Any]) -> None:
    for name in ("kobe_evaluation", "screening_evaluation"):
        doc = build_document(runs[name, "ja"])
        for b in doc.tables():
            frame = b.frame  # methods too: rendered in Japanese from their records
            cells = [str(x) for x in frame.to_numpy().ravel()] + [str(c) for c in frame.columns]
            for cell in cells:
                assert cell not in WHOLE_CELLS, (b.id, cell)
                for label in ENGLISH_LABELS:
                    assert label not in cell, (b.id, cell, label)
        text = doc.text()
        # the method is rendered in Japanese: no "original text" label any more
        assert f"{t('method', 'ja')}：" in text
        assert "原文" not in text and "Method:" not in text


def test_english_tables_stay_english(runs: dict[tuple[str, str], Any]) -> None:
    for name in ("kobe_evaluation", "screening_evaluation"):
        run = runs[name, "en"]
        doc = build_document(run)
        unit = run.results()["payment"]["unit"]  # the contract's currency unit (千円)
        for b in doc.tables():
            heads = [str(c).replace(unit, "") for c in b.frame.columns]
            assert not any(CJK.search(c) for c in heads), (b.id, heads)
            if b.id.endswith(("_flow", "_diagnostics", "_estimate")) or b.id.startswith("source_"):
                first = b.frame.iloc[:, 0].astype(str).tolist()
                assert not any(CJK.search(c) for c in first), (b.id, first)
        assert "Method:" in doc.text() and "原文" not in doc.text()


def test_reasons_rendered_from_their_records() -> None:
    """A flow reason is a message record: rendered in the report's language from the
    catalogue, with the column by its vocabulary label; a spec's own reason as written."""
    from pfseval.io.notices import followup_missing
    from pfseval.messages import Message
    from pfseval.report.texts import render

    rec = followup_missing("egfr").to_dict()
    assert render(rec, "ja", min_cell=10) == "追跡時の健診にeGFRの記録なし"
    assert render(rec, "en", min_cell=10).startswith("follow-up record without")
    own = Message.plain(ja="他の市町村", en="another municipality").to_dict()
    assert render(own, "ja", min_cell=10) == "他の市町村"
    assert render(own, "en", min_cell=10) == "another municipality"


# 4. complementary suppression -----------------------------------------------------------------


def test_completion_n_hidden_because_the_rate_reveals_the_small_count() -> None:
    """104 participants, 95 completers: the rate 91.3% is published, so showing 104 (or 95)
    gives the 9 non-completers (104 × 0.913 = 94.95 -> 95)."""
    assert round(104 * round(95 / 104, 3)) == 95 and round(95 / round(95 / 104, 3)) == 104
    led = CountLedger(min_cell=10)
    for k, v in (("n", 104), ("num", 95), ("comp", 9)):
        led.add(k, v)
    led.relate("n", ["num", "comp"])
    for cell in ("n", "num", "comp"):
        led.hide_if([x for x in ("n", "num", "comp") if x != cell], cell)
    led.solve()
    assert [led.show(k) for k in ("n", "num", "comp")] == ["*", "*", "<10"]


def test_complements_are_not_stricter_than_needed() -> None:
    """The Kobe example's structure: the participants (104) are hidden by the rate rule, so
    the 4 unmatched participants need no further complement; matched (100), without
    follow-up (45) and analysed (55) stay published, and nothing hidden can be recomputed."""
    led = CountLedger(min_cell=10)
    cells = {
        "pool": 555, "others": 451, "part": 104, "num": 95, "comp": 9,
        "p_in": 104, "unmatched": 4, "matched": 100, "no_fu": 45, "fu": 55,
        "c_in": 451, "c_unmatched": 216, "c_matched": 235,
    }  # fmt: skip
    for k, v in cells.items():
        led.add(k, v)
    led.relate("pool", ["others", "part"])
    led.relate("part", ["num", "comp"])
    led.relate("pool", ["p_in", "c_in"])
    led.relate("p_in", ["unmatched", "matched"])
    led.relate("matched", ["no_fu", "fu"])
    led.relate("c_in", ["c_unmatched", "c_matched"])
    for cell in ("part", "num", "comp"):
        led.hide_if([x for x in ("part", "num", "comp") if x != cell], cell)
    led.solve()
    shown = {k: led.show(k) for k in cells}
    assert shown["matched"] == "100" and shown["no_fu"] == "45" and shown["fu"] == "55"
    assert shown["unmatched"] == "<10" and shown["p_in"] == "*" and shown["c_in"] == "*"
    # no hidden cell is pinned down by the published ones (exact or through the bounds)
    values = np.array(list(cells.values()), dtype=float)
    mask = np.array([led.hidden(k) for k in cells])
    assert not _pinned(values, led._relations, led._matrix(), mask, 10).any()


def test_kobe_ledger_publishes_matched_counts_and_stays_safe(
    runs: dict[tuple[str, str], Any],
) -> None:
    from pfseval.report.document import _register_counts

    run = runs["kobe_evaluation", "en"]
    doc = build_document(run)
    flow = _table(doc, "suppression_rate_flow").frame
    part = flow[flow["Group"] == group_label("treated", "en")]
    # 104 participants; 1 and 3 unmatched (two reasons), 45 without follow-up, 12 outside
    # the denominator: the small exclusions and the cells that would give them back are
    # hidden; the participants (104) and the denominator (43) are key counts and published
    assert part["Remaining"].tolist() == ["104", "*", "*", "55", "43", "43"]
    assert part["Excluded"].tolist() == ["", "<10", "<10", "*", "12", ""]
    # the whole document's decision: every hidden small count keeps the full range 1..9,
    # except those the contract's published estimates give back (stated in the appendix)
    dec = _register_counts(run, run.results()).led.decision
    assert 0 < len(dec.hidden) < 90
    assert {f.key for f in dec.unsafe} == set(dec.unprotectable)
    for key, f in dec.findings.items():
        if key not in dec.unprotectable:
            assert (f.low, f.high) == (1, 9)
