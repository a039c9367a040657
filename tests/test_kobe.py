"""The Kobe suppression rate against independent references (R, numpy lstsq, statsmodels,
hand calculation), its bootstrap, its no-effect reference, warnings and bad input."""

from __future__ import annotations

import json
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import statsmodels.formula.api as smf
from scipy import stats
from scipy.special import ndtr
from statsmodels.stats.proportion import proportion_confint

from pfseval.designs.psm.kobe import _example_matched, suppression_plot, suppression_rate
from pfseval.designs.psm.matching import MatchedSample
from pfseval.errors import (
    AttritionWarning,
    ColumnMissingError,
    DesignError,
    ExtrapolationWarning,
    SmallSampleWarning,
)
from pfseval.result import Estimate, SampleFlow

REF = Path(__file__).parent / "reference" / "kobe"
REGS = ["age", "sex", "egfr", "hba1c"]


def _matched(data: pd.DataFrame, pairs: pd.DataFrame, *, replace: bool = False) -> MatchedSample:
    """A MatchedSample built by hand from a pairs table (no propensity model needed)."""
    ids = pd.Index(data["person_id"])
    return MatchedSample(
        data=data,
        treatment="treated",
        id_col="person_id",
        covariates=tuple(REGS),
        distance=pd.Series(0.5, index=ids),
        pairs=pairs,
        weights=pd.Series(1.0, index=ids),
        subclass=pd.Series(np.nan, index=ids),
        unmatched=pd.DataFrame({"treated_id": [], "reason": []}),
        balance=pd.DataFrame(),
        sample_flow=SampleFlow.start(len(data)),
        replace=replace,
    )


def _small(pairs_file: str) -> MatchedSample:
    data = pd.read_csv(REF / "kobe_small.csv", dtype={"person_id": str})
    pairs = pd.read_csv(REF / pairs_file, dtype=str)
    return _matched(data, pairs, replace="repl" in pairs_file)


def _run_small(pairs_file: str, **kw: object) -> Estimate:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return suppression_rate(
            _small(pairs_file),
            outcome="egfr_follow",
            baseline="egfr",
            followup_years="followup_years",
            covariates=REGS,
            denominator="lifestyle_improved",
            seed=11,
            k_folds=5,
            **kw,  # type: ignore[arg-type]
        )


# ---------------------------------------------------------------- R reference


@pytest.mark.parametrize(
    "pairs_file,key",
    [
        ("kobe_small_pairs.csv", "without_replacement"),
        ("kobe_small_pairs_repl.csv", "with_replacement"),
    ],
)
def test_matches_r_lm_reference(pairs_file: str, key: str) -> None:
    # R 4.2.2 lm() with frequency weights, predict(), binom.test / prop.test
    # (tests/reference/kobe/kobe_small.R). Tolerances: coefficients, R², predictions 1e-8
    # relative (two double-precision least-squares solvers; observed agreement ~1e-12);
    # counts and the interval ends (same closed forms) exact / 1e-9.
    ref = json.loads((REF / "kobe_small_R.json").read_text())[key]
    est = _run_small(pairs_file, n_boot=50)
    d = est.diagnostics
    coef = d["regression_coefficients"]
    assert coef["intercept"] == pytest.approx(ref["coefficients"]["(Intercept)"], rel=1e-8)
    for r in REGS:
        assert coef[r] == pytest.approx(ref["coefficients"][r], rel=1e-8)
    assert d["regression_r_squared"] == pytest.approx(ref["r_squared"], rel=1e-8)
    assert d["n_controls_used"] == ref["n_controls_used"]
    assert d["n_suppressed"] == ref["n_suppressed"]
    assert d["n_denominator"] == ref["n_denominator"]
    assert d["n_participants_without_followup"] == ref["n_without_followup"]
    assert est.value == pytest.approx(ref["rate"], abs=1e-12)
    assert est.intervals["wilson"] == pytest.approx(ref["wilson"], abs=1e-9)
    assert est.intervals["clopper_pearson"] == pytest.approx(ref["clopper_pearson"], abs=1e-9)

    pp = est.private["per_person"].set_index("person_id")
    rp = pd.DataFrame(ref["participants"]).set_index("person_id")
    assert sorted(pp.index) == sorted(rp.index)
    np.testing.assert_allclose(pp.loc[rp.index, "predicted_change"], rp["predicted"], rtol=1e-8)
    np.testing.assert_allclose(pp.loc[rp.index, "actual_change"], rp["actual"], rtol=1e-12)
    assert (pp.loc[rp.index, "suppressed"].to_numpy() == rp["suppressed"].to_numpy()).all()
    np.testing.assert_allclose(pp["predicted_decline"], -pp["predicted_change"])

    pc = est.private["per_control"].set_index("person_id")
    rc = pd.DataFrame(ref["controls"]).set_index("person_id")
    assert (pc.loc[rc.index, "fold"].to_numpy() == rc["fold"].to_numpy()).all()
    np.testing.assert_allclose(pc.loc[rc.index, "predicted_change"], rc["crossfit"], rtol=1e-8)
    ref_est = est.related["reference_rate"]
    assert ref_est.value == pytest.approx(ref["reference_rate"], abs=1e-12)
    assert ref_est.n == ref["reference_n"]
    assert est.related["difference"].value == pytest.approx(
        ref["rate"] - ref["reference_rate"], abs=1e-12
    )


