from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _

from accounts import panels
from campaigns import earning


class LevelsConfig(AppConfig):
    name = "levels"
    verbose_name = _("Member levels")

    def ready(self) -> None:
        from levels.earning import on_member_earned  # noqa: PLC0415 — it uses models, loaded once apps are ready
        from levels.profile import level_panel  # noqa: PLC0415 — it uses models, loaded once apps are ready

        # Promotion right after the earning commits (campaigns/earning.py): queued in memory, sent to Redis once a
        # second per process (one SADD), healed by the sweep.
        earning.register("levels.evaluate", on_member_earned)
        # The member's level (and the way to their level page) on the profile.
        panels.register(level_panel)
