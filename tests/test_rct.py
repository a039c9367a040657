"""pfseval.designs.rct against R (stored values), statsmodels/scipy, hand calculation.

Tolerances: R values are stored with 17 significant digits and the estimators are closed-form
(means, least squares, sandwich formulas), so agreement is limited only by floating-point
rounding; we ask for 1e-8 relative (observed differences are about 1e-14).
"""

from __future__ import annotations

import itertools
import math
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import statsmodels.api as sm
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import stats
from statsmodels.stats.contingency_tables import Table2x2
from statsmodels.stats.weightstats import CompareMeans, DescrStatsW

from pfseval import rct
from pfseval.designs.rct import compare, permutation_test
from pfseval.errors import (
    AttritionWarning,
    ColumnMissingError,
    DataValidationError,
    DesignError,
    PfsevalWarning,
    SmallSampleWarning,
)
from pfseval.inference import permutation_p_value

REF = Path(__file__).parent / "reference" / "rct"
RTOL = 1e-8  # closed-form estimators; R and numpy differ only by rounding (~1e-14)


@pytest.fixture(scope="module")
def r_ref() -> dict[tuple[str, str], float]:
    df = pd.read_csv(REF / "results.csv")
    return {(c, q): float(v) for c, q, v in df.itertuples(index=False)}


@pytest.fixture(scope="module")
def cont() -> pd.DataFrame:
    return pd.read_csv(REF / "cont.csv")


@pytest.fixture(scope="module")
def clus() -> pd.DataFrame:
    return pd.read_csv(REF / "clus.csv")


def _quiet(fn, *args, **kwargs):  # type: ignore[no-untyped-def]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", PfsevalWarning)
        return fn(*args, **kwargs)


def _check(est, r_ref, case, quantities=("estimate", "conf_low", "conf_high", "std_error")):  # type: ignore[no-untyped-def]
    mine = {
        "estimate": est.value,
        "conf_low": est.conf_low,
        "conf_high": est.conf_high,
        "std_error": est.std_error,
        "p_value": est.p_value,
        "df": est.diagnostics.get("df"),
    }
    for q in quantities:
        assert mine[q] == pytest.approx(r_ref[(case, q)], rel=RTOL, abs=1e-12), (case, q)


# ---------------------------------------------------------------- continuous outcomes vs R


@pytest.mark.parametrize("level,case", [(0.95, "welch_95"), (0.90, "welch_90")])
def test_welch_matches_r_t_test(cont, r_ref, level, case) -> None:  # type: ignore[no-untyped-def]
    est = compare(cont, outcome="y", treatment="arm", level=level)
    _check(est, r_ref, case, ("estimate", "conf_low", "conf_high", "std_error", "p_value", "df"))
    assert est.estimand == "mean_difference"
    assert "Welch" in est.method_text
    assert est.n == 70
    assert est.level == level


def test_welch_matches_statsmodels(cont) -> None:  # type: ignore[no-untyped-def]
    # statsmodels' CompareMeans(usevar="unequal") is an independent implementation.
    est = compare(cont, outcome="y", treatment="arm")
    cm = CompareMeans(
        DescrStatsW(cont.loc[cont.arm == 1, "y"].to_numpy()),
        DescrStatsW(cont.loc[cont.arm == 0, "y"].to_numpy()),
    )
    lo, hi = cm.tconfint_diff(usevar="unequal")
    _, p, _ = cm.ttest_ind(usevar="unequal")
    assert (est.conf_low, est.conf_high) == pytest.approx((lo, hi), rel=1e-10)
    assert est.p_value == pytest.approx(p, rel=1e-10)


@pytest.mark.parametrize(
    "case,kwargs",
    [
        ("lin", {"covariates": ["x1", "x2"]}),
        ("strata", {"strata": "stratum"}),
        ("strata_lin", {"strata": "stratum", "covariates": ["x1", "x2"]}),
    ],
)
def test_lin_and_strata_match_r_lm_hc2(cont, r_ref, case, kwargs) -> None:  # type: ignore[no-untyped-def]
    est = compare(cont, outcome="y", treatment="arm", **kwargs)
    _check(est, r_ref, case, ("estimate", "conf_low", "conf_high", "std_error", "p_value", "df"))
    assert "HC2" in est.method_text


def test_strata_equals_hand_weighted_difference(cont, r_ref) -> None:  # type: ignore[no-untyped-def]
    # Stratum-size-weighted difference and Neyman variance, computed by hand in R and here.
    est = compare(cont, outcome="y", treatment="arm", strata="stratum")
    _check(est, r_ref, "strata_hand", ("estimate", "std_error"))
    w = cont.groupby("stratum").size() / len(cont)
    m = cont.groupby(["stratum", "arm"])["y"].mean().unstack()
    assert est.value == pytest.approx(float((w * (m[1] - m[0])).sum()), rel=1e-12)
    assert est.diagnostics["n_strata"] == 3


def test_lin_matches_statsmodels_hc2(cont) -> None:  # type: ignore[no-untyped-def]
    d = cont.assign(x1c=cont.x1 - cont.x1.mean(), x2c=cont.x2 - cont.x2.mean())
    X = np.column_stack(
        [np.ones(len(d)), d.arm, d.x1c, d.x2c, d.arm * d.x1c, d.arm * d.x2c]
    ).astype(float)
    fit = sm.OLS(d.y.to_numpy(), X).fit(cov_type="HC2")
    est = compare(cont, outcome="y", treatment="arm", covariates=["x1", "x2"])
    assert est.value == pytest.approx(fit.params[1], rel=1e-10)
    assert est.std_error == pytest.approx(fit.bse[1], rel=1e-10)


