"""Prize wheel API for the mobile app: the wheel and its odds, spins, the member's prizes (with shipping) and the
public fairness record."""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal
from typing import Any, ClassVar, cast

from django.utils import timezone
from django.utils.translation import get_language, gettext_lazy
from django.utils.translation import gettext as _
from drf_spectacular.utils import OpenApiParameter, extend_schema, extend_schema_field, inline_serializer
from rest_framework import serializers, status
from rest_framework.permissions import AllowAny
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts.models import ADDRESS_FIELDS, User
from accounts.selectors import request_user_id
from accounts.serializers import AddressFieldsSerializer
from campaigns.selectors import campaign_by_slug, campaign_open_for_members
from config.api import (
    IDEMPOTENCY_HEADER,
    ErrorSerializer,
    IdempotencyKeyParameter,
    api_datetime,
    idempotent,
    idempotent_by_effect,
)
from config.pagination import SignedCursorPagination
from config.ratelimit import throttle
from lottery import fairness, selectors, services
from lottery.models import Draw, Prize, PrizeKind, Wheel
from shipments.models import Shipment
from shipments.rules import ShipmentStatus
from shipments.selectors import shipment_address_open

MAX_ID = 2**63 - 1

# --- Shared pieces ------------------------------------------------------------------------------------------


class PrizeBriefSerializer(serializers.Serializer):
    id = serializers.IntegerField(source="pk")
    kind = serializers.ChoiceField(choices=PrizeKind.choices)
    name = serializers.CharField(source="display_name", help_text="In the request's language.")
    image = serializers.ImageField(read_only=True, allow_null=True, use_url=True)


class MemberSpinStatusSerializer(serializers.Serializer):
    spins_today = serializers.IntegerField(help_text="Spins so far today (the campaign's local date).")
    spins_total = serializers.IntegerField()
    left_today = serializers.IntegerField(allow_null=True, help_text="null: no daily limit.")
    left_total = serializers.IntegerField(allow_null=True, help_text="null: no overall limit.")
    free_left_today = serializers.IntegerField()
    next_cost = serializers.IntegerField(help_text="Points the next spin costs (0 while free spins are left).")
    can_spin = serializers.BooleanField(help_text="Under the caps (the wheel must also be open, see spins_open).")
    spendable = serializers.IntegerField(help_text="The member's spendable points balance.")


def _wheel_of(slug: str) -> Wheel:
    return selectors.wheel_for(campaign=campaign_by_slug(slug=slug))


# The hot paths (the wheel and spins) read the configuration through the configuration cache and build their
# answers as plain dicts in the documented shapes (the serializers below document them and format nothing);
# api_datetime and this field format the values exactly as those serializers would.
_PROBABILITY = serializers.DecimalField(max_digits=9, decimal_places=8, coerce_to_string=False)


def _me(member: selectors.MemberStatus) -> dict[str, Any]:
    """MemberSpinStatusSerializer's shape."""
    spin = member.spin
    return {
        "spins_today": spin.spins_today,
        "spins_total": spin.spins_total,
        "left_today": spin.left_today,
        "left_total": spin.left_total,
        "free_left_today": spin.free_left_today,
        "next_cost": spin.next_cost,
        "can_spin": spin.can_spin,
        "spendable": member.spendable,
    }


def _image(request: Request, config: selectors.WheelConfig, prize: Prize) -> str | None:
    url = config.image_urls.get(prize.pk)
    return None if url is None else request.build_absolute_uri(url)


def _prize_brief(request: Request, config: selectors.WheelConfig, prize: Prize) -> dict[str, Any]:
    """PrizeBriefSerializer's shape."""
    return {
        "id": prize.pk,
        "kind": prize.kind,
        "name": prize.display_name,
        "image": _image(request, config, prize),
    }


def _prize_of(config: selectors.WheelConfig, prize_id: int) -> Prize:
    """A prize of the wheel from the cached configuration; a prize missing from it (a change the cache has not
    seen yet) is read from the database."""
    return config.prizes_by_id.get(prize_id) or Prize.objects.get(pk=prize_id)


