"""Sample Postgres's statistics (and the web processes' context switches) once a second while a bench runs, then
say what one request of a phase cost: how the fourth pass of docs/performance.md found the check-in's cached
sequential scans and its LANGUAGE sql helper.

    .venv/bin/python -m bench._pg_sampler record /tmp/samples.jsonl     # in the background; stop it with a signal
    .venv/bin/python bench/api_http.py
    .venv/bin/python -m bench._pg_sampler summary /tmp/samples.jsonl tasks_checkin

`summary` takes the phase as the samples over which the named SQL function's call count grows (tasks_checkin,
lottery_spin, mall_order_place) and prints per call: rows returned and fetched, buffer hits, WAL records, full-page
images, bytes and fsyncs, the time per fsync, the busiest tables' sequential scans, each function's self time, and
the gunicorn processes' context switches. Function figures need `track_functions = all`, fsync times
`track_wal_io_timing = on`: `ALTER SYSTEM SET …; SELECT pg_reload_conf();` before, `ALTER SYSTEM RESET …` after.
Records the database `pointsmall_bench_http` (BENCH_SAMPLER_DB for another). Not run by `make bench` (the leading
underscore)."""

from __future__ import annotations

import json
import os
import sys
import time
from pathlib import Path
from typing import Any

import psycopg

from bench._harness import bench_db_url

DATABASE = os.environ.get("BENCH_SAMPLER_DB", "pointsmall_bench_http")
DB_FIELDS = ("xact_commit", "tup_returned", "tup_fetched", "tup_inserted", "tup_updated", "blks_hit", "blks_read")
WAL_FIELDS = ("wal_records", "wal_fpi", "wal_bytes", "wal_sync", "wal_sync_time")


def _web_switches() -> list[int]:
    """Voluntary and involuntary context switches of every gunicorn worker thread serving config.wsgi."""
    total = [0, 0]
    for task in Path("/proc").glob("[0-9]*/task/[0-9]*/status"):
        try:
            if b"config.wsgi:application" not in (task.parents[2] / "cmdline").read_bytes():
                continue
            for line in task.read_text().splitlines():
                if line.startswith("voluntary_ctxt_switches"):
                    total[0] += int(line.split()[1])
                elif line.startswith("nonvoluntary_ctxt_switches"):
                    total[1] += int(line.split()[1])
        except OSError:
            continue  # gone meanwhile
    return total


def _sample(conn: psycopg.Connection[Any]) -> dict[str, Any]:
    db = conn.execute(f"SELECT {', '.join(DB_FIELDS)} FROM pg_stat_database WHERE datname = current_database()")
    wal = conn.execute(f"SELECT {', '.join(WAL_FIELDS)} FROM pg_stat_wal")
    tables = conn.execute("SELECT relname, seq_scan, seq_tup_read FROM pg_stat_user_tables")
    functions = conn.execute("SELECT funcname, calls, self_time FROM pg_stat_user_functions")
    return {
        "t": time.time(),
        "db": [float(v) for v in db.fetchone() or ()],
        "wal": [float(v) for v in wal.fetchone() or ()],
        "tables": {name: [scans, rows] for name, scans, rows in tables},
        "functions": {name: [calls, float(self_ms)] for name, calls, self_ms in functions},
        "web_switches": _web_switches(),
    }


def record(path: Path) -> None:
    with path.open("a") as out:
        while True:
            try:
                with psycopg.connect(bench_db_url(DATABASE), autocommit=True) as conn:
                    while True:
                        out.write(json.dumps(_sample(conn)) + "\n")
                        out.flush()
                        time.sleep(1)
            except psycopg.Error:
                time.sleep(1)  # the bench drops and recreates its database


def summary(path: Path, function: str) -> str:
    rows = [json.loads(line) for line in path.read_text().splitlines() if line.strip()]

    def calls(row: dict[str, Any]) -> int:
        return int(row["functions"].get(function, [0, 0.0])[0])

    grew = [i for i in range(1, len(rows)) if calls(rows[i]) > calls(rows[i - 1])]
    if not grew:
        return f"no calls of {function} in {path}"
    first, last = rows[grew[0] - 1], rows[grew[-1]]
    n = calls(last) - calls(first)
    lines = [f"{function}: {n} calls in {last['t'] - first['t']:.0f} s; per call:"]
    for name, a, b in zip(DB_FIELDS + WAL_FIELDS, first["db"] + first["wal"], last["db"] + last["wal"], strict=True):
        lines.append(f"  {name:<16} {(b - a) / n:10.3f}")
    syncs = last["wal"][3] - first["wal"][3]
    if syncs:
        lines.append(f"  ms per fsync     {(last['wal'][4] - first['wal'][4]) / syncs:10.3f}")
    for label, index in (("web voluntary switches", 0), ("web involuntary switches", 1)):
        lines.append(f"  {label:<25} {(last['web_switches'][index] - first['web_switches'][index]) / n:8.2f}")
    scans = sorted(
        ((b[1] - first["tables"].get(name, [0, 0])[1], b[0] - first["tables"].get(name, [0, 0])[0], name)
         for name, b in last["tables"].items()),
        reverse=True,
    )  # fmt: skip
    for rows_read, scan_count, name in scans[:5]:
        if rows_read:
            lines.append(f"  seq scans of {name}: {scan_count / n:.2f}, rows read {rows_read / n:.1f}")
    for name, (total_calls, self_ms) in sorted(last["functions"].items(), key=lambda item: -item[1][1]):
        before = first["functions"].get(name, [0, 0.0])
        if total_calls > before[0]:
            lines.append(
                f"  fn {name:<30} calls {(total_calls - before[0]) / n:5.2f}  self ms {(self_ms - before[1]) / n:.3f}"
            )
    return "\n".join(lines)


if __name__ == "__main__":
    if len(sys.argv) == 3 and sys.argv[1] == "record":
        record(Path(sys.argv[2]))
    elif len(sys.argv) == 4 and sys.argv[1] == "summary":
        print(summary(Path(sys.argv[2]), sys.argv[3]))
    else:
        sys.exit(__doc__)
