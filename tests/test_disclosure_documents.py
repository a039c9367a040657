"""Attacks on whole published documents (issue 11's 'Done when').

One spec plants small groups (n = 1, 2, 3, 5, 9) in every person-level design that accepts
them and in cohort filter chains; the run is written once and every published file is read
back: the HTML text, the DOCX XML, the XLSX cells, the SVG figures, the PDF text and
``results_public.json``. The auditor (integer programming over everything the document shows)
must find no hidden count narrower than the decision allows, and no person id or individual
value may appear anywhere. The Kobe example checks the key denominators and that redaction
only ever replaces counts of people.
"""

from __future__ import annotations

import json
import re
import subprocess
import warnings
import zipfile
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest

SMALL = (1, 2, 3, 5, 9)
#: A value only the one person of the n = 1 group has, and the ids' common prefix.
PLANTED = "123.4567"
ID_PREFIX = "PIDATTACK"

#: Design → (options, cohort family, sizes planted). Each size appears in several designs;
#: a design that refuses a size (two pairs at least, a propensity model that separates) is
#: given the others. Filter chains get every size.
DESIGNS: dict[str, tuple[str, str, tuple[int, ...]]] = {
    "proportion.rate": ('outcome = "completed"', "g", (1, 2, 9)),
    "proportion.mean_of_rates": ('outcomes = ["b_before", "b_after"]', "g", (3, 5)),
    "prepost.compare": ('before = "y_before", after = "y_after"', "g", (2, 5)),
    "prepost.paired_proportions": ('before = "b_before", after = "b_after"', "g", (3, 9)),
    "prepost.share_improved": ('before = "y_before", after = "y_after"', "g", (1, 3)),
    "prepost.count_total": ('before = "b_before", after = "b_after"', "g", (2, 9)),
    "rct.compare": ('outcome = "y_after", treatment = "arm"', "trial", (2, 5)),
    "rct.permutation_test": ('outcome = "y_after", treatment = "arm"', "trial", (1, 3)),
    "psm.att": ('outcome = "y_after"', "trial", (5, 9)),
}


def _data(rng: np.random.Generator) -> pd.DataFrame:
    rows: list[dict[str, Any]] = []

    def person(site: str, **kw: Any) -> None:
        i = len(rows) + 1
        row = {
            "person_id": f"{ID_PREFIX}{i:04d}",
            "age": 40 + i % 30,
            "sex": 1 + i % 2,
            "site": site,
            "completed": 1,
            "y_before": round(50 + rng.normal(0, 5), 2),
            "y_after": round(48 + rng.normal(0, 5), 2),
            "b_before": int(rng.random() < 0.5),
            "b_after": int(rng.random() < 0.6),
            "arm": 0,
            "trial": "none",
            "drop": 0,
        }
        row.update(kw)
        rows.append(row)

    for k in SMALL:
        for _ in range(k):
            person(f"s{k}", **({"y_after": float(PLANTED)} if k == 1 else {}))
    for k in SMALL:  # a trial cohort: k treated among 40 controls
        for _ in range(k):
            person("big", trial=f"t{k}", arm=1)
        for _ in range(40):
            person("big", trial=f"t{k}")
    for i in range(300):
        person("big", completed=int(i % 5 != 0))
    df = pd.DataFrame(rows)
    big = df.index[df["site"] == "big"]
    start = 0
    for k in SMALL:  # the middle filter of chain k drops k people
        df.loc[big[start : start + k], "drop"] = k
        start += k
    return df


def _spec() -> str:
    reason = 'reason = {{ ja = "{0}", en = "{0}" }}'
    out = ['[evaluation]\ntitle = "attack"\nseed = 1\n\n[data.people]\npath = "people.csv"\n']
    for k in SMALL:
        out.append(
            f'[cohorts.g{k}]\nfrom = "people"\nwhere = [{{ column = "site", op = "==", '
            f'value = "s{k}", {reason.format("other site")} }}]\n'
            f'[cohorts.trial{k}]\nfrom = "people"\nwhere = [{{ column = "trial", op = "==", '
            f'value = "t{k}", {reason.format("other trial")} }}]\n'
            f'[cohorts.chain{k}]\nfrom = "people"\nwhere = ['
            f'{{ column = "age", op = ">=", value = 20, {reason.format("young")} }}, '
            f'{{ column = "drop", op = "!=", value = {k}, {reason.format(f"drop {k}")} }}, '
            f'{{ column = "age", op = "<", value = 66, {reason.format("older")} }}]\n'
            f'[[indicators]]\nid = "chain{k}"\ndesign = "proportion.rate"\n'
            f'data = "chain{k}"\noptions = {{ outcome = "completed" }}\n'
        )
    for design, (opts, family, sizes) in DESIGNS.items():
        for k in sizes:
            match = (
                'match = { treatment = "arm", covariates = ["age", "sex"] }\n'
                if design.startswith("psm")
                else ""
            )
            out.append(
                f'[[indicators]]\nid = "{design.replace(".", "_")}_{family}{k}"\n'
                f'design = "{design}"\ndata = "{family}{k}"\noptions = {{ {opts} }}\n{match}'
            )
    out.append('[report]\nlang = "en"\n')
    return "\n".join(out)


