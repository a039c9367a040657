"""CONSORT-style flow diagram of a data source and its cohort tree (boxes and arrows).

The diagram is drawn from text only: every count in it is the string the disclosure ledger
publishes for that cell (``CountLedger.show``), handed in by :mod:`pfseval.report.document`,
so a suppressed count is suppressed in the figure exactly as in the tables. Nothing here
sees a raw number.

Layout: the data source on top, each cohort one level below its parent (children of one
cohort side by side), an arrow from parent to child, and beside each arrow a box with the
exclusions of that step, each with its reason and count.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass, field

from matplotlib.figure import Figure

from pfseval.report.figures import OKABE_ITO, _with_rc

__all__ = ["FlowNode", "flow_diagram"]


@dataclass(frozen=True)
class FlowNode:
    """One box: a data source (``parent`` None) or a cohort, with the exclusions on the
    arrow from its parent: ``(reason, count text)`` pairs. Counts are published text."""

    id: str
    parent: str | None
    title: str
    count: str
    exclusions: tuple[tuple[str, str], ...] = field(default_factory=tuple)


_WRAP_NODE = 36  # half-width columns per line in a cohort box
_WRAP_EXCL = 54  # half-width columns per line of an exclusion reason
_LINE = 0.17  # inches per text line at 8 pt
_COL_IN = 0.058  # inches per half-width column at 8 pt


def _cols(ch: str) -> int:
    return 2 if unicodedata.east_asian_width(ch) in ("W", "F", "A") else 1


def _wrap(text: str, width: int) -> list[str]:
    """Lines of at most ``width`` half-width columns (a Japanese character takes two), broken
    at a space when an English line allows it.

    Examples
    --------
    >>> _wrap("特定健診（2016年度・2019年度）", 20)
    ['特定健診（2016年度・', '2019年度）']
    """
    lines: list[str] = []
    line, used = "", 0
    for ch in text:
        w = _cols(ch)
        if used + w > width and line:
            cut = line.rfind(" ")
            if ch != " " and cut > width // 2 and line.isascii():
                lines.append(line[:cut])
                line = line[cut + 1 :]
                used = len(line)
            else:
                lines.append(line)
                line, used = "", 0
            if ch == " " and not line:
                continue
        line += ch
        used += w
    lines.append(line)
    return lines


def _item(reason: str, count: str, width: int) -> list[str]:
    """One exclusion as wrapped lines; its count is never split across lines.

    Examples
    --------
    >>> _item("no follow-up record", "n = 11,820", 24)
    ['・no follow-up record', '  (n = 11,820)']
    """
    tail = f"（{count}）" if not reason.isascii() else f" ({count})"
    lines = _wrap(f"・{reason}", width)
    if sum(_cols(ch) for ch in lines[-1] + tail) <= width:
        lines[-1] += tail
    else:
        lines.append("  " + tail.strip())
    return lines


def _leaves(nodes: Sequence[FlowNode]) -> dict[str, list[str]]:
    children: dict[str, list[str]] = {n.id: [] for n in nodes}
    for n in nodes:
        if n.parent is not None:
            children[n.parent].append(n.id)
    return children


@_with_rc
def flow_diagram(
    nodes: Sequence[FlowNode],
    *,
    excluded_word: str,
    width: float = 6.6,
) -> Figure:
    """Draw the flow of one data source and its cohorts.

    Parameters
    ----------
    nodes
        The data source first, then cohorts, each after its parent.
    excluded_word
        The heading of an exclusion box (除外 / Excluded).
    width
        Figure width in inches.

    Examples
    --------
    >>> fig = flow_diagram([
    ...     FlowNode("src", None, "健診データ", "13,463人"),
    ...     FlowNode("pool", "src", "対象候補者", "555人", (("糖尿病の所見なし", "11,820人"),)),
    ...     FlowNode("p", "pool", "参加者", "*", (("参加者ではない", "*"),))],
    ...     excluded_word="除外")
    >>> bool(fig.get_figheight() > 2)
    True
    """
    children = _leaves(nodes)
    by_id = {n.id: n for n in nodes}
    # columns: each leaf its own, a parent centred over its children
    col: dict[str, float] = {}
    depth: dict[str, int] = {}
    next_col = [0]

    def place(nid: str, d: int) -> None:
        depth[nid] = d
        kids = children[nid]
        for k in kids:
            place(k, d + 1)
        if kids:
            col[nid] = sum(col[k] for k in kids) / len(kids)
        else:
            col[nid] = next_col[0]
            next_col[0] += 1

    roots = [n.id for n in nodes if n.parent is None]
    for r in roots:
        place(r, 0)
    n_cols = max(next_col[0], 1)
    col_w = width / n_cols
    node_chars = max(16, min(_WRAP_NODE, int(col_w * 0.42 / _COL_IN)))
    excl_chars = max(20, min(_WRAP_EXCL, int(col_w * 0.5 / _COL_IN)))

    node_lines = {n.id: [*_wrap(n.title, node_chars), n.count] for n in nodes}
    excl_lines = {
        n.id: [excluded_word]
        + [line for reason, count in n.exclusions for line in _item(reason, count, excl_chars)]
        for n in nodes
        if n.exclusions
    }
    n_levels = max(depth.values()) + 1
    # height of each level: its tallest node box, plus the gap holding the exclusion boxes
    node_h = [
        max(len(node_lines[i]) for i in depth if depth[i] == lv) * _LINE + 0.16
        for lv in range(n_levels)
    ]
    gap_h = [0.0] + [
        max([len(excl_lines.get(i, [])) * _LINE + 0.3 for i in depth if depth[i] == lv] + [0.45])
        for lv in range(1, n_levels)
    ]
    top: list[float] = []
    y = 0.1
    for lv in range(n_levels):
        y += gap_h[lv]
        top.append(y)
        y += node_h[lv]
    height = y + 0.1

    fig = Figure(figsize=(width, height), dpi=110)
    fig.set_facecolor("white")
    ax = fig.add_axes((0, 0, 1, 1))
    ax.set_xlim(0, width)
    ax.set_ylim(height, 0)
    ax.set_axis_off()
    box = {"boxstyle": "square,pad=0.35", "fc": "white", "ec": OKABE_ITO["black"], "lw": 0.8}
    ex_box = {"boxstyle": "square,pad=0.35", "fc": "#F2F2F2", "ec": OKABE_ITO["grey"], "lw": 0.6}
    centre: dict[str, float] = {}
    for nid in depth:
        x = (col[nid] + 0.5) * col_w - (0.22 * col_w if excl_lines and n_cols > 0 else 0)
        x = max(x, 0.9)
        centre[nid] = x
        lv = depth[nid]
        ax.text(
            x,
            top[lv] + node_h[lv] / 2 - 0.04,
            "\n".join(node_lines[nid]),
            ha="center",
            va="center",
            fontsize=8,
            bbox=box,
            linespacing=1.25,
        )
    arrow = {
        "arrowstyle": "-|>",
        "color": OKABE_ITO["black"],
        "lw": 0.8,
        "shrinkA": 0,
        "shrinkB": 0,
    }
    for nid, node in by_id.items():
        if node.parent is None:
            continue
        lv, p = depth[nid], node.parent
        y0 = top[lv - 1] + node_h[lv - 1] - 0.02
        y1 = top[lv] - 0.08
        x0, x1 = centre[p], centre[nid]
        ax.annotate("", xy=(x1, y1), xytext=(x0, y0), arrowprops=arrow)
        if nid in excl_lines:
            ym = (y0 + y1) / 2
            xm = (x0 + x1) / 2
            xe = xm + 0.25
            ax.annotate("", xy=(xe, ym), xytext=(xm, ym), arrowprops=arrow)
            ax.text(
                xe + 0.05,
                ym,
                "\n".join(excl_lines[nid]),
                ha="left",
                va="center",
                fontsize=7.5,
                bbox=ex_box,
                linespacing=1.25,
            )
    return fig
