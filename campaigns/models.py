"""Campaigns and their phases. A campaign's life is four instants, so its phases can never overlap:
warm-up [warmup_starts_at, official_starts_at) · official [official_starts_at, followup_starts_at) ·
follow-up [followup_starts_at, ends_at). Before warm-up it is upcoming; after ends_at it has ended."""

from __future__ import annotations

from datetime import datetime
from typing import ClassVar

from django.conf import settings
from django.db import models
from django.db.models import F, Q
from django.utils.translation import gettext_lazy as _

from config.i18n import localized


class Phase(models.TextChoices):
    UPCOMING = "upcoming", _("upcoming")
    WARMUP = "warmup", _("warm-up")
    OFFICIAL = "official", _("official")
    FOLLOWUP = "followup", _("follow-up")
    ENDED = "ended", _("ended")


class ExpiryRule(models.TextChoices):
    NEVER = "never", _("never")
    DAYS = "days", _("N days after earning")
    MONTH_END = "month_end", _("end of the month")
    YEAR_END = "year_end", _("end of the year")


class Campaign(models.Model):
    name = models.CharField(_("name"), max_length=80)
    name_en = models.CharField(_("name (English)"), max_length=80, blank=True)
    slug = models.SlugField(_("slug"), max_length=60, unique=True)
    theme = models.CharField(_("theme"), max_length=200, blank=True, help_text=_("A one-line slogan."))
    theme_en = models.CharField(_("theme (English)"), max_length=200, blank=True)
    banner = models.ImageField(_("banner image"), upload_to="campaigns/", blank=True)
    timezone = models.CharField(_("timezone"), max_length=64, default="Asia/Shanghai")
    warmup_starts_at = models.DateTimeField(_("warm-up starts"))
    official_starts_at = models.DateTimeField(_("official phase starts"))
    followup_starts_at = models.DateTimeField(_("follow-up starts"))
    ends_at = models.DateTimeField(_("ends"))
    rules = models.TextField(
        _("rules"), help_text=_("Shown on the rules page and before joining. Blank lines separate paragraphs.")
    )
    rules_en = models.TextField(_("rules (English)"), blank=True)
    expiry_rule = models.CharField(
        _("points expire"), max_length=10, choices=ExpiryRule.choices, default=ExpiryRule.YEAR_END
    )
    expiry_days = models.PositiveIntegerField(_("expiry days"), null=True, blank=True)
    is_published = models.BooleanField(_("published"), default=False)
    is_featured = models.BooleanField(_("featured on the home page"), default=False)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)

    class Meta:
        verbose_name = _("campaign")
        verbose_name_plural = _("campaigns")
        ordering = ("-official_starts_at",)
        constraints: ClassVar = [
            models.CheckConstraint(
                condition=Q(warmup_starts_at__lte=F("official_starts_at"))
                & Q(official_starts_at__lt=F("followup_starts_at"))
                & Q(followup_starts_at__lte=F("ends_at")),
                name="campaign_phases_ordered",
            ),
            models.UniqueConstraint(
                fields=["is_featured"], condition=Q(is_featured=True), name="campaign_one_featured"
            ),
            models.CheckConstraint(
                condition=~Q(expiry_rule="days") | Q(expiry_days__gt=0), name="campaign_expiry_days"
            ),
        ]

    def __str__(self) -> str:
        return self.name

    def phase_at(self, now: datetime) -> Phase:
        if now < self.warmup_starts_at:
            return Phase.UPCOMING
        if now < self.official_starts_at:
            return Phase.WARMUP
        if now < self.followup_starts_at:
            return Phase.OFFICIAL
        if now < self.ends_at:
            return Phase.FOLLOWUP
        return Phase.ENDED

    @property
    def display_name(self) -> str:
        return localized(self, "name")

    @property
    def display_theme(self) -> str:
        return localized(self, "theme")

    @property
    def display_rules(self) -> str:
        return localized(self, "rules")


class MultiplierCard(models.Model):
    """A points multiplier a member holds (won on the prize wheel): while active, points earned from check-ins,
    streak bonuses and tasks in this campaign are multiplied. Cards do not stack: the strongest active one
    counts. The extra points are a separate ledger transfer (kind `boost`), so the base payment stays exactly
    what the rule says and a replayed payment never boosts twice."""

    campaign = models.ForeignKey(Campaign, on_delete=models.PROTECT, related_name="+", verbose_name=_("campaign"))
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="multiplier_cards", verbose_name=_("member")
    )
    percent = models.PositiveIntegerField(_("multiplier (%)"))
    starts_at = models.DateTimeField(_("active from"))
    ends_at = models.DateTimeField(_("active until"))
    source_key = models.CharField(max_length=200, unique=True)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)

    class Meta:
        verbose_name = _("multiplier card")
        verbose_name_plural = _("multiplier cards")
        constraints: ClassVar = [
            models.CheckConstraint(condition=Q(percent__gt=100), name="multiplier_card_percent"),
            models.CheckConstraint(condition=Q(ends_at__gt=F("starts_at")), name="multiplier_card_period"),
        ]
        indexes: ClassVar = [models.Index(fields=["user", "campaign", "ends_at"], name="multiplier_card_active_idx")]

    def __str__(self) -> str:
        return f"×{self.percent / 100:g} {self.user_id}@{self.campaign_id}"

    @property
    def factor_label(self) -> str:
        return f"×{self.percent / 100:g}"
