"""Bulk wallet creation inserts in user-id order, so overlapping batches cannot deadlock on the unique index."""

from django.db import migrations

from config.sqlfiles import ApplySql


class Migration(migrations.Migration):
    dependencies = [("points", "0008_replay_matches_campaign")]

    operations = [
        ApplySql(
            "points/sql/points_member_accounts.sql",
            sha256="c3e56a8c2de0ec201f5b062a35ed133530585ff093dba39b36a391a370c3641a",
        ),
    ]
