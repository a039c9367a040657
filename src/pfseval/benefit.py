"""The benefit side (行財政効果): fiscal-effect calculators and the payment-cap check.

The guidance asks that a contract's payment cap stay below the quantified benefit of the
programme. The calculators return a :class:`Benefit` whose ``formula`` can be checked by hand:

* :func:`fiscal_effect` — saving per case × effective benefit rate × cases, e.g. colorectal
  cancer found early: (2,520 − 650) × 0.82 × 11 = 16,867.4 千円;
* :func:`value_per_examinee` — saving per case found ÷ examinees per case found
  (3,080 ÷ 300 ≈ 10.3 千円 per extra examinee);
* :func:`project_stages`, :func:`stage_costs`, :func:`stage_cost_saving` — people by disease
  stage over years (a Markov projection, or your own counts), annual medical cost per stage,
  discounted at ``discount_rate`` per year (year ``t``, counted from 0, is divided by
  ``(1 + discount_rate) ** t``), and the saving of the programme's scenario over the other.

:func:`check_cap` compares a contract's cap (or its largest possible payment) with a benefit,
converting units (円, 千円, 万円, 百万円).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

import numpy as np
import pandas as pd

from pfseval.errors import PfsevalError
from pfseval.payment.contract import UNITS, Contract
from pfseval.payment.schedules import fmt_amount
from pfseval.result import to_jsonable

__all__ = [
    "Benefit",
    "CapCheck",
    "check_cap",
    "fiscal_effect",
    "project_stages",
    "stage_cost_saving",
    "stage_costs",
    "value_per_examinee",
]


def _check_unit(unit: str) -> None:
    if unit not in UNITS:
        raise PfsevalError(f"unknown unit {unit!r}; use one of {', '.join(UNITS)}")


@dataclass(frozen=True)
class Benefit:
    """A quantified benefit with the formula that produced it.

    Attributes
    ----------
    amount
        The benefit, in ``unit``.
    unit
        ``円``, ``千円``, ``万円`` or ``百万円``.
    label
        What the benefit is.
    formula
        The calculation written out (checkable by hand).
    details
        Inputs and intermediate values.
    table
        A per-year table, for stage-cost benefits.
    """

    amount: float
    unit: str
    label: str
    formula: str
    details: Mapping[str, Any] = field(default_factory=dict)
    table: pd.DataFrame | None = field(default=None, repr=False, compare=False)

    def in_unit(self, unit: str) -> float:
        """The amount converted to another unit (e.g. ``"円"``)."""
        _check_unit(unit)
        return self.amount * UNITS[self.unit] / UNITS[unit]

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready dict (the per-year table as records)."""
        return to_jsonable(  # type: ignore[no-any-return]
            {
                "label": self.label,
                "amount": self.amount,
                "unit": self.unit,
                "formula": self.formula,
                "details": dict(self.details),
                "table": None if self.table is None else self.table.reset_index(),
            }
        )

    def __str__(self) -> str:
        return f"{self.label}: {self.formula} {self.unit}"


def fiscal_effect(
    *,
    cost_without: float,
    cost_with: float = 0.0,
    cases: float,
    effective_rate: float = 1.0,
    unit: str = "千円",
    label: str = "行財政効果",
) -> Benefit:
    """Saving per case × effective benefit rate × number of cases.

    The saving per case is ``cost_without − cost_with`` (e.g. treatment cost of a cancer found
    late minus found early); leave ``cost_with`` at 0 to give the saving directly.

    Examples
    --------
    >>> b = fiscal_effect(cost_without=2520, cost_with=650, cases=11, effective_rate=0.82)
    >>> round(b.amount, 6), b.formula
    (16867.4, '(2,520 − 650) × 0.82 × 11 = 16,867.4')
    """
    _check_unit(unit)
    if not 0 <= effective_rate <= 1:
        raise PfsevalError(
            f"effective_rate must be a fraction in [0, 1], got {effective_rate!r}. "
            "Fix: write 0.82 for 82%."
        )
    if cases < 0:
        raise PfsevalError(f"cases must not be negative, got {cases!r}")
    saving = cost_without - cost_with
    amount = saving * effective_rate * cases
    head = (
        f"({fmt_amount(cost_without)} − {fmt_amount(cost_with)})"
        if cost_with
        else fmt_amount(cost_without)
    )
    formula = f"{head} × {fmt_amount(effective_rate)} × {fmt_amount(cases)} = {fmt_amount(amount)}"
    return Benefit(
        amount=amount,
        unit=unit,
        label=label,
        formula=formula,
        details={
            "cost_without": cost_without,
            "cost_with": cost_with,
            "saving_per_case": saving,
            "effective_rate": effective_rate,
            "cases": cases,
        },
    )


