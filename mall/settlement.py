"""Supplier settlement: per supplier per period, a statement of the units the supplier delivered × their unit cost,
minus returns, over both mall orders and wheel prizes; finance marks it settled once (audited).

Periods are calendar dates, both ends inclusive, in SETTLEMENT_ZONE (Asia/Shanghai, fixed: the brand's books are
kept in Beijing time whatever the deployment's display zone or a campaign's timezone — suppliers span campaigns).
A period is the half-open window [period_start 00:00, period_end + 1 day 00:00) of that zone: 23:59:59.999 on the
last day is inside, 00:00:00 the next day is not.

What counts (every timestamp tested against the window; an event is counted in the one period its time falls in):

- Mall orders (source "mall"), grouped by product and the order's unit cost snapshot (Order.unit_cost_cny) of the
  order's supplier snapshot (Order.supplier):
  delivered (+1) — the order's `fulfilled_at` is in the period (code / instructions / virtual items at redemption,
  goods when shipped or picked up), whatever its status now;
  returned (−1) — a refunded order that had been fulfilled (in any period) whose `cancelled_at` is in the period.
  An order cancelled before it was fulfilled never counts.
- Wheel prizes (source "wheel"), grouped by prize, at the prize's current `unit_value_cny` (draws keep no value
  snapshot), for draws whose prize's current supplier is the supplier; "thanks for playing" never counts:
  coupons, vouchers, points and multiplier cards: delivered (+1) when won (Draw.created_at in the period);
  physical prizes: delivered (+1) when their shipment's `shipped_at` is in the period, returned (−1) when its
  `returned_at` is; a prize whose shipment expired unclaimed (or never shipped) never counts.

Amounts are Decimals exact to the fen: a line is (delivered − returned) × unit cost.

Re-running a period (statement_generate) is idempotent: an unsettled statement for the same supplier and period is
the same row, updated with the current figures; a settled statement is final — returned unchanged if its figures
(every line's units and unit cost, the totals) are still what it says, otherwise StatementSettledDiffers is raised
and nothing changes (finance must look at what moved, e.g. a prize's unit value edited after settlement)."""

from __future__ import annotations

import csv
import io
import logging
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

from auditlog.models import LogEntry
from django.db import IntegrityError, transaction
from django.db.models import Count, Max, QuerySet
from django.utils.translation import gettext as _

from lottery.models import PRIZE_SHIPMENT, Draw, Prize, PrizeKind
from mall.errors import (
    PeriodInvalid,
    StatementAlreadySettled,
    StatementNotFound,
    StatementPeriodOpen,
    StatementSettledDiffers,
    StatementStale,
    SupplierNotFound,
)
from mall.models import Order, OrderStatus, Supplier, SupplierStatement
from shipments.models import Shipment
from shipments.selectors import csv_safe

logger = logging.getLogger(__name__)

SETTLEMENT_ZONE = ZoneInfo("Asia/Shanghai")
MALL, WHEEL = "mall", "wheel"
SOURCES = (MALL, WHEEL)
CENT = Decimal("0.01")
MAX_ID = 2**63
MAX_PERIOD_DAYS = 366


# --- Periods ---------------------------------------------------------------------------------------------------


def period_window(*, period_start: date, period_end: date) -> tuple[datetime, datetime]:
    """The instants [start, end) of a period of Asia/Shanghai dates, both inclusive. PeriodInvalid if the end
    comes before the start or the period is longer than a year."""
    if period_end < period_start or (period_end - period_start).days >= MAX_PERIOD_DAYS:
        raise PeriodInvalid(details={"period_start": period_start.isoformat(), "period_end": period_end.isoformat()})
    start = datetime.combine(period_start, time.min, tzinfo=SETTLEMENT_ZONE)
    end = datetime.combine(period_end + timedelta(days=1), time.min, tzinfo=SETTLEMENT_ZONE)
    return start, end


def month_before(*, now: datetime) -> tuple[date, date]:
    """The calendar month before the one `now` falls in (Asia/Shanghai): (first day, last day)."""
    today = now.astimezone(SETTLEMENT_ZONE).date()
    last = today.replace(day=1) - timedelta(days=1)
    return last.replace(day=1), last


# --- What a supplier delivered ---------------------------------------------------------------------------------


