"""The shared builders (campaigns/builders.py, lottery/builders.py) build a campaign that is live at the instant
they are given, whatever that instant is, and a wheel members can spin there."""

from datetime import datetime
from zoneinfo import ZoneInfo

import pytest

from campaigns.builders import ENDS_AFTER, FOLLOWUP_AFTER, OFFICIAL_BEFORE, campaign_live, member_fund
from campaigns.models import Phase
from campaigns.selectors import campaign_open_for_members
from lottery.builders import prize_add, wheel_build
from lottery.models import Prize, PrizeKind
from lottery.services import spin_perform
from points.selectors import balance_for

SHANGHAI = ZoneInfo("Asia/Shanghai")
INSTANTS = [
    datetime(2026, 12, 31, 23, 30, tzinfo=SHANGHAI),
    datetime(2028, 2, 29, 12, 0, tzinfo=SHANGHAI),
    datetime(2027, 3, 28, 1, 59, tzinfo=ZoneInfo("Europe/Berlin")),  # a minute before clocks go forward there
]


@pytest.mark.django_db
@pytest.mark.parametrize("now", INSTANTS, ids=["year-end", "leap-day", "dst"])
def test_a_live_campaign_and_its_wheel_work_at_the_instant_they_are_built_for(now, member):
    campaign = campaign_live(now=now, slug="live")
    assert campaign.phase_at(now) == Phase.OFFICIAL
    assert campaign_open_for_members(campaign=campaign, now=now)
    assert (campaign.official_starts_at, campaign.followup_starts_at) == (now - OFFICIAL_BEFORE, now + FOLLOWUP_AFTER)
    assert campaign.ends_at == now + ENDS_AFTER
    wheel = wheel_build(
        campaign=campaign, cost_points=30, none_weight=1, prizes=[{"kind": PrizeKind.POINTS, "weight": 10**9}]
    )
    assert list(Prize.objects.filter(wheel=wheel).values_list("kind", "sort_order", "points_amount")) == [
        (PrizeKind.NONE, 0, None),
        (PrizeKind.POINTS, 1, 100),
    ]
    member_fund(campaign=campaign, user_id=member.pk, points=50, now=now, key="fund")
    member_fund(campaign=campaign, user_id=member.pk, points=50, now=now, key="fund")  # the key makes it once
    assert balance_for(user_id=member.pk, now=now).spendable == 50
    result = spin_perform(wheel=wheel, user_id=member.pk, request_key="one", now=now)
    assert result.draw.prize.kind == PrizeKind.POINTS  # against "thanks for playing" (weight 1): a certain win
    assert balance_for(user_id=member.pk, now=now).spendable == 50 - 30 + 100


@pytest.mark.django_db
def test_prize_add_gives_each_kind_valid_defaults_and_takes_any_field(member):
    wheel = wheel_build(campaign=campaign_live(now=INSTANTS[0]))
    card = prize_add(wheel=wheel, kind=PrizeKind.MULTIPLIER_CARD, name="双倍卡", name_en="Double card", stock=3)
    assert (card.multiplier_percent, card.multiplier_hours, card.stock_total, card.name_en) == (
        200,
        24,
        3,
        "Double card",
    )
    phone = prize_add(wheel=wheel, per_member_cap=1)
    assert (phone.kind, phone.name, phone.name_en, phone.per_member_cap) == (
        PrizeKind.PHYSICAL,
        "华为手机",
        "华为手机",
        1,
    )
