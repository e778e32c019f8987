"""Operators' side of the mall. Suppliers and the category tree (mall.catalogue); products through
mall.catalogue.product_save (validated for their delivery, pictures checked and thumbnailed), whose stock, once
created, moves only by "Top up / correct stock" (mall.catalogue.stock_adjust, one conditional UPDATE and a
StockMove row); code pools through mall.codes (paste codes, import a CSV file with a row report, generate codes;
free/total and a "low" flag in the list); orders read-only, with "Cancel and refund" (a reason; mall.orders.
order_cancel); stock changes, codes and code reveals read-only. Suppliers, categories, products and pools are
audited by django-auditlog (mall/models.py). Supplier statements: mall/admin_settlement.py."""

from __future__ import annotations

import copy
from typing import Any

from django import forms
from django.contrib import admin, messages
from django.contrib.admin import helpers
from django.contrib.admin.utils import unquote
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files.uploadedfile import UploadedFile
from django.core.validators import RegexValidator
from django.db.models import Count, F, Q, QuerySet, Value
from django.db.models.functions import Coalesce
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.urls import path, reverse
from django.utils.html import format_html
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext

from config.admin import ReadOnlyAdmin, ServiceAdmin, save_or_refuse
from config.csvfiles import csv_upload_read
from config.errors import DomainError
from config.forms import error_text, errors_to_form
from mall import catalogue, codes, orders
from mall.models import Category, Code, CodePool, CodeReveal, Order, Product, StockMove, Supplier

SHOWN_REJECTED = 20
SHOWN_REPORT_ROWS = 1000  # a bigger file's report shows only its problem rows (this many at most)


def _actor_id(request: HttpRequest) -> int:
    pk = request.user.pk
    assert pk is not None  # the admin serves signed-in staff only
    return int(pk)


def _page(admin_: admin.ModelAdmin, request: HttpRequest, template: str, **context: Any) -> HttpResponse:
    return render(request, template, {**admin_.admin_site.each_context(request), "opts": admin_.model._meta, **context})


# --- Suppliers and categories ---------------------------------------------------------------------------------


@admin.register(Supplier)
class SupplierAdmin(ServiceAdmin):
    list_display = ("name", "name_en", "contact_name", "contact_phone", "contact_email", "created_at")
    search_fields = ("name", "name_en", "contact_name", "contact_phone", "contact_email")
    fields = ("name", "name_en", "contact_name", "contact_phone", "contact_email", "settlement_terms")

    def save_model(self, request: HttpRequest, obj: Supplier, form: Any, change: bool) -> None:
        save_or_refuse(lambda: catalogue.supplier_save(supplier=obj))


class CategoryForm(forms.ModelForm):
    class Meta:
        model = Category
        fields = ("parent", "name", "name_en", "slug", "icon", "position", "is_active")

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if "parent" in data and self.instance.pk is not None:
            candidate = copy.copy(self.instance)
            candidate.parent = data["parent"]
            try:
                catalogue.category_check(category=candidate)
            except ValidationError as exc:
                errors_to_form(self, exc)
        return data


@admin.register(Category)
class CategoryAdmin(ServiceAdmin):
    """The tree in order: each top category (by position), then its subcategories (by position)."""

    form = CategoryForm
    list_display = ("tree_name", "name_en", "slug", "parent", "icon", "position", "is_active")
    list_filter = ("is_active", ("parent", admin.RelatedOnlyFieldListFilter))
    search_fields = ("name", "name_en", "slug")
    list_select_related = ("parent",)
    prepopulated_fields = {"slug": ("name_en",)}

    def get_queryset(self, request: HttpRequest) -> QuerySet[Category]:
        return (
            super()
            .get_queryset(request)
            .annotate(
                root_position=Coalesce(F("parent__position"), F("position")),
                root_id=Coalesce(F("parent_id"), F("id")),
                is_child=Coalesce(F("parent_id"), Value(0)),
            )
            .order_by("root_position", "root_id", "is_child", "position", "id")
        )

    @admin.display(description=gettext_lazy("name"))
    def tree_name(self, obj: Category) -> str:
        return f"{obj.parent.name} › {obj.name}" if obj.parent_id and obj.parent else obj.name

    def save_model(self, request: HttpRequest, obj: Category, form: Any, change: bool) -> None:
        save_or_refuse(lambda: catalogue.category_save(category=obj))


