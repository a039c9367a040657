"""Balance and overlap plots for a matched sample (matplotlib Figures; nothing is shown or saved)."""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

if TYPE_CHECKING:
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure

    from pfseval.designs.psm.matching import MatchedSample

__all__ = ["love_plot", "overlap_plot"]


def _axes(ax: Axes | None, size: tuple[float, float]) -> tuple[Figure, Axes]:
    from matplotlib.figure import Figure

    if ax is not None:
        fig = ax.get_figure()
        assert fig is not None
        return fig, ax  # type: ignore[return-value]
    fig = Figure(figsize=size, layout="constrained")
    return fig, fig.add_subplot()


def love_plot(
    balance: pd.DataFrame,
    *,
    threshold: float = 0.1,
    absolute: bool = True,
    ax: Axes | None = None,
) -> Figure:
    """Love plot: standardised mean difference of each variable before and after matching.

    Parameters
    ----------
    balance
        A balance table with ``variable, smd_before, smd_after`` (``MatchedSample.balance``).
    threshold
        Reference lines at ``±threshold`` (0.1 by convention); variables whose SMD after
        matching exceeds it are drawn as red crosses.
    absolute
        Plot ``|SMD|``.
    ax
        Axes to draw on; a new Figure is made when omitted.

    Returns
    -------
    matplotlib.figure.Figure

    Examples
    --------
    >>> tab = pd.DataFrame({"variable": ["age", "sbp"], "smd_before": [0.5, -0.3],
    ...                     "smd_after": [0.05, 0.02]})
    >>> fig = love_plot(tab)
    >>> fig.axes[0].get_xlabel()
    'absolute standardised mean difference'
    >>> flagged = love_plot(tab, threshold=0.03)  # age is over 0.03 after matching
    >>> [t.get_text() for t in flagged.axes[0].get_legend().get_texts()]
    ['before', 'after matching', 'after, over 0.03']
    """
    fig, ax_ = _axes(ax, (6.0, 0.35 * len(balance) + 1.5))
    b = balance.iloc[::-1]
    before = b["smd_before"].to_numpy(dtype=float)
    after = b["smd_after"].to_numpy(dtype=float)
    if absolute:
        before, after = np.abs(before), np.abs(after)
    yy = np.arange(len(b))
    ax_.scatter(before, yy, marker="o", facecolors="none", edgecolors="tab:gray", label="before")
    # cobalt-style flag: points beyond the threshold after matching stand out
    over = np.abs(b["smd_after"].to_numpy(dtype=float)) > threshold
    ax_.scatter(after[~over], yy[~over], marker="o", color="tab:blue", label="after matching")
    if over.any():
        ax_.scatter(
            after[over], yy[over], marker="X", color="tab:red", label=f"after, over {threshold:g}"
        )
    for x in (threshold,) if absolute else (-threshold, threshold):
        ax_.axvline(x, color="tab:red", linestyle="--", linewidth=0.8)
    ax_.axvline(0, color="black", linewidth=0.6)
    ax_.set_yticks(yy, [str(v) for v in b["variable"]])
    ax_.set_xlabel(("absolute " if absolute else "") + "standardised mean difference")
    ax_.legend(loc="lower right", fontsize="small")
    return fig


def overlap_plot(matched: MatchedSample, *, bins: int = 30, ax: Axes | None = None) -> Figure:
    """Histograms of the matching distance by group: all units (outline) and matched (filled).

    Parameters
    ----------
    matched
        A :class:`~pfseval.designs.psm.matching.MatchedSample`.
    bins
        Number of histogram bins.
    ax
        Axes to draw on; a new Figure is made when omitted.

    Returns
    -------
    matplotlib.figure.Figure
    """
    fig, ax_ = _axes(ax, (6.0, 4.0))
    d = matched.distance.to_numpy()
    t = matched.data[matched.treatment].to_numpy() == 1
    w = matched.weights.to_numpy()
    edges = np.histogram_bin_edges(d, bins=bins).tolist()
    for mask, color, name in ((t, "tab:orange", "treated"), (~t, "tab:blue", "control")):
        ax_.hist(
            d[mask], bins=edges, density=True, histtype="step", color=color, label=f"{name}, all"
        )
        ax_.hist(
            d[mask],
            bins=edges,
            weights=w[mask],
            density=True,
            alpha=0.35,
            color=color,
            label=f"{name}, matched",
        )
    ax_.set_xlabel(
        "propensity score" if matched.link in ("logit", "probit") else "linear predictor"
    )
    ax_.set_ylabel("density")
    ax_.legend(fontsize="small")
    return fig
