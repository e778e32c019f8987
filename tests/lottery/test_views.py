"""Member pages of the prize wheel through Django's test client: the wheel page, spins with JavaScript (through
the public API, as wheel.js does) and without, My prizes, the shipping-address form and the public fairness page."""

from __future__ import annotations

import json
import re
from datetime import timedelta

import pytest
from django.conf import settings
from django.test import Client
from django.utils import timezone, translation
from rest_framework import serializers

from accounts.models import Address
from accounts.services import address_save
from campaigns.models import Campaign
from config.api import ErrorSerializer
from lottery.api import SpinSerializer
from lottery.models import Draw, Prize, PrizeKind, WheelPlayer
from lottery.services import prize_address_set, spin_perform
from points.selectors import balance_for
from shipments.models import Shipment
from shipments.rules import ShipmentStatus
from shipments.services import shipment_transition

from .conftest import none_prize, shipment_of

pytestmark = pytest.mark.django_db

WHEEL = "/c/carnival/wheel/"
SPIN = "/c/carnival/wheel/spin/"
FAIRNESS = "/c/carnival/wheel/fairness/"
PRIZES = "/me/prizes/"
CERTAIN = 10**9  # against "thanks for playing" (weight 100): a miss has a chance of 1 in 10 million

ADDRESS = {
    "address": "new",
    "recipient": "王小明",
    "phone": "13800138000",
    "province": "上海市",
    "city": "上海市",
    "district": "浦东新区",
    "detail": "世纪大道100号",
    "postal_code": "200120",
}


def t(language: str, text: str) -> str:
    with translation.override(language):
        return translation.gettext(text)


def client_for(user=None, language: str = "en") -> Client:
    client = Client()
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = language
    if user is not None:
        client.force_login(user, backend="accounts.backends.PhoneOrEmailBackend")
    return client


def spendable(user_id: int) -> int:
    return balance_for(user_id=user_id).spendable


def messages_of(response) -> list[str]:
    return [str(m) for m in response.context["messages"]]


def token_of(html: str) -> str:
    match = re.search(r'name="token" value="([0-9a-f]{32})"', html)
    assert match, "the page renders a one-time spin token"
    return match.group(1)


def end_campaign(campaign: Campaign) -> None:
    """Move the campaign's schedule into the past (the seed is revealed once it has ended)."""
    now = timezone.now()
    Campaign.objects.filter(pk=campaign.pk).update(
        warmup_starts_at=now - timedelta(days=20),
        official_starts_at=now - timedelta(days=15),
        followup_starts_at=now - timedelta(days=5),
        ends_at=now - timedelta(hours=1),
    )


# --- The wheel page ------------------------------------------------------------------------------------


def test_wheel_page_shows_wheel_cost_balance_odds_winners_and_commitment(wheel, member, make_user, fund, add_prize):
    phone = add_prize(PrizeKind.PHYSICAL, name="Phone", weight=100, stock=3, per_member_cap=1)
    gone = add_prize(PrizeKind.PHYSICAL, name="Sold-out bike", weight=50, stock=1)
    Prize.objects.filter(pk=gone.pk).update(stock_remaining=0)
    winner = make_user(display_name="Zhang San")
    fund(winner.pk, 50)
    Prize.objects.filter(pk=phone.pk).update(weight=CERTAIN)
    spin_perform(wheel=wheel, user_id=winner.pk, request_key="w1")
    Prize.objects.filter(pk=phone.pk).update(weight=100)
    fund(member.pk, 120)

    response = client_for(member).get(WHEEL)
    assert response.status_code == 200
    html = response.content.decode()
    assert "Prize wheel" in html
    assert 'data-testid="balance">120<' in html
    assert 'data-testid="spin-cost">50 points<' in html
    assert 'data-testid="left-today"' not in html  # no caps: no counters
    assert 'data-testid="spin-button"' in html
    token_of(html)
    # One slice per prize in stock, each with its prize id (the sold-out one is not on the wheel).
    slices = re.findall(r'class="segment" data-prize-id="(\d+)"', html)
    assert slices == [str(none_prize(wheel).pk), str(phone.pk)]
    # The odds table lists every prize: 100/(100+100) each, the sold-out one at 0 and marked.
    rows = dict(re.findall(r'data-prize-id="(\d+)">.*?data-testid="odds-percent">([\d.]+)%<', html, re.S))
    assert rows == {str(none_prize(wheel).pk): "50", str(phone.pk): "50", str(gone.pk): "0"}
    assert "unlimited" in html
    assert html.count('data-testid="sold-out"') == 1
    assert "(at most 1 per member)" in html
    assert 'href="/c/carnival/rules/"' in html
    assert "drop out of the draw" in html
    # Ticker: the winner's masked name, never the full one.
    assert "Z** won Phone" in html
    assert "Zhang San" not in html
    assert wheel.seed_commitment in html
    assert wheel.server_seed not in html
    assert 'href="/c/carnival/wheel/fairness/"' in html
    assert 'href="/me/prizes/"' in html
    assert 'data-testid="nav-prizes"' in html
    # A fresh token on every render.
    assert token_of(client_for(member).get(WHEEL).content.decode()) != token_of(html)


