"""The Kobe indicator: renal-function decline suppression rate after matching.

The method of 神戸市's diabetic-nephropathy SIB (BRIEF §3): on the matched controls with a
follow-up record, regress the outcome change (e.g. eGFR change per year) on baseline
covariates; predict each participant's change from their baseline values; a participant whose
actual decline is smaller than predicted is "suppressed" (腎機能低下抑制者); the rate is the
share of suppressed participants in a denominator subset (e.g. lifestyle improvers) among
participants with follow-up.

:func:`suppression_rate` adds what the published method lacks: a bootstrap confidence interval
that resamples matched sets and refits the regression, Wilson and Clopper–Pearson intervals on
the count, and a *no-effect reference rate* (the same rule applied to the controls with
cross-fitted predictions) with the difference participants − reference. See ``docs/kobe.md``.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Literal

import numpy as np
import pandas as pd
from numpy.typing import NDArray
from scipy.special import ndtr, ndtri

from pfseval.checks import fresh_seed, ids_in, numeric_column, require_columns
from pfseval.designs.contract import validated
from pfseval.designs.psm import specs as _specs  # noqa: F401  (declares the psm messages)
from pfseval.errors import (
    AttritionWarning,
    DataProblem,
    DesignError,
    ExtrapolationWarning,
    SmallSampleWarning,
    format_rows,
)
from pfseval.inference import (
    bootstrap_draws,
    clopper_pearson,
    newcombe_diff,
    percentile_interval,
    wilson,
)
from pfseval.messages import Message, Notice
from pfseval.result import Estimate, SampleFlow, data_hash, emit_warnings, provenance

if TYPE_CHECKING:
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure

    from pfseval.designs.psm.matching import MatchedSample

__all__ = ["suppression_plot", "suppression_rate"]

ChangeKind = Literal["absolute_per_year", "relative", "absolute"]
CiKind = Literal[
    "bootstrap",
    "bootstrap_percentile",
    "bootstrap_basic",
    "bootstrap_normal",
    "wilson",
    "clopper_pearson",
]
#: The construction ``ci="bootstrap"`` stands for (chosen by the coverage study, docs/kobe.md).
RECOMMENDED_BOOTSTRAP = "bootstrap_normal"

_CONTEXT = "psm.suppression_rate"
_MIN_CONTROLS = 30
_CONTROLS_PER_REGRESSOR = 10
_MIN_DENOMINATOR = 30
_FOLD_STREAM = 0x4B4F4245  # "KOBE"
_TIE_TOL = 1e-9  # |actual − predicted| within 1e-9 × max(1, |predicted|) is a tie
_SILVERMAN = 1.06  # kernel bandwidth factor: h = 1.06 σ n^(-1/5)


# ---------------------------------------------------------------- the bootstrap engine


@dataclass(frozen=True)
class _Engine:
    """Everything one bootstrap replicate needs, as small numpy arrays.

    A replicate draws ``G`` matched sets with replacement; ``counts[s]`` is how often set ``s``
    was drawn. A participant's weight is the count of its set; a control's weight is the sum of
    the counts of the sets it belongs to (several sets when matching was with replacement).
    Regressions are solved through the weighted normal equations on a centred and scaled design
    (well conditioned), which gives the same fit as refitting OLS on the resampled rows.

    Smoothed flips (``h_part``, ``h_ctrl`` > 0): a person's indicator in a replicate is
    ``base + Φ(r*/h) − Φ(r0/h)``, where ``base`` is the observed indicator, ``r0`` the
    observed residual (actual − predicted change) and ``r*`` the residual under the
    replicate's refitted model. The resampling weight acts on the exact observed indicator;
    only the change caused by the refit is smoothed (a kernel estimate of how many people
    cross their prediction). With ``h = 0`` the raw indicator ``r* > 0`` is used.
    """

    n_sets: int
    x_part: NDArray[np.float64]  # analysed participants × p (scaled design, intercept first)
    y_part: NDArray[np.float64]
    set_of_part: NDArray[np.intp]  # matched set of each analysed participant
    x_ctrl: NDArray[np.float64]  # controls used (unique) × p
    y_ctrl: NDArray[np.float64]
    member_set: NDArray[np.intp]  # (set, control) membership pairs, controls used only
    member_ctrl: NDArray[np.intp]
    fold_of_ctrl: NDArray[np.intp]
    k_folds: int
    base_part: NDArray[np.float64] | None = None  # observed indicators (point estimate)
    base_ctrl: NDArray[np.float64] | None = None
    r0_part: NDArray[np.float64] | None = None  # observed residuals
    r0_ctrl: NDArray[np.float64] | None = None
    h_part: float = 0.0
    h_ctrl: float = 0.0

    def control_weights(self, counts: NDArray[np.float64]) -> NDArray[np.float64]:
        w = np.bincount(
            self.member_ctrl, weights=counts[self.member_set], minlength=len(self.y_ctrl)
        )
        return np.asarray(w, dtype=float)

    def residuals(
        self, counts: NDArray[np.float64]
    ) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
        """Participants' residuals (full fit) and controls' cross-fitted residuals."""
        X, y = self.x_ctrl, self.y_ctrl
        Xw = X * self.control_weights(counts)[:, None]
        # per-fold cross products; the full fit is their sum
        p = X.shape[1]
        xtx_f = np.empty((self.k_folds, p, p))
        xty_f = np.empty((self.k_folds, p))
        for k in range(self.k_folds):
            m = self.fold_of_ctrl == k
            xtx_f[k] = Xw[m].T @ X[m]
            xty_f[k] = Xw[m].T @ y[m]
        xtx = xtx_f.sum(axis=0)
        xty = xty_f.sum(axis=0)
        lhs = np.concatenate([xtx[None], xtx[None] - xtx_f])
        rhs = np.concatenate([xty[None], xty[None] - xty_f])
        beta = _solve_stack(lhs, rhs)  # (K + 1) × p
        r_part = self.y_part - self.x_part @ beta[0]
        r_ctrl = y - np.einsum("ij,ij->i", X, beta[1:][self.fold_of_ctrl])
        return r_part, r_ctrl

    def _indicator(
        self,
        r: NDArray[np.float64],
        base: NDArray[np.float64] | None,
        r0: NDArray[np.float64] | None,
        h: float,
    ) -> NDArray[np.float64]:
        if h <= 0 or base is None or r0 is None:
            return (r > 0).astype(float)
        return np.asarray(base + ndtr(r / h) - ndtr(r0 / h), dtype=float)

    def rates(self, counts: NDArray[np.float64]) -> NDArray[np.float64]:
        """``[participant rate, reference rate, difference]`` for set counts ``counts``."""
        out = np.full(3, np.nan)
        w_part = counts[self.set_of_part]
        w_ctrl = self.control_weights(counts)
        if w_part.sum() <= 0 or w_ctrl.sum() <= 0:
            return out
        r_part, r_ctrl = self.residuals(counts)
        s_part = self._indicator(r_part, self.base_part, self.r0_part, self.h_part)
        s_ctrl = self._indicator(r_ctrl, self.base_ctrl, self.r0_ctrl, self.h_ctrl)
        out[0] = min(1.0, max(0.0, float(w_part @ s_part) / float(w_part.sum())))
        out[1] = min(1.0, max(0.0, float(w_ctrl @ s_ctrl) / float(w_ctrl.sum())))
        out[2] = out[0] - out[1]
        return out

    def __call__(self, rng: np.random.Generator) -> NDArray[np.float64]:
        draw = rng.integers(0, self.n_sets, size=self.n_sets)
        counts = np.bincount(draw, minlength=self.n_sets).astype(float)
        return self.rates(counts)


def _solve_stack(lhs: NDArray[np.float64], rhs: NDArray[np.float64]) -> NDArray[np.float64]:
    """Solve a stack of normal equations; singular systems fall back to least squares."""
    try:
        return np.asarray(np.linalg.solve(lhs, rhs[..., None])[..., 0], dtype=float)
    except np.linalg.LinAlgError:
        return np.stack(
            [np.linalg.lstsq(a, b, rcond=None)[0] for a, b in zip(lhs, rhs, strict=True)]
        )


# ---------------------------------------------------------------- input handling


def _numeric(frame: pd.DataFrame, col: str) -> NDArray[np.float64]:
    """The column as float64 (:func:`numeric_column`); text that is not a number raises
    :class:`DesignError`. Infinite values pass through."""
    problems: list[DataProblem] = []
    out = numeric_column(frame, col, context=_CONTEXT, problems=problems)
    if any(p.kind == "wrong_type" for p in problems):
        raise DesignError(
            f"column {col!r} must be numeric for {_CONTEXT}; got dtype {frame[col].dtype}. "
            "Fix: convert it to numbers (or to 0/1 indicator columns)."
        )
    return out


def _change(
    frame: pd.DataFrame,
    ids: pd.Index,
    *,
    outcome: str,
    baseline: str | None,
    followup_years: str | float | None,
    change: str,
) -> NDArray[np.float64]:
    """The outcome change per row (NaN = no follow-up record)."""
    follow = _numeric(frame, outcome)
    if baseline is None:
        if followup_years is not None:
            raise DesignError(
                "followup_years was given but baseline is None, so outcome is read as a ready "
                "change column. Fix: pass baseline=<baseline column> to compute the change, "
                "or drop followup_years."
            )
        return follow
    base = _numeric(frame, baseline)
    has = ~np.isnan(follow)
    bad = has & np.isnan(base)
    if bad.any():
        raise DesignError(
            f"column {baseline!r} (baseline of the outcome) is missing for people with a "
            f"follow-up value in {outcome!r}: ids {format_rows(ids[bad])}. "
            "Fix: fill the baseline value or exclude these people before matching."
        )
    if change == "absolute":
        return follow - base
    if change == "relative":
        zero = has & (base == 0)
        if zero.any():
            raise DesignError(
                f"column {baseline!r} is 0 for ids {format_rows(ids[zero])}, so a relative "
                "change is undefined. Fix: use change='absolute' or 'absolute_per_year'."
            )
        return (follow - base) / np.where(has, base, 1.0)
    if change != "absolute_per_year":
        raise DesignError(
            f"change={change!r} is not one of 'absolute_per_year', 'relative', 'absolute'."
        )
    if followup_years is None:
        raise DesignError(
            "change='absolute_per_year' needs followup_years (a column name or a number of "
            "years). Fix: pass followup_years=..., or use change='absolute'."
        )
    if isinstance(followup_years, str):
        require_columns(frame, [followup_years], context=_CONTEXT)
        years = _numeric(frame, followup_years)
        name = f"column {followup_years!r}"
    else:
        years = np.full(len(frame), float(followup_years))
        name = "followup_years"
    bad = has & ~(years > 0)
    if bad.any():
        raise DesignError(
            f"{name} must be a positive number of years for everyone with a follow-up value; "
            f"it is missing or ≤ 0 for ids {format_rows(ids[bad])}. Fix: correct the interval."
        )
    return (follow - base) / np.where(has, years, 1.0)


def _denominator_mask(
    data: pd.DataFrame,
    ids: pd.Index,
    rows: NDArray[np.bool_],
    denominator: str | pd.Series | None,
) -> tuple[NDArray[np.bool_], str, Message]:
    """In-denominator flag for every row of ``data`` (checked only where ``rows``), the
    subset's description (a diagnostic) and the sample-flow reason of the rows outside it."""
    if denominator is None:
        return (
            np.ones(len(data), dtype=bool),
            "all participants with follow-up",
            Message("kobe.flow.outside_given_subset"),
        )
    if isinstance(denominator, str):
        require_columns(data, [denominator], context=_CONTEXT)
        vals = _numeric(data, denominator)
        where = f"column {denominator!r}"
        label = f"{denominator} = 1"
        reason = Message("kobe.flow.outside_denominator", params={"denominator": denominator})
    else:
        s = pd.Series(denominator)
        missing = ids[rows][~ids_in(ids[rows], s.index.to_series())]
        if len(missing):
            raise DesignError(
                "the denominator Series must be indexed by person id and cover every "
                f"participant; ids {format_rows(missing)} are absent. Fix: reindex it by "
                "the id column."
            )
        vals = np.asarray(
            pd.to_numeric(s.reindex(ids).astype("Float64")).to_numpy(na_value=np.nan),
            dtype=float,
        )
        where = "the denominator Series"
        label = str(s.name) + " = 1" if s.name is not None else "given subset"
        reason = (
            Message("kobe.flow.outside_denominator", params={"denominator": str(s.name)})
            if s.name is not None
            else Message("kobe.flow.outside_given_subset")
        )
    bad = rows & ~np.isin(vals, (0.0, 1.0))
    if bad.any():
        raise DesignError(
            f"{where} must be 0/1 (or True/False) for every participant with follow-up; "
            f"ids {format_rows(ids[bad])} have {format_rows(pd.unique(vals[bad]))}. "
            "Fix: code the subset as 0/1 for all participants."
        )
    return vals == 1.0, label, reason


