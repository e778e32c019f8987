"""Member ledger API: balance and history."""

from __future__ import annotations

from typing import Any

from django.core.exceptions import ValidationError as DjangoValidationError
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import serializers
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts.selectors import request_user_id
from config.api import ErrorSerializer, api_datetime, page_schema
from config.pagination import SignedCursorPagination
from points import kinds, selectors
from points.models import Transfer


class BalanceSerializer(serializers.Serializer):
    asset = serializers.CharField()
    spendable = serializers.IntegerField()
    pending = serializers.IntegerField()
    expiring_soon = serializers.IntegerField(help_text="Spendable points that expire within 30 days.")
    next_expiry_at = serializers.DateTimeField(allow_null=True)
    next_expiry_amount = serializers.IntegerField()
    next_available_at = serializers.DateTimeField(allow_null=True)


class HistoryFilterSerializer(serializers.Serializer):
    kind = serializers.ChoiceField(choices=[], required=False, help_text="A registered transfer kind.")
    campaign = serializers.IntegerField(required=False, min_value=1, max_value=2**63 - 1)
    date_from = serializers.DateField(required=False)
    date_to = serializers.DateField(required=False)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        kind = self.fields["kind"]
        assert isinstance(kind, serializers.ChoiceField)
        kind.choices = kinds.choices()  # the apps' kinds are registered once all apps are ready

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        try:
            selectors.history_dates_validate(date_from=attrs.get("date_from"), date_to=attrs.get("date_to"))
        except DjangoValidationError as exc:
            raise serializers.ValidationError(exc.message_dict) from exc
        return attrs


class HistoryEntrySerializer(serializers.ModelSerializer):
    amount = serializers.IntegerField(source="signed_amount", help_text="Positive: earned. Negative: spent.")
    kind = serializers.CharField(help_text="The kind's slug (registered by the app that posted it).")
    kind_label = serializers.CharField(help_text="The kind in the request's language.")
    reason = serializers.CharField(source="display_reason", help_text="In the request's language.")
    reversed_transfer = serializers.IntegerField(source="reverses_id", allow_null=True)

    class Meta:
        model = Transfer
        fields = ("id", "kind", "kind_label", "amount", "reason", "campaign_id", "reversed_transfer", "created_at")


class HistoryPagination(SignedCursorPagination):
    ordering = "-id"


class BalanceApi(APIView):
    @extend_schema(responses={200: BalanceSerializer, 401: ErrorSerializer}, tags=["points"])
    def get(self, request: Request) -> Response:
        balance = selectors.balance_for(user_id=request_user_id(request))
        return Response(  # the BalanceSerializer shape, built directly (a hot path: docs/performance.md)
            {
                "asset": "PTS",
                "spendable": balance.spendable,
                "pending": balance.pending,
                "expiring_soon": balance.expiring_soon,
                "next_expiry_at": api_datetime(balance.next_expiry_at),
                "next_expiry_amount": balance.next_expiry_amount,
                "next_available_at": api_datetime(balance.next_available_at),
            }
        )


class HistoryApi(APIView):
    pagination_class = HistoryPagination

    @extend_schema(
        parameters=[HistoryFilterSerializer, OpenApiParameter("page_size", int, required=False)],
        responses={
            200: page_schema("HistoryPage", HistoryEntrySerializer(many=True)),
            400: ErrorSerializer,
            401: ErrorSerializer,
            404: ErrorSerializer,
        },
        tags=["points"],
    )
    def get(self, request: Request) -> Response:
        filters = HistoryFilterSerializer(data=request.query_params)
        filters.is_valid(raise_exception=True)
        data = filters.validated_data
        qs = selectors.history_for(
            user_id=request_user_id(request),
            kind=data.get("kind"),
            campaign_id=data.get("campaign"),
            date_from=data.get("date_from"),
            date_to=data.get("date_to"),
        )
        paginator = self.pagination_class()
        page = paginator.paginate_queryset(qs, request, view=self) or []
        return paginator.get_paginated_response(  # the HistoryEntrySerializer shape, built directly (a hot read)
            [
                {
                    "id": t.pk,
                    "kind": t.kind,
                    "kind_label": kinds.label(t.kind),
                    "amount": t.signed_amount,  # type: ignore[attr-defined]
                    "reason": t.display_reason,
                    "campaign_id": t.campaign_id,
                    "reversed_transfer": t.reverses_id,
                    "created_at": api_datetime(t.created_at),
                }
                for t in page
            ]
        )
