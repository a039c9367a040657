"""Disclosure control proven by attack: each test plants a small count, lets a reader combine what
is published, and checks that the count cannot be narrowed. The auditor itself is checked against
brute-force enumeration of every integer table consistent with the publication.
"""

from __future__ import annotations

import itertools

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from pfseval.sdc import Publication, audit, protect
from pfseval.sdc.audit import proportion_ci_pairs
from pfseval.sdc.model import Derived


def _flow(pub: Publication, prefix: str, n0: int, excluded: list[int]) -> list[str]:
    keys = [pub.cell(f"{prefix}.input", n0, cost=100.0)]
    remaining = n0
    for i, e in enumerate(excluded):
        ex = pub.cell(f"{prefix}.excl{i}", e)
        remaining -= e
        rem = pub.cell(f"{prefix}.rem{i}", remaining, cost=10.0)
        pub.parts(keys[-1], [ex, rem])
        keys.append(rem)
    return keys


@pytest.mark.parametrize("small", [1, 2, 3, 5, 9])
def test_flow_step_cannot_be_recomputed(small):
    pub = Publication(min_cell=10)
    _flow(pub, "t", 200, [small, 40, 12])
    d = protect(pub)
    assert d.hidden["t.excl0"] == "primary"
    assert not d.unsafe
    f = d.findings["t.excl0"]
    assert (f.low, f.high) == (1, 9)
    # the key denominator stays published (the cheaper remaining count is hidden instead)
    assert d.is_published("t.input")


def test_degrees_of_freedom_next_to_hidden_n_are_withheld():
    pub = Publication(min_cell=10)
    n = pub.cell("n", 5)
    pub.linear("df", {n: 1.0}, const=-1.0)
    d = protect(pub)
    assert d.hidden["n"] == "primary"
    assert "df" in d.withheld
    assert not d.unsafe


def test_attrition_rate_times_arm_size():
    pub = Publication(min_cell=10)
    arm = pub.cell("arm", 150, cost=100.0)
    miss = pub.cell("missing", 3)
    pub.ratio("attrition", miss, arm, decimals=3)
    d = protect(pub)
    assert "attrition" in d.withheld  # the rate goes, the arm size (a key denominator) stays
    assert d.is_published("arm")
    assert not d.unsafe


def test_difference_of_published_counts():
    # n_increased hidden, but n_pairs − n_decreased − n_unchanged is published
    pub = Publication(min_cell=10)
    total = pub.cell("n_pairs", 80, cost=100.0)
    inc, dec, unch = pub.cell("inc", 3), pub.cell("dec", 60), pub.cell("unch", 17)
    pub.parts(total, [inc, dec, unch])
    d = protect(pub)
    assert d.hidden["inc"] == "primary"
    assert sum(1 for k in ("dec", "unch") if d.hidden.get(k) == "secondary") == 1
    assert d.is_published("n_pairs")
    assert not d.unsafe


def test_event_count_and_its_rate_and_ci():
    # an RCT arm with 3 events: the count, the rate and its Wilson interval all give it back
    pub = Publication(min_cell=10)
    arm = pub.cell("arm", 40, cost=100.0)
    ev = pub.cell("events", 3)
    pub.ratio("rate", ev, arm, decimals=3)
    pub.proportion_ci("rate_ci", ev, arm, conf_low=0.0258, conf_high=0.1986, decimals=4)
    d = protect(pub)
    assert {"rate", "rate_ci"} <= d.withheld
    assert not d.unsafe


def test_rate_with_ci_reveals_a_hidden_denominator():
    # 31 of 43 with the Wilson interval: publishing the rate and CI pins the denominator 43,
    # so a hidden 43 protects nothing; the auditor must see that.
    pub = Publication(min_cell=10)
    n = pub.cell("n", 43)
    k = pub.cell("k", 31)
    pub.ratio("rate", k, n, decimals=3)
    pub.proportion_ci("ci", k, n, conf_low=0.5731, conf_high=0.8325, decimals=4)
    f = audit(pub, {"n": "secondary", "k": "secondary"})
    assert f["n"].low == f["n"].high == 43
    assert f["k"].low == f["k"].high == 31


