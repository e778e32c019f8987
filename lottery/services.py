"""Every write of the prize wheel: wheels and prizes (with the "only in members' favour once live" rule),
spins, and the winner's side of shipping physical prizes (the shipments themselves are shipments.services').
Points move only through campaigns.services."""

from __future__ import annotations

import copy
import json
import logging
import secrets
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from typing import Any, NamedTuple

import psycopg
from auditlog.models import LogEntry
from django.contrib.contenttypes.models import ContentType
from django.core.exceptions import ValidationError
from django.db import IntegrityError, connection, transaction
from django.db.models import F
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.errors import AddressNotFound
from accounts.models import User
from accounts.selectors import address_of
from accounts.services import address_save
from campaigns.earning import member_earned
from campaigns.errors import CampaignNotActive
from campaigns.models import Campaign
from campaigns.selectors import campaign_require_official
from config.codes import random_code
from config.sql_call import prepared_call
from lottery import fairness, selectors
from lottery.errors import (
    AddressClosed,
    InvalidSpinKey,
    OddsChangeRefused,
    PrizeAlreadyWon,
    PrizeKeepsBlankSlot,
    PrizeNotFound,
    SpinLimitReached,
    WheelNotFound,
)
from lottery.models import (
    MAX_PRIZE_VALUE_CNY,
    PRIZE_SHIPMENT,
    Draw,
    Prize,
    PrizeKind,
    Wheel,
)
from lottery.selectors import MemberStatus, SpinStatus, wheel_is_live
from points.errors import IdempotencyConflict, InsufficientPoints
from shipments.models import Shipment
from shipments.rules import ShipmentStatus
from shipments.selectors import shipment_address_open
from shipments.services import shipment_address_set
from tasks.engine import progress_record

logger = logging.getLogger(__name__)

MAX_REQUEST_KEY = 120


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
    "supplier",  # who provides it (supplier settlement); never what members see or win
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


def _prize_checked(*, prize: Prize, data: dict[str, Any], now: datetime, lock: bool = False) -> Prize | None:
    """Apply `data` to `prize` and run every check of prize_save; returns the stored prize (None if new). With
    `lock`, the stored row is locked (FOR UPDATE) until the caller's transaction ends."""
    stored = Prize.objects.select_for_update() if lock else Prize.objects.all()
    old = stored.filter(pk=prize.pk).first() if prize.pk else None
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
    with transaction.atomic():
        # Checked against the locked row: two operators saving the same prize at once apply one after the
        # other, each total compared with the one before it (no lost top-up, no sneaked-in reduction).
        old = _prize_checked(prize=prize, data=data, now=now, lock=True)
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
    """Remove a prize that was never won, from a wheel members cannot see yet. Refusals: PrizeKeepsBlankSlot,
    OddsChangeRefused (live wheel), PrizeAlreadyWon."""
    now = now or timezone.now()
    if prize.kind == PrizeKind.NONE:
        raise PrizeKeepsBlankSlot()
    if wheel_is_live(wheel=prize.wheel, now=now):
        raise OddsChangeRefused(details={"reasons": [_("prizes cannot be removed from a live wheel")]})
    if Draw.objects.filter(prize=prize).exists():
        raise PrizeAlreadyWon()
    with transaction.atomic():
        prize.delete()
        Wheel.objects.filter(pk=prize.wheel_id).update(odds_version=F("odds_version") + 1)


# --- Spins ---------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class SpinResult:
    draw: Draw
    replayed: bool
    member: MemberStatus  # the member's status for the next spin and spendable points, after this one


def spin_request_key(raw: str | None) -> str:
    """The caller's retry key (Idempotency-Key header or the page's one-time token), or a fresh one."""
    if raw is None or raw == "":
        return secrets.token_hex(16)
    if len(raw) > MAX_REQUEST_KEY or not raw.isprintable():
        raise InvalidSpinKey()
    return raw


def _draw_of_request(*, wheel: Wheel, user_id: int, key: str) -> Draw | None:
    return Draw.objects.select_related("prize").filter(wheel=wheel, user_id=user_id, request_key=key).first()


class _SpinRow(NamedTuple):
    """A row of lottery_spin() (lottery/sql/lottery_spin.sql), its columns in order."""

    status: str
    draw: int | None
    spin: int | None
    prize: int | None
    roll: int | None
    cost: int | None
    code: str | None
    spend: int | None
    prize_transfer: int | None
    odds_hash: str | None
    table: str | None
    reference: str | None
    player: str | None
    odds_version: int | None
    local_date: date | None
    created_at: datetime | None
    tasks: bool
    daily_cap: int | None
    total_cap: int | None
    spins_today: int | None
    spins_total: int | None
    free_left: int | None
    left_today: int | None
    left_total: int | None
    next_cost: int | None
    can_spin: bool | None
    spendable: int | None


