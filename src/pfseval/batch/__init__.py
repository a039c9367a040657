"""Batch evaluation runs from spec files (TOML).

- :func:`load_spec` reads and validates a spec before any computation
  (:class:`~pfseval.errors.SpecError` names file and key path);
- :func:`run_spec` runs it and returns an :class:`EvaluationRun` (data only);
- :func:`write_outputs` writes ``results.json``, ``appendix.html``, ``appendix.docx``,
  ``tables.xlsx`` and the figures into a folder, atomically;
- :func:`run_many` runs several specs, each failure reported, the others still run.
"""

from pathlib import Path

from pfseval.batch.designs import DESIGNS
from pfseval.batch.many import SpecOutcome, run_many
from pfseval.batch.runner import (
    EvaluationRun,
    IndicatorRunError,
    results_json,
    run_spec,
    write_outputs,
)
from pfseval.batch.schema import SCHEMA_VERSION
from pfseval.batch.spec import EvaluationSpec, load_spec

__all__ = [
    "DESIGNS",
    "SCHEMA_VERSION",
    "EvaluationRun",
    "EvaluationSpec",
    "IndicatorRunError",
    "SpecOutcome",
    "example_spec",
    "load_spec",
    "results_json",
    "run_many",
    "run_spec",
    "write_outputs",
]


def example_spec() -> Path:
    """Path of the example Kobe-style spec (``examples/kobe_evaluation/spec.toml``).

    The example ships with the source tree (an editable or source install).
    """
    root = Path(__file__).resolve().parents[3]
    p = root / "examples" / "kobe_evaluation" / "spec.toml"
    if not p.is_file():
        raise FileNotFoundError(
            f"the example spec is not at {p}: `pfseval demo` needs the source tree "
            "(git clone, then pip install -e .)"
        )
    return p