def test_wheel_page_in_chinese(wheel, member):
    html = client_for(member, "zh-hans").get(WHEEL).content.decode()
    assert "积分抽奖大转盘" in html
    assert t("zh-hans", "Prizes and chances") in html
    assert "谢谢参与" in html


def test_free_spin_and_caps_are_shown(wheel, member):
    wheel.free_spins_per_day, wheel.daily_cap, wheel.total_cap = 1, 3, 10
    wheel.save()
    html = client_for(member).get(WHEEL).content.decode()
    assert 'data-testid="spin-cost">Free spin<' in html
    assert ">Free spin</button>" in html
    assert "1 free spin left today" in html
    assert 'data-testid="left-today">3<' in html
    assert 'data-testid="left-total">10<' in html


def test_no_spins_left_disables_the_button(wheel, member, fund):
    wheel.daily_cap = 1
    wheel.save()
    fund(member.pk, 100)
    spin_perform(wheel=wheel, user_id=member.pk, request_key="only")
    html = client_for(member).get(WHEEL).content.decode()
    assert 'data-testid="left-today">0<' in html
    assert re.search(r'data-testid="spin-button" disabled aria-describedby="spin-reason">No spins left today<', html)
    assert "You have used today&#x27;s spins. Come back tomorrow for more." in html


def test_a_member_who_cannot_afford_a_spin_sees_why_before_tapping(wheel, member, fund):
    wheel.cost_points, wheel.free_spins_per_day = 50, 0
    wheel.save()
    fund(member.pk, 25)
    html = client_for(member).get(WHEEL).content.decode()
    assert re.search(r'data-testid="spin-button" disabled aria-describedby="spin-reason">Not enough points<', html)
    assert "A spin costs 50 points. Earn more with the daily check-in and tasks, then come back." in html
    assert f'href="/c/{wheel.campaign.slug}/checkin/"' in html
    fund(member.pk, 25)  # 50 now: exactly one spin
    html = client_for(member).get(WHEEL).content.decode()
    assert re.search(r'data-testid="spin-button">Spin · 50 points<', html)
    assert re.search(r'data-testid="spin-reason"\s+hidden', html)


def test_outside_the_official_phase_the_button_is_replaced_by_a_message(wheel, member):
    now = timezone.now()
    Campaign.objects.filter(pk=wheel.campaign_id).update(official_starts_at=now + timedelta(days=1))
    html = client_for(member).get(WHEEL).content.decode()
    assert 'data-testid="spin-closed"' in html
    assert "The wheel opens when the official phase starts" in html
    assert 'data-testid="spin-form"' not in html
    end_campaign(wheel.campaign)
    html = client_for(member).get(WHEEL).content.decode()
    assert "The wheel is closed" in html
    assert 'data-testid="spin-button"' not in html


