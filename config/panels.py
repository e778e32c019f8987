"""Panels: a page of one app shows blocks other apps add, without naming them. An app registers a provider (a
function of keyword arguments the page passes) with the page's registry; the page calls every provider in
registration order and includes each returned panel's template with the panel's context as `panel`. A provider
returns None when it has nothing to show. Registries: points.panels ("My points"), accounts.panels (the profile)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class Panel:
    template: str
    context: dict[str, Any] = field(default_factory=dict)


Provider = Callable[..., Panel | None]


class Panels:
    """One page's providers."""

    def __init__(self) -> None:
        self._providers: dict[str, Provider] = {}

    def register(self, provider: Provider) -> Provider:
        """Add a provider (usable as a decorator). Registering the same function twice keeps one."""
        self._providers[f"{provider.__module__}.{provider.__qualname__}"] = provider
        return provider

    def panels_for(self, **kwargs: Any) -> list[Panel]:
        return [panel for provider in self._providers.values() if (panel := provider(**kwargs)) is not None]
