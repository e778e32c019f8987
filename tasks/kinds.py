"""The ledger kinds tasks posts (registered with points.kinds; imported by PointsConfig.ready())."""

from django.utils.translation import gettext_lazy as _

from points.kinds import register

CHECKIN = register("checkin", _("daily check-in"), owner="tasks")
STREAK_BONUS = register("streak_bonus", _("streak bonus"), owner="tasks")
MAKEUP_CHECKIN = register("makeup_checkin", _("make-up check-in"), owner="tasks")
TASK_REWARD = register("task_reward", _("task reward"), owner="tasks")
