"""Supplier settlement (mall.settlement): statements of units delivered × unit cost minus returns over mall orders
and wheel prizes, per supplier and period of Beijing-time dates; idempotent generation, a final settlement, the
monthly job, the admin (CSV, printable page, "Mark settled"). Every event happens at a fixed instant."""

from __future__ import annotations

import csv
import io
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from decimal import Decimal
from itertools import count
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from auditlog.models import LogEntry
from django.conf import settings
from django.test import Client
from django_celery_beat.models import PeriodicTask
from django_celery_beat.schedulers import DatabaseScheduler

from accounts.models import User
from accounts.services import address_save
from campaigns.builders import campaign_live, member_fund
from config.celery import app as celery_app
from lottery.builders import wheel_build
from lottery.models import PRIZE_SHIPMENT, Draw, Prize, PrizeKind
from lottery.services import prize_address_set, spin_perform
from mall import jobs, settlement
from mall.builders import product_build, supplier_build
from mall.errors import (
    PeriodInvalid,
    StatementAlreadySettled,
    StatementPeriodOpen,
    StatementSettledDiffers,
    StatementStale,
)
from mall.models import Delivery, Order, Product, Supplier, SupplierStatement
from mall.orders import order_cancel, order_place
from shipments.models import Shipment
from shipments.rules import ShipmentStatus
from shipments.services import shipment_transition, shipments_expire
from tests.clock import shifted
from tests.conftest import run_concurrently
from tests.data import ADDRESS

pytestmark = pytest.mark.django_db

SH = ZoneInfo("Asia/Shanghai")
T0 = datetime(2026, 3, 28, 12, 0, tzinfo=SH)  # campaigns are live (official phase) from 03-25 12:00 to 04-22 12:00
MARCH = (date(2026, 3, 1), date(2026, 3, 31))
APRIL = (date(2026, 4, 1), date(2026, 4, 30))
M1 = datetime(2026, 3, 29, 10, 0, tzinfo=SH)
M_LAST = datetime(2026, 3, 31, 23, 59, 59, 999999, tzinfo=SH)  # the last instant of March in Beijing time
A_FIRST = datetime(2026, 4, 1, 0, 0, tzinfo=SH)  # the first instant of April (still 03-31 16:00 UTC)
A2 = datetime(2026, 4, 5, 10, 0, tzinfo=SH)
AFTER = datetime(2026, 5, 1, 2, 0, tzinfo=SH)  # both periods over
SURE = 10**9  # a prize's weight against "thanks for playing" (1): it is won


# --- Building events at fixed instants --------------------------------------------------------------------------


