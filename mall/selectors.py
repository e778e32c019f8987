"""Reads of the mall shared by pages, API, admin and other apps."""

from __future__ import annotations

from mall.models import Code


def codes_free(*, pool_id: int) -> int:
    """How many codes of the pool nobody has yet."""
    return Code.objects.filter(pool_id=pool_id, assigned_to__isnull=True).count()
