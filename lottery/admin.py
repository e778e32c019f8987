"""Operators' side of the prize wheel: wheels with their prizes (inline), prizes and draws (read-only); physical
prizes ship through the shipments queue (shipments/admin.py). Every write goes through lottery.services; wheel
and prize changes are audited by django-auditlog and the history is shown on their change pages."""

from __future__ import annotations

import copy
from typing import Any

from django import forms
from django.contrib import admin, messages
from django.contrib.admin.utils import unquote
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from config.admin import ReadOnlyAdmin, SaveRefused, ServiceAdmin, save_or_refuse
from config.errors import DomainError
from config.forms import error_text, errors_to_form
from lottery import selectors, services
from lottery.errors import OddsChangeRefused
from lottery.models import Draw, Prize, Wheel

WHEEL_FORM_FIELDS = (
    "name",
    "name_en",
    "campaign",
    "cost_points",
    "free_spins_per_day",
    "daily_cap",
    "total_cap",
    "claim_days",
)
PRIZE_FORM_FIELDS = (*services.PRIZE_FIELDS[:5], "stock_total", *services.PRIZE_FIELDS[5:])


# --- Wheels and prizes ------------------------------------------------------------------------------------


class WheelForm(forms.ModelForm):
    class Meta:
        model = Wheel
        fields = WHEEL_FORM_FIELDS

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        candidate = copy.copy(self.instance)
        for name in WHEEL_FORM_FIELDS:
            if name in data:
                setattr(candidate, name, data[name])
        try:
            services.wheel_validate(candidate)
        except ValidationError as exc:
            errors_to_form(self, exc)
        return data


class PrizeForm(forms.ModelForm):
    """One prize. clean() runs the checks of services.prize_save (services.prize_check, which writes nothing):
    field errors, the 50,000 RMB limit and, on a live wheel, the "only in members' favour" rule."""

    class Meta:
        model = Prize
        fields = ("wheel", *PRIZE_FORM_FIELDS)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if self.instance.pk and "kind" in self.fields:
            self.fields["kind"].disabled = True  # prize_save never changes the kind of a saved prize
        if "stock_total" in self.fields:
            self.fields["stock_total"].help_text = gettext_lazy(
                "Blank means unlimited (only for “thanks for playing”). Changing it adds or removes that many units."
            )

    def _get_validation_exclusions(self) -> set[str]:
        # services.prize_check validates these (with field messages); the model's constraints would only repeat
        # its findings as anonymous "constraint violated" errors.
        exclude: set[str] = super()._get_validation_exclusions()  # type: ignore[misc]  # not in django-stubs
        return exclude | set(PRIZE_FORM_FIELDS)

    def prize_data(self) -> dict[str, Any]:
        data: dict[str, Any] = {}
        for name in PRIZE_FORM_FIELDS:
            if name not in self.cleaned_data or name not in self.fields:
                continue
            value = self.cleaned_data[name]
            if name == "image":
                if value is None:
                    continue
                value = value or ""  # False: "clear" was ticked
            data[name] = value
        return data

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if self.errors:
            return data
        candidate = copy.copy(self.instance)
        if isinstance(data.get("wheel"), Wheel):
            candidate.wheel = data["wheel"]
        if candidate.wheel_id is None and "wheel" not in data:
            return data
        try:
            services.prize_check(prize=candidate, data=self.prize_data())
        except (ValidationError, OddsChangeRefused) as exc:
            errors_to_form(self, exc)
        return data


class PrizeInline(admin.StackedInline):
    """Each prize as a short stack of rows (a 1,366 px laptop shows every field without scrolling sideways); the
    fields only some kinds use are folded away (opened by themselves when they hold an error)."""

    model = Prize
    form = PrizeForm
    fieldsets = (
        (
            None,
            {"fields": (("kind", "name", "name_en"), ("weight", "stock_total", "stock_remaining", "per_member_cap"))},
        ),
        (gettext_lazy("Value"), {"fields": (("unit_value_cny", "points_amount", "sort_order"), "supplier")}),
        (
            gettext_lazy("Multiplier card, coupon codes and image"),
            {"fields": (("multiplier_percent", "multiplier_hours"), "code_pool", "image"), "classes": ("collapse",)},
        ),
    )
    readonly_fields = ("stock_remaining",)
    extra = 0
    show_change_link = True


