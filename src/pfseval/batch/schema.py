"""The ``results.json`` schema version and the package-version record.

The schema is documented in ``docs/results_schema.md``. ``SCHEMA_VERSION`` follows
``MAJOR.MINOR``: a new optional field raises MINOR; removing or renaming a field, or changing
its meaning, raises MAJOR.
"""

from __future__ import annotations

import platform
from importlib.metadata import PackageNotFoundError, version

__all__ = ["REQUIRED_KEYS", "SCHEMA_VERSION", "package_versions"]

SCHEMA_VERSION = "2.1"

#: Top-level keys every ``results.json`` has.
REQUIRED_KEYS = (
    "schema_version",
    "evaluation",
    "report",
    "indicators",
    "payment",
    "sample_flow",
    "notices",
    "sensitivity",
    "designs",
    "diagnostics",
    "provenance",
)

_PACKAGES = (
    "pfseval",
    "numpy",
    "pandas",
    "scipy",
    "statsmodels",
    "scikit-learn",
    "matplotlib",
    "jinja2",
    "openpyxl",
    "python-docx",
)


def package_versions() -> dict[str, str]:
    """Versions of Python and of the packages a run depends on.

    Examples
    --------
    >>> v = package_versions()
    >>> "python" in v and "numpy" in v
    True
    """
    out = {"python": platform.python_version()}
    for p in _PACKAGES:
        try:
            out[p] = version(p)
        except PackageNotFoundError:  # pragma: no cover - all are dependencies
            out[p] = "not installed"
    return out
