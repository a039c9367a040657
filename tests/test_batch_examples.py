"""The shipped examples end to end: `pfseval demo` once, then its outputs checked against the
Python API on the same data.

- the Kobe-style example built from the yearly extracts gives the same indicator values and
  payment as the pre-linked ``kobe.csv`` (spec.toml) and as the designs called directly;
- the screening example's results.json equals `pfseval.baseline.compare` on a series merged
  by hand, and its payment equals the 浦添市 rule worked out by hand.
"""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
from click.testing import CliRunner

from pfseval.cli import cli

ROOT = Path(__file__).resolve().parents[1]
SEED = 20240401  # the demo's default seed (the examples' evaluation.seed too)

# the designs called directly issue the same warnings the run records (checked elsewhere)
pytestmark = pytest.mark.filterwarnings("ignore::pfseval.errors.PfsevalWarning")


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("demo") / "pfseval-demo"
    r = CliRunner().invoke(cli, ["demo", "--out", str(out), "--quiet"])
    assert r.exit_code == 0, r.output
    assert "kobe_evaluation" in r.output and "screening_evaluation" in r.output
    return out


def _results(folder: Path) -> dict[str, Any]:
    return json.loads((folder / "results.json").read_text(encoding="utf-8"))  # type: ignore[no-any-return]


def _same(rec: dict[str, Any], est: Any) -> None:
    # same function, same data, same seed: exact equality
    assert (rec["value"], rec["conf_low"], rec["conf_high"], rec["n"]) == (
        est.value,
        est.conf_low,
        est.conf_high,
        est.n,
    )


def test_demo_writes_every_output(demo: Path) -> None:
    for name in ("kobe_evaluation", "screening_evaluation"):
        for f in ("results.json", "appendix.html", "appendix.docx", "tables.xlsx"):
            assert (demo / name / f).stat().st_size > 1000, (name, f)
        assert list((demo / name / "figures").glob("*.svg"))
    meta = json.loads((demo / "data" / "metadata.json").read_text(encoding="utf-8"))
    assert meta["persons"] == 40000


def test_kobe_demo_is_large_enough_and_balanced(demo: Path) -> None:
    res = _results(demo / "kobe_evaluation")
    sup = res["indicators"]["suppression_rate"]
    d = sup["diagnostics"]
    assert res["indicators"]["completion_rate"]["n"] >= 90  # ~100 participants (Kobe: 105)
    assert d["n_participants_matched"] >= 90
    assert d["n_denominator"] >= 40 and d["n_controls_used"] >= 100
    # balance after matching: every |SMD| under 0.1
    from pfseval.batch import example_spec, load_spec
    from pfseval.batch.runner import apply_cohort, build_source
    from pfseval.psm import match

    sp = load_spec(example_spec(), seed=SEED, data_dir=demo)
    pool, _ = apply_cohort(sp, "pool", {"checkups": build_source(sp, "checkups").data})
    ind = sp.indicators[2]
    m = match(pool, **dict(ind.match), seed=ind.seed)
    assert float(m.balance["smd_after"].abs().max()) < 0.1


