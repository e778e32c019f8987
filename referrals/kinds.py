"""The ledger kinds of invites (registered with points.kinds; imported by PointsConfig.ready())."""

from django.utils.translation import gettext_lazy as _

from points.kinds import register

REFERRAL_REWARD = register("referral_reward", _("invite reward"), owner="referrals")
NEWCOMER_GIFT = register("newcomer_gift", _("newcomer gift"), owner="referrals")
REFERRAL_TOP = register("referral_top", _("invite leaderboard prize"), owner="referrals")
