from django.db import migrations


def create_groups(apps, schema_editor):
    from accounts.services import staff_groups_sync

    # Groups exist from here on; post_migrate (accounts.apps) grants permissions of apps migrated later.
    staff_groups_sync(using=schema_editor.connection.alias, apps=apps)


def drop_groups(apps, schema_editor):
    apps.get_model("auth", "Group").objects.filter(name__in=["operator", "analyst", "finance"]).delete()


class Migration(migrations.Migration):
    dependencies = [("accounts", "0001_initial"), ("auth", "0012_alter_user_first_name_max_length")]

    operations = [migrations.RunPython(create_groups, drop_groups)]
