"""Each payment component's schedule, as a table and as a payment curve.

A reader of the appendix should be able to check a tier without the contract: the table
lists what the schedule pays for which indicator values (from the contract's schedule, the
same object the payment engine applied), and the curve draws the amount paid (after the
component's caps and the contract's rounding) against the indicator value, with the
observed value and its confidence interval marked.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
import pandas as pd
from matplotlib.figure import Figure

from pfseval.report.figures import OKABE_ITO, _figure, _legend_below, _with_rc

__all__ = ["payment_curve_plot", "schedule_frame"]

_W = {
    "ja": {
        "value": "指標値",
        "amount": "支払額（{unit}）",
        "at_least": "{x}以上",
        "below": "{x}未満",
        "at_most": "{x}以下",
        "above": "{x}超",
        "between": "{a}以上{b}未満",
        "between_low": "{b}以下{a}超",
        "prop": "指標値 ÷ 目標値 {t} × 配分額 {a}",
        "prop_low": "目標値 {t} ÷ 指標値 × 配分額 {a}",
        "band": "配分額の {r}（{a}）",
        "unit_amount": "1単位あたり",
        "max_units": "上限単位数",
        "min_units": "下限単位数（未満は支払なし）",
        "reference": "基準値（単位数 = 指標値 − 基準値）",
        "reference_low": "基準値（単位数 = 基準値 − 指標値）",
        "whole": "端数の単位",
        "whole_yes": "切り捨て（1単位未満は支払わない）",
        "interp": "{x}（点の間は直線で補間）",
        "below_first": "最初の点より下",
        "cap": "支払項目の上限",
        "estimate": "推定値 {v} → {p}",
        "ci": "{level} 信頼区間（両端の支払額: {lo}、{hi}）",
    },
    "en": {
        "value": "Indicator value",
        "amount": "Payment ({unit})",
        "at_least": "{x} or more",
        "below": "below {x}",
        "at_most": "{x} or less",
        "above": "above {x}",
        "between": "{a} to below {b}",
        "between_low": "above {a} to {b}",
        "prop": "value ÷ target {t} × allocation {a}",
        "prop_low": "target {t} ÷ value × allocation {a}",
        "band": "{r} of the allocation ({a})",
        "unit_amount": "per unit",
        "max_units": "maximum units",
        "min_units": "minimum units (nothing paid below)",
        "reference": "reference (units = value − reference)",
        "reference_low": "reference (units = reference − value)",
        "whole": "part units",
        "whole_yes": "rounded down (no payment for part of a unit)",
        "interp": "{x} (straight line between points)",
        "below_first": "below the first point",
        "cap": "component cap",
        "estimate": "estimate {v} → {p}",
        "ci": "{level} CI (payment at its limits: {lo}, {hi})",
    },
}


def _money(x: float) -> str:
    return f"{x:,.0f}" if float(x).is_integer() else f"{x:,.2f}"


def schedule_frame(comp: Any, *, unit: str, lang: str, fmt: Callable[[float], str]) -> pd.DataFrame:
    """A component's schedule as rows (indicator values → what is paid).

    ``comp`` is a :class:`pfseval.payment.contract.Component`; ``fmt`` writes an indicator
    value as the appendix does (``80.0%``).

    Examples
    --------
    >>> from pfseval.payment import Contract
    >>> c = Contract.from_dict({"contract": {"name": "例", "unit": "千円", "rounding": "floor",
    ...     "component": [
    ...     {"indicator": "r", "label": "率", "allocation": 900, "schedule": {
    ...      "type": "step", "steps": [[0.02, 300], [0.04, 900]]}}]}})
    >>> f = schedule_frame(c.components[0], unit="千円", lang="ja", fmt=lambda x: f"{100 * x:.1f}%")
    >>> f.to_numpy().tolist()
    [['2.0%未満', '0'], ['2.0%以上4.0%未満', '300'], ['4.0%以上', '900']]
    """
    w = _W[lang]
    d = comp.schedule.to_dict()
    low = comp.direction == "lower"
    alloc = comp.allocation
    rows: list[tuple[str, str]] = []

    def table(pairs: list[tuple[float, str]], first: str = "0") -> None:
        # rows reached from the first threshold on; below it nothing (or ``first``) is paid
        xs = [float(x) for x, _ in pairs]
        if low:
            rows.append((w["above"].format(x=fmt(xs[0])), first))
            for i, (x, pay) in enumerate(pairs):
                if i + 1 < len(pairs):
                    rows.append((w["between_low"].format(a=fmt(xs[i + 1]), b=fmt(x)), pay))
                else:
                    rows.append((w["at_most"].format(x=fmt(x)), pay))
        else:
            rows.append((w["below"].format(x=fmt(xs[0])), first))
            for i, (x, pay) in enumerate(pairs):
                if i + 1 < len(pairs):
                    rows.append((w["between"].format(a=fmt(x), b=fmt(xs[i + 1])), pay))
                else:
                    rows.append((w["at_least"].format(x=fmt(x)), pay))

    kind = d["type"]
    if kind == "proportional":
        t, a = fmt(d["target"]), _money(alloc or 0)
        if "lower" in d:
            edge = w["above" if low else "below"].format(x=fmt(d["lower"]))
            rows.append((edge, "0"))
        rows.append((w["at_most" if low else "at_least"].format(x=t), a))
        other = w["above" if low else "below"].format(x=t)
        rows.append((other, w["prop_low" if low else "prop"].format(t=t, a=a)))
    elif kind == "step":
        table([(x, _money(a)) for x, a in d["steps"]])
    elif kind == "band":
        table(
            [
                (x, w["band"].format(r=f"{100 * r:g}%", a=_money(r * (alloc or 0))))
                for x, r in d["bands"]
            ]
        )
    elif kind == "pass_fail":
        table([(d["threshold"], _money(alloc or 0))])
    elif kind == "interpolate":
        rows.append((w["below_first"], _money(d.get("below", 0))))
        rows += [(w["interp"].format(x=fmt(x)), _money(a)) for x, a in d["points"]]
    elif kind == "per_unit":
        rows.append((w["unit_amount"], _money(d["unit_amount"])))
        if "reference" in d:
            rows.append((w["reference_low" if low else "reference"], fmt(d["reference"])))
        if "max_units" in d:
            rows.append((w["max_units"], f"{d['max_units']:,}"))
        if "min_units" in d:
            rows.append((w["min_units"], f"{d['min_units']:,}"))
        if d.get("whole_units"):
            rows.append((w["whole"], w["whole_yes"]))
    if comp.cap is not None:
        rows.append((w["cap"], _money(comp.cap)))
    return pd.DataFrame(rows, columns=[w["value"], w["amount"].format(unit=unit)])


@_with_rc
def payment_curve_plot(
    comp: Any,
    *,
    rounding: str,
    rounding_unit: float,
    unit: str,
    xlabel: str,
    lang: str,
    percent: bool,
    value: float | None,
    conf_low: float | None = None,
    conf_high: float | None = None,
    level: float = 0.95,
    fmt: Callable[[float], str] = str,
) -> Figure:
    """The amount a component pays (after its caps and the contract's rounding) against the
    indicator value, with the observed value and its confidence interval marked.

    Examples
    --------
    >>> from pfseval.payment import Contract
    >>> c = Contract.from_dict({"contract": {"name": "例", "unit": "千円", "rounding": "floor",
    ...     "component": [
    ...     {"indicator": "r", "label": "率", "allocation": 1000,
    ...      "schedule": {"type": "proportional", "target": 0.8}}]}})
    >>> fig = payment_curve_plot(c.components[0], rounding="floor", rounding_unit=1,
    ...     unit="千円", xlabel="率", lang="ja", percent=True, value=0.7,
    ...     conf_low=0.6, conf_high=0.85)
    >>> len(fig.axes)
    1
    """
    w = _W[lang]
    knots = [float(k) for k in comp.schedule.knots() if np.isfinite(k)]
    marks = [float(v) for v in (conf_low, value, conf_high) if v is not None and np.isfinite(v)]
    pts = knots + marks
    lo, hi = (min([0.0, *pts]), max(pts)) if pts else (0.0, 1.0)
    span = hi - lo if hi > lo else 1.0
    lo, hi = (lo - 0.05 * span if lo < 0 else lo), hi + 0.15 * span
    eps = 1e-9 * span
    grid = np.unique(
        np.concatenate([np.linspace(lo, hi, 801), np.array(knots) - eps, np.array(knots)])
    )
    grid = grid[(grid >= lo) & (grid <= hi)]

    def pay(x: Any) -> np.ndarray:
        arr = np.asarray(x, dtype=float)
        return comp.amounts(arr, rounding=rounding, rounding_unit=rounding_unit)[2]

    scale = 100.0 if percent else 1.0
    fig = _figure(5.0, 2.9)
    ax = fig.subplots()
    ax.plot(scale * grid, pay(grid), color=OKABE_ITO["blue"], lw=2, label=comp.label)
    if conf_low is not None and conf_high is not None and np.isfinite([conf_low, conf_high]).all():
        b = np.array([conf_low, conf_high], dtype=float)
        pb = pay(b)
        ax.axvspan(
            scale * conf_low,
            scale * conf_high,
            color=OKABE_ITO["sky"],
            alpha=0.25,
            lw=0,
            label=w["ci"].format(level=f"{level:.0%}", lo=_money(pb[0]), hi=_money(pb[1])),
        )
        ax.plot(scale * b, pb, "o", mfc="white", color=OKABE_ITO["orange"])
    if value is not None and np.isfinite(value):
        pv = float(pay([value])[0])
        ax.plot(
            [scale * value],
            [pv],
            "o",
            color=OKABE_ITO["vermillion"],
            label=w["estimate"].format(v=fmt(value), p=f"{_money(pv)} {unit}"),
        )
    ax.set_xlabel(xlabel + ("（%）" if percent and lang == "ja" else " (%)" if percent else ""))
    ax.set_ylabel(w["amount"].format(unit=unit))
    ax.grid(alpha=0.3)
    _legend_below(fig, ax, ncols=1)
    return fig