# --- Products and stock ---------------------------------------------------------------------------------------


PRODUCT_FORM_FIELDS = tuple(
    f.name for f in Product._meta.concrete_fields if f.editable and f.name not in ("id", "thumbnail")
)


class ProductForm(forms.ModelForm):
    """A product. clean() runs mall.catalogue's checks (product_check for the delivery type, and a new picture's
    format, size and pixels), so the form shows what product_save would refuse."""

    class Meta:
        model = Product
        fields = PRODUCT_FORM_FIELDS

    def clean_image(self) -> Any:
        image = self.cleaned_data.get("image")
        if isinstance(image, UploadedFile):
            image.seek(0)
            data = image.read(catalogue.MAX_IMAGE_BYTES + 1)
            image.seek(0)
            try:
                catalogue.product_image_thumbnail(data=data)
            except ValidationError as exc:
                raise forms.ValidationError(exc.message_dict["image"]) from exc
        return image

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        candidate = copy.copy(self.instance)
        for name, value in data.items():
            if name != "image" and hasattr(candidate, name):
                setattr(candidate, name, value)
        try:
            catalogue.product_check(product=candidate)
        except ValidationError as exc:
            errors_to_form(self, exc)
        return data


class StockForm(forms.Form):
    delta = forms.IntegerField(
        label=gettext_lazy("change"),
        min_value=-catalogue.MAX_STOCK_DELTA,
        max_value=catalogue.MAX_STOCK_DELTA,
        help_text=gettext_lazy("Units to add (a delivery) or, negative, to take away (a count, a correction)."),
    )
    reason = forms.CharField(label=gettext_lazy("reason"), max_length=catalogue.MAX_REASON)

    def clean_delta(self) -> int:
        delta = int(self.cleaned_data["delta"])
        if delta == 0:
            raise forms.ValidationError(_("Enter a change other than 0."))
        return delta


