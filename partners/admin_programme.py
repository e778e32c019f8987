"""The partner programme in the admin (imported by partners/admin.py). Every write goes through a service:

- the programme's settings (one row; services.programme_save), rebate schedules with their bands (validated by
  partners.rebates.bands_validate; services.rebate_schedule_save), tiers and annual bonuses (services.*_save);
- partners: created by services.partner_create, edited by services.partner_update; their payable balance in the
  list (one query per page: points.selectors.partner_payables); "Change tier" with a reason (partners.tiers.
  partner_tier_set, audited as a TierChange) and "Add a login" (services.partner_login_add) on their own pages;
- applications: "Approve" (asks the partner code, tier and joining date: services.partner_application_approve) and
  "Reject", for whoever may add partners (partners.add_partner: operators);
- sales read-only, with "Import sales CSV" (partners.import_sale: partners.imports.sales_csv_import, whole file or
  nothing, with its row report) and a template file; imports (batches) read-only;
- statements read-only (bands as a table, amounts in yuan), "Mark paid" (partners.pay_statement: finance;
  partners.statements.statement_pay) and "Issue due statements now" (partners.change_statement:
  statements_issue_due);
- annual bonuses owed, with "Mark fulfilled" and a note (partners.fulfil_bonusobligation); recruiting rewards and
  tier changes read-only."""

from __future__ import annotations

import csv
import io
from datetime import datetime
from decimal import Decimal
from typing import Any

from django import forms
from django.contrib import admin, messages
from django.contrib.admin import helpers
from django.contrib.admin.utils import unquote
from django.contrib.admin.widgets import AdminDateWidget
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import QuerySet
from django.forms.models import BaseInlineFormSet
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.urls import path, reverse
from django.utils import timezone
from django.utils.html import format_html, format_html_join
from django.utils.safestring import SafeString
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext

from accounts.selectors import user_by_identifier
from config.admin import ReadOnlyAdmin, ServiceAdmin, save_or_refuse
from config.csvfiles import csv_upload_read
from config.errors import DomainError
from config.forms import error_text, errors_to_form
from partners import imports, services, statements, tiers
from partners.errors import ScheduleInvalid
from partners.models import (
    BonusObligation,
    BonusRule,
    Partner,
    PartnerApplication,
    PartnerTier,
    PartnerUser,
    Programme,
    RebateBand,
    RebateSchedule,
    ReferralReward,
    Sale,
    SaleBatch,
    Statement,
    TierChange,
)
from partners.periods import programme, tz
from partners.rebates import Band, bands_validate, yuan
from points.selectors import partner_payable, partner_payables

SHOWN_PROBLEMS = 500


def _actor_id(request: HttpRequest) -> int:
    pk = request.user.pk
    assert pk is not None  # the admin serves signed-in staff only
    return int(pk)


def _page(admin_: admin.ModelAdmin, request: HttpRequest, template: str, **context: Any) -> HttpResponse:
    return render(request, template, {**admin_.admin_site.each_context(request), "opts": admin_.model._meta, **context})


def _formsets_saved_elsewhere(formsets: Any) -> None:
    """A service saved what the inline formsets hold: nothing for the admin's change message to list."""
    for formset in formsets:
        formset.new_objects, formset.changed_objects, formset.deleted_objects = [], [], []


def _cny(amount_fen: int | None) -> str:
    """Fen as yuan for a page: "1,234.50"."""
    return f"{yuan(amount_fen or 0):,.2f}"


# --- The programme, schedules, tiers, bonuses ---------------------------------------------------------------------


@admin.register(Programme)
class ProgrammeAdmin(ServiceAdmin):
    """One row (id 1), created with its defaults on first look; changed, never added or deleted."""

    list_display = ("__str__", "referral_bonus", "referral_share", "time_zone", "updated_at")
    fields = ("time_zone", "referral_bonus", "referral_share", "updated_at")
    readonly_fields = ("updated_at",)

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def changelist_view(self, request: HttpRequest, extra_context: dict[str, Any] | None = None) -> HttpResponse:
        if self.has_view_or_change_permission(request):
            programme()  # the one row exists from the first look on
        return super().changelist_view(request, extra_context)

    def save_model(self, request: HttpRequest, obj: Programme, form: Any, change: bool) -> None:
        save_or_refuse(lambda: services.programme_save(programme=obj))


def _bands_problem(bands: list[Band]) -> str:
    """Why bands_validate refused, in words an operator can act on."""
    lowers = [band.lower for band in bands]
    if not bands:
        return _("Add at least one band.")
    if min(lowers) != 0:
        return _("The first band must start at 0 CNY.")
    if len(set(lowers)) != len(lowers):
        repeated = sorted({lower for lower in lowers if lowers.count(lower) > 1})
        return _("Two bands start at the same amount: %(amounts)s CNY.") % {
            "amounts": ", ".join(str(lower) for lower in repeated)
        }
    return _("Rates are percentages from 0 to 100.")