# --- The wheel ----------------------------------------------------------------------------------------------


class OddsRowSerializer(serializers.Serializer):
    id = serializers.IntegerField(source="prize.pk")
    kind = serializers.ChoiceField(source="prize.kind", choices=PrizeKind.choices)
    name = serializers.CharField(source="prize.display_name")
    image = serializers.ImageField(source="prize.image", read_only=True, allow_null=True, use_url=True)
    probability = serializers.DecimalField(
        max_digits=9,
        decimal_places=8,
        coerce_to_string=False,
        min_value=Decimal(0),
        max_value=Decimal(1),
        help_text="The current chance as a fraction (0-1) among the slots still in stock.",
    )
    probability_percent = serializers.CharField(source="percent", help_text='The same chance in percent, e.g. "12.5".')
    stock_remaining = serializers.IntegerField(
        source="prize.stock_remaining", allow_null=True, help_text="null: unlimited."
    )
    in_stock = serializers.BooleanField()


class WinnerSerializer(serializers.Serializer):
    name = serializers.CharField(help_text="Masked, e.g. 张** or 138****0001.")
    prize = serializers.CharField()
    won_at = serializers.DateTimeField()


class WheelSerializer(serializers.Serializer):
    name = serializers.CharField()
    cost_points = serializers.IntegerField()
    free_spins_per_day = serializers.IntegerField()
    daily_cap = serializers.IntegerField(allow_null=True)
    total_cap = serializers.IntegerField(allow_null=True)
    spins_open = serializers.BooleanField(help_text="The campaign is in its official phase: spins are accepted.")
    odds_version = serializers.IntegerField()
    prizes = OddsRowSerializer(many=True)
    seed_commitment = serializers.CharField(help_text="SHA-256 of the secret server seed (revealed after the end).")
    recent_winners = WinnerSerializer(many=True)
    me = MemberSpinStatusSerializer()


# What a wheel read renders the same for every reader, kept per process with the configuration object it was made
# from (a saved wheel or prize is a new object: config/config_cache.py): the ticker per wheel and language, and each
# prize's brief and odds per wheel, language, origin (image URLs are absolute) and which prizes are in stock (the odds
# are renormalised over those). Rendering them on every read — names in the reader's language, image URLs, decimal
# odds, a timestamp per winner — was about a fifth of a wheel read's CPU (profiled in-process). Shared: read, never
# change.
_rendered: dict[tuple[Any, ...], tuple[object, object, list[dict[str, Any]]]] = {}


def _remember(key: tuple[Any, ...], config: object, source: object, make: Callable[[], list[dict[str, Any]]]) -> Any:
    seen = _rendered.get(key)
    if seen is not None and seen[0] is config and seen[1] is source:
        return seen[2]
    value = make()
    if len(_rendered) >= 4096:  # wheels × languages × stock patterns are few; never let the dict grow without bound
        _rendered.clear()
    _rendered[key] = (config, source, value)
    return value


def _prizes(request: Request, config: selectors.WheelConfig, rows: list[selectors.OddsRow]) -> list[dict[str, Any]]:
    """The wheel's prizes as WheelSerializer writes them: the brief and odds remembered, the stock live."""
    pattern = tuple(row.in_stock for row in rows)
    key = ("prizes", config.wheel.pk, get_language() or "", request.build_absolute_uri("/"), pattern)
    parts = _remember(
        key,
        config,
        None,
        lambda: [
            {
                **_prize_brief(request, config, row.prize),
                "probability": _PROBABILITY.to_representation(row.probability),
                "probability_percent": row.percent,
            }
            for row in rows
        ],
    )
    return [
        {**part, "stock_remaining": row.stock_remaining, "in_stock": row.in_stock}
        for part, row in zip(parts, rows, strict=True)
    ]


