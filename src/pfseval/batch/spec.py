"""Evaluation spec files (TOML): loading and validation before any computation.

A spec describes one evaluation: data sources, cohorts (declarative filters), indicators with
their design and options, the contract and the report options. :func:`load_spec` checks all
of it — keys, types, files, columns, design options against the design function's signature,
the contract — and raises :class:`~pfseval.errors.SpecError` naming the file and the key path
of the first problem. Nothing in a spec is executed as code.
"""

from __future__ import annotations

import hashlib
import io
import tomllib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from pfseval.batch.designs import (
    COLUMN_OPTIONS,
    RUNNER_SUPPLIED,
    DesignEntry,
    option_names,
    resolve,
)
from pfseval.errors import SpecError

__all__ = [
    "OPERATORS",
    "CohortSpec",
    "DataSource",
    "EvaluationSpec",
    "Filter",
    "IndicatorSpec",
    "ReportOptions",
    "load_spec",
]

#: Filter operators a cohort may use, and the kind of ``value`` each takes.
OPERATORS: dict[str, str] = {
    "==": "scalar",
    "!=": "scalar",
    "<": "number",
    "<=": "number",
    ">": "number",
    ">=": "number",
    "in": "list",
    "not_in": "list",
    "between": "pair",
    "missing": "none",
    "not_missing": "none",
}

_TOP_KEYS = {"evaluation", "data", "cohorts", "indicators", "contract", "report"}
_EVAL_KEYS = {"title", "programme", "description", "seed"}
_DATA_KEYS = {"path", "format", "encoding", "mapping", "id_col", "validate", "description"}
_COHORT_KEYS = {"from", "where", "description"}
_FILTER_KEYS = {"column", "op", "value", "reason"}
_IND_KEYS = {"id", "label", "design", "data", "level", "seed", "options", "match", "description"}
_REPORT_KEYS = {"lang", "title", "period", "evaluator", "min_cell", "summary"}


@dataclass(frozen=True)
class DataSource:
    """One input file. ``path`` is absolute (resolved against the spec's folder).

    Files are read with :func:`pfseval.io.read_checkups`: CSV (UTF-8 or CP932) or Parquet,
    ``mapping`` and the vocabulary's aliases (Japanese headers) applied, and with
    ``validate`` (default) every value checked against the vocabulary's types and ranges.
    ``id_col`` is the person-id column (unique, never published); ``None`` for aggregated
    data such as a yearly series (when ``id_col`` is not given and ``person_id`` is absent).
    """

    name: str
    path: Path
    format: str
    encoding: str | None = None
    mapping: Mapping[str, str] = field(default_factory=dict)
    id_col: str | None = "person_id"
    validate: bool = True
    description: str = ""


@dataclass(frozen=True)
class Filter:
    """One declarative row filter: keep rows where ``column <op> value``.

    ``reason`` is the exclusion reason shown in the sample flow for the rows it removes
    (default: ``not (<condition>)``).
    """

    column: str
    op: str
    value: Any = None
    reason: str = ""

    def describe(self) -> str:
        """Plain-words description of the condition rows must meet."""
        if self.op in ("missing", "not_missing"):
            return f"{self.column} {'is' if self.op == 'missing' else 'is not'} missing"
        return f"{self.column} {self.op} {self.value}"

    def keep_mask(self, data: pd.DataFrame) -> np.ndarray:
        """Boolean mask of the rows the filter keeps (missing values are never kept,
        except by ``missing``)."""
        s = data[self.column]
        na = s.isna().to_numpy()
        op, v = self.op, self.value
        if op == "missing":
            return na
        if op == "not_missing":
            return ~na
        if op in ("in", "not_in"):
            m = s.isin(list(v)).to_numpy()
            return (m if op == "in" else ~m) & ~na
        if op == "between":
            num = pd.to_numeric(s, errors="coerce")
            return ((num >= v[0]) & (num <= v[1])).fillna(False).to_numpy(dtype=bool)
        if op in ("==", "!="):
            if isinstance(v, str):
                m = (s.astype("string") == v).fillna(False).to_numpy(dtype=bool)
            else:
                m = (pd.to_numeric(s, errors="coerce") == v).fillna(False).to_numpy(dtype=bool)
            return (m if op == "==" else ~m) & ~na
        num = pd.to_numeric(s, errors="coerce")
        cmp = {"<": num < v, "<=": num <= v, ">": num > v, ">=": num >= v}[op]
        return cmp.fillna(False).to_numpy(dtype=bool)


