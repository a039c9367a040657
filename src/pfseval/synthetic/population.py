"""A synthetic municipality: National Health Insurance members' 特定健診 records over years.

The generating model is documented in ``docs/synthetic.md``; in short:

* **Membership.** ``persons`` distinct people are NHI members aged 40–74 at some time in the
  period: about 72% are members in the first year (ages 40–74, older ages more common, as in
  NHI), about 10% join when they turn 40 and the rest move in later (more than half at
  retirement ages 60–66). Members leave when they turn 75 (後期高齢者医療), move out or
  change insurer (6%/year under 60, 3%/year from 60), or die (Gompertz hazard
  ``exp(−9.8 + 0.085 × age)``).
* **Attendance.** Each person has a persistent attendance propensity ``~ Beta(0.35, 0.4)``
  (mean 0.47; most people attend almost always or almost never); one row is produced per member-year with a check.
* **Values.** Person-level random effects plus age, sex and year-to-year noise, with the
  clinically expected correlations (BMI ↔ waist, SBP, TG, HDL, HbA1c; HbA1c ↔ FPG ↔ urine
  glucose; proteinuria ↔ HbA1c, SBP and faster eGFR decline). Medication becomes more likely as
  the underlying values rise and lowers the measured values.
* **Kidney.** Latent eGFR = person level (mean 76, SD ≈ 14, −0.36 per year of age) + a
  personal slope (−0.36 mL/min/1.73m²/yr on average, about −0.9 with persistent proteinuria,
  faster with diabetes) + measurement noise; creatinine is its JSN inverse to 2 decimals and
  ``egfr`` is the JSN eGFR from that creatinine to 1 decimal. Both are missing (a detailed item
  not measured) for 5% of records and, for a quarter of persons, whenever their BP and glucose
  are below the guidance levels (about 9% of records in all).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd

from pfseval.synthetic._common import (
    SyntheticOptionError,
    creatinine_and_egfr,
    dipstick_from_latent,
    expit,
    within_ranges,
)

__all__ = ["POPULATION_COLUMNS", "POPULATION_PARAMETERS", "population"]

#: Columns of :func:`population`, in order, with a short description.
POPULATION_COLUMNS: dict[str, str] = {
    "person_id": "anonymised person id (str)",
    "fiscal_year": "fiscal year of the check",
    "age": "age at the check (years)",
    "sex": "1 = male, 2 = female",
    "height": "height (cm)",
    "weight": "weight (kg)",
    "bmi": "body-mass index (kg/m²)",
    "waist": "waist circumference (cm)",
    "sbp": "systolic blood pressure (mmHg)",
    "dbp": "diastolic blood pressure (mmHg)",
    "tg": "triglycerides (mg/dL)",
    "hdl": "HDL cholesterol (mg/dL)",
    "ldl": "LDL cholesterol (mg/dL)",
    "ast": "AST (U/L)",
    "alt": "ALT (U/L)",
    "ggt": "γ-GT (U/L)",
    "fpg": "fasting plasma glucose (mg/dL)",
    "hba1c": "HbA1c (% NGSP)",
    "urine_protein": "urine protein dipstick (0 −, 1 ±, 2 +, 3 2+, 4 3+)",
    "urine_glucose": "urine glucose dipstick (0 −, 1 ±, 2 +, 3 2+, 4 3+)",
    "creatinine": "serum creatinine (mg/dL); NaN when not measured",
    "egfr": "eGFR by the JSN equation from creatinine (mL/min/1.73m², 1 decimal); NaN when "
    "creatinine was not measured",
    "med_bp": "on blood-pressure medication (0/1)",
    "med_glucose": "on glucose-lowering medication (0/1)",
    "med_lipid": "on lipid-lowering medication (0/1)",
    "smoking": "current smoker (0/1)",
    "exercise": "has an exercise habit (0/1)",
    "insurer_code": "insurer number (str; synthetic)",
    "municipality_code": "municipality code (str)",
}

#: Main parameters of the generating model (written to metadata.json).
POPULATION_PARAMETERS: dict[str, Any] = {
    "share_initial_members": 0.72,
    "share_turning_40": 0.10,
    "share_moving_in": 0.18,
    "leave_hazard_under_60": 0.06,
    "leave_hazard_60_plus": 0.03,
    "death_hazard": "exp(-9.8 + 0.085 * age)",
    "attendance_propensity": "Beta(0.35, 0.4)",
    "egfr_mean_at_60": 76.0,
    "egfr_age_gradient": -0.36,
    "egfr_slope_mean": -0.36,
    "egfr_slope_extra_proteinuria": -0.55,
    "egfr_slope_extra_diabetes": -0.2,
    "detailed_items_missing": "25% of persons never unless BP or glucose is raised; 5% of all records",
    "sbp_mean_at_62": {"male": 134.0, "female": 127.0},
}


def _members(
    rng: np.random.Generator, persons: int, n_years: int
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Person index and year index of every check, plus the age at year index 0."""
    n_init = round(0.72 * persons) if n_years > 1 else persons
    n_40 = round(0.10 * persons) if n_years > 1 else 0
    n_in = persons - n_init - n_40
    # Initial members: ages 40-74, weight growing with age (retirees join NHI).
    ages = np.arange(40, 75)
    w = np.exp(0.05 * (ages - 40))
    age0_init = rng.choice(ages, size=n_init, p=w / w.sum())
    entry_40 = rng.integers(1, max(n_years, 2), n_40)
    entry_in = rng.integers(1, max(n_years, 2), n_in)
    retire = rng.random(n_in) < 0.55
    age_at_entry = np.where(retire, rng.integers(60, 67, n_in), rng.integers(40, 74, n_in))
    age0 = np.concatenate([age0_init, 40 - entry_40, age_at_entry - entry_in]).astype(np.int64)
    entry = np.concatenate([np.zeros(n_init, np.int64), entry_40, entry_in])

    t = np.arange(n_years)
    age = age0[:, None] + t[None, :]
    leave_h = np.where(age < 60, 0.06, 0.03) + np.exp(-9.8 + 0.085 * age)
    event = (rng.random(age.shape) < leave_h) & (t[None, :] > entry[:, None])
    left = np.cumsum(event, axis=1) > 0
    member = (t[None, :] >= entry[:, None]) & ~left & (age >= 40) & (age <= 74)
    attend_p = rng.beta(0.35, 0.4, persons)
    attend = member & (rng.random(age.shape) < attend_p[:, None])
    pi, ti = np.nonzero(attend)
    return pi, ti, age0


