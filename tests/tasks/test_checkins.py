from datetime import date, timedelta

import pytest

from campaigns.errors import CampaignNotActive
from points import selectors as ledger
from points.models import Transfer
from tasks import checkins, rules, streaks
from tasks.errors import AlreadyCheckedIn, MakeupLimitReached, MakeupNotAllowed
from tasks.models import CheckIn, StreakReward
from tests.tasks.conftest import OFFICIAL, local

pytestmark = pytest.mark.django_db


def balance(user) -> int:
    return ledger.balance_for(user_id=user.pk, now=OFFICIAL + timedelta(days=100)).spendable


def test_checkin_posts_base_points_once(campaign, member):
    checkin = checkins.checkin_create(campaign=campaign, user_id=member.pk, now=local(2026, 3, 2))
    assert (checkin.streak, checkin.points, checkin.local_date) == (1, 5, date(2026, 3, 2))
    with pytest.raises(AlreadyCheckedIn) as exc:
        checkins.checkin_create(campaign=campaign, user_id=member.pk, now=local(2026, 3, 2, 23, 0))
    assert exc.value.status == 409
    assert exc.value.details["checkin"]["id"] == checkin.pk
    assert balance(member) == 5
    assert Transfer.objects.filter(kind="checkin").count() == 1


def test_day_boundary_is_campaign_local(campaign, member):
    # 23:59:59 and 00:00:00 Shanghai are different days even though both are 15:59/16:00 UTC of one UTC day.
    a = checkins.checkin_create(campaign=campaign, user_id=member.pk, now=local(2026, 3, 2, 23, 59, 59))
    b = checkins.checkin_create(campaign=campaign, user_id=member.pk, now=local(2026, 3, 3, 0, 0, 0))
    assert (a.local_date, b.local_date) == (date(2026, 3, 2), date(2026, 3, 3))
    assert b.streak == 2
    with pytest.raises(AlreadyCheckedIn):
        checkins.checkin_create(campaign=campaign, user_id=member.pk, now=local(2026, 3, 3, 23, 59, 59))


def test_outside_official_phase(campaign, member):
    with pytest.raises(CampaignNotActive) as exc:
        checkins.checkin_create(campaign=campaign, user_id=member.pk, now=OFFICIAL - timedelta(seconds=1))
    assert exc.value.code == "campaign_not_active"
    with pytest.raises(CampaignNotActive):
        checkins.checkin_create(campaign=campaign, user_id=member.pk, now=campaign.followup_starts_at)
    assert not CheckIn.objects.exists()


