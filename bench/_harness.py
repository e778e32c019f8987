"""Shared bench plumbing: a throwaway database, worker processes, a gunicorn server, and the RESULT line."""

from __future__ import annotations

import multiprocessing as mp
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Callable, Iterator
from contextlib import contextmanager
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


def result_line(name: str, /, **figures: float | str) -> str:
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


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@contextmanager
def gunicorn_serving(
    env: dict[str, str], *, options: list[str], log: Path, ready_path: str, start_timeout: float = 90
) -> Iterator[str]:
    """Run `gunicorn config.wsgi:application --config gunicorn.conf.py <options>` on a free port of 127.0.0.1 with
    `env`, in a process group of its own; yield its base URL once GET `ready_path` answers 200. On the way out
    (also on an exception) the group gets SIGTERM, then SIGKILL if it has not stopped within 30 s: gunicorn and its
    workers, nothing else. Gunicorn's output goes to `log`."""
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    command = [sys.executable, "-m", "gunicorn", "config.wsgi:application", "--config", "gunicorn.conf.py"]
    with log.open("wb") as out:
        server = subprocess.Popen(  # noqa: S603 - our own command line
            [*command, "--bind", f"127.0.0.1:{port}", *options],
            cwd=ROOT,
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,  # its own process group: stopped as a whole below, and only it
        )
    try:
        deadline = time.monotonic() + start_timeout
        while True:
            if server.poll() is not None:
                raise RuntimeError(f"gunicorn exited with {server.returncode}:\n{log.read_text()[-4000:]}")
            try:
                with urllib.request.urlopen(base + ready_path, timeout=5) as response:  # noqa: S310 - our own URL
                    if response.status == 200:
                        break
            except OSError:
                pass
            if time.monotonic() > deadline:
                tail = log.read_text()[-4000:]
                raise RuntimeError(f"gunicorn did not answer {ready_path} in {start_timeout:.0f} s:\n{tail}")
            time.sleep(0.3)
        yield base
    finally:
        _stop_group(server)


def cpu_seconds(port: int) -> dict[str, float]:
    """CPU time (user + system, seconds) used so far by what serves a load run on this machine: `web` = the
    gunicorn processes bound to 127.0.0.1:`port`, `postgres` = every Postgres process (backends and background
    workers: autovacuum and WAL writing are part of a write's cost), `redis` = redis-server. Read from /proc; a
    process that exits between two readings takes its time with it (pooled backends and gunicorn's workers stay)."""
    hz = os.sysconf("SC_CLK_TCK")
    bind = f"127.0.0.1:{port}".encode()
    totals = {"web": 0, "postgres": 0, "redis": 0}
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            raw = stat.read_text()
            cmdline = (stat.parent / "cmdline").read_bytes()
        except OSError:
            continue  # gone meanwhile
        comm = raw[raw.index("(") + 1 : raw.rindex(")")]
        fields = raw[raw.rindex(")") + 2 :].split()
        ticks = int(fields[11]) + int(fields[12])  # utime, stime
        if b"config.wsgi:application" in cmdline and bind in cmdline:
            totals["web"] += ticks
        elif comm == "postgres":
            totals["postgres"] += ticks
        elif comm == "redis-server":
            totals["redis"] += ticks
    return {name: ticks / hz for name, ticks in totals.items()}


def _stop_group(server: subprocess.Popen[bytes]) -> None:
    """SIGTERM to the process group `server` leads (it was started with start_new_session), SIGKILL after 30 s."""
    try:
        os.killpg(server.pid, signal.SIGTERM)
    except ProcessLookupError:
        return  # the group is gone already
    try:
        server.wait(timeout=30)
    except subprocess.TimeoutExpired:
        os.killpg(server.pid, signal.SIGKILL)
        server.wait(timeout=30)


def load_wheel(*, campaign: Any, cost_points: int) -> Any:
    """The wheel every load run spins (bench/wheel.py, bench/api_http.py, tests/faults): a 5-point prize and a
    thermos, both with stock no run exhausts, and "thanks for playing". Call after django_setup()."""
    from decimal import Decimal

    from lottery.builders import wheel_build
    from lottery.models import PrizeKind

    return wheel_build(
        campaign=campaign,
        cost_points=cost_points,
        prizes=[
            {"kind": PrizeKind.POINTS, "name": "5 积分", "name_en": "5 points", "weight": 30, "stock": 10**8,
             "points_amount": 5, "unit_value_cny": Decimal("0.00")},
            {"kind": PrizeKind.PHYSICAL, "name": "保温杯", "name_en": "Thermos", "weight": 5, "stock": 10**8,
             "unit_value_cny": Decimal("59.00")},
        ],
    )  # fmt: skip
