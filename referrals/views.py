"""Member pages of invites: the invite link (`/r/<code>`), "Invite friends" (the member's link, copy and share, QR
code, poster, entering a friend's code soon after signing up, and their invitees) and a campaign's invite
leaderboard. Thin: selectors in, one service call out; the QR code and poster are drawn by referrals/qr.py and
referrals/poster.py."""

from __future__ import annotations

from datetime import datetime
from typing import Any, cast

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST

from accounts.models import User
from campaigns.errors import CampaignNotFound
from campaigns.models import Campaign
from campaigns.selectors import campaign_by_slug, campaign_featured
from config.i18n import localized
from referrals import leaderboard, selectors
from referrals.fingerprint import device_cookie_set, signup_context
from referrals.models import InviteStatus, Program
from referrals.poster import poster_png
from referrals.qr import qr_png, qr_svg
from referrals.services import invite_attribute, invite_code_for, invite_code_normalize
from referrals.signup import link_forget, link_record, link_recorded

INVITEES_SHOWN = 100
LEADERBOARD_SIZE = 50


def invite_link_url(request: HttpRequest, code: str) -> str:
    """The member's invite link, absolute (what they share)."""
    return request.build_absolute_uri(reverse("referrals:link", args=[code]))


def _landing(now: datetime) -> str:
    featured = campaign_featured(now=now)
    return reverse("campaigns:detail", args=[featured.slug]) if featured is not None else reverse("home")


def invite_link(request: HttpRequest, code: str) -> HttpResponse:
    """An invite link opened: remember the code (session + signed cookie) for the sign-up that follows, give the
    browser its device cookie, and land on the featured campaign. A signed-in member is sent to their invite page,
    where they may confirm the code within 7 days of signing up: opening a link never attributes by itself."""
    now = timezone.now()
    normalized = invite_code_normalize(code)
    owner = selectors.invite_code_owner(code=normalized)
    user = request.user
    if not user.is_authenticated:
        response = redirect(_landing(now))
        if owner is None:
            messages.warning(
                request, _("That invite link is unknown or has expired. You can still sign up and join the campaign.")
            )
        else:
            link_record(request, response, normalized)
            messages.info(request, _("Your friend's invite is saved: sign up to accept it and get your newcomer gift."))
    else:
        response = redirect("referrals:invite")
        if owner is None:
            messages.warning(request, _("That invite link is unknown or has expired."))
        elif owner == user.pk:
            messages.info(request, _("This is your own invite link: share it with your friends."))
        elif selectors.late_entry_open(user=cast(User, user), now=now):
            link_record(request, response, normalized)
            messages.info(request, _("Confirm your friend's invite code below to accept the invite."))
        else:
            messages.info(request, _("Invite links are for new members: you are already one of us."))
    device_cookie_set(request, response)
    return response


class InviteCodeForm(forms.Form):
    code = forms.CharField(
        label=gettext_lazy("A friend's invite code"),
        max_length=32,
        widget=forms.TextInput(attrs={"autocomplete": "off", "autocapitalize": "characters", "spellcheck": "false"}),
    )


def _program(campaign: Campaign | None) -> Program | None:
    return selectors.program_active(campaign=campaign)


def _move(movement: leaderboard.Movement | None) -> dict[str, Any] | None:
    """A rank movement as the page says it (None: not ranked now or in the last snapshot)."""
    if movement is None or movement.change is None or movement.since is None:
        return None
    change = movement.change
    direction = "up" if change > 0 else "down" if change < 0 else "same"
    return {"direction": direction, "steps": abs(change), "since": movement.since}


def _status_rows(invites: list[Any], *, now: datetime) -> list[dict[str, Any]]:
    rows = []
    for invite in invites:
        points, pending = selectors.invite_points(invite, now=now)
        rows.append({"invite": invite, "name": invite.invitee.masked_name, "points": points, "pending": pending})
    return rows


