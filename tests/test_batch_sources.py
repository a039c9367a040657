"""Linked and merged data sources, `any` filters and the `use` key of evaluation specs.

Small hand-made extracts: every expected count and value below is worked out by hand from
the rows written in the test, not taken from the code's output.
"""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from pfseval.batch import load_spec, run_spec
from pfseval.batch.spec import Filter
from pfseval.errors import DataValidationError, PfsevalWarning, SpecError

# 2016 extract: 8 people. p1-p6 have a 2019 record (p6's has no eGFR), p7 and p8 do not.
BASE = pd.DataFrame(
    {
        "person_id": [f"p{i}" for i in range(1, 9)],
        "fiscal_year": [2016] * 8,
        "age": [60, 65, 70, 72, 55, 66, 61, 68],
        "sex": [1, 2, 1, 2, 1, 2, 1, 2],
        "hba1c": [7.0, 5.5, 6.8, 7.5, 5.4, 6.6, 5.2, 8.0],
        "fpg": [130.0, 90.0, 120.0, 150.0, 95.0, 100.0, 128.0, 160.0],
        "med_glucose": [0, 0, 1, 0, 0, 0, 0, 1],
        "urine_protein": [1, 0, 0, 2, 0, 1, 1, 0],
        "egfr": [70.0, 80.0, 55.0, 65.0, 90.0, 58.0, 75.0, 25.0],
    }
)
FOLLOW = pd.DataFrame(
    {
        "person_id": ["p1", "p2", "p3", "p4", "p5", "p6", "x9"],
        "fiscal_year": [2019] * 7,
        "age": [63, 68, 73, 75, 58, 69, 50],
        "sex": [1, 2, 1, 2, 1, 2, 1],
        "egfr": [67.0, 79.0, 50.0, 60.0, 88.0, np.nan, 80.0],
    }
)
# participants list: p1 and p3 joined the programme; "zz" is in no extract
PARTS = pd.DataFrame({"person_id": ["p1", "p3", "zz"], "completed": [1, 0, 1]})

SPEC = """
[data.checkups]
baseline = "base.csv"
followup = "follow.csv"
require = ["egfr"]
merge = [{ path = "parts.csv", on = "person_id", flag = "treated" }]

[cohorts.pool]
from = "checkups"
where = [
  { any = [{ column = "hba1c", op = ">=", value = 6.5 }, { column = "fpg", op = ">=", value = 126 }, { column = "med_glucose", op = "==", value = 1 }], reason = "no sign of diabetes" },
  { any = [{ column = "urine_protein", op = ">=", value = 1 }, { column = "egfr", op = "<", value = 60 }], reason = "no kidney sign" },
  { column = "egfr", op = ">=", value = 30, reason = "eGFR below 30" },
  { column = "age", op = "<=", value = 71, reason = "too old" },
]

[[indicators]]
id = "completion_rate"
design = "proportion.rate"
data = "pool"
options = { outcome = "completed" }
"""


@pytest.fixture
def spec_dir(tmp_path: Path) -> Path:
    BASE.to_csv(tmp_path / "base.csv", index=False)
    FOLLOW.to_csv(tmp_path / "follow.csv", index=False)
    PARTS.to_csv(tmp_path / "parts.csv", index=False)
    (tmp_path / "spec.toml").write_text(SPEC, encoding="utf-8")
    return tmp_path


def _edit(d: Path, old: str, new: str) -> Path:
    p = d / "spec.toml"
    text = p.read_text(encoding="utf-8")
    assert old in text, old
    p.write_text(text.replace(old, new, 1), encoding="utf-8")
    return p


