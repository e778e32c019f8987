"""Seed a demo: a member, an operator and an analyst (idempotent: running it again changes nothing)."""

from typing import Any

from django.contrib.auth.models import Group
from django.core.management.base import BaseCommand
from django.db import transaction

from accounts.models import User
from accounts.services import user_create

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
        self.stdout.write(self.style.SUCCESS("Demo logins (phone or email + password):"))
        for email, phone, password, _name, group in DEMO_USERS:
            role = group or "member"
            self.stdout.write(f"  {role:<9} {email} / {phone}  password: {password}")
