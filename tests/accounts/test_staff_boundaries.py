"""Staff boundaries (accounts/staff.py): only superusers grant flags, groups or permissions or touch staff
accounts; operators manage members — and a member's password, audited — and nothing above their own rights.
Every refusal is proved with a forged request, not by a hidden field."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from auditlog.models import LogEntry
from django.contrib.auth.models import Group, Permission
from django.test import Client

from accounts import staff as staff_rules
from accounts.errors import StaffBoundary
from accounts.models import ApiToken, User
from accounts.services import token_issue
from tests.conftest import staff_client

USERS = "/admin/accounts/user/"
NEW_PASSWORD = "N3w-member-pass-2026"

StaffFactory = Callable[[str], tuple[User, Client]]


@pytest.fixture
def superuser(make_user: Callable[..., User]) -> tuple[User, Client]:
    user = make_user(is_staff=True, is_superuser=True, display_name="Boss")
    return user, staff_client(user)


def _post_value(value: Any) -> Any:
    if value is None:
        return ""
    if isinstance(value, list | tuple):
        return [_post_value(v) for v in value]
    return str(getattr(value, "pk", value))


def change_form_data(response: Any) -> dict[str, Any]:
    """The POST body the change page would send unchanged (main form and the address inline)."""
    assert response.status_code == 200
    data: dict[str, Any] = {}

    def add(form: Any) -> None:
        for name, field in form.fields.items():
            value = form[name].value()
            if getattr(field.widget, "input_type", None) == "file" or field.disabled:
                continue
            if isinstance(value, bool):
                if value:
                    data[form.add_prefix(name)] = "on"
                continue
            data[form.add_prefix(name)] = _post_value(value)

    add(response.context["adminform"].form)
    for inline in response.context["inline_admin_formsets"]:
        add(inline.formset.management_form)
        for form in inline.formset.forms:
            add(form)
    return data


def forged_escalation(member: User) -> dict[str, Any]:
    """What an attacker adds to a change form: both flags, the operator group and a permission."""
    return {
        "is_staff": "on",
        "is_superuser": "on",
        "groups": [str(Group.objects.get(name="operator").pk)],
        "user_permissions": [str(Permission.objects.get(codename="change_user").pk)],
    }


def privileges(user: User) -> tuple[bool, bool, set[str], set[str]]:
    user = User.objects.get(pk=user.pk)
    return (
        user.is_staff,
        user.is_superuser,
        set(user.groups.values_list("name", flat=True)),
        set(user.user_permissions.values_list("codename", flat=True)),
    )


NO_PRIVILEGES: tuple[bool, bool, set[str], set[str]] = (False, False, set(), set())


# --- The rule ---------------------------------------------------------------------------------------------


@pytest.mark.django_db
def test_who_may_manage_whom(staff: StaffFactory, superuser: tuple[User, Client], member: User) -> None:
    operator, _client = staff("operator")
    analyst, _client = staff("analyst")
    boss, _client = superuser
    assert staff_rules.staff_may_manage(actor=operator, user=member)
    assert not staff_rules.staff_may_manage(actor=operator, user=analyst)
    assert not staff_rules.staff_may_manage(actor=operator, user=operator)  # not even themselves
    assert not staff_rules.staff_may_manage(actor=operator, user=boss)
    assert staff_rules.staff_may_manage(actor=boss, user=analyst)
    assert not staff_rules.staff_may_manage(actor=member, user=member)  # members are no staff
    operator.is_active = False
    assert not staff_rules.staff_may_manage(actor=operator, user=member)


# --- Operators and the change form ------------------------------------------------------------------------


@pytest.mark.django_db
def test_operator_forged_escalation_of_a_member_changes_nothing_above_their_rights(
    staff: StaffFactory, member: User
) -> None:
    _operator, client = staff("operator")
    url = f"{USERS}{member.pk}/change/"
    page = client.get(url)
    body = page.content.decode()
    for name in ("is_superuser", "is_staff", "groups", "user_permissions"):
        assert f'name="{name}"' not in body, f"{name} is an input on an operator's form"
    data = change_form_data(page)
    data.update(display_name="Renamed by operator", **forged_escalation(member))
    data["password"] = "pbkdf2_sha256$1$forged$forged="  # the hash is shown, never read back
    data.pop("is_active", None)  # and deactivate: allowed

    response = client.post(url, data)

    assert response.status_code == 302, getattr(response, "context", None) and response.context["errors"]
    member.refresh_from_db()
    assert member.display_name == "Renamed by operator"  # the post was processed...
    assert not member.is_active
    assert privileges(member) == NO_PRIVILEGES  # ...and every escalation in it ignored
    assert member.check_password("Str0ng-pass-2026")


@pytest.mark.django_db
def test_operator_deactivating_a_member_is_audited(staff: StaffFactory, member: User) -> None:
    operator, client = staff("operator")
    url = f"{USERS}{member.pk}/change/"
    data = change_form_data(client.get(url))
    data.pop("is_active")
    assert client.post(url, data).status_code == 302
    entry = LogEntry.objects.get_for_object(member).get()
    assert entry.actor == operator
    assert entry.changes_dict == {"is_active": ["True", "False"]}


@pytest.mark.django_db
def test_operator_changing_a_members_contact_details_is_audited(staff: StaffFactory, member: User) -> None:
    operator, client = staff("operator")
    url = f"{USERS}{member.pk}/change/"
    data = change_form_data(client.get(url))
    data.update(email="new@example.com", external_id="ERP-7")
    assert client.post(url, data).status_code == 302
    entry = LogEntry.objects.get_for_object(member).get()
    assert entry.actor == operator
    assert entry.changes_dict == {"email": [member.email, "new@example.com"], "external_id": ["None", "ERP-7"]}


@pytest.mark.django_db
@pytest.mark.parametrize("target_group", ["analyst", "operator", "superuser"])
def test_operator_cannot_change_a_staff_account(
    staff: StaffFactory, superuser: tuple[User, Client], target_group: str
) -> None:
    _operator, client = staff("operator")
    target = superuser[0] if target_group == "superuser" else staff(target_group)[0]
    before = privileges(target)
    url = f"{USERS}{target.pk}/change/"

    page = client.get(url)  # viewing is allowed, read-only
    assert page.status_code == 200
    assert page.context["has_change_permission"] is False
    assert 'name="display_name"' not in page.content.decode()

    forged: dict[str, Any] = {"phone": target.phone, "email": target.email, "display_name": "x", "is_active": "on"}
    forged.update({"addresses-TOTAL_FORMS": "0", "addresses-INITIAL_FORMS": "0", **forged_escalation(target)})
    assert client.post(url, forged).status_code == 403
    assert privileges(target) == before
    assert User.objects.get(pk=target.pk).display_name == target.display_name


@pytest.mark.django_db
def test_operator_cannot_touch_their_own_account(staff: StaffFactory) -> None:
    operator, client = staff("operator")
    url = f"{USERS}{operator.pk}/change/"
    data = {"phone": operator.phone, "email": operator.email, "is_active": "on", **forged_escalation(operator)}
    data.update({"addresses-TOTAL_FORMS": "0", "addresses-INITIAL_FORMS": "0"})
    assert client.post(url, data).status_code == 403
    assert privileges(operator) == (True, False, {"operator"}, set())


@pytest.mark.django_db
def test_operator_cannot_delete_accounts(staff: StaffFactory, member: User) -> None:
    analyst, _client = staff("analyst")
    _operator, client = staff("operator")
    for target in (member, analyst):
        assert client.post(f"{USERS}{target.pk}/delete/", {"post": "yes"}).status_code == 403
        assert User.objects.filter(pk=target.pk).exists()


# --- Passwords --------------------------------------------------------------------------------------------


@pytest.mark.django_db
@pytest.mark.parametrize("target_group", ["analyst", "operator", "superuser", "self"])
def test_operator_password_page_of_staff_is_403(
    staff: StaffFactory, superuser: tuple[User, Client], target_group: str
) -> None:
    operator, client = staff("operator")
    targets = {"superuser": lambda: superuser[0], "self": lambda: operator}
    target = targets.get(target_group, lambda: staff(target_group)[0])()
    url = f"{USERS}{target.pk}/password/"

    assert client.get(url).status_code == 403
    response = client.post(url, {"password1": NEW_PASSWORD, "password2": NEW_PASSWORD, "usable_password": "true"})

    assert response.status_code == 403
    assert not User.objects.get(pk=target.pk).check_password(NEW_PASSWORD)
    assert not LogEntry.objects.get_for_object(target).exists()


@pytest.mark.django_db
def test_operator_resets_a_members_password_audited_and_tokens_revoked(staff: StaffFactory, member: User) -> None:
    operator, client = staff("operator")
    pair = token_issue(user=member, name="phone")
    url = f"{USERS}{member.pk}/password/"
    assert client.get(url).status_code == 200

    response = client.post(url, {"password1": NEW_PASSWORD, "password2": NEW_PASSWORD, "usable_password": "true"})

    assert response.status_code == 302
    assert response["Location"] == f"{USERS}{member.pk}/change/"
    member.refresh_from_db()
    assert member.check_password(NEW_PASSWORD)
    entry = LogEntry.objects.get_for_object(member).get()
    assert entry.actor == operator
    assert entry.changes_dict == {"password": ["******", "******"]}
    assert NEW_PASSWORD not in str(entry.changes) + str(entry.additional_data)
    assert entry.additional_data == {"set_by_staff": True, "api_tokens_revoked": 1}
    assert ApiToken.objects.get(pk=pair.token.pk).revoked_at is not None


@pytest.mark.django_db
def test_a_weak_password_is_refused_and_nothing_is_logged(staff: StaffFactory, member: User) -> None:
    _operator, client = staff("operator")
    url = f"{USERS}{member.pk}/password/"
    response = client.post(url, {"password1": "123", "password2": "123", "usable_password": "true"})
    assert response.status_code == 200
    assert response.context["form"].errors
    assert not LogEntry.objects.get_for_object(member).exists()


@pytest.mark.django_db
def test_superuser_sets_a_staff_password(staff: StaffFactory, superuser: tuple[User, Client]) -> None:
    boss, client = superuser
    analyst, _client = staff("analyst")
    url = f"{USERS}{analyst.pk}/password/"
    response = client.post(url, {"password1": NEW_PASSWORD, "password2": NEW_PASSWORD, "usable_password": "true"})
    assert response.status_code == 302
    assert User.objects.get(pk=analyst.pk).check_password(NEW_PASSWORD)
    assert LogEntry.objects.get_for_object(analyst).get().actor == boss


# --- Superusers -------------------------------------------------------------------------------------------


@pytest.mark.django_db
def test_superuser_grants_staff_and_a_group_audited(superuser: tuple[User, Client], member: User) -> None:
    boss, client = superuser
    Group.objects.get_or_create(name="operator")
    url = f"{USERS}{member.pk}/change/"
    page = client.get(url)
    assert 'name="is_superuser"' in page.content.decode()
    data = change_form_data(page)
    data.update(is_staff="on", groups=[str(Group.objects.get(name="operator").pk)])

    assert client.post(url, data).status_code == 302

    assert privileges(member) == (True, False, {"operator"}, set())
    entry = LogEntry.objects.get_for_object(member).get()
    assert entry.actor == boss
    assert entry.changes_dict == {"is_staff": ["False", "True"], "groups": ["", "operator"]}


# --- The service refuses on its own (whatever form reaches it) --------------------------------------------


@pytest.mark.django_db
@pytest.mark.parametrize("escalation", ["is_staff", "is_superuser", "groups", "user_permissions"])
def test_user_admin_save_refuses_escalation_by_a_non_superuser(
    staff: StaffFactory, member: User, escalation: str
) -> None:
    operator, _client = staff("operator")
    kwargs: dict[str, Any] = {}
    if escalation in ("is_staff", "is_superuser"):
        setattr(member, escalation, True)
    elif escalation == "groups":
        kwargs["groups"] = [Group.objects.get(name="operator")]
    else:
        kwargs["permissions"] = [Permission.objects.get(codename="change_user")]
    member.display_name = "changed"

    with pytest.raises(StaffBoundary) as refused:
        staff_rules.user_admin_save(actor=operator, user=member, **kwargs)

    assert refused.value.code == "staff_boundary"
    assert privileges(member) == NO_PRIVILEGES
    assert User.objects.get(pk=member.pk).display_name == "Xiao Ming"
    assert not LogEntry.objects.get_for_object(member).exists()


@pytest.mark.django_db
def test_user_admin_save_keeps_unchanged_groups_of_a_member(staff: StaffFactory, member: User) -> None:
    """Passing the groups a member already has is no escalation (a superuser's form always sends them)."""
    operator, _client = staff("operator")
    member.display_name = "ok"
    staff_rules.user_admin_save(actor=operator, user=member, groups=[], permissions=[])
    assert User.objects.get(pk=member.pk).display_name == "ok"


@pytest.mark.django_db
def test_user_password_set_refuses_staff_targets_for_non_superusers(staff: StaffFactory) -> None:
    operator, _client = staff("operator")
    analyst, _client = staff("analyst")
    with pytest.raises(StaffBoundary):
        staff_rules.user_password_set(actor=operator, user=analyst, password=NEW_PASSWORD)
    assert not User.objects.get(pk=analyst.pk).check_password(NEW_PASSWORD)