class RebateBandFormSet(BaseInlineFormSet):
    """The bands as one schedule: partners.rebates.bands_validate decides (starts at 0, distinct lower bounds,
    rates 0–100); `bands` holds them, sorted, for the service."""

    bands: list[Band]

    def clean(self) -> None:
        super().clean()
        self.bands = []
        if any(self.errors):
            return
        bands = [
            Band(Decimal(form.cleaned_data["lower"]), Decimal(form.cleaned_data["rate"]))
            for form in self.forms
            if form.cleaned_data and not form.cleaned_data.get("DELETE")
        ]
        try:
            self.bands = bands_validate(bands)
        except ScheduleInvalid as exc:
            raise forms.ValidationError(_bands_problem(bands)) from exc

    def validate_unique(self) -> None:
        """Repeated lower bounds are clean()'s to report (in words); the rows are replaced whole on save."""


class RebateBandInline(admin.TabularInline):
    model = RebateBand
    formset = RebateBandFormSet
    fields = ("lower", "rate")
    extra = 1
    min_num = 0

    # The bands are part of their schedule: whoever may add/change the schedule edits its bands.
    def _schedule_permission(self, request: HttpRequest, obj: Any) -> bool:
        return request.user.has_perm("partners.add_rebateschedule" if obj is None else "partners.change_rebateschedule")

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return self._schedule_permission(request, obj)

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return self._schedule_permission(request, obj)

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return self._schedule_permission(request, obj)

    def has_view_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return request.user.has_perm("partners.view_rebateschedule") or self._schedule_permission(request, obj)


@admin.register(RebateSchedule)
class RebateScheduleAdmin(ServiceAdmin):
    """A schedule and its bands are saved together by services.rebate_schedule_save (the bands replaced whole)."""

    list_display = ("name", "method", "bands_text", "tiers_text")
    search_fields = ("name",)
    fields = ("name", "method")
    inlines = (RebateBandInline,)

    def get_queryset(self, request: HttpRequest) -> QuerySet[RebateSchedule]:
        return super().get_queryset(request).prefetch_related("bands", "tiers")

    @admin.display(description=gettext_lazy("bands"))
    def bands_text(self, obj: RebateSchedule) -> str:
        return " · ".join(f"≥ {band.lower:,}: {band.rate}%" for band in obj.bands.all())

    @admin.display(description=gettext_lazy("tiers"))
    def tiers_text(self, obj: RebateSchedule) -> str:
        return ", ".join(tier.name for tier in obj.tiers.all()) or "-"

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False  # tiers and issued statements name their schedule

    def save_model(self, request: HttpRequest, obj: RebateSchedule, form: Any, change: bool) -> None:
        """Saved with its bands in save_related (the service needs both)."""

    def save_related(self, request: HttpRequest, form: Any, formsets: Any, change: bool) -> None:
        bands = next((fs.bands for fs in formsets if isinstance(fs, RebateBandFormSet)), [])
        schedule = form.instance
        saved = save_or_refuse(
            lambda: services.rebate_schedule_save(
                schedule=schedule if change else None,
                name=form.cleaned_data["name"],
                method=form.cleaned_data["method"],
                bands=bands,
            )
        )
        schedule.pk = saved.pk
        schedule._state.adding = False
        _formsets_saved_elsewhere(formsets)


@admin.register(PartnerTier)
class PartnerTierAdmin(ServiceAdmin):
    list_display = (
        "rank",
        "name",
        "name_en",
        "schedule",
        "agency_discount",
        "new_product_priority",
        "min_tenure_months",
        "min_trailing_sales",
    )
    list_select_related = ("schedule",)
    fieldsets = (
        (None, {"fields": ("rank", ("name", "name_en"), "schedule")}),
        (
            gettext_lazy("Benefits"),
            {"fields": ("agency_discount", "new_product_priority", "marketing_plan", "marketing_plan_en")},
        ),
        (gettext_lazy("Monthly review: reached with"), {"fields": ("min_tenure_months", "min_trailing_sales")}),
    )

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False  # partners and tier changes name their tier

    def save_model(self, request: HttpRequest, obj: PartnerTier, form: Any, change: bool) -> None:
        save_or_refuse(lambda: services.partner_tier_save(tier=obj))


