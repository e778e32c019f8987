"""`seed_demo` seeds as of an injected instant (`--now`): nothing here reads the clock."""

import io
from datetime import datetime, timedelta
from decimal import Decimal
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from PIL import Image

from accounts.models import Address, User
from accounts.services import user_create
from campaigns import selectors as campaign_selectors
from campaigns.builders import member_fund
from campaigns.models import Campaign, Phase
from lottery.models import Prize
from mall import rules
from mall import selectors as mall_selectors
from mall.demo import PRODUCTS, drop_starts_at
from mall.demo_images import BOLD_FONT, STYLES, product_card
from mall.errors import NotAvailable, OutOfStock
from mall.models import Category, Code, CodePool, CodeReveal, Order, Product, Supplier
from mall.orders import order_place
from partners.models import BonusRule, Partner, PartnerUser, ReferralReward, Sale, Statement
from partners.periods import month_key, month_shift
from points import selectors, services
from points.models import ExpiryPolicy, Hold, Transfer
from shipments.models import Shipment

SHANGHAI = ZoneInfo("Asia/Shanghai")
MIDYEAR = datetime(2026, 6, 15, 10, 0, tzinfo=SHANGHAI)
YEAR_END = datetime(2026, 12, 31, 23, 30, tzinfo=SHANGHAI)
LEAP_DAY = datetime(2028, 2, 29, 12, 0, tzinfo=SHANGHAI)


# What a run of seed_demo creates; a second run must leave every count as it was.
SEEDED = (User, Transfer, Campaign, Prize, Supplier, Category, Product, CodePool, Code, Order, CodeReveal, Shipment,
          Address, Partner, PartnerUser, Sale, Statement, BonusRule, ReferralReward)  # fmt: skip


@pytest.fixture(autouse=True)
def media_root(settings, tmp_path):
    """Product pictures go to a temporary MEDIA_ROOT."""
    settings.MEDIA_ROOT = str(tmp_path / "media")


def seed(now: datetime) -> None:
    call_command("seed_demo", f"--now={now.isoformat()}")


def counts() -> dict[str, int]:
    return {model.__name__: model.objects.count() for model in SEEDED}


@pytest.mark.django_db
def test_seed_demo_is_idempotent_and_gives_the_demo_member_a_history(capsys):
    seed(MIDYEAR)
    first = counts()
    seed(MIDYEAR + timedelta(hours=5))  # a second run, later the same day, posts nothing new
    assert counts() == first
    out = capsys.readouterr().out
    assert "member@demo.local" in out
    assert "demo-member-2026" in out
    member = User.objects.get(email="member@demo.local")
    assert member.check_password("demo-member-2026")
    assert User.objects.get(email="operator@demo.local").groups.filter(name="operator").exists()
    # Four entries outside any campaign, then the carnival bonus (5000), a movie ticket (900) and a book (1800:
    # held, then captured when it shipped).
    assert Transfer.objects.filter(asset_id="PTS").count() == 8  # (the partner demo's rebates are CNY)
    balance = selectors.balance_for(user_id=member.pk, now=MIDYEAR)
    assert (balance.spendable, balance.pending) == (460 + 5000 - 900 - 1800, 200)
    assert balance.expiring_soon == 0  # the 80-point lot expiring in 10 days was spent first: it expired soonest
    assert balance.next_expiry_at == datetime(2027, 1, 1, tzinfo=SHANGHAI)  # welcome gift and bonus: end of year
    assert balance.next_available_at == MIDYEAR + timedelta(days=6)
    # "My points" lists the history newest entry first: that is also newest date first.
    entries = selectors.history_page(user_id=member.pk).entries
    dates = [t.created_at for t in entries]
    assert len(dates) == 7  # the book's capture settles its hold: one entry
    assert dates == sorted(dates, reverse=True)
    assert all(date <= MIDYEAR for date in dates)
    services.ledger_rollup()
    assert services.ledger_reconcile().ok


