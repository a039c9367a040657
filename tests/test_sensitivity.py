"""Sensitivity analysis: E-values, Rosenbaum bounds, robustness value, Kobe tipping point.

References: VanderWeele & Ding (2017) worked example; scipy's Wilcoxon and binomial tests at
Γ = 1 and an exact convolution of the signed-rank bound distribution for Γ > 1; the Darfur
example of Cinelli & Hazlett (2020); the Kobe estimate's own bootstrap interval at δ = 0.
"""

from __future__ import annotations

import math
import warnings

import numpy as np
import pandas as pd
import pytest
import statsmodels.api as sm
from scipy import stats

from pfseval.designs.psm import suppression_rate
from pfseval.designs.psm.kobe import _example_matched
from pfseval.errors import DesignError
from pfseval.payment import Contract
from pfseval.sensitivity import (
    discordant_pairs,
    evalue_of,
    evalue_or,
    evalue_rr,
    evalue_smd,
    kobe_tipping_point,
    mcnemar_bounds,
    pair_differences,
    robustness_value,
    signed_rank_bounds,
)

# Morton et al. (1982) lead in children's blood, 33 pairs (Rosenbaum 2002, §4.3)
LEAD_EXPOSED = [38, 23, 41, 18, 37, 36, 23, 62, 31, 34, 24, 14, 21, 17, 16, 20, 15, 10, 45, 39,
                22, 35, 49, 48, 44, 35, 43, 39, 34, 13, 73, 25, 27]  # fmt: skip
LEAD_CONTROL = [16, 18, 18, 24, 19, 11, 10, 15, 16, 18, 18, 13, 19, 10, 16, 16, 24, 13, 9, 14,
                21, 19, 7, 18, 19, 12, 11, 22, 25, 16, 13, 11, 13]  # fmt: skip


# ---------------------------------------------------------------- E-values


def test_evalue_published_example() -> None:
    # VanderWeele & Ding (2017): breastfeeding and infant death RR 3.9 (1.8, 8.7) → E 7.2, 3.0
    ev = evalue_rr(3.9, conf_low=1.8, conf_high=8.7)
    assert ev.point == pytest.approx(3.9 + math.sqrt(3.9 * 2.9), rel=1e-12)
    assert round(ev.point, 1) == 7.3 and ev.limit == pytest.approx(3.0, abs=1e-12)


def test_evalue_protective_and_null() -> None:
    ev = evalue_rr(0.5, conf_low=0.3, conf_high=0.8)
    assert ev.point == pytest.approx(2 + math.sqrt(2), rel=1e-12)  # 1/0.5 = 2
    assert ev.limit == pytest.approx(1.25 + math.sqrt(1.25 * 0.25), rel=1e-12)  # 1/0.8
    assert evalue_rr(1.4, conf_low=0.9, conf_high=2.0).limit == 1.0


def test_evalue_or_and_smd_conversions() -> None:
    common = evalue_or(4.0, conf_low=2.25, conf_high=9.0, rare=False)
    assert common.rr == pytest.approx(2.0) and common.rr_low == pytest.approx(1.5)
    assert common.limit == pytest.approx(1.5 + math.sqrt(0.75), rel=1e-12)
    rare = evalue_or(4.0, rare=True)
    assert rare.point == pytest.approx(4 + math.sqrt(12), rel=1e-12)
    smd = evalue_smd(-0.4, std_error=0.15)
    rr = math.exp(-0.91 * 0.4)
    assert smd.point == pytest.approx(1 / rr + math.sqrt(1 / rr * (1 / rr - 1)), rel=1e-12)
    hi = math.exp(-0.91 * 0.4 + 1.78 * 0.15)  # limit closer to 1 for a protective effect
    assert smd.limit == pytest.approx(1 / hi + math.sqrt(1 / hi * (1 / hi - 1)), rel=1e-12)


def test_evalue_bad_input() -> None:
    with pytest.raises(DesignError, match="positive"):
        evalue_rr(-1.0)
    with pytest.raises(DesignError, match="outside its interval"):
        evalue_rr(2.0, conf_low=2.5, conf_high=3.0)


# ---------------------------------------------------------------- Rosenbaum bounds


