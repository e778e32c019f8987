"""Suppliers become rows: a code pool's free-text supplier name turns into a Supplier of that name."""

import django.db.models.deletion
from django.db import migrations, models


def names_to_suppliers(apps, schema_editor):
    CodePool = apps.get_model("mall", "CodePool")
    Supplier = apps.get_model("mall", "Supplier")
    for pool in CodePool.objects.exclude(supplier_name=""):
        supplier, _ = Supplier.objects.get_or_create(name=pool.supplier_name[:80])
        pool.supplier = supplier
        pool.save(update_fields=["supplier"])


def suppliers_to_names(apps, schema_editor):
    CodePool = apps.get_model("mall", "CodePool")
    for pool in CodePool.objects.exclude(supplier=None).select_related("supplier"):
        pool.supplier_name = pool.supplier.name
        pool.save(update_fields=["supplier_name"])


class Migration(migrations.Migration):
    dependencies = [("mall", "0001_initial")]

    operations = [
        migrations.CreateModel(
            name="Supplier",
            fields=[
                ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
                ("name", models.CharField(max_length=80, unique=True, verbose_name="name")),
                ("name_en", models.CharField(blank=True, max_length=80, verbose_name="name (English)")),
                ("contact_name", models.CharField(blank=True, max_length=80, verbose_name="contact")),
                ("contact_phone", models.CharField(blank=True, max_length=32, verbose_name="contact phone")),
                ("contact_email", models.EmailField(blank=True, max_length=254, verbose_name="contact e-mail")),
                ("settlement_terms", models.TextField(blank=True, verbose_name="settlement terms")),
                ("created_at", models.DateTimeField(auto_now_add=True, verbose_name="created at")),
            ],
            options={"verbose_name": "supplier", "verbose_name_plural": "suppliers", "ordering": ["name"]},
        ),
        migrations.RenameField("codepool", "supplier", "supplier_name"),
        migrations.AddField(
            model_name="codepool",
            name="supplier",
            field=models.ForeignKey(
                blank=True, null=True, on_delete=django.db.models.deletion.PROTECT, related_name="code_pools",
                to="mall.supplier", verbose_name="supplier",
            ),
        ),
        migrations.RunPython(names_to_suppliers, suppliers_to_names),
        migrations.RemoveField("codepool", "supplier_name"),
    ]
