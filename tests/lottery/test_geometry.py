"""lottery.geometry: the wheel drawing as pure functions (no database)."""

from __future__ import annotations

import itertools
import math
import re

import pytest

from lottery.geometry import (
    BLANK_COLOUR,
    DARK_INK,
    LABEL_FROM,
    LABEL_TO,
    LIGHT_INK,
    MIN_FONT,
    PALETTE,
    RADIUS,
    Slice,
    fit_label,
    label_lines,
    point,
    text_width,
    wheel_segments,
)


def _xy(text: str) -> tuple[float, float]:
    x, y = text.split()
    return float(x), float(y)


@pytest.mark.parametrize(("angle", "expected"), [(0, (0, -RADIUS)), (90, (RADIUS, 0)), (180, (0, RADIUS))])
def test_point_runs_clockwise_from_twelve_o_clock(angle: float, expected: tuple[float, float]) -> None:
    x, y = _xy(point(angle))
    assert math.isclose(x, expected[0], abs_tol=1e-3)
    assert math.isclose(y, expected[1], abs_tol=1e-3)


def test_slices_are_equal_cover_the_circle_and_keep_wheel_order() -> None:
    slices = [Slice(10 + i, f"P{i}") for i in range(5)]
    segments = wheel_segments(slices)
    assert [s.prize_id for s in segments] == [10, 11, 12, 13, 14]
    assert segments[0].start == 0
    assert segments[-1].end == 360
    for before, after in itertools.pairwise(segments):
        assert before.end == after.start
        assert math.isclose(after.end - after.start, 72)
    # Each path starts at the centre and runs along the rim from its start angle to its end angle.
    first = segments[0].path
    assert first.startswith("M0 0 L")
    assert first.endswith(" Z")
    assert re.search(r"L(\S+ \S+) A", first).group(1) == point(0)  # type: ignore[union-attr]
    assert f"0 0 1 {point(72)}" in first  # small arc, clockwise, ends at 72 degrees


def test_one_prize_is_the_whole_disc_and_two_halves_use_small_arcs() -> None:
    (only,) = wheel_segments([Slice(1, "Only")])
    assert (only.start, only.end, only.path) == (0, 360, "")
    halves = wheel_segments([Slice(1, "A"), Slice(2, "B")])
    assert all(" 0 0 1 " in s.path for s in halves)  # exactly 180 degrees: not a large arc


def test_neighbours_differ_in_colour_and_thanks_for_playing_is_pale() -> None:
    n = len(PALETTE) + 1  # the last slice would repeat the first colour
    segments = wheel_segments([Slice(i, f"P{i}") for i in range(n)])
    fills = [s.fill for s in segments]
    assert all(a != b for a, b in zip(fills, fills[1:] + fills[:1], strict=True))
    blank = wheel_segments([Slice(1, "谢谢参与", blank=True), Slice(2, "Phone")])
    assert blank[0].fill == BLANK_COLOUR
    assert blank[0].ink == DARK_INK
    assert blank[1].fill == PALETTE[0]
    assert blank[1].ink == LIGHT_INK


def test_labels_on_the_left_half_are_flipped_so_none_is_upside_down() -> None:
    right, left = wheel_segments([Slice(1, "A"), Slice(2, "B"), Slice(3, "C"), Slice(4, "D")])[1::2]
    assert (right.centre, right.flipped, right.label_anchor, right.label_x) == (135, False, "start", LABEL_FROM)
    assert (left.centre, left.flipped, left.label_anchor, left.label_x) == (315, True, "end", -LABEL_FROM)
    assert right.label_rotation == 45
    assert left.label_rotation == 405


def test_labels_fit_along_the_radius() -> None:
    room = LABEL_TO - LABEL_FROM
    assert text_width("华为") == 2
    assert math.isclose(text_width("ab"), 1.24)
    assert fit_label("华为手机") == ("华为手机", 10.0)
    name = "小米充电宝20000mAh 超大容量"
    label, size = fit_label(name)
    assert MIN_FONT <= size <= 10
    assert text_width(label) * size <= room + 1e-9
    long = "超" * 30
    label, size = fit_label(long)
    assert size == MIN_FONT
    assert label.endswith("…")
    assert len(label) < len(long)
    assert text_width(label) * MIN_FONT <= room
    assert fit_label("") == ("", 10.0)


def test_long_names_go_on_two_lines_then_lose_a_bracketed_note_then_get_cut_at_a_word() -> None:
    # Eight slices leave room for two lines: the break goes before the bracket, not inside it.
    assert label_lines("双倍积分卡（24 小时）", 8) == (("双倍积分卡", "（24 小时）"), 7.99, LABEL_FROM)
    assert label_lines("Membership upgrade voucher", 8)[0] == ("Membership", "upgrade voucher")
    # Twelve slices are narrow near the hub: two lines start further out, where the slice is wide enough.
    lines, size, start = label_lines("Huawei Mate phone", 12)
    assert (lines, start) == (("Huawei", "Mate phone"), LABEL_FROM + 6)
    assert size >= MIN_FONT
    assert text_width("Mate phone") * size <= LABEL_TO - start
    # Twenty slices leave no room for two lines anywhere: the bracketed note goes.
    assert label_lines("双倍积分卡（24 小时）", 20) == (("双倍积分卡",), 6.53, LABEL_FROM)
    # Nothing else helps: one line cut after a whole word, marked with "…".
    lines, size, start = label_lines("Xiaomi power bank 20000 mAh extra large capacity", 12)
    assert lines == ("Xiaomi power…",)
    assert size == MIN_FONT
    assert text_width(lines[0]) * size <= LABEL_TO - start
    # A short name stays whole on one line.
    assert label_lines("谢谢参与", 8) == (("谢谢参与",), 10.0, LABEL_FROM)


def test_segments_carry_their_label_lines() -> None:
    segments = wheel_segments([Slice(i, "双倍积分卡（24 小时）") for i in range(12)])
    assert segments[0].lines == ("双倍积分卡", "（24 小时）")
    assert segments[0].label == "双倍积分卡 （24 小时）"
    assert (segments[0].label_from, segments[0].label_x) == (LABEL_FROM + 6, LABEL_FROM + 6)
    assert segments[6].label_x == -(LABEL_FROM + 6)  # on the left half, flipped
