"""The appendix as a document model: sections of paragraphs, tables and figures.

:func:`build_document` turns an :class:`~pfseval.batch.EvaluationRun` into a
:class:`Document`; the HTML, DOCX and XLSX writers only render it, so the three outputs carry
the same content. Nothing is estimated here: values come from the run's results, flows and
payment; counts pass through :mod:`pfseval.report.disclosure`.
"""

from __future__ import annotations

import inspect
import itertools
import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Protocol

import pandas as pd

from pfseval.designs.contract import DIAGNOSTICS as DECLARED
from pfseval.designs.contract import RATE_PAIRS, DesignSpec, get, is_rate_of
from pfseval.messages import Lang
from pfseval.report import figures as F
from pfseval.report.disclosure import SECONDARY, register_flow, render_flow
from pfseval.report.disclosure_policy import DisclosurePolicy
from pfseval.report.group_sections import group_blocks, register_groups
from pfseval.report.i18n import (
    RELATED,
    group_label,
    interval_label,
    option_value,
    related_label,
    schedule_label,
    step_text,
    t,
    unit_text,
    value_text,
)
from pfseval.report.labels import column_names, merge_label, source_label
from pfseval.report.publication import DocumentPublication
from pfseval.report.texts import diagnostic_label, render


class EvaluationRun(Protocol):
    """What the report reads of a run (``pfseval.batch.EvaluationRun`` has it).

    The report does not import ``pfseval.batch``: batch runs call the report, never the
    other way round. Designs are known only through the registry
    (:mod:`pfseval.designs.contract`) and the ``results.json`` records.
    """

    @property
    def spec(self) -> Any: ...

    @property
    def payment(self) -> Any: ...

    @property
    def figure_data(self) -> Mapping[str, Mapping[str, Any]]: ...

    @property
    def finished_at(self) -> str: ...

    @property
    def estimates(self) -> Mapping[str, Any]: ...

    @property
    def sensitivity(self) -> Mapping[str, Any]: ...  # indicator → KobeSensitivity

    def results(self) -> dict[str, Any]: ...


__all__ = [
    "Document",
    "FigureBlock",
    "Paragraph",
    "Preformatted",
    "Section",
    "TableBlock",
    "build_document",
    "display_decimals",
    "fmt_value",
]


@dataclass(frozen=True)
class Paragraph:
    text: str


@dataclass(frozen=True)
class Preformatted:
    text: str


@dataclass(frozen=True)
class Bullets:
    items: tuple[str, ...]


@dataclass(frozen=True)
class TableBlock:
    """A published table: every cell is already text (counts suppressed)."""

    id: str
    title: str
    frame: pd.DataFrame
    note: str = ""


@dataclass(frozen=True)
class FigureBlock:
    """A figure rendered once to PNG and SVG."""

    id: str
    title: str
    png: bytes
    svg: bytes


Block = Paragraph | Preformatted | Bullets | TableBlock | FigureBlock


@dataclass(frozen=True)
class Section:
    title: str
    level: int
    blocks: tuple[Block, ...] = ()
    #: what the section is (``"repro"``, ``"glossary"``…), for writers and tests; "" if none
    key: str = ""


@dataclass(frozen=True)
class Document:
    """The appendix content, independent of the output format."""

    lang: str
    title: str
    meta: tuple[tuple[str, str], ...]
    sections: tuple[Section, ...] = field(default_factory=tuple)

    def tables(self) -> list[TableBlock]:
        return [b for s in self.sections for b in s.blocks if isinstance(b, TableBlock)]

    def figures(self) -> list[FigureBlock]:
        return [b for s in self.sections for b in s.blocks if isinstance(b, FigureBlock)]

    def text(self) -> str:
        """All the visible text (used for the font subset and by tests)."""
        parts = [self.title, *(f"{k} {v}" for k, v in self.meta)]
        for s in self.sections:
            parts.append(s.title)
            for b in s.blocks:
                if isinstance(b, Paragraph | Preformatted):
                    parts.append(b.text)
                elif isinstance(b, Bullets):
                    parts += list(b.items)
                elif isinstance(b, TableBlock):
                    parts += [b.title, b.note, *map(str, b.frame.columns)]
                    parts += [str(x) for x in b.frame.to_numpy().ravel()]
                elif isinstance(b, FigureBlock):
                    parts.append(b.title)
        return "\n".join(parts)


_PERCENT_WORDS = ("rate", "proportion", "share")
#: Estimands that count people (an estimated number of people: 約287人 in prose).
_PEOPLE_ESTIMANDS = frozenset({"additional_count"})


def _is_percent(estimand: str) -> bool:
    """Whether an estimand is a rate or share (shown as a percentage)."""
    return any(w in estimand.lower() for w in _PERCENT_WORDS)


def value_kind(estimand: str) -> str:
    """How a value of ``estimand`` is shown: ``"points"`` (a difference of two rates, in
    percentage points), ``"percent"`` (a rate or share), ``"people"`` (an estimated number of
    people) or ``"number"``.

    Examples
    --------
    >>> [value_kind(e) for e in ("rate_difference", "suppression_rate", "additional_count", "ATT")]
    ['points', 'percent', 'people', 'number']
    """
    e = estimand.lower()
    if "difference" in e and any(w in e for w in ("rate", "risk", "proportion")):
        return "points"
    if _is_percent(e):
        return "percent"
    if e in _PEOPLE_ESTIMANDS:
        return "people"
    return "number"


_UNIT_WORDS = {
    "points": {"ja": "ポイント", "en": " points"},
    "people": {"ja": "人", "en": " people"},
}


def fmt_value(
    x: Any,
    estimand: str = "",
    *,
    lang: str = "en",
    rounded: bool = False,
    decimals: int | None = None,
) -> str:
    """A value for display by what it is: rates in %, differences of rates in percentage
    points, estimated numbers of people rounded when ``rounded`` (summaries and prose; the
    detailed tables keep the decimals), other numbers to 3 decimals.

    ``decimals`` overrides the decimals shown (of the percentage for rates and points), e.g.
    as many as it takes to decide a payment tier.

    Examples
    --------
    >>> fmt_value(0.329, "suppression_rate"), fmt_value(-1.2345, "ATT"), fmt_value(None)
    ('32.9%', '-1.234', '–')
    >>> fmt_value(0.0232, "rate_difference", lang="ja"), fmt_value(0.0232, "rate_difference")
    ('2.3ポイント', '2.3 points')
    >>> fmt_value(287.343, "additional_count", lang="ja", rounded=True)
    '約287人'
    >>> fmt_value(0.01987, "rate", decimals=2)
    '1.99%'

    Very small values are written with a power of ten (``e-05`` is programmers' notation,
    not a reader's), large ones with separators:

    >>> fmt_value(7.208e-05), fmt_value(1e-9), fmt_value(12372.4)
    ('7.208×10⁻⁵', '1×10⁻⁹', '12,372')
    """
    if x is None or (isinstance(x, float) and not math.isfinite(x)):
        return "–"
    x = float(x)
    kind = value_kind(estimand)
    if kind in ("percent", "points"):
        d = 1 if decimals is None else max(decimals, 0)
        text = f"{100 * x:.{d}f}"
        return text + "%" if kind == "percent" else text + _UNIT_WORDS["points"][lang]
    if kind == "people" and rounded:
        return ("約{:,.0f}人" if lang == "ja" else "about {:,.0f} people").format(x)
    if decimals is not None:
        return f"{x:,.{max(decimals, 0)}f}"
    if x != 0 and abs(x) < 1e-3:
        mant, exp = f"{x:.3e}".split("e")
        mant = mant.rstrip("0").rstrip(".")
        return f"{mant}×10{str(int(exp)).translate(_SUPERSCRIPT)}"
    if abs(x) >= 1000:
        return f"{x:,.0f}"
    return f"{x:.3f}".rstrip("0").rstrip(".") or "0"


_SUPERSCRIPT = str.maketrans("-0123456789", "⁻⁰¹²³⁴⁵⁶⁷⁸⁹")


def decisive_decimals(value: float, thresholds: Any, *, base: int, percent: bool) -> int:
    """The fewest decimals (at least ``base``) at which ``value`` shown rounded sits on the
    same side of every threshold as the value itself, so that a reader comparing the shown
    value with a payment schedule finds the tier that was paid (never "2.0%" beside a 2.0%
    step that 1.987% did not reach).

    Examples
    --------
    >>> decisive_decimals(0.01987, [0.02], base=1, percent=True)
    2
    >>> decisive_decimals(0.0199999, [0.02], base=1, percent=True)
    5
    >>> decisive_decimals(0.721, [0.8], base=1, percent=True)
    1
    """
    scale = 100.0 if percent else 1.0
    v = float(value)
    for d in range(base, base + 12):
        shown = round(v * scale, d) / scale
        if all((shown >= t) == (v >= t) and (shown <= t) == (v <= t) for t in thresholds):
            return d
    return base + 12


def display_decimals(estimand: str, value: Any) -> int:
    """Decimals at which the estimate tables show a value, as a plain number.

    Rates and shares are shown as percentages with 1 decimal (3 decimals of the fraction);
    other values with 3 decimals below 1,000 and as whole numbers (at most) above.

    Examples
    --------
    >>> display_decimals("suppression_rate", 0.72), display_decimals("ATT", 287.3)
    (3, 3)
    >>> display_decimals("additional_screened", 1234.5)
    0
    """
    if _is_percent(estimand):
        return 3
    try:
        big = abs(float(value)) >= 1000
    except (TypeError, ValueError):
        big = False
    return 0 if big else 3


