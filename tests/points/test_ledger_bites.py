"""Fixed tests for ledger rules that a mutation test showed unguarded (issue 16): each asserts the domain error or
the outcome itself, with fixed instants, so breaking the rule fails here and not only in a random run."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from django.db import transaction

from points import errors, selectors, services
from points.models import Account, Hold, Lot, Transfer
from points.services import Award, Member, System
from tests.points.conftest import assert_ledger_consistent, earn, spend, wallet

pytestmark = pytest.mark.django_db
SHANGHAI = ZoneInfo("Asia/Shanghai")


def _usable() -> int:
    """A query in the test's transaction: raises if a refusal had aborted it (a poisoned transaction)."""
    return Transfer.objects.count()


def _system(kind: str, campaign_id: int | None = None) -> Account:
    owner = "campaign" if campaign_id is not None else "system"
    return Account.objects.get(owner_type=owner, kind=kind, campaign_id=campaign_id, asset="PTS", user=None)


# --- Idempotency: a replay must match all content ---------------------------------------------------------


def _post(member, *, key, now, kind="earn", campaign_id=None, debit=None, amount=10):
    return services.transfer_post(
        key=key,
        debit=debit or System("issuance"),
        credit=Member(member.pk),
        amount=amount,
        kind=kind,
        campaign_id=campaign_id,
        now=now,
    )


def test_same_key_with_another_kind_is_a_conflict_not_a_replay(member, now):
    first = _post(member, key="k", now=now, kind="earn")
    with pytest.raises(errors.IdempotencyConflict) as exc:
        _post(member, key="k", now=now, kind="adjust")
    assert exc.value.code == "idempotency_conflict"
    assert exc.value.details == {"existing": first.transfer_id}
    assert _usable() == 1
    assert wallet(member).balance == 10
    assert not _post(member, key="k", now=now, kind="earn").created  # the same content is still a replay


def test_same_key_with_another_campaign_or_debit_account_is_a_conflict(member, now):
    _post(member, key="k", now=now, campaign_id=1)
    with pytest.raises(errors.IdempotencyConflict):
        _post(member, key="k", now=now, campaign_id=2)  # same accounts, amount and kind; another campaign
    with pytest.raises(errors.IdempotencyConflict):
        _post(member, key="k", now=now, campaign_id=1, debit=System("adjustment"))
    with pytest.raises(errors.IdempotencyConflict):
        _post(member, key="k", now=now, campaign_id=1, amount=11)
    assert _usable() == 1
    assert wallet(member).balance == 10


def test_reusing_a_reversal_key_for_another_transfer_is_a_conflict(member, now):
    first = earn(member, 10, key="e1", now=now)
    second = earn(member, 10, key="e2", now=now)  # same accounts and amount: only `reverses` tells them apart
    services.transfer_reverse(transfer_id=first.transfer_id, key="undo", reason="mistake", now=now)
    with pytest.raises(errors.IdempotencyConflict):
        services.transfer_reverse(transfer_id=second.transfer_id, key="undo", reason="mistake", now=now)
    assert _usable() == 3
    assert not Transfer.objects.filter(reverses_id=second.transfer_id).exists()
    assert wallet(member).balance == 10


def test_a_replayed_spend_takes_nothing_more(member, now):
    earn(member, 10, key="e", now=now)
    assert spend(member, 4, key="s", now=now).created
    again = spend(member, 4, key="s", now=now)
    assert not again.created
    assert wallet(member).balance == 6
    assert sum(Lot.objects.values_list("remaining", flat=True)) == 6
    services.ledger_rollup()
    assert_ledger_consistent()


# --- Expiry boundary: expires_at <= now means expired, for spending, balances and the expiry job ------------


def test_a_lot_expiring_exactly_now_is_expired_everywhere(member, now):
    ends = now + timedelta(days=1)
    earn(member, 10, key="ends", now=now, expires_at=ends, campaign_id=7)
    earn(member, 5, key="never", now=now, expires_at=None, campaign_id=7)
    just_before = ends - timedelta(microseconds=1)
    assert selectors.balance_for(user_id=member.pk, now=just_before).spendable == 15
    assert services.lots_expire(now=just_before) == 0

    assert selectors.balance_for(user_id=member.pk, now=ends).spendable == 5
    with pytest.raises(errors.InsufficientPoints) as exc:
        spend(member, 6, key="at-the-boundary", now=ends)
    assert exc.value.details == {"available": 5, "requested": 6}
    assert services.lots_expire(now=ends) == 1
    assert Transfer.objects.get(kind="expire").amount == 10
    assert wallet(member).balance == 5
    spend(member, 5, key="the-rest", now=ends)
    assert wallet(member).balance == 0


