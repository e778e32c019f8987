"""Member auth and profile API: register, bearer tokens, /me, shipping addresses."""

from __future__ import annotations

from typing import Any, cast

from axes.handlers.proxy import AxesProxyHandler
from django.contrib.auth import authenticate
from drf_spectacular.utils import extend_schema, inline_serializer
from rest_framework import serializers, status
from rest_framework.permissions import AllowAny, IsAuthenticated
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts import selectors, services
from accounts.errors import AccountLocked, InvalidCredentials
from accounts.models import ADDRESS_FIELDS, Address, ApiToken, User
from accounts.serializers import AddressFieldsSerializer
from accounts.signup import signup_hooks_run
from config.api import ErrorSerializer, IdempotencyKeyParameter, idempotent
from config.client_ip import client_ip
from config.ratelimit import throttle


class UserSerializer(serializers.ModelSerializer):
    class Meta:
        model = User
        fields = ("id", "phone", "email", "display_name", "language", "avatar", "date_joined")
        read_only_fields = ("id", "phone", "email", "avatar", "date_joined")


class MePatchSerializer(serializers.Serializer):
    """Only these fields can be changed by the member; anything else sent is ignored."""

    display_name = serializers.CharField(max_length=40, allow_blank=True, required=False)
    language = serializers.ChoiceField(choices=User._meta.get_field("language").choices, required=False)  # type: ignore[arg-type]


class RegisterSerializer(serializers.Serializer):
    phone = serializers.CharField(max_length=20, required=False, allow_blank=True)
    email = serializers.EmailField(max_length=254, required=False, allow_blank=True)
    password = serializers.CharField(max_length=128, write_only=True)
    display_name = serializers.CharField(max_length=40, required=False, allow_blank=True)
    language = serializers.ChoiceField(choices=User._meta.get_field("language").choices, required=False)  # type: ignore[arg-type]
    invite_code = serializers.CharField(
        max_length=32,
        required=False,
        allow_blank=True,
        write_only=True,
        help_text="A friend's invite code (from their link or poster). Whatever becomes of it, the account is created; "
        "the response's `invite` says whether the invite counted.",
    )


class SignupInviteSerializer(serializers.Serializer):
    attributed = serializers.BooleanField(help_text="The invite counted: the member is credited to the inviter.")
    code = serializers.CharField(
        required=False,
        help_text="Why it did not count: unknown_code, self_invite, already_invited, not_open or too_late.",
    )
    message = serializers.CharField(help_text="What to tell the member, in the request's language.")


class TokenObtainSerializer(serializers.Serializer):
    username = serializers.CharField(max_length=254, help_text="Phone number or email.")
    password = serializers.CharField(max_length=128)
    device = serializers.CharField(max_length=60, required=False, allow_blank=True)


class RefreshSerializer(serializers.Serializer):
    refresh = serializers.CharField(max_length=200)


class RevokeSerializer(serializers.Serializer):
    refresh = serializers.CharField(max_length=200, required=False)


TokenPairSerializer = inline_serializer(
    "TokenPair",
    {
        "token_type": serializers.CharField(),
        "access": serializers.CharField(),
        "refresh": serializers.CharField(),
        "access_expires_at": serializers.DateTimeField(),
        "refresh_expires_at": serializers.DateTimeField(),
    },
)


def _pair_body(pair: services.TokenPair) -> dict[str, Any]:
    return {
        "token_type": "Bearer",
        "access": pair.access,
        "refresh": pair.refresh,
        "access_expires_at": pair.access_expires_at,
        "refresh_expires_at": pair.refresh_expires_at,
    }


class AnonymousApi(APIView):
    """Called without a member's token; each view names its rate limit (per client IP, config/ratelimit.py)."""

    permission_classes = (AllowAny,)
    authentication_classes = ()


class RegisterApi(AnonymousApi):
    throttle_classes = (throttle("register", by="ip"),)

    @extend_schema(
        request=RegisterSerializer,
        responses={
            201: inline_serializer(
                "Registered",
                {
                    "user": UserSerializer(),
                    "token": TokenPairSerializer,
                    "invite": SignupInviteSerializer(
                        required=False, help_text="Only when an invite code was sent (or recorded by an invite link)."
                    ),
                },
            ),
            400: ErrorSerializer,
            429: ErrorSerializer,
        },
        tags=["auth"],
    )
    def post(self, request: Request) -> Response:
        """Create a member and sign them in (a token pair). With `invite_code` the member is credited to the friend
        who invited them when the invite counts; either way the account is created and `invite` says what became
        of the code."""
        data = RegisterSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        fields = dict(data.validated_data)
        invite_code = fields.pop("invite_code", "")
        user = services.user_create(**fields)
        pair = services.token_issue(user=user, name="register")
        body: dict[str, Any] = {"user": UserSerializer(user).data, "token": _pair_body(pair)}
        for outcome in signup_hooks_run(user=user, request=request, invite_code=invite_code):
            if outcome.topic == "invite":
                body["invite"] = {"attributed": outcome.ok, "message": outcome.message}
                if outcome.code:
                    body["invite"]["code"] = outcome.code
        return Response(body, status=status.HTTP_201_CREATED)


