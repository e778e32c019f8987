"""config.client_ip: X-Forwarded-For is believed only as far as our own trusted proxies wrote it, and every limit,
the axes lockout and DRF's throttles count by that one address."""

import pytest
from axes.models import AccessAttempt
from django.test import RequestFactory
from rest_framework.test import APIClient

from config.client_ip import client_ip
from config.ratelimit import ScopeThrottle

TOKEN_URL = "/api/v1/auth/token"


def _request(remote="10.0.0.1", xff=None):
    extra = {"REMOTE_ADDR": remote}
    if xff is not None:
        extra["HTTP_X_FORWARDED_FOR"] = xff
    return RequestFactory().get("/", **extra)


@pytest.mark.parametrize(
    ("trusted", "xff", "expected"),
    [
        (0, None, "10.0.0.1"),
        (0, "203.0.113.7", "10.0.0.1"),  # no trusted proxy: the header is the client's own claim
        (0, "203.0.113.7, 198.51.100.2", "10.0.0.1"),
        (1, "203.0.113.7", "203.0.113.7"),
        (1, "1.2.3.4, 203.0.113.7", "203.0.113.7"),  # our proxy appended the right-most entry
        (1, "1.2.3.4,203.0.113.7", "203.0.113.7"),
        (2, "1.2.3.4, 203.0.113.7, 198.51.100.2", "203.0.113.7"),  # the second from the right
        (2, "203.0.113.7", "10.0.0.1"),  # fewer entries than proxies: it did not come through them
        (1, None, "10.0.0.1"),
        (1, "", "10.0.0.1"),
        (1, "1.2.3.4, not-an-ip", "10.0.0.1"),
        (1, "203.0.113.7:51234", "203.0.113.7"),  # a port some proxies add
        (1, "[2001:db8::1]:443", "2001:db8::1"),
        (1, "2001:DB8:0:0::1", "2001:db8::1"),  # normalised: one address, one counter
    ],
)
def test_client_ip(settings, trusted, xff, expected):
    settings.TRUSTED_PROXY_COUNT = trusted
    assert client_ip(_request(xff=xff)) == expected


def test_drf_throttles_identify_by_client_ip(settings):
    settings.TRUSTED_PROXY_COUNT = 0
    assert ScopeThrottle().get_ident(_request(xff="203.0.113.7")) == "10.0.0.1"
    settings.TRUSTED_PROXY_COUNT = 1
    assert ScopeThrottle().get_ident(_request(xff="1.2.3.4, 203.0.113.7")) == "203.0.113.7"
    assert settings.REST_FRAMEWORK["NUM_PROXIES"] == 0  # the default TRUSTED_PROXY_COUNT, passed on to DRF
    assert settings.AXES_CLIENT_IP_CALLABLE == "config.client_ip.client_ip"


@pytest.mark.django_db
def test_spoofed_forwarded_for_does_not_escape_a_429(settings):
    settings.TRUSTED_PROXY_COUNT = 0
    settings.RATE_LIMITS = {**settings.RATE_LIMITS, "login": "2/min"}
    api = APIClient()
    for _ in range(2):
        assert api.post(TOKEN_URL, {}, format="json", HTTP_X_FORWARDED_FOR="198.51.100.1").status_code == 400
    refused = api.post(TOKEN_URL, {}, format="json", HTTP_X_FORWARDED_FOR="198.51.100.1")
    assert refused.status_code == 429
    for spoof in ("198.51.100.2", "203.0.113.9, 198.51.100.3", ""):
        again = api.post(TOKEN_URL, {}, format="json", HTTP_X_FORWARDED_FOR=spoof)
        assert again.status_code == 429, spoof
        assert again.json()["error"]["code"] == "rate_limited"


@pytest.mark.django_db
def test_behind_one_trusted_proxy_the_right_most_entry_is_the_client(settings):
    settings.TRUSTED_PROXY_COUNT = 1
    settings.RATE_LIMITS = {**settings.RATE_LIMITS, "login": "2/min"}
    api = APIClient()
    for claimed in ("1.1.1.1", "2.2.2.2"):  # what the client claims on the left changes nothing...
        xff = f"{claimed}, 198.51.100.1"
        assert api.post(TOKEN_URL, {}, format="json", HTTP_X_FORWARDED_FOR=xff).status_code == 400
    assert api.post(TOKEN_URL, {}, format="json", HTTP_X_FORWARDED_FOR="3.3.3.3, 198.51.100.1").status_code == 429
    # ...the address our proxy saw is another client with its own budget.
    assert api.post(TOKEN_URL, {}, format="json", HTTP_X_FORWARDED_FOR="3.3.3.3, 198.51.100.2").status_code == 400


@pytest.mark.django_db
@pytest.mark.parametrize(("trusted", "recorded"), [(0, "127.0.0.1"), (1, "198.51.100.1")])
def test_axes_records_failures_against_the_client_ip(settings, member, trusted, recorded):
    settings.TRUSTED_PROXY_COUNT = trusted
    r = APIClient().post(
        TOKEN_URL,
        {"username": member.email, "password": "wrong"},
        format="json",
        HTTP_X_FORWARDED_FOR="203.0.113.9, 198.51.100.1",
    )
    assert r.status_code == 401
    assert list(AccessAttempt.objects.values_list("ip_address", flat=True)) == [recorded]
