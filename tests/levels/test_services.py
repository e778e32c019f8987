"""Member levels: promotion on points earned (never the balance), rewards once per level and period, the combine
rules, the period end (downgrade, across 31 Dec 23:30 Shanghai), operators' floors, overlapping thresholds, the
figures' definitions, the after-commit hook and the sweep."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from datetime import timedelta
from typing import Any

import pytest
import redis
from django.conf import settings
from django.core.exceptions import ValidationError
from django.utils import timezone, translation

from campaigns.builders import campaign_live, member_fund
from campaigns.earning import member_earned
from campaigns.models import Campaign
from campaigns.services import campaign_points_charge
from levels import earning, rules
from levels.figures import member_figures
from levels.models import Cause, Ladder, Level, LevelAward, LevelChange, MemberLevel, SweepMark
from levels.selectors import level_status, member_discount
from levels.services import (
    ladder_save,
    levels_drain,
    levels_period_close,
    levels_sweep,
    levels_validate,
    member_level_evaluate,
    member_level_floor_set,
)
from points.models import Transfer
from points.selectors import balance_for
from points.services import hold_place, hold_void, points_adjust
from tests.levels.conftest import TWO_LEVELS, local

pytestmark = pytest.mark.django_db


def _rank(user_id: int, now: Any) -> int:
    evaluation = member_level_evaluate(user_id=user_id, now=now)
    assert evaluation is not None
    return evaluation.member.level.rank


def test_promotion_counts_points_earned_not_the_balance(member, campaign: Campaign, make_ladder) -> None:
    make_ladder()
    now = timezone.now()
    member_fund(campaign=campaign, user_id=member.pk, points=999, now=now, key="earn:1")
    assert _rank(member.pk, now) == 0
    member_fund(campaign=campaign, user_id=member.pk, points=1, now=now, key="earn:2")
    campaign_points_charge(campaign=campaign, user_id=member.pk, amount=900, kind="redeem", key="spend:1", now=now)
    assert balance_for(user_id=member.pk).spendable == 100
    assert _rank(member.pk, now) == 1  # 1000 earned, 100 left: still the 1000 level
    change = LevelChange.objects.get(user=member)
    assert (change.cause, change.from_level.rank, change.to_level.rank) == (Cause.PROMOTION, 0, 1)
    # the level's reward: once, through the value gate (a ledger transfer of kind level_reward)
    assert balance_for(user_id=member.pk).spendable == 150
    award = LevelAward.objects.get(user=member)
    assert (award.points, award.period_key) == (50, "")
    assert Transfer.objects.get(pk=award.transfer_id).kind == "level_reward"
    # evaluating again pays nothing more and changes nothing
    assert _rank(member.pk, now) == 1
    assert LevelAward.objects.count() == 1
    assert LevelChange.objects.count() == 1
    assert balance_for(user_id=member.pk).spendable == 150


def test_the_reward_itself_does_not_count_towards_a_level_it_did_not_reach(member, campaign, make_ladder) -> None:
    levels = [*TWO_LEVELS, {"rank": 2, "name": "铂金", "min_points_earned": 1040}]
    make_ladder(levels=levels)
    now = timezone.now()
    member_fund(campaign=campaign, user_id=member.pk, points=1000, now=now, key="earn:1")
    assert _rank(member.pk, now) == 1
    # the 50 reward points are earnings too (issuance → wallet): the next evaluation sees 1050
    assert member_figures(user_id=member.pk).points_earned == 1050
    assert _rank(member.pk, now) == 2


def test_reversed_earnings_and_deductions_are_not_earned(member, campaign, make_ladder, make_user) -> None:
    make_ladder()
    operator = make_user(is_staff=True)
    now = timezone.now()
    member_fund(campaign=campaign, user_id=member.pk, points=600, now=now, key="earn:1")
    points_adjust(user_id=member.pk, amount=500, reason="补偿", actor_id=operator.pk, key="adj:1", now=now)
    points_adjust(user_id=member.pk, amount=-200, reason="更正", actor_id=operator.pk, key="adj:2", now=now)
    assert member_figures(user_id=member.pk).points_earned == 900
    assert _rank(member.pk, now) == 0


def test_spend_is_net_of_refunds(member, campaign: Campaign) -> None:
    now = timezone.now()
    member_fund(campaign=campaign, user_id=member.pk, points=1000, now=now, key="earn:1")
    campaign_points_charge(campaign=campaign, user_id=member.pk, amount=100, kind="redeem", key="spend:1", now=now)
    kept = hold_place(user_id=member.pk, amount=300, key="h1", campaign_id=campaign.pk, now=now)
    voided = hold_place(user_id=member.pk, amount=200, key="h2", campaign_id=campaign.pk, now=now)
    hold_void(hold_id=voided.pk, now=now)
    assert kept.state == "pending"
    figures = member_figures(user_id=member.pk)
    assert (figures.points_earned, figures.spend) == (1000, 400)


@pytest.mark.parametrize(
    ("combine", "figures", "expected"),
    [
        ("all", {"points_earned": 1000, "spend": 300}, 0),  # check-in days missing
        ("all", {"points_earned": 1000, "spend": 300, "checkin_days": 7}, 1),
        ("any", {"points_earned": 1000, "spend": 300}, 1),  # points + one of the others
        ("any", {"points_earned": 1000}, 0),  # points alone are not enough when others are set
        ("any", {"points_earned": 900, "spend": 300, "checkin_days": 7}, 0),  # points are always required
    ],
)
def test_combine_rules(combine: str, figures: dict[str, int], expected: int) -> None:
    levels = [
        Level(rank=0, min_points_earned=0),
        Level(rank=1, min_points_earned=1000, min_spend=300, min_checkin_days=7),
    ]
    assert rules.justified(levels, rules.Figures(**figures), combine).rank == expected


def test_period_keys() -> None:
    day = local(2026, 12, 31, 23, 30).date()
    assert [rules.period_key(p, day) for p in ("none", "month", "quarter", "year")] == [
        "",
        "2026-12",
        "2026-Q4",
        "2026",
    ]
    assert [rules.period_next(k) for k in ("2026-12", "2026-Q4", "2026", "2026-03")] == [
        "2027-01",
        "2027-Q1",
        "2027",
        "2026-04",
    ]
    start, end = rules.period_bounds("2026", "Asia/Shanghai")
    assert (start, end) == (local(2026, 1, 1, 0, 0), local(2027, 1, 1, 0, 0))


def test_downgrade_at_period_end_across_new_year_in_shanghai(member, make_user) -> None:
    """A level earned in a year holds until that year ends; then the member keeps what the ended year justifies."""
    start = local(2026, 12, 31, 23, 30)  # 15:30 UTC: already the last half hour of 2026 in Shanghai
    campaign = campaign_live(
        now=start,
        official_starts_at=start - timedelta(days=3),
        followup_starts_at=start + timedelta(days=800),
        ends_at=start + timedelta(days=900),
    )
    ladder = ladder_build_for(campaign, period="year", downgrade="reevaluate")
    member_fund(campaign=campaign, user_id=member.pk, points=1000, now=start, key="earn:2026")
    assert _rank(member.pk, start) == 1
    assert MemberLevel.objects.get(user=member).period_key == "2026"

    # 1 January 2027, 00:10 Shanghai (still 31 December in UTC): 2026's figures justify Gold, kept.
    new_year = local(2027, 1, 1, 0, 10)
    assert levels_period_close(now=new_year) == 1
    row = MemberLevel.objects.get(user=member)
    assert (row.level.rank, row.period_key) == (1, "2027")
    # 2027 figures start at zero, yet the level holds all year (never lowered mid-period)
    member_fund(campaign=campaign, user_id=member.pk, points=100, now=local(2027, 6, 1), key="earn:2027")
    assert _rank(member.pk, local(2027, 12, 31, 23, 30)) == 1
    assert levels_period_close(now=local(2027, 12, 31, 23, 30)) == 0  # not over yet in Shanghai

    # 1 January 2028 00:00:30 Shanghai (16:00 UTC on 31 December): 2027 justified only Bronze → downgrade.
    after = local(2028, 1, 1, 0, 0) + timedelta(seconds=30)
    assert after.astimezone(rules.zoneinfo.ZoneInfo("UTC")).year == 2027
    assert levels_period_close(now=after) == 1
    row.refresh_from_db()
    assert (row.level.rank, row.period_key) == (0, "2028")
    change = LevelChange.objects.filter(user=member).first()
    assert change is not None
    assert (change.cause, change.from_level.rank, change.to_level.rank) == ("downgrade", 1, 0)
    # idempotent: running it again changes nothing
    changes = LevelChange.objects.count()
    assert levels_period_close(now=after + timedelta(minutes=5)) == 0
    assert LevelChange.objects.count() == changes
    # the reward was paid once for 2026; reaching Gold again in 2028 pays again (once per level per period)
    member_fund(campaign=campaign, user_id=member.pk, points=1000, now=local(2028, 2, 1), key="earn:2028")
    assert _rank(member.pk, local(2028, 2, 1)) == 1
    assert sorted(LevelAward.objects.values_list("period_key", flat=True)) == ["2026", "2028"]
    assert ladder.pk == row.ladder_id


def ladder_build_for(campaign: Campaign, **fields: Any) -> Ladder:
    from levels.builders import ladder_build

    return ladder_build(campaign=campaign, levels=TWO_LEVELS, **fields)


def test_a_missed_period_close_is_applied_by_the_next_evaluation(member) -> None:
    start = local(2026, 3, 15)
    campaign = campaign_live(now=start, official_starts_at=start - timedelta(days=3))
    ladder_build_for(campaign, period="month", downgrade="reevaluate")
    member_fund(campaign=campaign, user_id=member.pk, points=1000, now=start, key="earn:march")
    assert _rank(member.pk, start) == 1
    # April passes without any job; in May the member's next evaluation closes March (Gold kept) and April (Bronze)
    assert _rank(member.pk, local(2026, 5, 2)) == 0
    causes = list(LevelChange.objects.order_by("at", "id").values_list("cause", flat=True))
    assert causes == ["promotion", "downgrade"]


def test_manual_floor_is_audited_and_the_level_never_drops_below_it(member, make_user) -> None:
    operator = make_user(is_staff=True)
    start = local(2026, 3, 15)
    campaign = campaign_live(now=start, official_starts_at=start - timedelta(days=3))
    ladder = ladder_build_for(campaign, period="month", downgrade="reevaluate")
    gold = Level.objects.get(ladder=ladder, rank=1)
    with pytest.raises(ValidationError):
        member_level_floor_set(user_id=member.pk, level=gold, actor_id=operator.pk, reason="  ", now=start)
    assert not MemberLevel.objects.exists()
    assert not LevelChange.objects.exists()

    row = member_level_floor_set(user_id=member.pk, level=gold, actor_id=operator.pk, reason="VIP 客户", now=start)
    assert (row.level, row.floor) == (gold, gold)  # raised at once
    change = LevelChange.objects.get(user=member)
    assert (change.cause, change.actor, change.reason, change.to_level) == ("floor", operator, "VIP 客户", gold)
    assert not LevelAward.objects.exists()  # a floor pays no reward
    # months pass with no figures: the period closes keep the floor
    assert levels_period_close(now=local(2026, 6, 1)) == 1
    row.refresh_from_db()
    assert row.level == gold
    assert not LevelChange.objects.filter(cause="downgrade").exists()


def test_a_floor_on_another_ladder_is_refused(member, campaign, make_ladder, make_user) -> None:
    other = make_ladder(active=False)
    make_ladder()
    with translation.override("en"), pytest.raises(Exception, match="not on the active ladder"):
        member_level_floor_set(
            user_id=member.pk, level=other.levels.get(rank=1), actor_id=None, reason="x", now=timezone.now()
        )


@pytest.mark.parametrize(
    ("levels", "message"),
    [
        (
            [
                {"rank": 0, "min_points_earned": 0},
                {"rank": 1, "min_points_earned": 1000},
                {"rank": 2, "min_points_earned": 1000},
            ],
            "Level 2 must need more points earned than level 1",
        ),
        (
            [
                {"rank": 0, "min_points_earned": 0},
                {"rank": 1, "min_points_earned": 1000, "min_spend": 500},
                {"rank": 2, "min_points_earned": 2000},
                {"rank": 3, "min_points_earned": 3000, "min_spend": 400},
            ],
            "Level 3 must need more points spent than level 1",
        ),
        ([{"rank": 0, "min_points_earned": 10}], "must need 0 points earned"),
        ([{"rank": 1, "min_points_earned": 10}], "entry level of rank 0"),
    ],
)
def test_overlapping_thresholds_are_refused_at_save(campaign, levels, message) -> None:
    with translation.override("en"), pytest.raises(ValidationError, match=message):
        levels_validate([Level(**item) for item in levels])
    named = [{"name": f"L{item['rank']}", **item} for item in levels]
    with translation.override("en"), pytest.raises(ValidationError, match=message):
        ladder_save(ladder=Ladder(name="x", campaign=campaign, active=True), levels=named)
    assert not Ladder.objects.exists()
    assert not Level.objects.exists()


def test_an_optional_threshold_may_skip_levels_when_it_rises(campaign) -> None:
    levels_validate(
        [
            Level(rank=0, min_points_earned=0),
            Level(rank=1, min_points_earned=100, min_referrals=1),
            Level(rank=2, min_points_earned=200),
            Level(rank=3, min_points_earned=300, min_referrals=2),
        ]
    )


def test_one_active_ladder(campaign, make_ladder) -> None:
    first = make_ladder()
    second = make_ladder()
    first.refresh_from_db()
    assert (first.active, second.active) == (False, True)


def test_status_progress_and_discount(member, campaign, make_ladder) -> None:
    make_ladder()
    now = timezone.now()
    assert member_discount(user_id=member.pk) == 0
    member_fund(campaign=campaign, user_id=member.pk, points=250, now=now, key="earn:1")
    status = level_status(user_id=member.pk, now=now)
    assert status is not None
    assert status.level.rank == 0
    assert status.next_level.rank == 1
    points = next(p for p in status.progress if p.dimension == "points_earned")
    assert (points.value, points.need, points.percent) == (250, 1000, 25)
    member_fund(campaign=campaign, user_id=member.pk, points=750, now=now, key="earn:2")
    member_level_evaluate(user_id=member.pk, now=now)
    assert str(member_discount(user_id=member.pk)) == "5.00"


# --- The after-commit hook and the sweep -----------------------------------------------------------------------


@pytest.fixture
def due() -> Iterator[Callable[[], set[int]]]:
    """What is queued for evaluation (real Redis: this run's REDIS_URL), emptied before and after."""
    client = redis.Redis.from_url(settings.REDIS_URL)
    client.delete(earning.DUE_KEY)
    earning.queue.reset()
    yield lambda: {int(raw) for raw in client.smembers(earning.DUE_KEY)}
    client.delete(earning.DUE_KEY)
    earning.queue.reset()


def test_an_earning_queues_the_member_after_commit_and_the_drain_promotes(  # noqa: PLR0917 — fixtures
    member, make_user, campaign, make_ladder, due, django_capture_on_commit_callbacks
) -> None:
    make_ladder()
    now = timezone.now()
    with django_capture_on_commit_callbacks(execute=True):
        member_fund(campaign=campaign, user_id=member.pk, points=1000, now=now, key="earn:1")
        assert due() == set()  # not before the commit
    assert due() == {member.pk}
    with django_capture_on_commit_callbacks(execute=True):
        member_fund(campaign=campaign, user_id=member.pk, points=10, now=now, key="earn:2")
        member_fund(campaign=campaign, user_id=member.pk, points=10, now=now, key="earn:2")  # a replay: no earning
        member_earned(user_id=member.pk, kind="level_reward")  # the levels' own reward: ignored
    assert due() == {member.pk}  # one entry, however often they earned
    assert levels_drain(now=now) == 1
    assert due() == set()
    assert MemberLevel.objects.get(user=member).level.rank == 1
    assert levels_drain(now=now) == 0


def test_a_redis_error_is_swallowed_and_pauses_the_queue(member, campaign, make_ladder, due, monkeypatch) -> None:
    make_ladder()
    broken = redis.Redis.from_url("redis://127.0.0.1:1/0", socket_connect_timeout=0.2, socket_timeout=0.2)
    monkeypatch.setattr(earning.queue, "client", broken)
    monkeypatch.setattr(earning.queue, "url", settings.REDIS_URL)
    earning.on_member_earned(member.pk, "checkin")  # refused connection: logged, swallowed
    assert earning.queue.get() is None  # paused: the next earnings of this process don't try Redis
    assert earning.due_take() == []
    earning.queue.clock = lambda: time.monotonic() + earning.DOWN_PAUSE + 1
    assert earning.queue.get() is broken  # tried again after the pause
    monkeypatch.undo()
    earning.queue.reset()
    earning.queue.client = None
    earning.on_member_earned(member.pk, "checkin")
    assert due() == {member.pk}


def test_the_sweep_evaluates_members_credited_since_the_watermark(member, make_user, campaign, make_ladder) -> None:
    make_ladder()
    other = make_user()
    now = timezone.now()
    member_fund(campaign=campaign, user_id=member.pk, points=1000, now=now - timedelta(minutes=10), key="a")
    member_fund(campaign=campaign, user_id=other.pk, points=5, now=now, key="b")  # young: evaluated, not passed
    assert levels_sweep(now=now) == 2
    assert MemberLevel.objects.get(user=member).level.rank == 1
    mark = SweepMark.objects.get(pk=1).transfer_id
    first_old = Transfer.objects.get(idempotency_key="a").pk
    assert first_old <= mark < Transfer.objects.get(idempotency_key="b").pk
    # five minutes on: the young credit again, and the member's level reward (credited after the mark); both old now
    assert levels_sweep(now=now + timedelta(minutes=5)) == 2
    assert SweepMark.objects.get(pk=1).transfer_id == Transfer.objects.order_by("-pk").first().pk
    assert levels_sweep(now=now + timedelta(minutes=6)) == 0
    assert LevelAward.objects.count() == 1