def test_unknown_campaign_or_no_wheel_is_404(campaign, member):
    client = client_for(member)
    assert client.get(WHEEL).status_code == 404  # the campaign has no wheel
    assert client.get(FAIRNESS).status_code == 404
    assert client.post(SPIN, {"token": "t"}).status_code == 404
    assert client.get("/c/nope/wheel/").status_code == 404


def test_anonymous_visitors_are_sent_to_log_in(wheel, add_prize):
    client = client_for()
    for url in (WHEEL, PRIZES, "/me/prizes/1/address/"):
        response = client.get(url)
        assert response.status_code == 302
        assert response["Location"].startswith("/accounts/login/")
    response = client.post(SPIN, {"token": "abc"})
    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/login/")
    assert not Draw.objects.exists()


def test_campaign_page_has_a_prize_wheel_entrance(wheel, campaign):
    html = client_for().get("/c/carnival/").content.decode()
    assert 'href="/c/carnival/wheel/" data-testid="entrance-wheel"' in html
    assert 'data-testid="entrance-prizes"' in html


def test_campaign_without_wheel_has_no_wheel_entrance(campaign):
    html = client_for().get("/c/carnival/").content.decode()
    assert 'data-testid="entrance-wheel"' not in html


# --- Spins ---------------------------------------------------------------------------------------------


def test_spin_without_javascript_debits_once_and_redirects_with_a_message(wheel, member, fund):
    fund(member.pk, 120)
    client = client_for(member)
    token = token_of(client.get(WHEEL).content.decode())
    response = client.post(SPIN, {"token": token}, follow=True)
    assert response.redirect_chain == [(WHEEL, 302)]
    assert messages_of(response) == ["Thanks for playing No prize this time. Good luck with the next spin!"]
    assert spendable(member.pk) == 70
    draw = Draw.objects.get()
    assert (draw.request_key, draw.cost_points, draw.user_id) == (token, 50, member.pk)
    assert 'data-testid="balance">70<' in response.content.decode()


def test_spin_message_names_the_prize_and_its_code(wheel, member, fund, add_prize):
    voucher = add_prize(PrizeKind.MEMBERSHIP_VOUCHER, name="VIP month", weight=CERTAIN)
    fund(member.pk, 50)
    response = client_for(member).post(SPIN, {"token": "k" * 32}, follow=True)
    draw = Draw.objects.get()
    assert draw.prize_id == voucher.pk
    (message,) = messages_of(response)
    assert message.startswith("You won VIP month!")
    assert f"Code: {draw.code}" in message


# --- Spins with JavaScript: wheel.js posts to the public API with the session ---------------------------------


def page_of(client: Client) -> tuple[str, dict]:
    """The wheel page's HTML and the texts it renders for wheel.js (#wheel-texts)."""
    html = client.get(WHEEL).content.decode()
    match = re.search(r'<script id="wheel-texts" type="application/json">(.*?)</script>', html, re.S)
    assert match, "the page renders the texts wheel.js shows"
    return html, json.loads(match.group(1))


def js_spin(client: Client, html: str, key: str | None = None):
    """What wheel.js sends: POST to the form's data-api URL, the form's CSRF token, the token as Idempotency-Key."""
    api = re.search(r'data-api="([^"]+)"', html)
    csrf = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', html)
    assert api
    assert csrf
    return client.post(
        api.group(1),
        content_type="application/json",
        HTTP_ACCEPT="application/json",
        HTTP_X_CSRFTOKEN=csrf.group(1),
        HTTP_IDEMPOTENCY_KEY=key or token_of(html),
    )


def csrf_client_for(user, language: str = "en") -> Client:
    """A browser-like client: CSRF is checked, as for the real page."""
    client = Client(enforce_csrf_checks=True)
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = language
    client.force_login(user, backend="accounts.backends.PhoneOrEmailBackend")
    return client


