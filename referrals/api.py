"""Invite API for the mobile app: the member's invite code, link and totals, their invitees (masked), their poster
(PNG), and a campaign's invite leaderboard (top 50 and, signed in, the member's own rank).

The leaderboard is the hot read (pushed to members during a campaign): the campaign through the configuration cache,
the ranking in one Redis round trip (referrals/leaderboard.py), the body built as a dict in the shape the serializers
below document."""

from __future__ import annotations

from datetime import datetime
from typing import Any, cast

from django.http import HttpResponse
from django.urls import reverse
from django.utils import timezone
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import serializers
from rest_framework.negotiation import BaseContentNegotiation
from rest_framework.permissions import AllowAny
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts.models import User
from campaigns.models import Campaign
from campaigns.selectors import campaign_by_slug, campaign_by_slug_cached, campaign_featured
from config.api import api_datetime, error_responses, page_schema
from config.i18n import localized
from config.pagination import SignedCursorPagination
from referrals import leaderboard, selectors
from referrals.models import InviteStatus
from referrals.poster import poster_png
from referrals.services import invite_code_for

LEADERBOARD_SIZE = 50


def _link(request: Request, code: str) -> str:
    return request.build_absolute_uri(reverse("referrals:link", args=[code]))


def _movement(campaign_id: int, user_id: int, me: leaderboard.MyRank | None) -> dict[str, Any]:
    moved = leaderboard.rank_movement(campaign_id=campaign_id, user_id=user_id, current=me)
    return {"change": moved.change, "since": api_datetime(moved.since)}


# --- The member's invites ---------------------------------------------------------------------------------------


class InviteCountsSerializer(serializers.Serializer):
    registered = serializers.IntegerField(help_text="Signed up through the member's link, not qualified yet.")
    qualified = serializers.IntegerField(help_text="Did the campaign's qualifying action: rewarded.")
    review = serializers.IntegerField(help_text="Waiting for a person to check them (suspected fraud or a cap).")
    rejected = serializers.IntegerField()


class ReferralCampaignSerializer(serializers.Serializer):
    slug = serializers.SlugField()
    name = serializers.CharField(help_text="In the request's language.")
    counting = serializers.BooleanField(help_text="Invites count now (the campaign's official phase).")
    inviter_points = serializers.IntegerField(help_text="The member's reward per qualified invite.")
    invitee_points = serializers.IntegerField(help_text="The friend's newcomer gift.")
    qualifying_action = serializers.CharField(help_text="What the friend must do: checkin, task, order, later_login.")


class MyRankSerializer(serializers.Serializer):
    rank = serializers.IntegerField(help_text="1 is the top.")
    invites = serializers.IntegerField(help_text="Qualified invites in the campaign.")
    change = serializers.IntegerField(
        allow_null=True, help_text="Places moved since the last hourly snapshot: > 0 up, < 0 down; null: unknown."
    )
    since = serializers.DateTimeField(allow_null=True, help_text="The snapshot's time.")


class ReferralMeSerializer(serializers.Serializer):
    code = serializers.CharField(help_text="The member's invite code (stable).")
    link = serializers.URLField(help_text="The member's invite link: what they share.")
    poster = serializers.URLField(help_text="Their poster (PNG) for the featured campaign.")
    counts = InviteCountsSerializer()
    total = serializers.IntegerField()
    points_earned = serializers.IntegerField(help_text="Points earned from invites, pending ones included.")
    points_pending = serializers.IntegerField(help_text="Of which still on hold (spendable once the hold ends).")
    can_enter_code = serializers.BooleanField(
        help_text="The member may still enter a friend's invite code (signed up within 7 days, not invited yet)."
    )
    campaign = ReferralCampaignSerializer(allow_null=True, help_text="The featured campaign's referral program.")
    rank = MyRankSerializer(allow_null=True, help_text="The member's place on that campaign's invite leaderboard.")