@admin.register(Product)
class ProductAdmin(ServiceAdmin):
    form = ProductForm
    list_display = (
        "name",
        "campaign",
        "category",
        "supplier",
        "points_price",
        "stock",
        "delivery",
        "is_active",
        "position",
    )
    list_filter = ("is_active", "delivery", "campaign", "category", "supplier")
    search_fields = ("name", "name_en")
    list_select_related = ("campaign", "category", "supplier")
    actions = ("stock_adjust_selected",)

    def get_fieldsets(self, request: HttpRequest, obj: Product | None = None) -> Any:
        stock = ("stock",) if obj is None else ("stock", "stock_adjust_link")
        return (
            (None, {"fields": ("campaign", "category", "supplier", ("name", "name_en"), ("is_active", "position"))}),
            (
                gettext_lazy("Description and picture"),
                {"fields": ("description", "description_en", "image", "thumbnail_preview")},
            ),
            (
                gettext_lazy("Price, stock and limits"),
                {"fields": ("points_price", *stock, "unit_cost_cny", ("limit_per_member", "limit_per_day"))},
            ),
            (gettext_lazy("On sale"), {"fields": ("sale_phases", ("sale_starts_at", "sale_ends_at"))}),
            (
                gettext_lazy("Delivery"),
                {
                    "fields": (
                        "delivery",
                        "code_pool",
                        ("instructions", "instructions_en"),
                        "physical_methods",
                        ("pickup_location", "pickup_location_en"),
                        "virtual_kind",
                        ("virtual_points", "multiplier_percent", "multiplier_hours"),
                    )
                },
            ),
        )

    def get_readonly_fields(self, request: HttpRequest, obj: Product | None = None) -> tuple[str, ...]:
        if obj is None:
            return ("thumbnail_preview",)
        return ("thumbnail_preview", "stock", "stock_adjust_link")

    @admin.display(description=gettext_lazy("thumbnail"))
    def thumbnail_preview(self, obj: Product) -> str:
        if not obj.thumbnail:
            return "-"
        return format_html('<img src="{}" alt="" width="200">', obj.thumbnail.url)

    @admin.display(description=gettext_lazy("stock changes"))
    def stock_adjust_link(self, obj: Product) -> str:
        url = reverse("admin:mall_product_stock", args=[obj.pk])
        history = reverse("admin:mall_stockmove_changelist") + f"?product__id__exact={obj.pk}"
        return format_html(
            '<a href="{}">{}</a> · <a href="{}">{}</a>', url, _("Top up / correct stock"), history, _("History")
        )

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False  # orders point at products: unlist one instead

    def save_model(self, request: HttpRequest, obj: Product, form: Any, change: bool) -> None:
        save_or_refuse(lambda: catalogue.product_save(product=obj))

    def get_urls(self) -> list[Any]:
        view = self.admin_site.admin_view
        return [path("<path:object_id>/stock/", view(self.stock_view), name="mall_product_stock"), *super().get_urls()]

    def _stock_apply(self, request: HttpRequest, products: list[Product], form: StockForm) -> int:
        done = 0
        for product in products:
            try:
                move = catalogue.stock_adjust(
                    product_id=product.pk,
                    delta=form.cleaned_data["delta"],
                    reason=form.cleaned_data["reason"],
                    actor_id=_actor_id(request),
                )
            except (ValidationError, DomainError) as exc:
                self.message_user(request, f"{product.name}: {error_text(exc)}", messages.ERROR)
                continue
            done += 1
            self.message_user(
                request,
                _("%(product)s: stock %(delta)+d, now %(stock)d.")
                % {"product": product.name, "delta": move.delta, "stock": move.stock_after},
                messages.SUCCESS,
            )
        return done

    def stock_view(self, request: HttpRequest, object_id: str) -> HttpResponse:
        if not self.has_change_permission(request):
            raise PermissionDenied
        product = self.get_object(request, unquote(object_id))
        if product is None:
            raise Http404
        form = StockForm(request.POST or None)
        if request.method == "POST" and form.is_valid():
            try:
                move = catalogue.stock_adjust(
                    product_id=product.pk,
                    delta=form.cleaned_data["delta"],
                    reason=form.cleaned_data["reason"],
                    actor_id=_actor_id(request),
                )
            except (ValidationError, DomainError) as exc:
                errors_to_form(form, exc, fallback_field="delta")
            else:
                self.message_user(
                    request,
                    _("Stock %(delta)+d, now %(stock)d.") % {"delta": move.delta, "stock": move.stock_after},
                    messages.SUCCESS,
                )
                return HttpResponseRedirect(reverse("admin:mall_product_change", args=[product.pk]))
        return _page(
            self,
            request,
            "admin/mall/product/stock.html",
            form=form,
            products=[product],
            original=product,
            title=_("Top up / correct stock: %(product)s") % {"product": product.name},
        )

    @admin.action(description=gettext_lazy("Top up / correct stock (asks how many and why)"), permissions=["change"])
    def stock_adjust_selected(self, request: HttpRequest, queryset: QuerySet[Product]) -> HttpResponse | None:
        form = StockForm(request.POST if "reason" in request.POST else None)
        products = list(queryset.order_by("pk"))
        if form.is_valid():
            self._stock_apply(request, products, form)
            return None
        return _page(
            self,
            request,
            "admin/mall/product/stock.html",
            form=form,
            products=products,
            action_checkbox_name=helpers.ACTION_CHECKBOX_NAME,
            action="stock_adjust_selected",
            title=_("Top up / correct stock"),
        )


@admin.register(StockMove)
class StockMoveAdmin(ReadOnlyAdmin):
    list_display = ("created_at", "product", "delta", "stock_after", "reason", "actor")
    list_filter = ("product__campaign", "product")
    search_fields = ("product__name", "product__name_en", "reason", "actor__phone", "actor__email")
    list_select_related = ("product", "actor")
    date_hierarchy = "created_at"


# --- Code pools -----------------------------------------------------------------------------------------------