@dataclass
class _Line:
    source: str
    item_id: int
    unit_cost: Decimal
    item: str = ""
    item_en: str = ""
    delivered: int = 0
    returned: int = 0

    @property
    def units(self) -> int:
        return self.delivered - self.returned

    @property
    def amount(self) -> Decimal:
        return (self.unit_cost * self.units).quantize(CENT)

    def as_json(self) -> dict[str, Any]:
        return {
            "source": self.source,
            "item_id": self.item_id,
            "item": self.item,
            "item_en": self.item_en,
            "unit_cost_cny": str(self.unit_cost.quantize(CENT)),
            "delivered": self.delivered,
            "returned": self.returned,
            "units": self.units,
            "amount_cny": str(self.amount),
        }


@dataclass(frozen=True)
class _Sources:
    """The events of a period, of every supplier (filter by supplier with `of`)."""

    orders_delivered: QuerySet[Order]
    orders_returned: QuerySet[Order]
    prizes_won: QuerySet[Draw]
    prizes_shipped: QuerySet[Draw]
    prizes_returned: QuerySet[Draw]

    def orders(self) -> tuple[QuerySet[Order], ...]:
        return self.orders_delivered, self.orders_returned

    def draws(self) -> tuple[QuerySet[Draw], ...]:
        return self.prizes_won, self.prizes_shipped, self.prizes_returned


def _sources(start: datetime, end: datetime) -> _Sources:
    prize_draws = Draw.objects.exclude(prize__kind=PrizeKind.NONE).filter(prize__supplier__isnull=False)
    physical = prize_draws.filter(prize__kind=PrizeKind.PHYSICAL)
    shipments = Shipment.objects.filter(owner_kind=PRIZE_SHIPMENT)
    orders = Order.objects.filter(supplier__isnull=False)
    return _Sources(
        orders_delivered=orders.filter(fulfilled_at__gte=start, fulfilled_at__lt=end),
        orders_returned=orders.filter(
            status=OrderStatus.REFUNDED, fulfilled_at__isnull=False, cancelled_at__gte=start, cancelled_at__lt=end
        ),
        prizes_won=prize_draws.exclude(prize__kind=PrizeKind.PHYSICAL).filter(
            created_at__gte=start, created_at__lt=end
        ),
        prizes_shipped=physical.filter(
            pk__in=shipments.filter(shipped_at__gte=start, shipped_at__lt=end).values("owner_id")
        ),
        prizes_returned=physical.filter(
            pk__in=shipments.filter(returned_at__gte=start, returned_at__lt=end).values("owner_id")
        ),
    )


def _suppliers_active(start: datetime, end: datetime) -> set[int]:
    sources = _sources(start, end)
    ids: set[int] = set()
    for orders in sources.orders():
        ids.update(orders.order_by().values_list("supplier_id", flat=True).distinct())
    for draws in sources.draws():
        ids.update(draws.order_by().values_list("prize__supplier_id", flat=True).distinct())
    return ids


def statement_lines(*, supplier_id: int, period_start: date, period_end: date) -> list[dict[str, Any]]:
    """The statement's lines as stored in SupplierStatement.lines: one per source, item and unit cost, with
    delivered, returned, net units, unit cost and net amount (Decimal strings, exact to the fen); mall lines first,
    then wheel lines, each by item name."""
    start, end = period_window(period_start=period_start, period_end=period_end)
    sources = _sources(start, end)
    lines: dict[tuple[str, int, Decimal], _Line] = {}

    def line(source: str, item_id: int, cost: Decimal) -> _Line:
        key = (source, item_id, cost)
        if key not in lines:
            lines[key] = _Line(source=source, item_id=item_id, unit_cost=cost)
        return lines[key]

    for orders, returned in ((sources.orders_delivered, False), (sources.orders_returned, True)):
        rows = (
            orders.filter(supplier_id=supplier_id)
            .order_by()
            .values("product_id", "unit_cost_cny")
            .annotate(n=Count("id"), name=Max("name"), name_en=Max("name_en"))
        )
        for row in rows:
            found = line(MALL, row["product_id"], row["unit_cost_cny"])
            found.item, found.item_en = row["name"], row["name_en"]
            if returned:
                found.returned += row["n"]
            else:
                found.delivered += row["n"]

    counts: dict[tuple[int, bool], int] = {}
    for draws, returned in (
        (sources.prizes_won, False),
        (sources.prizes_shipped, False),
        (sources.prizes_returned, True),
    ):
        won = draws.filter(prize__supplier_id=supplier_id).order_by().values("prize_id").annotate(n=Count("id"))
        for prize_id, n in won.values_list("prize_id", "n"):
            counts[prize_id, returned] = counts.get((prize_id, returned), 0) + n
    prizes = Prize.objects.in_bulk({prize_id for prize_id, _returned in counts})
    for (prize_id, returned), n in counts.items():
        prize = prizes[prize_id]
        found = line(WHEEL, prize_id, prize.unit_value_cny)
        found.item, found.item_en = prize.name, prize.name_en
        if returned:
            found.returned += n
        else:
            found.delivered += n

    ordered = sorted(lines.values(), key=lambda x: (SOURCES.index(x.source), x.item, x.item_id, x.unit_cost))
    return [x.as_json() for x in ordered]


