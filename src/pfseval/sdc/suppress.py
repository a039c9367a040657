"""Primary and secondary suppression, solved over a whole publication.

1. **Primary**: every count of people from 1 to ``min_cell − 1`` is hidden (shown as
   ``<min_cell``); zero is shown. Every statistic computed from a group that small (its estimate,
   SE, CI, df, figure) is withheld: from two people a mean and its SE give each person's value.
2. **Secondary**, one connected part of the publication at a time (cells linked by identities
   and derived values; a published constant — a zero, a count of something other than people —
   links nothing). In each part:

   a. everything that may be hidden is hidden (every non-zero, non-fixed cell; every derived
      value not fixed). A primary cell still narrower than the protection level then is
      exposed by fixed items alone (an estimate the contract pays on, a count of years):
      nothing the solver can hide protects it, so it is reported (``Decision.unprotectable``)
      and not pursued;
   b. items are then published again one by one, most costly first (key denominators carry a
      high cost), each kept published when the auditor still finds every protectable primary
      cell at least as wide as the protection level. Items far from every primary cell are
      published at once when that alone is safe, so large flows cost a few programmes only.

   This is the greedy "start from everything hidden and publish back" heuristic of cell
   suppression; it is not a minimum-cost solution, but each step is proven by the auditor, so
   the result is safe by construction, and costs decide what is published first.

The result is a :class:`Decision`; it ends with a final audit of every hidden cell, so a reader
of the decision sees the proof, not just the choice.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable, Collection, Mapping
from dataclasses import dataclass, field
from types import MappingProxyType

from pfseval.sdc.audit import AuditFinding, audit, narrow
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
    reasons
        Withheld derived values → ``"small_group"`` or ``"protects_hidden_count"``.
    unprotectable
        Primary cells narrower than the protection level even with everything that may be
        hidden hidden: fixed items (an estimate the contract pays on) or the other small
        counts they are part of narrow them on their own. They are in :attr:`unsafe` too; a
        report must say so.
    best
        For each unprotectable cell, the widest interval the publication allows (0: its value
        follows exactly); secondary suppression keeps it at least that wide.
    """

    hidden: Mapping[str, str]
    withheld: frozenset[str]
    findings: Mapping[str, AuditFinding]
    protection: float
    min_cell: int
    reasons: Mapping[str, str] = field(default_factory=dict)
    unprotectable: frozenset[str] = frozenset()
    best: Mapping[str, float] = field(default_factory=dict)

    def __post_init__(self) -> None:
        object.__setattr__(self, "hidden", MappingProxyType(dict(self.hidden)))
        object.__setattr__(self, "findings", MappingProxyType(dict(self.findings)))
        object.__setattr__(self, "reasons", MappingProxyType(dict(self.reasons)))
        object.__setattr__(self, "best", MappingProxyType(dict(self.best)))

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
    def exposed(self) -> tuple[AuditFinding, ...]:
        """Hidden cells narrower than the best the publication allows (empty when the
        suppression did all it could: the attack tests' condition)."""
        return tuple(
            f
            for f in self.findings.values()
            if f.width < min(self.protection, self.best.get(f.key, self.protection)) - 1e-9
        )

    @property
    def unsafe(self) -> tuple[AuditFinding, ...]:
        """Hidden cells a reader can narrow below the protection level (empty when safe)."""
        return tuple(f for f in self.findings.values() if f.width < self.protection - 1e-9)


def _constant(pub: Publication, key: str) -> bool:
    """A cell that is always published as it is (a zero, a fixed count): it links nothing."""
    c = pub.cells[key]
    return c.fixed or c.value == 0


_HUB = "\x00identity:"
_HUB_SIZE = 32  # identities with more cells are linked through one node (no clique)


