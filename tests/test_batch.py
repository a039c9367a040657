"""Evaluation specs: validation before computation, runs, results.json, atomic outputs."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from pfseval.batch import (
    SCHEMA_VERSION,
    load_spec,
    results_json,
    run_many,
    run_spec,
    write_outputs,
)
from pfseval.batch.schema import REQUIRED_KEYS
from pfseval.designs.proportion import mean_of_rates, rate
from pfseval.errors import SpecError

ROOT = Path(__file__).resolve().parents[1]
CONTRACT = ROOT / "examples" / "contracts" / "kobe.toml"


def _people(n: int = 120, seed: int = 0) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    treated = (np.arange(n) % 2).astype(int)
    completed = np.where(treated == 1, (rng.random(n) < 0.9).astype(float), np.nan)
    dom = {
        f"lifestyle_{d}": np.where(completed == 1, (rng.random(n) < 0.8).astype(float), np.nan)
        for d in ("diet", "exercise", "monitoring", "medication")
    }
    return pd.DataFrame(
        {
            "person_id": [f"Q{i:05d}" for i in range(n)],
            "treated": treated,
            "age": rng.integers(40, 75, n),
            "completed": completed,
            **dom,
        }
    )


SPEC = """
[evaluation]
title = "test"
seed = 7

[data.people]
path = "people.csv"

[cohorts.participants]
from = "people"
where = [{ column = "treated", op = "==", value = 1, reason = "not a participant" }]

[cohorts.completers]
from = "participants"
where = [{ column = "completed", op = "==", value = 1 }]

[[indicators]]
id = "completion_rate"
label = { ja = "修了率", en = "Completion" }
design = "proportion.rate"
data = "participants"
options = { outcome = "completed" }

[[indicators]]
id = "lifestyle_improvement_rate"
design = "proportion.mean_of_rates"
data = "completers"
options = { outcomes = ["lifestyle_diet", "lifestyle_exercise", "lifestyle_monitoring", "lifestyle_medication"], n_boot = 300 }

[[indicators]]
id = "suppression_rate"
design = "proportion.rate"
data = "completers"
options = { outcome = "lifestyle_diet" }

[contract]
path = "CONTRACT"