@admin.register(BonusRule)
class BonusRuleAdmin(ServiceAdmin):
    list_display = ("name", "name_en", "threshold", "reward", "cash_amount", "is_active")
    list_filter = ("reward", "is_active")
    fields = (
        ("name", "name_en"),
        "threshold",
        "reward",
        "cash_amount",
        "description",
        "description_en",
        "is_active",
    )

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False  # bonuses owed name their rule: switch it off instead

    def save_model(self, request: HttpRequest, obj: BonusRule, form: Any, change: bool) -> None:
        save_or_refuse(lambda: services.bonus_rule_save(rule=obj))


# --- Partners --------------------------------------------------------------------------------------------------


class PartnerLoginInline(admin.TabularInline):
    """Who signs in to the partner's portal (added on "Add a login", services.partner_login_add)."""

    model = PartnerUser
    fields = ("user", "created_at")
    readonly_fields = ("user", "created_at")
    extra = 0
    can_delete = False
    verbose_name_plural = gettext_lazy("portal logins")

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_view_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return request.user.has_perm("partners.view_partner")


PARTNER_ADD_FIELDS = (
    "code",
    "company",
    "kind",
    "tier",
    "joined_at",
    "referred_by",
    "contact_name",
    "contact_phone",
    "contact_email",
)
PARTNER_CHANGE_FIELDS = ("company", "kind", "contact_name", "contact_phone", "contact_email", "is_active")
PARTNER_SHOWN = ("code", "tier", "joined_at", "referred_by", "referral_code", "payable", "created_at", "manage_links")


class TierChangeForm(forms.Form):
    tier = forms.ModelChoiceField(label=gettext_lazy("new tier"), queryset=PartnerTier.objects.all())
    reason = forms.CharField(
        label=gettext_lazy("reason"),
        max_length=200,
        help_text=gettext_lazy("Kept with the change (audited) and shown in the partner's tier history."),
    )


class LoginAddForm(forms.Form):
    identifier = forms.CharField(
        label=gettext_lazy("user's phone or email"),
        max_length=254,
        help_text=gettext_lazy("The person signs up as a member first; staff accounts cannot be partner logins."),
    )

    def clean_identifier(self) -> int:
        user = user_by_identifier(identifier=self.cleaned_data["identifier"])
        if user is None:
            raise forms.ValidationError(_("No user has this phone or email."))
        return int(user.pk)


