"""Issue 10, 'Done when': the Japanese appendix shows no English word outside a short,
reviewed allowlist, and the English appendix no Japanese outside quoted names, in the HTML
(visible text, parsed) and in the PDF (pdftotext) of both demo examples."""

from __future__ import annotations

import re
import shutil
import subprocess
import unicodedata
from html.parser import HTMLParser
from pathlib import Path

import pytest

from pfseval.report.i18n import t

#: English (Latin-letter) words a Japanese reader may see, each with why it stays. Every
#: proper name is glossed in Japanese where it is used (e.g. "Wilson スコア法") and in the
#: glossary (用語集).
ALLOWED_IN_JA: dict[str, str] = {
    # proper names of methods
    "Wilson": "Wilson score interval (name of its author; glossed スコア法)",
    "Clopper": "Clopper–Pearson exact interval (authors' names; glossed 正確法)",
    "Pearson": "Clopper–Pearson exact interval (authors' names; glossed 正確法)",
    "Newcombe": "Newcombe's interval for a difference (author's name)",
    "Love": "Love plot (named after Thomas Love; glossed 標準化平均差の図)",
    # standard abbreviations of 特定健診 items and statistics
    "BMI": "body-mass index, the abbreviation used on 特定健診 forms",
    "HbA1c": "glycated haemoglobin, as on 特定健診 forms",
    "eGFR": "estimated glomerular filtration rate, as in the JSN guideline",
    "mg": "unit (mg/dL) of fasting glucose in an exclusion reason",
    "dL": "unit (mg/dL) of fasting glucose in an exclusion reason",
    "SMD": "standardised mean difference (glossed in the glossary and the column header)",
    "OLS": "ordinary least squares (glossed 最小二乗法 in the glossary)",
    "UTC": "the time offset of Japan Standard Time, UTC+09:00",
    "ID": "as in 受診者ID, the usual Japanese term",
    "SHA": "SHA-256, the name of the hash function of the reproducibility checks",
    "A": "付録A, the usual lettering of an annex",
    "E": "E値 (E-value), the name of VanderWeele and Ding's measure",
    "t": "the t interval (t 区間), a standard statistical name",
    "p": "the p value (p 値), a standard statistical name",
}

#: Sections whose file names, hashes and package names are exempt (the issue's exception).
EXEMPT_KEYS = ("repro",)

_LATIN = re.compile(r"[A-Za-z][A-Za-z0-9_]*")
_CJK = re.compile(r"[\u3040-\u30ff\u3400-\u9fff\uff66-\uff9f]+")


class _Visible(HTMLParser):
    """The visible text of an HTML page, without <style>/<script> and without exempt
    sections (``<section data-key="repro">``)."""

    def __init__(self, *, skip: tuple[str, ...] = ()) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self._skip: list[str] = []  # open tags whose content is not shown / exempt
        self._also = skip

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if self._skip:
            if tag == self._skip[-1]:
                self._skip.append(tag)
            return
        if tag in ("style", "script", "title", *self._also) or (
            tag == "section" and dict(attrs).get("data-key") in EXEMPT_KEYS
        ):
            self._skip.append(tag)
        elif tag == "img":
            self.parts.append(dict(attrs).get("alt") or "")

    def handle_endtag(self, tag: str) -> None:
        if self._skip and tag == self._skip[-1]:
            self._skip.pop()

    def handle_data(self, data: str) -> None:
        if not self._skip:
            self.parts.append(data)


def html_visible_text(html: str, *, skip: tuple[str, ...] = ()) -> str:
    p = _Visible(skip=skip)
    p.feed(html)
    return "\n".join(p.parts)


def pdf_text(pdf: Path, lang: str) -> str:
    """pdftotext of the appendix without the reproducibility section (from its heading to
    the next numbered section's heading)."""
    exe = shutil.which("pdftotext")
    if exe is None:
        pytest.skip("pdftotext (poppler-utils, installed by .ci/run) is not available")
    text = subprocess.run(
        [exe, "-enc", "UTF-8", str(pdf), "-"], capture_output=True, text=True, check=True
    ).stdout
    start = text.find(t("repro", lang))
    end = text.find(t("disclosure", lang), start + 1)
    assert 0 <= start < end, "the reproducibility and disclosure sections are in the PDF"
    return text[:start] + text[end:]


def english_words(text: str, also: frozenset[str] = frozenset()) -> set[str]:
    words = _LATIN.findall(unicodedata.normalize("NFKC", text))
    return {w for w in words if w not in ALLOWED_IN_JA and w not in also}


def quoted_names(run: object) -> list[str]:
    """What the spec and contract supply as names (kept as written in any language)."""
    spec = run.spec  # type: ignore[attr-defined]
    names = [spec.title, spec.programme, spec.report.title, spec.report.summary]
    names += [spec.report.period, spec.report.evaluator]
    contract = (spec.contract or {}).get("contract", {})
    names += [contract.get("name"), contract.get("unit")]
    names += [c.get("label") for c in contract.get("fixed", [])]
    names += [c.get("label") for c in contract.get("component", [])]
    return sorted({n for n in names if n}, key=len, reverse=True)


