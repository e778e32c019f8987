"""Fixtures for invites: the featured campaign in its official phase with a referral program, and members."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from django.utils import timezone

from accounts.models import User
from campaigns.builders import campaign_live
from campaigns.models import Campaign
from referrals.builders import program_build
from referrals.models import Program


@pytest.fixture
def campaign(db: Any) -> Campaign:
    """The featured campaign, published, in its official phase now."""
    return campaign_live(now=timezone.now(), is_featured=True)


@pytest.fixture
def program(campaign: Campaign) -> Program:
    return program_build(campaign=campaign)


@pytest.fixture
def new_member(make_user: Callable[..., User]) -> Callable[..., User]:
    """new_member(**fields) → a member who signed up just now."""

    def make(**fields: Any) -> User:
        return make_user(date_joined=timezone.now(), **fields)

    return make
