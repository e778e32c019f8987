"""The invite leaderboard (issue 14, item 5): a Redis sorted set per campaign mirrored from Postgres, hourly snapshots
and the final top-N awards.

**The ranking.** A member's score in a campaign is the number of their invites that are `qualified` and qualified
before the campaign's follow-up phase starts (invites are attributed only during the official phase; a qualification
arriving later does not move the board, and the final ranking is frozen at that instant). Ties go to whoever got
there first: the earlier time of the qualification that brought the member to that count, i.e. their latest
qualified invite's `qualified_at`, in milliseconds since the campaign's warm-up start. Both go into one exact
sorted-set score,

    score = count * 2**36 + (2**36 - 1 - ms)        ms = clamp(latest qualified_at - warm-up start, 0, 2**36 - 1)

so ZREVRANGE gives the order. Bounds: the time part covers 2**36 ms ≈ 795 days after the warm-up start (later
qualifications all count as that last millisecond: only their tie-break is lost); the count is capped at 2**17 - 1 =
131,071 so that every score is below 2**53 and Redis's float64 holds it exactly (per-inviter caps keep real counts
far below). An exact tie (same count, same millisecond) falls to Redis's own order for equal scores — the member id
compared as text, the greater first — and every Postgres ranking query below orders the same way
(`user_id::text COLLATE "C" DESC`), so Redis and Postgres always agree on ranks. The score is computed in SQL only
(`_SCORES`), for one member (sync), for all (rebuild) and for the Postgres rankings (snapshots, awards, fallback).

**Redis.** One key per campaign, `<CACHE_PREFIX>:lb:<campaign id>`, in the cache's Redis (so tests' cache.clear()
and parallel runs with their own prefix stay apart). A built set always holds a sentinel member (score 0, below
every real member), so "the key is missing" means "not built" (Redis flushed or evicted), never "nobody qualified".
- `leaderboard_member_sync` (the outbox job `referrals.leaderboard_sync`, recorded by the qualification and review
  SQL for every qualified or reversed invite) recomputes one member's score from Postgres and ZADDs it (ZREM at 0);
  it writes only into a built set (a missing set is rebuilt whole by its next reader).
- `leaderboard_rebuild` builds the whole set under a temporary key and RENAMEs it over the live one (readers see
  the old or the new set, never half of one). The command `manage.py leaderboard_rebuild`, the job
  `referrals.leaderboard_rebuild`, and the hourly snapshot job (a safety net for syncs lost in a long Redis outage)
  run it; a reader that finds the set missing runs it too, once: a short Redis lock makes a flash crowd rebuild
  once while the others wait for it (then read Postgres if it takes too long).
- Syncs and rebuilds are serialised per campaign by Postgres advisory locks (a rebuild exclusively, syncs shared,
  each sync exclusively per member), held while they read Postgres and write Redis: a slow sync can never write an
  older score over a newer one, nor a rebuild an older set over a sync's newer score.

**Reads** (`leaderboard_top`, `leaderboard_rank`, `leaderboard_view` for the page: top N + my rank) are one Redis
round trip. Names are masked (accounts.User.masked_name) and carry the member's latest title badge (FinalAward);
both come from Postgres, kept per process for NAMES_SECONDS, so a hot board costs no query.

**When Redis is down** (docs/architecture.md): reads fall back to the same ranking computed by Postgres (one grouped
query over the campaign's qualified invites — slower, right); after a failure Redis is not tried again for
REDIS_DOWN_PAUSE, and the outage is logged once. Syncs raise, so the outbox relay delivers them again; the hourly
rebuild heals what stayed behind.

**Snapshots.** `leaderboard_snapshots_take` (job `referrals.leaderboard_snapshot`, hourly) stores, for every
campaign in its official phase with a referral program, the Postgres ranking — up to SNAPSHOT_ROWS members, as
`[[member id, rank, qualified invites], ...]` — at the hour (taken_at truncated to the hour; UNIQUE, so a second run
in the same hour adds nothing). `rank_movement` compares a member's rank now with the latest snapshot (the page's
"up 3 since the last hour"); `snapshot_movements` compares two consecutive snapshots for every member in them: what
the messaging issue needs to tell members their movement is in the snapshot rows alone.

**Final awards.** `leaderboard_finalize` (job `referrals.final_awards`, every 10 minutes, acting once per campaign
once its follow-up phase has started — the official phase, the only one with invites, is over) freezes the ranking
computed by Postgres as the campaign's final snapshot (`is_final`, taken_at = follow-up start; one per campaign) and,
in the same transaction, gives each of the program's top N the program's points through the value gate (kind
`referral_top`, ledger key `referral:top:<campaign>:<member>`) and a FinalAward with its title badge. Exactly once:
the final snapshot's UNIQUE claim makes a second or concurrent run do nothing, the FinalAward UNIQUE rows and the
ledger keys back it up. An inactive program gets its final ranking but no prizes.
"""

