"""Rebate tables at every band edge, marginal and whole-amount, exact to the fen (partners/rebates.py)."""

from __future__ import annotations

from decimal import Decimal

import pytest

from partners.errors import ScheduleInvalid
from partners.rebates import Band, band_progress, bands_validate, fen, rebate_lines, rebate_total, share_fen

BANDS = [Band(Decimal(0), Decimal(2)), Band(Decimal(50000), Decimal("3.5")), Band(Decimal(200000), Decimal(5))]


@pytest.mark.parametrize(
    ("net", "marginal", "whole"),
    [
        ("0", 0, 0),
        ("-10.00", 0, 0),
        ("0.01", 0, 0),  # 0.02 fen
        ("0.25", 1, 1),  # 0.5 fen: half up
        ("12345.67", 24691, 24691),  # 24,691.34 fen
        ("49999.99", 100000, 100000),  # 99,999.98 fen
        ("50000.00", 100000, 175000),  # the lower bound is inclusive: whole jumps to 3.5 % of everything
        ("50000.01", 100000, 175000),  # 0.035 fen more marginal; whole 175,000.035
        ("50100.00", 100350, 175350),
        ("199999.99", 625000, 700000),  # marginal 100,000 + 524,999.965; whole 699,999.965
        ("200000.00", 625000, 1000000),
        ("200000.01", 625000, 1000000),
        ("260000.00", 925000, 1300000),  # the worked example in partners/rebates.py
    ],
)
def test_rebate_at_band_edges(net: str, marginal: int, whole: int) -> None:
    amount = Decimal(net)
    assert rebate_total(rebate_lines(net_sales=amount, bands=BANDS, method="marginal")) == marginal
    assert rebate_total(rebate_lines(net_sales=amount, bands=BANDS, method="whole")) == whole


def test_marginal_lines_show_each_band() -> None:
    lines = rebate_lines(net_sales=Decimal("260000.00"), bands=BANDS, method="marginal")
    assert [(str(line.lower), line.upper and str(line.upper), str(line.base), line.amount_fen) for line in lines] == [
        ("0", "50000", "50000.00", 100000),
        ("50000", "200000", "150000.00", 525000),
        ("200000", None, "60000.00", 300000),
    ]
    (whole,) = rebate_lines(net_sales=Decimal("260000.00"), bands=BANDS, method="whole")
    assert (str(whole.rate), str(whole.base), whole.amount_fen) == ("5", "260000.00", 1300000)


def test_bands_in_any_order_are_sorted() -> None:
    shuffled = [BANDS[2], BANDS[0], BANDS[1]]
    assert rebate_total(rebate_lines(net_sales=Decimal(260000), bands=shuffled, method="marginal")) == 925000


@pytest.mark.parametrize(
    "bands",
    [
        [],
        [Band(Decimal(10), Decimal(2))],  # does not start at 0
        [Band(Decimal(0), Decimal(2)), Band(Decimal(0), Decimal(3))],  # overlapping bounds
        [Band(Decimal(0), Decimal(101))],
        [Band(Decimal(0), Decimal(-1))],
    ],
)
def test_bad_schedules_are_refused(bands: list[Band]) -> None:
    with pytest.raises(ScheduleInvalid):
        bands_validate(bands)


def test_unknown_method_is_refused() -> None:
    with pytest.raises(ScheduleInvalid):
        rebate_lines(net_sales=Decimal(1), bands=BANDS, method="progressive")


@pytest.mark.parametrize(
    ("net", "current", "following", "to_next"),
    [
        ("0", "0", "50000", "50000"),
        ("49999.99", "0", "50000", "0.01"),
        ("50000.00", "50000", "200000", "150000.00"),
        ("250000.00", "200000", None, None),
    ],
)
def test_band_progress(net: str, current: str, following: str | None, to_next: str | None) -> None:
    progress = band_progress(net_sales=Decimal(net), bands=BANDS)
    assert str(progress.current.lower) == current
    assert (progress.next and str(progress.next.lower)) == following
    assert (None if progress.to_next is None else str(progress.to_next)) == to_next


def test_fen_and_shares_round_half_up_and_add_up() -> None:
    assert fen(Decimal("0.005")) == 1
    assert fen(Decimal("123.454")) == 12345
    total = 275000
    parts = [Decimal(15000), Decimal(25000), Decimal(60000)]
    taken, running = 0, Decimal(0)
    for part in parts:  # cumulative rounding: the shares add up to the whole exactly
        taken += share_fen(total, running + part, Decimal(100000)) - share_fen(total, running, Decimal(100000))
        running += part
    assert taken == total
    assert share_fen(total, Decimal(1), Decimal(0)) == 0
