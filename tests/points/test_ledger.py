from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from django.db import connection, transaction

from points import errors, selectors, services
from points.models import Account, Hold, Lot, Transfer
from points.services import Award, Member, System
from tests.points.conftest import assert_ledger_consistent, earn, spend, wallet

pytestmark = pytest.mark.django_db
SHANGHAI = ZoneInfo("Asia/Shanghai")


def test_earn_and_spend_double_entry(member, now):
    earn(member, 100, key="e1", now=now)
    spend(member, 30, key="s1", now=now)
    assert wallet(member).balance == 70
    assert selectors.balance_for(user_id=member.pk, now=now).spendable == 70
    services.ledger_rollup()
    assert sum(Account.objects.values_list("balance", flat=True)) == 0
    assert_ledger_consistent()


def test_insufficient_points_writes_nothing(member, now):
    earn(member, 10, key="e1", now=now)
    before = Transfer.objects.count()
    with pytest.raises(errors.InsufficientPoints) as exc:
        spend(member, 11, key="s1", now=now)
    assert exc.value.code == "insufficient_points"
    assert exc.value.details["available"] == 10
    assert Transfer.objects.count() == before
    assert wallet(member).balance == 10
    assert Lot.objects.get().remaining == 10


def test_spend_without_wallet_is_insufficient(member, now):
    with pytest.raises(errors.InsufficientPoints) as exc:
        spend(member, 1, key="s1", now=now)
    assert exc.value.details["available"] == 0
    assert not Transfer.objects.exists()
    assert not Account.objects.filter(user=member).exists()  # a refused spend creates no empty wallet


@pytest.mark.parametrize("amount", [0, -5, 1.5, "10", True, None, 10**16])
def test_bad_amounts_rejected(member, now, amount):
    with pytest.raises(errors.InvalidAmount):
        earn(member, amount, key="bad", now=now)
    assert not Transfer.objects.exists()


def test_unknown_asset_and_mismatched_accounts(member, now):
    with pytest.raises(errors.AssetMismatch):
        services.transfer_post(
            key="x", debit=System("issuance"), credit=Member(member.pk), amount=1, kind="earn", asset="USD", now=now
        )
    pts_wallet = earn(member, 5, key="e", now=now).credit_id
    with pytest.raises(errors.AssetMismatch):
        services.transfer_post(
            key="y", debit=System("rebate"), credit=pts_wallet, amount=1, kind="adjust", asset="CNY", now=now
        )
    assert Transfer.objects.count() == 1


def test_unknown_kind_and_key(member, now):
    with pytest.raises(errors.InvalidInput):
        services.transfer_post(
            key="k", debit=System("issuance"), credit=Member(member.pk), amount=1, kind="gift", now=now
        )
    with pytest.raises(errors.InvalidInput):
        services.transfer_post(
            key="", debit=System("issuance"), credit=Member(member.pk), amount=1, kind="earn", now=now
        )
    with pytest.raises(errors.AccountNotFound):
        services.transfer_post(key="k", debit=System("issuance"), credit=999_999_999, amount=1, kind="earn", now=now)
    assert not Transfer.objects.exists()


def test_idempotent_replay_and_conflict(member, now):
    first = earn(member, 50, key="same", now=now)
    again = earn(member, 50, key="same", now=now)
    assert first.created
    assert not again.created
    assert again.transfer_id == first.transfer_id
    assert wallet(member).balance == 50
    with pytest.raises(errors.IdempotencyConflict) as exc:
        earn(member, 60, key="same", now=now)
    assert exc.value.code == "idempotency_conflict"
    assert wallet(member).balance == 50


def test_spends_soonest_expiring_first(member, now):
    late = earn(member, 10, key="late", now=now, expires_at=now + timedelta(days=90))
    never = earn(member, 10, key="never", now=now, expires_at=None)
    soon = earn(member, 10, key="soon", now=now, expires_at=now + timedelta(days=5))
    spend(member, 15, key="s", now=now)
    remaining = dict(Lot.objects.values_list("transfer_id", "remaining"))
    assert remaining[soon.transfer_id] == 0
    assert remaining[late.transfer_id] == 5
    assert remaining[never.transfer_id] == 10


