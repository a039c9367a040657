"""``MatchedSample``: the result of matching, checked on construction and immutable.

A matched sample is evidence: once made, nothing may change it. The dataclass is frozen, its
mappings are read-only views, and every table or series attribute is handed out as a
copy-on-write view (pandas copies the data the moment someone writes to it), so writing to
``m.weights`` or ``m.data`` changes the caller's copy and never the sample.
"""

from __future__ import annotations

import html
from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from pfseval.checks import ids_in
from pfseval.errors import MatchingError
from pfseval.messages import Notice
from pfseval.result import SampleFlow

if TYPE_CHECKING:
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure

__all__ = ["MatchedSample"]

SMD_THRESHOLD = 0.1

_TABLES = frozenset({"data", "distance", "pairs", "weights", "subclass", "unmatched", "balance"})


@dataclass(frozen=True)
class MatchedSample:
    """The result of :func:`~pfseval.designs.psm.match`: the matched sample, before any outcome.

    Attributes
    ----------
    data
        The analysed input rows (all original columns, index reset), one row per id.
    treatment, id_col, covariates
        The names used.
    distance
        Score per id on the matching scale (the propensity score, its linear predictor for
        ``link="linear.logit"``/``"linear.probit"``, or the user's score).
    pairs
        ``treated_id, control_id_1 … control_id_k`` in data order of the treated (``<NA>``
        where no control was found); for the ATC ``control_id, treated_id_1 …``.
    weights
        MatchIt's matching weights per id: 1 for a matched focal unit (treated for the ATT);
        for the other group ``Σ 1/k_t`` over the focal units ``t`` it is matched to (``k_t`` =
        matches of ``t``), rescaled to sum to the number of such units used; 0 for units not in
        the matched sample.
    subclass
        Matched-set number per id (``<NA>`` when unmatched). When controls can be reused only
        focal units carry a set number.
    unmatched
        Focal units without any match: ``treated_id`` (``control_id`` for the ATC), ``reason``.
    balance
        Balance table (:func:`pfseval.designs.psm.balance.balance_table`).
    sample_flow
        Every input row: analysed in the matched sample, or excluded with a reason.
    model
        The fitted propensity model (``None`` with a user-supplied distance).
    ratio, replace, caliper, caliper_width, link, order, exact, discard, seed
        The options used; ``caliper_width`` is the caliper on the distance scale.
    options
        The other options used (estimand, method, ties, reuse_max, antiexact, unit_id,
        caliper widths per covariate, variable-ratio bounds, distance).
    notices
        What an evaluator needs to be warned about, as :class:`~pfseval.messages.Notice`
        records (also issued as warnings when matching); ``warnings`` gives their English text.
    diagnostics
        Counts: treated/controls input, matched, discarded, unmatched by reason.
    provenance
        Versions, seed and the hash of the input frame (see :func:`pfseval.result.provenance`).

    Raises
    ------
    MatchingError
        On construction, when the parts do not fit together (lengths, unknown ids in
        ``pairs``, negative weights, a treatment that is not 0/1).
    """

    data: pd.DataFrame
    treatment: str
    id_col: str
    covariates: tuple[str, ...]
    distance: pd.Series
    pairs: pd.DataFrame
    weights: pd.Series
    subclass: pd.Series
    unmatched: pd.DataFrame
    balance: pd.DataFrame
    sample_flow: SampleFlow
    model: Any = None
    ratio: float = 1
    replace: bool = False
    caliper: float | Mapping[str, float] | None = None
    caliper_width: float | None = None
    link: str = "logit"
    order: str = "largest"
    exact: tuple[str, ...] = ()
    discard: str = "none"
    seed: int | None = None
    notices: tuple[Notice, ...] = ()
    diagnostics: Mapping[str, Any] = field(default_factory=dict)
    provenance: Mapping[str, Any] = field(default_factory=dict)
    options: Mapping[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        _check(self)
        for name in _TABLES:  # own shallow copies: later writes to the caller's objects
            object.__setattr__(self, name, object.__getattribute__(self, name).copy(deep=False))
        for name in ("diagnostics", "provenance", "options"):
            object.__setattr__(self, name, MappingProxyType(dict(getattr(self, name))))
        object.__setattr__(self, "covariates", tuple(self.covariates))
        object.__setattr__(self, "exact", tuple(self.exact))
        object.__setattr__(self, "notices", tuple(self.notices))

    def __getattribute__(self, name: str) -> Any:
        value = object.__getattribute__(self, name)
        if name in _TABLES:  # a copy-on-write view: writing to it never reaches the sample
            return value.copy(deep=False)
        return value

    @property
    def warnings(self) -> tuple[str, ...]:
        """The English text of every notice."""
        return tuple(n.text("en") for n in self.notices)

    @property
    def estimand(self) -> str:
        """``"ATT"`` or ``"ATC"``."""
        return str(self.options.get("estimand", "ATT"))

    @property
    def n_matched_treated(self) -> int:
        """Treated units in the matched sample."""
        t = self.data[self.treatment].to_numpy() == 1
        return int(np.sum(self.weights.to_numpy()[t] > 0))

    @property
    def n_matched_control(self) -> int:
        """Distinct controls in the matched sample."""
        t = self.data[self.treatment].to_numpy() == 1
        return int(np.sum(self.weights.to_numpy()[~t] > 0))

    def matched_data(self) -> pd.DataFrame:
        """Matched rows with ``distance``, ``weights`` and ``subclass`` columns.

        Like MatchIt's ``match.data()``: units with a positive weight, in data order.

        Raises
        ------
        MatchingError
            If the data already have a column named ``distance``, ``weights`` or ``subclass``.
        """
        data = self.data
        clash = [c for c in ("distance", "weights", "subclass") if c in data.columns]
        if clash:
            raise MatchingError(
                f"the data already have column(s) {', '.join(clash)}; matched_data() adds "
                "columns with these names. Fix: rename those columns before matching."
            )
        w = self.weights.to_numpy()
        out = data.loc[w > 0].copy()
        out["distance"] = self.distance.to_numpy()[w > 0]
        out["weights"] = w[w > 0]
        out["subclass"] = self.subclass.array[w > 0]
        return out

    def summary_rows(self) -> list[tuple[str, str]]:
        """The short summary behind ``str()`` and the notebook view: (item, value) rows."""
        t = self.data[self.treatment].to_numpy() == 1
        w = self.weights.to_numpy()
        o = self.options
        cal = "none" if self.caliper_width is None else f"{self.caliper_width:.4g} (distance)"
        extra = dict(o.get("caliper_widths") or {})
        if extra:
            cal += "; " + ", ".join(f"{k} {v:.4g}" for k, v in extra.items())
        bal = self.balance
        rows = [
            (
                "method",
                f"{o.get('method', 'nearest')} {self.ratio:g}:1, "
                f"{'with' if self.replace else 'without'} replacement, {self.estimand}",
            ),
            ("distance", f"{o.get('distance', 'glm')} ({self.link})"),
            ("caliper", cal),
            ("treated matched", f"{int(np.sum(w[t] > 0))} of {int(t.sum())}"),
            ("controls matched", f"{int(np.sum(w[~t] > 0))} of {int((~t).sum())}"),
        ]
        if len(bal) and "smd_after" in bal:
            covs = bal.iloc[1:] if bal["variable"].iloc[0] == "distance" else bal
            smd = covs["smd_after"].abs()
            n_over = int((smd > SMD_THRESHOLD).sum())
            rows.append(
                (
                    "balance",
                    f"max |SMD| {smd.max():.3f} after matching ({covs['smd_before'].abs().max():.3f}"
                    f" before); {n_over} of {len(covs)} over {SMD_THRESHOLD}",
                )
            )
        if self.warnings:
            rows.append(("warnings", str(len(self.warnings))))
        return rows

    def __str__(self) -> str:
        rows = self.summary_rows()
        width = max(len(k) for k, _ in rows)
        return "\n".join(["MatchedSample", *(f"  {k:<{width}}  {v}" for k, v in rows)])

    def __repr__(self) -> str:
        return str(self)

    def _repr_html_(self) -> str:
        body = "".join(
            f"<tr><th style='text-align:left'>{html.escape(k)}</th>"
            f"<td style='text-align:left'>{html.escape(v)}</td></tr>"
            for k, v in self.summary_rows()
        )
        return f"<table><caption>MatchedSample</caption>{body}</table>"

    def balance_report(self, **options: Any) -> pd.DataFrame:
        """Balance with thresholds, extra variables, squares and interactions.

        See :func:`pfseval.designs.psm.balance.balance_report` for the options.
        """
        from pfseval.designs.psm.balance import balance_report

        return balance_report(self, **options)

    def love_plot(
        self,
        *,
        threshold: float = SMD_THRESHOLD,
        absolute: bool = True,
        ax: Axes | None = None,
    ) -> Figure:
        """Love plot of standardised mean differences before and after matching."""
        from pfseval.designs.psm.plots import love_plot

        return love_plot(self.balance, threshold=threshold, absolute=absolute, ax=ax)

    def overlap_plot(self, *, bins: int = 30, ax: Axes | None = None) -> Figure:
        """Distribution of the distance by group, before and after matching."""
        from pfseval.designs.psm.plots import overlap_plot

        return overlap_plot(self, bins=bins, ax=ax)


def _check(m: MatchedSample) -> None:
    """The parts of a matched sample must fit together."""
    get = object.__getattribute__
    data = get(m, "data")
    n = len(data)
    for col in (m.treatment, m.id_col):
        if col not in data.columns:
            raise MatchingError(f"MatchedSample: data have no column {col!r}. Fix: pass it.")
    for name in ("distance", "weights", "subclass"):
        if len(get(m, name)) != n:
            raise MatchingError(
                f"MatchedSample: {name} has {len(get(m, name))} values for {n} rows. Fix: give "
                "one value per row of data."
            )
    tr = pd.to_numeric(data[m.treatment], errors="coerce").to_numpy(dtype=float, na_value=np.nan)
    if not bool(np.all((tr == 0) | (tr == 1))):
        raise MatchingError(f"MatchedSample: column {m.treatment!r} must be 0/1. Fix: recode it.")
    w = np.asarray(get(m, "weights"), dtype=float)
    if np.any(~np.isfinite(w)) or np.any(w < 0):
        raise MatchingError("MatchedSample: weights must be finite and >= 0. Fix: check them.")
    pairs = get(m, "pairs")
    if len(pairs.columns):
        vals = pd.Series(pd.unique(pairs.to_numpy().ravel())).dropna()
        ids = data[m.id_col]
        listed = vals.tolist()
        if ids.dtype.kind in "iu" and all(isinstance(v, int | np.integer) for v in listed):
            # integer ids: NumPy's table or sort lookup, no hash table of the whole pool
            hit = np.isin(np.asarray(listed, dtype=np.int64), ids.to_numpy())
            unknown = vals[~hit].tolist()
        else:
            unknown = vals[~ids_in(vals, ids)].tolist()  # hashed in C: O(n)
        if unknown:
            raise MatchingError(
                f"MatchedSample: pairs name ids not in data ({', '.join(map(str, unknown[:5]))})."
                " Fix: build pairs from the ids in data."
            )
