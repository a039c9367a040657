"""Per-group results (an indicator with ``by``): registered with the document's disclosure
control, then shown as a table and a figure in a sub-section of the indicator.

The run keeps each group's summary in ``diagnostics.by_group`` of ``results.json`` (the
evaluator's record: every group's true size, small groups included, and, for a rate, its
numerator and denominator). Here every number the sub-section shows is registered in the
document's :class:`~pfseval.report.publication.DocumentPublication`:

* each group's size (records; for an aggregated yearly series, the people behind the
  evaluation-year figure) is a count of people, and the sizes with the rows without a group
  value add up to the whole cohort (``cohort = Σ group sizes + no value``; for a series the
  whole series' evaluation-year people) — so one suppressed group cannot be recovered by
  subtraction;
* an evaluated group's ``n`` (equal to its size, or its size less the records its
  evaluation left out), and ``Σ n + the rest = the indicator's n``;
* its value as a statistic of those people (withheld when ``n`` is under ``min_cell``), and,
  when the value is a rate of the group's own counts, the rate at its shown digits and its
  Wilson / Clopper–Pearson limits (they give the numerator back), with the numerators adding
  up to the whole cohort's.

The per-group values are not what a contract pays on, so the solver may withhold them to
protect a count; a group's value is shown only with its interval and never for a group
under ``min_cell`` (its value would narrow its size). The figure draws exactly the rows
whose value the table shows.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import pandas as pd

from pfseval.designs.contract import RATE_PAIRS
from pfseval.messages import Lang
from pfseval.report.disclosure import SECONDARY
from pfseval.report.i18n import t

__all__ = ["group_blocks", "register_groups"]

#: Diagnostics of a ``by`` indicator that the per-group sub-section shows (not the
#: diagnostics table).
BY_DIAGNOSTICS = frozenset({"by", "by_group", "by_no_group"})


def _records(d: Mapping[str, Any]) -> list[Mapping[str, Any]]:
    recs = (d.get("diagnostics") or {}).get("by_group")
    return list(recs) if isinstance(recs, list) else []


def _is_series(run: Any, ind: Any) -> bool:
    from pfseval.report.document import _rows_are_people

    return not _rows_are_people(run, ind.data)


def register_groups(
    c: Any, run: Any, ind: Any, d: Mapping[str, Any], final: Mapping[str, str], n_key: str
) -> None:
    """Register an indicator's per-group numbers (see the module notes); no-op without
    ``by_group``. ``c`` is the document's ``_Counts``."""
    from pfseval.report.document import _is_number, _rate_cells, _register_ci

    records = _records(d)
    if not records:
        return
    led, p = c.led, f"ind:{ind.id}:by"
    diag: Mapping[str, Any] = d.get("diagnostics") or {}
    cost = led.policy.cost("related")
    series = _is_series(run, ind)
    sizes: list[str] = []
    ns: list[str] = []
    nums: list[str] = []
    all_rates = True
    for i, r in enumerate(records):
        gp = f"{p}:{i}"
        size = float(r.get("size") or 0)
        sk = led.add(f"{gp}:size", size)
        c.keys[f"{gp}:size"] = sk
        sizes.append(sk)
        if r.get("suppressed") or not _is_number(r.get("n")):
            continue
        n = float(r["n"])
        if n == size:
            nk = led.alias(f"{gp}:n", sk)
        elif 0 <= n <= size:
            nk = led.add(f"{gp}:n", n)
            out = led.add(f"{gp}:left_out", size - n)
            led.unshown(out)
            led.relate(sk, [nk, out])
        else:  # an n that does not count the group's records (should not happen): its own
            nk = led.add(f"{gp}:n", n)
        c.keys[f"{gp}:n"] = nk
        ns.append(nk)
        led.group(f"{gp}:estimate", [nk], fixed=False)
        num: Any = r.get("numerator")
        den: Any = r.get("denominator")
        if _is_number(num) and _is_number(den):
            _rate_cells(
                c, gp, float(num), float(den), nk, shown=True, cost=cost, group=[nk]
            )  # fmt: skip
            nums.append(c.keys[f"{gp}:num"])
            limits = {
                "conf_low": r.get("conf_low"),
                "conf_high": r.get("conf_high"),
                "method": d.get("method"),
                "level": d.get("level", 0.95),
            }
            _register_ci(c, gp, limits, cost=cost, fixed=False, group=[nk])
        else:
            all_rates = False
    no_group = float(diag.get("by_no_group") or 0)
    ng = led.add(f"{p}:no_group", no_group)
    c.keys[f"{p}:no_group"] = ng
    total = no_group + sum(led.value(k) for k in sizes)
    whole = _whole_size_key(c, run, ind, d, final, series=series)
    if whole is not None and led.value(whole) == total:
        led.relate(whole, [*sizes, ng])
    elif whole is None:  # the whole is shown as a value (a count series' observed count)
        led.relate(led.add(f"{p}:total", total, people=False), [*sizes, ng])
    if no_group == 0:
        led.unshown(ng)  # no row for it
    if not series:
        rest = float(d["n"]) - sum(led.value(k) for k in ns)
        if rest >= 0:
            rk = led.add(f"{p}:rest", rest)
            led.unshown(rk)
            led.relate(n_key, [*ns, rk])
        whole_num = next(
            (c.keys[k] for k in (f"ind:{ind.id}:{x}:num" for x in _NUMERATORS) if k in c.keys),
            None,
        )
        if whole_num is not None and all_rates and ns:
            rest_num = led.value(whole_num) - sum(led.value(k) for k in nums)
            if rest_num >= 0:
                rk = led.add(f"{p}:rest_num", rest_num)
                led.unshown(rk)
                led.relate(whole_num, [*nums, rk])


