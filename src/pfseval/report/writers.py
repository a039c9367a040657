"""Render a :class:`~pfseval.report.document.Document` as HTML, DOCX, XLSX and figure files.

The writers only render; they write exactly the path they are given.
"""

from __future__ import annotations

import base64
import re
import struct
import zipfile
from pathlib import Path
from typing import Any

import jinja2

from pfseval.report.document import (
    LONG_TABLE_ROWS,
    Bullets,
    Document,
    FigureBlock,
    Paragraph,
    Preformatted,
    TableBlock,
)
from pfseval.report.fonts import FONT_FAMILY, font_face_css
from pfseval.report.i18n import t

__all__ = ["write_docx", "write_figures", "write_html", "write_pdf", "write_xlsx"]

#: A cell that is a number (right-aligned): counts, rates, hidden counts, and differences of
#: rates with their unit word (2.3ポイント, 2.3 points)
_NUM = re.compile(r"^[<*\-–]?[\d,.\s%*<–-]*$|^-?[\d,.]*\d(?:ポイント| points)$")


#: Characters XML 1.0 (DOCX, XLSX) cannot hold; shown as U+FFFD instead of crashing a writer.
_XML_BAD = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")


def _xml_text(text: str) -> str:
    """``text`` without characters XML cannot hold (a spec check rejects them earlier).

    Examples
    --------
    >>> _xml_text("a\x07b")
    'a�b'
    """
    return _XML_BAD.sub("\ufffd", text)


def _png_size(png: bytes) -> tuple[int, int]:
    w, h = struct.unpack(">II", png[16:24])
    return int(w), int(h)


def _cells(b: TableBlock) -> tuple[list[str], list[list[str]]]:
    """A table's column names and rows, every cell as text (the same in every output)."""
    # astype(str) can leave missing values as NaN: str() each cell as well
    rows = [[str(c) for c in r] for r in b.frame.astype(str).to_numpy().tolist()]
    return [str(c) for c in b.frame.columns], rows


def _numbered(doc: Document) -> tuple[dict[str, str], dict[str, str]]:
    """Captions with table and figure numbers (表1 / Table 1, 図1 / Figure 1)."""
    sep = "" if doc.lang == "ja" else " "
    tabs = {
        b.id: f"{t('table', doc.lang)}{sep}{i}. {b.title}" for i, b in enumerate(doc.tables(), 1)
    }
    figs = {
        b.id: f"{t('fig', doc.lang)}{sep}{i}. {b.title}" for i, b in enumerate(doc.figures(), 1)
    }
    return tabs, figs


