"""Operators' side of the prize wheel in the Django admin: wheels and prizes (through lottery.services, audited),
won prizes in the shipments queue, code pools and multiplier cards."""

from __future__ import annotations

import csv
import io
from collections.abc import Callable
from datetime import timedelta
from decimal import Decimal
from typing import Any

import pytest
from auditlog.models import LogEntry
from django.contrib.contenttypes.models import ContentType
from django.core.exceptions import ValidationError
from django.test import Client
from django.utils import timezone

from accounts.models import User
from campaigns.models import Campaign
from campaigns.services import multiplier_card_issue
from lottery import fairness, selectors
from lottery.errors import OddsChangeRefused
from lottery.models import PRIZE_SHIPMENT, Draw, Prize, PrizeKind, Wheel
from lottery.services import prize_address_set, prize_check, spin_perform
from mall.models import Code, CodePool, Supplier
from tests.conftest import staff_client
from tests.data import ADDRESS

from .conftest import none_prize

pytestmark = pytest.mark.django_db

WHEELS = "/admin/lottery/wheel/"
PRIZES = "/admin/lottery/prize/"
SHIPMENTS = "/admin/shipments/shipment/"
EXPORT = f"{SHIPMENTS}export/"
POOLS = "/admin/mall/codepool/"


# --- Clients ------------------------------------------------------------------------------------------------


@pytest.fixture
def superuser(make_user: Callable[..., User]) -> tuple[User, Client]:
    user = make_user(is_staff=True, is_superuser=True, display_name="Boss")
    return user, staff_client(user)


# --- Form helpers -------------------------------------------------------------------------------------------


def _post_value(value: Any) -> Any:
    if value is None:
        return ""
    if hasattr(value, "pk"):
        return str(value.pk)
    return str(value)


def change_form_data(response: Any) -> dict[str, Any]:
    """The POST body the admin change page would send unchanged: the main form and every inline form."""
    assert response.status_code == 200
    data: dict[str, Any] = {}

    def add(form: Any) -> None:
        for name, field in form.fields.items():
            value = form[name].value()
            if getattr(field.widget, "input_type", None) == "file":
                continue
            if isinstance(value, bool):
                if value:
                    data[form.add_prefix(name)] = "on"
                continue
            data[form.add_prefix(name)] = _post_value(value)

    add(response.context["adminform"].form)
    for inline in response.context["inline_admin_formsets"]:
        formset = inline.formset
        add(formset.management_form)
        for form in formset.forms:
            add(form)
    return data


def prize_row(data: dict[str, Any], prize: Prize) -> str:
    """The inline prefix ("prizes-N") of a prize on the wheel's change form."""
    for key, value in data.items():
        if key.startswith("prizes-") and key.endswith("-id") and value == str(prize.pk):
            return key.removesuffix("-id")
    raise AssertionError(f"prize {prize.pk} is not on the form")


def add_inline_prize(data: dict[str, Any], **fields: Any) -> None:
    n = int(data["prizes-TOTAL_FORMS"])
    data["prizes-TOTAL_FORMS"] = str(n + 1)
    row = {"id": "", "wheel": "", "sort_order": "0", "name_en": "", "per_member_cap": "", "points_amount": ""}
    row.update({"multiplier_percent": "", "multiplier_hours": "", "code_pool": ""})
    row.update({k: str(v) for k, v in fields.items()})
    for name, value in row.items():
        data[f"prizes-{n}-{name}"] = value


def wheel_change(client: Client, wheel: Wheel) -> tuple[str, dict[str, Any]]:
    url = f"{WHEELS}{wheel.pk}/change/"
    return url, change_form_data(client.get(url))


def inline_errors(response: Any) -> list[str]:
    assert response.status_code == 200, "expected the form to be shown again"
    found: list[str] = []
    for inline in response.context["inline_admin_formsets"]:
        for form in inline.formset.forms:
            for field, errors in form.errors.items():
                found.extend(f"{field}: {e}" for e in errors)
    return found


