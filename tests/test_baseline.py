"""pfseval.baseline against R (stored in tests/reference/baseline/, made by the R script there),
statsmodels and hand calculation; input errors; vectorised vs one-at-a-time; small coverage."""

from __future__ import annotations

import importlib.util
import json
import math
import time
import warnings
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
import statsmodels.api as sm
from scipy import stats

import pfseval.baseline as bl_alias
from pfseval.designs.baseline import compare, compare_many, median_variance_factor
from pfseval.errors import (
    ColumnMissingError,
    DataValidationError,
    DesignError,
    ExtrapolationWarning,
    PfsevalWarning,
    ShortSeriesWarning,
)
from pfseval.inference import newcombe_diff

REF: dict[str, Any] = json.loads(
    (Path(__file__).parent / "reference" / "baseline" / "baseline_reference.json").read_text()
)
# R values carry 15 significant digits; relative 1e-8 is well above that and the iterative
# GLM's convergence (1e-10 relative step), far below anything of practical size.
REL = 1e-8


def _series(name: str = "series", scale: int = 1, national: bool = False) -> pd.DataFrame:
    s = REF[name]
    df = pd.DataFrame(
        {
            "fy": s["year"],
            "screened": np.asarray(s["screened"]) * scale,
            "eligible": np.asarray(s["eligible"]) * scale,
        }
    )
    if national:
        df["national"] = REF["national"]
    return df


def _quiet(fn: Any, *args: Any, **kw: Any) -> Any:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", PfsevalWarning)
        return fn(*args, **kw)


def test_alias_module_reexports() -> None:
    assert bl_alias.compare is compare and bl_alias.compare_many is compare_many


# ---------------------------------------------------------------- trend (OLS) vs R lm


@pytest.mark.parametrize("case,k,level,pred", [
    ("lm6", None, 0.95, "pred"), ("lm6", None, 0.90, "pred90"), ("lm3", 3, 0.95, "pred"),
])  # fmt: skip
def test_trend_equals_r_prediction_interval(
    case: str, k: int | None, level: float, pred: str
) -> None:
    # The interval is R's prediction interval for the counterfactual, reflected.
    df = _series()
    est = _quiet(compare, df, year="fy", numerator="screened", denominator="eligible",
                 evaluation_year=2020, k=k, level=level)  # fmt: skip
    r = REF[case]
    r_e = 2230 / 9750
    assert est.diagnostics["expected"] == pytest.approx(r["fit"], rel=1e-12)
    assert est.value == pytest.approx(r_e - r["fit"], rel=1e-10)
    lo, hi = r[pred]
    assert (est.conf_low, est.conf_high) == pytest.approx((r_e - hi, r_e - lo), rel=REL)
    assert est.diagnostics["df"] == r["df"]
    assert est.diagnostics["var_baseline"] == pytest.approx(r["se_fit"] ** 2, rel=REL)
    assert est.diagnostics["residual_variance"] == pytest.approx(r["sigma"] ** 2, rel=REL)
    if level == 0.95:
        exp = est.related["expected"]
        assert (exp.conf_low, exp.conf_high) == pytest.approx(tuple(r["conf"]), rel=REL)
    add = est.related["additional_count"]
    assert add.value == pytest.approx(9750 * est.value)
    assert (add.conf_low, add.conf_high) == pytest.approx(
        (9750 * est.conf_low, 9750 * est.conf_high)
    )


def test_smooth_baseline_warning_and_conditional_interval_by_hand() -> None:
    # The reference series is much smoother than binomial noise: a warning says so. The
    # conditional interval uses the evaluation year's binomial variance r(1-r)/n plus R's
    # se.fit^2, with Satterthwaite df = (v_e + vb)^2 / (vb^2 / 4) (hand formula).
    df = _series()
    with pytest.warns(PfsevalWarning, match="much less than sampling noise"):
        est = compare(df, year="fy", numerator="screened", denominator="eligible",
                      evaluation_year=2020)  # fmt: skip
    r = REF["lm6"]
    r_e = 2230 / 9750
    v_e = r_e * (1 - r_e) / 9750
    assert v_e > 4 * r["sigma"] ** 2
    vb = r["se_fit"] ** 2
    dfc = (v_e + vb) ** 2 / (vb**2 / 4)
    tc = stats.t.ppf(0.975, dfc)
    sd = math.sqrt(v_e + vb)
    lo, hi = est.intervals["conditional"]
    assert (lo, hi) == pytest.approx((est.value - tc * sd, est.value + tc * sd), rel=REL)


