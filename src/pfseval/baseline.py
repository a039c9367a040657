"""Short alias of :mod:`pfseval.designs.baseline` (historical-baseline design)."""

from pfseval.designs.baseline import METHODS, compare, compare_many, median_variance_factor

__all__ = ["METHODS", "compare", "compare_many", "median_variance_factor"]
