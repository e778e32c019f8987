"""Check-in API for the mobile app."""

from __future__ import annotations

from typing import Any

from django.utils import timezone
from drf_spectacular.utils import extend_schema
from rest_framework import serializers, status
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts.selectors import request_user_id
from campaigns.selectors import campaign_by_slug, campaign_by_slug_cached
from config.api import ErrorSerializer, IdempotencyKeyParameter, idempotent, idempotent_by_effect
from config.parsers import ItemValidatedJSONParser
from config.ratelimit import throttle
from partners.authentication import (
    SIGNATURE_HEADERS,
    IsPartnerSystem,
    PartnerSignatureAuthentication,
    request_api_key,
)
from tasks import checkins, engine, events, selectors
from tasks.errors import CheckInNotConfigured, EventRejection, EventStatus


class CheckInSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    date = serializers.DateField()
    streak = serializers.IntegerField()
    points = serializers.IntegerField()
    is_makeup = serializers.BooleanField()


class NextMilestoneSerializer(serializers.Serializer):
    day = serializers.IntegerField()
    points = serializers.IntegerField()
    checkins_to_go = serializers.IntegerField()


class CheckInStatusSerializer(serializers.Serializer):
    today = serializers.DateField()
    checked_in_today = serializers.BooleanField()
    streak = serializers.IntegerField()
    base_points = serializers.IntegerField()
    next_milestone = NextMilestoneSerializer(allow_null=True)
    checked_days = serializers.ListField(child=serializers.DateField())
    makeup_enabled = serializers.BooleanField()
    makeup_cost = serializers.IntegerField()
    makeups_left = serializers.IntegerField()


CHECKIN_WRITE_RESPONSES = {
    201: CheckInSerializer,
    **dict.fromkeys((400, 401, 404, 409, 422, 429), ErrorSerializer),
}


class MakeupSerializer(serializers.Serializer):
    date = serializers.DateField()


def _status_body(state: selectors.CheckInStatus) -> dict[str, Any]:
    """CheckInStatusSerializer's shape, built directly (a hot read: no serializer on the way)."""
    upcoming = state.next_milestone
    return {
        "today": state.today.isoformat(),
        "checked_in_today": state.checked_in_today,
        "streak": state.streak,
        "base_points": state.base_points,
        "next_milestone": None
        if upcoming is None
        else {"day": upcoming.day, "points": upcoming.points, "checkins_to_go": upcoming.checkins_to_go},
        "checked_days": [day.isoformat() for day in sorted(state.checked_days)],
        "makeup_enabled": state.makeup_enabled,
        "makeup_cost": state.makeup_cost,
        "makeups_left": state.makeups_left,
    }


class CheckInsApi(APIView):
    throttle_classes = (throttle("checkin"),)  # POST only: reading the status is not limited

    @extend_schema(
        responses={200: CheckInStatusSerializer, 401: ErrorSerializer, 404: ErrorSerializer, 422: ErrorSerializer},
        tags=["check-in"],
    )
    def get(self, request: Request, slug: str) -> Response:
        now = timezone.now()
        campaign = campaign_by_slug_cached(slug=slug, now=now)
        state = selectors.checkin_status(campaign=campaign, user_id=request_user_id(request), now=now)
        if state is None:
            raise CheckInNotConfigured()
        return Response(_status_body(state))

    @extend_schema(
        request=None,
        parameters=[IdempotencyKeyParameter],
        responses=CHECKIN_WRITE_RESPONSES,
        tags=["check-in"],
    )
    @idempotent_by_effect
    def post(self, request: Request, slug: str) -> Response:
        """Check in for today. A second check-in the same (campaign-local) day is 409 `already_checked_in`
        with the existing check-in in `details`: the day is the check-in's own key, so a retry (with or without
        the same `Idempotency-Key`) gets that answer and changes nothing."""
        now = timezone.now()
        campaign = campaign_by_slug_cached(slug=slug, now=now)
        checkin = checkins.checkin_create(campaign=campaign, user_id=request_user_id(request), now=now)
        return Response(checkins.checkin_as_dict(checkin), status=status.HTTP_201_CREATED)


