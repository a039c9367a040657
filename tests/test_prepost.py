"""pfseval.prepost against R (values stored in tests/reference/prepost/, made by the R script
there), hand calculation and statsmodels/scipy; input errors; a small coverage check."""

from __future__ import annotations

import json
import warnings
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
from scipy import stats

import pfseval.prepost as pp_alias
from pfseval.designs.prepost import (
    RegressionToMeanWarning,
    compare,
    count_total,
    paired_proportions,
    share_improved,
)
from pfseval.errors import (
    AttritionWarning,
    ColumnMissingError,
    DataValidationError,
    DesignError,
    PfsevalWarning,
    SmallSampleWarning,
)
from pfseval.inference import hodges_lehmann, newcombe_paired, signrank_test

REF: dict[str, Any] = json.loads(
    (Path(__file__).parent / "reference" / "prepost" / "prepost_reference.json").read_text()
)
# R values are printed with 15 significant digits (jsonlite digits = NA): 1e-8 is far above
# that rounding and far below anything that matters.
TOL = 1e-8


def _frame(case: dict[str, Any]) -> pd.DataFrame:
    return pd.DataFrame({"b": case["before"], "a": case["after"]})


def _quiet(fn: Any, *args: Any, **kw: Any) -> Any:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", PfsevalWarning)
        return fn(*args, **kw)


def test_alias_module_reexports() -> None:
    assert pp_alias.compare is compare
    assert pp_alias.share_improved is share_improved


# ---------------------------------------------------------------- paired t


@pytest.mark.parametrize("lvl,key", [(0.95, "l95"), (0.90, "l90")])
def test_paired_t_matches_r(lvl: float, key: str) -> None:
    case = REF["t30"]
    r = case[key]
    est = compare(_frame(case), before="b", after="a", level=lvl)
    assert est.value == pytest.approx(r["estimate"], abs=TOL)
    assert (est.conf_low, est.conf_high) == pytest.approx((r["conf_low"], r["conf_high"]), abs=TOL)
    assert est.p_value == pytest.approx(r["p_value"], rel=1e-6)
    assert est.std_error == pytest.approx(r["estimate"] / r["statistic"], rel=1e-10)
    assert est.n == 30 and est.estimand == "mean_change"
    assert est.sample_flow is not None and est.sample_flow.n_analysed() == 30
    assert est.provenance["data_sha256"]


def test_paired_t_matches_scipy() -> None:
    case = REF["t30"]
    est = compare(_frame(case), before="b", after="a")
    res = stats.ttest_rel(case["after"], case["before"])
    ci = res.confidence_interval(0.95)
    assert (est.conf_low, est.conf_high) == pytest.approx((ci.low, ci.high), abs=1e-10)
    assert est.p_value == pytest.approx(res.pvalue, rel=1e-10)


# ---------------------------------------------------------------- Wilcoxon


@pytest.mark.parametrize(
    "name,key,lvl",
    [
        ("wx_exact20", "l95", 0.95),
        ("wx_exact20", "l80", 0.80),
        ("wx_exact6", "l95", 0.95),
        ("wx_exact6", "l99", 0.99),
        ("wx_ties40", "l95", 0.95),
        ("wx_approx80", "l95", 0.95),
        ("wx_approx80", "l90", 0.90),
    ],
)
def test_wilcoxon_matches_r(name: str, key: str, lvl: float) -> None:
    case = REF[name]
    r = case[key]
    est = _quiet(compare, _frame(case), before="b", after="a", level=lvl, method="wilcoxon")
    # R ran uniroot with tol.root = 1e-13 in the approximate cases, so its limits sit on the
    # exact steps of the signed-rank function; exact cases are order statistics: 1e-8 for both.
    assert (est.conf_low, est.conf_high) == pytest.approx((r["conf_low"], r["conf_high"]), abs=TOL)
    assert est.p_value == pytest.approx(r["p_value"], rel=1e-7)
    assert est.diagnostics["statistic_v"] == r["statistic"]
    # The level actually achieved, as R reports it (0.969 for n = 6 at a requested 0.99).
    assert est.level == pytest.approx(r["conf_level"], abs=1e-12)
    if est.diagnostics["exact"]:
        assert est.value == pytest.approx(r["estimate"], abs=TOL)
    else:
        # Approximate case: pfseval reports the median of the Walsh averages (computed in R
        # with outer()); R's estimate is a uniroot point on the same flat step, equal here.
        assert est.value == pytest.approx(case["hl_walsh_median"], abs=1e-12)
        assert est.value == pytest.approx(r["estimate"], abs=1e-8)


