"""Effects after matching (g-computation) and the weighting cross-check, against R.

References: tests/reference/psm_effects/make_reference.R (glm/lm + sandwich::vcovCL + a
central-difference delta method, i.e. what marginaleffects::avg_comparisons computes; IPW/AIPW
with M-estimation sandwiches over stacked estimating equations).
"""

from __future__ import annotations

import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from pfseval.designs.psm import match
from pfseval.designs.psm.effects import att
from pfseval.designs.psm.gcomp import marginal_effect, matched_long
from pfseval.designs.psm.weighting import aipw, ipw, weighting_check
from pfseval.errors import DesignError

REF = Path(__file__).parent / "reference"
COVS = ["age", "educ", "race", "married", "nodegree", "re74", "re75"]
# Point estimates: R's glm stops at a relative deviance change of 1e-8, which leaves the
# coefficients ~1e-8 relative from the exact optimum; 1e-6 relative covers that with margin.
# Standard errors: R's delta method uses a five-point central-difference Jacobian (steps
# scaled to the model columns, error ~1e-9 relative); pfseval's gradient is analytic.
RTOL = 1e-6


@pytest.fixture(scope="module")
def lalonde() -> pd.DataFrame:
    d = pd.read_csv(REF / "psm" / "lalonde" / "lalonde.csv")
    d["employed78"] = (d["re78"] > 0).astype(int)
    return d


def _matched(d: pd.DataFrame, case: str) -> object:
    kw = {"ratio": 2} if case == "nn2" else {"ratio": 2, "replace": True}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        m = match(d, treatment="treat", covariates=COVS, id_col="id", **kw)  # type: ignore[arg-type]
    # the same matched sets as the reference (the order of controls within a set does not
    # matter: each of a set's k controls has weight 1/k)
    ref_pairs = pd.read_csv(REF / "psm_effects" / f"{case}_pairs.csv")
    assert _sets(m.pairs) == _sets(ref_pairs)
    return m


def _sets(p: pd.DataFrame) -> dict[int, frozenset[int]]:
    """Focal id (first column) → the set of its matches, for matched sets with a match."""
    return {
        int(r.iloc[0]): frozenset(int(v) for v in r.iloc[1:] if pd.notna(v))
        for _, r in p.iterrows()
        if r.iloc[1:].notna().any()
    }


@pytest.mark.parametrize("case", ["nn2", "rep2"])
@pytest.mark.parametrize("outcome", ["re78", "employed78"])
def test_gcomp_matches_r(lalonde: pd.DataFrame, case: str, outcome: str) -> None:
    ref = pd.read_csv(REF / "psm_effects" / "gcomp.csv")
    ref = ref[(ref["case"] == case) & (ref["outcome"] == outcome)].set_index("effect")
    m = _matched(lalonde, case)
    binary = outcome == "employed78"
    est = marginal_effect(m, outcome=outcome, covariates=COVS)  # type: ignore[arg-type]
    ests = {est.estimand: est, **est.related}
    names = {"difference": "RD" if binary else "difference", "logRR": "RR", "logOR": "OR"}
    for r_name, row in ref.iterrows():
        e = ests[names[str(r_name)]]
        value = np.log(e.value) if str(r_name).startswith("log") else e.value
        assert value == pytest.approx(row["estimate"], rel=RTOL, abs=1e-9)
        assert e.std_error == pytest.approx(row["std_error"], rel=RTOL)
        assert e.diagnostics["mu_treated"] == pytest.approx(row["mu_treated"], rel=RTOL)
        assert e.diagnostics["mu_control"] == pytest.approx(row["mu_control"], rel=RTOL)
        assert e.n == row["n_rows"]
        assert e.diagnostics["n_clusters"] == row["n_sets"]
        assert e.diagnostics["vcov"] == ("cluster2" if case == "rep2" else "cluster")


def test_gcomp_ratio_intervals_on_log_scale(lalonde: pd.DataFrame) -> None:
    m = _matched(lalonde, "nn2")
    est = marginal_effect(m, outcome="employed78", covariates=COVS, effect="RR")  # type: ignore[arg-type]
    lo, hi = est.interval()
    z = 1.959963984540054
    assert np.log(lo) == pytest.approx(np.log(est.value) - z * est.std_error, rel=1e-12)
    assert np.log(hi) == pytest.approx(np.log(est.value) + z * est.std_error, rel=1e-12)
    assert sorted(est.related) == ["OR", "RD"]


def test_gcomp_without_covariates_is_weighted_difference(lalonde: pd.DataFrame) -> None:
    # no covariates: μ₁ − μ₀ is the matching-weighted difference in means, as att() gives it
    m = _matched(lalonde, "nn2")
    g = marginal_effect(m, outcome="re78", covariates=[])  # type: ignore[arg-type]
    a = att(m, outcome="re78")  # type: ignore[arg-type]
    assert g.value == pytest.approx(a.value, rel=1e-10)
    # same cluster-robust SE up to the normal vs t small-sample convention: both HC1 on sets
    assert g.std_error == pytest.approx(a.std_error, rel=1e-8)


