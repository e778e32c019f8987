"""The wheel's ledger texts in both languages: a spin's cost reads as the wheel's name, a points prize as the
prize's name, each stored in Chinese and English; rows from before were filled by lottery 0007."""

from __future__ import annotations

import importlib
from datetime import timedelta

import pytest
from django.db import DatabaseError, connection, transaction
from django.utils import timezone

from campaigns.services import campaign_save
from lottery.kinds import PRIZE, SPIN
from lottery.models import Draw, PrizeKind
from lottery.services import spin_perform
from points.models import Lot, Transfer
from points.services import Member, System, expiry_for, transfer_post

pytestmark = pytest.mark.django_db
MIGRATION = importlib.import_module("lottery.migrations.0007_spin_reason_en").Migration


def test_a_spin_stores_both_languages_and_the_prize_follows_the_campaigns_policy(
    campaign, wheel, add_prize, fund, member
) -> None:
    campaign_save(campaign=campaign, data={"expiry_rule": "month_end"})
    add_prize(PrizeKind.POINTS, name="100 积分", name_en="100 points", weight=10**9, stock=10)
    fund(member.pk, 50)
    now = timezone.now()
    draw = spin_perform(wheel=wheel, user_id=member.pk, request_key="k1", now=now).draw

    cost = Transfer.objects.get(pk=draw.spend_transfer_id)
    assert (cost.kind, cost.reason, cost.reason_en) == (SPIN, "积分抽奖大转盘", "Prize wheel")
    prize = Transfer.objects.get(pk=draw.prize_transfer_id)
    assert (prize.kind, prize.reason, prize.reason_en) == (PRIZE, "100 积分", "100 points")
    expected = expiry_for(campaign_id=campaign.pk, now=now)
    assert expected is not None  # month_end: the prize's points expire like every other campaign point
    assert Lot.objects.get(transfer_id=prize.pk).expires_at == expected


def old_posting(kind: str, reason: str, campaign_id: int, user_id: int, key: str) -> int:
    """A transfer as posted before 0007: only the Chinese reason."""
    member, spend = Member(user_id), System("spend", campaign_id)
    debit, credit = (member, spend) if kind == SPIN else (System("issuance", campaign_id), member)
    return transfer_post(
        key=key, debit=debit, credit=credit, amount=10, kind=kind, campaign_id=campaign_id, reason=reason
    ).transfer_id


def test_lottery_0007_fills_old_spins_and_prizes_from_current_names_only(
    campaign, wheel, add_prize, fund, member
) -> None:
    fund(member.pk, 100)
    hundred = add_prize(PrizeKind.POINTS, name="100 积分", name_en="100 points", weight=1, stock=10)
    renamed = add_prize(PrizeKind.POINTS, name="200 积分", name_en="200 points", weight=1, stock=10)
    rows = {
        "spin": old_posting(SPIN, "积分抽奖大转盘", campaign.pk, member.pk, "old-spin"),
        "prize": old_posting(PRIZE, "100 积分", campaign.pk, member.pk, "old-prize"),
        "renamed": old_posting(PRIZE, "旧名字", campaign.pk, member.pk, "old-renamed"),
    }
    now = timezone.now()
    for n, (prize, spend, won) in enumerate(
        [(hundred, rows["spin"], rows["prize"]), (renamed, None, rows["renamed"])], start=1
    ):
        Draw.objects.create(
            wheel=wheel, user=member, spin_number=n, request_key=f"r{n}", prize=prize, roll=0, table=[],
            odds_hash="0" * 64, odds_version=1, cost_points=10, spend_transfer_id=spend, prize_transfer_id=won,
            local_date=now.date(), created_at=now - timedelta(days=1),
        )  # fmt: skip

    with connection.cursor() as cursor:
        for operation in MIGRATION.operations[2:]:
            for statement in operation.sql:
                cursor.execute(statement)

    english = dict(Transfer.objects.filter(pk__in=rows.values()).values_list("pk", "reason_en"))
    assert english == {rows["spin"]: "Prize wheel", rows["prize"]: "100 points", rows["renamed"]: ""}
    with pytest.raises(DatabaseError), transaction.atomic():
        Transfer.objects.filter(pk=rows["spin"]).update(reason_en="changed")  # immutable again
