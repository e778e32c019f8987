"""Rate limits counted atomically in Redis, one module for every limited action.

A limit is a scope (`login`, `register`, `token_refresh`, `checkin`, `spin`, `order`, `code_reveal`, `events`)
with a rate from `settings.RATE_LIMITS` ("30/min", "20/hour", "10/15min"; "off" disables it) counted per key:
the member (`user:<id>`), the client IP (`ip:<addr>`, always `config.client_ip.client_ip`) or the partner API key
(`key:<id>`). Counting is a sliding-window counter: the current fixed window's count plus the previous window's,
weighted by how much of it is still inside the sliding window. One Lua script reads both and increments only when
the request is admitted, so concurrent requests never get more than the limit through a window and refused requests
do not extend a block.

Use it from the views, thin: `throttle("spin")` in a DRF view's `throttle_classes`, `@rate_limit_page("checkin")` on
a page view. A refusal is HTTP 429 with `Retry-After` (the API: `{"error": {"code": "rate_limited", ...}}`; pages:
a page with the message) and one `security` log line (`event=rate_limited scope=... ip=... user_id=...`).

Redis being down never takes a page down (DESIGN: no page needs Redis to answer; issue 16). The limiter logs one
warning per outage, leaves Redis alone for a second after each failure (each try may cost a socket timeout) and:
- fails OPEN (the request goes on, uncounted) for the limits that guard no value: login, register, token_refresh,
  events, and checkin — a check-in pays at most once per member and day whatever the rate (the database's
  `checkin_once_per_day` constraint; make-ups are bounded by the campaign's allowance), so its limit only sheds load;
- fails CLOSED for the limits where each request moves value (`FAILS_CLOSED`: spin, order, code_reveal): HTTP 503
  `service_unavailable` with `Retry-After` (the API's error shape; pages: a page with the message), nothing done.

`strike_record` / `strikes_locked` / `strikes_clear` count failures with a cool-off (the per-account login lockout
in accounts/backends.py)."""

from __future__ import annotations

import functools
import hashlib
import logging
import math
import re
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, cast

import redis
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils import timezone
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import ngettext
from rest_framework import exceptions
from rest_framework.throttling import BaseThrottle

from config.client_ip import client_ip
from config.errors import RateLimited, ServiceUnavailable
from config.security_log import security_event

logger = logging.getLogger(__name__)

REDIS_DOWN_PAUSE = 1.0  # seconds without trying Redis after it failed (each try would cost a timeout)
# Scopes refused (503) rather than let through uncounted while Redis is down: each request moves value.
FAILS_CLOSED = frozenset({"spin", "order", "code_reveal"})
UNAVAILABLE_RETRY_AFTER = ServiceUnavailable.retry_after  # seconds, the Retry-After of those refusals
_UNITS = {
    "s": 1,
    "sec": 1,
    "second": 1,
    "m": 60,
    "min": 60,
    "minute": 60,
    "h": 3600,
    "hour": 3600,
    "d": 86400,
    "day": 86400,
}
_RATE = re.compile(r"^\s*(\d+)\s*/\s*(\d*)\s*([a-z]+?)s?\s*$")

# KEYS: the current window's counter, the previous window's. ARGV: limit, window length (ms), ms into the window.
_HIT = """
local limit = tonumber(ARGV[1])
local period = tonumber(ARGV[2])
local elapsed = tonumber(ARGV[3])
local cur = tonumber(redis.call('GET', KEYS[1]) or '0')
local prev = tonumber(redis.call('GET', KEYS[2]) or '0')
local carried = math.ceil(prev * (period - elapsed) / period)
if cur + carried >= limit then
  return {0, cur, prev}
end
cur = redis.call('INCR', KEYS[1])
redis.call('PEXPIRE', KEYS[1], period * 2)
return {1, cur, prev}
"""

# KEYS: the strike hash. ARGV: now (ms), cool-off (ms). A strike after a quiet cool-off starts counting afresh.
_STRIKE = """
local now = tonumber(ARGV[1])
local cooloff = tonumber(ARGV[2])
local data = redis.call('HMGET', KEYS[1], 'count', 'last')
local count = tonumber(data[1] or '0')
local last = tonumber(data[2] or '0')
if now - last >= cooloff then count = 0 end
count = count + 1
redis.call('HSET', KEYS[1], 'count', count, 'last', now)
redis.call('PEXPIRE', KEYS[1], cooloff)
return count
"""


