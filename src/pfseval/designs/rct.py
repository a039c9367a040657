"""Randomised trials (ランダム化比較試験): two-arm comparisons and randomisation tests.

:func:`compare` estimates the effect of the intervention (``treatment == 1``) against
control (``treatment == 0``) as intervention − control, with the interval that suits the design:

============================================  ==================================================
design / outcome                              estimate and interval
============================================  ==================================================
continuous, no adjustment                     difference in means, Welch t interval
continuous or 0/1, ``covariates``             Lin (2013): OLS on treatment × centred covariates,
                                              HC2, t(n − k)
``strata`` (blocked randomisation)            stratum-size-weighted difference (the same Lin
                                              regression on centred stratum indicators), HC2
``cluster`` (cluster randomisation)           OLS (Lin when adjusted), CR2 with Bell–McCaffrey
                                              degrees of freedom (default) or CR1 with t(G − 1)
0/1, no adjustment                            risk difference, Newcombe hybrid-score interval;
                                              risk ratio / odds ratio with log-scale Wald intervals
0/1, ``strata``, ratios                       Mantel–Haenszel risk / odds ratio
``period`` (waitlist / staggered)             estimate per period, combined with weights
                                              proportional to the analysed people per period
============================================  ==================================================

:func:`permutation_test` gives the randomisation test of no effect (exact when the design
allows few enough assignments) and the interval that inverts it under a constant effect.

People with a missing outcome are counted in the sample flow (attrition, by arm) and left out
of the analysis; a notice flags differential attrition (see :func:`compare`).

Both functions are registered in the design contract (``rct.compare``,
``rct.permutation_test``; see :mod:`pfseval.designs.rct_contract`), which checks their options.
"""

from __future__ import annotations

import math
from collections.abc import Hashable, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

import numpy as np
import pandas as pd
from numpy.typing import NDArray
from scipy import stats

from pfseval.checks import fresh_seed, numeric_column, require_columns
from pfseval.designs import rct_contract as _contract  # noqa: F401  (registers the specs)
from pfseval.designs.contract import validated
from pfseval.errors import (
    AttritionWarning,
    DataProblem,
    DataValidationError,
    DesignError,
    PfsevalWarning,
    SmallSampleWarning,
    format_rows,
)
from pfseval.inference import (
    cluster_robust_vcov,
    count_assignments,
    cr2_variance,
    hc_vcov,
    iter_assignments,
    least_squares,
    newcombe_diff,
    permutation_p_value,
    shift_interval,
    t_interval,
    wilson,
)
from pfseval.messages import Message, Notice, declare_messages
from pfseval.result import Estimate, SampleFlow, emit_warnings, provenance

__all__ = [
    "ATTRITION_DIFFERENCE",
    "ATTRITION_OVERALL",
    "FEW_CLUSTERS",
    "compare",
    "permutation_test",
]

Measure = Literal["difference", "risk_ratio", "odds_ratio"]
OutcomeType = Literal["auto", "continuous", "binary"]
ClusterSE = Literal["CR2", "CR1"]

#: Differential attrition rule: warn when the share of people with a missing outcome differs
#: between the arms by more than this (absolute difference of proportions).
ATTRITION_DIFFERENCE = 0.05
#: Warn when more than this share of all randomised people have a missing outcome.
ATTRITION_OVERALL = 0.20
#: Warn when a cluster-randomised analysis has fewer clusters than this.
FEW_CLUSTERS = 20

#: Flow groups, in the package's one vocabulary (treated = the intervention arm).
_ARMS = ("treated", "control")


# ----------------------------------------------------------------- validation and flow


@dataclass
class _Prepared:
    """The analysed records (arrays aligned) and the accounting of the input."""

    y: NDArray[np.float64]
    z: NDArray[np.int64]
    covariates: NDArray[np.float64]  # n × p (p may be 0)
    strata: NDArray[Any] | None
    cluster: NDArray[Any] | None
    period: NDArray[Any] | None
    flow: SampleFlow
    n_input: dict[str, int]
    n_missing_outcome: dict[str, int]
    notices: list[Notice] = field(default_factory=list)


def _need_frame(data: Any) -> pd.DataFrame:
    if not isinstance(data, pd.DataFrame):
        raise TypeError(f"data must be a pandas DataFrame, got {type(data).__name__}")
    return data


def _design_column(
    data: pd.DataFrame, column: str | None, problems: list[DataProblem], *, what: str
) -> NDArray[Any] | None:
    if column is None:
        return None
    s = data[column]
    miss = np.flatnonzero(s.isna().to_numpy())
    if miss.size:
        problems.append(
            DataProblem(
                column=column,
                kind="missing",
                message=f"the {what} is missing",
                rows=tuple(int(i) for i in miss[:50]),
                expected=f"every row to have its {what} (fill it in, or drop the rows yourself)",
            )
        )
    return s.astype(object).to_numpy()


@dataclass(frozen=True)
class _Columns:
    """The checked input columns as arrays (all rows, before any exclusion)."""

    y: NDArray[np.float64]
    z: NDArray[np.int64]
    X: NDArray[np.float64]
    strata: NDArray[Any] | None
    cluster: NDArray[Any] | None
    period: NDArray[Any] | None
    ids: NDArray[Any]


def _read_columns(
    data: pd.DataFrame,
    *,
    outcome: str,
    treatment: str,
    covariates: Sequence[str],
    strata: str | None,
    cluster: str | None,
    period: str | None,
    id_col: str | None,
    context: str,
) -> _Columns:
    """Check every input column at once (one DataValidationError listing all problems)."""
    cols = [outcome, treatment, *covariates, *(c for c in (strata, cluster, period, id_col) if c)]
    require_columns(data, cols, context=context)
    if len(data) == 0:
        raise DesignError(f"{context}: the data frame has no rows")
    problems: list[DataProblem] = []
    a = data[treatment]
    a_num = a if pd.api.types.is_bool_dtype(a) else pd.to_numeric(a, errors="coerce")
    a_arr = pd.Series(a_num).to_numpy(dtype="float64", na_value=np.nan)
    bad_arm = np.flatnonzero(~np.isin(a_arr, [0.0, 1.0]))
    if bad_arm.size:
        problems.append(
            DataProblem(
                column=treatment,
                kind="unknown_code",
                message="the treatment must be 1 (intervention) or 0 (control)",
                rows=tuple(int(i) for i in bad_arm[:50]),
                values=tuple(a.iloc[bad_arm[:10]].tolist()),
                expected="0 or 1 in every row (recode the treatment column; missing values are "
                "not allowed)",
            )
        )
    y = numeric_column(data, outcome, context=context, what="the outcome", problems=problems)
    covs = [
        numeric_column(data, c, context=context, what="a covariate", problems=problems)
        for c in covariates
    ]
    s = _design_column(data, strata, problems, what="stratum")
    g = _design_column(data, cluster, problems, what="cluster")
    per = _design_column(data, period, problems, what="period")
    if id_col:
        _duplicate_ids(data, id_col, per, problems)
    if problems:
        raise DataValidationError(problems, source=context)
    return _Columns(
        y=y,
        z=a_arr.astype(np.int64),
        X=np.column_stack(covs) if covs else np.empty((len(data), 0)),
        strata=s,
        cluster=g,
        period=per,
        ids=data[id_col].to_numpy() if id_col else data.index.to_numpy(),
    )


