"""Shared inference: interval formulas, robust variances and the bootstrap.

Every design draws on these; nothing here knows about a particular design.
"""

from pfseval.inference.bootstrap import bootstrap_draws, percentile_interval
from pfseval.inference.cr2 import cr2_variance
from pfseval.inference.lstsq import LeastSquaresFit, least_squares
from pfseval.inference.paired import McNemarResult, mcnemar_test, newcombe_paired
from pfseval.inference.permutation import (
    count_assignments,
    iter_assignments,
    permutation_p_value,
    shift_interval,
)
from pfseval.inference.proportions import clopper_pearson, newcombe_diff, wilson
from pfseval.inference.signrank import SignRankResult, hodges_lehmann, signrank_test
from pfseval.inference.variance import cluster_robust_vcov, hc_vcov, t_interval

__all__ = [
    "LeastSquaresFit",
    "McNemarResult",
    "SignRankResult",
    "bootstrap_draws",
    "clopper_pearson",
    "cluster_robust_vcov",
    "count_assignments",
    "cr2_variance",
    "hc_vcov",
    "hodges_lehmann",
    "iter_assignments",
    "least_squares",
    "mcnemar_test",
    "newcombe_diff",
    "newcombe_paired",
    "percentile_interval",
    "permutation_p_value",
    "shift_interval",
    "signrank_test",
    "t_interval",
    "wilson",
]
