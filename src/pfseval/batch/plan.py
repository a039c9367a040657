"""The pre-specified analysis plan: a primary analysis and its sensitivity specifications.

A spec's ``[plan]`` table lists sensitivity specifications as overrides of the spec's own
keys (other calipers, ratios, covariate sets, change definitions, denominators, baseline
methods)::

    [[plan.sensitivity]]
    id = "caliper_0.1"
    label = { ja = "キャリパー0.1", en = "caliper 0.1" }
    set = { "indicators[2].match.caliper" = 0.1 }

Each key of ``set`` is a spec key path as error messages name them (``indicators[i]`` or
``indicators[<id>]`` for an indicator). :func:`run_plan` runs the primary spec and every
specification (each one a full, validated spec) and returns the robustness data: every
indicator's value and interval and the payment under each, the primary marked, and the range
of payments across the plan. Specifications added after the design lock (or marked
``post_hoc = true``) are flagged as post hoc.

Examples
--------
>>> raw = {"indicators": [{"id": "a", "match": {"caliper": 0.2}}]}
>>> apply_overrides(raw, {"indicators[a].match.caliper": 0.1})["indicators"][0]["match"]
{'caliper': 0.1}
>>> raw["indicators"][0]["match"]  # the original is not changed
{'caliper': 0.2}
"""

from __future__ import annotations

import copy
import re
import tempfile
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd

from pfseval.errors import SpecError

__all__ = [
    "PlanResult",
    "Specification",
    "apply_overrides",
    "payment_range",
    "read_plan",
    "robustness_frame",
    "run_plan",
]

_PLAN_KEYS = {"sensitivity"}
_ENTRY_KEYS = {"id", "label", "set", "post_hoc", "description"}
_SEGMENT = re.compile(r"^([A-Za-z_][\w-]*)(?:\[([^\]]+)\])?$")


@dataclass(frozen=True)
class Specification:
    """One sensitivity specification: an id, a label and the spec keys it overrides."""

    id: str
    label: Mapping[str, str]
    overrides: Mapping[str, Any]
    post_hoc: bool = False

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form."""
        return {
            "id": self.id,
            "label": dict(self.label),
            "set": dict(self.overrides),
            "post_hoc": self.post_hoc,
        }


def _fail(file: Path, key: str, msg: str) -> SpecError:
    return SpecError(key, msg, file=str(file))


def read_plan(path: str | Path) -> tuple[Specification, ...]:
    """The sensitivity specifications of a spec file's ``[plan]`` (none without one).

    Raises
    ------
    SpecError
        A malformed plan, naming the key path (``plan.sensitivity[i]...``).
    """
    file = Path(path)
    raw = tomllib.loads(file.read_text(encoding="utf-8"))
    plan = raw.get("plan")
    if plan is None:
        return ()
    if not isinstance(plan, dict) or set(plan) - _PLAN_KEYS:
        raise _fail(file, "plan", "must be a table with `sensitivity` only. Fix: see docs")
    entries = plan.get("sensitivity", [])
    if not isinstance(entries, list):
        raise _fail(file, "plan.sensitivity", "must be an array of tables ([[plan.sensitivity]])")
    out: list[Specification] = []
    for i, e in enumerate(entries):
        key = f"plan.sensitivity[{i}]"
        if not isinstance(e, dict) or set(e) - _ENTRY_KEYS:
            raise _fail(file, key, f"allowed keys are {sorted(_ENTRY_KEYS)}. Fix: remove others")
        sid = e.get("id")
        if not isinstance(sid, str) or not sid or sid == "primary":
            raise _fail(file, f"{key}.id", "must be a non-empty id other than 'primary'")
        if any(s.id == sid for s in out):
            raise _fail(file, f"{key}.id", f"{sid!r} is used twice. Fix: give each its own id")
        sets = e.get("set")
        if not isinstance(sets, dict) or not sets:
            raise _fail(file, f"{key}.set", "must be a non-empty table of spec key = value")
        try:
            apply_overrides(raw, sets)
        except KeyError as exc:
            raise _fail(
                file, f"{key}.set", f"{exc.args[0]}. Fix: use a key path of the spec"
            ) from exc
        label = e.get("label", sid)
        if isinstance(label, str):
            label = {"ja": label, "en": label}
        out.append(Specification(sid, dict(label), dict(sets), bool(e.get("post_hoc", False))))
    return tuple(out)


def _step(node: Any, seg: str, path: str, *, create: bool) -> tuple[Any, Any]:
    """The container and key of one path segment (``name`` or ``name[index or id]``)."""
    m = _SEGMENT.match(seg)
    if m is None or not isinstance(node, dict):
        raise KeyError(f"{path}: cannot follow {seg!r}")
    name, index = m.groups()
    if index is None:
        if name not in node and not create:
            raise KeyError(f"{path}: no key {name!r}")
        return node, name
    items = node.get(name)
    if not isinstance(items, list):
        raise KeyError(f"{path}: {name!r} is not an array")
    if index.isdigit() and int(index) < len(items):
        return items, int(index)
    for j, it in enumerate(items):
        if isinstance(it, dict) and it.get("id") == index:
            return items, j
    raise KeyError(f"{path}: no {name}[{index}]")


def apply_overrides(raw: Mapping[str, Any], overrides: Mapping[str, Any]) -> dict[str, Any]:
    """A deep copy of a spec's TOML tables with ``overrides`` (key path → value) applied.

    Only the last segment may be new (a new option); every other one must exist.
    """
    out = copy.deepcopy(dict(raw))
    for path, value in overrides.items():
        segs = path.split(".")
        node: Any = out
        for seg in segs[:-1]:
            cont, k = _step(node, seg, path, create=False)
            node = cont[k]
        cont, k = _step(node, segs[-1], path, create=True)
        cont[k] = copy.deepcopy(value)
    return out


@dataclass(frozen=True)
class PlanResult:
    """The runs of a plan: ``"primary"`` and each specification id → its EvaluationRun."""

    specifications: tuple[Specification, ...]
    runs: Mapping[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        """What results.json records: the plan, the robustness rows and the payment range."""
        return {
            "specifications": [s.to_dict() for s in self.specifications],
            "table": robustness_frame(self).to_dict(orient="records"),
            "payment_range": payment_range(self),
        }


def _variant_file(spec_path: Path, spec: Specification, folder: Path) -> Path:
    """The spec with ``spec``'s overrides, written in ``folder`` (contract path absolute)."""
    import tomli_w

    raw = tomllib.loads(spec_path.read_text(encoding="utf-8"))
    raw.pop("plan", None)
    new = apply_overrides(raw, spec.overrides)
    c = new.get("contract")
    if isinstance(c, dict) and isinstance(c.get("path"), str):
        c["path"] = str((spec_path.resolve().parent / c["path"]).resolve())
    out = folder / f"{spec.id}.toml"
    out.write_text(tomli_w.dumps(new), encoding="utf-8")
    return out