@dataclass
class Shop:
    """A member funded in every campaign it opens; one campaign per wheel prize (a campaign has one wheel)."""

    member: User
    operator: User
    address_id: int
    campaigns: Any = None
    keys: Any = field(default_factory=count)

    def __post_init__(self) -> None:
        self.campaigns = []
        self.mall = self.campaign()

    def campaign(self) -> Any:
        n = len(self.campaigns)
        campaign = campaign_live(now=T0, slug=f"carnival-{n}", name=f"积分狂欢 {n}")
        member_fund(campaign=campaign, user_id=self.member.pk, points=100_000, now=T0 - timedelta(days=2), key=f"f{n}")
        self.campaigns.append(campaign)
        return campaign

    def order(
        self,
        supplier: Supplier,
        cost: str,
        at: datetime,
        *,
        delivery: str = Delivery.INSTRUCTIONS,
        ship_at: datetime | None = None,
        return_at: datetime | None = None,
        refund_at: datetime | None = None,
        member_cancel_at: datetime | None = None,
    ) -> Order:
        n = next(self.keys)
        product = product_build(
            campaign=self.mall, delivery=delivery, supplier=supplier, unit_cost_cny=Decimal(cost), name=f"商品{n}"
        )
        address = self.address_id if delivery == Delivery.PHYSICAL else None
        order = order_place(
            product_id=product.pk, user_id=self.member.pk, request_key=f"o{n}", address_id=address, now=at
        )
        order = order.order
        if ship_at:
            _ship(order.shipment_id, ship_at)
        if return_at:
            shipment_transition(shipment_id=order.shipment_id, to=ShipmentStatus.RETURNED, now=return_at)
        if refund_at:
            order_cancel(order_id=order.pk, actor_id=self.operator.pk, reason="supplier error", now=refund_at)
        if member_cancel_at:
            order_cancel(order_id=order.pk, member_id=self.member.pk, now=member_cancel_at)
        return Order.objects.get(pk=order.pk)

    def prize(
        self,
        supplier: Supplier | None,
        kind: str,
        value: str,
        at: datetime,
        *,
        ship_at: datetime | None = None,
        return_at: datetime | None = None,
        expire_at: datetime | None = None,
    ) -> Draw:
        campaign = self.campaign()
        wheel = wheel_build(
            campaign=campaign,
            none_weight=1,
            prizes=[
                {"kind": kind, "name": f"奖品{len(self.campaigns)}", "weight": SURE, "unit_value_cny": Decimal(value)}
            ],
        )
        prize = Prize.objects.get(wheel=wheel, kind=kind)
        Prize.objects.filter(pk=prize.pk).update(supplier=supplier)
        draw = spin_perform(wheel=wheel, user_id=self.member.pk, request_key=f"s{next(self.keys)}", now=at).draw
        assert draw.prize_id == prize.pk
        shipment = Shipment.objects.filter(owner_kind=PRIZE_SHIPMENT, owner_id=draw.pk).first()
        if ship_at:
            prize_address_set(user=self.member, draw_id=draw.pk, address_id=self.address_id, now=at)
            assert shipment is not None
            _ship(shipment.pk, ship_at)
        if return_at:
            assert shipment is not None
            shipment_transition(shipment_id=shipment.pk, to=ShipmentStatus.RETURNED, now=return_at)
        if expire_at:
            assert [s.pk for s in shipments_expire(now=expire_at, owner_kind=PRIZE_SHIPMENT)] == [shipment.pk]
        return draw


def _ship(shipment_id: int | None, at: datetime) -> None:
    assert shipment_id is not None
    shipment_transition(
        shipment_id=shipment_id, to=ShipmentStatus.SHIPPED, carrier="SF", tracking_number="SF1001", now=at
    )


@pytest.fixture
def shop(make_user: Callable[..., User]) -> Shop:
    member = make_user()
    operator = make_user(is_staff=True)
    address = address_save(user=member, data=ADDRESS)
    return Shop(member=member, operator=operator, address_id=address.pk)


@pytest.fixture
def suppliers(db: Any) -> tuple[Supplier, Supplier]:
    return supplier_build(name="图书供应商", name_en="Books Co"), supplier_build(name="影院供应商", name_en="Cinema Co")


# --- The table ----------------------------------------------------------------------------------------------------

A, B = "A", "B"


@dataclass(frozen=True)
class Case:
    """Events (each a function of the shop and {A, B: supplier}) and, per (supplier, period), the statement's
    (net units, amount) — absent: no statement for that supplier and period."""

    events: list[Callable[[Shop, dict[str, Supplier]], Any]]
    expected: dict[tuple[str, tuple[date, date]], tuple[int, str]]