def test_streak_milestones_paid_once_and_job_is_idempotent(
    campaign, member, enqueued, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        for day in range(1, 8):
            checkins.checkin_create(campaign=campaign, user_id=member.pk, now=local(2026, 3, day))
    assert enqueued == [(campaign.pk, member.pk)] * 2  # a grant job queued after the check-ins of days 3 and 7
    assert streaks.streak_rewards_grant(campaign_id=campaign.pk, user_id=member.pk, now=local(2026, 3, 7)) == 2
    assert streaks.streak_rewards_grant(campaign_id=campaign.pk, user_id=member.pk, now=local(2026, 3, 7)) == 0
    assert sorted(StreakReward.objects.values_list("day", "points")) == [(3, 10), (7, 50)]
    assert balance(member) == 7 * 5 + 10 + 50


def test_sign_four_skip_one_pays_only_what_the_rules_say(campaign, member):
    """The exploit: 4 days on, 1 off, repeated. Each run of 4 reaches day 3 once; day 7 is never reached."""
    day = date(2026, 3, 1)
    for _run in range(6):
        for _ in range(4):
            checkins.checkin_create(campaign=campaign, user_id=member.pk, now=local(day.year, day.month, day.day))
            streaks.streak_rewards_grant(
                campaign_id=campaign.pk, user_id=member.pk, now=local(day.year, day.month, day.day)
            )
            day += timedelta(days=1)
        day += timedelta(days=1)  # skip
    assert list(StreakReward.objects.values_list("day", flat=True)) == [3] * 6
    assert balance(member) == 24 * 5 + 6 * 10
    assert max(CheckIn.objects.values_list("streak", flat=True)) == 4


def test_cycling_streak_pays_again_each_cycle(campaign, member):
    rule = campaign.checkin_rule
    rule.cycle = True
    checkins.checkin_rule_save(rule=rule)
    for day in range(1, 15):
        checkins.checkin_create(campaign=campaign, user_id=member.pk, now=local(2026, 3, day))
    streaks.streak_rewards_grant(campaign_id=campaign.pk, user_id=member.pk, now=local(2026, 3, 14))
    assert sorted(StreakReward.objects.values_list("cycle", "day")) == [(0, 3), (0, 7), (1, 3), (1, 7)]


def test_makeup_joins_streaks_without_double_paying(campaign, member):
    for day in (1, 2, 3, 4, 6, 7, 8):
        checkins.checkin_create(campaign=campaign, user_id=member.pk, now=local(2026, 3, day))
        streaks.streak_rewards_grant(campaign_id=campaign.pk, user_id=member.pk, now=local(2026, 3, day))
    paid_before = sorted(StreakReward.objects.values_list("streak_start", "day"))
    assert paid_before == [(date(2026, 3, 1), 3), (date(2026, 3, 6), 3)]
    made = checkins.checkin_makeup(campaign=campaign, user_id=member.pk, day=date(2026, 3, 5), now=local(2026, 3, 8))
    assert made.is_makeup
    assert made.streak == 5
    assert CheckIn.objects.get(local_date=date(2026, 3, 8)).streak == 8
    streaks.streak_rewards_grant(campaign_id=campaign.pk, user_id=member.pk, now=local(2026, 3, 8))
    # Day 7 of the joined run is paid once; no new day-3 bonus for the joined run.
    assert sorted(StreakReward.objects.values_list("day", flat=True)) == [3, 3, 7]
    assert balance(member) == 8 * 5 + 2 * 10 + 50 - 20


def test_makeup_rules(campaign, member):
    checkins.checkin_create(campaign=campaign, user_id=member.pk, now=local(2026, 3, 5))
    with pytest.raises(MakeupNotAllowed):  # today is not "missed"
        checkins.checkin_makeup(campaign=campaign, user_id=member.pk, day=date(2026, 3, 10), now=local(2026, 3, 10))
    with pytest.raises(MakeupNotAllowed):  # before the official phase
        checkins.checkin_makeup(campaign=campaign, user_id=member.pk, day=date(2026, 2, 27), now=local(2026, 3, 10))
    with pytest.raises(MakeupNotAllowed):  # already checked in that day
        checkins.checkin_makeup(campaign=campaign, user_id=member.pk, day=date(2026, 3, 5), now=local(2026, 3, 10))
    with pytest.raises(Exception, match=r"Not enough points|积分不足"):  # 5 points cannot pay a 20-point make-up
        checkins.checkin_makeup(campaign=campaign, user_id=member.pk, day=date(2026, 3, 4), now=local(2026, 3, 10))
    assert CheckIn.objects.count() == 1
    for day in range(6, 12):
        checkins.checkin_create(campaign=campaign, user_id=member.pk, now=local(2026, 3, day))
    checkins.checkin_makeup(campaign=campaign, user_id=member.pk, day=date(2026, 3, 1), now=local(2026, 3, 11))
    checkins.checkin_makeup(campaign=campaign, user_id=member.pk, day=date(2026, 3, 2), now=local(2026, 3, 11))
    with pytest.raises(MakeupLimitReached):
        checkins.checkin_makeup(campaign=campaign, user_id=member.pk, day=date(2026, 3, 3), now=local(2026, 3, 11))
    assert CheckIn.objects.filter(is_makeup=True).count() == 2


def test_rule_validation(campaign):
    from django.core.exceptions import ValidationError

    rule = campaign.checkin_rule
    for bad in ([{"day": 0, "points": 5}], [{"day": 3}], [{"day": 3, "points": 1}, {"day": 3, "points": 2}], "x"):
        rule.milestones = bad
        with pytest.raises(ValidationError):
            rules.checkin_rule_validate(rule)


def test_the_monthly_makeup_cap_starts_again_at_local_midnight_of_the_first(campaign, member):
    """The cap counts make-ups by the month of the service's `now` (not the wall clock when the row was
    written): two on 31 March at 23:50 use March's cap, the next at 00:10 on 1 April is April's first."""
    from campaigns.services import campaign_points_grant
    from tasks.selectors import checkin_status

    campaign_points_grant(campaign=campaign, user_id=member.pk, amount=100, kind="adjust", key="f", now=OFFICIAL)
    march_end = local(2026, 3, 31, 23, 50)
    for day in (1, 2):
        checkins.checkin_makeup(campaign=campaign, user_id=member.pk, day=date(2026, 3, day), now=march_end)
    assert checkin_status(campaign=campaign, user_id=member.pk, now=march_end).makeups_left == 0
    with pytest.raises(MakeupLimitReached):
        checkins.checkin_makeup(campaign=campaign, user_id=member.pk, day=date(2026, 3, 3), now=march_end)
    april_first = local(2026, 4, 1, 0, 10)
    assert checkin_status(campaign=campaign, user_id=member.pk, now=april_first).makeups_left == 2
    made = checkins.checkin_makeup(campaign=campaign, user_id=member.pk, day=date(2026, 3, 3), now=april_first)
    assert made.created_at == april_first
    assert checkin_status(campaign=campaign, user_id=member.pk, now=april_first).makeups_left == 1
