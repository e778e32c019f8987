"""Logging in with a phone number or an email, and the lockouts that guard it.

Two lockouts, both keyed by the *account* rather than by what was typed, so an account locked by its email is
locked for its phone number too:
- django-axes counts failures per account + client IP (`axes_username` names the account by its canonical
  identifier, `config.client_ip` gives the IP) and locks after AXES_FAILURE_LIMIT;
- a Redis counter per account, from any IP, locks after LOGIN_ACCOUNT_FAILURE_LIMIT failures for
  AXES_COOLOFF_TIME (a password spray from many addresses). Identifiers that match no account are counted the same
  way, so a lockout does not reveal whether an account exists.
While locked, even the right password is refused: the request is flagged `axes_locked_out`, which the pages
(AxesMiddleware → accounts.views.lockout_response) and the token API turn into 429."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from django.conf import settings
from django.contrib.auth.backends import ModelBackend
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest

from accounts.models import User
from accounts.normalize import identifier_normalize
from config import ratelimit
from config.security_log import security_event

ACCOUNT_SCOPE = "login_account"


def login_identity(identifier: str) -> tuple[str, User | None]:
    """(the canonical identity failures count against, the account or None) for whatever was typed: an account is
    named by its email, else its phone, however it was typed; anything else by its normalised form."""
    kind, value = identifier_normalize(identifier)
    user = User.objects.filter(**{"email__iexact" if kind == "email" else "phone": value}).first()
    if user is None:
        return value, None
    return (user.email or user.phone or value).lower(), user


def _identity_of(request: HttpRequest | None, identifier: str) -> tuple[str, User | None]:
    """login_identity, once per request and identifier (axes asks for the username several times a request)."""
    cache = getattr(request, "_login_identities", None) if request is not None else None
    if cache is None:
        cache = {}
        if request is not None:
            request._login_identities = cache  # type: ignore[attr-defined]
    if identifier not in cache:
        cache[identifier] = login_identity(identifier)
    return cache[identifier]


def account_locked_for(identity: str, *, now: datetime | None = None) -> int:
    """Seconds the account (canonical identity) stays locked, 0 when it is not."""
    return ratelimit.strikes_locked(
        ACCOUNT_SCOPE,
        identity,
        limit=settings.LOGIN_ACCOUNT_FAILURE_LIMIT,
        cooloff=settings.AXES_COOLOFF_TIME,
        now=now,
    )


def account_failure_record(identity: str, *, request: HttpRequest | None = None, now: datetime | None = None) -> bool:
    """Count one failed login against the account; True when this failure locks it (logged on `security`)."""
    failures = ratelimit.strike_record(ACCOUNT_SCOPE, identity, cooloff=settings.AXES_COOLOFF_TIME, now=now)
    if failures != settings.LOGIN_ACCOUNT_FAILURE_LIMIT:
        return False
    security_event(
        "login_account_locked",
        request=request,
        account=identity,
        failures=failures,
        cooloff_s=int(settings.AXES_COOLOFF_TIME.total_seconds()),
    )
    return True


class PhoneOrEmailBackend(ModelBackend):
    """Authenticate with a phone number (any common format) or an email, plus password."""

    def authenticate(
        self, request: HttpRequest | None, username: str | None = None, password: str | None = None, **kwargs: Any
    ) -> User | None:
        if not username or password is None:
            return None
        identity, user = _identity_of(request, username)
        if account_locked_for(identity):
            if request is not None:
                request.axes_locked_out = True  # type: ignore[attr-defined]  # the lockout response answers
            # Stops authenticate() trying other backends; it then signals user_login_failed (axes counts it).
            raise PermissionDenied
        if user is None:
            User().set_password(password)  # same work as a real check: no timing oracle for unknown users
        elif user.check_password(password):
            if not self.user_can_authenticate(user):
                return None
            ratelimit.strikes_clear(ACCOUNT_SCOPE, identity)
            return user
        if account_failure_record(identity, request=request) and request is not None:
            request.axes_locked_out = True  # type: ignore[attr-defined]
        return None


def axes_username(request: HttpRequest, credentials: dict[str, Any] | None = None) -> str | None:
    """The identity django-axes counts failures against: the account's canonical identifier whichever of its
    identifiers was typed (however it was formatted), or the normalised identifier when no account has it."""
    raw = (credentials or {}).get("username") or request.POST.get("username")
    if not raw:
        return None
    return _identity_of(request, str(raw))[0]
