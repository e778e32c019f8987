"""Many threads at once against real Postgres, released together by a barrier; then the invariants."""

import random
import threading
from datetime import timedelta

import pytest
from django.db import connection

from accounts.models import User
from points import errors, services
from points.models import Account, Lot, Transfer
from points.services import Award, Member, System
from tests.conftest import run_concurrently
from tests.points.conftest import earn, spend, wallet

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.slow]


def _users(n: int) -> list[User]:
    User.objects.bulk_create([User(phone=f"+8615{i:09d}", email=f"c{i}@example.com") for i in range(n)])
    return list(User.objects.filter(email__startswith="c").order_by("pk"))


def test_double_spend_exactly_ten_of_fifty_succeed(member, now):
    earn(member, 100, key="seed", now=now)

    def attempt(i: int) -> str:
        try:
            spend(member, 10, key=f"spend-{i}", now=now)
        except errors.InsufficientPoints:
            return "refused"
        return "ok"

    results = run_concurrently(50, attempt)
    assert results.count("ok") == 10, results
    assert results.count("refused") == 40
    assert wallet(member).balance == 0
    assert Transfer.objects.filter(kind="spend").count() == 10
    assert sum(Lot.objects.values_list("remaining", flat=True)) == 0


def test_fifty_parallel_posts_with_one_key_make_one_transfer(member, now):
    results = run_concurrently(50, lambda i: earn(member, 70, key="only-once", now=now))
    assert all(isinstance(r, services.Posted) for r in results), results
    assert len({r.transfer_id for r in results}) == 1
    assert sum(r.created for r in results) == 1
    assert Transfer.objects.count() == 1
    assert wallet(member).balance == 70


def test_parallel_member_to_member_transfers_do_not_deadlock(make_user, now):
    a, b = make_user(), make_user()
    earn(a, 1000, key="a", now=now)
    earn(b, 1000, key="b", now=now)

    def move(i: int) -> int:
        src, dst = (a, b) if i % 2 else (b, a)
        return services.transfer_post(
            key=f"m{i}", debit=Member(src.pk), credit=Member(dst.pk), amount=7, kind="adjust", now=now
        ).transfer_id

    results = run_concurrently(40, move)
    assert all(isinstance(r, int) for r in results), results
    assert wallet(a).balance + wallet(b).balance == 2000
    assert wallet(a).balance == 1000  # 20 each way


def test_conservation_under_random_concurrent_load(now):
    users = _users(200)
    services.transfers_post_batch(
        awards=[
            Award(key=f"seed-{u.pk}", user_id=u.pk, amount=500, expires_at=now + timedelta(hours=1 + i % 3))
            for i, u in enumerate(users)
        ],
        source=System("issuance", 1),
        campaign_id=1,
        now=now,
    )
    created: list[int] = []
    lock = threading.Lock()
    outcomes: dict[str, int] = {}

    def worker(i: int) -> None:
        rng = random.Random(i)
        for step in range(25):
            op = rng.choice(["earn", "earn", "spend", "spend", "spend", "move", "reverse", "expire", "hold"])
            u, v = rng.sample(users, 2)
            key = f"{i}-{step}"
            try:
                if op == "earn":
                    posted = earn(
                        u,
                        rng.randint(1, 80),
                        key=key,
                        now=now,
                        campaign_id=1,
                        expires_at=now + timedelta(hours=rng.randint(1, 4)),
                    )
                elif op == "spend":
                    posted = spend(u, rng.randint(1, 200), key=key, now=now, campaign_id=1)
                elif op == "move":
                    posted = services.transfer_post(
                        key=key,
                        debit=Member(u.pk),
                        credit=Member(v.pk),
                        amount=rng.randint(1, 60),
                        kind="adjust",
                        now=now,
                    )
                elif op == "reverse":
                    with lock:
                        target = rng.choice(created) if created else None
                    if target is None:
                        continue
                    posted = services.transfer_reverse(transfer_id=target, key=key, reason="load test", now=now)
                elif op == "expire":
                    services.lots_expire(now=now + timedelta(hours=rng.randint(1, 5)))
                    continue
                else:
                    hold = services.hold_place(user_id=u.pk, amount=rng.randint(1, 50), key=key, now=now)
                    (services.hold_capture if rng.random() < 0.5 else services.hold_void)(hold_id=hold.pk, now=now)
                    continue
                with lock:
                    created.append(posted.transfer_id)
                    outcomes[op] = outcomes.get(op, 0) + 1
            except (errors.InsufficientPoints, errors.AlreadyReversed, errors.NotReversible) as exc:
                with lock:
                    outcomes[exc.code] = outcomes.get(exc.code, 0) + 1

    results = run_concurrently(32, worker)
    assert all(r is None for r in results), [r for r in results if r is not None][:3]
    assert outcomes.get("spend", 0) > 50
    assert outcomes.get("insufficient_points", 0) > 0  # the load really pushed against the balances

    services.ledger_rollup()
    run = services.ledger_reconcile()
    assert run.ok, run.drift
    assert Account.objects.filter(no_negative=True, balance__lt=0).count() == 0
    with connection.cursor() as cur:
        cur.execute("SELECT asset_id, sum(balance) FROM points_account GROUP BY asset_id")
        assert all(total == 0 for _asset, total in cur.fetchall())
        cur.execute(
            "SELECT count(*) FROM points_account a WHERE tracks_lots AND balance <> "
            "(SELECT coalesce(sum(remaining), 0) FROM points_lot l WHERE l.account_id = a.id)"
        )
        assert cur.fetchone()[0] == 0


def test_parallel_identical_and_overlapping_batches(now):
    users = _users(60)
    same = [Award(key=f"same-{u.pk}", user_id=u.pk, amount=3) for u in users[:50]]

    def post(i: int) -> int:
        if i % 2:  # half the threads replay one batch: every line must land exactly once
            return sum(
                p.created
                for p in services.transfers_post_batch(
                    awards=same, source=System("issuance", 2), campaign_id=2, now=now
                )
            )
        # the others post their own batches over overlapping members, in different orders: no deadlock
        mine = users[i : i + 30][::-1]
        return sum(
            p.created
            for p in services.transfers_post_batch(
                awards=[Award(key=f"own-{i}-{u.pk}", user_id=u.pk, amount=1) for u in mine],
                source=System("issuance", 2),
                campaign_id=2,
                now=now,
            )
        )

    results = run_concurrently(16, post)
    assert all(isinstance(r, int) for r in results), results
    assert sum(results[1::2]) == 50  # the shared batch was applied once in total
    assert Transfer.objects.filter(idempotency_key__startswith="same-").count() == 50
    own = sum(len(users[i : i + 30]) for i in range(0, 16, 2))
    assert Transfer.objects.filter(idempotency_key__startswith="own-").count() == own
    services.ledger_rollup()
    assert services.ledger_reconcile().ok
