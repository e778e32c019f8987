"""Invites: each member's invite code, the campaign's referral program (rewards, qualifying action, hold and
fraud thresholds), one attribution per invitee with its fraud decision and rewards, the per-inviter counters
behind the caps, leaderboard snapshots and the final top-N awards. Every write goes through referrals.services."""

from __future__ import annotations

from typing import ClassVar

from auditlog.registry import auditlog
from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from campaigns.models import Campaign
from config.i18n import localized


class QualifyingAction(models.TextChoices):
    """The invitee's first valid action that qualifies an invite (the campaign decides)."""

    CHECKIN = "checkin", _("first check-in")
    TASK = "task", _("first task completed")
    ORDER = "order", _("first mall redemption")
    LATER_LOGIN = "later_login", _("signs in again on a later day")


class Program(models.Model):
    """A campaign's referral program. Rewards pass the value gate; thresholds feed the fraud checks."""

    campaign = models.OneToOneField(
        Campaign, on_delete=models.PROTECT, related_name="referral_program", verbose_name=_("campaign")
    )
    is_active = models.BooleanField(_("active"), default=True)
    qualifying_action = models.CharField(
        _("qualifying action"), max_length=20, choices=QualifyingAction.choices, default=QualifyingAction.CHECKIN
    )
    inviter_points = models.PositiveIntegerField(_("inviter reward (points)"), default=200)
    invitee_points = models.PositiveIntegerField(_("newcomer gift (points)"), default=100)
    hold_days = models.PositiveIntegerField(
        _("hold (days)"), default=0, help_text=_("Rewards stay pending this long; fraud found meanwhile reverses them.")
    )
    inviter_daily_cap = models.PositiveIntegerField(_("rewarded invites per inviter per day"), null=True, blank=True)
    inviter_campaign_cap = models.PositiveIntegerField(_("rewarded invites per inviter"), null=True, blank=True)
    device_max = models.PositiveIntegerField(
        _("accounts per device"), default=2, help_text=_("Sign-ups from one device above this go to review.")
    )
    ip_hourly_max = models.PositiveIntegerField(_("sign-ups per IP per hour"), default=5)
    subnet_hourly_max = models.PositiveIntegerField(_("sign-ups per /24 network per hour"), default=20)
    inviter_burst_max = models.PositiveIntegerField(
        _("sign-ups per inviter in 10 minutes"), default=5, help_text=_("More than this in 10 minutes go to review.")
    )
    idle_days = models.PositiveIntegerField(
        _("idle invitee (days)"),
        default=7,
        help_text=_("Invitees who never act again this long after qualifying are flagged."),
    )
    top_n = models.PositiveIntegerField(_("leaderboard prizes (top N)"), default=10)
    top_points = models.PositiveIntegerField(_("points for each of the top N"), default=1000)
    title = models.CharField(_("title badge"), max_length=40, default="邀请达人")
    title_en = models.CharField(_("title badge (English)"), max_length=40, default="Top Inviter")

    class Meta:
        verbose_name = _("referral program")
        verbose_name_plural = _("referral programs")

    def __str__(self) -> str:
        return str(self.campaign)


class InviteCode(models.Model):
    """A member's stable, unguessable invite code (the /r/<code> link)."""

    user = models.OneToOneField(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="invite_code")
    code = models.CharField(_("invite code"), max_length=16, unique=True)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)

    class Meta:
        verbose_name = _("invite code")
        verbose_name_plural = _("invite codes")

    def __str__(self) -> str:
        return self.code


class InviteStatus(models.TextChoices):
    REGISTERED = "registered", _("registered")
    QUALIFIED = "qualified", _("qualified")
    REVIEW = "review", _("in review")
    REJECTED = "rejected", _("rejected")