CASES: dict[str, Case] = {
    "orders inside and outside the period": Case(
        [
            lambda s, x: s.order(x[A], "10.00", M1),
            lambda s, x: s.order(x[A], "10.00", M1 + timedelta(hours=1)),
            lambda s, x: s.order(x[A], "7.35", A2),
        ],
        {(A, MARCH): (2, "20.00"), (A, APRIL): (1, "7.35")},
    ),
    "the period's edges in Beijing time": Case(
        [lambda s, x: s.order(x[A], "3.33", M_LAST), lambda s, x: s.order(x[A], "4.44", A_FIRST)],
        {(A, MARCH): (1, "3.33"), (A, APRIL): (1, "4.44")},
    ),
    "a refund of an order fulfilled last period": Case(
        [lambda s, x: s.order(x[A], "12.50", M1, refund_at=A2), lambda s, x: s.order(x[A], "2.00", A2)],
        {(A, MARCH): (1, "12.50"), (A, APRIL): (0, "-10.50")},
    ),
    "a refund in the same period nets to zero": Case(
        [lambda s, x: s.order(x[A], "9.99", M1, refund_at=M1 + timedelta(hours=2))],
        {(A, MARCH): (0, "0.00")},
    ),
    "goods count when shipped, never when cancelled before": Case(
        [
            lambda s, x: s.order(x[A], "30.00", M1, delivery=Delivery.PHYSICAL, ship_at=A2),
            lambda s, x: s.order(x[A], "40.00", M1, delivery=Delivery.PHYSICAL, member_cancel_at=M_LAST),
        ],
        {(A, APRIL): (1, "30.00")},
    ),
    "returned mall goods": Case(
        [lambda s, x: s.order(x[A], "25.00", M1, delivery=Delivery.PHYSICAL, ship_at=M1, return_at=A2)],
        {(A, MARCH): (1, "25.00"), (A, APRIL): (-1, "-25.00")},
    ),
    "wheel prizes count when won": Case(
        [
            lambda s, x: s.prize(x[B], PrizeKind.POINTS, "5.50", M1),
            lambda s, x: s.prize(x[B], PrizeKind.MULTIPLIER_CARD, "1.25", M_LAST),
            lambda s, x: s.prize(x[B], PrizeKind.MEMBERSHIP_VOUCHER, "20.00", A_FIRST),
        ],
        {(B, MARCH): (2, "6.75"), (B, APRIL): (1, "20.00")},
    ),
    "a returned physical prize": Case(
        [lambda s, x: s.prize(x[B], PrizeKind.PHYSICAL, "199.90", M1, ship_at=M_LAST, return_at=A2)],
        {(B, MARCH): (1, "199.90"), (B, APRIL): (-1, "-199.90")},
    ),
    "an expired or unshipped prize never counts": Case(
        [
            lambda s, x: s.prize(x[B], PrizeKind.PHYSICAL, "88.00", M1, expire_at=M1 + timedelta(days=31)),
            lambda s, x: s.prize(x[B], PrizeKind.PHYSICAL, "66.00", M1),
            lambda s, x: s.prize(None, PrizeKind.POINTS, "3.00", M1),  # no supplier: nobody to settle with
        ],
        {},
    ),
    "two suppliers, both sources": Case(
        [
            lambda s, x: s.order(x[A], "10.00", M1),
            lambda s, x: s.prize(x[A], PrizeKind.POINTS, "0.01", M1),
            lambda s, x: s.order(x[B], "15.00", M1, refund_at=A2),
            lambda s, x: s.prize(x[B], PrizeKind.PHYSICAL, "50.00", M1, ship_at=A2),
        ],
        {(A, MARCH): (2, "10.01"), (B, MARCH): (1, "15.00"), (B, APRIL): (0, "35.00")},
    ),
}


@pytest.mark.parametrize("name", sorted(CASES))
def test_statement_totals_are_deliveries_minus_returns(
    name: str, shop: Shop, suppliers: tuple[Supplier, Supplier]
) -> None:
    case = CASES[name]
    by_name = {A: suppliers[0], B: suppliers[1]}
    for event in case.events:
        event(shop, by_name)
    got: dict[tuple[str, tuple[date, date]], tuple[int, str]] = {}
    for period in (MARCH, APRIL):
        result = settlement.statements_generate(period_start=period[0], period_end=period[1], now=AFTER)
        assert not result.conflicts
        for statement in result.statements:
            label = A if statement.supplier_id == suppliers[0].pk else B
            got[label, period] = (statement.units, str(statement.amount_cny))
            # The lines add up to the totals, each exact to the fen.
            assert sum(line["units"] for line in statement.lines) == statement.units
            assert sum(Decimal(line["amount_cny"]) for line in statement.lines) == statement.amount_cny
            for line in statement.lines:
                assert Decimal(line["amount_cny"]) == Decimal(line["unit_cost_cny"]) * line["units"]
                assert line["units"] == line["delivered"] - line["returned"]
    assert got == case.expected