@pytest.mark.django_db
def test_seeded_at_half_past_eleven_on_new_years_eve_the_welcome_gift_expires_at_midnight():
    seed(YEAR_END)
    member = User.objects.get(email="member@demo.local")
    balance = selectors.balance_for(user_id=member.pk, now=YEAR_END)
    # The 120-point spend (29 Dec) took the lot expiring soonest: the welcome gift, which ends with the year. The
    # carnival bonus of the same evening ends with the year too (the carnival's expiry rule); the mall orders spent
    # 2700 of those two; the 80 points expiring on 10 January are left.
    assert (balance.spendable, balance.pending, balance.expiring_soon) == (2760, 200, 2760)
    assert (balance.next_expiry_at, balance.next_expiry_amount) == (datetime(2027, 1, 1, tzinfo=SHANGHAI), 2680)
    after_midnight = selectors.balance_for(user_id=member.pk, now=datetime(2027, 1, 1, 0, 0, 1, tzinfo=SHANGHAI))
    assert (after_midnight.spendable, after_midnight.expiring_soon) == (80, 80)
    carnival = Campaign.objects.get(slug="carnival")
    assert carnival.phase_at(YEAR_END) == Phase.OFFICIAL
    assert carnival.phase_at(datetime(2027, 1, 25, 23, 30, tzinfo=SHANGHAI)) == Phase.FOLLOWUP


@pytest.mark.django_db
def test_seeded_on_leap_day_the_history_and_the_campaign_are_dated_from_29_february():
    from tasks.checkins import checkin_create

    seed(LEAP_DAY)
    member = User.objects.get(email="member@demo.local")
    balance = selectors.balance_for(user_id=member.pk, now=LEAP_DAY)
    assert (balance.spendable, balance.pending, balance.expiring_soon) == (2760, 200, 0)
    assert balance.next_expiry_at == datetime(2029, 1, 1, tzinfo=SHANGHAI)
    assert balance.next_available_at == datetime(2028, 3, 6, 12, 0, tzinfo=SHANGHAI)
    carnival = Campaign.objects.get(slug="carnival")
    assert carnival.official_starts_at == datetime(2028, 2, 26, 12, 0, tzinfo=SHANGHAI)
    assert carnival.followup_starts_at == datetime(2028, 3, 25, 12, 0, tzinfo=SHANGHAI)
    checkin = checkin_create(campaign=carnival, user_id=member.pk, now=LEAP_DAY)
    assert checkin.local_date.isoformat() == "2028-02-29"
    assert selectors.balance_for(user_id=member.pk, now=LEAP_DAY).spendable == 2765  # the rule's 5 base points


def test_seed_demo_refuses_a_time_without_its_offset():
    with pytest.raises(CommandError, match="offset"):
        call_command("seed_demo", "--now=2026-12-31T23:30:00")


@pytest.mark.django_db
def test_seed_demo_creates_one_featured_carnival_in_its_official_phase():
    seed(MIDYEAR)
    first = Campaign.objects.get(slug="carnival")
    seed(MIDYEAR + timedelta(days=2))
    assert Campaign.objects.count() == 1
    carnival = Campaign.objects.get(slug="carnival")
    assert carnival.official_starts_at == first.official_starts_at  # a second run moves nothing
    assert (carnival.name, carnival.name_en) == ("积分狂欢，好礼不停", "Points Carnival")
    assert carnival.rules
    assert carnival.rules_en
    assert carnival.phase_at(MIDYEAR) == Phase.OFFICIAL
    assert carnival.warmup_starts_at == MIDYEAR - timedelta(days=7)
    assert carnival.official_starts_at == MIDYEAR - timedelta(days=3)
    assert carnival.ends_at == MIDYEAR + timedelta(days=35)
    assert campaign_selectors.campaign_featured(now=MIDYEAR) == carnival
    policy = ExpiryPolicy.objects.get(campaign_id=carnival.pk)
    assert policy.rule == "year_end"


@pytest.mark.django_db
def test_seed_demo_gives_the_carnival_check_ins_and_a_task_ladder():
    from tasks.models import CheckInRule, TaskDefinition

    seed(MIDYEAR)
    seed(MIDYEAR)
    rule = CheckInRule.objects.get(campaign__slug="carnival")
    assert rule.base_points == 5
    assert [m["day"] for m in rule.milestones] == [3, 7, 30]
    tasks = list(TaskDefinition.objects.filter(campaign__slug="carnival").order_by("id"))
    assert [t.tier for t in tasks] == ["beginner", "intermediate", "advanced"]
    assert tasks[1].prerequisite == tasks[0]
    assert tasks[2].prerequisite == tasks[1]


