"""config.ratelimit: atomic sliding-window limits in Redis, 429 + Retry-After + a security log line, per member /
client IP / partner key, never more than the limit under concurrency; when Redis is down, open where no value moves
and closed (503 service_unavailable + Retry-After) where it does (spin, order, code_reveal)."""

import json
import logging
from datetime import UTC, datetime, timedelta

import pytest
import redis
from django.core.exceptions import ImproperlyConfigured
from django.test import Client
from django.utils import timezone
from rest_framework.response import Response
from rest_framework.test import APIClient, APIRequestFactory
from rest_framework.views import APIView

from config import ratelimit
from config.ratelimit import Rate, hit, rate_parse, throttle
from partners import services as partner_keys
from partners.signing import request_signature, signing_key_for
from tests.conftest import run_concurrently

T0 = datetime(2026, 5, 1, 12, 0, 0, tzinfo=UTC)  # a window boundary for every period used here


@pytest.fixture
def limits(settings):
    """limits(spin="2/min", ...) sets those scopes' rates for the test."""

    def set_limits(**rates):
        settings.RATE_LIMITS = {**settings.RATE_LIMITS, **rates}

    return set_limits


def _security_lines(caplog):
    return [r for r in caplog.records if r.name == "security" and r.security["event"] == "rate_limited"]


# --- Rates --------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "rate"),
    [
        ("30/min", Rate(30, 60)),
        ("5/s", Rate(5, 1)),
        ("20/hour", Rate(20, 3600)),
        ("10/15min", Rate(10, 900)),
        ("100 / day", Rate(100, 86400)),
        ("3/minutes", Rate(3, 60)),
        ("off", None),
    ],
)
def test_rate_parse(text, rate):
    assert rate_parse(text) == rate


@pytest.mark.parametrize("text", ["30", "x/min", "30/fortnight", "0/min", "5/0min", "-1/min"])
def test_rate_parse_refuses_nonsense(text):
    with pytest.raises(ImproperlyConfigured):
        rate_parse(text)


def test_every_configured_scope_parses_and_unknown_scopes_are_an_error(settings):
    expected = {
        "login",
        "register",
        "token_refresh",
        "checkin",
        "spin",
        "order",
        "code_reveal",
        "events",
        "partner_apply",
        "partner_sales",
    }
    assert set(settings.RATE_LIMITS) == expected
    assert all(isinstance(ratelimit.rate_for(scope), Rate) for scope in expected)
    with pytest.raises(ImproperlyConfigured):
        ratelimit.rate_for("nope")


# --- Counting (time injected) -------------------------------------------------------------------------------


def test_window_admits_the_limit_then_refuses_with_retry_after(limits):
    limits(spin="3/min")
    assert [hit("spin", "user:1", now=T0 + timedelta(seconds=s)).allowed for s in (0, 1, 2)] == [True] * 3
    refused = hit("spin", "user:1", now=T0 + timedelta(seconds=3))
    assert (refused.allowed, refused.limit) == (False, 3)
    # The 3 requests slide out of the window: at 80 s only ceil(3 * 40/60) = 2 of them still count.
    assert refused.retry_after == 77
    assert not hit("spin", "user:1", now=T0 + timedelta(seconds=79)).allowed
    assert hit("spin", "user:1", now=T0 + timedelta(seconds=80)).allowed


def test_the_previous_window_still_counts_just_after_the_boundary(limits):
    limits(spin="4/min")
    for s in (50, 51, 52, 53):
        assert hit("spin", "user:1", now=T0 + timedelta(seconds=s)).allowed
    # A fixed window would allow 4 more at 60 s; the sliding window does not.
    early = hit("spin", "user:1", now=T0 + timedelta(seconds=61))
    assert not early.allowed
    # ceil(4 * (60 - e)/60) <= 3 from e = 15 s into the new window on.
    assert early.retry_after == 14
    assert not hit("spin", "user:1", now=T0 + timedelta(seconds=74)).allowed
    assert hit("spin", "user:1", now=T0 + timedelta(seconds=75)).allowed


