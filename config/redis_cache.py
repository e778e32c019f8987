"""Django's Redis cache, made to behave like a cache when Redis is down (issue 16: Redis is a cache, not a
dependency of pages).

- **Fail fast.** The socket timeouts come from CACHES OPTIONS (config/settings/base.py: `socket_connect_timeout`,
  `socket_timeout`), so a dead or unreachable Redis costs a page at most a fraction of a second. After a failure
  the cache does not touch Redis for `DOWN_PAUSE` seconds: every call raises `CacheUnavailable` at once (a
  `redis.ConnectionError`, so callers that already catch Redis errors need nothing new). Callers decide what a
  missing cache means: sessions read and write the database (accounts/sessions.py), the configuration cache
  loads from the database (config/config_cache.py).
- **Log once.** One warning when Redis goes away, one line when it is back: not one per request.
- **Nothing stale afterwards.** A write that did not reach Redis (set, add, delete, incr, touch, ...: failed or
  skipped) may leave an older value in a Redis that comes back with its data (a network cut, a restart from its
  snapshot). The process remembers those keys and deletes them first thing when Redis answers again, so the
  next read goes to the database. Bounded (`MAX_PENDING` keys per process); a process that exits during the
  outage forgets its list (docs/architecture.md, "When Redis is down").
- **Recovers by itself.** No client is kept broken: after the pause the next call tries Redis again, and redis-py
  replaces dead pooled connections on checkout.

The state is per Redis location and shared by the threads of a process (Django keeps one cache object per
thread)."""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any, TypeVar

import redis
from django.core.cache.backends.redis import RedisCache as DjangoRedisCache
from django.core.cache.backends.redis import RedisCacheClient

logger = logging.getLogger(__name__)

DOWN_PAUSE = 1.0  # seconds without trying Redis after a failure (each try may cost a socket timeout)
MAX_PENDING = 10_000  # keys remembered per process for deletion once Redis is back

T = TypeVar("T")


class CacheUnavailable(redis.exceptions.ConnectionError):
    """Redis failed a moment ago: the cache is not trying it again yet."""


@dataclass
class _Health:
    down_until: float = 0.0  # time.monotonic() before which Redis is not tried
    down_since: float | None = None  # set while Redis is considered down
    pending: set[Any] = field(default_factory=set)  # keys whose write did not reach Redis
    overflowed: bool = False
    invalidated: int = 0  # pending keys deleted since the outage began
    lock: threading.Lock = field(default_factory=threading.Lock)


_health: dict[tuple[str, ...], _Health] = {}
_health_lock = threading.Lock()


def _health_for(servers: Iterable[str]) -> _Health:
    location = tuple(servers)
    health = _health.get(location)
    if health is None:
        with _health_lock:
            health = _health.setdefault(location, _Health())
    return health


class ResilientRedisCacheClient(RedisCacheClient):
    """RedisCacheClient whose every call goes through `_call`: short-circuited while Redis is down, and the keys
    of writes that did not happen remembered for deletion once Redis is back."""

    def __init__(self, servers: list[str], **options: Any) -> None:
        super().__init__(servers, **options)
        self._location = tuple(servers)

    @property
    def _state(self) -> _Health:
        return _health_for(self._location)

    def _call(self, fn: Callable[[], T], *, written: Iterable[Any] = ()) -> T:
        state = self._state
        if time.monotonic() < state.down_until:
            self._remember(written)
            raise CacheUnavailable("Redis cache unavailable (paused after a failure)")
        try:
            if state.pending:
                self._invalidate_pending()
            result = fn()
        except redis.exceptions.RedisError as exc:
            self._failed(exc)
            self._remember(written)
            raise
        if state.down_since is not None:
            self._back()
        return result

    def _remember(self, keys: Iterable[Any]) -> None:
        state = self._state
        with state.lock:
            for key in keys:
                if len(state.pending) >= MAX_PENDING:
                    state.overflowed = True
                    break
                state.pending.add(key)

    def _failed(self, exc: Exception) -> None:
        state = self._state
        with state.lock:
            state.down_until = time.monotonic() + DOWN_PAUSE
            first = state.down_since is None
            if first:
                state.down_since = time.monotonic()
        if first:
            logger.warning(
                "Cache: Redis unavailable (%s: %s); pages read the database instead, retrying every %.0f s",
                type(exc).__name__,
                exc,
                DOWN_PAUSE,
            )

    def _invalidate_pending(self) -> None:
        """Before anything else once Redis is tried again: delete what was written while it could not be."""
        state = self._state
        with state.lock:
            keys = list(state.pending)
        super().delete_many(keys)  # raises while Redis is still down: the keys stay pending
        with state.lock:
            state.pending.difference_update(keys)
            state.invalidated += len(keys)
            overflowed, state.overflowed = state.overflowed, False
        if overflowed:
            logger.error(
                "Cache: more than %d entries were written while Redis was down; only those were invalidated, the "
                "others may be stale until they expire",
                MAX_PENDING,
            )

    def _back(self) -> None:
        state = self._state
        with state.lock:
            since, state.down_since = state.down_since, None
            invalidated, state.invalidated = state.invalidated, 0
        if since is not None:
            logger.info(
                "Cache: Redis is back after %.1f s; entries written meanwhile, now invalidated: %d",
                time.monotonic() - since,
                invalidated,
            )

    # --- RedisCacheClient's operations (keys already prefixed and versioned) ---------------------------------

    def add(self, key: Any, value: Any, timeout: Any) -> bool:
        return self._call(lambda: super(ResilientRedisCacheClient, self).add(key, value, timeout), written=[key])

    def get(self, key: Any, default: Any) -> Any:
        return self._call(lambda: super(ResilientRedisCacheClient, self).get(key, default))

    def set(self, key: Any, value: Any, timeout: Any) -> None:
        self._call(lambda: super(ResilientRedisCacheClient, self).set(key, value, timeout), written=[key])

    def touch(self, key: Any, timeout: Any) -> bool:
        return self._call(lambda: super(ResilientRedisCacheClient, self).touch(key, timeout), written=[key])

    def delete(self, key: Any) -> bool:
        return self._call(lambda: super(ResilientRedisCacheClient, self).delete(key), written=[key])

    def get_many(self, keys: Any) -> dict[Any, Any]:
        return self._call(lambda: super(ResilientRedisCacheClient, self).get_many(keys))

    def has_key(self, key: Any) -> bool:
        return self._call(lambda: super(ResilientRedisCacheClient, self).has_key(key))

    def incr(self, key: Any, delta: int) -> Any:
        return self._call(lambda: super(ResilientRedisCacheClient, self).incr(key, delta), written=[key])

    def set_many(self, data: Any, timeout: Any) -> None:
        self._call(lambda: super(ResilientRedisCacheClient, self).set_many(data, timeout), written=list(data))

    def delete_many(self, keys: Any) -> None:
        keys = list(keys)
        self._call(lambda: super(ResilientRedisCacheClient, self).delete_many(keys), written=keys)

    def clear(self) -> bool:
        return self._call(lambda: super(ResilientRedisCacheClient, self).clear())


class RedisCache(DjangoRedisCache):
    """settings.CACHES BACKEND "config.redis_cache.RedisCache": Django's RedisCache with the client above."""

    def __init__(self, server: str, params: dict[str, Any]) -> None:
        super().__init__(server, params)
        self._class = ResilientRedisCacheClient
