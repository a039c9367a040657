"""Input checks shared by designs, loaders and linkage: required and numeric columns; fresh seeds.

Each check names the column, the rows and the fix, through :mod:`pfseval.errors`.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd
from numpy.typing import NDArray

from pfseval.errors import ColumnMissingError, DataProblem, DataValidationError

__all__ = ["fresh_seed", "ids_in", "numeric_column", "require_columns"]


def fresh_seed(seed: int | None) -> int:
    """``seed`` itself, or (for ``None``) a new seed from the operating system's entropy.

    Randomised methods call this before drawing and record the result in
    ``Estimate.provenance["seed"]``, so that an unseeded run can be repeated exactly. The new
    seed is reduced to 32 bits (it stays readable and exact in JSON and spreadsheets).

    Examples
    --------
    >>> fresh_seed(7)
    7
    >>> s = fresh_seed(None)
    >>> isinstance(s, int) and 0 <= s < 2**32
    True
    """
    if seed is not None:
        return int(seed)
    return int(np.random.SeedSequence().entropy) % 2**32  # type: ignore[arg-type]


def require_columns(data: pd.DataFrame, columns: Sequence[str], *, context: str) -> None:
    """Raise :class:`ColumnMissingError` for the first of ``columns`` absent from ``data``.

    Examples
    --------
    >>> require_columns(pd.DataFrame({"a": [1]}), ["a"], context="example")
    >>> require_columns(pd.DataFrame({"a": [1]}), ["b"], context="example")
    Traceback (most recent call last):
    ...
    pfseval.errors.ColumnMissingError: column 'b' is missing (needed by example); ...
    """
    for c in columns:
        if c not in data.columns:
            raise ColumnMissingError(c, [str(x) for x in data.columns], context=context)


def numeric_column(
    data: pd.DataFrame,
    column: str,
    *,
    context: str,
    what: str = "",
    problems: list[DataProblem] | None = None,
) -> NDArray[np.float64]:
    """The column as float64 (missing as NaN); text that is not a number is a problem.

    With ``problems`` given, problems are appended to it (so a caller can report every problem
    at once); otherwise a :class:`DataValidationError` is raised at once. Infinite values are a
    problem too. Rows are 0-based positions in ``data``.

    Examples
    --------
    >>> numeric_column(pd.DataFrame({"x": ["1.5", None]}), "x", context="example")
    array([1.5, nan])
    >>> try:
    ...     numeric_column(pd.DataFrame({"x": ["1.5", "abc"]}), "x", context="example")
    ... except DataValidationError as err:
    ...     print(err.problems[0].column, err.problems[0].kind, err.problems[0].rows)
    x wrong_type (1,)
    """
    require_columns(data, [column], context=context)
    s = data[column]
    label = f"{what} " if what else ""
    found: list[DataProblem] = []
    if pd.api.types.is_bool_dtype(s) or pd.api.types.is_numeric_dtype(s):
        out = np.asarray(s.to_numpy(dtype="float64", na_value=np.nan), dtype=float)
    else:
        coerced = pd.to_numeric(s, errors="coerce")
        bad = np.flatnonzero(coerced.isna().to_numpy() & s.notna().to_numpy())
        if bad.size:
            found.append(
                DataProblem(
                    column=column,
                    kind="wrong_type",
                    message=f"{label}values are not numbers",
                    rows=tuple(int(i) for i in bad),
                    values=tuple(s.iloc[bad[:10]].tolist()),
                    expected="numbers (missing values as empty / NaN; recode categories to 0/1)",
                )
            )
        out = np.asarray(coerced.to_numpy(dtype="float64", na_value=np.nan), dtype=float)
    inf = np.flatnonzero(np.isinf(out))
    if inf.size:
        found.append(
            DataProblem(
                column=column,
                kind="out_of_range",
                message=f"{label}values are infinite",
                rows=tuple(int(i) for i in inf),
                values=tuple(out[inf[:10]].tolist()),
                expected="finite numbers",
            )
        )
    if problems is not None:
        problems.extend(found)
    elif found:
        raise DataValidationError(found, source=context)
    return out


def arrow_text(s: pd.Series) -> Any:
    """The Arrow array behind a text column (a ``ChunkedArray`` of ``string`` or
    ``large_string``), or None for any other column."""
    import pyarrow as pa

    arr = getattr(s.array, "_pa_array", None)
    if arr is None or not (pa.types.is_string(arr.type) or pa.types.is_large_string(arr.type)):
        return None
    return arr


def text_buffers(s: pd.Series) -> tuple[Any, NDArray[np.int64], Any] | None:
    """An Arrow-backed text column as one array, its cell offsets (one more than the cells,
    into the data buffer) and its data buffer; None for any other column. Lets a check read
    every cell's bytes at once instead of making a Python string per cell."""
    import pyarrow as pa

    arr = arrow_text(s)
    if arr is None:
        return None
    col = arr.combine_chunks() if isinstance(arr, pa.ChunkedArray) else arr
    return col, cell_offsets(col), col.buffers()[2]


