"""The loader's fast paths give what the careful ones give, on files over a megabyte.

Large files take other routes than the small files of the other tests: Arrow reads them from
disk, a CP932 file is split as raw bytes and only its text columns are decoded, the column
types come from the first megabyte, and ids of one width are compared as bytes. Each route is
checked here against pandas or against its fallback. Every test runs twice: with the file
parsed whole, and cut into pieces of 150 kB (a national extract is parsed in pieces of
``_PIECE`` bytes; these files are too small for that unless the piece is made small).
"""

from __future__ import annotations

import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pytest

from pfseval.errors import DataValidationError
from pfseval.io import check_file, loaders, read_checkups
from pfseval.io.loaders import FileFormatError
from pfseval.io.validation import _fixed_width_unique, _unique_ids

HEADER = "受診者ID,年度,年齢,性別,収縮期血圧,尿蛋白,メモ"
N = 45_000  # ~1.3 MB: over the one-megabyte head


@pytest.fixture(autouse=True, params=["whole", "pieces"])
def route(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> str:
    if request.param == "pieces":
        monkeypatch.setattr(loaders, "_PIECE", 150_000)
    return str(request.param)


def _rows(n: int = N) -> list[str]:
    sex = ["男", "女"]
    dip = ["−", "±", "＋", "2+"]
    # 表 and ソ end in byte 0x5C in CP932 (a backslash in ASCII): byte-wise splitting must
    # leave them alone
    memo = ["表", "ソ能", "", "備考\\", "abc"]
    return [
        f"{i:08d},2019,{40 + i % 35},{sex[i % 2]},{110 + i % 60},{dip[i % 4]},{memo[i % 5]}"
        for i in range(n)
    ]


def _write(path: Path, rows: list[str], enc: str = "cp932") -> Path:
    path.write_bytes(("\n".join([HEADER, *rows]) + "\n").encode(enc))
    return path


@pytest.mark.parametrize("enc", ["cp932", "utf-8"])
def test_large_file_reads_as_pandas_does(tmp_path: Path, enc: str) -> None:
    p = _write(tmp_path / "k.csv", _rows(), enc)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        df = read_checkups(p)
    ref = pd.read_csv(p, encoding=enc, dtype=str, keep_default_na=False)
    assert len(df) == N
    assert df["person_id"].tolist() == ref["受診者ID"].tolist()
    assert df["メモ"].fillna("").tolist() == ref["メモ"].tolist()
    assert df["sex"].tolist() == [2 if s == "女" else 1 for s in ref["性別"]]
    assert df["urine_protein"].value_counts().to_dict() == {
        0: N // 4,
        1: N // 4,
        2: N // 4,
        3: N // 4,
    }
    assert str(df["age"].dtype) == "Int64" and df["sbp"].dtype == np.float64
    np.testing.assert_array_equal(df["sbp"].to_numpy(), ref["収縮期血圧"].astype(float))
    # text is parsed with 64-bit offsets, the layout of pandas' text columns: handed over
    # without a copy
    assert str(df["person_id"].array._pa_array.type) == "large_string"


def test_short_row_with_japanese_text_is_located(tmp_path: Path) -> None:
    rows = _rows()
    rows[30_000] = "00030000,2019,男"
    report = check_file(_write(tmp_path / "k.csv", rows))
    assert report.errors[0].kind == "unreadable"
    assert "file lines 30002" in report.errors[0].message


def test_undecodable_byte_is_located(tmp_path: Path) -> None:
    p = _write(tmp_path / "k.csv", _rows())
    raw = p.read_bytes()
    at = raw.find("男".encode("cp932"), 1_100_000)
    p.write_bytes(raw[:at] + b"\x81\x7f" + raw[at + 2 :])
    line = raw[:at].count(b"\n") + 1
    with pytest.raises(FileFormatError, match=f"line {line}"):
        read_checkups(p)


def test_column_numeric_in_the_head_but_text_later(tmp_path: Path) -> None:
    # sex written 1/2 in the first megabyte, then 男: typed by Arrow at first, read again as
    # text, and converted by the text rules (with their note)
    rows = [r.replace(",男,", ",1,").replace(",女,", ",2,") for r in _rows()]
    rows[-5] = rows[-5].replace(",1,", ",男,").replace(",2,", ",女,")
    p = _write(tmp_path / "k.csv", rows)
    report = check_file(p)
    assert report.ok
    assert any(q.kind == "converted" and q.column == "sex" for q in report.problems)


def test_errors_in_typed_columns_keep_their_messages(tmp_path: Path) -> None:
    rows = _rows()
    rows[40_000] = rows[40_000].replace(",2019,", ",2O19,")  # letter O in a year
    rows[41_000] = rows[41_000].replace(",男,", ",3,").replace(",女,", ",3,")  # no such code
    with pytest.raises(DataValidationError) as info:
        read_checkups(_write(tmp_path / "k.csv", rows))
    kinds = {(p.column, p.kind): p for p in info.value.problems}
    assert kinds[("fiscal_year", "wrong_type")].rows == (40_002,)
    assert kinds[("fiscal_year", "wrong_type")].values == ("2O19",)
    assert kinds[("sex", "unknown_code")].rows == (41_002,)


def test_validate_false_keeps_the_cells_of_bad_columns(tmp_path: Path) -> None:
    rows = _rows()
    rows[20_000] = rows[20_000].replace(",2019,", ",20x9,")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        df = read_checkups(_write(tmp_path / "k.csv", rows), validate=False)
    assert df.loc[20_000, "fiscal_year"] == "20x9"
    assert df["age"].tolist() == [40 + i % 35 for i in range(N)]  # converted in place: intact


@pytest.mark.parametrize(
    ("ids", "fast", "unique"),
    [
        (["001", "002", "003"], True, True),
        (["001", "002", "001"], False, False),  # up to 8 bytes: compared exactly
        (["000000001", "000000002"], True, True),
        (["000000001", "000000001"], None, False),  # longer: a repeated key goes to pandas
        (["a", "bb", "a"], None, False),  # widths differ: pandas
        (["x", None, "y"], None, True),
    ],
)
def test_fixed_width_ids(ids: list[str | None], fast: bool | None, unique: bool) -> None:
    s = pd.Series(ids, dtype="str")
    assert _fixed_width_unique(s) is fast
    assert _unique_ids(s) is unique


def test_link_notices_with_arrow_ids() -> None:
    # ids that differ only by leading zeros are counted once each, on the right rows, and the
    # follow-up-only records come from the linkage's positions
    from pfseval.io import link_years

    b = pd.DataFrame(
        {"person_id": pd.Series(["001", "002", "003", "004"], dtype="str"), "fiscal_year": 2016}
    )
    f = pd.DataFrame({"person_id": pd.Series(["2", "003", "9"], dtype="str"), "fiscal_year": 2019})
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        linked = link_years(b, f)
    codes = {n.code: dict(n.counts) for n in linked.notices}
    assert codes["io.ids_differ_in_form"] == {"n_records": 1}
    assert codes["io.followup_only"] == {"n_records": 2, "n_followup": 3}
    assert linked.n_followup_only == 2
    assert linked.data["fiscal_year_follow"].tolist()[2] == 2019


def test_ids_equal_as_numbers_but_not_as_text_are_unique() -> None:
    # the digits-only fast path compares ids as whole numbers: "+12" and "012" (and "-00",
    # "000") are one number but different ids, so the exact comparison decides
    s = pd.Series(["+12", "012", "-00", "000"], dtype="str")
    assert _unique_ids(s) is True
    assert _unique_ids(pd.Series(["+12", "012", "+12"], dtype="str")) is False


@pytest.mark.parametrize(
    ("ids", "plain"),
    [
        (["001", "002"], True),
        (["001", None, "002"], True),  # a missing id is not a cell to strip
        (["001", "", "002"], False),  # an empty cell becomes missing
        (["", None], False),
        (["001", " 02"], False),  # white space to strip
        (["001", "０２"], False),  # not ASCII: the text rules decide
    ],
)
def test_plain_text(ids: list[str | None], plain: bool) -> None:
    from pfseval.io.validation import _plain_text

    for layout in (pa.string(), pa.large_string()):  # 32- and 64-bit offsets
        arr = pa.chunked_array([pa.array(ids, layout)])
        assert _plain_text(pd.Series(pd.arrays.ArrowExtensionArray(arr))) is plain
    assert _plain_text(pd.Series(ids, dtype="str")) is plain


@pytest.mark.parametrize(
    ("ids", "answer"),
    [
        (["003", "001", "002"], True),
        (["003", "001", "003"], None),  # a repeat: left to the full check
        (["+12", "012", "7"], None),  # one number, two ids: left to the full check
        (["a1", "a2", "a3"], None),  # letters: left to the full check
        (["1" * 25, "2" * 25, "3"], None),  # too long for a 64-bit number
    ],
)
def test_id_check_beside_the_parse(ids: list[str], answer: bool | None) -> None:
    from concurrent.futures import ThreadPoolExecutor

    from pfseval.io.validation import _start_id_check

    with ThreadPoolExecutor(max_workers=1) as pool:
        check = _start_id_check(pd.Series(ids, dtype="str"), pool)
        assert check is not None and check() is answer
        # ids the parse would change (white space to strip) are not checked beside it
        assert _start_id_check(pd.Series([*ids, " 4"], dtype="str"), pool) is None
        assert _start_id_check(pd.Series([1, 2, 3]), pool) is None


@pytest.mark.parametrize("ids", ["unique", "repeat", "padded", "letters"])
def test_id_check_beside_the_parse_finds_what_the_check_after_it_finds(
    monkeypatch: pytest.MonkeyPatch, ids: str
) -> None:
    # from _CONCURRENT_ROWS rows the usual id check runs beside the column parse; the report
    # (a duplicate, with its rows) is the one of the check run after the parse
    from pfseval.io import validation
    from pfseval.io.validation import parse_checkups

    n = validation._CONCURRENT_ROWS
    pid = [f"{i:09d}" for i in range(n)]
    if ids == "repeat":
        pid[n - 1] = pid[7]
    elif ids == "padded":  # " 000000007" is "000000007" once stripped: a repeat
        pid[n - 1] = " " + pid[7]
    elif ids == "letters":
        pid = [f"A{i:08d}" for i in range(n)]
        pid[n - 1] = pid[7]
    df = pd.DataFrame(
        {"person_id": pd.Series(pid, dtype="str"), "fiscal_year": 2019, "age": 60, "sex": 1}
    )
    reports = []
    for rows in (n, n + 1):  # beside the parse, then after it
        monkeypatch.setattr(validation, "_CONCURRENT_ROWS", rows)
        reports.append(parse_checkups(df)[1])
    got = [[(q.column, q.kind, q.rows) for q in r.errors] for r in reports]
    assert got[0] == got[1]
    assert got[0] == ([] if ids == "unique" else [("person_id", "duplicate", (7, n - 1))])


def test_nan_and_inf_written_in_a_typed_column_take_the_text_rules(tmp_path: Path) -> None:
    # Arrow parses "nan" and "inf" as numbers; the loader finds them when it converts the
    # column and reads it again as text: "nan" is a counted missing-value spelling, "inf" is
    # not a number, reported by its file line
    rows = _rows()
    rows[30_000] = rows[30_000].replace(f",{110 + 30_000 % 60},", ",nan,")
    rows[40_000] = rows[40_000].replace(f",{40 + 40_000 % 35},", ",inf,")
    report = check_file(_write(tmp_path / "k.csv", rows))
    wrong = [p for p in report.errors if p.column == "age"]
    assert [(p.kind, p.rows) for p in wrong] == [("wrong_type", (40_002,))]
    spelled = [p for p in report.problems if p.kind == "na_spelling"]
    assert [p.column for p in spelled] == ["収縮期血圧"] and "'nan' (1)" in spelled[0].message


def test_blank_lines_move_the_reported_lines(tmp_path: Path) -> None:
    # no quote and no carriage return, but a blank line in the middle: lines are counted
    rows = _rows()
    rows[20_000] = rows[20_000].replace(f",{40 + 20_000 % 35},", ",300,")
    text = "\n".join([HEADER, *rows[:10_000], "", *rows[10_000:]]) + "\n\n"
    p = tmp_path / "k.csv"
    p.write_bytes(text.encode("cp932"))
    report = check_file(p)
    assert [(q.column, q.rows) for q in report.errors] == [("age", (20_003,))]


def _random_frame(rng: np.random.Generator, n: int, *, clean: bool) -> pd.DataFrame:
    age = rng.integers(18, 111, n).astype(float)
    sex = rng.integers(1, 3, n)
    sbp = np.round(rng.normal(130, 15, n))
    hba1c = np.round(rng.normal(5.8, 0.6, n), 1)
    flag = rng.integers(0, 2, n).astype(float)
    miss = rng.random(n) < 0.1
    hba1c[miss] = np.nan
    flag[rng.random(n) < 0.05] = np.nan
    if not clean:  # one problem of each kind the full parse must locate
        age[3], sbp[5], hba1c[7], flag[9] = 40.5, np.inf, 25.0, 2.0
        sex[11] = 3
    return pd.DataFrame(
        {
            "person_id": [f"{i:06d}" for i in range(n)],
            "fiscal_year": np.full(n, 2019),
            "age": age,
            "sex": sex,
            "sbp": sbp,
            "hba1c": hba1c,
            "med_bp": flag,
        }
    )


@pytest.mark.parametrize("seed", [1, 2])
@pytest.mark.parametrize("clean", [True, False])
def test_clean_column_shortcut_gives_what_the_full_parse_gives(
    seed: int, clean: bool, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Columns that are numbers already skip the per-cell masks when their extremes and
    # fractions pass: the converted frame and the report equal the full parse's
    from pfseval.io import validation

    df = _random_frame(np.random.default_rng(seed), 5_000, clean=clean)
    before = df.copy()
    fast, fast_report = validation.parse_checkups(df)
    pd.testing.assert_frame_equal(df, before)  # the caller's frame is never written
    monkeypatch.setattr(validation, "_clean_numbers", lambda *a, **k: None)
    full, full_report = validation.parse_checkups(df)
    pd.testing.assert_frame_equal(fast, full)
    assert fast_report.problems == full_report.problems
    assert fast_report.ok is clean
    if not clean:
        assert {(p.column, p.rows) for p in fast_report.errors} == {
            ("age", (3,)), ("sbp", (5,)), ("hba1c", (7,)), ("med_bp", (9,)), ("sex", (11,)),
        }  # fmt: skip


def test_parquet_index_columns(tmp_path: Path) -> None:
    # pandas stores an unnamed index as a column of its own (not data: left out) and a named
    # index under its name (data: kept as a column, e.g. the ids set as the index)
    df = pd.DataFrame(
        {
            "person_id": ["a1", "a2", "a3"],
            "fiscal_year": [2019] * 3,
            "age": [50, 61, 72],
            "sex": [1, 2, 1],
        }
    )
    df.set_axis([10, 20, 30]).to_parquet(tmp_path / "unnamed.parquet")
    df.set_index("person_id").to_parquet(tmp_path / "named.parquet")
    unnamed = read_checkups(tmp_path / "unnamed.parquet")
    named = read_checkups(tmp_path / "named.parquet")
    assert list(unnamed.columns) == ["person_id", "fiscal_year", "age", "sex"]
    assert sorted(named.columns) == sorted(unnamed.columns)
    assert named["person_id"].tolist() == ["a1", "a2", "a3"]
    assert unnamed["age"].tolist() == [50, 61, 72] and str(unnamed["age"].dtype) == "Int64"


def test_quoted_line_break_in_a_large_file(tmp_path: Path) -> None:
    # over a megabyte, whether quotes occur is found by a search of the mapped file: a quoted
    # line break late in the file is read as part of its cell, and a problem after it is
    # reported on its true file line
    rows = _rows()
    rows[40_000] = rows[40_000].rsplit(",", 1)[0] + ',"二行の\n備考"'
    rows[44_000] = rows[44_000].replace(f",{40 + 44_000 % 35},", ",300,")
    p = _write(tmp_path / "k.csv", rows)
    report = check_file(p)
    assert [(q.column, q.rows) for q in report.errors] == [("age", (44_003,))]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        df = read_checkups(p, validate=False)
    assert len(df) == N and df.loc[40_000, "メモ"] == "二行の\n備考"


def test_quoted_line_break_at_a_block_end_in_a_file_parsed_whole(tmp_path: Path) -> None:
    # a file that is not cut into pieces (here the header is on line 2) is not searched
    # piece by piece: whether it has quotes is unknown, so Arrow must parse it quote-aware. A
    # quoted line break that is the last line end before Arrow's 1 MB block end would
    # otherwise be taken for a record end
    head = "person_id,fiscal_year,age,sex,sbp,memo"
    rows = [f"{i:08d},2019,{40 + i % 35},{1 + i % 2},{110 + i % 60},x" for i in range(N)]
    at = len(head) + 2  # the blank first line and the header
    k = 0
    while at + len(rows[k]) + 1 < (1 << 20) - 40:
        at += len(rows[k]) + 1
        k += 1
    rows[k] = rows[k][:-1] + '"a\n' + "y" * 200 + '"'  # the break 30-40 bytes before 1 MB
    p = tmp_path / "k.csv"
    p.write_bytes(("\n".join(["", head, *rows]) + "\n").encode("utf-8"))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        df = read_checkups(p, validate=False)
    assert len(df) == N and df.loc[k, "memo"] == "a\n" + "y" * 200
    assert df["age"].tolist() == [40 + i % 35 for i in range(N)]


@pytest.mark.parametrize("age", ["63.0", "", "63.5"])
def test_whole_number_column_written_otherwise_late_in_the_file(tmp_path: Path, age: str) -> None:
    # whole-number columns are parsed as integers when the first megabyte writes them so; a
    # later "63.0" (a whole number written as a float), an empty cell or a fraction sends the
    # column back to floats, and the result is the one of the careful route
    rows = _rows()
    rows[44_000] = rows[44_000].replace(f",{40 + 44_000 % 35},", f",{age},")
    report = check_file(_write(tmp_path / "k.csv", rows))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        df = read_checkups(tmp_path / "k.csv", validate=False)
    want = [40 + i % 35 for i in range(N)]
    if age == "63.5":
        assert [(q.column, q.kind, q.rows) for q in report.errors] == [
            ("age", "wrong_type", (44_002,))
        ]
        return
    want[44_000] = 63 if age else None
    assert str(df["age"].dtype) == "Int64"
    assert [None if pd.isna(v) else int(v) for v in df["age"]] == want
    # age is required: an empty cell is reported by its line
    missing = [] if age else [("age", "missing", (44_002,))]
    assert [(q.column, q.kind, q.rows) for q in report.errors] == missing


@pytest.mark.parametrize("fmt", ["csv", "parquet"])
def test_the_frame_read_is_the_callers_to_change(tmp_path: Path, fmt: str) -> None:
    # Arrow's memory is read-only and pandas hands out read-only views: every column of the
    # frame returned (ids, whole numbers, measurements, extra numbers) can be written to, and
    # a frame passed to parse_checkups is never written through the converted one
    from pfseval.io.validation import parse_checkups

    df = pd.DataFrame(
        {
            "person_id": [f"{i:05d}" for i in range(2_000)],
            "fiscal_year": 2019,
            "age": 40 + np.arange(2_000) % 35,
            "sex": 1 + np.arange(2_000) % 2,
            "sbp": 110.0 + np.arange(2_000) % 60,
            "hba1c": np.where(np.arange(2_000) % 7 == 0, np.nan, 5.5),
            "score": np.arange(2_000) * 0.5,
        }
    )
    path = tmp_path / f"k.{fmt}"
    df.to_csv(path, index=False) if fmt == "csv" else df.to_parquet(path)
    got = read_checkups(path)
    for col, value in [("person_id", "x"), ("age", 50), ("sex", 2), ("sbp", 120.0),
                       ("hba1c", 6.0), ("score", 1.5)]:  # fmt: skip
        got.loc[3, col] = value
        assert got.loc[3, col] == value
    converted, _ = parse_checkups(df)
    converted.loc[0, "sbp"] = -1.0
    converted.loc[0, "age"] = 99
    assert df.loc[0, "sbp"] == 110.0 and df.loc[0, "age"] == 40


def test_pieces_end_at_line_ends_and_cover_the_file(tmp_path: Path, route: str) -> None:
    p = _write(tmp_path / "k.csv", _rows())
    pieces = loaders._CsvFile.open(p).pieces()
    if route == "whole":
        assert pieces == [None]
        return
    raw = p.read_bytes()
    data = [piece.data.to_pybytes() for piece in pieces]
    assert b"".join(data) == raw
    assert [piece.start for piece in pieces] == [sum(map(len, data[:k])) for k in range(len(data))]
    assert all(d.endswith(b"\n") for d in data)
    # a parsed piece's pages are let go; read again, they come back from the file
    for piece in pieces:
        piece.drop()
    assert b"".join(piece.data.to_pybytes() for piece in pieces) == raw
    # pieces of _PIECE bytes (to the next line end), but a short last one (a third of that)
    longest_line = max(len(line) + 1 for line in raw.split(b"\n"))
    assert 50_000 - longest_line < len(data[-1]) <= 50_000
    assert all(150_000 <= len(d) < 150_000 + longest_line for d in data[:-2])
    assert 50_000 <= len(data[-2]) < 150_000 + 50_000 + longest_line


@pytest.mark.parametrize("where", [None, 10, 40_000])
def test_quotes_are_searched_piece_by_piece(tmp_path: Path, route: str, where: int | None) -> None:
    # a file cut into pieces is searched for quotes one piece at a time, beside the parse of
    # another; a quote in any piece (the first, or one near the end) sends the file whole to
    # Arrow's quote-aware parse, with the result of the careful route
    rows = _rows()
    if where is not None:
        rows[where] = rows[where].rsplit(",", 1)[0] + ',"a,b"'
    p = _write(tmp_path / "k.csv", rows)
    raw = loaders._CsvFile.open(p)
    assert raw.has_quote is ((where is not None) if route == "whole" else None)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        df = read_checkups(p, validate=False)
    ref = pd.read_csv(p, encoding="cp932", dtype=str, keep_default_na=False)
    assert df["メモ"].fillna("").tolist() == ref["メモ"].tolist()
    assert df["age"].tolist() == ref["年齢"].astype(int).tolist()
    if where is not None:
        assert df.loc[where, "メモ"] == "a,b"
    parsed = loaders._parse_pieces(raw, "cp932", ",", 7, {2}, 1, {2}, False)
    assert raw.has_quote is (where is not None)
    assert parsed.numbers[2].tolist() == ref["年齢"].astype(int).tolist()


def test_lines_shorter_after_the_first_piece(tmp_path: Path, route: str) -> None:
    # the arrays are sized from the first piece's records per byte: long lines at first (a
    # note column filled only there), short ones after, outgrow that estimate: arrays grow
    rows = _rows()
    rows[:10_000] = [r + "あ" * 40 for r in rows[:10_000]]
    p = _write(tmp_path / "k.csv", rows)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        df = read_checkups(p)
    ref = pd.read_csv(p, encoding="cp932", dtype=str, keep_default_na=False)
    assert len(df) == N
    assert df["person_id"].tolist() == ref["受診者ID"].tolist()
    assert df["age"].tolist() == ref["年齢"].astype(int).tolist()
    assert df["メモ"].fillna("").tolist() == ref["メモ"].tolist()


def test_utf16_file_is_never_cut(tmp_path: Path, route: str) -> None:
    # in UTF-16 a line end is two bytes (0A 00): a cut at byte 0A would split a character,
    # so the file is parsed whole on either route (ASCII text: no byte 22, so no quote is
    # found to send it whole anyway) and reads as pandas reads it
    rows = [f"{i:08d},2019,{40 + i % 35},{1 + i % 2},{110 + i % 60}" for i in range(N)]
    p = tmp_path / "k.csv"
    p.write_bytes(("\n".join(["person_id,fiscal_year,age,sex,sbp", *rows]) + "\n").encode("utf-16"))
    raw = loaders._CsvFile.open(p)
    assert not raw.has_quote and raw.size > 2 * 150_000
    df = read_checkups(p)
    ref = pd.read_csv(p, encoding="utf-16", dtype=str)
    assert len(df) == N
    assert df["person_id"].tolist() == ref["person_id"].tolist()
    assert df["sbp"].tolist() == ref["sbp"].astype(float).tolist()
