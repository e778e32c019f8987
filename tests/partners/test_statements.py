"""Monthly statements: idempotent per partner per month (the job re-run books nothing twice), catch-up after missed
months, the month at year end and on 29 February, annual bonuses (cash credited, non-cash owed), payouts (only the
latest statement, never twice, never a carried clawback) — and the CNY ledger adds up after each."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest

from partners import kinds
from partners.errors import MonthNotEnded, NothingToPay, StatementSuperseded
from partners.models import BonusObligation, BonusRule, Statement
from partners.statements import bonus_fulfil, statement_issue, statement_pay, statements_issue_due
from points.models import Transfer
from points.selectors import partner_payable
from points.services import ledger_reconcile
from tests.conftest import run_concurrently
from tests.partners.programme import at, book, partner

pytestmark = pytest.mark.django_db


def test_the_job_issues_each_ended_month_once_and_a_rerun_books_nothing() -> None:
    dealer = partner(joined=date(2026, 8, 15))
    book(dealer, "S-8", "10000.00", sold_at=at(2026, 8, 20))
    book(dealer, "S-10", "60000.00", sold_at=at(2026, 10, 31, 23, 59))
    book(dealer, "S-11", "5.00", sold_at=at(2026, 11, 1, 0, 0))
    now = at(2026, 11, 1, 3)
    assert statements_issue_due(now=now) == 3  # August, September, October; November has not ended
    transfers = Transfer.objects.count()
    assert statements_issue_due(now=now) == 0
    assert statements_issue_due(now=at(2026, 11, 15)) == 0
    assert Transfer.objects.count() == transfers
    periods = list(Statement.objects.filter(partner=dealer).order_by("period").values_list("period", "rebate_fen"))
    assert periods == [("2026-08", 20000), ("2026-09", 0), ("2026-10", 135000)]  # marginal: 1,000 + 350 yuan
    again, created = statement_issue(partner=dealer, period="2026-10", now=now)
    assert not created
    assert again.closing_fen == 155000 == partner_payable(partner_id=dealer.pk)[1]
    with pytest.raises(MonthNotEnded):
        statement_issue(partner=dealer, period="2026-11", now=now)
    assert ledger_reconcile(now=now).ok


@pytest.mark.django_db(transaction=True)
def test_concurrent_runs_issue_one_statement() -> None:
    dealer = partner()
    book(dealer, "S-1", "1000.00", sold_at=at(2026, 10, 5))
    results = run_concurrently(8, lambda _i: statement_issue(partner=dealer, period="2026-10", now=at(2026, 11, 2))[1])
    assert results.count(True) == 1, results
    assert Statement.objects.count() == 1
    assert Transfer.objects.filter(kind=kinds.REBATE).count() == 1


def test_months_are_local_at_year_end_and_on_29_february() -> None:
    dealer = partner()
    book(dealer, "LAST", "100.00", sold_at=at(2026, 12, 31, 23, 59), now=at(2026, 12, 31, 23, 59))
    book(dealer, "FIRST", "200.00", sold_at=at(2027, 1, 1, 0, 0), now=at(2027, 1, 1, 0, 1))
    # 00:30 on 1 January in Shanghai is still 31 December in UTC: December has ended here.
    statement, _ = statement_issue(partner=dealer, period="2026-12", now=at(2027, 1, 1, 0, 30))
    assert statement.sales_total == Decimal("100.00")
    leap = book(dealer, "LEAP", "300.00", sold_at=at(2028, 2, 29, 23, 0), now=at(2028, 2, 29, 23, 0))
    assert leap.period == "2028-02"
    with pytest.raises(MonthNotEnded):
        statement_issue(partner=dealer, period="2028-02", now=at(2028, 2, 29, 23, 59))
    february, _ = statement_issue(partner=dealer, period="2028-02", now=at(2028, 3, 1, 0, 0))
    assert february.sales_total == Decimal("300.00")


def test_annual_bonus_cash_is_credited_and_non_cash_is_owed_once() -> None:
    dealer = partner()
    cash = BonusRule.objects.create(
        name="年度现金奖", threshold=Decimal(100000), reward="cash", cash_amount=Decimal(8000)
    )
    trip = BonusRule.objects.create(
        name="年度旅游奖励",
        name_en="Incentive trip",
        threshold=Decimal(150000),
        reward="non_cash",
        description="三亚五日游",
    )
    BonusRule.objects.create(name="未达到", threshold=Decimal(10**7), reward="cash", cash_amount=Decimal(1))
    book(dealer, "S-6", "90000.00", sold_at=at(2026, 6, 1))
    book(dealer, "S-12", "70000.00", sold_at=at(2026, 12, 10))
    statements_issue_due(now=at(2027, 1, 1, 3))
    december = Statement.objects.get(partner=dealer, period="2026-12")
    assert december.bonus_fen == 800000
    owed = {o.rule_id: o for o in BonusObligation.objects.all()}
    assert set(owed) == {cash.pk, trip.pk}
    assert (owed[cash.pk].status, owed[cash.pk].amount_fen) == (BonusObligation.Status.CREDITED, 800000)
    assert owed[cash.pk].transfer_id is not None
    assert (owed[trip.pk].status, owed[trip.pk].amount_fen) == (BonusObligation.Status.PENDING, 0)
    assert owed[trip.pk].net_sales == Decimal("160000.00")
    statements_issue_due(now=at(2027, 1, 2))
    assert BonusObligation.objects.count() == 2
    assert Transfer.objects.filter(kind=kinds.BONUS).count() == 1
    assert bonus_fulfil(obligation=owed[trip.pk], actor_id=None, note="已安排 3 月出行", now=at(2027, 2, 1))
    assert not bonus_fulfil(obligation=owed[trip.pk], actor_id=None, note="again", now=at(2027, 2, 2))
    assert ledger_reconcile(now=at(2027, 2, 2)).ok


def test_only_the_latest_statement_is_paid_and_only_once() -> None:
    dealer = partner()
    book(dealer, "S-9", "10000.00", sold_at=at(2026, 9, 3))
    book(dealer, "S-10", "10000.00", sold_at=at(2026, 10, 3))
    statements_issue_due(now=at(2026, 11, 1, 3))
    september = Statement.objects.get(period="2026-09")
    october = Statement.objects.get(period="2026-10")
    with pytest.raises(StatementSuperseded):
        statement_pay(statement=september, actor_id=None, now=at(2026, 11, 2))
    assert october.closing_fen == 40000  # September's unpaid 200 yuan carried into October's payable
    paid = statement_pay(statement=october, actor_id=None, now=at(2026, 11, 2))
    assert (paid.payout_fen, paid.paid_at) == (40000, at(2026, 11, 2))
    again = statement_pay(statement=october, actor_id=None, now=at(2026, 11, 3))
    assert again.paid_at == at(2026, 11, 2)
    assert Transfer.objects.filter(kind=kinds.PAYOUT).count() == 1
    assert partner_payable(partner_id=dealer.pk)[1] == 0
    november, _ = statement_issue(partner=dealer, period="2026-11", now=at(2026, 12, 1))
    assert (november.opening_fen, november.paid_fen, november.closing_fen) == (40000, 40000, 0)
    with pytest.raises(NothingToPay):
        statement_pay(statement=november, actor_id=None, now=at(2026, 12, 2))


@pytest.mark.django_db(transaction=True)
def test_concurrent_payments_pay_once() -> None:
    dealer = partner()
    book(dealer, "S-10", "10000.00", sold_at=at(2026, 10, 3))
    october, _ = statement_issue(partner=dealer, period="2026-10", now=at(2026, 11, 1, 3))
    results = run_concurrently(10, lambda _i: statement_pay(statement=october, actor_id=None, now=at(2026, 11, 2)).pk)
    assert results == [october.pk] * 10
    assert Transfer.objects.filter(kind=kinds.PAYOUT).count() == 1
    assert partner_payable(partner_id=dealer.pk)[1] == 0
