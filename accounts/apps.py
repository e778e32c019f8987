from typing import Any

from django.apps import AppConfig
from django.db.models.signals import post_migrate
from django.utils.translation import gettext_lazy as _

from config.db_pool import db_pool_checks_install


def _sync_staff_groups(sender: AppConfig, using: str = "default", **kwargs: Any) -> None:
    from accounts.services import staff_groups_sync  # noqa: PLC0415 — its models load only once apps are ready

    staff_groups_sync(using=using)


class AccountsConfig(AppConfig):
    name = "accounts"
    verbose_name = _("Accounts")

    def ready(self) -> None:
        # Infrastructure, not business logic: after each app's post_migrate (auth has created that app's
        # permissions by then) the staff groups pick up the permissions they are meant to have.
        post_migrate.connect(_sync_staff_groups, dispatch_uid="accounts.staff_groups_sync")
        # Infrastructure too: a dead pooled connection makes the pool test all its idle ones (config/db_pool.py).
        db_pool_checks_install()