[report]
lang = "en"
min_cell = 10
"""


@pytest.fixture
def spec_dir(tmp_path: Path) -> Path:
    _people().to_csv(tmp_path / "people.csv", index=False)
    (tmp_path / "spec.toml").write_text(
        SPEC.replace("CONTRACT", CONTRACT.as_posix()), encoding="utf-8"
    )
    return tmp_path


def _edit(d: Path, old: str, new: str) -> Path:
    p = d / "spec.toml"
    text = p.read_text(encoding="utf-8")
    assert old in text, old
    p.write_text(text.replace(old, new, 1), encoding="utf-8")
    return p


# ---------------------------------------------------------------- validation


def test_valid_spec_loads(spec_dir: Path) -> None:
    sp = load_spec(spec_dir / "spec.toml")
    assert [i.id for i in sp.indicators] == [
        "completion_rate",
        "lifestyle_improvement_rate",
        "suppression_rate",
    ]
    assert sp.report.lang == "en" and sp.report.min_cell == 10
    assert sp.cohorts["completers"].source == "participants"
    # indicator seeds are derived from the evaluation seed, distinct, and follow --seed
    seeds = [i.seed for i in sp.indicators]
    assert len(set(seeds)) == 3
    assert [i.seed for i in load_spec(spec_dir / "spec.toml", seed=8).indicators] != seeds
    assert [i.seed for i in load_spec(spec_dir / "spec.toml").indicators] == seeds


def test_texts_for_readers_in_the_appendix_language(spec_dir: Path) -> None:
    # a text for readers is a string or { ja, en }: the appendix language's text is chosen
    # when the spec is loaded, the other language's when one is missing
    _edit(
        spec_dir,
        'title = "test"',
        'title = { ja = "成果評価", en = "Outcome evaluation" }\nprogramme = { ja = "事業" }',
    )
    p = _edit(
        spec_dir,
        'lang = "en"',
        'lang = "en"\nperiod = { ja = "2019年度", en = "FY2019" }\nevaluator = "ACME"',
    )
    en, ja = load_spec(p), load_spec(p, lang="ja")
    assert (en.title, en.report.title, en.report.period) == (
        "Outcome evaluation",
        "Outcome evaluation",
        "FY2019",
    )
    assert (ja.title, ja.report.title, ja.report.period) == ("成果評価", "成果評価", "2019年度")
    assert en.programme == ja.programme == "事業"  # no English text: the Japanese one
    assert en.report.evaluator == ja.report.evaluator == "ACME"
    assert en.sha256 == ja.sha256  # one spec file


@pytest.mark.parametrize(
    ("new", "key_path"),
    [
        ("title = 3", "evaluation.title"),
        ('title = { ja = "評価", fr = "évaluation" }', "evaluation.title.fr"),
        ('title = { ja = "" }', "evaluation.title.ja"),
    ],
)
def test_bad_text_for_readers(spec_dir: Path, new: str, key_path: str) -> None:
    with pytest.raises(SpecError) as err:
        load_spec(_edit(spec_dir, 'title = "test"', new))
    assert err.value.key_path == key_path


@pytest.mark.parametrize(
    ("old", "new", "key_path"),
    [
        ('title = "test"', 'title = "test"\ncolour = 1', "evaluation.colour"),
        ('path = "people.csv"', 'path = "nobody.csv"', "data.people.path"),
        ('column = "treated"', 'column = "treatment"', "cohorts.participants.where[0].column"),
        ('op = "=="', 'op = "equals"', "cohorts.participants.where[0].op"),
        ('design = "proportion.rate"', 'design = "magic"', "indicators[0].design"),
        ('data = "participants"', 'data = "everyone"', "indicators[0].data"),
        (
            'options = { outcome = "completed" }',
            'options = { outcome = "completed", alpha = 0.1 }',
            "indicators[0].options.alpha",
        ),
        (
            'options = { outcome = "completed" }',
            'options = { outcome = "completed", level = 0.9 }',
            "indicators[0].options.level",
        ),
        ('options = { outcome = "completed" }', "options = {}", "indicators[0].options.outcome"),
        (
            'options = { outcome = "completed" }',
            'options = { outcome = "complete" }',
            "indicators[0].options.outcome",
        ),
        (
            '"lifestyle_diet", "lifestyle_exercise"',
            '"lifestyle_diet", "lifestyle_excercise"',
            "indicators[1].options.outcomes[1]",
        ),
        (
            'data = "participants"\noptions',
            'data = "participants"\nlevel = 95\noptions',
            "indicators[0].level",
        ),
        ('lang = "en"', 'lang = "fr"', "report.lang"),
        ("min_cell = 10", "min_cell = 0", "report.min_cell"),
    ],
)
def test_bad_spec_names_file_and_key_path(
    spec_dir: Path, old: str, new: str, key_path: str
) -> None:
    p = _edit(spec_dir, old, new)
    with pytest.raises(SpecError) as err:
        load_spec(p)
    assert err.value.key_path == key_path
    assert str(p) in str(err.value) and key_path in str(err.value)


def test_bad_toml_and_missing_spec(tmp_path: Path) -> None:
    bad = tmp_path / "bad.toml"
    bad.write_text("[data\npath = 1", encoding="utf-8")
    with pytest.raises(SpecError, match="not valid TOML"):
        load_spec(bad)
    with pytest.raises(SpecError, match="cannot read"):
        load_spec(tmp_path / "absent.toml")


def test_contract_errors_name_key_paths(spec_dir: Path) -> None:
    # the contract pays on an indicator the spec does not define
    p = _edit(spec_dir, 'id = "suppression_rate"', 'id = "other"')
    with pytest.raises(SpecError, match="suppression_rate") as err:
        load_spec(p)
    assert err.value.key_path == "contract"
    # an inline contract with a bad schedule: the key path points into the spec
    text = p.read_text(encoding="utf-8").replace('id = "other"', 'id = "suppression_rate"')
    text = text.split("[contract]")[0] + (
        '[contract]\nname = "x"\nunit = "千円"\nrounding = "floor"\n'
        '[[contract.component]]\nindicator = "completion_rate"\nlabel = "a"\nallocation = 10\n'
        'schedule = { type = "teleport" }\n'
    )
    p.write_text(text, encoding="utf-8")
    with pytest.raises(SpecError) as err2:
        load_spec(p)
    assert err2.value.key_path.startswith("contract.component[0].schedule")


def test_psm_design_options_checked_against_both_functions(spec_dir: Path) -> None:
    p = _edit(
        spec_dir,
        'design = "proportion.rate"\ndata = "participants"',
        'design = "psm.suppression_rate"\ndata = "people"\n'
        'match = { treatment = "treated", covariates = ["age"], id_col = "person_id", '
        "calliper = 0.2 }",
    )
    with pytest.raises(SpecError) as err:
        load_spec(p)
    assert err.value.key_path == "indicators[0].match.calliper"
    assert "caliper" in str(err.value)  # the list of valid options helps spot the typo


# ---------------------------------------------------------------- runs


def test_run_matches_python_api_and_contract(spec_dir: Path) -> None:
    sp = load_spec(spec_dir / "spec.toml")
    run = run_spec(sp)
    res = run.results()
    df = pd.read_csv(spec_dir / "people.csv", dtype={"person_id": str})
    part = df[df["treated"] == 1]
    comp = part[part["completed"] == 1]
    by_api = {
        "completion_rate": rate(part, outcome="completed"),
        "lifestyle_improvement_rate": mean_of_rates(
            comp,
            outcomes=[f"lifestyle_{d}" for d in ("diet", "exercise", "monitoring", "medication")],
            n_boot=300,
            seed=sp.indicators[1].seed,
        ),
        "suppression_rate": rate(comp, outcome="lifestyle_diet"),
    }
    for iid, est in by_api.items():
        got = res["indicators"][iid]
        # same function, same data, same seed: identical numbers (exact equality)
        assert (got["value"], got["conf_low"], got["conf_high"], got["n"]) == (
            est.value,
            est.conf_low,
            est.conf_high,
            est.n,
        )
    from pfseval.payment import Contract

    pay = Contract.from_toml(CONTRACT).evaluate(by_api)
    assert res["payment"]["total"] == pay.total
    assert res["payment"]["cap"] == 34063
    assert set(res["payment"]["at_bounds"]) == {"conf_low", "conf_high"}
    assert res["payment"]["at_bounds"]["conf_low"]["total"] <= pay.total
    # cohort flows account for every record
    flow = res["sample_flow"]["cohorts"]["participants"]
    assert flow["n_input"]["all"] == len(df)
    assert flow["n_analysed"]["all"] == len(part)
    assert flow["steps"][0]["reason"]["text"] == {
        "ja": "not a participant",
        "en": "not a participant",
    }


def test_results_json_schema_and_determinism(spec_dir: Path) -> None:
    sp = load_spec(spec_dir / "spec.toml")
    a = json.loads(results_json(run_spec(sp)))
    b = json.loads(results_json(run_spec(load_spec(spec_dir / "spec.toml"), n_jobs=2)))
    assert a["schema_version"] == SCHEMA_VERSION
    assert set(REQUIRED_KEYS) <= set(a)
    for key in ("estimand", "value", "conf_low", "conf_high", "level", "method", "n"):
        assert key in a["indicators"]["completion_rate"]
    prov = a["provenance"]
    assert (
        prov["inputs"]["people"]["sha256"]
        == __import__("hashlib").sha256((spec_dir / "people.csv").read_bytes()).hexdigest()
    )
    assert prov["packages"]["numpy"] == np.__version__
    assert prov["seed"] == 7 and len(prov["spec_sha256"]) == 64
    for d in (a, b):
        d["provenance"].pop("started_at")
        d["provenance"].pop("finished_at")
    assert a == b  # identical apart from timestamps (also with 2 workers)
    c = json.loads(results_json(run_spec(load_spec(spec_dir / "spec.toml", seed=8))))
    assert (
        c["indicators"]["lifestyle_improvement_rate"]["conf_low"]
        != a["indicators"]["lifestyle_improvement_rate"]["conf_low"]
        or c["indicators"]["lifestyle_improvement_rate"]["conf_high"]
        != a["indicators"]["lifestyle_improvement_rate"]["conf_high"]
    )


def test_outputs_written_atomically(spec_dir: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    run = run_spec(load_spec(spec_dir / "spec.toml"))
    out = spec_dir / "out"
    files = write_outputs(run, out)
    for name in ("results", "html", "docx", "xlsx"):
        assert files[name].is_file()
    assert any(k.endswith(".svg") for k in files) and any(k.endswith(".png") for k in files)
    before = (out / "results.json").read_bytes()

    # a failure while writing leaves the previous complete output untouched, no partial folder
    import pfseval.report as report

    def boom(*args: object, **kwargs: object) -> None:
        raise RuntimeError("disk full")

    monkeypatch.setattr(report, "write_report", boom)
    with pytest.raises(RuntimeError):
        write_outputs(run, out)
    assert (out / "results.json").read_bytes() == before
    assert [p.name for p in spec_dir.iterdir() if p.name.startswith(".out")] == []
    new_out = spec_dir / "never"
    with pytest.raises(RuntimeError):
        write_outputs(run, new_out)
    assert not new_out.exists()


def test_run_many_reports_failures_and_runs_the_rest(spec_dir: Path) -> None:
    good = spec_dir / "spec.toml"
    bad_dir = spec_dir / "bad"
    bad_dir.mkdir()
    shutil.copy(good, bad_dir / "broken.toml")
    shutil.copy(spec_dir / "people.csv", bad_dir / "people.csv")  # data inside the spec's tree
    (bad_dir / "broken.toml").write_text(
        good.read_text(encoding="utf-8").replace('"completed" }', '"no_such_column" }'),
        encoding="utf-8",
    )
    outcomes = run_many([bad_dir / "broken.toml", good], spec_dir / "runs")
    assert [o.ok for o in outcomes] == [False, True]
    assert "indicators[0].options.outcome" in outcomes[0].error
    assert not (spec_dir / "runs" / "broken").exists()
    assert (spec_dir / "runs" / "spec" / "results.json").is_file()
    assert outcomes[1].total is not None


def test_missing_column_at_run_time_names_indicator(spec_dir: Path) -> None:
    # the header is fine but the values are not 0/1: the run error names key path and file
    df = pd.read_csv(spec_dir / "people.csv")
    df.loc[df["treated"] == 1, "completed"] = 2
    df.to_csv(spec_dir / "people.csv", index=False)
    from pfseval.batch import IndicatorRunError

    with pytest.raises(IndicatorRunError, match=r"indicators\[0\]") as err:
        run_spec(load_spec(spec_dir / "spec.toml"))
    assert str(spec_dir / "spec.toml") in str(err.value)


def test_every_registered_design_is_reachable_from_a_spec() -> None:
    """Every design in the registry can be named in a spec: its function loads, takes the
    data (or series, or matched sample) first, and every declared option is a keyword."""
    import inspect

    from pfseval.batch.registry import RUNNER_SUPPLIED, spec_options
    from pfseval.designs.contract import designs

    for name, d in designs().items():
        fn = d.load()
        params = inspect.signature(fn).parameters
        first = next(iter(params.values()))
        assert first.kind is inspect.Parameter.POSITIONAL_OR_KEYWORD, name
        for opt in d.options:
            assert opt.name in params, (name, opt.name)
            assert params[opt.name].kind is inspect.Parameter.KEYWORD_ONLY, (name, opt.name)
        assert set(spec_options(d)).isdisjoint(RUNNER_SUPPLIED), name
        assert d.title["ja"] and d.title["en"] and d.assumptions["ja"], name


def test_rct_prepost_and_baseline_designs_run_from_a_spec(tmp_path: Path) -> None:
    from pfseval import baseline, prepost, rct
    from pfseval.synthetic import write_all

    write_all(tmp_path / "data", seed=5, persons=3000)
    (tmp_path / "spec.toml").write_text(
        """
