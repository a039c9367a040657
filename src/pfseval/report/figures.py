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
    "estimates_plot",
    "love_plot",
    "overlap_axis_label",
    "overlap_plot",
    "payment_plot",
    "render",
    "trend_plot",
]

F = TypeVar("F", bound=Callable[..., Any])

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
    fig = _figure(6.0, 0.35 * len(var) + 1.2)
    ax = fig.subplots()
    y = np.arange(len(var))[::-1]
    ja = lang == "ja"
    ax.scatter(
        before,
        y,
        marker="o",
        facecolors="none",
        edgecolors="#888888",
        label="マッチング前" if ja else "before matching",
    )
    ax.scatter(
        after, y, marker="o", color="#1f4e79", label="マッチング後" if ja else "after matching"
    )
    ax.axvline(threshold, color="#c00000", linestyle="--", linewidth=0.8)
    ax.set_yticks(y, var)
    ax.set_xlabel("標準化平均差の絶対値" if ja else "absolute standardised mean difference")
    ax.legend(frameon=False, loc="lower right")
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
    fig = _figure(6.0, 2.8)
    ax = fig.subplots()
    x = np.asarray(overlap["x"], dtype=float)
    for key, colour, words in (
        ("treated", "#1f4e79", ("参加者", "participants")),
        ("control", "#888888", ("非参加者", "non-participants")),
    ):
        y = overlap.get(key)
        if y is not None:
            ax.plot(x, np.asarray(y, dtype=float), color=colour, label=words[0] if ja else words[1])
    ax.set_xlabel(overlap_axis_label(link, lang=lang))
    ax.set_ylabel("密度" if ja else "density")
    ax.legend(frameon=False)
    return fig


@_with_rc
def estimates_plot(rows: Sequence[Mapping[str, Any]], *, lang: str = "ja") -> Figure:
    """Each indicator's estimate and CI, with its target and no-effect reference if any.

    ``rows``: dicts with ``label, value, conf_low, conf_high`` and optional ``target``,
    ``reference``.
    """
    ja = lang == "ja"
    fig = _figure(6.5, 0.6 * len(rows) + 1.2)
    ax = fig.subplots()
    y = np.arange(len(rows))[::-1]
    for yi, r in zip(y, rows, strict=True):
        ax.errorbar(
            r["value"],
            yi,
            xerr=[[r["value"] - r["conf_low"]], [r["conf_high"] - r["value"]]],
            fmt="o",
            color="#1f4e79",
            capsize=3,
        )
        if r.get("target") is not None:
            ax.plot([r["target"]] * 2, [yi - 0.3, yi + 0.3], color="#c00000", linewidth=1.5)
        if r.get("reference") is not None:
            ax.plot(
                [r["reference"]] * 2,
                [yi - 0.3, yi + 0.3],
                color="#888888",
                linestyle=":",
                linewidth=1.5,
            )
    ax.set_yticks(y, [str(r["label"]) for r in rows])
    ax.set_xlabel(
        "推定値と信頼区間（赤: 目標値、灰点線: 効果なしの参照値）"
        if ja
        else "estimate and CI (red: target, grey dotted: no-effect reference)",
    )
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
    fig = _figure(6.5, 0.5 * len(components) + 1.5)
    ax = fig.subplots()
    names = {
        "point": ("点推定値", "point estimate"),
        "conf_low": ("信頼区間下限", "lower CI limit"),
        "conf_high": ("信頼区間上限", "upper CI limit"),
    }
    colours = {"point": "#1f4e79", "conf_low": "#9dc3e6", "conf_high": "#5b9bd5"}
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
    ax.legend(frameon=False, loc="lower right")
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
    fig = _figure(6.0, 2.8)
    ax = fig.subplots()
    ax.plot(
        list(years), list(values), marker="o", color="#1f4e79", label="実績" if ja else "observed"
    )
    if evaluation_year is not None and expected is not None:
        v, lo, hi = expected
        ax.errorbar(
            [evaluation_year],
            [v],
            yerr=[[v - lo], [hi - v]],
            fmt="s",
            color="#888888",
            capsize=3,
            label="見込み値（事業なし）" if ja else "expected without programme",
        )
    ax.set_xlabel("年度" if ja else "fiscal year")
    if ylabel:
        ax.set_ylabel(ylabel)
    ax.legend(frameon=False)
    return fig
