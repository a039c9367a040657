"""The fast paths of psm.match for large pools give the results of the general code.

Each fast path is checked against an independent slower computation on small random data
(where both run in milliseconds): the warm-started IRLS against glm's own start (lalonde and
a simulated pool), the 1:1 walk against the general round-by-round walk, the stable sort
against NumPy's merge sort, and the balance table against a direct per-variable computation
written out below from MatchIt's definitions.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from pfseval.designs.psm import balance_table, fit_propensity, nearest_match
from pfseval.designs.psm import nearest as N
from pfseval.designs.psm import score as S

REF = Path(__file__).parent / "reference" / "psm"


def _pool(n: int, seed: int) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    age = rng.integers(40, 75, n)
    bmi = rng.normal(24, 3.5, n).round(1)
    hba1c = rng.normal(6.4, 0.9, n).round(1)
    sex = rng.integers(1, 3, n)
    lin = -3 + 0.03 * (age - 60) + 0.08 * (bmi - 24) + 0.6 * (hba1c - 6.4) + 0.2 * (sex == 1)
    t = (rng.random(n) < 1 / (1 + np.exp(-lin))).astype(int)
    return pd.DataFrame({"t": t, "age": age, "bmi": bmi, "hba1c": hba1c, "sex": sex})


def test_warm_start_reaches_glm_fit(monkeypatch: pytest.MonkeyPatch) -> None:
    df = _pool(30_000, 3)
    covs = ["age", "bmi", "hba1c", "sex"]
    cold = fit_propensity(df, treatment="t", covariates=covs)  # glm's own start
    monkeypatch.setattr(S, "_WARM_MIN_ROWS", 5_000)  # subsample start (two levels here)
    warm = fit_propensity(df, treatment="t", covariates=covs)
    assert warm.iterations < cold.iterations
    # the probit (Fisher scoring, linear convergence) keeps glm's path: identical iterates
    probit = fit_propensity(df, treatment="t", covariates=covs, link="probit")
    monkeypatch.setattr(S, "_WARM_MIN_ROWS", 10**9)
    probit_cold = fit_propensity(df, treatment="t", covariates=covs, link="probit")
    assert probit.iterations == probit_cold.iterations
    np.testing.assert_allclose(probit.coef, probit_cold.coef, rtol=1e-13)
    # both stop by glm's rule |Δdev| / (|dev| + 0.1) < 1e-8; Newton's quadratic convergence
    # puts both within ~1e-10 of the maximum (the brief's bar for agreeing with R's glm)
    np.testing.assert_allclose(warm.coef, cold.coef, rtol=1e-8, atol=1e-10)
    np.testing.assert_allclose(warm.score, cold.score, rtol=0, atol=1e-10)
    assert warm.deviance == pytest.approx(cold.deviance, rel=1e-12)
    # the vcov uses the previous iterate's weights (as glm): equal to ~1e-5 relative
    np.testing.assert_allclose(warm.std_error, cold.std_error, rtol=1e-4)


def test_warm_start_agrees_with_r_glm_on_lalonde(monkeypatch: pytest.MonkeyPatch) -> None:
    lalonde = pd.read_csv(REF / "lalonde" / "lalonde.csv")
    covs = ["age", "educ", "married", "nodegree", "re74", "re75"]
    cold = fit_propensity(lalonde, treatment="treat", covariates=covs)
    monkeypatch.setattr(S, "_WARM_MIN_ROWS", 100)
    monkeypatch.setattr(S, "_WARM_STRIDE", 2)
    warm = fit_propensity(lalonde, treatment="treat", covariates=covs)
    # 614 rows (the path is used from 200,000): glm's rule stops where the deviance (~600)
    # changes by < 6e-6, which leaves ~1e-8 on the coefficients and the scores of either path
    np.testing.assert_allclose(warm.coef, cold.coef, rtol=1e-7, atol=1e-12)
    np.testing.assert_allclose(warm.score, cold.score, rtol=0, atol=2e-8)


def test_identical_rows_keep_identical_scores() -> None:
    # matching breaks ties by data order: tied covariate rows must tie exactly
    df = _pool(20_000, 5)
    df = pd.concat([df, df.iloc[:500]], ignore_index=True)
    m = fit_propensity(df, treatment="t", covariates=["age", "bmi", "hba1c", "sex"])
    s = m.score.to_numpy()
    assert np.array_equal(s[:500], s[-500:])


def test_stable_argsort_equals_numpy_mergesort() -> None:
    rng = np.random.default_rng(0)
    for k in range(60):
        n = int(rng.integers(0, 2_000))
        d = rng.integers(0, int(rng.integers(1, 40)), n).astype(float)
        if k % 3 == 0:
            d = rng.random(n)
        if k % 4 == 0:
            d[rng.random(n) < 0.3] = -0.0  # -0.0 and 0.0 tie, in data order
        assert np.array_equal(N.stable_argsort(d), np.argsort(d, kind="stable"))


def test_one_to_one_walk_equals_general_walk(monkeypatch: pytest.MonkeyPatch) -> None:
    rng = np.random.default_rng(1)

    def general(w, state, t_pos, visit, cal, mm):  # type: ignore[no-untyped-def]
        N._rounds(w, state, t_pos, visit, np.ones(len(t_pos), np.intp), 1, cal, None, mm)

    for k in range(300):
        n = int(rng.integers(1, 150))
        d = rng.integers(0, int(rng.integers(1, 25)), n).astype(float)  # many ties
        if k % 4 == 0:
            d = np.round(rng.random(n), 2)
        t = rng.random(n) < rng.uniform(0.1, 0.7)
        disc = rng.random(n) < 0.1 if k % 3 == 0 else None
        cal = None if k % 2 else float(rng.uniform(0, 5))
        order = rng.permutation(int(t.sum())) if k % 5 else None
        fast = nearest_match(d, t, caliper_width=cal, order=order, discarded=disc)
        with monkeypatch.context() as mp:
            mp.setattr(N, "_pairs", general)
            slow = nearest_match(d, t, caliper_width=cal, order=order, discarded=disc)
        assert np.array_equal(fast, slow), k


def _balance_direct(X, t, w, estimand):  # type: ignore[no-untyped-def]
    """MatchIt's balance statistics, one variable at a time, as the definitions read."""
    rows = []
    f = t if estimand == "ATT" else ~t
    for x in X.T:
        binary = bool(np.all((x == 0) | (x == 1)))

        def var(v, wt, binary=binary):  # type: ignore[no-untyped-def]
            wt = wt / wt.sum()
            m = float(np.sum(wt * v))
            if binary:
                return m * (1 - m)
            den = 1 - np.sum(wt**2)
            return np.nan if den == 0 else float(np.sum(wt * (v - m) ** 2) / den)

        sd = np.sqrt(var(x[f], np.ones(f.sum())))
        if not np.isfinite(sd) or sd < np.sqrt(np.finfo(float).eps):
            sd = np.sqrt((sd**2 + var(x[~f], np.ones((~f).sum()))) / 2)
        out = []
        for wt in (np.ones(len(x)), w):
            a, b = (t & (wt > 0)), (~t & (wt > 0))
            mt = np.sum(wt[a] * x[a]) / wt[a].sum()
            mc = np.sum(wt[b] * x[b]) / wt[b].sum()
            smd = (mt - mc) / sd
            vr = np.nan if binary else var(x[a], wt[a]) / var(x[b], wt[b])
            pts = np.unique(x)
            ft = np.array([wt[a][x[a] <= v].sum() for v in pts]) / wt[a].sum()
            fc = np.array([wt[b][x[b] <= v].sum() for v in pts]) / wt[b].sum()
            e = np.abs(ft - fc)
            if binary:  # MatchIt: both eCDF statistics are the difference in proportions
                out.append((smd, vr, abs(mt - mc), abs(mt - mc)))
            else:
                out.append((smd, vr, e.mean(), e.max()))
        (sb, vb, mb, xb), (sa, va, ma, xa) = out
        rows.append([sb, sa, vb, va, mb, ma, xb, xa])
    return np.array(rows)


@pytest.mark.parametrize("estimand", ["ATT", "ATC"])
def test_balance_table_equals_direct_computation(estimand: str) -> None:
    rng = np.random.default_rng(7)
    for _ in range(25):
        n = int(rng.integers(30, 300))
        X = np.c_[
            rng.normal(size=n),
            rng.integers(0, 2, n),
            rng.integers(40, 75, n),
            np.round(rng.normal(24, 3, n), 1),
        ]
        t = rng.random(n) < rng.uniform(0.1, 0.6)
        w = np.where(rng.random(n) < 0.5, rng.choice([0.5, 1.0, 2.0], n), 0.0)
        w[np.flatnonzero(t)[:2]] = 1.0
        w[np.flatnonzero(~t)[:2]] = 1.0
        tab = balance_table(X, t, w, names=["a", "b", "c", "d"], estimand=estimand)  # type: ignore[arg-type]
        want = _balance_direct(X, t, w, estimand)
        # same sums in another order: agreement to rounding (1e-12 on O(1) statistics)
        np.testing.assert_allclose(tab.iloc[:, 1:].to_numpy(float), want, rtol=1e-9, atol=1e-12)
