"""Run a validated evaluation spec: load data, apply cohorts, estimate, pay.

:func:`run_spec` returns an :class:`EvaluationRun` (data only); :func:`write_outputs` writes
``results.json``, the appendices and the figures into a folder, atomically (a temporary
folder renamed into place once everything is written).
"""

from __future__ import annotations

import datetime as _dt
import json
import os
import warnings
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from pfseval.batch.checks import missing_step
from pfseval.batch.registry import call_design, matching_spec
from pfseval.batch.schema import SCHEMA_VERSION, package_versions
from pfseval.batch.spec import DataSource, EvaluationSpec, IndicatorSpec
from pfseval.designs.contract import DesignSpec
from pfseval.errors import (
    DataProblem,
    DataValidationError,
    DesignError,
    PfsevalError,
    PfsevalWarning,
    SmallSampleWarning,
)
from pfseval.messages import Message, Notice, declare_messages
from pfseval.result import Estimate, SampleFlow, data_hash, emit_warnings, to_jsonable

__all__ = [
    "EvaluationRun",
    "IndicatorRunError",
    "LoadedSource",
    "build_source",
    "run_spec",
    "use_related",
    "write_outputs",
]


declare_messages(
    {
        "batch.flow.merge_unmatched": {
            "en": "no matching record in {source!v} (on {on!v})",
            "ja": "「{source!v}」に対応する記録なし（結合キー：{on!v}）",
        },
        "batch.merge_unmatched": {
            "en": "{key}: {n_unmatched} of {n_records} records of {file} match no record of the "
            "data source on {on!r} and are not used.",
            "ja": "{key}：{file}の{n_records}件のうち{n_unmatched}件は、結合キー「{on}」で"
            "データのどの記録とも対応しないため使われていません。抽出年度とIDを確認してください。",
        },
        "batch.cohort_empty": {
            "en": "{key}: the filter ({condition}) excludes every remaining row, so cohort "
            "{cohort!r} is empty.",
            "ja": "{key}：条件（{condition}）で残りの行がすべて除外され、対象集団{cohort!r}が"
            "空になりました。条件の列と値をデータと照らして確認してください。",
        },
    }
)


class IndicatorRunError(PfsevalError):
    """An indicator failed while running; the message names the spec file and key path."""

    def __init__(self, spec: EvaluationSpec, ind: IndicatorSpec, exc: BaseException) -> None:
        self.key_path = ind.key_path
        self.file = str(spec.file)
        super().__init__(
            f"{spec.file}: {ind.key_path} (indicator {ind.id!r}, design {ind.design!r}): "
            f"{type(exc).__name__}: {exc}"
        )