class MakeupApi(APIView):
    throttle_classes = (throttle("checkin"),)

    @extend_schema(
        request=MakeupSerializer,
        parameters=[IdempotencyKeyParameter],
        responses=CHECKIN_WRITE_RESPONSES,
        tags=["check-in"],
    )
    @idempotent
    def post(self, request: Request, slug: str) -> Response:
        """补签: check in for a missed day of the official phase, paying the campaign's make-up cost."""
        data = MakeupSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        checkin = checkins.checkin_makeup(
            campaign=campaign_by_slug(slug=slug), user_id=request_user_id(request), day=data.validated_data["date"]
        )
        return Response(checkins.checkin_as_dict(checkin), status=status.HTTP_201_CREATED)


# --- Tiered tasks ----------------------------------------------------------------------------------------


class TaskCardSerializer(serializers.Serializer):
    id = serializers.IntegerField(source="task.pk")
    title = serializers.CharField(source="task.display_title")
    description = serializers.CharField(source="task.display_description")
    event_type = serializers.CharField(source="task.event_type")
    window = serializers.CharField(source="task.window")
    repeatable = serializers.BooleanField(source="task.repeatable")
    auto_reward = serializers.BooleanField(source="task.auto_reward")
    reward_points = serializers.IntegerField(source="task.reward_points")
    min_amount = serializers.DecimalField(source="task.min_amount", max_digits=12, decimal_places=2, allow_null=True)
    count = serializers.IntegerField()
    target = serializers.IntegerField()
    status = serializers.ChoiceField(choices=["locked", "in_progress", "claimable", "done"])
    completed = serializers.BooleanField()
    claimable = serializers.BooleanField()
    times_completed = serializers.IntegerField()
    locked = serializers.BooleanField()
    locked_reason = serializers.CharField()
    prerequisite_id = serializers.IntegerField(source="task.prerequisite_id", allow_null=True)


class TierGroupSerializer(serializers.Serializer):
    tier = serializers.CharField()
    name = serializers.CharField(source="label")
    tasks = TaskCardSerializer(many=True)


class TaskListSerializer(serializers.Serializer):
    tiers = TierGroupSerializer(many=True)


def _task_body(card: selectors.TaskCard) -> dict[str, Any]:
    """TaskCardSerializer's shape, built directly (a hot read: no serializer on the way)."""
    task = card.task
    return {
        "id": task.pk,
        "title": task.display_title,
        "description": task.display_description,
        "event_type": task.event_type,
        "window": str(task.window),
        "repeatable": task.repeatable,
        "auto_reward": task.auto_reward,
        "reward_points": task.reward_points,
        "min_amount": None if task.min_amount is None else f"{task.min_amount:.2f}",
        "count": card.count,
        "target": card.target,
        "status": card.status,
        "completed": card.completed,
        "claimable": card.claimable,
        "times_completed": card.times_completed,
        "locked": card.locked,
        "locked_reason": card.locked_reason,
        "prerequisite_id": task.prerequisite_id,
    }


def _tier_body(group: selectors.TierGroup) -> dict[str, Any]:
    return {"tier": group.tier, "name": group.label, "tasks": [_task_body(card) for card in group.tasks]}


class TaskClaimSerializer(serializers.Serializer):
    task_id = serializers.IntegerField()
    window = serializers.CharField()
    points = serializers.IntegerField()
    transfer_id = serializers.IntegerField()
    claimed_at = serializers.DateTimeField()


class TasksApi(APIView):
    @extend_schema(
        responses={200: TaskListSerializer, 401: ErrorSerializer, 404: ErrorSerializer},
        tags=["tasks"],
    )
    def get(self, request: Request, slug: str) -> Response:
        """The campaign's active tasks grouped by tier, with the member's progress, lock reason and claim state."""
        now = timezone.now()
        campaign = campaign_by_slug_cached(slug=slug, now=now)
        groups = selectors.tasks_for_member(campaign=campaign, user_id=request_user_id(request), now=now)
        return Response({"tiers": [_tier_body(group) for group in groups]})


