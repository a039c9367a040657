"""Matching: MatchIt parity (4.7.2 and 4.5.1 references), an O(n²) brute-force oracle, inputs."""

from __future__ import annotations

import time
import warnings
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import pfseval.designs.psm.matching as matching
from pfseval.designs.psm import MatchingDataError, UnmatchedWarning, greedy_match, match
from pfseval.designs.psm.balance import balance_table
from pfseval.errors import (
    BalanceWarning,
    ColumnMissingError,
    DataValidationError,
    MatchingError,
    SmallSampleWarning,
)

REF = Path(__file__).parent / "reference" / "psm"
COVS = ["age", "educ", "race", "married", "nodegree", "re74", "re75"]

SPECS_472: dict[str, dict[str, Any]] = {
    "nn1": {},
    "nn1_logitcal02": {"link": "linear.logit", "caliper": 0.2},
    "nn2": {"ratio": 2},
}
SPECS_451: dict[str, dict[str, Any]] = {
    "replace_nn1": {"replace": True},
    "exact_married_nodegree": {"exact": ["married", "nodegree"]},
    "ratio3_linear_caliper": {"ratio": 3, "link": "linear.logit", "caliper": 0.5},
    "probit_smallest": {"link": "probit", "order": "smallest"},
    "linear_probit_data_order": {"link": "linear.probit", "order": "data", "ratio": 2},
    "discard_both": {"discard": "both"},
}


@pytest.fixture(scope="module")
def lalonde() -> pd.DataFrame:
    return pd.read_csv(REF / "lalonde" / "lalonde.csv")


def _quiet_match(data: pd.DataFrame, **kw: object) -> matching.MatchedSample:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return match(data, treatment="treat", covariates=COVS, id_col="id", **kw)  # type: ignore[arg-type]


def _pairs_array(pairs: pd.DataFrame) -> np.ndarray:
    return pairs.astype("float64").fillna(-1).to_numpy()


def _ref_balance(path: Path) -> pd.DataFrame:
    b = pd.read_csv(path)
    b["variable"] = [
        v.replace("race", "race_") if v.startswith("race") else v for v in b["variable"]
    ]
    return b.set_index("variable")


# ---------------------------------------------------------------- MatchIt 4.7.2 parity


@pytest.mark.parametrize("spec", list(SPECS_472))
def test_matchit_472_pairs_and_balance(lalonde: pd.DataFrame, spec: str) -> None:
    m = _quiet_match(lalonde, **SPECS_472[spec])
    ref_pairs = pd.read_csv(REF / "lalonde" / f"{spec}_pairs.csv")
    assert list(m.pairs.columns) == list(ref_pairs.columns)
    np.testing.assert_array_equal(_pairs_array(m.pairs), ref_pairs.fillna(-1).to_numpy())
    ref = _ref_balance(REF / "lalonde" / f"{spec}_balance.csv")
    mine = m.balance.set_index("variable").loc[ref.index, ref.columns]
    # brief: balance table to 1e-6 (observed ~1e-14)
    np.testing.assert_allclose(mine.to_numpy(), ref.to_numpy(), rtol=0, atol=1e-6)
    dist = pd.read_csv(REF / "lalonde" / f"{spec}_distance.csv")
    np.testing.assert_allclose(m.distance.to_numpy(), dist["distance"], atol=1e-6, rtol=0)


def test_matchit_472_counts(lalonde: pd.DataFrame) -> None:
    eff = pd.read_csv(REF / "lalonde" / "nn1_logitcal02_effect.csv").iloc[0]
    m = _quiet_match(lalonde, **SPECS_472["nn1_logitcal02"])
    assert m.n_matched_treated == eff["matched_treated"] == 117
    assert m.n_matched_control == eff["matched_control"]
    assert len(m.unmatched) == 185 - 117
    # reasons checked against the distances directly
    d = m.distance
    ctrl = d[lalonde.set_index("id")["treat"] == 0].to_numpy()
    for tid, reason in zip(m.unmatched["treated_id"], m.unmatched["reason"], strict=True):
        nearest = np.min(np.abs(ctrl - d.loc[tid]))
        far = nearest > m.caliper_width
        assert reason == (
            "no control within the caliper" if far else "all suitable controls were already matched"
        )


