"""Linking a baseline health-check year to a follow-up year, with a sample flow.

:func:`link_years` keeps **one row per baseline record**, in baseline order. Follow-up values
are joined by person id under the same names with the suffix ``_follow`` (``egfr`` →
``egfr_follow``) and are missing for people without a follow-up record. The
:class:`~pfseval.result.SampleFlow` accounts for every baseline record: linked, or lost with a
reason (no follow-up record; follow-up record without a required item). Ids are matched as
text (``1001``, ``1001.0`` and ``"1001"`` are the same person).
"""

from __future__ import annotations

import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from pfseval.checks import arrow_text, ids_in, require_columns
from pfseval.errors import DataProblem, DataValidationError
from pfseval.io.notices import NO_FOLLOWUP, followup_missing, warn
from pfseval.io.validation import FOLLOW_SUFFIX, DataQualityWarning, _as_text, _unique_ids
from pfseval.messages import Notice, declare_messages
from pfseval.result import SampleFlow

declare_messages(
    {
        "io.ids_differ_in_form": {
            "en": "{n_records} baseline ids in {column!v} match a follow-up id only when "
            "leading zeros, case or full-width digits are ignored (e.g. '00001' and '1'); they "
            "are not linked. Fix: write the ids the same way in both extracts.",
            "ja": "{column!v}の{n_records}件の基準年度IDは、先頭の0・大文字小文字・全角数字の違いを"
            "無視したときだけ追跡年度のIDと一致します（例：「00001」と「1」）。これらは結合していません。"
            "対処：両年度の抽出データでIDの書き方をそろえてください。",
        },
        "io.followup_only": {
            "en": "{n_records} of {n_followup} follow-up records ({column!v}) have no baseline "
            "record and are not part of the cohort. Fix: check that both extracts cover the "
            "same people and years.",
            "ja": "追跡年度の{n_followup}件のうち{n_records}件（{column!v}）は基準年度の"
            "レコードがなく、対象集団に含まれません。対処：両年度の抽出データが同じ人と年度を"
            "含むか確認してください。",
        },
    }
)

__all__ = ["FOLLOW_SUFFIX", "DuplicateIdError", "LinkedCohort", "link_years"]

NO_RECORD = NO_FOLLOWUP


class DuplicateIdError(DataValidationError):
    """A person id occurs more than once in the baseline or in the follow-up data."""


@dataclass(frozen=True)
class LinkedCohort:
    """A baseline year linked to a follow-up year.

    Attributes
    ----------
    data
        One row per baseline record (baseline order): the baseline columns, the follow-up
        columns with the suffix ``_follow`` (missing when lost) and, when both years have
        ``fiscal_year``, ``followup_years`` = follow-up minus baseline fiscal year.
    sample_flow
        Baseline records → excluded with reasons → linked (group ``"all"``).
    lost
        Private: the id and reason of every baseline record not linked (never publish).
    id_col
        The id column.
    n_followup_only
        Follow-up records whose id is not in the baseline (not part of the cohort).
    notices
        Data-quality notices, also issued as
        :class:`~pfseval.io.validation.DataQualityWarning`: the follow-up-only records, and
        ids that differ only in how they are written (``"00001"`` and ``"1"``, case,
        full-width digits), which are *not* linked.

    Examples
    --------
    >>> base = pd.DataFrame({"person_id": ["a", "b", "c"], "egfr": [70.0, 65.0, 80.0]})
    >>> follow = pd.DataFrame({"person_id": ["a", "c", "z"], "egfr": [68.0, None, 90.0]})
    >>> cohort = link_years(base, follow, require=("egfr",))
    >>> cohort.data["egfr_follow"].tolist()
    [68.0, nan, nan]
    >>> cohort.sample_flow.n_analysed(), cohort.n_followup_only
    (1, 1)
    >>> cohort.lost["reason"].tolist()
    ['no follow-up health-check record', 'follow-up record without egfr']
    """

    data: pd.DataFrame
    sample_flow: SampleFlow
    lost: pd.DataFrame
    id_col: str = "person_id"
    n_followup_only: int = 0
    notices: tuple[Notice, ...] = ()

    @property
    def linked(self) -> pd.DataFrame:
        """The rows of :attr:`data` that were linked (every exclusion step passed)."""
        lost_pos = self.lost.index.to_numpy()
        keep = np.ones(len(self.data), dtype=bool)
        keep[lost_pos] = False
        return self.data.iloc[np.flatnonzero(keep)]


