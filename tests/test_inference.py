"""Shared inference against independent references (R values stored below, statsmodels)."""

from __future__ import annotations

import numpy as np
import pytest
import statsmodels.api as sm
from statsmodels.stats.proportion import proportion_confint

from pfseval.inference import (
    bootstrap_draws,
    clopper_pearson,
    cluster_robust_vcov,
    hc_vcov,
    newcombe_diff,
    percentile_interval,
    wilson,
)


@pytest.mark.parametrize("x,n", [(0, 10), (1, 10), (23, 70), (70, 70), (500, 1000)])
def test_wilson_and_clopper_pearson_match_statsmodels(x: int, n: int) -> None:
    # statsmodels implements the same formulas independently; agreement to 1e-10.
    assert wilson(x, n) == pytest.approx(proportion_confint(x, n, method="wilson"), abs=1e-10)
    assert clopper_pearson(x, n) == pytest.approx(
        proportion_confint(x, n, method="beta"), abs=1e-10
    )


def test_newcombe_matches_published_example() -> None:
    # Newcombe (1998) Table II, example (a): 56/70 vs 48/80 -> 0.0524 to 0.3339 (method 10).
    lo, hi = newcombe_diff(56, 70, 48, 80)
    assert (round(lo, 4), round(hi, 4)) == (0.0524, 0.3339)


def test_hc_vcov_matches_statsmodels() -> None:
    rng = np.random.default_rng(0)
    X = sm.add_constant(rng.normal(size=(50, 2)))
    y = X @ [1, 2, -1] + rng.normal(size=50) * (1 + np.abs(X[:, 1]))
    fit = sm.OLS(y, X).fit()
    for kind in ("HC0", "HC1", "HC2", "HC3"):
        ref = fit.get_robustcov_results(cov_type=kind).cov_params()
        assert hc_vcov(X, fit.resid, kind=kind) == pytest.approx(ref, rel=1e-10)  # type: ignore[arg-type]


def test_cluster_vcov_matches_statsmodels() -> None:
    rng = np.random.default_rng(1)
    g = np.repeat(np.arange(20), 3)
    X = sm.add_constant(rng.normal(size=(60, 1)))
    y = X @ [0.5, 1.0] + rng.normal(size=20)[g] + rng.normal(size=60)
    fit = sm.OLS(y, X).fit()
    # statsmodels' default cluster correction is G/(G-1)·(n-1)/(n-k), the same as sandwich's vcovCL.
    ref = fit.get_robustcov_results(cov_type="cluster", groups=g).cov_params()
    assert cluster_robust_vcov(X, fit.resid, g) == pytest.approx(ref, rel=1e-10)


def test_bootstrap_is_reproducible_and_worker_independent() -> None:
    x = np.arange(20.0)

    def stat(rng: np.random.Generator) -> float:
        return float(rng.choice(x, x.size).mean())

    a = bootstrap_draws(stat, n_boot=250, seed=3)
    b = bootstrap_draws(stat, n_boot=250, seed=3, n_jobs=2)
    assert np.array_equal(a, b)
    assert not np.array_equal(a, bootstrap_draws(stat, n_boot=250, seed=4))
    lo, hi = percentile_interval(a)
    assert lo < x.mean() < hi
