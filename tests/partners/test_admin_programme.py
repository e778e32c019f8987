"""The partner programme in the admin: the sales CSV import (whole file or nothing, a row report), statements paid by
finance, bonuses fulfilled, schedules validated, partners created and moved between tiers, applications decided."""

from __future__ import annotations

import io
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

import pytest
from django.contrib.admin.helpers import ACTION_CHECKBOX_NAME
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from partners import kinds, services
from partners.builders import partner_build, tiers_build
from partners.models import (
    BonusObligation,
    BonusRule,
    Partner,
    PartnerApplication,
    PartnerTier,
    PartnerUser,
    RebateSchedule,
    Sale,
    SaleBatch,
    Statement,
    TierChange,
)
from partners.periods import month_key, month_shift, months_between
from partners.statements import statement_issue
from points.models import Transfer
from points.selectors import partner_payable
from tests.partners.programme import SH, at, book

pytestmark = pytest.mark.django_db

SALES = "/admin/partners/sale/"
IMPORT = "/admin/partners/sale/import/"
STATEMENTS = "/admin/partners/statement/"
HEADER = "partner,external_id,sold_at,quantity,amount,currency,product,original_id\n"


def shown(response: Any) -> str:
    return " ".join(str(m) for m in response.context["messages"])


def offered_actions(page: Any) -> list[str]:
    form = page.context["action_form"]
    return [] if form is None else [name for name, _label in form.fields["action"].choices]


@pytest.fixture
def partners() -> tuple[Partner, Partner]:
    tiers_build()
    joined = date(2026, 1, 1)
    return partner_build(code="DLR1", joined_at=joined), partner_build(code="DLR2", joined_at=joined)


def day(days_ago: int = 2) -> str:
    """A date a few days back in Shanghai, whatever today is."""
    return (timezone.now() - timedelta(days=days_ago)).astimezone(SH).date().isoformat()


def upload(client: Any, text: str, *, name: str = "sales.csv", encoding: str = "utf-8") -> Any:
    file = io.BytesIO(text.encode(encoding))
    file.name = name
    return client.post(IMPORT, {"file": file})


# --- The sales CSV import ---------------------------------------------------------------------------------------------


def test_a_good_file_books_every_row_in_one_batch(operator, partners):
    user, client = operator
    first, second = partners
    text = HEADER + (
        f"DLR1,SO-1,{day()},2,2598.00,CNY,扫地机器人,\n"
        f"DLR2,SO-1,{day()},1,99.50,,滤网,\n"  # the same order id at another partner; currency defaults to CNY
        f"DLR1,RT-1,{day(1)},-1,-1299.00,CNY,,SO-1\n"
    )
    response = upload(client, text)
    assert response.status_code == 200
    report = response.context["report"]
    assert (report.ok, report.booked, report.replayed) == (True, 3, 0)
    batch = SaleBatch.objects.get()
    assert (batch.file_name, batch.rows, batch.imported_by) == ("sales.csv", 3, user)
    assert Sale.objects.filter(batch=batch, source=Sale.Source.CSV).count() == 3
    original = Sale.objects.get(partner=first, external_id="SO-1")
    assert (original.returned_amount, original.returned_quantity) == (Decimal("1299.00"), 1)
    assert Sale.objects.get(partner=second).amount == Decimal("99.50")
    assert "Booked 3 sale line(s)" in shown(response)
    again = upload(client, text)  # the same file again books nothing twice
    assert (again.context["report"].booked, again.context["report"].replayed) == (0, 3)
    assert Sale.objects.count() == 3


def test_a_gbk_file_from_excel_is_read(operator, partners):
    _user, client = operator
    response = upload(client, HEADER + f"DLR1,SO-1,{day()},1,10.00,CNY,空气炸锅,\n", encoding="gbk")
    assert response.context["report"].booked == 1
    assert Sale.objects.get().product == "空气炸锅"


