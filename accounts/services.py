"""Every write to accounts goes through here."""

from __future__ import annotations

import base64
import dataclasses
import functools
import hashlib
import hmac
import secrets
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from django.apps import apps as global_apps
from django.conf import settings
from django.contrib.auth import password_validation
from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db import IntegrityError, connection, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.errors import AddressNotFound, InvalidToken
from accounts.models import ADDRESS_FIELDS, Address, ApiToken, IdempotencyRecord, User
from accounts.normalize import email_normalize, phone_normalize, text_clean
from accounts.revocations import revocation_feed
from config.security_log import security_event

ACCESS_TTL = timedelta(hours=1)
REFRESH_TTL = timedelta(days=30)
PROFILE_FIELDS = frozenset({"display_name", "language", "avatar"})


def user_create(
    *,
    phone: str | None = None,
    email: str | None = None,
    password: str | None,
    display_name: str = "",
    language: str | None = None,
    **extra: Any,
) -> User:
    """Register a member. Raises ValidationError with per-field messages; creates nothing on error."""
    errors: dict[str, list[ValidationError]] = {}
    phone = (phone or "").strip() or None
    email = email_normalize(email)
    if phone:
        try:
            phone = phone_normalize(phone)
        except ValidationError as exc:
            errors["phone"] = [exc]
    if email:
        try:
            validate_email(email)
        except ValidationError as exc:
            errors["email"] = [exc]
    if not phone and not email:
        errors["__all__"] = [ValidationError(_("Give a phone number or an email."), code="required")]
    if phone and "phone" not in errors and User.objects.filter(phone=phone).exists():
        errors["phone"] = [ValidationError(_("This phone number is already registered."), code="taken")]
    if email and "email" not in errors and User.objects.filter(email__iexact=email).exists():
        errors["email"] = [ValidationError(_("This email is already registered."), code="taken")]
    try:
        display_name = text_clean(display_name)
    except ValidationError as exc:
        errors["display_name"] = [exc]
    user = User(phone=phone, email=email, display_name=display_name, **extra)
    if language:
        user.language = language
    if password is not None:
        try:
            password_validation.validate_password(password, user)
        except ValidationError as exc:
            errors["password"] = [exc]
    if errors:
        raise ValidationError(errors)
    if password is None:
        user.set_unusable_password()
    else:
        user.set_password(password)
    try:
        with transaction.atomic():
            user.save()
    except IntegrityError as exc:  # lost a race with a parallel registration of the same phone/email
        raise ValidationError(
            {"__all__": [ValidationError(_("This phone number or email is already registered."), code="taken")]}
        ) from exc
    return user


def user_profile_update(*, user: User, data: dict[str, Any]) -> User:
    """Change the member-editable profile fields only; anything else in `data` is ignored."""
    changed = []
    for field in PROFILE_FIELDS & data.keys():
        value = data[field]
        if field == "display_name":
            value = value or ""  # normalised by User.clean_fields (accounts.normalize.text_clean)
        if field == "language" and value not in dict(settings.LANGUAGES):
            raise ValidationError({"language": [ValidationError(_("Unknown language."), code="invalid_choice")]})
        setattr(user, field, value)
        changed.append(field)
    if changed:
        user.full_clean(exclude=["password", "phone", "email"])
        user.save(update_fields=changed)
    return user


def address_save(*, user: User, data: dict[str, Any], address: Address | None = None) -> Address:
    """Create or edit one of the user's shipping addresses; keeps exactly one default. Field errors are a
    ValidationError by field; `address` of another member raises AddressNotFound."""
    address = address or Address(user=user)
    if address.user_id != user.pk:
        raise AddressNotFound()
    for field in ADDRESS_FIELDS:
        if field in data:
            setattr(address, field, str(data[field] or ""))
    # AddressFields.clean_fields normalises and checks every field (accounts.normalize); errors by field
    address.full_clean(exclude=["user", "is_default"])
    with transaction.atomic():
        User.objects.select_for_update().filter(pk=user.pk).first()  # serialise default switching per user
        has_default = Address.objects.filter(user=user, is_default=True).exclude(pk=address.pk).exists()
        make_default = bool(data.get("is_default")) or not has_default
        if make_default:
            Address.objects.filter(user=user, is_default=True).exclude(pk=address.pk).update(is_default=False)
        address.is_default = make_default or (address.is_default and not has_default)
        address.save()
    return address


