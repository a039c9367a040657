"""Pre/post design (事前事後比較): the same people measured before and after the programme.

Every function takes a data frame with one row per person and two columns, ``before`` and
``after``, and returns an :class:`~pfseval.result.Estimate` whose ``value`` is expressed as
*after − before* (negative = the value went down):

- :func:`compare` — mean change with the paired-t interval (R ``t.test(paired = TRUE)``), or
  the Wilcoxon signed-rank test with the Hodges–Lehmann estimate and its interval, computed as
  R's ``wilcox.test(conf.int = TRUE)`` does; with ``treatment=`` (1 = participant, 0 =
  comparison group) the difference of mean changes between participants and a comparison
  group (Welch interval), the adjustment for regression to the mean.
- :func:`paired_proportions` — a 0/1 item before and after: difference of paired proportions
  with Newcombe's (1998) method-10 interval and McNemar's test (exact binomial when the
  discordant pairs are few).
- :func:`share_improved` — share of people improved under a rule, Wilson and Clopper–Pearson.
- :func:`count_total` — total of per-person counts (e.g. drugs reduced) with an interval.

People with only a ``before`` or only an ``after`` value are excluded from the analysis and
counted in the :class:`~pfseval.result.SampleFlow` (with an :class:`~pfseval.errors.AttritionWarning`);
``strict=True`` turns them into a :class:`~pfseval.errors.DataValidationError` instead.

The design-free statistics (signed-rank test and Hodges–Lehmann estimate, Newcombe's paired
interval, McNemar's test) live in :mod:`pfseval.inference`. The four functions are registered in
the design contract (see :mod:`pfseval.designs.prepost_contract`), which checks their options.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, Literal

import numpy as np
import pandas as pd
from numpy.typing import NDArray
from scipy import stats

from pfseval.checks import numeric_column
from pfseval.designs import prepost_contract as _contract  # noqa: F401  (registers the specs)
from pfseval.designs.contract import validated
from pfseval.errors import (
    AttritionWarning,
    DataProblem,
    DataValidationError,
    DesignError,
    PfsevalWarning,
    SmallSampleWarning,
)
from pfseval.inference import (
    clopper_pearson,
    mcnemar_test,
    newcombe_paired,
    signrank_test,
    t_interval,
    wilson,
)
from pfseval.messages import Message, Notice
from pfseval.result import Estimate, SampleFlow, emit_warnings, provenance

__all__ = [
    "RegressionToMeanWarning",
    "compare",
    "count_total",
    "paired_proportions",
    "share_improved",
]

FloatArray = NDArray[np.float64]

#: Standardised baseline difference (participants − comparison, in pooled SDs) above which the
#: participants are taken to have been selected on a high baseline value.
RTM_SMD_THRESHOLD = 0.5
#: McNemar: exact binomial p value when the discordant pairs are fewer than this (``"auto"``).
MCNEMAR_EXACT_BELOW = 25
#: Fewer analysed pairs than this give a SmallSampleWarning.
SMALL_N = 10


class RegressionToMeanWarning(PfsevalWarning):
    """Participants were selected on a high (or low) baseline: part of the change is regression
    to the mean, not the programme."""


# ---------------------------------------------------------------- pairing and the sample flow


@dataclass(frozen=True)
class _Pairs:
    before: FloatArray
    after: FloatArray
    pos: NDArray[np.int64]
    flow: SampleFlow
    notices: tuple[Notice, ...]


def _row_ids(data: pd.DataFrame, id_col: str | None) -> NDArray[Any]:
    if id_col is not None and id_col in data.columns:
        return np.asarray(data[id_col].to_numpy(), dtype=object)
    return np.asarray(data.index.to_numpy(), dtype=object)


def _check_unique_ids(ids: pd.Series, id_col: str, context: str) -> None:
    """One row per person: a repeated id would be counted as two people."""
    dup = np.flatnonzero(ids.duplicated(keep=False).to_numpy() & ids.notna().to_numpy())
    if dup.size:
        raise DataValidationError(
            [
                DataProblem(
                    column=id_col,
                    kind="duplicate",
                    message=f"the same {id_col} appears on more than one row; each row "
                    "would be analysed as a separate person",
                    rows=tuple(int(i) for i in dup),
                    values=tuple(ids.iloc[dup[:10]].tolist()),
                    expected="one row per person with both the before and the after value "
                    "(merge or remove the repeated records)",
                )
            ],
            source=context,
        )


def _pairs(
    data: pd.DataFrame,
    before: str,
    after: str,
    *,
    strict: bool,
    id_col: str | None,
    context: str,
    mask: NDArray[np.bool_] | None = None,
    group: str = "all",
) -> _Pairs:
    """Complete pairs of ``before``/``after`` with a sample flow for one group of rows."""
    b = numeric_column(data, before, context=context)
    a = numeric_column(data, after, context=context)
    ids = _row_ids(data, id_col)
    if id_col is not None and id_col in data.columns:
        _check_unique_ids(data[id_col], id_col, context)
    pos = np.arange(len(data))
    if mask is not None:
        b, a, ids, pos = b[mask], a[mask], ids[mask], pos[mask]
    hb, ha = ~np.isnan(b), ~np.isnan(a)
    only_b, only_a, neither = hb & ~ha, ~hb & ha, ~hb & ~ha
    if strict and (only_b.any() or only_a.any() or neither.any()):
        problems = []
        for m, col, what in (
            (only_b, after, "has a before value but no after value"),
            (only_a, before, "has an after value but no before value"),
            (neither, before, "has neither a before nor an after value"),
        ):
            if m.any():
                problems.append(
                    DataProblem(
                        column=col,
                        kind="missing",
                        message=f"{int(m.sum())} person(s) {what}",
                        rows=tuple(int(i) for i in pos[m]),
                        expected="both values present (or call with strict=False: such people "
                        "are then excluded and counted in the sample flow)",
                    )
                )
        raise DataValidationError(problems, source=context)
    cols = {"before": before, "after": after}
    flow = SampleFlow.start({group: len(b)})
    flow = flow.exclude(
        Message("prepost.flow.only_before", params=cols), ids[only_b].tolist(), group=group
    )
    flow = flow.exclude(
        Message("prepost.flow.only_after", params=cols), ids[only_a].tolist(), group=group
    )
    flow = flow.exclude(
        Message("prepost.flow.neither", params=cols), ids[neither].tolist(), group=group
    )
    notices: list[Notice] = []
    if (only_b | only_a).any():
        notices.append(
            Notice(
                "prepost.incomplete_pairs" + ("_control" if group == "control" else ""),
                category=AttritionWarning,
                counts={"n_only_before": int(only_b.sum()), "n_only_after": int(only_a.sum())},
                params=cols,
            )
        )
    ok = hb & ha
    return _Pairs(b[ok], a[ok], pos[ok], flow, tuple(notices))


def _build(notices: Sequence[Notice], *, depth: int = 0, **fields: Any) -> Estimate:
    """Make the Estimate with every notice recorded, then issue them as warnings.

    ``depth`` = extra private frames between the public function and this call.
    """
    est = Estimate(notices=tuple(notices), **fields)
    # validated() wraps each public function: one more frame between the user and here.
    emit_warnings(est.notices, stacklevel=5 + depth)
    return est


def _small_n_notice(n: int) -> list[Notice]:
    if n < SMALL_N:
        return [Notice("prepost.few_pairs", category=SmallSampleWarning, counts={"n_pairs": n})]
    return []


# ---------------------------------------------------------------- compare


def _paired_t(d: FloatArray, level: float) -> tuple[float, float, float, float, float]:
    n = len(d)
    mean = float(d.mean())
    se = float(d.std(ddof=1) / math.sqrt(n))
    lo, hi = t_interval(mean, se, n - 1, level=level)
    p = float(2 * stats.t.sf(abs(mean / se), n - 1)) if se > 0 else float(mean == 0)
    return mean, lo, hi, se, p


def _welch(
    d1: FloatArray, d2: FloatArray, level: float
) -> tuple[float, float, float, float, float, float]:
    n1, n2 = len(d1), len(d2)
    v1, v2 = float(d1.var(ddof=1)) / n1, float(d2.var(ddof=1)) / n2
    diff = float(d1.mean() - d2.mean())
    se = math.sqrt(v1 + v2)
    df = (v1 + v2) ** 2 / (v1**2 / (n1 - 1) + v2**2 / (n2 - 1)) if se > 0 else float(n1 + n2 - 2)
    lo, hi = t_interval(diff, se, df, level=level)
    p = float(2 * stats.t.sf(abs(diff / se), df)) if se > 0 else (1.0 if diff == 0 else 0.0)
    return diff, lo, hi, se, p, df


@validated("prepost.compare")
def compare(
    data: pd.DataFrame,
    *,
    before: str,
    after: str,
    level: float = 0.95,
    method: Literal["t", "wilcoxon"] = "t",
    treatment: str | None = None,
    selected_on_baseline: bool = False,
    strict: bool = False,
    id_col: str | None = "person_id",
    label: str = "",
) -> Estimate:
    """Change from before to after in the same people (``value`` = after − before).

    Parameters
    ----------
    data
        One row per person.
    before, after
        Columns with the value before and after the programme.
    level
        Confidence level.
    method
        ``"t"``: mean change, paired-t interval (R ``t.test(after, before, paired = TRUE)``).
        ``"wilcoxon"``: Hodges–Lehmann estimate of the (pseudo)median change with the
        signed-rank interval and p value (R ``wilcox.test(after, before, paired = TRUE,
        conf.int = TRUE)``; exact for fewer than 50 non-zero changes without ties, normal
        approximation with continuity correction otherwise; see
        :func:`pfseval.inference.signrank_test`).
    treatment
        A 0/1 column: 1 marks the participants, 0 the people of a comparison group (not in the
        programme) measured at the same times. The estimate then becomes the difference of
        mean changes, participants − comparison, with Welch's interval (R ``t.test(change_p,
        change_c)``): the adjustment for regression to the mean and for outside influences.
        Only with ``method="t"``. Without it every row is a participant.
    selected_on_baseline
        Say ``True`` when participants were chosen because their ``before`` value was high (or
        low): without a comparison group a notice says that part of the change is regression
        to the mean. With a comparison group the notice is also given when the participants'
        baseline mean is more than 0.5 pooled SD from the comparison group's.
    strict
        ``True``: people with only one of the two values raise
        :class:`~pfseval.errors.DataValidationError`; ``False`` (default): they are excluded and
        counted in the sample flow, with an :class:`~pfseval.errors.AttritionWarning`.
    id_col
        Column whose values identify people in the sample flow (row labels when absent).
        One row per person: a repeated id raises
        :class:`~pfseval.errors.DataValidationError` (here and in the other functions of
        this module).
    label
        Display name of the indicator.

    Returns
    -------
    Estimate
        ``estimand`` is ``"mean_change"``, ``"pseudo_median_change"`` or
        ``"difference_in_mean_change"``; with a comparison group ``related`` holds each group's
        own mean change.

    Examples
    --------
    >>> df = pd.DataFrame({"sbp_0": [150, 142, 160, 155, 148], "sbp_1": [141, 140, 151, 150, 146]})
    >>> import warnings
    >>> with warnings.catch_warnings():  # 5 pairs: SmallSampleWarning
    ...     warnings.simplefilter("ignore")
    ...     est = compare(df, before="sbp_0", after="sbp_1")
    >>> est.value, round(est.conf_low, 4), round(est.conf_high, 4)  # as R t.test(paired=TRUE)
    (-5.4, -9.7547, -1.0453)
    """
    context = "prepost.compare"
    if treatment is not None:
        if method != "t":
            raise DesignError(
                "the comparison-group adjustment uses mean changes: call with method='t'"
            )
        return _compare_with_group(
            data,
            before=before,
            after=after,
            level=level,
            treatment=treatment,
            selected_on_baseline=selected_on_baseline,
            strict=strict,
            id_col=id_col,
            label=label,
        )
    pr = _pairs(data, before, after, strict=strict, id_col=id_col, context=context)
    d = pr.after - pr.before
    n = len(d)
    notices = [*pr.notices, *_small_n_notice(n)]
    if selected_on_baseline:
        notices.append(Notice("prepost.selected_on_baseline", category=RegressionToMeanWarning))
    diag: dict[str, Any] = {
        "n_treated": n,
        "mean_before": float(pr.before.mean()) if n else math.nan,
        "mean_after": float(pr.after.mean()) if n else math.nan,
        "n_increased": int((d > 0).sum()),
        "n_decreased": int((d < 0).sum()),
        "n_unchanged": int((d == 0).sum()),
    }
    common: dict[str, Any] = {
        "sample_flow": pr.flow,
        "provenance": provenance(seed=None, data=data),
        "label": label,
    }
    if method == "t":
        return _mean_change(d, level, diag, notices, common, context=context)
    return _median_change(d, level, diag, notices, common, context=context)


def _mean_change(
    d: FloatArray,
    level: float,
    diag: dict[str, Any],
    notices: list[Notice],
    common: dict[str, Any],
    *,
    context: str,
) -> Estimate:
    """Mean change with the paired t interval (R ``t.test(after, before, paired = TRUE)``)."""
    n = len(d)
    if n < 2:
        raise DesignError(f"{context}: need at least 2 complete pairs, got {n}")
    mean, lo, hi, se, p = _paired_t(d, level)
    diag["sd_change"] = float(d.std(ddof=1))
    diag["df"] = n - 1
    return _build(
        notices,
        depth=1,
        estimand="mean_change",
        value=mean,
        conf_low=lo,
        conf_high=hi,
        level=level,
        method=Message("prepost.method.paired_t"),
        n=n,
        std_error=se,
        p_value=p,
        diagnostics=diag,
        **common,
    )


def _median_change(
    d: FloatArray,
    level: float,
    diag: dict[str, Any],
    notices: list[Notice],
    common: dict[str, Any],
    *,
    context: str,
) -> Estimate:
    """Hodges–Lehmann change with the signed-rank interval (R ``wilcox.test(conf.int = TRUE)``)."""
    n = len(d)
    if n < 1:
        raise DesignError(f"{context}: no complete pairs")
    res = signrank_test(d, level=level)
    diag.update(
        statistic_v=res.statistic,
        exact=res.exact,
        n_nonzero=res.n_nonzero,
        n_zero=res.n_zero,
        ties=res.ties,
        requested_level=level,
    )
    code = "exact" if res.exact else "normal"
    return _build(
        [*notices, *res.notices],
        depth=1,
        estimand="pseudo_median_change",
        value=res.estimate,
        conf_low=res.conf_low,
        conf_high=res.conf_high,
        level=res.level if 0 < res.level < 1 else level,
        method=Message(
            f"prepost.method.hodges_lehmann_{code}",
            params={"exact": res.exact, "correct": True, "achieved_level": res.level},
        ),
        n=n,
        p_value=res.p_value,
        diagnostics=diag,
        **common,
    )


def _zero_one(
    data: pd.DataFrame, col: str, context: str, *, missing_ok: bool, message: str, expected: str
) -> FloatArray:
    """The column as float, raising for values other than 0 and 1 (and NaN if ``missing_ok``)."""
    g = numeric_column(data, col, context=context)
    bad = ~np.isin(g, [0.0, 1.0])
    if missing_ok:
        bad &= ~np.isnan(g)
    rows = np.flatnonzero(bad)
    if rows.size:
        raise DataValidationError(
            [
                DataProblem(
                    column=col,
                    kind="out_of_range",
                    message=message,
                    rows=tuple(int(i) for i in rows),
                    values=tuple(g[rows[:10]].tolist()),
                    expected=expected,
                )
            ],
            source=context,
        )
    return g


def _compare_with_group(
    data: pd.DataFrame,
    *,
    before: str,
    after: str,
    level: float,
    treatment: str,
    selected_on_baseline: bool,
    strict: bool,
    id_col: str | None,
    label: str,
) -> Estimate:
    """Difference of mean changes, participants (``treatment == 1``) − comparison group."""
    context = "prepost.compare(treatment=...)"
    marker = _zero_one(
        data,
        treatment,
        context,
        missing_ok=False,
        message="the treatment column must be 1 (participant) or 0 (comparison group)",
        expected="0 or 1, no missing values",
    )
    is_t = np.asarray(marker == 1.0)
    pp = _pairs(
        data, before, after, strict=strict, id_col=id_col, context=context,
        mask=is_t, group="treated",
    )  # fmt: skip
    pc = _pairs(
        data, before, after, strict=strict, id_col=id_col, context=context,
        mask=~is_t, group="control",
    )  # fmt: skip
    for name, pr in (("participants", pp), ("comparison", pc)):
        if len(pr.before) < 2:
            raise DesignError(
                f"{context}: the {name} group has {len(pr.before)} complete pair(s); "
                "at least 2 are needed"
            )
    dp, dc = pp.after - pp.before, pc.after - pc.before
    diff, lo, hi, se, p, df = _welch(dp, dc, level)
    pooled = math.sqrt((pp.before.var(ddof=1) + pc.before.var(ddof=1)) / 2)
    smd = float((pp.before.mean() - pc.before.mean()) / pooled) if pooled > 0 else 0.0
    notices = [*pp.notices, *pc.notices, *_small_n_notice(min(len(dp), len(dc)))]
    if abs(smd) > RTM_SMD_THRESHOLD or selected_on_baseline:
        notices.append(
            Notice(
                "prepost.baseline_differs",
                category=RegressionToMeanWarning,
                params={"smd": smd, "threshold": RTM_SMD_THRESHOLD},
            )
        )
    return _build(
        notices,
        depth=1,
        estimand="difference_in_mean_change",
        value=diff,
        conf_low=lo,
        conf_high=hi,
        level=level,
        method=Message("prepost.method.difference_in_changes"),
        n=len(dp) + len(dc),
        std_error=se,
        p_value=p,
        diagnostics={
            "n_treated": len(dp),
            "n_control": len(dc),
            "mean_change_treated": float(dp.mean()),
            "mean_change_control": float(dc.mean()),
            "baseline_mean_treated": float(pp.before.mean()),
            "baseline_mean_control": float(pc.before.mean()),
            "baseline_smd": smd,
            "df": df,
        },
        related={
            "participants_mean_change": _own_change(pp, dp, level, "treated"),
            "comparison_mean_change": _own_change(pc, dc, level, "control"),
        },
        sample_flow=pp.flow.combine(pc.flow),
        provenance=provenance(seed=None, data=data),
        label=label,
    )


def _own_change(pr: _Pairs, d: FloatArray, level: float, group: str) -> Estimate:
    """One group's own mean change with its paired t interval (shown beside the difference)."""
    m, lo, hi, se, p = _paired_t(d, level)
    return Estimate(
        estimand="mean_change",
        value=m,
        conf_low=lo,
        conf_high=hi,
        level=level,
        method=Message(f"prepost.method.own_change_{group}"),
        n=len(d),
        std_error=se,
        p_value=p,
        sample_flow=pr.flow,
    )


