"""Allocation schemes: a budget divided among units in proportion to score × weight.

National incentive grants pay by indicator results without a contract: under 保険者努力支援制度
each prefecture's points × its insured population is its "total score", and the budget is
divided in proportion to the total scores; the long-term-care grants (保険者機能強化推進交付金,
介護保険保険者努力支援交付金) pay each insurer by its total score on the evaluation indicators,
with points allotted per goal and indicator group, and an adjustment that raises small
municipalities' shares. A unit's money depends on its own score *and on everybody else's*.

An :class:`AllocationScheme` (``[allocation]`` in TOML, validated like a contract) holds the
budget, the units file and either a points column or scoring tables; :meth:`~AllocationScheme.
allocate` returns an :class:`Allocation` with one row per unit and an audit trail (ja/en).

Money is exact: shares are computed with rational arithmetic (:class:`fractions.Fraction`) on
the decimal values as written, each unit's quota is floored to a whole ``rounding_unit`` and the
units left over go, one each, to the largest remainders (Hamilton's method), ties broken by the
larger score and then by file order. The amounts therefore sum exactly to the budget.

The order of operations for each unit: indicator value (or its change rate) → points from the
scoring table → sum per goal and group, limited to the group's cap → total points → score =
points × weight (the weight raised to ``minimum_weight`` for small units) → share = score / Σ
scores → quota = budget × share → amount (largest remainder).
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from fractions import Fraction
from pathlib import Path
from typing import Any, Literal

import numpy as np
import pandas as pd
from numpy.typing import NDArray

from pfseval.errors import ContractError
from pfseval.payment._keys import Reader, load_toml
from pfseval.payment.contract import UNITS
from pfseval.payment.schedules import DIRECTIONS, fmt_amount, round_significant

__all__ = [
    "SCORING_TYPES",
    "Allocation",
    "AllocationError",
    "AllocationScheme",
    "GroupCap",
    "ScoringRule",
    "largest_remainder",
]

Lang = Literal["ja", "en"]
#: How an indicator value becomes points.
SCORING_TYPES: dict[str, str] = {
    "threshold": "[[value, points], ...]: the points of the best threshold reached",
    "rank": "[[k, points], ...]: the points of the smallest k with rank ≤ k (ties share a rank)",
    "percentile": "[[q, points], ...]: points when fewer than q × n units are strictly better",
}


class AllocationError(ContractError):
    """An allocation scheme or its units file is malformed. The message names the key path."""


def _fail(path: str, message: str, file: str = "") -> AllocationError:
    return AllocationError(path, message, file=file)


def _exact(x: float) -> Fraction:
    """The decimal number a float was written as (0.1 → 1/10), exactly."""
    return Fraction(repr(float(x)))


# ---------------------------------------------------------------- pieces of a scheme


@dataclass(frozen=True)
class ScoringRule:
    """Points for one indicator: a column of the units file and a scoring table.

    Attributes
    ----------
    column
        Column holding the indicator value.
    label
        Display name.
    type
        ``threshold``, ``rank`` or ``percentile`` (:data:`SCORING_TYPES`).
    table
        ``((key, points), ...)`` with strictly increasing keys.
    direction
        ``higher`` (default) or ``lower``: which values are better.
    change_from
        Optional column with the previous value: the indicator is then the change rate
        ``(value − previous) / previous``.
    goal, group
        The goal (e.g. ``"I"``) and indicator group (e.g. ``"process"``) the points count for.
    """

    column: str
    label: str
    type: str
    table: tuple[tuple[float, float], ...]
    direction: str = "higher"
    change_from: str | None = None
    goal: str = ""
    group: str = ""

    def max_points(self) -> float:
        return max(0.0, *(p for _, p in self.table))

    def values(self, units: pd.DataFrame) -> NDArray[np.float64]:
        """The indicator value of every unit (the change rate when ``change_from`` is set)."""
        x = units[self.column].to_numpy(dtype=float)
        if self.change_from is None:
            return np.asarray(round_significant(x))
        prev = units[self.change_from].to_numpy(dtype=float)
        with np.errstate(divide="ignore", invalid="ignore"):
            return np.asarray(round_significant((x - prev) / prev))

    def points(self, x: NDArray[np.float64]) -> NDArray[np.float64]:
        """Points for every unit's value; a missing value scores 0."""
        keys = np.array([k for k, _ in self.table])
        pts = np.array([0.0] + [p for _, p in self.table])
        ok = ~np.isnan(x)
        out = np.zeros(len(x))
        if self.type == "threshold":
            if self.direction == "lower":
                i = np.searchsorted(keys, x[ok], side="left")
                i = np.where(i >= len(keys), -1, i)
            else:
                i = np.searchsorted(keys, x[ok], side="right") - 1
            out[ok] = pts[i + 1]
            return out
        better = _n_strictly_better(x[ok], self.direction)
        if self.type == "rank":
            rank = better + 1.0
            i = np.searchsorted(keys, rank, side="left")  # smallest k with rank ≤ k
        else:  # percentile: fewer than q × n units strictly better
            frac = better / max(int(ok.sum()), 1)
            i = np.searchsorted(keys, frac, side="right")
        out[ok] = pts[np.where(i >= len(keys), -1, i) + 1]
        return out

    def to_dict(self) -> dict[str, Any]:
        d: dict[str, Any] = {"column": self.column, "label": self.label, "type": self.type}
        d["table"] = [[k, p] for k, p in self.table]
        if self.direction != "higher":
            d["direction"] = self.direction
        for k in ("change_from",):
            if getattr(self, k) is not None:
                d[k] = getattr(self, k)
        if self.goal:
            d["goal"] = self.goal
        if self.group:
            d["group"] = self.group
        return d


