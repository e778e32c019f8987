"""Every write of the prize wheel: wheels and prizes (with the "only in members' favour once live" rule),
spins, and the fulfilment of physical prizes. Points move only through campaigns.services."""

from __future__ import annotations

import copy
import csv
import io
import json
import logging
import secrets
import zoneinfo
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

from auditlog.models import LogEntry
from django.core.exceptions import ValidationError
from django.db import IntegrityError, connection, transaction
from django.db.models import Count, F
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.models import Address, User
from accounts.services import address_save
from campaigns.models import Campaign
from campaigns.selectors import campaign_require_official
from campaigns.services import campaign_points_charge, campaign_points_grant, multiplier_card_issue
from lottery import fairness
from lottery.errors import (
    AddressClosed,
    InvalidSpinKey,
    OddsChangeRefused,
    PrizeNotFound,
    ShipmentStateInvalid,
    SpinLimitReached,
)
from lottery.models import (
    MAX_PRIZE_VALUE_CNY,
    Draw,
    Fulfilment,
    FulfilmentStatus,
    Prize,
    PrizeKind,
    Wheel,
)
from lottery.selectors import wheel_is_live
from mall.services import code_assign
from points.models import TransferKind
from tasks.services import progress_record

logger = logging.getLogger(__name__)

MAX_REQUEST_KEY = 120
VOUCHER_ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"  # no 0/O, 1/I: read aloud over the phone


def local_date(campaign: Campaign, now: datetime) -> Any:
    return now.astimezone(zoneinfo.ZoneInfo(campaign.timezone)).date()


# --- Wheels and prizes ---------------------------------------------------------------------------------


def wheel_validate(wheel: Wheel) -> None:
    errors: dict[str, list[str]] = {}
    if wheel.daily_cap is not None and wheel.daily_cap <= 0:
        errors["daily_cap"] = [_("Leave blank for no limit, or allow at least one spin.")]
    if wheel.total_cap is not None and wheel.total_cap <= 0:
        errors["total_cap"] = [_("Leave blank for no limit, or allow at least one spin.")]
    if wheel.cost_points == 0 and wheel.daily_cap is None and wheel.total_cap is None:
        errors["cost_points"] = [_("A wheel that costs nothing needs a daily or total spin limit.")]
    if not wheel.claim_days or wheel.claim_days <= 0:
        errors["claim_days"] = [_("Give members at least one day to claim a prize.")]
    if errors:
        raise ValidationError(errors)


def wheel_save(
    *, wheel: Wheel, none_name: str = "谢谢参与", none_name_en: str = "Thanks for playing", none_weight: int = 100
) -> Wheel:
    """Create or update a wheel. A new wheel gets its secret seed (and published commitment) and its
    "thanks for playing" slot; the seed never changes afterwards."""
    wheel_validate(wheel)
    with transaction.atomic():
        if wheel.pk is None:
            wheel.server_seed = fairness.seed_new()
            wheel.seed_commitment = fairness.commitment(wheel.server_seed)
            wheel.save()
            Prize.objects.create(
                wheel=wheel, kind=PrizeKind.NONE, name=none_name, name_en=none_name_en, weight=max(none_weight, 1)
            )
        else:
            wheel.save(update_fields=["name", "name_en", "cost_points", "free_spins_per_day", "daily_cap",
                                      "total_cap", "claim_days"])  # fmt: skip
    return wheel


PRIZE_FIELDS = (
    "kind",
    "name",
    "name_en",
    "image",
    "weight",
    "per_member_cap",
    "unit_value_cny",
    "points_amount",
    "multiplier_percent",
    "multiplier_hours",
    "code_pool",
    "sort_order",
)