_SPIN_SQL = (
    "SELECT * FROM lottery_spin(%s::bigint, %s::bigint, %s::text, %s::timestamptz, %s::bytea, %s::bytea, %s::text, "
    "%s::integer, %s::boolean)"
)
_PADS = slice(4, 6)  # the HMAC pads among the parameters: secret, never logged


def _spin_call(params: list[Any]) -> _SpinRow:
    """One call of lottery_spin() (config.sql_call.prepared_call: a server-side prepared statement; outside a
    transaction it is a transaction of its own), its secret pads masked in the query log. Its refusals become
    domain errors."""
    logged = list(params)
    logged[_PADS] = ["<secret>", "<secret>"]
    try:
        rows = prepared_call(_SPIN_SQL, params, logged=logged)
    except psycopg.Error as exc:
        diag = getattr(exc, "diag", None)
        if exc.sqlstate == "LS001":
            available = int(getattr(diag, "message_detail", None) or 0)
            requested = int(getattr(diag, "message_hint", None) or 0)
            raise InsufficientPoints(details={"available": available, "requested": requested}) from exc
        if exc.sqlstate == "LS002":
            raise IdempotencyConflict(details={"status": getattr(diag, "message_detail", None)}) from exc
        if exc.sqlstate == "LS004":
            raise WheelNotFound() from exc
        if exc.sqlstate == "23505" and getattr(diag, "constraint_name", "") == "draw_request_once":
            raise IntegrityError(str(exc)) from exc
        raise
    return _SpinRow(*rows[0])


def _spin_progress(row: _SpinRow, *, wheel: Wheel, user_id: int, now: datetime) -> bool:
    """Count a new spin towards the campaign's spin tasks (called inside the spin's transaction, only when
    lottery_spin said tasks count spins). True when progress was recorded (a task's reward may have moved the
    member's balance)."""
    if row.status != "ok" or not row.tasks:
        return False
    progress_record(
        campaign=wheel.campaign,
        user_id=user_id,
        event_type="spin",
        amount=Decimal(row.cost or 0),
        occurred_at=now,
        source_key=f"draw:{row.draw}",
        now=now,
    )
    return True


def _not_active(*, campaign_id: int, now: datetime) -> CampaignNotActive:
    """The refusal of a spin lottery_spin() found outside the official phase, with the phase, from the stored
    campaign (not a cached copy)."""
    campaign = Campaign.objects.get(pk=campaign_id)
    try:
        campaign_require_official(campaign=campaign, now=now)
    except CampaignNotActive as exc:
        return exc
    return CampaignNotActive(details={"phase": str(campaign.phase_at(now))})  # within the dates but unpublished


