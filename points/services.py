"""Every write to the ledger. Each posting is one round trip to the points_post() SQL function, which is
idempotent by key, race-safe under row locks taken in a fixed order, and all-or-nothing."""

from __future__ import annotations

import logging
import zoneinfo
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from typing import Any

import psycopg
from django.contrib.contenttypes.models import ContentType
from django.db import DatabaseError, connection, transaction
from django.db.models import Model
from django.utils import timezone

from config.sql_call import prepared_call
from points import errors, kinds
from points.models import (
    Account,
    AccountKind,
    ExpiryPolicy,
    Hold,
    Lot,
    OwnerType,
    ReconciliationRun,
    Transfer,
)

logger = logging.getLogger(__name__)

MAX_AMOUNT = 10**15
MAX_KEY = 200
MAX_BATCH = 10_000
ASSETS = frozenset({"PTS", "CNY"})


# --- Account references ------------------------------------------------------------------------------


@dataclass(frozen=True)
class Member:
    """A member's wallet for the posting's asset (created on first use)."""

    user_id: int


@dataclass(frozen=True)
class System:
    """A deferred system account; with a campaign it belongs to that campaign (issuance, spend, expiry...)."""

    kind: str
    campaign_id: int | None = None

    @property
    def owner_type(self) -> str:
        return OwnerType.CAMPAIGN if self.campaign_id is not None else OwnerType.SYSTEM


@dataclass(frozen=True)
class PartnerAccount:
    """A partner's own directly balanced account (the CNY rebate payable; created on first use). It may go below
    zero: a clawback above what is still unpaid carries as a negative payable."""

    partner_id: int
    kind: str = AccountKind.PAYABLE


AccountRef = Account | int | Member | System | PartnerAccount


def _account_sql(ref: AccountRef, asset: str, *, create: bool = True) -> tuple[str, list[Any]]:
    if isinstance(ref, Account):
        return "%s::bigint", [ref.pk]
    if isinstance(ref, bool) or not isinstance(ref, int | Member | System | PartnerAccount):
        raise errors.InvalidInput(details={"account": "unknown account reference"})
    if isinstance(ref, int):
        return "%s::bigint", [ref]
    if isinstance(ref, Member):
        function = "points_member_account" if create else "points_member_account_find"
        return f"{function}(%s::bigint, %s::text)", [ref.user_id, asset]
    if isinstance(ref, PartnerAccount):
        if type(ref.partner_id) is not int or ref.kind != AccountKind.PAYABLE:
            raise errors.InvalidInput(details={"account": "a partner account is a payable of a partner id"})
        return "points_partner_account(%s::bigint, %s::text, %s::text)", [ref.partner_id, ref.kind, asset]
    if ref.kind not in AccountKind.values or ref.kind == AccountKind.WALLET:
        raise errors.InvalidInput(details={"account": f"unknown system account kind {ref.kind!r}"})
    return "points_system_account(%s::text, %s::text, %s::bigint, %s::text)", [
        str(ref.owner_type),
        ref.kind,
        ref.campaign_id,
        asset,
    ]


# --- Validation and error mapping --------------------------------------------------------------------


def _check_amount(amount: Any) -> int:
    if type(amount) is not int or not 0 < amount <= MAX_AMOUNT:
        raise errors.InvalidAmount(details={"amount": repr(amount)[:40]})
    return amount


def _check_common(*, key: Any, kind: Any, asset: Any) -> None:
    if not isinstance(key, str) or not 0 < len(key) <= MAX_KEY:
        raise errors.InvalidInput(details={"idempotency_key": "1-200 characters required"})
    if not kinds.is_registered(kind):
        raise errors.InvalidInput(details={"kind": f"unknown kind {kind!r}"})
    if asset not in ASSETS:
        raise errors.AssetMismatch(details={"asset": f"unknown asset {asset!r}"})


