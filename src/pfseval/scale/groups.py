"""Per-group evaluations: one evaluation per municipality (or any column), plus a summary.

The insurer-incentive indicators cover about 1,700 municipalities a year and a prefecture-wide
programme spans several insurers: the same evaluation is run once per group.
:func:`evaluate_by` splits the rows by a column, runs an evaluation on each group — in this
process, or on a Dask cluster (:mod:`pfseval.scale.distributed`) with identical results — and
returns every group's :class:`~pfseval.result.Estimate` with a summary table and a figure.

Results do not depend on where or in which order groups run: each group's seed is derived
from the evaluation's seed and the group's *value* (:func:`group_seed`), never from its
position. Groups smaller than ``min_cell`` are not evaluated and are shown as suppressed
(published output never has a cell under 10). Rows without a group value are excluded in the
sample flow.

A group's **size** is what ``min_cell`` applies to: its number of records (people) for
person-level data; for an aggregated yearly series (:class:`BaselineGroups`, the historical
baseline design) the people behind the group's evaluation-year figure — the people eligible
(the rate's denominator), or the count itself for a count series — never its number of
year-rows. The true sizes are kept in :attr:`GroupedEvaluation.sizes` (the evaluator's record,
``results.json``), so that the appendix's disclosure control can decide what to publish.

An evaluation that can run all groups at once (:class:`GroupwiseEvaluation`, e.g.
:class:`BaselineGroups`: one vectorised fit for every municipality's series,
:func:`pfseval.designs.baseline.fit_groups`) is recognised by :func:`evaluate_by` and given
all groups together.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Protocol, runtime_checkable

import numpy as np
import pandas as pd

from pfseval.errors import ColumnMissingError, DesignError
from pfseval.messages import Message, declare_messages
from pfseval.result import Estimate, SampleFlow, emit_warnings

if TYPE_CHECKING:  # pragma: no cover
    from matplotlib.figure import Figure

__all__ = [
    "BaselineGroups",
    "GroupedEvaluation",
    "GroupwiseEvaluation",
    "evaluate_by",
    "group_seed",
    "plot_groups",
]

Evaluation = Callable[[pd.DataFrame, int | None], Estimate]
"""An evaluation of one group's rows with a seed; a top-level function or a
``functools.partial`` of one, so that it can be sent to cluster workers."""

declare_messages(
    {
        "scale.no_group": {
            "en": "no value of {by!v}",
            "ja": "{by!v}の値なし",
        },
        "scale.small_group": {
            "en": "in a group of {by!v} with fewer than {min_cell} records (not evaluated)",
            "ja": "{by!v}の記録が{min_cell}件未満の区分（評価せず）",
        },
        "scale.small_group_people": {
            "en": "in a group of {by!v} with fewer than {min_cell} people in the evaluation "
            "year (not evaluated)",
            "ja": "評価年度の人数が{min_cell}人未満の{by!v}の区分（評価せず）",
        },
        # the group figure's words
        "scale.fig.estimate": {
            "en": "estimate and {level}% confidence interval",
            "ja": "推定値と{level}%信頼区間",
        },
        "scale.fig.overall": {"en": "all groups together", "ja": "全体の推定値"},
        "scale.fig.suppressed": {"en": " (not shown)", "ja": "（非表示）"},
        "scale.fig.value": {"en": "value", "ja": "推定値"},
        "scale.fig.group": {"en": "group", "ja": "区分"},
        "scale.fig.percent": {"en": "{label} (%)", "ja": "{label}（%）"},
        "scale.fig.points": {"en": "{label} (percentage points)", "ja": "{label}（ポイント）"},
        "scale.fig.ranked": {
            "en": "{by}: {n_drawn} groups in order of their estimate (names in the table)",
            "ja": "{by}（{n_drawn}区分、推定値の順。名称は表を参照）",
        },
        "scale.fig.not_drawn": {
            "en": "{n_not_drawn} without a published value are not drawn",
            "ja": "推定値を公表しない{n_not_drawn}区分は描いていません",
        },
    }
)

SUMMARY_COLUMNS = ["group", "n", "value", "conf_low", "conf_high", "suppressed"]

#: Okabe–Ito colours, as the appendix's forest plot uses them (estimates blue, references
#: black / grey); ``pfseval.report.figures.OKABE_ITO`` holds the whole palette.
_BLUE, _GREY, _BLACK = "#0072B2", "#7F7F7F", "#000000"


def group_seed(seed: int | None, group: object) -> int | None:
    """The seed of one group: from the evaluation's seed and the group's value (its text),
    so that it does not depend on the order, the number or the placement of groups.

    Examples
    --------
    >>> group_seed(1, "28100") == group_seed(1, "28100"), group_seed(None, "28100")
    (True, None)
    >>> group_seed(1, "28100") != group_seed(1, "28101")
    True
    """
    if seed is None:
        return None
    digest = hashlib.sha256(str(group).encode("utf-8")).digest()
    words = [int.from_bytes(digest[i : i + 4], "little") for i in range(0, 16, 4)]
    return int(np.random.SeedSequence([int(seed), *words]).generate_state(1, np.uint32)[0])


@dataclass(frozen=True)
class GroupedEvaluation:
    """One evaluation per group.

    Attributes
    ----------
    by
        The grouping column.
    estimates
        Group value (as text) → its estimate, for groups of at least ``min_cell``.
    table
        One row per group, in sorted group order: ``group``, ``n`` (missing when suppressed),
        ``value``, ``conf_low``, ``conf_high``, ``suppressed``. Small groups' sizes are not
        in it; a publication still needs disclosure control (the appendix's
        :class:`~pfseval.report.publication.DocumentPublication` decides it).
    sample_flow
        Input rows → without a group value → in a group too small to evaluate → evaluated.
    min_cell
        Smallest group evaluated and shown.
    seeds
        Each evaluated group's seed.
    sizes
        Every group's size (records; people for an aggregated series), small groups
        included: the evaluator's record, never published as such.
    no_group
        The size of the rows without a group value (same unit as ``sizes``).
    """

    by: str
    estimates: Mapping[str, Estimate]
    table: pd.DataFrame
    sample_flow: SampleFlow
    min_cell: int = 10
    seeds: Mapping[str, int | None] = field(default_factory=dict)
    sizes: Mapping[str, int] = field(default_factory=dict)
    no_group: int = 0

    def figure(
        self, *, title: str = "", lang: str = "en", value_label: str = "", kind: str = "number"
    ) -> Figure:
        """Each group's value and interval (:func:`plot_groups`)."""
        return plot_groups(
            self.table, by=self.by, title=title, lang=lang, value_label=value_label, kind=kind
        )

    def records(self) -> list[dict[str, Any]]:
        """The summary as plain records for ``results.json`` (``diagnostics.by_group``): the
        table's columns plus ``size`` (every group's true size: the evaluator's record) and,
        when a group's value is the rate ``numerator / denominator`` of its own counts, those
        counts (what the value gives back, for the appendix's disclosure control)."""
        out = []
        for row in self.table.astype(object).to_dict(orient="records"):
            rec = {
                str(k): (None if pd.isna(v) else v.item() if isinstance(v, np.generic) else v)
                for k, v in row.items()
            }
            g = str(rec["group"])
            rec["size"] = int(self.sizes.get(g, 0))
            est = self.estimates.get(g)
            if est is not None:
                rec.update(_rate_counts(est))
            out.append(rec)
        return out


