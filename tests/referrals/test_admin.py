"""The invites' admin: the review queue lists only invites in review with their reasons in words; approve pays once,
reject reverses pending rewards, both ask for a reason and report what was left as it was and why; who may decide;
referral programs validated through referrals.programs; the read-only screens."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from typing import Any

import pytest
from auditlog.models import LogEntry
from django.contrib.auth.models import Permission
from django.contrib.contenttypes.models import ContentType
from django.core.exceptions import ValidationError
from django.forms.models import model_to_dict
from django.test import Client
from django.utils import timezone

from accounts.models import User
from campaigns.builders import campaign_live
from campaigns.models import Campaign
from points.selectors import balance_for
from points.services import ledger_reconcile, ledger_rollup
from referrals.models import FinalAward, Invite, InviteStatus, LeaderboardSnapshot, Program
from referrals.programs import program_save
from referrals.services import SignupContext, invite_attribute, invite_code_for, invite_qualify
from tests.clock import shifted

pytestmark = pytest.mark.django_db

QUEUE = "/admin/referrals/invitereview/"
INVITES = "/admin/referrals/invite/"
PROGRAMS = "/admin/referrals/program/"
DEVICE = "f" * 64


def messages_of(response: Any) -> list[str]:
    return [str(m) for m in response.context["messages"]]


def points(user: User) -> tuple[int, int]:
    balance = balance_for(user_id=user.pk)
    return balance.spendable, balance.pending


@pytest.fixture
def invites(program: Program, member: User, new_member: Callable[..., User]) -> list[Invite]:
    """Four friends of `member` sign up on one phone (one account per device allowed) and check in: the first is
    qualified and paid, the other three wait in review for a shared device."""
    Program.objects.filter(pk=program.pk).update(device_max=1)
    code = invite_code_for(user_id=member.pk)
    for _ in range(4):
        friend = new_member()
        assert invite_attribute(invitee_id=friend.pk, code=code, context=SignupContext(device=DEVICE)).invite
        invite_qualify(invitee_id=friend.pk, action="checkin")
    result = list(Invite.objects.filter(inviter=member).order_by("pk"))
    assert [i.status for i in result] == ["qualified", "review", "review", "review"]
    return result


def decide(client: Client, url: str, action: str, ids: list[int], **data: str) -> Any:
    return client.post(url, {"action": action, "_selected_action": [str(i) for i in ids], **data}, follow=True)


def test_the_queue_lists_only_invites_in_review_with_their_reasons_in_words(
    analyst: tuple[User, Client], invites: list[Invite]
) -> None:
    _user, client = analyst
    response = client.get(QUEUE)
    assert response.status_code == 200
    assert [i.pk for i in response.context["cl"].result_list] == [i.pk for i in invites[1:]]  # oldest first
    page = response.content.decode()
    assert "shared device: more accounts from one device than allowed" in page
    filtered = client.get(QUEUE, {"reason": "ring"})
    assert list(filtered.context["cl"].result_list) == []
    everything = client.get(INVITES, {"reason": "shared_device"})
    assert {i.pk for i in everything.context["cl"].result_list} == {i.pk for i in invites[1:]}
    by_status = client.get(INVITES, {"status__exact": "qualified"})
    assert [i.pk for i in by_status.context["cl"].result_list] == [invites[0].pk]
    found = client.get(INVITES, {"q": str(invites[2].invitee.phone)})
    assert [i.pk for i in found.context["cl"].result_list] == [invites[2].pk]
    detail = client.get(f"{INVITES}{invites[0].pk}/change/").content.decode()
    assert "200 to the inviter, 100 to the newcomer" in detail


def test_approve_asks_for_a_reason_pays_once_and_reports_what_it_skipped(
    operator: tuple[User, Client], invites: list[Invite], member: User
) -> None:
    user, client = operator
    clean, first, second, _third = invites
    assert points(member) == (200, 0)
    chosen = [clean.pk, first.pk, second.pk]
    asked = client.post(QUEUE, {"action": "approve_selected", "_selected_action": [str(i) for i in chosen]})
    assert asked.status_code == 200
    assert "admin/referrals/invite/review.html" in [t.name for t in asked.templates]
    assert "shared device: more accounts from one device than allowed" in asked.content.decode()
    assert points(member) == (200, 0)

    response = decide(client, QUEUE, "approve_selected", chosen, reason="same family, checked by phone")
    shown = messages_of(response)
    assert f"2 invites approved, rewards paid: #{first.pk}, #{second.pk}." in shown
    assert any(m.startswith(f"#{clean.pk} left as it was: ") and "(now: qualified)" in m for m in shown), shown
    assert points(member) == (600, 0)
    approved = Invite.objects.get(pk=first.pk)
    assert (approved.status, approved.reviewed_by, approved.review_reason) == (
        InviteStatus.QUALIFIED,
        user,
        "same family, checked by phone",
    )
    assert points(approved.invitee) == (100, 0)

    again = decide(client, QUEUE, "approve_selected", [first.pk], reason="twice")
    assert any(m.startswith(f"#{first.pk} left as it was: ") for m in messages_of(again))
    assert points(member) == (600, 0)
    assert [i.pk for i in client.get(QUEUE).context["cl"].result_list] == [invites[3].pk]
    ledger_rollup()
    assert ledger_reconcile().ok


def test_a_reason_is_required(operator: tuple[User, Client], invites: list[Invite], member: User) -> None:
    _user, client = operator
    for action in ("approve_selected", "reject_selected"):
        response = decide(client, QUEUE, action, [invites[1].pk], reason="  ")
        assert response.status_code == 200
        assert response.context["form"].errors["reason"]
        assert Invite.objects.get(pk=invites[1].pk).status == InviteStatus.REVIEW
    assert points(member) == (200, 0)


def test_reject_reverses_pending_rewards_and_says_when_the_hold_is_over(
    analyst: tuple[User, Client], program: Program, member: User, new_member: Callable[..., User]
) -> None:
    user, client = analyst
    Program.objects.filter(pk=program.pk).update(hold_days=1)
    code = invite_code_for(user_id=member.pk)
    held, kept = new_member(), new_member()
    for friend in (held, kept):
        invite_attribute(invitee_id=friend.pk, code=code)
    invite_qualify(invitee_id=kept.pk, action="checkin")
    with shifted(timezone.now() + timedelta(days=2)):  # kept's hold is over; held qualifies now
        invite_qualify(invitee_id=held.pk, action="checkin")
        held_invite, kept_invite = Invite.objects.get(invitee=held), Invite.objects.get(invitee=kept)
        assert points(member) == (200, 200)
        held_page = client.get(f"{INVITES}{held_invite.pk}/change/").content.decode()
        assert "200 to the inviter, 100 to the newcomer — pending" in held_page
        ids = [held_invite.pk, kept_invite.pk]
        response = decide(client, INVITES, "reject_selected", ids, reason="emulator farm")
        shown = messages_of(response)
        assert points(member) == (200, 0)
    assert f"1 invite rejected (pending rewards reversed): #{held_invite.pk}." in shown
    assert any(m.startswith(f"#{kept_invite.pk} left as it was: ") and "no longer on hold" in m for m in shown)
    assert points(held) == (0, 0)
    rejected = Invite.objects.get(pk=held_invite.pk)
    assert (rejected.status, rejected.reviewed_by, rejected.review_reason) == (
        InviteStatus.REJECTED,
        user,
        "emulator farm",
    )
    held_page = client.get(f"{INVITES}{held_invite.pk}/change/").content.decode()
    assert "200 to the inviter, 100 to the newcomer — reversed" in held_page
    assert "emulator farm" in held_page
    ledger_rollup()
    assert ledger_reconcile().ok


def test_reject_from_the_queue_pays_nothing(operator: tuple[User, Client], invites: list[Invite], member: User) -> None:
    _user, client = operator
    response = decide(client, QUEUE, "reject_selected", [invites[1].pk], reason="farm")
    assert f"1 invite rejected (pending rewards reversed): #{invites[1].pk}." in messages_of(response)
    assert Invite.objects.get(pk=invites[1].pk).status == InviteStatus.REJECTED
    assert points(member) == (200, 0)
    assert points(invites[1].invitee) == (0, 0)


@pytest.mark.parametrize("who", ["anonymous", "member"])
def test_members_and_anonymous_cannot_open_or_decide(
    who: str, invites: list[Invite], member: User, make_user: Callable[..., User]
) -> None:
    client = Client()
    if who == "member":
        client.force_login(make_user(), backend="accounts.backends.PhoneOrEmailBackend")
    for url in (QUEUE, INVITES):
        assert client.get(url).status_code == 302
        response = client.post(url, {"action": "approve_selected", "_selected_action": [str(invites[1].pk)],
                                     "reason": "let me"})  # fmt: skip
        assert response.status_code == 302
        assert response["Location"].startswith("/admin/login/")
    assert Invite.objects.get(pk=invites[1].pk).status == InviteStatus.REVIEW
    assert points(member) == (200, 0)


def test_finance_cannot_see_or_decide(
    staff: Callable[[str], tuple[User, Client]], invites: list[Invite], member: User
) -> None:
    _user, client = staff("finance")
    for url in (QUEUE, INVITES):
        assert client.get(url).status_code == 403
        response = client.post(url, {"action": "approve_selected", "_selected_action": [str(invites[1].pk)],
                                     "reason": "let me"})  # fmt: skip
        assert response.status_code == 403
    assert Invite.objects.get(pk=invites[1].pk).status == InviteStatus.REVIEW
    assert points(member) == (200, 0)


def test_viewing_without_the_review_permission_offers_no_decision(
    make_user: Callable[..., User], invites: list[Invite], member: User
) -> None:
    """A staff member allowed to look at invites only (no referrals.review_invite) gets no action and cannot post
    one."""
    looker = make_user(is_staff=True)
    looker.user_permissions.add(
        *Permission.objects.filter(
            content_type__app_label="referrals", codename__in=["view_invite", "view_invitereview"]
        )
    )
    client = Client()
    client.force_login(looker, backend="accounts.backends.PhoneOrEmailBackend")
    page = client.get(QUEUE)
    assert page.status_code == 200
    assert "approve_selected" not in page.content.decode()
    response = decide(client, QUEUE, "approve_selected", [invites[1].pk], reason="let me")
    assert Invite.objects.get(pk=invites[1].pk).status == InviteStatus.REVIEW
    assert response.status_code == 200
    assert points(member) == (200, 0)


# --- Programs -------------------------------------------------------------------------------------------------


def program_form(program: Program, **changes: Any) -> dict[str, Any]:
    data = {k: ("" if v is None else v) for k, v in model_to_dict(program).items() if k != "id"}
    data["is_active"] = "on" if data["is_active"] else ""
    return {**data, **changes}


def test_program_validation_errors_are_shown(operator: tuple[User, Client]) -> None:
    _user, client = operator
    campaign = campaign_live(now=timezone.now())
    fresh = Program(campaign=campaign)
    response = client.post(
        f"{PROGRAMS}add/",
        program_form(
            fresh, device_max="0", ip_hourly_max="0", inviter_daily_cap="0", top_n="1001", title_en="  ", title=""
        ),
    )
    assert response.status_code == 200
    errors = response.context["adminform"].form.errors
    assert set(errors) >= {"device_max", "ip_hourly_max", "inviter_daily_cap", "top_n", "title", "title_en"}
    assert "At most 1000 places." in errors["top_n"]
    assert not Program.objects.filter(campaign=campaign).exists()

    response = client.post(f"{PROGRAMS}add/", program_form(fresh, inviter_daily_cap="5", inviter_campaign_cap="3"))
    assert response.context["adminform"].form.errors["inviter_daily_cap"]

    response = client.post(f"{PROGRAMS}add/", program_form(fresh, device_max="3", top_n="1000"))
    assert response.status_code == 302
    assert Program.objects.get(campaign=campaign).device_max == 3


def test_program_changes_are_audited_and_keep_their_campaign(operator: tuple[User, Client], program: Program) -> None:
    user, client = operator
    other = campaign_live(now=timezone.now(), slug="other")
    response = client.post(f"{PROGRAMS}{program.pk}/change/", program_form(program, hold_days="2", campaign=other.pk))
    assert response.status_code == 302
    saved = Program.objects.get(pk=program.pk)
    assert (saved.hold_days, saved.campaign_id) == (2, program.campaign_id)  # the campaign is read-only
    entry = LogEntry.objects.filter(content_type=ContentType.objects.get_for_model(Program)).latest("pk")
    assert entry.actor == user
    assert entry.changes_dict["hold_days"] == ["0", "2"]
    assert client.get(f"{PROGRAMS}{program.pk}/delete/").status_code == 403


def test_program_save_refuses_a_move_to_another_campaign(program: Program, campaign: Campaign) -> None:
    other = campaign_live(now=timezone.now(), slug="elsewhere")
    program.campaign = other
    with pytest.raises(ValidationError) as refused:
        program_save(program=program)
    assert "campaign" in refused.value.message_dict
    assert Program.objects.get(pk=program.pk).campaign_id == campaign.pk


# --- Read-only screens ------------------------------------------------------------------------------------------


def test_snapshots_and_awards_are_read_only(
    analyst: tuple[User, Client], operator: tuple[User, Client], campaign: Campaign, member: User
) -> None:
    now = timezone.now()
    snapshot = LeaderboardSnapshot.objects.create(campaign=campaign, taken_at=now, rows=[[member.pk, 1, 7]])
    award = FinalAward.objects.create(
        campaign=campaign, user=member, rank=1, invites=7, points=1000, title="邀请达人", title_en="Top Inviter",
        awarded_at=now,
    )  # fmt: skip
    for _user, client in (analyst, operator):
        page = client.get(f"/admin/referrals/leaderboardsnapshot/{snapshot.pk}/change/")
        assert page.status_code == 200
        assert f"<td>1</td><td>{member.pk}</td><td>7</td>" in page.content.decode()
        assert client.get(f"/admin/referrals/finalaward/{award.pk}/change/").status_code == 200
        assert client.post(f"/admin/referrals/finalaward/{award.pk}/change/", {"points": 5}).status_code == 403
    assert FinalAward.objects.get(pk=award.pk).points == 1000
