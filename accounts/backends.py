from typing import Any

from django.contrib.auth.backends import ModelBackend
from django.http import HttpRequest

from accounts.models import User
from accounts.normalize import identifier_normalize


class PhoneOrEmailBackend(ModelBackend):
    """Authenticate with a phone number (any common format) or an email, plus password."""

    def authenticate(
        self, request: HttpRequest | None, username: str | None = None, password: str | None = None, **kwargs: Any
    ) -> User | None:
        if not username or password is None:
            return None
        kind, value = identifier_normalize(username)
        user = User.objects.filter(**{f"{kind}__iexact" if kind == "email" else kind: value}).first()
        if user is None:
            User().set_password(password)  # same work as a real check: no timing oracle for unknown users
            return None
        if user.check_password(password) and self.user_can_authenticate(user):
            return user
        return None


def axes_username(request: HttpRequest, credentials: dict[str, Any] | None = None) -> str | None:
    """The identity django-axes counts failures against: the normalised phone/email, however it was typed."""
    raw = (credentials or {}).get("username") or request.POST.get("username")
    if not raw:
        return None
    return identifier_normalize(str(raw))[1]