def _design(
    data: pd.DataFrame, regressors: Sequence[str], fit_rows: NDArray[np.bool_]
) -> tuple[NDArray[np.float64], list[str], dict[str, list[Any]]]:
    """Raw design columns (no intercept); categoricals expanded with a reference level.

    Levels come from the rows the model is fitted on; returns the unseen levels per column.
    """
    cols: list[NDArray[np.float64]] = []
    names: list[str] = []
    unseen: dict[str, list[Any]] = {}
    for r in regressors:
        s = data[r]
        if pd.api.types.is_numeric_dtype(s) or pd.api.types.is_bool_dtype(s):
            cols.append(_numeric(data, r))
            names.append(r)
            continue
        levels = sorted(pd.unique(s[fit_rows].dropna()), key=str)
        obs = s.to_numpy(dtype=object)
        unseen[r] = sorted({v for v in pd.unique(s.dropna()) if v not in set(levels)}, key=str)
        for lev in levels[1:]:
            col = np.where(pd.isna(s).to_numpy(), np.nan, (obs == lev).astype(float))
            cols.append(col)
            names.append(f"{r}[{lev}]")
    X = np.column_stack(cols) if cols else np.empty((len(data), 0))
    return X, names, unseen


def _folds(n_sets: int, k_folds: int, seed_fold: int) -> NDArray[np.intp]:
    # a stream of its own: the bootstrap uses the children (0,), (1,), ... of the same seed
    rng = np.random.default_rng(np.random.SeedSequence(seed_fold, spawn_key=(_FOLD_STREAM,)))
    fold = np.empty(n_sets, dtype=np.intp)
    fold[rng.permutation(n_sets)] = np.arange(n_sets) % k_folds
    return fold