@admin.register(Partner)
class PartnerAdmin(ServiceAdmin):
    list_display = ("code", "company", "kind", "tier", "joined_at", "referred_by", "payable", "is_active")
    list_filter = ("kind", "tier", "is_active")
    search_fields = ("code", "company", "contact_name", "contact_phone", "contact_email", "referral_code")
    list_select_related = ("tier", "referred_by")
    inlines = (PartnerLoginInline,)

    def get_fields(self, request: HttpRequest, obj: Partner | None = None) -> Any:
        return PARTNER_ADD_FIELDS if obj is None else (*PARTNER_SHOWN, *PARTNER_CHANGE_FIELDS)

    def get_readonly_fields(self, request: HttpRequest, obj: Partner | None = None) -> Any:
        return () if obj is None else PARTNER_SHOWN

    def get_changelist_instance(self, request: HttpRequest) -> Any:
        """The page's payable balances in one query (not one per row)."""
        changelist = super().get_changelist_instance(request)
        changelist.result_list = list(changelist.result_list)
        balances = partner_payables(partner_ids=[partner.pk for partner in changelist.result_list])
        for partner in changelist.result_list:
            partner.payable_fen = balances.get(partner.pk, 0)
        return changelist

    @admin.display(description=gettext_lazy("payable (CNY)"))
    def payable(self, obj: Partner) -> str:
        balance = getattr(obj, "payable_fen", None)
        if balance is None:
            balance = partner_payable(partner_id=obj.pk)[1] if obj.pk else 0
        return _cny(balance)

    @admin.display(description=gettext_lazy("manage"))
    def manage_links(self, obj: Partner) -> str:
        if obj.pk is None:
            return "-"
        return format_html(
            '<a href="{}">{}</a> · <a href="{}">{}</a> · <a href="{}">{}</a> · <a href="{}">{}</a>',
            reverse("admin:partners_partner_tier", args=[obj.pk]),
            _("Change tier"),
            reverse("admin:partners_partner_login", args=[obj.pk]),
            _("Add a login"),
            reverse("admin:partners_sale_changelist") + f"?partner__id__exact={obj.pk}",
            _("Sales"),
            reverse("admin:partners_statement_changelist") + f"?partner__id__exact={obj.pk}",
            _("Statements"),
        )

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False  # sales and statements name the partner: deactivate instead

    def save_model(self, request: HttpRequest, obj: Partner, form: Any, change: bool) -> None:
        data = form.cleaned_data
        if change:
            save_or_refuse(
                lambda: services.partner_update(
                    partner=obj,
                    company=data["company"],
                    kind=data["kind"],
                    contact_name=data.get("contact_name") or "",
                    contact_phone=data.get("contact_phone") or "",
                    contact_email=data.get("contact_email") or "",
                    is_active=data["is_active"],
                )
            )
            return
        partner = save_or_refuse(
            lambda: services.partner_create(
                code=data["code"],
                company=data["company"],
                tier=data["tier"],
                joined_at=data["joined_at"],
                kind=data["kind"],
                contact_name=data.get("contact_name") or "",
                contact_phone=data.get("contact_phone") or "",
                contact_email=data.get("contact_email") or "",
                referred_by=data.get("referred_by"),
            )
        )
        for model_field in Partner._meta.concrete_fields:
            setattr(obj, model_field.attname, getattr(partner, model_field.attname))
        obj._state.adding = False

    def save_related(self, request: HttpRequest, form: Any, formsets: Any, change: bool) -> None:
        """Logins are added on their own page; the inline only lists them."""
        _formsets_saved_elsewhere(formsets)

    def get_urls(self) -> list[Any]:
        view = self.admin_site.admin_view
        return [
            path("<path:object_id>/tier/", view(self.tier_view), name="partners_partner_tier"),
            path("<path:object_id>/login/", view(self.login_view), name="partners_partner_login"),
            *super().get_urls(),
        ]

    def _partner(self, request: HttpRequest, object_id: str) -> Partner:
        if not self.has_change_permission(request):
            raise PermissionDenied
        partner = self.get_object(request, unquote(object_id))
        if partner is None:
            raise Http404
        return partner

    def tier_view(self, request: HttpRequest, object_id: str) -> HttpResponse:
        partner = self._partner(request, object_id)
        form = TierChangeForm(request.POST or None, initial={"tier": partner.tier_id})
        if request.method == "POST" and form.is_valid():
            try:
                change = tiers.partner_tier_set(
                    partner=partner,
                    tier=form.cleaned_data["tier"],
                    actor_id=_actor_id(request),
                    reason=form.cleaned_data["reason"],
                )
            except (ValidationError, DomainError) as exc:
                errors_to_form(form, exc, fallback_field="reason")
            else:
                if change is None:
                    self.message_user(request, _("The partner is already in this tier."), messages.INFO)
                else:
                    self.message_user(
                        request,
                        _("%(partner)s: tier %(old)s → %(new)s.")
                        % {"partner": partner, "old": change.from_tier.name, "new": change.to_tier.name},
                        messages.SUCCESS,
                    )
                return HttpResponseRedirect(reverse("admin:partners_partner_change", args=[partner.pk]))
        return _page(
            self,
            request,
            "admin/partners/form_page.html",
            form=form,
            original=partner,
            intro=_(
                "Current tier: %(tier)s. The monthly review only moves partners up; a change here may go either way."
            )
            % {"tier": partner.tier.name},
            submit=_("Change tier"),
            title=_("Change the tier of %(partner)s") % {"partner": partner},
        )

    def login_view(self, request: HttpRequest, object_id: str) -> HttpResponse:
        partner = self._partner(request, object_id)
        form = LoginAddForm(request.POST or None)
        if request.method == "POST" and form.is_valid():
            try:
                login = services.partner_login_add(partner=partner, user_id=form.cleaned_data["identifier"])
            except (ValidationError, DomainError) as exc:
                errors_to_form(form, exc, fallback_field="identifier")
            else:
                self.message_user(
                    request,
                    _("%(user)s signs in to the portal of %(partner)s.") % {"user": login.user, "partner": partner},
                    messages.SUCCESS,
                )
                return HttpResponseRedirect(reverse("admin:partners_partner_change", args=[partner.pk]))
        return _page(
            self,
            request,
            "admin/partners/form_page.html",
            form=form,
            original=partner,
            intro=_("The user will see this partner's portal (sales, statements, tier), and no other partner's."),
            submit=_("Add the login"),
            title=_("Add a portal login to %(partner)s") % {"partner": partner},
        )


# --- Applications -------------------------------------------------------------------------------------------------


class ApproveForm(forms.Form):
    code = forms.CharField(
        label=gettext_lazy("partner code"),
        max_length=20,
        help_text=gettext_lazy("1–20 letters, digits, - or _; names the partner in sales files and the API."),
    )
    tier = forms.ModelChoiceField(label=gettext_lazy("partner tier"), queryset=PartnerTier.objects.all())
    joined_at = forms.DateField(label=gettext_lazy("joined on"), widget=AdminDateWidget)


