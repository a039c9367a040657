"""Issue 12: property-based ("fuzz") tests over spec TOML, contract TOML and CSV inputs.

The property everywhere: *a typed error or a valid result, never a traceback, never a
silently lost row*. Inputs are valid documents with one to three random mutations (a value
replaced by an arbitrary TOML value, a key removed, an unknown key added), so most examples
reach deep into validation instead of failing on the first key. Examples are bounded (the
``FUZZ`` settings) so the three tests take well under a minute in the default run.
"""

from __future__ import annotations

import copy
import csv
import io
import tomllib
import warnings
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
import tomli_w
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from pfseval.batch import load_spec, run_spec
from pfseval.errors import PfsevalError
from pfseval.io import read_checkups
from pfseval.payment import Contract

ROOT = Path(__file__).resolve().parents[1]

#: Bounded examples, no deadline (a run may take a while on a loaded machine).
FUZZ = settings(
    max_examples=80,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
    derandomize=True,  # the same examples on every run: a failure is reproducible
)

_text = st.one_of(
    st.sampled_from(
        [
            "",
            "completed",
            "person_id",
            "../x",
            "/etc/passwd",
            "=1+1",
            "a\x07b",
            "全角",
            "zero",
            "exclude",
            "keep",
            "==",
            "!=",
            "not_in",
            "any",
            "proportion.rate",
            "ja",
            "en",
            "1_30",
        ]
    ),
    st.text(max_size=12),
)
_scalar = st.one_of(
    _text,
    st.booleans(),
    st.integers(min_value=-(2**63), max_value=2**63 - 1),
    st.sampled_from([0, 1, -1, 10**9, 2000]),
    st.floats(allow_nan=True, allow_infinity=True),
    st.sampled_from([0.0, 0.5, 1.0, 1.5, -0.1, 30.0, 1e9]),
)
_value = st.recursive(
    _scalar,
    lambda inner: st.one_of(st.lists(inner, max_size=4), st.dictionaries(_text, inner, max_size=3)),
    max_leaves=6,
)


