"""Notices of the loaders and of linkage: data-quality warnings and flow reasons as messages.

A loader finds warnings as :class:`~pfseval.errors.DataProblem` records (with rows and values,
which describe individuals). What leaves the loader is a :class:`~pfseval.messages.Notice`
per problem: its code, the column, the file name and the number of records concerned (a count
of people, so disclosure control sees it); the rows and values stay in the validation report.

Examples
--------
>>> from pfseval.errors import DataProblem
>>> p = DataProblem(column="bmi", kind="inconsistent", message="...", rows=(2, 5),
...                 severity="warning")
>>> n = problem_notice(p, source="kenshin.csv")
>>> n.code, dict(n.counts)
('io.bmi_inconsistent', {'n_records': 2})
>>> n.text("ja")
'kenshin.csvの2件のレコードで、BMIが体重と身長から計算した値と1 kg/m²を超えて異なります。'
"""

from __future__ import annotations

import warnings as _warnings
from collections.abc import Iterable

from pfseval.errors import DataProblem
from pfseval.io.validation import _BMI_TOLERANCE, DataQualityWarning
from pfseval.messages import Message, Notice, declare_messages

__all__ = ["NO_FOLLOWUP", "followup_missing", "notice_of", "problem_notice", "warn"]

declare_messages(
    {
        "io.mapping_unused": {
            "en": "The mapping entry for {column!v} matches no column header of {source}; "
            "it is not used.",
            "ja": "列名の対応表にある{column!v}の項目は、{source}のどの見出しにも当たらない"
            "ため使われていません。",
        },
        "io.mapping_target_unknown": {
            "en": "A column of {source} is mapped to {column!r}, which is not a name of the "
            "vocabulary: it is kept as an extra column and not checked.",
            "ja": "{source}の列が語彙にない名前{column!r}に対応づけられています。この列は"
            "追加の列として残り、値の点検は行われません。",
        },
        "io.bmi_inconsistent": {
            "en": "{n_records} records of {source} have a BMI that differs from weight / "
            "height² by more than {tolerance} kg/m².",
            "ja": "{source}の{n_records}件のレコードで、BMIが体重と身長から計算した値と"
            "{tolerance} kg/m²を超えて異なります。",
        },
        "io.data_warning": {
            "en": "{n_records} records of {source} have values in {column!v} that need checking.",
            "ja": "{source}の{n_records}件のレコードで、{column!v}の値に確認が必要です。",
        },
        "io.no_followup": {
            "en": "no follow-up health-check record",
            "ja": "追跡年度の健診レコードなし",
        },
        "io.followup_missing": {
            "en": "follow-up record without {column!v}",
            "ja": "追跡時の健診に{column!v}の記録なし",
        },
    }
)


def problem_notice(problem: DataProblem, *, source: str) -> Notice:
    """The notice for a data-quality warning found while reading ``source`` (a file name)."""
    params = {"source": source, "column": problem.column}
    counts = {"n_records": len(problem.rows)}
    if problem.kind in ("mapping_unused", "mapping_target_unknown"):
        return Notice(f"io.{problem.kind}", params=params, category=DataQualityWarning)
    if problem.kind == "inconsistent" and problem.column == "bmi":
        return Notice(
            "io.bmi_inconsistent",
            params={"source": source, "tolerance": _BMI_TOLERANCE},
            counts=counts,
            category=DataQualityWarning,
        )
    return Notice("io.data_warning", params=params, counts=counts, category=DataQualityWarning)


#: Flow reason: a baseline record has no follow-up record.
NO_FOLLOWUP = Message("io.no_followup")


def followup_missing(column: str) -> Message:
    """Flow reason: the follow-up record lacks ``column``."""
    return Message("io.followup_missing", params={"column": column})


def warn(notices: Iterable[Notice], *, stacklevel: int = 3) -> None:
    """Issue notices as Python warnings that carry their record (see :func:`notice_of`).

    A loader returns a data frame, so its notices travel as warnings; a caller recording
    warnings (a batch run) gets the structured notice back instead of parsing the text.
    """
    for n in notices:
        w = n.category(n.text("en"))
        w.notice = n  # type: ignore[attr-defined]
        _warnings.warn(w, stacklevel=stacklevel)


def notice_of(w: _warnings.WarningMessage) -> Notice | None:
    """The notice a recorded warning carries (issued by :func:`warn`), or ``None``."""
    n = getattr(w.message, "notice", None)
    return n if isinstance(n, Notice) else None
