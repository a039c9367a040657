"""The result of applying a contract: :class:`PaymentResult` with breakdown and audit trail."""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import pandas as pd

from pfseval.messages import Notice
from pfseval.payment.notices import negative_subtotal
from pfseval.payment.schedules import ROUNDING_WORDS, Lang, fmt_amount
from pfseval.result import emit_warnings, provenance, to_jsonable

if TYPE_CHECKING:
    from pfseval.payment.contract import Component, Contract, Payments

__all__ = ["BREAKDOWN_COLUMNS", "PaymentResult", "build_result"]

BREAKDOWN_COLUMNS = (
    "component",
    "kind",
    "label",
    "indicator",
    "basis",
    "value",
    "value_estimate",
    "schedule",
    "step",
    "amount_raw",
    "amount_after_component_caps",
    "amount_rounded",
    "component_cap_applied",
)
_CAP_WORDS: dict[Lang, tuple[str, str]] = {"ja": ("上限", "下限"), "en": ("capped at", "floor")}
_BASIS_WORDS = {
    "ja": {"point": "点推定値", "conf_low": "信頼区間下限", "conf_high": "信頼区間上限"},
    "en": {"point": "point estimate", "conf_low": "lower CI limit", "conf_high": "upper CI limit"},
}


@dataclass(frozen=True)
class PaymentResult:
    """What a contract pays for given indicators, with a line-by-line audit trail.

    Attributes
    ----------
    contract_name, unit
        The contract and the unit of every amount (``円`` or ``千円``, ...).
    total
        The amount paid: fixed + rounded components, limited to ``[0, cap]``.
    fixed, outcome
        Sum of the fixed payments; sum of the rounded outcome-linked components.
    subtotal
        ``fixed + outcome`` before the contract cap.
    cap, cap_applied
        The contract cap (支払上限額) and whether it limited the total.
    basis
        ``None`` when every component used its own basis, else the basis forced on all.
    notices
        Notes an evaluator needs, as :class:`~pfseval.messages.Notice` records (e.g. a number
        used where the contract asks for a CI bound); ``warnings`` gives their English text.

    In the breakdown, ``value`` is the indicator value the schedule used (rounded to the
    contract's ``value_decimals`` when it has one) and ``value_estimate`` the value supplied.
    """

    contract_name: str
    unit: str
    total: float
    fixed: float
    outcome: float
    subtotal: float
    cap: float | None
    cap_applied: bool
    basis: str | None
    rounding: str
    rounding_unit: float
    rows: tuple[Mapping[str, Any], ...] = field(repr=False)
    formulas: Mapping[str, tuple[str, ...]] = field(repr=False)
    notices: tuple[Notice, ...] = ()
    provenance: Mapping[str, Any] = field(default_factory=dict, repr=False)
    contract: Contract | None = field(default=None, repr=False, compare=False)

    @property
    def warnings(self) -> tuple[str, ...]:
        """The English text of every notice."""
        return tuple(n.text("en") for n in self.notices)

    @property
    def breakdown(self) -> pd.DataFrame:
        """One row per fixed payment and per component (columns: ``BREAKDOWN_COLUMNS``)."""
        return pd.DataFrame([dict(r) for r in self.rows], columns=list(BREAKDOWN_COLUMNS))

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready dict: totals, breakdown records, warnings, provenance."""
        return to_jsonable(  # type: ignore[no-any-return]
            {
                "contract_name": self.contract_name,
                "unit": self.unit,
                "total": self.total,
                "fixed": self.fixed,
                "outcome": self.outcome,
                "subtotal": self.subtotal,
                "cap": self.cap,
                "cap_applied": self.cap_applied,
                "basis": self.basis,
                "rounding": self.rounding,
                "rounding_unit": self.rounding_unit,
                "breakdown": [dict(r) for r in self.rows],
                "notices": [n.to_dict() for n in self.notices],
                "provenance": dict(self.provenance),
            }
        )

    def audit_trail(
        self,
        *,
        lang: Lang = "ja",
        decimals: int | Mapping[str, int] | None = None,
        ids: bool = True,
        withheld: Collection[str] = (),
    ) -> str:
        """The calculation line by line, so that a finance department can check it by hand.

        Parameters
        ----------
        lang
            ``"ja"`` (Japanese) or ``"en"`` (English).
        decimals
            For a published trail: at most this many decimals for each indicator value (an
            int for all, or indicator id → decimals). A value with more decimals is written
            rounded and marked ``≈``, and so are the numbers computed from it (ratio, amount
            before rounding), to as many significant digits as the written value; amounts
            paid are exact. ``None`` (default): every number exact. A contract with
            ``value_decimals`` at or below the limit gives an exact trail either way.
        ids
            Name each component's indicator id beside its label, as the contract file does
            (default). A published appendix passes ``False``: readers know indicators by
            their labels.
        withheld
            Indicator ids whose value a publication withholds (an estimate from a group under
            the minimum cell size): their lines give the amount paid without the value or the
            steps computed from it.

        Examples
        --------
        >>> from pfseval.payment import Contract
        >>> c = Contract.from_dict({"contract": {"name": "例", "unit": "千円",
        ...     "rounding": "floor", "component": [{"indicator": "r", "label": "率",
        ...     "allocation": 7860, "schedule": {"type": "proportional", "target": 0.8}}]}})
        >>> res = c.evaluate({"r": 31 / 43})
        >>> def line(text):
        ...     return next(x for x in text.splitlines() if x.startswith("  [1]"))
        >>> line(res.audit_trail(lang="en"))
        '  [1] 率 (r, point estimate): 0.720930232558 ÷ 0.8 = 0.901162790698 → × 7,860 = 7,083.13953488 → round down: 7,083 千円'
        >>> line(res.audit_trail(lang="en", decimals=3))
        '  [1] 率 (r, point estimate): ≈0.721 ÷ 0.8 = ≈0.901 → × 7,860 = ≈7,080 → round down: 7,083 千円'
        >>> line(res.audit_trail(lang="ja", decimals=3, ids=False))[:27]
        '  [1] 率（点推定値）: ≈0.721 ÷ 0.8'
        """
        if lang not in ("ja", "en"):
            raise ValueError(f"lang must be 'ja' or 'en', got {lang!r}")
        ja = lang == "ja"
        u = self.unit
        rule = ROUNDING_WORDS[lang][self.rounding]

        def money(x: float) -> str:
            return f"{fmt_amount(x)}{u}" if ja else f"{fmt_amount(x)} {u}"

        unit_txt = money(self.rounding_unit)
        lines = [
            (
                f"支払額の計算: {self.contract_name}（単位: {u}）"
                if ja
                else f"Payment calculation: {self.contract_name} (unit: {u})"
            ),
            (
                f"端数処理: 成果連動支払ごとに {unit_txt} 単位で{rule}"
                if ja
                else f"Rounding: each outcome payment, {rule} to a multiple of {unit_txt}"
            ),
        ]
        if self.basis is not None:
            b = _BASIS_WORDS[lang][self.basis]
            lines.append(f"全指標を{b}で評価" if ja else f"Every indicator evaluated at its {b}")
        formulas = self.formulas[lang]
        if decimals is not None:
            formulas = self._formulas(lang, decimals)
        comp_rows = [
            (r, f) for r, f in zip(self.rows, formulas, strict=True) if r["kind"] == "outcome"
        ]
        vd = self.contract.decimals() if self.contract is not None else ()
        if any(d is not None for d in vd):
            ds = sorted({d for d in vd if d is not None})
            txt = "、".join(f"小数第{d}位" for d in ds) if ja else ", ".join(map(str, ds))
            lines.append(
                f"指標値は契約の定めにより{txt}に四捨五入した値で支払額を計算"
                if ja
                else f"Indicator values are rounded half up to {txt} decimals before the "
                "schedule, as the contract provides"
            )
        if comp_rows and any("≈" in f for _, f in comp_rows):
            lines.append(
                "≈: 公表資料の桁数に丸めた表示（支払額は丸める前の値で計算）"
                if ja
                else "≈: shown rounded to the published precision (the amount is computed from "
                "the unrounded value)"
            )
        fixed_rows = [r for r in self.rows if r["kind"] == "fixed"]
        if fixed_rows:
            lines.append("固定支払" if ja else "Fixed payments")
            for r in fixed_rows:
                lines.append(f"  {r['label']}: {money(r['amount_rounded'])}")
        if comp_rows:
            lines.append("成果連動支払" if ja else "Outcome-linked payments")
            for k, (r, formula) in enumerate(comp_rows, start=1):
                b = _BASIS_WORDS[lang][r["basis"]]
                sep = "、" if ja else ", "
                inner = f"{r['indicator']}{sep}{b}" if ids else b
                head = f"[{k}] {r['label']}（{inner}）" if ja else f"[{k}] {r['label']} ({inner})"

                if r["indicator"] in withheld:
                    paid = money(r["amount_rounded"])
                    formula = f"（非公開）→ {paid}" if ja else f"(withheld) → {paid}"
                lines.append(f"  {head}: {formula}")
        terms = [float(r["amount_rounded"]) for r in self.rows]
        expr = fmt_amount(terms[0]) if terms else "0"
        for a in terms[1:]:
            expr += f" − {fmt_amount(-a)}" if a < 0 else f" + {fmt_amount(a)}"
        lines.append(f"{'小計' if ja else 'Subtotal'} = {expr} = {money(self.subtotal)}")
        if self.cap is not None:
            cap = fmt_amount(self.cap)
            if self.cap_applied:
                lines.append(
                    f"支払上限額 {cap}{u} を超えるため上限を適用"
                    if ja
                    else f"Above the payment cap of {cap} {u}: the cap applies"
                )
            else:
                lines.append(
                    f"支払上限額 {cap}{u} 以下" if ja else f"Within the payment cap of {cap} {u}"
                )
        if self.subtotal < 0:
            lines.append("小計が負のため支払額は 0" if ja else "Negative subtotal: nothing is paid")
        lines.append(f"{'支払額' if ja else 'Amount paid'}: {money(self.total)}")
        for w in self.notices:
            lines.append(f"{'注意' if ja else 'Note'}: {w.text(lang)}")
        return "\n".join(lines)

    def _formulas(self, lang: Lang, decimals: int | Mapping[str, int]) -> tuple[str, ...]:
        """The rows' formulas with indicator values written to at most ``decimals``."""
        if self.contract is None:
            raise ValueError(
                "this PaymentResult was built without its contract; decimals cannot be applied"
            )
        out = list(self.formulas[lang])
        comps = iter(self.contract.components)
        for i, r in enumerate(self.rows):
            if r["kind"] != "outcome":
                continue
            d = decimals if isinstance(decimals, int) else decimals.get(str(r["indicator"]))
            out[i] = _component_formula(
                next(comps),
                float(r["value"]),
                float(r["amount_raw"]),
                float(r["amount_after_component_caps"]),
                float(r["amount_rounded"]),
                self.contract.rounding,
                self.unit,
                lang,
                decimals=d,
            )
        return tuple(out)

    def __str__(self) -> str:
        return self.audit_trail(lang="en")

    def _repr_html_(self) -> str:
        import html

        return f"<pre>{html.escape(self.audit_trail(lang='ja'))}</pre>"