def test_wilcoxon_unachievable_level_warns() -> None:
    case = REF["wx_exact6"]
    with pytest.warns(PfsevalWarning, match="not achievable"):
        est = compare(_frame(case), before="b", after="a", level=0.99, method="wilcoxon")
    assert any("not achievable" in w for w in est.warnings)


def test_signrank_p_matches_scipy_exact_and_approx() -> None:
    x = np.asarray(REF["wx_exact20"]["after"]) - np.asarray(REF["wx_exact20"]["before"])
    assert signrank_test(x).p_value == pytest.approx(
        stats.wilcoxon(x, method="exact").pvalue, rel=1e-10
    )
    y = np.asarray(REF["wx_approx80"]["after"]) - np.asarray(REF["wx_approx80"]["before"])
    ref = stats.wilcoxon(y, method="approx", correction=True, zero_method="wilcox").pvalue
    assert signrank_test(y).p_value == pytest.approx(ref, rel=1e-10)


@pytest.mark.parametrize("n", [1, 2, 5, 30, 101])
def test_hodges_lehmann_equals_explicit_walsh_median(n: int) -> None:
    rng = np.random.default_rng(n)
    x = np.round(rng.normal(size=n), 2)  # rounding makes ties among Walsh averages
    i, j = np.triu_indices(n)
    assert hodges_lehmann(x) == np.median((x[i] + x[j]) / 2)


def test_walsh_order_statistics_are_exact_pair_sums() -> None:
    from pfseval.inference.signrank import _walsh_kth

    # ties, zeros, negative zero, subnormals: every order statistic equals the explicit one
    x = np.sort(np.array([0.0, -0.0, 0.1, 0.2, 0.3, -1e-300, 5e-324, 3.0, 0.1, -2.5]))
    i, j = np.triu_indices(len(x))
    w = np.sort(x[i] + x[j])
    assert [_walsh_kth(x, k) for k in range(1, len(w) + 1)] == w.tolist()


# ---------------------------------------------------------------- binary, McNemar


@pytest.mark.parametrize("k", range(len(REF["mcnemar"])))
def test_paired_proportions_match_r(k: int) -> None:
    c = REF["mcnemar"][k]
    rows = [(0, 0)] * c["n00"] + [(0, 1)] * c["n01"] + [(1, 0)] * c["n10"] + [(1, 1)] * c["n11"]
    df = pd.DataFrame(rows, columns=["b", "a"])
    est = paired_proportions(df, before="b", after="a", mcnemar="asymptotic")
    assert est.value == pytest.approx(c["diff"], abs=1e-12)
    # Newcombe method 10, written independently in R from the paper's formula.
    assert (est.conf_low, est.conf_high) == pytest.approx(
        (c["newcombe10_low"], c["newcombe10_high"]), abs=TOL
    )
    assert est.p_value == pytest.approx(c["mcnemar_p"], rel=1e-8)
    assert est.diagnostics["mcnemar_statistic"] == pytest.approx(c["mcnemar_statistic"], rel=1e-10)
    assert est.diagnostics["p_value_exact"] == pytest.approx(c["binom_p"], rel=1e-8)
    auto = paired_proportions(df, before="b", after="a")
    assert auto.diagnostics["mcnemar_exact"] is (c["n01"] + c["n10"] < 25)


def test_paired_proportions_match_published_cavo_example() -> None:
    # Fagerland, Lydersen & Laake (2017), Statistical Analysis of Contingency Tables, ch. 8:
    # Cavo et al. (2012), table [[59, 6], [16, 80]]: difference -0.0621, Newcombe
    # square-and-add 95% CI -0.1186 to -0.0046, McNemar with continuity correction
    # P = 0.055009. Published to 4 (CI) / 6 (P) decimals: tolerance half a unit of the last digit.
    rows = [(1, 1)] * 59 + [(0, 1)] * 6 + [(1, 0)] * 16 + [(0, 0)] * 80  # (before, after)
    df = pd.DataFrame(rows, columns=["b", "a"])
    est = paired_proportions(df, before="b", after="a", mcnemar="asymptotic")
    assert round(est.value, 4) == -0.0621
    assert est.conf_low == pytest.approx(-0.1186, abs=5e-5)
    assert est.conf_high == pytest.approx(-0.0046, abs=5e-5)
    assert est.p_value == pytest.approx(0.055009, abs=5e-7)


