"""Short alias of :mod:`pfseval.designs.rct` (randomised trials).

Examples
--------
>>> import pfseval.rct as rct
>>> rct.compare is rct.__dict__["compare"]
True
"""

from pfseval.designs.rct import (
    ATTRITION_DIFFERENCE,
    ATTRITION_OVERALL,
    FEW_CLUSTERS,
    compare,
    permutation_test,
)

__all__ = [
    "ATTRITION_DIFFERENCE",
    "ATTRITION_OVERALL",
    "FEW_CLUSTERS",
    "compare",
    "permutation_test",
]