def prize_validate(prize: Prize) -> None:
    """Field errors for a prize an operator configures (the database refuses the same things)."""
    errors: dict[str, list[str]] = {}

    def add(field: str, message: str) -> None:
        errors.setdefault(field, []).append(message)

    if not prize.weight or prize.weight <= 0:
        add("weight", _("The weight must be at least 1."))
    value = prize.unit_value_cny if prize.unit_value_cny is not None else Decimal(0)
    if value < 0:
        add("unit_value_cny", _("The value cannot be negative."))
    if value > MAX_PRIZE_VALUE_CNY:
        add("unit_value_cny", _("A lottery prize may not be worth more than 50,000 RMB (Anti-Unfair Competition Law)."))
    if prize.kind == PrizeKind.NONE:
        if prize.per_member_cap is not None:
            add("per_member_cap", _("“Thanks for playing” cannot have a per-member limit."))
    elif prize.stock_total is None:
        add("stock_total", _("Only “thanks for playing” may have unlimited stock."))
    if prize.kind == PrizeKind.POINTS and not prize.points_amount:
        add("points_amount", _("Say how many points this prize gives."))
    if prize.kind == PrizeKind.MULTIPLIER_CARD:
        if not prize.multiplier_percent or prize.multiplier_percent <= 100:
            add("multiplier_percent", _("A multiplier must be more than 100% (200% doubles points)."))
        if not prize.multiplier_hours:
            add("multiplier_hours", _("Say for how many hours the card is active."))
    if prize.kind == PrizeKind.COUPON and prize.code_pool_id is None:
        add("code_pool", _("Coupons need a code pool to take codes from."))
    if prize.per_member_cap is not None and prize.per_member_cap <= 0:
        add("per_member_cap", _("Leave blank for no limit, or allow at least one win."))
    if errors:
        raise ValidationError(errors)


def _worsens(old: Prize, new: Prize, new_total: int | None) -> list[str]:
    """Why an edit of a live wheel's prize is worse for members (empty when it is not)."""
    reasons = []
    if old.kind != new.kind:
        reasons.append(_("the kind of a prize cannot change"))
    if old.kind == PrizeKind.NONE:
        if new.weight > old.weight:
            reasons.append(_("the chance of “thanks for playing” cannot grow"))
        return reasons
    if new.weight < old.weight:
        reasons.append(_("a prize's weight cannot go down"))
    if new_total is not None and old.stock_total is not None and new_total < old.stock_total:
        reasons.append(_("stock cannot be taken away"))
    if (new.unit_value_cny or 0) < (old.unit_value_cny or 0):
        reasons.append(_("a prize's value cannot go down"))
    if (new.points_amount or 0) < (old.points_amount or 0):
        reasons.append(_("a prize cannot give fewer points"))
    if (new.multiplier_percent or 0) < (old.multiplier_percent or 0) or (new.multiplier_hours or 0) < (
        old.multiplier_hours or 0
    ):
        reasons.append(_("a multiplier card cannot get weaker or shorter"))
    if (old.per_member_cap is None and new.per_member_cap is not None) or (
        old.per_member_cap is not None and new.per_member_cap is not None and new.per_member_cap < old.per_member_cap
    ):
        reasons.append(_("a per-member limit cannot get stricter"))
    return reasons


def prize_check(*, prize: Prize, data: dict[str, Any], now: datetime | None = None) -> None:
    """Raise what prize_save would raise for these changes (ValidationError with field errors, or
    OddsChangeRefused with details["reasons"]) without saving anything and without touching `prize`. Forms
    call it to show errors before anything is written."""
    _prize_checked(prize=copy.copy(prize), data=data, now=now or timezone.now())


def _prize_checked(*, prize: Prize, data: dict[str, Any], now: datetime) -> Prize | None:
    """Apply `data` to `prize` and run every check of prize_save; returns the stored prize (None if new)."""
    old = Prize.objects.filter(pk=prize.pk).first() if prize.pk else None
    for field in PRIZE_FIELDS:
        if field in data:
            setattr(prize, field, data[field])
    if "stock_total" in data:
        prize.stock_total = data["stock_total"]
    if prize.kind == PrizeKind.NONE:
        prize.stock_total = None
    if old is None:
        prize.stock_remaining = prize.stock_total
    prize_validate(prize)
    if old is None and prize.kind == PrizeKind.NONE:
        raise ValidationError({"kind": [_("A wheel has exactly one “thanks for playing” slot; edit that one.")]})
    if old is not None:
        sold = (old.stock_total or 0) - (old.stock_remaining or 0)
        if prize.stock_total is not None and prize.stock_total < sold:
            raise ValidationError(
                {"stock_total": [_("%(n)d units are already won; the total cannot be lower.") % {"n": sold}]}
            )
    if old is not None and wheel_is_live(wheel=prize.wheel, now=now):
        reasons = _worsens(old, prize, prize.stock_total)
        if reasons:
            raise OddsChangeRefused(details={"reasons": reasons})
    return old


