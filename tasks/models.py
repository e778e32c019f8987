"""Daily check-ins and streaks, tiered task challenges, and action events ingested from partner systems."""

from __future__ import annotations

from typing import ClassVar

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from config.i18n import localized


class CheckInRule(models.Model):
    """How a campaign rewards check-ins: base points a day, streak milestones, optional make-up check-ins."""

    campaign = models.OneToOneField(
        "campaigns.Campaign", on_delete=models.CASCADE, related_name="checkin_rule", verbose_name=_("campaign")
    )
    base_points = models.PositiveIntegerField(_("points per check-in"), default=5)
    milestones = models.JSONField(
        _("streak milestones"),
        default=list,
        blank=True,
        help_text=_('Bonus for consecutive days, e.g. [{"day": 3, "points": 10}, {"day": 7, "points": 50}].'),
    )
    cycle = models.BooleanField(
        _("streak cycles"),
        default=False,
        help_text=_("After the last milestone the count starts again at day 1 and milestones pay again."),
    )
    makeup_enabled = models.BooleanField(_("make-up check-ins allowed"), default=False)
    makeup_cost = models.PositiveIntegerField(_("make-up cost (points)"), default=20)
    makeup_monthly_cap = models.PositiveIntegerField(_("make-ups per month"), default=2)

    class Meta:
        verbose_name = _("check-in rule")
        verbose_name_plural = _("check-in rules")
        constraints: ClassVar = [
            models.CheckConstraint(condition=Q(base_points__gt=0), name="checkin_rule_base_points_positive"),
        ]

    def __str__(self) -> str:
        return f"{self.campaign}: {self.base_points}/day"

    def milestone_list(self) -> list[tuple[int, int]]:
        return sorted((int(m["day"]), int(m["points"])) for m in self.milestones or [])


class CheckIn(models.Model):
    """One member's check-in on one local day of the campaign's timezone (the DB allows only one)."""

    # No index of its own: checkin_once_per_day leads with the campaign (one index entry fewer per check-in).
    campaign = models.ForeignKey(
        "campaigns.Campaign", on_delete=models.PROTECT, related_name="checkins", db_index=False
    )
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="checkins")
    local_date = models.DateField(_("day"))
    streak = models.PositiveIntegerField(_("streak"))
    streak_start = models.DateField(_("streak started"))
    is_makeup = models.BooleanField(_("make-up"), default=False)
    points = models.PositiveIntegerField(_("points"))
    transfer_id = models.BigIntegerField(null=True, blank=True)
    # The service's `now`, not the wall clock: the monthly make-up cap counts rows by it (tasks.checkins).
    created_at = models.DateTimeField(_("created at"), default=timezone.now, editable=False)

    class Meta:
        verbose_name = _("check-in")
        verbose_name_plural = _("check-ins")
        constraints: ClassVar = [
            models.UniqueConstraint(fields=["campaign", "user", "local_date"], name="checkin_once_per_day"),
            models.CheckConstraint(condition=Q(streak__gte=1), name="checkin_streak_positive"),
        ]
        indexes: ClassVar = [models.Index(fields=["created_at"], name="checkin_created_idx")]

    def __str__(self) -> str:
        return f"{self.user_id}@{self.campaign_id} {self.local_date} (streak {self.streak})"