def population(
    *,
    persons: int,
    seed: int,
    years: Sequence[int] | range = range(2016, 2024),
    municipality_code: str = "281000",
) -> pd.DataFrame:
    """A municipality's NHI members' health-check records over fiscal years (long format).

    Parameters
    ----------
    persons
        Distinct people who are NHI members aged 40–74 at some time in the period. Each
        appears in the years they were members and attended the check, so the number of rows
        is about ``2.3 × persons`` for 8 years.
    seed
        Random seed; the same seed gives an identical frame.
    years
        Consecutive fiscal years.
    municipality_code
        Municipality code written to ``municipality_code`` (the default is Kobe's, 281000).

    Returns
    -------
    pandas.DataFrame
        One row per (person_id, fiscal_year) check with the canonical vocabulary columns
        (:data:`POPULATION_COLUMNS`), sorted by fiscal year then person id.

    Examples
    --------
    >>> pop = population(persons=500, seed=1)
    >>> bool(pop["age"].between(40, 74).all())
    True
    >>> bool(pop.duplicated(["person_id", "fiscal_year"]).any())
    False
    """
    yrs = np.asarray(list(years), dtype=np.int64)
    if persons < 1:
        raise SyntheticOptionError(f"persons must be at least 1, got {persons}")
    if len(yrs) < 1 or np.any(np.diff(yrs) != 1):
        raise SyntheticOptionError(f"years must be consecutive fiscal years, got {list(yrs)}")
    rng = np.random.default_rng(seed)
    pi, ti, age0 = _members(rng, persons, len(yrs))
    n = len(pi)

    # ---- person-level characteristics
    sex_p = np.where(rng.random(persons) < 0.46, 1, 2).astype(np.int64)
    male_p = (sex_p == 1).astype(float)
    height_p = np.where(sex_p == 1, 170.0, 157.0) - 0.12 * (age0 - 55) + rng.normal(0, 5.8, persons)
    bmi_p = np.where(sex_p == 1, 23.8, 22.3) + rng.normal(0, 3.2, persons)
    re_sbp = rng.normal(0, 11.0, persons)
    glu_p = 0.28 * rng.normal(size=persons) + (rng.random(persons) < 0.13) * rng.gamma(
        2.0, 0.55, persons
    )
    re_tg = rng.normal(0, 0.38, persons)
    re_hdl = rng.normal(0, 11.0, persons)
    re_ldl = rng.normal(0, 27.0, persons)
    re_liver = rng.normal(0, 0.3, persons)
    re_ggt = rng.normal(0, 0.5, persons)
    prot_p = rng.normal(size=persons) + 0.6 * glu_p + re_sbp / 30.0
    proteinuric = prot_p > 1.4
    egfr0_p = (
        76.0 - 0.36 * (age0 - 60) - 3.0 * proteinuric + rng.normal(0, 13.0, persons)
    )  # at year index 0
    slope_p = -0.36 - 0.55 * proteinuric - 0.2 * (glu_p > 0.6) + rng.normal(0, 0.3, persons)
    u_bp, u_glu, u_lip, u_smk, u_ex = rng.random((5, persons))
    never_detailed = rng.random(persons) < 0.25
    id_serial = rng.permutation(persons) + 1
    pid_p = np.char.add("P", np.char.zfill(id_serial.astype(str), 8)).astype(object)

    # ---- per-record values (vectorised over the n checks)
    t = ti.astype(float)
    age = age0[pi] + ti
    sex = sex_p[pi]
    male = male_p[pi]
    agec = age - 60.0

    # Height and weight are kept within the vocabulary's ranges: with hundreds of thousands
    # of people a short person with a low BMI would otherwise weigh under 25 kg, a value
    # pfseval's own validation rejects.
    height = np.round(np.clip(height_p[pi] + rng.normal(0, 0.4, n), 120.0, 220.0), 1)
    bmi_lat = np.clip(bmi_p[pi] + rng.normal(0, 0.5, n), 15.0, 45.0)
    weight = np.clip(np.round(bmi_lat * (height / 100.0) ** 2, 1), 25.0, 250.0)
    bmi = np.round(weight / (height / 100.0) ** 2, 1)
    bmi_dev = bmi - np.where(sex == 1, 23.8, 22.3)
    waist = np.round(np.where(sex == 1, 85.0, 83.0) + 2.4 * bmi_dev + rng.normal(0, 3.5, n), 1)

    sbp_lat = (
        np.where(sex == 1, 134.0, 127.0)
        + 0.45 * (age - 62.0)
        + 1.0 * bmi_dev
        + re_sbp[pi]
        + rng.normal(0, 8.0, n)
    )
    med_bp = (u_bp[pi] < expit(-1.3 + 0.07 * (sbp_lat - 140.0) + 0.05 * agec)).astype(np.int64)
    sbp = np.round(np.clip(sbp_lat - 4.0 * med_bp + 2.0, 80, 250))
    dbp = np.round(np.clip(0.45 * sbp + 17.0 + 3.0 * male + rng.normal(0, 6.0, n), 40, 140))

    hba1c_lat = 5.45 + 0.008 * (age - 40.0) + 0.03 * bmi_dev + glu_p[pi] + rng.normal(0, 0.12, n)
    med_glucose = (u_glu[pi] < expit(-1.0 + 2.2 * (hba1c_lat - 6.8))).astype(np.int64)
    hba1c = np.round(np.clip(hba1c_lat - 0.3 * med_glucose, 4.0, 15.0), 1)
    fpg = np.round(np.clip(28.7 * hba1c - 65.0 + rng.normal(0, 9.0, n), 60, 500))
    urine_glucose = dipstick_from_latent(
        (fpg - 170.0) / 35.0 + rng.normal(0, 0.7, n), (0.0, 0.5, 1.2, 2.0)
    )

    log_tg = np.log(100.0) + 0.045 * bmi_dev + 0.15 * male + re_tg[pi] + rng.normal(0, 0.25, n)
    tg = np.round(np.clip(np.exp(log_tg), 20, 3000))
    hdl = np.round(
        np.clip(
            64.0
            - 9.0 * male
            - 1.1 * bmi_dev
            - 9.0 * (log_tg - np.log(100.0))
            + re_hdl[pi]
            + rng.normal(0, 4.0, n),
            15,
            150,
        )
    )
    ldl_lat = (
        122.0
        + 0.8 * bmi_dev
        + 8.0 * ((sex == 2) & (age >= 55))
        + re_ldl[pi]
        + rng.normal(0, 10.0, n)
    )
    med_lipid = (
        u_lip[pi] < expit(-1.8 + 0.035 * (ldl_lat - 140.0) + 0.04 * agec + 0.3 * (sex == 2))
    ).astype(np.int64)
    ldl = np.round(np.clip(ldl_lat - 25.0 * med_lipid, 30, 400))
    liver = re_liver[pi] + 0.03 * bmi_dev + rng.normal(0, 0.15, n)
    ast = np.round(np.clip(np.exp(np.log(22.0) + 0.7 * liver), 8, 500))
    alt = np.round(np.clip(np.exp(np.log(19.0) + 0.15 * male + 1.1 * liver), 5, 600))
    ggt = np.round(
        np.clip(
            np.exp(np.log(24.0) + 0.35 * male + 0.5 * liver + re_ggt[pi] + rng.normal(0, 0.15, n)),
            5,
            1500,
        )
    )

    prot_z = prot_p[pi] + 0.3 * (hba1c - 5.6) + 0.012 * (sbp - 130.0) + rng.normal(0, 0.45, n)
    urine_protein = dipstick_from_latent(prot_z, (1.55, 2.0, 2.6, 3.2))

    egfr_lat = np.clip(egfr0_p[pi] + slope_p[pi] * t + rng.normal(0, 2.5, n), 4.0, 160.0)
    creatinine, egfr = creatinine_and_egfr(egfr_lat, age.astype(float), sex)
    # Creatinine is a detailed item (詳細健診): measured when BP or glucose is raised, and
    # for everyone else only where the municipality adds it (not for 25% of persons).
    raised = (sbp >= 130) | (dbp >= 85) | (hba1c >= 5.6) | (fpg >= 100)
    no_detail = (never_detailed[pi] & ~raised) | (rng.random(n) < 0.05)
    creatinine[no_detail] = np.nan
    egfr[no_detail] = np.nan

    smoking = (u_smk[pi] < expit(-1.3 + 1.3 * male - 0.03 * (age - 40.0))).astype(np.int64)
    exercise = (0.7 * u_ex[pi] + 0.3 * rng.random(n) < 0.33 + 0.007 * (age - 40.0)).astype(np.int64)

    frame = pd.DataFrame(
        {
            "person_id": pid_p[pi],
            "fiscal_year": yrs[ti],
            "age": age.astype(np.int64),
            "sex": sex,
            "height": height,
            "weight": weight,
            "bmi": bmi,
            "waist": waist,
            "sbp": sbp.astype(np.int64),
            "dbp": dbp.astype(np.int64),
            "tg": tg.astype(np.int64),
            "hdl": hdl.astype(np.int64),
            "ldl": ldl.astype(np.int64),
            "ast": ast.astype(np.int64),
            "alt": alt.astype(np.int64),
            "ggt": ggt.astype(np.int64),
            "fpg": fpg.astype(np.int64),
            "hba1c": hba1c,
            "urine_protein": urine_protein,
            "urine_glucose": urine_glucose,
            "creatinine": creatinine,
            "egfr": egfr,
            "med_bp": med_bp,
            "med_glucose": med_glucose,
            "med_lipid": med_lipid,
            "smoking": smoking,
            "exercise": exercise,
            "insurer_code": municipality_code[:5] + "9",
            "municipality_code": municipality_code,
        }
    )
    order = np.lexsort((id_serial[pi], ti))  # zero-padded ids sort like their serials
    return within_ranges(frame.iloc[order].reset_index(drop=True))