def _rate_counts(est: Estimate) -> dict[str, int]:
    """``{"numerator", "denominator"}`` when the estimate's value is their ratio, else ``{}``."""
    from pfseval.designs.contract import RATE_PAIRS, is_rate_of

    d = est.diagnostics
    for num_k, den_k in RATE_PAIRS:
        num, den = d.get(num_k), d.get(den_k)
        if (
            isinstance(num, int | float)
            and isinstance(den, int | float)
            and is_rate_of(est.value, float(num), float(den))
        ):
            return {"numerator": int(num), "denominator": int(den)}
    return {}


@runtime_checkable
class GroupwiseEvaluation(Protocol):
    """An evaluation that sizes groups its own way and runs all groups at once.

    :func:`evaluate_by` gives it every group large enough in one call (``run_groups``), so
    that it can fit them together (one vectorised fit); it is still callable on one group
    like any :data:`Evaluation`.
    """

    def __call__(self, frame: pd.DataFrame, seed: int | None) -> Estimate: ...

    def size(self, frame: pd.DataFrame) -> int:
        """A group's size for ``min_cell``."""
        ...

    def n_of(self, est: Estimate) -> int:
        """The ``n`` the summary shows for a group's estimate (people)."""
        ...

    def run_groups(self, frames: Mapping[str, pd.DataFrame]) -> dict[str, Estimate]:
        """Every group's estimate, all groups at once."""
        ...

    @property
    def small_reason(self) -> str:
        """The catalogue code of the flow step for rows of groups too small."""
        ...


