"""The result types every design returns: :class:`Estimate` and :class:`SampleFlow`.

One summary (:meth:`Estimate.summary_rows`) feeds ``__str__``, ``_repr_html_``,
``to_frame`` and ``to_dict``, so the four renderings never disagree.
"""

from __future__ import annotations

import hashlib
import html
import math
import platform
import warnings as _warnings
from collections.abc import Hashable, Iterable, Mapping
from dataclasses import dataclass, field, replace
from types import MappingProxyType
from typing import Any

import numpy as np
import pandas as pd

from pfseval.jsonable import to_jsonable
from pfseval.messages import Lang, Message, Notice, declare_messages, frozen_reduce

__all__ = [
    "Estimate",
    "FlowStep",
    "SampleFlow",
    "data_hash",
    "emit_warnings",
    "provenance",
    "to_jsonable",
]


def _freeze(m: Mapping[str, Any] | None) -> Mapping[str, Any]:
    return MappingProxyType(dict(m or {}))


def _fmt(x: float | None, digits: int = 4) -> str:
    if x is None or (isinstance(x, float) and not math.isfinite(x)):
        return "–"
    return f"{x:.{digits}g}" if abs(x) < 1e-3 or abs(x) >= 1e6 else f"{x:.{digits}f}"


# ---------------------------------------------------------------- sample flow

#: Flow groups have one name each across designs: ``treated`` (participants, the intervention
#: arm), ``control`` (comparison people) and ``all`` (one-group designs).
FLOW_GROUPS = ("treated", "control", "all")

declare_messages(
    {
        "flow.group.treated": {"ja": "介入群", "en": "Intervention group"},
        "flow.group.control": {"ja": "対照群", "en": "Control group"},
        "flow.group.all": {"ja": "対象者", "en": "All"},
        "flow.input": {"ja": "入力レコード", "en": "input records"},
        "flow.excluded": {"ja": "除外：{reason}", "en": "excluded: {reason}"},
        "flow.analysed": {"ja": "分析対象", "en": "analysed"},
        "flow.no_followup": {
            "ja": "追跡時の健診データなし",
            "en": "no follow-up health check",
        },
        "flow.missing_column_value": {
            "ja": "{column!v}が欠測",
            "en": "{column!v} missing",
        },
        "flow.missing_any": {
            "ja": "{columns!v}のいずれかが欠測",
            "en": "missing {columns!v}",
        },
    }
)


def group_label(group: str, lang: Lang = "en") -> str:
    """The display name of a flow group (``treated`` → 介入群 / Intervention group).

    Examples
    --------
    >>> group_label("control", "ja")
    '対照群'
    """
    code = f"flow.group.{group}"
    from pfseval.messages import catalogue

    return Message(code).text(lang) if code in catalogue() else group


@dataclass(frozen=True)
class FlowStep:
    """One exclusion step of a sample flow.

    Attributes
    ----------
    reason
        Why the records were excluded, as a :class:`~pfseval.messages.Message` (a catalogue code
        and its values, or a spec's own ja/en text); rendered in either language.
    n_excluded
        How many records were excluded at this step.
    group
        The group the step applies to (e.g. ``"intervention"``); ``"all"`` when ungrouped.
    ids
        The excluded record ids. Private: never published, kept for the evaluator's audit.
    """

    reason: Message
    n_excluded: int
    group: str = "all"
    ids: tuple[Hashable, ...] = ()

    def __post_init__(self) -> None:
        if not isinstance(self.reason, Message):
            raise TypeError(
                f"a flow step's reason must be a pfseval.messages.Message, got {self.reason!r}"
            )


