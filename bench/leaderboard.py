"""The invite leaderboard with 1,000,000 members over HTTP (issue 14, Benchmark): top 50 + my rank, against a bare
Redis ZREVRANGE + ZREVRANK round trip and the trivial /api/v1/health view, all measured in the same run.

The data: a throwaway database `pointsmall_bench_leaderboard` with BENCH_LB_MEMBERS (default 4,000) real members,
each with an access token, and a campaign in its official phase with a referral program and one hourly snapshot
(so the rank movement has something to compare with). Its sorted set is filled straight into Redis with a pipeline:
BENCH_LB_SIZE (default 1,000,000) members with skewed invite counts and times, scored with
referrals.leaderboard.score_of — the real members spread among them, the top 50 real members (their masked names
are read from Postgres); no Invite rows (the read path reads Redis only). Redis: BENCH_HTTP_REDIS_URL (default
redis://127.0.0.1:6379/14) under a cache prefix of this run's own, deleted at the end.

The server: bench/api_http.py's (config.settings.prod under gunicorn, the Procfile's 2 workers x 4 threads, wrk with
16 connections on 2 threads, tokens rotated over the members). The endpoint: GET /api/v1/campaigns/{slug}/leaderboard
(referrals/api.py: the campaign from the configuration cache, referrals.leaderboard.leaderboard_view, the rank
movement from the process's copy of the latest snapshot). Order: ceiling, leaderboard, ceiling again (the ceiling
is their average), each BENCH_LB_SECONDS (default 8) after a BENCH_LB_WARMUP (default 2) second warm-up. The Redis
baseline: BENCH_LB_REDIS_CLIENTS (default 8, the server's 2 workers x 4 threads) processes each sending the same
pipeline (ZREVRANGE 0 49 WITHSCORES + ZREVRANK of a random member) in a loop for BENCH_LB_SECONDS; one more client
measures its latency percentiles.

Prints `RESULT leaderboard name=... ...` lines: the ceiling, the leaderboard (rps, p50/p99 ms, ratio to the ceiling
— the issue's target is >= 0.3 — and ratio_redis, its rate over the bare Redis round trip's), the Redis baseline, and
a check that one answer's top 50 and rank equal Redis's own (`consistent=`). Bounded in time; stops by itself; never
asserts a time. Exit status 1 on error answers or an inconsistent answer.
"""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import json
import os
import random
import statistics
import tempfile
import time
import urllib.error
import urllib.request
import uuid
from typing import Any

import redis

from bench._harness import bench_members, django_setup, fresh_database, gunicorn_serving, result_line, run_workers
from bench.api_http import GUNICORN, REDIS_URL, WRK_SCRIPT, Run, bench_env, wrk

SIZE = int(os.environ.get("BENCH_LB_SIZE", "1000000"))
MEMBERS = int(os.environ.get("BENCH_LB_MEMBERS", "4000"))
SECONDS = max(1, round(float(os.environ.get("BENCH_LB_SECONDS", "8"))))
WARMUP = max(1, round(float(os.environ.get("BENCH_LB_WARMUP", "2"))))
REDIS_CLIENTS = int(os.environ.get("BENCH_LB_REDIS_CLIENTS", "8"))
DATABASE = "pointsmall_bench_leaderboard"

THREADS = 2
SLUG = "bench-leaderboard"
PATH = f"/api/v1/campaigns/{SLUG}/leaderboard"
HEALTH = "/api/v1/health"
FAKE_BASE = 10**9  # ids of the set's members that are not real rows (far above the real members' ids)
TOP = 50


def seed(user_ids: list[int], tokens_file: Path) -> int:
    """The campaign with its program and a snapshot; a token per member. Returns the campaign id."""
    from django.db import transaction
    from django.utils import timezone

    from accounts.models import User
    from accounts.services import token_issue
    from campaigns.builders import campaign_live
    from referrals.builders import program_build
    from referrals.models import LeaderboardSnapshot

    now = timezone.now()
    campaign = campaign_live(now=now, name="邀请压测", name_en="Invite benchmark", slug=SLUG)
    program_build(campaign=campaign)
    rows = [[u, rank, 1] for rank, u in enumerate(user_ids, start=1)]
    LeaderboardSnapshot.objects.create(campaign=campaign, taken_at=now.replace(minute=0, second=0, microsecond=0),
                                       rows=rows)  # fmt: skip
    members = User.objects.in_bulk(user_ids)
    with transaction.atomic(), tokens_file.open("w") as out:
        for user_id in user_ids:
            out.write(token_issue(user=members[user_id], name="bench-leaderboard").access + "\n")
    return campaign.pk