def japanese_outside_names(text: str, names: list[str]) -> set[str]:
    """Runs of Japanese characters that are not part of a quoted name. A PDF's text may
    break a name across lines or table cells, so a run that is a piece of a name counts as
    the name."""
    flat = re.sub(r"\s+", "", text)
    whole = [re.sub(r"\s+", "", name) for name in names]
    for name in whole:
        flat = flat.replace(name, " ")
    return {run for run in _CJK.findall(flat) if not any(run in name for name in whole)}


def _texts(demo_appendices: dict[tuple[str, str], Path], name: str, lang: str) -> dict[str, str]:
    folder = demo_appendices[name, lang]
    return {
        "html": html_visible_text((folder / "appendix.html").read_text(encoding="utf-8")),
        "pdf": pdf_text(folder / "appendix.pdf", lang),
    }


@pytest.mark.parametrize("name", ["kobe_evaluation", "screening_evaluation"])
def test_japanese_appendix_has_no_english_outside_the_allowlist(
    demo_appendices: dict[tuple[str, str], Path], name: str
) -> None:
    # every section counts, the payment audit trail (計算過程) included: it names indicators
    # by their labels, as the rest of the appendix does
    for fmt, text in _texts(demo_appendices, name, "ja").items():
        assert len(text) > 2000, fmt  # the whole appendix, not an empty extraction
        assert english_words(text) == set(), (name, fmt)


@pytest.mark.parametrize("name", ["kobe_evaluation", "screening_evaluation"])
def test_english_appendix_has_no_japanese_outside_quoted_names(
    demo_appendices: dict[tuple[str, str], Path],
    demo_runs: dict[tuple[str, str], object],
    name: str,
) -> None:
    names = quoted_names(demo_runs[name, "en"])
    for fmt, text in _texts(demo_appendices, name, "en").items():
        assert len(text) > 2000, fmt
        assert japanese_outside_names(text, names) == set(), (name, fmt)


def test_the_language_checks_catch_what_they_look_for() -> None:
    """The extractors and checks themselves: hidden text is skipped, words are found."""
    html = (
        "<html><head><style>.x{color:red}</style><title>T</title></head><body>"
        "<p>推定値 completion_rate</p><section data-key='repro'><p>numpy 2.0</p></section>"
        "<img alt='図 age'></body></html>"
    )
    text = html_visible_text(html)
    assert "numpy" not in text and "color" not in text
    assert english_words(text) == {"completion_rate", "age"}
    assert english_words("Wilson スコア法、HbA1c、eGFR") == set()
    assert japanese_outside_names("Programme 神戸市 事業 x", ["神戸市 事業"]) == set()
    assert japanese_outside_names("Group 全体", []) == {"全体"}


# ---------------------------------------------------------------- page screenshots

ROOT = Path(__file__).resolve().parents[1]
CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")


def _pages(pdf: Path, folder: Path, prefix: str) -> list[Path]:
    exe = shutil.which("pdftoppm")
    assert exe is not None
    subprocess.run(
        [exe, "-r", "50", "-png", str(pdf), str(folder / prefix)], check=True, timeout=120
    )
    return sorted(folder.glob(f"{prefix}-*.png"))


@pytest.mark.skipif(
    shutil.which("pdftoppm") is None or CHROMIUM is None,
    reason="pdftoppm and chromium (installed by .ci/run) are needed",
)
def test_every_page_of_both_demo_appendices_as_screenshots(
    demo_appendices: dict[tuple[str, str], Path], tmp_path: Path
) -> None:
    """Every page of both demo appendices, in Japanese and English, as PNGs in
    test-artifacts/appendix-pages/ (git-ignored) for a person to look at: the PDF as
    WeasyPrint lays it out, and the HTML as headless Chromium prints it (A4 print CSS)."""
    import pypdf

    root = ROOT / "test-artifacts" / "appendix-pages"
    for (name, lang), folder in sorted(demo_appendices.items()):
        out = root / f"{name}-{lang}"
        shutil.rmtree(out, ignore_errors=True)
        out.mkdir(parents=True)
        pdf = folder / "appendix.pdf"
        pages = _pages(pdf, out, "pdf-page")
        assert len(pages) == len(pypdf.PdfReader(pdf).pages) >= 5
        printed = tmp_path / f"{name}-{lang}-chromium.pdf"
        subprocess.run(
            [
                str(CHROMIUM),
                "--headless",
                "--no-sandbox",
                "--disable-gpu",
                "--no-first-run",
                "--disable-background-networking",
                "--disable-component-update",
                f"--user-data-dir={tmp_path / 'profile'}",
                "--no-pdf-header-footer",
                f"--print-to-pdf={printed}",
                (folder / "appendix.html").as_uri(),
            ],
            capture_output=True,
            timeout=180,
            check=False,
        )
        assert printed.is_file(), f"chromium printed no PDF for {name} {lang}"
        html_pages = _pages(printed, out, "html-page")
        # the same print CSS in both engines: page counts close (fonts metrics differ a little)
        assert abs(len(html_pages) - len(pages)) <= max(3, len(pages) // 4)
        assert all(p.stat().st_size > 1500 for p in [*pages, *html_pages])  # not blank
