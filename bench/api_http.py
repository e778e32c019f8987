"""The API's hot paths over HTTP, under the production stack, against a trivial Django JSON view in the same run
(issue 12, "Hot paths that keep up with the 8 a.m. rush").

The server: `config.settings.prod` (DEBUG off) under gunicorn with the Procfile's `--workers 2 --threads 4`
(BENCH_HTTP_WORKERS and BENCH_HTTP_WEB_THREADS, for experiments only) and gunicorn.conf.py, on a free port of 127.0.0.1,
over plain http (SECURE_SSL_REDIRECT=false, as docker-compose.yml documents for trying the stack without a TLS proxy),
without an access log (the app is measured, not logging). Its database is a throwaway `pointsmall_bench_http`; its Redis
is BENCH_HTTP_REDIS_URL (default redis://127.0.0.1:6379/14), with a cache key prefix of its own per run; Celery's broker
is that Redis too, so the check-in's after-commit job is really enqueued (nothing consumes it; the queue is deleted at
the end). Rate limits stay on, so their Redis round trip is paid as in production, but at RATE_LIMIT_SPIN =
RATE_LIMIT_CHECKIN = RATE_LIMIT_ORDER = 1000000/min no request is ever refused by them.

The data, seeded through the project's builders and services before gunicorn starts: BENCH_HTTP_MEMBERS members
(default 12,000), each with an access token (accounts.services.token_issue) and 1,000,000 points in five awards
(so the history has rows); a campaign in its official phase with a check-in rule and a three-task ladder; its wheel
(10 points a spin, no caps) with a points prize, a physical prize with large stock and "thanks for playing"; its
mall (issue 13): BENCH_HTTP_PRODUCTS (default 1,000) products with usage instructions, 1 point each and stock no run
exhausts, and one hot code product with BENCH_HTTP_HOT_STOCK (default 500) units and as many codes — a flash sale
that sells out during the run.

The load: Debian's wrk, 16 connections on 2 threads (gunicorn's workers each take their share of them:
--worker-connections, see GUNICORN). Per endpoint: VACUUM and a CHECKPOINT (settle(): no endpoint pays for the previous
ones' autovacuum or a timed checkpoint), a BENCH_HTTP_WARMUP (default 4) second warm-up, ANALYZE (analyze(): no round
runs on plans cached while its tables were empty), then BENCH_HTTP_ROUNDS (default 3) rounds of BENCH_HTTP_SECONDS
(default 4) seconds, each between two runs of the ceiling (GET /api/v1/health, config/health.py: a plain Django
JsonResponse behind the whole middleware stack, no database, no Redis); a round's ratio is its rate over the mean of
those two ceilings, the endpoint's ratio the median of its rounds. The endpoints, in this order:
  balance   GET  /api/v1/points/balance
  history   GET  /api/v1/points/history
  spin      POST /api/v1/campaigns/<slug>/wheel/spins
  wheel     GET  /api/v1/campaigns/<slug>/wheel    after the spins, so its ticker lists winners
  checkin   POST /api/v1/campaigns/<slug>/checkins
  tasks     GET  /api/v1/campaigns/<slug>/tasks
  order     POST /api/v1/mall/orders   each request the next of the distinct products
  order_hot POST /api/v1/mall/orders   every request the hot product (201 until it sells out, then 409 out_of_stock)
BENCH_HTTP_ONLY (e.g. "order,order_hot") measures only the endpoints it names. A wrk
Lua script rotates `Authorization: Bearer <token>` over the members (each wrk thread its own half), and sends each
POST with a unique Idempotency-Key, as the mobile app does (an order's body names its product: each wrk thread
rotates over the products file it is given). A member checks in once a day, so every check-in
request is a different member (the warm-up and each round use members the others do not); if a round outpaces its
members it wraps around, the 409s are counted (`repeats=`) and the run fails: raise BENCH_HTTP_MEMBERS.

Prints, per endpoint, `RESULT http name=<name> rps=<req/s> ratio= p50_ms= p99_ms= errors= web_cpu_ms= postgres_cpu_ms=
redis_cpu_ms= wrk_cpu_ms=` (errors: non-2xx answers plus socket errors; *_cpu_ms: CPU per request of each part, read
from /proc, bench._harness.cpu_seconds) and a summary line. Then the invariants, with the server stopped: the ledger
reconciles (points.services.ledger_reconcile), prize stock matches the draws and every draw has its debit
(bench/wheel.py's check), every check-in is paid, the 201s the API answered are rows in the database, and the hot
product's stock is exact — printed as `RESULT http name=hot_stock initial= orders= stock_left= exact= oversold=
codes_issued=`: initial stock minus the orders made equals the stock left, never below zero, one distinct code per
order. The hot run's 409 out_of_stock answers are its expected refusals (`refused=`), not errors. Exit
status 1 on any drift or any error answer: an endpoint that fails under load has no throughput to report.
"""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import json
import os
import re
import secrets
import statistics
import subprocess
import tempfile
import urllib.parse
import uuid
from dataclasses import dataclass, field
from datetime import timedelta
from typing import TYPE_CHECKING

