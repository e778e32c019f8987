"""Seed a demo: a member, an operator, an analyst and the featured "Points Carnival" campaign in its official
phase, with its prize wheel and its points mall (mall/demo.py), where the member has redeemed two things
(idempotent: running it again changes nothing). `--now 2026-12-31T23:30:00+08:00` seeds as if it were that
instant (tests pass fixed instants; nothing here reads the clock but `handle`)."""

from argparse import ArgumentParser, ArgumentTypeError
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

from django.contrib.auth.models import Group
from django.core.management.base import BaseCommand
from django.db import transaction
from django.utils import timezone

from accounts.models import User
from accounts.services import user_create
from campaigns.builders import campaign_live
from campaigns.models import Campaign, ExpiryRule
from levels.demo import demo_ladder
from lottery.builders import wheel_build
from lottery.models import PrizeKind, Wheel
from mall.builders import pool_build
from mall.demo import demo_orders, demo_products, demo_suppliers
from partners.demo import PARTNER_LOGIN, demo_partners
from points import services as ledger
from points.models import ExpiryPolicy
from points.services import Member, System
from tasks.checkins import checkin_rule_save
from tasks.engine import task_definition_save
from tasks.models import CheckInRule, TaskDefinition, TaskTier

DEMO_CAMPAIGN_SLUG = "carnival"
DEMO_RULES_ZH = """活动分为预热期、正式期和返场期，具体时间见活动页面。积分只能在正式期内获得。

每日签到可得积分，连续签到有额外奖励；完成活动任务可获得更多积分。

积分可在积分商城兑换礼品或参与幸运转盘。本活动获得的积分于当年 12 月 31 日（北京时间）到期。

如发现刷分、作弊等行为，主办方有权取消相关积分及奖品。"""
DEMO_RULES_EN = """The campaign has a warm-up, an official phase and a follow-up; see the campaign page for the dates.
Points can only be earned during the official phase.

Check in every day to earn points; streaks earn a bonus. Complete campaign tasks to earn more.

Spend points on rewards in the points mall or on the prize wheel. Points earned in this campaign expire on
31 December (Beijing time) of the year they were earned.

Points and prizes obtained by cheating will be cancelled."""

DEMO_USERS = [
    # (email, phone, password, display name, staff group or None)
    ("member@demo.local", "+8613800000001", "demo-member-2026", "Demo Member", None),
    ("operator@demo.local", "+8613800000002", "demo-operator-2026", "Demo Operator", "operator"),
    ("analyst@demo.local", "+8613800000003", "demo-analyst-2026", "Demo Analyst", "analyst"),
]


def aware_datetime(value: str) -> datetime:
    """An ISO 8601 instant with its UTC offset (`2026-12-31T23:30:00+08:00`); a naive time is ambiguous."""
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError as exc:
        raise ArgumentTypeError(f"not an ISO 8601 date-time: {value!r}") from exc
    if timezone.is_naive(parsed):
        raise ArgumentTypeError(f"give the UTC offset too, e.g. {value}+08:00")
    return parsed


