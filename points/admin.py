"""Operators' view of the ledger: read-only accounts and transfers, an audited "Adjust points" form, reversals.
Every write goes through points.services."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from typing import Any

from django import forms
from django.contrib import admin, messages
from django.contrib.admin import helpers
from django.contrib.admin.widgets import AutocompleteSelect
from django.contrib.auth import get_user_model
from django.core.exceptions import PermissionDenied
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.urls import path, reverse
from django.utils.translation import gettext_lazy as _

from config.admin import ReadOnlyAdmin
from config.errors import DomainError
from config.forms import errors_to_form
from points import kinds, services
from points.errors import AlreadyReversed, IdempotencyConflict
from points.models import Account, ExpiryPolicy, Hold, ReconciliationRun, Transfer


def _picker(model: type[Any], field: str) -> AutocompleteSelect:
    """The admin's search-as-you-type picker (select2, files only: no inline script) over the model admin of the
    related model of model.field; it lists what that admin's search finds for the staff member."""
    return AutocompleteSelect(model._meta.get_field(field), admin.site)


_campaign_field: Callable[[], forms.Field] | None = None


def adjust_campaign_field_set(factory: Callable[[], forms.Field]) -> None:
    """Let the app that owns campaigns give the Adjust form its campaign picker. The field must clean to an
    object with a `pk` (or None)."""
    global _campaign_field  # noqa: PLW0603 — a registration point filled once at start-up
    _campaign_field = factory


class AdjustForm(forms.Form):
    member = forms.ModelChoiceField(
        label=_("Member"),
        queryset=get_user_model().objects.all(),
        widget=_picker(Account, "user"),
        help_text=_("Type a phone number, email, name or external id and pick the member."),
        error_messages={"invalid_choice": _("Pick a member from the list.")},
    )
    amount = forms.IntegerField(label=_("Points"), help_text=_("Positive adds points, negative removes them."))
    reason = forms.CharField(label=_("Reason"), widget=forms.Textarea(attrs={"rows": 3}), max_length=500)
    reason_en = forms.CharField(
        label=_("Reason (English)"),
        required=False,
        max_length=500,
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text=_("Shown to members reading in English; blank shows the reason above."),
    )
    # The ledger knows campaigns only by id: the app that owns campaigns supplies the picker
    # (adjust_campaign_field_set, called from campaigns/admin.py); without one the field takes a campaign id.
    campaign = forms.IntegerField(label=_("Campaign"), required=False, min_value=1)
    key = forms.CharField(widget=forms.HiddenInput)  # one key per form shown: a double submit adjusts once

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if _campaign_field is not None:
            self.fields["campaign"] = _campaign_field()

    def clean_amount(self) -> int:
        amount = self.cleaned_data["amount"]
        if amount == 0:
            raise forms.ValidationError(_("The amount cannot be zero."))
        return amount

    def clean_reason(self) -> str:
        reason = self.cleaned_data["reason"].strip()
        if not reason:
            raise forms.ValidationError(_("A reason is required."))
        return reason


class ReverseForm(forms.Form):
    reason = forms.CharField(label=_("Reason"), max_length=500, widget=forms.Textarea(attrs={"rows": 3}))
    reason_en = forms.CharField(
        label=_("Reason (English)"),
        required=False,
        max_length=500,
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text=_("Shown to members reading in English; blank shows the reason above."),
    )


@admin.register(Account)
class AccountAdmin(ReadOnlyAdmin):
    list_display = ("id", "asset", "owner_type", "kind", "user", "campaign_id", "balance", "deferred")
    list_filter = ("asset", "owner_type", "kind", "deferred")
    search_fields = ("user__phone", "user__email", "=campaign_id", "=id")
    list_select_related = ("user",)
    change_list_template = "admin/points/account/change_list.html"

    def get_urls(self) -> list[Any]:
        return [
            path("adjust/", self.admin_site.admin_view(self.adjust_view), name="points_account_adjust"),
            *super().get_urls(),
        ]

    def adjust_view(self, request: HttpRequest) -> HttpResponse:
        if not request.user.has_perm("points.adjust_points"):
            raise PermissionDenied
        form = AdjustForm(request.POST or None, initial={"key": f"admin-adjust:{uuid.uuid4()}"})
        if request.method == "POST" and form.is_valid():
            data = form.cleaned_data
            try:
                posted = services.points_adjust(
                    user_id=data["member"].pk,
                    amount=data["amount"],
                    reason=data["reason"],
                    reason_en=data.get("reason_en", ""),
                    actor_id=request.user.pk,
                    key=data["key"],
                    campaign_id=getattr(data.get("campaign"), "pk", data.get("campaign")),
                )
            except DomainError as exc:
                errors_to_form(form, exc)
            else:
                messages.success(request, _("Points adjusted (transfer #%(id)s).") % {"id": posted.transfer_id})
                return HttpResponseRedirect(reverse("admin:points_transfer_change", args=[posted.transfer_id]))
        context = {
            **self.admin_site.each_context(request),
            "form": form,
            "title": _("Adjust points"),
            "opts": self.model._meta,
        }
        return render(request, "admin/points/adjust.html", context)


