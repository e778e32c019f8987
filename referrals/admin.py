"""referrals admin (see docs/architecture.md for what belongs here)."""
