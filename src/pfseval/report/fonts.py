"""The Japanese font of the appendix: IPAex Gothic from the ``matplotlib-fontja`` package.

The HTML appendix embeds a subset of the font (only the characters it uses) as a base64
``@font-face``, so Japanese renders on a machine without Japanese fonts; figures use the same
font through matplotlib. The font is located without importing ``matplotlib_fontja`` (whose
import changes matplotlib's global settings).
"""

from __future__ import annotations

import base64
import importlib.util
import io
from functools import cache
from pathlib import Path

__all__ = ["FONT_FAMILY", "font_face_css", "font_path", "register_font", "subset_font"]

#: The family name used in CSS and matplotlib.
FONT_FAMILY = "IPAexGothic"


@cache
def font_path() -> Path:
    """Path of ``ipaexg.ttf`` shipped by ``matplotlib-fontja`` (a pfseval dependency).

    Examples
    --------
    >>> font_path().name
    'ipaexg.ttf'
    """
    spec = importlib.util.find_spec("matplotlib_fontja")
    if spec is None or not spec.submodule_search_locations:
        raise FileNotFoundError(
            "matplotlib-fontja is not installed; it is a pfseval dependency "
            "(pip install matplotlib-fontja)"
        )
    p = Path(next(iter(spec.submodule_search_locations))) / "fonts" / "ipaexg.ttf"
    if not p.is_file():
        raise FileNotFoundError(f"IPAex font not found at {p}")
    return p


@cache
def register_font() -> str:
    """Add the IPAex font to matplotlib's font manager (once); return its family name."""
    from matplotlib import font_manager

    font_manager.fontManager.addfont(str(font_path()))
    return FONT_FAMILY


def subset_font(text: str) -> bytes:
    """A WOFF subset of the IPAex font with the glyphs of ``text`` (plus ASCII).

    Examples
    --------
    >>> data = subset_font("神戸市 評価")
    >>> data[:4] == b"wOFF" and len(data) < 200_000
    True
    """
    from fontTools import subset

    chars = set(text) | {chr(c) for c in range(32, 127)}
    opts = subset.Options()
    opts.flavor = "woff"
    opts.layout_features = ["*"]
    opts.name_IDs = ["*"]
    opts.notdef_outline = True
    font = subset.load_font(str(font_path()), opts)
    sub = subset.Subsetter(opts)
    sub.populate(unicodes=sorted(ord(c) for c in chars))
    sub.subset(font)
    buf = io.BytesIO()
    subset.save_font(font, buf, opts)
    return buf.getvalue()


def font_face_css(text: str) -> str:
    """An ``@font-face`` rule embedding the subset for ``text`` as a data URI."""
    b64 = base64.b64encode(subset_font(text)).decode("ascii")
    return (
        f"@font-face {{ font-family: '{FONT_FAMILY}'; "
        f"src: url(data:font/woff;base64,{b64}) format('woff'); "
        "font-weight: normal; font-style: normal; }"
    )