# ---------------------------------------------------------------- MatchIt 4.5.1 parity


@pytest.fixture
def matchit_451_gap(monkeypatch: pytest.MonkeyPatch) -> None:
    """MatchIt 4.5.1 truncates score differences to integers (see reference README)."""
    monkeypatch.setattr(matching, "_gap", lambda a, b: np.trunc(abs(a - b)))


@pytest.mark.parametrize("spec", list(SPECS_451))
def test_matchit_451_cases(lalonde: pd.DataFrame, spec: str, matchit_451_gap: None) -> None:
    folder = REF / "matchit451"
    # the truncated gap only exists in the rule pfseval kept from before 4.7.2 parity
    m = _quiet_match(lalonde, ties="left", **SPECS_451[spec])
    ref_pairs = pd.read_csv(folder / f"{spec}_pairs.csv")
    np.testing.assert_array_equal(_pairs_array(m.pairs), ref_pairs.fillna(-1).to_numpy())
    dist = pd.read_csv(folder / f"{spec}_distance.csv")
    np.testing.assert_allclose(m.distance.to_numpy(), dist["distance"], atol=1e-6, rtol=0)
    assert m.diagnostics["n_discarded"] == int(dist["discarded"].sum())
    # weights: exactly MatchIt's (incl. rescaling of control weights), to rounding
    ref_w = pd.read_csv(folder / f"{spec}_weights.csv").set_index("id")
    mine_w = m.weights[m.weights > 0]
    assert list(mine_w.index) == list(ref_w.index)
    np.testing.assert_allclose(mine_w.to_numpy(), ref_w["weights"].to_numpy(), rtol=1e-12)
    if "subclass" in ref_w:  # same partition into matched sets (labels may differ)
        mine_s = m.subclass.loc[ref_w.index].astype("int64")
        assert mine_s.groupby(ref_w["subclass"].to_numpy()).nunique().eq(1).all()
        assert ref_w["subclass"].groupby(mine_s.to_numpy()).nunique().eq(1).all()
    else:  # with replacement only treated units carry a set number
        t = lalonde.set_index("id")["treat"]
        assert m.subclass[t.to_numpy() == 0].isna().all()
    # balance incl. eCDF mean/max, to 1e-6 (observed ~1e-14)
    ref = _ref_balance(folder / f"{spec}_balance.csv")
    mine = m.balance.set_index("variable").loc[ref.index, ref.columns]
    np.testing.assert_allclose(mine.to_numpy(), ref.to_numpy(), rtol=0, atol=1e-6)


def test_zero_control_variance_gives_nan_not_an_exception(lalonde: pd.DataFrame) -> None:
    # audit: caliper 1e-5 keeps 10 exact pairs whose re74/re75 are all 0; the variance ratio
    # was a Python ZeroDivisionError. MatchIt's summary() on the same weights is the reference.
    folder = REF / "zero_variance"
    m = _quiet_match(lalonde, caliper=1e-5)
    ref_w = pd.read_csv(folder / "lalonde_caliper1e-5_weights.csv").set_index("id")["weights"]
    pd.testing.assert_series_equal(
        m.weights.astype(float), ref_w.astype(float), check_names=False, check_index_type=False
    )
    ref = _ref_balance(folder / "lalonde_caliper1e-5_balance.csv")
    mine = m.balance.set_index("variable").loc[ref.index, ref.columns]
    assert np.isnan(mine.loc[["re74", "re75"], "vr_after"]).all()
    # same numbers and the same nan positions as MatchIt, to 1e-6 (observed ~1e-14)
    np.testing.assert_allclose(mine.to_numpy(), ref.to_numpy(), rtol=0, atol=1e-6)


