"""Member pages: register, log in/out, profile, addresses, language switch. Thin: forms in, services do."""

from __future__ import annotations

from typing import Any, cast

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import login
from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect, JsonResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import translation
from django.utils.decorators import method_decorator
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from accounts import panels as profile_panels
from accounts import selectors, services
from accounts.errors import AccountLocked, AddressNotFound
from accounts.forms import AddressForm, LoginForm, ProfileForm, RegisterForm
from accounts.models import Address, User
from accounts.signup import signup_hooks_run
from config.api import error_body
from config.forms import errors_to_form
from config.ratelimit import rate_limit_page


def _set_language(response: HttpResponse, language: str) -> HttpResponse:
    response.set_cookie(settings.LANGUAGE_COOKIE_NAME, language, max_age=365 * 24 * 3600, samesite="Lax")
    return response


@rate_limit_page("register", by="ip")
def register(request: HttpRequest) -> HttpResponse:
    if request.user.is_authenticated:
        return redirect("home")
    form = RegisterForm(request.POST or None, initial={"language": translation.get_language()})
    if request.method == "POST" and form.is_valid():
        data = dict(form.cleaned_data)
        data.pop("password2")
        invite_code = data.pop("invite_code", "")
        data["language"] = data.get("language") or translation.get_language()
        try:
            user = services.user_create(**data)
        except ValidationError as exc:
            errors_to_form(form, exc)
        else:
            login(request, user, backend="accounts.backends.PhoneOrEmailBackend")
            messages.success(request, _("Welcome! Your account is ready."))
            with translation.override(user.language):  # the next page is in the member's language
                for outcome in signup_hooks_run(user=user, request=request, invite_code=invite_code):
                    messages.add_message(request, messages.SUCCESS if outcome.ok else messages.WARNING, outcome.message)
            return _set_language(redirect("home"), user.language)
    return render(request, "accounts/register.html", {"form": form})


@method_decorator(rate_limit_page("login", by="ip"), name="dispatch")
class LoginView(auth_views.LoginView):
    template_name = "accounts/login.html"
    authentication_form = LoginForm
    redirect_authenticated_user = True

    def form_valid(self, form: LoginForm) -> HttpResponse:  # type: ignore[override]
        response = super().form_valid(form)
        return _set_language(response, form.get_user().language)


class LogoutView(auth_views.LogoutView):
    pass


@login_required
def profile(request: HttpRequest) -> HttpResponse:
    form = ProfileForm(request.POST or None, instance=request.user)
    if request.method == "POST" and form.is_valid():
        try:
            user = services.user_profile_update(user=request.user, data=form.cleaned_data)  # type: ignore[arg-type]
        except ValidationError as exc:
            errors_to_form(form, exc)
        else:
            translation.activate(user.language)
            messages.success(request, _("Profile saved."))
            return _set_language(redirect("accounts:profile"), user.language)
    panels = profile_panels.panels_for(user_id=cast(User, request.user).pk)
    return render(request, "accounts/profile.html", {"form": form, "panels": panels})


@login_required
def address_list(request: HttpRequest) -> HttpResponse:
    addresses = selectors.address_list(user=cast(User, request.user))
    return render(request, "accounts/address_list.html", {"addresses": addresses})


@login_required
def address_edit(request: HttpRequest, address_id: int | None = None) -> HttpResponse:
    address = get_object_or_404(Address, pk=address_id, user_id=request.user.pk) if address_id else None
    form = AddressForm(request.POST or None, instance=address)
    if request.method == "POST" and form.is_valid():
        try:
            services.address_save(user=request.user, data=form.cleaned_data, address=address)  # type: ignore[arg-type]
        except ValidationError as exc:
            errors_to_form(form, exc)
        else:
            messages.success(request, _("Address saved."))
            return redirect("accounts:addresses")
    return render(request, "accounts/address_form.html", {"form": form, "address": address})


@login_required
@require_POST
def address_delete(request: HttpRequest, address_id: int) -> HttpResponse:
    try:
        services.address_delete(user=cast(User, request.user), address_id=address_id)
    except AddressNotFound as exc:
        messages.error(request, str(exc.message))
    else:
        messages.success(request, _("Address deleted."))
    return redirect("accounts:addresses")


@require_POST
def set_language(request: HttpRequest) -> HttpResponse:
    """Switch the interface language; a logged-in member's preference is saved too."""
    language = request.POST.get("language", "")
    next_url = request.POST.get("next") or "/"
    if not url_has_allowed_host_and_scheme(
        next_url, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        next_url = "/"
    if language not in dict(settings.LANGUAGES):
        messages.error(request, _("Unknown language."))
        return HttpResponseRedirect(next_url)
    if request.user.is_authenticated:
        services.user_profile_update(user=request.user, data={"language": language})
    return _set_language(HttpResponseRedirect(next_url), language)


def lockout_response(request: HttpRequest, credentials: Any = None, *args: Any, **kwargs: Any) -> HttpResponse:
    """django-axes calls this once too many logins failed: JSON for the API, a page for people."""
    message = _("Too many failed login attempts. Try again later.")
    if request.path.startswith("/api/"):
        return JsonResponse(error_body(AccountLocked.code, message), status=AccountLocked.status)
    return render(request, "accounts/locked.html", {"message": message}, status=429)
