"""Clinical helpers: JSN eGFR, CKD G/A stages and the diabetic-nephropathy stage (2014).

All functions are vectorised. They accept scalars, array-likes or :class:`pandas.Series`
(pandas nullable ``Int64``/``Float64`` included) and return the same kind: a float or a label
for scalar input, a NumPy array for array input, a Series (with the input's index) when any
input is a Series. Missing inputs give missing outputs (NaN, or ``None`` for labels).

Conventions
-----------
* eGFR (Japanese Society of Nephrology, JSN 2009):
  ``194 × Cr^−1.094 × age^−0.287`` (× 0.739 for women), Cr in mg/dL, adults (age ≥ 18).
* CKD G stages (KDIGO 2012 / JSN) with half-open intervals for continuous eGFR:
  G1 ≥ 90, G2 [60, 90), G3a [45, 60), G3b [30, 45), G4 [15, 30), G5 < 15.
* CKD A stages from, per person, the best measurement available: urine albumin/creatinine
  ratio (uACR, mg/gCr: A1 < 30, A2 30–299, A3 ≥ 300), else urine protein/creatinine ratio
  (uPCR, g/gCr: A1 < 0.15, A2 0.15–0.49, A3 ≥ 0.50), else the dipstick. KDIGO 2012's table
  relating the categories to reagent strips gives overlapping ranges (A1 "negative to trace",
  A2 "trace to +", A3 "+ or greater"); ``trace="A1"`` (default) reads it as − and ± → A1,
  + → A2, 2+ and 3+ → A3; ``trace="A2"`` as − → A1, ± → A2, + or more → A3 (the stricter
  reading, which flags more people).
* Diabetic nephropathy (糖尿病性腎症病期分類 2014): stage 5 on dialysis; otherwise stage 4 when
  eGFR < 30 whatever the albuminuria; with eGFR ≥ 30: stage 3 with uACR ≥ 300 mg/gCr or
  persistent proteinuria uPCR ≥ 0.5 g/gCr, stage 2 with uACR 30–299, stage 1 with uACR < 30.
  When the stage cannot be decided (eGFR missing; eGFR ≥ 30 with neither uACR nor
  uPCR ≥ 0.5) the result is NaN.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any, Literal

import numpy as np
import pandas as pd

from pfseval.checks import require_columns
from pfseval.errors import DataProblem, DataValidationError

__all__ = [
    "CKD_G_LABELS",
    "ckd_a_stage",
    "ckd_g_stage",
    "egfr_jsn",
    "fill_egfr",
    "nephropathy_stage",
]

CKD_G_LABELS: tuple[str, ...] = ("G1", "G2", "G3a", "G3b", "G4", "G5")
_G_LOWER = np.array([90.0, 60.0, 45.0, 30.0, 15.0])  # lower bounds of G1..G4
_A_LABELS = ("A1", "A2", "A3")


_EXPECTED = {
    "sex": "1 (male) or 2 (female): recode text such as 'M'/'F' or 男/女 to 1/2",
}


def _to_float(
    x: Any,
    name: str = "",
    problems: list[DataProblem] | None = None,
    *,
    message: str = "values are not numbers",
) -> np.ndarray:
    """``x`` as floats (missing as NaN); values that are not numbers become problems.

    With ``problems`` given, each input with non-numeric values adds one
    :class:`DataProblem` naming ``name`` and the positions; otherwise they raise at once.
    """
    if isinstance(x, pd.Series | pd.Index):
        if pd.api.types.is_numeric_dtype(x.dtype) or pd.api.types.is_bool_dtype(x.dtype):
            return np.asarray(x.to_numpy(dtype=float, na_value=np.nan), dtype=float)
        raw = x.to_numpy(dtype=object)
    elif isinstance(x, np.ndarray) and x.dtype.kind in "biuf":
        return np.asarray(x, dtype=float)
    else:
        raw = np.asarray(x, dtype=object)
    flat = pd.Series(raw.ravel(), dtype=object)
    coerced = pd.to_numeric(flat, errors="coerce")
    out = coerced.to_numpy(dtype=float, na_value=np.nan).reshape(raw.shape)
    bad = np.flatnonzero(coerced.isna().to_numpy() & flat.notna().to_numpy())
    if bad.size:
        found = [
            DataProblem(
                column=name,
                kind="wrong_type",
                message=message,
                rows=tuple(int(i) for i in bad),
                values=tuple(flat.iloc[bad[:10]].tolist()),
                expected=_EXPECTED.get(name, "numbers (missing values as NaN / None)"),
            )
        ]
        if problems is None:
            raise DataValidationError(found)
        problems.extend(found)
    return out


def _prep(
    *args: Any, names: tuple[str, ...], source: str
) -> tuple[list[np.ndarray], pd.Index | None, bool]:
    """Broadcast inputs to float arrays; note the index of the first Series and scalarness.

    Non-numeric values raise :class:`DataValidationError` naming the argument (``names``) and
    its positions.
    """
    index = next((a.index for a in args if isinstance(a, pd.Series)), None)
    scalar = all(np.ndim(a) == 0 for a in args if a is not None)
    problems: list[DataProblem] = []
    what = "argument values are not numbers (rows = positions in the argument)"
    arrays = [_to_float(a, n, problems, message=what) for a, n in zip(args, names, strict=True)]
    _check(problems, source=source)
    arrays = list(np.broadcast_arrays(*arrays))
    return [np.atleast_1d(a) for a in arrays], index, scalar


def _out_float(values: np.ndarray, index: pd.Index | None, scalar: bool) -> Any:
    if index is not None:
        return pd.Series(values, index=index, dtype=float)
    if scalar:
        return float(values[0])
    return values


def _out_labels(
    codes: np.ndarray, labels: tuple[str, ...], index: pd.Index | None, scalar: bool
) -> Any:
    """codes: int array, −1 for missing."""
    if index is not None:
        cat = pd.Categorical.from_codes(codes, categories=list(labels), ordered=True)
        return pd.Series(cat, index=index)
    out = np.array([labels[c] if c >= 0 else None for c in codes], dtype=object)
    if scalar:
        return out[0]
    return out


def _check(problems: list[DataProblem], *, source: str) -> None:
    if problems:
        raise DataValidationError(problems, source=source)


def _invalid(
    column: str, kind: str, message: str, bad: np.ndarray, values: np.ndarray, expected: str
) -> DataProblem:
    """A problem at the positions where ``bad`` holds, with (up to 50 of) their ``values``."""
    return DataProblem(
        column=column,
        kind=kind,
        message=message,
        rows=tuple(int(i) for i in np.flatnonzero(bad)),
        values=tuple(float(v) for v in values[bad][:50]),
        expected=expected,
    )


def egfr_jsn(creatinine: Any, age: Any, sex: Any) -> Any:
    """Estimated GFR (mL/min/1.73m²) by the Japanese Society of Nephrology equation.

    ``eGFR = 194 × Cr^−1.094 × age^−0.287`` and ``× 0.739`` for women.

    Parameters
    ----------
    creatinine
        Serum creatinine in mg/dL (enzymatic method), > 0.
    age
        Age in years, ≥ 18 (the equation is for adults).
    sex
        1 = male, 2 = female (the vocabulary's coding).

    Returns
    -------
    float, numpy.ndarray or pandas.Series
        eGFR; NaN where any input is missing.

    Raises
    ------
    DataValidationError
        Creatinine ≤ 0, age < 18, a sex code other than 1/2, or values that are not
        numbers such as ``"M"`` (the argument and the positions are listed).

    Examples
    --------
    >>> round(egfr_jsn(1.0, 60, 1), 2), round(egfr_jsn(1.0, 60, 2), 2)
    (59.91, 44.27)
    >>> egfr_jsn([1.2, None], [70, 70], [1, 1]).round(2)
    array([46.95,   nan])
    """
    (cr, a, s), index, scalar = _prep(
        creatinine, age, sex, names=("creatinine", "age", "sex"), source="egfr_jsn"
    )
    problems = [
        _invalid(name, kind, "invalid input to the JSN eGFR equation", bad, values, expected)
        for name, values, bad, kind, expected in (
            ("creatinine", cr, cr <= 0, "out_of_range", "creatinine > 0 mg/dL"),
            ("age", a, a < 18, "out_of_range", "age ≥ 18 years (the JSN equation is for adults)"),
            (
                "sex",
                s,
                np.isfinite(s) & (s != 1) & (s != 2),
                "unknown_code",
                "1 (male) or 2 (female)",
            ),
        )
        if bad.any()
    ]
    _check(problems, source="egfr_jsn")
    with np.errstate(invalid="ignore", divide="ignore"):
        egfr = 194.0 * cr**-1.094 * a**-0.287 * np.where(s == 2, 0.739, 1.0)
    egfr = np.where(np.isfinite(cr) & np.isfinite(a) & np.isfinite(s), egfr, np.nan)
    return _out_float(egfr, index, scalar)


def fill_egfr(
    df: pd.DataFrame,
    *,
    egfr: str = "egfr",
    creatinine: str = "creatinine",
    age: str = "age",
    sex: str = "sex",
    indicator: str | None = None,
) -> tuple[pd.DataFrame, int]:
    """Fill *missing* eGFR values from serum creatinine by :func:`egfr_jsn`.

    Recorded eGFR values are never changed. Rows with missing eGFR and missing creatinine (or
    age, sex) stay missing.

    Parameters
    ----------
    df
        Health-check data (not modified).
    egfr, creatinine, age, sex
        Column names. When the ``egfr`` column is absent it is created.
    indicator
        If given, the name of a boolean column added to the result, ``True`` where eGFR was
        computed here.

    Returns
    -------
    (filled, n_filled)
        A copy of ``df`` with eGFR filled, and how many values were filled.

    Raises
    ------
    ColumnMissingError
        ``creatinine``, ``age`` or ``sex`` is absent.
    DataValidationError
        Invalid inputs in rows that need filling (see :func:`egfr_jsn`).

    Examples
    --------
    >>> df = pd.DataFrame({"creatinine": [1.0, 1.0, None], "age": [60, 60, 50],
    ...                    "sex": [1, 2, 1], "egfr": [70.0, None, None]})
    >>> filled, n = fill_egfr(df)
    >>> n, filled["egfr"].round(2).tolist()
    (1, [70.0, 44.27, nan])
    """
    require_columns(df, [creatinine, age, sex], context="fill_egfr")
    out = df.copy()
    current = (
        pd.to_numeric(out[egfr], errors="raise").to_numpy(dtype=float, na_value=np.nan)
        if egfr in out.columns
        else np.full(len(out), np.nan)
    )
    problems: list[DataProblem] = []
    cr = _to_float(out[creatinine], creatinine, problems)
    a = _to_float(out[age], age, problems)
    s = _to_float(out[sex], sex, problems)
    _check(problems, source="fill_egfr")
    need = ~np.isfinite(current) & np.isfinite(cr) & np.isfinite(a) & np.isfinite(s)
    new = current.copy()
    if need.any():
        try:
            new[need] = egfr_jsn(cr[need], a[need], s[need])
        except DataValidationError as exc:  # re-number rows as positions in df
            pos = np.flatnonzero(need)
            probs = [replace(p, rows=tuple(int(pos[r]) for r in p.rows)) for p in exc.problems]
            raise DataValidationError(probs, source="fill_egfr") from exc
    out[egfr] = new
    if indicator is not None:
        out[indicator] = need
    return out, int(need.sum())


def ckd_g_stage(egfr: Any) -> Any:
    """CKD G stage from eGFR: G1 ≥ 90, G2 60–<90, G3a 45–<60, G3b 30–<45, G4 15–<30, G5 < 15.

    Parameters
    ----------
    egfr
        eGFR in mL/min/1.73m² (≥ 0).

    Returns
    -------
    str, numpy.ndarray of str or pandas.Series (ordered categorical)
        The stage label; ``None`` / missing where eGFR is missing.

    Examples
    --------
    >>> ckd_g_stage(60.0), ckd_g_stage(59.99)
    ('G2', 'G3a')
    >>> ckd_g_stage([90, 45, 30, 15, 14.9, float("nan")]).tolist()
    ['G1', 'G3a', 'G3b', 'G4', 'G5', None]
    """
    (e,), index, scalar = _prep(egfr, names=("egfr",), source="ckd_g_stage")
    if np.any(e < 0):
        _check(
            [_invalid("egfr", "out_of_range", "negative eGFR", e < 0, e, "eGFR ≥ 0")],
            source="ckd_g_stage",
        )
    # number of lower bounds the value falls below = stage index (0 = G1 ... 5 = G5)
    codes = (e[:, None] < _G_LOWER[None, :]).sum(axis=1).astype(np.int64)
    codes = np.where(np.isfinite(e), codes, -1)
    return _out_labels(codes, CKD_G_LABELS, index, scalar)


def ckd_a_stage(
    *,
    urine_protein: Any = None,
    uacr: Any = None,
    upcr: Any = None,
    trace: Literal["A1", "A2"] = "A1",
) -> Any:
    """CKD A (albuminuria) stage from uACR, else uPCR, else the dipstick, per person.

    Parameters
    ----------
    urine_protein
        Dipstick codes 0–4 (0 = −, 1 = ±, 2 = +, 3 = 2+, 4 = 3+).
    uacr
        Urine albumin/creatinine ratio, mg/gCr (A1 < 30, A2 30–<300, A3 ≥ 300).
    upcr
        Urine protein/creatinine ratio, g/gCr (A1 < 0.15, A2 0.15–<0.50, A3 ≥ 0.50).
    trace
        Where the dipstick's ± goes: ``"A1"`` (− ± → A1, + → A2, ≥ 2+ → A3; default) or
        ``"A2"`` (− → A1, ± → A2, ≥ + → A3). See the module notes.

    Returns
    -------
    str, numpy.ndarray of str or pandas.Series (ordered categorical)
        ``"A1"``, ``"A2"``, ``"A3"``; missing where nothing is measured.

    Raises
    ------
    ValueError
        No measurement given, or ``trace`` not ``"A1"``/``"A2"``.
    DataValidationError
        Dipstick codes outside 0–4 or negative ratios.

    Examples
    --------
    >>> ckd_a_stage(urine_protein=[0, 1, 2, 3, 4]).tolist()
    ['A1', 'A1', 'A2', 'A3', 'A3']
    >>> ckd_a_stage(urine_protein=[0, 1, 2, 3, 4], trace="A2").tolist()
    ['A1', 'A2', 'A3', 'A3', 'A3']
    >>> ckd_a_stage(uacr=[29.9, 30, 299, 300]).tolist()
    ['A1', 'A2', 'A2', 'A3']
    >>> ckd_a_stage(urine_protein=4, uacr=12.0)  # uACR takes precedence
    'A1'
    """
    if trace not in ("A1", "A2"):
        raise ValueError(f"trace must be 'A1' or 'A2', got {trace!r}")
    given = {"urine_protein": urine_protein, "uacr": uacr, "upcr": upcr}
    present = {k: v for k, v in given.items() if v is not None}
    if not present:
        raise ValueError("ckd_a_stage needs at least one of urine_protein=, uacr=, upcr=")
    arrays, index, scalar = _prep(*present.values(), names=tuple(present), source="ckd_a_stage")
    vals = dict(zip(present, arrays, strict=True))
    n = len(arrays[0])
    problems: list[DataProblem] = []
    dip = vals.get("urine_protein")
    if dip is not None:
        bad = np.isfinite(dip) & ~np.isin(dip, [0, 1, 2, 3, 4])
        if bad.any():
            problems.append(
                _invalid(
                    "urine_protein",
                    "unknown_code",
                    "dipstick code outside 0–4",
                    bad,
                    dip,
                    "0 (−), 1 (±), 2 (+), 3 (2+), 4 (3+)",
                )
            )
    for name in ("uacr", "upcr"):
        v = vals.get(name)
        if v is not None and np.any(v < 0):
            problems.append(
                _invalid(name, "out_of_range", "negative ratio", v < 0, v, f"{name} ≥ 0")
            )
    _check(problems, source="ckd_a_stage")
    codes = np.full(n, -1, dtype=np.int64)
    if dip is not None:
        cut = (2, 3) if trace == "A1" else (1, 2)  # first code of A2, of A3
        d = np.where(np.isfinite(dip), (dip >= cut[0]).astype(int) + (dip >= cut[1]), -1)
        codes = np.where(np.isfinite(dip), d, codes)
    if "upcr" in vals:
        u = vals["upcr"]
        c = (u >= 0.15).astype(int) + (u >= 0.50)
        codes = np.where(np.isfinite(u), c, codes)
    if "uacr" in vals:
        u = vals["uacr"]
        c = (u >= 30).astype(int) + (u >= 300)
        codes = np.where(np.isfinite(u), c, codes)
    return _out_labels(codes.astype(np.int64), _A_LABELS, index, scalar)


def nephropathy_stage(
    egfr: Any, *, uacr: Any = None, upcr: Any = None, dialysis: Any = None
) -> Any:
    """Diabetic-nephropathy stage (1–5) by the 2014 Japanese classification.

    Parameters
    ----------
    egfr
        eGFR in mL/min/1.73m².
    uacr
        Urine albumin/creatinine ratio, mg/gCr.
    upcr
        Urine protein/creatinine ratio, g/gCr (persistent proteinuria ≥ 0.5 → stage 3).
    dialysis
        1/True when on dialysis (stage 5 whatever the other values).

    Returns
    -------
    float, numpy.ndarray or pandas.Series
        Stage 1–5 as float; NaN when it cannot be decided from the values given.

    Examples
    --------
    >>> nephropathy_stage([60, 60, 60, 60, 29.9, 60], uacr=[29.9, 30, 299, 300, 10, None],
    ...                   upcr=[None, None, None, None, None, 0.5]).tolist()
    [1.0, 2.0, 2.0, 3.0, 4.0, 3.0]
    >>> nephropathy_stage(45.0, uacr=10.0, dialysis=1)
    5.0
    >>> nephropathy_stage(45.0)  # no albuminuria measurement: undetermined
    nan
    """
    args = [egfr, *(np.nan if v is None else v for v in (uacr, upcr, dialysis))]
    (e, ua, up, dia), index, scalar = _prep(
        *args, names=("egfr", "uacr", "upcr", "dialysis"), source="nephropathy_stage"
    )
    stage = np.full(len(e), np.nan)
    ge30 = np.isfinite(e) & (e >= 30)
    stage = np.where(ge30 & np.isfinite(ua) & (ua < 30), 1.0, stage)
    stage = np.where(ge30 & np.isfinite(ua) & (ua >= 30) & (ua < 300), 2.0, stage)
    overt = (np.isfinite(ua) & (ua >= 300)) | (np.isfinite(up) & (up >= 0.5))
    stage = np.where(ge30 & overt, 3.0, stage)
    stage = np.where(np.isfinite(e) & (e < 30), 4.0, stage)
    stage = np.where(np.isfinite(dia) & (dia == 1), 5.0, stage)
    return _out_float(stage, index, scalar)
