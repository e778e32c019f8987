"""The session store: Django's cached_db sessions (the database holds every session, Redis a copy for fast reads),
made to keep working when the cache does not (issue 16: Redis is a cache, not a dependency of pages).

Django's own store reads past a cache error but then writes the session back to the cache without catching one,
checks a new key's uniqueness in the cache (`exists`, on every login) and deletes from the cache (logout) without
catching either: with Redis down, every request with a session cookie, every login and every logout was a 500.
Here every cache step may fail: the database answers (slower, still right). The cache backend
(config/redis_cache.py) logs the outage once, fails fast while it lasts and, once Redis is back, deletes the
entries whose write did not reach it, so no session is read stale from a Redis that kept its data.

Synchronous only, like the project (WSGI); Django's async variants (aload, asave, ...) are not used."""

from __future__ import annotations

import logging
from typing import Any

from django.contrib.sessions.backends.base import VALID_KEY_CHARS
from django.contrib.sessions.backends.cached_db import SessionStore as CachedDbSessionStore
from django.contrib.sessions.backends.db import SessionStore as DbSessionStore

logger = logging.getLogger(__name__)


class SessionStore(CachedDbSessionStore):
    """cached_db sessions whose cache is optional. Keys Django never issues (e.g. a NUL byte in a forged cookie)
    count as no session instead of reaching Postgres, which would refuse them with a server error."""

    # Set by Django's stores (cached_db.SessionStore.__init__, SessionBase), not declared by django-stubs.
    _cache: Any
    _session: dict[str, Any]
    _get_session_from_db: Any

    def _validate_session_key(self, key: str | None) -> bool:
        return super()._validate_session_key(key) and set(key or "") <= set(VALID_KEY_CHARS)  # type: ignore[misc]

    def _cache_failed(self, what: str) -> None:
        # The backend logged the outage once; a line per request would only repeat it.
        logger.debug("Session cache unavailable (%s): using the database", what, exc_info=True)

    def load(self) -> dict[str, Any]:
        try:
            data = self._cache.get(self.cache_key)
        except Exception:  # Redis down, or (other backends) an invalid key: read the database
            self._cache_failed("read")
            data = None
        if data is not None:
            return data
        stored = self._get_session_from_db()
        if not stored:
            return {}
        data = self.decode(stored.session_data)
        try:
            self._cache.set(self.cache_key, data, self.get_expiry_age(expiry=stored.expire_date))
        except Exception:
            self._cache_failed("refill")
        return data

    def exists(self, session_key: str | None) -> bool:
        if session_key:
            try:
                if (self.cache_key_prefix + session_key) in self._cache:
                    return True
            except Exception:
                self._cache_failed("exists")
        return DbSessionStore.exists(self, session_key)  # type: ignore[arg-type]

    def save(self, must_create: bool = False) -> None:
        DbSessionStore.save(self, must_create)
        try:
            self._cache.set(self.cache_key, self._session, self.get_expiry_age())
        except Exception:
            self._cache_failed("write")

    def delete(self, session_key: str | None = None) -> None:
        DbSessionStore.delete(self, session_key)
        if session_key is None:
            if self.session_key is None:
                return
            session_key = self.session_key
        try:
            self._cache.delete(self.cache_key_prefix + session_key)
        except Exception:
            self._cache_failed("delete")