def _ledger_error(exc: Exception) -> Exception:
    cause = exc if isinstance(exc, psycopg.Error) else exc.__cause__
    state = getattr(cause, "sqlstate", None)
    diag = getattr(cause, "diag", None)
    error_cls = errors.SQLSTATE_ERRORS.get(state or "")
    if error_cls is errors.IdempotencyConflict:
        return errors.IdempotencyConflict(details={"existing": getattr(diag, "message_detail", None)})
    if error_cls is not None:
        return error_cls()
    if state == "23505" and getattr(diag, "constraint_name", "") == "transfer_reversed_once":
        return errors.AlreadyReversed()
    return exc


def _execute(sql: str, params: Sequence[Any], *, prepared: bool = False) -> list[tuple[Any, ...]]:
    """Run ledger SQL on Django's connection (so it joins the caller's transaction). `prepared` uses a
    server-side prepared statement (config.sql_call): the hot posting path skips Django's client-side parameter
    interpolation and Postgres skips parsing/planning the call."""
    try:
        if prepared:  # not in Django's query log (the query ceilings count the request's own statements)
            return prepared_call(sql, params, log=False)
        with connection.cursor() as cursor:
            cursor.execute(sql, params)
            return list(cursor.fetchall())
    except (DatabaseError, psycopg.Error) as exc:
        mapped = _ledger_error(exc)
        if mapped is exc:
            raise
        raise mapped from exc


# --- Expiry policies ---------------------------------------------------------------------------------
# The rule lives in one place, the SQL function points_expiry_at() (points/sql/points_expiry_at.sql), which reads
# the policy table where the posting happens: no per-process cache, so a changed policy applies to the next posting
# everywhere. Campaign policies are written only by campaigns.services.campaign_save from the campaign's fields
# (the ledger admin shows them read-only); the default policy (campaign_id NULL) is the ledger admin's.

# points_post's p_expires_at when the caller leaves expiry to the policy (params: campaign id, asset, earned at).
EXPIRY_AT_SQL = "points_expiry_at(%s::bigint, %s::text, %s::timestamptz)"


def expiry_policy_set(
    *, campaign_id: int | None, rule: str, days: int | None = None, asset: str = "PTS", tz: str = "Asia/Shanghai"
) -> ExpiryPolicy:
    """Set how points earned in a campaign (or by default) expire. Campaign policies mirror the campaign's fields:
    only campaigns.services.campaign_save calls this with a campaign id."""
    if rule not in ExpiryPolicy.Rule.values:
        raise errors.InvalidInput(details={"rule": rule})
    if rule == ExpiryPolicy.Rule.DAYS and (type(days) is not int or days <= 0):
        raise errors.InvalidInput(details={"days": "a positive number of days is required"})
    try:
        zoneinfo.ZoneInfo(tz)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError) as exc:
        raise errors.InvalidInput(details={"timezone": tz}) from exc
    policy, _created = ExpiryPolicy.objects.update_or_create(
        campaign_id=campaign_id,
        asset_id=asset,
        defaults={"rule": rule, "days": days if rule == ExpiryPolicy.Rule.DAYS else None, "timezone": tz},
    )
    return policy


def expiry_for(*, campaign_id: int | None, now: datetime, asset: str = "PTS") -> datetime | None:
    """When points a member earns now in this campaign expire (the campaign's policy, else the default one, else
    never). One query; postings need not call it — transfer_post computes it inside the posting's statement."""
    return _execute(f"SELECT {EXPIRY_AT_SQL}", [campaign_id, asset, now])[0][0]


# --- Postings ----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Posted:
    transfer_id: int
    created: bool
    debit_id: int
    credit_id: int


_AUTO: Any = object()
_STATUS_ERRORS: dict[str, type[errors.LedgerError]] = {
    "account_not_found": errors.AccountNotFound,
    "asset_mismatch": errors.AssetMismatch,
    "same_account": errors.SameAccount,
}


