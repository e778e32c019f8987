"""Fixtures for the outbox: the broker replaced by a recorder (or by one that is down), the breaker closed, a fixed
clock passed as `now=`, and a campaign with a streak bonus (the job wired through the outbox today)."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from kombu.exceptions import OperationalError

from campaigns.builders import campaign_live
from campaigns.models import Campaign
from config.celery import app as celery_app
from outbox import services
from tasks.checkins import checkin_rule_save
from tasks.models import CheckInRule
from tests.tasks.conftest import OFFICIAL

T0 = datetime(2026, 3, 1, 4, 0, tzinfo=UTC)


@dataclass
class Broker:
    """What reached the broker: (task name, args, kwargs) per publication; `down` makes every publication fail as
    kombu does when Redis refuses the connection."""

    sent: list[tuple[str, list[Any], dict[str, Any]]] = field(default_factory=list)
    down: bool = False
    tries: int = 0

    def send_task(self, name: str, args: list[Any] | None = None, kwargs: dict[str, Any] | None = None, **options: Any):
        self.tries += 1
        assert options.get("ignore_result") is True  # nothing reads results; no result subscription per publish
        assert options.get("retry") is False  # a dead broker must not hold the member's request
        if self.down:
            raise OperationalError("Error 111 connecting to 127.0.0.1:6379. Connection refused.")
        self.sent.append((name, list(args or []), dict(kwargs or {})))

    def keys(self) -> list[str]:
        return [kwargs["outbox_key"] for _name, _args, kwargs in self.sent]


@pytest.fixture(autouse=True)
def broker(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> Iterator[Broker]:
    """The broker replaced by a recorder; tests marked `celery` keep the real one (and a real worker)."""
    fake = Broker()
    if request.node.get_closest_marker("celery") is None:
        monkeypatch.setattr(celery_app, "send_task", fake.send_task)
    services.breaker.reset()
    yield fake
    services.breaker.reset()


@pytest.fixture
def campaign(db) -> Campaign:
    """Official from 1 March 2026; 5 points a check-in, 10 more on the third day of a streak."""
    campaign = campaign_live(
        now=OFFICIAL,
        official_starts_at=OFFICIAL,
        followup_starts_at=OFFICIAL + timedelta(days=60),
        ends_at=OFFICIAL + timedelta(days=70),
    )
    checkin_rule_save(
        rule=CheckInRule(
            campaign=campaign,
            base_points=5,
            milestones=[{"day": 3, "points": 10}],
            makeup_enabled=True,
            makeup_cost=0,
            makeup_monthly_cap=2,
        )
    )
    return campaign