[evaluation]
title = "other designs"
[data.trial]
path = "data/rct.csv"
[data.questionnaire]
path = "data/prepost.csv"
[data.screening]
path = "data/screening.csv"
aggregated = true
[cohorts.participants]
from = "questionnaire"
where = [{ column = "participant", op = "==", value = 1 }]
[cohorts.town]
from = "screening"
where = [{ column = "municipality_code", op = "==", value = "990010" }]
[[indicators]]
id = "hba1c"
design = "rct.compare"
data = "trial"
options = { outcome = "hba1c_change", treatment = "arm" }
[[indicators]]
id = "checklist"
design = "prepost.compare"
data = "participants"
options = { before = "checklist_before", after = "checklist_after" }
[[indicators]]
id = "screening_rate"
design = "baseline.compare"
data = "town"
level = 0.9
options = { year = "fiscal_year", numerator = "screened", denominator = "eligible", evaluation_year = 2023 }
[report]
lang = "en"
""",
        encoding="utf-8",
    )
    sp = load_spec(tmp_path / "spec.toml")
    assert sp.data["screening"].id_col is None  # aggregated series: no person id
    run = run_spec(sp)
    d = tmp_path / "data"
    trial = pd.read_csv(d / "rct.csv")
    q = pd.read_csv(d / "prepost.csv")
    s = pd.read_csv(d / "screening.csv")
    expected = {
        "hba1c": rct.compare(trial, outcome="hba1c_change", treatment="arm"),
        "checklist": prepost.compare(
            q[q["participant"] == 1], before="checklist_before", after="checklist_after"
        ),
        "screening_rate": baseline.compare(
            s[s["municipality_code"] == 990010],
            year="fiscal_year",
            numerator="screened",
            denominator="eligible",
            evaluation_year=2023,
            level=0.9,
        ),
    }
    for iid, est in expected.items():
        got = run.estimates[iid]
        assert (got.value, got.conf_low, got.conf_high, got.n) == pytest.approx(
            (est.value, est.conf_low, est.conf_high, est.n), rel=1e-12
        )
    assert run.payment is None
    assert run.figure_data["screening_rate"]["trend"]["evaluation_year"] == 2023
    files = write_outputs(run, tmp_path / "out")
    assert "figure:screening_rate_trend.png" in files


def test_japanese_headers_cp932_and_mapping(tmp_path: Path) -> None:
    # a CP932 extract with Japanese headers: the vocabulary aliases and the spec's mapping
    # name the columns, so filters and options use the canonical names
    rows = "\n".join(f"{i:04d},{60 + i % 10},{1 if i % 3 else 0}" for i in range(40))
    (tmp_path / "kenshin.csv").write_bytes(f"受診者ID,年齢,修了\n{rows}\n".encode("cp932"))
    (tmp_path / "spec.toml").write_text(
        """
