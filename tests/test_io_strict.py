"""Strict loading (issue 12 item 4, issue 15 item 1): field counts by file line, strict numbers,
missing-value spellings counted, declared format, UTF-16, Parquet list columns, no file content
in errors."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from pfseval.errors import DataValidationError
from pfseval.io import FileFormatError, check_file, read_checkups

HEAD = "person_id,fiscal_year,age,sex,sbp,hba1c"


def _csv(path: Path, lines: list[str], encoding: str = "utf-8", newline: str = "\n") -> Path:
    path.write_bytes((newline.join(lines) + newline).encode(encoding))
    return path


def test_rows_with_the_wrong_number_of_fields_are_listed_by_line(tmp_path: Path) -> None:
    lines = [
        HEAD,
        "A,2019,50,1,120,5.5",
        "B,2019,51,1",
        "C,2019,52,2,130,6.0",
        "D,2019,53,2,SECRET,1,9",
    ]
    path = _csv(tmp_path / "t.csv", lines)
    with pytest.raises(FileFormatError) as info:
        read_checkups(path)
    msg = str(info.value)
    assert "t.csv" in msg and "lines 3, 5" in msg and "6 fields" in msg
    assert "SECRET" not in msg and "B,2019" not in msg  # never the content
    report = check_file(path)
    assert report.errors[0].kind == "unreadable" and "lines 3, 5" in report.errors[0].message


def test_truncated_last_row_is_not_missing_values(tmp_path: Path) -> None:
    path = _csv(tmp_path / "t.csv", [HEAD, "A,2019,50,1,120,5.5", "B,2019,5"])
    with pytest.raises(FileFormatError, match=r"lines 3\b"):
        read_checkups(path)


def test_numbers_are_parsed_strictly(tmp_path: Path) -> None:
    lines = [HEAD, "A,2019,50,1,1_30,5.5", "B,2019,51,1,120,inf", "C,2019,52,2,１３０,6.0"]
    path = _csv(tmp_path / "t.csv", lines)
    with pytest.raises(DataValidationError) as info:
        read_checkups(path)
    probs = {(p.column, p.kind): p for p in info.value.problems}
    assert probs[("sbp", "wrong_type")].rows == (2,)  # "1_30" is not 130
    assert probs[("sbp", "wrong_type")].values == ("1_30",)
    assert probs[("hba1c", "wrong_type")].rows == (3,)  # "inf" is not a measurement
    df = read_checkups(path, validate=False)
    assert df["sbp"].tolist() == ["1_30", "120", "１３０"]  # text kept, as documented


def test_na_spellings_are_missing_and_counted(tmp_path: Path) -> None:
    lines = [
        HEAD,
        "A,2019,50,1,NA,5.5",
        "B,2019,51,1,120,NULL",
        "C,2019,52,2,NA,nan",
        "D,2019,53,2,,6.1",
    ]
    path = _csv(tmp_path / "t.csv", lines)
    df = read_checkups(path)
    assert df["sbp"].isna().tolist() == [True, False, True, True]
    assert df["hba1c"].isna().tolist() == [False, True, True, False]
    notes = {p.column: p for p in check_file(path).problems if p.kind == "na_spelling"}
    assert set(notes) == {"sbp", "hba1c"}
    assert "2 cell(s)" in notes["sbp"].message and "'NA' (2)" in notes["sbp"].message
    assert "'NULL' (1)" in notes["hba1c"].message and "'nan' (1)" in notes["hba1c"].message


def test_declared_format_wins_over_the_suffix(tmp_path: Path) -> None:
    dat = _csv(tmp_path / "export.dat", [HEAD, "A,2019,50,1,120,5.5"])
    with pytest.raises(FileFormatError, match="unknown file type"):
        read_checkups(dat)
    assert read_checkups(dat, format="csv")["sbp"].tolist() == [120.0]
    tab = _csv(tmp_path / "export.txt", [HEAD.replace(",", "\t"), "A\t2019\t50\t1\t120\t5.5"])
    assert read_checkups(tab, format="tsv")["age"].tolist() == [50]
    pq_as_csv = tmp_path / "really_parquet.csv"
    pd.DataFrame({"person_id": ["A"], "fiscal_year": [2019], "age": [50], "sex": [1]}).to_parquet(
        pq_as_csv
    )
    assert read_checkups(pq_as_csv, format="parquet")["age"].tolist() == [50]
    with pytest.raises(FileFormatError, match="unknown format"):
        read_checkups(dat, format="xlsx")


@pytest.mark.parametrize("encoding", ["utf-16", "utf-16-le"])
def test_utf16_is_read_with_a_bom_and_refused_clearly_without(
    tmp_path: Path, encoding: str
) -> None:
    lines = ["受診者ID,年度,年齢,性別", "0001,2019,63,男", "0002,2019,70,女"]
    path = _csv(tmp_path / "u16.csv", lines, encoding=encoding, newline="\r\n")
    if encoding == "utf-16":  # Python writes a byte-order mark
        df = read_checkups(path)
        assert df["person_id"].tolist() == ["0001", "0002"] and df["sex"].tolist() == [1, 2]
    else:
        with pytest.raises(FileFormatError, match="UTF-16 without a byte-order mark"):
            read_checkups(path)
        assert read_checkups(path, encoding="utf-16-le")["age"].tolist() == [63, 70]


def test_parquet_list_column_is_a_clear_error(tmp_path: Path) -> None:
    table = pa.table({"person_id": ["A", "B"], "visits": [[1, 2], [3]]})
    pq.write_table(table, tmp_path / "l.parquet")
    with pytest.raises(FileFormatError, match="'visits' hold lists"):
        read_checkups(tmp_path / "l.parquet", required=("person_id",))


def test_undecodable_file_names_the_line_not_the_bytes(tmp_path: Path) -> None:
    path = tmp_path / "bin.csv"
    path.write_bytes(b"person_id,age\nA,50\n\x81\xff\xfeSECRET\n")
    with pytest.raises(FileFormatError) as info:
        read_checkups(path)
    msg = str(info.value)
    assert "bin.csv" in msg and "line 3" in msg and "SECRET" not in msg and "\\x" not in msg


def test_line_numbers_with_crlf_and_blank_lines(tmp_path: Path) -> None:
    lines = [HEAD, "A,2019,50,1,120,5.5", "", "B,2019,500,1,120,5.5"]
    path = _csv(tmp_path / "w.csv", lines, newline="\r\n")
    assert [p.rows for p in check_file(path).errors] == [(4,)]


def test_a_million_ids_keep_their_zeros(tmp_path: Path) -> None:
    n = 50_000
    ids = np.char.zfill(np.arange(n).astype(str), 8)
    df = pd.DataFrame({"person_id": ids, "fiscal_year": 2019, "age": 50, "sex": 1})
    df.to_csv(tmp_path / "m.csv", index=False)
    got = read_checkups(tmp_path / "m.csv")
    assert got["person_id"].tolist() == ids.tolist()
    assert str(got["age"].dtype) == "Int64"


def test_import_pfseval_is_light() -> None:
    code = (
        "import sys, pfseval, pfseval.cli, pfseval.scale; "
        "print(sorted(m for m in ('pandas', 'numpy', 'scipy', 'duckdb', 'dask') if m in sys.modules))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


def test_encoding_found_past_the_first_megabyte(tmp_path: Path) -> None:
    # ASCII for the first 1.2 MB, then a CP932 remark: the file is CP932 after all
    rows = [f"{i:06d},2019,50,1,120,5.5," for i in range(60_000)]
    lines = ["person_id,fiscal_year,age,sex,sbp,hba1c,memo", *rows, "999999,2019,60,2,130,6.0,再検"]
    path = _csv(tmp_path / "late.csv", lines, encoding="cp932")
    assert path.stat().st_size > 1 << 20
    df = read_checkups(path)
    assert df["memo"].iloc[-1] == "再検" and len(df) == 60_001
    # a byte that is neither UTF-8 nor CP932 late in the file: named by its line
    path.write_bytes(path.read_bytes().replace("再検".encode("cp932"), b"\x81 "))
    with pytest.raises(FileFormatError, match="line 60002"):
        read_checkups(path)


def test_a_spec_honours_the_declared_format(tmp_path: Path) -> None:
    from pfseval.batch import load_spec, run_spec

    rows = "".join(f"p{i},{int(i % 4 > 0)}\n" for i in range(40))
    (tmp_path / "people.dat").write_text("person_id,completed\n" + rows, encoding="utf-8")
    pd.DataFrame({"person_id": ["a", "b"], "completed": [1, 1]}).to_parquet(
        tmp_path / "more.csv"  # Parquet despite its name
    )
    spec = """
[data.people]
path = "{path}"
format = "{fmt}"

[[indicators]]
id = "completion_rate"
design = "proportion.rate"
data = "people"
options = {{ outcome = "completed" }}
"""
    for path, fmt, want in (("people.dat", "csv", 0.75), ("more.csv", "parquet", 1.0)):
        (tmp_path / "s.toml").write_text(spec.format(path=path, fmt=fmt), encoding="utf-8")
        run = run_spec(load_spec(tmp_path / "s.toml"))
        assert run.estimates["completion_rate"].value == want
