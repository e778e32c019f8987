"""Signed access tokens checked without a query, and revocation known to every process at once (ADR 0012:
accounts.services.token_authenticate, accounts/revocations.py, accounts/sql/accounts_token_revoked.sql).

The feed listens on its own connection and only hears committed transactions, so the tests that use it run with
`transactional_db` and start a feed of their own (settings for tests keep it off)."""

from __future__ import annotations

import base64
import time
from collections.abc import Iterator
from datetime import timedelta

import psycopg
import pytest
from django.db import connection
from django.utils import timezone
from rest_framework.test import APIClient

from accounts import services
from accounts.errors import InvalidToken
from accounts.models import ApiToken, User
from accounts.revocations import RevocationFeed, _conninfo
from accounts.services import token_authenticate, token_issue, token_revoke


@pytest.fixture
def feed(monkeypatch) -> Iterator[RevocationFeed]:
    feed = RevocationFeed(_conninfo(), poll_seconds=0.2)
    assert feed.wait_ready(10)
    monkeypatch.setattr(services, "revocation_feed", lambda: feed)
    yield feed
    feed.close()


def _refused_within(access: str, seconds: float = 5.0) -> float:
    """Seconds until the token is refused (the feed hears of the revocation on commit); fails after `seconds`."""
    start = time.monotonic()
    while time.monotonic() - start < seconds:
        try:
            token_authenticate(access=access)
        except InvalidToken:
            return time.monotonic() - start
        time.sleep(0.01)
    raise AssertionError(f"still accepted after {seconds} s")


def _tamper(access: str) -> str:
    message, _, signature = access.rpartition(".")
    raw = bytearray(base64.urlsafe_b64decode(signature + "=="))
    raw[0] ^= 1
    return f"{message}.{base64.urlsafe_b64encode(bytes(raw)).rstrip(b'=').decode()}"


@pytest.mark.django_db(transaction=True)
def test_a_signed_token_is_checked_without_a_query(member, feed, django_assert_num_queries):
    pair = token_issue(user=member)
    assert pair.access.startswith("pm1.")
    assert pair.access.split(".")[1:3] == [str(pair.token.pk), str(member.pk)]
    with django_assert_num_queries(0):
        token = token_authenticate(access=pair.access)
        assert (token.pk, token.user.pk, token.user.is_authenticated) == (pair.token.pk, member.pk, True)
    with django_assert_num_queries(1):  # a field not carried loads on first use
        assert token.user.is_staff is False


@pytest.mark.django_db(transaction=True)
def test_a_hot_read_with_a_signed_token_is_one_query(member, feed, django_assert_max_num_queries):
    api = APIClient()
    api.credentials(HTTP_AUTHORIZATION=f"Bearer {token_issue(user=member).access}")
    api.get("/api/v1/points/balance")
    with django_assert_max_num_queries(1):  # the balance; authentication costs nothing, even for a new token
        assert api.get("/api/v1/points/balance").status_code == 200
    api.credentials(HTTP_AUTHORIZATION=f"Bearer {token_issue(user=member).access}")
    with django_assert_max_num_queries(1):
        assert api.get("/api/v1/points/balance").status_code == 200


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize(
    "forge",
    [
        _tamper,
        lambda a: a.replace("pm1.", "pm1.1", 1),  # another token id under the same signature
        lambda a: a.rpartition(".")[0] + ".",  # no signature
        lambda a: a.rpartition(".")[0],  # one part short
        lambda a: "pm1." + "9" * 40 + ".1.1." + a.rpartition(".")[2],  # absurd numbers
        lambda a: a + "\x00",
        lambda a: "pm1.",
        lambda a: a + "é",  # not ASCII (the header is read as latin-1): no TypeError from compare_digest
        lambda a: a.replace("pm1.", "pm1.٣", 1),  # a digit of another script
        lambda a: a.replace("pm1.", "pm1.²", 1),
    ],
)
def test_a_forged_or_damaged_token_is_refused_without_a_query(member, feed, forge, django_assert_num_queries):
    pair = token_issue(user=member)
    with django_assert_num_queries(0), pytest.raises(InvalidToken):
        token_authenticate(access=forge(pair.access))


@pytest.mark.django_db(transaction=True)
def test_a_forged_token_over_http_is_401_not_500(member, feed):
    pair = token_issue(user=member)
    api = APIClient()
    for forged in (pair.access + "\u00e9", _tamper(pair.access), pair.access.replace("pm1.", "pm1.\u00b2", 1)):
        api.credentials(HTTP_AUTHORIZATION=f"Bearer {forged}".encode().decode("latin-1"))
        response = api.get("/api/v1/points/balance")
        assert response.status_code == 401, forged
        assert response.json()["error"]["code"] == "invalid_token"


