"""The demo mall `seed_demo` builds on the carnival: four suppliers, a category tree (books, movie tickets, fitness
classes, food coupons, gadgets, member perks), 21 products covering every delivery type (codes from their pools,
usage instructions, goods shipped or picked up in a store, points/multiplier cards and a membership voucher), a
sold-out item and a limited "10:00 drop"; each product's picture drawn by mall/demo_images.py. And the demo
member's first redemptions (a ticket code already revealed, a book already shipped), so "My redemptions" shows
something. Everything goes through the product's own services (product_save, order_place, code_reveal, the
shipments module, the value gate); each step is skipped when its result exists, so seeding again changes nothing."""

from __future__ import annotations

from datetime import datetime, time, timedelta
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

from django.core.files.base import ContentFile

from accounts.models import Address, User
from accounts.services import address_save
from campaigns.models import Campaign, Phase
from campaigns.services import campaign_points_grant
from mall.builders import category_build, pool_build, supplier_build
from mall.catalogue import product_save
from mall.demo_images import product_card
from mall.models import Category, Delivery, Order, OrderStatus, Product, Supplier
from mall.orders import code_reveal, order_place
from points.kinds import AWARD
from shipments.services import shipment_transition

SUPPLIERS: dict[str, dict[str, str]] = {
    "bowen": {
        "name": "博文书局",
        "name_en": "Bowen Books",
        "contact_name": "王敏",
        "contact_phone": "+86 21 6288 1601",
        "contact_email": "wang.min@bowen-books.example",
        "settlement_terms": "月结：次月 5 日前按上月发货数量对账，对账无误后 15 个工作日内付款；退货在下期冲减。\n"
        "Monthly: units shipped are reconciled by the 5th of the next month and paid within 15 working days; "
        "returns are deducted in the next statement.",
    },
    "starlight": {
        "name": "星光影城票务",
        "name_en": "Starlight Cinemas Ticketing",
        "contact_name": "李娜",
        "contact_phone": "+86 10 8456 2200",
        "contact_email": "li.na@starlight-cinemas.example",
        "settlement_terms": "按发放的兑换码数量结算，每半月一次；未发放的兑换码不计费。\n"
        "Twice a month, per code issued to a member; codes never issued are not charged.",
    },
    "lexiang": {
        "name": "乐享生活",
        "name_en": "Lexiang Life",
        "contact_name": "陈晨",
        "contact_phone": "+86 755 8666 3080",
        "contact_email": "chen.chen@lexiang-life.example",
        "settlement_terms": "活动结束后一次性结算：兑换数量 × 单价（含税），开票后 30 天内付款。\n"
        "Once after the campaign: units redeemed × unit price (tax included), paid within 30 days of the invoice.",
    },
    "youxuan": {
        "name": "优选商城",
        "name_en": "Youxuan Mall",
        "contact_name": "周婷",
        "contact_phone": "+86 21 5456 8800",
        "contact_email": "zhou.ting@youxuan-mall.example",
        "settlement_terms": "月结：按已发货数量结算（含转盘实物奖品及优惠券），退货在下期冲减。\n"
        "Monthly, per unit shipped (wheel prizes and coupons included); returns are deducted in the next statement.",
    },
}

# slug: (name, name_en, emoji icon, parent slug or None). Parents come before their children.
CATEGORIES: dict[str, tuple[str, str, str, str | None]] = {
    "books": ("图书", "Books", "📚", None),
    "kids-books": ("童书", "Children's books", "🧸", "books"),
    "movie-tickets": ("电影票", "Movie tickets", "🎬", None),
    "fitness": ("健身课", "Fitness classes", "🏋️", None),
    "food": ("美食券", "Food coupons", "🍜", None),
    "gadgets": ("数码好物", "Gadgets", "📱", None),
    "audio": ("耳机音箱", "Headphones & speakers", "🎧", "gadgets"),
    "perks": ("会员特权", "Member perks", "🎁", None),
}

# Where store-pickup goods are collected: (Chinese, English).
BOWEN_STORE = (
    "博文书局静安店 2 楼服务台（上海市静安区南京西路 1601 号）",
    "Bowen Books Jing'an, 2F service desk (1601 West Nanjing Road, Jing'an, Shanghai)",
)
YOUXUAN_STORE = (
    "优选商城徐家汇旗舰店 1 楼自提柜台（上海市徐汇区漕溪北路 88 号）",
    "Youxuan Mall Xujiahui flagship, 1F pickup counter (88 North Caoxi Road, Xuhui, Shanghai)",
)