class Command(BaseCommand):
    help = "Create the demo logins and demo campaign data (safe to run repeatedly)."

    def add_arguments(self, parser: ArgumentParser) -> None:
        parser.add_argument(
            "--now",
            type=aware_datetime,
            default=None,
            help="Seed as if it were this instant (ISO 8601 with offset); default: the current time.",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        now: datetime = options["now"] or timezone.now()
        self.seed(now=now)
        self.stdout.write(self.style.SUCCESS("Demo logins (phone or email + password):"))
        for email, phone, password, _name, group in DEMO_USERS:
            role = group or "member"
            self.stdout.write(f"  {role:<9} {email} / {phone}  password: {password}")
        login = PARTNER_LOGIN  # the partner portal (/partner/) of the demo dealer HZ001
        self.stdout.write(f"  {'partner':<9} {login.email} / {login.phone}  password: {login.password}")

    def seed(self, *, now: datetime) -> None:
        """Everything the demo needs, as of `now` (the campaign is created once, around the first `now`)."""
        with transaction.atomic():
            for email, phone, password, name, group in DEMO_USERS:
                user = User.objects.filter(email=email).first()
                if user is None:
                    user = user_create(
                        email=email, phone=phone, password=password, display_name=name, is_staff=group is not None
                    )
                if group:
                    user.groups.add(Group.objects.get(name=group))
            member = User.objects.get(email=DEMO_USERS[0][0])
            self._seed_points(member.pk, now=now)
            self._seed_campaign(now=now)
            self._seed_wheel()
            self._seed_mall(member, now=now)
            demo_partners(now=now)  # the partner programme (partners/demo.py): partners, sales, statements
            # Member levels (levels/demo.py): the Bronze → Platinum ladder of the demo campaign.
            demo_ladder(campaign=Campaign.objects.get(slug=DEMO_CAMPAIGN_SLUG))

    def _seed_campaign(self, *, now: datetime) -> None:
        """The featured demo campaign, in its official phase at `now` (created once; never moved afterwards),
        with its check-in rule and a beginner → intermediate → advanced task ladder."""
        campaign = Campaign.objects.filter(slug=DEMO_CAMPAIGN_SLUG).first() or self._create_campaign(now=now)
        if not CheckInRule.objects.filter(campaign=campaign).exists():
            checkin_rule_save(
                rule=CheckInRule(
                    campaign=campaign,
                    base_points=5,
                    cycle=True,
                    makeup_enabled=True,
                    makeup_cost=20,
                    makeup_monthly_cap=2,
                    milestones=[{"day": 3, "points": 10}, {"day": 7, "points": 50}, {"day": 30, "points": 300}],
                )
            )
        if not TaskDefinition.objects.filter(campaign=campaign).exists():
            first = task_definition_save(
                task=TaskDefinition(
                    campaign=campaign,
                    tier=TaskTier.BEGINNER,
                    title="完成 1 次签到",
                    title_en="Check in once",
                    description="在签到页面点一下就好。",
                    description_en="One tap on the check-in page.",
                    event_type="checkin",
                    target_count=1,
                    reward_points=20,
                    auto_reward=False,
                )
            )
            second = task_definition_save(
                task=TaskDefinition(
                    campaign=campaign,
                    tier=TaskTier.INTERMEDIATE,
                    title="完成 3 次购物",
                    title_en="Make 3 purchases",
                    description="每笔满 50 元计入一次。",
                    description_en="Each purchase of 50 yuan or more counts.",
                    event_type="purchase",
                    target_count=3,
                    min_amount=Decimal("50.00"),
                    reward_points=100,
                    auto_reward=False,
                    prerequisite=first,
                )
            )
            task_definition_save(
                task=TaskDefinition(
                    campaign=campaign,
                    tier=TaskTier.ADVANCED,
                    title="邀请 2 位好友",
                    title_en="Invite 2 friends",
                    description="好友注册并完成首单后计入。",
                    description_en="Counts when a friend joins and orders.",
                    event_type="invite_qualified",
                    target_count=2,
                    reward_points=300,
                    auto_reward=False,
                    prerequisite=second,
                )
            )

    def _seed_wheel(self) -> None:
        """The carnival's prize wheel: 50 points a spin, the first spin of each day free, 10 spins a day; phones,
        tablets, appliances, beauty boxes, points, a double-points card, coupons and membership vouchers."""
        campaign = Campaign.objects.get(slug=DEMO_CAMPAIGN_SLUG)
        mall = demo_suppliers()["youxuan"]
        supplied = [PrizeKind.PHYSICAL, PrizeKind.COUPON]  # goods and coupons come from the demo mall's supplier
        if Wheel.objects.filter(campaign=campaign).exists():
            return
        pool = pool_build(codes=200, name="满100减20 优惠券 (demo)", prefix="DEMO", supplier=mall)
        prizes: list[dict[str, Any]] = [
            {"kind": PrizeKind.PHYSICAL, "name": "华为 Mate 手机", "name_en": "Huawei Mate phone", "weight": 1,
             "stock": 3, "unit_value_cny": Decimal("5999.00")},
            {"kind": PrizeKind.PHYSICAL, "name": "小米平板", "name_en": "Xiaomi tablet", "weight": 2,
             "stock": 5, "unit_value_cny": Decimal("1999.00")},
            {"kind": PrizeKind.PHYSICAL, "name": "空气炸锅", "name_en": "Air fryer", "weight": 5,
             "stock": 20, "unit_value_cny": Decimal("399.00")},
            {"kind": PrizeKind.PHYSICAL, "name": "美妆礼盒", "name_en": "Beauty gift box", "weight": 12,
             "stock": 50, "unit_value_cny": Decimal("199.00"), "per_member_cap": 1},
            {"kind": PrizeKind.MULTIPLIER_CARD, "name": "双倍积分卡（24 小时）", "name_en": "Double points card (24 h)",
             "weight": 60, "stock": 1000, "multiplier_percent": 200, "multiplier_hours": 24,
             "unit_value_cny": Decimal("0.00")},
            {"kind": PrizeKind.POINTS, "name": "100 积分", "name_en": "100 points", "weight": 200,
             "stock": 100000, "points_amount": 100, "unit_value_cny": Decimal("1.00")},
            {"kind": PrizeKind.COUPON, "name": "满100减20 优惠券", "name_en": "¥20 off ¥100 coupon", "weight": 80,
             "stock": 200, "code_pool": pool, "unit_value_cny": Decimal("20.00")},
            {"kind": PrizeKind.MEMBERSHIP_VOUCHER, "name": "会员升级券", "name_en": "Membership upgrade voucher",
             "weight": 40, "stock": 500, "unit_value_cny": Decimal("30.00")},
        ]  # fmt: skip
        for prize in prizes:
            if prize["kind"] in supplied:
                prize["supplier"] = mall
        wheel_build(
            campaign=campaign,
            prizes=prizes,
            none_weight=400,
            cost_points=50,
            free_spins_per_day=1,
            daily_cap=10,
            claim_days=30,
        )

    def _seed_mall(self, member: User, *, now: datetime) -> None:
        """The carnival's points mall (mall/demo.py: suppliers, a category tree, 21 products with their pictures,
        a sold-out item and a 10:00 drop) and the demo member's first redemptions."""
        campaign = Campaign.objects.get(slug=DEMO_CAMPAIGN_SLUG)
        products = demo_products(campaign=campaign, now=now)
        demo_orders(campaign=campaign, member=member, products=products, now=now)

    def _create_campaign(self, *, now: datetime) -> Campaign:
        return campaign_live(
            now=now.replace(microsecond=0),
            name="积分狂欢，好礼不停",
            name_en="Points Carnival",
            slug=DEMO_CAMPAIGN_SLUG,
            theme="天天签到赚积分，好礼兑不停",
            theme_en="Check in daily, earn points, win great rewards",
            timezone="Asia/Shanghai",
            rules=DEMO_RULES_ZH,
            rules_en=DEMO_RULES_EN,
            expiry_rule=ExpiryRule.YEAR_END,
            is_featured=True,
        )

    def _seed_points(self, user_id: int, *, now: datetime) -> None:
        """A short, readable points history for the demo member (keys make it run-once). The welcome gift
        follows the default policy (end of the year it was earned), so near 31 December it expires soon too."""
        if not ExpiryPolicy.objects.filter(campaign_id=None, asset_id="PTS").exists():
            ledger.expiry_policy_set(campaign_id=None, rule=ExpiryPolicy.Rule.YEAR_END)
        issuance = System("issuance")
        # Oldest first, so the history (newest first, by entry) reads in date order.
        ledger.transfer_post(
            key=f"demo:soon:{user_id}",
            debit=issuance,
            credit=Member(user_id),
            amount=80,
            kind="earn",
            reason="春季活动",
            reason_en="Spring promotion",
            now=now - timedelta(days=20),
            expires_at=now + timedelta(days=10),
        )
        ledger.transfer_post(
            key=f"demo:welcome:{user_id}",
            debit=issuance,
            credit=Member(user_id),
            amount=500,
            kind="award",
            reason="新人礼",
            reason_en="Welcome gift",
            now=now - timedelta(days=3),
        )
        ledger.transfer_post(
            key=f"demo:spend:{user_id}",
            debit=Member(user_id),
            credit=System("spend"),
            amount=120,
            kind="redeem",
            reason="咖啡券",
            reason_en="Coffee voucher",
            now=now - timedelta(days=2),
        )
        ledger.transfer_post(
            key=f"demo:pending:{user_id}",
            debit=issuance,
            credit=Member(user_id),
            amount=200,
            kind="earn",
            reason="购物返积分",
            reason_en="Purchase, confirmed after the return window",
            now=now - timedelta(days=1),
            available_at=now + timedelta(days=6),
        )