@dataclass(frozen=True)
class CohortSpec:
    """A named subset of a data source (or of another cohort) defined by filters."""

    name: str
    source: str
    where: tuple[Filter, ...]
    description: str = ""


@dataclass(frozen=True)
class IndicatorSpec:
    """One indicator: its design, the data it uses and the design's options."""

    id: str
    label: Mapping[str, str]
    design: str
    data: str
    level: float
    seed: int
    options: Mapping[str, Any]
    match: Mapping[str, Any]
    key_path: str
    description: str = ""

    @property
    def entry(self) -> DesignEntry:
        e = resolve(self.design)
        assert e is not None  # checked on load
        return e

    def label_in(self, lang: str) -> str:
        return self.label.get(lang) or next(iter(self.label.values()), self.id)


@dataclass(frozen=True)
class ReportOptions:
    """Report options: language, title, period, evaluator, minimum cell size."""

    lang: str = "ja"
    title: str = ""
    period: str = ""
    evaluator: str = ""
    min_cell: int = 10
    summary: str = ""


@dataclass(frozen=True)
class EvaluationSpec:
    """A validated evaluation spec (see :func:`load_spec`)."""

    file: Path
    sha256: str
    title: str
    programme: str
    description: str
    seed: int
    data: Mapping[str, DataSource]
    cohorts: Mapping[str, CohortSpec]
    indicators: tuple[IndicatorSpec, ...]
    contract: Mapping[str, Any] | None
    contract_file: Path | None
    report: ReportOptions

    def source_of(self, name: str) -> str:
        """The data source a data source or cohort name finally reads from."""
        while name in self.cohorts:
            name = self.cohorts[name].source
        return name


# ---------------------------------------------------------------- helpers


class _Checker:
    def __init__(self, file: Path) -> None:
        self.file = file

    def fail(self, key: str, msg: str) -> SpecError:
        return SpecError(key, msg, file=str(self.file))

    def table(self, d: Any, key: str, allowed: set[str] | None = None) -> dict[str, Any]:
        if not isinstance(d, dict):
            raise self.fail(key, f"must be a table, got {type(d).__name__}")
        if allowed is not None:
            unknown = sorted(set(d) - allowed)
            if unknown:
                raise self.fail(
                    f"{key}.{unknown[0]}" if key else unknown[0],
                    f"unknown key; allowed keys: {', '.join(sorted(allowed))}",
                )
        return d

    def string(self, d: Mapping[str, Any], k: str, key: str, *, default: str | None = None) -> str:
        v = d.get(k, default)
        if v is None:
            raise self.fail(f"{key}.{k}", "is required")
        if not isinstance(v, str):
            raise self.fail(f"{key}.{k}", f"must be a string, got {v!r}")
        return v

    def integer(self, d: Mapping[str, Any], k: str, key: str, *, default: int) -> int:
        v = d.get(k, default)
        if isinstance(v, bool) or not isinstance(v, int):
            raise self.fail(f"{key}.{k}", f"must be an integer, got {v!r}")
        return v


