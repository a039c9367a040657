"""Run a validated evaluation spec: load data, apply cohorts, estimate, pay.

:func:`run_spec` returns an :class:`EvaluationRun` (data only); :func:`write_outputs` writes
``results.json``, the appendices and the figures into a folder, atomically (a temporary
folder renamed into place once everything is written).
"""

from __future__ import annotations

import datetime as _dt
import inspect
import json
import os
import shutil
import tempfile
import warnings
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from pfseval.batch.schema import SCHEMA_VERSION, package_versions
from pfseval.batch.spec import EvaluationSpec, IndicatorSpec
from pfseval.errors import DataProblem, DataValidationError, PfsevalError
from pfseval.result import Estimate, SampleFlow, data_hash, to_jsonable

__all__ = ["EvaluationRun", "IndicatorRunError", "run_spec", "write_outputs"]


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
    payment
        The payment engine's result (:class:`~pfseval.payment.PaymentResult`), or ``None``
        when the spec has no contract.
    payment_bounds
        The payment with every indicator at its ``conf_low`` and at its ``conf_high``.
    inputs
        Data source name → ``{"file", "sha256", "rows"}``.
    figure_data
        Aggregated, publishable data behind the diagnostic figures (indicator id →
        ``{"balance": DataFrame, "overlap": {...}}``); never individual values.
    warnings
        Every warning issued while running (plain words), including the estimates'.
    started_at, finished_at
        UTC timestamps (ISO 8601).
    """

    spec: EvaluationSpec
    estimates: Mapping[str, Estimate]
    cohort_flows: Mapping[str, SampleFlow]
    payment: Any
    payment_bounds: Mapping[str, Any]
    inputs: Mapping[str, Mapping[str, Any]]
    figure_data: Mapping[str, Mapping[str, Any]] = field(default_factory=dict)
    warnings: tuple[str, ...] = ()
    started_at: str = ""
    finished_at: str = ""

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
                    "cohorts": {k: v.to_dict() for k, v in self.cohort_flows.items()},
                    "indicators": {
                        k: (e.sample_flow.to_dict() if e.sample_flow else None)
                        for k, e in self.estimates.items()
                    },
                },
                "warnings": list(self.warnings),
                "provenance": {
                    "packages": package_versions(),
                    "spec_sha256": sp.sha256,
                    "contract_file": sp.contract_file.name if sp.contract_file else None,
                    "inputs": {k: dict(v) for k, v in self.inputs.items()},
                    "seed": sp.seed,
                    "started_at": self.started_at,
                    "finished_at": self.finished_at,
                },
            }
        )


def _payment_dict(payment: Any) -> dict[str, Any]:
    d = dict(payment.to_dict())
    d.pop("provenance", None)
    d["components"] = d.pop("breakdown", [])
    return d


def _now() -> str:
    return _dt.datetime.now(_dt.UTC).isoformat(timespec="seconds")


def load_source(spec: EvaluationSpec, name: str) -> pd.DataFrame:
    """Read one data source of a spec with :func:`pfseval.io.read_checkups` (mapping and
    vocabulary applied, values validated unless ``validate = false``; ids unique)."""
    from pfseval.io import read_checkups

    src = spec.data[name]
    df = read_checkups(
        src.path,
        mapping=dict(src.mapping) or None,
        encoding=src.encoding,
        validate=src.validate,
        required=() if src.id_col is None else (src.id_col,),
    )
    if src.id_col is None:
        return df
    ids = df[src.id_col].astype("string")
    df[src.id_col] = ids
    dup = ids.duplicated(keep=False).to_numpy()
    if dup.any():
        rows = np.flatnonzero(dup)
        raise DataValidationError(
            [
                DataProblem(
                    column=src.id_col,
                    kind="duplicate",
                    message="person ids must be unique in a data source (rows are file line "
                    "numbers, header = 1). Fix: keep one row per person",
                    rows=tuple(int(r) + 2 for r in rows),
                )
            ],
            source=str(src.path),
        )
    if ids.isna().any():
        rows = np.flatnonzero(ids.isna().to_numpy())
        raise DataValidationError(
            [
                DataProblem(
                    column=src.id_col,
                    kind="missing",
                    message="person id missing (rows are file line numbers, header = 1). "
                    "Fix: give every row an id",
                    rows=tuple(int(r) + 2 for r in rows),
                )
            ],
            source=str(src.path),
        )
    return df


def apply_cohort(
    spec: EvaluationSpec, name: str, frames: Mapping[str, pd.DataFrame]
) -> tuple[pd.DataFrame, SampleFlow]:
    """Rows of a cohort and the flow of its filters (each filter one exclusion step)."""
    if name in frames:
        df = frames[name]
        return df, SampleFlow.start(len(df))
    c = spec.cohorts[name]
    df, flow = apply_cohort(spec, c.source, frames)
    for f in c.where:
        keep = f.keep_mask(df)
        flow = flow.exclude(f.reason or f"not ({f.describe()})", int((~keep).sum()))
        df = df.loc[keep]
    return df, flow


def _accepts(fn: Any, name: str) -> bool:
    return name in inspect.signature(fn).parameters


def _call(fn: Any, first: Any, kwargs: dict[str, Any], extra: dict[str, Any]) -> Any:
    kw = dict(kwargs)
    for k, v in extra.items():
        if _accepts(fn, k):
            kw[k] = v
    return fn(first, **kw)


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


def run_indicator(
    spec: EvaluationSpec,
    ind: IndicatorSpec,
    data: pd.DataFrame,
    *,
    n_jobs: int = 1,
    progress: bool = False,
) -> tuple[Estimate, dict[str, Any]]:
    """Run one indicator on its (cohort-filtered) data; return the estimate and figure data."""
    entry = ind.entry
    fn = entry.function()
    extra = {
        "level": ind.level,
        "seed": ind.seed,
        "n_jobs": n_jobs,
        "progress": progress,
        "label": ind.label_in(spec.report.lang),
    }
    figs: dict[str, Any] = {}
    mfn = entry.match_function()
    if mfn is not None:
        matched = _call(mfn, data, dict(ind.match), {"seed": ind.seed})
        est = _call(fn, matched, dict(ind.options), extra)
        bal = getattr(matched, "balance", None)
        if isinstance(bal, pd.DataFrame):
            figs["balance"] = bal
        dist = getattr(matched, "distance", None)
        if isinstance(dist, pd.Series):
            tr = matched.data.set_index(matched.id_col)[matched.treatment]
            figs["overlap"] = _overlap_density(
                dist, tr.reindex(dist.index), min_cell=spec.report.min_cell
            )
    else:
        est = _call(fn, data, dict(ind.options), extra)
        if ind.design == "baseline.compare" and isinstance(est, Estimate):
            figs["trend"] = _trend(data, ind.options, est)
    if not isinstance(est, Estimate):
        raise TypeError(f"design {ind.design!r} returned {type(est).__name__}, not an Estimate")
    if not est.label:
        est = est.with_updates(label=ind.label_in(spec.report.lang))
    return est, figs


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
    (0.75, '1.0')
    """
    from tqdm.auto import tqdm

    started = _now()
    frames: dict[str, pd.DataFrame] = {}
    inputs: dict[str, dict[str, Any]] = {}
    for name, src in spec.data.items():
        frames[name] = load_source(spec, name)
        inputs[name] = {
            "file": os.path.relpath(src.path, spec.file.resolve().parent),
            "sha256": data_hash(str(src.path)),
            "rows": len(frames[name]),
        }
    cohort_flows: dict[str, SampleFlow] = {}
    cohort_data: dict[str, pd.DataFrame] = {}
    for name in spec.cohorts:
        cohort_data[name], cohort_flows[name] = apply_cohort(spec, name, frames)
    estimates: dict[str, Estimate] = {}
    figure_data: dict[str, dict[str, Any]] = {}
    caught: list[str] = []
    bar = tqdm(spec.indicators, desc=spec.file.name, disable=not progress, unit="indicator")
    for ind in bar:
        bar.set_postfix_str(ind.id)
        data = cohort_data.get(ind.data, frames.get(ind.data))
        assert data is not None
        with warnings.catch_warnings(record=True) as rec:
            warnings.simplefilter("always")
            try:
                est, figs = run_indicator(spec, ind, data, n_jobs=n_jobs, progress=progress)
            except (PfsevalError, ValueError, KeyError, TypeError, NotImplementedError) as exc:
                raise IndicatorRunError(spec, ind, exc) from exc
        for w in rec:
            msg = f"{ind.id}: {w.message}"
            if msg not in caught:
                caught.append(msg)
        estimates[ind.id] = est
        figure_data[ind.id] = figs
    payment = None
    bounds: dict[str, Any] = {}
    if spec.contract is not None:
        from pfseval.payment import Contract

        contract = Contract.from_dict(
            spec.contract, file=str(spec.contract_file) if spec.contract_file else ""
        )
        payment = contract.evaluate(dict(estimates))
        bounds = {b: contract.evaluate(dict(estimates), basis=b) for b in ("conf_low", "conf_high")}
    return EvaluationRun(
        spec=spec,
        estimates=estimates,
        cohort_flows=cohort_flows,
        payment=payment,
        payment_bounds=bounds,
        inputs=inputs,
        figure_data=figure_data,
        warnings=tuple(caught),
        started_at=started,
        finished_at=_now(),
    )


