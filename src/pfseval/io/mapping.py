"""Column mappings: source headers → canonical vocabulary names.

A mapping is a dict ``{"source header": "canonical"}`` or a file:

* TOML (``.toml``)::

      [columns]
      "最高血圧(mmHg)" = "sbp"
      "ＨｂＡ１ｃ値" = "hba1c"

* CSV (``.csv``): two columns ``source,canonical`` with that header line (UTF-8).

Headers that the mapping does not name are matched against the vocabulary's aliases
(:func:`pfseval.io.vocabulary.canonical_name`); headers matching nothing are kept unchanged.
"""

from __future__ import annotations

import csv
import difflib
import io
import tomllib
from collections.abc import Mapping, Sequence
from os import PathLike
from pathlib import Path
from typing import Any

import pandas as pd

from pfseval.errors import DataProblem, PfsevalError
from pfseval.io.vocabulary import VOCABULARY, canonical_name, normalise_header

__all__ = ["ColumnMapping", "MappingError", "load_mapping", "resolve_columns"]

ColumnMapping = Mapping[str, str] | str | PathLike[str]
"""A mapping dict or the path of a TOML/CSV mapping file."""


class MappingError(PfsevalError):
    """A column-mapping file or dict is malformed. The message names the file and entry."""


def load_mapping(path: str | PathLike[str]) -> dict[str, str]:
    """Read a column mapping from a TOML (``[columns]`` table) or CSV (``source,canonical``) file.

    Parameters
    ----------
    path
        The mapping file; the format follows the suffix (``.toml`` or ``.csv``).

    Returns
    -------
    dict
        Source header → target column name.

    Raises
    ------
    MappingError
        The file is unreadable or malformed, or an entry is not a pair of non-empty strings.

    Examples
    --------
    >>> import pathlib, tempfile
    >>> p = pathlib.Path(tempfile.mkdtemp()) / "m.toml"
    >>> _ = p.write_text('[columns]\\n"最高血圧" = "sbp"\\n', encoding="utf-8")
    >>> load_mapping(p)
    {'最高血圧': 'sbp'}
    """
    p = Path(path)
    try:
        raw = p.read_bytes()
    except OSError as exc:
        raise MappingError(f"{p}: cannot read the mapping file ({exc})") from exc
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise MappingError(f"{p}: mapping files must be UTF-8 ({exc})") from exc
    suffix = p.suffix.lower()
    if suffix == ".toml":
        try:
            doc = tomllib.loads(text)
        except tomllib.TOMLDecodeError as exc:
            raise MappingError(f"{p}: invalid TOML ({exc})") from exc
        table = doc.get("columns")
        if not isinstance(table, dict):
            raise MappingError(
                f'{p}: no [columns] table. Fix: write `[columns]` then `"source header" = '
                '"canonical"` lines'
            )
        return _checked(table, where=f"{p}: [columns]")
    if suffix == ".csv":
        rows = list(csv.reader(io.StringIO(text)))
        rows = [r for r in rows if any(c.strip() for c in r)]
        if not rows or [c.strip().lower() for c in rows[0][:2]] != ["source", "canonical"]:
            raise MappingError(f"{p}: the first line must be the header `source,canonical`")
        out: dict[str, object] = {}
        for i, r in enumerate(rows[1:], start=2):
            if len(r) < 2:
                raise MappingError(f"{p}: line {i}: expected `source,canonical`, got {r!r}")
            if r[0] in out:
                raise MappingError(f"{p}: line {i}: source header {r[0]!r} mapped twice")
            out[r[0]] = r[1].strip()
        return _checked(out, where=p.name)
    raise MappingError(f"{p}: unknown mapping format {suffix!r}; use .toml or .csv")


def _checked(table: Mapping[Any, Any], *, where: str) -> dict[str, str]:
    out: dict[str, str] = {}
    for k, v in table.items():
        if not isinstance(k, str) or not k or not isinstance(v, str) or not v.strip():
            raise MappingError(
                f"{where}: entry {k!r} = {v!r}: both the source header and the target must "
                "be non-empty strings"
            )
        out[k] = v.strip()
    return out


def _as_dict(mapping: ColumnMapping | None) -> dict[str, str]:
    if mapping is None:
        return {}
    if isinstance(mapping, str | PathLike):
        return load_mapping(mapping)
    return _checked(mapping, where="mapping")