def test_trend_matches_statsmodels_prediction() -> None:
    df = _series("series2")
    past = df[df["fy"] < 2020]
    X = sm.add_constant(past["fy"].to_numpy(dtype=float))
    fit = sm.OLS((past["screened"] / past["eligible"]).to_numpy(), X).fit()
    pr = fit.get_prediction(np.array([[1.0, 2020.0]])).summary_frame(alpha=0.05)
    est = _quiet(compare, df, year="fy", numerator="screened", denominator="eligible",
                 evaluation_year=2020)  # fmt: skip
    r_e = 2230 / 9750
    assert (est.conf_low, est.conf_high) == pytest.approx(
        (r_e - float(pr["obs_ci_upper"].iloc[0]), r_e - float(pr["obs_ci_lower"].iloc[0])),
        rel=1e-9,
    )
    r = REF["lm2_6"]
    assert (r_e - est.conf_high, r_e - est.conf_low) == pytest.approx(tuple(r["pred"]), rel=REL)


def test_trend_with_comparison_series_matches_r_on_differences() -> None:
    df = _series(national=True)
    est = _quiet(compare, df, year="fy", numerator="screened", denominator="eligible",
                 evaluation_year=2020, comparison="national")  # fmt: skip
    r = REF["lm6_diff"]
    c_e = REF["national"][-1]
    r_e = 2230 / 9750
    assert est.diagnostics["expected"] == pytest.approx(c_e + r["fit"], rel=1e-12)
    lo, hi = r["pred"]
    assert (est.conf_low, est.conf_high) == pytest.approx((r_e - c_e - hi, r_e - c_e - lo), rel=REL)


# ---------------------------------------------------------------- GLM vs R glm


def _expit(x: float) -> float:
    return 1 / (1 + math.exp(-x))


@pytest.mark.parametrize(
    "name,case", [("series", "glm_quasibinomial"), ("series2", "glm2_quasibinomial")]
)
def test_glm_binomial_matches_r(name: str, case: str) -> None:
    df = _series(name)
    est = _quiet(compare, df, year="fy", numerator="screened", denominator="eligible",
                 evaluation_year=2020, method="glm")  # fmt: skip
    r = REF[case]
    mu = _expit(r["link"])
    assert est.diagnostics["expected"] == pytest.approx(mu, rel=REL)
    assert est.diagnostics["slope_per_year"] == pytest.approx(r["coef"][1], rel=1e-7)
    assert est.diagnostics["dispersion"] == pytest.approx(r["dispersion"], rel=1e-7)
    var_base = (mu * (1 - mu)) ** 2 * r["se_link"] ** 2
    assert est.diagnostics["var_baseline"] == pytest.approx(var_base, rel=1e-7)
    var_eval = r["dispersion"] * mu * (1 - mu) / 9750
    assert est.std_error == pytest.approx(math.sqrt(var_eval + var_base), rel=1e-7)
    t = stats.t.ppf(0.975, r["df_residual"])
    assert est.conf_high - est.conf_low == pytest.approx(2 * t * est.std_error, rel=1e-10)


def test_r_binomial_and_quasibinomial_agree_on_scaling() -> None:
    # Internal consistency of the stored R values: quasi se = binomial se * sqrt(dispersion).
    b, q = REF["glm_binomial"], REF["glm_quasibinomial"]
    assert q["se_link"] == pytest.approx(b["se_link"] * math.sqrt(q["dispersion"]), rel=1e-10)


def test_glm_residual_variance_is_r_pearson_dispersion() -> None:
    # R's Pearson dispersion (0.0222) is reported as the residual variance before the floor.
    est = _quiet(compare, _series(), year="fy", numerator="screened", denominator="eligible",
                 evaluation_year=2020, method="glm")  # fmt: skip
    assert est.diagnostics["residual_variance"] == pytest.approx(
        REF["glm_quasibinomial"]["dispersion"], rel=1e-7
    )


