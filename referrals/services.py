"""Every write of invites: members' invite codes, attribution at sign-up (or by entering a code soon after) with its
fraud signals, qualification (one SQL call, referrals_qualify(), which check-ins, tasks and mall orders also make in
their own statements), the review queue's decisions and the sweeps. The leaderboard's writes are in
referrals/leaderboard.py.

Fraud signals are decided when the invite is made and stored on it with their reasons (`risk_reasons`); an invite
with any signal goes to review when it qualifies instead of paying. Nothing here ever touches a member's own points:
only the invite's rewards can be held back or reversed."""

from __future__ import annotations

import hashlib
import ipaddress
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Literal

from django.contrib.contenttypes.models import ContentType
from django.db import IntegrityError, connection, transaction
from django.db.models import F
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from accounts.models import User
from campaigns.earning import member_earned
from campaigns.models import Campaign
from campaigns.selectors import campaign_featured, campaign_local_date
from config.codes import code_normalize, random_code
from outbox.services import outbox_add, outbox_publish_on_commit
from points.services import transfer_reverse
from referrals import kinds
from referrals.errors import InviteHoldOver, InviteNotFound, InviteStateInvalid
from referrals.models import Invite, InviteCode, InviterCounter, InviteStatus, Program
from tasks.models import TaskProgress

CODE_LENGTH = 10  # config.codes' alphabet: 31^10 ≈ 2^49.5, and codes are only ever looked up exactly
LATE_ENTRY = timedelta(days=7)  # a member may enter an invite code this long after signing up
BURST_WINDOW = timedelta(minutes=10)
HOUR = timedelta(hours=1)
MAX_ID = 2**63

Refusal = Literal["unknown_code", "self_invite", "already_invited", "not_open", "too_late"]

REFUSAL_MESSAGES: dict[str, object] = {
    "unknown_code": _("That invite code is unknown or expired. You are signed up all the same, without an invite."),
    "self_invite": _("You cannot invite yourself."),
    "already_invited": _("You were already invited by someone; an invite counts once."),
    "not_open": _("Invites count only during a campaign's official phase. You are signed up all the same."),
    "too_late": _("Invite codes can be entered only in the first 7 days after signing up."),
}


def invite_code_normalize(raw: str) -> str:
    """An invite code as typed or scanned (config.codes.code_normalize); '' if it cannot be one."""
    return code_normalize(raw)


def invite_code_for(*, user_id: int) -> str:
    """The member's stable invite code (made on first use; a clash of random codes is retried)."""
    found = InviteCode.objects.filter(user_id=user_id).values_list("code", flat=True).first()
    if found:
        return found
    for _attempt in range(5):
        code = random_code(CODE_LENGTH)
        try:
            with transaction.atomic():
                InviteCode.objects.create(user_id=user_id, code=code)
            return code
        except IntegrityError:
            found = InviteCode.objects.filter(user_id=user_id).values_list("code", flat=True).first()
            if found:  # made meanwhile by a parallel request
                return found
    raise RuntimeError("could not draw a free invite code")


@dataclass(frozen=True)
class SignupContext:
    """What a sign-up request says about where it came from (referrals/fingerprint.py builds it from a request):
    the client IP, a device fingerprint (hash of the first-party device cookie and client hints; '' if unknown)."""

    ip: str | None = None
    device: str = ""


def network_of(ip: str | None) -> str:
    """The /24 (IPv4) or /48 (IPv6) network of an address, '' if none."""
    if not ip:
        return ""
    try:
        address = ipaddress.ip_address(ip)
    except ValueError:
        return ""
    prefix = 24 if address.version == 4 else 48
    return str(ipaddress.ip_network(f"{address}/{prefix}", strict=False))


def device_hash(*parts: str) -> str:
    """A device fingerprint from its parts (device cookie, client hints), '' when every part is empty."""
    if not any(parts):
        return ""
    return hashlib.sha256("\x1f".join(parts).encode()).hexdigest()[:64]


@dataclass(frozen=True)
class Attribution:
    invite: Invite | None
    refusal: str = ""
    reasons: list[str] = field(default_factory=list)

    @property
    def message(self) -> str:
        return str(REFUSAL_MESSAGES.get(self.refusal, "")) if self.refusal else ""