def resolve_columns(
    headers: Sequence[object], *, mapping: ColumnMapping | None = None
) -> tuple[list[object], list[DataProblem]]:
    """Decide the column name for each source header.

    The mapping wins (exact header, then NFKC/case-insensitive); otherwise the vocabulary
    aliases; otherwise the header is kept. When two headers would get the same name, the first
    keeps it and the others keep their own header (an error is reported).

    Parameters
    ----------
    headers
        Source headers, in file order.
    mapping
        Dict or mapping-file path (see :func:`load_mapping`).

    Returns
    -------
    (names, problems)
        The new name of each header and the problems found (unused mapping entries and
        targets that look like a mistyped vocabulary name, e.g. ``"hbalc"``, are warnings;
        a name claimed twice is an error).

    Examples
    --------
    >>> names, problems = resolve_columns(["受診者ID", "ＨｂＡ１ｃ", "BP上"], mapping={"BP上": "sbp"})
    >>> names
    ['person_id', 'hba1c', 'sbp']
    """
    table = _as_dict(mapping)
    by_norm = {normalise_header(k): v for k, v in table.items()}
    problems: list[DataProblem] = []
    used_keys: set[str] = set()
    targets: list[object] = []
    for h in headers:
        hs, key = str(h), normalise_header(h)
        if hs in table or key in by_norm:
            targets.append(table[hs] if hs in table else by_norm[key])
            used_keys.add(key)
        else:
            targets.append(canonical_name(hs) or h)
    for k in table:
        if normalise_header(k) not in used_keys:
            problems.append(
                DataProblem(
                    column=str(table[k]),
                    kind="mapping_unused",
                    message=f"mapping entry {k!r} → {table[k]!r} matches no header in the file",
                    severity="warning",
                )
            )
    names: list[object] = []
    claimed: dict[object, object] = {}
    for h, t in zip(headers, targets, strict=True):
        if t in claimed:
            problems.append(
                DataProblem(
                    column=str(t),
                    kind="duplicate_column",
                    message=f"headers {claimed[t]!r} and {h!r} both denote {t!r}; {h!r} is kept "
                    "under its own name and not used. Fix: drop one column or map it elsewhere",
                )
            )
            names.append(h)
        else:
            claimed[t] = h
            names.append(t)
    for h, t in zip(headers, names, strict=True):
        if t != h and isinstance(t, str) and t not in VOCABULARY:
            near = _nearest_vocabulary_name(t)
            if near is not None:  # probably a typo in the mapping: the column goes unchecked
                problems.append(
                    DataProblem(
                        column=t,
                        kind="mapping_target_unknown",
                        message=f"header {h!r} is mapped to {t!r}, which is not a vocabulary "
                        f"column, so it is kept as an extra column and not checked (and "
                        f"{near!r} is not filled from it). Did you mean {near!r}? Fix: "
                        "correct the target in the mapping",
                        expected=f"a vocabulary name such as {near!r}",
                        severity="warning",
                    )
                )
            else:  # deliberately an extra column, e.g. a programme flag such as "treated"
                problems.append(
                    DataProblem(
                        column=t,
                        kind="renamed",
                        message=f"header {h!r} renamed to {t!r} (not a vocabulary column; "
                        "kept as an extra column)",
                        severity="info",
                    )
                )
    return names, problems


def _nearest_vocabulary_name(target: str) -> str | None:
    """The vocabulary column a mistyped mapping target most likely meant, if any.

    A target that is itself a recognised header (``"HbA1c"``, ``"収縮期血圧"``) gives its
    canonical name; otherwise the closest vocabulary name by :mod:`difflib` with a similarity
    ratio of at least 0.75 (``"hbalc"`` → ``"hba1c"``: 0.8), else ``None``.
    """
    canonical = canonical_name(target)
    if canonical is not None:
        return canonical
    close = difflib.get_close_matches(target.strip().lower(), list(VOCABULARY), n=1, cutoff=0.75)
    return close[0] if close else None


def apply_mapping(
    df: pd.DataFrame, *, mapping: ColumnMapping | None = None
) -> tuple[pd.DataFrame, dict[str, str], list[DataProblem]]:
    """Rename the columns of ``df`` (a copy) by :func:`resolve_columns`.

    Returns the renamed frame, the map new name → source header, and the problems.
    """
    names, problems = resolve_columns(list(df.columns), mapping=mapping)
    out = df.copy()
    out.columns = pd.Index(names, dtype=object)
    origin = {str(n): str(h) for n, h in zip(names, df.columns, strict=True)}
    return out, origin, problems
