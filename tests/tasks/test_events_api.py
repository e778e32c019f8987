import json
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest
from django.utils import timezone
from rest_framework.test import APIClient

from campaigns.services import campaign_save
from partners import services as partner_keys
from partners.signing import request_signature, signing_key_for
from points import selectors as ledger
from points.models import Transfer
from tasks import engine, events
from tasks.errors import EventRejection, EventStatus
from tasks.models import IngestedEvent, TaskDefinition, TaskProgress
from tests.tasks.conftest import OFFICIAL

pytestmark = pytest.mark.django_db


@pytest.fixture
def live_campaign(campaign):
    """The conftest campaign, shifted so that its official phase is running now (the API uses real time)."""
    now = timezone.now()
    campaign.warmup_starts_at = now - timedelta(days=10)
    campaign.official_starts_at = now - timedelta(days=5)
    campaign.followup_starts_at = now + timedelta(days=30)
    campaign.ends_at = now + timedelta(days=40)
    campaign.save()
    return campaign


@pytest.fixture
def key(live_campaign):
    return partner_keys.api_key_create(name="ERP", default_campaign=live_campaign)


@pytest.fixture
def task(live_campaign):
    return engine.task_definition_save(
        task=TaskDefinition(
            campaign=live_campaign, title="消费三次", event_type="purchase", target_count=3, reward_points=40
        )
    )


def post(body, key_secret, *, timestamp=None, signature=None, key_id=None):
    api_key, secret = key_secret
    raw = json.dumps(body).encode() if not isinstance(body, bytes) else body
    ts = str(int(timezone.now().timestamp()) if timestamp is None else timestamp)
    sig = signature or request_signature(signing_key=signing_key_for(secret), timestamp=ts, body=raw)
    return APIClient().post(
        "/api/v1/events",
        raw,
        content_type="application/json",
        HTTP_X_API_KEY=key_id or api_key.key_id,
        HTTP_X_TIMESTAMP=ts,
        HTTP_X_SIGNATURE=sig,
    )


def event(who, n, **overrides):
    data = {
        "event_id": f"ord-{n}",
        "member": who.phone,
        "type": "purchase",
        "amount": "120.00",
        "occurred_at": (timezone.now() - timedelta(hours=1)).isoformat(),
    }
    data.update(overrides)
    return data


def balance(user) -> int:
    return ledger.balance_for(user_id=user.pk, now=timezone.now() + timedelta(days=1)).spendable


def test_same_batch_twice_counts_once_and_pays_once(key, task, member):
    batch = {"events": [event(member, 1), event(member, 2), event(member, 3, member=member.email)]}
    first = post(batch, key)
    assert first.status_code == 200, first.json()
    assert [r["status"] for r in first.json()["results"]] == ["accepted"] * 3
    second = post(batch, key)
    assert second.status_code == 200
    assert second.json()["duplicates"] == 3
    assert {r["code"] for r in second.json()["results"]} == {EventRejection.DUPLICATE_EVENT}
    row = TaskProgress.objects.get(task=task, user=member)
    assert row.count == 3
    assert row.completed_at is not None
    assert IngestedEvent.objects.count() == 3
    assert Transfer.objects.filter(kind="task_reward").count() == 1
    assert balance(member) == 40


def test_single_event_object_and_external_id(key, task, member):
    member.external_id = "crm-77"
    member.save(update_fields=["external_id"])
    response = post(event(member, 9, member="crm-77"), key)
    assert response.json()["results"] == [{"event_id": "ord-9", "status": "accepted", "code": "", "message": ""}]
    assert TaskProgress.objects.get(task=task).count == 1


