"""Invite pages: the invite link records the code through the sign-up flow (session and signed cookie) and lands on
the featured campaign; sign-up succeeds whatever becomes of the code, with a clear message; entering a friend's code
within 7 days; the "Invite friends" page (link, QR, poster, invitees masked with status and points); the invite
leaderboard page."""

from __future__ import annotations

import html
import io
import re
from datetime import timedelta
from typing import Any

import pytest
import zxingcpp
from django.conf import settings
from django.test import Client, RequestFactory
from django.utils import timezone, translation
from PIL import Image

from accounts.models import User
from campaigns.builders import campaign_live
from campaigns.services import campaign_save
from referrals import leaderboard
from referrals.fingerprint import DEVICE_COOKIE
from referrals.models import Invite, InviteStatus
from referrals.services import invite_attribute, invite_code_for, invite_review
from referrals.signup import LINK_COOKIE, LINK_SESSION_KEY, link_recorded
from tasks.checkins import checkin_create, checkin_rule_save
from tasks.models import CheckInRule
from tests.test_csp import inline_parts

pytestmark = pytest.mark.django_db

PASSWORD = "Str0ng-pass-2026"


@pytest.fixture(autouse=True)
def _fresh_board() -> None:
    leaderboard.names_forget()


def english(**headers: str) -> Client:
    """A browser reading the site in English (the messages are checked by their English text)."""
    client = Client(**headers)
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    return client


def signed_in(user: User) -> Client:
    client = english()
    client.force_login(user, backend="accounts.backends.PhoneOrEmailBackend")
    return client


def register(client: Client, phone: str, **extra: str) -> Any:
    data = {"phone": phone, "password": PASSWORD, "password2": PASSWORD, "display_name": "Lin", "language": "en"}
    data.update(extra)
    return client.post("/accounts/register/", data, follow=True)


def texts(response: Any) -> list[str]:
    """The messages shown on the (last) page."""
    return [html.unescape(m) for m in re.findall(r'<li class="msg msg-\w+">(.*?)</li>', response.content.decode())]


def test_the_link_records_the_code_and_lands_on_the_featured_campaign(program, member) -> None:
    code = invite_code_for(user_id=member.pk)
    client = english()
    response = client.get(f"/r/{code.lower()}/")  # typed in lower case: the same code
    assert response.status_code == 302
    assert response["Location"] == "/c/carnival/"
    assert client.session[LINK_SESSION_KEY] == code
    browser = RequestFactory().get("/")
    browser.COOKIES[LINK_COOKIE] = client.cookies[LINK_COOKIE].value
    assert link_recorded(browser) == code  # the signed cookie alone (no session)
    assert client.cookies[LINK_COOKIE]["httponly"]
    device = client.cookies[DEVICE_COOKIE].value
    assert len(device) == 32
    landing = client.get(response["Location"])
    assert "Your friend's invite is saved" in " ".join(texts(landing))
    client.get(f"/r/{code}/")  # a device cookie is given once
    assert client.cookies[DEVICE_COOKIE].value == device


def test_without_a_featured_campaign_the_link_lands_home(member) -> None:
    response = Client().get(f"/r/{invite_code_for(user_id=member.pk)}/")
    assert response["Location"] == "/"


def test_signing_up_through_the_link_credits_the_inviter(program, member) -> None:
    client = english(HTTP_USER_AGENT="Mozilla/5.0 (Linux; Android 14)", HTTP_ACCEPT_LANGUAGE="zh-CN")
    client.get(f"/r/{invite_code_for(user_id=member.pk)}/")
    response = register(client, "13800138000")
    new = User.objects.get(phone="+8613800138000")
    invite = Invite.objects.get(invitee=new)
    assert invite.inviter_id == member.pk
    assert invite.status == InviteStatus.REGISTERED
    assert invite.ip == "127.0.0.1"
    assert len(invite.device) == 64
    assert response.redirect_chain[-1][0] == "/"
    assert any("invite counts" in text for text in texts(response))
    assert LINK_SESSION_KEY not in client.session


def test_the_signed_cookie_survives_a_lost_session(program, member) -> None:
    client = english()
    client.get(f"/r/{invite_code_for(user_id=member.pk)}/")
    del client.cookies["sessionid"]  # the browser was closed: a new session
    register(client, "13800138001")
    assert Invite.objects.get(invitee__phone="+8613800138001").inviter_id == member.pk


def test_a_tampered_cookie_counts_for_nothing(program, member, make_user) -> None:
    other = make_user()
    client = english()
    client.get(f"/r/{invite_code_for(user_id=member.pk)}/")
    del client.cookies["sessionid"]
    forged = client.cookies[LINK_COOKIE].value.replace(invite_code_for(user_id=member.pk), "ZZZZZZZZZZ")
    client.cookies[LINK_COOKIE] = forged
    invite_code_for(user_id=other.pk)
    response = register(client, "13800138002")
    assert User.objects.filter(phone="+8613800138002").exists()
    assert not Invite.objects.exists()
    assert not any("invite" in text.lower() for text in texts(response)[1:])


