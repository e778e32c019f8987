"""Fault tests against real processes (issue 16, item 4): `make test-faults`.

Everything runs on 127.0.0.1 and is started here, each in a process group of its own, and stopped on the way out
(also on an error or Ctrl-C): a private `redis-server` on a free port without persistence (never the shared one;
a restart comes back empty), gunicorn with the production settings (tests/faults/settings.py: config.settings.prod
with a throwaway STATIC_ROOT, over plain http as bench/api_http.py runs it; the Procfile's 2 workers x 4 threads), a
Celery worker and Celery beat (the outbox relay runs every 5 s; the streak sweep — the safety net — is switched off,
so that what is measured is the mechanism), all on a fresh database `pointsmall_faults`. A supervisor thread restarts
gunicorn, the worker or beat if one exits on its own, as the deployment's `restart: unless-stopped` would; a fault
during which that happened says so (`restarted=worker:1`). Each process's output is kept in test-artifacts/faults/.

Seeded through the project's builders and services: a live campaign whose check-in rule pays a streak bonus on the
first day (so every check-in is followed by a job the member waits for), and a wheel; members with bearer tokens
(check-in members, funded spinners), page sessions of some, and one member with a password for token logins.

The client behaves like the mobile app: every write carries an Idempotency-Key and is retried with the same key on
a connection error, a 5xx, a 429 or 409 `idempotency_in_flight` (after Retry-After when given) until it gets its
outcome. The faults:

1. worker_kill: `kill -9` of the Celery worker (its whole process group) a third of the way into a burst of
   check-ins that earn streak bonuses; restarted after the burst. Every bonus must be paid within 30 s of the
   restart.
2. redis_outage: the private Redis is killed for 10 s during traffic (API reads, page views with a session cookie,
   token logins, check-ins, spins), then started again (empty). Pages, reads and logins: no 5xx; money endpoints
   may answer 503 and are retried; every write gets its outcome, every bonus is paid within 30 s of Redis's return.
3. db_terminate: the Postgres backends of gunicorn (application_name `faults-web`, on the fault database only) are
   terminated 4 times during a spin storm. No 5xx but 503; every key gets its committed outcome (one draw per key)
   within seconds.

Each fault ends with the ledger's invariants (points.services.ledger_reconcile, bench/wheel.py's stock and debit
check, every check-in paid, every streak reward posted once) and prints
`FAULT name=... requests=... 5xx=... 503=... lost=... doubled=... stuck=... heal_s=...` (requests: every HTTP
attempt, retries included; lost: an answered or awaited effect missing; doubled: an effect twice; stuck: a write
without its outcome by its deadline; heal_s: from the end of the fault to the last failure or late delivery), then
its problems. Exit status 1 if any fault has one. `--only worker_kill,db_terminate` runs some of them.
"""

from __future__ import annotations

import sys
from pathlib import Path

if Path(sys.path[0]).resolve() == Path(__file__).resolve().parent:
    sys.path.pop(0)  # run as a script: this folder's settings.py is not a top-level module
sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

import argparse
import http.client
import itertools
import json
import os
import secrets
import signal
import subprocess
import tempfile
import threading
import time
import uuid
from collections import Counter
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

import psycopg
import redis

from bench._harness import ROOT, bench_members, free_port, fresh_database, load_wheel

DATABASE = "pointsmall_faults"
SLUG = "faults"
COST = 10
GUNICORN = ["--workers", "2", "--threads", "4"]  # the Procfile's
WEB_APP_NAME = "faults-web"  # application_name of gunicorn's database connections: fault 3 terminates only these
LOGS = ROOT / "test-artifacts" / "faults"  # each process's output, kept after the run (git-ignored)
JOB_DEADLINE = 30.0  # seconds after the fault ends within which every member-awaited job must be done
WATCH_JOBS = 60.0  # how long jobs are watched after the fault ends (to tell how late a late one is)
WRITE_DEADLINE = 45.0  # a write without its outcome this long after its first attempt is stuck
DB_KEY_DEADLINE = 15.0  # fault 3: seconds from a key's first failed attempt to its committed outcome
HTTP_TIMEOUT = 30.0
KEEPALIVE_REUSE = 1.5  # a connection idle longer is not reused (gunicorn's keepalive: 2 s)
LOGIN_PASSWORD = "Fault-drill-2026"  # a throwaway member of a throwaway database

F1_CHECKINS = 300
F2_CHECKINS = 120
F2_SPINNERS = 40
F3_SPINNERS = 48
PAGE_MEMBERS = 10

PAGES = ["/", "/points/", f"/c/{SLUG}/", f"/c/{SLUG}/wheel/", f"/c/{SLUG}/checkin/", f"/c/{SLUG}/tasks/"]
READS = [
    "/api/v1/points/balance",
    "/api/v1/points/history",
    f"/api/v1/campaigns/{SLUG}/wheel",
    f"/api/v1/campaigns/{SLUG}/checkins",
]
CHECKIN = f"/api/v1/campaigns/{SLUG}/checkins"
SPIN = f"/api/v1/campaigns/{SLUG}/wheel/spins"