# ---------------------------------------------------------------- binary before/after


@validated("prepost.paired_proportions")
def paired_proportions(
    data: pd.DataFrame,
    *,
    before: str,
    after: str,
    level: float = 0.95,
    mcnemar: Literal["auto", "exact", "asymptotic"] = "auto",
    correct: bool = True,
    strict: bool = False,
    id_col: str | None = "person_id",
    label: str = "",
) -> Estimate:
    """Change in a yes/no item (e.g. exercise habit): ``p_after − p_before`` in the same people.

    The interval is Newcombe's method 10 for paired data
    (:func:`pfseval.inference.newcombe_paired`). The p value is McNemar's test
    (:func:`pfseval.inference.mcnemar_test`): with ``mcnemar="auto"`` the exact binomial test
    on the discordant pairs (R ``binom.test(n01, n01 + n10)``) when there are fewer than 25 of
    them, otherwise the chi-squared test (R ``mcnemar.test``), with the continuity correction
    unless ``correct=False`` (R ``mcnemar.test(correct = FALSE)``); both p values are in
    ``diagnostics``. Options ``strict``, ``id_col`` and ``label`` are as in :func:`compare`.

    Examples
    --------
    >>> df = pd.DataFrame({"ex0": [0] * 13 + [1] * 7, "ex1": [0] * 10 + [1] * 10})
    >>> est = paired_proportions(df, before="ex0", after="ex1", id_col=None)
    >>> est.value, round(est.conf_low, 4), round(est.conf_high, 4), est.p_value
    (0.15, -0.0306, 0.3117, 0.25)
    """
    context = "prepost.paired_proportions"
    for col in (before, after):
        _zero_one(
            data,
            col,
            context,
            missing_ok=True,
            message="values must be 0/1",
            expected="0 (no) or 1 (yes), missing as NaN",
        )
    pr = _pairs(data, before, after, strict=strict, id_col=id_col, context=context)
    b, a = pr.before, pr.after
    n = len(b)
    if n == 0:
        raise DesignError(f"{context}: no complete pairs")
    n11 = int(((b == 1) & (a == 1)).sum())
    n10 = int(((b == 1) & (a == 0)).sum())
    n01 = int(((b == 0) & (a == 1)).sum())
    n00 = n - n11 - n10 - n01
    lo, hi = newcombe_paired(n11, n10, n01, n00, level=level)
    mc = mcnemar_test(n10, n01, correct=correct)
    disc = mc.n_discordant
    use_exact = mcnemar == "exact" or (mcnemar == "auto" and disc < MCNEMAR_EXACT_BELOW)
    how = "exact" if use_exact else ("chi2" if correct else "chi2_uncorrected")
    return _build(
        [*pr.notices, *_small_n_notice(n)],
        estimand="difference_in_paired_proportions",
        value=(n01 - n10) / n,
        conf_low=lo,
        conf_high=hi,
        level=level,
        method=Message(
            f"prepost.method.paired_proportions_{how}",
            params={"mcnemar": "exact" if use_exact else "asymptotic", "correct": correct},
        ),
        n=n,
        p_value=mc.p_value_exact if use_exact else mc.p_value_asymptotic,
        diagnostics={
            "n_yes_yes": n11,
            "n_yes_no": n10,
            "n_no_yes": n01,
            "n_no_no": n00,
            "p_before": (n11 + n10) / n,
            "p_after": (n11 + n01) / n,
            "n_discordant": disc,
            "mcnemar_exact": use_exact,
            "mcnemar_correct": correct,
            "mcnemar_statistic": mc.statistic,
            "p_value_asymptotic": mc.p_value_asymptotic,
            "p_value_exact": mc.p_value_exact,
        },
        sample_flow=pr.flow,
        provenance=provenance(seed=None, data=data),
        label=label,
    )


