"""Spec checks that keep a run safe and strict, applied on top of :mod:`pfseval.batch.spec`.

* names used in file names (indicator ids, cohort and data-source names) follow
  :data:`SAFE_NAME`;
* no text in a spec holds a control character (the DOCX writer cannot store them);
* data paths resolve (symbolic links followed) inside the spec's folder tree,
  or inside a folder the spec (``evaluation.data_roots``) or the command line allows;
* ``any`` filters nest at most :data:`MAX_FILTER_DEPTH` deep;
* seeds are whole numbers ≥ 0; ``n_boot`` lies in ``[0, MAX_N_BOOT]`` (the other option
  values are checked by the design registry's validator);
* a filter ``!=`` / ``not_in`` leaves out rows whose value is missing in a flow step of their
  own (``missing = "keep"`` on the filter keeps them instead).

Every problem is a :class:`~pfseval.errors.SpecError` naming the file and the key path.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from pfseval.errors import SpecError
from pfseval.messages import Message, declare_messages

__all__ = [
    "MAX_FILTER_DEPTH",
    "MAX_N_BOOT",
    "SAFE_NAME",
    "check_raw",
    "check_seed",
    "missing_step",
]

#: Names that become parts of file names: a letter, digit or underscore (any script), then
#: letters, digits, ``_``, ``-`` or ``.``; at most 64 characters. No ``/``, ``\\``, ``..``
#: prefix or spaces, so an id can never point outside the output folder.
SAFE_NAME = re.compile(r"^\w[\w.-]{0,63}$")
#: Deepest nesting of ``any`` filters (deeper specs are certainly mistakes).
MAX_FILTER_DEPTH = 8
#: Most bootstrap draws an indicator may ask for (1e5 already takes minutes on a laptop).
MAX_N_BOOT = 100_000
#: Largest seed numpy's SeedSequence is given by pfseval (64-bit).
_MAX_SEED = 2**63 - 1
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
_FILTER_MISSING = ("exclude", "keep")

declare_messages(
    {
        "batch.flow.filter_missing": {
            "en": "{column!v} missing",
            "ja": "{column!v}が欠測",
        }
    }
)


def _fail(file: Path | str, key: str, msg: str) -> SpecError:
    return SpecError(key, msg, file=str(file))


def check_seed(value: Any, *, key: str, file: Path | str = "") -> int:
    """A seed: a whole number in ``[0, 2**63 - 1]``.

    Examples
    --------
    >>> check_seed(7, key="evaluation.seed")
    7
    >>> try:
    ...     check_seed(-1, key="--seed")
    ... except SpecError as e:
    ...     print(e)
    --seed: must be a whole number from 0 to 9223372036854775807, got -1. Fix: use a non-negative seed such as 20240401
    """
    if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= _MAX_SEED:
        raise _fail(
            file,
            key,
            f"must be a whole number from 0 to {_MAX_SEED}, got {value!r}. Fix: use a "
            "non-negative seed such as 20240401",
        )
    return value


def _walk(x: Any, key: str) -> list[tuple[str, Any]]:
    """(key path, value) of every string and key in a parsed TOML document (iterative)."""
    out: list[tuple[str, Any]] = []
    stack = [(key, x)]
    while stack:
        k, v = stack.pop()
        if isinstance(v, Mapping):
            for kk, vv in v.items():
                sub = f"{k}.{kk}" if k else str(kk)
                out.append((sub, kk))
                stack.append((sub, vv))
        elif isinstance(v, list):
            stack.extend((f"{k}[{i}]", vv) for i, vv in enumerate(v))
        elif isinstance(v, str):
            out.append((k, v))
    return out


def _check_text(raw: Mapping[str, Any], file: Path) -> None:
    for key, v in _walk(raw, ""):
        if isinstance(v, str) and _CONTROL.search(v):
            c = _CONTROL.search(v)
            assert c is not None
            raise _fail(
                file,
                key or "(top level)",
                f"contains the control character U+{ord(c.group()):04X}, which documents "
                "cannot hold. Fix: remove it (tabs and line breaks are fine)",
            )


def _check_name(file: Path, key: str, name: Any, what: str) -> None:
    if isinstance(name, str) and not SAFE_NAME.match(name):
        raise _fail(
            file,
            key,
            f"{what} {name!r} is used in file names and must start with a letter, digit or "
            "_ and contain only letters, digits, _, - and . (at most 64 characters). "
            "Fix: rename it, e.g. 'completion_rate'",
        )


def _filter_depth(f: Any, key: str, file: Path) -> None:
    stack = [(f, key, 1)]
    while stack:
        g, k, depth = stack.pop()
        if not isinstance(g, Mapping):
            continue
        if depth > MAX_FILTER_DEPTH:
            raise _fail(
                file,
                k,
                f"filters nest more than {MAX_FILTER_DEPTH} levels deep (`any` inside `any`). "
                "Fix: flatten the conditions",
            )
        miss = g.get("missing", "exclude")
        if miss not in _FILTER_MISSING:
            raise _fail(
                file,
                f"{k}.missing",
                f"must be 'exclude' or 'keep', got {miss!r}. Fix: say what to do with rows "
                "whose value is missing",
            )
        if "missing" in g and g.get("op") not in ("!=", "not_in"):
            raise _fail(
                file,
                f"{k}.missing",
                "only a '!=' or 'not_in' filter takes `missing` (every other operator never "
                "keeps a missing value). Fix: remove it, or use op = 'missing'",
            )
        alts = g.get("any")
        if isinstance(alts, list):
            stack.extend((a, f"{k}.any[{i}]", depth + 1) for i, a in enumerate(alts))


def _paths(raw: Mapping[str, Any]) -> list[tuple[str, str]]:
    """(key path, path text) of every data file a spec names."""
    out = []
    data = raw.get("data")
    for name, d in data.items() if isinstance(data, Mapping) else ():
        if not isinstance(d, Mapping):
            continue
        for k in ("path", "baseline", "followup"):
            if isinstance(d.get(k), str):
                out.append((f"data.{name}.{k}", d[k]))
        merges = d.get("merge", [])
        merges = [merges] if isinstance(merges, Mapping) else merges
        for i, m in enumerate(merges if isinstance(merges, list) else []):
            if isinstance(m, Mapping) and isinstance(m.get("path"), str):
                out.append((f"data.{name}.merge[{i}].path", m["path"]))
    return out


def _inside(p: Path, roots: Sequence[Path]) -> bool:
    return any(p == r or r in p.parents for r in roots)


def _check_paths(
    raw: Mapping[str, Any],
    file: Path,
    *,
    data_base: Path,
    data_roots: Sequence[str | Path],
) -> None:
    base = file.resolve().parent
    ev = raw.get("evaluation", {})
    declared = ev.get("data_roots", []) if isinstance(ev, Mapping) else []
    if not isinstance(declared, list) or not all(isinstance(r, str) for r in declared):
        raise _fail(
            file,
            "evaluation.data_roots",
            "must be a list of folder paths (relative to the spec's folder). Fix: e.g. "
            'data_roots = ["../extracts"]',
        )
    roots = [data_base.resolve(), *((base / r).resolve() for r in declared)]
    roots += [Path(r).resolve() for r in data_roots]
    allowed = ", ".join(str(r) for r in roots)
    for key, text in _paths(raw):
        p = (data_base / text).resolve()  # follows symbolic links
        if not _inside(p, roots):
            raise _fail(
                file,
                key,
                f"{text!r} resolves to {p}, outside the folders data may come from "
                f"({allowed}). Fix: move the file under the spec's folder, or allow its "
                'folder with evaluation.data_roots = ["<folder>"] in the spec or '
                "--data-root <folder> on the command line",
            )


def _check_bounds(raw: Mapping[str, Any], file: Path) -> None:
    ev = raw.get("evaluation", {})
    if isinstance(ev, Mapping) and "seed" in ev:
        check_seed(ev["seed"], key="evaluation.seed", file=file)
    inds = raw.get("indicators", [])
    for i, ind in enumerate(inds if isinstance(inds, list) else []):
        if not isinstance(ind, Mapping):
            continue
        key = f"indicators[{i}]"
        _check_name(file, f"{key}.id", ind.get("id"), "indicator id")
        if "seed" in ind:
            check_seed(ind["seed"], key=f"{key}.seed", file=file)
        for table in ("options", "match"):
            opts = ind.get(table)
            if isinstance(opts, Mapping) and "n_boot" in opts:
                n = opts["n_boot"]
                # 0 = no bootstrap where a design allows it (its validator decides)
                if isinstance(n, bool) or not isinstance(n, int) or not 0 <= n <= MAX_N_BOOT:
                    raise _fail(
                        file,
                        f"{key}.{table}.n_boot",
                        f"must be a whole number from 0 to {MAX_N_BOOT}, got {n!r}. Fix: "
                        "2000 draws are usually enough for a 95% interval",
                    )


def check_raw(
    raw: Mapping[str, Any],
    file: str | Path,
    *,
    data_base: Path,
    data_roots: Sequence[str | Path] = (),
    seed: int | None = None,
) -> None:
    """Check a parsed spec before it is validated further (see the module docstring).

    Parameters
    ----------
    raw
        The parsed TOML document.
    file
        The spec file (for messages and its folder).
    data_base
        The folder data paths are resolved against (the spec's folder or ``--data-dir``).
    data_roots
        Further folders data may come from (the command line's ``--data-root``).
    seed
        A seed given on the command line.

    Raises
    ------
    SpecError
        The first problem found.

    Examples
    --------
    >>> from pathlib import Path
    >>> raw = {"indicators": [{"id": "../../x"}]}
    >>> try:
    ...     check_raw(raw, Path("s.toml"), data_base=Path("."))
    ... except SpecError as e:
    ...     print(e.key_path)
    indicators[0].id
    """
    file = Path(file)
    if seed is not None:
        check_seed(seed, key="--seed", file=file)
    _check_text(raw, file)
    for section, what in (("data", "data source name"), ("cohorts", "cohort name")):
        table = raw.get(section, {})
        for name in table if isinstance(table, Mapping) else ():
            _check_name(file, f"{section}.{name}", name, what)
    cohorts = raw.get("cohorts", {})
    for name, c in cohorts.items() if isinstance(cohorts, Mapping) else ():
        where = c.get("where", []) if isinstance(c, Mapping) else []
        for i, f in enumerate(where if isinstance(where, list) else []):
            _filter_depth(f, f"cohorts.{name}.where[{i}]", file)
    _check_bounds(raw, file)
    _check_paths(raw, file, data_base=data_base, data_roots=data_roots)


# ---------------------------------------------------------------- filters at run time


def missing_step(f: Any, data: pd.DataFrame) -> tuple[Message, np.ndarray] | None:
    """The flow step of the rows a ``!=`` / ``not_in`` filter leaves out for a missing value.

    A missing value is neither equal nor unequal to anything, so those rows are not left
    out "because" of the filter's condition: they get a step of their own (reason
    ``"<column> missing"`` / ``"<column>が欠測"``), unless the filter says ``missing = "keep"``.
    Returns ``(reason, mask of the rows to leave out)`` or ``None`` when the filter has no
    such step.

    Examples
    --------
    >>> from pfseval.batch.spec import Filter
    >>> df = pd.DataFrame({"sex": [1, 2, None]})
    >>> reason, mask = missing_step(Filter("sex", "!=", 2), df)
    >>> reason.text("en"), reason.text("ja"), mask.tolist()
    ('sex missing', 'sexが欠測', [False, False, True])
    """
    if f.any_of or f.op not in ("!=", "not_in") or getattr(f, "keep_missing", False):
        return None
    mask = data[f.column].isna().to_numpy()
    return Message("batch.flow.filter_missing", params={"column": f.column}), mask
