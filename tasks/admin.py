from typing import Any

from django import forms
from django.contrib import admin
from django.core.exceptions import ValidationError
from django.http import HttpRequest

from config.admin import ReadOnlyAdmin
from config.forms import errors_to_form
from tasks import checkins, engine, rules
from tasks.models import CheckIn, CheckInRule, IngestedEvent, StreakReward, TaskDefinition, TaskProgress


class CheckInRuleForm(forms.ModelForm):
    class Meta:
        model = CheckInRule
        fields = (
            "campaign",
            "base_points",
            "milestones",
            "cycle",
            "makeup_enabled",
            "makeup_cost",
            "makeup_monthly_cap",
        )

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        try:
            rules.checkin_rule_validate(
                self.instance.__class__(
                    **{k: v for k, v in data.items() if k in {"base_points", "milestones", "cycle"}}
                )
            )
        except ValidationError as exc:
            errors_to_form(self, exc)
        return data


@admin.register(CheckInRule)
class CheckInRuleAdmin(admin.ModelAdmin):
    form = CheckInRuleForm
    list_display = ("campaign", "base_points", "cycle", "makeup_enabled")

    def save_model(self, request: HttpRequest, obj: CheckInRule, form: Any, change: bool) -> None:
        checkins.checkin_rule_save(rule=obj)


@admin.register(CheckIn)
class CheckInAdmin(ReadOnlyAdmin):
    list_display = ("local_date", "campaign", "user", "streak", "points", "is_makeup", "created_at")
    list_filter = ("campaign", "is_makeup", "local_date")
    search_fields = ("user__phone", "user__email")
    list_select_related = ("campaign", "user")


@admin.register(StreakReward)
class StreakRewardAdmin(ReadOnlyAdmin):
    list_display = ("created_at", "campaign", "user", "day", "cycle", "points", "streak_start")
    list_filter = ("campaign",)
    search_fields = ("user__phone", "user__email")


class TaskDefinitionForm(forms.ModelForm):
    class Meta:
        model = TaskDefinition
        fields = (
            "campaign",
            "tier",
            "title",
            "title_en",
            "description",
            "description_en",
            "event_type",
            "target_count",
            "min_amount",
            "reward_points",
            "window",
            "repeatable",
            "auto_reward",
            "prerequisite",
            "is_active",
            "sort_order",
        )

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if self.errors:
            return data
        candidate = TaskDefinition(pk=self.instance.pk, **{k: v for k, v in data.items() if k in self.fields})
        try:
            engine.task_definition_validate(candidate)
        except ValidationError as exc:
            errors_to_form(self, exc)
        return data


@admin.register(TaskDefinition)
class TaskDefinitionAdmin(admin.ModelAdmin):
    form = TaskDefinitionForm
    list_display = ("title", "campaign", "tier", "event_type", "target_count", "reward_points", "window", "is_active")
    list_filter = ("campaign", "tier", "window", "is_active")
    search_fields = ("title", "title_en", "event_type")
    list_select_related = ("campaign",)
    autocomplete_fields = ("prerequisite",)

    def save_model(self, request: HttpRequest, obj: TaskDefinition, form: Any, change: bool) -> None:
        engine.task_definition_save(task=obj)


@admin.register(IngestedEvent)
class IngestedEventAdmin(ReadOnlyAdmin):
    list_display = ("received_at", "event_id", "api_key", "campaign", "user", "type", "amount", "occurred_at")
    list_filter = ("api_key", "campaign", "type")
    search_fields = ("event_id", "user__phone", "user__email")
    list_select_related = ("api_key", "campaign", "user")


@admin.register(TaskProgress)
class TaskProgressAdmin(ReadOnlyAdmin):
    list_display = ("updated_at", "task", "user", "window_key", "count", "completed_at", "claimed_at")
    list_filter = ("task__campaign", "task")
    search_fields = ("user__phone", "user__email", "task__title")
    list_select_related = ("task", "user")
