"""The prize wheel API: the wheel, spins (with Idempotency-Key), the member's prizes and shipping addresses, and
the public fairness record."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest
from django.utils import timezone
from rest_framework.test import APIClient

from accounts.models import Address, IdempotencyRecord
from accounts.services import address_save
from campaigns.services import campaign_save
from lottery.models import Draw, Prize, PrizeKind, WheelPlayer
from lottery.services import spin_perform
from points.selectors import balance_for
from points.services import ledger_reconcile, ledger_rollup
from shipments.rules import ShipmentStatus
from shipments.services import shipment_transition

from .conftest import none_prize, shipment_of

pytestmark = pytest.mark.django_db

WHEEL = "/api/v1/campaigns/carnival/wheel"
SPINS = WHEEL + "/spins"
FAIRNESS = WHEEL + "/fairness"
MY_PRIZES = "/api/v1/me/prizes"

ADDRESS = {
    "recipient": "张三",
    "phone": "13800138000",
    "province": "浙江省",
    "city": "杭州市",
    "district": "西湖区",
    "detail": "文三路 1 号",
    "postal_code": "310000",
}


def spendable(user_id: int) -> int:
    return balance_for(user_id=user_id).spendable


def address_url(draw_id: int) -> str:
    return f"{MY_PRIZES}/{draw_id}/address"


def error_code(response) -> str:
    return response.json()["error"]["code"]


@pytest.fixture
def phone(add_prize) -> Prize:
    """A physical prize that (practically) always wins: weight 10^9 against "thanks for playing"'s 100."""
    return add_prize(PrizeKind.PHYSICAL, name="华为手机", weight=10**9, stock=5)


@pytest.fixture
def won_phone(wheel, member, fund, phone) -> Draw:
    fund(member.pk, 50)
    draw = spin_perform(wheel=wheel, user_id=member.pk, request_key="win-phone").draw
    assert draw.prize_id == phone.pk
    return draw


# --- GET wheel -------------------------------------------------------------------------------------------------


def test_wheel_shows_odds_stock_winners_and_my_status(wheel, add_prize, member, *, member_api, make_user, fund):
    wheel.free_spins_per_day, wheel.daily_cap = 1, 5
    wheel.save()
    phone = add_prize(PrizeKind.PHYSICAL, name="华为手机", weight=100, stock=3)
    winner = make_user(display_name="张伟")
    Prize.objects.filter(pk=none_prize(wheel).pk).update(weight=1)
    Prize.objects.filter(pk=phone.pk).update(weight=10**9)
    assert spin_perform(wheel=wheel, user_id=winner.pk, request_key="w").draw.prize_id == phone.pk
    Prize.objects.filter(pk__in=[phone.pk, none_prize(wheel).pk]).update(weight=100)
    fund(member.pk, 70)

    response = member_api.get(WHEEL)
    assert response.status_code == 200, response.content
    body = response.json()
    assert body["name"] == wheel.display_name
    assert (body["cost_points"], body["free_spins_per_day"], body["daily_cap"], body["total_cap"]) == (50, 1, 5, None)
    assert body["spins_open"] is True
    assert body["seed_commitment"] == wheel.seed_commitment
    by_kind = {row["kind"]: row for row in body["prizes"]}
    assert by_kind["physical"] == {
        "id": phone.pk,
        "kind": "physical",
        "name": "华为手机",
        "image": None,
        "probability": 0.5,
        "probability_percent": "50",
        "stock_remaining": 2,
        "in_stock": True,
    }
    assert by_kind["none"]["stock_remaining"] is None
    assert by_kind["none"]["in_stock"] is True
    assert len(body["recent_winners"]) == 1
    assert body["recent_winners"][0]["name"] == "张**"
    assert body["recent_winners"][0]["prize"] == "华为手机"
    assert body["me"] == {
        "spins_today": 0,
        "spins_total": 0,
        "left_today": 5,
        "left_total": None,
        "free_left_today": 1,
        "next_cost": 0,
        "can_spin": True,
        "spendable": 70,
    }


def test_sold_out_prize_has_no_chance_and_the_rest_is_renormalised(wheel, add_prize, member_api):
    add_prize(PrizeKind.PHYSICAL, name="sold out", weight=100, stock=1)
    Prize.objects.filter(name="sold out").update(stock_remaining=0)
    add_prize(PrizeKind.POINTS, name="100 points", weight=300, stock=10)
    rows = {row["name"]: row for row in member_api.get(WHEEL).json()["prizes"]}
    assert rows["sold out"]["in_stock"] is False
    assert rows["sold out"]["probability"] == 0
    assert rows["100 points"]["probability_percent"] == "75"
    assert Decimal(str(rows["100 points"]["probability"])) == Decimal("0.75")