def prize_save(*, prize: Prize, data: dict[str, Any], now: datetime | None = None) -> Prize:
    """Create or edit a prize (`data` may hold any configurable field and `stock_total`). Stock changes by the
    difference to the stored total in one conditional UPDATE, so units draws take at the same moment are
    never lost. On a live wheel (members can see its odds) an edit that makes a prize less likely or less
    valuable is refused: operators may add prizes, add stock, raise a prize's weight or lower the weight of
    "thanks for playing". Every change is audited (django-auditlog)."""
    now = now or timezone.now()
    old = _prize_checked(prize=prize, data=data, now=now)
    with transaction.atomic():
        if old is None:
            prize.save()
        else:
            prize.save(update_fields=[f for f in PRIZE_FIELDS if f != "kind"])
            delta = (prize.stock_total or 0) - (old.stock_total or 0)
            if delta:
                updated = Prize.objects.filter(pk=prize.pk, stock_remaining__gte=-delta).update(
                    stock_total=F("stock_total") + delta, stock_remaining=F("stock_remaining") + delta
                )
                if not updated:
                    raise ValidationError({"stock_total": [_("Too many units are already won for this total.")]})
                # The conditional UPDATE is no model save, so auditlog would not see it: log it by hand.
                LogEntry.objects.log_create(
                    prize,
                    action=LogEntry.Action.UPDATE,
                    changes={"stock_total": [str(old.stock_total), str(prize.stock_total)]},
                )
        if old is None or (old.weight, old.stock_total) != (prize.weight, prize.stock_total):
            Wheel.objects.filter(pk=prize.wheel_id).update(odds_version=F("odds_version") + 1)
    prize.refresh_from_db()
    return prize


def prize_delete(*, prize: Prize, now: datetime | None = None) -> None:
    """Remove a prize that was never won, from a wheel members cannot see yet."""
    now = now or timezone.now()
    if prize.kind == PrizeKind.NONE:
        raise ValidationError(_("A wheel always keeps its “thanks for playing” slot."))
    if wheel_is_live(wheel=prize.wheel, now=now):
        raise OddsChangeRefused(details={"reasons": [_("prizes cannot be removed from a live wheel")]})
    if Draw.objects.filter(prize=prize).exists():
        raise ValidationError(_("This prize has been won; it cannot be removed."))
    with transaction.atomic():
        prize.delete()
        Wheel.objects.filter(pk=prize.wheel_id).update(odds_version=F("odds_version") + 1)


# --- Spins ---------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class SpinResult:
    draw: Draw
    replayed: bool


_PLAYER_UPDATE = """
    UPDATE lottery_wheelplayer
       SET spins_total = spins_total + 1,
           spins_today = CASE WHEN day = %(today)s THEN spins_today + 1 ELSE 1 END,
           day = %(today)s
     WHERE wheel_id = %(wheel)s AND user_id = %(user)s
       AND (%(total_cap)s::integer IS NULL OR spins_total < %(total_cap)s::integer)
       AND (%(daily_cap)s::integer IS NULL OR day IS DISTINCT FROM %(today)s OR spins_today < %(daily_cap)s::integer)
    RETURNING spins_total, spins_today"""


def _player_count_spin(*, wheel: Wheel, user_id: int, today: Any) -> tuple[int, int]:
    """Count one spin on the member's counter row (created on first use) or raise SpinLimitReached. The
    conditional UPDATE is the cap check and takes the member's row lock, so one member's spins serialise
    here and nowhere else."""
    params = {
        "wheel": wheel.pk,
        "user": user_id,
        "today": today,
        "daily_cap": wheel.daily_cap,
        "total_cap": wheel.total_cap,
    }
    with connection.cursor() as cursor:
        cursor.execute(_PLAYER_UPDATE, params)
        row = cursor.fetchone()
        if row is None:
            cursor.execute(
                "INSERT INTO lottery_wheelplayer (wheel_id, user_id, spins_total, spins_today, day) "
                "VALUES (%s, %s, 0, 0, NULL) ON CONFLICT DO NOTHING",
                [wheel.pk, user_id],
            )
            cursor.execute(_PLAYER_UPDATE, params)
            row = cursor.fetchone()
    if row is None:
        raise SpinLimitReached(details={"daily_cap": wheel.daily_cap, "total_cap": wheel.total_cap})
    return int(row[0]), int(row[1])