class TokenObtainApi(AnonymousApi):
    throttle_classes = (throttle("login", by="ip"),)

    @extend_schema(
        request=TokenObtainSerializer,
        responses={200: TokenPairSerializer, 400: ErrorSerializer, 401: ErrorSerializer, 429: ErrorSerializer},
        tags=["auth"],
    )
    def post(self, request: Request) -> Response:
        data = TokenObtainSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        credentials = {"username": data.validated_data["username"], "password": data.validated_data["password"]}
        if not AxesProxyHandler.is_allowed(request._request, credentials):
            raise AccountLocked()
        user = authenticate(request._request, **credentials)
        if getattr(request._request, "axes_locked_out", False):
            raise AccountLocked()
        if user is None:
            raise InvalidCredentials()
        pair = services.token_issue(user=user, name=data.validated_data.get("device", ""))
        return Response(_pair_body(pair))


class TokenRefreshApi(AnonymousApi):
    throttle_classes = (throttle("token_refresh", by="ip"),)

    @extend_schema(
        request=RefreshSerializer,
        responses={200: TokenPairSerializer, 400: ErrorSerializer, 401: ErrorSerializer, 429: ErrorSerializer},
        tags=["auth"],
    )
    def post(self, request: Request) -> Response:
        """Rotate a refresh token: the pair it belongs to is revoked and a new pair of the same family issued.
        A refresh token works once: presenting a rotated one again (a stolen copy, or a lost race) revokes every
        token of its family, so the member signs in again."""
        data = RefreshSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        pair = services.token_refresh(refresh=data.validated_data["refresh"], client_ip=client_ip(request))
        return Response(_pair_body(pair))


class TokenRevokeApi(APIView):
    permission_classes = (IsAuthenticated,)

    @extend_schema(
        request=RevokeSerializer, responses={204: None, 400: ErrorSerializer, 401: ErrorSerializer}, tags=["auth"]
    )
    def post(self, request: Request) -> Response:
        """Revoke the bearer token used for this call, or the pair of the `refresh` token given."""
        data = RevokeSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        refresh = data.validated_data.get("refresh")
        if refresh:
            services.token_revoke(refresh=refresh, user=request.user)  # type: ignore[arg-type]
        elif isinstance(request.auth, ApiToken):
            services.token_revoke(token=request.auth)
        return Response(status=status.HTTP_204_NO_CONTENT)


class MeApi(APIView):
    @extend_schema(responses={200: UserSerializer, 401: ErrorSerializer}, tags=["me"])
    def get(self, request: Request) -> Response:
        return Response(UserSerializer(request.user).data)

    @extend_schema(
        request=MePatchSerializer,
        responses={200: UserSerializer, 400: ErrorSerializer, 401: ErrorSerializer},
        tags=["me"],
    )
    def patch(self, request: Request) -> Response:
        data = MePatchSerializer(data=request.data, partial=True)
        data.is_valid(raise_exception=True)
        user = services.user_profile_update(user=request.user, data=data.validated_data)  # type: ignore[arg-type]
        return Response(UserSerializer(user).data)


class AddressSerializer(AddressFieldsSerializer):
    class Meta(AddressFieldsSerializer.Meta):
        fields = ("id", *ADDRESS_FIELDS, "is_default", "created_at")
        read_only_fields = ("id", "created_at")


class AddressListApi(APIView):
    @extend_schema(responses={200: AddressSerializer(many=True), 401: ErrorSerializer}, tags=["me"])
    def get(self, request: Request) -> Response:
        return Response(AddressSerializer(selectors.address_list(user=cast(User, request.user)), many=True).data)

    @extend_schema(
        request=AddressSerializer,
        parameters=[IdempotencyKeyParameter],
        responses={
            201: AddressSerializer,
            400: ErrorSerializer,
            401: ErrorSerializer,
            409: ErrorSerializer,
            422: ErrorSerializer,
        },
        tags=["me"],
    )
    @idempotent
    def post(self, request: Request) -> Response:
        data = AddressSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        address = services.address_save(user=request.user, data=data.validated_data)  # type: ignore[arg-type]
        return Response(AddressSerializer(address).data, status=status.HTTP_201_CREATED)


class AddressDetailApi(APIView):
    def _get(self, request: Request, address_id: int) -> Address:
        return selectors.address_of(user=cast(User, request.user), address_id=address_id)

    @extend_schema(responses={200: AddressSerializer, 401: ErrorSerializer, 404: ErrorSerializer}, tags=["me"])
    def get(self, request: Request, address_id: int) -> Response:
        return Response(AddressSerializer(self._get(request, address_id)).data)

    @extend_schema(
        request=AddressSerializer,
        responses={200: AddressSerializer, 400: ErrorSerializer, 401: ErrorSerializer, 404: ErrorSerializer},
        tags=["me"],
    )
    def patch(self, request: Request, address_id: int) -> Response:
        address = self._get(request, address_id)
        data = AddressSerializer(address, data=request.data, partial=True)
        data.is_valid(raise_exception=True)
        address = services.address_save(user=request.user, data=data.validated_data, address=address)  # type: ignore[arg-type]
        return Response(AddressSerializer(address).data)

    @extend_schema(responses={204: None, 401: ErrorSerializer, 404: ErrorSerializer}, tags=["me"])
    def delete(self, request: Request, address_id: int) -> Response:
        services.address_delete(user=cast(User, request.user), address_id=address_id)
        return Response(status=status.HTTP_204_NO_CONTENT)
