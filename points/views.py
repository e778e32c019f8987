"""Member page: "My points" — balance, pending points, next expiry, panels other apps register (points.panels)
and a readable history."""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse, QueryDict
from django.shortcuts import render
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from accounts.selectors import request_user_id
from config.forms import errors_to_form
from points import kinds, panels, selectors

PAGE_SIZE = 20


def _kind_choices() -> list[tuple[str, Any]]:
    return [("", _("All")), *kinds.choices()]


class HistoryFilterForm(forms.Form):
    kind = forms.ChoiceField(label=_("Type"), required=False, choices=_kind_choices)
    date_from = forms.DateField(label=_("From"), required=False, widget=forms.DateInput(attrs={"type": "date"}))
    date_to = forms.DateField(label=_("To"), required=False, widget=forms.DateInput(attrs={"type": "date"}))
    before = forms.IntegerField(required=False, min_value=1, max_value=2**63 - 1, widget=forms.HiddenInput)

    def clean(self) -> dict:
        data = super().clean() or {}
        try:
            selectors.history_dates_validate(date_from=data.get("date_from"), date_to=data.get("date_to"))
        except ValidationError as exc:
            errors_to_form(self, exc)
        return data


@login_required
def my_points(request: HttpRequest) -> HttpResponse:
    user_id = request_user_id(request)
    form = HistoryFilterForm(request.GET or None)
    filters = form.cleaned_data if form.is_valid() else {}
    page = selectors.history_page(
        user_id=user_id,
        before=filters.get("before"),
        size=PAGE_SIZE,
        kind=filters.get("kind") or None,
        date_from=filters.get("date_from"),
        date_to=filters.get("date_to"),
    )
    # The link carries the filters actually applied (an invalid filter is shown as an error and not applied,
    # so repeating it would only show the first page again).
    query = QueryDict(mutable=True)
    for name in ("kind", "date_from", "date_to"):
        if filters.get(name):
            query[name] = str(filters[name])
    if page.next_before:
        query["before"] = str(page.next_before)
    return render(
        request,
        "points/my_points.html",
        {
            "balance": selectors.balance_for(user_id=user_id),
            "panels": panels.panels_for(user_id=user_id, now=timezone.now()),
            "entries": page.entries,
            "form": form,
            "next_query": query.urlencode() if page.next_before else None,
        },
    )
