"""``results_public.json``: exactly what the published appendix shows, as data.

``results.json`` is the evaluator's complete record (exact counts, every diagnostic); it is not
for publication. ``results_public.json`` is built from the same :class:`Document` the HTML,
PDF, DOCX and XLSX writers render, after disclosure control: every table cell is the text the
appendix prints (a hidden count is ``<10`` or ``*``, a withheld value ``*``), so the file can
be published next to the appendix and holds nothing the appendix does not.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from pfseval.report.document import (
    Bullets,
    Document,
    FigureBlock,
    Paragraph,
    Preformatted,
    TableBlock,
)

__all__ = ["PUBLIC_SCHEMA_VERSION", "public_results", "write_public"]

#: Version of the ``results_public.json`` layout (docs/results_schema.md).
PUBLIC_SCHEMA_VERSION = "1.0"


def _block(b: Any) -> dict[str, Any]:
    if isinstance(b, TableBlock):
        return {
            "type": "table",
            "id": b.id,
            "title": b.title,
            "note": b.note,
            "columns": [str(c) for c in b.frame.columns],
            "rows": [[str(x) for x in row] for row in b.frame.to_numpy().tolist()],
        }
    if isinstance(b, FigureBlock):
        return {"type": "figure", "id": b.id, "title": b.title, "file": f"figures/{b.id}.svg"}
    if isinstance(b, Bullets):
        return {"type": "list", "items": list(b.items)}
    if isinstance(b, Preformatted):
        return {"type": "preformatted", "text": b.text}
    assert isinstance(b, Paragraph)
    return {"type": "paragraph", "text": b.text}


def public_results(doc: Document) -> dict[str, Any]:
    """The published content of an appendix as a JSON-ready dict.

    Examples
    --------
    >>> import pandas as pd
    >>> from pfseval.report.document import Section
    >>> tab = TableBlock("t", "Flow", pd.DataFrame({"step": ["input"], "remaining": ["<10"]}))
    >>> doc = Document("en", "Appendix", (), (Section("1. Flows", 2, (tab,)),))
    >>> public_results(doc)["sections"][0]["blocks"][0]["rows"]
    [['input', '<10']]
    """
    return {
        "schema_version": PUBLIC_SCHEMA_VERSION,
        "lang": doc.lang,
        "title": doc.title,
        "meta": [list(m) for m in doc.meta],
        "sections": [
            {"title": s.title, "level": s.level, "blocks": [_block(b) for b in s.blocks]}
            for s in doc.sections
        ],
    }


def write_public(doc: Document, path: str | Path) -> Path:
    """Write :func:`public_results` as ``results_public.json`` (UTF-8, 2-space indent)."""
    p = Path(path)
    text = json.dumps(public_results(doc), ensure_ascii=False, indent=2)
    p.write_text(text + "\n", encoding="utf-8")
    return p