def _people_in_year(frame: pd.DataFrame, year: str, column: str, evaluation_year: int) -> int:
    """The sum of ``column`` over the rows of ``evaluation_year`` (people of a series)."""
    yr = pd.to_numeric(frame[year], errors="coerce")
    v = pd.to_numeric(frame[column], errors="coerce").where(yr == evaluation_year)
    return round(float(np.nansum(v.to_numpy(dtype=float))))


@dataclass(frozen=True)
class BaselineGroups:
    """The historical-baseline design (``baseline.compare``) run on every group of a long
    table of yearly series (municipality × year) at once.

    All groups large enough are fitted together by :func:`pfseval.designs.baseline.fit_groups`
    (one vectorised fit); each group's estimate equals :func:`pfseval.designs.baseline.compare`
    on its rows. A group's size is its people in the evaluation year: the denominator (people
    eligible) of a rate series, the count itself of a count series.

    Parameters
    ----------
    options
        ``baseline.compare``'s options (``year``, ``numerator``, ``denominator``,
        ``evaluation_year``, ``method``, ``k``, ``comparison``, ``baseline_end``).
    level
        Confidence level.
    label
        The indicator's label (each group's estimate carries it).
    after
        Applied to each group's estimate (the batch runner's ``use`` of a related estimate).

    Examples
    --------
    >>> s = pd.DataFrame({"city": ["A"] * 4 + ["B"] * 4 + ["C"] * 4,
    ...                   "fy": [2017, 2018, 2019, 2020] * 3,
    ...                   "y": [50, 52, 51, 70, 200, 190, 210, 205, 1, 2, 1, 3],
    ...                   "n": [500] * 4 + [2000] * 4 + [8] * 4})
    >>> ev = BaselineGroups({"year": "fy", "numerator": "y", "denominator": "n",
    ...                      "evaluation_year": 2020, "method": "mean"})
    >>> import warnings
    >>> with warnings.catch_warnings():  # 3 baseline years: ShortSeriesWarning
    ...     warnings.simplefilter("ignore")
    ...     res = evaluate_by(s, by="city", evaluate=ev)
    >>> res.table["group"].tolist(), res.table["suppressed"].tolist()
    (['A', 'B', 'C'], [False, False, True])
    >>> res.table["n"].iloc[:2].tolist()  # people eligible in 2020, not years
    [500, 2000]
    >>> dict(res.sizes)
    {'A': 500, 'B': 2000, 'C': 8}
    """

    options: Mapping[str, Any]
    level: float = 0.95
    label: str = ""
    after: Callable[[Estimate], Estimate] | None = None

    def _design_options(self) -> dict[str, Any]:
        """The design's own options (the level and the label are this object's)."""
        return {k: v for k, v in self.options.items() if k not in ("level", "label")}

    @property
    def small_reason(self) -> str:
        return "scale.small_group_people"

    def _people_column(self) -> str:
        return str(self.options.get("denominator") or self.options["numerator"])

    def size(self, frame: pd.DataFrame) -> int:
        return _people_in_year(
            frame,
            str(self.options["year"]),
            self._people_column(),
            int(self.options["evaluation_year"]),
        )

    def n_of(self, est: Estimate) -> int:
        obs = est.related["observed"]
        return round(obs.n if obs.estimand == "observed_rate" else obs.value)

    def __call__(self, frame: pd.DataFrame, seed: int | None) -> Estimate:
        """One group's series with :func:`pfseval.designs.baseline.compare`."""
        from pfseval.designs.baseline import compare

        est = compare(frame, **self._design_options(), level=self.level, label=self.label)
        return self.after(est) if self.after is not None else est

    def run_groups(self, frames: Mapping[str, pd.DataFrame]) -> dict[str, Estimate]:
        """All groups' series in one vectorised fit; each distinct notice once, with the
        number of groups concerned."""
        from pfseval.designs.baseline import fit_groups

        names = list(frames)
        key = "\x00group"
        long = pd.concat([f.assign(**{key: g}) for g, f in frames.items()], ignore_index=True)
        fits = fit_groups(
            long,
            by=key,
            **self._design_options(),
            level=self.level,
            label=self.label,
            context="baseline.compare (by)",
        )
        order = {k[0]: i for i, k in enumerate(fits.keys)}
        emit_warnings(fits.grouped_notices(), stacklevel=3)
        out = {g: fits.estimate(order[g]) for g in names}
        if self.after is not None:
            out = {g: self.after(e) for g, e in out.items()}
        return out