def say(line: str) -> None:
    print(line, flush=True)  # noqa: T201


# --- Processes ---------------------------------------------------------------------------------------------------


@dataclass
class Proc:
    """A process started here, in a process group of its own (so it and its children are stopped, and only they)."""

    name: str
    command: list[str]
    env: dict[str, str]
    log: Path
    popen: subprocess.Popen[bytes] | None = None
    done: bool = False  # its group was stopped or killed: never signalled again (its ids may be reused)

    def start(self) -> None:
        with self.log.open("ab") as out:
            self.popen = subprocess.Popen(
                self.command, cwd=ROOT, env=self.env, stdout=out, stderr=subprocess.STDOUT, start_new_session=True
            )

    def running(self) -> bool:
        return self.popen is not None and self.popen.poll() is None

    def kill9(self) -> None:
        """`kill -9` of the whole group: no cleanup, no acknowledgement, children too."""
        assert self.popen is not None
        with suppress(ProcessLookupError):
            os.killpg(self.popen.pid, signal.SIGKILL)
        self.popen.wait(timeout=30)
        self.done = True

    def stop(self) -> None:
        """SIGTERM to the group, SIGKILL after 20 s (and to children that outlived their leader)."""
        if self.popen is None or self.done:
            return
        self.done = True
        try:
            os.killpg(self.popen.pid, signal.SIGTERM)
        except ProcessLookupError:
            self.popen.poll()
            return
        try:
            self.popen.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(self.popen.pid, signal.SIGKILL)
            self.popen.wait(timeout=20)
        with suppress(ProcessLookupError):
            os.killpg(self.popen.pid, signal.SIGKILL)

    def size(self) -> int:
        return self.log.stat().st_size if self.log.exists() else 0

    def tail(self, chars: int = 3000, since: int = 0) -> str:
        """The log from its first traceback after byte `since` (or its end)."""
        text = self.log.read_bytes()[since:].decode(errors="replace") if self.log.exists() else ""
        first = text.find("Traceback")
        return text[first : first + chars] if first >= 0 else text[-chars:]


def wait_for(what: str, ready: Callable[[], bool], proc: Proc, timeout: float = 90) -> None:
    deadline = time.monotonic() + timeout
    while not ready():
        if not proc.running():
            raise RuntimeError(f"{proc.name} exited while starting:\n{proc.tail()}")
        if time.monotonic() > deadline:
            raise RuntimeError(f"{what} not ready in {timeout:.0f} s:\n{proc.tail()}")
        time.sleep(0.2)


@dataclass
class Fleet:
    """The run's processes. A supervisor thread restarts gunicorn, the worker or beat when one exits on its own, as
    the deployment's `restart: unless-stopped` does (docker-compose.yml), and counts it; `paused` names those it
    leaves alone (a fault that stops one itself). `stop_all` stops every process ever started, in reverse order."""

    env: dict[str, str]
    db_url: str
    redis_port: int = field(default_factory=free_port)
    web_port: int = field(default_factory=free_port)
    procs: dict[str, Proc] = field(default_factory=dict)
    started: list[Proc] = field(default_factory=list)
    restarts: Counter[str] = field(default_factory=Counter)
    paused: set[str] = field(default_factory=set)
    stopping: threading.Event = field(default_factory=threading.Event)
    supervisor: threading.Thread | None = None

    def _proc(self, name: str, command: list[str], app_name: str | None = None) -> tuple[Proc, int]:
        """Start a process; returns it and the size of its log before it started (to read only its own lines)."""
        env = dict(self.env)
        if app_name:
            env["DATABASE_URL"] = f"{self.db_url}?application_name={app_name}"
        proc = Proc(name, command, env, LOGS / f"{name}.log")
        offset = proc.size()
        self.procs[name] = proc
        self.started.append(proc)
        proc.start()
        return proc, offset

    def _log_says(self, proc: Proc, offset: int, text: str) -> Callable[[], bool]:
        return lambda: text in proc.log.read_bytes()[offset:].decode(errors="replace")

    def redis_start(self) -> None:
        command = ["redis-server", "--port", str(self.redis_port), "--bind", "127.0.0.1", "--save", "", "--appendonly"]
        proc, _ = self._proc("redis", [*command, "no"])
        client = redis.Redis(port=self.redis_port, socket_connect_timeout=0.5)

        def pong() -> bool:
            try:
                return bool(client.ping())
            except redis.RedisError:
                return False

        wait_for("redis", pong, proc, timeout=20)

    def web_start(self) -> None:
        command = [sys.executable, "-m", "gunicorn", "config.wsgi:application", "--config", "gunicorn.conf.py"]
        proc, _ = self._proc("web", [*command, "--bind", f"127.0.0.1:{self.web_port}", *GUNICORN], WEB_APP_NAME)

        def healthy() -> bool:
            try:
                conn = http.client.HTTPConnection("127.0.0.1", self.web_port, timeout=5)
                conn.request("GET", "/api/v1/health")
                return conn.getresponse().status == 200
            except OSError:
                return False

        wait_for("gunicorn", healthy, proc)

    def worker_start(self) -> None:
        name = f"faults-{uuid.uuid4().hex[:8]}@%h"
        command = [sys.executable, "-m", "celery", "-A", "config", "worker", "--concurrency", "2", "-n", name]
        options = ["--loglevel", "INFO", "--without-gossip", "--without-mingle"]
        proc, offset = self._proc("worker", [*command, *options], "faults-worker")
        wait_for("celery worker", self._log_says(proc, offset, " ready."), proc)

    def beat_start(self) -> None:
        command = [sys.executable, "-m", "celery", "-A", "config", "beat", "--loglevel", "INFO"]
        scheduler = ["--scheduler", "django_celery_beat.schedulers:DatabaseScheduler"]
        proc, offset = self._proc("beat", [*command, *scheduler], "faults-beat")
        wait_for("celery beat", self._log_says(proc, offset, "beat: Starting"), proc)

    def supervise(self) -> None:
        starters = {"web": self.web_start, "worker": self.worker_start, "beat": self.beat_start}

        def loop() -> None:
            while not self.stopping.wait(0.5):
                for name, start in starters.items():
                    proc = self.procs.get(name)
                    if proc is None or name in self.paused or proc.running() or self.stopping.is_set():
                        continue
                    code = proc.popen.returncode if proc.popen else None
                    say(f"  supervisor: {name} exited ({code}); restarting it (restart: unless-stopped)")
                    self.restarts[name] += 1
                    try:
                        proc.stop()  # what is left of its group
                        start()
                    except Exception as exc:  # try again on the next round
                        say(f"  supervisor: {name} did not start again: {exc!r}")

        self.supervisor = threading.Thread(target=loop, name="supervisor", daemon=True)
        self.supervisor.start()

    def stop_all(self) -> None:
        self.stopping.set()
        if self.supervisor is not None:
            self.supervisor.join(timeout=120)
        for proc in reversed(self.started):
            try:
                proc.stop()
            except Exception as exc:  # keep stopping the others
                say(f"could not stop {proc.name}: {exc!r}")