@pytest.fixture(scope="module")
def attacked(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    from pfseval.batch import load_spec, run_spec, write_outputs
    from pfseval.report.document import _register_counts

    d = tmp_path_factory.mktemp("attack")
    _data(np.random.default_rng(7)).to_csv(d / "people.csv", index=False)
    (d / "spec.toml").write_text(_spec(), encoding="utf-8")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        run = run_spec(load_spec(d / "spec.toml"))
    write_outputs(run, d / "out")
    led = _register_counts(run, run.results()).led
    return {"out": d / "out", "run": run, "led": led}


def _published_texts(out: Path) -> dict[str, str]:
    """Every published file's text as a reader (or a script) would extract it."""
    import openpyxl

    texts = {
        "html": re.sub(r"<[^>]+>", " ", (out / "appendix.html").read_text(encoding="utf-8")),
        "public": (out / "results_public.json").read_text(encoding="utf-8"),
    }
    with zipfile.ZipFile(out / "appendix.docx") as z:
        texts["docx"] = " ".join(
            z.read(n).decode("utf-8") for n in z.namelist() if n.endswith(".xml")
        )
    wb = openpyxl.load_workbook(out / "tables.xlsx")
    texts["xlsx"] = " ".join(
        str(c) for ws in wb.worksheets for row in ws.iter_rows(values_only=True) for c in row
    )
    texts["svg"] = " ".join(
        p.read_text(encoding="utf-8") for p in sorted((out / "figures").glob("*.svg"))
    )
    pdf = subprocess.run(
        ["pdftotext", "-layout", str(out / "appendix.pdf"), "-"],
        capture_output=True,
        text=True,
        check=False,
    )
    if pdf.returncode == 0:
        texts["pdf"] = pdf.stdout
    else:  # without poppler: the PDF's own text layer
        from pypdf import PdfReader

        texts["pdf"] = " ".join(p.extract_text() for p in PdfReader(out / "appendix.pdf").pages)
    return texts


def test_auditor_finds_no_hidden_count_narrower_than_allowed(attacked: dict[str, Any]) -> None:
    d = attacked["led"].decision
    assert len(d.findings) >= 100  # the planted small counts, in every table they reach
    assert d.exposed == ()
    # nothing in this spec is given back exactly; what cannot reach the whole range 1..9 is
    # a part of another small count (a domain's n split in two), kept as wide as it can be
    for f in d.unsafe:
        assert f.key in d.unprotectable and d.best[f.key] >= 1 and f.width >= d.best[f.key]
    assert not [f for f in d.findings.values() if f.width < 1]


def test_no_person_id_or_individual_value_in_any_published_file(
    attacked: dict[str, Any],
) -> None:
    texts = _published_texts(attacked["out"])
    assert set(texts) == {"html", "public", "docx", "xlsx", "svg", "pdf"}
    for name, text in texts.items():
        assert ID_PREFIX not in text, name
        for shown in (PLANTED, "123.457", "123.46"):
            assert shown not in text, (name, shown)


def test_every_format_shows_what_results_public_shows(attacked: dict[str, Any]) -> None:
    texts = _published_texts(attacked["out"])
    pub = json.loads(texts["public"])
    cells = {
        x
        for s in pub["sections"]
        for b in s["blocks"]
        if b["type"] == "table"
        for row in b["rows"]
        for x in row
        if x
    }
    # every table cell of results_public.json is in the workbook (stored as the writer
    # stores it: a shown number as that number) and in the Word file; the decision, taken
    # once, is what every format shows
    import openpyxl

    from pfseval.report.writers import _xlsx_cell

    wb = openpyxl.load_workbook(attacked["out"] / "tables.xlsx")
    stored = {c for ws in wb.worksheets for row in ws.iter_rows(values_only=True) for c in row}
    for x in cells:
        assert _xlsx_cell(x)[0] in stored, x
        assert x.replace("&", "&amp;").replace("<", "&lt;") in texts["docx"], x
    assert "<10" in cells and "*" in cells


def test_small_groups_publish_no_estimate_interval_or_figure(attacked: dict[str, Any]) -> None:
    pub = json.loads((attacked["out"] / "results_public.json").read_text(encoding="utf-8"))
    tables = {b["id"]: b for s in pub["sections"] for b in s["blocks"] if b["type"] == "table"}
    figures = {b["id"] for s in pub["sections"] for b in s["blocks"] if b["type"] == "figure"}
    res = attacked["run"].results()["indicators"]
    small = [i for i, d in res.items() if i.endswith(("g1", "g2", "g3", "g5", "g9"))]
    assert len(small) >= 10
    for ind in small:
        rows = dict(map(tuple, tables[f"{ind}_estimate"]["rows"]))
        assert rows["Value"] == "*" and rows["95% Confidence interval"] == "*", ind
        assert rows["n analysed"] == "<10"
        assert not any(f.startswith(ind) for f in figures)
        diag = tables.get(f"{ind}_diagnostics")
        for _, v in diag["rows"] if diag else []:
            # counts are <10 / 0 / *; no statistic (df, shares, ...) of the small group
            assert v in ("<10", "*", "0", "Yes", "No") or not re.fullmatch(r"-?[\d.,]+", v), (
                ind,
                v,
            )
    # the trials with a small treated arm: no estimate either
    for k in DESIGNS["rct.compare"][2]:
        rows = dict(map(tuple, tables[f"rct_compare_trial{k}_estimate"]["rows"]))
        assert rows["Value"] == "*" and rows["95% Confidence interval"] == "*"


def test_filter_chain_hides_the_planted_exclusion_and_its_complement(
    attacked: dict[str, Any],
) -> None:
    led = attacked["led"]
    d = led.decision
    flows = attacked["run"].results()["sample_flow"]["cohorts"]
    for k in SMALL:
        steps = flows[f"chain{k}"]["steps"]
        j = next(i for i, st in enumerate(steps, 1) if st["reason"]["text"]["en"] == f"drop {k}")
        key = f"c{led._keys[f'coh:chain{k}:all:ex{j}']}"
        assert led.value(f"coh:chain{k}:all:ex{j}") == k
        assert d.hidden[key] == "primary"
        f = d.findings[key]
        assert (f.low, f.high) == (1, 9), k


def test_disclosure_paragraph_says_what_was_withheld(attacked: dict[str, Any]) -> None:
    from pfseval.report.document import disclosure_paragraph

    led = attacked["led"]
    s = led.summary()
    en = disclosure_paragraph(led, "en")
    ja = disclosure_paragraph(led, "ja")
    assert f"In this appendix {s['primary']} counts are shown as <10" in en
    assert f"{s['small_group']} estimates, intervals or figures are not shown" in en
    assert f"{s['primary']} 件の集計値を「<10」とし" in ja
    assert "\n" not in en and "\n" not in ja  # one paragraph


# ------------------------------------------------------------------ the Kobe example


def test_kobe_shows_participants_matched_and_denominator(
    kobe_appendix: tuple[Path, Any],
) -> None:
    out, run = kobe_appendix
    res = run.results()["indicators"]["suppression_rate"]
    pub = json.loads((out / "results_public.json").read_text(encoding="utf-8"))
    tables = {b["id"]: b for s in pub["sections"] for b in s["blocks"] if b["type"] == "table"}
    flow = tables["suppression_rate_flow"]["rows"]
    participants = str(res["sample_flow"]["n_input"]["treated"])
    assert flow[0][-1] == participants  # the treated input of the design's flow
    diag = dict(map(tuple, tables["suppression_rate_diagnostics"]["rows"]))
    matched = res["diagnostics"]["n_participants_matched"]
    est = dict(map(tuple, tables["suppression_rate_estimate"]["rows"]))
    paragraph = next(
        b["text"]
        for s in pub["sections"]
        for b in s["blocks"]
        if b["type"] == "paragraph" and "公表" in s["title"]
    )
    shown = [v for v in diag.values() if v == f"{matched:,}"]
    assert shown or "マッチングされた参加者数" in paragraph  # shown, or said why not
    assert est["分析対象数"] == f"{res['n']:,}"


def test_kobe_redaction_replaces_only_counts_of_people(kobe_appendix: tuple[Path, Any]) -> None:
    from pfseval.messages import Message
    from pfseval.report.texts import variable_labels

    out, run = kobe_appendix
    pub = json.loads((out / "results_public.json").read_text(encoding="utf-8"))
    tables = {b["id"]: b for s in pub["sections"] for b in s["blocks"] if b["type"] == "table"}
    spec = dict(map(tuple, tables["suppression_rate_matching"]["rows"]))
    assert spec["比率（対照：参加者）"] == "3:1"  # the matching ratio is never redacted
    bullets = [
        x for s in pub["sections"] for b in s["blocks"] if b["type"] == "list" for x in b["items"]
    ]
    records = run.results()["indicators"]["suppression_rate"]["notices"]
    assert records
    for rec in records:
        msg = Message.from_dict(rec)
        # the sentence with a marker where each count of people goes: the published bullet
        # must be exactly that sentence with a count (shown, <10 or *) at each marker, so
        # nothing else in it (ratios, thresholds, years, names) was touched
        marked = msg.text(
            "ja",
            labels=variable_labels("ja"),
            counts=dict.fromkeys(msg.counts, "\x00"),
            public=True,
        )
        pattern = re.escape(marked).replace(re.escape("\x00"), "(?:<10|\\*|[\\d,]+)")
        assert any(re.fullmatch(pattern, b) for b in bullets), marked
    years = run.spec.report.period
    assert not years or years in json.dumps(pub, ensure_ascii=False)