def value_per_examinee(
    *,
    saving_per_case: float,
    examinees_per_case: float,
    unit: str = "千円",
    label: str = "受診者1人当たりの価値",
) -> Benefit:
    """Value of one extra examinee: saving per case found ÷ examinees needed per case found.

    Examples
    --------
    >>> b = value_per_examinee(saving_per_case=3080, examinees_per_case=300)
    >>> round(b.amount, 4), b.formula
    (10.2667, '3,080 ÷ 300 = 10.2666666667')
    """
    _check_unit(unit)
    if examinees_per_case <= 0:
        raise PfsevalError(f"examinees_per_case must be positive, got {examinees_per_case!r}")
    amount = saving_per_case / examinees_per_case
    return Benefit(
        amount=amount,
        unit=unit,
        label=label,
        formula=f"{fmt_amount(saving_per_case)} ÷ {fmt_amount(examinees_per_case)} = {fmt_amount(amount)}",
        details={"saving_per_case": saving_per_case, "examinees_per_case": examinees_per_case},
    )


def project_stages(
    initial: Mapping[str, float], transition: pd.DataFrame, *, years: int
) -> pd.DataFrame:
    """People by disease stage over years from a yearly transition matrix (a Markov model).

    Parameters
    ----------
    initial
        Stage → number of people in year 0.
    transition
        Row-stochastic matrix: ``transition.loc[a, b]`` is the yearly probability of moving
        from stage ``a`` to stage ``b``; rows and columns list the same stages.
    years
        Number of years after year 0.

    Returns
    -------
    pandas.DataFrame
        Index ``year`` (0 … years), one column per stage.

    Examples
    --------
    >>> P = pd.DataFrame([[0.9, 0.1], [0.0, 1.0]], index=["G3", "G4"], columns=["G3", "G4"])
    >>> project_stages({"G3": 100, "G4": 0}, P, years=2).round(6).to_dict("list")
    {'G3': [100.0, 90.0, 81.0], 'G4': [0.0, 10.0, 19.0]}
    """
    stages = list(transition.index)
    if list(transition.columns) != stages:
        raise PfsevalError(
            "transition matrix: rows and columns must list the same stages in the same order "
            f"(rows {stages}, columns {list(transition.columns)})"
        )
    P = transition.to_numpy(dtype=float)
    bad = [
        s for s, row in zip(stages, P, strict=True) if (row < 0).any() or abs(row.sum() - 1) > 1e-9
    ]
    if bad:
        raise PfsevalError(
            f"transition matrix rows {bad} are not probabilities summing to 1. "
            "Fix: each row gives the yearly probabilities of moving to every stage."
        )
    unknown = set(initial) - set(stages)
    if unknown:
        raise PfsevalError(
            f"initial counts name stages {sorted(unknown)} not in the matrix {stages}"
        )
    if years < 0:
        raise PfsevalError(f"years must not be negative, got {years!r}")
    x = np.array([float(initial.get(s, 0.0)) for s in stages])
    out = [x]
    for _ in range(years):
        x = x @ P
        out.append(x)
    return pd.DataFrame(np.vstack(out), columns=stages, index=pd.RangeIndex(years + 1, name="year"))


def stage_costs(
    people: pd.DataFrame, *, annual_cost: Mapping[str, float], discount_rate: float = 0.0
) -> pd.DataFrame:
    """Yearly medical cost of people by stage, and its discounted value.

    Parameters
    ----------
    people
        One row per year (in order; the first row is year 0), one column per stage.
    annual_cost
        Stage → cost per person per year. Every column of ``people`` needs a cost.
    discount_rate
        Yearly discount rate; year ``t`` is divided by ``(1 + discount_rate) ** t``.

    Returns
    -------
    pandas.DataFrame
        Per year: ``cost`` (undiscounted), ``discount_factor`` and ``discounted_cost``.

    Examples
    --------
    >>> people = pd.DataFrame({"G3": [100.0, 90.0], "G4": [0.0, 10.0]})
    >>> t = stage_costs(people, annual_cost={"G3": 300, "G4": 1000}, discount_rate=0.02)
    >>> t["cost"].tolist(), round(float(t["discounted_cost"].sum()), 4)
    ([30000.0, 37000.0], 66274.5098)
    """
    missing = [c for c in people.columns if c not in annual_cost]
    if missing:
        raise PfsevalError(
            f"annual_cost has no cost for stage(s) {missing}. Fix: add a cost for every stage."
        )
    if discount_rate <= -1:
        raise PfsevalError(f"discount_rate must be above -1, got {discount_rate!r}")
    cost_vec = np.array([float(annual_cost[c]) for c in people.columns])
    cost = people.to_numpy(dtype=float) @ cost_vec
    t = np.arange(len(people), dtype=float)
    factor = (1.0 + discount_rate) ** -t
    return pd.DataFrame(
        {"cost": cost, "discount_factor": factor, "discounted_cost": cost * factor},
        index=people.index,
    )


