"""Product pictures for the demo mall, drawn with Pillow when `seed_demo` runs (nothing downloaded, nothing binary
in the repository): an 800x800 PNG card in its category's colour, a simple drawing for the category (books, a
ticket, a dumbbell, a bowl, headphones, a gift) and the product's name. Emoji do not render reliably, so the
category's emoji icon is not drawn. The name is set in Noto Sans CJK (Debian's fonts-noto-cjk, installed by
`make browsers`); without that font the card falls back to Pillow's own font and the English name (the default
font has no Chinese glyphs)."""

from __future__ import annotations

import io
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from PIL import Image, ImageDraw, ImageFont

from config.fonts import BOLD_FONT, REGULAR_FONT, Font, font_load, text_lines

SIZE = 800
TEXT_WIDTH = SIZE - 160  # inside the card's border, with a margin

Colour = tuple[int, int, int]
Drawing = Callable[[ImageDraw.ImageDraw, Colour, Colour], None]


@dataclass(frozen=True)
class Style:
    background: Colour  # the card
    ink: Colour  # the drawing and the name
    accent: Colour  # the drawing's second colour


def _books(draw: ImageDraw.ImageDraw, ink: Colour, accent: Colour) -> None:
    """Three books standing on a shelf, one leaning."""
    draw.rounded_rectangle((230, 150, 310, 430), radius=10, fill=ink)
    draw.rounded_rectangle((325, 190, 395, 430), radius=10, fill=accent)
    draw.polygon([(420, 200), (485, 180), (560, 420), (495, 440)], fill=ink)
    for y in (200, 390):
        draw.line((245, y, 295, y), fill=accent, width=6)
    draw.rounded_rectangle((190, 430, 610, 450), radius=6, fill=ink)


def _ticket(draw: ImageDraw.ImageDraw, ink: Colour, accent: Colour) -> None:
    """A cinema ticket with its perforation and a play button."""
    draw.rounded_rectangle((170, 170, 630, 430), radius=28, fill=ink)
    for x in (170, 630):
        draw.ellipse((x - 30, 270, x + 30, 330), fill=accent)
    for y in range(190, 420, 28):
        draw.line((500, y, 500, y + 14), fill=accent, width=5)
    draw.polygon([(300, 230), (300, 370), (410, 300)], fill=accent)


def _dumbbell(draw: ImageDraw.ImageDraw, ink: Colour, accent: Colour) -> None:
    """A dumbbell."""
    draw.rounded_rectangle((240, 285, 560, 315), radius=12, fill=accent)
    for left in (190, 540):
        draw.rounded_rectangle((left, 200, left + 70, 400), radius=18, fill=ink)
    for left in (160, 610):
        draw.rounded_rectangle((left, 240, left + 30, 360), radius=10, fill=ink)


def _bowl(draw: ImageDraw.ImageDraw, ink: Colour, accent: Colour) -> None:
    """A bowl of noodles with chopsticks and steam."""
    draw.line((380, 150, 560, 300), fill=accent, width=14)
    draw.line((420, 140, 590, 290), fill=accent, width=14)
    draw.pieslice((200, 160, 600, 480), start=0, end=180, fill=ink)
    draw.rounded_rectangle((190, 310, 610, 330), radius=8, fill=ink)
    for x in (300, 370, 440):
        draw.arc((x - 20, 180, x + 20, 240), start=90, end=270, fill=accent, width=7)
        draw.arc((x - 20, 230, x + 20, 290), start=270, end=90, fill=accent, width=7)


def _headphones(draw: ImageDraw.ImageDraw, ink: Colour, accent: Colour) -> None:
    """Over-ear headphones."""
    draw.arc((220, 150, 580, 510), start=180, end=360, fill=ink, width=30)
    for left in (195, 535):
        draw.rounded_rectangle((left, 300, left + 70, 440), radius=26, fill=ink)
        draw.rounded_rectangle((left + 18, 325, left + 52, 415), radius=14, fill=accent)


def _gift(draw: ImageDraw.ImageDraw, ink: Colour, accent: Colour) -> None:
    """A gift box with a ribbon and a bow."""
    draw.rectangle((230, 260, 570, 450), fill=ink)
    draw.rectangle((210, 220, 590, 270), fill=ink)
    draw.rectangle((380, 220, 420, 450), fill=accent)
    draw.ellipse((300, 150, 400, 225), outline=accent, width=14)
    draw.ellipse((400, 150, 500, 225), outline=accent, width=14)