@dataclass(frozen=True)
class EvaluationRun:
    """Everything a run produced, in memory.

    Attributes
    ----------
    spec
        The validated spec.
    estimates
        Indicator id → :class:`~pfseval.result.Estimate`.
    cohort_flows
        Cohort name → :class:`~pfseval.result.SampleFlow` of its filters.
    source_flows
        Data source name → :class:`~pfseval.result.SampleFlow` of how its files were put
        together, for linked or merged sources: group ``"all"`` = baseline records (linked,
        or lost with a reason, as :func:`pfseval.io.link_years`; every record stays in the
        data), one group per merged file (its records, less those matching no source row).
    payment
        The payment engine's result (:class:`~pfseval.payment.PaymentResult`), or ``None``
        when the spec has no contract.
    payment_bounds
        The payment with every indicator at its ``conf_low`` and at its ``conf_high``.
    inputs
        Data source name → ``{"file", "sha256", "rows"}`` (``rows`` of the loaded frame);
        the other files of a linked or merged source as ``<name>.followup`` and
        ``<name>.merge[i]`` → ``{"file", "sha256", "rows", "source", "role"}``.
    figure_data
        Aggregated, publishable data behind the diagnostic figures (indicator id →
        ``{"balance": DataFrame, "overlap": {...}}``); never individual values.
    notices
        The run's own notices (:class:`~pfseval.messages.Notice` records): of the data
        sources (loaders, linkage, merges) and of the cohorts. The estimates and the payment
        carry theirs; :meth:`all_notices` lists every one with where it comes from.
    started_at, finished_at
        UTC timestamps (ISO 8601).
    sensitivity
        Indicator id → :class:`~pfseval.sensitivity.KobeSensitivity` for Kobe indicators
        (tipping point and E-value, aggregates only).
    """

    spec: EvaluationSpec
    estimates: Mapping[str, Estimate]
    cohort_flows: Mapping[str, SampleFlow]
    payment: Any
    payment_bounds: Mapping[str, Any]
    inputs: Mapping[str, Mapping[str, Any]]
    figure_data: Mapping[str, Mapping[str, Any]] = field(default_factory=dict)
    notices: tuple[Notice, ...] = ()
    started_at: str = ""
    finished_at: str = ""
    source_flows: Mapping[str, SampleFlow] = field(default_factory=dict)
    #: The check against a design lock (pfseval.batch.design_stage.check_lock); {} = none.
    design_check: Mapping[str, Any] = field(default_factory=dict)
    #: The analysis plan's robustness data (pfseval.batch.plan.PlanResult.to_dict); {} = none.
    plan: Mapping[str, Any] = field(default_factory=dict)
    #: Sensitivity analyses of Kobe indicators (tipping point, E-value), by indicator id.
    sensitivity: Mapping[str, Any] = field(default_factory=dict)

    def all_notices(self) -> list[tuple[str | None, Notice]]:
        """Every notice of the run, each once, with the indicator id it belongs to (``None``
        for the data sources, cohorts and payment)."""
        out: list[tuple[str | None, Notice]] = [(None, n) for n in self.notices]
        for iid, est in self.estimates.items():
            out += [(iid, n) for n in est.notices]
        if self.payment is not None:
            out += [(None, n) for n in getattr(self.payment, "notices", ())]
        return out

    @property
    def warnings(self) -> tuple[str, ...]:
        """The English text of every notice (the command line prints these)."""
        return tuple(f"{i}: {n.text('en')}" if i else n.text("en") for i, n in self.all_notices())

    def results(self) -> dict[str, Any]:
        """The ``results.json`` document (see ``docs/results_schema.md``)."""
        sp = self.spec
        inds: dict[str, Any] = {}
        for ind in sp.indicators:
            est = self.estimates[ind.id]
            d = est.to_dict()
            d.pop("provenance", None)
            inds[ind.id] = {
                "id": ind.id,
                "label": dict(ind.label),
                "design": ind.design,
                "data": ind.data,
                "options": dict(ind.options),
                "match": dict(ind.match),
                "use": ind.use,
                "seed": ind.seed,
                "data_sha256": est.provenance.get("data_sha256"),
                **d,
            }
        payment = None
        if self.payment is not None:
            payment = _payment_dict(self.payment)
            payment["at_bounds"] = {b: _payment_dict(p) for b, p in self.payment_bounds.items()}
        return to_jsonable(  # type: ignore[no-any-return]
            {
                "schema_version": SCHEMA_VERSION,
                "evaluation": {
                    "title": sp.title,
                    "programme": sp.programme,
                    "description": sp.description,
                    "spec_file": sp.file.name,
                },
                "report": {
                    "lang": sp.report.lang,
                    "title": sp.report.title,
                    "period": sp.report.period,
                    "evaluator": sp.report.evaluator,
                    "min_cell": sp.report.min_cell,
                },
                "indicators": inds,
                "payment": payment,
                "sample_flow": {
                    "sources": {k: v.to_dict() for k, v in self.source_flows.items()},
                    "cohorts": {k: v.to_dict() for k, v in self.cohort_flows.items()},
                    "indicators": {
                        k: (e.sample_flow.to_dict() if e.sample_flow else None)
                        for k, e in self.estimates.items()
                    },
                },
                "notices": [{**n.to_dict(), "indicator": i} for i, n in self.all_notices()],
                "sensitivity": {k: v.to_dict() for k, v in self.sensitivity.items()},
                "designs": _design_records(sp),
                "diagnostics": _diagnostic_records(inds),
                "provenance": {
                    "packages": package_versions(),
                    "spec_sha256": sp.sha256,
                    "contract_file": sp.contract_file.name if sp.contract_file else None,
                    "inputs": {k: dict(v) for k, v in self.inputs.items()},
                    "seed": sp.seed,
                    "started_at": self.started_at,
                    "finished_at": self.finished_at,
                    "design_lock": dict(self.design_check) or None,
                    "plan": dict(self.plan) or None,
                },
            }
        )


def _design_records(spec: EvaluationSpec) -> dict[str, Any]:
    """The declaration of every design the run used (title, description, assumptions)."""
    out: dict[str, Any] = {}
    for ind in spec.indicators:
        d = ind.design_spec
        out[d.name] = {
            "title": dict(d.title),
            "description": dict(d.description),
            "assumptions": dict(d.assumptions),
            "input": d.input,
            "matching": d.matching,
            "related": list(d.related),
            "figures": list(d.figures),
        }
    return out


