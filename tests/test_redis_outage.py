"""Redis is a cache, not a dependency of pages (issue 16, item 2).

With the cache, the rate limiter and the Celery broker all pointed at a closed port: logged-in pages answer, logins
work (page, token, register, refresh, logout), a check-in is taken (its limit guards no value: it fails open) and
its job's failed publish is caught, a spin is refused 503 `service_unavailable` with Retry-After and charges
nothing (its limit fails closed), and once Redis is back everything works again, the limits counting. A Redis
that was cut off while a session ended and comes back with its data does not revive that session.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import pytest
import redis
from django.conf import settings as django_settings
from django.core.cache import cache
from django.core.cache.backends.redis import RedisCacheClient
from django.test import Client
from django.utils import timezone
from rest_framework.test import APIClient

from campaigns.builders import campaign_live, member_fund
from config import ratelimit, redis_cache
from config.celery import app as celery_app
from lottery.builders import wheel_build
from lottery.models import Draw
from points.selectors import balance_for
from tasks.checkins import checkin_rule_save
from tasks.models import CheckIn, CheckInRule

DEAD = "redis://127.0.0.1:1/0"  # nothing listens there: every connection is refused at once
PASSWORD = "Str0ng-pass-2026"  # tests/conftest.py make_user's
SESSION_KEY_PREFIX = "django.contrib.sessions.cached_db"

pytestmark = pytest.mark.django_db


@contextmanager
def celery_broker(url: str) -> Iterator[None]:
    """Publish to `url` inside the block (the producers are pooled per URL: the pools are dropped both ways)."""
    before = celery_app.conf.broker_write_url

    def repoint(to: str | None) -> None:
        celery_app.conf.broker_write_url = to
        celery_app._pool = None
        celery_app.amqp._producer_pool = None

    repoint(url)
    try:
        yield
    finally:
        repoint(before)


@pytest.fixture(autouse=True)
def _fresh_outage_state(monkeypatch: pytest.MonkeyPatch) -> None:
    """Each test sees its own outage: the limiter's clients and the cache's health start afresh."""
    monkeypatch.setattr(ratelimit, "_clients", {})
    monkeypatch.setattr(redis_cache, "_health", {})


@pytest.fixture
def redis_down(settings: Any) -> Any:
    """`with redis_down():` the cache, the rate limiter and the Celery broker point at a closed port."""

    @contextmanager
    def outage() -> Iterator[None]:
        caches_before, limiter_before = settings.CACHES, settings.RATELIMIT_REDIS_URL
        settings.CACHES = {"default": {**caches_before["default"], "LOCATION": DEAD}}
        settings.RATELIMIT_REDIS_URL = DEAD
        try:
            with celery_broker(DEAD):
                yield
        finally:
            settings.CACHES, settings.RATELIMIT_REDIS_URL = caches_before, limiter_before

    return outage


@pytest.fixture
def campaign() -> Any:
    """A live campaign ("carnival") with a check-in rule and a wheel (50 points a spin)."""
    now = timezone.now()
    live = campaign_live(now=now)
    checkin_rule_save(rule=CheckInRule(campaign=live, base_points=5, milestones=[{"day": 3, "points": 10}]))
    wheel_build(campaign=live, cost_points=50)
    return live


def logged_in(user: Any) -> Client:
    """A client with a session made while Redis is up (stored in the database and the cache)."""
    client = Client()
    client.force_login(user, backend="accounts.backends.PhoneOrEmailBackend")
    return client


def spendable(user_id: int) -> int:
    return balance_for(user_id=user_id).spendable


PAGES = ["/", "/points/", "/c/carnival/", "/c/carnival/checkin/", "/c/carnival/wheel/"]


# --- Pages and logins -----------------------------------------------------------------------------------------------


def test_logged_in_pages_answer_while_redis_is_down(redis_down, campaign, member):
    client = logged_in(member)
    with redis_down():
        for url in PAGES:
            response = client.get(url)  # an exception would be raised here (the test client re-raises)
            assert response.status_code == 200, url
            assert response.wsgi_request.user.pk == member.pk, url  # the session was read from the database


def test_logins_work_while_redis_is_down(redis_down, campaign, member):
    with redis_down():
        page = Client()
        login = page.post("/accounts/login/", {"username": member.email, "password": PASSWORD})
        assert login.status_code == 302
        assert page.get("/points/").wsgi_request.user.pk == member.pk  # the new session came from the database
        assert page.post("/accounts/logout/").status_code == 302
        assert page.get("/points/").status_code == 302  # logged out: sent to the login page

        api = APIClient()
        wrong = api.post("/api/v1/auth/token", {"username": member.email, "password": "nope"}, format="json")
        assert wrong.status_code == 401
        token = api.post("/api/v1/auth/token", {"username": member.email, "password": PASSWORD}, format="json")
        assert token.status_code == 200, token.content
        refreshed = api.post("/api/v1/auth/token/refresh", {"refresh": token.json()["refresh"]}, format="json")
        assert refreshed.status_code == 200, refreshed.content
        registered = api.post(
            "/api/v1/auth/register",
            {"phone": "+8613912345678", "password": "An0ther-pass-2026", "display_name": "Xiao Hong"},
            format="json",
        )
        assert registered.status_code == 201, registered.content


def test_token_login_with_a_session_cookie_works_while_redis_is_down(redis_down, member):
    """The probe's token login 500: a client that also carries a session cookie (the audit log reads the user)."""
    client = logged_in(member)
    api = APIClient()
    api.cookies = client.cookies
    with redis_down():
        token = api.post("/api/v1/auth/token", {"username": member.email, "password": PASSWORD}, format="json")
    assert token.status_code == 200, token.content