def _neighbours(pub: Publication) -> dict[str, set[str]]:
    """Item graph: a cell is linked to the identities' other cells and to derived values;
    constant cells (:func:`_constant`) are left out, their values are known. A large identity
    (a total of 1,700 municipalities) links its cells through one node of its own instead of
    pairwise, so the graph grows with the cells, not with their square; :func:`_adjacent`
    reads through such nodes."""
    g: dict[str, set[str]] = {k: set() for k in pub.cells if not _constant(pub, k)}
    for i, ident in enumerate(pub.identities):
        keys = [k for k in ident.coefs if k in g]
        if len(keys) > _HUB_SIZE:
            hub = f"{_HUB}{i}"
            g[hub] = set(keys)
            for a in keys:
                g[a].add(hub)
            continue
        for a in keys:
            g[a].update(k for k in keys if k != a)
    for key, d in pub.derived.items():
        g.setdefault(key, set())
        for c in d.cells():
            if c in g:
                g[c].add(key)
                g[key].add(c)
    return g


def _adjacent(graph: Mapping[str, set[str]], key: str) -> set[str]:
    """The items linked to ``key``, read through the nodes of large identities."""
    out: set[str] = set()
    for nb in graph.get(key, ()):
        if nb.startswith(_HUB):
            out.update(graph[nb])
        else:
            out.add(nb)
    out.discard(key)
    return out


def _components(graph: Mapping[str, set[str]]) -> list[list[str]]:
    """Connected parts of the item graph, each in a stable order."""
    seen: set[str] = set()
    out: list[list[str]] = []
    for start in sorted(graph):
        if start in seen:
            continue
        part = []
        queue = deque([start])
        seen.add(start)
        while queue:
            node = queue.popleft()
            part.append(node)
            for nb in sorted(graph[node]):
                if nb not in seen:
                    seen.add(nb)
                    queue.append(nb)
        out.append(sorted(part))
    return out


def _distances(graph: Mapping[str, set[str]], sources: Collection[str]) -> dict[str, int]:
    """Graph distance of every reachable item from the nearest of ``sources``."""
    dist = {s: 0 for s in sources}
    queue = deque(sorted(sources))
    while queue:
        node = queue.popleft()
        for nb in sorted(graph[node]):
            if nb not in dist:
                dist[nb] = dist[node] + 1
                queue.append(nb)
    return dist