# Each product: `key` (its picture's file name), `category` (slug), `supplier` (key or None: the brand's own),
# `codes` (code products: how many demo codes its pool holds), `drop` (on sale from 10:00 the next day), the
# rest Product fields. The names are what makes a product "already seeded".
PRODUCTS: list[dict[str, Any]] = [
    {"key": "three-body", "category": "books", "supplier": "bowen", "delivery": Delivery.PHYSICAL,
     "name": "《三体》全集（三册）", "name_en": "The Three-Body Problem trilogy (3 books)",
     "description": "刘慈欣科幻巨著：《三体》《黑暗森林》《死神永生》，精装三册，全新正版，顺丰包邮。",
     "description_en": "Liu Cixin's science-fiction classic — The Three-Body Problem, The Dark Forest and Death's "
                       "End — three new hardbacks, shipped free by SF Express.",
     "points_price": 1800, "stock": 40, "limit_per_member": 2, "unit_cost_cny": "68.00",
     "physical_methods": "shipping"},
    {"key": "sapiens", "category": "books", "supplier": "bowen", "delivery": Delivery.PHYSICAL,
     "name": "《人类简史》", "name_en": "Sapiens: A Brief History of Humankind",
     "description": "尤瓦尔·赫拉利著。可快递到家，也可到博文书局静安店自取。",
     "description_en": "By Yuval Noah Harari. Delivered to your door, or collect it at Bowen Books Jing'an.",
     "points_price": 1200, "stock": 30, "unit_cost_cny": "45.00",
     "physical_methods": "both", "pickup_location": BOWEN_STORE[0], "pickup_location_en": BOWEN_STORE[1]},
    {"key": "ebook-pass", "category": "books", "supplier": "bowen", "delivery": Delivery.CODE, "codes": 200,
     "name": "博文读书电子书月卡", "name_en": "Bowen Reader e-book monthly pass",
     "description": "30 天畅读 10 万本电子书，手机、平板、电纸书通用。",
     "description_en": "30 days of unlimited reading from 100,000 e-books, on phones, tablets and e-readers.",
     "instructions": "打开博文读书 App，进入「我的 - 兑换码」，输入兑换码即可开通 30 天畅读。",
     "instructions_en": "Open the Bowen Reader app, go to Me → Redeem a code and enter the code: 30 days of "
                        "unlimited reading start at once.",
     "points_price": 300, "stock": 200, "limit_per_member": 3, "unit_cost_cny": "6.00"},
    {"key": "picture-books", "category": "kids-books", "supplier": "bowen", "delivery": Delivery.PHYSICAL,
     "name": "儿童绘本礼盒（10 册）", "name_en": "Picture-book gift box (10 books)",
     "description": "适合 3-6 岁，精选中英双语绘本 10 册，礼盒包装，送礼自用皆宜。",
     "description_en": "Ten bilingual picture books for ages 3 to 6, in a gift box.",
     "points_price": 2600, "stock": 20, "limit_per_member": 1, "unit_cost_cny": "98.00",
     "physical_methods": "shipping"},
    {"key": "ticket-2d", "category": "movie-tickets", "supplier": "starlight", "delivery": Delivery.CODE,
     "codes": 150, "name": "2D 电影票（全国通兑）", "name_en": "2D movie ticket (any Starlight cinema)",
     "description": "全国 120 家星光影城通用，任选 2D 场次，周末节假日不加价。",
     "description_en": "Any 2D showing at 120 Starlight cinemas nationwide, weekends and holidays included.",
     "instructions": "在星光影城 App 或小程序选座，支付时选择「兑换券」并输入兑换码。有效期至活动结束后 30 天，"
                     "不含 IMAX 及 3D 场次。",
     "instructions_en": "Choose your seats in the Starlight Cinemas app or mini-program, pay with \"Voucher\" and "
                        "enter the code. Valid until 30 days after the campaign; not for IMAX or 3D showings.",
     "points_price": 900, "stock": 150, "limit_per_member": 4, "limit_per_day": 2, "unit_cost_cny": "32.00"},
    {"key": "ticket-imax", "category": "movie-tickets", "supplier": "starlight", "delivery": Delivery.CODE,
     "codes": 60, "name": "IMAX 电影票", "name_en": "IMAX movie ticket",
     "description": "巨幕震撼体验，星光影城 IMAX 厅任选场次。",
     "description_en": "The big-screen experience: any showing in a Starlight IMAX auditorium.",
     "instructions": "在星光影城 App 选择 IMAX 场次，支付时选择「兑换券」并输入兑换码。",
     "instructions_en": "Pick an IMAX showing in the Starlight Cinemas app, pay with \"Voucher\" and enter the code.",
     "points_price": 1500, "stock": 60, "limit_per_member": 2, "unit_cost_cny": "55.00"},
    {"key": "movie-night", "category": "movie-tickets", "supplier": "starlight", "delivery": Delivery.CODE,
     "codes": 0, "name": "双人观影套餐（2 张票 + 爆米花）", "name_en": "Movie night for two (2 tickets + popcorn)",
     "description": "两张 2D 电影票加一份大桶爆米花和两杯可乐。已全部兑完，敬请期待补货。",
     "description_en": "Two 2D movie tickets, a large popcorn and two colas. All gone — more may come.",
     "instructions": "在星光影城 App 选座后输入兑换码，到影院卖品部出示兑换码领取爆米花和可乐。",
     "instructions_en": "Enter the code when you book your seats in the Starlight Cinemas app, then show it at the "
                        "snack bar for the popcorn and colas.",
     "points_price": 2400, "stock": 0, "limit_per_member": 1, "unit_cost_cny": "88.00"},
    {"key": "yoga-trial", "category": "fitness", "supplier": "lexiang", "delivery": Delivery.INSTRUCTIONS,
     "name": "瑜伽体验课（单次）", "name_en": "Yoga trial class (one session)",
     "description": "乐动健身 60 分钟流瑜伽体验课，零基础友好，提供瑜伽垫。",
     "description_en": "A 60-minute flow yoga class at Leap Fitness; beginners welcome, mats provided.",
     "instructions": "兑换后 7 天内致电 400-820-6688 或在乐享生活 App 预约，上课时向前台出示本页面。"
                     "全国 36 家乐动健身门店通用。",
     "instructions_en": "Within 7 days, book by calling 400-820-6688 or in the Lexiang Life app, then show this "
                        "page at the front desk. Valid at all 36 Leap Fitness studios.",
     "points_price": 600, "stock": 80, "limit_per_member": 1, "unit_cost_cny": "25.00"},
    {"key": "spin-pass", "category": "fitness", "supplier": "lexiang", "delivery": Delivery.CODE, "codes": 25,
     "name": "动感单车 10 次卡", "name_en": "Spin class 10-pass",
     "description": "乐动健身动感单车课 10 次，激活后 90 天内有效。",
     "description_en": "Ten spin classes at Leap Fitness, valid 90 days from activation.",
     "instructions": "在乐享生活 App「我的 - 卡券」中输入兑换码激活，之后在 App 里预约每节课。",
     "instructions_en": "Activate it in the Lexiang Life app under Me → Cards with the code, then book each class in "
                        "the app.",
     "points_price": 5800, "stock": 25, "limit_per_member": 1, "unit_cost_cny": "199.00"},
    {"key": "personal-training", "category": "fitness", "supplier": "lexiang", "delivery": Delivery.INSTRUCTIONS,
     "name": "私教课 1 节（60 分钟）", "name_en": "Personal training session (60 min)",
     "description": "认证教练一对一指导，含体态评估和训练计划。",
     "description_en": "One-to-one with a certified trainer, with a posture check and a training plan.",
     "instructions": "在乐享生活 App 预约私教时段（请至少提前 24 小时），到店后向前台出示本页面核销。",
     "instructions_en": "Book a trainer's slot in the Lexiang Life app at least 24 hours ahead and show this page "
                        "at the front desk.",
     "points_price": 3200, "stock": 30, "limit_per_member": 2, "unit_cost_cny": "120.00"},
    {"key": "coffee", "category": "food", "supplier": "lexiang", "delivery": Delivery.CODE, "codes": 500,
     "name": "精品咖啡中杯券", "name_en": "Specialty coffee voucher (tall)",
     "description": "合作咖啡店任意中杯饮品一杯，每天限兑 1 张。",
     "description_en": "Any tall drink at a partner café; one voucher a day.",
     "instructions": "点单时出示兑换码，店员扫码核销。升杯请补差价。",
     "instructions_en": "Show the code when you order; staff scan it. Pay the difference to size up.",
     "points_price": 200, "stock": 500, "limit_per_day": 1, "unit_cost_cny": "12.00"},
    {"key": "hotpot", "category": "food", "supplier": "lexiang", "delivery": Delivery.INSTRUCTIONS,
     "name": "火锅双人套餐券", "name_en": "Hotpot set for two",
     "description": "川味小馆双人套餐：鸳鸯锅底、8 道招牌菜、2 份甜品。",
     "description_en": "Chuanwei Bistro's set for two: a twin-flavour broth, 8 signature dishes and 2 desserts.",
     "instructions": "到川味小馆任一门店，点餐前向服务员出示本页面即可享用。周末及节假日通用，不与其他优惠同享，"
                     "有效期至活动结束。",
     "instructions_en": "At any Chuanwei Bistro, show this page to your server before ordering. Valid on weekends "
                        "and holidays until the campaign ends; not combinable with other offers.",
     "points_price": 3800, "stock": 40, "limit_per_member": 1, "unit_cost_cny": "158.00"},
    {"key": "dining-50", "category": "food", "supplier": "lexiang", "delivery": Delivery.CODE, "codes": 100,
     "name": "50 元餐饮代金券", "name_en": "¥50 dining voucher",
     "description": "乐享生活 App 上千家餐厅通用，满 100 元可用。",
     "description_en": "Good at over a thousand restaurants in the Lexiang Life app, on bills of ¥100 or more.",
     "instructions": "在乐享生活 App 买单时选择「代金券」并输入兑换码。",
     "instructions_en": "Pay in the Lexiang Life app, choose \"Voucher\" and enter the code.",
     "points_price": 2000, "stock": 100, "limit_per_member": 2, "unit_cost_cny": "45.00"},
    {"key": "earbuds", "category": "audio", "supplier": "youxuan", "delivery": Delivery.PHYSICAL,
     "name": "蓝牙降噪耳机", "name_en": "Noise-cancelling Bluetooth earbuds",
     "description": "主动降噪，单次续航 8 小时，配无线充电盒。",
     "description_en": "Active noise cancelling, 8 hours a charge, with a wireless charging case.",
     "points_price": 12800, "stock": 15, "limit_per_member": 1, "unit_cost_cny": "299.00",
     "physical_methods": "shipping"},
    {"key": "speaker", "category": "audio", "supplier": "youxuan", "delivery": Delivery.PHYSICAL,
     "name": "便携蓝牙音箱", "name_en": "Portable Bluetooth speaker",
     "description": "IPX7 防水，20 小时续航。可快递，也可到优选商城徐家汇旗舰店自提。",
     "description_en": "IPX7 waterproof, 20 hours of play. Shipped, or collect it at Youxuan Mall Xujiahui.",
     "points_price": 6600, "stock": 25, "unit_cost_cny": "159.00",
     "physical_methods": "both", "pickup_location": YOUXUAN_STORE[0], "pickup_location_en": YOUXUAN_STORE[1]},
    {"key": "smart-band", "category": "gadgets", "supplier": "youxuan", "delivery": Delivery.PHYSICAL,
     "name": "智能手环", "name_en": "Smart fitness band",
     "description": "心率、睡眠、血氧监测，续航 14 天。仅限门店自提：出示取货码即可领取。",
     "description_en": "Heart rate, sleep and blood-oxygen tracking, 14 days a charge. Store pickup only: show "
                       "your pickup code.",
     "points_price": 8800, "stock": 20, "limit_per_member": 1, "unit_cost_cny": "199.00",
     "physical_methods": "pickup", "pickup_location": YOUXUAN_STORE[0], "pickup_location_en": YOUXUAN_STORE[1]},
    {"key": "power-bank", "category": "gadgets", "supplier": "youxuan", "delivery": Delivery.PHYSICAL,
     "name": "20000mAh 充电宝", "name_en": "20,000 mAh power bank",
     "description": "22.5W 快充，双 USB-C 口，可带上飞机。",
     "description_en": "22.5 W fast charging, two USB-C ports, allowed on planes.",
     "points_price": 3600, "stock": 60, "limit_per_member": 2, "unit_cost_cny": "89.00",
     "physical_methods": "shipping"},
    {"key": "keyboard-drop", "category": "gadgets", "supplier": "youxuan", "delivery": Delivery.PHYSICAL,
     "drop": True, "name": "限量款机械键盘（10:00 开抢）",
     "name_en": "Limited-edition mechanical keyboard (10:00 drop)",
     "description": "狂欢节联名款，全球限量，本次仅 10 台。10:00 准时开抢，每人限兑 1 台，售完即止。",
     "description_en": "The carnival's own edition, only 10 here. On sale at 10:00 sharp, one per member, while "
                       "stocks last.",
     "points_price": 19800, "stock": 10, "limit_per_member": 1, "unit_cost_cny": "459.00",
     "physical_methods": "shipping", "sale_phases": "official"},
    {"key": "boost-card", "category": "perks", "supplier": None, "delivery": Delivery.VIRTUAL,
     "name": "1200 积分加油卡", "name_en": "1,200-point boost card",
     "description": "用 1000 积分换 1200 积分，立即到账，每人限兑 1 次。",
     "description_en": "1,000 points for 1,200, credited at once; once per member.",
     "points_price": 1000, "stock": 1000, "limit_per_member": 1, "unit_cost_cny": "0.00",
     "virtual_kind": "points_card", "virtual_points": 1200},
    {"key": "double-card", "category": "perks", "supplier": None, "delivery": Delivery.VIRTUAL,
     "name": "双倍积分卡（24 小时）", "name_en": "Double points card (24 h)",
     "description": "兑换后 24 小时内签到和任务积分翻倍。",
     "description_en": "Double points on check-ins and tasks for 24 hours from redemption.",
     "points_price": 800, "stock": 500, "limit_per_member": 2, "unit_cost_cny": "0.00",
     "virtual_kind": "multiplier_card", "multiplier_percent": 200, "multiplier_hours": 24},
    {"key": "membership", "category": "perks", "supplier": None, "delivery": Delivery.VIRTUAL,
     "name": "会员月卡兑换券", "name_en": "One-month membership voucher",
     "description": "兑换 1 个月 PLUS 会员：免运费、会员价和专属客服。",
     "description_en": "One month of PLUS membership: free delivery, member prices and a dedicated service line.",
     "instructions": "在「会员中心 - 兑换会员」输入券码，30 天内有效。",
     "instructions_en": "Enter the voucher code under Membership → Redeem within 30 days.",
     "points_price": 1500, "stock": 300, "limit_per_member": 1, "unit_cost_cny": "0.00",
     "virtual_kind": "membership_voucher"},
]  # fmt: skip

