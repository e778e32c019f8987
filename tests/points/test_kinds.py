"""Transfer kinds are registered by the apps that own them (points.kinds), validated on posting and shown
translated."""

from __future__ import annotations

import re

import pytest
from django.core.exceptions import ImproperlyConfigured
from django.utils import translation

from points import errors, kinds, services
from points.models import Transfer
from points.services import Member, System
from tests.points.conftest import earn

OWNERS = {
    "points": {"earn", "spend", "award", "adjust", "reversal", "expire", "hold", "capture", "void"},
    "tasks": {"checkin", "streak_bonus", "makeup_checkin", "task_reward"},
    "lottery": {"spin", "prize"},
    "campaigns": {"boost"},
    "mall": {"redeem", "refund", "points_card"},
    "referrals": {"referral_reward", "newcomer_gift", "referral_top"},
    "levels": {"level_reward"},
    "partners": {
        "partner_rebate",
        "partner_clawback",
        "partner_bonus",
        "partner_referral",
        "partner_referral_back",
        "partner_payout",
    },
}


def test_each_app_registers_its_own_kinds_and_nothing_else_is_known() -> None:
    by_owner: dict[str, set[str]] = {}
    for kind in kinds.registered():
        by_owner.setdefault(kind.owner, set()).add(kind.slug)
    assert by_owner == OWNERS
    # Nothing is known under a name no app registered.
    for slug in ("referral", "rebate", "payout"):
        assert not kinds.is_registered(slug)


def test_register_refuses_a_taken_slug_and_bad_slugs_and_is_idempotent_for_its_owner() -> None:
    assert kinds.register("checkin", "again", owner="tasks") == "checkin"  # a re-import: no change
    assert kinds.label("checkin") != "again"
    with pytest.raises(ImproperlyConfigured, match="already registered by tasks"):
        kinds.register("checkin", "mine", owner="mall")
    for bad in ("", "Checkin", "check-in", "9lives", "x" * 25):
        with pytest.raises(ImproperlyConfigured):
            kinds.register(bad, "bad", owner="tests")
    assert not kinds.is_registered("x" * 25)


def test_labels_follow_the_readers_language_and_unknown_slugs_show_as_themselves() -> None:
    with translation.override("en"):
        assert kinds.label("checkin") == "daily check-in"
        assert kinds.label("spin") == "prize wheel spin"
    with translation.override("zh-hans"):
        assert kinds.label("checkin") == translation.gettext("daily check-in")
        assert kinds.label("checkin") != "daily check-in"  # translated, not the English source
    assert kinds.label("gone_feature") == "gone_feature"


@pytest.mark.django_db
@pytest.mark.parametrize("kind", ["nonsense", "", None, 7, "referral"])
def test_posting_an_unregistered_kind_is_invalid_input_and_writes_nothing(member, now, kind) -> None:
    with pytest.raises(errors.InvalidInput) as exc:
        services.transfer_post(
            key="k", debit=System("issuance"), credit=Member(member.pk), amount=1, kind=kind, now=now
        )
    assert exc.value.code == errors.InvalidInput.code
    assert "kind" in exc.value.details
    assert not Transfer.objects.exists()


@pytest.mark.django_db
def test_every_app_kind_posts_and_displays_its_label(member, now) -> None:
    earn(member, 10, key="seed", now=now)
    for slug in sorted(set().union(*OWNERS.values()) - {"hold", "capture", "void", "reversal"}):
        services.transfer_post(
            key=f"k:{slug}", debit=System("issuance"), credit=Member(member.pk), amount=1, kind=slug, now=now
        )
        with translation.override("zh-hans"):
            shown = Transfer.objects.get(idempotency_key=f"k:{slug}").kind_label
            expected = str(dict(kinds.choices())[slug])
        assert shown == expected
        assert re.search(r"[\u4e00-\u9fff]", shown), f"{slug}: no Chinese label ({shown!r})"
