"""Operator screens a person can use on a 1,366 px laptop, in both languages: the prize editor laid out in rows
(no 16-column inline), pickers instead of raw ids, readable audit history, the translated admin header, styled
and translated error pages, the favicon, and the page <head> (meta description, lang)."""

from __future__ import annotations

import pytest
from auditlog.models import LogEntry
from django.contrib import admin
from django.contrib.admin.widgets import AutocompleteSelect
from django.test import Client
from django.utils import timezone

from accounts.models import User
from campaigns.builders import campaign_live
from lottery import services as lottery_services
from lottery.admin import PrizeInline, WheelAdmin
from lottery.builders import prize_add, wheel_build
from lottery.models import Prize, PrizeKind, Wheel
from points.admin import AdjustForm

pytestmark = pytest.mark.django_db

ADJUST = "/admin/points/account/adjust/"


@pytest.fixture
def wheel() -> Wheel:
    return wheel_build(campaign=campaign_live(now=timezone.now()), cost_points=50)


# --- The prize editor ----------------------------------------------------------------------------------------


def test_the_wheel_page_stacks_each_prize_in_short_rows(wheel: Wheel, operator: tuple[User, Client]) -> None:
    assert PrizeInline in WheelAdmin.inlines
    assert issubclass(PrizeInline, admin.StackedInline)
    rows = [row for _name, options in PrizeInline.fieldsets for row in options["fields"]]
    assert max(len(row) if isinstance(row, tuple) else 1 for row in rows) <= 4  # no row wider than 4 fields
    laid_out = {name for row in rows for name in (row if isinstance(row, tuple) else (row,))}
    assert {"weight", "stock_total", "per_member_cap", "unit_value_cny", "code_pool", "image"} <= laid_out

    prize_add(wheel=wheel, kind=PrizeKind.PHYSICAL, name="华为手机", name_en="Phone", weight=10, stock=3)
    _user, client = operator
    page = client.get(f"/admin/lottery/wheel/{wheel.pk}/change/").content.decode()
    assert "tabular inline-related" not in page
    assert "stacked inline-related" in page or 'class="inline-related' in page
    assert "collapse" in page  # the fields only some kinds use are folded away


# --- The points adjustment form -------------------------------------------------------------------------------


def test_the_adjust_form_picks_members_and_campaigns_from_search(operator: tuple[User, Client]) -> None:
    form = AdjustForm()
    assert isinstance(form.fields["member"].widget, AutocompleteSelect)
    assert isinstance(form.fields["campaign"].widget, AutocompleteSelect)
    assert "campaign_id" not in form.fields

    _user, client = operator
    page = client.get(ADJUST).content.decode()
    assert "admin-autocomplete" in page
    assert "/admin/autocomplete/" in page
    assert 'name="campaign_id"' not in page
    # The picker's search answers the operator (the autocomplete view of the admin site).
    found = client.get(
        "/admin/autocomplete/",
        {"app_label": "campaigns", "model_name": "multipliercard", "field_name": "user", "term": _user.phone[-4:]},
    )
    assert found.status_code == 200
    assert "results" in found.json()


# --- Audit history ---------------------------------------------------------------------------------------------


def test_audit_history_shows_verbose_names_and_display_values(wheel: Wheel, operator: tuple[User, Client]) -> None:
    prize = prize_add(wheel=wheel, kind=PrizeKind.PHYSICAL, name="华为手机", name_en="Phone", weight=10, stock=3)
    lottery_services.prize_save(prize=Prize.objects.get(pk=prize.pk), data={"weight": 12})
    # The shape django-auditlog logs for a removed prize, with a reverse relation among the fields.
    LogEntry.objects.log_create(
        prize,
        action=LogEntry.Action.UPDATE,
        changes={
            "draws": ["None", "lottery.Draw.None"],
            "kind": ["physical", "points"],
            "wheel": ["None", str(wheel.pk)],
        },
        force_log=True,
    )
    _user, client = operator
    page = client.get(f"/admin/lottery/wheel/{wheel.pk}/change/").content.decode()
    history = page[page.index('id="audit-history"') :]
    assert "lottery.Draw.None" not in history
    assert "draws" not in history
    assert "None →" not in history
    assert "<strong>Weight</strong>: 10 → 12" in history
    assert "<strong>Kind</strong>: physical goods →" in history
    assert f"<strong>Wheel</strong>: — → {wheel}" in history
