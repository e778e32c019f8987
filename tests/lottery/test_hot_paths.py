"""The wheel's hot paths (issue 12): query ceilings for a spin and a wheel read with a real bearer token, and the
rules the spin enforces read from the rows, not from the configuration cache (changes made with
QuerySet.update() do not bump it, so the cache stays stale on purpose here)."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone
from rest_framework.test import APIClient

from accounts.models import User
from accounts.services import token_issue
from campaigns.models import Campaign
from lottery import selectors, services
from lottery.models import Draw, Prize, PrizeKind, Wheel
from points.selectors import balance_for

pytestmark = pytest.mark.django_db

WHEEL = "/api/v1/campaigns/carnival/wheel"
SPINS = WHEEL + "/spins"


def bearer(user: User) -> APIClient:
    """A client that signs in the way the app does: `Authorization: Bearer <access token>`."""
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {token_issue(user=user).access}")
    return client


def fresh_me(wheel: Wheel, user_id: int) -> dict[str, object]:
    """The `me` block as separate fresh reads give it: the spin status selector and the balance selector."""
    now = timezone.now()
    status = selectors.spin_status(wheel=Wheel.objects.get(pk=wheel.pk), user_id=user_id, now=now)
    return {
        "spins_today": status.spins_today,
        "spins_total": status.spins_total,
        "left_today": status.left_today,
        "left_total": status.left_total,
        "free_left_today": status.free_left_today,
        "next_cost": status.next_cost,
        "can_spin": status.can_spin,
        "spendable": balance_for(user_id=user_id, now=now).spendable,
    }


# --- Query ceilings: requests as in production (no surrounding transaction), auth included -----------------------


@pytest.mark.django_db(transaction=True)
def test_a_spin_takes_at_most_two_queries(wheel, add_prize, member, fund, django_assert_max_num_queries):
    add_prize(PrizeKind.POINTS, name="10 积分", weight=100, stock=1000, points_amount=10)
    add_prize(PrizeKind.PHYSICAL, name="保温杯", weight=100, stock=1000)
    fund(member.pk, 1000)
    client = bearer(member)
    assert client.post(SPINS, HTTP_IDEMPOTENCY_KEY="warm-up").status_code == 201
    for key in ("one", "two"):
        with django_assert_max_num_queries(2):
            response = client.post(SPINS, HTTP_IDEMPOTENCY_KEY=key)
        assert response.status_code == 201, response.content
        assert response.json()["replayed"] is False
    with django_assert_max_num_queries(2):
        replay = client.post(SPINS, HTTP_IDEMPOTENCY_KEY="two")
    assert replay.json()["replayed"] is True
    assert Draw.objects.count() == 3


@pytest.mark.django_db(transaction=True)
def test_a_wheel_read_takes_at_most_two_queries(
    wheel, add_prize, member, fund, *, monkeypatch, django_assert_max_num_queries
):
    add_prize(PrizeKind.POINTS, name="10 积分", weight=10**9, stock=1000, points_amount=10)
    fund(member.pk, 1000)
    client = bearer(member)
    assert client.post(SPINS).status_code == 201  # a winner for the ticker
    assert client.get(WHEEL).status_code == 200
    with django_assert_max_num_queries(2):
        response = client.get(WHEEL)
    assert response.status_code == 200
    assert len(response.json()["recent_winners"]) == 1
    # Even when the ticker's few seconds are up on every read, the read stays within the ceiling.
    monkeypatch.setattr(selectors, "WINNERS_SECONDS", 0.0)
    with django_assert_max_num_queries(2):
        assert client.get(WHEEL).status_code == 200


# --- Correctness never depends on the cache -----------------------------------------------------------------------


def test_a_spin_after_the_phase_is_refused_by_the_sql_even_with_a_stale_cached_campaign(wheel, member, fund):
    fund(member.pk, 200)
    client = bearer(member)
    early = client.post(SPINS, HTTP_IDEMPOTENCY_KEY="early")
    assert early.status_code == 201
    now = timezone.now()
    Campaign.objects.filter(pk=wheel.campaign_id).update(
        warmup_starts_at=now - timedelta(days=3),
        official_starts_at=now - timedelta(days=2),
        followup_starts_at=now - timedelta(hours=1),
    )
    cached = selectors.wheel_config_cached(slug="carnival", now=timezone.now()).campaign
    assert cached.followup_starts_at > timezone.now()  # the cache still says "official phase"

    late = client.post(SPINS, HTTP_IDEMPOTENCY_KEY="late")
    assert late.status_code == 422
    assert late.json()["error"]["code"] == "campaign_not_active"
    assert late.json()["error"]["details"]["phase"] == "followup"
    assert Draw.objects.count() == 1
    assert balance_for(user_id=member.pk).spendable == 150
    # A retry of the spin made in time still answers with its draw.
    retry = client.post(SPINS, HTTP_IDEMPOTENCY_KEY="early")
    assert retry.status_code == 201
    assert (retry.json()["id"], retry.json()["replayed"]) == (early.json()["id"], True)
    assert balance_for(user_id=member.pk).spendable == 150


def test_caps_and_cost_lowered_or_raised_with_update_are_enforced_from_the_row(wheel, member, fund):
    fund(member.pk, 500)
    client = bearer(member)
    assert client.post(SPINS).status_code == 201
    Wheel.objects.filter(pk=wheel.pk).update(cost_points=70)
    assert (
        selectors.wheel_config_cached(slug="carnival", now=timezone.now()).wheel.cost_points == 50
    )  # stale on purpose
    second = client.post(SPINS)
    assert second.status_code == 201
    assert second.json()["cost_points"] == 70
    assert second.json()["me"]["spendable"] == 500 - 50 - 70

    Wheel.objects.filter(pk=wheel.pk).update(daily_cap=2)
    assert selectors.wheel_config_cached(slug="carnival", now=timezone.now()).wheel.daily_cap is None
    refused = client.post(SPINS)
    assert refused.status_code == 422
    assert refused.json()["error"]["code"] == "spin_limit_reached"
    assert refused.json()["error"]["details"]["daily_cap"] == 2
    Wheel.objects.filter(pk=wheel.pk).update(daily_cap=None, total_cap=2)
    assert client.post(SPINS).json()["error"]["code"] == "spin_limit_reached"
    assert Draw.objects.count() == 2
    assert balance_for(user_id=member.pk).spendable == 500 - 50 - 70


def test_the_me_block_of_a_spin_equals_fresh_reads(wheel, add_prize, member, fund):
    wheel.free_spins_per_day, wheel.daily_cap, wheel.total_cap = 1, 3, 10
    wheel.save()
    add_prize(PrizeKind.POINTS, name="10 积分", weight=10**9, stock=1000, points_amount=10)
    Prize.objects.filter(wheel=wheel, kind=PrizeKind.NONE).update(weight=1)
    fund(member.pk, 120)
    client = bearer(member)
    seen = []
    for key in ("a", "b", "a"):  # a free spin, a paid one, then a retry of the first
        body = client.post(SPINS, HTTP_IDEMPOTENCY_KEY=key).json()
        assert body["me"] == fresh_me(wheel, member.pk)
        seen.append(body["me"])
    # Not trivially equal: the free spin, the cost and the prize points all show.
    assert seen[0] == {
        "spins_today": 1,
        "spins_total": 1,
        "left_today": 2,
        "left_total": 9,
        "free_left_today": 0,
        "next_cost": 50,
        "can_spin": True,
        "spendable": 130,
    }
    assert (seen[1]["spins_today"], seen[1]["left_today"], seen[1]["spendable"]) == (2, 1, 90)
    assert seen[2] == seen[1]
    assert client.get(WHEEL).json()["me"] == fresh_me(wheel, member.pk)


def test_the_remembered_parts_of_a_wheel_read_follow_language_stock_winners_and_configuration(
    wheel, add_prize, member, fund, monkeypatch
):
    """lottery.api keeps the rendered prizes and ticker per process; each read still shows the reader's language,
    the live stock (odds renormalised when a prize sells out), a new winner and a renamed prize."""
    cup = add_prize(PrizeKind.PHYSICAL, name="保温杯", name_en="Thermos", weight=100, stock=1)
    fund(member.pk, 1000)
    client = bearer(member)

    def read(language: str = "zh-hans") -> dict:
        response = client.get(WHEEL, HTTP_ACCEPT_LANGUAGE=language)
        assert response.status_code == 200, response.content
        return response.json()

    def prize(body: dict, pk: int) -> dict:
        return next(p for p in body["prizes"] if p["id"] == pk)

    first = read()
    assert (prize(first, cup.pk)["name"], prize(first, cup.pk)["probability"]) == ("保温杯", 0.5)
    assert first["recent_winners"] == []
    assert prize(read("en"), cup.pk)["name"] == "Thermos"
    assert prize(read(), cup.pk)["name"] == "保温杯"

    Prize.objects.filter(pk=cup.pk).update(stock_remaining=0)  # sold out (no configuration change)
    sold_out = prize(read(), cup.pk)
    assert (sold_out["in_stock"], sold_out["stock_remaining"], sold_out["probability"]) == (False, 0, 0)
    Prize.objects.filter(pk=cup.pk).update(stock_remaining=1)

    monkeypatch.setattr(selectors, "_winners", {})  # the ticker's list is reloaded on the next read
    Prize.objects.filter(pk=cup.pk).update(weight=10**9)  # the rows decide, not the cache: the cup wins
    assert client.post(SPINS).status_code == 201
    assert [w["prize"] for w in read("en")["recent_winners"]] == ["Thermos"]

    services.prize_save(prize=Prize.objects.get(pk=cup.pk), data={"name_en": "Vacuum flask"})
    assert prize(read("en"), cup.pk)["name"] == "Vacuum flask"
    assert [w["prize"] for w in read("en")["recent_winners"]] == ["Vacuum flask"]