def messages_of(response: Any) -> list[str]:
    return [str(m) for m in response.context["messages"]]


def odds_version(wheel: Wheel) -> int:
    return Wheel.objects.get(pk=wheel.pk).odds_version


def prize_state(prize: Prize) -> tuple[Any, ...]:
    p = Prize.objects.get(pk=prize.pk)
    return (p.weight, p.stock_total, p.stock_remaining, p.unit_value_cny, p.name, p.per_member_cap)


# --- Wheels and prizes --------------------------------------------------------------------------------------


def test_wheel_with_a_prize_is_created_through_the_admin(superuser, campaign):
    user, client = superuser
    assert client.get(f"{WHEELS}add/").status_code == 200
    data = {
        "name": "大转盘",
        "name_en": "Big wheel",
        "campaign": str(campaign.pk),
        "cost_points": "30",
        "free_spins_per_day": "1",
        "daily_cap": "5",
        "total_cap": "",
        "claim_days": "14",
        "prizes-TOTAL_FORMS": "0",
        "prizes-INITIAL_FORMS": "0",
        "prizes-MIN_NUM_FORMS": "0",
        "prizes-MAX_NUM_FORMS": "1000",
    }
    add_inline_prize(data, kind="physical", name="耳机", weight="5", stock_total="3", unit_value_cny="299.00")

    response = client.post(f"{WHEELS}add/", data)
    assert response.status_code == 302, response.context and response.context["adminform"].form.errors
    wheel = Wheel.objects.get(campaign=campaign)
    assert (wheel.name, wheel.cost_points, wheel.daily_cap, wheel.total_cap, wheel.claim_days) == (
        "大转盘",
        30,
        5,
        None,
        14,
    )
    assert len(wheel.server_seed) == 64
    assert wheel.seed_commitment == fairness.commitment(wheel.server_seed)
    phone = Prize.objects.get(wheel=wheel, kind=PrizeKind.PHYSICAL)
    assert (phone.weight, phone.stock_total, phone.stock_remaining) == (5, 3, 3)
    assert none_prize(wheel).weight == 100  # wheel_save added "thanks for playing"
    assert wheel.odds_version == 2  # the new prize changed the odds once
    created = LogEntry.objects.get_for_object(wheel).get()
    assert created.actor_id == user.pk
    assert created.action == LogEntry.Action.CREATE
    assert "server_seed" not in (created.changes or {})

    page = client.get(f"{WHEELS}{wheel.pk}/change/").content.decode()
    assert wheel.seed_commitment in page
    assert wheel.server_seed not in page  # secret until the campaign ends
    assert 'data-testid="odds-row"' in page


def test_wheel_form_shows_the_service_errors_and_saves_nothing(superuser, campaign):
    _user, client = superuser
    data = {
        "name": "free wheel",
        "name_en": "",
        "campaign": str(campaign.pk),
        "cost_points": "0",
        "free_spins_per_day": "0",
        "daily_cap": "",
        "total_cap": "",
        "claim_days": "30",
        "prizes-TOTAL_FORMS": "0",
        "prizes-INITIAL_FORMS": "0",
    }
    response = client.post(f"{WHEELS}add/", data)
    assert response.status_code == 200
    errors = response.context["adminform"].form.errors
    assert errors["cost_points"] == ["A wheel that costs nothing needs a daily or total spin limit."]
    assert not Wheel.objects.exists()

    response = client.post(f"{WHEELS}add/", {**data, "daily_cap": "3"})
    assert response.status_code == 302
    assert Wheel.objects.get().daily_cap == 3


