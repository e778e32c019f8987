"""The value gate in SQL (campaigns/sql): campaign_grant, campaign_charge and campaign_multiplier_issue, which the
Python services wrap and the prize wheel's lottery_spin calls (ADR 0002, "One value gate")."""

from django.db import migrations

from config.sqlfiles import ApplySql


class Migration(migrations.Migration):
    dependencies = [
        ("campaigns", "0002_multipliercard"),
        ("points", "0007_reason_en_and_expiry_in_sql"),
    ]

    operations = [
        ApplySql(
            "campaigns/sql/campaign_grant.sql",
            sha256="6cf8860a115cf11c3832b079fb8ee12b703f651b48bd137f8462f8a83fecda6b",
            reverse_sql=(
                "DROP FUNCTION IF EXISTS campaign_grant(text, bigint, bigint, bigint, text, text, integer, text, "
                "timestamptz, timestamptz, text)"
            ),
        ),
        ApplySql(
            "campaigns/sql/campaign_charge.sql",
            sha256="72fb8ca7a50896e97a3ddfcbd7f8d47ed98b914e1597cf914a1b437dcc940a3d",
            reverse_sql=(
                "DROP FUNCTION IF EXISTS campaign_charge(text, bigint, bigint, bigint, text, text, integer, text, "
                "timestamptz, text)"
            ),
        ),
        ApplySql(
            "campaigns/sql/campaign_multiplier_issue.sql",
            sha256="d10303766f826dbe39900d6cedb8f2146f6c7f3cf24fc7c8b1ba6e1aff00a854",
            reverse_sql=(
                "DROP FUNCTION IF EXISTS campaign_multiplier_issue(bigint, bigint, integer, integer, text, timestamptz)"
            ),
        ),
    ]