def fill(client: redis.Redis, key: str, user_ids: list[int]) -> None:
    """SIZE members into the sorted set: skewed counts (most have 1-3 invites, a few hundreds), random times; the
    real members among them, the first TOP of them above everyone."""
    from referrals.leaderboard import SENTINEL, score_of

    rng = random.Random(14)
    fake = SIZE - len(user_ids)
    ids = [*user_ids[TOP:], *range(FAKE_BASE, FAKE_BASE + fake)]
    chunk = 20_000
    client.delete(key)
    for start in range(0, len(ids), chunk):
        mapping = {
            str(u): score_of(invites=min(500, int(rng.paretovariate(1.3))), ms=rng.randrange(30 * 86_400_000))
            for u in ids[start : start + chunk]
        }
        client.zadd(key, mapping)
    client.zadd(key, {str(u): score_of(invites=1000 - i, ms=i) for i, u in enumerate(user_ids[:TOP])})
    client.zadd(key, {SENTINEL: 0})


def redis_loop(url: str, key: str, size: int, *, deadline: float) -> int:
    """One client: the bare round trip (top 50 with scores + a member's rank) until the deadline."""
    client = redis.Redis.from_url(url)
    rng = random.Random()
    done = 0
    while time.perf_counter() < deadline:
        pipe = client.pipeline(transaction=False)
        pipe.zrevrange(key, 0, TOP - 1, withscores=True)
        pipe.zrevrank(key, str(FAKE_BASE + rng.randrange(size)))
        pipe.execute()
        done += 1
    return done


def redis_latency(client: redis.Redis, key: str, size: int, seconds: float) -> tuple[float, float]:
    """p50 and p99 (ms) of the bare round trip from one client alone."""
    rng = random.Random(7)
    samples: list[float] = []
    deadline = time.perf_counter() + seconds
    while time.perf_counter() < deadline:
        t0 = time.perf_counter()
        pipe = client.pipeline(transaction=False)
        pipe.zrevrange(key, 0, TOP - 1, withscores=True)
        pipe.zrevrank(key, str(FAKE_BASE + rng.randrange(size)))
        pipe.execute()
        samples.append((time.perf_counter() - t0) * 1000)
    cuts = statistics.quantiles(samples, n=100)
    return cuts[49], cuts[98]


def consistent(base: str, token: str, user_id: int, client: redis.Redis, key: str) -> bool:
    """One answer of the endpoint equals Redis's own top 50 counts and the member's rank."""
    from referrals.leaderboard import invites_of

    request = urllib.request.Request(base + PATH, headers={"Authorization": f"Bearer {token}"})  # noqa: S310
    try:
        with urllib.request.urlopen(request, timeout=10) as response:  # noqa: S310 - our own server
            body: dict[str, Any] = json.loads(response.read())
    except urllib.error.HTTPError as exc:
        print(f"  {PATH} answered {exc.code}: {exc.read()[:500]!r}")
        return False
    top: Any = client.zrevrange(key, 0, TOP - 1, withscores=True)
    rank: Any = client.zrevrank(key, str(user_id))
    me = body.get("me") or {}
    return [e["invites"] for e in body["entries"]] == [invites_of(s) for _m, s in top] and me.get("rank") == rank + 1


