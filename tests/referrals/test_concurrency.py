"""Invites under real concurrency (threads released together against Postgres): one qualifying event delivered
five times at once pays once; an inviter's cap holds when many invitees qualify at once; parallel attributions of
one member make one invite; then the ledger reconciles."""

from __future__ import annotations

from collections import Counter

import pytest
from django.utils import timezone

from accounts.models import User
from campaigns.builders import campaign_live
from points.models import Transfer
from points.selectors import balance_for
from points.services import ledger_reconcile, ledger_rollup
from referrals.builders import program_build
from referrals.models import Invite, InviteStatus
from referrals.services import Attribution, invite_attribute, invite_code_for, invite_qualify
from tests.conftest import run_concurrently

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.slow]


def _members(n: int) -> list[User]:
    now = timezone.now()
    User.objects.bulk_create(
        [User(phone=f"+8615{i:09d}", email=f"ref{i}@example.com", date_joined=now) for i in range(n)]
    )
    return list(User.objects.filter(email__startswith="ref").order_by("pk"))


def _reconciled() -> None:
    ledger_rollup()
    assert ledger_reconcile().ok


def test_five_concurrent_deliveries_pay_once() -> None:
    campaign = campaign_live(now=timezone.now(), is_featured=True)
    program_build(campaign=campaign)
    inviter, invitee = _members(2)
    invite_attribute(invitee_id=invitee.pk, code=invite_code_for(user_id=inviter.pk))
    results = run_concurrently(5, lambda i: invite_qualify(invitee_id=invitee.pk, action="checkin"))
    assert sorted(results) == ["", "", "", "", "qualified"]
    assert balance_for(user_id=inviter.pk).spendable == 200
    assert balance_for(user_id=invitee.pk).spendable == 100
    assert Transfer.objects.filter(kind__in=["referral_reward", "newcomer_gift"]).count() == 2
    _reconciled()


def test_an_inviters_cap_holds_when_twenty_qualify_at_once() -> None:
    campaign = campaign_live(now=timezone.now(), is_featured=True)
    program_build(campaign=campaign, inviter_campaign_cap=3, device_max=100, inviter_burst_max=100)
    inviter, *friends = _members(21)
    code = invite_code_for(user_id=inviter.pk)
    for friend in friends:
        assert invite_attribute(invitee_id=friend.pk, code=code).invite is not None
    results = run_concurrently(20, lambda i: invite_qualify(invitee_id=friends[i].pk, action="checkin"))
    assert Counter(results) == Counter({"qualified": 3, "review": 17})
    assert Invite.objects.filter(status=InviteStatus.QUALIFIED).count() == 3
    assert balance_for(user_id=inviter.pk).spendable == 600
    _reconciled()


def test_parallel_attributions_of_one_member_make_one_invite() -> None:
    campaign = campaign_live(now=timezone.now(), is_featured=True)
    program_build(campaign=campaign, device_max=100, inviter_burst_max=100)
    invitee, *inviters = _members(9)
    codes = [invite_code_for(user_id=u.pk) for u in inviters]
    results = run_concurrently(8, lambda i: invite_attribute(invitee_id=invitee.pk, code=codes[i]))
    made = [r for r in results if isinstance(r, Attribution) and r.invite is not None]
    assert len(made) == 1
    assert sorted(r.refusal for r in results if r.invite is None) == ["already_invited"] * 7
    assert Invite.objects.count() == 1
