"""The design contract: what every evaluation design declares, and the one option validator.

A design is a public function that takes data (or a matched sample, or a series) and returns an
:class:`~pfseval.result.Estimate`. It joins the contract by declaring a :class:`DesignSpec` —
its options with their allowed values, its title, plain description and assumptions in Japanese
and English, the diagnostics it reports and the figures it offers — and registering it with
:func:`register`. Batch runs and reports know designs only through this registry and the
``Estimate`` they return: no special cases by design name.

One validator, :func:`check_options`, checks option values for every design (in the function
itself, through :func:`validated`, and in spec files before any computation) and raises
:class:`~pfseval.errors.DesignError` naming the option, the value and what is allowed.

Examples
--------
>>> spec = get("rct.compare")
>>> spec.title["ja"]
'ランダム化比較試験'
>>> check_options(spec, {"level": 1.5})
Traceback (most recent call last):
...
pfseval.errors.DesignError: rct.compare: option 'level' = 1.5 is not allowed: it must be a number in (0, 1). Fix: use e.g. level = 0.95.
"""

from __future__ import annotations

import functools
import importlib
import inspect
import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any, Literal, ParamSpec, TypeVar

from pfseval.errors import DesignError

__all__ = [
    "COMMON_OPTIONS",
    "DIAGNOSTICS",
    "RATE_PAIRS",
    "DesignSpec",
    "Diagnostic",
    "Option",
    "check_options",
    "declare_diagnostics",
    "designs",
    "get",
    "is_rate_of",
    "register",
    "validated",
]

OptionKind = Literal[
    "column", "columns", "int", "float", "bool", "choice", "str", "mapping", "choices", "any"
]
DiagnosticKind = Literal["people", "count", "proportion", "statistic", "setting", "text", "table"]
Input = Literal["data", "matched", "series"]

#: The modules that define the built-in designs; importing them registers their specs.
BUILTIN_MODULES = (
    "pfseval.designs.proportion",
    "pfseval.designs.rct",
    "pfseval.designs.prepost",
    "pfseval.designs.baseline",
    "pfseval.designs.psm",
)


def _text(d: Mapping[str, str] | None) -> Mapping[str, str]:
    return MappingProxyType(dict(d or {}))


# ---------------------------------------------------------------- options


@dataclass(frozen=True)
class Option:
    """One option of a design, with what it allows.

    Attributes
    ----------
    name
        The keyword name (the same in the function and in spec files).
    kind
        ``column`` (one column name), ``columns`` (a list of names), ``int``, ``float``,
        ``bool``, ``choice`` (one of ``choices``), ``choices`` (a list drawn from ``choices``),
        ``str``, ``mapping``, ``any``.
    choices
        Allowed values for ``choice`` / ``choices``.
    low, high
        Bounds for numbers; ``low_open`` / ``high_open`` make a bound exclusive.
    nullable
        ``None`` is allowed (an absent optional value).
    required
        The option has no default.
    also
        Other types accepted besides ``kind`` (e.g. a ``float`` option that also takes a
        ``mapping`` of per-covariate values).
    stage
        ``"estimate"`` or, for two-step designs, ``"match"`` (options of the matching step,
        read from a spec's ``match`` table).
    label
        Plain name in ja and en (shown in appendices' settings tables).
    """

    name: str
    kind: OptionKind
    choices: tuple[Any, ...] = ()
    low: float | None = None
    high: float | None = None
    low_open: bool = False
    high_open: bool = False
    nullable: bool = False
    required: bool = False
    also: tuple[OptionKind, ...] = ()
    stage: Literal["estimate", "match"] = "estimate"
    label: Mapping[str, str] = field(default_factory=dict)

    def __post_init__(self) -> None:
        object.__setattr__(self, "label", _text(self.label))

    def allowed(self) -> str:
        """What the option allows, in words (used in error messages)."""
        kinds = [self.kind, *self.also]
        parts = [_KIND_WORDS[k](self) for k in kinds]
        if self.nullable:
            parts.append("None")
        return " or ".join(parts)

    def problem(self, value: Any) -> str | None:
        """Why ``value`` is not allowed, or ``None`` when it is."""
        if value is None:
            return None if self.nullable or not self.required else "a value is required"
        for kind in (self.kind, *self.also):
            if _KIND_CHECKS[kind](self, value):
                return None
        return f"it must be {self.allowed()}"


def _is_number(v: Any) -> bool:
    import numbers

    return isinstance(v, numbers.Real) and not isinstance(v, bool)


def _in_range(o: Option, v: float) -> bool:
    if not math.isfinite(float(v)):
        return False
    if o.low is not None and (v < o.low or (o.low_open and v == o.low)):
        return False
    return not (o.high is not None and (v > o.high or (o.high_open and v == o.high)))


