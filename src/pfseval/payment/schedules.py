"""Payment schedules: pure, vectorised functions from an indicator value to an amount.

Each schedule is a frozen dataclass with ``amounts(x, allocation)`` (numpy, any shape),
``describe(x, allocation, lang)`` (the step reached and the hand-checkable formula for one
value), ``full_value()`` (the indicator value from which it pays its maximum) and
``to_dict()``. :func:`round_amounts` applies a contract's rounding rule.

Schedule types (``type = ...`` in the contract):

``proportional``
    ``clip(x / target, 0, 1) × allocation``; nothing below ``lower`` when given.
``per_unit``
    ``units × unit_amount`` with ``units = clip(x, 0, max_units)``; nothing below
    ``min_units`` (a lower limit); ``whole_units = true`` pays whole units only. A negative
    ``unit_amount`` is a deduction per unit of a bad outcome.
``step``
    ``steps = [[threshold, amount], ...]``: the amount of the highest threshold reached, 0 below
    the first.
``band``
    ``bands = [[threshold, pay_rate], ...]``: ``pay_rate × allocation`` for the highest threshold
    reached, 0 below the first.
``interpolate``
    ``points = [[x, amount], ...]``: linear between points, ``below`` (default 0) under the first
    point, the last amount above the last point.
``pass_fail``
    the whole allocation when ``x ≥ threshold``, else 0.

Every schedule also works for lower-is-better indicators (dialysis transitions, people whose
checklist worsened, drugs per person), declared as ``direction = "lower"`` on the component:
a table row ``[t, a]`` is then reached when ``x ≤ t`` and the most demanding row reached (the
smallest ``t``) pays; ``proportional`` pays ``clip(target / x, 0, 1)`` (full at or below the
target, nothing above ``lower``, which is then the worst value still paid); ``per_unit`` counts
units below a ``reference`` (``reference − x``); ``interpolate`` pays the first amount below
the first point and ``below`` (default 0) above the last; ``pass_fail`` passes when
``x ≤ threshold``.
"""

from __future__ import annotations

import math
from abc import ABC, abstractmethod
from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal
from typing import Any, ClassVar, Literal

import numpy as np
from numpy.typing import ArrayLike, NDArray

from pfseval.payment._keys import Reader

__all__ = [
    "DIRECTIONS",
    "ROUNDING_RULES",
    "SCHEDULE_TYPES",
    "Band",
    "Interpolate",
    "PassFail",
    "PerUnit",
    "Proportional",
    "Schedule",
    "Step",
    "fmt_amount",
    "round_amounts",
    "round_significant",
    "round_values",
    "schedule_from_dict",
]

Lang = Literal["ja", "en"]
Direction = Literal["higher", "lower"]
DIRECTIONS: tuple[str, ...] = ("higher", "lower")
ROUNDING_RULES = ("floor", "half_up", "ceil", "none")
ROUNDING_WORDS = {
    "ja": {"floor": "切り捨て", "half_up": "四捨五入", "ceil": "切り上げ", "none": "端数処理なし"},
    "en": {
        "floor": "round down",
        "half_up": "round half up",
        "ceil": "round up",
        "none": "no rounding",
    },
}
# Amounts within this relative distance of a rounding boundary are treated as on it: binary
# floating point cannot represent most decimal fractions, so 0.7 / 0.8 * 800 is
# 699.9999999999999. A few operations err by ~1e-16 relative; 1e-12 leaves a wide margin
# and is far below any amount a contract distinguishes.
_SNAP = 1e-12


def fmt_amount(x: float) -> str:
    """Format a number for an audit trail: thousands separators, up to 12 significant digits.

    Examples
    --------
    >>> fmt_amount(0.329 / 0.80 * 7860), fmt_amount(10482.0), fmt_amount(0.8)
    ('3,232.425', '10,482', '0.8')
    """
    if x == 0:
        return "0"
    return f"{x:,.12g}"


