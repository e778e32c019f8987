"""Template helpers that show prize-wheel facts on other apps' pages (campaigns' rules page)."""

from __future__ import annotations

from typing import Any

from django import template

from lottery.errors import WheelNotFound
from lottery.selectors import odds_table, wheel_for

register = template.Library()


@register.inclusion_tag("lottery/_wheel_rules.html")
def wheel_rules(campaign: Any) -> dict[str, Any]:
    """The wheel's published terms: cost, free spins, caps, the odds table and how sold-out prizes drop out."""
    try:
        wheel = wheel_for(campaign=campaign)
    except WheelNotFound:
        return {"wheel": None}
    return {"wheel": wheel, "odds": odds_table(wheel=wheel)}
