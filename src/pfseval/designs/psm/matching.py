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

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Literal

import numpy as np
import pandas as pd
from numpy.typing import ArrayLike, NDArray

from pfseval.checks import require_columns
from pfseval.designs.contract import validated
from pfseval.designs.psm import specs as _specs  # noqa: F401  (declares the psm messages)
from pfseval.designs.psm.balance import balance_table
from pfseval.designs.psm.score import PropensityModel, covariate_design, fit_propensity
from pfseval.errors import (
    BalanceWarning,
    DataProblem,
    DataValidationError,
    MatchingError,
    PfsevalWarning,
    SmallSampleWarning,
)
from pfseval.messages import Message, Notice
from pfseval.result import SampleFlow, emit_warnings, provenance

if TYPE_CHECKING:
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure

__all__ = [
    "MatchedSample",
    "MatchingDataError",
    "UnmatchedWarning",
    "greedy_match",
    "match",
]

Order = Literal["largest", "smallest", "random", "data"]
MatchLink = Literal["logit", "linear.logit", "probit", "linear.probit"]

SMD_THRESHOLD = 0.1
MIN_MATCHED_TREATED = 30

#: Sample-flow code of each reason a treated unit found no control (``unmatched["reason"]``).
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


# ---------------------------------------------------------------- the result