def round_amounts(amounts: ArrayLike, *, rule: str, unit: float = 1) -> NDArray[np.float64]:
    """Round amounts to a multiple of ``unit`` by a contract rounding rule.

    The rules act on the magnitude, as 切り捨て / 切り上げ / 四捨五入 do: ``floor`` truncates
    (3,232.425 → 3,232; a deduction of −2.7 → −2), ``ceil`` rounds away from zero and
    ``half_up`` rounds halves away from zero (2.5 → 3). ``none`` leaves amounts as they are.
    Values within a relative 1e-12 of a boundary count as on it, so floating-point noise such
    as 2.4999999999999996 for an exact 2.5 does not change the result.

    Examples
    --------
    >>> round_amounts([3232.425, 2.5, -2.5, 0.7 / 0.8 * 800], rule="floor").tolist()
    [3232.0, 2.0, -2.0, 700.0]
    >>> round_amounts([2.5, 2.4999999999999996, 1234.0], rule="half_up").tolist()
    [3.0, 3.0, 1234.0]
    >>> round_amounts([1234.0, 1200.0], rule="ceil", unit=100).tolist()
    [1300.0, 1200.0]
    """
    a = np.asarray(amounts, dtype=float)
    if rule == "none":
        return a.copy()
    if rule not in ROUNDING_RULES:
        raise ValueError(f"unknown rounding rule {rule!r}; use one of {ROUNDING_RULES}")
    q = np.abs(a) / unit
    tol = _SNAP * np.maximum(1.0, q)
    if rule == "floor":
        r = np.floor(q + tol)
    elif rule == "ceil":
        r = np.ceil(q - tol)
    else:
        r = np.floor(q + 0.5 + tol)
    decimals = max(0, -int(Decimal(repr(float(unit))).normalize().as_tuple().exponent))
    out = np.round(np.sign(a) * r * unit, decimals)
    return out + 0.0  # no negative zero


def round_values(values: ArrayLike, *, decimals: int) -> NDArray[np.float64]:
    """Round indicator values half up (away from zero) to ``decimals`` decimal places.

    This is how a contract with ``value_decimals`` reads an indicator before its schedule:
    32.94% is paid as 0.329. Values within a relative 1e-12 of a half count as on it, so the
    binary approximation of 0.3285 (0.32849999…) still rounds to 0.329.

    Examples
    --------
    >>> round_values([95 / 104, 0.3285, -0.0005, 1.0], decimals=3).tolist()
    [0.913, 0.329, -0.001, 1.0]
    """
    a = np.asarray(values, dtype=float)
    scale = 10.0**decimals
    q = np.abs(a) * scale
    r = np.floor(q + 0.5 + _SNAP * np.maximum(1.0, q))
    return np.round(np.sign(a) * r / scale, decimals) + 0.0


#: Significant digits at which a contract without ``value_decimals`` reads its indicators.
#: A double carries 15–17; twelve absorbs the error of any short float computation (the mean
#: of 0.1 and 0.7 is 0.39999999999999997, which must meet a 0.4 threshold) and is far finer
#: than any threshold a contract writes.
DEFAULT_VALUE_DIGITS = 12


def round_significant(
    values: ArrayLike, *, digits: int = DEFAULT_VALUE_DIGITS
) -> NDArray[np.float64]:
    """Round indicator values half up to ``digits`` significant digits (NaN and ±inf unchanged).

    The result is the double nearest to the rounded decimal, so comparing it with a threshold
    written in the contract is the decimal comparison of the two numbers.

    Examples
    --------
    >>> round_significant([(0.1 + 0.7) / 2, 921.0, 0.32941176470588235, 0.0]).tolist()
    [0.4, 921.0, 0.329411764706, 0.0]
    """
    a = np.asarray(values, dtype=float)
    out = a.copy()
    m = np.isfinite(a) & (a != 0)
    if not m.any():
        return out + 0.0
    x = a[m]
    dec = digits - 1 - np.floor(np.log10(np.abs(x))).astype(int)
    # multiply/divide by exact powers of ten (10**k is exact in binary for k <= 22)
    up = np.where(dec >= 0, 10.0 ** np.clip(dec, 0, 22), 1.0)
    down = np.where(dec < 0, 10.0 ** np.clip(-dec, 0, 22), 1.0)
    q = np.abs(x) * up / down
    # q has ~12 digits before the point, so only a few ulps of it are noise
    r = np.floor(q + 0.5 + 4 * np.finfo(float).eps * np.maximum(1.0, q))
    out[m] = np.sign(x) * r / up * down
    return out + 0.0


_f = fmt_amount