_PERIOD_GROUP = {
    "treated": {"en": "period {period}: treated", "ja": "期間{period}：介入群"},
    "control": {"en": "period {period}: control", "ja": "期間{period}：対照群"},
}


def _period_group(period: Hashable, arm: str) -> str:
    """The flow group of one arm in one period, with its display name declared in ja and en.

    Flow groups are named ``treated`` / ``control``; in a waitlist design each period has its
    own pair, ``"period 2: treated"``, whose name the report renders in Japanese as
    ``期間2：介入群`` through the ``flow.group.<name>`` catalogue entry declared here.
    """
    name = f"period {period}: {arm}"
    label = str(period).replace("{", "{{").replace("}", "}}")
    declare_messages(
        {
            f"flow.group.{name}": {
                lang: tmpl.replace("{period}", label) for lang, tmpl in _PERIOD_GROUP[arm].items()
            }
        }
    )
    return name


def _groups(
    z: NDArray[np.int64], per: NDArray[Any] | None
) -> tuple[list[tuple[Hashable, str]], NDArray[Any]]:
    """Flow groups as (period, name) pairs, treated before control, and each row's group."""
    if per is None:
        return [(None, "treated"), (None, "control")], np.where(z == 1, "treated", "control")
    keys = [(p, _period_group(p, lab)) for p in _period_levels(per) for lab in _ARMS]
    arm_lab = np.where(z == 1, ": treated", ": control").astype(object)
    prefix = ("period " + pd.Series(per, dtype=object).astype(str)).to_numpy(dtype=object)
    return keys, prefix + arm_lab


def _exclude_missing(
    cols: _Columns,
    covariates: Sequence[str],
    keys: list[tuple[Hashable, str]],
    group_of: NDArray[Any],
) -> tuple[SampleFlow, dict[str, int], dict[str, int], NDArray[np.bool_], list[Notice]]:
    """Count people without an outcome, then without a covariate, per group, in the flow."""
    miss_y = np.isnan(cols.y)
    X = cols.X
    miss_x = ~miss_y & np.isnan(X).any(axis=1) if X.shape[1] else np.zeros(len(miss_y), bool)
    n_input = {name: int(np.sum(group_of == name)) for _, name in keys}
    flow = SampleFlow.start(n_input)
    n_missing: dict[str, int] = {}
    for _, name in keys:
        sel = (group_of == name) & miss_y
        n_missing[name] = int(sel.sum())
        flow = flow.exclude(Message("rct.flow.outcome_missing"), cols.ids[sel].tolist(), group=name)
    notices: list[Notice] = []
    if X.shape[1]:
        for _, name in keys:
            sel = (group_of == name) & miss_x
            flow = flow.exclude(
                Message("rct.flow.covariate_missing"), cols.ids[sel].tolist(), group=name
            )
        if miss_x.any():
            notices.append(_missing_covariate_notice(covariates, X, miss_x))
    return flow, n_input, n_missing, ~miss_y & ~miss_x, notices


def _exclude_periods_without_comparison(
    cols: _Columns,
    keys: list[tuple[Hashable, str]],
    keep: NDArray[np.bool_],
    flow: SampleFlow,
) -> tuple[SampleFlow, NDArray[np.bool_], list[Notice]]:
    """Drop periods that lack a concurrent control (or intervention) group, in the flow.

    Such a period, like the second period of a waitlist trial where everyone is served,
    carries no randomised comparison.
    """
    assert cols.period is not None
    per, z = cols.period, cols.z
    notices: list[Notice] = []
    for p, _ in keys[::2]:
        in_p = keep & (per == p)
        has = {code: bool(np.any(in_p & (z == code))) for code in (0, 1)}
        if all(has.values()):
            continue
        lacking = "control" if not has[0] else "treated"
        for code, lab in ((1, "treated"), (0, "control")):
            sel = in_p & (z == code)
            flow = flow.exclude(
                Message(f"rct.flow.period_without_{lacking}", params={"period": p}),
                cols.ids[sel].tolist(),
                group=_period_group(p, lab),
            )
        keep = keep & (per != p)
        notices.append(
            Notice(
                f"rct.period_without_{lacking}",
                category=PfsevalWarning,
                params={"period": p},
                counts={"n_records": int(in_p.sum())},
            )
        )
    return flow, keep, notices


def _ids_in_several_periods(cols: _Columns, keep: NDArray[np.bool_], id_col: str) -> list[Notice]:
    """A person analysed in more than one period makes the periods dependent samples."""
    assert cols.period is not None
    by_period = pd.Series(cols.ids[keep]).groupby(
        pd.Series(cols.period[keep], dtype=object).to_numpy()
    )
    per_id = pd.concat([pd.Series(v.unique()) for _, v in by_period])
    dup = per_id[per_id.duplicated()].unique()
    if not dup.size:
        return []
    return [
        Notice(
            "rct.id_in_several_periods",
            category=PfsevalWarning,
            counts={"n_people": int(dup.size)},
            params={"id_col": id_col, "examples": format_rows(dup, limit=3)},
        )
    ]


def _prepare(
    data: pd.DataFrame,
    *,
    outcome: str,
    treatment: str,
    covariates: Sequence[str],
    strata: str | None,
    cluster: str | None,
    period: str | None,
    id_col: str | None,
    context: str,
) -> _Prepared:
    """Checked, aligned arrays of the analysed people, with the flow of every input record."""
    # The default id column may be absent: the frame's index then identifies the rows.
    if id_col is not None and id_col not in data.columns and id_col == "person_id":
        id_col = None
    cols = _read_columns(
        data,
        outcome=outcome,
        treatment=treatment,
        covariates=covariates,
        strata=strata,
        cluster=cluster,
        period=period,
        id_col=id_col,
        context=context,
    )
    keys, group_of = _groups(cols.z, cols.period)
    flow, n_input, n_missing, keep, notices = _exclude_missing(cols, covariates, keys, group_of)
    if cols.period is not None:
        flow, keep, more = _exclude_periods_without_comparison(cols, keys, keep, flow)
        notices += more
        if not keep.any():
            raise DesignError(
                f"{context}: no period has both an intervention and a control group with an "
                f"observed outcome ({outcome!r}). Fix: check the treatment and period columns."
            )
        if id_col:
            notices += _ids_in_several_periods(cols, keep, id_col)
    prep = _Prepared(
        y=cols.y[keep],
        z=cols.z[keep],
        covariates=cols.X[keep],
        strata=None if cols.strata is None else cols.strata[keep],
        cluster=None if cols.cluster is None else cols.cluster[keep],
        period=None if cols.period is None else cols.period[keep],
        flow=flow,
        n_input=n_input,
        n_missing_outcome=n_missing,
    )
    prep.notices.extend(_attrition_notices(n_input, n_missing, keys))
    prep.notices.extend(notices)
    if cols.period is None:
        for code, lab in ((1, "intervention"), (0, "control")):
            if not np.any(prep.z == code):
                raise DesignError(
                    f"{context}: the {lab} arm ({treatment} == {code}) has no one with an "
                    f"observed outcome ({outcome!r}). Fix: check the treatment coding and the "
                    "outcome column; a comparison needs people in both arms."
                )
    return prep


def _period_levels(period: NDArray[Any]) -> list[Any]:
    """The distinct periods in analysis order (sorted; mixed types grouped by type)."""
    return sorted(pd.unique(period), key=lambda v: (str(type(v)), v))