def _eligible(prizes: list[Prize], won: dict[int, int]) -> list[Prize]:
    return [
        p
        for p in prizes
        if (p.stock_remaining is None or p.stock_remaining > 0)
        and (p.per_member_cap is None or won.get(p.pk, 0) < p.per_member_cap)
    ]


def _take_unit(*, prize: Prize, user_id: int, key: str, now: datetime) -> tuple[bool, str]:
    """Take one unit of a drawn prize: the guarded stock decrement (never below zero) and, for coupons, a code
    from the pool. (False, "") when another spin took the last unit first (or the pool ran dry)."""
    if prize.stock_remaining is None:
        return True, ""
    taken = Prize.objects.filter(pk=prize.pk, stock_remaining__gt=0).update(stock_remaining=F("stock_remaining") - 1)
    if not taken:
        return False, ""
    if prize.kind == PrizeKind.COUPON and prize.code_pool_id is not None:
        code = code_assign(pool_id=prize.code_pool_id, user_id=user_id, key=key, now=now)
        if code is None:
            Prize.objects.filter(pk=prize.pk).update(stock_remaining=F("stock_remaining") + 1)
            logger.error("Code pool %s of prize %s is empty while the prize has stock", prize.code_pool_id, prize.pk)
            return False, ""
        return True, code.code
    if prize.kind == PrizeKind.MEMBERSHIP_VOUCHER:
        return True, "MV-" + "".join(secrets.choice(VOUCHER_ALPHABET) for _ in range(12))
    return True, ""


def _prize_grant(*, draw: Draw, prize: Prize, campaign: Campaign, wheel: Wheel, now: datetime) -> None:
    """Hand over what the draw won: points and multiplier cards at once, physical goods into fulfilment."""
    if prize.kind == PrizeKind.POINTS and prize.points_amount:
        posted = campaign_points_grant(
            campaign=campaign,
            user_id=draw.user_id,
            amount=prize.points_amount,
            kind=TransferKind.PRIZE,
            key=f"prize:{wheel.pk}:{draw.user_id}:{draw.spin_number}",
            now=now,
            source=draw,
            reason=prize.name[:100],
        )
        draw.prize_transfer_id = posted.transfer_id
        Draw.objects.filter(pk=draw.pk).update(prize_transfer_id=posted.transfer_id)
    elif prize.kind == PrizeKind.MULTIPLIER_CARD and prize.multiplier_percent and prize.multiplier_hours:
        multiplier_card_issue(
            campaign=campaign,
            user_id=draw.user_id,
            percent=prize.multiplier_percent,
            hours=prize.multiplier_hours,
            source_key=f"draw:{draw.pk}",
            now=now,
        )
    elif prize.kind == PrizeKind.PHYSICAL:
        Fulfilment.objects.create(
            draw=draw,
            user_id=draw.user_id,
            prize=prize,
            claim_deadline=now + timedelta(days=wheel.claim_days),
            created_at=now,
        )


def spin_request_key(raw: str | None) -> str:
    """The caller's retry key (Idempotency-Key header or the page's one-time token), or a fresh one."""
    if raw is None or raw == "":
        return secrets.token_hex(16)
    if len(raw) > MAX_REQUEST_KEY or not raw.isprintable():
        raise InvalidSpinKey()
    return raw


