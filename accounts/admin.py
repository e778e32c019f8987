from typing import ClassVar

from django.contrib import admin
from django.contrib.auth.admin import UserAdmin as BaseUserAdmin
from django.utils.translation import gettext_lazy as _

from accounts.models import Address, ApiToken, User


class AddressInline(admin.TabularInline):
    model = Address
    extra = 0


@admin.register(User)
class UserAdmin(BaseUserAdmin):
    ordering = ("-date_joined",)
    list_display = ("id", "phone", "email", "display_name", "is_staff", "is_active", "date_joined")
    list_filter = ("is_staff", "is_superuser", "is_active", "groups", "language")
    search_fields = ("phone", "email", "display_name", "external_id")
    inlines: ClassVar = [AddressInline]
    fieldsets = (
        (None, {"fields": ("phone", "email", "password")}),
        (_("Profile"), {"fields": ("display_name", "avatar", "language", "external_id")}),
        (_("Permissions"), {"fields": ("is_active", "is_staff", "is_superuser", "groups", "user_permissions")}),
        (_("Important dates"), {"fields": ("last_login", "date_joined")}),
    )
    add_fieldsets = ((None, {"classes": ("wide",), "fields": ("phone", "email", "password1", "password2")}),)


@admin.register(ApiToken)
class ApiTokenAdmin(admin.ModelAdmin):
    list_display = ("id", "user", "name", "created_at", "access_expires_at", "revoked_at")
    list_filter = ("revoked_at",)
    search_fields = ("user__phone", "user__email")
    readonly_fields = (
        "user",
        "name",
        "access_digest",
        "refresh_digest",
        "access_expires_at",
        "refresh_expires_at",
        "created_at",
        "revoked_at",
    )

    def has_add_permission(self, request: object) -> bool:
        return False
