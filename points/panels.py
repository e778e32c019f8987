"""Panels other apps add to the member's "My points" page, without the ledger knowing them (config.panels).

An app registers a provider in its `<app>/wallet.py` (imported for every installed app by PointsConfig.ready()):

    @register
    def multiplier_cards(*, user_id: int, now: datetime) -> Panel | None: ...
"""

from __future__ import annotations

from datetime import datetime

from config.panels import Panel, Panels

__all__ = ["Panel", "panels_for", "register"]

_wallet = Panels()
register = _wallet.register


def panels_for(*, user_id: int, now: datetime) -> list[Panel]:
    return _wallet.panels_for(user_id=user_id, now=now)
