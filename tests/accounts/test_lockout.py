import logging
from datetime import timedelta

import pytest
from django.utils import timezone

from accounts.backends import account_locked_for, axes_username
from tests.clock import shifted

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


# --- Per account, whichever identifier was typed (config/client_ip.py, accounts/backends.py) -----------------


def _fail(client, username, *, api=False, ip="127.0.0.1"):
    if api:
        return client.post(
            "/api/v1/auth/token", {"username": username, "password": "wrong"}, format="json", REMOTE_ADDR=ip
        )
    return client.post("/accounts/login/", {"username": username, "password": "wrong"}, REMOTE_ADDR=ip)


def test_api_account_locked_by_its_email_is_locked_for_its_phone(api, member, settings):
    for _ in range(settings.AXES_FAILURE_LIMIT):
        _fail(api, member.email.upper(), api=True)
    local_phone = member.phone.removeprefix("+86")
    r = api.post("/api/v1/auth/token", {"username": local_phone, "password": "Str0ng-pass-2026"}, format="json")
    assert r.status_code == 429
    assert r.json()["error"]["code"] == "account_locked"


def test_page_account_locked_by_its_email_is_locked_for_its_phone(client, member, settings):
    for _ in range(settings.AXES_FAILURE_LIMIT):
        _fail(client, member.email)
    r = client.post("/accounts/login/", {"username": member.phone, "password": "Str0ng-pass-2026"})
    assert r.status_code == 429
    assert "_auth_user_id" not in client.session


def test_failures_from_many_ips_lock_the_account_everywhere(api, client, member, settings, caplog):
    settings.LOGIN_ACCOUNT_FAILURE_LIMIT = 3
    with caplog.at_level(logging.WARNING, logger="security"):
        for n, username in enumerate((member.email, member.phone, member.email)):
            _fail(api, username, api=True, ip=f"198.51.100.{n + 1}")  # axes (per account + IP) never trips
    [line] = [r.security for r in caplog.records if r.name == "security"]
    assert line["event"] == "login_account_locked"
    assert (line["account"], line["failures"], line["ip"]) == (member.email, 3, "198.51.100.3")

    right = {"username": member.phone, "password": "Str0ng-pass-2026"}
    r = api.post("/api/v1/auth/token", right, format="json", REMOTE_ADDR="203.0.113.50")
    assert (r.status_code, r.json()["error"]["code"]) == (429, "account_locked")
    page = client.post("/accounts/login/", right, REMOTE_ADDR="203.0.113.51")
    assert page.status_code == 429
    assert "_auth_user_id" not in client.session

    # After the cool-off the right password works again (and the counter starts afresh).
    with shifted(timezone.now() + settings.AXES_COOLOFF_TIME + timedelta(seconds=1)):
        r = api.post("/api/v1/auth/token", right, format="json", REMOTE_ADDR="203.0.113.52")
        assert r.status_code == 200, r.content
        assert account_locked_for(member.email) == 0


def test_unknown_identifiers_lock_the_same_way(api, settings):
    """A lockout reveals nothing: an identifier no account has is counted and locked like a real one."""
    settings.LOGIN_ACCOUNT_FAILURE_LIMIT = 2
    for n in range(2):
        assert _fail(api, "Nobody@Example.com", api=True, ip=f"198.51.100.{n + 1}").status_code in {401, 429}
    r = _fail(api, "nobody@example.com", api=True, ip="198.51.100.9")
    assert (r.status_code, r.json()["error"]["code"]) == (429, "account_locked")


def test_a_success_clears_the_account_counter(api, member, settings):
    settings.LOGIN_ACCOUNT_FAILURE_LIMIT = 3
    for ip in ("198.51.100.1", "198.51.100.2"):
        _fail(api, member.email, api=True, ip=ip)
    right = {"username": member.email, "password": "Str0ng-pass-2026"}
    assert api.post("/api/v1/auth/token", right, format="json", REMOTE_ADDR="198.51.100.3").status_code == 200
    for ip in ("198.51.100.4", "198.51.100.5"):
        assert _fail(api, member.email, api=True, ip=ip).status_code == 401
    assert api.post("/api/v1/auth/token", right, format="json", REMOTE_ADDR="198.51.100.6").status_code == 200


def test_axes_counts_the_account_not_the_spelling(member, rf):
    request = rf.post("/accounts/login/")
    spellings = [member.email, member.email.upper(), member.phone, member.phone.removeprefix("+86")]
    assert {axes_username(request, {"username": s}) for s in spellings} == {member.email}
    assert axes_username(request, {"username": " Someone@Example.COM "}) == "someone@example.com"