# --- The mobile-app client --------------------------------------------------------------------------------------


@dataclass
class Tally:
    """Every HTTP attempt of a fault, by class (page, read, login, money); status 0 is a connection error."""

    lock: threading.Lock = field(default_factory=threading.Lock)
    statuses: dict[str, Counter[int]] = field(default_factory=dict)
    max_latency: dict[str, float] = field(default_factory=dict)
    failures: list[tuple[float, str, int]] = field(default_factory=list)  # (monotonic time, class, status)

    def record(self, klass: str, status: int, latency: float) -> None:
        with self.lock:
            self.statuses.setdefault(klass, Counter())[status] += 1
            self.max_latency[klass] = max(self.max_latency.get(klass, 0.0), latency)
            if status == 0 or status >= 500:
                self.failures.append((time.monotonic(), klass, status))

    def count(self, predicate: Callable[[str, int], bool]) -> int:
        return sum(n for klass, c in self.statuses.items() for status, n in c.items() if predicate(klass, status))

    @property
    def requests(self) -> int:
        return self.count(lambda _k, _s: True)


@dataclass
class Answer:
    status: int  # 0: no answer (connection error)
    headers: dict[str, str]
    body: Any

    @property
    def code(self) -> str | None:
        if isinstance(self.body, dict) and isinstance(self.body.get("error"), dict):
            return self.body["error"].get("code")
        return None


@dataclass
class Outcome:
    """A write retried until it got its outcome (or its deadline passed: `final` is None, the write is stuck)."""

    key: str
    final: Answer | None
    attempts: int
    first_at: float
    final_at: float | None
    first_failure_at: float | None
    outcomes: list[Any] = field(default_factory=list)  # the ids of every 2xx answer (a replay must repeat the first)


