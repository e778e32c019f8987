"""The address book: one list of address fields for models, forms, serializers; someone else's address does not
exist for a member (AddressNotFound, 404), on pages, in the API and in the service."""

from __future__ import annotations

import pytest
from django.test import Client

from accounts.api import AddressSerializer
from accounts.errors import AddressNotFound
from accounts.forms import AddressForm
from accounts.models import ADDRESS_FIELDS, Address
from accounts.serializers import AddressFieldsSerializer
from accounts.services import address_delete, address_save
from shipments.models import Shipment

pytestmark = pytest.mark.django_db

HOME = {"recipient": "张三", "phone": "13800138001", "province": "广东省", "city": "深圳市", "detail": "科技园 1 号"}


def page_client(user) -> Client:
    client = Client()
    client.force_login(user, backend="accounts.backends.PhoneOrEmailBackend")
    client.cookies["django_language"] = "en"
    return client


def test_the_address_fields_have_one_home():
    model_fields = [f.name for f in Address._meta.get_fields() if f.name in ADDRESS_FIELDS]
    assert sorted(model_fields) == sorted(ADDRESS_FIELDS)
    assert [f for f in ADDRESS_FIELDS if f not in {x.name for x in Shipment._meta.get_fields()}] == []
    assert list(AddressForm().fields) == [*ADDRESS_FIELDS, "is_default"]
    assert list(AddressFieldsSerializer().fields) == list(ADDRESS_FIELDS)
    assert list(AddressSerializer().fields) == ["id", *ADDRESS_FIELDS, "is_default", "created_at"]


def test_address_line_skips_empty_parts(member):
    address = address_save(user=member, data=HOME)
    assert address.address_line == "广东省 深圳市 科技园 1 号"
    assert address.address_values() == {**HOME, "phone": "+8613800138001", "district": "", "postal_code": ""}


def test_someone_elses_address_is_not_found_in_the_service(member, make_user):
    theirs = address_save(user=make_user(), data=HOME)
    with pytest.raises(AddressNotFound):
        address_save(user=member, data={"detail": "mine now"}, address=theirs)
    with pytest.raises(AddressNotFound):
        address_delete(user=member, address_id=theirs.pk)
    with pytest.raises(AddressNotFound):
        address_delete(user=member, address_id=2**70)
    theirs.refresh_from_db()
    assert theirs.detail == "科技园 1 号"


def test_deleting_someone_elses_address_on_the_page_says_so(member, make_user):
    theirs = address_save(user=make_user(), data=HOME)
    response = page_client(member).post(f"/accounts/addresses/{theirs.pk}/delete/", follow=True)
    shown = [str(m) for m in response.context["messages"]]
    assert shown == ["No such address in your address book."]
    assert Address.objects.filter(pk=theirs.pk).exists()
    mine = address_save(user=member, data=HOME)
    response = page_client(member).post(f"/accounts/addresses/{mine.pk}/delete/", follow=True)
    assert [str(m) for m in response.context["messages"]] == ["Address deleted."]
    assert not Address.objects.filter(pk=mine.pk).exists()


def test_someone_elses_address_is_404_with_its_code_in_the_api(member_api, make_user):
    theirs = address_save(user=make_user(), data=HOME)
    for response in (
        member_api.get(f"/api/v1/me/addresses/{theirs.pk}"),
        member_api.patch(f"/api/v1/me/addresses/{theirs.pk}", {"detail": "x"}, format="json"),
        member_api.delete(f"/api/v1/me/addresses/{theirs.pk}"),
    ):
        assert response.status_code == 404
        assert response.json()["error"]["code"] == "address_not_found"
    assert Address.objects.get(pk=theirs.pk).detail == "科技园 1 号"
