from typing import Any

from django.core.exceptions import PermissionDenied
from django.db.models import QuerySet

from accounts.errors import AddressNotFound
from accounts.models import Address, User
from accounts.normalize import identifier_normalize


def address_list(*, user: User) -> QuerySet[Address]:
    return Address.objects.filter(user=user)


def address_of(*, user: User, address_id: int) -> Address:
    """One of the member's addresses; AddressNotFound for an unknown id or anyone else's address."""
    found = Address.objects.filter(user=user, pk=address_id).first() if 0 < address_id < 2**63 else None
    if found is None:
        raise AddressNotFound()
    return found


def user_by_identifier(*, identifier: str) -> User | None:
    """Find a member by phone, email or external id (partner integrations name members these ways)."""
    kind, value = identifier_normalize(identifier)
    user = User.objects.filter(**{"email__iexact" if kind == "email" else "phone": value}).first()
    return user or User.objects.filter(external_id=identifier).first()


def request_user_id(request: Any) -> int:
    """The authenticated user's id (views and APIs that already require login)."""
    user_id = getattr(request.user, "pk", None)
    if user_id is None:
        raise PermissionDenied
    return int(user_id)