class Client:
    """One keep-alive connection per thread, reopened after an error."""

    def __init__(self, port: int, tally: Tally) -> None:
        self.port, self.tally = port, tally
        self.conn: http.client.HTTPConnection | None = None
        self.last_used = 0.0

    def call(self, method: str, path: str, *, klass: str, headers: dict[str, str] | None = None, body: Any = None):
        data = json.dumps(body).encode() if body is not None else None
        sent = {"Accept": "application/json", **(headers or {})}
        if data is not None:
            sent["Content-Type"] = "application/json"
        start = time.monotonic()
        if self.conn is not None and start - self.last_used > KEEPALIVE_REUSE:
            self.close()  # gunicorn closes idle kept-alive connections after 2 s: a new one, as HTTP clients do
        try:
            if self.conn is None:
                self.conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=HTTP_TIMEOUT)
            self.conn.request(method, path, body=data, headers=sent)
            response = self.conn.getresponse()
            raw = response.read()
            got = {k.lower(): v for k, v in response.getheaders()}
            if got.get("connection", "").lower() == "close":
                self.close()
        except (OSError, http.client.HTTPException):
            self.close()
            self.tally.record(klass, 0, time.monotonic() - start)
            return Answer(0, {}, None)
        finally:
            self.last_used = time.monotonic()
        self.tally.record(klass, response.status, time.monotonic() - start)
        parsed: Any = raw
        if got.get("content-type", "").startswith("application/json"):
            with suppress(ValueError):
                parsed = json.loads(raw)
        return Answer(response.status, got, parsed)

    def close(self) -> None:
        if self.conn is not None:
            self.conn.close()
            self.conn = None

    def write(self, path: str, *, token: str, key: str, deadline_s: float = WRITE_DEADLINE) -> Outcome:
        """POST with an Idempotency-Key, retried with the same key as the app does, until an outcome."""
        first = time.monotonic()
        first_failure: float | None = None
        outcomes: list[Any] = []
        headers = {"Authorization": f"Bearer {token}", "Idempotency-Key": key}
        for attempt in itertools.count(1):
            answer = self.call("POST", path, klass="money", headers=headers)
            retry = (
                answer.status == 0
                or answer.status >= 500
                or answer.status == 429
                or (answer.status == 409 and answer.code == "idempotency_in_flight")
            )
            if 200 <= answer.status < 300 and isinstance(answer.body, dict):
                outcomes.append(answer.body.get("id"))
            if not retry:
                return Outcome(key, answer, attempt, first, time.monotonic(), first_failure, outcomes)
            first_failure = first_failure or time.monotonic()
            if time.monotonic() - first > deadline_s:
                return Outcome(key, None, attempt, first, None, first_failure, outcomes)
            try:
                wait = float(answer.headers.get("retry-after", "0.3"))
            except ValueError:
                wait = 0.3
            time.sleep(min(max(wait, 0.2), 3.0))
        raise AssertionError("unreachable")


# --- Seeding and checks (in this process, Django on the fault database) ----------------------------------------


@dataclass
class Member:
    user_id: int
    token: str


@dataclass
class World:
    campaign_id: int
    wheel_id: int
    groups: dict[str, list[Member]]
    cookies: list[str]
    login_phone: str


def django_setup(env: dict[str, str], db_url: str) -> None:
    os.environ.update(env)
    os.environ["DATABASE_URL"] = f"{db_url}?application_name=faults-harness"
    import django

    django.setup()


def seed(user_ids: list[int]) -> World:
    from django.conf import settings
    from django.contrib.auth import BACKEND_SESSION_KEY, HASH_SESSION_KEY, SESSION_KEY
    from django.db import transaction
    from django.utils import timezone
    from django.utils.module_loading import import_string

    from accounts.models import User
    from accounts.services import token_issue, user_create
    from campaigns.builders import campaign_live
    from points.models import AccountKind
    from points.services import Award, System, transfers_post_batch
    from tasks.checkins import checkin_rule_save
    from tasks.models import CheckInRule

    now = timezone.now()
    campaign = campaign_live(now=now, name="故障演练", name_en="Fault drill", slug=SLUG)
    checkin_rule_save(
        rule=CheckInRule(
            campaign=campaign,
            base_points=5,
            cycle=False,
            milestones=[{"day": 1, "points": 30}],  # every member's check-in today earns a bonus (a job)
        )
    )
    wheel = load_wheel(campaign=campaign, cost_points=COST)
    sizes = {"f1_checkin": F1_CHECKINS, "f2_checkin": F2_CHECKINS, "f2_spin": F2_SPINNERS, "f3_spin": F3_SPINNERS}
    ids = iter(user_ids)
    group_ids = {name: [next(ids) for _ in range(n)] for name, n in sizes.items()}
    spinners = group_ids["f2_spin"] + group_ids["f3_spin"]
    transfers_post_batch(
        awards=[Award(key=f"faults-fund:{u}", user_id=u, amount=1_000_000) for u in spinners],
        source=System(AccountKind.ISSUANCE, campaign.pk),
        campaign_id=campaign.pk,
        now=now - timedelta(days=3),
    )
    members = User.objects.in_bulk(user_ids)
    groups: dict[str, list[Member]] = {}
    with transaction.atomic():
        for name, uids in group_ids.items():
            groups[name] = [Member(u, token_issue(user=members[u], name="faults").access) for u in uids]
    store = import_string(f"{settings.SESSION_ENGINE}.SessionStore")
    cookies = []
    for user_id in group_ids["f3_spin"][:PAGE_MEMBERS]:
        session = store()
        session[SESSION_KEY] = str(user_id)
        session[BACKEND_SESSION_KEY] = "accounts.backends.PhoneOrEmailBackend"
        session[HASH_SESSION_KEY] = members[user_id].get_session_auth_hash()
        session.save(must_create=True)
        cookies.append(f"{settings.SESSION_COOKIE_NAME}={session.session_key}")
    login_phone = "+8613900009999"
    user_create(phone=login_phone, email="fault-login@example.com", password=LOGIN_PASSWORD)
    return World(campaign.pk, wheel.pk, groups, cookies, login_phone)


