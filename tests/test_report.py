"""Appendix outputs of the Kobe-style example: HTML, DOCX and XLSX read back, figures, fonts."""

from __future__ import annotations

import base64
import re
from pathlib import Path

import pandas as pd
import pytest

from pfseval.report.document import fmt_value
from pfseval.report.fonts import font_path, subset_font

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def example(kobe_appendix: tuple[Path, object]) -> tuple[Path, object]:
    """The example spec on a small synthetic candidate pool (``conftest.kobe_appendix``)."""
    return kobe_appendix


def test_all_outputs_present(example: tuple[Path, object]) -> None:
    out, _ = example
    for name in ("results.json", "appendix.html", "appendix.docx", "tables.xlsx"):
        assert (out / name).stat().st_size > 1000
    pngs = sorted(p.stem for p in (out / "figures").glob("*.png"))
    svgs = sorted(p.stem for p in (out / "figures").glob("*.svg"))
    assert pngs == svgs
    # diagnostics for matching: Love plot and overlap; plus estimates and payment
    assert {"estimates", "payment", "suppression_rate_love", "suppression_rate_overlap"} <= set(
        pngs
    )


def test_html_is_self_contained(example: tuple[Path, object]) -> None:
    out, _ = example
    html = (out / "appendix.html").read_text(encoding="utf-8")
    # no external resources: every image is a data URI, no scripts, no links
    srcs = re.findall(r'src="([^"]+)"', html)
    assert srcs and all(s.startswith("data:image/png;base64,") for s in srcs)
    assert "<script" not in html and "<link" not in html and "http://" not in html
    assert "@page { size: A4" in html and "@media print" in html
    # the embedded font is a WOFF subset of IPAex with the characters used
    m = re.search(r"data:font/woff;base64,([A-Za-z0-9+/=]+)", html)
    assert m is not None
    font = base64.b64decode(m.group(1))
    assert font[:4] == b"wOFF"
    from io import BytesIO

    from fontTools.ttLib import TTFont

    cmap = TTFont(BytesIO(font)).getBestCmap()
    for ch in "腎機能低下抑制率支払":
        assert ord(ch) in cmap
    assert len(font) < font_path().stat().st_size / 5  # a subset, not the whole font


def test_docx_reads_back_with_same_tables(example: tuple[Path, object]) -> None:
    import docx

    out, run = example
    d = docx.Document(str(out / "appendix.docx"))
    text = "\n".join(p.text for p in d.paragraphs)
    assert "腎機能低下抑制率" in text and "支払額の計算" in text
    assert len(d.tables) == _n_tables(out)
    assert len(d.inline_shapes) == len(list((out / "figures").glob("*.png")))
    # the audit trail of the payment engine is reproduced line by line
    for line in run.payment.audit_trail(lang="ja").splitlines()[:3]:
        assert line in text


def _n_tables(out: Path) -> int:
    from openpyxl import load_workbook

    return len(load_workbook(out / "tables.xlsx").sheetnames) - 1  # minus contents


def test_xlsx_one_sheet_per_table_and_values(example: tuple[Path, object]) -> None:
    from openpyxl import load_workbook

    out, run = example
    wb = load_workbook(out / "tables.xlsx")
    assert wb.sheetnames[0] == "目次"
    contents = [r for r in wb["目次"].iter_rows(min_row=4, values_only=True)]
    assert [r[1] for r in contents] == wb.sheetnames[1:]
    glance = wb[wb.sheetnames[1]]
    rows = list(glance.iter_rows(values_only=True))
    header = list(rows[1])
    table = pd.DataFrame(rows[2:], columns=header)
    by_label = table.set_index("指標")["推定値"].to_dict()
    for ind in run.spec.indicators:
        est = run.estimates[ind.id]
        # numeric cells: the value shown in the appendix ("91.3%") as a proportion
        assert f"{by_label[ind.label_in('ja')]:.1%}" == fmt_value(est.value, est.estimand)
    # the payment table's total equals the engine's total
    pay = wb[next(n for n in wb.sheetnames if "支払額" in n)]
    last = list(pay.iter_rows(values_only=True))[-1]
    assert last[0] == "支払総額" and last[-1] == round(run.payment.total)


