"""Reads of the prize wheel shared by pages, API, admin and jobs."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterable, Mapping, Sequence
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

from campaigns.errors import CampaignNotFound
from campaigns.models import Campaign, Phase
from campaigns.selectors import campaign_by_slug, campaign_visible
from config.config_cache import config_cached
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


@dataclass(frozen=True)
class WheelConfig:
    """A campaign's wheel configuration as the configuration cache keeps it (config/config_cache.py): shared by the
    threads of a process, so read it, never change it. `wheel.campaign` is `campaign`; `prizes` in wheel order;
    `image_urls`: each prize's image URL (None without one), worked out once so readers never touch the shared
    file fields."""

    campaign: Campaign
    wheel: Wheel
    prizes: tuple[Prize, ...]
    prizes_by_id: Mapping[int, Prize]
    image_urls: Mapping[int, str | None]


def _wheel_config_load(slug: str) -> tuple[Campaign, WheelConfig | None]:
    campaign = campaign_by_slug(slug=slug, preview=True)  # CampaignNotFound: nothing is cached
    wheel = Wheel.objects.filter(campaign=campaign).first()
    if wheel is None:
        return campaign, None
    wheel.campaign = campaign
    prizes = tuple(Prize.objects.filter(wheel=wheel).order_by("sort_order", "id"))
    return campaign, WheelConfig(
        campaign=campaign,
        wheel=wheel,
        prizes=prizes,
        prizes_by_id={p.pk: p for p in prizes},
        image_urls={p.pk: (p.image.url if p.image else None) for p in prizes},
    )


def wheel_config_cached(*, slug: str, now: datetime) -> WheelConfig:
    """The wheel of the visible campaign `slug` with its prizes, for members' hot paths (the spin and the wheel API):
    no query and one look at the configuration version while the configuration is unchanged (saving or deleting a
    campaign, wheel or prize bumps it). CampaignNotFound (campaigns.selectors.campaign_visible), WheelNotFound.
    Nothing that moves value trusts it: lottery_spin() re-reads the phase, caps, cost and stock from the rows."""
    campaign, config = config_cached(f"lottery-wheel:{slug}", lambda: _wheel_config_load(slug))
    if not campaign_visible(campaign=campaign, now=now):
        raise CampaignNotFound()
    if config is None:
        raise WheelNotFound()
    return config


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
    stock_remaining: int | None  # None: unlimited

    @property
    def percent(self) -> str:
        return f"{self.probability * 100:.4f}".rstrip("0").rstrip(".")


def odds_rows(*, prizes: Sequence[Prize], stock: Mapping[int, int | None] | None = None) -> list[OddsRow]:
    """The one home of the published odds rule: every prize (in wheel order) with its current chance; out-of-stock
    slots drop out and the others are renormalised. `stock`: live stock_remaining by prize id, for prizes read from
    the configuration cache (whose stock is stale); without it, the prizes' own stock_remaining."""

    def remaining(prize: Prize) -> int | None:
        return stock.get(prize.pk, prize.stock_remaining) if stock is not None else prize.stock_remaining

    stocks = [remaining(p) for p in prizes]
    total = sum(p.weight for p, left in zip(prizes, stocks, strict=True) if left is None or left > 0)
    rows = []
    for p, left in zip(prizes, stocks, strict=True):
        in_stock = left is None or left > 0
        probability = Decimal(p.weight) / Decimal(total) if in_stock and total else Decimal(0)
        rows.append(OddsRow(p, probability, in_stock, left))
    return rows


def odds_table(*, wheel: Wheel) -> list[OddsRow]:
    """odds_rows of the wheel's prizes as stored now."""
    return odds_rows(prizes=list(Prize.objects.filter(wheel=wheel).order_by("sort_order", "id")))


@dataclass(frozen=True)
class SpinStatus:
    spins_today: int
    spins_total: int
    free_left_today: int
    left_today: int | None  # None: no daily cap
    left_total: int | None  # None: no overall cap
    next_cost: int
    can_spin: bool  # under the caps (the wheel must also be open)


def spin_status(*, wheel: Wheel, user_id: int, now: datetime | None = None) -> SpinStatus:
    """The member's spins and what the next one may cost, by lottery_spin_status() — the wheel's and the member's
    rows through lottery_spin_allowance(), the rule the spin itself decides with
    (lottery/sql/lottery_spin_status.sql), so the page and the spin cannot disagree."""
    with connection.cursor() as cursor:
        cursor.execute(_STATUS_SQL, {"wheel": wheel.pk, "user": user_id, "now": now or timezone.now()})
        row = cursor.fetchone()
    if row is None:
        raise WheelNotFound()
    return SpinStatus(*row)


@dataclass(frozen=True)
class MemberStatus:
    """What a member sees of their standing on a wheel: the spin status and their spendable points."""

    spin: SpinStatus
    spendable: int


@dataclass(frozen=True)
class WheelLive:
    """The live part of the wheel API's answer: the member's status and each prize's stock_remaining by id."""

    member: MemberStatus
    stock: dict[int, int | None]


