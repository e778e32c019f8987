"""Refresh-token families (OAuth 2.0 Security BCP): a refresh token works once; presenting a rotated one again
revokes every token of its family and is logged on `security`; of concurrent refreshes with one token exactly one
wins and the losers' reuse revokes the family, the winner's new pair included."""

import logging
from datetime import UTC, datetime, timedelta

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor
from django.utils import timezone
from rest_framework.test import APIClient

from accounts import services
from accounts.errors import InvalidToken
from accounts.models import ApiToken
from accounts.services import token_authenticate, token_issue, token_refresh, token_revoke
from tests.conftest import run_concurrently

T0 = datetime(2026, 5, 1, 12, 0, tzinfo=UTC)


def _live(family):
    return ApiToken.objects.filter(family=family, revoked_at__isnull=True).count()


def _reuse_lines(caplog):
    return [
        r.security for r in caplog.records if r.name == "security" and r.security["event"] == "refresh_token_reused"
    ]


@pytest.mark.django_db
def test_rotation_stays_in_the_family_and_marks_the_old_pair_rotated(member):
    first = token_issue(user=member, name="phone", now=T0)
    second = token_refresh(refresh=first.refresh, now=T0 + timedelta(minutes=5))
    assert second.token.family == first.token.family
    assert second.token.name == "phone"
    first.token.refresh_from_db()
    assert first.token.revoked_at == first.token.rotated_at == T0 + timedelta(minutes=5)
    assert _live(first.token.family) == 1
    assert token_issue(user=member, now=T0).token.family != first.token.family  # a new sign-in, a new family


@pytest.mark.django_db
def test_reusing_a_rotated_refresh_token_revokes_the_family_and_logs_it(member, make_user, caplog):
    a = token_issue(user=member, now=T0)
    b = token_refresh(refresh=a.refresh, now=T0 + timedelta(minutes=1))
    c = token_refresh(refresh=b.refresh, now=T0 + timedelta(minutes=2))
    other_device = token_issue(user=member, now=T0)
    someone_else = token_issue(user=make_user(), now=T0)

    with caplog.at_level(logging.WARNING, logger="security"), pytest.raises(InvalidToken):
        token_refresh(refresh=a.refresh, now=T0 + timedelta(minutes=3), client_ip="203.0.113.7")

    assert _live(a.token.family) == 0
    with pytest.raises(InvalidToken):
        token_authenticate(access=c.access, now=T0 + timedelta(minutes=3))
    with pytest.raises(InvalidToken):
        token_refresh(refresh=c.refresh, now=T0 + timedelta(minutes=4))
    # Other families are untouched.
    assert token_authenticate(access=other_device.access, now=T0 + timedelta(minutes=3)).pk == other_device.token.pk
    assert token_authenticate(access=someone_else.access, now=T0 + timedelta(minutes=3)).pk == someone_else.token.pk
    assert _reuse_lines(caplog)[0] == {
        "event": "refresh_token_reused",
        "ip": "203.0.113.7",
        "user_id": member.pk,
        "token_id": a.token.pk,
        "family": a.token.family,
        "revoked": 1,  # c, the only live pair of the family
    }


@pytest.mark.django_db
def test_a_refresh_token_revoked_by_logout_or_expired_is_refused_without_revoking_anything(member, caplog):
    logged_out = token_issue(user=member, now=T0)
    token_revoke(token=logged_out.token)
    old = token_issue(user=member, now=T0 - timedelta(days=40))  # refresh expired after 30 days
    with caplog.at_level(logging.WARNING, logger="security"):
        for refresh in (logged_out.refresh, old.refresh, "never-issued"):
            with pytest.raises(InvalidToken):
                token_refresh(refresh=refresh, now=T0)
    assert _reuse_lines(caplog) == []
    assert _live(old.token.family) == 1  # expired, not revoked: nothing to punish


@pytest.mark.django_db
def test_deactivating_a_member_revokes_their_tokens_and_a_refresh_rotates_nothing(member):
    """Deactivation revokes the member's live tokens in the database (accounts/sql/accounts_token_revoked.sql, so
    every process hears of it: ADR 0012); a reactivated member signs in again."""
    pair = token_issue(user=member, now=T0)
    member.is_active = False
    member.save(update_fields=["is_active"])
    pair.token.refresh_from_db()
    assert pair.token.revoked_at is not None
    with pytest.raises(InvalidToken):
        token_refresh(refresh=pair.refresh, now=T0)
    pair.token.refresh_from_db()
    assert pair.token.rotated_at is None
    assert not ApiToken.objects.filter(user=member, revoked_at__isnull=True).exists()


@pytest.mark.django_db(transaction=True)
def test_concurrent_refreshes_one_wins_and_the_losers_reuse_revokes_the_family(member, caplog):
    pair = token_issue(user=member, now=T0)
    with caplog.at_level(logging.WARNING, logger="security"):
        results = run_concurrently(8, lambda i: token_refresh(refresh=pair.refresh, now=T0 + timedelta(minutes=1)))
    winners = [r for r in results if not isinstance(r, BaseException)]
    assert len(winners) == 1
    assert all(isinstance(r, InvalidToken) for r in results if r is not winners[0])
    assert ApiToken.objects.filter(family=pair.token.family).count() == 2  # one rotation happened, only one
    # The losers presented a rotated token: reuse. The winner's new pair is revoked with the family.
    assert _live(pair.token.family) == 0
    with pytest.raises(InvalidToken):
        token_authenticate(access=winners[0].access, now=T0 + timedelta(minutes=1))
    lines = _reuse_lines(caplog)
    assert len(lines) == 7
    assert sum(line["revoked"] for line in lines) == 1