@pytest.mark.parametrize(
    ("change", "reason"),
    [
        ({"weight": "5"}, "a prize's weight cannot go down"),
        ({"stock_total": "4"}, "stock cannot be taken away"),
        ({"unit_value_cny": "99.00"}, "a prize's value cannot go down"),
        ({"per_member_cap": "1"}, "a per-member limit cannot get stricter"),
    ],
)
def test_worsening_a_prize_on_a_live_wheel_is_refused_and_changes_nothing(operator, wheel, add_prize, change, reason):
    _user, client = operator
    phone = add_prize(weight=10, stock=5)
    before, version = prize_state(phone), odds_version(wheel)
    log_count = LogEntry.objects.count()
    url, data = wheel_change(client, wheel)
    row = prize_row(data, phone)
    data.update({f"{row}-{k}": v for k, v in change.items()})
    data["name"] = "renamed too"  # the wheel's own change is not saved either

    response = client.post(url, data)
    errors = inline_errors(response)
    assert any(reason in e for e in errors), errors
    assert "may only change in members" in response.content.decode()
    assert prize_state(phone) == before
    assert odds_version(wheel) == version
    assert Wheel.objects.get(pk=wheel.pk).name != "renamed too"
    assert LogEntry.objects.count() == log_count


def test_raising_thanks_for_playing_on_a_live_wheel_is_refused(operator, wheel, add_prize):
    _user, client = operator
    add_prize(weight=10, stock=5)
    url, data = wheel_change(client, wheel)
    data[f"{prize_row(data, none_prize(wheel))}-weight"] = "150"
    errors = inline_errors(client.post(url, data))
    assert any("the chance of “thanks for playing” cannot grow" in e for e in errors), errors
    assert none_prize(wheel).weight == 100


@pytest.mark.parametrize(
    ("target", "change", "expected"),
    [
        ("phone", {"weight": "20"}, {"weight": 20, "stock_total": 5, "stock_remaining": 5}),
        ("phone", {"stock_total": "8"}, {"weight": 10, "stock_total": 8, "stock_remaining": 8}),
        ("none", {"weight": "60"}, {"weight": 60, "stock_total": None, "stock_remaining": None}),
    ],
)
def test_improvements_on_a_live_wheel_go_through_and_bump_the_odds_version(
    operator, add_prize, target, change, expected
):
    user, client = operator
    phone = add_prize(weight=10, stock=5)
    wheel = phone.wheel
    prize = phone if target == "phone" else none_prize(wheel)
    version = odds_version(wheel)
    url, data = wheel_change(client, wheel)
    row = prize_row(data, prize)
    data.update({f"{row}-{k}": v for k, v in change.items()})

    response = client.post(url, data)
    assert response.status_code == 302, inline_errors(response)
    saved = Prize.objects.get(pk=prize.pk)
    assert {k: getattr(saved, k) for k in expected} == expected
    assert odds_version(wheel) == version + 1
    entry = LogEntry.objects.get_for_object(saved).order_by("-id").first()
    assert entry.actor_id == user.pk
    assert "weight" in entry.changes or "stock_total" in entry.changes


def test_a_refusal_at_save_time_undoes_the_whole_change(operator, wheel, add_prize, monkeypatch):
    """If prize_save refuses after the form was validated (another operator's edit in between), nothing of the
    admin's save stays and the operator is told why."""
    _user, client = operator
    phone = add_prize(weight=10, stock=5)
    version, log_count = odds_version(wheel), LogEntry.objects.count()

    def refuse(**kwargs: Any) -> Prize:
        raise OddsChangeRefused(details={"reasons": ["stock cannot be taken away"]})

    monkeypatch.setattr("lottery.services.prize_save", refuse)
    url, data = wheel_change(client, wheel)
    data["name"] = "renamed"
    data[f"{prize_row(data, phone)}-weight"] = "20"
    response = client.post(url, data, follow=True)
    shown = messages_of(response)
    assert any("stock cannot be taken away" in m for m in shown)
    assert not any("was changed successfully" in m for m in shown)
    assert Wheel.objects.get(pk=wheel.pk).name != "renamed"
    assert Prize.objects.get(pk=phone.pk).weight == 10
    assert odds_version(wheel) == version
    assert LogEntry.objects.count() == log_count


