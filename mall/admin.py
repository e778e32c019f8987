"""Operators manage code pools (coupon codes the prize wheel hands out) here: add codes by pasting them, one
per line, through mall.codes.code_pool_import. Codes themselves are read-only."""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import admin, messages
from django.db.models import Count, QuerySet
from django.http import HttpRequest
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext

from config.admin import ReadOnlyAdmin
from mall import codes, selectors
from mall.models import Code, CodePool

SHOWN_REJECTED = 20


class CodePoolForm(forms.ModelForm):
    codes_to_add = forms.CharField(
        label=gettext_lazy("codes to add (one per line)"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 8, "cols": 40}),
        help_text=gettext_lazy(
            "4-64 letters, digits, “-” or “_” per line. Codes already in the pool are skipped; if any line is "
            "not a valid code, nothing is added."
        ),
    )

    class Meta:
        model = CodePool
        fields = ("name", "supplier")

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


@admin.register(CodePool)
class CodePoolAdmin(admin.ModelAdmin):
    form = CodePoolForm
    list_display = ("name", "supplier", "codes_total", "codes_free", "created_at")
    search_fields = ("name", "supplier")
    fields = ("name", "supplier", "codes_total", "codes_free", "codes_to_add")
    readonly_fields = ("codes_total", "codes_free")

    def get_queryset(self, request: HttpRequest) -> QuerySet[CodePool]:
        return super().get_queryset(request).annotate(n_codes=Count("codes"))

    @admin.display(description=gettext_lazy("codes (total)"))
    def codes_total(self, obj: CodePool) -> int:
        if obj.pk is None:
            return 0
        return int(getattr(obj, "n_codes", 0))

    @admin.display(description=gettext_lazy("codes (free)"))
    def codes_free(self, obj: CodePool) -> int:
        return selectors.codes_free(pool_id=obj.pk) if obj.pk else 0

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False  # prizes and handed-out codes point at pools

    def save_model(self, request: HttpRequest, obj: CodePool, form: Any, change: bool) -> None:
        super().save_model(request, obj, form, change)
        text = form.cleaned_data.get("codes_to_add") or ""
        if not text.strip():
            return
        added, rejected = codes.code_pool_import(pool=obj, text=text)
        if rejected:  # the form checked the same lines; nothing was added
            messages.error(request, _("Nothing was added: %(lines)s") % {"lines": ", ".join(rejected[:SHOWN_REJECTED])})
            return
        messages.success(request, ngettext("%(count)d code added.", "%(count)d codes added.", added) % {"count": added})


@admin.register(Code)
class CodeAdmin(ReadOnlyAdmin):
    list_display = ("code", "pool", "assigned_to", "assigned_at")
    list_filter = ("pool", ("assigned_at", admin.EmptyFieldListFilter))
    search_fields = ("code", "assigned_to__phone", "assigned_to__email")
    list_select_related = ("pool", "assigned_to")
    fields = ("code", "pool", "assigned_to", "assigned_at")


import mall.admin_settlement  # noqa: E402, F401 — registers SupplierStatementAdmin (supplier settlement)
