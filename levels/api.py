"""Member level API for the mobile app: the member's own level on the active ladder, the next level, their figures,
progress per dimension and every level's benefits. One selector call (levels.selectors.level_status: four queries);
the body is built as a dict in the shape the serializers below document. No endpoint names another member."""

from __future__ import annotations

from typing import Any, cast

from django.utils import timezone
from drf_spectacular.utils import extend_schema
from rest_framework import serializers
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts.models import User
from config.api import api_datetime, error_responses
from levels.models import Combine, Downgrade, Level, Period
from levels.rules import DIMENSIONS
from levels.selectors import LevelStatus, level_status
from levels.views import badge_url


class LevelSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    rank = serializers.IntegerField(help_text="0 is the entry level.")
    name = serializers.CharField(help_text="In the request's language.")
    badge = serializers.CharField(allow_null=True, help_text="The badge image's URL (null: none uploaded).")
    badge_alt = serializers.CharField(help_text="The badge's text alternative, in the request's language.")
    thresholds = serializers.DictField(
        child=serializers.IntegerField(allow_null=True),
        help_text="points_earned, spend, referrals, checkin_days: what the level needs (null: not required).",
    )
    reward_points = serializers.IntegerField(help_text="Paid once per level and period when the figures reach it.")
    discount_percent = serializers.DecimalField(max_digits=4, decimal_places=2, help_text="Mall discount.")
    priority_support = serializers.BooleanField()
    benefits = serializers.CharField(help_text="In the request's language.")


class LadderSerializer(serializers.Serializer):
    name = serializers.CharField(help_text="In the request's language.")
    combine = serializers.ChoiceField(
        choices=Combine.choices,
        help_text="all: every threshold a level sets; any: points earned and at least one other threshold it sets.",
    )
    period = serializers.ChoiceField(choices=Period.choices)
    downgrade = serializers.ChoiceField(choices=Downgrade.choices)
    period_key = serializers.CharField(
        help_text="The current evaluation period (2026, 2026-Q4, 2026-12; empty: lifetime)."
    )
    period_ends = serializers.DateField(allow_null=True, help_text="The local day the current period ends at (start).")


class FiguresSerializer(serializers.Serializer):
    points_earned = serializers.IntegerField(help_text="Points earned (never the balance), in the period.")
    spend = serializers.IntegerField(help_text="Points spent net of refunds.")
    referrals = serializers.IntegerField(help_text="Qualified invites.")
    checkin_days = serializers.IntegerField(help_text="Days checked in.")


class ProgressSerializer(serializers.Serializer):
    dimension = serializers.ChoiceField(choices=[(d, d) for d in DIMENSIONS])
    value = serializers.IntegerField()
    need = serializers.IntegerField(allow_null=True, help_text="The next level's threshold (null: not required).")
    percent = serializers.IntegerField(min_value=0, max_value=100)


class MyLevelSerializer(serializers.Serializer):
    ladder = LadderSerializer(allow_null=True, help_text="null: member levels are not running.")
    level = LevelSerializer(allow_null=True, help_text="The member's current level.")
    next_level = LevelSerializer(allow_null=True, help_text="null: the top level.")
    floor = LevelSerializer(allow_null=True, help_text="A minimum level an operator set for the member.")
    reached_at = serializers.DateTimeField(allow_null=True)
    figures = FiguresSerializer(allow_null=True)
    progress = ProgressSerializer(many=True, help_text="Towards the next level, per dimension.")
    levels = LevelSerializer(many=True, help_text="Every level of the ladder with its benefits, by rank.")


def level_body(level: Level | None, request: Request | None = None) -> dict[str, Any] | None:
    if level is None:
        return None
    return {
        "id": level.pk,
        "rank": level.rank,
        "name": level.display_name,
        "badge": badge_url(level, request),
        "badge_alt": level.display_badge_alt,
        "thresholds": {d: getattr(level, f"min_{d}") for d in DIMENSIONS},
        "reward_points": level.reward_points,
        "discount_percent": f"{level.discount_percent:.2f}",
        "priority_support": level.priority_support,
        "benefits": level.display_benefits,
    }


def status_body(status: LevelStatus | None, request: Request | None = None) -> dict[str, Any]:
    if status is None:
        empty: dict[str, Any] = dict.fromkeys(("ladder", "level", "next_level", "floor", "reached_at", "figures"))
        return {**empty, "progress": [], "levels": []}
    ladder = status.ladder
    return {
        "ladder": {
            "name": ladder.display_name,
            "combine": ladder.combine,
            "period": ladder.period,
            "downgrade": ladder.downgrade,
            "period_key": status.period_key,
            "period_ends": status.period_ends.isoformat() if status.period_ends else None,
        },
        "level": level_body(status.level, request),
        "next_level": level_body(status.next_level, request),
        "floor": level_body(status.floor, request),
        "reached_at": api_datetime(status.reached_at),
        "figures": {d: getattr(status.figures, d) for d in DIMENSIONS},
        "progress": [
            {"dimension": p.dimension, "value": p.value, "need": p.need, "percent": p.percent} for p in status.progress
        ],
        "levels": [level_body(level, request) for level in status.levels],
    }


class MyLevelApi(APIView):
    @extend_schema(responses={200: MyLevelSerializer, **error_responses(401)}, tags=["levels"])
    def get(self, request: Request) -> Response:
        """The member's level on the active ladder, the next level and their progress towards it per dimension
        (points earned, points spent, qualified invites, check-in days), and every level's benefits. All nulls and
        empty lists when member levels are not running."""
        user = cast(User, request.user)
        return Response(status_body(level_status(user_id=user.pk, now=timezone.now()), request))