def results_json(run: EvaluationRun) -> str:
    """``results.json`` text: sorted keys, UTF-8, stable across runs apart from timestamps."""
    return json.dumps(run.results(), ensure_ascii=False, indent=2, sort_keys=True) + "\n"


def write_outputs(
    run: EvaluationRun,
    out: str | Path,
    *,
    private_out: str | Path | None = None,
    overwrite: bool = True,
) -> dict[str, Path]:
    """Write results and appendices into ``out``, atomically.

    Everything is written into a temporary folder next to ``out`` and renamed into place
    only when complete, so a failed run never leaves something that looks finished. An
    existing ``out`` is replaced (or, with ``overwrite=False``, an error is raised).

    Parameters
    ----------
    run
        From :func:`run_spec`.
    out
        The output folder (``results.json``, ``appendix.html``, ``appendix.docx``,
        ``tables.xlsx``, ``figures/``).
    private_out
        Optional folder for per-person tables (``Estimate.private``): the evaluator's own
        files, never to be published. Nothing per-person is written without it.
    overwrite
        Replace an existing ``out``.

    Returns
    -------
    dict
        Output name → path.
    """
    from pfseval.report import write_report

    out = Path(out)
    if out.exists() and not overwrite:
        raise FileExistsError(f"{out} exists; pass overwrite=True or choose another folder")
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{out.name}.partial-", dir=out.parent))
    umask = os.umask(0)
    os.umask(umask)
    tmp.chmod(0o777 & ~umask)
    try:
        (tmp / "results.json").write_text(results_json(run), encoding="utf-8")
        written = write_report(run, tmp)
        written["results"] = tmp / "results.json"
        if out.exists():
            old = out.with_name(f".{out.name}.old-{os.getpid()}")
            out.rename(old)
            tmp.rename(out)
            shutil.rmtree(old, ignore_errors=True)
        else:
            tmp.rename(out)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    if private_out is not None:
        _write_private(run, Path(private_out))
    return {k: out / Path(v).relative_to(tmp) for k, v in written.items()}


def _write_private(run: EvaluationRun, folder: Path) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    for iid, est in run.estimates.items():
        for name, table in est.private.items():
            if isinstance(table, pd.DataFrame):
                table.to_csv(folder / f"{iid}__{name}.csv", index=False)