def _paths(doc: Any, prefix: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    """Every key path of a nested dict/list document."""
    out = [prefix] if prefix else []
    if isinstance(doc, dict):
        for k, v in doc.items():
            out += _paths(v, (*prefix, k))
    elif isinstance(doc, list):
        for i, v in enumerate(doc):
            out += _paths(v, (*prefix, i))
    return out


@st.composite
def _mutated(draw: st.DrawFn, base: dict[str, Any]) -> dict[str, Any]:
    doc = copy.deepcopy(base)
    for _ in range(draw(st.integers(1, 3))):
        paths = _paths(doc)
        if not paths:
            break
        path = draw(st.sampled_from(paths))
        parent: Any = doc
        for k in path[:-1]:
            parent = parent[k]
        action = draw(st.sampled_from(["replace", "replace", "delete", "add"]))
        if action == "replace":
            parent[path[-1]] = draw(_value)
        elif action == "delete":
            del parent[path[-1]]
        elif isinstance(parent, dict):
            parent[draw(_text)] = draw(_value)
        else:
            parent.append(draw(_value))
    return doc


def _typed_or_valid(fn: Callable[[], Any]) -> Any:
    """Call ``fn``: a pfseval error is an acceptable outcome; anything else fails the test."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            return fn()
    except PfsevalError as exc:
        assert str(exc), "an error without a message"
        return None


# ---------------------------------------------------------------- spec TOML

_SPEC = {
    "evaluation": {"title": "fuzz", "seed": 5},
    "data": {"people": {"path": "people.csv"}},
    "cohorts": {
        "done": {
            "from": "people",
            "where": [
                {"column": "sex", "op": "!=", "value": 1},
                {
                    "any": [
                        {"column": "age", "op": ">=", "value": 50},
                        {"column": "completed", "op": "==", "value": 1},
                    ]
                },
            ],
        }
    },
    "indicators": [
        {
            "id": "rate",
            "label": {"ja": "率", "en": "rate"},
            "design": "proportion.rate",
            "data": "people",
            "options": {"outcome": "completed", "missing": "exclude"},
        },
        {
            "id": "dom",
            "design": "proportion.mean_of_rates",
            "data": "done",
            "options": {"outcomes": ["a", "b"], "n_boot": 50},
        },
    ],
    "report": {"lang": "en", "min_cell": 10},
}


@pytest.fixture(scope="module")
def spec_folder(tmp_path_factory: pytest.TempPathFactory) -> Path:
    d = tmp_path_factory.mktemp("fuzz")
    rng = np.random.default_rng(0)
    n = 80
    sex = rng.integers(1, 3, n).astype(float)
    sex[:5] = np.nan
    pd.DataFrame(
        {
            "person_id": [f"F{i:03d}" for i in range(n)],
            "age": rng.integers(40, 75, n),
            "sex": sex,
            "completed": rng.integers(0, 2, n),
            "a": rng.integers(0, 2, n),
            "b": rng.integers(0, 2, n),
        }
    ).to_csv(d / "people.csv", index=False)
    return d


@FUZZ
@given(doc=_mutated(_SPEC))
def test_fuzz_spec_toml(spec_folder: Path, doc: dict[str, Any]) -> None:
    try:
        text = tomli_w.dumps(doc)
    except (TypeError, ValueError):  # not representable as TOML: nothing to test
        return
    spec = spec_folder / "spec.toml"
    spec.write_text(text, encoding="utf-8")
    loaded = _typed_or_valid(lambda: load_spec(spec))
    if loaded is None:
        return
    run = _typed_or_valid(lambda: run_spec(loaded))
    if run is None:
        return
    for name, flow in run.cohort_flows.items():  # every row accounted for
        d = flow.to_dict()
        excluded = sum(s["n_excluded"] for s in d["steps"])
        assert d["n_input"]["all"] - excluded == d["n_analysed"]["all"], name


def test_fuzz_raw_spec_text(spec_folder: Path) -> None:
    @FUZZ
    @given(text=st.text(max_size=200))
    def check(text: str) -> None:
        spec = spec_folder / "raw.toml"
        spec.write_text(text, encoding="utf-8", errors="surrogatepass")
        _typed_or_valid(lambda: load_spec(spec))

    check()


# ---------------------------------------------------------------- contract TOML

with (ROOT / "examples" / "contracts" / "kobe.toml").open("rb") as _f:
    _CONTRACT = tomllib.load(_f)


@FUZZ
@given(
    doc=_mutated(_CONTRACT),
    values=st.lists(
        st.one_of(st.floats(-1, 2), st.sampled_from([0.4, 0.1 + 0.3, 30.0, float("nan")])),
        min_size=3,
        max_size=3,
    ),
)
def test_fuzz_contract_toml(doc: dict[str, Any], values: list[float]) -> None:
    contract = _typed_or_valid(lambda: Contract.from_dict(doc, file="fuzz.toml"))
    if contract is None:
        return
    ids = ["completion_rate", "lifestyle_improvement_rate", "suppression_rate"]
    result = _typed_or_valid(lambda: contract.evaluate(dict(zip(ids, values, strict=True))))
    if result is not None:
        assert np.isfinite(float(result.total))


# ---------------------------------------------------------------- CSV inputs

_cell = st.one_of(
    st.sampled_from(
        [
            "",
            "NA",
            "N/A",
            "-",
            "1_30",
            "65",
            "６５",
            "1e3",
            "abc",
            " 7 ",
            "0x10",
            "1,5",
            "nan",
            "inf",
            "=1+1",
            '"',
            "1",
            "2",
            "2016",
            "5.4",
        ]
    ),
    st.text(alphabet=st.characters(blacklist_categories=["Cs"]), max_size=6),
)


@FUZZ
@given(
    rows=st.lists(st.lists(_cell, min_size=5, max_size=5), min_size=1, max_size=12),
    validate=st.booleans(),
)
def test_fuzz_csv_rows_are_never_lost(
    tmp_path_factory: pytest.TempPathFactory, rows: list[list[str]], validate: bool
) -> None:
    buf = io.StringIO()
    # "\r\n" ends records, so the writer quotes every cell holding a CR or LF: the file has
    # exactly len(rows) records (a bare CR would be a record break for any CSV reader)
    w = csv.writer(buf, lineterminator="\r\n")
    w.writerow(["person_id", "fiscal_year", "age", "sex", "hba1c"])
    rows = [[f"P{i}", *r[1:]] for i, r in enumerate(rows)]  # ids unique and present
    w.writerows(rows)
    path = tmp_path_factory.mktemp("csv") / "x.csv"
    path.write_bytes(buf.getvalue().encode("utf-8"))
    df = _typed_or_valid(lambda: read_checkups(path, validate=validate, required=()))
    if df is not None:
        assert len(df) == len(rows), "rows were lost without an error"
