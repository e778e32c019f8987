"""The partner portal (phone and desktop): a partner user's dashboard (this month's sales, band progress, the
estimated rebate, tier and benefits, payable, tier-change announcements, the recruiting link and recruits), their
statements (list, printable detail, CSV), and the public application form behind a partner's recruiting link.

Access: login required; a signed-in user who is no partner user gets 404; a partner user only ever reads their own
partner — the partner comes from the user (partners.selectors.partner_for_user), statements are addressed by month
within it, so another partner's month is a 404 like a month that does not exist."""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any

from django import forms
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST

from config.codes import code_normalize
from config.forms import errors_to_form
from config.ratelimit import rate_limit_page
from partners import selectors
from partners.errors import StatementNotFound
from partners.exports import statement_csv
from partners.models import Partner
from partners.services import partner_application_submit
from partners.tiers import tier_changes_seen


def partner_required(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
    """Signed in (else the login page) and a partner user (else 404); the view gets the user's partner."""

    @login_required
    @wraps(view)
    def wrapped(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        partner = selectors.partner_for_user(request.user)
        if partner is None:
            raise Http404(_("This page is for partners' staff."))
        return view(request, partner, *args, **kwargs)

    return wrapped


def recruiting_link(request: HttpRequest, code: str) -> str:
    """The partner's recruiting link, absolute (what they share)."""
    return request.build_absolute_uri(reverse("partners:join", args=[code]))


@partner_required
def dashboard(request: HttpRequest, partner: Partner) -> HttpResponse:
    board = selectors.dashboard(partner, timezone.now())
    context = {
        "partner": partner,
        "board": board,
        "link": recruiting_link(request, board.referral_code),
        "more_recruits": board.recruits_total > len(board.recruits),
    }
    return render(request, "partners/dashboard.html", context)


@partner_required
@require_POST
def tier_changes_dismiss(request: HttpRequest, partner: Partner) -> HttpResponse:
    """The partner user dismissed the tier-change announcement (for every user of the partner)."""
    tier_changes_seen(partner=partner, now=timezone.now())
    return redirect("partners:dashboard")


@partner_required
def statement_list(request: HttpRequest, partner: Partner) -> HttpResponse:
    rows = selectors.statements_for(partner)
    return render(request, "partners/statements.html", {"partner": partner, "rows": rows})


def _statement(partner: Partner, period: str) -> selectors.StatementView:
    try:
        return selectors.statement_for(partner, period)
    except StatementNotFound as exc:
        raise Http404(str(exc.message)) from exc


@partner_required
def statement_detail(request: HttpRequest, partner: Partner, period: str) -> HttpResponse:
    view = _statement(partner, period)
    return render(request, "partners/statement.html", {"partner": partner, "view": view})


@partner_required
def statement_download(request: HttpRequest, partner: Partner, period: str) -> HttpResponse:
    view = _statement(partner, period)
    response = HttpResponse(statement_csv(partner=partner, view=view), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="statement-{partner.code}-{period}.csv"'
    response["Cache-Control"] = "private, no-store"
    return response


# --- Applying through a recruiting link (public) -------------------------------------------------------------------


class ApplicationForm(forms.Form):
    company = forms.CharField(label=gettext_lazy("Company"), max_length=120)
    kind = forms.ChoiceField(label=gettext_lazy("Kind"), choices=Partner.Kind.choices, initial=Partner.Kind.DEALER)
    contact_name = forms.CharField(
        label=gettext_lazy("Contact"), max_length=60, widget=forms.TextInput(attrs={"autocomplete": "name"})
    )
    contact_phone = forms.CharField(
        label=gettext_lazy("Phone"),
        max_length=20,
        widget=forms.TextInput(attrs={"type": "tel", "autocomplete": "tel", "inputmode": "tel"}),
    )
    contact_email = forms.EmailField(
        label=gettext_lazy("Email"),
        required=False,
        max_length=254,
        widget=forms.EmailInput(attrs={"autocomplete": "email"}),
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["company"].widget.attrs["autocomplete"] = "organization"


def _recruiter(code: str) -> Partner | None:
    normalized = code_normalize(code, max_length=12)
    if not normalized:
        return None
    return Partner.objects.filter(referral_code=normalized, is_active=True).only("company").first()


@rate_limit_page("partner_apply", by="ip")
def join(request: HttpRequest, code: str) -> HttpResponse:
    """The application form behind a partner's recruiting link. An unknown code still lets the company apply, with
    no recruiter (the page says so)."""
    recruiter = _recruiter(code)
    form = ApplicationForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            partner_application_submit(referral_code=code, **form.cleaned_data)
        except ValidationError as exc:
            errors_to_form(form, exc)
        else:
            return redirect("partners:applied")
    return render(request, "partners/join.html", {"form": form, "recruiter": recruiter, "code": code})


def applied(request: HttpRequest) -> HttpResponse:
    return render(request, "partners/applied.html")