# ---------------------------------------------------------------- the indicator


@validated("psm.suppression_rate")
def suppression_rate(
    matched: MatchedSample,
    *,
    outcome: str,
    baseline: str | None = None,
    followup_years: str | float | None = None,
    change: ChangeKind = "absolute_per_year",
    covariates: Sequence[str] | None = None,
    denominator: str | pd.Series | None = None,
    level: float = 0.95,
    ci: CiKind = "bootstrap",
    n_boot: int = 2000,
    k_folds: int = 5,
    seed: int | None = None,
    n_jobs: int = 1,
    progress: bool = False,
    label: str = "",
) -> Estimate:
    """Kobe decline-suppression rate with bootstrap CI and a no-effect reference.

    Parameters
    ----------
    matched
        A :class:`~pfseval.designs.psm.matching.MatchedSample`. Its ``pairs`` define the
        matched sets (a participant with its controls); participants without any matched
        control are excluded (counted in the sample flow). Only the rows of the matched sets
        are read, so the cost does not grow with the size of the candidate pool.
    outcome
        With ``baseline``: the follow-up measurement column (e.g. ``"egfr_follow"``; NaN =
        no follow-up record). Without ``baseline``: a ready *change* column (higher = better,
        i.e. a decline is negative; NaN = no follow-up).
    baseline
        The baseline measurement column (e.g. ``"egfr"``), or ``None`` when ``outcome`` is
        already the change (``change`` is then not used).
    followup_years
        Years between the checks: a column name or one number. Needed for
        ``change="absolute_per_year"``.
    change
        ``"absolute_per_year"``: (follow − baseline) / years; ``"absolute"``: follow −
        baseline; ``"relative"``: (follow − baseline) / baseline.
    covariates
        Baseline columns of the prediction model (default ``matched.covariates``).
        Non-numeric columns are expanded into indicators with the first level as reference.
    denominator
        Restricts the participants counted: a 0/1 column (e.g. ``"lifestyle_improved"``) or a
        boolean Series indexed by person id. ``None`` counts all participants with follow-up.
    level
        Confidence level.
    ci
        Main interval (all are also reported in ``intervals``): ``"bootstrap"`` (default)
        is the construction recommended by the coverage study, currently
        ``"bootstrap_normal"`` (estimate ± z × bootstrap SE, clipped to [0, 1]);
        ``"bootstrap_percentile"``, ``"bootstrap_basic"`` (reverse percentile);
        ``"wilson"`` or ``"clopper_pearson"``
        (on the count; they ignore the uncertainty of the regression and are too narrow).
    n_boot
        Bootstrap replicates (matched sets resampled, regression refitted). ``0`` skips the
        bootstrap (then ``ci`` must be ``"wilson"`` or ``"clopper_pearson"``, and the
        reference and difference use Wilson and Newcombe intervals).
    k_folds
        Folds for the cross-fitted predictions of the controls (no-effect reference); folds
        are assigned by matched set, seeded.
    seed
        Seed of the bootstrap and of the fold assignment. ``None`` draws one from the
        operating system and records it in ``provenance`` so that the run can be repeated.
    n_jobs
        Worker processes for the bootstrap; the draws do not depend on it.
    progress
        Show a progress bar for the bootstrap.
    label
        Display name of the indicator (reports name the related estimates
        ``reference_rate`` and ``difference`` from their fixed vocabulary).

    Returns
    -------
    Estimate
        ``value`` = suppressed / denominator; ``draws`` = bootstrap draws of the rate;
        ``related["reference_rate"]`` and ``related["difference"]`` (participants −
        reference); counts, R² and coefficients in ``diagnostics``;
        ``private["per_person"]`` = predicted and actual decline per participant;
        ``notices`` = the matched sample's notices (issued by ``match``, not again here)
        followed by this function's own; ``sample_flow`` continues the matching flow.

    Raises
    ------
    DesignError
        An option outside what it allows (the contract's validator), ``ci`` needing a
        bootstrap with ``n_boot=0``, or data the regression cannot use (see the messages).

    Notes
    -----
    Decline = −change. A participant is suppressed when the actual decline is *strictly*
    smaller than the predicted decline (equivalently, actual change > predicted change); a
    tie (equal within 1e-9 × max(1, |predicted|), i.e. up to rounding) counts as not
    suppressed and is counted in ``diagnostics["n_ties"]``. With matching with replacement,
    a control in several matched sets enters the regression once per set (frequency
    weights).

    The bootstrap resamples matched sets, refits the regression and recomputes the rate,
    the reference and their difference in each replicate; the change of each person's
    indicator caused by the refit is kernel-smoothed (``docs/kobe.md``, "Smoothed flips"),
    which removes a spurious variance of the plain bootstrap of a count of indicators.

    Examples
    --------
    >>> from pfseval.designs.psm.kobe import _example_matched
    >>> est = suppression_rate(_example_matched(), outcome="egfr_follow", baseline="egfr",
    ...                        followup_years=3.0, covariates=["age", "egfr"],
    ...                        n_boot=200, seed=1)
    >>> est.diagnostics["n_denominator"], round(est.value, 3)
    (60, 0.8)
    >>> lo, hi = est.interval()
    >>> bool(lo < est.value < hi), sorted(est.related)
    (True, ['difference', 'reference_rate'])
    """
    if n_boot == 0 and ci.startswith("bootstrap"):
        raise DesignError(
            f"{_CONTEXT}: option 'ci' = {ci!r} needs a bootstrap, but n_boot = 0. "
            "Fix: set n_boot (e.g. 2000), or use ci = 'wilson'."
        )
    seed = fresh_seed(seed)  # None: drawn from the OS and recorded, so the run can be repeated
    regs = tuple(matched.covariates if covariates is None else covariates)
    sets = _matched_sets(matched, outcome=outcome, baseline=baseline, regs=regs)
    people = _people(
        sets, outcome=outcome, baseline=baseline, followup_years=followup_years,
        change=change, denominator=denominator,
    )  # fmt: skip
    design = _design_matrix(sets, people, regs)
    engine = _build_engine(sets, people, design, k_folds=int(k_folds), seed=seed)
    point = _point_estimate(sets, people, design, engine)
    engine = _smoothed(engine, people, point)
    draws = (
        bootstrap_draws(
            engine,
            n_boot=int(n_boot),
            seed=seed,
            n_jobs=n_jobs,
            progress=progress,
            desc="Kobe bootstrap",
        )
        if n_boot > 0
        else None
    )
    ivs = _intervals(point, people, draws, level=level, ci=ci, n_boot=int(n_boot))
    own = _notices(matched, sets, people, design, n_failed=ivs.n_failed, n_boot=int(n_boot),
                   outcome=outcome)  # fmt: skip
    emit_warnings(own, stacklevel=4)
    # the matched sample's notices (balance, caliper drops, few pairs) were issued by match()
    # already: carried into the result for the appendix, not issued a second time
    notices = (*(n for n in matched.notices if n not in own), *own)
    flow = _flow(matched, sets, people, outcome=outcome)
    return _assemble(
        matched, sets, people, design, engine, point, ivs, draws,
        notices=notices, flow=flow, outcome=outcome, baseline=baseline, change=change,
        level=level, n_boot=int(n_boot), k_folds=int(k_folds), seed=seed, label=label,
    )  # fmt: skip


