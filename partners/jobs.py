"""partners jobs (see docs/architecture.md for what belongs here)."""
