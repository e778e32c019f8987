"""Every write to the mall's tables."""

from __future__ import annotations

import re

from django.db import transaction

from mall.models import Code, CodePool

CODE_PATTERN = re.compile(r"^[A-Za-z0-9_-]{4,64}$")


def _code_lines(text: str) -> list[str]:
    return [line.strip() for line in (text or "").splitlines() if line.strip()]


def code_lines_rejected(*, text: str) -> list[str]:
    """The lines code_pool_import would reject (not 4-64 letters, digits, '-' or '_'); empty when all are fine.
    Forms call it to show the lines before anything is added."""
    return [line for line in _code_lines(text) if not CODE_PATTERN.match(line)]


def code_pool_import(*, pool: CodePool, text: str) -> tuple[int, list[str]]:
    """Add codes (one per line) to a pool. Returns (added, rejected lines); codes already in the pool are
    skipped. A line that is not 4-64 letters, digits, '-' or '_' is rejected and nothing is added."""
    lines = _code_lines(text)
    bad = code_lines_rejected(text=text)
    if bad:
        return 0, bad
    with transaction.atomic():
        before = Code.objects.filter(pool=pool).count()
        Code.objects.bulk_create([Code(pool=pool, code=c) for c in dict.fromkeys(lines)], ignore_conflicts=True)
        added = Code.objects.filter(pool=pool).count() - before
    return added, []