def transfer_post(
    *,
    key: str,
    debit: AccountRef,
    credit: AccountRef,
    amount: int,
    kind: str,
    asset: str = "PTS",
    reason: str = "",
    reason_en: str = "",
    campaign_id: int | None = None,
    source: Model | None = None,
    actor_id: int | None = None,
    reverses_id: int | None = None,
    available_at: datetime | None = None,
    expires_at: datetime | None = _AUTO,
    now: datetime | None = None,
    lot_id: int | None = None,
) -> Posted:
    """Post one transfer. Replaying a key with the same content returns the original (created=False); the same
    key with other content raises IdempotencyConflict. Debiting a member beyond their spendable points raises
    InsufficientPoints and writes nothing. Credits to a member create a lot; `expires_at` defaults to the
    campaign's expiry policy (read in the same statement), `available_at` in the future makes the points pending.
    `reason` / `reason_en`: what the member reads, in Chinese and English (blank English: the Chinese for all)."""
    _check_common(key=key, kind=kind, asset=asset)
    _check_amount(amount)
    if type(debit) is type(credit) and debit == credit:
        # Refused before the database (which also refuses references that resolve to one account): a member's
        # wallet to itself would otherwise read as "no wallet, no points" when the member has none yet.
        raise errors.SameAccount()
    now = now or timezone.now()
    if expires_at is _AUTO and isinstance(credit, Member):
        expires_sql, expires_params = EXPIRY_AT_SQL, [campaign_id, asset, now]
    else:
        expires_sql, expires_params = "%s::timestamptz", [None if expires_at is _AUTO else expires_at]
    debit_sql, debit_params = _account_sql(debit, asset, create=False)
    credit_sql, credit_params = _account_sql(credit, asset)
    source_type = ContentType.objects.get_for_model(source).pk if source is not None else None
    rows = _execute(
        f"SELECT * FROM points_post(%s::text, %s::text, {debit_sql}, {credit_sql}, %s::bigint, %s::text, %s::text, "  # noqa: S608
        f"%s::bigint, %s::integer, %s::text, %s::bigint, %s::bigint, %s::timestamptz, {expires_sql}, "
        "%s::timestamptz, %s::bigint, %s::text)",
        [
            key,
            asset,
            *debit_params,
            *credit_params,
            amount,
            kind,
            reason,
            campaign_id,
            source_type,
            str(source.pk) if source is not None else "",
            actor_id,
            reverses_id,
            available_at,
            *expires_params,
            now,
            lot_id,
            reason_en,
        ],
        prepared=True,
    )
    return _posted(rows[0], amount=amount, member_debit=isinstance(debit, Member))


def _posted(row: Sequence[Any], *, amount: int, member_debit: bool) -> Posted:
    """points_post's answer as a Posted, or the domain error for its refusal."""
    transfer_id, status, debit_id, credit_id, detail = row
    if status == "insufficient":
        raise errors.InsufficientPoints(details={"available": detail, "requested": amount})
    if status == "conflict":
        raise errors.IdempotencyConflict(details={"existing": detail})
    if status == "account_not_found" and member_debit:
        raise errors.InsufficientPoints(details={"available": 0, "requested": amount})  # no wallet yet
    if status in _STATUS_ERRORS:
        raise _STATUS_ERRORS[status]()
    return Posted(transfer_id, status == "created", debit_id, credit_id)


def posting_call(
    sql: str, params: Sequence[Any], *, key: str, kind: str, amount: int, member_debit: bool, asset: str = "PTS"
) -> Posted:
    """Post through another app's SQL function that calls points_post and returns its row — the campaigns value
    gate (campaign_grant / campaign_charge, ADR 0002). The same checks, the same single prepared round trip and
    the same errors as transfer_post; `member_debit` says the debit is a member's wallet (no wallet = no points)."""
    _check_common(key=key, kind=kind, asset=asset)
    _check_amount(amount)
    rows = _execute(sql, params, prepared=True)
    return _posted(rows[0], amount=amount, member_debit=member_debit)


