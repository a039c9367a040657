"""Disclosure control for published tables (BRIEF §6).

Rules applied to every count a published table shows:

1. **Primary suppression** — a count ``c`` with ``0 < c < min_cell`` is shown as ``<min_cell``
   (zero is shown).
2. **Complementary suppression** — counts are linked by additive relations (a total equals the
   sum of its parts; in a sample flow, the count before a step equals the count excluded plus
   the count remaining). While any relation has exactly one suppressed cell, or any suppressed
   cell can be pinned down from the published cells — exactly (linear algebra over all
   relations together) or through what a reader knows of the hidden cells (``<10`` is 1–9,
   ``*`` is at least 10; interval propagation) — one more cell is suppressed: the smallest
   non-zero published cell of a relation involving it, shown as ``*``.
3. Percentages whose numerator or denominator is suppressed are suppressed as well.

Only counts are handled here; tables of individual values must never reach a report.

These per-relation rules are the stand-alone tool (:func:`flow_table`, a lone
:class:`CountLedger`). The appendix does not use them to decide: it registers every number it
shows in a :class:`pfseval.report.publication.DocumentPublication`, a ledger whose decision
comes from :func:`pfseval.sdc.protect` over the whole document (docs/appendix.md).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd
from numpy.typing import NDArray

__all__ = [
    "SECONDARY",
    "CountLedger",
    "flow_table",
    "format_count",
    "is_small",
    "register_flow",
    "render_flow",
    "suppress_linked",
]

Relation = tuple[int, Sequence[int]]

#: How a count hidden by complementary suppression is shown.
SECONDARY = "*"


def is_small(count: float | None, *, min_cell: int = 10) -> bool:
    """``True`` when a count must be suppressed on its own (``0 < count < min_cell``).

    Examples
    --------
    >>> [is_small(c) for c in (0, 1, 9, 10)]
    [False, True, True, False]
    """
    return count is not None and 0 < count < min_cell


def format_count(count: float | None, *, suppressed: bool = False, min_cell: int = 10) -> str:
    """A count as published.

    ``<10`` (the configured size) for a small count, :data:`SECONDARY` (``*``) for a count
    hidden by complementary suppression, ``–`` when missing.

    Examples
    --------
    >>> format_count(1234), format_count(3), format_count(50, suppressed=True), format_count(0)
    ('1,234', '<10', '*', '0')
    """
    if count is None or (isinstance(count, float) and not np.isfinite(count)):
        return "–"
    if is_small(count, min_cell=min_cell):
        return f"<{min_cell}"
    if suppressed:
        return SECONDARY
    return f"{round(float(count)):,}"


def _small(v: NDArray[np.float64], min_cell: int) -> NDArray[np.bool_]:
    """:func:`is_small` of every cell at once."""
    return (v > 0) & (v < min_cell)


def _relation_matrix(relations: Sequence[Relation], n: int) -> NDArray[np.float64]:
    """One row per relation: ``+1`` at the total, ``-1`` at each part (``A @ v == 0``)."""
    A = np.zeros((len(relations), n))
    for r, (tot, parts) in enumerate(relations):
        A[r, tot] += 1.0
        for p in parts:
            A[r, p] -= 1.0
    return A


def _bounds(v: NDArray[np.float64], hidden: NDArray[np.bool_], m: int) -> list[tuple[float, Any]]:
    """What a reader knows about each cell: its value, ``[1, m-1]`` for ``<m``, and for a
    ``*`` cell at least ``m`` (at least 0 when it is a hidden zero)."""
    out: list[tuple[float, Any]] = []
    for x, h in zip(v, hidden, strict=True):
        if not h:
            out.append((float(x), float(x)))
        elif 0 < x < m:
            out.append((1.0, float(m - 1)))
        else:
            out.append((float(m) if x >= m else 0.0, None))
    return out


def _pinned(
    v: NDArray[np.float64],
    relations: Sequence[Relation],
    A: NDArray[np.float64],
    hidden: NDArray[np.bool_],
    m: int,
) -> NDArray[np.bool_]:
    """Hidden cells whose value the published cells and the relations pin down.

    Exact determination is found by linear algebra (``e_i`` in the row space of the hidden
    columns); determination through the bounds a reader knows (``<m`` is 1..m-1, ``*`` is at
    least ``m``) by interval propagation over the relations until nothing changes.
    """
    out = np.zeros(hidden.size, dtype=bool)
    cols = np.flatnonzero(hidden)
    if cols.size == 0 or A.shape[0] == 0:
        return out
    Au = A[:, cols]
    r = np.linalg.matrix_rank(Au)
    for j, c in enumerate(cols):
        e = np.zeros((1, cols.size))
        e[0, j] = 1.0
        if A[:, c].any() and np.linalg.matrix_rank(np.vstack([Au, e])) == r:
            out[c] = True
    b = _bounds(v, hidden, m)
    lo = np.array([x[0] for x in b], dtype=float)
    hi = np.array([np.inf if x[1] is None else x[1] for x in b], dtype=float)
    for _ in range(4 * len(relations) + 4):
        changed = False
        for tot, parts in relations:
            ps = list(parts)
            # total within [sum lo, sum hi] of the parts
            new_lo, new_hi = max(lo[tot], lo[ps].sum()), min(hi[tot], hi[ps].sum())
            if new_lo > lo[tot] + 1e-9 or new_hi < hi[tot] - 1e-9:
                lo[tot], hi[tot], changed = new_lo, new_hi, True
            for p in ps:
                others = [q for q in ps if q != p]
                p_lo = max(lo[p], lo[tot] - hi[others].sum())
                p_hi = min(hi[p], hi[tot] - lo[others].sum())
                if p_lo > lo[p] + 1e-9 or p_hi < hi[p] - 1e-9:
                    lo[p], hi[p], changed = p_lo, p_hi, True
        if not changed:
            break
    out |= hidden & (hi - lo < 0.5)
    return out


def suppress_linked(
    values: Sequence[float],
    relations: Sequence[Relation],
    *,
    min_cell: int = 10,
    force: Sequence[bool] | NDArray[np.bool_] | None = None,
    exempt: Sequence[bool] | NDArray[np.bool_] | None = None,
) -> NDArray[np.bool_]:
    """Suppression mask for counts linked by additive relations.

    Parameters
    ----------
    values
        The counts (cells).
    relations
        ``(total_index, [part_indices])`` meaning ``values[total] == sum(values[parts])``.
    min_cell
        Minimum publishable count (zero is always publishable).
    force
        Cells to hide whatever their value (e.g. required by another rule).
    exempt
        Cells that are not counts of people (years, rows of an aggregated series): never
        hidden, never chosen as a complement.

    Returns
    -------
    numpy.ndarray of bool
        ``True`` for cells to show as ``<min_cell``. No suppressed cell can be recomputed
        from the published cells through the relations.

    Examples
    --------
    A total of 120 split 113 / 7: the 7 is suppressed and so is its complement 113.

    >>> suppress_linked([120, 113, 7], [(0, [1, 2])]).tolist()
    [False, True, True]

    Counts of years are not counts of people: 8 years are shown.

    >>> suppress_linked([8, 0, 8], [(0, [1, 2])], exempt=[True, True, True]).tolist()
    [False, False, False]
    """
    v = np.asarray(values, dtype=float)
    n = v.size
    free = np.zeros(n, dtype=bool) if exempt is None else np.asarray(exempt, dtype=bool)
    hidden = _small(v, min_cell) & ~free
    if force is not None:
        hidden |= np.asarray(force, dtype=bool) & ~free
    A = _relation_matrix(relations, n)
    members = [[tot, *parts] for tot, parts in relations]

    def cost(c: int) -> tuple[bool, bool, float, int]:
        # cheapest complement: a number already hidden elsewhere (hiding it again shows
        # nothing new), then a non-zero count, then the smallest
        return (not bool((hidden & (v == v[c])).any()), bool(v[c] == 0), float(v[c]), c)

    def partner(cells: Sequence[int]) -> int | None:
        cand = [c for c in cells if not hidden[c] and not free[c]]
        return min(cand, key=cost) if cand else None

    for _ in range(n + 1):
        changed = False
        # a relation with one hidden cell: hide a second one, until no relation has one
        for _ in range(n + 1):
            one = False
            for cells in members:
                if sum(hidden[c] for c in cells) == 1:
                    first = partner(cells)
                    if first is not None:
                        hidden[first] = True
                        one = changed = True
            if not one:
                break
        det = _pinned(v, relations, A, hidden, min_cell)
        for c in np.flatnonzero(det):
            found = (partner(cells) for cells in members if c in cells)
            cand = [q for q in found if q is not None]
            if cand:
                hidden[min(cand, key=cost)] = True
                changed = True
                break
        if not changed:
            break
    return hidden


class CountLedger:
    """Every count a document publishes, with the relations between them.

    Counts are registered under keys (the same quantity shown in several tables is one key,
    or an alias of it), relations say which counts add up, and :meth:`solve` applies
    primary and complementary suppression to all of them at once, so that no table, and no
    combination of tables, lets a small count be recomputed.

    Examples
    --------
    >>> led = CountLedger(min_cell=10)
    >>> for k, v in [("pool", 323), ("excluded", 245), ("participants", 78),
    ...              ("non_completers", 3), ("completers", 75)]:
    ...     _ = led.add(k, v)
    >>> led.relate("pool", ["excluded", "participants"])
    >>> led.relate("participants", ["non_completers", "completers"])
    >>> led.solve()
    >>> [led.show(k) for k in ("pool", "excluded", "participants", "completers")]
    ['323', '245', '78', '*']
    """

    def __init__(self, *, min_cell: int = 10) -> None:
        self.min_cell = min_cell
        self._keys: dict[str, int] = {}
        self._values: list[float] = []
        self._exempt: list[bool] = []
        self._relations: list[Relation] = []
        self._implications: list[tuple[list[str], str]] = []
        self._hidden: NDArray[np.bool_] | None = None

    def add(self, key: str, value: float, *, people: bool = True) -> str:
        """Register a count (also counts never shown but implied by others); return the key.

        ``people=False`` for a count of something else (years, rows of an aggregated
        series, municipality-years): it is shown as it is, whatever its size.
        """
        if key in self._keys:
            return key
        self._keys[key] = len(self._values)
        self._values.append(float(value))
        self._exempt.append(not people)
        self._hidden = None
        return key

    def counts_people(self, key: str) -> bool:
        """Whether the count ``key`` is a count of people (subject to the minimum cell)."""
        return not self._exempt[self._keys[key]]

    def alias(self, key: str, existing: str) -> str:
        """Make ``key`` another name of the registered count ``existing``."""
        self._keys[key] = self._keys[existing]
        return key

    def has(self, key: str) -> bool:
        return key in self._keys

    def value(self, key: str) -> float:
        return self._values[self._keys[key]]

    def relate(self, total: str, parts: Sequence[str]) -> None:
        """Declare ``total == sum(parts)``."""
        self._relations.append((self._keys[total], [self._keys[p] for p in parts]))
        self._hidden = None

    def hide_if(self, any_of: Sequence[str], then: str) -> None:
        """When any count of ``any_of`` is hidden, hide ``then`` too (e.g. a rate's
        denominator, since the published rate times it gives the numerator)."""
        self._implications.append((list(any_of), then))
        self._hidden = None

    def solve(self) -> None:
        """Compute which counts are hidden (call after every count is registered)."""
        exempt = np.asarray(self._exempt, dtype=bool)
        # first what the small counts force whatever the complements chosen (a rate's other
        # counts, the same count shown elsewhere), so complements are chosen knowing it
        small = _small(np.asarray(self._values, dtype=float), self.min_cell) & ~exempt
        force = self._closure(small, exempt)
        for _ in range(len(self._values) + 1):
            hidden = suppress_linked(
                self._values, self._relations, min_cell=self.min_cell, force=force, exempt=exempt
            )
            more = self._unmet(hidden, exempt)
            if not more.any():
                break
            force |= more
        self._hidden = self._prune(hidden, exempt)

    def _unmet(self, hidden: NDArray[np.bool_], exempt: NDArray[np.bool_]) -> NDArray[np.bool_]:
        """Published counts of people that the rules say must be hidden as well, given
        ``hidden``: a count equal to a hidden one (the same number shown elsewhere, e.g. a
        domain denominator equal to the indicator's n, would reveal it) and the ``then`` of
        every implication (:meth:`hide_if`) with a hidden ``any_of``."""
        v = np.asarray(self._values, dtype=float)
        out = np.isin(v, v[hidden & (v > 0)]) & (v > 0)
        for any_of, then in self._implications:
            if any(hidden[self._keys[k]] for k in any_of):
                out[self._keys[then]] = True
        return out & ~hidden & ~exempt

    def _closure(self, hidden: NDArray[np.bool_], exempt: NDArray[np.bool_]) -> NDArray[np.bool_]:
        """``hidden`` with every count the same-value and rate rules then hide."""
        out = hidden.copy()
        for _ in range(len(self._values) + 1):
            more = self._unmet(out, exempt)
            if not more.any():
                break
            out |= more
        return out

    def _matrix(self) -> NDArray[np.float64]:
        return _relation_matrix(self._relations, len(self._values))

    def _safe(
        self,
        hidden: NDArray[np.bool_],
        exempt: NDArray[np.bool_],
        A: NDArray[np.float64] | None = None,
    ) -> bool:
        """Whether a suppression pattern meets every rule: no hidden cell pinned down by the
        relations (matrix ``A``, :meth:`_matrix` when not given), no published count of
        people equal to a hidden one, every implication."""
        v = np.asarray(self._values, dtype=float)
        A = self._matrix() if A is None else A
        if _pinned(v, self._relations, A, hidden, self.min_cell).any():
            return False
        return not self._unmet(hidden, exempt).any()

    def _prune(self, hidden: NDArray[np.bool_], exempt: NDArray[np.bool_]) -> NDArray[np.bool_]:
        """Publish again the complementary cells that turned out not to be needed.

        Complementary cells are chosen one relation at a time, and a cell hidden later for
        another reason (a rate's denominator, the same count shown elsewhere) can make an
        earlier choice unnecessary. Each value hidden as a complement (all its cells at
        once, largest first) is shown again when the whole pattern stays safe.
        """
        v = np.asarray(self._values, dtype=float)
        A = self._matrix()
        primary = _small(v, self.min_cell)
        if not self._safe(hidden, exempt, A):  # keep the pattern found if it cannot be checked
            return hidden
        out = hidden.copy()
        for value in sorted(set(v[out & ~primary & ~exempt].tolist()), reverse=True):
            trial = out & ~((v == value) & ~primary)
            if self._safe(trial, exempt, A):
                out = trial
        return out

    def hidden(self, key: str) -> bool:
        if self._hidden is None:
            self.solve()
        assert self._hidden is not None
        return bool(self._hidden[self._keys[key]])

    def hidden_values(self) -> set[int]:
        """Values of the counts hidden by complementary suppression (to redact free text)."""
        if self._hidden is None:
            self.solve()
        assert self._hidden is not None
        return {
            round(v)
            for v, h in zip(self._values, self._hidden, strict=True)
            if h and v >= self.min_cell
        }

    def show(self, key: str) -> str:
        """The count as published (``<10``, ``*`` or the number; a count of something
        other than people always as the number)."""
        if not self.counts_people(key):
            return format_count(self.value(key), min_cell=0)
        return format_count(self.value(key), suppressed=self.hidden(key), min_cell=self.min_cell)


def register_flow(
    ledger: CountLedger,
    flow: Mapping[str, Any],
    prefix: str,
    *,
    input_keys: Mapping[str, str] | None = None,
    people: bool | Mapping[str, bool] = True,
) -> dict[str, list[tuple[str, str]]]:
    """Register a sample flow's counts; return, per group, ``(excluded_key, remaining_key)``
    per step, with the input as the first pair (``excluded_key`` empty).

    ``input_keys`` maps a group to an already-registered count its input equals (e.g. the
    cohort the design ran on), so both tables share one cell. ``people`` says whether the
    flow (or, as a mapping, each group) counts people; other counts (years, rows of an
    aggregated series) are registered as shown as they are.
    """
    out: dict[str, list[tuple[str, str]]] = {}
    for g, n0 in dict(flow["n_input"]).items():
        pp = people if isinstance(people, bool) else bool(people.get(g, True))
        in_key = (input_keys or {}).get(g)
        if in_key is None or ledger.value(in_key) != n0 or ledger.counts_people(in_key) != pp:
            in_key = ledger.add(f"{prefix}:{g}:input", n0, people=pp)
        pairs = [("", in_key)]
        prev = in_key
        remaining = float(n0)
        k = 0
        for s in flow.get("steps", []):
            if s["group"] != g:
                continue
            k += 1
            remaining -= s["n_excluded"]
            ex = ledger.add(f"{prefix}:{g}:ex{k}", s["n_excluded"], people=pp)
            rem = ledger.add(f"{prefix}:{g}:rem{k}", remaining, people=pp)
            ledger.relate(prev, [ex, rem])
            pairs.append((ex, rem))
            prev = rem
        out[g] = pairs
    return out


def render_flow(
    ledger: CountLedger,
    flow: Mapping[str, Any],
    keys: Mapping[str, list[tuple[str, str]]],
    *,
    labels: Mapping[str, str] | None = None,
    text: Callable[[str], str] | None = None,
    reason: Callable[[Any], str] | None = None,
) -> pd.DataFrame:
    """The published flow table (columns ``group, step, excluded, remaining``).

    ``labels`` replaces the fixed words (``input``, ``excluded``, ``analysed``); ``text``,
    when given, is applied to the group labels (translation); ``reason`` renders a step's
    reason record (a message record of ``SampleFlow.to_dict()``; by default its English
    text).
    """
    words = {"input": "input records", "excluded": "excluded", "analysed": "analysed"}
    words.update(labels or {})
    tr = text if text is not None else str
    why = reason if reason is not None else _reason_en
    group_labels = dict(flow.get("labels") or {})
    rows: list[dict[str, str]] = []
    for g in dict(flow["n_input"]):
        glabel = tr(str(group_labels.get(g, g)))
        pairs = keys[g]
        steps = [s for s in flow.get("steps", []) if s["group"] == g]
        rows.append(
            {
                "group": glabel,
                "step": words["input"],
                "excluded": "",
                "remaining": ledger.show(pairs[0][1]),
            }
        )
        for s, (ex, rem) in zip(steps, pairs[1:], strict=True):
            rows.append(
                {
                    "group": glabel,
                    "step": f"{words['excluded']}: {why(s['reason'])}",
                    "excluded": ledger.show(ex),
                    "remaining": ledger.show(rem),
                }
            )
        rows.append(
            {
                "group": glabel,
                "step": words["analysed"],
                "excluded": "",
                "remaining": ledger.show(pairs[-1][1]),
            }
        )
    return pd.DataFrame(rows, columns=["group", "step", "excluded", "remaining"])


def _reason_en(record: Any) -> str:
    if isinstance(record, Mapping):
        return str((record.get("text") or {}).get("en", record.get("code", "")))
    return str(record)


def flow_table(
    flow: Mapping[str, Any], *, min_cell: int = 10, labels: Mapping[str, str] | None = None
) -> pd.DataFrame:
    """A published sample-flow table (from ``SampleFlow.to_dict()``) with counts suppressed.

    One row per step per group: the input count, each exclusion with its reason, and the
    analysed count. The relations ``before = excluded + remaining`` link the cells, so a
    small exclusion also hides a remaining count (complementary suppression). For several
    tables that share counts, use a :class:`CountLedger`.

    Examples
    --------
    >>> from pfseval.messages import Message
    >>> from pfseval.result import SampleFlow
    >>> f = SampleFlow.start(105).exclude(Message.plain(ja="追跡なし", en="no follow-up"), 4)
    >>> t = flow_table(f.to_dict())
    >>> t["excluded"].tolist(), t["remaining"].tolist()
    (['', '<10', ''], ['105', '*', '*'])
    """
    led = CountLedger(min_cell=min_cell)
    keys = register_flow(led, flow, "flow")
    led.solve()
    return render_flow(led, flow, keys, labels=labels)
