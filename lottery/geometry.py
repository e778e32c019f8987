"""How the prize wheel is drawn: equal SVG slices, their colours and labels that fit. Pure functions of the prizes
in wheel order (no database, no request), used by the wheel page; static/js/wheel.js reads each slice's
`start`/`end` angles to stop the wheel on the prize the server drew."""

from __future__ import annotations

import math
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass

RADIUS = 96
LABEL_FROM, LABEL_TO = 24, 90  # labels run along the radius between these distances from the centre
MAX_FONT, MIN_FONT = 10.0, 6.5
PALETTE = ("#e4393c", "#ff9f1c", "#d4380d", "#f7c948", "#c2185b", "#ff7a45")
LIGHT = frozenset({"#ff9f1c", "#f7c948"})
BLANK_COLOUR = "#fff3e0"  # "thanks for playing"
DARK_INK, LIGHT_INK = "#7a2e00", "#fff"


@dataclass(frozen=True)
class Slice:
    """What the drawing needs of a prize: its id, its name in the reader's language, and whether it is the
    "thanks for playing" slot (drawn pale)."""

    prize_id: int
    name: str
    blank: bool = False


@dataclass(frozen=True)
class Segment:
    """One equal slice of the drawn wheel (angles in degrees, clockwise from 12 o'clock)."""

    prize_id: int
    name: str
    label: str
    start: float
    end: float
    path: str  # "" for a single prize: the whole disc
    fill: str
    ink: str
    font_size: float

    @property
    def centre(self) -> float:
        return (self.start + self.end) / 2

    @property
    def flipped(self) -> bool:
        """Labels on the left half read towards the centre, so none is upside down while the wheel rests."""
        return 180 < self.centre < 360

    @property
    def label_rotation(self) -> float:
        return self.centre + 90 if self.flipped else self.centre - 90

    @property
    def label_x(self) -> int:
        return -LABEL_FROM if self.flipped else LABEL_FROM

    @property
    def label_anchor(self) -> str:
        return "end" if self.flipped else "start"


def point(angle: float) -> str:
    """The SVG coordinates "x y" of the rim at `angle` (degrees clockwise from 12 o'clock; y points down)."""
    rad = math.radians(angle)
    return f"{RADIUS * math.sin(rad):.3f} {-RADIUS * math.cos(rad):.3f}"


def text_width(text: str) -> float:
    """Rough width in em: CJK and other wide characters are 1em, the rest about 0.56em."""
    return sum(1.0 if unicodedata.east_asian_width(c) in "WF" else 0.56 for c in text)


def fit_label(name: str) -> tuple[str, float]:
    """A label that fits along the radius: the largest font size from 10 down to 6.5, then shortened with "…"."""
    room = LABEL_TO - LABEL_FROM
    width = text_width(name)
    if width == 0:
        return name, MAX_FONT
    size = min(MAX_FONT, room / width)
    if size >= MIN_FONT:
        return name, round(size, 2)
    label = name
    while label and text_width(label + "…") * MIN_FONT > room:
        label = label[:-1]
    return label.rstrip() + "…", MIN_FONT


def slice_path(start: float, end: float) -> str:
    """The SVG path of the slice from `start` to `end` degrees (a pie wedge from the centre)."""
    large_arc = int(end - start > 180)
    return f"M0 0 L{point(start)} A{RADIUS} {RADIUS} 0 {large_arc} 1 {point(end)} Z"


def wheel_segments(slices: Sequence[Slice]) -> list[Segment]:
    """Equal slices in wheel order (the real chances are in the odds table). Neighbouring prizes get different
    colours, the last one included (it touches the first); "thanks for playing" is always pale."""
    n = len(slices)
    segments: list[Segment] = []
    colour = 0
    for i, item in enumerate(slices):
        start, end = 360 * i / n, 360 * (i + 1) / n
        if item.blank:
            fill = BLANK_COLOUR
        else:
            fill = PALETTE[colour % len(PALETTE)]
            if i == n - 1 and n > 2 and fill == segments[0].fill:
                fill = PALETTE[(colour + 1) % len(PALETTE)]
            colour += 1
        label, size = fit_label(item.name)
        ink = DARK_INK if fill == BLANK_COLOUR or fill in LIGHT else LIGHT_INK
        path = "" if n == 1 else slice_path(start, end)
        segments.append(Segment(item.prize_id, item.name, label, start, end, path, fill, ink, size))
    return segments