@login_required
def invite_page(request: HttpRequest) -> HttpResponse:
    now = timezone.now()
    user = cast(User, request.user)
    code = invite_code_for(user_id=user.pk)
    campaign = campaign_featured(now=now)
    program = _program(campaign)
    summary = selectors.invite_summary(user_id=user.pk, now=now)
    invites = list(selectors.invitees(user_id=user.pk)[:INVITEES_SHOWN])
    rank = movement = None
    if campaign is not None and program is not None:
        rank = leaderboard.leaderboard_rank(campaign_id=campaign.pk, user_id=user.pk)
        movement = leaderboard.rank_movement(campaign_id=campaign.pk, user_id=user.pk, current=rank)
    late = selectors.late_entry_open(user=user, now=now)
    recorded = link_recorded(request) if late else ""
    context = {
        "code": code,
        "link": invite_link_url(request, code),
        "campaign": campaign,
        "program": program,
        "counting": program is not None and campaign is not None and campaign.phase_at(now) == "official",
        "summary": summary,
        "rows": _status_rows(invites, now=now),
        "more": summary.total > len(invites),
        "statuses": InviteStatus,
        "my_rank": rank,
        "move": _move(movement),
        "late_form": InviteCodeForm(initial={"code": recorded}) if late else None,
        "poster_name": f"invite-{code}.png",
    }
    response = render(request, "referrals/invite.html", context)
    device_cookie_set(request, response)
    return response


@login_required
@require_POST
def invite_code_enter(request: HttpRequest) -> HttpResponse:
    """A member who signed up less than 7 days ago enters a friend's code (invite_attribute refuses too_late)."""
    form = InviteCodeForm(request.POST)
    if not form.is_valid():
        messages.error(request, _("Enter your friend's invite code."))
        return redirect("referrals:invite")
    attribution = invite_attribute(
        invitee_id=cast(User, request.user).pk, code=form.cleaned_data["code"], context=signup_context(request)
    )
    if attribution.invite is None:
        messages.warning(request, attribution.message)
    else:
        link_forget(request)
        messages.success(request, _("Your friend's invite counts: you joined through it."))
    return redirect("referrals:invite")


@login_required
def invite_qr(request: HttpRequest, fmt: str) -> HttpResponse:
    """The member's own invite link as a QR code, PNG or SVG (a download: `?download=1`)."""
    link = invite_link_url(request, invite_code_for(user_id=cast(User, request.user).pk))
    if fmt == "svg":
        response = HttpResponse(qr_svg(link), content_type="image/svg+xml")
    else:
        response = HttpResponse(qr_png(link), content_type="image/png")
    if request.GET.get("download"):
        response["Content-Disposition"] = f'attachment; filename="invite-qr.{fmt}"'
    response["Cache-Control"] = "private, max-age=3600"
    return response


@login_required
def invite_poster(request: HttpRequest) -> HttpResponse:
    """The member's own poster for the featured campaign (there is no way to ask for another member's)."""
    user = cast(User, request.user)
    code = invite_code_for(user_id=user.pk)
    data = poster_png(
        user=user, campaign=campaign_featured(), link=invite_link_url(request, code), code=code, language=user.language
    )
    response = HttpResponse(data, content_type="image/png")
    if request.GET.get("download"):
        response["Content-Disposition"] = f'attachment; filename="invite-{code}.png"'
    response["Cache-Control"] = "private, max-age=600"
    return response


def leaderboard_page(request: HttpRequest, slug: str) -> HttpResponse:
    """The campaign's invite leaderboard: the top 50 (masked names, title badges) and, for a signed-in member, their
    own rank and its movement since the last hourly snapshot."""
    try:
        campaign = campaign_by_slug(slug=slug)
    except CampaignNotFound as exc:
        raise Http404(str(exc.message)) from exc
    user_id = cast(User, request.user).pk if request.user.is_authenticated else None
    board = leaderboard.leaderboard_view(campaign_id=campaign.pk, user_id=user_id, n=LEADERBOARD_SIZE)
    movement = None
    if user_id is not None:
        movement = leaderboard.rank_movement(campaign_id=campaign.pk, user_id=user_id, current=board.me)
    program = _program(campaign)
    context = {
        "campaign": campaign,
        "program": program,
        "entries": board.entries,
        "me": board.me,
        "move": _move(movement),
        "program_title": localized(program, "title") if program is not None else "",
        "my_id": user_id,
        "size": LEADERBOARD_SIZE,
    }
    return render(request, "referrals/leaderboard.html", context)
