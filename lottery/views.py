"""Member pages of the prize wheel: the wheel itself (spins with or without JavaScript), "My prizes", the
shipping address of a physical prize, and the public fairness page. Thin: selectors in, services do."""

from __future__ import annotations

import math
import secrets
import unicodedata
from dataclasses import dataclass
from typing import Any, cast

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext
from django.views.decorators.http import require_POST

from accounts.forms import AddressForm
from accounts.models import Address, User
from accounts.selectors import address_list, request_user_id
from campaigns.errors import CampaignNotFound
from campaigns.models import Campaign
from campaigns.selectors import campaign_by_slug
from config.api import error_body
from config.errors import DomainError
from lottery import fairness, selectors, services
from lottery.errors import AddressClosed, DrawNotFound, InvalidSpinKey, PrizeNotFound, WheelNotFound
from lottery.models import Draw, FulfilmentStatus, PrizeKind, Wheel
from points.selectors import balance_for

MY_PRIZES_LIMIT = 200


def _wheel(slug: str) -> tuple[Campaign, Wheel]:
    try:
        campaign = campaign_by_slug(slug=slug)
        wheel = selectors.wheel_for(campaign=campaign)
    except (CampaignNotFound, WheelNotFound) as exc:
        raise Http404(str(exc.message)) from exc
    return campaign, wheel


# --- The wheel drawing ---------------------------------------------------------------------------------

RADIUS = 96
LABEL_FROM, LABEL_TO = 24, 90  # labels run along the radius between these distances from the centre
PALETTE = ("#e4393c", "#ff9f1c", "#d4380d", "#f7c948", "#c2185b", "#ff7a45")
LIGHT = frozenset({"#ff9f1c", "#f7c948"})
NONE_COLOUR = "#fff3e0"


@dataclass(frozen=True)
class Segment:
    """One equal slice of the drawn wheel (angles in degrees, clockwise from 12 o'clock)."""

    prize_id: int
    name: str
    label: str
    start: float
    end: float
    path: str  # "" for a single prize: the whole disc
    fill: str
    ink: str
    font_size: float

    @property
    def centre(self) -> float:
        return (self.start + self.end) / 2

    @property
    def flipped(self) -> bool:
        """Labels on the left half read towards the centre, so none is upside down while the wheel rests."""
        return 180 < self.centre < 360

    @property
    def label_rotation(self) -> float:
        return self.centre + 90 if self.flipped else self.centre - 90

    @property
    def label_x(self) -> int:
        return -LABEL_FROM if self.flipped else LABEL_FROM

    @property
    def label_anchor(self) -> str:
        return "end" if self.flipped else "start"


def _point(angle: float) -> str:
    rad = math.radians(angle)
    return f"{RADIUS * math.sin(rad):.3f} {-RADIUS * math.cos(rad):.3f}"


def _text_width(text: str) -> float:
    """Rough width in em: CJK and other wide characters are 1em, the rest about 0.56em."""
    return sum(1.0 if unicodedata.east_asian_width(c) in "WF" else 0.56 for c in text)


def _fit(name: str) -> tuple[str, float]:
    """A label that fits along the radius: the largest font size from 10 down to 6.5, then shortened."""
    room = LABEL_TO - LABEL_FROM
    width = _text_width(name)
    if width == 0:
        return name, 10
    size = min(10.0, room / width)
    if size >= 6.5:
        return name, round(size, 2)
    label = name
    while label and _text_width(label + "…") * 6.5 > room:
        label = label[:-1]
    return label.rstrip() + "…", 6.5


def wheel_segments(rows: list[selectors.OddsRow]) -> list[Segment]:
    """Equal slices for the prizes still in stock, in wheel order (the chances are in the odds table)."""
    in_stock = [row.prize for row in rows if row.in_stock]
    n = len(in_stock)
    segments: list[Segment] = []
    colour = 0
    for i, prize in enumerate(in_stock):
        start, end = 360 * i / n, 360 * (i + 1) / n
        if prize.kind == PrizeKind.NONE:
            fill = NONE_COLOUR
        else:
            fill = PALETTE[colour % len(PALETTE)]
            if i == n - 1 and n > 2 and fill == segments[0].fill:
                fill = PALETTE[(colour + 1) % len(PALETTE)]  # the last slice touches the first one
            colour += 1
        path = (
            "" if n == 1 else f"M0 0 L{_point(start)} A{RADIUS} {RADIUS} 0 {int(end - start > 180)} 1 {_point(end)} Z"
        )
        label, size = _fit(prize.display_name)
        ink = "#7a2e00" if fill == NONE_COLOUR or fill in LIGHT else "#fff"
        segments.append(Segment(prize.pk, prize.display_name, label, start, end, path, fill, ink, size))
    return segments