def _duplicate_ids(
    data: pd.DataFrame, id_col: str, per: NDArray[Any] | None, problems: list[DataProblem]
) -> None:
    """A person (id) may have one row, or one row per period in a waitlist design."""
    key = pd.DataFrame({"id": data[id_col].to_numpy(dtype=object)})
    if per is not None:
        key["period"] = per
    dup = key.duplicated(keep=False).to_numpy() & data[id_col].notna().to_numpy()
    rows = np.flatnonzero(dup)
    if not rows.size:
        return
    within = " within one period" if per is not None else ""
    problems.append(
        DataProblem(
            column=id_col,
            kind="duplicate",
            message=f"the same {id_col} appears on more than one row{within}; each row is "
            "analysed as a separate person",
            rows=tuple(int(i) for i in rows),
            values=tuple(key["id"].iloc[rows[:10]].tolist()),
            expected="one row per person"
            + (" and period" if per is not None else "")
            + " (remove or merge the repeated records)",
        )
    )


def _missing_covariate_notice(
    covariates: Sequence[str], X: NDArray[np.float64], miss_x: NDArray[np.bool_]
) -> Notice:
    missing = [c for j, c in enumerate(covariates) if np.isnan(X[miss_x, j]).any()]
    return Notice(
        "rct.covariate_missing",
        category=PfsevalWarning,
        counts={"n_excluded": int(miss_x.sum())},
        params={"covariates": missing},
    )


def _attrition_notices(
    n_input: dict[str, int], n_missing: dict[str, int], keys: list[tuple[Hashable, str]]
) -> list[Notice]:
    out: list[Notice] = []
    tot_in = sum(n_input.values())
    tot_miss = sum(n_missing.values())
    if tot_in and tot_miss / tot_in > ATTRITION_OVERALL:
        out.append(
            Notice(
                "rct.attrition_overall",
                category=AttritionWarning,
                counts={"n_missing": tot_miss, "n_randomised": tot_in},
                params={"share": tot_miss / tot_in, "threshold": ATTRITION_OVERALL},
            )
        )
    for i in range(0, len(keys), 2):
        (p, g1), (_, g0) = keys[i], keys[i + 1]
        if not n_input[g1] or not n_input[g0]:
            continue
        r1 = n_missing[g1] / n_input[g1]
        r0 = n_missing[g0] / n_input[g0]
        if abs(r1 - r0) > ATTRITION_DIFFERENCE:
            params: dict[str, Any] = {
                "share_treated": r1,
                "share_control": r0,
                "threshold": ATTRITION_DIFFERENCE,
            }
            if p is not None:
                params["period"] = p
            out.append(
                Notice(
                    "rct.attrition_differential" + ("" if p is None else "_in_period"),
                    category=AttritionWarning,
                    counts={
                        "n_missing_treated": n_missing[g1],
                        "n_treated": n_input[g1],
                        "n_missing_control": n_missing[g0],
                        "n_control": n_input[g0],
                    },
                    params=params,
                )
            )
    return out


# ----------------------------------------------------------------- estimators


@dataclass
class _Fit:
    estimand: str
    value: float
    conf_low: float
    conf_high: float
    std_error: float | None
    df: float
    p_value: float | None
    method: Message
    n: int
    intervals: dict[str, tuple[float, float]] = field(default_factory=dict)
    diagnostics: dict[str, Any] = field(default_factory=dict)
    notices: list[Notice] = field(default_factory=list)


def _t_p(value: float, se: float, df: float) -> float | None:
    if not se > 0:
        return None
    return float(2 * stats.t.sf(abs(value / se), df))


def _arm_summary(y: NDArray[np.float64], z: NDArray[np.int64]) -> dict[str, Any]:
    y1, y0 = y[z == 1], y[z == 0]
    return {
        "n_treated": int(y1.size),
        "n_control": int(y0.size),
        "mean_treated": float(y1.mean()),
        "mean_control": float(y0.mean()),
        "sd_treated": float(y1.std(ddof=1)) if y1.size > 1 else float("nan"),
        "sd_control": float(y0.std(ddof=1)) if y0.size > 1 else float("nan"),
    }


def _welch_df(v1: float, v0: float, n1: int, n0: int) -> float:
    """Welch–Satterthwaite degrees of freedom from the squared standard errors ``v1``, ``v0``.

    The formula is scale-free; extreme variances are first rescaled by an exact power of two
    so that their squares neither underflow to 0 nor overflow.
    """
    if not 1e-150 < v1 + v0 < 1e150:
        k = -math.frexp(v1 + v0)[1]
        v1, v0 = math.ldexp(v1, k), math.ldexp(v0, k)
    return (v1 + v0) ** 2 / (v1**2 / (n1 - 1) + v0**2 / (n0 - 1))


def _welch(y: NDArray[np.float64], z: NDArray[np.int64], level: float) -> _Fit:
    y1, y0 = y[z == 1], y[z == 0]
    n1, n0 = y1.size, y0.size
    if n1 < 2 or n0 < 2:
        raise DesignError(
            f"Welch comparison needs at least 2 people with an outcome in each arm "
            f"(intervention {n1}, control {n0}). Fix: collect more outcomes."
        )
    d = float(y1.mean() - y0.mean())
    v1, v0 = float(y1.var(ddof=1)) / n1, float(y0.var(ddof=1)) / n0
    se = math.sqrt(v1 + v0)
    if se > 0:
        df = _welch_df(v1, v0, n1, n0)
        lo, hi = t_interval(d, se, df, level=level)
    else:
        df, lo, hi = float("nan"), d, d
    return _Fit(
        estimand="mean_difference",
        value=d,
        conf_low=lo,
        conf_high=hi,
        std_error=se,
        df=df,
        p_value=_t_p(d, se, df),
        method=Message("rct.method.welch"),
        n=n1 + n0,
        diagnostics={**_arm_summary(y, z), "df": df},
    )


def _binary(y: NDArray[np.float64], z: NDArray[np.int64], measure: Measure, level: float) -> _Fit:
    x1, n1 = int(y[z == 1].sum()), int((z == 1).sum())
    x0, n0 = int(y[z == 0].sum()), int((z == 0).sum())
    p1, p0 = x1 / n1, x0 / n0
    diag: dict[str, Any] = {
        "n_treated": n1,
        "n_control": n0,
        "n_events_treated": x1,
        "n_events_control": x0,
        "risk_treated": p1,
        "risk_control": p0,
        "wilson_treated": wilson(x1, n1, level=level),
        "wilson_control": wilson(x0, n0, level=level),
    }
    notices: list[Notice] = []
    if measure == "difference":
        d = p1 - p0
        lo, hi = newcombe_diff(x1, n1, x0, n0, level=level)
        se = math.sqrt(p1 * (1 - p1) / n1 + p0 * (1 - p0) / n0)
        pbar = (x1 + x0) / (n1 + n0)
        se0 = math.sqrt(pbar * (1 - pbar) * (1 / n1 + 1 / n0))
        p = float(2 * stats.norm.sf(abs(d) / se0)) if se0 > 0 else None
        zq = float(stats.norm.ppf(0.5 + level / 2))
        return _Fit(
            estimand="risk_difference",
            value=d,
            conf_low=lo,
            conf_high=hi,
            std_error=se,
            df=math.inf,
            p_value=p,
            method=Message("rct.method.newcombe"),
            n=n1 + n0,
            intervals={"wald": (d - zq * se, d + zq * se)},
            diagnostics=diag,
        )
    a, b, c, e = float(x1), float(n1 - x1), float(x0), float(n0 - x0)
    # Haldane: the risk ratio needs events in both arms; the odds ratio needs all four cells.
    needed = (a, c) if measure == "risk_ratio" else (a, b, c, e)
    corrected = min(needed) == 0
    if corrected:
        a, b, c, e = a + 0.5, b + 0.5, c + 0.5, e + 0.5
        notices.append(
            Notice(
                "rct.haldane_correction", category=SmallSampleWarning, params={"measure": measure}
            )
        )
    if measure == "risk_ratio":
        log_v = math.log((a / (a + b)) / (c / (c + e)))
        se = math.sqrt(1 / a - 1 / (a + b) + 1 / c - 1 / (c + e))
    else:
        log_v = math.log(a * e / (b * c))
        se = math.sqrt(1 / a + 1 / b + 1 / c + 1 / e)
    diag["haldane_correction"] = corrected
    diag["log_std_error"] = se
    return _log_wald(
        measure,
        log_v,
        se,
        level,
        method=Message(
            f"rct.method.{measure}" + ("_haldane" if corrected else ""),
            params={"measure": measure, "haldane": corrected},
        ),
        n=n1 + n0,
        diagnostics=diag,
        notices=notices,
    )