@pytest.mark.django_db
def test_api_reuse_answers_401_and_kills_the_rotated_pair(api, member, caplog):
    r = api.post("/api/v1/auth/token", {"username": member.email, "password": "Str0ng-pass-2026"}, format="json")
    first = r.json()
    second = api.post("/api/v1/auth/token/refresh", {"refresh": first["refresh"]}, format="json").json()
    with caplog.at_level(logging.WARNING, logger="security"):
        reused = api.post(
            "/api/v1/auth/token/refresh", {"refresh": first["refresh"]}, format="json", REMOTE_ADDR="198.51.100.4"
        )
    assert reused.status_code == 401
    assert reused.json()["error"]["code"] == "invalid_token"
    assert _reuse_lines(caplog)[0]["ip"] == "198.51.100.4"
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {second['access']}")
    assert client.get("/api/v1/me").status_code == 401


@pytest.mark.django_db(transaction=True)
def test_migration_gives_each_existing_token_its_own_family(member):
    before, after = [("accounts", "0002_staff_groups")], [("accounts", "0003_token_families")]
    executor = MigrationExecutor(connection)
    try:
        executor.migrate(before)
        old_apps = MigrationExecutor(connection).loader.project_state(before).apps
        old_token = old_apps.get_model("accounts", "ApiToken")
        for n in range(3):
            old_token.objects.create(
                user_id=member.pk,
                access_digest=f"a{n}",
                refresh_digest=f"r{n}",
                access_expires_at=T0,
                refresh_expires_at=T0,
            )
        MigrationExecutor(connection).migrate(after)
    finally:
        executor = MigrationExecutor(connection)
        executor.migrate(executor.loader.graph.leaf_nodes())
    families = list(ApiToken.objects.filter(access_digest__in=["a0", "a1", "a2"]).values_list("family", flat=True))
    assert len(families) == 3
    assert None not in families
    assert len(set(families)) == 3  # never one shared default: reusing one old token revokes only itself


# --- The verified-token cache (docs/adr/0007-bearer-token-cache.md) ---------------------------------------------


@pytest.mark.django_db
def test_a_verified_token_is_answered_without_a_query_within_the_bound(member, django_assert_num_queries, settings):
    settings.API_TOKEN_CACHE_SECONDS = 10
    now = timezone.now()
    pair = token_issue(user=member, now=now)
    with django_assert_num_queries(1):
        assert token_authenticate(access=pair.access, now=now).user.pk == member.pk
    with django_assert_num_queries(0):
        cached = token_authenticate(access=pair.access, now=now + timedelta(seconds=9))
        assert (cached.pk, cached.user.pk, cached.user.is_authenticated) == (pair.token.pk, member.pk, True)
    with django_assert_num_queries(1):  # a field not kept loads on first use
        assert cached.user.phone == member.phone
    # Revoked behind this process's back (another worker, the database): still trusted until the bound ...
    ApiToken.objects.filter(pk=pair.token.pk).update(revoked_at=now)
    token_authenticate(access=pair.access, now=now + timedelta(seconds=9))
    # ... and refused from the bound on.
    with pytest.raises(InvalidToken):
        token_authenticate(access=pair.access, now=now + timedelta(seconds=10))


@pytest.mark.django_db
def test_a_deactivated_member_is_refused_within_the_bound(member, settings):
    settings.API_TOKEN_CACHE_SECONDS = 10
    now = timezone.now()
    pair = token_issue(user=member, now=now)
    token_authenticate(access=pair.access, now=now)
    member.is_active = False
    member.save(update_fields=["is_active"])
    with pytest.raises(InvalidToken):
        token_authenticate(access=pair.access, now=now + timedelta(seconds=10, milliseconds=1))


@pytest.mark.django_db
def test_a_revocation_in_this_process_takes_effect_at_once(member, api):
    pair = token_issue(user=member)
    api.credentials(HTTP_AUTHORIZATION=f"Bearer {pair.access}")
    assert api.get("/api/v1/points/balance").status_code == 200
    assert api.post("/api/v1/auth/token/revoke", {}, format="json").status_code == 204
    assert api.get("/api/v1/points/balance").status_code == 401


@pytest.mark.django_db
def test_an_access_token_past_its_expiry_is_refused_even_when_cached(member, settings):
    settings.API_TOKEN_CACHE_SECONDS = 10
    now = timezone.now()
    pair = token_issue(user=member, now=now)
    token_authenticate(access=pair.access, now=pair.access_expires_at - timedelta(seconds=5))
    with pytest.raises(InvalidToken):
        token_authenticate(access=pair.access, now=now + services.ACCESS_TTL)