def _diagnostic_records(indicators: Mapping[str, Any]) -> dict[str, Any]:
    """The declaration (kind, labels, derivation) of every diagnostic the results show."""
    from pfseval.designs.contract import DIAGNOSTICS

    names: dict[str, None] = {}
    for d in indicators.values():
        names.update(dict.fromkeys(d.get("diagnostics") or {}))
        for r in (d.get("related") or {}).values():
            names.update(dict.fromkeys(r.get("diagnostics") or {}))
    out: dict[str, Any] = {}
    for name in names:
        dg = DIAGNOSTICS.get(name)
        if dg is not None:
            out[name] = {
                "kind": dg.kind,
                "label": dict(dg.label),
                "derived_from": list(dg.derived_from),
                "relation": dg.relation,
            }
    return out


def _payment_dict(payment: Any) -> dict[str, Any]:
    d = dict(payment.to_dict())
    d.pop("provenance", None)
    d["components"] = d.pop("breakdown", [])
    return d


def _now() -> str:
    return _dt.datetime.now(_dt.UTC).isoformat(timespec="seconds")


def _read(
    path: Path,
    *,
    mapping: Mapping[str, str],
    encoding: str | None,
    validate: bool,
    id_col: str | None,
    format: str | None = None,  # issue 15 hook: the source's declared format
) -> pd.DataFrame:
    """One file through :func:`pfseval.io.read_checkups`; ids unique and present."""
    from pfseval.io import read_checkups

    df = read_checkups(
        path,
        mapping=dict(mapping) or None,
        encoding=encoding,
        validate=validate,
        required=() if id_col is None else (id_col,),
        format=format,
    )
    if id_col is None:
        return df
    ids = df[id_col].astype("string")
    df[id_col] = ids
    _unique_keys(ids, id_col, path, what="person ids", fix="keep one row per person")
    return df


def _unique_keys(keys: pd.Series, col: str, path: Path, *, what: str, fix: str) -> None:
    line = (
        "rows are file line numbers, header = 1"
        if path.suffix.lower() in (".csv", ".txt", ".tsv")
        else "rows are record numbers, first = 2"
    )
    dup = (keys.duplicated(keep=False) & keys.notna()).to_numpy()
    if dup.any():
        rows = np.flatnonzero(dup)
        raise DataValidationError(
            [
                DataProblem(
                    column=col,
                    kind="duplicate",
                    message=f"{what} must be unique in a data source ({line}). Fix: {fix}",
                    rows=tuple(int(r) + 2 for r in rows),
                )
            ],
            source=str(path),
        )
    if keys.isna().any():
        rows = np.flatnonzero(keys.isna().to_numpy())
        raise DataValidationError(
            [
                DataProblem(
                    column=col,
                    kind="missing",
                    message=f"{what[:-1]} missing ({line}). Fix: give every row a value",
                    rows=tuple(int(r) + 2 for r in rows),
                )
            ],
            source=str(path),
        )


def _key_text(s: pd.Series) -> pd.Series:
    """Join keys as text; whole numbers lose a trailing ``.0`` (``2019.0`` = ``2019``)."""
    if pd.api.types.is_float_dtype(s.dtype):
        v = s.to_numpy(dtype=float, na_value=np.nan)
        fin = np.isfinite(v)
        if np.all(v[fin] == np.round(v[fin])):
            return pd.Series(
                [str(int(x)) if f else None for x, f in zip(v, fin, strict=True)],
                index=s.index,
                dtype="string",
            )
    return s.astype("string").str.strip()


@dataclass(frozen=True)
class LoadedSource:
    """A data source put together: the frame, its flow (linked / merged sources only), the
    files read (``inputs`` entries) and warnings."""

    data: pd.DataFrame
    flow: SampleFlow | None
    files: Mapping[str, Mapping[str, Any]]
    notices: tuple[Notice, ...] = ()


