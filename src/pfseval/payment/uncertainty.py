"""Payments under uncertainty: at the CI bounds, and as a distribution over draws."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd
from numpy.typing import NDArray

from pfseval.errors import PfsevalError
from pfseval.messages import Notice
from pfseval.payment.contract import Contract, Indicators
from pfseval.payment.notices import draws_dropped, held_fixed, point_draws
from pfseval.result import Estimate, emit_warnings, provenance, to_jsonable

__all__ = [
    "PaymentDistribution",
    "distribution_from_values",
    "payment_at_bounds",
    "payment_distribution",
]

SCENARIOS = ("conf_low", "point", "conf_high")


def payment_at_bounds(contract: Contract, indicators: Indicators) -> pd.DataFrame:
    """The payment with every indicator at its lower CI limit, point estimate and upper limit.

    Returns one row per scenario (``conf_low``, ``point``, ``conf_high``) with the amount of
    each component (columns named by component label), ``fixed``, ``subtotal``, ``total`` and
    ``cap_applied``. Each scenario is :meth:`Contract.evaluate` with ``basis`` forced to it;
    numbers supplied without an interval are used as they are in every scenario. For a
    decreasing schedule (a deduction) the ``conf_low`` row is not the lowest payment.

    Examples
    --------
    >>> from pfseval.payment import Contract
    >>> c = Contract.from_dict({"contract": {"name": "例", "unit": "千円", "rounding": "floor",
    ...     "component": [{"indicator": "rate", "label": "率", "allocation": 1000,
    ...                    "schedule": {"type": "proportional", "target": 0.8}}]}})
    >>> est = Estimate(estimand="proportion", value=0.5, conf_low=0.4, conf_high=0.6)
    >>> payment_at_bounds(c, {"rate": est})["total"].tolist()
    [500.0, 625.0, 750.0]
    """
    rows = []
    for scenario in SCENARIOS:
        res = contract.evaluate(indicators, basis=scenario)  # type: ignore[arg-type]
        row: dict[str, Any] = {"scenario": scenario}
        for r in res.rows:
            if r["kind"] == "outcome":
                row[f"{r['label']}: value"] = r["value"]
                row[r["label"]] = r["amount_rounded"]
        row.update(
            fixed=res.fixed,
            subtotal=res.subtotal,
            total=res.total,
            cap_applied=res.cap_applied,
        )
        rows.append(row)
    return pd.DataFrame(rows).set_index("scenario")


@dataclass(frozen=True)
class PaymentDistribution:
    """The distribution of a contract's payment over draws (bootstrap or simulated studies).

    Attributes
    ----------
    contract_name, unit
        The contract and the unit of every amount.
    labels
        Component labels, in contract order.
    values
        ``(n, k)`` indicator values used by each component in each draw.
    amounts
        ``(n, k)`` rounded component amounts.
    totals
        ``(n,)`` amounts paid (after the contract cap).
    fixed
        Sum of fixed payments (the same in every draw).
    full_values
        Per component, the indicator value from which its schedule pays in full (its target).
    cap
        The contract cap, or ``None``.
    method
        Where the draws come from, in plain words.
    n_dropped
        Draws excluded because an indicator draw was not finite (failed resamples).
    notices
        Notes an evaluator needs (indicators held fixed, dropped draws, ...) as
        :class:`~pfseval.messages.Notice` records; ``warnings`` gives their English text.
    """

    contract_name: str
    unit: str
    labels: tuple[str, ...]
    values: NDArray[np.float64] = field(repr=False)
    amounts: NDArray[np.float64] = field(repr=False)
    totals: NDArray[np.float64] = field(repr=False)
    fixed: float
    full_values: tuple[float | None, ...]
    cap: float | None
    method: str
    n_dropped: int = 0
    notices: tuple[Notice, ...] = ()
    provenance: Mapping[str, Any] = field(default_factory=dict, repr=False)
    #: per component, "higher" or "lower" (which values are better); empty = all higher
    directions: tuple[str, ...] = ()

    @property
    def warnings(self) -> tuple[str, ...]:
        """The English text of every notice."""
        return tuple(n.text("en") for n in self.notices)

    def __post_init__(self) -> None:
        for name in ("values", "amounts", "totals"):
            a = np.array(getattr(self, name), dtype=float, copy=True)
            a.setflags(write=False)
            object.__setattr__(self, name, a)

    @property
    def n(self) -> int:
        """Number of draws used."""
        return len(self.totals)

    @property
    def expected(self) -> float:
        """Expected (mean) payment."""
        return float(self.totals.mean())

    def quantiles(self, q: Sequence[float] = (0.05, 0.25, 0.5, 0.75, 0.95)) -> pd.Series:
        """Quantiles of the payment (numpy's default linear interpolation)."""
        return pd.Series(np.quantile(self.totals, list(q)), index=list(q), name="total")

    @property
    def prob_cap(self) -> float:
        """Probability that the payment reaches the contract cap (NaN without a cap)."""
        if self.cap is None:
            return float("nan")
        return float(np.mean(self.totals >= self.cap))

    @property
    def prob_outcome_payment(self) -> float:
        """Probability that the outcome-linked components pay anything (total above fixed)."""
        return float(np.mean(self.amounts.sum(axis=1) > 0)) if self.amounts.size else 0.0

    def prob_target(self) -> pd.Series:
        """Per component, probability that the indicator reaches the schedule's full-pay value."""
        lower = [
            j < len(self.directions) and self.directions[j] == "lower"
            for j in range(len(self.labels))
        ]
        out = {
            lab: (
                float(np.mean(self.values[:, j] <= fv if lower[j] else self.values[:, j] >= fv))
                if fv is not None
                else float("nan")
            )
            for j, (lab, fv) in enumerate(zip(self.labels, self.full_values, strict=True))
        }
        return pd.Series(out, name="prob_target", dtype=float)

    def component_summary(self) -> pd.DataFrame:
        """Per component: expected amount, P(pays > 0), P(target reached), 5% and 95% points."""
        rows = []
        pt = self.prob_target()
        for j, lab in enumerate(self.labels):
            a = self.amounts[:, j]
            rows.append(
                {
                    "component": lab,
                    "full_value": self.full_values[j],
                    "expected": float(a.mean()),
                    "q05": float(np.quantile(a, 0.05)),
                    "q95": float(np.quantile(a, 0.95)),
                    "prob_pays": float(np.mean(a > 0)),
                    "prob_target": pt[lab],
                }
            )
        return pd.DataFrame(rows).set_index("component")

    def summary(self) -> pd.Series:
        """Headline numbers: expected payment, quantiles, P(cap), P(outcome payment > 0)."""
        q = self.quantiles((0.05, 0.5, 0.95))
        return pd.Series(
            {
                "n": self.n,
                "expected": self.expected,
                "q05": q[0.05],
                "median": q[0.5],
                "q95": q[0.95],
                "prob_cap": self.prob_cap,
                "prob_outcome_payment": self.prob_outcome_payment,
            },
            name=self.contract_name,
        )

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready summary (no per-draw arrays)."""
        return to_jsonable(  # type: ignore[no-any-return]
            {
                "contract_name": self.contract_name,
                "unit": self.unit,
                "method": self.method,
                "summary": self.summary(),
                "components": self.component_summary().reset_index(),
                "n_dropped": self.n_dropped,
                "notices": [n.to_dict() for n in self.notices],
                "provenance": dict(self.provenance),
            }
        )


def distribution_from_values(
    contract: Contract,
    values: NDArray[np.float64],
    *,
    method: str,
    notices: Sequence[Notice] = (),
    seed: int | None = None,
) -> PaymentDistribution:
    """Payment distribution for an ``(n, k)`` array of component values (non-finite rows dropped)."""
    v = np.asarray(values, dtype=float)
    ok = np.isfinite(v).all(axis=1)
    n_dropped = int((~ok).sum())
    notes = list(notices)
    if n_dropped:
        notes.append(draws_dropped(n_dropped, len(v)))
    if not ok.any():
        raise PfsevalError("no draw has a finite value for every indicator; nothing to summarise")
    v = v[ok]
    pay = contract.payments(v)
    emit_warnings(notes, stacklevel=4)
    return PaymentDistribution(
        contract_name=contract.name,
        unit=contract.unit,
        labels=tuple(c.label for c in contract.components),
        values=v,
        amounts=pay.rounded,
        totals=pay.total,
        fixed=pay.fixed,
        full_values=tuple(c.schedule.full_value() for c in contract.components),
        cap=None if contract.cap is None else float(contract.cap),
        method=method,
        n_dropped=n_dropped,
        notices=tuple(notes),
        provenance=provenance(seed=seed, contract_file=contract.source or None),
        directions=tuple(c.direction for c in contract.components),
    )


def payment_distribution(contract: Contract, indicators: Indicators) -> PaymentDistribution:
    """The payment distribution over the bootstrap draws carried by the indicator estimates.

    Each draw of an :class:`~pfseval.result.Estimate` is one plausible value of the indicator;
    the contract is applied to every draw. Estimates with draws must have the same number of
    draws; draws at the same position are taken together (a joint bootstrap keeps the
    correlation between indicators). Numbers and estimates without draws are held at the
    value the component's basis picks; this is recorded in ``warnings``. Draws stand for the
    point estimate, so a component paying on a CI bound is paid on the draw (also noted).

    Examples
    --------
    >>> from pfseval.payment import Contract
    >>> c = Contract.from_dict({"contract": {"name": "例", "unit": "千円", "rounding": "floor",
    ...     "component": [{"indicator": "rate", "label": "率", "allocation": 1000,
    ...                    "schedule": {"type": "proportional", "target": 0.8}}]}})
    >>> est = Estimate(estimand="proportion", value=0.6, conf_low=0.5, conf_high=0.7,
    ...                draws=[0.5, 0.6, 0.7, 0.8, 0.9])
    >>> d = payment_distribution(c, {"rate": est})
    >>> d.expected, float(d.prob_target()["率"])
    (850.0, 0.4)
    """
    base, notes = contract.indicator_values(indicators)
    n_draws = {
        c.indicator: len(ind.draws)
        for c in contract.components
        if isinstance(ind := indicators[c.indicator], Estimate) and ind.draws is not None
    }
    if not n_draws:
        raise PfsevalError(
            "no indicator estimate carries draws, so there is no payment distribution. "
            "Fix: run the estimator with bootstrap draws (n_boot), or use payment_at_bounds()."
        )
    if len(set(n_draws.values())) > 1:
        raise PfsevalError(
            "indicator estimates carry different numbers of draws "
            f"({', '.join(f'{k}: {v}' for k, v in n_draws.items())}); draws are paired by "
            "position. Fix: bootstrap every indicator with the same n_boot and seed."
        )
    n = next(iter(n_draws.values()))
    cols = []
    for j, comp in enumerate(contract.components):
        ind = indicators[comp.indicator]
        if isinstance(ind, Estimate) and ind.draws is not None:
            cols.append(np.asarray(ind.draws, dtype=float).reshape(-1))
            if comp.basis != "point":
                notes.append(point_draws(comp.label, comp.basis))
        else:
            cols.append(np.full(n, base[j]))
            notes.append(held_fixed(comp.indicator, base[j]))
    return distribution_from_values(
        contract, np.column_stack(cols), method=f"{n} bootstrap draws", notices=notes
    )
