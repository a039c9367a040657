"""Cohort filters in specs: values checked against the column types on load, empty cohorts
named at run time, and the example specs' error when the source tree is absent."""

from __future__ import annotations

import json
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import pfseval.batch
import pfseval.batch.spec as spec_module
from pfseval.batch import (
    ExampleNotFoundError,
    IndicatorRunError,
    example_spec,
    load_spec,
    results_json,
    run_spec,
)
from pfseval.errors import PfsevalError, SmallSampleWarning, SpecError

N = 40


def _people() -> pd.DataFrame:
    i = np.arange(N)
    return pd.DataFrame(
        {
            "person_id": [f"P{k:03d}" for k in i],
            "age": 40 + i % 35,
            "sex": 1 + i % 2,
            "municipality_code": np.where(i % 4 == 0, "011002", "990010"),
            "site": [f"0{k % 3 + 1}" for k in i],  # codes with a leading zero: text
            "treated": i % 2,
            "completed": np.where(i % 2 == 1, (i % 5 > 0).astype(float), np.nan),
            "note": [None] * N,  # every value missing: its type cannot be told
        }
    )


HEAD = """
[data.people]
path = "people.csv"
"""

INDICATOR = """
[[indicators]]
id = "completion_rate"
design = "proportion.rate"
data = "{data}"
options = {{ outcome = "completed" }}
"""


def _write(d: Path, cohorts: str, *, data: str = "people", head: str = HEAD) -> Path:
    if not (d / "people.csv").exists():
        _people().to_csv(d / "people.csv", index=False)
    p = d / "spec.toml"
    p.write_text(head + cohorts + INDICATOR.format(data=data), encoding="utf-8")
    return p


def _cohort(where: str, name: str = "c", source: str = "people") -> str:
    return f'\n[cohorts.{name}]\nfrom = "{source}"\nwhere = [{where}]\n'


# ------------------------------------------------------------ 1. types checked on load

BAD = [
    # (condition, key path under cohorts.c.where[0], words the message must contain)
    ('{ column = "treated", op = "==", value = "1" }', "value", ["is text", "float64", "(1,"]),
    ('{ column = "sex", op = "==", value = "male" }', "value", ["Int64", "1 (male)"]),
    ('{ column = "age", op = "!=", value = "40" }', "value", ["is text", "numbers"]),
    ('{ column = "municipality_code", op = "==", value = 990010 }', "value", ["text (dtype"]),
    ('{ column = "site", op = "==", value = 1 }', "value", ['("1", not 1)', "text"]),
    ('{ column = "site", op = "==", value = true }', "value", ["is true/false", "text"]),
    ('{ column = "treated", op = "in", value = [1, "0"] }', "value", ["element 1", "is text"]),
    ('{ column = "site", op = "not_in", value = ["01", 2] }', "value", ["element 1", "text"]),
    ('{ column = "site", op = "in", value = [1] }', "value", ["element 0"]),
    ('{ column = "site", op = ">=", value = 2 }', "value", ["'>=' compares numbers", "text"]),
    ('{ column = "site", op = "between", value = [1, 2] }', "value", ["'between' compares"]),
    (
        '{ any = [{ column = "age", op = ">=", value = 65 }, '
        '{ column = "treated", op = "==", value = "1" }] }',
        "any[1].value",
        ["'treated'", "is text"],
    ),
]


@pytest.mark.parametrize(("cond", "key", "words"), BAD)
def test_filter_value_type_must_match_column_type(
    tmp_path: Path, cond: str, key: str, words: list[str]
) -> None:
    p = _write(tmp_path, _cohort(cond))
    with pytest.raises(SpecError) as err:
        load_spec(p)
    assert err.value.key_path == f"cohorts.c.where[0].{key}"
    assert err.value.file == str(p)
    msg = str(err.value)
    assert msg.startswith(f"{p}: cohorts.c.where[0].{key}: ")
    assert "data source 'people'" in msg and "Fix:" in msg
    for w in words:
        assert w in msg


GOOD = [
    '{ column = "treated", op = "==", value = 1 }',
    '{ column = "treated", op = "==", value = true }',  # a flag: true is 1
    '{ column = "treated", op = "in", value = [1, 1.0] }',
    '{ column = "age", op = "between", value = [40, 60.5] }',
    '{ column = "municipality_code", op = "==", value = "990010" }',
    '{ column = "site", op = "in", value = ["01", "02"] }',
    '{ column = "site", op = "missing" }',
    '{ column = "note", op = "==", value = 3 }',  # all missing: unknown type, not an error
    '{ any = [{ column = "site", op = "==", value = "01" }, '
    '{ column = "age", op = "<", value = 50 }] }',
]