def _split(data: pd.DataFrame, by: str) -> tuple[dict[str, pd.DataFrame], pd.DataFrame]:
    """Rows per group value (as text, sorted); and the rows without a value."""
    from pfseval.io.validation import _as_text

    text = _as_text(data[by])  # as text, the way ids are matched: 28100.0 is "28100"
    missing = text.isna().to_numpy().copy()
    codes, uniques = pd.factorize(text.where(~missing))
    order = np.argsort(np.asarray(uniques, dtype=object).astype(str), kind="stable")
    groups: dict[str, pd.DataFrame] = {}
    for j in order:
        groups[str(uniques[j])] = data.iloc[np.flatnonzero(codes == j)]
    return groups, data.iloc[np.flatnonzero(missing)]


def _run_one(evaluate: Evaluation, frame: pd.DataFrame, seed: int | None) -> Estimate:
    return evaluate(frame, seed)


def evaluate_by(
    data: pd.DataFrame,
    *,
    by: str,
    evaluate: Evaluation | GroupwiseEvaluation,
    seed: int | None = None,
    min_cell: int = 10,
    client: Any = None,
) -> GroupedEvaluation:
    """Run an evaluation once per group of rows.

    Parameters
    ----------
    data
        The cohort (one row per record), or a long table of yearly series.
    by
        Grouping column (``"municipality"``, ``"insurer_code"``, ...).
    evaluate
        ``evaluate(frame, seed) -> Estimate``; e.g. ``functools.partial`` of a design
        function adapted to take the seed (see the example). A
        :class:`GroupwiseEvaluation` (e.g. :class:`BaselineGroups`) sizes the groups its own
        way and runs all of them at once (here, even with a ``client``).
    seed
        The evaluation's seed; each group gets :func:`group_seed` of it.
    min_cell
        Groups smaller than this (records; people for a :class:`BaselineGroups` series) are
        not evaluated and shown as suppressed.
    client
        A ``dask.distributed.Client``: groups run on its workers (results identical to a
        local run). ``None`` runs them here, one after the other.

    Returns
    -------
    GroupedEvaluation

    Raises
    ------
    ColumnMissingError
        ``by`` is not a column of ``data``.
    DesignError
        No group has ``min_cell`` records.

    Examples
    --------
    >>> from pfseval.designs.proportion import rate
    >>> def completion(frame, seed):
    ...     return rate(frame, outcome="completed")
    >>> df = pd.DataFrame({"municipality": ["A"] * 20 + ["B"] * 30 + ["C"] * 5,
    ...                    "completed": [1, 0] * 10 + [1, 1, 0] * 10 + [1] * 5})
    >>> res = evaluate_by(df, by="municipality", evaluate=completion, seed=1)
    >>> res.table[["group", "n", "value", "suppressed"]].to_string(index=False)
    'group    n    value  suppressed\\n    A   20 0.500000       False\\n    B   30 0.666667       False\\n    C <NA>      NaN        True'
    >>> dict(res.sizes)  # the true sizes, small groups included (the evaluator's record)
    {'A': 20, 'B': 30, 'C': 5}
    """
    if by not in data.columns:
        raise ColumnMissingError(
            f"evaluate_by: grouping column {by!r} is not in the data. Fix: use one of "
            f"{list(map(str, data.columns))}"
        )
    groups, no_value = _split(data, by)
    gw = evaluate if isinstance(evaluate, GroupwiseEvaluation) else None
    if gw is not None:
        sizes = {g: gw.size(f) for g, f in groups.items()}
        no_group = gw.size(no_value) if len(no_value) else 0
        reason = gw.small_reason
    else:
        sizes = {g: len(f) for g, f in groups.items()}
        no_group = len(no_value)
        reason = "scale.small_group"
    small = [g for g in groups if sizes[g] < min_cell]
    run = {g: f for g, f in groups.items() if sizes[g] >= min_cell}
    if not run:
        raise DesignError(
            f"evaluate_by: no group of {by!r} has a size of {min_cell} or more. Fix: group by "
            "a coarser column"
        )
    seeds = {g: group_seed(seed, g) for g in run}
    if gw is not None:
        results = gw.run_groups(run)
    elif client is None:
        results = {g: _run_one(evaluate, f, seeds[g]) for g, f in run.items()}
    else:
        names = list(run)
        futures = [client.submit(_run_one, evaluate, run[g], seeds[g], pure=False) for g in names]
        results = dict(zip(names, client.gather(futures), strict=True))
    for g, est in results.items():
        if not isinstance(est, Estimate):
            raise DesignError(
                f"evaluate_by: the evaluation of group {g!r} returned no Estimate. Fix: return "
                "a pfseval.result.Estimate from the evaluation"
            )
    rows: list[tuple[Any, ...]] = []
    for g in groups:
        if g in results:
            e = results[g]
            n = gw.n_of(e) if gw is not None else e.n
            rows.append((g, n, e.value, e.conf_low, e.conf_high, False))
        else:
            rows.append((g, None, np.nan, np.nan, np.nan, True))
    table = pd.DataFrame(rows, columns=SUMMARY_COLUMNS)
    table["n"] = table["n"].astype("Int64")
    for c in ("value", "conf_low", "conf_high"):
        table[c] = table[c].astype(float)
    flow = SampleFlow.start(len(data))
    flow = flow.exclude(Message("scale.no_group", params={"by": by}), len(no_value))
    flow = flow.exclude(
        Message(reason, params={"by": by, "min_cell": min_cell}),
        int(sum(len(groups[g]) for g in small)),
    )
    return GroupedEvaluation(
        by=by,
        estimates=results,
        table=table,
        sample_flow=flow,
        min_cell=min_cell,
        seeds=seeds,
        sizes=sizes,
        no_group=no_group,
    )