def test_fold_assignment_is_by_matched_set() -> None:
    # Controls of one matched set share its fold (stored fold file = what seed 11 assigns).
    est = _run_small("kobe_small_pairs.csv", n_boot=0, ci="wilson")
    folds = pd.read_csv(REF / "kobe_small_folds.csv").set_index("treated_id")["fold"]
    pairs = pd.read_csv(REF / "kobe_small_pairs.csv", dtype=str)
    pc = est.private["per_control"].set_index("person_id")["fold"]
    for _, row in pairs.iterrows():
        for c in (row["control_id_1"], row["control_id_2"]):
            if isinstance(c, str) and c in pc.index:
                assert pc[c] == folds[row["treated_id"]]


# ---------------------------------------------------------------- hand calculation


def test_hand_calculated_example() -> None:
    # Controls x = 0, 1, 2, 3 with change 0, 1, 1, 2: slope = 3/5 = 0.6, intercept 0.1.
    # Participants x = 1, 2, 0.5 with change 1.0, 1.0, 0.4: predictions 0.7, 1.3, 0.4.
    # Suppressed = actual change > predicted: yes, no, tie (not suppressed) -> 1/3.
    data = pd.DataFrame(
        {
            "person_id": ["t1", "t2", "t3", "c1", "c2", "c3", "c4"],
            "treated": [1, 1, 1, 0, 0, 0, 0],
            "x": [1.0, 2.0, 0.5, 0.0, 1.0, 2.0, 3.0],
            "chg": [1.0, 1.0, 0.4, 0.0, 1.0, 1.0, 2.0],
        }
    )
    pairs = pd.DataFrame(
        {"treated_id": ["t1", "t2", "t3"], "control_id_1": ["c1", "c2", "c3"]}, dtype=object
    )
    pairs.loc[0, "control_id_2"] = "c4"
    m = _matched(data, pairs)
    with pytest.warns(SmallSampleWarning):
        est = suppression_rate(
            m, outcome="chg", covariates=["x"], n_boot=0, ci="wilson", k_folds=2, seed=3
        )
    coef = est.diagnostics["regression_coefficients"]
    assert coef["intercept"] == pytest.approx(0.1, abs=1e-12)
    assert coef["x"] == pytest.approx(0.6, abs=1e-12)
    pp = est.private["per_person"].set_index("person_id")
    np.testing.assert_allclose(pp["predicted_change"], [0.7, 1.3, 0.4], atol=1e-12)
    assert est.diagnostics["n_suppressed"] == 1
    assert est.value == pytest.approx(1 / 3)
    # 0.4 vs 0.1 + 0.6·0.5 is a tie up to rounding: counted as not suppressed, and reported
    assert not pp.loc["t3", "suppressed"]
    assert est.diagnostics["n_ties"] == 1