def _ci(d: Mapping[str, Any], estimand: str, lang: str = "en", *, rounded: bool = False) -> str:
    """An interval ``[low, high]``; a unit word (ポイント, 人) once after the bracket."""
    kind = value_kind(estimand)
    if kind == "points" or (kind == "people" and rounded):
        lo, hi = (d.get("conf_low"), d.get("conf_high"))
        if kind == "points":
            low, high = (
                fmt_value(v, estimand, lang=lang).removesuffix(_UNIT_WORDS[kind][lang])
                for v in (lo, hi)
            )
        else:
            low, high = (fmt_value(v, decimals=0) for v in (lo, hi))
        return f"[{low}, {high}]{_UNIT_WORDS[kind][lang]}"
    return f"[{fmt_value(d.get('conf_low'), estimand)}, {fmt_value(d.get('conf_high'), estimand)}]"


def _targets(contract: Mapping[str, Any] | None) -> dict[str, float]:
    out: dict[str, float] = {}
    if not contract:
        return out
    for comp in contract.get("contract", {}).get("component", []):
        sched = comp.get("schedule", {})
        if isinstance(sched, Mapping) and "target" in sched:
            out[str(comp.get("indicator"))] = float(sched["target"])
    return out


def _fig(fid: str, title: str, fig: Any) -> FigureBlock:
    png, svg = F.render(fig)
    return FigureBlock(id=fid, title=title, png=png, svg=svg)


def _flow_frame(
    led: DocumentPublication,
    flow: Mapping[str, Any],
    keys: Mapping[str, Any],
    lang: Lang,
    *,
    analysed: str = "analysed",
    names: Mapping[str, str] | None = None,
) -> pd.DataFrame:
    words = {
        "input": t("input", lang),
        "excluded": t("excluded_word", lang),
        "analysed": t(analysed, lang),
    }

    def reason(r: Any) -> str:
        # a flow reason is a message record; the counts of the flow itself are the cells
        return render(r, lang, min_cell=0, labels=names)

    def group(label: str) -> str:
        return group_label(label, lang)

    df = render_flow(led, flow, keys, labels=words, text=group, reason=reason)
    if list(flow["n_input"]) == ["all"]:
        df = df.drop(columns="group")  # one group: a column saying "all" on every row
    return df.rename(
        columns={
            "group": t("group", lang),
            "step": t("step", lang),
            "excluded": t("excluded", lang),
            "remaining": t("remaining", lang),
        }
    )


def _cohort_chain(run: EvaluationRun, name: str) -> list[str]:
    chain = []
    while name in run.spec.cohorts:
        chain.append(name)
        name = run.spec.cohorts[name].source
    return chain[::-1]


def _root(run: EvaluationRun, name: str) -> str:
    """The data source a cohort (or data source) comes from."""
    while name in run.spec.cohorts:
        name = run.spec.cohorts[name].source
    return name


def _rows_are_people(run: EvaluationRun, name: str) -> bool:
    """Whether the rows of a data source or cohort are people.

    A data source without a person-id column (``id_col``) is aggregated data (a yearly
    series, municipality-years): its rows, and the counts of rows, are not people. Any
    other data source is person-level; unknown names count as people (the safe side).
    """
    src = run.spec.data.get(_root(run, name))
    return src is None or src.id_col is not None


def _input_is_people(run: EvaluationRun, key: str) -> bool:
    """Whether the rows of an ``inputs`` entry (``name``, ``name.followup``,
    ``name.merge[i]``) are people: a merged file only when joined on the person id."""
    name, _, part = key.partition(".")
    src = run.spec.data.get(name)
    if src is None:
        return True
    if part.startswith("merge[") and part.endswith("]"):
        i = int(part[6:-1])
        return src.id_col is not None and i < len(src.merge) and src.merge[i].on == src.id_col
    return src.id_col is not None


def _input_key(name: str, group: str) -> str:
    """The ``inputs`` entry of a group of a data source's flow (``name`` for ``"all"``,
    else ``name.group``, e.g. ``name.merge[0]``)."""
    return name if group == "all" else f"{name}.{group}"


def _merge_people(run: EvaluationRun, name: str, flow: Mapping[str, Any]) -> dict[str, bool]:
    """Per group of a data source's flow, whether it counts people."""
    return {g: _input_is_people(run, _input_key(name, g)) for g in flow["n_input"]}


def _unit(
    run: EvaluationRun, ind_data: str, flow: Mapping[str, Any] | None, design: DesignSpec
) -> str:
    """What an indicator's ``n`` counts: ``"people"``, ``"years"`` or ``"rows"``."""
    if _rows_are_people(run, ind_data):
        return "people"
    if design.input == "series" or (flow and list(flow["n_input"]) == ["years"]):
        return "years"  # a design declared to read a yearly series counts years
    return "rows"


def _diag_kind(key: str, v: Any) -> str:
    """What a diagnostic is: its declared kind (the design contract). A name no design has
    declared is read on the safe side: a whole number is taken for a count of people."""
    declared = DECLARED.get(key)
    if declared is not None:
        return declared.kind
    whole = _is_number(v) and math.isfinite(float(v)) and float(v) == int(v)
    return "people" if whole else "other"


@dataclass
class _Counts:
    """Ledger keys of every count the document shows."""

    led: DocumentPublication
    cohort_flows: dict[str, dict[str, list[tuple[str, str]]]] = field(default_factory=dict)
    ind_flows: dict[str, dict[str, list[tuple[str, str]]]] = field(default_factory=dict)
    keys: dict[str, str] = field(default_factory=dict)
    source_flows: dict[str, dict[str, list[tuple[str, str]]]] = field(default_factory=dict)
    units: dict[str, str] = field(default_factory=dict)

    def show(self, key: str) -> str:
        return self.led.show(self.keys[key])

    def published(self, item: str) -> bool:
        """Whether a derived value (an estimate, a rate, a diagnostic) is published."""
        return self.led.published(item)

    def show_n(self, key: str, lang: str) -> str:
        """A count with its unit when it is not a count of people (``8 years``)."""
        unit = self.units.get(key, "people")
        if unit == "people":
            return self.show(key)
        return t(f"unit_{unit}", lang).format(n=self.show(key))


#: Diagnostics of an indicator with ``by``, shown in its per-group sub-section
#: (report/group_sections.py).
_BY_DIAGNOSTICS = frozenset({"by", "by_group", "by_no_group"})


def _is_number(v: Any) -> bool:
    return isinstance(v, int | float) and not isinstance(v, bool)


def _rate_cells(
    c: _Counts,
    prefix: str,
    num: float,
    den: float,
    den_key: str | None,
    *,
    shown: bool = False,
    cost: float | None = None,
    fixed: bool = False,
    group: list[str] | None = None,
) -> None:
    """numerator + complement = denominator; ``shown``: the rate is published too (as a
    percentage to one decimal: 3 decimals of the fraction), a value a reader can use;
    ``group``: the counts of the people it estimates on (withheld when one is small)."""
    led = c.led
    nk = led.add(f"{prefix}:num", num)
    if den_key is not None and led.value(den_key) == den:
        dk = led.alias(f"{prefix}:den", den_key)
    else:
        dk = led.add(f"{prefix}:den", den)
    ck = led.add(f"{prefix}:comp", den - num)
    led.relate(dk, [nk, ck])
    # the people counted by a rate (completers) are usually a population shown elsewhere too
    # (the completers cohort): tie it to equal counts, as for a flow's analysed count
    led.population(nk)
    if shown and den > 0:
        led.ratio(f"{prefix}:rate", nk, dk, decimals=3, cost=cost, fixed=fixed, group=group or [dk])
    c.keys[f"{prefix}:num"], c.keys[f"{prefix}:den"] = nk, dk


def _populations(led: DocumentPublication, keys: Mapping[str, list[tuple[str, str]]]) -> None:
    """A flow's input and analysed counts are whole populations (tied to equal ones)."""
    for pairs in keys.values():
        led.population(pairs[0][1], pairs[-1][1])


def _register_counts(run: EvaluationRun, res: Mapping[str, Any]) -> _Counts:
    """Every count the document shows, in one ledger (so that complementary suppression sees
    every relation between tables), solved."""
    policy = getattr(run.spec.report, "disclosure", None)
    if policy is None:
        policy = DisclosurePolicy(min_cell=run.spec.report.min_cell)
    c = _Counts(DocumentPublication(policy))
    final = _register_inputs(c, run, res)
    for ind in run.spec.indicators:
        _register_indicator(c, run, ind, res["indicators"][ind.id], final)
    _register_design_appendix(c, run)
    c.led.solve()
    return c


