"""A request that loses its database connection (a terminated backend, a restarted server, a network cut) is
answered 503 `service_unavailable` with Retry-After — retry, nothing was kept — never 500 (issue 16).

- API views: config.api.exception_handler (and config.api.idempotent, which also rolls the Idempotency-Key record
  back with the effect) answer the error shape.
- Everything else — page views, and middleware reading the session or the user before any view runs, or saving the
  session on the way out, under /api/ too — reaches Django's uncaught-exception path, whose handler500
  (config/urls.py) hands the request here when the exception being handled is a database connection error.

The page is rendered without the request (no context processors: they read the user, i.e. the database). The broken
connection is dropped by Django at the end of the request (it saw the error) and the pool replaces it; pooled
connections are checked before use (CONN_HEALTH_CHECKS with the pool, config/settings/base.py).
"""

from __future__ import annotations

import sys

from django.http import HttpRequest, HttpResponse, JsonResponse
from django.template import loader

from config.api import CONNECTION_ERRORS, error_body
from config.errors import ServiceUnavailable


def database_unavailable_response(request: HttpRequest) -> HttpResponse:
    """503 with Retry-After: JSON in the error shape under /api/, the 503 page elsewhere."""
    error = ServiceUnavailable()
    response: HttpResponse
    if request.path_info.startswith("/api/"):
        response = JsonResponse(error_body(error.code, error.message), status=error.status)
    else:
        response = HttpResponse(loader.get_template("503.html").render({"message": error.message}), status=error.status)
    response["Retry-After"] = str(error.retry_after)
    return response


def database_error_being_handled() -> bool:
    """True inside an `except` block handling a lost database connection (Django calls handler500 in one)."""
    return isinstance(sys.exc_info()[1], CONNECTION_ERRORS)
