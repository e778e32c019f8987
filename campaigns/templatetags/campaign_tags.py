"""Template helpers for campaign pages."""

from __future__ import annotations

from typing import Any

from django import template
from django.urls import NoReverseMatch, reverse

from campaigns.selectors import campaign_featured

register = template.Library()


@register.simple_tag
def url_if_exists(name: str, *args: Any) -> str:
    """Like {% url %}, but "" when the route does not exist (yet): entrances to activities still being built
    disappear instead of breaking the page. Use as `{% url_if_exists 'tasks:checkin' slug as url %}`."""
    try:
        return reverse(name, args=args)
    except NoReverseMatch:
        return ""


@register.simple_tag
def featured_campaign() -> Any:
    """The featured campaign, for pages outside campaigns/ (e.g. the rules link on the sign-up form)."""
    return campaign_featured()
