"""A document's counts as one :class:`pfseval.sdc.Publication`, and the auditor's verdict on them.

The report registers every count it shows in a :class:`~pfseval.report.disclosure.CountLedger`
(cells, additive relations, which counts are hidden). This module hands the same cells and
relations, plus the rates the document prints next to them, to the linear-programming auditor of
:mod:`pfseval.sdc`, which computes for every hidden small count the interval of values a reader
can deduce from everything shown. It is the check the attack tests run over whole documents.

What a reader is assumed to know: every shown count, every additive relation (a flow step:
before = excluded + remaining), that ``<min_cell`` is 1 … min_cell − 1 and ``*`` at least
min_cell, that counts are whole numbers, and every rate with the digits it is shown to.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from pfseval.report.disclosure import CountLedger
from pfseval.sdc import AuditFinding, Publication, audit

__all__ = ["ShownRate", "audit_ledger", "ledger_publication"]


@dataclass(frozen=True)
class ShownRate:
    """A rate the document prints: ``scale · numerator / denominator`` to ``decimals`` decimals.

    ``numerator`` and ``denominator`` are ledger keys (72.1% is ``scale=100, decimals=1``).
    """

    numerator: str
    denominator: str
    decimals: int
    scale: float = 1.0


def _cell(led: CountLedger, key: str) -> str:
    """The publication's name of a ledger count (aliases share one cell)."""
    return f"c{led._keys[key]}"


def ledger_publication(
    led: CountLedger, *, rates: Sequence[ShownRate] = ()
) -> tuple[Publication, dict[str, str]]:
    """The ledger's counts, relations and ``rates`` as a publication, with the hidden pattern.

    Returns
    -------
    tuple
        The :class:`~pfseval.sdc.Publication` (cell ``c<i>`` per distinct count) and the hidden
        cells → ``"primary"`` (shown as ``<min_cell``) or ``"secondary"`` (shown as ``*``).

    Examples
    --------
    >>> led = CountLedger(min_cell=10)
    >>> for k, v in [("input", 120), ("excluded", 3), ("analysed", 117)]:
    ...     _ = led.add(k, v)
    >>> led.relate("input", ["excluded", "analysed"])
    >>> pub, hidden = ledger_publication(led)
    >>> sorted(hidden.items())
    [('c1', 'primary'), ('c2', 'secondary')]
    """
    pub = Publication(min_cell=led.min_cell)
    hidden: dict[str, str] = {}
    if led._hidden is None:
        led.solve()
    mask = led._hidden
    assert mask is not None
    for i, (v, exempt) in enumerate(zip(led._values, led._exempt, strict=True)):
        key = f"c{i}"
        is_hidden = not exempt and bool(mask[i])
        small = not exempt and 0 < v < led.min_cell
        # a hidden zero tells the reader "at least min_cell" wrongly; audit it as a plain
        # unknown count (not sensitive: no lower bound), never as a small one
        pub.cell(key, round(v), sensitive=not exempt and v > 0, fixed=exempt)
        if is_hidden:
            hidden[key] = "primary" if small else "secondary"
    for tot, parts in led._relations:
        coefs: dict[str, float] = {f"c{tot}": 1.0}
        for q in parts:
            coefs[f"c{q}"] = coefs.get(f"c{q}", 0.0) - 1.0
        if any(abs(c) > 0 for c in coefs.values()):
            pub.identity(coefs)
    for k, r in enumerate(rates):
        den = _cell(led, r.denominator)
        if pub.cells[den].value == 0:
            continue
        pub.ratio(f"rate{k}", _cell(led, r.numerator), den, decimals=r.decimals, scale=r.scale)
    return pub, hidden


def audit_ledger(
    led: CountLedger,
    *,
    rates: Sequence[ShownRate] = (),
    protection: float | None = None,
) -> dict[str, AuditFinding]:
    """Hidden small counts a reader can narrow below ``protection`` (empty when safe).

    ``protection`` defaults to ``min_cell − 2``: a reader must be left with the whole range
    1 … min_cell − 1 that ``<min_cell`` already says.

    Examples
    --------
    A flow with a small exclusion: the additive rules hide a complement, and the auditor agrees.
    Print the completion rate next to it to one decimal, and the shown 104 with 91.3% gives the
    hidden 9 back (a rate the ledger does not know of):

    >>> led = CountLedger(min_cell=10)
    >>> for k, v in [("input", 104), ("no", 9), ("yes", 95)]:
    ...     _ = led.add(k, v)
    >>> led.relate("input", ["no", "yes"])
    >>> led.solve()
    >>> [led.show(k) for k in ("input", "no", "yes")]
    ['104', '<10', '*']
    >>> audit_ledger(led)
    {}
    >>> f = audit_ledger(led, rates=[ShownRate("yes", "input", decimals=1, scale=100)])
    >>> [(x.value, x.low, x.high) for x in f.values()]
    [(9, 9.0, 9.0)]
    """
    pub, hidden = ledger_publication(led, rates=rates)
    prot = float(led.min_cell - 2 if protection is None else protection)
    primary = [k for k, why in hidden.items() if why == "primary"]
    found = audit(pub, hidden, keys=primary)
    return {k: f for k, f in found.items() if f.width < prot - 1e-9}
