"""The partner portal's pages: a partner user sees only their own partner (statements by month within it), the
dashboard's figures at band edges, the statement page and its CSV, the tier-change banner, and the public application
form behind a recruiting link."""

from __future__ import annotations

import csv
import io
from collections.abc import Callable
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import pytest
from django.test import Client
from django.utils import translation

from accounts.models import User
from partners import selectors
from partners.builders import tiers_build
from partners.models import PartnerApplication, RebateSchedule, TierChange
from partners.periods import month_start, programme
from partners.rebates import Band
from partners.sales import SaleLine, sale_book
from partners.statements import statement_pay
from partners.tiers import partner_tier_set
from tests.partners.portal_world import partner_with_login, sell, statement_for_month, this_month_start

pytestmark = pytest.mark.django_db

MAY = datetime(2026, 5, 20, 4, 0, tzinfo=UTC)  # noon in Shanghai, in May 2026


def signed_in(user: User, language: str = "en") -> Client:
    client = Client(headers={"Accept-Language": language})
    client.force_login(user, backend="accounts.backends.PhoneOrEmailBackend")
    return client


# --- Selectors ---------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("method", "net", "rate", "next_rate", "to_next", "rebate"),
    [
        # The builders' example bands: 0: 2 %, 50,000: 3.5 %, 200,000: 5 % (lower bounds inclusive).
        (RebateSchedule.Method.MARGINAL, "49999.99", "2", "3.5", "0.01", "1000.00"),
        (RebateSchedule.Method.MARGINAL, "50000.00", "3.5", "5", "150000.00", "1000.00"),
        (RebateSchedule.Method.MARGINAL, "50000.01", "3.5", "5", "149999.99", "1000.00"),
        (RebateSchedule.Method.MARGINAL, "260000.00", "5", None, None, "9250.00"),
        (RebateSchedule.Method.WHOLE, "49999.99", "2", "3.5", "0.01", "1000.00"),
        (RebateSchedule.Method.WHOLE, "50000.00", "3.5", "5", "150000.00", "1750.00"),
    ],
)
def test_dashboard_figures_at_band_edges(
    *, method: str, net: str, rate: str, next_rate: str | None, to_next: str | None, rebate: str
) -> None:
    tiers_build(method=method)
    login = partner_with_login("EDGE")
    sell(login.partner, net, sold_at=month_start("2026-05"))

    board = selectors.dashboard(login.partner, MAY)

    assert board.period == "2026-05"
    assert (board.sales, board.returns, board.net) == (Decimal(net), Decimal(0), Decimal(net))
    assert board.current_band.rate == Decimal(rate)
    assert (board.next_band.rate if board.next_band else None) == (Decimal(next_rate) if next_rate else None)
    assert board.to_next == (Decimal(to_next) if to_next else None)
    assert board.rebate == Decimal(rebate)
    assert board.bands == [
        Band(Decimal(0), Decimal(2)),
        Band(Decimal(50000), Decimal("3.5")),
        Band(Decimal(200000), Decimal(5)),
    ]


def test_the_progress_bar_runs_from_the_band_floor_to_the_next_band() -> None:
    login = partner_with_login("BAR")
    assert selectors.dashboard(login.partner, MAY).progress_percent == 0
    sell(login.partner, "25000.00", sold_at=month_start("2026-05"))
    assert selectors.dashboard(login.partner, MAY).progress_percent == 50
    sell(login.partner, "50000.00", sold_at=month_start("2026-05"))  # 75,000: a sixth of 50k → 200k
    assert selectors.dashboard(login.partner, MAY).progress_percent == 16
    sell(login.partner, "125000.00", sold_at=month_start("2026-05"))  # 200,000: the top band
    assert selectors.dashboard(login.partner, MAY).progress_percent == 100


def test_only_this_months_sales_count_and_returns_lower_them() -> None:
    login = partner_with_login("MONTH")
    sell(login.partner, "1000.00", sold_at=month_start("2026-04"))  # last month: not on May's dashboard
    sell(login.partner, "300.00", sold_at=month_start("2026-05"))
    original = login.partner.sales.get(amount=Decimal("300.00"))
    sale_book(
        partner=login.partner,
        line=SaleLine(
            external_id="R1",
            sold_at=month_start("2026-05"),
            quantity=-1,
            amount=Decimal("-100.00"),
            original_id=original.external_id,
        ),
        source="admin",
        now=MAY,
    )
    board = selectors.dashboard(login.partner, MAY)
    assert (board.sales, board.returns, board.net) == (Decimal("300.00"), Decimal("-100.00"), Decimal("200.00"))


