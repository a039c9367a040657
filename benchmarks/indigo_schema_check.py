"""Validate pfseval's INDIGO exports against the standard's own project schema.

The default test run validates ``pfseval.payment.indigo.to_indigo`` against
``tests/reference/indigo/pfseval_subset.schema.json``, a schema written by pfseval's developers
(the official schema file carries no licence, so it is not stored in this repository). This
script closes the loop where the official file can be fetched: it exports a payment for every
example contract at several indicator values, validates each document against the official
``schema/project.json`` of github.com/INDIGO-Initiative/indigo-data-standard, and checks that
the official schema rejects the same malformed documents the subset schema rejects (so a pass
is not a rubber stamp)::

    git clone https://github.com/INDIGO-Initiative/indigo-data-standard /tmp/indigo
    python benchmarks/indigo_schema_check.py --schema /tmp/indigo/schema/project.json \\
        --schema-version "$(git -C /tmp/indigo describe --tags --always)"

Writes ``benchmarks/results/indigo_schema_check.md``; exits non-zero if any document fails.
"""

from __future__ import annotations

import argparse
import copy
import importlib.metadata
import json
import sys
from pathlib import Path
from typing import Any

import jsonschema

from pfseval.payment import Contract
from pfseval.payment.indigo import to_indigo

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(Path(__file__).resolve().parent))
from _report import write_report  # noqa: E402

# Indicator values per example contract: below, inside and above each schedule's range, so
# zero, partial and capped payments are all exported.
CASES: dict[str, list[dict[str, float]]] = {
    "kobe.toml": [
        {"completion_rate": 0.5, "lifestyle_improvement_rate": 0.5, "suppression_rate": 0.0},
        {"completion_rate": 1.0, "lifestyle_improvement_rate": 0.95, "suppression_rate": 0.329},
        {"completion_rate": 1.0, "lifestyle_improvement_rate": 1.0, "suppression_rate": 1.0},
    ],
    "urasoe.toml": [
        {"additional_screened": 0},
        {"additional_screened": 921},
        {"additional_screened": 5000},
    ],
    "cancer_screening.toml": [
        {"screening_uptake": 0.10, "followup_uptake": 0.50},
        {"screening_uptake": 0.16, "followup_uptake": 0.75},
        {"screening_uptake": 0.30, "followup_uptake": 1.00},
    ],
    "exercise_band.toml": [
        {"exercise_habit_improvement": 0.0, "checklist_worsened": 0.5},
        {"exercise_habit_improvement": 0.2, "checklist_worsened": 0.1},
        {"exercise_habit_improvement": 0.9, "checklist_worsened": 0.0},
    ],
}


def _malformed(doc: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """Documents that a faithful validator must reject (one defect each)."""
    out: dict[str, dict[str, Any]] = {}
    bad = copy.deepcopy(doc)
    bad["outcome_payments"][0]["type"]["value"] = "Maybe"
    out["payment type outside the code list"] = bad
    bad = copy.deepcopy(doc)
    bad["outcome_payments"][0]["money"]["amount"]["value"] = "five million"
    out["amount as text"] = bad
    bad = copy.deepcopy(doc)
    bad["status"] = "SECRET"
    out["status outside the code list"] = bad
    return out


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--schema", type=Path, required=True, help="official schema/project.json")
    ap.add_argument("--schema-version", default="(not given)", help="tag or commit of the schema")
    ap.add_argument("--out", type=Path, default=ROOT / "benchmarks/results/indigo_schema_check.md")
    args = ap.parse_args(argv)
    schema = json.loads(args.schema.read_text("utf-8"))
    validator = jsonschema.validators.validator_for(schema)(schema)

    rows: list[str] = []
    failures = 0
    first_doc: dict[str, Any] | None = None
    for name, value_sets in CASES.items():
        contract = Contract.from_toml(ROOT / "examples/contracts" / name)
        for values in value_sets:
            doc = to_indigo(contract.evaluate(values), period=("2017-07", "2020-03"))
            first_doc = first_doc or doc
            errors = list(validator.iter_errors(doc))
            failures += bool(errors)
            shown = ", ".join(f"{k}={v:g}" for k, v in values.items())
            verdict = "valid" if not errors else "; ".join(e.message[:120] for e in errors[:3])
            rows.append(f"| {name} | {shown} | {len(doc['outcome_payments'])} | {verdict} |")

    assert first_doc is not None
    rejected: list[str] = []
    for what, bad in _malformed(first_doc).items():
        caught = not validator.is_valid(bad)
        failures += not caught
        rejected.append(
            f"| {what} | {'rejected' if caught else 'ACCEPTED (validator too loose)'} |"
        )

    lines = [
        "# INDIGO export against the official project schema",
        "",
        "Command: `python benchmarks/indigo_schema_check.py --schema <indigo-data-standard>/"
        f"schema/project.json --schema-version {args.schema_version}`",
        "",
        f"Schema: INDIGO-Initiative/indigo-data-standard `schema/project.json`, {args.schema_version}"
        f" (`$schema` {schema.get('$schema', '?')}); validator {type(validator).__name__}, "
        f"jsonschema {importlib.metadata.version('jsonschema')}.",
        "",
        "| contract | indicator values | outcome payments | result |",
        "| --- | --- | ---: | --- |",
        *rows,
        "",
        "Malformed copies of the first document (the official schema must reject each):",
        "",
        "| defect | official schema |",
        "| --- | --- |",
        *rejected,
        "",
        f"Failures: {failures}.",
        "",
    ]
    write_report(args.out, lines)
    return 1 if failures else 0


if __name__ == "__main__":
    raise SystemExit(main())
