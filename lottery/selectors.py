"""Reads of the prize wheel shared by pages, API, admin and jobs."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any

from auditlog.models import LogEntry
from django.contrib.contenttypes.models import ContentType
from django.core.exceptions import FieldDoesNotExist
from django.db import connection
from django.db.models import BooleanField, Field, ForeignKey, Q, QuerySet
from django.template.defaultfilters import yesno
from django.utils import timezone
from django.utils.text import capfirst

from campaigns.models import Campaign, Phase
from campaigns.selectors import campaign_local_date
from lottery import fairness
from lottery.errors import DrawNotFound, WheelNotFound
from lottery.models import PRIZE_SHIPMENT, Draw, Prize, PrizeKind, Wheel, WheelPlayer
from shipments.models import Shipment
from shipments.selectors import shipment_address_open, shipments_of


def wheel_for(*, campaign: Campaign) -> Wheel:
    wheel = Wheel.objects.filter(campaign=campaign).select_related("campaign").first()
    if wheel is None:
        raise WheelNotFound()
    return wheel


def wheel_is_live(*, wheel: Wheel, now: datetime) -> bool:
    """Members can see the wheel's odds: its campaign is published and its warm-up has begun. From then on
    the odds may only change in members' favour."""
    campaign = wheel.campaign
    return campaign.is_published and campaign.warmup_starts_at <= now


@dataclass(frozen=True)
class OddsRow:
    prize: Prize
    probability: Decimal  # 0..1 among the slots still in stock
    in_stock: bool

    @property
    def percent(self) -> str:
        return f"{self.probability * 100:.4f}".rstrip("0").rstrip(".")


def odds_table(*, wheel: Wheel) -> list[OddsRow]:
    """Every prize with its current chance: out-of-stock slots drop out and the others are renormalised."""
    prizes = list(Prize.objects.filter(wheel=wheel).order_by("sort_order", "id"))
    total = sum(p.weight for p in prizes if p.stock_remaining is None or p.stock_remaining > 0)
    rows = []
    for p in prizes:
        in_stock = p.stock_remaining is None or p.stock_remaining > 0
        probability = Decimal(p.weight) / Decimal(total) if in_stock and total else Decimal(0)
        rows.append(OddsRow(p, probability, in_stock))
    return rows


@dataclass(frozen=True)
class SpinStatus:
    spins_today: int
    spins_total: int
    free_left_today: int
    left_today: int | None  # None: no daily cap
    left_total: int | None  # None: no overall cap
    next_cost: int
    can_spin: bool  # under the caps (the wheel must also be open)


_ALLOWANCE_SQL = f"""
SELECT a.spins_today, a.spins_total, a.free_left, a.left_today, a.left_total, a.next_cost, a.allowed
  FROM (SELECT 1) one
  LEFT JOIN {WheelPlayer._meta.db_table} w ON w.wheel_id = %s AND w.user_id = %s
 CROSS JOIN LATERAL lottery_spin_allowance(w.spins_total, w.spins_today, w.day, %s, %s, %s, %s, %s) a
"""  # noqa: S608 (a table name, not input)


def spin_status(*, wheel: Wheel, user_id: int, now: datetime | None = None) -> SpinStatus:
    """The member's spins and what the next one may cost, by lottery_spin_allowance() — the SQL function the spin
    itself decides with (lottery/sql/lottery_spin_allowance.sql), so the page and the spin cannot disagree."""
    now = now or timezone.now()
    today = campaign_local_date(campaign=wheel.campaign, now=now)
    with connection.cursor() as cursor:
        cursor.execute(
            _ALLOWANCE_SQL,
            [wheel.pk, user_id, today, wheel.daily_cap, wheel.total_cap, wheel.free_spins_per_day, wheel.cost_points],
        )
        row = cursor.fetchone()
    return SpinStatus(*row)


