"""Invite API: sign-up with `invite_code` (the account is created whatever becomes of the code; `invite` says what),
the member's invite summary, their invitees (masked, signed cursor), their own poster, a campaign's leaderboard."""

from __future__ import annotations

import io
from datetime import timedelta
from typing import Any

import pytest
import zxingcpp
from django.utils import timezone
from PIL import Image
from rest_framework.test import APIClient

from accounts.models import User
from accounts.services import token_issue
from campaigns.builders import campaign_live
from referrals import leaderboard
from referrals.models import Invite, InviteStatus
from referrals.services import invite_attribute, invite_code_for, invite_review
from tasks.checkins import checkin_create, checkin_rule_save
from tasks.models import CheckInRule

pytestmark = pytest.mark.django_db

PASSWORD = "Str0ng-pass-2026"


@pytest.fixture(autouse=True)
def _fresh_board() -> None:
    leaderboard.names_forget()


def bearer(user: User) -> APIClient:
    client = APIClient(HTTP_ACCEPT_LANGUAGE="en")
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {token_issue(user=user, name='test').access}")
    return client


def sign_up(email: str, **extra: Any) -> Any:
    return APIClient(HTTP_ACCEPT_LANGUAGE="en").post(
        "/api/v1/auth/register", {"email": email, "password": PASSWORD, **extra}, format="json"
    )


def qr_of(png: bytes) -> list[str]:
    return [result.text for result in zxingcpp.read_barcodes(Image.open(io.BytesIO(png)))]


# --- Sign-up ------------------------------------------------------------------------------------------------------


def test_sign_up_with_an_invite_code_credits_the_inviter(program, member) -> None:
    response = sign_up("friend@example.com", invite_code=invite_code_for(user_id=member.pk).lower())
    assert response.status_code == 201
    body = response.json()
    assert body["invite"] == {"attributed": True, "message": "Your friend's invite counts: you joined through it."}
    assert Invite.objects.get(invitee__email="friend@example.com").inviter_id == member.pk


@pytest.mark.parametrize(
    ("code", "refusal"), [("NOPE-NOPE", "unknown_code"), ("<script>", "unknown_code"), ("x" * 32, "unknown_code")]
)
def test_an_unknown_code_still_signs_up_without_an_invite(program, code, refusal) -> None:
    response = sign_up("friend@example.com", invite_code=code)
    assert response.status_code == 201
    assert response.json()["invite"]["attributed"] is False
    assert response.json()["invite"]["code"] == refusal
    assert "signed up all the same" in response.json()["invite"]["message"]
    assert User.objects.filter(email="friend@example.com").exists()
    assert not Invite.objects.exists()


def test_a_code_too_long_is_invalid_input_and_nothing_is_created(program) -> None:
    response = sign_up("friend@example.com", invite_code="x" * 33)
    assert response.status_code == 400
    assert response.json()["error"]["details"]["invite_code"]
    assert not User.objects.filter(email="friend@example.com").exists()


def test_outside_the_official_phase_the_code_does_not_count(member) -> None:
    now = timezone.now()
    campaign_live(now=now, is_featured=True, warmup_starts_at=now + timedelta(days=1),
                  official_starts_at=now + timedelta(days=2), followup_starts_at=now + timedelta(days=9),
                  ends_at=now + timedelta(days=10))  # fmt: skip
    response = sign_up("friend@example.com", invite_code=invite_code_for(user_id=member.pk))
    assert response.status_code == 201
    assert response.json()["invite"]["code"] == "not_open"
    assert not Invite.objects.exists()


def test_without_a_code_there_is_no_invite_block(program) -> None:
    response = sign_up("friend@example.com")
    assert response.status_code == 201
    assert "invite" not in response.json()


# --- The member's invites ------------------------------------------------------------------------------------------


@pytest.fixture
def invited(campaign, program, member, new_member, analyst) -> list[User]:
    """Four friends of `member`: qualified (200 points), registered, in review, rejected."""
    checkin_rule_save(rule=CheckInRule(campaign=campaign, base_points=5))
    friends = [new_member(display_name=name) for name in ("王小明", "Li Lei", "Han Meimei", "Jim")]
    invites = [invite_attribute(invitee_id=f.pk, code=invite_code_for(user_id=member.pk)).invite for f in friends]
    checkin_create(campaign=campaign, user_id=friends[0].pk)
    Invite.objects.filter(pk=invites[2].pk).update(status=InviteStatus.REVIEW)
    invite_review(invite_ids=[invites[3].pk], decision="reject", actor_id=analyst[0].pk, reason="fake")
    return friends


