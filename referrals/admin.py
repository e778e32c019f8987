"""Operators' side of invites. Referral programs (rewards, qualifying action, hold, fraud thresholds, top-N prizes
and title) through referrals.programs.program_save, audited by django-auditlog; invites read-only with their fraud
signals in words (referrals/rules.py) and rewards; the review queue (the invites in review, oldest first) with
"Approve" and "Reject", which ask for a reason and call referrals.services.invite_review, then report what changed
and what was left as it was and why; leaderboard snapshots and final awards read-only.

Who decides: the permission referrals.review_invite, granted to operators and to analysts (accounts.services
STAFF_GROUPS) — analysts watch the fraud signals and may decide suspected fraud; finance does not see invites."""

from __future__ import annotations

import copy
from typing import Any, ClassVar

from django import forms
from django.contrib import admin, messages
from django.contrib.admin import helpers
from django.core.exceptions import ValidationError
from django.db.models import OuterRef, QuerySet, Subquery
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils import timezone
from django.utils.html import format_html, format_html_join
from django.utils.safestring import mark_safe
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext

from config.admin import ReadOnlyAdmin, ServiceAdmin, save_or_refuse
from config.forms import errors_to_form
from points.models import Transfer
from referrals import programs
from referrals.errors import InviteHoldOver, InviteNotFound, InviteStateInvalid
from referrals.models import FinalAward, Invite, InviteReview, InviteStatus, LeaderboardSnapshot, Program
from referrals.rules import REASON_LABELS, reason_labels
from referrals.services import invite_review

MAX_REASON = 200
SKIP_MESSAGES = {error.code: error.default_message for error in (InviteStateInvalid, InviteHoldOver, InviteNotFound)}


def _actor_id(request: HttpRequest) -> int:
    pk = request.user.pk
    assert pk is not None  # the admin serves signed-in staff only
    return int(pk)


# --- Referral programs --------------------------------------------------------------------------------------

PROGRAM_FIELDS = tuple(f.name for f in Program._meta.concrete_fields if f.editable and f.name != "id")


class ProgramForm(forms.ModelForm):
    """A program. clean() runs referrals.programs.program_check, so the form shows what program_save refuses."""

    class Meta:
        model = Program
        fields = PROGRAM_FIELDS

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        candidate = copy.copy(self.instance)
        for name, value in data.items():
            if hasattr(candidate, name):
                setattr(candidate, name, value)
        try:
            programs.program_check(program=candidate)
        except ValidationError as exc:
            errors_to_form(self, exc)
        return data


@admin.register(Program)
class ProgramAdmin(ServiceAdmin):
    form = ProgramForm
    list_display = (
        "campaign",
        "is_active",
        "qualifying_action",
        "inviter_points",
        "invitee_points",
        "hold_days",
        "inviter_daily_cap",
        "inviter_campaign_cap",
        "top_n",
    )
    list_filter = ("is_active", "qualifying_action")
    search_fields = ("campaign__name", "campaign__name_en", "campaign__slug")
    list_select_related = ("campaign",)
    fieldsets = (
        (None, {"fields": ("campaign", "is_active", "qualifying_action")}),
        (gettext_lazy("Rewards"), {"fields": (("inviter_points", "invitee_points"), "hold_days")}),
        (
            gettext_lazy("Fraud rules"),
            {
                "fields": (
                    ("inviter_daily_cap", "inviter_campaign_cap"),
                    "device_max",
                    ("ip_hourly_max", "subnet_hourly_max"),
                    "inviter_burst_max",
                    "idle_days",
                )
            },
        ),
        (gettext_lazy("Leaderboard prizes"), {"fields": (("top_n", "top_points"), ("title", "title_en"))}),
    )

    def get_readonly_fields(self, request: HttpRequest, obj: Program | None = None) -> tuple[str, ...]:
        return ("campaign",) if obj is not None else ()

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False  # switch a program off ("active") instead: its invites keep pointing at the campaign

    def save_model(self, request: HttpRequest, obj: Program, form: Any, change: bool) -> None:
        save_or_refuse(lambda: programs.program_save(program=obj))


# --- Invites and the review queue -----------------------------------------------------------------------------


class RiskReasonFilter(admin.SimpleListFilter):
    title = gettext_lazy("fraud signal")
    parameter_name = "reason"

    def lookups(self, request: HttpRequest, model_admin: Any) -> Any:
        return [(code, label) for code, label in REASON_LABELS.items()]

    def queryset(self, request: HttpRequest, queryset: QuerySet[Any]) -> QuerySet[Any]:
        if self.value() in REASON_LABELS:
            return queryset.filter(risk_reasons__contains=[self.value()])
        return queryset


