from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any

import pytest
from django.conf import settings
from django.contrib.auth.models import Group
from django.core.cache import cache
from django.db import connections
from django.test import Client
from rest_framework.test import APIClient

from accounts.models import User
from accounts.services import staff_groups_sync, token_cache_forget, user_create
from config.config_cache import config_cache_forget

pytest_plugins = ["tests.clock"]  # PM_TEST_CLOCK=<ISO instant> runs the session with the clock moved (tests/clock.py)


@pytest.fixture(autouse=True)
def _clear_cache() -> None:
    cache.clear()
    token_cache_forget()  # the process's verified bearer tokens (accounts.services.token_authenticate)
    config_cache_forget()  # the process's configuration entries (config/config_cache.py)


@pytest.fixture(autouse=True)
def _reference_data(request: pytest.FixtureRequest) -> None:
    """Transactional tests flush every table, including rows our data migrations seed; put them back."""
    uses_db = request.node.get_closest_marker("django_db") or {"db", "transactional_db", "live_server"} & set(
        request.fixturenames
    )
    if not uses_db:
        return
    from points.models import Asset

    Asset.objects.get_or_create(code="PTS", defaults={"name": "Points", "minor_units": 0})
    Asset.objects.get_or_create(code="CNY", defaults={"name": "Renminbi (fen)", "minor_units": 2})


@pytest.fixture
def make_user(db: Any) -> Callable[..., User]:
    counter = iter(range(1, 10**6))

    def factory(**kwargs: Any) -> User:
        n = next(counter)
        kwargs.setdefault("phone", f"+86139{n:08d}")
        kwargs.setdefault("email", f"member{n}@example.com")
        kwargs.setdefault("password", "Str0ng-pass-2026")
        return user_create(**kwargs)

    return factory


@pytest.fixture
def member(make_user: Callable[..., User]) -> User:
    return make_user(display_name="Xiao Ming")


@pytest.fixture
def api() -> APIClient:
    return APIClient()


@pytest.fixture
def member_api(member: User) -> APIClient:
    client = APIClient()
    client.force_authenticate(member)
    return client


def staff_client(user: User) -> Client:
    """A Django test client logged in as `user`, with the admin in English."""
    client = Client()
    client.force_login(user, backend="accounts.backends.PhoneOrEmailBackend")
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    return client


@pytest.fixture
def staff(make_user: Callable[..., User]) -> Callable[[str], tuple[User, Client]]:
    """staff("operator") → (a staff user in that group, their logged-in client). Groups are synced first:
    transactional tests flush them."""
    staff_groups_sync()

    def make(group: str) -> tuple[User, Client]:
        user = make_user(is_staff=True, display_name=f"{group} user")
        user.groups.add(Group.objects.get(name=group))
        return user, staff_client(user)

    return make


@pytest.fixture
def operator(staff: Callable[[str], tuple[User, Client]]) -> tuple[User, Client]:
    return staff("operator")


@pytest.fixture
def analyst(staff: Callable[[str], tuple[User, Client]]) -> tuple[User, Client]:
    return staff("analyst")


def run_concurrently(n: int, fn: Callable[[int], Any], *, timeout: float = 120) -> list[Any]:
    """Run fn(i) in n threads released together by a barrier; return results (exceptions as values)."""
    barrier = threading.Barrier(n)
    results: list[Any] = [None] * n

    def worker(i: int) -> None:
        try:
            barrier.wait()
            results[i] = fn(i)
        except BaseException as exc:
            results[i] = exc
        finally:
            connections.close_all()

    threads = [threading.Thread(target=worker, args=(i,)) for i in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout)
    assert not any(t.is_alive() for t in threads), "a concurrent worker hung"
    return results