# ---------------------------------------------------------------- step 1: the matched sets


@dataclass(frozen=True)
class _Sets:
    """The rows of the matched sets (in data order) and how they are linked.

    ``data`` holds only the rows named in ``matched.pairs`` (found through the matching
    weights, a single vectorised pass), so every later step costs the same for a pool of ten
    thousand or of a million people.
    """

    data: pd.DataFrame
    ids: pd.Index
    id_col: str
    is_t: NDArray[np.bool_]
    set_ids: pd.Index
    pos_t: NDArray[np.intp]  # row of each matched set's participant
    pos_c: NDArray[np.intp]  # row of each (set, control) membership
    member_set_all: NDArray[np.intp]  # set of each (set, control) membership
    in_set_t: NDArray[np.bool_]
    in_set_c: NDArray[np.bool_]


def _pairs_long(matched: MatchedSample) -> tuple[pd.Series, pd.Series]:
    """(participant id, control id) of every membership of a control in a matched set."""
    pairs = matched.pairs
    ctrl_cols = [c for c in pairs.columns if str(c).startswith("control_id")]
    if "treated_id" not in pairs.columns or not ctrl_cols:
        raise DesignError(
            "matched.pairs must have columns treated_id, control_id_1, ...; got "
            f"{list(pairs.columns)}. Fix: pass the result of psm.match()."
        )
    long = pairs.melt(id_vars="treated_id", value_vars=ctrl_cols, value_name="cid").dropna(
        subset=["cid"]
    )
    return long["treated_id"], long["cid"]


def _set_rows(matched: MatchedSample, wanted: pd.Index) -> pd.DataFrame:
    """The rows of ``matched.data`` whose id is in ``wanted``, in data order.

    Matching gives every member of a matched set a positive weight, so the rows with a
    positive weight are a (small) superset found without hashing the pool's ids; a
    hand-made sample whose weights do not cover its pairs falls back to the whole data.
    """
    data = matched.data
    w = matched.weights.to_numpy(dtype=float, na_value=0.0)
    if len(w) == len(data):
        sub = data.loc[w > 0]
        if pd.Index(sub[matched.id_col]).isin(wanted).sum() >= len(wanted):
            return sub
    return data


def _matched_sets(
    matched: MatchedSample, *, outcome: str, baseline: str | None, regs: tuple[str, ...]
) -> _Sets:
    """Validate the pairs and columns; locate each matched set's rows."""
    id_col, treat = matched.id_col, matched.treatment
    if not regs:
        raise DesignError(
            f"{_CONTEXT}: no covariates for the prediction model. "
            "Fix: pass covariates=[...] (baseline values)."
        )
    if outcome in regs:
        raise DesignError(
            f"the follow-up outcome {outcome!r} is also a covariate; the prediction model may "
            "use baseline values only. Fix: remove it from covariates."
        )
    needed = [id_col, treat, outcome, *regs] + ([baseline] if baseline else [])
    require_columns(matched.data, needed, context=_CONTEXT)
    t_ids, c_ids = _pairs_long(matched)
    set_ids = pd.Index(pd.unique(t_ids))
    wanted = set_ids.append(pd.Index(pd.unique(c_ids)))
    data = _set_rows(matched, wanted)
    ids = pd.Index(data[id_col])
    if ids.has_duplicates:
        dup = ids[ids.duplicated()]
        raise DesignError(
            f"column {id_col!r} has duplicated ids {format_rows(dup)}. "
            "Fix: keep one row per person before matching."
        )
    tr = _numeric(data, treat)
    if not np.isin(tr, (0.0, 1.0)).all():
        bad = ids[~np.isin(tr, (0.0, 1.0))]
        raise DesignError(
            f"column {treat!r} must be 0/1; ids {format_rows(bad)} are not. "
            "Fix: code participants as 1 and non-participants as 0."
        )
    is_t = tr == 1.0
    pos_t = ids.get_indexer(set_ids)
    pos_c = ids.get_indexer(pd.Index(c_ids))
    if (pos_t < 0).any() or (pos_c < 0).any():
        unknown = list(set_ids[pos_t < 0]) + list(pd.Index(c_ids)[pos_c < 0])
        raise DesignError(
            f"matched.pairs names ids not in matched.data: {format_rows(unknown)}. "
            "Fix: pass the result of psm.match() unchanged."
        )
    if not is_t[pos_t].all() or is_t[pos_c].any():
        raise DesignError(
            "matched.pairs pairs treated with treated or controls with controls. "
            "Fix: pass the result of psm.match() unchanged."
        )
    in_set_t = np.zeros(len(data), dtype=bool)
    in_set_t[pos_t] = True
    in_set_c = np.zeros(len(data), dtype=bool)
    in_set_c[pos_c] = True
    return _Sets(
        data=data,
        ids=ids,
        id_col=id_col,
        is_t=is_t,
        set_ids=set_ids,
        pos_t=pos_t,
        pos_c=pos_c,
        member_set_all=set_ids.get_indexer(pd.Index(t_ids)),
        in_set_t=in_set_t,
        in_set_c=in_set_c,
    )


# ---------------------------------------------------------------- step 2: who is analysed


@dataclass(frozen=True)
class _People:
    """Outcome change, follow-up and denominator per row of the matched sets."""

    y: NDArray[np.float64]
    has_fu: NDArray[np.bool_]
    part_fu: NDArray[np.bool_]  # participants in a set with follow-up
    in_den: NDArray[np.bool_]
    den_label: str
    den_name: str | None  # the subset's column or Series name; None = all with follow-up
    den_reason: Message
    analysed: NDArray[np.bool_]  # participants counted in the rate
    ctrl_used: NDArray[np.bool_]  # controls in the regression
    n_den: int
    n_ctrl: int