def test_stock_added_while_units_were_won_keeps_the_won_units(operator, wheel, add_prize, member, fund):
    _user, client = operator
    phone = add_prize(weight=10**9, stock=5)
    fund(member.pk, 50)
    assert spin_perform(wheel=wheel, user_id=member.pk, request_key="w").draw.prize_id == phone.pk
    url, data = wheel_change(client, wheel)  # the form still shows total 5
    data[f"{prize_row(data, phone)}-stock_total"] = "7"
    assert client.post(url, data).status_code == 302
    phone.refresh_from_db()
    assert (phone.stock_total, phone.stock_remaining) == (7, 6)


def test_adding_a_prize_to_a_live_wheel_is_allowed(operator, wheel):
    _user, client = operator
    version = odds_version(wheel)
    url, data = wheel_change(client, wheel)
    add_inline_prize(data, kind="points", name="100 积分", weight="30", stock_total="100", unit_value_cny="1.00",
                     points_amount="100")  # fmt: skip
    response = client.post(url, data)
    assert response.status_code == 302, inline_errors(response)
    added = Prize.objects.get(wheel=wheel, kind=PrizeKind.POINTS)
    assert (added.points_amount, added.stock_remaining) == (100, 100)
    assert odds_version(wheel) == version + 1


def test_a_prize_worth_more_than_50000_rmb_is_refused(operator, wheel):
    _user, client = operator
    url, data = wheel_change(client, wheel)
    add_inline_prize(data, kind="physical", name="汽车", weight="1", stock_total="1", unit_value_cny="50000.01")
    errors = inline_errors(client.post(url, data))
    assert any(e.startswith("unit_value_cny: A lottery prize may not be worth more than 50,000 RMB") for e in errors)
    assert not Prize.objects.filter(name="汽车").exists()

    # The same rule on the prize's own page; exactly 50,000 is allowed.
    body = {"wheel": str(wheel.pk), "kind": "physical", "name": "汽车", "name_en": "", "weight": "1",
            "stock_total": "1", "per_member_cap": "", "unit_value_cny": "50000.01", "sort_order": "0"}  # fmt: skip
    response = client.post(f"{PRIZES}add/", body)
    assert response.status_code == 200
    assert "unit_value_cny" in response.context["adminform"].form.errors
    assert not Prize.objects.filter(name="汽车").exists()
    assert client.post(f"{PRIZES}add/", {**body, "unit_value_cny": "50000.00"}).status_code == 302
    assert Prize.objects.get(name="汽车").unit_value_cny == Decimal("50000.00")


def test_prize_kind_specific_fields_are_checked_by_the_service(operator, wheel):
    _user, client = operator
    url, data = wheel_change(client, wheel)
    add_inline_prize(data, kind="coupon", name="券", weight="1", stock_total="5", unit_value_cny="10")
    add_inline_prize(data, kind="physical", name="无限", weight="1", stock_total="", unit_value_cny="10")
    errors = inline_errors(client.post(url, data))
    assert "code_pool: Coupons need a code pool to take codes from." in errors
    assert "stock_total: Only “thanks for playing” may have unlimited stock." in errors
    assert Prize.objects.filter(wheel=wheel).count() == 1


def test_removing_a_prize_from_a_live_wheel_is_refused_with_a_message(operator, wheel, add_prize):
    _user, client = operator
    phone = add_prize()
    url, data = wheel_change(client, wheel)
    data[f"{prize_row(data, phone)}-DELETE"] = "on"
    response = client.post(url, data, follow=True)
    assert any("prizes cannot be removed from a live wheel" in m for m in messages_of(response))
    assert Prize.objects.filter(pk=phone.pk).exists()

    # Before the wheel is live, a prize nobody won can go.
    Campaign.objects.filter(pk=wheel.campaign_id).update(is_published=False)
    version = odds_version(wheel)
    url, data = wheel_change(client, wheel)
    data[f"{prize_row(data, phone)}-DELETE"] = "on"
    assert client.post(url, data).status_code == 302
    assert not Prize.objects.filter(pk=phone.pk).exists()
    assert odds_version(wheel) == version + 1
    # ... and its removal stays in the wheel's history.
    removed = [e for e in selectors.audit_entries(wheel=wheel) if e.action == LogEntry.Action.DELETE]
    assert [e.object_id for e in removed] == [phone.pk]


