"""Disclosure control: small cells, complementary suppression, and a planted-data end-to-end check."""

from __future__ import annotations

import re
import zipfile
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from scipy.optimize import linprog

from pfseval.messages import Message
from pfseval.report.disclosure import (
    CountLedger,
    flow_table,
    format_count,
    register_flow,
    render_flow,
    suppress_linked,
)
from pfseval.result import SampleFlow

ROOT = Path(__file__).resolve().parents[1]


def _range_of(i: int, values: np.ndarray, rels: list, hidden: np.ndarray) -> tuple[float, float]:
    """The range a hidden cell can take for a reader who sees the published cells, knows the
    relations and reads ``<10`` as 1..9 and ``*`` as a count of at least 10 (or a zero)."""
    n = values.size
    A = np.zeros((len(rels), n))
    for r, (tot, parts) in enumerate(rels):
        A[r, tot] = 1
        A[r, parts] -= 1

    def bound(j: int) -> tuple[float, float | None]:
        if not hidden[j]:
            return (values[j], values[j])
        if 0 < values[j] < 10:
            return (1, 9)
        return (10 if values[j] >= 10 else 0, None)

    bounds = [bound(j) for j in range(n)]
    c = np.zeros(n)
    c[i] = 1
    lo = linprog(c, A_eq=A, b_eq=np.zeros(len(rels)), bounds=bounds, method="highs")
    hi = linprog(-c, A_eq=A, b_eq=np.zeros(len(rels)), bounds=bounds, method="highs")
    assert lo.status == 0 and hi.status in (0, 3)  # 3: unbounded above
    return lo.fun, (np.inf if hi.status == 3 else -hi.fun)


def _random_flow(rng: np.random.Generator) -> tuple[np.ndarray, list]:
    """A random sample-flow-like system: chains of exclusions, sometimes two groups."""
    values: list[float] = []
    rels: list = []
    groups = rng.integers(1, 3)
    heads = []
    for _ in range(groups):
        n0 = float(rng.integers(0, 300))
        values.append(n0)
        heads.append(len(values) - 1)
        prev, rem = len(values) - 1, n0
        for _ in range(rng.integers(1, 5)):
            ex = float(min(rem, rng.choice([0, 1, 3, 9, 10, 25, 60])))
            rem -= ex
            values += [ex, rem]
            rels.append((prev, [len(values) - 2, len(values) - 1]))
            prev = len(values) - 1
    if groups == 2:
        values.append(values[heads[0]] + values[heads[1]])
        rels.append((len(values) - 1, heads))
    return np.asarray(values), rels


def test_primary_and_complementary_suppression_cannot_be_undone() -> None:
    rng = np.random.default_rng(2024)
    for _ in range(60):
        values, rels = _random_flow(rng)
        hidden = suppress_linked(values, rels, min_cell=10)
        small = (values > 0) & (values < 10)
        assert hidden[small].all()  # every small count is hidden
        for i in np.flatnonzero(hidden):
            lo, hi = _range_of(i, values, rels, hidden)
            # no hidden cell is pinned down by the published ones (tolerance: LP round-off)
            assert hi - lo > 1e-6, (values, rels, hidden, i)


def test_zero_is_published_and_large_counts_stay() -> None:
    hidden = suppress_linked([120, 120, 0], [(0, [1, 2])])
    assert not hidden.any()
    assert format_count(0) == "0" and format_count(10) == "10" and format_count(9) == "<10"
    assert format_count(5, min_cell=5) == "5" and format_count(4, min_cell=5) == "<5"


def _r(text: str) -> Message:
    """A flow reason as the spec's own text."""
    return Message.plain(ja=text, en=text)


def test_flow_table_hand_example() -> None:
    # 105 participants, 4 without follow-up (primary), so 101 must be hidden too;
    # then 0 excluded for consent and the last remaining (101) hidden as the same cell value
    f = SampleFlow.start(105).exclude(_r("no follow-up"), 4).exclude(_r("withdrew consent"), 0)
    t = flow_table(f.to_dict())
    assert t["excluded"].tolist() == ["", "<10", "0", ""]
    assert t["remaining"].tolist() == ["105", "*", "*", "*"]


