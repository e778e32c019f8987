"""Hypothesis drives random sequences of ledger operations and compares the ledger with a simple model."""

from __future__ import annotations

import uuid
from collections import Counter
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import Bundle, RuleBasedStateMachine, consumes, invariant, rule, run_state_machine_as_test

from accounts.services import user_create
from points import errors, selectors, services
from points.models import Lot
from points.services import Member, System

START = datetime(2026, 3, 1, 0, 0, tzinfo=UTC)


@dataclass
class ModelLot:
    source: int  # transfer that created it
    remaining: int
    available_at: datetime
    expires_at: datetime | None


@dataclass
class Posting:
    transfer_id: int
    member: int
    kind: str  # earn | spend
    consumed: list[tuple[ModelLot, int]]


class LedgerMachine(RuleBasedStateMachine):
    earns = Bundle("earns")
    spends = Bundle("spends")
    holds = Bundle("holds")

    def __init__(self) -> None:
        super().__init__()
        run = uuid.uuid4().hex[:10]
        self.prefix = run
        self.members = [user_create(email=f"{run}-{i}@example.com", password=None).pk for i in range(2)]
        self.lots: dict[int, list[ModelLot]] = {m: [] for m in self.members}
        self.now = START
        self.n = 0
        self.reversed: set[int] = set()

    # --- model helpers -------------------------------------------------------------------------------
    def key(self) -> str:
        self.n += 1
        return f"{self.prefix}-{self.n}"

    def live(self, member: int) -> list[ModelLot]:
        return [
            lot
            for lot in self.lots[member]
            if lot.remaining > 0
            and lot.available_at <= self.now
            and (lot.expires_at is None or lot.expires_at > self.now)
        ]

    def consume(self, member: int, amount: int, prefer: int | None = None) -> list[tuple[ModelLot, int]] | None:
        far = datetime.max.replace(tzinfo=UTC)
        # A reversal (prefer = the reversed earn) also takes its own lot while that is still pending.
        usable = [
            lot
            for lot in self.lots[member]
            if lot.remaining > 0
            and (lot.available_at <= self.now or (prefer is not None and lot.source == prefer))
            and (lot.expires_at is None or lot.expires_at > self.now)
        ]
        lots = sorted(usable, key=lambda lot: (lot.source != prefer, lot.expires_at or far))
        if sum(lot.remaining for lot in lots) < amount:
            return None
        taken = []
        for lot in lots:
            take = min(lot.remaining, amount)
            if take:
                lot.remaining -= take
                amount -= take
                taken.append((lot, take))
        return taken

    def restore(self, member: int, consumed: list[tuple[ModelLot, int]], source: int) -> None:
        for lot, amount in consumed:
            self.lots[member].append(ModelLot(source, amount, self.now, lot.expires_at))

    # --- rules -----------------------------------------------------------------------------------------
    @rule(
        target=earns,
        who=st.integers(0, 1),
        amount=st.integers(1, 100),
        expires_in=st.sampled_from([None, 1, 5, 48]),
        pending_for=st.sampled_from([0, 0, 0, 3]),
    )
    def earn(self, who, amount, expires_in, pending_for):
        member = self.members[who]
        expires = self.now + timedelta(hours=expires_in) if expires_in else None
        available = self.now + timedelta(hours=pending_for)
        posted = services.transfer_post(
            key=self.key(),
            debit=System("issuance"),
            credit=Member(member),
            amount=amount,
            kind="earn",
            available_at=available,
            expires_at=expires,
            now=self.now,
        )
        self.lots[member].append(ModelLot(posted.transfer_id, amount, available, expires))
        return Posting(posted.transfer_id, member, "earn", [])

    @rule(target=spends, who=st.integers(0, 1), amount=st.integers(1, 150))
    def spend(self, who, amount):
        member = self.members[who]
        spendable = sum(lot.remaining for lot in self.live(member))
        key = self.key()
        if amount > spendable:
            with pytest.raises(errors.InsufficientPoints):
                services.transfer_post(
                    key=key, debit=Member(member), credit=System("spend"), amount=amount, kind="spend", now=self.now
                )
            return Posting(0, member, "refused", [])
        posted = services.transfer_post(
            key=key, debit=Member(member), credit=System("spend"), amount=amount, kind="spend", now=self.now
        )
        return Posting(posted.transfer_id, member, "spend", self.consume(member, amount) or [])

    @rule(target=holds, who=st.integers(0, 1), amount=st.integers(1, 80))
    def hold(self, who, amount):
        member = self.members[who]
        if amount > sum(lot.remaining for lot in self.live(member)):
            with pytest.raises(errors.InsufficientPoints):
                services.hold_place(user_id=member, amount=amount, key=self.key(), now=self.now)
            return None
        hold = services.hold_place(user_id=member, amount=amount, key=self.key(), now=self.now)
        return (hold.pk, member, self.consume(member, amount) or [])

    @rule(held=consumes(holds), capture=st.booleans())
    def settle(self, held, capture):
        if held is None:
            return
        hold_id, member, consumed = held
        if capture:
            services.hold_capture(hold_id=hold_id, now=self.now)
        else:
            settled = services.hold_void(hold_id=hold_id, now=self.now)
            self.restore(member, consumed, settled.settle_transfer_id)
            with pytest.raises(errors.HoldNotPending):
                services.hold_capture(hold_id=hold_id, now=self.now)

    @rule(posting=st.one_of(earns, spends))
    def reverse(self, posting):
        if posting.kind == "refused":
            return
        key = self.key()
        if posting.transfer_id in self.reversed:
            with pytest.raises(errors.AlreadyReversed):
                services.transfer_reverse(transfer_id=posting.transfer_id, key=key, reason="again", now=self.now)
            return
        if posting.kind == "spend":
            posted = services.transfer_reverse(transfer_id=posting.transfer_id, key=key, reason="refund", now=self.now)
            self.restore(posting.member, posting.consumed, posted.transfer_id)
        else:
            amount = next(lot.amount for lot in Lot.objects.filter(transfer_id=posting.transfer_id))
            taken = self.consume(posting.member, amount, prefer=posting.transfer_id)
            if taken is None:
                with pytest.raises(errors.InsufficientPoints):
                    services.transfer_reverse(transfer_id=posting.transfer_id, key=key, reason="fraud", now=self.now)
                return
            services.transfer_reverse(transfer_id=posting.transfer_id, key=key, reason="fraud", now=self.now)
        self.reversed.add(posting.transfer_id)

    @rule(hours=st.integers(1, 24))
    def advance_and_expire(self, hours):
        self.now += timedelta(hours=hours)
        services.lots_expire(now=self.now)
        for lots in self.lots.values():
            for lot in lots:
                if lot.expires_at is not None and lot.expires_at <= self.now:
                    lot.remaining = 0

    # --- invariants ------------------------------------------------------------------------------------
    @invariant()
    def balances_match_model(self):
        for member in self.members:
            bal = selectors.balance_for(user_id=member, now=self.now)
            assert bal.spendable == sum(lot.remaining for lot in self.live(member))
            pending = sum(lot.remaining for lot in self.lots[member] if lot.available_at > self.now and lot.remaining)
            assert bal.pending == pending
            account = selectors.member_account(user_id=member)
            if account is not None:
                assert account.balance >= 0
                assert account.balance == sum(lot.remaining for lot in self.lots[member])
                db_buckets = Counter()
                for lot in Lot.objects.filter(account=account, remaining__gt=0):
                    db_buckets[(lot.expires_at, lot.available_at <= self.now)] += lot.remaining
                model_buckets = Counter()
                for lot in self.lots[member]:
                    if lot.remaining:
                        model_buckets[(lot.expires_at, lot.available_at <= self.now)] += lot.remaining
                assert db_buckets == model_buckets

    def teardown(self):
        services.ledger_rollup()
        run = services.ledger_reconcile()
        assert run.ok, run.drift


@pytest.mark.django_db
@pytest.mark.slow
def test_ledger_state_machine():
    run_state_machine_as_test(
        LedgerMachine,
        settings=settings(
            max_examples=40, stateful_step_count=25, deadline=None, suppress_health_check=list(HealthCheck)
        ),
    )