def _people(
    sets: _Sets,
    *,
    outcome: str,
    baseline: str | None,
    followup_years: str | float | None,
    change: str,
    denominator: str | pd.Series | None,
) -> _People:
    data, ids = sets.data, sets.ids
    y = _change(
        data, ids, outcome=outcome, baseline=baseline, followup_years=followup_years, change=change
    )
    has_fu = ~np.isnan(y)
    part_fu = sets.in_set_t & has_fu
    in_den, den_label, den_reason = _denominator_mask(data, ids, part_fu, denominator)
    analysed = part_fu & in_den
    n_den = int(analysed.sum())
    if n_den == 0:
        raise DesignError(
            f"the denominator is empty: no matched participant with follow-up in {outcome!r} "
            f"is in the subset ({den_label}). Fix: check the follow-up linkage and the "
            "denominator column."
        )
    ctrl_used = sets.in_set_c & has_fu
    return _People(
        y=y,
        has_fu=has_fu,
        part_fu=part_fu,
        in_den=in_den,
        den_label=den_label,
        den_name=(
            denominator
            if denominator is None or isinstance(denominator, str)
            else str(denominator.name or "Series")
        ),
        den_reason=den_reason,
        analysed=analysed,
        ctrl_used=ctrl_used,
        n_den=n_den,
        n_ctrl=int(ctrl_used.sum()),
    )


# ---------------------------------------------------------------- step 3: the design matrix


@dataclass(frozen=True)
class _DesignMatrix:
    """Raw covariate columns, their names, and the centred and scaled design with intercept."""

    x_raw: NDArray[np.float64]
    names: list[str]
    unseen: dict[str, list[Any]]
    z: NDArray[np.float64]


def _design_matrix(sets: _Sets, people: _People, regs: Sequence[str]) -> _DesignMatrix:
    """Build the prediction model's design; refuse missing, constant or collinear columns."""
    data, ids, ctrl_used, n_ctrl = sets.data, sets.ids, people.ctrl_used, people.n_ctrl
    Xraw, xnames, unseen = _design(data, regs, ctrl_used)
    miss = (ctrl_used | people.part_fu) & np.isnan(Xraw).any(axis=1)
    if miss.any():
        which = [n for j, n in enumerate(xnames) if np.isnan(Xraw[miss, j]).any()]
        raise DesignError(
            f"covariate(s) {', '.join(which)} missing for ids {format_rows(ids[miss])} "
            "(participants or controls with follow-up). Fix: impute them, exclude these people "
            "before matching, or choose other covariates."
        )
    if n_ctrl <= len(xnames) + 1:
        raise DesignError(
            f"only {n_ctrl} matched controls have follow-up, too few to fit a regression on "
            f"{len(xnames)} covariates. Fix: use fewer covariates or more controls."
        )
    Xc_raw = Xraw[ctrl_used]
    sd = Xc_raw.std(axis=0)
    const = [xnames[j] for j in np.flatnonzero(sd == 0)]
    if const:
        raise DesignError(
            f"covariate(s) {', '.join(const)} are constant among the {n_ctrl} matched controls "
            "with follow-up, so their effect cannot be estimated. Fix: drop them from covariates."
        )
    mu = Xc_raw.mean(axis=0)
    Z = np.column_stack([np.ones(len(data)), (Xraw - mu) / sd])
    if np.linalg.matrix_rank(Z[ctrl_used]) < Z.shape[1]:
        raise DesignError(
            f"the covariates {', '.join(xnames)} are collinear among the matched controls "
            "with follow-up. Fix: drop redundant covariates."
        )
    return _DesignMatrix(x_raw=Xraw, names=xnames, unseen=unseen, z=Z)


# ---------------------------------------------------------------- step 4: the engine


def _build_engine(
    sets: _Sets, people: _People, design: _DesignMatrix, *, k_folds: int, seed: int
) -> _Engine:
    """Index maps of participants, controls and matched sets, and the cross-fitting folds."""
    n = len(sets.data)
    ctrl_pos = np.flatnonzero(people.ctrl_used)  # rows of sets.data
    row_to_ctrl = np.full(n, -1, dtype=np.intp)
    row_to_ctrl[ctrl_pos] = np.arange(len(ctrl_pos))
    mc = row_to_ctrl[sets.pos_c]
    keep = mc >= 0
    member_set, member_ctrl = sets.member_set_all[keep], mc[keep]
    set_fold = _folds(len(sets.set_ids), k_folds, seed)
    order = np.lexsort((member_set, member_ctrl))  # first set of each control
    first = np.unique(member_ctrl[order], return_index=True)[1]
    fold_ctrl = set_fold[member_set[order][first]]
    fold_sizes = np.bincount(fold_ctrl, minlength=k_folds)
    if (fold_sizes == 0).any():
        raise DesignError(
            f"k_folds={k_folds} leaves a fold without controls ({len(sets.set_ids)} matched "
            "sets). Fix: use fewer folds."
        )
    part_pos = np.flatnonzero(people.analysed)
    set_of_row = np.full(n, -1, dtype=np.intp)
    set_of_row[sets.pos_t] = np.arange(len(sets.set_ids))
    Z, y = design.z, people.y
    return _Engine(
        n_sets=len(sets.set_ids),
        x_part=Z[part_pos],
        y_part=y[part_pos],
        set_of_part=set_of_row[part_pos],
        x_ctrl=Z[ctrl_pos],
        y_ctrl=y[ctrl_pos],
        member_set=member_set,
        member_ctrl=member_ctrl,
        fold_of_ctrl=fold_ctrl,
        k_folds=k_folds,
    )


# ---------------------------------------------------------------- step 5: OLS and the rates


@dataclass(frozen=True)
class _Point:
    """The point estimates: OLS fit, every participant's prediction, rate and reference."""

    fit: Any  # statsmodels RegressionResults
    ctrl_pos: NDArray[np.intp]
    w0: NDArray[np.float64]  # times each control enters the regression (its matched sets)
    fu_part_pos: NDArray[np.intp]
    pred: NDArray[np.float64]
    actual: NDArray[np.float64]
    suppressed: NDArray[np.bool_]
    in_den: NDArray[np.bool_]
    numer: int
    rate: float
    n_ties: int
    ctrl_pred: NDArray[np.float64]
    ctrl_suppressed: NDArray[np.bool_]
    n_ref: int
    x_ref: int
    ref_rate: float


def _point_estimate(sets: _Sets, people: _People, design: _DesignMatrix, engine: _Engine) -> _Point:
    """statsmodels OLS on the controls (frequency weights when controls repeat), the
    participants' rate and the cross-fitted no-effect reference."""
    import statsmodels.api as sm

    ctrl_pos = np.flatnonzero(people.ctrl_used)
    w0 = np.bincount(engine.member_ctrl, minlength=len(ctrl_pos)).astype(float)
    Xraw, y = design.x_raw, people.y
    X_sm = np.column_stack([np.ones(len(ctrl_pos)), Xraw[ctrl_pos]])
    fit = sm.WLS(y[ctrl_pos], X_sm, weights=w0).fit()
    fu_part_pos = np.flatnonzero(people.part_fu)
    pred = np.column_stack([np.ones(len(fu_part_pos)), Xraw[fu_part_pos]]) @ fit.params
    actual = y[fu_part_pos]
    supp = _suppressed(actual, pred)
    den = people.in_den[fu_part_pos]
    numer = int((supp & den).sum())
    n_ties = int((den & (np.abs(actual - pred) <= _tie_tolerance(pred))).sum())
    # no-effect reference: cross-fitted predictions of the controls (lstsq, independent of
    # the engine's normal equations; the tests check that both agree)
    ctrl_pred = _crossfit_predictions(engine, np.ones(engine.n_sets))
    supp_ctrl = _suppressed(engine.y_ctrl, ctrl_pred)
    n_ref = round(float(w0.sum()))
    x_ref = round(float(w0 @ supp_ctrl))
    return _Point(
        fit=fit,
        ctrl_pos=ctrl_pos,
        w0=w0,
        fu_part_pos=fu_part_pos,
        pred=pred,
        actual=actual,
        suppressed=supp,
        in_den=den,
        numer=numer,
        rate=numer / people.n_den,
        n_ties=n_ties,
        ctrl_pred=ctrl_pred,
        ctrl_suppressed=supp_ctrl,
        n_ref=n_ref,
        x_ref=x_ref,
        ref_rate=x_ref / n_ref,
    )