def test_lines_group_by_source_item_and_unit_cost(shop: Shop, suppliers: tuple[Supplier, Supplier]) -> None:
    supplier = suppliers[0]
    first = shop.order(supplier, "10.00", M1)
    order_place(product_id=first.product_id, user_id=shop.member.pk, request_key="again", now=M1)
    # The product's cost changes: orders keep the cost they were placed at.
    Product.objects.filter(pk=first.product_id).update(unit_cost_cny=Decimal("11.00"))
    order_place(product_id=first.product_id, user_id=shop.member.pk, request_key="later", now=M_LAST)
    shop.prize(supplier, PrizeKind.POINTS, "2.50", M1)
    statement = settlement.statement_generate(
        supplier_id=supplier.pk, period_start=MARCH[0], period_end=MARCH[1], now=AFTER
    )
    assert [(x["source"], x["unit_cost_cny"], x["delivered"], x["amount_cny"]) for x in statement.lines] == [
        ("mall", "10.00", 2, "20.00"),
        ("mall", "11.00", 1, "11.00"),
        ("wheel", "2.50", 1, "2.50"),
    ]
    assert statement.lines[0]["item"] == first.name
    assert (statement.units, statement.amount_cny) == (4, Decimal("33.50"))


def test_period_window_is_beijing_dates_inclusive() -> None:
    start, end = settlement.period_window(period_start=MARCH[0], period_end=MARCH[1])
    assert start == datetime(2026, 3, 1, tzinfo=SH)
    assert end == A_FIRST
    assert settlement.month_before(now=datetime(2026, 4, 1, 0, 30, tzinfo=SH)) == MARCH
    assert settlement.month_before(now=datetime(2026, 3, 31, 17, 0, tzinfo=ZoneInfo("UTC"))) == MARCH  # 04-01 01:00 SH
    assert settlement.month_before(now=datetime(2026, 1, 15, tzinfo=SH)) == (date(2025, 12, 1), date(2025, 12, 31))
    with pytest.raises(PeriodInvalid):
        settlement.period_window(period_start=MARCH[1], period_end=MARCH[0])


# --- Idempotence and finality --------------------------------------------------------------------------------------


def test_rerunning_a_period_updates_the_same_unsettled_statement(
    shop: Shop, suppliers: tuple[Supplier, Supplier]
) -> None:
    supplier = suppliers[0]
    shop.order(supplier, "10.00", M1)
    period = {"supplier_id": supplier.pk, "period_start": MARCH[0], "period_end": MARCH[1]}
    first = settlement.statement_generate(**period, now=AFTER)
    again = settlement.statement_generate(**period, now=AFTER + timedelta(minutes=1))
    assert again.pk == first.pk
    assert (again.units, again.amount_cny, again.lines) == (1, Decimal("10.00"), first.lines)
    shop.order(supplier, "5.00", M_LAST)  # recorded late (e.g. a catch-up import), still March's
    settlement.statements_generate(period_start=MARCH[0], period_end=MARCH[1], now=AFTER + timedelta(minutes=2))
    assert SupplierStatement.objects.count() == 1
    refreshed = SupplierStatement.objects.get()
    assert refreshed.pk == first.pk
    assert (refreshed.units, refreshed.amount_cny) == (2, Decimal("15.00"))
    assert refreshed.generated_at == AFTER + timedelta(minutes=2)
    assert LogEntry.objects.get_for_object(refreshed).count() == 3  # created, then two refreshes: all audited


