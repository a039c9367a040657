"""Issue 12: option values checked, missing values under filters in their own flow step,
deep filters as spec errors, linkage notes, loading warnings in the outputs, synthetic data
within the vocabulary's ranges."""

from __future__ import annotations

import json
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from pfseval.batch import load_spec, results_json, run_many, run_spec
from pfseval.errors import PfsevalError, PfsevalWarning, SpecError
from pfseval.io import link_years

HEAD = """
[evaluation]
seed = 3
[data.people]
path = "people.csv"
"""
RATE = """
[[indicators]]
id = "completion_rate"
design = "proportion.rate"
data = "{data}"
options = {{ outcome = "completed"{extra} }}
"""
MEAN = """
[[indicators]]
id = "lifestyle"
design = "proportion.mean_of_rates"
data = "people"
options = {{ outcomes = {outcomes}, n_boot = {n_boot} }}
"""


@pytest.fixture
def folder(tmp_path: Path) -> Path:
    rng = np.random.default_rng(2)
    n = 60
    sex = rng.integers(1, 3, n).astype(float)
    sex[:7] = np.nan  # 7 people without a recorded sex
    pd.DataFrame(
        {
            "person_id": [f"C{i:03d}" for i in range(n)],
            "completed": rng.integers(0, 2, n),
            "sex": sex,
            "a": rng.integers(0, 2, n),
            "b": rng.integers(0, 2, n),
        }
    ).to_csv(tmp_path / "people.csv", index=False)
    return tmp_path


def _spec(folder: Path, body: str, *, head: str = HEAD) -> Path:
    p = folder / "spec.toml"
    p.write_text(head + body, encoding="utf-8")
    return p


# ---------------------------------------------------------------- option values


def test_missing_zero_is_rejected_not_taken_as_exclude(folder: Path) -> None:
    spec = _spec(folder, RATE.format(data="people", extra=', missing = "zero"'))
    with pytest.raises(SpecError, match=r"options\.missing: .*must be one of 'exclude', 'error'"):
        load_spec(spec)


def test_repeated_outcome_is_rejected(folder: Path) -> None:
    spec = _spec(folder, MEAN.format(outcomes='["a", "b", "a"]', n_boot=200))
    with pytest.raises(SpecError, match=r"options\.outcomes: .*distinct column names"):
        load_spec(spec)


@pytest.mark.parametrize("n_boot", ["1e9", "1000000000", "-1", "true", "2000.5"])
def test_n_boot_out_of_bounds_is_rejected(folder: Path, n_boot: str) -> None:
    spec = _spec(folder, MEAN.format(outcomes='["a", "b"]', n_boot=n_boot))
    with pytest.raises(SpecError, match=r"options\.n_boot: must be a whole number from 0"):
        load_spec(spec)


@pytest.mark.parametrize(
    ("head", "key"),
    [
        (HEAD.replace("seed = 3", "seed = -1"), "evaluation.seed"),
        (HEAD.replace("seed = 3", "seed = 1.5"), "evaluation.seed"),
    ],
)
def test_negative_or_fractional_seeds_are_rejected(folder: Path, head: str, key: str) -> None:
    spec = _spec(folder, RATE.format(data="people", extra=""), head=head)
    with pytest.raises(SpecError, match=rf"{key}: must be a whole number from 0"):
        load_spec(spec)


def test_negative_seed_and_zero_workers_in_the_api(folder: Path) -> None:
    spec = _spec(folder, RATE.format(data="people", extra=""))
    with pytest.raises(SpecError, match="--seed"):
        load_spec(spec, seed=-5)
    with pytest.raises(PfsevalError, match="at least 1"):
        run_many([spec], folder / "out", n_jobs=0)


# ---------------------------------------------------------------- filters


COHORT = """
[cohorts.women]
from = "people"
where = [{{ column = "sex", op = "{op}", value = {value}{extra} }}]
"""


@pytest.mark.parametrize(("op", "value"), [("!=", "1"), ("not_in", "[1]")])
def test_missing_values_under_a_negative_filter_get_their_own_step(
    folder: Path, op: str, value: str
) -> None:
    spec = _spec(
        folder, COHORT.format(op=op, value=value, extra="") + RATE.format(data="women", extra="")
    )
    run = run_spec(load_spec(spec))
    steps = run.cohort_flows["women"].to_dict()["steps"]
    assert steps[0]["reason"]["text"] == {"ja": "sexが欠測", "en": "sex missing"}  # own step
    assert steps[0]["n_excluded"] == 7
    df = pd.read_csv(folder / "people.csv")
    men = int((df["sex"] == 1).sum())
    assert steps[1]["n_excluded"] == men
    assert run.estimates["completion_rate"].n == 60 - 7 - men


def test_negative_filter_can_keep_missing_values(folder: Path) -> None:
    spec = _spec(
        folder,
        COHORT.format(op="!=", value="1", extra=', missing = "keep"')
        + RATE.format(data="women", extra=""),
    )
    run = run_spec(load_spec(spec))
    steps = run.cohort_flows["women"].to_dict()["steps"]
    df = pd.read_csv(folder / "people.csv")
    assert len(steps) == 1 and steps[0]["n_excluded"] == int((df["sex"] == 1).sum())


