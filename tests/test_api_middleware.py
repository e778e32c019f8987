"""config/api_middleware.py: bearer-authenticated API calls pass over the session, CSRF, auth, messages, audit and
lockout middleware; everything else keeps them. An API call leaves nothing for the garbage collector, and gunicorn's
workers freeze the loaded app (gunicorn.conf.py)."""

from __future__ import annotations

import gc
import runpy
from pathlib import Path

import pytest
from django.test import Client
from django.test.client import RequestFactory
from rest_framework.request import Request
from rest_framework.views import APIView

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


def _left_in_cycles(access: str) -> list[object]:
    """The DRF views and requests that one bearer call leaves for the cyclic garbage collector (not freed when its
    response is closed)."""
    gc.collect()
    gc.set_debug(gc.DEBUG_SAVEALL)  # what a collection frees is kept in gc.garbage, to be looked at
    try:
        response = Client().get("/api/v1/points/balance", HTTP_AUTHORIZATION=f"Bearer {access}")
        assert response.status_code == 200
        del response
        gc.collect()
        return [o for o in gc.garbage if issubclass(type(o), (APIView, Request))]
    finally:
        gc.set_debug(0)
        gc.garbage.clear()


def test_an_api_call_leaves_no_reference_cycles(member, settings):
    """config.api_middleware.ApiCycleBreakMiddleware: once the response is closed, the call's view and DRF request
    are freed by reference counting, not left for a full collection (which stopped a worker for ~100 ms)."""
    access = token_issue(user=member).access
    assert _left_in_cycles(access) == []
    # Without it, DRF's own links keep them: the check above can fail.
    settings.MIDDLEWARE = [m for m in settings.MIDDLEWARE if m != "config.api_middleware.ApiCycleBreakMiddleware"]
    left = _left_in_cycles(access)
    assert {type(o).__name__ for o in left} == {"BalanceApi", "Request"}


def test_gunicorn_workers_freeze_the_loaded_app():
    """gunicorn.conf.py: a worker's post_worker_init imports the URLconf and freezes what exists then, so full
    collections later walk only what was made since."""
    conf = runpy.run_path(str(Path(__file__).resolve().parent.parent / "gunicorn.conf.py"))
    assert gc.get_freeze_count() == 0
    try:
        conf["post_worker_init"](object())
        assert gc.get_freeze_count() > 10_000
    finally:
        gc.unfreeze()
