"""Sentences of the appendix rendered from structured records, in Japanese or English.

Designs, loaders and the payment engine hand the report messages as data (``results.json``
records: ``code``, ``counts``, ``params``); the sentence comes from the message catalogue in
the report's language. Disclosure control works on those records, never on sentences: it
replaces a count of people (a record's ``counts``) that is small or hidden by complementary
suppression, and withholds values marked as describing individuals. Parameters — a matching
ratio, a threshold, a year — are never touched.

Examples
--------
>>> from pfseval.messages import Notice, declare_messages
>>> declare_messages({"example.partial": {
...     "en": "{n_partial} treated units received fewer than {ratio} controls",
...     "ja": "{n_partial}人の参加者は対照が{ratio}人に満たないままマッチングされました。"}},
...     replace=True)
>>> rec = Notice("example.partial", counts={"n_partial": 7}, params={"ratio": 3}).to_dict()
>>> render(rec, "en", min_cell=10)
'<10 treated units received fewer than 3 controls'
"""

from __future__ import annotations

from collections.abc import Collection, Mapping
from functools import cache
from typing import Any

from pfseval.designs.contract import DIAGNOSTICS
from pfseval.messages import Lang, Message
from pfseval.report.disclosure import SECONDARY

__all__ = ["diagnostic_label", "published_counts", "render", "variable_labels"]


_FOLLOW_WORD = {"ja": "{label}（追跡時）", "en": "{label} (follow-up)"}


@cache
def _vocabulary_labels(lang: str) -> dict[str, str]:
    """The vocabulary's labels, and those of the follow-up columns a linked source adds."""
    from pfseval.io import FOLLOW_SUFFIX, VOCABULARY

    base = {
        name: (spec.label_ja if lang == "ja" else spec.label_en)
        for name, spec in VOCABULARY.items()
    }
    follow = {
        f"{name}{FOLLOW_SUFFIX}": _FOLLOW_WORD[lang].format(label=label)
        for name, label in base.items()
    }
    return {**follow, **base}


def variable_labels(lang: Lang, extra: Mapping[str, str] | None = None) -> dict[str, str]:
    """Display names for ``{x!v}`` placeholders: the io vocabulary's labels (and the names of
    intervals, e.g. ``bootstrap_normal``, for a method naming its interval), then ``extra``
    (a spec's own).

    Examples
    --------
    >>> variable_labels("ja")["sbp"], variable_labels("ja")["egfr_follow"]
    ('収縮期血圧', 'eGFR（追跡時）')
    """
    from pfseval.report.i18n import INTERVALS

    intervals = {name: words[lang] for name, words in INTERVALS.items()}
    return {**intervals, **_vocabulary_labels(lang), **dict(extra or {})}


def published_counts(
    counts: Mapping[str, int], *, min_cell: int, hidden: Collection[int] = ()
) -> dict[str, str]:
    """Replacement text for the counts of people a record may not show.

    A count from 1 to ``min_cell - 1`` shows as ``<min_cell``; a count equal to one that the
    tables hide by complementary suppression shows as ``*`` (it would give the hidden cell
    back).

    Examples
    --------
    >>> published_counts({"n_unmatched": 4, "n_treated": 120, "n_x": 37}, min_cell=10,
    ...                  hidden={37})
    {'n_unmatched': '<10', 'n_x': '*'}
    """
    out: dict[str, str] = {}
    hide = set(hidden)
    for k, v in counts.items():
        if 0 < v < min_cell:
            out[k] = f"<{min_cell}"
        elif v in hide:
            out[k] = SECONDARY
    return out


def render(
    record: Mapping[str, Any] | Message | str,
    lang: Lang,
    *,
    min_cell: int,
    hidden: Collection[int] = (),
    labels: Mapping[str, str] | None = None,
) -> str:
    """A message record (``results.json``) as published text in ``lang``.

    A plain string (a hand-made estimate's method written before messages existed) is shown
    as it is.
    """
    if isinstance(record, str):
        return record
    msg = record if isinstance(record, Message) else Message.from_dict(record)
    return msg.text(
        lang,
        labels=variable_labels(lang, labels),
        counts=published_counts(msg.counts, min_cell=min_cell, hidden=hidden),
        public=True,
    )


def diagnostic_label(name: str, lang: Lang) -> str:
    """The declared label of a diagnostic (the design contract); an undeclared name as it is.

    Examples
    --------
    >>> from pfseval.designs.contract import declare_diagnostics, Diagnostic
    >>> _ = declare_diagnostics(Diagnostic("n_pairs", "count", {"ja": "ペア数", "en": "pairs"}))
    >>> diagnostic_label("n_pairs", "ja")
    'ペア数'
    """
    d = DIAGNOSTICS.get(name)
    return d.label[lang] if d is not None else name
