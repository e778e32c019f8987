"""The one error family. Services raise a `DomainError` subclass; each app's errors.py subclasses these with a
stable machine code, a class constant (`code`) that clients may rely on. The API renders any of them as
{"error": {"code", "message", "details"}} with the class's HTTP status; pages and the admin put them on a form
with `config.forms.errors_to_form`.

The one exception: field validation of operator or member input (what a form shows next to a field) stays a
Django `ValidationError` keyed by field name; the API renders it as 400 `validation_error`
(`InvalidInput.code`) and `errors_to_form` puts it on the form like a DomainError."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.exceptions import RequestDataTooBig
from django.utils.translation import gettext_lazy as _


class DomainError(Exception):
    """A business rule refused the request. `code` is stable and machine-readable; `message` is for people."""

    code: str = "error"
    status: int = 422
    default_message: Any = _("The request could not be completed.")

    def __init__(self, message: Any = None, *, details: dict[str, Any] | None = None) -> None:
        self.message = message if message is not None else self.default_message
        self.details = details or {}
        super().__init__(str(self.message))


class InvalidInput(DomainError):
    """Input that failed validation (also the code the API gives a field-keyed Django ValidationError)."""

    code = "validation_error"
    status = 400
    default_message = _("Invalid input.")


class NotFound(DomainError):
    """It does not exist, or it is not the caller's to see (no difference is revealed)."""

    code = "not_found"
    status = 404
    default_message = _("Not found.")


class PermissionDenied(DomainError):
    """It exists and the caller may know it, but may not do this to it."""

    code = "permission_denied"
    status = 403
    default_message = _("You are not allowed to do this.")


class Conflict(DomainError):
    code = "conflict"
    status = 409
    default_message = _("The request conflicts with the current state.")


# --- The API's own refusals (config/api.py) ----------------------------------------------------------------------


class IdempotencyKeyInvalid(DomainError):
    code = "invalid_idempotency_key"
    status = 400
    default_message = _("The Idempotency-Key header must be 1-255 printable characters.")


class IdempotencyKeyReused(DomainError):
    code = "idempotency_key_reused"
    status = 422
    default_message = _("This Idempotency-Key was already used with a different request.")


class IdempotencyInFlight(Conflict):
    code = "idempotency_in_flight"
    default_message = _("A request with this Idempotency-Key is still being processed. Retry shortly.")


class RateLimited(DomainError):
    """A rate limit refused the request (config/ratelimit.py): 429 with Retry-After."""

    code = "rate_limited"
    status = 429
    default_message = _("Too many requests. Try again later.")


class ServerError(DomainError):
    """Never raised by services: the code and message of an unexpected failure (500)."""

    code = "server_error"
    status = 500
    default_message = _("Something went wrong on our side.")


class ServiceUnavailable(DomainError):
    """A backing service (the database connection) failed mid-request: nothing was kept; retry (503 with
    Retry-After)."""

    code = "service_unavailable"
    status = 503
    default_message = _("The service is briefly unavailable. Try again in a moment.")
    retry_after = 2


# --- Hostile input: the request itself is refused (config/parsers.py, config/middleware.py, config/pagination.py) ---


class MalformedBody(DomainError):
    """The body is not acceptable JSON: a syntax error, invalid UTF-8, nesting past the limit, a NUL or control
    character, a lone surrogate, a number out of range, a duplicate key (`details.reason` says which)."""

    code = "parse_error"
    status = 400
    default_message = _("The request body is not valid JSON.")


class RequestTooLarge(DomainError):
    """Over settings.DATA_UPLOAD_MAX_MEMORY_SIZE (file uploads do not count); the limit is in `details.max_bytes`."""

    code = "request_too_large"
    status = 413
    default_message = _("The request body is too large.")

    def __init__(self, message: Any = None, *, details: dict[str, Any] | None = None) -> None:
        super().__init__(message, details=details or {"max_bytes": settings.DATA_UPLOAD_MAX_MEMORY_SIZE})


class UriTooLong(DomainError):
    code = "uri_too_long"
    status = 414
    default_message = _("The address (URL) is too long.")


class HeadersTooLarge(DomainError):
    code = "request_headers_too_large"
    status = 431
    default_message = _("The request headers are too large.")


class BadRequest(DomainError):
    """A request Django refuses as suspicious (too many form fields or files, a malformed multipart body)."""

    code = "bad_request"
    status = 400
    default_message = _("The request could not be understood.")


def request_refusal(exc: Exception) -> DomainError:
    """What a request Django refused as suspicious is, in the app's words: a body over the upload limit (Django's
    RequestDataTooBig) is 413 `request_too_large`, anything else (too many fields or files, a malformed multipart
    body, a disallowed Host) 400 `bad_request`. Used by config.api.exception_handler and config.urls.handler400."""
    if isinstance(exc, RequestDataTooBig):
        return RequestTooLarge()
    return BadRequest()


class InvalidCursor(DomainError):
    code = "invalid_cursor"
    status = 400
    default_message = _("The pagination cursor is invalid: start again from the first page.")
