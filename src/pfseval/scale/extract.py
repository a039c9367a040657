"""Out-of-core cohort extracts: filters and year linkage compiled to SQL, run by DuckDB.

A national extract (the NDB holds about 30 million specific-health-check records a year) does
not fit in pandas, but an evaluation only needs one cohort's analysed columns. DuckDB (an
embedded database: no server) scans Parquet files, or UTF-8 CSV, in a streaming, multi-threaded
way with a bounded amount of memory, spilling to disk when it must. :func:`extract_cohort`
builds three SQL steps and runs them there:

1. **Read and type** each year: headers mapped onto the vocabulary as
   :func:`pfseval.io.read_checkups` maps them; numeric vocabulary columns cast to numbers; every
   cell that is not a number, a fraction in a whole-number column, a code outside the
   vocabulary's codes and a value outside its plausible range is *counted* (one aggregate query
   per file) and reported as a :class:`~pfseval.errors.DataValidationError` with the first
   record numbers, as the pandas loader reports them. Ids must be present and unique.
2. **Link** the follow-up year to the baseline (a left join on the id, as text): one row per
   baseline record, follow-up values under ``<name>_follow``, ``followup_years``; the linkage
   flow (no follow-up record; follow-up record without a required item) is counted in SQL.
3. **Filter**: each declarative cohort filter (the spec's ``[cohorts.<name>] where`` entries,
   with the semantics of :meth:`pfseval.batch.spec.Filter.keep_mask`: missing values are never
   kept except by ``missing``) becomes a boolean SQL expression; the number of rows each filter
   excludes comes from one aggregate query, so the sample flow accounts for every record;
   only the rows kept, and only the requested columns, are fetched into pandas.

The result equals the pandas path (read, :func:`pfseval.io.link_years`, the filters) on the
same files: same rows in the same order, same values and dtypes, same flow counts.

CSV in another encoding than UTF-8 (CP932/Shift_JIS, as Japanese systems export) is
transcoded once into a UTF-8 copy in the scratch folder (streamed: memory stays flat; the
copy needs the file's size on disk) and read from there. Text in numeric columns follows the
pandas loader's text rules: each distinct non-numeric text (one extra scan of a CSV) is parsed
once in Python — full-width digits and thousands separators, the missing-value spellings
(``NA``, ``NULL``), the vocabulary's text codes (``男``/``女``, ``＋``/``−``, はい/いいえ) — and
the result becomes a SQL ``CASE``; anything else is counted as not a number.
"""

from __future__ import annotations

import codecs
import math
import os
import re
import tempfile
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

import numpy as np
import pandas as pd

from pfseval.errors import DataProblem, DataValidationError
from pfseval.io.linkage import FOLLOW_SUFFIX
from pfseval.io.loaders import NA_SPELLINGS, FileFormatError, detect_encoding
from pfseval.io.mapping import ColumnMapping, resolve_columns
from pfseval.io.notices import NO_FOLLOWUP, followup_missing
from pfseval.io.validation import _extra_column, _spec_for, _text_to_number
from pfseval.io.vocabulary import normalise_value, text_codes
from pfseval.messages import Message
from pfseval.result import SampleFlow

__all__ = ["CohortExtract", "CohortFilter", "extract_cohort"]

_NUMERIC_TYPE = re.compile(r"^(U?(TINY|SMALL|BIG|HUGE)?INT(EGER)?|FLOAT|DOUBLE|REAL|DECIMAL.*)$")
_MAX_ROWS_SHOWN = 50  # record numbers listed per problem (the count is always exact)


class CohortFilter(Protocol):
    """What :func:`extract_cohort` reads from a filter (:class:`pfseval.batch.spec.Filter`)."""

    column: str
    op: str
    value: Any
    any_of: tuple[Any, ...]

    def reason_message(self) -> Message: ...


@dataclass(frozen=True)
class CohortExtract:
    """A cohort selected out of core.

    Attributes
    ----------
    data
        The rows kept by every filter (baseline order), only the requested columns, typed as
        the pandas loader types them (ids text, whole-number columns ``Int64``, measurements
        ``float64``).
    flow
        Baseline records → one exclusion step per filter → analysed (group ``"all"``).
    link_flow
        The linkage flow (baseline records → no follow-up record → follow-up without a
        required item → linked), or ``None`` without a follow-up file.
    n_records
        Baseline records read.
    n_followup_only
        Follow-up records whose id is not in the baseline.
    sql
        The final query (for the audit trail; it names files and columns, never values of
        persons).
    """

    data: pd.DataFrame
    flow: SampleFlow
    link_flow: SampleFlow | None
    n_records: int
    n_followup_only: int
    sql: str