def address_delete(*, user: User, address_id: int) -> None:
    """Remove one of the member's addresses (AddressNotFound for anyone else's); the newest left becomes the
    default if the default went."""
    with transaction.atomic():
        deleted = Address.objects.filter(user=user, pk=address_id).first() if 0 < address_id < 2**63 else None
        if deleted is None:
            raise AddressNotFound()
        deleted.delete()
        if deleted.is_default:
            nxt = Address.objects.filter(user=user).order_by("-created_at").first()
            if nxt:
                Address.objects.filter(pk=nxt.pk).update(is_default=True)


# --- API tokens ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class TokenPair:
    access: str
    refresh: str
    access_expires_at: datetime
    refresh_expires_at: datetime
    token: ApiToken


def _digest(raw: str) -> str:
    return hashlib.sha256(raw.encode()).hexdigest()


def token_issue(
    *, user: User, name: str = "", family: uuid.UUID | None = None, now: datetime | None = None
) -> TokenPair:
    """A new pair; a new family (a new sign-in) unless `family` names the one it rotates within. The access token is
    signed (ADR 0012: `pm1.<token id>.<member id>.<expiry>.<signature>`), the refresh token opaque; the database
    keeps the digests of both."""
    now = now or timezone.now()
    expires = (now + ACCESS_TTL).replace(microsecond=0)  # whole seconds: the expiry the signed token carries
    refresh = secrets.token_urlsafe(48)
    with transaction.atomic():
        token = ApiToken.objects.create(
            user=user,
            name=name[:60],
            family=family or uuid.uuid4(),
            access_digest=_digest(secrets.token_urlsafe(32)),  # replaced below, once the row has its id
            refresh_digest=_digest(refresh),
            access_expires_at=expires,
            refresh_expires_at=now + REFRESH_TTL,
        )
        access = _access_sign(token_id=token.pk, user_id=user.pk, expires_at=expires)
        token.access_digest = _digest(access)
        token.save(update_fields=["access_digest"])
    return TokenPair(access, refresh, token.access_expires_at, token.refresh_expires_at, token)


# --- Signed access tokens (ADR 0012) ---------------------------------------------------------------------

SIGNED_PREFIX = "pm1."
_SIGNING_SALT = "accounts.access-token"


@functools.lru_cache(maxsize=8)
def _signing_key(secret: str | bytes) -> bytes:
    """The HMAC key derived from a secret (Django's salted_hmac derivation: SHA-256 of salt + secret), once per
    secret and process rather than on every request."""
    return hashlib.sha256((_SIGNING_SALT + (secret if isinstance(secret, str) else secret.decode())).encode()).digest()


def _signature(message: str, secret: str | bytes) -> str:
    digest = hmac.digest(_signing_key(secret), message.encode(), "sha256")  # one-shot, in C
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode()


def _access_sign(*, token_id: int, user_id: int, expires_at: datetime) -> str:
    message = f"{SIGNED_PREFIX}{token_id}.{user_id}.{int(expires_at.timestamp())}"
    return f"{message}.{_signature(message, settings.SECRET_KEY)}"


def _access_claims(access: str) -> tuple[int, int, datetime] | None:
    """(token id, member id, expiry) of a signed access token whose signature is ours (SECRET_KEY, or one of
    SECRET_KEY_FALLBACKS while keys rotate); None for anything else."""
    if not access.isascii():  # compare_digest takes ASCII strings only; str.isdigit() takes other scripts' digits
        return None
    message, _, signature = access.rpartition(".")
    parts = message[len(SIGNED_PREFIX) :].split(".")
    if len(parts) != 3 or not all(part.isdigit() and len(part) <= 19 for part in parts):
        return None
    if not any(
        hmac.compare_digest(signature, _signature(message, secret))
        for secret in (settings.SECRET_KEY, *settings.SECRET_KEY_FALLBACKS)
    ):
        return None
    token_id, user_id, expiry = (int(part) for part in parts)
    return token_id, user_id, datetime.fromtimestamp(expiry, tz=UTC)


@dataclass(frozen=True)
class _Verified:
    """What a successful database check of an access token established, kept for TOKEN_CACHE_SECONDS."""

    checked_until: datetime
    token_id: int
    user_id: int
    access_expires_at: datetime
    is_staff: bool | None  # None: not read (a signed token); loads from the database on first use
    is_superuser: bool | None


# Access-token digest -> its last successful check, per process. A revocation elsewhere (another process, the
# admin) takes effect here within TOKEN_CACHE_SECONDS; in this process at once (token_cache_forget). See
# docs/adr/0007-bearer-token-cache.md.
_verified: dict[str, _Verified] = {}
_VERIFIED_MAX = 50_000