def test_the_page_spins_through_the_api_with_the_session(wheel, member, fund, add_prize):
    phone = add_prize(PrizeKind.PHYSICAL, name="Phone", weight=CERTAIN)
    wheel.daily_cap = 5
    wheel.save()
    fund(member.pk, 130)
    client = csrf_client_for(member)
    html, texts = page_of(client)
    assert re.search(r'data-api="/api/v1/campaigns/carnival/wheel/spins"', html)
    response = js_spin(client, html)
    assert response.status_code == 201
    spin = response.json()
    draw = Draw.objects.get()
    assert draw.request_key == token_of(html)  # the page's one-time token is the spin's request key
    assert (spin["id"], spin["prize"]["id"], spin["won"]) == (draw.pk, phone.pk, True)
    assert spin["prize"]["kind"] == "physical"
    assert spin["me"] == {
        "spins_today": 1, "spins_total": 1, "left_today": 4, "left_total": None, "free_left_today": 0,
        "next_cost": 50, "can_spin": True, "spendable": 80,
    }  # fmt: skip
    # The page's texts for what the API returned.
    assert texts["results"][str(phone.pk)]["title"] == "You won Phone!"
    assert texts["cost"][str(spin["me"]["next_cost"])] == "50 points"
    assert texts["button"][str(spin["me"]["next_cost"])] == "Spin · 50 points"
    assert texts["free"][str(spin["me"]["free_left_today"])] == ""
    assert texts["no_spins"] == "No spins left"
    assert texts["address_url"].replace("{id}", str(spin["id"])) == f"/me/prizes/{draw.pk}/address/"
    assert shipment_of(draw).status == ShipmentStatus.AWAITING_ADDRESS


def test_a_spin_without_the_csrf_token_is_refused(wheel, member, fund):
    fund(member.pk, 100)
    client = csrf_client_for(member)
    response = client.post(
        "/api/v1/campaigns/carnival/wheel/spins", content_type="application/json", HTTP_IDEMPOTENCY_KEY="no-csrf"
    )
    assert response.status_code == 403
    assert response.json()["error"]["code"] == "permission_denied"
    assert not Draw.objects.exists()
    assert spendable(member.pk) == 100


def test_page_texts_are_in_the_members_language(wheel, member, fund, add_prize):
    points = add_prize(PrizeKind.POINTS, name="100积分", name_en="100 points", weight=1, points_amount=100)
    wheel.free_spins_per_day = 2
    wheel.save()
    fund(member.pk, 50)
    client = csrf_client_for(member, "zh-hans")
    html, texts = page_of(client)
    spin = js_spin(client, html).json()
    assert spin["prize"]["name"] == "谢谢参与"  # the API answers in the session's language too
    none_id = str(none_prize(wheel).pk)
    with translation.override("zh-hans"):
        assert texts["results"][none_id] == {
            "title": "谢谢参与",
            "message": translation.gettext("No prize this time. Good luck with the next spin!"),
        }
        assert texts["results"][str(points.pk)]["message"] == translation.gettext(
            "%(points)d points have been added to your balance."
        ) % {"points": 100}
        assert texts["cost"] == {"0": translation.gettext("Free spin"), "50": "50 " + translation.gettext("points")}
        assert texts["free"]["1"] == translation.ngettext(
            "%(n)d free spin left today", "%(n)d free spins left today", 1
        ) % {"n": 1}
    assert set(texts["free"]) == {"0", "1", "2"}


def test_page_texts_cover_free_spin_counts_and_plurals(wheel, member):
    wheel.free_spins_per_day = 2
    wheel.save()
    _html, texts = page_of(client_for(member))
    assert texts["free"] == {"0": "", "1": "1 free spin left today", "2": "2 free spins left today"}
    assert texts["button"] == {"0": "Free spin", "50": "Spin · 50 points"}


def test_double_click_spins_once(wheel, member, fund):
    """wheel.js sends the same Idempotency-Key until an attempt is answered: the second request replays."""
    fund(member.pk, 200)
    client = csrf_client_for(member)
    html, _texts = page_of(client)
    first, second = js_spin(client, html), js_spin(client, html)
    assert Draw.objects.count() == 1
    assert WheelPlayer.objects.get(user=member).spins_total == 1
    assert spendable(member.pk) == 150
    assert first.json()["id"] == second.json()["id"]
    assert second["Idempotent-Replayed"] == "true"
    # A new key (wheel.js makes one after each answer) is a new spin.
    assert js_spin(client, html, key="next-attempt").json()["id"] != first.json()["id"]
    assert Draw.objects.count() == 2