def _id_problems(ids: pd.Series, frame: str, id_col: str) -> list[DataProblem]:
    """Missing and duplicated ids of one year's frame (column ``"<id_col> (<frame>)"``)."""
    column = f"{id_col} ({frame})"
    problems: list[DataProblem] = []
    missing = ids.isna().to_numpy()
    if not missing.any() and _unique_ids(ids):  # the usual case, without a hash of every id
        return problems
    if missing.any():
        problems.append(
            DataProblem(
                column=column,
                kind="missing",
                message=f"{int(missing.sum())} {frame} record(s) without a person id cannot be "
                "linked. Fix: supply the ids or remove the records (and account for them).",
                rows=tuple(int(i) for i in np.flatnonzero(missing)),
            )
        )
    dup = ids.duplicated(keep=False).to_numpy() & ~missing
    if dup.any():
        problems.append(
            DataProblem(
                column=column,
                kind="duplicate",
                message=f"{int(dup.sum())} {frame} records share "
                f"{ids[dup].nunique()} id(s). Fix: keep one record per person in each year.",
                rows=tuple(int(i) for i in np.flatnonzero(dup)),
                values=tuple(ids[dup].tolist()[:50]),
                expected="one record per person",
            )
        )
    return problems


def link_years(
    baseline: pd.DataFrame,
    followup: pd.DataFrame,
    *,
    id_col: str = "person_id",
    require: Sequence[str] = (),
) -> LinkedCohort:
    """Link a baseline year and a follow-up year by person id.

    Parameters
    ----------
    baseline
        One record per person at baseline (canonical column names).
    followup
        One record per person at follow-up.
    id_col
        The person-id column in both frames.
    require
        Follow-up items that must be present for a person to count as linked (e.g.
        ``("egfr",)``); people whose follow-up record lacks one are lost with the reason
        ``"follow-up record without <item>"`` (their values stay in :attr:`LinkedCohort.data`).

    Returns
    -------
    LinkedCohort
        ``data`` (one row per baseline record), ``sample_flow`` (counts add up to
        ``len(baseline)``) and the private ``lost`` table.

    Raises
    ------
    ColumnMissingError
        ``id_col`` (or a ``require`` item) is absent.
    DuplicateIdError
        An id occurs more than once in either year (rows are 0-based positions per frame).
    DataValidationError
        Records without an id, or a baseline column already ending in ``_follow``.

    Examples
    --------
    >>> base = pd.DataFrame({"person_id": ["a", "b"], "fiscal_year": [2016, 2016]})
    >>> follow = pd.DataFrame({"person_id": ["b"], "fiscal_year": [2019]})
    >>> link_years(base, follow).data["followup_years"].tolist()
    [nan, 3.0]
    """
    require_columns(baseline, [id_col], context="link_years (baseline)")
    require_columns(followup, [id_col], context="link_years (follow-up)")
    require_columns(followup, require, context="link_years(require=...)")
    key_b = _as_text(baseline[id_col]).reset_index(drop=True)
    key_f = _as_text(followup[id_col]).reset_index(drop=True)
    problems = [
        *_id_problems(key_b, "baseline", id_col),
        *_id_problems(key_f, "follow-up", id_col),
    ]
    clash = [c for c in baseline.columns if str(c).endswith(FOLLOW_SUFFIX)]
    if clash:
        problems.append(
            DataProblem(
                column=str(clash[0]),
                kind="duplicate_column",
                message=f"baseline columns {clash} already end in {FOLLOW_SUFFIX!r}. Fix: "
                "rename them before linking",
            )
        )
    if problems:
        err = (
            DuplicateIdError
            if any(p.kind == "duplicate" for p in problems)
            else DataValidationError
        )
        raise err(problems, source="link_years")

    base = baseline.reset_index(drop=True)
    fol = followup.reset_index(drop=True).drop(columns=[id_col])
    fol.columns = pd.Index([f"{c}{FOLLOW_SUFFIX}" for c in fol.columns], dtype=object)
    pos = _positions(key_f, key_b)
    has = pos >= 0
    # label -1 is absent from fol's RangeIndex, so unlinked people get missing values
    aligned = fol.reindex(np.where(has, pos, -1)).reset_index(drop=True)
    # column by column, without copying both years into 2-D blocks (peak memory)
    cols = {**{c: base[c] for c in base.columns}, **{c: aligned[c] for c in aligned.columns}}
    data = pd.DataFrame(cols, copy=False)
    if (
        "fiscal_year" in base.columns
        and "fiscal_year" in followup.columns
        and ("followup_years" not in base.columns)
    ):
        fy_b = pd.to_numeric(base["fiscal_year"], errors="coerce").to_numpy(
            dtype=float, na_value=np.nan
        )
        fy_f = pd.to_numeric(data[f"fiscal_year{FOLLOW_SUFFIX}"], errors="coerce").to_numpy(
            dtype=float, na_value=np.nan
        )
        data["followup_years"] = fy_f - fy_b

    flow = SampleFlow.start(len(base), labels={"all": "baseline records"})
    ids = base[id_col]
    lost_pos: list[np.ndarray] = [np.flatnonzero(~has)]
    reasons = [NO_RECORD]
    flow = flow.exclude(NO_RECORD, ids[~has].tolist())
    remaining = has.copy()
    for item in require:
        col = data[f"{item}{FOLLOW_SUFFIX}"]
        lacking = remaining & col.isna().to_numpy()
        reason = followup_missing(item)
        flow = flow.exclude(reason, ids[lacking].tolist())
        lost_pos.append(np.flatnonzero(lacking))
        reasons.append(reason)
        remaining &= ~lacking
    lost = pd.concat(
        [
            pd.DataFrame({id_col: ids.iloc[p].to_numpy(), "reason": r.text("en")}, index=p)
            for p, r in zip(lost_pos, reasons, strict=True)
        ]
    )
    n_followup_only = len(key_f) - int(has.sum())  # ids are unique in both years
    only_f = np.ones(len(key_f), dtype=bool)
    only_f[pos[has]] = False  # follow-up records of no baseline person (ids are unique)
    notices = _link_notices(key_b[~has], key_f[only_f], len(key_f), id_col)
    warn(notices)
    return LinkedCohort(
        data=data,
        sample_flow=flow,
        lost=lost,
        id_col=id_col,
        n_followup_only=n_followup_only,
        notices=notices,
    )