def protect(
    pub: Publication,
    *,
    protection: float | None = None,
    max_steps: int = 5000,
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
        Safety bound on the number of items tried for publication again.

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
        # a statistic of a small group, and any value of the same estimate (a rate, its
        # interval) whose group is declared: withheld whatever its cost or fixedness
        if d.group and d.kind != "reveals" and any(pub.small(c) for c in d.group):
            withheld.add(key)
            reasons[key] = "small_group"
    graph = _neighbours(pub)
    lost: dict[str, float] = {}
    budget = [max_steps]
    for part in _components(graph):
        primary = [k for k in part if hidden.get(k) == "primary"]
        if not primary:
            continue
        cells = [k for k in part if k in pub.cells]
        sub = pub.subset(cells)
        h, w, gone = _protect_part(sub, graph, part, hidden, withheld, primary, prot, budget)
        lost.update(gone)
        for key in h:
            hidden.setdefault(key, "secondary")
        for key in w - withheld:
            reasons[key] = "protects_hidden_count"
        withheld |= w
    primary = [k for k, why in hidden.items() if why == "primary"]
    return Decision(
        hidden,
        frozenset(withheld),
        _final_audit(pub, hidden, withheld, primary),
        prot,
        m,
        reasons,
        frozenset(lost),
        lost,
    )


def _final_audit(
    pub: Publication, hidden: Mapping[str, str], withheld: Collection[str], primary: list[str]
) -> dict[str, AuditFinding]:
    """The audit of every primary cell, one linked group of hidden cells at a time (the same
    intervals as one programme over the whole publication: other cells are constants)."""
    out = _audit_linked(pub, _Links(pub), hidden, withheld, primary)
    return {k: out[k] for k in primary}


def _audit_linked(
    pub: Publication,
    links: _Links,
    hidden: Mapping[str, str],
    withheld: Collection[str],
    keys: list[str],
) -> dict[str, AuditFinding]:
    """The audit of ``keys``, one programme per linked group of hidden cells (published
    cells are constants, so the intervals are those of one programme over everything)."""
    out: dict[str, AuditFinding] = {}
    for key in keys:
        if key in out:
            continue
        grp = links.group([key], hidden.keys(), withheld)
        mine = [k for k in keys if k in grp]
        out.update(audit(pub.subset(grp), hidden, withheld=withheld, keys=mine))
    return out


def _first_exposed(
    pub: Publication,
    links: _Links,
    hidden: Mapping[str, str],
    withheld: Collection[str],
    items: Collection[str],
    keys: list[str],
    target: Callable[[str], float],
) -> str | None:
    """The first of ``keys`` narrower than its ``target`` width, checked only in the linked
    groups that the published ``items`` touch (publishing them changes nothing elsewhere)."""
    start: set[str] = set()
    for item in items:
        start |= {item} if item in pub.cells else set(pub.derived[item].cells())
    done: set[str] = set()
    for s0 in sorted(start):
        if s0 in done:
            continue
        grp = links.group([s0], hidden.keys() | {s0}, withheld)
        done |= grp
        mine = [k for k in keys if k in grp]
        if not mine:
            continue
        widths = {k: target(k) for k in mine}
        key = narrow(pub.subset(grp), hidden, withheld=withheld, keys=mine, protection=widths)
        if key is not None:
            return key
    return None


def _publish_runs(
    order: list[str], accept: Callable[[list[str]], bool], budget: list[int] | None = None
) -> None:
    """Publish back in ``order`` (most costly first). Publishing less is never less safe, so
    when a whole run of the order can be published at once, each item of it would have been
    accepted in turn: trying runs of :data:`_RUN` and halving the failed ones gives exactly
    the item-by-item result with far fewer programmes. ``accept(keys)`` publishes the keys
    when that is safe and says whether it did; ``budget`` bounds the tries."""

    def publish(keys: list[str]) -> None:
        if not keys or (budget is not None and budget[0] <= 0):
            return
        if budget is not None:
            budget[0] -= 1
        if not accept(keys) and len(keys) > 1:
            half = len(keys) // 2
            publish(keys[:half])
            publish(keys[half:])

    for i in range(0, len(order), _RUN):
        publish(order[i : i + _RUN])


def _cost(pub: Publication, key: str) -> float:
    if key in pub.cells:
        c = pub.cells[key]
        # a larger count carries more information for the reader: publish it first
        return c.cost * (1.0 + c.value / (10.0 * pub.min_cell))
    return pub.derived[key].cost


class _Links:
    """Which hidden cells constrain each other, for a given hidden / withheld state.

    Published cells are constants, so a reader's knowledge of a hidden cell depends only on
    the hidden cells linked to it through identities and published derived values. Checking
    a change means re-auditing only the primary cells of the linked group it touches, with a
    programme over that group alone: this keeps the search fast on documents with hundreds of
    cells in one connected part.
    """

    def __init__(self, pub: Publication) -> None:
        self.pub = pub
        self.idents: dict[str, list[list[str]]] = {k: [] for k in pub.cells}
        for ident in pub.identities:
            keys = list(ident.coefs)
            for k in keys:
                self.idents[k].append(keys)
        self.derived: dict[str, list[str]] = {k: [] for k in pub.cells}
        for key, d in pub.derived.items():
            for c in d.cells():
                self.derived[c].append(key)

    def group(
        self, start: Collection[str], hidden: Collection[str], withheld: Collection[str]
    ) -> set[str]:
        """The hidden cells linked to the cells ``start`` (``start`` included)."""
        pub = self.pub
        seen = set(start)
        queue = deque(sorted(seen))
        while queue:
            u = queue.popleft()
            nbs: list[str] = []
            for keys in self.idents[u]:
                nbs += keys
            for key in self.derived[u]:
                d = pub.derived[key]
                if key not in withheld and d.kind != "group":
                    nbs += [c for c in d.cells() if c not in d.group or d.kind == "reveals"]
            for v in nbs:
                if v not in seen and v in hidden:
                    seen.add(v)
                    queue.append(v)
        return seen


def _protect_part(
    sub: Publication,
    graph: Mapping[str, set[str]],
    part: list[str],
    hidden: Mapping[str, str],
    withheld: Collection[str],
    primary: list[str],
    prot: float,
    budget: list[int],
) -> tuple[set[str], set[str], dict[str, float]]:
    """Secondary suppression in one connected part: (cells hidden, values withheld, primary
    cells no hiding can fully protect → the best width they can keep)."""
    cands = [
        k
        for k in part
        if k not in hidden
        and k not in withheld
        and (
            (k in sub.cells and not _constant(sub, k))
            or (k in sub.derived and not sub.derived[k].fixed)
        )
    ]
    cand_cells = {k for k in cands if k in sub.cells}
    cand_vals = {k for k in cands if k not in sub.cells}
    links = _Links(sub)
    quick = _fit_from_published(sub, links, hidden, withheld, primary, prot, graph, cands)
    if quick is not None:
        return quick
    h_now, w_now = set(cand_cells), set(cand_vals)
    # the best each primary cell can get: its width with everything hidden. A cell that
    # cannot reach the protection level is kept at that best width (and reported)
    lost: dict[str, float] = {}
    trial0 = {**hidden, **{c: "secondary" for c in h_now}}
    for x, f in _audit_linked(sub, links, trial0, set(withheld) | w_now, primary).items():
        if f.width < prot - 1e-9:
            lost[x] = max(f.width, 0.0)
    target = {k: min(prot, lost.get(k, prot)) for k in primary}
    need = [k for k in primary if target[k] > 1e-9]
    if not need:
        return set(), set(), lost

    def safe(h: set[str], w: set[str], changed: Collection[str]) -> bool:
        trial = {**hidden, **{k: "secondary" for k in h}}
        bad = _first_exposed(
            sub, links, trial, set(withheld) | w, changed, need, target.__getitem__
        )
        if bad is not None:  # check the cell that failed first next time
            need.remove(bad)
            need.insert(0, bad)
        return bad is None

    # items far from every protectable primary cell: publish them together when safe
    dist = _distances(graph, need)
    for radius in _RADII:
        far = {k for k in cands if dist.get(k, radius + 1) > radius}
        if far and safe(h_now - far, w_now - far, far):
            h_now -= far
            w_now -= far
            break
    order = sorted(
        (k for k in cands if k in h_now or k in w_now), key=lambda k: (-_cost(sub, k), k)
    )

    def accept(keys: list[str]) -> bool:
        nonlocal h_now, w_now
        h_try, w_try = h_now - set(keys), w_now - set(keys)
        if not safe(h_try, w_try, keys):
            return False
        h_now, w_now = h_try, w_try
        return True

    _publish_runs(order, accept, budget)
    return h_now, w_now, lost


def _fit_from_published(
    sub: Publication,
    links: _Links,
    hidden: Mapping[str, str],
    withheld: Collection[str],
    primary: list[str],
    prot: float,
    graph: Mapping[str, set[str]],
    cands: list[str],
) -> tuple[set[str], set[str], dict[str, float]] | None:
    """The quick route of :func:`_protect_part`: everything published but the primary cells
    and the statistics of small groups; while a primary cell is narrower than the protection
    level, the values computed from it are withheld, then a cell of each identity that gives
    it back exactly, then the cheapest cell next to it (each hidden cell with the values that
    give it back, and its own identities closed). The audit then runs over the few hidden
    cells linked together, not over the whole part (a table of 1,700 municipalities is one
    part: starting from everything hidden, each step would be a programme over all of it).

    A primary cell is protected when its interval reaches the protection level, or the
    widest its own identities allow (:func:`limit`): a count of 9 made of two small counts is
    at least 2 whatever is hidden. That width is at least the best any suppression achieves,
    so a cell that reaches it has the best, and is reported as such (the third value returned:
    cells below the protection level → their width, as the full search reports them).
    Returns None after :data:`_QUICK_ROUNDS` rounds: the full search decides then."""
    allowed = set(cands)
    h: set[str] = set()
    w: set[str] = set()
    limits: dict[str, float] = {}

    def limit(key: str) -> float:
        """The width of ``key`` with every other cell of its identities hidden and every
        value that may be withheld withheld: no suppression does better."""
        if key not in limits:
            loc = sub.subset([key])
            trial = {
                k: hidden.get(k, "secondary") for k in loc.cells if k in hidden or k in allowed
            }
            wall = {k for k, d in loc.derived.items() if not d.fixed}
            limits[key] = audit(loc, trial, withheld=wall, keys=[key])[key].width
        return limits[key]

    def close(cell: str, depth: int) -> bool:
        """In each identity where ``cell`` is the only hidden cell (the identity gives it
        back), hide the cheapest other cell; whether any was hidden."""
        grew = False
        for keys in links.idents.get(cell, ()):
            others = [k for k in keys if k != cell]
            if any(k in hidden or k in h for k in others):
                continue
            free = [k for k in others if k in allowed and k in sub.cells]
            if free:
                hide(min(free, key=lambda k: (_cost(sub, k), k)), depth - 1)
                grew = True
        return grew

    def hide(cell: str, depth: int) -> None:
        """Hide a cell with every value that gives it back, and close its identities."""
        h.add(cell)
        w.update(k for k in _adjacent(graph, cell) if k in allowed and k not in sub.cells)
        if depth > 0:
            close(cell, depth)

    def accept(items: list[str]) -> bool:
        """Publish ``items`` again when no primary cell falls below its target."""
        trial = {**hidden, **{k: "secondary" for k in h - set(items)}}
        wall = set(withheld) | (w - set(items))
        target = lambda k: min(prot, limit(k))  # noqa: E731  (one expression, used once)
        if _first_exposed(sub, links, trial, wall, items, primary, target) is not None:
            return False
        h.difference_update(items)
        w.difference_update(items)
        return True

    check = list(primary)
    for _ in range(_QUICK_ROUNDS):
        trial = {**hidden, **{k: "secondary" for k in h}}
        found = _audit_linked(sub, links, trial, set(withheld) | w, check)
        # the limit is worked out only for a cell below the protection level
        bad = [
            k for k in check if found[k].width < prot - 1e-9 and found[k].width < limit(k) - 1e-9
        ]
        if not bad:
            if len(h) + len(w) <= _PRUNE_MAX:
                # publish again, most costly first, what the rounds hid but no cell needs
                # (the rounds choose one item at a time and may over-reach)
                _publish_runs(sorted(h | w, key=lambda k: (-_cost(sub, k), k)), accept)
            return h, w, {k: v for k, v in limits.items() if v < prot - 1e-9}
        # hiding more never narrows a cell: only the cells still exposed are checked again
        check = bad
        grown = False
        # one addition often protects every exposed cell of the same identity (a total's
        # slack serves all its parts): a cell whose identity this round already widened waits
        # for the next round's audit instead of taking a secondary cell of its own
        widened: set[str] = set()
        for key in bad:
            if key in widened:
                continue
            before = set(h)
            near = [k for k in _adjacent(graph, key) if k in allowed and k not in h and k not in w]
            values = [k for k in near if k not in sub.cells]
            if values:  # first the values computed from the cell (a rate, its limits)
                w.update(values)
                grown = True
            elif close(key, _CLOSE_DEPTH):  # then an identity that gives it back exactly
                grown = True
            elif near:  # then the cheapest cell beside it, with every value that gives it back
                hide(min(near, key=lambda k: (_cost(sub, k), k)), _CLOSE_DEPTH)
                grown = True
            for cell in h - before:
                for keys in links.idents.get(cell, ()):
                    widened.update(keys)
        if not grown:
            return None
    return None


#: Hidden items up to which the quick route publishes back what no cell needs (beyond it, each
#: check is a programme over hundreds of hidden cells: the rounds' choice is kept).
_PRUNE_MAX = 150
#: Rounds of the quick route (each hides at most one more item per exposed primary cell).
_QUICK_ROUNDS = 16
#: How far the quick route follows identities when a hidden cell is their only hidden cell.
_CLOSE_DEPTH = 3

#: Items tried together when publishing back (halved when they cannot all be published).
_RUN = 16
_RADII: tuple[int, ...] = (2,)
