"""Report sections of the design stage: the design appendix and the lock's section of a run.

:func:`design_document` builds the short appendix an evaluator signs off before any outcome is
looked at (cohort flow, balance table, Love plot, score overlap) from a design record
(:func:`pfseval.batch.design_stage.design_record`). :func:`design_sections` gives the section
of a run's appendix that states whether the design was locked before the outcomes, when,
and lists every deviation from the lock under 「評価計画からの逸脱」.

Examples
--------
>>> check = {"lock_file": "design.lock.json", "locked_at": "2026-12-07T07:00:00+09:00",
...          "deviations": [{"key": "design.indicators[2].match.caliper",
...                          "locked": 0.2, "current": 0.1}]}
>>> secs = design_sections(check, "ja")
>>> [s.title for s in secs]
['設計の固定（アウトカムを見る前の評価計画）', '評価計画からの逸脱']
>>> secs[1].blocks[0].frame.iloc[0].tolist()
['design.indicators[2].match.caliper', '0.2', '0.1']
>>> design_sections(None, "en")
[]
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

import pandas as pd

from pfseval.report import figures as F
from pfseval.report.disclosure import SECONDARY, CountLedger, format_count, register_flow
from pfseval.report.document import (
    Block,
    Document,
    FigureBlock,
    Paragraph,
    Section,
    TableBlock,
    _flow_frame,
    _reader_names,
    jst,
    withhold_small_levels,
)
from pfseval.report.i18n import t

__all__ = ["design_document", "design_sections", "plan_sections", "stage_sections"]


def _t(key: str, lang: str) -> str:
    return t(f"stage_{key}", lang)


def _show(v: Any) -> str:
    return v if isinstance(v, str) else json.dumps(v, ensure_ascii=False)


def design_sections(check: Mapping[str, Any] | None, lang: str) -> list[Section]:
    """The lock's sections of a run's appendix (none when the run used no lock).

    Parameters
    ----------
    check
        The run's design check: ``lock_file``, ``locked_at`` and ``deviations`` (dicts with
        ``key``, ``locked``, ``current``).
    lang
        ``"ja"`` or ``"en"``.
    """
    if not check:
        return []
    devs = list(check.get("deviations") or [])
    blocks: list[Block] = [
        Paragraph(_t("locked", lang).format(at=jst(str(check.get("locked_at") or ""))))
    ]
    blocks.append(
        Paragraph(_t("deviated", lang).format(n=len(devs)) if devs else _t("reproduced", lang))
    )
    out = [Section(_t("lock", lang), 2, tuple(blocks))]
    if devs:
        frame = pd.DataFrame(
            [[d["key"], _show(d.get("locked")), _show(d.get("current"))] for d in devs],
            columns=[_t("key", lang), _t("at_lock", lang), _t("now", lang)],
        )
        out.append(
            Section(
                _t("deviations", lang),
                2,
                (TableBlock(id="design_deviations", title=_t("deviations", lang), frame=frame),),
            )
        )
    return out


def design_document(
    record: Mapping[str, Any],
    figures: Mapping[str, Mapping[str, Any]],
    *,
    lang: str = "ja",
    min_cell: int = 10,
    title: str = "",
    names: Mapping[str, str] | None = None,
) -> Document:
    """The design appendix: flow, matched sets, balance table, Love plot and overlap plot.

    Parameters
    ----------
    record
        From :func:`pfseval.batch.design_stage.design_record`.
    figures
        Indicator id → figure data (``balance`` table, ``overlap`` curves) of the same call.
    lang
        ``"ja"`` or ``"en"``.
    min_cell
        Counts under this are shown as suppressed.
    title
        The document title (default: "design-stage record").
    names
        Readers' names of cohorts, indicators and columns (:func:`design_names`); an
        identifier without one is shown as it is.
    """
    names = dict(names or {})
    paren = "（{}）" if lang == "ja" else " ({})"
    sections: list[Section] = [
        Section(
            _t("appendix", lang),
            2,
            (
                Paragraph(
                    _t("blind", lang).format(
                        at=jst(str(record.get("locked_at") or "")),
                        sha=record.get("design_sha256"),
                    )
                ),
            ),
        )
    ]
    # One ledger for every cohort flow, so that complementary suppression sees all the
    # relations a reader can combine (a small exclusion is also a difference of two remaining
    # counts); the flow tables render as in the run's appendix.
    flows = dict(record.get("cohort_flows", {}))
    led = CountLedger(min_cell=min_cell)
    keys = {name: register_flow(led, flow, f"design:{name}") for name, flow in flows.items()}
    led.solve()
    flow_blocks = tuple(
        TableBlock(
            f"design_flow_{i}",
            _t("flow", lang) + paren.format(names.get(name, name)),
            _flow_frame(led, flow, keys[name], lang, names=names),  # type: ignore[arg-type]
        )
        for i, (name, flow) in enumerate(flows.items())
    )
    if flow_blocks:
        sections.append(Section(_t("flow", lang), 2, flow_blocks))
    designs = record.get("design", {})
    for key, m in record.get("matched", {}).items():
        iid = designs.get(key, {}).get("id", key)
        blocks: list[Block] = [
            Paragraph(
                f"{_t('matched', lang)}: n = {format_count(m['n_treated'], min_cell=min_cell)} / "
                f"{format_count(m['n_control'], min_cell=min_cell)} (SHA-256 {m['sha256'][:16]}…)"
            )
        ]
        figs = figures.get(iid, {})
        bal = figs.get("balance")
        if isinstance(bal, pd.DataFrame):
            bal, withheld = withhold_small_levels(bal, figs.get("balance_level_counts"), min_cell)
            bal = _labelled_balance(bal, lang)
            shown = bal.copy()
            for c in shown.columns:
                if pd.api.types.is_float_dtype(shown[c]):
                    shown[c] = shown[c].map(lambda x: "–" if x != x else f"{x:.3f}")
                    shown.loc[withheld, c] = SECONDARY
            shown = shown.astype(str).rename(
                columns=lambda c: _BALANCE_COLS.get(c, {}).get(lang, c)
            )
            blocks.append(TableBlock(f"design_balance_{iid}", _t("balance", lang), shown))
            png, svg = F.render(F.love_plot(bal, lang=lang))
            blocks.append(FigureBlock(f"design_love_{iid}", _t("love", lang), png, svg))
        ov = figs.get("overlap")
        if ov is not None:
            link = str(designs.get(key, {}).get("match", {}).get("link", "logit"))
            png, svg = F.render(F.overlap_plot(ov, lang=lang, link=link))
            blocks.append(FigureBlock(f"design_overlap_{iid}", _t("overlap", lang), png, svg))
        sections.append(Section(names.get(iid, iid), 2, tuple(blocks)))
    return Document(
        lang=lang,
        title=title or _t("appendix", lang),
        meta=((_t("appendix", lang), jst(str(record.get("locked_at") or ""))),),
        sections=tuple(sections),
    )


def design_names(spec: Any, lang: str) -> dict[str, str]:
    """Readers' names for a design appendix: the run appendix's names of columns, data
    sources and cohorts, and indicators by their labels (no identifier reaches the page)."""
    names = _reader_names(spec, lang)  # type: ignore[arg-type]
    names.update({ind.id: ind.label_in(lang) for ind in spec.indicators})
    return names


#: Column headers of the design-stage balance table (MatchIt's statistics in words).
_BALANCE_COLS: dict[str, dict[str, str]] = {
    "variable": {"ja": "変数", "en": "Variable"},
    "smd_before": {"ja": "SMD（前）", "en": "SMD before"},
    "smd_after": {"ja": "SMD（後）", "en": "SMD after"},
    "vr_before": {"ja": "分散比（前）", "en": "Variance ratio before"},
    "vr_after": {"ja": "分散比（後）", "en": "Variance ratio after"},
    "ecdf_mean_before": {"ja": "累積分布の平均差（前）", "en": "eCDF mean difference before"},
    "ecdf_mean_after": {"ja": "累積分布の平均差（後）", "en": "eCDF mean difference after"},
    "ecdf_max_before": {"ja": "累積分布の最大差（前）", "en": "eCDF max difference before"},
    "ecdf_max_after": {"ja": "累積分布の最大差（後）", "en": "eCDF max difference after"},
}


def _labelled_balance(bal: pd.DataFrame, lang: str) -> pd.DataFrame:
    """The balance table with variables by their vocabulary labels (the score's row too)."""
    from pfseval.report.texts import variable_labels

    if "variable" not in bal.columns:
        return bal
    names = {**variable_labels(lang), "distance": t("distance", lang)}  # type: ignore[arg-type]
    return bal.assign(variable=[names.get(str(x), str(x)) for x in bal["variable"]])


_P: dict[str, dict[str, str]] = {
    "plan": {"ja": "仕様の頑健性（事前に定めた評価計画）", "en": "Specification robustness"},
    "plan_note": {
        "ja": "主解析と、事前に定めた感度分析の各仕様での指標値・信頼区間・支払額です。"
        "「事後」は設計の固定後に追加された仕様です。",
        "en": "Each indicator's value, interval and the payment under the primary analysis "
        "and each pre-specified sensitivity specification; 'post hoc' marks specifications "
        "added after the design lock.",
    },
    "range": {
        "ja": "事前に定めた仕様での支払額の範囲：{lo} 〜 {hi} {unit}（主解析 {p} {unit}）。",
        "en": "Payment range across the pre-specified plan: {lo} to {hi} {unit} "
        "(primary analysis {p} {unit}).",
    },
    "range_all": {
        "ja": "事後の仕様を含めると {lo} 〜 {hi} {unit}。",
        "en": "Including post hoc specifications: {lo} to {hi} {unit}.",
    },
    "spec": {"ja": "仕様", "en": "Specification"},
    "ind": {"ja": "指標", "en": "Indicator"},
    "value": {"ja": "推定値", "en": "Estimate"},
    "ci": {"ja": "信頼区間", "en": "CI"},
    "pay": {"ja": "支払額", "en": "Payment"},
    "primary": {"ja": "（主解析）", "en": " (primary)"},
    "post_hoc": {"ja": "（事後）", "en": " (post hoc)"},
}


def _fmt(x: Any) -> str:
    return "—" if x is None or x != x else f"{x:.4g}"


def plan_sections(plan: Mapping[str, Any] | None, lang: str) -> list[Section]:
    """The specification-robustness table, chart and payment range of a run's plan.

    Examples
    --------
    >>> plan = {"table": [{"specification": "primary", "label_ja": "主解析",
    ...     "label_en": "primary analysis", "primary": True, "post_hoc": False,
    ...     "indicator": "x", "value": 0.5, "conf_low": 0.4, "conf_high": 0.6,
    ...     "payment": 100.0}], "payment_range": None}
    >>> plan_sections(plan, "en")[0].blocks[1].frame.iloc[0].tolist()
    ['primary analysis (primary)', 'x', '0.5', '[0.4, 0.6]', '100']
    """
    if not plan or not plan.get("table"):
        return []
    rows = []
    chart = []
    for r in plan["table"]:
        name = r[f"label_{lang}"] + (
            _P["primary"][lang] if r["primary"] else _P["post_hoc"][lang] if r["post_hoc"] else ""
        )
        rows.append(
            [
                name,
                r["indicator"],
                _fmt(r["value"]),
                f"[{_fmt(r['conf_low'])}, {_fmt(r['conf_high'])}]",
                "—" if r["payment"] is None else f"{r['payment']:,.0f}",
            ]
        )
        chart.append({**r, "label": f"{name}: {r['indicator']}"})
    cols = [_P[k][lang] for k in ("spec", "ind", "value", "ci", "pay")]
    blocks: list[Block] = [
        Paragraph(_P["plan_note"][lang]),
        TableBlock("plan_robustness", _P["plan"][lang], pd.DataFrame(rows, columns=cols)),
    ]
    pr = plan.get("payment_range")
    if pr:
        blocks.append(
            Paragraph(
                _P["range"][lang].format(
                    lo=f"{pr['min']:,.0f}",
                    hi=f"{pr['max']:,.0f}",
                    p=f"{pr['primary']:,.0f}",
                    unit=pr.get("unit", ""),
                )
            )
        )
        if (pr["min_all"], pr["max_all"]) != (pr["min"], pr["max"]):
            blocks.append(
                Paragraph(
                    _P["range_all"][lang].format(
                        lo=f"{pr['min_all']:,.0f}",
                        hi=f"{pr['max_all']:,.0f}",
                        unit=pr.get("unit", ""),
                    )
                )
            )
    ok = [c for c in chart if None not in (c["value"], c["conf_low"], c["conf_high"])]
    if ok:
        png, svg = F.render(F.estimates_plot(ok, lang=lang))
        blocks.append(FigureBlock("plan_robustness_chart", _P["plan"][lang], png, svg))
    return [Section(_P["plan"][lang], 2, tuple(blocks))]


def stage_sections(run: Any, lang: str) -> list[Section]:
    """The design-stage sections of a run's appendix: the lock (and deviations), the plan."""
    return [
        *design_sections(getattr(run, "design_check", None), lang),
        *plan_sections(getattr(run, "plan", None), lang),
    ]
