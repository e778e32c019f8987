from typing import Any

from django.core.exceptions import PermissionDenied
from django.db.models import QuerySet

from accounts.models import Address, User


def address_list(*, user: User) -> QuerySet[Address]:
    return Address.objects.filter(user=user)


def user_by_identifier(*, identifier: str) -> User | None:
    """Find a member by phone, email or external id (partner integrations name members these ways)."""
    from accounts.services import identifier_normalize

    kind, value = identifier_normalize(identifier)
    user = User.objects.filter(**{"email__iexact" if kind == "email" else "phone": value}).first()
    return user or User.objects.filter(external_id=identifier).first()


def request_user_id(request: Any) -> int:
    """The authenticated user's id (views and APIs that already require login)."""
    user_id = getattr(request.user, "pk", None)
    if user_id is None:
        raise PermissionDenied
    return int(user_id)