def test_ledger_links_tables() -> None:
    # two tables share the participants count; a small exclusion in the second table must
    # not be recoverable through the first
    led = CountLedger(min_cell=10)
    pool = SampleFlow.start(323).exclude(_r("not a participant"), 245)
    k1 = register_flow(led, pool.to_dict(), "pool")
    part_key = k1["all"][-1][1]
    design = SampleFlow.start(78).exclude(_r("no data"), 3)
    k2 = register_flow(led, design.to_dict(), "design", input_keys={"all": part_key})
    led.solve()
    t1 = render_flow(led, pool.to_dict(), k1)
    t2 = render_flow(led, design.to_dict(), k2)
    assert t2["excluded"].tolist()[1] == "<10"
    assert t2["remaining"].tolist()[1] == "*"
    # the shared cell (78) is shown identically in both tables
    assert t1["remaining"].tolist()[-1] == t2["remaining"].tolist()[0]


def test_hide_if_and_the_rate_rule() -> None:
    led = CountLedger(min_cell=10)
    for k, v in [("den", 78), ("num", 75), ("comp", 3)]:
        led.add(k, v)
    led.relate("den", ["num", "comp"])
    led.hide_if(["comp"], "den")
    led.solve()
    # comp is small; den is hidden by the rule; then num may stay (two unknowns remain)
    assert (led.show("comp"), led.show("den")) == ("<10", "*")
    # with a published rate (75/78 = 96.2%) any two of the three give the third: the
    # document's publication withholds the rate (a value) rather than the key denominator
    from pfseval.report.disclosure_policy import DisclosurePolicy
    from pfseval.report.document import _Counts, _rate_cells
    from pfseval.report.publication import DocumentPublication

    c = _Counts(DocumentPublication(DisclosurePolicy(min_cell=10)))
    n_key = c.led.add("n", 78)
    c.led.key_count(n_key, "analysed")
    _rate_cells(c, "ind", 75, 78, n_key, shown=True)
    c.led.solve()
    assert [c.led.show(k) for k in ("ind:num", "ind:comp", "n")] == ["*", "<10", "78"]
    assert not c.led.published("ind:rate") and not c.led.decision.unsafe


def test_overlap_density_hides_small_groups() -> None:
    from pfseval.batch.runner import _overlap_density

    d = pd.Series(np.linspace(0.1, 0.9, 40))
    tr = pd.Series([1] * 5 + [0] * 35)
    out = _overlap_density(d, tr, min_cell=10)
    assert out["treated"] is None and out["control"] is not None
    assert len(out["x"]) == len(out["control"])


# ---------------------------------------------------------------- planted data end to end

PLANTED_IDS = [f"ZZPLANT{i:03d}" for i in range(8)]
PLANTED_VALUE = "87.6543"  # one person's eGFR, never to be shown


@pytest.fixture(scope="module")
def published(tmp_path_factory: pytest.TempPathFactory) -> Path:
    from pfseval.batch import load_spec, run_spec, write_outputs
    from pfseval.synthetic import kobe_programme

    d = tmp_path_factory.mktemp("planted")
    df = kobe_programme(seed=11, n_pool=1500, n_participants=120).data.copy()
    part = np.flatnonzero(df["treated"].to_numpy() == 1)
    # planted ids: participants and non-participants
    ids = df["person_id"].astype(str).to_numpy().copy()
    ids[part[:4]] = PLANTED_IDS[:4]
    ids[np.flatnonzero(df["treated"].to_numpy() == 0)[:4]] = PLANTED_IDS[4:]
    df["person_id"] = ids
    # an individual value
    df.loc[df.index[part[0]], "egfr"] = float(PLANTED_VALUE)
    # a small subgroup: exactly 3 non-completers among participants, 2 with no domain data
    df.loc[df.index[part], "completed"] = 1.0
    df.loc[df.index[part[:3]], "completed"] = 0.0
    for dom in ("diet", "exercise", "monitoring", "medication"):
        col = f"lifestyle_{dom}"
        df.loc[df.index[part], col] = 1.0
        df.loc[df.index[part[:3]], col] = np.nan
        df.loc[df.index[part[3:5]], col] = np.nan
        df.loc[df.index[part[5:40]], col] = 0.0
    df.loc[df.index[part], "lifestyle_improved"] = 1.0
    (d / "data").mkdir()
    df.to_csv(d / "data" / "kobe.csv", index=False)
    spec = (ROOT / "examples" / "kobe_evaluation" / "spec.toml").read_text(encoding="utf-8")
    spec = spec.replace(
        "../contracts/kobe.toml", (ROOT / "examples/contracts/kobe.toml").as_posix()
    )
    spec = spec.replace("n_boot = 2000", "n_boot = 200")
    (d / "spec.toml").write_text(spec, encoding="utf-8")
    run = run_spec(load_spec(d / "spec.toml", lang="en"))
    write_outputs(run, d / "out")
    return d / "out"