def _smoothed(engine: _Engine, people: _People, point: _Point) -> _Engine:
    """The engine with smoothed flips (see :class:`_Engine`); bandwidths by Silverman's rule
    on the controls' cross-fitted residual SD."""
    r0_part, r0_ctrl = engine.residuals(np.ones(engine.n_sets))
    sigma = float(np.std(r0_ctrl))
    return dataclasses.replace(
        engine,
        base_part=point.suppressed[point.in_den].astype(float),
        base_ctrl=point.ctrl_suppressed.astype(float),
        r0_part=r0_part,
        r0_ctrl=r0_ctrl,
        h_part=_SILVERMAN * sigma * people.n_den ** (-0.2),
        h_ctrl=_SILVERMAN * sigma * people.n_ctrl ** (-0.2),
    )


# ---------------------------------------------------------------- step 6: intervals


@dataclass(frozen=True)
class _Intervals:
    rate: dict[str, tuple[float, float]]
    ref: dict[str, tuple[float, float]]
    diff: dict[str, tuple[float, float]]
    main: str
    main_ref: str
    main_diff: str
    n_failed: int


def _intervals(
    point: _Point,
    people: _People,
    draws: NDArray[np.float64] | None,
    *,
    level: float,
    ci: str,
    n_boot: int,
) -> _Intervals:
    """Count-based intervals always; bootstrap intervals when there are draws."""
    numer, n_den, x_ref, n_ref = point.numer, people.n_den, point.x_ref, point.n_ref
    rate: dict[str, tuple[float, float]] = {
        "wilson": wilson(numer, n_den, level=level),
        "clopper_pearson": clopper_pearson(numer, n_den, level=level),
    }
    ref: dict[str, tuple[float, float]] = {"wilson": wilson(x_ref, n_ref, level=level)}
    diff: dict[str, tuple[float, float]] = {
        "newcombe": newcombe_diff(numer, n_den, x_ref, n_ref, level=level)
    }
    n_failed = 0
    if draws is not None:
        n_failed = int(np.isnan(draws).any(axis=1).sum())
        estimates = (point.rate, point.ref_rate, point.rate - point.ref_rate)
        for j, store in enumerate((rate, ref, diff)):
            bounds = (-1.0, 1.0) if j == 2 else (0.0, 1.0)
            store.update(_bootstrap_intervals(draws[:, j], estimates[j], level, bounds=bounds))
    main = RECOMMENDED_BOOTSTRAP if ci == "bootstrap" else ci
    fallback = RECOMMENDED_BOOTSTRAP if n_boot else None
    return _Intervals(
        rate=rate,
        ref=ref,
        diff=diff,
        main=main,
        main_ref=main if main in ref else (fallback or "wilson"),
        main_diff=main if main in diff else (fallback or "newcombe"),
        n_failed=n_failed,
    )


# ---------------------------------------------------------------- step 7: notices


def _notices(
    matched: MatchedSample,
    sets: _Sets,
    people: _People,
    design: _DesignMatrix,
    *,
    n_failed: int,
    n_boot: int,
    outcome: str,
) -> tuple[Notice, ...]:
    """Small samples, extrapolated predictions and attrition, as notices."""
    out: list[Notice] = []
    xnames, n_ctrl, n_den = design.names, people.n_ctrl, people.n_den
    min_ctrl = max(_MIN_CONTROLS, _CONTROLS_PER_REGRESSOR * len(xnames))
    if n_ctrl < min_ctrl:
        out.append(
            Notice(
                "kobe.few_controls",
                category=SmallSampleWarning,
                counts={"n_controls": n_ctrl},
                params={
                    "n_regressors": len(xnames),
                    "minimum": min_ctrl,
                    "per_regressor": _CONTROLS_PER_REGRESSOR,
                    "minimum_all": _MIN_CONTROLS,
                },
            )
        )
    if n_den < _MIN_DENOMINATOR:
        out.append(
            Notice(
                "kobe.small_denominator",
                category=SmallSampleWarning,
                counts={"n_denominator": n_den},
                params={"minimum": _MIN_DENOMINATOR},
            )
        )
    if n_boot > 0 and n_failed:
        out.append(
            Notice(
                "kobe.failed_replicates",
                category=SmallSampleWarning,
                params={"n_failed": n_failed, "n_boot": n_boot},
            )
        )
    out += _extrapolation_notices(sets, people, design)
    n_part = int(sets.in_set_t.sum())
    n_no_fu = int((sets.in_set_t & ~people.has_fu).sum())
    if n_no_fu:
        out.append(
            Notice(
                "kobe.no_followup",
                category=AttritionWarning,
                counts={
                    "n_no_followup": n_no_fu,
                    "n_participants": n_part,
                    "n_controls_no_followup": int((sets.in_set_c & ~people.has_fu).sum()),
                    "n_controls": int(sets.in_set_c.sum()),
                },
                params={"outcome": outcome},
            )
        )
    return tuple(out)


def _extrapolation_notices(sets: _Sets, people: _People, design: _DesignMatrix) -> list[Notice]:
    """Participants outside the controls' range, or with a level no control has."""
    out: list[Notice] = []
    Xc_raw = design.x_raw[people.ctrl_used]
    lo_c, hi_c = Xc_raw.min(axis=0), Xc_raw.max(axis=0)
    part_pos = np.flatnonzero(people.analysed)
    Xp = design.x_raw[part_pos]
    for j, name in enumerate(design.names):
        n_out = int(((Xp[:, j] < lo_c[j]) | (Xp[:, j] > hi_c[j])).sum())
        if n_out:
            out.append(
                Notice(
                    "kobe.extrapolated",
                    category=ExtrapolationWarning,
                    counts={"n_outside": n_out},
                    params={"covariate": name, "low": float(lo_c[j]), "high": float(hi_c[j])},
                )
            )
    for name, levs in design.unseen.items():
        col = sets.data[name].iloc[part_pos]
        hit = col.isin(levs) if levs else pd.Series(False, index=col.index)
        if hit.any():
            out.append(
                Notice(
                    "kobe.unseen_level",
                    category=ExtrapolationWarning,
                    counts={"n_unseen": int(hit.sum())},
                    params={
                        "covariate": name,
                        "levels": [str(v) for v in sorted(pd.unique(col[hit]), key=str)],
                    },
                )
            )
    return out


# ---------------------------------------------------------------- step 8: the sample flow


