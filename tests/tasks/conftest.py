from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from campaigns.builders import campaign_live
from campaigns.models import Campaign
from tasks.checkins import checkin_rule_save
from tasks.models import CheckInRule

SHANGHAI = ZoneInfo("Asia/Shanghai")
OFFICIAL = datetime(2026, 3, 1, 0, 0, tzinfo=SHANGHAI)


def local(y: int, m: int, d: int, hh: int = 12, mm: int = 0, ss: int = 0) -> datetime:  # noqa: PLR0917
    return datetime(y, m, d, hh, mm, ss, tzinfo=SHANGHAI)


@pytest.fixture
def campaign(db) -> Campaign:
    campaign = campaign_live(  # official from OFFICIAL (1 March 2026) for 60 days
        now=OFFICIAL,
        rules="Be nice.",
        official_starts_at=OFFICIAL,
        followup_starts_at=OFFICIAL + timedelta(days=60),
        ends_at=OFFICIAL + timedelta(days=70),
    )
    checkin_rule_save(
        rule=CheckInRule(
            campaign=campaign,
            base_points=5,
            milestones=[{"day": 3, "points": 10}, {"day": 7, "points": 50}],
            makeup_enabled=True,
            makeup_cost=20,
            makeup_monthly_cap=2,
        )
    )
    return campaign


@pytest.fixture(autouse=True, name="enqueued")
def _no_broker(request, monkeypatch):
    """Unit tests run the streak job explicitly and record (campaign, member) of each streak job the outbox would
    publish after commit; tests marked `celery` use the real broker and a real worker."""
    sent: list[tuple[int, int]] = []

    def publish(*, job: str, args: list[int], key: str) -> None:
        assert job == "tasks.streak_rewards_grant"
        sent.append((args[0], args[1]))

    if request.node.get_closest_marker("celery") is None:
        monkeypatch.setattr("outbox.services.publish", publish)
    return sent


def utc(dt: datetime) -> datetime:
    return dt.astimezone(UTC)