from __future__ import annotations

import json
import logging
import threading
import time
import uuid
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import redis
from django.conf import settings
from django.db import connection, transaction
from django.utils import timezone

from accounts.models import User
from campaigns.models import Campaign
from campaigns.services import campaign_points_grant
from config.i18n import localized
from referrals.kinds import REFERRAL_TOP
from referrals.models import FinalAward, LeaderboardSnapshot, Program

logger = logging.getLogger(__name__)

TIME_BITS = 36
TIME_MAX = 2**TIME_BITS - 1  # milliseconds after the warm-up start (≈ 795 days)
COUNT_MAX = 2 ** (53 - TIME_BITS) - 1  # 131,071: count * 2**36 + TIME_MAX < 2**53, exact in a float64
SENTINEL = "built"  # the member every built set holds, score 0 (below every real member)
SNAPSHOT_ROWS = 10_000  # members kept per snapshot (~200 KB of JSON); members below have no recorded movement
NAMES_SECONDS = 60.0  # masked names and title badges kept per process
NAMES_MAX = 20_000  # entries of that cache before it starts afresh
SNAPSHOT_SECONDS = 60.0  # the latest snapshot's ranks kept per process (rank_movement)
REDIS_DOWN_PAUSE = 1.0  # seconds without trying Redis after a failure
REBUILD_LOCK_MS = 60_000  # the transparent rebuild's Redis lock (a crashed rebuilder frees it after this)
REBUILD_WAIT = 5.0  # seconds a reader waits for another's rebuild before reading Postgres
TEMP_TTL = 3600  # seconds a temporary set of a rebuild that died mid-way lives
CHUNK = 10_000  # members per ZADD while rebuilding

# One member's (or every member's) score, computed as the module docstring says. Constants only are formatted in.
_SCORES = f"""
SELECT i.inviter_id AS user_id, count(*) AS invites,
       least(count(*), {COUNT_MAX})::bigint * {TIME_MAX + 1}
       + ({TIME_MAX} - least(greatest(floor(extract(epoch FROM max(i.qualified_at) - c.warmup_starts_at) * 1000), 0),
                             {TIME_MAX}))::bigint AS score
  FROM referrals_invite i
  JOIN campaigns_campaign c ON c.id = i.campaign_id
 WHERE i.campaign_id = %(campaign)s AND i.status = 'qualified' AND i.qualified_at < c.followup_starts_at
"""  # noqa: S608 — integer constants of this module, no input
_ORDER = 'ORDER BY score DESC, user_id::text COLLATE "C" DESC'
_MEMBER_SQL = _SCORES + " AND i.inviter_id = %(user)s GROUP BY i.inviter_id, c.warmup_starts_at"
_ALL_SQL = _SCORES + " GROUP BY i.inviter_id, c.warmup_starts_at"
_RANKING_SQL = f"SELECT user_id, invites, score FROM ({_ALL_SQL}) s {_ORDER} LIMIT %(limit)s"  # noqa: S608 — constants
_RANK_SQL = f"""
WITH s AS ({_ALL_SQL}), me AS (SELECT * FROM s WHERE user_id = %(user)s)
SELECT me.invites, (SELECT count(*) FROM s WHERE s.score > me.score OR (s.score = me.score
                    AND s.user_id::text COLLATE "C" > me.user_id::text COLLATE "C")) + 1
  FROM me
"""  # noqa: S608 — constants of this module
_NAMES_SQL = """
SELECT u.id, u.display_name, u.phone, u.email, a.title, a.title_en
  FROM accounts_user u
  LEFT JOIN LATERAL (SELECT f.title, f.title_en FROM referrals_finalaward f WHERE f.user_id = u.id
                      ORDER BY f.awarded_at DESC, f.id DESC LIMIT 1) a ON true
 WHERE u.id = ANY(%s)
"""
# ZADD (ZREM at 0) into a built set only: a missing set is rebuilt whole by its next reader.
_SYNC_LUA = """
if redis.call('EXISTS', KEYS[1]) == 0 then return 0 end
if ARGV[1] == '0' then redis.call('ZREM', KEYS[1], ARGV[2]) else redis.call('ZADD', KEYS[1], ARGV[1], ARGV[2]) end
return 1
"""
_FINAL_SQL = """
INSERT INTO referrals_leaderboardsnapshot (campaign_id, taken_at, is_final, rows) VALUES (%s, %s, true, %s::jsonb)
ON CONFLICT DO NOTHING RETURNING id
"""
_UNLOCK_LUA = "if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end return 0"


