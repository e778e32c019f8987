"""Operator-edited configuration (campaigns, wheels, prizes, tasks, check-in rules) read through a process-local cache
that one version number in Redis keeps honest.

A process asks Redis for the version at most once per VERSION_CHECK_SECONDS (one GET) instead of asking Postgres for
the rows on every request (an ORM query, ~0.7 ms each): a change made elsewhere is seen within that second, one made
in this process at once. Every committed change of a tracked model bumps the version (`config_changed`, connected to
post_save/post_delete by `config_tracks` in each app's ready(), and called by services that change configuration
with `QuerySet.update()`), so every process reloads on its next read. The cache never decides money: the SQL that
moves value re-reads what it enforces (phase, caps, stock) from the rows themselves. With Redis down the loaders run
every time (slower, still right). See docs/performance.md.

Cached objects are shared by the threads of a process: read them, never change them.
"""

from __future__ import annotations

import logging
import secrets
import time
from collections.abc import Callable
from typing import Any, TypeVar

from django.core.cache import cache
from django.db import transaction
from django.db.models import Model
from django.db.models.signals import post_delete, post_save

logger = logging.getLogger(__name__)

VERSION_KEY = "config-version"
MAX_ENTRIES = 2048  # per process; the whole cache is dropped when it is full (configuration is small)
VERSION_CHECK_SECONDS = 1.0

T = TypeVar("T")
_entries: dict[str, tuple[int, Any]] = {}
_checked: list[tuple[float, int]] = []  # [(monotonic time of the last Redis read, the version it gave)]


def config_cache_forget() -> None:
    """Drop this process's entries and its memory of the version (tests; a bump made here)."""
    _entries.clear()
    _checked.clear()


def config_version() -> int | None:
    """The current configuration version, or None when Redis cannot say (then nothing is served from cache).
    A missing version (Redis restarted, cache cleared) starts at a random number, never at one a process may
    already hold entries for."""
    checked = _checked[0] if _checked else None
    moment = time.monotonic()
    if checked is not None and moment - checked[0] < VERSION_CHECK_SECONDS:
        return checked[1]
    try:
        version = cache.get(VERSION_KEY)
        if version is None:
            cache.add(VERSION_KEY, secrets.randbits(48), timeout=None)
            version = cache.get(VERSION_KEY)
    except Exception:
        logger.debug("config cache: Redis unavailable, reading configuration from the database")  # the cache warns once
        return None
    if not isinstance(version, int):
        return None
    _checked[:] = [(moment, version)]
    return version


def config_cached(key: str, loader: Callable[[], T]) -> T:
    """`loader()`'s result, reused while the configuration version stays the same. A loader that raises (e.g.
    not found) caches nothing."""
    version = config_version()
    if version is None:
        return loader()
    entry = _entries.get(key)
    if entry is not None and entry[0] == version:
        return entry[1]
    value = loader()
    if len(_entries) >= MAX_ENTRIES:
        _entries.clear()
    _entries[key] = (version, value)
    return value


def _bump() -> None:
    _checked.clear()  # this process sees its own change at once
    try:
        cache.incr(VERSION_KEY)
    except ValueError:  # no version yet: the next read starts a new random one
        pass
    except Exception:
        logger.warning("config cache: could not bump the version; Redis unavailable")
        _entries.clear()


def config_changed() -> None:
    """Configuration changed: every process reloads it on its next read. Bumps now and again once the surrounding
    transaction commits: a process that reloaded between the two saw the old rows, and the second bump makes it
    read again (without it, it would keep them)."""
    _bump()
    if transaction.get_connection().in_atomic_block:
        transaction.on_commit(_bump)


def _on_change(**kwargs: Any) -> None:
    config_changed()


def config_tracks(*models: type[Model]) -> None:
    """Bump the configuration version whenever one of these models is saved or deleted (admin, services, shell)."""
    for model in models:
        post_save.connect(_on_change, sender=model, dispatch_uid=f"config-cache-save-{model._meta.label}")
        post_delete.connect(_on_change, sender=model, dispatch_uid=f"config-cache-delete-{model._meta.label}")