@admin.register(PartnerApplication)
class PartnerApplicationAdmin(ReadOnlyAdmin):
    """Applications come from the recruiting links; whoever may add partners decides them."""

    list_display = ("company", "kind", "contact_name", "contact_phone", "referred_by", "status", "created_at")
    list_filter = ("status", "kind")
    search_fields = ("company", "contact_name", "contact_phone", "contact_email")
    list_select_related = ("referred_by", "partner")
    actions = ("approve_application", "reject_selected")
    fields = (
        "company",
        "kind",
        ("contact_name", "contact_phone", "contact_email"),
        "referred_by",
        "status",
        "partner",
        "created_at",
        "decided_at",
    )

    def has_decide_permission(self, request: HttpRequest) -> bool:
        return request.user.has_perm("partners.add_partner")

    @admin.action(
        description=gettext_lazy("Approve (asks the partner code, tier and joining date)"), permissions=["decide"]
    )
    def approve_application(self, request: HttpRequest, queryset: QuerySet[PartnerApplication]) -> Any:
        selected = list(queryset.order_by("pk")[:2])
        if len(selected) != 1:
            self.message_user(request, _("Approve one application at a time."), messages.ERROR)
            return None
        application = selected[0]
        if application.status != PartnerApplication.Status.PENDING:
            self.message_user(request, _("This application was already decided."), messages.ERROR)
            return None
        default_tier = PartnerTier.objects.order_by("rank").first()
        today = timezone.now().astimezone(tz()).date()
        form = ApproveForm(
            request.POST if "code" in request.POST else None, initial={"tier": default_tier, "joined_at": today}
        )
        if form.is_valid():
            try:
                partner = services.partner_application_approve(
                    application=application,
                    code=form.cleaned_data["code"],
                    tier=form.cleaned_data["tier"],
                    joined_at=form.cleaned_data["joined_at"],
                )
            except (ValidationError, DomainError) as exc:
                errors_to_form(form, exc, fallback_field="code")
            else:
                self.message_user(request, _("%(partner)s is a partner now.") % {"partner": partner}, messages.SUCCESS)
                return None
        return _page(
            self,
            request,
            "admin/partners/form_page.html",
            form=form,
            objects=[application],
            action="approve_application",
            action_checkbox_name=helpers.ACTION_CHECKBOX_NAME,
            intro=_("%(company)s (%(contact)s, %(phone)s) becomes a partner, recruited by %(recruiter)s.")
            % {
                "company": application.company,
                "contact": application.contact_name,
                "phone": application.contact_phone,
                "recruiter": application.referred_by or "-",
            },
            submit=_("Approve"),
            title=_("Approve a partner application"),
        )

    @admin.action(description=gettext_lazy("Reject"), permissions=["decide"])
    def reject_selected(self, request: HttpRequest, queryset: QuerySet[PartnerApplication]) -> None:
        now = timezone.now()
        done = sum(services.partner_application_reject(application=a, now=now) for a in queryset)
        self.message_user(
            request, ngettext("%(n)d application rejected.", "%(n)d applications rejected.", done) % {"n": done}
        )


# --- Sales and imports ----------------------------------------------------------------------------------------------


class MonthFilter(admin.SimpleListFilter):
    title = gettext_lazy("month")
    parameter_name = "period"

    def lookups(self, request: HttpRequest, model_admin: Any) -> Any:
        months = Sale.objects.order_by("-period").values_list("period", flat=True).distinct()[:36]
        return [(month, month) for month in months]

    def queryset(self, request: HttpRequest, queryset: QuerySet[Any]) -> QuerySet[Any]:
        return queryset.filter(period=self.value()) if self.value() else queryset


class SalesFileForm(forms.Form):
    file = forms.FileField(
        label=gettext_lazy("CSV file"),
        help_text=gettext_lazy(
            "Columns: partner, external_id, sold_at, quantity, amount, currency, product, original_id (download the "
            "template). UTF-8 (with or without BOM) or GBK, at most 2 MB. If any row is wrong, nothing is booked."
        ),
    )

    def clean_file(self) -> tuple[str, str]:
        upload = self.cleaned_data["file"]
        try:
            return csv_upload_read(file=upload), str(upload.name or "sales.csv")
        except ValidationError as exc:
            raise forms.ValidationError(exc.messages) from exc


def sales_template_csv(*, now: datetime) -> str:
    """The import's header and two example rows (a sale and a partial return of it), dated `now`."""
    day = now.astimezone(tz()).date().isoformat()
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(imports.COLUMNS)
    writer.writerow(["P001", "SO-0001", day, "2", "2598.00", "CNY", "扫地机器人 X1", ""])
    writer.writerow(["P001", "RT-0001", day, "-1", "-1299.00", "CNY", "扫地机器人 X1", "SO-0001"])
    return out.getvalue()