def _register_design_appendix(c: _Counts, run: EvaluationRun) -> None:
    """Counts an earlier publication of the same evaluation showed: the design appendix of
    the locked design prints each matching's numbers of matched participants and controls.

    A reader holds both documents, so those numbers are published here too (fixed cells),
    and every count of the indicator equal to one of them is the same people; the decision
    then never hides what the design appendix shows, and reports what the two together give
    back (e.g. participants − matched = the unmatched).
    """
    check = getattr(run, "design_check", None) or {}
    shown = check.get("published_counts") or {}
    led = c.led
    for k, ind in enumerate(run.spec.indicators):
        counts = shown.get(getattr(ind, "key_path", f"indicators[{k}]"), {})
        flows = c.ind_flows.get(ind.id, {})
        for group, n in counts.items():
            arm = "treated" if group == "n_treated" else "control"
            same = [
                key
                for key in [rem for _, rem in flows.get(arm, [])]
                + [v for name, v in c.keys.items() if name.startswith(f"ind:{ind.id}:diag:")]
                if isinstance(key, str) and led.counts_people(key) and led.value(key) == n
            ]
            if not same:
                continue
            fixed = led.add(f"ind:{ind.id}:design:{group}", n, people=False)
            for key in dict.fromkeys(same):
                led.relate(key, [fixed])


def _register_inputs(c: _Counts, run: EvaluationRun, res: Mapping[str, Any]) -> dict[str, str]:
    """Input files, linked / merged sources and cohorts; returns the ledger key of the final
    count of every data source and cohort."""
    led = c.led
    final: dict[str, str] = {}
    for name, inp in res["provenance"]["inputs"].items():
        final[name] = led.add(f"src:{name}", inp["rows"], people=_input_is_people(run, name))
        led.population(final[name])
    # linked / merged data sources: baseline records -> linked; each merged file's records
    for name, flow in (res["sample_flow"].get("sources") or {}).items():
        inputs = {
            g: final[_input_key(name, g)] for g in flow["n_input"] if _input_key(name, g) in final
        }
        c.source_flows[name] = register_flow(
            led, flow, f"srcflow:{name}", input_keys=inputs, people=_merge_people(run, name, flow)
        )
        _populations(led, c.source_flows[name])
    prefixes: dict[str, str] = {}
    for cname, coh in run.spec.cohorts.items():
        flow = res["sample_flow"]["cohorts"][cname]
        keys = register_flow(
            led,
            flow,
            f"coh:{cname}",
            input_keys={"all": final[coh.source]},
            people=_rows_are_people(run, cname),
        )
        c.cohort_flows[cname] = keys
        _populations(led, keys)
        _same_prefixes(led, flow, keys["all"], prefixes, root=_root(run, cname))
        final[cname] = keys["all"][-1][1]
    return final


def _same_prefixes(
    led: DocumentPublication,
    flow: Mapping[str, Any],
    pairs: list[tuple[str, str]],
    seen: dict[str, str],
    *,
    root: str,
) -> None:
    """Cohorts filtered from the same input by the same first filters hold the same people
    after them, and a reader sees the same reasons in both tables: tie those counts, so one
    is never hidden while the other is shown."""
    import json

    sig = [root, str(led.value(pairs[0][1]))]
    for step, (_, rem) in zip(flow.get("steps", []), pairs[1:], strict=False):
        sig.append(json.dumps(step.get("reason"), sort_keys=True, ensure_ascii=False))
        k = "\x1f".join(sig)
        other = seen.setdefault(k, rem)
        if other != rem and led.value(other) == led.value(rem):
            led.relate(other, [rem])


def _register_indicator(
    c: _Counts, run: EvaluationRun, ind: Any, d: Mapping[str, Any], final: Mapping[str, str]
) -> None:
    """An indicator's flow (tied to its cohort), its n, its rates, its diagnostics and its
    related estimates."""
    led, p = c.led, f"ind:{ind.id}"
    flow = d.get("sample_flow")
    people = _rows_are_people(run, ind.data)
    unit = _unit(run, ind.data, flow, get(ind.design))
    n_key = None
    if flow:
        groups = list(flow["n_input"])
        base = final[ind.data]
        inputs = {"all": base} if groups == ["all"] else {}
        keys = register_flow(led, flow, p, input_keys=inputs, people=people)
        c.ind_flows[ind.id] = keys
        _populations(led, keys)
        if len(groups) > 1 and sum(flow["n_input"].values()) == led.value(base):
            led.relate(base, [keys[g][0][1] for g in groups])
        analysed = [keys[g][-1][1] for g in groups]
        if len(groups) == 1 and led.value(analysed[0]) == d["n"]:
            n_key = led.alias(f"{p}:n", analysed[0])
    if n_key is None:
        n_key = led.add(f"{p}:n", d["n"], people=people)
    c.keys[f"{p}:n"] = n_key
    c.units[f"{p}:n"] = unit
    led.population(n_key)
    if people:
        led.key_count(n_key, "analysed")
        if flow and "treated" in flow["n_input"]:
            led.key_count(c.ind_flows[ind.id]["treated"][0][1], "participants")
    # the estimate, its SE, intervals and figures: statistics of the analysed groups
    groups = [n_key]
    if flow:
        groups += [pairs[-1][1] for pairs in c.ind_flows[ind.id].values()]
    c.keys[f"{p}:groups"] = ",".join(groups)
    publish = led.policy.publish_estimates
    led.group(f"{p}:estimate", groups if people else [], fixed=publish)
    _register_diagnostics(c, ind, d, n_key, groups)
    for name, r in (d.get("related") or {}).items():
        rp = f"{p}:rel:{name}"
        if r.get("n") is None:
            continue
        # the observed rate of a yearly series is over the people eligible that year
        of_people = people or r.get("estimand") == "observed_rate"
        c.keys[f"{rp}:n"] = led.add(f"{rp}:n", r["n"], people=of_people)
        c.units[f"{rp}:n"] = "people" if of_people else unit
        led.group(f"{rp}:estimate", [c.keys[f"{rp}:n"]] if of_people else [], fixed=publish)
        rd = r.get("diagnostics") or {}
        for num_k, den_k in RATE_PAIRS:
            if _is_number(rd.get(num_k)):
                den = float(rd.get(den_k, r["n"]))
                num = float(rd[num_k])
                rate = is_rate_of(r.get("value"), num, den)
                cost = led.policy.cost("related")
                rel_n = [c.keys[f"{rp}:n"]] if people else []
                _rate_cells(c, rp, num, den, c.keys[f"{rp}:n"], shown=rate, cost=cost, group=rel_n)
                if rate:
                    _register_ci(c, rp, r, cost=cost, fixed=False, group=rel_n)
                break
    register_groups(c, run, ind, d, final, n_key)  # the per-group results, if any


def _register_ci(
    c: _Counts,
    prefix: str,
    d: Mapping[str, Any],
    *,
    cost: float | None,
    fixed: bool,
    group: list[str],
) -> None:
    """The proportion intervals an estimate shows (Wilson, Clopper–Pearson; the main interval
    when it is one of them), each a published pair of limits to 3 decimals of the fraction."""
    shown: dict[str, tuple[float, float]] = {}
    for name, lim in (d.get("intervals") or {}).items():
        if name in ("wilson", "clopper_pearson") and lim and all(map(_is_number, lim)):
            shown[name] = (float(lim[0]), float(lim[1]))
    if not shown and _is_number(d.get("conf_low")) and "wilson" in str(d.get("method", "")).lower():
        shown["wilson"] = (float(d["conf_low"]), float(d["conf_high"]))
    for name, (lo, hi) in shown.items():
        c.led.proportion_ci(
            f"{prefix}:ci:{name}",
            f"{prefix}:num",
            f"{prefix}:den",
            conf_low=lo,
            conf_high=hi,
            decimals=3,
            method=name,
            level=float(d.get("level", 0.95)),
            cost=cost,
            fixed=fixed,
            group=group,
        )


def _register_diagnostics(
    c: _Counts, ind: Any, d: Mapping[str, Any], n_key: str, groups: list[str]
) -> None:
    """Rates (numerator, complement, denominator tied; the estimate when it is the rate), then
    every count by its kind, then every value derived from counts (a diagnostic rate, degrees
    of freedom): published only when the decision allows."""
    p = f"ind:{ind.id}"
    led = c.led
    diag: Mapping[str, Any] = d.get("diagnostics") or {}
    policy = led.policy
    # the indicator's own counts of people (its flow's remaining counts, its n): equal counts
    # of its diagnostics are tied to them below
    flows = c.ind_flows.get(ind.id, {})
    own_keys = [n_key] + [rem for pairs in flows.values() for _, rem in pairs]
    own = {led.value(k) for k in own_keys if led.counts_people(k) and led.value(k) >= led.min_cell}
    for num_k, den_k in RATE_PAIRS:
        num: Any = diag.get(num_k)
        den: Any = diag.get(den_k)
        if _is_number(num) and _is_number(den):
            rate = is_rate_of(d.get("value"), float(num), float(den))
            fixed = rate and policy.publish_estimates
            _rate_cells(
                c, f"{p}:{num_k}", float(num), float(den), n_key, shown=rate, fixed=fixed,
                group=groups,
            )  # fmt: skip
            if rate:
                _register_ci(c, f"{p}:{num_k}", d, cost=None, fixed=fixed, group=groups)
            c.keys[f"{p}:diag:{num_k}"] = c.keys[f"{p}:{num_k}:num"]
            c.keys[f"{p}:diag:{den_k}"] = c.keys[f"{p}:{num_k}:den"]
    for k, v in diag.items():
        key = f"{p}:diag:{k}"
        if not _is_number(v) or key in c.keys or k in _BY_DIAGNOSTICS:
            continue
        kind = _diag_kind(k, v)
        declared = DECLARED.get(k)
        if declared is not None and declared.derived_from:
            continue  # a value derived from counts: below
        if kind == "people" and k not in policy.not_sensitive:
            c.keys[key] = led.add(key, v)
            led.population(c.keys[key])
            if "matched" in k:
                led.key_count(c.keys[key], "matched")
        elif kind in ("count", "people"):  # pairs, clusters, replicates; rows or years
            if kind == "count" and _is_number(v) and float(v) in own:
                # a count equal to one of the indicator's counts of people is most likely the
                # same people counted another way (matched sets = matched participants): it
                # may be hidden with them, though it is not a small count on its own
                c.keys[key] = led.add(key, v)
                led.plain(c.keys[key])
            else:
                c.keys[key] = led.add(key, v, people=False)
    # within one indicator, a diagnostic count equal to a count of its flow is taken for the
    # same people (the matched participants and the flow's count after matching): a reader
    # would, so both are shown or both hidden
    by_value: dict[float, list[str]] = {}
    for k in own_keys + [c.keys[f"{p}:diag:{x}"] for x in diag if f"{p}:diag:{x}" in c.keys]:
        if led.counts_people(k) and led.value(k) >= led.min_cell:
            by_value.setdefault(led.value(k), []).append(k)
    for same in by_value.values():
        for a, b in itertools.pairwise(same):
            if led._keys[a] != led._keys[b]:
                led.relate(a, [b])
    for k, v in diag.items():
        declared = DECLARED.get(k)
        if not _is_number(v) or declared is None or not declared.derived_from:
            continue
        cells = [c.keys.get(f"{p}:diag:{src}") for src in declared.derived_from]
        known = [x for x in cells if x is not None]
        # a source count the document does not register is one of the analysed groups
        sources = known if len(known) == len(cells) else known + groups
        if declared.kind == "proportion" and len(known) == 2 == len(cells):
            if led.value(known[1]) > 0:
                led.ratio(f"{p}:diag:{k}", known[0], known[1], decimals=3)
        else:
            led.reveals(f"{p}:diag:{k}", sources)


