"""SQL for data migrations that must fill a column of existing ledger rows.

Transfers are immutable: the trigger points_transfer_immutable (points/sql/points_forbid_change.sql) refuses every
UPDATE. A migration that adds a column and must fill it for old rows (such as `reason_en`) may lift the trigger for
exactly its own statement: `transfers_backfill(update)` returns DISABLE TRIGGER, the UPDATE, ENABLE TRIGGER, to run
as one migrations.RunSQL inside the migration's transaction (Postgres DDL is transactional: if the UPDATE fails,
the trigger was never disabled for anyone). ALTER TABLE takes an ACCESS EXCLUSIVE lock on points_transfer, so no
posting runs while the trigger is off; postings wait for the migration's commit.

Only for filling new columns: amounts, accounts, kinds and keys of a transfer never change.
"""

from __future__ import annotations

TRANSFER_TABLE = "points_transfer"
IMMUTABLE_TRIGGER = "points_transfer_immutable"


def transfers_backfill(update_sql: str) -> list[str]:
    """[disable the immutability trigger, `update_sql`, enable it again] for migrations.RunSQL."""
    if not update_sql.lstrip().upper().startswith("UPDATE POINTS_TRANSFER"):
        raise ValueError("transfers_backfill runs one UPDATE of points_transfer")
    return [
        # Deferred foreign-key checks of rows written earlier in the transaction would block ALTER TABLE
        # ("pending trigger events"): run them now (they would run at commit anyway).
        "SET CONSTRAINTS ALL IMMEDIATE",
        f"ALTER TABLE {TRANSFER_TABLE} DISABLE TRIGGER {IMMUTABLE_TRIGGER}",
        update_sql,
        f"ALTER TABLE {TRANSFER_TABLE} ENABLE TRIGGER {IMMUTABLE_TRIGGER}",
    ]