def cell_offsets(arr: Any) -> NDArray[np.int64]:
    """The cell offsets of an Arrow text or bytes array (one more than its cells, into its
    data buffer), as 64-bit integers: a view of the array's own for 64-bit offsets.

    Examples
    --------
    >>> import pyarrow as pa
    >>> cell_offsets(pa.array(["ab", "", "c"])).tolist()
    [0, 2, 2, 3]
    >>> cell_offsets(pa.array([b"xyz"], pa.large_binary())[0:1]).tolist()
    [0, 3]
    """
    import pyarrow as pa

    wide = pa.types.is_large_string(arr.type) or pa.types.is_large_binary(arr.type)
    offsets = np.frombuffer(arr.buffers()[1], dtype=np.int64 if wide else np.int32)
    return offsets[arr.offset : arr.offset + len(arr) + 1].astype(np.int64, copy=False)


def byte_range(data: Any) -> tuple[int, int]:
    """The smallest and largest byte of an Arrow data buffer ((256, -1) for none), read in
    place: a column of digits only, or of printable ASCII, is recognised without copying its
    text into a Python ``bytes``.

    Examples
    --------
    >>> import pyarrow as pa
    >>> byte_range(pa.py_buffer(b"0042"))
    (48, 52)
    >>> byte_range(None)
    (256, -1)
    """
    if data is None or not data.size:
        return 256, -1
    view = np.frombuffer(data, dtype=np.uint8)
    return int(view.min()), int(view.max())


def ids_in(s: pd.Series, values: pd.Series) -> NDArray[np.bool_]:
    """Which entries of ``s`` occur in ``values`` (``s.isin(values)`` as an array).

    Text ids go through Arrow's hash table: pandas' own ``isin`` on Arrow-backed text loops
    over the values in Python (tens of seconds for a million ids). Missing entries are never
    in ``values``.

    Examples
    --------
    >>> ids = pd.Series(["001", "002", None], dtype="str")
    >>> ids_in(ids, pd.Series(["002", "003"], dtype=object)).tolist()
    [False, True, False]
    >>> ids_in(pd.Series([1, 2]), pd.Series([2])).tolist()
    [False, True]
    """
    import pyarrow as pa
    import pyarrow.compute as pc

    a, b = arrow_text(s), arrow_text(values)
    if a is not None and b is None and values.dtype == object:
        try:  # plain Python strings (ids gathered from pairs): one C conversion
            b = pa.array(values.to_numpy(), type=pa.string(), from_pandas=True)
        except (pa.ArrowInvalid, pa.ArrowTypeError):
            b = None  # some id is not text: pandas' comparison decides
    if a is None or b is None:
        return s.isin(set(values.dropna())).to_numpy(dtype=bool)
    if isinstance(b, pa.ChunkedArray):
        b = b.combine_chunks()
    hit = pc.is_in(a, value_set=b)
    return np.asarray(pc.fill_null(hit, False).to_numpy(zero_copy_only=False), dtype=bool)