def test_thanks_for_playing_cannot_be_removed(operator, wheel):
    _user, client = operator
    Campaign.objects.filter(pk=wheel.campaign_id).update(is_published=False)
    url, data = wheel_change(client, wheel)
    data[f"{prize_row(data, none_prize(wheel))}-DELETE"] = "on"
    response = client.post(url, data, follow=True)
    assert any("always keeps its “thanks for playing” slot" in m for m in messages_of(response))
    assert Prize.objects.filter(wheel=wheel, kind=PrizeKind.NONE).exists()


def test_admin_edits_are_audited_with_the_actor_and_never_log_the_seed(operator, wheel, add_prize):
    user, client = operator
    phone = add_prize(weight=10, stock=5)
    url, data = wheel_change(client, wheel)
    data["name"] = "新名字"
    data["cost_points"] = "40"
    data[f"{prize_row(data, phone)}-weight"] = "12"
    assert client.post(url, data).status_code == 302

    wheel_entry = LogEntry.objects.get_for_object(wheel).filter(action=LogEntry.Action.UPDATE).get()
    assert wheel_entry.actor_id == user.pk
    assert wheel_entry.changes["name"][1] == "新名字"
    assert wheel_entry.changes["cost_points"] == ["50", "40"]
    prize_entry = LogEntry.objects.get_for_object(phone).filter(action=LogEntry.Action.UPDATE).get()
    assert prize_entry.actor_id == user.pk
    assert prize_entry.changes["weight"] == ["10", "12"]

    seed = Wheel.objects.get(pk=wheel.pk).server_seed
    for entry in LogEntry.objects.all():
        stored = f"{entry.changes} {entry.changes_text} {entry.object_repr} {entry.additional_data} "
        stored += str(entry.serialized_data)
        assert seed not in stored
        assert "server_seed" not in stored

    page = client.get(url).content.decode()
    assert page.count('data-testid="audit-entry"') >= 3  # wheel created + edited, prize edited
    assert user.display_name in page
    assert seed not in page


def test_the_seed_is_shown_once_the_campaign_has_ended(superuser, wheel):
    _user, client = superuser
    url = f"{WHEELS}{wheel.pk}/change/"
    assert wheel.server_seed not in client.get(url).content.decode()
    now = timezone.now()
    Campaign.objects.filter(pk=wheel.campaign_id).update(
        warmup_starts_at=now - timedelta(days=9),
        official_starts_at=now - timedelta(days=8),
        followup_starts_at=now - timedelta(days=3),
        ends_at=now - timedelta(days=1),
    )
    assert wheel.server_seed in client.get(url).content.decode()


def test_prize_page_uses_the_same_rules(operator, wheel, add_prize):
    _user, client = operator
    phone = add_prize(weight=10, stock=5)
    assert client.get(PRIZES).status_code == 200
    assert client.get(PRIZES, {"kind__exact": "physical", "wheel__id__exact": wheel.pk}).status_code == 200
    url = f"{PRIZES}{phone.pk}/change/"
    data = change_form_data(client.get(url))
    assert "wheel" not in data  # a prize stays on its wheel

    response = client.post(url, {**data, "weight": "9"})
    assert response.status_code == 200
    assert any("a prize's weight cannot go down" in e for e in response.context["adminform"].form.non_field_errors())
    assert Prize.objects.get(pk=phone.pk).weight == 10

    response = client.post(url, {**data, "weight": "11", "kind": "coupon"})  # the kind is fixed once saved
    assert response.status_code == 302
    saved = Prize.objects.get(pk=phone.pk)
    assert (saved.weight, saved.kind) == (11, PrizeKind.PHYSICAL)
    assert 'data-testid="audit-entry"' in client.get(url).content.decode()

    response = client.post(f"{PRIZES}{phone.pk}/delete/", {"post": "yes"}, follow=True)
    assert any("prizes cannot be removed from a live wheel" in m for m in messages_of(response))
    assert Prize.objects.filter(pk=phone.pk).exists()
    assert client.get(PRIZES).context["action_form"] is None  # no bulk delete (nor any other bulk action)