def program_open(*, now: datetime) -> Program | None:
    """The program invites count for now: the featured campaign's, if active and in its official phase."""
    campaign = campaign_featured(now=now)
    if campaign is None or not (campaign.official_starts_at <= now < campaign.followup_starts_at):
        return None
    return Program.objects.filter(campaign=campaign, is_active=True).select_related("campaign").first()


def _ring(*, inviter_id: int, invitee_id: int) -> bool:
    """Whether the new edge inviter → invitee closes a cycle: the invitee is already up the inviter's chain."""
    with connection.cursor() as cursor:
        cursor.execute(
            "WITH RECURSIVE up(id, depth) AS (SELECT %s::bigint, 0 UNION ALL "
            "SELECT i.inviter_id, up.depth + 1 FROM referrals_invite i JOIN up ON i.invitee_id = up.id "
            "WHERE up.depth < 50) SELECT EXISTS (SELECT 1 FROM up WHERE id = %s)",
            [inviter_id, invitee_id],
        )
        row = cursor.fetchone()
    return bool(row and row[0])


def _signals(*, program: Program, inviter_id: int, invitee_id: int, context: SignupContext, now: datetime) -> list[str]:
    """The fraud signals of a new invite (checked before it is stored), each a stable reason code."""
    invites = Invite.objects.filter(campaign_id=program.campaign_id)
    reasons = []
    if context.device and invites.filter(device=context.device).count() >= program.device_max:
        reasons.append("shared_device")
    if context.ip and invites.filter(ip=context.ip, created_at__gt=now - HOUR).count() >= program.ip_hourly_max:
        reasons.append("ip_burst")
    network = network_of(context.ip)
    if network and invites.filter(network=network, created_at__gt=now - HOUR).count() >= program.subnet_hourly_max:
        reasons.append("network_burst")
    recent = invites.filter(inviter_id=inviter_id, created_at__gt=now - BURST_WINDOW).count()
    if recent >= program.inviter_burst_max:
        reasons.append("inviter_burst")
    if _ring(inviter_id=inviter_id, invitee_id=invitee_id):
        reasons.append("ring")
    return reasons


def invite_attribute(
    *, invitee_id: int, code: str, context: SignupContext | None = None, now: datetime | None = None
) -> Attribution:
    """Credit a member to the owner of `code`, once. Called right after sign-up (the /r/<code> link's cookie, the
    API's `invite_code`) or when a member enters a code within LATE_ENTRY of signing up. Never raises for the
    member's input: a refusal comes back as `refusal` (unknown_code, self_invite, already_invited, not_open,
    too_late) with a message, and nothing is stored. Fraud signals are stored on the invite (`risk_reasons`)."""
    now = now or timezone.now()
    context = context or SignupContext()
    normalized = invite_code_normalize(code)
    owner = InviteCode.objects.filter(code=normalized).values_list("user_id", flat=True).first() if normalized else None
    if owner is None:
        return Attribution(None, "unknown_code")
    if owner == invitee_id:
        return Attribution(None, "self_invite")
    invitee = User.objects.filter(pk=invitee_id).only("date_joined").first()
    if invitee is None:
        return Attribution(None, "unknown_code")
    if Invite.objects.filter(invitee_id=invitee_id).exists():
        return Attribution(None, "already_invited")
    program = program_open(now=now)
    if program is None:
        return Attribution(None, "not_open")
    if invitee.date_joined < now - LATE_ENTRY:
        return Attribution(None, "too_late")
    reasons = _signals(program=program, inviter_id=owner, invitee_id=invitee_id, context=context, now=now)
    try:
        with transaction.atomic():
            invite = Invite.objects.create(
                campaign_id=program.campaign_id,
                inviter_id=owner,
                invitee_id=invitee_id,
                qualifying_action=program.qualifying_action,
                ip=context.ip or None,
                network=network_of(context.ip),
                device=context.device,
                risk_reasons=reasons,
                created_at=now,
                local_date=campaign_local_date(campaign=program.campaign, now=now),
            )
    except IntegrityError:  # a parallel attribution of the same member won
        return Attribution(None, "already_invited")
    return Attribution(invite, reasons=reasons)


_QUALIFY_SQL = "SELECT referrals_qualify(%s::bigint, %s::text, %s::timestamptz, %s::integer)"


def _progress_type() -> int:
    return ContentType.objects.get_for_model(TaskProgress).pk