def test_mixed_batch_applies_valid_ones_once_with_per_event_results(key, task, member):
    future = (timezone.now() + timedelta(hours=2)).isoformat()
    before = (OFFICIAL - timedelta(days=400)).astimezone(UTC).isoformat()
    batch = {
        "events": [
            event(member, 1),
            event(member, 2, member="+8613000000000"),
            event(member, 3, type="teleport"),
            event(member, 4, amount="-5"),
            event(member, 5, amount="abc"),
            {"event_id": "ord-6", "type": "purchase"},
            event(member, 7, occurred_at=future),
            event(member, 8, occurred_at=before),
            event(member, 9, occurred_at="yesterday"),
            event(member, 1),  # same id again in the batch
            event(member, 10, type="feature_used:"),
            event(member, 11, occurred_at="2026-13-45T00:00:00+08:00"),
            event(member, 12, member="+86\x00139"),
        ]
    }
    response = post(batch, key)
    assert response.status_code == 200
    results = [(r["event_id"], r["status"], r["code"]) for r in response.json()["results"]]
    rejected = EventStatus.REJECTED
    assert results == [
        ("ord-1", EventStatus.ACCEPTED, ""),
        ("ord-2", rejected, EventRejection.UNKNOWN_MEMBER),
        ("ord-3", rejected, EventRejection.UNKNOWN_TYPE),
        ("ord-4", rejected, EventRejection.INVALID_AMOUNT),
        ("ord-5", rejected, EventRejection.INVALID_AMOUNT),
        ("ord-6", rejected, EventRejection.MISSING_FIELD),
        ("ord-7", rejected, EventRejection.OCCURRED_IN_FUTURE),
        ("ord-8", rejected, EventRejection.OUTSIDE_OFFICIAL_PHASE),
        ("ord-9", rejected, EventRejection.INVALID_OCCURRED_AT),
        ("ord-1", EventStatus.DUPLICATE, EventRejection.DUPLICATE_EVENT),
        ("ord-10", rejected, EventRejection.UNKNOWN_TYPE),
        ("ord-11", rejected, EventRejection.INVALID_OCCURRED_AT),
        ("ord-12", rejected, EventRejection.INVALID_EVENT),
    ]
    assert all(r["message"] for r in response.json()["results"] if r["status"] == "rejected")
    assert IngestedEvent.objects.count() == 1
    assert TaskProgress.objects.get(task=task).count == 1


def test_bad_signature(key, task, member):
    response = post({"events": [event(member, 1)]}, key, signature="0" * 64)
    assert response.status_code == 401
    assert response.json()["error"]["code"] == "invalid_signature"
    # a signature over a different body does not verify either
    _api_key, secret = key
    ts = str(int(timezone.now().timestamp()))
    other = request_signature(signing_key=signing_key_for(secret), timestamp=ts, body=b"{}")
    response = post({"events": [event(member, 1)]}, key, timestamp=ts, signature=other)
    assert response.json()["error"]["code"] == "invalid_signature"
    assert not IngestedEvent.objects.exists()


@pytest.mark.parametrize("skew", [-301, 301])
def test_stale_timestamp_either_way(key, task, member, skew):
    response = post({"events": [event(member, 1)]}, key, timestamp=int(timezone.now().timestamp()) + skew)
    assert response.status_code == 401
    assert response.json()["error"]["code"] == "stale_timestamp"
    assert not IngestedEvent.objects.exists()


def test_unknown_and_revoked_key(key, task, member):
    response = post({"events": [event(member, 1)]}, key, key_id="pk_nope")
    assert (response.status_code, response.json()["error"]["code"]) == (401, "invalid_api_key")
    api_key, _secret = key
    assert partner_keys.api_key_revoke(api_key=api_key)
    response = post({"events": [event(member, 1)]}, key)
    assert (response.status_code, response.json()["error"]["code"]) == (401, "invalid_api_key")
    assert not IngestedEvent.objects.exists()


def test_batch_limits(key, member):
    too_many = {"events": [event(member, i) for i in range(1001)]}
    response = post(too_many, key)
    assert (response.status_code, response.json()["error"]["code"]) == (413, "too_many_events")
    for body in ({"events": []}, [event(member, 1)], {}):
        response = post(body, key)
        assert (response.status_code, response.json()["error"]["code"]) == (400, "invalid_batch"), body
    response = post(b"{not json", key)
    assert response.status_code == 400
    assert not IngestedEvent.objects.exists()


