"""Refresh-token families: every API token pair belongs to a family (one sign-in's chain of rotations) and says
whether it was revoked by rotation. Existing pairs each become their own family (their history is not recorded):
a per-row random UUID, never the one default Django would compute once for every existing row."""

import uuid

from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("accounts", "0002_staff_groups"),
    ]

    operations = [
        migrations.AddField(
            model_name="apitoken",
            name="family",
            field=models.UUIDField(editable=False, null=True),
        ),
        migrations.RunSQL(
            "UPDATE accounts_apitoken SET family = gen_random_uuid() WHERE family IS NULL",
            reverse_sql=migrations.RunSQL.noop,
        ),
        migrations.AlterField(
            model_name="apitoken",
            name="family",
            field=models.UUIDField(
                default=uuid.uuid4, editable=False, help_text="The sign-in this pair descends from."
            ),
        ),
        migrations.AddField(
            model_name="apitoken",
            name="rotated_at",
            field=models.DateTimeField(blank=True, help_text="Revoked because it was refreshed.", null=True),
        ),
        migrations.AddIndex(
            model_name="apitoken",
            index=models.Index(fields=["family"], name="accounts_ap_family_863c68_idx"),
        ),
        migrations.AddConstraint(
            model_name="apitoken",
            constraint=models.CheckConstraint(
                condition=models.Q(("rotated_at__isnull", True), ("revoked_at__isnull", False), _connector="OR"),
                name="apitoken_rotated_is_revoked",
            ),
        ),
    ]
