"""Greedy nearest-neighbour propensity-score matching, reproducing R's MatchIt.

Algorithm (O(n log n)): all units are sorted once by distance (stable, so ties keep data
order, as R's ``sort.list``); each treated unit's insertion point among the eligible controls
is found by binary search. Treated units are then visited in the requested order and take the
nearest *available* control on each side, found through two "next available to the left /
right" union–find structures with path compression; the closer of the two wins and a tie goes
to the left (lower distance, or earlier in the data at equal distance), as in MatchIt's C++. A
candidate outside the caliper ends the search on its side. For ``ratio=k`` the treated units
are visited ``k`` times: round 1 gives every treated unit its first control, round 2 its second,
and so on. With replacement, each treated unit simply takes its ``k`` nearest controls (a
vectorised two-pointer merge). Exact matching runs the same algorithm within each stratum.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, Literal

import numpy as np
import pandas as pd
from numpy.typing import ArrayLike, NDArray

from pfseval.checks import require_columns
from pfseval.designs.contract import validated
from pfseval.designs.psm import specs as _specs  # noqa: F401  (declares the psm messages)
from pfseval.designs.psm.balance import balance_columns
from pfseval.designs.psm.distance import mahalanobis_coordinates, mahalanobis_match
from pfseval.designs.psm.nearest import nearest_match, variable_ratios
from pfseval.designs.psm.optimal import optimal_match
from pfseval.designs.psm.sample import SMD_THRESHOLD, MatchedSample
from pfseval.designs.psm.score import (
    CovariateDesign,
    PropensityModel,
    covariate_design,
    fit_propensity,
)
from pfseval.errors import (
    BalanceWarning,
    DataProblem,
    DataValidationError,
    MatchingError,
    PfsevalWarning,
    SmallSampleWarning,
    format_rows,
)
from pfseval.messages import Message, Notice
from pfseval.result import SampleFlow, emit_warnings, provenance

__all__ = [
    "MatchedSample",
    "MatchingDataError",
    "UnmatchedWarning",
    "greedy_match",
    "match",
]

Order = Literal["largest", "smallest", "random", "data", "closest", "farthest"]
MatchLink = Literal["logit", "linear.logit", "probit", "linear.probit"]

MIN_MATCHED_TREATED = 30

#: Sample-flow code of each reason a focal unit found no match (``unmatched["reason"]``).
_UNMATCHED_CODE = {
    "outside common support (discarded)": "psm.flow.discarded",
    "no control in its exact-matching stratum": "psm.flow.no_control_in_stratum",
    "no control": "psm.flow.no_control",
    "no control within the caliper": "psm.flow.outside_caliper",
    "all suitable controls were already matched": "psm.flow.controls_used_up",
}

TREATED = "treated"
CONTROL = "control"


class MatchingDataError(DataValidationError, MatchingError):
    """The data given to :func:`match` are unusable (bad treatment coding, duplicated ids,
    missing covariates, ...). ``problems`` lists every problem found. It is both a
    :class:`~pfseval.errors.DataValidationError` and a :class:`~pfseval.errors.MatchingError`."""


class UnmatchedWarning(PfsevalWarning):
    """Some treated units found no control (caliper, exact strata, or too few controls)."""


# ---------------------------------------------------------------- the core algorithm


class _NextAvailable:
    """Nearest available index to the left (``<= j``) and right (``>= j``) with deletions.

    Two union–find forests with path halving, stored sparsely (only deleted indices have a
    parent), so creating one costs nothing whatever the number of controls; each query is
    amortised near O(1).
    """

    def __init__(self, m: int) -> None:
        self.left: dict[int, int] = {}
        self.right: dict[int, int] = {}
        self.m = m

    def find_left(self, j: int) -> int:
        par = self.left
        path = []
        while j in par:
            path.append(j)
            j = par[j]
        for p in path:  # path compression
            par[p] = j
        return j  # -1 = none

    def find_right(self, j: int) -> int:
        par = self.right
        path = []
        while j in par:
            path.append(j)
            j = par[j]
        for p in path:
            par[p] = j
        return j if j < self.m else -1

    def remove(self, j: int) -> None:
        self.left[j] = j - 1
        self.right[j] = j + 1


def _gap(a: Any, b: Any) -> Any:
    """Distance between scores (scalars or arrays); one definition for caliper and ties."""
    return abs(a - b)


def _treated_order(d1: NDArray[np.float64], order: str, rng: np.random.Generator) -> NDArray[Any]:
    n1 = len(d1)
    if order == "largest":
        return np.argsort(-d1, kind="stable")
    if order == "smallest":
        return np.argsort(d1, kind="stable")
    if order == "random":
        return rng.permutation(n1)
    return np.arange(n1)


def greedy_match(
    distance: ArrayLike,
    treat: ArrayLike,
    *,
    ratio: int = 1,
    caliper_width: float | None = None,
    replace: bool = False,
    order: Order = "largest",
    strata: ArrayLike | None = None,
    discarded: ArrayLike | None = None,
    seed: int | None = None,
) -> NDArray[np.intp]:
    """Greedy nearest-neighbour matching on a score, as MatchIt's ``method = "nearest"``.

    Parameters
    ----------
    distance
        Score per unit (n); matching minimises ``|distance_t - distance_c|``.
    treat
        0/1 or boolean (n).
    ratio
        Controls per treated unit.
    caliper_width
        Largest allowed ``|distance_t - distance_c|`` (on the distance scale; inclusive).
    replace
        Whether a control may be matched to several treated units.
    order
        Order in which treated units choose: ``"largest"`` or ``"smallest"`` distance first
        (ties in data order), ``"random"`` (numpy generator from ``seed``), ``"data"``.
    strata
        Exact-matching stratum codes (n); controls are only matched within a stratum.
    discarded
        Units excluded from matching (n, boolean).
    seed
        Seed for ``order="random"``.

    Returns
    -------
    numpy.ndarray
        ``(n_treated, ratio)`` positions of the matched controls (``-1`` = none); row ``i`` is
        the ``i``-th treated unit in data order.

    Examples
    --------
    >>> greedy_match([0.9, 0.5, 0.85, 0.4, 0.54], [1, 1, 0, 0, 0])
    array([[2],
           [4]])
    >>> greedy_match([0.9, 0.5, 0.85, 0.4, 0.54], [1, 1, 0, 0, 0], caliper_width=0.045)
    array([[-1],
           [ 4]])
    """
    d = np.asarray(distance, dtype=float)
    t = np.asarray(treat).astype(bool)
    n = len(d)
    disc = np.zeros(n, dtype=bool) if discarded is None else np.asarray(discarded, dtype=bool)
    if ratio < 1:
        raise MatchingError(f"ratio must be a positive integer, got {ratio}")
    if not np.isfinite(d).all():
        raise MatchingError("the distance has non-finite values; cannot match")
    t_pos = np.flatnonzero(t)
    n1 = len(t_pos)
    out = np.full((n1, ratio), -1, dtype=np.intp)
    # one stable sort by distance (ties: data order); with strata, stably by stratum on top,
    # so each stratum is a contiguous block ordered by distance
    srt = np.argsort(d, kind="stable")
    codes: NDArray[np.intp] | None = None
    if strata is not None:
        codes = pd.factorize(pd.Series(np.asarray(strata, dtype=object)), sort=False)[0]
        srt = srt[np.argsort(codes[srt], kind="stable")]
    inv = np.empty(n, dtype=np.intp)
    inv[srt] = np.arange(n)
    ctrl_slots = np.flatnonzero((~t & ~disc)[srt])  # sorted positions of usable controls
    ctrl = srt[ctrl_slots]  # their data positions, in sorted order
    cd = d[ctrl]
    cs = codes[ctrl] if codes is not None else None
    m = len(ctrl)
    # treated units to match, in the requested visiting order
    visit = _treated_order(d[t_pos], order, np.random.default_rng(seed))
    visit = visit[~disc[t_pos[visit]]]
    if m == 0 or len(visit) == 0:
        return out
    tv = t_pos[visit]
    ins = np.searchsorted(ctrl_slots, inv[tv])  # usable controls sorted before each treated
    dt = d[tv]
    st = codes[tv] if codes is not None else None
    cal = np.inf if caliper_width is None else float(caliper_width)
    if replace:
        out[visit] = _nearest_k_with_replacement(cd, cs, ctrl, ins, dt, st, ratio, cal)
    else:
        out[visit] = _greedy_without_replacement(cd, cs, ctrl, ins, dt, st, ratio, cal)
    return out


def _nearest_k_with_replacement(
    cd: NDArray[np.float64],
    cs: NDArray[np.intp] | None,
    ctrl: NDArray[np.intp],
    ins: NDArray[np.intp],
    dt: NDArray[np.float64],
    st: NDArray[np.intp] | None,
    ratio: int,
    cal: float,
) -> NDArray[np.intp]:
    """Each treated unit's ``ratio`` nearest controls: a vectorised two-pointer merge."""
    m = len(cd)
    k = len(dt)
    mm = np.full((k, ratio), -1, dtype=np.intp)
    lo = ins - 1
    hi = ins.copy()
    for r in range(ratio):
        li = np.clip(lo, 0, m - 1)
        hi_i = np.clip(hi, 0, m - 1)
        okl = lo >= 0
        okh = hi < m
        if cs is not None and st is not None:
            okl &= cs[li] == st
            okh &= cs[hi_i] == st
        dl = np.where(okl, _gap(cd[li], dt), np.inf)
        dh = np.where(okh, _gap(cd[hi_i], dt), np.inf)
        okl &= dl <= cal
        okh &= dh <= cal
        take_l = okl & (~okh | (dl <= dh))
        take_h = okh & ~take_l
        mm[take_l, r] = ctrl[lo[take_l]]
        mm[take_h, r] = ctrl[hi[take_h]]
        lo = lo - take_l
        hi = hi + take_h
    return mm