@admin.register(Sale)
class SaleAdmin(ReadOnlyAdmin):
    list_display = (
        "sold_at",
        "partner",
        "external_id",
        "product",
        "quantity",
        "amount",
        "period",
        "rebate_period",
        "source",
        "original",
        "clawback",
    )
    list_filter = ("source", MonthFilter, ("partner", admin.RelatedOnlyFieldListFilter))
    search_fields = ("=external_id", "partner__code")
    list_select_related = ("partner", "original")
    show_full_result_count = False
    change_list_template = "admin/partners/sale/change_list.html"

    @admin.display(description=gettext_lazy("rebate taken back (CNY)"))
    def clawback(self, obj: Sale) -> str:
        return _cny(obj.clawback_fen) if obj.clawback_fen else "-"

    def has_import_permission(self, request: HttpRequest) -> bool:
        return request.user.has_perm("partners.import_sale")

    def changelist_view(self, request: HttpRequest, extra_context: dict[str, Any] | None = None) -> HttpResponse:
        extra = {**(extra_context or {}), "can_import": self.has_import_permission(request)}
        return super().changelist_view(request, extra)

    def get_urls(self) -> list[Any]:
        view = self.admin_site.admin_view
        return [
            path("import/", view(self.import_view), name="partners_sale_import"),
            path("import/template.csv", view(self.template_view), name="partners_sale_import_template"),
            *super().get_urls(),
        ]

    def import_view(self, request: HttpRequest) -> HttpResponse:
        if not self.has_import_permission(request):
            raise PermissionDenied
        form = SalesFileForm(request.POST or None, request.FILES or None)
        report = None
        if request.method == "POST" and form.is_valid():
            text, name = form.cleaned_data["file"]
            try:
                report = imports.sales_csv_import(text=text, file_name=name, actor_id=_actor_id(request))
            except ValidationError as exc:
                errors_to_form(form, exc, fallback_field="file")
            else:
                if report.ok:
                    messages.success(
                        request,
                        _("Booked %(booked)d sale line(s); %(replayed)d were already booked with the same content.")
                        % {"booked": report.booked, "replayed": report.replayed},
                    )
                else:
                    messages.error(
                        request,
                        ngettext(
                            "Nothing was booked: %(n)d row has a problem. Correct it and import the whole file again.",
                            "Nothing was booked: %(n)d rows have problems. Correct them and import the whole file "
                            "again.",
                            len(report.problems),
                        )
                        % {"n": len(report.problems)},
                    )
        return _page(
            self,
            request,
            "admin/partners/sale/import.html",
            form=form,
            report=report,
            problems=report.problems[:SHOWN_PROBLEMS] if report else [],
            more_problems=max(len(report.problems) - SHOWN_PROBLEMS, 0) if report else 0,
            title=_("Import sales CSV"),
        )

    def template_view(self, request: HttpRequest) -> HttpResponse:
        if not self.has_import_permission(request):
            raise PermissionDenied
        response = HttpResponse(
            "\ufeff" + sales_template_csv(now=timezone.now()), content_type="text/csv; charset=utf-8"
        )
        response["Content-Disposition"] = 'attachment; filename="partner-sales-template.csv"'
        return response


@admin.register(SaleBatch)
class SaleBatchAdmin(ReadOnlyAdmin):
    list_display = ("created_at", "file_name", "rows", "imported_by", "sales_link")
    search_fields = ("file_name",)
    list_select_related = ("imported_by",)
    date_hierarchy = "created_at"

    @admin.display(description=gettext_lazy("sales"))
    def sales_link(self, obj: SaleBatch) -> str:
        url = reverse("admin:partners_sale_changelist") + f"?batch__id__exact={obj.pk}"
        return format_html('<a href="{}">{}</a>', url, _("Sales of this import"))


# --- Statements, bonuses, rewards, tier changes ----------------------------------------------------------------------


class PaidFilter(admin.SimpleListFilter):
    title = gettext_lazy("paid")
    parameter_name = "paid"

    def lookups(self, request: HttpRequest, model_admin: Any) -> Any:
        return [("no", _("Not paid")), ("yes", _("Paid"))]

    def queryset(self, request: HttpRequest, queryset: QuerySet[Any]) -> QuerySet[Any]:
        if self.value() == "no":
            return queryset.filter(paid_at__isnull=True)
        if self.value() == "yes":
            return queryset.filter(paid_at__isnull=False)
        return queryset


def _fen_column(name: str, label: Any) -> Any:
    @admin.display(description=label)
    def column(self: Any, obj: Any) -> str:
        return _cny(getattr(obj, name))

    column.__name__ = name.removesuffix("_fen") + "_cny"
    return column


