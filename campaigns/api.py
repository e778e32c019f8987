"""Public campaign API: the visible campaigns and one campaign with its rules."""

from __future__ import annotations

from datetime import datetime

from django.utils import timezone
from drf_spectacular.utils import extend_schema, extend_schema_field
from rest_framework import serializers
from rest_framework.permissions import AllowAny
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from campaigns import selectors
from campaigns.models import Campaign, Phase
from config.api import ErrorSerializer


class CampaignSerializer(serializers.ModelSerializer):
    name = serializers.CharField(source="display_name", help_text="In the request's language (English fallback).")
    theme = serializers.CharField(source="display_theme")
    phase = serializers.SerializerMethodField()
    phase_label = serializers.SerializerMethodField()
    next_phase_at = serializers.SerializerMethodField(help_text="The next phase boundary (null once ended).")
    banner = serializers.ImageField(read_only=True, allow_null=True, use_url=True)

    class Meta:
        model = Campaign
        fields: tuple[str, ...] = (
            "slug",
            "name",
            "theme",
            "phase",
            "phase_label",
            "next_phase_at",
            "warmup_starts_at",
            "official_starts_at",
            "followup_starts_at",
            "ends_at",
            "timezone",
            "banner",
            "is_featured",
        )

    def _now(self) -> datetime:
        return self.context.get("now") or timezone.now()

    @extend_schema_field(serializers.ChoiceField(choices=Phase.values))
    def get_phase(self, obj: Campaign) -> str:
        return str(obj.phase_at(self._now()).value)

    def get_phase_label(self, obj: Campaign) -> str:
        return str(obj.phase_at(self._now()).label)

    @extend_schema_field(serializers.DateTimeField(allow_null=True))
    def get_next_phase_at(self, obj: Campaign) -> str | None:
        boundary = selectors.campaign_next_boundary(campaign=obj, now=self._now())
        # Rendered like the model's instants (same field class), so clients can compare the strings.
        return serializers.DateTimeField().to_representation(boundary) if boundary else None


class CampaignDetailSerializer(CampaignSerializer):
    rules = serializers.CharField(source="display_rules", help_text="Plain text; blank lines separate paragraphs.")

    class Meta(CampaignSerializer.Meta):
        fields = (*CampaignSerializer.Meta.fields, "rules")


class CampaignListApi(APIView):
    permission_classes = (AllowAny,)

    @extend_schema(responses={200: CampaignSerializer(many=True), 401: ErrorSerializer}, tags=["campaigns"])
    def get(self, request: Request) -> Response:
        now = timezone.now()
        campaigns = selectors.campaigns_visible(now=now)
        return Response(CampaignSerializer(campaigns, many=True, context={"request": request, "now": now}).data)


class CampaignDetailApi(APIView):
    permission_classes = (AllowAny,)

    @extend_schema(
        responses={200: CampaignDetailSerializer, 401: ErrorSerializer, 404: ErrorSerializer}, tags=["campaigns"]
    )
    def get(self, request: Request, slug: str) -> Response:
        now = timezone.now()
        campaign = selectors.campaign_by_slug(slug=slug, now=now)
        return Response(CampaignDetailSerializer(campaign, context={"request": request, "now": now}).data)