def _range_words(o: Option) -> str:
    if o.low is not None and o.high is not None:
        lb = "(" if o.low_open else "["
        rb = ")" if o.high_open else "]"
        return f" in {lb}{_num(o.low)}, {_num(o.high)}{rb}"
    if o.low is not None:
        return f" {'>' if o.low_open else '≥'} {_num(o.low)}"
    if o.high is not None:
        return f" {'<' if o.high_open else '≤'} {_num(o.high)}"
    return ""


def _num(x: float) -> str:
    return str(int(x)) if float(x).is_integer() else str(x)


def _is_int(v: Any) -> bool:
    import numbers

    return isinstance(v, numbers.Integral) and not isinstance(v, bool)


def _is_names(v: Any) -> bool:
    return (
        isinstance(v, Sequence)
        and not isinstance(v, str)
        and all(isinstance(x, str) and x for x in v)
        and len(set(v)) == len(v)
    )


_KIND_CHECKS: dict[str, Callable[[Option, Any], bool]] = {
    "column": lambda o, v: isinstance(v, str) and bool(v),
    "columns": lambda o, v: _is_names(v),
    "int": lambda o, v: _is_int(v) and _in_range(o, v),
    "float": lambda o, v: _is_number(v) and _in_range(o, v),
    "bool": lambda o, v: isinstance(v, bool),
    "choice": lambda o, v: any(v == c and type(v) is type(c) for c in o.choices),
    "choices": lambda o, v: (
        isinstance(v, Sequence) and not isinstance(v, str) and all(x in o.choices for x in v)
    ),
    "str": lambda o, v: isinstance(v, str),
    "mapping": lambda o, v: isinstance(v, Mapping),
    "any": lambda o, v: True,
}

_KIND_WORDS: dict[str, Callable[[Option], str]] = {
    "column": lambda o: "a column name",
    "columns": lambda o: "a list of distinct column names",
    "int": lambda o: "a whole number" + _range_words(o),
    "float": lambda o: "a number" + _range_words(o),
    "bool": lambda o: "true or false",
    "choice": lambda o: "one of " + ", ".join(repr(c) for c in o.choices),
    "choices": lambda o: "a list drawn from " + ", ".join(repr(c) for c in o.choices),
    "str": lambda o: "a text",
    "mapping": lambda o: "a table (mapping)",
    "any": lambda o: "any value",
}

#: Options whose meaning is the same in every design (one vocabulary).
COMMON_OPTIONS: Mapping[str, Option] = MappingProxyType(
    {
        o.name: o
        for o in (
            Option(
                "level",
                "float",
                low=0,
                high=1,
                low_open=True,
                high_open=True,
                label={"ja": "信頼水準", "en": "confidence level"},
            ),
            Option(
                "seed",
                "int",
                low=0,
                nullable=True,
                label={"ja": "乱数シード", "en": "random seed"},
            ),
            Option(
                "n_boot",
                "int",
                low=0,
                high=1_000_000,
                label={"ja": "ブートストラップ反復数", "en": "bootstrap replicates"},
            ),
            Option("label", "str", label={"ja": "指標名", "en": "indicator label"}),
            Option("id_col", "column", nullable=True, label={"ja": "個人ID列", "en": "id column"}),
            Option(
                "treatment",
                "column",
                label={"ja": "介入群を示す列（0/1）", "en": "treatment column (0/1)"},
            ),
            Option("outcome", "column", label={"ja": "アウトカム", "en": "outcome"}),
            Option(
                "covariates",
                "columns",
                label={"ja": "調整変数", "en": "covariates"},
            ),
            Option(
                "n_jobs",
                "int",
                low=1,
                high=1024,
                label={"ja": "並列数", "en": "parallel workers"},
            ),
            Option("progress", "bool", label={"ja": "進捗表示", "en": "progress bar"}),
        )
    }
)

#: Fix hints for common options (the message ends with "Fix: ...").
_FIX = {
    "level": "use e.g. level = 0.95.",
    "seed": "use a whole number ≥ 0, e.g. seed = 20240401.",
    "n_boot": "use e.g. n_boot = 2000 (0 switches the bootstrap off where allowed).",
}


# ---------------------------------------------------------------- diagnostics