def build_source(spec: EvaluationSpec, name: str) -> LoadedSource:
    """Read one data source of a spec: a file, or a baseline extract linked to a follow-up
    extract (:func:`pfseval.io.link_years`), then the ``merge`` files joined on.

    Every baseline record stays in the frame (people without a follow-up record have
    missing ``_follow`` values); the flow accounts for every record of every file.
    """
    from pfseval.io import link_years

    src = spec.data[name]
    base_dir = spec.file.resolve().parent
    files: dict[str, dict[str, Any]] = {}

    def record(key: str, path: Path, rows: int, role: str) -> None:
        files[key] = {
            "file": os.path.relpath(path, base_dir),
            "sha256": data_hash(str(path)),
            "rows": rows,
            "source": name,
            "role": role,
        }

    def read(path: Path) -> pd.DataFrame:
        return _read(
            path,
            mapping=src.mapping,
            encoding=src.encoding,
            validate=src.validate,
            id_col=src.id_col,
            format=src.format,  # issue 15 hook
        )

    flow: SampleFlow | None = None
    if source_engine(src) == "duckdb":  # issue 15: out of core, same frame and flow
        df, flow, n_fol = _read_duckdb(src)
        if src.followup is not None:
            record(f"{name}.followup", src.followup, n_fol, "followup")
    else:
        df = read(src.path)
        if src.followup is not None:
            assert src.id_col is not None  # a linked source has person ids (checked on load)
            fol = read(src.followup)
            linked = link_years(df, fol, id_col=src.id_col, require=src.require)
            flow = linked.sample_flow
            record(f"{name}.followup", src.followup, len(fol), "followup")
            df = linked.data
    notes: list[Notice] = []
    for i, m in enumerate(src.merge):
        mdf = _read(
            m.path, mapping=m.mapping, encoding=m.encoding, validate=src.validate, id_col=None
        )
        mkey = _key_text(mdf[m.on])
        _unique_keys(mkey, m.on, m.path, what=f"{m.on} values", fix="keep one row per key")
        keep = list(m.columns) or [c for c in mdf.columns if c != m.on]
        add = mdf[keep].rename(columns=dict(m.columns)) if m.columns else mdf[keep]
        skey = _key_text(df[m.on])
        pos = pd.Index(mkey.astype(object)).get_indexer(pd.Index(skey.astype(object)))
        found = pos >= 0
        aligned = add.reset_index(drop=True).reindex(np.where(found, pos, -1))
        aligned.index = df.index
        df = pd.concat([df, aligned], axis=1)
        if m.flag is not None:
            df[m.flag] = found.astype(np.int64)
        n_unmatched = len(mdf) - int(np.unique(pos[found]).size)
        group = f"merge[{i}]"
        mflow = SampleFlow.start({group: len(mdf)}, labels={group: m.path.name})
        mflow = mflow.exclude(
            Message("batch.flow.merge_unmatched", params={"source": name, "on": m.on}),
            n_unmatched,
            group=group,
        )
        flow = mflow if flow is None else flow.combine(mflow)
        record(f"{name}.merge[{i}]", m.path, len(mdf), "merge")
        if n_unmatched:
            # records of a file joined on the person id are people; others (years) are not
            numbers = {"n_unmatched": n_unmatched, "n_records": len(mdf)}
            people = m.on == src.id_col
            notes.append(
                Notice(
                    "batch.merge_unmatched",
                    params={
                        "key": f"data.{name}.merge[{i}]",
                        "file": m.path.name,
                        "on": m.on,
                        **({} if people else numbers),
                    },
                    counts=numbers if people else {},
                    category=PfsevalWarning,
                )
            )
    files = {
        name: {
            "file": os.path.relpath(src.path, base_dir),
            "sha256": data_hash(str(src.path)),
            "rows": len(df),
        },
        **files,
    }
    return LoadedSource(data=df, flow=flow, files=files, notices=tuple(notes))


AUTO_DUCKDB_RECORDS = 5_000_000
"""``engine = "auto"`` reads a source with DuckDB from this many baseline records on."""


def source_engine(src: DataSource) -> str:
    """``"pandas"`` or ``"duckdb"`` for a source: its ``engine``, or for ``"auto"`` DuckDB
    when the baseline file holds at least :data:`AUTO_DUCKDB_RECORDS` records (Parquet: its
    metadata; CSV: the file size over the mean line length of its first megabyte). Sources
    without person ids, or read without validation, stay with pandas."""
    if src.engine != "auto":
        return src.engine
    if src.id_col is None or not src.validate:
        return "pandas"
    return "duckdb" if _records(src.path, src.format) >= AUTO_DUCKDB_RECORDS else "pandas"


def _records(path: Path, fmt: str) -> float:
    try:
        if fmt == "parquet":
            import pyarrow.parquet as pq

            return float(pq.ParquetFile(path).metadata.num_rows)
        size = path.stat().st_size
        with path.open("rb") as fh:
            head = fh.read(1 << 20)
    except (OSError, ValueError):
        return 0.0  # unreadable here: the pandas loader reports it
    lines = head.count(b"\n")
    return size / (len(head) / lines) if lines else 0.0