def _sig(x: float, digits: int) -> str:
    """``x`` to ``digits`` significant digits, with thousands separators."""
    if x == 0 or not math.isfinite(x):
        return fmt_amount(x)
    d = digits - 1 - math.floor(math.log10(abs(x)))
    return fmt_amount(round(x, d) if d > 0 else float(round(x, d)))


@dataclass(frozen=True)
class _Fmt:
    """Formatters for an indicator value ``x`` and for the numbers computed from it.

    With ``decimals=None`` every number is exact. Otherwise a value with more decimals than
    ``decimals`` is shown as ``≈`` its rounded value, and numbers computed from it (ratio,
    raw amount) as ``≈`` with as many significant digits as the shown value, so that the
    text never tells more about the value than the rounded value does.
    """

    exact: bool
    decimals: int = 0
    digits: int = 12

    @classmethod
    def make(cls, x: float, decimals: int | None) -> _Fmt:
        if decimals is None or not math.isfinite(x):
            return cls(exact=True)
        shown = float(round_values([x], decimals=decimals)[0])
        if abs(shown - x) <= _SNAP * max(1.0, abs(x)):
            return cls(exact=True)
        digits = len(f"{abs(shown):.{decimals}f}".replace(".", "").lstrip("0")) or 1
        return cls(exact=False, decimals=decimals, digits=digits)

    def value(self, x: float) -> str:
        if self.exact:
            return _f(x)
        return "≈" + _f(float(round_values([x], decimals=self.decimals)[0]))

    def derived(self, y: float) -> str:
        return _f(y) if self.exact or y == 0 else "≈" + _sig(y, self.digits)


class Schedule(ABC):
    """A pure function from an indicator value to an amount (before caps and rounding)."""

    type: ClassVar[str]
    needs_allocation: ClassVar[bool] = False

    @abstractmethod
    def amounts(self, x: ArrayLike, allocation: float | None = None) -> NDArray[np.float64]:
        """Amounts for indicator values ``x`` (NaN stays NaN)."""

    @abstractmethod
    def describe(
        self, x: float, allocation: float | None, lang: Lang, *, decimals: int | None = None
    ) -> tuple[str, str]:
        """``(step reached, formula)`` for one value, in Japanese or English.

        ``decimals`` limits how precisely the value (and the numbers computed from it) are
        written: a value with more decimals is shown rounded, marked ``≈``. ``None`` = exact.
        """

    @abstractmethod
    def full_value(self) -> float | None:
        """The indicator value from which the schedule pays its maximum (None: no such value)."""

    @abstractmethod
    def max_amount(self, allocation: float | None = None) -> float:
        """The largest amount the schedule can pay (``inf`` when unbounded)."""

    @abstractmethod
    def knots(self) -> tuple[float, ...]:
        """Indicator values where the schedule changes slope or jumps (for plots)."""

    @abstractmethod
    def to_dict(self) -> dict[str, Any]:
        """The schedule as it is written in a contract (round-trips through the parser)."""


def _nan_where(x: NDArray[np.float64], out: NDArray[np.float64]) -> NDArray[np.float64]:
    return np.where(np.isnan(x), np.nan, out)


