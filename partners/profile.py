"""The partner portal's link on the profile page of a partner user (and nobody else), registered with
accounts.panels by PartnersConfig.ready()."""

from __future__ import annotations

from accounts.panels import Panel
from partners.models import PartnerUser


def portal_link(*, user_id: int) -> Panel | None:
    company = PartnerUser.objects.filter(user_id=user_id).values_list("partner__company", flat=True).first()
    return Panel("partners/_profile_portal.html", {"company": company}) if company is not None else None