def test_pending_points_not_spendable_until_available(member, now):
    earn(member, 20, key="avail", now=now)
    earn(member, 50, key="pending", now=now, available_at=now + timedelta(days=7))
    bal = selectors.balance_for(user_id=member.pk, now=now)
    assert (bal.spendable, bal.pending) == (20, 50)
    assert bal.next_available_at == now + timedelta(days=7)
    with pytest.raises(errors.InsufficientPoints):
        spend(member, 21, key="too-much", now=now)
    later = now + timedelta(days=7)
    spend(member, 70, key="ok-later", now=later)
    assert wallet(member).balance == 0


def test_expiry_job_moves_expired_remainder(member, now):
    earn(member, 30, key="a", now=now, expires_at=now + timedelta(days=1), campaign_id=7)
    earn(member, 5, key="b", now=now, expires_at=None, campaign_id=7)
    spend(member, 10, key="s", now=now, campaign_id=7)
    later = now + timedelta(days=2)
    # Expired points are not spendable even before the job runs.
    assert selectors.balance_for(user_id=member.pk, now=later).spendable == 5
    with pytest.raises(errors.InsufficientPoints):
        spend(member, 6, key="s2", now=later)
    assert services.lots_expire(now=later) == 1
    assert services.lots_expire(now=later) == 0  # idempotent
    assert wallet(member).balance == 5
    expire = Transfer.objects.get(kind="expire")
    assert expire.amount == 20
    assert expire.credit.kind == "expiry"
    assert expire.credit.campaign_id == 7
    totals = selectors.campaign_totals(campaign_id=7)
    assert (totals.issued, totals.consumed, totals.expired, totals.outstanding) == (35, 10, 20, 5)
    services.ledger_rollup()
    assert_ledger_consistent()


@pytest.mark.parametrize(
    ("rule", "days", "earned_local", "expected_local"),
    [
        ("month_end", None, datetime(2026, 1, 31, 23, 59, 59), datetime(2026, 2, 1)),
        ("month_end", None, datetime(2026, 2, 1, 0, 0, 0), datetime(2026, 3, 1)),
        ("month_end", None, datetime(2026, 12, 15, 8, 0), datetime(2027, 1, 1)),
        ("year_end", None, datetime(2026, 12, 31, 23, 59, 59), datetime(2027, 1, 1)),
        ("year_end", None, datetime(2027, 1, 1, 0, 0, 1), datetime(2028, 1, 1)),
        ("days", 30, datetime(2026, 3, 1, 9, 0), datetime(2026, 4, 1)),
        ("never", None, datetime(2026, 3, 1, 9, 0), None),
    ],
)
def test_expiry_policies_in_campaign_timezone(member, rule, days, earned_local, expected_local):
    services.expiry_policy_set(campaign_id=42, rule=rule, days=days, tz="Asia/Shanghai")
    earned = earned_local.replace(tzinfo=SHANGHAI)
    earn(member, 10, key=f"p-{rule}-{earned_local}", now=earned, campaign_id=42)
    lot = Lot.objects.get()
    expected = expected_local.replace(tzinfo=SHANGHAI) if expected_local else None
    assert lot.expires_at == expected
    # The UTC instant of a Shanghai month end is 16:00 the day before: prove we did not use UTC dates.
    if expected is not None:
        assert lot.expires_at.astimezone(UTC).hour == 16


def test_policy_falls_back_to_default_and_rejects_bad_input(member, now):
    services.expiry_policy_set(campaign_id=None, rule="year_end")
    earn(member, 1, key="d", now=now, campaign_id=99)
    assert Lot.objects.get().expires_at == datetime(2027, 1, 1, tzinfo=SHANGHAI)
    with pytest.raises(errors.InvalidInput):
        services.expiry_policy_set(campaign_id=1, rule="days", days=0)
    with pytest.raises(errors.InvalidInput):
        services.expiry_policy_set(campaign_id=1, rule="weekly")
    with pytest.raises(errors.InvalidInput):
        services.expiry_policy_set(campaign_id=1, rule="never", tz="Mars/Olympus")


