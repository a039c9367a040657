"""Export a payment to the INDIGO data standard (Oxford Government Outcomes Lab).

INDIGO (International Network for Data on Impact and Government Outcomes) publishes a JSON
schema for impact-bond projects (``schema/project.json`` of
github.com/INDIGO-Initiative/indigo-data-standard). Every field there is an object with a
``value`` (and optionally a ``status``). :func:`to_indigo` maps a :class:`PaymentResult` onto
the parts of a project that describe outcome payments:

* ``outcome_metrics``: one per outcome-linked component (id = indicator id, definition = the
  component's label, target = its schedule written out);
* ``outcome_payments``: one ``Actual`` payment per component, in yen;
* ``overall_project_finance``: the contract cap as the maximum potential outcome payment and the
  outcome payments made; fixed payments are not outcome payments and are stated in ``notes``.

Amounts are converted to yen (``JPY``) from the contract's unit.
"""

from __future__ import annotations

from typing import Any

from pfseval.payment.contract import UNITS
from pfseval.payment.result import PaymentResult
from pfseval.payment.schedules import fmt_amount

__all__ = ["to_indigo"]


def _v(value: Any) -> dict[str, Any]:
    return {"value": value}


def to_indigo(
    result: PaymentResult,
    *,
    period: tuple[str, str] | None = None,
    status: str = "PUBLIC",
) -> dict[str, Any]:
    """The payment as an INDIGO project document (a JSON-ready dict).

    Parameters
    ----------
    result
        A payment from :meth:`Contract.evaluate`.
    period
        Optional ``(start, end)`` dates of the claim period, ``YYYY``, ``YYYY-MM`` or
        ``YYYY-MM-DD``.
    status
        INDIGO publication status of the record (``PUBLIC``, ``PRIVATE`` or ``DISPUTED``).

    Examples
    --------
    >>> from pfseval.payment import Contract
    >>> c = Contract.from_toml("examples/contracts/urasoe.toml")
    >>> doc = to_indigo(c.evaluate({"additional_screened": 921}))
    >>> doc["outcome_payments"][0]["money"]["amount"]
    {'value': 5000000}
    """
    if status not in ("PUBLIC", "PRIVATE", "DISPUTED"):
        raise ValueError(f"status must be PUBLIC, PRIVATE or DISPUTED, got {status!r}")
    c = result.contract
    yen = UNITS[result.unit]
    metrics: list[dict[str, Any]] = []
    payments: list[dict[str, Any]] = []
    for row in result.rows:
        if row["kind"] != "outcome":
            continue
        comp = c.components[c.component_index(row["label"])] if c is not None else None
        target = (
            "; ".join(f"{k} = {v}" for k, v in comp.schedule.to_dict().items())
            + (f"; direction = {comp.direction}" if comp.direction != "higher" else "")
            if comp is not None
            else ""
        )
        metrics.append(
            {
                "id": row["indicator"],
                "definition": _v(row["label"]),
                "outcome_metric_target": _v(target),
                "notes": f"value used: {fmt_amount(row['value'])} ({row['basis']}); "
                f"step: {row['step']}",
            }
        )
        pay: dict[str, Any] = {
            "outcome_metric_id": _v(row["indicator"]),
            "type": _v("Actual"),
            "money": {
                "currency": _v("JPY"),
                "amount": _v(_yen(row["amount_rounded"], yen)),
            },
            "status": status,
        }
        if period is not None:
            pay["period"] = {"start_date": _v(period[0]), "end_date": _v(period[1])}
        payments.append(pay)
    finance: dict[str, Any] = {
        "total_outcome_payments_made": {
            "currency": _v("JPY"),
            "amount": _v(_yen(result.total - result.fixed, yen)),
        }
    }
    if result.cap is not None:
        finance["maximum_potential_outcome_payment_v2"] = {
            "currency": _v("JPY"),
            "amount": _v(_yen(result.cap, yen)),
        }
    return {
        "status": status,
        "name": _v(result.contract_name),
        "overall_project_finance": finance,
        "outcome_metrics": metrics,
        "outcome_payments": payments,
        "notes": _v(
            f"Exported by pfseval. Total paid {fmt_amount(result.total)} {result.unit}, of which "
            f"fixed payments {fmt_amount(result.fixed)} {result.unit} (not outcome payments)."
        ),
    }


def _yen(amount: float, factor: int) -> int | float:
    y = round(amount * factor, 6)
    return int(y) if float(y).is_integer() else y