def _words(code: str, lang: str, **params: Any) -> str:
    from typing import cast

    from pfseval.messages import Lang

    return Message(code, params=params).text(cast(Lang, "ja" if lang == "ja" else "en"))


def plot_groups(
    table: pd.DataFrame,
    *,
    by: str = "",
    title: str = "",
    lang: str = "en",
    value_label: str = "",
    kind: str = "number",
    level: float = 0.95,
    overall: float | None = None,
    shown: Sequence[bool] | None = None,
) -> Figure:
    """Point and interval per group; groups without a published value are listed, marked.
    Above :data:`MANY_GROUPS` groups, the groups are ranked by their estimate instead, without
    names (the table names them), and those without a published value are counted.

    Parameters
    ----------
    table
        :attr:`GroupedEvaluation.table` (``group`` may hold readers' names).
    by
        The grouping column's label (above the group names).
    title
        Figure title.
    lang
        ``"ja"`` or ``"en"``: every fixed word comes from the message catalogue.
    value_label
        The x axis: the indicator's label (the unit is added for ``kind``).
    kind
        ``"percent"`` (a rate), ``"points"`` (a difference of rates: both drawn in percent),
        ``"people"`` or ``"number"``.
    level
        Confidence level (the legend's words).
    overall
        The whole cohort's value: a dashed line.
    shown
        Per row, whether its value may be drawn (default: not ``suppressed``).

    Returns
    -------
    matplotlib.figure.Figure

    Examples
    --------
    >>> tab = pd.DataFrame({"group": ["A", "B"], "n": [20, None], "value": [0.5, None],
    ...                     "conf_low": [0.3, None], "conf_high": [0.7, None],
    ...                     "suppressed": [False, True]})
    >>> fig = plot_groups(tab, by="区分", lang="ja", value_label="受診率", kind="percent")
    >>> [t.get_text() for t in fig.axes[0].get_yticklabels()]
    ['A', 'B（非表示）']
    >>> fig.axes[0].get_xlabel()
    '受診率（%）'
    """
    from matplotlib.figure import Figure

    rows = table.reset_index(drop=True)
    ok = (
        np.asarray(list(shown), dtype=bool)
        if shown is not None
        else ~rows["suppressed"].to_numpy(dtype=bool)
    )
    scale = 100.0 if kind in ("percent", "points") else 1.0
    v, lo, hi = (
        scale * pd.to_numeric(rows[c], errors="coerce").to_numpy(dtype=float)
        for c in ("value", "conf_low", "conf_high")
    )
    draw = ok & np.isfinite(v) & np.isfinite(lo) & np.isfinite(hi)
    if len(rows) > MANY_GROUPS:
        return _ranked(v, lo, hi, draw, by=by, title=title, lang=lang,
                       value_label=value_label, kind=kind, level=level, overall=overall,
                       scale=scale)  # fmt: skip
    height = 1.5 + 0.24 * len(rows)
    fig = Figure(figsize=(6.4, min(height, 40.0)), dpi=110, layout="constrained")
    fig.set_facecolor("white")
    ax = fig.add_subplot()
    y = np.arange(len(rows))[::-1]
    if draw.any():
        ax.errorbar(
            v[draw],
            y[draw],
            xerr=[np.maximum(v[draw] - lo[draw], 0.0), np.maximum(hi[draw] - v[draw], 0.0)],
            fmt="o",
            color=_BLUE,
            capsize=3,
            label=_words("scale.fig.estimate", lang, level=round(100 * level)),
        )
    if overall is not None and np.isfinite(overall):
        ax.axvline(
            scale * float(overall),
            color=_BLACK,
            linestyle="--",
            linewidth=1.0,
            label=_words("scale.fig.overall", lang),
        )
    if kind in ("points", "people", "number"):
        ax.axvline(0, color=_GREY, linewidth=0.6)
    mark = _words("scale.fig.suppressed", lang)
    labels = [f"{g}" + ("" if k else mark) for g, k in zip(rows["group"], draw, strict=True)]
    ax.set_yticks(y, labels)
    ax.set_ylim(-0.6, len(rows) - 0.4)
    # the group column's name above the group names, read horizontally (Japanese too)
    ax.set_title(by or _words("scale.fig.group", lang), loc="left", fontsize="medium")
    ax.set_xlabel(_value_axis(value_label, kind, lang))
    return _finish(fig, ax, title)