def invite_qualify(*, invitee_id: int, action: str, now: datetime | None = None) -> str:
    """The invitee did `action` (checkin, task, order, later_login): decide their invite if this is its qualifying
    action — qualified (rewards paid once, even when the event arrives five times at once: the invite row is
    locked), review (fraud signals or a cap), or '' when nothing changed. The same call check-ins, tasks and mall
    orders make inside their own statements (referrals/sql/referrals_qualify.sql)."""
    now = now or timezone.now()
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(_QUALIFY_SQL, [invitee_id, action, now, _progress_type()])
        row = cursor.fetchone()
    status = str(row[0] or "") if row else ""
    if status == InviteStatus.QUALIFIED:
        _leaderboard_publish(invitee_id=invitee_id)
    return status


def _leaderboard_publish(*, invitee_id: int) -> None:
    """Publish the leaderboard job the SQL recorded in the outbox, after commit (the relay would within ~25 s)."""
    invite = Invite.objects.filter(invitee_id=invitee_id).values("id", "campaign_id", "inviter_id").first()
    if invite is not None:
        outbox_publish_on_commit(
            job="referrals.leaderboard_sync",
            args=[invite["campaign_id"], invite["inviter_id"]],
            key=f"referrals.leaderboard:{invite['id']}:qualified",
        )
        # A rewarded invite credited both members: the earning hooks (levels: promotion), after commit.
        member_earned(user_id=invite["inviter_id"], kind=kinds.REFERRAL_REWARD)
        member_earned(user_id=invitee_id, kind=kinds.NEWCOMER_GIFT)


@dataclass(frozen=True)
class ReviewResult:
    changed: list[int]
    skipped: dict[int, str]  # invite id -> why it was left as it is (its state, or hold_over)


def _reverse_rewards(invite: Invite, *, actor_id: int, reason: str, now: datetime) -> None:
    """Take back a qualified invite's pending rewards and lower the inviter's counters (invite row locked)."""
    for transfer_id, who in ((invite.inviter_transfer_id, "inviter"), (invite.invitee_transfer_id, "invitee")):
        if transfer_id is not None:
            transfer_reverse(
                transfer_id=transfer_id,
                key=f"referral:{invite.pk}:{who}:reverse",
                reason=f"邀请奖励撤销：{reason}"[:200],
                reason_en=f"Invite reward reversed: {reason}"[:200],
                actor_id=actor_id,
                now=now,
            )
    windows = ["all"]
    if invite.rewarded_at is not None:  # the day window it was counted in (the campaign's local date)
        local = campaign_local_date(campaign=Campaign.objects.get(pk=invite.campaign_id), now=invite.rewarded_at)
        windows.append(local.isoformat())
    InviterCounter.objects.filter(
        campaign_id=invite.campaign_id, inviter_id=invite.inviter_id, window__in=windows, count__gt=0
    ).update(count=F("count") - 1)
    key = f"referrals.leaderboard:{invite.pk}:reversed"
    if outbox_add(job="referrals.leaderboard_sync", args=[invite.campaign_id, invite.inviter_id], key=key, now=now):
        outbox_publish_on_commit(
            job="referrals.leaderboard_sync", args=[invite.campaign_id, invite.inviter_id], key=key
        )


def invite_review(
    *,
    invite_ids: list[int],
    decision: Literal["approve", "reject"],
    actor_id: int,
    reason: str = "",
    now: datetime | None = None,
) -> ReviewResult:
    """The review queue's decision on invites, each in its own transaction under its row lock.

    approve: an invite in review is rewarded (referrals_reward: the ledger keys make it once) and qualified; one
    already rewarded (flagged idle during its hold) just returns to qualified. reject: an invite registered or in
    review is rejected without rewards; a qualified one whose rewards are still pending has them reversed (the
    member's own points are never touched); once the hold is over its rewards are the members' and it is skipped
    with `hold_over`. The reason is recorded with the reviewer and time."""
    if decision not in ("approve", "reject"):
        raise InviteStateInvalid(details={"decision": decision})
    now = now or timezone.now()
    changed: list[int] = []
    skipped: dict[int, str] = {}
    for invite_id in sorted({i for i in invite_ids if 0 < i < MAX_ID}):
        try:
            with transaction.atomic():
                invite = Invite.objects.select_for_update().filter(pk=invite_id).first()
                if invite is None:
                    raise InviteNotFound()
                _decide(invite, decision=decision, actor_id=actor_id, reason=reason, now=now)
        except (InviteStateInvalid, InviteHoldOver, InviteNotFound) as exc:
            skipped[invite_id] = exc.code
        else:
            changed.append(invite_id)
    return ReviewResult(changed, skipped)