@pytest.mark.parametrize("case", ["glm_quasipoisson", "glm2_quasipoisson"])
def test_glm_poisson_counts_match_r(case: str) -> None:
    name = "series" if case == "glm_quasipoisson" else "series2"
    df = _series(name)
    est = _quiet(compare, df, year="fy", numerator="screened", evaluation_year=2020, method="glm")
    r = REF[case]
    mu = math.exp(r["link"])
    assert est.estimand == "count_difference"
    assert est.diagnostics["expected"] == pytest.approx(mu, rel=REL)
    assert est.diagnostics["dispersion"] == pytest.approx(r["dispersion"], rel=1e-7)
    assert est.diagnostics["var_baseline"] == pytest.approx(mu**2 * r["se_link"] ** 2, rel=1e-7)
    assert est.diagnostics["var_evaluation_year"] == pytest.approx(r["dispersion"] * mu, rel=1e-7)
    assert est.related["additional_count"].value == pytest.approx(est.value)


def test_glm_offset_matches_r_quasibinomial() -> None:
    df = _series(national=True)
    est = _quiet(compare, df, year="fy", numerator="screened", denominator="eligible",
                 evaluation_year=2020, method="glm", comparison="national")  # fmt: skip
    r = REF["glm_quasibinomial_offset"]
    mu = _expit(r["link"])
    assert est.diagnostics["expected"] == pytest.approx(mu, rel=REL)
    assert est.diagnostics["dispersion"] == pytest.approx(r["dispersion"], rel=1e-7)
    assert est.diagnostics["var_baseline"] == pytest.approx(
        (mu * (1 - mu)) ** 2 * r["se_link"] ** 2, rel=1e-7
    )


# ---------------------------------------------------------------- mean, median, last


def test_mean_and_median_by_hand() -> None:
    df = _series("series2")
    rates = (df["screened"] / df["eligible"]).to_numpy()
    past, r_e = rates[-5:-1], rates[-1]  # k = 4
    s2 = past.var(ddof=1)
    for method, centre, var_base in (
        ("mean", past.mean(), s2 / 4),
        ("median", np.median(past), s2 * median_variance_factor(4) / 4),
    ):
        est = _quiet(compare, df, year="fy", numerator="screened", denominator="eligible",
                     evaluation_year=2020, method=method, k=4)  # fmt: skip
        sd = math.sqrt(s2 + var_base)
        t = stats.t.ppf(0.975, 3)
        assert est.value == pytest.approx(r_e - centre, rel=1e-12)
        assert (est.conf_low, est.conf_high) == pytest.approx(
            (r_e - centre - t * sd, r_e - centre + t * sd), rel=1e-10
        )


def test_median_variance_factor_matches_r_integration() -> None:
    # R integrate() of the order-statistic densities, k = 2..7 (Var of the median of k N(0,1))
    for k, v in zip(range(2, 8), REF["var_median_std_normal"], strict=True):
        assert median_variance_factor(k) / k == pytest.approx(v, rel=1e-7)


def test_last_uses_newcombe_and_warns() -> None:
    df = _series(national=True)
    with pytest.warns(ShortSeriesWarning, match="last year only"):
        est = compare(df, year="fy", numerator="screened", denominator="eligible",
                      evaluation_year=2020, method="last")  # fmt: skip
    assert (est.conf_low, est.conf_high) == pytest.approx(newcombe_diff(2230, 9750, 1949, 9801))
    adj = _quiet(compare, df, year="fy", numerator="screened", denominator="eligible",
                 evaluation_year=2020, method="last", comparison="national")  # fmt: skip
    shift = REF["national"][-1] - REF["national"][-2]
    assert adj.value == pytest.approx(est.value - shift)
    assert adj.conf_low == pytest.approx(est.conf_low - shift)


# ---------------------------------------------------------------- warnings, flow, options