@dataclass(frozen=True)
class Rate:
    limit: int
    period: int  # seconds


@dataclass(frozen=True)
class Decision:
    allowed: bool
    retry_after: int = 0  # seconds until a request would be admitted (refusals only)
    limit: int = 0
    unavailable: bool = False  # refused because the limit cannot be counted (Redis down, a FAILS_CLOSED scope)


@functools.lru_cache(maxsize=64)
def rate_parse(text: str) -> Rate | None:
    """ "30/min" → Rate(30, 60); "10/15min" → Rate(10, 900); "off" → None (no limit)."""
    if text.strip().lower() in {"off", "none", ""}:
        return None
    match = _RATE.match(text.lower())
    if not match or match.group(3) not in _UNITS:
        raise ImproperlyConfigured(f"Rate limit {text!r}: expected '<count>/<unit>', e.g. '30/min' or '10/15min'.")
    period = int(match.group(2) or 1) * _UNITS[match.group(3)]
    limit = int(match.group(1))
    if limit < 1 or period < 1:
        raise ImproperlyConfigured(f"Rate limit {text!r}: count and period must be positive (or 'off').")
    return Rate(limit, period)


def rate_for(scope: str) -> Rate | None:
    try:
        text = settings.RATE_LIMITS[scope]
    except KeyError:
        raise ImproperlyConfigured(f"No rate limit for scope {scope!r} in settings.RATE_LIMITS.") from None
    return rate_parse(text)


# --- Redis ---------------------------------------------------------------------------------------------


class _Redis:
    """One client per URL (thread-safe pool), the scripts registered on it, and when it last failed. Nothing is
    kept broken: after the pause the next call tries again and redis-py replaces dead pooled connections."""

    def __init__(self, url: str) -> None:
        self.client = redis.Redis.from_url(url, socket_connect_timeout=0.5, socket_timeout=0.5)
        self.hit = self.client.register_script(_HIT)
        self.strike = self.client.register_script(_STRIKE)
        self.down_until = 0.0
        self.down_since: float | None = None  # set while Redis is considered down (one warning per outage)


_clients: dict[str, _Redis] = {}
_clients_lock = threading.Lock()


def _redis() -> _Redis | None:
    """The limiter's Redis, or None while it is considered down."""
    url = settings.RATELIMIT_REDIS_URL
    with _clients_lock:
        conn = _clients.get(url)
        if conn is None:
            conn = _clients[url] = _Redis(url)
    return None if time.monotonic() < conn.down_until else conn


def _redis_failed(conn: _Redis, exc: Exception, what: str) -> None:
    now = time.monotonic()
    conn.down_until = now + REDIS_DOWN_PAUSE
    if conn.down_since is not None:
        return  # already reported for this outage
    conn.down_since = now
    logger.warning(
        "Rate limiter: Redis unavailable (%s: %s) at %s; until it is back %s are refused (503) and other limits "
        "let requests through uncounted",
        type(exc).__name__,
        exc,
        what,
        ", ".join(sorted(FAILS_CLOSED)),
    )


def _redis_ok(conn: _Redis) -> None:
    if conn.down_since is not None:
        logger.info("Rate limiter: Redis is back after %.1f s", time.monotonic() - conn.down_since)
        conn.down_since = None


def _uncounted(scope: str, rate: Rate) -> Decision:
    """The decision while Redis cannot count: refused (unavailable) where value moves, admitted elsewhere."""
    if scope in FAILS_CLOSED:
        return Decision(allowed=False, retry_after=UNAVAILABLE_RETRY_AFTER, limit=rate.limit, unavailable=True)
    return Decision(allowed=True, limit=rate.limit)


def _key(*parts: str) -> str:
    prefix = settings.CACHES["default"].get("KEY_PREFIX", "")
    return ":".join((prefix, "rl", *parts))


def _now_ms(now: datetime | None) -> int:
    return int((now or timezone.now()).timestamp() * 1000)


# --- Counting -----------------------------------------------------------------------------------------


def _retry_ms(*, limit: int, period: int, elapsed: int, cur: int, prev: int) -> int:
    """How long until `cur + ceil(prev' * (period - elapsed') / period) < limit` holds again."""
    if cur >= limit:  # wait for this window to become the previous one and decay enough
        return (period - elapsed) + math.ceil(period * (cur - limit + 1) / cur)
    # this window has room; the previous window's carried share must fall to limit - 1 - cur
    return max(1, math.ceil(period - period * (limit - 1 - cur) / prev) - elapsed)


