from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _

from accounts import panels, signup


class ReferralsConfig(AppConfig):
    name = "referrals"
    verbose_name = _("Referrals")

    def ready(self) -> None:
        from referrals.profile import title_badges  # noqa: PLC0415 — it uses models, loaded once apps are ready
        from referrals.signup import invite_on_signup  # noqa: PLC0415 — it uses models, loaded once apps are ready

        # A new member's invite code (typed, or recorded by an invite link) is attributed right after sign-up.
        signup.register("referrals.invite", invite_on_signup)
        # Title badges won on invite leaderboards show on the member's profile.
        panels.register(title_badges)
