"""The monthly tier review: upgrades by tenure and trailing twelve months' sales, audited, once per partner per
month (re-runs change nothing); operators' changes need a reason (partners/tiers.py)."""

from __future__ import annotations

from datetime import date

import pytest
from django.core.exceptions import ValidationError

from partners.models import Partner, PartnerTier, TierChange
from partners.periods import full_months
from partners.tiers import partner_tier_set, tier_changes_seen, tiers_review
from tests.partners.programme import at, book, partner

pytestmark = pytest.mark.django_db


def test_review_upgrades_on_tenure_and_trailing_sales_once_a_month() -> None:
    dealer = partner(joined=date(2026, 6, 20))
    book(dealer, "S-1", "350000.00", sold_at=at(2026, 11, 5))
    book(dealer, "S-OLD", "900000.00", sold_at=at(2026, 6, 25))  # in the trailing window too
    assert tiers_review(now=at(2026, 12, 1, 4)) == 0  # 5 whole months on 1 December: Gold needs 6
    assert Partner.objects.get(pk=dealer.pk).tier.rank == 1
    assert tiers_review(now=at(2027, 1, 1, 4)) == 1  # 6 whole months, 1.25M in twelve months → Gold (Diamond needs 24)
    dealer.refresh_from_db()
    assert dealer.tier.rank == 2
    change = TierChange.objects.get()
    assert (change.period, change.from_tier.rank, change.to_tier.rank, change.tenure_months) == ("2027-01", 1, 2, 6)
    assert tiers_review(now=at(2027, 1, 1, 5)) == 0
    assert tiers_review(now=at(2027, 1, 20)) == 0
    assert TierChange.objects.count() == 1


def test_review_never_downgrades_and_operators_must_say_why() -> None:
    dealer = partner()
    gold = PartnerTier.objects.get(rank=2)
    silver = PartnerTier.objects.get(rank=1)
    with pytest.raises(ValidationError):
        partner_tier_set(partner=dealer, tier=gold, actor_id=None, reason="  ", now=at(2026, 11, 2))
    assert partner_tier_set(partner=dealer, tier=gold, actor_id=None, reason="战略合作", now=at(2026, 11, 2))
    assert tiers_review(now=at(2026, 12, 1, 4)) == 0  # no sales: the review leaves Gold alone
    assert Partner.objects.get(pk=dealer.pk).tier == gold
    assert partner_tier_set(partner=dealer, tier=gold, actor_id=None, reason="same", now=at(2026, 12, 2)) is None
    assert partner_tier_set(partner=dealer, tier=silver, actor_id=None, reason="未达标", now=at(2026, 12, 3))
    assert list(TierChange.objects.order_by("created_at").values_list("to_tier__rank", "reason")) == [
        (2, "战略合作"),
        (1, "未达标"),
    ]
    assert tier_changes_seen(partner=dealer, now=at(2026, 12, 4)) == 2
    assert tier_changes_seen(partner=dealer, now=at(2026, 12, 5)) == 0


@pytest.mark.parametrize(
    ("since", "until", "months"),
    [
        (date(2026, 1, 31), date(2026, 2, 27), 0),
        (date(2026, 1, 31), date(2026, 2, 28), 1),  # the month's last day stands in for the 31st
        (date(2028, 1, 30), date(2028, 2, 29), 1),
        (date(2027, 2, 28), date(2028, 2, 29), 12),
        (date(2026, 12, 31), date(2027, 1, 1), 0),
        (date(2026, 5, 20), date(2026, 12, 1), 6),
        (date(2026, 12, 1), date(2026, 1, 1), 0),
    ],
)
def test_whole_months_of_tenure(since: date, until: date, months: int) -> None:
    assert full_months(since, until) == months