def run_plan(
    spec_path: str | Path,
    *,
    primary: Any = None,
    locked: set[str] | None = None,
    seed: int | None = None,
    lang: str | None = None,
    data_dir: str | Path | None = None,
    n_jobs: int = 1,
) -> PlanResult:
    """Run the primary spec and every sensitivity specification of its plan.

    Parameters
    ----------
    spec_path
        The spec file with a ``[plan]``.
    primary
        The primary run when already computed (it is not run again).
    locked
        Ids of the specifications the design lock recorded; others are post hoc
        (``None``: no lock, only ``post_hoc = true`` marks them).
    seed, lang, data_dir, n_jobs
        As for :func:`pfseval.batch.load_spec` and :func:`pfseval.batch.run_spec`; data
        paths stay relative to the spec's folder.
    """
    import dataclasses

    from pfseval.batch import load_spec, run_spec

    path = Path(spec_path)
    specs = read_plan(path)
    if locked is not None:
        specs = tuple(
            dataclasses.replace(s, post_hoc=s.post_hoc or s.id not in locked) for s in specs
        )
    base = Path(data_dir) if data_dir is not None else path.resolve().parent
    runs: dict[str, Any] = {}
    if primary is None:
        primary = run_spec(load_spec(path, seed=seed, lang=lang, data_dir=data_dir), n_jobs=n_jobs)
    runs["primary"] = primary
    with tempfile.TemporaryDirectory(prefix="pfseval-plan-") as tmp:
        for s in specs:
            f = _variant_file(path, s, Path(tmp))
            runs[s.id] = run_spec(load_spec(f, seed=seed, lang=lang, data_dir=base), n_jobs=n_jobs)
    return PlanResult(specifications=specs, runs=runs)


def robustness_frame(plan: PlanResult) -> pd.DataFrame:
    """One row per specification and indicator: value, interval, payment; primary marked.

    Columns: ``specification``, ``label_ja``, ``label_en``, ``primary``, ``post_hoc``,
    ``indicator``, ``value``, ``conf_low``, ``conf_high``, ``payment``.
    """
    labels = {s.id: s for s in plan.specifications}
    rows = []
    for sid, run in plan.runs.items():
        s = labels.get(sid)
        for iid, est in run.estimates.items():
            rows.append(
                {
                    "specification": sid,
                    "label_ja": s.label.get("ja", sid) if s else "主解析",
                    "label_en": s.label.get("en", sid) if s else "primary analysis",
                    "primary": sid == "primary",
                    "post_hoc": bool(s and s.post_hoc),
                    "indicator": iid,
                    "value": est.value,
                    "conf_low": est.conf_low,
                    "conf_high": est.conf_high,
                    "payment": None if run.payment is None else float(run.payment.total),
                }
            )
    return pd.DataFrame(rows)


def payment_range(plan: PlanResult) -> dict[str, Any] | None:
    """The lowest and highest payment across the plan (pre-specified and all), or ``None``."""
    pays = {sid: r.payment.total for sid, r in plan.runs.items() if r.payment is not None}
    if not pays:
        return None
    post = {s.id for s in plan.specifications if s.post_hoc}
    pre = {k: v for k, v in pays.items() if k not in post}
    return {
        "primary": float(pays["primary"]) if "primary" in pays else None,
        "min": float(min(pre.values())),
        "max": float(max(pre.values())),
        "min_all": float(min(pays.values())),
        "max_all": float(max(pays.values())),
        "unit": getattr(plan.runs["primary"].payment, "unit", ""),
    }