MANY_GROUPS = 60
"""Above this many groups the figure ranks the groups by their estimate instead of naming
each one (1,700 municipalities cannot be read as labelled rows; the table names them)."""


def _ranked(
    v: np.ndarray,
    lo: np.ndarray,
    hi: np.ndarray,
    draw: np.ndarray,
    *,
    scale: float,
    by: str,
    title: str,
    lang: str,
    value_label: str,
    kind: str,
    level: float,
    overall: float | None,
) -> Figure:
    """:func:`plot_groups` for many groups (values already scaled; ``draw``: the rows with a
    value to draw): each drawn group's interval as a vertical line and its estimate as a
    point, in order of the estimate; no group names."""
    from matplotlib.figure import Figure

    order = np.flatnonzero(draw)[np.argsort(v[draw], kind="stable")]
    x = np.arange(1, len(order) + 1)
    fig = Figure(figsize=(6.4, 4.2), dpi=110, layout="constrained")
    fig.set_facecolor("white")
    ax = fig.add_subplot()
    if len(order):
        ax.vlines(x, lo[order], hi[order], color=_BLUE, alpha=0.35, linewidth=0.8)
        ax.plot(x, v[order], "o", color=_BLUE, markersize=1.8,
                label=_words("scale.fig.estimate", lang, level=round(100 * level)))  # fmt: skip
    if overall is not None and np.isfinite(overall):
        ax.axhline(scale * float(overall), color=_BLACK, linestyle="--", linewidth=1.0,
                   label=_words("scale.fig.overall", lang))  # fmt: skip
    if kind in ("points", "people", "number"):
        ax.axhline(0, color=_GREY, linewidth=0.6)
    group = by or _words("scale.fig.group", lang)
    xlabel = _words("scale.fig.ranked", lang, by=group, n_drawn=len(order))
    n_not = int(len(v) - len(order))
    if n_not:
        xlabel += "\n" + _words("scale.fig.not_drawn", lang, n_not_drawn=n_not)
    ax.set_xlabel(xlabel)
    ax.set_xticks([])
    ax.set_xlim(0, len(order) + 1)
    ax.set_ylabel(_value_axis(value_label, kind, lang))
    return _finish(fig, ax, title)