def hit(scope: str, ident: str, *, now: datetime | None = None) -> Decision:
    """Count one request of `ident` (e.g. "user:42", "ip:203.0.113.7") against `scope`'s limit; admitted or not,
    atomically. When Redis is unavailable: refused with `unavailable` for the FAILS_CLOSED scopes, admitted for the
    others."""
    rate = rate_for(scope)
    if rate is None:
        return Decision(allowed=True)
    conn = _redis()
    if conn is None:
        return _uncounted(scope, rate)
    now_ms, period_ms = _now_ms(now), rate.period * 1000
    window, elapsed = divmod(now_ms, period_ms)
    try:
        allowed, cur, prev = conn.hit(
            keys=[_key(scope, ident, str(window)), _key(scope, ident, str(window - 1))],
            args=[rate.limit, period_ms, elapsed],
        )
    except redis.RedisError as exc:
        _redis_failed(conn, exc, f"{scope} for {ident}")
        return _uncounted(scope, rate)
    _redis_ok(conn)
    if allowed:
        return Decision(allowed=True, limit=rate.limit)
    wait = _retry_ms(limit=rate.limit, period=period_ms, elapsed=elapsed, cur=int(cur), prev=int(prev))
    return Decision(allowed=False, retry_after=max(1, math.ceil(wait / 1000)), limit=rate.limit)


def _strike_key(scope: str, ident: str) -> str:
    # Identifiers can be anything a caller typed (unknown logins): hash them into a bounded key.
    return _key(scope, hashlib.sha256(ident.encode()).hexdigest()[:32])


def strike_record(scope: str, ident: str, *, cooloff: timedelta, now: datetime | None = None) -> int:
    """Count one failure of `ident`; returns the failures in a row (reset after `cooloff` without any). 0 when
    Redis is unavailable (fails open)."""
    conn = _redis()
    if conn is None:
        return 0
    try:
        count = conn.strike(keys=[_strike_key(scope, ident)], args=[_now_ms(now), int(cooloff.total_seconds() * 1000)])
    except redis.RedisError as exc:
        _redis_failed(conn, exc, f"{scope} failure of {ident}")
        return 0
    _redis_ok(conn)
    return int(count)


def strikes_locked(scope: str, ident: str, *, limit: int, cooloff: timedelta, now: datetime | None = None) -> int:
    """Seconds `ident` stays locked (`limit` failures, the last less than `cooloff` ago), 0 when not locked."""
    conn = _redis()
    if conn is None:
        return 0
    try:
        count, last = conn.client.hmget(_strike_key(scope, ident), ["count", "last"])
    except redis.RedisError as exc:
        _redis_failed(conn, exc, f"{scope} check of {ident}")
        return 0
    _redis_ok(conn)
    if count is None or last is None or int(count) < limit:
        return 0
    left_ms = int(last) + int(cooloff.total_seconds() * 1000) - _now_ms(now)
    return max(0, math.ceil(left_ms / 1000))


def strikes_clear(scope: str, ident: str) -> None:
    conn = _redis()
    if conn is None:
        return
    try:
        conn.client.delete(_strike_key(scope, ident))
    except redis.RedisError as exc:
        _redis_failed(conn, exc, f"{scope} reset of {ident}")
        return
    _redis_ok(conn)


# --- Who is counted ------------------------------------------------------------------------------------

By = str | Callable[[Any], str]


def request_ident(request: Any, by: By) -> str:
    """The key a request counts against: "member" (the signed-in user, else the client IP), "ip", "api_key" (the
    authenticating API key object's id, e.g. a partner key) or a function of the request."""
    if callable(by):
        return by(request)
    if by == "member":
        user = getattr(request, "user", None)
        if getattr(user, "is_authenticated", False):
            return f"user:{user.pk}"  # type: ignore[union-attr]
        return f"ip:{client_ip(request)}"
    if by == "ip":
        return f"ip:{client_ip(request)}"
    if by == "api_key":
        return f"key:{request.auth.pk}"
    raise ImproperlyConfigured(f"Unknown rate-limit key {by!r}.")


def refusal_message(retry_after: int) -> str:
    return ngettext(
        "Too many requests. Try again in %(seconds)d second.",
        "Too many requests. Try again in %(seconds)d seconds.",
        retry_after,
    ) % {"seconds": retry_after}


