"""Readers' names of what a spec names by identifier: columns, data sources, cohorts, files.

An appendix never shows an identifier (``lifestyle_diet``, ``pool``, ``kobe_participants.csv``)
where a reader expects a word: columns take the io vocabulary's label (収縮期血圧) or the
spec's ``[report] labels``; data sources, cohorts and merged files their ``label`` key. Where
a spec gives no label the identifier is the last resort, so nothing is ever lost.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from pfseval.messages import Lang
from pfseval.report.texts import variable_labels

__all__ = ["column_names", "in_lang", "merge_label", "source_label"]


def in_lang(label: Mapping[str, str] | None, lang: str, fallback: str) -> str:
    """A ``{"ja": …, "en": …}`` label in ``lang``, the other language, else ``fallback``.

    Examples
    --------
    >>> in_lang({"ja": "参加者", "en": "participants"}, "en", "p"), in_lang({}, "ja", "pool")
    ('participants', 'pool')
    """
    if not label:
        return fallback
    return label.get(lang) or next(iter(label.values()), fallback)


def column_names(spec: Any, lang: Lang) -> dict[str, str]:
    """Every column name a reader may meet → its label: the vocabulary's, then the spec's
    ``[report] labels`` (which win: the evaluator knows the programme's own columns).

    Examples
    --------
    >>> from types import SimpleNamespace as NS
    >>> spec = NS(report=NS(labels={"completed": {"ja": "修了", "en": "completed"}}))
    >>> names = column_names(spec, "ja")
    >>> names["completed"], names["sbp"]
    ('修了', '収縮期血圧')
    """
    own = getattr(getattr(spec, "report", None), "labels", None) or {}
    return variable_labels(lang, {col: in_lang(words, lang, col) for col, words in own.items()})


def source_label(spec: Any, name: str, lang: str) -> str:
    """The label of a data source or cohort (its name when the spec gives none)."""
    entry = spec.cohorts.get(name) if name in spec.cohorts else spec.data.get(name)
    return in_lang(getattr(entry, "label", None), lang, name)


def merge_label(spec: Any, source: str, group: str, lang: str, fallback: str) -> str:
    """The label of a merged file, by its flow group ``merge[i]`` (``fallback`` without)."""
    src = spec.data.get(source)
    if src is None or not (group.startswith("merge[") and group.endswith("]")):
        return fallback
    i = int(group[6:-1])
    if i >= len(src.merge):
        return fallback
    return in_lang(getattr(src.merge[i], "label", None), lang, fallback)
