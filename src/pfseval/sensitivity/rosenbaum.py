"""Rosenbaum bounds for matched pairs: how much hidden bias would change the conclusion.

Within a matched pair, an unmeasured confounder may make one person up to ``Γ`` times as likely
as the other to have been treated (Γ = 1: no hidden bias, as in a randomised pair). For each Γ
of a grid these functions give the largest and smallest one-sided p-values that any hidden bias
of that size could produce (Rosenbaum 2002, *Observational Studies*, §4.3–4.4; R's
``rbounds::psens`` and ``rbounds::binarysens``):

- continuous outcome, Wilcoxon signed-rank statistic ``T`` = sum of the ranks of ``|d|`` over
  pairs with a positive difference ``d`` (treated − control); zero differences are dropped and
  tied ``|d|`` get average ranks. Under a bias Γ each pair is positive with probability at most
  ``p⁺ = Γ/(1+Γ)`` (at least ``p⁻ = 1/(1+Γ)``), so ``T`` lies between sums of independent
  ``rank × Bernoulli(p)`` terms with mean ``p Σq`` and variance ``p(1−p) Σq²``; the bounds use
  the normal approximation, as rbounds does;
- binary outcome, McNemar-type: among the ``D`` discordant pairs, ``T`` = pairs where only the
  treated person has the event; the bounds are ``P(Binomial(D, p⁺) ≥ T)`` and
  ``P(Binomial(D, p⁻) ≥ T)`` (exact).

The alternative is "treated higher" (``d > 0``); for "treated lower" pass ``−d`` (or swap the
discordant counts). The critical Γ is the smallest Γ of the grid at which the upper bound is
at least α: the study's conclusion is sensitive to a hidden bias of that size.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd
from numpy.typing import ArrayLike, NDArray
from scipy import stats

from pfseval.errors import DesignError

if TYPE_CHECKING:
    from pfseval.designs.psm.matching import MatchedSample

__all__ = [
    "RosenbaumBounds",
    "discordant_pairs",
    "mcnemar_bounds",
    "pair_differences",
    "signed_rank_bounds",
]

DEFAULT_GAMMAS: tuple[float, ...] = (1.0, 1.25, 1.5, 1.75, 2.0, 2.5, 3.0, 4.0, 5.0)


@dataclass(frozen=True)
class RosenbaumBounds:
    """Bounds on the one-sided p-value over a grid of Γ.

    Attributes
    ----------
    test
        ``"signed_rank"`` or ``"mcnemar"``.
    table
        One row per Γ: ``gamma, p_upper, p_lower``.
    statistic
        The observed statistic ``T``.
    n_pairs
        Pairs used (non-zero differences, or discordant pairs).
    alpha
        Significance level for :attr:`critical_gamma`.
    critical_gamma
        Smallest Γ in the grid with ``p_upper ≥ alpha`` (``None``: the conclusion holds over the
        whole grid; ``1.0``: not significant even without hidden bias).
    """

    test: str
    table: pd.DataFrame
    statistic: float
    n_pairs: int
    alpha: float
    critical_gamma: float | None

    def text(self) -> str:
        """One sentence in plain words for an appendix."""
        top = float(self.table["gamma"].max())
        if self.critical_gamma is None:
            return (
                f"The result stays significant at {self.alpha:g} even if hidden bias made one "
                f"person of a matched pair up to {top:g} times as likely to take part as the "
                "other."
            )
        if self.critical_gamma == 1.0:
            return f"The result is not significant at {self.alpha:g} even without hidden bias."
        return (
            "The result would no longer be significant at "
            f"{self.alpha:g} if hidden bias made one person of a matched pair "
            f"{self.critical_gamma:g} times as likely to take part as the other."
        )


def _gammas(gammas: Sequence[float]) -> NDArray[np.float64]:
    g = np.asarray(list(gammas), dtype=float)
    if g.size == 0 or not np.all(np.isfinite(g)) or np.any(g < 1):
        raise DesignError(f"gammas must be finite numbers ≥ 1, got {list(gammas)!r}.")
    return np.sort(g)


def _critical(table: pd.DataFrame, alpha: float) -> float | None:
    over = table.loc[table["p_upper"] >= alpha, "gamma"]
    return None if over.empty else float(over.min())


def _check_alpha(alpha: float) -> None:
    if not 0 < alpha < 1:
        raise DesignError(f"alpha must be in (0, 1), got {alpha!r}.")


def signed_rank_bounds(
    differences: ArrayLike,
    *,
    gammas: Sequence[float] = DEFAULT_GAMMAS,
    alpha: float = 0.05,
) -> RosenbaumBounds:
    """Rosenbaum bounds for the Wilcoxon signed-rank test on matched-pair differences.

    Parameters
    ----------
    differences
        Treated − control outcome per matched pair (NaN not allowed).
    gammas
        Grid of Γ ≥ 1.
    alpha
        Level for the critical Γ.

    Examples
    --------
    >>> d = [1.2, 0.8, -0.3, 2.1, 0.5, 1.7, -0.9, 1.1, 0.4, 1.5]
    >>> rb = signed_rank_bounds(d, gammas=[1, 2])
    >>> rb.statistic, rb.table["p_upper"].round(4).tolist()
    (49.0, [0.0142, 0.0912])
    >>> rb.critical_gamma
    2.0
    """
    _check_alpha(alpha)
    d = np.asarray(differences, dtype=float)
    if d.ndim != 1 or not np.all(np.isfinite(d)):
        raise DesignError(
            "differences must be one finite number per matched pair. Fix: drop pairs "
            "without an outcome before computing the bounds."
        )
    d = d[d != 0]  # zero differences carry no sign information (Wilcoxon's convention)
    if d.size == 0:
        raise DesignError("every pair difference is zero; the signed-rank test has no pairs.")
    q = stats.rankdata(np.abs(d))  # average ranks for tied |d|
    T = float(q[d > 0].sum())
    s1, s2 = float(q.sum()), float((q**2).sum())
    g = _gammas(gammas)
    rows = []
    for gamma in g:
        p_hi = gamma / (1 + gamma)
        bounds = []
        for p in (p_hi, 1 - p_hi):
            z = (T - p * s1) / np.sqrt(p * (1 - p) * s2)
            bounds.append(float(stats.norm.sf(z)))
        rows.append((float(gamma), bounds[0], bounds[1]))
    table = pd.DataFrame(rows, columns=["gamma", "p_upper", "p_lower"])
    return RosenbaumBounds(
        test="signed_rank",
        table=table,
        statistic=T,
        n_pairs=int(d.size),
        alpha=alpha,
        critical_gamma=_critical(table, alpha),
    )


def mcnemar_bounds(
    treated_only: int,
    control_only: int,
    *,
    gammas: Sequence[float] = DEFAULT_GAMMAS,
    alpha: float = 0.05,
) -> RosenbaumBounds:
    """Rosenbaum bounds for McNemar's test on a binary outcome in matched pairs.

    Parameters
    ----------
    treated_only
        Discordant pairs where only the treated person has the outcome (the direction tested).
    control_only
        Discordant pairs where only the control has it.

    Examples
    --------
    >>> rb = mcnemar_bounds(30, 12, gammas=[1, 2, 3])
    >>> rb.table["p_upper"].round(4).tolist()
    [0.004, 0.317, 0.7664]
    """
    _check_alpha(alpha)
    for name, v in (("treated_only", treated_only), ("control_only", control_only)):
        if int(v) != v or v < 0:
            raise DesignError(f"{name} must be a non-negative integer count, got {v!r}.")
    T, D = int(treated_only), int(treated_only) + int(control_only)
    if D == 0:
        raise DesignError("there are no discordant pairs; McNemar's test has nothing to test.")
    g = _gammas(gammas)
    rows = []
    for gamma in g:
        p_hi = gamma / (1 + gamma)
        rows.append(
            (
                float(gamma),
                float(stats.binom.sf(T - 1, D, p_hi)),
                float(stats.binom.sf(T - 1, D, 1 - p_hi)),
            )
        )
    table = pd.DataFrame(rows, columns=["gamma", "p_upper", "p_lower"])
    return RosenbaumBounds(
        test="mcnemar",
        table=table,
        statistic=float(T),
        n_pairs=D,
        alpha=alpha,
        critical_gamma=_critical(table, alpha),
    )


def pair_differences(matched: MatchedSample, *, outcome: str) -> NDArray[np.float64]:
    """Treated − control outcome for each 1:1 matched pair with both outcomes.

    Raises
    ------
    DesignError
        If the sample was matched with more than one control per treated unit (the pair
        bounds do not apply to matched sets), or the outcome column is missing.

    Examples
    --------
    >>> from pfseval.designs.psm.kobe import _example_matched
    >>> m = _example_matched(n_treated=40)
    >>> pair_differences(m, outcome="egfr").shape
    (40,)
    """
    if matched.ratio != 1 or matched.diagnostics.get("max_controls", 1) not in (None, 1):
        raise DesignError(
            f"Rosenbaum bounds for pairs need 1:1 matching; this sample has ratio "
            f"{matched.ratio}. Fix: match with ratio=1 for the sensitivity analysis."
        )
    data = matched.data
    if outcome not in data.columns:
        raise DesignError(f"column {outcome!r} is not in the matched data. Fix: check outcome.")
    y = pd.Series(
        pd.to_numeric(data[outcome], errors="coerce").to_numpy(dtype=float),
        index=data[matched.id_col].to_numpy(),
    )
    pairs = matched.pairs.dropna(subset=["control_id_1"])
    yt = y.reindex(pairs["treated_id"].to_numpy()).to_numpy()
    yc = y.reindex(pairs["control_id_1"].to_numpy()).to_numpy()
    ok = np.isfinite(yt) & np.isfinite(yc)  # a pair without both outcomes carries no sign
    return np.asarray(yt[ok] - yc[ok], dtype=float)


def discordant_pairs(matched: MatchedSample, *, outcome: str) -> tuple[int, int]:
    """Discordant 1:1 pairs of a 0/1 outcome: ``(treated_only, control_only)``.

    ``treated_only`` counts pairs where only the treated person has the outcome, for
    :func:`mcnemar_bounds`.

    Examples
    --------
    >>> rng = np.random.default_rng(0)
    >>> df = pd.DataFrame({"id": range(600), "x": rng.normal(size=600)})
    >>> df["t"] = (rng.random(600) < 1 / (1 + np.exp(1.5 - df["x"]))).astype(int)
    >>> df["y"] = (rng.random(600) < 0.3 + 0.3 * df["t"]).astype(int)
    >>> from pfseval.designs.psm import match
    >>> m = match(df, treatment="t", covariates=["x"], id_col="id")
    >>> t_only, c_only = discordant_pairs(m, outcome="y")
    >>> bool(t_only > c_only), mcnemar_bounds(t_only, c_only).critical_gamma is not None
    (True, True)
    """
    d = pair_differences(matched, outcome=outcome)
    if not np.isin(d, (-1.0, 0.0, 1.0)).all():
        raise DesignError(
            f"{outcome!r} is not a 0/1 outcome (pair differences other than −1, 0, 1). Fix: "
            "use signed_rank_bounds for a continuous outcome."
        )
    return int((d == 1).sum()), int((d == -1).sum())