@dataclass(frozen=True)
class Proportional(Schedule):
    """``clip(x / target, 0, 1) × allocation``; 0 below ``lower`` when given.

    Examples
    --------
    >>> Proportional(target=0.80).amounts([0.329, 1.0, -0.1], 7860).round(3).tolist()
    [3232.425, 7860.0, 0.0]
    """

    type: ClassVar[str] = "proportional"
    needs_allocation: ClassVar[bool] = True
    target: float
    lower: float | None = None
    direction: Direction = "higher"

    def _ratio(self, v: NDArray[np.float64]) -> NDArray[np.float64]:
        if self.direction == "lower":
            # achievement of a reduction target: target / actual (full at or below target)
            with np.errstate(divide="ignore", invalid="ignore"):
                r = np.where(v <= 0, 1.0, self.target / np.where(v <= 0, 1.0, v))
        else:
            r = v / self.target
        return np.clip(r, 0.0, 1.0)

    def _outside(self, v: NDArray[np.float64]) -> NDArray[np.bool_]:
        """Values on the wrong side of the lower limit (下限値), which pay nothing."""
        if self.lower is None:
            return np.zeros(v.shape, dtype=bool)
        return v > self.lower if self.direction == "lower" else v < self.lower

    def amounts(self, x: ArrayLike, allocation: float | None = None) -> NDArray[np.float64]:
        v = np.asarray(x, dtype=float)
        ratio = np.where(self._outside(v), 0.0, self._ratio(v))
        return _nan_where(v, ratio * float(allocation or 0.0))

    def describe(
        self, x: float, allocation: float | None, lang: Lang, *, decimals: int | None = None
    ) -> tuple[str, str]:
        fm = _Fmt.make(x, decimals)
        alloc = float(allocation or 0.0)
        ja = lang == "ja"
        low = self.direction == "lower"
        if self.lower is not None and bool(self._outside(np.array([x]))[0]):
            step = "下限未満" if ja else "below the lower limit"
            lim = "下限" if ja else "lower limit"
            return step, f"{fm.value(x)} {'>' if low else '<'} {lim} {_f(self.lower)} → 0"
        if low:
            ratio = float(self._ratio(np.array([x]))[0]) if x <= 0 else self.target / x
            text = f"{_f(self.target)} ÷ {fm.value(x)} = {fm.derived(ratio)}"
        else:
            ratio = x / self.target
            text = f"{fm.value(x)} ÷ {_f(self.target)} = {fm.derived(ratio)}"
        if ratio >= 1:
            step = "目標達成" if ja else "target reached"
            text += " → 上限 1" if ja else " → capped at 1"
            ratio = 1.0
        elif ratio <= 0:
            step = "支払なし" if ja else "nothing paid"
            text += " → 0"
            ratio = 0.0
        else:
            step = "目標の一部" if ja else "part of target"
        amount = _f(ratio * alloc) if ratio in (0.0, 1.0) else fm.derived(ratio * alloc)
        return step, f"{text} → × {_f(alloc)} = {amount}"

    def full_value(self) -> float | None:
        return self.target

    def max_amount(self, allocation: float | None = None) -> float:
        return float(allocation or 0.0)

    def knots(self) -> tuple[float, ...]:
        if self.direction == "lower":
            return (self.target,) if self.lower is None else (self.target, self.lower)
        return (0.0, self.target) if self.lower is None else (self.lower, self.target)

    def to_dict(self) -> dict[str, Any]:
        d: dict[str, Any] = {"type": self.type, "target": self.target}
        if self.lower is not None:
            d["lower"] = self.lower
        return d


