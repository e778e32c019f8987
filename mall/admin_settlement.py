"""Supplier statements in the admin (imported by mall/admin.py): the list, "Generate statements" for a period,
"Mark settled" (finance: mall.settle_supplierstatement), a printable page (mall.view_supplierstatement) and the
CSV (mall.export_supplierstatement). Statements are written only by mall.settlement: read-only otherwise."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Any

from django import forms
from django.contrib import admin, messages
from django.contrib.admin.utils import unquote
from django.contrib.admin.widgets import AdminDateWidget
from django.core.exceptions import PermissionDenied
from django.db.models import QuerySet
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.urls import path, reverse
from django.utils import timezone
from django.utils.html import format_html, format_html_join
from django.utils.safestring import SafeString
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext

from config.admin import ReadOnlyAdmin
from config.errors import DomainError
from config.forms import errors_to_form
from mall import settlement
from mall.models import Supplier, SupplierStatement

LINE_COLUMNS = ("source", "item", "item_en", "unit_cost", "delivered", "returned", "units", "amount")
SOURCE_LABELS = {settlement.MALL: gettext_lazy("Points mall"), settlement.WHEEL: gettext_lazy("Prize wheel")}


class GenerateForm(forms.Form):
    period_start = forms.DateField(label=gettext_lazy("from"), widget=AdminDateWidget)
    period_end = forms.DateField(
        label=gettext_lazy("to (inclusive)"),
        widget=AdminDateWidget,
        help_text=gettext_lazy("Dates in Beijing time (Asia/Shanghai)."),
    )
    supplier = forms.ModelChoiceField(
        label=gettext_lazy("supplier"),
        queryset=Supplier.objects.all(),
        required=False,
        empty_label=gettext_lazy("every supplier with activity"),
    )


class SettledFilter(admin.SimpleListFilter):
    title = gettext_lazy("settled")
    parameter_name = "settled"

    def lookups(self, request: HttpRequest, model_admin: Any) -> Any:
        return [("no", _("Not settled")), ("yes", _("Settled"))]

    def queryset(self, request: HttpRequest, queryset: QuerySet[Any]) -> QuerySet[Any]:
        if self.value() == "no":
            return queryset.filter(settled_at__isnull=True)
        if self.value() == "yes":
            return queryset.filter(settled_at__isnull=False)
        return queryset


def statement_rows(statement: SupplierStatement) -> list[dict[str, Any]]:
    """The statement's lines for a page: source label, names, numbers as Decimals and ints."""
    return [
        {
            "source": SOURCE_LABELS.get(line["source"], line["source"]),
            "item": line["item"],
            "item_en": line["item_en"] if line["item_en"] != line["item"] else "",
            "unit_cost": Decimal(line["unit_cost_cny"]),
            "delivered": int(line["delivered"]),
            "returned": int(line["returned"]),
            "units": int(line["units"]),
            "amount": Decimal(line["amount_cny"]),
        }
        for line in statement.lines
    ]


