"""Multiplier cards won on the wheel multiply points earned from check-ins and tasks while active."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from campaigns.kinds import BOOST
from campaigns.selectors import multiplier_cards_active
from campaigns.services import campaign_points_grant, multiplier_card_issue
from lottery.kinds import PRIZE
from points.models import Transfer
from points.selectors import balance_for
from points.services import ledger_reconcile, ledger_rollup
from tasks.kinds import CHECKIN, STREAK_BONUS, TASK_REWARD

pytestmark = pytest.mark.django_db


def grant(campaign, user_id, amount, kind, key, now):  # noqa: PLR0917
    return campaign_points_grant(campaign=campaign, user_id=user_id, amount=amount, kind=kind, key=key, now=now)


def test_active_card_boosts_checkins_and_tasks_but_not_prizes(campaign, member):
    now = timezone.now()
    multiplier_card_issue(campaign=campaign, user_id=member.pk, percent=200, hours=24, source_key="draw:1", now=now)
    grant(campaign, member.pk, 5, CHECKIN, "c1", now)
    grant(campaign, member.pk, 20, TASK_REWARD, "t1", now)
    grant(campaign, member.pk, 10, STREAK_BONUS, "s1", now)
    grant(campaign, member.pk, 100, PRIZE, "p1", now)  # prizes are not "earned": no boost
    boosts = Transfer.objects.filter(kind=BOOST).order_by("id")
    assert [(b.idempotency_key, b.amount) for b in boosts] == [("c1:boost", 5), ("t1:boost", 20), ("s1:boost", 10)]
    assert balance_for(user_id=member.pk).spendable == 5 + 20 + 10 + 100 + 35
    ledger_rollup()
    assert ledger_reconcile().ok


def test_replayed_grant_never_boosts_twice_even_after_the_card_ends(campaign, member):
    now = timezone.now()
    multiplier_card_issue(campaign=campaign, user_id=member.pk, percent=150, hours=1, source_key="draw:1", now=now)
    first = grant(campaign, member.pk, 11, CHECKIN, "c1", now)
    again = grant(campaign, member.pk, 11, CHECKIN, "c1", now)
    later = grant(campaign, member.pk, 11, CHECKIN, "c1", now + timedelta(hours=5))
    assert first.created
    assert not again.created
    assert not later.created
    assert list(Transfer.objects.filter(kind=BOOST).values_list("amount", flat=True)) == [5]  # 11 × 0.5


def test_card_only_counts_while_active_and_strongest_wins(campaign, member, make_user):
    now = timezone.now()
    multiplier_card_issue(campaign=campaign, user_id=member.pk, percent=200, hours=2, source_key="a", now=now)
    multiplier_card_issue(campaign=campaign, user_id=member.pk, percent=300, hours=1, source_key="b", now=now)
    other = make_user()
    grant(campaign, member.pk, 10, CHECKIN, "both", now)  # ×3 beats ×2: cards do not stack
    grant(campaign, member.pk, 10, CHECKIN, "one", now + timedelta(minutes=90))  # the ×3 card has ended
    grant(campaign, member.pk, 10, CHECKIN, "none", now + timedelta(hours=2))  # both have ended
    grant(campaign, other.pk, 10, CHECKIN, "other", now)  # not the card holder
    boosts = Transfer.objects.filter(kind=BOOST).order_by("id")
    assert [(b.idempotency_key, b.amount, b.reason) for b in boosts] == [
        ("both:boost", 20, "×3"),
        ("one:boost", 10, "×2"),
    ]
    assert [c.percent for c in multiplier_cards_active(user_id=member.pk, now=now)] == [300, 200]


def test_issuing_a_card_twice_with_one_source_gives_one_card(campaign, member):
    now = timezone.now()
    a = multiplier_card_issue(campaign=campaign, user_id=member.pk, percent=200, hours=2, source_key="x", now=now)
    b = multiplier_card_issue(campaign=campaign, user_id=member.pk, percent=200, hours=2, source_key="x", now=now)
    assert a.pk == b.pk


def test_checkin_service_pays_the_boost(campaign, member):
    from tasks.checkins import checkin_create, checkin_rule_save
    from tasks.models import CheckInRule

    checkin_rule_save(rule=CheckInRule(campaign=campaign, base_points=7))
    now = timezone.now()
    multiplier_card_issue(campaign=campaign, user_id=member.pk, percent=200, hours=24, source_key="d", now=now)
    checkin_create(campaign=campaign, user_id=member.pk, now=now)
    assert balance_for(user_id=member.pk).spendable == 14


def test_wallet_page_shows_active_cards_only(campaign, member, client):
    now = timezone.now()
    client.force_login(member, backend="accounts.backends.PhoneOrEmailBackend")
    assert b'data-testid="multiplier-cards"' not in client.get("/points/").content
    multiplier_card_issue(campaign=campaign, user_id=member.pk, percent=200, hours=3, source_key="w", now=now)
    page = client.get("/points/").content.decode()
    assert page.count('data-testid="multiplier-card"') == 1
    assert "×2" in page
    multiplier_card_issue(
        campaign=campaign, user_id=member.pk, percent=300, hours=1, source_key="old", now=now - timedelta(hours=2)
    )
    assert client.get("/points/").content.decode().count('data-testid="multiplier-card"') == 1