def test_signed_rank_gamma_one_is_wilcoxon() -> None:
    d = np.array(LEAD_EXPOSED) - np.array(LEAD_CONTROL)
    rb = signed_rank_bounds(d, gammas=[1.0])
    ref = stats.wilcoxon(d, alternative="greater", method="approx", correction=False)
    assert rb.table["p_upper"].iloc[0] == pytest.approx(ref.pvalue, rel=1e-10)
    assert rb.table["p_lower"].iloc[0] == pytest.approx(ref.pvalue, rel=1e-10)
    assert rb.statistic == 499.0  # V = 499 as wilcox.exact reports it; one zero pair dropped
    assert rb.n_pairs == 32


def _exact_bound_moments(d: np.ndarray, p: float) -> tuple[float, float]:
    """Mean and variance of Σ q_i B_i (B_i ~ Bernoulli(p)) from its exact distribution."""
    q = stats.rankdata(np.abs(d[d != 0])) * 2  # doubled: average ranks become integers
    q = q.astype(int)
    dist = np.zeros(int(q.sum()) + 1)
    dist[0] = 1.0
    for r in q:
        dist = dist * (1 - p) + np.concatenate([np.zeros(r), dist[:-r]]) * p
    support = np.arange(len(dist)) / 2
    mean = float((support * dist).sum())
    return mean, float(((support - mean) ** 2 * dist).sum())


def test_signed_rank_bounds_use_the_exact_moments() -> None:
    d = np.array(LEAD_EXPOSED, dtype=float) - np.array(LEAD_CONTROL)
    rb = signed_rank_bounds(d, gammas=[2.0, 4.0])
    for gamma, row in zip([2.0, 4.0], rb.table.itertuples(), strict=True):
        for p, col in ((gamma / (1 + gamma), "p_upper"), (1 / (1 + gamma), "p_lower")):
            mean, var = _exact_bound_moments(d, p)
            expected = stats.norm.sf((rb.statistic - mean) / math.sqrt(var))
            assert getattr(row, col) == pytest.approx(expected, rel=1e-9)
    # larger Γ, weaker evidence
    assert rb.table["p_upper"].is_monotonic_increasing


def test_lead_study_becomes_sensitive_between_gamma_4_25_and_5() -> None:
    # Rosenbaum (2002, §4.3): the lead study's conclusion survives hidden biases up to about
    # Γ = 4.3; upper bounds 0.0018 (Γ = 2), 0.013 (Γ = 3), 0.037 (Γ = 4), 0.044 (Γ = 4.25)
    d = np.array(LEAD_EXPOSED) - np.array(LEAD_CONTROL)
    rb = signed_rank_bounds(d, gammas=[2, 3, 4, 4.25, 5])
    up = rb.table.set_index("gamma")["p_upper"].round(4).to_dict()
    assert up == {2.0: 0.0018, 3.0: 0.0131, 4.0: 0.0367, 4.25: 0.0441, 5.0: 0.0694}
    assert rb.critical_gamma == 5.0


def test_mcnemar_bounds_exact_binomial() -> None:
    rb = mcnemar_bounds(25, 8, gammas=[1.0, 1.5, 2.0])
    assert rb.table["p_upper"].iloc[0] == pytest.approx(
        stats.binomtest(25, 33, 0.5, alternative="greater").pvalue, rel=1e-12
    )
    for gamma, row in zip([1.0, 1.5, 2.0], rb.table.itertuples(), strict=True):
        p = gamma / (1 + gamma)
        by_hand = sum(math.comb(33, j) * p**j * (1 - p) ** (33 - j) for j in range(25, 34))
        assert row.p_upper == pytest.approx(by_hand, rel=1e-10)
    assert rb.critical_gamma == 2.0  # 0.044 at Γ = 1.5, 0.18 at Γ = 2


def test_rosenbaum_input_checks() -> None:
    with pytest.raises(DesignError, match=r"Γ|gammas"):
        signed_rank_bounds([1.0, 2.0], gammas=[0.5])
    with pytest.raises(DesignError, match="finite"):
        signed_rank_bounds([1.0, float("nan")])
    with pytest.raises(DesignError, match="discordant"):
        mcnemar_bounds(0, 0)


def test_pair_differences_from_a_matched_sample() -> None:
    m = _example_matched(n_treated=40)
    d = pair_differences(m, outcome="egfr")
    pairs = m.pairs.dropna(subset=["control_id_1"])
    y = m.data.set_index(m.id_col)["egfr"]
    expected = y.loc[pairs["treated_id"]].to_numpy() - y.loc[pairs["control_id_1"]].to_numpy()
    np.testing.assert_allclose(d, expected)


# ---------------------------------------------------------------- robustness value