def _n_strictly_better(x: NDArray[np.float64], direction: str) -> NDArray[np.float64]:
    """For each value, how many values are strictly better (O(n log n); ties share a rank)."""
    s = np.sort(x)
    if direction == "lower":
        return np.searchsorted(s, x, side="left").astype(float)
    return (len(s) - np.searchsorted(s, x, side="right")).astype(float)


@dataclass(frozen=True)
class GroupCap:
    """At most ``points`` points from the indicators of one goal and group."""

    goal: str
    group: str
    points: float


@dataclass(frozen=True)
class Allocation:
    """The result of an allocation: one row per unit, the points per indicator, audit trails.

    ``table`` columns: ``unit``, ``points``, ``weight``, ``weight_used``, ``score``,
    ``share``, ``quota``, ``amount`` (amounts sum exactly to ``budget``); ``points_detail``
    has one column per indicator and one per capped group.
    """

    scheme: AllocationScheme
    table: pd.DataFrame = field(repr=False)
    points_detail: pd.DataFrame = field(repr=False)
    total_score: Fraction

    @property
    def budget(self) -> float:
        return float(self.scheme.budget)

    def amount(self, unit: str) -> float:
        """The amount allocated to one unit."""
        return float(self._row(unit)["amount"])

    def _row(self, unit: str) -> pd.Series:
        hit = self.table[self.table["unit"] == str(unit)]
        if hit.empty:
            known = ", ".join(self.table["unit"].head(5))
            raise KeyError(f"no unit {unit!r} in the allocation; units include {known}")
        return hit.iloc[0]

    def to_frame(self) -> pd.DataFrame:
        """The per-unit table (a copy)."""
        return self.table.copy()

    def audit_trail(self, unit: str, *, lang: Lang = "ja") -> str:
        """How one unit's amount was computed, step by step, in Japanese or English.

        Examples
        --------
        >>> s = AllocationScheme.from_dict({"allocation": {"name": "例", "budget": 100,
        ...     "unit": "百万円", "score": "points", "weight": "insured"}})
        >>> units = pd.DataFrame({"unit": ["A", "B"], "points": [10, 30], "insured": [3, 1]})
        >>> print(s.allocate(units).audit_trail("A", lang="en"))
        Allocation: 例 (unit: 百万円)
        Unit A
          total points 10
          score = 10 × weight 3 = 30
          share = 30 ÷ 60 = 0.5
          quota = 100 × 0.5 = 50
          amount 50 百万円 (whole multiples of 1; largest remainder: +0)
        """
        if lang not in ("ja", "en"):
            raise ValueError(f"lang must be 'ja' or 'en', got {lang!r}")
        ja = lang == "ja"
        r = self._row(unit)
        s = self.scheme
        lines = [
            f"配分計算: {s.name}（単位: {s.unit}）"
            if ja
            else f"Allocation: {s.name} (unit: {s.unit})"
        ]
        lines.append(f"対象 {r['unit']}" if ja else f"Unit {r['unit']}")
        det = self.points_detail.loc[self.points_detail["unit"] == r["unit"]].iloc[0]
        for rule in s.indicators:
            v = det[f"value:{rule.column}"]
            p = det[f"points:{rule.column}"]
            shown = ("未報告" if ja else "not reported") if np.isnan(v) else fmt_amount(float(v))
            what = (
                "変化率" if ja and rule.change_from else ("change rate" if rule.change_from else "")
            )
            lines.append(
                f"  {rule.label}（{rule.column}{'、' + what if what else ''}）: {shown} → {fmt_amount(float(p))}点"
                if ja
                else f"  {rule.label} ({rule.column}{', ' + what if what else ''}): {shown} → "
                f"{fmt_amount(float(p))} points"
            )
        for cap in s.caps:
            raw = det[f"group:{cap.goal}/{cap.group}"]
            if raw > cap.points:
                lines.append(
                    f"  目標{cap.goal}・{cap.group}: {fmt_amount(float(raw))}点 → 上限 "
                    f"{fmt_amount(cap.points)}点"
                    if ja
                    else f"  goal {cap.goal} / {cap.group}: {fmt_amount(float(raw))} points → "
                    f"capped at {fmt_amount(cap.points)}"
                )
        pts, w, wu = (float(r[k]) for k in ("points", "weight", "weight_used"))
        lines.append(f"  合計点 {fmt_amount(pts)}" if ja else f"  total points {fmt_amount(pts)}")
        wtxt = fmt_amount(wu)
        if wu != w:
            wtxt = (
                f"{fmt_amount(w)}（小規模調整で {fmt_amount(wu)} に引上げ）"
                if ja
                else f"{fmt_amount(w)} raised to {fmt_amount(wu)} (small-unit adjustment)"
            )
        score = float(r["score"])
        lines.append(
            f"  総得点 = {fmt_amount(pts)} × 重み {wtxt} = {fmt_amount(score)}"
            if ja
            else f"  score = {fmt_amount(pts)} × weight {wtxt} = {fmt_amount(score)}"
        )
        total = float(self.total_score)
        lines.append(
            f"  {'配分率' if ja else 'share'} = {fmt_amount(score)} ÷ {fmt_amount(total)} = "
            f"{fmt_amount(float(r['share']))}"
        )
        lines.append(
            f"  {'按分額' if ja else 'quota'} = {fmt_amount(float(s.budget))} × "
            f"{fmt_amount(float(r['share']))} = {fmt_amount(float(r['quota']))}"
        )
        extra = int(r["remainder_units"])
        ru = fmt_amount(float(s.rounding_unit))
        lines.append(
            f"  配分額 {fmt_amount(float(r['amount']))}{s.unit}（{ru}単位、最大剰余法で +{extra}）"
            if ja
            else f"  amount {fmt_amount(float(r['amount']))} {s.unit} (whole multiples of {ru}; "
            f"largest remainder: +{extra})"
        )
        return "\n".join(lines)

    # -- what a unit's result is worth --------------------------------------------
    def marginal_point_value(self, unit: str) -> float:
        """What one more point is worth to ``unit``, everybody else unchanged (before rounding).

        With ``S`` the unit's score, ``T`` the total, ``w`` its weight and ``B`` the budget, one
        more point changes its quota from ``B·S/T`` to ``B·(S + w)/(T + w)``.
        """
        r = self._row(unit)
        s, w = _exact(float(r["score"])), _exact(float(r["weight_used"]))
        t, b = self.total_score, self.scheme.budget
        return float(b * (s + w) / (t + w) - b * s / t)