def _run(con: Any, sql: str) -> None:
    """Run a statement to completion (DuckDB refuses new work while a result is open)."""
    con.execute(sql).fetchall()


def _one(con: Any, sql: str) -> tuple[Any, ...]:
    """The single row of an aggregate query."""
    row = con.execute(sql).fetchall()
    return tuple(row[0])


def _q(name: str) -> str:
    """A quoted SQL identifier."""
    return '"' + str(name).replace('"', '""') + '"'


def _lit(v: Any) -> str:
    """A SQL literal for a filter value (numbers and text only)."""
    if isinstance(v, bool):
        return "TRUE" if v else "FALSE"
    if isinstance(v, int | np.integer):
        return str(int(v))
    if isinstance(v, float | np.floating):
        if not math.isfinite(float(v)):
            raise ValueError(f"filter value {v!r} is not a finite number")
        return repr(float(v))
    return "'" + str(v).replace("'", "''") + "'"


def _scan(path: str, fmt: str) -> str:
    """The table function that reads a file (or a glob of files, e.g. yearly chunks)."""
    p = _lit(path)
    if fmt == "parquet":
        return f"read_parquet({p}, filename = true, file_row_number = true)"
    return f"read_csv({p}, header = true, all_varchar = true, filename = true)"


def _format(path: str, fmt: str | None) -> str:
    if fmt is not None:
        if fmt not in ("csv", "parquet"):
            raise FileFormatError(f"{path}: format must be 'csv' or 'parquet', got {fmt!r}")
        return fmt
    return "parquet" if path.lower().endswith((".parquet", ".pq")) else "csv"


def _csv_files(path: str) -> list[Path]:
    return sorted(Path().glob(path) if not os.path.isabs(path) else _glob(path))


def _utf8_csv(path: str, encoding: str | None, scratch: Path) -> str:
    """``path`` itself when its CSV file(s) are UTF-8; otherwise a UTF-8 copy of each file in
    ``scratch`` (same names, so file order is kept) and the pattern that reads the copies.

    The encoding is ``encoding``, or detected on the first megabyte of the first file as the
    pandas loader detects it (UTF-8, UTF-16 with a byte-order mark, CP932). Bytes that do not
    decode raise :class:`FileFormatError` with their file line, never the bytes.
    """
    files = _csv_files(path)
    if not files:
        return path
    if encoding is None:
        with files[0].open("rb") as fh:
            head = fh.read(1 << 20)
        cut = head.rfind(b"\n") if len(head) == 1 << 20 else len(head) - 1
        try:
            encoding = detect_encoding(head[: cut + 1] if cut > 0 else head)
        except FileFormatError as exc:
            raise FileFormatError(f"{files[0]}: {exc}") from exc
    if codecs.lookup(encoding).name in ("utf-8", "utf-8-sig"):  # DuckDB skips a BOM
        return path
    out_dir = scratch / f"utf8-{len(list(scratch.iterdir()))}"
    out_dir.mkdir()
    for f in files:
        _transcode(f, encoding, out_dir / f.name)
    return str(out_dir / ("*" + "".join(Path(path).suffixes) if len(files) > 1 else files[0].name))


def _transcode(src: Path, encoding: str, dst: Path) -> None:
    dec = codecs.getincrementaldecoder(encoding)()
    line = 1
    with src.open("rb") as fin, dst.open("wb") as fout:
        while True:
            chunk = fin.read(1 << 23)
            try:
                text = dec.decode(chunk, final=not chunk)
            except UnicodeDecodeError as exc:
                at = line + chunk[: exc.start].count(b"\n")
                raise FileFormatError(
                    f"{src}: a byte on line {at} is not valid {encoding}. Fix: re-save the file "
                    "as UTF-8 or CP932, or declare its encoding"
                ) from None
            fout.write(text.encode("utf-8"))
            line += chunk.count(b"\n")
            if not chunk:
                break


def _glob(path: str) -> list[Path]:
    p = Path(path)
    anchor = Path(p.anchor)
    return list(anchor.glob(str(p.relative_to(anchor))))