def test_refusals_do_not_count(limits):
    limits(spin="2/min")
    for _ in range(2):
        assert hit("spin", "user:1", now=T0).allowed
    for _ in range(10):
        assert not hit("spin", "user:1", now=T0).allowed
    # Two windows later nothing is carried: refused requests did not extend the block.
    assert hit("spin", "user:1", now=T0 + timedelta(minutes=2)).allowed


def test_counters_are_per_scope_and_key(limits):
    limits(spin="1/min", checkin="1/min")
    assert hit("spin", "user:1", now=T0).allowed
    assert not hit("spin", "user:1", now=T0).allowed
    assert hit("spin", "user:2", now=T0).allowed
    assert hit("checkin", "user:1", now=T0).allowed


def test_off_means_no_limit(limits):
    limits(spin="off")
    assert all(hit("spin", "user:1", now=T0).allowed for _ in range(50))


def test_concurrent_hits_never_pass_more_than_the_limit(limits):
    limits(spin="7/min")
    results = run_concurrently(40, lambda i: hit("spin", "user:1", now=T0))
    assert not [r for r in results if isinstance(r, BaseException)]
    assert sum(r.allowed for r in results) == 7


@pytest.mark.django_db
def test_concurrent_api_requests_never_pass_more_than_the_limit(limits):
    limits(login="5/min")

    def call(i):
        return APIClient().post("/api/v1/auth/token", {}, format="json").status_code

    statuses = run_concurrently(16, call)
    assert sorted(statuses) == [400] * 5 + [429] * 11


# --- Refusals: API and pages -------------------------------------------------------------------------------


@pytest.mark.django_db
def test_api_refusal_is_429_rate_limited_with_retry_after_and_a_security_line(limits, member_api, member, caplog):
    limits(spin="2/min")
    url = "/api/v1/campaigns/nope/wheel/spins"
    with caplog.at_level(logging.INFO, logger="security"):
        assert [member_api.post(url).status_code for _ in range(2)] == [404, 404]  # counted, then answered
        refused = member_api.post(url)
    assert refused.status_code == 429
    assert refused.json()["error"]["code"] == "rate_limited"
    assert int(refused["Retry-After"]) == refused.json()["error"]["details"]["retry_after"] > 0
    [line] = _security_lines(caplog)
    assert line.security == {
        "event": "rate_limited",
        "ip": "127.0.0.1",
        "user_id": member.pk,
        "scope": "spin",
        "key": f"user:{member.pk}",
        "limit": 2,
        "retry_after": int(refused["Retry-After"]),
        "path": url,
    }
    assert line.getMessage().startswith(f"event=rate_limited ip=127.0.0.1 user_id={member.pk} scope=spin ")


@pytest.mark.django_db
def test_member_limits_count_per_member(limits, make_user):
    limits(checkin="1/min")
    url = "/api/v1/campaigns/nope/checkins"
    first, second = APIClient(), APIClient()
    first.force_authenticate(make_user())
    second.force_authenticate(make_user())
    assert first.post(url).status_code == 404
    assert first.post(url).status_code == 429
    assert second.post(url).status_code == 404  # same IP, another member: their own budget
    assert first.get(url).status_code == 404  # reading the status is not limited


@pytest.mark.django_db
def test_page_refusal_is_a_429_page_with_the_message(limits, member, caplog):
    limits(checkin="1/min")
    client = Client()
    client.force_login(member, backend="accounts.backends.PhoneOrEmailBackend")
    assert client.post("/c/nope/checkin/submit/").status_code == 404
    with caplog.at_level(logging.INFO, logger="security"):
        refused = client.post("/c/nope/checkin/makeup/", {"date": "2026-03-01"}, HTTP_REFERER="/c/nope/checkin/")
    assert refused.status_code == 429
    assert refused["Retry-After"] == str(int(refused["Retry-After"]))
    body = refused.content.decode()
    assert 'data-testid="rate-limited"' in body
    assert 'href="/c/nope/checkin/"' in body  # the way back (same site only)
    assert [line.security["scope"] for line in _security_lines(caplog)] == ["checkin"]


