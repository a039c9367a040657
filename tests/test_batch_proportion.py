"""The output-indicator design (`pfseval.designs.proportion`) against independent references."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from statsmodels.stats.proportion import proportion_confint

from pfseval.designs.proportion import mean_of_rates, rate
from pfseval.errors import ColumnMissingError, DataValidationError, DesignError

DOMAINS = ["d1", "d2", "d3", "d4"]


@pytest.mark.parametrize(("x", "n"), [(0, 12), (3, 40), (95, 100), (105, 105), (23, 70)])
@pytest.mark.parametrize("level", [0.9, 0.95])
def test_rate_matches_statsmodels(x: int, n: int, level: float) -> None:
    df = pd.DataFrame({"completed": [1] * x + [0] * (n - x)})
    est = rate(df, outcome="completed", level=level)
    assert est.value == x / n and est.n == n
    # statsmodels computes the same Wilson and exact intervals: agreement to 1e-10
    # (both are closed-form up to the normal / beta quantile functions)
    wl = proportion_confint(x, n, alpha=1 - level, method="wilson")
    cp = proportion_confint(x, n, alpha=1 - level, method="beta")
    np.testing.assert_allclose(est.interval(), wl, atol=1e-10)
    np.testing.assert_allclose(est.intervals["clopper_pearson"], cp, atol=1e-10)


def test_rate_exclusions_and_missing_are_counted() -> None:
    # Kobe rule: (completers − excluded after start) / (participants − excluded after start)
    df = pd.DataFrame(
        {
            "completed": [1] * 90 + [0] * 6 + [np.nan] * 2 + [1, 0],
            "excluded_after_start": [0] * 98 + [1, 1],
        }
    )
    est = rate(df, outcome="completed", exclude="excluded_after_start")
    assert (est.diagnostics["n_numerator"], est.diagnostics["n_denominator"]) == (90, 96)
    flow = est.sample_flow
    assert flow is not None
    assert flow.total_input == 100 and flow.n_analysed() == 96 and flow.n_excluded() == 4
    with pytest.raises(DataValidationError, match="completed"):
        rate(df, outcome="completed", missing="error")


def test_rate_bad_input() -> None:
    df = pd.DataFrame({"completed": [1, 0, 2, 1, 3]})
    with pytest.raises(DataValidationError) as err:
        rate(df, outcome="completed")
    assert err.value.problems[0].rows == (2, 4)
    with pytest.raises(ColumnMissingError, match="complete"):
        rate(df, outcome="complete")
    with pytest.raises(DesignError):
        rate(pd.DataFrame({"completed": [np.nan, np.nan]}), outcome="completed")


def _domains(n: int, p: list[float], seed: int, rho: float = 0.4) -> pd.DataFrame:
    """Correlated 0/1 domains (a shared latent factor), with some missing values."""
    rng = np.random.default_rng(seed)
    z = rng.normal(size=(n, 1))
    e = rng.normal(size=(n, len(p)))
    from scipy.stats import norm

    latent = np.sqrt(rho) * z + np.sqrt(1 - rho) * e
    x = (latent < norm.ppf(p)).astype(float)
    return pd.DataFrame(x, columns=DOMAINS[: len(p)])


def test_mean_of_rates_hand_calculation() -> None:
    df = pd.DataFrame(
        {
            "d1": [1, 1, 0, 1, np.nan],  # 3/4
            "d2": [1, 0, 0, np.nan, np.nan],  # 1/3
            "d3": [np.nan] * 5,
        }
    ).iloc[:, :2]
    est = mean_of_rates(df, outcomes=["d1", "d2"], n_boot=100, seed=1)
    assert est.value == pytest.approx((3 / 4 + 1 / 3) / 2, abs=1e-15)
    assert est.diagnostics["denominators"] == [4, 3]
    assert est.related["domain:d2"].value == pytest.approx(1 / 3)
    # the person with no data on any domain is accounted for in the flow
    assert est.sample_flow is not None and est.sample_flow.n_excluded() == 1


def test_mean_of_rates_bootstrap_se_matches_delta_method() -> None:
    # With complete data, Var(mean_j p̂_j) = (1/k²) Σ_j Σ_l Cov(x_j, x_l) / n exactly.
    # The bootstrap SE must agree within 8% (Monte Carlo error of an SD from B = 2000 draws
    # is about 1/sqrt(2B) ≈ 1.6%; the rest is the bootstrap's own n/(n-1) bias).
    df = _domains(400, [0.85, 0.8, 0.9, 0.75], seed=3)
    est = mean_of_rates(df, outcomes=DOMAINS, n_boot=2000, seed=11)
    cov = np.cov(df.to_numpy(), rowvar=False, ddof=0)
    se = np.sqrt(cov.sum() / 16 / len(df))
    assert est.std_error == pytest.approx(se, rel=0.08)
    # percentile interval ≈ value ± 1.96 SE for this near-normal statistic (5% of the width)
    lo, hi = est.interval()
    assert hi - lo == pytest.approx(2 * 1.959964 * se, rel=0.1)


def test_mean_of_rates_reproducible_and_worker_independent() -> None:
    df = _domains(120, [0.8, 0.7, 0.9, 0.85], seed=4)
    a = mean_of_rates(df, outcomes=DOMAINS, n_boot=300, seed=5)
    b = mean_of_rates(df, outcomes=DOMAINS, n_boot=300, seed=5, n_jobs=2)
    assert a.interval() == b.interval()
    assert a.draws is not None and len(a.draws) == 300
    c = mean_of_rates(df, outcomes=DOMAINS, n_boot=300, seed=6)
    assert c.interval() != a.interval()


def test_mean_of_rates_coverage_small_simulation() -> None:
    # 95% intervals cover the true mean of domain rates in 93-97% of studies would need ~1000
    # studies; this fast check runs 150 (n = 80, B = 300) and only guards against gross
    # under-coverage: the binomial 99.9% lower bound for 0.95 at 150 studies is ~0.88.
    p = [0.85, 0.8, 0.9, 0.75]
    truth = float(np.mean(p))
    hits = 0
    for s in range(150):
        df = _domains(80, p, seed=100 + s)
        lo, hi = mean_of_rates(df, outcomes=DOMAINS, n_boot=300, seed=s).interval()
        hits += lo <= truth <= hi
    assert hits / 150 >= 0.88


def test_small_sample_warning() -> None:
    from pfseval.errors import SmallSampleWarning

    with pytest.warns(SmallSampleWarning):
        est = rate(pd.DataFrame({"c": [1, 0, 1]}), outcome="c")
    assert est.warnings
