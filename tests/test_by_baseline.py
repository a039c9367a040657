"""The historical-baseline design with ``by``: all groups in one vectorised fit, equal to
``baseline.compare`` run on each group; a group's size is its people, not its year-rows."""

from __future__ import annotations

import warnings
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest

from pfseval.designs import baseline
from pfseval.designs.baseline import compare, compare_many
from pfseval.scale.groups import BaselineGroups, evaluate_by, yearly_totals


@pytest.fixture(scope="module")
def series() -> pd.DataFrame:
    from pfseval.synthetic import screening_series

    s = screening_series(seed=5, n_municipalities=8, years=range(2016, 2023))
    nat = s.tables["national"][["fiscal_year", "rate"]].rename(columns={"rate": "nat"})
    data = s.data.merge(nat, on="fiscal_year")
    tiny = data[data["municipality_code"] == data["municipality_code"].iloc[0]].copy()
    tiny["municipality_code"] = "990999"  # 7 year-rows, 8 people eligible in 2022
    tiny["eligible"], tiny["screened"] = 8, 2
    return pd.concat([data, tiny], ignore_index=True)


def _quiet(fn: Any, *a: Any, **kw: Any) -> Any:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return fn(*a, **kw)


def _numbers(est: Any) -> list[float]:
    out = [est.value, est.conf_low, est.conf_high, est.std_error, est.p_value, est.n]
    out += list(est.intervals["conditional"])
    for name in ("additional_count", "expected", "observed"):
        r = est.related[name]
        out += [r.value, r.conf_low, r.conf_high, r.n]
    out += [v for v in est.diagnostics.values() if isinstance(v, int | float)]
    return [float(x) for x in out]


@pytest.mark.parametrize(
    ("method", "comparison"), [("trend", "nat"), ("glm", "nat"), ("median", None)]
)
def test_one_vectorised_fit_equals_compare_per_group(
    series: pd.DataFrame, method: str, comparison: str | None
) -> None:
    opts = {"year": "fiscal_year", "numerator": "screened", "denominator": "eligible",
            "evaluation_year": 2022, "method": method, "comparison": comparison}  # fmt: skip
    fast = _quiet(evaluate_by, series, by="municipality_code", evaluate=BaselineGroups(opts))

    def one(frame: pd.DataFrame, seed: int | None) -> Any:
        return compare(frame, **opts)

    # the plain loop sizes groups by rows (7 per municipality): run it on every group
    loop = _quiet(evaluate_by, series, by="municipality_code", evaluate=one, min_cell=1)
    # min_cell on people: the tiny municipality (7 rows, 8 people) is not evaluated
    assert sorted(fast.estimates) == sorted(set(loop.estimates) - {"990999"})
    assert len(fast.estimates) == 8
    for g, est in fast.estimates.items():
        want = loop.estimates[g]
        np.testing.assert_allclose(_numbers(est), _numbers(want), rtol=1e-12, atol=1e-12)
        assert est.notices == want.notices
        assert est.sample_flow.to_dict() == want.sample_flow.to_dict()
    ok = ~fast.table["suppressed"]
    assert fast.table["group"].tolist() == loop.table["group"].tolist()
    np.testing.assert_allclose(
        fast.table.loc[ok, ["value", "conf_low", "conf_high"]].to_numpy(dtype=float),
        loop.table.loc[ok, ["value", "conf_low", "conf_high"]].to_numpy(dtype=float),
        rtol=1e-12,
        atol=1e-12,
    )
    # n is the people eligible in the evaluation year, from the data directly
    last = series[series["fiscal_year"] == 2022].set_index("municipality_code")["eligible"]
    shown = fast.table.loc[ok].set_index("group")["n"]
    assert {g: int(v) for g, v in shown.items()} == {g: int(last[g]) for g in shown.index}
    assert dict(fast.sizes) == {g: int(v) for g, v in last.items()}
    flow = fast.sample_flow.to_dict()
    assert flow["n_input"] == {"all": len(series)}
    assert sum(s["n_excluded"] for s in flow["steps"]) == 7  # the tiny municipality's rows


def test_compare_many_is_the_same_engine(series: pd.DataFrame) -> None:
    opts = {"year": "fiscal_year", "numerator": "screened", "denominator": "eligible",
            "evaluation_year": 2022, "method": "trend"}  # fmt: skip
    big = series[series["municipality_code"] != "990999"]
    many = _quiet(compare_many, big, by="municipality_code", **opts)
    fast = _quiet(evaluate_by, big, by="municipality_code", evaluate=BaselineGroups(opts))
    by_group = fast.table.set_index("group")
    for _, row in many.iterrows():
        want = by_group.loc[row["municipality_code"]]
        assert (row["value"], row["conf_low"], row["conf_high"]) == (
            want["value"],
            want["conf_low"],
            want["conf_high"],
        )