def mask_name(user: object) -> str:
    """How a winner appears in public: 张** or 138****0001."""
    name = (getattr(user, "display_name", "") or "").strip()
    if name:
        return name[0] + "**"
    phone = getattr(user, "phone", "") or ""
    digits = phone.removeprefix("+86")
    if len(digits) >= 7:
        return f"{digits[:3]}****{digits[-4:]}"
    return "***"


def recent_winners(*, wheel: Wheel, limit: int = 10) -> list[tuple[str, Prize, datetime]]:
    """The latest real wins (masked names) for the ticker."""
    draws = (
        Draw.objects.filter(wheel=wheel)
        .exclude(prize__kind=PrizeKind.NONE)
        .select_related("user", "prize")
        .order_by("-id")[:limit]
    )
    return [(mask_name(d.user), d.prize, d.created_at) for d in draws]


def prizes_of(*, user_id: int) -> QuerySet[Draw]:
    """Everything a member has won (not "thanks for playing"), newest first (shipments: prize_shipments)."""
    return (
        Draw.objects.filter(user_id=user_id)
        .exclude(prize__kind=PrizeKind.NONE)
        .select_related("prize", "wheel__campaign")
        .order_by("-created_at", "-id")
    )


def prize_shipments(*, draws: Iterable[Draw]) -> dict[int, Shipment]:
    """The shipments of these draws' physical prizes, by draw id (one query)."""
    physical = [draw.pk for draw in draws if draw.prize.kind == PrizeKind.PHYSICAL]
    return shipments_of(owner_kind=PRIZE_SHIPMENT, owner_ids=physical)


def draws_of(*, wheel: Wheel, user_id: int) -> QuerySet[Draw]:
    return Draw.objects.filter(wheel=wheel, user_id=user_id).select_related("prize").order_by("-spin_number")


@dataclass(frozen=True)
class Fairness:
    commitment: str
    seed: str | None  # revealed once the campaign has ended
    revealed: bool
    reveal_at: datetime


def fairness_for(*, wheel: Wheel, now: datetime | None = None) -> Fairness:
    now = now or timezone.now()
    revealed = wheel.campaign.phase_at(now) == Phase.ENDED
    return Fairness(
        commitment=wheel.seed_commitment,
        seed=wheel.server_seed if revealed else None,
        revealed=revealed,
        reveal_at=wheel.campaign.ends_at,
    )


@dataclass(frozen=True)
class DrawCheck:
    draw: Draw
    commitment_ok: bool
    roll_ok: bool
    prize_ok: bool
    hash_ok: bool

    @property
    def ok(self) -> bool:
        return self.commitment_ok and self.roll_ok and self.prize_ok and self.hash_ok


def draw_player(draw: Draw) -> str:
    """The `player` of a draw's HMAC message (lottery/fairness.py): its player key, or for a draw made before
    player keys existed, its member's id. The latter identifies the member: show it to that member only."""
    return draw.player_key or str(draw.user_id)


def draw_verify(*, draw: Draw, seed: str, commitment: str) -> DrawCheck:
    """Recompute a stored draw from a (revealed) seed: the player's n-th HMAC roll over the stored table."""
    commitment_ok, prize_id, roll = fairness.verify(
        seed=seed,
        commitment_hex=commitment,
        player=draw_player(draw),
        spin_number=draw.spin_number,
        table=draw.table,
    )
    return DrawCheck(
        draw=draw,
        commitment_ok=commitment_ok,
        roll_ok=roll == draw.roll,
        prize_ok=prize_id == draw.prize_id,
        hash_ok=fairness.table_hash(draw.table) == draw.odds_hash,
    )


REFERENCE_LENGTH = 32


def reference_clean(raw: str | None) -> str | None:
    """A draw reference as typed or pasted (surrounding spaces, upper case), or None when it cannot be one."""
    value = (raw or "").strip().lower()
    if len(value) == REFERENCE_LENGTH and all(c in "0123456789abcdef" for c in value):
        return value
    return None


