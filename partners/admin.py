"""Operators issue and revoke partner API keys. Issuing needs `partners.issue_apikey`, revoking
`partners.revoke_apikey` (operators have both; analysts and finance only see the keys). A key may report partner
sales (`reports_sales`), any partner's or, bound to one, that partner's only. The partner programme's admin is in
partners/admin_programme.py."""

from typing import Any

from django import forms
from django.contrib import admin, messages
from django.db.models import QuerySet
from django.http import HttpRequest
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from partners import services
from partners.models import ApiKey


class ApiKeyForm(forms.ModelForm):
    class Meta:
        model = ApiKey
        fields = ("name", "default_campaign", "campaigns", "reports_sales", "partner")


@admin.register(ApiKey)
class ApiKeyAdmin(admin.ModelAdmin):
    form = ApiKeyForm
    list_display = (
        "name",
        "key_id",
        "default_campaign",
        "reports_sales",
        "partner",
        "created_at",
        "last_used_at",
        "revoked_at",
    )
    list_filter = ("default_campaign", "reports_sales")
    list_select_related = ("default_campaign", "partner")
    search_fields = ("name", "key_id")
    filter_horizontal = ("campaigns",)
    actions = ("revoke",)

    def get_readonly_fields(self, request: HttpRequest, obj: ApiKey | None = None) -> tuple[str, ...]:
        if obj is None:
            return ()
        return ("default_campaign", "key_id", "created_by", "created_at", "last_used_at", "revoked_at")

    def get_fields(self, request: HttpRequest, obj: ApiKey | None = None) -> tuple[str, ...]:
        if obj is None:
            return ("name", "default_campaign", "campaigns", "reports_sales", "partner")
        return (
            "name",
            "default_campaign",
            "campaigns",
            "reports_sales",
            "partner",
            "key_id",
            "created_by",
            "created_at",
            "last_used_at",
            "revoked_at",
        )

    def has_add_permission(self, request: HttpRequest) -> bool:
        return request.user.has_perm("partners.issue_apikey")

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return request.user.has_perm("partners.issue_apikey")

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False  # ingested events point at their key; revoke instead

    def has_revoke_permission(self, request: HttpRequest) -> bool:
        return request.user.has_perm("partners.revoke_apikey")

    def save_model(self, request: HttpRequest, obj: ApiKey, form: Any, change: bool) -> None:
        if change:
            services.api_key_update(
                api_key=obj,
                name=obj.name,
                campaigns=form.cleaned_data["campaigns"],
                reports_sales=form.cleaned_data["reports_sales"],
                partner=form.cleaned_data["partner"],
            )
            return
        key, secret = services.api_key_create(
            name=obj.name,
            default_campaign=obj.default_campaign,
            campaigns=form.cleaned_data["campaigns"],
            created_by_id=request.user.pk,
            reports_sales=form.cleaned_data["reports_sales"],
            partner=form.cleaned_data["partner"],
        )
        for model_field in ApiKey._meta.concrete_fields:
            setattr(obj, model_field.attname, getattr(key, model_field.attname))
        obj._state.adding = False
        messages.warning(
            request,
            _(
                "Key id: %(key_id)s  Secret: %(secret)s  — copy the secret now, it is shown only once. "
                "Partners sign with sha256(secret) as the HMAC key."
            )
            % {"key_id": key.key_id, "secret": secret},
        )

    def save_related(self, request: HttpRequest, form: Any, formsets: Any, change: bool) -> None:
        """The services above already saved the allowed campaigns."""

    @admin.action(description=gettext_lazy("Revoke selected keys"), permissions=["revoke"])
    def revoke(self, request: HttpRequest, queryset: QuerySet[ApiKey]) -> None:
        now = timezone.now()
        count = sum(services.api_key_revoke(api_key=key, now=now) for key in queryset)
        self.message_user(request, _("%(count)d key(s) revoked.") % {"count": count})


import partners.admin_programme  # noqa: E402, F401 — registers the partner programme's admins
