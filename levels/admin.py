"""Operators' side of member levels: ladders with their levels inline (overlapping thresholds refused with a clear
message: levels.services.levels_validate in the inline formset's clean and again at save), "members by level"
(filter by level, search by phone or e-mail) with the "Set a floor" action (asks for the level and a reason; audited
by levels.services.member_level_floor_set; permission levels.set_floor), level rewards and level changes read-only.

Who: operators add/change ladders and set floors; analysts view and export (accounts.services.STAFF_GROUPS)."""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import admin, messages
from django.contrib.admin import helpers
from django.core.exceptions import ValidationError
from django.db.models import QuerySet
from django.forms.models import BaseInlineFormSet
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext

from config.admin import ReadOnlyAdmin, ServiceAdmin, save_or_refuse
from config.errors import DomainError
from config.forms import error_text
from levels import services
from levels.models import Ladder, Level, LevelAward, LevelChange, MemberLevel


def _actor_id(request: HttpRequest) -> int:
    pk = request.user.pk
    assert pk is not None  # the admin serves signed-in staff only
    return int(pk)


class LevelFormSet(BaseInlineFormSet):
    """The ladder's levels, checked together: ranks from 0, thresholds rising with rank (levels.rules)."""

    def clean(self) -> None:
        super().clean()
        if any(self.errors):
            return
        kept = [
            form.instance
            for form in self.forms
            if form.cleaned_data and not form.cleaned_data.get("DELETE", False) and form.instance is not None
        ]
        try:
            services.levels_validate(kept)
        except ValidationError as exc:
            raise ValidationError(
                [_("Thresholds overlap; nothing was saved.")] + [str(message) for message in exc.messages]
            ) from exc


class LevelInline(admin.StackedInline):
    model = Level
    formset = LevelFormSet
    extra = 0
    min_num = 1
    fieldsets = (
        (None, {"fields": (("rank", "name", "name_en"), ("badge", "badge_en"), ("badge_alt", "badge_alt_en"))}),
        (
            gettext_lazy("Thresholds"),
            {"fields": (("min_points_earned", "min_spend"), ("min_referrals", "min_checkin_days"))},
        ),
        (
            gettext_lazy("Rewards"),
            {"fields": (("reward_points", "discount_percent", "priority_support"), "benefits", "benefits_en")},
        ),
    )


@admin.register(Ladder)
class LadderAdmin(ServiceAdmin):
    list_display = ("name", "name_en", "campaign", "combine", "period", "downgrade", "active")
    list_filter = ("active", "period", "downgrade")
    inlines = (LevelInline,)
    fields = ("name", "name_en", "campaign", "combine", "period", "downgrade", "active")

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False  # members' levels and rewards point at it: deactivate instead

    def save_model(self, request: HttpRequest, obj: Ladder, form: Any, change: bool) -> None:
        save_or_refuse(lambda: services.ladder_save(ladder=obj))

    def save_related(self, request: HttpRequest, form: Any, formsets: Any, change: bool) -> None:
        super().save_related(request, form, formsets, change)
        # Checked again on what was saved (a concurrent edit of the same ladder): refused rolls the whole save back.
        save_or_refuse(lambda: services.levels_validate(list(Level.objects.filter(ladder=form.instance))))


class SetFloorForm(forms.Form):
    level = forms.ModelChoiceField(
        label=gettext_lazy("floor"),
        queryset=Level.objects.none(),
        required=False,
        help_text=gettext_lazy("Empty: remove the floor."),
    )
    reason = forms.CharField(label=gettext_lazy("reason"), max_length=200)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        field = self.fields["level"]
        assert isinstance(field, forms.ModelChoiceField)
        field.queryset = Level.objects.filter(ladder__active=True).order_by("rank")


@admin.register(MemberLevel)
class MemberLevelAdmin(ReadOnlyAdmin):
    """Members by level: written by levels.services only; operators set floors through the action."""

    list_display = ("user", "ladder", "level", "floor", "period_key", "reached_at", "updated_at")
    list_filter = ("ladder", "level", "floor")
    search_fields = ("=user__phone", "user__email")
    list_select_related = ("user", "ladder", "level", "floor")
    actions = ("set_floor",)

    def has_set_floor_permission(self, request: HttpRequest) -> bool:
        return request.user.has_perm("levels.set_floor")

    @admin.action(description=gettext_lazy("Set a floor (asks for the level and a reason)"), permissions=["set_floor"])
    def set_floor(self, request: HttpRequest, queryset: QuerySet[MemberLevel]) -> HttpResponse | None:
        form = SetFloorForm(request.POST if "reason" in request.POST else None)
        rows = list(queryset.select_related("user").order_by("pk"))
        if form.is_valid():
            done = 0
            for row in rows:
                try:
                    services.member_level_floor_set(
                        user_id=row.user_id,
                        level=form.cleaned_data["level"],
                        actor_id=_actor_id(request),
                        reason=form.cleaned_data["reason"],
                        now=timezone.now(),
                    )
                except (ValidationError, DomainError) as exc:
                    self.message_user(request, f"{row.user}: {error_text(exc)}", messages.ERROR)
                    continue
                done += 1
            if done:
                self.message_user(
                    request,
                    ngettext("Floor set for %(n)d member.", "Floor set for %(n)d members.", done) % {"n": done},
                    messages.SUCCESS,
                )
            return None
        return render(
            request,
            "admin/levels/memberlevel/set_floor.html",
            {
                **self.admin_site.each_context(request),
                "opts": self.model._meta,
                "form": form,
                "rows": rows,
                "action_checkbox_name": helpers.ACTION_CHECKBOX_NAME,
                "title": _("Set a level floor"),
            },
        )


@admin.register(LevelChange)
class LevelChangeAdmin(ReadOnlyAdmin):
    list_display = ("at", "user", "ladder", "from_level", "to_level", "cause", "actor", "reason")
    list_filter = ("cause", "ladder", "to_level")
    search_fields = ("=user__phone", "user__email", "reason")
    list_select_related = ("user", "ladder", "from_level", "to_level", "actor")
    date_hierarchy = "at"


@admin.register(LevelAward)
class LevelAwardAdmin(ReadOnlyAdmin):
    list_display = ("created_at", "user", "level", "period_key", "points", "transfer_id")
    list_filter = ("level", "period_key")
    search_fields = ("=user__phone", "user__email")
    list_select_related = ("user", "level")
    date_hierarchy = "created_at"