_LINK_WORDS = {
    "logit": (
        "ロジスティック回帰、傾向スコアでマッチング",
        "logistic regression; match on the score",
    ),
    "linear.logit": (
        "ロジスティック回帰、傾向スコアのロジット（線形予測子）でマッチング",
        "logistic regression; match on the logit of the score (linear predictor)",
    ),
    "probit": ("プロビット回帰、傾向スコアでマッチング", "probit regression; match on the score"),
    "linear.probit": (
        "プロビット回帰、線形予測子でマッチング",
        "probit regression; match on the linear predictor",
    ),
}
_ORDER_WORDS = {
    "largest": ("傾向スコアの大きい参加者から", "highest score first"),
    "smallest": ("傾向スコアの小さい参加者から", "lowest score first"),
    "random": ("無作為な順序（シード固定）", "random order (seeded)"),
    "data": ("データの並び順", "data order"),
}
_DISCARD_WORDS = {
    "none": ("なし", "none"),
    "both": ("参加者・対照の両方", "participants and controls"),
    "control": ("対照のみ", "controls only"),
    "treated": ("参加者のみ", "participants only"),
}
_MISSING_WORDS = {
    "error": ("欠測があれば停止", "stop on any missing value"),
    "exclude": ("欠測のある人を除外（対象者の流れに計上）", "exclude (counted in the sample flow)"),
}


def _scale_key(link: str) -> str:
    """The i18n key of the scale the matching distance is on."""
    if link == "linear.logit":
        return "scale_logit"
    if link == "linear.probit":
        return "scale_probit"
    return "scale_ps"


def _match_options(ind: Any) -> dict[str, Any] | None:
    """The matching options of a psm indicator, with the matching function's defaults
    filled in (``None`` for an indicator without a matching step)."""
    design = get(ind.design)
    if design.matching is None:
        return None
    mfn = get(design.matching).load()
    opts: dict[str, Any] = {
        k: p.default
        for k, p in inspect.signature(mfn).parameters.items()
        if p.default is not inspect.Parameter.empty
    }
    opts.update(dict(ind.match))
    return opts


def _match_order(o: Mapping[str, Any]) -> str:
    """The order psm.match uses when the spec gives none (MatchIt's defaults)."""
    if o.get("order"):
        return str(o["order"])
    if o.get("distance") in ("mahalanobis", "robust_mahalanobis"):
        return "data"
    return "smallest" if o.get("estimand") == "ATC" else "largest"


def _match_table(ind: Any, lang: Lang, names: Mapping[str, str]) -> TableBlock | None:
    """The matching specification of a psm indicator (ratio, caliper and its scale, ...)."""
    o = _match_options(ind)
    if o is None:
        return None
    i = 0 if lang == "ja" else 1
    none = t("none_word", lang)

    def word(table: Mapping[str, tuple[str, str]], key: Any) -> str:
        return table[key][i] if key in table else str(key)

    def listed(v: Any) -> str:
        if not v:
            return none
        cols = [v] if isinstance(v, str) else v
        return _LIST_SEP[lang].join(names.get(str(x), str(x)) for x in cols)

    link = str(o.get("link", "logit"))
    cal = o.get("caliper")
    # a caliper per variable ({"distance": 0.2, "age": 5}) lists each; std_caliper says SDs
    cals = dict(cal) if isinstance(cal, Mapping) else ({} if cal is None else {"distance": cal})
    std = o.get("std_caliper", True)
    parts = [
        t("match_caliper_value", lang).format(c=f"{v:g}", scale=t(_scale_key(link), lang))
        if k == "distance"
        else f"{names.get(k, k)} {v:g}"
        + (" SD" if (std.get(k, True) if isinstance(std, Mapping) else std) else "")
        for k, v in cals.items()
    ]
    cal_text = ", ".join(parts) if parts else none
    rows = [
        (t("match_ratio", lang), f"{o.get('ratio', 1)}:1"),
        (t("match_caliper", lang), cal_text),
        (t("match_link", lang), word(_LINK_WORDS, link)),
        (t("match_replace", lang), t("yes" if o.get("replace") else "no", lang)),
        (t("match_order", lang), word(_ORDER_WORDS, _match_order(o))),
        (t("match_exact", lang), listed(o.get("exact"))),
        (t("match_covariates", lang), listed(o.get("covariates"))),
        (t("match_discard", lang), word(_DISCARD_WORDS, o.get("discard", "none"))),
        (t("match_missing", lang), word(_MISSING_WORDS, o.get("missing", "error"))),
    ]
    return TableBlock(
        f"{ind.id}_matching",
        f"{t('match_spec', lang)}: {ind.label_in(lang)}",
        pd.DataFrame(rows, columns=[t("item", lang), t("setting", lang)]),
    )


def _published_audit_trail(
    run: EvaluationRun,
    res: Mapping[str, Any],
    lang: str,
    *,
    withheld: frozenset[str] = frozenset(),
) -> str:
    """The payment audit trail with every indicator value written to no more decimals than
    the estimate tables use (:func:`display_decimals`), indicators by their labels, and no
    value of an indicator whose estimate the document withholds (``withheld`` ids)."""
    decimals = {
        ind_id: display_decimals(str(d.get("estimand", "")), d.get("value"))
        for ind_id, d in res["indicators"].items()
    }
    return str(run.payment.audit_trail(lang=lang, decimals=decimals, ids=False, withheld=withheld))


def _related_name(name: str, r: Mapping[str, Any], lang: str, names: Mapping[str, str]) -> str:
    """A related estimate's name: a domain by its column's label, the fixed vocabulary in
    Japanese, else the design's label."""
    if name.startswith("domain:"):
        col = name.split(":", 1)[1]
        return names.get(col, col)
    if name in RELATED or not r.get("label"):
        return related_label(name, lang)
    return str(r["label"])


def _linkage_blocks(
    run: EvaluationRun,
    res: Mapping[str, Any],
    counts: _Counts,
    lang: Lang,
    names: Mapping[str, str],
) -> list[Block]:
    """CONSORT-style tables of the linked / merged data sources (``sample_flow.sources``)."""
    flows = res["sample_flow"].get("sources") or {}
    if not flows:
        return []
    linked = any("all" in f["n_input"] for f in flows.values())
    out: list[Block] = [Paragraph(t("linkage_text", lang))]
    if linked:
        out.append(Paragraph(t("linkage_baseline", lang)))
    for name, flow in flows.items():
        people = all(_merge_people(run, name, flow).values())
        # group names from what the groups are (the baseline, a merged file), not from words
        groups = {
            g: t("baseline_records", lang)
            if g == "all"
            else t("file_records", lang).format(
                file=merge_label(run.spec, name, g, lang, flow.get("labels", {}).get(g, g))
            )
            for g in flow["n_input"]
        }
        shown = {**flow, "labels": groups}
        out.append(
            TableBlock(
                f"source_{name}",
                f"{t('flow', lang)} — {t('linkage', lang)}"
                f"{_PAREN[lang].format(source_label(run.spec, name, lang))}",
                _flow_frame(
                    counts.led,
                    shown,
                    counts.source_flows[name],
                    lang,
                    analysed="linked",
                    names=names,
                ),
                note="" if people else t("not_people_note", lang),
            )
        )
    return out