def test_reverse_spend_restores_original_expiry(member, now):
    exp = now + timedelta(days=3)
    earn(member, 10, key="e", now=now, expires_at=exp)
    s = spend(member, 10, key="s", now=now)
    r = services.transfer_reverse(transfer_id=s.transfer_id, key="r", reason="order cancelled", now=now)
    assert wallet(member).balance == 10
    restored = Lot.objects.get(transfer_id=r.transfer_id)
    assert restored.expires_at == exp
    assert restored.remaining == 10
    # Replay is fine, a second reversal is not.
    assert not services.transfer_reverse(transfer_id=s.transfer_id, key="r", reason="x", now=now).created
    with pytest.raises(errors.AlreadyReversed):
        services.transfer_reverse(transfer_id=s.transfer_id, key="r2", reason="again", now=now)
    assert_ledger_consistent()


def test_reverse_reversal_only_once_and_reason_required(member, now):
    e = earn(member, 40, key="e", now=now)
    with pytest.raises(errors.ReasonRequired):
        services.transfer_reverse(transfer_id=e.transfer_id, key="r", reason="  ", now=now)
    r = services.transfer_reverse(transfer_id=e.transfer_id, key="r", reason="fraud", now=now)
    assert wallet(member).balance == 0
    rr = services.transfer_reverse(transfer_id=r.transfer_id, key="rr", reason="not fraud after all", now=now)
    assert rr.created
    assert wallet(member).balance == 40
    with pytest.raises(errors.AlreadyReversed):
        services.transfer_reverse(transfer_id=r.transfer_id, key="rr2", reason="twice", now=now)
    assert wallet(member).balance == 40
    assert_ledger_consistent()


def test_reversing_an_earn_that_was_spent_is_refused(member, now):
    e = earn(member, 10, key="e", now=now)
    spend(member, 8, key="s", now=now)
    with pytest.raises(errors.InsufficientPoints):
        services.transfer_reverse(transfer_id=e.transfer_id, key="r", reason="fraud", now=now)
    assert wallet(member).balance == 2


def test_adjust_requires_reason_and_records_actor(member, make_user, now):
    operator = make_user(is_staff=True)
    with pytest.raises(errors.ReasonRequired):
        services.points_adjust(user_id=member.pk, amount=10, reason="", actor_id=operator.pk, key="a0", now=now)
    with pytest.raises(errors.InvalidAmount):
        services.points_adjust(user_id=member.pk, amount=0, reason="x", actor_id=operator.pk, key="a0", now=now)
    services.points_adjust(user_id=member.pk, amount=25, reason="goodwill", actor_id=operator.pk, key="a1", now=now)
    services.points_adjust(user_id=member.pk, amount=-5, reason="typo", actor_id=operator.pk, key="a2", now=now)
    assert wallet(member).balance == 20
    t = Transfer.objects.get(idempotency_key="a2")
    assert (t.actor_id, t.reason, t.kind) == (operator.pk, "typo", "adjust")
    with pytest.raises(errors.InsufficientPoints):
        services.points_adjust(user_id=member.pk, amount=-21, reason="x", actor_id=operator.pk, key="a3", now=now)


def test_staff_cannot_adjust_their_own_points(make_user, now):
    operator = make_user(is_staff=True)
    with pytest.raises(errors.SelfAdjustment):
        services.points_adjust(user_id=operator.pk, amount=500, reason="bonus", actor_id=operator.pk, key="s1", now=now)
    assert not Transfer.objects.filter(idempotency_key="s1").exists()


def test_staff_cannot_reverse_a_transfer_of_their_own_wallet(make_user, now):
    operator = make_user(is_staff=True)
    earn(operator, 100, key="op-earn", now=now)
    spent = spend(operator, 60, key="op-spend", now=now)
    with pytest.raises(errors.SelfAdjustment):
        services.transfer_reverse(
            transfer_id=spent.transfer_id, key="r-self", reason="oops", actor_id=operator.pk, now=now
        )
    assert wallet(operator).balance == 40
    other = make_user(is_staff=True)
    services.transfer_reverse(transfer_id=spent.transfer_id, key="r-other", reason="refund", actor_id=other.pk, now=now)
    assert wallet(operator).balance == 100