def _decide(invite: Invite, *, decision: str, actor_id: int, reason: str, now: datetime) -> None:
    invite.reviewed_by_id, invite.reviewed_at, invite.review_reason = actor_id, now, (reason or "").strip()[:200]
    if decision == "approve":
        if invite.status != InviteStatus.REVIEW:
            raise InviteStateInvalid(details={"status": invite.status})
        if invite.rewarded_at is None:
            with connection.cursor() as cursor:
                cursor.execute("SELECT referrals_reward(%s, %s, %s)", [invite.pk, now, _progress_type()])
            invite.refresh_from_db()
            invite.reviewed_by_id, invite.reviewed_at = actor_id, now
            invite.review_reason = (reason or "").strip()[:200]
            _leaderboard_publish(invitee_id=invite.invitee_id)
        invite.status = InviteStatus.QUALIFIED
    else:
        if invite.status == InviteStatus.REJECTED:
            raise InviteStateInvalid(details={"status": invite.status})
        if invite.rewarded_at is not None:
            if invite.hold_until is None or invite.hold_until <= now:
                raise InviteHoldOver()
            _reverse_rewards(invite, actor_id=actor_id, reason=reason or "rejected", now=now)
        invite.status = InviteStatus.REJECTED
    invite.save(update_fields=["status", "reviewed_by", "reviewed_at", "review_reason"])


def invites_later_login(*, now: datetime | None = None, limit: int = 1000) -> int:
    """Qualify invites whose action is a sign-in on a later day and whose invitee has signed in since (the sweep
    runs every few minutes; sign-ins themselves stay in accounts). Returns how many were decided."""
    now = now or timezone.now()
    pending = list(
        Invite.objects.filter(
            status=InviteStatus.REGISTERED, qualifying_action="later_login", invitee__last_login__gt=F("created_at")
        ).values_list("invitee_id", flat=True)[:limit]
    )
    return sum(1 for invitee_id in pending if invite_qualify(invitee_id=invitee_id, action="later_login", now=now))


def invites_idle_flag(*, now: datetime | None = None, limit: int = 1000) -> int:
    """Flag qualified invites whose invitee has not acted since qualifying for the program's idle_days (no
    check-in, order or sign-in): the reason 'idle' is added; while the rewards are still pending the invite goes
    back to review (its rewards stay pending until a reviewer decides). Returns how many were flagged."""
    now = now or timezone.now()
    flagged = 0
    candidates = Invite.objects.filter(
        status=InviteStatus.QUALIFIED, idle_flagged_at__isnull=True, qualified_at__isnull=False
    ).select_related("invitee")
    programs = {p.campaign_id: p for p in Program.objects.all()}
    for invite in candidates[:limit]:
        program = programs.get(invite.campaign_id)
        if (
            program is None
            or invite.qualified_at is None
            or now < invite.qualified_at + timedelta(days=program.idle_days)
        ):
            continue
        if _acted_since(invite.invitee_id, invite.qualified_at, invite.invitee.last_login):
            continue
        with transaction.atomic():
            locked = Invite.objects.select_for_update().get(pk=invite.pk)
            if locked.status != InviteStatus.QUALIFIED or locked.idle_flagged_at is not None:
                continue
            locked.risk_reasons = [*locked.risk_reasons, "idle"]
            locked.idle_flagged_at = now
            if locked.hold_until is not None and locked.hold_until > now:
                locked.status = InviteStatus.REVIEW
            locked.save(update_fields=["risk_reasons", "idle_flagged_at", "status"])
            flagged += 1
    return flagged


def _acted_since(user_id: int, since: datetime, last_login: datetime | None) -> bool:
    if last_login is not None and last_login > since:
        return True
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT EXISTS (SELECT 1 FROM tasks_checkin WHERE user_id = %s AND created_at > %s) "
            "OR EXISTS (SELECT 1 FROM mall_order WHERE user_id = %s AND created_at > %s)",
            [user_id, since, user_id, since],
        )
        row = cursor.fetchone()
    return bool(row and row[0])