def test_lstsq_and_change_definitions() -> None:
    # Independent numpy lstsq on the example data, for the three change definitions.
    m = _example_matched()
    df = m.data
    t = df["treated"] == 1
    for change, chg in (
        ("absolute_per_year", (df["egfr_follow"] - df["egfr"]) / 3.0),
        ("absolute", df["egfr_follow"] - df["egfr"]),
        ("relative", (df["egfr_follow"] - df["egfr"]) / df["egfr"]),
    ):
        est = suppression_rate(
            m,
            outcome="egfr_follow",
            baseline="egfr",
            followup_years=3.0 if change == "absolute_per_year" else None,
            change=change,  # type: ignore[arg-type]
            covariates=["age", "egfr"],
            n_boot=0,
            ci="clopper_pearson",
            seed=1,
        )
        X = np.column_stack([np.ones(len(df)), df[["age", "egfr"]].to_numpy(float)])
        b = np.linalg.lstsq(X[~t], chg[~t].to_numpy(), rcond=None)[0]
        pred = X[t] @ b
        expected = float(np.mean(chg[t].to_numpy() > pred))
        assert est.value == pytest.approx(expected, abs=1e-12)
        pp = est.private["per_person"]
        np.testing.assert_allclose(pp["predicted_change"], pred, rtol=1e-9)
        assert est.intervals["clopper_pearson"] == pytest.approx(
            proportion_confint(est.diagnostics["n_suppressed"], est.n, method="beta"), abs=1e-10
        )
        assert est.interval() == est.intervals["clopper_pearson"]


def test_categorical_regressor_matches_statsmodels_formula() -> None:
    # A string regressor is expanded with the first level as reference, as patsy's C().
    m = _example_matched(n_treated=80, seed=4)
    rng = np.random.default_rng(0)
    df = m.data.assign(region=rng.choice(["east", "north", "west"], size=len(m.data)))
    m2 = _matched(df, m.pairs)
    est = suppression_rate(
        m2,
        outcome="egfr_follow",
        baseline="egfr",
        followup_years=3.0,
        covariates=["age", "region"],
        n_boot=0,
        ci="wilson",
        seed=1,
    )
    d = df.assign(chg=(df["egfr_follow"] - df["egfr"]) / 3.0)
    fit = smf.ols("chg ~ age + C(region)", data=d[d["treated"] == 0]).fit()
    c = est.diagnostics["regression_coefficients"]
    assert c["intercept"] == pytest.approx(fit.params["Intercept"], rel=1e-9)
    assert c["region[north]"] == pytest.approx(fit.params["C(region)[T.north]"], rel=1e-9)
    assert c["region[west]"] == pytest.approx(fit.params["C(region)[T.west]"], rel=1e-9)
    assert est.diagnostics["regression_r_squared"] == pytest.approx(fit.rsquared, rel=1e-9)
    pred = fit.predict(d[d["treated"] == 1])
    np.testing.assert_allclose(est.private["per_person"]["predicted_change"], pred, rtol=1e-9)


# ---------------------------------------------------------------- bootstrap