def _value_axis(value_label: str, kind: str, lang: str) -> str:
    """The value axis's words: the indicator's label, with the unit for a rate."""
    name = value_label or _words("scale.fig.value", lang)
    if kind in ("percent", "points"):
        name = _words(f"scale.fig.{kind}", lang, label=name)
    return name


def _finish(fig: Figure, ax: Any, title: str) -> Figure:
    """Frame, legend below the plot and title, as every group figure has them."""
    ax.spines[["top", "right"]].set_visible(False)
    handles, texts = ax.get_legend_handles_labels()
    if handles:
        fig.legend(handles, texts, loc="outside lower center", ncols=2, frameon=False)
    if title:
        fig.suptitle(title)
    return fig


def _indicator_task(
    run: Callable[..., tuple[Estimate, Any]],
    spec: Any,
    ind: Any,
    frame: pd.DataFrame,
    seed: int | None,
) -> Estimate:
    """One group of a spec's indicator (runs on a worker when there is a cluster)."""
    from dataclasses import replace

    est, _ = run(spec, replace(ind, seed=seed, by=None), frame)
    return est


def yearly_totals(data: pd.DataFrame, options: Mapping[str, Any]) -> pd.DataFrame:
    """A long table of yearly series summed over its groups: one row per year, the
    numerator and denominator summed, a comparison series averaged with the denominators as
    weights (a rate series) or summed (a count series). A year with a missing value in a
    column keeps it missing (the design then reports it), so nothing is dropped unseen.

    Examples
    --------
    >>> s = pd.DataFrame({"city": ["A", "A", "B", "B"], "fy": [2019, 2020] * 2,
    ...                   "y": [5, 6, 10, 12], "n": [50, 50, 150, 150]})
    >>> yearly_totals(s, {"year": "fy", "numerator": "y", "denominator": "n"}).to_dict("list")
    {'fy': [2019, 2020], 'y': [15.0, 18.0], 'n': [200.0, 200.0]}
    """
    year = str(options["year"])
    num = str(options["numerator"])
    den = options.get("denominator")
    comp = options.get("comparison")
    cols = [num] + ([str(den)] if den else [])
    frame = pd.DataFrame({year: data[year]})
    for c in cols:
        frame[c] = pd.to_numeric(data[c], errors="coerce")
    if comp:
        c_val = pd.to_numeric(data[comp], errors="coerce")
        frame["\x00comp"] = c_val * frame[str(den)] if den else c_val
    grouped = frame.groupby(year, dropna=False, sort=True)
    out = grouped.sum(min_count=1)
    nan_years = grouped.agg(lambda s: bool(s.isna().any()))
    for c in out.columns:
        out.loc[nan_years[c].to_numpy(dtype=bool), c] = np.nan
    if comp:
        out[str(comp)] = out.pop("\x00comp") / (out[str(den)] if den else 1.0)
    return out.reset_index()