@dataclass(frozen=True)
class _Year:
    """One year's typed view: the SQL select list and what each column is."""

    view: str
    names: list[str]  # canonical names, in file order
    numeric: set[str]
    n: int
    order: str  # expression giving file order


def _typed_view(
    con: Any,
    view: str,
    path: str,
    fmt: str,
    mapping: ColumnMapping | None,
    id_col: str,
    frame: str,
) -> _Year:
    """Create ``view`` with canonical, typed columns; validate by counting in SQL."""
    scan = _scan(path, fmt)
    try:
        described = con.execute(f"DESCRIBE SELECT * FROM {scan}").fetchall()
    except Exception as exc:  # duckdb raises IOException, InvalidInputException, ...
        raise FileFormatError(
            f"{path}: cannot read {fmt} ({type(exc).__name__}). Fix: check the path (a glob "
            "such as data/2016/*.parquet is allowed) and that the files are complete"
        ) from exc
    helper = {"filename", "file_row_number"}
    headers = [str(r[0]) for r in described if str(r[0]) not in helper]
    types = {str(r[0]): str(r[1]) for r in described}
    nested = [
        h for h in headers if types[h].endswith("[]") or types[h].startswith(("STRUCT", "MAP"))
    ]
    if nested:
        raise FileFormatError(
            f"{path}: column(s) {', '.join(map(repr, nested))} hold lists or structures. Fix: "
            "flatten them to one column per item"
        )
    names_raw, problems = resolve_columns(headers, mapping=mapping)
    names = [str(n) for n in names_raw]
    errors = [p for p in problems if p.severity == "error"]
    if errors:
        raise DataValidationError(errors, source=path)
    select: list[str] = []
    numeric: set[str] = set()
    checks: list[tuple[str, str, str, str]] = []  # (column, kind, condition, expected)
    texts = _odd_texts(con, scan, headers, names, types)
    for h, name in zip(headers, names, strict=True):
        spec = _spec_for(name)
        src = _q(h)
        if spec is not None and spec.numeric:
            if _NUMERIC_TYPE.match(types[h]):
                # typed Parquet: no text round trip; NaN is missing and ±inf is not a
                # measurement, as the pandas loader reads them
                val = f"CAST({src} AS DOUBLE)"
                bad = f"isinf({val})"
            else:
                text = f"NULLIF(TRIM(CAST({src} AS VARCHAR)), '')"
                val, missing = _text_rules(text, texts.get(h, []), spec)
                bad = f"{text} IS NOT NULL AND NOT coalesce(isfinite({val}), false)" + (
                    f" AND {text} NOT IN ({', '.join(map(_lit, missing))})" if missing else ""
                )
            select.append(f"CASE WHEN isfinite({val}) THEN {val} END AS {_q(name)}")
            numeric.add(name)
            checks.append((name, "wrong_type", bad, f"a number ({spec.expected()})"))
            if spec.codes is not None:
                allowed = ", ".join(str(int(c)) for c in spec.codes)
                checks.append(
                    (name, "unknown_code", f"isfinite({val}) AND {val} NOT IN ({allowed})",
                     spec.expected())
                )  # fmt: skip
            else:
                if spec.integer:
                    checks.append(
                        (name, "wrong_type", f"isfinite({val}) AND {val} <> round({val})",
                         f"a whole number ({spec.expected()})")
                    )  # fmt: skip
                if spec.low is not None and spec.high is not None:
                    checks.append(
                        (name, "out_of_range",
                         f"isfinite({val}) AND ({val} < {spec.low!r} OR {val} > {spec.high!r})",
                         spec.expected())
                    )  # fmt: skip
        elif spec is not None or name == id_col:
            select.append(f"NULLIF(TRIM(CAST({src} AS VARCHAR)), '') AS {_q(name)}")
        else:
            select.append(f"{src} AS {_q(name)}")
    if id_col not in names:
        raise DataValidationError(
            [
                DataProblem(
                    column=id_col,
                    kind="missing_column",
                    message=f"the person-id column is absent from the {frame} file(s). Fix: "
                    "add it, or map its header",
                )
            ],
            source=path,
        )
    order = "filename, file_row_number" if fmt == "parquet" else "filename, _row"
    extra = "filename, file_row_number" if fmt == "parquet" else "filename"
    rowcol = "" if fmt == "parquet" else ", row_number() OVER () AS _row"
    _run(
        con,
        f"CREATE OR REPLACE TEMP VIEW {view} AS SELECT {', '.join(select)}, {extra}{rowcol} "
        f"FROM {scan}",
    )
    ident = f"NULLIF(TRIM(CAST({_q(headers[names.index(id_col)])} AS VARCHAR)), '')"
    # one pass over the files counts records, ids and every check
    agg = [
        "count(*)",
        f"count(*) FILTER (WHERE {ident} IS NULL)",
        f"count({ident}) - count(DISTINCT {ident})",
        *(f"count(*) FILTER (WHERE {cond})" for _, _, cond, _ in checks),
    ]
    n, n_noid, n_dup, *counts = _one(con, f"SELECT {', '.join(agg)} FROM {scan}")
    found: list[DataProblem] = []
    for (col, kind, cond, expected), k in zip(checks, counts, strict=True):
        if k:
            rows = _first_rows(con, scan, cond, fmt)
            found.append(
                DataProblem(
                    column=col,
                    kind=kind,
                    message=f"{k} value(s) in the {frame} file(s) break the vocabulary "
                    f"(first record numbers listed). Fix: correct them, or check the column's "
                    "unit and codes",
                    rows=rows,
                    expected=expected,
                )
            )
    if n_noid:
        found.append(
            DataProblem(
                column=id_col,
                kind="missing",
                message=f"{n_noid} {frame} record(s) without a person id. Fix: supply the ids "
                "or remove the records (and account for them)",
            )
        )
    if n_dup:
        found.append(
            DataProblem(
                column=id_col,
                kind="duplicate",
                message=f"{n_dup} {frame} record(s) repeat an id. Fix: keep one record per "
                "person in each year",
            )
        )
    if found:
        raise DataValidationError(found, source=path)
    return _Year(view=view, names=names, numeric=numeric, n=int(n), order=order)