def test_bootstrap_reproducible_and_worker_independent() -> None:
    m = _example_matched()
    kw = dict(outcome="egfr_follow", baseline="egfr", followup_years=3.0, covariates=["age"])
    a = suppression_rate(m, n_boot=300, seed=5, **kw)  # type: ignore[arg-type]
    b = suppression_rate(m, n_boot=300, seed=5, **kw)  # type: ignore[arg-type]
    c = suppression_rate(m, n_boot=300, seed=5, n_jobs=2, **kw)  # type: ignore[arg-type]
    d = suppression_rate(m, n_boot=300, seed=6, **kw)  # type: ignore[arg-type]
    assert a.draws is not None and len(a.draws) == 300
    assert np.array_equal(a.draws, b.draws)  # type: ignore[arg-type]
    assert np.array_equal(a.draws, c.draws)  # type: ignore[arg-type]
    assert not np.array_equal(a.draws, d.draws)  # type: ignore[arg-type]
    for name in ("reference_rate", "difference"):
        assert np.array_equal(a.related[name].draws, c.related[name].draws)  # type: ignore[arg-type]
    # each replicate recomputes both rates: difference draws = rate draws − reference draws
    rel_d, rel_r = a.related["difference"].draws, a.related["reference_rate"].draws
    assert rel_d is not None and rel_r is not None
    np.testing.assert_allclose(rel_d, a.draws - rel_r, atol=1e-15)
    assert a.std_error == pytest.approx(np.std(a.draws, ddof=1))
    lo, hi = a.intervals["bootstrap_percentile"]
    assert (lo, hi) == pytest.approx(tuple(np.quantile(a.draws, [0.025, 0.975])))
    # default ci="bootstrap" = normal interval with the bootstrap SE (docs/kobe.md, coverage)
    half = float(stats.norm.ppf(0.975)) * float(np.std(a.draws, ddof=1))
    assert a.interval() == a.intervals["bootstrap_normal"]
    assert a.interval() == pytest.approx((a.value - half, a.value + half), abs=1e-12)
    lo_b, hi_b = a.intervals["bootstrap_basic"]
    assert (lo_b, hi_b) == pytest.approx((2 * a.value - hi, 2 * a.value - lo))
    # unseeded: a 32-bit seed is drawn, recorded, and repeats the intervals exactly
    e = suppression_rate(m, n_boot=100, **kw)  # type: ignore[arg-type]
    seed = e.provenance["seed"]
    assert isinstance(seed, int) and 0 <= seed < 2**32
    f = suppression_rate(m, n_boot=100, seed=seed, **kw)  # type: ignore[arg-type]
    assert dict(e.intervals) == dict(f.intervals) and e.interval() == f.interval()


def test_one_replicate_recomputed_independently() -> None:
    # Replicate 1 redone by hand: the same matched sets drawn (same SeedSequence child), OLS
    # by lstsq on the resampled rows, the smoothed-flip indicators of docs/kobe.md.
    m = _example_matched(n_treated=40, seed=2)
    est = suppression_rate(
        m, outcome="egfr_follow", baseline="egfr", followup_years=3.0,
        covariates=["age", "egfr"], n_boot=1, seed=17, k_folds=4,
    )  # fmt: skip
    rng = np.random.default_rng(np.random.SeedSequence(17).spawn(1)[0])
    counts = np.bincount(rng.integers(0, 40, size=40), minlength=40).astype(float)
    df = m.data
    X = np.column_stack([np.ones(len(df)), df[["age", "egfr"]].to_numpy(float)])
    y = ((df["egfr_follow"] - df["egfr"]) / 3.0).to_numpy()
    t, c = np.arange(40), np.arange(40, 80)  # set s = (participant s, control 40 + s)
    w = counts  # control s+40 is in set s only
    sw = np.sqrt(w)
    b = np.linalg.lstsq(X[c] * sw[:, None], y[c] * sw, rcond=None)[0]
    pp = est.private["per_person"]
    r0 = pp["actual_change"].to_numpy() - pp["predicted_change"].to_numpy()
    r_star = y[t] - X[t] @ b
    h = est.diagnostics["bootstrap_bandwidth_participants"]
    ind = pp["suppressed"].to_numpy(float) + ndtr(r_star / h) - ndtr(r0 / h)
    assert est.draws[0] == pytest.approx(float(w @ ind / w.sum()), abs=1e-10)  # type: ignore[index]
    # the reference: per-fold lstsq fits on the other folds' resampled controls
    pc = est.private["per_control"]
    fold = pc["fold"].to_numpy()
    pred = np.empty(40)
    for k in range(4):
        tr = fold != k
        bk = np.linalg.lstsq(X[c][tr] * sw[tr, None], y[c][tr] * sw[tr], rcond=None)[0]
        pred[~tr] = X[c][~tr] @ bk
    r0c = pc["actual_change"].to_numpy() - pc["predicted_change"].to_numpy()
    hc = est.diagnostics["bootstrap_bandwidth_controls"]
    indc = pc["suppressed"].to_numpy(float) + ndtr((y[c] - pred) / hc) - ndtr(r0c / hc)
    ref_draw = est.related["reference_rate"].draws[0]  # type: ignore[index]
    assert ref_draw == pytest.approx(float(w @ indc / w.sum()), abs=1e-10)