def _read_duckdb(src: DataSource) -> tuple[pd.DataFrame, SampleFlow | None, int]:
    """A source through :func:`pfseval.scale.extract_cohort` (no filters: every record):
    the frame, the linkage flow and the follow-up records read."""
    from pfseval.scale.extract import extract_cohort

    assert src.id_col is not None  # checked with the spec
    got = extract_cohort(
        src.path,
        followup=src.followup,
        id_col=src.id_col,
        require=src.require,
        mapping=dict(src.mapping) or None,
        format=src.format,
        encoding=src.encoding,
    )
    df = got.data
    df[src.id_col] = df[src.id_col].astype("string")  # as _read types the ids
    n_fol = 0
    if got.link_flow is not None:  # linked records (any follow-up record) + follow-up only
        no_record = got.link_flow.steps[0].n_excluded
        n_fol = got.link_flow.n_input["all"] - no_record + got.n_followup_only
    return df, got.link_flow, n_fol


def apply_cohort(
    spec: EvaluationSpec, name: str, frames: Mapping[str, pd.DataFrame]
) -> tuple[pd.DataFrame, SampleFlow]:
    """Rows of a cohort and the flow of its filters (each filter one exclusion step)."""
    if name in frames:
        df = frames[name]
        return df, SampleFlow.start(len(df))
    c = spec.cohorts[name]
    df, flow = apply_cohort(spec, c.source, frames)
    return _filter_cohort(spec, name, df, flow)[:2]


def _filter_cohort(
    spec: EvaluationSpec, name: str, df: pd.DataFrame, flow: SampleFlow
) -> tuple[pd.DataFrame, SampleFlow, int | None]:
    """Apply cohort ``name``'s filters to the rows of its source; also return the position
    of the filter that excluded every remaining row, if one did."""
    emptied = None
    for i, f in enumerate(spec.cohorts[name].where):
        step = missing_step(f, df)  # missing values: a step of their own
        if step is not None:
            flow = flow.exclude(step[0], int(step[1].sum()))
            df = df.loc[~step[1]]
        keep = f.keep_mask(df)
        flow = flow.exclude(f.reason_message(), int((~keep).sum()))
        if len(df) and not keep.any():
            emptied = i
        df = df.loc[keep]
    return df, flow, emptied


@dataclass(frozen=True)
class _Cohorts:
    data: dict[str, pd.DataFrame]
    flows: dict[str, SampleFlow]
    empty_because: dict[str, str]  # empty cohort → why, in words (the filter's key path)
    notices: list[Notice]


def _apply_cohorts(spec: EvaluationSpec, frames: Mapping[str, pd.DataFrame]) -> _Cohorts:
    """Every cohort of a spec, in order (a cohort only reads data sources and earlier
    cohorts); a filter that leaves a cohort empty is a warning naming its key path."""
    out = _Cohorts({}, {}, {}, [])
    for name, c in spec.cohorts.items():
        if c.source in out.data:
            df, flow = out.data[c.source], out.flows[c.source]
        else:
            df = frames[c.source]
            flow = SampleFlow.start(len(df))
        df, flow, emptied = _filter_cohort(spec, name, df, flow)
        out.data[name], out.flows[name] = df, flow
        if emptied is not None:
            key = f"cohorts.{name}.where[{emptied}]"
            cond = c.where[emptied].describe()
            out.empty_because[name] = f"filter {key} ({cond}) excluded every remaining row"
            out.notices.append(
                Notice(
                    "batch.cohort_empty",
                    params={"key": key, "condition": cond, "cohort": name},
                    category=SmallSampleWarning,
                )
            )
        elif not len(df) and c.source in out.empty_because:
            out.empty_because[name] = f"it reads cohort {c.source!r}, which is empty"
    return out