@admin.register(SupplierStatement)
class SupplierStatementAdmin(ReadOnlyAdmin):
    """Statements per supplier and period. Anyone with the view permission sees them and the printable page;
    export needs mall.export_supplierstatement; generating and settling need mall.settle_supplierstatement."""

    list_display = (
        "supplier",
        "period_start",
        "period_end",
        "units",
        "amount_cny",
        "generated_at",
        "settled_at",
        "settled_by",
    )
    list_filter = (SettledFilter, "supplier")
    list_select_related = ("supplier", "settled_by")
    search_fields = ("supplier__name", "supplier__name_en")
    fields = (
        "supplier",
        "period_start",
        "period_end",
        "units",
        "amount_cny",
        "lines_table",
        "generated_at",
        "settled_at",
        "settled_by",
    )
    readonly_fields = fields
    actions = ("mark_settled",)
    change_list_template = "admin/mall/supplierstatement/change_list.html"
    change_form_template = "admin/mall/supplierstatement/change_form.html"

    def has_settle_permission(self, request: HttpRequest) -> bool:
        return request.user.has_perm("mall.settle_supplierstatement")

    def has_export_permission(self, request: HttpRequest) -> bool:
        return request.user.has_perm("mall.export_supplierstatement")

    @admin.display(description=gettext_lazy("lines"))
    def lines_table(self, obj: SupplierStatement) -> SafeString:
        head = format_html_join(
            "",
            "<th>{}</th>",
            (
                (label,)
                for label in (
                    _("Source"),
                    _("Item"),
                    _("Unit cost (CNY)"),
                    _("Delivered"),
                    _("Returned"),
                    _("Net units"),
                    _("Amount (CNY)"),
                )
            ),
        )
        body = format_html_join(
            "",
            "<tr><td>{}</td><td>{} {}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
            ([r[key] for key in LINE_COLUMNS] for r in statement_rows(obj)),
        )
        return format_html("<table><thead><tr>{}</tr></thead><tbody>{}</tbody></table>", head, body)

    def get_urls(self) -> list[Any]:
        view = self.admin_site.admin_view
        return [
            path("generate/", view(self.generate_view), name="mall_supplierstatement_generate"),
            path("<path:object_id>/print/", view(self.print_view), name="mall_supplierstatement_print"),
            path("<path:object_id>/csv/", view(self.csv_view), name="mall_supplierstatement_csv"),
            *super().get_urls(),
        ]

    def changelist_view(self, request: HttpRequest, extra_context: dict[str, Any] | None = None) -> HttpResponse:
        extra = {**(extra_context or {}), "can_generate": self.has_settle_permission(request)}
        return super().changelist_view(request, extra)

    def change_view(
        self, request: HttpRequest, object_id: str, form_url: str = "", extra_context: dict[str, Any] | None = None
    ) -> HttpResponse:
        extra = {**(extra_context or {}), "can_export": self.has_export_permission(request)}
        return super().change_view(request, object_id, form_url, extra)

    def _statement(self, request: HttpRequest, object_id: str) -> SupplierStatement:
        statement = self.get_object(request, unquote(object_id))
        if statement is None:
            raise Http404
        return statement

    # Generating

    def generate_view(self, request: HttpRequest) -> HttpResponse:
        if not self.has_settle_permission(request):
            raise PermissionDenied
        start, end = settlement.month_before(now=timezone.now())
        form = GenerateForm(request.POST or None, initial={"period_start": start, "period_end": end})
        if request.method == "POST" and form.is_valid():
            data = form.cleaned_data
            try:
                done = self._generate(request, data["period_start"], data["period_end"], data["supplier"])
            except DomainError as exc:
                errors_to_form(form, exc)
            else:
                messages.success(
                    request,
                    ngettext("%(count)d statement generated.", "%(count)d statements generated.", done)
                    % {"count": done},
                )
                return HttpResponseRedirect(reverse("admin:mall_supplierstatement_changelist"))
        context = {
            **self.admin_site.each_context(request),
            "form": form,
            "title": _("Generate supplier statements"),
            "opts": self.model._meta,
        }
        return render(request, "admin/mall/supplierstatement/generate.html", context)

    def _generate(self, request: HttpRequest, start: date, end: date, supplier: Supplier | None) -> int:
        now = timezone.now()
        if supplier is not None:
            settlement.statement_generate(supplier_id=supplier.pk, period_start=start, period_end=end, now=now)
            return 1
        result = settlement.statements_generate(period_start=start, period_end=end, now=now)
        for conflict in result.conflicts:
            messages.warning(
                request,
                _("Statement #%(id)s is settled but its figures have changed since (now %(amount)s CNY); kept.")
                % {"id": conflict.details["statement_id"], "amount": conflict.details["amount_cny"]},
            )
        return len(result.statements)

    # Settling

    @admin.action(description=gettext_lazy("Mark settled"), permissions=["settle"])
    def mark_settled(self, request: HttpRequest, queryset: QuerySet[SupplierStatement]) -> None:
        now, settled = timezone.now(), 0
        assert request.user.pk is not None  # the admin's views are for signed-in staff
        for statement in queryset.select_related("supplier"):
            try:
                settlement.statement_settle(statement_id=statement.pk, actor_id=request.user.pk, now=now)
            except DomainError as exc:
                messages.warning(request, f"{statement}: {exc.message}")
            else:
                settled += 1
        if settled:
            messages.success(
                request,
                ngettext("%(count)d statement marked settled.", "%(count)d statements marked settled.", settled)
                % {"count": settled},
            )

    # The printable page and the CSV

    def print_view(self, request: HttpRequest, object_id: str) -> HttpResponse:
        if not self.has_view_permission(request):
            raise PermissionDenied
        statement = self._statement(request, object_id)
        context = {
            **self.admin_site.each_context(request),
            "statement": statement,
            "supplier": statement.supplier,
            "rows": statement_rows(statement),
            "can_export": self.has_export_permission(request),
            "title": _("Supplier statement"),
            "opts": self.model._meta,
            "original": statement,
            "zone": settlement.SETTLEMENT_ZONE.key,
        }
        return render(request, "admin/mall/supplierstatement/print.html", context)

    def csv_view(self, request: HttpRequest, object_id: str) -> HttpResponse:
        if not self.has_export_permission(request):
            raise PermissionDenied
        statement = self._statement(request, object_id)
        response = HttpResponse(settlement.statement_csv(statement=statement), content_type="text/csv; charset=utf-8")
        name = f"statement-{statement.supplier_id}-{statement.period_start:%Y%m%d}-{statement.period_end:%Y%m%d}.csv"
        response["Content-Disposition"] = f'attachment; filename="{name}"'
        return response