def test_me_gives_the_code_link_counts_points_program_and_rank(invited, member) -> None:
    body = bearer(member).get("/api/v1/referrals/me").json()
    code = invite_code_for(user_id=member.pk)
    assert body["code"] == code
    assert body["link"] == f"http://testserver/r/{code}/"
    assert body["poster"] == "http://testserver/api/v1/referrals/me/poster.png"
    assert body["counts"] == {"registered": 1, "qualified": 1, "review": 1, "rejected": 1}
    assert body["total"] == 4
    assert (body["points_earned"], body["points_pending"]) == (200, 0)
    assert body["can_enter_code"] is True  # signed up just now, not invited
    assert body["campaign"] == {
        "slug": "carnival", "name": "Points Carnival", "counting": True, "inviter_points": 200,
        "invitee_points": 100, "qualifying_action": "checkin",
    }  # fmt: skip
    assert body["rank"] == {"rank": 1, "invites": 1, "change": None, "since": None}


def test_me_for_a_member_without_invites(invited, make_user) -> None:
    body = bearer(invited[0]).get("/api/v1/referrals/me").json()
    assert body["total"] == 0
    assert body["can_enter_code"] is False  # invited already
    assert body["rank"] is None
    assert (
        bearer(make_user(date_joined=timezone.now() - timedelta(days=8)))
        .get("/api/v1/referrals/me")
        .json()["can_enter_code"]
        is False
    )  # too late


def test_invitees_are_masked_paginated_and_only_the_members_own(invited, member, make_user) -> None:
    client = bearer(member)
    first = client.get("/api/v1/referrals/me/invitees?page_size=3").json()
    assert [row["name"] for row in first["results"]] == ["J**", "H**", "L**"]
    assert [row["status"] for row in first["results"]] == ["rejected", "review", "registered"]
    assert first["results"][0]["status_label"] == "rejected"
    rest = client.get(first["next"]).json()
    assert [(row["name"], row["status"], row["points"]) for row in rest["results"]] == [("王**", "qualified", 200)]
    assert rest["next"] is None
    assert rest["results"][0]["campaign"] == "carnival"
    assert "王小明" not in str(first) + str(rest)
    assert bearer(make_user()).get("/api/v1/referrals/me/invitees").json()["results"] == []
    forged = client.get("/api/v1/referrals/me/invitees?cursor=bz0xJnA9MTAw")
    assert forged.status_code == 400
    assert forged.json()["error"]["code"] == "invalid_cursor"


def test_the_poster_is_the_members_own_png(program, member, make_user) -> None:
    response = bearer(member).get("/api/v1/referrals/me/poster.png", HTTP_ACCEPT="image/png")
    assert response.status_code == 200
    assert response["Content-Type"] == "image/png"
    assert qr_of(response.content) == [f"http://testserver/r/{invite_code_for(user_id=member.pk)}/"]
    other = make_user()
    theirs = bearer(other).get(f"/api/v1/referrals/me/poster.png?user={member.pk}&code={member.pk}")
    assert qr_of(theirs.content) == [f"http://testserver/r/{invite_code_for(user_id=other.pk)}/"]


def test_the_poster_of_an_unknown_campaign_is_404(program, member) -> None:
    client = bearer(member)
    response = client.get("/api/v1/referrals/me/poster.png?campaign=no-such-campaign", HTTP_ACCEPT="image/png")
    assert response.status_code == 404
    assert response.json()["error"]["code"] == "campaign_not_found"
    assert client.get("/api/v1/referrals/me/poster.png?campaign=carnival").status_code == 200
    bad = client.get("/api/v1/referrals/me/poster.png?campaign=%3Cscript%3E")
    assert bad.status_code == 400
    assert APIClient().get("/api/v1/referrals/me/poster.png").status_code == 401


# --- The leaderboard ----------------------------------------------------------------------------------------------


def test_the_leaderboard_gives_the_top_and_my_rank(invited, member, make_user) -> None:
    body = bearer(member).get("/api/v1/campaigns/carnival/leaderboard").json()
    assert body["campaign"] == "carnival"
    assert body["entries"] == [{"rank": 1, "name": "X**", "invites": 1, "title": "", "me": True}]
    assert body["me"] == {"rank": 1, "invites": 1, "change": None, "since": None}
    anonymous = APIClient().get("/api/v1/campaigns/carnival/leaderboard").json()
    assert anonymous["me"] is None
    assert anonymous["entries"][0]["me"] is False
    assert bearer(make_user()).get("/api/v1/campaigns/carnival/leaderboard").json()["me"] is None


def test_the_leaderboard_of_an_unknown_campaign_is_404(campaign) -> None:
    response = APIClient().get("/api/v1/campaigns/no-such-campaign/leaderboard")
    assert response.status_code == 404
    assert response.json()["error"]["code"] == "campaign_not_found"