def _columns_of(src: DataSource, ck: _Checker, key: str) -> list[str]:
    """Column names of a data source as the loader will name them (mapping and the
    vocabulary's aliases applied), reading only the header."""
    from pfseval.io.mapping import MappingError, resolve_columns

    try:
        if src.format == "parquet":
            import pyarrow.parquet as pq

            headers: list[object] = list(pq.read_schema(src.path).names)
        else:
            head = src.path.open("rb").read(1 << 16).split(b"\n", 1)[0]
            encodings = [src.encoding] if src.encoding else ["utf-8-sig", "cp932"]
            text = None
            for enc in encodings:
                try:
                    text = head.decode(enc)
                    break
                except UnicodeDecodeError:
                    continue
            if text is None:
                raise ck.fail(f"{key}.encoding", f"cannot decode the header of {src.path}")
            headers = list(pd.read_csv(io.StringIO(text), nrows=0).columns)
        names, _ = resolve_columns(headers, mapping=dict(src.mapping) or None)
    except (OSError, ValueError) as exc:
        if isinstance(exc, SpecError):
            raise
        what = "mapping" if isinstance(exc, MappingError) else "path"
        raise ck.fail(f"{key}.{what}", f"cannot read {src.path}: {exc}") from exc
    return [str(n) for n in names]


def _boolean(ck: _Checker, d: Mapping[str, Any], k: str, key: str, *, default: bool) -> bool:
    v = d.get(k, default)
    if not isinstance(v, bool):
        raise ck.fail(f"{key}.{k}", f"must be true or false, got {v!r}")
    return v


def _derive_seed(base: int, index: int) -> int:
    return int(np.random.SeedSequence([base, index]).generate_state(1)[0])


def _check_filter(f: Any, key: str, ck: _Checker) -> Filter:
    ck.table(f, key, _FILTER_KEYS)
    col = ck.string(f, "column", key)
    op = ck.string(f, "op", key)
    if op not in OPERATORS:
        raise ck.fail(f"{key}.op", f"unknown operator {op!r}; use one of {', '.join(OPERATORS)}")
    kind = OPERATORS[op]
    v = f.get("value")
    if kind == "none":
        if v is not None:
            raise ck.fail(f"{key}.value", f"operator {op!r} takes no value")
    elif v is None:
        raise ck.fail(f"{key}.value", f"operator {op!r} needs a value")
    elif kind == "number" and (isinstance(v, bool) or not isinstance(v, int | float)):
        raise ck.fail(f"{key}.value", f"operator {op!r} needs a number, got {v!r}")
    elif kind == "list" and not isinstance(v, list):
        raise ck.fail(f"{key}.value", f"operator {op!r} needs a list, got {v!r}")
    elif kind == "pair" and not (
        isinstance(v, list) and len(v) == 2 and all(isinstance(x, int | float) for x in v)
    ):
        raise ck.fail(f"{key}.value", f"operator 'between' needs [low, high], got {v!r}")
    elif kind == "scalar" and not isinstance(v, str | int | float | bool):
        raise ck.fail(f"{key}.value", f"operator {op!r} needs a single value, got {v!r}")
    reason = f.get("reason", "")
    if not isinstance(reason, str):
        raise ck.fail(f"{key}.reason", "must be a string")
    return Filter(column=col, op=op, value=v, reason=reason)


def _check_options(
    options: Mapping[str, Any], fn: Any, key: str, ck: _Checker, *, design: str
) -> None:
    allowed, required = option_names(fn)
    for k in options:
        if k in RUNNER_SUPPLIED:
            raise ck.fail(
                f"{key}.{k}",
                "is set by the runner (from the indicator's level/seed/data and the command "
                "line), not in options; remove it",
            )
        if k not in allowed:
            raise ck.fail(
                f"{key}.{k}",
                f"design {design!r} has no option {k!r}; its options are: "
                f"{', '.join(sorted(allowed))}",
            )
    missing = sorted(required - set(options))
    if missing:
        raise ck.fail(f"{key}.{missing[0]}", f"is required by design {design!r}")


def _column_refs(options: Mapping[str, Any]) -> list[tuple[str, str]]:
    out: list[tuple[str, str]] = []
    for k, v in options.items():
        if k not in COLUMN_OPTIONS:
            continue
        if isinstance(v, str):
            out.append((k, v))
        elif isinstance(v, list):
            out += [(f"{k}[{i}]", x) for i, x in enumerate(v) if isinstance(x, str)]
    return out


# ---------------------------------------------------------------- loader