def _greedy_without_replacement(
    cd: NDArray[np.float64],
    cs: NDArray[np.intp] | None,
    ctrl: NDArray[np.intp],
    ins: NDArray[np.intp],
    dt: NDArray[np.float64],
    st: NDArray[np.intp] | None,
    ratio: int,
    cal: float,
) -> NDArray[np.intp]:
    """Treated units in order, round by round, each taking the nearest available control."""
    m = len(cd)
    k = len(dt)
    mm = np.full((k, ratio), -1, dtype=np.intp)
    avail = _NextAvailable(m)
    gap = _gap
    inf = float("inf")
    ins_l = ins.tolist()
    dt_l = dt.tolist()
    st_l = st.tolist() if st is not None else None
    n_left = m
    for r in range(ratio):
        chosen = [-1] * k
        for i in range(k):
            d = dt_l[i]
            j_l = avail.find_left(ins_l[i] - 1)
            j_h = avail.find_right(ins_l[i])
            if st_l is not None and cs is not None:
                if j_l >= 0 and cs.item(j_l) != st_l[i]:
                    j_l = -1
                if j_h >= 0 and cs.item(j_h) != st_l[i]:
                    j_h = -1
            gap_l = gap(cd.item(j_l), d) if j_l >= 0 else inf
            gap_h = gap(cd.item(j_h), d) if j_h >= 0 else inf
            if gap_l > cal:
                j_l = -1
            if gap_h > cal:
                j_h = -1
            if j_l >= 0 and (j_h < 0 or gap_l <= gap_h):
                j = j_l
            elif j_h >= 0:
                j = j_h
            else:
                continue
            chosen[i] = j
            avail.remove(j)
            n_left -= 1
            if n_left == 0:
                break
        ch = np.asarray(chosen, dtype=np.intp)
        mm[ch >= 0, r] = ctrl[ch[ch >= 0]]
        if n_left == 0:
            break
    return mm


# ---------------------------------------------------------------- validation


