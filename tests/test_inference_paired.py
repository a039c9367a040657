"""pfseval.inference signed-rank and McNemar tests against R with and without the continuity
correction (values in tests/reference/inference/, made by the R script there)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from pfseval.inference import hodges_lehmann, mcnemar_test, signrank_test

REF: dict[str, Any] = json.loads(
    (Path(__file__).parent / "reference" / "inference" / "inference_reference.json").read_text()
)
# R prints 15 significant digits; the interval limits are where a step function crosses a
# normal quantile, found by R's uniroot with tol.root = 1e-13 and here by exact bisection, so
# both land on the same step to far better than 1e-8.
TOL = 1e-8

RUNS = [
    (name, run) for name, case in REF["signrank"].items() for run in case["runs"]
]  # fmt: skip


@pytest.mark.parametrize(
    ("name", "run"), RUNS, ids=[f"{n}-correct={r['correct']}-{r['level']}" for n, r in RUNS]
)
def test_signrank_normal_approximation_honours_correct_as_r(name: str, run: dict[str, Any]) -> None:
    x = np.asarray(REF["signrank"][name]["x"], dtype=float)
    res = signrank_test(x, exact=run["exact"], correct=run["correct"], level=run["level"])
    assert not res.exact
    assert res.statistic == pytest.approx(run["statistic"], abs=1e-9)
    assert res.p_value == pytest.approx(run["p_value"], rel=1e-9)
    assert res.conf_low == pytest.approx(run["conf_low"], abs=TOL)
    assert res.conf_high == pytest.approx(run["conf_high"], abs=TOL)
    assert res.level == pytest.approx(run["conf_level"])
    # pfseval's estimate is the Walsh median in both modes (R's is the root of W(d) = 0)
    nz = x[x != 0]
    i, j = np.triu_indices(nz.size)
    assert res.estimate == pytest.approx(np.median((nz[i] + nz[j]) / 2), abs=1e-12)
    assert res.estimate == hodges_lehmann(nz)


def test_correct_changes_the_interval() -> None:
    # issue 12 item 8: correct=False used to give the corrected limits (in R, and now here,
    # the two differ for these data: 0.035 vs 0.030 at the lower limit)
    x = np.asarray(REF["signrank"]["cont80"]["x"], dtype=float)
    on = signrank_test(x, exact=False, correct=True)
    off = signrank_test(x, exact=False, correct=False)
    assert on.conf_low == pytest.approx(0.03, abs=TOL)
    assert off.conf_low == pytest.approx(0.035, abs=TOL)


@pytest.mark.parametrize("case", REF["mcnemar"], ids=lambda c: f"{c['n01']}-{c['n10']}")
def test_mcnemar_with_and_without_correction_as_r(case: dict[str, Any]) -> None:
    for correct, key in ((True, "corrected"), (False, "uncorrected")):
        r = mcnemar_test(case["n10"], case["n01"], correct=correct)
        assert r.statistic == pytest.approx(case[key]["statistic"], rel=1e-12)
        assert r.p_value_asymptotic == pytest.approx(case[key]["p_value"], rel=1e-10)


def test_paired_proportions_uses_uncorrected_mcnemar_on_request() -> None:
    import pandas as pd

    from pfseval.designs.prepost import paired_proportions

    case = REF["mcnemar"][2]  # 80 / 6 / 16 / 59: 22 discordant pairs
    rows = (
        [(0, 0)] * case["n00"] + [(0, 1)] * case["n01"]
        + [(1, 0)] * case["n10"] + [(1, 1)] * case["n11"]
    )  # fmt: skip
    df = pd.DataFrame(rows, columns=["b", "a"])
    est = paired_proportions(df, before="b", after="a", mcnemar="asymptotic", correct=False)
    assert est.p_value == pytest.approx(case["uncorrected"]["p_value"], rel=1e-10)
    assert est.method.code == "prepost.method.paired_proportions_chi2_uncorrected"
    assert est.diagnostics["mcnemar_correct"] is False
    default = paired_proportions(df, before="b", after="a", mcnemar="asymptotic")
    assert default.p_value == pytest.approx(case["corrected"]["p_value"], rel=1e-10)


def test_newcombe_limits_stay_within_minus_one_and_one() -> None:
    from pfseval.inference import newcombe_diff, newcombe_paired

    # 0/3 against 25/25: a Wilson limit rounded just below 1 used to give -1.0000000000000002
    lo, hi = newcombe_diff(0, 3, 25, 25)
    assert lo == -1.0 and hi < 0
    for cells in [(0, 25, 0, 0), (0, 0, 25, 0), (3, 0, 0, 0)]:
        lo, hi = newcombe_paired(*cells)
        assert -1.0 <= lo <= hi <= 1.0


def test_least_squares_matches_statsmodels_wls_and_reports_rank() -> None:
    import statsmodels.api as sm

    from pfseval.inference import least_squares

    rng = np.random.default_rng(3)
    X = np.column_stack([np.ones(50), rng.normal(size=50), rng.normal(size=50)])
    y = X @ [1.0, 2.0, -0.5] + rng.normal(size=50)
    w = rng.uniform(0.5, 2.0, size=50)
    fit = least_squares(X, y, weights=w)
    ref = sm.WLS(y, X, weights=w).fit()
    # both solve the same normal equations; 1e-10 is round-off
    assert fit.coef == pytest.approx(ref.params, abs=1e-10)
    assert fit.resid == pytest.approx(y - X @ ref.params, abs=1e-10)
    assert fit.full_rank
    several = least_squares(X, np.column_stack([y, 2 * y]))  # several responses at once
    assert several.coef[:, 1] == pytest.approx(2 * several.coef[:, 0], abs=1e-10)
    deficient = least_squares(np.column_stack([X, X[:, 1]]), y)
    assert deficient.rank == 3 and not deficient.full_rank
