"""The contract explorer: one self-contained HTML page to play with a contract.

:func:`explorer_html` writes the contract (as data) and, optionally, the indicator estimates of
a ``results.json`` into a page with a slider per indicator, each component's payment curve with
the current value, the total against the cap and, with estimates, the payment at the CI bounds.
The page has no server and loads nothing from the network; its script applies the same rules,
in the same order, as :meth:`Contract.evaluate` (values read at ``value_decimals`` or 12
significant digits, schedule, component limits, rounding, cap). The test suite drives it in
headless Chromium and compares the totals with :meth:`Contract.evaluate`.
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping
from importlib import resources
from pathlib import Path
from typing import Any

from pfseval.errors import ContractError
from pfseval.payment.contract import Component, Contract
from pfseval.payment.schedules import PerUnit
from pfseval.result import Estimate

__all__ = ["estimates_from_results", "explorer_html", "slider_range"]

_PLACEHOLDER = "/*PFSEVAL_DATA*/"


def _nice_step(span: float) -> float:
    """A round step near span / 1000 (a power of ten)."""
    if span <= 0 or not math.isfinite(span):
        return 1.0
    return float(10 ** math.floor(math.log10(span / 1000)))


def slider_range(
    comp: Component, estimate: Mapping[str, float | None] | None = None
) -> dict[str, float]:
    """``min``, ``max``, ``step`` and the starting ``value`` of a component's slider.

    Proportions (declared, or a schedule written in [0, 1]) run from 0 to 1 in steps of 0.001;
    other indicators span the schedule's thresholds with a margin; counts and whole units move
    in whole steps. The slider starts at the estimate when one is given, else at the value
    from which the schedule pays in full.

    Examples
    --------
    >>> c = Contract.from_toml("examples/contracts/kobe.toml")
    >>> slider_range(c.components[2], {"value": 0.329})
    {'min': 0.0, 'max': 1.0, 'step': 0.001, 'value': 0.329}
    """
    knots = list(comp.schedule.knots())
    est = [v for v in (estimate or {}).values() if v is not None and math.isfinite(v)]
    if comp.kind == "proportion" or all(0 <= k <= 1 for k in knots + est):
        lo, hi, step = 0.0, 1.0, 0.001
    else:
        pts = knots + est
        lo = min(0.0, *pts)
        hi = max(pts) * 1.25 if max(pts) > 0 else max(pts) + 1.0
        whole = comp.kind == "count" or (
            isinstance(comp.schedule, PerUnit) and comp.schedule.whole_units
        )
        step = 1.0 if whole else _nice_step(hi - lo)
        lo, hi = math.floor(lo / step) * step, math.ceil(hi / step) * step
    start = (estimate or {}).get("value")
    if start is None or not math.isfinite(start):
        fv = comp.schedule.full_value()
        start = fv if fv is not None else (lo + hi) / 2
    start = min(max(start, lo), hi)
    return {"min": lo, "max": hi, "step": step, "value": round(start / step) * step}


def _estimate_dict(e: Estimate | Mapping[str, Any] | float) -> dict[str, float | None]:
    if isinstance(e, Estimate):
        return {"value": e.value, "conf_low": e.conf_low, "conf_high": e.conf_high}
    if isinstance(e, Mapping):
        return {
            k: (None if e.get(k) is None else float(e[k]))
            for k in ("value", "conf_low", "conf_high")
        }
    return {"value": float(e), "conf_low": None, "conf_high": None}


def estimates_from_results(path: str | Path) -> dict[str, dict[str, float | None]]:
    """Indicator id → ``{value, conf_low, conf_high}`` from a ``results.json``."""
    p = Path(path)
    try:
        doc = json.loads(p.read_text(encoding="utf-8"))
        inds = doc["indicators"]
        return {str(k): _estimate_dict(v) for k, v in inds.items()}
    except (OSError, ValueError, KeyError, TypeError) as e:
        raise ContractError(
            "indicators",
            f"cannot read indicator estimates from {p.name} ({type(e).__name__}). "
            "Fix: give a results.json written by `pfseval run`.",
            file=str(p),
        ) from e


def explorer_html(
    contract: Contract,
    *,
    estimates: Mapping[str, Estimate | Mapping[str, Any] | float] | None = None,
) -> str:
    """The explorer page for a contract, as one HTML string (no external resources).

    Examples
    --------
    >>> c = Contract.from_toml("examples/contracts/urasoe.toml")
    >>> page = explorer_html(c, estimates={"additional_screened": 921})
    >>> "<script src" in page, "http" in page.split("<script id")[1]
    (False, False)
    """
    est = {k: _estimate_dict(v) for k, v in (estimates or {}).items()}
    data = {
        "contract": contract.to_dict()["contract"],
        "sliders": [slider_range(c, est.get(c.indicator)) for c in contract.components],
        "estimates": {
            c.indicator: est[c.indicator] for c in contract.components if c.indicator in est
        },
    }
    # "</" inside a script element would end it; JSON allows "<\/" for "</"
    payload = json.dumps(data, ensure_ascii=False, allow_nan=False).replace("</", "<\\/")
    template = resources.files("pfseval.payment").joinpath("templates/explorer.html")
    return template.read_text(encoding="utf-8").replace(_PLACEHOLDER, payload)
