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

from pfseval.batch.checks import check_raw
from pfseval.batch.registry import (
    column_refs,
    matching_spec,
    option_problem,
    required_missing,
)
from pfseval.designs.contract import COMMON_OPTIONS, DesignSpec, get
from pfseval.errors import DesignError, SpecError
from pfseval.io.linkage import FOLLOW_SUFFIX
from pfseval.messages import Message, declare_messages
from pfseval.sdc.policy import DisclosurePolicy

__all__ = [
    "OPERATORS",
    "CohortSpec",
    "DataSource",
    "EvaluationSpec",
    "Filter",
    "IndicatorSpec",
    "MergeSpec",
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

declare_messages(
    {
        "batch.flow.filter": {
            "en": "not ({condition})",
            "ja": "条件（{condition}）を満たさない",
        }
    }
)

_TOP_KEYS = {"evaluation", "data", "cohorts", "indicators", "contract", "report", "plan"}
_EVAL_KEYS = {"title", "programme", "description", "seed", "data_roots"}
_DATA_KEYS = {
    "path",
    "baseline",
    "followup",
    "require",
    "merge",
    "format",
    "encoding",
    "mapping",
    "id_col",
    "aggregated",
    "validate",
    "description",
    "label",
    "engine",  # issue 15: "pandas", "duckdb" or "auto" (pfseval.scale.extract)
}
ENGINES = ("auto", "pandas", "duckdb")
_MERGE_KEYS = {"path", "on", "flag", "columns", "encoding", "mapping", "label"}
_COHORT_KEYS = {"from", "where", "description", "label"}
_FILTER_KEYS = {"column", "op", "value", "reason", "any", "missing"}
_IND_KEYS = {
    "id",
    "label",
    "design",
    "data",
    "level",
    "seed",
    "options",
    "match",
    "use",
    "description",
    "by",  # issue 15 hook: one evaluation per group (pfseval.scale.groups)
}
_REPORT_KEYS = {
    "lang",
    "title",
    "period",
    "evaluator",
    "min_cell",
    "summary",
    "disclosure",
    "labels",
}
_DISCLOSURE_KEYS = {
    "min_cell",
    "protection",
    "key_counts",
    "not_sensitive",
    "publish_estimates",
    "cost",
}


@dataclass(frozen=True)
class MergeSpec:
    """A file joined onto a data source's rows (a left join: the source's rows are kept).

    ``on`` is the key column in both (unique in the merged file; matched as text, so
    ``1001`` and ``"1001"`` agree). ``columns`` selects and renames the merged file's columns
    (merged name → name in the data); empty = every column but ``on``. ``flag`` names a new
    0/1 column that is 1 for the rows found in the merged file (e.g. ``treated`` from a
    participants list). Merged rows matching no source row are counted in the source's
    sample flow and reported as a warning.
    """

    path: Path
    on: str
    key_path: str
    flag: str | None = None
    columns: Mapping[str, str] = field(default_factory=dict)
    encoding: str | None = None
    mapping: Mapping[str, str] = field(default_factory=dict)
    #: the file's name for readers ({"ja": …, "en": …}); empty = the file name
    label: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class DataSource:
    """One input: a file, or a baseline extract linked to a follow-up extract.

    Paths are absolute (resolved against the spec's folder). Files are read with
    :func:`pfseval.io.read_checkups`: CSV (UTF-8 or CP932) or Parquet, ``mapping`` and the
    vocabulary's aliases (Japanese headers) applied, and with ``validate`` (default) every
    value checked against the vocabulary's types and ranges. ``id_col`` is the person-id
    column (unique, never published); ``None`` for aggregated data such as a yearly series
    (when ``id_col`` is not given and ``person_id`` is absent).

    A *linked* source (``followup`` set; ``path`` is then the baseline extract) is built by
    :func:`pfseval.io.link_years`: one row per baseline record, the follow-up values under
    the same names with the suffix ``_follow`` (missing without a follow-up record) and
    ``followup_years`` = follow-up minus baseline ``fiscal_year``. ``require`` lists
    follow-up items a record must have to count as linked in the source's flow. ``merge``
    files are then joined onto the rows.

    ``engine`` reads the files: ``"pandas"`` (:func:`pfseval.io.read_checkups`),
    ``"duckdb"`` (:func:`pfseval.scale.extract_cohort`: out of core, for national extracts)
    or ``"auto"`` (default): DuckDB from 5,000,000 baseline records on (see
    ``docs/scale.md``). Both give the same frame and flow.
    """

    name: str
    path: Path
    format: str
    encoding: str | None = None
    mapping: Mapping[str, str] = field(default_factory=dict)
    id_col: str | None = "person_id"
    validate: bool = True
    description: str = ""
    followup: Path | None = None
    require: tuple[str, ...] = ()
    merge: tuple[MergeSpec, ...] = ()
    #: the source's name for readers ({"ja": …, "en": …}); empty = ``name``
    label: Mapping[str, str] = field(default_factory=dict)
    engine: str = "auto"

    @property
    def linked(self) -> bool:
        """Whether the source links a baseline to a follow-up extract."""
        return self.followup is not None


@dataclass(frozen=True)
class Filter:
    """One declarative row filter: keep rows where ``column <op> value``.

    ``reason`` is the exclusion reason shown in the sample flow for the rows it removes
    (default: ``not (<condition>)``): a string, or a ``{ja = ..., en = ...}`` table so that the
    appendix shows it in its language (:meth:`reason_in`). A filter with ``any_of`` (``any = [...]`` in the spec)
    keeps the rows meeting at least one of its conditions (``column`` and ``op`` unused).

    Examples
    --------
    >>> f = Filter(column="", op="any", any_of=(Filter("hba1c", ">=", 6.5),
    ...                                          Filter("med_glucose", "==", 1)))
    >>> f.describe()
    '(hba1c >= 6.5 or med_glucose == 1)'
    >>> f.keep_mask(pd.DataFrame({"hba1c": [7.0, 5.0, None], "med_glucose": [0, 1, None]}))
    array([ True,  True, False])
    """

    column: str
    op: str
    value: Any = None
    reason: str | Mapping[str, str] = ""
    any_of: tuple[Filter, ...] = ()
    keep_missing: bool = False  # `!=` / `not_in` only (see pfseval.batch.checks)

    def reason_in(self, lang: str) -> str:
        """The exclusion reason in ``lang`` (falls back to the other language, then the
        condition).

        Examples
        --------
        >>> Filter("age", "<=", 71, reason={"ja": "72歳以上", "en": "aged over 71"}).reason_in("en")
        'aged over 71'
        >>> Filter("age", "<=", 71).reason_in("ja")
        'not (age <= 71)'
        """
        r = self.reason
        if isinstance(r, Mapping):
            text = r.get(lang) or next((v for v in r.values() if v), "")
        else:
            text = r
        return text or f"not ({self.describe()})"

    def reason_message(self) -> Message:
        """The exclusion reason as a message: the spec's own ja/en text, or the condition.

        Examples
        --------
        >>> Filter("age", "<=", 71).reason_message().text("ja")
        '条件（age <= 71）を満たさない'
        """
        r = self.reason
        if isinstance(r, str) and r:
            return Message.plain(ja=r, en=r)
        if isinstance(r, Mapping) and any(r.values()):
            return Message.plain(ja=self.reason_in("ja"), en=self.reason_in("en"))
        return Message("batch.flow.filter", params={"condition": self.describe()})

    def columns(self) -> list[str]:
        """The columns the filter reads."""
        if self.any_of:
            return [c for f in self.any_of for c in f.columns()]
        return [self.column]

    def describe(self) -> str:
        """Plain-words description of the condition rows must meet."""
        if self.any_of:
            return "(" + " or ".join(f.describe() for f in self.any_of) + ")"
        if self.op in ("missing", "not_missing"):
            return f"{self.column} {'is' if self.op == 'missing' else 'is not'} missing"
        return f"{self.column} {self.op} {self.value}"

    def keep_mask(self, data: pd.DataFrame) -> np.ndarray:
        """Boolean mask of the rows the filter keeps (missing values are never kept,
        except by ``missing``)."""
        if self.any_of:
            keep = np.zeros(len(data), dtype=bool)
            for f in self.any_of:
                keep |= f.keep_mask(data)
            return keep
        s = data[self.column]
        na = s.isna().to_numpy()
        op, v = self.op, self.value
        if op == "missing":
            return na
        if op == "not_missing":
            return ~na
        if op in ("in", "not_in"):
            m = s.isin(list(v)).to_numpy()
            return m & ~na if op == "in" else ~m & (~na | self.keep_missing)
        if op == "between":
            num = pd.to_numeric(s, errors="coerce")
            return ((num >= v[0]) & (num <= v[1])).fillna(False).to_numpy(dtype=bool)
        if op in ("==", "!="):
            if isinstance(v, str):
                m = (s.astype("string") == v).fillna(False).to_numpy(dtype=bool)
            else:
                m = (pd.to_numeric(s, errors="coerce") == v).fillna(False).to_numpy(dtype=bool)
            return m & ~na if op == "==" else ~m & (~na | self.keep_missing)
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
    #: the cohort's name for readers ({"ja": …, "en": …}); empty = ``name``
    label: Mapping[str, str] = field(default_factory=dict)


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
    use: str | None = None
    by: str | None = None  # issue 15 hook: grouping column (pfseval.scale.groups)

    @property
    def design_spec(self) -> DesignSpec:
        """The design's declaration in the registry (checked on load)."""
        return get(self.design)

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
    disclosure: DisclosurePolicy = field(default_factory=DisclosurePolicy)
    #: readers' names of columns the io vocabulary does not know: column → {"ja", "en"}
    labels: Mapping[str, Mapping[str, str]] = field(default_factory=dict)


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
        return _root(self.cohorts, name)


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

    def column(self, key: str, col: str, columns: Sequence[str], where: str) -> None:
        """Fail at ``key`` unless ``col`` is one of ``columns`` (those of ``where``: a file
        name or ``data source 'name'``)."""
        if col not in columns:
            raise self.fail(key, f"column {col!r} not in {where}; columns: {', '.join(columns)}")


def _root(cohorts: Mapping[str, CohortSpec], name: str) -> str:
    """The data source a data source or cohort name finally reads from."""
    while name in cohorts:
        name = cohorts[name].source
    return name


def _format_of(path: Path) -> str:
    if path.suffix.lower() in (".parquet", ".pq"):
        return "parquet"
    try:  # issue 15 hook: a declared `format` may name a file whose suffix says otherwise
        with path.open("rb") as fh:
            return "parquet" if fh.read(4) == b"PAR1" else "csv"
    except OSError:
        return "csv"


def _sep_of(path: Path) -> str:
    """The field separator the loader uses for a text file (tab for ``.tsv``)."""
    return "\t" if path.suffix.lower() == ".tsv" else ","


def _header(
    path: Path,
    *,
    encoding: str | None,
    mapping: Mapping[str, str],
    ck: _Checker,
    key: str,
    path_key: str = "path",
) -> list[str]:
    """Column names of a file as the loader will name them (mapping and the vocabulary's
    aliases applied), reading only the header."""
    from pfseval.io import FileFormatError, decode_bytes
    from pfseval.io.mapping import MappingError, resolve_columns

    if not path.is_file():
        raise ck.fail(
            f"{key}.{path_key}", f"file not found: {path} (paths are relative to the spec)"
        )
    try:
        if _format_of(path) == "parquet":
            import pyarrow.parquet as pq

            headers: list[object] = list(pq.read_schema(path).names)
        else:
            with path.open("rb") as fh:
                head = fh.read(1 << 16).split(b"\n", 1)[0]
            try:  # as the loader decodes the file
                text, _ = decode_bytes(head, encoding=encoding)
            except FileFormatError as exc:
                raise ck.fail(f"{key}.encoding", f"cannot decode the header of {path}") from exc
            headers = list(pd.read_csv(io.StringIO(text), sep=_sep_of(path), nrows=0).columns)
        names, _ = resolve_columns(headers, mapping=dict(mapping) or None)
    except (OSError, ValueError) as exc:
        if isinstance(exc, SpecError):
            raise
        what = "mapping" if isinstance(exc, MappingError) else path_key
        raise ck.fail(f"{key}.{what}", f"cannot read {path}: {exc}") from exc
    return [str(n) for n in names]


def _mapping(ck: _Checker, d: Mapping[str, Any], key: str) -> dict[str, str]:
    mapping = ck.table(d.get("mapping", {}), f"{key}.mapping")
    for mk, mv in mapping.items():
        if not isinstance(mv, str):
            raise ck.fail(f"{key}.mapping.{mk}", "must map to a column name (string)")
    return dict(mapping)


def _encoding(ck: _Checker, d: Mapping[str, Any], key: str) -> str | None:
    enc = d.get("encoding")
    if enc is not None and not isinstance(enc, str):
        raise ck.fail(f"{key}.encoding", "must be a string such as 'utf-8' or 'cp932'")
    return enc


def _check_merge(m: Any, key: str, ck: _Checker, data_base: Path) -> MergeSpec:
    ck.table(m, key, _MERGE_KEYS)
    path = (data_base / ck.string(m, "path", key)).resolve()
    on = ck.string(m, "on", key)
    flag = m.get("flag")
    if flag is not None and not isinstance(flag, str):
        raise ck.fail(f"{key}.flag", f"must be a column name (string), got {flag!r}")
    cols = m.get("columns", {})
    if isinstance(cols, list):
        if not all(isinstance(c, str) for c in cols):
            raise ck.fail(f"{key}.columns", "must list column names (strings)")
        cols = {c: c for c in cols}
    ck.table(cols, f"{key}.columns")
    for ck_, cv in cols.items():
        if not isinstance(cv, str):
            raise ck.fail(f"{key}.columns.{ck_}", "must give the new column name (string)")
    return MergeSpec(
        path=path,
        on=on,
        key_path=key,
        flag=flag,
        columns=dict(cols),
        encoding=_encoding(ck, m, key),
        mapping=_mapping(ck, m, key),
        label=_label(ck, m, "label", key),
    )


def _check_source(
    name: str, d: Any, ck: _Checker, data_base: Path, *, check_data: bool
) -> tuple[DataSource, list[str], dict[str, _Origin]]:
    """Validate one ``[data.<name>]`` table; return it and (with ``check_data``) the
    columns the loaded frame will have and where each comes from."""
    key = f"data.{name}"
    ck.table(d, key, _DATA_KEYS)
    p, followup, path_key = _source_paths(d, key, ck, data_base)
    fmt = d.get("format") or _format_of(p)
    if fmt not in ("csv", "parquet"):
        raise ck.fail(f"{key}.format", f"must be 'csv' or 'parquet', got {fmt!r}")
    require = d.get("require", [])
    if not isinstance(require, list) or not all(isinstance(r, str) for r in require):
        raise ck.fail(f"{key}.require", "must be a list of follow-up column names")
    merges_raw = d.get("merge", [])
    if isinstance(merges_raw, dict):
        merges_raw = [merges_raw]
    if not isinstance(merges_raw, list):
        raise ck.fail(f"{key}.merge", "must be a list of {path, on, ...} tables")
    merges = tuple(
        _check_merge(m, f"{key}.merge[{i}]", ck, data_base) for i, m in enumerate(merges_raw)
    )
    src = DataSource(
        name=name,
        path=p,
        format=fmt,
        encoding=_encoding(ck, d, key),
        mapping=_mapping(ck, d, key),
        id_col=ck.string(d, "id_col", key, default="person_id"),
        validate=_boolean(ck, d, "validate", key, default=True),
        description=ck.string(d, "description", key, default=""),
        followup=followup,
        require=tuple(require),
        merge=merges,
        label=_label(ck, d, "label", key),
        engine=_engine(ck, d, key),
    )
    if not check_data:
        return src, [], {}
    cols = _header(p, encoding=src.encoding, mapping=src.mapping, ck=ck, key=key, path_key=path_key)
    origins = {
        c: _Origin(
            key=f"{key}.{path_key}",
            path=p,
            name=c,
            position=j,
            encoding=src.encoding,
            validate=src.validate,
        )
        for j, c in reversed(list(enumerate(cols)))
    }
    aggregated = _boolean(ck, d, "aggregated", key, default=False)
    if aggregated:
        # declared aggregated data (a yearly series, municipality-years): no person id, and
        # its counts are not counts of people
        if "id_col" in d or followup is not None:
            raise ck.fail(
                f"{key}.aggregated",
                "is true, but the source also names a person id (id_col) or a follow-up "
                "extract. Fix: remove `aggregated = true` for person-level data",
            )
        src = replace(src, id_col=None)
    elif src.id_col not in cols:
        # never guess "aggregated" from a missing column: a person-level file whose id
        # column is misnamed would have its small counts printed as they are
        raise ck.fail(
            f"{key}.id_col",
            f"the person-id column {src.id_col!r} is not in {p.name} (columns: "
            f"{', '.join(cols[:12])}{', ...' if len(cols) > 12 else ''}). Fix: name the "
            'person-id column with `id_col = "..."`, or, if each row is already an '
            "aggregate (a yearly series), declare `aggregated = true`",
        )
    if followup is not None:
        cols = _followup_columns(src, followup, key, ck, cols, origins)
    for m in merges:
        cols = _merge_columns(src, m, ck, cols, origins)
    return src, cols, origins


def _source_paths(
    d: Mapping[str, Any], key: str, ck: _Checker, data_base: Path
) -> tuple[Path, Path | None, str]:
    """The file of a source, its follow-up file (linked sources) and the key naming the file."""
    if "baseline" in d or "followup" in d:
        if "path" in d:
            raise ck.fail(
                f"{key}.path", "give either `path` or `baseline` and `followup`, not both"
            )
        for k in ("baseline", "followup"):
            if k not in d:
                raise ck.fail(
                    f"{key}.{k}",
                    "is required for a linked source (with "
                    f"`{'followup' if k == 'baseline' else 'baseline'}`)",
                )
        p = (data_base / ck.string(d, "baseline", key)).resolve()
        return p, (data_base / ck.string(d, "followup", key)).resolve(), "baseline"
    if "require" in d:
        raise ck.fail(f"{key}.require", "only a linked source (baseline/followup) has it")
    return (data_base / ck.string(d, "path", key)).resolve(), None, "path"


def _followup_columns(
    src: DataSource,
    followup: Path,
    key: str,
    ck: _Checker,
    cols: list[str],
    origins: dict[str, _Origin],
) -> list[str]:
    """A linked source's columns: the baseline's, the follow-up's with the suffix, and
    ``followup_years`` (``origins`` gets the new ones)."""
    fcols = _header(
        followup,
        encoding=src.encoding,
        mapping=src.mapping,
        ck=ck,
        key=key,
        path_key="followup",
    )
    ck.column(f"{key}.followup", str(src.id_col), fcols, followup.name)
    for i, r in enumerate(src.require):
        ck.column(f"{key}.require[{i}]", r, fcols, followup.name)
    clash = [c for c in cols if c.endswith(FOLLOW_SUFFIX)]
    if clash:
        raise ck.fail(
            f"{key}.baseline",
            f"baseline column {clash[0]!r} already ends in {FOLLOW_SUFFIX!r}; rename it "
            "with `mapping`",
        )
    derived = (
        ["followup_years"]
        if "fiscal_year" in cols and "fiscal_year" in fcols and "followup_years" not in cols
        else []
    )
    for j, c in reversed(list(enumerate(fcols))):
        if c != src.id_col:
            origins[f"{c}{FOLLOW_SUFFIX}"] = _Origin(
                key=f"{key}.followup",
                path=followup,
                name=c,
                position=j,
                encoding=src.encoding,
                validate=src.validate,
            )
    for c in derived:
        origins[c] = _Origin(key=f"{key}.followup", dtype="float64")
    return cols + [f"{c}{FOLLOW_SUFFIX}" for c in fcols if c != src.id_col] + derived


def _merge_columns(
    src: DataSource, m: MergeSpec, ck: _Checker, cols: list[str], origins: dict[str, _Origin]
) -> list[str]:
    """The columns after joining a merged file (names must not clash; ``origins`` gets the
    new ones)."""
    mk = m.key_path
    mcols = _header(m.path, encoding=m.encoding, mapping=m.mapping, ck=ck, key=mk)
    ck.column(f"{mk}.on", m.on, mcols, m.path.name)
    ck.column(f"{mk}.on", m.on, cols, f"data source {src.name!r}")
    for c in m.columns:
        ck.column(f"{mk}.columns.{c}", c, mcols, m.path.name)
    new = list(m.columns.values()) or [c for c in mcols if c != m.on]
    if m.flag is not None:
        new.append(m.flag)
    for c in new:
        if c in cols or new.count(c) > 1:
            raise ck.fail(
                f"{mk}.columns" if c != m.flag else f"{mk}.flag",
                f"column {c!r} would appear twice in data source {src.name!r}; select and "
                'rename the merged columns with columns = { old = "new" }',
            )
    renamed = dict(m.columns) or {c: c for c in mcols if c != m.on}
    for j, c in reversed(list(enumerate(mcols))):
        if c in renamed:
            origins[renamed[c]] = _Origin(
                key=f"{mk}.path",
                path=m.path,
                name=c,
                position=j,
                encoding=m.encoding,
                validate=src.validate,
            )
    if m.flag is not None:
        origins[m.flag] = _Origin(key=f"{mk}.flag", dtype="int64")  # 0/1
    return cols + new


def _engine(ck: _Checker, d: Mapping[str, Any], key: str) -> str:
    engine = d.get("engine", "auto")
    if engine not in ENGINES:
        raise ck.fail(
            f"{key}.engine",
            f"must be 'auto', 'pandas' or 'duckdb', got {engine!r}. Fix: use one of them",
        )
    if engine == "duckdb" and d.get("validate", True) is False:
        raise ck.fail(
            f"{key}.engine",
            "the DuckDB engine checks every value. Fix: drop validate = false, or use "
            "engine = 'pandas'",
        )
    if engine == "duckdb" and "id_col" in d and d["id_col"] in (None, ""):
        raise ck.fail(
            f"{key}.engine",
            "the DuckDB engine needs a person-id column. Fix: set id_col, or use engine = 'pandas'",
        )
    return str(engine)


def _boolean(ck: _Checker, d: Mapping[str, Any], k: str, key: str, *, default: bool) -> bool:
    v = d.get(k, default)
    if not isinstance(v, bool):
        raise ck.fail(f"{key}.{k}", f"must be true or false, got {v!r}")
    return v


def _derive_seed(base: int, index: int) -> int:
    return int(np.random.SeedSequence([base, index]).generate_state(1)[0])


def _check_filter(f: Any, key: str, ck: _Checker, *, inner: bool = False) -> Filter:
    ck.table(f, key, _FILTER_KEYS - {"reason"} if inner else _FILTER_KEYS)
    reason = f.get("reason", "")
    if isinstance(reason, dict):
        ck.table(reason, f"{key}.reason", {"ja", "en"})
        for lang_key, text in reason.items():
            if not isinstance(text, str):
                raise ck.fail(f"{key}.reason.{lang_key}", "must be a string")
    elif not isinstance(reason, str):
        raise ck.fail(f"{key}.reason", "must be a string or a {ja = ..., en = ...} table")
    if "any" in f:
        extra = sorted(set(f) - {"any", "reason"})
        if extra:
            raise ck.fail(
                f"{key}.{extra[0]}",
                "a filter with `any` takes only `any` (a list of conditions) and `reason`",
            )
        alts = f["any"]
        if not isinstance(alts, list) or not alts:
            raise ck.fail(f"{key}.any", "must be a non-empty list of {column, op, value} tables")
        subs = tuple(
            _check_filter(a, f"{key}.any[{i}]", ck, inner=True) for i, a in enumerate(alts)
        )
        return Filter(column="", op="any", reason=reason, any_of=subs)
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
    return Filter(
        column=col, op=op, value=v, reason=reason, keep_missing=f.get("missing") == "keep"
    )


def _filter_leaves(f: Filter, key: str) -> list[tuple[str, Filter]]:
    """(key path, condition) of every single condition of a filter (``any`` unrolled)."""
    if f.any_of:
        return [kl for i, a in enumerate(f.any_of) for kl in _filter_leaves(a, f"{key}.any[{i}]")]
    return [(key, f)]


# ------------------------------------------------ filter values against column types


@dataclass(frozen=True)
class _Origin:
    """Where a column of a data source comes from, to type it as the runner will.

    ``path`` is the file (``name`` at ``position`` in its header, after the mapping);
    ``None`` for a column the runner computes (``dtype``: a merge flag, ``followup_years``).
    ``key`` is the spec key path of the file, for errors.
    """

    key: str
    path: Path | None = None
    name: str = ""
    position: int = -1
    encoding: str | None = None
    validate: bool = True
    dtype: str = ""


@dataclass(frozen=True)
class _ColumnType:
    """A column's type as loaded: numbers or text (``None``: every value is missing)."""

    numeric: bool | None
    dtype: str
    expected: str = ""  # vocabulary columns: the values expected, in words

    def words(self) -> str:
        return f"{'numbers' if self.numeric else 'text'} (dtype {self.dtype})"


def _read_columns(
    path: Path, positions: Sequence[int], *, encoding: str | None, ck: _Checker, key: str
) -> dict[int, pd.Series]:
    """The raw values of some columns of a file, read as the loader reads them (text for
    CSV, stored types for Parquet)."""
    from pfseval.io import decode_bytes

    try:
        if _format_of(path) == "parquet":
            import pyarrow.parquet as pq

            names = list(pq.read_schema(path).names)
            table = pd.read_parquet(path, columns=[names[j] for j in positions])
            return {j: table[names[j]].reset_index(drop=True) for j in positions}
        text, _ = decode_bytes(path.read_bytes(), encoding=encoding)
        raw = pd.read_csv(
            io.StringIO(text),
            sep=_sep_of(path),
            dtype=str,
            header=None,
            usecols=list(positions),
            skip_blank_lines=True,
        )
    except (OSError, ValueError, ImportError) as exc:  # FileFormatError, ParserError: ValueError
        raise ck.fail(key, f"cannot read {path}: {exc}") from exc
    body = raw.iloc[1:].reset_index(drop=True)  # the header is read as a row, as the loader does
    return {j: body[j] for j in positions}


def _type_of(origin: _Origin, raw: pd.Series) -> _ColumnType:
    """The type :func:`pfseval.io.read_checkups` gives a column holding ``raw``."""
    from pfseval.io import parse_checkups

    converted, report = parse_checkups(raw.rename(origin.name).to_frame(), required=())
    s = converted[origin.name]
    if not origin.validate and any(
        p.column == origin.name and p.kind in ("wrong_type", "unknown_code")
        for p in report.problems
    ):
        s = raw  # read_checkups(validate=False) keeps such a column as read
    numeric = pd.api.types.is_numeric_dtype(s.dtype) or pd.api.types.is_bool_dtype(s.dtype)
    return _ColumnType(None if bool(s.isna().all()) else numeric, str(s.dtype))


def _column_types(origins: Sequence[_Origin], ck: _Checker) -> dict[_Origin, _ColumnType]:
    """Type every column in ``origins``; each file is read once, only the columns needed,
    and not at all for vocabulary columns of validated sources (their type is fixed)."""
    from pfseval.io import VOCABULARY

    out: dict[_Origin, _ColumnType] = {}
    to_read: dict[tuple[Path, str | None], list[_Origin]] = {}
    for o in dict.fromkeys(origins):
        if o.path is None:
            out[o] = _ColumnType(True, o.dtype)
        elif o.validate and o.name in VOCABULARY:
            spec = VOCABULARY[o.name]
            dtype = ("Int64" if spec.integer else "float64") if spec.numeric else "str"
            out[o] = _ColumnType(spec.numeric, dtype, spec.expected())
        else:
            to_read.setdefault((o.path, o.encoding), []).append(o)
    for (path, encoding), group in to_read.items():
        values = _read_columns(
            path,
            sorted({o.position for o in group}),
            encoding=encoding,
            ck=ck,
            key=group[0].key,
        )
        for o in group:
            out[o] = _type_of(o, values[o.position])
    return out


def _toml_value(v: Any) -> str:
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, str):
        return '"' + v.replace("\\", "\\\\").replace('"', '\\"') + '"'
    return str(v)


