"""Output indicators measured as a share of people: completion rate, improvement rates.

These are not comparisons but the intermediate indicators (中間成果指標) that PFS contracts pay
early, such as the Kobe programme completion rate and lifestyle-improvement rate (BRIEF §3).

- :func:`rate` — one share ``x / n`` with the Wilson score interval (and Clopper–Pearson as an
  alternative).
- :func:`mean_of_rates` — the mean of several domain rates, each over the people with data on
  that domain (the Kobe 生活習慣改善率 is the mean of four domain rates), with a person-level
  bootstrap percentile interval.

Both are registered in the design contract (see :mod:`pfseval.designs.proportion_contract`),
which checks their options.
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Sequence
from typing import Literal

import numpy as np
import pandas as pd

from pfseval.checks import fresh_seed, require_columns
from pfseval.designs import proportion_contract as _contract  # noqa: F401  (registers the specs)
from pfseval.designs.contract import validated
from pfseval.errors import (
    DataProblem,
    DataValidationError,
    DesignError,
    SmallSampleWarning,
)
from pfseval.inference import bootstrap_draws, clopper_pearson, percentile_interval, wilson
from pfseval.messages import Message, Notice
from pfseval.result import Estimate, SampleFlow, emit_warnings, provenance

__all__ = ["mean_of_rates", "rate"]

_SMALL_N = 30


def _binary(data: pd.DataFrame, column: str, *, context: str) -> pd.Series:
    """The column as float 0/1 with NaN for missing; other values raise naming the rows."""
    require_columns(data, [column], context=context)
    s = pd.to_numeric(data[column], errors="coerce").astype(float)
    raw_missing = data[column].isna().to_numpy()
    bad = (~raw_missing) & ~(s.isin([0.0, 1.0]).to_numpy())
    if bad.any():
        pos = np.flatnonzero(bad)
        raise DataValidationError(
            [
                DataProblem(
                    column=column,
                    kind="wrong_type",
                    message="values must be 0 or 1 (or missing). Fix: recode the column",
                    rows=tuple(int(p) for p in pos),
                    values=tuple(data[column].iloc[pos[:10]].tolist()),
                    expected="0 or 1",
                )
            ],
            source=context,
        )
    return s


def _apply_exclude(
    data: pd.DataFrame, exclude: str | None, flow: SampleFlow, *, context: str
) -> tuple[pd.DataFrame, SampleFlow]:
    if exclude is None:
        return data, flow
    flag = _binary(data, exclude, context=context)
    if flag.isna().any():
        rows = np.flatnonzero(flag.isna().to_numpy())
        raise DataValidationError(
            [
                DataProblem(
                    column=exclude,
                    kind="missing",
                    message="the exclusion flag must be 0 or 1 for everyone. Fix: fill it in",
                    rows=tuple(int(r) for r in rows),
                )
            ],
            source=context,
        )
    drop = flag.to_numpy() == 1.0
    flow = flow.exclude(
        Message("proportion.flow.excluded_after_start", params={"exclude": exclude}),
        int(drop.sum()),
    )
    return data.loc[~drop], flow


@validated("proportion.rate")
def rate(
    data: pd.DataFrame,
    *,
    outcome: str,
    exclude: str | None = None,
    missing: Literal["exclude", "error"] = "exclude",
    level: float = 0.95,
    label: str = "",
) -> Estimate:
    """Share of people with ``outcome == 1``, with the Wilson score interval.

    Parameters
    ----------
    data
        One row per person (already restricted to the people the indicator counts, e.g. the
        programme participants).
    outcome
        0/1 column (e.g. ``"completed"``).
    exclude
        Optional 0/1 column flagging people removed from both numerator and denominator
        (the Kobe contract's "found to meet the exclusion criteria after the start").
    missing
        ``"exclude"`` (default): people with a missing outcome are left out of the
        denominator and counted in the sample flow; ``"error"``: raise instead.
    level
        Confidence level.
    label
        Display name of the indicator.

    Returns
    -------
    Estimate
        ``estimand="proportion"``; Wilson interval as ``conf_low``/``conf_high``,
        Clopper–Pearson in ``intervals``; ``diagnostics`` has ``n_numerator``,
        ``n_denominator``, ``n_missing`` and ``n_excluded``.

    Examples
    --------
    >>> df = pd.DataFrame({"completed": [1] * 95 + [0] * 5})
    >>> est = rate(df, outcome="completed")
    >>> round(est.value, 2), [round(b, 4) for b in est.interval()]
    (0.95, [0.8882, 0.9785])
    """
    context = f"proportion.rate(outcome={outcome!r})"
    flow = SampleFlow.start(len(data))
    kept, flow = _apply_exclude(data, exclude, flow, context=context)
    y = _binary(kept, outcome, context=context)
    miss = y.isna().to_numpy()
    if miss.any() and missing == "error":
        raise DataValidationError(
            [
                DataProblem(
                    column=outcome,
                    kind="missing",
                    message="outcome missing. Fix: fill it in or pass missing='exclude'",
                    rows=tuple(int(r) for r in np.flatnonzero(miss)),
                )
            ],
            source=context,
        )
    flow = flow.exclude(
        Message("proportion.flow.no_data", params={"outcome": outcome}), int(miss.sum())
    )
    yv = y.to_numpy()[~miss]
    n = int(yv.size)
    if n == 0:
        raise DesignError(
            f"{context}: no one is left in the denominator (all excluded or missing). "
            "Fix: check the cohort filters and the outcome column."
        )
    x = int(yv.sum())
    p = x / n
    lo, hi = wilson(x, n, level=level)
    notices: list[Notice] = []
    if n < _SMALL_N:
        notices.append(
            Notice(
                "proportion.small_denominator",
                category=SmallSampleWarning,
                counts={"n_denominator": n},
                params={"minimum": _SMALL_N},
            )
        )
    est = Estimate(
        estimand="proportion",
        value=p,
        conf_low=lo,
        conf_high=hi,
        level=level,
        method=Message("proportion.method.wilson", params={"outcome": outcome}),
        n=n,
        std_error=math.sqrt(p * (1 - p) / n),
        intervals={
            "wilson": (lo, hi),
            "clopper_pearson": clopper_pearson(x, n, level=level),
        },
        diagnostics={
            "n_numerator": x,
            "n_denominator": n,
            "n_missing": int(miss.sum()),
            "n_excluded": len(data) - len(kept),
        },
        notices=tuple(notices),
        sample_flow=flow,
        provenance=provenance(seed=None, data=data),
        label=label,
    )
    emit_warnings(est.notices, stacklevel=4)  # warn, emit, design, validated(), user
    return est


@validated("proportion.mean_of_rates")
def mean_of_rates(
    data: pd.DataFrame,
    *,
    outcomes: Sequence[str],
    exclude: str | None = None,
    level: float = 0.95,
    n_boot: int = 2000,
    seed: int | None = None,
    n_jobs: int = 1,
    progress: bool = False,
    label: str = "",
) -> Estimate:
    """Mean of several domain rates, each over the people with data on that domain.

    Domain ``j``'s rate is ``x_j / n_j`` where ``n_j`` counts the people whose column ``j``
    is not missing. The indicator is ``(1/k) Σ_j x_j / n_j`` (the Kobe lifestyle-improvement
    rate, k = 4). Its interval is a person-level bootstrap: people (rows) are resampled with
    replacement, every domain rate is recomputed on the resample, and the percentile interval
    of the mean is taken. Resampling people, not domains, keeps the correlation between a
    person's domains. Each domain rate, with its Wilson interval, is in ``related``.

    Parameters
    ----------
    data
        One row per person in the denominator population (e.g. completers).
    outcomes
        The 0/1 domain columns (missing = no data on that domain).
    exclude
        Optional 0/1 column of people removed from every domain (exclusion after start).
    level, n_boot, seed, n_jobs, progress
        Confidence level and bootstrap settings (draws do not depend on ``n_jobs``;
        ``n_boot`` must be at least 1).
    label
        Display name of the indicator.

    Examples
    --------
    >>> df = pd.DataFrame({"a": [1, 1, 0, 1] * 10, "b": [1, 0, 1, 1] * 10})
    >>> est = mean_of_rates(df, outcomes=["a", "b"], n_boot=200, seed=1)
    >>> est.value, est.conf_low < est.value < est.conf_high
    (0.75, True)
    """
    context = "proportion.mean_of_rates"
    outcomes = list(outcomes)
    if not outcomes:
        raise DesignError(f"{context}: give at least one outcome column in `outcomes`.")
    if n_boot < 1:
        raise DesignError(
            f"{context}: option 'n_boot' = {n_boot} leaves no bootstrap replicates for the "
            "interval. Fix: use e.g. n_boot = 2000."
        )
    seed = fresh_seed(seed)  # None: drawn from the OS and recorded, so the run can be repeated
    flow = SampleFlow.start(len(data))
    kept, flow = _apply_exclude(data, exclude, flow, context=context)
    M = np.column_stack([_binary(kept, c, context=context).to_numpy() for c in outcomes])
    have = ~np.isnan(M)
    n_j = have.sum(axis=0)
    no_data = ~have.any(axis=1)
    flow = flow.exclude(Message("proportion.flow.no_data_any_domain"), int(no_data.sum()))
    empty = [c for c, n in zip(outcomes, n_j, strict=True) if n == 0]
    if empty:
        raise DesignError(
            f"{context}: no one has data on {', '.join(empty)}. Fix: check the columns "
            "and the cohort."
        )
    x_j = np.nansum(M, axis=0)
    rates = x_j / n_j
    value = float(rates.mean())
    M = M[~no_data]

    def stat(rng: np.random.Generator) -> float:
        idx = rng.integers(0, M.shape[0], M.shape[0])
        return float(np.mean(np.nanmean(M[idx], axis=0)))

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # all-missing domain in a resample → nan
        draws = bootstrap_draws(
            stat, n_boot=n_boot, seed=seed, n_jobs=n_jobs, progress=progress, desc=label or context
        )
    lo, hi = percentile_interval(draws, level=level)
    n_failed = int((~np.isfinite(draws)).sum())
    related = {}
    for c, x, n in zip(outcomes, x_j, n_j, strict=True):
        dlo, dhi = wilson(int(x), int(n), level=level)
        related[f"domain:{c}"] = Estimate(
            estimand="proportion",
            value=float(x / n),
            conf_low=dlo,
            conf_high=dhi,
            level=level,
            method=Message("proportion.method.domain_wilson", params={"outcome": c}),
            n=int(n),
            diagnostics={"n_numerator": int(x), "n_denominator": int(n)},
            label=c,
        )
    notices: list[Notice] = []
    n_people = int(M.shape[0])
    if n_people < _SMALL_N:
        notices.append(
            Notice(
                "proportion.small_bootstrap_sample",
                category=SmallSampleWarning,
                counts={"n_people": n_people},
                params={"minimum": _SMALL_N},
            )
        )
    if n_failed:
        notices.append(
            Notice(
                "proportion.failed_replicates",
                category=SmallSampleWarning,
                params={"failed": n_failed, "n_boot": n_boot},
            )
        )
    est = Estimate(
        estimand="mean_of_rates",
        value=value,
        conf_low=lo,
        conf_high=hi,
        level=level,
        method=Message(
            "proportion.method.mean_of_rates",
            params={"domains": len(outcomes), "n_boot": n_boot, "outcomes": outcomes},
        ),
        n=n_people,
        std_error=float(np.nanstd(draws, ddof=1)),
        intervals={"bootstrap_percentile": (lo, hi)},
        related=related,
        draws=draws,
        diagnostics={
            "domains": outcomes,
            "numerators": [int(v) for v in x_j],
            "denominators": [int(v) for v in n_j],
            "n_boot": n_boot,
            "n_failed_replicates": n_failed,
            "n_excluded": len(data) - len(kept),
        },
        notices=tuple(notices),
        sample_flow=flow,
        provenance=provenance(seed=seed, data=data),
        label=label,
    )
    emit_warnings(est.notices, stacklevel=4)  # warn, emit, design, validated(), user
    return est
