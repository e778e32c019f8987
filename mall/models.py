"""The points mall. For now: code pools (coupon / redemption codes), which the prize wheel hands out; the
catalogue, stock, orders and refunds build on them."""

from __future__ import annotations

from typing import ClassVar

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _


class CodePool(models.Model):
    """A batch of pre-generated codes from a supplier (coupons, gift cards). Each code goes to one member."""

    name = models.CharField(_("name"), max_length=80)
    supplier = models.CharField(_("supplier"), max_length=80, blank=True)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)

    class Meta:
        verbose_name = _("code pool")
        verbose_name_plural = _("code pools")

    def __str__(self) -> str:
        return self.name


class Code(models.Model):
    """One code. Assigned at most once: a member takes a free code with a skip-locked conditional update and
    `assignment_key` (unique) ties it to the draw or order that took it (see lottery_spin())."""

    pool = models.ForeignKey(CodePool, on_delete=models.PROTECT, related_name="codes", verbose_name=_("pool"))
    code = models.CharField(_("code"), max_length=64)
    assigned_to = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    assigned_at = models.DateTimeField(_("assigned at"), null=True, blank=True)
    assignment_key = models.CharField(max_length=200, null=True, blank=True, unique=True)

    class Meta:
        verbose_name = _("code")
        verbose_name_plural = _("codes")
        constraints: ClassVar = [
            models.UniqueConstraint(fields=["pool", "code"], name="code_unique_in_pool"),
            models.CheckConstraint(
                condition=(Q(assigned_to__isnull=True) & Q(assignment_key__isnull=True))
                | (Q(assigned_to__isnull=False) & Q(assignment_key__isnull=False)),
                name="code_assignment_complete",
            ),
        ]
        indexes: ClassVar = [
            models.Index(fields=["pool", "id"], condition=Q(assigned_to__isnull=True), name="code_free_idx")
        ]

    def __str__(self) -> str:
        return self.code
