"""The outbox, read-only: what jobs members are waiting for, which are done, and which the relay gave up on (with the
broker's last error). Rows are written by services and jobs only (ADR 0008)."""

from django.contrib import admin

from config.admin import ReadOnlyAdmin
from outbox.models import Entry


@admin.register(Entry)
class EntryAdmin(ReadOnlyAdmin):
    list_display = ("key", "job", "status", "attempts", "created_at", "due_at", "done_at")
    list_filter = ("status", "job")
    search_fields = ("key",)
    date_hierarchy = "created_at"
    show_full_result_count = False  # the table can be large; the changelist counts only the filtered page