def test_api_refusals_carry_the_message_the_page_shows(wheel, member, fund):
    wheel.daily_cap = 1
    wheel.save()
    fund(member.pk, 49)
    client = csrf_client_for(member)
    html, _texts = page_of(client)
    response = js_spin(client, html, key="poor")
    assert response.status_code == 422
    error = response.json()["error"]
    assert (error["code"], error["message"]) == ("insufficient_points", "Not enough points.")
    fund(member.pk, 100)
    assert js_spin(client, html, key="a").status_code == 201
    response = js_spin(client, html, key="b")
    assert (response.status_code, response.json()["error"]["code"]) == (422, "spin_limit_reached")
    assert Draw.objects.count() == 1


def _declared(serializer: serializers.Serializer) -> dict:
    """The field tree a serializer declares: {name: subtree or None}."""
    return {
        name: _declared(field) if isinstance(field, serializers.Serializer) else None
        for name, field in serializer.fields.items()
    }


def test_wheel_js_reads_only_fields_the_api_declares():
    """The page's JavaScript uses the public contract: every `spin.<path>` (the Spin response, or its error) and
    `me.<field>` (its `me`) that static/js/wheel.js reads is declared by the API serializers in the schema."""
    source = (settings.BASE_DIR / "static" / "js" / "wheel.js").read_text()
    spin_tree = {**_declared(SpinSerializer()), **_declared(ErrorSerializer())}
    used = {("spin", path) for path in re.findall(r"\bspin\.([a-z_]+(?:\.[a-z_]+)*)", source)}
    used |= {("me", path) for path in re.findall(r"\bme\.([a-z_]+(?:\.[a-z_]+)*)", source)}
    assert {path for root, path in used if root == "spin"} >= {"id", "prize.id", "prize.kind", "won", "code", "me"}
    assert {path for root, path in used if root == "me"} >= {"spendable", "next_cost", "can_spin"}
    for root, path in used:
        node: dict | None = spin_tree if root == "spin" else spin_tree["me"]
        for part in path.split("."):
            assert node is not None
            assert part in node, f"wheel.js reads {root}.{path}, which the API does not declare"
            node = node[part]


# --- Spins without JavaScript ----------------------------------------------------------------------------


def test_double_submit_of_the_form_spins_once(wheel, member, fund):
    fund(member.pk, 200)
    client = client_for(member)
    token = token_of(client.get(WHEEL).content.decode())
    client.post(SPIN, {"token": token})
    second = client.post(SPIN, {"token": token}, follow=True)
    assert Draw.objects.count() == 1
    assert WheelPlayer.objects.get(user=member).spins_total == 1
    assert spendable(member.pk) == 150
    assert "This spin was already submitted; here is its result again." in messages_of(second)


def test_insufficient_points_shows_the_error_and_changes_nothing(wheel, member, fund):
    fund(member.pk, 49)
    client = client_for(member)
    response = client.post(SPIN, {"token": "poor"}, follow=True)
    assert messages_of(response) == ["Not enough points."]
    assert 'class="msg msg-error"' in response.content.decode()
    assert spendable(member.pk) == 49
    assert not Draw.objects.exists()
    assert not WheelPlayer.objects.filter(user=member, spins_total__gt=0).exists()


def test_spin_limit_and_closed_campaign_are_errors(wheel, member, fund):
    wheel.daily_cap = 1
    wheel.save()
    fund(member.pk, 200)
    client = client_for(member)
    client.post(SPIN, {"token": "a"}, follow=True)
    response = client.post(SPIN, {"token": "b"}, follow=True)
    assert messages_of(response) == [t("en", "You have used all your spins for now.")]
    end_campaign(wheel.campaign)
    response = client.post(SPIN, {"token": "c"}, follow=True)
    assert messages_of(response) == [t("en", "This activity is only open during the campaign's official phase.")]
    assert Draw.objects.count() == 1
    assert spendable(member.pk) == 150


