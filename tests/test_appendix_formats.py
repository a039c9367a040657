"""The appendix as a publishable PDF and a recalculable spreadsheet (issue 10), read back."""

from __future__ import annotations

from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def example(kobe_appendix: tuple[Path, object]) -> tuple[Path, object]:
    """The Kobe-style example spec on a small synthetic pool (``conftest.kobe_appendix``)."""
    return kobe_appendix


def _pdf_fonts(reader: object) -> set[tuple[str, bool]]:
    """(base font name, embedded?) of every font used on any page."""
    found: set[tuple[str, bool]] = set()
    for page in reader.pages:  # type: ignore[attr-defined]
        for font in page["/Resources"].get("/Font", {}).values():
            f = font.get_object()
            desc = f["/DescendantFonts"][0].get_object() if "/DescendantFonts" in f else f
            fd = desc["/FontDescriptor"].get_object()
            embedded = any(k in fd for k in ("/FontFile", "/FontFile2", "/FontFile3"))
            found.add((str(f["/BaseFont"]), embedded))
    return found


def test_pdf_reads_back_in_japanese_with_the_font_embedded(
    example: tuple[Path, object],
) -> None:
    import pypdf

    out, run = example
    reader = pypdf.PdfReader(out / "appendix.pdf")
    # an A4 appendix of several pages (14 for this example): a broken layout gives 1 or 100s
    assert 5 <= len(reader.pages) <= 40
    box = reader.pages[0].mediabox
    assert abs(float(box.width) - 595.3) < 1 and abs(float(box.height) - 841.9) < 1  # A4 pt
    text = "".join(p.extract_text() for p in reader.pages)
    assert run.spec.title in text  # type: ignore[attr-defined]
    for ind in run.spec.indicators:  # type: ignore[attr-defined]
        assert ind.label_in("ja") in text
    assert "支払" in text
    fonts = _pdf_fonts(reader)
    # every font is embedded, and the Japanese text is set in (a subset of) IPAex Gothic
    assert fonts and all(emb for _, emb in fonts)
    assert any(name.split("+")[-1].startswith("IPAexGothic") for name, _ in fonts)


def test_xlsx_numbers_are_numeric_with_formats_and_no_formulas(
    example: tuple[Path, object],
) -> None:
    from openpyxl import load_workbook

    out, run = example
    wb = load_workbook(out / "tables.xlsx")
    first = wb.worksheets[0]
    assert first.title == "目次"
    assert "数値は数値として保存" in str(first["A2"].value)  # the sheet explaining the others
    listed = [r[1] for r in first.iter_rows(min_row=4, values_only=True)]
    assert listed == wb.sheetnames[1:]
    formats: set[str] = set()
    for ws in wb.worksheets:
        assert len(ws.title) <= 31
        for row in ws.iter_rows():
            for cell in row:
                assert cell.data_type != "f", (ws.title, cell.coordinate, cell.value)
                if isinstance(cell.value, int | float):
                    formats.add(cell.number_format)
    assert {"0.0%", "#,##0"} <= formats
    # Japanese sheet names: the table number and title, e.g. "表1 成果指標の一覧"
    assert all(n.startswith("表") for n in wb.sheetnames[1:])
    # the headline estimates are numbers equal to the engine's values to the shown digits
    rows = list(wb.worksheets[1].iter_rows(values_only=True))
    col = rows[1].index("推定値")
    table = {r[0]: r[col] for r in rows[2:]}
    for ind in run.spec.indicators:  # type: ignore[attr-defined]
        est = run.estimates[ind.id]  # type: ignore[attr-defined]
        assert isinstance(table[ind.label_in("ja")], float)
        assert abs(table[ind.label_in("ja")] - est.value) <= 0.0005 + 1e-12  # shown as 0.0%
    # the payment total is a number equal to the engine's total (to the yen shown)
    pay = next(ws for ws in wb.worksheets if "支払額" in ws.title)
    last = list(pay.iter_rows(values_only=True))[-1]
    assert last[0] == "支払総額" and last[-1] == round(run.payment.total)  # type: ignore[attr-defined]


def test_xlsx_text_that_looks_like_a_formula_stays_text(tmp_path: Path) -> None:
    import pandas as pd
    from openpyxl import load_workbook

    from pfseval.report.document import Document, Section, TableBlock
    from pfseval.report.writers import write_xlsx

    frame = pd.DataFrame({"名前": ["=1+2", "@SUM(A1)"], "人数": ["1,234", "<10"]})
    doc = Document(
        title="式の確認",
        lang="ja",
        meta=(),
        sections=(Section("表", 2, (TableBlock("t", "式に見える文字列", frame),)),),
    )
    wb = load_workbook(write_xlsx(doc, tmp_path / "t.xlsx"))
    ws = wb.worksheets[1]
    assert ws.title == "表1 式に見える文字列"
    assert [c.value for c in ws[3]] == ["=1+2", 1234] and ws["A3"].data_type == "s"
    assert ws["B4"].value == "<10" and ws["B4"].data_type == "s"


