"""Per-group evaluations: one evaluation per municipality (or any column), plus a summary.

The insurer-incentive indicators cover about 1,700 municipalities a year and a prefecture-wide
programme spans several insurers: the same evaluation is run once per group.
:func:`evaluate_by` splits the rows by a column, runs an evaluation on each group — in this
process, or on a Dask cluster (:mod:`pfseval.scale.distributed`) with identical results — and
returns every group's :class:`~pfseval.result.Estimate` with a summary table and a figure.

Results do not depend on where or in which order groups run: each group's seed is derived
from the evaluation's seed and the group's *value* (:func:`group_seed`), never from its
position. Groups with fewer than ``min_cell`` records are not evaluated and are shown as
suppressed (published output never has a cell under 10). Rows without a group value are
excluded in the sample flow.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from pfseval.errors import ColumnMissingError, DesignError
from pfseval.messages import Message, declare_messages
from pfseval.result import Estimate, SampleFlow

if TYPE_CHECKING:  # pragma: no cover
    from matplotlib.figure import Figure

__all__ = ["GroupedEvaluation", "evaluate_by", "group_seed", "plot_groups"]

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
    }
)

SUMMARY_COLUMNS = ["group", "n", "value", "conf_low", "conf_high", "suppressed"]


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
        Group value (as text) → its estimate, for groups with at least ``min_cell`` records.
    table
        One row per group, in sorted group order: ``group``, ``n`` (missing when suppressed),
        ``value``, ``conf_low``, ``conf_high``, ``suppressed``. Safe to publish.
    sample_flow
        Input rows → without a group value → in a group too small to evaluate → evaluated.
    min_cell
        Smallest group evaluated and shown.
    """

    by: str
    estimates: Mapping[str, Estimate]
    table: pd.DataFrame
    sample_flow: SampleFlow
    min_cell: int = 10
    seeds: Mapping[str, int | None] = field(default_factory=dict)

    def figure(self, *, title: str = "") -> Figure:
        """Each group's value and interval (:func:`plot_groups`)."""
        return plot_groups(self.table, by=self.by, title=title)


def _split(data: pd.DataFrame, by: str) -> tuple[dict[str, pd.DataFrame], int]:
    """Rows per group value (as text, sorted); and the number of rows without a value."""
    from pfseval.io.validation import _as_text

    text = _as_text(data[by])  # as text, the way ids are matched: 28100.0 is "28100"
    missing = text.isna().to_numpy().copy()
    codes, uniques = pd.factorize(text.where(~missing))
    order = np.argsort(np.asarray(uniques, dtype=object).astype(str), kind="stable")
    groups: dict[str, pd.DataFrame] = {}
    for j in order:
        groups[str(uniques[j])] = data.iloc[np.flatnonzero(codes == j)]
    return groups, int(missing.sum())


def _run_one(evaluate: Evaluation, frame: pd.DataFrame, seed: int | None) -> Estimate:
    return evaluate(frame, seed)


def evaluate_by(
    data: pd.DataFrame,
    *,
    by: str,
    evaluate: Evaluation,
    seed: int | None = None,
    min_cell: int = 10,
    client: Any = None,
) -> GroupedEvaluation:
    """Run an evaluation once per group of rows.

    Parameters
    ----------
    data
        The cohort (one row per record).
    by
        Grouping column (``"municipality"``, ``"insurer_code"``, ...).
    evaluate
        ``evaluate(frame, seed) -> Estimate``; e.g. ``functools.partial`` of a design
        function adapted to take the seed (see the example).
    seed
        The evaluation's seed; each group gets :func:`group_seed` of it.
    min_cell
        Groups with fewer records are not evaluated and shown as suppressed.
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
    """
    if by not in data.columns:
        raise ColumnMissingError(
            f"evaluate_by: grouping column {by!r} is not in the data. Fix: use one of "
            f"{list(map(str, data.columns))}"
        )
    groups, n_missing = _split(data, by)
    small = [g for g, f in groups.items() if len(f) < min_cell]
    run = {g: f for g, f in groups.items() if len(f) >= min_cell}
    if not run:
        raise DesignError(
            f"evaluate_by: no group of {by!r} has {min_cell} records or more. Fix: group by a "
            "coarser column"
        )
    seeds = {g: group_seed(seed, g) for g in run}
    if client is None:
        results = {g: _run_one(evaluate, f, seeds[g]) for g, f in run.items()}
    else:
        names = list(run)
        futures = [client.submit(_run_one, evaluate, run[g], seeds[g], pure=False) for g in names]
        results = dict(zip(names, client.gather(futures), strict=True))
    for g, est in results.items():
        if not isinstance(est, Estimate):
            raise DesignError(f"evaluate_by: the evaluation of group {g!r} returned no Estimate")
    rows: list[tuple[Any, ...]] = []
    for g in groups:
        if g in results:
            e = results[g]
            rows.append((g, e.n, e.value, e.conf_low, e.conf_high, False))
        else:
            rows.append((g, None, np.nan, np.nan, np.nan, True))
    table = pd.DataFrame(rows, columns=SUMMARY_COLUMNS)
    table["n"] = table["n"].astype("Int64")
    for c in ("value", "conf_low", "conf_high"):
        table[c] = table[c].astype(float)
    flow = SampleFlow.start(len(data))
    flow = flow.exclude(Message("scale.no_group", params={"by": by}), n_missing)
    flow = flow.exclude(
        Message("scale.small_group", params={"by": by, "min_cell": min_cell}),
        int(sum(len(groups[g]) for g in small)),
    )
    return GroupedEvaluation(
        by=by,
        estimates=results,
        table=table,
        sample_flow=flow,
        min_cell=min_cell,
        seeds=seeds,
    )


