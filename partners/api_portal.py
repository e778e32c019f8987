"""The partner app's read API: a partner user's dashboard and statements (bearer token or session, like every member
endpoint). Partner users only: any other caller gets 404 `partner_not_found`; the partner comes from the caller, and
a statement is addressed by month within it, so another partner's month is 404 `statement_not_found`."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from django.urls import reverse
from django.utils import timezone
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import serializers
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from config.api import api_datetime, error_responses
from partners import selectors
from partners.errors import PartnerNotFound
from partners.models import Partner
from partners.rebates import yuan

TAGS = ["partner portal"]
# The rebate method is documented as text: a "method" enum would collide with the mall's delivery method's name.
METHOD_HELP = "marginal: each band's rate on the part inside it; whole: the reached band's rate on everything."


def Money(**kwargs: Any) -> serializers.DecimalField:  # noqa: N802 — reads like the serializer fields it makes
    """An amount in CNY (yuan, 2 places), written as a string."""
    return serializers.DecimalField(max_digits=16, decimal_places=2, **kwargs)


def _partner(request: Request) -> Partner:
    partner = selectors.partner_for_user(request.user)
    if partner is None:
        raise PartnerNotFound()
    return partner


def _money(value: Decimal | None) -> str | None:
    return None if value is None else f"{value:.2f}"


def _rate(value: Decimal) -> str:
    return f"{value.normalize():f}"


class BandSerializer(serializers.Serializer):
    lower = Money(help_text="Net sales from (CNY, inclusive).")
    rate = serializers.DecimalField(max_digits=5, decimal_places=2, help_text="Percent, e.g. 3.5.")


class BandLineSerializer(serializers.Serializer):
    lower = Money()
    upper = Money(allow_null=True, help_text="null: the open top band.")
    rate = serializers.DecimalField(max_digits=5, decimal_places=2)
    base = Money(help_text="Net sales counted in this band (CNY).")
    amount = Money(help_text="The band's rebate (CNY).")


class TierSerializer(serializers.Serializer):
    rank = serializers.IntegerField()
    name = serializers.CharField(help_text="In the request's language.")
    agency_discount = serializers.DecimalField(max_digits=5, decimal_places=2, help_text="Percent.")
    new_product_priority = serializers.BooleanField()
    marketing_plan = serializers.CharField(allow_blank=True, help_text="In the request's language.")


class TierChangeSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    from_tier = serializers.CharField()
    to_tier = serializers.CharField()
    upgrade = serializers.BooleanField()
    changed_at = serializers.DateTimeField()


class RecruitSerializer(serializers.Serializer):
    company = serializers.CharField()
    kind = serializers.ChoiceField(choices=Partner.Kind.choices)
    joined_at = serializers.DateField()
    rewarded = serializers.BooleanField(help_text="Their first sale paid the recruiting reward.")


class RewardSerializer(serializers.Serializer):
    recruit = serializers.CharField()
    amount = Money(help_text="One-time reward plus the share of the first order (CNY).")
    created_at = serializers.DateTimeField()


class DashboardSerializer(serializers.Serializer):
    partner = serializers.CharField(help_text="The partner's code.")
    company = serializers.CharField()
    period = serializers.CharField(help_text="This month (YYYY-MM) in the programme's time zone.")
    sales = Money()
    returns = Money(help_text="Negative or 0.")
    net_sales = Money()
    method = serializers.CharField(help_text=METHOD_HELP)
    bands = BandSerializer(many=True)
    current_band = BandSerializer()
    next_band = BandSerializer(allow_null=True, help_text="null: the top band is reached.")
    to_next_band = Money(allow_null=True, help_text="CNY more that reaches the next band.")
    progress_percent = serializers.IntegerField(help_text="From the current band's floor to the next band's (0-100).")
    estimated_rebate = Money(help_text="The rebate of the net sales so far (CNY).")
    rebate_lines = BandLineSerializer(many=True)
    tier = TierSerializer()
    payable = Money(help_text="Issued and not paid out yet (CNY; negative: carried).")
    tier_changes = TierChangeSerializer(many=True, help_text="Not yet dismissed in the portal.")
    referral_code = serializers.CharField()
    recruiting_link = serializers.URLField()
    recruits_total = serializers.IntegerField()
    recruits = RecruitSerializer(many=True, help_text="The latest 100.")
    recruiting_rewards = RewardSerializer(many=True)
    recruiting_rewards_total = Money()


def _band(band: Any) -> dict[str, Any]:
    return {"lower": _money(band.lower), "rate": _rate(band.rate)}


class DashboardApi(APIView):
    @extend_schema(
        responses={200: DashboardSerializer, **error_responses(401, 404)},
        operation_id="partner_dashboard_retrieve",
        tags=TAGS,
    )
    def get(self, request: Request) -> Response:
        """The caller's partner this month: sales, returns and net sales, the band reached and what more reaches the
        next, the estimated rebate, tier and benefits, the payable balance, tier changes not yet dismissed, the
        recruiting link, recruits and recruiting rewards. Not a partner user: 404 `partner_not_found`."""
        partner = _partner(request)
        board = selectors.dashboard(partner, timezone.now())
        body = {
            "partner": partner.code,
            "company": partner.company,
            "period": board.period,
            "sales": _money(board.sales),
            "returns": _money(board.returns),
            "net_sales": _money(board.net),
            "method": board.method,
            "bands": [_band(band) for band in board.bands],
            "current_band": _band(board.current_band),
            "next_band": _band(board.next_band) if board.next_band else None,
            "to_next_band": _money(board.to_next),
            "progress_percent": board.progress_percent,
            "estimated_rebate": _money(board.rebate),
            "rebate_lines": [_line(line) for line in board.lines],
            "tier": {
                "rank": board.tier.rank,
                "name": board.tier.name,
                "agency_discount": _rate(board.tier.agency_discount),
                "new_product_priority": board.tier.new_product_priority,
                "marketing_plan": board.tier.marketing_plan,
            },
            "payable": _money(board.payable),
            "tier_changes": [
                {
                    "id": change.id,
                    "from_tier": change.from_tier,
                    "to_tier": change.to_tier,
                    "upgrade": change.upgrade,
                    "changed_at": api_datetime(change.created_at),
                }
                for change in board.tier_changes
            ],
            "referral_code": board.referral_code,
            "recruiting_link": request.build_absolute_uri(reverse("partners:join", args=[board.referral_code])),
            "recruits_total": board.recruits_total,
            "recruits": [
                {
                    "company": recruit.company,
                    "kind": recruit.kind,
                    "joined_at": recruit.joined_at.isoformat(),
                    "rewarded": recruit.rewarded,
                }
                for recruit in board.recruits
            ],
            "recruiting_rewards": [
                {"recruit": r.recruit, "amount": _money(r.total), "created_at": api_datetime(r.created_at)}
                for r in board.rewards
            ],
            "recruiting_rewards_total": _money(board.rewards_total),
        }
        return Response(body)


def _line(line: Any) -> dict[str, Any]:
    """A band's part of a rebate (partners.rebates.BandLine or selectors.StatementLine)."""
    return {
        "lower": _money(line.lower),
        "upper": _money(line.upper),
        "rate": _rate(line.rate),
        "base": _money(line.base),
        "amount": _money(yuan(line.amount_fen)),
    }


