"""Rebate arithmetic: pure functions, Decimal yuan in, integer fen out (no database).

A schedule is a list of bands, each `lower` (inclusive, CNY) and `rate` (percent); a band ends where the next
begins, the last is open. The first band starts at 0.

- **marginal**: each band's rate applies to the part of the month's net sales inside that band;
- **whole**: the rate of the highest band the month's net sales reach applies to all of it.

Worked example, bands 0: 2 %, 50,000: 3.5 %, 200,000: 5 %, net sales 260,000.00 CNY:

    marginal: 50,000 × 2 % = 1,000.00 + 150,000 × 3.5 % = 5,250.00 + 60,000 × 5 % = 3,000.00  → 9,250.00 CNY
    whole:    260,000 × 5 %                                                                  → 13,000.00 CNY

At exactly 50,000.00 the second band has been reached (lower bounds are inclusive): marginal 1,000.00 (the second
band's part is 0), whole 1,750.00. Each band line is rounded to the fen half up; the rebate is the sum of its lines.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal

from partners.errors import ScheduleInvalid

MARGINAL = "marginal"
WHOLE = "whole"
CENT = Decimal("0.01")


@dataclass(frozen=True)
class Band:
    lower: Decimal
    rate: Decimal  # percent


@dataclass(frozen=True)
class BandLine:
    """One band's part of a rebate: `base` CNY of sales in [lower, upper) earned `rate` % = `amount_fen`."""

    lower: Decimal
    upper: Decimal | None
    rate: Decimal
    base: Decimal
    amount_fen: int

    def as_json(self) -> dict[str, str | int | None]:
        return {
            "lower": str(self.lower),
            "upper": None if self.upper is None else str(self.upper),
            "rate": str(self.rate),
            "base": str(self.base),
            "amount_fen": self.amount_fen,
        }


def fen(yuan: Decimal) -> int:
    """CNY to whole fen, half up."""
    return int((yuan * 100).quantize(Decimal(1), rounding=ROUND_HALF_UP))


def yuan(amount_fen: int) -> Decimal:
    return (Decimal(amount_fen) / 100).quantize(CENT)


def percent_of_fen(base: Decimal, rate: Decimal) -> int:
    """`rate` % of `base` CNY in fen, half up: base × rate / 100 yuan = base × rate fen."""
    return int((base * rate).quantize(Decimal(1), rounding=ROUND_HALF_UP))


def share_fen(total_fen: int, part: Decimal, whole: Decimal) -> int:
    """`part`/`whole` of `total_fen`, half up (0 when `whole` is not positive)."""
    if whole <= 0:
        return 0
    return int((Decimal(total_fen) * part / whole).quantize(Decimal(1), rounding=ROUND_HALF_UP))


def bands_validate(bands: Sequence[Band]) -> list[Band]:
    """The bands sorted; refuses an empty schedule, one that does not start at 0, repeated lower bounds, negative
    bounds or rates outside 0–100."""
    ordered = sorted(bands, key=lambda band: band.lower)
    lowers = [band.lower for band in ordered]
    if (
        not ordered
        or ordered[0].lower != 0
        or len(set(lowers)) != len(lowers)
        or any(not Decimal(0) <= band.rate <= Decimal(100) for band in ordered)
    ):
        raise ScheduleInvalid()
    return ordered


def rebate_lines(*, net_sales: Decimal, bands: Sequence[Band], method: str) -> list[BandLine]:
    """The rebate of a month's net sales, band by band (no lines when net sales are not positive)."""
    ordered = bands_validate(bands)
    if net_sales <= 0:
        return []
    uppers: list[Decimal | None] = [band.lower for band in ordered[1:]] + [None]
    if method == WHOLE:
        index = max(i for i, band in enumerate(ordered) if band.lower <= net_sales)
        band = ordered[index]
        base = net_sales.quantize(CENT)
        return [BandLine(band.lower, uppers[index], band.rate, base, percent_of_fen(base, band.rate))]
    if method != MARGINAL:
        raise ScheduleInvalid(details={"method": method})
    lines = []
    for band, upper in zip(ordered, uppers, strict=True):
        if net_sales <= band.lower and band.lower > 0:
            break
        top = net_sales if upper is None else min(net_sales, upper)
        base = max(top - band.lower, Decimal(0)).quantize(CENT)
        lines.append(BandLine(band.lower, upper, band.rate, base, percent_of_fen(base, band.rate)))
    return lines


def rebate_total(lines: Sequence[BandLine]) -> int:
    return sum(line.amount_fen for line in lines)


@dataclass(frozen=True)
class BandProgress:
    """Where a month's net sales stand: the band reached and how much more reaches the next one."""

    current: Band
    next: Band | None
    to_next: Decimal | None


def band_progress(*, net_sales: Decimal, bands: Sequence[Band]) -> BandProgress:
    ordered = bands_validate(bands)
    index = max(i for i, band in enumerate(ordered) if band.lower <= max(net_sales, Decimal(0)))
    following = ordered[index + 1] if index + 1 < len(ordered) else None
    return BandProgress(
        ordered[index], following, None if following is None else (following.lower - max(net_sales, Decimal(0)))
    )