def score_of(*, invites: int, ms: int) -> int:
    """The sorted-set score of `invites` qualified invites, the latest `ms` milliseconds after the warm-up start
    (the Python twin of _SCORES, for tests and the bench)."""
    return min(invites, COUNT_MAX) * (TIME_MAX + 1) + (TIME_MAX - min(max(ms, 0), TIME_MAX))


def invites_of(score: float) -> int:
    """The qualified-invite count inside a score."""
    return int(score) >> TIME_BITS


# --- Results ------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Entry:
    """A row of the board: rank (1-based), the member (masked name, title badge in both languages), invites."""

    rank: int
    user_id: int
    name: str
    invites: int
    title: str = ""
    title_en: str = ""

    @property
    def display_title(self) -> str:
        return localized(self, "title")


@dataclass(frozen=True)
class MyRank:
    rank: int
    invites: int


@dataclass(frozen=True)
class Leaderboard:
    entries: list[Entry]
    me: MyRank | None
    source: str  # "redis", or "postgres" while Redis is unavailable


@dataclass(frozen=True)
class Movement:
    """A member's rank now and in the latest snapshot; `change` > 0 is up (None: not ranked in one of them)."""

    rank: int | None
    previous_rank: int | None
    since: datetime | None  # the snapshot's time

    @property
    def change(self) -> int | None:
        if self.rank is None or self.previous_rank is None:
            return None
        return self.previous_rank - self.rank


@dataclass(frozen=True)
class Ranked:
    user_id: int
    rank: int
    invites: int


# --- Redis plumbing -------------------------------------------------------------------------------------------


class _Redis:
    def __init__(self, url: str) -> None:
        self.client = redis.Redis.from_url(url, socket_connect_timeout=0.5, socket_timeout=2.0)
        self.sync = self.client.register_script(_SYNC_LUA)
        self.unlock = self.client.register_script(_UNLOCK_LUA)
        self.down_until = 0.0
        self.down_since: float | None = None


_clients: dict[str, _Redis] = {}
_clients_lock = threading.Lock()


def _conn() -> _Redis:
    url = settings.CACHES["default"]["LOCATION"]
    with _clients_lock:
        conn = _clients.get(url)
        if conn is None:
            conn = _clients[url] = _Redis(url)
    return conn


def _available() -> _Redis | None:
    """The leaderboard's Redis, or None while it is paused after a failure."""
    conn = _conn()
    return None if time.monotonic() < conn.down_until else conn


def _failed(conn: _Redis, exc: Exception) -> None:
    now = time.monotonic()
    conn.down_until = now + REDIS_DOWN_PAUSE
    if conn.down_since is None:
        conn.down_since = now
        logger.warning(
            "Leaderboard: Redis unavailable (%s: %s); boards are read from Postgres", type(exc).__name__, exc
        )


def _ok(conn: _Redis) -> None:
    if conn.down_since is not None:
        logger.info("Leaderboard: Redis is back after %.1f s", time.monotonic() - conn.down_since)
        conn.down_since = None