@pytest.mark.parametrize(
    ("case", "weights"),
    [("zero_control_variance", [1, 1, 1, 1, 1, 0, 0]), ("one_pair", [1, 0, 0, 1, 0, 0, 0])],
)
def test_degenerate_matched_samples_match_matchit(case: str, weights: list[int]) -> None:
    # toy data of make_reference.R: inf variance ratio, and MatchIt's "too small" rule
    x = [1, 2, 4, 5, 5, 6, 3]
    z = [0.5, 1.5, 2, 2.5, 1, 0.2, 3]
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # no numpy RuntimeWarning either
        tab = balance_table(np.c_[x, z], [1, 1, 1, 0, 0, 0, 0], weights, names=["x", "z"])
    ref = pd.read_csv(REF / "zero_variance" / f"toy_{case}_balance.csv").set_index("variable")
    mine = tab.set_index("variable").loc[["x", "z"], ref.columns]
    # atol 1e-12: closed-form sums on 7 numbers
    np.testing.assert_allclose(mine.to_numpy(), ref.loc[["x", "z"]].to_numpy(), rtol=0, atol=1e-12)
    if case == "zero_control_variance":
        assert mine.loc["x", "vr_after"] == np.inf


def test_matchit_451_differs_without_its_truncation(lalonde: pd.DataFrame) -> None:
    # sanity of the explanation: the real distance reproduces 4.7.2, not 4.5.1, for a caliper
    m = _quiet_match(lalonde, ratio=3, link="linear.logit", caliper=0.5)
    ref = pd.read_csv(REF / "matchit451" / "ratio3_linear_caliper_pairs.csv")
    assert not np.array_equal(_pairs_array(m.pairs), ref.fillna(-1).to_numpy())


# ---------------------------------------------------------------- brute-force oracle


def _brute_force(
    d: np.ndarray,
    t: np.ndarray,
    *,
    ratio: int,
    cal: float | None,
    replace: bool,
    order: str,
    strata: np.ndarray | None,
) -> np.ndarray:
    """Quadratic transcription of MatchIt's documented greedy rule (independent of the
    union–find code): treated units in order, round by round; among usable controls take the
    smallest |difference|; at equal difference the lower-sorted one (score, then data order)
    wins when it lies below the treated unit, else the nearest one in sort order."""
    n = len(d)
    pos = np.empty(n, dtype=int)
    pos[np.argsort(d, kind="stable")] = np.arange(n)
    tpos = np.flatnonzero(t)
    if order == "largest":
        visit = np.argsort(-d[tpos], kind="stable")
    elif order == "smallest":
        visit = np.argsort(d[tpos], kind="stable")
    else:
        visit = np.arange(len(tpos))
    used = np.zeros(n, dtype=bool)
    out = np.full((len(tpos), ratio), -1)
    for r in range(ratio):
        for i in visit:
            ti = tpos[i]
            best = None
            for c in np.flatnonzero(~t):
                if (not replace and used[c]) or c in out[i, :r]:
                    continue
                if strata is not None and strata[c] != strata[ti]:
                    continue
                gap = abs(d[c] - d[ti])
                if cal is not None and gap > cal:
                    continue
                left = pos[c] < pos[ti]
                key = (gap, 0 if left else 1, -pos[c] if left else pos[c])
                if best is None or key < best[0]:
                    best = (key, c)
            if best is not None:
                out[i, r] = best[1]
                used[best[1]] = True
    return out


