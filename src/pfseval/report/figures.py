"""Appendix figures, drawn from aggregated data only (no individual points, no small bins).

Every function returns a matplotlib :class:`~matplotlib.figure.Figure` built with the IPAex
Japanese font (from ``matplotlib-fontja``); :func:`render` turns a figure into PNG and SVG
bytes (SVG text is converted to paths, so it renders without the font installed).
"""

from __future__ import annotations

import functools
import io
from collections.abc import Callable, Mapping, Sequence
from typing import Any, TypeVar

import numpy as np
import pandas as pd
from matplotlib.figure import Figure

from pfseval.report.fonts import register_font

__all__ = [
    "OKABE_ITO",
    "estimates_plot",
    "groups_plot",
    "love_plot",
    "overlap_axis_label",
    "overlap_plot",
    "payment_plot",
    "render",
    "trend_plot",
]

F = TypeVar("F", bound=Callable[..., Any])

#: The Okabe–Ito palette, distinguishable with every common colour-vision deficiency; each
#: role keeps its colour in every figure (estimates blue, targets vermillion, references
#: grey-black, the other series orange / sky blue).
OKABE_ITO = {
    "black": "#000000",
    "orange": "#E69F00",
    "sky": "#56B4E9",
    "green": "#009E73",
    "yellow": "#F0E442",
    "blue": "#0072B2",
    "vermillion": "#D55E00",
    "purple": "#CC79A7",
    "grey": "#7F7F7F",
}
_C = OKABE_ITO


def _legend_below(fig: Figure, ax: Any, ncols: int | None = None) -> None:
    """The legend under the plot, outside the data area (it never covers a point)."""
    handles, labels = ax.get_legend_handles_labels()
    if handles:
        fig.legend(
            handles,
            labels,
            loc="outside lower center",
            ncols=ncols or min(len(handles), 4),
            frameon=False,
        )


_RC: dict[str, Any] = {
    "svg.fonttype": "path",
    "svg.hashsalt": "pfseval",
    "font.size": 9,
    "axes.spines.top": False,
    "axes.spines.right": False,
}


def _rc() -> Any:
    """Local matplotlib settings (Japanese font, reproducible SVG); nothing global changes."""
    import matplotlib

    rc: Any = {**_RC, "font.family": register_font()}
    return matplotlib.rc_context(rc)


def _with_rc(fn: F) -> F:
    @functools.wraps(fn)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        with _rc():
            return fn(*args, **kwargs)

    return wrapper  # type: ignore[return-value]


def _figure(width: float, height: float) -> Figure:
    fig = Figure(figsize=(width, height), dpi=110, layout="constrained")
    fig.set_facecolor("white")
    return fig


def render(fig: Figure) -> tuple[bytes, bytes]:
    """PNG (150 dpi) and SVG bytes of a figure, byte-for-byte reproducible.

    Examples
    --------
    >>> png, svg = render(love_plot(pd.DataFrame(
    ...     {"variable": ["age"], "smd_before": [0.3], "smd_after": [0.02]}), lang="en"))
    >>> png[:4] == b"\\x89PNG" and b"<svg" in svg
    True
    """
    with _rc():
        png = io.BytesIO()
        fig.savefig(png, format="png", dpi=150, metadata={"Software": None})
        svg = io.BytesIO()
        fig.savefig(svg, format="svg", metadata={"Date": None, "Creator": None})
    return png.getvalue(), svg.getvalue()


@_with_rc
def love_plot(balance: pd.DataFrame, *, lang: str = "ja", threshold: float = 0.1) -> Figure:
    """Absolute standardised mean differences before and after matching, per covariate."""
    var = balance["variable"].astype(str).tolist()
    before = np.abs(pd.to_numeric(balance["smd_before"], errors="coerce").to_numpy(dtype=float))
    after = np.abs(pd.to_numeric(balance["smd_after"], errors="coerce").to_numpy(dtype=float))
    fig = _figure(5.2, 0.27 * len(var) + 1.4)
    ax = fig.subplots()
    y = np.arange(len(var))[::-1]
    ja = lang == "ja"
    ax.scatter(
        before,
        y,
        marker="o",
        facecolors="none",
        edgecolors=_C["orange"],
        label="マッチング前" if ja else "before matching",
    )
    ax.scatter(
        after, y, marker="o", color=_C["blue"], label="マッチング後" if ja else "after matching"
    )
    ax.axvline(
        threshold,
        color=_C["vermillion"],
        linestyle="--",
        linewidth=0.8,
        label=(f"目安 {threshold:g}" if ja else f"rule of thumb {threshold:g}"),
    )
    ax.set_yticks(y, var)
    ax.set_xlabel("標準化平均差（SMD）の絶対値" if ja else "absolute standardised mean difference")
    _legend_below(fig, ax)
    return fig


