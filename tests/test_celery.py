import os
import subprocess
import sys
import time

import pytest

from accounts.jobs import ping


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
    result = ping.delay()
    assert result.get(timeout=60) == "pong"
    assert celery_worker_process.poll() is None
    assert time.monotonic() - started < 60
