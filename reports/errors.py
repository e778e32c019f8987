"""reports errors (see docs/architecture.md for what belongs here)."""
