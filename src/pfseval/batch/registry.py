"""How batch runs use the design contract: option checks, column references and calls.

A spec names a design (``design = "prepost.paired_proportions"``); everything the runner knows
about it comes from its :class:`~pfseval.designs.contract.DesignSpec`:

- ``options`` — what a spec's ``options`` table may hold (checked by
  :func:`~pfseval.designs.contract.check_options`, the one validator), which options are column
  names (kinds ``column`` / ``columns``, checked against the data before any computation) and
  which are required;
- ``matching`` — for two-step designs, the design whose options a spec's ``match`` table holds;
- ``input`` — what the first argument is (person-level data, a yearly series, a matched sample);
- ``figures`` and ``related`` — the figures the report may draw and the related estimates a
  spec may pay on (``use``).

There are no special cases by design name: a design registered by anyone (a toy design in a
test, a local design of an evaluator) runs from a spec like the built-in ones.

Examples
--------
>>> spec = get("rct.compare")
>>> "level" in supplied_options(spec)
True
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from pfseval.designs.contract import DesignSpec, Option, check_options, get

__all__ = [
    "RUNNER_SUPPLIED",
    "call_design",
    "column_refs",
    "get",
    "matching_spec",
    "option_problem",
    "required_missing",
    "spec_options",
    "supplied_options",
]

#: Common options the runner passes itself: ``level`` and ``seed`` from the indicator's own
#: keys, ``label`` from its label, ``n_jobs`` and ``progress`` from the command line. A spec
#: may not set them in ``options``; a design gets those of them it declares.
RUNNER_SUPPLIED = frozenset({"level", "seed", "label", "n_jobs", "progress"})


def matching_spec(spec: DesignSpec) -> DesignSpec | None:
    """The design of the matching step of a two-step design (``None`` for one-step designs)."""
    return None if spec.matching is None else get(spec.matching)


def spec_options(spec: DesignSpec) -> dict[str, Option]:
    """The options a spec file may set for ``spec`` (its declared options but runner-supplied)."""
    return {o.name: o for o in spec.options if o.name not in RUNNER_SUPPLIED}


def supplied_options(spec: DesignSpec) -> frozenset[str]:
    """The runner-supplied options ``spec`` declares (so the runner passes them)."""
    return frozenset(o.name for o in spec.options if o.name in RUNNER_SUPPLIED)


def option_problem(spec: DesignSpec, name: str, value: Any) -> str | None:
    """Why a spec's option ``name = value`` is not allowed for ``spec``, or ``None``.

    Unknown names and runner-supplied ones are problems; values are checked by
    :func:`~pfseval.designs.contract.check_options` (one validator, one message).
    """
    from pfseval.errors import DesignError

    if name in RUNNER_SUPPLIED:
        return (
            "is set by the runner (from the indicator's level, seed and label and the command "
            "line), not in options. Fix: remove it (set the indicator's own key instead)"
        )
    allowed = spec_options(spec)
    if name not in allowed:
        return (
            f"design {spec.name!r} has no option {name!r}; its options are: "
            f"{', '.join(sorted(allowed)) or 'none'}. Fix: remove it or correct its name"
        )
    try:
        check_options(spec, {name: value})
    except DesignError as exc:
        return str(exc)
    return None


def required_missing(spec: DesignSpec, options: Mapping[str, Any]) -> list[str]:
    """Required options of ``spec`` that ``options`` does not set (sorted)."""
    return sorted(n for n, o in spec_options(spec).items() if o.required and n not in options)


def _is_column_kind(o: Option) -> tuple[bool, bool]:
    kinds = (o.kind, *o.also)
    return "column" in kinds, "columns" in kinds


def column_refs(spec: DesignSpec, options: Mapping[str, Any]) -> list[tuple[str, str]]:
    """``(key, column name)`` for every column an options table names (from the option kinds).

    Examples
    --------
    >>> column_refs(get("rct.compare"), {"outcome": "sbp", "level": 0.9})
    [('outcome', 'sbp')]
    """
    out: list[tuple[str, str]] = []
    declared = spec.option_map
    for k, v in options.items():
        o = declared.get(k)
        if o is None:
            continue
        one, many = _is_column_kind(o)
        if one and isinstance(v, str):
            out.append((k, v))
        elif many and isinstance(v, list | tuple):
            out += [(f"{k}[{i}]", x) for i, x in enumerate(v) if isinstance(x, str)]
    return out


def call_design(
    spec: DesignSpec, first: Any, options: Mapping[str, Any], supplied: Mapping[str, Any]
) -> Any:
    """``spec``'s function on ``first`` with a spec's options and the supplied ones it declares."""
    mine = supplied_options(spec)
    return spec.load()(first, **dict(options), **{k: v for k, v in supplied.items() if k in mine})
