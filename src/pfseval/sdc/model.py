"""What a publication shows, as cells and the relations a reader can use.

Everything a reader can combine is recorded here: the cells (counts of people), the identities
between them that hold whatever is published (a flow step's count before equals excluded plus
remaining), and every published value derived from cells (a difference, ``df = n − 1``, a rate or
a mean of a two-valued variable shown to some precision, the limits of a proportion's confidence
interval, an estimate computed from one group). A published derived value is an **item**: it can
be withheld, like a cell.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Literal

__all__ = ["Cell", "Derived", "Identity", "Publication"]

DerivedKind = Literal["linear", "ratio", "proportion_ci", "group", "reveals"]


@dataclass(frozen=True)
class Cell:
    """A count of people, or another count a table shows.

    Attributes
    ----------
    key
        Unique name within the publication (e.g. ``"flow.treated.analysed"``).
    value
        The true count.
    sensitive
        A count of people (primary suppression applies). Counts of other things (pairs of a
        fixed ratio, bootstrap replicates) are ``False``.
    cost
        What hiding it costs the reader; secondary suppression hides the cheapest cells first.
        Key denominators (participants, matched, analysed) carry a high cost so that they stay
        published whenever the audit allows.
    fixed
        Always published, never chosen for secondary suppression (a count of years or of rows
        of an aggregated series: not people, and shown as it is).
    """

    key: str
    value: int
    sensitive: bool = True
    cost: float = 1.0
    fixed: bool = False


@dataclass(frozen=True)
class Identity:
    """An identity between cells that every reader knows: ``Σ coefs[k] · cell[k] = 0``."""

    coefs: Mapping[str, float]

    def __post_init__(self) -> None:
        object.__setattr__(self, "coefs", MappingProxyType(dict(self.coefs)))


@dataclass(frozen=True)
class Derived:
    """A published value derived from cells.

    Attributes
    ----------
    key
        Unique name of the item.
    kind
        ``linear`` (``Σ coefs · cells + const``), ``ratio`` (``scale · numerator / denominator``),
        ``proportion_ci`` (the limits of a proportion's interval), ``group`` (a statistic of one
        group's people: an estimate, SE, CI or figure; it would show individual values when the
        group is small), ``reveals`` (a value that gives each of its cells back exactly when
        published, with a relation too irregular to model: a Welch degrees of freedom, an
        effective sample size; the auditor takes the cells as known).
    value
        The published value (for ``proportion_ci``: the lower limit; ``upper`` holds the other).
    tol
        Half the unit of the last shown digit (a rate shown as 72.1% has ``tol = 0.0005``).
    """

    key: str
    kind: DerivedKind
    value: float = 0.0
    tol: float = 0.0
    coefs: Mapping[str, float] = field(default_factory=dict)
    const: float = 0.0
    numerator: str | None = None
    denominator: str | float | None = None
    scale: float = 1.0
    upper: float = 0.0
    level: float = 0.95
    method: str = "wilson"
    group: tuple[str, ...] = ()
    cost: float = 1.0
    fixed: bool = False

    def __post_init__(self) -> None:
        object.__setattr__(self, "coefs", MappingProxyType(dict(self.coefs)))

    def cells(self) -> tuple[str, ...]:
        """The cells this value is derived from."""
        keys = list(self.coefs)
        if self.numerator is not None:
            keys.append(self.numerator)
        if isinstance(self.denominator, str):
            keys.append(self.denominator)
        keys += list(self.group)
        return tuple(dict.fromkeys(keys))


def _tol(decimals: int | None) -> float:
    return 0.0 if decimals is None else 0.5 * 10.0 ** (-decimals)


class Publication:
    """The cells, identities and derived values of one publication.

    Parameters
    ----------
    min_cell
        Smallest count of people that may be shown (counts 1 … min_cell − 1 are hidden; 0 is
        shown). 10 is the NDB rule.

    Examples
    --------
    >>> pub = Publication(min_cell=10)
    >>> for key, v in [("input", 120), ("excluded", 3), ("analysed", 117)]:
    ...     _ = pub.cell(key, v)
    >>> pub.identity({"input": 1, "excluded": -1, "analysed": -1})
    >>> sorted(pub.cells)
    ['analysed', 'excluded', 'input']
    """

    def __init__(self, *, min_cell: int = 10) -> None:
        if min_cell < 1:
            raise ValueError(f"min_cell must be ≥ 1, got {min_cell}")
        self.min_cell = int(min_cell)
        self.cells: dict[str, Cell] = {}
        self.identities: list[Identity] = []
        self.derived: dict[str, Derived] = {}
        # a sub-publication keeps the whole publication's bound: what a reader may assume
        # about an unknown count does not depend on how the solver splits the work
        self._ub: int | None = None

    # -- cells -----------------------------------------------------------------
    def cell(
        self,
        key: str,
        value: int,
        *,
        sensitive: bool = True,
        cost: float = 1.0,
        fixed: bool = False,
    ) -> str:
        """Add a cell (the same key with the same value may be added again: tables share cells).

        ``fixed`` cells (counts of something other than people, shown as they are) are never
        chosen for secondary suppression.
        """
        v = int(value)
        if v != value or v < 0:
            raise ValueError(f"cell {key!r}: a count must be a whole number ≥ 0, got {value!r}")
        old = self.cells.get(key)
        if old is not None:
            if old.value != v:
                raise ValueError(f"cell {key!r} added twice with different values")
            if cost > old.cost or (sensitive and not old.sensitive) or (fixed and not old.fixed):
                self.cells[key] = Cell(
                    key, v, sensitive or old.sensitive, max(cost, old.cost), fixed or old.fixed
                )
            return key
        self.cells[key] = Cell(key, v, sensitive, cost, fixed)
        return key

    def identity(self, coefs: Mapping[str, float]) -> None:
        """``Σ coefs[k] · cell[k] = 0`` holds, whatever is published."""
        self._known(coefs)
        total = sum(c * self.cells[k].value for k, c in coefs.items())
        if abs(total) > 1e-9:
            raise ValueError(f"identity {dict(coefs)} does not hold for the cell values")
        self.identities.append(Identity(coefs))

    def parts(self, total: str, parts: Sequence[str]) -> None:
        """``total = Σ parts`` (a table's margin, a flow step)."""
        self.identity({total: 1.0, **{p: -1.0 for p in parts}})

    # -- derived values --------------------------------------------------------
    def linear(
        self,
        key: str,
        coefs: Mapping[str, float],
        *,
        const: float = 0.0,
        decimals: int | None = None,
        cost: float = 1.0,
        fixed: bool = False,
    ) -> str:
        """A published ``Σ coefs · cells + const`` (a difference of counts, ``df = n − 1``)."""
        self._known(coefs)
        value = sum(c * self.cells[k].value for k, c in coefs.items()) + const
        return self._add(
            Derived(
                key,
                "linear",
                value=value,
                tol=_tol(decimals),
                coefs=coefs,
                const=const,
                cost=cost,
                fixed=fixed,
            )
        )

    def ratio(
        self,
        key: str,
        numerator: str,
        denominator: str | float,
        *,
        decimals: int,
        scale: float = 1.0,
        cost: float = 1.0,
        fixed: bool = False,
        group: Sequence[str] = (),
    ) -> str:
        """A published ``scale · numerator / denominator`` shown to ``decimals`` decimals.

        A rate (scale 1 or 100 for %), or the mean of a two-valued variable in a group (the
        numerator is the count with the value 1). ``group``: the cells of the people it is
        computed from when it is an estimate (withheld with the estimate when one is small).
        """
        self._known([numerator, *([denominator] if isinstance(denominator, str) else [])])
        den = self.cells[denominator].value if isinstance(denominator, str) else denominator
        value = scale * self.cells[numerator].value / den if den else 0.0
        return self._add(
            Derived(
                key,
                "ratio",
                value=round(value, decimals),
                tol=_tol(decimals),
                numerator=numerator,
                denominator=denominator,
                scale=scale,
                cost=cost,
                fixed=fixed,
                group=tuple(group),
            )
        )

    def proportion_ci(
        self,
        key: str,
        numerator: str,
        denominator: str,
        *,
        conf_low: float,
        conf_high: float,
        decimals: int,
        method: Literal["wilson", "clopper_pearson"] = "wilson",
        level: float = 0.95,
        cost: float = 1.0,
        fixed: bool = False,
        group: Sequence[str] = (),
    ) -> str:
        """The published limits of a proportion's confidence interval (they say much about n);
        ``group`` as for :meth:`ratio`."""
        self._known([numerator, denominator, *group])
        return self._add(
            Derived(
                key,
                "proportion_ci",
                value=round(conf_low, decimals),
                upper=round(conf_high, decimals),
                tol=_tol(decimals),
                numerator=numerator,
                denominator=denominator,
                method=method,
                level=level,
                cost=cost,
                fixed=fixed,
                group=tuple(group),
            )
        )

    def group_statistic(
        self, key: str, group: Sequence[str], *, cost: float = 1.0, fixed: bool = False
    ) -> str:
        """A statistic computed from the people of ``group`` (estimate, SE, CI, df, figure).

        It is withheld whenever a group cell is under ``min_cell``: from two people a mean and
        its SE give each person's value. ``fixed`` only says it is never withheld to protect
        another count (an indicator's estimate the contract pays on); a small group still
        withholds it.
        """
        self._known(group)
        return self._add(Derived(key, "group", group=tuple(group), cost=cost, fixed=fixed))

    def reveals(self, key: str, cells: Sequence[str], *, cost: float = 1.0) -> str:
        """A published value that gives each of ``cells`` back exactly (conservatively).

        For values derived from counts by a relation the auditor does not model (a Welch
        degrees of freedom, an effective sample size, a count of rows with repeats): the
        auditor assumes a reader knows every cell once the value is published, so the value
        is withheld whenever one of them must stay hidden, or its cells are shown.
        """
        self._known(cells)
        return self._add(Derived(key, "reveals", group=tuple(cells), cost=cost))

    def subset(self, keys: Collection[str]) -> Publication:
        """The part of the publication that involves the cells ``keys`` (a connected component).

        Identities and derived values touching any of them come along with every cell they
        involve, so the sub-publication says about ``keys`` everything the whole one says.
        """
        want = set(keys)
        sub = Publication(min_cell=self.min_cell)
        idents = [i for i in self.identities if want & set(i.coefs)]
        derived = {k: d for k, d in self.derived.items() if want & set(d.cells())}
        need = set(want)
        for i in idents:
            need |= set(i.coefs)
        for d in derived.values():
            need |= set(d.cells())
        sub.cells = {k: c for k, c in self.cells.items() if k in need}
        sub.identities = idents
        sub.derived = derived
        sub._ub = self.upper_bound()
        return sub

    # -- helpers ---------------------------------------------------------------
    def _known(self, keys: Mapping[str, float] | Sequence[str]) -> None:
        missing = [k for k in keys if k not in self.cells]
        if missing:
            raise ValueError(f"unknown cells {missing}: add them with Publication.cell first")

    def _add(self, d: Derived) -> str:
        if d.key in self.derived and self.derived[d.key] != d:
            raise ValueError(f"derived value {d.key!r} added twice with different definitions")
        self.derived[d.key] = d
        return d.key

    def upper_bound(self) -> int:
        """A bound no cell can exceed (what a reader can assume without knowing anything)."""
        if self._ub is not None:
            return self._ub
        return max([c.value for c in self.cells.values()] + [self.min_cell]) * 10 + 1000

    def small(self, key: str) -> bool:
        """Whether a cell must be hidden on its own (a count of people 1 … min_cell − 1)."""
        c = self.cells[key]
        return c.sensitive and 0 < c.value < self.min_cell
