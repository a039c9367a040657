"""Validation of health-check data against the vocabulary, reporting every problem at once.

:func:`validate_checkups` parses each vocabulary column the way the loaders do (numbers,
recognised text codes) *without changing the input* and reports, as
:class:`pfseval.errors.DataProblem` records:

* ``missing_column`` — a required column (person_id, fiscal_year, age, sex) is absent;
* ``missing`` — a required column has empty cells;
* ``wrong_type`` — text that is not a number in a numeric column, or a fraction in a
  whole-number column;
* ``unknown_code`` — a sex, dipstick or 0/1 code that is not recognised;
* ``out_of_range`` — a value outside the plausible range of :data:`VOCABULARY`;
* ``duplicate`` — several rows with the same (person_id, fiscal_year);
* ``inconsistent`` — diastolic ≥ systolic pressure (error); BMI differing from
  weight / height² by more than 1 kg/m² (warning);
* ``duplicate_column`` — two columns carry the same canonical name;
* ``converted`` (info) — recognised text codes that the loader converts (e.g. ``男`` → 1);
* ``extra_column`` (info) — a column outside the vocabulary, kept (text columns whose every
  value is a plain number without a leading zero are read as float64).

Follow-up copies of vocabulary columns (``egfr_follow``, ``sbp_follow``, ...) are parsed and
range-checked like the column they copy.

Row numbers are 0-based positions for a data frame; the loaders report 1-based file line
numbers for CSV (the header is line 1, so the first record is line 2) and 1-based record
numbers for Parquet. :attr:`ValidationReport.row_numbering` says which.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any

import numpy as np
import pandas as pd

from pfseval.checks import arrow_text, byte_range, text_buffers
from pfseval.errors import DataProblem, DataValidationError, PfsevalWarning, format_rows
from pfseval.io.vocabulary import (
    REQUIRED_COLUMNS,
    VOCABULARY,
    ColumnSpec,
    normalise_value,
    text_codes,
)

__all__ = ["DataQualityWarning", "ValidationReport", "parse_checkups", "validate_checkups"]

_MAX_VALUES = 50  # offending values kept per problem (rows are all kept)
_BMI_TOLERANCE = 1.0  # kg/m²: reported BMI vs weight/height²; covers rounding to 0.1 of all three


class DataQualityWarning(PfsevalWarning):
    """Data passed validation but with warnings (e.g. BMI inconsistent with height/weight)."""


# ---------------------------------------------------------------- report


@dataclass(frozen=True)
class ValidationReport:
    """Every problem found in one dataset.

    Attributes
    ----------
    problems
        All problems, errors first, then warnings, then information.
    n_rows
        Number of data rows checked.
    source
        The file (or a label) the data came from.
    row_numbering
        How ``DataProblem.rows`` are numbered (0-based positions, file lines, ...).
    columns
        Column in the checked data → source header it came from.

    Examples
    --------
    >>> df = pd.DataFrame({"person_id": ["a", "b"], "fiscal_year": [2019, 2019],
    ...                    "age": [45, 300], "sex": [1, 2]})
    >>> report = validate_checkups(df)
    >>> report.ok
    False
    >>> p = report.problems[0]
    >>> p.column, p.kind, p.rows, p.values, p.expected
    ('age', 'out_of_range', (1,), (300,), '18 ≤ age ≤ 110 years')
    """

    problems: tuple[DataProblem, ...]
    n_rows: int
    source: str = ""
    row_numbering: str = "0-based row positions in the data frame"
    columns: Mapping[str, str] = field(default_factory=dict)

    def __post_init__(self) -> None:
        order = {"error": 0, "warning": 1, "info": 2}
        probs = sorted(self.problems, key=lambda p: order.get(p.severity, 3))
        object.__setattr__(self, "problems", tuple(probs))
        object.__setattr__(self, "columns", MappingProxyType(dict(self.columns)))

    @property
    def errors(self) -> tuple[DataProblem, ...]:
        """Problems of severity ``"error"``."""
        return tuple(p for p in self.problems if p.severity == "error")

    @property
    def warnings(self) -> tuple[DataProblem, ...]:
        """Problems of severity ``"warning"``."""
        return tuple(p for p in self.problems if p.severity == "warning")

    @property
    def ok(self) -> bool:
        """``True`` when there is no error (warnings and information are allowed)."""
        return not self.errors

    def to_text(self) -> str:
        """A plain-text report: a summary line, then one line per problem."""
        head = f"{self.source}: " if self.source else ""
        n_info = len(self.problems) - len(self.errors) - len(self.warnings)
        lines = [
            f"{head}{self.n_rows} rows checked: {len(self.errors)} error(s), "
            f"{len(self.warnings)} warning(s), {n_info} note(s)"
            + (" — OK" if self.ok else " — NOT OK")
        ]
        lines += [f"  - {p}" for p in self.problems]
        if any(p.rows for p in self.problems):
            lines.append(f"(rows are {self.row_numbering})")
        return "\n".join(lines)

    def __str__(self) -> str:
        return self.to_text()

    def to_frame(self) -> pd.DataFrame:
        """One row per problem: severity, column, kind, n_rows, rows, values, expected, message."""
        cols = ["severity", "column", "kind", "n_rows", "rows", "values", "expected", "message"]
        rows = [
            {
                "severity": p.severity,
                "column": p.column,
                "kind": p.kind,
                "n_rows": len(p.rows),
                "rows": format_rows(p.rows),
                "values": format_rows(p.values),
                "expected": p.expected,
                "message": p.message,
            }
            for p in self.problems
        ]
        return pd.DataFrame(rows, columns=cols)

    def raise_for_errors(self) -> None:
        """Raise :class:`~pfseval.errors.DataValidationError` listing every error and warning
        when there is at least one error; do nothing otherwise."""
        if not self.ok:
            raise DataValidationError(
                [p for p in self.problems if p.severity != "info"], source=self.source
            )


# ---------------------------------------------------------------- parsing


def _is_numeric_dtype(s: pd.Series) -> bool:
    return pd.api.types.is_numeric_dtype(s.dtype) or pd.api.types.is_bool_dtype(s.dtype)


_THOUSANDS = re.compile(r"^[+-]?\d{1,3}(,\d{3})+(\.\d*)?$")
# A plain decimal number. Python's float() also takes "1_30" (= 130) and "infinity"; a cell
# written like that is a typing slip, not a measurement, so it is reported instead.
_PLAIN_NUMBER = re.compile(r"^[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?$")


def _text_to_number(text: str) -> float | None:
    t = unicodedata.normalize("NFKC", text).strip()
    if "," in t:  # thousands separators only ("1,200"); "6,5" is not a number
        if not _THOUSANDS.match(t):
            return None
        t = t.replace(",", "")
    if not _PLAIN_NUMBER.match(t):
        return None
    try:
        x = float(t)
    except ValueError:
        return None
    return x if np.isfinite(x) else None  # "inf" / "nan" text is not a measurement


def _factorize_numbers(s: pd.Series) -> tuple[np.ndarray, pd.Series, np.ndarray]:
    """Each cell's code (0 when missing, j + 1 for the j-th distinct value: a lookup is one
    ``take`` of a table headed by the missing value's entry, with no temporary as long as the
    column), the distinct values, and each distinct value as a float (NaN when it is not a
    plain number): each distinct text is parsed once."""
    codes, uniques = pd.factorize(s, use_na_sentinel=True)
    codes = np.add(codes, 1, out=codes if codes.flags.writeable else None)
    uniq = pd.Series(np.asarray(uniques, dtype=object), dtype=object)
    parsed = pd.to_numeric(uniq, errors="coerce").to_numpy(dtype=float, na_value=np.nan).copy()
    return codes, uniq, parsed


def _parse_numeric(
    s: pd.Series, spec: ColumnSpec
) -> tuple[np.ndarray, np.ndarray, dict[str, tuple[int, int]]]:
    """Parse a column to floats.

    Returns the values (NaN where missing or unparseable), a mask of unparseable cells and the
    recognised text codes used (text → (code, count)).
    """
    if _is_numeric_dtype(s):
        if s.dtype == np.float64:  # NaN is already the missing value: the column itself
            values = s.to_numpy()
        else:
            values = pd.to_numeric(s, errors="coerce").to_numpy(dtype=float, na_value=np.nan)
        infinite = np.isinf(values)
        if infinite.any():  # copy only when there is something to blank
            values = np.where(infinite, np.nan, values)
        return values, infinite, {}
    # Each distinct text is parsed once: numbers first, then the text rules for the rest.
    codes, uniq, parsed = _factorize_numbers(s)
    bad_u = np.zeros(len(uniq), dtype=bool)
    used: dict[str, tuple[int, int]] = {}
    todo = np.flatnonzero(~np.isfinite(parsed))
    if len(todo):
        codebook = text_codes(spec)
        counts = np.bincount(codes, minlength=len(uniq) + 1)[1:]
        for j in todo:
            text = str(uniq.iloc[j])
            parsed[j] = np.nan
            if text.strip() == "":
                continue  # blank cell: missing
            number = _text_to_number(text)
            if number is not None:
                parsed[j] = number
                continue
            key = normalise_value(text)
            if key in codebook:
                parsed[j] = codebook[key]
                used[text] = (codebook[key], int(counts[j]))
            else:
                bad_u[j] = True
    if not len(uniq):  # every cell missing: nothing to look up (indexing would fail)
        return np.full(len(codes), np.nan), np.zeros(len(codes), dtype=bool), used
    values = np.concatenate([[np.nan], parsed]).take(codes)
    bad = np.concatenate([[False], bad_u]).take(codes)
    return values, bad, used


_SPACES = (b" ", b"\t", b"\n", b"\r", b"\x0b", b"\x0c")


def _plain_text(s: pd.Series) -> bool:
    """Whether an Arrow-backed text column has no cell to strip or blank: ASCII without any
    white space and no empty cell (one pass over its bytes, no string per cell)."""
    import pyarrow.compute as pc

    found = text_buffers(s)
    if found is None:
        return False
    col, offsets, data = found
    if len(col) == col.null_count:
        return False
    if col.null_count:
        if pc.min(pc.binary_length(col)).as_py() == 0:
            return False
    elif np.any(offsets[1:] == offsets[:-1]):  # an empty cell, without an array of lengths
        return False
    low, high = byte_range(data)
    if high >= 0x80:
        return False
    if low > 0x20:  # ASCII above the space: no white space (one pass, no copy)
        return True
    text = data.to_pybytes()
    return not any(c in text for c in _SPACES)


def _as_text(s: pd.Series) -> pd.Series:
    """Identifiers and codes as text; whole floats (e.g. ids read as 1001.0) lose the ``.0``."""
    if pd.api.types.is_string_dtype(s.dtype) and not pd.api.types.is_object_dtype(s.dtype):
        if s.dtype == _STR and _plain_text(s):
            return s  # nothing to strip, no empty cell: the column as it is
        # vectorised for text read from a file (a million ids in milliseconds, not seconds)
        t = s.str.strip()
        return t.where(t.notna() & (t != ""), None).astype(_STR)
    if pd.api.types.is_float_dtype(s.dtype):
        v = s.to_numpy(dtype=float, na_value=np.nan)
        finite = np.isfinite(v)
        if np.all(v[finite] == np.round(v[finite])):
            ints = [str(int(x)) if f else None for x, f in zip(v, finite, strict=True)]
            return pd.Series(ints, index=s.index, dtype=_STR)
    missing = s.isna().to_numpy()
    texts = [
        None if m else (str(x).strip() or None)
        for x, m in zip(s.to_numpy(dtype=object), missing, strict=True)
    ]
    return pd.Series(texts, index=s.index, dtype=_STR)


_STR: Any = pd.Series(["a"]).dtype  # the default string dtype: ``str`` in pandas 3, else object


FOLLOW_SUFFIX = "_follow"
"""Suffix of follow-up copies of vocabulary columns (``egfr_follow``), as made by ``link_years``."""
_LEADING_ZERO = re.compile(r"^\s*[+-]?0\d")


def _spec_for(col: object) -> ColumnSpec | None:
    """The spec of a vocabulary column, also for follow-up copies such as ``egfr_follow``."""
    if not isinstance(col, str):
        return None
    if col in VOCABULARY:
        return VOCABULARY[col]
    if col.endswith(FOLLOW_SUFFIX) and col[: -len(FOLLOW_SUFFIX)] in VOCABULARY:
        base = VOCABULARY[col[: -len(FOLLOW_SUFFIX)]]
        return None if base.required else base
    return None


def _extra_column(s: pd.Series) -> tuple[pd.Series, bool]:
    """An extra column as float64 when every value is a plain number (and no value has a
    leading zero, which would mark a code such as ``"0123"``); otherwise unchanged."""
    if _is_numeric_dtype(s) or not (
        pd.api.types.is_object_dtype(s.dtype) or pd.api.types.is_string_dtype(s.dtype)
    ):
        return s, False
    codes, uniq, parsed = _factorize_numbers(s)
    if len(uniq) == 0:
        return s, False
    if not np.all(np.isfinite(parsed)):
        return s, False
    if any(isinstance(u, str) and _LEADING_ZERO.match(u) for u in uniq):
        return s, False
    values = np.concatenate([[np.nan], parsed]).take(codes)
    return pd.Series(values, index=s.index, dtype=float), True


def _cells_of(df: pd.DataFrame) -> CellText:
    def cells(position: int, mask: np.ndarray) -> np.ndarray:
        return df.iloc[:, position].to_numpy()[mask].astype(object)

    return cells


@dataclass(frozen=True)
class _CellView:
    """``cells[mask]`` for a column whose text the loader keeps (only problem cells are
    materialised)."""

    text: CellText
    position: int

    def __getitem__(self, mask: np.ndarray) -> np.ndarray:
        return self.text(self.position, mask)


@dataclass(frozen=True)
class _Parsed:
    frame: pd.DataFrame  # converted frame (unconvertible cells NaN)
    bad: Mapping[str, np.ndarray]  # column -> mask of unconvertible cells
    problems: tuple[DataProblem, ...]


def _rows(mask: np.ndarray, row_numbers: np.ndarray) -> tuple[int, ...]:
    return tuple(int(r) for r in row_numbers[np.flatnonzero(mask)])


def _vals(values: Sequence[Any] | np.ndarray) -> tuple[Any, ...]:
    out = []
    for v in list(values)[:_MAX_VALUES]:
        if isinstance(v, np.generic):
            v = v.item()
        if isinstance(v, float) and v.is_integer():
            v = int(v)
        out.append(v)
    return tuple(out)


CellText = Callable[[int, np.ndarray], np.ndarray]
"""Cells of the column at a position, as written in the file, where a mask is true."""


def _bounds(spec: ColumnSpec) -> tuple[float, float] | None:
    """The interval every value must lie in when that alone decides validity: the range, or
    the codes when they are consecutive whole numbers (0/1, 1/2, 0–4); None otherwise."""
    if spec.codes is not None:
        codes = sorted(spec.codes)
        if codes != list(range(codes[0], codes[-1] + 1)):
            return None
        return float(codes[0]), float(codes[-1])
    return (
        -np.inf if spec.low is None else float(spec.low),
        np.inf if spec.high is None else float(spec.high),
    )


def _all_whole(values: np.ndarray) -> bool:
    """Whether every non-missing value is a whole number; block by block, so that a million
    values need no million-value temporary."""
    scratch = np.empty(min(len(values), _BLOCK_ROWS))
    for a in range(0, len(values), _BLOCK_ROWS):
        block = values[a : a + _BLOCK_ROWS]
        gap = scratch[: len(block)]
        np.rint(block, out=gap)
        np.subtract(block, gap, out=gap)
        np.abs(gap, out=gap)
        if np.fmax.reduce(gap) > 0:  # NaN (missing) ignored; an all-missing block gives NaN
            return False
    return True


def _clean_numbers(s: pd.Series, spec: ColumnSpec, own_input: bool) -> pd.Series | None:
    """The column converted, when it holds numbers already (a typed file column) and every
    value passes: its extremes lie in the range (or the consecutive codes) and, where whole
    numbers are required, none has a fraction. None sends the column to the full parse,
    which locates and reports each problem. Reductions over the column replace the full
    checks' masks (no temporary as large as the column in the usual, clean case)."""
    dtype = s.dtype
    if not isinstance(dtype, np.dtype) or dtype.kind not in "iuf" or len(s) == 0:
        return None
    if dtype.kind == "f" and dtype != np.float64:
        return None
    bounds = _bounds(spec)
    if bounds is None:
        return None
    values = s.to_numpy()
    if dtype.kind == "f":
        low, high = np.fmin.reduce(values), np.fmax.reduce(values)  # NaN (missing) ignored
        if not np.isnan(low) and not (np.isfinite(low) and np.isfinite(high)):
            return None  # an infinity: reported by the full parse
    else:
        low, high = values.min(), values.max()
    if not np.isnan(low) and not (bounds[0] <= low and high <= bounds[1]):
        return None
    whole = spec.integer or spec.codes is not None
    if dtype.kind == "f" and whole and not _all_whole(values):
        return None
    if not spec.integer:
        floats = values.astype(np.float64, copy=False)
        return pd.Series(_writable(floats, own_input), index=s.index, copy=False)
    if dtype.kind != "f":
        ints = _writable(values.astype(np.int64, copy=False), own_input)
        return pd.Series(
            pd.arrays.IntegerArray(ints, np.zeros(len(ints), dtype=bool)), index=s.index, copy=False
        )
    missing = np.isnan(values)
    ints = pd.arrays.IntegerArray(_whole_numbers(values, ~missing, own_input), missing)
    return pd.Series(ints, index=s.index, copy=False)