def _docx_text(p: Path) -> str:
    import docx

    doc = docx.Document(str(p))
    parts = [para.text for para in doc.paragraphs]
    for t in doc.tables:
        parts += [c.text for row in t.rows for c in row.cells]
    return "\n".join(parts)


def _xlsx_sheets(p: Path) -> dict[str, list[list[str]]]:
    from openpyxl import load_workbook

    def shown(c: object) -> str:
        # numbers are numeric cells (issue 10): read them as the format shows them
        if isinstance(c.value, int | float) and "#,##0" in c.number_format:
            decimals = len(c.number_format.partition(".")[2])
            return f"{c.value:,.{decimals}f}"
        return "" if c.value is None else str(c.value)

    wb = load_workbook(p)
    return {ws.title: [[shown(c) for c in row] for row in ws.iter_rows()] for ws in wb.worksheets}


def _published_texts(out: Path) -> dict[str, str]:
    texts = {"html": (out / "appendix.html").read_text(encoding="utf-8")}
    texts["docx"] = _docx_text(out / "appendix.docx")
    with zipfile.ZipFile(out / "appendix.docx") as z:  # also raw XML (headers, properties)
        texts["docx-xml"] = "".join(
            z.read(n).decode("utf-8", "replace") for n in z.namelist() if n.endswith(".xml")
        )
    texts["xlsx"] = "\n".join(
        "\t".join(r) for rows in _xlsx_sheets(out / "tables.xlsx").values() for r in rows
    )
    for svg in (out / "figures").glob("*.svg"):
        texts[svg.name] = svg.read_text(encoding="utf-8")
    return texts


def test_no_person_id_or_individual_value_published(published: Path) -> None:
    texts = _published_texts(published)
    assert len(texts) > 4
    for name, text in texts.items():
        for pid in PLANTED_IDS:
            assert pid not in text, (name, pid)
        assert PLANTED_VALUE not in text and "87.65" not in text, name
    # notices: a count of people under 10 is replaced in every published text, and a value
    # describing individuals (a range) is withheld; the records tell which values those are
    import html as _html
    import json

    from pfseval.report.texts import render

    res = json.loads((published / "results.json").read_text(encoding="utf-8"))
    lang = res["report"]["lang"]
    page = _html.unescape(texts["html"])
    for rec in res["notices"]:
        if any(0 < v < 10 for v in rec["counts"].values()):
            # the exact sentence is not published; the one with the small count replaced is
            # (a count equal to one the tables hide may show as * as well)
            assert rec["text"][lang] not in page, rec
            shown = render(rec, lang, min_cell=10)
            if not any(v >= 10 for v in rec["counts"].values()):
                assert shown in page, shown
    # the figures are aggregates: no scatter of individuals, no histograms
    assert not any(
        p.name.startswith(("hist", "scatter")) for p in (published / "figures").iterdir()
    )


COUNT_HEADERS = {"Excluded", "Remaining", "n analysed"}
COUNT_CELL = re.compile(r"^(<10|\*|0|–|[1-9]\d{0,2}(,\d{3})*)$")


def _count_cells(sheets: dict[str, list[list[str]]]) -> list[str]:
    cells: list[str] = []
    for rows in sheets.values():
        if len(rows) < 2:
            continue
        header = rows[1]
        cols = [j for j, h in enumerate(header) if h in COUNT_HEADERS]
        for r in rows[2:]:
            cells += [r[j] for j in cols if j < len(r) and r[j] != ""]
        if header[:2] == ["Item", "Value"]:  # diagnostics: counts are n_* / numerator rows
            cells += [
                r[1]
                for r in rows[2:]
                if len(r) > 1
                and (r[0].startswith("n_") or r[0] in ("numerator", "denominator"))
                and not re.search(r"[A-Za-z]", r[1])
            ]
    return cells


def test_no_count_under_the_minimum(published: Path) -> None:
    sheets = _xlsx_sheets(published / "tables.xlsx")
    cells = _count_cells(sheets)
    assert len(cells) > 20  # the check looked at real tables
    for c in cells:
        assert COUNT_CELL.match(c), c
        if c[0].isdigit():
            assert int(c.replace(",", "")) == 0 or int(c.replace(",", "")) >= 10, c
    assert "<10" in cells  # the planted small groups were suppressed, not dropped
    # the html shows the same cells as the workbook
    html = (published / "appendix.html").read_text(encoding="utf-8")
    assert html.count("&lt;10") >= cells.count("<10")