def test_ingest_service_min_amount_and_time(campaign, member):
    """event_ingest with injected time (the campaign of conftest: official from 2026-03-01 Shanghai)."""
    api_key, _ = partner_keys.api_key_create(name="POS", default_campaign=campaign)
    engine.task_definition_save(
        task=TaskDefinition(
            campaign=campaign, title="大单", event_type="purchase", min_amount=Decimal("100"), reward_points=9
        )
    )
    now = datetime(2026, 3, 5, 4, 0, tzinfo=UTC)
    results = events.event_ingest(
        api_key=api_key,
        events=[
            {
                "event_id": "a",
                "member": member.phone,
                "type": "purchase",
                "amount": 50,
                "occurred_at": "2026-03-05T10:00:00+08:00",
            },
            {
                "event_id": "b",
                "member": member.phone,
                "type": "purchase",
                "amount": "100.00",
                "occurred_at": "2026-03-05T11:00:00+08:00",
            },
        ],
        now=now,
    )
    assert [r.status for r in results] == [EventStatus.ACCEPTED, EventStatus.ACCEPTED]
    assert TaskProgress.objects.get().count == 1  # the 50 purchase was recorded but did not qualify
    assert ledger.balance_for(user_id=member.pk, now=now).spendable == 9


def test_malformed_key_header_is_a_401_not_a_server_error(key):
    for bad in ("pk_\x00", "x" * 300, "ключ"):
        response = APIClient().post(
            "/api/v1/events", b"{}", content_type="application/json", HTTP_X_API_KEY=bad, HTTP_X_TIMESTAMP="1"
        )
        assert (response.status_code, response.json()["error"]["code"]) == (401, "invalid_api_key")


def _other_campaign(slug, like):
    return campaign_save(
        data={
            "name": slug,
            "slug": slug,
            "rules": "-",
            "is_published": True,
            "warmup_starts_at": like.warmup_starts_at,
            "official_starts_at": like.official_starts_at,
            "followup_starts_at": like.followup_starts_at,
            "ends_at": like.ends_at,
            "expiry_rule": "never",
        }
    )


def test_an_event_counts_for_the_campaign_it_names_if_the_key_may_report_for_it(key, task, member):
    """A key belongs to a partner system: its events name their campaign, or fall back to the default one."""
    api_key, _secret = key
    allowed = _other_campaign("spring", task.campaign)
    forbidden = _other_campaign("autumn", task.campaign)
    spring_task = engine.task_definition_save(
        task=TaskDefinition(campaign=allowed, title="春季消费", event_type="purchase", reward_points=7)
    )
    api_key.campaigns.add(allowed)
    batch = {
        "events": [
            event(member, 1),  # no campaign: the key's default
            event(member, 2, campaign="spring"),
            event(member, 3, campaign="autumn"),
            event(member, 4, campaign="no-such-campaign"),
            event(member, 5, campaign=17),
        ]
    }
    response = post(batch, key)
    assert response.status_code == 200, response.json()
    assert [(r["status"], r["code"]) for r in response.json()["results"]] == [
        (EventStatus.ACCEPTED, ""),
        (EventStatus.ACCEPTED, ""),
        (EventStatus.REJECTED, EventRejection.UNKNOWN_CAMPAIGN),
        (EventStatus.REJECTED, EventRejection.UNKNOWN_CAMPAIGN),
        (EventStatus.REJECTED, EventRejection.UNKNOWN_CAMPAIGN),
    ]
    assert TaskProgress.objects.get(task=task).count == 1
    assert TaskProgress.objects.get(task=spring_task).completed_at is not None
    assert dict(IngestedEvent.objects.values_list("event_id", "campaign__slug")) == {
        "ord-1": task.campaign.slug,
        "ord-2": "spring",
    }
    assert not TaskProgress.objects.filter(task__campaign=forbidden).exists()


def test_a_key_without_default_campaign_needs_the_campaign_in_each_event(live_campaign, task, member):
    api_key, secret = partner_keys.api_key_create(name="CRM", campaigns=[live_campaign])
    response = post({"events": [event(member, 1), event(member, 2, campaign=live_campaign.slug)]}, (api_key, secret))
    assert [(r["status"], r["code"]) for r in response.json()["results"]] == [
        (EventStatus.REJECTED, EventRejection.MISSING_FIELD),
        (EventStatus.ACCEPTED, ""),
    ]
    assert "campaign" in response.json()["results"][0]["message"]
    assert TaskProgress.objects.get(task=task).count == 1