def test_newcombe_paired_with_independent_margins_reduces_to_unpaired() -> None:
    # phi = 0 when the 2x2 table factorises (A = 4·4 − 4·4 = 0), and then method 10 is the
    # independent-samples Newcombe interval of the two margins (hand check: formula identity).
    from pfseval.inference import newcombe_diff

    n11, n10, n01, n00 = 4, 4, 4, 4
    lo, hi = newcombe_paired(n11, n10, n01, n00)
    assert (lo, hi) == pytest.approx(newcombe_diff(8, 16, 8, 16), abs=1e-12)


def test_paired_proportions_no_discordant_pairs() -> None:
    df = pd.DataFrame({"b": [0] * 5 + [1] * 5, "a": [0] * 5 + [1] * 5})
    est = _quiet(paired_proportions, df, before="b", after="a")
    assert est.value == 0 and est.p_value == 1.0
    # The corrected phi (A - n/2) keeps the interval open even with no discordant pairs.
    assert est.conf_low < 0 < est.conf_high
    assert est.conf_low == pytest.approx(-est.conf_high)


# ---------------------------------------------------------------- share improved, totals


@pytest.mark.parametrize("k", range(len(REF["share"])))
def test_share_improved_matches_r(k: int) -> None:
    c = REF["share"][k]
    x, n = c["x"], c["n"]
    df = pd.DataFrame({"b": [10] * n, "a": [8] * x + [10] * (n - x)})
    est = _quiet(share_improved, df, before="b", after="a", threshold=1)
    assert est.value == pytest.approx(x / n)
    assert (est.conf_low, est.conf_high) == pytest.approx(tuple(c["wilson"]), abs=TOL)
    assert est.intervals["clopper_pearson"] == pytest.approx(tuple(c["clopper_pearson"]), abs=TOL)
    est90 = _quiet(share_improved, df, before="b", after="a", threshold=1, level=0.9)
    assert (est90.conf_low, est90.conf_high) == pytest.approx(tuple(c["wilson90"]), abs=TOL)


def test_share_improved_rules_and_directions() -> None:
    df = pd.DataFrame({"b": [10, 10, 10, 10], "a": [7, 9, 10, 12]})
    assert _quiet(share_improved, df, before="b", after="a").value == 0.5  # a < b
    assert _quiet(share_improved, df, before="b", after="a", threshold=2).value == 0.25
    assert _quiet(share_improved, df, before="b", after="a", direction="increase").value == 0.25
    maintained = _quiet(share_improved, df, before="b", after="a", rule=lambda b, a: a <= b)
    assert maintained.value == 0.75
    with pytest.raises(DesignError):
        share_improved(df, before="b", after="a", threshold=1, rule=lambda b, a: a < b)
    with pytest.raises(DesignError, match="'threshold'"):
        share_improved(df, before="b", after="a", threshold=-1)
    # the rule and the method are data, rendered in either language
    est = _quiet(share_improved, df, before="b", after="a", threshold=2)
    assert est.diagnostics["rule"] == "Δ ≤ −2"
    assert est.method.code == "prepost.method.share_improved_threshold_decrease"
    assert est.method.text("ja") == "改善者の割合（事後 − 事前 ≤ −2）、Wilson 区間"
    assert maintained.diagnostics["rule"] == "rule(before, after)"


def test_count_total_matches_r() -> None:
    c = REF["count"]
    df = pd.DataFrame({"b": c["before"], "a": c["after"]})
    est = count_total(df, before="b", after="a")
    assert est.value == c["total"]
    assert (est.conf_low, est.conf_high) == pytest.approx((c["t_low"], c["t_high"]), abs=TOL)
    pois = count_total(df, before="b", after="a", method="poisson")
    assert (pois.conf_low, pois.conf_high) == pytest.approx(tuple(c["poisson"]), abs=TOL)
    assert est.related["mean_per_person"].value == pytest.approx(c["total"] / 30)