def draw_visible(*, wheel: Wheel, reference: str, user_id: int | None, now: datetime | None = None) -> Draw:
    """The draw with this public reference on this wheel, as the viewer may see it: its member at any time, anyone
    else once the seed is revealed (the campaign has ended). Unknown and not-yet-visible draws both raise
    DrawNotFound, so a lookup tells nobody whether someone else's draw exists."""
    value = reference_clean(reference)
    draw = Draw.objects.filter(wheel=wheel, reference=value).select_related("prize").first() if value else None
    if draw is None or (draw.user_id != user_id and not fairness_for(wheel=wheel, now=now).revealed):
        raise DrawNotFound()
    return draw


@dataclass(frozen=True)
class Slot:
    """One prize's stretch of a draw's odds table: the draw's roll landed in it when low <= roll < high."""

    prize_id: int
    name: str
    weight: int
    low: int
    high: int
    hit: bool


@dataclass(frozen=True)
class FairnessReport:
    """What the fairness page and API show. `draw` is laid out on its odds table (`slots`) and verified once the
    seed is revealed (`check`). `mine`: the viewer made the draw; only then may its time and, for a draw made
    before player keys, its member id (`player`) be shown. `player` is None when it may not be shown."""

    fairness: Fairness
    draw: Draw | None
    mine: bool
    player: str | None
    check: DrawCheck | None  # None until the seed is revealed (or without a draw)
    slots: list[Slot]
    my_draws: list[Draw] | None  # None for anonymous visitors
    my_player_key: str | None  # the viewer's player key on this wheel (None before their first spin)


MY_DRAWS_LIMIT = 50


def fairness_report(
    *, wheel: Wheel, reference: str | None = None, user_id: int | None = None, now: datetime | None = None
) -> FairnessReport:
    """The commitment (and the seed once revealed), one draw found by its public reference (draw_visible: raises
    DrawNotFound) laid out on its odds table and verified against the revealed seed, and the member's own latest
    draws with their references. Nothing here names another member."""
    proof = fairness_for(wheel=wheel, now=now)
    draw, check, slots, mine, player = None, None, [], False, None
    if reference is not None:
        draw = draw_visible(wheel=wheel, reference=reference, user_id=user_id, now=now)
        mine = draw.user_id == user_id
        player = draw_player(draw) if mine or draw.player_key else None
        names = {p.pk: p.display_name for p in Prize.objects.filter(wheel=wheel)}
        low = 0
        for prize_id, weight in draw.table:
            high = low + int(weight)
            name = names.get(int(prize_id), "?")
            slots.append(Slot(int(prize_id), name, int(weight), low, high, low <= draw.roll < high))
            low = high
        if proof.seed is not None:
            check = draw_verify(draw=draw, seed=proof.seed, commitment=proof.commitment)
    my_draws, my_key = None, None
    if user_id is not None:
        my_draws = list(draws_of(wheel=wheel, user_id=user_id)[:MY_DRAWS_LIMIT])
        my_key = WheelPlayer.objects.filter(wheel=wheel, user_id=user_id).values_list("player_key", flat=True).first()
    return FairnessReport(proof, draw, mine, player, check, slots, my_draws, my_key)


# --- Audit trail -----------------------------------------------------------------------------------------


def audit_entries(*, wheel: Wheel | None = None, prize: Prize | None = None, limit: int = 50) -> list[LogEntry]:
    """The audited changes (django-auditlog) of a wheel and its prizes (including prizes since removed), or of
    one prize, newest first. The wheel's server seed is never in the log (it is excluded at registration)."""
    wheel_type = ContentType.objects.get_for_model(Wheel)
    prize_type = ContentType.objects.get_for_model(Prize)
    if prize is not None:
        condition = Q(content_type=prize_type, object_id=prize.pk)
    elif wheel is not None:
        prize_ids = list(Prize.objects.filter(wheel=wheel).values_list("pk", flat=True))
        condition = (
            Q(content_type=wheel_type, object_id=wheel.pk)
            | Q(content_type=prize_type, object_id__in=prize_ids)
            | Q(content_type=prize_type, action=LogEntry.Action.DELETE, changes__wheel__0=str(wheel.pk))
        )
    else:
        return []
    return list(
        LogEntry.objects.filter(condition).select_related("actor", "content_type").order_by("-timestamp", "-id")[:limit]
    )