def check(request: Any, scope: str, *, by: By = "member", now: datetime | None = None) -> Decision:
    """Count the request; on refusal write the security log line. The caller answers 429 (503 when the refusal
    is `unavailable`: Redis is down, nobody exceeded anything, no security line)."""
    ident = request_ident(request, by)
    decision = hit(scope, ident, now=now)
    if not decision.allowed and not decision.unavailable:
        security_event(
            "rate_limited",
            request=request,
            scope=scope,
            key=ident,
            limit=decision.limit,
            retry_after=decision.retry_after,
            path=getattr(request, "path", ""),
        )
    return decision


# --- DRF ---------------------------------------------------------------------------------------------


class RateLimitedError(exceptions.Throttled):
    """429 `rate_limited` with Retry-After (config.api.exception_handler renders it in the error shape)."""

    default_code = RateLimited.code

    def __init__(self, wait: int) -> None:
        exceptions.APIException.__init__(self, refusal_message(wait), RateLimited.code)
        self.wait = wait


class LimiterUnavailableError(exceptions.APIException):
    """503 `service_unavailable` with Retry-After: a FAILS_CLOSED limit cannot be counted (Redis is down)."""

    status_code = ServiceUnavailable.status
    default_code = ServiceUnavailable.code
    default_detail = ServiceUnavailable.default_message

    def __init__(self, wait: int) -> None:
        super().__init__(ServiceUnavailable.default_message, ServiceUnavailable.code)
        self.wait = wait


class ScopeThrottle(BaseThrottle):
    scope = ""
    by: By = "member"
    methods: tuple[str, ...] = ("POST",)

    def allow_request(self, request: Any, view: Any) -> bool:
        if request.method not in self.methods:
            return True
        decision = check(request, self.scope, by=type(self).by)
        if decision.unavailable:
            raise LimiterUnavailableError(decision.retry_after)
        if not decision.allowed:
            raise RateLimitedError(decision.retry_after)
        return True

    def get_ident(self, request: Any) -> str:
        return client_ip(request)


def throttle(scope: str, *, by: By = "member", methods: tuple[str, ...] = ("POST",)) -> type[ScopeThrottle]:
    """A DRF throttle class for `scope` limiting the view's `methods` (POST: acting, not reading):
    `throttle_classes = (throttle("spin"),)`."""
    name = f"{scope.title().replace('_', '')}Throttle"
    attrs = {"scope": scope, "by": by, "methods": methods}
    return cast(type[ScopeThrottle], type(name, (ScopeThrottle,), attrs))


# --- Pages -------------------------------------------------------------------------------------------


def _back(request: HttpRequest) -> str:
    """Where "Back" leads: the referring page of this site, else home."""
    back = request.headers.get("Referer", "")
    if not url_has_allowed_host_and_scheme(back, allowed_hosts={request.get_host()}, require_https=request.is_secure()):
        back = "/"
    return back


def refused_page(request: HttpRequest, decision: Decision) -> HttpResponse:
    """The page a refused person sees: the message, a way back, 429 and Retry-After."""
    response = render(
        request,
        "rate_limited.html",
        {"message": refusal_message(decision.retry_after), "back": _back(request)},
        status=429,
    )
    response["Retry-After"] = str(decision.retry_after)
    return response


def unavailable_page(request: HttpRequest, decision: Decision) -> HttpResponse:
    """The page for a FAILS_CLOSED limit that cannot be counted: the message, a way back, 503 and Retry-After."""
    response = render(
        request,
        "service_unavailable.html",
        {"message": ServiceUnavailable.default_message, "back": _back(request)},
        status=ServiceUnavailable.status,
    )
    response["Retry-After"] = str(decision.retry_after)
    return response


def rate_limit_page(scope: str, *, by: By = "member", methods: tuple[str, ...] = ("POST",)) -> Callable[..., Any]:
    """Limit a page view's `methods` (POST by default: submitting, not looking)."""

    def decorator(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
        @functools.wraps(view)
        def wrapped(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
            if request.method in methods:
                decision = check(request, scope, by=by)
                if decision.unavailable:
                    return unavailable_page(request, decision)
                if not decision.allowed:
                    return refused_page(request, decision)
            return view(request, *args, **kwargs)

        return wrapped

    return decorator