_STATUS_SQL = "SELECT * FROM lottery_spin_status(%(wheel)s, %(user)s, %(now)s)"
# Only `spendable` of points_balance() is read, so its "expiring soon" window does not matter here.
_MEMBER_SQL = """
SELECT s.spins_today, s.spins_total, s.free_left, s.left_today, s.left_total, s.next_cost, s.allowed,
       (SELECT b.spendable FROM points_balance(%(user)s, 'PTS', %(now)s, interval '0') b)
  FROM lottery_spin_status(%(wheel)s, %(user)s, %(now)s) s
"""
_LIVE_SQL = """
SELECT s.spins_today, s.spins_total, s.free_left, s.left_today, s.left_total, s.next_cost, s.allowed,
       (SELECT b.spendable FROM points_balance(%(user)s, 'PTS', %(now)s, interval '0') b),
       x.ids, x.stock
  FROM lottery_spin_status(%(wheel)s, %(user)s, %(now)s) s
 CROSS JOIN (SELECT array_agg(p.id) AS ids, array_agg(p.stock_remaining) AS stock
               FROM lottery_prize p WHERE p.wheel_id = %(wheel)s) x
"""


def _member_of(row: Sequence[Any]) -> MemberStatus:
    return MemberStatus(SpinStatus(*row[:7]), int(row[7]))


def member_status(*, wheel_id: int, user_id: int, now: datetime) -> MemberStatus:
    """The member's spin status (lottery_spin_status) and spendable balance (points_balance), in one statement."""
    with connection.cursor() as cursor:
        cursor.execute(_MEMBER_SQL, {"wheel": wheel_id, "user": user_id, "now": now})
        row = cursor.fetchone()
    if row is None:
        raise WheelNotFound()
    return _member_of(row)


def wheel_live(*, wheel_id: int, user_id: int, now: datetime) -> WheelLive:
    """What changes with every spin, in one statement: the member's status and balance (member_status) and the
    prizes' stock. The rest of the wheel API's answer is configuration (wheel_config_cached)."""
    with connection.cursor() as cursor:
        cursor.execute(_LIVE_SQL, {"wheel": wheel_id, "user": user_id, "now": now})
        row = cursor.fetchone()
    if row is None:
        raise WheelNotFound()
    ids, stock = row[8] or [], row[9] or []
    return WheelLive(_member_of(row), dict(zip(ids, stock, strict=True)))


def masked_name(*, display_name: str, phone: str) -> str:
    """How a winner appears in public: 张** or 138****0001."""
    name = (display_name or "").strip()
    if name:
        return name[0] + "**"
    digits = (phone or "").removeprefix("+86")
    if len(digits) >= 7:
        return f"{digits[:3]}****{digits[-4:]}"
    return "***"


def mask_name(user: object) -> str:
    """masked_name of a member."""
    return masked_name(display_name=getattr(user, "display_name", "") or "", phone=getattr(user, "phone", "") or "")


def recent_winners(*, wheel: Wheel, limit: int = 10) -> list[tuple[str, Prize, datetime]]:
    """The latest real wins (masked names) for the ticker."""
    draws = (
        Draw.objects.filter(wheel=wheel)
        .exclude(prize__kind=PrizeKind.NONE)
        .select_related("user", "prize")
        .order_by("-id")[:limit]
    )
    return [(mask_name(d.user), d.prize, d.created_at) for d in draws]


# The wheel API's ticker is the same for every member and a few seconds late is fine for it, while the wheel is read
# by everyone at the morning rush: each process asks Postgres at most once per WINNERS_SECONDS per wheel, instead of
# adding a query (a scan of the newest draws for wins) to every read. Only public, masked data is kept.
WINNERS_SECONDS = 5.0
_winners: dict[tuple[int, int], tuple[float, list[tuple[str, int, datetime]]]] = {}
_winners_lock = threading.Lock()


def recent_winners_cached(*, wheel_id: int, limit: int = 10) -> list[tuple[str, int, datetime]]:
    """recent_winners as (masked name, prize id, won at), at most WINNERS_SECONDS old (per process). The list is
    shared: read it, never change it."""
    key = (wheel_id, limit)
    entry = _winners.get(key)
    if entry is not None and entry[0] > time.monotonic():
        return entry[1]
    rows = (
        Draw.objects.filter(wheel_id=wheel_id)
        .exclude(prize__kind=PrizeKind.NONE)
        .order_by("-id")
        .values_list("user__display_name", "user__phone", "prize_id", "created_at")[:limit]
    )
    winners = [(masked_name(display_name=name, phone=phone or ""), prize_id, at) for name, phone, prize_id, at in rows]
    with _winners_lock:
        if len(_winners) >= 1024:  # wheels are few; never let the dict grow without bound
            _winners.clear()
        _winners[key] = (time.monotonic() + WINNERS_SECONDS, winners)
    return winners


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