def test_a_lot_expiring_exactly_now_is_not_spent_even_when_the_balance_covers_it(member, now):
    """The balance (15) covers the spend; the live lots (5) do not: refused, and the balance is given back."""
    ends = now + timedelta(hours=1)
    earn(member, 10, key="ends", now=now, expires_at=ends)
    earn(member, 5, key="never", now=now, expires_at=None)
    with pytest.raises(errors.InsufficientPoints) as exc:
        spend(member, 15, key="s", now=ends)
    assert exc.value.details == {"available": 5, "requested": 15}
    with pytest.raises(errors.InsufficientPoints) as exc:
        spend(member, 16, key="s2", now=ends)  # refused by the balance: the detail still counts only live lots
    assert exc.value.details == {"available": 5, "requested": 16}
    assert wallet(member).balance == 15
    assert sorted(Lot.objects.values_list("remaining", flat=True)) == [5, 10]
    assert not Transfer.objects.filter(kind="spend").exists()


# --- Same account -----------------------------------------------------------------------------------------


def test_posting_from_an_account_to_itself_is_a_domain_error(member, now):
    # No wallet yet: refused as the same account (not as "no points"), before the database.
    with pytest.raises(errors.SameAccount) as exc:
        services.transfer_post(key="m", debit=Member(member.pk), credit=Member(member.pk), amount=1, kind="adjust")
    assert exc.value.code == "same_account"
    with pytest.raises(errors.SameAccount):
        services.transfer_post(key="s", debit=System("spend", 3), credit=System("spend", 3), amount=1, kind="adjust")
    own = earn(member, 10, key="e", now=now).credit_id
    # Two references to one account that only the database can tell apart: points_post refuses with a status,
    # so the caller's transaction goes on (no CHECK constraint violation poisoning it).
    with pytest.raises(errors.SameAccount):
        services.transfer_post(key="w", debit=own, credit=Member(member.pk), amount=1, kind="adjust", now=now)
    with pytest.raises(errors.SameAccount):
        services.transfer_post(key="a", debit=wallet(member), credit=own, amount=1, kind="adjust", now=now)
    # Both legs must hold the posting's asset: a points wallet cannot pay a CNY rebate account, nor the reverse.
    with pytest.raises(errors.AssetMismatch):
        services.transfer_post(key="c1", debit=own, credit=System("rebate"), amount=1, kind="adjust", asset="CNY")
    with pytest.raises(errors.AssetMismatch):
        services.transfer_post(key="c2", debit=System("rebate"), credit=own, amount=1, kind="adjust", asset="CNY")
    assert _usable() == 1
    assert wallet(member).balance == 10


# --- Reversals --------------------------------------------------------------------------------------------


def test_reversing_an_earn_takes_back_its_own_lot_first(member, now):
    soon = earn(member, 10, key="soon", now=now, expires_at=now + timedelta(days=5))
    late = earn(member, 10, key="late", now=now, expires_at=now + timedelta(days=90))
    services.transfer_reverse(transfer_id=late.transfer_id, key="r", reason="fraud", now=now)
    remaining = dict(Lot.objects.values_list("transfer_id", "remaining"))
    assert remaining[late.transfer_id] == 0  # its own lot, though another one expires sooner
    assert remaining[soon.transfer_id] == 10
    assert_ledger_consistent()


def test_reversing_a_spend_restores_each_consumed_lot_with_its_expiry_and_campaign(member, now):
    exp7, exp8 = now + timedelta(days=5), now + timedelta(days=30)
    earn(member, 10, key="e7", now=now, expires_at=exp7, campaign_id=7)
    earn(member, 10, key="e8", now=now, expires_at=exp8, campaign_id=8)
    spent = spend(member, 15, key="s", now=now, campaign_id=9)  # 10 of campaign 7's lot, 5 of campaign 8's
    later = now + timedelta(days=1)
    reversal = services.transfer_reverse(transfer_id=spent.transfer_id, key="r", reason="cancelled", now=later)
    restored = set(
        Lot.objects.filter(transfer_id=reversal.transfer_id).values_list("campaign_id", "expires_at", "amount")
    )
    assert restored == {(7, exp7, 10), (8, exp8, 5)}
    assert wallet(member).balance == 20
    # The restored points expire when the originals did, into their own campaign's expiry account.
    assert services.lots_expire(now=exp7) == 1  # the restored campaign-7 lot (the original one is empty)
    expired = Transfer.objects.filter(kind="expire")
    assert {(t.credit.campaign_id, t.amount) for t in expired} == {(7, 10)}
    assert wallet(member).balance == 10
    services.ledger_rollup()
    assert_ledger_consistent()