def test_key_denominator_published_when_safe():
    # the Kobe demo: 104 participants, 100 matched, 43 in the denominator, a rate with its CI;
    # nothing is small, so everything is published
    pub = Publication(min_cell=10)
    p = pub.cell("participants", 104, cost=1000.0)
    m = pub.cell("matched", 100, cost=1000.0)
    u = pub.cell("unmatched", 4)
    pub.parts(p, [m, u])
    den = pub.cell("denominator", 43, cost=1000.0)
    sup = pub.cell("suppressed", 31)
    pub.ratio("rate", sup, den, decimals=3)
    pub.proportion_ci("rate_ci", sup, den, conf_low=0.5731, conf_high=0.8325, decimals=4)
    d = protect(pub)
    assert d.hidden == {
        "unmatched": "primary",
        **{k: "secondary" for k in d.hidden if k != "unmatched"},
    }
    assert d.is_published("participants") or d.is_published("matched")
    assert d.is_published("denominator") and d.is_published("rate")
    assert not d.unsafe


@pytest.mark.parametrize("size", [1, 2, 3, 5, 9])
def test_small_group_statistics_are_withheld(size):
    pub = Publication(min_cell=10)
    g = pub.cell("group", size)
    pub.group_statistic("mean_se", [g])
    pub.group_statistic("figure", [g])
    d = protect(pub)
    assert {"mean_se", "figure"} <= d.withheld


def test_smd_of_two_valued_covariate():
    # a 1/2-coded sex covariate: its means per group are counts of women over n; with n
    # published the SMD and variance ratio solve to "3 women": withheld as a group statistic
    pub = Publication(min_cell=10)
    n_t = pub.cell("n_treated", 50, cost=1000.0)
    women = pub.cell("women_treated", 3)
    men = pub.cell("men_treated", 47)
    pub.parts(n_t, [women, men])
    pub.ratio("mean_sex_treated", women, n_t, decimals=3)
    pub.group_statistic("smd_sex", [women, men])
    d = protect(pub)
    assert {"mean_sex_treated", "smd_sex"} <= d.withheld
    assert not d.unsafe


def test_linked_tables_are_solved_together():
    # the same cells appear in the flow diagram and in a diagnostics table; hiding a cell in
    # one table only would leak through the other
    pub = Publication(min_cell=10)
    _flow(pub, "t", 120, [4, 30])
    pub.linear("diag.n_analysed", {"t.rem1": 1.0})
    pub.linear("diag.n_excluded_total", {"t.excl0": 1.0, "t.excl1": 1.0})
    d = protect(pub)
    assert not d.unsafe
    assert d.findings["t.excl0"].width >= 8


# ------------------------------------------------------------ the auditor against brute force


def _brute_interval(pub: Publication, hidden: dict[str, str], key: str) -> tuple[int, int]:
    """Every integer assignment of the hidden cells consistent with what is published."""
    ub = 60
    ranges = []
    keys = list(hidden)
    for k in keys:
        ranges.append(range(1, pub.min_cell) if hidden[k] == "primary" else range(pub.min_cell, ub))
    vals = []
    fixed = {k: c.value for k, c in pub.cells.items() if k not in hidden}
    for combo in itertools.product(*ranges):
        x = {**fixed, **dict(zip(keys, combo, strict=True))}
        ok = all(abs(sum(c * x[k] for k, c in i.coefs.items())) < 1e-9 for i in pub.identities)
        for d in pub.derived.values():
            if not ok:
                break
            if d.kind == "ratio":
                den = x[d.denominator] if isinstance(d.denominator, str) else d.denominator
                ok = den > 0 and abs(d.scale * x[d.numerator] / den - d.value) <= d.tol + 1e-12
        if ok:
            vals.append(x[key])
    return min(vals), max(vals)


