"""Expiry has one source of truth: the policy table, read by points_expiry_at() inside the posting's statement (no
per-process cache), written for campaigns only by campaign_save and, for the default, by the ledger admin."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from django.db import connection

from points import services
from points.models import ExpiryPolicy, Lot
from points.services import Award, System
from tests.conftest import staff_client
from tests.points.conftest import earn

pytestmark = pytest.mark.django_db
SHANGHAI = ZoneInfo("Asia/Shanghai")
POLICIES = "/admin/points/expirypolicy/"


def expiry_at(campaign_id: int | None, earned: datetime) -> datetime | None:
    with connection.cursor() as cursor:
        cursor.execute("SELECT points_expiry_at(%s, 'PTS', %s)", [campaign_id, earned])
        return cursor.fetchone()[0]


def test_a_changed_policy_applies_to_the_very_next_posting(member, now):
    """Another process (here: a plain UPDATE, as an operator's save in another worker would be) changes the policy;
    the next posting in this process follows it at once — no cache to go stale."""
    services.expiry_policy_set(campaign_id=7, rule="year_end")
    earn(member, 1, key="a", now=now, campaign_id=7)
    ExpiryPolicy.objects.filter(campaign_id=7).update(rule="month_end")
    earn(member, 1, key="b", now=now, campaign_id=7)
    ExpiryPolicy.objects.filter(campaign_id=7).update(rule="never")
    earn(member, 1, key="c", now=now, campaign_id=7)
    by_key = {lot.transfer.idempotency_key: lot.expires_at for lot in Lot.objects.select_related("transfer")}
    assert by_key == {
        "a": datetime(2027, 1, 1, tzinfo=SHANGHAI),
        "b": datetime(2026, 6, 1, tzinfo=SHANGHAI),
        "c": None,
    }


def test_campaign_policy_else_default_else_never(member, now):
    assert expiry_at(3, now) is None  # no policy at all
    services.expiry_policy_set(campaign_id=None, rule="month_end")
    assert expiry_at(3, now) == datetime(2026, 6, 1, tzinfo=SHANGHAI)
    assert expiry_at(None, now) == datetime(2026, 6, 1, tzinfo=SHANGHAI)
    services.expiry_policy_set(campaign_id=3, rule="days", days=2, tz="Europe/London")
    # Earned 10 May 05:00 in London; two whole days after that day: gone at midnight starting 13 May.
    assert expiry_at(3, now) == datetime(2026, 5, 13, tzinfo=ZoneInfo("Europe/London"))
    assert services.expiry_for(campaign_id=3, now=now) == expiry_at(3, now)


@pytest.mark.parametrize(
    ("zone", "rule", "days", "earned_local"),
    [
        ("America/Santiago", "days", 1, datetime(2026, 9, 4, 12, 0)),  # expires at a midnight that does not exist
        ("America/Santiago", "month_end", None, datetime(2026, 3, 31, 23, 30)),
        ("Europe/London", "days", 1, datetime(2026, 3, 28, 23, 59)),  # across the spring-forward night
        ("Asia/Shanghai", "year_end", None, datetime(2028, 2, 29, 8, 0)),
    ],
)
def test_the_sql_rule_matches_local_midnight_in_the_policy_timezone(member, zone, rule, days, earned_local):
    """Local midnight as Python's zoneinfo computes it (fold=0 in a gap) is what the SQL function returns."""
    services.expiry_policy_set(campaign_id=1, rule=rule, days=days, tz=zone)
    tz = ZoneInfo(zone)
    earned = earned_local.replace(tzinfo=tz)
    day = earned_local.date()
    if rule == "days":
        end = day + timedelta(days=days + 1)
    elif rule == "month_end":
        end = (day.replace(day=1) + timedelta(days=32)).replace(day=1)
    else:
        end = day.replace(year=day.year + 1, month=1, day=1)
    expected = datetime(end.year, end.month, end.day, tzinfo=tz)
    # (Compared in UTC: PEP 495 makes a time inside a gap unequal to everything in inter-zone comparisons.)
    assert expiry_at(1, earned).astimezone(UTC) == expected.astimezone(UTC)


def test_bulk_awards_follow_the_policy_read_in_their_transaction(member, make_user, now):
    other = make_user()
    services.expiry_policy_set(campaign_id=5, rule="month_end")
    services.transfers_post_batch(
        awards=[Award(key="a1", user_id=member.pk, amount=5), Award(key="a2", user_id=other.pk, amount=6)],
        source=System("issuance", 5),
        campaign_id=5,
        now=now,
    )
    assert set(Lot.objects.values_list("expires_at", flat=True)) == {datetime(2026, 6, 1, tzinfo=SHANGHAI)}


def test_an_explicit_expiry_or_a_system_credit_ignores_the_policy(member, now):
    services.expiry_policy_set(campaign_id=None, rule="month_end")
    explicit = now + timedelta(days=3)
    earn(member, 1, key="x", now=now, expires_at=explicit)
    earn(member, 1, key="n", now=now, expires_at=None)
    assert sorted(Lot.objects.values_list("expires_at", flat=True), key=str) == sorted([explicit, None], key=str)


def test_the_ledger_admin_edits_only_the_default_policy(make_user, now):
    client = staff_client(make_user(is_staff=True, is_superuser=True))
    campaign_policy = services.expiry_policy_set(campaign_id=9, rule="year_end")
    default = services.expiry_policy_set(campaign_id=None, rule="year_end")

    page = client.get(POLICIES).content.decode()
    assert "the campaign&#x27;s settings (campaign #9)" in page

    # A campaign's policy is shown, not editable: the campaign is where it is set.
    change = f"{POLICIES}{campaign_policy.pk}/change/"
    response = client.get(change)
    assert response.status_code == 200
    assert 'name="rule"' not in response.content.decode()
    response = client.post(change, {"rule": "never", "timezone": "Asia/Shanghai"})
    assert response.status_code == 403
    assert ExpiryPolicy.objects.get(pk=campaign_policy.pk).rule == "year_end"

    # The default policy is edited here; the form never offers a campaign.
    change = f"{POLICIES}{default.pk}/change/"
    assert 'name="campaign_id"' not in client.get(change).content.decode()
    response = client.post(change, {"rule": "days", "days": "30", "timezone": "Asia/Shanghai"})
    assert response.status_code == 302
    default.refresh_from_db()
    assert (default.rule, default.days, default.campaign_id) == ("days", 30, None)
    assert client.post(f"{POLICIES}{default.pk}/delete/", {"post": "yes"}).status_code == 403
    assert ExpiryPolicy.objects.count() == 2
