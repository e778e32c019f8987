"""Requests refused for their size before anything reads them, answered by the app in its own shape: JSON
`{"error": {...}}` under /api/, a short page elsewhere (`refusal_response`).

- The URL (path and query string, as Django rebuilds it) longer than settings.REQUEST_MAX_URL_BYTES:
  414 `uri_too_long`.
- Request headers longer than settings.REQUEST_MAX_HEADER_BYTES in total: 431 `request_headers_too_large`.
- A body whose Content-Length is over settings.DATA_UPLOAD_MAX_MEMORY_SIZE: 413 `request_too_large`, before
  anything reads it. Multipart bodies are let through (their files do not count towards the limit; Django counts
  their other fields while parsing and raises RequestDataTooBig): what Django raises then is mapped by
  config.errors.request_refusal, for pages in config.urls.handler400, for the API in config.api.exception_handler.

Gunicorn (gunicorn.conf.py) has its own limits, set above these, so that requests between the two get the app's
answer; a request past gunicorn's never reaches Django, and gunicorn answers with its own HTML 414/431/400.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.conf import settings
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render
from django.utils.translation import gettext_lazy as _

from config.api import error_body
from config.errors import BadRequest, DomainError, HeadersTooLarge, RequestTooLarge, UriTooLong

_TITLES = {
    BadRequest.status: _("Bad request"),
    RequestTooLarge.status: _("Request too large"),
    UriTooLong.status: _("Address too long"),
    HeadersTooLarge.status: _("Request headers too large"),
}


def is_api(request: HttpRequest) -> bool:
    return request.path_info.startswith("/api/")


def refusal_response(request: HttpRequest, error: DomainError) -> HttpResponse:
    """The app's answer to a request it refuses as a whole: the error shape for the API, a page otherwise."""
    if is_api(request):
        return JsonResponse(error_body(error.code, error.message, error.details), status=error.status)
    context = {"title": _TITLES.get(error.status, error.message), "message": error.message, "code": error.code}
    return render(request, "request_refused.html", context, status=error.status)


def _header_bytes(meta: dict[str, Any]) -> int:
    # "Name: value\r\n" per header; WSGI keeps Content-Type and Content-Length out of the HTTP_ keys.
    return sum(
        len(key) + len(str(value)) + 4
        for key, value in meta.items()
        if key.startswith("HTTP_") or key in {"CONTENT_TYPE", "CONTENT_LENGTH"}
    )


def _declared_length(meta: dict[str, Any]) -> int:
    try:
        return int(meta.get("CONTENT_LENGTH") or 0)
    except ValueError:
        return 0  # Django reads such a body as empty too


class RequestLimitsMiddleware:
    """Place before anything that reads the body (CSRF, sessions' writes, views)."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        error = self.refusal(request)
        if error is not None:
            return refusal_response(request, error)
        return self.get_response(request)

    @staticmethod
    def refusal(request: HttpRequest) -> DomainError | None:
        if len(request.get_full_path()) > settings.REQUEST_MAX_URL_BYTES:
            return UriTooLong(details={"max_bytes": settings.REQUEST_MAX_URL_BYTES})
        if _header_bytes(request.META) > settings.REQUEST_MAX_HEADER_BYTES:
            return HeadersTooLarge(details={"max_bytes": settings.REQUEST_MAX_HEADER_BYTES})
        limit = settings.DATA_UPLOAD_MAX_MEMORY_SIZE
        multipart = request.content_type == "multipart/form-data"
        if limit is not None and not multipart and _declared_length(request.META) > limit:
            return RequestTooLarge()
        return None