@pytest.mark.parametrize("cond", GOOD)
def test_matching_value_types_load(tmp_path: Path, cond: str) -> None:
    sp = load_spec(_write(tmp_path, _cohort(cond)))
    assert len(sp.cohorts["c"].where) == 1


def test_type_check_follows_cohort_chain_and_row_positions_after_the_first_cohort(
    tmp_path: Path,
) -> None:
    cohorts = _cohort('{ column = "treated", op = "==", value = 1 }', name="a") + _cohort(
        '{ column = "age", op = ">", value = 50 }, { column = "site", op = "==", value = 2 }',
        name="b",
        source="a",
    )
    with pytest.raises(SpecError) as err:
        load_spec(_write(tmp_path, cohorts, data="b"))
    assert err.value.key_path == "cohorts.b.where[1].value"


def test_no_type_check_without_check_data(tmp_path: Path) -> None:
    p = _write(tmp_path, _cohort('{ column = "treated", op = "==", value = "1" }'))
    (tmp_path / "people.csv").unlink()
    assert load_spec(p, check_data=False).cohorts["c"].where[0].value == "1"


def test_vocabulary_columns_are_typed_without_reading_the_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def no_read(*args: object, **kwargs: object) -> None:
        raise AssertionError("the file was read")

    monkeypatch.setattr(spec_module, "_read_columns", no_read)
    p = _write(tmp_path, _cohort('{ column = "sex", op = "==", value = "2" }'))
    with pytest.raises(SpecError, match="Int64"):
        load_spec(p)
    p = _write(tmp_path, _cohort('{ column = "age", op = ">=", value = 50 }'))
    assert load_spec(p).cohorts["c"].where[0].value == 50
    # an extra column must be read to be typed
    p = _write(tmp_path, _cohort('{ column = "treated", op = "==", value = 1 }'))
    with pytest.raises(AssertionError, match="the file was read"):
        load_spec(p)


