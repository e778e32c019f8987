"""Member pages: the home page (featured campaign, countdown, newbie guide), campaign list, detail and rules."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils import timezone

from campaigns import selectors
from campaigns.errors import CampaignNotFound
from campaigns.models import Campaign


def _campaign_context(campaign: Campaign, *, now: datetime) -> dict[str, Any]:
    countdown = selectors.campaign_countdown(campaign=campaign, now=now)
    return {
        "campaign": campaign,
        "phase": countdown.phase,
        "next_boundary": countdown.next_boundary,
        "remaining": countdown,
        "now": now,
    }


def home(request: HttpRequest) -> HttpResponse:
    """The portal's front door: the featured campaign with its countdown and entrances to every activity."""
    now = timezone.now()
    featured = selectors.campaign_featured(now=now)
    context: dict[str, Any] = {"now": now}
    if featured is not None:
        context.update(_campaign_context(featured, now=now))
    else:
        context["campaigns"] = selectors.campaigns_with_phase(now=now, limit=10)
    return render(request, "home.html", context)


def campaign_list(request: HttpRequest) -> HttpResponse:
    now = timezone.now()
    return render(request, "campaigns/list.html", {"campaigns": selectors.campaigns_with_phase(now=now)})


def _campaign_page(request: HttpRequest, slug: str, template: str) -> HttpResponse:
    # ?preview=1 also shows unpublished or upcoming campaigns, to staff only; everyone else gets the usual 404.
    now = timezone.now()
    preview = request.GET.get("preview") == "1" and bool(request.user.is_staff)
    try:
        campaign = selectors.campaign_by_slug(slug=slug, now=now, preview=preview)
    except CampaignNotFound as exc:
        raise Http404(str(exc.message)) from exc
    context = _campaign_context(campaign, now=now)
    context["preview"] = preview
    context["hidden_from_members"] = selectors.campaign_hidden_from_members(campaign=campaign, now=now)
    return render(request, template, context)


def campaign_detail(request: HttpRequest, slug: str) -> HttpResponse:
    return _campaign_page(request, slug, "campaigns/detail.html")


def campaign_rules(request: HttpRequest, slug: str) -> HttpResponse:
    return _campaign_page(request, slug, "campaigns/rules.html")