@dataclass(frozen=True)
class SampleFlow:
    """Accounting of every input record: analysed, or excluded with a reason.

    A flow starts from ``n_input`` records per group; each :class:`FlowStep` removes some
    with a reason. The invariant ``n_input == n_analysed + sum(excluded)`` holds per group
    and is checked on construction.

    Examples
    --------
    >>> flow = SampleFlow.start({"treated": 105, "control": 900})
    >>> flow = flow.exclude(Message("flow.no_followup"), 12, group="treated")
    >>> flow.n_analysed("treated")
    93
    >>> int(flow.to_frame()["n_excluded"].sum())
    12
    """

    n_input: Mapping[str, int]
    steps: tuple[FlowStep, ...] = ()
    labels: Mapping[str, str] = field(default_factory=dict)

    def __post_init__(self) -> None:
        object.__setattr__(
            self, "n_input", _freeze({str(k): int(v) for k, v in self.n_input.items()})
        )
        object.__setattr__(self, "labels", _freeze(self.labels))
        for g, n in self.n_input.items():
            if n < 0:
                raise ValueError(f"sample flow group {g!r}: negative input count {n}")
        for s in self.steps:
            if s.group not in self.n_input:
                raise ValueError(
                    f"sample flow step {s.reason.code!r} names group {s.group!r}, "
                    f"which is not one of {sorted(self.n_input)}"
                )
        for g in self.n_input:
            if self.n_analysed(g) < 0:
                raise ValueError(f"sample flow group {g!r}: more records excluded than input")

    def __reduce__(self) -> tuple[Any, ...]:
        return frozen_reduce(self)

    # -- construction ----------------------------------------------------------
    @classmethod
    def start(
        cls, n_input: int | Mapping[str, int], *, labels: Mapping[str, str] | None = None
    ) -> SampleFlow:
        """Start a flow from a total (group ``"all"``) or per-group counts."""
        counts = {"all": int(n_input)} if isinstance(n_input, int | np.integer) else dict(n_input)
        return cls(n_input=counts, labels=dict(labels or {}))

    def exclude(
        self,
        reason: Message,
        n_or_ids: int | Iterable[Hashable],
        *,
        group: str = "all",
    ) -> SampleFlow:
        """Return a new flow with one more exclusion step (steps with 0 records are kept)."""
        if isinstance(n_or_ids, int | np.integer):
            step = FlowStep(reason=reason, n_excluded=int(n_or_ids), group=group)
        else:
            ids = tuple(n_or_ids)
            step = FlowStep(reason=reason, n_excluded=len(ids), group=group, ids=ids)
        return replace(self, steps=(*self.steps, step))

    def combine(self, other: SampleFlow) -> SampleFlow:
        """Concatenate the groups of two flows (group names must not clash)."""
        clash = set(self.n_input) & set(other.n_input)
        if clash:
            raise ValueError(f"cannot combine sample flows: groups {sorted(clash)} in both")
        return SampleFlow(
            n_input={**self.n_input, **other.n_input},
            steps=(*self.steps, *other.steps),
            labels={**self.labels, **other.labels},
        )

    # -- queries ---------------------------------------------------------------
    @property
    def groups(self) -> tuple[str, ...]:
        return tuple(self.n_input)

    def n_excluded(self, group: str | None = None) -> int:
        return sum(s.n_excluded for s in self.steps if group is None or s.group == group)

    def n_analysed(self, group: str | None = None) -> int:
        if group is None:
            return sum(self.n_analysed(g) for g in self.n_input)
        return self.n_input[group] - self.n_excluded(group)

    @property
    def total_input(self) -> int:
        return sum(self.n_input.values())

    def to_frame(self, lang: Lang = "en") -> pd.DataFrame:
        """Flow as a table: one row per step with the count remaining after it.

        Columns: ``group, step, description, n_excluded, n_remaining``. Step 0 is the input,
        the last row of each group is the analysed count. No ids are included.
        """
        rows: list[dict[str, Any]] = []
        for g, n0 in self.n_input.items():
            label = self.labels.get(g) or group_label(g, lang)
            rows.append(
                {
                    "group": label,
                    "step": 0,
                    "description": Message("flow.input").text(lang),
                    "n_excluded": 0,
                    "n_remaining": n0,
                }
            )
            remaining = n0
            k = 0
            for s in self.steps:
                if s.group != g:
                    continue
                k += 1
                remaining -= s.n_excluded
                rows.append(
                    {
                        "group": label,
                        "step": k,
                        "description": Message(
                            "flow.excluded", params={"reason": s.reason.text(lang)}
                        ).text(lang),
                        "n_excluded": s.n_excluded,
                        "n_remaining": remaining,
                    }
                )
            rows.append(
                {
                    "group": label,
                    "step": k + 1,
                    "description": Message("flow.analysed").text(lang),
                    "n_excluded": 0,
                    "n_remaining": remaining,
                }
            )
        return pd.DataFrame(
            rows, columns=["group", "step", "description", "n_excluded", "n_remaining"]
        )

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready dict without ids (safe to publish apart from small-cell rules)."""
        return {
            "n_input": dict(self.n_input),
            "labels": dict(self.labels),
            "steps": [
                {"group": s.group, "reason": s.reason.to_dict(), "n_excluded": s.n_excluded}
                for s in self.steps
            ],
            "n_analysed": {g: self.n_analysed(g) for g in self.n_input},
        }

    def __str__(self) -> str:
        return self.to_frame().to_string(index=False)


# ---------------------------------------------------------------- provenance


def _arrow_text_bytes(s: pd.Series) -> tuple[np.ndarray, memoryview] | None:
    """An Arrow-backed text column as the length of each cell (-1 when missing) and the
    cells' bytes end to end: its content, whatever its chunks; None for other columns."""
    from pfseval.checks import text_buffers

    found = text_buffers(s)
    if found is None:
        return None
    col, offsets, buf = found
    lengths = np.diff(offsets).astype(np.int64)
    if col.null_count:
        lengths[~np.asarray(col.is_valid().to_numpy(zero_copy_only=False), dtype=bool)] = -1
    data = (
        memoryview(buf)[int(offsets[0]) : int(offsets[-1])] if buf is not None else memoryview(b"")
    )
    return lengths, data


