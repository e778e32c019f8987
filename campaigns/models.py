"""campaigns models (see docs/architecture.md for what belongs here)."""
