"""GET /api/v1/health (config/health.py): a liveness answer that touches neither the database nor Redis."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from django.test import Client

pytestmark = pytest.mark.django_db

URL = "/api/v1/health"
UNREACHABLE_REDIS = "redis://127.0.0.1:1/0"  # nothing listens on port 1: any cache or limiter call would fail


def test_health_answers_ok_without_a_database_query(django_assert_num_queries: Callable[..., Any]) -> None:
    with django_assert_num_queries(0):
        response = Client().get(URL)
    assert response.status_code == 200
    assert response["Content-Type"] == "application/json"
    assert response.json() == {"status": "ok"}
    assert response["Cache-Control"] == "no-store"


def test_health_answers_without_redis(settings: Any) -> None:
    settings.CACHES = {
        "default": {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": UNREACHABLE_REDIS}
    }
    settings.RATELIMIT_REDIS_URL = UNREACHABLE_REDIS
    from django.core.cache import cache

    with pytest.raises(Exception, match=r"(?i)connect"):  # the setup is real: the cache is unreachable
        cache.get("anything")
    response = Client().get(URL)
    assert response.status_code == 200
    assert response.json() == {"status": "ok"}


def test_health_ignores_credentials() -> None:
    """A stale or bogus token does not make a probe fail: no authentication runs."""
    response = Client(headers={"Authorization": "Bearer not-a-token"}).get(URL)
    assert response.status_code == 200


@pytest.mark.parametrize("method", ["post", "put", "patch", "delete"])
def test_other_methods_get_a_json_405(method: str) -> None:
    response = getattr(Client(), method)(URL)
    assert response.status_code == 405
    assert response["Allow"] == "GET, HEAD"
    assert response.json()["error"]["code"] == "method_not_allowed"