@dataclass(frozen=True)
class _Context:
    """What every step of :func:`build_document` reads."""

    run: EvaluationRun
    res: Mapping[str, Any]  # the results.json document
    spec: Any
    lang: Lang
    min_cell: int
    counts: _Counts
    hidden: set[int]  # counts hidden by complementary suppression (a notice's too)
    targets: Mapping[str, float]
    #: readers' names of columns, data sources and cohorts (labels.py)
    names: Mapping[str, str] = field(default_factory=dict)
    #: per indicator, the values where its payment schedules change (targets, steps)
    thresholds: Mapping[str, tuple[float, ...]] = field(default_factory=dict)

    def shown(self, ind_id: str, value: Any, estimand: str, *, rounded: bool = False) -> str:
        """An indicator's value with as many digits as its payment schedule needs to be
        read right (:func:`decisive_decimals`)."""
        return fmt_value(
            value,
            estimand,
            lang=self.lang,
            rounded=rounded,
            decimals=_tier_decimals(value, estimand, self.thresholds.get(ind_id, ())),
        )


def build_document(run: EvaluationRun) -> Document:
    """Build the appendix content of a run (see the module docstring).

    The steps: register every published count with the disclosure ledger, then one section
    each — summary, indicators, payment, notices of the run, reproducibility, disclosure.

    Parameters
    ----------
    run
        From :func:`pfseval.batch.run_spec`.

    Returns
    -------
    Document
    """
    res = run.results()
    sp = run.spec
    counts = _register_counts(run, res)
    c = _Context(
        run=run,
        res=res,
        spec=sp,
        lang=sp.report.lang,
        min_cell=sp.report.min_cell,
        counts=counts,
        hidden=counts.led.hidden_values(),
        targets=_targets(sp.contract),
        names=_reader_names(sp, sp.report.lang),
        thresholds=_thresholds(run),
    )
    sections = [
        _summary_section(c),
        _flow_section(c),
        Section(t("indicators", c.lang), 2),
        *(
            s
            for k, ind in enumerate(sp.indicators, start=1)
            for s in (_indicator_section(c, k, ind), *group_blocks(c, k, ind))
        ),
        _payment_section(c),
        _run_notices_section(c),
        *_design_stage_sections(run, c.lang),
        _repro_section(c),
        _disclosure_section(c),
    ]
    from pfseval.report.sensitivity import sensitivity_section  # annex (docs/sensitivity.md)

    sens = {k: v.to_dict() for k, v in run.sensitivity.items()}
    n_by = {k: e.n for k, e in run.estimates.items()}
    annex = sensitivity_section(sens, sp, n_by)
    if annex is not None:
        sections.append(annex)
    glossary = _glossary_section(c, sections)
    if glossary is not None:  # after the sections (and annex) whose terms it explains
        sections.insert(len(sections) - (annex is not None), glossary)
    title = sp.report.title or sp.title or t("appendix", c.lang)
    return Document(lang=c.lang, title=title, meta=_meta(c), sections=tuple(sections))


def _thresholds(run: EvaluationRun) -> dict[str, tuple[float, ...]]:
    """Per indicator, the knots of the schedules paying on it (targets, steps, limits)."""
    out: dict[str, tuple[float, ...]] = {}
    contract = getattr(run.payment, "contract", None)
    for comp in getattr(contract, "components", ()):
        knots = tuple(float(k) for k in comp.schedule.knots() if math.isfinite(k))
        out[comp.indicator] = out.get(comp.indicator, ()) + knots
    return out


def _tier_decimals(value: Any, estimand: str, thresholds: tuple[float, ...]) -> int | None:
    """Decimals that decide every tier for a rate or a difference of rates (None: the
    default display)."""
    kind = value_kind(estimand)
    if not thresholds or not _is_number(value) or not math.isfinite(float(value)):
        return None
    if kind in ("percent", "points"):
        return decisive_decimals(float(value), thresholds, base=1, percent=True)
    if kind == "number":
        return decisive_decimals(float(value), thresholds, base=3, percent=False)
    return None


def _reader_names(spec: Any, lang: Lang) -> dict[str, str]:
    """Columns by their labels, and data sources and cohorts by theirs (a message naming a
    source, e.g. a merge reason, shows its label)."""
    names = column_names(spec, lang)
    for name in [*spec.data, *spec.cohorts]:
        names.setdefault(name, source_label(spec, name, lang))
    return names


def _glossary_section(c: _Context, sections: list[Section]) -> Section | None:
    """8. The statistical terms the appendix uses, in plain words."""
    from pfseval.report.glossary import glossary_frame

    body = Document(lang=c.lang, title="", meta=(), sections=tuple(sections)).text()
    frame = glossary_frame(body, c.lang, columns=[t("term", c.lang), t("explanation", c.lang)])
    if frame is None:
        return None
    table = TableBlock("glossary", t("glossary", c.lang), frame)
    return Section(t("glossary_section", c.lang), 2, (table,), key="glossary")


def _design_stage_sections(run: Any, lang: str) -> list[Section]:
    from pfseval.report.design_sections import stage_sections

    return stage_sections(run, lang)


def _meta(c: _Context) -> tuple[tuple[str, str], ...]:
    """Period, evaluator and the time the run finished."""
    rep, lang = c.spec.report, c.lang
    meta = []
    if rep.period:
        meta.append((t("period", lang), rep.period))
    if rep.evaluator:
        meta.append((t("evaluator", lang), rep.evaluator))
    meta.append((t("generated", lang), jst(c.run.finished_at)))
    return tuple(meta)


def jst(timestamp: str) -> str:
    """An ISO 8601 time (results.json keeps UTC) shown in Japan Standard Time with its offset.

    Examples
    --------
    >>> jst("2026-12-06T23:26:04+00:00")
    '2026-12-07 08:26:04 (UTC+09:00)'
    >>> jst("")
    ''
    """
    import datetime as _dt

    if not timestamp:
        return ""
    try:
        when = _dt.datetime.fromisoformat(str(timestamp))
    except ValueError:
        return str(timestamp)
    if when.tzinfo is None:  # a time without an offset is taken as UTC, as pfseval writes it
        when = when.replace(tzinfo=_dt.UTC)
    local = when.astimezone(_dt.timezone(_dt.timedelta(hours=9)))
    return local.strftime("%Y-%m-%d %H:%M:%S") + " (UTC+09:00)"


def _summary_section(c: _Context) -> Section:
    """1. The indicators at a glance, linked sources, the estimates figure, the payment."""
    run, res, sp, lang, counts, targets = c.run, c.res, c.spec, c.lang, c.counts, c.targets
    blocks: list[Block] = []
    if sp.programme:
        blocks.append(Paragraph(f"{t('programme', lang)}: {sp.programme}"))
    if sp.report.summary:
        blocks.append(Paragraph(sp.report.summary))
    glance_rows = []
    est_rows = []
    for ind in sp.indicators:
        d = res["indicators"][ind.id]
        est = d["estimand"]
        ref = (d.get("related") or {}).get("reference_rate")
        shown = counts.published(f"ind:{ind.id}:estimate")
        if ref and not (
            counts.published(f"ind:{ind.id}:rel:reference_rate:estimate")
            and counts.published(f"ind:{ind.id}:rel:reference_rate:rate")
        ):
            ref = None
        glance_rows.append(
            {
                t("indicator", lang): ind.label_in(lang),
                t("design", lang): get(ind.design).title[lang],
                t("value", lang): c.shown(ind.id, d["value"], est, rounded=True)
                if shown
                else SECONDARY,
                f"{round(100 * d['level'])}% {t('ci', lang)}": _ci(d, est, lang, rounded=True)
                if shown
                else SECONDARY,
                t("target", lang): fmt_value(targets.get(ind.id), est, lang=lang),
                t("reference", lang): fmt_value(ref["value"], ref.get("estimand", est), lang=lang)
                if ref
                else "–",
                t("n", lang): counts.show_n(f"ind:{ind.id}:n", lang),
            }
        )
        if not shown:
            continue  # no point in the figure for a group under min_cell
        est_rows.append(
            {
                "label": ind.label_in(lang),
                "value": d["value"],
                "conf_low": d["conf_low"],
                "conf_high": d["conf_high"],
                "target": targets.get(ind.id),
                "reference": ref["value"] if ref else None,
                "kind": value_kind(est),
            }
        )
    blocks.append(TableBlock("indicators", t("glance", lang), pd.DataFrame(glance_rows)))
    finite = [
        r
        for r in est_rows
        if all(r[k] is not None and math.isfinite(r[k]) for k in ("value", "conf_low", "conf_high"))
    ]
    if finite:
        blocks.append(
            _fig("estimates", t("estimates_fig", lang), F.estimates_plot(finite, lang=lang))
        )
    if run.payment is not None:
        p = res["payment"]
        money = unit_text(p["unit"], lang)
        total = f"{p['contract_name']} — {t('total', lang)}: {p['total']:,.0f} {money}"
        if p.get("cap"):
            total += _PAREN[lang].format(f"{t('cap', lang)} {p['cap']:,.0f} {money}")
        blocks.append(Paragraph(total))
        blocks += _schedule_blocks(c)
    return Section(t("summary", lang), 2, tuple(blocks))


