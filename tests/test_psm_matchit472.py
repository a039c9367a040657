"""Matching options at MatchIt 4.7.2 parity: tied scores, person-year panels, and the options
of issue 13 (reference outputs made by tests/reference/psm/matchit472/make_reference.R)."""

from __future__ import annotations

import ast
import itertools
import re
import warnings
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from pfseval.designs.psm import MatchedSample, match
from pfseval.designs.psm.balance import balance_report, expand_terms
from pfseval.designs.psm.nearest import _heap_partial_sort, nearest_match
from pfseval.designs.psm.optimal import optimal_match
from pfseval.errors import DesignError, MatchingError

REF = Path(__file__).parent / "reference" / "psm" / "matchit472"
TIES_COVS = ["agegrp", "sex", "smoke", "insurer"]
PANEL_COVS = ["age", "male", "sbp", "hba1c"]

CASES: dict[str, tuple[str, dict[str, Any]]] = {
    "ties_nn1": ("ties", {}),
    "ties_nn2": ("ties", {"ratio": 2}),
    "ties_replace2": ("ties", {"ratio": 2, "replace": True}),
    "ties_exact_sex": ("ties", {"exact": ["sex"]}),
    "ties_antiexact_insurer": ("ties", {"antiexact": ["insurer"]}),
    "ties_atc_reuse5": ("ties", {"estimand": "ATC", "reuse_max": 5}),
    "ties_varratio": ("ties", {"ratio": 2, "min_controls": 1, "max_controls": 3}),
    "ties_smallest_caliper": (
        "ties",
        {"order": "smallest", "caliper": 0.05, "std_caliper": False},
    ),
    "panel_unitid": ("panel", {"unit_id": "person"}),
    "panel_unitid_nn2_cal": (
        "panel",
        {
            "unit_id": "person",
            "ratio": 2,
            "caliper": {"distance": 0.5, "sbp": 10},
            "std_caliper": {"distance": True, "sbp": False},
        },
    ),
    "panel_reuse2": ("panel", {"reuse_max": 2, "link": "linear.logit"}),
    "panel_user_distance": ("panel", {"distance": "score"}),
    "ties_closest_nn2": ("ties", {"order": "closest", "ratio": 2}),
    "ties_farthest_caliper": ("ties", {"order": "farthest", "caliper": 0.1}),
    "panel_closest_unitid": ("panel", {"order": "closest", "unit_id": "person"}),
    "panel_farthest_nn2": ("panel", {"order": "farthest", "ratio": 2, "link": "linear.logit"}),
    "cont_mahal": ("cont", {"distance": "mahalanobis"}),
    "cont_robust_mahal_nn2": ("cont", {"distance": "robust_mahalanobis", "ratio": 2}),
    "cont_mahal_replace": ("cont", {"distance": "mahalanobis", "replace": True, "ratio": 2}),
    "cont_mahvars_cal": ("cont", {"mahvars": ["x1", "x2", "x3"], "caliper": 0.25}),
}
COVS = {"ties": TIES_COVS, "panel": PANEL_COVS, "cont": ["x1", "x2", "x3"]}


@pytest.fixture(scope="module")
def frames() -> dict[str, pd.DataFrame]:
    panel = pd.read_csv(REF / "panel.csv")
    # the R script's user distance: round(hba1c * 10) + age %/% 5 (exact in binary)
    panel["score"] = np.round(panel["hba1c"] * 10) + panel["age"] // 5
    return {
        "ties": pd.read_csv(REF / "ties.csv"),
        "panel": panel,
        "cont": pd.read_csv(REF / "cont.csv"),
    }


def _match(frames: dict[str, pd.DataFrame], case: str) -> MatchedSample:
    data_name, kw = CASES[case]
    covs = COVS[data_name]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return match(frames[data_name], treatment="treat", covariates=covs, id_col="id", **kw)


@pytest.mark.parametrize("case", list(CASES))
def test_matched_sets_weights_and_distance_equal_matchit_472(
    frames: dict[str, pd.DataFrame], case: str
) -> None:
    m = _match(frames, case)
    ref = pd.read_csv(REF / f"{case}_mm.csv")
    mine = m.pairs.astype("float64").fillna(-1).to_numpy()
    # identical matched sets, and the controls in MatchIt's column order
    np.testing.assert_array_equal(mine[:, 0], ref["focal_id"].to_numpy())
    np.testing.assert_array_equal(mine[:, 1:], ref.iloc[:, 1:].fillna(-1).to_numpy())
    w = pd.read_csv(REF / f"{case}_weights.csv").set_index("id")
    # weights are ratios of small integers: equal to rounding (observed ~1e-15)
    np.testing.assert_allclose(m.weights.loc[w.index].to_numpy(), w["weights"], atol=1e-12)
    if w["subclass"].notna().any():  # same partition into matched sets (labels may differ)
        mine_s = m.subclass.loc[w.index]
        both = pd.DataFrame({"r": w["subclass"], "p": mine_s.astype("float64")}).dropna()
        assert both.groupby("r")["p"].nunique().eq(1).all()
        assert both.groupby("p")["r"].nunique().eq(1).all()
        assert mine_s.isna().sum() == w["subclass"].isna().sum()
    d = pd.read_csv(REF / f"{case}_distance.csv")
    # glm scores: R stops IRLS at a relative deviance change of 1e-8 (observed ~1e-10)
    np.testing.assert_allclose(m.distance.to_numpy(), d["distance"], atol=1e-6, rtol=0)


