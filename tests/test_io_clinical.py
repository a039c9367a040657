"""Clinical helpers: JSN eGFR, CKD G/A stages, diabetic-nephropathy stage (2014)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from pfseval.errors import ColumnMissingError, DataValidationError
from pfseval.io import ckd_a_stage, ckd_g_stage, egfr_jsn, fill_egfr, nephropathy_stage

REF = Path(__file__).parent / "reference" / "io"


# ---------------------------------------------------------------- eGFR


@pytest.mark.parametrize(
    ("cr", "age", "sex", "expected"),
    [(1.0, 60, 1, 59.91), (1.0, 60, 2, 44.27), (1.2, 70, 1, 46.95)],
)
def test_egfr_matches_brief_values(cr: float, age: int, sex: int, expected: float) -> None:
    # BRIEF §5 gives the values rounded to 2 decimals: tolerance is half a unit of the last digit.
    assert abs(egfr_jsn(cr, age, sex) - expected) <= 0.005


def test_egfr_matches_r_reference_grid() -> None:
    ref = pd.read_csv(REF / "egfr_jsn_R.csv")
    got = egfr_jsn(ref["creatinine"], ref["age"], ref["sex"])
    assert isinstance(got, pd.Series)
    # Same closed formula in double precision; R wrote 15 significant digits: rtol 1e-12.
    np.testing.assert_allclose(got.to_numpy(), ref["egfr"].to_numpy(), rtol=1e-12)
    # The G stage by R's cut(right = FALSE) must agree exactly.
    assert ckd_g_stage(got).astype(str).tolist() == ref["g_stage"].tolist()


def test_egfr_hand_calculation_and_types() -> None:
    # Hand calculation: 194 * 0.8^-1.094 * 50^-0.287 * 0.739
    hand = 194 * 0.8**-1.094 * 50**-0.287 * 0.739
    assert egfr_jsn(0.8, 50, 2) == pytest.approx(hand, rel=1e-14)
    assert isinstance(egfr_jsn(0.8, 50, 2), float)
    arr = egfr_jsn(np.array([0.8, np.nan]), 50, 2)
    assert isinstance(arr, np.ndarray) and np.isnan(arr[1])
    s = egfr_jsn(
        pd.Series([1.0, 1.0], index=[10, 11]), 60, pd.Series(pd.array([1, None], dtype="Int64"))
    )
    assert list(s.index) == [10, 11] and np.isnan(s.iloc[1])


def test_egfr_rejects_invalid_inputs_naming_positions() -> None:
    with pytest.raises(DataValidationError) as info:
        egfr_jsn([1.0, 0.0, 1.0, 1.0], [60, 60, 15, 60], [1, 1, 1, 3])
    kinds = {(p.column, p.rows) for p in info.value.problems}
    assert kinds == {("creatinine", (1,)), ("age", (2,)), ("sex", (3,))}


def test_text_codes_raise_typed_errors_naming_argument_and_positions() -> None:
    # audit: egfr_jsn(1.0, 60, "M") raised numpy's bare ValueError
    with pytest.raises(DataValidationError) as info:
        egfr_jsn(1.0, 60, "M")
    (problem,) = info.value.problems
    assert (problem.column, problem.rows, problem.values) == ("sex", (0,), ("M",))
    assert "1 (male) or 2 (female)" in problem.expected
    with pytest.raises(DataValidationError) as info:
        egfr_jsn(["1.0", "x", 1.1], [60, 61, "?"], pd.Series(["1", "F", 2]))
    found = {(p.column, p.rows, p.values) for p in info.value.problems}
    assert found == {("creatinine", (1,), ("x",)), ("age", (2,), ("?",)), ("sex", (1,), ("F",))}
    assert info.value.source == "egfr_jsn"
    # numbers written as text are still numbers
    assert egfr_jsn("1.0", "60", "2") == pytest.approx(egfr_jsn(1.0, 60, 2), rel=1e-15)
    with pytest.raises(DataValidationError, match="argument values are not numbers"):
        ckd_g_stage(["G3", 50.0])
    bad = pd.DataFrame({"creatinine": [1.0, 1.0], "age": [60, 60], "sex": ["M", 1]})
    with pytest.raises(DataValidationError) as info:
        fill_egfr(bad)
    assert (info.value.problems[0].column, info.value.problems[0].rows) == ("sex", (0,))


def test_fill_egfr_fills_only_missing_and_counts() -> None:
    df = pd.DataFrame(
        {
            "creatinine": [1.0, 1.0, np.nan, 1.2],
            "age": [60, 60, 55, 70],
            "sex": [1, 2, 1, 1],
            "egfr": [70.0, np.nan, np.nan, np.nan],
        }
    )
    filled, n = fill_egfr(df, indicator="egfr_computed")
    assert n == 2
    assert filled["egfr"].iloc[0] == 70.0  # recorded value untouched
    assert filled["egfr"].iloc[1] == pytest.approx(44.27, abs=0.005)
    assert np.isnan(filled["egfr"].iloc[2])
    assert filled["egfr_computed"].tolist() == [False, True, False, True]
    assert df["egfr"].isna().sum() == 3  # input not modified
    created, n2 = fill_egfr(df.drop(columns="egfr"))
    assert n2 == 3 and "egfr" in created


def test_fill_egfr_errors() -> None:
    with pytest.raises(ColumnMissingError, match="creatinine"):
        fill_egfr(pd.DataFrame({"age": [1], "sex": [1]}))
    bad = pd.DataFrame({"creatinine": [1.0, -1.0], "age": [60, 60], "sex": [1, 1]})
    with pytest.raises(DataValidationError) as info:
        fill_egfr(bad)
    assert info.value.problems[0].rows == (1,)


# ---------------------------------------------------------------- CKD G stages


@pytest.mark.parametrize(
    ("egfr", "stage"),
    [
        (120.0, "G1"),
        (90.0, "G1"),
        (89.99, "G2"),
        (60.0, "G2"),
        (59.99, "G3a"),
        (45.0, "G3a"),
        (44.99, "G3b"),
        (30.0, "G3b"),
        (29.99, "G4"),
        (15.0, "G4"),
        (14.99, "G5"),
        (0.0, "G5"),
    ],
)
def test_ckd_g_stage_cutoffs(egfr: float, stage: str) -> None:
    assert ckd_g_stage(egfr) == stage


def test_ckd_g_stage_missing_and_series() -> None:
    s = ckd_g_stage(pd.Series([95.0, np.nan], index=["a", "b"]))
    assert s.loc["a"] == "G1" and pd.isna(s.loc["b"])
    assert s.cat.ordered and list(s.cat.categories) == ["G1", "G2", "G3a", "G3b", "G4", "G5"]
    assert ckd_g_stage(np.nan) is None
    with pytest.raises(DataValidationError):
        ckd_g_stage([-1.0])


# ---------------------------------------------------------------- CKD A stages


def test_ckd_a_stage_dipstick_conventions() -> None:
    codes = [0, 1, 2, 3, 4, np.nan]
    assert ckd_a_stage(urine_protein=codes).tolist() == ["A1", "A1", "A2", "A3", "A3", None]
    assert ckd_a_stage(urine_protein=codes, trace="A2").tolist() == [
        "A1",
        "A2",
        "A3",
        "A3",
        "A3",
        None,
    ]


@pytest.mark.parametrize(
    ("uacr", "stage"), [(0.0, "A1"), (29.99, "A1"), (30.0, "A2"), (299.9, "A2"), (300.0, "A3")]
)
def test_ckd_a_stage_uacr_cutoffs(uacr: float, stage: str) -> None:
    assert ckd_a_stage(uacr=uacr) == stage


@pytest.mark.parametrize(
    ("upcr", "stage"), [(0.149, "A1"), (0.15, "A2"), (0.499, "A2"), (0.50, "A3")]
)
def test_ckd_a_stage_upcr_cutoffs(upcr: float, stage: str) -> None:
    assert ckd_a_stage(upcr=upcr) == stage


def test_ckd_a_stage_precedence_and_errors() -> None:
    # uACR beats uPCR beats dipstick, row by row
    got = ckd_a_stage(
        urine_protein=[4, 4, 4, 0],
        upcr=[0.1, np.nan, np.nan, np.nan],
        uacr=[np.nan, 10.0, np.nan, np.nan],
    )
    assert got.tolist() == ["A1", "A1", "A3", "A1"]
    with pytest.raises(ValueError, match="at least one"):
        ckd_a_stage()
    with pytest.raises(ValueError, match="trace"):
        ckd_a_stage(urine_protein=[0], trace="A3")  # type: ignore[arg-type]
    with pytest.raises(DataValidationError) as info:
        ckd_a_stage(urine_protein=[0, 5])
    assert info.value.problems[0].rows == (1,)


# ---------------------------------------------------------------- nephropathy stage


@pytest.mark.parametrize(
    ("egfr", "kw", "stage"),
    [
        (60.0, {"uacr": 29.9}, 1.0),
        (30.0, {"uacr": 29.9}, 1.0),  # eGFR exactly 30 is not stage 4
        (60.0, {"uacr": 30.0}, 2.0),
        (60.0, {"uacr": 299.9}, 2.0),
        (60.0, {"uacr": 300.0}, 3.0),
        (60.0, {"upcr": 0.5}, 3.0),
        (60.0, {"uacr": 100.0, "upcr": 0.6}, 3.0),  # persistent proteinuria → overt
        (29.99, {"uacr": 10.0}, 4.0),  # eGFR < 30 whatever the albuminuria
        (29.99, {}, 4.0),
        (60.0, {"uacr": 10.0, "dialysis": 1}, 5.0),
        (10.0, {"dialysis": True}, 5.0),
    ],
)
def test_nephropathy_stage_cutoffs(egfr: float, kw: dict[str, float], stage: float) -> None:
    assert nephropathy_stage(egfr, **kw) == stage


def test_nephropathy_stage_undetermined() -> None:
    assert np.isnan(nephropathy_stage(60.0))  # no albuminuria measured
    assert np.isnan(nephropathy_stage(60.0, upcr=0.3))  # < 0.5 g/gCr cannot split 1 from 2
    assert np.isnan(nephropathy_stage(np.nan, uacr=400.0))  # eGFR unknown
    s = nephropathy_stage(pd.Series([60.0, 20.0]), uacr=pd.Series([50.0, np.nan]))
    assert s.tolist() == [2.0, 4.0]
