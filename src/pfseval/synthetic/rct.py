"""Randomised trial: individual or cluster randomisation, optional waitlist second period.

Model (parameters returned in ``truth``):

* baseline covariates age, sex, HbA1c, SBP of people with raised HbA1c;
* individual randomisation within strata (sex × age < 65 / ≥ 65) so each arm has exactly
  ``n_per_arm`` people, or cluster randomisation (half of ``n_clusters`` clusters per arm);
* continuous outcome ``hba1c_change = c0 − 0.25 (hba1c − 7.5) + effect × arm + u_c + ε`` with
  ``var(u_c) = icc × sd²`` and ``var(ε) = (1 − icc) × sd²`` (``u_c = 0`` without clusters), and
  ``hba1c_follow = hba1c + hba1c_change``;
* binary outcome ``goal_met ~ Bernoulli(p0 + 0.004 (age − 62) + binary_effect × arm + v_c)``
  with ``var(v_c) = icc × p0 (1 − p0)``;
* both outcomes missing completely at random with probability ``attrition``.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from pfseval.synthetic._common import SyntheticDataset, SyntheticOptionError, nan_where, person_ids

__all__ = ["RCT_COLUMNS", "randomised_trial"]

RCT_COLUMNS: dict[str, str] = {
    "person_id": "anonymised person id (str)",
    "arm": "1 = intervention, 0 = control",
    "stratum": "randomisation stratum: sex and age group, e.g. 'M<65' (str)",
    "cluster": "cluster (e.g. clinic) id, the unit of randomisation in a cluster trial (str)",
    "period": "waitlist design: 1 = first period, 2 = second period (period-1 controls served)",
    "age": "age at baseline (years)",
    "sex": "1 = male, 2 = female",
    "hba1c": "HbA1c at baseline (% NGSP)",
    "sbp": "systolic blood pressure at baseline (mmHg)",
    "hba1c_follow": "HbA1c at follow-up (% NGSP); NaN when lost to follow-up",
    "hba1c_change": "hba1c_follow − hba1c (% points; negative = improvement); NaN when lost",
    "goal_met": "binary outcome: reached the programme goal (0/1); NaN when lost to follow-up",
}

_C0 = -0.1  # mean HbA1c change in controls at hba1c = 7.5
_SD = 0.6  # total SD of the HbA1c change residual
_P0 = 0.3  # probability of meeting the goal in controls (at age 62)


def _covariates(rng: np.random.Generator, n: int) -> dict[str, np.ndarray]:
    age = rng.integers(40, 75, n).astype(np.int64)
    sex = np.where(rng.random(n) < 0.55, 1, 2).astype(np.int64)
    hba1c = np.clip(np.round(6.5 + rng.gamma(2.5, 0.4, n), 1), 6.0, 13.0)
    sbp = np.clip(
        np.round(128.0 + 6.0 * (sex == 1) + 0.4 * (age - 60) + rng.normal(0, 15, n)), 90, 210
    )
    return {"age": age, "sex": sex, "hba1c": hba1c, "sbp": sbp}


def _stratum(age: np.ndarray, sex: np.ndarray) -> np.ndarray:
    s = np.where(sex == 1, "M", "F").astype(object)
    g = np.where(age < 65, "<65", ">=65").astype(object)
    return s + g


def _assign_individual(rng: np.random.Generator, stratum: np.ndarray, strata: bool) -> np.ndarray:
    """Exactly half per arm; with strata, balanced within each stratum up to one person."""
    n = len(stratum)
    key = rng.random(n)
    order = np.lexsort((key, stratum)) if strata else np.argsort(key)
    arm = np.empty(n, dtype=np.int64)
    arm[order] = (np.arange(n) + int(rng.integers(0, 2))) % 2
    return arm


def _outcomes(
    rng: np.random.Generator,
    cov: dict[str, np.ndarray],
    arm: np.ndarray,
    u_c: np.ndarray,
    v_c: np.ndarray,
    effect: float,
    binary_effect: float,
    icc: float,
    attrition: float,
) -> tuple[dict[str, np.ndarray], np.ndarray]:
    n = len(arm)
    eps = rng.normal(0.0, _SD * np.sqrt(1.0 - icc), n)
    change = _C0 - 0.25 * (cov["hba1c"] - 7.5) + effect * arm + u_c + eps
    follow = np.round(cov["hba1c"] + change, 1)
    p = np.clip(_P0 + 0.004 * (cov["age"] - 62) + binary_effect * arm + v_c, 0.0, 1.0)
    goal = (rng.random(n) < p).astype(float)
    lost = rng.random(n) < attrition
    out = {
        "hba1c_follow": nan_where(follow, lost),
        "hba1c_change": nan_where(np.round(follow - cov["hba1c"], 1), lost),
        "goal_met": nan_where(goal, lost),
    }
    return out, follow


def randomised_trial(
    *,
    seed: int,
    n_per_arm: int = 100,
    effect: float = -0.3,
    binary_effect: float = 0.15,
    cluster: bool = False,
    n_clusters: int = 20,
    icc: float = 0.05,
    strata: bool = True,
    attrition: float = 0.1,
    waitlist: bool = False,
) -> SyntheticDataset:
    """A randomised trial of a glucose-control programme.

    Parameters
    ----------
    seed
        Random seed.
    n_per_arm
        People per arm (exact for individual randomisation; with clusters, clusters of equal
        size ``round(2 × n_per_arm / n_clusters)``).
    effect
        True difference in mean HbA1c change (intervention − control, % points).
    binary_effect
        True risk difference in ``goal_met``.
    cluster
        Randomise clusters instead of people (adds a ``cluster`` column).
    n_clusters
        Number of clusters (even; half per arm) when ``cluster=True``.
    icc
        Intra-cluster correlation of both outcomes' residuals (used only with clusters).
    strata
        Individual randomisation within sex × age-group strata (``stratum`` is always given).
    attrition
        Probability that a person's outcomes are missing (completely at random).
    waitlist
        Add a second period: the period-1 controls receive the programme in period 2 (rows
        with ``period = 2`` and ``arm = 1``; their baseline is their period-1 follow-up).

    Returns
    -------
    SyntheticDataset
        ``truth``: ``mean_difference`` (= ``effect``), ``risk_difference`` (= ``binary_effect``),
        ``icc``, and the model constants.

    Examples
    --------
    >>> ds = randomised_trial(seed=3, n_per_arm=50)
    >>> ds.data["arm"].value_counts().sort_index().tolist()
    [50, 50]
    >>> ds.truth["mean_difference"]
    -0.3
    """
    if n_per_arm < 1:
        raise SyntheticOptionError(f"n_per_arm must be at least 1, got {n_per_arm}")
    if not 0 <= attrition < 1:
        raise SyntheticOptionError(f"attrition must be in [0, 1), got {attrition}")
    if cluster and (n_clusters < 2 or n_clusters % 2):
        raise SyntheticOptionError(f"n_clusters must be an even number ≥ 2, got {n_clusters}")
    if not 0 <= icc < 1:
        raise SyntheticOptionError(f"icc must be in [0, 1), got {icc}")
    rng = np.random.default_rng(seed)
    if cluster:
        size = max(1, round(2 * n_per_arm / n_clusters))
        n = size * n_clusters
        cl = np.repeat(np.arange(n_clusters), size)
        cl_arm = np.zeros(n_clusters, dtype=np.int64)
        cl_arm[rng.permutation(n_clusters)[: n_clusters // 2]] = 1
        arm = cl_arm[cl]
        u = rng.normal(0.0, _SD * np.sqrt(icc), n_clusters)[cl]
        v = rng.normal(0.0, np.sqrt(icc * _P0 * (1 - _P0)), n_clusters)[cl]
    else:
        n = 2 * n_per_arm
        cl = np.zeros(n, dtype=np.int64)
        u = np.zeros(n)
        v = np.zeros(n)
    cov = _covariates(rng, n)
    stratum = _stratum(cov["age"], cov["sex"])
    if not cluster:
        arm = _assign_individual(rng, stratum, strata)
    eff_icc = icc if cluster else 0.0
    outs, follow = _outcomes(rng, cov, arm, u, v, effect, binary_effect, eff_icc, attrition)
    cols: dict[str, Any] = {
        "person_id": person_ids("R", n, width=5),
        "arm": arm,
        "stratum": stratum,
    }
    if cluster:
        cols["cluster"] = np.array([f"C{c + 1:02d}" for c in cl], dtype=object)
    frame = pd.DataFrame({**cols, **cov, **outs})
    if waitlist:
        frame.insert(len(cols), "period", 1)
        wl = np.flatnonzero(arm == 0)
        cov2 = {
            "age": cov["age"][wl] + 1,
            "sex": cov["sex"][wl],
            "hba1c": follow[wl],
            "sbp": cov["sbp"][wl],
        }
        outs2, _ = _outcomes(
            rng,
            cov2,
            np.ones(len(wl), dtype=np.int64),
            u[wl],
            v[wl],
            effect,
            binary_effect,
            eff_icc,
            attrition,
        )
        cols2: dict[str, Any] = {
            "person_id": cols["person_id"][wl],
            "arm": np.ones(len(wl), dtype=np.int64),
            "stratum": stratum[wl],
        }
        if cluster:
            cols2["cluster"] = cols["cluster"][wl]
        cols2["period"] = 2
        frame = pd.concat([frame, pd.DataFrame({**cols2, **cov2, **outs2})], ignore_index=True)
    truth: dict[str, Any] = {
        "mean_difference": float(effect),
        "risk_difference": float(binary_effect),
        "icc": float(icc) if cluster else 0.0,
        "estimand": "difference in mean hba1c_change (and hba1c_follow) and in P(goal_met), "
        "intervention − control",
        "outcome_model": "hba1c_change = c0 - 0.25 (hba1c - 7.5) + effect arm + u_cluster + e; "
        "P(goal_met) = p0 + 0.004 (age - 62) + binary_effect arm + v_cluster",
        "c0": _C0,
        "residual_sd": _SD,
        "p0": _P0,
        "attrition": float(attrition),
        "randomisation": "cluster"
        if cluster
        else ("stratified individual" if strata else "individual"),
        "n_clusters": int(n_clusters) if cluster else 0,
        "waitlist": bool(waitlist),
        "seed": int(seed),
    }
    return SyntheticDataset(
        name="rct",
        data=frame,
        truth=truth,
        description=(
            f"Randomised trial ({truth['randomisation']} randomisation"
            + (", waitlist second period" if waitlist else "")
            + f"): HbA1c change differs by {effect:g} %-points and the goal-attainment risk by "
            f"{binary_effect:g} between arms; outcomes missing for about {attrition:.0%}."
        ),
        columns={k: v for k, v in RCT_COLUMNS.items() if k in frame.columns},
    )