def test_reference_rate_near_half_without_effect() -> None:
    # No programme effect: both the participants' rate and the cross-fitted reference are
    # ≈ 0.5. Tolerances from 12 such studies (n_participants 700): the rate's SD across
    # studies is 0.029 (tolerance 0.08 ≈ 2.7 SD), the reference's 0.011 (0.04 ≈ 3.6 SD).
    from pfseval.designs.psm.matching import match
    from pfseval.synthetic import kobe_programme

    ds = kobe_programme(seed=100, n_pool=20000, n_participants=700, effect=0.0)
    covs = ["age", "sex", "bmi", "sbp", "hba1c", "egfr", "urine_protein", "smoking"]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        m = match(ds.data, treatment="treated", covariates=covs, id_col="person_id")
        est = suppression_rate(
            m,
            outcome="egfr_follow",
            baseline="egfr",
            followup_years="followup_years",
            n_boot=200,
            seed=1,
        )
    ref = est.related["reference_rate"]
    assert abs(ref.value - 0.5) < 0.04
    assert abs(est.value - 0.5) < 0.08
    lo, hi = est.related["difference"].interval()
    assert lo < 0 < hi


def test_coverage_small_simulation() -> None:
    # 40 synthetic studies (effect 1, σ 3; truth of the difference Φ(1/3) − 0.5 = 0.1306):
    # the 95% interval of the difference must cover the truth in at least 85% of them
    # (wide band for 40 studies; the 1,000-study benchmark is benchmarks/kobe_coverage.py).
    from pfseval.designs.psm.matching import match
    from pfseval.synthetic import kobe_programme

    covs = ["age", "sex", "bmi", "sbp", "hba1c", "egfr", "urine_protein", "smoking"]
    hits = []
    for s in range(40):
        ds = kobe_programme(seed=900 + s, n_pool=2500, n_participants=105, effect=1.0)
        truth = ds.truth["suppression_rate_true"] - ds.truth["suppression_reference_true"]
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            m = match(ds.data, treatment="treated", covariates=covs, id_col="person_id")
            est = suppression_rate(
                m,
                outcome="egfr_follow",
                baseline="egfr",
                followup_years="followup_years",
                denominator="lifestyle_improved",
                n_boot=200,
                seed=s,
            )
        lo, hi = est.related["difference"].interval()
        hits.append(lo <= truth <= hi)
    assert np.mean(hits) >= 0.85


# ---------------------------------------------------------------- result contents


def test_counts_flow_and_privacy() -> None:
    est = _run_small("kobe_small_pairs.csv", n_boot=20)
    d = est.diagnostics
    flow = est.sample_flow
    assert flow is not None
    assert flow.n_analysed("treated") == d["n_denominator"] == est.n
    assert flow.n_input["treated"] == 40
    assert flow.n_input["control"] == 90
    assert flow.n_analysed("control") == d["n_controls_used"]
    assert (
        d["n_denominator"] + d["n_participants_without_followup"]
        + d["n_participants_outside_denominator"] == 40
    )  # fmt: skip
    data = pd.read_csv(REF / "kobe_small.csv")
    # controls never matched (85 matched of 90) are accounted for in the flow
    assert flow.n_excluded("control") == 90 - d["n_controls_used"]
    assert {s.reason.code for s in flow.steps} >= {
        "kobe.flow.not_matched", "kobe.flow.no_followup", "kobe.flow.outside_denominator"
    }  # fmt: skip
    assert len(data) == flow.total_input
    dd = est.to_dict()
    assert "per_person" not in json.dumps(dd)
    assert "K0" not in json.dumps(dd)  # no person id leaks into the published dict
    assert set(est.related) == {"reference_rate", "difference"}
    assert est.provenance["seed"] == 11
    assert est.provenance["data_sha256"]


def test_denominator_as_series_equals_column() -> None:
    m = _small("kobe_small_pairs.csv")
    s = m.data.set_index("person_id")["lifestyle_improved"].fillna(0) == 1
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        a = _run_small("kobe_small_pairs.csv", n_boot=0, ci="wilson")
        b = suppression_rate(
            m, outcome="egfr_follow", baseline="egfr", followup_years="followup_years",
            covariates=REGS, denominator=s, n_boot=0, ci="wilson", seed=11,
        )  # fmt: skip
    assert a.value == b.value
    assert a.n == b.n


