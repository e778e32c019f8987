"""Celery jobs of the partner programme (autodiscovered as `partners.jobs`): monthly statements and the monthly
tier review, both on the 1st in Shanghai time (config/settings/base.py). Both are idempotent per partner per month,
so a re-run, a retry or a catch-up after a missed month books nothing twice."""

from __future__ import annotations

from celery import shared_task

from partners import statements, tiers


@shared_task(name="partners.statements_issue")
def statements_issue() -> int:
    """Every active partner's statements for the ended months that have none yet. Returns how many were issued."""
    return statements.statements_issue_due()


@shared_task(name="partners.tiers_review")
def tiers_review() -> int:
    """Move partners up to the tier their tenure and last twelve months' sales earn. Returns the upgrades."""
    return tiers.tiers_review()
