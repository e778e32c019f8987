"""DRF authentication for partner systems: API key id + timestamp + HMAC signature of the raw body.

Views for partner systems declare `authentication_classes = (PartnerSignatureAuthentication,)` and
`permission_classes = (IsPartnerSystem,)`; the view then finds the verified `partners.ApiKey` in
`request.auth`. There is no user: `request.user` stays anonymous."""

from __future__ import annotations

from typing import Any

from django.contrib.auth.models import AnonymousUser
from drf_spectacular.extensions import OpenApiAuthenticationExtension
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter
from rest_framework import authentication, exceptions, permissions
from rest_framework.request import Request

from partners.errors import PartnerAuthError
from partners.models import ApiKey
from partners.services import api_key_verify

KEY_HEADER = "X-Api-Key"
TIMESTAMP_HEADER = "X-Timestamp"
SIGNATURE_HEADER = "X-Signature"


class PartnerSignatureAuthentication(authentication.BaseAuthentication):
    """Every request must be signed: a missing or unknown key is 401 `invalid_api_key`, a timestamp more than
    five minutes off 401 `stale_timestamp`, a wrong signature 401 `invalid_signature` (codes and details
    are those of `partners.errors`)."""

    scheme = "PartnerSignature"

    def authenticate(self, request: Request) -> tuple[Any, ApiKey]:
        # The exact bytes that were signed, read before request.data. A body over the upload limit never gets
        # here: config.middleware answers 413 request_too_large first (and config.api if Django still refuses).
        body = request.body
        try:
            key = api_key_verify(
                key_id=request.headers.get(KEY_HEADER, ""),
                timestamp=request.headers.get(TIMESTAMP_HEADER, ""),
                signature=request.headers.get(SIGNATURE_HEADER, ""),
                body=body,
            )
        except PartnerAuthError as exc:
            # config.api.exception_handler answers with the cause's code, message and details (server_time).
            raise exceptions.AuthenticationFailed(exc.message, code=exc.code) from exc
        return AnonymousUser(), key

    def authenticate_header(self, request: Request) -> str:
        return self.scheme


def request_api_key(request: Request) -> ApiKey:
    """The partner key a request was signed with (views that require `IsPartnerSystem`)."""
    if not isinstance(request.auth, ApiKey):
        raise exceptions.NotAuthenticated()
    return request.auth


class IsPartnerSystem(permissions.BasePermission):
    """The request was signed with a partner key (`request.auth` is a `partners.ApiKey`)."""

    def has_permission(self, request: Request, view: Any) -> bool:
        return isinstance(request.auth, ApiKey)


# The signed request's headers, as every partner-system operation documents them (events, sales).
SIGNATURE_HEADERS = [
    OpenApiParameter(KEY_HEADER, OpenApiTypes.STR, OpenApiParameter.HEADER, required=True, description="Key id."),
    OpenApiParameter(
        TIMESTAMP_HEADER,
        OpenApiTypes.STR,
        OpenApiParameter.HEADER,
        required=True,
        description="Unix seconds; more than 5 minutes from server time is refused (401 `stale_timestamp`).",
    ),
    OpenApiParameter(
        SIGNATURE_HEADER,
        OpenApiTypes.STR,
        OpenApiParameter.HEADER,
        required=True,
        description='hex HMAC-SHA256(key=sha256(secret) as hex, msg=f"{X-Timestamp}.{raw body}").',
    ),
]


class PartnerSignatureScheme(OpenApiAuthenticationExtension):
    target_class = "partners.authentication.PartnerSignatureAuthentication"
    name = "partnerSignature"

    def get_security_definition(self, auto_schema: Any) -> dict[str, str]:
        return {
            "type": "apiKey",
            "in": "header",
            "name": KEY_HEADER,
            "description": (
                f"Key id in {KEY_HEADER}, unix seconds in {TIMESTAMP_HEADER} (within 5 minutes), and "
                f'{SIGNATURE_HEADER} = hex HMAC-SHA256(key=sha256(secret) as hex, msg=f"{{timestamp}}.{{raw body}}").'
            ),
        }