def load_spec(
    path: str | Path,
    *,
    seed: int | None = None,
    lang: str | None = None,
    data_dir: str | Path | None = None,
    check_data: bool = True,
) -> EvaluationSpec:
    """Read and validate an evaluation spec; raise :class:`SpecError` on the first problem.

    Parameters
    ----------
    path
        The spec TOML file. Data and contract paths in it are relative to its folder.
    seed
        Replaces ``evaluation.seed``; every indicator seed is then derived from it (an
        indicator's own ``seed`` is ignored), so one number reproduces the whole run.
    lang
        Replaces ``report.lang`` (``"ja"`` or ``"en"``).
    data_dir
        Resolve data paths against this folder instead of the spec's folder (the contract
        path stays relative to the spec).
    check_data
        Check that the data files exist and have every column the spec names (reads the
        headers only).

    Returns
    -------
    EvaluationSpec

    Examples
    --------
    >>> import tempfile, pathlib
    >>> d = pathlib.Path(tempfile.mkdtemp())
    >>> _ = (d / "p.csv").write_text("person_id,completed\\na,1\\nb,0\\n")
    >>> _ = (d / "s.toml").write_text('''
    ... [data.people]
    ... path = "p.csv"
    ... [[indicators]]
    ... id = "completion_rate"
    ... design = "proportion.rate"
    ... data = "people"
    ... options = { outcome = "completed" }
    ... ''')
    >>> load_spec(d / "s.toml").indicators[0].design
    'proportion.rate'
    >>> _ = (d / "bad.toml").write_text(
    ...     (d / "s.toml").read_text().replace("outcome =", "outcom ="))
    >>> try:
    ...     load_spec(d / "bad.toml")
    ... except SpecError as e:
    ...     print(e.key_path)
    indicators[0].options.outcom
    """
    file = Path(path)
    ck = _Checker(file)
    try:
        raw_bytes = file.read_bytes()
    except OSError as exc:
        raise ck.fail("", f"cannot read the spec file: {exc}") from exc
    try:
        raw = tomllib.loads(raw_bytes.decode("utf-8"))
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise ck.fail("", f"not valid TOML: {exc}") from exc
    base = file.resolve().parent
    data_base = Path(data_dir).resolve() if data_dir is not None else base
    ck.table(raw, "", _TOP_KEYS)

    ev = ck.table(raw.get("evaluation", {}), "evaluation", _EVAL_KEYS)
    base_seed = seed if seed is not None else ck.integer(ev, "seed", "evaluation", default=20240401)
    title = ck.string(ev, "title", "evaluation", default="")
    programme = ck.string(ev, "programme", "evaluation", default="")
    description = ck.string(ev, "description", "evaluation", default="")

    # -- data
    data_raw = ck.table(raw.get("data", {}), "data")
    if not data_raw:
        raise ck.fail("data", "at least one data source is required ([data.<name>] path = ...)")
    sources: dict[str, DataSource] = {}
    columns: dict[str, list[str]] = {}
    for name, d in data_raw.items():
        key = f"data.{name}"
        ck.table(d, key, _DATA_KEYS)
        rel = ck.string(d, "path", key)
        p = (data_base / rel).resolve()
        fmt = d.get("format") or ("parquet" if p.suffix.lower() in (".parquet", ".pq") else "csv")
        if fmt not in ("csv", "parquet"):
            raise ck.fail(f"{key}.format", f"must be 'csv' or 'parquet', got {fmt!r}")
        mapping = ck.table(d.get("mapping", {}), f"{key}.mapping")
        for mk, mv in mapping.items():
            if not isinstance(mv, str):
                raise ck.fail(f"{key}.mapping.{mk}", "must map to a column name (string)")
        enc = d.get("encoding")
        if enc is not None and not isinstance(enc, str):
            raise ck.fail(f"{key}.encoding", "must be a string such as 'utf-8' or 'cp932'")
        src = DataSource(
            name=name,
            path=p,
            format=fmt,
            encoding=enc,
            mapping=dict(mapping),
            id_col=ck.string(d, "id_col", key, default="person_id"),
            validate=_boolean(ck, d, "validate", key, default=True),
            description=ck.string(d, "description", key, default=""),
        )
        if check_data:
            if not p.is_file():
                raise ck.fail(
                    f"{key}.path", f"file not found: {p} (paths are relative to the spec)"
                )
            columns[name] = _columns_of(src, ck, key)
            if "id_col" not in d and src.id_col not in columns[name]:
                # aggregated data (e.g. a yearly series) has no person id
                src = replace(src, id_col=None)
            elif src.id_col not in columns[name]:
                raise ck.fail(
                    f"{key}.id_col",
                    f"column {src.id_col!r} not in {p.name}; columns: {', '.join(columns[name])}",
                )
        sources[name] = src

    # -- cohorts
    cohorts: dict[str, CohortSpec] = {}
    for name, c in ck.table(raw.get("cohorts", {}), "cohorts").items():
        key = f"cohorts.{name}"
        ck.table(c, key, _COHORT_KEYS)
        if name in sources:
            raise ck.fail(key, f"name {name!r} is already a data source; choose another")
        frm = ck.string(c, "from", key)
        if frm not in sources and frm not in cohorts:
            raise ck.fail(
                f"{key}.from",
                f"{frm!r} is not a data source or an earlier cohort "
                f"(known: {', '.join([*sources, *cohorts])})",
            )
        where = c.get("where", [])
        if not isinstance(where, list):
            raise ck.fail(f"{key}.where", "must be a list of {column, op, value} tables")
        filters = tuple(_check_filter(f, f"{key}.where[{i}]", ck) for i, f in enumerate(where))
        root = frm
        while root in cohorts:
            root = cohorts[root].source
        if check_data:
            for i, f in enumerate(filters):
                if f.column not in columns[root]:
                    raise ck.fail(
                        f"{key}.where[{i}].column",
                        f"column {f.column!r} not in data source {root!r}; "
                        f"columns: {', '.join(columns[root])}",
                    )
        cohorts[name] = CohortSpec(
            name=name,
            source=frm,
            where=filters,
            description=ck.string(c, "description", key, default=""),
        )

    # -- indicators
    inds_raw = raw.get("indicators", [])
    if not isinstance(inds_raw, list) or not inds_raw:
        raise ck.fail("indicators", "at least one [[indicators]] table is required")
    indicators: list[IndicatorSpec] = []
    seen: set[str] = set()
    for i, ind in enumerate(inds_raw):
        key = f"indicators[{i}]"
        ck.table(ind, key, _IND_KEYS)
        iid = ck.string(ind, "id", key)
        if iid in seen:
            raise ck.fail(f"{key}.id", f"duplicate indicator id {iid!r}")
        seen.add(iid)
        dname = ck.string(ind, "design", key)
        entry = resolve(dname)
        if entry is None:
            from pfseval.batch.designs import DESIGNS

            raise ck.fail(
                f"{key}.design", f"unknown design {dname!r}; use one of {', '.join(DESIGNS)}"
            )
        dsrc = ck.string(ind, "data", key)
        if dsrc not in sources and dsrc not in cohorts:
            raise ck.fail(
                f"{key}.data",
                f"{dsrc!r} is not a data source or cohort (known: {', '.join([*sources, *cohorts])})",
            )
        lvl = ind.get("level", 0.95)
        if isinstance(lvl, bool) or not isinstance(lvl, float | int) or not 0 < lvl < 1:
            raise ck.fail(
                f"{key}.level", f"must be a number between 0 and 1, e.g. 0.95; got {lvl!r}"
            )
        if seed is None and "seed" in ind:
            iseed = ck.integer(ind, "seed", key, default=0)
        else:
            iseed = _derive_seed(base_seed, i)
        label = ind.get("label", iid)
        if isinstance(label, str):
            label = {"ja": label, "en": label}
        ck.table(label, f"{key}.label", {"ja", "en"})
        options = dict(ck.table(ind.get("options", {}), f"{key}.options"))
        match = dict(ck.table(ind.get("match", {}), f"{key}.match"))
        try:
            fn = entry.function()
            mfn = entry.match_function()
        except (ImportError, AttributeError) as exc:
            raise ck.fail(
                f"{key}.design", f"design {dname!r} is not available in this installation: {exc}"
            ) from exc
        _check_options(options, fn, f"{key}.options", ck, design=dname)
        if mfn is not None:
            _check_options(match, mfn, f"{key}.match", ck, design=f"{dname} (matching)")
        elif match:
            raise ck.fail(f"{key}.match", f"design {dname!r} has no matching step; remove it")
        if check_data:
            root = dsrc
            while root in cohorts:
                root = cohorts[root].source
            for table, opts in (("options", options), ("match", match)):
                for k, col in _column_refs(opts):
                    if col not in columns[root]:
                        raise ck.fail(
                            f"{key}.{table}.{k}",
                            f"column {col!r} not in data source {root!r}; "
                            f"columns: {', '.join(columns[root])}",
                        )
        indicators.append(
            IndicatorSpec(
                id=iid,
                label=dict(label),
                design=dname,
                data=dsrc,
                level=float(lvl),
                seed=iseed,
                options=options,
                match=match,
                key_path=key,
                description=ck.string(ind, "description", key, default=""),
            )
        )

    # -- contract
    contract: dict[str, Any] | None = None
    contract_file: Path | None = None
    if "contract" in raw:
        c = raw["contract"]
        if isinstance(c, str):
            c = {"path": c}
        ck.table(c, "contract")
        if "path" in c:
            if set(c) != {"path"}:
                raise ck.fail("contract", "give either `path` or the inline contract, not both")
            contract_file = (base / ck.string(c, "path", "contract")).resolve()
            if not contract_file.is_file():
                raise ck.fail("contract.path", f"file not found: {contract_file}")
            try:
                contract = tomllib.loads(contract_file.read_text(encoding="utf-8"))
            except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
                raise ck.fail("contract.path", f"{contract_file}: not valid TOML: {exc}") from exc
        else:
            contract = {"contract": dict(c)}
        _check_contract(contract, contract_file, [x.id for x in indicators], ck)

    # -- report
    rep = ck.table(raw.get("report", {}), "report", _REPORT_KEYS)
    rlang = lang if lang is not None else ck.string(rep, "lang", "report", default="ja")
    if rlang not in ("ja", "en"):
        raise ck.fail("report.lang", f"must be 'ja' or 'en', got {rlang!r}")
    min_cell = ck.integer(rep, "min_cell", "report", default=10)
    if min_cell < 1:
        raise ck.fail("report.min_cell", f"must be at least 1, got {min_cell}")
    report = ReportOptions(
        lang=rlang,
        title=ck.string(rep, "title", "report", default=title),
        period=ck.string(rep, "period", "report", default=""),
        evaluator=ck.string(rep, "evaluator", "report", default=""),
        min_cell=min_cell,
        summary=ck.string(rep, "summary", "report", default=description),
    )
    h = hashlib.sha256(raw_bytes)
    if contract_file is not None:
        h.update(contract_file.read_bytes())
    return EvaluationSpec(
        file=file,
        sha256=h.hexdigest(),
        title=title or report.title,
        programme=programme,
        description=description,
        seed=base_seed,
        data=sources,
        cohorts=cohorts,
        indicators=tuple(indicators),
        contract=contract,
        contract_file=contract_file,
        report=report,
    )


def _check_contract(
    contract: dict[str, Any], file: Path | None, indicator_ids: Sequence[str], ck: _Checker
) -> None:
    """Validate the contract with the payment engine; errors name the contract key path."""
    from pfseval.errors import ContractError
    from pfseval.payment import Contract

    try:
        c = Contract.from_dict(contract, file=str(file) if file else "")
    except ContractError as exc:
        msg = str(exc).split(f"{exc.key_path}: ", 1)[-1]
        raise SpecError(exc.key_path, msg, file=str(file or ck.file)) from exc
    missing = [x.indicator for x in c.components if x.indicator not in indicator_ids]
    if missing:
        raise ck.fail(
            "contract",
            f"the contract pays on indicator(s) {', '.join(missing)}, which no [[indicators]] "
            f"table defines (defined: {', '.join(indicator_ids)})",
        )