def _totals(lines: Iterable[dict[str, Any]]) -> tuple[int, Decimal]:
    lines = list(lines)
    units = sum(int(x["units"]) for x in lines)
    amount = sum((Decimal(x["amount_cny"]) for x in lines), Decimal("0.00")).quantize(CENT)
    return units, amount


def _figures(lines: Iterable[dict[str, Any]]) -> list[tuple[Any, ...]]:
    """What a settled statement must keep: every line's numbers (not its names, which operators may edit)."""
    return sorted(
        (x["source"], int(x["item_id"]), Decimal(x["unit_cost_cny"]), int(x["delivered"]), int(x["returned"]))
        for x in lines
    )


# --- Generating ------------------------------------------------------------------------------------------------


def statement_generate(*, supplier_id: int, period_start: date, period_end: date, now: datetime) -> SupplierStatement:
    """The supplier's statement for the period, made or refreshed from what happened (see the module docstring
    for what counts). Idempotent: the same supplier and period is always the same row; an unsettled one is
    updated with the current figures (`generated_at` = now); a settled one is returned unchanged when its figures
    still hold and otherwise raises StatementSettledDiffers (nothing is changed). Audited by django-auditlog.
    Errors: supplier_not_found, period_invalid, statement_settled_differs."""
    period_window(period_start=period_start, period_end=period_end)
    if not 0 < supplier_id < MAX_ID or not Supplier.objects.filter(pk=supplier_id).exists():
        raise SupplierNotFound()
    period = {"supplier_id": supplier_id, "period_start": period_start, "period_end": period_end}
    with transaction.atomic():
        statement = SupplierStatement.objects.select_for_update().filter(**period).first()
        lines = statement_lines(supplier_id=supplier_id, period_start=period_start, period_end=period_end)
        units, amount = _totals(lines)
        if statement is None:
            try:
                with transaction.atomic():
                    return SupplierStatement.objects.create(
                        **period, units=units, amount_cny=amount, lines=lines, generated_at=now
                    )
            except IntegrityError:  # made by a concurrent run after our look: refresh that row
                statement = SupplierStatement.objects.select_for_update().get(**period)
        if statement.settled_at is not None:
            if _figures(statement.lines) != _figures(lines) or (statement.units, statement.amount_cny) != (
                units,
                amount,
            ):
                raise StatementSettledDiffers(
                    details={
                        "statement_id": statement.pk,
                        "settled_units": statement.units,
                        "settled_amount_cny": str(statement.amount_cny),
                        "units": units,
                        "amount_cny": str(amount),
                    }
                )
            return statement
        statement.units, statement.amount_cny, statement.lines, statement.generated_at = units, amount, lines, now
        statement.save(update_fields=["units", "amount_cny", "lines", "generated_at"])
        return statement


@dataclass(frozen=True)
class StatementsGenerated:
    statements: list[SupplierStatement]
    # Suppliers whose settled statement for the period no longer matches what happened (left as they were).
    conflicts: list[StatementSettledDiffers] = field(default_factory=list)