def _long_flow(data: pd.DataFrame, est: Estimate, year: str) -> SampleFlow:
    """The whole series' accounting on the long table: every row, less the rows of years
    outside the baseline window (the reasons of ``baseline.compare``)."""
    yr = pd.to_numeric(data[year], errors="coerce").to_numpy(dtype=float)
    base = list(est.diagnostics.get("baseline_years") or [])
    E = int(est.diagnostics["evaluation_year"])
    flow = SampleFlow.start(len(data))
    if not base:
        return flow
    steps = {
        "baseline.flow.before_window": yr < base[0],
        "baseline.flow.between": (yr > base[-1]) & (yr < E),
        "baseline.flow.after_evaluation": yr > E,
    }
    for code, mask in steps.items():
        flow = flow.exclude(Message(code), int(mask.sum()))
    return flow


def run_indicator_by(
    spec: Any,
    ind: Any,
    data: pd.DataFrame,
    *,
    run: Callable[..., tuple[Estimate, dict[str, Any]]],
    use: Callable[[Estimate, str], Estimate] | None = None,
    n_jobs: int = 1,
    progress: bool = False,
) -> tuple[Estimate, dict[str, Any]]:
    """A spec indicator with ``by``: the evaluation on the whole cohort (the indicator's value,
    used by the contract) and one evaluation per group.

    ``run`` is the batch runner's ``run_indicator`` and ``use`` its ``use_related`` (passed
    in, so that this layer does not import the batch layer). The per-group summary goes into the estimate's diagnostics as
    ``by_group`` (:meth:`GroupedEvaluation.records`: ``group``, ``n``, ``value``,
    ``conf_low``, ``conf_high``, ``suppressed``, ``size``, and a rate's ``numerator`` and
    ``denominator``), with ``by`` (the column) and ``by_no_group`` (the size of the rows
    without a group value), so it reaches ``results.json``; the figure data carry the table
    under ``"groups"``. Groups run on the cluster of an enclosing
    :func:`pfseval.scale.distributed.on_cluster` block.

    An indicator of the historical-baseline design reads a long table of yearly series: its
    whole-cohort value is the design on the yearly totals over all rows
    (:func:`yearly_totals`: the prefecture's series from its municipalities'), and its groups
    are fitted at once (:class:`BaselineGroups`).
    """
    from dataclasses import replace
    from functools import partial

    from pfseval.scale.distributed import current_client

    whole = replace(ind, by=None)
    evaluate: Evaluation | GroupwiseEvaluation
    if ind.design == "baseline.compare":
        totals = yearly_totals(data, ind.options)
        est, figs = run(spec, whole, totals, n_jobs=n_jobs, progress=progress)
        est = est.with_updates(sample_flow=_long_flow(data, est, str(ind.options["year"])))
        name = ind.use
        after = (lambda e: use(e, name)) if use is not None and name else None
        evaluate = BaselineGroups(
            dict(ind.options), level=ind.level, label=ind.label_in(spec.report.lang), after=after
        )
    else:
        est, figs = run(spec, whole, data, n_jobs=n_jobs, progress=progress)
        evaluate = partial(_indicator_task, run, spec, whole)
    grouped = evaluate_by(
        data,
        by=ind.by,
        evaluate=evaluate,
        seed=ind.seed,
        min_cell=spec.report.min_cell,
        client=current_client(),
    )
    diagnostics = {
        **est.diagnostics,
        "by": ind.by,
        "by_group": grouped.records(),
        "by_no_group": grouped.no_group,
    }
    return est.with_updates(diagnostics=diagnostics), {**figs, "groups": grouped.table}