def overlap_axis_label(link: str, *, lang: str = "ja") -> str:
    """The x-axis label of the overlap plot for a matching link.

    Examples
    --------
    >>> overlap_axis_label("linear.logit", lang="en"), overlap_axis_label("logit", lang="ja")
    ('logit of the propensity score (linear predictor)', '傾向スコア')
    """
    ja = lang == "ja"
    if link == "linear.logit":
        return (
            "傾向スコアのロジット（線形予測子）"
            if ja
            else "logit of the propensity score (linear predictor)"
        )
    if link == "linear.probit":
        return "プロビットの線形予測子" if ja else "probit linear predictor"
    return "傾向スコア" if ja else "propensity score"


@_with_rc
def overlap_plot(overlap: Mapping[str, Any], *, lang: str = "ja", link: str = "logit") -> Figure:
    """Density curves of the matching distance for participants and non-participants.

    ``link`` is the matching link: with ``"linear.logit"`` / ``"linear.probit"`` the
    distance is the linear predictor, and the axis says so.
    """
    ja = lang == "ja"
    fig = _figure(6.0, 3.1)
    ax = fig.subplots()
    x = np.asarray(overlap["x"], dtype=float)
    for key, colour, words in (
        ("treated", _C["blue"], ("参加者", "participants")),
        ("control", _C["orange"], ("非参加者", "non-participants")),
    ):
        y = overlap.get(key)
        if y is not None:
            ax.plot(x, np.asarray(y, dtype=float), color=colour, label=words[0] if ja else words[1])
    ax.set_xlabel(overlap_axis_label(link, lang=lang))
    ax.set_ylabel("密度" if ja else "density")
    _legend_below(fig, ax)
    return fig


_PANEL_TITLES = {
    "percent": ("割合（%）", "rates (%)"),
    "points": ("率の差（ポイント）", "differences of rates (percentage points)"),
    "people": ("人数", "people"),
    "number": ("その他の値", "other values"),
}


#: The forest plot's vertical marks per row: key, line style, (ja, en) legend words.
_FOREST_MARKS: tuple[tuple[str, dict[str, Any], tuple[str, str]], ...] = (
    ("target", {"color": _C["vermillion"], "linewidth": 2}, ("目標値", "target")),
    (
        "reference",
        {"color": _C["black"], "linestyle": ":", "linewidth": 1.5},
        ("効果なしの参照値", "no-effect reference"),
    ),
)


@_with_rc
def estimates_plot(rows: Sequence[Mapping[str, Any]], *, lang: str = "ja") -> Figure:
    """Each indicator's estimate and CI, with its target and no-effect reference if any.

    ``rows``: dicts with ``label, value, conf_low, conf_high`` and optional ``target``,
    ``reference`` and ``kind`` (``"percent"``, ``"points"``, ``"people"``, ``"number"``).
    Each kind gets its own panel and scale: a rate's interval is never squeezed next to a
    count of hundreds of people. Rates and differences of rates are drawn in percent.

    Examples
    --------
    >>> fig = estimates_plot([
    ...     {"label": "a", "value": 0.5, "conf_low": 0.4, "conf_high": 0.6, "kind": "percent"},
    ...     {"label": "b", "value": 287, "conf_low": -66, "conf_high": 640, "kind": "people"}])
    >>> len(fig.axes)
    2
    """
    ja = lang == "ja"
    kinds = [k for k in _PANEL_TITLES if any(r.get("kind", "number") == k for r in rows)]
    groups = [[r for r in rows if r.get("kind", "number") == k] for k in kinds]
    heights = [0.55 * len(g) + 0.7 for g in groups]
    fig = _figure(6.5, sum(heights) + 0.8)
    axes = fig.subplots(len(kinds), 1, squeeze=False, height_ratios=heights)[:, 0]
    seen: set[str] = set()
    for ax, kind, group in zip(axes, kinds, groups, strict=True):
        scale = 100.0 if kind in ("percent", "points") else 1.0
        y = np.arange(len(group))[::-1]
        for yi, r in zip(y, group, strict=True):
            v, lo, hi = (scale * float(r[k]) for k in ("value", "conf_low", "conf_high"))
            ax.errorbar(
                v,
                yi,
                # a limit a rounding error past the value (1 − 2e-16 against 1.0) is not a
                # negative error bar
                xerr=[[max(v - lo, 0.0)], [max(hi - v, 0.0)]],
                fmt="o",
                color=_C["blue"],
                capsize=3,
                label=None if "est" in seen else ("推定値と信頼区間" if ja else "estimate and CI"),
            )
            seen.add("est")
            for key, style, words in _FOREST_MARKS:
                if r.get(key) is not None:
                    ax.plot(
                        [scale * r[key]] * 2,
                        [yi - 0.3, yi + 0.3],
                        label=None if key in seen else words[0 if ja else 1],
                        **style,
                    )
                    seen.add(key)
        if kind in ("points", "people", "number"):
            ax.axvline(0, color=_C["grey"], linewidth=0.6)
        ax.set_yticks(y, [str(r["label"]) for r in group])
        ax.set_ylim(-0.6, len(group) - 0.4)
        ax.set_xlabel(_PANEL_TITLES[kind][0 if ja else 1])
    handles, labels = [], []
    for ax in axes:
        h, lab = ax.get_legend_handles_labels()
        handles += h
        labels += lab
    if handles:
        fig.legend(handles, labels, loc="outside lower center", ncols=len(handles), frameon=False)
    return fig


