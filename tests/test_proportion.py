"""pfseval.designs.proportion against statsmodels and hand calculation; notices, flow, contract."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from statsmodels.stats.proportion import proportion_confint

from pfseval.designs.proportion import mean_of_rates, rate
from pfseval.errors import DesignError, SmallSampleWarning


def test_rate_matches_statsmodels_wilson_and_clopper_pearson() -> None:
    df = pd.DataFrame({"done": [1] * 41 + [0] * 9 + [np.nan] * 3, "gone": [0] * 52 + [1]})
    est = rate(df, outcome="done", exclude="gone")
    # the excluded person had a missing outcome, so 41 / 50; 2 missing outcomes remain
    assert est.value == pytest.approx(41 / 50)
    # statsmodels implements both intervals independently; 1e-12 is float round-off
    wl = proportion_confint(41, 50, alpha=0.05, method="wilson")
    cp = proportion_confint(41, 50, alpha=0.05, method="beta")
    assert est.interval() == pytest.approx(wl, abs=1e-12)
    assert est.interval("clopper_pearson") == pytest.approx(cp, abs=1e-12)
    d = est.diagnostics
    assert (d["n_numerator"], d["n_denominator"], d["n_missing"], d["n_excluded"]) == (41, 50, 2, 1)
    flow = est.sample_flow
    assert flow is not None and flow.n_analysed() == 50 and flow.total_input == 53
    codes = [s.reason.code for s in flow.steps]
    assert codes == ["proportion.flow.excluded_after_start", "proportion.flow.no_data"]
    assert flow.steps[1].reason.text("ja") == "doneのデータなし"
    assert est.method.code == "proportion.method.wilson" and est.notices == ()


def test_small_denominator_is_a_notice_with_a_count_of_people() -> None:
    df = pd.DataFrame({"done": [1] * 7 + [0] * 5})
    with pytest.warns(SmallSampleWarning, match="Only 12 people"):
        est = rate(df, outcome="done")
    (n,) = est.notices
    assert n.code == "proportion.small_denominator"
    assert dict(n.counts) == {"n_denominator": 12} and n.params["minimum"] == 30
    assert n.text("ja", counts={"n_denominator": "<20"}).startswith("分母が<20人")


@pytest.mark.filterwarnings("ignore::pfseval.errors.SmallSampleWarning")
def test_mean_of_rates_value_by_hand_and_failed_replicates_named_once() -> None:
    # domain a: 3/4 (one missing), domain b: 2/5 -> mean 0.575
    df = pd.DataFrame({"a": [1, 1, 0, 1, np.nan], "b": [1, 0, 0, 1, 0]})
    est = mean_of_rates(df, outcomes=["a", "b"], n_boot=300, seed=5)
    assert [n.code for n in est.notices] == ["proportion.small_bootstrap_sample"]
    assert est.value == pytest.approx((3 / 4 + 2 / 5) / 2)
    assert est.diagnostics["n_failed_replicates"] == 0
    assert "n_failed_draws" not in est.diagnostics
    assert est.related["domain:a"].diagnostics["n_denominator"] == 4
    assert est.provenance["seed"] == 5
    again = mean_of_rates(df, outcomes=["a", "b"], n_boot=300, seed=5)
    assert (again.conf_low, again.conf_high) == (est.conf_low, est.conf_high)
    unseeded = mean_of_rates(df, outcomes=["a", "b"], n_boot=50)
    assert isinstance(unseeded.provenance["seed"], int)  # recorded, so the run can be repeated


def test_options_are_checked_by_the_contract() -> None:
    df = pd.DataFrame({"done": [1, 0] * 20})
    with pytest.raises(DesignError, match="'missing'"):
        rate(df, outcome="done", missing="drop")  # type: ignore[arg-type]
    with pytest.raises(DesignError, match="'level'"):
        rate(df, outcome="done", level=95)
    with pytest.raises(DesignError, match="'n_boot'"):
        mean_of_rates(df, outcomes=["done"], n_boot=0)