@admin.register(Wheel)
class WheelAdmin(ServiceAdmin):
    form = WheelForm
    inlines = (PrizeInline,)
    change_form_template = "admin/lottery/wheel/change_form.html"
    list_display = ("name", "campaign", "cost_points", "free_spins_per_day", "daily_cap", "total_cap", "odds_version")
    list_select_related = ("campaign",)
    search_fields = ("name", "name_en", "campaign__name", "campaign__slug")

    def get_fieldsets(self, request: HttpRequest, obj: Wheel | None = None) -> Any:
        if obj is None:
            return ((None, {"fields": WHEEL_FORM_FIELDS}),)
        return (
            (None, {"fields": WHEEL_FORM_FIELDS}),
            (_("Fairness"), {"fields": ("seed_commitment", "server_seed_shown", "odds_version")}),
        )

    def get_readonly_fields(self, request: HttpRequest, obj: Wheel | None = None) -> tuple[str, ...]:
        if obj is None:
            return ()
        return ("campaign", "seed_commitment", "server_seed_shown", "odds_version")

    @admin.display(description=gettext_lazy("server seed"))
    def server_seed_shown(self, obj: Wheel) -> str:
        proof = selectors.fairness_for(wheel=obj)
        if proof.seed is not None:
            return proof.seed
        ends = timezone.localtime(proof.reveal_at).strftime("%Y-%m-%d %H:%M")
        return _("Secret until the campaign ends (%(at)s).") % {"at": ends}

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def save_model(self, request: HttpRequest, obj: Wheel, form: Any, change: bool) -> None:
        services.wheel_save(wheel=obj)

    def save_formset(self, request: HttpRequest, form: Any, formset: Any, change: bool) -> None:
        if formset.model is not Prize:
            super().save_formset(request, form, formset, change)
            return
        formset.save(commit=False)  # writes nothing; fills new/changed/deleted_objects for the change message
        now = timezone.now()
        for prize in list(formset.deleted_objects):
            try:
                services.prize_delete(prize=prize, now=now)
            except (ValidationError, DomainError) as exc:
                formset.deleted_objects.remove(prize)
                messages.error(
                    request,
                    _("“%(prize)s” was not removed: %(problem)s") % {"prize": prize.name, "problem": error_text(exc)},
                )
        for prize_form in formset.forms:
            if prize_form in formset.deleted_forms or not prize_form.has_changed():
                continue
            prize = prize_form.instance
            prize.wheel = form.instance
            try:
                services.prize_save(prize=prize, data=prize_form.prize_data(), now=now)
            except (ValidationError, DomainError) as exc:
                raise SaveRefused(
                    _("Nothing was saved. “%(prize)s”: %(problem)s") % {"prize": prize.name, "problem": error_text(exc)}
                ) from exc

    def change_view(
        self, request: HttpRequest, object_id: str, form_url: str = "", extra_context: dict[str, Any] | None = None
    ) -> HttpResponse:
        wheel = self.get_object(request, unquote(object_id))
        extra = dict(extra_context or {})
        if wheel is not None:
            extra["odds_rows"] = selectors.odds_table(wheel=wheel)
            extra["audit_rows"] = selectors.audit_history(wheel=wheel)
            extra["live"] = selectors.wheel_is_live(wheel=wheel, now=timezone.now())
        return super().change_view(request, object_id, form_url, extra)


@admin.register(Prize)
class PrizeAdmin(ServiceAdmin):
    form = PrizeForm
    change_form_template = "admin/lottery/prize/change_form.html"
    list_display = ("name", "wheel", "kind", "weight", "stock_total", "stock_remaining", "unit_value_cny")
    list_filter = ("wheel", "kind")
    search_fields = ("name", "name_en")
    list_select_related = ("wheel__campaign",)

    def get_fields(self, request: HttpRequest, obj: Prize | None = None) -> tuple[str, ...]:
        return ("wheel", *PRIZE_FORM_FIELDS, "stock_remaining")

    def get_readonly_fields(self, request: HttpRequest, obj: Prize | None = None) -> tuple[str, ...]:
        return ("stock_remaining",) if obj is None else ("wheel", "stock_remaining")

    def get_actions(self, request: HttpRequest) -> dict[str, Any]:
        actions = super().get_actions(request)
        actions.pop("delete_selected", None)  # deletion goes one prize at a time through services.prize_delete
        return actions

    def save_model(self, request: HttpRequest, obj: Prize, form: Any, change: bool) -> None:
        save_or_refuse(lambda: services.prize_save(prize=obj, data=form.prize_data()))

    def delete_model(self, request: HttpRequest, obj: Prize) -> None:
        services.prize_delete(prize=obj)

    def delete_view(
        self, request: HttpRequest, object_id: str, extra_context: dict[str, Any] | None = None
    ) -> HttpResponse:
        try:
            return super().delete_view(request, object_id, extra_context)
        except (ValidationError, DomainError) as exc:  # raised by delete_model: the admin's transaction rolled back
            self.message_user(request, _("Not removed: %(problem)s") % {"problem": error_text(exc)}, messages.ERROR)
            return HttpResponseRedirect(reverse("admin:lottery_prize_change", args=[object_id]))

    def change_view(
        self, request: HttpRequest, object_id: str, form_url: str = "", extra_context: dict[str, Any] | None = None
    ) -> HttpResponse:
        prize = self.get_object(request, unquote(object_id))
        extra = dict(extra_context or {})
        if prize is not None:
            extra["audit_rows"] = selectors.audit_history(prize=prize)
        return super().change_view(request, object_id, form_url, extra)


@admin.register(Draw)
class DrawAdmin(ReadOnlyAdmin):
    list_display = ("id", "created_at", "wheel", "user", "spin_number", "prize", "cost_points", "odds_version")
    list_filter = ("wheel", "prize__kind", "local_date")
    search_fields = ("user__phone", "user__email")
    list_select_related = ("wheel__campaign", "user", "prize")
    date_hierarchy = "created_at"
    show_full_result_count = False
