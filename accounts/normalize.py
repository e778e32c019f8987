"""Pure normalisation rules (no database) for what people type: the identifiers a person is known by — services,
selectors, the login backend and the User manager all normalise through here, so "+86 138-0000-0001",
"13800000001" and "+8613800000001" are one member everywhere — and the free text of names and addresses.

Every rule starts with Unicode NFKC: full-width letters and digits (what a Chinese IME types in full-width mode),
the ideographic space and compatibility forms become their ordinary characters, so "１３８００１３８０００" is the
phone number 13800138000 and "Ｍing@example.com" the same email as "ming@example.com". Then, per kind of field:

- free text (display names, recipient, province, city, district, street): any whitespace (tabs, line breaks,
  ideographic spaces) becomes one space, runs of spaces collapse, the ends are trimmed; the invisible characters
  that copy-and-paste brings along (zero-width space, byte-order mark, soft hyphen, word joiner) are dropped, as a
  person expects; any other control or format character (NUL, escape, DEL, C1 controls, bidirectional overrides
  and isolates that make text display in another order than it is stored, tag characters) is refused with a field
  error naming it. Zero-width joiner / non-joiner stay: emoji sequences and several scripts need them.
- phone numbers: invisible format characters are dropped (phones copied from a contact card carry direction
  marks), then only the digits 0-9, spaces and + - ( ) . are accepted: no letters (phonenumbers would read
  "138OOOOOOO1" as a vanity number) and no digits of other scripts; stored as E.164.
- postal codes: spaces dropped, exactly six digits 0-9 (Arabic-Indic and other scripts' digits are refused).
"""

from __future__ import annotations

import re
import unicodedata

import phonenumbers
from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _

# Invisible characters dropped silently: they arrive with pasted text and nobody means them.
DROPPED = frozenset("\u200b\ufeff\u00ad\u2060")
# Format characters kept: they join emoji sequences and shape several scripts.
KEPT_FORMAT = frozenset("\u200c\u200d")
PHONE_CHARACTERS = re.compile(r"[0-9+\-(). ]*")
POSTAL_CODE = re.compile(r"[0-9]{6}")
_SPACES = re.compile(r"\s+")


def _nfkc(raw: str | None) -> str:
    return unicodedata.normalize("NFKC", raw or "")


def _refuse(char: str) -> ValidationError:
    return ValidationError(
        _("Remove the invisible control character %(char)s from this field."),
        code="control_character",
        params={"char": f"U+{ord(char):04X}"},
    )


def text_clean(raw: str | None) -> str:
    """Single-line free text as stored (see the module docstring); ValidationError `control_character` naming the
    first control or format character that is refused."""
    value = _SPACES.sub(" ", _nfkc(raw))
    kept = []
    for char in value:
        if char in DROPPED:
            continue
        category = unicodedata.category(char)
        if category in ("Cc", "Cs") or (category == "Cf" and char not in KEPT_FORMAT):
            raise _refuse(char)
        kept.append(char)
    return _SPACES.sub(" ", "".join(kept)).strip()


def postal_code_normalize(raw: str | None) -> str:
    """A mainland China postal code as six ASCII digits ("" stays ""), or ValidationError."""
    value = _SPACES.sub("", _nfkc(raw))
    if value and not POSTAL_CODE.fullmatch(value):
        raise ValidationError(_("A postal code has 6 digits."), code="invalid")
    return value


def phone_normalize(raw: str) -> str:
    """Return the E.164 form of a phone number (mainland China by default) or raise ValidationError."""
    value = "".join(c for c in _SPACES.sub(" ", _nfkc(raw)) if unicodedata.category(c) != "Cf").strip()
    if not PHONE_CHARACTERS.fullmatch(value):
        raise ValidationError(_("Enter a valid phone number."), code="invalid_phone")
    try:
        number = phonenumbers.parse(value, "CN")
    except phonenumbers.NumberParseException as exc:
        raise ValidationError(_("Enter a valid phone number."), code="invalid_phone") from exc
    if not phonenumbers.is_valid_number(number):
        raise ValidationError(_("Enter a valid phone number."), code="invalid_phone")
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


def email_normalize(raw: str | None) -> str | None:
    """An email address in NFKC, trimmed and lower-cased (emails are unique case-insensitively); None when blank."""
    return _nfkc(raw).strip().lower() or None


def identifier_normalize(raw: str) -> tuple[str, str]:
    """Classify a login identifier as ("email", value) or ("phone", value)."""
    raw = _nfkc(raw).strip()
    if "@" in raw:
        return "email", raw.lower()
    try:
        return "phone", phone_normalize(raw)
    except ValidationError:
        return "phone", raw