#: The numerators of a whole-cohort rate, in the order looked for.
_NUMERATORS = tuple(num for num, _ in RATE_PAIRS)


def _whole_size_key(
    c: Any, run: Any, ind: Any, d: Mapping[str, Any], final: Mapping[str, str], *, series: bool
) -> str | None:
    """The count the group sizes add up to: the cohort's records (person-level), the whole
    series' people eligible in the evaluation year (a rate series), or ``None`` (a count
    series: its evaluation-year count is shown as the observed value)."""
    if not series:
        return final.get(ind.data)
    led = c.led
    keys = [
        str(c.keys[k])
        for k in (f"ind:{ind.id}:diag:eligible_evaluation_year", f"ind:{ind.id}:rel:observed:n")
        if k in c.keys and led.counts_people(str(c.keys[k]))
    ]
    if len(keys) == 2 and led.value(keys[0]) == led.value(keys[1]):
        led.relate(keys[0], [keys[1]])  # the same people, shown in two tables
    return keys[0] if keys else None


def _n_header(run: Any, ind: Any, d: Mapping[str, Any], lang: Lang) -> str:
    if not _is_series(run, ind):
        return t("n", lang)
    rate = (d.get("diagnostics") or {}).get("eligible_evaluation_year") is not None
    return t("by_n_eligible" if rate else "by_n_count", lang)


def _group_rows(c: Any, ind: Any, d: Mapping[str, Any]) -> tuple[list[list[str]], list[bool]]:
    """Each group's shown cells (group, n, value, low, high) and whether its value is shown."""
    from pfseval.report.document import fmt_value

    lang = c.lang
    counts = c.counts
    est = str(d.get("estimand", ""))
    rows: list[list[str]] = []
    shown: list[bool] = []
    for i, r in enumerate(_records(d)):
        gp = f"ind:{ind.id}:by:{i}"
        name = str(r.get("group"))  # a value of the column, shown as it is
        if r.get("suppressed") or f"{gp}:n" not in counts.keys:
            rows.append([name, counts.show(f"{gp}:size"), "–", "–", "–"])
            shown.append(False)
            continue
        ok = counts.published(f"{gp}:estimate") and counts.published(f"{gp}:rate")
        ok = ok and all(
            counts.published(f"{gp}:ci:{m}") for m in ("wilson", "clopper_pearson")
        )  # a value withheld takes its interval with it, and the other way round
        cells = (
            [fmt_value(r.get(k), est, lang=lang) for k in ("value", "conf_low", "conf_high")]
            if ok
            else [SECONDARY] * 3
        )
        rows.append([name, counts.show(f"{gp}:n"), *cells])
        shown.append(ok)
    return rows, shown


def group_blocks(c: Any, k: int, ind: Any) -> list[Any]:
    """The sub-section ``3.k.1`` of an indicator with ``by``: a paragraph, the table of every
    group and the figure of the values shown (empty without ``by_group``)."""
    from pfseval.report import figures as F
    from pfseval.report.document import (
        _PAREN,
        LONG_TABLE_ROWS,
        Paragraph,
        Section,
        TableBlock,
        _fig,
        value_kind,
    )

    d = c.res["indicators"][ind.id]
    records = _records(d)
    if not records:
        return []
    lang = c.lang
    diag = d.get("diagnostics") or {}
    by = str(diag.get("by") or "")
    by_label = c.names.get(by, by)
    label = ind.label_in(lang)
    rows, shown = _group_rows(c, ind, d)
    level = round(100 * float(d.get("level", 0.95)))
    columns = [
        by_label,
        _n_header(c.run, ind, d, lang),
        t("value", lang),
        f"{level}% {t('conf_low', lang)}",
        f"{level}% {t('conf_high', lang)}",
    ]
    if float(diag.get("by_no_group") or 0) > 0:
        rows.append(
            [
                t("by_no_value", lang).format(by=by_label),
                c.counts.show(f"ind:{ind.id}:by:no_group"),
                "–",
                "–",
                "–",
            ]
        )
    frame = pd.DataFrame(rows, columns=columns)
    text = t("by_text_series" if _is_series(c.run, ind) else "by_text", lang).format(
        by=by_label, groups=len(records), m=c.min_cell
    )
    blocks: list[Any] = [
        Paragraph(text),
        TableBlock(
            f"{ind.id}_groups",
            f"{t('by_table', lang).format(by=by_label)}{_PAREN[lang].format(label)}",
            frame,
            note=t("by_note", lang).format(m=c.min_cell),
        ),
    ]
    if any(shown):
        whole_shown = c.counts.published(f"ind:{ind.id}:estimate")
        table = pd.DataFrame(
            {
                "group": [r[0] for r in rows[: len(records)]],
                "value": [r.get("value") for r in records],
                "conf_low": [r.get("conf_low") for r in records],
                "conf_high": [r.get("conf_high") for r in records],
                "suppressed": [not s for s in shown],
            }
        )
        fig = F.groups_plot(
            table,
            by=by_label,
            lang=lang,
            value_label=label,
            kind=value_kind(str(d.get("estimand", ""))),
            level=float(d.get("level", 0.95)),
            overall=d.get("value") if whole_shown else None,
            shown=shown,
        )
        figure = _fig(
            f"{ind.id}_groups",
            f"{t('by_fig', lang).format(by=by_label)}{_PAREN[lang].format(label)}",
            fig,
        )
        # a table of many groups runs over pages: the figure comes first, beside the text
        blocks.insert(1 if len(rows) > LONG_TABLE_ROWS else len(blocks), figure)
    title = f"3.{k}.1 {t('by_section', lang).format(by=by_label)}"
    return [Section(title, 4, tuple(blocks), key="by")]