import psycopg
import redis

from bench._harness import (
    bench_members,
    cpu_seconds,
    django_setup,
    fresh_database,
    gunicorn_serving,
    load_wheel,
    result_line,
)

if TYPE_CHECKING:
    from campaigns.models import Campaign

MEMBERS = int(os.environ.get("BENCH_HTTP_MEMBERS", "12000"))
SECONDS = max(1, round(float(os.environ.get("BENCH_HTTP_SECONDS", "4"))))  # per run; wrk takes whole seconds
ROUNDS = max(1, int(os.environ.get("BENCH_HTTP_ROUNDS", "3")))
CPU_PARTS = ("web", "postgres", "redis", "wrk")
WARMUP = max(1, round(float(os.environ.get("BENCH_HTTP_WARMUP", "4"))))
REDIS_URL = os.environ.get("BENCH_HTTP_REDIS_URL", "redis://127.0.0.1:6379/14")
DATABASE = "pointsmall_bench_http"
CONNECTIONS = 16
THREADS = 2
WORKERS = int(os.environ.get("BENCH_HTTP_WORKERS", "2"))  # the Procfile's; other values for experiments
WEB_THREADS = int(os.environ.get("BENCH_HTTP_WEB_THREADS", "4"))
# The Procfile's workers and threads. --worker-connections: wrk's CONNECTIONS keep-alive connections all come at once
# from one client, and gunicorn's workers race to accept them: one worker often took 12-16 of the 16 (measured with
# ss: 15/1, 12/4, 3/13, 16/0), leaving a core idle, and the ceiling swung between ~1,000 and ~2,800 req/s from run to
# run. A flash crowd is many clients, whose connections spread over the workers; capping each worker at its share
# (CONNECTIONS / WORKERS) gives the bench that even spread. Shared with bench/leaderboard.py.
GUNICORN = ["--workers", str(WORKERS), "--threads", str(WEB_THREADS)]
GUNICORN += ["--worker-connections", str(CONNECTIONS // WORKERS)]
SLUG = "bench-http"
COST = 10
FUNDING_AWARDS = 5
FUNDING = 200_000  # points per award: 1,000,000 a member, far more than any run spends
BATCH = 10_000  # points.services.MAX_BATCH
CHECKIN_WARMUP_SHARE = 6  # the check-in warm-up uses the first 1/6 of the members, the measured run the rest
HEALTH = "/api/v1/health"
PRODUCTS = int(os.environ.get("BENCH_HTTP_PRODUCTS", "1000"))
HOT_STOCK = int(os.environ.get("BENCH_HTTP_HOT_STOCK", "500"))
ORDERS = "/api/v1/mall/orders"

# (name, path, mode): "get" rotates tokens; "post" also sends a unique Idempotency-Key; "once" is a POST whose every
# request is another member.
ENDPOINTS = [
    ("balance", "/api/v1/points/balance", "get"),
    ("history", "/api/v1/points/history", "get"),
    ("spin", f"/api/v1/campaigns/{SLUG}/wheel/spins", "post"),
    ("wheel", f"/api/v1/campaigns/{SLUG}/wheel", "get"),  # after the spins: its ticker lists winners, as in a campaign
    ("checkin", f"/api/v1/campaigns/{SLUG}/checkins", "once"),
    ("tasks", f"/api/v1/campaigns/{SLUG}/tasks", "get"),
    ("order", ORDERS, "order"),
    ("order_hot", ORDERS, "order"),
]
# BENCH_HTTP_ONLY=order,order_hot measures those endpoints alone (with the ceiling around them), for a quick look.
ONLY = {name for name in os.environ.get("BENCH_HTTP_ONLY", "").split(",") if name}
# Answers that are the endpoint's expected outcome under this load, not errors: the hot product sells out.
EXPECTED_REFUSALS = {"order_hot": frozenset({409})}

# wrk runs a copy of this per thread (setup() and done() in a separate one). Arguments after `--`: the tokens file,
# the first and last (exclusive) line to use, the thread count, the mode, a nonce for Idempotency-Keys, and for
# orders the file of product ids to rotate over.
WRK_SCRIPT = r"""
local threads = {}
local next_id = 0

function setup(thread)
  thread:set("id", next_id)
  next_id = next_id + 1
  table.insert(threads, thread)
end

function init(args)
  local first, last, nthreads = tonumber(args[2]), tonumber(args[3]), tonumber(args[4])
  mode, nonce = args[5], args[6]
  statuses, sent, wrapped = {}, 0, 0
  if mode == "anonymous" then
    plain = wrk.format("GET", wrk.path)
    return
  end
  local all = {}
  for line in io.lines(args[1]) do all[#all + 1] = line end
  tokens = {}
  for i = first + id, last - 1, nthreads do tokens[#tokens + 1] = all[i + 1] end
  if mode == "order" then
    products = {}
    for line in io.lines(args[7]) do products[#products + 1] = line end
  end
  if mode == "get" then
    prebuilt = {}
    for i, token in ipairs(tokens) do
      prebuilt[i] = wrk.format("GET", wrk.path, {["Authorization"] = "Bearer " .. token})
    end
  end
end

function request()
  if mode == "anonymous" then return plain end
  sent = sent + 1
  if sent > #tokens then wrapped = wrapped + 1 end
  local i = (sent - 1) % #tokens + 1
  if mode == "get" then return prebuilt[i] end
  if mode == "order" then
    local product = products[(sent * 2 + id) % #products + 1]
    return wrk.format("POST", wrk.path, {
      ["Authorization"] = "Bearer " .. tokens[i],
      ["Idempotency-Key"] = nonce .. "-" .. id .. "-" .. sent,
      ["Content-Type"] = "application/json",
    }, '{"product_id": ' .. product .. '}')
  end
  return wrk.format("POST", wrk.path, {
    ["Authorization"] = "Bearer " .. tokens[i],
    ["Idempotency-Key"] = nonce .. "-" .. id .. "-" .. sent,
  })
end

function response(status, headers, body)
  statuses[status] = (statuses[status] or 0) + 1
end

function done(summary, latency, requests)
  local totals, wraps = {}, 0
  for _, thread in ipairs(threads) do
    for code, count in pairs(thread:get("statuses")) do totals[code] = (totals[code] or 0) + count end
    wraps = wraps + thread:get("wrapped")
  end
  local parts = {}
  for code, count in pairs(totals) do parts[#parts + 1] = string.format('"%d": %d', code, count) end
  local e = summary.errors
  io.write(string.format(
    'WRK-RESULT {"requests": %d, "duration_us": %d, "socket_errors": %d, "wrapped": %d, "statuses": {%s}}\n',
    summary.requests, summary.duration, e.connect + e.read + e.write + e.timeout, wraps, table.concat(parts, ", ")))
end
"""


@dataclass
class Run:
    """One wrk run: throughput, latency percentiles and what the server answered."""

    rps: float
    p50_ms: float
    p99_ms: float
    requests: int
    socket_errors: int
    wrapped: int
    statuses: dict[int, int] = field(default_factory=dict)
    expected: frozenset[int] = frozenset()  # refusals that are the endpoint's outcome under this load
    cpu: dict[str, float] = field(default_factory=dict)  # CPU seconds during the run: web, postgres, redis, wrk

    def cpu_ms(self, part: str) -> float:
        """CPU milliseconds of `part` per request of this run."""
        return 1000 * self.cpu.get(part, 0.0) / max(self.requests, 1)

    @property
    def non_2xx(self) -> int:
        return sum(n for status, n in self.statuses.items() if not 200 <= status < 300 and status not in self.expected)

    @property
    def refused(self) -> int:
        return sum(n for status, n in self.statuses.items() if status in self.expected)

    @property
    def errors(self) -> int:
        return self.non_2xx + self.socket_errors

    @classmethod
    def merged(cls, runs: list[Run]) -> Run:
        """Several runs of one endpoint as one: the mean rate, the median p50, the worst p99, everything counted."""
        statuses: dict[int, int] = {}
        for run in runs:
            for status, n in run.statuses.items():
                statuses[status] = statuses.get(status, 0) + n
        return cls(
            rps=statistics.fmean(run.rps for run in runs),
            p50_ms=statistics.median(run.p50_ms for run in runs),
            p99_ms=max(run.p99_ms for run in runs),
            requests=sum(run.requests for run in runs),
            socket_errors=sum(run.socket_errors for run in runs),
            wrapped=sum(run.wrapped for run in runs),
            statuses=statuses,
            expected=runs[0].expected,
            cpu={part: sum(run.cpu.get(part, 0.0) for run in runs) for part in CPU_PARTS},
        )


@dataclass(frozen=True)
class Measured:
    """An endpoint's rounds with the ceiling runs around them (ceilings[i] before rounds[i], ceilings[i+1] after)."""

    run: Run  # the rounds merged
    ratios: list[float]  # each round's rate over the mean of its two adjacent ceilings
    ceilings: list[Run]

    @property
    def ratio(self) -> float:
        return statistics.median(self.ratios)

    @property
    def ceiling(self) -> Run:
        return Run.merged(self.ceilings)

    @classmethod
    def of(cls, rounds: list[Run], ceilings: list[Run]) -> Measured:
        ratios = [run.rps / ((ceilings[i].rps + ceilings[i + 1].rps) / 2) for i, run in enumerate(rounds)]
        return cls(run=Run.merged(rounds), ratios=ratios, ceilings=ceilings)


_UNITS_MS = {"us": 0.001, "ms": 1.0, "s": 1000.0, "m": 60_000.0, "h": 3_600_000.0}


def _latency_ms(output: str, percentile: int) -> float:
    """A line of wrk's --latency distribution ("     99%   43.47ms") in milliseconds."""
    match = re.search(rf"^\s*{percentile}%\s+([\d.]+)(us|ms|s|m|h)\s*$", output, re.MULTILINE)
    if match is None:
        raise RuntimeError(f"no {percentile}% latency line in wrk's output:\n{output}")
    return float(match.group(1)) * _UNITS_MS[match.group(2)]


def wrk(url: str, *, seconds: int, script: Path, args: list[str]) -> Run:
    """One wrk run against `url`: its Requests/sec and latency lines, the status tally of the Lua script, and the CPU
    time the server's parts and wrk itself used meanwhile (bench._harness.cpu_seconds)."""
    port = urllib.parse.urlsplit(url).port or 80
    cpu_before, wrk_before = cpu_seconds(port), os.times()
    command = ["wrk", f"-t{THREADS}", f"-c{CONNECTIONS}", f"-d{seconds}s", "--latency", "--timeout", "10s"]
    completed = subprocess.run(  # noqa: S603 - our own command line
        [*command, "-s", str(script), url, "--", *args],
        capture_output=True,
        text=True,
        timeout=seconds + 120,
        check=False,
    )
    cpu_after, wrk_after = cpu_seconds(port), os.times()
    cpu = {part: cpu_after[part] - cpu_before[part] for part in cpu_after}
    cpu["wrk"] = (wrk_after.children_user + wrk_after.children_system) - (
        wrk_before.children_user + wrk_before.children_system
    )
    output = completed.stdout
    rps = re.search(r"^Requests/sec:\s+([\d.]+)", output, re.MULTILINE)
    tally = re.search(r"^WRK-RESULT (\{.*\})$", output, re.MULTILINE)
    if completed.returncode or rps is None or tally is None:
        raise RuntimeError(f"wrk failed ({completed.returncode}):\n{output}\n{completed.stderr}")
    data = json.loads(tally.group(1))
    return Run(
        rps=float(rps.group(1)),
        p50_ms=_latency_ms(output, 50),
        p99_ms=_latency_ms(output, 99),
        requests=data["requests"],
        socket_errors=data["socket_errors"],
        wrapped=data["wrapped"],
        statuses={int(code): n for code, n in data["statuses"].items()},
        cpu=cpu,
    )


def settle(url: str) -> None:
    """VACUUM and a checkpoint before each endpoint's warm-up, so that no endpoint pays for what the ones before it
    left behind: autovacuum of the tables they wrote (its workers start a naptime later) and the timed checkpoint
    (every 5 min; after it, the first change to each page writes the whole page to the WAL) used to land in whichever
    endpoint was running then. Vacuuming and checkpointing are part of running a write load; this bench compares
    request paths, so each starts from the same state (its own warm-up pays its first page touches, as the traffic of
    the minutes before does in a live database); analyze() follows the warm-up."""
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute("VACUUM")
        conn.execute("CHECKPOINT")


def analyze(url: str) -> None:
    """ANALYZE after each endpoint's warm-up, as autovacuum does within a minute of a table's growth in a live
    database. Without it the measured rounds could run on plans cached while the tables the endpoint writes were
    still empty: each pooled backend fixes a statement's generic plan at its sixth run, during the warm-up's first
    milliseconds, and an empty check-in (or order) table makes that plan a sequential scan, kept until autovacuum
    happened to analyze the table (its naptime is a minute). A check-in then read every check-in of the day twice:
    7,500 rows returned per request against 43, and 2.0 against 1.0 ms of Postgres CPU; when autovacuum ran
    mid-phase decided the result, the run-to-run variance of docs/performance.md. ANALYZE updates the statistics and
    invalidates the cached plans, so the rounds plan against the tables as they are."""
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute("ANALYZE")


def bench_env(url: str, prefix: str) -> dict[str, str]:
    """The production settings' environment for this run (config/settings/prod.py and base.py read these)."""
    return {
        "DJANGO_SETTINGS_MODULE": "config.settings.prod",
        "SECRET_KEY": secrets.token_urlsafe(50),  # a throwaway key: nothing signed in this run outlives it
        "ALLOWED_HOSTS": "127.0.0.1,localhost",
        "DEBUG": "false",
        "SECURE_SSL_REDIRECT": "false",  # plain http on 127.0.0.1; no TLS proxy in front
        "SECURE_COOKIES": "false",
        "DATABASE_URL": url,
        "REDIS_URL": REDIS_URL,
        "CELERY_BROKER_URL": REDIS_URL,
        "CELERY_RESULT_BACKEND": REDIS_URL,
        "CACHE_PREFIX": prefix,
        "RATE_LIMIT_SPIN": "1000000/min",
        "RATE_LIMIT_CHECKIN": "1000000/min",
        "RATE_LIMIT_ORDER": "1000000/min",
        "LOG_LEVEL": "WARNING",
    }


@dataclass(frozen=True)
class Seeded:
    wheel_id: int
    product_ids: list[int]  # the distinct products
    hot_id: int  # the hot product


def seed_mall(campaign: Campaign) -> tuple[list[int], int]:
    """The mall of the run: PRODUCTS products with usage instructions (1 point, stock no run exhausts) and the hot
    code product with HOT_STOCK units and as many codes. Returns (the distinct products' ids, the hot one's)."""
    from mall.builders import category_build, pool_build, product_build
    from mall.models import Delivery

    category = category_build(slug="bench", name="压测", name_en="Benchmark")
    distinct = [
        product_build(campaign=campaign, category=category, name=f"商品{n}", name_en=f"Item {n}", points_price=1,
                      stock=10**8).pk
        for n in range(PRODUCTS)
    ]  # fmt: skip
    hot = product_build(
        campaign=campaign, category=category, delivery=Delivery.CODE, name="限量抢购", name_en="Flash sale",
        points_price=1, stock=HOT_STOCK, code_pool=pool_build(codes=HOT_STOCK, prefix="HOT"),
    )  # fmt: skip
    return distinct, hot.pk


def seed(user_ids: list[int], tokens_file: Path) -> Seeded:
    """The campaign, its check-in rule, tasks, wheel and mall; every member funded and given an access token (one
    per line of `tokens_file`, in `user_ids` order)."""
    from django.db import transaction
    from django.utils import timezone

    from accounts.models import User
    from accounts.services import token_issue
    from campaigns.builders import campaign_live
    from points.models import AccountKind
    from points.services import Award, System, transfers_post_batch
    from tasks.checkins import checkin_rule_save
    from tasks.engine import task_definition_save
    from tasks.models import CheckInRule, TaskDefinition, TaskTier

    now = timezone.now()
    campaign = campaign_live(now=now, name="接口压测", name_en="HTTP benchmark", slug=SLUG)
    checkin_rule_save(
        rule=CheckInRule(
            campaign=campaign,
            base_points=5,
            cycle=True,
            milestones=[{"day": 3, "points": 10}, {"day": 7, "points": 50}, {"day": 30, "points": 300}],
        )
    )
    previous = None
    for tier, title, event_type, target in [
        (TaskTier.BEGINNER, "Check in once", "checkin", 1),
        (TaskTier.INTERMEDIATE, "Make 3 purchases", "purchase", 3),
        (TaskTier.ADVANCED, "Invite 2 friends", "invite_qualified", 2),
    ]:
        previous = task_definition_save(
            task=TaskDefinition(
                campaign=campaign, tier=tier, title=title, title_en=title, event_type=event_type,
                target_count=target, reward_points=20 * target, auto_reward=False, prerequisite=previous,
            )
        )  # fmt: skip
    wheel = load_wheel(campaign=campaign, cost_points=COST)
    product_ids, hot_id = seed_mall(campaign)
    issuance = System(AccountKind.ISSUANCE, campaign.pk)
    for n in range(FUNDING_AWARDS):
        for start in range(0, len(user_ids), BATCH):
            transfers_post_batch(
                awards=[Award(key=f"bench-fund:{n}:{u}", user_id=u, amount=FUNDING) for u in user_ids[start:][:BATCH]],
                source=issuance,
                campaign_id=campaign.pk,
                now=now - timedelta(minutes=FUNDING_AWARDS - n),
            )
    members = User.objects.in_bulk(user_ids)
    with transaction.atomic(), tokens_file.open("w") as out:
        for user_id in user_ids:
            out.write(token_issue(user=members[user_id], name="bench-http").access + "\n")
    return Seeded(wheel_id=wheel.pk, product_ids=product_ids, hot_id=hot_id)


def hot_stock(hot_id: int) -> dict[str, int | str]:
    """The hot product's exact-stock check: initial stock minus the orders made equals the stock left (no
    oversell), and one distinct code per order."""
    from mall.models import Order, Product

    left = Product.objects.get(pk=hot_id).stock
    orders = Order.objects.filter(product_id=hot_id)
    made = orders.count()
    codes = orders.exclude(code__isnull=True).values("code_id").distinct().count()
    exact = HOT_STOCK - made == left and left >= 0 and codes == made
    return {
        "initial": HOT_STOCK,
        "orders": made,
        "stock_left": left,
        "exact": str(exact).lower(),
        "oversold": max(0, made - HOT_STOCK),
        "codes_issued": codes,
    }


def invariants(seeded: Seeded, created: dict[str, int]) -> list[str]:
    """What must hold after the run; empty when it all does. `created`: the 201s the API answered, per endpoint,
    warm-ups included. A request still in flight when wrk stopped may have committed without wrk seeing its answer,
    so the database may hold up to one row more per connection and run."""
    from bench.wheel import invariants as wheel_invariants
    from lottery.models import Draw
    from tasks import kinds
    from tasks.models import CheckIn

    problems = wheel_invariants(seeded.wheel_id)
    checkins = CheckIn.objects.count()
    if CheckIn.objects.filter(transfer_id__isnull=True).exists():
        problems.append("check-ins without their points transfer")
    from points.models import Transfer

    paid = Transfer.objects.filter(kind=kinds.CHECKIN).count()
    if paid != checkins:
        problems.append(f"{checkins} check-ins but {paid} check-in transfers")
    from mall.models import Order

    slack = (1 + ROUNDS) * CONNECTIONS  # the in-flight requests of the warm-up and of each round
    orders = Order.objects.filter(product_id__in=seeded.product_ids).count()
    hot_orders = Order.objects.filter(product_id=seeded.hot_id).count()
    for name, rows in (
        ("checkin", checkins),
        ("spin", Draw.objects.filter(wheel_id=seeded.wheel_id).count()),
        ("order", orders),
        ("order_hot", hot_orders),
    ):
        if not created[name] <= rows <= created[name] + slack:
            problems.append(f"{name}: the API answered {created[name]} x 201, the database has {rows} rows")
    if Order.objects.filter(spend_transfer_id__isnull=True, product_id__in=seeded.product_ids).exists():
        problems.append("orders without their points transfer")
    check = hot_stock(seeded.hot_id)
    if check["exact"] != "true":
        problems.append(f"the hot product's stock is not exact: {check}")
    return problems


def redis_cleanup(prefix: str) -> None:
    """Delete what this run left in its Redis database: the keys under its cache prefix (configuration version,
    rate-limit counters) and the Celery queue the check-ins' streak jobs went to."""
    client = redis.Redis.from_url(REDIS_URL)
    keys = [*client.scan_iter(match=f"{prefix}:*", count=1000), b"celery", *client.scan_iter(match="_kombu.*")]
    for start in range(0, len(keys), 1000):
        client.delete(*keys[start : start + 1000])


def main() -> None:
    url = fresh_database(DATABASE)
    user_ids, _raw_ids = bench_members(url, MEMBERS)
    prefix = f"bench-http-{uuid.uuid4().hex[:12]}"
    env = bench_env(url, prefix)
    os.environ.update(env)  # the seeding below runs under the same settings as the server
    django_setup(url)
    from django.db import connections

    runs: dict[str, Measured] = {}
    server_log = ""
    created = {"checkin": 0, "spin": 0, "order": 0, "order_hot": 0}
    try:
        with tempfile.TemporaryDirectory(prefix="bench-http-") as tmp:
            tokens_file, script = Path(tmp) / "tokens.txt", Path(tmp) / "rotate.lua"
            script.write_text(WRK_SCRIPT)
            seeded = seed(user_ids, tokens_file)
            products_files = {"order": Path(tmp) / "products.txt", "order_hot": Path(tmp) / "hot.txt"}
            products_files["order"].write_text("".join(f"{pk}\n" for pk in seeded.product_ids))
            products_files["order_hot"].write_text(f"{seeded.hot_id}\n")
            connections.close_all()
            with psycopg.connect(url, autocommit=True) as conn:  # statistics, as a live database has: without them
                conn.execute("VACUUM ANALYZE")  # the plans depend on when autovacuum happens to run (runs varied 2x)
            nonce = uuid.uuid4().hex
            with gunicorn_serving(
                {**os.environ, **env}, options=GUNICORN, log=Path(tmp) / "gunicorn.log", ready_path=HEALTH
            ) as base:

                def run_once(
                    path: str, mode: str, members: tuple[int, int], tag: str, name: str, *, seconds: int = SECONDS
                ) -> Run:
                    args = [str(tokens_file), str(members[0]), str(members[1]), str(THREADS), mode, f"{nonce}-{tag}"]
                    extra = [str(products_files[name])] if mode == "order" else []
                    run = wrk(base + path, seconds=seconds, script=script, args=[*args, *extra])
                    run.expected = EXPECTED_REFUSALS.get(name, frozenset())
                    if name in created:
                        created[name] += run.statuses.get(201, 0)
                    return run

                def ceiling_once(tag: str) -> Run:
                    return run_once(HEALTH, "anonymous", (0, MEMBERS), tag, "ceiling")

                def measure(name: str, path: str, mode: str) -> Measured:
                    """Warm-up, then ROUNDS rounds of the endpoint, each between two ceiling runs: a round's ratio
                    is its rate over the mean of the ceilings just before and after it (the machine's speed drifts
                    within a run; an adjacent ceiling tracks it), and the endpoint's ratio is the rounds' median."""
                    slices = [(0, MEMBERS)] * (ROUNDS + 1)
                    if mode == "once":  # every check-in another member: the warm-up and each round their own members
                        split = MEMBERS // CHECKIN_WARMUP_SHARE
                        size = (MEMBERS - split) // ROUNDS
                        slices = [(0, split), *[(split + r * size, split + (r + 1) * size) for r in range(ROUNDS)]]
                    settle(url)
                    run_once(path, mode, slices[0], f"w-{name}", name, seconds=WARMUP)  # warm-up: 201s counted only
                    analyze(url)
                    ceilings = [ceiling_once(f"c-{name}-0")]
                    rounds = []
                    for r in range(ROUNDS):
                        rounds.append(run_once(path, mode, slices[r + 1], f"{name}-{r}", name))
                        ceilings.append(ceiling_once(f"c-{name}-{r + 1}"))
                    measured = Measured.of(rounds, ceilings)
                    run = measured.run
                    print(f"  {name:<9} {run.rps:9.1f} req/s  ratio {measured.ratio:.2f} (rounds "
                          f"{' '.join(f'{x:.2f}' for x in measured.ratios)})  p50 {run.p50_ms:7.2f} ms  "
                          f"p99 {run.p99_ms:7.2f} ms (rounds {' '.join(f'{x.p99_ms:.0f}' for x in rounds)})  "
                          f"statuses {dict(sorted(run.statuses.items()))}  socket errors {run.socket_errors}  "
                          f"ceilings {' '.join(f'{c.rps:.0f}' for c in measured.ceilings)} "
                          f"(p99 {' '.join(f'{c.p99_ms:.0f}' for c in measured.ceilings)} ms)",
                          flush=True)  # fmt: skip
                    return measured

                print(f"members={MEMBERS} seconds={SECONDS} warmup={WARMUP} connections={CONNECTIONS} "
                      f"wrk_threads={THREADS} gunicorn={' '.join(GUNICORN)} settings=config.settings.prod",
                      flush=True)  # fmt: skip
                for name, path, mode in ENDPOINTS:
                    if not ONLY or name in ONLY:
                        runs[name] = measure(name, path, mode)
            server_log = (Path(tmp) / "gunicorn.log").read_text(errors="replace")
    finally:
        redis_cleanup(prefix)

    ceiling = Run.merged([c for m in runs.values() for c in m.ceilings])
    lines: list[tuple[str, Run, float]] = [("ceiling", ceiling, 1.0)]
    lines += [(name, m.run, m.ratio) for name, m in runs.items()]
    for name, run, ratio in lines:
        extra: dict[str, int] = {"repeats": run.statuses.get(409, 0)} if name == "checkin" else {}
        if run.expected:
            extra["refused"] = run.refused
        cpu = {f"{part}_cpu_ms": f"{run.cpu_ms(part):.2f}" for part in CPU_PARTS}
        print(result_line("http", name=name, rps=f"{run.rps:.1f}", ratio=f"{ratio:.2f}",
                          p50_ms=f"{run.p50_ms:.2f}", p99_ms=f"{run.p99_ms:.2f}", errors=run.errors,
                          **extra, **cpu))  # fmt: skip

    from points.services import ledger_reconcile, ledger_rollup

    ledger_rollup()
    audit = ledger_reconcile()
    print(result_line("http", name="hot_stock", **hot_stock(seeded.hot_id)))
    problems = invariants(seeded, created)
    slowest = min(runs, key=lambda name: runs[name].ratio)
    errors = sum(run.errors for _name, run, _ratio in lines)
    ceiling_runs = [c.rps for m in runs.values() for c in m.ceilings]
    print(result_line("http", name="summary", ceiling_rps=f"{ceiling.rps:.1f}", ceiling_min=f"{min(ceiling_runs):.1f}",
                      ceiling_max=f"{max(ceiling_runs):.1f}", rounds=ROUNDS, slowest=slowest,
                      slowest_ratio=f"{runs[slowest].ratio:.2f}", errors=errors,
                      reconcile_ok=str(audit.ok).lower(), invariants_ok=str(not problems).lower()))  # fmt: skip
    failures = []
    if not audit.ok:
        failures.append(f"ledger drift after the benchmark: {audit.drift}")
    failures += problems
    if errors:
        failing = {name: dict(sorted(run.statuses.items())) for name, run, _ratio in lines if run.errors}
        failures.append(f"error answers under load (statuses, socket errors aside): {failing}")
        first = max(server_log.find("Traceback"), 0)
        failures.append("gunicorn's log, from its first traceback:\n" + server_log[first : first + 5000])
    if "checkin" in runs and runs["checkin"].run.wrapped:
        wrapped = runs["checkin"].run.wrapped
        failures.append(f"check-in ran out of members ({wrapped} repeats): raise BENCH_HTTP_MEMBERS")
    if failures:
        sys.exit("\n".join(failures))


if __name__ == "__main__":
    main()
