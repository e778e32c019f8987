"""The sweep jobs, run eagerly: referrals.later_login_sweep qualifies an invite whose invitee signed in again
(once), referrals.idle_sweep sends an invite whose invitee never acted again back to review during its hold."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta

import pytest
from django.utils import timezone

from accounts.models import User
from points.selectors import balance_for
from referrals import jobs
from referrals.models import Invite, InviteReview, InviteStatus, Program
from referrals.services import invite_attribute, invite_code_for, invite_qualify
from tests.clock import shifted

pytestmark = pytest.mark.django_db


def test_later_login_sweep_qualifies_once(program: Program, member: User, new_member: Callable[..., User]) -> None:
    Program.objects.filter(pk=program.pk).update(qualifying_action="later_login")
    friend, idle = new_member(), new_member()
    code = invite_code_for(user_id=member.pk)
    for invitee in (friend, idle):
        invite_attribute(invitee_id=invitee.pk, code=code)
    User.objects.filter(pk=friend.pk).update(last_login=timezone.now())
    assert jobs.later_login_sweep.apply().get() == 0  # signed in again, but on the same day
    tomorrow = timezone.now() + timedelta(days=1)
    User.objects.filter(pk=friend.pk).update(last_login=tomorrow)
    with shifted(tomorrow + timedelta(minutes=1)):
        assert jobs.later_login_sweep.apply().get() == 1
        assert Invite.objects.get(invitee=friend).status == InviteStatus.QUALIFIED
        assert Invite.objects.get(invitee=idle).status == InviteStatus.REGISTERED
        assert jobs.later_login_sweep.apply().get() == 0
        assert balance_for(user_id=member.pk).spendable == 200


def test_idle_sweep_flags_an_invitee_who_never_acts_again(
    program: Program, member: User, new_member: Callable[..., User]
) -> None:
    Program.objects.filter(pk=program.pk).update(idle_days=2, hold_days=5)
    quiet, active = new_member(), new_member()
    code = invite_code_for(user_id=member.pk)
    for invitee in (quiet, active):
        invite_attribute(invitee_id=invitee.pk, code=code)
        assert invite_qualify(invitee_id=invitee.pk, action="checkin") == "qualified"
    assert jobs.idle_sweep.apply().get() == 0  # not idle long enough yet
    later = timezone.now() + timedelta(days=3)
    User.objects.filter(pk=active.pk).update(last_login=later - timedelta(hours=1))
    with shifted(later):
        assert jobs.idle_sweep.apply().get() == 1
        assert jobs.idle_sweep.apply().get() == 0  # flagged once
    flagged = Invite.objects.get(invitee=quiet)
    assert (flagged.status, flagged.risk_reasons) == (InviteStatus.REVIEW, ["idle"])
    assert list(InviteReview.objects.values_list("pk", flat=True)) == [flagged.pk]
    assert Invite.objects.get(invitee=active).status == InviteStatus.QUALIFIED