def test_count_total_poisson_rejects_increases() -> None:
    df = pd.DataFrame({"b": [3, 4, 5], "a": [2, 5, 5]}, index=[10, 11, 12])
    with pytest.raises(DataValidationError, match="rows 1") as ei:
        count_total(df, before="b", after="a", method="poisson")
    assert ei.value.problems[0].column == "a"


# ---------------------------------------------------------------- regression to the mean


def test_comparison_group_adjustment_matches_r_welch() -> None:
    c = REF["rtm"]
    df = pd.DataFrame(
        {
            "b": c["before_p"] + c["before_c"],
            "a": c["after_p"] + c["after_c"],
            "grp": [0] * len(c["before_p"]) + [1] * len(c["before_c"]),
        }
    )
    est = compare(df.assign(trt=1 - df["grp"]), before="b", after="a", treatment="trt")
    r = c["l95"]
    assert est.estimand == "difference_in_mean_change"
    assert est.value == pytest.approx(r["estimate"][0] - r["estimate"][1], abs=TOL)
    assert (est.conf_low, est.conf_high) == pytest.approx((r["conf_low"], r["conf_high"]), abs=TOL)
    assert est.std_error == pytest.approx(r["std_error"], abs=TOL)
    assert est.diagnostics["df"] == pytest.approx(r["df"], rel=1e-10)
    assert est.p_value == pytest.approx(r["p_value"], rel=1e-7)
    assert est.related["participants_mean_change"].value == pytest.approx(r["estimate"][0])
    assert est.sample_flow is not None and set(est.sample_flow.groups) == {
        "treated",
        "control",
    }


def test_rtm_warning_from_option_and_from_data() -> None:
    rng = np.random.default_rng(3)
    df = pd.DataFrame({"b": rng.normal(150, 10, 40), "a": rng.normal(140, 10, 40)})
    with pytest.warns(RegressionToMeanWarning):
        est = compare(df, before="b", after="a", selected_on_baseline=True)
    assert any("regression to the mean" in w for w in est.warnings)
    grp = np.r_[np.zeros(20), np.ones(20)]
    df2 = df.assign(g=grp, b=df["b"] + 30 * (grp == 0))  # participants far above
    with pytest.warns(RegressionToMeanWarning):
        est2 = compare(df2.assign(t=1 - grp), before="b", after="a", treatment="t")
    assert est2.diagnostics["baseline_smd"] > 0.5
    assert [n.code for n in est2.notices] == ["prepost.baseline_differs"]
    with pytest.raises(DesignError, match="method='t'"):
        compare(df2.assign(t=1 - grp), before="b", after="a", treatment="t", method="wilcoxon")


def test_rtm_adjustment_recovers_synthetic_effect() -> None:
    from pfseval.synthetic import prepost_questionnaire

    ds = prepost_questionnaire(seed=11, n=400, comparison=True, missing_after=0.0)
    df = ds.data
    raw = _quiet(compare, df[df["participant"] == 1], before="checklist_before",
                 after="checklist_after")  # fmt: skip
    adj = _quiet(
        compare, df, before="checklist_before", after="checklist_after", treatment="participant"
    )
    # The raw change includes regression to the mean (more negative than the effect); the
    # adjusted estimate is centred on the effect (difference of the two groups' changes).
    assert raw.value < ds.truth["checklist_effect_sample"] - 0.3
    assert adj.conf_low < ds.truth["checklist_effect_sample"] < adj.conf_high


# ---------------------------------------------------------------- missing pairs, bad input


def test_missing_pairs_counted_in_flow_and_strict_mode() -> None:
    df = pd.DataFrame(
        {
            "person_id": [f"P{i}" for i in range(12)],
            "b": [1.0, 2, 3, 4, 5, 6, 7, 8, 9, 10, np.nan, 4],
            "a": [1.5, 2, 2, 5, 4, 7, 6, 9, 8, np.nan, 3, np.nan],
        }
    )
    with pytest.warns(AttritionWarning, match="2 person"):
        est = compare(df, before="b", after="a")
    flow = est.sample_flow
    assert flow is not None
    assert flow.total_input == 12 and flow.n_analysed() == 9 == est.n
    steps = {s.reason.code: s for s in flow.steps}
    assert steps["prepost.flow.only_before"].ids == ("P9", "P11")
    assert steps["prepost.flow.only_after"].ids == ("P10",)
    assert steps["prepost.flow.only_before"].reason.text("en") == "no a value (only b)"
    (notice,) = [n for n in est.notices if n.category is AttritionWarning]
    assert dict(notice.counts) == {"n_only_before": 2, "n_only_after": 1}
    with pytest.raises(DataValidationError, match=r"rows 9, 11") as ei:
        compare(df, before="b", after="a", strict=True)
    assert {p.column for p in ei.value.problems} == {"a", "b"}