@dataclass(frozen=True)
class FieldChange:
    label: str  # the field's verbose name, translated
    old: str
    new: str


@dataclass(frozen=True)
class AuditRow:
    entry: LogEntry
    changes: list[FieldChange]


def _audit_value(field: Field[Any, Any], raw: Any) -> str:
    """A logged value as an operator reads it: choice labels, Yes/No, the related object's name, "—" for none."""
    text = "" if raw is None else str(raw)
    if text in ("", "None"):
        return "—"
    if field.choices:
        return str(dict(field.flatchoices).get(field.to_python(text), text))
    if isinstance(field, BooleanField):
        return str(yesno(text == "True")) if text in ("True", "False") else text  # Django's translated yes/no
    if isinstance(field, ForeignKey):
        related = field.related_model._default_manager.filter(pk=text).first() if text.isdigit() else None
        return str(related) if related is not None else f"#{text}"
    return text


def audit_changes(entry: LogEntry) -> list[FieldChange]:
    """The field changes of one audit entry with verbose names and display values. Reverse relations (a
    prize's draws) and fields the model no longer has are left out: they are no setting an operator changed."""
    model = entry.content_type.model_class()
    changes = []
    for name, values in (entry.changes_dict or {}).items():
        try:
            field = model._meta.get_field(name) if model is not None else None
        except FieldDoesNotExist:
            continue
        if not isinstance(field, Field) or not field.concrete:
            continue  # a reverse relation or a generic relation: not a column of this object
        old, new = [*list(values), None, None][:2]
        label = str(capfirst(field.verbose_name))
        changes.append(FieldChange(label, _audit_value(field, old), _audit_value(field, new)))
    return changes


def audit_history(*, wheel: Wheel | None = None, prize: Prize | None = None, limit: int = 50) -> list[AuditRow]:
    """audit_entries, each with its readable field changes (audit_changes), for the admin's history table."""
    return [AuditRow(entry, audit_changes(entry)) for entry in audit_entries(wheel=wheel, prize=prize, limit=limit)]


@dataclass(frozen=True)
class PrizeRow:
    draw: Draw
    shipment: Shipment | None  # physical prizes only
    address_open: bool


def _rows(draws: list[Draw], now: datetime) -> list[PrizeRow]:
    shipments = prize_shipments(draws=draws)
    rows = []
    for draw in draws:
        shipment = shipments.get(draw.pk)
        open_ = shipment is not None and shipment_address_open(shipment=shipment, now=now)
        rows.append(PrizeRow(draw, shipment, open_))
    return rows


def prize_rows(*, user_id: int, now: datetime, limit: int) -> list[PrizeRow]:
    """The member's latest wins for "My prizes", each with its shipment and whether its address can still be
    given or changed (shipments.selectors.shipment_address_open, the rule prize_address_set enforces)."""
    return _rows(list(prizes_of(user_id=user_id)[:limit]), now)


def prize_row(*, user_id: int, draw_id: int, now: datetime) -> PrizeRow | None:
    """One of the member's physical prizes with its shipment; None for anything else (someone else's, unknown,
    or a prize that is not shipped)."""
    draw = prizes_of(user_id=user_id).filter(pk=draw_id).first() if 0 < draw_id < 2**63 else None
    row = _rows([draw], now)[0] if draw is not None else None
    return row if row is not None and row.shipment is not None else None