def _positions(keys: pd.Series, wanted: pd.Series) -> np.ndarray:
    """Position in ``keys`` of each of ``wanted`` (-1 if absent). Text ids are looked up by
    Arrow's hash table (no Python string per id: ten million ids in seconds, not a minute);
    other ids by pandas."""
    import pyarrow.compute as pc

    k, w = arrow_text(keys), arrow_text(wanted)
    if k is None or w is None:
        return np.asarray(
            pd.Index(keys.astype(object)).get_indexer(pd.Index(wanted.astype(object)))
        )
    got = pc.index_in(w, value_set=k.combine_chunks()).fill_null(-1)
    return np.asarray(got.to_numpy(zero_copy_only=False), dtype=np.int64)


def _id_form(ids: pd.Series) -> pd.Series:
    """Ids written one way: NFKC (full-width digits), case-folded, leading zeros dropped."""
    fast = _ascii_id_form(ids)
    if fast is not None:
        return fast
    t = ids.astype(object).map(lambda x: unicodedata.normalize("NFKC", str(x)).strip().casefold())
    return t.map(lambda x: x.lstrip("0") or "0" if x.isdigit() else x)


def _ascii_id_form(ids: pd.Series) -> pd.Series | None:
    """:func:`_id_form` by Arrow for ids that are all ASCII text (NFKC changes nothing there
    and case-folding is lower-casing), or None."""
    import pyarrow as pa
    import pyarrow.compute as pc

    arr = arrow_text(ids)
    if arr is None or arr.null_count or not pc.all(pc.string_is_ascii(arr)).as_py():
        return None
    t = pc.utf8_lower(pc.utf8_trim_whitespace(arr))
    nozero = pc.replace_substring_regex(t, pattern="^0+", replacement="")
    nozero = pc.if_else(pc.equal(nozero, ""), pa.scalar("0"), nozero)
    out = pc.if_else(pc.utf8_is_digit(t), nozero, t)
    return out.to_pandas().set_axis(ids.index)  # positions, not labels


def _link_notices(
    unlinked_b: pd.Series, only_f: pd.Series, n_f: int, id_col: str
) -> tuple[Notice, ...]:
    """Notices of a linkage: ids that differ only in form, and follow-up-only records."""
    notices = []
    same = ids_in(_id_form(unlinked_b.dropna()), _id_form(only_f.dropna()))
    if same.any():  # no example id: notices are published
        notices.append(
            Notice(
                "io.ids_differ_in_form",
                category=DataQualityWarning,
                counts={"n_records": int(same.sum())},
                params={"column": id_col},
            )
        )
    if len(only_f):
        notices.append(
            Notice(
                "io.followup_only",
                category=DataQualityWarning,
                counts={"n_records": len(only_f), "n_followup": n_f},
                params={"column": id_col},
            )
        )
    return tuple(notices)