def _validate(
    data: pd.DataFrame,
    *,
    treatment: str,
    covariates: Sequence[str],
    id_col: str,
    exact: Sequence[str],
    missing: str,
) -> tuple[pd.DataFrame, NDArray[np.bool_], list[str]]:
    """Check the input; return the frame (index reset), rows with missing values, and the
    names of columns with missing values."""
    require_columns(data, [treatment, id_col, *covariates, *exact], context="psm.match()")
    if not covariates:
        raise MatchingError("no covariates given. Fix: pass covariates=[...] to match().")
    if treatment in covariates or id_col in covariates:
        raise MatchingError(
            "the treatment and id columns cannot also be covariates. Fix: remove them from "
            "covariates."
        )
    df = data.reset_index(drop=True)
    problems: list[DataProblem] = []
    tr = df[treatment]
    tnum = _treatment_numbers(tr).to_numpy(dtype=float, na_value=np.nan)
    bad_t = (tnum != 0) & (tnum != 1)
    if bad_t.any():
        rows = np.flatnonzero(bad_t)
        problems.append(
            DataProblem(
                column=treatment,
                kind="wrong_type",
                message="treatment must be 0/1 (1 = participant)",
                rows=tuple(int(r) for r in rows[:20]),
                values=tuple(tr.iloc[rows[:20]].tolist()),
                expected="0 or 1, no missing values",
            )
        )
    ids = df[id_col]
    dup = _duplicated(ids)
    if ids.isna().any():
        rows = np.flatnonzero(ids.isna().to_numpy())
        problems.append(
            DataProblem(
                column=id_col,
                kind="missing",
                message="ids must not be missing",
                rows=tuple(int(r) for r in rows[:20]),
            )
        )
    if dup.any():
        rows = np.flatnonzero(dup)
        problems.append(
            DataProblem(
                column=id_col,
                kind="duplicate",
                message="ids are duplicated (one row per person expected); "
                "fix: keep one baseline record per person",
                rows=tuple(int(r) for r in rows[:20]),
                values=tuple(ids.iloc[rows[:20]].tolist()),
            )
        )
    miss_cols: list[str] = []
    miss_rows = np.zeros(len(df), dtype=bool)
    for c in [*covariates, *exact]:
        na = df[c].isna().to_numpy()
        if na.all() and len(df):
            problems.append(
                DataProblem(
                    column=c,
                    kind="missing",
                    message="covariate is missing in every row; fix: drop it from covariates",
                )
            )
        elif na.any():
            miss_cols.append(c)
            miss_rows |= na
            if missing == "error":
                rows = np.flatnonzero(na)
                problems.append(
                    DataProblem(
                        column=c,
                        kind="missing",
                        message=f"{int(na.sum())} missing value(s); fix: impute them, or pass "
                        "missing='exclude' to exclude these rows (they are counted in the "
                        "sample flow)",
                        rows=tuple(int(r) for r in rows[:20]),
                    )
                )
    if problems:
        raise MatchingDataError(problems, source="psm.match()")
    kept = ~miss_rows
    all_kept = not miss_rows.any()
    for c in covariates:
        s = df[c] if all_kept else df.loc[kept, c]  # no copy of the pool when nothing is missing
        if pd.api.types.is_numeric_dtype(s.dtype) and not pd.api.types.is_bool_dtype(s.dtype):
            constant = len(s) == 0 or bool(s.min() == s.max())
        else:
            constant = s.nunique(dropna=True) <= 1
        if constant:
            first = s.iloc[0] if len(s) else None
            raise MatchingError(
                f"covariate {c!r} is constant (value {first!r} in every analysed row); "
                "it cannot be used in the propensity model. Fix: drop it from covariates."
            )
    return df, miss_rows, miss_cols


def _duplicated(ids: pd.Series) -> NDArray[np.bool_]:
    """Rows whose id occurs more than once. Integer ids are checked with one sort first (a
    hash table of ten million ids costs a second); the rows are looked up only if some id
    repeats."""
    if ids.dtype.kind in "iu":
        v = np.sort(ids.to_numpy())
        if v.size < 2 or not bool(np.any(v[1:] == v[:-1])):
            return np.zeros(len(ids), dtype=bool)
    return np.asarray(ids.duplicated(keep=False).to_numpy(), dtype=bool)


def _treatment_numbers(tr: pd.Series) -> pd.Series:
    """The treatment column as numbers (non-numbers: NaN); numeric columns are used as they
    are (the object round trip costs a second per 10 M rows)."""
    if pd.api.types.is_numeric_dtype(tr.dtype) and not pd.api.types.is_bool_dtype(tr.dtype):
        return tr
    return pd.to_numeric(tr.astype(object), errors="coerce")


def _take_ids(ids: pd.Series, positions: NDArray[np.intp]) -> pd.api.extensions.ExtensionArray:
    """Ids at ``positions`` with ``-1`` as missing, keeping an integer dtype where possible."""
    vals = ids.to_numpy()
    out = pd.Series(vals[np.clip(positions, 0, None)], dtype=ids.dtype)
    if pd.api.types.is_integer_dtype(ids.dtype):
        out = out.astype("Int64")
    out = out.where(pd.Series(positions >= 0), other=pd.NA)
    return out.array


def _discard(d: NDArray[np.float64], t: NDArray[np.bool_], option: str) -> NDArray[np.bool_]:
    if option == "none":
        return np.zeros(len(d), dtype=bool)
    min1, max1 = d[t].min(), d[t].max()
    min0, max0 = d[~t].min(), d[~t].max()
    if option == "both":
        return (d < max(min0, min1)) | (d > min(max0, max1))
    if option == "control":
        return ~t & ((d < min1) | (d > max1))
    if option == "treated":
        return t & ((d < min0) | (d > max0))
    raise MatchingError(f"discard must be 'none', 'both', 'control' or 'treated', got {option!r}")


# ---------------------------------------------------------------- match()


