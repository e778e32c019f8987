"""Member pages of the prize wheel: the wheel itself, "My prizes", the shipping address of a physical prize, and
the public fairness page. Thin: selectors in, services do.

The wheel page spins through the public API (static/js/wheel.js posts to `POST /api/v1/campaigns/{slug}/wheel/
spins` with the session, so the page uses the documented response); the form posts to `spin_submit` only without
JavaScript. Texts the API does not carry (result titles, button labels) are rendered into the page here."""

from __future__ import annotations

import secrets
from typing import Any, cast

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext
from django.views.decorators.http import require_POST

from accounts.models import User
from accounts.selectors import request_user_id
from campaigns.errors import CampaignNotFound
from campaigns.models import Campaign
from campaigns.selectors import campaign_by_slug, campaign_open_for_members, campaign_opens_later
from config.errors import DomainError
from config.ratelimit import rate_limit_page
from lottery import fairness, geometry, selectors, services
from lottery.errors import AddressClosed, DrawNotFound, InvalidSpinKey, PrizeNotFound, WheelNotFound
from lottery.models import Prize, PrizeKind, Wheel
from shipments.forms import address_pick
from shipments.rules import ShipmentStatus

MY_PRIZES_LIMIT = 200
FREE_LABELS_MAX = 100  # free-spin counters the page can relabel without a reload
_ID = 2**31 - 1  # placeholder id in the address URL wheel.js fills in


def _wheel(slug: str) -> tuple[Campaign, Wheel]:
    try:
        campaign = campaign_by_slug(slug=slug)
        wheel = selectors.wheel_for(campaign=campaign)
    except (CampaignNotFound, WheelNotFound) as exc:
        raise Http404(str(exc.message)) from exc
    return campaign, wheel


# --- Texts of the wheel page (also what wheel.js shows after a spin) ------------------------------------------


def _cost_label(next_cost: int) -> str:
    if next_cost == 0:
        return _("Free spin")
    return ngettext("%(points)d point", "%(points)d points", next_cost) % {"points": next_cost}


def _free_label(free_left: int) -> str:
    """How many free spins are left today ("" when none)."""
    if not free_left:
        return ""
    return ngettext("%(n)d free spin left today", "%(n)d free spins left today", free_left) % {"n": free_left}


def _button_label(*, can_spin: bool, next_cost: int) -> str:
    if not can_spin:
        return _("No spins left")
    if next_cost == 0:
        return _("Free spin")
    return _("Spin · %(cost)d points") % {"cost": next_cost}


def _spin_blocked(*, can_spin: bool, left_today: int | None, next_cost: int, spendable: int) -> str:
    """Why the member cannot spin right now, and what to do ("" when they can). The caps come from spin_status();
    the balance check is the one the spin makes (the spin refuses a cost above the spendable balance)."""
    if not can_spin:
        if left_today == 0:
            return "today"
        return "total"
    if next_cost > spendable:
        return "points"
    return ""


def _blocked_texts(*, wheel: Wheel) -> dict[str, dict[str, str]]:
    """Button label and reason for each way a spin can be out of reach (keys: _spin_blocked's answers)."""
    return {
        "today": {
            "button": _("No spins left today"),
            "reason": _("You have used today's spins. Come back tomorrow for more."),
        },
        "total": {
            "button": _("No spins left"),
            "reason": _("You have used all the spins this campaign allows."),
        },
        "points": {
            "button": _("Not enough points"),
            "reason": ngettext(
                "A spin costs %(cost)d point. Earn more with the daily check-in and tasks, then come back.",
                "A spin costs %(cost)d points. Earn more with the daily check-in and tasks, then come back.",
                wheel.cost_points,
            )
            % {"cost": wheel.cost_points},
        },
    }


