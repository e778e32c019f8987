"""Builders for invites: shared by tests, bench/ and `seed_demo` (plain functions, like campaigns/builders.py)."""

from __future__ import annotations

from typing import Any

from campaigns.models import Campaign
from referrals.models import Program


def program_build(*, campaign: Campaign, **fields: Any) -> Program:
    """The campaign's referral program (get or create; `fields` set on creation): 200 points to the inviter, a
    100-point newcomer gift, qualified by the first check-in, no hold unless given."""
    program, _ = Program.objects.get_or_create(campaign=campaign, defaults=fields)
    return program