def test_unvalidated_source_keeps_unparseable_vocabulary_column_as_text(tmp_path: Path) -> None:
    df = _people()
    df["hba1c"] = ["6.1", "high"] * (N // 2)  # read_checkups(validate=False) keeps it as text
    df.to_csv(tmp_path / "people.csv", index=False)
    head = HEAD + "validate = false\n"
    p = _write(tmp_path, _cohort('{ column = "hba1c", op = "==", value = 6.1 }'), head=head)
    with pytest.raises(SpecError, match="holds text"):
        load_spec(p)
    p = _write(tmp_path, _cohort('{ column = "hba1c", op = "==", value = "high" }'), head=head)
    sp = load_spec(p)
    # the check agrees with what the runner loads: the condition keeps the "high" rows
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        run = run_spec(sp)
    assert run.cohort_flows["c"].n_analysed() == N // 2


def test_parquet_linked_and_merged_columns_are_typed(tmp_path: Path) -> None:
    base = _people()[["person_id", "age", "sex"]].assign(fiscal_year=2016, egfr=70.0)
    fol = base.assign(fiscal_year=2019, egfr=66.0)
    base.to_parquet(tmp_path / "b.parquet")
    fol.to_csv(tmp_path / "f.csv", index=False)
    extra = _people()[["person_id", "completed", "site"]].iloc[1::2]
    extra.to_csv(tmp_path / "participants.csv", index=False)
    _people().to_csv(tmp_path / "people.csv", index=False)
    head = """
[data.pool]
baseline = "b.parquet"
followup = "f.csv"
merge = [{ path = "participants.csv", on = "person_id", flag = "treated", columns = { completed = "completed", site = "clinic" } }]
[data.people]
path = "people.csv"
"""
    cases = {
        '{ column = "egfr_follow", op = "<", value = 60 }': None,
        '{ column = "egfr_follow", op = "==", value = "66" }': "float64",
        '{ column = "followup_years", op = "==", value = "3" }': "float64",
        '{ column = "treated", op = "==", value = "1" }': "int64",
        '{ column = "completed", op = "==", value = "1" }': "float64",
        '{ column = "clinic", op = "==", value = 1 }': "text",
        '{ column = "clinic", op = "==", value = "01" }': None,
        '{ column = "age", op = "!=", value = "65" }': "Int64",
    }
    for cond, dtype in cases.items():
        p = _write(tmp_path, _cohort(cond, source="pool"), data="people", head=head)
        if dtype is None:
            assert load_spec(p).cohorts["c"].source == "pool"
        else:
            with pytest.raises(SpecError, match=dtype) as err:
                load_spec(p)
            assert err.value.key_path == "cohorts.c.where[0].value", cond


def test_tsv_source_header_and_types(tmp_path: Path) -> None:
    _people().to_csv(tmp_path / "people.tsv", sep="\t", index=False)
    head = '\n[data.people]\npath = "people.tsv"\n'
    p = _write(tmp_path, _cohort('{ column = "site", op = "==", value = 1 }'), head=head)
    with pytest.raises(SpecError, match="holds text"):
        load_spec(p)
    p = _write(tmp_path, _cohort('{ column = "treated", op = "==", value = 1 }'), head=head)
    run = run_spec(load_spec(p))
    assert run.cohort_flows["c"].n_analysed() == N // 2


# ------------------------------------------------------------ 2. empty cohorts at run time


def test_filter_emptying_a_used_cohort_warns_and_names_it(tmp_path: Path) -> None:
    cohorts = _cohort(
        '{ column = "treated", op = "==", value = 1 }, { column = "age", op = ">", value = 200 }'
    )
    sp = load_spec(_write(tmp_path, cohorts, data="c"))
    warned = pytest.warns(SmallSampleWarning, match=r"cohorts\.c\.where\[1\]: the filter \(age")
    with warned, pytest.raises(IndicatorRunError) as err:
        run_spec(sp)
    msg = str(err.value)
    assert err.value.key_path == "indicators[0]"
    assert "cohort 'c' has no rows" in msg and "cohorts.c.where[1] (age > 200)" in msg


def test_child_of_an_empty_cohort_names_the_parent(tmp_path: Path) -> None:
    cohorts = _cohort(
        '{ any = [{ column = "age", op = "<", value = 0 }, { column = "site", op = "==", '
        'value = "09" }] }',
        name="a",
    ) + _cohort('{ column = "treated", op = "==", value = 1 }', name="b", source="a")
    sp = load_spec(_write(tmp_path, cohorts, data="b"))
    failed = pytest.raises(IndicatorRunError, match="reads cohort 'a', which is empty")
    with pytest.warns(SmallSampleWarning, match=r"cohorts\.a\.where\[0\]") as rec, failed:
        run_spec(sp)
    # one warning, for the filter that emptied a cohort: not one per later cohort
    assert sum("excludes every remaining row" in str(w.message) for w in rec) == 1


def test_empty_unused_cohort_is_a_recorded_warning(tmp_path: Path) -> None:
    cohorts = _cohort('{ column = "treated", op = "==", value = 1 }', name="used") + _cohort(
        '{ column = "note", op = "not_missing" }', name="unused"
    )
    sp = load_spec(_write(tmp_path, cohorts, data="used"))
    with pytest.warns(SmallSampleWarning, match=r"cohorts\.unused\.where\[0\]"):
        run = run_spec(sp)
    flow = run.cohort_flows["unused"]
    assert flow.n_analysed() == 0  # every row accounted for as excluded
    assert flow.n_excluded() == N
    assert run.estimates["completion_rate"].n == N // 2
    res = json.loads(results_json(run))
    (empty,) = [n for n in res["notices"] if n["code"] == "batch.cohort_empty"]
    assert empty["params"]["key"] == "cohorts.unused.where[0]"
    assert empty["text"]["en"].startswith("cohorts.unused.where[0]:")
    assert empty["text"]["ja"].startswith("cohorts.unused.where[0]：")
    assert run.cohort_flows["used"].n_analysed() == N // 2


def test_no_warning_when_every_cohort_keeps_rows(tmp_path: Path) -> None:
    sp = load_spec(_write(tmp_path, _cohort('{ column = "treated", op = "==", value = 1 }')))
    with warnings.catch_warnings(record=True) as rec:
        warnings.simplefilter("always")
        run = run_spec(sp)
    # the design may warn about its small denominator; no cohort is empty
    assert not any(n.code == "batch.cohort_empty" for n in run.notices)
    assert not any("excludes every remaining row" in str(w.message) for w in rec)


# ------------------------------------------------------------ 3. example specs


def test_example_spec_without_the_source_tree(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(pfseval.batch, "_EXAMPLES_DIR", tmp_path / "missing")
    with pytest.raises(ExampleNotFoundError) as err:
        example_spec()
    assert isinstance(err.value, PfsevalError)
    msg = str(err.value)
    assert "kobe_evaluation/spec_extracts.toml" in msg and str(tmp_path / "missing") in msg
    assert "ship with the source repository" in msg and "pip install -e" in msg
    with pytest.raises(ExampleNotFoundError, match="unknown example 'nope'"):
        example_spec(name="nope")


def test_example_specs_found_in_the_source_tree() -> None:
    for name, file in pfseval.batch.EXAMPLES.items():
        p = example_spec(name=name)
        assert p.is_file() and p.name == file and p.parent.name == name