def test_robustness_value_darfur() -> None:
    # Cinelli & Hazlett (2020), Table / §5: directlyharmed 0.097 (SE 0.023), df 783:
    # partial R² 2.2 %, RV 13.9 %, RV(α = 0.05) 7.6 %
    r = robustness_value(0.09731582, 0.02325654, 783)
    assert round(r.partial_r2 * 100, 1) == 2.2
    assert round(r.rv * 100, 1) == 13.9
    assert round(r.rv_alpha * 100, 1) == 7.6


def test_partial_r2_equals_residualised_fit() -> None:
    rng = np.random.default_rng(4)
    n = 300
    x = rng.normal(size=n)
    d = (x + rng.normal(size=n) > 0).astype(float)
    y = 0.5 * d + x + rng.normal(size=n)
    fit = sm.OLS(y, sm.add_constant(np.column_stack([d, x]))).fit()
    r = robustness_value(fit.params[1], fit.bse[1], fit.df_resid)
    # partial R² of d: R² of residualised y on residualised d (Frisch–Waugh–Lovell)
    X0 = sm.add_constant(x)
    ry = sm.OLS(y, X0).fit().resid
    rd = sm.OLS(d, X0).fit().resid
    assert r.partial_r2 == pytest.approx(sm.OLS(ry, rd).fit().rsquared, rel=1e-10)
    # a confounder with partial R² = RV with both treatment and outcome removes the estimate:
    # |bias| = se · sqrt(df) · sqrt(R²yz R²dz / (1 − R²dz))  (Cinelli & Hazlett, eq. 11)
    bias = fit.bse[1] * math.sqrt(fit.df_resid) * math.sqrt(r.rv * r.rv / (1 - r.rv))
    assert bias == pytest.approx(abs(fit.params[1]), rel=1e-10)


def test_robustness_value_not_significant_is_zero() -> None:
    assert robustness_value(0.1, 0.1, 100).rv_alpha == 0.0


# ---------------------------------------------------------------- Kobe tipping point


@pytest.fixture(scope="module")
def kobe_est() -> object:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return suppression_rate(
            _example_matched(),
            outcome="egfr_follow",
            baseline="egfr",
            followup_years=3.0,
            covariates=["age", "egfr"],
            n_boot=300,
            seed=1,
        )


def test_tipping_point_reproduces_the_estimate_at_zero(kobe_est: object) -> None:
    tp = kobe_tipping_point(kobe_est)  # type: ignore[arg-type]
    row0 = tp.table.iloc[0]
    diff = kobe_est.related["difference"]  # type: ignore[attr-defined]
    assert row0["delta"] == 0.0
    assert row0["rate"] == pytest.approx(kobe_est.value)  # type: ignore[attr-defined]
    assert row0["difference"] == pytest.approx(diff.value)
    lo, hi = diff.intervals["bootstrap_normal"]
    assert (row0["conf_low"], row0["conf_high"]) == pytest.approx((lo, hi), rel=1e-12)
    assert tp.table["rate"].is_monotonic_decreasing


def test_tipping_point_is_the_first_non_significant_shift(kobe_est: object) -> None:
    tp = kobe_tipping_point(kobe_est)  # type: ignore[arg-type]
    assert tp.delta_significance is not None and tp.delta_significance > 0
    t = tp.table.set_index("delta")
    assert not t.loc[tp.delta_significance, "significant"]
    before = t.loc[t.index < tp.delta_significance, "significant"]
    assert before.all()
    assert np.allclose(np.diff(t.index), 0.1)  # a grid, not persons' residuals
    # exact on a fine grid: the count at δ is the number of residuals above δ
    pp = kobe_est.private["per_person"]  # type: ignore[attr-defined]
    pp = pp[pp["in_denominator"]]
    r = pp["actual_change"] - pp["predicted_change"]
    assert int(t.loc[tp.delta_significance, "n_suppressed"]) == int(
        (r > tp.delta_significance + 1e-12).sum()
    )
    assert "no longer be significant" in tp.text()


def test_tipping_point_payment(kobe_est: object) -> None:
    contract = Contract.from_toml("examples/contracts/kobe.toml")
    others = {"completion_rate": 1.0, "lifestyle_improvement_rate": 0.95}
    tp = kobe_tipping_point(kobe_est, contract=contract, indicators=others)  # type: ignore[arg-type]
    pay0 = contract.evaluate({**others, "suppression_rate": kobe_est})  # type: ignore[dict-item]
    assert tp.table["total"].iloc[0] == pytest.approx(pay0.total)
    assert tp.delta_payment is not None
    first_change = tp.table.loc[tp.table["payment"] != tp.table["payment"].iloc[0], "delta"]
    assert tp.delta_payment == first_change.min()