def _ticker(config: selectors.WheelConfig) -> list[dict[str, Any]]:
    """The latest winners as WheelSerializer writes them, re-rendered when the winners list is a new one (at most every
    selectors.WINNERS_SECONDS) or the configuration is."""
    winners = selectors.recent_winners_cached(wheel_id=config.wheel.pk)
    return _remember(
        ("ticker", config.wheel.pk, get_language() or ""),
        config,
        winners,
        lambda: [
            {"name": name, "prize": _prize_of(config, prize_id).display_name, "won_at": api_datetime(at)}
            for name, prize_id, at in winners
        ],
    )


class WheelApi(APIView):
    @extend_schema(
        responses={200: WheelSerializer, 401: ErrorSerializer, 404: ErrorSerializer},
        tags=["prize wheel"],
    )
    def get(self, request: Request, slug: str) -> Response:
        """The campaign's prize wheel: prizes with their current odds and stock, the seed commitment, the latest
        winners and the member's spins left and balance. No wheel: 404 `wheel_not_found`."""
        now = timezone.now()
        config = selectors.wheel_config_cached(slug=slug, now=now)
        wheel = config.wheel
        # One query for what changes with every spin (the member's status and balance, the prizes' stock); the
        # wheel and its prizes come from the configuration cache, the ticker from a cache a few seconds old
        # (selectors.recent_winners_cached: the same for everyone, so not worth a query on every read).
        live = selectors.wheel_live(wheel_id=wheel.pk, user_id=request_user_id(request), now=now)
        body = {
            "name": wheel.display_name,
            "cost_points": wheel.cost_points,
            "free_spins_per_day": wheel.free_spins_per_day,
            "daily_cap": wheel.daily_cap,
            "total_cap": wheel.total_cap,
            # shown only: lottery_spin() checks the phase from the campaign's row itself
            "spins_open": campaign_open_for_members(campaign=config.campaign, now=now),
            "odds_version": wheel.odds_version,
            "prizes": _prizes(request, config, selectors.odds_rows(prizes=config.prizes, stock=live.stock)),
            "seed_commitment": wheel.seed_commitment,
            "recent_winners": _ticker(config),
            "me": _me(live.member),
        }
        return Response(body)


# --- Spins --------------------------------------------------------------------------------------------------


class SpinSerializer(serializers.Serializer):
    id = serializers.IntegerField(help_text="The draw id (the member's own: /me/prizes).")
    reference = serializers.CharField(help_text="The draw's public reference: look it up on the fairness endpoint.")
    spin_number = serializers.IntegerField(help_text="The member's n-th spin on this wheel (fairness input).")
    prize = PrizeBriefSerializer()
    won = serializers.BooleanField(help_text="false for “thanks for playing”.")
    cost_points = serializers.IntegerField()
    code = serializers.CharField(allow_blank=True, help_text="Coupon or voucher code; empty for other prizes.")
    roll = serializers.IntegerField()
    odds_hash = serializers.CharField()
    odds_version = serializers.IntegerField()
    replayed = serializers.BooleanField(help_text="true: this request key had already spun; nothing new happened.")
    created_at = serializers.DateTimeField()
    me = MemberSpinStatusSerializer()


class SpinsApi(APIView):
    throttle_classes = (throttle("spin"),)

    @extend_schema(
        request=None,
        parameters=[IdempotencyKeyParameter],
        responses={
            201: SpinSerializer,
            **dict.fromkeys((400, 401, 404, 409, 422, 429), ErrorSerializer),
        },
        tags=["prize wheel"],
    )
    @idempotent_by_effect
    def post(self, request: Request, slug: str) -> Response:
        """Spin once: pays the spin's cost (unless a free spin is left) and draws a prize. Retrying with the same
        Idempotency-Key returns the same draw and charges nothing more. Errors (422): `insufficient_points`,
        `spin_limit_reached`, `campaign_not_active` (outside the official phase)."""
        now = timezone.now()
        config = selectors.wheel_config_cached(slug=slug, now=now)
        # The key is the draw's own (UNIQUE per wheel, member and key): lottery_spin answers a retry with the first
        # draw, so no HTTP idempotency record is kept (config.api.idempotent_by_effect).
        result = services.spin_perform(
            wheel=config.wheel,
            user_id=request_user_id(request),
            request_key=request.headers.get(IDEMPOTENCY_HEADER),
            now=now,
        )
        draw = result.draw
        prize = _prize_of(config, draw.prize_id)
        body = {
            "id": draw.pk,
            "reference": draw.reference,
            "spin_number": draw.spin_number,
            "prize": _prize_brief(request, config, prize),
            "won": prize.is_win,
            "cost_points": draw.cost_points,
            "code": draw.code,
            "roll": draw.roll,
            "odds_hash": draw.odds_hash,
            "odds_version": draw.odds_version,
            "replayed": result.replayed,
            "created_at": api_datetime(draw.created_at),
            "me": _me(result.member),
        }
        response = Response(body, status=status.HTTP_201_CREATED)
        if result.replayed:
            response["Idempotent-Replayed"] = "true"
        return response


