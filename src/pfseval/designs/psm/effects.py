"""The average treatment effect on the treated (ATT) in a matched sample.

The ATT is the coefficient of the treatment in the weighted least-squares fit
``y ~ 1 + treated (+ adjustment covariates)`` on the matched rows with MatchIt's matching
weights, i.e. R's ``lm(y ~ treat, data = match.data(m), weights = weights)``. Without
adjustment it is the matched difference in means.

Standard errors:

- matching without replacement: clustered on matched sets, as
  ``sandwich::vcovCL(fit, cluster = ~subclass)`` (HC1-type small-sample factor
  ``G/(G-1) · (n-1)/(n-k)``);
- matching with replacement (a control can sit in several sets, so sets are not clusters):
  heteroskedasticity-robust HC3, as ``sandwich::vcovHC(fit)``;

and the confidence interval is ``estimate ± t_{df, 1-α/2} · SE`` with the residual degrees of
freedom ``n - k`` (``lmtest::coefci``). An optional cluster bootstrap resamples matched sets
(each treated unit with its controls) with replacement and refits.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Literal

import numpy as np
import pandas as pd
from numpy.typing import NDArray
from scipy import stats

from pfseval.checks import fresh_seed, require_columns
from pfseval.designs.contract import validated
from pfseval.designs.psm import specs as _specs  # noqa: F401  (declares the psm messages)
from pfseval.designs.psm.matching import MatchedSample
from pfseval.designs.psm.score import covariate_design
from pfseval.errors import AttritionWarning, MatchingError
from pfseval.inference import (
    bootstrap_draws,
    cluster_robust_vcov,
    hc_vcov,
    percentile_interval,
    t_interval,
)
from pfseval.messages import Message, Notice
from pfseval.result import Estimate, emit_warnings, provenance

__all__ = ["att"]

Vcov = Literal["cluster", "HC0", "HC1", "HC2", "HC3"]


def _set_blocks(
    matched: MatchedSample, rows: NDArray[np.intp], X: NDArray[np.float64], y: NDArray[np.float64]
) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """Per matched set: ``Xᵀ W X`` (S × p × p) and ``Xᵀ W y`` (S × p).

    A set is one matched treated unit (weight 1) and its controls (weight ``c/k`` each, ``c``
    MatchIt's rescaling factor), so summing the blocks over all sets gives the full weighted
    fit, also with replacement and with regression adjustment.
    ``rows`` maps matched-data positions to ``matched.data`` positions.
    """
    pos_in_md = np.full(len(matched.data), -1, dtype=np.intp)
    pos_in_md[rows] = np.arange(len(rows))
    id_pos = pd.Series(np.arange(len(matched.data)), index=matched.data[matched.id_col])
    pairs = matched.pairs
    ctrl_cols = [c for c in pairs.columns if c.startswith("control_id_")]
    has = pairs[ctrl_cols].notna().to_numpy()
    k = has.sum(axis=1)
    set_idx = np.flatnonzero(k > 0)  # one set per matched treated unit
    t_rows = pos_in_md[id_pos.loc[pairs["treated_id"].to_numpy()[set_idx]].to_numpy()]
    p = X.shape[1]
    S = len(set_idx)
    XtWX = np.zeros((S, p, p))
    XtWy = np.zeros((S, p))
    # MatchIt rescales control weights (Σ 1/k per set) to sum to the number of controls used
    is_t = matched.data[matched.treatment].to_numpy() == 1
    scale = float(matched.weights.to_numpy()[~is_t].sum()) / S if S else 1.0
    has_t = np.flatnonzero(t_rows >= 0)  # a treated unit without outcome: its controls stay
    xt = X[t_rows[has_t]]
    XtWX[has_t] += np.einsum("si,sj->sij", xt, xt)
    XtWy[has_t] += xt * y[t_rows[has_t], None]
    for j, c in enumerate(ctrl_cols):
        ok = has[set_idx, j]
        cid = pairs[c].to_numpy()[set_idx[ok]]
        c_rows = pos_in_md[id_pos.loc[cid].to_numpy()]
        good = c_rows >= 0  # control without outcome: dropped from its set
        s_ok = np.flatnonzero(ok)[good]
        c_rows = c_rows[good]
        wk = scale / k[set_idx[s_ok]]
        xc = X[c_rows]
        XtWX[s_ok] += wk[:, None, None] * np.einsum("si,sj->sij", xc, xc)
        XtWy[s_ok] += (wk * y[c_rows])[:, None] * xc
    return XtWX, XtWy


@validated("psm.att")
def att(
    matched: MatchedSample,
    *,
    outcome: str,
    covariates: Sequence[str] | None = None,
    level: float = 0.95,
    vcov: Vcov = "cluster",
    n_boot: int | None = None,
    seed: int | None = None,
    n_jobs: int = 1,
    progress: bool = False,
    label: str = "",
) -> Estimate:
    """Average treatment effect on the treated in a matched sample.

    Parameters
    ----------
    matched
        The result of :func:`pfseval.designs.psm.match`.
    outcome
        Outcome column of ``matched.data`` (e.g. the eGFR change per year).
    covariates
        Covariates for regression adjustment (``y ~ treated + covariates``); ``None`` gives
        the matched difference in means.
    level
        Confidence level.
    vcov
        ``"cluster"``: clustered on matched sets (without replacement; with replacement HC3 is
        used instead and the method says so), or ``"HC0"``–``"HC3"``.
    n_boot
        If given (and not 0), also a cluster bootstrap over matched sets with this many
        resamples (``intervals["bootstrap"]``, percentile, and ``draws``).
    seed, n_jobs, progress
        Bootstrap seed, worker processes and progress bar. With ``n_boot`` and
        ``seed=None`` a seed is drawn from the operating system and recorded in
        ``provenance["seed"]``, so that the run can be repeated.
    label
        Display name of the indicator (default: the outcome column's name).

    Returns
    -------
    Estimate
        ``estimand="ATT"`` with value, t-based CI, std_error, p_value; ``diagnostics`` holds
        counts, the residual degrees of freedom (``df``) and the variance type; ``notices``
        the matched sample's notices followed by this function's own; ``sample_flow``
        continues the matching flow (rows without the outcome are excluded with a reason).

    Examples
    --------
    >>> rng = np.random.default_rng(0)
    >>> n = 1500
    >>> df = pd.DataFrame({"id": np.arange(n), "age": rng.normal(60, 8, n),
    ...                    "sex": rng.integers(1, 3, n)})
    >>> df["t"] = (rng.random(n) < 1 / (1 + np.exp(3 - (df["age"] - 60) / 8))).astype(int)
    >>> df["y"] = -0.05 * df["age"] + 1.0 * df["t"] + rng.normal(0, 1, n)  # true ATT 1
    >>> from pfseval.designs.psm import match
    >>> m = match(df, treatment="t", covariates=["age", "sex"], id_col="id")
    >>> est = att(m, outcome="y")
    >>> est.conf_low < 1.0 < est.conf_high
    True
    """
    # option values were checked by the contract's validator (@validated)
    if n_boot == 0:
        n_boot = None
    data = matched.data
    require_columns(data, [outcome], context="psm.att()")
    adj = tuple(covariates or ())
    require_columns(data, adj, context="psm.att(covariates)")
    w_all = matched.weights.to_numpy()
    t_all = data[matched.treatment].to_numpy() == 1
    y_all = pd.to_numeric(data[outcome], errors="coerce").to_numpy(dtype=float, na_value=np.nan)
    in_ms = w_all > 0
    miss = in_ms & ~np.isfinite(y_all)
    if adj:
        miss |= in_ms & data[list(adj)].isna().any(axis=1).to_numpy()
    flow = matched.sample_flow
    notices: list[Notice] = []
    if miss.any():
        ids = data[matched.id_col].to_numpy()
        reason = Message("psm.flow.no_outcome", params={"outcome": outcome})
        for g, mask in (("treated", t_all), ("control", ~t_all)):
            flow = flow.exclude(reason, ids[miss & mask].tolist(), group=g)
        notices.append(
            Notice(
                "psm.att_missing_outcome",
                category=AttritionWarning,
                counts={
                    "n_treated_missing": int((miss & t_all).sum()),
                    "n_control_missing": int((miss & ~t_all).sum()),
                },
                params={"outcome": outcome},
            )
        )
    use = in_ms & ~miss
    rows = np.flatnonzero(use)
    t = t_all[rows]
    if t.sum() == 0 or (~t).sum() == 0:
        raise MatchingError(
            f"no matched {'treated' if t.sum() == 0 else 'control'} unit has the outcome "
            f"{outcome!r}; the ATT cannot be estimated. Fix: check the outcome column."
        )
    y = y_all[rows]
    w = w_all[rows]
    cols = [np.ones(len(rows)), t.astype(float)]
    names = ["(Intercept)", matched.treatment]
    if adj:
        design = covariate_design(data.iloc[rows], adj)
        cols += list(design.model.T)
        names += list(design.model_names)
    X = np.column_stack(cols)
    n, k = X.shape
    XtW = X.T * w
    try:
        beta = np.linalg.solve(XtW @ X, XtW @ y)
    except np.linalg.LinAlgError as err:
        raise MatchingError(
            f"the adjustment covariates {', '.join(adj)} are collinear in the matched sample. "
            "Fix: drop some of them."
        ) from err
    resid = y - X @ beta
    df_resid = n - k
    if df_resid < 1:
        raise MatchingError(
            f"only {n} matched rows for {k} regression coefficients; the ATT cannot be estimated"
        )
    vtype = vcov
    if vcov == "cluster" and matched.replace:
        vtype = "HC3"
    if vtype == "cluster":
        clusters = matched.subclass.to_numpy(dtype=object, na_value=None)[rows]
        V = cluster_robust_vcov(X, resid, clusters, weights=w)
        n_clusters = len(set(clusters.tolist()))
        # clustered on matched sets, HC1-type factor (sandwich::vcovCL)
        vname = "CR1"
    else:
        # with replacement a control sits in several sets: sets are not clusters
        V = hc_vcov(X, resid, weights=w, kind=vtype)
        n_clusters = None
        vname = vtype
    value = float(beta[1])
    se = float(np.sqrt(V[1, 1]))
    lo, hi = t_interval(value, se, df_resid, level=level)
    p_value = float(2 * stats.t.sf(abs(value / se), df_resid)) if se > 0 else float("nan")
    method_params: dict[str, Any] = {"vcov": vname, "df": df_resid}
    if adj:
        method_params["covariates"] = list(adj)
    intervals: dict[str, tuple[float, float]] = {}
    draws = None
    if n_boot is not None:
        seed = fresh_seed(seed)  # None: drawn from the OS and recorded, so it can be repeated
        XtWX, XtWy = _set_blocks(matched, rows, X, y)
        S = XtWX.shape[0]

        def stat(rng: np.random.Generator) -> float:
            c = np.bincount(rng.integers(0, S, S), minlength=S).astype(float)
            A = np.tensordot(c, XtWX, axes=1)
            b = c @ XtWy
            try:
                return float(np.linalg.solve(A, b)[1])
            except np.linalg.LinAlgError:
                return float("nan")

        draws = bootstrap_draws(
            stat, n_boot=n_boot, seed=seed, n_jobs=n_jobs, progress=progress, desc="ATT bootstrap"
        )
        intervals["bootstrap"] = percentile_interval(draws, level=level)
        method_params.update(n_sets=S, n_boot=int(n_boot))
    method = Message(
        "psm.att.method"
        + ("_adjusted" if adj else "")
        + ("_bootstrap" if n_boot is not None else ""),
        params=method_params,
    )
    emit_warnings(notices, stacklevel=4)
    coef = pd.DataFrame(
        {"term": names, "estimate": beta, "std_error": np.sqrt(np.diag(V))},
    )
    diagnostics = {
        **matched.diagnostics,
        "outcome": outcome,
        "n_treated": int(t.sum()),
        "n_control": int((~t).sum()),
        "df": df_resid,
        "vcov": vtype,
        "n_clusters": n_clusters,
        "covariates": list(adj),
        "coefficients": coef,
        "mean_treated": float(np.average(y[t], weights=w[t])),
        "mean_control": float(np.average(y[~t], weights=w[~t])),
    }
    return Estimate(
        estimand="ATT",
        value=value,
        conf_low=lo,
        conf_high=hi,
        level=level,
        method=method,
        n=n,
        diagnostics=diagnostics,
        notices=(*matched.notices, *notices),
        std_error=se,
        p_value=p_value,
        intervals=intervals,
        draws=draws,
        sample_flow=flow,
        provenance={
            **(matched.provenance or provenance(data=data)),
            "seed": seed if n_boot is not None else matched.seed,
        },
        label=label or outcome,
    )