def test_missing_option_only_on_negative_filters(folder: Path) -> None:
    spec = _spec(
        folder,
        COHORT.format(op="==", value="2", extra=', missing = "keep"')
        + RATE.format(data="women", extra=""),
    )
    with pytest.raises(SpecError, match=r"where\[0\]\.missing"):
        load_spec(spec)


def test_deeply_nested_filters_are_spec_errors(folder: Path) -> None:
    inner = '{ column = "sex", op = "==", value = 1 }'
    for _ in range(12):
        inner = f"{{ any = [{inner}] }}"
    body = f'[cohorts.c]\nfrom = "people"\nwhere = [{inner}]\n' + RATE.format(data="c", extra="")
    with pytest.raises(SpecError, match="nest more than"):
        load_spec(_spec(folder, body))
    deep = "x = " + "[" * 50_000 + "]" * 50_000 + "\n"  # beyond the TOML parser's recursion
    with pytest.raises(SpecError, match="not valid TOML"):
        load_spec(_spec(folder, deep, head=""))


# ---------------------------------------------------------------- linkage and loading notes


def test_linkage_warns_about_id_formats_and_followup_only_records() -> None:
    base = pd.DataFrame({"person_id": ["000042", "2", "3"], "egfr": [60.0, 70.0, 80.0]})
    fol = pd.DataFrame({"person_id": ["42", "2", "９"], "egfr": [58.0, 69.0, 90.0]})
    with pytest.warns(PfsevalWarning) as rec:
        cohort = link_years(base, fol)
    assert cohort.sample_flow.n_analysed() == 1  # "000042" and "42" are not linked silently
    text = " ".join(str(w.message) for w in rec)
    assert "1 baseline ids in person_id match a follow-up id only when leading zeros" in text
    assert "2 of 3 follow-up records (person_id) have no baseline record" in text
    assert [n.code for n in cohort.notices] == ["io.ids_differ_in_form", "io.followup_only"]
    assert "000042" not in str(cohort.notices[0].to_dict())  # no id in published records


def test_loading_notes_reach_results_json_and_the_appendix(tmp_path: Path) -> None:
    pd.DataFrame({"person_id": ["1", "2", "3", "4"] * 3, "x": range(12)}).iloc[:4].to_csv(
        tmp_path / "b.csv", index=False
    )
    pd.DataFrame({"person_id": ["1", "2", "5"], "done": [1, 0, 1]}).to_csv(
        tmp_path / "f.csv", index=False
    )
    spec = tmp_path / "s.toml"
    spec.write_text(
        '[data.p]\nbaseline = "b.csv"\nfollowup = "f.csv"\nvalidate = false\n'
        '[[indicators]]\nid = "r"\ndesign = "proportion.rate"\ndata = "p"\n'
        'options = { outcome = "done_follow" }\n',
        encoding="utf-8",
    )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        run = run_spec(load_spec(spec))
    doc = json.loads(results_json(run))
    assert [n["counts"] for n in doc["notices"] if n["code"] == "io.followup_only"] == [
        {"n_records": 1, "n_followup": 3}
    ]
    from pfseval.report.document import build_document

    # the appendix shows the note with its small counts hidden ("<10 of <10 ...")
    assert "基準年度のレコードがなく" in build_document(run).text()


# ---------------------------------------------------------------- synthetic data


@pytest.mark.slow
def test_large_synthetic_population_stays_within_the_vocabulary() -> None:
    # `pfseval synth --persons 435000` used to write two weights of 24.9 kg (below 25 kg)
    from pfseval.io.vocabulary import VOCABULARY
    from pfseval.synthetic.population import population

    seed = int(np.random.SeedSequence(20240401).spawn(7)[0].generate_state(1)[0])
    pop = population(persons=435_000, seed=seed)  # the seed `write_all` gives it
    for col in pop.columns:
        v = VOCABULARY.get(col)
        if v is not None and v.numeric and v.low is not None and v.high is not None:
            assert pop[col].dropna().between(v.low, v.high).all(), col


# ---------------------------------------------------------------- API inputs


@pytest.mark.parametrize("bad", [np.zeros(3), {"a": [1, 0]}, None, [1, 0]])
def test_designs_reject_non_frames_with_a_typed_error(bad: object) -> None:
    from pfseval.designs import proportion, rct
    from pfseval.designs.psm import att, match
    from pfseval.errors import DesignError

    calls = [
        lambda: proportion.rate(bad, outcome="a"),  # type: ignore[arg-type]
        lambda: rct.compare(bad, outcome="y", treatment="t"),  # type: ignore[arg-type]
        lambda: match(bad, treatment="t", covariates=["x"], id_col="id"),  # type: ignore[arg-type]
        lambda: att(bad, outcome="y"),  # type: ignore[arg-type]
    ]
    for call in calls:
        with pytest.raises(DesignError, match=r"must be a (pandas DataFrame|matched sample)"):
            call()
