"""Baseline/follow-up linkage: one row per baseline person, flow counts add up to the input."""

from __future__ import annotations

import dataclasses

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from pfseval.errors import ColumnMissingError, DataValidationError
from pfseval.io import DuplicateIdError, LinkedCohort, link_years
from pfseval.result import SampleFlow


def _base() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "person_id": ["p1", "p2", "p3", "p4", "p5"],
            "fiscal_year": [2016] * 5,
            "egfr": [70.0, 65.0, 80.0, 55.0, 90.0],
            "sex": pd.array([1, 2, 1, 2, 1], dtype="Int64"),
        }
    )


def _follow() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "person_id": ["p4", "p1", "p9", "p3"],  # other order; p9 joined later
            "fiscal_year": [2019, 2019, 2019, 2019],
            "egfr": [50.0, 68.0, 77.0, np.nan],
            "sex": pd.array([2, 1, 1, 1], dtype="Int64"),
        }
    )


def test_one_row_per_baseline_person_in_baseline_order() -> None:
    cohort = link_years(_base(), _follow())
    d = cohort.data
    assert isinstance(cohort, LinkedCohort)
    assert d["person_id"].tolist() == ["p1", "p2", "p3", "p4", "p5"]
    assert d.columns.tolist() == [
        "person_id",
        "fiscal_year",
        "egfr",
        "sex",
        "fiscal_year_follow",
        "egfr_follow",
        "sex_follow",
        "followup_years",
    ]
    np.testing.assert_array_equal(d["egfr_follow"].to_numpy(), [68.0, np.nan, np.nan, 50.0, np.nan])
    np.testing.assert_array_equal(d["followup_years"].to_numpy(), [3, np.nan, 3, 3, np.nan])
    assert d["sex_follow"].isna().tolist() == [False, True, False, False, True]
    assert cohort.n_followup_only == 1


def test_flow_counts_add_up() -> None:
    base = _base()
    cohort = link_years(base, _follow(), require=("egfr",))
    flow = cohort.sample_flow
    assert isinstance(flow, SampleFlow)
    assert flow.total_input == len(base)
    assert flow.n_analysed() + flow.n_excluded() == len(base)
    table = flow.to_frame()
    assert table["n_excluded"].tolist() == [0, 2, 1, 0]  # no record: p2 p5; no egfr: p3
    assert table["n_remaining"].iloc[-1] == 2
    assert dict(zip(cohort.lost["person_id"], cohort.lost["reason"], strict=True)) == {
        "p2": "no follow-up health-check record",
        "p5": "no follow-up health-check record",
        "p3": "follow-up record without egfr",
    }
    assert cohort.linked["person_id"].tolist() == ["p1", "p4"]
    # ids are in the private flow steps, never in the publishable dict
    assert "p2" not in str(flow.to_dict())
    with pytest.raises(dataclasses.FrozenInstanceError):
        cohort.data = base  # type: ignore[misc]


def test_ids_are_matched_as_text() -> None:
    base = pd.DataFrame({"person_id": [1001, 1002], "x": [1, 2]})
    follow = pd.DataFrame({"person_id": ["1001", "1003"], "x": [5, 6]})
    cohort = link_years(base, follow)
    assert cohort.data["x_follow"].tolist()[0] == 5
    assert cohort.sample_flow.n_analysed() == 1


def test_duplicate_ids_raise_naming_rows() -> None:
    base = pd.concat([_base(), _base().iloc[[2]]], ignore_index=True)
    follow = pd.concat([_follow(), _follow().iloc[[0, 0]]], ignore_index=True)
    with pytest.raises(DuplicateIdError) as info:
        link_years(base, follow)
    probs = {p.column: p for p in info.value.problems}
    assert probs["person_id (baseline)"].rows == (2, 5)
    assert probs["person_id (follow-up)"].rows == (0, 4, 5)
    assert "rows 2, 5" in str(info.value)
    assert isinstance(info.value, DataValidationError)


def test_missing_ids_and_columns() -> None:
    base = _base()
    base.loc[1, "person_id"] = None
    with pytest.raises(DataValidationError) as info:
        link_years(base, _follow())
    assert info.value.problems[0].rows == (1,) and info.value.problems[0].kind == "missing"
    with pytest.raises(ColumnMissingError, match="person_id"):
        link_years(_base().drop(columns="person_id"), _follow())
    with pytest.raises(ColumnMissingError, match="hba1c"):
        link_years(_base(), _follow(), require=("hba1c",))
    clash = _base().assign(egfr_follow=1.0)
    with pytest.raises(DataValidationError, match="_follow"):
        link_years(clash, _follow())


def test_empty_followup_loses_everyone() -> None:
    cohort = link_years(_base(), _follow().iloc[:0])
    assert cohort.sample_flow.n_analysed() == 0
    assert len(cohort.lost) == 5 and cohort.data["egfr_follow"].isna().all()


@settings(max_examples=40, deadline=None)
@given(
    base_ids=st.sets(st.integers(0, 60), max_size=40),
    follow_ids=st.sets(st.integers(0, 60), max_size=40),
    missing_share=st.floats(0, 1),
)
def test_flow_counts_add_up_property(
    base_ids: set[int], follow_ids: set[int], missing_share: float
) -> None:
    b = sorted(base_ids)
    f = sorted(follow_ids, reverse=True)
    base = pd.DataFrame({"person_id": [f"id{i}" for i in b], "v": np.arange(len(b), dtype=float)})
    vals = np.where(np.arange(len(f)) < missing_share * len(f), np.nan, 1.0)
    follow = pd.DataFrame({"person_id": [f"id{i}" for i in f], "v": vals})
    cohort = link_years(base, follow, require=("v",))
    flow = cohort.sample_flow
    assert flow.n_analysed() + flow.n_excluded() == len(base)
    assert len(cohort.data) == len(base)
    assert flow.n_analysed() == len(cohort.linked)
    assert len(cohort.lost) == flow.n_excluded()
    linked_expected = {f"id{i}" for i, v in zip(f, vals, strict=True) if not np.isnan(v)} & {
        f"id{i}" for i in b
    }
    assert set(cohort.linked["person_id"]) == linked_expected
    assert cohort.n_followup_only == len(set(f) - set(b))
