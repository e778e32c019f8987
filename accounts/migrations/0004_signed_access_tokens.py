"""Signed access tokens (ADR 0012): the triggers that notify web processes of revoked tokens, and the index their
start-up load reads (revoked tokens not yet expired)."""

from django.db import migrations, models
from django.db.models import Q

from config.sqlfiles import ApplySql

REVERSE = [
    "DROP TRIGGER IF EXISTS accounts_user_deactivated ON accounts_user",
    "DROP TRIGGER IF EXISTS accounts_apitoken_deleted ON accounts_apitoken",
    "DROP TRIGGER IF EXISTS accounts_apitoken_revoked ON accounts_apitoken",
    "DROP FUNCTION IF EXISTS accounts_user_deactivated()",
    "DROP FUNCTION IF EXISTS accounts_token_revoked_notify()",
]


class Migration(migrations.Migration):
    dependencies = [
        ("accounts", "0003_token_families"),
    ]

    operations = [
        ApplySql(
            "accounts/sql/accounts_token_revoked.sql",
            sha256="b75bfcb27f6566348f10ac04a9a09f32b0cd6f09a1dc0a4f116d2f677900da91",
            reverse_sql=REVERSE,
        ),
        migrations.AddIndex(
            model_name="apitoken",
            index=models.Index(
                fields=["access_expires_at"], condition=Q(revoked_at__isnull=False), name="apitoken_revoked_live"
            ),
        ),
    ]
