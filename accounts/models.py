"""Members and staff: one User table, login by phone or email; shipping addresses; API tokens."""

from __future__ import annotations

import uuid
from collections.abc import Callable, Collection
from typing import Any, ClassVar

from django.conf import settings
from django.contrib.auth.base_user import AbstractBaseUser, BaseUserManager
from django.contrib.auth.models import PermissionsMixin
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import Q
from django.db.models.functions import Lower
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from accounts.normalize import email_normalize, phone_normalize, postal_code_normalize, text_clean


class UserManager(BaseUserManager["User"]):
    use_in_migrations = True

    def create_user(self, email: str | None = None, password: str | None = None, **extra: Any) -> User:
        """Django's hook (`manage.py createsuperuser`). Members register through accounts.services.user_create,
        which also gives per-field messages for taken identifiers and weak passwords; both normalise phone
        numbers and emails through accounts.normalize."""
        phone = extra.pop("phone", None)
        user = self.model(
            email=email_normalize(email), phone=phone_normalize(phone) if phone and phone.strip() else None, **extra
        )
        if user.email is None and user.phone is None:
            raise ValueError("A user needs a phone number or an email.")
        if password is None:
            user.set_unusable_password()
        else:
            user.set_password(password)
        user.save(using=self._db)
        return user

    def create_superuser(self, email: str | None = None, password: str | None = None, **extra: Any) -> User:
        extra.update(is_staff=True, is_superuser=True)
        return self.create_user(email=email, password=password, **extra)


class User(AbstractBaseUser, PermissionsMixin):
    """A member or a staff user. Logs in with a phone number (E.164) or an email; at least one is set."""

    phone = models.CharField(_("phone number"), max_length=20, unique=True, null=True, blank=True)
    email = models.EmailField(_("email"), unique=True, null=True, blank=True)
    display_name = models.CharField(_("display name"), max_length=40, blank=True)
    avatar = models.ImageField(_("avatar"), upload_to="avatars/", blank=True)
    language = models.CharField(
        _("preferred language"), max_length=10, choices=settings.LANGUAGES, default=settings.LANGUAGE_CODE
    )
    external_id = models.CharField(
        _("external id"),
        max_length=64,
        unique=True,
        null=True,
        blank=True,
        help_text=_("Id of this member in the brand's own systems (used by partner integrations)."),
    )
    is_staff = models.BooleanField(_("staff status"), default=False)
    is_active = models.BooleanField(_("active"), default=True)
    date_joined = models.DateTimeField(_("date joined"), default=timezone.now)

    objects = UserManager()

    USERNAME_FIELD = "email"
    EMAIL_FIELD = "email"
    REQUIRED_FIELDS: ClassVar[list[str]] = []

    class Meta:
        verbose_name = _("user")
        verbose_name_plural = _("users")
        constraints: ClassVar = [
            models.CheckConstraint(
                condition=Q(phone__isnull=False) | Q(email__isnull=False), name="user_has_phone_or_email"
            ),
            models.UniqueConstraint(Lower("email"), name="user_email_ci_unique"),
        ]

    def __str__(self) -> str:
        return self.display_name or self.email or self.phone or f"#{self.pk}"

    def clean_fields(self, exclude: Collection[str] | None = None) -> None:
        """The display name as free text (accounts.normalize.text_clean: NFKC, whitespace, control characters
        refused) before Django's checks: profile updates, the admin and forms all store it so."""
        _clean_text_fields(self, ("display_name",), exclude, lambda _field: text_clean, super().clean_fields)

    @property
    def masked_name(self) -> str:
        """A name safe to show to other members (leaderboards, winner tickers)."""
        if self.display_name:
            return self.display_name[0] + "**"
        if self.phone:
            return self.phone[:-8] + "****" + self.phone[-4:]
        local = (self.email or "").split("@")[0]
        return (local[:1] or "*") + "***"


def _address_rule(field: str) -> Callable[[str], str]:
    if field == "phone":
        return lambda value: phone_normalize(value) if value.strip() else ""  # blank: Django's "required" check
    if field == "postal_code":
        return postal_code_normalize
    return text_clean


def _clean_text_fields(
    instance: models.Model,
    fields: Collection[str],
    exclude: Collection[str] | None,
    rule_of: Callable[[str], Callable[[str], str]],
    django_clean_fields: Callable[..., None],
) -> None:
    """Apply each field's normalisation rule, then Django's field checks for the fields that passed; one
    ValidationError with every field's messages."""
    skip = set(exclude or ())
    errors: dict[str, list[ValidationError]] = {}
    for field in fields:
        if field in skip:
            continue
        try:
            setattr(instance, field, rule_of(field)(getattr(instance, field) or ""))
        except ValidationError as exc:
            errors[field] = exc.error_list
    try:
        django_clean_fields(exclude=skip | errors.keys())
    except ValidationError as exc:
        for field, messages in exc.error_dict.items():
            errors.setdefault(field, []).extend(messages)
    if errors:
        raise ValidationError(errors)


# The fields of a postal address (mainland China format), in the order forms, serializers and CSV sheets show
# them. AddressFields declares them once; everything that lists address fields uses this tuple.
ADDRESS_FIELDS = ("recipient", "phone", "province", "city", "district", "detail", "postal_code")