def test_an_unknown_link_lands_with_a_message_and_sign_up_succeeds_without_an_invite(program) -> None:
    client = english()
    response = client.get("/r/NOPE-NOPE/", follow=True)
    assert response.redirect_chain[0][0] == "/c/carnival/"
    assert any("unknown or has expired" in text for text in texts(response))
    assert LINK_SESSION_KEY not in client.session
    register(client, "13800138003")
    assert User.objects.filter(phone="+8613800138003").exists()
    assert not Invite.objects.exists()


def test_an_unknown_code_typed_at_sign_up_is_refused_with_a_message(program) -> None:
    response = register(english(), "13800138004", invite_code="abc-123")
    assert User.objects.filter(phone="+8613800138004").exists()
    assert not Invite.objects.exists()
    assert any("You are signed up all the same" in text for text in texts(response))


def test_a_typed_code_wins_over_the_recorded_one(program, member, make_user) -> None:
    friend = make_user()
    client = english()
    client.get(f"/r/{invite_code_for(user_id=member.pk)}/")
    register(client, "13800138005", invite_code=invite_code_for(user_id=friend.pk).lower())
    assert Invite.objects.get(invitee__phone="+8613800138005").inviter_id == friend.pk


def test_outside_the_official_phase_sign_up_succeeds_without_an_invite(member) -> None:
    now = timezone.now()
    campaign_live(
        now=now,
        is_featured=True,
        warmup_starts_at=now - timedelta(days=20),
        official_starts_at=now - timedelta(days=10),
        followup_starts_at=now - timedelta(days=1),
        ends_at=now + timedelta(days=5),
    )
    client = english()
    client.get(f"/r/{invite_code_for(user_id=member.pk)}/")
    response = register(client, "13800138006")
    assert User.objects.filter(phone="+8613800138006").exists()
    assert not Invite.objects.exists()
    assert any("official phase" in text for text in texts(response))


def test_the_sign_up_message_is_in_the_new_members_language(program, member) -> None:
    client = english()
    client.get(f"/r/{invite_code_for(user_id=member.pk)}/")
    response = register(client, "13800138007", language="en", invite_code="NOPE")
    assert response.context["LANGUAGE_CODE"] == "en"
    with translation.override("en"):
        assert "That invite code is unknown or expired." in " ".join(texts(response))


# --- A signed-in member -----------------------------------------------------------------------------------------


def test_a_new_member_confirms_a_friends_link_on_the_invite_page(program, member, new_member) -> None:
    newcomer = new_member()
    client = signed_in(newcomer)
    response = client.get(f"/r/{invite_code_for(user_id=member.pk)}/", follow=True)
    assert response.redirect_chain[0][0] == "/me/invite/"
    assert not Invite.objects.exists()  # opening a link never attributes by itself
    form = response.context["late_form"]
    assert form.initial["code"] == invite_code_for(user_id=member.pk)
    confirmed = client.post("/me/invite/code/", {"code": form.initial["code"]}, follow=True)
    assert Invite.objects.get(invitee=newcomer).inviter_id == member.pk
    assert any("invite counts" in text for text in texts(confirmed))
    assert confirmed.context["late_form"] is None  # invited once: the form is gone


def test_own_code_second_attribution_and_too_late_are_refused_with_nothing_changed(
    program, member, new_member, make_user
) -> None:
    newcomer = new_member()
    client = signed_in(newcomer)
    own = client.post("/me/invite/code/", {"code": invite_code_for(user_id=newcomer.pk)}, follow=True)
    assert any("cannot invite yourself" in text for text in texts(own))
    assert client.get(f"/r/{invite_code_for(user_id=newcomer.pk)}/", follow=True).context["late_form"] is not None
    invite_attribute(invitee_id=newcomer.pk, code=invite_code_for(user_id=member.pk))
    again = client.post("/me/invite/code/", {"code": invite_code_for(user_id=make_user().pk)}, follow=True)
    assert any("already invited" in text for text in texts(again))
    assert Invite.objects.get().inviter_id == member.pk
    old = make_user(date_joined=timezone.now() - timedelta(days=8))
    late = signed_in(old).post("/me/invite/code/", {"code": invite_code_for(user_id=member.pk)}, follow=True)
    assert any("first 7 days" in text for text in texts(late))
    assert late.context["late_form"] is None
    assert Invite.objects.count() == 1
    empty = signed_in(newcomer).post("/me/invite/code/", {"code": ""}, follow=True)
    assert any("Enter your friend's invite code" in text for text in texts(empty))


