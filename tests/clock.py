"""Run the test session with the clock moved: `PM_TEST_CLOCK=2026-12-31T23:30:00+08:00 pytest ...`.

Time starts at that instant when the session starts and moves on naturally (offset = target - real start).
What moves: `django.utils.timezone.now` — and so `localtime()`, `localdate()`, every `default=timezone.now`
and every `from django.utils.timezone import now`, because the function's code is swapped in place rather
than the module attribute (a `mock.patch("django.utils.timezone.now", ...)` in a test still wins).
The product reads time only through it (services take `now`; their default is `timezone.now()`).
What does not move: Postgres' `now()` (column defaults like `created_at`), `time.time()` (DRF throttles,
Redis TTLs, HMAC timestamps a client computes), `time.monotonic()` and a browser's JavaScript clock (so the
browser tests are not run shifted). A test that compares such a value with `timezone.now()` depends on the real
date; it must take both from one clock.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta

from django.utils import timezone as django_timezone

ENV = "PM_TEST_CLOCK"
_ORIGINAL_CODE = django_timezone.now.__code__
_installed: list[tuple[datetime, timedelta]] = []  # (target, offset) while installed


def _shifted_now() -> datetime:
    # Compiled here, executed with django.utils.timezone's globals (datetime, timezone, settings, the offset).
    return datetime.now(tz=timezone.utc if settings.USE_TZ else None) + _pm_test_clock_offset  # type: ignore[name-defined]  # noqa: F821


def target_from_env() -> datetime | None:
    """The instant PM_TEST_CLOCK names (ISO 8601 with a UTC offset), or None when unset."""
    raw = os.environ.get(ENV, "").strip()
    if not raw:
        return None
    target = datetime.fromisoformat(raw)
    if target.tzinfo is None:
        raise ValueError(f"{ENV}={raw!r}: give the UTC offset too, e.g. {raw}+08:00")
    return target


def install(target: datetime) -> timedelta:
    """Move `django.utils.timezone.now` so that it reads `target` now and runs on from there."""
    offset = target - datetime.now(UTC)
    vars(django_timezone)["_pm_test_clock_offset"] = offset
    django_timezone.now.__code__ = _shifted_now.__code__
    _installed[:] = [(target, offset)]
    return offset


def uninstall() -> None:
    django_timezone.now.__code__ = _ORIGINAL_CODE
    vars(django_timezone).pop("_pm_test_clock_offset", None)
    _installed.clear()


@contextmanager
def shifted(target: datetime) -> Iterator[timedelta]:
    """The clock moved to `target` inside the block; whatever was installed before (the session's shift or
    none) is back afterwards."""
    previous = list(_installed)
    try:
        yield install(target)
    finally:
        uninstall()
        if previous:
            _target, offset = previous[0]
            vars(django_timezone)["_pm_test_clock_offset"] = offset
            django_timezone.now.__code__ = _shifted_now.__code__
            _installed[:] = previous


def pytest_configure(config: object) -> None:
    target = target_from_env()
    if target is not None:
        install(target)


def pytest_unconfigure(config: object) -> None:
    if _installed:
        uninstall()


def pytest_report_header(config: object) -> str | None:
    if not _installed:
        return None
    target, offset = _installed[0]
    return f"clock: {ENV}={target.isoformat()} (timezone.now() shifted by {offset})"
