"""Seeded, parallel, reproducible bootstrap.

Draws are split into fixed chunks, each with its own child of one ``SeedSequence``, so the
draws are identical whatever the number of workers.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
from numpy.typing import NDArray

__all__ = ["bootstrap_draws", "percentile_interval"]

_CHUNK = 100


def _run_chunk(
    statistic: Callable[[np.random.Generator], Any], seed_seq: np.random.SeedSequence, size: int
) -> list[Any]:
    rng = np.random.default_rng(seed_seq)
    return [statistic(rng) for _ in range(size)]


def bootstrap_draws(
    statistic: Callable[[np.random.Generator], Any],
    *,
    n_boot: int,
    seed: int | None,
    n_jobs: int = 1,
    progress: bool = False,
    desc: str = "bootstrap",
) -> NDArray[np.float64]:
    """Call ``statistic(rng)`` ``n_boot`` times with independent, reproducible generators.

    ``statistic`` draws its own resample from ``rng`` and returns a float or a 1-d array
    (several statistics from the same resample). Results are stacked into an array of shape
    ``(n_boot,)`` or ``(n_boot, m)``. Failed resamples should return ``nan``.

    Parameters
    ----------
    n_jobs
        Worker processes (joblib); ``1`` runs in this process. Results do not depend on it.
    progress
        Show a tqdm progress bar on standard error.

    Examples
    --------
    >>> x = np.arange(10.0)
    >>> d = bootstrap_draws(lambda rng: rng.choice(x, 10).mean(), n_boot=200, seed=1)
    >>> d.shape, bool(np.array_equal(d, bootstrap_draws(
    ...     lambda rng: rng.choice(x, 10).mean(), n_boot=200, seed=1, n_jobs=2)))
    ((200,), True)
    """
    if n_boot < 1:
        raise ValueError(f"n_boot must be at least 1, got {n_boot}")
    sizes = [min(_CHUNK, n_boot - i) for i in range(0, n_boot, _CHUNK)]
    children = np.random.SeedSequence(seed).spawn(len(sizes))
    from tqdm import tqdm

    if n_jobs == 1:
        out: list[Any] = []
        with tqdm(total=n_boot, desc=desc, disable=not progress, leave=False) as bar:
            for ss, size in zip(children, sizes, strict=True):
                out.extend(_run_chunk(statistic, ss, size))
                bar.update(size)
    else:
        from joblib import Parallel, delayed

        par = Parallel(n_jobs=n_jobs, return_as="generator")
        gen = par(
            delayed(_run_chunk)(statistic, ss, size)
            for ss, size in zip(children, sizes, strict=True)
        )
        out = []
        with tqdm(total=n_boot, desc=desc, disable=not progress, leave=False) as bar:
            for chunk in gen:
                out.extend(chunk)
                bar.update(len(chunk))
    return np.asarray(out, dtype=float)


def percentile_interval(draws: NDArray[np.float64], *, level: float = 0.95) -> tuple[float, float]:
    """Percentile bootstrap interval (ignoring ``nan`` draws).

    Examples
    --------
    >>> [round(b, 6) for b in percentile_interval(np.arange(101.0), level=0.9)]
    [5.0, 95.0]
    """
    d = np.asarray(draws, dtype=float)
    d = d[np.isfinite(d)]
    if d.size == 0:
        return (float("nan"), float("nan"))
    a = (1 - level) / 2
    lo, hi = np.quantile(d, [a, 1 - a])
    return float(lo), float(hi)
