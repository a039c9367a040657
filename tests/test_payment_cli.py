"""`pfseval pay`, `pfseval allocate` and the INDIGO export (validated against its schema)."""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import jsonschema
import pandas as pd
import pytest
from click.testing import CliRunner

from pfseval.cli import cli
from pfseval.payment import Contract
from pfseval.payment.indigo import to_indigo

ROOT = Path(__file__).resolve().parents[1]
KOBE = ROOT / "examples/contracts/kobe.toml"
# pfseval's own description of the INDIGO fields it writes (see tests/reference/indigo/README.md)
SCHEMA = json.loads((ROOT / "tests/reference/indigo/pfseval_subset.schema.json").read_text("utf-8"))


def _strict(schema: Any) -> Any:
    """The schema with additional properties forbidden wherever properties are declared."""
    s = copy.deepcopy(schema)

    def walk(node: Any) -> None:
        if isinstance(node, dict):
            if "properties" in node and "additionalProperties" not in node:
                node["additionalProperties"] = False
            for v in node.values():
                walk(v)
        elif isinstance(node, list):
            for v in node:
                walk(v)

    walk(s)
    return s


def test_pay_prints_the_published_kobe_payment_and_audit_trail() -> None:
    r = CliRunner().invoke(
        cli,
        [
            "pay",
            str(KOBE),
            "--value",
            "completion_rate=1.0",
            "--value",
            "lifestyle_improvement_rate=0.95",
            "--value",
            "suppression_rate=0.329",
        ],
    )
    assert r.exit_code == 0, r.output
    assert "0.329 ÷ 0.8 = 0.41125 → × 7,860 = 3,232.425 → 切り捨て 3,232千円" in r.output
    assert "支払額: 29,435千円" in r.output
    en = CliRunner().invoke(
        cli,
        [
            "pay",
            str(KOBE),
            "--lang",
            "en",
            "--value",
            "completion_rate=1.0",
            "--value",
            "lifestyle_improvement_rate=0.95",
            "--value",
            "suppression_rate=0.329",
        ],
    )
    assert "Amount paid: 29,435 千円" in en.output


def test_pay_reads_percentages_as_fractions() -> None:
    r = CliRunner().invoke(
        cli,
        [
            "pay",
            str(KOBE),
            "--value",
            "completion_rate=100%",
            "--value",
            "lifestyle_improvement_rate=95%",
            "--value",
            "suppression_rate=32.9%",
        ],
    )
    assert r.exit_code == 0, r.output
    assert "支払額: 29,435千円" in r.output
    # a percentage without the sign is a proportion out of range: an error, not full payment
    r = CliRunner().invoke(
        cli,
        [
            "pay",
            str(KOBE),
            "--value",
            "completion_rate=100",
            "--value",
            "lifestyle_improvement_rate=95",
            "--value",
            "suppression_rate=32.9",
        ],
    )
    assert r.exit_code == 1 and "outside [0, 1]" in r.output and "Fix:" in r.output


def test_pay_errors_are_messages_not_tracebacks() -> None:
    r = CliRunner().invoke(cli, ["pay", str(KOBE), "--value", "completion_rate=1.0"])
    assert r.exit_code == 1 and "Traceback" not in r.output
    assert "lifestyle_improvement_rate" in r.output and "Fix:" in r.output
    r = CliRunner().invoke(cli, ["pay", str(KOBE), "--value", "completion_rate"])
    assert r.exit_code == 1 and "is not ID=NUMBER" in r.output


def test_pay_writes_indigo(tmp_path: Path) -> None:
    out = tmp_path / "indigo.json"
    r = CliRunner().invoke(
        cli,
        [
            "pay",
            str(ROOT / "examples/contracts/urasoe.toml"),
            "--value",
            "additional_screened=921",
            "--indigo",
            str(out),
        ],
    )
    assert r.exit_code == 0, r.output
    doc = json.loads(out.read_text("utf-8"))
    jsonschema.validate(doc, _strict(SCHEMA))
    # 浦添市: 500 people × 10 千円 = 5,000 千円 = 5,000,000 yen of outcome payment; cap 9,500 千円
    assert doc["outcome_payments"][0]["money"]["amount"]["value"] == 5_000_000
    fin = doc["overall_project_finance"]
    assert fin["maximum_potential_outcome_payment_v2"]["amount"]["value"] == 9_500_000
    assert fin["total_outcome_payments_made"]["amount"]["value"] == 5_000_000


def test_indigo_export_validates_and_rejects_bad_documents() -> None:
    c = Contract.from_toml(KOBE)
    res = c.evaluate(
        {"completion_rate": 1.0, "lifestyle_improvement_rate": 0.95, "suppression_rate": 0.329}
    )
    doc = to_indigo(res, period=("2017-07", "2020-03"))
    strict = _strict(SCHEMA)
    jsonschema.validate(doc, SCHEMA)
    jsonschema.validate(doc, strict)
    amounts = [p["money"]["amount"]["value"] for p in doc["outcome_payments"]]
    assert amounts == [5_240_000, 10_481_000, 3_232_000]
    assert [m["id"] for m in doc["outcome_metrics"]] == [
        "completion_rate",
        "lifestyle_improvement_rate",
        "suppression_rate",
    ]
    # the validator is not a rubber stamp: wrong types, enums and unknown fields fail
    bad = copy.deepcopy(doc)
    bad["outcome_payments"][0]["type"]["value"] = "Maybe"
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate(bad, SCHEMA)
    bad = copy.deepcopy(doc)
    bad["outcome_payments"][0]["period"]["start_date"]["value"] = "July 2017"
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate(bad, SCHEMA)
    bad = copy.deepcopy(doc)
    bad["outcome_payments"][0]["money"]["amoun"] = {"value": 1}
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate(bad, SCHEMA)


def test_allocate_writes_one_row_per_unit(tmp_path: Path) -> None:
    out = tmp_path / "shares.csv"
    r = CliRunner().invoke(
        cli,
        [
            "allocate",
            str(ROOT / "examples/allocation/minimal.toml"),
            "--out",
            str(out),
            "--audit",
            "北県",
            "--lang",
            "en",
        ],
    )
    assert r.exit_code == 0, r.output
    t = pd.read_csv(out)
    assert {"unit", "amount"} <= set(t.columns)
    assert len(t) == 7 and t["amount"].sum() == 1000
    assert "Unit 北県" in r.output and "1,000 of 1,000 百万円 allocated" in r.output


def test_allocate_error_is_a_message(tmp_path: Path) -> None:
    s = tmp_path / "s.toml"
    s.write_text(
        '[allocation]\nname = "x"\nbudget = 10\nunit = "円"\nscore = "p"\nunits = "u.csv"\n',
        encoding="utf-8",
    )
    (tmp_path / "u.csv").write_text("unit,p\nA,1\nA,2\n", encoding="utf-8")
    r = CliRunner().invoke(cli, ["allocate", str(s), "--out", str(tmp_path / "o.csv")])
    assert r.exit_code == 1 and "appears more than once (file lines 2, 3)" in r.output
    assert not (tmp_path / "o.csv").exists()
