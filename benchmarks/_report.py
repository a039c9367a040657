"""The one way the scale benchmarks write their results table."""

from __future__ import annotations

from pathlib import Path


def write_report(out: Path, lines: list[str]) -> None:
    """Write the Markdown ``lines`` to ``out`` (folders made) and echo them."""
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text("\n".join(lines), encoding="utf-8")
    print("\n".join(lines))
