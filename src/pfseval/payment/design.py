"""Contract design before signing: simulate the payment for assumed true effects.

A municipality can check, before signing, that targets and lower limits are reachable by a
provider with a real effect and pay little when there is none (the market sounding the
guidance asks for). :func:`simulate_contract` repeats a simulated study ``n_sim`` times and
applies the contract to each study's estimates, exactly as the evaluator would.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

import numpy as np
from scipy import stats

from pfseval.inference import bootstrap_draws, wilson
from pfseval.payment.contract import Contract
from pfseval.payment.uncertainty import PaymentDistribution, distribution_from_values
from pfseval.result import Estimate

__all__ = ["proportion_indicator", "simulate_contract", "suppression_rate_indicator"]

IndicatorSimulator = Callable[[np.random.Generator], "Estimate | float"]
StudySimulator = Callable[[np.random.Generator], Mapping[str, "Estimate | float"]]


def proportion_indicator(
    *, true_rate: float, n: int, level: float = 0.95, estimand: str = "proportion"
) -> Callable[[np.random.Generator], Estimate]:
    """A simulated proportion indicator: ``x ~ Binomial(n, true_rate)``, Wilson interval.

    Returns a function ``rng -> Estimate`` for :func:`simulate_contract`.

    Examples
    --------
    >>> sim = proportion_indicator(true_rate=0.9, n=100)
    >>> est = sim(np.random.default_rng(1))
    >>> 0 <= est.conf_low <= est.value <= est.conf_high <= 1
    True
    """
    if not 0 <= true_rate <= 1:
        raise ValueError(f"true_rate must be in [0, 1], got {true_rate!r}")
    if n < 1:
        raise ValueError(f"n must be at least 1, got {n!r}")

    def draw(rng: np.random.Generator) -> Estimate:
        x = int(rng.binomial(n, true_rate))
        lo, hi = wilson(x, n, level=level)
        return Estimate(
            estimand=estimand,
            value=x / n,
            conf_low=lo,
            conf_high=hi,
            level=level,
            method="simulated binomial count, Wilson score interval",
            n=n,
            diagnostics={"x": x, "true_rate": true_rate},
        )

    return draw


def suppression_rate_indicator(
    *, n: int, effect: float = 0.0, sd: float = 3.0, level: float = 0.95
) -> Callable[[np.random.Generator], Estimate]:
    """A simulated Kobe suppression rate under an assumed programme effect.

    Each participant's actual eGFR decline rate is their predicted rate minus ``effect``
    (mL/min/1.73m²/year slowed by the programme) plus a residual with standard deviation
    ``sd``; a participant is "suppressed" when the actual rate is below the prediction. So
    each participant is suppressed with probability ``Φ(effect / sd)``: **0.5 with no effect**.
    The prediction model's own error is ignored (it would widen the spread). The default
    ``sd = 3`` is an assumption; take it from the residual SD of the control-group regression
    of an earlier evaluation when one is available. Returns a
    function ``rng -> Estimate`` (Wilson interval) for :func:`simulate_contract`.

    Examples
    --------
    >>> sim = suppression_rate_indicator(n=60, effect=0.0)
    >>> sim(np.random.default_rng(2)).diagnostics["true_rate"]
    0.5
    """
    if sd <= 0:
        raise ValueError(f"sd must be positive, got {sd!r}")
    p = float(stats.norm.cdf(effect / sd))
    return proportion_indicator(true_rate=p, n=n, level=level, estimand="suppression_rate")


def _as_study(
    simulate: StudySimulator | Mapping[str, IndicatorSimulator | Estimate | float],
) -> StudySimulator:
    if callable(simulate):
        return simulate
    parts = dict(simulate)

    def study(rng: np.random.Generator) -> dict[str, Estimate | float]:
        return {k: (v(rng) if callable(v) else v) for k, v in parts.items()}

    return study


def simulate_contract(
    contract: Contract,
    *,
    simulate: StudySimulator | Mapping[str, IndicatorSimulator | Estimate | float],
    n_sim: int = 2000,
    seed: int | None,
    n_jobs: int = 1,
) -> PaymentDistribution:
    """Simulate the payment distribution of a contract under assumed true effects.

    Parameters
    ----------
    contract
        The contract to test.
    simulate
        Either a function ``rng -> {indicator id: Estimate | number}`` giving one simulated
        study's indicators, or a mapping from indicator id to a per-indicator simulator (such
        as :func:`proportion_indicator`) or a fixed value.
    n_sim
        Number of simulated studies.
    seed
        Seed; results do not depend on ``n_jobs``.
    n_jobs
        Worker processes.

    Returns
    -------
    PaymentDistribution
        ``expected``, ``quantiles()``, ``prob_cap``, ``prob_target()``, and
        ``prob_outcome_payment`` (with no true effect: the chance of paying for nothing).

    Examples
    --------
    >>> kobe = Contract.from_dict({"contract": {"name": "例", "unit": "千円",
    ...     "rounding": "floor", "component": [{"indicator": "suppression_rate",
    ...     "label": "腎機能低下抑制率", "allocation": 7860,
    ...     "schedule": {"type": "proportional", "target": 0.8}}]}})
    >>> d = simulate_contract(kobe, simulate={"suppression_rate":
    ...     suppression_rate_indicator(n=60, effect=0.0)}, n_sim=400, seed=1)
    >>> d.prob_outcome_payment, 4500 < d.expected < 5300
    (1.0, True)
    """
    if n_sim < 1:
        raise ValueError(f"n_sim must be at least 1, got {n_sim!r}")
    study = _as_study(simulate)

    def one(rng: np.random.Generator) -> np.ndarray[Any, np.dtype[np.float64]]:
        values, _ = contract.indicator_values(study(rng))
        return np.asarray(values, dtype=float)

    values = bootstrap_draws(one, n_boot=n_sim, seed=seed, n_jobs=n_jobs, desc="simulate")
    values = values.reshape(n_sim, len(contract.components))
    return distribution_from_values(
        contract, values, method=f"{n_sim} simulated studies", seed=seed
    )