class ReferralMeApi(APIView):
    @extend_schema(responses={200: ReferralMeSerializer, **error_responses(401)}, tags=["invites"])
    def get(self, request: Request) -> Response:
        """The member's invite code and link (made on first use), their invites counted by status, the points those
        earned, the featured campaign's referral program and, while it runs, the member's leaderboard rank."""
        now = timezone.now()
        user = cast(User, request.user)
        code = invite_code_for(user_id=user.pk)
        summary = selectors.invite_summary(user_id=user.pk, now=now)
        campaign = campaign_featured(now=now)
        program = selectors.program_active(campaign=campaign)
        body: dict[str, Any] = {
            "code": code,
            "link": _link(request, code),
            "poster": request.build_absolute_uri(reverse("api-referrals-poster")),
            "counts": summary.counts,
            "total": summary.total,
            "points_earned": summary.points,
            "points_pending": summary.pending,
            "can_enter_code": selectors.late_entry_open(user=user, now=now),
            "campaign": None,
            "rank": None,
        }
        if campaign is not None and program is not None:
            body["campaign"] = {
                "slug": campaign.slug,
                "name": campaign.display_name,
                "counting": campaign.official_starts_at <= now < campaign.followup_starts_at,
                "inviter_points": program.inviter_points,
                "invitee_points": program.invitee_points,
                "qualifying_action": program.qualifying_action,
            }
            me = leaderboard.leaderboard_rank(campaign_id=campaign.pk, user_id=user.pk)
            if me is not None:
                body["rank"] = {"rank": me.rank, "invites": me.invites, **_movement(campaign.pk, user.pk, me)}
        return Response(body)


class InviteeSerializer(serializers.Serializer):
    name = serializers.CharField(help_text="Masked, e.g. 张** or +86138****0001.")
    status = serializers.ChoiceField(choices=InviteStatus.choices)
    status_label = serializers.CharField(help_text="In the request's language.")
    campaign = serializers.SlugField(help_text="The campaign the invite counts for.")
    invited_at = serializers.DateTimeField()
    qualified_at = serializers.DateTimeField(allow_null=True)
    points = serializers.IntegerField(help_text="Points the invite earned the member (0 until rewarded, or rejected).")
    pending = serializers.BooleanField(help_text="Those points are still on hold.")


class InviteePagination(SignedCursorPagination):
    ordering = ("-id",)


_STATUS_LABELS = dict(InviteStatus.choices)


def _invitee_body(invite: Any, *, now: datetime) -> dict[str, Any]:
    points, pending = selectors.invite_points(invite, now=now)
    return {
        "name": invite.invitee.masked_name,
        "status": invite.status,
        "status_label": str(_STATUS_LABELS.get(invite.status, invite.status)),
        "campaign": invite.campaign.slug,
        "invited_at": api_datetime(invite.created_at),
        "qualified_at": api_datetime(invite.qualified_at),
        "points": points,
        "pending": pending,
    }


class InviteesApi(APIView):
    pagination_class = InviteePagination

    @extend_schema(
        parameters=[OpenApiParameter("page_size", int, required=False)],
        responses={
            200: page_schema("InviteePage", InviteeSerializer(many=True)),
            **error_responses(400, 401),
        },
        operation_id="referrals_invitees_list",
        tags=["invites"],
    )
    def get(self, request: Request) -> Response:
        """The friends who signed up through the member's link, newest first, names masked, each with its status and
        the points it earned the member. Cursor-paginated (a forged cursor: 400 `invalid_cursor`)."""
        now = timezone.now()
        paginator = self.pagination_class()
        page = paginator.paginate_queryset(selectors.invitees(user_id=cast(User, request.user).pk), request, view=self)
        return paginator.get_paginated_response([_invitee_body(invite, now=now) for invite in page or []])


