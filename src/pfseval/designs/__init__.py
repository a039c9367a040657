"""The four evaluation designs of the MHLW/METI guidance, one module each.

- :mod:`pfseval.designs.rct`: randomised comparison.
- :mod:`pfseval.designs.psm`: propensity-score matching and the Kobe regression-prediction
  indicator.
- :mod:`pfseval.designs.baseline`: comparison with past years (historical baseline).
- :mod:`pfseval.designs.prepost`: the same people before and after.
"""
