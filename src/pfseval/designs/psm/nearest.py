"""Greedy nearest-neighbour matching on a score with MatchIt 4.7.2's search and tie rule.

MatchIt 4.7.2 (``method = "nearest"``) sorts *all* units by the distance once (``order()``,
ties in data order). For a focal (treated) unit it walks outward from the unit's own position
in that order, one step to the left, then one to the right, alternating; units that cannot be
used (the focal group, units already used up, another exact stratum, anti-exact or
covariate-caliper failures) still cost a step. A side stops at its first usable control, at a
control beyond the caliper, or at a control farther than the ones already found. The nearest
candidate wins; **a tie goes to the candidate found first in the walk**, i.e. the one fewer
positions away from the focal unit (the left one when equally far). MatchIt 4.5.1 instead sent
every tie to the left (lower score, earlier in the data at equal score): with tied scores (all
covariates categorical) the two rules give different matched sets; :func:`greedy_match`
keeps the 4.5.1 rule for reproducing old analyses.

This module is written from a reading of the published algorithm; it shares no code with
MatchIt. The walk skips used-up controls with a "next available" structure per exact
stratum, so a search costs O(log n) amortised plus the controls it must inspect (anti-exact
and covariate calipers are checked one control at a time, as MatchIt does).

With ``reuse_max`` below the number of focal units (matching without replacement is
``reuse_max=1``), focal units are visited in the given order, round by round (round ``r``
gives the ``r``-th control), and a control is used up after ``reuse_max`` matches. With
``unit_id``, a match uses up one match of *every* row of the same unit (a person seen in
several fiscal years), on both sides. With ``reuse_max`` at least the number of focal units
(matching with replacement), each focal unit takes its ``ratio`` nearest controls in one walk;
when more than ``ratio`` candidates are found, the choice among tied ones follows the C++
standard library's ``partial_sort`` (a heap selection), reproduced here step by step.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd
from numpy.typing import ArrayLike, NDArray

from pfseval.errors import MatchingError

__all__ = ["nearest_match", "variable_ratios"]


@dataclass(frozen=True)
class _Walk:
    """Arrays shared by every search (built once, O(n log n))."""

    d: NDArray[np.float64]
    pos: NDArray[np.intp]  # position of each unit in the stable sort of d
    slot_pos: NDArray[np.intp]  # controls, grouped by stratum, by position: their positions
    slot_unit: NDArray[np.intp]  # ... and their row numbers
    lo: NDArray[np.intp]  # first slot of each stratum
    hi: NDArray[np.intp]  # one past the last slot of each stratum
    key: NDArray[np.int64]  # stratum * n + position per slot (sorted), for binary search
    stratum: NDArray[np.intp] | None  # per unit (None: one stratum)

    def slot(self, u: int) -> int:
        """The slot of control ``u`` (-1 if it is not a usable control)."""
        s = 0 if self.stratum is None else int(self.stratum[u])
        j = int(self.key.searchsorted(s * len(self.d) + int(self.pos[u])))
        return j if j < len(self.slot_unit) and int(self.slot_unit[j]) == u else -1


class _Available:
    """Nearest available slot to the left (``<= j``) and right (``>= j``), with removals.

    Two sparse union–find forests with path compression: only removed slots have a parent.
    """

    def __init__(self, m: int) -> None:
        self.left: dict[int, int] = {}
        self.right: dict[int, int] = {}
        self.m = m

    @staticmethod
    def _find(par: dict[int, int], j: int) -> int:
        if j not in par:  # an available slot (the usual case): no path to compress
            return j
        path = []
        while j in par:
            path.append(j)
            j = par[j]
        for p in path:
            par[p] = j
        return j

    def find_left(self, j: int) -> int:
        return self._find(self.left, j)

    def find_right(self, j: int) -> int:
        return self._find(self.right, j)

    def remove(self, j: int) -> None:
        self.left[j] = j - 1
        self.right[j] = j + 1


def _heap_partial_sort(idx: list[int], dist: list[float], k: int) -> list[int]:
    """The first ``k`` of ``idx`` after libstdc++'s ``std::partial_sort`` by ``dist``.

    ``partial_sort`` is a heap selection followed by a heap sort; it is not stable, so which
    of several equally distant candidates survive depends on these exact steps.
    """
    a = list(idx)

    def less(x: int, y: int) -> bool:
        return dist[x] < dist[y]

    def push_heap(hole: int, top: int, value: int) -> None:
        parent = (hole - 1) // 2
        while hole > top and less(a[parent], value):
            a[hole] = a[parent]
            hole = parent
            parent = (hole - 1) // 2
        a[hole] = value

    def adjust_heap(hole: int, length: int, value: int) -> None:
        top = hole
        child = hole
        while child < (length - 1) // 2:
            child = 2 * (child + 1)
            if less(a[child], a[child - 1]):
                child -= 1
            a[hole] = a[child]
            hole = child
        if length % 2 == 0 and child == (length - 2) // 2:
            child = 2 * (child + 1)
            a[hole] = a[child - 1]
            hole = child - 1
        push_heap(hole, top, value)

    if k > 1:  # make_heap on a[:k]
        parent = (k - 2) // 2
        while True:
            adjust_heap(parent, k, a[parent])
            if parent == 0:
                break
            parent -= 1
    for i in range(k, len(a)):  # heap select
        if less(a[i], a[0]):
            value = a[i]
            a[i] = a[0]
            adjust_heap(0, k, value)
    last = k
    while last > 1:  # sort_heap
        last -= 1
        value = a[last]
        a[last] = a[0]
        adjust_heap(0, last, value)
    return a[:k]


def _order_found(found: list[int], dist: list[float], ratio: int) -> list[int]:
    """Candidates in the order MatchIt returns them (nearest first)."""
    n = len(found)
    if n <= 1:
        return found
    if ratio == 1:  # partial_sort with one slot keeps the first of the nearest
        return [found[dist.index(min(dist))]]
    if n <= ratio and all(dist[i] <= dist[i + 1] for i in range(n - 1)):
        return found
    if n > ratio:
        keep = _heap_partial_sort(list(range(n)), dist, ratio)
    else:  # insertion sort for the few candidates found: stable
        keep = sorted(range(n), key=lambda i: dist[i])
    return [found[i] for i in keep]


def variable_ratios(
    distance: ArrayLike, treat: ArrayLike, *, ratio: float, min_controls: int, max_controls: int
) -> NDArray[np.intp]:
    """Controls per focal unit for variable-ratio matching (Ming & Rosenbaum 2000).

    As MatchIt: ``round(ratio × n1)`` controls in all (R rounds half to even); the focal
    units farthest from the controls' scores get ``min_controls``, those nearest get
    ``max_controls``, one unit in between takes the remainder (at least one control each).

    Examples
    --------
    >>> variable_ratios([0.9, 0.8, 0.7, 0.2, 0.1, 0.3, 0.25], [1, 1, 1, 0, 0, 0, 0],
    ...                 ratio=1.5, min_controls=1, max_controls=2).tolist()
    [1, 1, 2]
    """
    d = np.asarray(distance, dtype=float)
    t = np.asarray(treat).astype(bool)
    n1 = int(t.sum())
    m = int(np.round(ratio * n1))
    kmax = (m - min_controls * (n1 - 1)) // (max_controls - min_controls)
    kmin = n1 - kmax - 1
    kmed = m - (min_controls * kmin + max_controls * kmax)
    r0 = [min_controls] * kmin + [kmed] + [max_controls] * kmax
    while 0 in r0:  # no focal unit may get no control
        i = r0.index(0)
        r0[i] = 1
        if i == len(r0) - 1:
            break
        r0[i + 1] -= 1
    d1 = d[t]
    decreasing = float(np.mean(d1)) > float(np.mean(d[~t]))
    order = np.argsort(-d1 if decreasing else d1, kind="stable")
    out = np.empty(n1, dtype=np.intp)
    out[order] = np.asarray(r0, dtype=np.intp)
    return out


def stable_argsort(d: NDArray[np.float64]) -> NDArray[np.intp]:
    """``np.argsort(d, kind="stable")`` for finite floats, several times faster on large arrays.

    NumPy sorts 64-bit integers with vectorised (SIMD) code but arg-sorts with a merge sort.
    Each value is mapped to an order-preserving 64-bit key; its high bits and the row number
    (the low bits) are packed into one integer, and a plain sort of those integers orders the
    rows by value, ties in data order — except rows whose keys share the high bits, which are
    adjacent after the sort and are put in exact (value, row) order afterwards.

    Examples
    --------
    >>> stable_argsort(np.array([0.3, 0.1, 0.3, 0.1, 0.2])).tolist()
    [1, 3, 4, 0, 2]
    """
    n = d.size
    if n < 2:
        return np.argsort(d, kind="stable")
    bits = max(1, int(n - 1).bit_length())  # row numbers fit in the low `bits` bits
    if bits > 40:  # pragma: no cover - beyond 10^12 rows
        return np.argsort(d, kind="stable")
    key = _ordered_key(d)
    low = np.uint64((1 << bits) - 1)
    packed = key >> np.uint64(bits)
    packed <<= np.uint64(bits)
    packed |= np.arange(n, dtype=np.uint64)
    packed.sort()
    srt = (packed & low).astype(np.intp)
    packed >>= np.uint64(bits)  # the high bits, in sorted order
    same = packed[1:] == packed[:-1]
    if np.count_nonzero(same) > n // 2:  # mostly ties (categorical covariates): the merge
        return np.argsort(d, kind="stable")  # sort is fast on long runs
    if same.any():
        # runs of rows sharing the high bits: in row order, which is right when their keys
        # are equal (ties) and must be redone by (key, row) when they differ
        tied = np.flatnonzero(np.r_[False, same] | np.r_[same, False])
        run = np.cumsum(~np.r_[False, same][tied])
        rows = srt[tied]
        k = key[rows]
        mixed = np.unique(run[1:][(k[1:] != k[:-1]) & (run[1:] == run[:-1])])
        if mixed.size:
            fix = np.isin(run, mixed)
            rows, k, r = rows[fix], k[fix], run[fix]
            srt[tied[fix]] = rows[np.lexsort((rows, k, r))]
    return srt


def _ordered_key(d: NDArray[np.float64]) -> NDArray[np.uint64]:
    """Unsigned 64-bit keys ordered as the floats (−0.0 and 0.0 equal, as NumPy compares)."""
    i = (np.asarray(d, dtype=np.float64) + 0.0).view(np.int64)  # -0.0 + 0.0 is 0.0
    key = i.view(np.uint64).copy()
    neg = i < 0
    np.invert(key, out=key, where=neg)  # negative floats: reversed order below the positives
    key[~neg] |= np.uint64(1 << 63)
    return key


def _build(
    d: NDArray[np.float64],
    t: NDArray[np.bool_],
    usable: NDArray[np.bool_],
    strata: NDArray[np.intp] | None,
) -> _Walk:
    n = len(d)
    srt = stable_argsort(d)
    pos = np.empty(n, dtype=np.intp)
    pos[srt] = np.arange(n)
    c = srt[(~t & usable)[srt]]  # usable controls in sorted order
    if strata is None:
        one = np.array([0, len(c)], dtype=np.intp)
        return _Walk(d, pos, pos[c], c, one[:1], one[1:], pos[c].astype(np.int64), None)
    st = np.asarray(strata, dtype=np.intp)
    c = c[np.argsort(st[c], kind="stable")]  # grouped by stratum, sorted order kept within
    counts = np.bincount(st[c], minlength=int(st.max()) + 1 if n else 1)
    hi = np.cumsum(counts)
    lo = hi - counts
    key = st[c].astype(np.int64) * n + pos[c]
    return _Walk(d, pos, pos[c], c, lo, hi, key, st)


def nearest_match(
    distance: ArrayLike,
    treat: ArrayLike,
    *,
    ratio: int | ArrayLike = 1,
    caliper_width: float | None = None,
    reuse_max: int = 1,
    order: ArrayLike | str | None = None,
    strata: ArrayLike | None = None,
    antiexact: ArrayLike | None = None,
    caliper_covs: ArrayLike | None = None,
    caliper_cov_widths: Sequence[float] | None = None,
    unit_id: ArrayLike | None = None,
    discarded: ArrayLike | None = None,
) -> NDArray[np.intp]:
    """Greedy nearest-neighbour matching on a score as MatchIt 4.7.2 (``method="nearest"``).

    Parameters
    ----------
    distance
        Score per unit (n); matching minimises ``|distance_t - distance_c|``.
    treat
        Focal group indicator (n): 1 for the units that receive matches (the treated for the
        ATT, the controls for the ATC).
    ratio
        Controls per focal unit: one integer, or one per focal unit in data order (variable
        ratio, see :func:`variable_ratios`).
    caliper_width
        Largest allowed ``|distance_t - distance_c|`` (inclusive), on the distance scale.
    reuse_max
        Times a control may be used; ``1`` = without replacement; at least the number of
        focal units = with replacement.
    order
        Focal units (indices among the focal units, 0-based) in visiting order; default data
        order. ``"closest"`` / ``"farthest"``: pairs are formed in order of the distance
        between each focal unit and its nearest control, smallest / largest first (MatchIt
        4.7.2's ``m.order``). Ignored with replacement, as in MatchIt.
    strata
        Exact-matching stratum codes (n).
    antiexact
        Codes (n × q): a control must differ from the focal unit on every column.
    caliper_covs, caliper_cov_widths
        Covariate values (n × p) and the largest allowed absolute difference for each.
    unit_id
        Unit codes (n), e.g. a person seen in several years: a match uses one match of every
        row of the same unit, focal or not. Ignored when every unit has one row per group,
        and with replacement (as MatchIt).
    discarded
        Units excluded from matching (n, boolean).

    Returns
    -------
    numpy.ndarray
        ``(n_focal, max ratio)`` row numbers of the matched controls (``-1`` = none), row ``i``
        for the ``i``-th focal unit in data order, columns in MatchIt's order.

    Examples
    --------
    Three controls share the treated units' score; MatchIt 4.7.2 gives each treated unit the
    tied control fewest positions away in the sorted order (ties to the left when equal):

    >>> nearest_match([0.5, 0.5, 0.5, 0.5, 0.5], [0, 1, 0, 1, 0]).tolist()
    [[0], [2]]
    >>> nearest_match([0.5, 0.5, 0.5, 0.5, 0.5], [1, 0, 0, 1, 0]).tolist()
    [[1], [2]]
    """
    d = np.asarray(distance, dtype=float)
    t = np.asarray(treat).astype(bool)
    n = len(d)
    if len(t) != n:
        raise MatchingError("distance and treat must have the same length")
    if not np.isfinite(d).all():
        raise MatchingError(
            "the distance has missing or infinite values; matching needs a finite score for "
            "every unit. Fix: remove or impute those rows."
        )
    t_pos = np.flatnonzero(t)
    n1 = len(t_pos)
    ratios = (
        np.full(n1, int(np.asarray(ratio)), dtype=np.intp)
        if np.ndim(ratio) == 0
        else np.asarray(ratio, dtype=np.intp)
    )
    if len(ratios) != n1 or (n1 and ratios.min() < 1):
        raise MatchingError("ratio must be a positive integer (or one per focal unit)")
    max_ratio = (
        int(ratios.max()) if n1 else int(np.max(np.asarray(ratio, dtype=np.intp), initial=1))
    )
    disc = np.zeros(n, dtype=bool) if discarded is None else np.asarray(discarded, dtype=bool)
    st = None if strata is None else pd.factorize(np.asarray(strata))[0].astype(np.intp)
    ae = None if antiexact is None else np.asarray(antiexact).reshape(n, -1)
    cc = None
    ccw: NDArray[np.float64] | None = None
    if caliper_covs is not None and caliper_cov_widths is not None:
        cc = np.asarray(caliper_covs, dtype=float).reshape(n, -1)
        ccw = np.asarray(caliper_cov_widths, dtype=float)
    cal = float(np.ptp(d)) + 1.0 if caliper_width is None else float(caliper_width)
    mm = np.full((n1, max_ratio), -1, dtype=np.intp)
    if n1 == 0:
        return mm
    w = _build(d, t, ~disc, st)
    ok = _constraint(t_pos, ae, cc, ccw)
    replace = reuse_max >= n1
    uid = None
    if unit_id is not None and not replace:
        codes = pd.factorize(np.asarray(unit_id))[0]
        # one row per unit in each group: unit ids change nothing (MatchIt drops them)
        if len(np.unique(codes[~t])) != n - n1 or len(np.unique(codes[t])) != n1:
            uid = codes
    if replace:
        for i in range(n1):
            if disc[t_pos[i]]:
                continue
            found = _search(w, None, int(t_pos[i]), int(ratios[i]), cal, ok, ())
            mm[i, : len(found)] = found
        return mm
    state = _State(w, t, t_pos, ratios, reuse_max, disc, uid)
    if isinstance(order, str):
        if order not in ("closest", "farthest"):
            raise MatchingError(f"order {order!r}: give focal indices, 'closest' or 'farthest'")
        _closest(w, state, t_pos, max_ratio, cal, ok, mm, order == "closest")
        return mm
    visit = np.arange(n1) if order is None else np.asarray(order, dtype=np.intp)
    if max_ratio == 1 and reuse_max == 1 and ok is None and uid is None and st is None:
        _pairs(w, state, t_pos, visit, cal, mm)
    else:
        _rounds(w, state, t_pos, visit, ratios, max_ratio, cal, ok, mm)
    return mm


def _pairs(
    w: _Walk,
    state: _State,
    t_pos: NDArray[np.intp],
    visit: NDArray[np.intp],
    cal: float,
    mm: NDArray[np.intp],
) -> None:
    """1:1 matching without replacement in one stratum and no per-pair checks (the common
    case), the same pairs as :func:`_rounds` with less work per focal unit.

    With one control per focal unit and nothing found before, MatchIt's walk reduces to the
    nearest available control on each side: the nearer within the caliper wins, and at
    equal distance the one the walk meets first (fewer positions away; the left one when
    equally far). Slot positions for every focal unit are found with one vectorised search.
    """
    slot_pos = w.slot_pos
    m = len(slot_pos)
    ii_all = w.pos[t_pos]
    first_right = np.searchsorted(slot_pos, ii_all).tolist()  # focal units hold no slot
    ii_list = ii_all.tolist()
    t_list = t_pos.tolist()
    d = w.d
    unit = w.slot_unit
    left, right = state.avail.left, state.avail.right
    eligible = state.eligible
    find = _Available._find  # bound once: the loop below runs once per focal unit
    n_ctrl = state.n_ctrl
    for i in visit.tolist():
        if n_ctrl == 0:
            break
        ti = t_list[i]
        if not eligible[ti]:
            continue
        ii = ii_list[i]
        dt = d.item(ti)
        r0 = first_right[i]
        jl = find(left, r0 - 1) if r0 > 0 else -1
        jr = find(right, r0) if r0 < m else m
        best = -1
        if jl >= 0:
            dl = abs(dt - d.item(unit.item(jl)))
            if dl <= cal:
                best, bd = jl, dl
        if jr < m:
            dr = abs(dt - d.item(unit.item(jr)))
            if dr <= cal and (
                best < 0
                or dr < bd
                # equal distance: the walk meets the right one first only if it is nearer
                or (dr == bd and 2 * (slot_pos.item(jr) - ii) < 2 * (ii - slot_pos.item(jl)) - 1)
            ):
                best = jr
        eligible[ti] = False
        if best < 0:
            continue
        c = unit.item(best)
        mm[i, 0] = c
        eligible[c] = False
        n_ctrl -= 1
        left[best] = best - 1
        right[best] = best + 1
    state.n_ctrl = n_ctrl


def _constraint(
    t_pos: NDArray[np.intp],
    ae: NDArray[np.generic] | None,
    cc: NDArray[np.float64] | None,
    ccw: NDArray[np.float64] | None,
) -> Callable[[int, int], bool] | None:
    """The per-pair check for anti-exact columns and covariate calipers (None if neither)."""
    if ae is None and cc is None:
        return None

    def ok(i: int, j: int) -> bool:
        same = ae is not None and bool(np.any(ae[i] == ae[j]))
        far = cc is not None and ccw is not None and bool(np.any(np.abs(cc[i] - cc[j]) > ccw))
        return not (same or far)

    return ok


class _State:
    """Who can still be matched: MatchIt's ``eligible`` and ``times_matched``."""

    def __init__(
        self,
        w: _Walk,
        t: NDArray[np.bool_],
        t_pos: NDArray[np.intp],
        ratios: NDArray[np.intp],
        reuse_max: int,
        disc: NDArray[np.bool_],
        uid: NDArray[np.intp] | None,
    ) -> None:
        n = len(t)
        self.w = w
        self.t = t
        self.avail = _Available(len(w.slot_unit))
        self.eligible = ~disc
        self.times = np.zeros(n, dtype=np.intp)
        self.allowed = np.full(n, reuse_max, dtype=np.intp)
        self.allowed[t_pos] = ratios
        self.n_ctrl = int(np.sum(~t & self.eligible))
        self.n_focal = int(np.sum(t & self.eligible))
        self.members: dict[int, list[int]] = {}
        self.uid = uid
        if uid is not None:
            for r_, u in enumerate(uid.tolist()):
                self.members.setdefault(u, []).append(r_)

    def drop(self, u: int) -> None:
        self.eligible[u] = False
        if self.t[u]:
            self.n_focal -= 1
            return
        self.n_ctrl -= 1
        j = self.w.slot(u)
        if j >= 0:
            self.avail.remove(j)

    def use(self, c: int, ti: int) -> None:
        """One match of ``c`` to ``ti``; with unit ids, of every record of both persons."""
        if self.uid is None:
            touched = [c, ti]
        else:
            touched = [*self.members[self.uid[c]], *self.members[self.uid[ti]]]
        for u in dict.fromkeys(touched):
            if not self.eligible[u]:
                continue
            self.times[u] += 1
            if self.times[u] >= self.allowed[u]:
                self.drop(u)


def _rounds(
    w: _Walk,
    state: _State,
    t_pos: NDArray[np.intp],
    visit: NDArray[np.intp],
    ratios: NDArray[np.intp],
    max_ratio: int,
    cal: float,
    ok: Callable[[int, int], bool] | None,
    mm: NDArray[np.intp],
) -> None:
    """Matching with a limit on reuse, round by round (fills ``mm`` in place)."""
    for r in range(1, max_ratio + 1):
        for i in visit[ratios[visit] >= r].tolist():
            if state.n_ctrl == 0:
                break
            ti = int(t_pos[i])
            if not state.eligible[ti]:
                continue
            prev = [int(c) for c in mm[i, : r - 1] if c >= 0]
            found = _search(w, state.avail, ti, 1, cal, ok, prev)
            if not found:
                state.drop(ti)
                continue
            mm[i, len(prev)] = found[0]
            state.use(found[0], ti)


def _lower_bound(a: list[int], first: int, dist: list[float], value: float, close: bool) -> int:
    """libstdc++'s ``std::lower_bound`` on ``a[first:]``, MatchIt's comparison: ``dist[x] <
    value`` (closest first) or ``dist[x] >= value`` (farthest first).

    The range is not always partitioned when MatchIt calls it (the moved pair sits at its
    start), so the exact probing sequence decides the result.
    """
    length = len(a) - first
    while length > 0:
        half = length >> 1
        middle = first + half
        d = dist[a[middle]]
        if (d < value) if close else (d >= value):
            first = middle + 1
            length = length - half - 1
        else:
            length = half
    return first


def _closest(
    w: _Walk,
    state: _State,
    t_pos: NDArray[np.intp],
    max_ratio: int,
    cal: float,
    ok: Callable[[int, int], bool] | None,
    mm: NDArray[np.intp],
    close: bool,
) -> None:
    """``order="closest"`` / ``"farthest"``: each round, pairs are made in order of the
    distance to each focal unit's nearest control; a focal unit whose control was taken
    searches again (from that control outwards) and its pair moves to its new place."""
    row_of = {int(ti): i for i, ti in enumerate(t_pos.tolist())}
    for r in range(1, max_ratio + 1):
        t_id: list[int] = []
        c_id: list[int] = []
        dist: list[float] = []
        for ti in t_pos.tolist():
            if not state.eligible[ti]:
                continue
            prev = [int(c) for c in mm[row_of[ti], : r - 1] if c >= 0]
            k = _search(w, state.avail, ti, 1, cal, ok, prev)
            if not k:
                state.drop(ti)
                continue
            t_id.append(ti)
            c_id.append(k[0])
            dist.append(abs(float(w.d[ti]) - float(w.d[k[0]])))
        order = np.argsort(np.asarray(dist) * (1 if close else -1), kind="stable").tolist()

        i = 0
        while state.n_ctrl > 0 and state.n_focal > 0 and i < len(order):
            h = order[i]
            ti = t_id[h]
            if not state.eligible[ti]:
                i += 1
                continue
            row = row_of[ti]
            c = c_id[h]
            if not state.eligible[c]:
                prev = [int(x) for x in mm[row, : r - 1] if x >= 0]
                k = _search(w, state.avail, ti, 1, cal, ok, prev, restart=c)
                if not k:
                    state.drop(ti)
                    continue
                c_id[h] = k[0]
                dist[h] = abs(float(w.d[ti]) - float(w.d[k[0]]))
                ci = _lower_bound(order, i, dist, dist[h], close)
                if ci != i:  # std::rotate(i, i + 1, ci): the pair moves to ci - 1
                    order[i:ci] = [*order[i + 1 : ci], order[i]]
                continue
            mm[row, int(np.sum(mm[row] >= 0))] = c
            state.use(c, ti)
            i += 1


def _search(
    w: _Walk,
    avail: _Available | None,
    ti: int,
    ratio: int,
    cal: float,
    ok: Callable[[int, int], bool] | None,
    prev: Sequence[int],
    *,
    restart: int | None = None,
) -> list[int]:
    """MatchIt's outward walk for one focal unit; the controls found, nearest first.

    Events (usable controls) are taken in the order of the alternating walk: the control
    ``k`` steps to the left comes at walk step ``2k - 1``, the one ``k`` steps to the right
    at ``2k``; a side that stops simply has no more events, which keeps the order valid.
    """
    s = 0 if w.stratum is None else int(w.stratum[ti])
    lo, hi = int(w.lo[s]), int(w.hi[s])
    n = len(w.d)
    ii = int(w.pos[ti])
    dt = float(w.d[ti])
    min_dist = 0.0
    iil = iir = ii
    if prev or restart is not None:
        # round r > 1 (or a control taken meanwhile): walk on from the outermost controls
        # already found for this unit; candidates nearer than those are not looked at again
        starts = [*prev, *(() if restart is None else (restart,))]
        by_pos = {int(w.pos[c]): abs(dt - float(w.d[c])) for c in starts}
        iil, iir = min([*by_pos, ii]), max([*by_pos, ii])
        if iil == ii:
            min_dist = by_pos[iir]
        elif iir == ii:
            min_dist = by_pos[iil]
        else:
            min_dist = max(by_pos[iil], by_pos[iir])
    base = s * n
    jl = int(w.key.searchsorted(base + iil, side="left")) - 1  # last slot left of iil
    jr = int(w.key.searchsorted(base + iir, side="right"))  # first slot right of iir
    taken = set(prev)

    def next_left(j: int) -> int:
        j = avail.find_left(j) if avail is not None else j
        return j if j >= lo else -1

    def next_right(j: int) -> int:
        j = avail.find_right(j) if avail is not None else j
        return j if j < hi else -1

    jl = next_left(jl) if jl >= lo else -1
    jr = next_right(jr) if jr < hi else -1
    found: list[int] = []
    fdist: list[float] = []
    n_side = [0, 0]
    stopped = [jl < 0, jr < 0]
    while not (stopped[0] and stopped[1]):
        # next event: smaller walk step; left steps are odd, right steps even
        if stopped[1] or (
            not stopped[0] and 2 * (iil - int(w.slot_pos[jl])) - 1 < 2 * (int(w.slot_pos[jr]) - iir)
        ):
            side, j = 0, jl
        else:
            side, j = 1, jr
        c = int(w.slot_unit[j])
        dc = abs(dt - float(w.d[c]))
        if dc > cal:
            stopped[side] = True
            continue
        accept = dc >= min_dist and c not in taken
        if accept and len(found) >= ratio and sum(f < dc for f in fdist) >= ratio:
            stopped[side] = True
            continue
        if accept and (ok is None or ok(ti, c)):
            found.append(c)
            fdist.append(dc)
            n_side[side] += 1
            if n_side[side] == ratio:
                stopped[side] = True
                continue
        if side == 0:
            jl = next_left(j - 1) if j - 1 >= lo else -1
            stopped[0] = jl < 0
        else:
            jr = next_right(j + 1) if j + 1 < hi else -1
            stopped[1] = jr < 0
    return _order_found(found, fdist, ratio)
