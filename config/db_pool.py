"""Checking a pooled database connection before a request gets it — without a round trip while it is healthy —
and, when one turns out dead, testing every idle one at once.

Django hands `ConnectionPool.check_connection` to psycopg_pool when CONN_HEALTH_CHECKS is on: an empty query, one
round trip to Postgres on *every* checkout, i.e. on every request that touches the database (issue 12 measured it
at ~0.2 ms of a ~1 ms balance read). An idle connection that Postgres has dropped (a restart, a terminated backend,
an idle-session timeout) is not silent, though: the server sends its FATAL message and closes the socket, so the
socket turns readable. A healthy idle connection has nothing to read. So the check first polls the socket without
waiting: nothing to read means alive, no query; anything to read (a dropped connection, or an unexpected
asynchronous message) runs the full check. Both forms share one blind spot — a connection cut without the server
saying so (a network partition) — which neither the empty query nor the poll can see before the request's own
query times out; a dead connection found by the request itself is answered 503 (config/db_unavailable.py).

psycopg_pool backs off between failed checks (1 s, 2 s, 4 s ...), so after a database restart a pool holding N idle
connections, all dead, made a request wait for N checks and their back-off (5 dead: 13.5 s; 33 dead: past the
pool timeout, a 503). Connections die together, so when one fails its check this check tests every idle connection
of the pool right away (`ConnectionPool.check()`: dead ones are discarded and replaced in the background) — the
request then waits for at most one back-off step. tests/test_db_faults.py kills every idle connection of a large
pool to prove it; tests/test_db_pool.py that a healthy checkout sends nothing.
"""

from __future__ import annotations

import select
from typing import Any

from django.db.backends.signals import connection_created
from psycopg_pool import ConnectionPool


def quiet(conn: Any) -> bool:
    """True when the idle connection's socket has nothing to read: the server has not closed it or said anything
    since the connection was last used. No round trip."""
    if conn.closed or conn.pgconn.transaction_status != 0:  # closed, or not idle (0 = PQTRANS_IDLE)
        return False
    poller = select.poll()
    poller.register(conn.pgconn.socket, select.POLLIN | select.POLLERR | select.POLLHUP)
    return not poller.poll(0)


def _purging_check(pool: ConnectionPool) -> Any:
    def check(conn: Any) -> None:
        if quiet(conn):
            return
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
    """Called once at start-up (accounts.apps): every pool gets the check when its first connection opens."""
    connection_created.connect(_install, dispatch_uid="config.db_pool")