@admin.register(Statement)
class StatementAdmin(ReadOnlyAdmin):
    """Written by partners.statements only. Finance marks statements paid; the issue button runs the monthly job."""

    list_display = ("partner", "period", "tier_name", "net_sales", "rebate_cny", "closing_cny", "paid_at")
    list_filter = (PaidFilter, "period", ("partner", admin.RelatedOnlyFieldListFilter))
    search_fields = ("partner__code", "partner__company")
    list_select_related = ("partner", "paid_by")
    actions = ("mark_paid",)
    change_list_template = "admin/partners/statement/change_list.html"
    fields = (
        ("partner", "period"),
        ("tier_name", "method"),
        ("sales_total", "returns_total", "net_sales"),
        "bands_table",
        "opening_cny",
        ("rebate_cny", "bonus_cny", "referral_cny"),
        ("clawback_cny", "paid_cny"),
        "closing_cny",
        "created_at",
        ("paid_at", "paid_by", "payout_cny"),
    )
    readonly_fields = (
        "partner",
        "period",
        "tier_name",
        "method",
        "sales_total",
        "returns_total",
        "net_sales",
        "bands_table",
        "opening_cny",
        "rebate_cny",
        "bonus_cny",
        "referral_cny",
        "clawback_cny",
        "paid_cny",
        "closing_cny",
        "created_at",
        "paid_at",
        "paid_by",
        "payout_cny",
    )

    opening_cny = _fen_column("opening_fen", gettext_lazy("opening balance (CNY)"))
    rebate_cny = _fen_column("rebate_fen", gettext_lazy("rebate (CNY)"))
    bonus_cny = _fen_column("bonus_fen", gettext_lazy("annual bonus (CNY)"))
    referral_cny = _fen_column("referral_fen", gettext_lazy("recruiting rewards (CNY)"))
    clawback_cny = _fen_column("clawback_fen", gettext_lazy("rebates taken back (CNY)"))
    paid_cny = _fen_column("paid_fen", gettext_lazy("paid out (CNY)"))
    closing_cny = _fen_column("closing_fen", gettext_lazy("payable (CNY)"))
    payout_cny = _fen_column("payout_fen", gettext_lazy("amount paid (CNY)"))

    @admin.display(description=gettext_lazy("rebate by band"))
    def bands_table(self, obj: Statement) -> SafeString:
        head = format_html_join(
            "",
            "<th>{}</th>",
            ((label,) for label in (_("From (CNY)"), _("To (CNY)"), _("Rate"), _("Sales in band"), _("Rebate (CNY)"))),
        )
        body = format_html_join(
            "",
            "<tr><td>{}</td><td>{}</td><td>{}%</td><td>{}</td><td>{}</td></tr>",
            (
                (
                    f"{Decimal(line['lower']):,.2f}",
                    f"{Decimal(line['upper']):,.2f}" if line.get("upper") is not None else "∞",
                    line["rate"],
                    f"{Decimal(line['base']):,.2f}",
                    _cny(int(line["amount_fen"])),
                )
                for line in obj.bands or []
            ),
        )
        if not obj.bands:
            return format_html("<p>{}</p>", _("No rebate this month (no positive net sales)."))
        return format_html("<table><thead><tr>{}</tr></thead><tbody>{}</tbody></table>", head, body)

    def has_pay_permission(self, request: HttpRequest) -> bool:
        return request.user.has_perm("partners.pay_statement")

    def has_issue_permission(self, request: HttpRequest) -> bool:
        return request.user.has_perm("partners.change_statement")

    def changelist_view(self, request: HttpRequest, extra_context: dict[str, Any] | None = None) -> HttpResponse:
        extra = {**(extra_context or {}), "can_issue": self.has_issue_permission(request)}
        return super().changelist_view(request, extra)

    def get_urls(self) -> list[Any]:
        view = self.admin_site.admin_view
        return [path("issue/", view(self.issue_view), name="partners_statement_issue"), *super().get_urls()]

    def issue_view(self, request: HttpRequest) -> HttpResponse:
        """GET asks, POST runs the monthly job now (it is idempotent: months already issued are skipped)."""
        if not self.has_issue_permission(request):
            raise PermissionDenied
        if request.method == "POST":
            done = statements.statements_issue_due(now=timezone.now())
            self.message_user(
                request,
                ngettext("%(n)d statement issued.", "%(n)d statements issued.", done) % {"n": done},
                messages.SUCCESS if done else messages.INFO,
            )
            return HttpResponseRedirect(reverse("admin:partners_statement_changelist"))
        return _page(
            self,
            request,
            "admin/partners/form_page.html",
            form=None,
            intro=_(
                "Every active partner gets a statement for each ended month that has none yet (the monthly job does "
                "the same on the 1st). Rebates and December's cash bonuses are credited to their payables."
            ),
            submit=_("Issue due statements now"),
            title=_("Issue due statements"),
        )

    @admin.action(description=gettext_lazy("Mark paid (pays the payable out)"), permissions=["pay"])
    def mark_paid(self, request: HttpRequest, queryset: QuerySet[Statement]) -> None:
        now, paid = timezone.now(), 0
        for statement in queryset.select_related("partner").order_by("partner_id", "period"):
            if statement.paid_at is not None:
                self.message_user(request, _("%(s)s was already paid.") % {"s": statement}, messages.INFO)
                continue
            try:
                done = statements.statement_pay(statement=statement, actor_id=_actor_id(request), now=now)
            except (ValidationError, DomainError) as exc:
                self.message_user(
                    request, f"{statement.partner.code} {statement.period}: {error_text(exc)}", messages.ERROR
                )
                continue
            paid += 1
            self.message_user(
                request,
                _("%(code)s %(period)s: %(amount)s CNY paid.")
                % {"code": statement.partner.code, "period": done.period, "amount": _cny(done.payout_fen)},
                messages.SUCCESS,
            )
        if not paid:
            self.message_user(request, _("No statement was paid."), messages.WARNING)


