"""`seed_demo` seeds as of an injected instant (`--now`): nothing here reads the clock."""

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from accounts.models import User
from campaigns import selectors as campaign_selectors
from campaigns.models import Campaign, Phase
from points import selectors, services
from points.models import ExpiryPolicy, Transfer

SHANGHAI = ZoneInfo("Asia/Shanghai")
MIDYEAR = datetime(2026, 6, 15, 10, 0, tzinfo=SHANGHAI)
YEAR_END = datetime(2026, 12, 31, 23, 30, tzinfo=SHANGHAI)
LEAP_DAY = datetime(2028, 2, 29, 12, 0, tzinfo=SHANGHAI)


def seed(now: datetime) -> None:
    call_command("seed_demo", f"--now={now.isoformat()}")


@pytest.mark.django_db
def test_seed_demo_is_idempotent_and_gives_the_demo_member_a_history(capsys):
    seed(MIDYEAR)
    seed(MIDYEAR + timedelta(hours=5))  # a second run, later the same day, posts nothing new
    out = capsys.readouterr().out
    assert "member@demo.local" in out
    assert "demo-member-2026" in out
    member = User.objects.get(email="member@demo.local")
    assert member.check_password("demo-member-2026")
    assert User.objects.get(email="operator@demo.local").groups.filter(name="operator").exists()
    assert Transfer.objects.count() == 4
    balance = selectors.balance_for(user_id=member.pk, now=MIDYEAR)
    assert (balance.spendable, balance.pending) == (460, 200)
    assert balance.expiring_soon == 0  # the 80-point lot expiring in 10 days was spent first: it expired soonest
    assert balance.next_expiry_at == datetime(2027, 1, 1, tzinfo=SHANGHAI)  # the welcome gift: end of the year
    assert balance.next_available_at == MIDYEAR + timedelta(days=6)
    # "My points" lists the history newest entry first: that is also newest date first.
    dates = [t.created_at for t in selectors.history_page(user_id=member.pk).entries]
    assert len(dates) == 4
    assert dates == sorted(dates, reverse=True)
    services.ledger_rollup()
    assert services.ledger_reconcile().ok


@pytest.mark.django_db
def test_seeded_at_half_past_eleven_on_new_years_eve_the_welcome_gift_expires_at_midnight():
    seed(YEAR_END)
    member = User.objects.get(email="member@demo.local")
    balance = selectors.balance_for(user_id=member.pk, now=YEAR_END)
    # The 120-point spend (29 Dec) took the lot expiring soonest: the welcome gift, which ends with the year.
    assert (balance.spendable, balance.pending, balance.expiring_soon) == (460, 200, 460)
    assert (balance.next_expiry_at, balance.next_expiry_amount) == (datetime(2027, 1, 1, tzinfo=SHANGHAI), 380)
    after_midnight = selectors.balance_for(user_id=member.pk, now=datetime(2027, 1, 1, 0, 0, 1, tzinfo=SHANGHAI))
    assert (after_midnight.spendable, after_midnight.expiring_soon) == (80, 80)
    carnival = Campaign.objects.get(slug="carnival")
    assert carnival.phase_at(YEAR_END) == Phase.OFFICIAL
    assert carnival.phase_at(datetime(2027, 1, 25, 23, 30, tzinfo=SHANGHAI)) == Phase.FOLLOWUP