@pytest.mark.django_db(transaction=True)
def test_tokens_signed_with_a_retired_key_still_work_while_it_is_a_fallback(member, feed, settings):
    pair = token_issue(user=member)
    settings.SECRET_KEY_FALLBACKS = [settings.SECRET_KEY]
    settings.SECRET_KEY = "a-new-secret-key-" + "x" * 40
    assert token_authenticate(access=pair.access).pk == pair.token.pk
    settings.SECRET_KEY_FALLBACKS = []
    with pytest.raises(InvalidToken):
        token_authenticate(access=pair.access)


@pytest.mark.django_db(transaction=True)
def test_an_expired_signed_token_is_refused(member, feed):
    now = timezone.now()
    pair = token_issue(user=member, now=now)
    token_authenticate(access=pair.access, now=pair.access_expires_at - timedelta(seconds=1))
    with pytest.raises(InvalidToken):
        token_authenticate(access=pair.access, now=pair.access_expires_at)


@pytest.mark.django_db(transaction=True)
def test_a_revocation_elsewhere_is_heard_on_commit(member, feed):
    """Revoked behind this process's back (another worker, the admin, SQL): refused as soon as it commits."""
    pair = token_issue(user=member)
    token_authenticate(access=pair.access)
    ApiToken.objects.filter(pk=pair.token.pk).update(revoked_at=timezone.now())
    assert _refused_within(pair.access) < 2


@pytest.mark.django_db(transaction=True)
def test_sign_out_is_true_in_this_process_at_once(member, feed):
    pair = token_issue(user=member)
    token_revoke(token=pair.token)
    with pytest.raises(InvalidToken):
        token_authenticate(access=pair.access)


@pytest.mark.django_db(transaction=True)
def test_a_deactivated_or_deleted_member_is_refused(feed, make_user):
    first, second = make_user(), make_user()
    one, two = token_issue(user=first), token_issue(user=second)
    User.objects.filter(pk=first.pk).update(is_active=False)
    second.delete()
    assert _refused_within(one.access) < 2
    assert _refused_within(two.access) < 2


@pytest.mark.django_db(transaction=True)
def test_a_revocation_in_a_rolled_back_transaction_changes_nothing(member, feed):
    from django.db import transaction

    pair = token_issue(user=member)

    def revoke_then_fail() -> None:
        with transaction.atomic():
            ApiToken.objects.filter(pk=pair.token.pk).update(revoked_at=timezone.now())
            raise RuntimeError("rolled back")

    with pytest.raises(RuntimeError):
        revoke_then_fail()
    time.sleep(0.5)
    assert token_authenticate(access=pair.access).pk == pair.token.pk


@pytest.mark.django_db(transaction=True)
def test_without_the_feed_signed_tokens_are_checked_in_the_database(member, monkeypatch, django_assert_num_queries):
    """The feed off, starting, or disconnected: the database decides (one query, then the 10-s memory of ADR 0007)."""
    monkeypatch.setattr(services, "revocation_feed", lambda: None)
    pair = token_issue(user=member)
    with django_assert_num_queries(1):
        token_authenticate(access=pair.access)
    ApiToken.objects.filter(pk=pair.token.pk).update(revoked_at=timezone.now())
    services.token_cache_forget()
    with pytest.raises(InvalidToken):
        token_authenticate(access=pair.access)


@pytest.mark.django_db(transaction=True)
def test_a_lost_feed_falls_back_to_the_database_and_reloads_what_it_missed(member, feed):
    pair = token_issue(user=member)
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = %s AND datname = %s",
            ["pointsmall token revocations", connection.settings_dict["NAME"]],
        )
    deadline = time.monotonic() + 5
    while feed.ready() and time.monotonic() < deadline:
        time.sleep(0.01)
    # While it reconnects, a revocation is made; the database answers meanwhile, and the reload includes it.
    ApiToken.objects.filter(pk=pair.token.pk).update(revoked_at=timezone.now())
    services.token_cache_forget()
    with pytest.raises(InvalidToken):
        token_authenticate(access=pair.access)
    assert feed.wait_ready(10)
    assert feed.revoked(pair.token.pk)


@pytest.mark.django_db(transaction=True)
def test_opaque_tokens_issued_before_still_work(member, feed):
    """Tokens issued before signed ones (random strings; only their digest stored) are checked in the database."""
    opaque = "legacy-" + "x" * 40
    token = ApiToken.objects.create(
        user=member,
        access_digest=services._digest(opaque),
        refresh_digest=services._digest("legacy-refresh"),
        access_expires_at=timezone.now() + timedelta(minutes=5),
        refresh_expires_at=timezone.now() + timedelta(days=1),
    )
    assert token_authenticate(access=opaque).pk == token.pk


def test_the_feed_connection_parameters_name_the_database():
    params = _conninfo()
    assert params["dbname"]
    assert params["application_name"] == "pointsmall token revocations"
    assert "password" not in params or isinstance(params["password"], str)
    assert psycopg.conninfo.make_conninfo(**params)