@dataclass(frozen=True)
class Award:
    """One line of a bulk award: `amount` points to `user_id`, idempotent by `key`."""

    key: str
    user_id: int
    amount: int
    available_at: datetime | None = None
    expires_at: datetime | None = field(default=_AUTO)


def transfers_post_batch(
    *,
    awards: Sequence[Award],
    source: System,
    kind: str = kinds.AWARD,
    asset: str = "PTS",
    reason: str = "",
    reason_en: str = "",
    campaign_id: int | None = None,
    actor_id: int | None = None,
    now: datetime | None = None,
) -> list[Posted]:
    """Credit many members from one system account in a single statement (bulk awards, campaign prizes).
    All or nothing; each line is idempotent by its key."""
    if not awards:
        return []
    if len(awards) > MAX_BATCH:
        raise errors.InvalidInput(details={"awards": f"at most {MAX_BATCH} per batch"})
    now = now or timezone.now()
    keys = [a.key for a in awards]
    if len(set(keys)) != len(keys):
        raise errors.InvalidInput(details={"awards": "duplicate keys in one batch"})
    for award in awards:
        _check_common(key=award.key, kind=kind, asset=asset)
        _check_amount(award.amount)
        if type(award.user_id) is not int:
            raise errors.InvalidInput(details={"user_id": repr(award.user_id)[:40]})
    source_sql, source_params = _account_sql(source, asset)
    users = sorted({a.user_id for a in awards})
    # One transaction (a savepoint inside the caller's): a conflicting line rolls the whole batch back.
    with transaction.atomic():
        default_expiry = expiry_for(campaign_id=campaign_id, now=now, asset=asset)
        wallets = dict(_execute("SELECT * FROM points_member_accounts(%s::bigint[], %s::text)", [users, asset]))
        debit_id = _execute(f"SELECT {source_sql}", source_params)[0][0]
        rows = _execute(
            "SELECT * FROM points_post_batch(%s, %s, %s, %s, %s::timestamptz[], %s::timestamptz[], %s, %s, %s, %s, "
            "%s, %s, %s)",
            [
                keys,
                [debit_id] * len(awards),
                [wallets[a.user_id] for a in awards],
                [a.amount for a in awards],
                [a.available_at for a in awards],
                [default_expiry if a.expires_at is _AUTO else a.expires_at for a in awards],
                asset,
                kind,
                reason,
                campaign_id,
                actor_id,
                now,
                reason_en,
            ],
        )
    return [
        Posted(tid, created, debit_id, wallets[a.user_id]) for (_k, tid, created), a in zip(rows, awards, strict=True)
    ]


def transfer_reverse(
    *,
    transfer_id: int,
    key: str,
    reason: str,
    reason_en: str = "",
    actor_id: int | None = None,
    now: datetime | None = None,
) -> Posted:
    """Undo a transfer with a mirror-image transfer that points at it. At most one reversal per transfer.
    Reversing a member's spend gives the points back with their original expiry dates. Staff never reverse a
    transfer of their own wallet (`SelfAdjustment`)."""
    if not (reason or "").strip():
        raise errors.ReasonRequired()
    original = Transfer.objects.filter(pk=transfer_id).first()
    if original is None:
        raise errors.InvalidInput(details={"transfer": "not found"})
    if original.kind in (kinds.HOLD, kinds.CAPTURE, kinds.VOID):
        raise errors.NotReversible(details={"hint": "use hold_void / hold_capture"})
    if (
        actor_id is not None
        and Account.objects.filter(pk__in=(original.debit_id, original.credit_id), user_id=actor_id).exists()
    ):
        raise errors.SelfAdjustment()  # separation of duties, as for points_adjust: never one's own wallet
    existing = Transfer.objects.filter(reverses_id=transfer_id).first()
    if existing is not None and existing.idempotency_key != key:
        raise errors.AlreadyReversed(details={"reversal": existing.pk})
    return transfer_post(
        key=key,
        debit=original.credit_id,
        credit=original.debit_id,
        amount=original.amount,
        kind=kinds.REVERSAL,
        asset=original.asset_id,
        reason=reason.strip(),
        reason_en=(reason_en or "").strip(),
        campaign_id=original.campaign_id,
        actor_id=actor_id,
        reverses_id=original.pk,
        expires_at=None,
        now=now,
    )