@validated("psm.match")
def match(
    data: pd.DataFrame,
    *,
    treatment: str,
    covariates: Sequence[str],
    id_col: str = "person_id",
    ratio: float = 1,
    caliper: float | Mapping[str, float] | None = None,
    std_caliper: bool | Mapping[str, bool] = True,
    link: MatchLink = "logit",
    replace: bool = False,
    reuse_max: int | None = None,
    exact: Sequence[str] | None = None,
    antiexact: Sequence[str] | None = None,
    unit_id: str | None = None,
    order: Order | None = None,
    seed: int | None = None,
    distance: str | ArrayLike = "glm",
    estimand: Literal["ATT", "ATC"] = "ATT",
    method: Literal["nearest", "optimal"] = "nearest",
    min_controls: int | None = None,
    max_controls: int | None = None,
    ties: Literal["matchit", "left"] = "matchit",
    mahvars: Sequence[str] | None = None,
    discard: Literal["none", "both", "control", "treated"] = "none",
    missing: Literal["error", "exclude"] = "error",
    label: str = "",
) -> MatchedSample:
    """Nearest-neighbour (or optimal) matching at MatchIt 4.7.2 parity.

    Parameters
    ----------
    data
        One row per record of the candidate pool (a person, or a person-year with
        ``unit_id``).
    treatment
        0/1 column, 1 = participant.
    covariates
        Columns of the propensity model (categoricals are expanded with a reference level).
    id_col
        Record id column (unique).
    ratio
        Controls per focal unit (``k:1``); with ``max_controls``, the average number
        (variable-ratio matching, Ming & Rosenbaum 2000, as MatchIt).
    caliper
        A number: caliper on the distance. A mapping: calipers per variable, the distance
        under the key ``"distance"`` (e.g. ``{"distance": 0.2, "age": 5}``); a control must be
        within every caliper.
    std_caliper
        Whether calipers are in standard deviations of their variable (MatchIt's
        ``std.caliper``; the SD over all units not discarded); one value, or one per key of
        ``caliper``.
    link
        ``"logit"``: logistic model, match on the propensity score; ``"linear.logit"``: match on
        its logit (linear predictor); ``"probit"`` / ``"linear.probit"`` likewise with a probit.
    replace
        Match with replacement (a control can serve any number of focal units).
    reuse_max
        Times a control may be used (MatchIt's ``reuse.max``; ``1`` without replacement).
    exact
        Columns to match exactly on.
    antiexact
        Columns on which a control must *differ* from its focal unit.
    unit_id
        Column identifying the person behind several records (e.g. fiscal years): once a
        record of a person is matched, the person's other records are used up too (MatchIt's
        ``unit.id``).
    order
        Order in which focal units choose: ``"largest"`` (default for the ATT) or
        ``"smallest"`` (default for the ATC) score first, ``"random"`` (uses ``seed``; not R's
        random stream), ``"data"`` (default for Mahalanobis matching), or ``"closest"`` /
        ``"farthest"`` (pairs in order of their score difference, smallest / largest first).
        Ignored with replacement, as in MatchIt.
    seed
        Seed for ``order="random"``.
    distance
        ``"glm"``: a propensity-score model (``link``); ``"mahalanobis"`` or
        ``"robust_mahalanobis"``: nearest by the (rank-based) Mahalanobis distance on the
        covariates, no score (:mod:`pfseval.designs.psm.distance`); a column name or an array
        (one value per row): the user's own score, matched on as given.
    estimand
        ``"ATT"``: controls are matched to participants; ``"ATC"``: participants are matched to
        non-participants.
    method
        ``"nearest"`` (greedy) or ``"optimal"``: the ``k:1`` matching that minimises the
        total score distance (an assignment problem; MatchIt uses *optmatch*, which could not
        be checked here: pfseval's results are checked against brute-force optima).
    min_controls, max_controls
        Bounds of variable-ratio matching (both or neither).
    mahvars
        Mahalanobis matching on these columns among the controls within the caliper on the
        score (MatchIt's ``mahvars``); the score still orders the focal units and sets the
        caliper.
    ties
        ``"matchit"`` (default): MatchIt 4.7.2's outward search, a tie goes to the control
        fewer positions away in the sorted order (:func:`~pfseval.designs.psm.nearest.nearest_match`);
        ``"left"``: every tie goes to the control with the lower score (earlier in the data at
        equal score), pfseval's rule before MatchIt 4.7.2 parity, kept for reproducing earlier
        analyses (:func:`greedy_match`). Both give the same pairs when no scores tie.
    discard
        Common-support discarding on the score: ``"none"``, ``"both"``, ``"control"``,
        ``"treated"`` (MatchIt's ``discard``).
    missing
        ``"error"`` (default): missing covariates raise :class:`MatchingDataError`;
        ``"exclude"``: such rows are excluded and counted in the sample flow.
    label
        Display name of this matching (kept in ``diagnostics["label"]``).

    Returns
    -------
    MatchedSample

    Raises
    ------
    DesignError
        An option outside what it allows (checked by the design contract's validator).
    MatchingDataError
        Treatment not 0/1, duplicated or missing ids, a covariate missing in every row, missing
        covariate values (with ``missing="error"``).
    MatchingError
        Bad options, a constant covariate, no treated or no control units, or no unit matched.
    SeparationError
        The propensity model separates the groups (names the covariate).

    Warns
    -----
    BalanceWarning
        Some |SMD| after matching exceeds 0.1.
    SmallSampleWarning
        Fewer than 30 matched treated units.
    UnmatchedWarning
        Focal units were dropped (caliper, exact strata, discarding, too few controls).

    Examples
    --------
    >>> rng = np.random.default_rng(0)
    >>> n = 1500
    >>> df = pd.DataFrame({"id": np.arange(n), "age": rng.normal(60, 8, n),
    ...                    "sex": rng.integers(1, 3, n)})
    >>> df["t"] = (rng.random(n) < 1 / (1 + np.exp(3 - (df["age"] - 60) / 8))).astype(int)
    >>> m = match(df, treatment="t", covariates=["age", "sex"], id_col="id")
    >>> m.n_matched_treated == int(df["t"].sum())
    True
    >>> m.balance["variable"].tolist()
    ['distance', 'age', 'sex']
    >>> bool((m.balance["smd_after"].abs() < 0.1).all())  # balanced after matching
    True
    """
    _check_options(
        link=link,
        order=order,
        missing=missing,
        discard=discard,
        ratio=ratio,
        estimand=estimand,
        method=method,
        ties=ties,
        min_controls=min_controls,
        max_controls=max_controls,
        reuse_max=reuse_max,
    )
    maha = isinstance(distance, str) and distance in ("mahalanobis", "robust_mahalanobis")
    if order is None:  # MatchIt's defaults: no score, data order; ATC smallest first
        order = "data" if maha else ("smallest" if estimand == "ATC" else "largest")
    cal_map = _caliper_map(caliper, std_caliper)
    covs = tuple(covariates)
    ex = tuple(exact or ())
    aex = tuple(antiexact or ())
    user_col = distance if isinstance(distance, str) and distance != "glm" and not maha else None
    mv = tuple(covs if maha else (mahvars or ()))
    if mv:
        _check_mahalanobis(
            maha=maha,
            order=order,
            discard=discard,
            caliper=cal_map,
            antiexact=aex,
            unit_id=unit_id,
            variable=max_controls is not None,
            method=method,
            reuse=(reuse_max or 1) if not replace else None,
        )
    extra = [c for c in (*aex, *mv, *(k for k in cal_map if k != "distance")) if c not in covs]
    if unit_id is not None:
        extra.append(unit_id)
    if user_col is not None:
        extra.append(user_col)
    df, miss_rows, miss_cols = _validate(
        data,
        treatment=treatment,
        covariates=covs,
        id_col=id_col,
        exact=(*ex, *extra),
        missing=missing,
    )
    t_all = _treatment_numbers(df[treatment]).to_numpy(dtype=float, na_value=np.nan) == 1
    flow = SampleFlow.start({TREATED: int(t_all.sum()), CONTROL: int((~t_all).sum())})
    user_dist = None if isinstance(distance, str) else _user_scores(distance, len(df))
    if miss_rows.any():
        reason = Message("psm.flow.missing_covariates", params={"covariates": list(miss_cols)})
        for g, mask in ((TREATED, t_all), (CONTROL, ~t_all)):
            flow = flow.exclude(reason, df.loc[miss_rows & mask, id_col].tolist(), group=g)
    if miss_rows.any():
        df = df.loc[~miss_rows].reset_index(drop=True)
    if user_dist is not None:
        user_dist = user_dist[~miss_rows]
    t = t_all[~miss_rows]
    if t.sum() == 0 or (~t).sum() == 0:
        raise MatchingError(
            f"column {treatment!r}: {int(t.sum())} treated and {int((~t).sum())} control rows "
            "are left to analyse; matching needs both. Fix: check the treatment coding and the "
            "rows excluded for missing values."
        )
    design = covariate_design(df, covs)  # one expansion for the model and the balance table
    model = None
    if user_col is not None:
        dist = pd.to_numeric(df[user_col], errors="raise").to_numpy(dtype=float)
    elif user_dist is not None:
        dist = user_dist
    elif maha:
        dist = np.zeros(len(df))  # no score: Mahalanobis matching only
    else:
        model, dist = _score(df, t, treatment=treatment, covs=covs, link=link, design=design)
    ids = df[id_col]
    discarded = _discard(dist, t, discard)
    widths = _caliper_widths(cal_map, std_caliper, df, dist, discarded)
    caliper_width = widths.pop("distance", None)
    strata = None
    if ex:
        strata = pd.MultiIndex.from_frame(df[list(ex)].astype(object)).factorize()[0]
    focal = t if estimand == "ATT" else ~t
    n_focal = int(focal.sum())
    reuse = n_focal if replace else int(reuse_max or 1)
    ratios: NDArray[np.intp] | int = int(ratio)
    if max_controls is not None and min_controls is not None:
        ratios = variable_ratios(
            dist, focal, ratio=float(ratio), min_controls=min_controls, max_controls=max_controls
        )
    mm = _run_matching(
        df,
        dist,
        t,
        focal,
        method=method,
        ties=ties,
        distance=distance,
        mv=mv,
        ratio=ratio,
        ratios=ratios,
        reuse=reuse,
        order=order,
        seed=seed,
        strata=strata,
        discarded=discarded,
        caliper_width=caliper_width,
        widths=widths,
        aex=aex,
        unit_id=unit_id,
    )
    return _assemble(
        prov=provenance(seed=seed, data=data),
        df=df,
        t=t,
        focal=focal,
        ids=ids,
        mm=mm,
        dist=dist,
        discarded=discarded,
        strata=strata,
        caliper_width=caliper_width,
        model=model,
        flow=flow,
        treatment=treatment,
        id_col=id_col,
        covs=covs,
        ratio=ratio,
        replace=reuse > 1,
        caliper=caliper,
        link=link if model is not None else ("none" if maha else "user"),
        order=order,
        exact=ex,
        discard=discard,
        seed=seed,
        design=design,
        label=label,
        options={
            "estimand": estimand,
            "method": method,
            "ties": ties,
            "reuse_max": reuse,
            "antiexact": aex,
            "unit_id": unit_id,
            "caliper_widths": widths,
            "min_controls": min_controls,
            "max_controls": max_controls,
            "distance": str(distance)
            if maha
            else ("glm" if model is not None else (user_col or "user")),
            "mahvars": mv if not maha else (),
        },
    )


