"""Applications through a recruiting link: the service refuses what the form refuses (partners.services)."""

from __future__ import annotations

import pytest
from django.core.exceptions import ValidationError

from partners.models import PartnerApplication
from partners.services import partner_application_submit

pytestmark = pytest.mark.django_db

FIELDS = {"company": "甲公司", "contact_name": "王", "contact_phone": "13800000000", "kind": "dealer"}


def test_an_application_needs_a_real_email_or_none() -> None:
    with pytest.raises(ValidationError) as refused:
        partner_application_submit(**FIELDS, contact_email="not an email", referral_code="")
    assert "contact_email" in refused.value.message_dict
    assert not PartnerApplication.objects.exists()
    saved = partner_application_submit(**FIELDS, contact_email=" a@example.com ", referral_code="")
    assert saved.contact_email == "a@example.com"
    bare = partner_application_submit(**FIELDS, contact_email="", referral_code="")
    assert (bare.contact_email, bare.referred_by_id) == ("", None)
