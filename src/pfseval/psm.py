"""Short alias of :mod:`pfseval.designs.psm`: ``from pfseval import psm; psm.match(...)``."""

from pfseval.designs.psm import (
    CovariateDesign,
    MatchedSample,
    MatchingDataError,
    PropensityModel,
    UnmatchedWarning,
    att,
    balance_table,
    covariate_design,
    fit_propensity,
    greedy_match,
    love_plot,
    match,
    overlap_plot,
    suppression_plot,
    suppression_rate,
)

__all__ = [
    "CovariateDesign",
    "MatchedSample",
    "MatchingDataError",
    "PropensityModel",
    "UnmatchedWarning",
    "att",
    "balance_table",
    "covariate_design",
    "fit_propensity",
    "greedy_match",
    "love_plot",
    "match",
    "overlap_plot",
    "suppression_plot",
    "suppression_rate",
]
