"""ATT after matching: MatchIt + sandwich + lmtest parity, bootstrap, coverage."""

from __future__ import annotations

import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import statsmodels.api as sm

import pfseval.designs.psm.matching as matching
from pfseval.designs.psm import att, match
from pfseval.designs.psm.effects import _set_blocks
from pfseval.errors import AttritionWarning
from pfseval.synthetic import kobe_programme

REF = Path(__file__).parent / "reference" / "psm"
COVS = ["age", "educ", "race", "married", "nodegree", "re74", "re75"]


@pytest.fixture(scope="module")
def lalonde() -> pd.DataFrame:
    return pd.read_csv(REF / "lalonde" / "lalonde.csv")


def _m(data: pd.DataFrame, **kw: object) -> matching.MatchedSample:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return match(data, treatment="treat", covariates=COVS, id_col="id", **kw)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("spec", "kw"),
    [
        ("nn1", {}),
        ("nn1_logitcal02", {"link": "linear.logit", "caliper": 0.2}),
        ("nn2", {"ratio": 2}),
    ],
)
def test_att_matches_matchit_472(lalonde: pd.DataFrame, spec: str, kw: dict[str, object]) -> None:
    ref = pd.read_csv(REF / "lalonde" / f"{spec}_effect.csv").iloc[0]
    est = att(_m(lalonde, **kw), outcome="re78")
    # brief: ATT / pair-clustered SE / CI to 1e-6 (observed ~1e-10 on values ~1e3)
    assert est.value == pytest.approx(ref["att"], abs=1e-6)
    assert est.std_error == pytest.approx(ref["se_pair_cluster"], abs=1e-6)
    assert est.conf_low == pytest.approx(ref["ci_low"], abs=1e-6)
    assert est.conf_high == pytest.approx(ref["ci_high"], abs=1e-6)
    assert est.diagnostics["n_treated"] == ref["matched_treated"]
    assert est.diagnostics["n_control"] == ref["matched_control"]
    assert est.n == ref["matched_treated"] + ref["matched_control"]
    assert est.estimand == "ATT" and est.level == 0.95
    assert est.sample_flow is not None and est.sample_flow.n_analysed() == est.n
    assert est.provenance["data_sha256"]


@pytest.mark.parametrize(
    ("spec", "kw"),
    [
        ("replace_nn1", {"replace": True}),
        ("exact_married_nodegree", {"exact": ["married", "nodegree"]}),
        ("ratio3_linear_caliper", {"ratio": 3, "link": "linear.logit", "caliper": 0.5}),
        ("linear_probit_data_order", {"link": "linear.probit", "order": "data", "ratio": 2}),
    ],
)
def test_att_matches_matchit_451_cases(
    lalonde: pd.DataFrame, spec: str, kw: dict[str, object], monkeypatch: pytest.MonkeyPatch
) -> None:
    # 4.5.1's integer truncation of score differences (see tests/reference/psm/README.md)
    monkeypatch.setattr(matching, "_gap", lambda a, b: np.trunc(abs(a - b)))
    m = _m(lalonde, ties="left", **kw)  # the rule that had the 4.5.1 truncation
    for _, ref in pd.read_csv(REF / "matchit451" / f"{spec}_effect.csv").iterrows():
        est = att(m, outcome="re78", covariates=COVS if ref["model"] == "adjusted" else None)
        assert est.diagnostics["vcov"] == ref["vcov"]  # HC3 with replacement, else clustered
        assert est.diagnostics["df"] == ref["df"]
        assert est.method.params["df"] == ref["df"]  # type: ignore[union-attr]  # settings as data
        for mine, theirs in [
            (est.value, ref["att"]),
            (est.std_error, ref["std_error"]),
            (est.conf_low, ref["ci_low"]),
            (est.conf_high, ref["ci_high"]),
        ]:
            assert mine == pytest.approx(theirs, abs=1e-6)
        assert est.p_value == pytest.approx(ref["p_value"], abs=1e-9)


def test_unadjusted_att_is_weighted_mean_difference_and_wls(lalonde: pd.DataFrame) -> None:
    m = _m(lalonde, ratio=2, caliper=0.3)
    est = att(m, outcome="re78", covariates=["age", "educ"])
    md = m.matched_data()
    X = sm.add_constant(md[["treat", "age", "educ"]].astype(float))
    wls = sm.WLS(md["re78"], X, weights=md["weights"]).fit()
    assert est.value == pytest.approx(wls.params["treat"], rel=1e-10)
    # cluster SE as statsmodels' cluster-robust covariance with the same small-sample factors
    cl = wls.get_robustcov_results(cov_type="cluster", groups=md["subclass"].astype(int))
    assert est.std_error == pytest.approx(cl.bse[1], rel=1e-8)
    raw = att(m, outcome="re78")
    t = md["treat"] == 1
    by_hand = md.loc[t, "re78"].mean() - np.average(
        md.loc[~t, "re78"], weights=md.loc[~t, "weights"]
    )
    assert raw.value == pytest.approx(by_hand, rel=1e-12)


