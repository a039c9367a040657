"""Batch evaluation runs from spec files (TOML).

- :func:`load_spec` reads and validates a spec before any computation
  (:class:`~pfseval.errors.SpecError` names file and key path);
- :func:`run_spec` runs it and returns an :class:`EvaluationRun` (data only);
- :func:`write_outputs` writes ``results.json``, ``appendix.html``, ``appendix.pdf``,
  ``appendix.docx``, ``tables.xlsx`` and the figures into a folder, atomically;
- :func:`run_many` runs several specs, each failure reported, the others still run.
"""

from pathlib import Path

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
from pfseval.errors import PfsevalError

__all__ = [
    "EXAMPLES",
    "SCHEMA_VERSION",
    "EvaluationRun",
    "EvaluationSpec",
    "ExampleNotFoundError",
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

#: Where the examples are: ``examples/`` of the source tree this package is installed from
#: (an editable install). A wheel does not carry them.
_EXAMPLES_DIR = Path(__file__).resolve().parents[3] / "examples"


class ExampleNotFoundError(PfsevalError):
    """An example spec is not available: unknown name, or the package is installed without
    the source repository (the examples ship with the repository, not in the wheel)."""


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

    Raises
    ------
    ExampleNotFoundError
        ``name`` is not an example, or the examples are not on disk (the package was
        installed from a wheel rather than from a clone of the repository).

    Examples
    --------
    >>> example_spec(name="screening_evaluation").parent.name
    'screening_evaluation'
    """
    if name not in EXAMPLES:
        raise ExampleNotFoundError(f"unknown example {name!r}; use one of {', '.join(EXAMPLES)}")
    p = _EXAMPLES_DIR / name / EXAMPLES[name]
    if not p.is_file():
        raise ExampleNotFoundError(
            f"the example spec {name}/{EXAMPLES[name]} is not installed (looked in "
            f"{_EXAMPLES_DIR}): the examples ship with the source repository, not with the "
            "package. Fix: clone the pfseval repository and install it from there "
            "(pip install -e <clone>), then run the command again; or run your own spec "
            "with `pfseval run SPEC --out DIR`"
        )
    return p