def test_a_settled_statement_is_final(shop: Shop, suppliers: tuple[Supplier, Supplier], make_user: Any) -> None:
    supplier = suppliers[0]
    order = shop.order(supplier, "10.00", M1)
    period = {"supplier_id": supplier.pk, "period_start": MARCH[0], "period_end": MARCH[1]}
    statement = settlement.statement_generate(**period, now=AFTER)
    finance = make_user(is_staff=True)
    settled = settlement.statement_settle(statement_id=statement.pk, actor_id=finance.pk, now=AFTER)
    assert settled.settled_at == AFTER
    assert settled.settled_by_id == finance.pk

    # The same figures: returned unchanged (not even regenerated).
    same = settlement.statement_generate(**period, now=AFTER + timedelta(days=1))
    assert (same.pk, same.generated_at, same.settled_at) == (statement.pk, AFTER, AFTER)

    # The figures moved (a unit cost corrected after settlement): refused, nothing changed, the job reports it.
    Order.objects.filter(pk=order.pk).update(unit_cost_cny=Decimal("9.00"))
    with pytest.raises(StatementSettledDiffers) as raised:
        settlement.statement_generate(**period, now=AFTER + timedelta(days=1))
    assert raised.value.details["settled_amount_cny"] == "10.00"
    assert raised.value.details["amount_cny"] == "9.00"
    result = settlement.statements_generate(period_start=MARCH[0], period_end=MARCH[1], now=AFTER + timedelta(days=1))
    assert result.statements == []
    assert [c.details["statement_id"] for c in result.conflicts] == [statement.pk]
    kept = SupplierStatement.objects.get(pk=statement.pk)
    assert (kept.amount_cny, kept.generated_at, kept.lines) == (Decimal("10.00"), AFTER, statement.lines)

    with pytest.raises(StatementAlreadySettled):
        settlement.statement_settle(statement_id=statement.pk, actor_id=finance.pk, now=AFTER + timedelta(days=2))
    entry = (
        LogEntry.objects.get_for_object(kept).filter(action=LogEntry.Action.UPDATE, changes__has_key="settled_at").get()
    )
    assert entry.actor_id == finance.pk


def test_settling_needs_the_period_over_and_figures_made_after_it(
    shop: Shop, suppliers: tuple[Supplier, Supplier], make_user: Any
) -> None:
    supplier = suppliers[0]
    shop.order(supplier, "10.00", M1)
    finance = make_user(is_staff=True)
    period = {"supplier_id": supplier.pk, "period_start": MARCH[0], "period_end": MARCH[1]}
    early = settlement.statement_generate(**period, now=M_LAST)
    with pytest.raises(StatementPeriodOpen):
        settlement.statement_settle(statement_id=early.pk, actor_id=finance.pk, now=M_LAST)
    with pytest.raises(StatementStale):
        settlement.statement_settle(statement_id=early.pk, actor_id=finance.pk, now=A_FIRST)
    settlement.statement_generate(**period, now=A_FIRST)
    assert settlement.statement_settle(statement_id=early.pk, actor_id=finance.pk, now=A_FIRST).settled_at == A_FIRST


@pytest.mark.django_db(transaction=True)
def test_concurrent_settlements_mark_it_once(make_user: Any) -> None:
    supplier = supplier_build(name="并发供应商")
    statement = SupplierStatement.objects.create(
        supplier=supplier,
        period_start=MARCH[0],
        period_end=MARCH[1],
        units=1,
        amount_cny=Decimal("1.00"),
        lines=[],
        generated_at=AFTER,
    )
    actors = [make_user(is_staff=True).pk for _ in range(8)]

    def settle(i: int) -> Any:
        return settlement.statement_settle(
            statement_id=statement.pk, actor_id=actors[i], now=AFTER + timedelta(seconds=i)
        )

    results = run_concurrently(8, settle)
    won = [r for r in results if isinstance(r, SupplierStatement)]
    lost = [r for r in results if isinstance(r, StatementAlreadySettled)]
    assert (len(won), len(lost)) == (1, 7), results
    final = SupplierStatement.objects.get(pk=statement.pk)
    assert (final.settled_at, final.settled_by_id) == (won[0].settled_at, won[0].settled_by_id)
    assert (
        LogEntry.objects.get_for_object(final)
        .filter(action=LogEntry.Action.UPDATE, changes__has_key="settled_at")
        .count()
        == 1
    )