def test_set_blocks_reproduce_the_full_fit(lalonde: pd.DataFrame) -> None:
    # the bootstrap's per-set blocks must add up to the full fit (all counts 1), also with
    # replacement, uneven sets and regression adjustment (where the weight scale matters)
    df = lalonde.copy()
    df.loc[df["id"].isin([3, 4, 200, 250]), "re78"] = np.nan  # some treated/controls lost
    for kw in ({"ratio": 3, "caliper": 0.2}, {"replace": True, "ratio": 2}):
        m = _m(df, **kw)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            est = att(m, outcome="re78", covariates=["age", "educ"])
        use = (m.weights.to_numpy() > 0) & m.data["re78"].notna().to_numpy()
        rows = np.flatnonzero(use)
        X = np.column_stack(
            [np.ones(len(rows)), m.data[["treat", "age", "educ"]].to_numpy(float)[rows]]
        )
        XtWX, XtWy = _set_blocks(m, rows, X, m.data["re78"].to_numpy()[rows])
        beta = np.linalg.solve(XtWX.sum(axis=0), XtWy.sum(axis=0))
        assert beta[1] == pytest.approx(est.value, rel=1e-10)


def test_cluster_bootstrap_is_seeded_and_sensible(lalonde: pd.DataFrame) -> None:
    m = _m(lalonde)
    a = att(m, outcome="re78", n_boot=400, seed=7)
    b = att(m, outcome="re78", n_boot=400, seed=7)
    assert a.draws is not None and b.draws is not None
    np.testing.assert_array_equal(a.draws, b.draws)
    lo, hi = a.intervals["bootstrap"]
    assert lo < a.value < hi
    # pairs bootstrap SD close to the pair-clustered SE (400 draws: ±~7% MC error; band 25%)
    assert np.std(a.draws, ddof=1) == pytest.approx(a.std_error, rel=0.25)
    assert a.provenance["seed"] == 7


def test_unseeded_bootstrap_records_a_seed_that_repeats_it(lalonde: pd.DataFrame) -> None:
    # audit: seed=None recorded None, so the interval could not be reproduced
    m = _m(lalonde)
    a = att(m, outcome="re78", n_boot=200)
    seed = a.provenance["seed"]
    assert isinstance(seed, int) and 0 <= seed < 2**32
    b = att(m, outcome="re78", n_boot=200, seed=seed)
    assert b.intervals["bootstrap"] == a.intervals["bootstrap"]
    assert a.draws is not None and b.draws is not None
    np.testing.assert_array_equal(a.draws, b.draws)
    # without a bootstrap nothing is random: the matching seed is kept (None here)
    assert att(m, outcome="re78").provenance["seed"] == m.seed


def test_missing_outcome_is_excluded_with_reason(lalonde: pd.DataFrame) -> None:
    df = lalonde.copy()
    df.loc[df["id"].isin([1, 2, 3]), "re78"] = np.nan
    m = _m(df)
    with pytest.warns(AttritionWarning, match="3 matched treated"):
        est = att(m, outcome="re78")
    assert est.diagnostics["n_treated"] == 182
    step = [s for s in est.sample_flow.steps if s.reason.code == "psm.flow.no_outcome"]  # type: ignore[union-attr]
    assert [(s.group, s.n_excluded) for s in step] == [("treated", 3), ("control", 0)]
    notice = next(n for n in est.notices if n.code == "psm.att_missing_outcome")
    assert notice.counts["n_treated_missing"] == 3 and notice.params["outcome"] == "re78"
    assert "re78" in notice.text("ja") and "3人" in notice.text("ja")
    assert est.sample_flow.n_analysed() == est.n  # type: ignore[union-attr]


def test_att_ci_coverage_small_simulation() -> None:
    """Fast version of benchmarks/psm_coverage.py: 120 studies, true ATT = 1."""
    cov = ["age", "sex", "bmi", "sbp", "hba1c", "egfr", "urine_protein", "med_glucose", "smoking"]
    hits = []
    for seed in range(120):
        ds = kobe_programme(seed=seed, n_pool=700, n_participants=70, effect=1.0)
        d = ds.data.assign(change=lambda x: (x["egfr_follow"] - x["egfr"]) / x["followup_years"])
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            m = match(d, treatment="treated", covariates=cov, id_col="person_id", caliper=0.2)
            est = att(m, outcome="change", covariates=cov)
        hits.append(est.conf_low <= ds.truth["effect"] <= est.conf_high)
    rate = float(np.mean(hits))
    # binomial SD at 95% with 120 studies is 2%; band ±~3 SD
    assert 0.88 <= rate <= 1.0
