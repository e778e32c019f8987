"""Builders for "a campaign that is live at `now`": the one setup shared by tests, bench/ and `seed_demo`.

Plain functions over the real services, not factory_boy: seed_demo and bench/ run where dev dependencies are not
installed, and going through campaign_save / campaign_points_grant means a fixture can only build a state the
product itself accepts (its validation, expiry policy and the value gate run). The wheel's half is
lottery/builders.py; a check-in rule is one `checkin_rule_save(rule=CheckInRule(...))`.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from campaigns.models import Campaign
from campaigns.services import campaign_points_grant, campaign_save
from points.kinds import AWARD
from points.services import Posted

# Where a live campaign's phases start, relative to `now`: in its official phase for three days already, for
# another 25 days (then a ten-day follow-up). Tests that need other windows override the fields.
WARMUP_BEFORE = timedelta(days=7)
OFFICIAL_BEFORE = timedelta(days=3)
FOLLOWUP_AFTER = timedelta(days=25)
ENDS_AFTER = timedelta(days=35)


def campaign_live_data(*, now: datetime, **overrides: Any) -> dict[str, Any]:
    """The `campaign_save` data of a published campaign in its official phase at `now` (slug "carnival",
    points never expire); `overrides` replace or add any campaign field."""
    data: dict[str, Any] = {
        "name": "积分狂欢",
        "name_en": "Points Carnival",
        "slug": "carnival",
        "rules": "第一条规则。\n\n第二条规则。",
        "rules_en": "First rule.\n\nSecond rule.",
        "is_published": True,
        "warmup_starts_at": now - WARMUP_BEFORE,
        "official_starts_at": now - OFFICIAL_BEFORE,
        "followup_starts_at": now + FOLLOWUP_AFTER,
        "ends_at": now + ENDS_AFTER,
        "expiry_rule": "never",
    }
    data.update(overrides)
    return data


def campaign_live(*, now: datetime, **overrides: Any) -> Campaign:
    """A published campaign in its official phase at `now`, saved through campaign_save (see campaign_live_data)."""
    return campaign_save(data=campaign_live_data(now=now, **overrides))


def member_fund(*, campaign: Campaign, user_id: int, points: int, now: datetime, key: str) -> Posted:
    """Give a member `points` spendable in `campaign` (an award through the value gate; `key` makes it once)."""
    return campaign_points_grant(campaign=campaign, user_id=user_id, amount=points, kind=AWARD, key=key, now=now)
