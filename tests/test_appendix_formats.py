"""The appendix as a publishable PDF and a recalculable spreadsheet (issue 10), read back."""

from __future__ import annotations

from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def example(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, object]:
    """The Kobe-style example spec on a small synthetic pool (bootstrap shortened)."""
    from pfseval.batch import load_spec, run_spec, write_outputs
    from pfseval.synthetic import kobe_programme

    d = tmp_path_factory.mktemp("formats")
    (d / "data").mkdir()
    kobe_programme(seed=3, n_pool=1200, n_participants=110).data.to_csv(
        d / "data" / "kobe.csv", index=False
    )
    spec = (ROOT / "examples" / "kobe_evaluation" / "spec.toml").read_text(encoding="utf-8")
    spec = spec.replace(
        "../contracts/kobe.toml", (ROOT / "examples/contracts/kobe.toml").as_posix()
    )
    spec = spec.replace("n_boot = 2000", "n_boot = 200")
    (d / "spec.toml").write_text(spec, encoding="utf-8")
    run = run_spec(load_spec(d / "spec.toml"))
    write_outputs(run, d / "out")
    return d / "out", run


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