def test_prize_check_raises_like_prize_save_and_writes_nothing(wheel, add_prize):
    phone = add_prize(weight=10, stock=5)
    before = prize_state(phone)
    with pytest.raises(OddsChangeRefused) as refused:
        prize_check(prize=phone, data={"weight": 1, "stock_total": 2})
    assert set(refused.value.details["reasons"]) == {"a prize's weight cannot go down", "stock cannot be taken away"}
    with pytest.raises(ValidationError) as invalid:
        prize_check(prize=Prize(wheel=wheel), data={"kind": "points", "name": "x", "weight": 1, "stock_total": 1})
    assert "points_amount" in invalid.value.message_dict
    prize_check(prize=phone, data={"weight": 50})  # fine: no error
    assert phone.weight == 10  # the caller's object is untouched
    assert prize_state(phone) == before
    assert odds_version(wheel) == Wheel.objects.get(pk=wheel.pk).odds_version


def test_draws_are_read_only_and_searchable(analyst, wheel, member, fund):
    _user, client = analyst
    fund(member.pk, 50)
    draw = spin_perform(wheel=wheel, user_id=member.pk, request_key="k").draw
    response = client.get("/admin/lottery/draw/", {"q": member.phone})
    assert response.status_code == 200
    assert [d.pk for d in response.context["cl"].result_list] == [draw.pk]
    assert client.get("/admin/lottery/draw/", {"prize__kind": "none"}).status_code == 200
    assert client.get("/admin/lottery/draw/", {"q": "nobody@example.com"}).context["cl"].result_count == 0
    assert client.get(f"/admin/lottery/draw/{draw.pk}/change/").status_code == 200
    assert client.post(f"/admin/lottery/draw/{draw.pk}/delete/", {"post": "yes"}).status_code == 403
    assert Draw.objects.filter(pk=draw.pk).exists()


def test_operators_can_open_every_lottery_page(operator, wheel, add_prize):
    _user, client = operator
    add_prize()
    for url in (WHEELS, f"{WHEELS}add/", f"{WHEELS}{wheel.pk}/change/", PRIZES, f"{PRIZES}add/", SHIPMENTS,
                "/admin/lottery/draw/", POOLS, f"{POOLS}add/", "/admin/mall/code/",
                "/admin/campaigns/multipliercard/"):  # fmt: skip
        assert client.get(url).status_code == 200, url


def test_analysts_cannot_change_wheels_or_prizes(analyst, wheel, add_prize):
    _user, client = analyst
    phone = add_prize(weight=10)
    assert client.get(f"{WHEELS}{wheel.pk}/change/").status_code == 200  # view only
    assert client.get(f"{WHEELS}add/").status_code == 403
    client.post(f"{PRIZES}{phone.pk}/change/", {"weight": "99"})
    assert Prize.objects.get(pk=phone.pk).weight == 10


# --- Shipping queue (the queue itself: tests/shipments/test_admin.py) ----------------------------------------