# ---------------------------------------------------------------- clusters vs R


@pytest.mark.parametrize("covs,case", [((), "clus"), (("x1",), "clus_lin")])
def test_cluster_cr1_and_cr2_match_r(clus, r_ref, covs, case) -> None:  # type: ignore[no-untyped-def]
    with pytest.warns(SmallSampleWarning, match="14 clusters"):
        cr2 = compare(clus, outcome="y", treatment="arm", cluster="cluster", covariates=list(covs))
    _check(cr2, r_ref, f"{case}_cr2", ("estimate", "conf_low", "conf_high", "std_error", "p_value"))
    assert cr2.diagnostics["df"] == pytest.approx(r_ref[(f"{case}_cr2", "df")], rel=RTOL)
    # sandwich::vcovCL(type = "HC2") is a second, independent CR2 implementation
    assert cr2.std_error == pytest.approx(r_ref[(f"{case}_cr2", "std_error_sandwich")], rel=RTOL)
    cr1 = _quiet(
        compare, clus, outcome="y", treatment="arm", cluster="cluster", covariates=list(covs),
        cluster_se="CR1",
    )  # fmt: skip
    _check(cr1, r_ref, f"{case}_cr1", ("estimate", "conf_low", "conf_high", "std_error", "p_value"))
    # each reports the other interval
    assert cr2.intervals["CR1, t(G-1)"] == pytest.approx((cr1.conf_low, cr1.conf_high), rel=1e-12)
    assert cr1.intervals["CR2, Bell-McCaffrey df"] == pytest.approx(
        (cr2.conf_low, cr2.conf_high), rel=1e-12
    )
    assert cr2.diagnostics["n_clusters"] == 14
    assert cr2.diagnostics["n_clusters_treated"] == 7


