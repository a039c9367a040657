"""Shared helpers of the Kobe benchmarks: matching on the synthetic Kobe programme."""

from __future__ import annotations

from typing import Any

import pandas as pd

COVARIATES = [
    "age",
    "sex",
    "bmi",
    "sbp",
    "dbp",
    "hba1c",
    "fpg",
    "egfr",
    "urine_protein",
    "med_bp",
    "med_glucose",
    "smoking",
]


def match_kobe(data: pd.DataFrame, covariates: list[str] | None = None) -> tuple[Any, str]:
    """1:1 nearest-neighbour matching on the logit propensity score (``pfseval.psm.match``)."""
    from pfseval.designs.psm.matching import match

    covs = list(covariates or COVARIATES)
    m = match(data, treatment="treated", covariates=covs, id_col="person_id")
    return m, "pfseval.psm.match (1:1 nearest neighbour, logit PS, no caliper)"