@dataclass(frozen=True)
class Diagnostic:
    """One diagnostic a design reports in ``Estimate.diagnostics``.

    Attributes
    ----------
    name
        The key, the same for the same concept in every design.
    kind
        ``people`` (a count of people: disclosure control protects it), ``count`` (another
        count: pairs, clusters, replicates), ``proportion``, ``statistic``, ``setting`` (a value
        the evaluator chose), ``text``, ``table``.
    label
        Plain name in ja and en.
    derived_from
        For values derived from counts of people (rates, degrees of freedom, an SMD of a
        two-valued variable): the names of those counts.
    relation
        How the value derives from them, as a formula over their names (e.g. ``"n - 1"``).
    """

    name: str
    kind: DiagnosticKind
    label: Mapping[str, str]
    derived_from: tuple[str, ...] = ()
    relation: str = ""

    def __post_init__(self) -> None:
        object.__setattr__(self, "label", _text(self.label))
        missing = [lang for lang in ("ja", "en") if not self.label.get(lang)]
        if missing:
            raise ValueError(f"diagnostic {self.name!r}: no label for {missing}")


#: Every declared diagnostic, by name. One name, one meaning, across designs.
_DIAGNOSTICS: dict[str, Diagnostic] = {}
DIAGNOSTICS: Mapping[str, Diagnostic] = MappingProxyType(_DIAGNOSTICS)

#: Diagnostics that are the numerator and denominator of an estimate's rate, in the order
#: they are looked for (the appendix publishes such a rate with its counts).
RATE_PAIRS: tuple[tuple[str, str], ...] = (
    ("n_numerator", "n_denominator"),
    ("n_suppressed", "n_denominator"),
    ("numerator", "denominator"),
)


def is_rate_of(value: Any, num: float, den: float) -> bool:
    """Whether ``value`` is the rate ``num / den`` (a proportion shown as a rate).

    Examples
    --------
    >>> is_rate_of(0.25, 1, 4), is_rate_of(0.3, 1, 4), is_rate_of(0.0, 0, 0)
    (True, False, False)
    """
    number = isinstance(value, int | float) and not isinstance(value, bool)
    return den > 0 and number and abs(float(value) - num / den) < 1e-9


def declare_diagnostics(*items: Diagnostic) -> tuple[str, ...]:
    """Declare diagnostics (a name declared twice must mean the same thing); returns the names.

    Examples
    --------
    >>> declare_diagnostics(Diagnostic("n_pairs", "count", {"ja": "ペア数", "en": "pairs"}))
    ('n_pairs',)
    """
    for d in items:
        old = _DIAGNOSTICS.get(d.name)
        if old is not None and (old.kind, dict(old.label), old.derived_from) != (
            d.kind,
            dict(d.label),
            d.derived_from,
        ):
            raise ValueError(
                f"diagnostic {d.name!r} is already declared as {old.kind} "
                f"{dict(old.label)}; one name must mean one thing in every design"
            )
        _DIAGNOSTICS[d.name] = d
    return tuple(d.name for d in items)


# ---------------------------------------------------------------- designs


@dataclass(frozen=True)
class DesignSpec:
    """What a design declares to join the contract.

    Attributes
    ----------
    name
        Name used in spec files, ``"<module>.<function>"`` (e.g. ``"prepost.compare"``).
    function
        ``"module:function"`` of the public design function.
    input
        What the function's first argument is: ``data`` (a person-level frame), ``matched``
        (a :class:`~pfseval.designs.psm.MatchedSample`), ``series`` (a yearly series).
    options
        Every keyword option of the function (common ones may be taken from
        :data:`COMMON_OPTIONS` by name), with what it allows.
    title, description, assumptions
        Plain words in ja and en: the design's name, how it works, what it assumes.
    diagnostics
        Names of the :data:`DIAGNOSTICS` it reports.
    figures
        Figures it offers to reports (e.g. ``"love_plot"``, ``"overlap"``, ``"trend"``).
    related
        ``Estimate.related`` keys it always returns, which an indicator may pay on instead of
        the main value (a spec's ``use`` key).
    matching
        For two-step designs, the name of the matching function's spec (``"psm.match"``);
        its options come from a spec's ``match`` table.
    person_level
        The design reads person-level records (an id column is required, or an explicit
        declaration that the table holds aggregated counts).
    """

    name: str
    function: str
    input: Input
    options: tuple[Option, ...]
    title: Mapping[str, str]
    description: Mapping[str, str]
    assumptions: Mapping[str, str]
    diagnostics: tuple[str, ...] = ()
    figures: tuple[str, ...] = ()
    related: tuple[str, ...] = ()
    matching: str | None = None
    person_level: bool = True

    def __post_init__(self) -> None:
        for name in ("title", "description", "assumptions"):
            t = _text(getattr(self, name))
            missing = [lang for lang in ("ja", "en") if not t.get(lang)]
            if missing:
                raise ValueError(f"design {self.name!r}: {name} has no text for {missing}")
            object.__setattr__(self, name, t)
        names = [o.name for o in self.options]
        dup = sorted({n for n in names if names.count(n) > 1})
        if dup:
            raise ValueError(f"design {self.name!r}: options declared twice: {dup}")

    @property
    def option_map(self) -> Mapping[str, Option]:
        return MappingProxyType({o.name: o for o in self.options})

    def load(self) -> Callable[..., Any]:
        """Import and return the design function."""
        mod, _, fn = self.function.partition(":")
        return getattr(importlib.import_module(mod), fn)  # type: ignore[no-any-return]


