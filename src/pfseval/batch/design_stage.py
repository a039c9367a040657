"""The outcome-blind design stage: cohorts, matching and balance only, and a design lock.

An evaluator fixes the design (cohorts, matching options) before any outcome is seen and hands
the commissioner a *design record* (``design.lock.json``): the hash of the design part of the
spec, the hashes of the design columns of each input file, a digest of the matched sets, a
balance summary, the time in Japan Standard Time and the package versions. A later
``pfseval run --design`` recomputes the record and compares it key by key
(:func:`compare_records`); every difference is a deviation named by its key path.

Outcome-blind: the files are read through :func:`design_columns` — only the person id, the
columns of the cohort filters leading to a matched indicator's data, the merge keys and the
matching options' columns (options with ``stage = "match"``). An outcome column is never read,
so the design stage runs on files from which every outcome column was removed, and gives the
same record.

Examples
--------
>>> flatten({"a": {"b": 1, "c": [2, 3]}})
{'a.b': 1, 'a.c': [2, 3]}
>>> [d.key for d in compare_records({"design": {"x": 1}}, {"design": {"x": 2}})]
['design.x']
"""

from __future__ import annotations

import dataclasses
import datetime as _dt
import hashlib
import json
import tempfile
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import numpy as np
import pandas as pd

from pfseval.batch.registry import call_design, column_refs, matching_spec
from pfseval.batch.schema import package_versions
from pfseval.batch.spec import DataSource, EvaluationSpec, IndicatorSpec
from pfseval.errors import SpecError

__all__ = [
    "LOCK_FORMAT",
    "LOCK_NAME",
    "DesignLockError",
    "Deviation",
    "check_lock",
    "compare_records",
    "design_columns",
    "design_part",
    "design_record",
    "flatten",
    "matched_digest",
    "read_lock",
    "write_design",
]

#: Format tag of ``design.lock.json``.
LOCK_FORMAT = "pfseval.design_lock/1"
#: File name of the design record.
LOCK_NAME = "design.lock.json"
#: The keys of a record compared against a lock (time and versions are informative only).
COMPARED = ("design", "design_sha256", "inputs", "matched")
_JST = ZoneInfo("Asia/Tokyo")


class DesignLockError(SpecError):
    """The spec or the data no longer reproduce the design lock; names every differing key."""

    def __init__(self, lock_file: str, deviations: list[Deviation]) -> None:
        keys = ", ".join(d.key for d in deviations)
        super().__init__(
            keys,
            "the design differs from the lock. Fix: restore the locked design, or run with "
            "--allow-deviation to report every deviation in the appendix",
            file=lock_file,
        )
        self.deviations = deviations