def token_cache_forget() -> None:
    """Forget this process's verified tokens (called on every revocation made here)."""
    _verified.clear()


def token_authenticate(*, access: str, now: datetime | None = None) -> ApiToken:
    """The live token of an access string, or InvalidToken.

    A signed access token (ADR 0012) is checked without a query: our signature, its expiry, and this process's set
    of revoked tokens (accounts.revocations, kept current by the database's notifications). While that set is not
    available (the feed is starting, lost its connection, or is off), it is checked in the database like an opaque
    token: one raw query (live, not revoked, its member active), then answered from memory for
    `settings.API_TOKEN_CACHE_SECONDS` (ADR 0007). The token and its user come back as instances holding only their
    ids, expiry and what was checked (other fields load from the database on first use)."""
    now = now or timezone.now()
    if access.startswith(SIGNED_PREFIX):
        claims = _access_claims(access)
        if claims is None or now >= claims[2]:
            raise InvalidToken()
        feed = revocation_feed()
        if feed is not None and feed.ready():
            if feed.revoked(claims[0]):
                raise InvalidToken()
            return _token_of(_Verified(now, claims[0], claims[1], claims[2], None, None))
    digest = _digest(access)
    seen = _verified.get(digest)
    if seen is not None and now < seen.checked_until and now < seen.access_expires_at:
        return _token_of(seen)
    with connection.cursor() as cursor:  # raw: this runs on the first request of every token (~0.15 ms, not ~0.7)
        cursor.execute(_TOKEN_SQL, [digest, now])
        row = cursor.fetchone()
    if row is None:
        _verified.pop(digest, None)
        raise InvalidToken()
    token_id, user_id, expires_at, is_staff, is_superuser = row
    seen = _Verified(now, token_id, user_id, expires_at, is_staff, is_superuser)
    ttl = timedelta(seconds=settings.API_TOKEN_CACHE_SECONDS)
    if ttl and len(_verified) < _VERIFIED_MAX:
        _verified[digest] = dataclasses.replace(seen, checked_until=now + ttl)
    return _token_of(seen)


_TOKEN_SQL = f"""
SELECT t.id, t.user_id, t.access_expires_at, u.is_staff, u.is_superuser
  FROM {ApiToken._meta.db_table} t JOIN {User._meta.db_table} u ON u.id = t.user_id
 WHERE t.access_digest = %s AND t.revoked_at IS NULL AND t.access_expires_at > %s AND u.is_active
"""  # noqa: S608 - table names from the models


def _token_of(seen: _Verified) -> ApiToken:
    # from_db takes the values in the model's field order; the fields not named load on first use
    if seen.is_staff is None or seen.is_superuser is None:
        user = User.from_db("default", ["id", "is_active"], [seen.user_id, True])
    else:
        user = User.from_db(
            "default",
            ["id", "is_superuser", "is_staff", "is_active"],
            [seen.user_id, seen.is_superuser, seen.is_staff, True],
        )
    token = ApiToken.from_db(
        "default", ["id", "user_id", "access_expires_at"], [seen.token_id, seen.user_id, seen.access_expires_at]
    )
    token.user = user
    return token


def token_refresh(*, refresh: str, now: datetime | None = None, client_ip: str = "") -> TokenPair:
    """Rotate: the old pair is revoked and a new pair of its family issued. A refresh token works once: the
    conditional UPDATE lets exactly one of concurrent refreshes win. Presenting a refresh token that was already
    rotated (a stolen copy replayed, or the loser of such a race) is reuse: every live token of its family is
    revoked, the winner's new pair included, and it is logged on `security` (OAuth 2.0 Security BCP: the server
    cannot tell the thief from the owner, so both sign in again). `client_ip` is for that log line only."""
    now = now or timezone.now()
    digest = _digest(refresh)
    with transaction.atomic():
        rotated = ApiToken.objects.filter(
            refresh_digest=digest, revoked_at__isnull=True, refresh_expires_at__gt=now
        ).update(revoked_at=now, rotated_at=now)
        token_cache_forget()
        if rotated == 1:
            old = ApiToken.objects.select_related("user").get(refresh_digest=digest)
            if not old.user.is_active:
                raise InvalidToken()  # rolls the rotation back: an inactive member's tokens stay as they were
            return token_issue(user=old.user, name=old.name, family=old.family, now=now)
    # Unknown, expired, revoked, or rotated before: the last is reuse (committed even though the caller gets 401).
    reused = ApiToken.objects.filter(refresh_digest=digest, rotated_at__isnull=False).first()
    if reused is not None:
        revoked = token_family_revoke(family=reused.family, now=now)
        security_event(
            "refresh_token_reused",
            ip=client_ip,
            user_id=reused.user_id,
            token_id=reused.pk,
            family=reused.family,
            revoked=revoked,
        )
    raise InvalidToken()