def board_key(campaign_id: int) -> str:
    prefix = settings.CACHES["default"].get("KEY_PREFIX", "")
    return f"{prefix}:lb:{campaign_id}"


@contextmanager
def _locked(campaign_id: int, *, user_id: int | None = None) -> Iterator[None]:
    """A transaction holding the campaign's advisory lock: exclusive for a rebuild (user_id None), shared plus the
    member's own exclusive lock for a sync."""
    with transaction.atomic(), connection.cursor() as cursor:
        if user_id is None:
            cursor.execute("SELECT pg_advisory_xact_lock(hashtextextended('referrals.lb:' || %s, 0))", [campaign_id])
        else:
            cursor.execute(
                "SELECT pg_advisory_xact_lock_shared(hashtextextended('referrals.lb:' || %s, 0)), "
                "pg_advisory_xact_lock(hashtextextended('referrals.lb:' || %s || ':' || %s, 0))",
                [campaign_id, campaign_id, user_id],
            )
        yield


# --- Writes: sync and rebuild ---------------------------------------------------------------------------------


def leaderboard_member_sync(*, campaign_id: int, user_id: int) -> int:
    """Recompute one member's score from Postgres and write it into the campaign's set (ZREM when they have no
    qualified invite left). Idempotent; safe to run concurrently and out of order (see the module docstring).
    Returns the member's qualified invites. Redis errors propagate: the outbox delivers the job again."""
    with _locked(campaign_id, user_id=user_id), connection.cursor() as cursor:
        cursor.execute(_MEMBER_SQL, {"campaign": campaign_id, "user": user_id})
        row = cursor.fetchone()
        invites, score = (int(row[1]), int(row[2])) if row else (0, 0)
        _conn().sync(keys=[board_key(campaign_id)], args=[str(score), str(user_id)])
    return invites


def leaderboard_rebuild(*, campaign_id: int) -> int:
    """Rebuild the campaign's set from Postgres: built under a temporary key, then renamed over the live one in one
    MULTI (with the sentinel, without the temporary key's expiry). Returns the members ranked."""
    key = board_key(campaign_id)
    temp = f"{key}:tmp:{uuid.uuid4().hex}"
    client = _conn().client
    members = 0
    with _locked(campaign_id), connection.chunked_cursor() as cursor:
        cursor.execute(_ALL_SQL, {"campaign": campaign_id})
        while rows := cursor.fetchmany(CHUNK):
            pipe = client.pipeline(transaction=False)
            pipe.zadd(temp, {str(user_id): int(score) for user_id, _invites, score in rows})
            pipe.expire(temp, TEMP_TTL)
            pipe.execute()
            members += len(rows)
        pipe = client.pipeline(transaction=True)
        pipe.zadd(temp, {SENTINEL: 0})
        pipe.rename(temp, key)
        pipe.persist(key)
        pipe.execute()
    return members


def _ensure_built(conn: _Redis, campaign_id: int) -> bool:
    """Called by a reader that found the set missing: rebuild it once (the Redis lock's holder rebuilds, others wait
    up to REBUILD_WAIT for it). True when the set exists afterwards."""
    key = board_key(campaign_id)
    lock, token = f"{key}:rebuilding", uuid.uuid4().hex
    if conn.client.set(lock, token, nx=True, px=REBUILD_LOCK_MS):
        try:
            leaderboard_rebuild(campaign_id=campaign_id)
        finally:
            conn.unlock(keys=[lock], args=[token])
        return True
    deadline = time.monotonic() + REBUILD_WAIT
    while time.monotonic() < deadline:
        time.sleep(0.05)
        if conn.client.exists(key):
            return True
    return False


# --- Reads ------------------------------------------------------------------------------------------------------


def _read(conn: _Redis, campaign_id: int, *, n: int, user_id: int | None) -> tuple[list[Any], Any, Any] | None:
    """One round trip: the top n with scores, the member's 0-based rank and score. None when the set is missing."""
    key = board_key(campaign_id)
    pipe = conn.client.pipeline(transaction=False)
    pipe.zrevrange(key, 0, max(n, 1) - 1, withscores=True)
    if user_id is not None:
        pipe.zrevrank(key, str(user_id))
        pipe.zscore(key, str(user_id))
    result = pipe.execute()
    if not result[0]:  # a built set always holds the sentinel
        return None
    if user_id is None:
        return result[0], None, None
    return result[0], result[1], result[2]