class CodePoolForm(forms.ModelForm):
    codes_to_add = forms.CharField(
        label=gettext_lazy("codes to add (one per line)"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 8, "cols": 40}),
        help_text=gettext_lazy(
            "4-64 letters, digits, “-” or “_” per line. Codes already in the pool are skipped; if any line is "
            "not a valid code, nothing is added. For a supplier's file use “Import a CSV file” on the saved pool."
        ),
    )

    class Meta:
        model = CodePool
        fields = ("name", "supplier", "low_threshold")

    def clean_codes_to_add(self) -> str:
        text = str(self.cleaned_data.get("codes_to_add") or "")
        rejected = codes.code_lines_rejected(text=text)
        if rejected:
            shown = ", ".join(rejected[:SHOWN_REJECTED])
            if len(rejected) > SHOWN_REJECTED:
                shown += " " + _("(and %(n)d more)") % {"n": len(rejected) - SHOWN_REJECTED}
            raise forms.ValidationError(
                ngettext(
                    "%(count)d line is not a valid code, nothing was added: %(lines)s",
                    "%(count)d lines are not valid codes, nothing was added: %(lines)s",
                    len(rejected),
                )
                % {"count": len(rejected), "lines": shown}
            )
        return text


class CodeFileForm(forms.Form):
    file = forms.FileField(
        label=gettext_lazy("CSV file"),
        help_text=gettext_lazy(
            "A column headed “code”, or one code per line. UTF-8 (with or without BOM) or GBK, at most 2 MB. "
            "Codes are 4-64 letters, digits, “-” or “_”; good rows are added once, the others are listed."
        ),
    )

    def clean_file(self) -> str:
        try:
            text = csv_upload_read(file=self.cleaned_data["file"])
            codes.code_file_rows(text=text)
        except ValidationError as exc:
            raise forms.ValidationError(exc.messages) from exc
        return text


class GenerateForm(forms.Form):
    count = forms.IntegerField(label=gettext_lazy("how many"), min_value=1, max_value=codes.GENERATE_MAX, initial=100)
    code_prefix = forms.CharField(
        label=gettext_lazy("prefix"),
        required=False,
        max_length=20,
        validators=[RegexValidator(codes.PREFIX_PATTERN, gettext_lazy("Letters, digits, “-” or “_” only."))],
        help_text=gettext_lazy("Optional, e.g. “JD50-”. Each code is the prefix and 17 random characters."),
    )


class LowFilter(admin.SimpleListFilter):
    title = gettext_lazy("free codes")
    parameter_name = "low"

    def lookups(self, request: HttpRequest, model_admin: Any) -> Any:
        return (("yes", _("below the alert threshold")), ("no", _("enough")))

    def queryset(self, request: HttpRequest, queryset: QuerySet[Any]) -> QuerySet[Any]:
        if self.value() == "yes":
            return queryset.filter(n_free__lt=F("low_threshold"))
        if self.value() == "no":
            return queryset.filter(n_free__gte=F("low_threshold"))
        return queryset