def sweep_off() -> None:
    """Switch the streak sweep (the safety net, every 5 minutes) off in beat's schedule: what is measured is the
    outbox, not the net under it."""
    from django_celery_beat.models import PeriodicTask, PeriodicTasks

    deadline = time.monotonic() + 60
    while not PeriodicTask.objects.filter(task="tasks.streak_rewards_sweep").update(enabled=False):
        if time.monotonic() > deadline:  # beat writes its schedule into the database just after it starts
            raise RuntimeError("beat did not install the streak sweep's schedule in 60 s")
        time.sleep(0.3)
    PeriodicTasks.update_changed()


def ledger_problems(wheel_id: int) -> list[str]:
    """The ledger's own invariants after a fault; empty when they all hold."""
    from django.db.models import Count

    from bench.wheel import invariants as wheel_invariants
    from points.models import Transfer
    from points.services import ledger_reconcile, ledger_rollup
    from tasks import kinds
    from tasks.models import CheckIn, StreakReward

    ledger_rollup()
    audit = ledger_reconcile()
    problems = [] if audit.ok else [f"ledger drift: {audit.drift}"]
    problems += wheel_invariants(wheel_id)
    unpaid = CheckIn.objects.filter(transfer_id__isnull=True).count()
    if unpaid:
        problems.append(f"{unpaid} check-ins without their points")
    checkins, paid = CheckIn.objects.count(), Transfer.objects.filter(kind=kinds.CHECKIN).count()
    if checkins != paid:
        problems.append(f"{checkins} check-ins but {paid} check-in transfers")
    rewards, bonuses = StreakReward.objects.count(), Transfer.objects.filter(kind=kinds.STREAK_BONUS).count()
    if rewards != bonuses:
        problems.append(f"{rewards} streak rewards but {bonuses} streak bonus transfers")
    twice = CheckIn.objects.values("user_id", "campaign_id", "local_date").annotate(n=Count("id")).filter(n__gt=1)
    if twice.exists():
        problems.append(f"members checked in twice a day: {list(twice[:5])}")
    return problems


def bonuses_delivered(checkin_ids: set[int]) -> dict[int, float]:
    """{check-in id: when its streak reward was created (epoch seconds)} for those of `checkin_ids` paid."""
    from tasks.models import StreakReward

    rows = StreakReward.objects.filter(checkin_id__in=checkin_ids).values_list("checkin_id", "created_at")
    return {checkin_id: created.timestamp() for checkin_id, created in rows}


def bonus_expected(streak: int) -> bool:
    from tasks.models import CheckInRule
    from tasks.rules import milestone_reached

    rule = CheckInRule.objects.get(campaign__slug=SLUG)
    return milestone_reached(rule, streak) is not None


@dataclass
class Result:
    name: str
    tally: Tally
    lost: int = 0
    doubled: int = 0
    stuck: int = 0
    heal_s: float | None = 0.0
    problems: list[str] = field(default_factory=list)
    extra: dict[str, str] = field(default_factory=dict)

    def line(self) -> str:
        five = self.tally.count(lambda _k, s: s >= 500)
        n503 = self.tally.count(lambda _k, s: s == 503)
        heal = "none" if self.heal_s is None else f"{self.heal_s:.1f}"
        extra = "".join(f" {k}={v}" for k, v in self.extra.items())
        return (
            f"FAULT name={self.name} requests={self.tally.requests} 5xx={five} 503={n503} lost={self.lost} "
            f"doubled={self.doubled} stuck={self.stuck} heal_s={heal}{extra}"
        )


# --- Check-ins and their bonuses (faults 1 and 2) ---------------------------------------------------------------


@dataclass
class CheckIns:
    """Check-ins answered, and the bonuses they promise."""

    outcomes: list[Outcome] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def add(self, outcome: Outcome) -> None:
        with self.lock:
            self.outcomes.append(outcome)

    def answered(self) -> dict[int, int]:
        """{check-in id: streak} from each check-in's outcome (201, or 409 already_checked_in with the first)."""
        found = {}
        for outcome in self.outcomes:
            if outcome.final is None:
                continue
            body = outcome.final.body if isinstance(outcome.final.body, dict) else {}
            if outcome.final.status == 201:
                found[body["id"]] = body["streak"]
            elif outcome.final.code == "already_checked_in":
                details = body["error"].get("details") or {}
                checkin = details.get("checkin", details)
                if "id" in checkin:
                    found[checkin["id"]] = checkin["streak"]
        return found


def checkin_problems(checkins: CheckIns, result: Result) -> set[int]:
    """Count stuck and refused check-ins and lost ones (answered but not in the database); return the ids of the
    check-ins whose streak bonus is owed."""
    from tasks.models import CheckIn

    result.stuck += sum(o.final is None for o in checkins.outcomes)
    refused = [o for o in checkins.outcomes if o.final is not None and o.final.status not in {201, 409}]
    if refused:
        result.problems.append(f"{len(refused)} check-ins refused, e.g. {refused[0].final}")
    answered = checkins.answered()
    present = set(CheckIn.objects.filter(pk__in=answered).values_list("pk", flat=True))
    result.lost += len(set(answered) - present)
    return {checkin_id for checkin_id, streak in answered.items() if bonus_expected(streak)}