@settings(max_examples=25, deadline=None)
@given(
    small=st.integers(1, 9),
    a=st.integers(10, 25),
    b=st.integers(10, 25),
    with_rate=st.booleans(),
)
def test_auditor_matches_brute_force(small, a, b, with_rate):
    pub = Publication(min_cell=10)
    total = pub.cell("total", small + a + b)
    pub.parts(total, [pub.cell("s", small), pub.cell("a", a), pub.cell("b", b)])
    if with_rate:
        pub.ratio("share_a", "a", "total", decimals=2)
    hidden = {"s": "primary", "a": "secondary"}
    f = audit(pub, hidden)["s"]
    lo, hi = _brute_interval(pub, hidden, "s")
    assert (f.low, f.high) == (lo, hi)


def test_proportion_ci_pairs_match_a_direct_scan():
    from statsmodels.stats.proportion import proportion_confint

    d = Derived("ci", "proportion_ci", value=0.2000, upper=0.6000, tol=0.015)
    n, kmin, kmax = proportion_ci_pairs(d, n_max=60)
    got = {
        (int(a), int(k)) for a, lo, hi in zip(n, kmin, kmax, strict=True) for k in range(lo, hi + 1)
    }
    want = set()
    for nn in range(1, 61):
        for k in range(nn + 1):
            lo, hi = proportion_confint(k, nn, method="wilson")
            if abs(lo - 0.2) <= 0.015 and abs(hi - 0.6) <= 0.015:
                want.add((nn, k))
    assert got == want and want


def test_protect_is_deterministic():
    def build() -> Publication:
        pub = Publication(min_cell=10)
        _flow(pub, "t", 300, [2, 7, 50, 3])
        _flow(pub, "c", 900, [100, 5])
        pub.ratio("r", "t.rem3", "t.input", decimals=3)
        return pub

    a, b = protect(build()), protect(build())
    assert dict(a.hidden) == dict(b.hidden) and a.withheld == b.withheld
    assert not a.unsafe
    assert np.isfinite([f.width for f in a.findings.values()]).all()


def test_a_table_of_many_groups_is_protected_from_what_is_published():
    # 300 municipalities: size, completers and non-completers each, the completion rate, and
    # both totals. Five small municipalities and one of 40 with 2 completers are primary. The
    # solver starts from everything published and hides only around them: the audit runs over
    # the few hidden cells, never over all 900 counts (starting from everything hidden, each
    # step was a programme over the whole table: minutes for 300 groups, hours for 1,700)
    rng = np.random.default_rng(7)
    sizes = rng.integers(15, 400, 300)
    sizes[[3, 50, 120, 121, 260]] = [1, 4, 9, 2, 7]
    sizes[200] = 40
    done = (sizes * 0.6).astype(int)
    done[200] = 2
    pub = Publication(min_cell=10)
    for g, (n, y) in enumerate(zip(sizes, done, strict=True)):
        pub.parts(pub.cell(f"n{g}", n), [pub.cell(f"y{g}", y), pub.cell(f"r{g}", n - y)])
        pub.ratio(f"rate{g}", f"y{g}", f"n{g}", decimals=3, group=[f"n{g}"])
    pub.parts(pub.cell("N", int(sizes.sum()), cost=100.0), [f"n{g}" for g in range(300)])
    pub.parts(pub.cell("Y", int(done.sum()), cost=100.0), [f"y{g}" for g in range(300)])
    d = protect(pub)
    assert not d.exposed  # every hidden count as wide as the publication allows
    primary = {k for k, why in d.hidden.items() if why == "primary"}
    assert {"n3", "n50", "n120", "n121", "n260", "y200"} <= primary
    # a small municipality's size is the sum of two small counts (both at least 1): it keeps
    # the widest range that allows, 2-9, and its parts 1-8; the 2 completers of the 40 and
    # the one-person municipality keep the whole range 1-9
    nested = {f"{c}{g}" for g in (50, 120, 121, 260) for c in "nyr"}
    assert d.unprotectable == nested & primary
    assert all(d.findings[k].width >= 7 for k in nested & primary)
    assert d.findings["y200"].width >= d.protection and d.findings["n3"].width >= d.protection
    # what the rate of the 40 would give back is withheld; the rest of the table stays
    assert "rate200" in d.withheld
    secondary = [k for k, why in d.hidden.items() if why == "secondary"]
    assert len(secondary) <= len(primary)
    assert d.is_published("N") and d.is_published("Y")
