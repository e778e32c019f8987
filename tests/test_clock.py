"""The PM_TEST_CLOCK switch (tests/clock.py) moves every reader of django.utils.timezone.now."""

from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from django.utils import timezone
from django.utils.timezone import now as imported_now

from accounts.models import User
from tests import clock

SHANGHAI = ZoneInfo("Asia/Shanghai")


def test_the_switch_moves_timezone_now_local_dates_and_bound_references_and_time_runs_on():
    target = datetime(2028, 2, 29, 12, 0, tzinfo=SHANGHAI)
    before = timezone.now()
    with clock.shifted(target):
        first = timezone.now()
        assert timedelta(0) <= first - target < timedelta(seconds=5)
        assert timedelta(0) <= imported_now() - target < timedelta(seconds=5)  # bound before the switch
        date_joined_default = User._meta.get_field("date_joined").get_default()  # default=timezone.now
        assert date_joined_default.date() == date(2028, 2, 29)
        assert timezone.localdate() == date(2028, 2, 29)
        assert timezone.now() >= first  # time moves on from the target
    assert abs(timezone.now() - before) < timedelta(minutes=1)  # back to what it was (shifted or not)


def test_the_switch_reads_an_iso_instant_with_its_offset(monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setenv(clock.ENV, "2026-12-31T23:30:00+08:00")
    assert clock.target_from_env() == datetime(2026, 12, 31, 23, 30, tzinfo=SHANGHAI)
    monkeypatch.setenv(clock.ENV, "2026-12-31T23:30:00")
    with pytest.raises(ValueError, match="offset"):
        clock.target_from_env()
    monkeypatch.delenv(clock.ENV)
    assert clock.target_from_env() is None
