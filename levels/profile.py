"""The member's level on the profile page (a panel registered with accounts.panels by LevelsConfig.ready()), with
the way to their level page."""

from __future__ import annotations

from accounts.panels import Panel
from levels.models import Ladder, MemberLevel


def level_panel(*, user_id: int) -> Panel | None:
    """The member's current level on the active ladder (one query), or the entry invitation when not evaluated yet;
    None when member levels are not running."""
    row = MemberLevel.objects.filter(user_id=user_id, ladder__active=True).select_related("level").first()
    if row is None and not Ladder.objects.filter(active=True).exists():
        return None
    return Panel("levels/_profile_level.html", {"level": row.level if row else None})