def _parse(
    df: pd.DataFrame,
    row_numbers: np.ndarray,
    cell_text: CellText | None = None,
    *,
    own_input: bool = False,
) -> _Parsed:
    problems: list[DataProblem] = []
    out: dict[Any, pd.Series] = {}
    bad_masks: dict[str, np.ndarray] = {}
    seen: set[Any] = set()
    dup_labels = [c for c in df.columns if list(df.columns).count(c) > 1]
    for c in dict.fromkeys(dup_labels):
        problems.append(
            DataProblem(
                column=str(c),
                kind="duplicate_column",
                message=f"{list(df.columns).count(c)} columns carry this name; only one "
                "can be used. Fix: drop or rename the extra column(s) in the file or mapping",
            )
        )
    for pos, col in enumerate(df.columns):
        if col in seen:
            continue
        seen.add(col)
        s = df.iloc[:, pos]
        spec = _spec_for(col)
        if spec is None:
            out[col], as_numbers = _extra_column(s)
            if _is_numeric_dtype(out[col]) and isinstance(out[col].dtype, np.dtype):
                arr = _writable(np.asarray(out[col].array), own_input or as_numbers)
                out[col] = pd.Series(arr, index=s.index, copy=False)
            if col not in dup_labels:
                how = "read as numbers" if as_numbers else "kept as is"
                problems.append(
                    DataProblem(
                        column=str(col),
                        kind="extra_column",
                        message=f"not in the vocabulary; {how}",
                        severity="info",
                    )
                )
            continue
        if not spec.numeric:
            out[col] = _as_text(s)
            continue
        clean = _clean_numbers(s, spec, own_input)
        if clean is not None:
            out[col] = clean
            continue
        values, bad, used = _parse_numeric(s, spec)
        finite = np.isfinite(values)
        # problems show the cell as written ("６５"); only the cells of problems are made into
        # objects. The loader keeps the file's text for the columns it parsed already.
        cells = _CellView(cell_text or _cells_of(df), pos)
        if used:
            desc = ", ".join(f"{t!r} → {c} ({k})" for t, (c, k) in used.items())
            problems.append(
                DataProblem(
                    column=col,
                    kind="converted",
                    message=f"{sum(k for _, k in used.values())} text value(s) converted to "
                    f"codes: {desc}",
                    severity="info",
                )
            )
        if spec.codes is not None:
            allowed = np.array(sorted(spec.codes), dtype=float)
            unknown = bad | (finite & ~np.isin(values, allowed))
            if unknown.any():
                hint = ""
                if spec.kind == "flag" and np.any(values[unknown] == 2):
                    hint = " (the MHLW questionnaire coding 1 = yes, 2 = no must be recoded)"
                problems.append(
                    DataProblem(
                        column=col,
                        kind="unknown_code",
                        message=f"{int(unknown.sum())} unknown code(s){hint}. Fix: recode to "
                        "the allowed codes (pfseval never guesses a code).",
                        rows=_rows(unknown, row_numbers),
                        values=_vals(cells[unknown]),
                        expected=spec.expected(),
                    )
                )
            bad = unknown
        else:
            if bad.any():
                problems.append(
                    DataProblem(
                        column=col,
                        kind="wrong_type",
                        message=f"{int(bad.sum())} value(s) that are not numbers. Fix: correct "
                        "the cells or leave them empty for missing.",
                        rows=_rows(bad, row_numbers),
                        values=_vals(cells[bad]),
                        expected=f"a number ({spec.expected()})",
                    )
                )
            if spec.integer:
                frac = finite & (values != np.round(values))
                if frac.any():
                    problems.append(
                        DataProblem(
                            column=col,
                            kind="wrong_type",
                            message=f"{int(frac.sum())} value(s) are not whole numbers. Fix: "
                            "correct the cells.",
                            rows=_rows(frac, row_numbers),
                            values=_vals(cells[frac]),
                            expected=f"a whole number ({spec.expected()})",
                        )
                    )
                    bad = bad | frac
            if spec.low is not None and spec.high is not None:
                out_r = finite & ~bad & ((values < spec.low) | (values > spec.high))
                if out_r.any():
                    problems.append(
                        DataProblem(
                            column=col,
                            kind="out_of_range",
                            message=f"{int(out_r.sum())} value(s) outside the plausible range. "
                            "Fix: check the value and its unit.",
                            rows=_rows(out_r, row_numbers),
                            values=_vals(cells[out_r]),
                            expected=spec.expected(),
                        )
                    )
        bad_masks[col] = bad
        if spec.integer:
            ok = finite & (values == np.round(values))
            # values parsed from text are a fresh array: written over as well
            mine = own_input or not _is_numeric_dtype(s)
            ints = pd.arrays.IntegerArray(_whole_numbers(values, ok, mine and not bad.any()), ~ok)
            out[col] = pd.Series(ints, index=s.index, copy=False)
        else:
            out[col] = pd.Series(
                _writable(values.astype(np.float64, copy=False), own_input),
                index=s.index,
                copy=False,
            )
    # the columns were made here: no copy, and no stacking into 2-D blocks (peak memory)
    frame = pd.DataFrame(out, index=df.index, copy=False)
    return _Parsed(frame=frame, bad=bad_masks, problems=tuple(problems))