# --- The monthly job ----------------------------------------------------------------------------------------------


def test_monthly_job_generates_last_month_and_is_safe_twice(shop: Shop, suppliers: tuple[Supplier, Supplier]) -> None:
    shop.order(suppliers[0], "10.00", A2)
    shop.prize(suppliers[1], PrizeKind.POINTS, "1.00", A_FIRST)
    shop.order(suppliers[1], "99.00", M1)  # March: not this run's business
    with shifted(AFTER):
        assert jobs.statements_monthly.apply().get() == 2
        assert jobs.statements_monthly.apply().get() == 2
    got = {(s.supplier_id, s.period_start, s.period_end, s.amount_cny) for s in SupplierStatement.objects.all()}
    assert got == {
        (suppliers[0].pk, APRIL[0], APRIL[1], Decimal("10.00")),
        (suppliers[1].pk, APRIL[0], APRIL[1], Decimal("1.00")),
    }


def test_monthly_job_runs_on_the_first_at_two_in_shanghai() -> None:
    entry = settings.CELERY_BEAT_SCHEDULE["mall-statements-monthly"]
    schedule = entry["schedule"]
    assert entry["task"] == "mall.statements_monthly"
    assert schedule.tz == SH
    last = datetime(2026, 3, 31, 18, 0, tzinfo=ZoneInfo("UTC"))  # 04-01 02:00 in Shanghai: the last run
    start, ends_in, _now = schedule.remaining_delta(last.astimezone(schedule.tz))  # what beat's is_due does
    assert start + ends_in == datetime(2026, 5, 1, 2, 0, tzinfo=SH)


@pytest.mark.django_db(transaction=True)  # the scheduler closes and reopens its database connection
def test_beat_stores_the_schedule_with_its_timezone() -> None:
    DatabaseScheduler(app=celery_app)  # what `celery beat` does at start-up
    crontab = PeriodicTask.objects.get(name="mall-statements-monthly").crontab
    assert crontab is not None
    assert (crontab.minute, crontab.hour, crontab.day_of_month, str(crontab.timezone)) == (
        "0",
        "2",
        "1",
        "Asia/Shanghai",
    )
    assert crontab.schedule.tz == SH


# --- The admin: CSV, printable page, settling ---------------------------------------------------------------------


@pytest.fixture
def statement(db: Any) -> SupplierStatement:
    supplier = supplier_build(name='=HYPERLINK("http://evil.example","pay here")', name_en="@SUM(A1:A9)")
    lines = [
        {
            "source": "mall",
            "item_id": 1,
            "item": "+电影票",
            "item_en": "-Movie ticket",
            "unit_cost_cny": "10.00",
            "delivered": 1,
            "returned": 2,
            "units": -1,
            "amount_cny": "-10.00",
        }
    ]
    return SupplierStatement.objects.create(
        supplier=supplier,
        period_start=MARCH[0],
        period_end=MARCH[1],
        units=-1,
        amount_cny=Decimal("-10.00"),
        lines=lines,
        generated_at=AFTER,
    )


def test_csv_has_a_bom_and_neutralises_formulas(
    statement: SupplierStatement, staff: Callable[[str], tuple[User, Client]]
) -> None:
    _user, client = staff("finance")
    response = client.get(f"/admin/mall/supplierstatement/{statement.pk}/csv/")
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/csv")
    assert response.content.startswith(b"\xef\xbb\xbf")
    rows = list(csv.reader(io.StringIO(response.content.decode("utf-8-sig"))))
    assert rows[0][1] == "'" + statement.supplier.name
    assert rows[0][2] == "'@SUM(A1:A9)"
    line = rows[-1]
    assert line[1:3] == ["'+电影票", "'-Movie ticket"]
    assert line[3:] == ["10.00", "1", "2", "-1", "-10.00"]  # numbers stay numbers, negative ones too
    cells = [cell for row in rows for cell in row]
    assert not any(cell[:1] in {"=", "+", "@"} for cell in cells)


