"""The pre-specified analysis plan: robustness table and payment range (issue 14)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from pfseval.batch import load_spec, run_spec
from pfseval.batch.plan import apply_overrides, read_plan
from pfseval.errors import SpecError

pytestmark = pytest.mark.filterwarnings("ignore::UserWarning")

SPEC = """
[evaluation]
seed = 3
[data.kobe]
path = "data/kobe.csv"
id_col = "person_id"
[cohorts.participants]
from = "kobe"
where = [{ column = "treated", op = "==", value = 1 }]
[[indicators]]
id = "completion_rate"
design = "proportion.rate"
data = "participants"
options = { outcome = "completed" }
[[indicators]]
id = "suppression_rate"
design = "psm.suppression_rate"
data = "kobe"
match = { treatment = "treated", id_col = "person_id", covariates = ["age", "sex", "bmi", "sbp", "hba1c", "egfr"], link = "linear.logit", caliper = 0.2, ratio = 2 }
options = { outcome = "egfr_follow", baseline = "egfr", followup_years = "followup_years", change = "absolute_per_year", n_boot = 0, ci = "wilson" }
[contract]
name = "test"
unit = "千円"
rounding = "floor"
rounding_unit = 1
[[contract.component]]
indicator = "completion_rate"
label = "completion"
basis = "point"
allocation = 1000
schedule = { type = "proportional", target = 0.8 }
[[contract.component]]
indicator = "suppression_rate"
label = "suppression"
basis = "point"
allocation = 2000
schedule = { type = "proportional", target = 0.8 }
"""

# six sensitivity specifications: calipers, ratios, a covariate set, and one marked post hoc
PLAN = {
    "caliper_0.1": {"indicators[suppression_rate].match.caliper": 0.1},
    "caliper_0.3": {"indicators[suppression_rate].match.caliper": 0.3},
    "ratio_1": {"indicators[1].match.ratio": 1},
    "ratio_3": {"indicators[1].match.ratio": 3},
    "covariates_4": {"indicators[1].match.covariates": ["age", "sex", "hba1c", "egfr"]},
    "ratio_3_caliper_0.1": {
        "indicators[1].match.ratio": 3,
        "indicators[1].match.caliper": 0.1,
    },
}


def _toml_value(v: object) -> str:
    return json.dumps(v)  # numbers, strings and lists of strings are the same in TOML


def _plan_text() -> str:
    out = []
    for sid, sets in PLAN.items():
        pairs = ", ".join(f'"{k}" = {_toml_value(v)}' for k, v in sets.items())
        post = "\npost_hoc = true" if sid == "ratio_3_caliper_0.1" else ""
        out.append(f'[[plan.sensitivity]]\nid = "{sid}"\nset = {{ {pairs} }}{post}\n')
    return "\n".join(out)


@pytest.fixture(scope="module")
def project(tmp_path_factory: pytest.TempPathFactory) -> Path:
    from pfseval.synthetic import write_all

    root = tmp_path_factory.mktemp("plan")
    write_all(root / "data", seed=11, persons=8000)
    (root / "spec.toml").write_text(SPEC + _plan_text(), encoding="utf-8")
    return root


def test_plan_matches_single_runs(project: Path) -> None:
    import dataclasses
    import tomllib

    import tomli_w

    from pfseval.batch.plan import payment_range, robustness_frame, run_plan
    from pfseval.report.document import build_document

    result = run_plan(project / "spec.toml")
    assert len(result.specifications) == 6
    frame = robustness_frame(result)
    table = {(r["specification"], r["indicator"]): r for r in frame.to_dict(orient="records")}
    assert table[("primary", "suppression_rate")]["primary"]
    assert table[("ratio_3_caliper_0.1", "suppression_rate")]["post_hoc"]

    raw = tomllib.loads((project / "spec.toml").read_text("utf-8"))
    raw.pop("plan")
    payments = {}
    for sid, sets in {"primary": {}, **PLAN}.items():
        f = project / f"single_{sid}.toml"
        f.write_text(tomli_w.dumps(apply_overrides(raw, sets)), encoding="utf-8")
        single = run_spec(load_spec(f))
        payments[sid] = single.payment.total
        for iid, est in single.estimates.items():
            row = table[(sid, iid)]
            # the same spec, data and seed give the same numbers: exact equality
            assert (row["value"], row["conf_low"], row["conf_high"]) == (
                est.value,
                est.conf_low,
                est.conf_high,
            )
            assert row["payment"] == single.payment.total
    pre = [v for k, v in payments.items() if k != "ratio_3_caliper_0.1"]
    pr = payment_range(result)
    assert pr is not None
    assert (pr["min"], pr["max"]) == (min(pre), max(pre))
    assert (pr["min_all"], pr["max_all"]) == (min(payments.values()), max(payments.values()))
    assert pr["primary"] == payments["primary"]
    assert len(set(payments.values())) > 1  # the plan does move the payment

    run = dataclasses.replace(result.runs["primary"], plan=result.to_dict())
    assert run.results()["provenance"]["plan"]["payment_range"] == pr
    doc = build_document(run)
    sec = next(s for s in doc.sections if s.title == "仕様の頑健性（事前に定めた評価計画）")
    shown = next(b for b in sec.blocks if getattr(b, "id", "") == "plan_robustness").frame
    assert len(shown) == 2 * 7  # two indicators under the primary and six specifications
    assert shown.iloc[:, 0].str.contains("（事後）").sum() == 2


def test_plan_errors_name_the_key(tmp_path: Path) -> None:
    f = tmp_path / "s.toml"
    f.write_text(
        SPEC + '[[plan.sensitivity]]\nid = "x"\nset = { "indicators[9].match.ratio" = 1 }\n',
        encoding="utf-8",
    )
    with pytest.raises(SpecError, match=r"plan\.sensitivity\[0\]\.set"):
        read_plan(f)