def _run_matching(
    df: pd.DataFrame,
    dist: NDArray[np.float64],
    t: NDArray[np.bool_],
    focal: NDArray[np.bool_],
    *,
    method: str,
    ties: str,
    distance: Any,
    mv: tuple[str, ...],
    ratio: float,
    ratios: NDArray[np.intp] | int,
    reuse: int,
    order: Order,
    seed: int | None,
    strata: NDArray[np.intp] | None,
    discarded: NDArray[np.bool_],
    caliper_width: float | None,
    widths: dict[str, float],
    aex: tuple[str, ...],
    unit_id: str | None,
) -> NDArray[np.intp]:
    """The matching step the options ask for: Mahalanobis, optimal, or nearest neighbour
    (MatchIt 4.7.2's search, or the earlier left-tie rule); the match matrix."""
    n_focal = int(focal.sum())
    maha = isinstance(distance, str) and distance in ("mahalanobis", "robust_mahalanobis")
    if mv:  # Mahalanobis (all covariates, or mahvars within the score caliper)
        Z = mahalanobis_coordinates(
            covariate_design(df, mv).model,
            t,
            robust=distance == "robust_mahalanobis",
            discarded=discarded,
        )
        return mahalanobis_match(
            Z,
            focal,
            ratio=int(ratio),
            replace=reuse > 1,
            order=_treated_order(dist[focal], order, np.random.default_rng(seed)),
            strata=strata,
            discarded=discarded,
            score=None if maha else dist,
            caliper_width=caliper_width,
        )
    elif method == "optimal":
        return optimal_match(
            dist,
            focal,
            ratio=int(ratio),
            strata=strata,
            discarded=discarded,
            caliper_width=caliper_width,
        )
    elif ties == "left" and not (
        aex or widths or unit_id or reuse not in (1, n_focal) or order in ("closest", "farthest")
    ):
        return greedy_match(
            dist,
            focal,
            ratio=int(ratio),
            caliper_width=caliper_width,
            replace=reuse > 1,
            order=order,
            strata=strata,
            discarded=discarded,
            seed=seed,
        )
    else:
        if ties == "left":
            raise MatchingError(
                "ties='left' supports only the options of MatchIt 4.5.1 (no antiexact, "
                "covariate calipers, unit_id, reuse_max, or closest/farthest order). Fix: use "
                "ties='matchit'."
            )
        return nearest_match(
            dist,
            focal,
            ratio=ratios,
            caliper_width=caliper_width,
            reuse_max=reuse,
            order=(
                order
                if order in ("closest", "farthest")
                else _treated_order(dist[focal], order, np.random.default_rng(seed))
            ),
            strata=strata,
            antiexact=df[list(aex)].astype(object).to_numpy() if aex else None,
            caliper_covs=df[list(widths)].to_numpy(dtype=float) if widths else None,
            caliper_cov_widths=list(widths.values()) if widths else None,
            unit_id=df[unit_id].to_numpy() if unit_id is not None else None,
            discarded=discarded,
        )