def _dots(draw: ImageDraw.ImageDraw, ink: Colour, accent: Colour) -> None:
    """Any other category: three circles."""
    for n, x in enumerate((260, 400, 540)):
        draw.ellipse((x - 60, 240, x + 60, 360), fill=ink if n % 2 == 0 else accent)


# By the slug of a top-level category of the demo; a child category is drawn as its parent.
STYLES: dict[str, tuple[Style, Drawing]] = {
    "books": (Style((255, 243, 224), (191, 90, 30), (245, 166, 35)), _books),
    "movie-tickets": (Style((237, 231, 246), (94, 53, 177), (255, 193, 7)), _ticket),
    "fitness": (Style((224, 247, 236), (0, 121, 90), (102, 187, 106)), _dumbbell),
    "food": (Style((255, 235, 238), (198, 40, 40), (255, 138, 101)), _bowl),
    "gadgets": (Style((227, 242, 253), (21, 101, 192), (79, 195, 247)), _headphones),
    "perks": (Style((255, 248, 225), (183, 28, 28), (255, 179, 0)), _gift),
}
FALLBACK: tuple[Style, Drawing] = (Style((240, 240, 240), (69, 90, 100), (144, 164, 174)), _dots)


def _text_block(
    draw: ImageDraw.ImageDraw, text: str, *, font: Font, top: int, fill: Colour, max_lines: int, gap: int
) -> int:
    """Draw `text` centred from `top`, at most `max_lines` lines (the last one cut with an ellipsis); returns
    the y below it."""
    lines = text_lines(draw, text, font, TEXT_WIDTH)
    if len(lines) > max_lines:
        last = lines[max_lines - 1]
        while last and draw.textlength(last + "…", font=font) > TEXT_WIDTH:
            last = last[:-1]
        lines = [*lines[: max_lines - 1], last.rstrip() + "…"]
    y = top
    for line in lines:
        left, upper, right, lower = draw.textbbox((0, 0), line, font=font)
        draw.text(((SIZE - (right - left)) / 2 - left, y - upper), line, font=font, fill=fill)
        y += round(lower - upper) + gap
    return y


def _fitting_font(
    draw: ImageDraw.ImageDraw, text: str, *, path: str, sizes: tuple[int, ...], max_lines: int
) -> Font | None:
    """The largest of `sizes` that sets `text` in at most `max_lines` lines (else the smallest); None when the
    font cannot be read."""
    font = None
    for size in sizes:
        font = font_load(path, size)
        if font is None or len(text_lines(draw, text, font, TEXT_WIDTH)) <= max_lines:
            break
    return font


def product_card(
    *,
    name: str,
    name_en: str,
    category_slug: str,
    bold_font: Path | str = BOLD_FONT,
    regular_font: Path | str = REGULAR_FONT,
) -> bytes:
    """An 800x800 PNG for a product: its category's colour and drawing, the Chinese name large and the English
    name below it. When the CJK font cannot be read, Pillow's own font sets the English name alone."""
    style, drawing = STYLES.get(category_slug, FALLBACK)
    image = Image.new("RGB", (SIZE, SIZE), style.background)
    draw = ImageDraw.Draw(image)
    draw.rounded_rectangle((40, 40, SIZE - 40, SIZE - 40), radius=48, outline=style.accent, width=6)
    drawing(draw, style.ink, style.accent)
    title_font = _fitting_font(draw, name, path=str(bold_font), sizes=(64, 56, 48), max_lines=2)
    subtitle_font = _fitting_font(draw, name_en, path=str(regular_font), sizes=(34, 30, 26), max_lines=1)
    if title_font is not None and subtitle_font is not None:
        below = _text_block(draw, name, font=title_font, top=500, fill=style.ink, max_lines=2, gap=14)
        _text_block(draw, name_en, font=subtitle_font, top=below + 12, fill=style.ink, max_lines=1, gap=0)
    else:
        _text_block(draw, name_en, font=ImageFont.load_default(size=48), top=520, fill=style.ink, max_lines=3, gap=12)
    out = io.BytesIO()
    image.save(out, format="PNG", optimize=False)
    return out.getvalue()