def _result_text(prize: Prize, wheel: Wheel) -> tuple[str, str]:
    """(title, message) of winning `prize`, in the member's language."""
    name = prize.display_name
    if prize.kind == PrizeKind.NONE:
        return name, _("No prize this time. Good luck with the next spin!")
    title = _("You won %(prize)s!") % {"prize": name}
    if prize.kind == PrizeKind.POINTS:
        message = _("%(points)d points have been added to your balance.") % {"points": prize.points_amount or 0}
    elif prize.kind == PrizeKind.MULTIPLIER_CARD:
        message = _("Your points multiplier card is active now for %(hours)d hours.") % {
            "hours": prize.multiplier_hours or 0
        }
    elif prize.kind == PrizeKind.PHYSICAL:
        message = _("Add your shipping address within %(days)d days and we will send it to you.") % {
            "days": wheel.claim_days
        }
    else:
        message = _("Your code is below and always in “My prizes”.")
    return title, message


def _page_texts(*, wheel: Wheel, odds: list[selectors.OddsRow]) -> dict[str, Any]:
    """What wheel.js needs besides the API's spin response: the result text of every prize, the labels for each
    possible next cost and free-spin count, and the address page of a draw. Keys are the response's values."""
    costs = sorted({0, wheel.cost_points})
    return {
        "results": {
            str(row.prize.pk): dict(zip(("title", "message"), _result_text(row.prize, wheel), strict=True))
            for row in odds
        },
        "cost": {str(n): _cost_label(n) for n in costs},
        "button": {str(n): _button_label(can_spin=True, next_cost=n) for n in costs},
        "no_spins": _button_label(can_spin=False, next_cost=0),
        "blocked": _blocked_texts(wheel=wheel),
        "free": {str(n): _free_label(n) for n in range(min(wheel.free_spins_per_day, FREE_LABELS_MAX) + 1)},
        "address_url": reverse("lottery:prize_address", args=[_ID]).replace(str(_ID), "{id}"),
    }


# --- The wheel page and the spin without JavaScript ----------------------------------------------------------


@login_required
def wheel_page(request: HttpRequest, slug: str) -> HttpResponse:
    campaign, wheel = _wheel(slug)
    user_id = request_user_id(request)
    now = timezone.now()
    odds = selectors.odds_table(wheel=wheel)
    member = selectors.member_status(wheel_id=wheel.pk, user_id=user_id, now=now)  # one query: status and balance
    status, spendable = member.spin, member.spendable
    blocked = _spin_blocked(
        can_spin=status.can_spin, left_today=status.left_today, next_cost=status.next_cost, spendable=spendable
    )
    blocked_text = _blocked_texts(wheel=wheel).get(blocked, {})
    in_stock = [
        geometry.Slice(r.prize.pk, r.prize.display_name, r.prize.kind == PrizeKind.NONE) for r in odds if r.in_stock
    ]
    return render(
        request,
        "lottery/wheel.html",
        {
            "campaign": campaign,
            "wheel": wheel,
            "spins_open": campaign_open_for_members(campaign=campaign, now=now),
            "spins_later": campaign_opens_later(campaign=campaign, now=now),
            "odds": odds,
            "segments": geometry.wheel_segments(in_stock),
            "status": status,
            "button_label": blocked_text.get("button")
            or _button_label(can_spin=status.can_spin, next_cost=status.next_cost),
            "blocked": blocked,
            "blocked_reason": blocked_text.get("reason", ""),
            "cost_label": _cost_label(status.next_cost),
            "free_label": _free_label(status.free_left_today),
            "texts": _page_texts(wheel=wheel, odds=odds),
            "api_url": reverse("api-wheel-spins", args=[campaign.slug]),
            "balance": spendable,
            "winners": selectors.recent_winners(wheel=wheel),
            "fairness": selectors.fairness_for(wheel=wheel, now=now),
            # One-time: the request key of the next spin (wheel.js sends it as the Idempotency-Key), so a double
            # submit or a retry replays the first spin.
            "token": secrets.token_hex(16),
        },
    )


