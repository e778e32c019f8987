"""The partner programme's demo, built by `seed_demo` as of its `now` (no date here is fixed): the programme (a 500 CNY
recruiting reward plus 1 % of the recruit's first order), the three example tiers, three partners — a Gold dealer in
Hangzhou, a dealer it recruited and an agent — a portal login for the first, sales in each of the last three ended
months and in the current one (a partial return among them), the ended months' statements (the oldest month with
sales paid out), and two annual bonuses: an incentive trip (non-cash, at 1,000,000 CNY a year) and a cash bonus.

Everything goes through the programme's services with deterministic order ids and keys, and each step is skipped
when its result exists, so seeding again (later the same month) changes nothing."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal

from accounts.models import User
from accounts.services import user_create
from partners import services
from partners.builders import partner_build, tiers_build
from partners.models import BonusRule, Partner, Sale, Statement
from partners.periods import month_key, month_shift, month_start, months_between, programme, tz
from partners.sales import SaleLine, sale_book
from partners.statements import statement_issue, statement_pay


@dataclass(frozen=True)
class DemoLogin:
    email: str
    phone: str
    password: str
    name: str


PARTNER_LOGIN = DemoLogin("partner@demo.local", "+8613800000009", "demo-partner-2026", "Demo Partner")

# (code, company, kind, tier rank, months before the current one it joined, recruited by, contact, phone)
PARTNERS = (
    ("HZ001", "杭州云帆智能科技有限公司", "dealer", 2, 14, None, "林悦", "+86 571 8877 1200"),
    ("NB002", "宁波海曙家电商行", "dealer", 1, 4, "HZ001", "周杰", "+86 574 8711 2030"),
    ("SH003", "上海启明渠道代理", "agent", 1, 7, None, "陈思", "+86 21 6033 8899"),
)
# Per partner: (day of month, hour, product, quantity, unit price) sold in each month, the current one included.
LINES = {
    "HZ001": (
        (2, 10, "扫地机器人 X1", 12, "2599.00"),
        (11, 15, "空气净化器 P3", 20, "1299.00"),
        (20, 11, "洗地机 W2", 8, "3299.00"),
    ),
    "NB002": ((5, 14, "空气净化器 P3", 6, "1299.00"), (18, 16, "扫地机器人 X1", 4, "2599.00")),
    "SH003": ((8, 9, "洗地机 W2", 10, "3299.00"), (25, 17, "扫地机器人 X1", 3, "2599.00")),
}
BONUSES = (
    {
        "name": "年度旅游奖励",
        "name_en": "Incentive trip",
        "threshold": Decimal("1000000.00"),
        "reward": BonusRule.Reward.NON_CASH,
        "cash_amount": Decimal(0),
        "description": "年度净销售额达到 100 万元：两人海外旅游一次（机票、酒店、行程由品牌安排）。",
        "description_en": "Net sales of 1,000,000 CNY in a year: an overseas trip for two (flights, hotel and "
        "programme arranged by the brand).",
    },
    {
        "name": "年度现金奖励",
        "name_en": "Annual cash bonus",
        "threshold": Decimal("500000.00"),
        "reward": BonusRule.Reward.CASH,
        "cash_amount": Decimal("5000.00"),
        "description": "年度净销售额达到 50 万元：现金奖励 5,000 元，随 12 月对账单结算。",
        "description_en": "Net sales of 500,000 CNY in a year: 5,000 CNY, paid with the December statement.",
    },
)


def demo_programme() -> None:
    """The recruiting reward, set once (an operator's later change is kept)."""
    row = programme()
    if row.referral_bonus == 0 and row.referral_share == 0:
        row.referral_bonus, row.referral_share = Decimal("500.00"), Decimal("1.00")
        services.programme_save(programme=row)


def demo_bonus_rules() -> list[BonusRule]:
    rules = []
    for spec in BONUSES:
        rule = BonusRule.objects.filter(name=spec["name"]).first()
        rules.append(rule or services.bonus_rule_save(rule=BonusRule(**spec)))
    return rules


def demo_partner_list(*, now: datetime) -> list[Partner]:
    """The three partners (joined whole months before `now`'s month, so the monthly review sees tenure)."""
    zone = tz()
    tiers = {tier.rank: tier for tier in tiers_build()}
    current = month_key(now, zone)
    made: dict[str, Partner] = {}
    for code, company, kind, rank, months_ago, recruiter, contact, phone in PARTNERS:
        made[code] = partner_build(
            code=code,
            company=company,
            kind=kind,
            tier=tiers[rank],
            joined_at=month_start(month_shift(current, -months_ago), zone).date(),
            referred_by=made[recruiter] if recruiter else None,
            contact_name=contact,
            contact_phone=phone,
        )
    return list(made.values())


def demo_partner_login(partner: Partner) -> User:
    user = User.objects.filter(email=PARTNER_LOGIN.email).first()
    if user is None:
        user = user_create(
            email=PARTNER_LOGIN.email,
            phone=PARTNER_LOGIN.phone,
            password=PARTNER_LOGIN.password,
            display_name=PARTNER_LOGIN.name,
        )
    services.partner_login_add(partner=partner, user_id=user.pk)
    return user


def _book_month(partner: Partner, period: str, *, now: datetime) -> None:
    """The partner's demo sales of `period` that have happened by `now` (order ids and times fixed by the month)."""
    start = month_start(period, tz())
    for n, (day, hour, product, quantity, price) in enumerate(LINES[partner.code], start=1):
        sold_at = start + timedelta(days=day - 1, hours=hour)
        if sold_at > now or month_key(sold_at) != period:
            continue
        line = SaleLine(
            f"DEMO-{period}-{n}", sold_at, quantity, Decimal(price) * quantity, "CNY", product, original_id=""
        )
        sale_book(partner=partner, line=line, source=Sale.Source.ADMIN, now=sold_at)
    if partner.code == "HZ001":  # a customer returned two robots of the month's first order a few days later
        returned_at = start + timedelta(days=5, hours=10)
        if returned_at <= now and month_key(returned_at) == period:
            line = SaleLine(
                f"DEMO-{period}-R1", returned_at, -2, Decimal("-5198.00"), "CNY", "", original_id=f"DEMO-{period}-1"
            )
            sale_book(partner=partner, line=line, source=Sale.Source.ADMIN, now=returned_at)


def demo_partners(*, now: datetime) -> DemoLogin:
    """Everything above; returns the partner portal's demo login (seed_demo prints it)."""
    zone = tz()
    demo_programme()
    demo_bonus_rules()
    partners = demo_partner_list(now=now)
    demo_partner_login(partners[0])
    current = month_key(now, zone)
    sales_months = [month_shift(current, -3), month_shift(current, -2), month_shift(current, -1)]
    for period in sales_months:
        for partner in partners:
            if month_start(period, zone).date() >= partner.joined_at.replace(day=1):
                _book_month(partner, period, now=now)
    # Statements for every ended month since each partner joined, oldest first; the first month with demo sales is
    # paid as soon as it is issued (only a partner's latest statement can be paid).
    for partner in partners:
        for period in months_between(f"{partner.joined_at:%Y-%m}", month_shift(current, -1)):
            statement, _created = statement_issue(partner=partner, period=period, now=now)
            if period == sales_months[0] and statement.paid_at is None and statement.closing_fen > 0:
                latest = Statement.objects.filter(partner=partner).order_by("-period").first()
                if latest is not None and latest.pk == statement.pk:
                    statement_pay(statement=statement, actor_id=None, now=now)
    for partner in partners:
        _book_month(partner, current, now=now)
    return PARTNER_LOGIN