# --- The member's prizes -------------------------------------------------------------------------------------


class ShippingAddressSerializer(AddressFieldsSerializer):
    """Where the prize is sent (the copy on its shipment)."""


class ShipmentSerializer(serializers.Serializer):
    status = serializers.ChoiceField(choices=ShipmentStatus.choices)
    status_label = serializers.CharField(source="get_status_display")
    claim_deadline = serializers.DateTimeField(help_text="Without an address by then, the prize expires.")
    address = serializers.SerializerMethodField()
    carrier = serializers.CharField(allow_blank=True)
    tracking_number = serializers.CharField(allow_blank=True)
    shipped_at = serializers.DateTimeField(allow_null=True)
    delivered_at = serializers.DateTimeField(allow_null=True)
    address_open = serializers.SerializerMethodField(help_text="The address can still be given or changed.")

    def get_address_open(self, obj: Shipment) -> bool:
        return shipment_address_open(shipment=obj, now=timezone.now())

    @extend_schema_field(ShippingAddressSerializer(allow_null=True))
    def get_address(self, obj: Shipment) -> dict[str, Any] | None:
        if not obj.recipient:
            return None
        return dict(ShippingAddressSerializer(obj).data)


class PrizeCampaignSerializer(serializers.Serializer):
    slug = serializers.SlugField()
    name = serializers.CharField(source="display_name")


class MyPrizeSerializer(serializers.Serializer):
    id = serializers.IntegerField(source="pk", help_text="The draw id.")
    campaign = PrizeCampaignSerializer(source="wheel.campaign")
    prize = PrizeBriefSerializer()
    won_at = serializers.DateTimeField(source="created_at")
    code = serializers.CharField(allow_blank=True)
    shipment = serializers.SerializerMethodField(help_text="Physical prizes only (null for the others).")

    @extend_schema_field(ShipmentSerializer(allow_null=True))
    def get_shipment(self, obj: Draw) -> dict[str, Any] | None:
        """From the context's {draw id: shipment} (selectors.prize_shipments, one query per page)."""
        shipment = self.context["shipments"].get(obj.pk)
        return None if shipment is None else dict(ShipmentSerializer(shipment).data)


class PrizePagination(SignedCursorPagination):
    ordering = ("-created_at", "-id")


class MyPrizesApi(APIView):
    pagination_class = PrizePagination

    @extend_schema(
        parameters=[OpenApiParameter("page_size", int, required=False)],
        responses={
            200: inline_serializer(
                "PrizePage",
                {
                    "next": serializers.URLField(allow_null=True),
                    "previous": serializers.URLField(allow_null=True),
                    "results": MyPrizeSerializer(many=True),
                },
            ),
            400: ErrorSerializer,
            401: ErrorSerializer,
            404: ErrorSerializer,
        },
        tags=["prize wheel"],
    )
    def get(self, request: Request) -> Response:
        """Everything the member has won on any wheel, newest first; physical prizes with their shipment."""
        paginator = self.pagination_class()
        page = paginator.paginate_queryset(selectors.prizes_of(user_id=request_user_id(request)), request, view=self)
        context = {"request": request, "shipments": selectors.prize_shipments(draws=page or [])}
        return paginator.get_paginated_response(MyPrizeSerializer(page, many=True, context=context).data)


