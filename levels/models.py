"""Member levels (issue 15): a ladder of levels members climb by behaviour, each with its rewards. Tables and the
rules Postgres enforces only; every write goes through levels.services (docs/adr/0010-member-levels.md)."""

from __future__ import annotations

from decimal import Decimal
from typing import ClassVar

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from config.i18n import is_english, localized


class Combine(models.TextChoices):
    ALL = "all", _("all thresholds")
    ANY = "any", _("points earned and any other threshold")


class Period(models.TextChoices):
    NONE = "none", _("lifetime (no period)")
    MONTH = "month", _("calendar month")
    QUARTER = "quarter", _("calendar quarter")
    YEAR = "year", _("calendar year")


class Downgrade(models.TextChoices):
    NONE = "none", _("never: a level once reached is kept")
    REEVALUATE = "reevaluate", _("re-evaluate at each period end")


class Ladder(models.Model):
    """The levels members climb. At most one ladder is active (partial UNIQUE index)."""

    name = models.CharField(_("name"), max_length=60)
    name_en = models.CharField(_("name (English)"), max_length=60, blank=True)
    campaign = models.ForeignKey(
        "campaigns.Campaign",
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("campaign"),
        help_text=_("Level rewards are paid through this campaign's value gate; its timezone decides the periods."),
    )
    combine = models.CharField(
        _("how thresholds combine"),
        max_length=8,
        choices=Combine.choices,
        default=Combine.ALL,
        help_text=_(
            "All: a member reaches a level when every threshold the level sets is met. Any: the points-earned "
            "threshold must be met, and at least one of the other thresholds the level sets (spend, invites, "
            "check-in days); a level that sets no other threshold needs points earned only."
        ),
    )
    period = models.CharField(
        _("evaluation period"),
        max_length=8,
        choices=Period.choices,
        default=Period.NONE,
        help_text=_(
            "Calendar periods in the campaign's timezone. Figures count within the current period only "
            "when levels are re-evaluated at period end."
        ),
    )
    downgrade = models.CharField(
        _("downgrade"),
        max_length=12,
        choices=Downgrade.choices,
        default=Downgrade.NONE,
        help_text=_(
            "Re-evaluate: a level earned in a period holds until that period ends; then the member keeps the level "
            "the ended period's figures justify (never below an operator's floor)."
        ),
    )
    active = models.BooleanField(_("active"), default=False)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)

    class Meta:
        verbose_name = _("level ladder")
        verbose_name_plural = _("level ladders")
        constraints: ClassVar = [
            models.UniqueConstraint(fields=["active"], condition=Q(active=True), name="ladder_one_active"),
            models.CheckConstraint(condition=Q(combine__in=["all", "any"]), name="ladder_combine_known"),
            models.CheckConstraint(
                condition=Q(period__in=["none", "month", "quarter", "year"]), name="ladder_period_known"
            ),
            models.CheckConstraint(condition=Q(downgrade__in=["none", "reevaluate"]), name="ladder_downgrade_known"),
            # Re-evaluating needs a period to end.
            models.CheckConstraint(
                condition=Q(downgrade="none") | ~Q(period="none"), name="ladder_reevaluate_has_period"
            ),
        ]

    def __str__(self) -> str:
        return self.display_name

    @property
    def display_name(self) -> str:
        return localized(self, "name")


