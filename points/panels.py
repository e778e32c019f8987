"""Panels other apps add to the member's "My points" page, without the ledger knowing them.

An app registers a provider in its `<app>/wallet.py` (imported for every installed app by PointsConfig.ready()):

    @register
    def multiplier_cards(*, user_id: int, now: datetime) -> Panel | None: ...

The page calls every provider in registration order and includes each returned panel's template with the
panel's context as `panel`. A provider returns None when it has nothing to show.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Protocol


@dataclass(frozen=True)
class Panel:
    template: str
    context: dict[str, Any] = field(default_factory=dict)


class Provider(Protocol):
    def __call__(self, *, user_id: int, now: datetime) -> Panel | None: ...


_providers: dict[str, Provider] = {}


def register(provider: Callable[..., Panel | None]) -> Callable[..., Panel | None]:
    """Add a provider (usable as a decorator). Registering the same function twice keeps one."""
    _providers[f"{provider.__module__}.{provider.__qualname__}"] = provider
    return provider


def panels_for(*, user_id: int, now: datetime) -> list[Panel]:
    return [panel for provider in _providers.values() if (panel := provider(user_id=user_id, now=now)) is not None]