def test_linked_source_frame_and_flows(spec_dir: Path) -> None:
    with pytest.warns(PfsevalWarning, match="1 of 3 records of parts.csv"):
        run = run_spec(load_spec(spec_dir / "spec.toml"))
    # one row per baseline record; follow-up values with the suffix, derived years, flag
    from pfseval.batch import build_source

    loaded = build_source(run.spec, "checkups")  # returns its notices, issues none
    (note,) = loaded.notices
    assert note.code == "batch.merge_unmatched" and note.params["key"] == "data.checkups.merge[0]"
    assert dict(note.counts) == {"n_unmatched": 1, "n_records": 3}
    df = loaded.data
    assert df["person_id"].tolist() == BASE["person_id"].tolist()
    np.testing.assert_array_equal(
        df["egfr_follow"].to_numpy(dtype=float),
        [67.0, 79.0, 50.0, 60.0, 88.0, np.nan, np.nan, np.nan],
    )
    np.testing.assert_array_equal(
        df["followup_years"].to_numpy(dtype=float), [3, 3, 3, 3, 3, 3, np.nan, np.nan]
    )
    assert df["treated"].tolist() == [1, 0, 1, 0, 0, 0, 0, 0]
    assert df["age_follow"].iloc[0] == 63
    # source flow: 8 baseline records, 2 without a 2019 record, 1 (p6) whose record lacks
    # eGFR -> 5 linked; the participants list has 3 records, 1 ("zz") matching nobody
    flow = run.source_flows["checkups"]
    assert flow.n_input == {"all": 8, "merge[0]": 3}
    assert [(s.reason.text("en"), s.n_excluded) for s in flow.steps if s.group == "all"] == [
        ("no follow-up health-check record", 2),
        ("follow-up record without egfr", 1),
    ]
    assert flow.n_analysed("all") == 5 and flow.n_analysed("merge[0]") == 2
    # pool by hand: diabetic = p1 p3 p4 p6(hba1c 6.6) p7(fpg 128) p8; kidney sign among
    # them = p1 p3(egfr 55) p4 p6 p7 (p8: protein 0 but egfr 25 < 60 -> passes);
    # eGFR >= 30 drops p8; age <= 71 drops p4 (72) -> pool = p1 p3 p6 p7
    pool = run.cohort_flows["pool"]
    assert [s.n_excluded for s in pool.steps] == [2, 0, 1, 1]
    assert pool.n_analysed() == 4
    assert pool.steps[0].reason.text("en") == "no sign of diabetes"
    # the indicator runs on the pool: completed is known for p1 (1) and p3 (0)
    est = run.estimates["completion_rate"]
    assert (est.value, est.n) == (0.5, 2)
    res = run.results()
    assert res["sample_flow"]["sources"]["checkups"]["n_analysed"] == {"all": 5, "merge[0]": 2}
    inputs = res["provenance"]["inputs"]
    assert inputs["checkups"]["rows"] == 8 and inputs["checkups"]["file"] == "base.csv"
    assert inputs["checkups.followup"]["rows"] == 7
    assert inputs["checkups.merge[0]"]["role"] == "merge"
    assert any(n["params"].get("file") == "parts.csv" for n in res["notices"])


def test_any_filter_semantics() -> None:
    df = pd.DataFrame({"a": [1.0, np.nan, 5.0, np.nan], "b": [0, 1, np.nan, np.nan]})
    f = Filter(column="", op="any", any_of=(Filter("a", ">=", 3), Filter("b", "==", 1)))
    # a missing value never passes a comparison; one true alternative is enough
    assert f.keep_mask(df).tolist() == [False, True, True, False]
    assert f.columns() == ["a", "b"]
    nested = Filter(column="", op="any", any_of=(f, Filter("a", "missing")))
    assert nested.keep_mask(df).tolist() == [False, True, True, True]


