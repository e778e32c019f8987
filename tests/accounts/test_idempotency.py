import pytest
from rest_framework.test import APIClient

from accounts.models import Address, IdempotencyRecord
from tests.conftest import run_concurrently

BODY = {"recipient": "李四", "phone": "13800138000", "province": "浙江省", "city": "杭州市", "detail": "西湖路 2 号"}


@pytest.mark.django_db
def test_same_key_same_body_replays_one_effect(member_api, member):
    first = member_api.post("/api/v1/me/addresses", BODY, format="json", HTTP_IDEMPOTENCY_KEY="k-1")
    second = member_api.post("/api/v1/me/addresses", BODY, format="json", HTTP_IDEMPOTENCY_KEY="k-1")
    assert first.status_code == second.status_code == 201
    assert first.json() == second.json()
    assert second["Idempotent-Replayed"] == "true"
    assert Address.objects.filter(user=member).count() == 1


@pytest.mark.django_db
def test_same_key_different_body_is_422(member_api, member):
    member_api.post("/api/v1/me/addresses", BODY, format="json", HTTP_IDEMPOTENCY_KEY="k-2")
    r = member_api.post("/api/v1/me/addresses", {**BODY, "city": "宁波市"}, format="json", HTTP_IDEMPOTENCY_KEY="k-2")
    assert r.status_code == 422
    assert r.json()["error"]["code"] == "idempotency_key_reused"
    assert Address.objects.filter(user=member).count() == 1


@pytest.mark.django_db
def test_keys_are_per_user(member_api, make_user):
    other = APIClient()
    other.force_authenticate(make_user())
    assert member_api.post("/api/v1/me/addresses", BODY, format="json", HTTP_IDEMPOTENCY_KEY="k").status_code == 201
    assert other.post("/api/v1/me/addresses", BODY, format="json", HTTP_IDEMPOTENCY_KEY="k").status_code == 201
    assert Address.objects.count() == 2


@pytest.mark.django_db
def test_bad_key_is_400(member_api, member):
    r = member_api.post("/api/v1/me/addresses", BODY, format="json", HTTP_IDEMPOTENCY_KEY="x" * 300)
    assert r.status_code == 400
    assert r.json()["error"]["code"] == "invalid_idempotency_key"
    assert not Address.objects.exists()


@pytest.mark.django_db
def test_validation_errors_are_replayed_not_rerun(member_api, member):
    bad = {**BODY, "phone": "1"}
    r1 = member_api.post("/api/v1/me/addresses", bad, format="json", HTTP_IDEMPOTENCY_KEY="k-3")
    r2 = member_api.post("/api/v1/me/addresses", bad, format="json", HTTP_IDEMPOTENCY_KEY="k-3")
    assert r1.status_code == r2.status_code == 400
    assert r1.json() == r2.json()


@pytest.mark.django_db(transaction=True)
def test_concurrent_same_key_has_one_effect(member):
    def post(_i: int) -> int:
        client = APIClient()
        client.force_authenticate(member)
        return client.post("/api/v1/me/addresses", BODY, format="json", HTTP_IDEMPOTENCY_KEY="race").status_code

    statuses = run_concurrently(20, post)
    assert all(isinstance(s, int) for s in statuses), statuses
    assert set(statuses) <= {201, 409}
    assert statuses.count(201) >= 1
    assert Address.objects.filter(user=member).count() == 1
    assert IdempotencyRecord.objects.get(user=member, key="race").state == "done"