def _log_wald(
    measure: Measure,
    log_value: float,
    log_se: float,
    level: float,
    *,
    method: Message,
    n: int,
    diagnostics: dict[str, Any],
    notices: list[Notice] | None = None,
) -> _Fit:
    """A ratio fitted on the log scale: Wald interval and p-value, back-transformed."""
    zq = float(stats.norm.ppf(0.5 + level / 2))
    return _Fit(
        estimand=measure,
        value=math.exp(log_value),
        conf_low=math.exp(log_value - zq * log_se),
        conf_high=math.exp(log_value + zq * log_se),
        std_error=None,
        df=math.inf,
        p_value=float(2 * stats.norm.sf(abs(log_value) / log_se)) if log_se > 0 else None,
        method=method,
        n=n,
        diagnostics=diagnostics,
        notices=notices or [],
    )


def _mantel_haenszel(
    y: NDArray[np.float64],
    z: NDArray[np.int64],
    strata: NDArray[Any],
    measure: Measure,
    level: float,
) -> _Fit:
    """Mantel–Haenszel risk or odds ratio over strata, log-scale Wald interval.

    Odds ratio: variance of Robins, Breslow & Greenland (1986); risk ratio: Greenland &
    Robins (1985). Strata with one arm only carry no weight.
    """
    levels, codes = np.unique(strata.astype(str), return_inverse=True)
    K = levels.size
    a = np.bincount(codes, weights=y * (z == 1), minlength=K)
    n1 = np.bincount(codes, weights=(z == 1).astype(float), minlength=K)
    c = np.bincount(codes, weights=y * (z == 0), minlength=K)
    n0 = np.bincount(codes, weights=(z == 0).astype(float), minlength=K)
    b, d, n = n1 - a, n0 - c, n1 + n0
    if measure == "odds_ratio":
        R, S = a * d / n, b * c / n
        P, Q = (a + d) / n, (b + c) / n
        sR, sS = float(R.sum()), float(S.sum())
        if sR == 0 or sS == 0:
            raise DesignError(
                "the Mantel–Haenszel odds ratio is 0 or infinite: no stratum has events in the "
                "intervention arm and non-events in control (or the reverse). Fix: use "
                "measure='difference'."
            )
        log_v = math.log(sR / sS)
        var = float(
            (P * R).sum() / (2 * sR**2)
            + (P * S + Q * R).sum() / (2 * sR * sS)
            + (Q * S).sum() / (2 * sS**2)
        )
        var_ref = "Robins–Breslow–Greenland"
    else:
        num, den = a * n0 / n, c * n1 / n
        sN, sD = float(num.sum()), float(den.sum())
        if sN == 0 or sD == 0:
            raise DesignError(
                "the Mantel–Haenszel risk ratio is 0 or infinite: one arm has no events in any "
                "stratum. Fix: use measure='difference'."
            )
        log_v = math.log(sN / sD)
        var = float(((n1 * n0 * (a + c) - a * c * n) / n**2).sum() / (sN * sD))
        var_ref = "Greenland–Robins"
    se = math.sqrt(var)
    return _log_wald(
        measure,
        log_v,
        se,
        level,
        method=Message(
            f"rct.method.mh_{measure}",
            params={"measure": measure, "strata": int(K), "variance": var_ref},
        ),
        n=int(y.size),
        diagnostics={
            "n_treated": int(n1.sum()),
            "n_control": int(n0.sum()),
            "n_events_treated": int(a.sum()),
            "n_events_control": int(c.sum()),
            "n_strata": int(K),
            "log_std_error": se,
        },
    )


def _unit_range(
    values: NDArray[Any], codes: NDArray[np.int64]
) -> tuple[NDArray[Any], NDArray[Any]]:
    """Largest and smallest of ``values`` within each unit (cluster) ``0 … U − 1`` of ``codes``."""
    g = pd.Series(values).groupby(codes)
    return np.asarray(g.max()), np.asarray(g.min())


def _design_matrix(
    z: NDArray[np.int64], W: NDArray[np.float64], names: list[str]
) -> tuple[NDArray[np.float64], list[str]]:
    Wc = W - W.mean(axis=0) if W.shape[1] else W
    zf = z.astype(float)[:, None]
    X = np.column_stack([np.ones(z.size), zf[:, 0], Wc, zf * Wc])
    cols = ["(intercept)", "treatment", *names, *(f"treatment:{n}" for n in names)]
    return X, cols


def _strata_block(
    strata: NDArray[Any], z: NDArray[np.int64], diag: dict[str, Any]
) -> tuple[NDArray[np.float64], list[str]]:
    """Stratum indicators (first level dropped) for the Lin regression; records stratum sizes."""
    levels, codes = np.unique(strata.astype(str), return_inverse=True)
    tab = pd.crosstab(codes, z)
    tab = tab.reindex(index=range(levels.size), columns=[0, 1], fill_value=0)
    small = [str(levels[i]) for i in range(levels.size) if tab.loc[i].min() < 2]
    if small:
        more = f" (and {len(small) - 1} more)" if len(small) > 1 else ""
        raise DesignError(
            f"stratum {small[0]!r}{more} has fewer than 2 people with an outcome in an arm; "
            "the within-stratum difference has no variance estimate. Fix: merge small strata "
            "before analysis."
        )
    diag["n_strata"] = int(levels.size)
    diag["stratum_sizes"] = {str(lv): int(np.sum(codes == i)) for i, lv in enumerate(levels)}
    dummies = (codes[:, None] == np.arange(1, levels.size)[None, :]).astype(float)
    return dummies, [f"stratum={lv}" for lv in levels[1:]]


def _lin_fit(
    y: NDArray[np.float64], z: NDArray[np.int64], W: NDArray[np.float64], names: list[str]
) -> tuple[NDArray[np.float64], NDArray[np.float64], NDArray[np.float64], list[str]]:
    """OLS of ``y`` on treatment × centred ``W`` (Lin 2013): design, coefficients, residuals."""
    X, cols = _design_matrix(z, W, names)
    n, k = X.shape
    fit = least_squares(X, y)
    if not fit.full_rank:
        raise DesignError(
            "the adjustment regression is rank deficient: a covariate is constant, collinear "
            f"with others or with the strata, or constant within an arm ({', '.join(names)}). "
            "Fix: drop or merge the offending covariates."
        )
    if n - k < 1:
        raise DesignError(
            f"{k} regression coefficients for {n} people: no residual degrees of freedom. "
            "Fix: use fewer covariates."
        )
    return X, fit.coef, fit.resid, cols


