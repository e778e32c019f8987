"""What campaigns shows on the member's wallet page ("My points"), registered with points.panels."""

from __future__ import annotations

from datetime import datetime

from campaigns.selectors import multiplier_cards_active
from points.panels import Panel, register


@register
def multiplier_cards(*, user_id: int, now: datetime) -> Panel | None:
    """The member's running multiplier cards (any campaign), soonest to end first."""
    cards = multiplier_cards_active(user_id=user_id, now=now)
    return Panel("campaigns/_wallet_multiplier_cards.html", {"cards": cards}) if cards else None