def _value_problem(f: Filter, col: _ColumnType, source: str) -> str | None:
    """Why the value(s) of a single condition cannot match the column's type, or None."""
    if col.numeric is None:
        return None  # every value missing: nothing to compare with (run time warns)
    kind = OPERATORS[f.op]
    values = list(f.value) if kind in ("list", "pair") else [f.value]
    holds = f"column {f.column!r} of data source {source!r} holds {col.words()}"
    for j, v in enumerate(values):
        text = isinstance(v, str)
        if text != bool(col.numeric):
            continue  # text value on a text column, or a number on a numeric column
        what = (
            f"element {j} of the list ({_toml_value(v)})"
            if len(values) > 1 or kind == "list"
            else f"the value {_toml_value(v)}"
        )
        if col.numeric:
            try:
                number = float(v)
            except ValueError:
                number = float("nan")
            if np.isfinite(number):
                shown = str(int(number)) if number.is_integer() else str(number)
                fix = f"write numbers without quotes ({shown}, not {_toml_value(v)})"
            else:
                fix = "use a number" + (
                    f"; {f.column} takes {col.expected}" if col.expected else ""
                )
            return f"{what} is text, but {holds}, so the comparison would never match. Fix: {fix}"
        if kind in ("number", "pair"):
            return (
                f"operator {f.op!r} compares numbers, but {holds}. Fix: select text values "
                f'with op = "in" and quoted values (e.g. value = ["01", "02"]), or filter a '
                "numeric column"
            )
        if isinstance(v, bool):
            return (
                f"{what} is true/false (compared as 1/0), but {holds}, so the comparison "
                "would never match. Fix: write the text to match in quotes"
            )
        return (
            f"{what} is a number, but {holds}, so the comparison would never match. "
            f'Fix: write text in quotes ("{v}", not {v})'
        )
    return None