def _read_built(campaign_id: int, *, n: int, user_id: int | None) -> tuple[list[Any], Any, Any] | None:
    """The Redis read, rebuilding a missing set once; None when Redis cannot answer (down, or the rebuild is slow)."""
    conn = _available()
    if conn is None:
        return None
    try:
        found = _read(conn, campaign_id, n=n, user_id=user_id)
        if found is None and _ensure_built(conn, campaign_id):
            found = _read(conn, campaign_id, n=n, user_id=user_id)
    except redis.RedisError as exc:
        _failed(conn, exc)
        return None
    _ok(conn)
    return found


_names: dict[int, tuple[float, str, str, str]] = {}
_names_lock = threading.Lock()


def _names_of(user_ids: Iterable[int]) -> dict[int, tuple[str, str, str]]:
    """(masked name, title, title_en) per member, from Postgres at most once per NAMES_SECONDS per process."""
    now = time.monotonic()
    wanted = list(dict.fromkeys(user_ids))
    found: dict[int, tuple[str, str, str]] = {}
    missing = []
    for user_id in wanted:
        cached = _names.get(user_id)
        if cached is not None and cached[0] > now:
            found[user_id] = cached[1:]
        else:
            missing.append(user_id)
    if missing:
        with connection.cursor() as cursor:
            cursor.execute(_NAMES_SQL, [missing])
            rows = cursor.fetchall()
        with _names_lock:
            if len(_names) > NAMES_MAX:
                _names.clear()
            for user_id, display_name, phone, email, title, title_en in rows:
                masked = User(display_name=display_name or "", phone=phone, email=email).masked_name
                found[user_id] = (masked, title or "", title_en or "")
            for user_id in missing:  # a member without a row (none should be) is cached too, as "***"
                found.setdefault(user_id, ("***", "", ""))
                _names[user_id] = (now + NAMES_SECONDS, *found[user_id])
    return found


def names_forget() -> None:
    """Drop this process's cached names and badges (tests; a new award shows within NAMES_SECONDS otherwise)."""
    with _names_lock:
        _names.clear()
    with _snapshots_lock:
        _snapshots.clear()


def _entries(ranked: list[tuple[int, int]]) -> list[Entry]:
    """[(user id, invites)] in rank order → entries with names and badges."""
    names = _names_of(user_id for user_id, _invites in ranked)
    entries = []
    for rank, (user_id, invites) in enumerate(ranked, start=1):
        name, title, title_en = names[user_id]
        entries.append(Entry(rank=rank, user_id=user_id, name=name, invites=invites, title=title, title_en=title_en))
    return entries


def _from_redis(top: list[Any], rank: Any, score: Any) -> tuple[list[tuple[int, int]], MyRank | None]:
    ranked = [(int(member), invites_of(s)) for member, s in top if member != SENTINEL.encode()]
    me = MyRank(rank=int(rank) + 1, invites=invites_of(score)) if rank is not None and score else None
    return ranked, me


def leaderboard_ranking(*, campaign_id: int, limit: int = SNAPSHOT_ROWS) -> list[Ranked]:
    """The ranking computed by Postgres (the recount Redis mirrors): snapshots, final awards, the fallback."""
    with connection.cursor() as cursor:
        cursor.execute(_RANKING_SQL, {"campaign": campaign_id, "limit": limit})
        rows = cursor.fetchall()
    return [Ranked(user_id=u, rank=rank, invites=int(n)) for rank, (u, n, _score) in enumerate(rows, start=1)]


def _rank_from_postgres(campaign_id: int, user_id: int) -> MyRank | None:
    with connection.cursor() as cursor:
        cursor.execute(_RANK_SQL, {"campaign": campaign_id, "user": user_id})
        row = cursor.fetchone()
    return MyRank(rank=int(row[1]), invites=int(row[0])) if row else None


