"""Booking sales and returns: parsing and refusals, idempotency, returns within the open month, proportional
clawbacks after a statement and a payout (carried below zero, exact to the fen), recruiting rewards, and the same
under concurrency (partners/sales.py)."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest

from partners import kinds
from partners.errors import (
    CurrencyMismatch,
    OriginalSaleNotFound,
    ReturnExceedsSale,
    SaleConflict,
    SaleInvalid,
)
from partners.models import Programme, ReferralReward, Sale
from partners.sales import SaleLine, sale_book, sale_line_parse
from partners.statements import statement_issue, statement_pay
from points.models import Transfer
from points.selectors import partner_payable
from points.services import ledger_reconcile
from tests.conftest import run_concurrently
from tests.partners.programme import at, book, partner

pytestmark = pytest.mark.django_db

NOW = at(2026, 11, 20)


def test_a_sale_books_into_its_local_month_and_replays() -> None:
    dealer = partner()
    sale = book(dealer, "A-1", "1000.00", sold_at=at(2026, 11, 30, 23, 59))
    assert (sale.period, sale.rebate_period) == ("2026-11", "2026-11")
    again, created = sale_book(
        partner=dealer,
        line=SaleLine("A-1", at(2026, 11, 30, 23, 59), 1, Decimal("1000.00")),
        source=Sale.Source.API,
        now=NOW,
    )
    assert (again.pk, created) == (sale.pk, False)
    with pytest.raises(SaleConflict):
        sale_book(
            partner=dealer,
            line=SaleLine("A-1", at(2026, 11, 30, 23, 59), 1, Decimal("999.00")),
            source=Sale.Source.API,
            now=NOW,
        )
    assert Sale.objects.count() == 1
    first_of_december = book(dealer, "A-2", "1.00", sold_at=at(2026, 12, 1, 0, 0))
    assert first_of_december.period == "2026-12"


@pytest.mark.parametrize(
    ("raw", "error"),
    [
        ({"external_id": "X", "sold_at": "2026-11-01", "quantity": "0", "amount": "10"}, SaleInvalid),
        ({"external_id": "X", "sold_at": "2026-11-01", "quantity": "-1", "amount": "-10"}, SaleInvalid),
        ({"external_id": "X", "sold_at": "2026-11-01", "quantity": "1", "amount": "0"}, SaleInvalid),
        (
            {"external_id": "X", "sold_at": "2026-11-01", "quantity": "1", "amount": "10", "currency": "USD"},
            CurrencyMismatch,
        ),
        ({"external_id": "X", "sold_at": "2026-11-01", "quantity": "1", "amount": "10.001"}, SaleInvalid),
        ({"external_id": "X", "sold_at": "2026-11-01", "quantity": "1", "amount": 10.5}, SaleInvalid),
        ({"external_id": "X", "sold_at": "2026-11-01", "quantity": True, "amount": "10"}, SaleInvalid),
        ({"external_id": "X", "sold_at": "2026-11-01", "quantity": "1", "amount": "NaN"}, SaleInvalid),
        ({"external_id": "X", "sold_at": "2026-11-01", "quantity": "1", "amount": "1e12"}, SaleInvalid),
        ({"external_id": "X\x00", "sold_at": "2026-11-01", "quantity": "1", "amount": "10"}, SaleInvalid),
        ({"external_id": "", "sold_at": "2026-11-01", "quantity": "1", "amount": "10"}, SaleInvalid),
        ({"external_id": "X", "sold_at": "yesterday", "quantity": "1", "amount": "10"}, SaleInvalid),
        ({"external_id": "X", "sold_at": "2026-12-25", "quantity": "1", "amount": "10"}, SaleInvalid),  # future
        (
            {"external_id": "X", "sold_at": "2026-11-01", "quantity": "1", "amount": "10", "original_id": "Y"},
            SaleInvalid,
        ),
        (
            {"external_id": "X", "sold_at": "2026-11-01", "quantity": "-1", "amount": "-10", "original_id": "X"},
            SaleInvalid,
        ),
        ("not an object", SaleInvalid),
    ],
)
def test_bad_lines_are_refused_with_the_field(raw: Any, error: type[Exception]) -> None:
    with pytest.raises(error):
        sale_line_parse(raw, now=NOW)


def test_a_naive_time_is_read_in_the_programme_zone() -> None:
    line = sale_line_parse(
        {"external_id": "X", "sold_at": "2026-11-19T23:30", "quantity": "2", "amount": "10"}, now=NOW
    )
    assert line.sold_at == at(2026, 11, 19, 23, 30)


def test_a_return_larger_than_its_sale_is_refused_and_changes_nothing() -> None:
    dealer = partner()
    original = book(dealer, "S-1", "1000.00", sold_at=at(2026, 11, 2), quantity=10)
    with pytest.raises(ReturnExceedsSale):
        book(dealer, "R-1", "-1000.01", sold_at=at(2026, 11, 3), quantity=-1, original="S-1")
    with pytest.raises(ReturnExceedsSale):
        book(dealer, "R-1", "-10.00", sold_at=at(2026, 11, 3), quantity=-11, original="S-1")
    with pytest.raises(OriginalSaleNotFound):
        book(dealer, "R-1", "-10.00", sold_at=at(2026, 11, 3), original="NOPE")
    other = partner("DLR2")
    book(other, "S-9", "10.00", sold_at=at(2026, 11, 2))
    with pytest.raises(OriginalSaleNotFound):  # another partner's sale is not this partner's to return
        book(dealer, "R-1", "-10.00", sold_at=at(2026, 11, 3), original="S-9")
    original.refresh_from_db()
    assert (original.returned_amount, original.returned_quantity) == (Decimal(0), 0)
    assert Sale.objects.filter(original__isnull=False).count() == 0
    book(dealer, "R-2", "-1000.00", sold_at=at(2026, 11, 3), quantity=-10, original="S-1")
    original.refresh_from_db()
    assert (original.returned_amount, original.returned_quantity) == (Decimal("1000.00"), 10)


def test_a_return_in_the_open_month_lowers_that_months_net_sales() -> None:
    dealer = partner()
    book(dealer, "S-1", "60000.00", sold_at=at(2026, 10, 5))
    book(dealer, "R-1", "-20000.00", sold_at=at(2026, 10, 20), original="S-1")
    statement, _ = statement_issue(partner=dealer, period="2026-10", now=at(2026, 11, 1, 3))
    assert (statement.sales_total, statement.returns_total, statement.net_sales) == (
        Decimal("60000.00"),
        Decimal("-20000.00"),
        Decimal("40000.00"),
    )
    assert statement.rebate_fen == 80000  # 2 % of 40,000: the return took the month back below the 50k band
    assert not Transfer.objects.filter(kind=kinds.CLAWBACK).exists()


def test_a_return_after_payout_reverses_proportionally_and_the_clawback_carries() -> None:
    dealer = partner()
    book(dealer, "S-1", "100000.00", sold_at=at(2026, 10, 5), quantity=100)
    october, _ = statement_issue(partner=dealer, period="2026-10", now=at(2026, 11, 1, 3))
    assert october.rebate_fen == 275000  # 50,000 × 2 % + 50,000 × 3.5 %
    statement_pay(statement=october, actor_id=None, now=at(2026, 11, 5))
    assert partner_payable(partner_id=dealer.pk)[1] == 0
    first = book(
        dealer, "R-1", "-40000.00", sold_at=at(2026, 11, 10), quantity=-40, original="S-1", now=at(2026, 11, 10)
    )
    assert first.rebate_period == ""  # October is closed: the return claws back instead
    assert first.clawback_fen == 110000  # 40 % of October's rebate
    assert partner_payable(partner_id=dealer.pk)[1] == -110000  # carried as a negative payable, never dropped
    rest = book(
        dealer, "R-2", "-60000.00", sold_at=at(2026, 11, 11), quantity=-60, original="S-1", now=at(2026, 11, 11)
    )
    assert first.clawback_fen + rest.clawback_fen == 275000  # everything returned: exactly the rebate, not a fen more
    november, _ = statement_issue(partner=dealer, period="2026-11", now=at(2026, 12, 1, 3))
    assert (november.opening_fen, november.paid_fen, november.clawback_fen) == (275000, 275000, 275000)
    assert november.closing_fen == -275000 == partner_payable(partner_id=dealer.pk)[1]
    assert november.net_sales == 0  # October's returns never count in November's sales
    assert ledger_reconcile(now=at(2026, 12, 1, 4)).ok


def test_a_late_sale_counts_in_the_month_it_is_booked() -> None:
    dealer = partner()
    book(dealer, "S-1", "100.00", sold_at=at(2026, 10, 5))
    statement_issue(partner=dealer, period="2026-10", now=at(2026, 11, 1, 3))
    late = book(dealer, "S-2", "100.00", sold_at=at(2026, 10, 30), now=at(2026, 11, 2))
    assert (late.period, late.rebate_period) == ("2026-10", "2026-11")


def test_the_recruiter_is_rewarded_once_for_the_first_sale_and_loses_the_share_on_its_return() -> None:
    Programme.objects.update_or_create(pk=1, defaults={"referral_bonus": Decimal(500), "referral_share": Decimal(1)})
    recruiter = partner("REC")
    recruit = partner("NEW", referred_by=recruiter)
    book(recruit, "S-1", "20000.00", sold_at=at(2026, 11, 2))
    book(recruit, "S-2", "50000.00", sold_at=at(2026, 11, 3))
    reward = ReferralReward.objects.get()
    assert (reward.recruiter_id, reward.bonus_fen, reward.share_fen) == (recruiter.pk, 50000, 20000)
    assert partner_payable(partner_id=recruiter.pk)[1] == 70000
    book(recruit, "R-1", "-10000.00", sold_at=at(2026, 11, 4), original="S-1")
    assert partner_payable(partner_id=recruiter.pk)[1] == 60000  # half the share back; the one-time part stays
    assert Transfer.objects.filter(kind=kinds.REFERRAL).count() == 1
    assert Transfer.objects.filter(kind=kinds.REFERRAL_BACK).get().amount == 10000


@pytest.mark.django_db(transaction=True)
def test_twenty_concurrent_bookings_of_one_order_book_it_once() -> None:
    dealer = partner()
    line = SaleLine("SAME", at(2026, 11, 2), 1, Decimal("500.00"))

    def attempt(_i: int) -> bool:
        _sale, created = sale_book(partner=dealer, line=line, source=Sale.Source.API, now=NOW)
        return created

    results = run_concurrently(20, attempt)
    assert sorted(map(repr, results)).count("True") == 1, results
    assert results.count(False) == 19
    assert Sale.objects.count() == 1


@pytest.mark.django_db(transaction=True)
def test_concurrent_returns_never_exceed_the_sale_and_claw_back_exactly() -> None:
    dealer = partner()
    book(dealer, "S-1", "100000.00", sold_at=at(2026, 10, 5), quantity=100)
    october, _ = statement_issue(partner=dealer, period="2026-10", now=at(2026, 11, 1, 3))

    def give_back(i: int) -> int:
        return book(
            dealer, f"R-{i}", "-10000.00", sold_at=at(2026, 11, 2), quantity=-10, original="S-1", now=at(2026, 11, 2)
        ).clawback_fen

    results = run_concurrently(20, give_back)
    taken = [r for r in results if isinstance(r, int)]
    refused = [r for r in results if isinstance(r, ReturnExceedsSale)]
    assert (len(taken), len(refused)) == (10, 10), results
    assert sum(taken) == october.rebate_fen == 275000
    original = Sale.objects.get(external_id="S-1")
    assert (original.returned_amount, original.returned_quantity) == (Decimal("100000.00"), 100)
    assert partner_payable(partner_id=dealer.pk)[1] == 0  # rebate credited, all of it taken back
    assert ledger_reconcile(now=at(2026, 11, 3)).ok