@admin.register(CodePool)
class CodePoolAdmin(ServiceAdmin):
    form = CodePoolForm
    change_form_template = "admin/mall/codepool/change_form.html"
    list_display = ("name", "supplier", "free_of_total", "is_low", "low_threshold", "low_alerted_at", "created_at")
    list_filter = (LowFilter, "supplier")
    search_fields = ("name", "supplier__name", "supplier__name_en")
    list_select_related = ("supplier",)
    fields = ("name", "supplier", "low_threshold", "codes_total", "codes_free", "low_alerted_at", "codes_to_add")
    readonly_fields = ("codes_total", "codes_free", "low_alerted_at")

    def get_queryset(self, request: HttpRequest) -> QuerySet[CodePool]:
        return (
            super()
            .get_queryset(request)
            .annotate(n_codes=Count("codes"), n_free=Count("codes", filter=Q(codes__assigned_to__isnull=True)))
        )

    @admin.display(description=gettext_lazy("codes (total)"))
    def codes_total(self, obj: CodePool) -> int:
        return int(getattr(obj, "n_codes", 0)) if obj.pk else 0

    @admin.display(description=gettext_lazy("codes (free)"))
    def codes_free(self, obj: CodePool) -> int:
        return int(getattr(obj, "n_free", 0)) if obj.pk else 0

    @admin.display(description=gettext_lazy("free / total"), ordering="n_free")
    def free_of_total(self, obj: CodePool) -> str:
        return f"{self.codes_free(obj)} / {self.codes_total(obj)}"

    @admin.display(description=gettext_lazy("low"), boolean=True)
    def is_low(self, obj: CodePool) -> bool:
        return self.codes_free(obj) < obj.low_threshold

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False  # prizes, products and handed-out codes point at pools

    def save_model(self, request: HttpRequest, obj: CodePool, form: Any, change: bool) -> None:
        save_or_refuse(lambda: codes.code_pool_save(pool=obj))
        text = form.cleaned_data.get("codes_to_add") or ""
        if not text.strip():
            return
        added, rejected = codes.code_pool_import(pool=obj, text=text)
        if rejected:  # the form checked the same lines; nothing was added
            messages.error(request, _("Nothing was added: %(lines)s") % {"lines": ", ".join(rejected[:SHOWN_REJECTED])})
            return
        messages.success(request, ngettext("%(count)d code added.", "%(count)d codes added.", added) % {"count": added})

    def get_urls(self) -> list[Any]:
        view = self.admin_site.admin_view
        return [
            path("<path:object_id>/import/", view(self.import_view), name="mall_codepool_import"),
            path("<path:object_id>/generate/", view(self.generate_view), name="mall_codepool_generate"),
            *super().get_urls(),
        ]

    def _pool(self, request: HttpRequest, object_id: str) -> CodePool:
        if not self.has_change_permission(request):
            raise PermissionDenied
        pool = self.get_object(request, unquote(object_id))
        if pool is None:
            raise Http404
        return pool

    def import_view(self, request: HttpRequest, object_id: str) -> HttpResponse:
        pool = self._pool(request, object_id)
        form = CodeFileForm(request.POST or None, request.FILES or None)
        report = None
        if request.method == "POST" and form.is_valid():
            try:
                report = codes.code_pool_import_file(pool_id=pool.pk, text=form.cleaned_data["file"])
            except ValidationError as exc:
                errors_to_form(form, exc, fallback_field="file")
            else:
                messages.success(
                    request,
                    ngettext("%(count)d code added.", "%(count)d codes added.", report.added) % {"count": report.added},
                )
        shown, only_problems = [], False
        if report is not None:
            only_problems = len(report.rows) > SHOWN_REPORT_ROWS
            shown = (report.problems if only_problems else report.rows)[:SHOWN_REPORT_ROWS]
        return _page(
            self,
            request,
            "admin/mall/codepool/import.html",
            form=form,
            original=pool,
            report=report,
            shown=shown,
            only_problems=only_problems,
            counts=[(codes.RowOutcome(k).label, n) for k, n in report.counts.items()] if report else [],
            title=_("Import codes into “%(pool)s”") % {"pool": pool.name},
        )

    def generate_view(self, request: HttpRequest, object_id: str) -> HttpResponse:
        pool = self._pool(request, object_id)
        form = GenerateForm(request.POST or None)
        if request.method == "POST" and form.is_valid():
            try:
                added = codes.code_pool_generate(
                    pool_id=pool.pk, count=form.cleaned_data["count"], prefix=form.cleaned_data["code_prefix"] or ""
                )
            except ValidationError as exc:
                errors_to_form(form, exc)
            else:
                messages.success(
                    request,
                    ngettext("%(count)d code generated.", "%(count)d codes generated.", added) % {"count": added},
                )
                return HttpResponseRedirect(reverse("admin:mall_codepool_change", args=[pool.pk]))
        return _page(
            self,
            request,
            "admin/mall/codepool/generate.html",
            form=form,
            original=pool,
            title=_("Generate codes for “%(pool)s”") % {"pool": pool.name},
        )


@admin.register(Code)
class CodeAdmin(ReadOnlyAdmin):
    list_display = ("code", "pool", "assigned_to", "assigned_at")
    list_filter = ("pool", ("assigned_at", admin.EmptyFieldListFilter))
    search_fields = ("code", "assigned_to__phone", "assigned_to__email")
    list_select_related = ("pool", "assigned_to")
    fields = ("code", "pool", "assigned_to", "assigned_at")