def test_pdf_pages_as_screenshots(example: tuple[Path, object]) -> None:
    """Every page of the PDF as a low-resolution PNG in test-artifacts/ (git-ignored), to look at."""
    import shutil
    import subprocess

    import pypdf

    out, _ = example
    exe = shutil.which("pdftoppm")
    if exe is None:
        pytest.skip("pdftoppm (poppler-utils, installed by .ci/run) is not available")
    folder = ROOT / "test-artifacts" / "appendix-kobe-ja"
    shutil.rmtree(folder, ignore_errors=True)
    folder.mkdir(parents=True)
    subprocess.run(
        [exe, "-r", "40", "-png", str(out / "appendix.pdf"), str(folder / "page")],
        check=True,
        timeout=120,
    )
    pages = sorted(folder.glob("page-*.png"))
    assert len(pages) == len(pypdf.PdfReader(out / "appendix.pdf").pages)
    assert all(p.stat().st_size > 1000 for p in pages)  # not blank


def test_docx_tables_have_a_repeated_header_and_right_aligned_numbers(tmp_path: Path) -> None:
    import docx
    import pandas as pd
    from docx.enum.text import WD_ALIGN_PARAGRAPH

    from pfseval.report.document import Document, Section, TableBlock
    from pfseval.report.writers import write_docx

    frame = pd.DataFrame({"群": ["介入群", "対照群"], "人数": ["1,234", "56.7%"]})
    doc = Document(
        title="表の確認",
        lang="ja",
        meta=(),
        sections=(Section("表", 2, (TableBlock("t", "人数", frame),)),),
    )
    table = docx.Document(str(write_docx(doc, tmp_path / "t.docx"))).tables[0]
    assert 'w:tblHeader w:val="true"' in table.rows[0]._tr.xml
    for row in table.rows[1:]:
        assert row.cells[0].paragraphs[0].alignment is None  # text stays left
        assert row.cells[1].paragraphs[0].alignment == WD_ALIGN_PARAGRAPH.RIGHT


def test_docx_columns_sized_by_content_and_japanese_font(tmp_path: Path) -> None:
    import docx
    import pandas as pd
    from docx.oxml.ns import qn

    from pfseval.report.document import Document, Section, TableBlock
    from pfseval.report.writers import write_docx

    frame = pd.DataFrame(
        {
            "段階": ["除外: 糖尿病の所見なし（HbA1c 6.5%以上、空腹時血糖 126 mg/dL以上）"],
            "残数": ["555"],
        }
    )
    doc = Document(
        title="表の確認",
        lang="ja",
        meta=(),
        sections=(Section("表", 2, (TableBlock("t", "流れ", frame),)),),
    )
    d = docx.Document(str(write_docx(doc, tmp_path / "t.docx")))
    row = d.tables[0].rows[1]
    # the long text column is wider than the count column (not equal widths)
    assert row.cells[0].width > 2 * row.cells[1].width
    # Japanese text in IPAex Gothic (w:eastAsia) in body text and headings
    for name in ("Normal", "Heading 1"):
        rfonts = d.styles[name].element.rPr.find(qn("w:rFonts"))
        assert rfonts.get(qn("w:eastAsia")) == "IPAexGothic"


@pytest.mark.parametrize("lang", ["ja", "en"])
def test_xlsx_rounded_people_are_numbers(
    demo_runs: dict[tuple[str, str], object], tmp_path: Path, lang: str
) -> None:
    """The summary's "約287人" is the number 287 with the words in its format, so a
    spreadsheet can add it up; the detailed table keeps the decimals."""
    from openpyxl import load_workbook

    from pfseval.report import build_document
    from pfseval.report.writers import write_xlsx

    run = demo_runs["screening_evaluation", lang]
    est = run.estimates["additional_screened"]  # type: ignore[attr-defined]
    wb = load_workbook(write_xlsx(build_document(run), tmp_path / "t.xlsx"))  # type: ignore[arg-type]
    rows = list(wb.worksheets[1].iter_rows())
    cell = next(
        r[2] for r in rows if isinstance(r[2].value, int) and r[2].value == round(est.value)
    )
    assert cell.number_format == ('"約"#,##0"人"' if lang == "ja" else '"about "#,##0" people"')
    detailed = [
        c.value
        for ws in wb.worksheets[2:]
        for r in ws.iter_rows()
        for c in r
        if isinstance(c.value, float) and abs(c.value - est.value) < 0.001
    ]
    assert detailed  # 287.343 as a number, in the estimate table
