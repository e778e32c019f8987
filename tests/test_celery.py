import os
import subprocess
import sys
import time
from unittest import mock

import pytest
from kombu.exceptions import OperationalError

from accounts.jobs import ping
from config.celery import app
from config.settings import base as base_settings


@pytest.fixture(scope="module")
def celery_worker_process():
    yield from start_worker()


def start_worker(database: str | None = None):
    """A real Celery worker in a subprocess (on the test database when `database` is given)."""
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "config.settings.test"}
    if database:
        env["TEST_DATABASE_NAME"] = database
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "celery",
            "-A",
            "config",
            "worker",
            "--pool=solo",
            "--concurrency=1",
            "--loglevel=WARNING",
            "--without-gossip",
            "--without-mingle",
            "--without-heartbeat",
        ],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        yield proc
    finally:  # also on generator close(): a worker left running would hold the test database open
        proc.terminate()
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=20)


@pytest.mark.celery
def test_real_worker_runs_ping(celery_worker_process):
    started = time.monotonic()
    # Jobs keep no result (CELERY_TASK_IGNORE_RESULT); this probe asks for one, from the test settings' backend.
    result = ping.apply_async(ignore_result=False)
    assert result.get(timeout=60) == "pong"
    assert celery_worker_process.poll() is None
    assert time.monotonic() - started < 60


def test_jobs_are_fire_and_forget():
    """No job keeps a result and no result backend unless one is configured on purpose: with a Redis result
    backend, `.delay()` subscribes to each task's result and, with Redis down, blocks the caller for ~20 s."""
    assert app.conf.task_ignore_result is True
    assert ping.ignore_result is True
    assert os.environ.get("CELERY_RESULT_BACKEND") == base_settings.CELERY_RESULT_BACKEND  # none unless asked for
    assert app.conf.task_publish_retry_policy["max_retries"] <= 1
    assert {"socket_connect_timeout", "socket_timeout"} <= set(app.conf.broker_transport_options)


def test_publishing_with_the_broker_down_fails_at_once_without_touching_results(monkeypatch):
    """`.delay()` with Redis down raises (callers catch it: tasks/checkins.py) after one retry, and never asks the
    result backend to follow the task."""
    from tests.test_redis_outage import celery_broker

    monkeypatch.setattr(type(app.backend), "on_task_call", mock.Mock(side_effect=AssertionError("subscribed")))
    with celery_broker("redis://127.0.0.1:1/0"), pytest.raises(OperationalError):
        ping.delay()