_REGISTRY: dict[str, DesignSpec] = {}


def register(spec: DesignSpec) -> DesignSpec:
    """Add a design to the registry (a name registered twice is replaced only by an equal spec)."""
    old = _REGISTRY.get(spec.name)
    if old is not None and old != spec:
        raise ValueError(f"design {spec.name!r} is already registered with another spec")
    _REGISTRY[spec.name] = spec
    return spec


def unregister(name: str) -> None:
    """Remove a design (for tests that register toy designs)."""
    _REGISTRY.pop(name, None)


def _load_builtins() -> None:
    for m in BUILTIN_MODULES:
        importlib.import_module(m)


def designs() -> Mapping[str, DesignSpec]:
    """Every registered design (the built-in ones are imported on first use)."""
    _load_builtins()
    return MappingProxyType(_REGISTRY)


def get(name: str) -> DesignSpec:
    """The spec of a registered design.

    Raises
    ------
    DesignError
        When no design has that name (the message lists them).
    """
    if name not in _REGISTRY:
        _load_builtins()
    try:
        return _REGISTRY[name]
    except KeyError:
        raise DesignError(
            f"unknown design {name!r}. Fix: use one of {', '.join(sorted(_REGISTRY))}."
        ) from None


def check_options(
    spec: DesignSpec | str,
    options: Mapping[str, Any],
    *,
    stage: Literal["estimate", "match"] | None = None,
    where: str = "",
) -> None:
    """Check option values against a design's declared options.

    Parameters
    ----------
    spec
        The design (or its registered name).
    options
        Option name → value. Unknown names are errors.
    stage
        Check only the options of one stage (``"match"`` for a spec's ``match`` table).
    where
        Prefix for the message (e.g. a spec file and key path).

    Raises
    ------
    DesignError
        Naming the first option that is unknown or has a value outside what it allows.
    """
    spec = get(spec) if isinstance(spec, str) else spec
    declared = {o.name: o for o in spec.options if stage is None or o.stage == stage}
    head = f"{where}: " if where else f"{spec.name}: "
    for name, value in options.items():
        opt = declared.get(name)
        if opt is None:
            allowed = ", ".join(sorted(declared))
            raise DesignError(f"{head}unknown option {name!r}. Fix: use one of {allowed}.")
        why = opt.problem(value)
        if why is not None:
            fix = _FIX.get(name, f"give {opt.allowed()}.")
            raise DesignError(
                f"{head}option {name!r} = {value!r} is not allowed: {why}. Fix: {fix}"
            )


P = ParamSpec("P")
R = TypeVar("R")


def validated(name: str) -> Callable[[Callable[P, R]], Callable[P, R]]:
    """Decorate a design function so that its options are checked by :func:`check_options`.

    The check runs on every call with the values the caller gave (defaults are trusted), so a
    function and a spec file reject the same values with the same message.
    """

    def deco(fn: Callable[P, R]) -> Callable[P, R]:
        sig = inspect.signature(fn)
        first = next(iter(sig.parameters))

        @functools.wraps(fn)
        def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
            # Unknown keywords are reported like unknown spec options (a DesignError naming
            # them), not as Python's TypeError, so the function and a spec file agree.
            unknown = {k: v for k, v in kwargs.items() if k not in sig.parameters}
            if unknown:
                check_options(get(name), unknown)
            bound = sig.bind_partial(*args, **kwargs)
            given = {k: v for k, v in bound.arguments.items() if k != first}
            check_options(get(name), given)
            _check_input(name, bound.arguments.get(first))  # issue 12: typed, not AttributeError
            return fn(*args, **kwargs)

        return wrapper

    return deco


def _check_input(name: str, value: Any) -> None:
    """A design's first argument must be a data frame (for the second step of a two-step
    design, a matched sample); anything else (an array, a dict, ``None``) is a DesignError."""
    import pandas as pd

    if get(name).input == "matched":
        if not isinstance(getattr(value, "data", None), pd.DataFrame):
            raise DesignError(
                f"{name}: the first argument must be a matched sample, got "
                f"{type(value).__name__}. Fix: pass the result of pfseval.psm.match(...)"
            )
    elif not isinstance(value, pd.DataFrame):
        raise DesignError(
            f"{name}: the data must be a pandas DataFrame, got {type(value).__name__}. Fix: "
            "pass pd.DataFrame(...) with one row per person (or per year for a series)"
        )