class KindFilter(admin.SimpleListFilter):
    """Filter by the registered kinds (points.kinds), shown by their translated labels."""

    title = _("kind")
    parameter_name = "kind"

    def lookups(self, request: HttpRequest, model_admin: Any) -> list[tuple[str, Any]]:
        return kinds.choices()

    def queryset(self, request: HttpRequest, queryset: QuerySet[Transfer]) -> QuerySet[Transfer]:
        return queryset.filter(kind=self.value()) if self.value() else queryset


@admin.register(Transfer)
class TransferAdmin(ReadOnlyAdmin):
    list_display = (
        "id",
        "created_at",
        "kind_display",
        "amount",
        "asset",
        "debit",
        "credit",
        "campaign_id",
        "actor",
        "reason",
        "reason_en",
    )
    list_filter = (KindFilter, "asset", "created_at")
    search_fields = (
        "=id",
        "idempotency_key",
        "reason",
        "reason_en",
        "=debit__user__phone",
        "=credit__user__phone",
        "debit__user__email",
        "credit__user__email",
    )
    list_select_related = ("debit", "credit", "actor")
    date_hierarchy = "created_at"
    actions = ("reverse_transfers",)
    show_full_result_count = False

    @admin.action(description=_("Reverse selected transfers (asks for a reason)"), permissions=["adjust"])
    def reverse_transfers(self, request: HttpRequest, queryset: QuerySet[Transfer]) -> HttpResponse | None:
        form = ReverseForm(request.POST if "reason" in request.POST else None)
        if form.is_valid():
            done = 0
            for transfer in queryset:
                try:
                    posted = services.transfer_reverse(
                        transfer_id=transfer.pk,
                        key=f"admin-reverse:{transfer.pk}",
                        reason=form.cleaned_data["reason"],
                        reason_en=form.cleaned_data.get("reason_en", ""),
                        actor_id=request.user.pk,
                    )
                except IdempotencyConflict:  # this action's key for the transfer is taken: reversed already
                    posted = None
                except DomainError as exc:
                    self.message_user(request, f"#{transfer.pk}: {exc.message}", messages.ERROR)
                    continue
                if posted is not None and posted.created:
                    done += 1
                else:  # a replay: reversed earlier by this action, nothing new was posted
                    self.message_user(request, f"#{transfer.pk}: {AlreadyReversed.default_message}", messages.WARNING)
            if done:
                self.message_user(request, _("%(n)d transfer(s) reversed.") % {"n": done}, messages.SUCCESS)
            return None
        context = {
            **self.admin_site.each_context(request),
            "form": form,
            "transfers": queryset,
            "title": _("Reverse transfers"),
            "opts": self.model._meta,
            "action_checkbox_name": helpers.ACTION_CHECKBOX_NAME,
        }
        return render(request, "admin/points/reverse.html", context)

    def has_adjust_permission(self, request: HttpRequest) -> bool:
        return request.user.has_perm("points.adjust_points")

    @admin.display(description=_("kind"), ordering="kind")
    def kind_display(self, obj: Transfer) -> str:
        return obj.kind_label


@admin.register(Hold)
class HoldAdmin(ReadOnlyAdmin):
    list_display = ("id", "key", "account", "amount", "state", "campaign_id", "created_at", "settled_at")
    list_filter = ("state",)
    search_fields = ("key",)


@admin.register(ReconciliationRun)
class ReconciliationRunAdmin(ReadOnlyAdmin):
    list_display = ("started_at", "ok", "accounts_checked", "finished_at")
    list_filter = ("ok",)
    readonly_fields = ("started_at", "finished_at", "ok", "accounts_checked", "drift")


@admin.register(ExpiryPolicy)
class ExpiryPolicyAdmin(admin.ModelAdmin):
    """One place to edit each policy. The default policy (no campaign) is edited here. A campaign's policy mirrors
    the campaign's own "points expire" fields, is written only when the campaign is saved and is read-only here."""

    list_display = ("__str__", "edited_in", "asset", "rule", "days", "timezone")
    list_filter = ("rule",)
    fields = ("asset", "rule", "days", "timezone")  # never campaign_id: this page only writes the default policy

    @admin.display(description=_("edited in"))
    def edited_in(self, obj: ExpiryPolicy) -> str:
        if obj.campaign_id is None:
            return str(_("here (default for points outside campaigns and campaigns without a policy)"))
        return str(_("the campaign's settings (campaign #%(id)s)") % {"id": obj.campaign_id})

    def get_readonly_fields(self, request: HttpRequest, obj: ExpiryPolicy | None = None) -> tuple[str, ...]:
        return ("asset",) if obj is not None else ()

    def has_change_permission(self, request: HttpRequest, obj: ExpiryPolicy | None = None) -> bool:
        if obj is not None and obj.campaign_id is not None:
            return False
        return super().has_change_permission(request, obj)

    def has_delete_permission(self, request: HttpRequest, obj: ExpiryPolicy | None = None) -> bool:
        return False  # a policy is changed (e.g. to "never"), not removed

    def save_model(self, request: HttpRequest, obj: ExpiryPolicy, form: Any, change: bool) -> None:
        saved = services.expiry_policy_set(
            campaign_id=None, rule=obj.rule, days=obj.days, asset=obj.asset_id or "PTS", tz=obj.timezone
        )
        obj.pk = saved.pk
