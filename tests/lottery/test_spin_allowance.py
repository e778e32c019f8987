"""The wheel's cap and free-spin rule has one home, lottery_spin_allowance() (lottery/sql/lottery_spin_allowance.sql):
the spin decides with it and spin_status shows it. Here the status shown before each spin is held against what
the spin then does, over days, caps and free spins."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from django.db import connection

from campaigns.services import campaign_points_grant
from lottery.errors import SpinLimitReached
from lottery.selectors import spin_status
from lottery.services import spin_perform
from points.kinds import AWARD

pytestmark = pytest.mark.django_db


def allowance(total, today_count, day, today, daily_cap, total_cap, free, cost):  # noqa: PLR0917
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT * FROM lottery_spin_allowance(%s, %s, %s, %s, %s, %s, %s, %s)",
            [total, today_count, day, today, daily_cap, total_cap, free, cost],
        )
        return cursor.fetchone()


def test_the_rule_itself():
    d1, d2 = date(2026, 2, 28), date(2026, 3, 1)
    # (spins_today, spins_total, free_left, left_today, left_total, next_cost, allowed)
    assert allowance(None, None, None, d1, 3, 5, 1, 10) == (0, 0, 1, 3, 5, 0, True)  # no counter row yet
    assert allowance(2, 1, d1, d1, 3, 5, 1, 10) == (1, 2, 0, 2, 3, 10, True)
    assert allowance(4, 3, d1, d1, 3, 5, 1, 10) == (3, 4, 0, 0, 1, 10, False)  # the daily cap
    assert allowance(4, 3, d1, d2, 3, 5, 1, 10) == (0, 4, 1, 3, 1, 0, True)  # a new day: yesterday's spins count 0
    assert allowance(5, 0, d1, d2, 3, 5, 1, 10) == (0, 5, 1, 3, 0, 0, False)  # the total cap
    assert allowance(7, 7, d1, d1, None, None, 2, 10) == (7, 7, 0, None, None, 10, True)  # no caps


@pytest.mark.parametrize("rules", [(3, 7, 1), (None, 4, 2), (2, None, 0), (None, None, 3)])
def test_what_the_page_shows_is_what_the_spin_does(campaign, wheel, member, rules):
    daily_cap, total_cap, free = rules
    wheel.daily_cap, wheel.total_cap, wheel.free_spins_per_day, wheel.cost_points = daily_cap, total_cap, free, 10
    wheel.save(update_fields=["daily_cap", "total_cap", "free_spins_per_day", "cost_points"])
    # 10:00 campaign time on the official phase's second day: five spins a minute apart never straddle midnight.
    zone = ZoneInfo(campaign.timezone)
    start = datetime.combine(campaign.official_starts_at.astimezone(zone).date() + timedelta(days=1), time(10), zone)
    campaign_points_grant(campaign=campaign, user_id=member.pk, amount=1000, kind=AWARD, key="fund", now=start)
    spins = refused = 0
    for day in range(3):
        for attempt in range(5):
            now = start + timedelta(days=day, minutes=attempt)
            shown = spin_status(wheel=wheel, user_id=member.pk, now=now)
            assert shown.spins_total == spins
            if shown.can_spin:
                draw = spin_perform(wheel=wheel, user_id=member.pk, request_key=f"{day}-{attempt}", now=now).draw
                assert draw.cost_points == shown.next_cost
                assert (shown.next_cost == 0) == (shown.free_left_today > 0)
                spins += 1
            else:
                with pytest.raises(SpinLimitReached):
                    spin_perform(wheel=wheel, user_id=member.pk, request_key=f"{day}-{attempt}", now=now)
                refused += 1
    assert spins == min(3 * (daily_cap or 5), total_cap or 99)
    assert refused == 15 - spins
