"""Primary and secondary suppression, solved over a whole publication.

1. **Primary**: every count of people from 1 to ``min_cell − 1`` is hidden (shown as
   ``<min_cell``); zero is shown. Every statistic computed from a group that small (its estimate,
   SE, CI, df, figure) is withheld: from two people a mean and its SE give each person's value.
2. **Secondary**: while the auditor finds a hidden cell whose feasible interval is narrower than
   the protection level, one more item is hidden — a published cell (shown as ``*``) or a
   published derived value (withheld) — chosen among the items tied to the exposed cell by the
   gain in its interval per unit of cost. Key denominators carry a high cost, so they stay
   published whenever the audit allows; zeros are never hidden (they protect nothing).

The result is a :class:`Decision`; it ends with a final audit of every hidden cell, so a reader
of the decision sees the proof, not just the choice.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType

from pfseval.sdc.audit import AuditFinding, audit
from pfseval.sdc.model import Publication

__all__ = ["Decision", "protect"]


@dataclass(frozen=True)
class Decision:
    """What to hide, and the audit that shows it is enough.

    Attributes
    ----------
    hidden
        Hidden cells → ``"primary"`` or ``"secondary"``.
    withheld
        Derived values that are not published.
    findings
        The final audit: for every primary cell, the interval a reader can deduce.
    protection
        The width every primary cell's interval must reach.
    min_cell
        The publication's minimum cell.
    """

    hidden: Mapping[str, str]
    withheld: frozenset[str]
    findings: Mapping[str, AuditFinding]
    protection: float
    min_cell: int
    reasons: Mapping[str, str] = field(default_factory=dict)

    def __post_init__(self) -> None:
        object.__setattr__(self, "hidden", MappingProxyType(dict(self.hidden)))
        object.__setattr__(self, "findings", MappingProxyType(dict(self.findings)))
        object.__setattr__(self, "reasons", MappingProxyType(dict(self.reasons)))

    def show(self, key: str, value: int) -> str:
        """How a cell is shown: its value, ``<min_cell`` or ``*``."""
        why = self.hidden.get(key)
        if why == "primary":
            return f"<{self.min_cell}"
        if why == "secondary":
            return "*"
        return f"{value:,}"

    def is_published(self, key: str) -> bool:
        """Whether a cell or derived value is published."""
        return key not in self.hidden and key not in self.withheld

    @property
    def unsafe(self) -> tuple[AuditFinding, ...]:
        """Hidden cells a reader can narrow below the protection level (empty when safe)."""
        return tuple(f for f in self.findings.values() if f.width < self.protection - 1e-9)


def _neighbours(pub: Publication) -> dict[str, set[str]]:
    """Item graph: a cell is linked to the identities' other cells and to derived values."""
    g: dict[str, set[str]] = {k: set() for k in pub.cells}
    for ident in pub.identities:
        keys = list(ident.coefs)
        for a in keys:
            g[a].update(k for k in keys if k != a)
    for key, d in pub.derived.items():
        g.setdefault(key, set())
        for c in d.cells():
            g[c].add(key)
            g[key].add(c)
    return g


def protect(
    pub: Publication,
    *,
    protection: float | None = None,
    max_steps: int = 500,
) -> Decision:
    """Decide what to hide so that no hidden count can be narrowed below ``protection``.

    Parameters
    ----------
    pub
        Everything the publication shows.
    protection
        The width of the interval a reader must be left with for every hidden count of people.
        The default, ``min_cell − 2``, leaves the whole range 1 … min_cell − 1 that ``<min_cell``
        already says: nothing published narrows a hidden count at all.
    max_steps
        Safety bound on secondary-suppression steps.

    Examples
    --------
    >>> pub = Publication(min_cell=10)
    >>> for key, v in [("input", 120), ("excluded", 3), ("analysed", 117)]:
    ...     _ = pub.cell(key, v)
    >>> pub.parts("input", ["excluded", "analysed"])
    >>> d = protect(pub)
    >>> dict(d.hidden)
    {'excluded': 'primary', 'analysed': 'secondary'}
    >>> d.unsafe
    ()
    """
    m = pub.min_cell
    prot = float(m - 2 if protection is None else protection)
    hidden: dict[str, str] = {k: "primary" for k in pub.cells if pub.small(k)}
    withheld: set[str] = set()
    reasons: dict[str, str] = {}
    for key, d in pub.derived.items():
        if d.kind == "group" and any(pub.small(c) for c in d.group):
            withheld.add(key)
            reasons[key] = "small_group"
    graph = _neighbours(pub)
    primary = [k for k, why in hidden.items() if why == "primary"]

    for _ in range(max_steps):
        if not primary:
            break
        findings = audit(pub, hidden, withheld=withheld, keys=primary)
        exposed = sorted(
            (f for f in findings.values() if f.width < prot - 1e-9), key=lambda f: f.width
        )
        if not exposed:
            break
        # the narrowest exposed cell that some published item can still protect (a cell tied
        # only to fixed items cannot be helped; the final audit reports it as unsafe)
        choice = None
        for target in exposed:
            choice = _best_candidate(pub, graph, hidden, withheld, target, prot)
            if choice is not None:
                break
        if choice is None:
            break
        for key in choice:
            if key in pub.cells:
                hidden[key] = "secondary"
            else:
                withheld.add(key)
                reasons[key] = "protects_hidden_count"
    final = audit(pub, hidden, withheld=withheld, keys=primary)
    return Decision(hidden, frozenset(withheld), final, prot, m, reasons)


