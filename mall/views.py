"""mall views (see docs/architecture.md for what belongs here)."""
