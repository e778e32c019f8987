"""Dead database connections (issue 16, item 3): a request that loses its connection is answered 503 with
Retry-After (the API's error shape, or the 503 page), never 500, and leaves no Idempotency-Key in flight; pooled
connections killed while idle are replaced before a request gets them (config/db_unavailable.py, config/api.py,
DATABASES "pool" "check" in config/settings/base.py)."""

from __future__ import annotations

from typing import Any, cast

import psycopg
import pytest
from django.db import InterfaceError, OperationalError, close_old_connections, connection
from django.test import Client
from django.utils import timezone
from rest_framework.test import APIClient

from accounts.models import Address, IdempotencyRecord, User

ADDRESS = {
    "recipient": "王小明",
    "phone": "13800138000",
    "province": "上海市",
    "city": "上海市",
    "detail": "世纪大道 1 号",
}


# Django's errors, and psycopg's own as the prepared-statement paths on the raw connection raise them (the ledger's
# postings, the spin): a terminated backend there is psycopg.errors.AdminShutdown.
CONNECTION_LOST = [
    OperationalError("server closed the connection"),
    InterfaceError("connection already closed"),
    psycopg.errors.AdminShutdown("terminating connection due to administrator command"),
    psycopg.InterfaceError("the connection is closed"),
]


def _raise(error: Exception) -> Any:
    def fail(*args: Any, **kwargs: Any) -> Any:
        raise error

    return fail


def _assert_api_503(response: Any) -> None:
    assert response.status_code == 503
    assert response.json()["error"]["code"] == "service_unavailable"
    assert set(response.json()["error"]) == {"code", "message", "details"}
    assert int(response["Retry-After"]) > 0


def _page_client(user: User) -> Client:
    client = Client(raise_request_exception=False)  # as under gunicorn: an exception becomes the error handler's page
    client.force_login(user, backend="accounts.backends.PhoneOrEmailBackend")
    return client


def _terminate(pids: list[int]) -> None:
    """Terminate these backends of the test database from a connection of our own, waiting until they are gone."""
    params = connection.get_connection_params()
    with psycopg.connect(
        dbname=connection.settings_dict["NAME"], host=params.get("host"), port=params.get("port"),
        user=params.get("user"), password=params.get("password"), autocommit=True,
    ) as killer:  # fmt: skip
        for pid in pids:
            (terminated,) = killer.execute("SELECT pg_terminate_backend(%s, 5000)", (pid,)).fetchone()  # type: ignore[misc]
            assert terminated, f"backend {pid} still there"


def _own_backend_pid() -> int:
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_backend_pid()")
        return int(cursor.fetchone()[0])


# --- A service raising a connection error ----------------------------------------------------------------------


@pytest.mark.django_db
@pytest.mark.parametrize("error", CONNECTION_LOST)
def test_an_api_read_that_loses_its_connection_is_503_with_retry_after(member_api, monkeypatch, error):
    from points import api

    monkeypatch.setattr(api.selectors, "balance_for", _raise(error))
    _assert_api_503(member_api.get("/api/v1/points/balance"))


@pytest.mark.django_db
def test_an_api_write_without_a_key_that_loses_its_connection_is_503(member_api, member, monkeypatch):
    from accounts import api

    monkeypatch.setattr(api.services, "address_save", _raise(OperationalError("terminating connection")))
    _assert_api_503(member_api.post("/api/v1/me/addresses", ADDRESS, format="json"))
    assert not Address.objects.filter(user=member).exists()


@pytest.mark.django_db
@pytest.mark.parametrize("error", CONNECTION_LOST)
def test_a_page_that_loses_its_connection_is_the_503_page(member, monkeypatch, error):
    from points import views

    monkeypatch.setattr(views.selectors, "history_page", _raise(error))
    response = _page_client(member).get("/points/")
    assert response.status_code == 503
    assert int(response["Retry-After"]) > 0
    assert response["Content-Type"].startswith("text/html")
    assert b'data-testid="error-503"' in response.content
    assert "服务暂时不可用" in response.content.decode()  # in the member's language (zh-hans here)


@pytest.mark.django_db
def test_a_connection_lost_in_middleware_is_503_not_500(member, monkeypatch):
    """The session is read by middleware before any view runs (the audit log's actor, the user): a connection
    lost there reaches handler500, which answers 503 too — a page, and JSON under /api/."""
    from accounts.sessions import SessionStore

    client = _page_client(member)
    monkeypatch.setattr(SessionStore, "load", _raise(OperationalError("server closed the connection")))
    page = client.get("/points/")
    assert (page.status_code, int(page["Retry-After"]) > 0) == (503, True)
    assert b'data-testid="error-503"' in page.content
    _assert_api_503(client.get("/api/v1/points/balance"))


@pytest.mark.django_db
def test_other_errors_are_still_500(member, monkeypatch):
    from points import views

    monkeypatch.setattr(views.selectors, "history_page", _raise(RuntimeError("a bug")))
    response = _page_client(member).get("/points/")
    assert response.status_code == 500
    assert b'data-testid="error-500"' in response.content


# --- A real terminated backend -----------------------------------------------------------------------------------


