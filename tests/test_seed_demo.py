import pytest
from django.core.management import call_command
from django.utils import timezone

from accounts.models import User
from campaigns import selectors as campaign_selectors
from campaigns.models import Campaign, Phase
from points import selectors, services
from points.models import ExpiryPolicy, Transfer


@pytest.mark.django_db
def test_seed_demo_is_idempotent_and_gives_the_demo_member_a_history(capsys):
    call_command("seed_demo")
    call_command("seed_demo")
    out = capsys.readouterr().out
    assert "member@demo.local" in out
    assert "demo-member-2026" in out
    member = User.objects.get(email="member@demo.local")
    assert member.check_password("demo-member-2026")
    assert User.objects.get(email="operator@demo.local").groups.filter(name="operator").exists()
    assert Transfer.objects.count() == 4
    balance = selectors.balance_for(user_id=member.pk)
    assert (balance.spendable, balance.pending) == (460, 200)
    assert balance.expiring_soon == 0  # the 80-point lot was spent first: it expired soonest
    services.ledger_rollup()
    assert services.ledger_reconcile().ok


@pytest.mark.django_db
def test_seed_demo_creates_one_featured_carnival_in_its_official_phase():
    call_command("seed_demo")
    first = Campaign.objects.get(slug="carnival")
    call_command("seed_demo")
    assert Campaign.objects.count() == 1
    carnival = Campaign.objects.get(slug="carnival")
    assert carnival.official_starts_at == first.official_starts_at  # a second run moves nothing
    assert (carnival.name, carnival.name_en) == ("积分狂欢，好礼不停", "Points Carnival")
    assert carnival.rules
    assert carnival.rules_en
    now = timezone.now()
    assert carnival.phase_at(now) == Phase.OFFICIAL
    assert (now - carnival.warmup_starts_at).days == 7
    assert (carnival.ends_at - now).days == 34  # "in 35 days", minus the seconds the test took
    assert campaign_selectors.campaign_featured(now=now) == carnival
    policy = ExpiryPolicy.objects.get(campaign_id=carnival.pk)
    assert policy.rule == "year_end"


@pytest.mark.django_db
def test_seed_demo_gives_the_carnival_check_ins_and_a_task_ladder():
    from tasks.models import CheckInRule, TaskDefinition

    call_command("seed_demo")
    call_command("seed_demo")
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

    call_command("seed_demo")
    call_command("seed_demo")
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
    first = spin_perform(wheel=wheel, user_id=member.pk, request_key="demo-1")
    assert first.draw.cost_points == 0  # the first spin of the day is free
    second = spin_perform(wheel=wheel, user_id=member.pk, request_key="demo-2")
    assert second.draw.cost_points == 50