@dataclass(frozen=True)
class AllocationScheme:
    """A validated allocation scheme. Build it with :meth:`from_toml` or :meth:`from_dict`.

    Examples
    --------
    >>> s = AllocationScheme.from_dict({"allocation": {"name": "例", "budget": 10,
    ...     "unit": "百万円", "score": "points", "weight": "insured"}})
    >>> units = pd.DataFrame({"unit": ["A", "B", "C"], "points": [1, 1, 1],
    ...                       "insured": [1, 1, 1]})
    >>> s.allocate(units).table["amount"].tolist()   # 10 / 3 each: the first gets the extra 1
    [4.0, 3.0, 3.0]
    """

    name: str
    budget: Fraction
    unit: str
    rounding_unit: Fraction = Fraction(1)
    units_file: str | None = None
    unit_column: str = "unit"
    score: str | None = None
    weight: str | None = None
    minimum_weight: float | None = None
    indicators: tuple[ScoringRule, ...] = ()
    caps: tuple[GroupCap, ...] = ()
    description: str | None = None
    source: str = field(default="", compare=False)

    # -- loading -------------------------------------------------------------------
    @classmethod
    def from_toml(cls, path: str | Path) -> AllocationScheme:
        """Read and validate a scheme file; ``units`` is resolved against its folder."""
        return cls.from_dict(load_toml(path, error=AllocationError), file=str(path))

    @classmethod
    def from_dict(cls, d: Mapping[str, Any], *, file: str = "") -> AllocationScheme:
        """Validate a scheme given as a dict shaped like the TOML file."""
        try:
            return cls._from_dict(d, file=file)
        except AllocationError:
            raise
        except ContractError as e:  # the shared key readers raise ContractError
            prefix = (f"{file}: " if file else "") + f"{e.key_path}: "
            raise AllocationError(e.key_path, str(e).removeprefix(prefix), file=file) from e

    @classmethod
    def _from_dict(cls, d: Mapping[str, Any], *, file: str) -> AllocationScheme:
        root = Reader("", file)
        top = root.table(d)
        root.keys(top, required=("allocation",), optional=())
        r = Reader("allocation", file)
        a = r.table(top["allocation"])
        r.keys(
            a,
            required=("name", "budget", "unit"),
            optional=(
                "rounding_unit",
                "units",
                "unit_column",
                "score",
                "weight",
                "minimum_weight",
                "indicator",
                "cap",
                "description",
            ),
        )
        budget = _exact(r.at("budget").number(a["budget"], positive=True, what="budget"))
        runit = _exact(r.opt_number(a, "rounding_unit", positive=True) or 1)
        if (budget / runit).denominator != 1:
            r.at("rounding_unit").fail(
                f"the budget {float(budget):g} is not a whole multiple of the rounding unit "
                f"{float(runit):g}, so whole amounts cannot add up to it. Fix: change the "
                "rounding unit or the budget."
            )
        rules = tuple(
            _rule_from(r.at("indicator").at(i), x)
            for i, x in enumerate(r.at("indicator").array(a.get("indicator", [])))
        )
        score = r.opt_string(a, "score")
        if score is None and not rules:
            r.fail(
                "the scheme has neither a points column nor scoring tables. Fix: add "
                '`score = "<points column>"` or [[allocation.indicator]] tables.'
            )
        if score is not None and rules:
            r.at("score").fail(
                "give either a points column (score) or scoring tables (indicator), not both. "
                "Fix: remove one of them."
            )
        cols = [x.column for x in rules]
        for i, c in enumerate(cols):
            if c in cols[:i]:
                r.at("indicator").at(i).at("column").fail(
                    f"column {c!r} is scored twice. Fix: score each indicator once."
                )
        caps = tuple(
            _cap_from(r.at("cap").at(i), x, rules)
            for i, x in enumerate(r.at("cap").array(a.get("cap", [])))
        )
        return cls(
            name=r.at("name").string(a["name"]),
            budget=budget,
            unit=r.at("unit").string(a["unit"], choices=tuple(UNITS)),
            rounding_unit=runit,
            units_file=r.opt_string(a, "units"),
            unit_column=r.opt_string(a, "unit_column") or "unit",
            score=score,
            weight=r.opt_string(a, "weight"),
            minimum_weight=r.opt_number(a, "minimum_weight", positive=True),
            indicators=rules,
            caps=caps,
            description=r.opt_string(a, "description"),
            source=file,
        )

    def to_dict(self) -> dict[str, Any]:
        """The scheme as a dict shaped like the TOML file (``from_dict`` round-trips it)."""
        a: dict[str, Any] = {"name": self.name, "budget": _num(self.budget), "unit": self.unit}
        a["rounding_unit"] = _num(self.rounding_unit)
        for k in ("units_file", "score", "weight", "minimum_weight", "description"):
            if getattr(self, k) is not None:
                a["units" if k == "units_file" else k] = getattr(self, k)
        if self.unit_column != "unit":
            a["unit_column"] = self.unit_column
        if self.indicators:
            a["indicator"] = [x.to_dict() for x in self.indicators]
        if self.caps:
            a["cap"] = [{"goal": c.goal, "group": c.group, "points": c.points} for c in self.caps]
        return {"allocation": a}

    # -- units -----------------------------------------------------------------------
    def read_units(self, path: str | Path | None = None) -> pd.DataFrame:
        """Read the units file (CSV, UTF-8), resolved against the scheme file's folder."""
        name = path if path is not None else self.units_file
        if name is None:
            raise _fail(
                "allocation.units",
                'no units file is given. Fix: add `units = "units.csv"` or pass a data frame.',
                self.source,
            )
        p = Path(name)
        if not p.is_absolute() and self.source:
            p = Path(self.source).parent / p
        if not p.is_file():
            raise _fail(
                "allocation.units",
                f"units file {str(p)!r} does not exist. Fix: correct the path.",
                self.source,
            )
        return pd.read_csv(p, dtype={self.unit_column: str}, encoding="utf-8-sig")

    def _check_units(self, units: pd.DataFrame) -> pd.DataFrame:
        f = self.source
        need = [self.unit_column]
        need += [c for c in (self.score, self.weight) if c is not None]
        for rule in self.indicators:
            need += [rule.column] + ([rule.change_from] if rule.change_from else [])
        for c in need:
            if c not in units.columns:
                raise _fail(
                    "allocation.units",
                    f"column {c!r} is missing from the units table; columns: "
                    f"{', '.join(map(str, units.columns))}. Fix: add the column or correct its "
                    "name in the scheme.",
                    f,
                )
        if units.empty:
            raise _fail("allocation.units", "the units table has no rows. Fix: add the units.", f)
        ids = units[self.unit_column].astype("string")
        bad = ids.isna() | (ids.str.strip() == "")
        if bad.any():
            raise _fail(
                "allocation.units",
                f"column {self.unit_column!r} is empty on file line(s) {_lines(bad)}. "
                "Fix: name every unit.",
                f,
            )
        dup = ids.duplicated(keep=False)
        if dup.any():
            raise _fail(
                "allocation.units",
                f"unit {ids[dup].iloc[0]!r} appears more than once (file lines {_lines(dup)}). "
                "Fix: one row per unit.",
                f,
            )
        for c in [x for x in (self.score, self.weight) if x is not None]:
            v = pd.to_numeric(units[c], errors="coerce")
            badv = v.isna() | ~np.isfinite(v.to_numpy(dtype=float)) | (v < 0)
            if badv.any():
                raise _fail(
                    "allocation.units",
                    f"column {c!r} must hold numbers ≥ 0; file line(s) {_lines(badv)} do not "
                    f"(e.g. {units[c][badv].iloc[0]!r}). Fix: correct those values.",
                    f,
                )
        for rule in self.indicators:
            for c in [rule.column] + ([rule.change_from] if rule.change_from else []):
                v = pd.to_numeric(units[c], errors="coerce")
                badv = v.isna() & units[c].notna()
                if badv.any():
                    raise _fail(
                        "allocation.units",
                        f"column {c!r} has non-numbers on file line(s) {_lines(badv)}. "
                        "Fix: write numbers, or leave the cell empty for a value not reported.",
                        f,
                    )
            if rule.change_from:
                prev = pd.to_numeric(units[rule.change_from], errors="coerce")
                zero = prev == 0
                if zero.any():
                    raise _fail(
                        "allocation.units",
                        f"column {rule.change_from!r} is 0 on file line(s) {_lines(zero)}, so "
                        "the change rate is undefined. Fix: correct the previous values or "
                        "score the change in points instead.",
                        f,
                    )
        out = units.copy()
        out[self.unit_column] = ids.astype(str)
        return out.reset_index(drop=True)

    # -- allocation --------------------------------------------------------------------
    def points(self, units: pd.DataFrame) -> pd.DataFrame:
        """Each unit's indicator values, points per indicator and per capped group, total."""
        det = pd.DataFrame({"unit": units[self.unit_column].astype(str)})
        if self.score is not None:
            det["points"] = pd.to_numeric(units[self.score]).to_numpy(dtype=float)
            return det
        total = np.zeros(len(units))
        by_group: dict[tuple[str, str], NDArray[np.float64]] = {}
        for rule in self.indicators:
            x = rule.values(units)
            p = rule.points(x)
            det[f"value:{rule.column}"] = x
            det[f"points:{rule.column}"] = p
            key = (rule.goal, rule.group)
            by_group[key] = by_group.get(key, np.zeros(len(units))) + p
        caps = {(c.goal, c.group): c.points for c in self.caps}
        for key, pts in by_group.items():
            if key in caps:
                det[f"group:{key[0]}/{key[1]}"] = pts
                pts = np.minimum(pts, caps[key])
            total += pts
        det["points"] = total
        return det

    def allocate(self, units: pd.DataFrame | None = None) -> Allocation:
        """Divide the budget; ``units`` defaults to the scheme's units file.

        Raises :class:`AllocationError` when a column is missing, a unit is repeated, a
        value is not a number, or every score is 0.
        """
        u = self._check_units(self.read_units() if units is None else units)
        det = self.points(u)
        pts = [_exact(p) for p in det["points"]]
        w = (
            [_exact(x) for x in pd.to_numeric(u[self.weight]).to_numpy(dtype=float)]
            if self.weight is not None
            else [Fraction(1)] * len(u)
        )
        lo = None if self.minimum_weight is None else _exact(self.minimum_weight)
        wu = [max(x, lo) if lo is not None else x for x in w]
        scores = [p * x for p, x in zip(pts, wu, strict=True)]
        total = sum(scores, Fraction(0))
        if total == 0:
            raise _fail(
                "allocation",
                "every unit's score (points × weight) is 0, so the budget cannot be divided "
                "in proportion to the scores. Fix: check the points and weight columns.",
                self.source,
            )
        n_units = int(self.budget / self.rounding_unit)
        quotas = [n_units * s / total for s in scores]
        whole = largest_remainder(quotas, n_units, priority=scores)
        base = [math.floor(q) for q in quotas]
        table = pd.DataFrame(
            {
                "unit": det["unit"],
                "points": [float(p) for p in pts],
                "weight": [float(x) for x in w],
                "weight_used": [float(x) for x in wu],
                "score": [float(s) for s in scores],
                "share": [float(s / total) for s in scores],
                "quota": [float(self.budget * s / total) for s in scores],
                "amount": [float(k * self.rounding_unit) for k in whole],
                "remainder_units": [k - b for k, b in zip(whole, base, strict=True)],
            }
        )
        return Allocation(scheme=self, table=table, points_detail=det, total_score=total)

    def with_value(
        self, units: pd.DataFrame, *, unit: str, column: str, value: float
    ) -> pd.DataFrame:
        """A copy of ``units`` with one unit's value in ``column`` replaced (for what-ifs)."""
        u = units.copy()
        hit = u[self.unit_column].astype(str) == str(unit)
        if not hit.any():
            raise KeyError(f"no unit {unit!r} in the units table")
        u[column] = u[column].astype(float)
        u.loc[hit, column] = float(value)
        return u

    def marginal_value(self, units: pd.DataFrame, *, unit: str, column: str, value: float) -> float:
        """What moving ``unit``'s ``column`` to ``value`` is worth (before rounding).

        Everything is recomputed, so rank and percentile scoring move other units too; the
        difference of the unit's quotas is returned (in the scheme's unit).
        """
        before = self.allocate(units)
        after = self.allocate(self.with_value(units, unit=unit, column=column, value=value))
        return float(after._row(unit)["quota"]) - float(before._row(unit)["quota"])

    def grant_distribution(
        self,
        units: pd.DataFrame,
        *,
        unit: str,
        own: Mapping[str, Sequence[float] | NDArray[np.float64]],
        others_sd: Mapping[str, float] | None = None,
        seed: int | None = None,
    ) -> NDArray[np.float64]:
        """A unit's quota over draws of its own indicator values (and, optionally, others').

        ``own`` maps a column to draws of the unit's value (e.g. bootstrap draws of its
        indicator); all columns must have the same number of draws. ``others_sd`` adds,
        independently for every other unit and draw, normal noise with this standard
        deviation to their values in that column (uncertainty of the others' results,
        simulated). Returns the unit's quota (before rounding, in floating point) for each
        draw; a draw in which every score is 0 gives NaN.
        """
        lens = {len(np.asarray(v)) for v in own.values()}
        if len(lens) != 1:
            raise ValueError("every column in `own` must have the same number of draws")
        n = lens.pop()
        rng = np.random.default_rng(seed)
        base = self._check_units(units)
        hit = (base[self.unit_column] == str(unit)).to_numpy()
        if not hit.any():
            raise KeyError(f"no unit {unit!r} in the units table")
        out = np.empty(n)
        for k in range(n):
            u = base.copy()
            for col, sd in (others_sd or {}).items():
                vals = u[col].to_numpy(dtype=float).copy()
                vals[~hit] += rng.normal(0.0, sd, int((~hit).sum()))
                u[col] = vals
            for col, draws in own.items():
                u[col] = u[col].astype(float)
                u.loc[hit, col] = float(np.asarray(draws)[k])
            out[k] = self._quota_float(u, hit)
        return out

    def _quota_float(self, units: pd.DataFrame, hit: NDArray[np.bool_]) -> float:
        """One unit's quota in floating point (for many draws; ``allocate`` is exact)."""
        pts = self.points(units)["points"].to_numpy(dtype=float)
        w = (
            pd.to_numeric(units[self.weight]).to_numpy(dtype=float)
            if self.weight is not None
            else np.ones(len(units))
        )
        if self.minimum_weight is not None:
            w = np.maximum(w, self.minimum_weight)
        s = pts * w
        total = s.sum()
        return float(self.budget) * float(s[hit][0]) / total if total > 0 else float("nan")


