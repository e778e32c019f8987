"""One row per job a member waits for: written in the same transaction as the effect that calls for it (by
outbox.services.outbox_add or the SQL function outbox_add(), outbox/sql/outbox_add.sql), published to Celery after
commit, re-published by the relay while it is pending and past `due_at`, and marked done by the job itself in the
transaction of the job's own effect (ADR 0008)."""

from __future__ import annotations

from typing import ClassVar

from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _


class EntryStatus(models.TextChoices):
    PENDING = "pending", _("pending")
    DONE = "done", _("done")
    FAILED = "failed", _("given up")


class Entry(models.Model):
    key = models.CharField(
        _("key"),
        max_length=200,
        help_text=_("Names the effect the job follows from; adding the same key twice records one job."),
    )
    job = models.CharField(_("job"), max_length=200, help_text=_("The Celery task's name."))
    args = models.JSONField(_("arguments"), default=list)
    status = models.CharField(_("status"), max_length=10, choices=EntryStatus.choices, default=EntryStatus.PENDING)
    attempts = models.PositiveIntegerField(
        _("re-publications"), default=0, help_text=_("How often the relay has published the job again.")
    )
    created_at = models.DateTimeField(_("created at"))
    due_at = models.DateTimeField(_("due"), help_text=_("If the job is not done by then, the relay publishes it."))
    published_at = models.DateTimeField(_("last re-published"), null=True, blank=True)
    done_at = models.DateTimeField(_("done at"), null=True, blank=True)
    last_error = models.TextField(_("last error"), blank=True)

    class Meta:
        verbose_name = _("outbox entry")
        verbose_name_plural = _("outbox entries")
        ordering = ("-created_at", "-id")
        constraints: ClassVar = [
            models.UniqueConstraint(fields=["key"], name="outbox_key_once"),
            models.CheckConstraint(condition=~Q(key=""), name="outbox_has_key"),
            models.CheckConstraint(condition=~Q(job=""), name="outbox_has_job"),
            models.CheckConstraint(condition=Q(status__in=EntryStatus.values), name="outbox_status_known"),
            models.CheckConstraint(
                condition=Q(status=EntryStatus.DONE, done_at__isnull=False)
                | (~Q(status=EntryStatus.DONE) & Q(done_at__isnull=True)),
                name="outbox_done_has_time",
            ),
        ]
        indexes: ClassVar = [
            # The relay's scan: pending rows by due time (a partial index stays as small as the backlog).
            models.Index(fields=["due_at"], condition=Q(status=EntryStatus.PENDING), name="outbox_pending_due_idx"),
            # The prune job's scan.
            models.Index(fields=["done_at"], condition=Q(status=EntryStatus.DONE), name="outbox_done_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.key} → {self.job} ({self.status})"
