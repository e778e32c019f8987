"""Admin building blocks shared by every app."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

from django.contrib import admin, messages
from django.contrib.admin.widgets import AdminSplitDateTime
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.utils.translation import gettext as _

from config.errors import DomainError
from config.forms import error_text

T = TypeVar("T")


class ReadOnlyAdmin(admin.ModelAdmin):
    """For records only services may write (ledger rows, check-ins, ingested events): view, filter, search."""

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


class LabelledDateTimeAdmin(admin.ModelAdmin):
    """The date and time inputs of a split date-time field have no <label for> of their own: name each one (WCAG
    1.3.1/4.1.2, axe "label"), in the request's language, with the admin's own "Date:"/"Time:"."""

    def formfield_for_dbfield(self, db_field: Any, request: HttpRequest, **kwargs: Any) -> Any:
        field = super().formfield_for_dbfield(db_field, request, **kwargs)
        if field is not None and isinstance(field.widget, AdminSplitDateTime):
            for widget, part in zip(field.widget.widgets, (_("Date:"), _("Time:")), strict=True):
                widget.attrs["aria-label"] = f"{field.label} · {part.rstrip(':：')}"
        return field


class SaveRefused(Exception):
    """A service refused at save time (after the form was validated: a race). Raised out of the admin's
    transaction, so nothing the save did is kept; the change form shows the message."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class ServiceAdmin(LabelledDateTimeAdmin):
    """A change form whose save goes through a service: a SaveRefused raised by save_model (or a save_related)
    rolls the whole save back and comes back to the same form with its message."""

    def changeform_view(
        self,
        request: HttpRequest,
        object_id: str | None = None,
        form_url: str = "",
        extra_context: dict[str, Any] | None = None,
    ) -> HttpResponse:
        try:
            return super().changeform_view(request, object_id, form_url, extra_context)
        except SaveRefused as exc:
            messages.error(request, exc.message)
            return HttpResponseRedirect(request.get_full_path())


def save_or_refuse(save: Callable[[], T]) -> T:
    """Run a service's save; its refusal (a ValidationError or DomainError) becomes SaveRefused: "Nothing was saved"."""
    try:
        return save()
    except (ValidationError, DomainError) as exc:
        raise SaveRefused(_("Nothing was saved: %(problem)s") % {"problem": error_text(exc)}) from exc