def leaderboard_view(*, campaign_id: int, user_id: int | None, n: int = 50) -> Leaderboard:
    """The page's board: the top n and the member's own rank (None when they have no qualified invite), in one
    Redis round trip; from Postgres while Redis is unavailable."""
    found = _read_built(campaign_id, n=n, user_id=user_id)
    if found is not None:
        ranked, me = _from_redis(*found)
        return Leaderboard(entries=_entries(ranked), me=me, source="redis")
    top = leaderboard_ranking(campaign_id=campaign_id, limit=n)
    me = _rank_from_postgres(campaign_id, user_id) if user_id is not None else None
    return Leaderboard(entries=_entries([(r.user_id, r.invites) for r in top]), me=me, source="postgres")


def leaderboard_top(*, campaign_id: int, n: int = 50) -> list[Entry]:
    """The top n of the campaign's board (one Redis round trip)."""
    return leaderboard_view(campaign_id=campaign_id, user_id=None, n=n).entries


def leaderboard_rank(*, campaign_id: int, user_id: int) -> MyRank | None:
    """The member's rank (1-based) and qualified invites, or None when they have none (one Redis round trip)."""
    found = _read_built(campaign_id, n=1, user_id=user_id)
    if found is not None:
        return _from_redis(*found)[1]
    return _rank_from_postgres(campaign_id, user_id)


# --- Snapshots and movement --------------------------------------------------------------------------------------


def _hour(now: datetime) -> datetime:
    return now.astimezone(UTC).replace(minute=0, second=0, microsecond=0)


def _rows(ranking: list[Ranked]) -> list[list[int]]:
    return [[r.user_id, r.rank, r.invites] for r in ranking]


def leaderboard_snapshot_take(*, campaign_id: int, now: datetime) -> LeaderboardSnapshot | None:
    """The campaign's ranking at the hour of `now` (UTC hour, truncated), from Postgres. Idempotent per hour:
    None when that hour's snapshot exists already."""
    taken_at = _hour(now)
    if LeaderboardSnapshot.objects.filter(campaign_id=campaign_id, taken_at=taken_at).exists():
        return None
    rows = _rows(leaderboard_ranking(campaign_id=campaign_id))
    snapshot, created = LeaderboardSnapshot.objects.get_or_create(
        campaign_id=campaign_id, taken_at=taken_at, defaults={"rows": rows}
    )
    return snapshot if created else None


def _running(now: datetime) -> list[int]:
    """Campaigns with a referral program in their official phase at `now`."""
    return list(
        Program.objects.filter(campaign__official_starts_at__lte=now, campaign__followup_starts_at__gt=now).values_list(
            "campaign_id", flat=True
        )
    )


def leaderboard_snapshots_take(*, now: datetime | None = None) -> int:
    """The hourly job: a snapshot of every running campaign's board, then (safety net) its Redis set rebuilt from
    Postgres. Returns the snapshots created."""
    now = now or timezone.now()
    created = 0
    for campaign_id in _running(now):
        created += leaderboard_snapshot_take(campaign_id=campaign_id, now=now) is not None
        try:
            leaderboard_rebuild(campaign_id=campaign_id)
        except redis.RedisError as exc:  # the snapshot is what this job is for; the set waits for the next run
            logger.warning("Leaderboard: could not rebuild campaign %s's set: %r", campaign_id, exc)
    return created


_snapshots: dict[int, tuple[float, datetime | None, dict[int, int]]] = {}
_snapshots_lock = threading.Lock()


def _latest_ranks(campaign_id: int) -> tuple[datetime | None, dict[int, int]]:
    """The latest hourly snapshot's time and {member: rank}, kept per process for SNAPSHOT_SECONDS."""
    now = time.monotonic()
    cached = _snapshots.get(campaign_id)
    if cached is not None and cached[0] > now:
        return cached[1], cached[2]
    latest = (
        LeaderboardSnapshot.objects.filter(campaign_id=campaign_id, is_final=False)
        .order_by("-taken_at")
        .values_list("taken_at", "rows")
        .first()
    )
    taken_at, ranks = (latest[0], {int(u): int(rank) for u, rank, _n in latest[1]}) if latest else (None, {})
    with _snapshots_lock:
        _snapshots[campaign_id] = (now + SNAPSHOT_SECONDS, taken_at, ranks)
    return taken_at, ranks