class _ImageOrJsonErrors(BaseContentNegotiation):
    """The poster is a PNG whatever the client accepts; its errors are JSON in the error shape (not a 406)."""

    def select_parser(self, request: Any, parsers: Any) -> Any:
        return parsers[0] if parsers else None

    def select_renderer(self, request: Any, renderers: Any, format_suffix: str | None = None) -> Any:
        return renderers[0], renderers[0].media_type


class PosterQuerySerializer(serializers.Serializer):
    campaign = serializers.SlugField(
        required=False, max_length=60, help_text="A campaign's slug (default: the featured campaign)."
    )


class PosterApi(APIView):
    content_negotiation_class = _ImageOrJsonErrors

    @extend_schema(
        parameters=[PosterQuerySerializer],
        responses={(200, "image/png"): OpenApiTypes.BINARY, **error_responses(400, 401, 404)},
        operation_id="referrals_me_poster_retrieve",
        tags=["invites"],
    )
    def get(self, request: Request) -> HttpResponse:
        """The member's own invite poster (PNG, 750x1334, in the member's language): the campaign's banner and
        slogan, the member's name and the QR code of their link. There is no way to ask for another member's.
        An unknown campaign: 404 `campaign_not_found`."""
        query = PosterQuerySerializer(data=request.query_params)
        query.is_valid(raise_exception=True)
        slug = query.validated_data.get("campaign")
        campaign: Campaign | None = campaign_by_slug(slug=slug) if slug else campaign_featured()
        user = cast(User, request.user)
        code = invite_code_for(user_id=user.pk)
        data = poster_png(user=user, campaign=campaign, link=_link(request, code), code=code, language=user.language)
        response = HttpResponse(data, content_type="image/png")
        response["Content-Disposition"] = f'inline; filename="invite-{code}.png"'
        response["Cache-Control"] = "private, max-age=600"
        return response


# --- The leaderboard ------------------------------------------------------------------------------------------


class LeaderboardEntrySerializer(serializers.Serializer):
    rank = serializers.IntegerField()
    name = serializers.CharField(help_text="Masked, e.g. 张** or +86138****0001.")
    invites = serializers.IntegerField(help_text="Qualified invites.")
    title = serializers.CharField(allow_blank=True, help_text="A title badge won in an earlier campaign, or ''.")
    me = serializers.BooleanField(help_text="This row is the signed-in member's.")


class LeaderboardSerializer(serializers.Serializer):
    campaign = serializers.SlugField()
    entries = LeaderboardEntrySerializer(many=True, help_text="The top 50, best first.")
    me = MyRankSerializer(allow_null=True, help_text="Signed in and on the board: the member's own place.")


class LeaderboardApi(APIView):
    permission_classes = (AllowAny,)

    @extend_schema(
        responses={200: LeaderboardSerializer, **error_responses(401, 404)},
        operation_id="campaigns_leaderboard_retrieve",
        tags=["invites"],
    )
    def get(self, request: Request, slug: str) -> Response:
        """The campaign's invite leaderboard: the top 50 by qualified invites (ties: who got there first), names
        masked, with title badges; signed in, also the member's own rank and its movement since the last hourly
        snapshot. An unknown campaign: 404 `campaign_not_found`."""
        campaign = campaign_by_slug_cached(slug=slug)
        user_id = cast(User, request.user).pk if request.user.is_authenticated else None
        board = leaderboard.leaderboard_view(campaign_id=campaign.pk, user_id=user_id, n=LEADERBOARD_SIZE)
        me = None
        if user_id is not None and board.me is not None:
            me = {"rank": board.me.rank, "invites": board.me.invites, **_movement(campaign.pk, user_id, board.me)}
        entries = [
            {
                "rank": entry.rank,
                "name": entry.name,
                "invites": entry.invites,
                "title": localized(entry, "title"),
                "me": entry.user_id == user_id,
            }
            for entry in board.entries
        ]
        return Response({"campaign": campaign.slug, "entries": entries, "me": me})