def _schedule_blocks(c: _Context) -> list[Block]:
    """Every payment component's schedule as a table and as a payment curve with the
    observed value and its CI, so a reader can check each tier without the contract."""
    from pfseval.report.schedule_figures import payment_curve_plot, schedule_frame

    contract = getattr(c.run.payment, "contract", None)
    if contract is None or not contract.components:
        return []
    lang, unit = c.lang, unit_text(contract.unit, c.lang)
    labels_of = {ind.id: ind.label_in(lang) for ind in c.spec.indicators}
    out: list[Block] = [Paragraph(t("schedules_text", lang))]
    for j, comp in enumerate(contract.components):
        d = c.res["indicators"].get(comp.indicator, {})
        est = str(d.get("estimand", ""))
        kind = value_kind(est)
        published = c.counts.published(f"ind:{comp.indicator}:estimate")

        def fmt(x: float, est: str = est) -> str:
            return fmt_value(x, est, lang=lang, decimals=_schedule_decimals(x, est))

        def shown(x: float, ind: str = comp.indicator, est: str = est) -> str:
            return c.shown(ind, x, est)

        ind_label = labels_of.get(comp.indicator, comp.indicator)
        name = (
            comp.label
            if comp.label == ind_label
            else f"{comp.label}{_PAREN[lang].format(ind_label)}"
        )
        out.append(
            TableBlock(
                f"schedule_{j}",
                f"{t('schedule_table', lang)}: {name}",
                schedule_frame(comp, unit=unit, lang=lang, fmt=fmt),
                note=f"{t('schedule', lang)}: {schedule_label(comp.schedule.type, lang)}",
            )
        )
        fig = payment_curve_plot(
            comp,
            rounding=contract.rounding,
            rounding_unit=contract.rounding_unit,
            unit=unit,
            xlabel=labels_of.get(comp.indicator, comp.indicator),
            lang=lang,
            percent=kind in ("percent", "points"),
            # an estimate withheld (a group under min_cell, or to protect a count) is not
            # marked on the curve either: the mark would give it back
            value=d.get("value") if published else None,
            conf_low=d.get("conf_low") if published else None,
            conf_high=d.get("conf_high") if published else None,
            level=float(d.get("level", 0.95)),
            fmt=shown,
        )
        out.append(_fig(f"schedule_{j}", f"{t('schedule_fig', lang)}: {name}", fig))
    return out


def _schedule_decimals(x: float, estimand: str) -> int | None:
    """Decimals of a schedule's own numbers: as written in the contract (0.025 → 2.5%)."""
    if value_kind(estimand) not in ("percent", "points"):
        return None if float(x) != int(x) else 0
    text = f"{100 * float(x):.10f}".rstrip("0").rstrip(".")
    return max(1, len(text.partition(".")[2]))


_COLON = {"ja": "：", "en": ": "}
_PAREN = {"ja": "（{}）", "en": " ({})"}

LONG_TABLE_ROWS = 30
"""A table with more rows runs over pages in the HTML and PDF (its header repeated); a
figure that goes with it comes before it."""


def _indicator_section(c: _Context, k: int, ind: Any) -> Section:
    """3.k One indicator: design, method, flows, estimate, related, diagnostics, figures,
    notices."""
    lang, m, hidden = c.lang, c.min_cell, c.hidden
    d = c.res["indicators"][ind.id]
    design = get(ind.design)
    blocks: list[Block] = [
        Paragraph(f"{t('design', lang)}{_COLON[lang]}{design.title[lang]}"),
        Paragraph(design.description[lang]),
        Paragraph(design.assumptions[lang]),
        Paragraph(
            f"{t('method', lang)}{_COLON[lang]}"
            f"{render(d['method'], lang, min_cell=m, hidden=hidden, labels=c.names)}"
        ),
    ]
    blocks.append(_settings_table(ind, design, lang, c.names))
    match_block = _match_table(ind, lang, c.names)
    if match_block is not None:
        blocks.append(match_block)
    blocks += _flow_blocks(c, ind, d)
    blocks.append(_estimate_table(c, ind, d))
    if d.get("related"):
        blocks.append(_related_table(c, ind, d))
    diag = _diagnostics_table(c, ind, d)
    if diag is not None:
        blocks.append(diag)
    blocks += _figure_blocks(c, ind)
    notes = [
        render(n, lang, min_cell=m, hidden=hidden, labels=c.names) for n in d.get("notices") or []
    ]
    blocks.append(Paragraph(t("warnings", lang) + ":"))
    blocks.append(Bullets(tuple(notes)) if notes else Paragraph(t("no_warnings", lang)))
    return Section(f"3.{k} {ind.label_in(lang)}", 3, tuple(blocks))


def _setting_text(value: Any, lang: Lang, names: Mapping[str, str], option: str = "") -> str:
    """An option's value for a reader: names by their labels, choices in words, lists
    joined, yes / no, numbers with separators."""
    if isinstance(value, bool):
        return t("yes" if value else "no", lang)
    if isinstance(value, str):  # a column, an interval, or a choice with fixed words
        return names.get(value) or option_value(option, value, lang)
    if isinstance(value, Mapping):
        return _LIST_SEP[lang].join(
            f"{names.get(str(k), str(k))}: {_setting_text(v, lang, names, option)}"
            for k, v in value.items()
        )
    if isinstance(value, list | tuple):
        return _LIST_SEP[lang].join(_setting_text(v, lang, names, option) for v in value)
    if isinstance(value, int) and not (option.endswith("year") or "year" in option):
        return f"{value:,}"
    return str(value)


_LIST_SEP = {"ja": "、", "en": ", "}


def _settings_table(
    ind: Any, design: DesignSpec, lang: Lang, names: Mapping[str, str]
) -> TableBlock:
    """The options the spec sets for the design, by their declared labels, and the level."""
    opts = design.option_map
    rows = [(t("ci_level", lang), f"{round(100 * ind.level)}%")]
    for name, value in ind.options.items():
        label = opts[name].label.get(lang) or name if name in opts else name
        rows.append((label, _setting_text(value, lang, names, name)))
    return TableBlock(
        f"{ind.id}_settings",
        f"{t('design_settings', lang)}: {ind.label_in(lang)}",
        pd.DataFrame(rows, columns=[t("item", lang), t("setting", lang)]),
    )


def _flow_blocks(c: _Context, ind: Any, d: Mapping[str, Any]) -> list[Block]:
    """The cohort filters' flows, then the design's own accounting."""
    lang, counts = c.lang, c.counts
    note = "" if _rows_are_people(c.run, ind.data) else t("not_people_note", lang)
    out: list[Block] = []
    if _cohort_chain(c.run, ind.data):
        # the cohort filters are drawn once, in the flow section; the indicator refers to it
        out.append(
            Paragraph(
                t("see_flow", lang).format(
                    cohort=source_label(c.spec, ind.data, lang),
                    source=source_label(c.spec, _root(c.run, ind.data), lang),
                )
            )
        )
    if d.get("sample_flow"):
        out.append(
            TableBlock(
                f"{ind.id}_flow",
                f"{t('flow', lang)} — {t('design_flow', lang)}",
                _flow_frame(
                    counts.led, d["sample_flow"], counts.ind_flows[ind.id], lang, names=c.names
                ),
                note=note,
            )
        )
    return out


def _flow_section(c: _Context) -> Section:
    """2. Who was analysed: linked sources, then per data source one CONSORT-style diagram
    of its cohort tree and each cohort's table, shown once for every indicator."""
    from pfseval.report.flow_diagram import flow_diagram

    lang, counts = c.lang, c.counts
    blocks: list[Block] = [Paragraph(t("flow_section_text", lang))]
    blocks += _linkage_blocks(c.run, c.res, counts, lang, c.names)
    for root in c.spec.data:
        cohorts = [n for n in c.spec.cohorts if _root(c.run, n) == root]
        if not cohorts:
            continue
        label = source_label(c.spec, root, lang)
        fig = flow_diagram(_flow_nodes(c, root, cohorts), excluded_word=t("excluded_box", lang))
        blocks.append(_fig(f"flow_{root}", f"{t('flow_fig', lang)}: {label}", fig))
        note = "" if _rows_are_people(c.run, root) else t("not_people_note", lang)
        for cname in cohorts:
            flow = c.res["sample_flow"]["cohorts"][cname]
            blocks.append(
                TableBlock(
                    f"cohort_{cname}",
                    f"{t('flow', lang)} — {t('cohort_flow', lang)}"
                    f"{_PAREN[lang].format(source_label(c.spec, cname, lang))}",
                    _flow_frame(counts.led, flow, counts.cohort_flows[cname], lang, names=c.names),
                    note=note,
                )
            )
    return Section(t("flow_section", lang), 2, tuple(blocks), key="flow")


def _flow_nodes(c: _Context, root: str, cohorts: list[str]) -> list[Any]:
    """The boxes of a data source's flow diagram. Every count is the ledger's published
    text of the same cell the cohort tables show (suppression applies to the figure too)."""
    from pfseval.report.flow_diagram import FlowNode

    lang, led = c.lang, c.counts.led
    unit = "people" if _rows_are_people(c.run, root) else "rows"

    def n(key: str) -> str:
        return t(f"count_{unit}", lang).format(n=led.show(key))

    first = c.counts.cohort_flows[cohorts[0]]["all"]
    nodes = [FlowNode(root, None, source_label(c.spec, root, lang), n(first[0][1]))]
    n_steps: dict[str, int] = {root: 0}
    for cname in cohorts:
        parent = c.spec.cohorts[cname].source
        steps = c.res["sample_flow"]["cohorts"][cname]["steps"]
        pairs = c.counts.cohort_flows[cname]["all"]
        # a cohort's flow starts from the data source: its own filters follow its parent's
        own = range(n_steps[parent], len(steps))
        exclusions = tuple(
            (render(steps[i]["reason"], lang, min_cell=0, labels=c.names), n(pairs[i + 1][0]))
            for i in own
        )
        nodes.append(
            FlowNode(cname, parent, source_label(c.spec, cname, lang), n(pairs[-1][1]), exclusions)
        )
        n_steps[cname] = len(steps)
    return nodes


