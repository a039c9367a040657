"""Exception and warning classes shared by every part of pfseval.

Every error a user can cause with bad input is a subclass of :class:`PfsevalError`, itself a
subclass of :class:`ValueError`, so ``except ValueError`` keeps working. Messages name the
column (or key path), the rows and the fix.

Warnings are recorded as data on results (``Estimate.warnings``) and are also issued through
:mod:`warnings` with one of the categories below, so that Jupyter users see them and batch
runs can filter them.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

__all__ = [
    "AttritionWarning",
    "BalanceWarning",
    "ColumnMissingError",
    "ContractError",
    "ConvergenceError",
    "DataProblem",
    "DataValidationError",
    "DesignError",
    "ExtrapolationWarning",
    "MatchingError",
    "OutputError",
    "PfsevalError",
    "PfsevalWarning",
    "SeparationError",
    "ShortSeriesWarning",
    "SmallSampleWarning",
    "SpecError",
    "format_rows",
]


def format_rows(rows: Iterable[Any], *, limit: int = 10) -> str:
    """Format row labels for an error message: the first ``limit`` and how many more.

    Examples
    --------
    >>> format_rows([3, 5, 8])
    '3, 5, 8'
    >>> format_rows(range(15), limit=3)
    '0, 1, 2 (+12 more)'
    """
    items = list(rows)
    shown = ", ".join(str(r) for r in items[:limit])
    if len(items) > limit:
        shown += f" (+{len(items) - limit} more)"
    return shown


class PfsevalError(ValueError):
    """Base class of every input error raised by pfseval."""


class ColumnMissingError(PfsevalError, KeyError):
    """A required column is absent from a data frame.

    Parameters
    ----------
    column
        The name of the missing column.
    available
        The columns that are present (shown in the message to help spot typos).
    context
        What needed the column (e.g. ``"psm.match(treatment=...)"``).
    """

    def __init__(self, column: str, available: Sequence[str] = (), *, context: str = "") -> None:
        self.column = column
        self.available = tuple(str(a) for a in available)
        where = f" (needed by {context})" if context else ""
        avail = f"; available columns: {', '.join(self.available)}" if self.available else ""
        super().__init__(
            f"column {column!r} is missing{where}{avail}. "
            "Fix: rename the column or pass a column mapping."
        )

    def __str__(self) -> str:  # KeyError would otherwise quote the message
        return str(self.args[0])


@dataclass(frozen=True)
class DataProblem:
    """One problem found while validating data.

    Attributes
    ----------
    column
        Column concerned (``""`` for problems about whole rows).
    kind
        Short machine-readable kind: ``"out_of_range"``, ``"wrong_type"``, ``"duplicate"``,
        ``"unknown_code"``, ``"missing"``, ``"missing_column"``, ...
    message
        Human-readable description including the fix.
    rows
        Row numbers (0-based positions in the input frame; files report 1-based data lines).
    values
        The offending values (same order as ``rows``; possibly truncated).
    expected
        What was expected (e.g. ``"60 ≤ sbp ≤ 260 mmHg"``).
    severity
        ``"error"`` or ``"warning"``.
    """

    column: str
    kind: str
    message: str
    rows: tuple[int, ...] = ()
    values: tuple[Any, ...] = ()
    expected: str = ""
    severity: str = "error"

    def __str__(self) -> str:
        col = f"column {self.column!r}: " if self.column else ""
        rows = f" rows {format_rows(self.rows)}" if self.rows else ""
        vals = f"; values {format_rows(self.values)}" if self.values else ""
        exp = f"; expected {self.expected}" if self.expected else ""
        return f"[{self.severity}] {col}{self.message}{rows}{vals}{exp}"


class DataValidationError(PfsevalError):
    """Data failed validation. ``problems`` lists every problem found, not just the first."""

    def __init__(self, problems: Sequence[DataProblem], *, source: str = "") -> None:
        self.problems = tuple(problems)
        self.source = source
        head = f"{source}: " if source else ""
        lines = [f"{head}{len(self.problems)} problem(s) found:"]
        lines += [f"  - {p}" for p in self.problems]
        super().__init__("\n".join(lines))


class DesignError(PfsevalError):
    """The data or options do not fit the evaluation design (e.g. one arm is empty)."""


class MatchingError(DesignError):
    """Propensity-score matching cannot proceed (e.g. no control within the caliper)."""


class SeparationError(MatchingError):
    """The propensity-score model shows (quasi-)complete separation.

    ``covariates`` names the covariate(s) responsible.
    """

    def __init__(self, message: str, *, covariates: Sequence[str] = ()) -> None:
        self.covariates = tuple(covariates)
        super().__init__(message)


class ConvergenceError(DesignError):
    """An iterative fit did not converge."""


class ContractError(PfsevalError):
    """A payment contract is malformed. The message names the key path.

    Parameters
    ----------
    key_path
        Location in the contract, e.g. ``"contract.component[2].schedule.steps[3]"``.
    message
        What is wrong and how to fix it.
    file
        The TOML file, when loaded from one.
    """

    def __init__(self, key_path: str, message: str, *, file: str = "") -> None:
        self.key_path = key_path
        self.file = file
        where = f"{file}: " if file else ""
        super().__init__(f"{where}{key_path}: {message}")


class SpecError(PfsevalError):
    """An evaluation spec is malformed. The message names file and key path."""

    def __init__(self, key_path: str, message: str, *, file: str = "") -> None:
        self.key_path = key_path
        self.file = file
        where = f"{file}: " if file else ""
        super().__init__(f"{where}{key_path}: {message}")


class OutputError(PfsevalError):
    """pfseval refuses to write an output folder (it would touch files it did not write).
    The message names the folder and the fix."""


# ---------------------------------------------------------------- warnings


class PfsevalWarning(UserWarning):
    """Base class of pfseval's warnings."""


class BalanceWarning(PfsevalWarning):
    """Covariate balance after matching is inadequate (e.g. |SMD| > 0.1)."""


class SmallSampleWarning(PfsevalWarning):
    """Too few units for the method to be reliable."""


class ExtrapolationWarning(PfsevalWarning):
    """Predictions are made outside the range of the data the model was fitted on."""


class AttritionWarning(PfsevalWarning):
    """Follow-up data are missing, or missing differently by arm."""


class ShortSeriesWarning(PfsevalWarning):
    """A historical series is too short for the requested baseline model."""
