"""Invites — nothing built yet; this app is an empty room with its name on the door.

To come (issue 14, "Invite friends"): invite codes, links and QR posters, attribution of qualified invites,
rewards through the campaigns value gate, anti-fraud with a review queue, the invite leaderboard. Until then
it has no models, URLs, services or jobs, and nothing imports it."""
