"""The invite leaderboard (referrals/leaderboard.py): Redis mirrors a recount from Postgres through random invites,
reversals and rebuilds; ties go to whoever got there first; hourly snapshots and rank movement; the final top-N
awards pay exactly once, also when run concurrently. Time is fixed (NOW), never today's date."""

from __future__ import annotations

import random
from collections import defaultdict
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from django.conf import settings
from django.core.management import call_command
from django.db import transaction

from accounts.models import User
from campaigns.builders import campaign_live
from campaigns.models import Campaign
from outbox.models import Entry, EntryStatus
from outbox.services import outbox_add
from points.models import Transfer
from points.selectors import balance_for
from referrals import jobs, leaderboard
from referrals.builders import program_build
from referrals.leaderboard import (
    COUNT_MAX,
    TIME_MAX,
    board_key,
    invites_of,
    leaderboard_finalize,
    leaderboard_finalize_due,
    leaderboard_member_sync,
    leaderboard_rank,
    leaderboard_ranking,
    leaderboard_rebuild,
    leaderboard_snapshots_take,
    leaderboard_top,
    leaderboard_view,
    rank_movement,
    score_of,
    snapshot_movements,
)
from referrals.models import FinalAward, Invite, InviteStatus, LeaderboardSnapshot
from tests.conftest import run_concurrently

NOW = datetime(2027, 3, 10, 12, 20, tzinfo=UTC)  # the campaign's official phase: warm-up 7 days ago, follow-up in 25
MS = timedelta(milliseconds=1)


@pytest.fixture(autouse=True)
def _fresh_process_caches() -> Iterator[None]:
    leaderboard.names_forget()
    yield
    leaderboard.names_forget()


@pytest.fixture
def campaign(db: Any) -> Campaign:
    return campaign_live(now=NOW, slug="invites")


@pytest.fixture
def people(db: Any) -> Callable[[int], list[User]]:
    """people(n) → n new members (bulk-inserted: no password hashing), named 成员<n>."""
    counter = iter(range(1, 10**6))

    def make(n: int) -> list[User]:
        start = next(counter) * 10_000
        users = [User(phone=f"+86137{start + i:08d}", display_name=f"成员{start + i}", password="!") for i in range(n)]
        return User.objects.bulk_create(users)

    return make


def invite(campaign: Campaign, inviter: User, invitee: User, *, status: str, qualified_at: datetime | None) -> Invite:
    """An invite row as the services leave it (the test builds the states directly)."""
    return Invite.objects.create(
        campaign=campaign,
        inviter=inviter,
        invitee=invitee,
        status=status,
        qualifying_action="checkin",
        created_at=NOW - timedelta(days=3),
        local_date=(NOW - timedelta(days=3)).date(),
        qualified_at=qualified_at,
    )