def reward_recruiters(bonus: str = "88.00", share: str = "0") -> None:
    row = programme()
    row.referral_bonus, row.referral_share = Decimal(bonus), Decimal(share)
    row.save()


def test_the_dashboard_reads_in_a_few_queries(django_assert_max_num_queries: Callable[..., Any]) -> None:
    reward_recruiters()
    recruiter = partner_with_login("BOSS")
    for n in range(5):
        recruit = partner_with_login(f"R{n}", referred_by=recruiter.partner)
        sell(recruit.partner, "100.00", sold_at=month_start("2026-05"))  # first sales: recruiting rewards
    sell(recruiter.partner, "60000.00", sold_at=month_start("2026-05"))
    gold = tiers_build()[1]
    partner_tier_set(partner=recruiter.partner, tier=gold, actor_id=None, reason="promotion", now=MAY)
    partner = selectors.partner_for_user(recruiter.user)
    assert partner is not None
    with django_assert_max_num_queries(7), translation.override("zh-hans"):
        board = selectors.dashboard(partner, MAY)
    assert len(board.recruits) == 5
    assert board.recruits_total == 5
    assert len(board.rewards) == 5
    assert len(board.tier_changes) == 1
    assert board.tier.name == "金牌"


def test_the_pages_read_in_a_few_queries(django_assert_max_num_queries: Callable[..., Any]) -> None:
    login = partner_with_login("PAGES")
    for period in ("2026-01", "2026-02", "2026-03"):
        statement_for_month(login.partner, period, ["100.00", "200.00"])
    client = signed_in(login.user)
    client.get("/partner/")  # the session is warm
    for url, ceiling in (
        ("/partner/", 12),
        ("/partner/statements/", 6),
        ("/partner/statements/2026-02/", 7),
        ("/partner/statements/2026-02.csv", 7),
    ):
        with django_assert_max_num_queries(ceiling):
            assert client.get(url).status_code == 200, url


# --- Access ------------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("url", ["/partner/statements/2026-02/", "/partner/statements/2026-02.csv"])
def test_a_partner_user_reads_only_their_own_statements(url: str, make_user: Callable[..., User]) -> None:
    a = partner_with_login("AAA")
    b = partner_with_login("BBB")
    statement_for_month(a.partner, "2026-02", ["1000.00"])

    assert signed_in(a.user).get(url).status_code == 200
    assert signed_in(b.user).get(url).status_code == 404  # B has no statement for that month; A's is not B's
    assert signed_in(make_user()).get(url).status_code == 404  # a member who is no partner user
    anonymous = Client().get(url)
    assert anonymous.status_code == 302
    assert anonymous["Location"].startswith("/accounts/login/")


def test_another_partners_dashboard_and_list_show_only_their_own(make_user: Callable[..., User]) -> None:
    a = partner_with_login("AAA", company="甲方贸易")
    b = partner_with_login("BBB", company="乙方贸易")
    statement_for_month(a.partner, "2026-02", ["1000.00"])
    for url in ("/partner/", "/partner/statements/"):
        page = signed_in(b.user).get(url)
        assert page.status_code == 200
        assert "乙方贸易" in page.content.decode()
        assert "甲方贸易" not in page.content.decode()
        assert "2026-02" not in page.content.decode()
    assert signed_in(make_user()).get("/partner/").status_code == 404


@pytest.mark.parametrize("period", ["2026-13", "1999-01", "0000-00"])
def test_a_month_that_is_not_a_month_is_404(period: str) -> None:
    login = partner_with_login("AAA")
    assert signed_in(login.user).get(f"/partner/statements/{period}/").status_code == 404


# --- Dashboard page ------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("language", "texts"),
    [
        ("en", ["¥0.01 more reaches 3.5 %.", "Current band: 2 %", "Silver", "Agency discount: 5 %"]),
        ("zh-hans", ["银牌"]),
    ],
)
def test_the_dashboard_shows_band_progress_in_the_readers_language(language: str, texts: list[str]) -> None:
    login = partner_with_login("EDGE")
    sell(login.partner, "49999.99", sold_at=this_month_start())
    with translation.override(language):
        page = signed_in(login.user, language).get("/partner/")
    body = page.content.decode()
    assert page.status_code == 200
    assert f'lang="{language}"' in body
    for text in texts:
        assert text in body
    assert "¥49,999.99" in body
    assert 'value="99"' in body  # the progress bar
    assert f"/partner/join/{login.partner.referral_code}/" in body
    assert ("Silver" in body) is (language == "en")