def _user_scores(distance: ArrayLike, n: int) -> NDArray[np.float64]:
    """The user's own score, one finite value per row."""
    d = np.asarray(distance, dtype=float)
    if d.shape != (n,):
        raise MatchingError(
            f"distance: {d.shape[0] if d.ndim else 0} values for {n} rows. Fix: pass one "
            "score per row of data, in data order."
        )
    bad = np.flatnonzero(~np.isfinite(d))
    if bad.size:
        raise MatchingError(
            f"distance: missing or infinite scores in rows {format_rows(bad.tolist())}. "
            "Fix: give every row a finite score, or drop those rows."
        )
    return d


def _score(
    df: pd.DataFrame,
    t: NDArray[np.bool_],
    *,
    treatment: str,
    covs: tuple[str, ...],
    link: str,
    design: CovariateDesign,
) -> tuple[PropensityModel, NDArray[np.float64]]:
    """The propensity model and the matching distance on the scale ``link`` asks for."""
    # the design is already expanded: the fit needs only the 0/1 treatment (no covariate copy)
    fit_df = pd.DataFrame({treatment: t.astype(np.int8)}, index=df.index)
    glm_link: Literal["logit", "probit"] = "probit" if link.endswith("probit") else "logit"
    model = fit_propensity(
        fit_df, treatment=treatment, covariates=covs, link=glm_link, design=design
    )
    score = model.score.to_numpy()
    dist = model.linear_predictor.to_numpy() if link.startswith("linear") else score
    return model, dist


def _check_options(**o: Any) -> None:
    """Every option check in one place, one message shape."""
    allowed: dict[str, tuple[Any, ...]] = {
        "link": ("logit", "linear.logit", "probit", "linear.probit"),
        "order": (None, "largest", "smallest", "random", "data", "closest", "farthest"),
        "missing": ("error", "exclude"),
        "discard": ("none", "both", "control", "treated"),
        "estimand": ("ATT", "ATC"),
        "method": ("nearest", "optimal"),
        "ties": ("matchit", "left"),
    }
    for key, values in allowed.items():
        if o[key] not in values:
            shown = ", ".join(repr(v) for v in values if v is not None)
            raise MatchingError(
                f"{key} must be one of {shown}, got {o[key]!r}. Fix: use one of them."
            )
    r = o["ratio"]
    lo, hi = o["min_controls"], o["max_controls"]
    if (lo is None) != (hi is None):
        raise MatchingError(
            "min_controls and max_controls go together. Fix: give both, or neither."
        )
    variable = lo is not None
    if isinstance(r, bool) or not np.isfinite(r) or r < 1 or (not variable and int(r) != r):
        raise MatchingError(f"ratio must be a positive integer, got {r!r}. Fix: pass 1, 2, ...")
    if variable and not (1 <= lo <= r <= hi and lo < hi and int(lo) == lo and int(hi) == hi):
        raise MatchingError(
            f"variable ratio needs integers 1 <= min_controls ({lo}) <= ratio ({r}) <= "
            f"max_controls ({hi}) with min_controls < max_controls. Fix: adjust them."
        )
    rm = o["reuse_max"]
    if rm is not None and (isinstance(rm, bool) or int(rm) != rm or rm < 1):
        raise MatchingError(
            f"reuse_max must be a positive integer, got {rm!r}. Fix: pass 1, 2, ..."
        )
    if o["method"] == "optimal" and (variable or (rm or 1) > 1):
        raise MatchingError(
            "method='optimal' matches k:1 without replacement. Fix: drop reuse_max and the "
            "variable ratio, or use method='nearest'."
        )