def _hc2_interval(
    X: NDArray[np.float64], e: NDArray[np.float64], value: float, level: float
) -> tuple[float, float, tuple[float, float]]:
    """HC2 standard error of the treatment coefficient with t(n − k): ``(se, df, ci)``."""
    n, k = X.shape
    h = np.einsum("ij,jk,ik->i", X, np.linalg.inv(X.T @ X), X)
    if h.max() > 1 - 1e-10:
        raise DesignError(
            "a person has leverage 1 in the adjustment regression (e.g. the only person "
            "with some covariate value in an arm); HC2 is undefined. Fix: use fewer or "
            "coarser covariates."
        )
    se = math.sqrt(float(hc_vcov(X, e, kind="HC2")[1, 1]))
    df = float(n - k)
    return se, df, t_interval(value, se, df, level=level)


def _cluster_counts(
    z: NDArray[np.int64], cluster: NDArray[Any], diag: dict[str, Any], period: Hashable
) -> tuple[NDArray[np.int64], list[Notice]]:
    """Cluster codes, cluster counts in ``diag`` and the notices about the clustering."""
    codes_c, uniq = pd.factorize(pd.Series(cluster.astype(str)))
    codes_c = np.asarray(codes_c, dtype=np.int64)
    G = int(uniq.size)
    zmax, zmin = _unit_range(z, codes_c)
    mixed = int(np.sum(zmax != zmin))
    g1 = int(np.sum(zmax == 1))
    g0 = int(np.sum(zmin == 0))
    sizes = np.bincount(codes_c)
    diag.update(
        n_clusters=G,
        n_clusters_treated=g1,
        n_clusters_control=g0,
        n_clusters_mixed=mixed,
        cluster_size_min=int(sizes.min()),
        cluster_size_max=int(sizes.max()),
    )
    if min(g1, g0) < 2:
        raise DesignError(
            f"cluster-randomised comparison needs at least 2 clusters in each arm "
            f"(intervention {g1}, control {g0}). Fix: more clusters, or analyse the "
            "clusters descriptively."
        )
    where: dict[str, Any] = {} if period is None else {"period": period}
    suffix = "" if period is None else "_in_period"
    notices: list[Notice] = []
    if mixed:
        notices.append(
            Notice(
                "rct.treatment_varies_within_clusters" + suffix,
                category=PfsevalWarning,
                params={"clusters_mixed": mixed, "clusters": G, **where},
            )
        )
    if G < FEW_CLUSTERS:
        notices.append(
            Notice(
                "rct.few_clusters" + suffix,
                category=SmallSampleWarning,
                params={"clusters": G, "threshold": FEW_CLUSTERS, **where},
            )
        )
    return codes_c, notices


def _regression(
    y: NDArray[np.float64],
    z: NDArray[np.int64],
    covariates: NDArray[np.float64],
    covariate_names: list[str],
    strata: NDArray[Any] | None,
    cluster: NDArray[Any] | None,
    *,
    binary: bool,
    level: float,
    cluster_se: ClusterSE,
    strata_col: str | None = None,
    period: Hashable = None,
) -> _Fit:
    """Lin's regression (or OLS on treatment) with HC2, or CR2 / CR1 for clusters."""
    blocks: list[NDArray[np.float64]] = []
    names: list[str] = []
    diag: dict[str, Any] = _arm_summary(y, z)
    notices: list[Notice] = []
    adjusted_for: list[str] = []
    if strata is not None:
        dummies, dnames = _strata_block(strata, z, diag)
        blocks.append(dummies)
        names += dnames
        adjusted_for.append(strata_col or "strata")
    if covariates.shape[1]:
        blocks.append(covariates)
        names += covariate_names
        adjusted_for += covariate_names
    W = np.column_stack(blocks) if blocks else np.empty((z.size, 0))
    X, beta, e, cols = _lin_fit(y, z, W, names)
    n, k = X.shape
    value = float(beta[1])
    intervals: dict[str, tuple[float, float]] = {}
    diag["coefficients"] = dict(zip(cols, (float(b) for b in beta), strict=True))
    diag["n_coefficients"] = k
    form = "lin" if adjusted_for else "ols"
    settings: dict[str, Any] = {"adjusted_for": adjusted_for, "binary": binary}
    if cluster is None:
        se, df, (lo, hi) = _hc2_interval(X, e, value, level)
        method = Message("rct.method.lin_hc2", params={**settings, "df": int(df), "vcov": "HC2"})
    else:
        codes_c, notices = _cluster_counts(z, cluster, diag, period)
        G = int(diag["n_clusters"])
        se1 = math.sqrt(float(cluster_robust_vcov(X, e, codes_c)[1, 1]))
        ci1 = t_interval(value, se1, G - 1, level=level)
        var2, df2 = cr2_variance(X, e, codes_c, 1)
        se2 = math.sqrt(var2)
        ci2 = t_interval(value, se2, df2, level=level)
        diag["df_bell_mccaffrey"] = df2
        if cluster_se == "CR2":
            se, df, (lo, hi) = se2, df2, ci2
            intervals["CR1, t(G-1)"] = ci1
        else:
            se, df, (lo, hi) = se1, float(G - 1), ci1
            intervals["CR2, Bell-McCaffrey df"] = ci2
        method = Message(
            f"rct.method.{form}_{cluster_se.lower()}",
            params={
                **settings,
                "df": round(df, 1) if cluster_se == "CR2" else G - 1,  # exact df in diagnostics
                "clusters": G,
                "vcov": cluster_se,
            },
        )
    diag["df"] = df
    return _Fit(
        estimand="risk_difference" if binary else "mean_difference",
        value=value,
        conf_low=lo,
        conf_high=hi,
        std_error=se,
        df=df,
        p_value=_t_p(value, se, df),
        method=method,
        n=n,
        intervals=intervals,
        diagnostics=diag,
        notices=notices,
    )


def _fit_one(
    prep_y: NDArray[np.float64],
    prep_z: NDArray[np.int64],
    X: NDArray[np.float64],
    covariate_names: list[str],
    strata: NDArray[Any] | None,
    cluster: NDArray[Any] | None,
    *,
    binary: bool,
    measure: Measure,
    level: float,
    cluster_se: ClusterSE,
    strata_col: str | None = None,
    period: Hashable = None,
) -> _Fit:
    if measure != "difference" and not binary:
        raise DesignError(
            f"measure={measure!r} needs a 0/1 outcome; this outcome is continuous. "
            "Fix: use measure='difference', or recode the outcome to 0/1."
        )
    if measure != "difference" and strata is not None and not X.shape[1] and cluster is None:
        return _mantel_haenszel(prep_y, prep_z, strata, measure, level)
    if X.shape[1] or strata is not None or cluster is not None:
        if measure != "difference":
            raise DesignError(
                f"measure={measure!r} is available unadjusted or with strata only (Mantel–"
                "Haenszel); with covariates or clusters use measure='difference' (risk "
                "difference)."
            )
        return _regression(
            prep_y,
            prep_z,
            X,
            covariate_names,
            strata,
            cluster,
            binary=binary,
            level=level,
            cluster_se=cluster_se,
            strata_col=strata_col,
            period=period,
        )
    if binary:
        return _binary(prep_y, prep_z, measure, level)
    return _welch(prep_y, prep_z, level)


