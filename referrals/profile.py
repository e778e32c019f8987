"""The member's title badges (top places of invite leaderboards) on the profile page, registered with
accounts.panels by ReferralsConfig.ready()."""

from __future__ import annotations

from accounts.panels import Panel
from referrals.models import FinalAward


def title_badges(*, user_id: int) -> Panel | None:
    """The member's final awards, newest first, or None when they have none."""
    awards = list(FinalAward.objects.filter(user_id=user_id).select_related("campaign").order_by("-awarded_at"))
    return Panel("referrals/_profile_titles.html", {"awards": awards}) if awards else None