def plot_groups(table: pd.DataFrame, *, by: str = "group", title: str = "") -> Figure:
    """Point and interval per group (suppressed groups are listed without a value).

    Parameters
    ----------
    table
        :attr:`GroupedEvaluation.table`.
    by
        Axis label.
    title
        Figure title.

    Returns
    -------
    matplotlib.figure.Figure
    """
    from matplotlib.figure import Figure

    shown = table.reset_index(drop=True)
    height = 1.2 + 0.22 * len(shown)
    fig = Figure(figsize=(6.4, min(height, 40.0)))
    ax = fig.add_subplot()
    y = np.arange(len(shown))[::-1]
    ok = ~shown["suppressed"].to_numpy(dtype=bool)
    v = shown["value"].to_numpy(dtype=float)
    lo = shown["conf_low"].to_numpy(dtype=float)
    hi = shown["conf_high"].to_numpy(dtype=float)
    ax.hlines(y[ok], lo[ok], hi[ok], color="#33638d")
    ax.plot(v[ok], y[ok], "o", color="#33638d")
    labels = [
        f"{g}" + ("" if k else " (suppressed)") for g, k in zip(shown["group"], ok, strict=True)
    ]
    ax.set_yticks(y, labels)
    ax.set_ylabel(by)
    ax.set_xlabel("value [confidence interval]")
    if title:
        ax.set_title(title)
    fig.tight_layout()
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


def run_indicator_by(
    spec: Any,
    ind: Any,
    data: pd.DataFrame,
    *,
    run: Callable[..., tuple[Estimate, dict[str, Any]]],
    n_jobs: int = 1,
    progress: bool = False,
) -> tuple[Estimate, dict[str, Any]]:
    """A spec indicator with ``by``: the evaluation on the whole cohort (the indicator's value,
    used by the contract) and one evaluation per group.

    ``run`` is the batch runner's ``run_indicator`` (passed in, so that this layer does not
    import the batch layer). The per-group summary goes into the estimate's diagnostics as
    ``by_group`` (one record per group: ``group``, ``n``, ``value``, ``conf_low``,
    ``conf_high``, ``suppressed``), so it reaches ``results.json``; the figure data carry the
    table under ``"groups"``. Groups run on the cluster of an enclosing
    :func:`pfseval.scale.distributed.on_cluster` block.
    """
    from dataclasses import replace
    from functools import partial

    from pfseval.scale.distributed import current_client

    whole = replace(ind, by=None)
    est, figs = run(spec, whole, data, n_jobs=n_jobs, progress=progress)
    grouped = evaluate_by(
        data,
        by=ind.by,
        evaluate=partial(_indicator_task, run, spec, whole),
        seed=ind.seed,
        min_cell=spec.report.min_cell,
        client=current_client(),
    )
    records = [
        {k: (None if pd.isna(v) else v) for k, v in row.items()}
        for row in grouped.table.astype(object).to_dict(orient="records")
    ]
    diagnostics = {**est.diagnostics, "by": ind.by, "by_group": records}
    return est.with_updates(diagnostics=diagnostics), {**figs, "groups": grouped.table}