def points_adjust(
    *,
    user_id: int,
    amount: int,
    reason: str,
    actor_id: int | None,
    key: str,
    campaign_id: int | None = None,
    now: datetime | None = None,
    reason_en: str = "",
) -> Posted:
    """An operator's correction: positive adds points, negative removes them. A reason is mandatory, and
    nobody adjusts their own wallet (separation of duties: an insider cannot mint points for themselves)."""
    if actor_id is not None and actor_id == user_id:
        raise errors.SelfAdjustment()
    if not (reason or "").strip():
        raise errors.ReasonRequired()
    if type(amount) is not int or amount == 0:
        raise errors.InvalidAmount(details={"amount": repr(amount)[:40]})
    adjustment = System(AccountKind.ADJUSTMENT, campaign_id)
    member = Member(user_id)
    debit, credit = (adjustment, member) if amount > 0 else (member, adjustment)
    return transfer_post(
        key=key,
        debit=debit,
        credit=credit,
        amount=abs(amount),
        kind=kinds.ADJUST,
        reason=reason.strip(),
        reason_en=(reason_en or "").strip(),
        campaign_id=campaign_id,
        actor_id=actor_id,
        now=now,
    )


# --- Holds (two-phase) -------------------------------------------------------------------------------


def hold_place(
    *,
    user_id: int,
    amount: int,
    key: str,
    campaign_id: int | None = None,
    reason: str = "",
    reason_en: str = "",
    now: datetime | None = None,
) -> Hold:
    """Set points aside for a redemption that waits on someone else; capture or void it later."""
    _check_amount(amount)
    with transaction.atomic():
        posted = transfer_post(
            key=f"hold:{key}",
            debit=Member(user_id),
            credit=System(AccountKind.HOLDS),
            amount=amount,
            kind=kinds.HOLD,
            reason=reason,
            reason_en=reason_en,
            campaign_id=campaign_id,
            now=now,
        )
        if not posted.created:
            hold = Hold.objects.filter(key=key).first()
            if hold is None or hold.amount != amount or hold.place_transfer_id != posted.transfer_id:
                raise errors.IdempotencyConflict(details={"hold": key})
            return hold
        return Hold.objects.create(
            key=key,
            account_id=posted.debit_id,
            amount=amount,
            campaign_id=campaign_id,
            place_transfer_id=posted.transfer_id,
            reason=reason,
            reason_en=reason_en,
        )


def _hold_settle(*, hold_id: int, to_state: str, now: datetime | None, credit: AccountRef | None = None) -> Hold:
    now = now or timezone.now()
    with transaction.atomic():
        hold = Hold.objects.select_for_update().filter(pk=hold_id).first()
        if hold is None:
            raise errors.InvalidInput(details={"hold": "not found"})
        if hold.state == to_state:
            return hold  # settling twice the same way is a replay, not an error
        if hold.state != Hold.State.PENDING:
            raise errors.HoldNotPending(details={"state": hold.state})
        if to_state == Hold.State.CAPTURED:
            posted = transfer_post(
                key=f"hold:{hold.key}:capture",
                debit=System(AccountKind.HOLDS),
                credit=credit or System(AccountKind.SPEND, hold.campaign_id),
                amount=hold.amount,
                kind=kinds.CAPTURE,
                reason=hold.reason,
                reason_en=hold.reason_en,
                campaign_id=hold.campaign_id,
                now=now,
            )
        else:
            posted = transfer_post(
                key=f"hold:{hold.key}:void",
                debit=System(AccountKind.HOLDS),
                credit=hold.account_id,
                amount=hold.amount,
                kind=kinds.VOID,
                reason=hold.reason,
                reason_en=hold.reason_en,
                campaign_id=hold.campaign_id,
                reverses_id=hold.place_transfer_id,
                expires_at=None,
                now=now,
            )
        hold.state, hold.settle_transfer_id, hold.settled_at = to_state, posted.transfer_id, now
        hold.save(update_fields=["state", "settle_transfer", "settled_at"])
        return hold


