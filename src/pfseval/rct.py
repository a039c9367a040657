"""Short alias of :mod:`pfseval.designs.rct` (randomised trials).

Examples
--------
>>> import pfseval.rct as rct
>>> rct.compare is rct.__dict__["compare"]
True
"""

from pfseval.designs.rct import *  # noqa: F403  (the alias exposes exactly the design's public API)
from pfseval.designs.rct import __all__ as __all__