def test_short_series_and_extrapolation_warnings_and_flow() -> None:
    df = _series()
    with pytest.warns(ShortSeriesWarning, match="only 3 baseline years"):
        est = compare(df, year="fy", numerator="screened", denominator="eligible",
                      evaluation_year=2020, k=3)  # fmt: skip
    assert est.diagnostics["df"] == 1  # t with 1 df: wide
    full = _quiet(compare, df, year="fy", numerator="screened", denominator="eligible",
                  evaluation_year=2020)  # fmt: skip
    assert est.conf_high - est.conf_low > 5 * (full.conf_high - full.conf_low)
    flow = est.sample_flow
    assert flow is not None and flow.total_input == 7 and flow.n_analysed() == 4 == est.n
    with pytest.warns(ExtrapolationWarning):
        e2 = compare(df, year="fy", numerator="screened", denominator="eligible",
                     evaluation_year=2020, baseline_end=2018)  # fmt: skip
    assert e2.diagnostics["baseline_years"] == [2014, 2015, 2016, 2017, 2018]
    assert e2.sample_flow is not None and e2.sample_flow.n_analysed() == 6
    # the notices as data: codes, parameters (years are not counts of people), both languages
    short = next(n for n in est.notices if n.code == "baseline.short_series")
    assert dict(short.params) == {"k": 3, "df": 1} and not short.counts
    assert "基準年が3年" in short.text("ja")
    ext = next(n for n in e2.notices if n.code == "baseline.extrapolated")
    assert ext.params["horizon"] == 2 and ext.category is ExtrapolationWarning
    reasons = {s.reason.code for s in flow.steps}
    assert reasons <= {
        "baseline.flow.before_window", "baseline.flow.between", "baseline.flow.after_evaluation"
    }  # fmt: skip
    assert est.method.code == "baseline.method.trend"  # type: ignore[union-attr]
    assert est.method.params == {"k": 3}  # type: ignore[union-attr]
    assert "過去3年の線形トレンド" in est.method.text("ja")  # type: ignore[union-attr]


def test_bad_input_errors() -> None:
    df = _series(national=True)
    kw: dict[str, Any] = {"year": "fy", "numerator": "screened", "denominator": "eligible",
                          "evaluation_year": 2020}  # fmt: skip
    with pytest.raises(ColumnMissingError, match="'fiscal'"):
        compare(df, **{**kw, "year": "fiscal"})
    bad = df.copy()
    bad.loc[3, "screened"] = 20000
    with pytest.raises(DataValidationError, match=r"numerator above denominator.*rows 3"):
        compare(bad, **kw)
    bad = df.copy()
    bad.loc[[2, 5], "national"] = [1.2, -0.1]
    with pytest.raises(DataValidationError, match=r"rates outside \[0, 1\].*rows 2, 5"):
        compare(bad, **kw, comparison="national")
    dup = pd.concat([df, df.iloc[[4]]], ignore_index=True)
    with pytest.raises(DataValidationError, match=r"more than once.*rows 4, 7"):
        compare(dup, **kw)
    gap = df.drop(index=3)
    with pytest.raises(DataValidationError, match=r"years missing.*2017"):
        compare(gap, **kw, k=5)
    nan_year = df.astype({"fy": float})
    nan_year.loc[1, "fy"] = np.nan
    with pytest.raises(DataValidationError, match="year is missing"):
        compare(nan_year, **kw)
    with pytest.raises(DataValidationError, match=r"years missing.*2021"):
        compare(df, **{**kw, "evaluation_year": 2021})
    with pytest.raises(DesignError, match="at least 3 baseline years"):
        compare(df, **kw, k=2)
    with pytest.raises(DesignError):
        compare(df, **kw, method="loess")  # type: ignore[arg-type]
    zero = df.copy()
    zero.loc[0, "national"] = 0.0
    with pytest.raises(DataValidationError, match="offset"):
        compare(zero, **kw, method="glm", comparison="national")