def _check_filter_types(
    cohorts: Mapping[str, CohortSpec],
    origins: Mapping[str, Mapping[str, _Origin]],
    ck: _Checker,
) -> None:
    """Check every filter value against the type its column will have when loaded
    (numeric column ↔ number, text column ↔ string; lists element-wise)."""
    checks: list[tuple[str, Filter, str, _Origin]] = []
    for name, c in cohorts.items():
        root = _root(cohorts, c.source)
        for i, f in enumerate(c.where):
            for key, leaf in _filter_leaves(f, f"cohorts.{name}.where[{i}]"):
                if OPERATORS[leaf.op] != "none":
                    checks.append((key, leaf, root, origins[root][leaf.column]))
    if not checks:
        return
    types = _column_types([o for *_, o in checks], ck)
    for key, leaf, root, o in checks:
        problem = _value_problem(leaf, types[o], root)
        if problem is not None:
            raise ck.fail(f"{key}.value", problem)


def _check_options(options: Mapping[str, Any], spec: DesignSpec, key: str, ck: _Checker) -> None:
    """Every option known to ``spec`` with an allowed value, and every required one given."""
    for k, v in options.items():
        problem = option_problem(spec, k, v)
        if problem is not None:
            raise ck.fail(f"{key}.{k}", problem)
    missing = required_missing(spec, options)
    if missing:
        raise ck.fail(f"{key}.{missing[0]}", f"is required by design {spec.name!r}")


