"""Loaders: CSV (UTF-8, BOM, CP932) and Parquet with Japanese headers; mappings; line numbers."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from pfseval.errors import DataValidationError
from pfseval.io import (
    DataQualityWarning,
    FileFormatError,
    MappingError,
    check_file,
    load_mapping,
    read_checkups,
)

# A small extract as a Japanese system exports it: full-width headers, text codes, ids with
# leading zeros, an extra column.
HEADER = "受診者ID,年度,年齢,性別,身長,体重,ＢＭＩ,収縮期血圧,拡張期血圧,ＨｂＡ１ｃ,血清クレアチニン,ｅＧＦＲ,尿蛋白,服薬1（血圧）,保険者番号,備考"
ROWS = [
    "00012,2019,63,男,170.0,70.0,24.2,142,88,6.9,1.0,59.9,＋,はい,00123456,",
    "00013,2019,58,女,155.0,50.0,20.8,118,72,5.5,,,−,いいえ,00123456,再検",
    "00014,2019,71,2,150.0,60.0,26.7,135,80,6.1,0.7,,±,0,00123456,",
]
EXPECTED_COLUMNS = [
    "person_id",
    "fiscal_year",
    "age",
    "sex",
    "height",
    "weight",
    "bmi",
    "sbp",
    "dbp",
    "hba1c",
    "creatinine",
    "egfr",
    "urine_protein",
    "med_bp",
    "insurer_code",
    "備考",
]


def _write(path: Path, lines: list[str], encoding: str) -> Path:
    path.write_bytes(("\n".join(lines) + "\n").encode(encoding))
    return path


def _check_content(df: pd.DataFrame) -> None:
    assert df.columns.tolist() == EXPECTED_COLUMNS
    assert df["person_id"].tolist() == ["00012", "00013", "00014"]  # leading zeros kept
    assert df["insurer_code"].tolist() == ["00123456"] * 3
    assert df["sex"].tolist() == [1, 2, 2]
    assert df["urine_protein"].tolist() == [2, 0, 1]
    assert df["med_bp"].tolist() == [1, 0, 0]
    assert str(df["age"].dtype) == "Int64" and df["sbp"].dtype == np.float64
    assert df["sbp"].tolist() == [142.0, 118.0, 135.0]
    assert np.isnan(df["creatinine"].iloc[1]) and np.isnan(df["egfr"].iloc[2])
    assert df["備考"].iloc[1] == "再検"


@pytest.mark.parametrize("encoding", ["utf-8", "utf-8-sig", "cp932"])
def test_csv_encodings_detected(tmp_path: Path, encoding: str) -> None:
    path = _write(tmp_path / "kenshin.csv", [HEADER, *ROWS], encoding)
    _check_content(read_checkups(path))
    report = check_file(path)
    assert report.ok
    note = next(p for p in report.problems if p.kind == "encoding")
    assert encoding in note.message
    assert report.columns["hba1c"] == "ＨｂＡ１ｃ"


def test_explicit_encoding(tmp_path: Path) -> None:
    path = _write(tmp_path / "kenshin.csv", [HEADER, *ROWS], "shift_jis")
    _check_content(read_checkups(path, encoding="shift_jis"))
    with pytest.raises(FileFormatError, match="encoding"):
        read_checkups(path, encoding="utf-8")


def test_parquet_with_japanese_headers(tmp_path: Path) -> None:
    raw = pd.DataFrame(
        {
            "受診者ID": ["00012", "00013", "00014"],
            "年度": [2019, 2019, 2019],
            "年齢": [63, 58, 71],
            "性別": ["男", "女", "女"],
            "収縮期血圧": [142.0, 118.0, np.nan],
            "ＨｂＡ１ｃ": [6.9, 5.5, 6.1],
            "尿蛋白": ["+", "-", "2+"],
        }
    )
    path = tmp_path / "kenshin.parquet"
    raw.to_parquet(path)
    df = read_checkups(path)
    assert df.columns.tolist() == [
        "person_id",
        "fiscal_year",
        "age",
        "sex",
        "sbp",
        "hba1c",
        "urine_protein",
    ]
    assert df["sex"].tolist() == [1, 2, 2]
    assert df["urine_protein"].tolist() == [2, 0, 3]
    assert np.isnan(df["sbp"].iloc[2])
    # Parquet has no lines: problems use 1-based record numbers
    raw.loc[1, "年齢"] = 300
    raw.to_parquet(path)
    report = check_file(path)
    assert report.errors[0].rows == (2,) and "record" in report.row_numbering


def test_errors_report_file_line_numbers(tmp_path: Path) -> None:
    lines = [
        HEADER,
        ROWS[0],
        ROWS[1].replace(",118,", ",1180,"),  # line 3: out of range
        "",  # a blank line (skipped, but it counts as a line)
        ROWS[2].replace(",2,", ",X,", 1),  # line 5: unknown sex code
        ROWS[0],  # line 6: duplicate of line 2
    ]
    path = _write(tmp_path / "bad.csv", lines, "cp932")
    with pytest.raises(DataValidationError) as info:
        read_checkups(path)
    probs = {(p.column, p.kind): p for p in info.value.problems}
    assert probs[("sbp", "out_of_range")].rows == (3,)
    assert probs[("sex", "unknown_code")].rows == (5,)
    assert probs[("person_id", "duplicate")].rows == (2, 6)
    msg = str(info.value)
    assert "bad.csv" in msg and "'sbp'" in msg and "rows 3" in msg and "1180" in msg


def test_line_numbers_with_quoted_multiline_cells(tmp_path: Path) -> None:
    lines = [
        "person_id,fiscal_year,age,sex,memo",
        'A,2019,50,1,"two',
        'lines"',
        "B,2019,500,1,ok",  # line 4
    ]
    path = _write(tmp_path / "q.csv", lines, "utf-8")
    report = check_file(path)
    assert [p.rows for p in report.errors] == [(4,)]


def test_validate_false_keeps_unconvertible_text(tmp_path: Path) -> None:
    lines = [HEADER, ROWS[0], ROWS[1].replace(",118,", ",測定不能,")]
    path = _write(tmp_path / "x.csv", lines, "utf-8")
    df = read_checkups(path, validate=False)
    assert len(df) == 2
    assert df["sbp"].tolist() == ["142", "測定不能"]  # original text, not NaN
    assert df["hba1c"].dtype == np.float64


def test_warnings_are_issued(tmp_path: Path) -> None:
    path = _write(tmp_path / "w.csv", [HEADER, ROWS[0].replace(",24.2,", ",30.0,")], "utf-8")
    with pytest.warns(DataQualityWarning, match="BMI"):
        df = read_checkups(path)
    assert df["bmi"].iloc[0] == 30.0  # reported, never changed


def test_mapping_dict_toml_and_csv(tmp_path: Path) -> None:
    lines = ["ID番号,年度,年齢,性別,BP上,BP下", "1,2019,50,1,130,80"]
    path = _write(tmp_path / "m.csv", lines, "utf-8")
    toml = tmp_path / "map.toml"
    toml.write_text(
        '[columns]\n"ID番号" = "person_id"\n"BP上" = "sbp"\n"BP下" = "dbp"\n', encoding="utf-8"
    )
    csvmap = tmp_path / "map.csv"
    csvmap.write_text("source,canonical\nID番号,person_id\nBP上,sbp\nBP下,dbp\n", encoding="utf-8")
    as_dict = {"ID番号": "person_id", "BP上": "sbp", "BP下": "dbp"}
    assert load_mapping(toml) == as_dict == load_mapping(csvmap)
    for mapping in (as_dict, toml, str(csvmap)):
        df = read_checkups(path, mapping=mapping)
        assert df.columns.tolist() == ["person_id", "fiscal_year", "age", "sex", "sbp", "dbp"]
        assert df["person_id"].tolist() == ["1"]


def test_mapping_problems(tmp_path: Path) -> None:
    path = _write(tmp_path / "m.csv", ["person_id,fiscal_year,age,sex", "1,2019,50,1"], "utf-8")
    report = check_file(path, mapping={"no such header": "sbp"})
    assert report.ok and [p.kind for p in report.warnings] == ["mapping_unused"]
    bad = tmp_path / "bad.toml"
    bad.write_text("[other]\n", encoding="utf-8")
    with pytest.raises(MappingError, match=r"\[columns\]"):
        load_mapping(bad)
    bad.write_text('[columns]\n"a" = 3\n', encoding="utf-8")
    with pytest.raises(MappingError, match="non-empty strings"):
        load_mapping(bad)
    other = tmp_path / "map.json"
    other.write_text("{}", encoding="utf-8")
    with pytest.raises(MappingError, match="format"):
        load_mapping(other)
    with pytest.raises(MappingError, match="cannot read"):
        load_mapping(tmp_path / "absent.toml")
    # check_file turns a broken mapping into a report instead of a traceback
    assert not check_file(path, mapping=bad).ok


def test_mapping_to_a_mistyped_vocabulary_name_warns_with_suggestion(tmp_path: Path) -> None:
    # audit: "hbalc" (l for 1) was only an info note, so check-data said OK without HbA1c
    lines = ["ID,年度,年齢,性別,A1c値,体重kg,群", "1,2019,50,1,6.1,60,1"]
    path = _write(tmp_path / "t.csv", lines, "utf-8")
    mapping = {"A1c値": "hbalc", "体重kg": "Weight", "群": "treated"}
    report = check_file(path, mapping={"ID": "person_id", **mapping})
    warned = {p.column: p for p in report.warnings if p.kind == "mapping_target_unknown"}
    assert sorted(warned) == ["Weight", "hbalc"]
    assert "Did you mean 'hba1c'?" in warned["hbalc"].message
    assert "'A1c値'" in warned["hbalc"].message
    assert "Did you mean 'weight'?" in warned["Weight"].message  # a header alias: canonical
    # a deliberate extra column (programme flag) stays an information note
    assert {p.severity for p in report.problems if p.column == "treated"} == {"info"}
    assert "1 error" not in report.to_text() and "2 warning(s)" in report.to_text()


def test_two_headers_for_one_column_is_an_error(tmp_path: Path) -> None:
    lines = ["person_id,fiscal_year,age,sex,sbp,収縮期血圧", "1,2019,50,1,130,131"]
    path = _write(tmp_path / "d.csv", lines, "utf-8")
    report = check_file(path)
    assert not report.ok
    assert [p.kind for p in report.errors] == ["duplicate_column"]


def test_unreadable_files(tmp_path: Path) -> None:
    path = tmp_path / "x.xlsx"
    path.write_bytes(b"PK")
    with pytest.raises(FileFormatError, match="unknown file type"):
        read_checkups(path)
    report = check_file(path)
    assert not report.ok and report.errors[0].kind == "unreadable"


def test_round_trip_no_rows_dropped(tmp_path: Path) -> None:
    rng = np.random.default_rng(1)
    n = 500
    df = pd.DataFrame(
        {
            "person_id": [f"{i:06d}" for i in range(n)],
            "fiscal_year": 2020,
            "age": rng.integers(40, 75, n),
            "sex": rng.integers(1, 3, n),
            "sbp": np.round(rng.normal(130, 15, n)),
            "dbp": np.round(rng.normal(75, 8, n)),
            "egfr": np.where(rng.random(n) < 0.3, np.nan, np.round(rng.normal(75, 12, n), 1)),
        }
    )
    path = tmp_path / "r.csv"
    df.to_csv(path, index=False, encoding="cp932")
    back = read_checkups(path)
    assert len(back) == n
    assert back["person_id"].tolist() == df["person_id"].tolist()
    np.testing.assert_array_equal(back["egfr"].to_numpy(), df["egfr"].to_numpy())
    assert back["age"].astype(int).tolist() == df["age"].tolist()


def test_wide_programme_table(tmp_path: Path) -> None:
    # A Kobe-style table: no fiscal_year, follow-up copies of vocabulary columns, extra flags.
    lines = [
        "person_id,treated,age,sex,egfr,egfr_follow,followup_years,group_code",
        "001,1,60,1,55.0,52.5,3,007",
        "002,0,62,2,61.0,,3,010",
        "003,0,65,1,48.0,480,3,011",  # egfr_follow typed ×10: out of range
    ]
    path = _write(tmp_path / "kobe.csv", lines, "utf-8")
    assert any(p.column == "fiscal_year" for p in check_file(path).errors)
    report = check_file(path, required=("person_id",))
    assert [(p.column, p.kind, p.rows) for p in report.errors] == [
        ("egfr_follow", "out_of_range", (4,))
    ]
    df = read_checkups(path, required=("person_id",), validate=False)
    assert df["treated"].dtype == np.float64 and df["treated"].tolist() == [1.0, 0.0, 0.0]
    assert df["group_code"].tolist() == ["007", "010", "011"]  # leading zeros: kept as text
    assert df["egfr_follow"].iloc[0] == 52.5 and np.isnan(df["egfr_follow"].iloc[1])
    dup = _write(tmp_path / "dup.csv", [*lines[:3], lines[1]], "utf-8")
    errors = check_file(dup, required=("person_id",)).errors
    assert [(p.kind, p.rows) for p in errors] == [("duplicate", (2, 4))]