def test_counts_without_denominator_must_be_whole_numbers() -> None:
    # audit: 0.3 or 1.5 "counts" (really rates) were accepted with denominator=None
    df = pd.DataFrame({"fy": range(2014, 2021), "n": [40.0, 0.3, 45, 1.5, 50, 52, 60]})
    with pytest.raises(DataValidationError) as err:
        compare(df, year="fy", numerator="n", evaluation_year=2020, method="mean")
    (problem,) = err.value.problems
    assert problem.column == "n" and problem.rows == (1, 3) and problem.values == (0.3, 1.5)
    assert "rates need a denominator column" in str(err.value)
    assert "rows 1, 3" in str(err.value)
    # whole counts stored as floats are fine
    whole = df.assign(n=df["n"].round())
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        est = compare(whole, year="fy", numerator="n", evaluation_year=2020, method="mean")
    assert est.estimand == "count_difference"
    assert est.value == pytest.approx(60 - float(whole["n"].iloc[:6].mean()))
    with pytest.raises(DataValidationError, match="rates need"):  # compare_many: same check
        compare_many(df.assign(city="A"), by="city", year="fy", numerator="n",
                     evaluation_year=2020, method="mean")  # fmt: skip


# ---------------------------------------------------------------- many municipalities


@pytest.fixture(scope="module")
def screening() -> Any:
    from pfseval.synthetic import screening_series

    return screening_series(seed=5, n_municipalities=12, years=range(2016, 2023))


@pytest.mark.parametrize("method", ["last", "mean", "median", "trend", "glm"])
def test_compare_many_equals_compare_per_group(screening: Any, method: str) -> None:
    nat = screening.tables["national"][["fiscal_year", "rate"]].rename(columns={"rate": "nat"})
    data = screening.data.merge(nat, on="fiscal_year")
    kw: dict[str, Any] = {"year": "fiscal_year", "numerator": "screened",
                          "denominator": "eligible", "evaluation_year": 2022, "method": method,
                          "comparison": "nat"}  # fmt: skip
    many = _quiet(compare_many, data, by="municipality_code", **kw)
    assert len(many) == 12
    assert list(many.columns[:8]) == [
        "municipality_code", "value", "conf_low", "conf_high", "level", "method", "n", "notices",
    ]  # fmt: skip
    for _, row in many.iloc[[0, 5, 11]].iterrows():
        one = _quiet(compare, data[data["municipality_code"] == row["municipality_code"]], **kw)
        assert row["value"] == pytest.approx(one.value, rel=1e-9, abs=1e-12)
        assert (row["conf_low"], row["conf_high"]) == pytest.approx(
            (one.conf_low, one.conf_high), rel=1e-9
        )
        assert row["additional_count"] == pytest.approx(one.related["additional_count"].value)
        assert tuple(row["notices"]) == one.notices
        assert row["method"] == one.method.code  # type: ignore[union-attr]


def test_compare_many_is_fast_and_reports_group_problems() -> None:
    rng = np.random.default_rng(0)
    G, years = 2000, np.arange(2015, 2023)
    df = pd.DataFrame(
        {
            "city": np.repeat([f"C{i:04d}" for i in range(G)], len(years)),
            "fy": np.tile(years, G),
            "n": 5000,
        }
    )
    df["y"] = rng.binomial(5000, 0.2, len(df))
    t0 = time.perf_counter()
    out = _quiet(compare_many, df, by="city", year="fy", numerator="y", denominator="n",
                 evaluation_year=2022, method="glm")  # fmt: skip
    assert time.perf_counter() - t0 < 5.0  # vectorised: 2,000 GLMs well under a second here
    assert len(out) == G and out["value"].notna().all()
    flow = out.attrs["sample_flow"]
    assert flow["n_input"] == {"all": len(df)} and flow["n_analysed"] == {"all": len(df)}
    nokey = df.copy()
    nokey.loc[5, "city"] = None
    with pytest.raises(DataValidationError, match="group key"):
        compare_many(nokey, by="city", year="fy", numerator="y", denominator="n",
                     evaluation_year=2022)  # fmt: skip
    with pytest.raises(DataValidationError, match="C0007: 2018"):
        compare_many(df.drop(index=7 * 8 + 3), by="city", year="fy", numerator="y",
                     denominator="n", evaluation_year=2022)  # fmt: skip


# ---------------------------------------------------------------- coverage (small version)


