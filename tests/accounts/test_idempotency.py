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


def _address_save_then(failure: Exception):
    """A stand-in for accounts.services.address_save that saves the address and then fails with `failure`."""
    from accounts import services

    real = services.address_save

    def save(**kwargs):
        real(**kwargs)
        raise failure

    return save


@pytest.mark.django_db
def test_a_server_error_keeps_neither_the_effect_nor_the_key(member_api, member, monkeypatch):
    """The key and the effect are one transaction: a 500 rolls both back, so a retry runs again (never stuck)."""
    from accounts import api

    monkeypatch.setattr(api.services, "address_save", _address_save_then(RuntimeError("boom")))
    r = member_api.post("/api/v1/me/addresses", BODY, format="json", HTTP_IDEMPOTENCY_KEY="k-500")
    assert r.status_code == 500
    assert not Address.objects.filter(user=member).exists()
    assert not IdempotencyRecord.objects.filter(user=member, key="k-500").exists()
    monkeypatch.undo()
    again = member_api.post("/api/v1/me/addresses", BODY, format="json", HTTP_IDEMPOTENCY_KEY="k-500")
    assert again.status_code == 201
    assert "Idempotent-Replayed" not in again
    assert Address.objects.filter(user=member).count() == 1


@pytest.mark.django_db
def test_a_lost_database_connection_is_503_retryable_and_leaves_no_key_in_flight(member_api, member, monkeypatch):
    from django.db import OperationalError

    from accounts import api

    monkeypatch.setattr(api.services, "address_save", _address_save_then(OperationalError("server closed")))
    r = member_api.post("/api/v1/me/addresses", BODY, format="json", HTTP_IDEMPOTENCY_KEY="k-503")
    assert r.status_code == 503
    assert r.json()["error"]["code"] == "service_unavailable"
    assert int(r["Retry-After"]) > 0
    assert not Address.objects.filter(user=member).exists()
    assert not IdempotencyRecord.objects.filter(user=member, key="k-503").exists()


@pytest.mark.django_db
def test_a_refusal_keeps_its_answer_but_not_its_effects(member_api, member, monkeypatch):
    """A 4xx raised after the effect began: the effect rolls back to the savepoint, the answer is stored."""
    from accounts import api
    from config.errors import Conflict

    monkeypatch.setattr(api.services, "address_save", _address_save_then(Conflict()))
    r1 = member_api.post("/api/v1/me/addresses", BODY, format="json", HTTP_IDEMPOTENCY_KEY="k-409")
    assert r1.status_code == 409
    assert not Address.objects.filter(user=member).exists()
    monkeypatch.undo()
    r2 = member_api.post("/api/v1/me/addresses", BODY, format="json", HTTP_IDEMPOTENCY_KEY="k-409")
    assert (r2.status_code, r2.json(), r2["Idempotent-Replayed"]) == (409, r1.json(), "true")
    assert not Address.objects.filter(user=member).exists()