def watch_bonuses(owed: set[int], since: float, result: Result) -> None:
    """Wait (up to WATCH_JOBS after `since`, epoch seconds) for every owed bonus; those not paid within
    JOB_DEADLINE are lost; heal_s includes the last payment's delay."""
    while True:
        paid = bonuses_delivered(owed)
        if len(paid) == len(owed) or time.time() - since > WATCH_JOBS:
            break
        time.sleep(0.5)
    late = [at - since for at in paid.values() if at - since > JOB_DEADLINE]
    unpaid = len(owed) - len(paid)
    result.lost += unpaid + len(late)
    last = max((at - since for at in paid.values()), default=0.0)
    result.extra["bonuses"] = f"{len(paid)}/{len(owed)}"
    result.extra["last_bonus_s"] = f"{max(last, 0.0):.1f}"
    if unpaid:
        result.heal_s = None
    elif result.heal_s is not None:
        result.heal_s = max(result.heal_s, last)
    if unpaid or late:
        result.problems.append(
            f"streak bonuses not paid within {JOB_DEADLINE:.0f} s: {unpaid} never (watched {WATCH_JOBS:.0f} s), "
            f"{len(late)} late"
        )


def doubled_draws(outcomes: list[Outcome], wheel_id: int, result: Result) -> None:
    """Spins: one draw per key, the one the client was answered; answered draws exist."""
    from django.db.models import Count

    from lottery.models import Draw

    keys = [o.key for o in outcomes]
    per_key = Draw.objects.filter(wheel_id=wheel_id, request_key__in=keys).values("user_id", "request_key")
    result.doubled += per_key.annotate(n=Count("id")).filter(n__gt=1).count()
    result.doubled += sum(len(set(o.outcomes)) > 1 for o in outcomes)  # a retry answered with another draw
    answered = {o.outcomes[0] for o in outcomes if o.outcomes}
    present = set(Draw.objects.filter(pk__in=answered).values_list("pk", flat=True))
    result.lost += len(answered - present)
    result.stuck += sum(o.final is None for o in outcomes)
    refused = [o for o in outcomes if o.final is not None and o.final.status != 201]
    if refused:
        result.problems.append(f"{len(refused)} spins refused, e.g. {refused[0].final}")


# --- The faults -------------------------------------------------------------------------------------------------


