"""lottery 0004/0005 move every lottery_fulfilment row into shipments without losing any: the database is migrated
back to the state before the move, rows are made with the historical models in every status, and migrated
forward (and back again, and forward) with each row's status, address, tracking and timestamps intact."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor
from django.db.migrations.loader import MigrationLoader
from django.utils import timezone

from tests.data import ADDRESS as MEMBER_ADDRESS

BEFORE = [("lottery", "0003_spin_sql"), ("shipments", "0001_initial")]
AFTER = [("lottery", "0005_delete_fulfilment")]
ADDRESS = {**MEMBER_ADDRESS, "phone": "+8613800138000"}  # as stored: normalised
EMPTY = dict.fromkeys(ADDRESS, "")
STAMPS = ("address_at", "shipped_at", "delivered_at", "returned_at", "expired_at")


def _migrate(targets: list[tuple[str, str]]) -> Any:
    """Migrate to `targets` (other apps stay as they are); the models as the database now has them."""
    MigrationExecutor(connection).migrate(targets)
    loader = MigrationLoader(connection)
    return loader.project_state(nodes=list(loader.applied_migrations), at_end=True).apps


def _old_rows(apps: Any) -> list[dict[str, Any]]:
    """Six fulfilments, one per status, of two members, made with the models as they were before the move."""
    now = timezone.now().replace(microsecond=0)
    user_model = apps.get_model("accounts", "User")
    members = [
        user_model.objects.create(phone=f"+8613900000{n:03d}", email=f"old{n}@example.com", password="!")
        for n in (1, 2)
    ]
    campaign = apps.get_model("campaigns", "Campaign").objects.create(
        name="老活动", slug="old-campaign", rules="r", warmup_starts_at=now - timedelta(days=40),
        official_starts_at=now - timedelta(days=39), followup_starts_at=now - timedelta(days=2),
        ends_at=now - timedelta(days=1),
    )  # fmt: skip
    wheel = apps.get_model("lottery", "Wheel").objects.create(
        campaign=campaign, server_seed="ab" * 32, seed_commitment="cd" * 32
    )
    prize_model = apps.get_model("lottery", "Prize")
    phone = prize_model.objects.create(wheel=wheel, kind="physical", name="华为手机", name_en="Huawei phone", weight=1,
                                       stock_total=10, stock_remaining=4)  # fmt: skip
    mug = prize_model.objects.create(wheel=wheel, kind="physical", name="马克杯", name_en="", weight=1, stock_total=5,
                                     stock_remaining=5)  # fmt: skip
    draw_model = apps.get_model("lottery", "Draw")
    fulfilment_model = apps.get_model("lottery", "Fulfilment")
    statuses = ["awaiting_address", "ready", "shipped", "delivered", "returned", "expired"]
    made = []
    for n, status in enumerate(statuses, start=1):
        member, prize = members[n % 2], (phone if n % 3 else mug)
        draw = draw_model.objects.create(
            wheel=wheel, user=member, spin_number=n, request_key=f"k{n}", prize=prize, roll=0, table=[[prize.pk, 1]],
            odds_hash="0" * 64, odds_version=1, cost_points=50, local_date=now.date(), created_at=now,
        )  # fmt: skip
        stamps = {
            "address_at": now + timedelta(hours=1) if status not in ("awaiting_address", "expired") else None,
            "shipped_at": now + timedelta(hours=2) if status in ("shipped", "delivered", "returned") else None,
            "delivered_at": now + timedelta(hours=3) if status in ("delivered", "returned") else None,
            "returned_at": now + timedelta(hours=4) if status == "returned" else None,
            "expired_at": now + timedelta(days=30) if status == "expired" else None,
        }
        shipped = status in ("shipped", "delivered", "returned")
        row = {
            "status": status,
            "claim_deadline": now + timedelta(days=30),
            **(EMPTY if status in ("awaiting_address", "expired") else {**ADDRESS, "recipient": f"收件人{n}"}),
            "carrier": "顺丰" if shipped else "",
            "tracking_number": f"SF{n:04d}" if shipped else "",
            **stamps,
            "created_at": now - timedelta(minutes=n),
        }
        fulfilment = fulfilment_model.objects.create(draw=draw, user=member, prize=prize, **row)
        made.append({"id": fulfilment.id, "draw": draw.id, "member": member.id, "prize": prize, **row})
    # A gap in the ids, as deletions in a real table would leave: the copies keep their ids anyway.
    fulfilment_model.objects.filter(pk=made[0]["id"]).update(id=made[-1]["id"] + 100)
    made[0]["id"] = made[-1]["id"] + 100
    return made


def _compare(made: list[dict[str, Any]], stored: dict[int, Any], *, as_shipment: bool) -> None:
    assert set(stored) == {row["id"] for row in made}
    for row in made:
        got = stored[row["id"]]
        fields = ("status", "claim_deadline", *ADDRESS, "carrier", "tracking_number", *STAMPS, "created_at")
        assert {f: getattr(got, f) for f in fields} == {f: row[f] for f in fields}, row["id"]
        if as_shipment:
            assert (got.owner_kind, got.owner_id, got.idempotency_key, got.member_id) == (
                "lottery.prize",
                row["draw"],
                f"draw:{row['draw']}",
                row["member"],
            )
            assert (got.item_name, got.item_name_en) == (row["prize"].name, row["prize"].name_en)
        else:
            assert (got.draw_id, got.user_id, got.prize_id) == (row["draw"], row["member"], row["prize"].pk)


@pytest.mark.django_db(transaction=True)
def test_every_fulfilment_moves_to_shipments_intact_and_back() -> None:
    old = _migrate(BEFORE)
    made = _old_rows(old)
    interval = old.get_model("django_celery_beat", "IntervalSchedule").objects.create(every=1, period="hours")
    tasks = old.get_model("django_celery_beat", "PeriodicTask")
    tasks.objects.create(name="lottery-fulfilments-expire", task="lottery.fulfilments_expire", interval=interval)
    tasks.objects.create(name="points-rollup", task="points.rollup", interval=interval)
    try:
        new = _migrate(AFTER)
        shipment_model = new.get_model("shipments", "Shipment")
        _compare(made, {s.id: s for s in shipment_model.objects.all()}, as_shipment=True)
        # The id sequence continues after the copied ids: a new shipment does not collide.
        member = made[0]["member"]
        fresh = shipment_model.objects.create(owner_kind="lottery.prize", owner_id=10**9, idempotency_key="draw:new",
                                              member_id=member, item_name="x", created_at=timezone.now())  # fmt: skip
        assert fresh.id > max(row["id"] for row in made)
        fresh.delete()
        assert list(new.get_model("django_celery_beat", "PeriodicTask").objects.values_list("task", flat=True)) == [
            "points.rollup"
        ]  # the retired job is gone, the others stay

        back = _migrate(BEFORE)  # reversible: the rows go back where they were
        _compare(made, {f.id: f for f in back.get_model("lottery", "Fulfilment").objects.all()}, as_shipment=False)
        assert not back.get_model("shipments", "Shipment").objects.exists()
    finally:
        leaves = MigrationLoader(connection).graph.leaf_nodes()
        again = _migrate(leaves)  # leave the schema as every other test expects it
    _compare(made, {s.id: s for s in again.get_model("shipments", "Shipment").objects.all()}, as_shipment=True)