# ------------------------------------------------ the policy and person-level data in a spec


def _spec_dir(tmp_path, data_extra: str = "", report: str = "", rows: int = 5):
    import pandas as pd

    pd.DataFrame(
        {"pid": [f"X{i}" for i in range(rows)], "age": [50 + i for i in range(rows)],
         "completed": [1, 0] * (rows // 2) + [1] * (rows % 2)}
    ).to_csv(tmp_path / "p.csv", index=False)  # fmt: skip
    (tmp_path / "s.toml").write_text(
        f'[data.p]\npath = "p.csv"\n{data_extra}\n'
        '[[indicators]]\nid = "r"\ndesign = "proportion.rate"\ndata = "p"\n'
        'options = { outcome = "completed" }\n' + report,
        encoding="utf-8",
    )
    return tmp_path / "s.toml"


def test_person_level_file_without_a_recognised_id_column_is_an_error(tmp_path) -> None:
    # a 5-person cohort whose id column is misnamed used to be read as aggregated counts and
    # printed as 5: now the spec must name the id column or declare the rows aggregated
    from pfseval.batch import load_spec
    from pfseval.errors import SpecError

    with pytest.raises(SpecError, match=r"data\.p\.id_col.*pid.*Fix: .*aggregated = true"):
        load_spec(_spec_dir(tmp_path))
    assert load_spec(_spec_dir(tmp_path, 'id_col = "pid"')).data["p"].id_col == "pid"
    assert load_spec(_spec_dir(tmp_path, "aggregated = true")).data["p"].id_col is None
    with pytest.raises(SpecError, match=r"aggregated.*Fix:"):
        load_spec(_spec_dir(tmp_path, 'aggregated = true\nid_col = "pid"'))


def test_disclosure_policy_from_the_spec(tmp_path) -> None:
    from pfseval.batch import load_spec
    from pfseval.errors import SpecError

    sp = load_spec(_spec_dir(tmp_path, 'id_col = "pid"'))
    assert sp.report.min_cell == 10 and sp.report.disclosure.protection_level == 8
    # the old key keeps working and sets the policy's minimum cell
    sp = load_spec(_spec_dir(tmp_path, 'id_col = "pid"', "[report]\nmin_cell = 5\n"))
    assert sp.report.disclosure.min_cell == 5 and sp.report.disclosure.protection_level == 3
    sp = load_spec(
        _spec_dir(
            tmp_path,
            'id_col = "pid"',
            "[report.disclosure]\nmin_cell = 20\nprotection = 10\n"
            'key_counts = ["analysed"]\nnot_sensitive = ["n_missing"]\n'
            "[report.disclosure.cost]\nkey_count = 1000\n",
        )
    )
    pol = sp.report.disclosure
    assert (sp.report.min_cell, pol.min_cell, pol.protection_level) == (20, 20, 10.0)
    assert pol.key_counts == ("analysed",) and pol.not_sensitive == ("n_missing",)
    assert pol.cost("key_count") == 1000 and pol.cost("count") == 1
    for bad, where in [
        ("protection = 12", "protection"),
        ('key_counts = ["everyone"]', "key_counts"),
        ("publish_estimates = 1", "publish_estimates"),
        ("colour = 1", "disclosure"),
    ]:
        with pytest.raises(SpecError, match=where):
            load_spec(_spec_dir(tmp_path, 'id_col = "pid"', f"[report.disclosure]\n{bad}\n"))
    with pytest.raises(SpecError, match="Fix: give the minimum cell once"):
        load_spec(
            _spec_dir(
                tmp_path,
                'id_col = "pid"',
                "[report]\nmin_cell = 5\n[report.disclosure]\nmin_cell = 7\n",
            )
        )


def test_policy_min_cell_reaches_the_appendix(tmp_path) -> None:
    import warnings

    from pfseval.batch import load_spec, run_spec
    from pfseval.report import build_document

    path = _spec_dir(
        tmp_path, 'id_col = "pid"', '[report]\nlang = "en"\n[report.disclosure]\nmin_cell = 3\n',
        rows=40,
    )  # fmt: skip
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        doc = build_document(run_spec(load_spec(path)))
    text = doc.text()
    assert "Counts from 1 to 2 are shown as <3" in text
    assert "No count in this appendix needed to be hidden." in text