@dataclass(frozen=True)
class Deviation:
    """One key whose value differs between the lock and the current run (``None`` = absent)."""

    key: str
    locked: Any
    current: Any

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form."""
        return {"key": self.key, "locked": self.locked, "current": self.current}


# ---------------------------------------------------------------- which columns


def _matched_indicators(spec: EvaluationSpec) -> list[IndicatorSpec]:
    return [i for i in spec.indicators if matching_spec(i.design_spec) is not None]


def _chain(spec: EvaluationSpec, name: str) -> list[str]:
    """Cohort names from ``name`` up to (not including) its data source."""
    out: list[str] = []
    while name in spec.cohorts:
        out.append(name)
        name = spec.cohorts[name].source
    return out


def design_columns(spec: EvaluationSpec) -> dict[str, set[str]]:
    """Data source name → the (vocabulary) columns the design stage needs from it.

    The person id, merge keys, the columns of the cohort filters on the way to each matched
    indicator's data and the columns its ``match`` table names. Sources no matched indicator
    uses need nothing (and are not read).
    """
    need: dict[str, set[str]] = {}
    for ind in _matched_indicators(spec):
        chain = _chain(spec, ind.data)
        root = spec.cohorts[chain[-1]].source if chain else ind.data
        cols = need.setdefault(root, set())
        for c in chain:
            for f in spec.cohorts[c].where:
                cols.update(f.columns())
        mspec = matching_spec(ind.design_spec)
        assert mspec is not None
        cols.update(col for _, col in column_refs(mspec, ind.match))
    for name, cols in need.items():
        src = spec.data[name]
        if src.id_col is not None:
            cols.add(src.id_col)
        for m in src.merge:
            cols.add(m.on)
            if m.flag is not None:
                cols.discard(m.flag)  # made by the merge, not read
    return need


# ---------------------------------------------------------------- reading only those columns


def _keep(header: str, need: set[str], mapping: Mapping[str, str]) -> bool:
    from pfseval.io.vocabulary import canonical_name

    return header in need or mapping.get(header) in need or canonical_name(header) in need


def _read_only(
    path: Path, need: set[str], mapping: Mapping[str, str], encoding: str | None
) -> pd.DataFrame:
    """The needed columns of a file, as text (no other column is parsed or kept)."""
    if path.suffix.lower() == ".parquet":
        import pyarrow.parquet as pq

        names = [n for n in pq.read_schema(path).names if _keep(n, need, mapping)]
        return pd.read_parquet(path, columns=names).astype("string")
    sep = "\t" if path.suffix.lower() in (".tsv", ".txt") else ","
    last: Exception | None = None
    for enc in [encoding] if encoding else ["utf-8-sig", "cp932"]:
        try:
            return pd.read_csv(
                path,
                sep=sep,
                encoding=enc,
                dtype=str,
                keep_default_na=False,
                usecols=lambda h: _keep(str(h), need, mapping),
            )
        except UnicodeDecodeError as exc:
            last = exc
    raise SpecError(
        "encoding",
        f"cannot decode the file ({last}). Fix: set the source's encoding",
        file=str(path),
    )


def _column_hash(df: pd.DataFrame) -> str:
    """SHA-256 of the columns (sorted by name) as UTF-8 CSV text."""
    cols = sorted(df.columns)
    text = df[cols].to_csv(index=False, lineterminator="\n")
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def _restricted(
    spec: EvaluationSpec, need: Mapping[str, set[str]], folder: Path
) -> tuple[EvaluationSpec, dict[str, Any]]:
    """A copy of ``spec`` whose used sources point at copies of their design columns only.

    Returns the copy and the ``inputs`` part of the record (file name, columns, hash).
    """
    inputs: dict[str, Any] = {}
    sources: dict[str, DataSource] = {}
    for name, cols in need.items():
        src = spec.data[name]
        follow = {c[: -len("_follow")] for c in cols if c.endswith("_follow")}
        base_cols = (cols - {c for c in cols if c.endswith("_follow")}) | (
            {"fiscal_year"} if src.followup is not None else set()
        )

        def copy(
            path: Path, want: set[str], key: str, mapping: Mapping[str, str], enc: str | None
        ) -> Path:
            df = _read_only(path, want, mapping, enc)
            inputs[key] = {
                "file": path.name,
                "columns": sorted(df.columns),
                "sha256": _column_hash(df),
            }
            out = folder / f"{len(inputs)}_{path.stem}.csv"
            df.to_csv(out, index=False, encoding="utf-8")
            return out

        new_path = copy(src.path, base_cols, name, src.mapping, src.encoding)
        changes: dict[str, Any] = {"path": new_path, "format": "csv", "encoding": "utf-8"}
        if src.followup is not None:
            fcols = follow | set(src.require) | {"fiscal_year"}
            if src.id_col is not None:
                fcols.add(src.id_col)
            changes["followup"] = copy(
                src.followup, fcols, f"{name}.followup", src.mapping, src.encoding
            )
        merges = []
        for i, m in enumerate(src.merge):
            mcols = {m.on} | cols | {k for k, v in dict(m.columns).items() if v in cols}
            p = copy(m.path, mcols, f"{name}.merge[{i}]", m.mapping, m.encoding)
            merges.append(dataclasses.replace(m, path=p, encoding="utf-8"))
        changes["merge"] = tuple(merges)
        sources[name] = dataclasses.replace(src, **changes)
    return dataclasses.replace(spec, data=sources), inputs


# ---------------------------------------------------------------- the record


def design_part(spec: EvaluationSpec) -> dict[str, Any]:
    """The design part of a spec: what the lock fixes, keyed like the spec's key paths.

    The matched indicators (``indicators[i]``: id, design, data, seed, the ``match`` table),
    the cohorts leading to their data (filters in words) and the sources they read (file
    names, person id, follow-up, merges).
    """
    inds: dict[str, Any] = {}
    cohorts: dict[str, Any] = {}
    sources: dict[str, Any] = {}
    for ind in _matched_indicators(spec):
        inds[ind.key_path] = {
            "id": ind.id,
            "design": ind.design,
            "data": ind.data,
            "seed": ind.seed,
            "match": dict(ind.match),
        }
        chain = _chain(spec, ind.data)
        for c in chain:
            co = spec.cohorts[c]
            cohorts[c] = {"from": co.source, "where": [f.describe() for f in co.where]}
        root = spec.cohorts[chain[-1]].source if chain else ind.data
        src = spec.data[root]
        sources[root] = {
            "file": src.path.name,
            "followup": src.followup.name if src.followup else None,
            "id_col": src.id_col,
            "merge": [{"file": m.path.name, "on": m.on, "flag": m.flag} for m in src.merge],
        }
    # a spec key path such as indicators[2] flattens to "indicators[2].match.caliper"
    return {**inds, "cohorts": cohorts, "data": sources}


def matched_digest(matched: Any) -> dict[str, Any]:
    """SHA-256 of a matched sample's sets, from its public data only.

    Uses the ids of the treated and of the controls, their subclass and their weights
    (people with weight 0 are not in the matched sets), so it follows any matching method
    that fills these fields.
    """
    ids = matched.data[matched.id_col].astype("string").to_numpy()
    treated = pd.to_numeric(matched.data[matched.treatment], errors="coerce").to_numpy()
    by_id = pd.Index(ids)
    w = pd.Series(matched.weights).set_axis(pd.Index(matched.weights.index).astype("string"))
    s = pd.Series(matched.subclass).set_axis(pd.Index(matched.subclass.index).astype("string"))
    frame = pd.DataFrame(
        {
            "id": ids,
            "treated": treated,
            "weight": np.round(w.reindex(by_id).to_numpy(dtype=float), 12),
            "subclass": s.reindex(by_id).astype("string").to_numpy(),
        }
    )
    frame = frame[frame["weight"].fillna(0) > 0].sort_values("id", kind="stable")
    text = frame.to_csv(index=False, lineterminator="\n")
    return {
        "sha256": hashlib.sha256(text.encode("utf-8")).hexdigest(),
        "n_treated": int((frame["treated"] == 1).sum()),
        "n_control": int((frame["treated"] == 0).sum()),
    }


def _balance_summary(matched: Any) -> dict[str, Any]:
    bal = getattr(matched, "balance", None)
    if not isinstance(bal, pd.DataFrame) or "smd_after" not in bal:
        return {}
    after = pd.to_numeric(bal["smd_after"], errors="coerce").abs()
    before = pd.to_numeric(bal.get("smd_before"), errors="coerce").abs()
    return {
        "max_abs_smd_before": round(float(before.max()), 6),
        "max_abs_smd_after": round(float(after.max()), 6),
        "n_over_0_1_after": int((after > 0.1).sum()),
    }


def _sha(obj: Any) -> str:
    from pfseval.result import to_jsonable

    text = json.dumps(to_jsonable(obj), sort_keys=True, ensure_ascii=False)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def design_record(spec: EvaluationSpec) -> tuple[dict[str, Any], dict[str, Any]]:
    """Run the design stage of a spec (reading design columns only); return the record.

    Parameters
    ----------
    spec
        From :func:`pfseval.batch.load_spec` (``check_data=False`` lets it be loaded from
        files without outcome columns).

    Returns
    -------
    record, figures
        The design record (JSON-ready; see the module docstring) and, per matched indicator,
        the matched samples' publishable figure data (``balance`` table, ``overlap`` curves).
    """
    from pfseval.batch.plan import read_plan
    from pfseval.batch.runner import _apply_cohorts, _load_sources, _matched_figures

    need = design_columns(spec)
    with tempfile.TemporaryDirectory(prefix="pfseval-design-") as tmp:
        restricted, inputs = _restricted(spec, need, Path(tmp))
        restricted = dataclasses.replace(
            restricted, data={k: v for k, v in restricted.data.items() if k in need}
        )
        sources = _load_sources(restricted)
    cohorts = _apply_cohorts(
        dataclasses.replace(
            restricted,
            cohorts={
                k: v
                for k, v in spec.cohorts.items()
                if any(k in _chain(spec, i.data) for i in _matched_indicators(spec))
            },
        ),
        sources.frames,
    )
    matched_rec: dict[str, Any] = {}
    balance: dict[str, Any] = {}
    figures: dict[str, Any] = {}
    flows: dict[str, Any] = {k: v.to_dict() for k, v in cohorts.flows.items()}
    for ind in _matched_indicators(spec):
        mspec = matching_spec(ind.design_spec)
        assert mspec is not None
        data = cohorts.data.get(ind.data, sources.frames.get(ind.data))
        matched = call_design(mspec, data, ind.match, {"seed": ind.seed})
        matched_rec[ind.key_path] = matched_digest(matched)
        balance[ind.key_path] = _balance_summary(matched)
        figures[ind.id] = _matched_figures(ind.design_spec, matched, min_cell=spec.report.min_cell)
    part = design_part(spec)
    record = {
        "format": LOCK_FORMAT,
        "spec_file": spec.file.name,
        "design": part,
        "design_sha256": _sha(part),
        "inputs": inputs,
        "matched": matched_rec,
        "balance": balance,
        "cohort_flows": flows,
        "locked_at": _dt.datetime.now(_JST).isoformat(timespec="seconds"),
        "packages": package_versions(),
        "outcome_blind": True,
        # the plan's sensitivity specifications at the lock (later ones are post hoc)
        "plan": [s.to_dict() for s in read_plan(spec.file)],
    }
    return record, figures


# ---------------------------------------------------------------- comparing


def flatten(d: Mapping[str, Any], prefix: str = "") -> dict[str, Any]:
    """Nested mappings as ``{"a.b": value}`` (lists are values)."""
    out: dict[str, Any] = {}
    for k, v in d.items():
        key = f"{prefix}.{k}" if prefix else str(k)
        if isinstance(v, Mapping) and v:
            out.update(flatten(v, key))
        else:
            out[key] = v
    return out


def compare_records(locked: Mapping[str, Any], current: Mapping[str, Any]) -> list[Deviation]:
    """Every compared key (:data:`COMPARED`) whose value differs, in key order.

    ``design_sha256`` is left out when the design part itself shows the difference (the
    key path of the option says more than a hash).
    """
    a = flatten({k: locked[k] for k in COMPARED if k in locked})
    b = flatten({k: current[k] for k in COMPARED if k in current})
    devs = [
        Deviation(k, a.get(k), b.get(k)) for k in sorted(set(a) | set(b)) if a.get(k) != b.get(k)
    ]
    if any(d.key.startswith("design.") for d in devs):
        devs = [d for d in devs if d.key != "design_sha256"]
    return devs


# ---------------------------------------------------------------- lock files


def read_lock(path: str | Path) -> dict[str, Any]:
    """A design record written by :func:`write_design` (checks its format tag)."""
    p = Path(path)
    try:
        rec = json.loads(p.read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError) as exc:
        raise SpecError(
            "",
            f"cannot read the design lock ({exc}). Fix: pass the {LOCK_NAME} written by "
            "`pfseval design`",
            file=str(p),
        ) from exc
    if not isinstance(rec, dict) or rec.get("format") != LOCK_FORMAT:
        raise SpecError(
            "format",
            f"is not {LOCK_FORMAT!r}. Fix: pass the {LOCK_NAME} written by `pfseval design`",
            file=str(p),
        )
    return rec


def check_lock(
    spec: EvaluationSpec, lock: Mapping[str, Any], *, lock_file: str, allow_deviation: bool
) -> dict[str, Any]:
    """Recompute the design record of ``spec`` and compare it with ``lock``.

    Returns the run's design check (``lock_file``, ``locked_at``, ``design_sha256``,
    ``deviations``, ``allow_deviation``) for ``results.json`` and the appendix.

    Raises
    ------
    DesignLockError
        When anything differs and ``allow_deviation`` is false (names every key).
    """
    current, _ = design_record(spec)
    devs = compare_records(lock, current)
    if devs and not allow_deviation:
        raise DesignLockError(lock_file, devs)
    return {
        "lock_file": lock_file,
        "locked_at": lock.get("locked_at"),
        "design_sha256": lock.get("design_sha256"),
        "outcome_blind": bool(lock.get("outcome_blind")),
        "allow_deviation": allow_deviation,
        "deviations": [d.to_dict() for d in devs],
        # counts the design appendix published (matched participants and controls per
        # indicator key path): the run's appendix treats them as known to every reader
        "published_counts": {
            key: {k: m[k] for k in ("n_treated", "n_control") if isinstance(m.get(k), int)}
            for key, m in (lock.get("matched") or {}).items()
        },
    }


def write_design(
    record: Mapping[str, Any],
    figures: Mapping[str, Mapping[str, Any]],
    out: str | Path,
    *,
    lang: str = "ja",
    min_cell: int = 10,
    title: str = "",
    names: Mapping[str, str] | None = None,
) -> dict[str, Path]:
    """Write ``design.lock.json`` and the design appendix (``design_appendix.html``);
    ``names``: readers' names of cohorts, indicators and columns (``design_names``)."""
    from pfseval.report.design_sections import design_document
    from pfseval.report.writers import write_html
    from pfseval.result import to_jsonable

    folder = Path(out)
    folder.mkdir(parents=True, exist_ok=True)
    lock = folder / LOCK_NAME
    text = json.dumps(to_jsonable(dict(record)), ensure_ascii=False, indent=2, sort_keys=True)
    lock.write_text(text + "\n", encoding="utf-8")
    doc = design_document(record, figures, lang=lang, min_cell=min_cell, title=title, names=names)
    html = write_html(doc, folder / "design_appendix.html")
    return {"lock": lock, "html": html}