def test_a_file_with_bad_rows_books_nothing_and_reports_each_with_its_line(operator, partners):
    _user, client = operator
    text = HEADER + (
        f"DLR1,SO-1,{day()},1,100.00,CNY,,\n"  # line 2: good
        f"DLR1,SO-1,{day()},1,100.00,CNY,,\n"  # line 3: the same order id again in the file
        f"NOPE,SO-3,{day()},1,100.00,CNY,,\n"  # line 4: unknown partner
        f"DLR1,SO-4,{day()},0,100.00,CNY,,\n"  # line 5: zero quantity
        f"DLR1,SO-5,{day()},-1,-100.00,CNY,,\n"  # line 6: negative without its original
        f"DLR1,SO-6,{day()},1,100.00,USD,,\n"  # line 7: currency
        f"DLR2,SO-7,{day()},1,50.00,CNY,,\n"  # line 8: good
    )
    response = upload(client, text)
    report = response.context["report"]
    assert not report.ok
    assert [(p.line, p.external_id, p.code) for p in report.problems] == [
        (3, "SO-1", "sale_invalid"),
        (4, "SO-3", "partner_not_found"),
        (5, "SO-4", "sale_invalid"),
        (6, "SO-5", "sale_invalid"),
        (7, "SO-6", "currency_mismatch"),
    ]
    page = response.content.decode()
    assert "Nothing was booked" in page
    assert "currency_mismatch" in page
    assert "partner_not_found" in page
    assert not Sale.objects.exists()
    assert not SaleBatch.objects.exists()


def test_a_return_larger_than_its_sale_rolls_the_whole_file_back(operator, partners):
    _user, client = operator
    text = HEADER + (
        f"DLR1,RT-1,{day(1)},-1,-150.00,CNY,,SO-1\n"  # line 2: returns more than SO-1's 100.00
        f"DLR1,SO-1,{day()},1,100.00,CNY,,\n"
        f"DLR2,SO-2,{day()},1,100.00,CNY,,\n"
    )
    report = upload(client, text).context["report"]
    assert [(p.line, p.external_id, p.code) for p in report.problems] == [(2, "RT-1", "return_exceeds_sale")]
    assert (report.booked, report.replayed) == (0, 0)
    assert not Sale.objects.exists()
    assert not SaleBatch.objects.exists()


def test_a_file_without_the_required_columns_is_refused_on_the_form(operator, partners):
    _user, client = operator
    response = upload(client, "partner,external_id\nDLR1,SO-1\n")
    assert response.context["report"] is None
    assert "sold_at" in str(response.context["form"].errors["file"])
    assert not Sale.objects.exists()


def test_the_template_downloads_with_the_columns_the_import_reads(operator, partners):
    _user, client = operator
    response = client.get(f"{IMPORT}template.csv")
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/csv")
    text = response.content.decode("utf-8-sig")
    assert text.startswith(HEADER.strip())
    booked = upload(client, text.replace("P001", "DLR1")).context["report"]  # the template itself imports
    assert (booked.ok, booked.booked) == (True, 2)


def test_the_sale_list_offers_import_to_operators_only(staff, partners):
    _user, client = staff("operator")
    assert "import-sales" in client.get(SALES).content.decode()
    for group in ("analyst", "finance"):
        _user, other = staff(group)
        page = other.get(SALES)
        assert page.status_code == 200
        assert "import-sales" not in page.content.decode()


@pytest.mark.parametrize("group", ["analyst", "finance"])
def test_analysts_and_finance_cannot_import(staff, partners, group):
    _user, client = staff(group)
    assert client.get(IMPORT).status_code == 403
    response = upload(client, HEADER + f"DLR1,SO-1,{day()},1,100.00,CNY,,\n")
    assert response.status_code == 403
    assert not Sale.objects.exists()


def test_the_sale_list_filters_by_month_and_finds_an_order_id(operator, partners):
    _user, client = operator
    first, _second = partners
    book(first, "SO-MARCH", "100.00", sold_at=at(2026, 3, 10))
    book(first, "SO-APRIL", "100.00", sold_at=at(2026, 4, 10))
    march = client.get(SALES, {"period": "2026-03"})
    assert [s.external_id for s in march.context["cl"].result_list] == ["SO-MARCH"]
    found = client.get(SALES, {"q": "SO-APRIL"})
    assert [s.external_id for s in found.context["cl"].result_list] == ["SO-APRIL"]


# --- Statements: paying, issuing ------------------------------------------------------------------------------------


@pytest.fixture
def march_statement(partners) -> Statement:
    first, _second = partners
    book(first, "SO-1", "10000.00", sold_at=at(2026, 3, 10))
    statement, _created = statement_issue(partner=first, period="2026-03", now=at(2026, 4, 2))
    assert statement.closing_fen == 20000  # 2 % of 10,000.00
    return statement