def test_coverage_small_version() -> None:
    """Small version of benchmarks/baseline_coverage.py: 5-point baseline series."""
    path = Path(__file__).resolve().parents[1] / "benchmarks" / "baseline_coverage.py"
    spec = importlib.util.spec_from_file_location("baseline_coverage", path)
    assert spec is not None and spec.loader is not None
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    res = mod.run_coverage(n_datasets=25, n_municipalities=40, seed=7)
    for name, (cov, n_studies) in res.items():
        assert n_studies >= 1000
        if "no comparison" in name:
            continue  # studies share each data set's year shock: too noisy for a small run
        if name.startswith("last year"):
            assert cov < 0.93  # sampling variation only: documented under-coverage
            continue
        assert 0.91 <= cov <= 0.99, (name, cov)


# ---------------------------------------------------------------- the observed level


OBSERVED = json.loads(
    (Path(__file__).parent / "reference" / "baseline" / "observed_level.json").read_text()
)


def test_observed_rate_is_the_years_rate_with_wilson_interval() -> None:
    # reference: R prop.test(x, n, correct = FALSE)$conf.int (observed_level.R)
    df = _series(national=True)
    for ref in OBSERVED["rates"]:
        est = _quiet(compare, df, year="fy", numerator="screened", denominator="eligible",
                     evaluation_year=2020, method="mean", comparison="national",
                     level=ref["level"])  # fmt: skip
        obs = est.related["observed"]
        assert obs.estimand == "observed_rate" and obs.value == ref["x"] / ref["n"]
        # closed form on both sides: only floating-point rounding differs
        assert (obs.conf_low, obs.conf_high) == pytest.approx((ref["low"], ref["high"]), abs=1e-12)
        assert obs.level == ref["level"] and obs.n == ref["n"]
        # the raw rate, also with a comparison series
        assert obs.value == pytest.approx(est.diagnostics["observed"], abs=1e-15)
        assert obs.method.code == "baseline.observed_rate_method"  # type: ignore[union-attr]
        assert "2020年度" in obs.method.text("ja")  # type: ignore[union-attr]
    from pfseval.designs.contract import get

    assert "observed" in get("baseline.compare").related


def test_observed_count_has_the_exact_poisson_interval() -> None:
    # reference: R poisson.test(x)$conf.int (exact, Garwood; observed_level.R)
    for ref in OBSERVED["counts"]:
        x = ref["x"]
        s = pd.DataFrame({"fy": range(2016, 2021), "cases": [100, 104, 98, 101, x]})
        est = _quiet(compare, s, year="fy", numerator="cases", evaluation_year=2020,
                     method="mean", level=ref["level"])  # fmt: skip
        obs = est.related["observed"]
        assert obs.estimand == "observed_count" and obs.value == x
        # chi-square quantiles (scipy) vs R's root finding on the Poisson tail: agree to ~1e-9
        assert obs.interval() == pytest.approx((ref["low"], ref["high"]), rel=1e-8, abs=1e-12)


def test_options_are_checked_by_the_contract() -> None:
    df = _series()
    kw: dict[str, Any] = {"year": "fy", "numerator": "screened", "denominator": "eligible",
                          "evaluation_year": 2020}  # fmt: skip
    with pytest.raises(DesignError, match="'level'"):
        compare(df, **kw, level=1.5)
    with pytest.raises(DesignError, match=r"'method'.*'loess'"):
        compare(df, **kw, method="loess")  # type: ignore[arg-type]
    with pytest.raises(DesignError, match="'window'"):
        compare(df, **kw, window=3)  # type: ignore[call-arg]


def test_compare_many_issues_each_notice_once_with_the_number_of_groups() -> None:
    s = pd.DataFrame({"city": ["A"] * 4 + ["B"] * 4, "fy": [2017, 2018, 2019, 2020] * 2,
                      "y": [50, 52, 51, 70, 200, 190, 210, 205], "n": [500] * 4 + [2000] * 4})  # fmt: skip
    with warnings.catch_warnings(record=True) as rec:
        warnings.simplefilter("always")
        out = compare_many(s, by="city", year="fy", numerator="y", denominator="n",
                           evaluation_year=2020, method="last")  # fmt: skip
    texts = [str(w.message) for w in rec if issubclass(w.category, ShortSeriesWarning)]
    assert len(texts) == 1 and texts[0].startswith("2 of 2 groups: last year only")
    assert [tuple(n.code for n in row) for row in out["notices"]] == [("baseline.last_only",)] * 2
    assert out["method"].tolist() == ["baseline.method.last_rate"] * 2