def test_the_top_band_says_so() -> None:
    login = partner_with_login("TOP")
    sell(login.partner, "200000.00", sold_at=this_month_start())
    body = signed_in(login.user).get("/partner/").content.decode()
    assert "You have reached the top band." in body
    assert "more reaches" not in body


def test_recruits_and_their_rewards_show_on_the_recruiters_dashboard() -> None:
    reward_recruiters("80.00", "8")  # 80 + 8 % of the first sale (100.00)
    recruiter = partner_with_login("BOSS")
    recruit = partner_with_login("NEW", referred_by=recruiter.partner, company="新伙伴商贸")
    partner_with_login("IDLE", referred_by=recruiter.partner, company="未开单商贸")
    sell(recruit.partner, "100.00", sold_at=this_month_start())
    body = signed_in(recruiter.user).get("/partner/").content.decode()
    assert "新伙伴商贸" in body
    assert "未开单商贸" in body
    assert "¥88.00" in body
    assert "no reward yet" in body  # the idle recruit


def test_dismissing_the_tier_change_banner() -> None:
    a = partner_with_login("AAA")
    b = partner_with_login("BBB")
    gold = tiers_build()[1]
    partner_tier_set(partner=a.partner, tier=gold, actor_id=None, reason="strong year", now=MAY)
    partner_tier_set(partner=b.partner, tier=gold, actor_id=None, reason="strong year", now=MAY)
    client = signed_in(a.user)
    assert "Congratulations: you moved up from Silver to Gold." in client.get("/partner/").content.decode()

    # B's user dismisses B's banner only.
    assert signed_in(b.user).post("/partner/tier-changes/seen/").status_code == 302
    assert TierChange.objects.get(partner=a.partner).seen_at is None

    response = client.post("/partner/tier-changes/seen/")
    assert response.status_code == 302
    assert response["Location"] == "/partner/"
    assert TierChange.objects.get(partner=a.partner).seen_at is not None
    assert "tier-change-banner" not in client.get("/partner/").content.decode()
    assert client.get("/partner/tier-changes/seen/").status_code == 405  # a GET changes nothing


# --- Statements ----------------------------------------------------------------------------------------------------


def test_statement_statuses_paid_carried_unpaid(make_user: Callable[..., User]) -> None:
    login = partner_with_login("STAT")
    january = statement_for_month(login.partner, "2026-01", ["1000.00"])
    statement_pay(statement=january, actor_id=None, now=datetime(2026, 2, 10, tzinfo=UTC))
    statement_for_month(login.partner, "2026-02", ["2000.00"])
    statement_for_month(login.partner, "2026-03", ["3000.00"])
    rows = selectors.statements_for(login.partner)
    assert [(r.period, r.status) for r in rows] == [
        ("2026-03", "unpaid"),
        ("2026-02", "carried"),
        ("2026-01", "paid"),
    ]
    assert rows[0].closing == Decimal("100.00")  # 2,000 × 2 % + 3,000 × 2 %, nothing paid since January
    page = signed_in(login.user).get("/partner/statements/").content.decode()
    assert page.index("2026-03") < page.index("2026-02") < page.index("2026-01")
    assert "Carried into a later statement" in page
    detail = signed_in(login.user).get("/partner/statements/2026-01/").content.decode()
    assert "¥20.00 was paid on 2026-02-10." in detail
    assert "data-print" in detail


def test_the_statement_page_shows_every_figure() -> None:
    login = partner_with_login("FIG")
    statement_for_month(login.partner, "2026-02", ["30000.00", "30000.00"])
    body = signed_in(login.user).get("/partner/statements/2026-02/").content.decode()
    for text in (
        "¥60,000.00",
        "¥1,000.00",
        "¥10,000.00",
        "¥350.00",
        "¥1,350.00",
        "This balance is waiting to be paid.",
    ):
        assert text in body, text
    assert "statement-print" in body  # the Print button
    assert "css/partners.css" in body  # with its print stylesheet