def token_family_revoke(*, family: uuid.UUID, now: datetime | None = None) -> int:
    """Revoke every live pair of a family; returns how many were live."""
    token_cache_forget()
    return ApiToken.objects.filter(family=family, revoked_at__isnull=True).update(revoked_at=now or timezone.now())


def token_revoke(*, token: ApiToken | None = None, refresh: str | None = None, user: User | None = None) -> int:
    """Revoke one token (by object or refresh string); returns how many were revoked."""
    qs = ApiToken.objects.filter(revoked_at__isnull=True)
    if token is not None:
        qs = qs.filter(pk=token.pk)
    elif refresh:
        qs = qs.filter(refresh_digest=_digest(refresh))
    else:
        return 0
    if user is not None:
        qs = qs.filter(user=user)
    token_cache_forget()
    revoked = list(qs.values_list("pk", "access_expires_at"))
    count = qs.filter(pk__in=[pk for pk, _expiry in revoked]).update(revoked_at=timezone.now())
    feed = revocation_feed()
    if feed is not None:  # notified on commit too; this makes a sign-out true in this process at once
        for pk, expiry in revoked:
            transaction.on_commit(functools.partial(feed.add, pk, int(expiry.timestamp()) + 1))
    return count


# --- Staff groups ------------------------------------------------------------------------------------

# Which model permissions each staff group gets, by app label -> actions.
STAFF_GROUPS: dict[str, dict[str, tuple[str, ...]]] = {
    "operator": {
        "campaigns": ("add", "change", "delete", "view"),
        "tasks": ("add", "change", "delete", "view"),
        "lottery": ("add", "change", "delete", "view"),
        "mall": ("add", "change", "delete", "view", "verify"),  # verify: store pickups
        "shipments": ("change", "view"),
        "referrals": ("add", "change", "view", "review"),  # review: decide the invite review queue
        "levels": ("add", "change", "view", "set"),  # set: a member's level floor (levels.set_floor)
        # issue/revoke: partner systems' API keys; import: sales CSV files; fulfil: non-cash annual bonuses
        "partners": ("add", "change", "view", "issue", "revoke", "import", "fulfil"),
        "points": ("view", "adjust"),
        "accounts": ("view", "change"),
        "django_celery_beat": ("view",),
        "outbox": ("view",),  # jobs members wait for, read-only (ADR 0008)
    },
    "analyst": {
        **dict.fromkeys(
            ("campaigns", "tasks", "lottery", "mall", "shipments", "partners", "reports", "points"), ("view", "export")
        ),
        "referrals": ("view", "export", "review"),  # analysts decide suspected referral fraud too (issue 14)
        "levels": ("view", "export"),
    },
    "finance": {
        "points": ("view", "export"),
        "mall": ("view", "export", "settle"),  # settle: supplier statements
        "lottery": ("view", "export"),
        "partners": ("view", "change", "export", "pay", "fulfil"),  # pay: partner statements
        "shipments": ("view", "export"),
        "reports": ("view", "export"),
    },
}


def staff_groups_sync(*, using: str = "default", apps: Any = None) -> None:
    """Create the staff groups and grant them the permissions in STAFF_GROUPS that exist now."""
    if apps is None:
        apps = global_apps
    group_model = apps.get_model("auth", "Group")
    permission_model = apps.get_model("auth", "Permission")
    for group_name, grants in STAFF_GROUPS.items():
        group, _created = group_model.objects.using(using).get_or_create(name=group_name)
        wanted = []
        for app_label, actions in grants.items():
            for perm in permission_model.objects.using(using).filter(content_type__app_label=app_label):
                if perm.codename.split("_", 1)[0] in actions:
                    wanted.append(perm)
        group.permissions.add(*wanted)


def idempotency_records_prune(*, older_than: timedelta = timedelta(days=1), now: datetime | None = None) -> int:
    """Forget stored Idempotency-Key responses older than `older_than` (retries come within minutes)."""
    now = now or timezone.now()
    deleted, _rows = IdempotencyRecord.objects.filter(created_at__lt=now - older_than).delete()
    return deleted