def test_a_won_prize_waits_in_the_shipments_queue_under_the_prize_wheel(operator, wheel, add_prize, member, fund):
    _user, client = operator
    add_prize(weight=10**9, stock=5, name="耳机", name_en="Headphones")
    fund(member.pk, 50)
    draw = spin_perform(wheel=wheel, user_id=member.pk, request_key="ship-me").draw
    shipment = prize_address_set(user=member, draw_id=draw.pk, data=ADDRESS)
    response = client.get(SHIPMENTS, {"source": PRIZE_SHIPMENT})
    assert [s.pk for s in response.context["cl"].result_list] == [shipment.pk]
    assert f"Prize wheel #{draw.pk}" in response.content.decode()
    rows = list(csv.DictReader(io.StringIO(client.get(EXPORT, {"source": PRIZE_SHIPMENT}).content.decode("utf-8-sig"))))
    assert [(r["shipment_id"], r["item"], r["source"], r["recipient"]) for r in rows] == [
        (str(shipment.pk), "耳机", "Prize wheel", "王小明")
    ]


# --- Code pools and multiplier cards ------------------------------------------------------------------------


def test_code_pool_import_through_the_admin(operator, member):
    _user, client = operator
    jd = Supplier.objects.create(name="京东", name_en="JD")
    body = {
        "name": "京东卡",
        "supplier": str(jd.pk),
        "low_threshold": "10",
        "codes_to_add": "GOOD-0001\nbad code!\nab\nGOOD-0002\n",
    }
    response = client.post(f"{POOLS}add/", body)
    assert response.status_code == 200
    error = response.context["adminform"].form.errors["codes_to_add"][0]
    assert error.startswith("2 lines are not valid codes, nothing was added:")
    assert "bad code!" in error
    assert "ab" in error
    assert not CodePool.objects.exists()
    assert not Code.objects.exists()

    body["codes_to_add"] = "GOOD-0001\n  GOOD-0002  \nGOOD-0001\n"
    response = client.post(f"{POOLS}add/", body, follow=True)
    assert "2 codes added." in messages_of(response)
    pool = CodePool.objects.get()
    assert pool.supplier == jd
    assert sorted(Code.objects.filter(pool=pool).values_list("code", flat=True)) == ["GOOD-0001", "GOOD-0002"]

    Code.objects.filter(code="GOOD-0001").update(assigned_to=member, assigned_at=timezone.now(), assignment_key="k")
    url = f"{POOLS}{pool.pk}/change/"
    response = client.post(
        url,
        {"name": "京东卡", "supplier": str(jd.pk), "low_threshold": "10", "codes_to_add": "GOOD-0002\nGOOD-0003"},
        follow=True,
    )
    assert "1 code added." in messages_of(response)
    page = client.get(url)
    fields = {
        f.field["name"]: f.contents() for fs in page.context["adminform"] for line in fs for f in line if f.is_readonly
    }
    assert (fields["codes_total"], fields["codes_free"]) == ("3", "2")
    listing = client.get(POOLS).content.decode()
    assert "京东卡" in listing
    codes = client.get("/admin/mall/code/", {"q": "GOOD-0001"})
    assert [c.code for c in codes.context["cl"].result_list] == ["GOOD-0001"]
    assert client.get("/admin/mall/code/add/").status_code == 403


def test_multiplier_cards_are_listed_read_only(superuser, campaign, member):
    _user, client = superuser
    card = multiplier_card_issue(campaign=campaign, user_id=member.pk, percent=200, hours=24, source_key="draw:1",
                                 now=timezone.now())  # fmt: skip
    response = client.get("/admin/campaigns/multipliercard/", {"q": member.phone})
    assert response.status_code == 200
    assert [c.pk for c in response.context["cl"].result_list] == [card.pk]
    assert response.context["has_add_permission"] is False
    assert client.get(f"/admin/campaigns/multipliercard/{card.pk}/delete/").status_code == 403


def test_audit_entries_of_a_wheel_cover_its_prizes_only(wheel, add_prize, campaign):
    phone = add_prize()
    entries = selectors.audit_entries(wheel=wheel)
    ct = ContentType.objects.get_for_model(Prize)
    assert {(e.content_type_id == ct.id, e.object_id) for e in entries} >= {(True, phone.pk), (False, wheel.pk)}
    assert {e.object_id for e in selectors.audit_entries(prize=phone)} == {phone.pk}
