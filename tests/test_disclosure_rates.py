"""Disclosure of counts through printed rates: no rate, CI bound or indicator value in the
published appendix (HTML, DOCX, XLSX, audit trail included) is printed with more digits
than the estimate tables use, so that no printed rate pins down a hidden count.

The attack checked: a rate printed as ``v`` with ``d`` decimals says the true value lies in
``[v − ½·10⁻ᵈ, v + ½·10⁻ᵈ]``; an attacker who knows it is a share of at most 2,000 people
lists every fraction k/n (n ≤ 2000) in that interval. When only one reduced fraction is left,
the count is revealed (the audit found 0.913461538462 = 95/104 in the demo's audit trail).
The contract used here has no ``value_decimals``, so the appendix's own limit is tested,
independently of the contract.
"""

from __future__ import annotations

import dataclasses
import html
import math
import re
from fractions import Fraction
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parents[1]
N_MAX = 2000


def consistent_fractions(text: str, *, n_max: int = N_MAX, stop: int = 5) -> set[Fraction]:
    """Reduced fractions k/n (n ≤ n_max) that print as the decimal ``text`` (at most
    ``stop + 1`` are listed: the question is only whether one is left)."""
    dec = len(text.split(".")[1]) if "." in text else 0
    v, h = float(text), 0.5 * 10.0**-dec
    out: set[Fraction] = set()
    for n in range(1, n_max + 1):
        lo, hi = math.ceil((v - h) * n - 1e-9), math.floor((v + h) * n + 1e-9)
        for k in range(max(lo, 0), min(hi, n) + 1):
            out.add(Fraction(k, n))
            if len(out) > stop:
                return out
    return out


@pytest.fixture(scope="module")
def published(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Any]:
    from pfseval.batch import load_spec, run_spec, write_outputs
    from pfseval.synthetic import kobe_programme

    d = tmp_path_factory.mktemp("rates")
    (d / "data").mkdir()
    kobe_programme(seed=5, n_pool=1200, n_participants=104).data.to_csv(
        d / "data" / "kobe.csv", index=False
    )
    contract = (ROOT / "examples/contracts/kobe.toml").read_text(encoding="utf-8")
    contract = re.sub(r"(?m)^value_decimals = 3\n", "", contract)
    assert "value_decimals" not in contract.replace("# ", "").split("[contract]")[1]
    (d / "contract.toml").write_text(contract, encoding="utf-8")
    spec = (ROOT / "examples/kobe_evaluation/spec.toml").read_text(encoding="utf-8")
    spec = spec.replace("../contracts/kobe.toml", "contract.toml")
    spec = spec.replace("n_boot = 2000", "n_boot = 200")
    (d / "spec.toml").write_text(spec, encoding="utf-8")
    run = run_spec(load_spec(d / "spec.toml"))
    write_outputs(run, d / "out")
    return d / "out", run


def _visible_html(text: str) -> str:
    for tag in ("style", "svg", "script"):
        text = re.sub(rf"<{tag}.*?</{tag}>", " ", text, flags=re.S)
    text = re.sub(r"<img[^>]*>", " ", text)
    return html.unescape(re.sub(r"<[^>]+>", "\n", text))


def _texts(out: Path) -> dict[str, str]:
    import docx
    from openpyxl import load_workbook

    doc = docx.Document(str(out / "appendix.docx"))
    parts = [p.text for p in doc.paragraphs]
    for t in doc.tables:
        parts += [c.text for row in t.rows for c in row.cells]
    wb = load_workbook(out / "tables.xlsx")
    cells = [str(v) for ws in wb.worksheets for row in ws.iter_rows(values_only=True) for v in row]
    return {
        "html": _visible_html((out / "appendix.html").read_text(encoding="utf-8")),
        "docx": "\n".join(parts),
        "xlsx": "\n".join(cells),
    }


# a decimal number not part of a longer token (hashes, versions such as 3.12.1, dates)
_DECIMAL = re.compile(r"(?<![\w.:-])(\d{1,3}(?:,\d{3})*\.\d+)(?![\w.]|:\d)")
_PERCENT = re.compile(r"(?<![\w.])(\d+(?:\.\d+)?)\s?%")