def test_warnings_attrition_extrapolation_small() -> None:
    m = _small("kobe_small_pairs.csv")
    with pytest.warns(AttritionWarning, match="no follow-up"):
        est = suppression_rate(
            m, outcome="egfr_follow", baseline="egfr", followup_years="followup_years",
            covariates=REGS, denominator="lifestyle_improved", n_boot=0, ci="wilson", seed=1,
        )  # fmt: skip
    # recorded on the result too: 3 of 40 participants and 3 of 75 matched controls lack follow-up
    att = [n for n in est.notices if n.code == "kobe.no_followup"]
    assert len(att) == 1 and att[0].category is AttritionWarning
    assert dict(att[0].counts) == {
        "n_no_followup": 3, "n_participants": 40, "n_controls_no_followup": 3, "n_controls": 75
    }  # fmt: skip
    assert "3 of 40 matched participants" in att[0].text("en")
    assert "40人のうち3人" in att[0].text("ja")
    with pytest.warns(SmallSampleWarning, match="fewer than 30"):
        suppression_rate(
            _example_matched(n_treated=20), outcome="egfr_follow", baseline="egfr",
            followup_years=3.0, covariates=["age"], n_boot=0, ci="wilson", seed=1,
        )  # fmt: skip
    data = m.data.copy()
    data.loc[0, "age"] = 95  # participant K000 older than every control
    with pytest.warns(ExtrapolationWarning, match="age outside the range"):
        suppression_rate(
            _matched(data, m.pairs), outcome="egfr_follow", baseline="egfr",
            followup_years="followup_years", covariates=REGS, n_boot=0, ci="wilson", seed=1,
        )  # fmt: skip


def test_matched_sample_notices_reach_the_result_once() -> None:
    # audit: balance / caliper / few-pairs notices of the MatchedSample must reach the
    # Estimate (and so the appendix) but are not issued a second time (match() issued them)
    import dataclasses

    from pfseval.designs.psm.matching import UnmatchedWarning
    from pfseval.errors import BalanceWarning
    from pfseval.messages import Notice

    base = _example_matched()
    notes = (
        Notice("psm.balance_inadequate", category=BalanceWarning,
               params={"threshold": 0.1, "covariates": ["age"]}),
        Notice("psm.unmatched_treated", category=UnmatchedWarning,
               counts={"n_unmatched": 3, "n_treated": 63}),
    )  # fmt: skip
    m = dataclasses.replace(base, notices=notes)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        est = suppression_rate(
            m, outcome="egfr_follow", baseline="egfr", followup_years=3.0,
            covariates=["age", "egfr"], n_boot=0, ci="wilson", seed=1,
        )  # fmt: skip
    assert est.notices[:2] == notes
    assert not any(str(c.message) in est.warnings[:2] for c in caught)
    # its own notices follow (20 participants: fewer than 30 in the denominator)
    small = dataclasses.replace(_example_matched(n_treated=20), notices=notes[:1])
    with pytest.warns(SmallSampleWarning):
        est2 = suppression_rate(
            small, outcome="egfr_follow", baseline="egfr", followup_years=3.0,
            covariates=["age"], n_boot=0, ci="wilson", seed=1,
        )  # fmt: skip
    assert est2.notices[0] == notes[0]
    own = {n.code: n for n in est2.notices[1:]}
    assert own["kobe.small_denominator"].counts["n_denominator"] == 20
    assert own["kobe.small_denominator"].params["minimum"] == 30
    records = est.to_dict()["notices"]
    assert [r["code"] for r in records[:2]] == ["psm.balance_inadequate", "psm.unmatched_treated"]
    assert records[1]["counts"] == {"n_unmatched": 3, "n_treated": 63}
    assert "warning" in dict(est.summary_rows())


