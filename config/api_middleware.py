"""Middleware that a bearer-authenticated API call does not need, skipped for it.

A call to /api/ with `Authorization: Bearer ...` is authenticated by DRF (accounts.authentication), not by a session
cookie: it needs no session, no Django-level user, no flash messages and no audit-log actor from a session (the
audit log records staff work in the admin), and its Content-Security-Policy is a constant (ApiCSPMiddleware). Each
class below is the framework's own middleware, passed over for such a call and unchanged for every other request
(pages, the admin, session-authenticated API calls, token login). See docs/performance.md.
"""

from __future__ import annotations

from typing import Any

from auditlog.middleware import AuditlogMiddleware
from csp.constants import HEADER as CSP_HEADER
from csp.middleware import CSPMiddleware
from django.contrib.auth.middleware import AuthenticationMiddleware
from django.contrib.messages.middleware import MessageMiddleware
from django.contrib.sessions.middleware import SessionMiddleware
from django.http import HttpRequest, HttpResponseBase


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


# A bearer API call answers JSON to an app, never a document a browser renders: the strictest policy fits it (nothing
# may load, nothing may frame it), the same for every call, so it is a constant rather than django-csp's per-response
# build from the page policy (~0.1 ms a request, measured in-process).
API_CONTENT_SECURITY_POLICY = "default-src 'none'; frame-ancestors 'none'"


class ApiCSPMiddleware(CSPMiddleware):
    """django-csp's middleware for everything else; a bearer API call gets API_CONTENT_SECURITY_POLICY."""

    async_capable = False

    def __call__(self, request: HttpRequest) -> Any:
        if bearer_api_call(request):
            response: HttpResponseBase = self.get_response(request)  # type: ignore[assignment]  # WSGI: never awaitable
            if CSP_HEADER not in response:
                response[CSP_HEADER] = API_CONTENT_SECURITY_POLICY
            return response
        return super().__call__(request)


class ApiSessionMiddleware(_SkippedForBearerApi, SessionMiddleware):
    pass


class ApiAuthenticationMiddleware(_SkippedForBearerApi, AuthenticationMiddleware):
    pass


class ApiMessageMiddleware(_SkippedForBearerApi, MessageMiddleware):
    pass


class ApiAuditlogMiddleware(_SkippedForBearerApi, AuditlogMiddleware):
    pass