class StatementRowSerializer(serializers.Serializer):
    period = serializers.CharField(help_text="YYYY-MM")
    net_sales = Money()
    rebate = Money()
    closing = Money(help_text="The payable at the statement's end (CNY).")
    status = serializers.ChoiceField(choices=selectors.StatementStatus.choices)
    status_label = serializers.CharField(help_text="In the request's language.")
    paid_at = serializers.DateTimeField(allow_null=True)
    url = serializers.URLField(help_text="This statement in the API.")


class StatementListSerializer(serializers.Serializer):
    results = StatementRowSerializer(many=True, help_text="Newest first.")


class StatementsApi(APIView):
    @extend_schema(
        responses={200: StatementListSerializer, **error_responses(401, 404)},
        operation_id="partner_statements_list",
        tags=TAGS,
    )
    def get(self, request: Request) -> Response:
        """The caller's partner's monthly statements, newest first (one a month: not paginated)."""
        partner = _partner(request)
        rows = selectors.statements_for(partner)
        results = [
            {
                "period": row.period,
                "net_sales": _money(row.net_sales),
                "rebate": _money(row.rebate),
                "closing": _money(row.closing),
                "status": str(row.status.value),
                "status_label": str(row.status.label),
                "paid_at": api_datetime(row.paid_at),
                "url": request.build_absolute_uri(reverse("api-partner-statement", args=[row.period])),
            }
            for row in rows
        ]
        return Response({"results": results})


class StatementSerializer(serializers.Serializer):
    period = serializers.CharField()
    tier = serializers.CharField(help_text="The tier at issue, in the request's language.")
    method = serializers.CharField(help_text=METHOD_HELP)
    sales = Money()
    returns = Money()
    net_sales = Money()
    rebate_lines = BandLineSerializer(many=True)
    opening = Money()
    rebate = Money()
    bonus = Money(help_text="Annual cash bonus (December).")
    recruiting_rewards = Money()
    clawbacks = Money(help_text="Rebates taken back for returns (subtracted).")
    paid = Money(help_text="Paid out since the previous statement (subtracted).")
    closing = Money()
    status = serializers.ChoiceField(choices=selectors.StatementStatus.choices)
    status_label = serializers.CharField()
    issued_at = serializers.DateTimeField()
    paid_at = serializers.DateTimeField(allow_null=True)
    payout = Money(help_text="The amount paid for this statement (0 until paid).")
    csv = serializers.URLField(help_text="The statement as a spreadsheet (the portal's download; session only).")


class StatementApi(APIView):
    @extend_schema(
        parameters=[OpenApiParameter("period", str, OpenApiParameter.PATH, description="YYYY-MM")],
        responses={200: StatementSerializer, **error_responses(401, 404)},
        operation_id="partner_statement_retrieve",
        tags=TAGS,
    )
    def get(self, request: Request, period: str) -> Response:
        """One month's statement of the caller's partner. A month without a statement (or not the caller's):
        404 `statement_not_found`."""
        partner = _partner(request)
        view = selectors.statement_for(partner, period)
        s = view.statement
        body = {
            "period": s.period,
            "tier": view.tier_name,
            "method": s.method,
            "sales": _money(s.sales_total),
            "returns": _money(s.returns_total),
            "net_sales": _money(s.net_sales),
            "rebate_lines": [_line(line) for line in view.lines],
            "opening": _money(view.opening),
            "rebate": _money(view.rebate),
            "bonus": _money(view.bonus),
            "recruiting_rewards": _money(view.referral),
            "clawbacks": _money(view.clawback),
            "paid": _money(view.paid),
            "closing": _money(view.closing),
            "status": str(view.status.value),
            "status_label": str(view.status.label),
            "issued_at": api_datetime(s.created_at),
            "paid_at": api_datetime(s.paid_at),
            "payout": _money(view.payout),
            "csv": request.build_absolute_uri(reverse("partners:statement_csv", args=[s.period])),
        }
        return Response(body)
