"""Seed a demo: a member, an operator and an analyst (idempotent: running it again changes nothing)."""

from datetime import timedelta
from typing import Any

from django.contrib.auth.models import Group
from django.core.management.base import BaseCommand
from django.db import transaction
from django.utils import timezone

from accounts.models import User
from accounts.services import user_create
from points import services as ledger
from points.models import ExpiryPolicy
from points.services import Member, System

DEMO_USERS = [
    # (email, phone, password, display name, staff group or None)
    ("member@demo.local", "+8613800000001", "demo-member-2026", "Demo Member", None),
    ("operator@demo.local", "+8613800000002", "demo-operator-2026", "Demo Operator", "operator"),
    ("analyst@demo.local", "+8613800000003", "demo-analyst-2026", "Demo Analyst", "analyst"),
]


class Command(BaseCommand):
    help = "Create the demo logins and demo campaign data (safe to run repeatedly)."

    def handle(self, *args: Any, **options: Any) -> None:
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
            self._seed_points(member.pk)
        self.stdout.write(self.style.SUCCESS("Demo logins (phone or email + password):"))
        for email, phone, password, _name, group in DEMO_USERS:
            role = group or "member"
            self.stdout.write(f"  {role:<9} {email} / {phone}  password: {password}")

    def _seed_points(self, user_id: int) -> None:
        """A short, readable points history for the demo member (keys make it run-once)."""
        now = timezone.now()
        if not ExpiryPolicy.objects.filter(campaign_id=None, asset_id="PTS").exists():
            ledger.expiry_policy_set(campaign_id=None, rule=ExpiryPolicy.Rule.YEAR_END)
        issuance = System("issuance")
        ledger.transfer_post(
            key=f"demo:welcome:{user_id}",
            debit=issuance,
            credit=Member(user_id),
            amount=500,
            kind="award",
            reason="Welcome gift / 新人礼",
            now=now - timedelta(days=3),
        )
        ledger.transfer_post(
            key=f"demo:soon:{user_id}",
            debit=issuance,
            credit=Member(user_id),
            amount=80,
            kind="earn",
            reason="Spring promotion / 春季活动",
            now=now - timedelta(days=20),
            expires_at=now + timedelta(days=10),
        )
        ledger.transfer_post(
            key=f"demo:pending:{user_id}",
            debit=issuance,
            credit=Member(user_id),
            amount=200,
            kind="earn",
            reason="Purchase, confirmed after the return window / 购物返积分",
            now=now - timedelta(days=1),
            available_at=now + timedelta(days=6),
        )
        ledger.transfer_post(
            key=f"demo:spend:{user_id}",
            debit=Member(user_id),
            credit=System("spend"),
            amount=120,
            kind="redeem",
            reason="Coffee voucher / 咖啡券",
            now=now - timedelta(days=2),
        )