def largest_remainder(
    quotas: Sequence[Fraction], total: int, *, priority: Sequence[Fraction] | None = None
) -> list[int]:
    """Whole numbers summing to ``total``: floors of the quotas, leftovers to the largest remainders.

    Hamilton's method. Ties among equal remainders go to the larger ``priority`` (the score),
    then to the earlier position, so the result does not depend on anything but the input.

    Examples
    --------
    >>> largest_remainder([Fraction(10, 3)] * 3, 10)
    [4, 3, 3]
    >>> largest_remainder([Fraction(37, 10), Fraction(26, 10), Fraction(37, 10)], 10)
    [4, 2, 4]
    """
    floors = [math.floor(q) for q in quotas]
    left = total - sum(floors)
    if left < 0 or left > len(quotas):
        raise ValueError(f"quotas sum to {float(sum(quotas))}, not to {total}")
    pr = list(priority) if priority is not None else [Fraction(0)] * len(quotas)
    order = sorted(range(len(quotas)), key=lambda i: (-(quotas[i] - floors[i]), -pr[i], i))
    for i in order[:left]:
        floors[i] += 1
    return floors


# ---------------------------------------------------------------- parsing helpers


def _num(x: Fraction) -> float | int:
    return int(x) if x.denominator == 1 else float(x)


