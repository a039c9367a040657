"""Notices of the payment engine, as data (codes in the message catalogue, ja and en).

No count here is a count of people: indicator ids, bases, amounts and numbers of draws are
parameters, so disclosure control leaves them as they are.

Examples
--------
>>> point_for_bound("screened", "conf_low").text("ja")
'指標「screened」は信頼区間のない数値として与えられたため、基準 conf_low にもその値をそのまま用いました。'
"""

from __future__ import annotations

from pfseval.errors import PfsevalWarning
from pfseval.messages import Notice, declare_messages

__all__ = ["draws_dropped", "held_fixed", "negative_subtotal", "point_draws", "point_for_bound"]

declare_messages(
    {
        "payment.point_for_bound": {
            "en": "indicator {indicator!r} was supplied as a number without a confidence "
            "interval; it is used as is for basis {basis!r}.",
            "ja": "指標「{indicator}」は信頼区間のない数値として与えられたため、基準 {basis} にも"
            "その値をそのまま用いました。",
        },
        "payment.negative_subtotal": {
            "en": "the payments add up to {subtotal} {unit} (deductions exceed payments); "
            "the amount paid is 0.",
            "ja": "支払額の合計が{subtotal}{unit}（減額が支払を上回る）となるため、支払額は0です。",
        },
        "payment.draws_dropped": {
            "en": "{n_dropped} of {n_draws} draws had a missing indicator value and were excluded.",
            "ja": "{n_draws}回の抽出のうち{n_dropped}回は指標値が欠けていたため除きました。",
        },
        "payment.point_draws": {
            "en": "component {component!r} pays on {basis}; each draw is used as the value "
            "(draws describe the point estimate).",
            "ja": "支払項目「{component}」は基準 {basis} で支払いますが、各抽出値をそのまま値として"
            "用いました（抽出は点推定値のばらつきを表します）。",
        },
        "payment.held_fixed": {
            "en": "indicator {indicator!r} has no draws and is held at {value:g}.",
            "ja": "指標「{indicator}」には抽出がないため、値を{value:g}に固定しました。",
        },
    }
)


def _notice(code: str, **params: object) -> Notice:
    # payment notices mention no count of people: every value is a parameter
    return Notice(f"payment.{code}", params=params, category=PfsevalWarning)


def point_for_bound(indicator: str, basis: str) -> Notice:
    """A number without an interval used where the contract pays on an interval bound."""
    return _notice("point_for_bound", indicator=indicator, basis=basis)


def negative_subtotal(subtotal: str, unit: str) -> Notice:
    """Deductions exceed payments (``subtotal`` as formatted money)."""
    return _notice("negative_subtotal", subtotal=subtotal, unit=unit)


def draws_dropped(n_dropped: int, n_draws: int) -> Notice:
    """Draws with a missing indicator value were excluded (draws are not people)."""
    return _notice("draws_dropped", n_dropped=n_dropped, n_draws=n_draws)


def point_draws(component: str, basis: str) -> Notice:
    """A component paying on a bound gets the draws of the point estimate."""
    return _notice("point_draws", component=component, basis=basis)


def held_fixed(indicator: str, value: float) -> Notice:
    """An indicator without draws is held at its value."""
    return _notice("held_fixed", indicator=indicator, value=float(value))
