"""mall api (see docs/architecture.md for what belongs here)."""