def _estimate_table(c: _Context, ind: Any, d: Mapping[str, Any]) -> TableBlock:
    """Value, interval, n, standard error, p value, other intervals, target."""
    lang, estimand = c.lang, d["estimand"]
    if not c.counts.published(f"ind:{ind.id}:estimate"):
        # from a group under min_cell: no estimate, SE or interval (they give values back)
        rows = [
            (t("value", lang), SECONDARY),
            (f"{round(100 * d['level'])}% {t('ci', lang)}", SECONDARY),
            (t("n", lang), c.counts.show_n(f"ind:{ind.id}:n", lang)),
        ]
        return TableBlock(
            f"{ind.id}_estimate",
            f"{t('estimate', lang)}: {ind.label_in(lang)}",
            pd.DataFrame(rows, columns=[t("item", lang), t("value", lang)]),
        )
    rows = [
        (t("value", lang), c.shown(ind.id, d["value"], estimand)),
        (f"{round(100 * d['level'])}% {t('ci', lang)}", _ci(d, estimand, lang)),
        (t("n", lang), c.counts.show_n(f"ind:{ind.id}:n", lang)),
    ]
    if d.get("std_error") is not None:
        rows.append((t("std_error", lang), fmt_value(d["std_error"], estimand, lang=lang)))
    if d.get("p_value") is not None:
        rows.append((t("p_value", lang), fmt_value(d["p_value"])))
    for name, (lo, hi) in (d.get("intervals") or {}).items():
        shown = _withheld_ci(c, ind.id, name)
        rows.append(
            (
                f"{t('ci', lang)} ({interval_label(name, lang)})",
                shown or _ci({"conf_low": lo, "conf_high": hi}, estimand, lang),
            )
        )
    if ind.id in c.targets:
        rows.append((t("target", lang), fmt_value(c.targets[ind.id], estimand, lang=lang)))
    return TableBlock(
        f"{ind.id}_estimate",
        f"{t('estimate', lang)}: {ind.label_in(lang)}",
        pd.DataFrame(rows, columns=[t("item", lang), t("value", lang)]),
    )


def _withheld_ci(c: _Context, ind_id: str, name: str) -> str:
    """``*`` when a proportion interval registered for the estimate is withheld, else ``""``."""
    for num_k, _ in RATE_PAIRS:
        if not c.counts.published(f"ind:{ind_id}:{num_k}:ci:{name}"):
            return SECONDARY
    return ""


def _related_table(c: _Context, ind: Any, d: Mapping[str, Any]) -> TableBlock:
    """The related estimates (the no-effect reference, the difference, the main estimate of
    an indicator that pays on a related one)."""
    lang = c.lang
    rows = []
    for name, r in d["related"].items():
        rp = f"ind:{ind.id}:rel:{name}"
        # a related rate withheld to protect a count takes its interval with it (the
        # interval's centre is the rate); a small group withholds both too
        value_ok = c.counts.published(f"{rp}:estimate") and c.counts.published(f"{rp}:rate")
        ci_ok = value_ok and all(
            c.counts.published(f"{rp}:ci:{m}") for m in ("wilson", "clopper_pearson")
        )
        rows.append(
            {
                t("name", lang): _related_name(name, r, lang, c.names),
                t("value", lang): fmt_value(r["value"], r.get("estimand", ""), lang=lang)
                if value_ok
                else SECONDARY,
                t("ci", lang): _ci(r, r.get("estimand", ""), lang) if ci_ok else SECONDARY,
                t("n", lang): c.counts.show_n(f"ind:{ind.id}:rel:{name}:n", lang)
                if r.get("n") is not None
                else "–",
                t("method", lang): render(
                    r.get("method", ""), lang, min_cell=c.min_cell, hidden=c.hidden, labels=c.names
                ),
            }
        )
    return TableBlock(f"{ind.id}_related", t("related", lang), pd.DataFrame(rows))


def _diagnostics_table(c: _Context, ind: Any, d: Mapping[str, Any]) -> TableBlock | None:
    """The diagnostics with their declared labels; counts of people through the ledger and
    values derived from a hidden count hidden too."""
    lang, counts = c.lang, c.counts
    rows = []
    for key, v in (d.get("diagnostics") or {}).items():
        if "id" in key.lower().split("_") or isinstance(v, dict | list) or key in _BY_DIAGNOSTICS:
            continue  # ids, tables, and the per-group results (their own sub-section)
        label = diagnostic_label(key, lang)
        if isinstance(v, bool):
            rows.append((label, t("yes" if v else "no", lang)))
        elif isinstance(v, int | float) and f"ind:{ind.id}:diag:{key}" in counts.keys:
            rows.append((label, counts.show(f"ind:{ind.id}:diag:{key}")))
        elif not counts.published(f"ind:{ind.id}:diag:{key}") or (
            isinstance(v, int | float) and not counts.published(f"ind:{ind.id}:estimate")
        ):
            rows.append((label, SECONDARY))
        elif isinstance(v, int | float) and "year" in key and float(v).is_integer():
            rows.append((label, str(int(v))))  # a fiscal year, not an amount: no separator
        elif isinstance(v, int | float):
            rows.append((label, fmt_value(v)))
        elif isinstance(v, str) and len(v) <= 200:
            rows.append((label, c.names.get(v) or value_text(v, lang)))
    if not rows:
        return None
    return TableBlock(
        f"{ind.id}_diagnostics",
        f"{t('diagnostics', lang)}: {t('diag_counts', lang)}",
        pd.DataFrame(rows, columns=[t("item", lang), t("content", lang)]),
    )


def withhold_small_levels(
    bal: pd.DataFrame, level_counts: Mapping[str, int] | None, min_cell: int
) -> tuple[pd.DataFrame, Any]:
    """The balance table with every statistic of a two-valued variable that has fewer than
    ``min_cell`` people at one value in a group set to NaN, and the mask of those rows.

    ``level_counts``: variable → the fewest people at one of its values in any group
    (``batch.runner._two_valued_level_counts``). Its SMD and variance ratio, with the group's
    size, would give that count back, so the appendix and the design appendix withhold them.
    """
    small = {v for v, k in (level_counts or {}).items() if 0 < k < min_cell}
    names = bal["variable"] if "variable" in bal.columns else pd.Series("", index=bal.index)
    mask = names.astype(str).isin(small).to_numpy()
    if mask.any():
        bal = bal.copy()
        stats = [c for c in bal.columns if pd.api.types.is_float_dtype(bal[c])]
        bal.loc[mask, stats] = float("nan")
    return bal, mask


def _balance_blocks(
    ind: Any,
    bal: pd.DataFrame,
    lang: Lang,
    labels: Mapping[str, str],
    *,
    level_counts: Mapping[str, int] | None = None,
    min_cell: int = 10,
) -> list[Block]:
    """The covariate balance table (variables by their labels) and the Love plot; the
    statistics :func:`withhold_small_levels` withholds show as ``*`` and are not plotted."""
    bal, withheld = withhold_small_levels(bal, level_counts, min_cell)
    if "variable" in bal.columns:  # variables by their labels (the score's own row too)
        names = {**labels, "distance": t("distance", lang)}
        bal = bal.assign(variable=[names.get(str(x), str(x)) for x in bal["variable"]])
    cols = [
        col
        for col in ("variable", "smd_before", "smd_after", "vr_before", "vr_after")
        if col in bal.columns
    ]
    shown = bal[cols].copy()
    for col in cols[1:]:
        # balance statistics to a fixed 3 decimals: |SMD| < 0.001 is simply "0.000"
        shown[col] = [fmt_value(x, decimals=3) for x in pd.to_numeric(shown[col], errors="coerce")]
        shown.loc[withheld, col] = SECONDARY
    shown = shown.rename(columns={col: t(col, lang) for col in cols})
    out: list[Block] = [TableBlock(f"{ind.id}_balance", t("balance", lang), shown)]
    if {"smd_before", "smd_after"} <= set(bal.columns):
        out.append(_fig(f"{ind.id}_love", t("love", lang), F.love_plot(bal, lang=lang)))
    return out


def _figure_blocks(c: _Context, ind: Any) -> list[Block]:
    """The figures the run prepared data for (balance, score overlap, yearly trend)."""
    lang = c.lang
    if not c.counts.published(f"ind:{ind.id}:estimate"):
        return []  # no figure from a group under min_cell
    figs = c.run.figure_data.get(ind.id, {})
    out: list[Block] = []
    bal = figs.get("balance")
    if isinstance(bal, pd.DataFrame) and not bal.empty:
        out += _balance_blocks(
            ind,
            bal,
            lang,
            c.names,
            level_counts=figs.get("balance_level_counts"),
            min_cell=c.min_cell,
        )
    ov = figs.get("overlap")
    if ov is not None and (ov.get("treated") is not None or ov.get("control") is not None):
        out.append(
            _fig(
                f"{ind.id}_overlap",
                t("overlap", lang),
                F.overlap_plot(ov, lang=lang, link=str(ind.match.get("link", "logit"))),
            )
        )
    tr = figs.get("trend")
    if tr is not None:
        out.append(
            _fig(
                f"{ind.id}_trend",
                t("trend", lang),
                F.trend_plot(
                    tr["years"],
                    tr["values"],
                    evaluation_year=tr.get("evaluation_year"),
                    expected=tr.get("expected"),
                    lang=lang,
                    ylabel=t("trend_axis", lang)
                    if all(0 <= float(v) <= 1 for v in tr["values"])
                    else "",
                ),
            )
        )
    return out