def pay(client: Any, statement: Statement) -> Any:
    return client.post(STATEMENTS, {"action": "mark_paid", ACTION_CHECKBOX_NAME: [str(statement.pk)]}, follow=True)


def test_finance_marks_a_statement_paid_with_one_ledger_transfer(staff, march_statement):
    user, client = staff("finance")
    assert "mark_paid" in offered_actions(client.get(STATEMENTS))
    before = Transfer.objects.count()
    response = pay(client, march_statement)
    assert "200.00 CNY paid" in shown(response)
    march_statement.refresh_from_db()
    assert (march_statement.payout_fen, march_statement.paid_by) == (20000, user)
    assert march_statement.paid_at is not None
    assert Transfer.objects.count() == before + 1
    payout = Transfer.objects.get(pk=march_statement.payout_transfer_id)
    assert (payout.kind, payout.amount, payout.actor_id) == (kinds.PAYOUT, 20000, user.pk)
    assert partner_payable(partner_id=march_statement.partner_id)[1] == 0
    again = pay(client, march_statement)  # paying again posts nothing
    assert "already paid" in shown(again)
    assert Transfer.objects.count() == before + 1


@pytest.mark.parametrize("group", ["operator", "analyst"])
def test_operators_and_analysts_cannot_pay(staff, march_statement, group):
    _user, client = staff(group)
    assert "mark_paid" not in offered_actions(client.get(STATEMENTS))
    before = Transfer.objects.count()
    pay(client, march_statement)
    march_statement.refresh_from_db()
    assert march_statement.paid_at is None
    assert Transfer.objects.count() == before


def test_paying_a_superseded_statement_is_refused_with_a_message(staff, march_statement):
    _user, client = staff("finance")
    statement_issue(partner=march_statement.partner, period="2026-04", now=at(2026, 5, 2))
    before = Transfer.objects.count()
    response = pay(client, march_statement)
    assert "pay the latest statement" in shown(response)
    assert Transfer.objects.count() == before


def test_the_statement_page_shows_the_bands_in_yuan(staff, march_statement):
    _user, client = staff("analyst")
    page = client.get(f"{STATEMENTS}{march_statement.pk}/change/")
    assert page.status_code == 200
    text = page.content.decode()
    assert "<table>" in text
    assert "10,000.00" in text
    assert "200.00" in text


def test_finance_issues_due_statements_now_and_a_second_run_issues_none(staff, partners):
    _user, client = staff("finance")
    assert "issue-statements" in client.get(STATEMENTS).content.decode()
    assert client.get(f"{STATEMENTS}issue/").status_code == 200
    response = client.post(f"{STATEMENTS}issue/", follow=True)
    months = months_between("2026-01", month_shift(month_key(timezone.now()), -1))
    assert Statement.objects.count() == 2 * len(months)
    assert f"{2 * len(months)} statements issued" in shown(response)
    client.post(f"{STATEMENTS}issue/")
    assert Statement.objects.count() == 2 * len(months)
    _user, analyst = staff("analyst")
    assert analyst.post(f"{STATEMENTS}issue/").status_code == 403


# --- Annual bonuses owed --------------------------------------------------------------------------------------------


def test_a_non_cash_bonus_is_marked_fulfilled_with_a_note(staff, partners):
    first, _second = partners
    rule = services.bonus_rule_save(
        rule=BonusRule(name="年度旅游奖励", name_en="Incentive trip", threshold=Decimal(5000), reward="non_cash")
    )
    book(first, "SO-1", "6000.00", sold_at=at(2026, 12, 10))
    statement_issue(partner=first, period="2026-12", now=at(2027, 1, 2))
    obligation = BonusObligation.objects.get()
    assert (obligation.rule, obligation.status) == (rule, BonusObligation.Status.PENDING)
    url = "/admin/partners/bonusobligation/"
    _user, analyst = staff("analyst")
    analyst.post(url, {"action": "mark_fulfilled", ACTION_CHECKBOX_NAME: [obligation.pk], "note": "x"})
    obligation.refresh_from_db()
    assert obligation.status == BonusObligation.Status.PENDING
    user, client = staff("finance")
    asked = client.post(url, {"action": "mark_fulfilled", ACTION_CHECKBOX_NAME: [obligation.pk]})
    assert "note" in asked.context["form"].fields  # the note is asked first
    client.post(url, {"action": "mark_fulfilled", ACTION_CHECKBOX_NAME: [obligation.pk], "note": "三亚 5 天，已出行"})
    obligation.refresh_from_db()
    assert (obligation.status, obligation.fulfilled_by, obligation.note) == ("fulfilled", user, "三亚 5 天，已出行")


