import pytest

from points.models import Transfer
from tasks import checkins, streaks
from tasks.errors import AlreadyCheckedIn
from tasks.models import CheckIn, StreakReward
from tests.conftest import run_concurrently
from tests.tasks.conftest import local

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.slow]


def test_hundred_parallel_checkins_make_one(campaign, member):
    def attempt(_i: int) -> str:
        try:
            checkins.checkin_create(campaign=campaign, user_id=member.pk, now=local(2026, 3, 2))
        except AlreadyCheckedIn:
            return "409"
        return "201"

    results = run_concurrently(100, attempt)
    assert results.count("201") == 1, results
    assert results.count("409") == 99
    assert CheckIn.objects.count() == 1
    assert Transfer.objects.filter(kind="checkin").count() == 1


def test_streak_job_run_concurrently_pays_each_milestone_once(campaign, member):
    for day in range(1, 8):
        checkins.checkin_create(campaign=campaign, user_id=member.pk, now=local(2026, 3, day))
    results = run_concurrently(
        12, lambda _i: streaks.streak_rewards_grant(campaign_id=campaign.pk, user_id=member.pk, now=local(2026, 3, 7))
    )
    assert all(isinstance(r, int) for r in results), results
    assert sum(results) == 2
    assert StreakReward.objects.count() == 2
    assert Transfer.objects.filter(kind="streak_bonus").count() == 2


def test_parallel_makeups_respect_the_monthly_cap(campaign, member):
    from datetime import date

    from tasks.errors import MakeupLimitReached

    checkins.checkin_create(campaign=campaign, user_id=member.pk, now=local(2026, 3, 9))
    from campaigns.services import campaign_points_grant

    campaign_points_grant(
        campaign=campaign, user_id=member.pk, amount=500, kind="adjust", key="fund", now=local(2026, 3, 9)
    )

    def makeup(i: int) -> str:
        try:
            checkins.checkin_makeup(
                campaign=campaign, user_id=member.pk, day=date(2026, 3, 1 + i), now=local(2026, 3, 10)
            )
        except MakeupLimitReached:
            return "capped"
        return "ok"

    results = run_concurrently(6, makeup)
    assert results.count("ok") == 2, results  # the campaign allows 2 make-ups a month
    assert results.count("capped") == 4
    assert CheckIn.objects.filter(is_makeup=True).count() == 2
    assert Transfer.objects.filter(kind="makeup_checkin").count() == 2