def _overlap_density(
    distance: pd.Series, treated: pd.Series, *, min_cell: int, grid: int = 200
) -> dict[str, Any]:
    """Kernel density curves of the score per group (no bins, so no small counts).

    A group with fewer than ``min_cell`` people gets no curve (it would show individuals).
    """
    from scipy.stats import gaussian_kde

    d = pd.to_numeric(distance, errors="coerce").to_numpy(dtype=float)
    t = pd.to_numeric(treated, errors="coerce").to_numpy(dtype=float)
    ok = np.isfinite(d) & np.isfinite(t)
    lo, hi = float(np.min(d[ok])), float(np.max(d[ok]))
    pad = 0.05 * (hi - lo or 1.0)
    x = np.linspace(lo - pad, hi + pad, grid)
    out: dict[str, Any] = {"x": x}
    for g, key in ((1.0, "treated"), (0.0, "control")):
        v = d[ok & (t == g)]
        if v.size >= min_cell and np.ptp(v) > 0:
            out[key] = gaussian_kde(v)(x)
        else:
            out[key] = None
    return out


def _trend(series: pd.DataFrame, options: Mapping[str, Any], est: Estimate) -> dict[str, Any]:
    """Yearly aggregate series (rate or count) and the expected value for the trend plot."""
    yr = pd.to_numeric(series[options["year"]], errors="coerce")
    num = pd.to_numeric(series[options["numerator"]], errors="coerce")
    den_col = options.get("denominator")
    values = num / pd.to_numeric(series[den_col], errors="coerce") if den_col else num
    order = np.argsort(yr.to_numpy())
    exp = est.related.get("expected")
    return {
        "years": yr.to_numpy()[order].tolist(),
        "values": values.to_numpy()[order].tolist(),
        "evaluation_year": options.get("evaluation_year"),
        "expected": None if exp is None else (exp.value, exp.conf_low, exp.conf_high),
    }


def _supplied(
    spec: EvaluationSpec, ind: IndicatorSpec, *, n_jobs: int, progress: bool
) -> dict[str, Any]:
    """The common options the runner passes (a design gets those it declares)."""
    return {
        "level": ind.level,
        "seed": ind.seed,
        "n_jobs": n_jobs,
        "progress": progress,
        "label": ind.label_in(spec.report.lang),
    }


def _two_valued_level_counts(matched: Any) -> dict[str, int]:
    """For each two-valued covariate, the fewest people at one of its values in any group the
    balance table describes (treated and controls, before and after matching).

    An SMD or a variance ratio of a two-valued variable, with the group's size, gives back how
    many people of the group have each value ("3 women among the participants"); the report
    withholds them when this count is under min_cell. Counts only, never values.
    """
    data = getattr(matched, "data", None)
    if not isinstance(data, pd.DataFrame):
        return {}
    treated = pd.to_numeric(data[matched.treatment], errors="coerce").to_numpy() == 1
    weights = getattr(matched, "weights", None)
    kept = np.ones(len(data), dtype=bool)
    if isinstance(weights, pd.Series) and len(weights) == len(data):
        kept = weights.to_numpy(dtype=float) > 0
    groups = (treated, ~treated, treated & kept, ~treated & kept)
    out: dict[str, int] = {}
    for var in matched.covariates:
        if var not in data.columns:
            continue
        x = data[var].to_numpy()
        values = pd.unique(x[~pd.isna(x)])
        if len(values) > 2:
            continue
        counts = [int(np.sum(g & (x == v))) for g in groups for v in values]
        positive = [k for k in counts if k > 0]
        out[str(var)] = min(positive) if positive else 0
    return out


def _matched_figures(design: DesignSpec, matched: Any, *, min_cell: int) -> dict[str, Any]:
    """Data behind the matching figures the design offers (balance, score overlap)."""
    figs: dict[str, Any] = {}
    bal = getattr(matched, "balance", None)
    if "love_plot" in design.figures and isinstance(bal, pd.DataFrame):
        figs["balance"] = bal
        figs["balance_level_counts"] = _two_valued_level_counts(matched)
    dist = getattr(matched, "distance", None)
    if "overlap" in design.figures and isinstance(dist, pd.Series):
        tr = matched.data.set_index(matched.id_col)[matched.treatment]
        figs["overlap"] = _overlap_density(dist, tr.reindex(dist.index), min_cell=min_cell)
    return figs