class ReviewForm(forms.Form):
    reason = forms.CharField(
        label=gettext_lazy("reason"),
        max_length=MAX_REASON,
        widget=forms.TextInput(attrs={"size": 60}),
        help_text=gettext_lazy("Kept on each invite with your name and the time."),
    )


DECISIONS = {
    "approve": (
        gettext_lazy("Approve invites"),
        gettext_lazy(
            "Approving pays the inviter's reward and the newcomer gift once (pending until the program's hold "
            "ends, if it has one). Only invites in review can be approved."
        ),
        gettext_lazy("Approve (pay rewards)"),
    ),
    "reject": (
        gettext_lazy("Reject invites"),
        gettext_lazy(
            "Rejecting pays no rewards; rewards still pending (on hold) are reversed. Rewards whose hold is over "
            "stay with the members, and the members' own points are never touched."
        ),
        gettext_lazy("Reject (no rewards)"),
    ),
}


def _selected_ids(request: HttpRequest, queryset: QuerySet[Any]) -> list[int]:
    """The invites ticked on the page, also those that left the list meanwhile (decided by someone else): the
    service says why it leaves them as they are."""
    ids = set(queryset.values_list("pk", flat=True))
    for raw in request.POST.getlist(helpers.ACTION_CHECKBOX_NAME):
        if raw.isdigit() and len(raw) < 19:
            ids.add(int(raw))
    return sorted(ids)


@admin.register(Invite)
class InviteAdmin(ReadOnlyAdmin):
    """Invites are written by referrals.services only; reviewers decide them here or in the review queue."""

    list_display: tuple[str, ...] = (  # the campaign is a filter: the columns fit a 1,366 px screen
        "id",
        "created_at",
        "inviter",
        "invitee",
        "status",
        "reasons",
        "rewards",
        "hold_until",
    )
    list_filter: ClassVar[tuple[Any, ...]] = ("campaign", "status", RiskReasonFilter, "qualifying_action")
    search_fields = ("=inviter__phone", "inviter__email", "=invitee__phone", "invitee__email", "id__exact")
    list_select_related = ("campaign", "inviter", "invitee", "reviewed_by")
    date_hierarchy: ClassVar[str | None] = "created_at"
    show_full_result_count = False
    actions = ("approve_selected", "reject_selected")
    fields = (
        ("id", "status", "campaign"),
        ("inviter", "invitee"),
        ("created_at", "local_date", "qualifying_action"),
        "reasons_list",
        ("ip", "network", "device"),
        ("qualified_at", "rewarded_at", "hold_until"),
        "rewards_detail",
        ("reviewed_by", "reviewed_at", "review_reason"),
        "idle_flagged_at",
    )
    readonly_fields = ("reasons_list", "rewards_detail")

    def get_queryset(self, request: HttpRequest) -> QuerySet[Any]:
        def amount(column: str) -> Subquery:
            return Subquery(Transfer.objects.filter(pk=OuterRef(column)).values("amount")[:1])

        return (
            super()
            .get_queryset(request)
            .annotate(inviter_amount=amount("inviter_transfer_id"), invitee_amount=amount("invitee_transfer_id"))
        )

    @admin.display(description=gettext_lazy("fraud signals"))
    def reasons(self, obj: Invite) -> str:
        return "; ".join(reason_labels(obj.risk_reasons or [])) or "-"

    @admin.display(description=gettext_lazy("fraud signals"))
    def reasons_list(self, obj: Invite) -> str:
        labels = reason_labels(obj.risk_reasons or [])
        if not labels:
            return _("none")
        return format_html_join(mark_safe("<br>"), "{}", ((label,) for label in labels))

    @admin.display(description=gettext_lazy("rewards"))
    def rewards(self, obj: Invite) -> str:
        if obj.rewarded_at is None:
            return "-"
        paid = _("%(inviter)s to the inviter, %(invitee)s to the newcomer") % {
            "inviter": getattr(obj, "inviter_amount", None) or 0,
            "invitee": getattr(obj, "invitee_amount", None) or 0,
        }
        if obj.status == InviteStatus.REJECTED:
            return _("%(paid)s — reversed") % {"paid": paid}
        if obj.hold_until is not None and obj.hold_until > timezone.now():
            return _("%(paid)s — pending") % {"paid": paid}
        return paid

    @admin.display(description=gettext_lazy("rewards"))
    def rewards_detail(self, obj: Invite) -> str:
        return self.rewards(obj)

    def has_review_permission(self, request: HttpRequest) -> bool:
        return request.user.has_perm("referrals.review_invite")

    @admin.action(description=gettext_lazy("Approve (pay rewards; asks for a reason)"), permissions=["review"])
    def approve_selected(self, request: HttpRequest, queryset: QuerySet[Any]) -> HttpResponse | None:
        return self._decide(request, queryset, "approve")

    @admin.action(
        description=gettext_lazy("Reject (no rewards / reverse pending; asks for a reason)"), permissions=["review"]
    )
    def reject_selected(self, request: HttpRequest, queryset: QuerySet[Any]) -> HttpResponse | None:
        return self._decide(request, queryset, "reject")

    def _decide(self, request: HttpRequest, queryset: QuerySet[Any], decision: str) -> HttpResponse | None:
        form = ReviewForm(request.POST if "reason" in request.POST else None)
        ids = _selected_ids(request, queryset)
        if form.is_valid():
            result = invite_review(
                invite_ids=ids,
                decision="approve" if decision == "approve" else "reject",
                actor_id=_actor_id(request),
                reason=form.cleaned_data["reason"],
            )
            self._report(request, decision, result.changed, result.skipped)
            return None
        title, explanation, button = DECISIONS[decision]
        invites = Invite.objects.filter(pk__in=ids).select_related("campaign", "inviter", "invitee").order_by("pk")
        return render(
            request,
            "admin/referrals/invite/review.html",
            {
                **self.admin_site.each_context(request),
                "opts": self.model._meta,
                "title": title,
                "explanation": explanation,
                "button": button,
                "form": form,
                "invites": [(invite, reason_labels(invite.risk_reasons or [])) for invite in invites],
                "ids": ids,
                "action": f"{decision}_selected",
                "action_checkbox_name": helpers.ACTION_CHECKBOX_NAME,
            },
        )

    def _report(self, request: HttpRequest, decision: str, changed: list[int], skipped: dict[int, str]) -> None:
        if changed:
            shown = ", ".join(f"#{pk}" for pk in changed)
            if decision == "approve":
                text = ngettext(
                    "%(n)d invite approved, rewards paid: %(ids)s.",
                    "%(n)d invites approved, rewards paid: %(ids)s.",
                    len(changed),
                )
            else:
                text = ngettext(
                    "%(n)d invite rejected (pending rewards reversed): %(ids)s.",
                    "%(n)d invites rejected (pending rewards reversed): %(ids)s.",
                    len(changed),
                )
            self.message_user(request, text % {"n": len(changed), "ids": shown}, messages.SUCCESS)
        statuses = dict(Invite.objects.filter(pk__in=list(skipped)).values_list("pk", "status"))
        for pk, code in sorted(skipped.items()):
            why = str(SKIP_MESSAGES.get(code, code))
            status = statuses.get(pk)
            if status is not None:
                why = _("%(why)s (now: %(status)s)") % {"why": why, "status": InviteStatus(status).label}
            self.message_user(request, _("#%(id)s left as it was: %(why)s") % {"id": pk, "why": why}, messages.WARNING)