def test_linked_extracts_equal_prelinked_table_and_python_api(demo: Path) -> None:
    from pfseval.batch import example_spec, load_spec, run_spec
    from pfseval.batch.runner import apply_cohort, build_source
    from pfseval.designs.proportion import mean_of_rates, rate
    from pfseval.io import read_checkups
    from pfseval.payment import Contract
    from pfseval.psm import match, suppression_rate

    res = _results(demo / "kobe_evaluation")
    # 1. the pool selected from the 2016 extract by the declarative filters is the generator's
    #    candidate pool, in the same order
    sp = load_spec(example_spec(), seed=SEED, data_dir=demo)
    loaded = build_source(sp, "checkups")
    pool, _ = apply_cohort(sp, "pool", {"checkups": loaded.data})
    kobe = read_checkups(demo / "data" / "kobe.csv", required=("person_id",))
    assert pool["person_id"].tolist() == kobe["person_id"].tolist()
    np.testing.assert_array_equal(pool["treated"].to_numpy(), kobe["treated"].to_numpy())
    np.testing.assert_array_equal(
        pool["egfr_follow"].to_numpy(dtype=float), kobe["egfr_follow"].to_numpy(dtype=float)
    )
    # 2. every record is accounted for: baseline records -> pool (reasons) in the cohort flow;
    #    linked / no follow-up record in the source flow; all participants joined
    base_rows = len(pd.read_csv(demo / "data" / "checkup_2016.csv", usecols=["person_id"]))
    coh = res["sample_flow"]["cohorts"]["pool"]
    assert coh["n_input"]["all"] == base_rows
    assert coh["n_analysed"]["all"] == len(kobe)
    assert base_rows == len(kobe) + sum(s["n_excluded"] for s in coh["steps"])
    src = res["sample_flow"]["sources"]["checkups"]
    assert src["n_input"] == {"all": base_rows, "merge[0]": int(kobe["treated"].sum())}
    assert src["n_analysed"]["merge[0]"] == int(kobe["treated"].sum())  # none unmatched
    # 3. the pre-linked table (spec.toml) gives identical indicator values and payment
    pre = run_spec(load_spec(ROOT / "examples/kobe_evaluation/spec.toml", seed=SEED, data_dir=demo))
    for iid, est in pre.estimates.items():
        _same(res["indicators"][iid], est)
    assert pre.payment is not None and res["payment"]["total"] == pre.payment.total
    # 4. the designs called directly on kobe.csv give the same numbers
    seeds = {i.id: i.seed for i in sp.indicators}
    ind = sp.indicators[2]
    part = kobe[kobe["treated"] == 1]
    comp = part[part["completed"] == 1]
    m = match(kobe, **dict(ind.match), seed=ind.seed)
    by_api = {
        "completion_rate": rate(part, outcome="completed"),
        "lifestyle_improvement_rate": mean_of_rates(
            comp,
            outcomes=[f"lifestyle_{d}" for d in ("diet", "exercise", "monitoring", "medication")],
            n_boot=2000,
            seed=seeds["lifestyle_improvement_rate"],
        ),
        "suppression_rate": suppression_rate(m, **dict(ind.options), seed=ind.seed),
    }
    for iid, est in by_api.items():
        _same(res["indicators"][iid], est)
    pay = Contract.from_toml(ROOT / "examples/contracts/kobe.toml").evaluate(by_api)
    assert res["payment"]["total"] == pay.total


def test_screening_example_equals_python_api_and_hand_payment(demo: Path) -> None:
    from pfseval.baseline import compare

    res = _results(demo / "screening_evaluation")
    d = demo / "data"
    s = pd.read_csv(d / "screening.csv", dtype={"municipality_code": str})
    nat = pd.read_csv(d / "screening_national.csv")
    town = s[s["municipality_code"] == "990158"].merge(
        nat[["fiscal_year", "rate"]].rename(columns={"rate": "national_rate"}), on="fiscal_year"
    )
    assert len(town) == 8
    est = compare(
        town,
        year="fiscal_year",
        numerator="screened",
        denominator="eligible",
        evaluation_year=2023,
        method="trend",
        comparison="national_rate",
    )
    add = est.related["additional_count"]
    rec = res["indicators"]["additional_screened"]
    assert rec["use"] == "additional_count" and rec["estimand"] == "additional_count"
    # the same estimator on the same numbers; the runner's frame went through the loader
    # (values parsed from text), so allow floating-point rounding only (1e-12 relative)
    for k in ("value", "conf_low", "conf_high"):
        assert rec[k] == pytest.approx(getattr(add, k), rel=1e-12)
    assert rec["related"]["rate_difference"]["value"] == pytest.approx(est.value, rel=1e-12)
    other = res["indicators"]["screening_rate_difference"]
    assert other["value"] == pytest.approx(est.value, rel=1e-12)

    # 浦添市 rule by hand: 4,500 fixed + 10 per whole additional person, at most 500 people
    def pay(x: float) -> float:
        return 4500 + 10 * min(max(math.floor(x), 0), 500)

    p = res["payment"]
    assert p["total"] == pay(rec["value"])
    assert p["at_bounds"]["conf_low"]["total"] == pay(rec["conf_low"])
    assert p["at_bounds"]["conf_high"]["total"] == pay(rec["conf_high"])
    assert p["cap"] == 9500
    # the national series is joined on every year; the municipality filter is in the flow
    assert res["sample_flow"]["sources"]["screening"]["n_analysed"] == {"merge[0]": 8}
    assert res["sample_flow"]["cohorts"]["town"]["n_analysed"] == {"all": 8}
    # the synthetic truth (metadata) lies inside the interval for this seed
    meta = json.loads((d / "metadata.json").read_text(encoding="utf-8"))
    truth = meta["datasets"]["screening"]["truth"]["excess_by_municipality"]["990158"]
    assert rec["conf_low"] <= truth <= rec["conf_high"]
