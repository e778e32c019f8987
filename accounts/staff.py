"""Staff boundaries: who may change whose account, and the audited writes the admin makes to accounts.

The rules (one home; accounts/admin.py asks these functions and hides or locks fields to match):

- A **superuser** manages every account: contact and profile, the active flag, the staff and superuser flags,
  groups and user permissions, and anyone's password.
- Any **other staff member** (an operator holds accounts.change_user) manages **members** only: contact and
  profile, the active flag, and a member's password. Staff accounts — theirs included — they may view, never
  change, so they can grant nobody (themselves least) a flag, group or permission they were not given. They
  change their own password on the admin's "Change password" page, which asks for the current one.

Every change made here of the active/staff/superuser flags, groups or permissions, phone, email or external id,
and every password set by staff, leaves a django-auditlog entry naming the staff member who did it (password
values are never logged). Setting a password revokes the account's API tokens: a reset usually means the
account was exposed.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

from auditlog.models import LogEntry
from django.contrib.auth.models import Group, Permission
from django.db import transaction
from django.utils import timezone

from accounts.errors import StaffBoundary
from accounts.models import ApiToken, User

PRIVILEGE_FIELDS = ("is_staff", "is_superuser", "groups", "user_permissions")
# Audited when staff change them: the flags, and what signs a member in or ties them to a partner's records
# (changing an email and then resetting the password would take an account over).
AUDITED_FIELDS = ("is_active", "is_staff", "is_superuser", "phone", "email", "external_id")
HIDDEN = "******"


def staff_may_manage(*, actor: User, user: User) -> bool:
    """May `actor` change `user`'s account (fields, flags, password)? Superusers: everyone; other active staff:
    members (accounts that are neither staff nor superuser) only."""
    if not (actor.is_active and actor.is_staff):
        return False
    if actor.is_superuser:
        return True
    return not (user.is_staff or user.is_superuser)


def _names(items: Iterable[Group | Permission]) -> str:
    return ", ".join(sorted(str(item) for item in items))


def user_admin_save(
    *,
    actor: User,
    user: User,
    groups: Iterable[Group] | None = None,
    permissions: Iterable[Permission] | None = None,
) -> User:
    """Save an account edited (or added) by staff. `groups`/`permissions` None leaves them as they are.

    A non-superuser may only save a member, and only as a member: changing the staff or superuser flag, groups
    or user permissions, or any field of a staff account, raises StaffBoundary and saves nothing. Changes of
    AUDITED_FIELDS, groups and permissions are audited with the actor."""
    with transaction.atomic():
        original = User.objects.select_for_update().filter(pk=user.pk).first() if user.pk else None
        before = {f: getattr(original, f) for f in AUDITED_FIELDS} if original else {}
        before_groups = set(original.groups.all()) if original else set()
        before_perms = set(original.user_permissions.all()) if original else set()
        new_groups = set(groups) if groups is not None else before_groups
        new_perms = set(permissions) if permissions is not None else before_perms
        escalated = (
            user.is_staff != before.get("is_staff", False)
            or user.is_superuser != before.get("is_superuser", False)
            or new_groups != before_groups
            or new_perms != before_perms
        )
        if (
            (original is not None and not staff_may_manage(actor=actor, user=original))
            or not staff_may_manage(actor=actor, user=user)
            or (escalated and not actor.is_superuser)
        ):
            raise StaffBoundary()
        user.save()
        if groups is not None:
            user.groups.set(new_groups)
        if permissions is not None:
            user.user_permissions.set(new_perms)
        changes: dict[str, list[str]] = {
            f: [str(before[f]), str(getattr(user, f))] for f in before if before[f] != getattr(user, f)
        }
        if new_groups != before_groups:
            changes["groups"] = [_names(before_groups), _names(new_groups)]
        if new_perms != before_perms:
            changes["user_permissions"] = [_names(before_perms), _names(new_perms)]
        if original is None and (user.is_staff or user.is_superuser):
            changes.update({f: ["False", "True"] for f in ("is_staff", "is_superuser") if getattr(user, f)})
        if changes:
            LogEntry.objects.log_create(
                user,
                action=LogEntry.Action.CREATE if original is None else LogEntry.Action.UPDATE,
                changes=changes,
                actor=actor,
            )
    return user


def user_password_set(*, actor: User, user: User, password: str | None, now: datetime | None = None) -> None:
    """Staff set `user`'s password (None: password sign-in disabled). Allowed as staff_may_manage says —
    an operator resets a member's password, only a superuser a staff member's; else StaffBoundary. The
    password is assumed validated by the caller's form. Revokes the account's API tokens; audited."""
    now = now or timezone.now()
    with transaction.atomic():
        target = User.objects.select_for_update().get(pk=user.pk)
        if not staff_may_manage(actor=actor, user=target):
            raise StaffBoundary()
        if password is None:
            user.set_unusable_password()
        else:
            user.set_password(password)
        user.save(update_fields=["password"])
        revoked = ApiToken.objects.filter(user=user, revoked_at__isnull=True).update(revoked_at=now)
        LogEntry.objects.log_create(
            user,
            action=LogEntry.Action.UPDATE,
            changes={"password": [HIDDEN, HIDDEN if password is not None else "(unusable)"]},
            additional_data={"set_by_staff": True, "api_tokens_revoked": revoked},
            actor=actor,
        )
