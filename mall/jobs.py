"""mall jobs (see docs/architecture.md for what belongs here)."""

from celery import shared_task
from django.utils import timezone

from mall import codes, settlement


@shared_task(name="mall.statements_monthly")
def statements_monthly() -> int:
    """Last calendar month's supplier statements (Asia/Shanghai), for every supplier with activity; beat runs it on
    the 1st at 02:00 Shanghai time. Safe to run twice: unsettled statements are refreshed in place, settled ones
    kept (one whose figures changed since is logged as an error by statements_generate, never rewritten)."""
    now = timezone.now()
    period_start, period_end = settlement.month_before(now=now)
    return len(settlement.statements_generate(period_start=period_start, period_end=period_end, now=now).statements)


@shared_task(name="mall.pools_low_check")
def pools_low_check() -> int:
    """Code pools in use (listed products, live wheel prizes) with fewer free codes than their threshold: alert the
    operators once per pool until it is refilled (mall.codes.code_pools_low_check). Safe to run twice or at once:
    each alert is a conditional update. Returns the number of pools alerted now."""
    return len(codes.code_pools_low_check(now=timezone.now()))
