"""Kobe-style diabetic-nephropathy programme: participants selected on observables.

The generating model (all parameters are returned in ``truth``):

* baseline covariates of a candidate pool (people with diabetic-nephropathy risk at the
  health check), correlated by age and sex;
* participation ``treated ~ Bernoulli(expit(a + x'γ))`` with higher HbA1c, lower eGFR,
  proteinuria, younger age and no glucose medication making participation more likely; the
  intercept ``a`` is calibrated so the expected number of participants is ``n_participants``;
* outcome: eGFR change per year ``= β0 + x'β + effect × treated + ε``, ``ε ~ N(0, sigma²)``,
  so the true ATT on the change per year is ``effect`` and, when the regression is right, a
  participant's actual change exceeds the no-programme prediction with probability
  ``Φ(effect / sigma)`` (the Kobe "suppression rate"; 0.5 with no effect);
* the follow-up check is missing at random (more often for older people) for about
  ``followup_missing`` of the pool.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
from scipy.special import ndtr

from pfseval.checks import require_columns
from pfseval.synthetic._common import (
    SyntheticDataset,
    SyntheticOptionError,
    calibrate_intercept,
    creatinine_and_egfr,
    dipstick_from_latent,
    expit,
    jsn_egfr,
    nan_where,
    person_ids,
)

__all__ = [
    "KOBE_COLUMNS",
    "OUTCOME_COEF",
    "PARTICIPATION_COEF",
    "POOL_DEFINITION",
    "candidate_pool",
    "kobe_from_population",
    "kobe_programme",
]

#: Outcome model for the eGFR change per year (mL/min/1.73m²/yr) without the programme:
#: ``change = intercept + Σ coef × term``; the terms are centred baseline covariates.
OUTCOME_COEF: dict[str, float] = {
    "intercept": -0.8,
    "age_c": -0.03,  # per year of age above 60
    "male": -0.2,
    "hba1c_c": -0.45,  # per % above 7.0
    "sbp_c": -0.025,  # per mmHg above 130
    "egfr_c": 0.01,  # per mL/min/1.73m² above 70 (slightly faster decline when lower)
    "urine_protein": -0.7,  # per dipstick grade
    "bmi_c": -0.04,  # per kg/m² above 24
    "smoking": -0.3,
}

#: Participation (propensity) model, logit scale, same centred terms; intercept calibrated.
PARTICIPATION_COEF: dict[str, float] = {
    "age_c": -0.04,
    "male": 0.1,
    "hba1c_c": 0.6,
    "sbp_c": 0.01,
    "egfr_c": -0.03,
    "urine_protein": 0.45,
    "bmi_c": 0.03,
    "smoking": -0.2,
    "med_glucose": -0.8,
}

KOBE_COLUMNS: dict[str, str] = {
    "person_id": "anonymised person id (str)",
    "treated": "1 = programme participant, 0 = non-participant of the candidate pool",
    "age": "age at the baseline check (years)",
    "sex": "1 = male, 2 = female",
    "bmi": "body-mass index at baseline (kg/m²)",
    "sbp": "systolic blood pressure at baseline (mmHg)",
    "dbp": "diastolic blood pressure at baseline (mmHg)",
    "hba1c": "HbA1c at baseline (% NGSP)",
    "fpg": "fasting plasma glucose at baseline (mg/dL)",
    "egfr": "eGFR at baseline (mL/min/1.73m², JSN equation, 1 decimal)",
    "urine_protein": "urine protein dipstick at baseline (0 −, 1 ±, 2 +, 3 2+, 4 3+)",
    "med_bp": "on blood-pressure medication (0/1)",
    "med_glucose": "on glucose-lowering medication (0/1)",
    "smoking": "current smoker (0/1)",
    "egfr_follow": "eGFR at the follow-up check (NaN when there is no follow-up record)",
    "followup_years": "years between the baseline and follow-up checks",
    "completed": "participants: completed the programme (0/1); NaN for non-participants",
    "lifestyle_diet": "participants who completed: diet improved (0/1); else NaN",
    "lifestyle_exercise": "participants who completed: exercise improved (0/1); else NaN",
    "lifestyle_monitoring": "participants who completed: self-monitoring improved (0/1); else NaN",
    "lifestyle_medication": "participants who completed: medication adherence improved (0/1); else NaN",
    "lifestyle_improved": "participants: improved in at least 3 of the 4 domains (0/1); NaN for others",
}


def _baseline_pool(rng: np.random.Generator, n: int) -> dict[str, np.ndarray]:
    """Baseline covariates of a diabetic-nephropathy-risk candidate pool."""
    # Age: NHI members 40-74, older ages over-represented (retirees join NHI).
    age = np.clip(np.round(74.0 - 34.0 * rng.beta(1.3, 2.2, n)), 40, 74).astype(np.int64)
    sex = np.where(rng.random(n) < 0.58, 1, 2).astype(np.int64)  # more men in the risk pool
    male = (sex == 1).astype(float)
    age_c = age - 60.0
    bmi = np.round(24.5 + 0.6 * male - 0.03 * age_c + rng.normal(0.0, 3.6, n), 1)
    bmi = np.clip(bmi, 15.0, 45.0)
    sbp = 127.0 + 7.0 * male + 0.35 * age_c + 0.9 * (bmi - 24.0) + rng.normal(0.0, 15.0, n)
    sbp = np.clip(np.round(sbp), 85, 220)
    dbp = np.clip(np.round(0.45 * sbp + 17.0 + 2.0 * male + rng.normal(0.0, 8.0, n)), 45, 130)
    # A risk pool: HbA1c mostly in the diabetic range (right-skewed).
    hba1c = np.round(6.2 + rng.gamma(2.0, 0.45, n) + 0.02 * (bmi - 24.0), 1)
    hba1c = np.clip(hba1c, 5.0, 14.0)
    fpg = np.round(28.7 * hba1c - 60.0 + rng.normal(0.0, 14.0, n))
    fpg = np.clip(fpg, 70, 450)
    up_latent = 0.55 * (hba1c - 7.0) + 0.02 * (sbp - 130.0) + rng.normal(0.0, 1.0, n)
    urine_protein = dipstick_from_latent(up_latent, (0.2, 0.9, 1.6, 2.4))
    egfr_latent = (
        76.0 - 0.45 * age_c - 2.5 * urine_protein - 0.8 * (hba1c - 7.0) + rng.normal(0.0, 13.0, n)
    )
    egfr = np.round(np.clip(egfr_latent, 12.0, 140.0), 1)
    med_bp = (rng.random(n) < expit(-1.3 + 0.045 * (sbp - 140.0) + 0.04 * age_c)).astype(np.int64)
    med_glucose = (rng.random(n) < expit(-0.6 + 0.5 * (hba1c - 7.0) + 0.02 * age_c)).astype(
        np.int64
    )
    smoking = (rng.random(n) < expit(-1.2 + 1.1 * male - 0.03 * age_c)).astype(np.int64)
    return {
        "age": age,
        "sex": sex,
        "bmi": bmi,
        "sbp": sbp,
        "dbp": dbp,
        "hba1c": hba1c,
        "fpg": fpg,
        "egfr": egfr,
        "urine_protein": urine_protein,
        "med_bp": med_bp,
        "med_glucose": med_glucose,
        "smoking": smoking,
    }


def model_terms(cov: dict[str, np.ndarray] | pd.DataFrame) -> dict[str, np.ndarray]:
    """The centred terms used by :data:`OUTCOME_COEF` and :data:`PARTICIPATION_COEF`."""

    def col(name: str) -> np.ndarray:
        return np.asarray(cov[name], dtype=float)

    return {
        "age_c": col("age") - 60.0,
        "male": (col("sex") == 1).astype(float),
        "hba1c_c": col("hba1c") - 7.0,
        "sbp_c": col("sbp") - 130.0,
        "egfr_c": col("egfr") - 70.0,
        "urine_protein": col("urine_protein"),
        "bmi_c": col("bmi") - 24.0,
        "smoking": col("smoking"),
        "med_glucose": col("med_glucose"),
    }


def _linear(terms: dict[str, np.ndarray], coef: dict[str, float]) -> np.ndarray:
    n = len(next(iter(terms.values())))
    out = np.full(n, coef.get("intercept", 0.0))
    for k, b in coef.items():
        if k != "intercept":
            out = out + b * terms[k]
    return out


def _programme_outputs(
    rng: np.random.Generator, treated: np.ndarray, completion: float, improvement: float
) -> dict[str, np.ndarray]:
    """Completion and lifestyle-domain flags for participants (NaN for others)."""
    n = len(treated)
    is_t = treated == 1
    completed = nan_where((rng.random(n) < completion).astype(float), ~is_t)
    has_domains = is_t & (completed == 1)
    out: dict[str, np.ndarray] = {"completed": completed}
    count = np.zeros(n)
    for dom, shift in (
        ("diet", 0.0),
        ("exercise", -0.05),
        ("monitoring", 0.03),
        ("medication", 0.0),
    ):
        flag = (rng.random(n) < min(max(improvement + shift, 0.0), 1.0)).astype(float)
        count += flag
        out[f"lifestyle_{dom}"] = nan_where(flag, ~has_domains)
    improved = np.where(has_domains, (count >= 3).astype(float), 0.0)
    out["lifestyle_improved"] = nan_where(improved, ~is_t)
    return out


def kobe_programme(
    *,
    seed: int,
    n_pool: int = 5000,
    n_participants: int = 105,
    effect: float = 1.0,
    sigma: float = 3.0,
    followup_missing: float = 0.12,
    followup_years: float = 3.0,
    completion: float = 0.95,
    improvement: float = 0.85,
) -> SyntheticDataset:
    """A Kobe-style candidate pool with participants selected on observables.

    Parameters
    ----------
    seed
        Random seed; the same seed gives the same data.
    n_pool
        People in the candidate pool (participants + non-participants).
    n_participants
        Expected number of participants; participation is Bernoulli with a calibrated logistic
        propensity, so the realised number varies around it (recorded in ``truth``).
    effect
        True programme effect on the eGFR change per year (mL/min/1.73m²/yr less decline for
        participants); the true ATT.
    sigma
        Standard deviation of the outcome noise (mL/min/1.73m²/yr).
    followup_missing
        Approximate share of the pool without a follow-up check (missing at random given age).
    followup_years
        Mean years between the checks (each person varies by ±0.25 years).
    completion
        Probability a participant completes the programme.
    improvement
        Probability a completer improves in a lifestyle domain (per domain, independently).

    Returns
    -------
    SyntheticDataset
        ``data`` in the Kobe schema (see ``columns``); ``truth`` holds ``effect``, ``att``,
        ``sigma``, ``outcome_coef``, ``participation_coef`` (with the calibrated intercept),
        ``suppression_rate_true = Φ(effect / sigma)``, ``suppression_reference_true = 0.5``,
        the realised counts and ``naive_bias`` (the difference in mean no-programme change
        between participants and non-participants in this sample: what a naive comparison
        adds to ``effect``).

    Examples
    --------
    >>> ds = kobe_programme(seed=1, n_pool=2000, n_participants=60)
    >>> int(ds.data["treated"].sum()) == ds.truth["n_participants_realised"]
    True
    >>> round(ds.truth["suppression_rate_true"], 3)
    0.631
    """
    if n_pool < 2 or not 0 < n_participants < n_pool:
        raise SyntheticOptionError(
            f"n_participants ({n_participants}) must be between 1 and n_pool - 1 ({n_pool - 1})"
        )
    if sigma <= 0:
        raise SyntheticOptionError(f"sigma must be positive, got {sigma}")
    if not 0 <= followup_missing < 1:
        raise SyntheticOptionError(f"followup_missing must be in [0, 1), got {followup_missing}")
    rng = np.random.default_rng(seed)
    cov = _baseline_pool(rng, n_pool)
    terms = model_terms(cov)

    lin_ps = _linear(terms, PARTICIPATION_COEF)
    a_ps = calibrate_intercept(lin_ps, float(n_participants))
    ps = expit(a_ps + lin_ps)
    treated = (rng.random(n_pool) < ps).astype(np.int64)

    mu0 = _linear(terms, OUTCOME_COEF)
    noise = rng.normal(0.0, sigma, n_pool)
    change = mu0 + effect * treated + noise
    fy = np.round(followup_years + rng.uniform(-0.25, 0.25, n_pool), 2)
    egfr_follow = np.round(cov["egfr"] + change * fy, 1)

    # Missing follow-up: logistic in age, intercept calibrated to the requested share.
    miss_lin = 0.04 * terms["age_c"]
    if followup_missing > 0:
        a_m = calibrate_intercept(miss_lin, followup_missing * n_pool)
        missing = rng.random(n_pool) < expit(a_m + miss_lin)
    else:
        a_m = -np.inf
        missing = np.zeros(n_pool, dtype=bool)
    egfr_follow = nan_where(egfr_follow, missing)

    prog = _programme_outputs(rng, treated, completion, improvement)
    data = pd.DataFrame(
        {
            "person_id": person_ids("K", n_pool, width=6),
            "treated": treated,
            **cov,
            "egfr_follow": egfr_follow,
            "followup_years": fy,
            **prog,
        }
    )
    is_t = treated == 1
    truth: dict[str, Any] = {
        "effect": float(effect),
        "att": float(effect),
        "estimand": "ATT on the eGFR change per year (mL/min/1.73m²/yr); positive = less decline",
        "sigma": float(sigma),
        "outcome_model": "change = intercept + sum(coef * term) + effect * treated + N(0, sigma^2); "
        "terms: age_c = age - 60, male = (sex == 1), hba1c_c = hba1c - 7, sbp_c = sbp - 130, "
        "egfr_c = egfr - 70, urine_protein (grade), bmi_c = bmi - 24, smoking",
        "outcome_coef": dict(OUTCOME_COEF),
        "participation_coef": {"intercept": float(a_ps), **PARTICIPATION_COEF},
        "followup_missing_coef": {"intercept": float(a_m), "age_c": 0.04},
        "suppression_rate_true": float(ndtr(effect / sigma)),
        "suppression_reference_true": 0.5,
        "suppression_rate_sample": float(np.mean(effect + noise[is_t] > 0)) if is_t.any() else None,
        "att_sample": float(effect),
        "naive_bias": float(mu0[is_t].mean() - mu0[~is_t].mean()) if is_t.any() else None,
        "n_pool": int(n_pool),
        "n_participants_expected": int(n_participants),
        "n_participants_realised": int(is_t.sum()),
        "n_missing_followup": int(missing.sum()),
        "seed": int(seed),
    }
    return SyntheticDataset(
        name="kobe",
        data=data,
        truth=truth,
        description=(
            "Kobe-style diabetic-nephropathy programme: a candidate pool at the baseline "
            "health check, participants selected on observables (higher HbA1c, lower eGFR, "
            "proteinuria, younger, not on glucose medication), eGFR at a follow-up check about "
            f"{followup_years:g} years later, missing for about {followup_missing:.0%}. The "
            f"programme slows eGFR decline by {effect:g} mL/min/1.73m²/yr."
        ),
        columns=KOBE_COLUMNS,
    )


#: Candidate-pool definition used by :func:`kobe_from_population` (baseline year values).
POOL_DEFINITION = (
    "diabetes (hba1c >= 6.5 or fpg >= 126 or med_glucose == 1) and a kidney sign "
    "(urine_protein >= 1 (±) or egfr < 60), with egfr measured and >= 30 "
    "(diabetic-nephropathy stages 2-3 as seen at the check), aged at most 74 minus the years "
    "to follow-up (71 for 2016 -> 2019), so still insured at the follow-up check"
)

_BASELINE_COVARIATES = (
    "age",
    "sex",
    "bmi",
    "sbp",
    "dbp",
    "hba1c",
    "fpg",
    "egfr",
    "urine_protein",
    "med_bp",
    "med_glucose",
    "smoking",
)


def candidate_pool(extract: pd.DataFrame, *, max_age: int = 71) -> pd.Series:
    """Boolean mask of the diabetic-nephropathy candidate pool in one year's extract.

    The definition is :data:`POOL_DEFINITION` (``max_age`` is its age limit).

    Examples
    --------
    >>> ex = pd.DataFrame({"age": [60, 66], "hba1c": [7.0, 5.5], "fpg": [140, 90],
    ...                    "med_glucose": [0, 0], "urine_protein": [1, 2], "egfr": [70.0, 50.0]})
    >>> candidate_pool(ex).tolist()
    [True, False]
    """
    diabetic = (extract["hba1c"] >= 6.5) | (extract["fpg"] >= 126) | (extract["med_glucose"] == 1)
    kidney = (extract["urine_protein"] >= 1) | (extract["egfr"] < 60)
    ok = diabetic & kidney & (extract["egfr"] >= 30) & (extract["age"] <= max_age)
    return ok.fillna(False).astype(bool)


def kobe_from_population(
    pop: pd.DataFrame,
    *,
    seed: int,
    n_participants: int | None = None,
    effect: float = 1.0,
    baseline_year: int = 2016,
    followup_year: int = 2019,
    completion: float = 0.95,
    improvement: float = 0.85,
) -> SyntheticDataset:
    """A Kobe-style programme run inside a synthetic municipality (for batch runs).

    The candidate pool is the baseline-year extract's people meeting :data:`POOL_DEFINITION`;
    participants are drawn from it with the logistic participation model
    :data:`PARTICIPATION_COEF` (intercept calibrated to ``n_participants``). The programme adds
    ``effect × (year − baseline_year)`` to the eGFR of participants in every later year (the
    creatinine is recomputed so the JSN equation still holds), so the true ATT on the eGFR
    change per year is ``effect``.

    Parameters
    ----------
    pop
        A frame from :func:`~pfseval.synthetic.population` covering both years.
    seed
        Random seed (participation and programme outputs).
    n_participants
        Expected participants; default ``min(105, pool size // 4)``.
    effect
        True effect on the eGFR change per year (mL/min/1.73m²/yr less decline).
    baseline_year, followup_year
        The fiscal years of the baseline and follow-up extracts.
    completion, improvement
        As in :func:`kobe_programme`.

    Returns
    -------
    SyntheticDataset
        ``data``: the Kobe-schema wide table of the pool (linked for convenience);
        ``tables["population"]``: the population with the participants' eGFR and creatinine
        changed by the programme (write the per-year extracts from it);
        ``tables["participants"]``: ``person_id`` and the programme outputs of participants.
        ``truth``: ``effect``, ``att`` and ``att_sample`` (the mean over participants with
        follow-up of the change the programme made to their eGFR change per year: ``effect``
        up to lab rounding), ``naive_bias`` (sample), pool and participation details.
        Unlike :func:`kobe_programme`, the no-programme eGFR change is not exactly linear in the
        baseline covariates here (it runs through latent person traits), so no exact
        suppression rate is recorded.

    Examples
    --------
    >>> from pfseval.synthetic import population
    >>> pop = population(persons=4000, seed=5)
    >>> ds = kobe_from_population(pop, seed=5, effect=1.0)
    >>> ds.truth["att"], len(ds.tables["participants"]) == ds.truth["n_participants_realised"]
    (1.0, True)
    """
    if followup_year <= baseline_year:
        raise SyntheticOptionError(
            f"followup_year ({followup_year}) must be after baseline_year ({baseline_year})"
        )
    needed = ("person_id", "fiscal_year", "creatinine", *_BASELINE_COVARIATES)
    require_columns(pop, needed, context="kobe_from_population")
    years = set(pop["fiscal_year"].unique().tolist())
    for y in (baseline_year, followup_year):
        if y not in years:
            raise SyntheticOptionError(
                f"the population has no fiscal_year {y}; it covers {sorted(years)}"
            )
    rng = np.random.default_rng(seed)
    base = pop.loc[pop["fiscal_year"] == baseline_year]
    max_age = 74 - (followup_year - baseline_year)
    pool = base.loc[candidate_pool(base, max_age=max_age)].reset_index(drop=True)
    n_pool = len(pool)
    if n_pool < 8:
        raise SyntheticOptionError(
            f"the candidate pool has only {n_pool} people; generate a larger population"
        )
    k = min(105, n_pool // 4) if n_participants is None else int(n_participants)
    if not 0 < k < n_pool:
        raise SyntheticOptionError(
            f"n_participants ({k}) must be between 1 and the pool size - 1 ({n_pool - 1})"
        )
    terms = model_terms(pool)
    lin_ps = _linear(terms, PARTICIPATION_COEF)
    a_ps = calibrate_intercept(lin_ps, float(k))
    treated = (rng.random(n_pool) < expit(a_ps + lin_ps)).astype(np.int64)
    prog = _programme_outputs(rng, treated, completion, improvement)
    part_ids = pool["person_id"].to_numpy(dtype=object)[treated == 1]

    # Apply the programme to participants' later eGFR values (creatinine kept consistent).
    new_pop = pop.copy()
    rows = (
        new_pop["person_id"].isin(part_ids)
        & (new_pop["fiscal_year"] > baseline_year)
        & new_pop["egfr"].notna()
    ).to_numpy()
    sub = new_pop.loc[rows]
    dy = (sub["fiscal_year"].to_numpy() - baseline_year).astype(float)
    age = sub["age"].to_numpy(dtype=float)
    sex = sub["sex"].to_numpy()
    # Continuous eGFR implied by the reported creatinine, plus the programme's effect.
    latent = jsn_egfr(sub["creatinine"].to_numpy(dtype=float), age, sex)
    cr, eg = creatinine_and_egfr(latent + effect * dy, age, sex)
    new_pop.loc[rows, "creatinine"] = cr
    new_pop.loc[rows, "egfr"] = eg

    fol_new = new_pop.loc[new_pop["fiscal_year"] == followup_year, ["person_id", "egfr"]]
    fol_old = pop.loc[pop["fiscal_year"] == followup_year, ["person_id", "egfr"]]
    ids = pool["person_id"]
    egfr_follow = ids.map(fol_new.set_index("person_id")["egfr"]).to_numpy(dtype=float)
    egfr_follow0 = ids.map(fol_old.set_index("person_id")["egfr"]).to_numpy(dtype=float)
    fy = float(followup_year - baseline_year)
    data = pd.DataFrame(
        {
            "person_id": ids.to_numpy(dtype=object),
            "treated": treated,
            **{c: pool[c].to_numpy() for c in _BASELINE_COVARIATES},
            "egfr_follow": egfr_follow,
            "followup_years": np.full(n_pool, fy),
            **prog,
        }
    )
    participants = data.loc[data["treated"] == 1, ["person_id", *prog]].reset_index(drop=True)
    has_f = ~np.isnan(egfr_follow)
    is_t = treated == 1
    change0 = (egfr_follow0 - data["egfr"].to_numpy(dtype=float)) / fy
    att_sample = (
        float(np.mean((egfr_follow - egfr_follow0)[is_t & has_f]) / fy)
        if (is_t & has_f).any()
        else None
    )
    truth: dict[str, Any] = {
        "effect": float(effect),
        "att": float(effect),
        "att_sample": att_sample,
        "estimand": "ATT on the eGFR change per year (mL/min/1.73m²/yr); positive = less decline",
        "baseline_year": int(baseline_year),
        "followup_year": int(followup_year),
        "pool_definition": POOL_DEFINITION,
        "participation_coef": {"intercept": float(a_ps), **PARTICIPATION_COEF},
        "naive_bias": float(np.nanmean(change0[is_t & has_f]) - np.nanmean(change0[~is_t & has_f]))
        if (is_t & has_f).any() and (~is_t & has_f).any()
        else None,
        "suppression_reference_true": 0.5,
        "n_pool": int(n_pool),
        "n_participants_expected": int(k),
        "n_participants_realised": int(is_t.sum()),
        "n_missing_followup": int((~has_f).sum()),
        "seed": int(seed),
    }
    return SyntheticDataset(
        name="kobe",
        data=data,
        truth=truth,
        description=(
            f"Kobe-style programme in a synthetic municipality: candidate pool from the "
            f"{baseline_year} extract ({POOL_DEFINITION}); participants selected on observables; "
            f"eGFR in the {followup_year} extract, missing when the person left, skipped the "
            f"check or had no creatinine measured. The programme slows eGFR decline by "
            f"{effect:g} mL/min/1.73m²/yr."
        ),
        columns=KOBE_COLUMNS,
        tables={"population": new_pop, "participants": participants},
    )
