"""Short alias of :mod:`pfseval.designs.prepost` (pre/post design)."""

from pfseval.designs.prepost import *  # noqa: F403  (the alias exposes exactly the design's public API)
from pfseval.designs.prepost import __all__ as __all__
