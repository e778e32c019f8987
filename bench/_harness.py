"""Shared bench plumbing: a throwaway database, worker processes, and the RESULT line."""

from __future__ import annotations

import multiprocessing as mp
import os
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

import psycopg

ROOT = Path(__file__).resolve().parent.parent
BASE_URL = os.environ.get("DATABASE_URL", "postgres://postgres@127.0.0.1:5432/pointsmall")


def bench_db_url(name: str) -> str:
    return urlparse(BASE_URL)._replace(path=f"/{name}").geturl()


def fresh_database(name: str) -> str:
    """Drop and recreate `name`, migrate it, and return its URL. Never touches the dev or test databases."""
    admin = urlparse(BASE_URL)._replace(path="/postgres").geturl()
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{name}"')
    url = bench_db_url(name)
    env = {**os.environ, "DATABASE_URL": url, "DJANGO_SETTINGS_MODULE": "config.settings.dev", "LOG_LEVEL": "WARNING"}
    subprocess.run([sys.executable, "manage.py", "migrate", "--noinput", "-v", "0"], cwd=ROOT, env=env, check=True)
    return url


def django_setup(url: str) -> None:
    os.environ["DATABASE_URL"] = url
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.dev")
    os.environ["LOG_LEVEL"] = "WARNING"
    os.environ["DEBUG"] = "false"
    sys.path.insert(0, str(ROOT))
    import django

    django.setup()


def _run_worker(  # noqa: PLR0917 - multiprocessing passes these positionally
    target: Callable[..., int],
    args: tuple[Any, ...],
    start: Any,
    seconds: float,
    out: Any,
    django_url: str | None,
    ready: Any,
) -> None:
    if django_url:
        django_setup(django_url)  # before the clock starts: importing Django is not what we measure
    ready.wait(timeout=120)
    start.wait()
    deadline = time.perf_counter() + seconds
    out.put(target(*args, deadline=deadline))


def run_workers(
    target: Callable[..., int], per_worker_args: list[tuple[Any, ...]], seconds: float, *, django_url: str | None = None
) -> float:
    """Run target(*args, deadline=...) in one process per args tuple, all started together; return ops/s.
    With `django_url`, each worker sets Django up against that database before the clock starts."""
    ctx = mp.get_context("spawn")
    start = ctx.Event()
    out = ctx.Queue()
    ready = ctx.Barrier(len(per_worker_args) + 1)
    procs = [
        ctx.Process(target=_run_worker, args=(target, args, start, seconds, out, django_url, ready))
        for args in per_worker_args
    ]
    for p in procs:
        p.start()
    ready.wait(timeout=120)  # every worker has imported what it needs
    t0 = time.perf_counter()
    start.set()
    total = sum(out.get(timeout=seconds + 120) for _ in procs)
    elapsed = time.perf_counter() - t0
    for p in procs:
        p.join(timeout=30)
    return total / elapsed


def result_line(name: str, **figures: float) -> str:
    parts = " ".join(f"{k}={v:.3f}" if isinstance(v, float) else f"{k}={v}" for k, v in figures.items())
    return f"RESULT {name} {parts}"


def bench_members(url: str, accounts: int) -> tuple[list[int], list[int]]:
    """Insert `accounts` members (fast, no password hashing) and a bare `bench_raw_wallet` table of as many
    rows for the raw one-statement baseline. Returns (member ids, raw wallet ids)."""
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute(
            "INSERT INTO accounts_user (password, phone, email, display_name, language, is_staff, is_active, "
            "is_superuser, date_joined, avatar) SELECT '!', '+86130' || lpad(g::text, 8, '0'), NULL, '', 'zh-hans', "
            "false, true, false, now(), '' FROM generate_series(1, %s) g",
            (accounts,),
        )
        user_ids = [r[0] for r in conn.execute("SELECT id FROM accounts_user ORDER BY id").fetchall()]
        conn.execute(
            "CREATE TABLE bench_raw_wallet (id bigint PRIMARY KEY, balance bigint NOT NULL CHECK (balance >= 0))"
        )
        conn.execute("INSERT INTO bench_raw_wallet SELECT g, 1000000 FROM generate_series(1, %s) g", (accounts,))
    return user_ids, list(range(1, accounts + 1))