@pytest.mark.django_db
def test_seed_demo_gives_the_carnival_a_prize_wheel_members_can_spin():
    from lottery.models import Prize, Wheel
    from lottery.services import spin_perform

    seed(YEAR_END)
    seed(YEAR_END)
    wheel = Wheel.objects.get(campaign__slug="carnival")
    prizes = list(Prize.objects.filter(wheel=wheel))
    assert {p.kind for p in prizes} == {
        "physical",
        "points",
        "multiplier_card",
        "coupon",
        "membership_voucher",
        "none",
    }
    assert len(prizes) == 9
    member = User.objects.get(email="member@demo.local")
    first = spin_perform(wheel=wheel, user_id=member.pk, request_key="demo-1", now=YEAR_END)
    assert first.draw.cost_points == 0  # the first spin of the day is free
    second = spin_perform(wheel=wheel, user_id=member.pk, request_key="demo-2", now=YEAR_END + timedelta(minutes=1))
    assert second.draw.cost_points == 50
    new_year = datetime(2027, 1, 1, 0, 5, tzinfo=SHANGHAI)  # a new campaign-local day: a free spin again
    third = spin_perform(wheel=wheel, user_id=member.pk, request_key="demo-3", now=new_year)
    assert third.draw.cost_points == 0


@pytest.mark.django_db
def test_seed_demo_names_the_suppliers_of_the_wheels_goods_and_coupons():
    seed(MIDYEAR)
    seed(MIDYEAR)
    prizes = Prize.objects.filter(wheel__campaign__slug="carnival")
    supplied = {p.kind: p.supplier.name_en if p.supplier else None for p in prizes}
    assert supplied == {
        "physical": "Youxuan Mall",
        "coupon": "Youxuan Mall",
        "points": None,
        "multiplier_card": None,
        "membership_voucher": None,
        "none": None,
    }
    coupon = prizes.get(kind="coupon")
    assert coupon.code_pool is not None
    assert coupon.code_pool.supplier == coupon.supplier
    assert coupon.code_pool.codes.count() == 200


@pytest.mark.django_db
def test_seed_demo_fills_the_mall_with_products_of_every_kind_in_both_languages():
    seed(MIDYEAR)
    seed(MIDYEAR + timedelta(days=1))
    carnival = Campaign.objects.get(slug="carnival")
    products = list(Product.objects.filter(campaign=carnival).select_related("category", "supplier", "code_pool"))
    assert len(products) == len(PRODUCTS) == 21
    # The category tree: five top-level categories of the issue plus member perks, two of them with a child.
    tree = {c.slug: (c.parent.slug if c.parent else None) for c in Category.objects.select_related("parent")}
    assert tree == {
        "books": None,
        "kids-books": "books",
        "movie-tickets": None,
        "fitness": None,
        "food": None,
        "gadgets": None,
        "audio": "gadgets",
        "perks": None,
    }
    assert all(c.icon and c.name and c.name_en for c in Category.objects.all())
    for category in Category.objects.all():
        below = mall_selectors.category_and_children(category_id=category.pk)
        assert Product.objects.filter(category_id__in=below).exists(), category.slug
    # Suppliers with their contacts and terms; the brand's own virtual items have none.
    suppliers = list(Supplier.objects.all())
    assert len(suppliers) == 4
    assert all(s.name_en and s.contact_name and s.contact_phone and s.contact_email for s in suppliers)
    assert all(s.settlement_terms for s in suppliers)
    for product in products:
        assert product.name
        assert product.name_en not in ("", product.name)
        assert product.description
        assert product.description_en
        assert 200 <= product.points_price <= 20_000
        assert (product.supplier is None) == (product.delivery == "virtual")
        assert product.unit_cost_cny > 0 if product.supplier else product.unit_cost_cny == Decimal("0.00")
        if product.delivery in ("code", "instructions"):
            assert product.instructions, product.name
            assert product.instructions_en, product.name
        if product.code_pool is not None:
            assert product.code_pool.supplier == product.supplier
            assert mall_selectors.codes_free(pool_id=product.code_pool.pk) >= product.stock
        if product.physical_methods in ("pickup", "both"):
            assert product.pickup_location
            assert product.pickup_location_en
    # Every delivery type, both ways goods travel, every virtual item.
    assert {p.delivery for p in products} == {"code", "instructions", "physical", "virtual"}
    assert {p.physical_methods for p in products} == {"", "shipping", "pickup", "both"}
    assert {p.virtual_kind for p in products} == {"", "points_card", "multiplier_card", "membership_voucher"}
    # One sold-out product: a member trying it is refused before any point moves.
    sold_out = [p for p in products if p.stock == 0]
    assert [p.name_en for p in sold_out] == ["Movie night for two (2 tickets + popcorn)"]
    member = User.objects.get(email="member@demo.local")
    spendable = mall_selectors.spendable(user_id=member.pk, now=MIDYEAR)
    with pytest.raises(OutOfStock):
        order_place(product_id=sold_out[0].pk, user_id=member.pk, now=MIDYEAR)
    assert mall_selectors.spendable(user_id=member.pk, now=MIDYEAR) == spendable
    # The member's balance affords some of the catalogue but not all of it.
    affordable = mall_selectors.catalogue(now=MIDYEAR, max_price=spendable).count()
    assert 5 <= affordable < len(products)


