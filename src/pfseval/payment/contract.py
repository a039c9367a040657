"""Payment contracts as data: load and validate a TOML contract, evaluate it on indicators.

A contract has fixed payments (固定支払), outcome-linked components (成果連動支払), each tied
to one indicator through a schedule, a rounding rule applied to each component, and an overall
cap (支払上限額). The order of operations for each component is: schedule → component floor
and cap (and the allocation, when given) → rounding; then total = fixed + components, limited
to ``[0, cap]``.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import numpy as np
from numpy.typing import NDArray

from pfseval.errors import ContractError
from pfseval.messages import Notice
from pfseval.payment._keys import Reader, load_toml
from pfseval.payment.notices import point_for_bound
from pfseval.payment.result import PaymentResult, build_result
from pfseval.payment.schedules import (
    DIRECTIONS,
    ROUNDING_RULES,
    Direction,
    Schedule,
    round_amounts,
    round_significant,
    round_values,
    schedule_from_dict,
)
from pfseval.result import Estimate

__all__ = [
    "BASES",
    "KINDS",
    "UNITS",
    "Basis",
    "Component",
    "Contract",
    "FixedPayment",
    "Indicators",
]

Basis = Literal["point", "conf_low", "conf_high"]
BASES: tuple[str, ...] = ("point", "conf_low", "conf_high")
#: Units a contract may be written in, with their value in yen.
UNITS: dict[str, int] = {"円": 1, "千円": 1_000, "万円": 10_000, "百万円": 1_000_000}
Indicators = Mapping[str, "Estimate | float"]
#: Indicator kinds a component may declare, with the values they allow (checked on evaluate).
KINDS: dict[str, str] = {
    "proportion": "a fraction in [0, 1] (write 0.3 for 30%)",
    "count": "a number of people or events, at least 0",
    "amount": "an amount of money or a quantity, at least 0",
    "difference": "a change or a difference, any sign",
}


@dataclass(frozen=True)
class FixedPayment:
    """A fixed payment (固定支払), paid regardless of the indicators."""

    label: str
    amount: float
    timing: str | None = None
    description: str | None = None

    def to_dict(self) -> dict[str, Any]:
        d: dict[str, Any] = {"label": self.label, "amount": self.amount}
        for k in ("timing", "description"):
            if getattr(self, k) is not None:
                d[k] = getattr(self, k)
        return d


@dataclass(frozen=True)
class Component:
    """An outcome-linked payment (成果連動支払) tied to one indicator by a schedule.

    Attributes
    ----------
    indicator
        Indicator id looked up in the mapping passed to :meth:`Contract.evaluate`.
    label
        Display name (unique within the contract), e.g. ``"腎機能低下抑制率"``.
    schedule
        The payment schedule (see :mod:`pfseval.payment.schedules`).
    allocation
        Amount allocated to the component (配分額); ``proportional``, ``band`` and
        ``pass_fail`` pay a share of it. The component never pays more than it.
    basis
        Which value of an :class:`~pfseval.result.Estimate` pays: ``point``, ``conf_low`` or
        ``conf_high``.
    cap, floor
        Component-level upper and lower limits on the amount (before rounding).
    rounding, rounding_unit
        Override the contract's rounding rule for this component.
    value_decimals
        Override the contract's ``value_decimals`` for this component: the indicator value is
        rounded half up to this many decimals before the schedule is applied.
    direction
        ``"higher"`` (default) or ``"lower"`` when lower values are better (dialysis
        transitions, worsened checklists); see :mod:`pfseval.payment.schedules`.
    kind
        What the indicator is (:data:`KINDS`): ``proportion`` values must lie in [0, 1],
        ``count`` and ``amount`` values must not be negative. ``None``: not declared.
    """

    indicator: str
    label: str
    schedule: Schedule
    allocation: float | None = None
    basis: Basis = "point"
    cap: float | None = None
    floor: float | None = None
    rounding: str | None = None
    rounding_unit: float | None = None
    timing: str | None = None
    description: str | None = None
    value_decimals: int | None = None
    kind: str | None = None

    @property
    def direction(self) -> Direction:
        """``"higher"`` or ``"lower"``: which indicator values are better (from the schedule)."""
        return getattr(self.schedule, "direction", "higher")  # type: ignore[no-any-return]

    @property
    def upper(self) -> float | None:
        """The highest amount the component may pay: the smaller of cap and allocation."""
        return _upper_limit(self.cap, self.allocation)

    def amounts(
        self, x: NDArray[np.float64], *, rounding: str, rounding_unit: float
    ) -> tuple[NDArray[np.float64], NDArray[np.float64], NDArray[np.float64]]:
        """Raw, capped and rounded amounts for indicator values ``x``."""
        raw = self.schedule.amounts(x, self.allocation)
        lo = -np.inf if self.floor is None else self.floor
        hi = np.inf if self.upper is None else self.upper
        capped = np.clip(raw, lo, hi)
        return raw, capped, self.round(capped, rounding=rounding, rounding_unit=rounding_unit)

    def round(
        self, capped: NDArray[np.float64], *, rounding: str, rounding_unit: float
    ) -> NDArray[np.float64]:
        """Round amounts by the component's rule (else the contract's), never past its limits.

        With ``ceil``, a cap of 250.5 pays 250: rounding does not carry an amount over the cap
        or under the floor.
        """
        rule = self.rounding or rounding
        unit = self.rounding_unit if self.rounding_unit is not None else rounding_unit
        rounded = round_amounts(capped, rule=rule, unit=unit)
        if rule != "none":
            if self.upper is not None:
                rounded = np.minimum(rounded, round_amounts(self.upper, rule="floor", unit=unit))
            if self.floor is not None:
                inward = "ceil" if self.floor > 0 else "floor"
                rounded = np.maximum(rounded, round_amounts(self.floor, rule=inward, unit=unit))
        return rounded

    def to_dict(self) -> dict[str, Any]:
        d: dict[str, Any] = {"indicator": self.indicator, "label": self.label}
        if self.allocation is not None:
            d["allocation"] = self.allocation
        d["basis"] = self.basis
        for k in (
            "cap",
            "floor",
            "rounding",
            "rounding_unit",
            "value_decimals",
            "kind",
            "timing",
            "description",
        ):
            if getattr(self, k) is not None:
                d[k] = getattr(self, k)
        if self.direction != "higher":
            d["direction"] = self.direction
        d["schedule"] = self.schedule.to_dict()
        return d


@dataclass(frozen=True)
class Payments:
    """Vectorised payments for ``n`` sets of indicator values (one row each)."""

    values: NDArray[np.float64]  # (n, k) values the schedules used (after value_decimals)
    raw: NDArray[np.float64]  # (n, k) per component
    capped: NDArray[np.float64]
    rounded: NDArray[np.float64]
    fixed: float
    subtotal: NDArray[np.float64]  # (n,)
    total: NDArray[np.float64]
    cap_applied: NDArray[np.bool_]


@dataclass(frozen=True)
class Contract:
    """A validated payment contract. Build it with :meth:`from_toml` or :meth:`from_dict`.

    Those two constructors validate every key; building the dataclass directly skips
    validation. See ``docs/payment.md`` for the file format and the order of operations.

    ``value_decimals`` (optional, contract-wide; a component may override it) is the
    precision at which the contract reads its indicators: each value is rounded half up to
    that many decimals before its schedule is applied (Kobe: 32.9% → 0.329).

    Examples
    --------
    >>> c = Contract.from_dict({"contract": {
    ...     "name": "例", "unit": "千円", "cap": 9500, "rounding": "floor",
    ...     "fixed": [{"label": "固定支払", "amount": 4500}],
    ...     "component": [{"indicator": "extra_screened", "label": "受診者増加数",
    ...                    "schedule": {"type": "per_unit", "unit_amount": 10, "max_units": 500}}]}})
    >>> c.evaluate({"extra_screened": 921}).total
    9500.0
    >>> Contract.from_dict(c.to_dict()) == c
    True
    """

    name: str
    unit: str
    rounding: str
    rounding_unit: float = 1
    cap: float | None = None
    fixed: tuple[FixedPayment, ...] = ()
    components: tuple[Component, ...] = ()
    description: str | None = None
    value_decimals: int | None = None
    source: str = field(default="", compare=False)

    # -- loading ---------------------------------------------------------------
    @classmethod
    def from_toml(cls, path: str | Path) -> Contract:
        """Read and validate a contract file; errors name the file and the key path."""
        return cls.from_dict(load_toml(path), file=str(path))

    @classmethod
    def from_dict(cls, d: Mapping[str, Any], *, file: str = "") -> Contract:
        """Validate a contract given as a dict shaped like the TOML file (``{"contract": ...}``)."""
        root = Reader("", file)
        top = root.table(d)
        root.keys(top, required=("contract",), optional=())
        r = Reader("contract", file)
        c = r.table(top["contract"])
        r.keys(
            c,
            required=("name", "unit", "rounding"),
            optional=(
                "cap",
                "rounding_unit",
                "value_decimals",
                "description",
                "fixed",
                "component",
            ),
        )
        name = r.at("name").string(c["name"])
        unit = r.at("unit").string(c["unit"], choices=tuple(UNITS))
        rounding = r.at("rounding").string(c["rounding"], choices=ROUNDING_RULES)
        runit = r.opt_number(c, "rounding_unit", positive=True)
        cap = r.opt_number(c, "cap", minimum=0)
        desc = r.opt_string(c, "description")
        vdec = (
            _decimals(r.at("value_decimals"), c["value_decimals"])
            if "value_decimals" in c
            else None
        )
        fixed = tuple(
            _fixed_from(r.at("fixed").at(i), f)
            for i, f in enumerate(r.at("fixed").array(c.get("fixed", [])))
        )
        comps = tuple(
            _component_from(r.at("component").at(i), x)
            for i, x in enumerate(r.at("component").array(c.get("component", [])))
        )
        if not fixed and not comps:
            r.fail("the contract has no fixed payment and no component. Fix: add at least one.")
        fixed_total = sum(f.amount for f in fixed)
        if cap is not None and cap < fixed_total:
            r.at("cap").fail(
                f"the cap {cap:g} is below the fixed payments, which add up to {fixed_total:g}; "
                "the contract could never pay what it promises as fixed. "
                "Fix: raise the cap or lower the fixed payments."
            )
        seen: dict[str, int] = {}
        for i, comp in enumerate(comps):
            if comp.label in seen:
                r.at("component").at(i).at("label").fail(
                    f"label {comp.label!r} is already used by contract.component[{seen[comp.label]}]"
                    ". Fix: give every component its own label."
                )
            seen[comp.label] = i
        return cls(
            name=name,
            unit=unit,
            rounding=rounding,
            rounding_unit=1 if runit is None else runit,
            cap=cap,
            fixed=fixed,
            components=comps,
            description=desc,
            value_decimals=vdec,
            source=file,
        )

    def to_dict(self) -> dict[str, Any]:
        """The contract as a dict shaped like the TOML file; ``from_dict`` round-trips it."""
        c: dict[str, Any] = {"name": self.name, "unit": self.unit}
        if self.description is not None:
            c["description"] = self.description
        if self.cap is not None:
            c["cap"] = self.cap
        c["rounding"] = self.rounding
        c["rounding_unit"] = self.rounding_unit
        if self.value_decimals is not None:
            c["value_decimals"] = self.value_decimals
        if self.fixed:
            c["fixed"] = [f.to_dict() for f in self.fixed]
        if self.components:
            c["component"] = [x.to_dict() for x in self.components]
        return {"contract": c}

    def to_toml(self) -> str:
        """The contract as TOML text (``from_toml`` reads it back to an equal contract)."""
        import tomli_w

        return tomli_w.dumps(self.to_dict())

    # -- queries ---------------------------------------------------------------
    @property
    def fixed_total(self) -> float:
        return float(sum(f.amount for f in self.fixed))

    def component_index(self, component: int | str) -> int:
        """Position of a component given by position, label or (unique) indicator id."""
        if isinstance(component, int):
            if not 0 <= component < len(self.components):
                raise IndexError(
                    f"component {component} does not exist; the contract has "
                    f"{len(self.components)} component(s)"
                )
            return component
        for key in ("label", "indicator"):
            hits = [i for i, c in enumerate(self.components) if getattr(c, key) == component]
            if len(hits) == 1:
                return hits[0]
        labels = ", ".join(repr(c.label) for c in self.components)
        raise KeyError(
            f"no single component with label or indicator {component!r}; labels: {labels}"
        )

    def max_payment(self) -> float:
        """The most the contract can pay: its cap, or fixed + every component's maximum.

        A component without cap or allocation whose schedule is unbounded gives ``inf``.

        Examples
        --------
        >>> c = Contract.from_dict({"contract": {"name": "例", "unit": "円", "rounding": "ceil",
        ...     "component": [{"indicator": "x", "label": "X",
        ...                    "schedule": {"type": "step", "steps": [[1, 10.2], [2, 7]]}}]}})
        >>> c.max_payment()
        11.0
        """
        if self.cap is not None:
            return float(self.cap)
        total = self.fixed_total
        for c in self.components:
            hi = c.schedule.max_amount(c.allocation)
            if c.upper is not None:
                hi = min(hi, c.upper)
            if c.floor is not None:
                hi = max(hi, c.floor)
            if math.isfinite(hi):
                hi = float(
                    c.round(
                        np.array([hi]), rounding=self.rounding, rounding_unit=self.rounding_unit
                    )[0]
                )
            total += hi
        return total

    # -- evaluation ------------------------------------------------------------
    def decimals(self) -> tuple[int | None, ...]:
        """Per component, the decimals its indicator value is rounded to (None: as is)."""
        return tuple(
            c.value_decimals if c.value_decimals is not None else self.value_decimals
            for c in self.components
        )

    def values_used(self, values: NDArray[np.float64]) -> NDArray[np.float64]:
        """The indicator values the schedules see: each column rounded half up to its
        component's ``value_decimals``, or, where none is set, to
        :data:`~pfseval.payment.schedules.DEFAULT_VALUE_DIGITS` (12) significant digits, so
        that floating-point noise never decides a tier (the mean of 10% and 70% meets 0.4).

        Examples
        --------
        >>> c = Contract.from_dict({"contract": {"name": "例", "unit": "千円",
        ...     "rounding": "floor", "value_decimals": 3,
        ...     "component": [{"indicator": "r", "label": "率", "allocation": 7860,
        ...                    "schedule": {"type": "proportional", "target": 0.8}}]}})
        >>> c.values_used(np.array([[0.32949]])).tolist()
        [[0.329]]
        >>> c.evaluate({"r": 0.32949}).total
        3232.0
        """
        v = np.atleast_2d(np.asarray(values, dtype=float)).copy()
        for j, d in enumerate(self.decimals()):
            if j >= v.shape[1]:
                continue
            if d is not None:
                v[:, j] = round_values(v[:, j], decimals=d)
            else:
                v[:, j] = round_significant(v[:, j])
        return v

    def payments(self, values: NDArray[np.float64]) -> Payments:
        """Vectorised payments for a ``(n, k)`` array of indicator values (k = components).

        This is the single computation behind :meth:`evaluate`, the payment distribution and
        contract simulation. Values are first rounded by :meth:`values_used`.
        """
        v = np.atleast_2d(np.asarray(values, dtype=float))
        k = len(self.components)
        if v.shape[1] != k:
            raise ValueError(f"values must have {k} columns (one per component), got {v.shape[1]}")
        v = self.values_used(v)
        parts = [
            comp.amounts(v[:, j], rounding=self.rounding, rounding_unit=self.rounding_unit)
            for j, comp in enumerate(self.components)
        ]
        raw, capped, rounded = (
            np.column_stack([p[i] for p in parts]) if parts else np.zeros((v.shape[0], 0))
            for i in range(3)
        )
        subtotal = self.fixed_total + rounded.sum(axis=1)
        hi = np.inf if self.cap is None else self.cap
        total = np.clip(subtotal, 0.0, hi)
        return Payments(
            values=v,
            raw=raw,
            capped=capped,
            rounded=rounded,
            fixed=self.fixed_total,
            subtotal=subtotal,
            total=total,
            cap_applied=subtotal > hi,
        )

    def indicator_values(
        self, indicators: Indicators, *, basis: Basis | None = None
    ) -> tuple[list[float], list[Notice]]:
        """The value each component uses, and notes on numbers used without an interval.

        Raises :class:`~pfseval.errors.ContractError` naming the component's key path when an
        indicator is not supplied or is not a finite number.
        """
        out: list[float] = []
        notes: list[Notice] = []
        for i, comp in enumerate(self.components):
            path = f"contract.component[{i}].indicator"
            b = basis or comp.basis
            if comp.indicator not in indicators:
                supplied = ", ".join(repr(k) for k in indicators) or "none"
                raise ContractError(
                    path,
                    f"indicator {comp.indicator!r} (component {comp.label!r}) was not supplied; "
                    f"supplied: {supplied}. Fix: pass it in the indicators mapping or correct "
                    "the id in the contract.",
                    file=self.source,
                )
            ind = indicators[comp.indicator]
            if isinstance(ind, Estimate):
                x = ind.value if b == "point" else getattr(ind, b)
            elif isinstance(ind, int | float | np.integer | np.floating) and not isinstance(
                ind, bool
            ):
                x = float(ind)
                if basis is None and b != "point":
                    notes.append(point_for_bound(comp.indicator, b))
            else:
                raise ContractError(
                    path,
                    f"indicator {comp.indicator!r} must be an Estimate or a number, got "
                    f"{type(ind).__name__}.",
                    file=self.source,
                )
            if not math.isfinite(x):
                raise ContractError(
                    path,
                    f"indicator {comp.indicator!r} has no finite {b} value ({x!r}). Fix: supply "
                    "an estimate with a finite value and interval.",
                    file=self.source,
                )
            _check_kind(comp, float(x), path=f"contract.component[{i}]", file=self.source)
            out.append(float(x))
        return out, notes

    def evaluate(self, indicators: Indicators, *, basis: Basis | None = None) -> PaymentResult:
        """Apply the contract to indicator estimates.

        Parameters
        ----------
        indicators
            Indicator id → :class:`~pfseval.result.Estimate` or a number. Ids the contract does
            not use are ignored.
        basis
            Evaluate every component at this value of its estimate instead of the component's
            own ``basis`` (used for the payment at the CI bounds).

        Returns
        -------
        PaymentResult
            Total, breakdown, audit trail.
        """
        if basis is not None and basis not in BASES:
            raise ValueError(f"basis must be one of {BASES}, got {basis!r}")
        values, notes = self.indicator_values(indicators, basis=basis)
        pay = self.payments(np.array([values]))
        used = [float(x) for x in pay.values[0]]
        return build_result(self, used, pay, basis=basis, notes=notes, estimates=values)


# ---------------------------------------------------------------- parsing helpers


def _upper_limit(cap: float | None, allocation: float | None) -> float | None:
    """The smaller of a component's cap and allocation (None when it has neither)."""
    lims = [v for v in (cap, allocation) if v is not None]
    return min(lims) if lims else None


