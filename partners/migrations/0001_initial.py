import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models


class Migration(migrations.Migration):
    initial = True

    dependencies = [
        ("campaigns", "0001_initial"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.CreateModel(
            name="ApiKey",
            fields=[
                ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
                ("name", models.CharField(max_length=80, verbose_name="partner system")),
                ("key_id", models.CharField(max_length=40, unique=True, verbose_name="key id")),
                ("signing_key", models.CharField(max_length=64)),
                ("created_at", models.DateTimeField(auto_now_add=True, verbose_name="created at")),
                ("last_used_at", models.DateTimeField(blank=True, null=True, verbose_name="last used")),
                ("revoked_at", models.DateTimeField(blank=True, null=True, verbose_name="revoked at")),
                (
                    "default_campaign",
                    models.ForeignKey(
                        blank=True,
                        help_text="Events that name no campaign count for this one.",
                        null=True,
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="+",
                        to="campaigns.campaign",
                        verbose_name="default campaign",
                    ),
                ),
                (
                    "campaigns",
                    models.ManyToManyField(
                        blank=True,
                        help_text="Events may name these campaigns (by slug) besides the default campaign.",
                        related_name="+",
                        to="campaigns.campaign",
                        verbose_name="other campaigns allowed",
                    ),
                ),
                (
                    "created_by",
                    models.ForeignKey(
                        blank=True,
                        null=True,
                        on_delete=django.db.models.deletion.SET_NULL,
                        related_name="+",
                        to=settings.AUTH_USER_MODEL,
                    ),
                ),
            ],
            options={
                "verbose_name": "partner API key",
                "verbose_name_plural": "partner API keys",
                "permissions": [
                    ("issue_apikey", "Can issue partner API keys"),
                    ("revoke_apikey", "Can revoke partner API keys"),
                ],
            },
        ),
    ]