_MAX_TEXTS = 10_000  # distinct non-numeric texts looked up per column (codes are a handful)


def _odd_texts(
    con: Any, scan: str, headers: list[str], names: list[str], types: Mapping[str, str]
) -> dict[str, list[str]]:
    """The distinct trimmed texts of each numeric vocabulary column stored as text that are
    not plain numbers to SQL (one scan for all columns)."""
    cols = [
        h
        for h, n in zip(headers, names, strict=True)
        if (sp := _spec_for(n)) is not None and sp.numeric and not _NUMERIC_TYPE.match(types[h])
    ]
    if not cols:
        return {}
    parts = []
    for h in cols:
        t = f"NULLIF(TRIM(CAST({_q(h)} AS VARCHAR)), '')"
        parts.append(
            f"list_slice(list(DISTINCT {t}) FILTER (WHERE {t} IS NOT NULL AND "
            f"TRY_CAST({t} AS DOUBLE) IS NULL), 1, {_MAX_TEXTS})"
        )
    got = _one(con, f"SELECT {', '.join(parts)} FROM {scan}")
    return {h: [str(x) for x in (v or [])] for h, v in zip(cols, got, strict=True)}


def _text_rules(text: str, odd: Sequence[str], spec: Any) -> tuple[str, list[str]]:
    """The SQL value of a text column under the pandas loader's text rules, and the texts
    read as missing (``NA``, ``NULL``, ...)."""
    codebook = text_codes(spec) if spec.codes is not None else {}
    cases: list[str] = []
    missing: list[str] = []
    for t in odd:
        number = _text_to_number(t)
        if number is None and t in NA_SPELLINGS:
            missing.append(t)
            cases.append(f"WHEN {_lit(t)} THEN NULL")
            continue
        if number is None and normalise_value(t) in codebook:
            number = float(codebook[normalise_value(t)])
        if number is not None:
            cases.append(f"WHEN {_lit(t)} THEN {number!r}")
    plain = f"TRY_CAST({text} AS DOUBLE)"
    if not cases:
        return plain, missing
    return f"CAST(CASE {text} {' '.join(cases)} ELSE {plain} END AS DOUBLE)", missing


def _first_rows(con: Any, scan: str, cond: str, fmt: str) -> tuple[int, ...]:
    """1-based record numbers (within each file) of the first offending records."""
    if fmt != "parquet":
        return ()
    got = con.execute(
        f"SELECT file_row_number + 1 FROM {scan} WHERE {cond} "
        f"ORDER BY filename, file_row_number LIMIT {_MAX_ROWS_SHOWN}"
    ).fetchall()
    return tuple(int(r[0]) for r in got)


