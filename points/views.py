"""Member page: "My points" — balance, pending points, next expiry and a readable history."""

from __future__ import annotations

from datetime import date

from django import forms
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse, QueryDict
from django.shortcuts import render
from django.utils.translation import gettext_lazy as _

from accounts.selectors import request_user_id
from points import selectors
from points.models import TransferKind

PAGE_SIZE = 20


class HistoryFilterForm(forms.Form):
    kind = forms.ChoiceField(label=_("Type"), required=False, choices=[("", _("All")), *TransferKind.choices])
    date_from = forms.DateField(label=_("From"), required=False, widget=forms.DateInput(attrs={"type": "date"}))
    date_to = forms.DateField(label=_("To"), required=False, widget=forms.DateInput(attrs={"type": "date"}))
    before = forms.IntegerField(required=False, min_value=1, max_value=2**63 - 1, widget=forms.HiddenInput)

    def clean_date_to(self) -> date | None:
        value = self.cleaned_data.get("date_to")
        # The last representable date has no "next day" to end the range at (it used to crash the page).
        if value is not None and value >= date.max:
            raise forms.ValidationError(self.fields["date_to"].error_messages["invalid"], code="invalid")
        return value

    def clean(self) -> dict:
        data = super().clean() or {}
        if data.get("date_from") and data.get("date_to") and data["date_from"] > data["date_to"]:
            self.add_error("date_to", _("The end date is before the start date."))
        return data


@login_required
def my_points(request: HttpRequest) -> HttpResponse:
    form = HistoryFilterForm(request.GET or None)
    filters = form.cleaned_data if form.is_valid() else {}
    history = selectors.history_for(
        user_id=request_user_id(request),
        kind=filters.get("kind") or None,
        date_from=filters.get("date_from"),
        date_to=filters.get("date_to"),
    )
    if filters.get("before"):
        history = history.filter(id__lt=filters["before"])
    entries = list(history[: PAGE_SIZE + 1])
    more = len(entries) > PAGE_SIZE
    entries = entries[:PAGE_SIZE]
    # The link carries the filters actually applied (an invalid filter is shown as an error and not applied,
    # so repeating it would only show the first page again).
    query = QueryDict(mutable=True)
    for name in ("kind", "date_from", "date_to"):
        if filters.get(name):
            query[name] = str(filters[name])
    if more:
        query["before"] = str(entries[-1].pk)
    return render(
        request,
        "points/my_points.html",
        {
            "balance": selectors.balance_for(user_id=request_user_id(request)),
            "entries": entries,
            "form": form,
            "next_query": query.urlencode() if more else None,
        },
    )