def fault_worker_kill(fleet: Fleet, world: World) -> Result:
    tally = Tally()
    result = Result("worker_kill", tally)
    members = world.groups["f1_checkin"]
    checkins = CheckIns()
    answered = threading.Semaphore(0)
    local = threading.local()

    def check_in(member: Member) -> None:
        if not hasattr(local, "client"):
            local.client = Client(fleet.web_port, tally)
        checkins.add(local.client.write(CHECKIN, token=member.token, key=f"f1-{member.user_id}"))
        answered.release()

    with ThreadPoolExecutor(8) as pool:
        futures = [pool.submit(check_in, m) for m in members]
        for _ in range(len(members) // 3):
            answered.acquire()
        fleet.paused.add("worker")  # this fault restarts it itself, after the burst
        fleet.procs["worker"].kill9()
        say(f"  worker killed (kill -9) after {len(members) // 3} of {len(members)} check-ins")
        for future in futures:
            future.result()
    time.sleep(1)
    restarted = time.time()
    fleet.worker_start()
    fleet.paused.discard("worker")
    say(f"  worker restarted ({time.time() - restarted:.1f} s to ready)")
    owed = checkin_problems(checkins, result)
    result.extra["checkins"] = str(len(checkins.answered()))
    watch_bonuses(owed, restarted, result)
    return result


def fault_redis_outage(fleet: Fleet, world: World) -> Result:
    tally = Tally()
    result = Result("redis_outage", tally)
    stop = threading.Event()
    checkins, spins = CheckIns(), []
    spins_lock = threading.Lock()
    checkin_queue = list(world.groups["f2_checkin"])
    queue_lock = threading.Lock()
    readers = world.groups["f3_spin"]

    def reads(n: int) -> None:
        client = Client(fleet.web_port, tally)
        for i in itertools.count(n):
            if stop.is_set():
                return
            member = readers[i % len(readers)]
            client.call("GET", READS[i % len(READS)], klass="read", headers={"Authorization": f"Bearer {member.token}"})

    def pages(n: int) -> None:
        client = Client(fleet.web_port, tally)
        for i in itertools.count(n):
            if stop.is_set():
                return
            cookie = world.cookies[i % len(world.cookies)]
            client.call("GET", PAGES[i % len(PAGES)], klass="page", headers={"Cookie": cookie, "Accept": "text/html"})

    def logins() -> None:
        client = Client(fleet.web_port, tally)
        while not stop.is_set():
            body = {"username": world.login_phone, "password": LOGIN_PASSWORD, "device": "faults"}
            answer = client.call("POST", "/api/v1/auth/token", klass="login", body=body)
            if answer.status not in {0, 200} and answer.status < 500:
                result.problems.append(f"token login answered {answer.status}: {answer.body}")
            time.sleep(0.5)

    def check_ins() -> None:
        client = Client(fleet.web_port, tally)
        while not stop.is_set():
            with queue_lock:
                if not checkin_queue:
                    return
                member = checkin_queue.pop()
            checkins.add(client.write(CHECKIN, token=member.token, key=f"f2-{member.user_id}"))
            time.sleep(0.1)

    def spin(n: int) -> None:
        client = Client(fleet.web_port, tally)
        spinners = world.groups["f2_spin"]
        for i in itertools.count():
            if stop.is_set():
                return
            member = spinners[(n + i * 2) % len(spinners)]
            outcome = client.write(SPIN, token=member.token, key=f"f2-{n}-{i}")
            with spins_lock:
                spins.append(outcome)
            time.sleep(0.1)

    workers = [
        *(threading.Thread(target=reads, args=(n,)) for n in range(3)),
        *(threading.Thread(target=pages, args=(n,)) for n in range(3)),
        threading.Thread(target=logins),
        *(threading.Thread(target=check_ins) for _ in range(2)),
        *(threading.Thread(target=spin, args=(n,)) for n in range(2)),
    ]
    for thread in workers:
        thread.start()
    try:
        time.sleep(4)
        fleet.procs["redis"].kill9()
        down = time.monotonic()
        say("  redis killed (kill -9)")
        time.sleep(10)
        fleet.redis_start()
        back_at, back = time.time(), time.monotonic()
        say(f"  redis started again after {back - down:.1f} s (empty)")
        time.sleep(8)
    finally:
        stop.set()
        for thread in workers:
            thread.join(timeout=WRITE_DEADLINE + 30)
    bad = tally.count(lambda k, s: k != "money" and s >= 500)
    if bad:
        result.problems.append(f"{bad} 5xx on pages, reads or logins: {dict(tally.statuses)}")
    not_503 = tally.count(lambda k, s: k == "money" and s >= 500 and s != 503)
    if not_503:
        result.problems.append(f"{not_503} money 5xx other than 503")
    owed = checkin_problems(checkins, result)
    doubled_draws(spins, world.wheel_id, result)
    last_failure = max((at for at, _k, _s in tally.failures), default=back)
    result.heal_s = max(0.0, last_failure - back)
    result.extra["max_read_s"] = f"{max(tally.max_latency.get('read', 0), tally.max_latency.get('page', 0)):.1f}"
    result.extra["checkins"] = str(len(checkins.answered()))
    result.extra["spins"] = str(len(spins))
    watch_bonuses(owed, back_at, result)
    return result


def terminate_web_backends(db_url: str) -> int:
    """Terminate gunicorn's backends on the fault database (and only those); returns how many."""
    with psycopg.connect(db_url, autocommit=True) as conn:
        rows = conn.execute(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
            "WHERE datname = %s AND application_name = %s AND pid <> pg_backend_pid()",
            (DATABASE, WEB_APP_NAME),
        ).fetchall()
    return sum(1 for (ok,) in rows if ok)


def fault_db_terminate(fleet: Fleet, world: World) -> Result:
    tally = Tally()
    result = Result("db_terminate", tally)
    stop = threading.Event()
    spins: list[Outcome] = []
    lock = threading.Lock()
    spinners = world.groups["f3_spin"]

    def storm(n: int) -> None:
        client = Client(fleet.web_port, tally)
        for i in itertools.count():
            if stop.is_set():
                return
            member = spinners[(n + i * 8) % len(spinners)]
            outcome = client.write(SPIN, token=member.token, key=f"f3-{n}-{i}")
            with lock:
                spins.append(outcome)

    threads = [threading.Thread(target=storm, args=(n,)) for n in range(8)]
    for thread in threads:
        thread.start()
    terminated = []
    try:
        time.sleep(2)
        for _ in range(4):
            terminated.append(terminate_web_backends(fleet.db_url))
            time.sleep(2.5)
        last_kill = time.monotonic()
        time.sleep(2)
    finally:
        stop.set()
        for thread in threads:
            thread.join(timeout=WRITE_DEADLINE + 30)
    say(f"  backends terminated: {terminated}")
    result.extra["terminated"] = "+".join(map(str, terminated))
    not_503 = tally.count(lambda _k, s: s >= 500 and s != 503)
    if not_503:
        result.problems.append(f"{not_503} 5xx other than 503: {dict(tally.statuses)}")
    if not sum(terminated):
        result.problems.append("no backend of gunicorn was terminated: the fault did not happen")
    doubled_draws(spins, world.wheel_id, result)
    waits = [o.final_at - o.first_failure_at for o in spins if o.first_failure_at and o.final_at]
    slow = [w for w in waits if w > DB_KEY_DEADLINE]
    result.stuck += len(slow)
    if slow:
        result.problems.append(f"{len(slow)} keys took more than {DB_KEY_DEADLINE:.0f} s to get their outcome")
    last_failure = max((at for at, _k, _s in tally.failures), default=last_kill)
    result.heal_s = max(max(waits, default=0.0), last_failure - last_kill, 0.0)
    result.extra["spins"] = str(len(spins))
    result.extra["retried_keys"] = str(len(waits))
    return result


FAULTS: dict[str, Callable[[Fleet, World], Result]] = {
    "worker_kill": fault_worker_kill,
    "redis_outage": fault_redis_outage,
    "db_terminate": fault_db_terminate,
}


# --- Main --------------------------------------------------------------------------------------------------------


def fault_env(tmp: Path, db_url: str, redis_port: int) -> dict[str, str]:
    redis_url = f"redis://127.0.0.1:{redis_port}/0"
    return {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "tests.faults.settings",
        "FAULTS_STATIC_ROOT": str(tmp / "static"),
        "SECRET_KEY": secrets.token_urlsafe(50),  # a throwaway key: nothing signed in this run outlives it
        "ALLOWED_HOSTS": "127.0.0.1,localhost",
        "DEBUG": "false",
        "SECURE_SSL_REDIRECT": "false",  # plain http on 127.0.0.1; no TLS proxy in front
        "SECURE_COOKIES": "false",
        "DATABASE_URL": db_url,
        "REDIS_URL": redis_url,
        "CELERY_BROKER_URL": redis_url,
        "CACHE_PREFIX": "faults",
        "RATE_LIMIT_SPIN": "1000000/min",
        "RATE_LIMIT_CHECKIN": "1000000/min",
        "RATE_LIMIT_LOGIN": "1000000/min",
        "LOG_LEVEL": "WARNING",
        "PYTHONUNBUFFERED": "1",
    }


@contextmanager
def fleet_running(tmp: Path) -> Iterator[tuple[Fleet, World]]:
    started = time.monotonic()
    LOGS.mkdir(parents=True, exist_ok=True)
    for old in LOGS.glob("*.log"):
        old.unlink()
    db_url = fresh_database(DATABASE)
    user_ids, _raw = bench_members(db_url, F1_CHECKINS + F2_CHECKINS + F2_SPINNERS + F3_SPINNERS)
    fleet = Fleet({}, db_url)
    fleet.env = fault_env(tmp, db_url, fleet.redis_port)
    try:
        fleet.redis_start()
        collect = [sys.executable, "manage.py", "collectstatic", "--noinput", "-v", "0"]
        subprocess.run(collect, cwd=ROOT, env=fleet.env, check=True)
        django_setup(fleet.env, db_url)
        world = seed(user_ids)
        from django.db import connections

        connections.close_all()
        fleet.web_start()
        fleet.worker_start()
        fleet.beat_start()
        sweep_off()
        fleet.supervise()
        say(f"ready in {time.monotonic() - started:.0f} s: redis :{fleet.redis_port}, gunicorn :{fleet.web_port}")
        yield fleet, world
    finally:
        fleet.stop_all()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--only", default=",".join(FAULTS), help="comma-separated faults to run")
    names = [n for n in parser.parse_args().only.split(",") if n]
    unknown = set(names) - set(FAULTS)
    if unknown:
        sys.exit(f"unknown faults: {sorted(unknown)}")
    results: list[Result] = []
    started = time.monotonic()
    with tempfile.TemporaryDirectory(prefix="faults-") as tmp_dir, fleet_running(Path(tmp_dir)) as (fleet, world):
        for name in names:
            say(f"== {name}")
            web_log = fleet.procs["web"].size()
            restarts_before = Counter(fleet.restarts)
            result = FAULTS[name](fleet, world)
            restarted = fleet.restarts - restarts_before
            if restarted:  # by the supervisor: the deployment would restart it too, but it should not have died
                result.extra["restarted"] = "+".join(f"{n}:{k}" for n, k in sorted(restarted.items()))
            result.problems += ledger_problems(world.wheel_id)
            results.append(result)
            say(result.line())
            say(
                "  answers "
                + " ".join(f"{k}={dict(sorted(c.items()))}" for k, c in sorted(result.tally.statuses.items()))
            )
            for problem in result.problems:
                say(f"  PROBLEM {problem}")
            if result.problems and any(s >= 500 for c in result.tally.statuses.values() for s in c):
                say(f"  gunicorn's log:\n{fleet.procs['web'].tail(since=web_log)}")
        swept = "Task tasks.streak_rewards_sweep[" in fleet.procs["worker"].log.read_text(errors="replace")
    if swept and results:  # the safety net ran after all: a bonus it paid is not the mechanism's
        results[-1].problems.append("the streak sweep ran during the faults (it should have been switched off)")
    failed = [r.name for r in results if r.problems]
    say(f"faults: {len(results)} run, {len(failed)} failed {failed or ''} in {time.monotonic() - started:.0f} s")
    if failed:
        sys.exit(1)


if __name__ == "__main__":
    main()
