"""When one pooled database connection turns out dead, test every idle one at once.

Django hands `ConnectionPool.check_connection` to psycopg_pool when CONN_HEALTH_CHECKS is on, so a connection is
tested before a request gets it. But psycopg_pool backs off between failed checks (1 s, 2 s, 4 s ...), so after a
database restart a pool holding N idle connections, all dead, made a request wait for N checks and their back-off
(5 dead: 13.5 s; 33 dead: past the pool timeout, a 503). Connections die together (a restart, a failover, a
network cut), so when one fails its check this check tests every idle connection of the pool right away
(`ConnectionPool.check()`: dead ones are discarded and replaced in the background) — the request then waits for
at most one back-off step. tests/test_db_faults.py kills every idle connection of a large pool to prove it.
"""

from __future__ import annotations

from typing import Any

from django.db.backends.signals import connection_created
from psycopg_pool import ConnectionPool


def _purging_check(pool: ConnectionPool) -> Any:
    def check(conn: Any) -> None:
        try:
            ConnectionPool.check_connection(conn)
        except Exception:
            pool.check()  # the others probably died with it: test them all now, not one back-off step each
            raise

    check.purges_pool = True  # type: ignore[attr-defined]
    return check


def _install(sender: Any, connection: Any, **kwargs: Any) -> None:
    pool = getattr(connection, "pool", None)
    if pool is None or getattr(pool._check, "purges_pool", False) or pool._check is None:
        return
    pool._check = _purging_check(pool)  # psycopg_pool keeps its check here; Django gives no other way to set it


def db_pool_checks_install() -> None:
    """Called once at start-up (accounts.apps): every pool gets the purging check when its first connection opens."""
    connection_created.connect(_install, dispatch_uid="config.db_pool")