DROP_HOUR = time(10, 0)
BONUS_POINTS = 5000  # the demo member's carnival bonus: enough for both demo orders and more to browse with
DEMO_ADDRESS = {
    "recipient": "张明",
    "phone": "+8613800000001",
    "province": "上海市",
    "city": "上海市",
    "district": "徐汇区",
    "detail": "漕溪北路 100 弄 8 号 1201 室",
    "postal_code": "200030",
}


def drop_starts_at(*, campaign: Campaign, now: datetime) -> datetime:
    """When the "10:00 drop" goes on sale: 10:00 in the campaign's timezone on the day after `now` (or after the
    official phase starts, if later), kept inside the official phase (the last 10:00 before the follow-up, or the
    official start itself when the phase holds no 10:00)."""
    zone = ZoneInfo(campaign.timezone)
    after = max(now, campaign.official_starts_at).astimezone(zone)
    drop = datetime.combine(after.date() + timedelta(days=1), DROP_HOUR, tzinfo=zone)
    if drop >= campaign.followup_starts_at:
        last = (campaign.followup_starts_at - timedelta(microseconds=1)).astimezone(zone)
        day = last.date() if last.time() >= DROP_HOUR else last.date() - timedelta(days=1)
        drop = datetime.combine(day, DROP_HOUR, tzinfo=zone)
    return max(drop, campaign.official_starts_at)