def _component_formula(
    comp: Component,
    x: float,
    raw: float,
    capped: float,
    rounded: float,
    contract_rounding: str,
    unit: str,
    lang: Lang,
    *,
    decimals: int | None = None,
) -> str:
    """The audit-trail formula of one component: schedule, caps, rounding."""
    ja = lang == "ja"
    _, text = comp.schedule.describe(x, comp.allocation, lang, decimals=decimals)
    cap_word, floor_word = _CAP_WORDS[lang]
    if capped < raw:
        text += f" → {cap_word} {fmt_amount(capped)}"
    elif capped > raw:
        text += f" → {floor_word} {fmt_amount(capped)}"
    rule = comp.rounding or contract_rounding
    word = ROUNDING_WORDS[lang][rule]
    if rule == "none":
        return f"{text} → {fmt_amount(rounded)}{unit}"
    return (
        f"{text} → {word} {fmt_amount(rounded)}{unit}"
        if ja
        else f"{text} → {word}: {fmt_amount(rounded)} {unit}"
    )


def build_result(
    contract: Contract,
    values: Sequence[float],
    pay: Payments,
    *,
    basis: str | None,
    notes: Sequence[Notice],
    estimates: Sequence[float] | None = None,
) -> PaymentResult:
    """Assemble a :class:`PaymentResult` from one row of :meth:`Contract.payments`.

    ``values`` are the values the schedules used (after ``value_decimals``), ``estimates``
    the values supplied (default: the same).
    """
    supplied = values if estimates is None else estimates
    rows: list[dict[str, Any]] = []
    formulas: dict[str, list[str]] = {"ja": [], "en": []}
    for i, f in enumerate(contract.fixed):
        rows.append(
            {
                "component": f"contract.fixed[{i}]",
                "kind": "fixed",
                "label": f.label,
                "indicator": None,
                "basis": None,
                "value": None,
                "value_estimate": None,
                "schedule": "fixed",
                "step": None,
                "amount_raw": float(f.amount),
                "amount_after_component_caps": float(f.amount),
                "amount_rounded": float(f.amount),
                "component_cap_applied": False,
            }
        )
        for lang in ("ja", "en"):
            formulas[lang].append(fmt_amount(f.amount))
    for j, comp in enumerate(contract.components):
        x = float(values[j])
        raw, capped, rounded = (float(a[0, j]) for a in (pay.raw, pay.capped, pay.rounded))
        step_en, _ = comp.schedule.describe(x, comp.allocation, "en")
        rows.append(
            {
                "component": f"contract.component[{j}]",
                "kind": "outcome",
                "label": comp.label,
                "indicator": comp.indicator,
                "basis": basis or comp.basis,
                "value": x,
                "value_estimate": float(supplied[j]),
                "schedule": comp.schedule.type,
                "step": step_en,
                "amount_raw": raw,
                "amount_after_component_caps": capped,
                "amount_rounded": rounded,
                "component_cap_applied": capped != raw,
            }
        )
        for lang in _CAP_WORDS:
            formulas[lang].append(
                _component_formula(
                    comp, x, raw, capped, rounded, contract.rounding, contract.unit, lang
                )
            )
    notices = tuple(notes)
    if float(pay.subtotal[0]) < 0:
        notices += (negative_subtotal(fmt_amount(float(pay.subtotal[0])), contract.unit),)
    emit_warnings(notices, stacklevel=4)
    return PaymentResult(
        contract_name=contract.name,
        unit=contract.unit,
        total=float(pay.total[0]),
        fixed=pay.fixed,
        outcome=float(pay.rounded[0].sum()),
        subtotal=float(pay.subtotal[0]),
        cap=None if contract.cap is None else float(contract.cap),
        cap_applied=bool(pay.cap_applied[0]),
        basis=basis,
        rounding=contract.rounding,
        rounding_unit=float(contract.rounding_unit),
        rows=tuple(rows),
        formulas={k: tuple(v) for k, v in formulas.items()},
        notices=notices,
        provenance=provenance(seed=None, contract_file=contract.source or None),
        contract=contract,
    )
