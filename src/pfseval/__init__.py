"""pfseval: evaluation of outcome-based (Pay For Success) health programmes in Japan.

Designs live in :mod:`pfseval.designs` (also importable as :mod:`pfseval.psm`,
:mod:`pfseval.rct`, :mod:`pfseval.prepost`, :mod:`pfseval.baseline`); every design returns an
:class:`~pfseval.result.Estimate`. Payments: :mod:`pfseval.payment`; data: :mod:`pfseval.io`;
synthetic data: :mod:`pfseval.synthetic`; batch runs: :mod:`pfseval.batch`; appendices:
:mod:`pfseval.report`.
"""

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("pfseval")
except PackageNotFoundError:  # pragma: no cover - running from a source tree
    __version__ = "0.0.0+unknown"

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
