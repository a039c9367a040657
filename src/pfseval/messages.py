"""Structured messages: notices, flow-step reasons and method descriptions as data.

Designs never build sentences. They hand out a :class:`Message` — a stable ``code`` plus the
values the sentence needs — and the sentence is rendered in Japanese or English from one message
catalogue (one template per code and language). A :class:`Notice` is a message that warns: it
also carries its warning ``category`` and, separately from other parameters, the ``counts`` of
people it mentions, which is what disclosure control sees. Redaction then replaces a count of
people and nothing else (a matching ratio or a year is a parameter, never a count).

Templates are :meth:`str.format` strings. Two conversions are special:

- ``{covariates!v}`` renders variable names through the ``labels`` given to
  :meth:`Message.text` (the report passes the vocabulary's or the spec's labels), so a Japanese
  reader sees 年齢, not ``age``;
- ``{range!p}`` marks a value that describes individuals (a minimum–maximum range, an id); it is
  shown to the evaluator but withheld from published text.

Lists are joined with the language's separator. A count of people renders as an integer with
thousands separators, or as the string disclosure control substitutes for it.

Examples
--------
>>> declare_messages({
...     "example.unmatched": {
...         "en": "{n_unmatched} treated units had fewer than {ratio} controls.",
...         "ja": "{n_unmatched}人の参加者は対照が{ratio}人未満でした。",
...     }
... }, replace=True)
>>> n = Notice("example.unmatched", category=UserWarning, counts={"n_unmatched": 47},
...            params={"ratio": 3})
>>> n.text("ja")
'47人の参加者は対照が3人未満でした。'
>>> n.text("en", counts={"n_unmatched": "<10"})
'<10 treated units had fewer than 3 controls.'
"""

from __future__ import annotations

import math
import string
import warnings as _warnings
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any, Literal

__all__ = [
    "LANGS",
    "Lang",
    "Message",
    "Notice",
    "catalogue",
    "declare_messages",
    "frozen_reduce",
    "issue_warnings",
    "template_fields",
]

Lang = Literal["ja", "en"]
LANGS: tuple[Lang, ...] = ("ja", "en")

#: The message catalogue: code → {lang: template}. Filled by :func:`declare_messages`, which each
#: module calls at import for the codes it uses.
_CATALOGUE: dict[str, Mapping[str, str]] = {}

#: Code of a message whose text is given directly (a spec's own filter reason, a user's method).
PLAIN = "plain"

_SEP = {"ja": "、", "en": ", "}
_WITHHELD = {"ja": "（非公開）", "en": "(withheld)"}


def declare_messages(templates: Mapping[str, Mapping[str, str]], *, replace: bool = False) -> None:
    """Add templates to the catalogue: ``{code: {"ja": ..., "en": ...}}``.

    Every code needs both languages, and both must use the same placeholders (a Japanese
    sentence cannot silently drop a count the English one shows). A code declared twice with a
    different text is a programming error unless ``replace=True``.

    Examples
    --------
    >>> declare_messages({"example.x": {"ja": "{n}人", "en": "{n} people"}}, replace=True)
    >>> catalogue()["example.x"]["en"]
    '{n} people'
    """
    for code, by_lang in templates.items():
        missing = [lang for lang in LANGS if not by_lang.get(lang)]
        if missing:
            raise ValueError(f"message {code!r}: no template for {missing}")
        fields = {lang: template_fields(by_lang[lang]) for lang in LANGS}
        if fields["ja"] != fields["en"]:
            raise ValueError(
                f"message {code!r}: the ja and en templates use different placeholders "
                f"({sorted(fields['ja'])} vs {sorted(fields['en'])})"
            )
        new: Mapping[str, str] = MappingProxyType({str(lang): by_lang[lang] for lang in LANGS})
        old = _CATALOGUE.get(code)
        if old is not None and dict(old) != dict(new) and not replace:
            raise ValueError(f"message {code!r} is already declared with another text")
        _CATALOGUE[code] = new


