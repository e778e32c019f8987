"""Invites: attribution rules and fraud signals, qualification through the invitee's real actions, rewards through
the value gate exactly once, holds, the review queue's decisions, caps, and the task engine's invite_qualified."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from mall.builders import product_build
from mall.orders import order_place
from points.selectors import balance_for
from points.services import ledger_reconcile, ledger_rollup
from referrals.models import Invite, InviteStatus, Program
from referrals.services import SignupContext, invite_attribute, invite_code_for, invite_qualify, invite_review
from tasks.checkins import checkin_create, checkin_rule_save
from tasks.models import CheckInRule, TaskDefinition

pytestmark = pytest.mark.django_db


def points(user) -> tuple[int, int]:
    balance = balance_for(user_id=user.pk)
    return balance.spendable, balance.pending


def attribute(inviter, invitee, **context):
    return invite_attribute(
        invitee_id=invitee.pk, code=invite_code_for(user_id=inviter.pk), context=SignupContext(**context)
    )


def test_invite_code_is_stable_and_unguessable(member) -> None:
    code = invite_code_for(user_id=member.pk)
    assert code == invite_code_for(user_id=member.pk)
    assert len(code) == 10
    assert set(code) <= set("23456789ABCDEFGHJKMNPQRSTUVWXYZ")


def test_attribution_refusals_store_nothing(program, member, new_member, make_user) -> None:
    friend = new_member()
    assert invite_attribute(invitee_id=friend.pk, code="NOPE-CODE").refusal == "unknown_code"
    assert invite_attribute(invitee_id=friend.pk, code="<script>").refusal == "unknown_code"
    assert attribute(friend, friend).refusal == "self_invite"
    old = make_user(date_joined=timezone.now() - timedelta(days=8))
    assert attribute(member, old).refusal == "too_late"
    assert Invite.objects.count() == 0
    first = attribute(member, friend)
    assert first.invite is not None
    assert not first.refusal
    assert attribute(new_member(), friend).refusal == "already_invited"  # invited once
    assert Invite.objects.count() == 1


def test_no_invites_outside_the_official_phase(campaign, program, member, new_member) -> None:
    friend = new_member()
    later = campaign.followup_starts_at + timedelta(minutes=1)
    refused = invite_attribute(invitee_id=friend.pk, code=invite_code_for(user_id=member.pk), now=later)
    assert refused.refusal == "not_open"
    assert refused.message
    Program.objects.filter(pk=program.pk).update(is_active=False)
    assert attribute(member, friend).refusal == "not_open"


def test_first_checkin_pays_inviter_and_newcomer_once(campaign, program, member, new_member) -> None:
    checkin_rule_save(rule=CheckInRule(campaign=campaign, base_points=5))
    friend = new_member()
    invite = attribute(member, friend).invite
    checkin_create(campaign=campaign, user_id=friend.pk)
    invite.refresh_from_db()
    assert invite.status == InviteStatus.QUALIFIED
    assert points(member) == (200, 0)
    assert points(friend) == (105, 0)  # the check-in's 5 and the newcomer gift
    assert invite_qualify(invitee_id=friend.pk, action="checkin") == ""  # delivered again: nothing more
    assert points(member) == (200, 0)
    ledger_rollup()
    assert ledger_reconcile().ok


def test_other_actions_do_not_qualify_and_orders_can(campaign, program, member, new_member) -> None:
    Program.objects.filter(pk=program.pk).update(qualifying_action="order")
    checkin_rule_save(rule=CheckInRule(campaign=campaign, base_points=50))
    friend = new_member()
    invite = attribute(member, friend).invite
    checkin_create(campaign=campaign, user_id=friend.pk)
    invite.refresh_from_db()
    assert invite.status == InviteStatus.REGISTERED
    item = product_build(campaign=campaign, points_price=20)
    order_place(product_id=item.pk, user_id=friend.pk)
    invite.refresh_from_db()
    assert invite.status == InviteStatus.QUALIFIED
    assert points(member) == (200, 0)


def test_hold_keeps_rewards_pending_and_rejection_during_it_reverses(campaign, program, member, new_member, operator):
    Program.objects.filter(pk=program.pk).update(hold_days=3)
    friend = new_member()
    attribute(member, friend)
    now = timezone.now()
    assert invite_qualify(invitee_id=friend.pk, action="checkin", now=now) == "qualified"
    assert points(member) == (0, 200)
    assert balance_for(user_id=member.pk, now=now + timedelta(days=3, seconds=1)).spendable == 200
    invite = Invite.objects.get(invitee=friend)
    result = invite_review(invite_ids=[invite.pk], decision="reject", actor_id=operator[0].pk, reason="farm", now=now)
    assert result.changed == [invite.pk]
    assert points(member) == (0, 0)
    assert points(friend) == (0, 0)
    invite.refresh_from_db()
    assert invite.status == InviteStatus.REJECTED
    assert invite.review_reason == "farm"
    ledger_rollup()
    assert ledger_reconcile().ok


def test_rejection_after_the_hold_leaves_the_points(campaign, program, member, new_member, operator) -> None:
    Program.objects.filter(pk=program.pk).update(hold_days=1)
    friend = new_member()
    attribute(member, friend)
    now = timezone.now()
    invite_qualify(invitee_id=friend.pk, action="checkin", now=now)
    invite = Invite.objects.get(invitee=friend)
    later = now + timedelta(days=2)
    result = invite_review(invite_ids=[invite.pk], decision="reject", actor_id=operator[0].pk, now=later)
    assert result.skipped == {invite.pk: "invite_hold_over"}
    assert balance_for(user_id=member.pk, now=later).spendable == 200


def test_farm_sharing_a_device_and_ip_goes_to_review(program, member, new_member, operator) -> None:
    """20 accounts from one phone and one IP: the first device_max are rewarded, the rest wait in review."""
    farm = [new_member() for _ in range(20)]
    for account in farm:
        attribute(member, account, ip="203.0.113.7", device="d" * 64)
    for account in farm:
        invite_qualify(invitee_id=account.pk, action="checkin")
    statuses = list(Invite.objects.order_by("pk").values_list("status", flat=True))
    assert statuses.count(InviteStatus.QUALIFIED) <= program.device_max
    assert statuses.count(InviteStatus.REVIEW) == 20 - statuses.count(InviteStatus.QUALIFIED)
    flagged = Invite.objects.filter(status=InviteStatus.REVIEW).first()
    assert "shared_device" in flagged.risk_reasons
    assert points(member)[0] == 200 * statuses.count(InviteStatus.QUALIFIED)
    approved = invite_review(invite_ids=[flagged.pk], decision="approve", actor_id=operator[0].pk, reason="ok")
    assert approved.changed == [flagged.pk]
    again = invite_review(invite_ids=[flagged.pk], decision="approve", actor_id=operator[0].pk)
    assert again.skipped == {flagged.pk: "invite_state_invalid"}
    assert points(member)[0] == 200 * (statuses.count(InviteStatus.QUALIFIED) + 1)


def test_a_three_cycle_ring_is_flagged(program, new_member) -> None:
    a, b, c = new_member(), new_member(), new_member()
    assert attribute(a, b).reasons == []
    assert attribute(b, c).reasons == []
    ring = attribute(c, a)  # a enters c's code within a week of signing up: a → b → c → a
    assert ring.invite is not None
    assert "ring" in ring.reasons


def test_daily_cap_sends_the_rest_to_review(program, member, new_member) -> None:
    Program.objects.filter(pk=program.pk).update(inviter_daily_cap=2, device_max=100, inviter_burst_max=100)
    friends = [new_member() for _ in range(3)]
    for friend in friends:
        attribute(member, friend)
    results = [invite_qualify(invitee_id=friend.pk, action="checkin") for friend in friends]
    assert results == ["qualified", "qualified", "review"]
    assert Invite.objects.get(invitee=friends[2]).risk_reasons == ["daily_cap"]


def test_inviter_burst_is_a_signal(program, member, new_member) -> None:
    Program.objects.filter(pk=program.pk).update(inviter_burst_max=3, device_max=100)
    reasons = [attribute(member, new_member()).reasons for _ in range(5)]
    assert reasons[:3] == [[], [], []]
    assert all("inviter_burst" in r for r in reasons[3:])


def test_invite_qualified_feeds_the_task_engine(campaign, program, member, new_member) -> None:
    task = TaskDefinition.objects.create(
        campaign=campaign,
        tier="beginner",
        title="邀请 2 位好友",
        title_en="Invite 2 friends",
        event_type="invite_qualified",
        target_count=2,
        reward_points=500,
        auto_reward=True,
    )
    for _ in range(2):
        friend = new_member()
        attribute(member, friend)
        invite_qualify(invitee_id=friend.pk, action="checkin")
    assert task.progress.get(user=member).completed_at is not None
    assert points(member)[0] == 2 * 200 + 500
