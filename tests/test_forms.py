"""config.forms: the one adapter from a service's refusal (DomainError or field ValidationError) to a form."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from django import forms
from django.core.exceptions import NON_FIELD_ERRORS, ValidationError
from django.utils import translation

from config.errors import Conflict, DomainError, NotFound
from config.forms import error_text, errors_to_form


@pytest.fixture(autouse=True)
def _english() -> Iterator[None]:
    with translation.override("en"):
        yield


class _Form(forms.Form):
    name = forms.CharField()
    city = forms.CharField(required=False)


class _Refused(DomainError):
    code = "refused_for_test"


def _valid_form() -> _Form:
    form = _Form({"name": "x", "city": "y"})
    assert form.is_valid()
    return form


def test_field_errors_go_next_to_their_fields_and_unknown_fields_on_top() -> None:
    form = _valid_form()
    errors_to_form(form, ValidationError({"name": ["Too short."], "postal_code": ["Six digits."]}))
    assert form.errors["name"] == ["Too short."]
    assert form.errors[NON_FIELD_ERRORS] == ["Six digits."]
    assert "name" not in form.cleaned_data


def test_a_field_that_failed_its_own_validation_keeps_just_that_error() -> None:
    form = _Form({"city": "y"})
    assert not form.is_valid()
    own = list(form.errors["name"])
    errors_to_form(form, ValidationError({"name": ["From the service."], "city": ["Unknown city."]}))
    assert form.errors["name"] == own
    assert form.errors["city"] == ["Unknown city."]


def test_a_validation_error_without_fields_and_all_go_on_top() -> None:
    form = _valid_form()
    errors_to_form(form, ValidationError(["One.", "Two."]))
    errors_to_form(form, ValidationError({NON_FIELD_ERRORS: ["Three."]}))
    assert form.errors[NON_FIELD_ERRORS] == ["One.", "Two.", "Three."]


def test_domain_errors_go_on_top_with_their_reasons() -> None:
    form = _valid_form()
    errors_to_form(form, NotFound())
    errors_to_form(form, _Refused("Not now.", details={"reasons": ["stock cannot be taken away", "weight"]}))
    assert form.errors[NON_FIELD_ERRORS] == [
        "Not found.",
        "Not now. Refused: stock cannot be taken away; weight.",
    ]


def test_fallback_field_takes_what_the_form_has_no_field_for() -> None:
    form = _valid_form()
    errors_to_form(form, ValidationError({"address_id": ["Choose one of your addresses."]}), fallback_field="city")
    errors_to_form(form, Conflict("Busy."), fallback_field="city")
    assert form.errors["city"] == ["Choose one of your addresses.", "Busy."]
    assert NON_FIELD_ERRORS not in form.errors


def test_error_text_is_one_line_for_either_kind() -> None:
    assert error_text(ValidationError({"a": ["One."], "b": ["Two."]})) == "One.; Two."
    assert error_text(ValidationError("Alone.")) == "Alone."
    assert error_text(_Refused(details={"reasons": ["r1"]})) == "The request could not be completed. Refused: r1."
    assert error_text(Conflict()) == "The request conflicts with the current state."