def _draw_of_request(*, wheel: Wheel, user_id: int, key: str) -> Draw | None:
    """The draw an earlier request with this key made, if any. Every spin asks, and almost always the answer is
    no: a bare index look-up answers that (an ORM query with its join costs a spin ~1.5 ms of CPU); the draw is
    loaded only when there is one."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT id FROM lottery_draw WHERE wheel_id = %s AND user_id = %s AND request_key = %s",
            [wheel.pk, user_id, key],
        )
        row = cursor.fetchone()
    return None if row is None else Draw.objects.select_related("prize").get(pk=row[0])


def spin_perform(
    *, wheel: Wheel, user_id: int, request_key: str | None = None, now: datetime | None = None
) -> SpinResult:
    """One spin, one transaction: count it against the caps, debit the cost, draw fairly among the prizes in
    stock, take the unit with a guarded update, record the draw and hand over the prize.

    Retrying with the same `request_key` returns the first draw and debits nothing more (the draw is UNIQUE
    per wheel, member and key; the ledger key of the cost is derived from it too). Errors: `campaign_not_active`
    outside the official phase, `spin_limit_reached`, `insufficient_points`; each leaves nothing behind."""
    now = now or timezone.now()
    key = spin_request_key(request_key)
    previous = _draw_of_request(wheel=wheel, user_id=user_id, key=key)
    if previous is not None:
        return SpinResult(previous, replayed=True)
    campaign = wheel.campaign
    campaign_require_official(campaign=campaign, now=now)
    today = local_date(campaign, now)
    try:
        with transaction.atomic():
            spin_number, spins_today = _player_count_spin(wheel=wheel, user_id=user_id, today=today)
            cost = 0 if spins_today <= wheel.free_spins_per_day else wheel.cost_points
            spend_id = None
            if cost:
                spend_id = campaign_points_charge(
                    campaign=campaign,
                    user_id=user_id,
                    amount=cost,
                    kind=TransferKind.SPIN,
                    key=f"spin:{wheel.pk}:{user_id}:{key}",
                    now=now,
                    reason=wheel.name[:100],
                ).transfer_id
            # Task progress first: the prize's stock row, once taken below, stays locked until commit, so the
            # work after it is kept short.
            progress_record(
                campaign=campaign,
                user_id=user_id,
                event_type="spin",
                amount=Decimal(cost),
                occurred_at=now,
                source_key=f"spin:{wheel.pk}:{user_id}:{spin_number}",
                now=now,
            )
            draw = _draw_and_record(
                wheel=wheel, user_id=user_id, spin_number=spin_number, key=key, cost=cost, spend_id=spend_id,
                today=today, now=now,
            )  # fmt: skip
            _prize_grant(draw=draw, prize=draw.prize, campaign=campaign, wheel=wheel, now=now)
    except IntegrityError:
        # The same key raced itself: the first spin won the UNIQUE (wheel, user, request_key); everything this
        # one did (its count, cost, stock) rolled back.
        previous = _draw_of_request(wheel=wheel, user_id=user_id, key=key)
        if previous is None:
            raise
        return SpinResult(previous, replayed=True)
    return SpinResult(draw, replayed=False)


def _draw_and_record(
    *,
    wheel: Wheel,
    user_id: int,
    spin_number: int,
    key: str,
    cost: int,
    spend_id: int | None,
    today: Any,
    now: datetime,
) -> Draw:
    prizes = _prizes_of_wheel(wheel.pk)
    won: dict[int, int] = {}
    if any(p.per_member_cap is not None for p in prizes):  # the member's row is locked: these counts hold
        won = dict(
            Draw.objects.filter(wheel=wheel, user_id=user_id, prize__per_member_cap__isnull=False)
            .values_list("prize_id")
            .annotate(n=Count("id"))
        )
    candidates = _eligible(prizes, won)
    by_id = {p.pk: p for p in candidates}
    while True:
        table = [[p.pk, p.weight] for p in candidates]
        prize_id, value = fairness.draw(wheel.server_seed, user_id, spin_number, table)
        prize = by_id[prize_id]
        ok, code = _take_unit(prize=prize, user_id=user_id, key=f"draw:{wheel.pk}:{user_id}:{spin_number}", now=now)
        if ok:
            break
        candidates = [p for p in candidates if p.pk != prize_id]  # sold out under us: renormalise and redraw
    draw = Draw(
        wheel=wheel,
        user_id=user_id,
        spin_number=spin_number,
        request_key=key,
        prize=prize,
        roll=value,
        table=table,
        odds_hash=fairness.table_hash(table),
        odds_version=wheel.odds_version,
        cost_points=cost,
        spend_transfer_id=spend_id,
        code=code,
        local_date=today,
        created_at=now,
    )
    with connection.cursor() as cursor:  # one plain INSERT: the ORM's save machinery costs a spin ~1 ms of CPU
        cursor.execute(
            "INSERT INTO lottery_draw (wheel_id, user_id, spin_number, request_key, prize_id, roll, \"table\", "
            "odds_hash, odds_version, cost_points, spend_transfer_id, prize_transfer_id, code, local_date, created_at) "
            "VALUES (%s, %s, %s, %s, %s, %s, %s::jsonb, %s, %s, %s, %s, NULL, %s, %s, %s) RETURNING id",
            [wheel.pk, user_id, spin_number, key, prize.pk, value, json.dumps(table), draw.odds_hash,
             wheel.odds_version, cost, spend_id, code, today, now],
        )  # fmt: skip
        draw.pk = cursor.fetchone()[0]
    draw._state.adding = False
    return draw


_PRIZE_COLUMNS = [f.attname for f in Prize._meta.concrete_fields]
_PRIZES_SQL = f"SELECT {', '.join(_PRIZE_COLUMNS)} FROM lottery_prize WHERE wheel_id = %s ORDER BY sort_order, id"  # noqa: S608


def _prizes_of_wheel(wheel_id: int) -> list[Prize]:
    """The wheel's prizes in wheel order, read with one plain query (every spin needs them, with fresh stock)."""
    with connection.cursor() as cursor:
        cursor.execute(_PRIZES_SQL, [wheel_id])
        rows = cursor.fetchall()
    return [Prize.from_db("default", _PRIZE_COLUMNS, row) for row in rows]


