"""API plumbing shared by every app: the /api/v1/ URL list, the error shape, and Idempotency-Key support."""

from __future__ import annotations

import functools
import hashlib
import json
import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum
from importlib import import_module
from typing import Any, Protocol, cast

import psycopg
from django.conf import settings
from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.core.exceptions import SuspiciousOperation
from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import InterfaceError, OperationalError, transaction
from django.http import Http404, HttpRequest, JsonResponse
from django.utils import timezone
from django.utils.encoding import force_str
from django.views.decorators.csrf import csrf_exempt
from drf_spectacular.utils import OpenApiParameter, OpenApiTypes, inline_serializer
from rest_framework import exceptions, serializers, status
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.utils.encoders import JSONEncoder

from config.errors import (
    DomainError,
    IdempotencyInFlight,
    IdempotencyKeyInvalid,
    IdempotencyKeyReused,
    InvalidInput,
    NotFound,
    PermissionDenied,
    RateLimited,
    ServerError,
    ServiceUnavailable,
    request_refusal,
)

logger = logging.getLogger(__name__)

# A lost or unusable database connection, answered 503 with Retry-After: Django's errors, and psycopg's own from the
# prepared-statement paths that run on the raw connection (points.services._execute, lottery.services._spin_call)
# and so bypass Django's error wrapper (e.g. psycopg.errors.AdminShutdown from a terminated backend).
CONNECTION_ERRORS = (OperationalError, InterfaceError, psycopg.OperationalError, psycopg.InterfaceError)

IDEMPOTENCY_HEADER = "Idempotency-Key"
IDEMPOTENCY_MAX_KEY = 255
IDEMPOTENCY_STALE_AFTER = timedelta(minutes=5)

IdempotencyKeyParameter = OpenApiParameter(
    name=IDEMPOTENCY_HEADER,
    type=OpenApiTypes.STR,
    location=OpenApiParameter.HEADER,
    required=False,
    description="Retry-safe key (1-255 chars). The same key with the same body replays the first response.",
)


# --- Hot-path rendering -----------------------------------------------------------------------------------

_DATETIME = serializers.DateTimeField()


def api_datetime(value: datetime | None) -> str | None:
    """A datetime as the API writes it everywhere (DRF's DateTimeField: ISO 8601 in the site's time zone), for
    hot endpoints that build their body as a dict instead of running a serializer."""
    return None if value is None else _DATETIME.to_representation(value)


# --- The error shape -------------------------------------------------------------------------------


def error_body(code: str, message: Any, details: dict[str, Any] | None = None) -> dict[str, Any]:
    return {"error": {"code": code, "message": force_str(message), "details": details or {}}}


def error_response(code: str, message: Any, status_code: int, details: dict[str, Any] | None = None) -> Response:
    return Response(error_body(code, message, details), status=status_code)


def domain_error_response(exc: DomainError) -> Response:
    return error_response(exc.code, exc.message, exc.status, exc.details)


class ErrorSerializer(serializers.Serializer):
    """Documented shape of every API error."""

    class _Inner(serializers.Serializer):
        code = serializers.CharField()
        message = serializers.CharField()
        details = serializers.DictField()

    error = _Inner()


def error_responses(*statuses: int) -> dict[int, type[ErrorSerializer]]:
    """The `responses` entries of an operation's refusals, all in the error shape."""
    return dict.fromkeys(statuses, ErrorSerializer)


def page_schema(name: str, results: serializers.Serializer) -> Any:
    """The documented shape of a cursor-paginated list (config/pagination.py): next, previous, results."""
    return inline_serializer(
        name,
        {
            "next": serializers.URLField(allow_null=True),
            "previous": serializers.URLField(allow_null=True),
            "results": results,
        },
    )


def _flatten(detail: Any) -> Any:
    if isinstance(detail, dict):
        return {str(k): _flatten(v) for k, v in detail.items()}
    if isinstance(detail, list):
        return [_flatten(v) for v in detail]
    return force_str(detail)


_DRF_CODES: dict[type[exceptions.APIException], str] = {
    exceptions.NotAuthenticated: "not_authenticated",
    exceptions.AuthenticationFailed: "authentication_failed",
    exceptions.PermissionDenied: PermissionDenied.code,
    exceptions.NotFound: NotFound.code,
    exceptions.MethodNotAllowed: "method_not_allowed",
    exceptions.NotAcceptable: "not_acceptable",
    exceptions.UnsupportedMediaType: "unsupported_media_type",
    exceptions.Throttled: RateLimited.code,
    exceptions.ParseError: "parse_error",
}