[data.kenshin]
path = "kenshin.csv"
mapping = { "修了" = "completed" }
[cohorts.older]
from = "kenshin"
where = [{ column = "age", op = ">=", value = 65 }]
[[indicators]]
id = "completion_rate"
design = "proportion.rate"
data = "older"
options = { outcome = "completed" }
""",
        encoding="utf-8",
    )
    run = run_spec(load_spec(tmp_path / "spec.toml"))
    est = run.estimates["completion_rate"]
    ages = np.array([60 + i % 10 for i in range(40)])
    done = np.array([1 if i % 3 else 0 for i in range(40)])
    assert est.n == int((ages >= 65).sum())
    assert est.value == pytest.approx(done[ages >= 65].mean(), abs=1e-15)


def test_bad_values_and_duplicate_ids_are_reported(spec_dir: Path) -> None:
    from pfseval.errors import DataValidationError

    df = pd.read_csv(spec_dir / "people.csv")
    df.loc[3, "age"] = 250  # outside the vocabulary's range
    df.to_csv(spec_dir / "people.csv", index=False)
    with pytest.raises(DataValidationError, match="age") as err:
        run_spec(load_spec(spec_dir / "spec.toml"))
    assert "people.csv" in str(err.value)
    df.loc[3, "age"] = 50
    df.loc[5, "person_id"] = df.loc[4, "person_id"]
    df.to_csv(spec_dir / "people.csv", index=False)
    with pytest.raises(DataValidationError, match="person_id") as err2:
        run_spec(load_spec(spec_dir / "spec.toml"))
    assert err2.value.problems[0].rows == (6, 7)  # file lines (header = line 1)
