"""Operators configure wheels and prizes; once members can see the odds, changes may only favour members."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.utils import timezone

from campaigns.services import campaign_save
from lottery import fairness
from lottery.errors import OddsChangeRefused, PrizeAlreadyWon, PrizeKeepsBlankSlot
from lottery.models import Prize, PrizeKind, Wheel
from lottery.selectors import odds_table, wheel_is_live
from lottery.services import prize_delete, prize_save, spin_perform, wheel_save

from .conftest import none_prize

pytestmark = pytest.mark.django_db


def test_new_wheel_has_a_committed_seed_and_a_none_slot(wheel):
    assert len(wheel.server_seed) == 64
    assert wheel.seed_commitment == fairness.commitment(wheel.server_seed)
    assert none_prize(wheel).weight == 100
    other = wheel_save(wheel=Wheel(campaign=campaign_save(data={**_campaign_data(), "slug": "other"})))
    assert other.server_seed != wheel.server_seed


def _campaign_data():
    now = timezone.now()
    return {
        "name": "x",
        "slug": "x",
        "rules": "r",
        "warmup_starts_at": now + timedelta(days=3),
        "official_starts_at": now + timedelta(days=4),
        "followup_starts_at": now + timedelta(days=10),
        "ends_at": now + timedelta(days=11),
    }


def test_free_uncapped_wheel_is_refused(campaign):
    with pytest.raises(ValidationError) as exc:
        wheel_save(wheel=Wheel(campaign=campaign, cost_points=0))
    assert "cost_points" in exc.value.message_dict
    assert not Wheel.objects.exists()


@pytest.mark.parametrize(
    ("kind", "fields", "error_field"),
    [
        (PrizeKind.PHYSICAL, {"unit_value_cny": Decimal("50000.01")}, "unit_value_cny"),
        (PrizeKind.PHYSICAL, {"stock_total": None}, "stock_total"),
        (PrizeKind.POINTS, {"points_amount": None}, "points_amount"),
        (PrizeKind.MULTIPLIER_CARD, {"multiplier_percent": 100}, "multiplier_percent"),
        (PrizeKind.COUPON, {"code_pool": None}, "code_pool"),
        (PrizeKind.PHYSICAL, {"weight": 0}, "weight"),
    ],
)
def test_invalid_prizes_are_refused(wheel, add_prize, kind, fields, error_field):
    with pytest.raises(ValidationError) as exc:
        add_prize(kind, **fields)
    assert error_field in exc.value.message_dict
    assert Prize.objects.filter(wheel=wheel).count() == 1  # just the none slot


def test_a_prize_worth_exactly_50000_is_allowed(add_prize):
    assert add_prize(unit_value_cny=Decimal("50000.00")).pk


def test_second_none_slot_is_refused(wheel):
    with pytest.raises(ValidationError):
        prize_save(prize=Prize(wheel=wheel), data={"kind": PrizeKind.NONE, "name": "again", "weight": 5})


def test_live_wheel_refuses_changes_against_members(wheel, add_prize):
    phone = add_prize(weight=10, stock=5)
    assert wheel_is_live(wheel=wheel, now=timezone.now())
    version = Wheel.objects.get(pk=wheel.pk).odds_version
    for data in (
        {"weight": 9},
        {"stock_total": 4},
        {"unit_value_cny": Decimal("99.00")},
        {"kind": PrizeKind.POINTS, "points_amount": 10},
        {"per_member_cap": 1},
    ):
        with pytest.raises(OddsChangeRefused):
            prize_save(prize=Prize.objects.get(pk=phone.pk), data=data)
    with pytest.raises(OddsChangeRefused):
        prize_save(prize=none_prize(wheel), data={"weight": 101})
    with pytest.raises(OddsChangeRefused):
        prize_delete(prize=phone)
    phone.refresh_from_db()
    assert (phone.weight, phone.stock_total, phone.stock_remaining, phone.unit_value_cny) == (10, 5, 5, Decimal("100"))
    assert none_prize(wheel).weight == 100
    assert Wheel.objects.get(pk=wheel.pk).odds_version == version


def test_live_wheel_accepts_changes_for_members(wheel, add_prize):
    phone = add_prize(weight=10, stock=5)
    version = Wheel.objects.get(pk=wheel.pk).odds_version
    prize_save(prize=Prize.objects.get(pk=phone.pk), data={"weight": 20, "stock_total": 8})
    prize_save(prize=none_prize(wheel), data={"weight": 80})
    add_prize(PrizeKind.POINTS, name="more", weight=5, stock=100)
    phone.refresh_from_db()
    assert (phone.weight, phone.stock_total, phone.stock_remaining) == (20, 8, 8)
    assert Wheel.objects.get(pk=wheel.pk).odds_version == version + 3
    rows = {row.prize.name: row for row in odds_table(wheel=wheel)}
    assert rows["华为手机"].probability == Decimal(20) / Decimal(105)


def test_stock_change_keeps_units_already_won(wheel, add_prize, member, fund):
    phone = add_prize(weight=10**9, stock=3)
    fund(member.pk, 100)
    spin_perform(wheel=wheel, user_id=member.pk, request_key="a")
    spin_perform(wheel=wheel, user_id=member.pk, request_key="b")
    prize_save(prize=Prize.objects.get(pk=phone.pk), data={"stock_total": 10})
    phone.refresh_from_db()
    assert (phone.stock_total, phone.stock_remaining) == (10, 8)


def test_stock_cannot_drop_below_units_won_before_launch(add_prize, wheel, member, fund):
    phone = add_prize(weight=10**9, stock=3)
    fund(member.pk, 100)
    spin_perform(wheel=wheel, user_id=member.pk, request_key="a")
    spin_perform(wheel=wheel, user_id=member.pk, request_key="b")
    campaign = wheel.campaign
    campaign_save(campaign=campaign, data={"is_published": False})  # not live: reductions allowed in principle
    with pytest.raises(ValidationError):
        prize_save(prize=Prize.objects.get(pk=phone.pk), data={"stock_total": 1})
    prize_save(prize=Prize.objects.get(pk=phone.pk), data={"stock_total": 2})
    phone.refresh_from_db()
    assert (phone.stock_total, phone.stock_remaining) == (2, 0)


def test_unlive_wheel_allows_any_change_and_deleting_unwon_prizes(wheel, add_prize):
    campaign_save(campaign=wheel.campaign, data={"is_published": False})
    phone = add_prize(weight=10, stock=5)
    prize_save(prize=Prize.objects.get(pk=phone.pk), data={"weight": 1, "stock_total": 1})
    prize_delete(prize=Prize.objects.get(pk=phone.pk))
    assert not Prize.objects.filter(pk=phone.pk).exists()
    with pytest.raises(PrizeKeepsBlankSlot):
        prize_delete(prize=none_prize(wheel))


def test_a_won_prize_cannot_be_removed(wheel, add_prize, member, fund):
    phone = add_prize(weight=10**9, stock=5)
    fund(member.pk, 50)
    assert spin_perform(wheel=wheel, user_id=member.pk, request_key="won").draw.prize_id == phone.pk
    campaign_save(campaign=wheel.campaign, data={"is_published": False})
    with pytest.raises(PrizeAlreadyWon) as refused:
        prize_delete(prize=Prize.objects.get(pk=phone.pk))
    assert (refused.value.code, refused.value.status) == ("prize_already_won", 409)
    assert Prize.objects.filter(pk=phone.pk).exists()


def test_rules_page_publishes_the_wheel_terms_and_odds(wheel, add_prize, client):
    add_prize(weight=25, stock=3)
    wheel.daily_cap = 5
    wheel.save()
    page = client.get("/c/carnival/rules/")
    assert page.status_code == 200
    html = page.content.decode()
    assert 'data-testid="wheel-rules"' in html
    assert "20%" in html  # 25 / (25 + 100)
    assert "80%" in html
    assert "3 / 3" in html
    assert wheel.seed_commitment in html