def spin_perform(
    *, wheel: Wheel, user_id: int, request_key: str | None = None, now: datetime | None = None
) -> SpinResult:
    """One spin, one transaction — one SQL call, lottery_spin() (lottery/sql/lottery_spin.sql): check the
    campaign's official phase, count the spin against the caps (lottery_spin_allowance() on the member's locked
    counter row, which also numbers the spin), charge the cost through the campaigns' value gate (campaign_charge),
    draw fairly among the prizes in stock (lottery/fairness.py), take the unit with a guarded update (a slot sold
    out under us drops out and the draw is recomputed), record the draw and hand over points (campaign_grant), a
    multiplier card (campaign_multiplier_issue), a coupon or voucher code, or a shipment for goods; and answer with
    the member's status for the next spin and spendable balance. If the campaign has tasks counting spins, their
    progress is recorded in the same transaction.

    `wheel` may come from the configuration cache: only its id, its seed (which never changes) and, for spin tasks,
    its campaign are used; everything the spin enforces is read from the rows by lottery_spin().

    Retrying with the same `request_key` returns the first draw and debits nothing more, even after the official
    phase (the draw is UNIQUE per wheel, member and key; the cost's ledger key is derived from it too). Errors:
    `campaign_not_active` outside the official phase, `spin_limit_reached`, `insufficient_points`; each leaves
    nothing behind."""
    now = now or timezone.now()
    key = spin_request_key(request_key)
    ipad, opad = fairness.hmac_pads(wheel.server_seed)
    voucher = "MV-" + random_code(12)  # used only if a membership voucher is drawn
    params = [wheel.pk, user_id, key, now, ipad, opad, voucher, ContentType.objects.get_for_model(Draw).pk]
    progressed = False
    try:
        if connection.in_atomic_block:  # inside the caller's transaction: a savepoint keeps a refusal clean
            with transaction.atomic():
                row = _spin_call([*params, True])
                progressed = _spin_progress(row, wheel=wheel, user_id=user_id, now=now)
        else:
            row = _spin_call([*params, False])  # alone: one statement, one transaction, one round trip
            if row.status == "tasks":  # tasks count spins: spin and record their progress in one transaction
                with transaction.atomic():
                    row = _spin_call([*params, True])
                    progressed = _spin_progress(row, wheel=wheel, user_id=user_id, now=now)
    except IntegrityError:
        # The same key raced itself: the first spin won the UNIQUE (wheel, user, request_key); everything this
        # one did (its count, cost, stock) rolled back.
        previous = _draw_of_request(wheel=wheel, user_id=user_id, key=key)
        if previous is None:
            raise
        member = selectors.member_status(wheel_id=wheel.pk, user_id=user_id, now=now)
        return SpinResult(previous, replayed=True, member=member)
    if row.status == "closed":
        raise _not_active(campaign_id=wheel.campaign_id, now=now)
    if row.status == "limit":
        raise SpinLimitReached(details={"daily_cap": row.daily_cap, "total_cap": row.total_cap})
    assert row.status in {"ok", "replay"}, row.status
    if row.status == "ok":
        member_earned(user_id=user_id)  # a spin spends (and may win points): the earning hooks, after commit
    if progressed:  # a completed task may have paid points: read the balance again
        member = selectors.member_status(wheel_id=wheel.pk, user_id=user_id, now=now)
    else:
        member = MemberStatus(
            SpinStatus(
                spins_today=row.spins_today or 0,
                spins_total=row.spins_total or 0,
                free_left_today=row.free_left or 0,
                left_today=row.left_today,
                left_total=row.left_total,
                next_cost=row.next_cost or 0,
                can_spin=bool(row.can_spin),
            ),
            spendable=row.spendable or 0,
        )
    fields: dict[str, Any] = {  # the draw as stored (lottery_spin just wrote or found it)
        "pk": row.draw,
        "wheel": wheel,
        "user_id": user_id,
        "spin_number": row.spin,
        "request_key": key,
        "prize_id": row.prize,
        "roll": row.roll,
        "table": json.loads(row.table or "[]"),
        "odds_hash": row.odds_hash,
        "odds_version": row.odds_version,
        "cost_points": row.cost,
        "spend_transfer_id": row.spend,
        "prize_transfer_id": row.prize_transfer,
        "code": row.code,
        "local_date": row.local_date,
        "created_at": row.created_at,
        "reference": row.reference,
        "player_key": row.player,
    }
    draw = Draw(**fields)
    draw._state.adding = False
    return SpinResult(draw, replayed=row.status == "replay", member=member)


# --- Shipping physical prizes -------------------------------------------------------------------------
# A physical prize's shipment (shipments.Shipment, owner PRIZE_SHIPMENT / the draw) is created by lottery_spin().


def _prize_shipment(*, user_id: int, draw_id: int) -> Shipment:
    """The member's prize shipment, locked until the transaction ends; PrizeNotFound for anyone else's."""
    if not 0 < draw_id < 2**63:
        raise PrizeNotFound()
    found = (
        Shipment.objects.select_for_update()
        .filter(owner_kind=PRIZE_SHIPMENT, owner_id=draw_id, member_id=user_id)
        .first()
    )
    if found is None:
        raise PrizeNotFound()
    return found


def prize_address_set(
    *,
    user: User,
    draw_id: int,
    address_id: int | None = None,
    data: dict[str, Any] | None = None,
    now: datetime | None = None,
) -> Shipment:
    """The winner of a physical prize picks one of their addresses (`address_id`) or enters a new one (`data`,
    validated like the address book and saved there). The address is copied onto the shipment. Possible
    until the prize ships (AddressClosed after that or after the claim deadline); not for someone else's prize
    (PrizeNotFound). Another member's `address_id` is a field error of `address_id`."""
    now = now or timezone.now()
    with transaction.atomic():
        shipment = _prize_shipment(user_id=user.pk, draw_id=draw_id)
        if not shipment_address_open(shipment=shipment, now=now):
            late = shipment.status == ShipmentStatus.AWAITING_ADDRESS
            raise AddressClosed(details={"status": "expired" if late else shipment.status})
        if address_id is not None:
            try:
                address = address_of(user=user, address_id=address_id)
            except AddressNotFound as exc:
                raise ValidationError({"address_id": [_("Choose one of your addresses.")]}) from exc
        else:
            address = address_save(user=user, data=data or {})
        return shipment_address_set(shipment_id=shipment.pk, address=address, now=now)


def prize_shipment_expired(shipment: Shipment, now: datetime) -> None:
    """The wheel's reaction to an expired prize shipment (registered in lottery/shipping.py, called by
    shipments.services.shipments_expire inside the transaction that expired it): the unit goes back into the
    prize's stock, exactly once per expired shipment."""
    prize_id = Draw.objects.filter(pk=shipment.owner_id).values_list("prize_id", flat=True).get()
    Prize.objects.filter(pk=prize_id, stock_remaining__lt=F("stock_total")).update(
        stock_remaining=F("stock_remaining") + 1
    )
