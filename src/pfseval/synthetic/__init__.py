"""Synthetic data: a municipality's health-check population and one dataset per design.

Every generator is deterministic for a ``seed`` and records the true effect and the
data-generating parameters in :attr:`SyntheticDataset.truth`, so estimators can be checked
against the truth (coverage simulations, tests, tutorials).

* :func:`population` — NHI members' 特定健診 records over fiscal years (long format);
* :func:`kobe_programme` (matching; stand-alone and fast) and :func:`kobe_from_population`
  (the same programme inside a synthetic municipality, for batch runs);
* :func:`randomised_trial` (RCT: individual, cluster, waitlist);
* :func:`prepost_questionnaire` (pre/post, with regression to the mean);
* :func:`screening_series` (historical baseline, with an external trend);
* :func:`write_all` writes everything with a ``metadata.json`` of the truths.
"""

from pfseval.synthetic._common import GENERATOR_VERSION, SyntheticDataset, SyntheticOptionError
from pfseval.synthetic.kobe import (
    OUTCOME_COEF,
    PARTICIPATION_COEF,
    POOL_DEFINITION,
    candidate_pool,
    kobe_from_population,
    kobe_programme,
)
from pfseval.synthetic.population import POPULATION_COLUMNS, population
from pfseval.synthetic.prepost import prepost_questionnaire
from pfseval.synthetic.rct import randomised_trial
from pfseval.synthetic.screening import screening_series
from pfseval.synthetic.writer import japanese_headers, write_all

__all__ = [
    "GENERATOR_VERSION",
    "OUTCOME_COEF",
    "PARTICIPATION_COEF",
    "POOL_DEFINITION",
    "POPULATION_COLUMNS",
    "SyntheticDataset",
    "SyntheticOptionError",
    "candidate_pool",
    "japanese_headers",
    "kobe_from_population",
    "kobe_programme",
    "population",
    "prepost_questionnaire",
    "randomised_trial",
    "screening_series",
    "write_all",
]
