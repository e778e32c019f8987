"""Invites at sign-up: the code an invite link (`/r/<code>`) recorded in the browser, and the sign-up hook
(accounts.signup, registered in ReferralsConfig.ready()) that credits the new member to their friend.

The link records the code twice: in the session (what the sign-up that follows reads first) and in a signed cookie
(LINK_COOKIE, kept LINK_AGE: it outlives the session, e.g. a browser closed between opening the link and signing up).
A code the member types (the register form's or the API's `invite_code`) wins over the recorded one. Whatever
becomes of it, the account is created; the member is told (referrals.services.REFUSAL_MESSAGES)."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core import signing
from django.http import HttpResponse
from django.utils.translation import gettext as _

from accounts.models import User
from accounts.signup import SignupOutcome
from referrals.fingerprint import signup_context
from referrals.services import LATE_ENTRY, invite_attribute, invite_code_normalize

LINK_COOKIE = "pm_invite"
LINK_SESSION_KEY = "referrals.invite_code"
LINK_SALT = "referrals.link"
LINK_AGE = int(LATE_ENTRY.total_seconds())
TOPIC = "invite"


def link_record(request: Any, response: HttpResponse, code: str) -> None:
    """Remember the code of the invite link just opened, for the sign-up that follows."""
    request.session[LINK_SESSION_KEY] = code
    response.set_signed_cookie(
        LINK_COOKIE,
        code,
        salt=LINK_SALT,
        max_age=LINK_AGE,
        httponly=True,
        samesite="Lax",
        secure=settings.SESSION_COOKIE_SECURE,
    )


def link_recorded(request: Any) -> str:
    """The code an invite link recorded in this browser ('' if none or if the cookie was tampered with)."""
    session = getattr(request, "session", None)
    code = str(session.get(LINK_SESSION_KEY, "") or "") if session is not None else ""
    if not code:
        try:
            code = request.get_signed_cookie(LINK_COOKIE, default="", salt=LINK_SALT, max_age=LINK_AGE)
        except (signing.BadSignature, ValueError):
            code = ""
    return invite_code_normalize(code)


def link_forget(request: Any) -> None:
    session = getattr(request, "session", None)
    if session is not None:
        session.pop(LINK_SESSION_KEY, None)


def invite_on_signup(*, user: User, request: Any, invite_code: str = "") -> SignupOutcome | None:
    """The accounts.signup hook: attribute the new member to the owner of the code they typed or their browser
    recorded (None when there is neither: nothing to say)."""
    typed = (invite_code or "").strip()
    code = typed or link_recorded(request)
    if not code:
        return None
    attribution = invite_attribute(invitee_id=user.pk, code=code, context=signup_context(request))
    link_forget(request)
    if attribution.invite is None:
        return SignupOutcome(topic=TOPIC, ok=False, code=attribution.refusal, message=attribution.message)
    return SignupOutcome(topic=TOPIC, ok=True, message=_("Your friend's invite counts: you joined through it."))
