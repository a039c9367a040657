"""Sensitivity analysis: how strong unmeasured confounding would have to be.

- :func:`evalue_rr`, :func:`evalue_or`, :func:`evalue_smd`: E-values (VanderWeele & Ding 2017);
- :func:`signed_rank_bounds`, :func:`mcnemar_bounds`: Rosenbaum bounds for matched pairs;
- :func:`robustness_value`: robustness value and partial R² (Cinelli & Hazlett 2020);
- :func:`kobe_tipping_point`: the shift in participants' predicted change at which the Kobe
  indicator loses significance or its payment changes.

See ``docs/sensitivity.md``.
"""

from pfseval.sensitivity.evalue import (
    EValue,
    e_value,
    evalue_of,
    evalue_or,
    evalue_rr,
    evalue_smd,
)
from pfseval.sensitivity.regression import RobustnessValue, robustness_value
from pfseval.sensitivity.rosenbaum import (
    RosenbaumBounds,
    discordant_pairs,
    mcnemar_bounds,
    pair_differences,
    signed_rank_bounds,
)
from pfseval.sensitivity.tipping import (
    KobeSensitivity,
    TippingPoint,
    kobe_evalue,
    kobe_sensitivity,
    kobe_tipping_point,
)

__all__ = [
    "EValue",
    "KobeSensitivity",
    "RobustnessValue",
    "RosenbaumBounds",
    "TippingPoint",
    "discordant_pairs",
    "e_value",
    "evalue_of",
    "evalue_or",
    "evalue_rr",
    "evalue_smd",
    "kobe_evalue",
    "kobe_sensitivity",
    "kobe_tipping_point",
    "mcnemar_bounds",
    "pair_differences",
    "robustness_value",
    "signed_rank_bounds",
]