def test_repeated_person_ids_are_an_error() -> None:
    # audit: a repeated id was analysed as two people, in every prepost function
    df = pd.DataFrame(
        {
            "person_id": ["P1", "P2", "P3", "P2", "P4", "P5"],
            "b": [1, 0, 1, 1, 0, 1],
            "a": [0, 0, 1, 0, 1, 0],
            "g": [0, 0, 0, 1, 1, 1],
        }
    )
    calls = [
        lambda d: compare(d, before="b", after="a"),
        lambda d: compare(d, before="b", after="a", treatment="g"),
        lambda d: paired_proportions(d, before="b", after="a"),
        lambda d: share_improved(d, before="b", after="a"),
        lambda d: count_total(d, before="b", after="a"),
    ]
    for call in calls:
        with pytest.raises(DataValidationError, match="person_id appears on more than one row"):
            call(df)
    with pytest.raises(DataValidationError) as ei:
        compare(df, before="b", after="a")
    (problem,) = ei.value.problems
    assert problem.column == "person_id" and problem.kind == "duplicate"
    assert problem.rows == (1, 3) and problem.values == ("P2", "P2")
    # with unique ids (or id_col=None: rows are people) the same frame is accepted
    ok = df.assign(person_id=[f"Q{i}" for i in range(6)])
    assert _quiet(paired_proportions, ok, before="b", after="a").n == 6
    assert _quiet(paired_proportions, df, before="b", after="a", id_col=None).n == 6


def test_signrank_result_uses_level() -> None:
    # one name for one concept: the achieved level is ``level`` (R's conf.level)
    case = REF["wx_exact6"]
    r = signrank_test(np.asarray(case["after"]) - np.asarray(case["before"]), level=0.99)
    assert r.level == pytest.approx(case["l99"]["conf_level"], abs=1e-12)
    assert r.level < 0.99 and not hasattr(r, "conf_level")


def test_bad_input_errors() -> None:
    df = pd.DataFrame({"b": [0, 1, 2], "a": [1, 1, "x"]})
    with pytest.raises(ColumnMissingError, match="'after_col'"):
        compare(df, before="b", after="after_col")
    with pytest.raises(DataValidationError, match="rows 2"):
        compare(df, before="b", after="a")
    with pytest.raises(DataValidationError, match="0/1"):
        paired_proportions(pd.DataFrame({"b": [0, 2], "a": [1, 1]}), before="b", after="a")
    with pytest.raises(DesignError):
        compare(pd.DataFrame({"b": [1.0], "a": [2.0]}), before="b", after="a")
    with pytest.raises(DesignError):
        compare(df.iloc[:2], before="b", after="a", level=95)
    with pytest.raises(DataValidationError, match="treatment column must be 1"):
        compare(df.iloc[:2].assign(g=[0, 2]), before="b", after="a", treatment="g")


def test_small_sample_warning() -> None:
    df = pd.DataFrame({"b": [1.0, 2, 3, 4], "a": [2.0, 2, 5, 6]})
    with pytest.warns(SmallSampleWarning):
        est = compare(df, before="b", after="a")
    assert any("only 4 complete pairs" in w for w in est.warnings)


# ---------------------------------------------------------------- coverage (small version)


def test_coverage_small_version() -> None:
    """200 simulated n = 30 paired studies (full run: benchmarks/prepost_coverage.py)."""
    import importlib.util

    path = Path(__file__).resolve().parents[1] / "benchmarks" / "prepost_coverage.py"
    spec = importlib.util.spec_from_file_location("prepost_coverage", path)
    assert spec is not None and spec.loader is not None
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    res = mod.run_coverage(n_studies=200, n=30, seed=2026)
    for name, cov in res.items():
        assert 0.91 <= cov <= 0.99, (name, cov)