def test_a_group_is_sized_by_people_not_rows() -> None:
    # 12 people eligible over 4 years (4 rows) is evaluated; 9 people over 40 years is not
    years = list(range(1981, 2021))
    s = pd.DataFrame(
        {
            "city": ["A"] * 4 + ["B"] * 40,
            "fy": [2017, 2018, 2019, 2020, *years],
            "y": [3, 4, 3, 6] + [2] * 40,
            "n": [12] * 4 + [9] * 40,
        }
    )
    opts = {"year": "fy", "numerator": "y", "denominator": "n", "evaluation_year": 2020,
            "method": "mean", "k": 3}  # fmt: skip
    res = _quiet(evaluate_by, s, by="city", evaluate=BaselineGroups(opts))
    assert list(res.estimates) == ["A"]
    assert res.table["suppressed"].tolist() == [False, True]
    assert dict(res.sizes) == {"A": 12, "B": 9}
    step = res.sample_flow.to_dict()["steps"][1]
    assert step["reason"]["code"] == "scale.small_group_people" and step["n_excluded"] == 40


SPEC = """
[evaluation]
title = "screening by municipality"
seed = 3

[data.series]
path = "series.csv"
aggregated = true

[[indicators]]
id = "screening"
design = "baseline.compare"
data = "series"
by = "municipality_code"
options = { year = "fiscal_year", numerator = "screened", denominator = "eligible", evaluation_year = 2022, method = "trend", comparison = "nat" }

[[indicators]]
id = "additional"
design = "baseline.compare"
data = "series"
by = "municipality_code"
use = "additional_count"
options = { year = "fiscal_year", numerator = "screened", denominator = "eligible", evaluation_year = 2022, method = "trend", comparison = "nat" }
"""


def test_a_spec_indicator_runs_its_groups_in_one_fit(
    series: pd.DataFrame, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from pfseval.batch import load_spec, run_spec

    series.to_csv(tmp_path / "series.csv", index=False)
    (tmp_path / "spec.toml").write_text(SPEC, encoding="utf-8")
    calls: list[int] = []
    real = baseline.fit_groups

    def counting(*a: Any, **kw: Any) -> Any:
        fits = real(*a, **kw)
        calls.append(len(fits.keys))
        return fits

    monkeypatch.setattr(baseline, "fit_groups", counting)
    run = _quiet(run_spec, load_spec(tmp_path / "spec.toml"))
    # per indicator: the whole series (1 group) and every municipality at once (8)
    assert sorted(calls) == [1, 1, 8, 8]
    est = run.estimates["screening"]
    # the whole: compare on the yearly totals, computed here by hand
    totals = series.groupby("fiscal_year", as_index=False)[["screened", "eligible"]].sum()
    weighted = (series["nat"] * series["eligible"]).groupby(series["fiscal_year"]).sum()
    totals["nat"] = (weighted / totals.set_index("fiscal_year")["eligible"]).to_numpy()
    want = _quiet(compare, totals, year="fiscal_year", numerator="screened",
                  denominator="eligible", evaluation_year=2022, method="trend",
                  comparison="nat")  # fmt: skip
    assert (est.value, est.conf_low, est.conf_high) == pytest.approx(
        (want.value, want.conf_low, want.conf_high), rel=1e-12
    )
    pd.testing.assert_frame_equal(
        yearly_totals(series, {"year": "fiscal_year", "numerator": "screened",
                               "denominator": "eligible", "comparison": "nat"}),
        totals.astype(float).astype({"fiscal_year": int}),
    )  # fmt: skip
    flow = est.sample_flow.to_dict()
    assert flow["n_input"] == {"all": len(series)}  # every row of the long table
    # each group equals compare on its rows; `use` applies to the groups too
    add = {r["group"]: r for r in run.estimates["additional"].diagnostics["by_group"]}
    for r in est.diagnostics["by_group"]:
        if r["suppressed"]:
            assert r["group"] == "990999" and r["size"] == 8 and r["n"] is None
            continue
        rows = series[series["municipality_code"] == r["group"]]
        one = _quiet(compare, rows, year="fiscal_year", numerator="screened",
                     denominator="eligible", evaluation_year=2022, method="trend",
                     comparison="nat")  # fmt: skip
        assert r["value"] == pytest.approx(one.value, rel=1e-12, abs=1e-15)
        assert r["n"] == r["size"] == one.related["observed"].n
        extra = one.related["additional_count"]
        assert add[r["group"]]["value"] == pytest.approx(extra.value, rel=1e-12)
