"""Reads about partner keys shared by the services that serve partner requests."""

from __future__ import annotations

from partners.models import ApiKey


def api_key_campaign_ids(*, api_key: ApiKey) -> frozenset[int]:
    """The campaigns a key may report for: its default campaign and the others it lists."""
    allowed = set(api_key.campaigns.values_list("pk", flat=True))
    if api_key.default_campaign_id is not None:
        allowed.add(api_key.default_campaign_id)
    return frozenset(allowed)