# ---------------------------------------------------------------- loader


def load_spec(
    path: str | Path,
    *,
    seed: int | None = None,
    lang: str | None = None,
    data_dir: str | Path | None = None,
    check_data: bool = True,
    data_roots: Sequence[str | Path] = (),
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
    data_roots
        Further folders data files may come from (besides the spec's folder tree, or
        ``data_dir``, and the spec's ``evaluation.data_roots``).

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
    raw_bytes, raw = _read_toml(file, ck)
    base = file.resolve().parent
    data_base = Path(data_dir).resolve() if data_dir is not None else base
    ck.table(raw, "", _TOP_KEYS)
    check_raw(raw, file, data_base=data_base, data_roots=data_roots, seed=seed)
    ev = ck.table(raw.get("evaluation", {}), "evaluation", _EVAL_KEYS)
    base_seed = seed if seed is not None else ck.integer(ev, "seed", "evaluation", default=20240401)
    # texts for readers (a string, or { ja = …, en = … }) in the appendix's language
    rlang = _report_lang(raw, ck, lang)
    title = _text(ck, ev, "title", "evaluation", rlang)
    description = _text(ck, ev, "description", "evaluation", rlang)
    sources, columns, origins = _check_sources(raw, ck, data_base, check_data=check_data)
    cohorts = _check_cohorts(raw, ck, sources, columns, check_data=check_data)
    if check_data:
        _check_filter_types(cohorts, origins, ck)
    known = _Known(sources=sources, cohorts=cohorts, columns=columns, check_data=check_data)
    indicators = _check_indicators(raw, ck, known, base_seed=base_seed, fixed_seed=seed)
    contract, contract_file = _check_contract_table(raw, ck, base, indicators)
    report = _check_report(raw, ck, lang=rlang, title=title, description=description)
    _check_plan(file)
    h = hashlib.sha256(raw_bytes)
    if contract_file is not None:
        h.update(contract_file.read_bytes())
    return EvaluationSpec(
        file=file,
        sha256=h.hexdigest(),
        title=title or report.title,
        programme=_text(ck, ev, "programme", "evaluation", rlang),
        description=description,
        seed=base_seed,
        data=sources,
        cohorts=cohorts,
        indicators=indicators,
        contract=contract,
        contract_file=contract_file,
        report=report,
    )


# ---------------------------------------------------------------- the steps of load_spec


def _check_plan(file: Path) -> None:
    """The ``[plan]`` table's sensitivity specifications (see :mod:`pfseval.batch.plan`)."""
    from pfseval.batch.plan import read_plan

    read_plan(file)


def _read_toml(file: Path, ck: _Checker) -> tuple[bytes, dict[str, Any]]:
    """The spec's bytes (for its hash) and its parsed TOML."""
    try:
        raw_bytes = file.read_bytes()
    except OSError as exc:
        raise ck.fail("", f"cannot read the spec file: {exc}") from exc
    try:
        return raw_bytes, tomllib.loads(raw_bytes.decode("utf-8"))
    except (tomllib.TOMLDecodeError, UnicodeDecodeError, RecursionError) as exc:
        raise ck.fail("", f"not valid TOML: {exc}") from exc


def _check_sources(
    raw: Mapping[str, Any], ck: _Checker, data_base: Path, *, check_data: bool
) -> tuple[dict[str, DataSource], dict[str, list[str]], dict[str, dict[str, _Origin]]]:
    """Every ``[data.<name>]`` table; with ``check_data``, each source's columns and origins."""
    data_raw = ck.table(raw.get("data", {}), "data")
    if not data_raw:
        raise ck.fail("data", "at least one data source is required ([data.<name>] path = ...)")
    sources: dict[str, DataSource] = {}
    columns: dict[str, list[str]] = {}
    origins: dict[str, dict[str, _Origin]] = {}
    for name, d in data_raw.items():
        sources[name], columns[name], origins[name] = _check_source(
            name, d, ck, data_base, check_data=check_data
        )
    return sources, columns, origins


def _check_cohorts(
    raw: Mapping[str, Any],
    ck: _Checker,
    sources: Mapping[str, DataSource],
    columns: Mapping[str, list[str]],
    *,
    check_data: bool,
) -> dict[str, CohortSpec]:
    """Every ``[cohorts.<name>]`` table, in order (a cohort reads a source or an earlier one)."""
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
        if check_data:
            root = _root(cohorts, frm)
            for i, f in enumerate(filters):
                for fkey, leaf in _filter_leaves(f, f"{key}.where[{i}]"):
                    ck.column(f"{fkey}.column", leaf.column, columns[root], f"data source {root!r}")
        cohorts[name] = CohortSpec(
            name=name,
            source=frm,
            where=filters,
            description=ck.string(c, "description", key, default=""),
            label=_label(ck, c, "label", key),
        )
    return cohorts


@dataclass(frozen=True)
class _Known:
    """What indicators may refer to: the sources, the cohorts and (checked) source columns."""

    sources: Mapping[str, DataSource]
    cohorts: Mapping[str, CohortSpec]
    columns: Mapping[str, list[str]]
    check_data: bool


def _check_indicators(
    raw: Mapping[str, Any], ck: _Checker, known: _Known, *, base_seed: int, fixed_seed: int | None
) -> tuple[IndicatorSpec, ...]:
    """Every ``[[indicators]]`` table (ids unique)."""
    inds_raw = raw.get("indicators", [])
    if not isinstance(inds_raw, list) or not inds_raw:
        raise ck.fail("indicators", "at least one [[indicators]] table is required")
    out: list[IndicatorSpec] = []
    for i, ind in enumerate(inds_raw):
        key = f"indicators[{i}]"
        ck.table(ind, key, _IND_KEYS)
        spec = _check_indicator(ind, key, ck, known)
        if any(x.id == spec.id for x in out):
            raise ck.fail(f"{key}.id", f"duplicate indicator id {spec.id!r}")
        if fixed_seed is None and "seed" in ind:
            iseed = ck.integer(ind, "seed", key, default=0)
        else:
            iseed = _derive_seed(base_seed, i)
        out.append(replace(spec, seed=iseed))
    return tuple(out)


def _design_of(ind: Mapping[str, Any], key: str, ck: _Checker) -> DesignSpec:
    """The registered design an indicator names."""
    dname = ck.string(ind, "design", key)
    try:
        return get(dname)
    except DesignError as exc:
        raise ck.fail(f"{key}.design", str(exc)) from exc
    except (ImportError, AttributeError) as exc:
        raise ck.fail(
            f"{key}.design", f"design {dname!r} is not available in this installation: {exc}"
        ) from exc


def _check_level(ind: Mapping[str, Any], key: str, ck: _Checker) -> float:
    """The indicator's confidence level, checked as every design's ``level`` option is."""
    lvl = ind.get("level", 0.95)
    problem = COMMON_OPTIONS["level"].problem(lvl)
    if problem is not None:
        raise ck.fail(
            f"{key}.level", f"level = {lvl!r} is not allowed: {problem}. Fix: use e.g. 0.95"
        )
    return float(lvl)


def _check_use(ind: Mapping[str, Any], key: str, ck: _Checker, design: DesignSpec) -> str | None:
    """The related estimate an indicator pays on instead of the main value (``use``)."""
    use = ind.get("use")
    if use is None:
        return None
    if not isinstance(use, str):
        raise ck.fail(f"{key}.use", f"must be the name of a related estimate, got {use!r}")
    if use not in design.related:
        raise ck.fail(
            f"{key}.use",
            f"design {design.name!r} has no related estimate {use!r} to use as the indicator "
            f"value; it has: {', '.join(design.related) or 'none'}",
        )
    return use


def _check_indicator(
    ind: Mapping[str, Any], key: str, ck: _Checker, known: _Known
) -> IndicatorSpec:
    """One indicator: id, design, data, level, label, options (and match), use."""
    iid = ck.string(ind, "id", key)
    design = _design_of(ind, key, ck)
    dsrc = ck.string(ind, "data", key)
    if dsrc not in known.sources and dsrc not in known.cohorts:
        raise ck.fail(
            f"{key}.data",
            f"{dsrc!r} is not a data source or cohort "
            f"(known: {', '.join([*known.sources, *known.cohorts])})",
        )
    label = ind.get("label", iid)
    if isinstance(label, str):
        label = {"ja": label, "en": label}
    ck.table(label, f"{key}.label", {"ja", "en"})
    options = dict(ck.table(ind.get("options", {}), f"{key}.options"))
    match = dict(ck.table(ind.get("match", {}), f"{key}.match"))
    _check_options(options, design, f"{key}.options", ck)
    mspec = matching_spec(design)
    if mspec is not None:
        _check_options(match, mspec, f"{key}.match", ck)
    elif match:
        raise ck.fail(f"{key}.match", f"design {design.name!r} has no matching step; remove it")
    if known.check_data:
        root = _root(known.cohorts, dsrc)
        tables = [("options", design, options)]
        if mspec is not None:
            tables.append(("match", mspec, match))
        for table, dspec, opts in tables:
            for k, col in column_refs(dspec, opts):
                ck.column(f"{key}.{table}.{k}", col, known.columns[root], f"data source {root!r}")
    by = ind.get("by")  # issue 15 hook: one evaluation per group (pfseval.scale.groups)
    if by is not None and (not isinstance(by, str) or not by):
        raise ck.fail(f"{key}.by", f"must be a column name (string), got {by!r}")
    if by is not None and known.check_data:
        root = _root(known.cohorts, dsrc)
        ck.column(f"{key}.by", by, known.columns[root], f"data source {root!r}")
    return IndicatorSpec(
        id=iid,
        label=dict(label),
        design=design.name,
        data=dsrc,
        level=_check_level(ind, key, ck),
        seed=0,  # set by _check_indicators (derived from the evaluation seed)
        options=options,
        match=match,
        key_path=key,
        description=ck.string(ind, "description", key, default=""),
        use=_check_use(ind, key, ck, design),
        by=by,
    )


def _check_contract_table(
    raw: Mapping[str, Any], ck: _Checker, base: Path, indicators: Sequence[IndicatorSpec]
) -> tuple[dict[str, Any] | None, Path | None]:
    """The ``contract`` key: a path to a contract file, or the contract inline."""
    if "contract" not in raw:
        return None, None
    c = raw["contract"]
    if isinstance(c, str):
        c = {"path": c}
    ck.table(c, "contract")
    contract_file: Path | None = None
    if "path" in c:
        if set(c) != {"path"}:
            raise ck.fail("contract", "give either `path` or the inline contract, not both")
        contract_file = (base / ck.string(c, "path", "contract")).resolve()
        if not contract_file.is_file():
            raise ck.fail("contract.path", f"file not found: {contract_file}")
        try:
            contract = tomllib.loads(contract_file.read_text(encoding="utf-8"))
        except (tomllib.TOMLDecodeError, UnicodeDecodeError, RecursionError) as exc:
            raise ck.fail("contract.path", f"{contract_file}: not valid TOML: {exc}") from exc
    else:
        contract = {"contract": dict(c)}
    _check_contract(contract, contract_file, [x.id for x in indicators], ck)
    return contract, contract_file


def _check_report(
    raw: Mapping[str, Any], ck: _Checker, *, lang: str, title: str, description: str
) -> ReportOptions:
    """The ``[report]`` table, its texts in the appendix language ``lang``
    (:func:`_report_lang`)."""
    rep = ck.table(raw.get("report", {}), "report", _REPORT_KEYS)
    min_cell = ck.integer(rep, "min_cell", "report", default=10)
    if min_cell < 1:
        raise ck.fail("report.min_cell", f"must be at least 1, got {min_cell}")
    policy = _check_disclosure(
        rep.get("disclosure", {}), ck, min_cell=min_cell, explicit="min_cell" in rep
    )
    return ReportOptions(
        lang=lang,
        title=_text(ck, rep, "title", "report", lang) or title,
        period=_text(ck, rep, "period", "report", lang),
        evaluator=_text(ck, rep, "evaluator", "report", lang),
        min_cell=policy.min_cell,
        summary=_text(ck, rep, "summary", "report", lang) or description,
        disclosure=policy,
        labels=_column_labels(ck, rep),
    )


def _check_disclosure(raw: Any, ck: _Checker, *, min_cell: int, explicit: bool) -> DisclosurePolicy:
    """The ``[report.disclosure]`` table: the disclosure policy as data (its ``min_cell`` and
    ``[report] min_cell`` are one setting: give either, or the same value in both)."""
    from pfseval.sdc.policy import COSTS, KEY_COUNTS

    key = "report.disclosure"
    d = ck.table(raw, key, _DISCLOSURE_KEYS)
    m = ck.integer(d, "min_cell", key, default=min_cell)
    if "min_cell" in d and m != min_cell and explicit:
        raise ck.fail(
            f"{key}.min_cell",
            f"is {m} but [report] min_cell is {min_cell}. Fix: give the minimum cell once",
        )
    if m < 1:
        raise ck.fail(f"{key}.min_cell", f"must be at least 1, got {m}. Fix: use 10 (NDB rule)")
    prot = d.get("protection")
    if prot is not None and (
        isinstance(prot, bool) or not isinstance(prot, int | float) or not 0 <= prot <= m - 1
    ):
        raise ck.fail(
            f"{key}.protection",
            f"must be a number from 0 to {m - 1}, got {prot!r}. Fix: leave it out for "
            f"{m - 2} (the whole range 1 to {m - 1})",
        )

    def names(k: str, allowed: Sequence[str] | None) -> tuple[str, ...]:
        v = d.get(k)
        if v is None:
            return tuple(allowed or ())
        if not isinstance(v, list) or not all(isinstance(x, str) for x in v):
            raise ck.fail(f"{key}.{k}", f"must be a list of names, got {v!r}")
        bad = [x for x in v if allowed is not None and x not in allowed]
        if bad:
            raise ck.fail(
                f"{key}.{k}",
                f"unknown {bad}. Fix: choose from {', '.join(allowed or ())}",
            )
        return tuple(v)

    costs = ck.table(d.get("cost", {}), f"{key}.cost", set(COSTS))
    for k, v in costs.items():
        if isinstance(v, bool) or not isinstance(v, int | float) or v <= 0:
            raise ck.fail(f"{key}.cost.{k}", f"must be a positive number, got {v!r}")
    pub = d.get("publish_estimates", True)
    if not isinstance(pub, bool):
        raise ck.fail(f"{key}.publish_estimates", f"must be true or false, got {pub!r}")
    return DisclosurePolicy(
        min_cell=m,
        protection=None if prot is None else float(prot),
        key_counts=names("key_counts", KEY_COUNTS),
        not_sensitive=names("not_sensitive", None),
        publish_estimates=pub,
        costs={k: float(v) for k, v in costs.items()},
    )


def _report_lang(raw: Mapping[str, Any], ck: _Checker, lang: str | None) -> str:
    """The appendix's language: ``lang`` given to :func:`load_spec`, else ``[report] lang``."""
    rep = ck.table(raw.get("report", {}), "report", _REPORT_KEYS)
    rlang = lang if lang is not None else ck.string(rep, "lang", "report", default="ja")
    if rlang not in ("ja", "en"):
        raise ck.fail("report.lang", f"must be 'ja' or 'en', got {rlang!r}")
    return rlang


def _text(ck: _Checker, d: Mapping[str, Any], k: str, key: str, lang: str) -> str:
    """A text for readers in the appendix's language ``lang``: a string (either language) or
    ``{ ja = …, en = … }``; the other language's text when ``lang``'s is not given, "" when
    the key is absent."""
    v = d.get(k)
    if v is not None and not isinstance(v, (str, dict)):
        raise ck.fail(
            f"{key}.{k}", f"must be a string or a {{ja = ..., en = ...}} table, got {v!r}"
        )
    words = _label(ck, d, k, key)
    return words.get(lang) or next(iter(words.values()), "")


def _label(ck: _Checker, d: Mapping[str, Any], k: str, key: str) -> dict[str, str]:
    """A name for readers: a string (both languages) or ``{ ja = …, en = … }``."""
    v = d.get(k)
    if v is None:
        return {}
    if isinstance(v, str):
        return {"ja": v, "en": v}
    words = ck.table(v, f"{key}.{k}", {"ja", "en"})
    for lang, text in words.items():
        if not isinstance(text, str) or not text:
            raise ck.fail(f"{key}.{k}.{lang}", f"must be a non-empty string, got {text!r}")
    return dict(words)


def _column_labels(ck: _Checker, rep: Mapping[str, Any]) -> dict[str, dict[str, str]]:
    """``[report] labels``: column → reader's name (string or ``{ ja, en }``)."""
    raw = ck.table(rep.get("labels", {}), "report.labels")
    return {str(col): _label(ck, raw, col, "report.labels") for col in raw}


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