def exception_handler(exc: Exception, context: dict[str, Any]) -> Response:
    """DRF exception handler: every error, ours or the framework's, leaves in one shape."""
    if isinstance(exc, CONNECTION_ERRORS):  # the database connection was lost: nothing kept, retry
        logger.warning("API request lost its database connection: 503", exc_info=exc)
        return service_unavailable_response()
    if isinstance(exc, DomainError):
        return domain_error_response(exc)
    if isinstance(exc, exceptions.AuthenticationFailed) and isinstance(exc.__cause__, DomainError):
        # An authentication class refused with a domain error (`raise AuthenticationFailed(...) from error`):
        # DRF settles the status (401 with WWW-Authenticate), the domain error its code, message and details.
        cause = exc.__cause__
        response = error_response(cause.code, cause.message, exc.status_code, cause.details)
        if getattr(exc, "auth_header", None):
            response["WWW-Authenticate"] = exc.auth_header  # type: ignore[attr-defined]
        return response
    if isinstance(exc, SuspiciousOperation):  # e.g. a multipart body read by the CSRF check of a session
        logging.getLogger(f"django.security.{type(exc).__name__}").warning("%s", exc)
        return domain_error_response(request_refusal(exc))
    if isinstance(exc, DjangoValidationError):
        django_details: Any = exc.message_dict if hasattr(exc, "error_dict") else {"non_field_errors": exc.messages}
        return error_response(InvalidInput.code, InvalidInput.default_message, 400, _flatten(django_details))
    if isinstance(exc, Http404):
        exc = exceptions.NotFound()
    elif isinstance(exc, DjangoPermissionDenied):
        exc = exceptions.PermissionDenied()
    if isinstance(exc, exceptions.ValidationError):
        drf_details: Any = exc.detail if isinstance(exc.detail, dict) else {"non_field_errors": exc.detail}
        return error_response(InvalidInput.code, InvalidInput.default_message, 400, _flatten(drf_details))
    if isinstance(exc, exceptions.APIException):
        code = next((c for cls, c in _DRF_CODES.items() if isinstance(exc, cls)), None)
        if code is None:
            codes = exc.get_codes()
            code = codes if isinstance(codes, str) else "error"
        detail_code = exc.get_codes()
        if isinstance(exc, exceptions.AuthenticationFailed) and isinstance(detail_code, str):
            code = detail_code if detail_code != "authentication_failed" else code
        details: dict[str, Any] = {}
        wait = getattr(exc, "wait", None)
        if wait is not None:
            details["retry_after"] = int(wait)
        response = error_response(
            code, exc.detail if isinstance(exc.detail, str) else _flatten(exc.detail), exc.status_code, details
        )
        if getattr(exc, "auth_header", None):
            response["WWW-Authenticate"] = exc.auth_header  # type: ignore[attr-defined]
        if wait is not None:
            response["Retry-After"] = str(int(wait))
        return response
    logger.exception("Unhandled API error", exc_info=exc)
    return domain_error_response(ServerError())


def json_error_view(code: str, message: Any, status_code: int) -> Callable[..., JsonResponse]:
    # csrf_exempt: this view changes nothing, and without it an unknown /api/ URL hit with POST/PATCH/DELETE
    # would answer with Django's HTML "CSRF cookie not set" 403 instead of a JSON error.
    @csrf_exempt
    def view(request: HttpRequest, exception: Exception | None = None) -> JsonResponse:
        return JsonResponse(error_body(code, message), status=status_code)

    return view


# --- Idempotency-Key ---------------------------------------------------------------------------------


class IdempotencyOutcome(StrEnum):
    CLAIMED = "claimed"  # first request with this key: run it and store its response, in the same transaction
    REPLAY = "replay"  # the same request already ran: answer its stored status and body again
    REUSED = "reused"  # the key was used for a different request
    IN_FLIGHT = "in_flight"  # a claim left by an older release is still within its stale time


@dataclass(frozen=True)
class IdempotencyClaim:
    """What the store says about a request's Idempotency-Key."""

    outcome: IdempotencyOutcome
    record_id: int | None = None
    status: int | None = None
    body: Any = None


class IdempotencyStore(Protocol):
    """Where Idempotency-Key records live (the module named by settings.IDEMPOTENCY_STORE). Both calls run inside
    the request's business transaction."""

    def idempotency_claim(
        self,
        *,
        user_id: int,
        key: str,
        method: str,
        path: str,
        digest: str,
        now: datetime,
        stale_after: timedelta,
    ) -> IdempotencyClaim: ...

    def idempotency_finish(self, *, record_id: int, status: int, body: Any) -> None: ...


@functools.cache
def idempotency_store() -> IdempotencyStore:
    """The configured store (default `accounts.idempotency`), imported on first use so that `config`, the
    bottom layer, imports no app at module level."""
    return cast(IdempotencyStore, import_module(settings.IDEMPOTENCY_STORE))


def _request_digest(request: Request) -> str:
    try:
        body = json.dumps(request.data, sort_keys=True, separators=(",", ":"), default=str)
    except (TypeError, ValueError):
        body = repr(request.data)
    raw = f"{request.method}\n{request.path}\n{body}"
    return hashlib.sha256(raw.encode()).hexdigest()


