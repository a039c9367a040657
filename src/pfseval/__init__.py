"""pfseval: evaluation of outcome-based (Pay For Success) health programmes in Japan.

Designs live in :mod:`pfseval.designs` (also importable as :mod:`pfseval.psm`,
:mod:`pfseval.rct`, :mod:`pfseval.prepost`, :mod:`pfseval.baseline`); every design returns an
:class:`~pfseval.result.Estimate`. Payments: :mod:`pfseval.payment`; data: :mod:`pfseval.io`;
synthetic data: :mod:`pfseval.synthetic`; batch runs: :mod:`pfseval.batch`; appendices:
:mod:`pfseval.report`.
"""

from importlib import import_module
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # pragma: no cover - for type checkers; at run time they load on first use
    from pfseval.errors import PfsevalError, PfsevalWarning
    from pfseval.messages import Message, Notice
    from pfseval.result import Estimate, SampleFlow

__all__ = [
    "Estimate",
    "Message",
    "Notice",
    "PfsevalError",
    "PfsevalWarning",
    "SampleFlow",
    "__version__",
]

# Lazy: `import pfseval` and `pfseval --help` stay well under 0.5 s because numpy, pandas and
# the statistics stack load only when a name that needs them is first used (PEP 562).
_LAZY = {
    "Estimate": "pfseval.result",
    "SampleFlow": "pfseval.result",
    "PfsevalError": "pfseval.errors",
    "PfsevalWarning": "pfseval.errors",
    "Message": "pfseval.messages",
    "Notice": "pfseval.messages",
}


def __getattr__(name: str) -> Any:
    if name == "__version__":
        from importlib.metadata import PackageNotFoundError, version

        try:
            value = version("pfseval")
        except PackageNotFoundError:  # pragma: no cover - running from a source tree
            value = "0.0.0+unknown"
    elif name in _LAZY:
        value = getattr(import_module(_LAZY[name]), name)
    else:
        raise AttributeError(f"module 'pfseval' has no attribute {name!r}")
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted({*globals(), *__all__})
