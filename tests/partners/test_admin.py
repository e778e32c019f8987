"""Partner API keys in the admin: operators issue (secret shown once) and revoke; analysts and finance only see."""

import re

import pytest
from django.contrib.admin.helpers import ACTION_CHECKBOX_NAME

from partners import services
from partners.models import ApiKey
from partners.signing import signing_key_for

pytestmark = pytest.mark.django_db

KEYS = "/admin/partners/apikey/"


def shown_messages(response) -> str:
    return " ".join(str(m) for m in response.context["messages"])


def offered_actions(page) -> list[str]:
    form = page.context["action_form"]  # None when no action is allowed at all
    return [] if form is None else [name for name, _label in form.fields["action"].choices]


def test_operators_issue_a_key_whose_secret_is_shown_once(operator, campaign):
    user, client = operator
    response = client.post(f"{KEYS}add/", {"name": "ERP", "default_campaign": campaign.pk}, follow=True)
    assert response.status_code == 200
    key = ApiKey.objects.get()
    assert (key.name, key.default_campaign, key.created_by) == ("ERP", campaign, user)
    text = shown_messages(response)
    assert key.key_id in text
    secret = re.search(r"(?<![\w-])[A-Za-z0-9_-]{43}(?![\w-])", text).group(0)  # token_urlsafe(32)
    assert signing_key_for(secret) == key.signing_key
    assert secret not in client.get(f"{KEYS}{key.pk}/change/").content.decode()


def test_operators_revoke_keys(operator, campaign):
    _user, client = operator
    key, _secret = services.api_key_create(name="ERP", default_campaign=campaign)
    page = client.get(KEYS)
    assert "revoke" in offered_actions(page)
    client.post(KEYS, {"action": "revoke", ACTION_CHECKBOX_NAME: [str(key.pk)]}, follow=True)
    key.refresh_from_db()
    assert key.revoked_at is not None


@pytest.mark.parametrize("group", ["analyst", "finance"])
def test_analysts_and_finance_see_keys_but_cannot_issue_change_or_revoke(staff, campaign, group):
    _user, client = staff(group)
    key, _secret = services.api_key_create(name="ERP", default_campaign=campaign)
    page = client.get(KEYS)
    assert page.status_code == 200
    assert key.key_id in page.content.decode()
    assert "revoke" not in offered_actions(page)
    client.post(KEYS, {"action": "revoke", ACTION_CHECKBOX_NAME: [str(key.pk)]})
    assert client.get(f"{KEYS}add/").status_code == 403
    client.post(f"{KEYS}{key.pk}/change/", {"name": "renamed"})
    key.refresh_from_db()
    assert (key.revoked_at, key.name) == (None, "ERP")
    assert not ApiKey.objects.exclude(pk=key.pk).exists()


def test_keys_cannot_be_deleted_only_revoked(operator, campaign):
    _user, client = operator
    key, _secret = services.api_key_create(name="ERP", default_campaign=campaign)
    assert client.post(f"{KEYS}{key.pk}/delete/", {"post": "yes"}).status_code == 403
    assert ApiKey.objects.filter(pk=key.pk).exists()