def test_tipping_point_without_bootstrap_uses_newcombe() -> None:
    from pfseval.inference import newcombe_diff

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        est = suppression_rate(
            _example_matched(),
            outcome="egfr_follow",
            baseline="egfr",
            followup_years=3.0,
            covariates=["age", "egfr"],
            ci="wilson",
            n_boot=0,
            seed=1,
        )
    tp = kobe_tipping_point(est, deltas=[0.0])
    ref = est.related["reference_rate"]
    lo, hi = newcombe_diff(
        est.diagnostics["n_suppressed"],
        est.diagnostics["n_denominator"],
        ref.diagnostics["n_suppressed"],
        est.diagnostics["n_control_rows"],
    )
    assert (tp.table["conf_low"].iloc[0], tp.table["conf_high"].iloc[0]) == pytest.approx((lo, hi))


def test_tipping_point_needs_a_kobe_estimate() -> None:
    from pfseval.result import Estimate

    with pytest.raises(DesignError, match="suppression_rate"):
        kobe_tipping_point(Estimate(estimand="x", value=0.0, conf_low=0.0, conf_high=0.0))


def test_tipping_point_table_has_no_person_level_columns(kobe_est: object) -> None:
    tp = kobe_tipping_point(kobe_est)  # type: ignore[arg-type]
    assert isinstance(tp.table, pd.DataFrame)
    assert "person_id" not in tp.table.columns and "id" not in tp.table.columns


def test_evalue_of_estimates() -> None:
    from pfseval.result import Estimate

    rr = Estimate(estimand="RR", value=2.0, conf_low=1.5, conf_high=2.7)
    rd = Estimate(estimand="RD", value=0.1, conf_low=0.05, conf_high=0.15, related={"RR": rr})
    assert evalue_of(rd) == evalue_rr(2.0, conf_low=1.5, conf_high=2.7)
    odds = Estimate(estimand="OR", value=4.0, conf_low=2.25, conf_high=9.0)
    assert evalue_of(odds, rare=False).rr == pytest.approx(2.0)
    with pytest.raises(DesignError, match="rare"):
        evalue_of(odds)
    att = Estimate(estimand="ATT", value=1.0, conf_low=0.2, conf_high=1.8, std_error=0.4)
    assert evalue_of(att, outcome_sd=2.0) == evalue_smd(0.5, std_error=0.2)
    with pytest.raises(DesignError, match="outcome_sd"):
        evalue_of(att)


def test_discordant_pairs_count_the_pairs() -> None:
    rng = np.random.default_rng(1)
    df = pd.DataFrame({"id": range(500), "x": rng.normal(size=500)})
    df["t"] = (rng.random(500) < 1 / (1 + np.exp(1.5 - df["x"]))).astype(int)
    df["y"] = (rng.random(500) < 0.4).astype(int)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        from pfseval.designs.psm import match

        m = match(df, treatment="t", covariates=["x"], id_col="id")
    y = df.set_index("id")["y"]
    p = m.pairs.dropna(subset=["control_id_1"])
    yt, yc = y.loc[p["treated_id"]].to_numpy(), y.loc[p["control_id_1"]].to_numpy()
    assert discordant_pairs(m, outcome="y") == (
        int(((yt == 1) & (yc == 0)).sum()),
        int(((yt == 0) & (yc == 1)).sum()),
    )
    with pytest.raises(DesignError, match="0/1"):
        discordant_pairs(m, outcome="x")


def test_kobe_sensitivity_record_is_aggregate_json(kobe_est: object) -> None:
    import json

    from pfseval.sensitivity import kobe_sensitivity

    rec = kobe_sensitivity(kobe_est, indicator="suppression_rate").to_dict()  # type: ignore[arg-type,union-attr]
    json.dumps(rec)  # plain JSON
    assert {"delta", "rate", "difference", "significant"} <= set(rec["table"][0])
    assert "n_suppressed" not in rec["table"][0]  # counts per δ differ by single persons
    assert rec["evalue"]["rr"] == pytest.approx(
        kobe_est.value / kobe_est.related["reference_rate"].value  # type: ignore[attr-defined]
    )