@dataclass(frozen=True)
class PerUnit(Schedule):
    """``units × unit_amount``, ``units = clip(x, 0, max_units)``, 0 below ``min_units``.

    Examples
    --------
    >>> PerUnit(unit_amount=10, max_units=500).amounts([921, 120, -5]).tolist()
    [5000.0, 1200.0, 0.0]
    """

    type: ClassVar[str] = "per_unit"
    unit_amount: float
    max_units: float | None = None
    min_units: float | None = None
    whole_units: bool = False
    reference: float | None = None
    direction: Direction = "higher"

    def _counted(self, v: NDArray[np.float64]) -> NDArray[np.float64]:
        """Units before limits: ``x − reference`` (higher) or ``reference − x`` (lower)."""
        ref = 0.0 if self.reference is None else self.reference
        return ref - v if self.direction == "lower" else v - ref

    def _units(self, v: NDArray[np.float64]) -> NDArray[np.float64]:
        c = self._counted(v)
        u = np.floor(c) if self.whole_units else c
        u = np.clip(u, 0.0, np.inf if self.max_units is None else self.max_units)
        if self.min_units is not None:
            u = np.where(c < self.min_units, 0.0, u)
        return u

    def amounts(self, x: ArrayLike, allocation: float | None = None) -> NDArray[np.float64]:
        v = np.asarray(x, dtype=float)
        return _nan_where(v, self._units(v) * self.unit_amount)

    def describe(
        self, x: float, allocation: float | None, lang: Lang, *, decimals: int | None = None
    ) -> tuple[str, str]:
        fm = _Fmt.make(x, decimals)
        ja = lang == "ja"
        units = float(self._units(np.array([x]))[0])
        counted = float(self._counted(np.array([x]))[0])
        shown = fm.value(x)
        if self.reference is not None or self.direction == "lower":
            ref = _f(0.0 if self.reference is None else self.reference)
            expr = f"{ref} − {shown}" if self.direction == "lower" else f"{shown} − {ref}"
            shown = f"{expr} = {fm.derived(counted)}"
        if self.min_units is not None and counted < self.min_units:
            step = "下限未満" if ja else "below the lower limit"
            lim = "下限" if ja else "lower limit"
            return step, f"{shown} < {lim} {_f(self.min_units)} → 0"
        parts = [shown]
        x = counted
        whole = math.floor(x) if self.whole_units else x
        if whole != x:
            parts.append(f"{'整数単位' if ja else 'whole units'} {_f(whole)}")
        exact = whole != x or (self.max_units is not None and whole > self.max_units)
        if self.max_units is not None and whole > self.max_units:
            parts.append(f"{'上限' if ja else 'capped at'} {_f(self.max_units)}")
            step = "上限到達" if ja else "maximum units reached"
        elif units <= 0:
            parts.append("0")
            step = "支払なし" if ja else "nothing paid"
        else:
            step = "単位数" if ja else "per unit"
        return (
            step,
            f"{' → '.join(parts)} → × {_f(self.unit_amount)} = "
            + (_f if exact else fm.derived)(units * self.unit_amount),
        )

    def _value_at(self, units: float) -> float:
        """The indicator value at which ``units`` units are counted."""
        ref = 0.0 if self.reference is None else self.reference
        return ref - units if self.direction == "lower" else ref + units

    def full_value(self) -> float | None:
        return None if self.max_units is None else self._value_at(self.max_units)

    def max_amount(self, allocation: float | None = None) -> float:
        if self.unit_amount < 0:
            return 0.0
        return math.inf if self.max_units is None else self.max_units * self.unit_amount

    def knots(self) -> tuple[float, ...]:
        ks = [0.0]
        if self.min_units is not None:
            ks.append(self.min_units)
        if self.max_units is not None:
            ks.append(self.max_units)
        return tuple(sorted({self._value_at(k) for k in ks}))

    def to_dict(self) -> dict[str, Any]:
        d: dict[str, Any] = {"type": self.type, "unit_amount": self.unit_amount}
        if self.max_units is not None:
            d["max_units"] = self.max_units
        if self.min_units is not None:
            d["min_units"] = self.min_units
        if self.whole_units:
            d["whole_units"] = True
        if self.reference is not None:
            d["reference"] = self.reference
        return d


def _table_index(
    thresholds: NDArray[np.float64], v: NDArray[np.float64], direction: str = "higher"
) -> NDArray[np.intp]:
    """Index of the best row reached (−1 when none is).

    Higher is better: the highest threshold ``≤ v``. Lower is better: the smallest threshold
    ``≥ v`` (a row ``[t, a]`` is reached when ``v ≤ t``, and the most demanding one pays).
    """
    if direction == "lower":
        i = np.searchsorted(thresholds, v, side="left")
        return np.where(i >= len(thresholds), -1, i)
    return np.searchsorted(thresholds, v, side="right") - 1


def _table_describe(
    idx: int, x: str, th: float | None, value_text: str, lang: Lang, direction: str = "higher"
) -> tuple[str, str]:
    ja = lang == "ja"
    low = direction == "lower"
    if th is None:
        step = "第1段階未満" if ja else "below the first threshold"
        return step, f"{x} {'>' if low else '<'} {value_text} → 0"
    step = f"第{idx + 1}段階" if ja else f"step {idx + 1}"
    return step, f"{x} {'≤' if low else '≥'} {_f(th)} ({step}) → {value_text}"


