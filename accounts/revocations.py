"""Which signed access tokens were revoked before their expiry, known in memory by every web process (ADR 0012).

A signed access token (accounts.services: `pm1.<token id>.<member id>.<expiry>.<signature>`) proves who issued it
and until when it is valid without a query. What it cannot carry is whether it was revoked since. Each process keeps
that set here: a daemon thread with its own database connection runs `LISTEN pm_token_revoked`, then loads the ids
of revoked access tokens that have not expired yet, and from then on adds each id the triggers of
accounts/sql/accounts_token_revoked.sql notify (revocation, deletion, the member deactivated). A notification is
delivered when the revoking transaction commits, so the set is exact within milliseconds; ids are forgotten once
their token has expired (nothing can use them then).

`ready()` is true only while the thread is listening and has loaded the set (LISTEN first, then the load: nothing
revoked in between is missed). While it is not — at start, after the connection is lost, or when
API_TOKEN_REVOCATION_FEED is off — accounts.services checks signed tokens against the database like opaque ones.
A connection that dies without a word (a network cut) is found by a liveness query every POLL_SECONDS, so a
revocation is honoured within POLL_SECONDS even then.
"""

from __future__ import annotations

import logging
import os
import threading
import time
from typing import Any

import psycopg
from django.conf import settings
from django.db import connection

logger = logging.getLogger(__name__)

CHANNEL = "pm_token_revoked"
POLL_SECONDS = 2.0  # how long the thread waits for notifications before it checks its connection is alive
RETRY_MAX_SECONDS = 10.0

_LOAD_SQL = """
SELECT id, ceil(extract(epoch FROM access_expires_at))::bigint
  FROM accounts_apitoken
 WHERE revoked_at IS NOT NULL AND access_expires_at > now()
"""


def _conninfo() -> dict[str, Any]:
    """The default database's connection parameters, for a connection of the feed's own (not from the pool)."""
    params = {
        "dbname": connection.settings_dict["NAME"],
        "user": connection.settings_dict.get("USER") or None,
        "password": connection.settings_dict.get("PASSWORD") or None,
        "host": connection.settings_dict.get("HOST") or None,
        "port": connection.settings_dict.get("PORT") or None,
        "application_name": "pointsmall token revocations",
        "connect_timeout": 5,
        "keepalives": 1,
        "keepalives_idle": 10,
        "keepalives_interval": 5,
        "keepalives_count": 3,
    }
    return {key: value for key, value in params.items() if value is not None}


class RevocationFeed:
    """The revoked-token set of this process and the thread that keeps it current."""

    def __init__(self, conninfo: dict[str, Any], *, poll_seconds: float = POLL_SECONDS) -> None:
        self._conninfo = conninfo
        self._poll = poll_seconds
        self._revoked: dict[int, int] = {}  # token id -> its access expiry (unix seconds)
        self._ready = threading.Event()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="token-revocations", daemon=True)
        self._thread.start()

    def ready(self) -> bool:
        return self._ready.is_set()

    def wait_ready(self, timeout: float) -> bool:
        return self._ready.wait(timeout)

    def revoked(self, token_id: int) -> bool:
        return token_id in self._revoked

    def add(self, token_id: int, expires_at: int) -> None:
        """Record a revocation made by this process (it is also notified; this makes it true at once here)."""
        self._revoked[token_id] = expires_at

    def close(self) -> None:
        self._stop.set()
        self._thread.join(timeout=self._poll + 5)

    def _run(self) -> None:
        delay = 0.5
        while not self._stop.is_set():
            try:
                with psycopg.connect(**self._conninfo, autocommit=True) as conn:
                    conn.execute(f"LISTEN {CHANNEL}")
                    rows = conn.execute(_LOAD_SQL).fetchall()
                    self._revoked = {int(token_id): int(expiry) for token_id, expiry in rows}
                    self._ready.set()
                    delay = 0.5
                    self._listen(conn)
            except Exception as exc:  # the connection failed or was lost: check tokens in the database meanwhile
                if self._ready.is_set() or delay == 0.5:
                    logger.warning("token revocation feed lost (%r); checking tokens in the database", exc)
                self._ready.clear()
                self._stop.wait(delay)
                delay = min(delay * 2, RETRY_MAX_SECONDS)
        self._ready.clear()

    def _listen(self, conn: psycopg.Connection[Any]) -> None:
        while not self._stop.is_set():
            for notify in conn.notifies(timeout=self._poll):
                token_id, _, expiry = notify.payload.partition(":")
                if token_id.isascii() and token_id.isdigit():  # anything else is not from our triggers
                    self._revoked[int(token_id)] = int(expiry) if expiry.isascii() and expiry.isdigit() else 2**62
            conn.execute("SELECT 1")  # raises if the connection died without a word
            self._forget_expired()

    def _forget_expired(self) -> None:
        now = time.time()
        expired = [token_id for token_id, expiry in list(self._revoked.items()) if expiry < now - 60]
        for token_id in expired:
            self._revoked.pop(token_id, None)


_lock = threading.Lock()
_feed: RevocationFeed | None = None
_feed_pid = 0


def revocation_feed() -> RevocationFeed | None:
    """This process's feed (started on first use, again in a forked child), or None when
    settings.API_TOKEN_REVOCATION_FEED is off."""
    global _feed, _feed_pid
    if not settings.API_TOKEN_REVOCATION_FEED:
        return None
    if _feed is not None and _feed_pid == os.getpid():
        return _feed
    with _lock:
        if _feed is None or _feed_pid != os.getpid():
            _feed, _feed_pid = RevocationFeed(_conninfo()), os.getpid()
        return _feed


def revocation_feed_stop() -> None:
    """Stop this process's feed (tests)."""
    global _feed  # noqa: PLW0603
    with _lock:
        if _feed is not None:
            _feed.close()
        _feed = None
