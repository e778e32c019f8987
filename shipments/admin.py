"""The operators' shipping queue, for every source (prize wheel, mall…): filter by status and source, export the
logistics company's CSV, import what it shipped, ship one by hand, mark delivered or returned. Every write goes
through shipments.services; analysts may look and export, only operators (change permission) move shipments."""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import admin, messages
from django.contrib.admin.utils import unquote
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import QuerySet
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.urls import path, reverse
from django.utils import timezone
from django.utils.http import urlencode
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext

from config.admin import ReadOnlyAdmin
from config.csvfiles import csv_upload_read
from config.errors import DomainError
from config.forms import errors_to_form
from shipments import registry, rules, selectors, services
from shipments.models import Shipment
from shipments.rules import ShipmentStatus


class ShipmentStatusFilter(admin.SimpleListFilter):
    """By status; without a choice the queue shows what is ready to ship (a search looks through all)."""

    title = gettext_lazy("status")
    parameter_name = "status"
    ALL = "all"

    def __init__(self, request: HttpRequest, params: Any, model: Any, model_admin: Any) -> None:
        super().__init__(request, params, model, model_admin)
        self.searching = bool(request.GET.get("q"))

    def lookups(self, request: HttpRequest, model_admin: Any) -> Any:
        return ShipmentStatus.choices

    def current(self) -> str:
        value = self.value()
        if value is None:
            return self.ALL if self.searching else ShipmentStatus.READY
        return str(value)

    def choices(self, changelist: Any) -> Any:
        current = self.current()
        yield {
            "selected": current == self.ALL,
            "query_string": changelist.get_query_string({self.parameter_name: self.ALL}),
            "display": _("All"),
        }
        for value, label in self.lookup_choices:
            yield {
                "selected": current == value,
                "query_string": changelist.get_query_string({self.parameter_name: value}),
                "display": label,
            }

    def queryset(self, request: HttpRequest, queryset: QuerySet[Any]) -> QuerySet[Any]:
        current = self.current()
        return queryset if current == self.ALL else queryset.filter(status=current)


class SourceFilter(admin.SimpleListFilter):
    """By what the shipment is for (the owner kinds registered in shipments.registry)."""

    title = gettext_lazy("source")
    parameter_name = "source"

    def lookups(self, request: HttpRequest, model_admin: Any) -> Any:
        return [(owner.kind, owner.label) for owner in registry.owners()]

    def queryset(self, request: HttpRequest, queryset: QuerySet[Any]) -> QuerySet[Any]:
        value = self.value()
        return queryset.filter(owner_kind=value) if value else queryset


class ImportForm(forms.Form):
    file = forms.FileField(
        label=gettext_lazy("CSV file"),
        help_text=gettext_lazy(
            "The exported sheet with carrier and tracking_number filled in (columns shipment_id, carrier, "
            "tracking_number; others are ignored). UTF-8 or GBK, at most 2 MB."
        ),
    )

    def clean_file(self) -> str:
        try:
            return csv_upload_read(file=self.cleaned_data["file"])
        except ValidationError as exc:
            raise forms.ValidationError(exc.messages) from exc


class ShipForm(forms.Form):
    carrier = forms.CharField(label=gettext_lazy("carrier"), max_length=40)
    tracking_number = forms.CharField(label=gettext_lazy("tracking number"), max_length=40)


def _source(request: HttpRequest) -> str | None:
    """The registered source the request filters by (?source=), if any."""
    kind = request.GET.get("source") or ""
    return kind if registry.owner(kind) is not None else None