def test_wheel_errors(campaign, api, member_api):
    assert api.get(WHEEL).status_code == 401
    no_wheel = member_api.get(WHEEL)
    assert no_wheel.status_code == 404
    assert error_code(no_wheel) == "wheel_not_found"
    unknown = member_api.get("/api/v1/campaigns/nope/wheel")
    assert unknown.status_code == 404
    assert error_code(unknown) == "campaign_not_found"


# --- POST spins --------------------------------------------------------------------------------------------------


def test_spin_debits_and_returns_the_draw_and_my_status(wheel, member, member_api, fund):
    fund(member.pk, 120)
    response = member_api.post(SPINS, HTTP_IDEMPOTENCY_KEY="spin-1")
    assert response.status_code == 201, response.content
    body = response.json()
    draw = Draw.objects.get()
    assert body["id"] == draw.pk
    assert body["spin_number"] == 1
    assert body["prize"] == {"id": none_prize(wheel).pk, "kind": "none", "name": "谢谢参与", "image": None}
    assert body["won"] is False
    assert body["cost_points"] == 50
    assert body["code"] == ""
    assert body["roll"] == draw.roll
    assert body["odds_hash"] == draw.odds_hash
    assert body["odds_version"] == wheel.odds_version
    assert body["replayed"] is False
    assert body["me"]["spins_today"] == 1
    assert body["me"]["spendable"] == 70
    assert draw.request_key == "spin-1"  # the header reaches the service's own replay protection
    assert spendable(member.pk) == 70


def test_spin_of_a_physical_prize_says_won(wheel, member, member_api, fund, phone):
    fund(member.pk, 50)
    body = member_api.post(SPINS).json()
    assert body["won"] is True
    assert body["prize"]["id"] == phone.pk
    assert body["prize"]["kind"] == "physical"
    assert shipment_of(body["id"]).status == ShipmentStatus.AWAITING_ADDRESS


def test_same_idempotency_key_replays_the_draw_and_debits_once(wheel, member, member_api, fund):
    fund(member.pk, 200)
    first = member_api.post(SPINS, HTTP_IDEMPOTENCY_KEY="same-key")
    again = member_api.post(SPINS, HTTP_IDEMPOTENCY_KEY="same-key")
    assert first.status_code == again.status_code == 201
    assert again["Idempotent-Replayed"] == "true"
    assert again.json()["id"] == first.json()["id"]
    assert spendable(member.pk) == 150
    assert Draw.objects.count() == 1
    # Even without the HTTP layer's stored response, the service recognises the key: same draw, no new debit.
    IdempotencyRecord.objects.all().delete()
    third = member_api.post(SPINS, HTTP_IDEMPOTENCY_KEY="same-key")
    assert third.status_code == 201
    assert third.json()["id"] == first.json()["id"]
    assert third.json()["replayed"] is True
    assert third.json()["me"]["spendable"] == 150
    assert spendable(member.pk) == 150
    assert Draw.objects.count() == 1
    ledger_rollup()
    assert ledger_reconcile().ok


def test_different_keys_spin_twice(wheel, member, member_api, fund):
    fund(member.pk, 200)
    one = member_api.post(SPINS, HTTP_IDEMPOTENCY_KEY="a").json()
    two = member_api.post(SPINS, HTTP_IDEMPOTENCY_KEY="b").json()
    assert one["id"] != two["id"]
    assert (one["spin_number"], two["spin_number"]) == (1, 2)
    assert spendable(member.pk) == 100
    assert Draw.objects.count() == 2


def test_bad_keys_are_refused(wheel, member, member_api, fund):
    fund(member.pk, 200)
    too_long_for_spins = member_api.post(SPINS, HTTP_IDEMPOTENCY_KEY="k" * 121)  # the HTTP layer allows 255
    assert too_long_for_spins.status_code == 400
    assert error_code(too_long_for_spins) == "invalid_idempotency_key"
    empty = member_api.post(SPINS, HTTP_IDEMPOTENCY_KEY="")
    assert empty.status_code == 400
    assert not Draw.objects.exists()
    assert spendable(member.pk) == 200