# ---------------------------------------------------------------- share improved, totals


@validated("prepost.share_improved")
def share_improved(
    data: pd.DataFrame,
    *,
    before: str,
    after: str,
    threshold: float | None = None,
    direction: Literal["decrease", "increase"] = "decrease",
    rule: Callable[[FloatArray, FloatArray], Any] | None = None,
    level: float = 0.95,
    strict: bool = False,
    id_col: str | None = "person_id",
    label: str = "",
) -> Estimate:
    """Share of people improved, with the Wilson interval (main) and Clopper–Pearson.

    A person is improved when, with ``direction="decrease"`` (lower is better, e.g. a
    checklist score), ``after − before <= −threshold``, or ``after < before`` when no threshold
    is given; with ``direction="increase"`` the mirror rule. ``rule`` replaces both: a function
    of the ``before`` and ``after`` arrays returning a boolean array (e.g. ``lambda b, a: a <= b``
    for "maintained or improved").

    The Wilson interval is R's ``prop.test(x, n, correct = FALSE)``; Clopper–Pearson (in
    ``intervals``) is ``binom.test(x, n)``.

    Examples
    --------
    >>> df = pd.DataFrame({"s0": [10, 12, 9, 14, 11, 8], "s1": [8, 12, 10, 11, 9, 8]})
    >>> import warnings
    >>> with warnings.catch_warnings():  # 6 people: SmallSampleWarning
    ...     warnings.simplefilter("ignore")
    ...     est = share_improved(df, before="s0", after="s1", threshold=1)
    >>> est.value, est.diagnostics["n_improved"]
    (0.5, 3)
    """
    context = "prepost.share_improved"
    if rule is not None and threshold is not None:
        raise DesignError("give either rule= or threshold=, not both")
    pr = _pairs(data, before, after, strict=strict, id_col=id_col, context=context)
    n = len(pr.before)
    if n == 0:
        raise DesignError(f"{context}: no complete pairs")
    change = pr.after - pr.before
    sign = -1.0 if direction == "decrease" else 1.0
    if rule is not None:
        improved = np.asarray(rule(pr.before, pr.after), dtype=bool)
        if improved.shape != (n,):
            raise DesignError(
                f"rule must return one boolean per person ({n}), got {improved.shape}"
            )
        how = "rule(before, after)"
        code = "rule"
    elif threshold is None:
        improved = sign * change > 0
        # a formula in symbols (Δ = after − before), the same in a Japanese or English report
        how = f"Δ {'<' if sign < 0 else '>'} 0"
        code = direction
    else:
        improved = sign * change >= threshold
        how = f"Δ {'≤ −' if sign < 0 else '≥ '}{threshold:g}"
        code = f"threshold_{direction}"
    x = int(improved.sum())
    lo, hi = wilson(x, n, level=level)
    cp = clopper_pearson(x, n, level=level)
    return _build(
        [*pr.notices, *_small_n_notice(n)],
        estimand="share_improved",
        value=x / n,
        conf_low=lo,
        conf_high=hi,
        level=level,
        method=Message(
            f"prepost.method.share_improved_{code}",
            params={"threshold": threshold, "direction": direction, "user_rule": rule is not None},
        ),
        n=n,
        std_error=math.sqrt(x / n * (1 - x / n) / n),
        intervals={"wilson": (lo, hi), "clopper_pearson": cp},
        diagnostics={"n_improved": x, "rule": how},
        sample_flow=pr.flow,
        provenance=provenance(seed=None, data=data),
        label=label,
    )


