"""Physical prizes ship through shipments.Shipment (ADR 0005): every lottery_fulfilment row is copied there with the
same id (sheets exported before the upgrade still import), owner lottery.prize / draw id, key draw:<draw id>, the
prize's names and everything else unchanged; lottery_spin() now calls shipment_create(). The next migration drops
the old table. The copy is reversible: unapplying it copies the wheel's shipments back."""

from typing import Any

from django.db import migrations

from config.sqlfiles import ApplySql

OWNER_KIND = "lottery.prize"
BATCH = 1000
COPIED = (
    "status",
    "claim_deadline",
    "recipient",
    "phone",
    "province",
    "city",
    "district",
    "detail",
    "postal_code",
    "carrier",
    "tracking_number",
    "address_at",
    "shipped_at",
    "delivered_at",
    "returned_at",
    "expired_at",
    "created_at",
)


def _move_sequence(schema_editor: Any, table: str) -> None:
    """The table's id sequence continues after the highest id (copied rows kept their ids)."""
    schema_editor.execute(
        f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), coalesce((SELECT max(id) FROM {table}), 1), "
        f"(SELECT max(id) FROM {table}) IS NOT NULL)"
    )


def fulfilments_to_shipments(apps: Any, schema_editor: Any) -> None:
    fulfilment_model = apps.get_model("lottery", "Fulfilment")
    shipment_model = apps.get_model("shipments", "Shipment")
    rows = fulfilment_model.objects.select_related("prize").order_by("id")
    last = 0
    while True:
        batch = list(rows.filter(id__gt=last)[:BATCH])
        if not batch:
            break
        shipment_model.objects.bulk_create(
            shipment_model(
                id=f.id,
                owner_kind=OWNER_KIND,
                owner_id=f.draw_id,
                idempotency_key=f"draw:{f.draw_id}",
                member_id=f.user_id,
                item_name=f.prize.name,
                item_name_en=f.prize.name_en,
                **{field: getattr(f, field) for field in COPIED},
            )
            for f in batch
        )
        last = batch[-1].id
    _move_sequence(schema_editor, shipment_model._meta.db_table)


def shipments_to_fulfilments(apps: Any, schema_editor: Any) -> None:
    fulfilment_model = apps.get_model("lottery", "Fulfilment")
    shipment_model = apps.get_model("shipments", "Shipment")
    draw_model = apps.get_model("lottery", "Draw")
    shipments = shipment_model.objects.filter(owner_kind=OWNER_KIND).order_by("id")
    last = 0
    while True:
        batch = list(shipments.filter(id__gt=last)[:BATCH])
        if not batch:
            break
        prizes = dict(draw_model.objects.filter(id__in=[s.owner_id for s in batch]).values_list("id", "prize_id"))
        fulfilment_model.objects.bulk_create(
            fulfilment_model(
                id=s.id,
                draw_id=s.owner_id,
                user_id=s.member_id,
                prize_id=prizes[s.owner_id],
                **{field: getattr(s, field) for field in COPIED},
            )
            for s in batch
        )
        last = batch[-1].id
    shipments.delete()
    _move_sequence(schema_editor, fulfilment_model._meta.db_table)


def retire_old_job(apps: Any, schema_editor: Any) -> None:
    """The expiry job is shipments.expire now; beat installs it from settings but keeps rows it no longer knows."""
    periodic_task = apps.get_model("django_celery_beat", "PeriodicTask")
    periodic_task.objects.filter(task="lottery.fulfilments_expire").delete()


class Migration(migrations.Migration):
    dependencies = [
        ("lottery", "0003_spin_sql"),
        ("shipments", "0001_initial"),
        ("django_celery_beat", "0001_initial"),
    ]

    operations = [
        migrations.RunPython(fulfilments_to_shipments, shipments_to_fulfilments),
        ApplySql(
            "lottery/sql/lottery_spin.sql", sha256="735be56f26d182336e6a9ed307e557f51e2761a3c27e65e168e5751a0ca219ca"
        ),
        migrations.RunPython(retire_old_job, migrations.RunPython.noop),
    ]