def test_insufficient_points_changes_nothing(wheel, member, member_api, fund):
    fund(member.pk, 49)
    response = member_api.post(SPINS, HTTP_IDEMPOTENCY_KEY="poor")
    assert response.status_code == 422
    assert error_code(response) == "insufficient_points"
    assert spendable(member.pk) == 49
    assert not Draw.objects.exists()
    assert not WheelPlayer.objects.filter(user=member, spins_total__gt=0).exists()
    assert member_api.get(WHEEL).json()["me"]["spins_today"] == 0


def test_daily_cap_reached(wheel, member, member_api, fund):
    wheel.daily_cap = 1
    wheel.save()
    fund(member.pk, 200)
    assert member_api.post(SPINS).status_code == 201
    response = member_api.post(SPINS)
    assert response.status_code == 422
    assert error_code(response) == "spin_limit_reached"
    assert response.json()["error"]["details"]["daily_cap"] == 1
    assert spendable(member.pk) == 150
    assert Draw.objects.count() == 1
    me = member_api.get(WHEEL).json()["me"]
    assert (me["left_today"], me["can_spin"]) == (0, False)


def test_spin_after_the_official_phase_is_refused(wheel, member, member_api, fund):
    fund(member.pk, 100)
    now = timezone.now()
    campaign_save(
        campaign=wheel.campaign,
        data={
            "official_starts_at": now - timedelta(days=2),
            "followup_starts_at": now - timedelta(hours=1),
            "ends_at": now + timedelta(days=5),
        },
    )
    response = member_api.post(SPINS, HTTP_IDEMPOTENCY_KEY="late")
    assert response.status_code == 422
    assert error_code(response) == "campaign_not_active"
    assert spendable(member.pk) == 100
    assert not Draw.objects.exists()
    assert member_api.get(WHEEL).json()["spins_open"] is False


def test_spin_errors(campaign, api, member_api):
    assert api.post(SPINS).status_code == 401
    assert error_code(member_api.post(SPINS)) == "wheel_not_found"
    assert error_code(member_api.post("/api/v1/campaigns/nope/wheel/spins")) == "campaign_not_found"


# --- GET me/prizes ---------------------------------------------------------------------------------------------


def test_my_prizes_lists_wins_with_shipment(wheel, member, member_api, *, fund, add_prize, make_user, won_phone):
    points = add_prize(PrizeKind.POINTS, name="100 积分", weight=10**9, stock=5)
    Prize.objects.filter(kind=PrizeKind.PHYSICAL).update(weight=1)
    fund(member.pk, 100)
    points_draw = spin_perform(wheel=wheel, user_id=member.pk, request_key="win-points").draw
    assert points_draw.prize_id == points.pk
    Prize.objects.exclude(kind=PrizeKind.NONE).update(weight=1)
    Prize.objects.filter(kind=PrizeKind.NONE).update(weight=10**9)
    lost = spin_perform(wheel=wheel, user_id=member.pk, request_key="lose").draw
    assert lost.prize.kind == PrizeKind.NONE
    other = make_user()
    fund(other.pk, 50)
    spin_perform(wheel=wheel, user_id=other.pk, request_key="x")

    response = member_api.get(MY_PRIZES)
    assert response.status_code == 200, response.content
    results = response.json()["results"]
    assert [r["id"] for r in results] == [points_draw.pk, won_phone.pk]  # newest first, no "thanks for playing"
    assert results[0]["shipment"] is None
    assert results[0]["campaign"] == {"slug": "carnival", "name": "积分狂欢"}
    assert results[0]["prize"]["kind"] == "points"
    phone_item = results[1]
    assert phone_item["prize"] == {"id": won_phone.prize_id, "kind": "physical", "name": "华为手机", "image": None}
    assert phone_item["code"] == ""
    shipment = phone_item["shipment"]
    assert shipment["status"] == "awaiting_address"
    assert shipment["status_label"]
    assert shipment["address"] is None
    assert shipment["claim_deadline"]
    assert (shipment["carrier"], shipment["tracking_number"], shipment["shipped_at"]) == ("", "", None)
    assert shipment["address_open"] is True

    first = member_api.get(MY_PRIZES, {"page_size": 1}).json()
    assert [r["id"] for r in first["results"]] == [points_draw.pk]
    second = member_api.get(first["next"]).json()
    assert [r["id"] for r in second["results"]] == [won_phone.pk]
    assert second["next"] is None


def test_my_prizes_needs_login(api):
    assert api.get(MY_PRIZES).status_code == 401