class TaskClaimApi(APIView):
    @extend_schema(
        request=None,
        parameters=[IdempotencyKeyParameter],
        responses={
            200: TaskClaimSerializer,
            400: ErrorSerializer,
            401: ErrorSerializer,
            404: ErrorSerializer,
            409: ErrorSerializer,
            422: ErrorSerializer,
        },
        tags=["tasks"],
    )
    @idempotent
    def post(self, request: Request, slug: str, task_id: int) -> Response:
        """Claim a completed task's reward. Not completed: 422 `task_not_completed`; locked: 422 `task_locked`;
        already paid: 409 `task_already_claimed`."""
        row = engine.task_claim(campaign=campaign_by_slug(slug=slug), user_id=request_user_id(request), task_id=task_id)
        return Response(
            TaskClaimSerializer(
                {
                    "task_id": row.task_id,
                    "window": row.window_key,
                    "points": row.task.reward_points,
                    "transfer_id": row.reward_transfer_id,
                    "claimed_at": row.claimed_at,
                }
            ).data
        )


# --- Partner events ----------------------------------------------------------------------------------------


class EventInSerializer(serializers.Serializer):
    event_id = serializers.CharField(max_length=100)
    campaign = serializers.SlugField(
        required=False,
        help_text="The campaign's slug; leave out to use the key's default campaign. The key must be allowed it.",
    )
    member = serializers.CharField(help_text="The member's phone, email or external id.")
    type = serializers.CharField(help_text="purchase, invite_qualified, checkin, spin, redeem or feature_used:<name>")
    amount = serializers.DecimalField(max_digits=12, decimal_places=2, required=False, allow_null=True, min_value=0)
    occurred_at = serializers.DateTimeField(help_text="ISO 8601 with offset; must fall in the official phase.")


class EventBatchSerializer(serializers.Serializer):
    events = EventInSerializer(many=True, help_text="1-1,000 events. A single event object is accepted too.")


class EventResultSerializer(serializers.Serializer):
    event_id = serializers.CharField()
    status = serializers.ChoiceField(choices=[s.value for s in EventStatus])
    code = serializers.ChoiceField(choices=[c.value for c in EventRejection], allow_blank=True)
    message = serializers.CharField(allow_blank=True)


class EventBatchResultSerializer(serializers.Serializer):
    accepted = serializers.IntegerField()
    duplicates = serializers.IntegerField()
    rejected = serializers.IntegerField()
    results = EventResultSerializer(many=True)


class EventsApi(APIView):
    """Partner systems report member actions. Authenticated by API key + HMAC signature, not by a user."""

    authentication_classes = (PartnerSignatureAuthentication,)
    permission_classes = (IsPartnerSystem,)
    parser_classes = (ItemValidatedJSONParser,)  # a NUL in one event is that event's rejection, not the batch's
    throttle_classes = (throttle("events", by="api_key"),)

    @extend_schema(
        request=EventBatchSerializer,
        parameters=SIGNATURE_HEADERS,
        responses={
            200: EventBatchResultSerializer,
            400: ErrorSerializer,
            401: ErrorSerializer,
            413: ErrorSerializer,
            429: ErrorSerializer,
        },
        tags=["events"],
    )
    def post(self, request: Request) -> Response:
        """Ingest member actions (purchases, feature use, qualified invites…). Each event is answered
        `accepted`, `duplicate` (same event_id seen before for this key: counted once) or `rejected` with a
        code (`tasks.errors.EventRejection`: `unknown_member`, `unknown_campaign`, `unknown_type`,
        `invalid_amount`, `missing_field`, `outside_official_phase`, `occurred_in_future`…); rejected events
        change nothing."""
        outcome = events.event_batch_ingest(api_key=request_api_key(request), payload=request.data)
        return Response(
            EventBatchResultSerializer(
                {
                    "accepted": outcome.count(EventStatus.ACCEPTED),
                    "duplicates": outcome.count(EventStatus.DUPLICATE),
                    "rejected": outcome.count(EventStatus.REJECTED),
                    "results": [r.as_dict() for r in outcome.results],
                }
            ).data
        )
