"""Middleware that a bearer-authenticated API call does not need, skipped for it; and the cut of the reference cycles
DRF leaves behind every API call (ApiCycleBreakMiddleware, at the end).

A call to /api/ with `Authorization: Bearer ...` is authenticated by DRF (accounts.authentication), not by a session
cookie: it needs no session, no Django-level user, no flash messages and no audit-log actor from a session (the
audit log records staff work in the admin), and its Content-Security-Policy is a constant (ApiCSPMiddleware). Each
class below but the last is the framework's own middleware, passed over for such a call and unchanged for every
other request (pages, the admin, session-authenticated API calls, token login). See docs/performance.md.
"""

from __future__ import annotations

import functools
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


def _release(response: Any) -> None:
    """Break the reference cycles DRF leaves between an answered call's objects (below)."""
    context = response.renderer_context or {}
    response.renderer_context = None  # response -> view, request
    drf_request = context.get("request")
    if drf_request is not None:
        drf_request.parser_context = None  # Request -> itself, view
    view = context.get("view")
    if view is not None:
        view.__dict__.clear()  # view -> request, response


class ApiCycleBreakMiddleware:
    """Every call answered by a DRF view leaves its objects in reference cycles: the Request holds itself and the
    view in its parser context, the view holds the request and the response, the response the view and the request
    in its renderer context. ~65 objects a call that reference counting cannot free, only the garbage collector's
    full collections: under load (bench/api_http.py) each gunicorn worker ran one every ~10 s and stopped every
    thread for 80-120 ms to do it, the slowest requests of a run. Once the response is closed (the WSGI server's
    last step; Django's test client does the same) nothing needs those links, so they are cut there and every call's
    objects are freed as soon as it is done. tests/test_api_middleware.py checks that an API call leaves no garbage.
    Innermost of the middleware: it sees the view's own response."""

    async_capable = False

    def __init__(self, get_response: Any) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> Any:
        response = self.get_response(request)
        if getattr(response, "renderer_context", None) is not None:
            response._resource_closers.append(functools.partial(_release, response))  # cleared by close()
        return response