# --- POST me/prizes/<id>/address ------------------------------------------------------------------------------


def test_address_for_a_physical_prize_and_after_shipping(member, member_api, won_phone):
    response = member_api.post(address_url(won_phone.pk), ADDRESS, format="json", HTTP_IDEMPOTENCY_KEY="addr-1")
    assert response.status_code == 200, response.content
    shipment = response.json()["shipment"]
    assert response.json()["id"] == won_phone.pk
    assert shipment["status"] == "ready"
    assert shipment["address"] == {**ADDRESS, "phone": "+8613800138000"}
    shipment = shipment_of(won_phone)
    assert (shipment.status, shipment.recipient, shipment.city) == ("ready", "张三", "杭州市")
    saved = Address.objects.get(user=member)  # the new address went into the address book too
    assert saved.detail == "文三路 1 号"

    other = address_save(user=member, data={**ADDRESS, "recipient": "李四", "city": "宁波市"})
    switched = member_api.post(address_url(won_phone.pk), {"address_id": other.pk}, format="json")
    assert switched.status_code == 200, switched.content
    assert switched.json()["shipment"]["address"]["recipient"] == "李四"

    shipment_transition(
        shipment_id=shipment.pk, to=ShipmentStatus.SHIPPED, carrier="SF", tracking_number="SF1", now=timezone.now()
    )
    listed = member_api.get(MY_PRIZES).json()["results"][0]["shipment"]
    assert (listed["status"], listed["carrier"], listed["tracking_number"]) == ("shipped", "SF", "SF1")
    assert listed["address_open"] is False
    assert listed["shipped_at"]
    closed = member_api.post(address_url(won_phone.pk), {"address_id": saved.pk}, format="json")
    assert closed.status_code == 422
    assert error_code(closed) == "prize_address_closed"
    assert shipment_of(won_phone).recipient == "李四"


def test_address_for_someone_elses_or_a_non_physical_prize_is_not_found(
    wheel, member, member_api, *, make_user, fund, add_prize, won_phone
):
    stranger = make_user()
    stranger_api = APIClient()
    stranger_api.force_authenticate(stranger)
    response = stranger_api.post(address_url(won_phone.pk), ADDRESS, format="json")
    assert response.status_code == 404
    assert error_code(response) == "prize_not_found"
    assert not Address.objects.filter(user=stranger).exists()

    Prize.objects.filter(kind=PrizeKind.PHYSICAL).update(weight=1)
    add_prize(PrizeKind.POINTS, name="100 积分", weight=10**9, stock=5)
    fund(member.pk, 50)
    points_draw = spin_perform(wheel=wheel, user_id=member.pk, request_key="p").draw
    assert points_draw.prize.kind == PrizeKind.POINTS
    assert error_code(member_api.post(address_url(points_draw.pk), ADDRESS, format="json")) == "prize_not_found"
    huge = member_api.post(address_url(2**70), ADDRESS, format="json")
    assert huge.status_code == 404
    assert shipment_of(won_phone).status == ShipmentStatus.AWAITING_ADDRESS


def test_invalid_address_fields_are_400_with_details_and_change_nothing(member, member_api, won_phone):
    response = member_api.post(
        address_url(won_phone.pk), {**ADDRESS, "phone": "12345", "postal_code": "abc", "city": ""}, format="json"
    )
    assert response.status_code == 400
    error = response.json()["error"]
    assert error["code"] == "validation_error"
    assert {"phone", "postal_code", "city"} <= set(error["details"])
    shipment = shipment_of(won_phone)
    assert (shipment.status, shipment.recipient) == (ShipmentStatus.AWAITING_ADDRESS, "")
    assert not Address.objects.filter(user=member).exists()


def test_address_id_of_another_members_address_is_400(member, member_api, make_user, won_phone):
    someone = make_user()
    theirs = address_save(user=someone, data=ADDRESS)
    response = member_api.post(address_url(won_phone.pk), {"address_id": theirs.pk}, format="json")
    assert response.status_code == 400
    assert "address_id" in response.json()["error"]["details"]
    assert shipment_of(won_phone).status == ShipmentStatus.AWAITING_ADDRESS
    both = member_api.post(address_url(won_phone.pk), {"address_id": theirs.pk, **ADDRESS}, format="json")
    assert both.status_code == 400
    assert shipment_of(won_phone).recipient == ""


# --- GET fairness: tests/lottery/test_fairness_exposure.py (references, player keys, who sees what and when) ------
