"""Randomisation (permutation) inference, free of any particular design.

The machinery re-draws a treatment assignment the way the trial drew it: a fixed number of
treated units overall, or within each block (stratum). Units may be people or whole clusters;
the caller maps unit assignments to its statistic.

- :func:`count_assignments` — how many distinct assignments the design allows.
- :func:`iter_assignments` — every assignment (exact enumeration) when there are at most
  ``n_perm`` of them, otherwise ``n_perm`` seeded random re-randomisations; yielded in chunks
  as boolean matrices (one row per assignment).
- :func:`permutation_p_value` — exact or Monte Carlo p-value from the null distribution.
- :func:`shift_interval` — confidence interval by inverting the test under a constant
  additive effect, for statistics that are linear in the outcome.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Iterator
from typing import Literal

import numpy as np
from numpy.typing import ArrayLike, NDArray

__all__ = [
    "count_assignments",
    "iter_assignments",
    "permutation_p_value",
    "shift_interval",
]

Alternative = Literal["two-sided", "greater", "less"]

_CHUNK_CELLS = 2_000_000  # assignments per chunk x units: bounds memory of one chunk


def _blocks(z: NDArray[np.bool_], blocks: ArrayLike | None) -> list[NDArray[np.intp]]:
    if blocks is None:
        return [np.arange(z.size)]
    b = np.asarray(blocks)
    if b.shape != z.shape:
        raise ValueError(f"blocks has shape {b.shape}, assignment has shape {z.shape}")
    _, codes = np.unique(b, return_inverse=True)
    order = np.argsort(codes, kind="stable")
    splits = np.flatnonzero(np.diff(codes[order])) + 1
    return [np.asarray(ix, dtype=np.intp) for ix in np.split(order, splits)]


def _as_bool(z: ArrayLike) -> NDArray[np.bool_]:
    za = np.asarray(z)
    if za.ndim != 1:
        raise ValueError("the assignment must be a 1-d array of 0/1 values")
    if not np.isin(za, [0, 1]).all():
        raise ValueError("the assignment must contain only 0 and 1")
    return za.astype(bool)


def _count(zb: NDArray[np.bool_], groups: list[NDArray[np.intp]]) -> int:
    return math.prod(math.comb(ix.size, int(zb[ix].sum())) for ix in groups)


def count_assignments(z: ArrayLike, *, blocks: ArrayLike | None = None) -> int:
    """Number of distinct assignments with the same number of treated units per block.

    Parameters
    ----------
    z
        Observed assignment of the units (0/1).
    blocks
        Block (stratum) of each unit; ``None`` for one block.

    Examples
    --------
    >>> count_assignments([1, 1, 0, 0, 0])
    10
    >>> count_assignments([1, 0, 1, 0], blocks=["a", "a", "b", "b"])
    4
    """
    zb = _as_bool(z)
    return _count(zb, _blocks(zb, blocks))


def iter_assignments(
    z: ArrayLike,
    *,
    blocks: ArrayLike | None = None,
    n_perm: int = 10_000,
    seed: int | None = None,
) -> Iterator[NDArray[np.bool_]]:
    """Yield re-randomised assignments in chunks of rows (``m × n_units`` boolean arrays).

    When :func:`count_assignments` is at most ``n_perm``, every distinct assignment is
    yielded once (the observed one included): exact enumeration, no randomness. Otherwise
    ``n_perm`` assignments are drawn at random (within blocks) from a generator seeded with
    ``seed``; the same seed gives the same draws.

    Examples
    --------
    >>> rows = np.vstack(list(iter_assignments([1, 1, 0, 0])))
    >>> rows.shape, int(rows.sum(axis=1).max())
    ((6, 4), 2)
    >>> a = np.vstack(list(iter_assignments([1] * 10 + [0] * 10, n_perm=50, seed=3)))
    >>> b = np.vstack(list(iter_assignments([1] * 10 + [0] * 10, n_perm=50, seed=3)))
    >>> a.shape, bool((a == b).all())
    ((50, 20), True)
    """
    if n_perm < 1:
        raise ValueError(f"n_perm must be at least 1, got {n_perm}")
    zb = _as_bool(z)
    groups = _blocks(zb, blocks)
    total = _count(zb, groups)
    chunk = max(1, _CHUNK_CELLS // max(1, zb.size))
    if total <= n_perm:
        combos: list[NDArray[np.bool_]] = []
        for ix in groups:
            k = int(zb[ix].sum())
            c = np.zeros((math.comb(ix.size, k), ix.size), dtype=bool)
            for r, chosen in enumerate(itertools.combinations(range(ix.size), k)):
                c[r, list(chosen)] = True
            combos.append(c)
        shape = tuple(c.shape[0] for c in combos)
        for start in range(0, total, chunk):
            flat = np.arange(start, min(total, start + chunk))
            idx = np.unravel_index(flat, shape)
            out = np.zeros((flat.size, zb.size), dtype=bool)
            for ix, c, i in zip(groups, combos, idx, strict=True):
                out[:, ix] = c[i]
            yield out
        return
    rng = np.random.default_rng(np.random.SeedSequence(seed))
    for start in range(0, n_perm, chunk):
        m = min(chunk, n_perm - start)
        out = np.empty((m, zb.size), dtype=bool)
        for ix in groups:
            out[:, ix] = rng.permuted(np.broadcast_to(zb[ix], (m, ix.size)), axis=1)
        yield out


def _tol(observed: float, null: NDArray[np.float64]) -> float:
    scale = max(abs(observed), float(np.max(np.abs(null))) if null.size else 0.0, 1e-300)
    return 1e-10 * scale


def permutation_p_value(
    observed: float,
    null: ArrayLike,
    *,
    exact: bool,
    alternative: Alternative = "two-sided",
) -> float:
    """p-value of ``observed`` against the statistic's re-randomisation distribution.

    ``two-sided`` counts ``|T| >= |T_obs|``; ``greater`` counts ``T >= T_obs``; ``less``
    counts ``T <= T_obs`` (ties within a relative 1e-10 count as equal). With ``exact`` the
    null holds every assignment (the observed one included) and ``p = count / total``;
    otherwise it holds random draws and ``p = (1 + count) / (1 + B)`` (Phipson & Smyth 2010),
    which never gives 0.

    Examples
    --------
    >>> permutation_p_value(2.0, [-2.0, -1.0, 0.0, 1.0, 2.0], exact=True)
    0.4
    >>> permutation_p_value(2.0, [-2.0, -1.0, 0.0, 1.0], exact=False, alternative="greater")
    0.2
    """
    t = np.asarray(null, dtype=float)
    tol = _tol(observed, t)
    if alternative == "two-sided":
        count = int(np.sum(np.abs(t) >= abs(observed) - tol))
    elif alternative == "greater":
        count = int(np.sum(t >= observed - tol))
    elif alternative == "less":
        count = int(np.sum(t <= observed + tol))
    else:
        raise ValueError(
            f"alternative must be 'two-sided', 'greater' or 'less', got {alternative!r}"
        )
    if exact:
        return count / t.size
    return (1 + count) / (1 + t.size)


def shift_interval(
    observed: float,
    null_a: ArrayLike,
    null_b: ArrayLike,
    *,
    exact: bool,
    level: float = 0.95,
    scale: float | None = None,
) -> tuple[float, float]:
    """Confidence interval by inverting a two-sided randomisation test over constant shifts.

    For a statistic linear in the outcome (a difference in means), testing the constant
    additive effect ``δ`` means re-analysing ``y − δ·z_obs``: under assignment ``z`` the
    statistic becomes ``a_z − δ·b_z``, where ``a_z`` is the statistic of ``y`` and ``b_z`` that
    of the observed assignment ``z_obs`` used as an outcome; the observed statistic becomes
    ``observed − δ``. The interval is the set of ``δ`` whose two-sided p-value exceeds
    ``1 − level``, found by bisection to a relative precision of about 1e-9. An end is
    infinite when the test cannot reject at that level (too few distinct assignments).

    Parameters
    ----------
    observed
        The observed statistic.
    null_a, null_b
        ``a_z`` and ``b_z`` for every assignment in the null distribution.
    exact
        Whether the null is the full enumeration (see :func:`permutation_p_value`).
    scale
        Step used to search for the ends (default: the standard deviation of ``null_a``).

    Examples
    --------
    >>> z = np.array([1, 1, 1, 0, 0, 0])
    >>> y = np.array([5.0, 6.0, 7.0, 1.0, 2.0, 3.0])
    >>> Z = np.vstack(list(iter_assignments(z)))
    >>> def diff(v):
    ...     return (Z @ v) / 3 - ((1 - Z) @ v) / 3
    >>> lo, hi = shift_interval(4.0, diff(y), diff(z.astype(float)), exact=True, level=0.9)
    >>> bool(lo < 4.0 < hi)
    True
    """
    a = np.asarray(null_a, dtype=float)
    b = np.asarray(null_b, dtype=float)
    alpha = 1 - level

    def accepted(delta: float) -> bool:
        p = permutation_p_value(observed - delta, a - delta * b, exact=exact)
        return p > alpha

    step = float(np.std(a)) if scale is None else float(scale)
    if not np.isfinite(step) or step <= 0:
        step = max(abs(observed), 1.0)

    def end(direction: float) -> float:
        inner = observed
        outer = observed + direction * step
        k = 0
        while accepted(outer):
            inner = outer
            k += 1
            if k > 60:
                return direction * math.inf
            outer = observed + direction * step * 2.0**k
        for _ in range(200):
            mid = 0.5 * (inner + outer)
            if accepted(mid):
                inner = mid
            else:
                outer = mid
            if abs(outer - inner) <= 1e-10 * max(1.0, abs(inner), step):
                break
        return 0.5 * (inner + outer)

    return end(-1.0), end(1.0)