@pytest.mark.django_db
def test_login_and_register_pages_are_limited_per_ip_on_submit_only(limits, caplog):
    limits(login="1/min", register="1/min")
    client = Client()
    assert client.post("/accounts/login/", {"username": "a@example.com", "password": "x"}).status_code == 200
    assert client.post("/accounts/login/", {"username": "a@example.com", "password": "x"}).status_code == 429
    assert client.get("/accounts/login/").status_code == 200
    assert client.post("/accounts/register/", {}).status_code == 200
    refused = client.post("/accounts/register/", {})
    assert refused.status_code == 429
    assert "Retry-After" in refused


@pytest.mark.django_db
def test_spin_page_is_limited_per_member(limits, member):
    limits(spin="1/min")
    client = Client()
    client.force_login(member, backend="accounts.backends.PhoneOrEmailBackend")
    assert client.post("/c/nope/wheel/spin/", {"token": "t1"}).status_code == 404
    assert client.post("/c/nope/wheel/spin/", {"token": "t2"}).status_code == 429


@pytest.mark.django_db
def test_register_and_refresh_apis_are_limited_per_ip(limits):
    limits(register="1/min", token_refresh="1/min")
    api = APIClient()
    assert api.post("/api/v1/auth/register", {}, format="json").status_code == 400
    assert api.post("/api/v1/auth/register", {}, format="json").status_code == 429
    assert api.post("/api/v1/auth/token/refresh", {"refresh": "x"}, format="json").status_code == 401
    assert api.post("/api/v1/auth/token/refresh", {"refresh": "x"}, format="json").status_code == 429


@pytest.mark.django_db
def test_partner_events_are_limited_per_api_key(limits):
    limits(events="1/min")

    def post(key_and_secret):
        api_key, secret = key_and_secret
        raw = json.dumps({"events": []}).encode()
        ts = str(int(timezone.now().timestamp()))
        return APIClient().post(
            "/api/v1/events",
            raw,
            content_type="application/json",
            HTTP_X_API_KEY=api_key.key_id,
            HTTP_X_TIMESTAMP=ts,
            HTTP_X_SIGNATURE=request_signature(signing_key=signing_key_for(secret), timestamp=ts, body=raw),
        )

    erp, pos = partner_keys.api_key_create(name="ERP"), partner_keys.api_key_create(name="POS")
    assert post(erp).status_code != 429
    refused = post(erp)
    assert refused.status_code == 429
    assert refused.json()["error"]["code"] == "rate_limited"
    assert post(pos).status_code != 429  # another partner key: its own budget


def test_the_limiter_applies_to_any_view_and_method(limits):
    """How the mall's order and code-reveal endpoints will use it (they do not exist yet)."""
    limits(order="1/min", code_reveal="1/min")

    class OrderView(APIView):
        authentication_classes = ()
        permission_classes = ()
        throttle_classes = (throttle("order", by="ip"), throttle("code_reveal", by="ip", methods=("GET",)))

        def get(self, request):
            return Response({"code": "ABC"})

        def post(self, request):
            return Response(status=201)

    view = OrderView.as_view()
    factory = APIRequestFactory()
    assert view(factory.post("/orders")).status_code == 201
    assert view(factory.post("/orders")).status_code == 429
    assert view(factory.get("/orders/1/code")).status_code == 200
    assert view(factory.get("/orders/1/code")).status_code == 429


# --- Redis unavailable --------------------------------------------------------------------------------------


DEAD = "redis://127.0.0.1:1/0"  # nothing listens there


@pytest.fixture(autouse=True)
def _fresh_clients(monkeypatch):
    """Each test starts with no client marked down (a dead URL stays "down" in the process otherwise)."""
    monkeypatch.setattr(ratelimit, "_clients", {})


@pytest.mark.django_db
def test_redis_down_fails_open_with_a_warning(settings, limits, member_api, caplog):
    """Check-ins fail open: one per member and day whatever the rate (a database constraint), so their limit only
    sheds load."""
    limits(checkin="1/min")
    settings.RATELIMIT_REDIS_URL = DEAD
    url = "/api/v1/campaigns/nope/checkins"
    with caplog.at_level(logging.WARNING, logger="config.ratelimit"):
        statuses = [member_api.post(url).status_code for _ in range(3)]
    assert statuses == [404, 404, 404]  # served (404: no such campaign), never 429
    warnings = [r for r in caplog.records if r.name == "config.ratelimit"]
    # One warning: after a failure the limiter leaves Redis alone for a few seconds instead of waiting on it.
    assert len(warnings) == 1
    assert "Redis unavailable" in warnings[0].getMessage()
    assert hit("checkin", "user:1", now=T0).allowed


