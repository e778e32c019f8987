"""Pure normalisation rules for the identifiers a person is known by (no database): services, selectors, the
login backend and the User manager all normalise through here, so "+86 138-0000-0001", "13800000001" and
"+8613800000001" are one member everywhere."""

from __future__ import annotations

import phonenumbers
from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _


def phone_normalize(raw: str) -> str:
    """Return the E.164 form of a phone number (mainland China by default) or raise ValidationError."""
    try:
        number = phonenumbers.parse(raw.strip(), "CN")
    except phonenumbers.NumberParseException as exc:
        raise ValidationError(_("Enter a valid phone number."), code="invalid_phone") from exc
    if not phonenumbers.is_valid_number(number):
        raise ValidationError(_("Enter a valid phone number."), code="invalid_phone")
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


def email_normalize(raw: str | None) -> str | None:
    """An email address trimmed and lower-cased (emails are unique case-insensitively); None when blank."""
    return (raw or "").strip().lower() or None


def identifier_normalize(raw: str) -> tuple[str, str]:
    """Classify a login identifier as ("email", value) or ("phone", value)."""
    raw = (raw or "").strip()
    if "@" in raw:
        return "email", raw.lower()
    try:
        return "phone", phone_normalize(raw)
    except ValidationError:
        return "phone", raw