@pytest.mark.django_db(transaction=True)
def test_a_request_on_a_terminated_backend_is_503_and_its_key_is_not_left_in_flight(member):
    """Postgres terminates the request's backend (a failover, an operator's pg_terminate_backend): the request is
    503, nothing of it is kept, and the retry with the same Idempotency-Key runs again and gets its outcome."""
    client = APIClient()
    client.force_authenticate(member)
    _terminate([_own_backend_pid()])

    first = client.post("/api/v1/me/addresses", ADDRESS, format="json", HTTP_IDEMPOTENCY_KEY="addr-1")
    _assert_api_503(first)
    close_old_connections()  # the end of the request, as the server does it: the broken connection is dropped

    assert not IdempotencyRecord.objects.filter(user=member, key="addr-1").exists()
    retry = client.post("/api/v1/me/addresses", ADDRESS, format="json", HTTP_IDEMPOTENCY_KEY="addr-1")
    assert retry.status_code == 201
    again = client.post("/api/v1/me/addresses", ADDRESS, format="json", HTTP_IDEMPOTENCY_KEY="addr-1")
    assert (again.status_code, again["Idempotent-Replayed"], again.json()) == (201, "true", retry.json())
    assert Address.objects.filter(user=member).count() == 1


@pytest.mark.django_db(transaction=True)
def test_a_page_on_a_terminated_backend_is_503_not_500(member):
    client = _page_client(member)
    _terminate([_own_backend_pid()])
    response = client.get("/points/")
    assert response.status_code == 503
    assert b'data-testid="error-503"' in response.content
    close_old_connections()
    assert client.get("/points/").status_code == 200


@pytest.mark.django_db(transaction=True)
def test_pooled_connections_killed_while_idle_are_replaced_before_a_request_gets_them(member):
    """Every idle connection of the pool is terminated (a database restart between two requests); the next
    request still answers 200: the pool checks a connection before handing it out, and the first dead one makes it
    test all its idle ones at once (config/db_pool.py) — without that, psycopg_pool backs off between failed checks,
    and a pool grown large by earlier tests (30+ dead connections) ran past its 30-s timeout: a 503."""
    client = APIClient()
    client.force_authenticate(member)
    assert client.get("/api/v1/points/balance").status_code == 200
    pool = cast(Any, connection).pool  # the psycopg_pool ConnectionPool (DATABASES OPTIONS "pool")
    connection.close()  # this thread's connection goes back to the pool too
    idle = []
    while pool.get_stats().get("pool_available", 0) > 0:
        idle.append(pool.getconn(timeout=5))
    pids = [conn.info.backend_pid for conn in idle]
    for conn in idle:
        pool.putconn(conn)
    assert pids
    _terminate(pids)

    response = client.get("/api/v1/points/balance")
    assert response.status_code == 200, response.content
    assert _own_backend_pid() not in pids


@pytest.mark.django_db(transaction=True)
def test_a_spin_on_a_terminated_backend_is_503_and_its_retry_gets_one_draw(member):
    """The spin runs on the raw connection (a prepared statement, lottery.services._spin_call), where a terminated
    backend raises psycopg's own AdminShutdown, not Django's error: still 503, and the retry with the same key draws
    once and is charged once."""
    from campaigns.builders import campaign_live, member_fund
    from lottery.builders import wheel_build
    from lottery.models import Draw
    from points.selectors import balance_for

    now = timezone.now()
    campaign = campaign_live(now=now)
    wheel = wheel_build(campaign=campaign, cost_points=50)
    member_fund(campaign=campaign, user_id=member.pk, points=500, now=now, key="fund")
    client = APIClient()
    client.force_authenticate(member)
    spins = f"/api/v1/campaigns/{campaign.slug}/wheel/spins"
    assert client.post(spins, HTTP_IDEMPOTENCY_KEY="warm-up").status_code == 201  # the wheel's configuration cached
    _terminate([_own_backend_pid()])

    _assert_api_503(client.post(spins, HTTP_IDEMPOTENCY_KEY="spin-1"))
    close_old_connections()
    retry = client.post(spins, HTTP_IDEMPOTENCY_KEY="spin-1")
    assert retry.status_code == 201
    again = client.post(spins, HTTP_IDEMPOTENCY_KEY="spin-1")
    assert (again.status_code, again.json()["reference"]) == (201, retry.json()["reference"])
    assert Draw.objects.filter(wheel=wheel, user=member, request_key="spin-1").count() == 1
    assert balance_for(user_id=member.pk).spendable == 400


@pytest.mark.django_db(transaction=True)
def test_a_healthy_pooled_connection_is_handed_out_without_a_round_trip(monkeypatch):
    """The checkout's check polls the idle socket (config/db_pool.py): nothing to read, no query sent (issue 12: the
    empty query cost a round trip on every request); a backend terminated while idle has something to read (its
    FATAL message, then end of file), so the full check runs and fails."""
    from psycopg_pool import ConnectionPool

    from config.db_pool import quiet

    full_checks: list[object] = []
    real_check = ConnectionPool.check_connection

    def counted_check(conn: Any) -> None:
        full_checks.append(conn)
        real_check(conn)

    monkeypatch.setattr(ConnectionPool, "check_connection", staticmethod(counted_check))
    pool = cast(Any, connection).pool
    connection.ensure_connection()
    connection.close()  # back to the pool: the next checkout is checked
    conn = pool.getconn(timeout=5)
    try:
        assert quiet(conn)
        pool.putconn(conn)
        conn = pool.getconn(timeout=5)  # checked by config.db_pool's check: quiet, so no empty query
        assert full_checks == []
        _terminate([conn.info.backend_pid])
        assert not quiet(conn)
        with pytest.raises(psycopg.OperationalError):
            real_check(conn)
    finally:
        pool.putconn(conn)