def demo_suppliers() -> dict[str, Supplier]:
    """The demo's suppliers by key (created once, by name)."""
    return {key: supplier_build(**fields) for key, fields in SUPPLIERS.items()}


def demo_categories() -> dict[str, Category]:
    """The demo's category tree by slug (created once, by slug)."""
    built: dict[str, Category] = {}
    for position, (slug, (name, name_en, icon, parent)) in enumerate(CATEGORIES.items(), start=1):
        built[slug] = category_build(
            slug=slug, name=name, name_en=name_en, icon=icon, position=position, parent=built.get(parent or "")
        )
    return built


def _root_slug(category: Category, categories: dict[str, Category]) -> str:
    parent = next((c for c in categories.values() if c.pk == category.parent_id), None)
    return parent.slug if parent is not None else category.slug


def demo_products(*, campaign: Campaign, now: datetime) -> list[Product]:
    """The demo catalogue of `campaign`: each product of PRODUCTS not yet there (by name) is created with its code
    pool and its picture, through product_save. Returns the demo's products in PRODUCTS order."""
    suppliers, categories = demo_suppliers(), demo_categories()
    existing = {p.name: p for p in Product.objects.filter(campaign=campaign, name__in=[s["name"] for s in PRODUCTS])}
    products = []
    for position, spec in enumerate(PRODUCTS, start=1):
        product = existing.get(spec["name"])
        if product is None:
            product = _product_create(
                spec, campaign=campaign, position=position, suppliers=suppliers, categories=categories, now=now
            )
        products.append(product)
    return products