def test_notices_and_flow_render_in_both_languages() -> None:
    from pfseval.messages import Message

    est = _run_small("kobe_small_pairs.csv", n_boot=0, ci="wilson")
    method = est.method
    code = "kobe.method.absolute_per_year.wilson.no_bootstrap"
    assert isinstance(method, Message) and method.code == code
    assert method.params["n_controls"] > 0 and method.params["baseline"] == "egfr"
    ja = method.text("ja", labels={"egfr": "eGFR"})
    assert (
        "神戸市方式" in ja and "Wilson スコア法" in ja and "追跡年数" in ja and "wilson" not in ja
    )
    ref = est.related["reference_rate"].method
    assert isinstance(ref, Message) and ref.code == "kobe.reference_method.wilson"
    frame = est.sample_flow.to_frame("ja")  # type: ignore[union-attr]
    assert "追跡値がない" in " ".join(frame["description"])
    for n in est.notices:
        assert n.text("ja") != n.text("en")
    # extrapolation ranges describe individuals: withheld from published text
    data = _small("kobe_small_pairs.csv").data.copy()
    data.loc[0, "age"] = 95
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        e2 = suppression_rate(
            _matched(data, _small("kobe_small_pairs.csv").pairs), outcome="egfr_follow",
            baseline="egfr", followup_years="followup_years", covariates=REGS, n_boot=0,
            ci="wilson", seed=1,
        )  # fmt: skip
    ext = next(n for n in e2.notices if n.code == "kobe.extrapolated")
    assert "95" not in ext.text("en", public=True) and "(withheld)" in ext.text("en", public=True)


def test_plot() -> None:
    import matplotlib

    matplotlib.use("Agg")
    est = _run_small("kobe_small_pairs.csv", n_boot=0, ci="wilson")
    fig = suppression_plot(est)  # type: ignore[arg-type]
    ax = fig.axes[0]
    assert ax.get_xlabel() == "predicted decline"
    # the y = x line spans the data
    line = ax.get_lines()[0]
    assert np.allclose(line.get_xdata(), line.get_ydata())
    with pytest.raises(DesignError):
        suppression_plot(est.with_updates(private={}))


# ---------------------------------------------------------------- bad input


def test_bad_input_errors() -> None:
    m = _small("kobe_small_pairs.csv")
    kw = dict(outcome="egfr_follow", baseline="egfr", followup_years="followup_years",
              covariates=REGS, n_boot=0, ci="wilson", seed=1)  # fmt: skip
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        with pytest.raises(ColumnMissingError, match="egfr_folow"):
            suppression_rate(m, **{**kw, "outcome": "egfr_folow"})  # type: ignore[arg-type]
        with pytest.raises(ColumnMissingError, match="improved"):
            suppression_rate(m, denominator="improved", **kw)  # type: ignore[arg-type]
        empty = m.data.assign(lifestyle_improved=np.where(m.data["treated"] == 1, 0.0, np.nan))
        with pytest.raises(DesignError, match="denominator is empty"):
            suppression_rate(_matched(empty, m.pairs), denominator="lifestyle_improved", **kw)  # type: ignore[arg-type]
        holes = m.data.copy()
        holes.loc[holes["person_id"] == "K005", "hba1c"] = np.nan
        with pytest.raises(DesignError, match=r"hba1c missing for ids K005"):
            suppression_rate(_matched(holes, m.pairs), **kw)  # type: ignore[arg-type]
        const = m.data.assign(sex=1)
        with pytest.raises(DesignError, match="sex are constant"):
            suppression_rate(_matched(const, m.pairs), **kw)  # type: ignore[arg-type]
        bad_years = m.data.copy()
        bad_years.loc[bad_years["person_id"] == "K001", "followup_years"] = 0.0
        with pytest.raises(DesignError, match="K001"):
            suppression_rate(_matched(bad_years, m.pairs), **kw)  # type: ignore[arg-type]
        bad_den = m.data.assign(lifestyle_improved=m.data["lifestyle_improved"].fillna(2.0))
        bad_den.loc[0, "lifestyle_improved"] = 2.0
        with pytest.raises(DesignError, match="must be 0/1"):
            suppression_rate(_matched(bad_den, m.pairs), denominator="lifestyle_improved", **kw)  # type: ignore[arg-type]
        with pytest.raises(DesignError, match="n_boot = 0"):
            suppression_rate(m, **{**kw, "ci": "bootstrap"})  # type: ignore[arg-type]
        with pytest.raises(DesignError, match="'ci'"):
            suppression_rate(m, **{**kw, "ci": "exact"})  # type: ignore[arg-type]
        with pytest.raises(DesignError, match="followup_years"):
            suppression_rate(m, **{**kw, "followup_years": None})  # type: ignore[arg-type]
        with pytest.raises(DesignError, match="also a covariate"):
            suppression_rate(m, **{**kw, "covariates": [*REGS, "egfr_follow"]})  # type: ignore[arg-type]
        bad_pairs = m.pairs.copy()
        bad_pairs.loc[0, "control_id_1"] = "NOPE"
        with pytest.raises(DesignError, match="NOPE"):
            suppression_rate(_matched(m.data, bad_pairs), **kw)  # type: ignore[arg-type]
    assert issubclass(DesignError, ValueError)