def catalogue() -> Mapping[str, Mapping[str, str]]:
    """A read-only view of every declared message template."""
    return MappingProxyType(_CATALOGUE)


def template_fields(template: str) -> frozenset[str]:
    """The placeholder names a template uses.

    Examples
    --------
    >>> sorted(template_fields("{a} and {b!v} at {c:.1%}"))
    ['a', 'b', 'c']
    """
    return frozenset(
        name.split(".")[0].split("[")[0]
        for _, name, _, _ in string.Formatter().parse(template)
        if name
    )


def _is_count_like(v: Any) -> bool:
    return isinstance(v, int) and not isinstance(v, bool)


class _Formatter(string.Formatter):
    """Renders lists, counts, variable labels and private values by language."""

    def __init__(self, lang: Lang, labels: Mapping[str, str], public: bool) -> None:
        self.lang = lang
        self.labels = labels
        self.public = public

    def convert_field(self, value: Any, conversion: str | None) -> Any:
        if conversion == "v":
            if isinstance(value, str):
                return self.labels.get(value, value)
            return [self.labels.get(str(v), str(v)) for v in value]
        if conversion == "p":
            return _WITHHELD[self.lang] if self.public else value
        return super().convert_field(value, conversion)

    def format_field(self, value: Any, format_spec: str) -> str:
        if isinstance(value, list | tuple):
            return _SEP[self.lang].join(self.format_field(v, format_spec) for v in value)
        if isinstance(value, str):
            return value if not format_spec else format(value, format_spec)
        if _is_count_like(value) and not format_spec:
            return f"{value:,}"
        if isinstance(value, float) and not format_spec:
            if math.isfinite(value) and value == int(value) and abs(value) < 1e15:
                return f"{int(value):,}"
            return f"{value:.4g}"
        return format(value, format_spec)