# --- Schedules, tiers, partners, applications -----------------------------------------------------------------------


def schedule_form(name: str, bands: list[tuple[str, str]], method: str = "marginal") -> dict[str, Any]:
    data: dict[str, Any] = {
        "name": name,
        "method": method,
        "bands-TOTAL_FORMS": str(len(bands)),
        "bands-INITIAL_FORMS": "0",
        "bands-MIN_NUM_FORMS": "0",
        "bands-MAX_NUM_FORMS": "1000",
    }
    for i, (lower, rate) in enumerate(bands):
        data[f"bands-{i}-lower"] = lower
        data[f"bands-{i}-rate"] = rate
    return data


@pytest.mark.parametrize(
    ("bands", "message"),
    [
        ([("100", "2")], "The first band must start at 0 CNY."),
        ([("0", "2"), ("50000", "3"), ("50000", "4")], "Two bands start at the same amount"),
        ([], "Add at least one band."),
    ],
)
def test_a_schedule_with_bad_bands_is_refused_in_words(operator, bands, message):
    _user, client = operator
    response = client.post("/admin/partners/rebateschedule/add/", schedule_form("Bad", bands))
    assert response.status_code == 200
    assert message in response.content.decode()
    assert not RebateSchedule.objects.filter(name="Bad").exists()


def test_a_schedule_is_saved_with_its_bands_and_changed_whole(operator):
    _user, client = operator
    response = client.post(
        "/admin/partners/rebateschedule/add/", schedule_form("Spring", [("50000", "3.5"), ("0", "2")], "whole")
    )
    assert response.status_code == 302
    schedule = RebateSchedule.objects.get(name="Spring")
    assert schedule.method == "whole"
    assert [(b.lower, b.rate) for b in schedule.bands.all()] == [(0, 2), (50000, Decimal("3.5"))]
    change = schedule_form("Spring", [("0", "1")])
    client.post(f"/admin/partners/rebateschedule/{schedule.pk}/change/", change)
    assert [(b.lower, b.rate) for b in schedule.bands.all()] == [(0, 1)]


def test_operators_create_a_partner_and_change_its_tier_with_a_reason(operator):
    user, client = operator
    silver, gold, _diamond = tiers_build()
    recruiter = partner_build(code="REC1")
    response = client.post(
        "/admin/partners/partner/add/",
        {
            "code": "new-1",
            "company": "杭州新星贸易",
            "kind": "agent",
            "tier": silver.pk,
            "joined_at": "2026-02-01",
            "referred_by": recruiter.pk,
            "logins-TOTAL_FORMS": "0",
            "logins-INITIAL_FORMS": "0",
        },
    )
    assert response.status_code == 302, response.content.decode()[:2000]
    partner = Partner.objects.get(code="NEW-1")
    assert (partner.kind, partner.tier, partner.referred_by) == ("agent", silver, recruiter)
    assert len(partner.referral_code) == 8
    tier_url = f"/admin/partners/partner/{partner.pk}/tier/"
    refused = client.post(tier_url, {"tier": gold.pk, "reason": ""})
    assert "reason" in refused.context["form"].errors
    client.post(tier_url, {"tier": gold.pk, "reason": "年度战略合作"})
    partner.refresh_from_db()
    assert partner.tier == gold
    change = TierChange.objects.get(partner=partner)
    assert (change.from_tier, change.to_tier, change.actor, change.reason) == (silver, gold, user, "年度战略合作")


def test_an_operator_adds_a_member_as_a_partner_login_but_never_a_staff_user(operator, make_user, partners):
    staff_user, client = operator
    first, _second = partners
    member = make_user(phone="+8613912345678")
    url = f"/admin/partners/partner/{first.pk}/login/"
    client.post(url, {"identifier": "139 1234 5678"})
    assert PartnerUser.objects.get().user == member
    refused = client.post(url, {"identifier": staff_user.email})
    assert "Staff accounts cannot sign in as a partner." in str(refused.context["form"].errors)
    assert PartnerUser.objects.count() == 1


