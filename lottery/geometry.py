"""How the prize wheel is drawn: equal SVG slices, their colours and labels that fit. Pure functions of the prizes
in wheel order (no database, no request), used by the wheel page; static/js/wheel.js reads each slice's
`start`/`end` angles to stop the wheel on the prize the server drew."""

from __future__ import annotations

import math
import re
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass

RADIUS = 96
LABEL_FROM, LABEL_TO = 24, 90  # labels run along the radius between these distances from the centre
LABEL_STARTS = (LABEL_FROM, LABEL_FROM + 6, LABEL_FROM + 12)  # where a two-line label may start
MAX_FONT, MIN_FONT = 10.0, 6.5
LINE_HEIGHT = 1.15  # of a two-line label, in em
_BRACKETED = re.compile(r"\s*[（(][^（()）]*[)）]\s*")
# Dark and light slices alternate; every label is at least 4.5:1 on its slice (WCAG AA; tests/lottery/
# test_wheel_contrast.py).
PALETTE = ("#c92a2e", "#ff9f1c", "#d4380d", "#f7c948", "#c2185b", "#ffb38a")
LIGHT = frozenset({"#ff9f1c", "#f7c948", "#ffb38a"})
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
    lines: tuple[str, ...] = ()  # the label in one or two lines (`label` is them joined)
    label_from: int = LABEL_FROM  # distance from the centre where the label starts

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
        return -self.label_from if self.flipped else self.label_from

    @property
    def label_anchor(self) -> str:
        return "end" if self.flipped else "start"


def point(angle: float) -> str:
    """The SVG coordinates "x y" of the rim at `angle` (degrees clockwise from 12 o'clock; y points down)."""
    rad = math.radians(angle)
    return f"{RADIUS * math.sin(rad):.3f} {-RADIUS * math.cos(rad):.3f}"


def text_width(text: str) -> float:
    """Rough width in em: CJK and other wide characters are 1em, the rest about 0.62em (the labels are bold, and a
    bold Latin face such as DejaVu Sans Bold averages about that; an underestimate would push text past the rim)."""
    return sum(1.0 if unicodedata.east_asian_width(c) in "WF" else 0.62 for c in text)


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
    # Do not end in the middle of a word when a whole word can go.
    if " " in label.strip() and name[len(label) : len(label) + 1].strip():
        label = label.rstrip().rsplit(" ", 1)[0]
    return label.rstrip() + "…", MIN_FONT


def _wide(char: str) -> bool:
    return unicodedata.east_asian_width(char) in "WF"


def _split(name: str, *, anywhere: bool) -> tuple[str, str] | None:
    """The two lines of `name` whose longer one is shortest. Natural breaks first: between words outside
    brackets and before an opening bracket; with `anywhere`, also between any two Chinese characters (Chinese
    has no spaces). None when there is no break."""
    cuts: list[int] = []
    depth = 0
    for i, char in enumerate(name):
        if char in "(（":
            if depth == 0 and i:
                cuts.append(i)
            depth += 1
        elif char in ")）":
            depth = max(0, depth - 1)
        elif i and ((char == " " and depth == 0) or (anywhere and _wide(name[i - 1]) and _wide(char))):
            cuts.append(i)
    pairs = [(name[:i].strip(), name[i:].strip()) for i in cuts]
    pairs = [pair for pair in pairs if pair[0] and pair[1]]
    if not pairs:
        return None
    return min(pairs, key=lambda pair: max(text_width(pair[0]), text_width(pair[1])))


def _fits(lines: tuple[str, ...], start: int, slices: int) -> float:
    """The largest font size (up to MAX_FONT) at which `lines`, starting `start` from the centre, fit along the
    radius and across the slice at their inner end (its narrowest place); 0 when that is below MIN_FONT."""
    room = LABEL_TO - start
    across = 2 * start * math.sin(math.pi / slices) if slices > 1 else 2 * start
    widest = max(text_width(line) for line in lines)
    size = min(MAX_FONT, room / widest if widest else MAX_FONT, across / (len(lines) * LINE_HEIGHT))
    return round(size, 2) if size >= MIN_FONT else 0.0


def label_lines(name: str, slices: int = 1) -> tuple[tuple[str, ...], float, int]:
    """The label of a slice, by one rule, so the browser never has to cut it: the whole name on one line, else on
    two lines (starting a little further out on narrow slices, where there is room for two), else the same
    without a bracketed note such as "（24 小时）", else one line shortened with "…" (at a word boundary when there
    is one). Returns the lines, the font size and the distance from the centre where the label starts."""
    short = _BRACKETED.sub(" ", name).strip()
    options: list[tuple[str, ...]] = [(name,)]
    for candidate, anywhere in ((name, False), (short, False), (short, True)):
        if candidate and candidate != name:
            options.append((candidate,))
        pair = _split(candidate, anywhere=anywhere) if candidate else None
        if pair:
            options.append(pair)
    for lines in options:
        for start in LABEL_STARTS if len(lines) > 1 else (LABEL_FROM,):
            size = _fits(lines, start, slices)
            if size:
                return lines, size, start
    label, size = fit_label(short or name)
    return (label,), size, LABEL_FROM


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
        lines, size, label_from = label_lines(item.name, n)
        ink = DARK_INK if fill == BLANK_COLOUR or fill in LIGHT else LIGHT_INK
        path = "" if n == 1 else slice_path(start, end)
        segments.append(
            Segment(item.prize_id, item.name, " ".join(lines), start, end, path, fill, ink, size, lines, label_from)
        )
    return segments
