"""Middleware that a bearer-authenticated API call does not need, skipped for it.

A call to /api/ with `Authorization: Bearer ...` is authenticated by DRF (accounts.authentication), not by a session
cookie: it needs no session, no Django-level user, no flash messages and no audit-log actor from a session (the
audit log records staff work in the admin). Each class below is the framework's own middleware, passed over for such
a call and unchanged for every other request (pages, the admin, session-authenticated API calls, token login). See
docs/performance.md.
"""

from __future__ import annotations

from typing import Any

from auditlog.middleware import AuditlogMiddleware
from django.contrib.auth.middleware import AuthenticationMiddleware
from django.contrib.messages.middleware import MessageMiddleware
from django.contrib.sessions.middleware import SessionMiddleware
from django.http import HttpRequest


def bearer_api_call(request: HttpRequest) -> bool:
    return request.path_info.startswith("/api/") and request.META.get("HTTP_AUTHORIZATION", "")[:7].lower() == (
        "bearer "
    )


class _SkippedForBearerApi:
    async_capable = False  # served by WSGI (gunicorn); Django adapts if ever run under ASGI

    def __call__(self, request: HttpRequest) -> Any:
        if bearer_api_call(request):
            return self.get_response(request)  # type: ignore[attr-defined]
        return super().__call__(request)  # type: ignore[misc]


class ApiSessionMiddleware(_SkippedForBearerApi, SessionMiddleware):
    pass


class ApiAuthenticationMiddleware(_SkippedForBearerApi, AuthenticationMiddleware):
    pass


class ApiMessageMiddleware(_SkippedForBearerApi, MessageMiddleware):
    pass


class ApiAuditlogMiddleware(_SkippedForBearerApi, AuditlogMiddleware):
    pass