def test_tied_scores_differ_from_the_earlier_rule(frames: dict[str, pd.DataFrame]) -> None:
    """The issue's point: with tied scores the earlier 'ties to the left' rule differs."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        old = match(frames["ties"], treatment="treat", covariates=TIES_COVS, id_col="id",
                    ties="left")  # fmt: skip
    new = _match(frames, "ties_nn1")
    differ = (old.pairs["control_id_1"] != new.pairs["control_id_1"]).sum()
    assert differ > 0
    # every pair is still exact on the score under both rules: only the tie-break differs
    for m in (old, new):
        d = m.distance
        gaps = np.abs(d.loc[m.pairs["treated_id"]].to_numpy() - d.loc[m.pairs["control_id_1"]])
        assert float(np.max(gaps)) == 0.0


def _mi_name(v: str) -> str:
    return " * ".join(re.sub(r"^(agegrp|sex|smoke|insurer)", r"\1_", x) for x in v.split(" * "))


@pytest.mark.parametrize(
    ("case", "kw"),
    [
        ("ties_nn1", {}),
        ("panel_unitid", {"addl": ["year"]}),
    ],
)
def test_balance_with_interactions_and_addl_equals_matchit_summary(
    frames: dict[str, pd.DataFrame], case: str, kw: dict[str, Any]
) -> None:
    m = _match(frames, case)
    tab = balance_report(m, squares=True, interactions=True, **kw).set_index("variable")
    ref = pd.read_csv(REF / f"{case}_balance.csv")
    ref["variable"] = ref["variable"].map(_mi_name)
    ref = ref.set_index("variable")
    assert set(tab.index) == set(ref.index)
    mine = tab.loc[ref.index, ref.columns]
    assert (mine.isna().to_numpy() == ref.isna().to_numpy()).all()
    # summary() statistics: sums of products of data and weights (observed ~1e-14)
    np.testing.assert_allclose(mine.to_numpy(), ref.to_numpy(), atol=1e-9, rtol=0)


def test_atc_balance_standardises_by_the_controls(frames: dict[str, pd.DataFrame]) -> None:
    m = _match(frames, "ties_atc_reuse5")
    ref = pd.read_csv(REF / "ties_atc_reuse5_balance.csv")
    ref["variable"] = ref["variable"].map(_mi_name)
    ref = ref.set_index("variable")
    mine = m.balance.set_index("variable").loc[ref.index, ref.columns]
    np.testing.assert_allclose(mine.to_numpy(), ref.to_numpy(), atol=1e-9, rtol=0)


def test_balance_thresholds_flag_rows(frames: dict[str, pd.DataFrame]) -> None:
    m = _match(frames, "panel_unitid")
    tab = balance_report(m, smd_threshold=0.05, vr_threshold=1.05)
    assert tab["smd_ok"].isna().iloc[0] and tab["vr_ok"].isna().iloc[0]  # distance unflagged
    rest = tab.iloc[1:]
    assert (rest["smd_ok"] == (rest["smd_after"].abs() <= 0.05)).all()
    assert rest.loc[rest["variable"] == "male", "vr_ok"].isna().all()  # binary: no VR flag
    vr = rest["vr_after"].dropna()
    assert (rest.loc[vr.index, "vr_ok"] == ((vr >= 1 / 1.05) & (vr <= 1.05))).all()
    with pytest.raises(MatchingError, match="Fix"):
        balance_report(m, vr_threshold=0.5)
    levels = np.array([[1.0, 0.0], [0.0, 1.0], [1.0, 0.0]])  # two levels of one variable
    assert expand_terms(levels, ["a_x", "a_y"], squares=True, interactions=True)[1] == [
        "a_x",
        "a_y",
    ]


def test_unit_id_uses_up_every_record_of_a_person(frames: dict[str, pd.DataFrame]) -> None:
    m = _match(frames, "panel_unitid")
    p = frames["panel"].set_index("id")["person"]
    used = m.weights[m.weights > 0].index
    controls = [c for c in m.pairs["control_id_1"].dropna()]
    assert p.loc[controls].is_unique  # no person serves as a control twice
    assert len(used) == 2 * m.n_matched_treated


def test_matched_sample_is_immutable_and_short(frames: dict[str, pd.DataFrame]) -> None:
    m = _match(frames, "ties_nn1")
    w = m.weights
    w.iloc[0] = 99.0
    data = m.data
    data.loc[0, "treat"] = 5
    assert m.weights.iloc[0] != 99.0 and m.data.loc[0, "treat"] in (0, 1)
    assert not m.weights.to_numpy().flags.writeable
    with pytest.raises(AttributeError):
        m.ratio = 3  # type: ignore[misc]
    with pytest.raises(TypeError):
        m.diagnostics["n_discarded"] = 1  # type: ignore[index]
    text = str(m)
    assert len(text.splitlines()) < 12 and "329 of 329" in text
    assert "<table>" in m._repr_html_() and "max |SMD|" in m._repr_html_()
    with pytest.raises(MatchingError, match="weights has 3 values"):
        MatchedSample(**{**_fields(m), "weights": pd.Series([1.0, 1.0, 1.0])})


def _fields(m: MatchedSample) -> dict[str, Any]:
    import dataclasses

    return {f.name: getattr(m, f.name) for f in dataclasses.fields(m)}


def test_bad_options_raise_typed_errors(frames: dict[str, pd.DataFrame]) -> None:
    t = frames["ties"]
    kw: dict[str, Any] = {"treatment": "treat", "covariates": TIES_COVS, "id_col": "id"}
    for bad, msg in [
        ({"estimand": "ATE"}, "estimand"),
        ({"min_controls": 1}, "go together"),
        ({"ratio": 2, "min_controls": 3, "max_controls": 4}, "variable ratio"),
        ({"reuse_max": 0}, "reuse_max"),
        ({"caliper": {"distance": -1}}, "caliper"),
        ({"std_caliper": {"age": True}, "caliper": 0.2}, "std_caliper"),
        ({"method": "optimal", "replace": True, "reuse_max": 2}, "optimal"),
        ({"ties": "left", "antiexact": ["insurer"]}, "ties='left'"),
        ({"distance": np.ones(3)}, "3 values"),
        ({"distance": "mahalanobis", "order": "largest"}, "no score"),
        ({"mahvars": ["smoke"], "unit_id": "id"}, "mahvars cannot"),
    ]:
        # MatchingError is a DesignError; option values outside their declared range are
        # refused as DesignError by the design contract's validator
        with pytest.raises(DesignError, match=msg):
            match(t, **kw, **bad)


# ---------------------------------------------------------------- algorithm properties


def test_heap_partial_sort_is_libstdcxx_order() -> None:
    """Cases made by partial_sort.cpp (libstdc++ std::partial_sort, ties included)."""
    lines = (REF / "partial_sort_cases.txt").read_text().splitlines()
    for line in lines:
        d, k, want = ast.literal_eval(line.rstrip().rstrip(","))
        assert _heap_partial_sort(list(range(len(d))), d, k) == want, line


def _brute_optimal(d: np.ndarray, t: np.ndarray, k: int) -> float:
    tr, co = np.flatnonzero(t), np.flatnonzero(~t)
    best = np.inf
    for perm in itertools.permutations(co, len(tr) * k):
        cost = sum(abs(d[tr[i // k]] - d[c]) for i, c in enumerate(perm))
        best = min(best, cost)
    return float(best)


@pytest.mark.parametrize("seed", range(8))
@pytest.mark.parametrize("k", [1, 2])
def test_optimal_reaches_the_brute_force_optimum(seed: int, k: int) -> None:
    rng = np.random.default_rng(seed)
    n1 = 3 if k == 1 else 2
    d = np.round(rng.random(n1 + 6), 2)  # rounded: ties included
    t = np.r_[np.ones(n1, bool), np.zeros(6, bool)]
    mm = optimal_match(d, t, ratio=k)
    assert (mm >= 0).all() and len(set(mm.ravel())) == mm.size
    total = sum(abs(d[i] - d[c]) for i, row in zip(np.flatnonzero(t), mm, strict=True) for c in row)
    assert total == pytest.approx(_brute_optimal(d, t, k), abs=1e-12)
    greedy = nearest_match(d, t, ratio=k)
    g_total = sum(
        abs(d[i] - d[c]) for i, row in zip(np.flatnonzero(t), greedy, strict=True) for c in row
    )
    assert total <= g_total + 1e-12


def test_optimal_through_match(frames: dict[str, pd.DataFrame]) -> None:
    kw: dict[str, Any] = {"treatment": "treat", "covariates": PANEL_COVS, "id_col": "id"}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        opt = match(frames["panel"], method="optimal", **kw)
        near = match(frames["panel"], **kw)

    def total(m: MatchedSample) -> float:
        d = m.distance
        t_ids = m.pairs["treated_id"].to_numpy()
        c_ids = m.pairs["control_id_1"].to_numpy()
        return float(np.abs(d.loc[t_ids].to_numpy() - d.loc[c_ids].to_numpy()).sum())

    assert opt.n_matched_treated == near.n_matched_treated == 205
    assert opt.options["method"] == "optimal"
    assert total(opt) <= total(near) + 1e-12


# ---------------------------------------------------------------- a step-by-step oracle


def _walk_oracle(
    d: np.ndarray,
    t: np.ndarray,
    *,
    ratio: int,
    cal: float | None,
    reuse_max: int,
    strata: np.ndarray | None,
) -> np.ndarray:
    """MatchIt 4.7.2's walk transcribed step by step (O(n) per search, no skipping
    structure): the reference for nearest_match's fast version, rounds without replacement
    or with a reuse limit below the number of focal units."""
    n = len(d)
    srt = np.argsort(d, kind="stable")
    pos = np.empty(n, dtype=int)
    pos[srt] = np.arange(n)
    f = np.flatnonzero(t)
    order = np.argsort(-d[f], kind="stable")
    mm = np.full((len(f), ratio), -1)
    eligible = np.ones(n, bool)
    times = np.zeros(n, int)
    allowed = np.where(t, ratio, reuse_max)
    width = np.inf if cal is None else cal
    for r in range(ratio):
        for i in order:
            ti = f[i]
            if not eligible[ti]:
                continue
            prev = [c for c in mm[i, :r] if c >= 0]
            ii = pos[ti]
            starts = [pos[c] for c in prev] + [ii]
            lo_s, hi_s = min(starts), max(starts)
            gaps = {p: abs(d[ti] - d[srt[p]]) for p in starts}
            min_dist = 0.0
            if prev:
                min_dist = (
                    gaps[hi_s]
                    if lo_s == ii
                    else gaps[lo_s]
                    if hi_s == ii
                    else max(gaps[lo_s], gaps[hi_s])
                )
            found: list[tuple[float, int, int]] = []  # (gap, side, control) as found
            stop = [False, False]
            cur = [lo_s, hi_s]
            left = False
            while not (stop[0] and stop[1]):
                left = True if stop[1] else False if stop[0] else not left
                side = 0 if left else 1
                nxt = cur[side] - 1 if left else cur[side] + 1
                if nxt < 0 or nxt >= n:
                    stop[side] = True
                    continue
                cur[side] = nxt
                c = int(srt[nxt])
                if t[c] or not eligible[c] or c in prev:
                    continue
                gap = abs(d[ti] - d[c])
                if gap > width:
                    stop[side] = True
                    continue
                if gap < min_dist:
                    continue
                if found and min(g for g, _, _ in found) < gap:
                    stop[side] = True
                    continue
                if strata is not None and strata[c] != strata[ti]:
                    continue
                found.append((gap, side, c))
                stop[side] = True  # one control per side and round
            if not found:
                eligible[ti] = False
                continue
            c = min(found, key=lambda x: x[0])[2]  # the first found among equals
            mm[i, len(prev)] = c
            for u in (c, ti):
                times[u] += 1
                if times[u] >= allowed[u]:
                    eligible[u] = False
    return mm


@settings(max_examples=80, deadline=None)
@given(
    data=st.lists(
        st.tuples(st.integers(0, 6), st.booleans(), st.integers(0, 1)), min_size=2, max_size=40
    ),
    ratio=st.integers(1, 3),
    cal=st.sampled_from([None, 0.0, 0.5, 1.0]),
    reuse_max=st.integers(1, 2),
    use_strata=st.booleans(),
)
def test_fast_walk_equals_step_by_step_walk(
    data: list[tuple[int, bool, int]],
    ratio: int,
    cal: float | None,
    reuse_max: int,
    use_strata: bool,
) -> None:
    # few distinct integer scores: ties everywhere
    d = np.array([x[0] for x in data], dtype=float) / 4
    t = np.array([x[1] for x in data])
    # reuse_max >= the number of focal units is matching with replacement (one walk)
    assume(reuse_max < int(t.sum()))
    strata = np.array([x[2] for x in data]) if use_strata else None
    order = np.argsort(-d[t], kind="stable")
    got = nearest_match(
        d, t, ratio=ratio, caliper_width=cal, reuse_max=reuse_max, order=order, strata=strata
    )
    want = _walk_oracle(d, t, ratio=ratio, cal=cal, reuse_max=reuse_max, strata=strata)
    np.testing.assert_array_equal(got, want)