def data_hash(obj: pd.DataFrame | bytes | str) -> str:
    """SHA-256 of a data frame's content (values, columns, index) or of bytes / a file path.

    Examples
    --------
    >>> df = pd.DataFrame({"a": [1, 2]})
    >>> data_hash(df) == data_hash(df.copy())
    True
    """
    h = hashlib.sha256()
    if isinstance(obj, pd.DataFrame):
        h.update("|".join(map(str, obj.columns)).encode())
        text = {
            j: found
            for j in range(obj.shape[1])
            if (found := _arrow_text_bytes(obj.iloc[:, j])) is not None
        }
        rest = obj.iloc[:, [j for j in range(obj.shape[1]) if j not in text]] if text else obj
        h.update(pd.util.hash_pandas_object(rest, index=True).to_numpy().tobytes())
        for j, (lengths, data) in text.items():  # Arrow-backed text: its bytes, read once
            h.update(f"|text column {j}|".encode())
            h.update(lengths.tobytes())
            h.update(data)
    elif isinstance(obj, bytes):
        h.update(obj)
    else:
        with open(obj, "rb") as f:
            for chunk in iter(lambda: f.read(1 << 20), b""):
                h.update(chunk)
    return h.hexdigest()


def provenance(
    *, seed: int | None = None, data: pd.DataFrame | None = None, **extra: Any
) -> dict[str, Any]:
    """The reproducibility record every result carries: versions, seed, data hash.

    Examples
    --------
    >>> p = provenance(seed=1)
    >>> sorted(p)[:3]
    ['data_sha256', 'numpy', 'pandas']
    """
    import scipy
    import statsmodels

    from pfseval import __version__

    rec: dict[str, Any] = {
        "pfseval": __version__,
        "python": platform.python_version(),
        "numpy": np.__version__,
        "pandas": pd.__version__,
        "scipy": scipy.__version__,
        "statsmodels": statsmodels.__version__,
        "seed": seed,
        "data_sha256": data_hash(data) if data is not None else None,
    }
    rec.update(extra)
    return rec


# ---------------------------------------------------------------- Estimate