@pytest.mark.django_db
def test_seeded_on_leap_day_the_history_and_the_campaign_are_dated_from_29_february():
    from tasks.checkins import checkin_create

    seed(LEAP_DAY)
    member = User.objects.get(email="member@demo.local")
    balance = selectors.balance_for(user_id=member.pk, now=LEAP_DAY)
    assert (balance.spendable, balance.pending, balance.expiring_soon) == (460, 200, 0)
    assert balance.next_expiry_at == datetime(2029, 1, 1, tzinfo=SHANGHAI)
    assert balance.next_available_at == datetime(2028, 3, 6, 12, 0, tzinfo=SHANGHAI)
    carnival = Campaign.objects.get(slug="carnival")
    assert carnival.official_starts_at == datetime(2028, 2, 26, 12, 0, tzinfo=SHANGHAI)
    assert carnival.followup_starts_at == datetime(2028, 3, 25, 12, 0, tzinfo=SHANGHAI)
    checkin = checkin_create(campaign=carnival, user_id=member.pk, now=LEAP_DAY)
    assert checkin.local_date.isoformat() == "2028-02-29"
    assert selectors.balance_for(user_id=member.pk, now=LEAP_DAY).spendable == 465  # the rule's 5 base points


def test_seed_demo_refuses_a_time_without_its_offset():
    with pytest.raises(CommandError, match="offset"):
        call_command("seed_demo", "--now=2026-12-31T23:30:00")


@pytest.mark.django_db
def test_seed_demo_creates_one_featured_carnival_in_its_official_phase():
    seed(MIDYEAR)
    first = Campaign.objects.get(slug="carnival")
    seed(MIDYEAR + timedelta(days=2))
    assert Campaign.objects.count() == 1
    carnival = Campaign.objects.get(slug="carnival")
    assert carnival.official_starts_at == first.official_starts_at  # a second run moves nothing
    assert (carnival.name, carnival.name_en) == ("积分狂欢，好礼不停", "Points Carnival")
    assert carnival.rules
    assert carnival.rules_en
    assert carnival.phase_at(MIDYEAR) == Phase.OFFICIAL
    assert carnival.warmup_starts_at == MIDYEAR - timedelta(days=7)
    assert carnival.official_starts_at == MIDYEAR - timedelta(days=3)
    assert carnival.ends_at == MIDYEAR + timedelta(days=35)
    assert campaign_selectors.campaign_featured(now=MIDYEAR) == carnival
    policy = ExpiryPolicy.objects.get(campaign_id=carnival.pk)
    assert policy.rule == "year_end"


@pytest.mark.django_db
def test_seed_demo_gives_the_carnival_check_ins_and_a_task_ladder():
    from tasks.models import CheckInRule, TaskDefinition

    seed(MIDYEAR)
    seed(MIDYEAR)
    rule = CheckInRule.objects.get(campaign__slug="carnival")
    assert rule.base_points == 5
    assert [m["day"] for m in rule.milestones] == [3, 7, 30]
    tasks = list(TaskDefinition.objects.filter(campaign__slug="carnival").order_by("id"))
    assert [t.tier for t in tasks] == ["beginner", "intermediate", "advanced"]
    assert tasks[1].prerequisite == tasks[0]
    assert tasks[2].prerequisite == tasks[1]


@pytest.mark.django_db
def test_seed_demo_gives_the_carnival_a_prize_wheel_members_can_spin():
    from lottery.models import Prize, Wheel
    from lottery.services import spin_perform

    seed(YEAR_END)
    seed(YEAR_END)
    wheel = Wheel.objects.get(campaign__slug="carnival")
    prizes = list(Prize.objects.filter(wheel=wheel))
    assert {p.kind for p in prizes} == {
        "physical",
        "points",
        "multiplier_card",
        "coupon",
        "membership_voucher",
        "none",
    }
    assert len(prizes) == 9
    member = User.objects.get(email="member@demo.local")
    first = spin_perform(wheel=wheel, user_id=member.pk, request_key="demo-1", now=YEAR_END)
    assert first.draw.cost_points == 0  # the first spin of the day is free
    second = spin_perform(wheel=wheel, user_id=member.pk, request_key="demo-2", now=YEAR_END + timedelta(minutes=1))
    assert second.draw.cost_points == 50
    new_year = datetime(2027, 1, 1, 0, 5, tzinfo=SHANGHAI)  # a new campaign-local day: a free spin again
    third = spin_perform(wheel=wheel, user_id=member.pk, request_key="demo-3", now=new_year)
    assert third.draw.cost_points == 0