_NOW: Any = object()


def rank_movement(*, campaign_id: int, user_id: int, current: MyRank | None = _NOW) -> Movement:
    """The member's rank now (or `current`, when the caller has just read it) against the latest hourly snapshot."""
    if current is _NOW:
        current = leaderboard_rank(campaign_id=campaign_id, user_id=user_id)
    since, ranks = _latest_ranks(campaign_id)
    return Movement(rank=current.rank if current else None, previous_rank=ranks.get(user_id), since=since)


def snapshot_movements(*, snapshot: LeaderboardSnapshot) -> list[tuple[int, int, int | None]]:
    """(member, rank, previous rank or None) for every member of `snapshot`, against the campaign's snapshot before
    it — what the messaging issue tells members."""
    previous = (
        LeaderboardSnapshot.objects.filter(
            campaign_id=snapshot.campaign_id, is_final=False, taken_at__lt=snapshot.taken_at
        )
        .order_by("-taken_at")
        .values_list("rows", flat=True)
        .first()
    )
    before = {int(u): int(rank) for u, rank, _n in previous or []}
    return [(int(u), int(rank), before.get(int(u))) for u, rank, _n in snapshot.rows]


# --- Final awards -------------------------------------------------------------------------------------------------


def leaderboard_finalize(*, campaign_id: int, now: datetime | None = None) -> list[FinalAward]:
    """Freeze the campaign's final ranking and award its top N, once (see the module docstring). Returns the awards
    this call made: none before the follow-up phase, without a program, or when an earlier run did it."""
    now = now or timezone.now()
    campaign = Campaign.objects.get(pk=campaign_id)
    program = Program.objects.filter(campaign=campaign).first()
    if program is None or now < campaign.followup_starts_at:
        return []
    if LeaderboardSnapshot.objects.filter(campaign=campaign, is_final=True).exists():
        return []
    with transaction.atomic():
        ranking = leaderboard_ranking(campaign_id=campaign.pk)
        # The claim: a concurrent run waits here on the UNIQUE index until this one commits, then inserts nothing.
        with connection.cursor() as cursor:
            cursor.execute(_FINAL_SQL, [campaign.pk, campaign.followup_starts_at, json.dumps(_rows(ranking))])
            if cursor.fetchone() is None:
                return []
        if not program.is_active:
            return []
        awards = []
        for ranked in ranking[: program.top_n]:
            transfer_id = None
            if program.top_points:
                transfer_id = campaign_points_grant(
                    campaign=campaign,
                    user_id=ranked.user_id,
                    amount=program.top_points,
                    kind=REFERRAL_TOP,
                    key=f"referral:top:{campaign.pk}:{ranked.user_id}",
                    now=now,
                    reason=f"{campaign.name} 邀请排行榜第 {ranked.rank} 名"[:100],
                    reason_en=f"{campaign.name_en or campaign.name}: invite leaderboard, rank {ranked.rank}"[:100],
                ).transfer_id
            awards.append(
                FinalAward(
                    campaign=campaign,
                    user_id=ranked.user_id,
                    rank=ranked.rank,
                    invites=ranked.invites,
                    points=program.top_points,
                    transfer_id=transfer_id,
                    title=program.title,
                    title_en=program.title_en,
                    awarded_at=now,
                )
            )
        FinalAward.objects.bulk_create(awards)
    return awards


def leaderboard_finalize_due(*, now: datetime | None = None) -> int:
    """The job: finalize every campaign whose follow-up phase has started and that has a program and no final
    ranking yet. One campaign's failure is logged and does not stop the others. Returns the awards made."""
    now = now or timezone.now()
    finals = LeaderboardSnapshot.objects.filter(is_final=True).values("campaign_id")
    due = Program.objects.filter(campaign__followup_starts_at__lte=now).exclude(campaign_id__in=finals)
    awarded = 0
    for campaign_id in due.values_list("campaign_id", flat=True):
        try:
            awarded += len(leaderboard_finalize(campaign_id=campaign_id, now=now))
        except Exception:
            logger.exception("Leaderboard: final awards of campaign %s failed; the next run tries again", campaign_id)
    return awarded
