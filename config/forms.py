"""The one adapter from a service's refusal to what a page or the admin shows: `errors_to_form` puts it on a
form, `error_text` makes one line of it for a flash message. A refusal is either a `DomainError`
(config/errors.py) or a Django `ValidationError` from field validation; both are handled the same way here."""

from __future__ import annotations

from django import forms
from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _

from config.errors import DomainError

Refusal = ValidationError | DomainError


def _domain_text(exc: DomainError) -> str:
    """The error's message; `details["reasons"]` (a list of why-nots, e.g. OddsChangeRefused) is appended."""
    reasons = "; ".join(str(reason) for reason in exc.details.get("reasons", []))
    if not reasons:
        return str(exc.message)
    return _("%(message)s Refused: %(reasons)s.") % {"message": exc.message, "reasons": reasons}


def error_text(exc: Refusal) -> str:
    """One line for a flash message or a report row."""
    if isinstance(exc, DomainError):
        return _domain_text(exc)
    return "; ".join(exc.messages)


def errors_to_form(form: forms.BaseForm, exc: Refusal, *, fallback_field: str | None = None) -> None:
    """Put a refusal on `form`. A field-keyed ValidationError goes next to the fields the form has; a field
    that already failed its own validation keeps just that error. Everything else (a DomainError, a
    ValidationError without fields, errors of fields the form does not have, "__all__") goes on
    `fallback_field` when given, else on top of the form."""
    if isinstance(exc, DomainError):
        form.add_error(fallback_field, _domain_text(exc))
        return
    if not hasattr(exc, "error_dict"):
        form.add_error(fallback_field, exc.messages)
        return
    for field, messages in exc.message_dict.items():
        if field not in form.fields:
            form.add_error(fallback_field, messages)
        elif field not in form.errors:
            form.add_error(field, messages)
