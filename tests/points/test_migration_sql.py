"""points.migration_sql: the one way a data migration may fill a new column of immutable transfers."""

from __future__ import annotations

import pytest
from django.db import DatabaseError, connection, transaction

from points.migration_sql import transfers_backfill
from points.models import Transfer
from tests.points.conftest import earn

pytestmark = pytest.mark.django_db


def run(statements: list[str]) -> None:
    """As a migration runs them: one transaction."""
    with transaction.atomic(), connection.cursor() as cursor:
        for statement in statements:
            cursor.execute(statement)


def test_backfill_lifts_the_trigger_for_its_update_only(member, now) -> None:
    posted = earn(member, 5, key="e", now=now, reason="新人礼")
    with pytest.raises(DatabaseError), transaction.atomic():
        Transfer.objects.filter(pk=posted.transfer_id).update(reason_en="Welcome gift")  # immutable

    run(transfers_backfill("UPDATE points_transfer SET reason_en = 'Welcome gift' WHERE reason = '新人礼'"))
    assert Transfer.objects.get(pk=posted.transfer_id).reason_en == "Welcome gift"

    with pytest.raises(DatabaseError), transaction.atomic():
        Transfer.objects.filter(pk=posted.transfer_id).delete()  # the trigger is back
    assert Transfer.objects.filter(pk=posted.transfer_id).exists()


def test_a_failed_backfill_leaves_the_trigger_on(member, now) -> None:
    posted = earn(member, 5, key="e", now=now)
    with pytest.raises(DatabaseError):
        run(transfers_backfill("UPDATE points_transfer SET amount = -1"))  # violates a CHECK: all rolled back
    with pytest.raises(DatabaseError), transaction.atomic():
        Transfer.objects.filter(pk=posted.transfer_id).update(reason_en="x")


def test_backfill_is_only_for_updates_of_transfers() -> None:
    with pytest.raises(ValueError, match="one UPDATE"):
        transfers_backfill("DELETE FROM points_transfer")