@dataclass(frozen=True)
class Step(Schedule):
    """The amount of the highest threshold reached; 0 below the first threshold.

    Examples
    --------
    >>> s = Step(steps=((0.3, 1000.0), (0.4, 2000.0), (0.5, 3000.0)))
    >>> s.amounts([0.29, 0.3, 0.45, 0.9]).tolist()
    [0.0, 1000.0, 2000.0, 3000.0]
    """

    type: ClassVar[str] = "step"
    steps: tuple[tuple[float, float], ...]
    direction: Direction = "higher"

    def amounts(self, x: ArrayLike, allocation: float | None = None) -> NDArray[np.float64]:
        v = np.asarray(x, dtype=float)
        th = np.array([t for t, _ in self.steps])
        am = np.array([0.0] + [a for _, a in self.steps])
        return _nan_where(v, am[_table_index(th, v, self.direction) + 1])

    def describe(
        self, x: float, allocation: float | None, lang: Lang, *, decimals: int | None = None
    ) -> tuple[str, str]:
        fm = _Fmt.make(x, decimals)
        th = np.array([t for t, _ in self.steps])
        i = int(_table_index(th, np.array([x]), self.direction)[0])
        d = self.direction
        if i < 0:
            first = self.steps[-1 if d == "lower" else 0][0]
            return _table_describe(i, fm.value(x), None, _f(first), lang, d)
        return _table_describe(i, fm.value(x), self.steps[i][0], _f(self.steps[i][1]), lang, d)

    def full_value(self) -> float | None:
        return self.steps[0 if self.direction == "lower" else -1][0]

    def max_amount(self, allocation: float | None = None) -> float:
        return max(0.0, *(a for _, a in self.steps))

    def knots(self) -> tuple[float, ...]:
        return tuple(t for t, _ in self.steps)

    def to_dict(self) -> dict[str, Any]:
        return {"type": self.type, "steps": [[t, a] for t, a in self.steps]}


@dataclass(frozen=True)
class Band(Schedule):
    """``pay_rate × allocation`` for the highest threshold reached; 0 below the first.

    Examples
    --------
    >>> b = Band(bands=((0.5, 0.5), (0.7, 0.8), (0.9, 1.0)))
    >>> b.amounts([0.4, 0.75, 0.95], 1000).tolist()
    [0.0, 800.0, 1000.0]
    """

    type: ClassVar[str] = "band"
    needs_allocation: ClassVar[bool] = True
    bands: tuple[tuple[float, float], ...]
    direction: Direction = "higher"

    def amounts(self, x: ArrayLike, allocation: float | None = None) -> NDArray[np.float64]:
        v = np.asarray(x, dtype=float)
        th = np.array([t for t, _ in self.bands])
        rate = np.array([0.0] + [r for _, r in self.bands])
        idx = _table_index(th, v, self.direction)
        return _nan_where(v, rate[idx + 1] * float(allocation or 0.0))

    def describe(
        self, x: float, allocation: float | None, lang: Lang, *, decimals: int | None = None
    ) -> tuple[str, str]:
        fm = _Fmt.make(x, decimals)
        alloc = float(allocation or 0.0)
        d = self.direction
        i = int(_table_index(np.array([t for t, _ in self.bands]), np.array([x]), d)[0])
        if i < 0:
            first = self.bands[-1 if d == "lower" else 0][0]
            return _table_describe(i, fm.value(x), None, _f(first), lang, d)
        rate = self.bands[i][1]
        word = "支払率" if lang == "ja" else "pay rate"
        text = f"{word} {_f(rate)} → × {_f(alloc)} = {_f(rate * alloc)}"
        return _table_describe(i, fm.value(x), self.bands[i][0], text, lang, d)

    def full_value(self) -> float | None:
        return self.bands[0 if self.direction == "lower" else -1][0]

    def max_amount(self, allocation: float | None = None) -> float:
        return max(r for _, r in self.bands) * float(allocation or 0.0)

    def knots(self) -> tuple[float, ...]:
        return tuple(t for t, _ in self.bands)

    def to_dict(self) -> dict[str, Any]:
        return {"type": self.type, "bands": [[t, r] for t, r in self.bands]}


