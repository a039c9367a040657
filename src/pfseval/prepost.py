"""Short alias of :mod:`pfseval.designs.prepost` (pre/post design)."""

from pfseval.designs.prepost import (
    RegressionToMeanWarning,
    SignRankResult,
    compare,
    count_total,
    hodges_lehmann,
    newcombe_paired,
    paired_proportions,
    share_improved,
    signrank_test,
)

__all__ = [
    "RegressionToMeanWarning",
    "SignRankResult",
    "compare",
    "count_total",
    "hodges_lehmann",
    "newcombe_paired",
    "paired_proportions",
    "share_improved",
    "signrank_test",
]
