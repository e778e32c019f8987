"""The check-in page: a month calendar, the streak, the next milestone and one big button."""

from __future__ import annotations

from datetime import date

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from accounts.selectors import request_user_id
from campaigns.errors import CampaignNotFound
from campaigns.models import Campaign
from campaigns.selectors import campaign_by_slug, campaign_open_for_members
from config.errors import DomainError
from config.ratelimit import rate_limit_page
from tasks import checkins, engine, selectors


def _campaign(slug: str) -> Campaign:
    try:
        return campaign_by_slug(slug=slug)
    except CampaignNotFound as exc:
        raise Http404 from exc


@login_required
def checkin_page(request: HttpRequest, slug: str) -> HttpResponse:
    campaign = _campaign(slug)
    state = selectors.checkin_status(campaign=campaign, user_id=request_user_id(request))
    if state is None:
        raise Http404
    leading_blanks = range(state.month_days[0].weekday())
    return render(
        request,
        "tasks/checkin.html",
        {
            "campaign": campaign,
            "state": state,
            "leading_blanks": leading_blanks,
            "checkin_open": campaign_open_for_members(campaign=campaign, now=timezone.now()),
        },
    )


@login_required
@require_POST
@rate_limit_page("checkin")
def checkin_submit(request: HttpRequest, slug: str) -> HttpResponse:
    campaign = _campaign(slug)
    try:
        checkin = checkins.checkin_create(campaign=campaign, user_id=request_user_id(request))
    except DomainError as exc:
        messages.error(request, str(exc.message))
    else:
        messages.success(
            request,
            _("Checked in! +%(points)d points · %(streak)d-day streak.")
            % {"points": checkin.points, "streak": checkin.streak},
        )
    return redirect("tasks:checkin", slug=slug)


@login_required
@require_POST
@rate_limit_page("checkin")
def makeup_submit(request: HttpRequest, slug: str) -> HttpResponse:
    campaign = _campaign(slug)
    try:
        day = date.fromisoformat(request.POST.get("date", ""))
    except ValueError:
        messages.error(request, _("Choose a valid day."))
        return redirect("tasks:checkin", slug=slug)
    try:
        checkins.checkin_makeup(campaign=campaign, user_id=request_user_id(request), day=day)
    except DomainError as exc:
        messages.error(request, str(exc.message))
    else:
        messages.success(request, _("Make-up check-in done for %(day)s.") % {"day": day.isoformat()})
    return redirect("tasks:checkin", slug=slug)


@login_required
def tasks_page(request: HttpRequest, slug: str) -> HttpResponse:
    campaign = _campaign(slug)
    groups = selectors.tasks_for_member(campaign=campaign, user_id=request_user_id(request))
    return render(
        request,
        "tasks/list.html",
        {"campaign": campaign, "groups": groups},
    )


@login_required
@require_POST
def task_claim_submit(request: HttpRequest, slug: str, task_id: int) -> HttpResponse:
    campaign = _campaign(slug)
    try:
        row = engine.task_claim(campaign=campaign, user_id=request_user_id(request), task_id=task_id)
    except DomainError as exc:
        messages.error(request, str(exc.message))
    else:
        messages.success(
            request,
            _("Reward claimed: +%(points)d points for “%(task)s”.")
            % {"points": row.task.reward_points, "task": row.task.display_title},
        )
    return redirect("tasks:list", slug=slug)
