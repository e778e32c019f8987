"""After-commit hooks on earning: "a member was just credited points". Owned by campaigns, the owner of the value
gate (campaign_points_grant), so the apps that earn points name no reader and the readers name no earner.

An app that wants to react (levels: promote the member right after the earning commits) registers a receiver in its
`AppConfig.ready()`; every Python service that runs earning SQL or grants points calls `member_earned(...)` inside
its transaction. The receivers run after commit (never for a rolled-back transaction), each guarded: an exception is
logged and swallowed, so a reader can never fail or slow down an earning beyond its own cheap work. Receivers must be
cheap (a Redis dedupe, a Celery publish); a periodic sweep of the reader heals anything they miss.
"""

from __future__ import annotations

import logging
from collections.abc import Callable

from django.db import transaction

logger = logging.getLogger(__name__)

Receiver = Callable[[int, str], None]  # (member id, transfer kind or "" when unknown)

_receivers: dict[str, Receiver] = {}


def register(name: str, receiver: Receiver) -> None:
    """Register `receiver(user_id, kind)` under `name` (registering the same name again replaces it)."""
    _receivers[name] = receiver


def receivers() -> dict[str, Receiver]:
    return dict(_receivers)


def _run(user_id: int, kind: str) -> None:
    for name, receiver in list(_receivers.items()):
        try:
            receiver(user_id, kind)
        except Exception:
            logger.exception("earning receiver %s failed for member %s", name, user_id)


def member_earned(*, user_id: int | None, kind: str = "") -> None:
    """Call inside the transaction that credits `user_id`: the receivers run once it commits. Nothing happens when
    no receiver is registered (no on_commit callback is queued)."""
    if not _receivers or user_id is None:
        return
    transaction.on_commit(lambda: _run(int(user_id), kind))
