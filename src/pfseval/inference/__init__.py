"""Shared inference: interval formulas, robust variances and the bootstrap.

Every design draws on these; nothing here knows about a particular design.
"""

from pfseval.inference.bootstrap import bootstrap_draws, percentile_interval
from pfseval.inference.permutation import (
    count_assignments,
    iter_assignments,
    permutation_p_value,
    shift_interval,
)
from pfseval.inference.proportions import clopper_pearson, newcombe_diff, wilson
from pfseval.inference.variance import cluster_robust_vcov, hc_vcov, t_interval

__all__ = [
    "bootstrap_draws",
    "clopper_pearson",
    "cluster_robust_vcov",
    "count_assignments",
    "hc_vcov",
    "iter_assignments",
    "newcombe_diff",
    "percentile_interval",
    "permutation_p_value",
    "shift_interval",
    "t_interval",
    "wilson",
]
