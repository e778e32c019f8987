"""points_member_account_find in PL/pgSQL (issue 12): Postgres (before 18) plans a LANGUAGE sql function that it
cannot inline afresh in every transaction that calls it — every spin, order and balance read; PL/pgSQL keeps its
plan for the session. Same answer."""

from django.db import migrations

from config.sqlfiles import ApplySql


class Migration(migrations.Migration):
    dependencies = [("points", "0016_transfer_key_one_index")]

    operations = [
        ApplySql(
            "points/sql/points_member_account_find.sql",
            sha256="99b1687a27e8745c77bed4703c0cd9b670ef8153b7d867f957245f26abb0fdc4",
        ),
    ]