class PrizeAddressSerializer(AddressFieldsSerializer):
    """`address_id`, or the address fields (each optional here: accounts.services.address_save validates them and
    answers 400 with every field's error)."""

    address_id = serializers.IntegerField(
        required=False, min_value=1, max_value=MAX_ID, help_text="One of the member's addresses…"
    )

    class Meta(AddressFieldsSerializer.Meta):
        fields = ("address_id", *ADDRESS_FIELDS)
        extra_kwargs: ClassVar = {
            field: {"required": False, "allow_blank": True, **({"help_text": "…or a new address."} if i == 0 else {})}
            for i, field in enumerate(ADDRESS_FIELDS)
        }

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        if "address_id" in attrs and len(attrs) > 1:
            raise serializers.ValidationError(gettext_lazy("Choose a saved address or enter a new one, not both."))
        return attrs


class MyPrizeAddressApi(APIView):
    @extend_schema(
        request=PrizeAddressSerializer,
        parameters=[IdempotencyKeyParameter],
        responses={200: MyPrizeSerializer, **dict.fromkeys((400, 401, 404, 409, 422), ErrorSerializer)},
        tags=["prize wheel"],
    )
    @idempotent
    def post(self, request: Request, draw_id: int) -> Response:
        """Give the shipping address of a physical prize: `address_id` of a saved address, or a new address
        (saved to the address book too). Possible until the prize ships (then 422 `prize_address_closed`); not
        for someone else's prize or a prize that is not shipped (404 `prize_not_found`)."""
        data = PrizeAddressSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        fields = dict(data.validated_data)
        address_id = fields.pop("address_id", None)
        user = cast(User, request.user)
        shipment = services.prize_address_set(
            user=user, draw_id=draw_id, address_id=address_id, data=None if address_id is not None else fields
        )
        draw = selectors.prizes_of(user_id=user.pk).get(pk=shipment.owner_id)
        context = {"request": request, "shipments": {draw.pk: shipment}}
        return Response(MyPrizeSerializer(draw, context=context).data)


# --- Fairness -----------------------------------------------------------------------------------------------


class FairnessQuerySerializer(serializers.Serializer):
    draw = serializers.CharField(
        required=False,
        max_length=64,
        help_text="A draw's reference (32 hex characters): include that draw's record. Your own draws at any time, "
        "anyone else's once the campaign has ended; otherwise 404 `draw_not_found`.",
    )


class AlgorithmSerializer(serializers.Serializer):
    summary = serializers.CharField()
    module = serializers.CharField(help_text="The module that implements (and documents) the algorithm.")


class VerificationSerializer(serializers.Serializer):
    commitment_ok = serializers.BooleanField(help_text="SHA-256(server_seed) equals the published commitment.")
    roll_ok = serializers.BooleanField(help_text="The HMAC roll recomputed from the seed equals the stored roll.")
    prize_ok = serializers.BooleanField(help_text="The roll falls on the stored prize in the stored table.")
    hash_ok = serializers.BooleanField(help_text="The stored table hashes to the stored odds_hash.")
    ok = serializers.BooleanField()


class PublicDrawSerializer(serializers.Serializer):
    reference = serializers.CharField()
    mine = serializers.BooleanField(help_text="The caller made this draw.")
    player = serializers.CharField(
        allow_null=True,
        help_text="The `player` of the HMAC message: the draw's player key (or, for draws made before player keys, "
        "the member id, shown to that member only: null for anyone else).",
    )
    spin_number = serializers.IntegerField()
    table = serializers.ListField(
        child=serializers.ListField(child=serializers.IntegerField(), min_length=2, max_length=2),
        help_text="[[prize_id, weight], ...] in wheel order: the odds the draw used.",
    )
    roll = serializers.IntegerField()
    odds_hash = serializers.CharField()
    odds_version = serializers.IntegerField()
    prize_id = serializers.IntegerField()
    created_at = serializers.DateTimeField(allow_null=True, help_text="Shown to the draw's member only (else null).")
    verification = VerificationSerializer(allow_null=True, help_text="null until the seed is revealed.")