# --- Check-ins and spins ------------------------------------------------------------------------------------------


def test_check_ins_are_taken_and_a_failed_job_publish_is_caught(
    redis_down, campaign, make_user, django_capture_on_commit_callbacks
):
    """The check-in limit fails open (a check-in pays once a day whatever the rate); the streak job's publish,
    after commit, fails at once against the dead broker and is caught (the sweep pays it later)."""
    by_page, by_api = make_user(), make_user()
    page = logged_in(by_page)
    api = APIClient()
    api.force_authenticate(by_api)
    with redis_down(), django_capture_on_commit_callbacks(execute=True):
        submitted = page.post("/c/carnival/checkin/submit/")
        created = api.post("/api/v1/campaigns/carnival/checkins")
    assert submitted.status_code == 302
    assert created.status_code == 201, created.content
    assert set(CheckIn.objects.values_list("user_id", flat=True)) == {by_page.pk, by_api.pk}


def test_a_spin_while_the_limiter_is_down_is_503_and_charges_nothing(redis_down, campaign, member):
    member_fund(campaign=campaign, user_id=member.pk, points=120, now=timezone.now(), key="outage-fund")
    api = APIClient()
    api.force_authenticate(member)
    page = logged_in(member)
    with redis_down():
        refused = api.post("/api/v1/campaigns/carnival/wheel/spins", HTTP_IDEMPOTENCY_KEY="spin-1")
        refused_page = page.post("/c/carnival/wheel/spin/", {"token": "k" * 32})
    assert refused.status_code == 503
    assert refused.json()["error"]["code"] == "service_unavailable"
    assert refused.json()["error"]["details"] == {"retry_after": ratelimit.UNAVAILABLE_RETRY_AFTER}
    assert refused["Retry-After"] == str(ratelimit.UNAVAILABLE_RETRY_AFTER)
    assert refused_page.status_code == 503
    assert refused_page["Retry-After"] == str(ratelimit.UNAVAILABLE_RETRY_AFTER)
    assert b'data-testid="service-unavailable"' in refused_page.content
    assert not Draw.objects.exists()
    assert spendable(member.pk) == 120