@admin.register(InviteReview)
class InviteReviewAdmin(InviteAdmin):
    """The review queue: invites in review (the proxy's manager), oldest first."""

    list_display = ("id", "created_at", "inviter", "invitee", "reasons", "qualified_at", "rewards")
    list_filter = ("campaign", RiskReasonFilter, "qualifying_action")
    date_hierarchy = None


# --- Leaderboard ----------------------------------------------------------------------------------------------


@admin.register(LeaderboardSnapshot)
class LeaderboardSnapshotAdmin(ReadOnlyAdmin):
    list_display = ("taken_at", "campaign", "is_final", "members")
    list_filter = ("campaign", "is_final")
    list_select_related = ("campaign",)
    date_hierarchy = "taken_at"
    fields = ("campaign", "taken_at", "is_final", "top_rows")

    @admin.display(description=gettext_lazy("ranked members"))
    def members(self, obj: LeaderboardSnapshot) -> int:
        return len(obj.rows or [])

    @admin.display(description=gettext_lazy("ranking (first 100)"))
    def top_rows(self, obj: LeaderboardSnapshot) -> str:
        rows = [row for row in (obj.rows or [])[:100] if isinstance(row, list) and len(row) >= 3]
        if not rows:
            return "-"
        header = format_html(
            "<tr><th>{}</th><th>{}</th><th>{}</th></tr>", _("rank"), _("member id"), _("qualified invites")
        )
        body = format_html_join("", "<tr><td>{}</td><td>{}</td><td>{}</td></tr>", ((r[1], r[0], r[2]) for r in rows))
        return format_html("<table>{}{}</table>", header, body)


@admin.register(FinalAward)
class FinalAwardAdmin(ReadOnlyAdmin):
    list_display = ("campaign", "rank", "user", "invites", "points", "title", "title_en", "awarded_at")
    list_filter = ("campaign",)
    search_fields = ("=user__phone", "user__email")
    list_select_related = ("campaign", "user")