def _lines(mask: pd.Series) -> str:
    """1-based file lines (header is line 1) of the rows where ``mask`` holds (first 10)."""
    idx = [int(i) + 2 for i in np.flatnonzero(mask.to_numpy(dtype=bool))]
    more = f" and {len(idx) - 10} more" if len(idx) > 10 else ""
    return ", ".join(map(str, idx[:10])) + more


def _rule_from(r: Reader, d: Any) -> ScoringRule:
    t = r.table(d)
    r.keys(
        t,
        required=("column", "type", "table"),
        optional=("label", "direction", "change_from", "goal", "group"),
    )
    kind = r.at("type").string(t["type"], choices=tuple(SCORING_TYPES))
    table = r.at("table").pairs(t["table"], second="points")
    for i, (k, p) in enumerate(table):
        if p < 0:
            r.at("table").at(i).fail(f"points {p:g} are negative. Fix: give points ≥ 0.")
        if kind == "rank" and (k < 1 or k != int(k)):
            r.at("table").at(i).fail(
                f"rank {k:g} is not a whole number ≥ 1. Fix: write ranks as 1, 2, 3, …"
            )
        if kind == "percentile" and not 0 < k <= 1:
            r.at("table").at(i).fail(
                f"share {k:g} is outside (0, 1]. Fix: write the top 10% as 0.1."
            )
    col = r.at("column").string(t["column"])
    return ScoringRule(
        column=col,
        label=r.opt_string(t, "label") or col,
        type=kind,
        table=tuple(table),
        direction=r.opt_string(t, "direction", choices=DIRECTIONS) or "higher",
        change_from=r.opt_string(t, "change_from"),
        goal=r.opt_string(t, "goal") or "",
        group=r.opt_string(t, "group") or "",
    )


def _cap_from(r: Reader, d: Any, rules: Sequence[ScoringRule]) -> GroupCap:
    t = r.table(d)
    r.keys(t, required=("goal", "group", "points"), optional=())
    cap = GroupCap(
        goal=r.at("goal").string(t["goal"]),
        group=r.at("group").string(t["group"]),
        points=r.at("points").number(t["points"], minimum=0, what="points"),
    )
    if not any(x.goal == cap.goal and x.group == cap.group for x in rules):
        r.fail(
            f"no indicator belongs to goal {cap.goal!r} and group {cap.group!r}. Fix: set "
            "goal and group on the indicators, or correct the cap."
        )
    return cap