def _keep_sql(f: CohortFilter, numeric: set[str], columns: set[str]) -> str:
    """The filter as a SQL condition that is never NULL (Filter.keep_mask's semantics)."""
    if f.any_of:
        return "(" + " OR ".join(_keep_sql(g, numeric, columns) for g in f.any_of) + ")"
    if f.column not in columns:
        raise KeyError(f.column)
    c = _q(f.column)
    op, v = f.op, f.value
    num = c if f.column in numeric else f"TRY_CAST({c} AS DOUBLE)"
    if op == "missing":
        return f"({c} IS NULL)"
    if op == "not_missing":
        return f"({c} IS NOT NULL)"
    if op in ("in", "not_in"):
        vals = list(v)
        items: list[Any]
        if f.column in numeric:
            items = [x for x in vals if isinstance(x, int | float) and not isinstance(x, bool)]
            lhs = c
        else:
            items = [x for x in vals if isinstance(x, str)]
            lhs = f"CAST({c} AS VARCHAR)"
        inside = f"{lhs} IN ({', '.join(_lit(x) for x in items)})" if items else "FALSE"
        cond = inside if op == "in" else f"NOT ({inside})"
        return f"coalesce({c} IS NOT NULL AND {cond}, FALSE)"
    if op == "between":
        return f"coalesce({num} BETWEEN {_lit(v[0])} AND {_lit(v[1])}, FALSE)"
    if op in ("==", "!="):
        eq = f"CAST({c} AS VARCHAR) = {_lit(v)}" if isinstance(v, str) else f"{num} = {_lit(v)}"
        cond = eq if op == "==" else f"NOT coalesce({eq}, FALSE)"
        return f"coalesce({c} IS NOT NULL AND {cond}, FALSE)"
    if op in ("<", "<=", ">", ">="):
        return f"coalesce({num} {op} {_lit(v)}, FALSE)"
    raise ValueError(f"unknown filter operator {op!r}")


_TEXT_KEEP: frozenset[str] = frozenset()


def _to_pandas(df: pd.DataFrame, numeric: set[str]) -> pd.DataFrame:
    """Dtypes as the pandas loader gives them."""
    out = {}
    for c in df.columns:
        base = c[: -len(FOLLOW_SUFFIX)] if c.endswith(FOLLOW_SUFFIX) else c
        spec = _spec_for(c) or _spec_for(base)
        s = df[c]
        if c in numeric and spec is not None and spec.integer:
            out[c] = pd.Series(s.to_numpy(dtype=float, na_value=np.nan)).astype("Int64")
        elif c in numeric or c == "followup_years":
            out[c] = pd.Series(s.to_numpy(dtype=float, na_value=np.nan), dtype=float)
        elif pd.api.types.is_object_dtype(s.dtype) or pd.api.types.is_string_dtype(s.dtype):
            s = s.astype(pd.Series(["a"]).dtype)
            # a column outside the vocabulary: numbers when every cell is one (no leading
            # zero), as the pandas loader reads it
            out[c] = s if spec is not None or c in _TEXT_KEEP else _extra_column(s)[0]
        else:
            out[c] = s
    return pd.DataFrame(out, index=pd.RangeIndex(len(df)))