class Level(models.Model):
    """One step of a ladder: its thresholds (what a member's figures must reach) and its rewards."""

    ladder = models.ForeignKey(Ladder, on_delete=models.CASCADE, related_name="levels", verbose_name=_("ladder"))
    rank = models.PositiveSmallIntegerField(
        _("level order"), help_text=_("0 is the entry level every member starts at.")
    )
    name = models.CharField(_("name"), max_length=40)
    name_en = models.CharField(_("name (English)"), max_length=40, blank=True)
    badge = models.ImageField(_("badge"), upload_to="levels/badges/", blank=True)
    badge_en = models.ImageField(
        _("badge (English)"), upload_to="levels/badges/", blank=True, help_text=_("Optional: shown to English readers.")
    )
    badge_alt = models.CharField(_("badge description"), max_length=120, blank=True)
    badge_alt_en = models.CharField(_("badge description (English)"), max_length=120, blank=True)
    min_points_earned = models.PositiveIntegerField(
        _("points earned"), default=0, help_text=_("Points earned (never the balance). The entry level needs 0.")
    )
    min_spend = models.PositiveIntegerField(_("points spent"), null=True, blank=True)
    min_referrals = models.PositiveIntegerField(_("qualified invites"), null=True, blank=True)
    min_checkin_days = models.PositiveIntegerField(_("check-in days"), null=True, blank=True)
    reward_points = models.PositiveIntegerField(
        _("reward points"), default=0, help_text=_("Paid once per level and period, when the figures reach it.")
    )
    discount_percent = models.DecimalField(_("mall discount (%)"), max_digits=4, decimal_places=2, default=Decimal("0"))
    priority_support = models.BooleanField(_("priority support"), default=False)
    benefits = models.TextField(_("benefits"), blank=True)
    benefits_en = models.TextField(_("benefits (English)"), blank=True)

    class Meta:
        verbose_name = _("level")
        verbose_name_plural = _("levels")
        ordering = ("ladder", "rank")
        constraints: ClassVar = [
            models.UniqueConstraint(fields=["ladder", "rank"], name="level_rank_unique"),
            models.CheckConstraint(condition=Q(min_points_earned__gte=0), name="level_points_nonnegative"),
            models.CheckConstraint(condition=~Q(rank=0) | Q(min_points_earned=0), name="level_entry_needs_nothing"),
            models.CheckConstraint(condition=Q(reward_points__gte=0), name="level_reward_nonnegative"),
            models.CheckConstraint(
                condition=Q(discount_percent__gte=0) & Q(discount_percent__lte=50), name="level_discount_range"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.rank} · {self.display_name}"

    @property
    def display_name(self) -> str:
        return localized(self, "name")

    @property
    def display_benefits(self) -> str:
        return localized(self, "benefits")

    @property
    def display_badge_alt(self) -> str:
        return localized(self, "badge_alt") or self.display_name

    @property
    def display_badge(self) -> models.fields.files.FieldFile | None:
        if is_english() and self.badge_en:
            return self.badge_en
        return self.badge or None


class MemberLevel(models.Model):
    """A member's current level on a ladder. Written only by levels.services under this row's lock."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="levels", verbose_name=_("member")
    )
    ladder = models.ForeignKey(Ladder, on_delete=models.CASCADE, related_name="members", verbose_name=_("ladder"))
    level = models.ForeignKey(Level, on_delete=models.PROTECT, related_name="+", verbose_name=_("level"))
    floor = models.ForeignKey(
        Level,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("floor"),
        help_text=_("Set by an operator: the member never drops below it."),
    )
    period_key = models.CharField(
        _("period"),
        max_length=8,
        blank=True,
        help_text=_("The period last evaluated: 2026, 2026-Q4, 2026-12 or blank."),
    )
    reached_at = models.DateTimeField(_("reached at"))
    updated_at = models.DateTimeField(_("updated at"))

    class Meta:
        verbose_name = _("member level")
        verbose_name_plural = _("members by level")
        constraints: ClassVar = [models.UniqueConstraint(fields=["user", "ladder"], name="member_level_once")]
        indexes: ClassVar = [models.Index(fields=["ladder", "period_key"], name="member_level_period_idx")]
        permissions: ClassVar = [
            ("set_floor", _("Can set a member's level floor")),
            ("export_memberlevel", _("Can export member levels")),
        ]

    def __str__(self) -> str:
        return f"{self.user_id}: {self.level_id}"


class LevelAward(models.Model):
    """A level's reward paid to a member: once per level and period (UNIQUE), the ledger transfer it made."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    level = models.ForeignKey(Level, on_delete=models.PROTECT, related_name="awards", verbose_name=_("level"))
    period_key = models.CharField(_("period"), max_length=8, blank=True)
    points = models.PositiveIntegerField(_("points"))
    transfer_id = models.BigIntegerField(null=True, blank=True)
    created_at = models.DateTimeField(_("created at"))

    class Meta:
        verbose_name = _("level reward")
        verbose_name_plural = _("level rewards")
        constraints: ClassVar = [
            models.UniqueConstraint(fields=["user", "level", "period_key"], name="level_award_once_per_period")
        ]

    def __str__(self) -> str:
        return f"{self.user_id}: {self.level_id} {self.period_key}"


class Cause(models.TextChoices):
    PROMOTION = "promotion", _("promotion")
    DOWNGRADE = "downgrade", _("downgrade at period end")
    FLOOR = "floor", _("floor set by an operator")


class LevelChange(models.Model):
    """Audit: every change of a member's level or floor, with its cause and who made it."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    ladder = models.ForeignKey(Ladder, on_delete=models.PROTECT, related_name="+", verbose_name=_("ladder"))
    from_level = models.ForeignKey(
        Level, on_delete=models.PROTECT, null=True, blank=True, related_name="+", verbose_name=_("previous level")
    )
    to_level = models.ForeignKey(Level, on_delete=models.PROTECT, related_name="+", verbose_name=_("new level"))
    cause = models.CharField(_("cause"), max_length=10, choices=Cause.choices)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("by"),
    )
    reason = models.TextField(_("reason"), blank=True)
    at = models.DateTimeField(_("at"))

    class Meta:
        verbose_name = _("level change")
        verbose_name_plural = _("level changes")
        ordering = ("-at", "-id")
        indexes: ClassVar = [models.Index(fields=["user", "-at"], name="level_change_member_idx")]

    def __str__(self) -> str:
        return f"{self.user_id}: {self.from_level_id} → {self.to_level_id} ({self.cause})"


class SweepMark(models.Model):
    """The sweep's watermark: the last ledger transfer id whose member has been evaluated (one row, id 1)."""

    transfer_id = models.BigIntegerField(default=0)

    class Meta:
        verbose_name = _("level sweep watermark")

    def __str__(self) -> str:
        return str(self.transfer_id)