def test_spin_needs_a_token_and_a_post(wheel, member, fund):
    fund(member.pk, 100)
    client = client_for(member)
    response = client.post(SPIN, {}, follow=True)
    assert messages_of(response) == ["The request key must be 1-120 printable characters."]
    assert client.get(SPIN).status_code == 405
    assert not Draw.objects.exists()
    assert spendable(member.pk) == 100


# --- My prizes -----------------------------------------------------------------------------------------


@pytest.fixture
def won_phone(wheel, member, fund, add_prize):
    """The member won a physical prize (its shipment waits for an address)."""
    phone = add_prize(PrizeKind.PHYSICAL, name="Phone", weight=CERTAIN)
    fund(member.pk, 50)
    draw = spin_perform(wheel=wheel, user_id=member.pk, request_key="phone").draw
    assert draw.prize_id == phone.pk
    Prize.objects.filter(pk=phone.pk).update(weight=1)
    return draw


def test_my_prizes_lists_wins_newest_first_with_shipment_state(*, wheel, member, make_user, fund, add_prize, won_phone):
    voucher = add_prize(PrizeKind.MEMBERSHIP_VOUCHER, name="VIP month", weight=CERTAIN)
    fund(member.pk, 100)
    vip = spin_perform(wheel=wheel, user_id=member.pk, request_key="vip").draw
    assert vip.prize_id == voucher.pk
    Prize.objects.filter(pk=voucher.pk).update(weight=1)
    spin_perform(wheel=wheel, user_id=member.pk, request_key="none")  # almost surely "thanks for playing"
    other = make_user()
    fund(other.pk, 50)
    Prize.objects.filter(pk=voucher.pk).update(weight=CERTAIN)
    spin_perform(wheel=wheel, user_id=other.pk, request_key="theirs")

    html = client_for(member).get(PRIZES).content.decode()
    ids = [int(i) for i in re.findall(r'data-testid="prize" data-draw-id="(\d+)"', html)]
    mine = list(Draw.objects.filter(user=member).exclude(prize__kind=PrizeKind.NONE).order_by("-created_at", "-id"))
    assert ids == [d.pk for d in mine]
    assert won_phone.pk in ids
    assert vip.pk in ids
    assert f'data-testid="prize-code">{vip.code}<' in html
    assert 'data-status="awaiting_address"' in html
    assert ">Waiting for an address<" in html
    assert 'data-testid="claim-deadline"' in html
    assert f'href="/me/prizes/{won_phone.pk}/address/" data-testid="address-button">Add shipping address<' in html
    assert "Points Carnival" in html


def test_my_prizes_shows_the_address_and_tracking_once_shipped(wheel, member, won_phone):
    shipment = prize_address_set(user=member, draw_id=won_phone.pk, data=dict(ADDRESS))
    html = client_for(member).get(PRIZES).content.decode()
    assert ">Ready to ship<" in html
    assert "王小明" in html
    assert "世纪大道100号" in html
    assert ">Change address<" in html
    shipment_transition(
        shipment_id=shipment.pk, to=ShipmentStatus.SHIPPED, carrier="SF", tracking_number="SF123", now=timezone.now()
    )
    html = client_for(member).get(PRIZES).content.decode()
    assert ">Shipped<" in html
    assert 'data-testid="tracking-number">SF123<' in html
    assert 'data-testid="address-button"' not in html


def test_my_prizes_empty(member):
    html = client_for(member).get(PRIZES).content.decode()
    assert 'data-testid="no-prizes"' in html


# --- The shipping address form -------------------------------------------------------------------------


def test_address_form_saves_a_new_address(member, won_phone):
    url = f"/me/prizes/{won_phone.pk}/address/"
    client = client_for(member)
    html = client.get(url).content.decode()
    assert 'data-testid="address-form"' in html
    assert 'name="recipient"' in html
    assert 'type="hidden" name="address" value="new"' in html  # no saved address: the fields only
    response = client.post(url, ADDRESS, follow=True)
    assert response.redirect_chain == [(PRIZES, 302)]
    assert messages_of(response) == ["Shipping address saved. We will send “Phone” soon."]
    shipment = shipment_of(won_phone)
    assert shipment.status == ShipmentStatus.READY
    assert (shipment.recipient, shipment.phone, shipment.detail) == ("王小明", "+8613800138000", "世纪大道100号")
    assert Address.objects.filter(user=member, recipient="王小明").count() == 1  # kept in the address book