def main() -> None:
    url = fresh_database(DATABASE)
    user_ids, _raw = bench_members(url, MEMBERS)
    prefix = f"bench-lb-{uuid.uuid4().hex[:12]}"
    env = bench_env(url, prefix)
    os.environ.update(env)
    django_setup(url)
    from django.db import connections
    from django.urls import Resolver404, resolve

    from referrals.leaderboard import board_key

    try:
        resolve(PATH)
    except Resolver404:
        sys.exit(f"{PATH} is not routed: the leaderboard API (referrals/api.py) is missing")
    client = redis.Redis.from_url(REDIS_URL)
    runs: dict[str, Run] = {}
    try:
        with tempfile.TemporaryDirectory(prefix="bench-lb-") as tmp:
            tokens_file, script = Path(tmp) / "tokens.txt", Path(tmp) / "rotate.lua"
            script.write_text(WRK_SCRIPT)
            campaign_id = seed(user_ids, tokens_file)
            key = board_key(campaign_id)
            t0 = time.perf_counter()
            fill(client, key, user_ids)
            print(f"size={client.zcard(key) - 1} filled_in_s={time.perf_counter() - t0:.1f} members={MEMBERS} "
                  f"seconds={SECONDS} gunicorn={' '.join(GUNICORN)}", flush=True)  # fmt: skip
            connections.close_all()

            redis_rps = run_workers(redis_loop, [(REDIS_URL, key, SIZE - MEMBERS)] * REDIS_CLIENTS, SECONDS)
            redis_p50, redis_p99 = redis_latency(client, key, SIZE - MEMBERS, min(SECONDS, 3))
            with gunicorn_serving(
                {**os.environ, **env}, options=GUNICORN, log=Path(tmp) / "gunicorn.log", ready_path=HEALTH
            ) as base:

                def measure(name: str, path: str, mode: str) -> Run:
                    args = [str(tokens_file), "0", str(MEMBERS), str(THREADS), mode]
                    wrk(base + path, seconds=WARMUP, script=script, args=[*args, f"w-{name}"])
                    run = wrk(base + path, seconds=SECONDS, script=script, args=[*args, name])
                    print(f"  {name:<11} {run.rps:9.1f} req/s  p50 {run.p50_ms:7.2f} ms  p99 {run.p99_ms:7.2f} ms  "
                          f"statuses {dict(sorted(run.statuses.items()))}", flush=True)  # fmt: skip
                    return run

                runs["before"] = measure("ceiling", HEALTH, "anonymous")
                runs["leaderboard"] = measure("leaderboard", PATH, "get")
                runs["after"] = measure("ceiling", HEALTH, "anonymous")
                token = tokens_file.read_text().splitlines()[TOP + 1]
                same = consistent(base, token, user_ids[TOP + 1], client, key)
                server_log = (Path(tmp) / "gunicorn.log").read_text(errors="replace")
    finally:
        keys = list(client.scan_iter(match=f"{prefix}:*", count=1000))
        for start in range(0, len(keys), 1000):
            client.unlink(*keys[start : start + 1000])

    ceiling_rps = (runs["before"].rps + runs["after"].rps) / 2
    board = runs["leaderboard"]
    print(result_line("leaderboard", name="ceiling", rps=f"{ceiling_rps:.1f}", before=f"{runs['before'].rps:.1f}",
                      after=f"{runs['after'].rps:.1f}"))  # fmt: skip
    print(result_line("leaderboard", name="redis_round_trip", rps=f"{redis_rps:.1f}", p50_ms=f"{redis_p50:.3f}",
                      p99_ms=f"{redis_p99:.3f}", clients=REDIS_CLIENTS, size=SIZE))  # fmt: skip
    print(result_line("leaderboard", name="top50_and_my_rank", rps=f"{board.rps:.1f}",
                      p50_ms=f"{board.p50_ms:.2f}", p99_ms=f"{board.p99_ms:.2f}",
                      ratio=f"{board.rps / ceiling_rps:.2f}", ratio_redis=f"{board.rps / redis_rps:.3f}",
                      errors=board.errors, consistent=str(same).lower(), size=SIZE))  # fmt: skip
    failures = []
    errors = sum(run.errors for run in runs.values())
    if errors:
        first = max(server_log.find("Traceback"), 0)
        failures.append(f"{errors} error answers; gunicorn's log from its first traceback:\n"
                        f"{server_log[first : first + 5000]}")  # fmt: skip
    if not same:
        failures.append("the endpoint's top 50 or rank differ from Redis's")
    if failures:
        sys.exit("\n".join(failures))


if __name__ == "__main__":
    main()