def statements_generate(*, period_start: date, period_end: date, now: datetime) -> StatementsGenerated:
    """statement_generate for every supplier with activity in the period (a delivery or a return from either
    source) and every supplier that already has a statement for it (refreshed, even to zero). One transaction
    per supplier; a settled statement whose figures changed is left alone and reported in `conflicts`."""
    start, end = period_window(period_start=period_start, period_end=period_end)
    supplier_ids = _suppliers_active(start, end) | set(
        SupplierStatement.objects.filter(period_start=period_start, period_end=period_end).values_list(
            "supplier_id", flat=True
        )
    )
    result = StatementsGenerated(statements=[])
    for supplier_id in sorted(supplier_ids):
        try:
            result.statements.append(
                statement_generate(supplier_id=supplier_id, period_start=period_start, period_end=period_end, now=now)
            )
        except StatementSettledDiffers as exc:
            logger.error("settled supplier statement differs from the current figures: %s", exc.details)
            result.conflicts.append(exc)
    return result


# --- Settling --------------------------------------------------------------------------------------------------


def statement_settle(*, statement_id: int, actor_id: int, now: datetime) -> SupplierStatement:
    """Finance marks a statement settled (paid), once: a conditional UPDATE on `settled_at IS NULL`, so of two
    concurrent settlements one wins and the other raises statement_already_settled. Only a statement generated
    after its period ended may be settled (statement_period_open before the end, statement_stale when its figures
    predate the end: generate it again). The change is written to the audit log with the actor."""
    if not 0 < statement_id < MAX_ID:
        raise StatementNotFound()
    statement = SupplierStatement.objects.filter(pk=statement_id).first()
    if statement is None:
        raise StatementNotFound()
    _start, end = period_window(period_start=statement.period_start, period_end=statement.period_end)
    if now < end:
        raise StatementPeriodOpen(details={"period_end": statement.period_end.isoformat()})
    with transaction.atomic():
        updated = SupplierStatement.objects.filter(
            pk=statement_id, settled_at__isnull=True, generated_at__gte=end
        ).update(settled_at=now, settled_by_id=actor_id)
        statement = SupplierStatement.objects.get(pk=statement_id)
        if not updated:
            if statement.settled_at is not None:
                raise StatementAlreadySettled(
                    details={"settled_at": statement.settled_at.isoformat(), "settled_by": statement.settled_by_id}
                )
            raise StatementStale(details={"generated_at": statement.generated_at.isoformat()})
        # The conditional UPDATE is no model save, so auditlog would not see it: log it by hand.
        LogEntry.objects.log_create(
            statement,
            action=LogEntry.Action.UPDATE,
            changes={"settled_at": ["None", str(now)], "settled_by": ["None", str(actor_id)]},
            actor_id=actor_id,
        )
    return statement


# --- Export ----------------------------------------------------------------------------------------------------


def statement_csv(*, statement: SupplierStatement) -> str:
    """The statement as a spreadsheet (UTF-8 with BOM, so Excel opens Chinese text; every text cell guarded against
    formula injection by shipments.selectors.csv_safe, numbers left as numbers, negative ones too): a heading block
    (supplier, period, totals, state), then one row per line."""
    out = io.StringIO()
    writer = csv.writer(out)
    supplier = statement.supplier
    settled = statement.settled_at.astimezone(SETTLEMENT_ZONE).isoformat() if statement.settled_at else ""
    heading: list[list[Any]] = [
        [_("Supplier"), supplier.name, supplier.name_en],
        [_("Period"), statement.period_start.isoformat(), statement.period_end.isoformat()],
        [_("Units"), statement.units],
        [_("Amount (CNY)"), statement.amount_cny],
        [_("Generated at"), statement.generated_at.astimezone(SETTLEMENT_ZONE).isoformat()],
        [_("Settled at"), settled],
        [],
        [
            _("Source"),
            _("Item"),
            _("Item (English)"),
            _("Unit cost (CNY)"),
            _("Delivered"),
            _("Returned"),
            _("Net units"),
            _("Amount (CNY)"),
        ],
    ]
    for row in heading:
        writer.writerow([csv_safe(cell) for cell in row])
    labels = {MALL: _("Points mall"), WHEEL: _("Prize wheel")}
    for x in statement.lines:
        row = [
            labels.get(x["source"], x["source"]),
            x["item"],
            x["item_en"],
            Decimal(x["unit_cost_cny"]),
            int(x["delivered"]),
            int(x["returned"]),
            int(x["units"]),
            Decimal(x["amount_cny"]),
        ]
        writer.writerow([csv_safe(cell) for cell in row])
    return "\ufeff" + out.getvalue()
