"""Partner API keys move to partners.ApiKey (step 1 of 3): IngestedEvent gets a column for its new key and one
for its campaign (a key no longer implies the campaign); the old key column becomes nullable so that the move
can be reversed."""

import django.db.models.deletion
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("tasks", "0003_event_counted_sql"),
        ("partners", "0001_initial"),
    ]

    operations = [
        migrations.AddField(
            model_name="ingestedevent",
            name="partner_key",
            field=models.ForeignKey(
                null=True, on_delete=django.db.models.deletion.PROTECT, related_name="+", to="partners.apikey"
            ),
        ),
        migrations.AddField(
            model_name="ingestedevent",
            name="campaign",
            field=models.ForeignKey(
                null=True,
                on_delete=django.db.models.deletion.PROTECT,
                related_name="+",
                to="campaigns.campaign",
                verbose_name="campaign",
            ),
        ),
        migrations.AlterField(
            model_name="ingestedevent",
            name="api_key",
            field=models.ForeignKey(
                null=True, on_delete=django.db.models.deletion.PROTECT, related_name="events", to="tasks.apikey"
            ),
        ),
    ]
