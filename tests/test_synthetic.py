"""Synthetic data: determinism, plausibility, and that each recorded truth is what the data carry.

Tolerances: effect recoveries use large generated samples and allow 4 standard errors of the
oracle estimator (computed by statsmodels or by the textbook formula in the test), so a
correct generator fails with probability < 1e-4 per check, while a wrong sign, a missing effect
or a scale slip (effects here are 5-40 SEs) fails.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import statsmodels.api as sm
from scipy.stats import norm

from pfseval.synthetic import (
    OUTCOME_COEF,
    SyntheticDataset,
    SyntheticOptionError,
    candidate_pool,
    kobe_from_population,
    kobe_programme,
    population,
    prepost_questionnaire,
    randomised_trial,
    screening_series,
    write_all,
)
from pfseval.synthetic._common import jsn_creatinine, jsn_egfr
from pfseval.synthetic.kobe import model_terms

GENERATORS = {
    "kobe": lambda seed: kobe_programme(seed=seed, n_pool=2000, n_participants=80),
    "rct": lambda seed: randomised_trial(seed=seed),
    "rct_cluster": lambda seed: randomised_trial(seed=seed, cluster=True),
    "rct_waitlist": lambda seed: randomised_trial(seed=seed, waitlist=True),
    "prepost": lambda seed: prepost_questionnaire(seed=seed, comparison=True),
    "screening": lambda seed: screening_series(seed=seed),
    "population": lambda seed: population(persons=2000, seed=seed),
}


def _frame(obj: SyntheticDataset | pd.DataFrame) -> pd.DataFrame:
    return obj.data if isinstance(obj, SyntheticDataset) else obj


@pytest.fixture(scope="module")
def pop() -> pd.DataFrame:
    return population(persons=40000, seed=11)


# ---------------------------------------------------------------- determinism


@pytest.mark.parametrize("name", sorted(GENERATORS))
def test_same_seed_same_data_different_seed_different(name: str) -> None:
    gen = GENERATORS[name]
    a, b, c = gen(5), gen(5), gen(6)
    pd.testing.assert_frame_equal(_frame(a), _frame(b))
    if isinstance(a, SyntheticDataset) and isinstance(b, SyntheticDataset):
        assert json.dumps(dict(a.truth), default=str) == json.dumps(dict(b.truth), default=str)
    assert not _frame(a).equals(_frame(c))


def test_every_column_is_described() -> None:
    for name, gen in GENERATORS.items():
        ds = gen(1)
        if isinstance(ds, SyntheticDataset):
            assert set(ds.data.columns) <= set(ds.columns), name
            assert ds.description


def test_write_all_is_byte_identical_for_a_seed(tmp_path: Path) -> None:
    a = write_all(tmp_path / "a", seed=7, persons=3000)
    b = write_all(tmp_path / "b", seed=7, persons=3000)
    c = write_all(tmp_path / "c", seed=8, persons=3000)
    assert list(a) == list(b)
    for key in a:
        assert a[key].read_bytes() == b[key].read_bytes(), key
    assert a["population"].read_bytes() != c["population"].read_bytes()
    meta = json.loads(a["metadata"].read_text(encoding="utf-8"))
    for key, rec in meta["files"].items():
        digest = hashlib.sha256((tmp_path / "a" / rec["path"]).read_bytes()).hexdigest()
        assert digest == rec["sha256"], key
    assert set(meta["files"]) == set(a) - {"metadata"}
    assert meta["datasets"]["kobe"]["truth"]["att"] == 1.0
    assert meta["seed"] == 7


def test_written_files_round_trip(tmp_path: Path) -> None:
    from pfseval.synthetic import japanese_headers

    w = write_all(tmp_path, seed=3, persons=3000)
    pq = pd.read_parquet(w["population"])
    y16 = pd.read_csv(
        w["checkup_2016"], dtype={"person_id": str, "insurer_code": str, "municipality_code": str}
    )
    assert len(y16) == int((pq["fiscal_year"] == 2016).sum())
    ja = pd.read_csv(w["checkup_2016_cp932"], encoding="cp932", dtype=str)
    heads = japanese_headers()
    assert list(ja.columns) == [heads[c] for c in y16.columns]
    assert "ＨｂＡ１ｃ" in ja.columns and "収縮期血圧" in ja.columns
    assert (ja[heads["person_id"]].to_numpy() == y16["person_id"].to_numpy()).all()
    # The io loaders accept the files as they are (Japanese headers, CP932, Parquet).
    from pfseval.io import check_file

    for key in ("checkup_2016_cp932", "checkup_2019", "population"):
        report = check_file(w[key])
        assert report.ok, report.to_text()
    kobe = pd.read_csv(w["kobe"])
    part = pd.read_csv(w["kobe_participants"])
    assert set(part["person_id"]) == set(kobe.loc[kobe["treated"] == 1, "person_id"])
    # The participants' follow-up eGFR in the 2019 extract is the one in the Kobe table.
    y19 = pd.read_csv(w["checkup_2019"]).set_index("person_id")
    linked = kobe.set_index("person_id")["egfr_follow"].dropna()
    assert np.allclose(y19.loc[linked.index, "egfr"], linked)


# ---------------------------------------------------------------- population


def test_jsn_helper_matches_brief_values() -> None:
    # BRIEF §5 check values, given to 2 decimals.
    got = jsn_egfr(np.array([1.0, 1.0, 1.2]), np.array([60, 60, 70]), np.array([1, 2, 1]))
    assert np.allclose(got, [59.91, 44.27, 46.95], atol=0.005)
    back = jsn_creatinine(got, np.array([60, 60, 70]), np.array([1, 2, 1]))
    assert np.allclose(back, [1.0, 1.0, 1.2], rtol=1e-12)


def test_population_values_in_vocabulary_ranges(pop: pd.DataFrame) -> None:
    from pfseval.io.vocabulary import VOCABULARY

    for col in pop.columns:
        spec = VOCABULARY[col]
        vals = pop[col].dropna()
        if spec.low is not None and spec.high is not None:
            assert vals.between(spec.low, spec.high).all(), col
        if spec.codes is not None:
            assert set(vals.unique()) <= set(spec.codes), col
    assert pop["age"].between(40, 74).all()
    assert not pop.duplicated(["person_id", "fiscal_year"]).any()
    assert pop["creatinine"].isna().equals(pop["egfr"].isna())
    assert 0.03 < pop["egfr"].isna().mean() < 0.4  # detailed item missing for a share


def test_population_levels_and_correlations(pop: pd.DataFrame) -> None:
    by_sex = pop.groupby("sex")["sbp"].mean()
    # BRIEF §5: mean SBP about 134 (men) / 127 (women); ±4 mmHg allows for the age mix.
    assert abs(by_sex[1] - 134) < 4 and abs(by_sex[2] - 127) < 4
    eg = pop["egfr"].dropna()
    assert abs(eg.mean() - 76) < 3 and 11 < eg.std() < 17  # BRIEF: about 76 ± 14
    c = pop[["bmi", "waist", "sbp", "tg", "hdl", "hba1c", "fpg", "egfr", "age", "urine_protein"]]
    r = c.corr()
    assert r.loc["bmi", "waist"] > 0.7
    assert r.loc["hba1c", "fpg"] > 0.7
    for a, b in [("bmi", "sbp"), ("bmi", "tg"), ("hba1c", "urine_protein"), ("age", "sbp")]:
        assert r.loc[a, b] > 0.05, (a, b)
    for a, b in [("bmi", "hdl"), ("tg", "hdl"), ("age", "egfr")]:
        assert r.loc[a, b] < -0.05, (a, b)
    # Medication is more likely when values are high.
    assert (
        pop.loc[pop["hba1c"] >= 7, "med_glucose"].mean()
        > pop.loc[pop["hba1c"] < 6, "med_glucose"].mean()
    )
    assert pop.loc[pop["age"] >= 65, "med_bp"].mean() > pop.loc[pop["age"] < 50, "med_bp"].mean()


def test_egfr_decline_with_age_and_faster_with_proteinuria(pop: pd.DataFrame) -> None:
    base = pop.loc[pop["fiscal_year"] == 2016].dropna(subset=["egfr"])
    slope_cross = np.polyfit(base["age"], base["egfr"], 1)[0]
    assert -0.6 < slope_cross < -0.2  # BRIEF: about −0.36 per year of age
    w = pop.dropna(subset=["egfr"]).sort_values(["person_id", "fiscal_year"])
    g = w.groupby("person_id")
    first, last = g.first(), g.last()
    years = last["fiscal_year"] - first["fiscal_year"]
    ok = years >= 3
    slope = (last["egfr"] - first["egfr"])[ok] / years[ok]
    prot = first.loc[ok, "urine_protein"] >= 2
    assert -0.6 < slope[~prot].mean() < -0.25
    assert slope[prot].mean() < 2 * slope[~prot].mean()  # more than twice as fast


def _egfr_by_hand(d: pd.DataFrame) -> np.ndarray:
    """The JSN equation written out independently of the package (BRIEF §5)."""
    f = np.where(d["sex"].to_numpy() == 2, 0.739, 1.0)
    cr = d["creatinine"].to_numpy(dtype=float)
    return 194.0 * cr**-1.094 * d["age"].to_numpy(dtype=float) ** -0.287 * f


def test_creatinine_consistent_with_egfr(pop: pd.DataFrame) -> None:
    d = pop.dropna(subset=["creatinine"])
    # eGFR is reported to 1 decimal from the reported creatinine: equal after rounding
    # (0.051 allows for a value sitting on a rounding boundary).
    assert np.allclose(np.round(_egfr_by_hand(d), 1), d["egfr"].to_numpy(), atol=0.051)
    assert (d["creatinine"] == d["creatinine"].round(2)).all()


def test_people_join_and_leave(pop: pd.DataFrame) -> None:
    first = pop.groupby("person_id")["fiscal_year"].min()
    assert (first > 2016).mean() > 0.1  # joined later (turned 40, moved in)
    in16 = set(pop.loc[pop["fiscal_year"] == 2016, "person_id"])
    in19 = set(pop.loc[pop["fiscal_year"] == 2019, "person_id"])
    kept = len(in16 & in19) / len(in16)
    assert 0.35 < kept < 0.9  # follow-up records missing for some
    # Members who reach 75 leave: the oldest in 2016 are never seen at 75 or later.
    old16 = pop.loc[(pop["fiscal_year"] == 2016) & (pop["age"] == 74), "person_id"]
    assert not pop.loc[pop["person_id"].isin(old16) & (pop["fiscal_year"] > 2016)].shape[0]
    joined_at_40 = pop.loc[pop["person_id"].isin(first[first > 2016].index)]
    assert (joined_at_40.groupby("person_id")["age"].min() == 40).any()


# ---------------------------------------------------------------- Kobe


def test_kobe_oracle_regression_recovers_effect_and_model() -> None:
    ds = kobe_programme(seed=21, n_pool=200_000, n_participants=20_000, effect=1.0, sigma=3.0)
    d = ds.data.dropna(subset=["egfr_follow"])
    y = (d["egfr_follow"] - d["egfr"]) / d["followup_years"]
    terms = model_terms(d)
    names = [k for k in OUTCOME_COEF if k != "intercept"]
    x = sm.add_constant(pd.DataFrame({**{k: terms[k] for k in names}, "treated": d["treated"]}))
    fit = sm.OLS(y.to_numpy(), x).fit()
    se = fit.bse
    assert abs(fit.params["treated"] - ds.truth["effect"]) < 4 * se["treated"]
    for k in names:
        assert abs(fit.params[k] - OUTCOME_COEF[k]) < 4 * se[k], k
    assert abs(fit.params["const"] - OUTCOME_COEF["intercept"]) < 4 * se["const"]
    # Residual SD is sigma (lab rounding adds < 0.02).
    assert abs(np.sqrt(fit.scale) - 3.0) < 0.05


def test_kobe_suppression_truth_and_selection_bias() -> None:
    ds = kobe_programme(seed=22, n_pool=200_000, n_participants=20_000, effect=1.0, sigma=3.0)
    d = ds.data
    t = d["treated"] == 1
    # Participants are selected on observables: sicker at baseline.
    assert d.loc[t, "hba1c"].mean() > d.loc[~t, "hba1c"].mean() + 0.2
    assert d.loc[t, "egfr"].mean() < d.loc[~t, "egfr"].mean()
    assert d.loc[t, "urine_protein"].mean() > d.loc[~t, "urine_protein"].mean()
    # With the true regression, P(actual change > predicted) = Φ(effect / sigma).
    f = d.loc[t].dropna(subset=["egfr_follow"])
    terms = model_terms(f)
    pred = OUTCOME_COEF["intercept"] + sum(
        b * terms[k] for k, b in OUTCOME_COEF.items() if k != "intercept"
    )
    actual = (f["egfr_follow"] - f["egfr"]) / f["followup_years"]
    share = float(np.mean(actual > pred))
    p = norm.cdf(1.0 / 3.0)
    assert ds.truth["suppression_rate_true"] == pytest.approx(p)
    assert abs(share - p) < 4 * np.sqrt(p * (1 - p) / len(f))
    # Naive difference in means = effect + naive_bias (selection), not the effect.
    dd = d.dropna(subset=["egfr_follow"])
    ch = (dd["egfr_follow"] - dd["egfr"]) / dd["followup_years"]
    tt = dd["treated"] == 1
    naive = ch[tt].mean() - ch[~tt].mean()
    se = np.sqrt(ch[tt].var() / tt.sum() + ch[~tt].var() / (~tt).sum())
    assert abs(naive - (1.0 + ds.truth["naive_bias"])) < 4 * se
    assert ds.truth["naive_bias"] < -0.3  # the naive comparison understates the effect
    # Participation count and follow-up missingness as requested.
    assert abs(t.sum() - 20_000) < 4 * np.sqrt(20_000)
    assert abs(d["egfr_follow"].isna().mean() - 0.12) < 0.005


def test_kobe_programme_outputs_are_participant_only() -> None:
    d = kobe_programme(seed=2).data
    t = d["treated"] == 1
    assert d.loc[~t, ["completed", "lifestyle_improved"]].isna().all().all()
    assert d.loc[t, "completed"].notna().all()
    done = t & (d["completed"] == 1)
    assert d.loc[done, "lifestyle_diet"].notna().all()
    assert d.loc[t & (d["completed"] == 0), "lifestyle_diet"].isna().all()
    doms = d.loc[
        done,
        ["lifestyle_diet", "lifestyle_exercise", "lifestyle_monitoring", "lifestyle_medication"],
    ].sum(axis=1)
    assert ((doms >= 3).astype(float) == d.loc[done, "lifestyle_improved"]).all()


def test_kobe_from_population_carries_the_effect(pop: pd.DataFrame) -> None:
    ds = kobe_from_population(pop, seed=4, effect=2.0)
    # Sample ATT: exact up to lab rounding of creatinine (±0.005 mg/dL → < 0.1 eGFR / 3 y).
    assert abs(ds.truth["att_sample"] - 2.0) < 0.1
    new = ds.tables["population"]
    # Baseline and non-participants untouched; creatinine still consistent with eGFR.
    base_old = pop.loc[pop["fiscal_year"] == 2016].reset_index(drop=True)
    base_new = new.loc[new["fiscal_year"] == 2016].reset_index(drop=True)
    pd.testing.assert_frame_equal(base_old, base_new)
    part = set(ds.tables["participants"]["person_id"])
    changed = ~(new["egfr"].eq(pop["egfr"]) | (new["egfr"].isna() & pop["egfr"].isna()))
    assert set(new.loc[changed, "person_id"]) <= part
    d = new.dropna(subset=["creatinine"])
    assert np.allclose(np.round(_egfr_by_hand(d), 1), d["egfr"].to_numpy(), atol=0.051)
    # Everyone in the Kobe table meets the pool definition at baseline.
    assert candidate_pool(ds.data).all()
    assert ds.data["egfr_follow"].isna().any()  # people left or skipped the check


# ---------------------------------------------------------------- RCT


def test_rct_difference_in_means_and_risks() -> None:
    ds = randomised_trial(seed=31, n_per_arm=40_000, effect=-0.3, binary_effect=0.15, attrition=0.1)
    d = ds.data
    assert (d["arm"].value_counts() == 40_000).all()
    # Stratified: each stratum balanced up to one person.
    counts = d.groupby(["stratum", "arm"]).size().unstack()
    assert (abs(counts[1] - counts[0]) <= 1).all()
    assert abs(d["hba1c_change"].isna().mean() - 0.1) < 0.005
    a = d.dropna(subset=["hba1c_change"])
    g = a.groupby("arm")
    diff = g["hba1c_change"].mean()[1] - g["hba1c_change"].mean()[0]
    se = np.sqrt((g["hba1c_change"].var() / g.size()).sum())
    assert abs(diff - ds.truth["mean_difference"]) < 4 * se + 0.005  # + rounding to 0.1
    rd = g["goal_met"].mean()[1] - g["goal_met"].mean()[0]
    p = g["goal_met"].mean()
    se_rd = np.sqrt((p * (1 - p) / g.size()).sum())
    assert abs(rd - ds.truth["risk_difference"]) < 4 * se_rd


def test_rct_cluster_icc() -> None:
    ds = randomised_trial(
        seed=32, n_per_arm=20_000, cluster=True, n_clusters=400, icc=0.1, attrition=0.0, effect=0.0
    )
    d = ds.data
    assert d.groupby("cluster")["arm"].nunique().max() == 1  # clusters randomised whole
    assert d.groupby("cluster")["arm"].first().sum() == 200
    # One-way ANOVA estimator of the ICC of the residual of hba1c_change on hba1c.
    fit = sm.OLS(d["hba1c_change"], sm.add_constant(d[["hba1c"]])).fit()
    r = pd.Series(fit.resid.to_numpy(), index=d.index)
    m = d.groupby("cluster").size().iloc[0]
    k = d["cluster"].nunique()
    means = r.groupby(d["cluster"]).mean()
    msb = m * ((means - r.mean()) ** 2).sum() / (k - 1)
    msw = ((r - d["cluster"].map(means)) ** 2).sum() / (len(d) - k)
    icc = (msb - msw) / (msb + (m - 1) * msw)
    # SE of the ANOVA ICC with k = 400 clusters of 100 is about 0.01; rounding to 0.1
    # adds within-cluster variance (~0.03²/0.36 ≈ 0.2%), so allow 0.035.
    assert abs(icc - 0.1) < 0.035


def test_rct_waitlist_period_two_are_period_one_controls() -> None:
    d = randomised_trial(seed=33, n_per_arm=60, waitlist=True).data
    p1 = d[d["period"] == 1]
    p2 = d[d["period"] == 2]
    assert set(p2["person_id"]) == set(p1.loc[p1["arm"] == 0, "person_id"])
    assert (p2["arm"] == 1).all()


# ---------------------------------------------------------------- pre/post


def test_prepost_regression_to_the_mean_and_effect() -> None:
    ds = prepost_questionnaire(seed=41, n=40_000, comparison=True, trend=0.0)
    d = ds.data
    assert d["checklist_before"].between(0, 25).all()
    assert d["checklist_after"].dropna().between(0, 25).all()
    assert (d["checklist_before"] >= ds.truth["threshold"]).all()
    # Regression to the mean: without the programme, a high-score group falls back.
    assert ds.truth["checklist_change_without_programme"] < -0.3
    assert abs(ds.truth["checklist_effect_sample"] - ds.truth["effect_checklist"]) < 0.2
    a = d.dropna(subset=["checklist_after"])
    ch = a["checklist_after"] - a["checklist_before"]
    g = ch.groupby(a["participant"])
    # Comparison-group contrast (the oracle for this design) recovers the sample effect.
    did = g.mean()[1] - g.mean()[0]
    se = np.sqrt((g.var() / g.size()).sum())
    assert abs(did - ds.truth["checklist_effect_sample"]) < 4 * se
    # MCAR non-response: participants' observed mean change matches the recorded truth.
    se1 = np.sqrt(g.var()[1] / g.size()[1])
    assert abs(g.mean()[1] - ds.truth["checklist_change_with_programme"]) < 4 * se1
    ex = (a["exercise_after"] - a["exercise_before"]).groupby(a["participant"]).mean()
    assert abs(ex[1] - ex[0] - ds.truth["exercise_effect_sample"]) < 0.03
    dr = (a["drugs_after"] - a["drugs_before"]).groupby(a["participant"]).mean()
    assert dr[1] - dr[0] < 0
    assert abs(d["checklist_after"].isna().mean() - 0.1) < 0.01


# ---------------------------------------------------------------- screening


def test_screening_excess_and_external_trend() -> None:
    ds = screening_series(seed=51, n_municipalities=3000, effect=0.03, trend=0.004)
    d = ds.data
    last = int(d["fiscal_year"].max())
    assert ds.truth["intervention_year"] == last
    assert (d.loc[d["intervention"] == 1, "fiscal_year"] == last).all()
    assert (d["screened"] <= d["eligible"]).all()
    # Difference in differences of rates (the oracle here): last year minus the mean of the
    # previous years, intervening minus other municipalities, estimates `effect`.
    d = d.assign(rate=d["screened"] / d["eligible"])
    wide = d.pivot(index="municipality_code", columns="fiscal_year", values="rate")
    change = wide[last] - wide.drop(columns=last).mean(axis=1)
    treated = d.loc[d["intervention"] == 1, "municipality_code"]
    is_t = change.index.isin(treated)
    did = change[is_t].mean() - change[~is_t].mean()
    se = np.sqrt(change[is_t].var() / is_t.sum() + change[~is_t].var() / (~is_t).sum())
    assert abs(did - 0.03) < 4 * se
    # The recorded excess is the sample's: removing it gives the no-programme rates.
    last_rows = d[(d["fiscal_year"] == last) & d["municipality_code"].isin(treated)]
    excess = last_rows["municipality_code"].map(ds.truth["excess_by_municipality"])
    rate0 = (last_rows["screened"] - excess) / last_rows["eligible"]
    rec = last_rows["municipality_code"].map(ds.truth["rate_without_programme"])
    assert np.allclose(rate0, rec)
    assert ds.truth["excess_total"] == int(excess.sum())
    rel = np.asarray(excess) / np.asarray(
        last_rows["municipality_code"].map(ds.truth["expected_excess_by_municipality"])
    )
    assert 0.9 < rel.mean() < 1.1
    # External trend: the national rate rises by about `trend` per year.
    nat = ds.tables["national"]
    slope = np.polyfit(nat["fiscal_year"], nat["rate"], 1)[0]
    assert 0.0 < slope < 0.01


# ---------------------------------------------------------------- bad input


@pytest.mark.parametrize(
    "call",
    [
        lambda: kobe_programme(seed=1, n_pool=100, n_participants=100),
        lambda: kobe_programme(seed=1, sigma=0.0),
        lambda: randomised_trial(seed=1, cluster=True, n_clusters=3),
        lambda: randomised_trial(seed=1, attrition=1.0),
        lambda: prepost_questionnaire(seed=1, n=0),
        lambda: screening_series(seed=1, years=[2020]),
        lambda: population(persons=0, seed=1),
        lambda: population(persons=10, seed=1, years=[2016, 2018]),
    ],
)
def test_bad_options_raise_typed_error(call) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(SyntheticOptionError):
        call()


def test_kobe_from_population_names_a_missing_column() -> None:
    from pfseval.errors import ColumnMissingError

    pop = population(persons=500, seed=1).drop(columns="creatinine")
    with pytest.raises(ColumnMissingError, match="creatinine"):
        kobe_from_population(pop, seed=1)


# ---------------------------------------------------------------- committed samples


SAMPLES = Path(__file__).resolve().parents[1] / "data" / "synthetic"


def test_committed_samples_are_what_make_samples_writes(tmp_path: Path) -> None:
    meta = json.loads((SAMPLES / "metadata.json").read_text(encoding="utf-8"))
    total = 0
    for rec in meta["files"].values():
        path = SAMPLES / rec["path"]
        assert hashlib.sha256(path.read_bytes()).hexdigest() == rec["sha256"], rec["path"]
        assert path.stat().st_size < 5_000_000
        total += path.stat().st_size
    assert total < 15_000_000
    written = write_all(tmp_path, seed=meta["seed"], persons=meta["persons"])
    for key, path in written.items():
        if key in ("population", "metadata"):
            continue  # Parquet/metadata bytes embed library versions: compared by content
        assert path.read_bytes() == (SAMPLES / path.name).read_bytes(), key
    pd.testing.assert_frame_equal(
        pd.read_parquet(written["population"]), pd.read_parquet(SAMPLES / "population.parquet")
    )
    new_meta = json.loads(written["metadata"].read_text(encoding="utf-8"))
    assert new_meta["datasets"] == meta["datasets"]
