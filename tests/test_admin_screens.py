"""Operator screens a person can use on a 1,366 px laptop, in both languages: the prize editor laid out in rows
(no 16-column inline), pickers instead of raw ids, readable audit history, the translated admin header, styled
and translated error pages, the favicon, and the page <head> (meta description, lang)."""

from __future__ import annotations

import gzip
import json
from collections.abc import Callable

import pytest
from auditlog.models import LogEntry
from django.conf import settings
from django.contrib import admin
from django.contrib.admin.widgets import AutocompleteSelect
from django.http import HttpResponse
from django.test import Client, RequestFactory
from django.utils import timezone

from accounts.models import User
from campaigns.builders import campaign_live
from config import urls
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
        {"app_label": "campaigns", "model_name": "multipliercard", "field_name": "user", "term": "1"},
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


# --- Header, error pages, favicon, <head> ------------------------------------------------------------------


def test_the_admin_header_is_translated_in_the_zh_admin(operator: tuple[User, Client]) -> None:
    _user, client = operator
    assert "Points Mall · Operations" in client.get("/admin/").content.decode()
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "zh-hans"
    page = client.get("/admin/").content.decode()
    assert "积分商城 · 运营后台" in page
    assert "Points Mall · Operations" not in page


@pytest.mark.parametrize(
    ("language", "heading"), [("en", "You are not allowed to open this page"), ("zh-hans", "你无权打开此页面")]
)
@pytest.mark.parametrize("url", [ADJUST, "/admin/shipments/shipment/import/"])
def test_an_analyst_gets_the_styled_translated_403_page(
    analyst: tuple[User, Client], url: str, language: str, heading: str
) -> None:
    _user, client = analyst
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = language
    response = client.get(url)
    assert response.status_code == 403
    page = response.content.decode()
    assert 'data-testid="error-403"' in page
    assert heading in page
    assert "css/admin.css" in page  # the admin's look, with its header and a way back
    assert 'id="site-name"' in page
    assert "403 Forbidden" not in page


@pytest.mark.parametrize(("language", "heading"), [("en", "Page not found"), ("zh-hans", "页面不存在")])
def test_members_get_styled_translated_404_pages(client: Client, language: str, heading: str) -> None:
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = language
    response = client.get("/no-such-page/")
    assert response.status_code == 404
    page = response.content.decode()
    assert 'data-testid="error-404"' in page
    assert heading in page
    assert "css/app.css" in page


@pytest.mark.parametrize(("handler", "status"), [(urls.handler403, 403), (urls.handler404, 404)])
def test_error_pages_under_the_api_stay_json(handler: Callable[..., HttpResponse], status: int) -> None:
    response = handler(RequestFactory().get("/api/v1/anything/"), Exception())
    assert response.status_code == status
    assert response["Content-Type"].startswith("application/json")
    assert json.loads(response.content)["error"]["code"] in {"permission_denied", "not_found"}


def test_favicon_ico_is_served(client: Client) -> None:
    response = client.get("/favicon.ico")
    assert response.status_code == 200
    assert response["Content-Type"] == "image/x-icon"
    assert response.content[:4] == b"\x00\x00\x01\x00"  # an ICO file


@pytest.mark.parametrize(
    ("language", "lang", "description"),
    [
        (
            "en",
            'lang="en"',
            "Points Mall: join campaigns, check in, finish tasks, earn points and spin the prize wheel.",
        ),
        ("zh-hans", 'lang="zh-hans"', "积分商城：参加活动、签到、完成任务、赚取积分并转动幸运大转盘。"),
    ],
)
def test_pages_carry_a_translated_meta_description_and_lang(
    client: Client, language: str, lang: str, description: str
) -> None:
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = language
    page = client.get("/accounts/login/").content.decode()
    assert f"<html {lang}>" in page
    assert f'<meta name="description" content="{description}">' in page


def test_pages_are_gzipped_for_browsers_that_accept_it(client: Client) -> None:
    response = client.get("/accounts/login/", headers={"accept-encoding": "gzip"})
    assert response.status_code == 200
    assert response["Content-Encoding"] == "gzip"
    assert gzip.decompress(response.content).decode().startswith("<!doctype html>")
    assert "Accept-Encoding" in response["Vary"]
    assert "Content-Encoding" not in client.get("/accounts/login/")  # not asked for: plain
