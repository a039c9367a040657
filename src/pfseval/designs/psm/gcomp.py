"""Effects after matching by g-computation: marginal difference, risk ratio and odds ratio.

This is MatchIt's "estimating effects after matching" workflow (Greifer, ``vignette("estimating-
effects")``), i.e. in R::

    fit <- glm(y ~ treat * (x1 + x2), data = md, weights = weights, family = quasibinomial)
    avg_comparisons(fit, variables = "treat", vcov = ~subclass,
                    newdata = subset(treat == 1), comparison = "lnratioavg", transform = "exp")

The outcome model has the treatment, the covariates and every treatment × covariate
interaction (a separate regression per group), fitted on the matched sample with the matching
weights: least squares for a continuous outcome, logistic for a 0/1 outcome. Each matched
participant's outcome is then predicted twice — as treated and as untreated — and the
predictions are averaged over the participants (the ATT): ``μ₁`` and ``μ₀``. The effects are
``μ₁ − μ₀`` (difference / risk difference), ``μ₁/μ₀`` (risk ratio) and
``[μ₁/(1−μ₁)] / [μ₀/(1−μ₀)]`` (marginal odds ratio).

Standard errors come from the delta method with the gradient of the effect with respect to the
model coefficients (exact, analytic) and a cluster-robust covariance of the coefficients:

- clustered on matched sets (``sandwich::vcovCL(fit, cluster = ~subclass)``; ``lm``
  convention ``HC1`` for a continuous outcome, ``glm`` convention ``HC0`` with the ``G/(G−1)``
  adjustment for a binary one);
- matching with replacement: the data are in "one row per matched-set member" form (a control
  used by several sets appears once per set with weight ``1/k`` in each, MatchIt's
  ``get_matches()``), clustered two-way on the set and the person
  (``vcovCL(fit, cluster = ~subclass + id)``: set + person − set∩person).

Intervals are normal (z), as marginaleffects gives them: ``μ₁ − μ₀ ± z·SE``; the risk ratio and
odds ratio are computed on the log scale and exponentiated.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

import numpy as np
import pandas as pd
from numpy.typing import NDArray
from scipy import stats
from scipy.special import expit

from pfseval.checks import fresh_seed, require_columns
from pfseval.designs.contract import validated
from pfseval.designs.psm import effect_messages as _messages  # noqa: F401  (catalogue)
from pfseval.designs.psm import effect_specs as _specs  # noqa: F401  (contract, catalogue)
from pfseval.designs.psm.matching import MatchedSample
from pfseval.designs.psm.score import covariate_design
from pfseval.errors import AttritionWarning, DesignError, SmallSampleWarning
from pfseval.inference import bootstrap_draws, percentile_interval
from pfseval.inference.bca import bca_interval
from pfseval.messages import Message, Notice
from pfseval.result import Estimate, SampleFlow, emit_warnings, provenance

__all__ = ["marginal_effect"]

Effect = Literal["difference", "RD", "RR", "OR"]
_BINARY_EFFECTS = ("RD", "RR", "OR")
_MAX_NEWTON = 50
_GLM_EPS = 1e-8  # R's glm.control(epsilon)


# ---------------------------------------------------------------- the outcome model


@dataclass(frozen=True)
class _Fit:
    """A weighted GLM with a canonical link (identity or logit) and its sandwich parts."""

    beta: NDArray[np.float64]
    bread: NDArray[np.float64]  # (Xᵀ W V X)⁻¹, V the variance function
    scores: NDArray[np.float64]  # n × k: w_i (y_i − μ_i) x_i
    binary: bool
    separated: bool = False  # some fitted probabilities are 0 or 1 (quasi-separation)


def fit_glm(
    X: NDArray[np.float64], y: NDArray[np.float64], w: NDArray[np.float64], *, binary: bool
) -> _Fit:
    """Weighted least squares (``binary=False``) or weighted logistic regression by Newton.

    The logistic fit is R's ``glm(family = quasibinomial, weights = w)`` (the same
    coefficients as binomial; non-integer weights allowed).
    """
    k = X.shape[1]
    separated = False
    if binary:
        # IRLS exactly as R's glm.fit: start at mu = (w y + 1/2) / (w + 1), stop when the
        # deviance changes by less than 1e-8 relative. Under quasi-separation a coefficient
        # drifts off without bound while the fitted probabilities settle; stopping where R
        # stops gives R's numbers.
        mu = (w * y + 0.5) / (w + 1.0)
        eta = np.log(mu / (1 - mu))
        dev_old = _deviance(y, mu, w)
        beta = np.zeros(k)
        for _ in range(_MAX_NEWTON):
            v = mu * (1 - mu)
            z = eta + (y - mu) / v
            beta = _solve(X.T @ (X * (w * v)[:, None]), X.T @ (w * v * z))
            eta = X @ beta
            mu = expit(eta)
            dev = _deviance(y, mu, w)
            if abs(dev - dev_old) / (abs(dev) + 0.1) < _GLM_EPS:
                break
            dev_old = dev
        else:
            raise DesignError(
                "the logistic outcome model did not converge. Fix: use fewer or coarser covariates."
            )
        v = w * mu * (1 - mu)
        tiny = 10 * np.finfo(float).eps  # R's threshold for "fitted probabilities 0 or 1"
        separated = bool(np.any((mu < tiny) | (mu > 1 - tiny)))
    else:
        v = w
        beta = _solve(X.T @ (X * w[:, None]), X.T @ (w * y))
        mu = X @ beta
    bread = np.asarray(np.linalg.inv(X.T @ (X * v[:, None])), dtype=float)
    return _Fit(
        beta=beta,
        bread=bread,
        scores=X * (w * (y - mu))[:, None],
        binary=binary,
        separated=separated,
    )


def _deviance(y: NDArray[np.float64], mu: NDArray[np.float64], w: NDArray[np.float64]) -> float:
    with np.errstate(divide="ignore", invalid="ignore"):
        ll = np.where(y > 0, y * np.log(mu), 0.0) + np.where(y < 1, (1 - y) * np.log1p(-mu), 0.0)
    return float(-2 * np.sum(w * ll))


def _solve(A: NDArray[np.float64], b: NDArray[np.float64]) -> NDArray[np.float64]:
    try:
        return np.asarray(np.linalg.solve(A, b), dtype=float)
    except np.linalg.LinAlgError as err:
        raise DesignError(
            "the outcome model is singular (collinear covariates, or a covariate constant "
            "within a group). Fix: drop some covariates."
        ) from err


def _meat(scores: NDArray[np.float64], clusters: NDArray[np.int64]) -> tuple[NDArray, int]:
    G = int(clusters.max()) + 1
    U = np.zeros((G, scores.shape[1]))
    np.add.at(U, clusters, scores)
    return U.T @ U, G


def cluster_vcov(fit: _Fit, clusters: Sequence[NDArray[np.int64]]) -> NDArray[np.float64]:
    """Cluster-robust covariance as ``sandwich::vcovCL``, one- or two-way.

    One way: ``G/(G−1) · B M B`` (glm, HC0) and additionally ``(n−1)/(n−k)`` for least
    squares (lm, HC1). Two-way (Cameron, Gelbach & Miller 2011): the sum of the two one-way
    covariances minus the one clustered on their intersection, each with its own adjustment.
    """
    n, k = fit.scores.shape
    lm_adj = 1.0 if fit.binary else (n - 1) / (n - k)

    def one(codes: NDArray[np.int64]) -> NDArray[np.float64]:
        M, G = _meat(fit.scores, codes)
        return np.asarray(G / (G - 1) * lm_adj * (fit.bread @ M @ fit.bread), dtype=float)

    if len(clusters) == 1:
        return one(clusters[0])
    a, b = clusters
    both = pd.factorize(pd.Series(list(zip(a.tolist(), b.tolist(), strict=True))))[0]
    return one(a) + one(b) - one(np.asarray(both, dtype=np.int64))


# ---------------------------------------------------------------- matched sets, long form


@dataclass(frozen=True)
class _Long:
    """The matched sample as one row per (matched set, member)."""

    pos: NDArray[np.intp]  # row of matched.data
    set_id: NDArray[np.int64]
    focal: NDArray[np.bool_]  # the set's focal unit (participant for the ATT)
    weight: NDArray[np.float64]


def matched_long(matched: MatchedSample) -> _Long:
    """One row per member of each matched set: the focal unit (the participant for the ATT;
    weight 1) and its ``k`` matches (weight ``1/k`` each), as MatchIt's ``get_matches()``.

    Without replacement every person is in one set and these are MatchIt's ``match.data()``
    weights up to a constant factor on the matches, which does not change a model with a
    separate regression per group.
    """
    pos_of = pd.Series(np.arange(len(matched.data)), index=matched.data[matched.id_col])
    pairs = matched.pairs
    focal_col, match_cols = pairs.columns[0], list(pairs.columns[1:])
    has = pairs[match_cols].notna().to_numpy()
    k = has.sum(axis=1)
    sets = np.flatnonzero(k > 0)
    pos_l = [pos_of.loc[pairs[focal_col].to_numpy()[sets]].to_numpy()]
    set_l = [np.arange(len(sets))]
    focal_l = [np.ones(len(sets), dtype=bool)]
    w_l = [np.ones(len(sets))]
    for j, c in enumerate(match_cols):
        ok = has[sets, j]
        pos_l.append(pos_of.loc[pairs[c].to_numpy()[sets[ok]]].to_numpy())
        set_l.append(np.flatnonzero(ok))
        focal_l.append(np.zeros(int(ok.sum()), dtype=bool))
        w_l.append(1.0 / k[sets[ok]])
    set_id = np.concatenate(set_l).astype(np.int64)
    focal = np.concatenate(focal_l)
    order = np.lexsort((~focal, set_id))  # set by set, focal unit first
    return _Long(
        pos=np.concatenate(pos_l)[order],
        set_id=set_id[order],
        focal=focal[order],
        weight=np.concatenate(w_l)[order],
    )


# ---------------------------------------------------------------- g-computation


def _design(
    Z: NDArray[np.float64], a: NDArray[np.float64]
) -> NDArray[np.float64]:  # [1, A, Z, A·Z]
    n = len(a)
    return np.column_stack([np.ones(n), a, Z, Z * a[:, None]])


def _effects(
    mu1: float, mu0: float, g1: NDArray[np.float64], g0: NDArray[np.float64], binary: bool
) -> dict[str, tuple[float, NDArray[np.float64], bool]]:
    """Effect → (value on the interval scale, gradient on that scale, log scale?)."""
    out = {"difference" if not binary else "RD": (mu1 - mu0, g1 - g0, False)}
    if binary:
        out["RR"] = (float(np.log(mu1 / mu0)), g1 / mu1 - g0 / mu0, True)
        out["OR"] = (
            float(np.log(mu1 / (1 - mu1)) - np.log(mu0 / (1 - mu0))),
            g1 / (mu1 * (1 - mu1)) - g0 / (mu0 * (1 - mu0)),
            True,
        )
    return out


@validated("psm.marginal_effect")
def marginal_effect(
    matched: MatchedSample,
    *,
    outcome: str,
    covariates: Sequence[str] | None = None,
    effect: Effect | None = None,
    level: float = 0.95,
    n_boot: int | None = None,
    seed: int | None = None,
    n_jobs: int = 1,
    progress: bool = False,
    label: str = "",
) -> Estimate:
    """Marginal effect on the treated by g-computation with treatment × covariate interactions.

    Parameters
    ----------
    matched
        The result of :func:`pfseval.designs.psm.match`. Predictions are averaged over the
        focal units: the participants for ``estimand="ATT"``, the matched non-participants for
        ``"ATC"``; the effect is always participants − non-participants.
    outcome
        Outcome column; a column holding only 0 and 1 is binary (logistic model), anything
        else continuous (least squares).
    covariates
        Covariates of the outcome model (default: the matching covariates); ``[]`` gives the
        weighted difference in means.
    effect
        ``"RD"``, ``"RR"`` or ``"OR"`` for a binary outcome (default ``"RD"``);
        ``"difference"`` for a continuous one (the default there). The other scales of a
        binary outcome are in ``related``.
    level
        Confidence level.
    n_boot
        If given, also a cluster bootstrap over matched sets with this many resamples (the
        outcome model refitted in each): ``intervals["bootstrap_bca"]`` (bias-corrected and
        accelerated; the acceleration from the first-order jackknife over sets) and
        ``intervals["bootstrap_percentile"]``, for every
        effect scale; ``draws`` of the main effect.
    seed, n_jobs, progress
        Bootstrap seed (``None``: drawn from the operating system and recorded in
        ``provenance``), worker processes (the draws do not depend on them) and progress bar.
    label
        Display name of the indicator (the main estimate's ``label``; the other scales in
        ``related`` have none).

    Returns
    -------
    Estimate
        ``estimand`` = the effect; ``std_error`` on the interval scale (log for RR/OR);
        ``diagnostics``: ``mu_treated``, ``mu_control`` (average predictions over the
        participants), counts, ``n_clusters``, the covariance type; ``related``: the other
        effect scales of a binary outcome; ``sample_flow`` continues the matching flow.

    Examples
    --------
    >>> from pfseval.designs.psm.kobe import _example_matched
    >>> m = _example_matched(n_treated=60, seed=3)
    >>> est = marginal_effect(m, outcome="egfr_follow", covariates=["age", "egfr"])
    >>> est.estimand, bool(est.conf_low < est.value < est.conf_high)
    ('difference', True)
    """
    if not 0 < level < 1:
        raise DesignError(f"level must be in (0, 1), got {level!r}.")
    if n_boot is not None and (int(n_boot) != n_boot or n_boot < 2):
        raise DesignError(f"n_boot must be an integer ≥ 2, got {n_boot!r}.")
    covs = tuple(matched.covariates if covariates is None else covariates)
    rows = _analysed_rows(matched, outcome, covs)
    binary = bool(np.isin(np.unique(rows.y), (0.0, 1.0)).all())
    eff = _check_effect(effect, binary, outcome)
    Z = rows.covariate_matrix(matched.data, covs)
    X = _design(Z, rows.treated.astype(float))
    fit = fit_glm(X, rows.y, rows.weight, binary=binary)
    separation: list[Notice] = []
    if fit.separated:
        separation.append(Notice("psm.gcomp_separation", category=SmallSampleWarning))
    # g-computation over the focal units (each once, weight 1): the ATT, or the ATC
    mu1, mu0, g1, g0 = _gcomp(fit.beta, Z[rows.focal], binary)
    effects = _effects(mu1, mu0, g1, g0, binary)
    clusters = _clusters(matched, rows)
    V = cluster_vcov(fit, clusters)
    n_sets = len(np.unique(rows.set_id))
    estimand = str(getattr(matched, "estimand", "ATT"))
    method_code = _method_code(binary, covs, estimand, len(clusters))
    method_params: dict[str, object] = {
        "covariates": list(covs),
        "outcome_model": "logistic" if binary else "least squares",
        "n_sets": n_sets,
        "vcov": "cluster2" if len(clusters) == 2 else "cluster",
    }
    prov = {**(matched.provenance or provenance(data=matched.data)), "seed": matched.seed}
    boot: dict[str, dict[str, tuple[float, float]]] = {name: {} for name in effects}
    draws_all = None
    if n_boot is not None:
        seed = fresh_seed(seed)  # None: drawn from the OS and recorded, so it can be repeated
        draws_all, boot = _bootstrap(
            X,
            rows,
            binary,
            effects,
            level=level,
            n_boot=int(n_boot),
            seed=seed,
            n_jobs=n_jobs,
            progress=progress,
        )
        method_params["n_boot"] = int(n_boot)
        prov["seed"] = seed
    diagnostics = {
        "mu_treated": mu1,
        "mu_control": mu0,
        "estimand_population": estimand,
        "n_focal": int(rows.focal.sum()),
        "n_treated_rows": int(rows.treated.sum()),
        "n_control_rows": int((~rows.treated).sum()),
        "n_clusters": n_sets,
        "vcov": "cluster2" if len(clusters) == 2 else "cluster",
        "covariates": list(covs),
        "outcome": outcome,
        "coefficients": fit.beta.tolist(),
    }
    common = {
        "level": level,
        "n": len(rows.pos),
        "notices": (*getattr(matched, "notices", ()), *rows.messages, *separation),
        "sample_flow": rows.flow,
        "provenance": prov,
    }
    z = float(stats.norm.ppf(0.5 + level / 2))
    boot_sfx = "_bootstrap" if n_boot is not None else ""
    ests: dict[str, Estimate] = {}
    for j, (name, (val, grad, is_log)) in enumerate(effects.items()):
        se = float(np.sqrt(grad @ V @ grad))
        lo, hi = val - z * se, val + z * se
        p = float(2 * stats.norm.sf(abs(val / se))) if se > 0 else float("nan")
        back = np.exp if is_log else (lambda x: x)  # the interval scale back to the effect's
        draws = None if draws_all is None else np.asarray(back(draws_all[:, j]), dtype=float)
        ests[name] = Estimate(
            estimand=name,
            value=float(back(val)),
            conf_low=float(back(lo)),
            conf_high=float(back(hi)),
            method=Message(
                method_code + ("_log" if is_log else "") + boot_sfx,
                params=method_params,
                counts={"n_focal": int(rows.focal.sum())},
            ),
            std_error=se,
            p_value=p,
            intervals=boot[name],
            draws=draws,
            diagnostics={**diagnostics, "se_scale": "log" if is_log else "natural"},
            label=label if name == eff else "",
            **common,  # type: ignore[arg-type]
        )
    emit_warnings((*rows.messages, *separation), stacklevel=4)  # 4: through @validated
    main = ests.pop(eff)
    return dataclasses.replace(main, related=ests)


@dataclass(frozen=True)
class _Rows:
    """The matched-set rows with the outcome (long form), and how the others were lost."""

    pos: NDArray[np.intp]
    set_id: NDArray[np.int64]
    focal: NDArray[np.bool_]
    weight: NDArray[np.float64]
    treated: NDArray[np.bool_]
    y: NDArray[np.float64]
    flow: SampleFlow
    messages: tuple[Notice, ...]

    def covariate_matrix(self, data: pd.DataFrame, covs: Sequence[str]) -> NDArray[np.float64]:
        """The covariates' model matrix, centred on the focal units (better conditioned; the
        fit and the predictions do not change)."""
        if not covs:
            return np.zeros((len(self.pos), 0))
        Z = covariate_design(data.iloc[self.pos], covs).model
        return np.asarray(Z - Z[self.focal].mean(axis=0), dtype=float)


def _analysed_rows(matched: MatchedSample, outcome: str, covs: Sequence[str]) -> _Rows:
    """Matched-set rows with the outcome and covariates; the others are excluded in the flow."""
    data = matched.data
    require_columns(data, [outcome, *covs], context="psm.marginal_effect()")
    long = matched_long(matched)
    y_all = pd.to_numeric(data[outcome], errors="coerce").to_numpy(dtype=float, na_value=np.nan)
    ok_row = np.isfinite(y_all)
    if covs:
        ok_row &= data[list(covs)].notna().all(axis=1).to_numpy()
    flow = matched.sample_flow or SampleFlow.start({"all": len(data)})
    in_ms = np.zeros(len(data), dtype=bool)
    in_ms[long.pos] = True
    lost = in_ms & ~ok_row
    messages: list[Notice] = []
    if lost.any():
        ids = data[matched.id_col].to_numpy()
        t_all = data[matched.treatment].to_numpy() == 1
        for g, mask in (("treated", t_all), ("control", ~t_all)):
            if mask[lost].any():
                flow = flow.exclude(
                    Message("psm.flow.gcomp_no_outcome", params={"outcome": outcome}),
                    ids[lost & mask].tolist(),
                    group=g if g in flow.groups else "all",
                )
        messages.append(
            Notice(
                "psm.gcomp_missing_outcome",
                category=AttritionWarning,
                counts={
                    "n_treated_missing": int((lost & t_all).sum()),
                    "n_control_missing": int((lost & ~t_all).sum()),
                },
                params={"outcome": outcome},
            )
        )
    keep = ok_row[long.pos]
    pos = long.pos[keep]
    treated = data[matched.treatment].to_numpy()[pos] == 1
    if treated.sum() == 0 or (~treated).sum() == 0:
        raise DesignError(
            f"no matched {'participant' if treated.sum() == 0 else 'control'} has the outcome "
            f"{outcome!r}. Fix: check the outcome column."
        )
    return _Rows(
        pos=pos,
        set_id=long.set_id[keep],
        focal=long.focal[keep],
        weight=long.weight[keep],
        treated=treated,
        y=y_all[pos],
        flow=flow,
        messages=tuple(messages),
    )


def _check_effect(effect: str | None, binary: bool, outcome: str) -> str:
    eff = effect or ("RD" if binary else "difference")
    if eff not in ("difference", *_BINARY_EFFECTS):
        raise DesignError(f"effect must be 'difference', 'RD', 'RR' or 'OR', got {effect!r}.")
    if binary != (eff in _BINARY_EFFECTS):
        raise DesignError(
            f"effect={eff!r} does not fit the outcome {outcome!r}, which is "
            f"{'binary (0/1)' if binary else 'not binary'}. Fix: use "
            f"{'RD, RR or OR' if binary else 'difference'}."
        )
    return eff


def _clusters(matched: MatchedSample, rows: _Rows) -> list[NDArray[np.int64]]:
    """Matched sets, and the person too when a person has several rows (reused controls, or
    one person in several fiscal years: the ``unit_id`` column when matching used one)."""
    unit_col = (getattr(matched, "options", None) or {}).get("unit_id") or matched.id_col
    person = pd.factorize(matched.data[unit_col].to_numpy()[rows.pos])[0].astype(np.int64)
    if bool(matched.replace) or len(np.unique(person)) < len(person):
        return [rows.set_id, person]
    return [rows.set_id]


def _method_code(binary: bool, covs: Sequence[str], estimand: str, ways: int) -> str:
    """The catalogue code of the method (without the scale and bootstrap suffixes)."""
    return (
        "psm.marginal_effect.method"
        + ("_logit" if binary else "_ls")
        + ("" if covs else "_nocov")
        + ("_att" if estimand == "ATT" else "_atc")
        + ("_cluster2" if ways == 2 else "")
    )


def _bootstrap(
    X: NDArray[np.float64],
    rows: _Rows,
    binary: bool,
    effects: dict[str, tuple[float, NDArray[np.float64], bool]],
    *,
    level: float,
    n_boot: int,
    seed: int,
    n_jobs: int,
    progress: bool,
) -> tuple[NDArray[np.float64], dict[str, dict[str, tuple[float, float]]]]:
    """Cluster-bootstrap draws of every effect (interval scale) and their BCa and percentile
    intervals (effect scale)."""
    sets = pd.factorize(rows.set_id)[0]
    draws, jack = _cluster_bootstrap(
        X,
        rows.y,
        rows.weight,
        sets,
        rows.focal,
        binary,
        n_boot=n_boot,
        seed=seed,
        n_jobs=n_jobs,
        progress=progress,
    )
    out: dict[str, dict[str, tuple[float, float]]] = {}
    for j, (name, (val, _, is_log)) in enumerate(effects.items()):
        bca = bca_interval(draws[:, j], val, jack[:, j], level=level)
        pct = percentile_interval(draws[:, j], level=level)
        if is_log:  # log scale → ratio scale
            bca = (float(np.exp(bca[0])), float(np.exp(bca[1])))
            pct = (float(np.exp(pct[0])), float(np.exp(pct[1])))
        out[name] = {"bootstrap_bca": bca, "bootstrap_percentile": pct}
    return draws, out


def _gcomp(
    beta: NDArray[np.float64],
    Zt: NDArray[np.float64],
    binary: bool,
    weights: NDArray[np.float64] | None = None,
) -> tuple[float, float, NDArray[np.float64], NDArray[np.float64]]:
    """Average predictions as treated (μ₁) and as untreated (μ₀) over the participants'
    covariates ``Zt``, and their gradients with respect to the coefficients."""
    X1 = _design(Zt, np.ones(len(Zt)))
    X0 = _design(Zt, np.zeros(len(Zt)))
    lin1, lin0 = X1 @ beta, X0 @ beta
    wt = np.ones(len(Zt)) if weights is None else weights
    if binary:
        p1, p0 = expit(lin1), expit(lin0)
        g1 = np.average(X1 * (p1 * (1 - p1))[:, None], axis=0, weights=wt)
        g0 = np.average(X0 * (p0 * (1 - p0))[:, None], axis=0, weights=wt)
    else:
        p1, p0 = lin1, lin0
        g1, g0 = np.average(X1, axis=0, weights=wt), np.average(X0, axis=0, weights=wt)
    return float(np.average(p1, weights=wt)), float(np.average(p0, weights=wt)), g1, g0


def _cluster_bootstrap(
    X: NDArray[np.float64],
    y: NDArray[np.float64],
    w: NDArray[np.float64],
    sets: NDArray[np.intp],
    focal: NDArray[np.bool_],
    binary: bool,
    *,
    n_boot: int,
    seed: int,
    n_jobs: int,
    progress: bool,
) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """Bootstrap draws (resampling matched sets) and first-order jackknife values (leaving one
    set out) of every effect on its interval scale; a resample whose fit fails gives ``nan``."""
    S = int(sets.max()) + 1
    k_cov = (X.shape[1] - 2) // 2
    Zt = X[focal][:, 2 : 2 + k_cov]

    def effects_at(counts: NDArray[np.float64]) -> NDArray[np.float64]:
        c = counts[sets]
        keep = c > 0
        try:
            fit = fit_glm(X[keep], y[keep], (w * c)[keep], binary=binary)
        except DesignError:
            return np.full(3 if binary else 1, np.nan)
        ct = c[focal]
        m1, m0, _, _ = _gcomp(fit.beta, Zt[ct > 0], binary, ct[ct > 0])
        if binary and not (0 < m0 < 1 and 0 < m1 < 1):
            return np.full(3, np.nan)
        vals = [v for v, _, _ in _effects(m1, m0, np.zeros(1), np.zeros(1), binary).values()]
        return np.asarray(vals, dtype=float)

    def stat(rng: np.random.Generator) -> NDArray[np.float64]:
        return effects_at(np.bincount(rng.integers(0, S, S), minlength=S).astype(float))

    draws = bootstrap_draws(
        stat, n_boot=n_boot, seed=seed, n_jobs=n_jobs, progress=progress, desc="g-computation"
    )
    return draws.reshape(n_boot, -1), _linear_jackknife(X, y, w, sets, focal, binary)


def _linear_jackknife(
    X: NDArray[np.float64],
    y: NDArray[np.float64],
    w: NDArray[np.float64],
    sets: NDArray[np.intp],
    focal: NDArray[np.bool_],
    binary: bool,
) -> NDArray[np.float64]:
    """Leave-one-set-out values of every effect (interval scale), to first order.

    Leaving set ``g`` out moves the coefficients by ``−B U_g`` (``B`` the bread, ``U_g`` the
    set's summed scores) and drops its focal unit from the average, so each mean prediction
    moves by ``−(p_g − μ)/F − ∇μᵀ B U_g`` (``F`` focal units). This is the infinitesimal
    jackknife: O(n) in all, where refitting once per set would be quadratic; the BCa
    acceleration only needs these values up to a common scale.
    """
    fit = fit_glm(X, y, w, binary=binary)
    S = int(sets.max()) + 1
    U = np.zeros((S, X.shape[1]))
    np.add.at(U, sets, fit.scores)
    dbeta = -U @ fit.bread  # bread is symmetric
    k_cov = (X.shape[1] - 2) // 2
    Zt = X[focal][:, 2 : 2 + k_cov]
    F = len(Zt)
    mu1, mu0, g1, g0 = _gcomp(fit.beta, Zt, binary)
    lin1 = _design(Zt, np.ones(F)) @ fit.beta
    lin0 = _design(Zt, np.zeros(F)) @ fit.beta
    p1 = np.zeros(S)
    p0 = np.zeros(S)
    p1[sets[focal]] = expit(lin1) if binary else lin1
    p0[sets[focal]] = expit(lin0) if binary else lin0
    d1 = -(p1 - mu1) / F + dbeta @ g1
    d0 = -(p0 - mu0) / F + dbeta @ g0
    out = []
    for val, _, is_log in _effects(mu1, mu0, g1, g0, binary).values():
        if not is_log:
            out.append(val + d1 - d0)
        elif len(out) == 1:  # log RR
            out.append(val + d1 / mu1 - d0 / mu0)
        else:  # log OR
            out.append(val + d1 / (mu1 * (1 - mu1)) - d0 / (mu0 * (1 - mu0)))
    return np.column_stack(out)
