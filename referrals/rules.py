"""The fraud signals of invites in words: one label per reason code stored in `Invite.risk_reasons` (set at
attribution by referrals.services, at qualification by referrals_qualify.sql, by the idle sweep). The admin's
review queue and the members' pages read them from here; a code without a label is shown as it is."""

from __future__ import annotations

from collections.abc import Iterable

from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _

REASON_LABELS: dict[str, Promise] = {
    "shared_device": _("shared device: more accounts from one device than allowed"),
    "ip_burst": _("many sign-ups from one IP address within an hour"),
    "network_burst": _("many sign-ups from one network (/24) within an hour"),
    "inviter_burst": _("many sign-ups for one inviter within 10 minutes"),
    "ring": _("invite ring: the invitee is up the inviter's own invite chain"),
    "daily_cap": _("the inviter's daily limit of rewarded invites was reached"),
    "campaign_cap": _("the inviter's campaign limit of rewarded invites was reached"),
    "idle": _("the invitee never acted again after qualifying"),
}


def reason_label(code: str) -> str:
    """One reason code in words (in the active language); an unknown code as it is."""
    label = REASON_LABELS.get(code)
    return str(label) if label is not None else code


def reason_labels(codes: Iterable[str]) -> list[str]:
    """Reason codes in words, in their stored order, each once."""
    return [reason_label(code) for code in dict.fromkeys(codes)]
