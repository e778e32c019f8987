"""Operators in the Django admin: "Adjust points", the reverse action, read-only ledger changelists."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

import pytest
from django.contrib.admin.helpers import ACTION_CHECKBOX_NAME
from django.contrib.auth.models import Group
from django.test import Client
from django.urls import reverse

from accounts.models import User
from accounts.services import staff_groups_sync
from points import selectors
from points.models import Account, Transfer
from tests.conftest import staff_client
from tests.points.conftest import assert_ledger_consistent, earn, spend, wallet

pytestmark = pytest.mark.django_db

ADJUST = "/admin/points/account/adjust/"
TRANSFERS = "/admin/points/transfer/"
ACCOUNTS = "/admin/points/account/"


def test_staff_groups_get_ledger_permissions_from_migrate() -> None:
    operator = Group.objects.get(name="operator")
    assert operator.permissions.filter(codename="adjust_points").exists()
    assert not Group.objects.get(name="analyst").permissions.filter(codename="adjust_points").exists()
    assert Group.objects.get(name="analyst").permissions.filter(codename="export_ledger").exists()


@pytest.fixture
def staff_groups() -> None:
    """The groups with their permissions, as `migrate` leaves them (synced again: transactional tests flush)."""
    staff_groups_sync()
    operator = Group.objects.get(name="operator")
    assert operator.permissions.filter(content_type__app_label="points", codename="adjust_points").exists()
    assert not Group.objects.get(name="analyst").permissions.filter(codename="adjust_points").exists()


@pytest.fixture
def staff(staff: Callable[[str], tuple[User, Client]], staff_groups: None) -> Callable[[str], tuple[User, Client]]:
    return staff  # the shared fixture (tests/conftest.py), after checking the groups' ledger permissions


@pytest.fixture
def superuser_client(make_user: Callable[..., User]) -> Client:
    return staff_client(make_user(is_staff=True, is_superuser=True))


def adjust_form(client: Client) -> dict[str, str]:
    response = client.get(ADJUST)
    assert response.status_code == 200
    match = re.search(r'name="key" value="([^"]+)"', response.content.decode())
    assert match, "the adjust form has no one-time key"
    return {"key": match.group(1), "campaign": ""}


def form_errors(response: Any) -> dict[str, list[str]]:
    assert response.status_code == 200, "expected the form to be shown again"
    return {name: [str(e) for e in errs] for name, errs in response.context["form"].errors.items()}


def messages_of(response: Any) -> list[str]:
    return [str(m) for m in response.context["messages"]]


# --- Adjust points ----------------------------------------------------------------------------------------


def test_operator_adjusts_points_with_a_reason(operator, member):
    user, client = operator
    earn(member, 10)
    data = {**adjust_form(client), "member": str(member.pk), "amount": "50", "reason": "  Missed check-in bonus "}

    response = client.post(ADJUST, data)
    transfer = Transfer.objects.get(kind="adjust")
    assert response.status_code == 302
    assert response["Location"] == reverse("admin:points_transfer_change", args=[transfer.pk])
    assert transfer.actor_id == user.pk
    assert transfer.amount == 50
    assert transfer.reason == "Missed check-in bonus"
    assert transfer.credit_id == wallet(member).pk
    assert wallet(member).balance == 60
    assert selectors.balance_for(user_id=member.pk).spendable == 60
    assert client.get(response["Location"]).status_code == 200  # the operator can view what they posted
    assert_ledger_consistent()


def test_double_submit_of_the_same_form_adjusts_once(operator, member):
    _user, client = operator
    data = {**adjust_form(client), "member": str(member.pk), "amount": "50", "reason": "Goodwill"}

    first = client.post(ADJUST, data)
    second = client.post(ADJUST, data)
    assert first.status_code == second.status_code == 302
    assert first["Location"] == second["Location"]
    assert Transfer.objects.filter(kind="adjust").count() == 1
    assert wallet(member).balance == 50

    # A fresh form (new key) is a new adjustment.
    client.post(ADJUST, {**data, "key": adjust_form(client)["key"]})
    assert Transfer.objects.filter(kind="adjust").count() == 2
    assert wallet(member).balance == 100


def test_each_form_gets_its_own_key(operator):
    _user, client = operator
    assert adjust_form(client)["key"] != adjust_form(client)["key"]


@pytest.mark.parametrize(
    ("changes", "field", "message"),
    [
        ({"reason": ""}, "reason", "This field is required."),
        ({"reason": "   "}, "reason", None),
        ({"amount": "0"}, "amount", "The amount cannot be zero."),
        ({"amount": "ten"}, "amount", None),
        ({"member": "+8613000000000"}, "member", "Pick a member from the list."),
        ({"member": "999999999"}, "member", "Pick a member from the list."),
        ({"member": ""}, "member", "This field is required."),
        ({"campaign": "999999999"}, "campaign", "Pick a campaign from the list."),
        ({"key": ""}, "key", None),
    ],
)
def test_bad_adjust_input_shows_errors_and_writes_nothing(operator, member, changes, field, message):
    _user, client = operator
    earn(member, 10)
    before = Transfer.objects.count()
    data = {**adjust_form(client), "member": str(member.pk), "amount": "50", "reason": "Goodwill", **changes}

    errors = form_errors(client.post(ADJUST, data))
    assert field in errors
    if message:
        assert message in errors[field]
    assert Transfer.objects.count() == before
    assert wallet(member).balance == 10


def test_removing_more_than_the_balance_is_refused(operator, member):
    _user, client = operator
    earn(member, 30)
    data = {**adjust_form(client), "member": str(member.pk), "amount": "-31", "reason": "Clawback"}

    response = client.post(ADJUST, data)
    errors = form_errors(response)
    assert errors["__all__"] == ["Not enough points."]
    assert "Not enough points." in response.content.decode()
    assert not Transfer.objects.filter(kind="adjust").exists()
    assert wallet(member).balance == 30

    # Removing exactly the balance works.
    response = client.post(ADJUST, {**data, "amount": "-30"})
    assert response.status_code == 302
    assert wallet(member).balance == 0


def test_analyst_cannot_adjust(staff, member):
    _user, client = staff("analyst")
    assert client.get(ADJUST).status_code == 403
    response = client.post(ADJUST, {"member": str(member.pk), "amount": "50", "reason": "x", "key": "admin-adjust:k"})
    assert response.status_code == 403
    assert not Transfer.objects.exists()
    # The "Adjust points" button is not offered to them either.
    response = client.get(ACCOUNTS)
    assert response.status_code == 200
    assert ADJUST not in response.content.decode()


def test_non_staff_member_is_sent_to_the_admin_login(member):
    client = staff_client(member)
    response = client.get(ADJUST)
    assert response.status_code == 302
    assert "/admin/login/" in response["Location"]


def test_operator_sees_the_adjust_button(operator):
    _user, client = operator
    response = client.get(ACCOUNTS)
    assert response.status_code == 200
    assert f'href="{ADJUST}"' in response.content.decode()


# --- Reverse action ---------------------------------------------------------------------------------------


def reverse_action(client: Client, ids: list[int], **extra: str) -> Any:
    return client.post(
        TRANSFERS, {"action": "reverse_transfers", ACTION_CHECKBOX_NAME: [str(i) for i in ids], **extra}, follow=True
    )


def test_reverse_action_asks_for_a_reason_then_reverses_once(operator, member):
    user, client = operator
    earn(member, 100)
    original = spend(member, 40, key="s1").transfer_id

    page = reverse_action(client, [original])
    assert page.status_code == 200
    html = page.content.decode()
    assert 'name="reason"' in html
    assert f'name="{ACTION_CHECKBOX_NAME}" value="{original}"' in html
    assert not Transfer.objects.filter(kind="reversal").exists()

    response = reverse_action(client, [original], reason="Order cancelled")
    assert response.redirect_chain[-1][0].endswith(TRANSFERS)
    assert "1 transfer(s) reversed." in messages_of(response)
    reversal = Transfer.objects.get(kind="reversal")
    assert reversal.reverses_id == original
    assert reversal.actor_id == user.pk
    assert reversal.reason == "Order cancelled"
    assert wallet(member).balance == 100

    again = reverse_action(client, [original], reason="Order cancelled")
    assert Transfer.objects.filter(kind="reversal").count() == 1
    assert wallet(member).balance == 100
    shown = " ".join(messages_of(again))
    assert "already been reversed" in shown
    assert "1 transfer(s) reversed." not in shown

    other_reason = reverse_action(client, [original], reason="Different words")
    assert Transfer.objects.filter(kind="reversal").count() == 1
    assert "already been reversed" in " ".join(messages_of(other_reason))
    assert_ledger_consistent()


def test_reverse_action_without_a_reason_writes_nothing(operator, member):
    _user, client = operator
    original = earn(member, 100).transfer_id

    response = reverse_action(client, [original], reason="   ")
    assert response.status_code == 200
    assert "reason" in response.context["form"].errors
    assert not Transfer.objects.filter(kind="reversal").exists()
    assert wallet(member).balance == 100


def test_reverse_action_reports_what_it_cannot_do(operator, member):
    _user, client = operator
    earned = earn(member, 100).transfer_id
    spend(member, 80, key="s1")
    second = earn(member, 5).transfer_id

    response = reverse_action(client, [earned, second], reason="Fraud")
    shown = messages_of(response)
    assert f"#{earned}: Not enough points." in shown  # only 25 left of the 100 to take back
    assert "1 transfer(s) reversed." in shown
    assert list(Transfer.objects.filter(kind="reversal").values_list("reverses_id", flat=True)) == [second]
    assert wallet(member).balance == 20


def test_analyst_cannot_reverse(staff, member):
    _user, client = staff("analyst")
    original = earn(member, 100).transfer_id
    changelist = client.get(TRANSFERS)
    assert changelist.status_code == 200
    assert "reverse_transfers" not in changelist.content.decode()

    reverse_action(client, [original], reason="Nope")
    assert not Transfer.objects.filter(kind="reversal").exists()
    assert wallet(member).balance == 100


# --- Read-only changelists --------------------------------------------------------------------------------


@pytest.mark.parametrize("url", [ACCOUNTS, TRANSFERS, "/admin/points/hold/", "/admin/points/reconciliationrun/"])
def test_ledger_changelists_load_read_only(superuser_client, member, url):
    earn(member, 100)
    spend(member, 10, key="s1")
    response = superuser_client.get(url)
    assert response.status_code == 200
    assert response.context["has_add_permission"] is False
    action_form = response.context["action_form"]  # None when no action is left at all
    actions = [name for name, _label in action_form.fields["action"].choices] if action_form else []
    assert "delete_selected" not in actions
    assert superuser_client.get(f"{url}add/").status_code == 403


def test_changelists_show_the_ledger_and_search_by_anything(superuser_client, member):
    transfer = earn(member, 100)
    account = wallet(member)
    response = superuser_client.get(TRANSFERS)
    assert transfer.transfer_id in [t.pk for t in response.context["cl"].result_list]
    for q in ("abc", member.phone, str(transfer.transfer_id), "12345678901234567890123"):
        assert superuser_client.get(TRANSFERS, {"q": q}).status_code == 200
        assert superuser_client.get(ACCOUNTS, {"q": q}).status_code == 200
    found = superuser_client.get(ACCOUNTS, {"q": member.phone}).context["cl"].result_list
    assert [a.pk for a in found] == [account.pk]


def test_transfers_and_accounts_cannot_be_deleted_or_changed(superuser_client, member):
    transfer_id = earn(member, 100).transfer_id
    account = wallet(member)
    assert superuser_client.post(f"{TRANSFERS}{transfer_id}/delete/", {"post": "yes"}).status_code == 403
    assert superuser_client.post(f"{ACCOUNTS}{account.pk}/delete/", {"post": "yes"}).status_code == 403
    superuser_client.post(f"{ACCOUNTS}{account.pk}/change/", {"balance": "999999"})
    assert Transfer.objects.filter(pk=transfer_id).exists()
    assert Account.objects.get(pk=account.pk).balance == 100


# --- Texts in both languages, kinds by label ----------------------------------------------------------------


def test_operators_write_the_reason_in_both_languages(operator, member):
    _user, client = operator
    earn(member, 100, key="e1")
    data = {**adjust_form(client), "member": str(member.pk), "amount": "5", "reason": "补发签到"}
    data["reason_en"] = "Check-in"
    assert client.post(ADJUST, data).status_code == 302
    adjusted = Transfer.objects.get(kind="adjust")
    assert (adjusted.reason, adjusted.reason_en) == ("补发签到", "Check-in")

    reverse_action(client, [adjusted.pk], reason="误操作", reason_en="Mistake")
    reversal = Transfer.objects.get(kind="reversal")
    assert (reversal.reason, reversal.reason_en) == ("误操作", "Mistake")


def test_transfer_list_shows_and_filters_kinds_by_their_label(operator, member):
    _user, client = operator
    earn(member, 100, key="e1")
    spend(member, 10, key="s1")
    page = client.get(TRANSFERS).content.decode()
    assert "earned" in page  # the registered label, in the operator's language (English)
    assert "spent" in page
    assert "daily check-in" in page  # every registered kind is offered as a filter
    filtered = client.get(TRANSFERS, {"kind": "spend"})
    assert [t.kind for t in filtered.context["cl"].result_list] == ["spend"]