def hold_capture(*, hold_id: int, credit: AccountRef | None = None, now: datetime | None = None) -> Hold:
    """Spend held points (to the campaign's spend account unless `credit` says otherwise)."""
    return _hold_settle(hold_id=hold_id, to_state=Hold.State.CAPTURED, now=now, credit=credit)


def hold_void(*, hold_id: int, now: datetime | None = None) -> Hold:
    """Give held points back to the member, each with its original expiry."""
    return _hold_settle(hold_id=hold_id, to_state=Hold.State.VOIDED, now=now)


def hold_return(*, hold_id: int, key: str, reason: str, reason_en: str = "", now: datetime | None = None) -> Transfer:
    """Give back the points of a captured hold (goods handed over, then returned): the capture is reversed (the
    spend account gives the points back to the holds account) and so is the placing (the member gets the points
    back with their original expiry dates). Returns the transfer that credits the member. Returning twice with the
    same `key` is a replay; a hold that is not captured raises HoldNotPending."""
    now = now or timezone.now()
    with transaction.atomic():
        hold = Hold.objects.select_for_update().filter(pk=hold_id).first()
        if hold is None:
            raise errors.InvalidInput(details={"hold": "not found"})
        if hold.state not in (Hold.State.CAPTURED, Hold.State.RETURNED):
            raise errors.HoldNotPending(details={"state": hold.state})
        assert hold.settle_transfer_id is not None  # captured (CHECK hold_settled_has_transfer)
        capture = Transfer.objects.get(pk=hold.settle_transfer_id)
        place = Transfer.objects.get(pk=hold.place_transfer_id)
        common: dict[str, Any] = {
            "amount": hold.amount,
            "kind": kinds.REVERSAL,
            "reason": reason.strip(),
            "asset": place.asset_id,
            "reason_en": (reason_en or "").strip(),
            "campaign_id": hold.campaign_id,
            "expires_at": None,
            "now": now,
        }
        transfer_post(
            key=f"{key}:uncapture", debit=capture.credit_id, credit=capture.debit_id, reverses_id=capture.pk, **common
        )
        posted = transfer_post(
            key=f"{key}:unplace", debit=place.credit_id, credit=place.debit_id, reverses_id=place.pk, **common
        )
        if hold.state != Hold.State.RETURNED:
            hold.state = Hold.State.RETURNED
            hold.save(update_fields=["state"])
        return Transfer.objects.get(pk=posted.transfer_id)


# --- Jobs' services ------------------------------------------------------------------------------------


def lots_expire(*, now: datetime | None = None, batch_size: int = 500) -> int:
    """Move what is left of expired lots to their campaign's expiry account. Idempotent per lot; safe to run
    concurrently with itself and with member activity. Returns the number of lots expired."""
    now = now or timezone.now()
    expired = 0
    seen: set[int] = set()
    while True:
        lots = list(
            Lot.objects.filter(remaining__gt=0, expires_at__lte=now)
            .exclude(pk__in=seen)
            .order_by("expires_at", "id")
            .values_list("id", "account_id", "remaining", "campaign_id")[:batch_size]
        )
        if not lots:
            return expired
        for lot_id, account_id, remaining, campaign_id in lots:
            seen.add(lot_id)
            try:
                posted = transfer_post(
                    key=f"expire:lot:{lot_id}",
                    debit=account_id,
                    credit=System(AccountKind.EXPIRY, campaign_id),
                    amount=remaining,
                    kind=kinds.EXPIRE,
                    campaign_id=campaign_id,
                    lot_id=lot_id,
                    expires_at=None,
                    now=now,
                )
            except (errors.InsufficientPoints, errors.IdempotencyConflict):
                continue  # another run expired it first (or it changed under us): nothing to do for this lot
            expired += int(posted.created)