class Invite(models.Model):
    """One attribution: the invitee was invited once, by one inviter, in one campaign's official phase."""

    campaign = models.ForeignKey(Campaign, on_delete=models.PROTECT, related_name="+", verbose_name=_("campaign"))
    inviter = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="invites_sent", verbose_name=_("inviter")
    )
    invitee = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="invited_by", verbose_name=_("invitee")
    )
    status = models.CharField(_("status"), max_length=12, choices=InviteStatus.choices, default=InviteStatus.REGISTERED)
    qualifying_action = models.CharField(_("qualifying action"), max_length=20, choices=QualifyingAction.choices)
    ip = models.GenericIPAddressField(_("IP address"), null=True, blank=True)
    network = models.CharField(_("network (/24 or /48)"), max_length=50, blank=True)
    device = models.CharField(_("device fingerprint"), max_length=64, blank=True)
    risk_reasons = models.JSONField(_("fraud signals"), default=list, blank=True)
    created_at = models.DateTimeField(_("invited at"))
    local_date = models.DateField(_("day (campaign time)"))
    qualified_at = models.DateTimeField(_("qualified at"), null=True, blank=True)
    rewarded_at = models.DateTimeField(_("rewarded at"), null=True, blank=True)
    hold_until = models.DateTimeField(_("pending until"), null=True, blank=True)
    inviter_transfer_id = models.BigIntegerField(null=True, blank=True)
    invitee_transfer_id = models.BigIntegerField(null=True, blank=True)
    reviewed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("reviewed by"),
    )
    reviewed_at = models.DateTimeField(_("reviewed at"), null=True, blank=True)
    review_reason = models.CharField(_("review note"), max_length=200, blank=True)
    idle_flagged_at = models.DateTimeField(_("flagged idle"), null=True, blank=True)

    class Meta:
        verbose_name = _("invite")
        verbose_name_plural = _("invites")
        ordering: ClassVar = ["-created_at", "-id"]
        # Deciding the review queue (approve pays the rewards, reject reverses pending ones): operators and analysts.
        permissions: ClassVar = [("review_invite", _("Can decide invites in review"))]
        constraints: ClassVar = [
            models.CheckConstraint(condition=~Q(inviter=models.F("invitee")), name="invite_not_self"),
            models.CheckConstraint(
                condition=~Q(status="qualified") | Q(qualified_at__isnull=False), name="invite_qualified_has_time"
            ),
        ]
        indexes: ClassVar = [
            models.Index(fields=["campaign", "inviter", "status"], name="invite_inviter_idx"),
            models.Index(fields=["campaign", "status", "qualified_at"], name="invite_ranking_idx"),
            models.Index(fields=["device", "created_at"], name="invite_device_idx"),
            models.Index(fields=["network", "created_at"], name="invite_network_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.inviter_id} → {self.invitee_id}"


class InviteReviewManager(models.Manager["InviteReview"]):
    def get_queryset(self) -> models.QuerySet[InviteReview]:
        return super().get_queryset().filter(status=InviteStatus.REVIEW)


class InviteReview(Invite):
    """The review queue: the invites in review (fraud signals or a cap), decided in admin (referrals/admin.py)."""

    objects: ClassVar[InviteReviewManager] = InviteReviewManager()

    class Meta:
        proxy = True
        verbose_name = _("invite in review")
        verbose_name_plural = _("review queue")
        ordering: ClassVar = ["created_at", "id"]


class InviterCounter(models.Model):
    """Rewarded invites per inviter, campaign and window ('all' or the local date): raised by a conditional
    upsert at qualification, so parallel qualifications cannot pass a cap together."""

    campaign = models.ForeignKey(Campaign, on_delete=models.CASCADE, related_name="+")
    inviter = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    window = models.CharField(max_length=10)
    count = models.PositiveIntegerField(default=0)

    class Meta:
        constraints: ClassVar = [
            models.UniqueConstraint(fields=["campaign", "inviter", "window"], name="inviter_counter_once"),
        ]

    def __str__(self) -> str:
        return f"{self.campaign_id}/{self.inviter_id}/{self.window}: {self.count}"


class LeaderboardSnapshot(models.Model):
    """The invite ranking at one instant (hourly job; the final one freezes the campaign's result)."""

    campaign = models.ForeignKey(Campaign, on_delete=models.PROTECT, related_name="+", verbose_name=_("campaign"))
    taken_at = models.DateTimeField(_("taken at"))
    is_final = models.BooleanField(_("final"), default=False)
    rows = models.JSONField(_("ranking"), default=list, help_text=_("[[member id, rank, qualified invites], ...]"))

    class Meta:
        verbose_name = _("leaderboard snapshot")
        verbose_name_plural = _("leaderboard snapshots")
        ordering: ClassVar = ["-taken_at"]
        constraints: ClassVar = [
            models.UniqueConstraint(fields=["campaign", "taken_at"], name="snapshot_once"),
            models.UniqueConstraint(fields=["campaign"], condition=Q(is_final=True), name="snapshot_final_once"),
        ]

    def __str__(self) -> str:
        return f"{self.campaign_id} {self.taken_at:%Y-%m-%d %H:%M}"


class FinalAward(models.Model):
    """A top-N place of a campaign's final invite ranking: points (through the value gate) and a title badge."""

    campaign = models.ForeignKey(Campaign, on_delete=models.PROTECT, related_name="+", verbose_name=_("campaign"))
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="referral_awards", verbose_name=_("member")
    )
    rank = models.PositiveIntegerField(_("rank"))
    invites = models.PositiveIntegerField(_("qualified invites"))
    points = models.PositiveIntegerField(_("points"))
    transfer_id = models.BigIntegerField(null=True, blank=True)
    title = models.CharField(_("title badge"), max_length=40)
    title_en = models.CharField(_("title badge (English)"), max_length=40)
    awarded_at = models.DateTimeField(_("awarded at"))

    class Meta:
        verbose_name = _("final award")
        verbose_name_plural = _("final awards")
        ordering: ClassVar = ["campaign", "rank"]
        constraints: ClassVar = [
            models.UniqueConstraint(fields=["campaign", "user"], name="award_member_once"),
            models.UniqueConstraint(fields=["campaign", "rank"], name="award_rank_once"),
        ]

    def __str__(self) -> str:
        return f"{self.campaign_id} #{self.rank}"

    @property
    def display_title(self) -> str:
        return localized(self, "title")


auditlog.register(Program)