class AddressFields(models.Model):
    """The postal address columns, declared once: the member's address book (Address) and the copy a shipment
    keeps (shipments.Shipment) both inherit them. `blank` says what a complete address needs; clean_fields holds
    the rules (accounts.normalize), which accounts.services.address_save runs through full_clean."""

    recipient = models.CharField(_("recipient"), max_length=40)
    phone = models.CharField(_("phone number"), max_length=20)
    province = models.CharField(_("province"), max_length=40)
    city = models.CharField(_("city"), max_length=40)
    district = models.CharField(_("district"), max_length=40, blank=True)
    detail = models.CharField(_("street address"), max_length=200)
    postal_code = models.CharField(_("postal code"), max_length=6, blank=True)

    class Meta:
        abstract = True

    def clean_fields(self, exclude: Collection[str] | None = None) -> None:
        """Each address field normalised and checked by its rule in accounts.normalize before Django's own checks
        (lengths, blanks): the phone to E.164 with ASCII digits only, the postal code to six ASCII digits, every
        other field as free text (NFKC, whitespace collapsed, control characters refused). The one home of the
        rules: address_save, the pages' and the admin's forms and the API (through address_save) all run it."""
        _clean_text_fields(self, ADDRESS_FIELDS, exclude, _address_rule, super().clean_fields)

    @property
    def address_line(self) -> str:
        """Province, city, district and street as one line (empty for an empty address)."""
        return " ".join(part for part in (self.province, self.city, self.district, self.detail) if part)

    def address_values(self) -> dict[str, str]:
        return {field: getattr(self, field) for field in ADDRESS_FIELDS}


class Address(AddressFields):
    """A shipping address for physical prizes and goods (mainland China format)."""

    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="addresses", verbose_name=_("user"))
    is_default = models.BooleanField(_("default address"), default=False)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)

    class Meta:
        verbose_name = _("address")
        verbose_name_plural = _("addresses")
        ordering = ("-is_default", "-created_at")
        constraints: ClassVar = [
            models.UniqueConstraint(fields=["user"], condition=Q(is_default=True), name="address_one_default_per_user"),
        ]

    def __str__(self) -> str:
        return f"{self.recipient} {self.province}{self.city}{self.district}{self.detail}"


class ApiToken(models.Model):
    """A bearer token pair for the mobile app: a signed access token (ADR 0012) and an opaque refresh token. Only
    SHA-256 digests are stored.

    Refreshing rotates: the pair is revoked (`rotated_at` says why) and a new pair of the same `family` issued, so a
    family is one sign-in's chain of pairs with at most one alive. Presenting a rotated refresh token again revokes
    the whole family (accounts.services.token_refresh)."""

    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="api_tokens")
    family = models.UUIDField(default=uuid.uuid4, editable=False, help_text=_("The sign-in this pair descends from."))
    access_digest = models.CharField(max_length=64, unique=True)
    refresh_digest = models.CharField(max_length=64, unique=True)
    access_expires_at = models.DateTimeField()
    refresh_expires_at = models.DateTimeField()
    created_at = models.DateTimeField(auto_now_add=True)
    revoked_at = models.DateTimeField(null=True, blank=True)
    rotated_at = models.DateTimeField(null=True, blank=True, help_text=_("Revoked because it was refreshed."))
    name = models.CharField(max_length=60, blank=True, help_text=_("Device or client name."))

    class Meta:
        verbose_name = _("API token")
        verbose_name_plural = _("API tokens")
        indexes: ClassVar = [
            models.Index(fields=["user", "revoked_at"]),
            models.Index(fields=["family"]),
            # the revoked access tokens not yet expired: what each web process loads at start (ADR 0012)
            models.Index(
                fields=["access_expires_at"], condition=Q(revoked_at__isnull=False), name="apitoken_revoked_live"
            ),
        ]
        constraints: ClassVar = [
            models.CheckConstraint(
                condition=Q(rotated_at__isnull=True) | Q(revoked_at__isnull=False),
                name="apitoken_rotated_is_revoked",
            )
        ]

    def __str__(self) -> str:
        return f"token #{self.pk} of {self.user_id}"


class IdempotencyRecord(models.Model):
    """The stored outcome of a POST made with an Idempotency-Key, replayed for retries of the same request."""

    class State(models.TextChoices):
        IN_FLIGHT = "in_flight", _("in flight")
        DONE = "done", _("done")

    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="+")
    key = models.CharField(max_length=255)
    method = models.CharField(max_length=10)
    path = models.CharField(max_length=500)
    request_digest = models.CharField(max_length=64)
    state = models.CharField(max_length=10, choices=State.choices, default=State.IN_FLIGHT)
    response_status = models.PositiveSmallIntegerField(null=True)
    response_body = models.JSONField(null=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints: ClassVar = [
            models.UniqueConstraint(fields=["user", "key"], name="idempotency_user_key_unique"),
            models.CheckConstraint(
                condition=Q(state="in_flight") | Q(response_status__isnull=False),
                name="idempotency_done_has_response",
            ),
        ]
        indexes: ClassVar = [models.Index(fields=["created_at"])]

    def __str__(self) -> str:
        return f"{self.user_id}:{self.key}"