def test_the_partner_list_shows_payables_without_a_query_per_partner(operator, partners, march_statement):
    _user, client = operator
    page = client.get("/admin/partners/partner/")
    assert "200.00" in page.content.decode()
    with CaptureQueriesContext(connection) as few:
        client.get("/admin/partners/partner/")
    for n in range(5):
        partner_build(code=f"MORE{n}")
    with CaptureQueriesContext(connection) as many:
        client.get("/admin/partners/partner/")
    assert len(many) == len(few)


def test_an_application_is_approved_with_code_tier_and_date_or_rejected(operator, partners):
    _user, client = operator
    recruiter, _second = partners
    gold = PartnerTier.objects.get(rank=2)
    application = services.partner_application_submit(
        company="宁波远航",
        contact_name="周杰",
        contact_phone="13800001111",
        contact_email="",
        kind="dealer",
        referral_code=recruiter.referral_code,
    )
    url = "/admin/partners/partnerapplication/"
    asked = client.post(url, {"action": "approve_application", ACTION_CHECKBOX_NAME: [application.pk]})
    assert set(asked.context["form"].fields) == {"code", "tier", "joined_at"}
    client.post(
        url,
        {
            "action": "approve_application",
            ACTION_CHECKBOX_NAME: [application.pk],
            "code": "NB01",
            "tier": gold.pk,
            "joined_at": "2026-05-01",
        },
    )
    application.refresh_from_db()
    partner = Partner.objects.get(code="NB01")
    assert (application.status, application.partner, partner.referred_by, partner.tier) == (
        "approved",
        partner,
        recruiter,
        gold,
    )
    other = services.partner_application_submit(
        company="X", contact_name="Y", contact_phone="1", contact_email="", kind="agent", referral_code=""
    )
    client.post(url, {"action": "reject_selected", ACTION_CHECKBOX_NAME: [other.pk]})
    other.refresh_from_db()
    assert other.status == PartnerApplication.Status.REJECTED


def test_finance_cannot_decide_applications(staff, partners):
    _user, client = staff("finance")
    application = services.partner_application_submit(
        company="X", contact_name="Y", contact_phone="1", contact_email="", kind="agent", referral_code=""
    )
    client.post(
        "/admin/partners/partnerapplication/",
        {"action": "reject_selected", ACTION_CHECKBOX_NAME: [application.pk]},
    )
    application.refresh_from_db()
    assert application.status == PartnerApplication.Status.PENDING


def test_an_api_key_is_issued_to_report_one_partners_sales(operator, partners):
    _user, client = operator
    first, _second = partners
    client.post("/admin/partners/apikey/add/", {"name": "DLR1 ERP", "reports_sales": "on", "partner": first.pk})
    key = services.ApiKey.objects.get()
    assert (key.reports_sales, key.partner) == (True, first)
    client.post(f"/admin/partners/apikey/{key.pk}/change/", {"name": "DLR1 ERP", "partner": ""})
    key.refresh_from_db()
    assert (key.reports_sales, key.partner) == (False, None)


def test_every_partner_admin_page_opens_on_the_demo_data(staff):
    """The demo (seed_demo) fills every partner table; each list and each object's page opens for each group."""
    from django.contrib import admin
    from django.core.management import call_command

    call_command("seed_demo", f"--now={timezone.now().isoformat()}", stdout=io.StringIO())
    models = [m for m in admin.site._registry if m._meta.app_label == "partners" and m.__name__ != "ApiKey"]
    assert len(models) == 12  # programme, schedules, tiers, bonuses, partners, applications, sales, imports,
    # statements, bonuses owed, recruiting rewards, tier changes
    for group in ("operator", "analyst", "finance"):
        _user, client = staff(group)
        for model in models:
            base = f"/admin/partners/{model._meta.model_name}/"
            assert client.get(base).status_code == 200, (group, base)
            obj = model._default_manager.order_by("pk").first()
            if obj is None:
                continue
            page = client.get(f"{base}{obj.pk}/change/")
            assert page.status_code == 200, (group, base, obj.pk)
    _user, client = staff("operator")
    hz = Partner.objects.get(code="HZ001")
    page = client.get(f"/admin/partners/partner/{hz.pk}/change/").content.decode()
    assert "partner@demo.local" in page or "Demo Partner" in page  # the portal login, listed
    for url in (f"/admin/partners/partner/{hz.pk}/tier/", f"/admin/partners/partner/{hz.pk}/login/"):
        assert client.get(url).status_code == 200