def test_cr2_equals_cluster_level_welch_for_equal_clusters() -> None:
    # Hand check: with equal cluster sizes and no covariates, CR2 of the arm coefficient is the
    # unbiased variance of cluster means, s1²/G1 + s0²/G0 (the cluster-level Welch variance).
    rng = np.random.default_rng(5)
    G, m = 12, 4
    cl = np.repeat(np.arange(G), m)
    arm = (cl % 2).astype(int)
    y = rng.normal(size=G)[cl] + rng.normal(size=G * m) + 0.5 * arm
    df = pd.DataFrame({"cl": cl, "arm": arm, "y": y})
    est = _quiet(compare, df, outcome="y", treatment="arm", cluster="cl")
    cm = df.groupby("cl").agg(y=("y", "mean"), arm=("arm", "first"))
    v = sum(cm.y[cm.arm == a].var(ddof=1) / (G // 2) for a in (0, 1))
    assert est.std_error == pytest.approx(math.sqrt(v), rel=1e-10)
    # Bell–McCaffrey df depend only on the design (identity working model): with equal cluster
    # sizes and two arms of G/2 clusters they equal G − 2, the pooled cluster-level t df.
    assert est.diagnostics["df"] == pytest.approx(G - 2, rel=1e-10)


# ---------------------------------------------------------------- binary outcomes


def _binary_frame(x1: int, n1: int, x0: int, n0: int) -> pd.DataFrame:
    y = [1] * x1 + [0] * (n1 - x1) + [1] * x0 + [0] * (n0 - x0)
    return pd.DataFrame({"arm": [1] * n1 + [0] * n0, "y": y})


BIN = {"a": (18, 40, 9, 42), "zero": (0, 25, 4, 27), "full": (20, 20, 15, 22)}


@pytest.mark.parametrize("name", list(BIN))
@pytest.mark.parametrize(
    "measure,prefix", [("difference", "rd"), ("risk_ratio", "rr"), ("odds_ratio", "or")]
)
def test_binary_matches_r(r_ref, name, measure, prefix) -> None:  # type: ignore[no-untyped-def]
    est = _quiet(compare, _binary_frame(*BIN[name]), outcome="y", treatment="arm", measure=measure)
    case = f"bin_{name}"
    assert est.value == pytest.approx(r_ref[(case, prefix)], rel=RTOL)
    assert est.conf_low == pytest.approx(r_ref[(case, f"{prefix}_low")], rel=RTOL)
    assert est.conf_high == pytest.approx(r_ref[(case, f"{prefix}_high")], rel=RTOL)
    assert est.p_value == pytest.approx(r_ref[(case, f"{prefix}_p_value")], rel=RTOL)
    assert est.estimand == {"difference": "risk_difference"}.get(measure, measure)


def test_risk_difference_newcombe_published_example() -> None:
    # Newcombe (1998) Table II (a): 56/70 vs 48/80 -> 0.0524 to 0.3339 (method 10).
    est = compare(_binary_frame(56, 70, 48, 80), outcome="y", treatment="arm")
    assert (round(est.conf_low, 4), round(est.conf_high, 4)) == (0.0524, 0.3339)
    assert est.value == pytest.approx(0.8 - 0.6)
    assert est.diagnostics["n_events_treated"] == 56
    assert "Newcombe" in est.method_text


def test_ratios_match_statsmodels_table2x2() -> None:
    # statsmodels' Table2x2 computes the same log-scale Wald intervals (no zero cells here).
    x1, n1, x0, n0 = BIN["a"]
    t = Table2x2(np.array([[x1, n1 - x1], [x0, n0 - x0]]))
    rr = compare(_binary_frame(x1, n1, x0, n0), outcome="y", treatment="arm", measure="risk_ratio")
    orr = compare(_binary_frame(x1, n1, x0, n0), outcome="y", treatment="arm", measure="odds_ratio")
    assert rr.value == pytest.approx(t.riskratio, rel=1e-12)
    assert (rr.conf_low, rr.conf_high) == pytest.approx(t.riskratio_confint(), rel=1e-10)
    assert orr.value == pytest.approx(t.oddsratio, rel=1e-12)
    assert (orr.conf_low, orr.conf_high) == pytest.approx(t.oddsratio_confint(), rel=1e-10)
    assert orr.p_value == pytest.approx(t.oddsratio_pvalue(), rel=1e-10)


def test_zero_cell_correction_is_flagged_only_when_needed() -> None:
    with pytest.warns(SmallSampleWarning, match="Haldane"):
        est = compare(
            _binary_frame(0, 25, 4, 27), outcome="y", treatment="arm", measure="risk_ratio"
        )
    assert est.diagnostics["haldane_correction"] is True
    assert any("Haldane" in w for w in est.warnings)
    # all events in the intervention arm: the risk ratio needs no correction, the odds ratio does
    with warnings.catch_warnings():
        warnings.simplefilter("error", PfsevalWarning)
        rr = compare(
            _binary_frame(20, 20, 15, 22), outcome="y", treatment="arm", measure="risk_ratio"
        )
    assert rr.diagnostics["haldane_correction"] is False
    with pytest.warns(SmallSampleWarning):
        orr = compare(
            _binary_frame(20, 20, 15, 22), outcome="y", treatment="arm", measure="odds_ratio"
        )
    assert orr.diagnostics["haldane_correction"] is True


def test_binary_adjusted_is_linear_probability_model() -> None:
    rng = np.random.default_rng(2)
    x = rng.normal(size=200)
    arm = np.tile([0, 1], 100)
    y = (rng.random(200) < 0.3 + 0.2 * arm + 0.05 * x).astype(int)
    df = pd.DataFrame({"arm": arm, "y": y, "x": x})
    est = compare(df, outcome="y", treatment="arm", covariates=["x"])
    assert est.estimand == "risk_difference"
    assert est.method.params["binary"] is True  # linear probability model
    with pytest.raises(DesignError, match="unadjusted"):
        compare(df, outcome="y", treatment="arm", covariates=["x"], measure="risk_ratio")
    # forcing the continuous analysis of a 0/1 outcome gives the Welch difference of proportions
    welch = compare(df, outcome="y", treatment="arm", outcome_type="continuous")
    assert welch.value == pytest.approx(y[arm == 1].mean() - y[arm == 0].mean())
    assert welch.estimand == "mean_difference"


# ---------------------------------------------------------------- attrition and the flow


def test_missing_outcomes_are_counted_not_silently_dropped(cont, r_ref) -> None:  # type: ignore[no-untyped-def]
    extra = pd.DataFrame(
        {"id": ["m1", "m2", "m3"], "arm": [1, 0, 0], "stratum": 1, "x1": 50.0, "x2": 0,
         "y": np.nan}
    )  # fmt: skip
    d = pd.concat([cont, extra], ignore_index=True)
    est = compare(d, outcome="y", treatment="arm", id_col="id")
    _check(est, r_ref, "welch_95")  # the same as R on the complete records
    flow = est.sample_flow
    assert flow is not None
    assert flow.n_input["treated"] == 34 and flow.n_input["control"] == 39
    assert flow.n_analysed("treated") == 33 and flow.n_analysed("control") == 37
    lost = [s for s in flow.steps if s.reason.code == "rct.flow.outcome_missing"]
    assert {s.group: set(s.ids) for s in lost} == {"treated": {"m1"}, "control": {"m2", "m3"}}
    assert est.diagnostics["n_missing_outcome_control"] == 2
    assert est.diagnostics["attrition_treated"] == pytest.approx(1 / 34)


def test_missing_covariate_is_a_flow_step(cont) -> None:  # type: ignore[no-untyped-def]
    d = cont.copy()
    d.loc[[0, 1], "x1"] = np.nan
    d.loc[[1, 5], "x2"] = np.nan
    with pytest.warns(PfsevalWarning, match=r"3 people .* missing covariate \(x1, x2\)"):
        est = compare(d, outcome="y", treatment="arm", covariates=["x1", "x2"], id_col="id")
    steps = [s for s in est.sample_flow.steps if s.reason.code == "rct.flow.covariate_missing"]  # type: ignore[union-attr]
    assert sum(s.n_excluded for s in steps) == 3
    assert est.n == 67
    # recorded on the result too (audit: it used to be silent), as a notice with its count
    (notice,) = [n for n in est.notices if n.code == "rct.covariate_missing"]
    assert dict(notice.counts) == {"n_excluded": 3}
    assert list(notice.params["covariates"]) == ["x1", "x2"]
    assert "調整変数" in notice.text("ja")
    # no warning when every analysed person has the covariates
    with warnings.catch_warnings():
        warnings.simplefilter("error", PfsevalWarning)
        full = compare(cont, outcome="y", treatment="arm", covariates=["x1", "x2"], id_col="id")
    assert not any("covariate" in w for w in full.warnings)


def test_repeated_ids_are_an_error(cont) -> None:  # type: ignore[no-untyped-def]
    # audit: a repeated id was analysed as two people
    d = pd.concat([cont, cont.iloc[[3]]], ignore_index=True)
    with pytest.raises(DataValidationError) as err:
        compare(d, outcome="y", treatment="arm", id_col="id")
    (problem,) = err.value.problems
    assert problem.column == "id" and problem.kind == "duplicate"
    assert problem.rows == (3, len(cont)) and problem.values == (cont["id"][3],) * 2
    with pytest.raises(DataValidationError, match="same id appears"):
        permutation_test(d, outcome="y", treatment="arm", id_col="id")
    # waitlist: the same person in two periods is the design; twice in one period is not
    two = pd.concat([cont.assign(period=1), cont.assign(period=2)], ignore_index=True)
    with pytest.warns(PfsevalWarning, match="more than one analysed period"):
        compare(two, outcome="y", treatment="arm", period="period", id_col="id")
    bad = pd.concat([two, two.iloc[[0]]], ignore_index=True)
    with pytest.raises(DataValidationError, match="within one period") as err:
        compare(bad, outcome="y", treatment="arm", period="period", id_col="id")
    assert err.value.problems[0].rows == (0, len(two))


def test_differential_attrition_warning_rule() -> None:
    rng = np.random.default_rng(3)
    df = pd.DataFrame({"arm": np.repeat([1, 0], 50), "y": rng.normal(size=100)})
    # 3/50 = 6% vs 0%: a difference above 5 points -> warning
    d1 = df.copy()
    d1.loc[[0, 1, 2], "y"] = np.nan
    with pytest.warns(AttritionWarning, match="differential attrition"):
        est = compare(d1, outcome="y", treatment="arm")
    assert any("differential attrition" in w for w in est.warnings)
    # 2/50 = 4% vs 0%: no warning
    d2 = df.copy()
    d2.loc[[0, 1], "y"] = np.nan
    with warnings.catch_warnings():
        warnings.simplefilter("error", AttritionWarning)
        est2 = compare(d2, outcome="y", treatment="arm")
    assert est2.warnings == ()
    # 25% overall, balanced: the overall rule fires, the differential one does not
    d3 = df.copy()
    d3.loc[list(range(13)) + list(range(50, 63)), "y"] = np.nan
    with pytest.warns(AttritionWarning, match="have no outcome"):
        est3 = compare(d3, outcome="y", treatment="arm")
    assert not any("differential" in w for w in est3.warnings)


def test_nullable_dtypes_and_bool_arm() -> None:
    df = pd.DataFrame(
        {
            "arm": pd.array([True, True, True, False, False, False, True, False], dtype="boolean"),
            "y": pd.array([3.0, 4.0, 5.0, 1.0, 2.0, 2.5, pd.NA, 1.5], dtype="Float64"),
        }
    )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", AttritionWarning)
        est = compare(df, outcome="y", treatment="arm")
    assert est.value == pytest.approx(4.0 - 1.75)
    assert est.sample_flow.n_excluded("treated") == 1  # type: ignore[union-attr]


# ---------------------------------------------------------------- bad input


def test_bad_arm_values_name_column_and_rows() -> None:
    df = pd.DataFrame({"arm": [1, 0, 2, 1, np.nan, 0], "y": np.arange(6.0)})
    with pytest.raises(DataValidationError) as ei:
        compare(df, outcome="y", treatment="arm")
    (prob,) = ei.value.problems
    assert prob.column == "arm" and prob.rows == (2, 4)
    assert "'arm'" in str(ei.value) and "rows 2, 4" in str(ei.value)


def test_non_numeric_outcome_names_rows() -> None:
    df = pd.DataFrame({"arm": [1, 1, 0, 0], "y": ["1.5", "abc", "2", "x"]})
    with pytest.raises(DataValidationError, match=r"column 'y'.*rows 1, 3"):
        compare(df, outcome="y", treatment="arm")


def test_one_arm_empty_and_missing_column() -> None:
    df = pd.DataFrame({"arm": [1, 1, 1], "y": [1.0, 2.0, 3.0]})
    with pytest.raises(DesignError, match="control arm"):
        compare(df, outcome="y", treatment="arm")
    df2 = pd.DataFrame({"arm": [1, 1, 0, 0], "y": [1.0, 2.0, np.nan, np.nan]})
    with pytest.raises(DesignError, match="control arm"), warnings.catch_warnings():
        warnings.simplefilter("ignore", AttritionWarning)
        compare(df2, outcome="y", treatment="arm")
    with pytest.raises(ColumnMissingError, match="'outcome_x'"):
        compare(df, outcome="outcome_x", treatment="arm")


def test_design_errors() -> None:
    df = pd.DataFrame(
        {"arm": [1, 0, 1, 0, 0, 1], "y": [1.0, 2, 3, 4, 5, 6], "s": ["a", "a", "a", "a", "b", "b"]}
    )
    with pytest.raises(DesignError, match="stratum 'b'"):
        compare(df, outcome="y", treatment="arm", strata="s")
    with pytest.raises(DesignError, match="0/1 outcome"):
        compare(df, outcome="y", treatment="arm", measure="odds_ratio")
    with pytest.raises(DataValidationError, match="stratum is missing"):
        compare(
            df.assign(s=[None, "a", "a", "a", "b", "b"]), outcome="y", treatment="arm", strata="s"
        )
    with pytest.raises(DesignError, match="rank deficient"):
        compare(df.assign(c=1.0), outcome="y", treatment="arm", covariates=["c"])
    cl = df.assign(k=["k1", "k2", "k1", "k2", "k2", "k1"])  # one cluster per arm... mixed arms
    with pytest.raises(DesignError, match="2 clusters in each arm"), warnings.catch_warnings():
        warnings.simplefilter("ignore", PfsevalWarning)
        compare(cl.assign(arm=[1, 0, 1, 0, 0, 1]), outcome="y", treatment="arm", cluster="k")
    with pytest.raises(ValueError, match="measure"):
        compare(df, outcome="y", treatment="arm", measure="ratio")  # type: ignore[arg-type]


# ---------------------------------------------------------------- waitlist / staggered periods


def test_periods_combine_with_size_weights() -> None:
    rng = np.random.default_rng(8)
    parts = []
    for p, n1, n0 in ((1, 20, 25), (2, 30, 18)):
        parts.append(
            pd.DataFrame(
                {
                    "period": p,
                    "arm": [1] * n1 + [0] * n0,
                    "y": rng.normal(size=n1 + n0) + 0.4 * np.r_[np.ones(n1), np.zeros(n0)],
                }
            )
        )
    df = pd.concat(parts, ignore_index=True)
    est = compare(df, outcome="y", treatment="arm", period="period")
    e1 = compare(df[df.period == 1], outcome="y", treatment="arm")
    e2 = compare(df[df.period == 2], outcome="y", treatment="arm")
    w1, w2 = 45 / 93, 48 / 93
    assert est.value == pytest.approx(w1 * e1.value + w2 * e2.value, rel=1e-12)
    se = math.hypot(w1 * e1.std_error, w2 * e2.std_error)  # type: ignore[operator]
    assert est.std_error == pytest.approx(se, rel=1e-12)
    t1, t2 = (w1 * e1.std_error) ** 2, (w2 * e2.std_error) ** 2  # type: ignore[operator]
    dfs = (t1 + t2) ** 2 / (t1**2 / e1.diagnostics["df"] + t2**2 / e2.diagnostics["df"])
    q = stats.t.ppf(0.975, dfs)
    assert est.conf_low == pytest.approx(est.value - q * se, rel=1e-10)
    assert est.related["period 1"].value == pytest.approx(e1.value)
    assert set(est.sample_flow.groups) == {  # type: ignore[union-attr]
        "period 1: treated", "period 1: control", "period 2: treated",
        "period 2: control",
    }  # fmt: skip


def test_waitlist_period_without_control_is_excluded_in_flow() -> None:
    from pfseval.synthetic import randomised_trial

    ds = randomised_trial(seed=11, n_per_arm=40, waitlist=True, attrition=0.0)
    with pytest.warns(PfsevalWarning, match="period 2 has no control"):
        est = compare(
            ds.data, outcome="hba1c_change", treatment="arm", period="period", id_col="person_id"
        )
    p1 = ds.data[ds.data.period == 1]
    ref = compare(p1, outcome="hba1c_change", treatment="arm")
    assert est.value == pytest.approx(ref.value)
    flow = est.sample_flow
    assert flow is not None
    assert flow.n_input["period 2: treated"] == 40
    assert flow.n_analysed("period 2: treated") == 0
    assert flow.total_input == len(ds.data)
    # the period groups have display names in both languages (the Japanese flow has no English)
    ja = flow.to_frame("ja")
    assert "期間2：介入群" in set(ja["group"]) and "period" not in " ".join(ja["group"])


# ---------------------------------------------------------------- randomisation test


def test_permutation_exact_equals_r_wilcoxon_on_ranks(r_ref) -> None:  # type: ignore[no-untyped-def]
    perm = pd.read_csv(REF / "perm.csv")
    for alt, key in (("two-sided", "p_two_sided"), ("greater", "p_greater"), ("less", "p_less")):
        est = _quiet(permutation_test, perm, outcome="r", treatment="arm", alternative=alt)
        assert est.p_value == pytest.approx(r_ref[("perm", key)], rel=1e-12)
        assert est.diagnostics["exact"] is True
        assert est.diagnostics["n_assignments"] == math.comb(12, 5)


def _brute_force(y, z, strata=None, clusters=None):  # type: ignore[no-untyped-def]
    """Independent enumeration: loop over every assignment with itertools (slow, obvious)."""
    y = np.asarray(y, float)
    z = np.asarray(z)
    units = np.arange(len(y)) if clusters is None else np.asarray(clusters)
    uids = sorted(set(units.tolist()))
    uz = {u: int(z[units == u][0]) for u in uids}
    s_of = {u: (0 if strata is None else np.asarray(strata)[units == u][0]) for u in uids}
    blocks = sorted(set(s_of.values()))
    per_block = []
    for b in blocks:
        bu = [u for u in uids if s_of[u] == b]
        k = sum(uz[u] for u in bu)
        per_block.append([set(c) for c in itertools.combinations(bu, k)])
    svec = np.zeros(len(y)) if strata is None else np.asarray(strata)

    def stat(treated: set) -> float:  # type: ignore[type-arg]
        zz = np.array([u in treated for u in units])
        out = 0.0
        for b in blocks:
            m = svec == b
            out += m.mean() * (y[m & zz].mean() - y[m & ~zz].mean())
        return out

    obs = stat({u for u in uids if uz[u] == 1})
    null = [stat(set().union(*combo)) for combo in itertools.product(*per_block)]
    return obs, np.array(null)


def test_permutation_exact_stratified_and_clustered_vs_brute_force() -> None:
    rng = np.random.default_rng(4)
    # stratified individual randomisation: C(6,3) * C(5,2) = 200 assignments
    df = pd.DataFrame(
        {"s": ["a"] * 6 + ["b"] * 5, "arm": [1, 1, 1, 0, 0, 0, 1, 1, 0, 0, 0]}
    ).assign(y=lambda d: rng.normal(size=11) + d.arm)
    est = permutation_test(df, outcome="y", treatment="arm", strata="s")
    obs, null = _brute_force(df.y, df.arm, strata=df.s)
    assert est.value == pytest.approx(obs, rel=1e-12)
    assert est.value == pytest.approx(compare(df, outcome="y", treatment="arm", strata="s").value)
    assert est.diagnostics["n_assignments"] == 200
    assert est.p_value == pytest.approx(permutation_p_value(obs, null, exact=True), rel=1e-12)
    # cluster randomisation, unequal cluster sizes: C(8,4) = 70 assignments
    sizes = [2, 3, 4, 2, 5, 3, 2, 4]
    cl = np.repeat(np.arange(8), sizes)
    carm = np.array([1, 0, 1, 0, 1, 0, 1, 0])
    dc = pd.DataFrame({"k": cl, "arm": carm[cl], "y": rng.normal(size=cl.size) + carm[cl]})
    estc = permutation_test(dc, outcome="y", treatment="arm", cluster="k")
    obs_c, null_c = _brute_force(dc.y, dc.arm, clusters=dc.k)
    assert estc.value == pytest.approx(obs_c, rel=1e-12)
    assert estc.p_value == pytest.approx(permutation_p_value(obs_c, null_c, exact=True))
    assert estc.diagnostics["units"] == "clusters" and estc.diagnostics["n_assignments"] == 70


def test_permutation_interval_inverts_the_test() -> None:
    rng = np.random.default_rng(6)
    df = pd.DataFrame(
        {"arm": [1] * 6 + [0] * 6, "y": rng.normal(size=12) + np.repeat([1.0, 0.0], 6)}
    )
    est = permutation_test(df, outcome="y", treatment="arm")  # 924 assignments: exact
    for delta, inside in ((est.conf_low + 1e-6, True), (est.conf_low - 1e-6, False),
                          (est.conf_high - 1e-6, True), (est.conf_high + 1e-6, False)):  # fmt: skip
        shifted = df.assign(y=df.y - delta * df.arm)
        obs, null = _brute_force(shifted.y, shifted.arm)
        p = permutation_p_value(obs, null, exact=True)
        assert (p > 0.05) is inside, (delta, p)


def test_permutation_monte_carlo_is_seeded_and_close_to_exact() -> None:
    rng = np.random.default_rng(7)
    df = pd.DataFrame(
        {"arm": [1] * 9 + [0] * 9, "y": rng.normal(size=18) + 0.8 * np.repeat([1, 0], 9)}
    )
    exact = permutation_test(df, outcome="y", treatment="arm", n_perm=50_000)  # C(18,9) = 48620
    assert exact.diagnostics["exact"] is True
    a = permutation_test(df, outcome="y", treatment="arm", n_perm=4000, seed=1)
    b = permutation_test(df, outcome="y", treatment="arm", n_perm=4000, seed=1)
    assert a.diagnostics["exact"] is False and a.p_value == b.p_value
    assert a.provenance["seed"] == 1
    # unseeded: a seed is drawn, recorded, and repeats the run exactly (audit)
    c = permutation_test(df, outcome="y", treatment="arm", n_perm=2000)
    seed = c.provenance["seed"]
    assert isinstance(seed, int) and 0 <= seed < 2**32
    again = permutation_test(df, outcome="y", treatment="arm", n_perm=2000, seed=seed)
    assert (again.p_value, again.conf_low, again.conf_high) == (c.p_value, c.conf_low, c.conf_high)
    # Monte Carlo error: 4 standard errors of a binomial proportion with 4000 draws
    se = math.sqrt(exact.p_value * (1 - exact.p_value) / 4000)  # type: ignore[operator]
    assert abs(a.p_value - exact.p_value) < 4 * se + 1 / 4000  # type: ignore[operator]


def test_permutation_errors() -> None:
    df = pd.DataFrame({"k": [1, 1, 2, 2], "arm": [1, 0, 1, 0], "y": [1.0, 2, 3, 4]})
    with pytest.raises(DesignError, match="varies within cluster"):
        permutation_test(df, outcome="y", treatment="arm", cluster="k")
    with pytest.raises(ValueError, match="statistic"):
        permutation_test(df, outcome="y", treatment="arm", statistic="median")  # type: ignore[arg-type]


# ---------------------------------------------------------------- coverage (small version)


def test_coverage_small_simulation() -> None:
    # 200 synthetic trials with n = 30 per arm (the benchmark runs 1,000+ per scenario):
    # 95% intervals must cover the truth in 91–99% of them (binomial 200 draws at 0.95 has
    # SD 1.5 points, so the band is about ±2.7 SD).
    from pfseval.synthetic import randomised_trial

    hits = {"welch": 0, "newcombe": 0, "lin": 0, "cluster_cr2": 0}
    n_sim = 200
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", PfsevalWarning)
        for seed in range(n_sim):
            ds = randomised_trial(seed=seed, n_per_arm=30, attrition=0.1)
            d, t = ds.data, ds.truth
            w = compare(d, outcome="hba1c_change", treatment="arm")
            hits["welch"] += w.conf_low <= t["mean_difference"] <= w.conf_high
            b = compare(d, outcome="goal_met", treatment="arm")
            hits["newcombe"] += b.conf_low <= t["risk_difference"] <= b.conf_high
            lin = compare(d, outcome="hba1c_change", treatment="arm", covariates=["hba1c", "age"])
            hits["lin"] += lin.conf_low <= t["mean_difference"] <= lin.conf_high
            dc = randomised_trial(seed=seed, n_per_arm=60, cluster=True, n_clusters=10).data
            c = compare(dc, outcome="hba1c_change", treatment="arm", cluster="cluster")
            hits["cluster_cr2"] += c.conf_low <= t["mean_difference"] <= c.conf_high
    for name, h in hits.items():
        assert 0.91 <= h / n_sim <= 0.99, (name, h / n_sim)


def test_alias_module_and_estimate_contents(cont) -> None:  # type: ignore[no-untyped-def]
    assert rct.compare is compare and rct.permutation_test is permutation_test
    est = compare(cont, outcome="y", treatment="arm", label="HbA1c change")
    assert est.provenance["data_sha256"]
    assert est.label == "HbA1c change"
    d = est.to_dict()
    assert d["sample_flow"]["n_analysed"] == {"treated": 33, "control": 37}
    assert est.diagnostics["mean_treated"] == pytest.approx(cont.y[cont.arm == 1].mean())


# ---------------------------------------------------------------- design-free machinery


def test_iter_assignments_enumerates_each_assignment_once_within_blocks() -> None:
    from pfseval.inference import count_assignments, iter_assignments

    z = np.array([1, 0, 0, 1, 1, 0, 0])
    blocks = np.array(["a", "a", "a", "b", "b", "b", "b"])
    rows = np.vstack(list(iter_assignments(z, blocks=blocks)))
    assert count_assignments(z, blocks=blocks) == math.comb(3, 1) * math.comb(4, 2) == 18
    assert rows.shape == (18, 7)
    assert len({r.tobytes() for r in rows}) == 18  # all distinct
    assert (rows[:, :3].sum(axis=1) == 1).all() and (rows[:, 3:].sum(axis=1) == 2).all()
    assert any((r == z.astype(bool)).all() for r in rows)  # the observed one is included
    mc = np.vstack(list(iter_assignments(z, blocks=blocks, n_perm=10, seed=0)))
    assert mc.shape == (10, 7)
    assert (mc[:, :3].sum(axis=1) == 1).all() and (mc[:, 3:].sum(axis=1) == 2).all()


def test_exact_p_value_matches_scipy_permutation_test() -> None:
    # scipy.stats.permutation_test enumerates all C(11, 5) = 462 splits exactly; its one-sided
    # p-values use the same counting rule (T* >= T_obs), so they must agree exactly.
    rng = np.random.default_rng(9)
    x, y = rng.normal(1, 1, 5), rng.normal(0, 1, 6)
    df = pd.DataFrame({"arm": [1] * 5 + [0] * 6, "y": np.r_[x, y]})

    def diff(a, b, axis):  # type: ignore[no-untyped-def]
        return np.mean(a, axis=axis) - np.mean(b, axis=axis)

    for alt in ("greater", "less"):
        ref = stats.permutation_test(
            (x, y), diff, permutation_type="independent", alternative=alt, n_resamples=10_000
        )
        est = permutation_test(df, outcome="y", treatment="arm", alternative=alt)  # type: ignore[arg-type]
        assert est.p_value == pytest.approx(ref.pvalue, rel=1e-12)


def _mh_frame() -> pd.DataFrame:
    mh = pd.read_csv(REF / "mh.csv")
    parts = [
        _binary_frame(int(r.x1), int(r.n1), int(r.x0), int(r.n0)).assign(s=r.stratum)
        for r in mh.itertuples()
    ]
    return pd.concat(parts, ignore_index=True)


@pytest.mark.parametrize("measure,prefix", [("odds_ratio", "or"), ("risk_ratio", "rr")])
def test_mantel_haenszel_matches_r(r_ref, measure, prefix) -> None:  # type: ignore[no-untyped-def]
    # OR: R mantelhaen.test (Robins–Breslow–Greenland CI); RR: Greenland–Robins by hand in R.
    est = compare(_mh_frame(), outcome="y", treatment="arm", strata="s", measure=measure)
    assert est.value == pytest.approx(r_ref[("mh", prefix)], rel=RTOL)
    assert est.conf_low == pytest.approx(r_ref[("mh", f"{prefix}_low")], rel=RTOL)
    assert est.conf_high == pytest.approx(r_ref[("mh", f"{prefix}_high")], rel=RTOL)
    assert "Mantel–Haenszel" in est.method_text and est.diagnostics["n_strata"] == 3


def test_mantel_haenszel_matches_statsmodels() -> None:
    from statsmodels.stats.contingency_tables import StratifiedTable

    mh = pd.read_csv(REF / "mh.csv")
    tables = [
        np.array([[r.x1, r.n1 - r.x1], [r.x0, r.n0 - r.x0]], dtype=float) for r in mh.itertuples()
    ]
    st = StratifiedTable(tables)
    orr = compare(_mh_frame(), outcome="y", treatment="arm", strata="s", measure="odds_ratio")
    rr = compare(_mh_frame(), outcome="y", treatment="arm", strata="s", measure="risk_ratio")
    assert orr.value == pytest.approx(st.oddsratio_pooled, rel=1e-12)
    assert (orr.conf_low, orr.conf_high) == pytest.approx(st.oddsratio_pooled_confint(), rel=1e-10)
    assert rr.value == pytest.approx(st.riskratio_pooled, rel=1e-12)


# ---------------------------------------------------------------- properties


@settings(max_examples=40, deadline=None)
@given(
    y=st.lists(st.floats(-100, 100, allow_nan=False), min_size=6, max_size=30),
    shift=st.floats(-50, 50, allow_nan=False),
    seed=st.integers(0, 1000),
)
def test_difference_is_invariant_to_row_order_and_location(y, shift, seed) -> None:  # type: ignore[no-untyped-def]
    n = len(y)
    arm = np.array([1, 0] * (n // 2) + [1] * (n % 2))
    df = pd.DataFrame({"arm": arm, "y": y})
    if df.groupby("arm")["y"].std().min() == 0:
        return  # Welch needs variation in each arm
    est = compare(df, outcome="y", treatment="arm", outcome_type="continuous")
    shuffled = df.sample(frac=1, random_state=seed)
    est2 = compare(shuffled.assign(y=shuffled.y + shift), outcome="y", treatment="arm",
                   outcome_type="continuous")  # fmt: skip
    assert est2.value == pytest.approx(est.value, abs=1e-8)
    assert est2.std_error == pytest.approx(est.std_error, rel=1e-6, abs=1e-9)
    assert est.conf_low <= est.value <= est.conf_high


@settings(max_examples=30, deadline=None)
@given(x1=st.integers(0, 25), n1=st.integers(1, 25), x0=st.integers(0, 25), n0=st.integers(1, 25))
def test_binary_intervals_contain_estimate(x1, n1, x0, n0) -> None:  # type: ignore[no-untyped-def]
    x1, x0 = min(x1, n1), min(x0, n0)
    df = _binary_frame(x1, n1, x0, n0)
    rd = compare(df, outcome="y", treatment="arm", outcome_type="binary")
    assert -1 <= rd.conf_low <= rd.value <= rd.conf_high <= 1
    for measure in ("risk_ratio", "odds_ratio"):
        r = _quiet(
            compare, df, outcome="y", treatment="arm", measure=measure, outcome_type="binary"
        )
        assert 0 < r.conf_low <= r.value <= r.conf_high < math.inf


# ---------------------------------------------------------------- the design contract


def test_notices_and_method_are_data_in_both_languages() -> None:
    rng = np.random.default_rng(4)
    df = pd.DataFrame({"arm": np.repeat([1, 0], 50), "y": rng.normal(size=100)})
    df.loc[:3, "y"] = np.nan  # 4/50 = 8% vs 0%: differential attrition
    with pytest.warns(AttritionWarning):
        est = compare(df, outcome="y", treatment="arm")
    (n,) = est.notices
    assert n.code == "rct.attrition_differential"
    assert dict(n.counts) == {
        "n_missing_treated": 4, "n_treated": 50, "n_missing_control": 0, "n_control": 50,
    }  # fmt: skip
    assert n.params["threshold"] == 0.05
    # disclosure control replaces counts of people and nothing else
    assert "<10/50" in n.text("en", counts={"n_missing_treated": "<10"})
    assert "介入群" in n.text("ja")
    assert est.method.code == "rct.method.welch" and "Welch" in est.method.text("ja")
    with pytest.warns(SmallSampleWarning):
        rr = compare(
            _binary_frame(0, 25, 4, 27), outcome="y", treatment="arm", measure="risk_ratio"
        )
    assert [n.code for n in rr.notices] == ["rct.haldane_correction"]
    assert rr.method.code == "rct.method.risk_ratio_haldane"
    assert rr.to_dict()["notices"][0]["text"]["ja"].startswith("2×2表")


def test_options_are_checked_by_the_contract(cont) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(DesignError, match="'measure'"):
        compare(cont, outcome="y", treatment="arm", measure="ratio")  # type: ignore[arg-type]
    with pytest.raises(DesignError, match="'arm'"):  # the retired name is an unknown option
        compare(cont, outcome="y", arm="arm")  # type: ignore[call-arg]
    with pytest.raises(DesignError, match="'n_perm'"):
        permutation_test(cont, outcome="y", treatment="arm", n_perm=0)