def _idempotency_key(request: Request) -> str | None:
    """The request's Idempotency-Key, or None without one; IdempotencyKeyInvalid for a malformed key."""
    key = request.headers.get(IDEMPOTENCY_HEADER)
    if key is not None and not (0 < len(key) <= IDEMPOTENCY_MAX_KEY and key.isprintable()):
        raise IdempotencyKeyInvalid()
    return key


class _Refused(Exception):
    """Control flow: an answer (4xx, or 5xx) whose effects must be rolled back."""

    def __init__(self, response: Response) -> None:
        self.response = response


def service_unavailable_response() -> Response:
    """503 `service_unavailable` with Retry-After: the request lost its database connection; nothing was kept."""
    error = ServiceUnavailable()
    response = domain_error_response(error)
    response["Retry-After"] = str(error.retry_after)
    return response


def idempotent(view_method: Callable[..., Response]) -> Callable[..., Response]:
    """Make a DRF view method retry-safe with the `Idempotency-Key` header.

    One business transaction holds the key and the effect: the request claims the key (a row with a UNIQUE
    (user, key) constraint), runs, and stores its response, and all of it commits once or not at all. A retry
    with the same body gets the stored response back (header `Idempotent-Replayed`); a retry that arrives while
    the first request is still running waits on the key's row and then gets the first one's answer; the same key
    with a different body gets 422 `idempotency_key_reused`. A refused request (4xx) rolls its effects back to a
    savepoint and keeps its answer; a server error or a lost database connection rolls everything back, the key
    included, so nothing is left in flight and a retry runs again (docs/architecture.md, "Retries and
    idempotency"). Services that move value also carry their own idempotency key (see the ledger).
    """

    @functools.wraps(view_method)
    def wrapper(self: Any, request: Request, *args: Any, **kwargs: Any) -> Response:
        try:
            key = _idempotency_key(request)
        except IdempotencyKeyInvalid as exc:
            return domain_error_response(exc)
        if key is None or not request.user.is_authenticated:
            return view_method(self, request, *args, **kwargs)
        store = idempotency_store()
        digest = _request_digest(request)
        try:
            with transaction.atomic():
                claim = store.idempotency_claim(
                    user_id=request.user.pk,
                    key=key,
                    method=request.method or "",
                    path=request.path,
                    digest=digest,
                    now=timezone.now(),
                    stale_after=IDEMPOTENCY_STALE_AFTER,
                )
                if claim.outcome != IdempotencyOutcome.CLAIMED:
                    return _answer_for(claim)
                assert claim.record_id is not None
                try:
                    with transaction.atomic():  # a savepoint: a refusal (4xx) keeps its answer, not its effects
                        response = view_method(self, request, *args, **kwargs)
                        if response.status_code >= 400:
                            raise _Refused(response)
                except _Refused as refused:
                    response = refused.response
                except (OperationalError, InterfaceError):
                    raise  # the connection is gone: answered 503 below
                except Exception as exc:  # DRF renders it; a 5xx rolls the key back below
                    response = self.handle_exception(exc)
                if response.status_code >= 500:
                    raise _Refused(response)
                body = json.loads(json.dumps(response.data, cls=JSONEncoder))
                store.idempotency_finish(record_id=claim.record_id, status=response.status_code, body=body)
            return response
        except _Refused as failed:
            return failed.response
        except (OperationalError, InterfaceError):
            logger.warning("Idempotent request lost its database connection; nothing kept", exc_info=True)
            return service_unavailable_response()

    return wrapper


def _answer_for(claim: IdempotencyClaim) -> Response:
    if claim.outcome == IdempotencyOutcome.REUSED:
        return domain_error_response(IdempotencyKeyReused())
    if claim.outcome == IdempotencyOutcome.IN_FLIGHT:
        return domain_error_response(IdempotencyInFlight())
    response = Response(claim.body, status=claim.status)
    response["Idempotent-Replayed"] = "true"
    return response


def idempotent_by_effect(view_method: Callable[..., Response]) -> Callable[..., Response]:
    """For a write whose effect carries the request's key itself (a spin's draw is UNIQUE per wheel, member and
    Idempotency-Key; the ledger's postings per key): the header is checked (400 `invalid_idempotency_key`) and
    the view passes it to its service, which answers a retry with the first outcome. No HTTP record is written:
    the effect's own row is the record, in the effect's own transaction — one round trip fewer per request."""

    @functools.wraps(view_method)
    def wrapper(self: Any, request: Request, *args: Any, **kwargs: Any) -> Response:
        try:
            _idempotency_key(request)
        except IdempotencyKeyInvalid as exc:
            return domain_error_response(exc)
        return view_method(self, request, *args, **kwargs)

    return wrapper


__all__ = [
    "IdempotencyKeyParameter",
    "api_datetime",
    "domain_error_response",
    "error_response",
    "exception_handler",
    "idempotent",
    "idempotent_by_effect",
    "service_unavailable_response",
    "status",
]
