"""Payment engine: contracts as data, payments under uncertainty, contract design.

Load a contract with :meth:`Contract.from_toml`, apply it with :meth:`Contract.evaluate`
(a :class:`PaymentResult` with breakdown and audit trail), see the payment at the CI bounds
(:func:`payment_at_bounds`) and over bootstrap draws (:func:`payment_distribution`), and
simulate a contract before signing (:func:`simulate_contract`).
"""

from pfseval.payment.contract import BASES, UNITS, Component, Contract, FixedPayment
from pfseval.payment.design import (
    proportion_indicator,
    simulate_contract,
    suppression_rate_indicator,
)
from pfseval.payment.plots import payment_curve
from pfseval.payment.result import PaymentResult
from pfseval.payment.schedules import (
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

__all__ = [
    "BASES",
    "SCHEDULE_TYPES",
    "UNITS",
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
    "payment_at_bounds",
    "payment_curve",
    "payment_distribution",
    "proportion_indicator",
    "round_amounts",
    "simulate_contract",
    "suppression_rate_indicator",
]
