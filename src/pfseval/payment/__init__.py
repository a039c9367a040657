"""Payment engine: contracts as data, payments under uncertainty, contract design.

Load a contract with :meth:`Contract.from_toml`, apply it with :meth:`Contract.evaluate`
(a :class:`PaymentResult` with breakdown and audit trail), see the payment at the CI bounds
(:func:`payment_at_bounds`) and over bootstrap draws (:func:`payment_distribution`), and
simulate a contract before signing (:func:`simulate_contract`) or assess a draft with the
workbench (:func:`draft_contract`, :func:`assess`, :func:`participants_needed`). Allocation
schemes (national incentive grants) divide a budget by score × weight
(:class:`AllocationScheme`); :func:`explorer_html` writes a self-contained contract explorer
page and :func:`to_indigo` exports a payment to the INDIGO data standard.
"""

from pfseval.payment.allocation import (
    Allocation,
    AllocationError,
    AllocationScheme,
    largest_remainder,
)
from pfseval.payment.contract import BASES, KINDS, UNITS, Component, Contract, FixedPayment
from pfseval.payment.design import (
    proportion_indicator,
    simulate_contract,
    suppression_rate_indicator,
)
from pfseval.payment.explorer import explorer_html
from pfseval.payment.indigo import to_indigo
from pfseval.payment.plots import payment_curve
from pfseval.payment.result import PaymentResult
from pfseval.payment.schedules import (
    DIRECTIONS,
    SCHEDULE_TYPES,
    Band,
    Interpolate,
    PassFail,
    PerUnit,
    Proportional,
    Schedule,
    Step,
    round_amounts,
)
from pfseval.payment.uncertainty import (
    PaymentDistribution,
    payment_at_bounds,
    payment_distribution,
)
from pfseval.payment.workbench import Assessment, assess, draft_contract, participants_needed

__all__ = [
    "BASES",
    "DIRECTIONS",
    "KINDS",
    "SCHEDULE_TYPES",
    "UNITS",
    "Allocation",
    "AllocationError",
    "AllocationScheme",
    "Assessment",
    "Band",
    "Component",
    "Contract",
    "FixedPayment",
    "Interpolate",
    "PassFail",
    "PaymentDistribution",
    "PaymentResult",
    "PerUnit",
    "Proportional",
    "Schedule",
    "Step",
    "assess",
    "draft_contract",
    "explorer_html",
    "largest_remainder",
    "participants_needed",
    "payment_at_bounds",
    "payment_curve",
    "payment_distribution",
    "proportion_indicator",
    "round_amounts",
    "simulate_contract",
    "suppression_rate_indicator",
    "to_indigo",
]
