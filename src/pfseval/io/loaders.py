"""Loaders for health-check extracts: CSV (UTF-8, UTF-8 with BOM, Shift_JIS/CP932) and Parquet.

Reading goes in four documented steps:

1. **Decode** (CSV): with ``encoding=None`` the bytes are decoded as UTF-8 when they start with
   a byte-order mark or are valid UTF-8, otherwise as CP932 (Microsoft's Shift_JIS, which
   Japanese systems export; it is a superset of Shift_JIS). Every cell is read as text, so
   leading zeros of ids and codes survive and wrong types can be reported.
2. **Map headers** onto the vocabulary (:func:`pfseval.io.mapping.resolve_columns`).
3. **Convert** each vocabulary column: numbers (full-width digits are NFKC-normalised, and
   thousands separators removed), recognised sex / dipstick / yes-no text codes (reported as
   notes). Empty cells and pandas' standard missing markers (``NA``, ``NaN``, ``NULL``, ...)
   are missing values.
4. **Validate** (:mod:`pfseval.io.validation`); rows are reported by their 1-based *file line*
   for CSV (the header is line 1) and by 1-based record number for Parquet.

No row is ever dropped or reordered.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Sequence
from os import PathLike
from pathlib import Path

import numpy as np
import pandas as pd

from pfseval.errors import DataProblem, PfsevalError
from pfseval.io.mapping import ColumnMapping, MappingError, apply_mapping
from pfseval.io.notices import problem_notice, warn
from pfseval.io.validation import ValidationReport, parse_checkups
from pfseval.io.vocabulary import REQUIRED_COLUMNS

__all__ = ["FileFormatError", "check_file", "decode_bytes", "read_checkups"]

_CSV_SUFFIXES = {".csv": ",", ".txt": ",", ".tsv": "\t"}
_PARQUET_SUFFIXES = {".parquet", ".pq"}


class FileFormatError(PfsevalError):
    """The file cannot be read: unknown format, undecodable text or malformed CSV."""


def decode_bytes(raw: bytes, *, encoding: str | None = None) -> tuple[str, str]:
    """Decode file bytes; detect UTF-8 (with or without BOM) or CP932 when ``encoding`` is None.

    Returns
    -------
    (text, encoding)
        The decoded text and the encoding used.

    Examples
    --------
    >>> decode_bytes("年齢".encode("cp932"))
    ('年齢', 'cp932')
    >>> decode_bytes(b"\\xef\\xbb\\xbfage")
    ('age', 'utf-8-sig')
    """
    if encoding is not None:
        try:
            return raw.decode(encoding), encoding
        except (UnicodeDecodeError, LookupError) as exc:
            raise FileFormatError(
                f"cannot decode the file as {encoding!r} ({exc}). Fix: pass the right "
                "encoding, or encoding=None to detect UTF-8 / CP932"
            ) from exc
    if raw.startswith(b"\xef\xbb\xbf"):
        return raw.decode("utf-8-sig"), "utf-8-sig"
    try:
        return raw.decode("utf-8"), "utf-8"
    except UnicodeDecodeError:
        pass
    try:
        return raw.decode("cp932"), "cp932"
    except UnicodeDecodeError as exc:
        raise FileFormatError(
            f"the file is neither UTF-8 nor Shift_JIS/CP932 ({exc}). Fix: re-save it as UTF-8 "
            "or CP932, or pass encoding= to read_checkups"
        ) from exc


def _record_lines(text: str, sep: str) -> np.ndarray:
    """1-based line on which each data record starts (blank lines skipped, as pandas does)."""
    starts: list[int] = []
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=sep)
    prev = 0
    for rec in reader:
        if rec:
            starts.append(prev + 1)
        prev = reader.line_num
    return np.asarray(starts[1:], dtype=np.int64)  # first record is the header


def _read_raw(path: Path, encoding: str | None) -> tuple[pd.DataFrame, np.ndarray, str, str]:
    suffix = path.suffix.lower()
    if suffix in _PARQUET_SUFFIXES:
        try:
            df = pd.read_parquet(path)
        except Exception as exc:  # pyarrow raises several types
            raise FileFormatError(f"{path}: cannot read Parquet ({exc})") from exc
        df = df.reset_index(drop=True)
        return df, np.arange(1, len(df) + 1), "1-based record numbers in the Parquet file", ""
    if suffix not in _CSV_SUFFIXES:
        raise FileFormatError(
            f"{path}: unknown file type {suffix!r}; use .csv (or .tsv/.txt) or .parquet"
        )
    sep = _CSV_SUFFIXES[suffix]
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise FileFormatError(f"{path}: cannot read the file ({exc})") from exc
    text, used = decode_bytes(raw, encoding=encoding)
    try:
        table = pd.read_csv(
            io.StringIO(text), sep=sep, dtype=str, header=None, skip_blank_lines=True
        )
    except (pd.errors.ParserError, pd.errors.EmptyDataError) as exc:
        raise FileFormatError(f"{path}: malformed CSV ({exc})") from exc
    # The header is read as a data row so that repeated headers are not renamed by pandas.
    headers = ["" if pd.isna(h) else str(h).strip() for h in table.iloc[0]]
    df = table.iloc[1:].reset_index(drop=True)
    df.columns = pd.Index(headers, dtype=object)
    # Without quotes, lone CRs or blank lines, record i (0-based) is on line i + 2.
    unix = text.replace("\r\n", "\n")
    if '"' not in text and "\r" not in unix and "\n\n" not in unix.rstrip("\n"):
        lines = np.arange(2, len(df) + 2, dtype=np.int64)
    else:
        lines = _record_lines(text, sep)
        if len(lines) != len(df):  # pragma: no cover - defensive: fall back to positions
            lines = np.arange(2, len(df) + 2, dtype=np.int64)
    return df, lines, "1-based line numbers in the file (the header is line 1)", used


def _load(
    path: str | PathLike[str],
    mapping: ColumnMapping | None,
    encoding: str | None,
    required: Sequence[str],
) -> tuple[pd.DataFrame, pd.DataFrame, ValidationReport]:
    p = Path(path)
    raw, lines, numbering, used = _read_raw(p, encoding)
    renamed, origin, map_problems = apply_mapping(raw, mapping=mapping)
    converted, report = parse_checkups(
        renamed, source=str(p), row_numbers=lines, row_numbering=numbering, required=required
    )
    notes = list(map_problems)
    if used:
        notes.append(
            DataProblem(column="", kind="encoding", message=f"decoded as {used}", severity="info")
        )
    report = ValidationReport(
        problems=(*report.problems, *notes),
        n_rows=report.n_rows,
        source=report.source,
        row_numbering=report.row_numbering,
        columns=origin,
    )
    return renamed, converted, report


def read_checkups(
    path: str | PathLike[str],
    *,
    mapping: ColumnMapping | None = None,
    encoding: str | None = None,
    validate: bool = True,
    required: Sequence[str] = REQUIRED_COLUMNS,
) -> pd.DataFrame:
    """Read a health-check extract (CSV or Parquet) onto the canonical vocabulary.

    Parameters
    ----------
    path
        ``.csv`` (also ``.txt``; ``.tsv`` is tab-separated) or ``.parquet`` file.
    mapping
        Source header → canonical name, as a dict or the path of a TOML/CSV mapping file
        (:func:`pfseval.io.load_mapping`). Headers not in the mapping are matched against the
        vocabulary aliases (Japanese headers such as 収縮期血圧 and ＨｂＡ１ｃ are recognised).
        Unknown extra columns are kept unchanged.
    encoding
        CSV text encoding; ``None`` detects UTF-8 (with or without BOM) or CP932/Shift_JIS.
    validate
        When ``True`` (default) raise :class:`~pfseval.errors.DataValidationError` listing
        every problem if there is any error, and issue :class:`DataQualityWarning` for
        warnings. When ``False`` nothing is raised; a column that contains cells which cannot
        be converted is then returned as the original text, unchanged (call
        :func:`check_file` for the report).
    required
        Columns that must be present and complete (default: person_id, fiscal_year, age,
        sex); e.g. ``("person_id",)`` for a wide programme table without fiscal_year.

    Returns
    -------
    pandas.DataFrame
        One row per record in file order: ids and codes as text, whole-number columns
        (fiscal_year, age, sex, dipstick, flags) as ``Int64``, measurements as ``float64``.

    Raises
    ------
    DataValidationError
        ``validate=True`` and the data have errors (all are listed, with file line numbers).
    FileFormatError
        The file cannot be decoded or parsed, or its type is unknown.
    MappingError
        The mapping is malformed.

    Examples
    --------
    >>> import pathlib, tempfile
    >>> p = pathlib.Path(tempfile.mkdtemp()) / "kenshin.csv"
    >>> _ = p.write_bytes("受診者ID,年度,年齢,性別,収縮期血圧,ＨｂＡ１ｃ,尿蛋白\\n"
    ...                   "0001,2019,63,男,142,6.9,＋\\n".encode("cp932"))
    >>> df = read_checkups(p)
    >>> df.columns.tolist()
    ['person_id', 'fiscal_year', 'age', 'sex', 'sbp', 'hba1c', 'urine_protein']
    >>> df.loc[0, "person_id"], int(df.loc[0, "sex"]), int(df.loc[0, "urine_protein"])
    ('0001', 1, 2)
    """
    renamed, converted, report = _load(path, mapping, encoding, required)
    if validate:
        report.raise_for_errors()
        warn([problem_notice(w, source=Path(path).name) for w in report.warnings])
        return converted
    out = converted.copy()
    bad_cols = {p.column for p in report.problems if p.kind in ("wrong_type", "unknown_code")}
    for col in bad_cols:
        if col in out.columns:
            out[col] = renamed[col]
    return out


def check_file(
    path: str | PathLike[str],
    *,
    mapping: ColumnMapping | None = None,
    required: Sequence[str] = REQUIRED_COLUMNS,
) -> ValidationReport:
    """Validate a health-check file and return the report (never raises for data problems).

    Unreadable files and malformed mappings are reported as a single ``unreadable`` error so
    that ``pfseval check-data`` can print them.

    Parameters
    ----------
    path
        CSV or Parquet file (as for :func:`read_checkups`).
    mapping
        Dict or TOML/CSV mapping file.
    required
        Columns that must be present and complete (as for :func:`read_checkups`).

    Returns
    -------
    ValidationReport
        Every problem, with 1-based file line numbers for CSV.

    Examples
    --------
    >>> import pathlib, tempfile
    >>> p = pathlib.Path(tempfile.mkdtemp()) / "bad.csv"
    >>> _ = p.write_text("person_id,fiscal_year,age,sex\\nA,2019,45,X\\n", encoding="utf-8")
    >>> report = check_file(p)
    >>> report.ok, report.errors[0].rows
    (False, (2,))
    """
    try:
        _, _, report = _load(path, mapping, None, required)
    except (FileFormatError, MappingError) as exc:
        return ValidationReport(
            problems=(DataProblem(column="", kind="unreadable", message=str(exc)),),
            n_rows=0,
            source=str(path),
        )
    return report