def _to_estimate(
    fit: _Fit,
    *,
    level: float,
    flow: SampleFlow | None,
    prov: dict[str, Any],
    label: str,
    extra_diag: dict[str, Any],
    related: dict[str, Estimate] | None = None,
    extra_notices: Sequence[Notice] = (),
) -> Estimate:
    return Estimate(
        estimand=fit.estimand,
        value=fit.value,
        conf_low=fit.conf_low,
        conf_high=fit.conf_high,
        level=level,
        method=fit.method,
        n=fit.n,
        diagnostics={**extra_diag, **fit.diagnostics},
        notices=(*extra_notices, *fit.notices),
        std_error=fit.std_error,
        p_value=fit.p_value,
        intervals=fit.intervals,
        related=related or {},
        sample_flow=flow,
        provenance=prov,
        label=label,
    )


def _attrition_diag(prep: _Prepared) -> dict[str, Any]:
    """Randomised and missing counts per group; one table over periods in waitlist designs."""
    rows: dict[str, dict[str, Any]] = {}
    for g, n in prep.n_input.items():
        miss = prep.n_missing_outcome[g]
        rows[g] = {
            "n_randomised": n,
            "n_missing_outcome": miss,
            "attrition": miss / n if n else float("nan"),
        }
    if prep.period is not None:
        return {"attrition_by_period": rows}
    return {f"{k}_{g}": v for g, row in rows.items() for k, v in row.items()}


def _outcome_kind(y: NDArray[np.float64], outcome: str, outcome_type: OutcomeType) -> bool:
    """Whether the outcome is analysed as 0/1 (``outcome_type="auto"``: all values 0 or 1)."""
    is01 = bool(np.isin(y, [0.0, 1.0]).all())
    if outcome_type == "binary" and not is01:
        bad = np.flatnonzero(~np.isin(y, [0.0, 1.0]))
        raise DataValidationError(
            [
                DataProblem(
                    column=outcome,
                    kind="out_of_range",
                    message="outcome_type='binary' needs 0/1 outcomes",
                    values=tuple(y[bad[:10]].tolist()),
                    expected="0 or 1",
                )
            ],
            source="rct.compare",
        )
    return is01 if outcome_type == "auto" else outcome_type == "binary"


@validated("rct.compare")
def compare(
    data: pd.DataFrame,
    *,
    outcome: str,
    treatment: str,
    covariates: Sequence[str] | None = None,
    strata: str | None = None,
    cluster: str | None = None,
    period: str | None = None,
    measure: Measure = "difference",
    outcome_type: OutcomeType = "auto",
    cluster_se: ClusterSE = "CR2",
    level: float = 0.95,
    id_col: str | None = "person_id",
    label: str = "",
) -> Estimate:
    """Compare the intervention arm with the control arm of a randomised trial.

    Parameters
    ----------
    data
        One row per randomised person (per period, for waitlist designs).
    outcome
        Outcome column (numeric; missing = lost to follow-up, counted in the sample flow).
    treatment
        Treatment column: 1 intervention, 0 control (bool allowed).
    covariates
        Baseline covariates (numeric) for Lin's (2013) adjustment: OLS of the outcome on
        treatment, the covariates centred at their analysed-sample means and their
        interactions with treatment; the treatment coefficient is the adjusted difference,
        with an HC2 standard error and a t(n − k) interval (as R ``lm`` +
        ``sandwich::vcovHC(type = "HC2")``). People with a missing covariate are excluded
        (complete cases), counted in the flow, and a notice names the covariates and the
        count (matching refuses missing covariates instead).
    strata
        Randomisation stratum (block) column. The estimate is the difference in means within
        each stratum weighted by the stratum's share of analysed people, computed as the Lin
        regression on centred stratum indicators (identical numbers), with the HC2 standard
        error (equal to the Neyman variance ``Σ w_s² (s²_1s/n_1s + s²_0s/n_0s)``) and t(n − k).
        Each stratum needs 2 or more people per arm.
    cluster
        Cluster column for cluster-randomised trials (whole clusters assigned to an arm).
        Standard errors are cluster-robust; a warning is given under 20 clusters.
    period
        Period column for waitlist / staggered designs: each period is analysed separately
        (with the same options) and the period estimates are combined with weights
        ``n_p / n`` (analysed people per period, so the target is the average effect over all
        analysed people). The combined variance is ``Σ w_p² SE_p²`` with Satterthwaite degrees
        of freedom. Periods must be independent samples: a person's record may appear in one
        period only. Period estimates are in ``related``.
    measure
        ``"difference"`` (mean or risk difference), or for a 0/1 outcome ``"risk_ratio"`` or
        ``"odds_ratio"`` (log-scale Wald intervals). Unadjusted: when a needed cell is zero,
        0.5 is added to every cell of the 2×2 table and a warning says so — for the risk
        ratio only when an arm has no events, for the odds ratio when any cell is zero. With
        ``strata``: Mantel–Haenszel ratio (Greenland–Robins variance for the risk ratio,
        Robins–Breslow–Greenland for the odds ratio). Not available with covariates,
        clusters or periods.
    outcome_type
        ``"auto"`` treats an outcome whose analysed values are all 0 or 1 as binary.
    cluster_se
        ``"CR2"`` (default): bias-reduced cluster-robust variance with Bell–McCaffrey
        (Satterthwaite) degrees of freedom, as R ``clubSandwich`` (``vcov = "CR2"``,
        ``test = "Satterthwaite"``). ``"CR1"``: ``sandwich::vcovCL(type = "HC1")`` with
        t(G − 1). The other interval is reported in ``intervals``.
    level
        Confidence level.
    id_col
        Column of person ids used in the sample flow (default ``"person_id"``; when the
        default column is absent the frame's index is used). An id may appear once (once per
        period with ``period``); repeated ids are an error.
    label
        Display name of the indicator.

    Returns
    -------
    Estimate
        ``value`` is intervention − control (or intervention / control for ratios), with
        ``conf_low``, ``conf_high``, ``std_error`` (``None`` for ratios; the log-scale SE is in
        ``diagnostics``), ``p_value`` (two-sided, no effect), the sample flow by group
        (``treated``, ``control``; per period), group summaries and attrition in ``diagnostics``.

    Notes
    -----
    For a 0/1 outcome the unadjusted risk difference has the Newcombe hybrid-score interval
    and the score-test p-value (R ``prop.test(correct = FALSE)``); with covariates, strata,
    clusters or periods the risk difference comes from the linear model (robust SEs), and
    within a period the combination uses the Wald SE of each period's risk difference.

    Attrition rule: a notice (:class:`~pfseval.errors.AttritionWarning`) is given when the
    share with a missing outcome differs between the arms by more than 5 percentage points
    (:data:`ATTRITION_DIFFERENCE`), or when more than 20% of all randomised people have no
    outcome (:data:`ATTRITION_OVERALL`).

    Examples
    --------
    >>> df = pd.DataFrame({"treated": [1] * 5 + [0] * 5,
    ...                    "y": [5.1, 6.0, 5.5, 7.2, 6.1, 4.0, 4.8, 5.2, 3.9, 4.4]})
    >>> est = compare(df, outcome="y", treatment="treated")
    >>> round(est.value, 2), round(est.conf_low, 3), round(est.conf_high, 3)
    (1.52, 0.506, 2.534)
    >>> est.sample_flow.n_analysed("control")
    5
    """
    data = _need_frame(data)
    cov_names = [covariates] if isinstance(covariates, str) else list(covariates or [])
    prep = _prepare(
        data,
        outcome=outcome,
        treatment=treatment,
        covariates=cov_names,
        strata=strata,
        cluster=cluster,
        period=period,
        id_col=id_col,
        context="rct.compare",
    )
    binary = _outcome_kind(prep.y, outcome, outcome_type)
    prov = provenance(seed=None, data=data)
    common = {
        "outcome": outcome,
        "outcome_type": "binary" if binary else "continuous",
        **_attrition_diag(prep),
    }
    if prep.period is None:
        fit = _fit_one(
            prep.y,
            prep.z,
            prep.covariates,
            cov_names,
            prep.strata,
            prep.cluster,
            binary=binary,
            measure=measure,
            level=level,
            cluster_se=cluster_se,
            strata_col=strata,
        )
        est = _to_estimate(
            fit,
            level=level,
            flow=prep.flow,
            prov=prov,
            label=label,
            extra_diag=common,
            extra_notices=prep.notices,
        )
        emit_warnings(est.notices, stacklevel=4)  # warn, emit, design, validated(), user
        return est
    if measure != "difference":
        raise DesignError(
            f"measure={measure!r} cannot be combined over periods; use measure='difference'."
        )
    est = _combine_periods(
        prep, cov_names, binary, level, cluster_se, prov, label, common, strata_col=strata
    )
    emit_warnings(est.notices, stacklevel=4)  # warn, emit, design, validated(), user
    return est


