"""The disclosure policy of a publication (``[report.disclosure]`` in a spec), as data.

The minimum cell, the protection level, which counts are key denominators (published whenever
the auditor allows), which declared counts are not counts of people, whether the indicators'
estimates are always published, and the costs the secondary-suppression search weighs.

Examples
--------
>>> p = DisclosurePolicy()
>>> p.min_cell, p.protection_level, p.key_counts
(10, 8.0, ('participants', 'matched', 'analysed'))
>>> DisclosurePolicy(min_cell=5, protection=2).protection_level
2.0
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType

__all__ = ["COSTS", "KEY_COUNTS", "DisclosurePolicy"]

#: The key denominators a policy may name.
KEY_COUNTS = ("participants", "matched", "analysed")

#: Default costs of hiding an item: a key denominator, any other count of people, a value
#: derived from counts (a diagnostic rate, degrees of freedom), a related estimate.
COSTS: Mapping[str, float] = MappingProxyType(
    {"key_count": 100.0, "count": 1.0, "value": 2.0, "related": 20.0}
)


def _costs() -> Mapping[str, float]:
    return MappingProxyType(dict(COSTS))


@dataclass(frozen=True)
class DisclosurePolicy:
    """What may be published, as data (the spec's ``[report.disclosure]``).

    Attributes
    ----------
    min_cell
        Counts of people 1 … ``min_cell − 1`` are hidden (``<min_cell``); zero is shown.
    protection
        The width of the interval a reader must be left with for every hidden small count;
        ``None``: ``min_cell − 2``, the whole range 1 … ``min_cell − 1``.
    key_counts
        Counts published whenever the auditor says it is safe (a high cost of hiding):
        ``participants`` (a design's treated input), ``matched`` (matched participants) and
        ``analysed`` (every indicator's n).
    not_sensitive
        Names of declared diagnostics that are not counts of people in this evaluation
        (shown as they are).
    publish_estimates
        The indicators' estimates and intervals are always published (the contract pays on
        them) unless computed from fewer than ``min_cell`` people; a small count they give
        back on their own is reported, not hidden by hiding other numbers.
    costs
        Costs of hiding: ``key_count``, ``count``, ``value``, ``related`` (see :data:`COSTS`).
    """

    min_cell: int = 10
    protection: float | None = None
    key_counts: tuple[str, ...] = KEY_COUNTS
    not_sensitive: tuple[str, ...] = ()
    publish_estimates: bool = True
    costs: Mapping[str, float] = field(default_factory=_costs)

    def __post_init__(self) -> None:
        if self.min_cell < 1:
            raise ValueError(f"min_cell must be at least 1, got {self.min_cell}")
        object.__setattr__(self, "costs", MappingProxyType({**COSTS, **dict(self.costs)}))

    @property
    def protection_level(self) -> float:
        """The protection level in force."""
        return float(self.min_cell - 2 if self.protection is None else self.protection)

    def cost(self, what: str) -> float:
        return float(self.costs[what])
