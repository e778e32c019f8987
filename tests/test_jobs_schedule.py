"""The beat schedule names jobs that exist, beat can install it, and the jobs run (eagerly, in-process)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from datetime import timedelta
from pathlib import Path

import pytest
from django.conf import settings
from django.utils import timezone
from django_celery_beat.models import PeriodicTask
from django_celery_beat.schedulers import DatabaseScheduler

from accounts.jobs import idempotency_prune
from accounts.models import IdempotencyRecord
from config.celery import app as celery_app
from points import jobs, selectors
from points.models import AccountDelta, ReconciliationRun, Transfer
from tests.points.conftest import earn, spend, wallet

ROOT = Path(__file__).resolve().parents[1]
EXPECTED = {
    "points.rollup",
    "points.expire_lots",
    "points.reconcile",
    "accounts.idempotency_prune",
    "shipments.expire",
    "mall.pools_low_check",
    "referrals.leaderboard_snapshot",
    "referrals.final_awards",
    "referrals.later_login_sweep",
    "referrals.idle_sweep",
}

DISCOVER = """
import django
django.setup()
from config.celery import app
app.loader.import_default_modules()  # what `celery worker` and `celery beat` do at start-up
import json
print(json.dumps(sorted(name for name in app.tasks if not name.startswith("celery."))))
"""


def test_schedule_names_the_ledger_jobs() -> None:
    scheduled = {entry["task"] for entry in settings.CELERY_BEAT_SCHEDULE.values()}
    assert scheduled >= EXPECTED
    assert celery_app.conf.beat_schedule == settings.CELERY_BEAT_SCHEDULE


def test_autodiscovery_registers_every_scheduled_task_in_a_fresh_process() -> None:
    """A new interpreter (nothing imported by other tests) finds every job through autodiscover_tasks()."""
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "config.settings.test"}
    out = subprocess.run(
        [sys.executable, "-c", DISCOVER], cwd=ROOT, env=env, capture_output=True, text=True, timeout=120, check=True
    )
    registered = set(json.loads(out.stdout.strip().splitlines()[-1]))
    scheduled = {entry["task"] for entry in settings.CELERY_BEAT_SCHEDULE.values()}
    assert scheduled <= registered, f"scheduled but not registered: {scheduled - registered}"
    assert registered >= EXPECTED


@pytest.mark.django_db(transaction=True)  # the scheduler closes and reopens its database connection
def test_beat_installs_the_schedule_into_the_database() -> None:
    DatabaseScheduler(app=celery_app)  # what `celery beat` does at start-up
    installed = dict(PeriodicTask.objects.values_list("name", "task"))
    for name, entry in settings.CELERY_BEAT_SCHEDULE.items():
        assert installed.get(name) == entry["task"]
    reconcile = PeriodicTask.objects.get(name="points-reconcile")
    assert (reconcile.crontab.hour, reconcile.crontab.minute) == ("19", "30")
    assert PeriodicTask.objects.get(name="points-rollup").interval.every == 60


@pytest.mark.django_db
def test_expire_lots_job_runs_eagerly(member) -> None:
    now = timezone.now()
    earn(member, 50, now=now - timedelta(days=40), expires_at=now - timedelta(days=1))
    earn(member, 20, now=now, expires_at=None)

    result = jobs.expire_lots.apply()
    assert result.successful(), result.traceback
    assert result.get() == 1
    assert Transfer.objects.filter(kind="expire", amount=50).count() == 1
    assert wallet(member).balance == 20
    assert selectors.balance_for(user_id=member.pk).spendable == 20
    assert jobs.expire_lots.apply().get() == 0  # idempotent: nothing left to expire


@pytest.mark.django_db
def test_rollup_and_reconcile_jobs_run_eagerly(member) -> None:
    earn(member, 100)
    spend(member, 30, key="s1")
    assert AccountDelta.objects.exists()

    result = jobs.rollup.apply()
    assert result.successful(), result.traceback
    assert result.get() > 0
    assert not AccountDelta.objects.exists()

    earn(member, 5)  # reconcile folds what arrived since, then audits
    result = jobs.reconcile.apply()
    assert result.successful(), result.traceback
    assert result.get() is True
    run = ReconciliationRun.objects.get()
    assert run.ok, run.drift
    assert run.accounts_checked >= 3


@pytest.mark.django_db
def test_idempotency_prune_job_runs_eagerly(member) -> None:
    old = IdempotencyRecord.objects.create(user=member, key="old", method="POST", path="/x", request_digest="a")
    fresh = IdempotencyRecord.objects.create(user=member, key="new", method="POST", path="/x", request_digest="b")
    IdempotencyRecord.objects.filter(pk=old.pk).update(created_at=timezone.now() - timedelta(days=2))

    result = idempotency_prune.apply()
    assert result.successful(), result.traceback
    assert result.get() == 1
    assert list(IdempotencyRecord.objects.values_list("pk", flat=True)) == [fresh.pk]