# --- Fulfilment ---------------------------------------------------------------------------------------

_ADDRESS_FIELDS = ("recipient", "phone", "province", "city", "district", "detail", "postal_code")
_OPEN_FOR_ADDRESS = (FulfilmentStatus.AWAITING_ADDRESS, FulfilmentStatus.READY)


def _fulfilment_of(*, user_id: int, draw_id: int) -> Fulfilment:
    if not 0 < draw_id < 2**63:
        raise PrizeNotFound()
    found = Fulfilment.objects.select_for_update().filter(draw_id=draw_id, user_id=user_id).first()
    if found is None:
        raise PrizeNotFound()
    return found


def fulfilment_address_set(
    *,
    user: User,
    draw_id: int,
    address_id: int | None = None,
    data: dict[str, Any] | None = None,
    now: datetime | None = None,
) -> Fulfilment:
    """The winner of a physical prize picks one of their addresses (`address_id`) or enters a new one (`data`,
    validated like the address book and saved there). The address is copied onto the shipment. Possible
    until the prize ships; not for someone else's prize (404) or an expired one."""
    now = now or timezone.now()
    with transaction.atomic():
        fulfilment = _fulfilment_of(user_id=user.pk, draw_id=draw_id)
        if fulfilment.status not in _OPEN_FOR_ADDRESS:
            raise AddressClosed(details={"status": fulfilment.status})
        if fulfilment.status == FulfilmentStatus.AWAITING_ADDRESS and fulfilment.claim_deadline <= now:
            raise AddressClosed(details={"status": "expired"})
        if address_id is not None:
            address = Address.objects.filter(pk=address_id, user=user).first() if 0 < address_id < 2**63 else None
            if address is None:
                raise ValidationError({"address_id": [_("Choose one of your addresses.")]})
        else:
            address = address_save(user=user, data=data or {})
        for field in _ADDRESS_FIELDS:
            setattr(fulfilment, field, getattr(address, field))
        fulfilment.status, fulfilment.address_at = FulfilmentStatus.READY, now
        fulfilment.save(update_fields=[*_ADDRESS_FIELDS, "status", "address_at"])
    return fulfilment


_TRANSITIONS: dict[str, tuple[tuple[str, ...], str]] = {
    # to status: (allowed from, timestamp field)
    FulfilmentStatus.SHIPPED: ((FulfilmentStatus.READY, FulfilmentStatus.SHIPPED), "shipped_at"),
    FulfilmentStatus.DELIVERED: ((FulfilmentStatus.SHIPPED,), "delivered_at"),
    FulfilmentStatus.RETURNED: ((FulfilmentStatus.SHIPPED, FulfilmentStatus.DELIVERED), "returned_at"),
}


