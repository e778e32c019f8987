"""Reports — nothing built yet; this app is an empty room with its name on the door.

To come (no issue filed yet): the live dashboard, campaign KPI reports, CSV exports for analysts and finance,
satisfaction surveys. Until then it has no models, URLs, services or jobs, and nothing imports it."""