def test_long_form_rows(lalonde: pd.DataFrame) -> None:
    m = _matched(lalonde, "rep2")
    lg = matched_long(m)  # type: ignore[arg-type]
    assert lg.focal.sum() == 185 and (~lg.focal).sum() == 370
    # each set's control weights sum to 1
    sums = np.bincount(lg.set_id[~lg.focal], weights=lg.weight[~lg.focal])
    assert np.allclose(sums, 1.0)


def test_gcomp_rejects_wrong_effect(lalonde: pd.DataFrame) -> None:
    m = _matched(lalonde, "nn2")
    with pytest.raises(DesignError, match="does not fit the outcome"):
        marginal_effect(m, outcome="re78", effect="RR")  # type: ignore[arg-type]


@pytest.mark.parametrize("outcome", ["re78", "employed78"])
def test_ipw_aipw_match_r(lalonde: pd.DataFrame, outcome: str) -> None:
    ref = pd.read_csv(REF / "psm_effects" / "weighting.csv")
    ref = ref[ref["outcome"] == outcome].set_index("method")
    kw = {"treatment": "treat", "outcome": outcome, "covariates": COVS, "id_col": "id"}
    for name, fn in (("ipw", ipw), ("aipw", aipw)):
        est = fn(lalonde, **kw)  # type: ignore[arg-type]
        assert est.value == pytest.approx(ref.loc[name, "estimate"], rel=RTOL)
        # R: five-point numeric Jacobian of the stacked equations (error ~1e-9 relative);
        # pfseval: analytic Jacobian
        assert est.std_error == pytest.approx(ref.loc[name, "std_error"], rel=RTOL)
        assert est.sample_flow is not None and est.sample_flow.n_analysed() == len(lalonde)


def test_weighting_check_flags_disagreement(lalonde: pd.DataFrame) -> None:
    m = _matched(lalonde, "nn2")
    matched_est = att(m, outcome="re78")  # type: ignore[arg-type]
    chk = weighting_check(m, matched_est, outcome="re78")  # type: ignore[arg-type]
    assert set(chk.related) == {"ipw", "matched"}
    assert chk.diagnostics["disagreement"] == pytest.approx(chk.value - matched_est.value)
    # a matched estimate far from the weighting ones must produce a warning
    import dataclasses

    far = dataclasses.replace(matched_est, value=9000.0, conf_low=8000.0, conf_high=10000.0)
    with pytest.warns(UserWarning, match="outside the matched estimate"):
        chk2 = weighting_check(m, far, outcome="re78")  # type: ignore[arg-type]
    assert [n.code for n in chk2.notices] == ["psm.weighting_disagreement"]


def test_bca_interval_matches_scipy() -> None:
    from scipy import stats as st

    from pfseval.inference.bca import bca_interval

    rng = np.random.default_rng(5)
    x = rng.lognormal(size=60)  # skewed, so bias correction and acceleration matter
    res = st.bootstrap((x,), np.mean, n_resamples=3000, method="BCa", rng=rng)
    jack = np.array([np.delete(x, i).mean() for i in range(len(x))])
    lo, hi = bca_interval(res.bootstrap_distribution, float(x.mean()), jack)
    assert (lo, hi) == pytest.approx(tuple(res.confidence_interval), rel=1e-12)


def test_gcomp_cluster_bootstrap(lalonde: pd.DataFrame) -> None:
    m = _matched(lalonde, "nn2")
    kw = {"outcome": "employed78", "covariates": ["age", "educ", "married"], "effect": "RR"}
    est = marginal_effect(m, n_boot=200, seed=3, **kw)  # type: ignore[arg-type]
    # the draws come from bootstrap_draws, whose worker independence is tested elsewhere
    lo, hi = est.intervals["bootstrap_bca"]
    assert lo < est.value < hi
    assert est.draws is not None and est.draws.shape == (200,)
    # the bootstrap and the delta method agree roughly on the spread of log RR
    assert np.nanstd(np.log(est.draws), ddof=1) == pytest.approx(est.std_error, rel=0.3)
    assert set(est.related["RD"].intervals) == {"bootstrap_bca", "bootstrap_percentile"}
    assert est.provenance["seed"] == 3


M472 = REF / "psm" / "matchit472"
M472_CASES: dict[str, tuple[str, list[str], dict[str, object]]] = {
    "ties_varratio": (
        "ties",
        ["agegrp", "sex", "smoke", "insurer"],
        {"ratio": 2, "min_controls": 1, "max_controls": 3},
    ),
    "ties_atc_reuse5": (
        "ties",
        ["agegrp", "sex", "smoke", "insurer"],
        {"estimand": "ATC", "reuse_max": 5},
    ),
    "panel_unitid_nn2_cal": (
        "panel",
        ["age", "male", "sbp", "hba1c"],
        {
            "unit_id": "person",
            "ratio": 2,
            "caliper": {"distance": 0.5, "sbp": 10},
            "std_caliper": {"distance": True, "sbp": False},
        },
    ),
}