def _check_mahalanobis(
    *,
    maha: bool,
    order: str,
    discard: str,
    caliper: Mapping[str, float],
    antiexact: tuple[str, ...],
    unit_id: str | None,
    variable: bool,
    method: str,
    reuse: int | None,
) -> None:
    """Options Mahalanobis matching supports here (MatchIt's, less the rarest)."""
    what = "distance='mahalanobis'" if maha else "mahvars"
    bad = [
        name
        for name, used in [
            ("antiexact", bool(antiexact)),
            ("unit_id", unit_id is not None),
            ("min_controls/max_controls", variable),
            ("method='optimal'", method == "optimal"),
            ("reuse_max", reuse not in (None, 1)),
            ("calipers on covariates", any(k != "distance" for k in caliper)),
        ]
        if used
    ]
    if order in ("closest", "farthest"):
        bad.append(f"order={order!r}")
    if maha and order in ("largest", "smallest"):
        bad.append(f"order={order!r} (there is no score)")
    if maha and discard != "none":
        bad.append("discard (there is no score)")
    if maha and "distance" in caliper:
        bad.append("a caliper on the distance (use mahvars with a score caliper)")
    if bad:
        raise MatchingError(
            f"{what} cannot be combined with {', '.join(bad)}. Fix: drop those options, or "
            "match on a propensity score."
        )


def _caliper_map(
    caliper: float | Mapping[str, float] | None, std_caliper: bool | Mapping[str, bool]
) -> dict[str, float]:
    if caliper is None:
        return {}
    cal = dict(caliper) if isinstance(caliper, Mapping) else {"distance": caliper}
    for k, v in cal.items():
        if isinstance(v, bool) or not (np.isfinite(v) and v > 0):
            raise MatchingError(
                f"caliper[{k!r}] must be a positive number, got {v!r}. Fix: pass a positive "
                "width (in SDs with std_caliper=True)."
            )
    if isinstance(std_caliper, Mapping):
        unknown = sorted(set(std_caliper) - set(cal))
        if unknown:
            raise MatchingError(
                f"std_caliper names {', '.join(unknown)}, which have no caliper. Fix: use the "
                "keys of caliper."
            )
    return {k: float(v) for k, v in cal.items()}


def _caliper_widths(
    cal: Mapping[str, float],
    std_caliper: bool | Mapping[str, bool],
    df: pd.DataFrame,
    dist: NDArray[np.float64],
    discarded: NDArray[np.bool_],
) -> dict[str, float]:
    """Calipers on each variable's own scale (MatchIt: SD over the units not discarded)."""
    out = {}
    for k, v in cal.items():
        std = std_caliper.get(k, True) if isinstance(std_caliper, Mapping) else std_caliper
        x = dist if k == "distance" else pd.to_numeric(df[k], errors="raise").to_numpy(float)
        if std:  # no copy of the pool when nothing is discarded
            out[k] = v * float(np.std(x[~discarded] if discarded.any() else x, ddof=1))
        else:
            out[k] = v
    return out


def _unmatched_reasons(
    *,
    dist: NDArray[np.float64],
    t: NDArray[np.bool_],
    discarded: NDArray[np.bool_],
    strata: NDArray[np.intp] | None,
    caliper_width: float | None,
    rows: NDArray[np.intp],
) -> list[str]:
    """Why each treated unit in ``rows`` (positions) found no control (O(log n) each)."""
    if rows.size == 0:
        return []
    st = np.zeros(len(dist), dtype=np.intp) if strata is None else np.asarray(strata)
    usable = ~t & ~discarded
    if strata is None and rows.size <= 4:  # a few units: one look at the usable distances each
        reasons = []
        gap = np.empty(len(dist))
        for r in rows.tolist():
            if discarded[r]:
                reasons.append("outside common support (discarded)")
                continue
            np.subtract(dist, dist[r], out=gap)
            np.abs(gap, out=gap)
            nearest = float(gap.min(where=usable, initial=np.inf))
            if not np.isfinite(nearest):
                reasons.append("no control")
            elif caliper_width is not None and nearest > caliper_width:
                reasons.append("no control within the caliper")
            else:
                reasons.append("all suitable controls were already matched")
        return reasons
    if strata is None:  # one stratum: sorting the values is enough (no index sort)
        d_s = np.sort(dist[usable])
        st_s = np.zeros(d_s.size, dtype=np.intp)
    else:
        elig = np.flatnonzero(usable)
        srt = elig[np.lexsort((dist[elig], st[elig]))]  # by stratum, then distance
        st_s = st[srt]
        d_s = dist[srt]
    reasons = []
    for r in rows.tolist():
        if discarded[r]:
            reasons.append("outside common support (discarded)")
            continue
        lo = int(np.searchsorted(st_s, st[r], side="left"))
        hi = int(np.searchsorted(st_s, st[r], side="right"))
        if hi == lo:
            reasons.append(
                "no control in its exact-matching stratum" if strata is not None else "no control"
            )
            continue
        j = lo + int(np.searchsorted(d_s[lo:hi], dist[r]))
        near = [_gap(d_s[i], dist[r]) for i in (j - 1, j) if lo <= i < hi]
        if caliper_width is not None and min(near) > caliper_width:
            reasons.append("no control within the caliper")
        else:
            reasons.append("all suitable controls were already matched")
    return reasons


