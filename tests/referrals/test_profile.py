"""Title badges won on invite leaderboards show next to the member on their profile (accounts.panels), in the
member's language; a member without one sees no titles block."""

from __future__ import annotations

import pytest
from django.test import Client
from django.utils import timezone

from referrals.models import FinalAward

pytestmark = pytest.mark.django_db


def profile_of(user, language: str) -> str:
    client = Client()
    client.force_login(user, backend="accounts.backends.PhoneOrEmailBackend")
    client.cookies["django_language"] = language
    response = client.get("/accounts/profile/")
    assert response.status_code == 200
    return response.content.decode()


def test_title_badge_on_the_profile(campaign, member, make_user) -> None:
    FinalAward.objects.create(
        campaign=campaign,
        user=member,
        rank=2,
        invites=9,
        points=1000,
        title="邀请达人",
        title_en="Top Inviter",
        awarded_at=timezone.now(),
    )
    chinese, english = profile_of(member, "zh-hans"), profile_of(member, "en")
    assert 'data-testid="title-badge">邀请达人<' in chinese
    assert 'data-testid="title-badge">Top Inviter<' in english
    assert "profile-titles" not in profile_of(make_user(), "en")
