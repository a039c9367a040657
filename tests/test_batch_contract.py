"""Batch runs and appendices consume the design contract only.

A toy design registered here (its own DesignSpec, messages and diagnostics) runs from a spec
and gets ``results.json`` and an appendix without any change to ``pfseval.batch`` or
``pfseval.report``; options it does not declare are refused at load time; notices, methods and
flow reasons reach ``results.json`` as records and the appendix in the report's language, with
only counts of people suppressed.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from pfseval.batch import SCHEMA_VERSION, load_spec, run_spec, write_outputs
from pfseval.designs.contract import (
    COMMON_OPTIONS,
    DesignSpec,
    Diagnostic,
    Option,
    declare_diagnostics,
    register,
    unregister,
    validated,
)
from pfseval.errors import DesignError, SmallSampleWarning, SpecError
from pfseval.messages import Message, Notice, declare_messages
from pfseval.result import Estimate, SampleFlow, emit_warnings, provenance

declare_messages(
    {
        "toy.method": {
            "en": "share of {outcome!v} = 1 (toy design, {decimals} decimals)",
            "ja": "{outcome!v}が1の人の割合（テスト用の設計、小数{decimals}桁）",
        },
        "toy.few_positive": {
            "en": "only {n_positive} people have {outcome!v} = 1 (ratio {ratio})",
            "ja": "{outcome!v}が1の人は{n_positive}人だけです（比 {ratio}）",
        },
        "toy.flow.missing": {"en": "{outcome!v} missing", "ja": "{outcome!v}が欠測"},
    },
    replace=True,
)
declare_diagnostics(
    Diagnostic("toy_positive", "people", {"ja": "該当者数（テスト）", "en": "Positives (toy)"}),
    Diagnostic("toy_ratio", "setting", {"ja": "比（テスト）", "en": "Ratio (toy)"}),
    Diagnostic(
        "toy_df",
        "statistic",
        {"ja": "自由度（テスト）", "en": "Degrees of freedom (toy)"},
        derived_from=("toy_positive",),
        relation="toy_positive - 1",
    ),
)

TOY = DesignSpec(
    name="toy.share",
    function=f"{__name__}:toy_share",
    input="data",
    options=(
        COMMON_OPTIONS["outcome"],
        COMMON_OPTIONS["level"],
        COMMON_OPTIONS["label"],
        Option("ratio", "int", low=1, high=10, label={"ja": "比", "en": "ratio"}),
    ),
    title={"ja": "テスト用の割合", "en": "Toy share"},
    description={"ja": "該当者の割合を数えます。", "en": "Counts the share of positives."},
    assumptions={"ja": "テスト用です。", "en": "For tests only."},
    diagnostics=("toy_positive", "toy_ratio", "toy_df"),
)


@validated("toy.share")
def toy_share(
    data: pd.DataFrame, *, outcome: str, level: float = 0.95, label: str = "", ratio: int = 3
) -> Estimate:
    """A toy design: the share of ``outcome == 1`` with a normal-approximation interval."""
    y = pd.to_numeric(data[outcome], errors="coerce")
    flow = SampleFlow.start(len(y)).exclude(
        Message("toy.flow.missing", params={"outcome": outcome}), int(y.isna().sum())
    )
    y = y.dropna()
    p, n = float(y.mean()), len(y)
    se = float(np.sqrt(p * (1 - p) / n))
    notices: tuple[Notice, ...] = ()
    n_pos = int(y.sum())
    if n_pos < 30:
        notices = (
            Notice(
                "toy.few_positive",
                counts={"n_positive": n_pos},
                params={"outcome": outcome, "ratio": ratio},
                category=SmallSampleWarning,
            ),
        )
    emit_warnings(notices)
    return Estimate(
        estimand="share",
        value=p,
        conf_low=p - 1.96 * se,
        conf_high=p + 1.96 * se,
        level=level,
        method=Message("toy.method", params={"outcome": outcome, "decimals": 3}),
        n=n,
        diagnostics={"toy_positive": n_pos, "toy_ratio": ratio, "toy_df": n_pos - 1},
        notices=notices,
        sample_flow=flow,
        provenance=provenance(data=data),
        label=label,
    )


@pytest.fixture()
def toy() -> Iterator[DesignSpec]:
    register(TOY)
    yield TOY
    unregister(TOY.name)


def _spec(tmp_path: Path, options: str = 'outcome = "sbp_high"', lang: str = "ja") -> Path:
    y = [1] * 7 + [0] * 53 + [None] * 4  # 7 positives: a small count of people
    rows = "".join(f"p{i},{'' if v is None else v}\n" for i, v in enumerate(y))
    (tmp_path / "people.csv").write_text("person_id,sbp_high\n" + rows, encoding="utf-8")
    spec = tmp_path / "spec.toml"
    spec.write_text(
        f"""
