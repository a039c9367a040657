"""Annex of the appendix: sensitivity of the Kobe indicator to unmeasured confounding.

Renders the records that :func:`pfseval.batch.run_spec` computed with
:func:`pfseval.sensitivity.kobe_sensitivity` (:meth:`~pfseval.sensitivity.KobeSensitivity.to_dict`):
the tipping-point table on a grid of shifts δ (rates, difference from the no-effect reference with
its interval, payment) and the E-value, in plain words. Only aggregates: no person's value or count appears, and nothing is
shown for an indicator whose denominator is under the minimum cell size.
"""

from __future__ import annotations

import itertools
from collections.abc import Mapping
from typing import Any

import pandas as pd

from pfseval.report.document import Block, Paragraph, Section, TableBlock

__all__ = ["sensitivity_section"]

_MAX_ROWS = 15  # enough to show the tipping point and a few steps beyond it

_TEXT: dict[str, dict[str, str]] = {
    "title": {
        "ja": "付録A 感度分析（測定されていない違いの影響）",
        "en": "Annex A. Sensitivity analysis (unmeasured differences)",
    },
    "intro": {
        "ja": "マッチングは健診で測定された項目の違いを揃えますが、意欲や家族の支援など測定されて"
        "いない違いは残り得ます。以下は、そのような違いがどの程度の大きさであれば結果の解釈や"
        "支払額が変わるかを示します。",
        "en": "Matching balances what the health check measured; unmeasured differences "
        "(motivation, family support) may remain. The tables below show how large such a "
        "difference would have to be to change the conclusion or the payment.",
    },
    "tip_sig": {
        "ja": "参加者の eGFR の低下が、事業がなくても予測より年あたり {d} 小さかったとすると（参加者と対照群の"
        "測定されていない違いによって起こり得ます）、無効果の参照値との差は有意でなくなります。",
        "en": "If participants' eGFR would have declined {d} per year less than predicted even "
        "without the programme — as an unmeasured difference between participants and "
        "controls could cause — the difference from the no-effect reference would no longer "
        "be significant.",
    },
    "tip_none": {
        "ja": "表の範囲のずれでは、無効果の参照値との差は有意なままです。",
        "en": "The difference from the no-effect reference stays significant for every shift "
        "in the table.",
    },
    "tip_zero": {
        "ja": "ずれがなくても、無効果の参照値との差は有意ではありません。",
        "en": "Even without any shift, the difference from the no-effect reference is not "
        "significant.",
    },
    "tip_pay": {
        "ja": "年あたり {d} のずれで、この指標の支払額が変わります。",
        "en": "A shift of {d} per year already changes the payment for this indicator.",
    },
    "grid": {
        "ja": "δ は {step} 刻み（個人の値を示さないため）。差の区間は δ = 0 でブートストラップ区間と"
        "一致し、δ による変化は参加者の率の二項分散の変化だけを反映させています。",
        "en": "δ in steps of {step} (so that no person's value is shown). The interval of the "
        "difference equals the bootstrap interval at δ = 0; only the participants' binomial "
        "variance follows the rate.",
    },
    "evalue": {
        "ja": "E値：参加者の抑制率は無効果の参照値の {rr} 倍です。事業への参加と「抑制者」となることの"
        "両方にそれぞれリスク比 {e} 以上で関連する測定されていない要因があれば、この差は説明され"
        "得ます（信頼区間の下限については {el}）。それより弱い要因では説明できません。",
        "en": "E-value: participants' rate is {rr} times the no-effect reference. An unmeasured "
        "factor associated with both taking part and being 'suppressed' by a risk ratio of {e} "
        "each ({el} for the confidence limit) could explain the difference away; weaker "
        "factors could not.",
    },
    "evalue_ci_null": {
        "ja": "（信頼区間はすでに差なしを含むため、その下限の E値は 1 です。）",
        "en": "(The confidence interval already includes no difference, so its limit has an "
        "E-value of 1.)",
    },
    "delta": {"ja": "δ（年あたり）", "en": "δ (per year)"},
    "rate": {"ja": "抑制率", "en": "Rate"},
    "reference": {"ja": "参照値", "en": "Reference"},
    "difference": {"ja": "差", "en": "Difference"},
    "ci": {"ja": "信頼区間", "en": "CI"},
    "significant": {"ja": "有意", "en": "Significant"},
    "yes": {"ja": "はい", "en": "yes"},
    "no": {"ja": "いいえ", "en": "no"},
    "payment": {"ja": "支払額", "en": "Payment"},
    "table": {"ja": "予測のずれ δ と結果", "en": "Shift δ of the prediction and the result"},
}