def test_holds_capture_and_void(member, now):
    earn(member, 100, key="e", now=now, expires_at=now + timedelta(days=10))
    h1 = services.hold_place(user_id=member.pk, amount=30, key="order-1", campaign_id=3, now=now)
    h2 = services.hold_place(user_id=member.pk, amount=50, key="order-2", campaign_id=3, now=now)
    assert services.hold_place(user_id=member.pk, amount=30, key="order-1", campaign_id=3, now=now).pk == h1.pk
    assert selectors.balance_for(user_id=member.pk, now=now).spendable == 20
    with pytest.raises(errors.InsufficientPoints):
        services.hold_place(user_id=member.pk, amount=21, key="order-3", now=now)
    services.hold_capture(hold_id=h1.pk, now=now)
    services.hold_capture(hold_id=h1.pk, now=now)  # replay is harmless
    services.hold_void(hold_id=h2.pk, now=now)
    with pytest.raises(errors.HoldNotPending):
        services.hold_capture(hold_id=h2.pk, now=now)
    with pytest.raises(errors.HoldNotPending):
        services.hold_void(hold_id=h1.pk, now=now)
    assert selectors.balance_for(user_id=member.pk, now=now).spendable == 70
    assert Hold.objects.get(pk=h2.pk).state == "voided"
    assert Lot.objects.filter(transfer_id=Hold.objects.get(pk=h2.pk).settle_transfer_id).get().expires_at == (
        now + timedelta(days=10)
    )
    with pytest.raises(errors.NotReversible):
        services.transfer_reverse(transfer_id=h1.place_transfer_id, key="r", reason="x", now=now)
    services.ledger_rollup()
    assert_ledger_consistent()


def test_batch_awards_idempotent(make_user, now):
    users = [make_user() for _ in range(5)]
    awards = [Award(key=f"bulk:{u.pk}", user_id=u.pk, amount=10 + i) for i, u in enumerate(users)]
    posted = services.transfers_post_batch(awards=awards, source=System("issuance", 5), campaign_id=5, now=now)
    assert all(p.created for p in posted)
    again = services.transfers_post_batch(awards=awards, source=System("issuance", 5), campaign_id=5, now=now)
    assert [p.transfer_id for p in again] == [p.transfer_id for p in posted]
    assert not any(p.created for p in again)
    assert [wallet(u).balance for u in users] == [10, 11, 12, 13, 14]
    with pytest.raises(errors.IdempotencyConflict):
        services.transfers_post_batch(
            awards=[Award(key=f"bulk:{users[0].pk}", user_id=users[0].pk, amount=99)],
            source=System("issuance", 5),
            campaign_id=5,
            now=now,
        )
    with pytest.raises(errors.InvalidInput):
        services.transfers_post_batch(awards=[awards[0], awards[0]], source=System("issuance", 5), now=now)
    with pytest.raises(errors.InvalidAmount):
        services.transfers_post_batch(
            awards=[Award(key="neg", user_id=users[0].pk, amount=-1)], source=System("issuance"), now=now
        )
    assert Transfer.objects.count() == 5
    services.ledger_rollup()
    assert_ledger_consistent()


def test_transfers_are_immutable_in_the_database(member, now):
    earn(member, 10, key="e", now=now)
    for sql in (
        "UPDATE points_transfer SET amount = 1000",
        "DELETE FROM points_transfer",
        "DELETE FROM points_lot",
        "UPDATE points_lot SET amount = 1000",
    ):
        with (
            pytest.raises(Exception, match=r"immutable|only lot\.remaining"),
            transaction.atomic(),
            connection.cursor() as cur,
        ):
            cur.execute(sql)
    assert Transfer.objects.get().amount == 10


def test_database_refuses_negative_wallet_even_bypassing_services(member, now):
    earn(member, 10, key="e", now=now)
    with pytest.raises(Exception, match="account_no_negative"), transaction.atomic(), connection.cursor() as cur:
        cur.execute("UPDATE points_account SET balance = -1 WHERE user_id = %s", [member.pk])


def test_reconcile_reports_drift_and_fixes_nothing(member, now, caplog):
    earn(member, 10, key="e", now=now)
    with connection.cursor() as cur:
        cur.execute("UPDATE points_account SET balance = balance + 5 WHERE user_id = %s", [member.pk])
    run = services.ledger_reconcile()
    assert not run.ok
    assert {"account_vs_transfers", "lots_vs_balance"} <= set(run.drift)
    assert wallet(member).balance == 15  # reported, never silently fixed
    assert "drift" in caplog.text
