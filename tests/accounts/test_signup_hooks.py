"""The sign-up hooks (accounts/signup.py): apps react to a new member without accounts naming them; the register
page shows what a hook says, the API returns it; a hook that fails never fails or undoes the sign-up."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from django.conf import settings
from django.db import connection
from django.test import Client

from accounts import signup
from accounts.models import User
from accounts.signup import SignupOutcome

pytestmark = pytest.mark.django_db

PASSWORD = "Str0ng-pass-2026"


@pytest.fixture
def hooks() -> Iterator[list[tuple[str, Any]]]:
    """Hooks registered by a test, removed afterwards (the apps' own stay)."""
    added: list[tuple[str, Any]] = []
    yield added
    for name, _hook in added:
        signup.unregister(name)


def add(hooks: list[tuple[str, Any]], name: str, hook: Any) -> None:
    signup.register(name, hook)
    hooks.append((name, hook))


def test_the_referrals_app_registers_its_hook() -> None:
    assert "referrals.invite" in signup.hooks()


def test_names_are_app_dot_thing() -> None:
    with pytest.raises(ValueError, match=r"<app>\.<thing>"):
        signup.register("Invite", lambda **_kw: None)


def test_a_failing_hook_is_logged_and_the_sign_up_stands(hooks, caplog) -> None:
    def broken(**_kwargs: Any) -> SignupOutcome:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1/0")  # a database error inside the hook's savepoint
        raise AssertionError("unreachable")

    seen: list[str] = []

    def after(*, user: User, request: Any, invite_code: str) -> SignupOutcome:
        seen.append(invite_code)
        return SignupOutcome(topic="test", ok=True, message="After the broken one")

    add(hooks, "tests.broken", broken)
    add(hooks, "tests.after", after)
    client = Client()
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    data = {"phone": "13800138100", "password": PASSWORD, "password2": PASSWORD, "invite_code": " ab12 "}
    response = client.post("/accounts/register/", data, follow=True)
    assert User.objects.filter(phone="+8613800138100").exists()
    assert response.redirect_chain[-1][0] == "/"
    assert b"After the broken one" in response.content
    assert seen == ["ab12"]  # the form's field, stripped
    assert "signup hook tests.broken failed" in caplog.text
    api = Client().post(
        "/api/v1/auth/register", {"email": "hooked@example.com", "password": PASSWORD}, content_type="application/json"
    )
    assert api.status_code == 201
    assert "invite" not in api.json()  # no hook spoke about an invite
