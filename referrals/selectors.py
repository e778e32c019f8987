"""Reads of invites shared by the pages and the API: an invite code's owner, a member's invitees (masked, with the
points each earned them) and their totals, and whether a member may still enter a friend's code. The leaderboard's
reads are in referrals/leaderboard.py."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.db.models import BigIntegerField, Count, OuterRef, Q, QuerySet, Subquery, Sum, Value
from django.db.models.functions import Coalesce

from accounts.models import User
from campaigns.models import Campaign
from points.models import Transfer
from referrals.models import Invite, InviteCode, InviteStatus, Program
from referrals.services import LATE_ENTRY, invite_code_normalize

STATUSES = [status.value for status in InviteStatus]
INVITEE_FIELDS = (
    *("id", "status", "created_at", "qualified_at", "hold_until", "inviter_transfer_id"),
    *("campaign__slug", "campaign__name", "campaign__name_en"),
    *("invitee__display_name", "invitee__phone", "invitee__email"),
)


def invite_code_owner(*, code: str) -> int | None:
    """The member whose invite code this is (typed or scanned: normalised first), or None."""
    normalized = invite_code_normalize(code)
    if not normalized:
        return None
    return InviteCode.objects.filter(code=normalized).values_list("user_id", flat=True).first()


def _reward() -> Coalesce:
    """The inviter's reward of an invite as the ledger holds it (0 until rewarded)."""
    amount = Subquery(
        Transfer.objects.filter(pk=OuterRef("inviter_transfer_id")).values("amount")[:1], output_field=BigIntegerField()
    )
    return Coalesce(amount, Value(0), output_field=BigIntegerField())


def invitees(*, user_id: int) -> QuerySet[Invite]:
    """The member's invites, newest first, with the invitee (for the masked name) and `reward`: the points the invite
    earned the inviter (0 until rewarded; see invite_points for rejected ones)."""
    return (
        Invite.objects.filter(inviter_id=user_id)
        .select_related("invitee", "campaign")
        .only(*INVITEE_FIELDS)
        .annotate(reward=_reward())
        .order_by("-id")
    )


def invitee_masked(invite: Invite) -> str:
    return invite.invitee.masked_name


def invite_points(invite: Any, *, now: datetime) -> tuple[int, bool]:
    """(points the invite earned the inviter, whether they are still pending: the hold not over)."""
    if invite.status == InviteStatus.REJECTED:
        return 0, False
    points = int(getattr(invite, "reward", 0) or 0)
    return points, bool(points and invite.hold_until is not None and invite.hold_until > now)


@dataclass(frozen=True)
class InviteSummary:
    counts: dict[str, int]  # every status, 0 included
    total: int
    points: int  # earned from invites (pending ones included)
    pending: int  # of which still on hold


def invite_summary(*, user_id: int, now: datetime) -> InviteSummary:
    """The member's invites counted by status, and the points they earned (one query)."""
    rows = (
        Invite.objects.filter(inviter_id=user_id)
        .annotate(reward=_reward())
        .values("status")
        .annotate(
            n=Count("id"),
            points=Sum("reward", filter=~Q(status=InviteStatus.REJECTED)),
            pending=Sum("reward", filter=~Q(status=InviteStatus.REJECTED) & Q(hold_until__gt=now)),
        )
    )
    counts = dict.fromkeys(STATUSES, 0)
    points = pending = 0
    for row in rows:
        counts[row["status"]] = row["n"]
        points += int(row["points"] or 0)
        pending += int(row["pending"] or 0)
    return InviteSummary(counts=counts, total=sum(counts.values()), points=points, pending=pending)


def late_entry_open(*, user: User, now: datetime) -> bool:
    """Whether the member may still enter a friend's invite code: signed up within LATE_ENTRY and not invited yet."""
    if user.date_joined < now - LATE_ENTRY:
        return False
    return not Invite.objects.filter(invitee_id=user.pk).exists()


def program_active(*, campaign: Campaign | None) -> Program | None:
    """The campaign's referral program when it is switched on (None without a campaign or program)."""
    if campaign is None:
        return None
    return Program.objects.filter(campaign=campaign, is_active=True).select_related("campaign").first()
