"""Short alias of :mod:`pfseval.designs.baseline` (historical-baseline design)."""

from pfseval.designs.baseline import *  # noqa: F403  (the alias exposes exactly the design's public API)
from pfseval.designs.baseline import __all__ as __all__
