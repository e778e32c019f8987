"""WCAG 2.2 AA on the wheel: a prize label is small text, so its ink must be at least 4.5:1 on its slice's colour
(axe-core does not measure text drawn in SVG, so the browser test cannot catch this)."""

from __future__ import annotations

import pytest

from lottery.geometry import BLANK_COLOUR, PALETTE, Slice, wheel_segments


def luminance(colour: str) -> float:
    digits = colour.lstrip("#")
    digits = "".join(d * 2 for d in digits) if len(digits) == 3 else digits  # "#fff" -> "ffffff"
    channels = [int(digits[i : i + 2], 16) / 255 for i in (0, 2, 4)]
    linear = [c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4 for c in channels]
    return 0.2126 * linear[0] + 0.7152 * linear[1] + 0.0722 * linear[2]


def contrast(a: str, b: str) -> float:
    high, low = sorted((luminance(a), luminance(b)), reverse=True)
    return (high + 0.05) / (low + 0.05)


def test_contrast_formula_matches_known_ratios() -> None:
    assert contrast("#fff", "#000000") == pytest.approx(21)
    assert contrast("#ffffff", "#e4393c") == pytest.approx(4.24, abs=0.01)  # the old brand red: fails AA


def test_every_wheel_label_is_readable_on_its_slice() -> None:
    slices = [Slice(prize_id=0, name="谢谢参与", blank=True)] + [
        Slice(prize_id=i, name=f"奖品{i}", blank=False) for i in range(1, 2 * len(PALETTE) + 1)
    ]
    segments = wheel_segments(slices)
    assert {s.fill for s in segments} == {BLANK_COLOUR, *PALETTE}  # every colour is checked
    low = [(s.fill, s.ink, round(contrast(s.fill, s.ink), 2)) for s in segments if contrast(s.fill, s.ink) < 4.5]
    assert not low, f"wheel labels below 4.5:1: {low}"