def _payment_section(c: _Context) -> Section:
    """4. The payment: breakdown, published audit trail, payment at the interval bounds."""
    run, res, lang = c.run, c.res, c.lang
    blocks: list[Block] = []
    if run.payment is None:
        blocks.append(Paragraph(t("no_contract", lang)))
    else:
        p = res["payment"]
        unit = unit_text(p["unit"], lang)
        labels_of = {ind.id: ind.label_in(lang) for ind in c.spec.indicators}
        # indicators whose estimate this document withholds (a group under min_cell): their
        # value is left out of the breakdown, the audit trail and the payments at the limits
        withheld = frozenset(
            i for i in res["indicators"] if not c.counts.published(f"ind:{i}:estimate")
        )
        brows = []
        for r in p["components"]:
            ind_est = res["indicators"].get(r.get("indicator") or "", {}).get("estimand", "")
            brows.append(
                {
                    t("component", lang): r.get("label", ""),
                    t("indicator", lang): labels_of.get(r.get("indicator") or "", "–"),
                    t("basis", lang): t(r["basis"], lang)
                    if r.get("basis") in ("point", "conf_low", "conf_high")
                    else (r.get("basis") or "–"),
                    t("value", lang): (
                        SECONDARY if r["indicator"] in withheld else _value_used(c, r, ind_est)
                    )
                    if r.get("indicator")
                    else "–",
                    t("schedule", lang): schedule_label(r["schedule"], lang)
                    if r.get("schedule")
                    else "–",
                    t("step_reached", lang): step_text(r["step"], lang) if r.get("step") else "–",
                    f"{t('amount', lang)} ({unit})": f"{r.get('amount_rounded', 0):,.0f}",
                }
            )
        brows.append(
            {
                t("component", lang): t("total", lang),
                t("indicator", lang): "",
                t("basis", lang): "",
                t("value", lang): "",
                t("schedule", lang): (f"{t('cap', lang)} {p['cap']:,.0f}" if p.get("cap") else ""),
                t("step_reached", lang): "",
                f"{t('amount', lang)} ({unit})": f"{p['total']:,.0f}",
            }
        )
        blocks.append(TableBlock("payment", t("breakdown", lang), pd.DataFrame(brows)))
        blocks.append(Paragraph(t("audit", lang) + ":"))
        blocks.append(Preformatted(_published_audit_trail(run, res, lang, withheld=withheld)))
        blocks.append(Paragraph(t("audit_published", lang)))
        # bounds
        bases = {"point": p, **p.get("at_bounds", {})}
        labels = [r["label"] for r in p["components"]]
        amounts = {
            b: [float(r.get("amount_rounded") or 0) for r in q["components"]]
            for b, q in bases.items()
        }
        # the payment at a CI limit of a withheld estimate inverts the schedule back to the
        # limit (a proportional schedule gives it to the rounding unit): withheld with it,
        # and so is the total at that limit; the point payment is the contract's result
        hide = [r.get("indicator") in withheld for r in p["components"]]
        rows2 = []
        for i, lab in enumerate(labels):
            rows2.append(
                {
                    t("component", lang): lab,
                    **{
                        t(b, lang): SECONDARY
                        if hide[i] and b != "point"
                        else f"{amounts[b][i]:,.0f}"
                        for b in bases
                    },
                }
            )
        rows2.append(
            {
                t("component", lang): t("total", lang),
                **{
                    t(b, lang): SECONDARY if any(hide) and b != "point" else f"{q['total']:,.0f}"
                    for b, q in bases.items()
                },
            }
        )
        for b in bases:
            if b != "point":
                amounts[b] = [
                    float("nan") if h else a for h, a in zip(hide, amounts[b], strict=True)
                ]
        blocks.append(Paragraph(t("bounds_note", lang)))
        blocks.append(
            TableBlock("payment_bounds", f"{t('bounds', lang)} ({unit})", pd.DataFrame(rows2))
        )
        blocks.append(
            _fig(
                "payment",
                t("payment_fig", lang),
                F.payment_plot(labels, amounts, unit=unit, lang=lang),
            )
        )
    return Section(t("payment", lang), 2, tuple(blocks))


def _value_used(c: _Context, row: Mapping[str, Any], estimand: str) -> str:
    """The indicator value a component's schedule used: to the contract's ``value_decimals``
    when it sets them (the value was rounded so), else with the digits that decide its tier."""
    contract = getattr(c.run.payment, "contract", None)
    comp = str(row.get("component", ""))
    decimals = None
    if contract is not None and comp.startswith("contract.component["):
        decimals = contract.decimals()[int(comp[len("contract.component[") : -1])]
    if decimals is None:
        return c.shown(str(row["indicator"]), row.get("value"), estimand)
    if value_kind(estimand) in ("percent", "points"):
        decimals -= 2
    return fmt_value(row.get("value"), estimand, lang=c.lang, decimals=decimals)


def _run_notices_section(c: _Context) -> Section:
    """5. Every notice of the run (data sources, cohorts, indicators, payment)."""
    res, sp, lang, m, hidden = c.res, c.spec, c.lang, c.min_cell, c.hidden
    labels = {ind.id: ind.label_in(lang) for ind in sp.indicators}
    run_warns = []
    for n in res.get("notices") or []:
        text = render(n, lang, min_cell=m, hidden=hidden, labels=c.names)
        prefix = f"{labels[n['indicator']]}{_COLON[lang]}" if n.get("indicator") else ""
        run_warns.append(prefix + text)
    blocks: list[Block] = [Paragraph(t("run_warnings_text", lang))]
    blocks.append(Bullets(tuple(run_warns)) if run_warns else Paragraph(t("no_warnings", lang)))
    return Section(t("run_warnings", lang), 2, tuple(blocks))


def _repro_section(c: _Context) -> Section:
    """6. Reproducibility: spec hash, seed, times, input files, package versions."""
    res, lang = c.res, c.lang
    prov = res["provenance"]
    blocks: list[Block] = [Paragraph(t("repro_text", lang))]
    blocks.append(
        TableBlock(
            "reproducibility",
            t("repro_table", lang),
            pd.DataFrame(
                [
                    (t("spec_hash", lang), prov["spec_sha256"]),
                    (t("seed", lang), str(prov["seed"])),
                    (t("started", lang), jst(prov["started_at"])),
                    (t("finished", lang), jst(prov["finished_at"])),
                    *_lock_row(c),
                ],
                columns=[t("item", lang), t("content", lang)],
            ),
        )
    )
    blocks.append(
        TableBlock(
            "inputs",
            t("inputs", lang),
            pd.DataFrame(
                [(k, v["file"].rsplit("/", 1)[-1], v["sha256"]) for k, v in prov["inputs"].items()],
                columns=[t("name", lang), t("file", lang), "SHA-256"],
            ),
        )
    )
    blocks.append(
        TableBlock(
            "versions",
            t("versions", lang),
            pd.DataFrame(
                list(prov["packages"].items()), columns=[t("package", lang), t("version", lang)]
            ),
        )
    )
    return Section(t("repro", lang), 2, tuple(blocks), key="repro")


def _lock_row(c: _Context) -> list[tuple[str, str]]:
    """The design lock's file, when the run checked one (section 'design lock' refers here)."""
    check = getattr(c.run, "design_check", None) or {}
    file = str(check.get("lock_file") or "")
    return [(t("lock_file", c.lang), file.rsplit("/", 1)[-1])] if file else []


def _disclosure_section(c: _Context) -> Section:
    """7. The disclosure rules applied, and one paragraph on what was withheld and why."""
    return Section(
        t("disclosure", c.lang), 2, (Paragraph(disclosure_paragraph(c.counts.led, c.lang)),)
    )


def disclosure_paragraph(led: DocumentPublication, lang: Lang) -> str:
    """The rules, then what this document withheld and why, from the decision's summary."""
    s = led.summary()
    m = s["min_cell"]
    parts = [t("sdc_rules", lang).format(m=m, m_1=m - 1, p=s["protection"])]
    if not (s["primary"] or s["secondary"] or s["values_withheld"] or s["small_group"]):
        parts.append(t("sdc_nothing", lang))
    else:
        if s["primary"] or s["secondary"] or s["values_withheld"]:
            parts.append(
                t("sdc_withheld", lang).format(
                    primary=s["primary"], m=m, secondary=s["secondary"], values=s["values_withheld"]
                )
            )
        if s["small_group"]:
            parts.append(t("sdc_small_groups", lang).format(n=s["small_group"], m=m))
        hidden = s["key_counts_hidden"]
        if hidden:
            sep = "、" if lang == "ja" else ", "
            names = sep.join(t(f"sdc_key_{k}", lang) for k in hidden)
            parts.append(t("sdc_keys_hidden", lang).format(names=names))
        else:
            parts.append(t("sdc_keys_shown", lang))
    if s["exact"]:
        parts.append(t("sdc_unprotectable", lang).format(n=s["exact"], m=m))
    if s["narrowed"]:
        parts.append(t("sdc_narrowed", lang).format(n=s["narrowed"], m=m, m_1=m - 1))
    return ("" if lang == "ja" else " ").join(parts)
