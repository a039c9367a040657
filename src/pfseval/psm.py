"""Short alias of :mod:`pfseval.designs.psm`: ``from pfseval import psm; psm.match(...)``."""

from pfseval.designs.psm import *  # noqa: F403  (the alias exposes exactly the design's public API)
from pfseval.designs.psm import __all__ as __all__