[data.people]
path = "people.csv"
[[indicators]]
id = "toy"
design = "toy.share"
data = "people"
options = {{ {options} }}
[report]
lang = "{lang}"
""",
        encoding="utf-8",
    )
    return spec


def test_toy_design_gets_results_json_and_appendix(toy: DesignSpec, tmp_path: Path) -> None:
    spec = load_spec(_spec(tmp_path, 'outcome = "sbp_high", ratio = 3'))
    with pytest.warns(SmallSampleWarning):
        run = run_spec(spec)
    out = write_outputs(run, tmp_path / "out")
    res = json.loads(out["results"].read_text(encoding="utf-8"))
    assert res["schema_version"] == SCHEMA_VERSION == "2.1"
    ind = res["indicators"]["toy"]
    assert ind["value"] == pytest.approx(7 / 60)
    # method, notices and flow reasons are records, rendered in both languages
    assert ind["method"]["code"] == "toy.method" and ind["method"]["params"]["decimals"] == 3
    (notice,) = ind["notices"]
    assert notice["code"] == "toy.few_positive"
    assert notice["counts"] == {"n_positive": 7} and notice["params"]["ratio"] == 3
    assert notice["category"] == "SmallSampleWarning"
    assert set(notice["text"]) == {"ja", "en"}
    assert [n["code"] for n in res["notices"]] == ["toy.few_positive"]
    (step,) = ind["sample_flow"]["steps"]
    assert step["reason"]["code"] == "toy.flow.missing" and step["n_excluded"] == 4
    # the design's declared diagnostics, with their kind and labels
    assert res["diagnostics"]["toy_positive"]["kind"] == "people"
    assert res["diagnostics"]["toy_ratio"]["label"]["ja"] == "比（テスト）"
    assert res["designs"]["toy.share"]["title"]["ja"] == "テスト用の割合"
    # the appendix: the design's own words in Japanese, the count of people suppressed, the
    # ratio (a parameter) shown as it is
    html = out["html"].read_text(encoding="utf-8")
    assert "テスト用の割合" in html and "該当者の割合を数えます。" in html
    assert "人だけです（比 3）" in html
    assert "&lt;10人だけです" in html
    assert "7人" not in html
    assert "該当者数（テスト）" in html


def test_undeclared_option_is_refused_at_load_time(toy: DesignSpec, tmp_path: Path) -> None:
    with pytest.raises(SpecError) as err:
        load_spec(_spec(tmp_path, 'outcome = "sbp_high", ratios = 3'))
    assert err.value.key_path == "indicators[0].options.ratios"
    assert "ratio" in str(err.value)  # the message lists the options it has


def test_option_value_outside_its_range_is_refused_at_load_time(
    toy: DesignSpec, tmp_path: Path
) -> None:
    with pytest.raises(SpecError) as err:
        load_spec(_spec(tmp_path, 'outcome = "sbp_high", ratio = 11'))
    assert err.value.key_path == "indicators[0].options.ratio"
    assert "[1, 10]" in str(err.value) and "Fix:" in str(err.value)


def test_runner_supplied_option_and_missing_column(toy: DesignSpec, tmp_path: Path) -> None:
    with pytest.raises(SpecError, match="set by the runner"):
        load_spec(_spec(tmp_path, 'outcome = "sbp_high", level = 0.9'))
    with pytest.raises(SpecError) as err:
        load_spec(_spec(tmp_path, 'outcome = "no_such_column"'))
    assert err.value.key_path == "indicators[0].options.outcome"


def test_the_function_itself_validates(toy: DesignSpec) -> None:
    df = pd.DataFrame({"y": [0, 1] * 20})
    with pytest.raises(DesignError, match="'level'"):
        toy_share(df, outcome="y", level=1.5)


def test_english_appendix_renders_records_in_english(toy: DesignSpec, tmp_path: Path) -> None:
    with pytest.warns(SmallSampleWarning):
        run = run_spec(load_spec(_spec(tmp_path, lang="en")))
    html = write_outputs(run, tmp_path / "out")["html"].read_text(encoding="utf-8")
    assert "only &lt;10 people have" in html and "(ratio 3)" in html
    assert "Toy share" in html and "Positives (toy)" in html


def test_diagnostics_suppressed_by_their_declared_kind(toy: DesignSpec, tmp_path: Path) -> None:
    """A count of people under the minimum is hidden, and so is a value derived from it (the
    degrees of freedom would give it back); a setting is shown as it is."""
    from pfseval.report import build_document

    with pytest.warns(SmallSampleWarning):
        run = run_spec(load_spec(_spec(tmp_path, 'outcome = "sbp_high", ratio = 3', lang="en")))
    doc = build_document(run)
    table = next(tb for tb in doc.tables() if tb.id == "toy_diagnostics")
    cells = dict(zip(table.frame.iloc[:, 0], table.frame.iloc[:, 1], strict=True))
    assert cells["Positives (toy)"] == "<10"
    assert cells["Degrees of freedom (toy)"] == "*"
    assert cells["Ratio (toy)"] == "3"


def test_loader_notices_reach_the_run_as_records(toy: DesignSpec, tmp_path: Path) -> None:
    """A data-quality warning of the loader is a notice of the run: its code, the file, the
    number of records (a count of people), never the records' values."""
    from pfseval.io.validation import DataQualityWarning

    rows = "".join(
        f"p{i},{int(i < 8)},170,65,{30.0 if i < 3 else 22.5}\n" for i in range(60)
    )  # 3 BMIs disagree with weight / height²
    (tmp_path / "people.csv").write_text(
        "person_id,sbp_high,height,weight,bmi\n" + rows, encoding="utf-8"
    )
    spec = tmp_path / "spec.toml"
    spec.write_text(
        _spec(tmp_path).read_text(encoding="utf-8").replace('lang = "ja"', 'lang = "en"'),
        encoding="utf-8",
    )
    (tmp_path / "people.csv").write_text(
        "person_id,sbp_high,height,weight,bmi\n" + rows, encoding="utf-8"
    )
    with pytest.warns(DataQualityWarning):
        run = run_spec(load_spec(spec))
    (note,) = [n for n in run.notices if n.code == "io.bmi_inconsistent"]
    assert dict(note.counts) == {"n_records": 3} and note.params["source"] == "people.csv"
    rec = next(n for n in run.results()["notices"] if n["code"] == "io.bmi_inconsistent")
    assert rec["indicator"] is None and rec["category"] == "DataQualityWarning"
    html = write_outputs(run, tmp_path / "out")["html"].read_text(encoding="utf-8")
    assert "&lt;10 records of people.csv have a BMI" in html