def test_everything_works_again_when_redis_is_back(settings, redis_down, campaign, member):
    settings.RATE_LIMITS = {**settings.RATE_LIMITS, "spin": "1/min"}
    member_fund(campaign=campaign, user_id=member.pk, points=120, now=timezone.now(), key="outage-fund")
    api = APIClient()
    api.force_authenticate(member)
    with redis_down():
        assert api.post("/api/v1/campaigns/carnival/wheel/spins", HTTP_IDEMPOTENCY_KEY="s-1").status_code == 503
        page = Client()
        assert page.post("/accounts/login/", {"username": member.email, "password": PASSWORD}).status_code == 302
    # Redis is back (the settings restored): the session made meanwhile still works and is cached again ...
    for url in PAGES:
        response = page.get(url)
        assert (response.status_code, response.wsgi_request.user.pk) == (200, member.pk), url
    assert cache.get(SESSION_KEY_PREFIX + page.session.session_key) is not None
    # ... spins are taken and counted again (1/min: the second is refused by the limit, not by the outage).
    assert api.post("/api/v1/campaigns/carnival/wheel/spins", HTTP_IDEMPOTENCY_KEY="s-2").status_code == 201
    again = api.post("/api/v1/campaigns/carnival/wheel/spins", HTTP_IDEMPOTENCY_KEY="s-3")
    assert (again.status_code, again.json()["error"]["code"]) == (429, "rate_limited")
    assert spendable(member.pk) == 70


# --- The cache itself ----------------------------------------------------------------------------------------------


@pytest.fixture
def cut_off(monkeypatch: pytest.MonkeyPatch) -> Any:
    """`with cut_off():` the cache cannot reach Redis (which keeps its data: a network cut), and is tried again
    on every call (no pause)."""
    monkeypatch.setattr(redis_cache, "DOWN_PAUSE", 0.0)
    calls = {"n": 0}

    def unreachable(self: Any, key: Any = None, *, write: bool = False) -> Any:
        calls["n"] += 1
        raise redis.exceptions.ConnectionError("Error 111 connecting to 127.0.0.1:6379. Connection refused.")

    @contextmanager
    def cut() -> Iterator[dict[str, int]]:
        with monkeypatch.context() as patch:
            patch.setattr(RedisCacheClient, "get_client", unreachable)
            yield calls

    return cut


def test_a_session_ended_while_redis_was_cut_off_stays_ended(cut_off, member):
    client = logged_in(member)
    assert client.get("/points/").status_code == 200
    key = client.session.session_key
    assert cache.get(SESSION_KEY_PREFIX + key) is not None  # the cached copy
    with cut_off():
        assert client.post("/accounts/logout/").status_code == 302  # gone from the database, not from Redis
    # Redis answers again, still holding the old copy: the cache deletes it before anything else.
    replay = Client()
    replay.cookies[django_settings.SESSION_COOKIE_NAME] = key
    assert replay.get("/points/").status_code == 302  # sent to log in: the old cookie logs nobody in
    assert cache.get(SESSION_KEY_PREFIX + key) is None


def test_the_cache_logs_an_outage_once_and_waits_before_trying_again(cut_off, monkeypatch, caplog):
    with caplog.at_level(logging.INFO, logger="config.redis_cache"), cut_off() as calls:
        for _ in range(3):  # no pause: each read tries Redis again, and fails again
            with pytest.raises(redis.exceptions.ConnectionError):
                cache.get("anything")
        assert calls["n"] == 3
        monkeypatch.setattr(redis_cache, "DOWN_PAUSE", 60.0)
        for _ in range(3):
            with pytest.raises(redis.exceptions.ConnectionError):
                cache.get("anything")
        assert calls["n"] == 4  # after that failure, no call reached for Redis during the pause
        with pytest.raises(redis_cache.CacheUnavailable):
            cache.set("written-meanwhile", 1)
        monkeypatch.setattr(redis_cache, "DOWN_PAUSE", 0.0)
        redis_cache._health_for(cache._cache._location).down_until = 0.0  # the pause is over
    cache.set("written-meanwhile", 1)  # (recovery first deletes what was written meanwhile, then this)
    assert cache.get("written-meanwhile") == 1
    lines = [r.getMessage() for r in caplog.records if r.name == "config.redis_cache"]
    assert len(lines) == 2
    assert lines[0].startswith("Cache: Redis unavailable")
    assert lines[1].startswith("Cache: Redis is back")
    assert lines[1].endswith("now invalidated: 1")


def test_the_cache_client_fails_fast():
    """Socket timeouts on the cache's connections: an unreachable Redis costs a page a fraction of a second."""
    pool = cache._cache.get_client(write=True).connection_pool
    assert 0 < pool.connection_kwargs["socket_connect_timeout"] <= 0.5
    assert 0 < pool.connection_kwargs["socket_timeout"] <= 0.5