def test_captures_and_voids_are_not_reversed_directly(member, now):
    earn(member, 50, key="e", now=now)
    captured = services.hold_capture(hold_id=services.hold_place(user_id=member.pk, amount=10, key="h1", now=now).pk)
    voided = services.hold_void(hold_id=services.hold_place(user_id=member.pk, amount=10, key="h2", now=now).pk)
    for transfer_id in (captured.settle_transfer_id, voided.settle_transfer_id):
        with pytest.raises(errors.NotReversible):
            services.transfer_reverse(transfer_id=transfer_id, key=f"r{transfer_id}", reason="x", now=now)
    assert not Transfer.objects.filter(kind="reversal").exists()


def test_a_second_reversal_is_refused_before_the_database(member, now):
    e = earn(member, 10, key="e", now=now)
    services.transfer_reverse(transfer_id=e.transfer_id, key="r1", reason="fraud", now=now)
    with pytest.raises(errors.AlreadyReversed):
        services.transfer_reverse(transfer_id=e.transfer_id, key="r2", reason="again", now=now)
    assert _usable() == 2  # refused by the service: the unique index was never hit, the transaction goes on


# --- Holds ------------------------------------------------------------------------------------------------


def test_a_capture_posts_exactly_what_was_held_to_the_campaign_spend_account(member, now):
    earn(member, 100, key="e", now=now)
    hold = services.hold_place(user_id=member.pk, amount=30, key="order", campaign_id=3, now=now)
    services.hold_capture(hold_id=hold.pk, now=now)
    capture = Transfer.objects.get(pk=Hold.objects.get(pk=hold.pk).settle_transfer_id)
    assert (capture.kind, capture.amount, capture.campaign_id) == ("capture", 30, 3)
    assert (capture.credit.kind, capture.credit.campaign_id) == ("spend", 3)
    services.ledger_rollup()
    assert _system("holds").balance == 0  # in 30, out 30: nothing more captured than held
    assert _system("spend", 3).balance == 30
    assert wallet(member).balance == 70
    assert_ledger_consistent()


# --- Batches ----------------------------------------------------------------------------------------------


def test_a_batch_awarding_one_member_twice_credits_both(member, now):
    posted = services.transfers_post_batch(
        awards=[Award(key="b1", user_id=member.pk, amount=10), Award(key="b2", user_id=member.pk, amount=5)],
        source=System("issuance", 5),
        campaign_id=5,
        now=now,
    )
    assert [p.created for p in posted] == [True, True]
    assert wallet(member).balance == 15
    assert sorted(Lot.objects.values_list("amount", flat=True)) == [5, 10]
    services.ledger_rollup()
    assert _system("issuance", 5).balance == -15
    assert_ledger_consistent()


def test_batch_lots_keep_each_lines_availability_and_expiry(member, make_user, now):
    services.expiry_policy_set(campaign_id=5, rule="month_end")
    others = [make_user() for _ in range(3)]
    explicit, opens = now + timedelta(days=3), now + timedelta(days=2)
    services.transfers_post_batch(
        awards=[
            Award(key="policy", user_id=member.pk, amount=1),
            Award(key="explicit", user_id=others[0].pk, amount=2, expires_at=explicit),
            Award(key="never", user_id=others[1].pk, amount=3, expires_at=None),
            Award(key="pending", user_id=others[2].pk, amount=4, available_at=opens),
        ],
        source=System("issuance", 5),
        campaign_id=5,
        now=now,
    )
    lots = {lot.transfer.idempotency_key: lot for lot in Lot.objects.select_related("transfer")}
    month_end = datetime(2026, 6, 1, tzinfo=SHANGHAI)
    assert {k: lot.expires_at for k, lot in lots.items()} == {
        "policy": month_end,
        "explicit": explicit,
        "never": None,
        "pending": month_end,
    }
    assert {k: lot.available_at for k, lot in lots.items()} == {
        "policy": now,
        "explicit": now,
        "never": now,
        "pending": opens,
    }
    assert selectors.balance_for(user_id=others[2].pk, now=now).spendable == 0