# --- The wheel page and the spin -----------------------------------------------------------------------


def _cost_labels(status: selectors.SpinStatus, wheel: Wheel) -> tuple[str, str]:
    """What the next spin costs, and how many free spins are left today ("" when none)."""
    if status.next_cost == 0:
        cost = _("Free spin")
    else:
        cost = ngettext("%(points)d point", "%(points)d points", status.next_cost) % {"points": status.next_cost}
    free = status.free_left_today
    free_label = (
        ngettext("%(n)d free spin left today", "%(n)d free spins left today", free) % {"n": free} if free else ""
    )
    return cost, free_label


def _button_label(status: selectors.SpinStatus) -> str:
    if not status.can_spin:
        return _("No spins left")
    if status.next_cost == 0:
        return _("Free spin")
    return _("Spin · %(cost)d points") % {"cost": status.next_cost}


@login_required
def wheel_page(request: HttpRequest, slug: str) -> HttpResponse:
    campaign, wheel = _wheel(slug)
    user_id = request_user_id(request)
    now = timezone.now()
    odds = selectors.odds_table(wheel=wheel)
    status = selectors.spin_status(wheel=wheel, user_id=user_id, now=now)
    cost_label, free_label = _cost_labels(status, wheel)
    return render(
        request,
        "lottery/wheel.html",
        {
            "campaign": campaign,
            "wheel": wheel,
            "phase": campaign.phase_at(now),
            "odds": odds,
            "segments": wheel_segments(odds),
            "status": status,
            "button_label": _button_label(status),
            "cost_label": cost_label,
            "free_label": free_label,
            "balance": balance_for(user_id=user_id, now=now).spendable,
            "winners": selectors.recent_winners(wheel=wheel),
            "fairness": selectors.fairness_for(wheel=wheel, now=now),
            "token": secrets.token_hex(16),  # one-time: a double submit replays the first spin
        },
    )


def _result_text(draw: Draw, wheel: Wheel) -> tuple[str, str]:
    """(title, message) of a spin's result, in the member's language."""
    prize = draw.prize
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


def _spin_payload(*, wheel: Wheel, draw: Draw, replayed: bool, user_id: int) -> dict[str, Any]:
    now = timezone.now()
    status = selectors.spin_status(wheel=wheel, user_id=user_id, now=now)
    title, message = _result_text(draw, wheel)
    cost_label, free_label = _cost_labels(status, wheel)
    prize = draw.prize
    return {
        "draw_id": draw.pk,
        "prize_id": prize.pk,
        "prize_name": prize.display_name,
        "kind": prize.kind,
        "won": prize.is_win,
        "code": draw.code,
        "cost": draw.cost_points,
        "spin_number": draw.spin_number,
        "replayed": replayed,
        "balance": balance_for(user_id=user_id, now=now).spendable,
        "left_today": status.left_today,
        "left_total": status.left_total,
        "next_cost": status.next_cost,
        "can_spin": status.can_spin,
        "button_label": _button_label(status),
        "cost_label": cost_label,
        "free_label": free_label,
        "title": title,
        "message": message,
        "address_url": reverse("lottery:prize_address", args=[draw.pk]) if prize.kind == PrizeKind.PHYSICAL else None,
        "prizes_url": reverse("lottery:prizes"),
        "next_token": secrets.token_hex(16),
    }


def _wants_json(request: HttpRequest) -> bool:
    return "application/json" in request.headers.get("Accept", "")


@login_required
@require_POST
def spin_submit(request: HttpRequest, slug: str) -> HttpResponse:
    """One spin. The page's one-time token is the request key, so a double submit replays the first spin.
    wheel.js asks for JSON (Accept: application/json) and animates; without JavaScript: redirect + message."""
    _campaign, wheel = _wheel(slug)
    user_id = request_user_id(request)
    wants_json = _wants_json(request)
    try:
        token = request.POST.get("token", "")
        if not token:
            raise InvalidSpinKey()
        result = services.spin_perform(wheel=wheel, user_id=user_id, request_key=token)
    except DomainError as exc:
        if wants_json:
            return JsonResponse(error_body(exc.code, exc.message, exc.details), status=exc.status)
        messages.error(request, str(exc.message))
        return redirect("lottery:wheel", slug=slug)
    payload = _spin_payload(wheel=wheel, draw=result.draw, replayed=result.replayed, user_id=user_id)
    if wants_json:
        return JsonResponse(payload)
    if result.replayed:
        messages.info(request, _("This spin was already submitted; here is its result again."))
    text = f"{payload['title']} {payload['message']}"
    if result.draw.code:
        text += " " + _("Code: %(code)s") % {"code": result.draw.code}
    messages.success(request, text)
    return redirect("lottery:wheel", slug=slug)