def html_text(doc: Document) -> str:
    """The self-contained HTML appendix as a string (font subset and figures embedded)."""
    from pfseval import __version__

    tabs, figs = _numbered(doc)
    sections = []
    for s in doc.sections:
        blocks: list[dict[str, Any]] = []
        for b in s.blocks:
            if isinstance(b, Paragraph):
                blocks.append({"kind": "p", "text": b.text})
            elif isinstance(b, Preformatted):
                blocks.append({"kind": "pre", "text": b.text})
            elif isinstance(b, Bullets):
                blocks.append({"kind": "ul", "entries": b.items})
            elif isinstance(b, TableBlock):
                columns, cells = _cells(b)
                rows = [[(c, bool(_NUM.match(c)) and c != "") for c in r] for r in cells]
                blocks.append(
                    {
                        "kind": "table",
                        "id": b.id,
                        "caption": tabs[b.id],
                        "columns": columns,
                        "rows": rows,
                        "note": b.note,
                    }
                )
            elif isinstance(b, FigureBlock):
                w, h = _png_size(b.png)
                blocks.append(
                    {
                        "kind": "figure",
                        "id": b.id,
                        "caption": figs[b.id],
                        "data": base64.b64encode(b.png).decode("ascii"),
                        "width": round(w * 96 / 150),
                        "height": round(h * 96 / 150),
                    }
                )
        sections.append({"title": s.title, "level": s.level, "blocks": blocks, "key": s.key})
    env = jinja2.Environment(
        loader=jinja2.PackageLoader("pfseval.report", "templates"),
        autoescape=True,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    tpl = env.get_template("appendix.html.j2")
    visible = doc.text() + "".join(tabs.values()) + "".join(figs.values())
    view = {"lang": doc.lang, "title": doc.title, "meta": doc.meta, "sections": sections}
    return tpl.render(
        doc=view,
        font_css=font_face_css(visible),
        version=__version__,
        long_table=LONG_TABLE_ROWS,
    )


def write_html(doc: Document, path: str | Path) -> Path:
    """Write the self-contained HTML appendix (A4 print CSS, embedded font and figures)."""
    p = Path(path)
    p.write_text(html_text(doc), encoding="utf-8")
    return p


def write_pdf(doc: Document, path: str | Path) -> Path:
    """Write the appendix as an A4 PDF, rendered from the same HTML by WeasyPrint.

    WeasyPrint is pip-installable, lays out the HTML's print CSS (A4, page breaks) and embeds
    the subset of the IPAex font the HTML carries, so the PDF shows Japanese on any reader.
    It needs the system Pango library (``.ci/run`` installs it on Debian).

    Parameters
    ----------
    doc
        The appendix.
    path
        The PDF file to write.

    Returns
    -------
    Path
        ``path``.
    """
    import hashlib

    from weasyprint import HTML

    html = html_text(doc)
    # a content-derived identifier instead of a random one: same appendix, same /ID
    ident = hashlib.sha256(html.encode("utf-8")).hexdigest()[:32].encode("ascii")
    p = Path(path)
    HTML(string=html).write_pdf(str(p), pdf_identifier=ident)
    return p


def write_docx(doc: Document, path: str | Path) -> Path:
    """Write the appendix as an editable Word document with the same content as the HTML."""
    import io

    import docx
    from docx.enum.section import WD_ORIENT
    from docx.enum.text import WD_ALIGN_PARAGRAPH
    from docx.shared import Mm, Pt

    tabs, figs = _numbered(doc)
    d = docx.Document()
    sec = d.sections[0]
    sec.orientation = WD_ORIENT.PORTRAIT
    sec.page_width, sec.page_height = Mm(210), Mm(297)
    for side in ("left_margin", "right_margin", "top_margin", "bottom_margin"):
        setattr(sec, side, Mm(18))
    d.styles["Normal"].font.size = Pt(10)
    for name in ("Normal", "Title", "Heading 1", "Heading 2", "Heading 3", "List Bullet"):
        _japanese_font(d.styles[name])
    d.core_properties.title = _xml_text(doc.title)
    d.core_properties.author = "pfseval"
    x = _xml_text
    d.add_heading(x(doc.title), level=0)
    for k, v in doc.meta:
        para = d.add_paragraph()
        para.add_run(x(f"{k}: ")).bold = True
        para.add_run(x(v))
    for s in doc.sections:
        d.add_heading(x(s.title), level=min(s.level - 1, 3))
        for b in s.blocks:
            if isinstance(b, Paragraph):
                d.add_paragraph(x(b.text))
            elif isinstance(b, Preformatted):
                for line in b.text.splitlines():
                    para = d.add_paragraph()
                    run = para.add_run(x(line))
                    run.font.size = Pt(8.5)
                    para.paragraph_format.space_after = Pt(0)
            elif isinstance(b, Bullets):
                for item in b.items:
                    d.add_paragraph(x(item), style="List Bullet")
            elif isinstance(b, TableBlock):
                cap = d.add_paragraph()
                cap.add_run(x(tabs[b.id])).bold = True
                columns, rows = _cells(b)
                table = d.add_table(rows=1, cols=len(columns))
                table.style = "Table Grid"
                table.autofit = False
                for cell, name in zip(table.rows[0].cells, columns, strict=True):
                    cell.text = x(name)
                    for r in cell.paragraphs[0].runs:
                        r.bold = True
                        r.font.size = Pt(8)
                _repeat_header(table.rows[0])
                for row in rows:
                    for cell, val in zip(table.add_row().cells, row, strict=True):
                        cell.text = x(val)
                        if val and _NUM.match(val):  # numbers right-aligned, as in the HTML
                            cell.paragraphs[0].alignment = WD_ALIGN_PARAGRAPH.RIGHT
                        for r in cell.paragraphs[0].runs:
                            r.font.size = Pt(8)
                _column_widths(table, columns, rows, total_mm=174)
                if b.note:
                    d.add_paragraph(x(b.note))
            elif isinstance(b, FigureBlock):
                d.add_picture(io.BytesIO(b.png), width=Mm(160))
                cap = d.add_paragraph()
                cap.add_run(x(figs[b.id])).bold = True
    p = Path(path)
    d.save(str(p))
    _fix_zip_times(p)
    return p


def _japanese_font(style: Any) -> None:
    """A style's fonts: IPAex Gothic for Latin and East-Asian text (``w:eastAsia`` is what
    Word uses for Japanese). ``w:hint="eastAsia"`` marks the runs as East-Asian, so where
    IPAex is not installed Word and LibreOffice substitute a Japanese font (Yu Gothic, MS
    Gothic, Noto Sans CJK) rather than a Latin one that has no kana or kanji."""
    from docx.oxml.ns import qn

    style.font.name = FONT_FAMILY
    rpr = style.element.get_or_add_rPr()
    rfonts = rpr.find(qn("w:rFonts"))
    if rfonts is None:
        rfonts = rpr.makeelement(qn("w:rFonts"), {})
        rpr.append(rfonts)
    for attr in ("w:ascii", "w:hAnsi", "w:eastAsia", "w:cs"):
        rfonts.set(qn(attr), FONT_FAMILY)
    rfonts.set(qn("w:hint"), "eastAsia")


def _text_width(text: str) -> int:
    """Width of a cell's longest line in half-width columns (a Japanese character is two)."""
    import unicodedata

    lines = text.splitlines() or [""]
    return max(
        sum(2 if unicodedata.east_asian_width(ch) in ("W", "F") else 1 for ch in line)
        for line in lines
    )


def _column_widths(
    table: Any, columns: list[str], rows: list[list[str]], *, total_mm: float
) -> None:
    """Column widths by content: each column as wide as its longest cell (capped, so a long
    text wraps instead of squeezing the numbers), scaled to the page's text width."""
    from docx.shared import Mm

    want = []
    for j, name in enumerate(columns):
        cells = [name, *(r[j] for r in rows)]
        want.append(min(max(_text_width(c) for c in cells), 60) + 2)
    scale = total_mm / sum(want) if sum(want) * 1.6 > total_mm else 1.6  # ~1.6 mm a column
    for j, w in enumerate(want):
        width = Mm(max(10.0, w * scale))
        for row in table.rows:
            row.cells[j].width = width


def _repeat_header(row: Any) -> None:
    """Mark a DOCX table's first row as a header repeated on every page it spans."""
    from docx.oxml.ns import qn

    trpr = row._tr.get_or_add_trPr()
    el = trpr.makeelement(qn("w:tblHeader"), {qn("w:val"): "true"})
    trpr.append(el)


def _sheet_name(title: str, used: set[str]) -> str:
    """A unique sheet name of at most 31 characters (Excel's limit), without ``[]:*?/\\``."""
    base = re.sub(r"[\[\]:*?/\\]", " ", title).strip().strip("'")[:31] or "table"
    name, k = base, 2
    while name.lower() in used:
        suffix = f"~{k}"
        name = f"{base[: 31 - len(suffix)]}{suffix}"
        k += 1
    used.add(name.lower())
    return name


_XL_INT = re.compile(r"^-?(?:\d{1,3}(?:,\d{3})+|\d{1,15})$")
_XL_DEC = re.compile(r"^-?(?:\d{1,3}(?:,\d{3})+|\d{1,15})\.(\d{1,12})$")
_XL_PCT = re.compile(r"^-?\d{1,15}(?:\.(\d{1,12}))?%$")
_XL_SCI = re.compile(r"^-?\d\.(\d{1,12})e[+-]\d{1,3}$")
#: a difference of rates in percentage points ("2.3ポイント", "2.3 points")
_XL_PTS = re.compile(r"^(-?\d{1,15}(?:\.(\d{1,12}))?)(ポイント| points)$")
#: an estimated number of people rounded for prose ("約287人", "about 287 people")
_XL_ABOUT = re.compile(r"^(約|about )(-?(?:\d{1,3}(?:,\d{3})+|\d{1,15}))(人| people)$")


def _xlsx_cell(text: str) -> tuple[str | int | float, str | None]:
    """The value a spreadsheet cell stores for a displayed table cell, and its number format.

    A cell that shows a number becomes that number, formatted as the appendix shows it
    (percent, thousands separators, decimals), so it can be recalculated; anything else
    (intervals, suppressed cells, ratios, names) stays text.

    Examples
    --------
    >>> _xlsx_cell("13,463"), _xlsx_cell("91.3%"), _xlsx_cell("-0.243")
    ((13463, '#,##0'), (0.913, '0.0%'), (-0.243, '0.000'))
    >>> _xlsx_cell("2.3ポイント")
    (2.3, '0.0"ポイント"')
    >>> _xlsx_cell("約1,287人")
    (1287, '"約"#,##0"人"')
    >>> _xlsx_cell("<10"), _xlsx_cell("[84.4%, 95.4%]")
    (('<10', None), ('[84.4%, 95.4%]', None))
    >>> _xlsx_cell("01100"), _xlsx_cell("0.5")  # a code keeps its leading zero
    (('01100', None), (0.5, '0.0'))
    """
    plain = text.replace(",", "")
    if re.match(r"^-?0\d", text):
        return text, None  # a code with a leading zero (01100, a municipality): text
    if _XL_INT.match(text):
        return int(plain), "#,##0" if "," in text else "0"
    if m := _XL_DEC.match(text):
        return float(plain), ("#,##0." if "," in text else "0.") + "0" * len(m.group(1))
    if m := _XL_PCT.match(text):
        digits = len(m.group(1) or "")
        # the stored value is the proportion; rounding removes the float noise of /100
        return round(float(plain[:-1]) / 100, digits + 2), "0" + (
            "." + "0" * digits if digits else ""
        ) + "%"
    if m := _XL_PTS.match(text):
        # stored as the number of points, the word kept by the format
        digits = len(m.group(2) or "")
        fmt = "0" + ("." + "0" * digits if digits else "")
        return float(m.group(1)), f'{fmt}"{m.group(3)}"'
    if m := _XL_ABOUT.match(text):
        # the rounded number, its words kept by the format (the exact value is in the
        # detailed table's cell)
        return int(m.group(2).replace(",", "")), f'"{m.group(1)}"#,##0"{m.group(3)}"'
    if m := _XL_SCI.match(text):
        return float(text), "0." + "0" * len(m.group(1)) + "E+00"
    return text, None


def _xlsx_row(ws: Any, values: list[str]) -> None:
    """Append a row: numbers as numeric cells with formats, every other cell as text.

    openpyxl turns a string starting with ``=`` into a formula; text cells are given the
    string type explicitly so no spreadsheet evaluates them.
    """
    cells = [_xlsx_cell(v) for v in values]
    ws.append([v for v, _ in cells])
    for cell, (v, fmt) in zip(ws[ws.max_row], cells, strict=False):
        if fmt is not None:
            cell.number_format = fmt
        elif isinstance(v, str):
            cell.data_type = "s"


def _text_cells(ws: Any, values: list[str]) -> None:
    """Append a row of text cells (captions, headers, notes): never numbers or formulas."""
    ws.append([_xml_text(v) if isinstance(v, str) else v for v in values])
    for cell in ws[ws.max_row]:
        if isinstance(cell.value, str):
            cell.data_type = "s"


def write_xlsx(doc: Document, path: str | Path) -> Path:
    """Write every table of the appendix to its own sheet, after a sheet explaining them.

    Sheets are named by table number and title (at most 31 characters); displayed numbers
    are numeric cells with number formats; text cells are stored as text, never formulas.
    """
    from openpyxl import Workbook
    from openpyxl.styles import Alignment, Font

    tabs, _ = _numbered(doc)
    wb = Workbook()
    index = wb.active
    assert index is not None
    index.title = "contents" if doc.lang == "en" else "目次"
    _text_cells(index, [doc.title])
    index["A1"].font = Font(bold=True)
    _text_cells(index, [t("xlsx_about", doc.lang)])
    index["A2"].alignment = Alignment(wrap_text=True, vertical="top")
    index.merge_cells("A2:B2")
    index.row_dimensions[2].height = 75
    _text_cells(index, [t("table", doc.lang), t("sheet", doc.lang)])
    for cell in index[3]:
        cell.font = Font(bold=True)
    used: set[str] = {index.title.lower()}
    sep = "" if doc.lang == "ja" else " "
    for i, b in enumerate(doc.tables(), 1):
        name = _sheet_name(f"{t('table', doc.lang)}{sep}{i} {b.title}", used)
        ws = wb.create_sheet(name)
        _text_cells(ws, [tabs[b.id]])
        ws["A1"].font = Font(bold=True)
        columns, rows = _cells(b)
        _text_cells(ws, columns)
        for cell in ws[2]:
            cell.font = Font(bold=True)
        for row in rows:
            _xlsx_row(ws, row)
        if b.note:
            ws.append([])
            _text_cells(ws, [b.note])
        for col in ws.columns:
            letter = col[0].column_letter
            width = max(len(str(c.value or "")) for c in col[1:]) if len(col) > 1 else 10
            ws.column_dimensions[letter].width = min(60, max(8, width + 2))
        ws.freeze_panes = "A3"
        _text_cells(index, [tabs[b.id], name])
    index.column_dimensions["A"].width = 70
    index.column_dimensions["B"].width = 34
    wb.properties.creator = "pfseval"
    p = Path(path)
    wb.save(str(p))
    return p


def write_figures(doc: Document, folder: str | Path) -> dict[str, Path]:
    """Write every figure as ``<id>.png`` and ``<id>.svg``; return name → path."""
    f = Path(folder)
    f.mkdir(parents=True, exist_ok=True)
    out: dict[str, Path] = {}
    for b in doc.figures():
        (f / f"{b.id}.png").write_bytes(b.png)
        (f / f"{b.id}.svg").write_bytes(b.svg)
        out[f"figure:{b.id}.png"] = f / f"{b.id}.png"
        out[f"figure:{b.id}.svg"] = f / f"{b.id}.svg"
    return out


def _fix_zip_times(p: Path) -> None:
    """Rewrite a zip (DOCX) with fixed member timestamps so reruns give identical bytes."""
    with zipfile.ZipFile(p) as z:
        items = [(i, z.read(i.filename)) for i in z.infolist()]
    with zipfile.ZipFile(p, "w", zipfile.ZIP_DEFLATED) as z:
        for info, data in items:
            zi = zipfile.ZipInfo(info.filename, date_time=(1980, 1, 1, 0, 0, 0))
            zi.compress_type = zipfile.ZIP_DEFLATED
            z.writestr(zi, data)