def _product_create(
    spec: dict[str, Any],
    *,
    campaign: Campaign,
    position: int,
    suppliers: dict[str, Supplier],
    categories: dict[str, Category],
    now: datetime,
) -> Product:
    fields = dict(spec)
    key, category = fields.pop("key"), categories[fields.pop("category")]
    supplier = suppliers[s] if (s := fields.pop("supplier")) else None
    codes, drop = fields.pop("codes", None), fields.pop("drop", False)
    product = Product(campaign=campaign, category=category, supplier=supplier, position=position, **fields)
    product.unit_cost_cny = Decimal(fields["unit_cost_cny"])
    if codes is not None:
        prefix = key.replace("-", "").upper()[:8]
        product.code_pool = pool_build(codes=codes, name=f"{spec['name']}（演示）", prefix=prefix, supplier=supplier)
    if drop:
        product.sale_starts_at = drop_starts_at(campaign=campaign, now=now)
    picture = product_card(name=product.name, name_en=product.name_en, category_slug=_root_slug(category, categories))
    product.image.save(f"demo-{key}.png", ContentFile(picture), save=False)
    return product_save(product=product)


def demo_orders(*, campaign: Campaign, member: User, products: list[Product], now: datetime) -> list[Order]:
    """The demo member's redemptions, once: a carnival bonus through the value gate, then a 2D movie ticket whose
    code they have revealed and the Three-Body trilogy, shipped by SF Express. Placed over the two hours before
    `now`; skipped (returns []) when those are not all inside the official phase — no point can be earned or
    spent outside it."""
    start = now - timedelta(hours=2)
    if campaign.phase_at(start) != Phase.OFFICIAL or campaign.phase_at(now) != Phase.OFFICIAL:
        return []
    by_key = {spec["key"]: product for spec, product in zip(PRODUCTS, products, strict=True)}
    campaign_points_grant(
        campaign=campaign,
        user_id=member.pk,
        amount=BONUS_POINTS,
        kind=AWARD,
        key=f"demo:carnival-bonus:{member.pk}",
        reason="狂欢节开幕礼包",
        reason_en="Carnival opening bonus",
        now=start,
    )
    ticket = order_place(
        product_id=by_key["ticket-2d"].pk,
        user_id=member.pk,
        request_key="demo:ticket",
        now=start + timedelta(minutes=5),
    ).order
    if ticket.code_revealed_at is None:
        code_reveal(order_id=ticket.pk, user_id=member.pk, now=start + timedelta(minutes=6))
    address = Address.objects.filter(user=member).first() or address_save(user=member, data=DEMO_ADDRESS)
    book = order_place(
        product_id=by_key["three-body"].pk,
        user_id=member.pk,
        request_key="demo:book",
        address_id=address.pk,
        now=start + timedelta(minutes=30),
    ).order
    if book.status == OrderStatus.PLACED and book.shipment_id is not None:
        shipment_transition(
            shipment_id=book.shipment_id,
            to="shipped",
            carrier="顺丰速运",
            tracking_number=f"SF{1400000000000 + book.pk}",
            now=start + timedelta(hours=1),
        )
    return list(Order.objects.filter(pk__in=[ticket.pk, book.pk]).order_by("created_at"))
