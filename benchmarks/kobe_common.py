"""Shared helpers of the Kobe benchmarks: matching on the synthetic Kobe programme.

``pfseval.psm.match`` is used when it is available; otherwise (while it is being written)
a plain greedy 1:1 nearest-neighbour matching on a logistic propensity score stands in, so the
suppression-rate benchmarks can run on their own.
"""

from __future__ import annotations

from typing import Any

import numpy as np
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


def simple_match(data: pd.DataFrame, covariates: list[str]) -> Any:
    """Greedy 1:1 nearest-neighbour matching on the propensity score (no caliper).

    Treated units are matched in decreasing score order to the nearest still-available control
    (sorted search; used controls are skipped linearly, fine for a few % treated).
    """
    import statsmodels.api as sm

    from pfseval.designs.psm.matching import MatchedSample
    from pfseval.result import SampleFlow

    X = sm.add_constant(data[covariates].astype(float).to_numpy())
    tr = data["treated"].to_numpy()
    ps = np.asarray(sm.Logit(tr, X).fit(disp=0, method="newton").predict(X))
    t = np.flatnonzero(tr == 1)
    c = np.flatnonzero(tr == 0)
    order = np.argsort(ps[c], kind="stable")
    cs = ps[c][order]
    ids = data["person_id"].to_numpy()
    used = np.zeros(len(c), dtype=bool)
    pairs = []
    for i in t[np.argsort(-ps[t], kind="stable")]:
        j = int(np.searchsorted(cs, ps[i]))
        hi = j
        while hi < len(c) and used[hi]:
            hi += 1
        lo = j - 1
        while lo >= 0 and used[lo]:
            lo -= 1
        cand = [k for k in (lo, hi) if 0 <= k < len(c)]
        if not cand:
            break
        k = min(cand, key=lambda k: abs(cs[k] - ps[i]))
        used[k] = True
        pairs.append((ids[i], ids[c[order[k]]]))
    pairs_df = pd.DataFrame(pairs, columns=["treated_id", "control_id_1"], dtype=object)
    idx = pd.Index(ids)
    return MatchedSample(
        data=data,
        treatment="treated",
        id_col="person_id",
        covariates=tuple(covariates),
        distance=pd.Series(ps, index=idx),
        pairs=pairs_df,
        weights=pd.Series(1.0, index=idx),
        subclass=pd.Series(np.nan, index=idx),
        unmatched=pd.DataFrame({"treated_id": [], "reason": []}),
        balance=pd.DataFrame(),
        sample_flow=SampleFlow.start({"treated": len(t), "control": len(c)}),
    )


def match_kobe(data: pd.DataFrame, covariates: list[str] | None = None) -> tuple[Any, str]:
    """Match with ``pfseval.psm.match`` when it works, else :func:`simple_match`."""
    covs = list(covariates or COVARIATES)
    try:
        from pfseval.designs.psm.matching import match

        m = match(data, treatment="treated", covariates=covs, id_col="person_id")
        return m, "pfseval.psm.match (1:1 nearest neighbour, logit PS)"
    except NotImplementedError:
        return simple_match(data, covs), "stand-in greedy 1:1 NN on the PS (match() unfinished)"