def _flow(matched: MatchedSample, sets: _Sets, people: _People, *, outcome: str) -> SampleFlow:
    """Continue the matching step's flow with this indicator's own exclusions.

    A sample whose flow does not end at its matched sets (one built by hand) gets a flow of
    its own from its data instead.
    """
    no_fu = Message("kobe.flow.no_followup", params={"outcome": outcome})
    ids = sets.ids
    mflow = matched.sample_flow
    n_ctrl_sets = int(sets.in_set_c.sum())
    continues = (
        set(mflow.groups) == {"treated", "control"}
        and mflow.n_analysed("treated") == len(sets.set_ids)
        and mflow.n_analysed("control") == n_ctrl_sets
    )
    if continues:
        flow = mflow
    else:
        flow = _own_flow(matched, n_sets=len(sets.set_ids), n_ctrl_sets=n_ctrl_sets)
    flow = flow.exclude(no_fu, ids[sets.in_set_t & ~people.has_fu], group="treated")
    flow = flow.exclude(people.den_reason, ids[people.part_fu & ~people.in_den], group="treated")
    return flow.exclude(no_fu, ids[sets.in_set_c & ~people.has_fu], group="control")


def _own_flow(matched: MatchedSample, *, n_sets: int, n_ctrl_sets: int) -> SampleFlow:
    """Every row of ``matched.data``: participants without a matched control, controls not
    matched (counts only: the ids are in the matching step's own records)."""
    tr = _numeric(matched.data, matched.treatment)
    n_t, n_c = int((tr == 1.0).sum()), int((tr != 1.0).sum())
    flow = SampleFlow.start({"treated": n_t, "control": n_c})
    flow = flow.exclude(Message("kobe.flow.no_matched_control"), n_t - n_sets, group="treated")
    return flow.exclude(Message("kobe.flow.not_matched"), n_c - n_ctrl_sets, group="control")


# ---------------------------------------------------------------- step 9: the result


def _method(
    design: _DesignMatrix,
    people: _People,
    *,
    outcome: str,
    baseline: str | None,
    change: str,
    main: str,
    n_boot: int,
) -> Message:
    """The method as a catalogue message: the code names the change definition, the interval
    and whether there was a bootstrap; the other settings are parameters."""
    kind = "given" if baseline is None else change
    params: dict[str, Any] = {
        "outcome": outcome,
        "covariates": list(design.names),
        "n_controls": people.n_ctrl,
    }
    if baseline is not None:
        params["baseline"] = baseline
    if n_boot:
        return Message(f"kobe.method.{kind}.{main}", params={**params, "n_boot": n_boot})
    return Message(f"kobe.method.{kind}.{main}.no_bootstrap", params=params)


def _assemble(
    matched: MatchedSample,
    sets: _Sets,
    people: _People,
    design: _DesignMatrix,
    engine: _Engine,
    point: _Point,
    ivs: _Intervals,
    draws: NDArray[np.float64] | None,
    *,
    notices: tuple[Notice, ...],
    flow: SampleFlow,
    outcome: str,
    baseline: str | None,
    change: str,
    level: float,
    n_boot: int,
    k_folds: int,
    seed: int,
    label: str,
) -> Estimate:
    """The Estimate with its related reference and difference, diagnostics and private
    per-person tables."""
    # the matching step hashed the whole input; hashing it again would cost the pool's size
    data_sha = (matched.provenance or {}).get("data_sha256") or data_hash(sets.data)
    prov = provenance(seed=seed, data_sha256=data_sha)
    xnames, fit = design.names, point.fit
    coef = {"intercept": float(fit.params[0])}
    coef.update({n: float(b) for n, b in zip(xnames, fit.params[1:], strict=True)})
    n_den, n_ctrl = people.n_den, people.n_ctrl
    diagnostics = {
        "n_suppressed": point.numer,
        "n_denominator": n_den,
        "n_participants_matched": int(sets.in_set_t.sum()),
        "n_participants_without_followup": int((sets.in_set_t & ~people.has_fu).sum()),
        "n_participants_outside_denominator": int((people.part_fu & ~people.in_den).sum()),
        "n_controls_used": n_ctrl,
        "n_control_rows": point.n_ref,
        "n_matched_sets": len(sets.set_ids),
        "regression_r_squared": float(fit.rsquared),
        "regression_coefficients": coef,
        "regressors": list(xnames),
        "change": "given" if baseline is None else change,
        "denominator": people.den_name,
        "n_ties": point.n_ties,
        # a change within this relative distance of its prediction is a tie: not suppressed
        "tie_tolerance": _TIE_TOL,
        "reference_n_suppressed": point.x_ref,
        "k_folds": k_folds,
        "fold_sizes": [int(v) for v in np.bincount(engine.fold_of_ctrl, minlength=k_folds)],
        "n_boot": n_boot,
        "n_failed_replicates": ivs.n_failed,
        "bootstrap_bandwidth_participants": engine.h_part,
        "bootstrap_bandwidth_controls": engine.h_ctrl,
    }
    common: dict[str, Any] = {"level": level, "sample_flow": flow, "provenance": prov}
    diff = point.rate - point.ref_rate
    ref_est = Estimate(
        estimand="suppression_reference_rate",
        value=point.ref_rate,
        conf_low=ivs.ref[ivs.main_ref][0],
        conf_high=ivs.ref[ivs.main_ref][1],
        method=Message(
            f"kobe.reference_method.{ivs.main_ref}",
            params={"n_controls": n_ctrl, "k_folds": k_folds},
        ),
        n=point.n_ref,
        intervals=ivs.ref,
        draws=None if draws is None else draws[:, 1],
        diagnostics={"n_suppressed": point.x_ref, "n_control_rows": point.n_ref},
        **common,
    )
    diff_est = Estimate(
        estimand="suppression_rate_difference",
        value=diff,
        conf_low=ivs.diff[ivs.main_diff][0],
        conf_high=ivs.diff[ivs.main_diff][1],
        method=(
            Message(f"kobe.difference_method.{ivs.main_diff}")
            if ivs.main_diff.startswith("bootstrap")
            else Message("kobe.difference_method_newcombe")
        ),
        n=n_den,
        intervals=ivs.diff,
        draws=None if draws is None else draws[:, 2],
        **common,
    )
    ids, id_col = sets.ids, sets.id_col
    per_person = pd.DataFrame(
        {
            id_col: ids[point.fu_part_pos],
            "predicted_change": point.pred,
            "actual_change": point.actual,
            "predicted_decline": -point.pred,
            "actual_decline": -point.actual,
            "suppressed": point.suppressed,
            "in_denominator": point.in_den,
        }
    )
    per_control = pd.DataFrame(
        {
            id_col: ids[point.ctrl_pos],
            "fold": engine.fold_of_ctrl,
            "predicted_change": point.ctrl_pred,
            "actual_change": engine.y_ctrl,
            "suppressed": point.ctrl_suppressed,
            "n_matched_sets": point.w0.astype(int),
        }
    )
    return Estimate(
        estimand="suppression_rate",
        value=point.rate,
        conf_low=ivs.rate[ivs.main][0],
        conf_high=ivs.rate[ivs.main][1],
        method=_method(
            design,
            people,
            outcome=outcome,
            baseline=baseline,
            change=change,
            main=ivs.main,
            n_boot=n_boot,
        ),
        n=n_den,
        diagnostics=diagnostics,
        notices=notices,
        std_error=None if draws is None else float(np.nanstd(draws[:, 0], ddof=1)),
        intervals=ivs.rate,
        related={"reference_rate": ref_est, "difference": diff_est},
        draws=None if draws is None else draws[:, 0],
        label=label,
        private={"per_person": per_person, "per_control": per_control},
        **common,
    )