@pytest.mark.parametrize("case", list(M472_CASES))
@pytest.mark.parametrize("outcome", ["y", "yb"])
def test_gcomp_on_matchit_472_sets(case: str, outcome: str) -> None:
    # tied categorical covariates with a variable ratio, the ATC with reuse (two-way clusters
    # on set and person), and a person-year panel matched with unit_id (clusters on set and
    # person): MatchIt 4.7.2's own matched sets, outcomes simulated by the R script
    data_name, covs, kw = M472_CASES[case]
    d = pd.read_csv(M472 / f"{data_name}.csv").merge(
        pd.read_csv(REF / "psm_effects" / f"{data_name}_outcomes.csv"), on="id"
    )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        m = match(d, treatment="treat", covariates=covs, id_col="id", **kw)  # type: ignore[arg-type]
    assert _sets(m.pairs) == _sets(pd.read_csv(M472 / f"{case}_mm.csv"))
    ref = pd.read_csv(REF / "psm_effects" / "gcomp.csv")
    ref = ref[(ref["case"] == case) & (ref["outcome"] == outcome)].set_index("effect")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        est = marginal_effect(m, outcome=outcome, covariates=covs)
    ests = {est.estimand: est, **est.related}
    names = {"difference": "RD" if outcome == "yb" else "difference", "logRR": "RR", "logOR": "OR"}
    for r_name, row in ref.iterrows():
        e = ests[names[str(r_name)]]
        value = np.log(e.value) if str(r_name).startswith("log") else e.value
        assert value == pytest.approx(row["estimate"], rel=RTOL, abs=1e-9)
        assert e.std_error == pytest.approx(row["std_error"], rel=RTOL)
        assert e.diagnostics["mu_treated"] == pytest.approx(row["mu_treated"], rel=RTOL)
        assert e.diagnostics["mu_control"] == pytest.approx(row["mu_control"], rel=RTOL)
        assert e.n == row["n_rows"] and e.diagnostics["n_clusters"] == row["n_sets"]


def test_linear_jackknife_matches_leaving_each_set_out(lalonde: pd.DataFrame) -> None:
    # the BCa acceleration uses the first-order (infinitesimal) jackknife, O(n); it must track
    # the exact leave-one-set-out refits
    from pfseval.designs.psm import gcomp as G

    m = _matched(lalonde, "nn2")
    covs = ["age", "educ", "married"]
    rows = G._analysed_rows(m, "employed78", covs)  # type: ignore[arg-type]
    X = G._design(rows.covariate_matrix(m.data, covs), rows.treated.astype(float))  # type: ignore[attr-defined]
    sets = pd.factorize(rows.set_id)[0]
    lin = G._linear_jackknife(X, rows.y, rows.weight, sets, rows.focal, True)
    exact = []
    for g in range(int(sets.max()) + 1):
        c = (sets != g).astype(float)
        fit = G.fit_glm(X[c > 0], rows.y[c > 0], (rows.weight * c)[c > 0], binary=True)
        keep = c[rows.focal] > 0
        m1, m0, _, _ = G._gcomp(fit.beta, X[rows.focal][keep, 2:5], True)
        exact.append([v for v, _, _ in G._effects(m1, m0, np.zeros(1), np.zeros(1), True).values()])
    ex = np.asarray(exact)
    for k in range(3):
        assert np.corrcoef(lin[:, k], ex[:, k])[0, 1] > 0.999
        assert np.allclose(lin[:, k], ex[:, k], rtol=0, atol=0.05 * np.ptp(ex[:, k]))


def test_gcomp_and_weighting_join_the_design_contract():
    # issue 9: registered designs, label= passed through, the method a catalogue Message
    from pfseval.designs.contract import get
    from pfseval.designs.psm.kobe import _example_matched
    from pfseval.messages import Message

    assert get("psm.marginal_effect").matching == "psm.match"
    assert get("psm.ipw").input == get("psm.aipw").input == "data"
    m = _example_matched(n_treated=60, seed=3)
    est = marginal_effect(m, outcome="egfr_follow", covariates=["age", "egfr"], label="腎機能")
    assert est.label == "腎機能"
    assert isinstance(est.method, Message)
    assert est.method.params["covariates"] == ["age", "egfr"]
    assert "アウトカムモデル" in est.method.text("ja")
    args = {"treatment": m.treatment, "outcome": "egfr_follow", "covariates": ["age", "egfr"]}
    for fn in (ipw, aipw):
        e = fn(m.data, **args, label="x")  # type: ignore[arg-type]
        assert e.label == "x" and isinstance(e.method, Message)
        assert e.method.text("en") and e.method.text("ja")
    with pytest.raises(DesignError, match="'effect'"):
        marginal_effect(m, outcome="egfr_follow", effect="ratio")  # type: ignore[arg-type]
    with pytest.raises(DesignError, match="'level'"):
        ipw(m.data, **args, level=2)  # type: ignore[arg-type]