@pytest.mark.django_db
def test_every_demo_product_has_a_real_800px_picture_in_its_categorys_colour():
    seed(MIDYEAR)
    products = list(Product.objects.select_related("category__parent"))
    pictures = set()
    for product in products:
        assert (product.image.name or "").startswith("mall/products/demo-"), product.image.name
        with product.image.open("rb") as file:
            data = file.read()
        image = Image.open(io.BytesIO(data))
        image.verify()
        image = Image.open(io.BytesIO(data))
        assert (image.format, image.size) == ("PNG", (800, 800))
        root = product.category.parent or product.category
        style, _drawing = STYLES[root.slug]
        assert image.convert("RGB").getpixel((10, 10)) == style.background  # a child is drawn as its parent
        pictures.add(data)
    assert len(pictures) == len(products)  # each its own card (its name)


def test_a_card_is_drawn_without_the_cjk_font_too(tmp_path):
    missing = tmp_path / "no-such-font.ttc"
    card = product_card(name="三体", name_en="The Three-Body Problem", category_slug="books", bold_font=missing,
                        regular_font=missing)  # fmt: skip
    image = Image.open(io.BytesIO(card))
    assert image.size == (800, 800)
    blank = product_card(name="三体", name_en="", category_slug="books", bold_font=missing, regular_font=missing)
    assert card != blank  # the English name is drawn in Pillow's own font
    other = product_card(name="三体", name_en="Sapiens", category_slug="unknown", bold_font=missing)
    assert Image.open(io.BytesIO(other)).convert("RGB").getpixel((10, 10)) != image.convert("RGB").getpixel((10, 10))


@pytest.mark.skipif(not Path(BOLD_FONT).exists(), reason="fonts-noto-cjk is not installed (make browsers)")
def test_a_card_sets_the_chinese_name_in_the_cjk_font():
    def card(name: str) -> bytes:
        return product_card(name=name, name_en="Movie ticket", category_slug="movie-tickets")

    assert card("电影票") != card("电影卡")  # glyphs, not the same tofu boxes
    long_name = card("限量款机械键盘（10:00 开抢）超长名称测试超长名称测试超长名称测试")
    assert Image.open(io.BytesIO(long_name)).size == (800, 800)


@pytest.mark.django_db
def test_the_10_oclock_drop_is_upcoming_when_seeded_and_on_sale_from_10_the_next_day():
    seed(MIDYEAR)  # 15 June 10:00 Shanghai
    seed(MIDYEAR + timedelta(hours=3))  # the drop stays where it was put
    drop = Product.objects.select_related("campaign").get(name_en__contains="10:00 drop")
    opens = datetime(2026, 6, 16, 10, 0, tzinfo=SHANGHAI)
    assert drop.sale_starts_at == opens
    assert (drop.stock, drop.limit_per_member) == (10, 1)
    carnival = drop.campaign
    assert carnival.phase_at(opens) == Phase.OFFICIAL
    assert rules.sale_state(product=drop, campaign=carnival, now=MIDYEAR) == "upcoming"
    assert rules.sale_state(product=drop, campaign=carnival, now=opens - timedelta(seconds=1)) == "upcoming"
    assert rules.sale_state(product=drop, campaign=carnival, now=opens) == "on_sale"
    buyer = user_create(email="early@example.com", password="early-bird-2026", display_name="Early bird")
    member_fund(campaign=carnival, user_id=buyer.pk, points=20_000, now=MIDYEAR, key="early:fund")
    with pytest.raises(NotAvailable):
        order_place(product_id=drop.pk, user_id=buyer.pk, request_key="early", now=opens - timedelta(minutes=1))
    order = order_place(product_id=drop.pk, user_id=buyer.pk, request_key="on-time", now=opens + timedelta(minutes=1))
    assert order.order.points == 19_800
    assert Product.objects.get(pk=drop.pk).stock == 9


@pytest.mark.django_db
def test_seeded_late_on_new_years_eve_the_drop_opens_at_10_on_new_years_day():
    seed(YEAR_END)
    drop = Product.objects.get(name_en__contains="10:00 drop")
    assert drop.sale_starts_at == datetime(2027, 1, 1, 10, 0, tzinfo=SHANGHAI)