@dataclass(frozen=True)
class Interpolate(Schedule):
    """Linear between ``points``; ``below`` under the first point, the last amount above.

    Examples
    --------
    >>> s = Interpolate(points=((0.2, 0.0), (0.4, 1000.0), (0.6, 1500.0)))
    >>> s.amounts([0.1, 0.3, 0.5, 0.9]).round(6).tolist()
    [0.0, 500.0, 1250.0, 1500.0]
    """

    type: ClassVar[str] = "interpolate"
    points: tuple[tuple[float, float], ...]
    below: float | None = None
    direction: Direction = "higher"

    def amounts(self, x: ArrayLike, allocation: float | None = None) -> NDArray[np.float64]:
        v = np.asarray(x, dtype=float)
        xs = np.array([p for p, _ in self.points])
        ys = np.array([a for _, a in self.points])
        worse = 0.0 if self.below is None else self.below
        if self.direction == "lower":
            # the worse side is above the last point
            return _nan_where(v, np.interp(v, xs, ys, left=ys[0], right=worse))
        return _nan_where(v, np.interp(v, xs, ys, left=worse, right=ys[-1]))

    def describe(
        self, x: float, allocation: float | None, lang: Lang, *, decimals: int | None = None
    ) -> tuple[str, str]:
        fm = _Fmt.make(x, decimals)
        ja = lang == "ja"
        pts = self.points
        amount = float(self.amounts(np.array([x]))[0])
        if x < pts[0][0]:
            step = "第1点未満" if ja else "below the first point"
            return step, f"{fm.value(x)} < {_f(pts[0][0])} → {_f(amount)}"
        if x > pts[-1][0] and self.direction == "lower":
            step = "最終点超" if ja else "above the last point"
            return step, f"{fm.value(x)} > {_f(pts[-1][0])} → {_f(amount)}"
        if x >= pts[-1][0]:
            step = "最終点以上" if ja else "at or above the last point"
            return step, f"{fm.value(x)} ≥ {_f(pts[-1][0])} → {_f(amount)}"
        i = int(np.searchsorted([p for p, _ in pts], x, side="right")) - 1
        (x0, y0), (x1, y1) = pts[i], pts[i + 1]
        step = f"区間 {i + 1}" if ja else f"segment {i + 1}"
        text = (
            f"{_f(y0)} + ({fm.value(x)} − {_f(x0)}) ÷ ({_f(x1)} − {_f(x0)}) × "
            f"({_f(y1)} − {_f(y0)}) = {fm.derived(amount)}"
        )
        return step, text

    def full_value(self) -> float | None:
        return self.points[0 if self.direction == "lower" else -1][0]

    def max_amount(self, allocation: float | None = None) -> float:
        return max(0.0 if self.below is None else self.below, *(a for _, a in self.points))

    def knots(self) -> tuple[float, ...]:
        return tuple(p for p, _ in self.points)

    def to_dict(self) -> dict[str, Any]:
        d: dict[str, Any] = {"type": self.type, "points": [[p, a] for p, a in self.points]}
        if self.below is not None:
            d["below"] = self.below
        return d


@dataclass(frozen=True)
class PassFail(Schedule):
    """The whole allocation when ``x ≥ threshold``, else nothing.

    Examples
    --------
    >>> PassFail(threshold=0.5).amounts([0.49, 0.5], 300).tolist()
    [0.0, 300.0]
    """

    type: ClassVar[str] = "pass_fail"
    needs_allocation: ClassVar[bool] = True
    threshold: float
    direction: Direction = "higher"

    def _passed(self, v: NDArray[np.float64]) -> NDArray[np.bool_]:
        return v <= self.threshold if self.direction == "lower" else v >= self.threshold

    def amounts(self, x: ArrayLike, allocation: float | None = None) -> NDArray[np.float64]:
        v = np.asarray(x, dtype=float)
        return _nan_where(v, np.where(self._passed(v), float(allocation or 0.0), 0.0))

    def describe(
        self, x: float, allocation: float | None, lang: Lang, *, decimals: int | None = None
    ) -> tuple[str, str]:
        fm = _Fmt.make(x, decimals)
        ja = lang == "ja"
        low = self.direction == "lower"
        if bool(self._passed(np.array([x]))[0]):
            step = "達成" if ja else "passed"
            op = "≤" if low else "≥"
            text = f"{fm.value(x)} {op} {_f(self.threshold)} → {_f(float(allocation or 0.0))}"
            return step, text
        step = "未達成" if ja else "not passed"
        return step, f"{fm.value(x)} {'>' if low else '<'} {_f(self.threshold)} → 0"

    def full_value(self) -> float | None:
        return self.threshold

    def max_amount(self, allocation: float | None = None) -> float:
        return float(allocation or 0.0)

    def knots(self) -> tuple[float, ...]:
        return (self.threshold,)

    def to_dict(self) -> dict[str, Any]:
        return {"type": self.type, "threshold": self.threshold}


SCHEDULE_TYPES: dict[str, type[Schedule]] = {
    c.type: c for c in (Proportional, PerUnit, Step, Band, Interpolate, PassFail)
}