class FulfilForm(forms.Form):
    note = forms.CharField(
        label=gettext_lazy("note"),
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 3, "cols": 60}),
        help_text=gettext_lazy("What was given and when (e.g. the trip's dates and booking reference)."),
    )


@admin.register(BonusObligation)
class BonusObligationAdmin(ReadOnlyAdmin):
    list_display = ("partner", "rule", "year", "net_sales", "amount_cny", "status", "fulfilled_at", "fulfilled_by")
    list_filter = ("status", "year", "rule")
    search_fields = ("partner__code", "partner__company")
    list_select_related = ("partner", "rule", "fulfilled_by")
    actions = ("mark_fulfilled",)
    amount_cny = _fen_column("amount_fen", gettext_lazy("cash (CNY)"))

    def has_fulfil_permission(self, request: HttpRequest) -> bool:
        return request.user.has_perm("partners.fulfil_bonusobligation")

    @admin.action(description=gettext_lazy("Mark fulfilled (asks for a note)"), permissions=["fulfil"])
    def mark_fulfilled(self, request: HttpRequest, queryset: QuerySet[BonusObligation]) -> HttpResponse | None:
        selected = list(queryset.select_related("partner", "rule").order_by("pk"))
        form = FulfilForm(request.POST if "note" in request.POST else None)
        if form.is_valid():
            done = 0
            for obligation in selected:
                if obligation.status != BonusObligation.Status.PENDING:
                    self.message_user(
                        request,
                        _("%(partner)s %(year)s %(rule)s: not waiting for fulfilment (%(status)s).")
                        % {
                            "partner": obligation.partner.code,
                            "year": obligation.year,
                            "rule": obligation.rule.name,
                            "status": obligation.get_status_display(),
                        },
                        messages.WARNING,
                    )
                    continue
                done += statements.bonus_fulfil(
                    obligation=obligation, actor_id=_actor_id(request), note=form.cleaned_data["note"]
                )
            self.message_user(
                request,
                ngettext("%(n)d bonus marked fulfilled.", "%(n)d bonuses marked fulfilled.", done) % {"n": done},
                messages.SUCCESS if done else messages.INFO,
            )
            return None
        return _page(
            self,
            request,
            "admin/partners/form_page.html",
            form=form,
            objects=selected,
            action="mark_fulfilled",
            action_checkbox_name=helpers.ACTION_CHECKBOX_NAME,
            intro=_("These annual bonuses are marked fulfilled, with the note below."),
            submit=_("Mark fulfilled"),
            title=_("Mark annual bonuses fulfilled"),
        )


@admin.register(ReferralReward)
class ReferralRewardAdmin(ReadOnlyAdmin):
    list_display = ("created_at", "recruiter", "recruit", "sale", "bonus_cny", "share_cny")
    search_fields = ("recruiter__code", "recruit__code")
    list_select_related = ("recruiter", "recruit", "sale")
    bonus_cny = _fen_column("bonus_fen", gettext_lazy("one-time reward (CNY)"))
    share_cny = _fen_column("share_fen", gettext_lazy("share of the first order (CNY)"))


@admin.register(TierChange)
class TierChangeAdmin(ReadOnlyAdmin):
    list_display = ("created_at", "partner", "from_tier", "to_tier", "period", "trailing_sales", "actor", "reason")
    list_filter = ("to_tier", ("actor", admin.EmptyFieldListFilter))
    search_fields = ("partner__code", "partner__company", "reason")
    list_select_related = ("partner", "from_tier", "to_tier", "actor")
    date_hierarchy = "created_at"