# --- My prizes and shipping addresses ------------------------------------------------------------------


@login_required
def my_prizes(request: HttpRequest) -> HttpResponse:
    rows = selectors.prize_rows(user_id=request_user_id(request), now=timezone.now(), limit=MY_PRIZES_LIMIT)
    return render(request, "lottery/my_prizes.html", {"rows": rows, "statuses": FulfilmentStatus})


class ShippingAddressForm(AddressForm):
    """A new address for the shipment (saved in the address book too); the default flag is not asked here."""

    class Meta:
        model = Address
        fields = ("recipient", "phone", "province", "city", "district", "detail", "postal_code")


NEW = "new"


class AddressChoiceForm(forms.Form):
    address = forms.ChoiceField(label=gettext_lazy("Ship to"), widget=forms.RadioSelect)

    def __init__(self, *args: Any, addresses: list[Address], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        field = cast(forms.ChoiceField, self.fields["address"])
        field.choices = [(str(a.pk), str(a.pk)) for a in addresses] + [(NEW, NEW)]


@login_required
def prize_address(request: HttpRequest, draw_id: int) -> HttpResponse:
    """Pick a saved address or enter a new one for a physical prize; errors stay on the form, nothing changes."""
    user = cast(User, request.user)
    draw = selectors.prizes_of(user_id=user.pk).filter(pk=draw_id, fulfilment__isnull=False).first()
    if draw is None:
        raise Http404
    fulfilment = draw.fulfilment
    if not selectors.fulfilment_address_open(fulfilment=fulfilment, now=timezone.now()):
        messages.error(request, str(AddressClosed.default_message))
        return redirect("lottery:prizes")
    addresses = list(address_list(user=user))
    data = request.POST if request.method == "POST" else None
    choice = AddressChoiceForm(
        data, addresses=addresses, initial={"address": str(addresses[0].pk) if addresses else NEW}
    )
    # The new-address fields only count (and only show errors) when "a new address" is the choice.
    new = ShippingAddressForm(data if data is not None and data.get("address") == NEW else None)
    if data is not None and choice.is_valid() and (choice.cleaned_data["address"] != NEW or new.is_valid()):
        picked = choice.cleaned_data["address"]
        try:
            if picked == NEW:
                services.fulfilment_address_set(user=user, draw_id=draw.pk, data=new.cleaned_data)
            else:
                services.fulfilment_address_set(user=user, draw_id=draw.pk, address_id=int(picked))
        except ValidationError as exc:
            errors = exc.message_dict if hasattr(exc, "error_dict") else {"__all__": exc.messages}
            for field, problems in errors.items():
                if picked == NEW:
                    new.add_error(field if field in new.fields else None, problems)
                else:
                    choice.add_error("address", problems)
        except AddressClosed as exc:
            messages.error(request, str(exc.message))
            return redirect("lottery:prizes")
        except PrizeNotFound as exc:
            raise Http404 from exc
        else:
            message = _("Shipping address saved. We will send “%(prize)s” soon.")
            messages.success(request, message % {"prize": draw.prize.display_name})
            return redirect("lottery:prizes")
    return render(
        request,
        "lottery/address.html",
        {
            "draw": draw,
            "fulfilment": fulfilment,
            "addresses": addresses,
            "choice": choice,
            "picked": choice["address"].value(),
            "form": new,
            "new_value": NEW,
        },
    )


# --- Fairness ------------------------------------------------------------------------------------------


class DrawLookupForm(forms.Form):
    draw = forms.IntegerField(label=gettext_lazy("Draw number"), min_value=1, max_value=2**63 - 1)


def fairness_page(request: HttpRequest, slug: str) -> HttpResponse:
    """Public: how draws work, the commitment, the seed once revealed, and any draw recomputed from it."""
    campaign, wheel = _wheel(slug)
    form = DrawLookupForm(request.GET if "draw" in request.GET else None)
    user_id = request_user_id(request) if request.user.is_authenticated else None
    draw_id = form.cleaned_data["draw"] if form.is_valid() else None
    try:
        report = selectors.fairness_report(wheel=wheel, draw_id=draw_id, user_id=user_id)
    except DrawNotFound:
        form.add_error("draw", _("There is no draw with this number on this wheel."))
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
            "slots": report.slots,
            "check": report.check,
            "my_draws": report.my_draws or [],
            "snippet": fairness.VERIFY_SNIPPET,
            "phase": campaign.phase_at(timezone.now()),
        },
    )