def extract_cohort(
    baseline: str | os.PathLike[str],
    *,
    followup: str | os.PathLike[str] | None = None,
    id_col: str = "person_id",
    require: Sequence[str] = (),
    where: Sequence[CohortFilter] = (),
    columns: Sequence[str] | None = None,
    mapping: ColumnMapping | None = None,
    format: str | None = None,
    encoding: str | None = None,
    memory_limit: str | None = None,
    threads: int | None = None,
    temp_directory: str | os.PathLike[str] | None = None,
) -> CohortExtract:
    """Select a cohort from health-check files too large for memory, with DuckDB.

    Parameters
    ----------
    baseline
        Parquet or UTF-8 CSV file, or a glob of files (``"ndb/2016/*.parquet"``; read in file
        name order).
    followup
        The follow-up year's file(s); ``None`` for a single year.
    id_col
        Person-id column (unique and present in each year).
    require
        Follow-up items a record must have to count as linked (as for
        :func:`pfseval.io.link_years`).
    where
        Cohort filters (:class:`pfseval.batch.spec.Filter`), applied in order, each an
        exclusion step of the flow.
    columns
        Columns to fetch (default: every column); the filters may use others.
    mapping
        Source header → canonical name (as for :func:`pfseval.io.read_checkups`).
    format
        ``"parquet"`` or ``"csv"``; ``None`` decides by the suffix.
    encoding
        CSV encoding; ``None`` detects UTF-8, UTF-16 (with a byte-order mark) or CP932 as the
        pandas loader does. Files not in UTF-8 are transcoded into a UTF-8 copy in the scratch
        folder first (disk: the files' size).
    memory_limit, threads, temp_directory
        DuckDB settings (e.g. ``"8GB"``, ``2``, a scratch folder for spilling and for the UTF-8
        copies); ``None`` keeps DuckDB's defaults (80% of the memory, every core) and the
        system's temporary folder.

    Returns
    -------
    CohortExtract

    Raises
    ------
    FileFormatError
        Unreadable files, bytes that do not decode (with their line), list columns.
    DataValidationError
        Values that break the vocabulary, missing or repeated ids (counts and the first
        record numbers).
    ColumnMissingError
        A filter or a requested column is not in the data.

    Examples
    --------
    >>> import pathlib, tempfile
    >>> d = pathlib.Path(tempfile.mkdtemp())
    >>> pd.DataFrame({"person_id": ["a", "b", "c"], "fiscal_year": [2016] * 3,
    ...               "age": [50, 80, 60], "sex": [1, 2, 1]}).to_parquet(d / "y16.parquet")
    >>> pd.DataFrame({"person_id": ["a", "c"], "fiscal_year": [2019] * 2, "age": [53, 63],
    ...               "sex": [1, 1]}).to_parquet(d / "y19.parquet")
    >>> from pfseval.batch.spec import Filter
    >>> cohort = extract_cohort(d / "y16.parquet", followup=d / "y19.parquet",
    ...                         where=[Filter("age", "<=", 74)], columns=["person_id", "age_follow"])
    >>> cohort.data["age_follow"].tolist(), cohort.flow.n_analysed()
    ([53, 63], 2)
    """
    import duckdb

    from pfseval.errors import ColumnMissingError

    base_path = os.fspath(baseline)
    if temp_directory is not None:
        # DuckDB would create its spill folder itself; the scratch folder (a UTF-8 copy of
        # a CP932 file) lives inside it, so it must exist first
        Path(temp_directory).mkdir(parents=True, exist_ok=True)
    scratch = tempfile.TemporaryDirectory(
        prefix="pfseval-extract-", dir=os.fspath(temp_directory) if temp_directory else None
    )
    con = duckdb.connect(":memory:")
    try:
        base_fmt = _format(base_path, format)
        if base_fmt == "csv":
            base_path = _utf8_csv(base_path, encoding, Path(scratch.name))
        for key, val in (("memory_limit", memory_limit), ("threads", threads)):
            if val is not None:
                _run(con, f"SET {key} = {_lit(val)}")
        if temp_directory is not None:
            _run(con, f"SET temp_directory = {_lit(os.fspath(temp_directory))}")
        _run(con, "SET preserve_insertion_order = true")
        base = _typed_view(con, "base", base_path, base_fmt, mapping, id_col, "baseline")
        numeric = set(base.numeric)
        available = list(base.names)
        link_flow: SampleFlow | None = None
        n_followup_only = 0
        idq = _q(id_col)
        if followup is None:
            linked_sql = "SELECT * FROM base"
        else:
            fol_path = os.fspath(followup)
            fol_fmt = _format(fol_path, format)
            if fol_fmt == "csv":
                fol_path = _utf8_csv(fol_path, encoding, Path(scratch.name))
            fol = _typed_view(con, "fol", fol_path, fol_fmt, mapping, id_col, "follow-up")
            clash = [c for c in base.names if c.endswith(FOLLOW_SUFFIX)]
            if clash:
                raise DataValidationError(
                    [
                        DataProblem(
                            column=clash[0],
                            kind="duplicate_column",
                            message=f"baseline column already ends in {FOLLOW_SUFFIX!r}. "
                            "Fix: rename it with a mapping",
                        )
                    ],
                    source=base_path,
                )
            missing_req = [r for r in require if r not in fol.names]
            if missing_req:
                raise ColumnMissingError(
                    f"extract_cohort(require=...): follow-up column(s) {missing_req} absent. "
                    "Fix: name columns of the follow-up file"
                )
            fcols = [c for c in fol.names if c != id_col]
            fsel = ", ".join(f"f.{_q(c)} AS {_q(c + FOLLOW_SUFFIX)}" for c in fcols)
            years = ""
            if (
                "fiscal_year" in base.names
                and "fiscal_year" in fol.names
                and "followup_years" not in base.names
            ):
                years = ', f."fiscal_year" - b."fiscal_year" AS "followup_years"'
                numeric.add("followup_years")
            numeric |= {c + FOLLOW_SUFFIX for c in fcols if c in fol.numeric}
            available += [c + FOLLOW_SUFFIX for c in fcols]
            if years:
                available.append("followup_years")
            linked_sql = (
                f"SELECT b.*, {fsel}{years}, f.{idq} IS NOT NULL AS _linked "
                f"FROM base b LEFT JOIN fol f ON b.{idq} = f.{idq}"
            )
            steps = ["count(*)", "count(*) FILTER (WHERE NOT _linked)"]
            cond = "_linked"
            for r in require:
                steps.append(f"count(*) FILTER (WHERE {cond} AND {_q(r + FOLLOW_SUFFIX)} IS NULL)")
                cond += f" AND {_q(r + FOLLOW_SUFFIX)} IS NOT NULL"
            got = _one(con, f"SELECT {', '.join(steps)} FROM ({linked_sql})")
            link_flow = SampleFlow.start(int(got[0]), labels={"all": "baseline records"})
            link_flow = link_flow.exclude(NO_FOLLOWUP, int(got[1]))
            for r, k in zip(require, got[2:], strict=True):
                link_flow = link_flow.exclude(followup_missing(r), int(k))
            n_followup_only = fol.n - (int(got[0]) - int(got[1]))
        _run(con, f"CREATE OR REPLACE TEMP VIEW linked AS {linked_sql}")
        have = set(available)
        try:
            keeps = [_keep_sql(f, numeric, have) for f in where]
        except KeyError as exc:
            raise ColumnMissingError(
                f"extract_cohort(where=...): column {exc.args[0]!r} is not in the data. Fix: "
                f"use one of {sorted(have)}"
            ) from None
        wanted = list(columns) if columns is not None else available
        absent = [c for c in wanted if c not in have]
        if absent:
            raise ColumnMissingError(
                f"extract_cohort(columns=...): {absent} not in the data. Fix: use columns of "
                "the files (follow-up columns end in _follow)"
            )
        # one pass counts every filter's exclusions (each filter sees the rows the earlier
        # ones kept), so the flow accounts for every record
        counts = ["count(*)"]
        for i, k in enumerate(keeps):
            before = " AND ".join(keeps[:i]) or "TRUE"
            counts.append(f"count(*) FILTER (WHERE {before} AND NOT {k})")
        got = _one(con, f"SELECT {', '.join(counts)} FROM linked")
        flow = SampleFlow.start(int(got[0]))
        for f, k in zip(where, got[1:], strict=True):
            flow = flow.exclude(f.reason_message(), int(k))
        order = ", ".join(o.strip() for o in base.order.split(","))
        sql = (
            f"SELECT {', '.join(_q(c) for c in wanted)} FROM linked "
            f"WHERE {' AND '.join(keeps) or 'TRUE'} ORDER BY {order}"
        )
        table = con.sql(sql).to_arrow_table()
    finally:
        con.close()
        scratch.cleanup()
    frame = table.to_pandas()
    data = _to_pandas(frame, numeric)
    return CohortExtract(
        data=data,
        flow=flow,
        link_flow=link_flow,
        n_records=base.n,
        n_followup_only=n_followup_only,
        sql=sql,
    )


def filter_sql(where: Sequence[CohortFilter], *, numeric: Mapping[str, bool]) -> list[str]:
    """The SQL condition of each filter (for documentation and tests).

    Examples
    --------
    >>> from pfseval.batch.spec import Filter
    >>> filter_sql([Filter("age", "between", [40, 74])], numeric={"age": True})
    ['coalesce("age" BETWEEN 40 AND 74, FALSE)']
    """
    num = {c for c, is_num in numeric.items() if is_num}
    return [_keep_sql(f, num, set(numeric)) for f in where]