def test_no_printed_rate_has_more_digits_than_the_tables(published: tuple[Path, Any]) -> None:
    out, run = published
    texts = _texts(out)
    seen = 0
    for name, text in texts.items():
        # the audit trail is in every output (the xlsx has no free text, only tables)
        if name != "xlsx":
            assert "[3]" in text and "≈" in text, name
        for m in _PERCENT.finditer(text):
            seen += 1
            dec = m.group(1).split(".")[1] if "." in m.group(1) else ""
            assert len(dec) <= 1, (name, m.group(0))  # the tables: 72.1%
        for m in _DECIMAL.finditer(text):
            v = float(m.group(1).replace(",", ""))
            if 0 <= v <= 1:  # rates, shares, CI bounds, indicator values written as fractions
                seen += 1
                assert len(m.group(1).split(".")[1]) <= 3, (name, m.group(0))
    assert seen > 30  # the check looked at real numbers
    # and the unrounded values of the run are nowhere, to any precision beyond 3 decimals
    for ind, est in run.estimates.items():
        for x in (est.value, est.conf_low, est.conf_high):
            for d in range(4, 13):
                s = f"{x:.{d}f}"
                for name, text in texts.items():
                    assert s not in text, (ind, name, s)


def test_no_printed_rate_pins_down_a_count(published: tuple[Path, Any]) -> None:
    out, run = published
    fractions: dict[str, Fraction] = {}
    for ind, est in run.estimates.items():
        diag = est.diagnostics
        for num, den in (("n_numerator", "n_denominator"), ("n_suppressed", "n_denominator")):
            if isinstance(diag.get(num), int | float) and isinstance(diag.get(den), int | float):
                fractions[ind] = Fraction(int(diag[num]), int(diag[den]))
    assert {"completion_rate", "suppression_rate"} <= set(fractions)
    texts = _texts(out)
    tokens = {m.group(1) for t in texts.values() for m in _DECIMAL.finditer(t)}
    rates = [tok for tok in tokens if 0 < float(tok.replace(",", "")) < 1]
    assert len(rates) > 10
    for tok in rates:
        cands = consistent_fractions(tok.replace(",", ""))
        assert len(cands) > 1, (tok, cands)
    # percentages: 72.1% is 0.721 with 3 decimals
    for t in texts.values():
        for m in _PERCENT.finditer(t):
            p = m.group(1)
            dec = len(p.split(".")[1]) if "." in p else 0
            frac = f"{float(p) / 100:.{dec + 2}f}"
            if 0 < float(frac) < 1:
                assert len(consistent_fractions(frac)) > 1, m.group(0)


def test_demo_fraction_cannot_be_recovered_from_the_published_trail(
    published: tuple[Path, Any],
) -> None:
    """The demo's leak, replayed: completion 95/104 under a contract with no precision."""
    from pfseval.payment import Contract
    from pfseval.report.document import Preformatted, build_document

    out, run = published
    contract = Contract.from_toml(out.parent / "contract.toml")
    assert contract.value_decimals is None
    values = {
        "completion_rate": 95 / 104,
        "lifestyle_improvement_rate": 0.8158,
        "suppression_rate": 31 / 43,
    }
    # the internal (full-precision) trail leaks: the check below does detect it
    full = contract.evaluate(values).audit_trail(lang="ja")
    assert "0.913461538462" in full
    assert consistent_fractions("0.913461538462") == {Fraction(95, 104)}
    leaked = dataclasses.replace(run, payment=contract.evaluate(values))
    doc = build_document(leaked)
    trail = next(
        b.text
        for s in doc.sections
        for b in s.blocks
        if isinstance(b, Preformatted) and "プログラム修了率" in b.text
    )
    line = next(x for x in trail.splitlines() if "プログラム修了率" in x)
    assert "completion_rate" not in trail  # readers know indicators by their labels
    # ≈0.913 ÷ 0.8 = ≈1.14 → 上限 1 → × 5,240 = 5,240 → 切り捨て 5,240千円
    assert "≈0.913 ÷ 0.8 = ≈1.14" in line
    for tok in re.findall(r"\d[\d,]*\.\d+", trail):
        v = float(tok.replace(",", ""))
        assert not (95 / 104 - 5e-5 < v < 95 / 104 + 5e-5 and len(tok.split(".")[1]) > 3), tok
        if 0 < v < 1:
            assert (
                Fraction(95, 104) not in consistent_fractions(tok)
                or len(consistent_fractions(tok)) > 1
            )
    # the ratio shown (≈1.14, so x ∈ [1.135, 1.145] × 0.8) leaves many fractions too
    assert len(consistent_fractions(f"{1.14 * 0.8:.3f}")) > 1
    # the suppression line: ≈0.721 → ≈0.901 → ≈7,080, never 7,083.14 or 0.72093
    sup = next(x for x in trail.splitlines() if "腎機能低下抑制率" in x)
    assert "≈0.721 ÷ 0.8 = ≈0.901 → × 7,860 = ≈7,080" in sup
    assert "7,083.1" not in trail and "0.7209" not in trail
