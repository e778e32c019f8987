"""tasks selectors (see docs/architecture.md for what belongs here)."""
