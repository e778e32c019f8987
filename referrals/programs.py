"""Saving a campaign's referral program (the admin's "referral programs": rewards, qualifying action, hold,
fraud thresholds, top-N prizes and title). Its rules are read fresh by every attribution and qualification (no
cache), so a save changes nothing else. Audited by django-auditlog (referrals/models.py)."""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils.translation import gettext_lazy as _

from referrals.models import Program

TOP_N_MAX = 1000
# Maxima: a threshold of 0 would send every invite to review (or reward none), so each is at least 1.
MAXIMA = ("device_max", "ip_hourly_max", "subnet_hourly_max", "inviter_burst_max", "idle_days")
CAPS = ("inviter_daily_cap", "inviter_campaign_cap")  # blank: no cap


def program_check(*, program: Program) -> None:
    """Raise a field-keyed ValidationError for what program_save would refuse (writes nothing)."""
    errors: dict[str, list[str]] = {}
    for name in MAXIMA:
        if getattr(program, name) is None or getattr(program, name) < 1:
            errors[name] = [str(_("Enter at least 1."))]
    for name in CAPS:
        value = getattr(program, name)
        if value is not None and value < 1:
            errors[name] = [str(_("Leave blank for no limit, or allow at least one rewarded invite."))]
    daily, total = program.inviter_daily_cap, program.inviter_campaign_cap
    if daily is not None and total is not None and daily > total and "inviter_daily_cap" not in errors:
        errors["inviter_daily_cap"] = [str(_("The daily limit cannot be above the campaign limit."))]
    if program.top_n is None or program.top_n > TOP_N_MAX:
        errors["top_n"] = [str(_("At most %(max)d places.") % {"max": TOP_N_MAX})]
    for name in ("title", "title_en"):
        setattr(program, name, (getattr(program, name) or "").strip())
        if not getattr(program, name):
            errors[name] = [str(_("Give the title badge in both languages."))]
    if errors:
        raise ValidationError(errors)


def program_save(*, program: Program) -> Program:
    """Create or update a program after program_check. The campaign of a saved program never changes."""
    program_check(program=program)
    with transaction.atomic():
        if program.pk is not None:
            saved_campaign = Program.objects.filter(pk=program.pk).values_list("campaign_id", flat=True).first()
            if saved_campaign is not None and saved_campaign != program.campaign_id:
                raise ValidationError({"campaign": [str(_("A program stays with its campaign."))]})
        program.save()
    return program