@settings(max_examples=60, deadline=None)
@given(
    data=st.lists(
        st.tuples(st.integers(0, 12), st.booleans(), st.integers(0, 1)), min_size=2, max_size=40
    ),
    ratio=st.integers(1, 3),
    cal=st.sampled_from([None, 0.0, 1.0, 2.5]),
    replace=st.booleans(),
    order=st.sampled_from(["largest", "smallest", "data"]),
    use_strata=st.booleans(),
)
def test_greedy_equals_brute_force(
    data: list[tuple[int, bool, int]],
    ratio: int,
    cal: float | None,
    replace: bool,
    order: Any,
    use_strata: bool,
) -> None:
    # integer scores make ties everywhere: the hardest case for the tie rules
    d = np.array([x[0] for x in data], dtype=float) / 4
    t = np.array([x[1] for x in data])
    strata = np.array([x[2] for x in data]) if use_strata else None
    got = greedy_match(
        d,
        t,
        ratio=ratio,
        caliper_width=cal,
        replace=replace,
        order=order,
        strata=strata,  # type: ignore[arg-type]
    )
    want = _brute_force(d, t, ratio=ratio, cal=cal, replace=replace, order=order, strata=strata)
    np.testing.assert_array_equal(got, want)


def test_random_order_is_seeded() -> None:
    rng = np.random.default_rng(5)
    d = rng.random(300)
    t = rng.random(300) < 0.3
    a = greedy_match(d, t, order="random", seed=11)
    b = greedy_match(d, t, order="random", seed=11)
    np.testing.assert_array_equal(a, b)
    # every treated unit is matched (enough controls), each control at most once
    assert (a >= 0).all() and len(set(a.ravel())) == a.size


def test_matching_is_fast_on_a_large_pool() -> None:
    # n log n: 200,000 units with 2,000 treated (the benchmark does 1,000,000)
    rng = np.random.default_rng(0)
    n = 200_000
    d = rng.beta(1, 50, n)
    t = np.zeros(n, dtype=bool)
    t[rng.choice(n, 2000, replace=False)] = True
    t0 = time.perf_counter()
    mm = greedy_match(d, t, caliper_width=0.2 * d.std())
    elapsed = time.perf_counter() - t0
    assert (mm >= 0).mean() > 0.99
    assert elapsed < 5.0  # generous for a loaded 2-core machine; ~0.1 s when idle


# ---------------------------------------------------------------- MatchedSample contents


def test_sample_flow_accounts_for_every_row(lalonde: pd.DataFrame) -> None:
    m = _quiet_match(lalonde, link="linear.logit", caliper=0.2)
    flow = m.sample_flow
    assert flow.total_input == len(lalonde)
    assert flow.n_analysed("treated") == m.n_matched_treated == 117
    assert flow.n_analysed("control") == m.n_matched_control
    md = m.matched_data()
    assert len(md) == flow.n_analysed()
    assert {"distance", "weights", "subclass"} <= set(md.columns)
    assert md["subclass"].notna().all()
    # each matched set holds one treated and one control
    assert md.groupby("subclass")["treat"].agg(["sum", "size"]).eq([1, 2]).all().all()


def test_missing_covariates_error_by_default_and_exclude_counts(lalonde: pd.DataFrame) -> None:
    df = lalonde.copy()
    df.loc[[0, 5, 300], "educ"] = np.nan
    with pytest.raises(MatchingDataError) as err:
        _quiet_match(df)
    assert isinstance(err.value, DataValidationError)
    assert isinstance(err.value, MatchingError)
    assert "educ" in str(err.value) and "0, 5, 300" in str(err.value)
    m = _quiet_match(df, missing="exclude")
    steps = {(s.group, str(s.reason)): s.n_excluded for s in m.sample_flow.steps}
    assert steps[("treated", "missing covariate values (educ)")] == 2
    assert steps[("control", "missing covariate values (educ)")] == 1
    reason = m.sample_flow.steps[0].reason
    assert reason.code == "psm.flow.missing_covariates" and "欠測" in reason.text("ja")
    assert len(m.data) == len(df) - 3


