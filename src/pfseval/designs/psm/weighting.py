"""Weighting cross-check of a matched estimate: IPW with ATT weights and augmented IPW (AIPW).

Both use every analysed person (not only the matched ones) and a logistic propensity score
``e(x)`` fitted on the covariates:

- **IPW (ATT weights)**: participants weight 1, non-participants ``e/(1 − e)`` (the odds);
  ``τ = mean(y | treated) − Σ_c odds·y / Σ_c odds`` (normalised, Hájek). In R:
  ``lm(y ~ treat, weights = w)`` with WeightIt's ``estimand = "ATT"`` weights.
- **AIPW (doubly robust ATT)**: an outcome model ``m₀(x)`` fitted on the non-participants
  (least squares, or logistic for a 0/1 outcome);
  ``τ = mean_t(y − m₀) − Σ_c odds·(y − m₀) / Σ_c odds``. Consistent when either the
  propensity model or the outcome model is right.

Standard errors are M-estimation sandwiches over the stacked estimating equations (propensity
score, outcome model, the two means), so the estimation of the propensity score and of the
outcome model is accounted for — as R's ``WeightIt::glm_weightit`` does for IPW. The interval is
``τ ± z·SE``.

:func:`weighting_check` puts the AIPW and IPW estimates beside the matched one and adds a
warning when the weighting estimate falls outside the matched estimate's confidence interval.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence

import numpy as np
import pandas as pd
from numpy.typing import NDArray
from scipy import stats
from scipy.special import expit

from pfseval.checks import require_columns
from pfseval.designs.contract import validated
from pfseval.designs.psm import effect_messages as _messages  # noqa: F401  (catalogue)
from pfseval.designs.psm import effect_specs as _specs  # noqa: F401  (contract, catalogue)
from pfseval.designs.psm.gcomp import fit_glm
from pfseval.designs.psm.matching import MatchedSample
from pfseval.designs.psm.score import covariate_design
from pfseval.errors import BalanceWarning, DesignError
from pfseval.messages import Message, Notice
from pfseval.result import Estimate, SampleFlow, emit_warnings, provenance

__all__ = ["aipw", "ipw", "weighting_check"]


def _sandwich(P: NDArray[np.float64], J: NDArray[np.float64]) -> NDArray[np.float64]:
    """``A⁻¹ B A⁻ᵀ / n`` with ``A = −J`` (``J`` the mean Jacobian of the estimating equations,
    analytic) and ``B`` the mean outer product of the equations ``P`` (n × p)."""
    n = P.shape[0]
    Ainv = np.linalg.inv(-J)
    return np.asarray(Ainv @ (P.T @ P / n) @ Ainv.T / n, dtype=float)


def n_obs(X: NDArray[np.float64]) -> int:
    return int(X.shape[0])


def _prepare(
    data: pd.DataFrame, treatment: str, outcome: str, covariates: Sequence[str], context: str
) -> tuple[NDArray[np.float64], NDArray[np.float64], NDArray[np.float64], NDArray[np.bool_]]:
    require_columns(data, [treatment, outcome, *covariates], context=context)
    if not covariates:
        raise DesignError(f"{context} needs covariates for the propensity score.")
    y = pd.to_numeric(data[outcome], errors="coerce").to_numpy(dtype=float, na_value=np.nan)
    t = pd.to_numeric(data[treatment], errors="coerce").to_numpy(dtype=float, na_value=np.nan)
    ok = (
        np.isfinite(y)
        & np.isin(t, (0.0, 1.0))
        & data[list(covariates)].notna().all(axis=1).to_numpy()
    )
    if t[ok].sum() == 0 or (1 - t[ok]).sum() == 0:
        raise DesignError(
            f"{context}: both groups need people with {outcome!r} and covariates. Fix: check "
            f"the {treatment!r} and {outcome!r} columns."
        )
    Z = covariate_design(data.loc[ok], list(covariates)).model
    X = np.column_stack([np.ones(int(ok.sum())), Z])
    return X, y[ok], t[ok], ok


def _result(
    name: str,
    value: float,
    se: float,
    level: float,
    method: Message,
    n: int,
    diagnostics: dict[str, object],
    flow: SampleFlow,
    prov: dict[str, object],
    label: str,
) -> Estimate:
    z = float(stats.norm.ppf(0.5 + level / 2))
    return Estimate(
        estimand=name,
        value=value,
        conf_low=value - z * se,
        conf_high=value + z * se,
        level=level,
        method=method,
        n=n,
        std_error=se,
        p_value=float(2 * stats.norm.sf(abs(value / se))) if se > 0 else float("nan"),
        diagnostics=diagnostics,
        sample_flow=flow,
        provenance=prov,
        label=label,
    )


def _flow(
    data: pd.DataFrame, id_col: str | None, t: pd.Series, ok: NDArray[np.bool_]
) -> SampleFlow:
    ids = data[id_col].to_numpy() if id_col else data.index.to_numpy()
    is_t = pd.to_numeric(t, errors="coerce").to_numpy() == 1
    flow = SampleFlow.start({"treated": int(is_t.sum()), "control": int((~is_t).sum())})
    for g, mask in (("treated", is_t), ("control", ~is_t)):
        flow = flow.exclude(Message("psm.flow.weighting_unusable"), ids[mask & ~ok], group=g)
    return flow


@validated("psm.ipw")
def ipw(
    data: pd.DataFrame,
    *,
    treatment: str,
    outcome: str,
    covariates: Sequence[str],
    id_col: str | None = None,
    level: float = 0.95,
    label: str = "",
) -> Estimate:
    """ATT by inverse probability weighting (odds weights) with an M-estimation sandwich SE.

    Examples
    --------
    >>> rng = np.random.default_rng(1)
    >>> n = 2000
    >>> df = pd.DataFrame({"x": rng.normal(size=n)})
    >>> df["t"] = (rng.random(n) < 1 / (1 + np.exp(1 - df["x"]))).astype(int)
    >>> df["y"] = df["x"] + 2.0 * df["t"] + rng.normal(size=n)  # true ATT 2
    >>> est = ipw(df, treatment="t", outcome="y", covariates=["x"])
    >>> bool(est.conf_low < 2.0 < est.conf_high)
    True
    """
    if not 0 < level < 1:
        raise DesignError(f"level must be in (0, 1), got {level!r}.")
    X, y, t, ok = _prepare(data, treatment, outcome, covariates, "psm.ipw()")
    k = X.shape[1]
    gamma = fit_glm(X, t, np.ones(len(t)), binary=True).beta
    odds = np.exp(X @ gamma)
    mu1 = float(y[t == 1].mean())
    mu0 = float(np.sum((1 - t) * odds * y) / np.sum((1 - t) * odds))

    e = expit(X @ gamma)
    c = 1 - t
    P = np.column_stack([X * (t - e)[:, None], t * (y - mu1), c * odds * (y - mu0)])
    J = np.zeros((k + 2, k + 2))  # mean ∂ψ/∂θ, θ = (γ, μ₁, μ₀)
    J[:k, :k] = -(X * (e * (1 - e))[:, None]).T @ X / n_obs(X)
    J[k, k] = -t.mean()
    J[k + 1, :k] = (X * (c * odds * (y - mu0))[:, None]).mean(axis=0)
    J[k + 1, k + 1] = -(c * odds).mean()
    V = _sandwich(P, J)
    grad = np.zeros(k + 2)
    grad[k], grad[k + 1] = 1.0, -1.0
    se = float(np.sqrt(grad @ V @ grad))
    ess = float(np.sum((1 - t) * odds) ** 2 / np.sum(((1 - t) * odds) ** 2))
    return _result(
        "ATT",
        mu1 - mu0,
        se,
        level,
        Message("psm.ipw.method", params={"covariates": list(covariates)}),
        len(y),
        {
            "mu_treated": mu1,
            "mu_control": mu0,
            "n_treated": int(t.sum()),
            "n_control": int((1 - t).sum()),
            "control_effective_sample_size": ess,
            "max_control_weight": float(((1 - t) * odds).max()),
        },
        _flow(data, id_col, data[treatment], ok),
        provenance(data=data),
        label,
    )


@validated("psm.aipw")
def aipw(
    data: pd.DataFrame,
    *,
    treatment: str,
    outcome: str,
    covariates: Sequence[str],
    id_col: str | None = None,
    level: float = 0.95,
    label: str = "",
) -> Estimate:
    """Doubly robust ATT (augmented IPW) with an M-estimation sandwich SE.

    The outcome model is fitted on the non-participants: least squares, or logistic when the
    outcome holds only 0 and 1 (the effect is then a risk difference).

    Examples
    --------
    >>> rng = np.random.default_rng(2)
    >>> n = 2000
    >>> df = pd.DataFrame({"x": rng.normal(size=n)})
    >>> df["t"] = (rng.random(n) < 1 / (1 + np.exp(1 - df["x"]))).astype(int)
    >>> df["y"] = df["x"] + 2.0 * df["t"] + rng.normal(size=n)
    >>> est = aipw(df, treatment="t", outcome="y", covariates=["x"])
    >>> bool(est.conf_low < 2.0 < est.conf_high)
    True
    """
    if not 0 < level < 1:
        raise DesignError(f"level must be in (0, 1), got {level!r}.")
    X, y, t, ok = _prepare(data, treatment, outcome, covariates, "psm.aipw()")
    k = X.shape[1]
    binary = bool(np.isin(np.unique(y), (0.0, 1.0)).all())
    gamma = fit_glm(X, t, np.ones(len(t)), binary=True).beta
    beta = fit_glm(X, y, 1.0 - t, binary=binary).beta  # weight 0: participants left out

    def m0(b: NDArray[np.float64]) -> NDArray[np.float64]:
        lin = X @ b
        return np.asarray(expit(lin) if binary else lin, dtype=float)

    r = y - m0(beta)
    odds = np.exp(X @ gamma)
    eta1 = float(r[t == 1].mean())
    eta0 = float(np.sum((1 - t) * odds * r) / np.sum((1 - t) * odds))

    e = expit(X @ gamma)
    c = 1 - t
    fitted = m0(beta)
    slope = fitted * (1 - fitted) if binary else np.ones(len(y))  # ∂m₀/∂(x'β)
    P = np.column_stack(
        [X * (t - e)[:, None], X * (c * r)[:, None], t * (r - eta1), c * odds * (r - eta0)]
    )
    n = n_obs(X)
    J = np.zeros((2 * k + 2, 2 * k + 2))  # mean ∂ψ/∂θ, θ = (γ, β, η₁, η₀)
    J[:k, :k] = -(X * (e * (1 - e))[:, None]).T @ X / n
    J[k : 2 * k, k : 2 * k] = -(X * (c * slope)[:, None]).T @ X / n
    J[2 * k, k : 2 * k] = -(X * (t * slope)[:, None]).mean(axis=0)
    J[2 * k, 2 * k] = -t.mean()
    J[2 * k + 1, :k] = (X * (c * odds * (r - eta0))[:, None]).mean(axis=0)
    J[2 * k + 1, k : 2 * k] = -(X * (c * odds * slope)[:, None]).mean(axis=0)
    J[2 * k + 1, 2 * k + 1] = -(c * odds).mean()
    V = _sandwich(P, J)
    grad = np.zeros(2 * k + 2)
    grad[2 * k], grad[2 * k + 1] = 1.0, -1.0
    se = float(np.sqrt(grad @ V @ grad))
    model = "logistic" if binary else "least-squares"
    return _result(
        "RD" if binary else "ATT",
        eta1 - eta0,
        se,
        level,
        Message(
            "psm.aipw.method" + ("_logit" if binary else "_ls"),
            params={"covariates": list(covariates), "outcome_model": model},
        ),
        len(y),
        {"n_treated": int(t.sum()), "n_control": int((1 - t).sum()), "outcome_model": model},
        _flow(data, id_col, data[treatment], ok),
        provenance(data=data),
        label,
    )


def weighting_check(
    matched: MatchedSample,
    matched_estimate: Estimate,
    *,
    outcome: str,
    covariates: Sequence[str] | None = None,
    level: float = 0.95,
) -> Estimate:
    """AIPW and IPW estimates on the analysed sample, beside the matched estimate.

    Parameters
    ----------
    matched
        The matched sample (its ``data`` are all analysed people, matched or not).
    matched_estimate
        The matched estimate to compare with (e.g. from :func:`att` or
        :func:`marginal_effect` on the difference scale).
    outcome, covariates
        Outcome column; covariates of both models (default: the matching covariates).
    level
        Confidence level.

    Returns
    -------
    Estimate
        The AIPW estimate with ``related = {"ipw": ..., "matched": matched_estimate}`` and
        ``diagnostics["disagreement"]`` (AIPW − matched). A warning is added when the AIPW
        estimate lies outside the matched estimate's confidence interval.

    Examples
    --------
    >>> from pfseval.designs.psm.kobe import _example_matched
    >>> from pfseval.designs.psm.effects import att
    >>> m = _example_matched(n_treated=60, seed=3)
    >>> chk = weighting_check(m, att(m, outcome="egfr_follow"), outcome="egfr_follow",
    ...                       covariates=["age", "egfr"])
    >>> sorted(chk.related)
    ['ipw', 'matched']
    """
    covs = list(matched.covariates if covariates is None else covariates)
    args = {
        "treatment": matched.treatment,
        "outcome": outcome,
        "covariates": covs,
        "id_col": matched.id_col,
        "level": level,
    }
    est_a = aipw(matched.data, **args)  # type: ignore[arg-type]
    est_i = ipw(matched.data, **args)  # type: ignore[arg-type]
    gap = est_a.value - matched_estimate.value
    notices: list[Notice] = []
    if not matched_estimate.conf_low <= est_a.value <= matched_estimate.conf_high:
        notices.append(
            Notice(
                "psm.weighting_disagreement",
                category=BalanceWarning,
                params={
                    "aipw": est_a.value,
                    "level": matched_estimate.level,
                    "low": matched_estimate.conf_low,
                    "high": matched_estimate.conf_high,
                },
            )
        )
        emit_warnings(notices, stacklevel=3)
    return dataclasses.replace(
        est_a,
        related={"ipw": est_i, "matched": matched_estimate},
        diagnostics={**est_a.diagnostics, "disagreement": gap},
        notices=tuple(notices),
        label=f"weighting cross-check on {outcome}",
    )
