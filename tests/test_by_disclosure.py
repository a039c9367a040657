"""Attacks on the per-group (``by``) results of a published appendix.

One spec plants small groups in a person-level indicator with ``by`` (municipalities of 3 and
9 people, 4 people without a municipality, and a municipality of 40 with 2 completers, whose
rate would give the 2 back) and a municipality of 8 eligible people in a yearly series
evaluated by the historical-baseline design with ``by``. The run is written once and every
published file is read back (HTML text, DOCX XML, XLSX cells, PDF text,
``results_public.json``), as ``tests/test_disclosure_documents.py`` does for whole documents.
"""

from __future__ import annotations

import importlib.util
import json
import re
import warnings
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest

#: municipality → (people, completers)
PEOPLE = {
    "28100": (120, 84),
    "28201": (80, 58),
    "28202": (45, 30),
    "28203": (3, 2),
    "28204": (9, 6),
    "28205": (40, 2),
}
NO_GROUP = 4
SMALL_SERIES = "990999"
SMALL_ELIGIBLE = 8


def _write(d: Path) -> None:
    rows = []
    for g, (n, yes) in PEOPLE.items():
        for i in range(n):
            rows.append({"municipality": g, "completed": int(i < yes)})
    for _ in range(NO_GROUP):
        rows.append({"municipality": None, "completed": 1})
    people = pd.DataFrame(rows)
    people.insert(0, "person_id", [f"PIDBY{i:05d}" for i in range(len(people))])
    people.to_csv(d / "people.csv", index=False)
    from pfseval.synthetic import screening_series

    ser = screening_series(seed=5, n_municipalities=5, years=range(2016, 2023)).data
    small = ser[ser["municipality_code"] == ser["municipality_code"].iloc[0]].copy()
    small["municipality_code"] = SMALL_SERIES
    small["eligible"] = SMALL_ELIGIBLE
    small["screened"] = [2, 3, 2, 2, 3, 2, 4]
    pd.concat([ser, small]).to_csv(d / "series.csv", index=False)
    (d / "spec.toml").write_text(
        """
[evaluation]
title = "by attack"
seed = 11

[data.people]
path = "people.csv"

[data.series]
path = "series.csv"
aggregated = true

[[indicators]]
id = "completion"
design = "proportion.rate"
data = "people"
by = "municipality"
options = { outcome = "completed" }

[[indicators]]
id = "screening"
design = "baseline.compare"
data = "series"
by = "municipality_code"
options = { year = "fiscal_year", numerator = "screened", denominator = "eligible", evaluation_year = 2022, method = "trend" }

[report]
lang = "en"
labels = { municipality = { ja = "市町村", en = "municipality" } }
""",
        encoding="utf-8",
    )


