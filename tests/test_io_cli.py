"""`pfseval check-data FILE [--mapping M]`: prints the report, exit code 1 on errors."""

from __future__ import annotations

from pathlib import Path

from click.testing import CliRunner

from pfseval.cli import cli

GOOD = "受診者ID,年度,年齢,性別,収縮期血圧\n001,2019,61,男,131\n002,2019,55,女,118\n"


def test_check_data_ok_exits_zero(tmp_path: Path) -> None:
    path = tmp_path / "good.csv"
    path.write_bytes(GOOD.encode("cp932"))
    result = CliRunner().invoke(cli, ["check-data", str(path)])
    assert result.exit_code == 0, result.output
    assert "2 rows checked: 0 error(s)" in result.output and "OK" in result.output


def test_check_data_errors_exit_one_and_list_every_problem(tmp_path: Path) -> None:
    path = tmp_path / "bad.csv"
    bad = GOOD + "003,2019,300,X,abc\n001,2019,61,1,131\n"
    path.write_bytes(bad.encode("cp932"))
    result = CliRunner().invoke(cli, ["check-data", str(path)])
    assert result.exit_code == 1
    out = result.output
    assert "NOT OK" in out
    assert "column 'age'" in out and "rows 4" in out and "300" in out  # line 4 of the file
    assert "column 'sex'" in out and "column 'sbp'" in out
    assert "rows 2, 5" in out  # duplicate (person_id, fiscal_year)


def test_check_data_with_mapping(tmp_path: Path) -> None:
    path = tmp_path / "m.csv"
    path.write_text("ID番号,年度,年齢,性別\n1,2019,50,1\n", encoding="utf-8")
    assert CliRunner().invoke(cli, ["check-data", str(path)]).exit_code == 1  # no person_id
    mapping = tmp_path / "map.toml"
    mapping.write_text('[columns]\n"ID番号" = "person_id"\n', encoding="utf-8")
    result = CliRunner().invoke(cli, ["check-data", str(path), "--mapping", str(mapping)])
    assert result.exit_code == 0, result.output


def test_check_data_unreadable_file_exits_one(tmp_path: Path) -> None:
    path = tmp_path / "x.csv"
    path.write_bytes(b"\xff\xfe\x00\x81\x00")  # neither UTF-8 nor CP932
    result = CliRunner().invoke(cli, ["check-data", str(path)])
    assert result.exit_code == 1 and "neither UTF-8 nor Shift_JIS" in result.output


def test_check_data_warns_about_a_mistyped_mapping_target(tmp_path: Path) -> None:
    path = tmp_path / "h.csv"
    path.write_text("ID番号,年度,年齢,性別,A1c\n1,2019,50,1,6.2\n", encoding="utf-8")
    mapping = tmp_path / "map.toml"
    mapping.write_text('[columns]\n"ID番号" = "person_id"\n"A1c" = "hbalc"\n', encoding="utf-8")
    result = CliRunner().invoke(cli, ["check-data", str(path), "--mapping", str(mapping)])
    assert result.exit_code == 0, result.output  # a warning, not an error
    assert "1 warning(s)" in result.output and "Did you mean 'hba1c'?" in result.output
