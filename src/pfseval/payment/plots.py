"""Payment curve: the amount a component pays against its indicator value."""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from pfseval.payment.contract import Contract
from pfseval.payment.schedules import fmt_amount
from pfseval.result import Estimate

if TYPE_CHECKING:
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure

__all__ = ["payment_curve"]


def payment_curve(
    contract: Contract,
    component: int | str,
    *,
    estimate: Estimate | float | None = None,
    ax: Axes | None = None,
) -> Figure:
    """Plot a component's payment (after caps and rounding) against its indicator value.

    Parameters
    ----------
    contract
        The contract.
    component
        Component position, label or indicator id.
    estimate
        Optional estimate of the indicator: its point estimate is marked with the payment it
        earns, and its confidence interval is shaded with the payments at both limits.
    ax
        Axes to draw on; a new figure is made when omitted.

    Returns
    -------
    matplotlib.figure.Figure

    Examples
    --------
    >>> import matplotlib
    >>> matplotlib.use("Agg")
    >>> c = Contract.from_dict({"contract": {"name": "例", "unit": "千円", "rounding": "floor",
    ...     "component": [{"indicator": "rate", "label": "率", "allocation": 1000,
    ...                    "schedule": {"type": "proportional", "target": 0.8}}]}})
    >>> fig = payment_curve(c, "rate", estimate=Estimate(estimand="p", value=0.5,
    ...                     conf_low=0.4, conf_high=0.6))
    >>> len(fig.axes)
    1
    """
    import matplotlib.pyplot as plt
    import matplotlib_fontja  # noqa: F401  (registers a Japanese font for labels)

    j = contract.component_index(component)
    comp = contract.components[j]
    knots = list(comp.schedule.knots())
    marks: list[float] = []
    if isinstance(estimate, Estimate):
        marks = [estimate.conf_low, estimate.value, estimate.conf_high]
    elif estimate is not None:
        marks = [float(estimate)]
    pts = [v for v in knots + marks if np.isfinite(v)]
    lo, hi = min([0.0, *pts]), max(pts) if pts else 1.0
    span = hi - lo if hi > lo else 1.0
    lo, hi = (lo - 0.05 * span if lo < 0 else lo), hi + 0.25 * span
    grid = np.linspace(lo, hi, 1201)
    eps = 1e-9 * span
    grid = np.unique(np.concatenate([grid, np.array(knots) - eps, np.array(knots)]))

    def pay(x: np.ndarray) -> np.ndarray:
        return comp.amounts(x, rounding=contract.rounding, rounding_unit=contract.rounding_unit)[2]

    if ax is None:
        fig, ax = plt.subplots(figsize=(6.4, 4.0))
    else:
        fig = ax.figure  # type: ignore[assignment]
    ax.plot(grid, pay(grid), color="C0", lw=2, label=comp.label)
    if comp.upper is not None:
        ax.axhline(comp.upper, color="grey", lw=0.8, ls=":", label=f"上限 {fmt_amount(comp.upper)}")
    fv = comp.schedule.full_value()
    if fv is not None:
        ax.axvline(fv, color="grey", lw=0.8, ls="--", label=f"目標・上限値 {fmt_amount(fv)}")
    if isinstance(estimate, Estimate):
        level = f"{estimate.level:.0%}"
        ax.axvspan(
            estimate.conf_low, estimate.conf_high, color="C1", alpha=0.15, label=f"{level} 信頼区間"
        )
        bounds = np.array([estimate.conf_low, estimate.conf_high])
        ax.plot(bounds, pay(bounds), "o", mfc="white", color="C1")
    if marks:
        x0 = marks[len(marks) // 2]
        y0 = float(pay(np.array([x0]))[0])
        ax.plot([x0], [y0], "o", color="C1", label=f"推定値 {fmt_amount(x0)} → {fmt_amount(y0)}")
    ax.set_xlabel(f"{comp.label}（{comp.indicator}）")
    ax.set_ylabel(f"支払額（{contract.unit}）")
    ax.set_title(f"{contract.name}: {comp.label}")
    ax.legend(loc="best", fontsize="small")
    ax.grid(alpha=0.3)
    return fig  # type: ignore[return-value]
