"""A document's counts as one :class:`pfseval.sdc.Publication`, and the auditor's verdict on them.

The report registers every count it shows in a :class:`~pfseval.report.disclosure.CountLedger`
(cells, additive relations, which counts are hidden). This module hands the same cells and
relations, plus the rates the document prints next to them, to the linear-programming auditor of
:mod:`pfseval.sdc`, which computes for every hidden small count the interval of values a reader
can deduce from everything shown. It is the check the attack tests run over whole documents.

What a reader is assumed to know: every shown count, every additive relation (a flow step:
before = excluded + remaining), that ``<min_cell`` is 1 … min_cell − 1 and ``*`` at least
min_cell, that counts are whole numbers, and every rate with the digits it is shown to.
"""

from __future__ import annotations

import itertools
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from pfseval.report.disclosure import CountLedger, format_count
from pfseval.report.disclosure_policy import DisclosurePolicy
from pfseval.sdc import AuditFinding, Decision, Publication, audit, protect

__all__ = ["DocumentPublication", "ShownRate", "audit_ledger", "ledger_publication"]


@dataclass(frozen=True)
class ShownRate:
    """A rate the document prints: ``scale · numerator / denominator`` to ``decimals`` decimals.

    ``numerator`` and ``denominator`` are ledger keys (72.1% is ``scale=100, decimals=1``).
    """

    numerator: str
    denominator: str
    decimals: int
    scale: float = 1.0


def _cell(led: CountLedger, key: str) -> str:
    """The publication's name of a ledger count (aliases share one cell)."""
    return f"c{led._keys[key]}"


def ledger_publication(
    led: CountLedger, *, rates: Sequence[ShownRate] = ()
) -> tuple[Publication, dict[str, str]]:
    """The ledger's counts, relations and ``rates`` as a publication, with the hidden pattern.

    Returns
    -------
    tuple
        The :class:`~pfseval.sdc.Publication` (cell ``c<i>`` per distinct count) and the hidden
        cells → ``"primary"`` (shown as ``<min_cell``) or ``"secondary"`` (shown as ``*``).

    Examples
    --------
    >>> led = CountLedger(min_cell=10)
    >>> for k, v in [("input", 120), ("excluded", 3), ("analysed", 117)]:
    ...     _ = led.add(k, v)
    >>> led.relate("input", ["excluded", "analysed"])
    >>> pub, hidden = ledger_publication(led)
    >>> sorted(hidden.items())
    [('c1', 'primary'), ('c2', 'secondary')]
    """
    pub = Publication(min_cell=led.min_cell)
    hidden: dict[str, str] = {}
    if led._hidden is None:
        led.solve()
    mask = led._hidden
    assert mask is not None
    for i, (v, exempt) in enumerate(zip(led._values, led._exempt, strict=True)):
        key = f"c{i}"
        is_hidden = not exempt and bool(mask[i])
        small = not exempt and 0 < v < led.min_cell
        # a hidden zero tells the reader "at least min_cell" wrongly; audit it as a plain
        # unknown count (not sensitive: no lower bound), never as a small one
        pub.cell(key, round(v), sensitive=not exempt and v > 0, fixed=exempt)
        if is_hidden:
            hidden[key] = "primary" if small else "secondary"
    for tot, parts in led._relations:
        coefs: dict[str, float] = {f"c{tot}": 1.0}
        for q in parts:
            coefs[f"c{q}"] = coefs.get(f"c{q}", 0.0) - 1.0
        if any(abs(c) > 0 for c in coefs.values()):
            pub.identity(coefs)
    for k, r in enumerate(rates):
        den = _cell(led, r.denominator)
        if pub.cells[den].value == 0:
            continue
        pub.ratio(f"rate{k}", _cell(led, r.numerator), den, decimals=r.decimals, scale=r.scale)
    return pub, hidden