def test_pool_filters_equal_the_generators_rule() -> None:
    """The declarative pool filters of the example reproduce POOL_DEFINITION exactly."""
    import tomllib

    from pfseval.batch.spec import _check_filter, _Checker
    from pfseval.synthetic import candidate_pool

    root = Path(__file__).resolve().parents[1]
    spec = tomllib.loads(
        (root / "examples/kobe_evaluation/spec_extracts.toml").read_text(encoding="utf-8")
    )
    ck = _Checker(Path("spec"))
    filters = [_check_filter(f, "w", ck) for f in spec["cohorts"]["pool"]["where"]]
    rng = np.random.default_rng(4)
    n = 4000
    df = pd.DataFrame(
        {
            "age": rng.integers(40, 75, n),
            "hba1c": np.where(rng.random(n) < 0.1, np.nan, rng.normal(6.3, 0.8, n).round(1)),
            "fpg": np.where(rng.random(n) < 0.1, np.nan, rng.normal(115, 20, n).round()),
            "med_glucose": pd.Series(rng.integers(0, 2, n), dtype="Int64").mask(
                rng.random(n) < 0.05
            ),
            "urine_protein": pd.Series(rng.integers(0, 4, n), dtype="Int64").mask(
                rng.random(n) < 0.05
            ),
            "egfr": np.where(rng.random(n) < 0.2, np.nan, rng.normal(65, 18, n).round(1)),
        }
    )
    keep = np.ones(n, dtype=bool)
    for f in filters:
        keep &= f.keep_mask(df)
    expected = candidate_pool(df, max_age=71).to_numpy()
    assert 50 < expected.sum() < n - 50  # the test data exercise both outcomes
    np.testing.assert_array_equal(keep, expected)


@pytest.mark.parametrize(
    ("old", "new", "key_path"),
    [
        ('followup = "follow.csv"', 'followup = "nofile.csv"', "data.checkups.followup"),
        ('baseline = "base.csv"', 'baseline = "nofile.csv"', "data.checkups.baseline"),
        ('followup = "follow.csv"', "", "data.checkups.followup"),
        ('baseline = "base.csv"', 'baseline = "base.csv"\npath = "base.csv"', "data.checkups.path"),
        ('require = ["egfr"]', 'require = ["hba1c"]', "data.checkups.require[0]"),
        ('require = ["egfr"]', 'require = "egfr"', "data.checkups.require"),
        ('on = "person_id"', 'on = "pid"', "data.checkups.merge[0].on"),
        ('path = "parts.csv"', 'path = "none.csv"', "data.checkups.merge[0].path"),
        ('flag = "treated"', 'flag = "treated", colour = 1', "data.checkups.merge[0].colour"),
        ('flag = "treated"', 'flag = "age"', "data.checkups.merge[0].flag"),
        (
            'flag = "treated"',
            'flag = "treated", columns = { completed = "age" }',
            "data.checkups.merge[0].columns",
        ),
        (
            'flag = "treated"',
            'flag = "treated", columns = ["finished"]',
            "data.checkups.merge[0].columns.finished",
        ),
        ('column = "fpg"', 'column = "fbg"', "cohorts.pool.where[0].any[1].column"),
        (
            '{ any = [{ column = "urine_protein"',
            '{ any = [], reason = "x" }, { any = [{ column = "urine_protein"',
            "cohorts.pool.where[1].any",
        ),
        (
            'value = 6.5 }, { column = "fpg"',
            'value = 6.5, reason = "x" }, { column = "fpg"',
            "cohorts.pool.where[0].any[0].reason",
        ),
        (
            'reason = "no sign of diabetes" }',
            'reason = "no sign of diabetes", column = "age" }',
            "cohorts.pool.where[0].column",
        ),
        (
            'options = { outcome = "completed" }',
            'use = "reference_rate"\noptions = { outcome = "completed" }',
            "indicators[0].use",
        ),
    ],
)
def test_bad_linked_spec_names_file_and_key_path(
    spec_dir: Path, old: str, new: str, key_path: str
) -> None:
    p = _edit(spec_dir, old, new)
    with pytest.raises(SpecError) as err:
        load_spec(p)
    assert err.value.key_path == key_path
    assert str(p) in str(err.value)


def test_merge_key_must_be_unique(spec_dir: Path) -> None:
    pd.concat([PARTS, PARTS.iloc[[0]]]).to_csv(spec_dir / "parts.csv", index=False)
    with pytest.raises(DataValidationError, match="person_id") as err:
        run_spec(load_spec(spec_dir / "spec.toml"))
    assert "parts.csv" in str(err.value)
    assert err.value.problems[0].rows == (2, 5)  # file lines of the two p1 rows


