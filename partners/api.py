"""Partner systems' API: POST /api/v1/partner/sales — sales and returns booked by a signed request (API key + HMAC of
the body, partners.authentication), answered line by line (partners.imports.sales_api_submit)."""

from __future__ import annotations

from drf_spectacular.utils import extend_schema
from rest_framework import serializers
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from config.api import error_responses
from config.parsers import ItemValidatedJSONParser
from config.ratelimit import throttle
from partners import imports
from partners.authentication import (
    SIGNATURE_HEADERS,
    IsPartnerSystem,
    PartnerSignatureAuthentication,
    request_api_key,
)

SALE_STATUSES = ("booked", "duplicate", "rejected")


class SaleInSerializer(serializers.Serializer):
    """One line as a partner system sends it (documentation: each line is checked by partners.sales)."""

    partner = serializers.CharField(
        required=False,
        max_length=20,
        help_text="The partner's code. Leave out when the key is bound to one partner (it may name only that one).",
    )
    external_id = serializers.CharField(max_length=64, help_text="Your order id: unique per partner, printable.")
    sold_at = serializers.CharField(
        max_length=40, help_text="ISO 8601 date or time; without an offset it is read in the programme's time zone."
    )
    quantity = serializers.IntegerField(help_text="Units; negative for a return.")
    amount = serializers.CharField(
        max_length=20, help_text='Yuan as text with at most 2 decimals, e.g. "1299.00"; negative for a return.'
    )
    currency = serializers.CharField(required=False, max_length=8, help_text="CNY (the only currency).")
    product = serializers.CharField(required=False, max_length=120)
    original_id = serializers.CharField(
        required=False, max_length=64, help_text="A return: the order id of the sale it returns (same partner)."
    )


class SaleBatchSerializer(serializers.Serializer):
    sales = SaleInSerializer(many=True, help_text="1-500 lines. A single line object is accepted too.")


class SaleResultSerializer(serializers.Serializer):
    external_id = serializers.CharField(allow_blank=True)
    status = serializers.ChoiceField(choices=SALE_STATUSES)
    code = serializers.CharField(
        allow_blank=True,
        help_text="Why a line was rejected: sale_invalid, currency_mismatch, sale_conflict, partner_not_found, "
        "original_sale_not_found, return_exceeds_sale, sales_not_allowed.",
    )
    message = serializers.CharField(allow_blank=True)
    details = serializers.DictField()


class SaleBatchResultSerializer(serializers.Serializer):
    booked = serializers.IntegerField()
    duplicates = serializers.IntegerField()
    rejected = serializers.IntegerField()
    results = SaleResultSerializer(many=True)


class PartnerSalesApi(APIView):
    """A partner system reports sales and returns. Authenticated by API key + HMAC signature, not by a user."""

    authentication_classes = (PartnerSignatureAuthentication,)
    permission_classes = (IsPartnerSystem,)
    parser_classes = (ItemValidatedJSONParser,)  # a control character in one line is that line's rejection
    throttle_classes = (throttle("partner_sales", by="api_key"),)

    @extend_schema(
        request=SaleBatchSerializer,
        parameters=SIGNATURE_HEADERS,
        responses={200: SaleBatchResultSerializer, **error_responses(400, 401, 403, 413, 429)},
        tags=["partners"],
    )
    def post(self, request: Request) -> Response:
        """Book sales and returns. The key must be allowed to report sales (else 403 `sales_not_allowed`); a key
        bound to a partner books only that partner's sales. Each line is answered `booked`, `duplicate` (the same
        order id with the same content again: booked once) or `rejected` with a code; a rejected line books
        nothing, the others are booked. Resend a whole batch after a timeout: it is idempotent per order id."""
        results = imports.sales_api_submit(api_key=request_api_key(request), payload=request.data)
        body = {
            "booked": sum(r.status == "booked" for r in results),
            "duplicates": sum(r.status == "duplicate" for r in results),
            "rejected": sum(r.status == "rejected" for r in results),
            "results": [
                {
                    "external_id": r.external_id,
                    "status": r.status,
                    "code": r.code,
                    "message": r.message,
                    "details": r.details,
                }
                for r in results
            ],
        }
        return Response(body)