@dataclass(frozen=True)
class MatchedSample:
    """The result of :func:`match`: the matched sample, before any outcome is used.

    Attributes
    ----------
    data
        The analysed input rows (all original columns, index reset), one row per id.
    treatment, id_col, covariates
        The names used.
    distance
        Score per id on the matching scale (the propensity score, or its linear predictor for
        ``link="linear.logit"``/``"linear.probit"``).
    pairs
        ``treated_id, control_id_1 … control_id_k`` in data order of the treated (``<NA>``
        where no control was found).
    weights
        MatchIt's ATT matching weights per id: 1 for a matched treated unit; for a control,
        ``Σ 1/k_t`` over the treated units ``t`` it is matched to (``k_t`` = controls matched to
        ``t``), rescaled so that the control weights sum to the number of controls used; 0 for
        units not in the matched sample.
    subclass
        Matched-set number per id (``<NA>`` when unmatched). With replacement a control can be
        in several sets, so only treated units carry a set number.
    unmatched
        Treated units without any control: ``treated_id, reason``.
    balance
        Balance table (see :func:`pfseval.designs.psm.balance.balance_table`): the distance
        first, then each covariate column (one row per level of a categorical covariate).
    sample_flow
        Every input row: analysed in the matched sample, or excluded with a reason.
    model
        The fitted propensity model.
    ratio, replace, caliper, caliper_width, link, order, exact, discard, seed
        The options used; ``caliper_width`` is the caliper on the distance scale.
    notices
        What an evaluator needs to be warned about, as :class:`~pfseval.messages.Notice`
        records (also issued as warnings when matching); ``warnings`` gives their English text.
    diagnostics
        Counts: treated/controls input, matched, discarded, unmatched by reason.
    provenance
        Versions, seed and the hash of the input frame (see :func:`pfseval.result.provenance`).
    """

    data: pd.DataFrame
    treatment: str
    id_col: str
    covariates: tuple[str, ...]
    distance: pd.Series
    pairs: pd.DataFrame
    weights: pd.Series
    subclass: pd.Series
    unmatched: pd.DataFrame
    balance: pd.DataFrame
    sample_flow: SampleFlow
    model: PropensityModel | None = None
    ratio: int = 1
    replace: bool = False
    caliper: float | None = None
    caliper_width: float | None = None
    link: str = "logit"
    order: str = "largest"
    exact: tuple[str, ...] = ()
    discard: str = "none"
    seed: int | None = None
    notices: tuple[Notice, ...] = ()
    diagnostics: dict[str, Any] = field(default_factory=dict)
    provenance: dict[str, Any] = field(default_factory=dict)

    @property
    def warnings(self) -> tuple[str, ...]:
        """The English text of every notice."""
        return tuple(n.text("en") for n in self.notices)

    @property
    def n_matched_treated(self) -> int:
        """Treated units with at least one control."""
        t = self.data[self.treatment].to_numpy() == 1
        return int(np.sum(self.weights.to_numpy()[t] > 0))

    @property
    def n_matched_control(self) -> int:
        """Distinct controls in the matched sample."""
        t = self.data[self.treatment].to_numpy() == 1
        return int(np.sum(self.weights.to_numpy()[~t] > 0))

    def matched_data(self) -> pd.DataFrame:
        """Matched rows with ``distance``, ``weights`` and ``subclass`` columns.

        Like MatchIt's ``match.data()``: units with a positive weight, in data order.

        Raises
        ------
        MatchingError
            If the data already have a column named ``distance``, ``weights`` or ``subclass``.
        """
        clash = [c for c in ("distance", "weights", "subclass") if c in self.data.columns]
        if clash:
            raise MatchingError(
                f"the data already have column(s) {', '.join(clash)}; matched_data() adds "
                "columns with these names. Fix: rename those columns before matching."
            )
        w = self.weights.to_numpy()
        out = self.data.loc[w > 0].copy()
        out["distance"] = self.distance.to_numpy()[w > 0]
        out["weights"] = w[w > 0]
        out["subclass"] = self.subclass.array[w > 0]
        return out

    def love_plot(
        self, *, threshold: float = SMD_THRESHOLD, absolute: bool = True, ax: Axes | None = None
    ) -> Figure:
        """Love plot of standardised mean differences before and after matching."""
        from pfseval.designs.psm.plots import love_plot

        return love_plot(self.balance, threshold=threshold, absolute=absolute, ax=ax)

    def overlap_plot(self, *, bins: int = 30, ax: Axes | None = None) -> Figure:
        """Distribution of the distance by group, before and after matching."""
        from pfseval.designs.psm.plots import overlap_plot

        return overlap_plot(self, bins=bins, ax=ax)


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
    tnum = pd.to_numeric(tr.astype(object), errors="coerce")
    bad_t = ~tnum.isin([0, 1]).to_numpy()
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
    dup = ids.duplicated(keep=False).to_numpy()
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
    for c in covariates:
        s = df.loc[kept, c]
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
    ratio: int = 1,
    caliper: float | None = None,
    link: MatchLink = "logit",
    replace: bool = False,
    exact: Sequence[str] | None = None,
    order: Order = "largest",
    seed: int | None = None,
    distance: Literal["glm"] = "glm",
    discard: Literal["none", "both", "control", "treated"] = "none",
    missing: Literal["error", "exclude"] = "error",
    label: str = "",
) -> MatchedSample:
    """Greedy nearest-neighbour matching on the propensity score (MatchIt ``"nearest"``, ATT).

    Parameters
    ----------
    data
        One row per person of the candidate pool.
    treatment
        0/1 column, 1 = participant.
    covariates
        Columns of the propensity model (categoricals are expanded with a reference level).
    id_col
        Person id column (unique).
    ratio
        Controls per treated unit (``k:1``).
    caliper
        Caliper in standard deviations of the matching distance (MatchIt's
        ``std.caliper = TRUE``): controls farther than ``caliper × sd(distance)`` are not
        used, the SD being taken over all units not discarded. ``None`` = no caliper.
    link
        ``"logit"``: logistic model, match on the propensity score; ``"linear.logit"``: match on
        its logit (linear predictor); ``"probit"`` / ``"linear.probit"`` likewise with a probit.
    replace
        Match with replacement (a control can serve several treated units).
    exact
        Columns to match exactly on (controls only within the same combination of values).
    order
        Order in which treated units choose their controls: ``"largest"`` (default, highest
        score first), ``"smallest"``, ``"random"`` (uses ``seed``; not R's random stream), or
        ``"data"``. Ignored with replacement, as in MatchIt.
    seed
        Seed for ``order="random"``.
    distance
        ``"glm"``: the propensity score is a generalised linear model.
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
        A constant covariate, no treated or no control units, or no treated unit matched.
    SeparationError
        The propensity model separates the groups (names the covariate).

    Warns
    -----
    BalanceWarning
        Some |SMD| after matching exceeds 0.1.
    SmallSampleWarning
        Fewer than 30 matched treated units.
    UnmatchedWarning
        Treated units were dropped (caliper, exact strata, discarding, too few controls).

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
    # option values were checked by the contract's validator (@validated)
    ratio = int(ratio)
    covs = tuple(covariates)
    ex = tuple(exact or ())
    df, miss_rows, miss_cols = _validate(
        data, treatment=treatment, covariates=covs, id_col=id_col, exact=ex, missing=missing
    )
    t_all = pd.to_numeric(df[treatment].astype(object)).to_numpy(dtype=float) == 1
    flow = SampleFlow.start({TREATED: int(t_all.sum()), CONTROL: int((~t_all).sum())})
    if miss_rows.any():
        reason = Message("psm.flow.missing_covariates", params={"covariates": list(miss_cols)})
        for g, mask in ((TREATED, t_all), (CONTROL, ~t_all)):
            flow = flow.exclude(reason, df.loc[miss_rows & mask, id_col].tolist(), group=g)
    df = df.loc[~miss_rows].reset_index(drop=True)
    t = t_all[~miss_rows]
    if t.sum() == 0 or (~t).sum() == 0:
        raise MatchingError(
            f"column {treatment!r}: {int(t.sum())} treated and {int((~t).sum())} control rows "
            "are left to analyse; matching needs both. Fix: check the treatment coding and the "
            "rows excluded for missing values."
        )
    fit_df = df[[treatment, *covs]].copy()
    fit_df[treatment] = t.astype(int)
    glm_link: Literal["logit", "probit"] = "probit" if link.endswith("probit") else "logit"
    model = fit_propensity(fit_df, treatment=treatment, covariates=covs, link=glm_link)
    ids = df[id_col]
    score = model.score.to_numpy()
    dist = model.linear_predictor.to_numpy() if link.startswith("linear") else score
    discarded = _discard(dist, t, discard)
    caliper_width = None
    if caliper is not None:
        caliper_width = float(caliper) * float(np.std(dist[~discarded], ddof=1))
    strata = None
    if ex:
        strata = pd.MultiIndex.from_frame(df[list(ex)].astype(object)).factorize()[0]
    mm = greedy_match(
        dist,
        t,
        ratio=ratio,
        caliper_width=caliper_width,
        replace=replace,
        order=order,
        strata=strata,
        discarded=discarded,
        seed=seed,
    )
    return _assemble(
        prov=provenance(seed=seed, data=data),
        df=df,
        t=t,
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
        replace=replace,
        caliper=caliper,
        link=link,
        order=order,
        exact=ex,
        discard=discard,
        seed=seed,
        label=label,
    )


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
    st = np.zeros(len(dist), dtype=np.intp) if strata is None else np.asarray(strata)
    elig = np.flatnonzero(~t & ~discarded)
    srt = elig[np.lexsort((dist[elig], st[elig]))]  # usable controls by stratum, then distance
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
    ids: pd.Series,
    mm: NDArray[np.intp],
    dist: NDArray[np.float64],
    discarded: NDArray[np.bool_],
    strata: NDArray[np.intp] | None,
    caliper_width: float | None,
    model: PropensityModel,
    flow: SampleFlow,
    treatment: str,
    id_col: str,
    covs: tuple[str, ...],
    ratio: int,
    replace: bool,
    caliper: float | None,
    link: str,
    order: str,
    exact: tuple[str, ...],
    discard: str,
    seed: int | None,
    label: str,
) -> MatchedSample:
    n = len(df)
    t_pos = np.flatnonzero(t)
    n_found = (mm >= 0).sum(axis=1)
    matched_t = n_found > 0
    # weights as MatchIt: treated 1, control Σ 1/k_t, then rescaled
    w = np.zeros(n)
    w[t_pos[matched_t]] = 1.0
    rows_m, cols_m = np.nonzero(mm >= 0)
    np.add.at(w, mm[rows_m, cols_m], 1.0 / n_found[rows_m])
    c_used = ~t & (w > 0)
    if c_used.any():  # MatchIt rescales control weights to sum to the number of controls used
        w[c_used] *= c_used.sum() / w[c_used].sum()
    # subclass: one matched set per matched treated, numbered in data order
    set_no = np.cumsum(matched_t)
    sub = np.full(n, -1, dtype=np.int64)
    sub[t_pos[matched_t]] = set_no[matched_t]
    if not replace:
        sub[mm[rows_m, cols_m]] = set_no[rows_m]
    index = pd.Index(ids, name=id_col)
    subclass = pd.Series(sub, index=index, dtype="Int64", name="subclass").mask(sub <= 0)
    pairs = pd.DataFrame({"treated_id": ids.to_numpy()[t_pos]})
    for j in range(ratio):
        pairs[f"control_id_{j + 1}"] = _take_ids(ids, mm[:, j])
    un_rows = t_pos[~matched_t]
    reasons = _unmatched_reasons(
        dist=dist,
        t=t,
        discarded=discarded,
        strata=strata,
        caliper_width=caliper_width,
        rows=un_rows,
    )
    unmatched = pd.DataFrame(
        {"treated_id": ids.to_numpy()[un_rows], "reason": pd.Series(reasons, dtype=object)}
    )
    # sample flow: treated without control, controls not selected
    for reason in dict.fromkeys(reasons):
        sel = [
            i for i, r in zip(ids.to_numpy()[un_rows].tolist(), reasons, strict=True) if r == reason
        ]
        flow = flow.exclude(Message(_UNMATCHED_CODE[reason]), sel, group=TREATED)
    ctrl_rows = np.flatnonzero(~t)
    disc_c = ctrl_rows[discarded[ctrl_rows]]
    if disc_c.size:
        flow = flow.exclude(
            Message("psm.flow.discarded"), ids.to_numpy()[disc_c].tolist(), group=CONTROL
        )
    unused = ctrl_rows[(w[ctrl_rows] == 0) & ~discarded[ctrl_rows]]
    flow = flow.exclude(
        Message("psm.flow.not_selected"), ids.to_numpy()[unused].tolist(), group=CONTROL
    )
    if not matched_t.any():
        raise MatchingError(
            "no treated unit found a control"
            + (
                f" (caliper width {caliper_width:.4g} on the distance scale)"
                if caliper_width
                else ""
            )
            + f"; reasons: {', '.join(sorted(set(reasons)))}. Fix: widen the caliper, drop "
            "exact-matching columns, or check the data."
        )
    design = covariate_design(df, covs)
    bal = balance_table(
        np.column_stack([dist, design.balance]),
        t,
        w,
        names=["distance", *design.balance_names],
    )
    # warnings
    by_reason = pd.Series(reasons).value_counts()
    notices: list[Notice] = []
    covbal = bal.iloc[1:]
    high = covbal.loc[covbal["smd_after"].abs() > SMD_THRESHOLD, "variable"].tolist()
    if high:
        notices.append(
            Notice(
                "psm.balance_inadequate",
                category=BalanceWarning,
                params={"threshold": SMD_THRESHOLD, "covariates": [str(v) for v in high]},
            )
        )
    n_mt = int(matched_t.sum())
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
                "psm.unmatched_treated",
                category=UnmatchedWarning,
                counts={"n_unmatched": int(un_rows.size), "n_treated": int(t_pos.size)},
            )
        )
    partial = int(((n_found > 0) & (n_found < ratio)).sum())
    if partial:
        notices.append(
            Notice(
                "psm.partially_matched",
                category=UnmatchedWarning,
                counts={"n_partially_matched": partial},
                params={"ratio": ratio},
            )
        )
    emit_warnings(notices, stacklevel=5)
    diagnostics = {
        "n_treated_input": int(t.sum()),
        "n_control_input": int((~t).sum()),
        "n_matched_treated": n_mt,
        "n_matched_control": int(np.sum(w[~t] > 0)),
        "n_unmatched_treated": int(un_rows.size),
        "n_partially_matched_treated": partial,
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
        distance=pd.Series(dist, index=index, name="distance"),
        pairs=pairs,
        weights=pd.Series(w, index=index, name="weights"),
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
    )
