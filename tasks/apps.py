from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _

from config.config_cache import config_tracks


class TasksConfig(AppConfig):
    name = "tasks"
    verbose_name = _("Tasks")

    def ready(self) -> None:
        from tasks.models import CheckInRule, StreakReward, TaskDefinition  # noqa: PLC0415 - models load once the registry is ready

        # the configuration cache (config/config_cache.py) reloads when these change
        config_tracks(CheckInRule, StreakReward, TaskDefinition)