def test_the_statement_csv_has_a_bom_and_the_statements_rows() -> None:
    login = partner_with_login("CSV", company="=HYPERLINK(1)")
    statement_for_month(login.partner, "2026-02", ["30000.00", "30000.00"])
    response = signed_in(login.user).get("/partner/statements/2026-02.csv")
    assert response.status_code == 200
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    assert response["Content-Disposition"] == 'attachment; filename="statement-CSV-2026-02.csv"'
    text = response.content.decode("utf-8")
    assert text.startswith("\ufeff")
    rows = list(csv.reader(io.StringIO(text[1:])))
    assert rows[0] == ["Partner", "'=HYPERLINK(1)", "CSV"]  # guarded against formula injection
    assert ["Month", "2026-02"] in rows
    assert ["Net sales (CNY)", "60000.00"] in rows
    assert ["0.00", "50000.00", "2.00", "50000.00", "1000.00"] in rows
    assert ["50000.00", "200000.00", "3.50", "10000.00", "350.00"] in rows
    assert ["Rebate (CNY)", "1350.00"] in rows
    assert ["Closing payable (CNY)", "1350.00"] in rows
    assert ["Status", "unpaid"] in rows


def test_the_statement_csv_in_chinese() -> None:
    login = partner_with_login("ZH")
    statement_for_month(login.partner, "2026-02", ["100.00"])
    text = signed_in(login.user, "zh-hans").get("/partner/statements/2026-02.csv").content.decode("utf-8")
    assert text.startswith("\ufeff")
    assert "银牌" in text


# --- Applying ------------------------------------------------------------------------------------------------------

GOOD = {
    "company": "好运来商贸有限公司",
    "kind": "agent",
    "contact_name": "王经理",
    "contact_phone": "13800001111",
    "contact_email": "wang@example.com",
}


def test_applying_through_a_recruiting_link() -> None:
    recruiter = partner_with_login("BOSS", company="招募者贸易")
    page = Client().get(f"/partner/join/{recruiter.partner.referral_code}/")
    assert "招募者贸易" in page.content.decode()
    response = Client().post(f"/partner/join/{recruiter.partner.referral_code.lower()}/", GOOD)
    assert response.status_code == 302
    assert response["Location"] == "/partner/applied/"
    application = PartnerApplication.objects.get()
    assert application.referred_by == recruiter.partner
    assert (application.company, application.kind, application.status) == (GOOD["company"], "agent", "pending")
    assert Client().get("/partner/applied/").status_code == 200


def test_an_unknown_code_still_lets_them_apply_without_a_recruiter() -> None:
    page = Client(headers={"Accept-Language": "en"}).get("/partner/join/NOSUCH99/")
    assert page.status_code == 200
    assert "You can still apply, without a recruiter." in page.content.decode()
    assert Client().post("/partner/join/NOSUCH99/", GOOD).status_code == 302
    assert PartnerApplication.objects.get().referred_by is None


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("company", ""),
        ("company", "   "),
        ("company", "公" * 121),
        ("company", "ACME\x07Ltd"),
        ("contact_name", "王\x00经理"),
        ("contact_name", "王\u202e经理"),
        ("contact_phone", "1" * 21),
        ("contact_phone", ""),
        ("contact_email", "not an email"),
        ("kind", "wholesaler"),
    ],
)
def test_bad_application_input_shows_form_errors_and_saves_nothing(field: str, value: str) -> None:
    response = Client(headers={"Accept-Language": "en"}).post("/partner/join/NOSUCH99/", {**GOOD, field: value})
    assert response.status_code == 200
    assert field in response.context["form"].errors
    assert f'data-field="{field}"' in response.content.decode()
    assert not PartnerApplication.objects.exists()


def test_the_application_form_is_rate_limited(settings: Any) -> None:
    settings.RATE_LIMITS = {**settings.RATE_LIMITS, "partner_apply": "2/min"}
    client = Client()
    for _ in range(2):
        assert client.post("/partner/join/NOSUCH99/", GOOD).status_code == 302
    refused = client.post("/partner/join/NOSUCH99/", GOOD)
    assert refused.status_code == 429
    assert PartnerApplication.objects.count() == 2
    assert client.get("/partner/join/NOSUCH99/").status_code == 200  # looking is not limited


# --- The way in ------------------------------------------------------------------------------------------------------


def test_the_profile_links_to_the_portal_for_partner_users_only(make_user: Callable[..., User]) -> None:
    login = partner_with_login("LINK")
    assert "/partner/" in signed_in(login.user).get("/accounts/profile/").content.decode()
    assert 'data-testid="profile-partner-link"' not in signed_in(make_user()).get("/accounts/profile/").content.decode()