def recount(campaign: Campaign) -> list[tuple[int, int]]:
    """The ranking recounted in Python from the Invite rows: qualified invites before the follow-up phase, ties to
    the earlier latest qualification (milliseconds since the warm-up start), then the member id as text, greater
    first (Redis's order for equal scores)."""
    counts: dict[int, int] = defaultdict(int)
    latest: dict[int, datetime] = {}
    for inviter_id, qualified_at in Invite.objects.filter(
        campaign=campaign, status=InviteStatus.QUALIFIED, qualified_at__lt=campaign.followup_starts_at
    ).values_list("inviter_id", "qualified_at"):
        assert qualified_at is not None
        counts[inviter_id] += 1
        latest[inviter_id] = max(latest.get(inviter_id, qualified_at), qualified_at)
    ms = {u: (latest[u] - campaign.warmup_starts_at) // MS for u in counts}
    by_id_text = sorted(counts, key=str, reverse=True)
    ordered = sorted(by_id_text, key=lambda u: (-counts[u], ms[u]))  # stable: equal keys keep the id-text order
    return [(u, counts[u]) for u in ordered]


def board(campaign: Campaign, n: int = 10_000) -> list[tuple[int, int]]:
    return [(e.user_id, e.invites) for e in leaderboard_top(campaign_id=campaign.pk, n=n)]


def redis_client() -> Any:
    return leaderboard._conn().client


# --- the score ---------------------------------------------------------------------------------------------------


def test_the_score_is_exact_in_a_float64_and_orders_count_then_time() -> None:
    top = score_of(invites=COUNT_MAX, ms=0)
    assert top < 2**53
    assert float(top) == top  # what Redis stores (a double) is the integer itself
    assert invites_of(float(top)) == COUNT_MAX
    assert score_of(invites=COUNT_MAX + 5, ms=0) == top  # capped, never past 2**53
    assert score_of(invites=2, ms=TIME_MAX) > score_of(invites=1, ms=0)  # more invites always win
    assert score_of(invites=2, ms=10) > score_of(invites=2, ms=11)  # then the earlier time
    assert score_of(invites=2, ms=TIME_MAX + 99) == score_of(invites=2, ms=TIME_MAX)  # clamped beyond ~795 days
    assert score_of(invites=1, ms=-5) == score_of(invites=1, ms=0)
    assert score_of(invites=1, ms=TIME_MAX) > 0  # above the sentinel (score 0)


@pytest.mark.django_db
def test_redis_keeps_the_largest_score_exactly() -> None:
    key = board_key(0) + ":exact"
    top = score_of(invites=COUNT_MAX, ms=1)
    redis_client().zadd(key, {"a": top})
    assert int(redis_client().zscore(key, "a")) == top
    assert invites_of(redis_client().zscore(key, "a")) == COUNT_MAX


# --- the board equals a recount ----------------------------------------------------------------------------------


@pytest.mark.django_db
def test_board_equals_a_recount_from_postgres_after_1000_random_invites_and_reversals(campaign, people) -> None:
    rng = random.Random(14)
    inviters = people(40)
    invitees = iter(people(1000))
    assert board(campaign) == []  # the first read builds the (empty) set
    assert redis_client().exists(board_key(campaign.pk))
    base = NOW - timedelta(days=2)
    instants = [base + timedelta(seconds=rng.randrange(60), milliseconds=rng.choice([0, 0, 250])) for _ in range(30)]
    instants.append(campaign.followup_starts_at + timedelta(minutes=5))  # too late to count
    made: list[Invite] = []
    for _ in range(1000):
        status = rng.choices(
            [InviteStatus.QUALIFIED, InviteStatus.REGISTERED, InviteStatus.REVIEW, InviteStatus.REJECTED],
            weights=[6, 2, 1, 1],
        )[0]
        inviter = rng.choice(inviters[: rng.choice([5, 40])])  # a few busy inviters, many occasional ones
        qualified_at = rng.choice(instants) if status == InviteStatus.QUALIFIED else None
        made.append(invite(campaign, inviter, next(invitees), status=status, qualified_at=qualified_at))
        leaderboard_member_sync(campaign_id=campaign.pk, user_id=inviter.pk)
    # Changes after qualifying: fraud found (qualified → rejected), reviews approved (review → qualified).
    for row in rng.sample([i for i in made if i.status == InviteStatus.QUALIFIED], 120):
        Invite.objects.filter(pk=row.pk).update(status=InviteStatus.REJECTED)
        leaderboard_member_sync(campaign_id=campaign.pk, user_id=row.inviter_id)
    for row in [i for i in made if i.status == InviteStatus.REVIEW][:40]:
        Invite.objects.filter(pk=row.pk).update(status=InviteStatus.QUALIFIED, qualified_at=rng.choice(instants))
        leaderboard_member_sync(campaign_id=campaign.pk, user_id=row.inviter_id)

    expected = recount(campaign)
    assert len(expected) > 20
    assert len({n for _u, n in expected}) > 5  # a real spread of counts
    assert board(campaign) == expected
    assert [(r.user_id, r.invites) for r in leaderboard_ranking(campaign_id=campaign.pk)] == expected
    ranks = {u: rank for rank, (u, _n) in enumerate(expected, start=1)}
    for user in inviters:
        mine = leaderboard_rank(campaign_id=campaign.pk, user_id=user.pk)
        want = (ranks[user.pk], dict(expected)[user.pk]) if user.pk in ranks else None
        assert ((mine.rank, mine.invites) if mine else None) == want
    view = leaderboard_view(campaign_id=campaign.pk, user_id=expected[3][0], n=3)
    assert [(e.rank, e.user_id) for e in view.entries] == [(i + 1, expected[i][0]) for i in range(3)]
    assert view.me is not None
    assert (view.me.rank, view.me.invites) == (4, expected[3][1])
    assert view.source == "redis"

    # A rebuild from an empty Redis gives the same ranking: explicitly, and transparently on the next read.
    redis_client().flushdb()
    assert leaderboard_rebuild(campaign_id=campaign.pk) == len(expected)
    assert board(campaign) == expected
    redis_client().flushdb()
    assert board(campaign) == expected
    assert redis_client().zcard(board_key(campaign.pk)) == len(expected) + 1  # + the sentinel


@pytest.mark.django_db
def test_ties_go_to_whoever_got_there_first(campaign, people) -> None:
    a, b, c, d = people(4)
    friends = iter(people(10))
    t = NOW - timedelta(days=1)
    minute = timedelta(minutes=1)
    for who, at in [(b, t), (a, t + minute), (a, t + 2 * minute), (b, t + 3 * minute)]:
        invite(campaign, who, next(friends), status=InviteStatus.QUALIFIED, qualified_at=at)
    invite(campaign, c, next(friends), status=InviteStatus.QUALIFIED, qualified_at=t - timedelta(days=1))
    invite(campaign, d, next(friends), status=InviteStatus.QUALIFIED, qualified_at=t + timedelta(minutes=2))
    invite(campaign, d, next(friends), status=InviteStatus.QUALIFIED, qualified_at=t + timedelta(minutes=2))
    leaderboard_rebuild(campaign_id=campaign.pk)
    # a, b and d have 2 each: a reached 2 at +2 min, b only at +3 min though b's first came first; d also at +2 min
    # to the millisecond: an exact tie, decided by the member id as text, the greater first.
    first, second = sorted([a, d], key=lambda u: str(u.pk), reverse=True)
    assert board(campaign) == [(first.pk, 2), (second.pk, 2), (b.pk, 2), (c.pk, 1)]
    assert board(campaign) == [(r.user_id, r.invites) for r in leaderboard_ranking(campaign_id=campaign.pk)]
    # b's latest qualification reversed: back to 1 at its first time, behind c, whose 1 came a day earlier
    Invite.objects.filter(inviter=b, qualified_at=t + timedelta(minutes=3)).update(status=InviteStatus.REJECTED)
    leaderboard_member_sync(campaign_id=campaign.pk, user_id=b.pk)
    assert board(campaign) == [(first.pk, 2), (second.pk, 2), (c.pk, 1), (b.pk, 1)]
    assert leaderboard_rank(campaign_id=campaign.pk, user_id=b.pk) == leaderboard.MyRank(rank=4, invites=1)
    Invite.objects.filter(inviter=b).update(status=InviteStatus.REJECTED)
    assert leaderboard_member_sync(campaign_id=campaign.pk, user_id=b.pk) == 0
    assert leaderboard_rank(campaign_id=campaign.pk, user_id=b.pk) is None  # removed at 0
    assert board(campaign) == recount(campaign)


@pytest.mark.django_db
def test_names_are_masked_and_carry_the_title_badge(campaign, people) -> None:
    star, other = people(2)
    friends = iter(people(3))
    invite(campaign, star, next(friends), status=InviteStatus.QUALIFIED, qualified_at=NOW - timedelta(hours=1))
    invite(campaign, other, next(friends), status=InviteStatus.QUALIFIED, qualified_at=NOW)
    older = campaign_live(now=NOW - timedelta(days=90), slug="older")
    FinalAward.objects.create(
        campaign=older, user=star, rank=1, invites=9, points=0, title="邀请达人", title_en="Top Inviter",
        awarded_at=NOW - timedelta(days=50),
    )  # fmt: skip
    entries = leaderboard_top(campaign_id=campaign.pk)
    assert [e.name for e in entries] == [star.display_name[0] + "**", other.display_name[0] + "**"]
    assert (entries[0].title, entries[0].title_en, entries[1].title) == ("邀请达人", "Top Inviter", "")
    assert star.display_name not in {e.name for e in entries}


@pytest.mark.django_db
def test_sync_writes_only_into_a_built_set(campaign, people) -> None:
    inviter, friend = people(2)
    invite(campaign, inviter, friend, status=InviteStatus.QUALIFIED, qualified_at=NOW)
    assert leaderboard_member_sync(campaign_id=campaign.pk, user_id=inviter.pk) == 1
    assert not redis_client().exists(board_key(campaign.pk))  # no partial set: the next reader builds it whole
    assert leaderboard_rank(campaign_id=campaign.pk, user_id=inviter.pk) == leaderboard.MyRank(rank=1, invites=1)


@pytest.mark.django_db
def test_the_sync_job_runs_once_through_the_outbox(campaign, people) -> None:
    inviter, friend = people(2)
    leaderboard_rebuild(campaign_id=campaign.pk)
    with transaction.atomic():
        row = invite(campaign, inviter, friend, status=InviteStatus.QUALIFIED, qualified_at=NOW)
        key = f"referrals.leaderboard:{row.pk}:qualified"
        assert outbox_add(job="referrals.leaderboard_sync", args=[campaign.pk, inviter.pk], key=key, now=NOW)
    result = jobs.leaderboard_sync.apply(args=(campaign.pk, inviter.pk), kwargs={"outbox_key": key})
    assert result.get() == 1
    assert Entry.objects.get(key=key).status == EntryStatus.DONE
    assert board(campaign) == [(inviter.pk, 1)]


@pytest.mark.django_db
def test_redis_down_reads_the_same_board_from_postgres(campaign, people, monkeypatch) -> None:
    a, b = people(2)
    friends = iter(people(3))
    invite(campaign, a, next(friends), status=InviteStatus.QUALIFIED, qualified_at=NOW)
    invite(campaign, b, next(friends), status=InviteStatus.QUALIFIED, qualified_at=NOW - timedelta(hours=2))
    invite(campaign, b, next(friends), status=InviteStatus.QUALIFIED, qualified_at=NOW - timedelta(hours=1))
    live = leaderboard_view(campaign_id=campaign.pk, user_id=a.pk)
    dead = leaderboard._Redis("redis://127.0.0.1:1/0")  # nothing listens there
    monkeypatch.setattr(leaderboard, "_conn", lambda: dead)
    down = leaderboard_view(campaign_id=campaign.pk, user_id=a.pk)
    assert (down.source, live.source) == ("postgres", "redis")
    assert down.entries == live.entries
    assert down.me == live.me == leaderboard.MyRank(rank=2, invites=1)
    assert leaderboard_rank(campaign_id=campaign.pk, user_id=b.pk) == leaderboard.MyRank(rank=1, invites=2)
    with pytest.raises(leaderboard.redis.RedisError):  # a sync fails: the outbox delivers it again later
        leaderboard_member_sync(campaign_id=campaign.pk, user_id=a.pk)


@pytest.mark.django_db(transaction=True)
def test_a_flash_crowd_on_a_flushed_redis_rebuilds_once(people, monkeypatch) -> None:
    campaign = campaign_live(now=NOW, slug="crowd")
    inviters = people(5)
    friends = iter(people(15))
    for i, who in enumerate(inviters):
        for j in range(i + 1):
            invite(campaign, who, next(friends), status=InviteStatus.QUALIFIED, qualified_at=NOW - timedelta(hours=j))
    rebuilds: list[int] = []
    real = leaderboard.leaderboard_rebuild

    def counted(*, campaign_id: int) -> int:
        rebuilds.append(campaign_id)
        return real(campaign_id=campaign_id)

    monkeypatch.setattr(leaderboard, "leaderboard_rebuild", counted)
    views = run_concurrently(12, lambda i: leaderboard_view(campaign_id=campaign.pk, user_id=inviters[i % 5].pk))
    assert not [v for v in views if isinstance(v, BaseException)], views
    assert rebuilds == [campaign.pk]
    assert {v.source for v in views} == {"redis"}
    assert {tuple((e.user_id, e.invites) for e in v.entries) for v in views} == {tuple(recount(campaign))}
    assert [v.me.rank for v in views[:5]] == [5, 4, 3, 2, 1]


# --- snapshots and movement --------------------------------------------------------------------------------------


@pytest.mark.django_db
def test_snapshots_are_hourly_idempotent_and_only_for_running_campaigns(campaign, people) -> None:
    program_build(campaign=campaign)
    later = campaign_live(now=NOW + timedelta(days=8), slug="later")  # still in its warm-up at NOW
    program_build(campaign=later)
    a, b, c = people(3)
    friends = iter(people(10))
    for who, n in [(a, 3), (b, 2), (c, 1)]:
        for _ in range(n):
            invite(campaign, who, next(friends), status=InviteStatus.QUALIFIED, qualified_at=NOW - timedelta(hours=1))
    assert leaderboard_snapshots_take(now=NOW) == 1
    assert leaderboard_snapshots_take(now=NOW + timedelta(minutes=39)) == 0  # same hour
    snapshot = LeaderboardSnapshot.objects.get()
    assert (snapshot.campaign_id, snapshot.is_final) == (campaign.pk, False)
    assert snapshot.taken_at == NOW.replace(minute=0)
    assert snapshot.rows == [[a.pk, 1, 3], [b.pk, 2, 2], [c.pk, 3, 1]]
    assert redis_client().zcard(board_key(campaign.pk)) == 4  # the job rebuilt the set too (+ the sentinel)
    assert board(campaign) == [(a.pk, 3), (b.pk, 2), (c.pk, 1)]

    # c overtakes everyone; d arrives: the movement against the last snapshot
    d = people(1)[0]
    for _ in range(3):
        invite(campaign, c, next(friends), status=InviteStatus.QUALIFIED, qualified_at=NOW)
    invite(campaign, d, next(friends), status=InviteStatus.QUALIFIED, qualified_at=NOW)
    for who in (c, d):
        leaderboard_member_sync(campaign_id=campaign.pk, user_id=who.pk)
    moved = {u.pk: rank_movement(campaign_id=campaign.pk, user_id=u.pk) for u in (a, b, c, d)}
    assert {u: (m.rank, m.previous_rank, m.change) for u, m in moved.items()} == {
        a.pk: (2, 1, -1),
        b.pk: (3, 2, -1),
        c.pk: (1, 3, 2),
        d.pk: (4, None, None),
    }
    assert moved[a.pk].since == NOW.replace(minute=0)
    outsider = people(1)[0]
    assert rank_movement(campaign_id=campaign.pk, user_id=outsider.pk).change is None

    assert leaderboard_snapshots_take(now=NOW + timedelta(hours=1)) == 1
    newest = LeaderboardSnapshot.objects.order_by("-taken_at")[0]
    assert snapshot_movements(snapshot=newest) == [(c.pk, 1, 3), (a.pk, 2, 1), (b.pk, 3, 2), (d.pk, 4, None)]
    assert not LeaderboardSnapshot.objects.filter(campaign=later).exists()


# --- final awards ------------------------------------------------------------------------------------------------


def _final_setup(campaign: Campaign, people: Callable[[int], list[User]]) -> list[User]:
    program_build(campaign=campaign, top_n=2, top_points=500, title="邀请王", title_en="Invite King")
    a, b, c = people(3)
    friends = iter(people(10))
    for who, n in [(a, 1), (b, 3), (c, 2)]:
        for _ in range(n):
            invite(campaign, who, next(friends), status=InviteStatus.QUALIFIED, qualified_at=NOW)
    # qualified after the official phase: not counted (would have made a first)
    invite(campaign, a, next(friends), status=InviteStatus.QUALIFIED, qualified_at=campaign.followup_starts_at)
    invite(campaign, a, next(friends), status=InviteStatus.QUALIFIED, qualified_at=campaign.followup_starts_at)
    return [a, b, c]


@pytest.mark.django_db
def test_final_awards_pay_the_top_n_once(campaign, people) -> None:
    a, b, c = _final_setup(campaign, people)
    assert leaderboard_finalize(campaign_id=campaign.pk, now=campaign.followup_starts_at - MS) == []  # not yet
    assert not LeaderboardSnapshot.objects.exists()
    after = campaign.followup_starts_at + timedelta(minutes=7)
    assert leaderboard_finalize_due(now=after) == 2
    awards = list(FinalAward.objects.order_by("rank").values_list("user_id", "rank", "invites", "points", "title_en"))
    assert awards == [(b.pk, 1, 3, 500, "Invite King"), (c.pk, 2, 2, 500, "Invite King")]
    final = LeaderboardSnapshot.objects.get(is_final=True)
    assert (final.taken_at, final.rows) == (campaign.followup_starts_at, [[b.pk, 1, 3], [c.pk, 2, 2], [a.pk, 3, 1]])
    transfers = Transfer.objects.filter(kind="referral_top")
    assert sorted(transfers.values_list("idempotency_key", flat=True)) == sorted(
        [f"referral:top:{campaign.pk}:{b.pk}", f"referral:top:{campaign.pk}:{c.pk}"]
    )
    assert balance_for(user_id=b.pk, now=after).spendable == 500
    assert balance_for(user_id=a.pk, now=after).spendable == 0

    # Twice: nothing more.
    assert leaderboard_finalize(campaign_id=campaign.pk, now=after + timedelta(minutes=10)) == []
    assert leaderboard_finalize_due(now=after + timedelta(days=1)) == 0
    assert transfers.count() == 2
    assert FinalAward.objects.count() == 2
    assert balance_for(user_id=b.pk, now=after).spendable == 500
    # The badge shows on the board (names are cached per process: a fresh one)
    leaderboard.names_forget()
    top = leaderboard_top(campaign_id=campaign.pk)
    assert [(e.user_id, e.title) for e in top] == [(b.pk, "邀请王"), (c.pk, "邀请王"), (a.pk, "")]


@pytest.mark.django_db
def test_an_inactive_program_gets_its_final_ranking_without_prizes(campaign, people) -> None:
    _final_setup(campaign, people)
    campaign.referral_program.is_active = False
    campaign.referral_program.save()
    assert leaderboard_finalize(campaign_id=campaign.pk, now=campaign.ends_at) == []
    assert LeaderboardSnapshot.objects.filter(is_final=True).count() == 1
    assert not FinalAward.objects.exists()
    assert not Transfer.objects.filter(kind="referral_top").exists()


@pytest.mark.django_db(transaction=True)
def test_final_awards_run_concurrently_pay_once(people) -> None:
    campaign = campaign_live(now=NOW, slug="race")
    b, c = _final_setup(campaign, people)[1:]
    after = campaign.followup_starts_at + timedelta(minutes=1)
    results = run_concurrently(6, lambda i: leaderboard_finalize(campaign_id=campaign.pk, now=after))
    assert not [r for r in results if isinstance(r, BaseException)], results
    assert sorted(len(r) for r in results) == [0, 0, 0, 0, 0, 2]
    assert FinalAward.objects.count() == 2
    assert Transfer.objects.filter(kind="referral_top").count() == 2
    assert LeaderboardSnapshot.objects.filter(is_final=True).count() == 1
    assert [balance_for(user_id=u.pk, now=after).spendable for u in (b, c)] == [500, 500]


# --- operations --------------------------------------------------------------------------------------------------


@pytest.mark.django_db
def test_rebuild_command_and_job(campaign, people, capsys) -> None:
    program_build(campaign=campaign)
    inviter, friend = people(2)
    invite(campaign, inviter, friend, status=InviteStatus.QUALIFIED, qualified_at=NOW)
    call_command("leaderboard_rebuild", "invites")
    assert "invites: 1 members" in capsys.readouterr().out
    assert redis_client().zscore(board_key(campaign.pk), str(inviter.pk)) is not None
    redis_client().flushdb()
    assert jobs.leaderboard_rebuild.apply(args=(campaign.pk,)).get() == 1
    assert board(campaign) == [(inviter.pk, 1)]
    with pytest.raises(Exception, match="unknown campaign"):
        call_command("leaderboard_rebuild", "nope")


def test_keys_carry_the_cache_prefix() -> None:
    assert board_key(7) == f"{settings.CACHES['default']['KEY_PREFIX']}:lb:7"
