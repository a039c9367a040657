"""The auditor: the interval of values a reader can deduce for every hidden cell.

A reader knows every published cell and derived value, every identity between cells, that a
cell shown as ``<min_cell`` holds 1 … min_cell − 1, that a cell hidden to protect another holds at
least ``min_cell`` (small cells are only ever hidden as primary cells), and that counts are whole
numbers ≥ 0. For each hidden cell the auditor minimises and maximises it subject to all of that —
an integer linear programme over the whole publication (SciPy's HiGHS ``milp``) — and reports the
interval.

Two relations are not linear and enter as their exact linear consequences:

- a rate ``a / b`` shown to d decimals: ``(r − h)·b ≤ a ≤ (r + h)·b`` with ``h`` half a unit of
  the last digit;
- the limits of a proportion's confidence interval: the pairs (k, n) whose interval rounds to the
  published limits are enumerated for every n (the limits are monotone in k, so a vectorised
  bisection finds them); the bounds on n, on k and on k / n over those pairs are added. This is an
  outer approximation: the auditor may find an interval wider than the reader's best, never
  narrower than the truth allows. It says so in ``AuditFinding.exact``.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping
from dataclasses import dataclass
from functools import lru_cache

import numpy as np
from numpy.typing import NDArray

from pfseval.sdc.model import Derived, Publication

__all__ = ["AuditFinding", "audit", "narrow", "proportion_ci_pairs"]


@dataclass(frozen=True)
class AuditFinding:
    """What a reader can deduce about one hidden cell.

    Attributes
    ----------
    key
        The cell.
    value
        Its true value.
    low, high
        The smallest and largest values consistent with everything published.
    exact
        ``False`` when a confidence interval entered through its outer approximation.
    """

    key: str
    value: int
    low: float
    high: float
    exact: bool = True

    @property
    def width(self) -> float:
        return self.high - self.low


def _limits(
    k: NDArray[np.float64], n: NDArray[np.float64], d: Derived
) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    from scipy import stats

    alpha = 1 - d.level
    if d.method == "wilson":
        z = stats.norm.ppf(1 - alpha / 2)
        p = np.divide(k, n, out=np.zeros_like(k), where=n > 0)
        den = 1 + z * z / n
        centre = (p + z * z / (2 * n)) / den
        half = z * np.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / den
        return centre - half, centre + half
    lo = np.where(k > 0, stats.beta.ppf(alpha / 2, k, n - k + 1), 0.0)
    hi = np.where(k < n, stats.beta.ppf(1 - alpha / 2, k + 1, n - k), 1.0)
    return np.nan_to_num(lo), np.nan_to_num(hi, nan=1.0)


def proportion_ci_pairs(
    d: Derived, *, n_max: int
) -> tuple[NDArray[np.int64], NDArray[np.int64], NDArray[np.int64]]:
    """For every n ≤ ``n_max``: the range of k whose interval rounds to the published limits.

    Returns ``(n, k_min, k_max)`` for the n with at least one such k.

    Examples
    --------
    >>> from pfseval.sdc.model import Derived
    >>> d = Derived("ci", "proportion_ci", value=0.5731, upper=0.8325, tol=0.00005)
    >>> n, kmin, kmax = proportion_ci_pairs(d, n_max=500)
    >>> [(int(a), int(b)) for a, b in zip(n, kmin)]  # Wilson 31/43 = [0.5731, 0.8325]
    [(43, 31)]
    """
    n = np.arange(1, n_max + 1, dtype=float)
    # An interval cannot be narrower than the published one minus the rounding: the width of
    # either interval at n is at most z·sqrt(1/n + z²/n²) + 6/n (Wilson: exactly so without
    # the 6/n, since p(1 − p) ≤ 1/4; Clopper–Pearson: checked numerically for levels 0.8-0.99
    # and n ≤ 5,000, where 4/n already suffices), so larger n are impossible. Cutting them
    # keeps the scan to hundreds of n instead of the whole upper bound.
    from scipy import stats

    z = stats.norm.ppf(1 - (1 - d.level) / 2)
    widest = z * np.sqrt(1 / n + z * z / (n * n)) + 6 / n
    possible = widest >= (d.upper - d.value) - 2 * d.tol - 1e-12
    n = n[: int(np.flatnonzero(possible)[-1]) + 1] if possible.any() else n[:1]
    n_max = len(n)

    def first_k(target: float, which: int, side: str) -> NDArray[np.float64]:
        # smallest k in [0, n] with limit >= target (side "ge") or > target ("gt");
        # the limits increase with k for fixed n
        lo = np.zeros_like(n)
        hi = n + 1
        for _ in range(int(np.ceil(np.log2(n_max + 2))) + 1):
            mid = np.floor((lo + hi) / 2)
            lim = _limits(np.minimum(mid, n), n, d)[which]
            ok = (lim >= target) if side == "ge" else (lim > target)
            ok = ok & (mid <= n)
            hi = np.where(ok, mid, hi)
            lo = np.where(ok, lo, mid + 1)
        return hi

    # k with lower limit in [value - tol, value + tol] and upper limit in [upper - tol, upper + tol]
    eps = 1e-12
    a1 = first_k(d.value - d.tol - eps, 0, "ge")
    b1 = first_k(d.value + d.tol + eps, 0, "gt") - 1
    a2 = first_k(d.upper - d.tol - eps, 1, "ge")
    b2 = first_k(d.upper + d.tol + eps, 1, "gt") - 1
    kmin = np.maximum(a1, a2)
    kmax = np.minimum(np.minimum(b1, b2), n)
    keep = kmin <= kmax
    return n[keep].astype(np.int64), kmin[keep].astype(np.int64), kmax[keep].astype(np.int64)


@lru_cache(maxsize=256)
def _ci_bounds(
    low: float, high: float, tol: float, level: float, method: str, n_max: int
) -> tuple[float, float, float, float, float, float] | None:
    """The bounds on n, k and k / n that published interval limits imply (cached: the
    secondary-suppression search rebuilds the programme many times with the same limits)."""
    d = Derived("ci", "proportion_ci", value=low, upper=high, tol=tol, level=level, method=method)
    n, kmin, kmax = proportion_ci_pairs(d, n_max=n_max)
    if len(n) == 0:
        return None
    return (
        float(n.min()),
        float(n.max()),
        float(kmin.min()),
        float(kmax.max()),
        float(np.min(kmin / n)),
        float(np.max(kmax / n)),
    )


class _Problem:
    """The integer programme a reader could solve.

    Published cells are known numbers: they are substituted into the constraints, so the
    programme has one variable per hidden cell only, and a constraint without a hidden cell
    is left out (it holds for the true values). A document with a table of 1,700
    municipalities and a few hidden cells is then a programme of a few variables, not of
    thousands of fixed ones.
    """

    def __init__(
        self,
        pub: Publication,
        hidden: Mapping[str, str],
        withheld: Collection[str],
    ) -> None:
        self.keys = [k for k in pub.cells if k in hidden]
        self.index = {k: i for i, k in enumerate(self.keys)}
        self.known = {k: float(c.value) for k, c in pub.cells.items() if k not in hidden}
        nvar = len(self.keys)
        ub_all = float(pub.upper_bound())
        lb = np.zeros(nvar)
        ub = np.full(nvar, ub_all)
        for k in self.keys:
            i = self.index[k]
            if hidden[k] == "primary":
                lb[i], ub[i] = 1, pub.min_cell - 1
            elif pub.cells[k].sensitive:
                # only small counts are hidden as primary cells, so every other hidden count
                # of people is known to be at least min_cell (or is a zero, never hidden)
                lb[i] = pub.min_cell
        rows: list[NDArray[np.float64]] = []
        lo: list[float] = []
        hi: list[float] = []
        self.exact = True

        def free(*keys: str | None) -> bool:
            return any(k in self.index for k in keys if k is not None)

        def add(coefs: Mapping[str, float], low: float, high: float) -> None:
            r = np.zeros(nvar)
            const = 0.0
            for key, c in coefs.items():
                if key in self.index:
                    r[self.index[key]] += c
                else:
                    const += c * self.known[key]
            if not r.any():
                return  # every cell published: the constraint holds for the true values
            rows.append(r)
            lo.append(low - const)
            hi.append(high - const)

        for ident in pub.identities:
            if free(*ident.coefs):
                add(ident.coefs, 0.0, 0.0)
        for key, d in pub.derived.items():
            if key in withheld:
                continue
            if d.kind == "linear":
                if free(*d.coefs):
                    add(d.coefs, d.value - d.const - d.tol, d.value - d.const + d.tol)
            elif d.kind == "ratio":
                assert d.numerator is not None
                if isinstance(d.denominator, str):
                    if not free(d.numerator, d.denominator):
                        continue
                    # scale·a − (r ± h)·b  within  [ ·, 0 ] and [ 0, · ]
                    add({d.numerator: d.scale, d.denominator: -(d.value + d.tol)}, -np.inf, 0.0)
                    add({d.numerator: d.scale, d.denominator: -(d.value - d.tol)}, 0.0, np.inf)
                elif d.denominator and free(d.numerator):
                    den = float(d.denominator)
                    add(
                        {d.numerator: d.scale},
                        (d.value - d.tol) * den,
                        (d.value + d.tol) * den,
                    )
            elif d.kind == "proportion_ci":
                assert d.numerator is not None and isinstance(d.denominator, str)
                if not free(d.numerator, d.denominator):
                    continue
                self.exact = False
                found = _ci_bounds(
                    d.value, d.upper, d.tol, d.level, d.method, int(min(ub_all, 200_000))
                )
                if found is None:
                    continue
                nmin, nmax, kmin, kmax, rmin, rmax = found
                add({d.denominator: 1.0}, nmin, nmax)
                add({d.numerator: 1.0}, kmin, kmax)
                add({d.numerator: 1.0, d.denominator: -rmax}, -np.inf, 0.0)
                add({d.numerator: 1.0, d.denominator: -rmin}, 0.0, np.inf)
            elif d.kind == "reveals":
                for key in d.group:
                    if key in self.index:
                        v = float(pub.cells[key].value)
                        add({key: 1.0}, v, v)
        self.lb, self.ub = lb, ub
        self.A = np.vstack(rows) if rows else np.zeros((0, nvar))
        self.lo = np.array(lo)
        self.hi = np.array(hi)

    def extreme(self, key: str, sense: int) -> float:
        from scipy.optimize import Bounds, LinearConstraint, milp

        if key not in self.index:  # a published cell: known
            return self.known[key]
        c = np.zeros(len(self.keys))
        c[self.index[key]] = sense
        cons = [LinearConstraint(self.A, self.lo, self.hi)] if len(self.A) else []
        res = milp(
            c,
            constraints=cons,
            integrality=np.ones(len(self.keys)),
            bounds=Bounds(self.lb, self.ub),
        )
        if res.status != 0 or res.x is None:
            # infeasible can only come from rounding tolerances; report no knowledge
            return self.lb[self.index[key]] if sense > 0 else self.ub[self.index[key]]
        return float(res.x[self.index[key]])


def _twins(pub: Publication, hidden: Mapping[str, str], keys: Collection[str]) -> dict[str, str]:
    """Each of ``keys`` → a representative hidden cell that always differs from it by a known
    constant (an identity with exactly two hidden cells, ``a − b = published cells``): the two
    have intervals of the same width, shifted by the difference of their true values, so one
    programme serves both. A flow step that excludes 0 makes its two remaining counts twins."""
    parent: dict[str, str] = {}

    def find(x: str) -> str:
        while parent.get(x, x) != x:
            x = parent[x]
        return x

    for ident in pub.identities:
        hid = [(k, c) for k, c in ident.coefs.items() if k in hidden]
        if len(hid) == 2 and abs(hid[0][1]) == abs(hid[1][1]) == 1 and hid[0][1] == -hid[1][1]:
            a, b = find(hid[0][0]), find(hid[1][0])
            if a != b:
                parent[max(a, b)] = min(a, b)
    return {k: find(k) for k in keys}


def narrow(
    pub: Publication,
    hidden: Mapping[str, str],
    *,
    withheld: Collection[str],
    keys: Collection[str],
    protection: float | Mapping[str, float],
) -> str | None:
    """The first of ``keys`` a reader can narrow below ``protection`` (one width for all, or
    one per key), or ``None``: one programme, stopping at the first exposed cell (the cheap
    check of the suppression search).
    """
    prob = _Problem(pub, hidden, withheld)
    twin = _twins(pub, hidden, keys)
    widths: dict[str, float] = {}
    for key in keys:
        need = protection if isinstance(protection, int | float) else protection[key]
        rep = twin[key]
        if rep in widths:
            if widths[rep] < need - 1e-9:
                return key
            continue
        low = prob.extreme(rep, +1)
        if rep in prob.index and prob.ub[prob.index[rep]] - low < need - 1e-9:
            return key
        high = prob.extreme(rep, -1)
        widths[rep] = high - low
        if high - low < need - 1e-9:
            return key
    return None


def audit(
    pub: Publication,
    hidden: Mapping[str, str],
    *,
    withheld: Collection[str] = (),
    keys: Collection[str] | None = None,
) -> dict[str, AuditFinding]:
    """The interval a reader can deduce for every hidden cell (or those in ``keys``).

    Parameters
    ----------
    pub
        The publication.
    hidden
        Hidden cells → ``"primary"`` (shown as ``<min_cell``) or ``"secondary"`` (``*``).
    withheld
        Derived values not published.

    Examples
    --------
    >>> pub = Publication(min_cell=10)
    >>> for key, v in [("input", 120), ("excluded", 3), ("analysed", 117)]:
    ...     _ = pub.cell(key, v)
    >>> pub.parts("input", ["excluded", "analysed"])
    >>> audit(pub, {"excluded": "primary"})["excluded"].width  # input − analysed gives it back
    0.0
    >>> f = audit(pub, {"excluded": "primary", "analysed": "secondary"})["excluded"]
    >>> (f.low, f.high)
    (1.0, 9.0)
    """
    prob = _Problem(pub, hidden, withheld)
    wanted = list(hidden if keys is None else keys)
    twin = _twins(pub, hidden, wanted)
    found: dict[str, tuple[float, float]] = {}
    out: dict[str, AuditFinding] = {}
    for key in wanted:
        rep = twin[key]
        if rep not in found:
            found[rep] = (prob.extreme(rep, +1), prob.extreme(rep, -1))
        shift = pub.cells[key].value - pub.cells[rep].value
        low, high = found[rep]
        out[key] = AuditFinding(key, pub.cells[key].value, low + shift, high + shift, prob.exact)
    return out