def fulfilment_transition(
    *, fulfilment_id: int, to: str, carrier: str = "", tracking_number: str = "", now: datetime | None = None
) -> Fulfilment:
    """Move a shipment on: ready → shipped (carrier + tracking number; shipping again corrects them) →
    delivered, or shipped/delivered → returned. A conditional UPDATE on the current status decides races."""
    now = now or timezone.now()
    allowed, stamp = _TRANSITIONS[to]
    changes: dict[str, Any] = {"status": to, stamp: now}
    if to == FulfilmentStatus.SHIPPED:
        carrier, tracking_number = (carrier or "").strip(), (tracking_number or "").strip()
        errors = {}
        if not carrier or len(carrier) > 40:
            errors["carrier"] = [_("Give the carrier (at most 40 characters).")]
        if not tracking_number or len(tracking_number) > 40 or not tracking_number.isprintable():
            errors["tracking_number"] = [_("Give the tracking number (at most 40 characters).")]
        if errors:
            raise ValidationError(errors)
        changes.update(carrier=carrier, tracking_number=tracking_number)
    updated = Fulfilment.objects.filter(pk=fulfilment_id, status__in=allowed).update(**changes)
    if not updated:
        current = Fulfilment.objects.filter(pk=fulfilment_id).values_list("status", flat=True).first()
        if current is None:
            raise PrizeNotFound()
        raise ShipmentStateInvalid(details={"status": current, "to": to})
    return Fulfilment.objects.get(pk=fulfilment_id)


@dataclass(frozen=True)
class ShipmentImport:
    shipped: int
    errors: list[str]


SHIPMENT_COLUMNS = ("shipment_id", "carrier", "tracking_number")


def fulfilments_ship_csv(*, text: str, now: datetime | None = None) -> ShipmentImport:
    """Bulk "shipped" from the logistics company's CSV (columns shipment_id, carrier, tracking_number; the
    export's other columns are ignored). All or nothing: any bad row and no shipment changes."""
    now = now or timezone.now()
    reader = csv.DictReader(io.StringIO((text or "").lstrip("\ufeff")))
    missing = [c for c in SHIPMENT_COLUMNS if c not in (reader.fieldnames or [])]
    if missing:
        return ShipmentImport(0, [_("Missing columns: %(cols)s") % {"cols": ", ".join(missing)}])
    rows = list(reader)
    errors: list[str] = []
    seen: set[int] = set()
    planned: list[tuple[int, str, str]] = []
    for line, row in enumerate(rows, start=2):
        raw_id = (row.get("shipment_id") or "").strip()
        if not raw_id.isdigit() or not 0 < int(raw_id) < 2**63:
            errors.append(_("Line %(line)d: “%(id)s” is not a shipment id.") % {"line": line, "id": raw_id[:20]})
            continue
        if int(raw_id) in seen:
            errors.append(_("Line %(line)d: shipment %(id)s appears twice.") % {"line": line, "id": raw_id})
            continue
        seen.add(int(raw_id))
        planned.append((int(raw_id), row.get("carrier") or "", row.get("tracking_number") or ""))
    if not planned and not errors:
        errors.append(_("The file has no shipments."))
    if errors:
        return ShipmentImport(0, errors)
    try:
        with transaction.atomic():
            for line, (shipment_id, carrier, tracking) in enumerate(planned, start=2):
                try:
                    fulfilment_transition(
                        fulfilment_id=shipment_id,
                        to=FulfilmentStatus.SHIPPED,
                        carrier=carrier,
                        tracking_number=tracking,
                        now=now,
                    )
                except (ValidationError, PrizeNotFound, ShipmentStateInvalid) as exc:
                    message = "; ".join(exc.messages) if isinstance(exc, ValidationError) else str(exc.message)
                    errors.append(
                        _("Line %(line)d (shipment %(id)d): %(problem)s")
                        % {"line": line, "id": shipment_id, "problem": message}
                    )
            if errors:
                raise _RollBack()
    except _RollBack:
        return ShipmentImport(0, errors)
    return ShipmentImport(len(planned), [])


class _RollBack(Exception):
    pass


def fulfilments_expire(*, now: datetime | None = None) -> int:
    """Physical prizes still without an address after their claim deadline expire; their unit goes back into
    the prize's stock. Safe to run twice or concurrently (conditional update per shipment)."""
    now = now or timezone.now()
    expired = 0
    due = Fulfilment.objects.filter(status=FulfilmentStatus.AWAITING_ADDRESS, claim_deadline__lte=now)
    for fulfilment_id, prize_id in due.values_list("id", "prize_id")[:1000]:
        with transaction.atomic():
            done = Fulfilment.objects.filter(
                pk=fulfilment_id, status=FulfilmentStatus.AWAITING_ADDRESS, claim_deadline__lte=now
            ).update(status=FulfilmentStatus.EXPIRED, expired_at=now)
            if done:
                Prize.objects.filter(pk=prize_id, stock_remaining__lt=F("stock_total")).update(
                    stock_remaining=F("stock_remaining") + 1
                )
                expired += 1
    return expired