def _fit_periods(
    prep: _Prepared,
    cov_names: list[str],
    binary: bool,
    level: float,
    cluster_se: ClusterSE,
    strata_col: str | None,
) -> tuple[list[Any], list[_Fit]]:
    """One difference per period, each with a positive standard error."""
    assert prep.period is not None
    levels = _period_levels(prep.period)
    fits: list[_Fit] = []
    for p in levels:
        sel = prep.period == p
        f = _fit_one(
            prep.y[sel],
            prep.z[sel],
            prep.covariates[sel],
            cov_names,
            None if prep.strata is None else prep.strata[sel],
            None if prep.cluster is None else prep.cluster[sel],
            binary=binary,
            measure="difference",
            level=level,
            cluster_se=cluster_se,
            strata_col=strata_col,
            period=p,
        )
        if f.std_error is None or not f.std_error > 0:
            raise DesignError(
                f"period {p}: the estimate has no positive standard error, so periods cannot "
                "be combined. Fix: check the outcome varies within the period."
            )
        fits.append(f)
    return levels, fits


def _combine_periods(
    prep: _Prepared,
    cov_names: list[str],
    binary: bool,
    level: float,
    cluster_se: ClusterSE,
    prov: dict[str, Any],
    label: str,
    common: dict[str, Any],
    *,
    strata_col: str | None,
) -> Estimate:
    """Weight the period estimates by analysed people; Satterthwaite df for the combination."""
    levels, fits = _fit_periods(prep, cov_names, binary, level, cluster_se, strata_col)
    related = {
        f"period {p}": _to_estimate(
            f, level=level, flow=None, prov={}, label=f"period {p}", extra_diag={}
        )
        for p, f in zip(levels, fits, strict=True)
    }
    n = np.array([f.n for f in fits], dtype=float)
    w = n / n.sum()
    vals = np.array([f.value for f in fits])
    ses = np.array([float(f.std_error or 0.0) for f in fits])
    dfs = np.array([f.df for f in fits])
    value = float(w @ vals)
    terms = (w * ses) ** 2
    se = math.sqrt(float(terms.sum()))
    finite = np.isfinite(dfs)
    denom = float(np.sum(terms[finite] ** 2 / dfs[finite]))
    df = float(terms.sum() ** 2 / denom) if denom > 0 else math.inf
    p_value: float | None
    settings: dict[str, Any] = {
        "period_method": fits[0].method.code,
        "period_settings": dict(fits[0].method.params),
        # A period's Newcombe risk difference enters the combination with its Wald SE.
        "period_se": "wald" if fits[0].method.code == "rct.method.newcombe" else "model",
    }
    if math.isinf(df):
        q = float(stats.norm.ppf(0.5 + level / 2))
        lo, hi = value - q * se, value + q * se
        p_value = float(2 * stats.norm.sf(abs(value) / se))
        method = Message("rct.method.periods_normal", params=settings)
    else:
        lo, hi = t_interval(value, se, df, level=level)
        p_value = _t_p(value, se, df)
        method = Message("rct.method.periods", params={**settings, "df": round(df, 1)})
    diag = {
        **common,
        "n_periods": len(levels),
        "period_weights": {f"period {p}": float(wi) for p, wi in zip(levels, w, strict=True)},
        "df": df,
    }
    fit = _Fit(
        estimand=fits[0].estimand,
        value=value,
        conf_low=lo,
        conf_high=hi,
        std_error=se,
        df=df,
        p_value=p_value,
        method=method,
        n=int(n.sum()),
        diagnostics=diag,
    )
    period_notices = [n_ for f in fits for n_ in f.notices]
    return _to_estimate(
        fit,
        level=level,
        flow=prep.flow,
        prov=prov,
        label=label,
        extra_diag={},
        related=related,
        extra_notices=[*prep.notices, *period_notices],
    )


# ----------------------------------------------------------------- randomisation test


def _big(k: int) -> str:
    """A possibly astronomically large count in words a report can show."""
    return f"{float(k):.3g}" if k < 10**300 else f"about 10^{len(str(k)) - 1}"