def ledger_rollup() -> int:
    """Fold pending deltas into system account balances. Returns how many deltas were folded."""
    return int(_execute("SELECT points_rollup()", [])[0][0])


_RECONCILE_CHECKS = {
    "account_vs_transfers": """
        WITH moves AS (
            SELECT credit_id AS account_id, amount FROM points_transfer
            UNION ALL SELECT debit_id, -amount FROM points_transfer
        ), computed AS (SELECT account_id, sum(amount) AS total FROM moves GROUP BY account_id),
        pending AS (SELECT account_id, sum(amount) AS total FROM points_accountdelta GROUP BY account_id)
        SELECT a.id, a.balance + coalesce(p.total, 0) AS stored, coalesce(c.total, 0) AS computed
          FROM points_account a LEFT JOIN computed c ON c.account_id = a.id LEFT JOIN pending p ON p.account_id = a.id
         WHERE a.balance + coalesce(p.total, 0) <> coalesce(c.total, 0)
         LIMIT 100""",
    "asset_sum_not_zero": """
        SELECT a.asset_id, sum(a.balance) + coalesce((SELECT sum(d.amount) FROM points_accountdelta d
                JOIN points_account x ON x.id = d.account_id WHERE x.asset_id = a.asset_id), 0)
          FROM points_account a GROUP BY a.asset_id
        HAVING sum(a.balance) + coalesce((SELECT sum(d.amount) FROM points_accountdelta d
                JOIN points_account x ON x.id = d.account_id WHERE x.asset_id = a.asset_id), 0) <> 0""",
    "lots_vs_balance": """
        SELECT a.id, a.balance, coalesce(sum(l.remaining), 0)
          FROM points_account a LEFT JOIN points_lot l ON l.account_id = a.id
         WHERE a.tracks_lots GROUP BY a.id HAVING a.balance <> coalesce(sum(l.remaining), 0) LIMIT 100""",
    "lot_consumption": """
        SELECT l.id, l.amount, l.remaining, coalesce(sum(c.amount), 0)
          FROM points_lot l LEFT JOIN points_lotconsumption c ON c.lot_id = l.id
         GROUP BY l.id HAVING l.amount - coalesce(sum(c.amount), 0) <> l.remaining LIMIT 100""",
    "orphan_transfer_account": """
        SELECT t.id FROM points_transfer t
         WHERE NOT EXISTS (SELECT 1 FROM points_account a WHERE a.id = t.debit_id AND a.asset_id = t.asset_id)
            OR NOT EXISTS (SELECT 1 FROM points_account a WHERE a.id = t.credit_id AND a.asset_id = t.asset_id)
         LIMIT 100""",
    "negative_member_balance": """
        SELECT id, balance FROM points_account WHERE no_negative AND balance < 0 LIMIT 100""",
}


def ledger_reconcile(*, now: datetime | None = None) -> ReconciliationRun:
    """Prove the ledger adds up; record (and log) any drift. Never changes a balance."""
    started = now or timezone.now()
    drift: dict[str, list[list[Any]]] = {}
    own_transaction = not connection.in_atomic_block
    with transaction.atomic(), connection.cursor() as cursor:
        if own_transaction:  # one consistent snapshot for every check, even while postings continue
            cursor.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ")
        for name, sql in _RECONCILE_CHECKS.items():
            cursor.execute(sql)
            rows = cursor.fetchall()
            if rows:
                drift[name] = [[int(v) if isinstance(v, Decimal) else v for v in row] for row in rows]
        cursor.execute("SELECT count(*) FROM points_account")
        checked = cursor.fetchone()[0]
    run = ReconciliationRun.objects.create(
        started_at=started, finished_at=timezone.now(), ok=not drift, accounts_checked=checked, drift=drift
    )
    if drift:
        logger.error("Ledger reconciliation found drift: %s", drift)
    return run