def audit_ledger(
    led: CountLedger,
    *,
    rates: Sequence[ShownRate] = (),
    protection: float | None = None,
) -> dict[str, AuditFinding]:
    """Hidden small counts a reader can narrow below ``protection`` (empty when safe).

    ``protection`` defaults to ``min_cell − 2``: a reader must be left with the whole range
    1 … min_cell − 1 that ``<min_cell`` already says.

    Examples
    --------
    A flow with a small exclusion: the additive rules hide a complement, and the auditor agrees.
    Print the completion rate next to it to one decimal, and the shown 104 with 91.3% gives the
    hidden 9 back (a rate the ledger does not know of):

    >>> led = CountLedger(min_cell=10)
    >>> for k, v in [("input", 104), ("no", 9), ("yes", 95)]:
    ...     _ = led.add(k, v)
    >>> led.relate("input", ["no", "yes"])
    >>> led.solve()
    >>> [led.show(k) for k in ("input", "no", "yes")]
    ['104', '<10', '*']
    >>> audit_ledger(led)
    {}
    >>> f = audit_ledger(led, rates=[ShownRate("yes", "input", decimals=1, scale=100)])
    >>> [(x.value, x.low, x.high) for x in f.values()]
    [(9, 9.0, 9.0)]
    """
    pub, hidden = ledger_publication(led, rates=rates)
    prot = float(led.min_cell - 2 if protection is None else protection)
    primary = [k for k, why in hidden.items() if why == "primary"]
    found = audit(pub, hidden, keys=primary)
    return {k: f for k, f in found.items() if f.width < prot - 1e-9}


_UNSHOWN_COST = 0.01  # of a printed count's cost: see DocumentPublication.unshown