@pytest.mark.django_db
def test_redis_down_logins_still_work_and_fail(settings, member):
    settings.RATELIMIT_REDIS_URL = DEAD
    api = APIClient()
    wrong = api.post("/api/v1/auth/token", {"username": member.email, "password": "nope"}, format="json")
    assert wrong.status_code == 401
    right = api.post("/api/v1/auth/token", {"username": member.email, "password": "Str0ng-pass-2026"}, format="json")
    assert right.status_code == 200


def test_redis_down_fails_closed_where_value_moves(settings, limits):
    limits(spin="5/min", order="5/min", code_reveal="5/min")
    settings.RATELIMIT_REDIS_URL = DEAD
    assert {"spin", "order", "code_reveal"} == ratelimit.FAILS_CLOSED
    for scope in ("spin", "order", "code_reveal"):
        assert hit(scope, "user:1", now=T0) == ratelimit.Decision(
            allowed=False, retry_after=ratelimit.UNAVAILABLE_RETRY_AFTER, limit=5, unavailable=True
        )
    for scope in ("login", "register", "token_refresh", "checkin", "events"):
        assert hit(scope, "ip:203.0.113.7", now=T0).allowed


def test_redis_down_api_and_page_refusals_are_503_without_a_security_line(settings, limits, caplog):
    limits(order="1/min")
    settings.RATELIMIT_REDIS_URL = DEAD

    class OrderView(APIView):
        authentication_classes = ()
        permission_classes = ()
        throttle_classes = (throttle("order", by="ip"),)

        def post(self, request):
            return Response(status=201)

    with caplog.at_level(logging.INFO, logger="security"):
        refused = OrderView.as_view()(APIRequestFactory().post("/orders"))
        page = ratelimit.rate_limit_page("order", by="ip")(lambda request: None)(APIRequestFactory().post("/orders"))
    assert refused.status_code == 503
    assert refused.data["error"]["code"] == "service_unavailable"
    assert refused["Retry-After"] == str(ratelimit.UNAVAILABLE_RETRY_AFTER)
    assert page.status_code == 503
    assert page["Retry-After"] == str(ratelimit.UNAVAILABLE_RETRY_AFTER)
    assert 'data-testid="service-unavailable"' in page.content.decode()
    assert not _security_lines(caplog)  # nobody exceeded anything


def test_the_limiter_counts_again_when_redis_is_back(settings, limits, monkeypatch, caplog):
    """One warning per outage; when Redis answers again (after the short pause) the limits count again."""
    limits(spin="1/min")
    conn = ratelimit._redis()
    tries = []

    def unreachable(**kwargs):
        tries.append(kwargs)
        raise redis.exceptions.ConnectionError("Error 111 connecting to 127.0.0.1:6379. Connection refused.")

    with caplog.at_level(logging.INFO, logger="config.ratelimit"):
        with monkeypatch.context() as patch:
            patch.setattr(conn, "hit", unreachable)  # Redis cut off
            assert hit("spin", "user:1", now=T0).unavailable
            assert hit("spin", "user:1", now=T0).unavailable
            assert len(tries) == 1  # within the pause Redis is not tried
        conn.down_until = 0.0  # the pause is over
        assert hit("spin", "user:1", now=T0).allowed
        assert not hit("spin", "user:1", now=T0).allowed  # counted: the second one is over the limit
        assert not hit("spin", "user:1", now=T0).unavailable
    lines = [r.getMessage() for r in caplog.records if r.name == "config.ratelimit"]
    assert len(lines) == 2
    assert lines[0].startswith("Rate limiter: Redis unavailable")
    assert lines[1].startswith("Rate limiter: Redis is back")
