"""Propensity score: agreement with R's glm (stored), statsmodels, and input checks."""

from __future__ import annotations

from pathlib import Path
from typing import Literal

import numpy as np
import pandas as pd
import pytest
import statsmodels.api as sm

from pfseval.designs.psm import covariate_design, fit_propensity
from pfseval.errors import ConvergenceError, MatchingError, SeparationError

REF = Path(__file__).parent / "reference" / "psm"
COVS = ["age", "educ", "race", "married", "nodegree", "re74", "re75"]


@pytest.fixture(scope="module")
def lalonde() -> pd.DataFrame:
    return pd.read_csv(REF / "lalonde" / "lalonde.csv")


def _r_names(terms: pd.Series) -> list[str]:
    # R's model.matrix names factor columns "raceblack"; pfseval names them "race_black"
    return [t.replace("race", "race_") if t.startswith("race") else t for t in terms]


@pytest.mark.parametrize("link", ["logit", "probit"])
def test_coefficients_match_r_glm(lalonde: pd.DataFrame, link: Literal["logit", "probit"]) -> None:
    ref = pd.read_csv(REF / "matchit451" / f"{link}_glm_coef.csv")
    m = fit_propensity(lalonde, treatment="treat", covariates=COVS, link=link)
    ref.index = pd.Index(_r_names(ref["term"]))
    assert list(m.coef.index) == list(ref.index)
    # Same IRLS iterations as glm.fit: coefficients agree to rounding (R writes 15 digits);
    # 1e-8 relative is the brief's bar for "R glm's MLE".
    np.testing.assert_allclose(m.coef, ref["estimate"], rtol=1e-8, atol=0)
    # model-based SEs from the inverse Fisher information at the final iterate
    np.testing.assert_allclose(m.std_error, ref["std_error"], rtol=1e-6)


@pytest.mark.parametrize(
    ("spec", "link", "scale"),
    [
        ("lalonde/nn1", "logit", "score"),
        ("lalonde/nn1_logitcal02", "logit", "linear_predictor"),
        ("matchit451/probit_smallest", "probit", "score"),
        ("matchit451/linear_probit_data_order", "probit", "linear_predictor"),
    ],
)
def test_scores_match_matchit(
    lalonde: pd.DataFrame, spec: str, link: Literal["logit", "probit"], scale: str
) -> None:
    ref = pd.read_csv(REF / f"{spec}_distance.csv")
    m = fit_propensity(lalonde, treatment="treat", covariates=COVS, link=link, id_col="id")
    mine = getattr(m, scale)
    assert list(mine.index) == list(ref["id"])
    # brief: scores to 1e-6 (observed ~1e-14: R's csv keeps 15 significant digits)
    np.testing.assert_allclose(mine.to_numpy(), ref["distance"].to_numpy(), rtol=0, atol=1e-6)


def test_logit_matches_statsmodels_mle() -> None:
    # statsmodels' Logit is an independent MLE; glm's stopping rule leaves < 1e-7 relative.
    rng = np.random.default_rng(3)
    n = 3000
    X = rng.normal(size=(n, 3)) * [1, 10, 0.1] + [0, 50, 1]
    eta = -1 + X @ [0.5, 0.02, -2.0]
    t = (rng.random(n) < 1 / (1 + np.exp(-eta))).astype(int)
    df = pd.DataFrame(X, columns=["a", "b", "c"]).assign(t=t)
    m = fit_propensity(df, treatment="t", covariates=["a", "b", "c"])
    ref = sm.Logit(t, sm.add_constant(X)).fit(disp=0, tol=1e-12, maxiter=100)
    np.testing.assert_allclose(m.coef.to_numpy(), ref.params, rtol=1e-6)
    np.testing.assert_allclose(m.std_error.to_numpy(), ref.bse, rtol=1e-5)
    assert m.deviance == pytest.approx(-2 * ref.llf, rel=1e-10)


def test_identical_rows_get_identical_scores(lalonde: pd.DataFrame) -> None:
    # ties are broken by data order, so equal covariates must give bit-equal scores
    m = fit_propensity(lalonde, treatment="treat", covariates=COVS, link="probit")
    key = lalonde[COVS].astype(str).agg("|".join, axis=1)
    per_key = pd.Series(m.score.to_numpy()).groupby(key.to_numpy()).nunique()
    assert (per_key == 1).all()


def test_categorical_expansion_reference_level() -> None:
    df = pd.DataFrame(
        {
            "x": [1.0, 2, 3, 4],
            "grade": pd.Categorical(["b", "a", "b", "c"], categories=["c", "b", "a"]),
            "flag": [True, False, True, False],
        }
    )
    d = covariate_design(df, ["x", "grade", "flag"])
    # category order is the level order; the first present level is the reference
    assert d.model_names == ("x", "grade_b", "grade_a", "flag")
    assert d.balance_names == ("x", "grade_c", "grade_b", "grade_a", "flag")
    np.testing.assert_array_equal(d.balance[:, 1], [0, 0, 0, 1])
    np.testing.assert_array_equal(d.model[:, 3], [1, 0, 1, 0])


def test_constant_covariate_is_named() -> None:
    df = pd.DataFrame({"t": [0, 1, 0, 1, 0, 1], "x": [1.0, 2, 3, 4, 5, 1], "k": [7] * 6})
    with pytest.raises(MatchingError, match="k are constant"):
        fit_propensity(df, treatment="t", covariates=["x", "k"])


def test_collinear_covariate_is_named() -> None:
    rng = np.random.default_rng(0)
    df = pd.DataFrame({"t": rng.integers(0, 2, 50), "a": rng.normal(size=50)})
    df["b"] = 2 * df["a"] + 1
    with pytest.raises(MatchingError, match="b are linear combinations"):
        fit_propensity(df, treatment="t", covariates=["a", "b"])


def test_complete_separation_names_covariate() -> None:
    rng = np.random.default_rng(1)
    n = 200
    df = pd.DataFrame({"noise": rng.normal(size=n), "age": rng.uniform(40, 75, n)})
    df["t"] = (df["age"] > 60).astype(int)  # age separates perfectly
    with pytest.raises(SeparationError) as err:
        fit_propensity(df, treatment="t", covariates=["noise", "age"])
    assert err.value.covariates == ("age",)
    assert "age" in str(err.value)


def test_quasi_separation_by_a_level_names_it() -> None:
    rng = np.random.default_rng(2)
    n = 300
    df = pd.DataFrame({"x": rng.normal(size=n), "grp": rng.choice(["a", "b", "c"], n)})
    df["t"] = (rng.random(n) < 0.3).astype(int)
    df.loc[df["grp"] == "c", "t"] = 0  # nobody in level c participates
    with pytest.raises(SeparationError) as err:
        fit_propensity(df, treatment="t", covariates=["x", "grp"])
    assert "grp_c" in err.value.covariates


def test_non_convergence_is_reported() -> None:
    rng = np.random.default_rng(4)
    df = pd.DataFrame({"x": rng.normal(size=100)})
    df["t"] = (rng.random(100) < 0.5).astype(int)
    with pytest.raises(ConvergenceError, match="did not converge"):
        fit_propensity(df, treatment="t", covariates=["x"], max_iter=1)


def test_treatment_must_be_binary() -> None:
    df = pd.DataFrame({"t": [0, 1, 2, 1], "x": [1.0, 2, 3, 4]})
    with pytest.raises(MatchingError, match="must be 0/1"):
        fit_propensity(df, treatment="t", covariates=["x"])
