"""Pre/post questionnaire (基本チェックリスト, exercise habit, number of drugs).

Model (parameters returned in ``truth``): each older person has a latent frailty
``f ~ N(0, 1)``. The checklist score (0–25, higher = frailer) is
``round(6 + 3.5 f + trend_before/after + e)`` clipped to 0–25 with independent measurement
noise ``e ~ N(0, noise_sd²)`` at each questionnaire. People are *eligible* when their
``checklist_before`` is at least ``threshold``; because selection is on a noisy high score,
their ``checklist_after`` falls back towards the mean even without the programme
(regression to the mean). Among the eligible, a random half joins (``participant = 1``); the
other half is the comparison group (returned when ``comparison=True``). The programme lowers the
latent score by ``-effect_checklist`` points, raises the probability of an exercise habit by
``effect_exercise`` and stops each drug with probability ``drug_reduction``. Both potential
outcomes are simulated with shared noise, so the sample effects are recorded exactly.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from pfseval.synthetic._common import (
    SyntheticDataset,
    SyntheticOptionError,
    expit,
    nan_where,
    person_ids,
)

__all__ = ["PREPOST_COLUMNS", "prepost_questionnaire"]

PREPOST_COLUMNS: dict[str, str] = {
    "person_id": "anonymised person id (str)",
    "participant": "1 = programme participant, 0 = eligible non-participant (comparison)",
    "age": "age (years)",
    "sex": "1 = male, 2 = female",
    "checklist_before": "基本チェックリスト score before (0–25, higher = frailer)",
    "checklist_after": "基本チェックリスト score after (0–25); NaN when not returned",
    "exercise_before": "exercise habit before (0/1)",
    "exercise_after": "exercise habit after (0/1); NaN when not returned",
    "drugs_before": "number of regular drugs before",
    "drugs_after": "number of regular drugs after; NaN when not returned",
}


def prepost_questionnaire(
    *,
    seed: int,
    n: int = 200,
    effect_checklist: float = -2.0,
    effect_exercise: float = 0.15,
    drug_reduction: float = 0.1,
    trend: float = 0.3,
    threshold: int = 8,
    noise_sd: float = 2.0,
    missing_after: float = 0.1,
    comparison: bool = False,
) -> SyntheticDataset:
    """Questionnaires before and after a care-prevention programme, with regression to the mean.

    Parameters
    ----------
    seed
        Random seed.
    n
        Number of participants (the comparison group, when asked for, has about as many).
    effect_checklist
        Programme effect on the latent checklist score (points; negative = improvement).
    effect_exercise
        Programme effect on the probability of an exercise habit (risk difference).
    drug_reduction
        Probability that the programme stops each regular drug.
    trend
        Change of the latent checklist score between the questionnaires without the programme
        (ageing; positive = worse), the external influence a pre/post design cannot separate.
    threshold
        Eligibility: ``checklist_before >= threshold``.
    noise_sd
        SD of the measurement noise of each checklist score.
    missing_after
        Probability that the after questionnaire is not returned (all three after items NaN).
    comparison
        Also return the eligible non-participants (``participant = 0``).

    Returns
    -------
    SyntheticDataset
        ``truth`` holds the nominal effects and, computed on this sample's participants with both
        potential outcomes: ``checklist_effect_sample`` (mean after-with − after-without the
        programme, observed scale), ``checklist_change_without_programme`` (mean change
        regression to the mean and trend would give), ``share_improved`` and
        ``share_improved_without_programme``, ``exercise_effect_sample``,
        ``drugs_effect_sample``.

    Examples
    --------
    >>> ds = prepost_questionnaire(seed=2, n=100)
    >>> len(ds.data), int(ds.data["participant"].min())
    (100, 1)
    >>> bool(ds.truth["checklist_change_without_programme"] < 0)  # regression to the mean
    True
    """
    if n < 1:
        raise SyntheticOptionError(f"n must be at least 1, got {n}")
    if not 0 <= missing_after < 1:
        raise SyntheticOptionError(f"missing_after must be in [0, 1), got {missing_after}")
    if not 0 <= threshold <= 25:
        raise SyntheticOptionError(f"threshold must be in 0..25, got {threshold}")
    rng = np.random.default_rng(seed)
    # Draw enough candidates that n participants (and n comparisons) are eligible.
    p_elig = max(
        float(
            np.mean(
                6 + 3.5 * rng.normal(size=4000) + rng.normal(0, noise_sd, 4000) >= threshold - 0.5
            )
        ),
        0.01,
    )
    m = int(np.ceil(2.4 * n / p_elig)) + 50
    f = rng.normal(size=m)
    before_lat = 6.0 + 3.5 * f
    e1 = rng.normal(0.0, noise_sd, m)
    before = np.clip(np.round(before_lat + e1), 0, 25)
    elig = np.flatnonzero(before >= threshold)
    if len(elig) < 2 * n:  # pragma: no cover - the draw above makes this vanishingly rare
        raise RuntimeError("not enough eligible candidates drawn; increase the draw")
    pick = rng.permutation(elig)[: 2 * n]
    part_idx, comp_idx = pick[:n], pick[n:]
    idx = np.concatenate([part_idx, comp_idx]) if comparison else part_idx
    k = len(idx)
    participant = np.r_[np.ones(n, dtype=np.int64), np.zeros(k - n, dtype=np.int64)]
    f = f[idx]
    before = before[idx]
    e2 = rng.normal(0.0, noise_sd, k)
    after0 = np.clip(np.round(6.0 + 3.5 * f + trend + e2), 0, 25)
    after1 = np.clip(np.round(6.0 + 3.5 * f + trend + effect_checklist + e2), 0, 25)
    after = np.where(participant == 1, after1, after0)

    age = np.clip(np.round(72.0 + 2.0 * f + rng.normal(0, 5, k)), 65, 95).astype(np.int64)
    sex = np.where(rng.random(k) < 0.4, 1, 2).astype(np.int64)

    p_ex = expit(-0.2 - 0.6 * f)
    u1 = rng.random(k)
    ex_before = (u1 < p_ex).astype(np.int64)
    u2 = np.where(rng.random(k) < 0.6, u1, rng.random(k))  # habits persist
    ex0 = (u2 < p_ex).astype(np.int64)
    ex1 = (u2 < np.clip(p_ex + effect_exercise, 0, 1)).astype(np.int64)
    ex_after = np.where(participant == 1, ex1, ex0)

    lam = np.exp(1.0 + 0.25 * f)
    d_before = rng.poisson(lam)
    d0 = rng.poisson(lam)
    d1 = rng.binomial(d0, 1.0 - drug_reduction)
    d_after = np.where(participant == 1, d1, d0)

    lost = rng.random(k) < missing_after
    data = pd.DataFrame(
        {
            "person_id": person_ids("Q", k, width=5),
            "participant": participant,
            "age": age,
            "sex": sex,
            "checklist_before": before.astype(np.int64),
            "checklist_after": nan_where(after, lost),
            "exercise_before": ex_before,
            "exercise_after": nan_where(ex_after, lost),
            "drugs_before": d_before.astype(np.int64),
            "drugs_after": nan_where(d_after, lost),
        }
    )
    p = slice(0, n)
    truth: dict[str, Any] = {
        "effect_checklist": float(effect_checklist),
        "effect_exercise": float(effect_exercise),
        "drug_reduction": float(drug_reduction),
        "trend": float(trend),
        "threshold": int(threshold),
        "noise_sd": float(noise_sd),
        "missing_after": float(missing_after),
        "checklist_effect_sample": float(np.mean(after1[p] - after0[p])),
        "checklist_change_without_programme": float(np.mean(after0[p] - before[p])),
        "checklist_change_with_programme": float(np.mean(after1[p] - before[p])),
        "share_improved": float(np.mean(after1[p] < before[p])),
        "share_improved_without_programme": float(np.mean(after0[p] < before[p])),
        "share_worsened": float(np.mean(after1[p] > before[p])),
        "exercise_effect_sample": float(np.mean(ex1[p] - ex0[p])),
        "drugs_effect_sample": float(np.mean(d1[p] - d0[p])),
        "model": "checklist = clip(round(6 + 3.5 f + trend*after + effect*after*participant + e), "
        "0, 25), f ~ N(0,1), e ~ N(0, noise_sd^2); eligible if checklist_before >= threshold",
        "comparison": bool(comparison),
        "seed": int(seed),
    }
    return SyntheticDataset(
        name="prepost",
        data=data,
        truth=truth,
        description=(
            "Pre/post questionnaires of a care-prevention programme: participants were selected "
            f"on a high checklist score (≥ {threshold}), so scores fall back towards the mean "
            "even without the programme; the programme lowers the checklist score by "
            f"{-effect_checklist:g} points, raises the exercise-habit probability by "
            f"{effect_exercise:g} and stops each drug with probability {drug_reduction:g}."
        ),
        columns=PREPOST_COLUMNS,
    )