def _check_kind(comp: Component, x: float, *, path: str, file: str) -> None:
    """Reject a value its component's kind does not allow (a rate of 30 meaning 30%)."""
    kind = comp.kind
    bad = ""
    if kind == "proportion" and not 0 <= x <= 1:
        bad = f'is declared kind = "proportion" but its value is {x!r}, outside [0, 1]'
        fix = "write 0.3 for 30% (divide a percentage by 100)"
    elif kind in ("count", "amount") and x < 0:
        bad = f'is declared kind = "{kind}" but its value {x!r} is negative'
        fix = 'check the value, or declare kind = "difference" for a change'
    if bad:
        raise ContractError(
            f"{path}.indicator",
            f"indicator {comp.indicator!r} (component {comp.label!r}) {bad}. Fix: {fix}.",
            file=file,
        )


def _check_kind_thresholds(r: Reader, kind: str | None, schedule: Schedule) -> None:
    """A proportion's schedule must be written in fractions (a target of 80 means 8000%)."""
    if kind != "proportion":
        return
    bad = [k for k in schedule.knots() if not 0 <= k <= 1]
    if bad:
        r.at("schedule").fail(
            f'the component is kind = "proportion" but its schedule has the value '
            f"{bad[0]:g} outside [0, 1]. Fix: write thresholds as fractions (0.8 for 80%)."
        )