def test_printable_page_shows_the_statement(
    statement: SupplierStatement, staff: Callable[[str], tuple[User, Client]]
) -> None:
    _user, client = staff("analyst")
    response = client.get(f"/admin/mall/supplierstatement/{statement.pk}/print/")
    assert response.status_code == 200
    page = response.content.decode()
    assert "statement-print.css" in page
    assert "-10.00" in page
    assert "+电影票" in page
    assert "=HYPERLINK(&quot;http://evil.example&quot;" in page  # escaped as text
    assert response.context["rows"][0]["units"] == -1
    change = client.get(f"/admin/mall/supplierstatement/{statement.pk}/change/").content.decode()
    assert f"/admin/mall/supplierstatement/{statement.pk}/print/" in change
    assert f"/admin/mall/supplierstatement/{statement.pk}/csv/" in change  # analysts export
    assert "<td>-10.00</td>" in change  # the lines table
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "zh-hans"
    zh = client.get(f"/admin/mall/supplierstatement/{statement.pk}/print/")
    assert zh.status_code == 200
    assert 'lang="zh-hans"' in zh.content.decode()


@pytest.mark.parametrize("who", ["anonymous", "member"])
def test_page_and_csv_are_closed_to_members_and_anonymous(
    statement: SupplierStatement, make_user: Callable[..., User], who: str
) -> None:
    client = Client()
    if who == "member":
        client.force_login(make_user(), backend="accounts.backends.PhoneOrEmailBackend")
    for page in ("print", "csv"):
        response = client.get(f"/admin/mall/supplierstatement/{statement.pk}/{page}/")
        assert (response.status_code, response["Location"].split("?")[0]) == (302, "/admin/login/"), page


def test_operators_see_the_page_but_do_not_export(
    statement: SupplierStatement, staff: Callable[[str], tuple[User, Client]]
) -> None:
    _user, client = staff("operator")
    assert client.get(f"/admin/mall/supplierstatement/{statement.pk}/print/").status_code == 200
    assert client.get(f"/admin/mall/supplierstatement/{statement.pk}/csv/").status_code == 403


def _mark_settled(client: Client, statement: SupplierStatement) -> Any:
    return client.post(
        "/admin/mall/supplierstatement/",
        {"action": "mark_settled", "_selected_action": [statement.pk]},
        follow=True,
    )


def test_finance_can_settle_and_analyst_cannot(
    statement: SupplierStatement, staff: Callable[[str], tuple[User, Client]]
) -> None:
    _analyst, analyst_client = staff("analyst")
    _mark_settled(analyst_client, statement)
    assert SupplierStatement.objects.get(pk=statement.pk).settled_at is None

    finance, finance_client = staff("finance")
    response = _mark_settled(finance_client, statement)
    assert response.status_code == 200
    settled = SupplierStatement.objects.get(pk=statement.pk)
    assert settled.settled_at is not None
    assert settled.settled_by_id == finance.pk
    again = _mark_settled(finance_client, statement)
    assert "already been settled" in again.content.decode()


def test_finance_generates_statements_in_the_admin(
    shop: Shop, suppliers: tuple[Supplier, Supplier], staff: Callable[[str], tuple[User, Client]]
) -> None:
    shop.order(suppliers[0], "10.00", M1)
    _user, analyst = staff("analyst")
    form = {"period_start": "2026-03-01", "period_end": "2026-03-31", "supplier": ""}
    assert analyst.post("/admin/mall/supplierstatement/generate/", form).status_code == 403
    _user, finance = staff("finance")
    assert finance.get("/admin/mall/supplierstatement/generate/").status_code == 200
    response = finance.post("/admin/mall/supplierstatement/generate/", form)
    assert response.status_code == 302
    statement = SupplierStatement.objects.get()
    assert (statement.supplier_id, statement.amount_cny) == (suppliers[0].pk, Decimal("10.00"))
    bad = finance.post("/admin/mall/supplierstatement/generate/", {**form, "period_end": "2026-02-01"})
    assert bad.status_code == 200
    assert SupplierStatement.objects.count() == 1
