"""Accounts in the admin, inside the staff boundaries of accounts/staff.py: superusers manage every account and
every privilege; other staff (operators) manage members only — contact, profile, the active flag and a member's
password — and see staff accounts read-only. The boundary is enforced on the server (fields left out of the
form, object-level change permission, the service's own check), not by hiding inputs.

Also the third-party admins' actions (django-celery-beat, django-axes), re-registered so that every action on
the site declares the permission it needs (tests/test_authorization_matrix.py holds every admin to that)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, ClassVar

from axes.admin import AccessAttemptAdmin as AxesAccessAttemptAdmin
from axes.models import AccessAttempt
from django.contrib import admin, messages
from django.contrib.admin import helpers
from django.contrib.admin.options import IS_POPUP_VAR
from django.contrib.admin.utils import unquote
from django.contrib.auth.admin import UserAdmin as BaseUserAdmin
from django.contrib.auth.forms import AdminPasswordChangeForm
from django.core.exceptions import PermissionDenied
from django.db.models import QuerySet
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils.html import escape
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _
from django_celery_beat.admin import PeriodicTaskAdmin as BeatPeriodicTaskAdmin
from django_celery_beat.models import PeriodicTask

from accounts import staff
from accounts.errors import StaffBoundary
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
    # What a non-superuser sees: no groups or permissions at all, the staff/superuser flags read-only.
    member_fieldsets = (
        (None, {"fields": ("phone", "email", "password")}),
        (_("Profile"), {"fields": ("display_name", "avatar", "language", "external_id")}),
        (_("Permissions"), {"fields": ("is_active", "is_staff", "is_superuser")}),
        (_("Important dates"), {"fields": ("last_login", "date_joined")}),
    )
    add_fieldsets = ((None, {"classes": ("wide",), "fields": ("phone", "email", "password1", "password2")}),)

    def get_fieldsets(self, request: HttpRequest, obj: User | None = None) -> Any:
        if obj is None or request.user.is_superuser:
            return super().get_fieldsets(request, obj)
        return self.member_fieldsets

    def get_readonly_fields(self, request: HttpRequest, obj: User | None = None) -> tuple[str, ...]:
        if request.user.is_superuser:
            return ("last_login", "date_joined")
        # Read-only fields are not form fields: a forged is_superuser=on in the POST is never read.
        return ("is_staff", "is_superuser", "last_login", "date_joined")

    def has_change_permission(self, request: HttpRequest, obj: User | None = None) -> bool:
        if obj is not None and not staff.staff_may_manage(actor=request.user, user=obj):  # type: ignore[arg-type]
            return False  # staff accounts are read-only to non-superusers (the change page, the password page)
        return super().has_change_permission(request, obj)

    def has_delete_permission(self, request: HttpRequest, obj: User | None = None) -> bool:
        if obj is not None and not staff.staff_may_manage(actor=request.user, user=obj):  # type: ignore[arg-type]
            return False
        return super().has_delete_permission(request, obj)

    def save_model(self, request: HttpRequest, obj: User, form: Any, change: bool) -> None:
        data = form.cleaned_data
        try:
            staff.user_admin_save(
                actor=request.user,  # type: ignore[arg-type]
                user=obj,
                groups=data["groups"] if "groups" in form.fields else None,
                permissions=data["user_permissions"] if "user_permissions" in form.fields else None,
            )
        except StaffBoundary as exc:  # only a forged form gets here: the admin's transaction rolls back
            raise PermissionDenied(str(exc.message)) from exc

    def save_related(self, request: HttpRequest, form: Any, formsets: Any, change: bool) -> None:
        """Groups and permissions were saved (and checked) by user_admin_save; only the addresses are left."""
        for formset in formsets:
            self.save_formset(request, form, formset, change=change)

    def user_change_password(self, request: HttpRequest, id: str, form_url: str = "") -> HttpResponse:
        """Set a password through accounts.staff.user_password_set (the boundary check, the audit entry, the
        API tokens revoked). 403 for a staff account unless the actor is a superuser."""
        user = self.get_object(request, unquote(id))
        if not self.has_change_permission(request, user):
            raise PermissionDenied
        if user is None:
            raise Http404
        form = AdminPasswordChangeForm(user, request.POST or None)
        if request.method == "POST" and form.is_valid():
            # Django's own guard: turning password sign-in off takes the "unset-password" button.
            if not (form.cleaned_data["set_usable_password"] or "unset-password" in request.POST):
                messages.error(request, gettext("Conflicting form data submitted. Please try again."))
                return HttpResponseRedirect(request.get_full_path())
            password = form.cleaned_data["password1"] if form.cleaned_data["set_usable_password"] else None
            try:
                staff.user_password_set(actor=request.user, user=user, password=password)  # type: ignore[arg-type]
            except StaffBoundary as exc:
                raise PermissionDenied(str(exc.message)) from exc
            self.log_change(request, user, self.construct_change_message(request, form, []))
            done = _("Password changed successfully.") if password else _("Password-based authentication was disabled.")
            messages.success(request, done)
            return HttpResponseRedirect(reverse("admin:accounts_user_change", args=(user.pk,)))
        title = _("Change password: %s") if user.has_usable_password() else _("Set password: %s")
        context = {
            **self.admin_site.each_context(request),
            "title": title % escape(user.get_username()),
            "adminForm": helpers.AdminForm(form, [(None, {"fields": list(form.base_fields)})], {}),  # type: ignore[arg-type]
            "form_url": form_url,
            "form": form,
            "is_popup": IS_POPUP_VAR in request.POST or IS_POPUP_VAR in request.GET,
            "is_popup_var": IS_POPUP_VAR,
            "add": True,
            "change": False,
            "has_delete_permission": False,
            "has_change_permission": True,
            "has_absolute_url": False,
            "opts": self.opts,
            "original": user,
            "save_as": False,
            "show_save": True,
        }
        request.current_app = self.admin_site.name
        return TemplateResponse(request, "admin/auth/user/change_password.html", context)


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

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False  # issued at sign-in only

    def has_change_permission(self, request: HttpRequest, obj: ApiToken | None = None) -> bool:
        return False  # a record; a member revokes theirs, a password reset revokes all of an account's


# --- Third-party admins: every action declares its permission -----------------------------------------------


def _declared(action: Callable[..., Any], *permissions: str) -> Callable[..., Any]:
    """The third-party `action` as a new action that needs `permissions` (Django otherwise offers an action
    without `permissions=` to anyone who may view the list)."""

    def declared(modeladmin: admin.ModelAdmin, request: HttpRequest, queryset: QuerySet[Any]) -> Any:
        return action(modeladmin, request, queryset)

    declared.__name__ = action.__name__
    return admin.action(description=action.short_description, permissions=list(permissions))(declared)  # type: ignore[attr-defined]


class PeriodicTaskAdmin(BeatPeriodicTaskAdmin):
    """Enabling, disabling or running a scheduled job now changes what the platform does: change permission
    (operators only view the schedule)."""

    enable_tasks = _declared(BeatPeriodicTaskAdmin.enable_tasks, "change")
    disable_tasks = _declared(BeatPeriodicTaskAdmin.disable_tasks, "change")
    toggle_tasks = _declared(BeatPeriodicTaskAdmin.toggle_tasks, "change")
    run_tasks = _declared(BeatPeriodicTaskAdmin.run_tasks, "change")


admin.site.unregister(PeriodicTask)
admin.site.register(PeriodicTask, PeriodicTaskAdmin)


if admin.site.is_registered(AccessAttempt):  # settings.AXES_ENABLE_ADMIN

    class AccessAttemptAdmin(AxesAccessAttemptAdmin):
        """Clearing expired lockout records deletes them: delete permission."""

        cleanup_expired_attempts = _declared(AxesAccessAttemptAdmin.cleanup_expired_attempts, "delete")

    admin.site.unregister(AccessAttempt)
    admin.site.register(AccessAttempt, AccessAttemptAdmin)