def test_the_invite_page_shows_the_link_qr_poster_and_invitees_with_status_and_points(
    campaign, program, member, new_member, analyst
) -> None:
    checkin_rule_save(rule=CheckInRule(campaign=campaign, base_points=5))
    friends = [new_member(display_name=name) for name in ("王小明", "Li Lei", "Han Meimei", "")]
    invites = [invite_attribute(invitee_id=f.pk, code=invite_code_for(user_id=member.pk)).invite for f in friends]
    checkin_create(campaign=campaign, user_id=friends[0].pk)  # qualified: 200 points
    Invite.objects.filter(pk=invites[1].pk).update(status=InviteStatus.REVIEW, risk_reasons=["shared_device"])
    invite_review(invite_ids=[invites[2].pk], decision="reject", actor_id=analyst[0].pk, reason="fake")
    response = signed_in(member).get("/me/invite/")
    assert response.status_code == 200
    html = response.content.decode()
    code = invite_code_for(user_id=member.pk)
    assert response.context["link"] == f"http://testserver/r/{code}/"
    assert f'value="http://testserver/r/{code}/"' in html
    assert 'src="/me/invite/qr.svg"' in html
    assert 'src="/me/invite/poster.png"' in html
    assert inline_parts(html) == []
    rows = {row["name"]: row for row in response.context["rows"]}
    assert set(rows) == {"王**", "L**", "H**", "+86139****" + friends[3].phone[-4:]}
    assert rows["王**"]["invite"].status == InviteStatus.QUALIFIED
    assert rows["王**"]["points"] == 200
    assert rows["L**"]["invite"].status == InviteStatus.REVIEW
    assert rows["H**"]["invite"].status == InviteStatus.REJECTED
    for name in ("王小明", "Li Lei", "Han Meimei"):
        assert name not in html
    assert "shared_device" not in html  # fraud reasons are for the review queue, never shown to the inviter
    summary = response.context["summary"]
    assert summary.counts == {"registered": 1, "qualified": 1, "review": 1, "rejected": 1}
    assert summary.points == 200
    assert response.context["my_rank"].rank == 1
    assert DEVICE_COOKIE in response.cookies


def test_the_qr_codes_and_the_poster_are_the_members_own(program, member, make_user) -> None:
    client = signed_in(member)
    link = f"http://testserver/r/{invite_code_for(user_id=member.pk)}/"
    png = client.get("/me/invite/qr.png?download=1")
    assert png["Content-Type"] == "image/png"
    assert png["Content-Disposition"] == 'attachment; filename="invite-qr.png"'
    assert [r.text for r in zxingcpp.read_barcodes(Image.open(io.BytesIO(png.content)))] == [link]
    svg = client.get("/me/invite/qr.svg")
    assert svg["Content-Type"] == "image/svg+xml"
    assert svg.content.startswith(b"<svg")
    assert b"<script" not in svg.content
    poster = client.get("/me/invite/poster.png")
    assert poster["Content-Type"] == "image/png"
    assert [r.text for r in zxingcpp.read_barcodes(Image.open(io.BytesIO(poster.content)))] == [link]
    other = make_user()
    theirs = signed_in(other).get(f"/me/invite/poster.png?user={member.pk}")  # no way to ask for another's
    decoded = [r.text for r in zxingcpp.read_barcodes(Image.open(io.BytesIO(theirs.content)))]
    assert decoded == [f"http://testserver/r/{invite_code_for(user_id=other.pk)}/"]
    for url in ("/me/invite/", "/me/invite/qr.png", "/me/invite/qr.svg", "/me/invite/poster.png"):
        assert Client().get(url)["Location"].startswith("/accounts/login/")


# --- The leaderboard page ----------------------------------------------------------------------------------------


def test_the_leaderboard_page_shows_the_top_and_my_rank(campaign, program, make_user, new_member) -> None:
    checkin_rule_save(rule=CheckInRule(campaign=campaign, base_points=5))
    top, second = make_user(display_name="Zhang San"), make_user(display_name="Li Si")
    for inviter, n in ((top, 2), (second, 1)):
        for _ in range(n):
            friend = new_member()
            invite_attribute(invitee_id=friend.pk, code=invite_code_for(user_id=inviter.pk))
            checkin_create(campaign=campaign, user_id=friend.pk)
    response = signed_in(second).get("/c/carnival/leaderboard/")
    assert response.status_code == 200
    assert [(e.rank, e.name, e.invites) for e in response.context["entries"]] == [(1, "Z**", 2), (2, "L**", 1)]
    assert response.context["me"].rank == 2
    html = response.content.decode()
    assert 'aria-current="true"' in html
    assert "Zhang San" not in html
    assert inline_parts(html) == []
    anonymous = Client().get("/c/carnival/leaderboard/")
    assert anonymous.status_code == 200
    assert anonymous.context["me"] is None
    assert Client().get("/c/no-such-campaign/leaderboard/").status_code == 404


def test_an_unpublished_campaign_has_no_leaderboard_page(campaign) -> None:
    campaign_save(campaign=campaign, data={"is_published": False})
    assert Client().get("/c/carnival/leaderboard/").status_code == 404
