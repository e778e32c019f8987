"""The API shape of a postal address, declared once (fields from accounts.models.ADDRESS_FIELDS, types and lengths
from AddressFields): the address book's entries and the address a shipment is sent to both use it."""

from __future__ import annotations

from rest_framework import serializers

from accounts.models import ADDRESS_FIELDS, Address


class AddressFieldsSerializer(serializers.ModelSerializer):
    """The address fields; subclass it (and its Meta) to add fields or loosen them for input."""

    class Meta:
        model = Address
        fields: tuple[str, ...] = ADDRESS_FIELDS