@dataclass(frozen=True)
class Estimate:
    """The result of every evaluation design: an indicator value with its confidence interval.

    Attributes
    ----------
    estimand
        What is estimated, e.g. ``"ATT"``, ``"suppression_rate"``, ``"mean_change"``,
        ``"risk_difference"``.
    value
        The point estimate.
    conf_low, conf_high
        The confidence interval at ``level``.
    level
        Confidence level of ``conf_low``/``conf_high`` (e.g. 0.95).
    method
        How the estimate and the interval were computed, as a
        :class:`~pfseval.messages.Message` (a catalogue code and its settings, rendered in ja or
        en). A plain string is accepted for hand-made estimates and kept as the text in both
        languages.
    n
        Number of units analysed.
    diagnostics
        Design-specific details: counts, balance tables, model summaries (read-only mapping).
        Every design declares its diagnostics (name, kind, ja/en labels, the counts a value
        derives from) in :mod:`pfseval.designs.contract`.
    notices
        What an evaluator needs to be warned about, as :class:`~pfseval.messages.Notice`
        records (code, category, counts of people, other values); ``warnings`` gives their
        English text.
    std_error
        Standard error, where the method has one.
    p_value
        p-value for the null of no effect, where the method has one.
    intervals
        Alternative intervals at the same level, e.g. ``{"wilson": (lo, hi), "bootstrap": ...}``.
    related
        Related estimates, e.g. the no-effect reference rate and the difference from it.
    draws
        Bootstrap (or simulation) draws of the estimate, when the method has them; used by the
        payment engine to give a payment distribution.
    sample_flow
        Accounting of every input record.
    provenance
        Versions, seed and data hash (see :func:`provenance`).
    label
        Display name of the indicator (e.g. ``"腎機能低下抑制率"``).
    private
        Per-person tables (e.g. predicted vs actual change per participant) for the
        evaluator's own use. Never rendered, never in :meth:`to_dict`, never published.

    Examples
    --------
    >>> est = Estimate(estimand="mean_change", value=-1.2, conf_low=-2.0, conf_high=-0.4,
    ...                level=0.95, method=Message.plain(ja="対応のある t 検定", en="paired t"),
    ...                n=40)
    >>> est.to_dict()["conf_high"]
    -0.4
    >>> str(est).splitlines()[0]
    'estimand  mean_change'
    """

    estimand: str
    value: float
    conf_low: float
    conf_high: float
    level: float = 0.95
    method: Message | str = ""
    n: int = 0
    diagnostics: Mapping[str, Any] = field(default_factory=dict)
    notices: tuple[Notice, ...] = ()
    std_error: float | None = None
    p_value: float | None = None
    intervals: Mapping[str, tuple[float, float]] = field(default_factory=dict)
    related: Mapping[str, Estimate] = field(default_factory=dict)
    draws: np.ndarray | None = field(default=None, repr=False, compare=False)
    sample_flow: SampleFlow | None = None
    provenance: Mapping[str, Any] = field(default_factory=dict)
    label: str = ""
    private: Mapping[str, pd.DataFrame] = field(default_factory=dict, repr=False, compare=False)

    def __post_init__(self) -> None:
        if not 0 < self.level < 1:
            raise ValueError(f"level must be in (0, 1), got {self.level!r}")
        if isinstance(self.method, str):
            object.__setattr__(self, "method", Message.plain(ja=self.method, en=self.method))
        notices = tuple(self.notices)
        bad = [n for n in notices if not isinstance(n, Notice)]
        if bad:
            raise TypeError(f"Estimate.notices takes pfseval.messages.Notice records, got {bad!r}")
        object.__setattr__(self, "notices", notices)
        for name in ("value", "conf_low", "conf_high"):
            object.__setattr__(self, name, float(getattr(self, name)))
        if self.std_error is not None:
            object.__setattr__(self, "std_error", float(self.std_error))
        if self.p_value is not None:
            object.__setattr__(self, "p_value", float(self.p_value))
        object.__setattr__(self, "n", int(self.n))
        object.__setattr__(self, "diagnostics", _freeze(self.diagnostics))
        object.__setattr__(
            self,
            "intervals",
            _freeze({k: (float(v[0]), float(v[1])) for k, v in dict(self.intervals).items()}),
        )
        object.__setattr__(self, "related", _freeze(self.related))
        object.__setattr__(self, "provenance", _freeze(self.provenance))
        object.__setattr__(self, "private", _freeze(self.private))
        if self.draws is not None:
            d = np.array(self.draws, dtype=float, copy=True)
            d.setflags(write=False)
            object.__setattr__(self, "draws", d)

    def __reduce__(self) -> tuple[Any, ...]:
        return frozen_reduce(self)

    @property
    def warnings(self) -> tuple[str, ...]:
        """The English text of every notice (for a quick read; reports render ``notices``)."""
        return tuple(n.text("en") for n in self.notices)

    @property
    def method_text(self) -> str:
        """The method in English (``self.method.text("ja")`` for Japanese)."""
        assert isinstance(self.method, Message)
        return self.method.text("en")

    # -- one summary, four renderings -------------------------------------------
    def summary_rows(self) -> list[tuple[str, str]]:
        """The (field, text) rows that ``__str__``, ``_repr_html_`` and reports render."""
        pct = f"{self.level:.0%}"
        rows: list[tuple[str, str]] = []
        if self.label:
            rows.append(("indicator", self.label))
        rows += [
            ("estimand", self.estimand),
            ("value", _fmt(self.value)),
            (f"{pct} CI", f"[{_fmt(self.conf_low)}, {_fmt(self.conf_high)}]"),
        ]
        if self.std_error is not None:
            rows.append(("std. error", _fmt(self.std_error)))
        if self.p_value is not None:
            rows.append(("p-value", _fmt(self.p_value)))
        for name, (lo, hi) in self.intervals.items():
            rows.append((f"{pct} CI ({name})", f"[{_fmt(lo)}, {_fmt(hi)}]"))
        for name, rel in self.related.items():
            rows.append((name, f"{_fmt(rel.value)} [{_fmt(rel.conf_low)}, {_fmt(rel.conf_high)}]"))
        rows += [("method", self.method_text), ("n", str(self.n))]
        if self.draws is not None:
            rows.append(("draws", str(len(self.draws))))
        for w in self.warnings:
            rows.append(("warning", w))
        return rows

    def __str__(self) -> str:
        rows = self.summary_rows()
        width = max(len(k) for k, _ in rows)
        return "\n".join(f"{k.ljust(width)}  {v}" for k, v in rows)

    def _repr_html_(self) -> str:
        body = "".join(
            f"<tr><th style='text-align:left'>{html.escape(k)}</th>"
            f"<td style='text-align:left'>{html.escape(v)}</td></tr>"
            for k, v in self.summary_rows()
        )
        return f"<table class='pfseval-estimate'>{body}</table>"

    def to_frame(self) -> pd.DataFrame:
        """One-row DataFrame of the headline numbers (plus related estimates as extra rows)."""
        rows = [self._row(self.estimand)]
        rows += [rel._row(name) for name, rel in self.related.items()]
        return pd.DataFrame(rows).set_index("name")

    def _row(self, name: str) -> dict[str, Any]:
        return {
            "name": name,
            "estimand": self.estimand,
            "value": self.value,
            "conf_low": self.conf_low,
            "conf_high": self.conf_high,
            "level": self.level,
            "std_error": self.std_error,
            "p_value": self.p_value,
            "n": self.n,
            "method": self.method_text,
        }

    def to_dict(self, *, include_draws: bool = False) -> dict[str, Any]:
        """JSON-ready dict of every field (draws only on request; never per-person data)."""
        d: dict[str, Any] = {
            "estimand": self.estimand,
            "label": self.label,
            "value": self.value,
            "conf_low": self.conf_low,
            "conf_high": self.conf_high,
            "level": self.level,
            "method": self.method.to_dict() if isinstance(self.method, Message) else self.method,
            "n": self.n,
            "std_error": self.std_error,
            "p_value": self.p_value,
            "intervals": {k: list(v) for k, v in self.intervals.items()},
            "related": {k: v.to_dict(include_draws=include_draws) for k, v in self.related.items()},
            "diagnostics": dict(self.diagnostics),
            "notices": [n.to_dict() for n in self.notices],
            "sample_flow": self.sample_flow.to_dict() if self.sample_flow else None,
            "provenance": dict(self.provenance),
            "n_draws": None if self.draws is None else len(self.draws),
        }
        if include_draws and self.draws is not None:
            d["draws"] = self.draws
        return to_jsonable(d)  # type: ignore[no-any-return]

    # -- helpers for estimators --------------------------------------------------
    def with_updates(self, **changes: Any) -> Estimate:
        """A copy with some fields changed (the estimate itself is immutable)."""
        return replace(self, **changes)

    def interval(self, name: str | None = None) -> tuple[float, float]:
        """The main interval, or a named alternative from ``intervals``."""
        if name is None:
            return (self.conf_low, self.conf_high)
        return self.intervals[name]


def emit_warnings(notices: Iterable[Notice], *, stacklevel: int = 3) -> None:
    """Issue recorded notices as Python warnings of their category (results also keep them)."""
    for n in notices:
        _warnings.warn(n.text("en"), n.category, stacklevel=stacklevel)
