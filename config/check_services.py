"""Say exactly what to do when Postgres or Redis is not reachable (used by `make run` and `make test`)."""

from __future__ import annotations

import os
import sys
from urllib.parse import urlparse

import psycopg
import redis


def main() -> int:
    db_url = os.environ.get("DATABASE_URL", "postgres://postgres@127.0.0.1:5432/pointsmall")
    redis_url = os.environ.get("REDIS_URL", "redis://127.0.0.1:6379/0")
    ok = True
    parsed = urlparse(db_url)
    admin_url = parsed._replace(path="/postgres").geturl()
    try:
        with psycopg.connect(admin_url, connect_timeout=3, autocommit=True) as conn:
            name = parsed.path.lstrip("/")
            exists = conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", (name,)).fetchone()
            if not exists:
                conn.execute(psycopg.sql.SQL("CREATE DATABASE {}").format(psycopg.sql.Identifier(name)))
                print(f"created database {name}")
    except psycopg.OperationalError as exc:
        ok = False
        print(f"PostgreSQL is not reachable at {parsed.hostname}:{parsed.port or 5432} ({exc}).", file=sys.stderr)
        print(
            "  Start it with:  pg_ctlcluster --skip-systemctl-redirect $(ls /etc/postgresql) main start",
            file=sys.stderr,
        )
        print("  or with Docker: docker compose up -d db redis", file=sys.stderr)
    try:
        redis.Redis.from_url(redis_url, socket_connect_timeout=3).ping()
    except redis.RedisError as exc:
        ok = False
        print(f"Redis is not reachable at {redis_url} ({exc}).", file=sys.stderr)
        print(
            "  Start it with:  redis-server --daemonize yes --bind 127.0.0.1 --port 6379 --save '' --appendonly no",
            file=sys.stderr,
        )
        print("  or with Docker: docker compose up -d db redis", file=sys.stderr)
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
