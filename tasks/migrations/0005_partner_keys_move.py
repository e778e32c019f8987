"""Partner API keys move to partners.ApiKey (step 2 of 3): every key is copied with its id, key id, signing key,
creator, times and revocation; its campaign becomes the key's default campaign. Every ingested event points at
its key's copy and records that campaign. Reversible while every key has a default campaign."""

from django.core.management.color import no_style
from django.db import migrations
from django.db.models import F, OuterRef, Subquery


def keys_move(apps, schema_editor):
    old_key = apps.get_model("tasks", "ApiKey")
    new_key = apps.get_model("partners", "ApiKey")
    event = apps.get_model("tasks", "IngestedEvent")
    db = schema_editor.connection.alias
    for old in old_key.objects.using(db).order_by("pk"):
        new_key.objects.using(db).create(
            pk=old.pk,
            name=old.name,
            key_id=old.key_id,
            signing_key=old.signing_key,
            default_campaign_id=old.campaign_id,
            created_by_id=old.created_by_id,
            last_used_at=old.last_used_at,
            revoked_at=old.revoked_at,
        )
        # created_at is auto_now_add: put the original time back.
        new_key.objects.using(db).filter(pk=old.pk).update(created_at=old.created_at)
    event.objects.using(db).update(
        partner_key_id=F("api_key_id"),
        campaign_id=Subquery(old_key.objects.using(db).filter(pk=OuterRef("api_key_id")).values("campaign_id")[:1]),
    )
    _sequence_reset(schema_editor, new_key)


def keys_move_back(apps, schema_editor):
    old_key = apps.get_model("tasks", "ApiKey")
    new_key = apps.get_model("partners", "ApiKey")
    event = apps.get_model("tasks", "IngestedEvent")
    db = schema_editor.connection.alias
    homeless = list(new_key.objects.using(db).filter(default_campaign__isnull=True).values_list("key_id", flat=True))
    if homeless:
        raise RuntimeError(f"Cannot move partner keys without a default campaign back to tasks: {homeless}")
    for new in new_key.objects.using(db).order_by("pk"):
        old_key.objects.using(db).create(
            pk=new.pk,
            name=new.name,
            key_id=new.key_id,
            signing_key=new.signing_key,
            campaign_id=new.default_campaign_id,
            created_by_id=new.created_by_id,
            last_used_at=new.last_used_at,
            revoked_at=new.revoked_at,
        )
        old_key.objects.using(db).filter(pk=new.pk).update(created_at=new.created_at)
    event.objects.using(db).update(api_key_id=F("partner_key_id"))
    new_key.objects.using(db).all().delete()
    _sequence_reset(schema_editor, old_key)


def _sequence_reset(schema_editor, model):
    """Rows were inserted with explicit ids: move the id sequence past them."""
    with schema_editor.connection.cursor() as cursor:
        for sql in schema_editor.connection.ops.sequence_reset_sql(no_style(), [model]):
            cursor.execute(sql)


class Migration(migrations.Migration):
    dependencies = [("tasks", "0004_partner_keys_columns")]

    operations = [migrations.RunPython(keys_move, keys_move_back)]
