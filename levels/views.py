"""The member's level page (`/me/level/`): their badge, progress to the next level per dimension and every level's
benefits, in the reader's language. Thin: one selector call (levels.selectors.level_status)."""

from __future__ import annotations

from typing import Any

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from accounts.selectors import request_user_id
from levels.models import Level
from levels.selectors import level_status

DIMENSION_LABELS = {
    "points_earned": _("Points earned"),
    "spend": _("Points spent"),
    "referrals": _("Friends invited"),
    "checkin_days": _("Check-in days"),
}


def badge_url(level: Level, request: Any = None) -> str | None:
    """The URL of the level's badge in the reader's language (None: no image; pages draw the name instead)."""
    badge = level.display_badge
    if not badge:
        return None
    url = badge.url
    return request.build_absolute_uri(url) if request is not None else url


@login_required
def level_page(request: HttpRequest) -> HttpResponse:
    status = level_status(user_id=request_user_id(request), now=timezone.now())
    rows: list[dict[str, Any]] = []
    if status is not None:
        for progress in status.progress:
            rows.append({"progress": progress, "label": DIMENSION_LABELS[progress.dimension]})
        thresholds = [
            {"level": level, "needs": [(DIMENSION_LABELS[d], getattr(level, f"min_{d}")) for d in DIMENSION_LABELS]}
            for level in status.levels
        ]
    else:
        thresholds = []
    return render(
        request,
        "levels/level.html",
        {
            "status": status,
            "rows": rows,
            "levels": thresholds,
            "badge": badge_url(status.level) if status else None,
        },
    )
