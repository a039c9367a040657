"""Designs newly reachable from a spec: a before/after share with paired proportions
(美馬市-style) and a baseline indicator paid on the evaluation year's observed level
(八王子市-style), both run end to end through ``run_spec`` with a contract."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from pfseval.batch import load_spec, results_json, run_spec
from pfseval.designs.contract import designs


def _need(name: str) -> None:
    if name not in designs():  # registered by the design modules (parts A and B of issue 9)
        pytest.fail(f"design {name!r} is not registered")


# ---------------------------------------------------------------- 美馬市-style


def _habit(n: int = 200, seed: int = 5) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    before = (rng.random(n) < 0.30).astype(int)
    # some start exercising, a few stop
    after = np.where(before == 1, (rng.random(n) < 0.9).astype(int), (rng.random(n) < 0.2))
    df = pd.DataFrame({"person_id": [f"m{i:04d}" for i in range(n)], "exercise_before": before})
    df["exercise_after"] = after.astype(int)
    df.loc[[3, 17], "exercise_after"] = np.nan  # no follow-up answer
    return df


PAIRED_SPEC = """
[data.survey]
path = "survey.csv"
[[indicators]]
id = "exercise_habit"
label = { ja = "運動習慣のある人の割合の変化", en = "Change in the share with an exercise habit" }
design = "prepost.paired_proportions"
data = "survey"
options = { before = "exercise_before", after = "exercise_after" }
[contract]
name = "運動習慣（例）"
unit = "千円"
rounding = "floor"
rounding_unit = 1
[[contract.component]]
label = "運動習慣の改善"
indicator = "exercise_habit"
basis = "point"
schedule = { type = "interpolate", points = [[0.0, 0], [0.10, 1000]] }
"""


def test_before_after_share_with_paired_proportions(tmp_path: Path) -> None:
    _need("prepost.paired_proportions")
    df = _habit()
    df.to_csv(tmp_path / "survey.csv", index=False)
    (tmp_path / "spec.toml").write_text(PAIRED_SPEC, encoding="utf-8")
    run = run_spec(load_spec(tmp_path / "spec.toml"))
    est = run.estimates["exercise_habit"]
    # by hand: the 198 complete pairs, after share minus before share
    ok = df["exercise_after"].notna()
    b, a = df.loc[ok, "exercise_before"], df.loc[ok, "exercise_after"]
    assert est.n == 198
    assert est.value == pytest.approx(float(a.mean() - b.mean()), abs=1e-12)
    assert est.diagnostics["p_before"] == pytest.approx(float(b.mean()))
    # the two people without an answer are accounted for in the flow
    assert est.sample_flow is not None and est.sample_flow.n_excluded() == 2
    # the same numbers as the Python API
    from pfseval.designs.prepost import paired_proportions

    api = paired_proportions(df, before="exercise_before", after="exercise_after")
    assert (est.value, est.conf_low, est.conf_high) == (api.value, api.conf_low, api.conf_high)
    # paid on it: linear from 0 to +10 points, 1,000 thousand yen at +10 points (floored)
    assert run.payment is not None
    assert run.payment.total == np.floor(min(1.0, max(0.0, est.value / 0.10)) * 1000)
    res = json.loads(results_json(run))
    assert res["indicators"]["exercise_habit"]["design"] == "prepost.paired_proportions"
    assert res["indicators"]["exercise_habit"]["method"]["code"].startswith(
        "prepost.method.paired_proportions"
    )


# ---------------------------------------------------------------- 八王子市-style


OBSERVED_SPEC = """
[data.uptake]
path = "uptake.csv"
aggregated = true
[[indicators]]
id = "uptake_rate"
label = { ja = "検診受診率", en = "Screening uptake rate" }
design = "baseline.compare"
data = "uptake"
use = "observed"
options = { year = "fiscal_year", numerator = "screened", denominator = "eligible", evaluation_year = 2023, method = "mean", k = 3 }
[contract]
name = "受診率（例）"
unit = "千円"
rounding = "floor"
rounding_unit = 1
[[contract.component]]
label = "受診率"
indicator = "uptake_rate"
basis = "point"
schedule = { type = "step", steps = [[0.20, 500], [0.25, 1000]] }
"""


def test_baseline_indicator_paid_on_the_observed_level(tmp_path: Path) -> None:
    _need("baseline.compare")
    years = list(range(2018, 2024))
    eligible = [5000, 5100, 5050, 4980, 5020, 5000]
    screened = [900, 950, 940, 960, 970, 1300]  # 26% in 2023
    pd.DataFrame({"fiscal_year": years, "eligible": eligible, "screened": screened}).to_csv(
        tmp_path / "uptake.csv", index=False
    )
    (tmp_path / "spec.toml").write_text(OBSERVED_SPEC, encoding="utf-8")
    spec = load_spec(tmp_path / "spec.toml")
    assert spec.indicators[0].use == "observed"
    run = run_spec(spec)
    est = run.estimates["uptake_rate"]
    # the indicator is the evaluation year's observed rate itself
    assert est.value == pytest.approx(1300 / 5000, abs=1e-12)
    assert est.conf_low < est.value < est.conf_high
    # the difference from the baseline stays beside it
    diff = est.related["rate_difference"]
    mean3 = np.mean([940 / 5050, 960 / 4980, 970 / 5020])
    assert diff.value == pytest.approx(1300 / 5000 - mean3, abs=1e-12)
    assert run.payment is not None and run.payment.total == 1000


# ---------------------------------------------------------------- the other newly reachable


def test_permutation_test_and_count_total_from_a_spec(tmp_path: Path) -> None:
    """rct.permutation_test (seeded by the indicator's seed) and prepost.count_total run from
    a spec with the numbers of the Python API."""
    _need("rct.permutation_test")
    _need("prepost.count_total")
    rng = np.random.default_rng(9)
    n = 60
    df = pd.DataFrame(
        {
            "person_id": [f"r{i:03d}" for i in range(n)],
            "arm": np.tile([0, 1], n // 2),
            "visits_before": rng.poisson(4, n),
        }
    )
    df["sbp_change"] = rng.normal(0, 8, n) - 4 * df["arm"]
    df["visits_after"] = rng.poisson(3, n)
    df.to_csv(tmp_path / "trial.csv", index=False)
    (tmp_path / "spec.toml").write_text(
        """
[data.trial]
path = "trial.csv"
[[indicators]]
id = "perm"
design = "rct.permutation_test"
data = "trial"
seed = 7
options = { outcome = "sbp_change", treatment = "arm", n_perm = 999 }
[[indicators]]
id = "visits"
design = "prepost.count_total"
data = "trial"
options = { before = "visits_before", after = "visits_after" }
""",
        encoding="utf-8",
    )
    run = run_spec(load_spec(tmp_path / "spec.toml"))
    from pfseval.designs.prepost import count_total
    from pfseval.designs.rct import permutation_test

    perm = permutation_test(df, outcome="sbp_change", treatment="arm", n_perm=999, seed=7)
    got = run.estimates["perm"]
    assert (got.value, got.p_value) == (perm.value, perm.p_value)
    tot = count_total(df, before="visits_before", after="visits_after")
    assert run.estimates["visits"].value == tot.value
    # by hand: the default direction counts the decrease, before − after, summed over people
    assert run.estimates["visits"].value == int((df["visits_before"] - df["visits_after"]).sum())