@validated("rct.permutation_test")
def permutation_test(
    data: pd.DataFrame,
    *,
    outcome: str,
    treatment: str,
    strata: str | None = None,
    cluster: str | None = None,
    n_perm: int = 10_000,
    seed: int | None = None,
    statistic: Literal["difference"] = "difference",
    alternative: Literal["two-sided", "greater", "less"] = "two-sided",
    level: float = 0.95,
    id_col: str | None = "person_id",
    label: str = "",
) -> Estimate:
    """Randomisation test of no effect, re-drawing the assignment the way the trial drew it.

    The statistic is the difference in means (intervention − control) over people; with
    ``strata`` the stratum-size-weighted difference (as :func:`compare`). The assignment is
    re-drawn with the observed number of treated units in each stratum; with ``cluster``
    whole clusters are re-assigned (the treatment must be constant within a cluster, and the
    stratum too). When the design allows at most ``n_perm`` distinct assignments all are
    enumerated (exact p-value); otherwise ``n_perm`` seeded random re-randomisations give a
    Monte Carlo p-value ``(1 + count) / (1 + n_perm)``.

    People with a missing outcome are excluded (counted in the flow) and the test is run
    over the analysed people, conditional on who was followed up.

    Parameters
    ----------
    n_perm, seed
        Monte Carlo re-randomisations and their seed. With ``seed=None`` a seed is drawn from
        the operating system and recorded in ``provenance["seed"]``, so that the run can be
        repeated exactly. Other options are as in :func:`compare`.
    statistic
        ``"difference"`` (the only statistic at present).
    alternative
        ``"two-sided"`` counts ``|T| ≥ |T_obs|``; ``"greater"`` / ``"less"`` are one-sided.
    level
        Level of the interval obtained by inverting the two-sided test under a constant
        additive effect (the set of shifts ``δ`` not rejected; ``y − δ·treatment`` is re-tested).

    Returns
    -------
    Estimate
        ``value`` the observed difference, ``p_value`` the randomisation p-value,
        ``conf_low``/``conf_high`` the test-inversion interval; ``diagnostics`` holds
        ``exact``, ``n_assignments`` (distinct assignments in the design), ``n_perm_used`` and
        the Monte Carlo standard error of the p-value.

    Examples
    --------
    >>> df = pd.DataFrame({"treated": [1] * 4 + [0] * 4, "y": [5.0, 6, 7, 8, 1, 2, 3, 4]})
    >>> est = permutation_test(df, outcome="y", treatment="treated")
    >>> est.value, round(est.p_value, 4), est.diagnostics["n_assignments"]
    (4.0, 0.0286, 70)
    """
    data = _need_frame(data)
    seed = fresh_seed(seed)  # None: drawn from the OS and recorded, so the run can be repeated
    prep = _prepare(
        data,
        outcome=outcome,
        treatment=treatment,
        covariates=[],
        strata=strata,
        cluster=cluster,
        period=None,
        id_col=id_col,
        context="rct.permutation_test",
    )
    y, z = prep.y, prep.z
    units = _assignment_units(prep)
    stat = _stratified_difference(units, y, z)
    observed = float(stat(units.z.astype(bool)[None, :])[0, 0])
    total = count_assignments(units.z, blocks=units.blocks)
    exact = total <= n_perm
    draws = iter_assignments(units.z, blocks=units.blocks, n_perm=n_perm, seed=seed)
    null = np.vstack([stat(Z) for Z in draws])
    p = permutation_p_value(observed, null[:, 0], exact=exact, alternative=alternative)
    lo, hi = shift_interval(observed, null[:, 0], null[:, 1], exact=exact, level=level)
    notices = list(prep.notices)
    if exact and 2 / total > 1 - level:
        notices.append(
            Notice(
                "rct.few_assignments",
                category=SmallSampleWarning,
                params={"assignments": total, "min_p": 2 / total, "alpha": 1 - level},
            )
        )
    settings: dict[str, Any] = {
        "units": units.kind,
        "strata": strata,
        "cluster": cluster,
        "alternative": alternative,
        "assignments": total if exact else _big(total),
    }
    if exact:
        method = Message("rct.method.permutation_exact", params=settings)
    else:
        method = Message(
            "rct.method.permutation_monte_carlo", params={**settings, "n_perm": n_perm}
        )
    diag = {
        "outcome": outcome,
        "exact": exact,
        "n_assignments": total,
        "n_perm_used": int(null.shape[0]),
        "units": units.kind,
        "n_units": int(units.z.size),
        "alternative": alternative,
        "min_attainable_p": 1 / total if exact else 1 / (1 + n_perm),
        "p_value_mc_se": None if exact else math.sqrt(p * (1 - p) / n_perm),
        **_arm_summary(y, z),
        **_attrition_diag(prep),
    }
    est = Estimate(
        estimand="mean_difference",
        value=observed,
        conf_low=lo,
        conf_high=hi,
        level=level,
        method=method,
        n=int(y.size),
        diagnostics=diag,
        notices=tuple(notices),
        p_value=p,
        sample_flow=prep.flow,
        provenance=provenance(seed=seed, data=data),
        label=label,
    )
    emit_warnings(est.notices, stacklevel=4)  # warn, emit, design, validated(), user
    return est


@dataclass(frozen=True)
class _Units:
    """The units the trial assigned (people or clusters) and their strata."""

    kind: Literal["people", "clusters"]
    codes: NDArray[np.int64]  # unit of each analysed person
    z: NDArray[np.int64]  # assignment of each unit
    strata: NDArray[np.int64]  # stratum of each unit (all 0 without strata)
    blocks: NDArray[np.int64] | None  # strata for re-drawing, None without strata


def _assignment_units(prep: _Prepared) -> _Units:
    """Units re-assigned by the test: people, or whole clusters nested in strata."""
    z = prep.z
    if prep.cluster is not None:
        ucodes, uniq = pd.factorize(pd.Series(prep.cluster.astype(str)))
        ucodes = np.asarray(ucodes, dtype=np.int64)
        zmax, zmin = _unit_range(z, ucodes)
        mixed = np.flatnonzero(zmax != zmin)
        if mixed.size:
            raise DesignError(
                f"the treatment varies within cluster(s) "
                f"{', '.join(map(str, uniq[mixed][:10]))}; re-randomising whole clusters needs "
                "one arm per cluster. Fix: check the treatment and cluster columns."
            )
        unit_z = zmax.astype(np.int64)
        kind: Literal["people", "clusters"] = "clusters"
    else:
        ucodes = np.arange(z.size)
        unit_z = z
        kind = "people"
    if prep.strata is None:
        return _Units(kind, ucodes, unit_z, np.zeros(unit_z.size, dtype=np.int64), None)
    scode_person = np.unique(prep.strata.astype(str), return_inverse=True)[1]
    smax, smin = _unit_range(scode_person, ucodes)
    if np.any(smax != smin):
        raise DesignError(
            "the stratum varies within a cluster; clusters must be nested in strata. Fix: "
            "check the strata and cluster columns."
        )
    s_unit = smax.astype(np.int64)
    return _Units(kind, ucodes, unit_z, s_unit, s_unit)


def _stratified_difference(units: _Units, y: NDArray[np.float64], z: NDArray[np.int64]) -> Any:
    """The statistic for many assignments at once: stratum-size-weighted differences in means.

    Returns a function of a (draws × units) boolean assignment matrix giving, per draw, the
    difference of ``y`` and of the observed treatment (the second column lets the interval
    re-test shifted outcomes without recomputing).
    """
    U = units.z.size
    ucodes = units.codes
    # per-unit sums of the outcome, of the observed assignment and of people
    Ysum = np.column_stack(
        [np.bincount(ucodes, weights=y, minlength=U), np.bincount(ucodes, weights=z, minlength=U)]
    )
    nsum = np.bincount(ucodes, minlength=U).astype(float)
    strata_units = [np.flatnonzero(units.strata == s) for s in np.unique(units.strata)]
    for ix in strata_units:
        k = int(units.z[ix].sum())
        if k == 0 or k == ix.size:
            raise DesignError(
                "a stratum has all its analysed units in one arm, so it carries no comparison. "
                "Fix: merge strata or drop the stratum explicitly before the test."
            )
    wts = [float(nsum[ix].sum()) / y.size for ix in strata_units]

    def stat(Z: NDArray[np.bool_]) -> NDArray[np.float64]:
        out = np.zeros((Z.shape[0], 2))
        for ix, wt in zip(strata_units, wts, strict=True):
            Zs = Z[:, ix].astype(float)
            T1 = Zs @ Ysum[ix]
            N1 = Zs @ nsum[ix]
            Ns = nsum[ix].sum()
            tot = Ysum[ix].sum(axis=0)
            out += wt * (T1 / N1[:, None] - (tot - T1) / (Ns - N1)[:, None])
        return out

    return stat
