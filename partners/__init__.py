"""Partner systems and, later, partners (dealers and agents).

Built: API keys of partner systems and the HMAC request signature they sign server-to-server calls with
(`models.ApiKey`, `signing.py`, `services.py`, the DRF `authentication.PartnerSignatureAuthentication` used by
POST /api/v1/events). Partner sales will authenticate the same way.

To come (the partners issue): dealers and agents, their sales, tiered rebates, partner referrals and tiers,
statements."""
