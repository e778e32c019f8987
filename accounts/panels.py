"""Panels other apps add to the member's profile page, without accounts knowing them (config.panels): an app
registers a provider in its AppConfig.ready() (referrals: the member's title badges).

    panels.register(title_badges)   # def title_badges(*, user_id: int) -> Panel | None
"""

from __future__ import annotations

from config.panels import Panel, Panels

__all__ = ["Panel", "panels_for", "register"]

_profile = Panels()
register = _profile.register


def panels_for(*, user_id: int) -> list[Panel]:
    return _profile.panels_for(user_id=user_id)