def schedule_from_dict(
    d: Any, *, path: str = "schedule", file: str = "", direction: Direction = "higher"
) -> Schedule:
    """Validate a schedule table and build the schedule; errors name the key path.

    ``direction`` is the component's ``direction`` (``"lower"``: lower values are better).

    Examples
    --------
    >>> schedule_from_dict({"type": "proportional", "target": 0.8})
    Proportional(target=0.8, lower=None, direction='higher')
    >>> schedule_from_dict({"type": "step", "steps": [[0.5, 10], [0.4, 20]]},
    ...                    path="contract.component[0].schedule")
    Traceback (most recent call last):
    ...
    pfseval.errors.ContractError: contract.component[0].schedule.steps[1]: threshold 0.4 is not greater than the previous threshold 0.5; thresholds must be strictly increasing. Fix: sort the rows by threshold and remove duplicates.
    """
    r = Reader(path, file)
    t: Mapping[str, Any] = r.table(d)
    if "type" not in t:
        r.at("type").fail(
            f"required key 'type' is missing. Fix: add type = one of {', '.join(SCHEDULE_TYPES)}."
        )
    kind = r.at("type").string(t["type"], choices=tuple(SCHEDULE_TYPES))
    if kind == "proportional":
        r.keys(t, required=("type", "target"), optional=("lower",))
        target = r.at("target").number(t["target"], positive=True, what="target")
        lower = r.opt_number(t, "lower")
        if direction == "lower" and lower is not None and lower <= target:
            r.at("lower").fail(
                f'with direction = "lower" the lower limit {lower:g} is the worst value '
                f"still paid and must be above the target {target:g}. "
                "Fix: raise the lower limit or lower the target."
            )
        if direction == "higher" and lower is not None and lower >= target:
            r.at("lower").fail(
                f"lower limit {lower:g} must be below the target {target:g}. "
                "Fix: lower the lower limit or raise the target."
            )
        return Proportional(target=target, lower=lower, direction=direction)
    if kind == "per_unit":
        r.keys(
            t,
            required=("type", "unit_amount"),
            optional=("max_units", "min_units", "whole_units", "reference"),
        )
        ua = r.at("unit_amount").number(t["unit_amount"], what="unit_amount")
        if ua == 0:
            r.at("unit_amount").fail("unit_amount must not be 0. Fix: give the amount per unit.")
        mx = r.opt_number(t, "max_units", minimum=0)
        mn = r.opt_number(t, "min_units", minimum=0)
        if mx is not None and mn is not None and mn > mx:
            r.at("min_units").fail(
                f"min_units {mn:g} is greater than max_units {mx:g}. Fix: swap or correct them."
            )
        whole = r.at("whole_units").boolean(t["whole_units"]) if "whole_units" in t else False
        ref = r.opt_number(t, "reference")
        if direction == "lower" and ref is None:
            r.at("reference").fail(
                'with direction = "lower" a per_unit schedule counts the units below a '
                "reference value, but no reference is given. Fix: add `reference = <value>` "
                "(e.g. the usual level before the programme)."
            )
        return PerUnit(
            unit_amount=ua,
            max_units=mx,
            min_units=mn,
            whole_units=whole,
            reference=ref,
            direction=direction,
        )
    if kind == "step":
        r.keys(t, required=("type", "steps"), optional=())
        steps = tuple(r.at("steps").pairs(t["steps"], second="amount"))
        return Step(steps=steps, direction=direction)
    if kind == "band":
        r.keys(t, required=("type", "bands"), optional=())
        bands = r.at("bands").pairs(t["bands"], second="pay_rate")
        for i, (_, rate) in enumerate(bands):
            if not 0 <= rate <= 1:
                r.at("bands").at(i).fail(
                    f"pay_rate {rate:g} is outside [0, 1]; rates are fractions of the "
                    "allocation. Fix: write 0.8 for 80%."
                )
        return Band(bands=tuple(bands), direction=direction)
    if kind == "interpolate":
        r.keys(t, required=("type", "points"), optional=("below",))
        pts = r.at("points").pairs(t["points"], second="amount")
        if len(pts) < 2:
            r.at("points").fail("interpolate needs at least 2 points. Fix: add a second point.")
        below = r.opt_number(t, "below")
        return Interpolate(points=tuple(pts), below=below, direction=direction)
    # pass_fail
    r.keys(t, required=("type", "threshold"), optional=())
    threshold = r.at("threshold").number(t["threshold"], what="threshold")
    return PassFail(threshold=threshold, direction=direction)