@pytest.fixture(scope="module")
def attacked(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    from pfseval.batch import load_spec, run_spec, write_outputs
    from pfseval.report.document import _register_counts

    d = tmp_path_factory.mktemp("by_attack")
    _write(d)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        run = run_spec(load_spec(d / "spec.toml"))
        write_outputs(run, d / "out")
        led = _register_counts(run, run.results()).led
    return {"out": d / "out", "run": run, "led": led}


def _texts(out: Path) -> dict[str, str]:
    """Every published file's text, read as tests/test_disclosure_documents.py reads it."""
    path = Path(__file__).with_name("test_disclosure_documents.py")
    spec = importlib.util.spec_from_file_location("_disclosure_documents", path)
    assert spec is not None and spec.loader is not None
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    texts: dict[str, str] = mod._published_texts(out)
    return texts


def _public(out: Path) -> dict[str, Any]:
    pub: dict[str, Any] = json.loads((out / "results_public.json").read_text(encoding="utf-8"))
    return pub


def _group_table(out: Path, ind: str) -> dict[str, list[str]]:
    pub = _public(out)
    (tab,) = [
        b
        for s in pub["sections"]
        for b in s["blocks"]
        if b["type"] == "table" and b["id"] == f"{ind}_groups"
    ]
    return {row[0]: row[1:] for row in tab["rows"]}


def test_the_evaluator_keeps_the_true_sizes_the_public_file_does_not(
    attacked: dict[str, Any],
) -> None:
    res = attacked["run"].results()["indicators"]
    records = {r["group"]: r for r in res["completion"]["diagnostics"]["by_group"]}
    assert {g: r["size"] for g, r in records.items()} == {g: n for g, (n, _) in PEOPLE.items()}
    assert res["completion"]["diagnostics"]["by_no_group"] == NO_GROUP
    assert records["28205"]["numerator"] == 2 and records["28205"]["denominator"] == 40
    series = {r["group"]: r for r in res["screening"]["diagnostics"]["by_group"]}
    assert series[SMALL_SERIES]["size"] == SMALL_ELIGIBLE and series[SMALL_SERIES]["suppressed"]
    table = _group_table(attacked["out"], "completion")
    for g in ("28203", "28204"):
        assert table[g] == ["<10", "–", "–", "–"]
    assert table["(no municipality)"][0] == "<10"
    assert _group_table(attacked["out"], "screening")[SMALL_SERIES] == ["<10", "–", "–", "–"]


def test_auditor_finds_no_group_size_narrower_than_allowed(attacked: dict[str, Any]) -> None:
    led = attacked["led"]
    d = led.decision
    assert d.exposed == ()
    assert not [f for f in d.findings.values() if f.width < led.policy.protection_level - 1e-9]
    planted = [
        "ind:completion:by:3:size",
        "ind:completion:by:4:size",
        "ind:completion:by:no_group",
        "ind:screening:by:5:size",
    ]
    for key in planted:
        cell = f"c{led._keys[key]}"
        assert d.hidden[cell] == "primary", key
        f = d.findings[cell]
        assert (f.low, f.high) == (1, 9), key  # the whole range <10 says


def test_a_rate_that_gives_a_small_numerator_back_is_withheld(attacked: dict[str, Any]) -> None:
    # 2 of 40 completers: 5.0% with n = 40 is 2; the value and its interval are withheld, n
    # stays; the auditor above leaves the 2 its whole range
    row = _group_table(attacked["out"], "completion")["28205"]
    assert row == ["40", "*", "*", "*"]
    led = attacked["led"]
    assert led.hidden("ind:completion:by:5:num")
    # a group of 45 with 30 completers (15 did not) is shown with its value
    assert _group_table(attacked["out"], "completion")["28202"][1] == "66.7%"


def test_no_planted_size_or_id_in_any_published_file(attacked: dict[str, Any]) -> None:
    texts = _texts(attacked["out"])
    assert set(texts) >= {"html", "public", "docx", "xlsx", "pdf"}
    for name, text in texts.items():
        assert "PIDBY" not in text, name
    import openpyxl

    wb = openpyxl.load_workbook(attacked["out"] / "tables.xlsx")
    sheets = [ws for ws in wb.worksheets if "municipality" in str(ws["A1"].value)]
    assert len(sheets) == 2  # the two per-group tables
    for ws in sheets:
        cells = [c for row in ws.iter_rows(min_row=3, values_only=True) for c in row[1:2]]
        for planted in (3, 9, NO_GROUP, SMALL_ELIGIBLE):
            assert planted not in cells, (ws.title, planted)
    # the PDF's per-group lines show the groups' sizes as the public file does
    pdf = texts["pdf"]
    for g in ("28203", "28204"):
        line = next(x for x in pdf.splitlines() if x.strip().startswith(g))
        assert re.search(r"<10", line), line


def test_every_format_shows_what_results_public_shows(attacked: dict[str, Any]) -> None:
    import openpyxl

    from pfseval.report.writers import _xlsx_cell

    texts = _texts(attacked["out"])
    wb = openpyxl.load_workbook(attacked["out"] / "tables.xlsx")
    stored = {c for ws in wb.worksheets for row in ws.iter_rows(values_only=True) for c in row}
    for ind in ("completion", "screening"):
        for g, cells in _group_table(attacked["out"], ind).items():
            for x in [g, *cells]:
                assert _xlsx_cell(x)[0] in stored, (ind, x)
                assert x.replace("<", "&lt;") in texts["docx"], (ind, x)
                assert x.replace("<", "&lt;") in texts["html"] or x in texts["html"], (ind, x)
    # numbers are numbers in the workbook: a rate as a proportion, points as points
    sheet = next(
        ws for ws in wb.worksheets if str(ws["A1"].value).endswith("by municipality (completion)")
    )
    values = {str(row[0]): row for row in sheet.iter_rows(min_row=3, values_only=True)}
    assert values["28100"][1] == 120 and values["28100"][2] == pytest.approx(0.7)
    # the figure draws the groups whose value is shown, and no other
    pub = _public(attacked["out"])
    figures = {b["id"] for s in pub["sections"] for b in s["blocks"] if b["type"] == "figure"}
    assert {"completion_groups", "screening_groups"} <= figures


def test_group_values_equal_the_design_on_each_group(attacked: dict[str, Any]) -> None:
    from pfseval.designs.proportion import rate

    res = attacked["run"].results()["indicators"]["completion"]
    people = pd.read_csv(attacked["out"].parent / "people.csv", dtype={"municipality": str})
    for r in res["diagnostics"]["by_group"]:
        if r["suppressed"]:
            continue
        sub = people[people["municipality"] == r["group"]]
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            want = rate(sub, outcome="completed")
        assert r["value"] == pytest.approx(float(np.mean(sub["completed"])), abs=1e-15)
        assert (r["conf_low"], r["conf_high"]) == pytest.approx(
            (want.conf_low, want.conf_high), abs=1e-15
        )
