"""Partner systems' API keys. Dealers, agents, sales and rebates will live here too (see __init__.py)."""

from __future__ import annotations

from typing import ClassVar

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _


class ApiKey(models.Model):
    """A partner system's key for server-to-server calls (POST /api/v1/events; partner sales to come).

    The key belongs to the partner system named by `name`, not to a campaign. An event names its campaign by
    slug; an event without one goes to `default_campaign`. The key may report events only for its default
    campaign and the campaigns listed in `campaigns`.

    The secret is shown once when the key is created and never stored. What is stored is `signing_key`
    = sha256(secret) (hex): a *derived signing key*. Partners sign with that same derivation
    (HMAC-SHA256(key=sha256(secret).hexdigest(), msg=f"{timestamp}.{body}"), see `partners.signing`), so the
    server can verify without ever holding the secret itself; a database leak exposes signing keys, which
    are revoked here."""

    name = models.CharField(_("partner system"), max_length=80)
    key_id = models.CharField(_("key id"), max_length=40, unique=True)
    signing_key = models.CharField(max_length=64)
    default_campaign = models.ForeignKey(
        "campaigns.Campaign",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("default campaign"),
        help_text=_("Events that name no campaign count for this one."),
    )
    campaigns = models.ManyToManyField(
        "campaigns.Campaign",
        blank=True,
        related_name="+",
        verbose_name=_("other campaigns allowed"),
        help_text=_("Events may name these campaigns (by slug) besides the default campaign."),
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    last_used_at = models.DateTimeField(_("last used"), null=True, blank=True)
    revoked_at = models.DateTimeField(_("revoked at"), null=True, blank=True)

    class Meta:
        verbose_name = _("partner API key")
        verbose_name_plural = _("partner API keys")
        permissions: ClassVar = [
            ("issue_apikey", _("Can issue partner API keys")),
            ("revoke_apikey", _("Can revoke partner API keys")),
        ]

    def __str__(self) -> str:
        return f"{self.name} ({self.key_id})"
