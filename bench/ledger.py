"""Ledger throughput, measured against Postgres's own ceiling in the same run.

(a) raw: the cheapest possible guarded spend, one SQL statement through psycopg;
(b) service: points.services.transfer_post (idempotency key, lots, double entry) from a member to a campaign;
(c) batch: points.services.transfers_post_batch of 1,000 awards per call.
Ends with: RESULT ledger raw_per_s=... service_per_s=... batch_per_s=... service_ratio=... batch_ratio=...
"""

from __future__ import annotations

import os
import random
import sys
import time
import uuid
from pathlib import Path

import psycopg

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from bench._harness import bench_members, django_setup, fresh_database, result_line, run_workers

ACCOUNTS = int(os.environ.get("BENCH_ACCOUNTS", "10000"))
WORKERS = int(os.environ.get("BENCH_WORKERS", "4"))
SECONDS = float(os.environ.get("BENCH_SECONDS", "8"))
BATCH = 1000


def raw_worker(url: str, ids: list[int], *, deadline: float) -> int:
    rng = random.Random()
    done = 0
    with psycopg.connect(url, autocommit=True) as conn:
        while time.perf_counter() < deadline:
            conn.execute(
                "UPDATE bench_raw_wallet SET balance = balance - 1 WHERE id = %s AND balance >= 1 RETURNING balance",
                (rng.choice(ids),),
            ).fetchone()
            done += 1
    return done


def service_worker(url: str, user_ids: list[int], *, deadline: float) -> int:
    from points.services import Member, System, transfer_post

    rng = random.Random()
    spend = System("spend", 1)
    prefix = uuid.uuid4().hex
    done = 0
    while time.perf_counter() < deadline:
        transfer_post(
            key=f"{prefix}:{done}",
            debit=Member(rng.choice(user_ids)),
            credit=spend,
            amount=1,
            kind="spend",
            campaign_id=1,
        )
        done += 1
    return done


def batch_worker(url: str, user_ids: list[int], *, deadline: float) -> int:
    from points.services import Award, System, transfers_post_batch

    issuance = System("issuance", 1)
    prefix = uuid.uuid4().hex
    done = 0
    n = 0
    while time.perf_counter() < deadline:
        chunk = user_ids[(n * BATCH) % len(user_ids) :][:BATCH]
        transfers_post_batch(
            awards=[Award(key=f"{prefix}:{n}:{u}", user_id=u, amount=1000) for u in chunk],
            source=issuance,
            campaign_id=1,
        )
        done += len(chunk)
        n += 1
    return done


def main() -> None:
    url = fresh_database("pointsmall_bench_ledger")
    user_ids, raw_ids = bench_members(url, ACCOUNTS)

    slices = [user_ids[i::WORKERS] for i in range(WORKERS)]
    # (c) first: it also gives every member a balance (several lots) to spend in (b).
    batch_per_s = run_workers(batch_worker, [(url, s) for s in slices], SECONDS, django_url=url)
    raw_per_s = run_workers(raw_worker, [(url, raw_ids)] * WORKERS, SECONDS)
    service_per_s = run_workers(service_worker, [(url, user_ids)] * WORKERS, SECONDS, django_url=url)

    django_setup(url)
    from points.services import ledger_reconcile, ledger_rollup

    ledger_rollup()
    audit = ledger_reconcile()
    print(f"accounts={ACCOUNTS} workers={WORKERS} seconds={SECONDS} reconcile_ok={audit.ok}")
    print(f"(a) raw single-statement spend : {raw_per_s:10.0f} /s")
    print(f"(b) transfer_post service      : {service_per_s:10.0f} /s   ratio b/a = {service_per_s / raw_per_s:.2f}")
    print(f"(c) transfers_post_batch x1000 : {batch_per_s:10.0f} /s   ratio c/a = {batch_per_s / raw_per_s:.2f}")
    print(
        result_line(
            "ledger",
            raw_per_s=raw_per_s,
            service_per_s=service_per_s,
            batch_per_s=batch_per_s,
            service_ratio=service_per_s / raw_per_s,
            batch_ratio=batch_per_s / raw_per_s,
            reconcile_ok=int(audit.ok),
        )
    )
    if not audit.ok:
        sys.exit(f"ledger drift after the benchmark: {audit.drift}")


if __name__ == "__main__":
    main()