def test_report_does_not_import_batch() -> None:
    """Batch runs call the report; the report never imports pfseval.batch (not even for
    types): it reads a run through its own protocol, the results records and the registry."""
    import ast

    root = Path(__file__).resolve().parents[1] / "src" / "pfseval" / "report"
    for path in root.glob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            names = []
            if isinstance(node, ast.ImportFrom):
                names = [node.module or ""]
            elif isinstance(node, ast.Import):
                names = [a.name for a in node.names]
            assert not any(n.startswith("pfseval.batch") for n in names), path.name


def test_settings_table_by_declared_labels(toy: DesignSpec, tmp_path: Path) -> None:
    """The appendix lists the spec's options by their declared labels, with variables by
    their vocabulary labels."""
    from pfseval.report import build_document

    spec = _spec(tmp_path, 'outcome = "med_glucose", ratio = 3')
    rows = "".join(f"p{i},{int(i % 7 == 0)}\n" for i in range(60))
    (tmp_path / "people.csv").write_text("person_id,med_glucose\n" + rows, encoding="utf-8")
    with pytest.warns(SmallSampleWarning):
        run = run_spec(load_spec(spec))
    table = next(tb for tb in build_document(run).tables() if tb.id == "toy_settings")
    cells = dict(zip(table.frame.iloc[:, 0], table.frame.iloc[:, 1], strict=True))
    assert cells == {"信頼水準": "95%", "アウトカム": "服薬(血糖)", "比": "3"}