def run_indicator(
    spec: EvaluationSpec,
    ind: IndicatorSpec,
    data: pd.DataFrame,
    *,
    n_jobs: int = 1,
    progress: bool = False,
) -> tuple[Estimate, dict[str, Any]]:
    """Run one indicator on its (cohort-filtered) data; return the estimate and figure data.

    What to call and with what comes from the design's declaration: a two-step design runs
    its matching step on the data first (options from the spec's ``match`` table); the
    figures it declares get their data.
    """
    if ind.by is not None:  # issue 15 hook: one evaluation per group (pfseval.scale.groups)
        from pfseval.scale.groups import run_indicator_by

        return run_indicator_by(
            spec, ind, data, run=run_indicator, use=use_related, n_jobs=n_jobs, progress=progress
        )
    design = ind.design_spec
    supplied = _supplied(spec, ind, n_jobs=n_jobs, progress=progress)
    figs: dict[str, Any] = {}
    mspec = matching_spec(design)
    if mspec is not None:
        matched = call_design(mspec, data, ind.match, {"seed": ind.seed})
        est = call_design(design, matched, ind.options, supplied)
        figs.update(_matched_figures(design, matched, min_cell=spec.report.min_cell))
    else:
        est = call_design(design, data, ind.options, supplied)
        if "trend" in design.figures and isinstance(est, Estimate):
            figs["trend"] = _trend(data, ind.options, est)
    if not isinstance(est, Estimate):
        raise TypeError(f"design {ind.design!r} returned {type(est).__name__}, not an Estimate")
    if ind.use is not None:
        est = use_related(est, ind.use)
    if not est.label:
        est = est.with_updates(label=ind.label_in(spec.report.lang))
    return est, figs


def use_related(est: Estimate, name: str) -> Estimate:
    """The related estimate ``name`` as the indicator, keeping the design's accounting.

    The result has the related estimate's value, interval, estimand and method, and the
    main estimate's diagnostics, notices, sample flow, provenance and label; the main
    estimate moves into ``related`` under its estimand, next to the other related estimates.

    Examples
    --------
    >>> main = Estimate(estimand="rate_difference", value=0.02, conf_low=0.01,
    ...                 conf_high=0.03, n=6, related={"additional_count": Estimate(
    ...                     estimand="additional_count", value=200.0, conf_low=100.0,
    ...                     conf_high=300.0, n=6)})
    >>> used = use_related(main, "additional_count")
    >>> used.estimand, used.value, sorted(used.related)
    ('additional_count', 200.0, ['rate_difference'])
    """
    rel = est.related.get(name)
    if rel is None:
        raise DesignError(
            f"the design returned no related estimate {name!r} (it has: "
            f"{', '.join(est.related) or 'none'}). Fix: choose another `use`"
        )
    main = est.with_updates(related={}, label="")  # shown under its estimand
    others = {k: v for k, v in est.related.items() if k != name}
    return rel.with_updates(
        diagnostics=est.diagnostics,
        notices=_unique([*est.notices, *rel.notices]),
        sample_flow=est.sample_flow,
        provenance=est.provenance,
        label=est.label,
        related={est.estimand: main, **others},
    )


def run_spec(spec: EvaluationSpec, *, n_jobs: int = 1, progress: bool = False) -> EvaluationRun:
    """Run every indicator of a validated spec and apply the contract.

    Parameters
    ----------
    spec
        From :func:`pfseval.batch.load_spec`.
    n_jobs
        Worker processes for bootstraps (results do not depend on it).
    progress
        Show tqdm progress bars on standard error.

    Returns
    -------
    EvaluationRun

    Raises
    ------
    IndicatorRunError
        When an indicator fails (names the spec file and the indicator's key path).

    Examples
    --------
    >>> import tempfile, pathlib
    >>> from pfseval.batch import load_spec
    >>> d = pathlib.Path(tempfile.mkdtemp())
    >>> rows = "".join(f"p{i},{int(i % 4 > 0)}\\n" for i in range(40))
    >>> _ = (d / "p.csv").write_text("person_id,completed\\n" + rows)
    >>> _ = (d / "s.toml").write_text('''
    ... [data.people]
    ... path = "p.csv"
    ... [[indicators]]
    ... id = "completion_rate"
    ... design = "proportion.rate"
    ... data = "people"
    ... options = { outcome = "completed" }
    ... ''')
    >>> run = run_spec(load_spec(d / "s.toml"))
    >>> run.estimates["completion_rate"].value, run.results()["schema_version"]
    (0.75, '2.1')
    """
    from tqdm.auto import tqdm

    started = _now()
    sources = _load_sources(spec)
    cohorts = _apply_cohorts(spec, sources.frames)
    emit_warnings(cohorts.notices)
    estimates: dict[str, Estimate] = {}
    figure_data: dict[str, dict[str, Any]] = {}
    bar = tqdm(spec.indicators, desc=spec.file.name, disable=not progress, unit="indicator")
    for ind in bar:
        bar.set_postfix_str(ind.id)
        estimates[ind.id], figure_data[ind.id] = _run_one(
            spec, ind, cohorts, sources.frames, n_jobs=n_jobs, progress=progress
        )
    payment, bounds, contract = _pay(spec, estimates)
    sensitivity = kobe_sensitivities(estimates, contract)
    return EvaluationRun(
        spec=spec,
        estimates=estimates,
        cohort_flows=cohorts.flows,
        payment=payment,
        payment_bounds=bounds,
        inputs=sources.inputs,
        figure_data=figure_data,
        notices=_unique([*sources.notices, *cohorts.notices]),
        started_at=started,
        finished_at=_now(),
        source_flows=sources.flows,
        sensitivity=sensitivity,
    )


