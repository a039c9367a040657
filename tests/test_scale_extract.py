"""DuckDB cohort extracts equal the pandas path (read, link_years, filters) on the same files."""

from __future__ import annotations

import sys
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from pfseval.batch.spec import Filter
from pfseval.errors import ColumnMissingError, DataValidationError
from pfseval.io import FileFormatError, link_years, read_checkups
from pfseval.result import SampleFlow
from pfseval.scale import extract_cohort

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "benchmarks"))
from loading_speed import extract

FILTERS = [
    Filter("age", "between", [40, 74], reason="outside 40-74"),
    Filter("", "any", any_of=(Filter("hba1c", ">=", 6.0), Filter("med_bp", "==", 1))),
    Filter("sex", "in", [1, 2]),
    Filter("egfr", "not_missing"),
    Filter("insurer_code", "==", "00123456"),
    Filter("urine_protein", "!=", 4),
    Filter("egfr_follow", "<", 200),
]


def _years(tmp_path: Path, n: int = 3000) -> tuple[pd.DataFrame, pd.DataFrame]:
    base = extract(n, 3, year=2016)
    fol = extract(n, 4, year=2019)
    fol["person_id"] = base["person_id"]
    keep = np.random.default_rng(5).random(n) < 0.7  # 30% lost to follow-up
    fol = fol.loc[keep].sample(frac=1.0, random_state=1).reset_index(drop=True)
    fol.loc[fol.index[:40], "egfr"] = np.nan  # follow-up records without the required item
    extra = extract(50, 6, year=2019)  # follow-up-only people
    extra["person_id"] = [f"X{i:08d}" for i in range(50)]
    return base, pd.concat([fol, extra], ignore_index=True)


def _pandas_path(b: Path, f: Path) -> tuple[pd.DataFrame, SampleFlow, SampleFlow, int]:
    linked = link_years(read_checkups(b), read_checkups(f), require=("egfr",))
    df = linked.data
    flow = SampleFlow.start(len(df))
    for flt in FILTERS:
        keep = flt.keep_mask(df)
        flow = flow.exclude(flt.reason_message(), int((~keep).sum()))
        df = df.loc[keep]
    return df.reset_index(drop=True), flow, linked.sample_flow, linked.n_followup_only


@pytest.mark.parametrize("fmt", ["parquet", "csv"])
def test_extract_equals_the_pandas_path(tmp_path: Path, fmt: str) -> None:
    base, fol = _years(tmp_path)
    b, f = tmp_path / f"b.{fmt}", tmp_path / f"f.{fmt}"
    for frame, path in ((base, b), (fol, f)):
        if fmt == "parquet":
            frame.to_parquet(path, index=False)
        else:
            frame.to_csv(path, index=False)
    want, want_flow, want_link, want_only = _pandas_path(b, f)
    cols = ["person_id", "age", "sex", "hba1c", "egfr", "egfr_follow", "followup_years"]
    got = extract_cohort(b, followup=f, require=("egfr",), where=FILTERS, columns=cols)
    assert 0 < len(got.data) < len(base)
    pd.testing.assert_frame_equal(got.data, want[cols])
    assert got.flow.to_dict() == want_flow.to_dict()
    assert got.link_flow is not None and got.link_flow.to_dict() == want_link.to_dict()
    assert got.n_followup_only == want_only == 50
    assert got.n_records == len(base)


def test_chunked_files_read_in_order(tmp_path: Path) -> None:
    base = extract(900, 8)
    (tmp_path / "y").mkdir()
    for i in range(3):
        base.iloc[i * 300 : (i + 1) * 300].to_parquet(tmp_path / "y" / f"part{i}.parquet")
    got = extract_cohort(tmp_path / "y" / "*.parquet", where=[Filter("age", ">=", 60)])
    want = read_checkups(tmp_path / "y" / "part0.parquet")
    assert got.data["person_id"].iloc[0] == want.loc[want["age"] >= 60, "person_id"].iloc[0]
    assert got.data["person_id"].is_monotonic_increasing  # the ids were written in order
    assert got.flow.n_analysed() == int((base["age"] >= 60).sum())
    assert got.link_flow is None