def _tie_tolerance(predicted: NDArray[np.float64]) -> NDArray[np.float64]:
    """How close to the prediction a change is a tie: ``1e-9 × max(1, |predicted|)``."""
    return _TIE_TOL * np.maximum(1.0, np.abs(predicted))


def _suppressed(actual: NDArray[np.float64], predicted: NDArray[np.float64]) -> NDArray[np.bool_]:
    """Actual change above predicted (decline smaller), beyond rounding: ties are not."""
    return np.asarray(actual - predicted > _tie_tolerance(predicted), dtype=bool)


def _bootstrap_intervals(
    draws: NDArray[np.float64], est: float, level: float, *, bounds: tuple[float, float]
) -> dict[str, tuple[float, float]]:
    """Percentile, basic (reverse percentile) and normal (bootstrap SE) intervals.

    The basic and normal intervals are clipped to ``bounds`` (a rate lies in [0, 1]).
    """
    d = draws[np.isfinite(draws)]
    if d.size < 2:
        nan = (math.nan, math.nan)
        return {"bootstrap_percentile": nan, "bootstrap_basic": nan, "bootstrap_normal": nan}
    lo, hi = percentile_interval(d, level=level)
    half = float(ndtri(1 - (1 - level) / 2)) * float(np.std(d, ddof=1))
    a_, b_ = bounds

    def clip(lo_: float, hi_: float) -> tuple[float, float]:
        return (max(a_, lo_), min(b_, hi_))

    return {
        "bootstrap_percentile": (lo, hi),
        "bootstrap_basic": clip(2 * est - hi, 2 * est - lo),
        "bootstrap_normal": clip(est - half, est + half),
    }


def _crossfit_predictions(engine: _Engine, counts: NDArray[np.float64]) -> NDArray[np.float64]:
    X, y = engine.x_ctrl, engine.y_ctrl
    w = engine.control_weights(counts)
    pred = np.empty(len(y))
    for k in range(engine.k_folds):
        m = engine.fold_of_ctrl == k
        tr = ~m
        b = np.linalg.lstsq(X[tr] * np.sqrt(w[tr])[:, None], y[tr] * np.sqrt(w[tr]), rcond=None)[0]
        pred[m] = X[m] @ b
    return pred


# ---------------------------------------------------------------- the evaluator's plot


def suppression_plot(estimate: Estimate, *, ax: Axes | None = None) -> Figure:
    """Actual vs predicted decline per participant, with the line y = x.

    Points below the line are suppressed participants (actual decline smaller than
    predicted). Reads ``estimate.private["per_person"]``: for the evaluator only, never for
    publication (it shows individual values).

    Examples
    --------
    >>> from pfseval.designs.psm.kobe import _example_matched
    >>> est = suppression_rate(_example_matched(), outcome="egfr_follow", baseline="egfr",
    ...                        followup_years=3.0, covariates=["age", "egfr"], ci="wilson",
    ...                        n_boot=0, seed=1)
    >>> fig = suppression_plot(est)
    >>> len(fig.axes)
    1
    """
    if "per_person" not in estimate.private:
        raise DesignError(
            "this Estimate has no per-person table; pass the result of suppression_rate()."
        )
    import matplotlib.pyplot as plt

    pp = estimate.private["per_person"]
    if ax is None:
        fig, ax = plt.subplots(figsize=(5.5, 5.0))
    else:
        fig = ax.figure  # type: ignore[assignment]
    den = pp["in_denominator"].to_numpy(dtype=bool)
    sup = pp["suppressed"].to_numpy(dtype=bool)
    x = pp["predicted_decline"].to_numpy(dtype=float)
    yv = pp["actual_decline"].to_numpy(dtype=float)
    ax.scatter(x[den & sup], yv[den & sup], s=18, color="tab:blue", label="suppressed")
    ax.scatter(x[den & ~sup], yv[den & ~sup], s=18, color="tab:orange", label="not suppressed")
    if (~den).any():
        ax.scatter(
            x[~den],
            yv[~den],
            s=18,
            facecolors="none",
            edgecolors="grey",
            label="outside denominator",
        )
    lims = [np.nanmin(np.r_[x, yv]), np.nanmax(np.r_[x, yv])]
    ax.plot(lims, lims, color="black", lw=1, label="actual = predicted")
    ax.set_xlabel("predicted decline")
    ax.set_ylabel("actual decline")
    ax.set_title(
        f"suppression rate {estimate.value:.1%} [{estimate.conf_low:.1%}, {estimate.conf_high:.1%}]"
    )
    ax.legend(loc="best", fontsize="small")
    return fig  # type: ignore[return-value]


# ---------------------------------------------------------------- doctest fixture


def _example_matched(*, n_treated: int = 60, seed: int = 0, effect: float = 1.0) -> Any:
    """A small hand-built matched sample for the examples (1:1 pairs in data order)."""
    from pfseval.designs.psm.matching import MatchedSample

    rng = np.random.default_rng(seed)
    n = 2 * n_treated
    # controls span a wider range than participants (no extrapolation in the examples)
    age = np.r_[rng.integers(45, 70, size=n_treated), rng.integers(40, 75, size=n_treated)]
    egfr = np.r_[rng.normal(70, 8, size=n_treated), rng.normal(70, 14, size=n_treated)]
    treated = np.r_[np.ones(n_treated, int), np.zeros(n_treated, int)]
    slope = -0.5 - 0.03 * (age - 60) + 0.01 * (egfr - 70) + effect * treated
    follow = egfr + 3.0 * (slope + rng.normal(0, 1.0, size=n))
    ids = [f"p{i:03d}" for i in range(n)]
    df = pd.DataFrame(
        {"person_id": ids, "treated": treated, "age": age, "egfr": egfr, "egfr_follow": follow}
    )
    t_ids = pd.array(ids[:n_treated], dtype=object)
    pairs = pd.DataFrame({"treated_id": t_ids, "control_id_1": ids[n_treated:]})
    sub = pd.Series(np.r_[np.arange(n_treated), np.arange(n_treated)], index=ids)
    return MatchedSample(
        data=df,
        treatment="treated",
        id_col="person_id",
        covariates=("age", "egfr"),
        distance=pd.Series(0.5, index=ids),
        pairs=pairs,
        weights=pd.Series(1.0, index=ids),
        subclass=sub,
        unmatched=pd.DataFrame({"treated_id": [], "reason": []}),
        balance=pd.DataFrame(),
        sample_flow=SampleFlow.start({"treated": n_treated, "control": n_treated}),
    )
