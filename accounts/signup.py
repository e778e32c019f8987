"""What else happens when a member signs up, without accounts naming the apps that react. accounts sits below every
product app, so an app that wants to act on a new member (referrals attributes an invite) registers a hook once, in
its AppConfig.ready():

    signup.register("referrals.invite", invite_on_signup)

The register page and the register API call `signup_hooks_run` right after the account is created (and, on the page,
signed in), in registration order. A hook returns a `SignupOutcome` for the member to read (the page shows its
message, the API returns it under the outcome's topic) or None when it had nothing to do. Sign-up never fails
because of a hook: each runs in its own savepoint, and one that raises is logged and skipped — the account stays.
No signals: this explicit list is the one place to look."""

from __future__ import annotations

import logging
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from django.db import transaction

if TYPE_CHECKING:  # imported by apps' AppConfig modules, before models can load
    from accounts.models import User

logger = logging.getLogger(__name__)

NAME = re.compile(r"[a-z][a-z0-9_]*(\.[a-z][a-z0-9_]*)+")  # "<app>.<thing>"


@dataclass(frozen=True)
class SignupOutcome:
    """What a hook tells the new member: `topic` names it in the API's response ("invite"), `ok` whether it went
    through, `code` a stable reason when it did not, `message` the text in the request's language."""

    topic: str
    ok: bool
    message: str
    code: str = ""


# hook(user=..., request=..., invite_code=...) -> SignupOutcome | None; `request` is the page's HttpRequest or the
# API's (DRF proxies META, COOKIES and session to it), `invite_code` what the member typed or the app sent ('' if none).
SignupHook = Callable[..., SignupOutcome | None]

_hooks: dict[str, SignupHook] = {}


def register(name: str, hook: SignupHook) -> None:
    """Add a hook under `name` ("<app>.<thing>"); registering the same name again replaces it (tests, autoreload)."""
    if not NAME.fullmatch(name):
        raise ValueError(f"signup hook {name!r} is not '<app>.<thing>' in lower case")
    _hooks[name] = hook


def unregister(name: str) -> None:
    _hooks.pop(name, None)


def hooks() -> list[str]:
    """The registered hooks' names, in the order they run."""
    return list(_hooks)


def signup_hooks_run(*, user: User, request: Any, invite_code: str = "") -> list[SignupOutcome]:
    """Run every hook for the member who just signed up; returns what they have to say. Never raises."""
    outcomes = []
    for name, hook in list(_hooks.items()):
        try:
            with transaction.atomic():
                outcome = hook(user=user, request=request, invite_code=invite_code or "")
        except Exception:  # a broken hook must not undo or fail a sign-up that has succeeded
            logger.exception("signup hook %s failed for user %s", name, user.pk)
            continue
        if outcome is not None:
            outcomes.append(outcome)
    return outcomes