def _assemble(
    *,
    prov: dict[str, Any],
    df: pd.DataFrame,
    t: NDArray[np.bool_],
    focal: NDArray[np.bool_],
    ids: pd.Series,
    mm: NDArray[np.intp],
    dist: NDArray[np.float64],
    discarded: NDArray[np.bool_],
    strata: NDArray[np.intp] | None,
    caliper_width: float | None,
    model: PropensityModel | None,
    flow: SampleFlow,
    treatment: str,
    id_col: str,
    covs: tuple[str, ...],
    ratio: float,
    replace: bool,
    caliper: float | Mapping[str, float] | None,
    link: str,
    order: str,
    exact: tuple[str, ...],
    discard: str,
    seed: int | None,
    options: dict[str, Any],
    design: CovariateDesign,
    label: str,
) -> MatchedSample:
    n = len(df)
    att = options["estimand"] == "ATT"
    f_name, o_name = ("treated", "control") if att else ("control", "treated")
    f_group, o_group = (TREATED, CONTROL) if att else (CONTROL, TREATED)
    f_pos = np.flatnonzero(focal)
    n_found = (mm >= 0).sum(axis=1)
    matched_f = n_found > 0
    # weights as MatchIt: focal 1, others Σ 1/k_t, then rescaled to their number
    w = np.zeros(n)
    w[f_pos[matched_f]] = 1.0
    rows_m, cols_m = np.nonzero(mm >= 0)
    np.add.at(w, mm[rows_m, cols_m], 1.0 / n_found[rows_m])
    o_used = ~focal & (w > 0)
    if o_used.any():
        w[o_used] *= o_used.sum() / w[o_used].sum()
    # subclass: one matched set per matched focal unit, numbered in data order
    set_no = np.cumsum(matched_f)
    sub = np.full(n, -1, dtype=np.int64)
    sub[f_pos[matched_f]] = set_no[matched_f]
    if not replace:
        sub[mm[rows_m, cols_m]] = set_no[rows_m]
    index = pd.Index(ids, name=id_col)
    subclass = pd.Series(
        pd.arrays.IntegerArray(sub, sub <= 0), index=index, name="subclass", copy=False
    )
    pairs = pd.DataFrame({f"{f_name}_id": ids.to_numpy()[f_pos]})
    for j in range(mm.shape[1]):
        pairs[f"{o_name}_id_{j + 1}"] = _take_ids(ids, mm[:, j])
    un_rows = f_pos[~matched_f]
    reasons = _unmatched_reasons(
        dist=dist,
        t=focal,
        discarded=discarded,
        strata=strata,
        caliper_width=caliper_width,
        rows=un_rows,
    )
    unmatched = pd.DataFrame(
        {f"{f_name}_id": ids.to_numpy()[un_rows], "reason": pd.Series(reasons, dtype=object)}
    )
    for reason in dict.fromkeys(reasons):
        sel = [
            i for i, r in zip(ids.to_numpy()[un_rows].tolist(), reasons, strict=True) if r == reason
        ]
        flow = flow.exclude(Message(_UNMATCHED_CODE[reason]), sel, group=f_group)
    o_rows = np.flatnonzero(~focal)
    disc_o = o_rows[discarded[o_rows]]
    if disc_o.size:
        flow = flow.exclude(
            Message("psm.flow.discarded"), ids.to_numpy()[disc_o].tolist(), group=o_group
        )
    unused = o_rows[(w[o_rows] == 0) & ~discarded[o_rows]]
    flow = flow.exclude(
        Message("psm.flow.not_selected"), ids.to_numpy()[unused].tolist(), group=o_group
    )
    if not matched_f.any():
        raise MatchingError(
            f"no {f_name} unit found a{'' if att else ' treated'} {o_name if att else 'unit'}"
            + (
                f" (caliper width {caliper_width:.4g} on the distance scale)"
                if caliper_width
                else ""
            )
            + f"; reasons: {', '.join(sorted(set(reasons)))}. Fix: widen the caliper, drop "
            "exact-matching columns, or check the data."
        )
    # Mahalanobis matching has no score: no distance row, as in MatchIt's summary
    scored = options["distance"] not in ("mahalanobis", "robust_mahalanobis")
    cols = list(design.balance_columns)  # the columns the score was fitted on, not copied
    bal = balance_columns(
        [dist, *cols] if scored else cols,
        t,
        w,
        names=["distance", *design.balance_names] if scored else list(design.balance_names),
        estimand=options["estimand"],
    )
    by_reason = pd.Series(reasons).value_counts()
    notices: list[Notice] = []
    covbal = bal.iloc[1:] if scored else bal
    high = covbal.loc[covbal["smd_after"].abs() > SMD_THRESHOLD, "variable"].tolist()
    if high:
        notices.append(
            Notice(
                "psm.balance_inadequate",
                category=BalanceWarning,
                params={"threshold": SMD_THRESHOLD, "covariates": [str(v) for v in high]},
            )
        )
    n_mt = int(np.sum(t & (w > 0)))
    if n_mt < MIN_MATCHED_TREATED:
        notices.append(
            Notice(
                "psm.few_matched_treated",
                category=SmallSampleWarning,
                counts={"n_matched_treated": n_mt},
                params={"minimum": MIN_MATCHED_TREATED},
            )
        )
    if un_rows.size:
        notices.append(
            Notice(
                "psm.unmatched_treated" if att else "psm.unmatched_controls",
                category=UnmatchedWarning,
                counts={"n_unmatched": int(un_rows.size), f"n_{f_name}": int(f_pos.size)},
            )
        )
    want = mm.shape[1] if np.ndim(ratio) == 0 and options["max_controls"] is None else None
    partial = int(((n_found > 0) & (n_found < (want or 0))).sum())
    if partial:
        notices.append(
            Notice(
                "psm.partially_matched" if att else "psm.partially_matched_controls",
                category=UnmatchedWarning,
                counts={"n_partially_matched": partial},
                params={"ratio": want},
            )
        )
    emit_warnings(notices, stacklevel=5)
    diagnostics = {
        "n_treated_input": int(t.sum()),
        "n_control_input": int((~t).sum()),
        "n_matched_treated": n_mt,
        "n_matched_control": int(np.sum(w[~t] > 0)),
        f"n_unmatched_{f_name}": int(un_rows.size),
        f"n_partially_matched_{f_name}": partial,
        "n_discarded": int(discarded.sum()),
        "caliper_width": caliper_width,
        "unmatched_by_reason": {str(k): int(v) for k, v in by_reason.items()},
        "max_abs_smd_after": float(covbal["smd_after"].abs().max()),
        "label": label,
    }
    return MatchedSample(
        data=df,
        treatment=treatment,
        id_col=id_col,
        covariates=covs,
        distance=pd.Series(dist if scored else np.nan, index=index, name="distance"),
        pairs=pairs,
        weights=pd.Series(w, index=index, name="weights", copy=False),  # made here
        subclass=subclass,
        unmatched=unmatched,
        balance=bal,
        sample_flow=flow,
        model=model,
        ratio=ratio,
        replace=replace,
        caliper=caliper,
        caliper_width=caliper_width,
        link=link,
        order=order,
        exact=exact,
        discard=discard,
        seed=seed,
        notices=tuple(notices),
        diagnostics=diagnostics,
        provenance=prov,
        options=options,
    )