def _unique_ids(pid: pd.Series) -> bool:
    """Whether the non-missing ids are all different.

    Ids exported with a fixed width (zero-padded numbers, the usual case) are compared as
    fixed-width bytes straight from the Arrow buffers, folded into 64-bit keys and sorted: no
    Python string per id. A repeated key (or ids of varying width) sends the question to
    pandas' exact hash check.
    """
    fast = _fixed_width_unique(pid)
    if fast is not None:
        return fast
    return bool(pd.Index(pid[pid.notna()]).is_unique)


def _fixed_width_unique(pid: pd.Series) -> bool | None:

    found = text_buffers(pid)
    if found is None:
        return None
    col, offsets, data_buf = found
    n = len(col)
    if col.null_count or n < 2:
        return None
    width = int(offsets[1] - offsets[0])
    if width == 0 or width > 64 or int(offsets[-1] - offsets[0]) != width * n:
        return None
    if not np.all(np.diff(offsets) == width):
        return None
    if width <= 18:  # digits only (the usual export): the ids as whole numbers, sorted
        key = np.empty(n, dtype=np.int64)
        # letters, or a repeat ("+12" and "012" are one number): settled by the bytes below
        if _number_keys(col, key) and not np.any(key[1:] == key[:-1]):
            return True
    data = np.frombuffer(data_buf, dtype=np.uint8)[offsets[0] : offsets[0] + width * n]
    words = -(-width // 8)
    cells = data.reshape(n, width)
    key = np.zeros(n, dtype=np.uint64)
    word = np.zeros((n, 8), dtype=np.uint8)
    for j in range(words):  # 8 bytes at a time, big-endian, folded into one key
        part = cells[:, 8 * j : 8 * j + 8]
        word[:, : part.shape[1]] = part
        word[:, part.shape[1] :] = 0
        with np.errstate(over="ignore"):
            key *= np.uint64(0x9E3779B97F4A7C15)
            key += word.view(">u8").ravel().astype(np.uint64)
    del word
    key.sort()
    if bool(np.any(key[1:] == key[:-1])):
        return None if words > 1 else False
    return True


_BLOCK_ROWS = 1 << 16


def _number_keys(col: Any, key: np.ndarray) -> bool:
    """Write the ids of ``col`` (Arrow text) into ``key`` as whole numbers, sorted; False when
    some id is not one (letters, or more digits than a 64-bit number holds). Converted in
    slices: no array as long as the column is made besides ``key``, which the caller owns (a
    thread's own allocator would keep such an array after the thread ends)."""
    import pyarrow as pa
    import pyarrow.compute as pc

    for a in range(0, len(col), _BLOCK_ROWS):
        part = col.slice(a, _BLOCK_ROWS)
        try:
            np.copyto(key[a : a + len(part)], pc.cast(part, pa.int64()).to_numpy())
        except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
            return False
    key.sort()
    return True


def _writable(values: np.ndarray, own: bool) -> np.ndarray:
    """``values`` as a column the caller may write to. pandas hands out read-only views of
    its columns and Arrow's memory is read-only: the loader's own array is made writable in
    place when its memory allows (no copy), anything else is copied (a frame the caller passed
    in is never written through the result)."""
    if values.flags.writeable and own:
        return values
    if own:
        view = values.view()
        try:
            view.flags.writeable = True
        except ValueError:  # Arrow's buffer: a copy is the only way
            return values.copy()
        return view
    base = values.base if values.base is not None else values
    return values.copy() if not values.flags.writeable or base is not values else values


def _whole_numbers(values: np.ndarray, ok: np.ndarray, reuse: bool) -> np.ndarray:
    """The values as int64 (0 where not ``ok``). With ``reuse`` (the loader's own float
    column, not needed afterwards) the int64 values are written over the float ones block by
    block, so a million-row column does not need a second 8 MB buffer."""
    if reuse and values.dtype == np.float64 and values.flags.c_contiguous:
        values = values.view()
        try:  # pandas hands out read-only views of its columns; the loader's own may be written
            values.flags.writeable = True
        except ValueError:
            reuse = False
    else:
        reuse = False
    if not reuse:
        whole = np.zeros(len(values), dtype=np.int64)
        np.copyto(whole, values, casting="unsafe", where=ok)
        return whole
    out = values.view(np.int64)
    for a in range(0, len(values), _BLOCK_ROWS):
        b = a + _BLOCK_ROWS
        block = np.where(ok[a:b], values[a:b], 0.0).astype(np.int64)
        out[a:b] = block  # the block's floats were read into `block` before this write
    return out


def _row_checks(
    parsed: pd.DataFrame,
    bad: Mapping[str, np.ndarray],
    row_numbers: np.ndarray,
    required: Sequence[str],
    ids_unique: bool | None = None,
) -> list[DataProblem]:
    """Checks across columns: required columns complete, one record per person (and year),
    diastolic below systolic pressure, BMI consistent with height and weight. ``ids_unique``:
    whether the person ids are all different, when already known."""
    problems: list[DataProblem] = []
    cols = set(parsed.columns)
    for c in required:
        spec = VOCABULARY.get(c)
        if c not in cols:
            label = f" ({spec.label_ja})" if spec else ""
            problems.append(
                DataProblem(
                    column=c,
                    kind="missing_column",
                    message=f"required column{label} is absent. Fix: add it, or map its "
                    "header with mapping={'<header>': '" + c + "'}",
                    expected=spec.expected() if spec else "",
                )
            )
            continue
        miss = parsed[c].isna().to_numpy().copy()
        if c in bad:  # unparseable cells are reported once, as wrong types / unknown codes
            miss &= ~bad[c]
        if miss.any():
            problems.append(
                DataProblem(
                    column=c,
                    kind="missing",
                    message=f"{int(miss.sum())} empty cell(s) in a required column. Fix: fill "
                    "them or remove the records (and account for them).",
                    rows=_rows(miss, row_numbers),
                    expected=spec.expected() if spec else "a value",
                )
            )
    pid = parsed["person_id"] if "person_id" in cols else None
    # Unique person ids cannot make a duplicate (person, year) pair: one hash pass settles
    # the usual case; the full check runs only when some id repeats.
    if ids_unique is None and pid is not None:
        ids_unique = _unique_ids(pid)
    if pid is not None and not ids_unique:
        # one record per person and year; per person when the data have no fiscal_year
        key_cols = ["person_id", "fiscal_year"] if "fiscal_year" in cols else ["person_id"]
        what = "(person_id, fiscal_year) pair(s)" if len(key_cols) == 2 else "person id(s)"
        key = parsed[key_cols]
        complete = key.notna().all(axis=1).to_numpy()
        dup = key.duplicated(keep=False).to_numpy() & complete
        if dup.any():
            ids = key[dup].astype(str).agg("/".join, axis=1).to_numpy()
            n_keys = int(key[dup].drop_duplicates().shape[0])
            problems.append(
                DataProblem(
                    column="person_id",
                    kind="duplicate",
                    message=f"{int(dup.sum())} rows share {n_keys} {what}. Fix: keep one "
                    "record per person" + (" and year." if len(key_cols) == 2 else "."),
                    rows=_rows(dup, row_numbers),
                    values=_vals(ids),
                    expected=f"one row per ({', '.join(key_cols)})",
                )
            )
    if {"sbp", "dbp"} <= cols:
        sbp = parsed["sbp"].to_numpy(dtype=float)
        dbp = parsed["dbp"].to_numpy(dtype=float)
        with np.errstate(invalid="ignore"):
            inv = dbp >= sbp
        if inv.any():
            problems.append(
                DataProblem(
                    column="dbp",
                    kind="inconsistent",
                    message=f"{int(inv.sum())} row(s) with diastolic ≥ systolic pressure "
                    "(columns swapped?). Fix: correct the values.",
                    rows=_rows(inv, row_numbers),
                    values=_vals([f"{s:g}/{d:g}" for s, d in zip(sbp[inv], dbp[inv], strict=True)]),
                    expected="dbp < sbp",
                )
            )
    if {"bmi", "height", "weight"} <= cols:
        w = parsed["weight"].to_numpy(dtype=float)
        b = parsed["bmi"].to_numpy(dtype=float)
        with np.errstate(invalid="ignore", divide="ignore"):
            # |b - w / (height / 100)²| in one buffer (a million rows: no temporaries)
            gap = parsed["height"].to_numpy(dtype=float) / 100.0
            np.square(gap, out=gap)
            np.divide(w, gap, out=gap)
            np.subtract(b, gap, out=gap)
            np.abs(gap, out=gap)
            inc = gap > _BMI_TOLERANCE
        del gap
        if inc.any():
            problems.append(
                DataProblem(
                    column="bmi",
                    kind="inconsistent",
                    message=f"{int(inc.sum())} BMI value(s) differ from weight / height² by "
                    f"more than {_BMI_TOLERANCE:g} kg/m². Fix: check height, weight and BMI.",
                    rows=_rows(inc, row_numbers),
                    values=_vals(np.round(b[inc], 1)),
                    expected="bmi = weight / (height/100)²",
                    severity="warning",
                )
            )
    return problems


def parse_checkups(
    df: pd.DataFrame,
    *,
    source: str = "",
    row_numbers: Sequence[int] | np.ndarray | None = None,
    row_numbering: str | None = None,
    required: Sequence[str] = REQUIRED_COLUMNS,
) -> tuple[pd.DataFrame, ValidationReport]:
    """Convert vocabulary columns to their types and validate, in one pass.

    Parameters
    ----------
    df
        Data with canonical column names; values may be text (as read from a file).
    source
        Label for messages (e.g. the file name).
    row_numbers
        Number to report for each row (default: 0-based positions).
    row_numbering
        How ``row_numbers`` are numbered, in words (shown in the report).
    required
        Columns that must be present and complete (default: person_id, fiscal_year, age,
        sex). A wide programme table without ``fiscal_year`` may pass ``("person_id",)``;
        duplicates are then checked per person.

    Returns
    -------
    (converted, report)
        ``converted`` has the same rows and columns as ``df``: identifiers and codes as text,
        whole-number columns as ``Int64``, measurements as ``float64``; recognised text codes
        converted; cells that could not be converted are missing in ``converted`` and listed
        in ``report``. Use :func:`validate_checkups` when only the report is needed.

    Examples
    --------
    >>> raw = pd.DataFrame({"person_id": ["a"], "fiscal_year": ["2020"], "age": ["61"],
    ...                     "sex": ["女"], "urine_protein": ["±"]})
    >>> converted, report = parse_checkups(raw)
    >>> int(converted.loc[0, "sex"]), int(converted.loc[0, "urine_protein"]), report.ok
    (2, 1, True)
    """
    return _parse_checkups(
        df, source=source, row_numbers=row_numbers, row_numbering=row_numbering, required=required
    )


_CONCURRENT_ROWS = 100_000  # from here the id check runs beside the parse (below: not worth it)


def _start_id_check(
    pid: pd.Series | None, pool: ThreadPoolExecutor
) -> Callable[[], bool | None] | None:
    """Start the usual id check in ``pool``'s thread, beside the column parse on this one:
    ids of digits, sorted as whole numbers (NumPy and Arrow let go of the GIL, so the two use
    both cores). Different numbers are different ids, so keys without a repeat settle it.
    Returns a function that gives True when the ids are all different and None when this check
    cannot tell (a repeated number, which "012" and "+12" also make, or letters in the ids:
    the full check then runs after the parse); None when the ids are not text with nothing to
    strip (the parse changes those, so the check must see the parsed column). The keys are
    allocated here, on this thread (see :func:`_number_keys`)."""
    if pid is None or pid.dtype != _STR or _as_text(pid) is not pid:
        return None
    col = arrow_text(pid)
    if col is None or col.null_count or len(col) < 2:
        return None
    key = np.empty(len(col), dtype=np.int64)
    job = pool.submit(_number_keys, col, key)

    def unique() -> bool | None:
        return True if job.result() and not np.any(key[1:] == key[:-1]) else None

    return unique


def _parse_checkups(
    df: pd.DataFrame,
    *,
    source: str = "",
    row_numbers: Sequence[int] | np.ndarray | None = None,
    row_numbering: str | None = None,
    required: Sequence[str] = REQUIRED_COLUMNS,
    cell_text: CellText | None = None,
    own_input: bool = False,
) -> tuple[pd.DataFrame, ValidationReport]:
    """:func:`parse_checkups`, with the loaders' access to cells as written in the file.

    ``own_input``: ``df`` is the loader's own frame, read only for the columns with problems
    afterwards; a whole-number column without problems is converted in its own memory.
    """
    if row_numbers is None:
        rn = np.arange(len(df), dtype=np.int64)
        numbering = row_numbering or "0-based row positions in the data frame"
    else:
        rn = np.asarray(row_numbers, dtype=np.int64)
        if len(rn) != len(df):
            raise ValueError(f"row_numbers has {len(rn)} entries for {len(df)} rows")
        numbering = row_numbering or "as given"
    pid = df["person_id"] if list(df.columns).count("person_id") == 1 else None
    with ThreadPoolExecutor(max_workers=1) as beside:
        # a large frame's usual id check runs beside the column parse (see _start_id_check)
        ids = _start_id_check(pid, beside) if len(df) >= _CONCURRENT_ROWS else None
        parsed = _parse(df, rn, cell_text, own_input=own_input)
        unique = None if ids is None else ids()
    problems = [
        *parsed.problems,
        *_row_checks(parsed.frame, parsed.bad, rn, tuple(required), unique),
    ]
    report = ValidationReport(
        problems=tuple(problems),
        n_rows=len(df),
        source=source,
        row_numbering=numbering,
        columns={str(c): str(c) for c in df.columns},
    )
    return parsed.frame, report


def validate_checkups(
    df: pd.DataFrame, *, source: str = "", required: Sequence[str] = REQUIRED_COLUMNS
) -> ValidationReport:
    """Check a health-check frame against the vocabulary and report every problem at once.

    The frame is not modified. Its columns must already carry canonical names (see
    :func:`pfseval.io.read_checkups` for header mapping); values may be numbers or text.

    Parameters
    ----------
    df
        The data to check.
    source
        Label used in messages (e.g. the file name).
    required
        Columns that must be present and complete (default: person_id, fiscal_year, age, sex).

    Returns
    -------
    ValidationReport
        Every problem found; ``report.ok`` is ``True`` when there is no error. Row numbers
        are 0-based positions in ``df``.

    Examples
    --------
    >>> df = pd.DataFrame({"person_id": ["a", "a", "b"], "fiscal_year": [2019, 2019, 2019],
    ...                    "age": [50, 51, 62], "sex": [1, 1, 3], "sbp": [128, "1２0", "abc"]})
    >>> report = validate_checkups(df, source="demo")
    >>> [(p.column, p.kind, p.rows) for p in report.errors]
    [('sex', 'unknown_code', (2,)), ('sbp', 'wrong_type', (2,)), ('person_id', 'duplicate', (0, 1))]
    """
    return parse_checkups(df, source=source, required=required)[1]
