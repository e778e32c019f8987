"""config/api_middleware.py: bearer-authenticated API calls pass over the session, CSRF, auth, messages, audit and
lockout middleware; everything else keeps them."""

from __future__ import annotations

import pytest
from django.test import Client
from django.test.client import RequestFactory

from accounts.services import token_issue
from config.api_middleware import bearer_api_call

pytestmark = pytest.mark.django_db


def test_which_requests_count_as_bearer_api_calls():
    rf = RequestFactory()
    assert bearer_api_call(rf.get("/api/v1/points/balance", HTTP_AUTHORIZATION="Bearer abc"))
    assert bearer_api_call(rf.get("/api/v1/points/balance", HTTP_AUTHORIZATION="bearer abc"))
    assert not bearer_api_call(rf.get("/api/v1/points/balance"))
    assert not bearer_api_call(rf.get("/api/v1/points/balance", HTTP_AUTHORIZATION="Basic abc"))
    assert not bearer_api_call(rf.get("/points/", HTTP_AUTHORIZATION="Bearer abc"))  # pages keep everything


def test_a_bearer_call_gets_no_session_and_needs_no_csrf_token(member):
    client = Client(enforce_csrf_checks=True)
    access = token_issue(user=member).access
    r = client.get("/api/v1/points/balance", HTTP_AUTHORIZATION=f"Bearer {access}")
    assert r.status_code == 200
    assert "sessionid" not in r.cookies
    assert "csrftoken" not in r.cookies
    r = client.post(
        "/api/v1/me/addresses",
        {"recipient": "李四", "phone": "13800138000", "province": "浙江省", "city": "杭州市", "detail": "西湖路 2 号"},
        content_type="application/json",
        HTTP_AUTHORIZATION=f"Bearer {access}",
    )
    assert r.status_code == 201


def test_a_bad_bearer_token_is_401_and_a_session_call_still_needs_csrf(member):
    client = Client(enforce_csrf_checks=True)
    r = client.get("/api/v1/points/balance", HTTP_AUTHORIZATION="Bearer not-a-token")
    assert r.status_code == 401
    assert r.json()["error"]["code"] == "invalid_token"
    client.force_login(member, backend="accounts.backends.PhoneOrEmailBackend")
    assert client.get("/api/v1/points/balance").status_code == 200  # the session still works for the API
    r = client.post("/api/v1/me/addresses", {}, content_type="application/json")
    assert r.status_code == 403  # DRF's session authentication enforces CSRF
