from typing import Any

from django.apps import AppConfig
from django.db.models.signals import post_migrate
from django.utils.translation import gettext_lazy as _


def _sync_staff_groups(sender: AppConfig, using: str = "default", **kwargs: Any) -> None:
    from accounts.services import staff_groups_sync

    staff_groups_sync(using=using)


class AccountsConfig(AppConfig):
    name = "accounts"
    verbose_name = _("Accounts")

    def ready(self) -> None:
        # Infrastructure, not business logic: permissions of apps migrated later join the staff groups.
        post_migrate.connect(_sync_staff_groups, sender=self, dispatch_uid="accounts.staff_groups_sync")