def test_the_drop_stays_inside_the_official_phase():
    campaign = Campaign(
        timezone="Asia/Shanghai",
        official_starts_at=datetime(2026, 6, 10, 0, 0, tzinfo=SHANGHAI),
        followup_starts_at=datetime(2026, 6, 16, 9, 0, tzinfo=SHANGHAI),
    )
    # The next day's 10:00 is in the follow-up: the last 10:00 of the official phase instead.
    assert drop_starts_at(campaign=campaign, now=MIDYEAR) == datetime(2026, 6, 15, 10, 0, tzinfo=SHANGHAI)
    # Seeded before the official phase: the day after it starts.
    early = datetime(2026, 6, 1, 12, 0, tzinfo=SHANGHAI)
    assert drop_starts_at(campaign=campaign, now=early) == datetime(2026, 6, 11, 10, 0, tzinfo=SHANGHAI)
    # A phase without a 10:00 in it: its start.
    short = Campaign(
        timezone="Asia/Shanghai",
        official_starts_at=datetime(2026, 6, 15, 11, 0, tzinfo=SHANGHAI),
        followup_starts_at=datetime(2026, 6, 16, 9, 0, tzinfo=SHANGHAI),
    )
    assert drop_starts_at(campaign=short, now=MIDYEAR) == short.official_starts_at


@pytest.mark.django_db
def test_the_demo_member_has_a_revealed_ticket_code_and_a_shipped_book():
    seed(MIDYEAR)
    seed(MIDYEAR + timedelta(hours=1))
    member = User.objects.get(email="member@demo.local")
    orders = list(mall_selectors.orders_of(user_id=member.pk))
    assert [o.name_en for o in orders] == [
        "The Three-Body Problem trilogy (3 books)",
        "2D movie ticket (any Starlight cinema)",
    ]
    book, ticket = orders
    assert (ticket.status, ticket.delivery) == ("fulfilled", "code")
    assert ticket.code_revealed_at is not None
    assert ticket.code is not None
    assert CodeReveal.objects.filter(order=ticket).count() == 1  # not revealed again by the second run
    assert ticket.supplier is not None
    assert (ticket.supplier.name_en, ticket.unit_cost_cny) == ("Starlight Cinemas Ticketing", Decimal("32.00"))
    assert (book.status, book.method) == ("fulfilled", "shipping")
    assert book.shipment_id is not None
    assert book.hold_id is not None
    shipment = Shipment.objects.get(pk=book.shipment_id)
    assert (shipment.status, shipment.carrier, shipment.city) == ("shipped", "顺丰速运", "上海市")
    assert shipment.tracking_number
    assert Hold.objects.get(pk=book.hold_id).state == "captured"
    assert all(MIDYEAR - timedelta(hours=2) <= o.created_at < MIDYEAR for o in orders)
    services.ledger_rollup()
    assert services.ledger_reconcile().ok


@pytest.mark.django_db
@pytest.mark.parametrize("now", [MIDYEAR, YEAR_END, LEAP_DAY])
def test_the_partner_demo_has_three_partners_sales_statements_and_a_portal_login(capsys, now):
    from partners.demo import PARTNER_LOGIN

    seed(now)
    first = counts()
    seed(now + timedelta(minutes=20))
    assert counts() == first
    assert "partner@demo.local" in capsys.readouterr().out
    hz, nb, sh = (Partner.objects.get(code=code) for code in ("HZ001", "NB002", "SH003"))
    assert nb.referred_by == hz
    assert ReferralReward.objects.get().recruiter == hz
    login = User.objects.get(email=PARTNER_LOGIN.email)
    assert login.check_password(PARTNER_LOGIN.password)
    assert PartnerUser.objects.get(user=login).partner == hz
    current = month_key(now)
    ended = [month_shift(current, -3), month_shift(current, -2), month_shift(current, -1)]
    for partner in (hz, nb, sh):
        months = set(Sale.objects.filter(partner=partner).values_list("period", flat=True))
        assert set(ended) <= months, partner.code
        issued = set(Statement.objects.filter(partner=partner).values_list("period", flat=True))
        assert set(ended) <= issued
        assert current not in issued  # the current month has not ended
        paid = Statement.objects.filter(partner=partner, paid_at__isnull=False)
        assert [s.period for s in paid] == [ended[0]]  # the oldest month with sales, paid out
        assert paid.get().payout_fen == paid.get().closing_fen > 0
    returns = Sale.objects.filter(partner=hz, original__isnull=False, period__in=ended)
    assert returns.count() == 3  # a return in each ended month
    assert {r.reward for r in BonusRule.objects.all()} == {"cash", "non_cash"}
    assert BonusRule.objects.get(reward="non_cash").threshold == Decimal("1000000.00")
    services.ledger_rollup()
    assert services.ledger_reconcile().ok
