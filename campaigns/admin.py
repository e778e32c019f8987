"""Operators create and edit campaigns here. The form validates through campaigns.services.campaign_validate
and saving goes through campaigns.services.campaign_save (one featured campaign, ledger expiry policy)."""

from __future__ import annotations

import copy
from typing import Any

from django import forms
from django.contrib import admin
from django.contrib.admin.widgets import AutocompleteSelect
from django.core.exceptions import ValidationError
from django.http import HttpRequest
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from campaigns import services
from campaigns.models import Campaign, MultiplierCard
from config.admin import LabelledDateTimeAdmin, ReadOnlyAdmin
from config.forms import errors_to_form
from points.admin import adjust_campaign_field_set


class CampaignAdminForm(forms.ModelForm):
    class Meta:
        model = Campaign
        fields = services.FIELDS

    def _get_validation_exclusions(self) -> set[str]:
        # Featuring a campaign un-features the previous one (campaign_save does it in the same transaction), so
        # the "one featured campaign" constraint must not refuse the form beforehand.
        exclude: set[str] = super()._get_validation_exclusions()  # type: ignore[misc]  # not in django-stubs
        exclude.add("is_featured")
        return exclude

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        candidate = copy.copy(self.instance)
        for name in services.FIELDS:
            if name in data and name != "banner":
                setattr(candidate, name, data[name])
        try:
            services.campaign_validate(candidate)
        except ValidationError as exc:
            errors_to_form(self, exc)
        return data


@admin.register(Campaign)
class CampaignAdmin(LabelledDateTimeAdmin):
    form = CampaignAdminForm
    change_form_template = "admin/campaigns/campaign/change_form.html"
    list_display = ("name", "slug", "current_phase", "official_starts_at", "ends_at", "is_published", "is_featured")
    list_filter = ("is_published", "is_featured")
    search_fields = ("name", "name_en", "slug")
    prepopulated_fields = {"slug": ("name_en",)}
    view_on_site = False  # the "Preview as member" button replaces it (it adds ?preview=1)
    fieldsets = (
        (None, {"fields": ("name", "name_en", "slug", "theme", "theme_en", "banner")}),
        (
            _("Phases"),
            {
                "fields": ("timezone", "warmup_starts_at", "official_starts_at", "followup_starts_at", "ends_at"),
                "description": _(
                    "Warm-up → official → follow-up → end. Earning activities are open in the official phase only."
                ),
            },
        ),
        (_("Rules"), {"fields": ("rules", "rules_en", "expiry_rule", "expiry_days")}),
        (_("Visibility"), {"fields": ("is_published", "is_featured")}),
    )

    @admin.display(description=_("current phase"))
    def current_phase(self, obj: Campaign) -> str:
        return str(obj.phase_at(timezone.now()).label)

    def save_model(self, request: HttpRequest, obj: Campaign, form: forms.ModelForm, change: bool) -> None:
        # The form already put the cleaned values on obj; the service validates again and saves them.
        services.campaign_save(campaign=obj, data={name: getattr(obj, name) for name in services.FIELDS})


@admin.register(MultiplierCard)
class MultiplierCardAdmin(ReadOnlyAdmin):
    """Points multiplier cards members won on the prize wheel (issued by campaigns.services only)."""

    list_display = ("user", "campaign", "percent", "starts_at", "ends_at", "created_at")
    list_filter = ("campaign",)
    search_fields = ("user__phone", "user__email")
    list_select_related = ("user", "campaign")
    date_hierarchy = "starts_at"


def _adjust_campaign_picker() -> forms.Field:
    """The ledger's "Adjust points" form picks the campaign with the admin's search-as-you-type picker."""
    return forms.ModelChoiceField(
        label=_("Campaign"),
        queryset=Campaign.objects.all(),
        required=False,
        widget=AutocompleteSelect(MultiplierCard._meta.get_field("campaign"), admin.site),
        help_text=_("Optional: the campaign the points belong to. Type its name to search."),
        error_messages={"invalid_choice": _("Pick a campaign from the list.")},
    )


adjust_campaign_field_set(_adjust_campaign_picker)