@admin.register(Shipment)
class ShipmentAdmin(ReadOnlyAdmin):
    """The shipping queue. Analysts may look and export; only operators (change permission) import shipments
    and move statuses."""

    list_display = (
        "id",
        "item_name",
        "member",
        "status",
        "source",
        "recipient",
        "city",
        "claim_deadline",
        "carrier",
        "tracking_number",
        "created_at",
    )
    list_filter = (ShipmentStatusFilter, SourceFilter)
    search_fields = ("member__phone", "member__email", "recipient", "tracking_number")
    list_select_related = ("member",)
    change_list_template = "admin/shipments/shipment/change_list.html"
    change_form_template = "admin/shipments/shipment/change_form.html"
    actions = ("export_selected", "mark_delivered", "mark_returned")

    @admin.display(description=gettext_lazy("source"), ordering="owner_kind")
    def source(self, obj: Shipment) -> str:
        return f"{registry.label_of(obj.owner_kind)} #{obj.owner_id}"

    def has_export_permission(self, request: HttpRequest) -> bool:
        return self.has_view_permission(request)

    def has_ship_permission(self, request: HttpRequest) -> bool:
        return request.user.has_perm("shipments.change_shipment")

    def get_urls(self) -> list[Any]:
        view = self.admin_site.admin_view
        return [
            path("export/", view(self.export_view), name="shipments_shipment_export"),
            path("import/", view(self.import_view), name="shipments_shipment_import"),
            path("<path:object_id>/ship/", view(self.ship_view), name="shipments_shipment_ship"),
            *super().get_urls(),
        ]

    def changelist_view(self, request: HttpRequest, extra_context: dict[str, Any] | None = None) -> HttpResponse:
        source = _source(request)
        export_url = reverse("admin:shipments_shipment_export")
        extra = {
            **(extra_context or {}),
            "can_export": self.has_export_permission(request),
            "can_ship": self.has_ship_permission(request),
            "export_url": f"{export_url}?{urlencode({'source': source})}" if source else export_url,
        }
        return super().changelist_view(request, extra)

    def change_view(
        self, request: HttpRequest, object_id: str, form_url: str = "", extra_context: dict[str, Any] | None = None
    ) -> HttpResponse:
        shipment = self.get_object(request, unquote(object_id))
        ship_label = None
        # The one table decides whether it can ship; shipping a shipped one again corrects its tracking.
        if shipment is not None and self.has_ship_permission(request) and rules.can_move(shipment.status, "shipped"):
            ship_label = _("Correct tracking") if shipment.status == ShipmentStatus.SHIPPED else _("Ship")
        extra = {
            **(extra_context or {}),
            "ship_label": ship_label,
            "next_statuses": [ShipmentStatus(s).label for s in rules.next_statuses(shipment.status)]
            if shipment is not None
            else [],
        }
        return super().change_view(request, object_id, form_url, extra)

    # CSV out

    def _csv_response(self, shipments: Any) -> HttpResponse:
        response = HttpResponse(selectors.shipments_csv(shipments), content_type="text/csv; charset=utf-8")
        name = f"shipments-{timezone.localdate():%Y%m%d}.csv"
        response["Content-Disposition"] = f'attachment; filename="{name}"'
        return response

    def export_view(self, request: HttpRequest) -> HttpResponse:
        """What is ready to ship, of every source or (?source=<kind>) of one."""
        if not self.has_export_permission(request):
            raise PermissionDenied
        return self._csv_response(selectors.shipment_queue(owner_kind=_source(request)))

    @admin.action(description=gettext_lazy("Export selected as CSV"), permissions=["export"])
    def export_selected(self, request: HttpRequest, queryset: QuerySet[Shipment]) -> HttpResponse:
        return self._csv_response(queryset.order_by("created_at", "id"))

    # CSV in

    def import_view(self, request: HttpRequest) -> HttpResponse:
        if not self.has_ship_permission(request):
            raise PermissionDenied
        form = ImportForm(request.POST or None, request.FILES or None)
        problems: list[str] = []
        if request.method == "POST" and form.is_valid():
            result = services.shipments_ship_csv(text=form.cleaned_data["file"], now=timezone.now())
            if not result.errors:
                messages.success(
                    request,
                    ngettext(
                        "%(count)d shipment marked shipped.", "%(count)d shipments marked shipped.", result.shipped
                    )
                    % {"count": result.shipped},
                )
                return HttpResponseRedirect(reverse("admin:shipments_shipment_changelist") + "?status=shipped")
            problems = result.errors
        context = {
            **self.admin_site.each_context(request),
            "form": form,
            "problems": problems,
            "title": _("Import shipped (CSV)"),
            "opts": self.model._meta,
        }
        return render(request, "admin/shipments/shipment/import.html", context)

    # One shipment

    def ship_view(self, request: HttpRequest, object_id: str) -> HttpResponse:
        if not self.has_ship_permission(request):
            raise PermissionDenied
        shipment = self.get_object(request, unquote(object_id))
        if shipment is None:
            raise Http404
        initial = {"carrier": shipment.carrier, "tracking_number": shipment.tracking_number}
        form = ShipForm(request.POST or None, initial=initial)
        if request.method == "POST" and form.is_valid():
            try:
                services.shipment_transition(
                    shipment_id=shipment.pk,
                    to=ShipmentStatus.SHIPPED,
                    carrier=form.cleaned_data["carrier"],
                    tracking_number=form.cleaned_data["tracking_number"],
                    now=timezone.now(),
                )
            except (ValidationError, DomainError) as exc:
                errors_to_form(form, exc)
            else:
                messages.success(request, _("Shipment #%(id)s marked shipped.") % {"id": shipment.pk})
                return HttpResponseRedirect(reverse("admin:shipments_shipment_change", args=[shipment.pk]))
        context = {
            **self.admin_site.each_context(request),
            "form": form,
            "shipment": shipment,
            "title": _("Ship #%(id)s") % {"id": shipment.pk},
            "opts": self.model._meta,
            "original": shipment,
        }
        return render(request, "admin/shipments/shipment/ship.html", context)

    # Status actions

    def _transition(self, request: HttpRequest, queryset: QuerySet[Shipment], to: str, done: str) -> None:
        result = services.shipments_transition(
            shipment_ids=queryset.values_list("pk", flat=True), to=to, now=timezone.now()
        )
        level = messages.SUCCESS if result.changed else messages.INFO
        self.message_user(request, done % {"count": result.changed}, level)
        if result.wrong_state:
            wrong = ", ".join(f"#{s.pk} ({s.get_status_display()})" for s in result.wrong_state)
            self.message_user(
                request, _("Not changed, in the wrong state: %(shipments)s") % {"shipments": wrong}, messages.WARNING
            )

    @admin.action(description=gettext_lazy("Mark delivered"), permissions=["ship"])
    def mark_delivered(self, request: HttpRequest, queryset: QuerySet[Shipment]) -> None:
        self._transition(request, queryset, ShipmentStatus.DELIVERED, _("%(count)d shipment(s) marked delivered."))

    @admin.action(description=gettext_lazy("Mark returned"), permissions=["ship"])
    def mark_returned(self, request: HttpRequest, queryset: QuerySet[Shipment]) -> None:
        self._transition(request, queryset, ShipmentStatus.RETURNED, _("%(count)d shipment(s) marked returned."))