@login_required
@require_POST
@rate_limit_page("spin")
def spin_submit(request: HttpRequest, slug: str) -> HttpResponse:
    """One spin without JavaScript: the page's one-time token is the request key, so a double submit replays the
    first spin; the result comes back as a message on the wheel page."""
    _campaign, wheel = _wheel(slug)
    try:
        token = request.POST.get("token", "")
        if not token:
            raise InvalidSpinKey()
        result = services.spin_perform(wheel=wheel, user_id=request_user_id(request), request_key=token)
    except DomainError as exc:
        messages.error(request, str(exc.message))
        return redirect("lottery:wheel", slug=slug)
    if result.replayed:
        messages.info(request, _("This spin was already submitted; here is its result again."))
    title, message = _result_text(result.draw.prize, wheel)
    text = f"{title} {message}"
    if result.draw.code:
        text += " " + _("Code: %(code)s") % {"code": result.draw.code}
    messages.success(request, text)
    return redirect("lottery:wheel", slug=slug)


# --- My prizes and shipping addresses ------------------------------------------------------------------


@login_required
def my_prizes(request: HttpRequest) -> HttpResponse:
    rows = selectors.prize_rows(user_id=request_user_id(request), now=timezone.now(), limit=MY_PRIZES_LIMIT)
    return render(request, "lottery/my_prizes.html", {"rows": rows, "statuses": ShipmentStatus})


@login_required
def prize_address(request: HttpRequest, draw_id: int) -> HttpResponse:
    """Pick a saved address or enter a new one for a physical prize; errors stay on the form, nothing changes."""
    user = cast(User, request.user)
    row = selectors.prize_row(user_id=user.pk, draw_id=draw_id, now=timezone.now())
    if row is None:
        raise Http404
    draw, shipment = row.draw, row.shipment
    if not row.address_open:
        messages.error(request, str(AddressClosed.default_message))
        return redirect("lottery:prizes")
    pick = address_pick(user=user, data=request.POST if request.method == "POST" else None)
    if pick.is_valid():
        try:
            if pick.is_new:
                services.prize_address_set(user=user, draw_id=draw.pk, data=pick.new.cleaned_data)
            else:
                services.prize_address_set(user=user, draw_id=draw.pk, address_id=pick.address_id)
        except ValidationError as exc:
            pick.refuse(exc)
        except AddressClosed as exc:
            messages.error(request, str(exc.message))
            return redirect("lottery:prizes")
        except PrizeNotFound as exc:
            raise Http404 from exc
        else:
            message = _("Shipping address saved. We will send “%(prize)s” soon.")
            messages.success(request, message % {"prize": draw.prize.display_name})
            return redirect("lottery:prizes")
    return render(request, "lottery/address.html", {"draw": draw, "shipment": shipment, **pick.context()})


# --- Fairness ------------------------------------------------------------------------------------------


class DrawLookupForm(forms.Form):
    draw = forms.CharField(
        label=gettext_lazy("Draw reference"),
        max_length=64,
        help_text=gettext_lazy("The 32 characters shown with each of your draws below."),
    )


def fairness_page(request: HttpRequest, slug: str) -> HttpResponse:
    """Public: how draws work, the commitment, the seed once revealed, and a draw (found by its reference)
    recomputed from it. Members see their own draws with their references; nobody sees who made a draw."""
    campaign, wheel = _wheel(slug)
    form = DrawLookupForm(request.GET if "draw" in request.GET else None)
    user_id = request_user_id(request) if request.user.is_authenticated else None
    reference = form.cleaned_data["draw"] if form.is_valid() else None
    try:
        report = selectors.fairness_report(wheel=wheel, reference=reference, user_id=user_id)
    except DrawNotFound:
        form.add_error(
            "draw",
            _(
                "No draw with this reference can be shown. Check the reference; other members' draws can be looked "
                "up once the campaign has ended."
            ),
        )
        report = selectors.fairness_report(wheel=wheel, user_id=user_id)
    return render(
        request,
        "lottery/fairness.html",
        {
            "campaign": campaign,
            "wheel": wheel,
            "fairness": report.fairness,
            "form": form,
            "draw": report.draw,
            "mine": report.mine,
            "player": report.player,
            "slots": report.slots,
            "check": report.check,
            "my_draws": report.my_draws or [],
            "my_player_key": report.my_player_key,
            "snippet": fairness.VERIFY_SNIPPET,
        },
    )
