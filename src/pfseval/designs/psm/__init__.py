"""Propensity-score matching at MatchIt parity, balance diagnostics and the ATT.

Matching is separate from effect estimation: :func:`match` returns a :class:`MatchedSample`
whose balance can be inspected before any outcome is used; :func:`att` and the Kobe
indicator :func:`suppression_rate` take it.
"""

from pfseval.designs.psm import specs as specs  # the contract: options, texts, messages
from pfseval.designs.psm.balance import balance_report, balance_table, expand_terms
from pfseval.designs.psm.effects import att
from pfseval.designs.psm.gcomp import marginal_effect
from pfseval.designs.psm.kobe import suppression_plot, suppression_rate
from pfseval.designs.psm.matching import (
    MatchedSample,
    MatchingDataError,
    UnmatchedWarning,
    greedy_match,
    match,
)
from pfseval.designs.psm.nearest import nearest_match, variable_ratios
from pfseval.designs.psm.optimal import optimal_match
from pfseval.designs.psm.plots import love_plot, overlap_plot
from pfseval.designs.psm.score import (
    CovariateDesign,
    PropensityModel,
    covariate_design,
    fit_propensity,
)
from pfseval.designs.psm.weighting import aipw, ipw, weighting_check

__all__ = [
    "CovariateDesign",
    "MatchedSample",
    "MatchingDataError",
    "PropensityModel",
    "UnmatchedWarning",
    "aipw",
    "att",
    "balance_report",
    "balance_table",
    "covariate_design",
    "expand_terms",
    "fit_propensity",
    "greedy_match",
    "ipw",
    "love_plot",
    "marginal_effect",
    "match",
    "nearest_match",
    "optimal_match",
    "overlap_plot",
    "suppression_plot",
    "suppression_rate",
    "variable_ratios",
    "weighting_check",
]