class DocumentPublication(CountLedger):
    """Every number a document shows, registered with where it comes from, decided at once.

    A :class:`~pfseval.report.disclosure.CountLedger` (cells of people, aliases, additive
    relations) whose decision comes from :func:`pfseval.sdc.protect` over the whole document:
    the values derived from cells — rates shown to some decimals, interval limits of a
    proportion, values that give their cells back (degrees of freedom), statistics of one group
    (an estimate, its SE and CI, a figure) — are registered too and may be withheld at a cost,
    so secondary suppression can hide a rate instead of a key denominator. Counts of whole
    populations (a flow's input and analysed counts, an indicator's n, a diagnostic's count of
    people; :meth:`population`) that are equal are tied: a reader who sees 104 participants in
    one table and ``*`` in another takes them for the same people. Equal exclusions or
    intermediate counts are not tied: there the equality is a coincidence a reader cannot see.

    Examples
    --------
    >>> from pfseval.report.disclosure_policy import DisclosurePolicy
    >>> doc = DocumentPublication(DisclosurePolicy(min_cell=10))
    >>> for k, v in [("arm", 150), ("missing", 3), ("kept", 147)]:
    ...     _ = doc.add(k, v)
    >>> doc.relate("arm", ["missing", "kept"])
    >>> doc.key_count("arm", "participants")
    >>> doc.ratio("attrition", "missing", "arm", decimals=3)
    >>> doc.solve()
    >>> [doc.show(k) for k in ("arm", "missing", "kept")], doc.published("attrition")
    (['150', '<10', '*'], False)
    """

    def __init__(self, policy: DisclosurePolicy) -> None:
        super().__init__(min_cell=policy.min_cell)
        self.policy = policy
        self._costs: dict[int, float] = {}
        self._roles: dict[int, str] = {}
        self._items: dict[str, dict[str, Any]] = {}
        self._decision: Decision | None = None
        self._population: set[int] = set()
        self._plain: set[int] = set()
        self._unshown: set[int] = set()

    # -- registration ------------------------------------------------------------
    def key_count(self, key: str, role: str) -> None:
        """Mark a registered count as a key denominator (``participants``, ``matched``,
        ``analysed``): published whenever the auditor allows, if the policy says so."""
        if role not in self.policy.key_counts:
            return
        i = self._keys[key]
        self._roles.setdefault(i, role)
        self._costs[i] = max(self._costs.get(i, 0.0), self.policy.cost("key_count"))
        self._decision = None

    def plain(self, key: str) -> None:
        """A count that may be hidden to protect others but is not itself under the minimum
        cell (a number of matched sets: counts of people counted another way)."""
        self._plain.add(self._keys[key])
        self._decision = None

    def unshown(self, key: str) -> None:
        """A count the document never prints, registered only to state a relation a reader
        can use (the rest of a total after the groups shown: ``cohort = Σ groups + rest``).

        A reader can compute it when everything else is shown, so it is a cell like any
        other; but hiding it shows no ``*``, so a reader learns no lower bound from that: at
        ``min_cell`` or more it is audited as a plain unknown count (a small one stays a
        primary cell, protected like any count a reader could compute). It is not counted in
        what the disclosure paragraph says was hidden. Hiding it costs the reader nothing
        (nothing printed turns into ``*``), so the solver hides it before any printed count."""
        i = self._keys[key]
        self._unshown.add(i)
        if self._values[i] >= self.min_cell:
            self._plain.add(i)
        self._costs[i] = _UNSHOWN_COST * self.policy.cost("count")
        self._decision = None

    def population(self, *keys: str) -> None:
        """Mark counts as counts of a whole population (tied to equal ones, see the class)."""
        self._population.update(self._keys[k] for k in keys)
        self._decision = None

    def _item(self, key: str, kind: str, cells: Sequence[str], **kw: Any) -> None:
        for c in [*cells, *kw.get("group", [])]:
            if c not in self._keys:
                raise KeyError(f"{key}: count {c!r} is not registered")
        self._items[key] = {"kind": kind, "cells": list(cells), **kw}
        self._decision = None

    def ratio(
        self,
        key: str,
        numerator: str,
        denominator: str,
        *,
        decimals: int,
        scale: float = 1.0,
        cost: float | None = None,
        fixed: bool = False,
        group: Sequence[str] = (),
    ) -> None:
        """A published ``scale · numerator / denominator`` to ``decimals`` decimals; ``group``:
        the counts of the people it is an estimate of (withheld when one is small)."""
        c = self.policy.cost("value") if cost is None else cost
        self._item(
            key, "ratio", [numerator, denominator], decimals=decimals, scale=scale, cost=c,
            fixed=fixed, group=list(group),
        )  # fmt: skip

    def proportion_ci(
        self,
        key: str,
        numerator: str,
        denominator: str,
        *,
        conf_low: float,
        conf_high: float,
        decimals: int,
        method: str = "wilson",
        level: float = 0.95,
        cost: float | None = None,
        fixed: bool = False,
        group: Sequence[str] = (),
    ) -> None:
        """Published limits of a proportion's interval (they say much about n)."""
        c = self.policy.cost("value") if cost is None else cost
        self._item(
            key, "proportion_ci", [numerator, denominator], conf_low=conf_low,
            conf_high=conf_high, decimals=decimals, method=method, level=level, cost=c,
            fixed=fixed, group=list(group),
        )  # fmt: skip

    def reveals(self, key: str, cells: Sequence[str], *, cost: float | None = None) -> None:
        """A published value that gives ``cells`` back (degrees of freedom, rows with repeats)."""
        c = self.policy.cost("value") if cost is None else cost
        self._item(key, "reveals", cells, cost=c)

    def group(self, key: str, cells: Sequence[str], *, fixed: bool = True) -> None:
        """A statistic of the people counted by ``cells`` (withheld when one is small)."""
        self._item(key, "group", cells, fixed=fixed)

    def add(self, key: str, value: float, *, people: bool = True) -> str:
        self._decision = None
        return super().add(key, value, people=people)

    def relate(self, total: str, parts: Sequence[str]) -> None:
        self._decision = None
        super().relate(total, parts)

    # -- the decision --------------------------------------------------------------
    def publication(self) -> Publication:
        """The document as a :class:`~pfseval.sdc.Publication` (cell ``c<i>`` per count)."""
        m = self.min_cell
        pub = Publication(min_cell=m)
        count_cost = self.policy.cost("count")
        for i, (v, exempt) in enumerate(zip(self._values, self._exempt, strict=True)):
            pub.cell(
                f"c{i}",
                round(v),
                sensitive=not exempt and v > 0 and i not in self._plain,
                fixed=exempt,
                cost=self._costs.get(i, count_cost),
            )
        for tot, parts in self._relations:
            coefs: dict[str, float] = {f"c{tot}": 1.0}
            for q in parts:
                coefs[f"c{q}"] = coefs.get(f"c{q}", 0.0) - 1.0
            coefs = {k: x for k, x in coefs.items() if x != 0}
            if coefs:
                pub.identity(coefs)
        by_value: dict[int, list[int]] = {}
        for i, (v, exempt) in enumerate(zip(self._values, self._exempt, strict=True)):
            if not exempt and v >= m and i in self._population:
                by_value.setdefault(round(v), []).append(i)
        for same in by_value.values():
            for a, b in itertools.pairwise(same):
                pub.identity({f"c{a}": 1.0, f"c{b}": -1.0})
        for key, it in self._items.items():
            cells = [f"c{self._keys[c]}" for c in it["cells"]]
            group = [f"c{self._keys[c]}" for c in it.get("group", [])]
            name = f"v:{key}"
            kind = it["kind"]
            if kind == "ratio":
                if pub.cells[cells[1]].value == 0:
                    continue
                pub.ratio(
                    name, cells[0], cells[1], decimals=it["decimals"], scale=it["scale"],
                    cost=it["cost"], fixed=it["fixed"], group=group,
                )  # fmt: skip
            elif kind == "proportion_ci":
                if pub.cells[cells[1]].value == 0:
                    continue
                pub.proportion_ci(
                    name, cells[0], cells[1], conf_low=it["conf_low"],
                    conf_high=it["conf_high"], decimals=it["decimals"],
                    method=it["method"], level=it["level"], cost=it["cost"],
                    fixed=it["fixed"], group=group,
                )  # fmt: skip
            elif kind == "reveals":
                pub.reveals(name, cells, cost=it["cost"])
            else:
                pub.group_statistic(name, cells, fixed=it["fixed"])
        return pub

    def solve(self) -> None:
        """Decide, with :func:`pfseval.sdc.protect`, what the document hides."""
        pub = self.publication()
        self._decision = protect(pub, protection=self.policy.protection_level)
        hidden = self._decision.hidden
        self._hidden = np.array([f"c{i}" in hidden for i in range(len(self._values))], dtype=bool)

    @property
    def decision(self) -> Decision:
        if self._decision is None:
            self.solve()
        assert self._decision is not None
        return self._decision

    def hidden(self, key: str) -> bool:
        return f"c{self._keys[key]}" in self.decision.hidden

    def published(self, key: str) -> bool:
        """Whether a registered derived value is published (unknown values: ``True``)."""
        if key not in self._items:
            return True
        return f"v:{key}" not in self.decision.withheld

    def hidden_values(self) -> set[int]:
        """Values of counts hidden by secondary suppression (a notice showing one shows ``*``)."""
        d = self.decision
        return {
            round(self._values[int(k[1:])])
            for k, why in d.hidden.items()
            if why == "secondary" and self._values[int(k[1:])] >= self.min_cell
        }

    def show(self, key: str) -> str:
        if not self.counts_people(key):
            return format_count(self.value(key), min_cell=0)
        v = self.value(key)
        return format_count(v, suppressed=self.hidden(key), min_cell=self.min_cell)

    def summary(self) -> dict[str, Any]:
        """What was withheld and why, as data (the appendix's paragraph and results_public)."""
        d = self.decision
        roles = sorted(
            {role for i, role in self._roles.items() if d.hidden.get(f"c{i}") == "secondary"},
            key=self.policy.key_counts.index,
        )
        shown = {k: w for k, w in d.hidden.items() if int(k[1:]) not in self._unshown}
        return {
            "min_cell": self.min_cell,
            "protection": d.protection,
            "primary": sum(1 for w in shown.values() if w == "primary"),
            "secondary": sum(1 for w in shown.values() if w == "secondary"),
            "values_withheld": sum(1 for r in d.reasons.values() if r == "protects_hidden_count"),
            "small_group": sum(1 for r in d.reasons.values() if r == "small_group"),
            "key_counts_hidden": roles,
            "unprotectable": len(d.unprotectable),
            "exact": sum(1 for w in d.best.values() if w < 1),
            "narrowed": sum(1 for w in d.best.values() if w >= 1),
            "unsafe": len(d.unsafe),
        }
