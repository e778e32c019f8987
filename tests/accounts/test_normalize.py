"""accounts.normalize: one set of identifier rules for registration, login, partner lookups and the manager."""

import pytest
from django.core.exceptions import ValidationError

from accounts.models import User
from accounts.normalize import email_normalize, identifier_normalize, phone_normalize
from accounts.selectors import user_by_identifier


@pytest.mark.parametrize("raw", ["13800000001", "+86 138-0000-0001", " 138 0000 0001 ", "+8613800000001"])
def test_phone_numbers_in_any_common_format_are_one_number(raw):
    assert phone_normalize(raw) == "+8613800000001"
    assert identifier_normalize(raw) == ("phone", "+8613800000001")


def test_invalid_phones_emails_and_blanks():
    with pytest.raises(ValidationError):
        phone_normalize("12")
    assert identifier_normalize("12") == ("phone", "12")  # unknown identifiers stay as typed
    assert identifier_normalize(" Ming@Example.COM ") == ("email", "ming@example.com")
    assert email_normalize(" Ming@Example.COM ") == "ming@example.com"
    assert email_normalize("  ") is None
    assert email_normalize(None) is None


@pytest.mark.django_db
def test_the_manager_normalises_like_registration_does():
    """`manage.py createsuperuser` goes through UserManager; it stores the same forms user_create would."""
    admin = User.objects.create_superuser(email=" Ops@Example.COM ", password="Adm1n-pass-2026", phone="138 0000 0009")
    admin.refresh_from_db()
    assert (admin.email, admin.phone) == ("ops@example.com", "+8613800000009")
    assert (admin.is_staff, admin.is_superuser) == (True, True)
    assert admin.check_password("Adm1n-pass-2026")
    assert user_by_identifier(identifier="OPS@example.com") == admin
    assert user_by_identifier(identifier="+86 138 0000 0009") == admin
    with pytest.raises(ValueError, match="phone number or an email"):
        User.objects.create_user(email="  ", password="x")