def test_use_names_a_related_estimate_of_the_design(spec_dir: Path) -> None:
    # a yearly series merged with a comparison series; `use` pays on the additional count
    years = list(range(2016, 2024))
    eligible = [10000, 9950, 9900, 9850, 9800, 9750, 9700, 9650]
    screened = [2000, 2050, 2080, 2150, 2180, 2230, 2260, 2600]
    pd.DataFrame({"fiscal_year": years, "eligible": eligible, "screened": screened}).to_csv(
        spec_dir / "town.csv", index=False
    )
    national = [0.20, 0.205, 0.21, 0.215, 0.22, 0.225, 0.23, 0.235]
    pd.DataFrame({"fiscal_year": years, "rate": national, "eligible": 1}).to_csv(
        spec_dir / "national.csv", index=False
    )
    (spec_dir / "s.toml").write_text(
        """
[data.town]
path = "town.csv"
aggregated = true
merge = [{ path = "national.csv", on = "fiscal_year", columns = { rate = "national_rate" } }]
[[indicators]]
id = "additional"
design = "baseline.compare"
data = "town"
use = "additional_count"
options = { year = "fiscal_year", numerator = "screened", denominator = "eligible", evaluation_year = 2023, method = "mean", comparison = "national_rate" }
""",
        encoding="utf-8",
    )
    run = run_spec(load_spec(spec_dir / "s.toml"))
    est = run.estimates["additional"]
    # by hand: z_t = rate_t − national_t for 2016-2022, mean over the 7 years; the 2023
    # expected rate is mean(z) + 0.235; additional = 9650 × (2600/9650 − expected)
    z = [s / e - c for s, e, c in zip(screened[:-1], eligible[:-1], national[:-1], strict=True)]
    expected_rate = sum(z) / 7 + 0.235
    additional = 9650 * (2600 / 9650 - expected_rate)
    assert est.estimand == "additional_count"
    # 1e-9 relative: the same arithmetic in a different order (floating-point rounding only)
    assert est.value == pytest.approx(additional, rel=1e-9)
    assert est.related["rate_difference"].value == pytest.approx(
        2600 / 9650 - expected_rate, rel=1e-9
    )
    assert math.isclose(est.conf_low / 9650, est.related["rate_difference"].conf_low)
    assert "expected" in est.related and "additional_count" not in est.related
    assert est.sample_flow is not None and est.diagnostics["k"] == 7
    rec = run.results()["indicators"]["additional"]
    assert rec["use"] == "additional_count" and rec["estimand"] == "additional_count"
    assert rec["related"]["rate_difference"]["label"] == ""


def test_filter_reason_in_the_report_language(spec_dir: Path) -> None:
    p = _edit(
        spec_dir,
        'reason = "too old"',
        'reason = { ja = "72歳以上", en = "aged over 71" }',
    )
    with pytest.warns(PfsevalWarning):
        run = run_spec(load_spec(p))
    steps = run.cohort_flows["pool"].steps
    # the reason is kept in both languages; the report picks its own
    assert steps[3].reason.text("ja") == "72歳以上" and steps[3].n_excluded == 1
    assert steps[3].reason.text("en") == "aged over 71"
    assert steps[0].reason.text("ja") == "no sign of diabetes"  # plain strings stay as written
    rec = run.results()["sample_flow"]["cohorts"]["pool"]["steps"][3]["reason"]
    assert rec["code"] == "plain" and rec["text"] == {"ja": "72歳以上", "en": "aged over 71"}


@pytest.mark.parametrize(
    "reason, key_path",
    [
        ('{ ja = "x", fr = "y" }', "cohorts.pool.where[3].reason.fr"),
        ("{ ja = 3 }", "cohorts.pool.where[3].reason.ja"),
        ("7", "cohorts.pool.where[3].reason"),
    ],
)
def test_bad_filter_reason_names_key_path(spec_dir: Path, reason: str, key_path: str) -> None:
    p = _edit(spec_dir, 'reason = "too old"', f"reason = {reason}")
    with pytest.raises(SpecError) as err:
        load_spec(p)
    assert err.value.key_path == key_path