class MyDrawSerializer(serializers.Serializer):
    id = serializers.IntegerField(source="pk")
    reference = serializers.CharField()
    player = serializers.SerializerMethodField(help_text="The `player` of the draw's HMAC message.")
    spin_number = serializers.IntegerField()
    roll = serializers.IntegerField()
    prize_id = serializers.IntegerField()
    odds_hash = serializers.CharField()
    created_at = serializers.DateTimeField()

    def get_player(self, obj: Draw) -> str:
        return selectors.draw_player(obj)


class FairnessSerializer(serializers.Serializer):
    seed_commitment = serializers.CharField()
    revealed = serializers.BooleanField()
    server_seed = serializers.CharField(allow_null=True, help_text="null until the campaign has ended.")
    reveal_at = serializers.DateTimeField()
    algorithm = AlgorithmSerializer()
    draw = PublicDrawSerializer(allow_null=True, help_text="The draw asked for with ?draw= (else null).")
    my_draws = MyDrawSerializer(
        many=True,
        allow_null=True,
        help_text=f"Signed-in members: their last {selectors.MY_DRAWS_LIMIT} draws (else null).",
    )
    my_player_key = serializers.CharField(
        allow_null=True, help_text="Signed-in members: their player key on this wheel (null before their first spin)."
    )


class FairnessApi(APIView):
    permission_classes = (AllowAny,)

    @extend_schema(
        parameters=[FairnessQuerySerializer],
        responses={200: FairnessSerializer, 400: ErrorSerializer, 401: ErrorSerializer, 404: ErrorSerializer},
        tags=["prize wheel"],
    )
    def get(self, request: Request, slug: str) -> Response:
        """Public fairness record: the seed commitment from the start, the seed itself once the campaign has
        ended, and a draw found by its reference (verified against the revealed seed) without naming its member.
        Unknown draw, or someone else's before the end: 404 `draw_not_found`."""
        query = FairnessQuerySerializer(data=request.query_params)
        query.is_valid(raise_exception=True)
        user_id = request_user_id(request) if request.user.is_authenticated else None
        report = selectors.fairness_report(
            wheel=_wheel_of(slug), reference=query.validated_data.get("draw"), user_id=user_id
        )
        proof = report.fairness
        body = {
            "seed_commitment": proof.commitment,
            "revealed": proof.revealed,
            "server_seed": proof.seed,
            "reveal_at": proof.reveal_at,
            "algorithm": {
                "summary": _(
                    "Each spin's roll is HMAC-SHA256(server seed, “player key:spin number”) mapped without bias "
                    "onto the draw's odds table; the seed's SHA-256 is published before the first spin and the "
                    "seed itself after the campaign ends."
                ),
                "module": fairness.__name__,
            },
            "draw": _public_draw(report) if report.draw is not None else None,
            "my_draws": report.my_draws,
            "my_player_key": report.my_player_key,
        }
        return Response(FairnessSerializer(body).data)


def _public_draw(report: selectors.FairnessReport) -> dict[str, Any]:
    draw, check = report.draw, report.check
    assert draw is not None
    verification = None
    if check is not None:
        verification = {
            "commitment_ok": check.commitment_ok,
            "roll_ok": check.roll_ok,
            "prize_ok": check.prize_ok,
            "hash_ok": check.hash_ok,
            "ok": check.ok,
        }
    return {
        "reference": draw.reference,
        "mine": report.mine,
        "player": report.player,
        "spin_number": draw.spin_number,
        "table": draw.table,
        "roll": draw.roll,
        "odds_hash": draw.odds_hash,
        "odds_version": draw.odds_version,
        "prize_id": draw.prize_id,
        "created_at": draw.created_at if report.mine else None,
        "verification": verification,
    }
