"""Validation reports every problem at once, naming column, rows, values and expected range."""

from __future__ import annotations

import dataclasses

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from pfseval.errors import DataValidationError
from pfseval.io import ValidationReport, parse_checkups, validate_checkups


def _good(n: int = 4) -> pd.DataFrame:
    return pd.DataFrame(
        {
            "person_id": [f"P{i:03d}" for i in range(n)],
            "fiscal_year": [2019] * n,
            "age": [45 + i for i in range(n)],
            "sex": [1, 2] * (n // 2),
            "height": [170.0] * n,
            "weight": [65.0] * n,
            "bmi": [22.5] * n,
            "sbp": [128.0] * n,
            "dbp": [80.0] * n,
            "hba1c": [5.6] * n,
            "urine_protein": [0] * n,
            "med_bp": [0, 1] * (n // 2),
        }
    )


def _only(report: ValidationReport, kind: str, column: str) -> list:
    return [p for p in report.problems if p.kind == kind and p.column == column]


def test_clean_data_is_ok() -> None:
    report = validate_checkups(_good())
    assert report.ok and report.errors == () and report.warnings == ()
    assert report.n_rows == 4
    report.raise_for_errors()  # does nothing


def test_out_of_range_names_column_rows_values_and_range() -> None:
    df = _good()
    df.loc[1, "sbp"] = 400.0
    df.loc[3, "sbp"] = 12.0
    df.loc[2, "hba1c"] = 65.0  # mmol/mol typed into the % column
    report = validate_checkups(df)
    (p,) = _only(report, "out_of_range", "sbp")
    assert p.rows == (1, 3) and p.values == (400, 12)
    assert p.expected == "60 ≤ sbp ≤ 300 mmHg"
    text = str(p)
    assert "'sbp'" in text and "rows 1, 3" in text and "400" in text and "mmHg" in text
    assert _only(report, "out_of_range", "hba1c")[0].rows == (2,)


def test_wrong_types_are_reported_not_coerced() -> None:
    df = _good().astype(object)
    df.loc[0, "sbp"] = "１３０"  # full-width digits are numbers
    df.loc[1, "sbp"] = "測定不能"
    df.loc[2, "age"] = 45.5
    df.loc[3, "weight"] = "65kg"
    report = validate_checkups(df)
    assert _only(report, "wrong_type", "sbp")[0].rows == (1,)
    assert _only(report, "wrong_type", "sbp")[0].values == ("測定不能",)
    assert _only(report, "wrong_type", "age")[0].rows == (2,)
    assert _only(report, "wrong_type", "weight")[0].rows == (3,)
    # the unparseable age is reported once (as a wrong type), not also as missing
    assert _only(report, "missing", "age") == []
    converted, _ = parse_checkups(df)
    assert converted.loc[0, "sbp"] == 130.0 and np.isnan(converted.loc[1, "sbp"])


def test_problems_show_the_cell_text_not_the_converted_value() -> None:
    # audit: "6,5" was read as 65 and reported as 65; a comma is only a thousands separator
    df = _good().astype(object)
    df.loc[0, "hba1c"] = "6,5"  # decimal comma: not a number
    df.loc[1, "sbp"] = "１,２００"  # full-width thousands separator: 1200, out of range
    df.loc[2, "age"] = "４５.５"  # fraction in a whole-number column
    df.loc[3, "weight"] = "1,050"  # 1050 kg: out of range, shown as written
    report = validate_checkups(df)
    assert _only(report, "wrong_type", "hba1c")[0].values == ("6,5",)
    assert _only(report, "out_of_range", "sbp")[0].values == ("１,２００",)
    assert _only(report, "wrong_type", "age")[0].values == ("４５.５",)
    assert _only(report, "out_of_range", "weight")[0].values == ("1,050",)
    assert "6,5" in str(report) and "values 65" not in str(report)
    converted, _ = parse_checkups(df)
    assert np.isnan(converted.loc[0, "hba1c"]) and converted.loc[1, "sbp"] == 1200.0
    # numeric columns still show numbers
    num = _good()
    num.loc[1, "sbp"] = 400.0
    assert _only(validate_checkups(num), "out_of_range", "sbp")[0].values == (400,)


def test_duplicate_person_year_rows() -> None:
    df = pd.concat([_good(), _good().iloc[[1, 1]]], ignore_index=True)
    df.loc[5, "fiscal_year"] = 2020  # same person, other year: fine
    report = validate_checkups(df)
    (p,) = _only(report, "duplicate", "person_id")
    assert p.rows == (1, 4)
    assert p.values == ("P001/2019", "P001/2019")
    assert "person_id" in str(p) and "rows 1, 4" in str(p)


def test_unknown_sex_codes_and_recognised_strings() -> None:
    df = _good().astype(object)
    df.loc[0, "sex"] = "男"
    df.loc[1, "sex"] = "女性"
    df.loc[2, "sex"] = 3
    df.loc[3, "sex"] = "X"
    report = validate_checkups(df)
    (p,) = _only(report, "unknown_code", "sex")
    assert p.rows == (2, 3) and p.values == (3, "X")
    assert "'sex'" in str(p) and "1 (male), 2 (female)" in str(p)
    notes = _only(report, "converted", "sex")
    assert notes and notes[0].severity == "info" and "'男' → 1" in notes[0].message
    converted, _ = parse_checkups(df)
    assert converted["sex"].iloc[:2].tolist() == [1, 2]


def test_each_distinct_text_is_looked_up_once_with_its_count() -> None:
    # codes, numbers written as text, blanks and unknown texts in one column: each cell gets
    # its distinct text's value, unknown texts are marked, and the note counts each code
    from pfseval.io.validation import _parse_numeric
    from pfseval.io.vocabulary import VOCABULARY

    s = pd.Series(["男", None, "女", "男", "", "X", "2", "男", " "], dtype="str")
    values, bad, used = _parse_numeric(s, VOCABULARY["sex"])
    nan = np.nan
    np.testing.assert_array_equal(values, [1, nan, 2, 1, nan, nan, 2, 1, nan])
    assert bad.tolist() == [False] * 5 + [True] + [False] * 3
    assert used == {"男": (1, 3), "女": (2, 1)}
    converted, report = parse_checkups(pd.DataFrame({"sex": s.where(s != "X", "1")}), required=())
    assert report.ok
    assert converted["sex"].tolist() == [1, pd.NA, 2, 1, pd.NA, 1, 2, 1, pd.NA]
    assert str(converted["sex"].dtype) == "Int64"


def test_unknown_dipstick_and_flag_codes() -> None:
    df = _good().astype(object)
    df.loc[0, "urine_protein"] = "++"
    df.loc[1, "urine_protein"] = 5
    df.loc[2, "med_bp"] = 2
    report = validate_checkups(df)
    assert _only(report, "unknown_code", "urine_protein")[0].rows == (1,)
    flag = _only(report, "unknown_code", "med_bp")[0]
    assert flag.rows == (2,) and "1 = yes, 2 = no" in flag.message
    assert parse_checkups(df)[0].loc[0, "urine_protein"] == 3


def test_missing_required_columns_and_cells() -> None:
    df = _good().drop(columns=["age", "sex"])
    df.loc[2, "person_id"] = None
    report = validate_checkups(df)
    missing_cols = {p.column for p in report.problems if p.kind == "missing_column"}
    assert missing_cols == {"age", "sex"}
    assert _only(report, "missing", "person_id")[0].rows == (2,)


def test_every_problem_is_reported_at_once_and_input_untouched() -> None:
    df = _good().astype(object)
    df.loc[0, "sbp"] = 500
    df.loc[1, "age"] = "abc"
    df.loc[2, "sex"] = 9
    df.loc[3, "dbp"] = 200.0  # ≥ sbp
    df = pd.concat([df, df.iloc[[0]]], ignore_index=True)
    before = df.copy()
    report = validate_checkups(df, source="extract.csv")
    kinds = {(p.kind, p.column) for p in report.errors}
    assert {
        ("out_of_range", "sbp"),
        ("wrong_type", "age"),
        ("unknown_code", "sex"),
        ("inconsistent", "dbp"),
        ("duplicate", "person_id"),
    } <= kinds
    pd.testing.assert_frame_equal(df, before)
    with pytest.raises(DataValidationError) as info:
        report.raise_for_errors()
    assert len(info.value.problems) == len(report.errors) + len(report.warnings)
    assert "extract.csv" in str(info.value) and "'age'" in str(info.value)


def test_bmi_inconsistency_is_a_warning() -> None:
    df = _good()
    df.loc[0, "bmi"] = 30.0
    report = validate_checkups(df)
    assert report.ok
    assert [p.rows for p in report.warnings] == [(0,)]


def test_extra_columns_are_info_only_and_kept() -> None:
    df = _good()
    df["memo"] = "x"
    report = validate_checkups(df)
    assert report.ok
    (p,) = [p for p in report.problems if p.kind == "extra_column"]
    assert p.column == "memo" and p.severity == "info"
    assert "memo" in parse_checkups(df)[0].columns


def test_report_renderings_and_frozen() -> None:
    df = _good()
    df.loc[0, "sbp"] = 999.0
    report = validate_checkups(df, source="x.csv")
    text = report.to_text()
    assert text.startswith("x.csv: 4 rows checked: 1 error(s)") and "NOT OK" in text
    assert "0-based" in text
    frame = report.to_frame()
    assert list(frame.columns) == [
        "severity",
        "column",
        "kind",
        "n_rows",
        "rows",
        "values",
        "expected",
        "message",
    ]
    assert frame.loc[0, "column"] == "sbp" and frame.loc[0, "n_rows"] == 1
    with pytest.raises(dataclasses.FrozenInstanceError):
        report.n_rows = 3  # type: ignore[misc]


def test_converted_types() -> None:
    df = _good().astype(str)
    converted, report = parse_checkups(df)
    assert report.ok
    assert str(converted["age"].dtype) == "Int64"
    assert converted["sbp"].dtype == np.float64
    assert converted["person_id"].tolist() == df["person_id"].tolist()


def test_row_numbers_are_respected() -> None:
    df = _good()
    df.loc[2, "sbp"] = 1000.0
    _, report = parse_checkups(df, row_numbers=[10, 11, 12, 13], row_numbering="file lines")
    assert report.errors[0].rows == (12,) and report.row_numbering == "file lines"
    with pytest.raises(ValueError, match="row_numbers"):
        parse_checkups(df, row_numbers=[1])


@settings(max_examples=30, deadline=None)
@given(
    n=st.integers(2, 40),
    data=st.data(),
)
def test_injected_problems_are_all_found(n: int, data: st.DataObject) -> None:
    df = _good(2 * (n // 2) or 2).astype(object)
    rows = list(range(len(df)))
    high = sorted(data.draw(st.sets(st.sampled_from(rows), max_size=len(df))))
    text = sorted(data.draw(st.sets(st.sampled_from(rows), max_size=len(df))))
    sex = sorted(data.draw(st.sets(st.sampled_from(rows), max_size=len(df))))
    for r in high:
        df.loc[r, "hba1c"] = 30.0
    for r in text:
        df.loc[r, "weight"] = "重い"
    for r in sex:
        df.loc[r, "sex"] = 0
    report = validate_checkups(df)
    found = {(p.kind, p.column): p.rows for p in report.errors}
    assert found.get(("out_of_range", "hba1c"), ()) == tuple(high)
    assert found.get(("wrong_type", "weight"), ()) == tuple(text)
    assert found.get(("unknown_code", "sex"), ()) == tuple(sex)
    assert report.ok == (not high and not text and not sex)