def test_a_batch_must_debit_a_system_account_and_two_accounts(member, now):
    own = earn(member, 10, key="e", now=now).credit_id
    issuance = _system("issuance").pk
    sql = (
        "SELECT * FROM points_post_batch(%s, %s, %s, %s, %s::timestamptz[], %s::timestamptz[], 'PTS', 'award', '', "
        "NULL, NULL, %s)"
    )
    for debit, credit, error in (
        (own, issuance, errors.BatchNeedsSystemDebit),
        (issuance, issuance, errors.SameAccount),
    ):
        with pytest.raises(error), transaction.atomic():
            services._execute(sql, [["b"], [debit], [credit], [3], [None], [None], now])
    assert not Transfer.objects.filter(idempotency_key="b").exists()
    assert wallet(member).balance == 10


def test_a_batch_replay_with_another_kind_or_campaign_is_a_conflict(member, now):
    awards = [Award(key="b", user_id=member.pk, amount=10)]
    source = System("issuance", 5)
    services.transfers_post_batch(awards=awards, source=source, campaign_id=5, now=now)
    with pytest.raises(errors.IdempotencyConflict):
        services.transfers_post_batch(awards=awards, source=source, campaign_id=5, kind="earn", now=now)
    with pytest.raises(errors.IdempotencyConflict):
        services.transfers_post_batch(awards=awards, source=source, campaign_id=6, now=now)
    assert _usable() == 1
    assert wallet(member).balance == 10


# --- Expiry computed from a UTC instant in the policy's timezone --------------------------------------------

# 2026-12-31 16:30 UTC is 2027-01-01 00:30 in Shanghai: the local day is in the next month and the next year.
UTC_INSTANT = datetime(2026, 12, 31, 16, 30, tzinfo=UTC)


@pytest.mark.parametrize(
    ("rule", "days", "expected_local"),
    [
        ("month_end", None, datetime(2027, 2, 1)),
        ("year_end", None, datetime(2028, 1, 1)),
        ("days", 1, datetime(2027, 1, 3)),
    ],
)
def test_expiry_from_a_utc_instant_uses_the_local_day(member, make_user, rule, days, expected_local):
    assert UTC_INSTANT.tzinfo is UTC  # the instant is given in UTC: nothing but the policy's zone makes it 1 January
    services.expiry_policy_set(campaign_id=42, rule=rule, days=days, tz="Asia/Shanghai")
    expected = expected_local.replace(tzinfo=SHANGHAI)
    assert services.expiry_for(campaign_id=42, now=UTC_INSTANT) == expected
    earn(member, 10, key="single", now=UTC_INSTANT, campaign_id=42)
    services.transfers_post_batch(
        awards=[Award(key="bulk", user_id=make_user().pk, amount=10)],
        source=System("issuance", 42),
        campaign_id=42,
        now=UTC_INSTANT,
    )
    assert set(Lot.objects.values_list("expires_at", flat=True)) == {expected}
    assert expected.astimezone(UTC).hour == 16  # local midnight, not UTC midnight


# --- Rules a random run caught before: soonest-expiring first, never negative -------------------------------


def test_spending_takes_lots_in_expiry_order_then_never_expiring_last(member, now):
    never = earn(member, 10, key="never", now=now, expires_at=None)  # created first: lowest id
    late = earn(member, 10, key="late", now=now, expires_at=now + timedelta(days=60))
    soon = earn(member, 10, key="soon", now=now, expires_at=now + timedelta(days=2))
    spend(member, 25, key="s", now=now)
    remaining = dict(Lot.objects.values_list("transfer_id", "remaining"))
    assert (remaining[soon.transfer_id], remaining[late.transfer_id], remaining[never.transfer_id]) == (0, 0, 5)


def test_a_wallet_never_goes_negative(member, now):
    earn(member, 10, key="e", now=now)
    spend(member, 10, key="all", now=now)
    with pytest.raises(errors.InsufficientPoints) as exc:
        spend(member, 1, key="one-more", now=now)
    assert exc.value.details == {"available": 0, "requested": 1}
    with pytest.raises(errors.InsufficientPoints):
        services.points_adjust(user_id=member.pk, amount=-1, reason="x", actor_id=None, key="adj", now=now)
    assert _usable() == 2
    assert wallet(member).balance == 0