def stage_cost_saving(
    *,
    without_programme: pd.DataFrame,
    with_programme: pd.DataFrame,
    annual_cost: Mapping[str, float],
    discount_rate: float = 0.0,
    unit: str = "千円",
    label: str = "医療費適正化効果",
) -> Benefit:
    """Discounted medical cost without the programme minus with it (people by stage and year).

    Examples
    --------
    >>> P0 = pd.DataFrame([[0.8, 0.2], [0.0, 1.0]], index=["G3", "G4"], columns=["G3", "G4"])
    >>> P1 = pd.DataFrame([[0.9, 0.1], [0.0, 1.0]], index=["G3", "G4"], columns=["G3", "G4"])
    >>> b = stage_cost_saving(without_programme=project_stages({"G3": 100}, P0, years=1),
    ...                       with_programme=project_stages({"G3": 100}, P1, years=1),
    ...                       annual_cost={"G3": 300, "G4": 1000})
    >>> b.amount
    7000.0
    """
    _check_unit(unit)
    if list(without_programme.columns) != list(with_programme.columns) or len(
        without_programme
    ) != len(with_programme):
        raise PfsevalError(
            "without_programme and with_programme must have the same stages (columns) and years"
        )
    a = stage_costs(without_programme, annual_cost=annual_cost, discount_rate=discount_rate)
    b = stage_costs(with_programme, annual_cost=annual_cost, discount_rate=discount_rate)
    table = pd.DataFrame(
        {
            "cost_without": a["cost"],
            "cost_with": b["cost"],
            "discount_factor": a["discount_factor"],
            "saving_discounted": a["discounted_cost"] - b["discounted_cost"],
        }
    )
    amount = float(table["saving_discounted"].sum())
    ta, tb = float(a["discounted_cost"].sum()), float(b["discounted_cost"].sum())
    return Benefit(
        amount=amount,
        unit=unit,
        label=label,
        formula=f"{fmt_amount(ta)} − {fmt_amount(tb)} = {fmt_amount(amount)}",
        details={
            "discount_rate": discount_rate,
            "years": len(table),
            "cost_without_discounted": ta,
            "cost_with_discounted": tb,
        },
        table=table,
    )


@dataclass(frozen=True)
class CapCheck:
    """Whether a contract's payment cap stays below the quantified benefit.

    ``cap`` and ``benefit`` are in the contract's ``unit``; ``ok`` is ``cap ≤ benefit``;
    ``margin = benefit − cap``; ``ratio = cap / benefit``. ``cap_source`` says whether the cap
    is the contract's 支払上限額 or the largest payment its terms allow.
    """

    cap: float
    benefit: float
    unit: str
    ok: bool
    margin: float
    ratio: float
    cap_source: Literal["contract cap", "largest possible payment"]

    def message(self, lang: Literal["ja", "en"] = "ja") -> str:
        """One sentence stating the result."""
        c, b, u = fmt_amount(self.cap), fmt_amount(self.benefit), self.unit
        if lang == "ja":
            verdict = "以下です" if self.ok else "を上回っています（上限の見直しを検討）"
            return f"支払上限額 {c}{u} は行財政効果 {b}{u} {verdict}。"
        verdict = "stays below" if self.ok else "exceeds"
        return f"The payment cap of {c} {u} {verdict} the quantified benefit of {b} {u}."

    def to_dict(self) -> dict[str, Any]:
        return to_jsonable(self.__dict__)  # type: ignore[no-any-return]


def check_cap(contract: Contract, benefit: Benefit | float) -> CapCheck:
    """Check that the contract's payment cap stays below the quantified benefit.

    A plain number is taken to be in the contract's unit. Without a contract cap, the largest
    payment the terms allow (fixed + every component at its maximum) is used.

    Examples
    --------
    >>> c = Contract.from_dict({"contract": {"name": "例", "unit": "千円", "cap": 9500,
    ...     "rounding": "floor", "fixed": [{"label": "固定", "amount": 4500}]}})
    >>> check_cap(c, fiscal_effect(cost_without=2520, cost_with=650, cases=11,
    ...                            effective_rate=0.82)).ok
    True
    """
    value = benefit.in_unit(contract.unit) if isinstance(benefit, Benefit) else float(benefit)
    cap = contract.max_payment()
    source: Literal["contract cap", "largest possible payment"] = (
        "contract cap" if contract.cap is not None else "largest possible payment"
    )
    return CapCheck(
        cap=cap,
        benefit=value,
        unit=contract.unit,
        ok=cap <= value,
        margin=value - cap,
        ratio=cap / value if value else float("inf"),
        cap_source=source,
    )