@_with_rc
def payment_plot(
    components: Sequence[str],
    amounts: Mapping[str, Sequence[float]],
    *,
    unit: str,
    lang: str = "ja",
) -> Figure:
    """Payment per component at the point estimate and at the CI bounds (grouped bars)."""
    ja = lang == "ja"
    fig = _figure(6.5, 0.5 * len(components) + 1.9)
    ax = fig.subplots()
    names = {
        "point": ("点推定値", "point estimate"),
        "conf_low": ("信頼区間下限", "lower CI limit"),
        "conf_high": ("信頼区間上限", "upper CI limit"),
    }
    colours = {"point": _C["blue"], "conf_low": _C["sky"], "conf_high": _C["orange"]}
    y = np.arange(len(components))[::-1]
    h = 0.25
    for k, (basis, vals) in enumerate(amounts.items()):
        ax.barh(
            y + (1 - k) * h,
            vals,
            height=h,
            color=colours.get(basis, "#888888"),
            label=names.get(basis, (basis, basis))[0 if ja else 1],
        )
    ax.set_yticks(y, list(components))
    ax.set_xlabel(f"支払額（{unit}）" if ja else f"payment ({unit})")
    _legend_below(fig, ax)
    return fig


@_with_rc
def trend_plot(
    years: Sequence[float],
    values: Sequence[float],
    *,
    evaluation_year: float | None = None,
    expected: tuple[float, float, float] | None = None,
    lang: str = "ja",
    ylabel: str = "",
) -> Figure:
    """A yearly aggregate series with the expected value for the evaluation year (and CI)."""
    ja = lang == "ja"
    fig = _figure(6.0, 3.1)
    ax = fig.subplots()
    ax.plot(
        list(years), list(values), marker="o", color=_C["blue"], label="実績" if ja else "observed"
    )
    if evaluation_year is not None and expected is not None:
        v, lo, hi = expected
        ax.errorbar(
            [evaluation_year],
            [v],
            yerr=[[max(v - lo, 0.0)], [max(hi - v, 0.0)]],
            fmt="s",
            color=_C["orange"],
            capsize=3,
            label="見込み値（事業なし）と信頼区間" if ja else "expected without programme, with CI",
        )
    ax.set_xlabel("年度" if ja else "fiscal year")
    if ylabel:
        ax.set_ylabel(ylabel)
    if all(0 <= float(v) <= 1 for v in values):  # rates: the axis in percent
        from matplotlib.ticker import PercentFormatter

        ax.yaxis.set_major_formatter(PercentFormatter(xmax=1, decimals=0, symbol=""))
    _legend_below(fig, ax)
    return fig


@_with_rc
def groups_plot(table: pd.DataFrame, **kw: Any) -> Figure:
    """Each group's value and interval (:func:`pfseval.scale.groups.plot_groups`, its words
    from the message catalogue) with the appendix's fonts."""
    from pfseval.scale.groups import plot_groups

    return plot_groups(table, **kw)