def test_english_appendix(tmp_path: Path, example: tuple[Path, object]) -> None:
    from dataclasses import replace

    from pfseval.report import build_document

    _, run = example
    run_en = replace(run, spec=replace(run.spec, report=replace(run.spec.report, lang="en")))
    doc = build_document(run_en)
    text = doc.text()
    assert "Payment calculation" in text and "Sample flow" in text
    assert "no-effect reference" in text.lower()


def test_font_subset_and_values() -> None:
    assert subset_font("評価")[:4] == b"wOFF"
    # formatting: rates in percent, others to 3 decimals
    assert fmt_value(1.0, "proportion") == "100.0%"
    assert fmt_value(0.3294, "suppression_rate") == "32.9%"
    assert fmt_value(2.5, "ATT") == "2.5"
    assert fmt_value(float("nan")) == "–"


def test_private_tables_only_in_the_private_folder(
    tmp_path: Path, example: tuple[Path, object]
) -> None:
    from pfseval.batch import write_outputs

    out, run = example
    priv = tmp_path / "private"
    write_outputs(run, tmp_path / "public", private_out=priv)
    per_person = pd.read_csv(priv / "suppression_rate__per_person.csv")
    assert len(per_person) > 0
    ids = [str(x) for x in pd.read_csv(out.parent / "data" / "kobe.csv")["person_id"]]
    published = (tmp_path / "public" / "appendix.html").read_text(encoding="utf-8")
    assert not any(i in published for i in ids[:200])
    assert sorted(p.name for p in (tmp_path / "public").iterdir()) == [
        ".pfseval-output",
        "appendix.docx",
        "appendix.html",
        "appendix.pdf",
        "figures",
        "results.json",
        "results_public.json",
        "tables.xlsx",
    ]


def test_example_results_match_the_python_api(example: tuple[Path, object]) -> None:
    """Done-when: the example's indicator values and payment in results.json are what the
    Python API gives for the same data (same functions, options and seeds: exact equality)."""
    import json

    from pfseval import psm
    from pfseval.designs.proportion import mean_of_rates, rate
    from pfseval.io import read_checkups
    from pfseval.payment import Contract

    out, run = example
    res = json.loads((out / "results.json").read_text(encoding="utf-8"))
    kobe = read_checkups(out.parent / "data" / "kobe.csv", required=("person_id",))
    part = kobe[kobe["treated"] == 1]
    comp = part[part["completed"] == 1]
    spec = {i.id: i for i in run.spec.indicators}
    sup = spec["suppression_rate"]
    matched = psm.match(kobe, **sup.match, seed=sup.seed)
    life = spec["lifestyle_improvement_rate"].options
    api = {
        "completion_rate": rate(part, outcome="completed"),
        "lifestyle_improvement_rate": mean_of_rates(
            comp, **life, seed=spec["lifestyle_improvement_rate"].seed
        ),
        "suppression_rate": psm.suppression_rate(matched, **sup.options, seed=sup.seed),
    }
    for iid, est in api.items():
        got = res["indicators"][iid]
        assert [got["value"], got["conf_low"], got["conf_high"], got["n"]] == [
            est.value,
            est.conf_low,
            est.conf_high,
            est.n,
        ], iid
    ref = res["indicators"]["suppression_rate"]["related"]["reference_rate"]
    assert ref["value"] == api["suppression_rate"].related["reference_rate"].value
    pay = Contract.from_toml(ROOT / "examples" / "contracts" / "kobe.toml").evaluate(api)
    assert res["payment"]["total"] == pay.total
    assert [c["amount_rounded"] for c in res["payment"]["components"]] == list(
        pay.breakdown["amount_rounded"]
    )