def _fixed_from(r: Reader, d: Any) -> FixedPayment:
    t = r.table(d)
    r.keys(t, required=("label", "amount"), optional=("timing", "description"))
    return FixedPayment(
        label=r.at("label").string(t["label"]),
        amount=r.at("amount").number(t["amount"], minimum=0, what="amount"),
        timing=r.opt_string(t, "timing"),
        description=r.opt_string(t, "description"),
    )


def _component_from(r: Reader, d: Any) -> Component:
    t = r.table(d)
    r.keys(
        t,
        required=("indicator", "label", "schedule"),
        optional=(
            "allocation",
            "basis",
            "cap",
            "floor",
            "rounding",
            "rounding_unit",
            "value_decimals",
            "direction",
            "kind",
            "timing",
            "description",
        ),
    )
    direction: Direction = r.opt_string(t, "direction", choices=DIRECTIONS) or "higher"  # type: ignore[assignment]
    kind = r.opt_string(t, "kind", choices=tuple(KINDS))
    schedule = schedule_from_dict(
        t["schedule"], path=f"{r.path}.schedule", file=r.file, direction=direction
    )
    _check_kind_thresholds(r, kind, schedule)
    allocation = r.opt_number(t, "allocation", minimum=0)
    if allocation is None and schedule.needs_allocation:
        r.at("allocation").fail(
            f"schedule type {schedule.type!r} pays a share of the allocation, but no allocation "
            "is given. Fix: add `allocation = <amount>`."
        )
    cap = r.opt_number(t, "cap", minimum=0)
    floor = r.opt_number(t, "floor")
    upper = _upper_limit(cap, allocation)
    if floor is not None and upper is not None and floor > upper:
        r.at("floor").fail(
            f"floor {floor:g} is above the component's upper limit {upper:g} (its cap or "
            "allocation). Fix: lower the floor or raise the cap."
        )
    return Component(
        indicator=r.at("indicator").string(t["indicator"]),
        label=r.at("label").string(t["label"]),
        schedule=schedule,
        allocation=allocation,
        basis=r.opt_string(t, "basis", choices=BASES) or "point",  # type: ignore[arg-type]
        cap=cap,
        floor=floor,
        rounding=r.opt_string(t, "rounding", choices=ROUNDING_RULES),
        rounding_unit=r.opt_number(t, "rounding_unit", positive=True),
        value_decimals=(
            _decimals(r.at("value_decimals"), t["value_decimals"])
            if "value_decimals" in t
            else None
        ),
        kind=kind,
        timing=r.opt_string(t, "timing"),
        description=r.opt_string(t, "description"),
    )


#: Most decimals a contract may read an indicator at (beyond this, floats are not exact).
MAX_VALUE_DECIMALS = 12


def _decimals(r: Reader, v: Any) -> int:
    if isinstance(v, bool) or not isinstance(v, int):
        r.fail(
            f"value_decimals must be a whole number of decimal places, got {v!r}. "
            "Fix: write e.g. value_decimals = 3 to read 32.94% as 0.329."
        )
    if not 0 <= v <= MAX_VALUE_DECIMALS:
        r.fail(
            f"value_decimals must be between 0 and {MAX_VALUE_DECIMALS}, got {v}. "
            "Fix: give the number of decimals the contract reads the indicator at."
        )
    return v
