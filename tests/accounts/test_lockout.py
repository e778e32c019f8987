import pytest

pytestmark = pytest.mark.django_db


def test_api_login_locks_after_repeated_failures(api, member, settings):
    for _ in range(settings.AXES_FAILURE_LIMIT - 1):
        r = api.post("/api/v1/auth/token", {"username": member.email, "password": "wrong"}, format="json")
        assert r.status_code == 401
    r = api.post("/api/v1/auth/token", {"username": member.email, "password": "wrong"}, format="json")
    assert r.status_code == 429
    assert r.json()["error"]["code"] == "account_locked"
    # Even the right password is refused while locked.
    r = api.post("/api/v1/auth/token", {"username": member.email, "password": "Str0ng-pass-2026"}, format="json")
    assert r.status_code == 429


def test_page_login_locks_after_repeated_failures(client, member, settings):
    for _ in range(settings.AXES_FAILURE_LIMIT):
        client.post("/accounts/login/", {"username": member.email, "password": "wrong"})
    r = client.post("/accounts/login/", {"username": member.email, "password": "Str0ng-pass-2026"})
    assert r.status_code == 429
    assert "_auth_user_id" not in client.session
