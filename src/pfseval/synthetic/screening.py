"""Yearly cancer-screening counts for many municipalities, with an intervention in the last year.

Model (parameters returned in ``truth``): municipality ``m`` in fiscal year ``t`` has
``eligible[m, t]`` people and a screening rate
``rate0[m, t] = base[m] + trend × (t − t0) + shock[t] + noise[m, t]`` where ``shock[t]`` is a
common (national) year shock: the external trend a historical-baseline comparison must remove.
``screened ~ Binomial(eligible, rate0)``. In the last year, a random subset of municipalities
(``intervention = 1``) run the programme, which raises their rate by ``effect``; the extra
people screened are drawn on top of the no-programme count (coupled potential outcomes), so
the true excess per municipality is known exactly (``truth["excess_by_municipality"]``).

The national comparison series (``tables["national"]``) follows the same ``trend`` and
``shock[t]`` at the national mean rate.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from pfseval.synthetic._common import SyntheticDataset, SyntheticOptionError

__all__ = ["NATIONAL_COLUMNS", "SCREENING_COLUMNS", "screening_series"]

SCREENING_COLUMNS: dict[str, str] = {
    "municipality_code": "municipality code (str, 6 digits; prefecture 99 is fictitious)",
    "fiscal_year": "fiscal year",
    "eligible": "people eligible for the screening (e.g. colorectal cancer, aged 40–69)",
    "screened": "people screened",
    "intervention": "1 = the programme ran in this municipality and year, else 0",
}

NATIONAL_COLUMNS: dict[str, str] = {
    "fiscal_year": "fiscal year",
    "eligible": "people eligible nationally",
    "screened": "people screened nationally",
    "rate": "screened / eligible",
}


def screening_series(
    *,
    seed: int,
    n_municipalities: int = 40,
    years: range | list[int] = range(2016, 2024),
    effect: float = 0.03,
    intervention_share: float = 0.25,
    trend: float = 0.004,
    base_rate: float = 0.2,
    year_shock_sd: float = 0.006,
    noise_sd: float = 0.004,
) -> SyntheticDataset:
    """Screening counts by municipality and year, and a national comparison series.

    Parameters
    ----------
    seed
        Random seed.
    n_municipalities
        Number of municipalities.
    years
        Fiscal years (consecutive); the intervention is in the last one.
    effect
        True increase of the screening rate in intervening municipalities (rate difference).
    intervention_share
        Share of municipalities that intervene in the last year (at least one).
    trend
        Common linear trend of the screening rate per year (external trend).
    base_rate
        Mean screening rate in the first year.
    year_shock_sd
        SD of the common year-to-year shock.
    noise_sd
        SD of each municipality-year's own rate deviation.

    Returns
    -------
    SyntheticDataset
        ``data``: one row per municipality and year; ``tables["national"]``: the national
        comparison series; ``truth``: ``effect`` (rate difference),
        ``excess_by_municipality`` (extra people screened in the last year, exact for this
        sample), ``excess_total``, ``excess_mean``, ``expected_excess_by_municipality``
        (``effect × eligible``), the rates without the programme, and the model parameters.

    Examples
    --------
    >>> ds = screening_series(seed=4, n_municipalities=8)
    >>> ds.data.shape
    (64, 5)
    >>> int(ds.data["intervention"].sum())
    2
    """
    yrs = np.asarray(list(years), dtype=np.int64)
    if len(yrs) < 2:
        raise SyntheticOptionError("years must contain at least two fiscal years")
    if n_municipalities < 1:
        raise SyntheticOptionError(f"n_municipalities must be at least 1, got {n_municipalities}")
    if not 0 < intervention_share <= 1:
        raise SyntheticOptionError(
            f"intervention_share must be in (0, 1], got {intervention_share}"
        )
    rng = np.random.default_rng(seed)
    m, t = n_municipalities, len(yrs)
    codes = np.array([f"99{i + 1:03d}{(i * 7) % 10}" for i in range(m)], dtype=object)
    size0 = np.round(np.exp(rng.normal(np.log(8000.0), 0.9, m))).astype(np.int64) + 300
    growth = rng.normal(-0.01, 0.01, m)  # shrinking, ageing populations
    tt = np.arange(t)
    eligible = np.round(size0[:, None] * np.exp(growth[:, None] * tt[None, :])).astype(np.int64)
    base = np.clip(base_rate + rng.normal(0.0, 0.05, m), 0.03, 0.8)
    shock = rng.normal(0.0, year_shock_sd, t)
    rate0 = base[:, None] + trend * tt[None, :] + shock[None, :] + rng.normal(0.0, noise_sd, (m, t))
    rate0 = np.clip(rate0, 0.01, 0.95)
    screened0 = rng.binomial(eligible, rate0)
    n_int = max(1, round(intervention_share * m))
    inter_m = np.sort(rng.permutation(m)[:n_int])
    intervention = np.zeros((m, t), dtype=np.int64)
    intervention[inter_m, -1] = 1
    # Extra people screened: a binomial draw among those the no-programme count left out,
    # with probability effect / (1 - rate0), so the expected rate rises by exactly `effect`.
    p_extra = np.clip(effect / (1.0 - rate0[inter_m, -1]), 0.0, 1.0)
    extra = rng.binomial(eligible[inter_m, -1] - screened0[inter_m, -1], p_extra)
    screened = screened0.copy()
    screened[inter_m, -1] += extra

    data = pd.DataFrame(
        {
            "municipality_code": np.repeat(codes, t),
            "fiscal_year": np.tile(yrs, m),
            "eligible": eligible.ravel(),
            "screened": screened.ravel(),
            "intervention": intervention.ravel(),
        }
    )
    nat_eligible = np.round(3.0e7 * np.exp(-0.005 * tt)).astype(np.int64)
    nat_rate = np.clip(base_rate + trend * tt + shock, 0.01, 0.95)
    nat_screened = np.round(nat_eligible * nat_rate).astype(np.int64)
    national = pd.DataFrame(
        {
            "fiscal_year": yrs,
            "eligible": nat_eligible,
            "screened": nat_screened,
            "rate": nat_screened / nat_eligible,
        }
    )
    excess = {str(codes[i]): int(e) for i, e in zip(inter_m, extra, strict=True)}
    truth: dict[str, Any] = {
        "effect": float(effect),
        "estimand": "increase of the screening rate in the last year in intervening "
        "municipalities (rate difference), and the additional people screened",
        "intervention_year": int(yrs[-1]),
        "intervening_municipalities": [str(c) for c in codes[inter_m]],
        "excess_by_municipality": excess,
        "excess_total": int(extra.sum()),
        "excess_mean": float(extra.mean()),
        "expected_excess_by_municipality": {
            str(codes[i]): float(effect * eligible[i, -1]) for i in inter_m
        },
        "rate_without_programme": {
            str(codes[i]): float(screened0[i, -1] / eligible[i, -1]) for i in inter_m
        },
        "trend": float(trend),
        "year_shock": [float(s) for s in shock],
        "base_rate": float(base_rate),
        "year_shock_sd": float(year_shock_sd),
        "noise_sd": float(noise_sd),
        "model": "rate0 = base_m + trend (t - t0) + shock_t + e_mt; screened0 ~ Bin(eligible, "
        "rate0); intervening municipalities in the last year get Bin(eligible - screened0, "
        "effect / (1 - rate0)) extra",
        "seed": int(seed),
    }
    return SyntheticDataset(
        name="screening",
        data=data,
        truth=truth,
        description=(
            f"Screening counts for {m} municipalities over fiscal years {yrs[0]}–{yrs[-1]} with "
            f"a common upward trend of {trend:g} per year and year shocks; {n_int} municipalities "
            f"intervene in {yrs[-1]}, raising their screening rate by {effect:g}. "
            "tables['national'] is the national comparison series."
        ),
        columns=SCREENING_COLUMNS,
        tables={"national": national},
    )
