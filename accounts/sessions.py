from django.contrib.sessions.backends.base import VALID_KEY_CHARS
from django.contrib.sessions.backends.cached_db import SessionStore as CachedDbSessionStore


class SessionStore(CachedDbSessionStore):
    """Keys Django never issues (e.g. a NUL byte in a forged cookie) count as no session instead of reaching
    Postgres, which would refuse them with a server error."""

    def _validate_session_key(self, key: str | None) -> bool:
        return super()._validate_session_key(key) and set(key or "") <= set(VALID_KEY_CHARS)  # type: ignore[misc]