def test_address_form_errors_are_shown_and_nothing_changes(member, won_phone):
    url = f"/me/prizes/{won_phone.pk}/address/"
    client = client_for(member)
    response = client.post(url, {**ADDRESS, "recipient": "", "phone": "12345"})
    assert response.status_code == 200
    html = response.content.decode()
    assert 'data-field="recipient"' in html
    response = client.post(url, {**ADDRESS, "phone": "12345"})
    assert response.status_code == 200
    assert 'data-field="phone"' in response.content.decode()
    assert "Enter a valid phone number." in response.content.decode()
    assert shipment_of(won_phone).status == ShipmentStatus.AWAITING_ADDRESS
    assert not Address.objects.filter(user=member).exists()


def test_address_form_uses_a_saved_address(member, make_user, won_phone):
    home = address_save(user=member, data={**ADDRESS, "recipient": "李雷", "detail": "人民路1号"})
    stranger = address_save(user=make_user(), data={**ADDRESS, "recipient": "Stranger"})
    url = f"/me/prizes/{won_phone.pk}/address/"
    client = client_for(member)
    html = client.get(url).content.decode()
    assert f'name="address" value="{home.pk}" checked' in html
    # Someone else's address id is refused and changes nothing.
    response = client.post(url, {"address": str(stranger.pk)})
    assert response.status_code == 200
    assert 'data-field="address"' in response.content.decode()
    assert shipment_of(won_phone).status == ShipmentStatus.AWAITING_ADDRESS
    response = client.post(url, {"address": str(home.pk)})
    assert response.status_code == 302
    shipment = shipment_of(won_phone)
    assert (shipment.status, shipment.recipient, shipment.detail) == (ShipmentStatus.READY, "李雷", "人民路1号")
    assert Address.objects.filter(user=member).count() == 1  # no copy made


def test_address_form_of_someone_elses_prize_is_404(make_user, won_phone):
    other = make_user()
    url = f"/me/prizes/{won_phone.pk}/address/"
    client = client_for(other)
    assert client.get(url).status_code == 404
    assert client.post(url, ADDRESS).status_code == 404
    assert shipment_of(won_phone).status == ShipmentStatus.AWAITING_ADDRESS
    assert client.get("/me/prizes/999999999/address/").status_code == 404


def test_address_form_of_a_prize_without_shipping_is_404(wheel, member, fund):
    fund(member.pk, 50)
    draw = spin_perform(wheel=wheel, user_id=member.pk, request_key="none").draw  # thanks for playing
    assert client_for(member).get(f"/me/prizes/{draw.pk}/address/").status_code == 404


def test_address_cannot_change_after_shipping(member, won_phone):
    shipment = prize_address_set(user=member, draw_id=won_phone.pk, data=dict(ADDRESS))
    shipment_transition(
        shipment_id=shipment.pk, to=ShipmentStatus.SHIPPED, carrier="SF", tracking_number="S1", now=timezone.now()
    )
    url = f"/me/prizes/{won_phone.pk}/address/"
    response = client_for(member).post(url, {**ADDRESS, "recipient": "Changed"}, follow=True)
    assert response.redirect_chain == [(PRIZES, 302)]
    assert messages_of(response) == ["The shipping address of this prize can no longer be changed."]
    assert Shipment.objects.get(pk=shipment.pk).recipient == "王小明"


# --- Fairness ------------------------------------------------------------------------------------------


# The page's draws by reference, before and after the end: tests/lottery/test_fairness_exposure.py


def test_fairness_page_in_chinese(wheel):
    html = client_for(language="zh-hans").get(FAIRNESS).content.decode()
    assert t("zh-hans", "How the draw works") in html