def test_vocabulary_errors_are_counted_with_record_numbers(tmp_path: Path) -> None:
    base = extract(200, 9)
    base["age"] = base["age"].astype(float)
    base.loc[[4, 150], "age"] = 333.0
    base.loc[7, "sex"] = 3
    base.loc[9, "person_id"] = base.loc[8, "person_id"]
    base.loc[11, "sbp"] = np.inf  # typed Parquet: inf is not a measurement, NaN is missing
    base.loc[12, "sbp"] = np.nan
    base.to_parquet(tmp_path / "b.parquet")
    with pytest.raises(DataValidationError) as info:
        extract_cohort(tmp_path / "b.parquet")
    probs = {(p.column, p.kind): p for p in info.value.problems}
    assert probs[("age", "out_of_range")].rows == (5, 151)
    assert probs[("sex", "unknown_code")].rows == (8,)
    assert probs[("sbp", "wrong_type")].rows == (12,)
    assert ("person_id", "duplicate") in probs
    assert "333" not in str(info.value)  # counts and record numbers, never values of persons


def test_cp932_text_codes_and_spellings_equal_the_pandas_path(tmp_path: Path) -> None:
    # a Japanese export: CP932, Japanese headers, 男/女 and ＋/− text codes, full-width
    # digits, NA spellings; DuckDB reads a UTF-8 copy and applies the pandas text rules
    base, fol = _years(tmp_path, n=400)
    files = []
    for frame, name in ((base, "b.csv"), (fol, "f.csv")):
        ja = frame.rename(columns={"age": "年齢", "sex": "性別", "urine_protein": "尿蛋白"})
        ja["性別"] = np.where(frame["sex"] == 1, "男", "女")
        ja["尿蛋白"] = frame["urine_protein"].map({0: "−", 1: "±", 2: "＋", 3: "2+", 4: "3+"})
        ja = ja.astype({"sbp": object})
        ja.loc[3, "sbp"] = "１２８"  # full-width digits
        ja.loc[4, "hba1c"] = np.nan
        text = ja.to_csv(index=False).replace(",,", ",NA,", 1)
        (tmp_path / name).write_bytes(text.encode("cp932"))
        files.append(tmp_path / name)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        linked = link_years(read_checkups(files[0]), read_checkups(files[1]), require=("egfr",))
    cohort = extract_cohort(files[0], followup=files[1], require=("egfr",))
    pd.testing.assert_frame_equal(cohort.data, linked.data[cohort.data.columns])
    assert cohort.link_flow is not None
    pd.testing.assert_frame_equal(cohort.link_flow.to_frame(), linked.sample_flow.to_frame())


def test_refusals(tmp_path: Path) -> None:
    base = extract(20, 10)
    raw = base.rename(columns={"age": "年齢"}).to_csv(index=False).encode("cp932")
    (tmp_path / "b.csv").write_bytes(raw[:-30] + b"\x81\x7f" + raw[-28:])
    with pytest.raises(FileFormatError, match="line 21 is not valid cp932"):
        extract_cohort(tmp_path / "b.csv", encoding="cp932")
    base.to_parquet(tmp_path / "b.parquet")
    with pytest.raises(ColumnMissingError, match="nosuch"):
        extract_cohort(tmp_path / "b.parquet", where=[Filter("nosuch", ">", 1)])
    with pytest.raises(FileFormatError, match="cannot read"):
        extract_cohort(tmp_path / "missing.parquet")


def test_spill_folder_is_created_when_missing(tmp_path: Path) -> None:
    """A `temp_directory` that does not exist yet (the national benchmark's) is created,
    as DuckDB itself would, instead of failing before the query."""
    base, fol = _years(tmp_path, n=400)
    b, f = tmp_path / "b.csv", tmp_path / "f.csv"
    base.to_csv(b, index=False)
    fol.to_csv(f, index=False)
    spill = tmp_path / "not" / "yet" / "spill"
    got = extract_cohort(
        b, followup=f, require=("egfr",), where=FILTERS, columns=["person_id", "egfr"],
        temp_directory=spill,
    )  # fmt: skip
    assert got.n_records == len(base) and len(got.data) > 0
    assert spill.is_dir() and not list(spill.glob("pfseval-extract-*"))  # scratch removed
