"""The demo's member levels (called by `manage.py seed_demo`): the 青铜 / 白银 / 黄金 / 铂金 (Bronze, Silver, Gold,
Platinum) ladder of the demo campaign, created once, so the level page shows the member's level, progress bars and
the benefits table. The member is not evaluated here (the seed's points history stays as it is): with `make run` the
minute sweep (levels.sweep) evaluates everyone the seed credited, and pays their level rewards, within a minute."""

from __future__ import annotations

from campaigns.models import Campaign
from levels.builders import ladder_build
from levels.models import Ladder


def demo_ladder(*, campaign: Campaign) -> Ladder:
    """The active demo ladder (created on the first run; later runs leave an operator's changes alone)."""
    ladder = Ladder.objects.filter(campaign=campaign).order_by("pk").first()
    if ladder is None:
        ladder = ladder_build(campaign=campaign, name="会员等级", name_en="Member levels", combine="any", period="none")
    return ladder