def _candidates(
    pub: Publication,
    graph: Mapping[str, set[str]],
    hidden: Mapping[str, str],
    withheld: set[str],
    start: str,
) -> list[str]:
    """Published items reachable from ``start`` through hidden cells and withheld values."""
    seen = {start}
    queue = deque([start])
    found: list[str] = []
    while queue:
        node = queue.popleft()
        for nb in sorted(graph.get(node, ())):
            if nb in seen:
                continue
            seen.add(nb)
            if nb in pub.cells:
                if nb in hidden:
                    queue.append(nb)
                elif pub.cells[nb].value > 0 and not pub.cells[nb].fixed:
                    found.append(nb)
            elif nb in withheld:
                queue.append(nb)
            elif not pub.derived[nb].fixed:
                found.append(nb)
    return found


def _cost(pub: Publication, key: str) -> float:
    if key in pub.cells:
        c = pub.cells[key]
        # hide small published cells first: they carry the least information
        return c.cost * (1.0 + c.value / (10.0 * pub.min_cell))
    return pub.derived[key].cost


def _apply(
    pub: Publication, hidden: dict[str, str], withheld: set[str], keys: tuple[str, ...]
) -> tuple[dict[str, str], set[str]]:
    h, w = dict(hidden), set(withheld)
    for key in keys:
        if key in pub.cells:
            h[key] = "secondary"
        else:
            w.add(key)
    return h, w


#: How many of the cheapest candidates are tried as first and second item of a pair.
_PAIR_WIDTH = 6


def _best_candidate(
    pub: Publication,
    graph: Mapping[str, set[str]],
    hidden: dict[str, str],
    withheld: set[str],
    target: AuditFinding,
    prot: float,
) -> tuple[str, ...] | None:
    """The item (or pair of items) that widens the target's interval most per unit of cost.

    Pairs matter: in a flow chain each remaining count is pinned by the next step, so hiding a
    cheap remaining count helps only together with the next step's exclusion — often far cheaper
    than hiding the key denominator, the one single item that would help alone.
    """
    cands = sorted(
        _candidates(pub, graph, hidden, withheld, target.key), key=lambda k: _cost(pub, k)
    )
    if not cands:
        return None

    def gain(keys: tuple[str, ...]) -> float:
        h, w = _apply(pub, hidden, withheld, keys)
        f = audit(pub, h, withheld=w, keys=[target.key])[target.key]
        return min(f.width, prot) - target.width

    best: tuple[float, tuple[str, ...]] | None = None
    for key in cands:
        g = gain((key,))
        if g > 1e-9:
            score = g / _cost(pub, key)
            if best is None or score > best[0]:
                best = (score, (key,))
    for first in cands[:_PAIR_WIDTH]:
        h, w = _apply(pub, hidden, withheld, (first,))
        seconds = sorted(_candidates(pub, graph, h, w, target.key), key=lambda k: _cost(pub, k))
        for second in seconds[:_PAIR_WIDTH]:
            pair = (first, second)
            cost = _cost(pub, first) + _cost(pub, second)
            if best is not None and best[0] * cost >= prot:
                continue  # cannot beat the best score even with the full gain
            g = gain(pair)
            if g > 1e-9 and (best is None or g / cost > best[0]):
                best = (g / cost, pair)
    # No item or pair widens the interval on its own: hide the cheapest and go on.
    return best[1] if best is not None else (cands[0],)