@dataclass(frozen=True)
class Message:
    """A sentence as data: a catalogue ``code`` and the values it needs.

    Attributes
    ----------
    code
        Stable identifier, ``"<area>.<what>"`` (e.g. ``"psm.unmatched_treated"``).
    params
        Values other than counts of people: ratios, thresholds, years, variable names.
    counts
        Named counts of people the sentence mentions (what disclosure control may replace).
    texts
        Only for ``code == "plain"``: the text itself per language (a spec's own filter reason).

    Examples
    --------
    >>> Message.plain(ja="72歳以上", en="aged over 71").text("ja")
    '72歳以上'
    """

    code: str
    params: Mapping[str, Any] = field(default_factory=dict)
    counts: Mapping[str, int] = field(default_factory=dict)
    texts: Mapping[str, str] = field(default_factory=dict)

    def __post_init__(self) -> None:
        object.__setattr__(self, "params", MappingProxyType(dict(self.params)))
        object.__setattr__(
            self, "counts", MappingProxyType({str(k): int(v) for k, v in self.counts.items()})
        )
        object.__setattr__(self, "texts", MappingProxyType(dict(self.texts)))
        if self.code == PLAIN:
            if not self.texts:
                raise ValueError("a plain message needs its text (texts={'ja': ..., 'en': ...})")
            return
        if self.code not in _CATALOGUE:
            raise ValueError(
                f"message code {self.code!r} is not in the catalogue. "
                "Fix: declare it with pfseval.messages.declare_messages."
            )
        needed = template_fields(_CATALOGUE[self.code]["en"])
        given = set(self.params) | set(self.counts)
        if needed - given:
            raise ValueError(f"message {self.code!r} needs values for {sorted(needed - given)}")
        both = set(self.params) & set(self.counts)
        if both:
            raise ValueError(f"message {self.code!r}: {sorted(both)} given as count and param")

    @classmethod
    def plain(cls, *, ja: str, en: str) -> Message:
        """A message whose text is given in both languages (no catalogue entry)."""
        return cls(PLAIN, texts={"ja": ja, "en": en})

    def template(self, lang: Lang = "en") -> str:
        """The catalogue template (or the plain text) in ``lang``."""
        if self.code == PLAIN:
            return self.texts.get(lang) or self.texts.get("en") or next(iter(self.texts.values()))
        return _CATALOGUE[self.code][lang]

    def text(
        self,
        lang: Lang = "en",
        *,
        labels: Mapping[str, str] | None = None,
        counts: Mapping[str, str] | None = None,
        public: bool = False,
    ) -> str:
        """Render the sentence.

        Parameters
        ----------
        lang
            ``"ja"`` or ``"en"``.
        labels
            Display labels for variable names (used by ``!v`` placeholders).
        counts
            Replacement text for some counts of people (disclosure control: ``{"n": "<10"}``).
        public
            Withhold values marked as describing individuals (``!p`` placeholders).
        """
        values: dict[str, Any] = {**self.params, **self.counts}
        if counts:
            values.update({k: v for k, v in counts.items() if k in self.counts})
        return _Formatter(lang, labels or {}, public).vformat(self.template(lang), (), values)

    def __str__(self) -> str:
        return self.text("en")

    def __reduce__(self) -> tuple[Any, ...]:
        # read-only mapping views do not pickle: rebuild from plain dicts
        return frozen_reduce(self)

    @classmethod
    def from_dict(cls, record: Mapping[str, Any]) -> Message:
        """Rebuild a message from its :meth:`to_dict` record (reports read ``results.json``)."""
        if record["code"] == PLAIN:
            return cls(PLAIN, texts=record["text"])
        return cls(
            record["code"], params=record.get("params") or {}, counts=record.get("counts") or {}
        )

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready record: code, counts, params and the text in both languages."""
        from pfseval.jsonable import to_jsonable

        return {
            "code": self.code,
            "counts": dict(self.counts),
            "params": to_jsonable(dict(self.params)),
            "text": {lang: self.text(lang) for lang in LANGS},
        }


@dataclass(frozen=True)
class Notice(Message):
    """A warning as data: a :class:`Message` with its warning ``category``.

    ``Estimate.notices`` holds these; the matching Python warning is issued too (see
    :func:`issue_warnings`), so Jupyter users see it and batch runs can filter it.
    """

    category: type[Warning] = UserWarning

    def to_dict(self) -> dict[str, Any]:
        return {**super().to_dict(), "category": self.category.__name__}

    @classmethod
    def from_dict(cls, record: Mapping[str, Any]) -> Notice:
        """Rebuild a notice from its :meth:`to_dict` record."""
        msg = Message.from_dict(record)
        category = _warning_class(str(record.get("category", "")))
        return cls(
            msg.code, params=msg.params, counts=msg.counts, texts=msg.texts, category=category
        )

    def __str__(self) -> str:
        return self.text("en")


def frozen_reduce(obj: Any) -> tuple[Any, ...]:
    """``__reduce__`` for frozen dataclasses that hold read-only mapping views.

    ``MappingProxyType`` does not pickle; the object is rebuilt from its fields as plain dicts
    (its ``__post_init__`` makes them read-only again), so results survive joblib and caches.
    """
    from dataclasses import fields

    kwargs = {
        f.name: dict(v) if isinstance(v := getattr(obj, f.name), MappingProxyType) else v
        for f in fields(obj)
        if f.init
    }
    return (_rebuild, (type(obj), kwargs))


def _rebuild(cls: type[Any], kwargs: dict[str, Any]) -> Any:
    return cls(**kwargs)


def _warning_class(name: str) -> type[Warning]:
    """The warning class of that name among pfseval's (any module), else ``UserWarning``."""
    from pfseval.errors import PfsevalWarning

    todo: list[type[Warning]] = [PfsevalWarning]
    while todo:
        cls = todo.pop()
        if cls.__name__ == name:
            return cls
        todo.extend(cls.__subclasses__())
    return UserWarning


def issue_warnings(notices: Iterable[Notice], *, stacklevel: int = 3) -> None:
    """Issue each notice as a Python warning of its category (English text)."""
    for n in notices:
        _warnings.warn(n.text("en"), n.category, stacklevel=stacklevel)