def _t(key: str, lang: str) -> str:
    return _TEXT[key][lang]


def _pct(x: float) -> str:
    return f"{100 * x:.1f}%"


def _pts(x: float) -> str:
    return f"{100 * x:+.1f}"


def _rows(rec: Mapping[str, Any], lang: str, unit: str) -> pd.DataFrame:
    tab = pd.DataFrame(rec["table"])
    stop = len(tab)
    if rec["delta_significance"] is not None:
        stop = int((tab["delta"] <= rec["delta_significance"]).sum()) + 3
    tab = tab.iloc[: min(stop, _MAX_ROWS)]
    out = pd.DataFrame(
        {
            _t("delta", lang): [f"{d:.2f}" for d in tab["delta"]],
            _t("rate", lang): [_pct(x) for x in tab["rate"]],
            _t("reference", lang): [_pct(x) for x in tab["reference_rate"]],
            _t("difference", lang): [_pts(x) for x in tab["difference"]],
            f"{round(100 * rec['level'])}% {_t('ci', lang)}": [
                f"{_pts(lo)} – {_pts(hi)}"
                for lo, hi in zip(tab["conf_low"], tab["conf_high"], strict=True)
            ],
            _t("significant", lang): [_t("yes" if s else "no", lang) for s in tab["significant"]],
        }
    )
    if "payment" in tab.columns:
        out[f"{_t('payment', lang)} ({unit})"] = [f"{x:,.0f}" for x in tab["payment"]]
    return out


def sensitivity_section(
    records: Mapping[str, Mapping[str, Any]],
    spec: Any,
    n_by_indicator: Mapping[str, int],
) -> Section | None:
    """The annex section, or ``None`` when no indicator has a sensitivity record.

    Parameters
    ----------
    records
        Indicator id → :meth:`~pfseval.sensitivity.KobeSensitivity.to_dict` record.
    spec
        The run's spec (indicators, report language and minimum cell, contract unit).
    n_by_indicator
        Each indicator's ``n``: nothing is shown when it is under the minimum cell size.
    """
    if not records:
        return None
    lang = spec.report.lang
    unit = (spec.contract or {}).get("contract", {}).get("unit", "")
    blocks: list[Block] = [Paragraph(_t("intro", lang))]
    for ind in spec.indicators:
        rec = records.get(ind.id)
        if rec is None or n_by_indicator.get(ind.id, 0) < spec.report.min_cell:
            continue
        blocks += _indicator_blocks(rec, ind.label_in(lang), ind.id, lang, unit)
    if len(blocks) == 1:
        return None
    return Section(_t("title", lang), 2, tuple(blocks))


def _indicator_blocks(
    rec: Mapping[str, Any], label: str, ind_id: str, lang: str, unit: str
) -> list[Block]:
    blocks: list[Block] = [Paragraph(f"■ {label}")]
    d_sig, d_pay = rec["delta_significance"], rec["delta_payment"]
    if d_sig is None:
        blocks.append(Paragraph(_t("tip_none", lang)))
    elif d_sig == 0:
        blocks.append(Paragraph(_t("tip_zero", lang)))
    else:
        blocks.append(Paragraph(_t("tip_sig", lang).format(d=f"{d_sig:g}")))
    if d_pay is not None:
        blocks.append(Paragraph(_t("tip_pay", lang).format(d=f"{d_pay:g}")))
    deltas = [row["delta"] for row in rec["table"]]
    step = min(b - a for a, b in itertools.pairwise(deltas)) if len(deltas) > 1 else 0
    blocks.append(
        TableBlock(
            f"sensitivity_{ind_id}",
            f"{label}: {_t('table', lang)}",
            _rows(rec, lang, unit),
            note=_t("grid", lang).format(step=f"{step:g}"),
        )
    )
    ev = rec.get("evalue")
    if ev is not None:
        blocks.append(
            Paragraph(
                _t("evalue", lang).format(
                    rr=f"{ev['rr']:.2f}",
                    e=f"{ev['point']:.2f}",
                    el="–" if ev["limit"] is None else f"{ev['limit']:.2f}",
                )
                + (_t("evalue_ci_null", lang) if ev["limit"] == 1.0 else "")
            )
        )
    return blocks