def test_with_match_replacement_ratio_and_caliper() -> None:
    # Real psm.match with 2:1, replacement and a caliper: controls in several sets are
    # counted once per set (frequency weights), unmatched participants are in the flow.
    from pfseval.designs.psm.matching import match
    from pfseval.synthetic import kobe_programme

    ds = kobe_programme(seed=3, n_pool=3000, n_participants=150)
    covs = ["age", "sex", "bmi", "sbp", "hba1c", "egfr", "urine_protein", "smoking"]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        m = match(
            ds.data, treatment="treated", covariates=covs, id_col="person_id",
            ratio=2, replace=True, caliper=0.2,
        )  # fmt: skip
        est = suppression_rate(
            m, outcome="egfr_follow", baseline="egfr", followup_years="followup_years",
            n_boot=100, seed=1,
        )  # fmt: skip
    d = est.diagnostics
    no_control = m.pairs.filter(like="control_id").isna().all(axis=1).sum()
    assert no_control > 0 and m.notices  # the caliper dropped participants: a notice
    assert all(n in est.notices for n in m.notices)
    flow = est.sample_flow
    assert flow is not None
    # the flow continues the matching step's: its reasons for the unmatched participants
    assert flow.n_input == m.sample_flow.n_input
    unmatched = [s for s in flow.steps if s.group == "treated" and s.reason.code.startswith("psm.")]
    assert sum(s.n_excluded for s in unmatched) == no_control
    assert d["n_control_rows"] > d["n_controls_used"]  # some controls serve several sets
    pc = est.private["per_control"]
    assert int(pc["n_matched_sets"].sum()) == d["n_control_rows"]
    assert est.related["reference_rate"].n == d["n_control_rows"]
    assert est.conf_low < est.value < est.conf_high


def test_rate_step_reads_only_the_matched_sets() -> None:
    # issue 15: the same matched sets in a larger pool give the same estimate, and the step
    # neither lists nor hashes the pool (flow continues the matching flow, hash reused)
    import importlib.util

    from pfseval.designs.psm import kobe as kobe_mod
    from pfseval.designs.psm.matching import match
    from pfseval.synthetic import kobe_programme

    path = Path(__file__).resolve().parents[1] / "benchmarks" / "kobe_speed.py"
    spec = importlib.util.spec_from_file_location("kobe_speed", path)
    assert spec is not None and spec.loader is not None
    bench = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(bench)
    ds = kobe_programme(seed=5, n_pool=1000, n_participants=60)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        m = match(ds.data, treatment="treated", covariates=["age", "sex", "egfr", "hba1c"])
        big = bench.padded(m, 4000)
        kw = {"outcome": "egfr_follow", "baseline": "egfr", "followup_years": "followup_years",
              "n_boot": 20, "seed": 3}  # fmt: skip
        a = suppression_rate(m, **kw)  # type: ignore[arg-type]
        b = suppression_rate(big, **kw)  # type: ignore[arg-type]
    assert (a.value, a.conf_low, a.conf_high) == (b.value, b.conf_low, b.conf_high)
    assert np.array_equal(a.draws, b.draws)  # type: ignore[arg-type]
    rows = kobe_mod._set_rows(big, pd.Index(m.pairs["treated_id"]))
    assert len(rows) == m.n_matched_treated + m.n_matched_control < 4000
    flow = b.sample_flow
    assert flow is not None and flow.n_input["control"] == 4000 - int(ds.data["treated"].sum())
    assert flow.steps[: len(big.sample_flow.steps)] == big.sample_flow.steps
    assert b.provenance["data_sha256"] == big.provenance["data_sha256"]
