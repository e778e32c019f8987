"""Partner API keys move to partners.ApiKey (step 3 of 3): IngestedEvent.api_key now points at partners.ApiKey
(still UNIQUE (key, event id)), its campaign is required, and tasks.ApiKey is gone."""

import django.db.models.deletion
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [("tasks", "0005_partner_keys_move")]

    operations = [
        migrations.RemoveConstraint(model_name="ingestedevent", name="ingested_event_once"),
        migrations.RemoveField(model_name="ingestedevent", name="api_key"),
        migrations.RenameField(model_name="ingestedevent", old_name="partner_key", new_name="api_key"),
        migrations.AlterField(
            model_name="ingestedevent",
            name="api_key",
            field=models.ForeignKey(
                on_delete=django.db.models.deletion.PROTECT, related_name="events", to="partners.apikey"
            ),
        ),
        migrations.AlterField(
            model_name="ingestedevent",
            name="campaign",
            field=models.ForeignKey(
                on_delete=django.db.models.deletion.PROTECT,
                related_name="+",
                to="campaigns.campaign",
                verbose_name="campaign",
            ),
        ),
        migrations.AddConstraint(
            model_name="ingestedevent",
            constraint=models.UniqueConstraint(fields=("api_key", "event_id"), name="ingested_event_once"),
        ),
        migrations.DeleteModel(name="ApiKey"),
    ]