@pytest.mark.parametrize(
    ("mutate", "exc", "text"),
    [
        (lambda d: d.assign(treat=d["treat"].replace({1: 2})), MatchingDataError, "treat"),
        (lambda d: d.assign(id=d["id"].where(d.index != 3, 1)), MatchingDataError, "duplicated"),
        (lambda d: d.assign(educ=np.nan), MatchingDataError, "missing in every row"),
        (lambda d: d.assign(married=1), MatchingError, "'married' is constant"),
        (lambda d: d.drop(columns="re74"), ColumnMissingError, "re74"),
    ],
)
def test_bad_input_raises_typed_errors(
    lalonde: pd.DataFrame, mutate: object, exc: type[Exception], text: str
) -> None:
    with pytest.raises(exc, match=text):
        _quiet_match(mutate(lalonde))  # type: ignore[operator]


def test_no_control_within_caliper_raises(lalonde: pd.DataFrame) -> None:
    df = lalonde.copy()
    # put every control far away in a dimension that does not enter the score: use exact
    df["site"] = np.where(df["treat"] == 1, "a", "b")
    with pytest.raises(MatchingError, match="no treated unit found a control"):
        _quiet_match(df, exact=["site"])


def test_warnings_are_recorded_and_issued(lalonde: pd.DataFrame) -> None:
    with pytest.warns(BalanceWarning, match="SMD"), pytest.warns(UnmatchedWarning):
        m = match(
            lalonde,
            treatment="treat",
            covariates=COVS,
            id_col="id",
            caliper=0.05,
            link="logit",
        )
    assert any("|SMD| > 0.1" in w for w in m.warnings)
    assert any("were not matched" in w for w in m.warnings)
    small = lalonde[(lalonde["treat"] == 0) | (lalonde["id"] <= 20)]
    with warnings.catch_warnings(record=True) as rec:
        warnings.simplefilter("always")
        m2 = match(small, treatment="treat", covariates=["age", "educ"], id_col="id")
    issued = {(w.category, str(w.message)) for w in rec}
    assert any(c is SmallSampleWarning and "only 20 treated" in t for c, t in issued)
    assert {t for _, t in issued} == set(m2.warnings)
    small_n = next(n for n in m2.notices if n.code == "psm.few_matched_treated")
    assert small_n.counts["n_matched_treated"] == 20 and small_n.params["minimum"] == 30


def test_string_ids_and_plots(lalonde: pd.DataFrame) -> None:
    df = lalonde.assign(pid=[f"P{i:04d}" for i in lalonde["id"]]).drop(columns="id")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        m = match(df, treatment="treat", covariates=COVS, id_col="pid", ratio=2, caliper=0.1)
    assert m.pairs["treated_id"].str.startswith("P").all()
    ref = _quiet_match(lalonde, ratio=2, caliper=0.1)
    # same matching whatever the id type
    as_int = m.pairs.apply(lambda c: c.str[1:].astype("float64"))
    np.testing.assert_array_equal(as_int.fillna(-1).to_numpy(), _pairs_array(ref.pairs))
    fig = m.love_plot()
    labels = [t.get_text() for t in fig.axes[0].get_yticklabels()]
    assert labels[-1] == "distance" and "race_white" in labels
    fig2 = m.overlap_plot()
    assert len(fig2.axes[0].patches) > 0


def test_pairs_naming_an_unknown_text_id_are_refused(lalonde: pd.DataFrame) -> None:
    # text ids are looked up through Arrow (pandas loops over Arrow-backed text in Python);
    # the check still finds a pair id that is not in the data, and names it
    import dataclasses

    from pfseval.errors import MatchingError

    df = lalonde.assign(pid=pd.Series([f"P{i:04d}" for i in lalonde["id"]], dtype="str"))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        m = match(df.drop(columns="id"), treatment="treat", covariates=COVS, id_col="pid")
    assert str(m.data["pid"].dtype) == "str"
    bad = m.pairs.copy()
    bad.iloc[0, 1] = "P9999"
    with pytest.raises(MatchingError, match="P9999"):
        dataclasses.replace(m, pairs=bad)
