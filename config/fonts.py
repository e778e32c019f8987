"""Fonts and line breaking for pictures drawn with Pillow: the demo mall's product cards (mall/demo_images.py) and the
invite posters (referrals/poster.py). Chinese text is set in Noto Sans CJK from Debian's fonts-noto-cjk (installed
by `make browsers`, next to Chromium); a caller whose font cannot be read gets None and falls back to Pillow's own
font, which has no Chinese glyphs."""

from __future__ import annotations

import re
from functools import lru_cache
from pathlib import Path

from PIL import ImageDraw, ImageFont

FONT_DIR = Path("/usr/share/fonts/opentype/noto")
BOLD_FONT = FONT_DIR / "NotoSansCJK-Bold.ttc"
REGULAR_FONT = FONT_DIR / "NotoSansCJK-Regular.ttc"

Font = ImageFont.FreeTypeFont | ImageFont.ImageFont


@lru_cache(maxsize=16)
def font_load(path: str, size: int) -> Font | None:
    """The font at `path` in `size`, or None when it cannot be read."""
    try:
        return ImageFont.truetype(path, size)
    except OSError:
        return None


# A line may break between words of Latin letters and digits and between two Chinese characters, never after an
# opening bracket or before closing punctuation (each sticks to its neighbour); a short bracketed part, like
# "（10 册）", stays whole when it fits on a line.
_OPEN, _CLOSE = "（《「“(【", "）》」”)】、，。：；！？"
_TOKENS = re.compile(rf"[{_OPEN}]*(?:[0-9A-Za-z][0-9A-Za-z:.,'’&%+/\-]*|[^\s{_OPEN}{_CLOSE}])[{_CLOSE}]*|\s+|.")
_BRACKETED = re.compile(r"[（(][^（）()]{1,16}[）)][、，。：；！？]*")


def _tokens(draw: ImageDraw.ImageDraw, text: str, font: Font, width: int) -> list[str]:
    tokens: list[str] = []
    at = 0
    for group in _BRACKETED.finditer(text):
        tokens += _TOKENS.findall(text[at : group.start()])
        fits = draw.textlength(group.group(), font=font) <= width
        tokens += [group.group()] if fits else _TOKENS.findall(group.group())
        at = group.end()
    return tokens + _TOKENS.findall(text[at:])


def text_lines(draw: ImageDraw.ImageDraw, text: str, font: Font, width: int) -> list[str]:
    """`text` broken into lines no wider than `width` (a single word wider than that keeps its own line)."""
    lines: list[str] = []
    current = ""
    for token in _tokens(draw, text, font, width):
        candidate = current + token
        if current and not token.isspace() and draw.textlength(candidate.strip(), font=font) > width:
            lines.append(current.strip())
            current = token
        else:
            current = candidate
    if current.strip():
        lines.append(current.strip())
    return lines