def kobe_sensitivities(estimates: Mapping[str, Estimate], contract: Any) -> dict[str, Any]:
    """Tipping point and E-value of every Kobe indicator (see :mod:`pfseval.sensitivity`)."""
    from pfseval.sensitivity import kobe_sensitivity

    out: dict[str, Any] = {}
    for key, est in estimates.items():
        res = kobe_sensitivity(est, indicator=key, contract=contract, indicators=dict(estimates))
        if res is not None:
            out[key] = res
    return out


def _unique(notices: Sequence[Notice]) -> tuple[Notice, ...]:
    """Each notice once, in order (the same notice can come from an estimate and its run)."""
    out: list[Notice] = []
    for n in notices:
        if n not in out:
            out.append(n)
    return tuple(out)


@dataclass(frozen=True)
class _Sources:
    frames: dict[str, pd.DataFrame]
    inputs: dict[str, dict[str, Any]]
    flows: dict[str, SampleFlow]
    notices: list[Notice]


def _load_sources(spec: EvaluationSpec) -> _Sources:
    """Every data source of a spec, with the notices its loaders and merges gave."""
    from pfseval.io.notices import notice_of

    out = _Sources({}, {}, {}, [])
    for name in spec.data:
        with warnings.catch_warnings(record=True) as rec:
            warnings.simplefilter("always")
            loaded = build_source(spec, name)
        for w in rec:
            n = notice_of(w)
            if n is not None:
                out.notices.append(n)
            warnings.warn_explicit(w.message, w.category, w.filename, w.lineno)
        out.frames[name] = loaded.data
        out.inputs.update({k: dict(v) for k, v in loaded.files.items()})
        if loaded.flow is not None:
            out.flows[name] = loaded.flow
        emit_warnings(loaded.notices)
        out.notices.extend(loaded.notices)
    return out


def _run_one(
    spec: EvaluationSpec,
    ind: IndicatorSpec,
    cohorts: _Cohorts,
    frames: Mapping[str, pd.DataFrame],
    *,
    n_jobs: int,
    progress: bool,
) -> tuple[Estimate, dict[str, Any]]:
    """One indicator on its data; failures name the spec file and the indicator's key path."""
    data = cohorts.data.get(ind.data, frames.get(ind.data))
    assert data is not None
    if ind.data in cohorts.empty_because and not len(data):
        raise IndicatorRunError(
            spec,
            ind,
            DesignError(
                f"cohort {ind.data!r} has no rows: {cohorts.empty_because[ind.data]}. "
                "Fix: check the cohort's filters against the data"
            ),
        )
    try:
        return run_indicator(spec, ind, data, n_jobs=n_jobs, progress=progress)
    except (PfsevalError, ValueError, KeyError, TypeError, NotImplementedError) as exc:
        raise IndicatorRunError(spec, ind, exc) from exc


def _pay(
    spec: EvaluationSpec, estimates: Mapping[str, Estimate]
) -> tuple[Any, dict[str, Any], Any]:
    """The contract's payment, the payment at every indicator's interval bounds, and the
    contract itself."""
    if spec.contract is None:
        return None, {}, None
    from pfseval.payment import Contract

    contract = Contract.from_dict(
        spec.contract, file=str(spec.contract_file) if spec.contract_file else ""
    )
    payment = contract.evaluate(dict(estimates))
    bounds = {b: contract.evaluate(dict(estimates), basis=b) for b in ("conf_low", "conf_high")}
    return payment, bounds, contract


def results_json(run: EvaluationRun) -> str:
    """``results.json`` text: sorted keys, UTF-8, stable across runs apart from timestamps."""
    return json.dumps(run.results(), ensure_ascii=False, indent=2, sort_keys=True) + "\n"


# Writing lives in batch/output.py (safe, marked, atomic output folders).
from pfseval.batch.output import write_outputs  # noqa: E402