# --- Orders and code reveals ----------------------------------------------------------------------------------


class CancelForm(forms.Form):
    reason = forms.CharField(
        label=gettext_lazy("reason"),
        max_length=200,
        help_text=gettext_lazy("Kept on the order (audited). The member gets the points back."),
    )


def _masked(value: str | None) -> str:
    if not value:
        return "-"
    return value[:2] + "•" * max(len(value) - 4, 2) + value[-2:] if len(value) > 4 else "••••"


@admin.register(Order)
class OrderAdmin(ReadOnlyAdmin):
    """Orders are written by mall.orders only. Codes and pickup codes are shown masked (search finds an order by
    its pickup code); operators cancel and refund with a reason."""

    list_display = ("id", "created_at", "user", "name", "status", "delivery", "method", "points", "campaign")
    list_filter = ("status", "delivery", "method", "campaign", "supplier")
    search_fields = ("=user__phone", "user__email", "id__exact", "=pickup_code")
    list_select_related = ("user", "campaign")
    date_hierarchy = "created_at"
    show_full_result_count = False
    actions = ("cancel_and_refund",)
    fields = (
        ("id", "status", "created_at"),
        ("user", "campaign", "supplier"),
        ("product", "name", "name_en"),
        ("points", "unit_cost_cny"),
        ("delivery", "method"),
        ("code_masked", "code_revealed_at", "voucher_masked"),
        ("shipment_id", "pickup_masked", "picked_up_at", "picked_up_by"),
        ("fulfilled_at", "local_date"),
        ("cancelled_at", "cancelled_by", "cancel_reason"),
        ("spend_transfer_id", "hold_id", "refund_transfer_id"),
    )

    @admin.display(description=gettext_lazy("code"))
    def code_masked(self, obj: Order) -> str:
        return _masked(obj.code.code if obj.code_id and obj.code else None)

    @admin.display(description=gettext_lazy("voucher code"))
    def voucher_masked(self, obj: Order) -> str:
        return _masked(obj.voucher_code)

    @admin.display(description=gettext_lazy("pickup code"))
    def pickup_masked(self, obj: Order) -> str:
        return _masked(obj.pickup_code)

    def has_cancel_permission(self, request: HttpRequest) -> bool:
        return request.user.has_perm("mall.change_order")

    @admin.action(description=gettext_lazy("Cancel and refund (asks for a reason)"), permissions=["cancel"])
    def cancel_and_refund(self, request: HttpRequest, queryset: QuerySet[Order]) -> HttpResponse | None:
        form = CancelForm(request.POST if "reason" in request.POST else None)
        selected = list(queryset.order_by("pk"))
        if form.is_valid():
            done = 0
            for order in selected:
                try:
                    orders.order_cancel(
                        order_id=order.pk, actor_id=_actor_id(request), reason=form.cleaned_data["reason"]
                    )
                except (ValidationError, DomainError) as exc:
                    self.message_user(request, f"#{order.pk}: {error_text(exc)}", messages.ERROR)
                    continue
                if order.status == "refunded":
                    self.message_user(request, _("#%(id)s was already refunded.") % {"id": order.pk}, messages.INFO)
                else:
                    done += 1
            if done:
                self.message_user(
                    request,
                    ngettext("%(n)d order cancelled and refunded.", "%(n)d orders cancelled and refunded.", done)
                    % {"n": done},
                    messages.SUCCESS,
                )
            return None
        return _page(
            self,
            request,
            "admin/mall/order/cancel.html",
            form=form,
            orders=selected,
            action_checkbox_name=helpers.ACTION_CHECKBOX_NAME,
            title=_("Cancel and refund orders"),
        )


@admin.register(CodeReveal)
class CodeRevealAdmin(ReadOnlyAdmin):
    list_display = ("revealed_at", "order", "user", "ip")
    search_fields = ("=user__phone", "user__email", "order__id__exact")
    list_select_related = ("order", "user")
    date_hierarchy = "revealed_at"


import mall.admin_settlement  # noqa: E402, F401 — registers SupplierStatementAdmin (supplier settlement)