@validated("prepost.count_total")
def count_total(
    data: pd.DataFrame,
    *,
    before: str,
    after: str,
    direction: Literal["decrease", "increase"] = "decrease",
    method: Literal["t", "poisson"] = "t",
    level: float = 0.95,
    strict: bool = False,
    id_col: str | None = "person_id",
    label: str = "",
) -> Estimate:
    """Total of per-person count changes, e.g. the number of drugs reduced.

    ``value`` = Σ (before − after) for ``direction="decrease"`` (drugs reduced, net of drugs
    added), Σ (after − before) for ``"increase"``. Intervals treat the participants as a sample
    of the people the programme could serve:

    - ``method="t"``: n × the t interval of the mean per-person change (R ``n * t.test(change)``);
      valid for any changes, the default.
    - ``method="poisson"``: exact Poisson interval for the total (R ``poisson.test(total)``);
      only when every per-person change in the stated direction is a non-negative integer
      (e.g. reductions only), otherwise a :class:`~pfseval.errors.DataValidationError`.

    ``related["mean_per_person"]`` is the mean change per person with its t interval.

    Examples
    --------
    >>> df = pd.DataFrame({"d0": [5, 3, 6, 4, 2, 7], "d1": [4, 3, 4, 4, 1, 6]})
    >>> import warnings
    >>> with warnings.catch_warnings():  # 6 people: SmallSampleWarning
    ...     warnings.simplefilter("ignore")
    ...     est = count_total(df, before="d0", after="d1")
    >>> est.value, round(est.conf_low, 4), round(est.conf_high, 4)
    (5.0, 0.2601, 9.7399)
    """
    context = "prepost.count_total"
    pr = _pairs(data, before, after, strict=strict, id_col=id_col, context=context)
    n = len(pr.before)
    if n < 2:
        raise DesignError(f"{context}: need at least 2 complete pairs, got {n}")
    r = pr.before - pr.after if direction == "decrease" else pr.after - pr.before
    total = float(r.sum())
    mean, mlo, mhi, se, p = _paired_t(r, level)
    if method == "t":
        lo, hi = n * mlo, n * mhi
    else:
        bad = np.flatnonzero((r < 0) | (r != np.round(r)))
        if bad.size:
            raise DataValidationError(
                [
                    DataProblem(
                        column=after,
                        kind="out_of_range",
                        message="method='poisson' needs non-negative integer changes in the "
                        f"{direction} direction; these people changed the other way or by a "
                        "fraction. Fix: use method='t'",
                        rows=tuple(int(i) for i in pr.pos[bad]),
                        values=tuple(r[bad[:10]].tolist()),
                    )
                ],
                source=context,
            )
        a = 1 - level
        x = round(total)
        lo = 0.0 if x == 0 else float(stats.chi2.ppf(a / 2, 2 * x) / 2)
        hi = float(stats.chi2.ppf(1 - a / 2, 2 * x + 2) / 2)
    per = Estimate(
        estimand="mean_change_per_person",
        value=mean,
        conf_low=mlo,
        conf_high=mhi,
        level=level,
        method=Message("prepost.method.mean_change_per_person"),
        n=n,
        std_error=se,
        p_value=p,
    )
    return _build(
        [*pr.notices, *_small_n_notice(n)],
        estimand="total_change",
        value=total,
        conf_low=lo,
        conf_high=hi,
        level=level,
        method=Message(
            f"prepost.method.total_{method}_{direction}",
            params={"method": method, "direction": direction},
        ),
        n=n,
        std_error=n * se if method == "t" else math.sqrt(max(total, 0.0)),
        p_value=p if method == "t" else None,
        related={"mean_per_person": per},
        diagnostics={
            "direction": direction,
            "n_improved": int((r > 0).sum()),
            "n_worsened": int((r < 0).sum()),
            "gross_improvement": float(r[r > 0].sum()),
            "gross_worsening": float(-r[r < 0].sum()),
        },
        sample_flow=pr.flow,
        provenance=provenance(seed=None, data=data),
        label=label,
    )
