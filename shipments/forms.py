"""Where a member's goods ship, as every owner's address page asks it (a wheel prize, a mall order): one of their
saved addresses, or a new one (saved in their address book too). The page saves the pick through its own service;
templates/shipments/_address_pick.html shows the two forms."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, cast

from django import forms
from django.core.exceptions import ValidationError
from django.http import QueryDict
from django.utils.translation import gettext_lazy

from accounts.forms import AddressForm
from accounts.models import ADDRESS_FIELDS, Address, User
from accounts.selectors import address_list
from config.forms import errors_to_form

NEW = "new"  # the address choice "enter a new address"


class ShippingAddressForm(AddressForm):
    """A new address (saved in the address book too); the default flag is not asked here."""

    class Meta:
        model = Address
        fields = ADDRESS_FIELDS


class AddressChoiceForm(forms.Form):
    address = forms.ChoiceField(label=gettext_lazy("Ship to"), widget=forms.RadioSelect)

    def __init__(self, *args: Any, addresses: list[Address], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        field = cast(forms.ChoiceField, self.fields["address"])
        field.choices = [(str(a.pk), str(a.pk)) for a in addresses] + [(NEW, NEW)]


@dataclass(frozen=True)
class AddressPick:
    """The member's saved addresses with the choice form and the new-address form, bound to one request."""

    addresses: list[Address]
    choice: AddressChoiceForm
    new: ShippingAddressForm

    def is_valid(self) -> bool:
        """A saved address is picked, or "a new address" with a valid one; False for a GET."""
        return self.choice.is_bound and self.choice.is_valid() and (not self.is_new or self.new.is_valid())

    @property
    def is_new(self) -> bool:
        return self.choice.is_valid() and self.choice.cleaned_data["address"] == NEW

    @property
    def address_id(self) -> int:
        """The saved address picked (only when not is_new)."""
        return int(self.choice.cleaned_data["address"])

    def refuse(self, exc: ValidationError) -> None:
        """A service's refusal of the address: next to the new address's fields, or on the choice."""
        if self.is_new:
            errors_to_form(self.new, exc)
        else:
            errors_to_form(self.choice, exc, fallback_field="address")

    def context(self) -> dict[str, Any]:
        """What templates/shipments/_address_pick.html reads."""
        return {
            "addresses": self.addresses,
            "choice": self.choice,
            "picked": self.choice["address"].value(),
            "form": self.new,
            "new_value": NEW,
        }


def address_pick(*, user: User, data: QueryDict | None) -> AddressPick:
    """The forms for `user`'s address page: `data` is the POST (None for a GET). The first saved address (the
    default comes first) is picked at first, or "a new address" when there is none."""
    addresses = list(address_list(user=user))
    initial = {"address": str(addresses[0].pk) if addresses else NEW}
    choice = AddressChoiceForm(data, addresses=addresses, initial=initial)
    # The new-address fields only count (and only show errors) when "a new address" is the choice.
    new = ShippingAddressForm(data if data is not None and data.get("address") == NEW else None)
    return AddressPick(addresses, choice, new)
