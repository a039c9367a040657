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
    build_source,
    results_json,
    run_spec,
    use_related,
    write_outputs,
)
from pfseval.batch.schema import SCHEMA_VERSION
from pfseval.batch.spec import EvaluationSpec, load_spec

__all__ = [
    "DESIGNS",
    "EXAMPLES",
    "SCHEMA_VERSION",
    "EvaluationRun",
    "EvaluationSpec",
    "IndicatorRunError",
    "SpecOutcome",
    "build_source",
    "example_spec",
    "load_spec",
    "results_json",
    "run_many",
    "run_spec",
    "use_related",
    "write_outputs",
]


#: The example evaluations shipped in ``examples/`` (folder → spec file) that
#: ``pfseval demo`` runs, in order.
EXAMPLES: dict[str, str] = {
    "kobe_evaluation": "spec_extracts.toml",
    "screening_evaluation": "spec.toml",
}


def example_spec(*, name: str = "kobe_evaluation") -> Path:
    """Path of an example spec shipped with the source tree.

    Parameters
    ----------
    name
        A key of :data:`EXAMPLES`: ``"kobe_evaluation"`` (Kobe-style evaluation from the
        2016 and 2019 health-check extracts, ``examples/kobe_evaluation/spec_extracts.toml``)
        or ``"screening_evaluation"`` (historical baseline paid per additional person
        screened, ``examples/screening_evaluation/spec.toml``).

    Returns
    -------
    pathlib.Path

    Examples
    --------
    >>> example_spec(name="screening_evaluation").parent.name
    'screening_evaluation'
    """
    if name not in EXAMPLES:
        raise ValueError(f"unknown example {name!r}; use one of {', '.join(EXAMPLES)}")
    root = Path(__file__).resolve().parents[3]
    p = root / "examples" / name / EXAMPLES[name]
    if not p.is_file():
        raise FileNotFoundError(
            f"the example spec is not at {p}: `pfseval demo` needs the source tree "
            "(git clone, then pip install -e .)"
        )
    return p