class StreakReward(models.Model):
    """A streak milestone paid out. Unique per streak, cycle and milestone day, so it is paid at most once."""

    campaign = models.ForeignKey("campaigns.Campaign", on_delete=models.PROTECT, related_name="+")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    checkin = models.ForeignKey(CheckIn, on_delete=models.PROTECT, related_name="rewards")
    streak_start = models.DateField()
    cycle = models.PositiveIntegerField(default=0)
    day = models.PositiveIntegerField()
    points = models.PositiveIntegerField()
    transfer_id = models.BigIntegerField()
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("streak reward")
        verbose_name_plural = _("streak rewards")
        constraints: ClassVar = [
            models.UniqueConstraint(
                fields=["campaign", "user", "streak_start", "cycle", "day"], name="streak_reward_once"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.user_id}@{self.campaign_id} day {self.day} (+{self.points})"


# --- Tiered task challenges -----------------------------------------------------------------------------

EVENT_BASE_TYPES = ("purchase", "invite_qualified", "checkin", "spin", "redeem")
FEATURE_EVENT_PREFIX = "feature_used:"


class TaskTier(models.TextChoices):
    BEGINNER = "beginner", _("beginner")
    INTERMEDIATE = "intermediate", _("intermediate")
    ADVANCED = "advanced", _("advanced")


class TaskWindow(models.TextChoices):
    WHOLE = "whole", _("whole campaign")
    DAILY = "daily", _("every day")
    WEEKLY = "weekly", _("every week")


class TaskDefinition(models.Model):
    """A challenge: do `event_type` `target_count` times (each worth at least `min_amount`) within a window.

    Windows are campaign-local: a daily task restarts at local midnight, a weekly one on ISO-week Monday."""

    campaign = models.ForeignKey(
        "campaigns.Campaign", on_delete=models.PROTECT, related_name="task_definitions", verbose_name=_("campaign")
    )
    tier = models.CharField(_("tier"), max_length=16, choices=TaskTier.choices, default=TaskTier.BEGINNER)
    title = models.CharField(_("title"), max_length=120)
    title_en = models.CharField(_("title (English)"), max_length=120, blank=True)
    description = models.TextField(_("description"), blank=True)
    description_en = models.TextField(_("description (English)"), blank=True)
    event_type = models.CharField(
        _("event type"),
        max_length=80,
        help_text=_("purchase, invite_qualified, checkin, spin, redeem or feature_used:<name>."),
    )
    target_count = models.PositiveIntegerField(_("times needed"), default=1)
    min_amount = models.DecimalField(
        _("minimum amount per event"),
        max_digits=12,
        decimal_places=2,
        null=True,
        blank=True,
        help_text=_("Only events of at least this amount count (e.g. purchases of 100 yuan or more)."),
    )
    reward_points = models.PositiveIntegerField(_("reward (points)"))
    window = models.CharField(_("window"), max_length=8, choices=TaskWindow.choices, default=TaskWindow.WHOLE)
    repeatable = models.BooleanField(
        _("repeatable"), default=False, help_text=_("Can be completed again (and paid again) within one window.")
    )
    auto_reward = models.BooleanField(
        _("pay automatically"), default=True, help_text=_("Otherwise the member claims the reward.")
    )
    prerequisite = models.ForeignKey(
        "self",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="unlocks",
        verbose_name=_("prerequisite"),
        help_text=_("This task stays locked until the member has completed the prerequisite."),
    )
    is_active = models.BooleanField(_("active"), default=True)
    sort_order = models.PositiveIntegerField(_("sort order"), default=0)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)

    class Meta:
        verbose_name = _("task")
        verbose_name_plural = _("tasks")
        ordering = ("campaign", "sort_order", "id")
        constraints: ClassVar = [
            models.CheckConstraint(condition=Q(target_count__gt=0), name="task_target_positive"),
            models.CheckConstraint(condition=Q(reward_points__gt=0), name="task_reward_positive"),
            models.CheckConstraint(
                condition=Q(min_amount__isnull=True) | Q(min_amount__gte=0), name="task_min_amount_not_negative"
            ),
            models.CheckConstraint(
                condition=Q(prerequisite__isnull=True) | ~Q(prerequisite=models.F("pk")), name="task_not_own_prereq"
            ),
        ]
        indexes: ClassVar = [models.Index(fields=["campaign", "event_type"], name="task_campaign_event_idx")]

    def __str__(self) -> str:
        return self.title

    @property
    def display_title(self) -> str:
        return localized(self, "title")

    @property
    def display_description(self) -> str:
        return localized(self, "description")


class TaskProgress(models.Model):
    """One member's progress on one task in one window.

    `window_key` is "all" (whole campaign), a local date "2026-03-02" (daily) or an ISO week "2026-W10"
    (weekly). A repeatable task opens a new row per completion cycle: the first cycle uses the plain key,
    later ones append ":1", ":2", … ("2026-03-02:1"), so every cycle is paid under its own ledger key."""

    # No indexes of their own: task_progress_once_per_window leads with the task, task_progress_user_idx with the
    # member (two index entries fewer per progress row, i.e. per check-in).
    task = models.ForeignKey(TaskDefinition, on_delete=models.PROTECT, related_name="progress", db_index=False)
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="task_progress", db_index=False
    )
    window_key = models.CharField(_("window"), max_length=40)
    count = models.PositiveIntegerField(_("count"), default=0)
    completed_at = models.DateTimeField(_("completed at"), null=True, blank=True)
    claimed_at = models.DateTimeField(_("rewarded at"), null=True, blank=True)
    reward_transfer_id = models.BigIntegerField(null=True, blank=True)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    class Meta:
        verbose_name = _("task progress")
        verbose_name_plural = _("task progress")
        constraints: ClassVar = [
            models.UniqueConstraint(fields=["task", "user", "window_key"], name="task_progress_once_per_window"),
            models.CheckConstraint(
                condition=Q(claimed_at__isnull=True) | Q(completed_at__isnull=False), name="task_claimed_after_done"
            ),
        ]
        indexes: ClassVar = [models.Index(fields=["user", "task"], name="task_progress_user_idx")]

    def __str__(self) -> str:
        return f"{self.user_id} · {self.task_id} · {self.window_key}: {self.count}"


class IngestedEvent(models.Model):
    """An accepted partner event. UNIQUE (key, event id): a replayed event is recognised and counts nothing.

    Rejected events are answered but not stored, so a partner can fix and resend one under the same id."""

    api_key = models.ForeignKey("partners.ApiKey", on_delete=models.PROTECT, related_name="events")
    campaign = models.ForeignKey(
        "campaigns.Campaign", on_delete=models.PROTECT, related_name="+", verbose_name=_("campaign")
    )
    event_id = models.CharField(_("event id"), max_length=100)
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    type = models.CharField(_("type"), max_length=80)
    amount = models.DecimalField(_("amount"), max_digits=12, decimal_places=2, null=True, blank=True)
    occurred_at = models.DateTimeField(_("occurred at"))
    received_at = models.DateTimeField(_("received at"))
    result = models.JSONField(_("result"), default=dict, blank=True)

    class Meta:
        verbose_name = _("ingested event")
        verbose_name_plural = _("ingested events")
        constraints: ClassVar = [
            models.UniqueConstraint(fields=["api_key", "event_id"], name="ingested_event_once"),
        ]
        indexes: ClassVar = [models.Index(fields=["received_at"], name="ingested_event_received_idx")]

    def __str__(self) -> str:
        return f"{self.event_id} ({self.type})"
