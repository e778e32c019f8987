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
